// SPDX-License-Identifier: MIT
// Regression tests for the bugs the libFuzzer harnesses (tests/fuzz/) found, one block per
// bug, each naming its crashing input (also kept in tests/fuzz/corpus/<entry>/). Inputs are
// placed at the very end of a page followed by an inaccessible page, so a read past the
// end crashes here even without AddressSanitizer.
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "base/base.h"
#include "harness.h"
#include "nn/nn.h"
#include "server/server_int.h"

// A copy of p[0..n) ending exactly where a PROT_NONE page starts (NULL if mmap fails).
static uint8_t *at_page_end(const void *p, size_t n, void **map, size_t *maplen) {
    size_t pg = (size_t)sysconf(_SC_PAGESIZE), data = (n + pg - 1) / pg * pg;
    if (data == 0) data = pg;
    *maplen = data + pg;
    uint8_t *m = mmap(NULL, *maplen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) return NULL;
    if (mprotect(m + data, pg, PROT_NONE)) {
        munmap(m, *maplen);
        return NULL;
    }
    *map = m;
    memcpy(m + data - n, p, n);
    return m + data - n;
}

// fuzz_json, corpus/json/crash-utf8-lead-at-end: a UTF-8 lead byte as the last byte of an
// unterminated string made srv_json_parse read up to 3 bytes past the body.
static void json_utf8_lead_at_end(void) {
    static const char *const bodies[] = {"{\"\xd6", "{\"\xe2\x82", "{\"\xf0\x9f\x98", "{\"a\":\"\xf4"};
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        void *map;
        size_t maplen, n = strlen(bodies[i]);
        uint8_t *b = at_page_end(bodies[i], n, &map, &maplen);
        TEST_COND("guard page mapped", b != NULL);
        if (!b) continue;
        struct srv_jdoc d;
        int rc = srv_json_parse((const char *)b, n, &d);
        TEST_COND("truncated UTF-8 at the end of a JSON body: FH_E_FORMAT, no read past it", rc == FH_E_FORMAT);
        if (!rc) srv_json_free(&d);
        munmap(map, maplen);
    }
    // the complete sequences still parse
    struct srv_jdoc d;
    const char *ok = "{\"name\":\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"}";
    int rc = srv_json_parse(ok, strlen(ok), &d);
    const struct srv_jmember *m = rc ? NULL : srv_json_get(&d, "name");
    TEST_COND("complete 2-, 3- and 4-byte UTF-8 sequences still read",
              m && m->type == SRV_J_STR && !strcmp(m->str, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"));
    if (!rc) srv_json_free(&d);
}

// fuzz_tflite, corpus/tflite/crash-no-data-input.tflite: an operator whose data input is
// -1 (TFLite's "omitted optional input") loaded, and planning the session then read a NULL
// shape (conv) or net->values[-1] (a missing conv/FC filter). Made here from the real P-Net
// by the one change that matters: the first input of one of its operators set to -1.
static void tflite_missing_data_input(void) {
    uint8_t *b;
    size_t n;
    if (fh_read_file(FH_MODELS "/pnet.tflite", 1 << 24, &b, &n)) {
        printf("%s\n", fh_errmsg());
        TEST_COND("models/pnet.tflite readable (run make models)", 0);
        return;
    }
    const size_t at = 32032;   // the operator input index (41) the fuzzer turned into -1
    TEST_COND("pnet.tflite is the pinned file (input index 41 at 32032)",
              n > at + 4 && !memcmp(b + at, "\x29\0\0\0", 4));
    if (n > at + 4) {
        struct nn_net *net = NULL;
        TEST_COND("the intact P-Net loads", nn_net_load_tflite_mem(b, n, NULL, &net) == FH_OK);
        nn_net_free(net);
        memset(b + at, 0xff, 4);
        net = NULL;
        int rc = nn_net_load_tflite_mem(b, n, NULL, &net);
        TEST_COND("an operator without its data input: FH_E_FORMAT at load", rc == FH_E_FORMAT && !net);
        nn_net_free(net);
    }
    fh_free(b);
}

int main(void) {
    json_utf8_lead_at_end();
    tflite_missing_data_input();
    return TEST_REPORT();
}
