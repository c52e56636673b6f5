// SPDX-License-Identifier: MIT
// Backward kernels of conv / FC and depthwise conv (kern.h: conv2d_bwd_data,
// conv2d_bwd_filter, dwconv2d_bwd_data, dwconv2d_bwd_filter) on odd shapes:
//  1. the reference against central finite differences of the reference FORWARD kernel,
//     loss = sum(y * dy) summed in double;
//  2. every table: bit-identical results for nth = 1, 2, 3, and accumulation (outputs
//     pre-filled with non-zero values get +=);
//  3. the AVX2 table against the reference (skipped with a message without AVX2).
// Shapes: N 1..3, C in {1,3,5,17}, OC in {1,7,33}, K in {1,3,5,7}, strides 1/2, VALID,
// TF-SAME and pad-1 padding, non-square inputs; FC as H = W = KH = KW = 1; and a few
// real MobileFaceNet layers.
#include <math.h>
#include <string.h>

#include "base/base.h"
#include "harness.h"
#include "nn/kern/kern.h"

// Finite differences: the loss is linear in each of x, w, b (y = conv(x, w) + b), so a
// central difference has no truncation error and a large step is exact up to float
// rounding of y. With h = 0.5 the rounding noise of y± (a few ulp of |y| <= ~30, times
// |dy| <= 1, over <= KH*KW*OC outputs) divided by 2h stays far below 1e-4 of the
// gradient scale (worst seen: 4e-6); a wrong or missing tap moves a gradient by O(0.1).
#define FD_H 0.5f
#define FD_TOL 3e-5   // |fd - g| <= FD_TOL * (1 + max |g| of that tensor)
#define FD_PROBES 24  // elements of x / w checked per case (all when fewer)
// ref vs fast: K-long (bwd_filter: M-long) float sums rounded with and without FMA, in
// another order, drift apart by a few ulp of the largest partial sums.
#define TOL_REL 1e-5f // |fast - ref| <= TOL_REL * max|ref| + TOL_ABS
#define TOL_ABS 1e-6f

// ---- tiny seeded PRNG (xorshift32), never rand() -------------------------------------
static uint32_t rng_state = 0x1234567u;
static uint32_t rng_next(void) {
    uint32_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return rng_state = x;
}
static float rng_f(float lo, float hi) {
    return lo + (hi - lo) * (float)(rng_next() >> 8) * (1.0f / 16777216.0f);
}
static int rng_int(int n) { return (int)(rng_next() % (uint32_t)n); }

static float *buf(size_t n, float lo, float hi) {
    float *p = fh_malloc_aligned((n ? n : 1) * sizeof(float));
    if (!p) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    for (size_t i = 0; i < n; i++) p[i] = rng_f(lo, hi);
    return p;
}
static float *dup(const float *s, size_t n) {
    float *p = buf(n, 0, 0);
    memcpy(p, s, n * sizeof *p);
    return p;
}

// padding: VALID, TF SAME (extra padding after), or 1 on each side
enum { PAD_VALID, PAD_SAME, PAD_ONE, PAD_MODES };
static const char *pad_names[PAD_MODES] = {"valid", "same", "pad1"};
static int out_size(int in, int k, int s, int mode, int *before) {
    int tot = 0, out;
    if (mode == PAD_VALID) out = in >= k ? (in - k) / s + 1 : 0;
    else if (mode == PAD_ONE) out = in + 2 >= k ? (in + 2 - k) / s + 1 : 0, tot = 2;
    else {
        out = (in + s - 1) / s;
        tot = (out - 1) * s + k - in;
        if (tot < 0) tot = 0;
    }
    *before = tot / 2;
    return out;
}

static float max_abs(const float *p, size_t n) {
    float m = 0;
    for (size_t i = 0; i < n; i++) m = fmaxf(m, fabsf(p[i]));
    return m;
}

// ---- result bookkeeping ------------------------------------------------------------------
struct tally {
    int cases, fail;
    double worst; // largest error / its tolerance scale seen
    char worst_what[300];
};
static struct tally t_fd_conv, t_fd_dw, t_det, t_acc, t_fast_conv, t_fast_dw;

