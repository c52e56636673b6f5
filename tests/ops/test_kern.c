// SPDX-License-Identifier: MIT
// AVX2 and AVX-512 kernel tables vs the scalar reference (STYLE B.9): every slot on odd shapes that
// hit the tails (channel counts not a multiple of 8/16, 1x1 spatial, widths not a
// multiple of 4, M not a multiple of the micro-kernel rows), all activations, bias or
// not, VALID / TF-SAME / pad-1 padding. ref vs avx2 is compared with a tolerance (FMA
// changes rounding); each table across thread counts must be bit-identical (B.8), and the
// AVX-512 conv2d / dwconv2d equal the AVX2 ones bit for bit (same FMA sequence per element).
// Skips (and passes) a table the CPU or the build lacks, saying so. The int8 slots:
// test_kern_q8.c.
#include <math.h>
#include <string.h>

#include "base/base.h"
#include "harness.h"
#include "nn/kern/kern.h"

// Relative tolerance against max |ref| of the layer: K-long float sums rounded with
// and without FMA drift apart by a few ulp of the largest partial sums.
#define TOL_REL 1e-5f
#define TOL_ABS 1e-6f

// ---- tiny seeded PRNG (xorshift32), never rand() -------------------------------------
static uint32_t rng_state = 0x2545F491u;
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
static int rng_pick(int n) { return (int)(rng_u32() % (uint32_t)n); }
static void fill(float *p, size_t n, float lo, float hi) {
    for (size_t i = 0; i < n; i++) p[i] = rng_uniform(lo, hi);
}

static float *falloc(size_t n) {
    float *p = fh_malloc_aligned((n ? n : 1) * sizeof(float));
    if (!p) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    return p;
}

// ---- padding modes ---------------------------------------------------------------------
enum { PAD_VALID, PAD_SAME, PAD_ONE, PAD_MODES };
static const char *pad_name[PAD_MODES] = {"valid", "same", "pad1"};

// output size and padding-before for one axis; returns out (may be <= 0: skip)
static int out_dim(int in, int k, int s, int mode, int *before) {
    if (mode == PAD_VALID) {
        *before = 0;
        return in >= k ? (in - k) / s + 1 : 0;
    }
    if (mode == PAD_SAME) {
        int out = (in + s - 1) / s, total = (out - 1) * s + k - in;
        if (total < 0) total = 0;
        *before = total / 2;
        return out;
    }
    *before = 1;
    return in + 2 >= k ? (in + 2 - k) / s + 1 : 0;
}

// ---- comparison state ------------------------------------------------------------------
static double worst_rel;   // largest |fast - ref| / (max|ref| + abs), over all cases
static char worst_case[160];

// returns 1 when within tolerance; remembers the worst case
static int close_enough(const float *ref, const float *got, size_t n, const char *what) {
    float mx = 0;
    for (size_t i = 0; i < n; i++) mx = fmaxf(mx, fabsf(ref[i]));
    float lim = TOL_REL * mx + TOL_ABS;
    int ok = 1;
    for (size_t i = 0; i < n; i++) {
        float d = fabsf(ref[i] - got[i]);
        if (!(d <= lim)) ok = 0; // also catches NaN
        double rel = d / (mx + TOL_ABS);
        if (rel > worst_rel) {
            worst_rel = rel;
            snprintf(worst_case, sizeof worst_case, "%s", what);
        }
    }
    return ok;
}

// ---- conv2d ------------------------------------------------------------------------------
struct conv_case {
    int N, H, W, C, OC, KH, KW, SH, SW, pad, act, has_bias;
    int DH, DW; // dilation, 0 = none
};

static int nfail_conv, ncase_conv, nfail_conv_det;
// when set (the AVX-512 pass), the fast table must also equal this one bit for bit
static const struct nn_kern *twin;
static int nfail_twin;

// twin's conv2d or dwconv2d at nth = 1 must give exactly y
static void check_twin(const void *args, int dw, const float *y, size_t ny, const char *what) {
    if (!twin) return;
    float *yt = fh_malloc_aligned(ny * sizeof *yt);
    if (!yt) abort();
    memset(yt, 0xff, ny * sizeof *yt);
    if (dw) {
        struct nn_dw_args a = *(const struct nn_dw_args *)args;
        a.y = yt;
        twin->dwconv2d(&a, 0, 1);
    } else {
        struct nn_conv_args a = *(const struct nn_conv_args *)args;
        a.y = yt;
        twin->conv2d(&a, 0, 1);
    }
    if (memcmp(y, yt, ny * sizeof *y)) {
        nfail_twin++;
        if (nfail_twin <= 5) printf("# %s differs from %s: %s\n", "fast", twin->name, what);
    }
    fh_free_aligned(yt);
}

