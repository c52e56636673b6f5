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
#include "nn/nn_int.h"
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

// the real P-Net (models/pnet.tflite, sha256-pinned by make models); 0 (a failed test) if absent
static int read_pnet(uint8_t **b, size_t *n) {
    if (!fh_read_file(FH_MODELS "/pnet.tflite", 1 << 24, b, n)) return 1;
    printf("%s\n", fh_errmsg());
    TEST_COND("models/pnet.tflite readable (run make models)", 0);
    return 0;
}

// fuzz_tflite, corpus/tflite/crash-no-data-input.tflite: an operator whose data input is
// -1 (TFLite's "omitted optional input") loaded, and planning the session then read a NULL
// shape (conv) or net->values[-1] (a missing conv/FC filter). Made here from the real P-Net
// by the one change that matters: the first input of one of its operators set to -1.
static void tflite_missing_data_input(void) {
    uint8_t *b;
    size_t n;
    if (!read_pnet(&b, &n)) return;
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

// fuzz_tflite, /work/crash-tflite.bin (a mutated P-Net): conv4-2 read pnet/PReLU3/Relu, an
// inner value of the PReLU sub-graph, instead of its output pnet/PReLU3/add. Fusion
// replaced the sub-graph by one PRELU and dropped the RELU that computed that value, so the
// net ran with an input no node produced: planning gave it the file's shape (1x635x475x32)
// at the arena's start, and the conv kernels (AVX2 and reference) read megabytes past the
// arena. Made here from the real P-Net by that one change: conv4-2's data input 22 -> 20.
// Fusion now leaves a sub-graph alone when any of its inner values has another reader, so
// the damaged file loads as the (correct) unfused graph and runs within bounds, fused or
// not; a net whose input no node computes is refused at load.
static void tflite_fused_value_still_read(void) {
    uint8_t *b;
    size_t n;
    if (!read_pnet(&b, &n)) return;
    const size_t at = 30792; // conv4-2's first input: 22 (pnet/PReLU3/add)
    TEST_COND("pnet.tflite is the pinned file (input index 22 at 30792)",
              n > at + 4 && !memcmp(b + at, "\x16\0\0\0", 4));
    if (n > at + 4) {
        b[at] = 20; // pnet/PReLU3/Relu
        for (int mode = 0; mode < 3; mode++) { // fused, unfused, fused on the reference kernels
            int unfused = mode == 1;
            struct nn_options o = {.no_fuse = unfused, .force_ref = mode == 2};
            struct nn_net *net = NULL;
            int rc = nn_net_load_tflite_mem(b, n, &o, &net);
            TEST_COND("conv4-2 reading an inner PReLU value: loads", rc == FH_OK && net);
            if (rc) {
                printf("%s\n", fh_errmsg());
                continue;
            }
            // each PReLU sub-graph holds 2 RELUs; fused ones go into their conv
            int ok = nn_net_count_op(net, NN_OP_RELU) == (unfused ? 6 : 2);
            TEST_COND("the PReLU whose inner value is still read stays unfused (2 of 3 fused)", ok);
            struct nn_session *s;
            int dims[4] = {1, 16, 16, 3};
            if (ok && !nn_session_new(net, NULL, &s)) { // before the fix, running read far past the arena
                rc = nn_session_reshape(s, dims, 4);
                TEST_COND("it plans at 16x16", rc == FH_OK);
                if (!rc) {
                    memset(nn_session_input(s, 0), 0, 16 * 16 * 3 * sizeof(float));
                    TEST_COND("and runs within bounds", nn_session_run(s) == FH_OK);
                }
                nn_session_free(s);
            }
            nn_net_free(net);
        }
    }
    // the same family, found while fixing it: conv4-1 (filter 2x1x1x32) fed pnet/PReLU2/add
    // (16 channels) loaded and failed only at planning; now the loader infers the shapes at
    // the file's input shape and refuses it, naming the operator
    if (n > 30860 + 4) {
        b[30792] = 22, b[30860] = 15; // conv4-2 back to 22; conv4-1's input 22 -> 15
        struct nn_net *net = NULL;
        int rc = nn_net_load_tflite_mem(b, n, NULL, &net);
        TEST_COND("a conv whose input channels differ from its filter's: FH_E_FORMAT at load",
                  rc == FH_E_FORMAT && !net && strstr(fh_errmsg(), "CONV_2D") &&
                  strstr(fh_errmsg(), "channels"));
        nn_net_free(net);
    }
    fh_free(b);
    // the planner's own guard (whatever an importer or a later fusion does): a node that
    // reads a value nothing computes, or a net output nothing computes, is refused
    for (int out_only = 0; out_only < 2; out_only++) {
        struct nn_net *net = nn_net_alloc(3, 1); // 0 input, 1 never computed, 2 output
        if (!net) continue;
        net->values[0].shape = net->values[1].shape = (struct nn_shape){1, {4}};
        net->n_inputs = 1, net->inputs[0] = 0, net->n_outputs = 1, net->outputs[0] = out_only ? 1 : 2;
        net->nodes[0] = (struct nn_node){.op = NN_OP_RELU, .n_in = 1, .in = {out_only ? 0 : 1}, .out = 2};
        TEST_COND("a value no operator computes: FH_E_FORMAT before planning",
                  nn_net_finish(net, NULL) == FH_E_FORMAT);
        nn_net_free(net);
    }
}

int main(void) {
    json_utf8_lead_at_end();
    tflite_missing_data_input();
    tflite_fused_value_still_read();
    return TEST_REPORT();
}