static void note(struct tally *t, int ok, double err, const char *what, const char *tensor) {
    if (err > t->worst) {
        t->worst = err;
        snprintf(t->worst_what, sizeof t->worst_what, "%s %s", tensor, what);
    }
    if (!ok && ++t->fail <= 5) printf("# FAIL %s: %s (err %.3g)\n", tensor, what, err);
}

// |got - want| <= TOL_REL * max|want| + TOL_ABS for every element (NaN fails)
static void compare(struct tally *t, const float *want, const float *got, size_t n,
                    const char *what, const char *tensor) {
    float mx = max_abs(want, n), lim = TOL_REL * mx + TOL_ABS;
    double worst = 0;
    int ok = 1;
    for (size_t i = 0; i < n; i++) {
        float d = fabsf(want[i] - got[i]);
        if (!(d <= lim)) ok = 0;
        if (d / (mx + TOL_ABS) > worst || d != d) worst = d != d ? INFINITY : d / (mx + TOL_ABS);
    }
    note(t, ok, worst, what, tensor);
}

static void same_bits(struct tally *t, const float *a, const float *b, size_t n, const char *what,
                      const char *tensor) {
    int ok = !memcmp(a, b, n * sizeof *a);
    note(t, ok, ok ? 0 : 1, what, tensor);
}

// ---- conv / FC --------------------------------------------------------------------------
// dw = 1: depthwise (OC = C)
struct conv_case {
    int dw, N, H, W, C, OC, KH, KW, SH, SW, pad;
};

struct conv_data {
    int dw;
    struct nn_conv_bwd_args b; // geometry + pointers for the backward kernels
    float *x, *w, *bias, *dy;
    size_t nx, nw, nb, ny;
    char what[200];
};

static int conv_setup(struct conv_data *d, struct conv_case cc) {
    memset(d, 0, sizeof *d);
    struct nn_conv_bwd_args *b = &d->b;
    if (cc.dw) cc.OC = cc.C;
    d->dw = cc.dw;
    b->N = cc.N, b->H = cc.H, b->W = cc.W, b->C = cc.C, b->OC = cc.OC;
    b->KH = cc.KH, b->KW = cc.KW, b->SH = cc.SH, b->SW = cc.SW;
    b->OH = out_size(cc.H, cc.KH, cc.SH, cc.pad, &b->PT);
    b->OW = out_size(cc.W, cc.KW, cc.SW, cc.pad, &b->PL);
    if (b->OH <= 0 || b->OW <= 0) return 0;
    d->nx = (size_t)cc.N * cc.H * cc.W * cc.C;
    d->nw = (size_t)(cc.dw ? 1 : cc.OC) * cc.KH * cc.KW * cc.C;
    d->nb = (size_t)cc.OC;
    d->ny = (size_t)cc.N * b->OH * b->OW * cc.OC;
    d->x = buf(d->nx, -1, 1), d->w = buf(d->nw, -1, 1), d->bias = buf(cc.OC, -1, 1);
    d->dy = buf(d->ny, -1, 1);
    b->x = d->x, b->w = d->w, b->dy = d->dy;
    snprintf(d->what, sizeof d->what, "%s N=%d H=%d W=%d C=%d OC=%d k=%dx%d s=%d,%d %s",
             cc.dw ? "dw" : "conv", cc.N,
             cc.H, cc.W, cc.C, cc.OC, cc.KH, cc.KW, cc.SH, cc.SW, pad_names[cc.pad]);
    return 1;
}

static void conv_free(struct conv_data *d) {
    fh_free_aligned(d->x), fh_free_aligned(d->w), fh_free_aligned(d->bias);
    fh_free_aligned(d->dy);
}