static void run_conv(const struct nn_kern *ref, const struct nn_kern *fast, struct conv_case cc) {
    struct nn_conv_args a = {0};
    a.N = cc.N, a.H = cc.H, a.W = cc.W, a.C = cc.C, a.OC = cc.OC;
    a.KH = cc.KH, a.KW = cc.KW, a.SH = cc.SH, a.SW = cc.SW, a.act = cc.act;
    a.DH = cc.DH, a.DW = cc.DW;
    // the window a dilated filter spans
    int keh = (cc.KH - 1) * (cc.DH > 1 ? cc.DH : 1) + 1, kew = (cc.KW - 1) * (cc.DW > 1 ? cc.DW : 1) + 1;
    a.OH = out_dim(cc.H, keh, cc.SH, cc.pad, &a.PT);
    a.OW = out_dim(cc.W, kew, cc.SW, cc.pad, &a.PL);
    if (a.OH <= 0 || a.OW <= 0) return;
    int K = cc.KH * cc.KW * cc.C;
    size_t nx = (size_t)cc.N * cc.H * cc.W * cc.C, nw = (size_t)cc.OC * K;
    size_t ny = (size_t)cc.N * a.OH * a.OW * cc.OC;
    float *x = falloc(nx), *w = falloc(nw), *bias = falloc(cc.OC), *alpha = falloc(cc.OC);
    float *wref = falloc(ref->conv_pack_size(cc.OC, K));
    float *wfast = falloc(fast->conv_pack_size(cc.OC, K));
    float *yref = falloc(ny), *y1 = falloc(ny), *yn = falloc(ny);
    fill(x, nx, -1, 1);
    fill(w, nw, -1, 1);
    fill(bias, cc.OC, -1, 1);
    fill(alpha, cc.OC, 0, 0.5f);
    ref->conv_pack(cc.OC, K, w, wref);
    fast->conv_pack(cc.OC, K, w, wfast);
    a.x = x, a.w = w, a.bias = cc.has_bias ? bias : NULL, a.alpha = alpha;

    char what[160];
    snprintf(what, sizeof what,
             "conv N=%d H=%d W=%d C=%d OC=%d k=%dx%d s=%d,%d d=%d,%d %s act=%d bias=%d", cc.N,
             cc.H, cc.W, cc.C, cc.OC, cc.KH, cc.KW, cc.SH, cc.SW, cc.DH, cc.DW, pad_name[cc.pad],
             cc.act, cc.has_bias);

    // reference, one thread
    a.wp = wref, a.y = yref;
    float *sref = falloc(ref->conv_scratch(&a));
    a.scratch = sref;
    ref->conv2d(&a, 0, 1);

    // fast: nth = 1, then 2, 3, 4, 7 slices run one after another; all bit-identical
    a.wp = wfast;
    size_t per = fast->conv_scratch(&a);
    float *sf = falloc(per * 7);
    a.scratch = sf;
    memset(y1, 0xff, ny * sizeof *y1); // NaN: an output never written fails the compare
    a.y = y1;
    fast->conv2d(&a, 0, 1);
    ncase_conv++;
    int ok = close_enough(yref, y1, ny, what);
    check_twin(&a, 0, y1, ny, what);
    if (!ok) {
        nfail_conv++;
        if (nfail_conv <= 5) printf("# mismatch: %s\n", what);
    }
    static const int nths[] = {2, 3, 4, 7};
    for (size_t t = 0; t < sizeof nths / sizeof *nths; t++) {
        memset(yn, 0xff, ny * sizeof *yn);
        a.y = yn;
        for (int ith = 0; ith < nths[t]; ith++) fast->conv2d(&a, ith, nths[t]);
        if (memcmp(y1, yn, ny * sizeof *y1)) {
            nfail_conv_det++;
            if (nfail_conv_det <= 5) printf("# nth=%d differs from nth=1: %s\n", nths[t], what);
        }
    }
    fh_free_aligned(sf);
    fh_free_aligned(sref);
    fh_free_aligned(x), fh_free_aligned(w), fh_free_aligned(bias), fh_free_aligned(alpha);
    fh_free_aligned(wref), fh_free_aligned(wfast);
    fh_free_aligned(yref), fh_free_aligned(y1), fh_free_aligned(yn);
}

