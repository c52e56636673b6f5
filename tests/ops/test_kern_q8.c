// SPDX-License-Identifier: MIT
// The int8 conv kernels (kern.h: struct nn_qconv_args) on odd shapes (channel counts and K
// not a multiple of 2/4/16, 1x1 spatial, rows not a multiple of the micro-kernel's, FC-like
// M = 1..3, strides, padding, every activation, bias or not, inputs far outside the scale):
//  1. the reference against the fp32 reference conv run on the dequantised values (the
//     int8 reference computes the same function, up to float rounding);
//  2. every SIMD table the CPU has (avx2: vpmaddwd; avx512: vpmaddwd on zmm; avx512vnni:
//     vpdpbusd) equal to the reference BIT FOR BIT (integer sums, then the same float
//     steps), for nth = 1, 2, 3, 5;
// plus the quantiser's edge cases. A table the CPU lacks is skipped with a message.
#include <math.h>
#include <string.h>

#include "base/base.h"
#include "harness.h"
#include "nn/kern/kern.h"

static uint32_t rng_state = 0x9E3779B9u;
static uint32_t rng_u32(void) {
    uint32_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return rng_state = x;
}
static float rng_uniform(float lo, float hi) {
    return lo + (hi - lo) * (float)(rng_u32() >> 8) * (1.0f / 16777216.0f);
}

static void *xalloc(size_t n) {
    void *p = fh_malloc_aligned(n ? n : 1);
    if (!p) {
        fprintf(stderr, "out of memory\n");
        abort();
    }
    return p;
}

struct qcase {
    int N, H, W, C, OC, K, S, pad, act, bias;
};

static int ncase, nfail_ref, nfail_fast[3], nfail_det[3];
static const struct nn_kern *fast[3];
static double worst_ref;

static void run(struct qcase c) {
    const struct nn_kern *ref = nn_kern_ref();
    struct nn_qconv_args a = {0};
    a.N = c.N, a.H = c.H, a.W = c.W, a.C = c.C, a.OC = c.OC, a.KH = a.KW = c.K, a.SH = a.SW = c.S;
    a.act = c.act;
    // pad: 0 VALID, 1 = (K-1)/2 on each side
    int p = c.pad ? (c.K - 1) / 2 : 0;
    a.PT = a.PL = p;
    a.OH = (c.H + 2 * p - c.K) / c.S + 1, a.OW = (c.W + 2 * p - c.K) / c.S + 1;
    if (c.H + 2 * p < c.K || c.W + 2 * p < c.K) return;
    int K = c.K * c.K * c.C;
    size_t nx = (size_t)c.N * c.H * c.W * c.C, ny = (size_t)c.N * a.OH * a.OW * c.OC;
    float *x = xalloc(nx * 4), *dq = xalloc((size_t)c.OC * 4), *bias = xalloc((size_t)c.OC * 4);
    float *alpha = xalloc((size_t)c.OC * 4), *wsc = xalloc((size_t)c.OC * 4);
    int8_t *wq = xalloc((size_t)c.OC * K);
    float xs = 0.02f;
    // mostly inside [-127, 127] * xs, some far outside (clamped), a few exact halves
    for (size_t i = 0; i < nx; i++) {
        uint32_t r = rng_u32() % 64;
        x[i] = r == 0 ? rng_uniform(-20, 20) : r == 1 ? xs * ((float)(int)(rng_u32() % 200) - 100.5f)
                                                      : rng_uniform(-2.5f, 2.5f);
    }
    for (size_t i = 0; i < (size_t)c.OC * K; i++) wq[i] = (int8_t)((int)(rng_u32() % 255) - 127);
    for (int o = 0; o < c.OC; o++) {
        wsc[o] = rng_uniform(0.001f, 0.01f);
        dq[o] = xs * wsc[o];
        bias[o] = rng_uniform(-1, 1);
        alpha[o] = rng_uniform(0, 0.5f);
    }
    a.x = x, a.xinv = 1.0f / xs, a.dq = dq, a.bias = c.bias ? bias : NULL, a.alpha = alpha;
    char what[160];
    snprintf(what, sizeof what, "N=%d H=%d W=%d C=%d OC=%d k=%d s=%d pad=%d act=%d bias=%d", c.N, c.H, c.W, c.C,
             c.OC, c.K, c.S, p, c.act, c.bias);
    ncase++;

    // 1. reference int8 vs the fp32 reference on dequantised values
    float *yref = xalloc(ny * 4), *yf = xalloc(ny * 4), *yt = xalloc(ny * 4);
    void *wref = xalloc(ref->qconv_pack_size(c.OC, K));
    ref->qconv_pack(c.OC, K, wq, wref);
    a.wp = wref, a.y = yref;
    a.scratch = xalloc(ref->qconv_scratch(&a));
    ref->qconv2d(&a, 0, 1);
    fh_free_aligned(a.scratch);
    {
        float *xd = xalloc(nx * 4), *wd = xalloc((size_t)c.OC * K * 4);
        for (size_t i = 0; i < nx; i++) xd[i] = (float)nn_quant8(x[i], a.xinv) * xs;
        for (int o = 0; o < c.OC; o++)
            for (int k = 0; k < K; k++) wd[(size_t)o * K + k] = wq[(size_t)o * K + k] * wsc[o];
        struct nn_conv_args f = {.x = xd, .N = c.N, .H = c.H, .W = c.W, .C = c.C, .w = wd, .bias = a.bias,
                                 .OC = c.OC, .KH = c.K, .KW = c.K, .SH = c.S, .SW = c.S, .PT = p, .PL = p,
                                 .OH = a.OH, .OW = a.OW, .act = c.act, .alpha = alpha, .y = yf};
        float *wp = xalloc(ref->conv_pack_size(c.OC, K) * 4);
        ref->conv_pack(c.OC, K, wd, wp);
        f.wp = wp;
        f.scratch = xalloc(ref->conv_scratch(&f) * 4 + 4);
        ref->conv2d(&f, 0, 1);
        double mx = 1e-3, err = 0;
        for (size_t i = 0; i < ny; i++) {
            mx = fmax(mx, fabs(yf[i]));
            err = fmax(err, fabs((double)yf[i] - yref[i]));
        }
        if (err / mx > 2e-5) {
            nfail_ref++;
            if (nfail_ref <= 5) printf("# int8 ref vs fp32 on dequantised values, rel %.3g: %s\n", err / mx, what);
        }
        worst_ref = fmax(worst_ref, err / mx);
        fh_free_aligned(f.scratch), fh_free_aligned(wp), fh_free_aligned(xd), fh_free_aligned(wd);
    }

    // 2. each fast table: bit for bit, any nth
    for (int t = 0; t < 3; t++) {
        const struct nn_kern *k = fast[t];
        if (!k) continue;
        void *wp = xalloc(k->qconv_pack_size(c.OC, K));
        k->qconv_pack(c.OC, K, wq, wp);
        a.wp = wp;
        size_t per = k->qconv_scratch(&a);
        a.scratch = xalloc(per * 5);
        static const int nths[] = {1, 2, 3, 5};
        for (int j = 0; j < 4; j++) {
            memset(yt, 0xff, ny * 4);
            a.y = yt;
            for (int ith = 0; ith < nths[j]; ith++) k->qconv2d(&a, ith, nths[j]);
            if (memcmp(yt, yref, ny * 4)) {
                int *nf = j ? &nfail_det[t] : &nfail_fast[t];
                if (++*nf <= 3) printf("# %s nth=%d differs from the reference: %s\n", k->name, nths[j], what);
            }
        }
        fh_free_aligned(a.scratch), fh_free_aligned(wp);
    }
    fh_free_aligned(wref), fh_free_aligned(yref), fh_free_aligned(yf), fh_free_aligned(yt);
    fh_free_aligned(x), fh_free_aligned(dq), fh_free_aligned(bias), fh_free_aligned(alpha);
    fh_free_aligned(wsc), fh_free_aligned(wq);
}