// sum(y * dy) in double of the reference forward conv / dwconv (no activation)
static double conv_loss(const struct conv_data *d, const float *x, const float *w,
                        const float *bias, float *y) {
    const struct nn_kern *ref = nn_kern_ref();
    const struct nn_conv_bwd_args *b = &d->b;
    struct nn_conv_args f = {.x = x, .N = b->N, .H = b->H, .W = b->W, .C = b->C, .w = w,
                             .wp = w, .bias = bias, .OC = b->OC, .KH = b->KH, .KW = b->KW,
                             .SH = b->SH, .SW = b->SW, .PT = b->PT, .PL = b->PL, .OH = b->OH,
                             .OW = b->OW, .act = 0, .y = y};
    struct nn_dw_args e = {.x = x, .N = b->N, .H = b->H, .W = b->W, .C = b->C, .w = w,
                           .bias = bias, .KH = b->KH, .KW = b->KW, .SH = b->SH, .SW = b->SW,
                           .PT = b->PT, .PL = b->PL, .OH = b->OH, .OW = b->OW, .act = 0, .y = y};
    if (d->dw) ref->dwconv2d(&e, 0, 1);
    else ref->conv2d(&f, 0, 1); // the reference conv_pack is the identity: wp = w
    double s = 0;
    for (size_t i = 0; i < d->ny; i++) s += (double)y[i] * d->dy[i];
    return s;
}

// central differences of the loss over up to FD_PROBES elements of p (n floats),
// against the analytic gradient g
static void fd_check(struct conv_data *d, float *p, size_t n, const float *g, const char *tensor,
                     float *y) {
    double scale = 1 + max_abs(g, n), worst = 0;
    int ok = 1;
    size_t probes = n < FD_PROBES ? n : FD_PROBES;
    for (size_t j = 0; j < probes; j++) {
        size_t i = n <= FD_PROBES ? j : (size_t)rng_next() % n;
        float keep = p[i];
        p[i] = keep + FD_H;
        double lp = conv_loss(d, d->x, d->w, d->bias, y);
        p[i] = keep - FD_H;
        double lm = conv_loss(d, d->x, d->w, d->bias, y);
        p[i] = keep;
        double fd = (lp - lm) / (2.0 * FD_H), err = fabs(fd - g[i]) / scale;
        if (!(err <= FD_TOL)) ok = 0;
        if (err > worst || err != err) worst = err != err ? INFINITY : err;
    }
    note(d->dw ? &t_fd_dw : &t_fd_conv, ok, worst, d->what, tensor);
}

// run one table's backward kernels, nth slices one after another, into dx, dw, db
static void conv_run(const struct nn_kern *k, struct conv_data *d, int nth, float *dx, float *dw,
                     float *db) {
    struct nn_conv_bwd_args b = d->b;
    b.dx = dx, b.dw = dw, b.db = db;
    if (d->dw) {
        struct nn_dw_bwd_args e = {.x = b.x, .N = b.N, .H = b.H, .W = b.W, .C = b.C, .w = b.w,
                                   .KH = b.KH, .KW = b.KW, .SH = b.SH, .SW = b.SW, .PT = b.PT,
                                   .PL = b.PL, .OH = b.OH, .OW = b.OW, .dy = b.dy, .dx = dx,
                                   .dw = dw, .db = db};
        for (int i = 0; i < nth; i++) k->dwconv2d_bwd_data(&e, i, nth);
        for (int i = 0; i < nth; i++) k->dwconv2d_bwd_filter(&e, i, nth);
        return;
    }
    size_t per = k->conv_bwd_scratch(&b);
    float *s = buf(per * (size_t)nth, 0, 0);
    b.scratch = s;
    for (int i = 0; i < nth; i++) k->conv2d_bwd_data(&b, i, nth);
    for (int i = 0; i < nth; i++) k->conv2d_bwd_filter(&b, i, nth);
    fh_free_aligned(s);
}