static void test_conv(const struct nn_kern *ref, const struct nn_kern *fast) {
    static const int Cs[] = {1, 3, 5, 13, 16, 17, 33};
    static const int OCs[] = {1, 2, 7, 16, 17, 31, 64, 65};
    static const int HWs[] = {1, 2, 7, 9, 13};
    static const int Ks[] = {1, 2, 3, 7};
    int idx = 0;
    for (size_t ci = 0; ci < 7; ci++)
        for (size_t oi = 0; oi < 8; oi++)
            for (size_t ki = 0; ki < 4; ki++)
                for (int s = 1; s <= 2; s++)
                    for (int pad = 0; pad < PAD_MODES; pad++, idx++) {
                        struct conv_case cc = {
                            .N = 1 + idx % 3, .H = HWs[idx % 5], .W = HWs[(idx / 5 + idx) % 5],
                            .C = Cs[ci], .OC = OCs[oi], .KH = Ks[ki], .KW = Ks[ki], .SH = s,
                            .SW = s, .pad = pad, .act = idx % 3, .has_bias = (idx / 3) % 2};
                        // a 7x7 VALID kernel needs a 7+ input: lift tiny inputs
                        if (cc.KH == 7 && pad == PAD_VALID) {
                            if (cc.H < 7) cc.H = 7 + rng_pick(3);
                            if (cc.W < 7) cc.W = 7 + rng_pick(3);
                        }
                        run_conv(ref, fast, cc);
                    }
    // non-square kernels and strides
    for (int i = 0; i < 40; i++) {
        struct conv_case cc = {.N = 1 + rng_pick(3), .H = HWs[rng_pick(5)] + 2,
                               .W = HWs[rng_pick(5)] + 2, .C = Cs[rng_pick(7)],
                               .OC = OCs[rng_pick(8)], .KH = 1 + rng_pick(3),
                               .KW = 1 + rng_pick(3), .SH = 1 + rng_pick(2),
                               .SW = 1 + rng_pick(2), .pad = rng_pick(PAD_MODES),
                               .act = rng_pick(3), .has_bias = rng_pick(2)};
        run_conv(ref, fast, cc);
    }
    // dilated (ULFD's RFB branches: 3x3, dilation 2, 3, 5, SAME-size padding): odd sizes,
    // inputs smaller than the dilated window, non-square dilations and strides
    for (int i = 0; i < 60; i++) {
        struct conv_case cc = {.N = 1 + rng_pick(2), .H = HWs[rng_pick(5)] + rng_pick(4),
                               .W = HWs[rng_pick(5)] + rng_pick(6), .C = Cs[rng_pick(7)],
                               .OC = OCs[rng_pick(8)], .KH = 1 + rng_pick(3),
                               .KW = 1 + rng_pick(3), .SH = 1 + rng_pick(2),
                               .SW = 1 + rng_pick(2), .pad = rng_pick(PAD_MODES),
                               .act = rng_pick(3), .has_bias = rng_pick(2),
                               .DH = 1 + rng_pick(5), .DW = 1 + rng_pick(5)};
        if (i < 15) cc.KH = cc.KW = 3, cc.SH = cc.SW = 1, cc.DW = cc.DH, cc.pad = PAD_SAME;
        run_conv(ref, fast, cc);
    }
    // FC (H=W=KH=KW=1, N = batch 1..64, K up to 1152, OC up to 512)
    static const int fc[][3] = {{1, 1152, 512}, {64, 512, 128}, {37, 300, 65}, {2, 128, 2},
                                {5, 1152, 136}, {63, 33, 17},   {1, 1, 1},     {13, 512, 512}};
    for (size_t i = 0; i < sizeof fc / sizeof *fc; i++)
        for (int act = 0; act < 3; act++) {
            struct conv_case cc = {.N = fc[i][0], .H = 1, .W = 1, .C = fc[i][1], .OC = fc[i][2],
                                   .KH = 1, .KW = 1, .SH = 1, .SW = 1, .pad = PAD_VALID,
                                   .act = act, .has_bias = act != 1};
            run_conv(ref, fast, cc);
        }
    // real layer shapes, large enough for several tiles per thread
    static const struct conv_case big[] = {
        {1, 28, 28, 64, 128, 1, 1, 1, 1, PAD_VALID, 2, 1, 0, 0},  // MobileFaceNet 1x1 (M=784)
        {1, 7, 7, 128, 512, 1, 1, 1, 1, PAD_VALID, 0, 1, 0, 0},   // 1x1 M=49
        {1, 29, 31, 3, 64, 3, 3, 2, 2, PAD_SAME, 2, 1, 0, 0},     // first conv, C=3, s2
        {2, 25, 23, 3, 10, 3, 3, 1, 1, PAD_VALID, 2, 1, 0, 0},    // PNet conv1
        {1, 11, 11, 28, 48, 3, 3, 1, 1, PAD_VALID, 2, 1, 0, 0},   // RNet conv2
        {3, 3, 3, 64, 128, 2, 2, 1, 1, PAD_VALID, 2, 1, 0, 0},    // ONet conv4 2x2
        {1, 13, 13, 33, 65, 3, 3, 2, 2, PAD_ONE, 1, 0, 0, 0},
        {1, 30, 40, 16, 16, 3, 3, 1, 1, PAD_SAME, 0, 1, 5, 5}, // ULFD RFB branch, dilation 5
        // output rows of 16+ pixels: the AVX-512 table reads their interior in place
        {2, 9, 45, 17, 33, 3, 3, 1, 1, PAD_ONE, 2, 1, 0, 0},
        {1, 6, 61, 5, 7, 2, 3, 1, 2, PAD_SAME, 1, 0, 0, 0},
        {1, 8, 70, 13, 16, 7, 7, 1, 1, PAD_VALID, 0, 1, 0, 0},
        {3, 12, 35, 10, 16, 3, 3, 2, 2, PAD_VALID, 2, 1, 0, 0},
        {1, 40, 37, 16, 32, 3, 3, 1, 1, PAD_VALID, 2, 1, 0, 0},  // PNet conv3 on a level strip
    };
    for (size_t i = 0; i < sizeof big / sizeof *big; i++) run_conv(ref, fast, big[i]);

    char d[200];
    snprintf(d, sizeof d, "conv2d %s vs ref within tolerance (%d cases)", fast->name, ncase_conv);
    TEST_COND(d, nfail_conv == 0);
    snprintf(d, sizeof d, "conv2d %s bit-identical for nth = 1, 2, 3, 4, 7 (%d cases)", fast->name,
             ncase_conv);
    TEST_COND(d, nfail_conv_det == 0);
}