static void test_quant(void) {
    int ok = 1;
    ok &= nn_quant8(0.5f, 1) == 0 && nn_quant8(1.5f, 1) == 2 && nn_quant8(-2.5f, 1) == -2; // to even
    ok &= nn_quant8(126.6f, 1) == 127 && nn_quant8(1e30f, 1) == 127 && nn_quant8(-1e30f, 1) == -127;
    ok &= nn_quant8(INFINITY, 1) == 127 && nn_quant8(-INFINITY, 1) == -127 && nn_quant8(NAN, 1) == -127;
    ok &= nn_quant8(0.3f, 10) == 3 && nn_quant8(-0.0f, 1) == 0;
    TEST_COND("nn_quant8: round half to even, clamp to +-127, NaN -> -127", ok);
}

int main(void) {
    test_quant();
    fast[0] = nn_kern_avx2(), fast[1] = nn_kern_avx512(), fast[2] = nn_kern_avx512vnni();
    static const char *names[3] = {"avx2", "avx512", "avx512vnni"};
    for (int t = 0; t < 3; t++)
        if (!fast[t]) printf("# this CPU (or build) has no %s table: its int8 kernel is skipped\n", names[t]);
    static const int Cs[] = {1, 3, 4, 5, 13, 16, 33, 64};
    static const int OCs[] = {1, 7, 16, 17, 31, 33, 64};
    static const int HWs[] = {1, 3, 7, 12};
    int idx = 0;
    for (int ci = 0; ci < 8; ci++)
        for (int oi = 0; oi < 7; oi++)
            for (int hi = 0; hi < 4; hi++, idx++) {
                int K = idx % 3 == 0 ? 3 : 1, S = 1 + (idx / 3) % 2;
                run((struct qcase){1 + idx % 2, HWs[hi], HWs[(hi + idx) % 4], Cs[ci], OCs[oi], K, S, idx % 2,
                                   idx % 3, (idx / 2) % 2});
            }
    // FC-like (M = 1..3 rows, long K) and the real shapes: MobileFaceNet's first conv, a
    // 1x1 64->128 on 28x28, P-Net's 3x3 10->16
    run((struct qcase){1, 1, 1, 512, 129, 1, 1, 0, 0, 1});
    run((struct qcase){3, 1, 1, 301, 48, 1, 1, 0, 2, 1});
    run((struct qcase){1, 112, 112, 3, 64, 3, 2, 1, 2, 1});
    run((struct qcase){1, 28, 28, 64, 128, 1, 1, 0, 2, 1});
    run((struct qcase){2, 23, 17, 10, 16, 3, 1, 0, 2, 1});
    char d[200];
    snprintf(d, sizeof d, "int8 reference == fp32 reference on dequantised values (%d cases, worst rel %.2g)",
             ncase, worst_ref);
    TEST_COND(d, nfail_ref == 0);
    for (int t = 0; t < 3; t++) {
        if (!fast[t]) {
            snprintf(d, sizeof d, "%s int8 conv skipped (not available on this CPU)", names[t]);
            TEST_COND(d, 1);
            continue;
        }
        snprintf(d, sizeof d, "%s int8 conv == reference bit for bit (%d cases)", names[t], ncase);
        TEST_COND(d, nfail_fast[t] == 0);
        snprintf(d, sizeof d, "%s int8 conv == reference for nth = 2, 3, 5", names[t]);
        TEST_COND(d, nfail_det[t] == 0);
    }
    return TEST_REPORT();
}