static void conv_case_run(struct conv_case cc, const struct nn_kern *fast, int fd) {
    struct conv_data d;
    if (!conv_setup(&d, cc)) return;
    const struct nn_kern *ref = nn_kern_ref();
    size_t nx = d.nx, nw = d.nw, nb = d.nb;
    struct tally *tf = d.dw ? &t_fd_dw : &t_fd_conv, *tq = d.dw ? &t_fast_dw : &t_fast_conv;
    // 1. reference from zero, against finite differences
    float *dx = buf(nx, 0, 0), *dw = buf(nw, 0, 0), *db = buf(nb, 0, 0), *y = buf(d.ny, 0, 0);
    conv_run(ref, &d, 1, dx, dw, db);
    if (fd) {
        tf->cases++;
        fd_check(&d, d.x, nx, dx, "dx", y);
        fd_check(&d, d.w, nw, dw, "dw", y);
        fd_check(&d, d.bias, nb, db, "db", y);
    }
    // 2. each table: pre-filled outputs, nth = 1, 2, 3 bit-identical; += semantics;
    // 3. the fast table from zero against the reference
    float *px = buf(nx, -2, 2), *pw = buf(nw, -2, 2), *pb = buf(nb, -2, 2);
    const struct nn_kern *tabs[2] = {ref, fast};
    for (int ti = 0; ti < 2 && tabs[ti]; ti++) {
        const struct nn_kern *k = tabs[ti];
        char what[240];
        snprintf(what, sizeof what, "%s [%s]", d.what, k->name);
        float *zx = dup(dx, nx), *zw = dup(dw, nw), *zb = dup(db, nb);
        if (ti) {
            memset(zx, 0, nx * 4), memset(zw, 0, nw * 4), memset(zb, 0, nb * 4);
            conv_run(k, &d, 1, zx, zw, zb);
            tq->cases++;
            compare(tq, dx, zx, nx, d.what, "dx");
            compare(tq, dw, zw, nw, d.what, "dw");
            compare(tq, db, zb, nb, d.what, "db");
        }
        float *ax[3], *aw[3], *ab[3];
        for (int nth = 1; nth <= 3; nth++) {
            ax[nth - 1] = dup(px, nx), aw[nth - 1] = dup(pw, nw), ab[nth - 1] = dup(pb, nb);
            conv_run(k, &d, nth, ax[nth - 1], aw[nth - 1], ab[nth - 1]);
        }
        t_det.cases++;
        for (int i = 1; i < 3; i++) {
            same_bits(&t_det, ax[0], ax[i], nx, what, i == 1 ? "dx nth=2" : "dx nth=3");
            same_bits(&t_det, aw[0], aw[i], nw, what, i == 1 ? "dw nth=2" : "dw nth=3");
            same_bits(&t_det, ab[0], ab[i], nb, what, i == 1 ? "db nth=2" : "db nth=3");
        }
        // accumulate: pre-filled result == prefill + result from zero (up to rounding)
        t_acc.cases++;
        for (size_t i = 0; i < nx; i++) zx[i] += px[i];
        for (size_t i = 0; i < nw; i++) zw[i] += pw[i];
        for (size_t i = 0; i < nb; i++) zb[i] += pb[i];
        compare(&t_acc, zx, ax[0], nx, what, "dx +=");
        compare(&t_acc, zw, aw[0], nw, what, "dw +=");
        compare(&t_acc, zb, ab[0], nb, what, "db +=");
        for (int i = 0; i < 3; i++)
            fh_free_aligned(ax[i]), fh_free_aligned(aw[i]), fh_free_aligned(ab[i]);
        fh_free_aligned(zx), fh_free_aligned(zw), fh_free_aligned(zb);
    }
    fh_free_aligned(dx), fh_free_aligned(dw), fh_free_aligned(db), fh_free_aligned(y);
    fh_free_aligned(px), fh_free_aligned(pw), fh_free_aligned(pb);
    conv_free(&d);
}