// ---- dwconv2d ----------------------------------------------------------------------------
static int nfail_dw, ncase_dw, nfail_dw_det;

static void run_dw(const struct nn_kern *ref, const struct nn_kern *fast, int N, int H, int W,
                   int C, int KH, int KW, int SH, int SW, int pad, int act, int has_bias) {
    struct nn_dw_args a = {0};
    a.N = N, a.H = H, a.W = W, a.C = C, a.KH = KH, a.KW = KW, a.SH = SH, a.SW = SW, a.act = act;
    a.OH = out_dim(H, KH, SH, pad, &a.PT);
    a.OW = out_dim(W, KW, SW, pad, &a.PL);
    if (a.OH <= 0 || a.OW <= 0) return;
    size_t nx = (size_t)N * H * W * C, nw = (size_t)KH * KW * C, ny = (size_t)N * a.OH * a.OW * C;
    float *x = falloc(nx), *w = falloc(nw), *bias = falloc(C), *alpha = falloc(C);
    float *yref = falloc(ny), *y1 = falloc(ny), *yn = falloc(ny);
    fill(x, nx, -1, 1);
    fill(w, nw, -1, 1);
    fill(bias, C, -1, 1);
    fill(alpha, C, 0, 0.5f);
    a.x = x, a.w = w, a.bias = has_bias ? bias : NULL, a.alpha = alpha;
    char what[160];
    snprintf(what, sizeof what, "dw N=%d H=%d W=%d C=%d k=%dx%d s=%d,%d %s act=%d bias=%d", N, H,
             W, C, KH, KW, SH, SW, pad_name[pad], act, has_bias);
    a.y = yref;
    ref->dwconv2d(&a, 0, 1);
    memset(y1, 0xff, ny * sizeof *y1);
    a.y = y1;
    fast->dwconv2d(&a, 0, 1);
    ncase_dw++;
    check_twin(&a, 1, y1, ny, what);
    if (!close_enough(yref, y1, ny, what)) {
        nfail_dw++;
        if (nfail_dw <= 5) printf("# mismatch: %s\n", what);
    }
    for (int nth = 2; nth <= 3; nth++) {
        memset(yn, 0xff, ny * sizeof *yn);
        a.y = yn;
        for (int ith = 0; ith < nth; ith++) fast->dwconv2d(&a, ith, nth);
        if (memcmp(y1, yn, ny * sizeof *y1)) {
            nfail_dw_det++;
            if (nfail_dw_det <= 5) printf("# nth=%d differs from nth=1: %s\n", nth, what);
        }
    }
    fh_free_aligned(x), fh_free_aligned(w), fh_free_aligned(bias), fh_free_aligned(alpha);
    fh_free_aligned(yref), fh_free_aligned(y1), fh_free_aligned(yn);
}

