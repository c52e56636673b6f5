// SPDX-License-Identifier: MIT
// The TFLite reader on damaged files: truncations and seeded random byte flips of the
// real pnet/rnet must give an error code or a net that plans and runs, never a crash
// (CI runs this under ASan/UBSan too).
#include <string.h>

#include "harness.h"
#include "nn/nn.h"

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint64_t next(void) {
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return rng;
}

// loads; if it loads, plans a small input and runs it. Returns the load status.
static int try_load(const uint8_t *b, size_t n, int *ran) {
    struct nn_net *net;
    int rc = nn_net_load_tflite_mem(b, n, NULL, &net);
    *ran = 0;
    if (rc) return rc;
    struct nn_session *s;
    int dims[FH_MAX_DIMS], r = nn_net_input_shape(net, 0, dims);
    if (r == 4) dims[0] = 1, dims[1] = dims[1] > 48 ? 48 : dims[1], dims[2] = dims[2] > 48 ? 48 : dims[2];
    if (!nn_session_new(net, NULL, &s)) {
        if (!nn_session_reshape(s, dims, r)) {
            size_t cnt = 1;
            for (int i = 0; i < r; i++) cnt *= (size_t)dims[i];
            memset(nn_session_input(s, 0), 0, cnt * sizeof(float));
            *ran = !nn_session_run(s);
        }
        nn_session_free(s);
    }
    nn_net_free(net);
    return rc;
}

int main(void) {
    const char *files[2] = {FH_MODELS "/pnet.tflite", FH_MODELS "/rnet.tflite"};
    for (int f = 0; f < 2; f++) {
        uint8_t *orig;
        size_t n;
        if (fh_read_file(files[f], 1 << 24, &orig, &n)) {
            printf("%s\n", fh_errmsg());
            TEST_COND("model file readable (run make models)", 0);
            continue;
        }
        int ran;
        TEST_COND("the intact model loads and runs", try_load(orig, n, &ran) == FH_OK && ran);
        TEST_COND("8 bytes: not a model (FH_E_FORMAT)", try_load(orig, 8, &ran) == FH_E_FORMAT);
        uint8_t *b = fh_malloc(n);
        memcpy(b, orig, n);
        memcpy(b + 4, "XXXX", 4);
        TEST_COND("wrong identifier: FH_E_FORMAT", try_load(b, n, &ran) == FH_E_FORMAT);
        int errors = 0, loads = 0, runs = 0, bad_code = 0;
        for (int t = 0; t < 300; t++) { // truncations
            size_t len = next() % n;
            int rc = try_load(orig, len, &ran);
            errors += rc != 0, loads += rc == 0, runs += ran;
            bad_code += rc > 0 || rc < FH_E_INTEGRITY;
        }
        for (int t = 0; t < 1500; t++) { // 1..8 random byte flips
            memcpy(b, orig, n);
            int k = 1 + (int)(next() % 8);
            for (int i = 0; i < k; i++) b[next() % n] = (uint8_t)next();
            int rc = try_load(b, n, &ran);
            errors += rc != 0, loads += rc == 0, runs += ran;
            bad_code += rc > 0 || rc < FH_E_INTEGRITY;
        }
        char msg[200];
        snprintf(msg, sizeof msg, "%s: 1800 damaged copies, no crash (%d refused, %d loaded, %d ran), codes valid",
                 files[f], errors, loads, runs);
        TEST_COND(msg, bad_code == 0 && errors > 0);
        fh_free(b);
        fh_free(orig);
    }
    return TEST_REPORT();
}