// NULL outputs are skipped: bwd_data without dx does nothing, bwd_filter with only db
// (or only dw) computes that one
static void test_null_outputs(const struct nn_kern *k) {
    struct conv_data d;
    struct conv_case cc = {0, 2, 5, 4, 3, 7, 3, 3, 1, 1, PAD_ONE};
    conv_setup(&d, cc);
    float *db1 = buf(d.nb, 0, 0), *db2 = buf(d.nb, 0, 0), *dw1 = buf(d.nw, 0, 0),
          *dw2 = buf(d.nw, 0, 0), *dx = buf(d.nx, 0, 0);
    conv_run(k, &d, 2, dx, dw1, db1);
    struct nn_conv_bwd_args b = d.b;
    size_t per = k->conv_bwd_scratch(&b);
    float *s = buf(per * 2, 0, 0);
    b.scratch = s;
    for (int i = 0; i < 2; i++) k->conv2d_bwd_data(&b, i, 2);
    b.db = db2;
    for (int i = 0; i < 2; i++) k->conv2d_bwd_filter(&b, i, 2);
    b.db = NULL, b.dw = dw2;
    for (int i = 0; i < 2; i++) k->conv2d_bwd_filter(&b, i, 2);
    int ok = !memcmp(db1, db2, d.nb * 4) && !memcmp(dw1, dw2, d.nw * 4);
    struct nn_dw_bwd_args e = {.x = d.x, .N = 2, .H = 5, .W = 4, .C = 3, .w = d.w, .KH = 3,
                               .KW = 3, .SH = 1, .SW = 1, .PT = 1, .PL = 1, .OH = 5, .OW = 4,
                               .dy = d.dy};
    for (int i = 0; i < 2; i++) k->dwconv2d_bwd_data(&e, i, 2), k->dwconv2d_bwd_filter(&e, i, 2);
    char what[120];
    snprintf(what, sizeof what, "[%s] NULL dx / dw / db are skipped, the others computed",
             k->name);
    TEST_COND(what, ok);
    fh_free_aligned(s), fh_free_aligned(db1), fh_free_aligned(db2), fh_free_aligned(dw1);
    fh_free_aligned(dw2), fh_free_aligned(dx);
    conv_free(&d);
}

static void report(const char *name, const struct tally *t, const char *unit) {
    char d[500];
    snprintf(d, sizeof d, "%s (%d cases; worst %s %.3g: %s)", name, t->cases, unit, t->worst,
             t->worst_what[0] ? t->worst_what : "-");
    TEST_COND(d, t->fail == 0 && t->cases > 0);
}

// the kernel must fit a VALID window
static struct conv_case fit(struct conv_case cc) {
    if (cc.pad == PAD_VALID) {
        if (cc.H < cc.KH) cc.H = cc.KH + rng_int(3);
        if (cc.W < cc.KW) cc.W = cc.KW + rng_int(3);
    }
    return cc;
}