static void test_dw(const struct nn_kern *ref, const struct nn_kern *fast) {
    static const int Cs[] = {1, 3, 5, 13, 16, 17, 33};
    static const int HWs[] = {1, 2, 7, 9, 13};
    static const int Ks[] = {1, 2, 3, 7};
    int idx = 0;
    for (int ci = 0; ci < 7; ci++)
        for (int hi = 0; hi < 5; hi++)
            for (int wi = 0; wi < 5; wi++)
                for (int ki = 0; ki < 4; ki++)
                    for (int s = 1; s <= 2; s++)
                        for (int pad = 0; pad < PAD_MODES; pad++, idx++)
                            run_dw(ref, fast, 1 + idx % 3, HWs[hi], HWs[wi], Cs[ci], Ks[ki],
                                   Ks[ki], s, s, pad, idx % 3, (idx / 3) % 2);
    // MobileFaceNet shapes: dw3x3 s1/s2 pad1 on 56/28/14, the 7x7 VALID GDConv on 7x7
    run_dw(ref, fast, 1, 28, 28, 128, 3, 3, 1, 1, PAD_ONE, 2, 1);
    run_dw(ref, fast, 1, 56, 56, 64, 3, 3, 2, 2, PAD_ONE, 2, 1);
    run_dw(ref, fast, 2, 14, 14, 256, 3, 3, 1, 1, PAD_SAME, 1, 0);
    run_dw(ref, fast, 1, 7, 7, 512, 7, 7, 1, 1, PAD_VALID, 0, 1);
    run_dw(ref, fast, 3, 7, 7, 13, 7, 7, 1, 1, PAD_VALID, 2, 1);
    char d[200];
    snprintf(d, sizeof d, "dwconv2d %s vs ref within tolerance (%d cases)", fast->name, ncase_dw);
    TEST_COND(d, nfail_dw == 0);
    snprintf(d, sizeof d, "dwconv2d %s bit-identical for nth = 1, 2, 3 (%d cases)", fast->name, ncase_dw);
    TEST_COND(d, nfail_dw_det == 0);
}

// ---- maxpool2d ---------------------------------------------------------------------------
static int nfail_pool, ncase_pool;

static void run_pool(const struct nn_kern *ref, const struct nn_kern *fast, int N, int H, int W,
                     int C, int KH, int KW, int SH, int SW, int pad) {
    struct nn_pool_args a = {0};
    a.N = N, a.H = H, a.W = W, a.C = C, a.KH = KH, a.KW = KW, a.SH = SH, a.SW = SW;
    a.OH = out_dim(H, KH, SH, pad, &a.PT);
    a.OW = out_dim(W, KW, SW, pad, &a.PL);
    if (a.OH <= 0 || a.OW <= 0) return;
    size_t nx = (size_t)N * H * W * C, ny = (size_t)N * a.OH * a.OW * C;
    float *x = falloc(nx), *yref = falloc(ny), *y = falloc(ny);
    fill(x, nx, -3, 3);
    a.x = x;
    a.y = yref;
    ref->maxpool2d(&a, 0, 1);
    ncase_pool++;
    int ok = 1;
    for (int nth = 1; nth <= 3; nth++) { // max is exact: compare bits for every nth
        memset(y, 0xff, ny * sizeof *y);
        a.y = y;
        for (int ith = 0; ith < nth; ith++) fast->maxpool2d(&a, ith, nth);
        if (memcmp(yref, y, ny * sizeof *y)) ok = 0;
    }
    if (!ok && ++nfail_pool <= 5)
        printf("# mismatch: pool N=%d H=%d W=%d C=%d k=%dx%d s=%d,%d %s\n", N, H, W, C, KH, KW,
               SH, SW, pad_name[pad]);
    fh_free_aligned(x), fh_free_aligned(yref), fh_free_aligned(y);
}

static void test_pool(const struct nn_kern *ref, const struct nn_kern *fast) {
    static const int Cs[] = {1, 3, 5, 13, 16, 17, 33};
    static const int HWs[] = {1, 2, 7, 9, 13};
    static const int Ks[] = {1, 2, 3, 7};
    int idx = 0;
    for (int ci = 0; ci < 7; ci++)
        for (int hi = 0; hi < 5; hi++)
            for (int wi = 0; wi < 5; wi++)
                for (int ki = 0; ki < 4; ki++)
                    for (int s = 1; s <= 2; s++)
                        for (int pad = 0; pad < PAD_MODES; pad++, idx++)
                            run_pool(ref, fast, 1 + idx % 3, HWs[hi], HWs[wi], Cs[ci], Ks[ki],
                                     Ks[ki], s, s, pad);
    run_pool(ref, fast, 1, 23, 45, 10, 2, 2, 2, 2, PAD_SAME); // PNet pool on an odd scale
    run_pool(ref, fast, 2, 22, 22, 28, 3, 3, 2, 2, PAD_SAME); // RNet pool
    run_pool(ref, fast, 3, 10, 10, 64, 2, 2, 2, 2, PAD_VALID);
    run_pool(ref, fast, 1, 9, 9, 5, 3, 2, 2, 1, PAD_SAME);    // non-square
    char d[200];
    snprintf(d, sizeof d, "maxpool2d %s == ref bit for bit, nth = 1, 2, 3 (%d cases)", fast->name,
             ncase_pool);
    TEST_COND(d, nfail_pool == 0);
}

static void test_pack(const struct nn_kern *fast) {
    // panel layout: wp[p][k][j] = w[p*16+j][k], zero past OC; size a 16-multiple of OC
    int OC = 17, K = 5, ok = 1;
    float w[17 * 5];
    for (int i = 0; i < OC * K; i++) w[i] = (float)(i + 1);
    size_t n = fast->conv_pack_size(OC, K);
    ok &= n == (size_t)32 * K;
    float *wp = falloc(n);
    fast->conv_pack(OC, K, w, wp);
    for (int p = 0; p < 2; p++)
        for (int k = 0; k < K; k++)
            for (int j = 0; j < 16; j++) {
                int oc = p * 16 + j;
                float want = oc < OC ? w[oc * K + k] : 0.0f;
                ok &= wp[(size_t)p * K * 16 + k * 16 + j] == want;
            }
    fh_free_aligned(wp);
    TEST_COND("conv_pack: 16-channel panels, zero-padded past OC", ok);
}

// every slot of fast against the reference (and, when twin is set, conv2d and dwconv2d
// against twin bit for bit)
static void suite(const struct nn_kern *ref, const struct nn_kern *fast) {
    nfail_conv = ncase_conv = nfail_conv_det = nfail_dw = ncase_dw = nfail_dw_det = 0;
    nfail_pool = ncase_pool = nfail_twin = 0;
    worst_rel = 0, worst_case[0] = 0;
    TEST_COND("table is not the reference", fast != ref && strcmp(fast->name, "ref"));
    test_pack(fast);
    test_conv(ref, fast);
    test_dw(ref, fast);
    test_pool(ref, fast);
    if (twin) {
        char d[160];
        snprintf(d, sizeof d, "conv2d and dwconv2d: %s == %s bit for bit (every case above)", fast->name,
                 twin->name);
        TEST_COND(d, nfail_twin == 0);
    }
    printf("# worst |%s-ref| / max|ref| = %.3g (%s)\n", fast->name, worst_rel, worst_case);
}

int main(void) {
    const struct nn_kern *ref = nn_kern_ref(), *avx2 = nn_kern_avx2(), *avx512 = nn_kern_avx512();
    if (!avx2) {
        printf("# no AVX2+FMA table on this CPU/build: skipped\n");
        TEST_COND("avx2 kernels skipped (not available)", 1);
        return TEST_REPORT();
    }
    suite(ref, avx2);
    if (!avx512) {
        printf("# this CPU (or build) has no AVX-512 F/BW/VL/DQ: the avx512 kernels are skipped\n");
        TEST_COND("avx512 kernels skipped (not available)", 1);
    } else {
        twin = avx2;
        suite(ref, avx512);
    }
    return TEST_REPORT();
}