int main(void) {
    const struct nn_kern *ref = nn_kern_ref(), *fast = nn_kern_avx2();
    if (!fast) printf("# no AVX2+FMA table on this CPU/build: avx2 checks skipped\n");
    static const int Cs[] = {1, 3, 5, 17}, OCs[] = {1, 7, 33}, Ks[] = {1, 3, 5, 7};
    static const int Hs[] = {1, 2, 5, 7, 9, 12};
    // conv: every C x OC x K x stride x pad; N and (non-square) H, W vary with the index;
    // finite differences on every other case (and on all cheap ones)
    int idx = 0;
    for (int ci = 0; ci < 4; ci++)
        for (int oi = 0; oi < 3; oi++)
            for (int ki = 0; ki < 4; ki++)
                for (int s = 1; s <= 2; s++)
                    for (int pad = 0; pad < PAD_MODES; pad++, idx++) {
                        struct conv_case cc = {0, 1 + idx % 3, Hs[idx % 6], Hs[(idx * 5 + 1) % 6],
                                               Cs[ci], OCs[oi], Ks[ki], Ks[ki], s, s, pad};
                        conv_case_run(fit(cc), fast, idx % 2 == 0 || Cs[ci] * OCs[oi] < 40);
                    }
    // non-square kernels and strides, random
    for (int i = 0; i < 30; i++) {
        struct conv_case cc = {0, 1 + rng_int(3), 3 + rng_int(9), 3 + rng_int(9), Cs[rng_int(4)],
                               OCs[rng_int(3)], 1 + rng_int(5), 1 + rng_int(5), 1 + rng_int(2),
                               1 + rng_int(2), rng_int(PAD_MODES)};
        conv_case_run(fit(cc), fast, 1);
    }
    // FC: H = W = KH = KW = 1
    static const int fc[][3] = {{1, 17, 33}, {3, 5, 7}, {2, 1, 1}, {37, 300, 65}, {64, 128, 16}};
    for (int i = 0; i < 5; i++) {
        struct conv_case cc = {0, fc[i][0], 1, 1, fc[i][1], fc[i][2], 1, 1, 1, 1, PAD_VALID};
        conv_case_run(cc, fast, 1);
    }
    // MobileFaceNet layers (no finite differences: too large for a quick test)
    static const struct conv_case big[] = {
        {0, 2, 28, 28, 64, 128, 1, 1, 1, 1, PAD_VALID}, // 1x1 expand
        {0, 2, 14, 14, 128, 64, 1, 1, 1, 1, PAD_VALID}, // 1x1 project
        {0, 2, 29, 31, 3, 64, 3, 3, 2, 2, PAD_SAME},    // first conv, C=3, s2
        {0, 2, 14, 14, 64, 64, 3, 3, 1, 1, PAD_ONE},    // conv 3x3 s1
        {0, 1, 13, 13, 33, 65, 3, 3, 2, 2, PAD_ONE},
    };
    for (size_t i = 0; i < sizeof big / sizeof *big; i++) conv_case_run(big[i], fast, 0);

    // depthwise: every C x K x stride x pad
    idx = 0;
    static const int dCs[] = {1, 3, 5, 8, 17, 33};
    for (int ci = 0; ci < 6; ci++)
        for (int ki = 0; ki < 4; ki++)
            for (int s = 1; s <= 2; s++)
                for (int pad = 0; pad < PAD_MODES; pad++, idx++) {
                    struct conv_case cc = {1, 1 + idx % 3, Hs[idx % 6], Hs[(idx * 5 + 1) % 6],
                                           dCs[ci], 0, Ks[ki], Ks[ki], s, s, pad};
                    conv_case_run(fit(cc), fast, 1);
                }
    for (int i = 0; i < 20; i++) {
        struct conv_case cc = {1, 1 + rng_int(3), 3 + rng_int(9), 3 + rng_int(9),
                               dCs[rng_int(6)], 0, 1 + rng_int(5), 1 + rng_int(5),
                               1 + rng_int(2), 1 + rng_int(2), rng_int(PAD_MODES)};
        conv_case_run(fit(cc), fast, 1);
    }
    static const struct conv_case dbig[] = {
        {1, 2, 28, 28, 128, 0, 3, 3, 1, 1, PAD_ONE}, // dw 3x3 s1
        {1, 2, 56, 56, 64, 0, 3, 3, 2, 2, PAD_ONE},  // dw 3x3 s2
        {1, 3, 7, 7, 512, 0, 7, 7, 1, 1, PAD_VALID}, // GDConv
        {1, 2, 14, 14, 100, 0, 3, 3, 1, 1, PAD_SAME},
    };
    for (size_t i = 0; i < sizeof dbig / sizeof *dbig; i++) conv_case_run(dbig[i], fast, 0);

    test_null_outputs(ref);
    if (fast) test_null_outputs(fast);
    report("conv/FC ref vs central differences, |fd-g|/(1+max|g|) <= 3e-5", &t_fd_conv, "err");
    report("dwconv ref vs central differences, |fd-g|/(1+max|g|) <= 3e-5", &t_fd_dw, "err");
    report("every table bit-identical for nth = 1, 2, 3", &t_det, "mismatch");
    report("every table accumulates (+=) into pre-filled outputs", &t_acc, "rel");
    if (fast) {
        report("conv/FC avx2 vs ref, |d| <= 1e-5 max|ref| + 1e-6", &t_fast_conv, "rel");
        report("dwconv avx2 vs ref, |d| <= 1e-5 max|ref| + 1e-6", &t_fast_dw, "rel");
    } else {
        TEST_COND("avx2 vs ref skipped (no AVX2+FMA table)", 1);
    }
    return TEST_REPORT();
}
