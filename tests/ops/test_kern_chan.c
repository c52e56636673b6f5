// SPDX-License-Identifier: MIT
// Per-channel (batch norm forward/backward in training mode, PReLU forward/backward) and per-row
// (L2 normalisation forward/backward) kernels, struct nn_chan_args / nn_rows_args in
// kern.h. For every table (reference, and AVX2 when present), on odd shapes
// (C in {1,3,5,17,64}, M in {1,2,7,33}, and a few larger ones):
//   - forward against an independent double-precision forward written here;
//   - backward against central finite differences of L = sum(y * r) (r random) taken on
//     that double forward, h = 1e-5;
//   - the same outputs for nth = 1, 2, 3 (bit-identical);
//   - accumulation: outputs pre-filled with P end as P + (the result from zero), and
//     NULL outputs are skipped without touching the others.
// Then AVX2 against the reference on the same inputs.
// Tolerances (float kernels vs double truth): forward 1e-5 relative to the largest |y|;
// gradients vs finite differences 2e-3 relative to the largest |gradient| + 1e-5;
// AVX2 vs reference 1e-5 relative (batch norm and PReLU are designed bit-identical, the
// worst difference is printed); accumulation 2 ulp-ish (1e-6 relative).
#include <math.h>
#include <string.h>

#include "base/base.h"
#include "harness.h"
#include "nn/kern/kern.h"

#define TOL_FWD 1e-5
#define TOL_FD 2e-3
#define TOL_FD_ABS 1e-5
#define TOL_FAST 1e-5
#define TOL_ACC 1e-6
#define FD_H 1e-5

static const int Cs[] = {1, 3, 5, 17, 64}, Ms[] = {1, 2, 7, 33};
#define NC (int)(sizeof Cs / sizeof *Cs)
#define NM (int)(sizeof Ms / sizeof *Ms)

// ---- tiny seeded PRNG (xorshift32), never rand() -------------------------------------
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
static void fill(float *p, size_t n, float lo, float hi) {
    for (size_t i = 0; i < n; i++) p[i] = rng_uniform(lo, hi);
}
// values in [lo, hi] away from 0 by at least gap (the PReLU kink), random sign
static void fill_away(float *p, size_t n, float gap, float hi) {
    for (size_t i = 0; i < n; i++) {
        float v = rng_uniform(gap, hi);
        p[i] = rng_u32() & 1 ? v : -v;
    }
}
static float *falloc(size_t n) {
    float *p = fh_calloc(n ? n : 1, sizeof(float));
    if (!p) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    return p;
}
static double *dalloc(size_t n) {
    double *p = fh_calloc(n ? n : 1, sizeof(double));
    if (!p) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    return p;
}

// max |a - b| <= tol * max|b| + abs over n; NaN fails
static int close_to(const float *a, const double *b, size_t n, double tol, double abs_tol,
                    double *worst) {
    double mx = 0, w = 0;
    for (size_t i = 0; i < n; i++) mx = fmax(mx, fabs(b[i]));
    int ok = 1;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - b[i]);
        if (!(d <= tol * mx + abs_tol)) ok = 0;
        if (d / (mx + abs_tol) > w) w = d / (mx + abs_tol);
    }
    if (worst && w > *worst) *worst = w;
    return ok;
}
static int closef(const float *a, const float *b, size_t n, double tol, double *worst) {
    double *bd = dalloc(n);
    for (size_t i = 0; i < n; i++) bd[i] = b[i];
    int ok = close_to(a, bd, n, tol, 1e-30, worst);
    fh_free(bd);
    return ok;
}

// ---- double-precision truth ------------------------------------------------------------
static double bn_loss_d(int M, int C, const double *x, const double *g, const double *b,
                        double eps, const float *r, double *y) {
    double L = 0;
    for (int c = 0; c < C; c++) {
        double mu = 0, v = 0;
        for (int m = 0; m < M; m++) mu += x[(size_t)m * C + c];
        mu /= M;
        for (int m = 0; m < M; m++) v += (x[(size_t)m * C + c] - mu) * (x[(size_t)m * C + c] - mu);
        v /= M;
        for (int m = 0; m < M; m++) {
            size_t i = (size_t)m * C + c;
            double yi = g[c] * (x[i] - mu) / sqrt(v + eps) + b[c];
            if (y) y[i] = yi;
            L += yi * r[i];
        }
    }
    return L;
}
static double prelu_loss_d(int M, int C, const double *x, const double *al, const float *r) {
    double L = 0;
    for (size_t i = 0; i < (size_t)M * C; i++) {
        double xi = x[i];
        L += (xi > 0 ? xi : al[i % C] * xi) * r[i];
    }
    return L;
}
static double l2_loss_d(int N, int D, const double *x, double eps, const float *r, double *y) {
    double L = 0;
    for (int n = 0; n < N; n++) {
        double ss = 0;
        for (int d = 0; d < D; d++) ss += x[(size_t)n * D + d] * x[(size_t)n * D + d];
        double den = fmax(sqrt(ss), eps);
        for (int d = 0; d < D; d++) {
            double yi = x[(size_t)n * D + d] / den;
            if (y) y[(size_t)n * D + d] = yi;
            L += yi * r[(size_t)n * D + d];
        }
    }
    return L;
}

// central difference of f over the n doubles at p
#define FD_GRAD(p, n, out, expr)                                                        \
    for (size_t i_ = 0; i_ < (n); i_++) {                                               \
        double s_ = (p)[i_];                                                            \
        (p)[i_] = s_ + FD_H;                                                            \
        double lp_ = (expr);                                                            \
        (p)[i_] = s_ - FD_H;                                                            \
        double lm_ = (expr);                                                            \
        (p)[i_] = s_;                                                                   \
        (out)[i_] = (lp_ - lm_) / (2 * FD_H);                                           \
    }

static void to_d(const float *f, double *d, size_t n) {
    for (size_t i = 0; i < n; i++) d[i] = f[i];
}

static void run_chan(void (*fn)(const struct nn_chan_args *, int, int), const struct nn_chan_args *a,
                     int nth) {
    for (int i = 0; i < nth; i++) fn(a, i, nth);
}
static void run_rows(void (*fn)(const struct nn_rows_args *, int, int), const struct nn_rows_args *a,
                     int nth) {
    for (int i = 0; i < nth; i++) fn(a, i, nth);
}

// ---- batch norm ------------------------------------------------------------------------
// outputs of one bn forward + backward
struct bn_out {
    float *y, *mean, *var, *invstd, *dx, *dg, *db;
};
static void bn_out_alloc(struct bn_out *o, int M, int C) {
    size_t n = (size_t)M * C;
    o->y = falloc(n), o->dx = falloc(n);
    o->mean = falloc(C), o->var = falloc(C), o->invstd = falloc(C);
    o->dg = falloc(C), o->db = falloc(C);
}
static void bn_out_free(struct bn_out *o) {
    fh_free(o->y), fh_free(o->dx), fh_free(o->mean), fh_free(o->var), fh_free(o->invstd);
    fh_free(o->dg), fh_free(o->db);
}
static int bn_out_same(const struct bn_out *a, const struct bn_out *b, int M, int C) {
    size_t n = (size_t)M * C * sizeof(float), c = (size_t)C * sizeof(float);
    return !memcmp(a->y, b->y, n) && !memcmp(a->dx, b->dx, n) && !memcmp(a->mean, b->mean, c) &&
           !memcmp(a->var, b->var, c) && !memcmp(a->invstd, b->invstd, c) &&
           !memcmp(a->dg, b->dg, c) && !memcmp(a->db, b->db, c);
}
// forward then backward from zeroed gradients, nth slices
static void bn_run(const struct nn_kern *k, int M, int C, const float *x, const float *g,
                   const float *b, const float *dy, float eps, int nth, struct bn_out *o) {
    struct nn_chan_args a = {.M = M, .C = C, .x = x, .dy = dy, .y = o->y, .gamma = g, .beta = b,
                             .mean = o->mean, .var = o->var, .invstd = o->invstd, .eps = eps,
                             .dx = o->dx, .dgamma = o->dg, .dbeta = o->db};
    memset(o->dx, 0, (size_t)M * C * sizeof(float));
    memset(o->dg, 0, (size_t)C * sizeof(float));
    memset(o->db, 0, (size_t)C * sizeof(float));
    run_chan(k->bn_fwd_train, &a, nth);
    run_chan(k->bn_bwd, &a, nth);
}

static void test_bn(const struct nn_kern *k) {
    int bad_fwd = 0, bad_fd = 0, bad_det = 0, bad_acc = 0, bad_null = 0, n = 0;
    double wf = 0, wg = 0;
    const float eps = 1e-5f;
    for (int ci = 0; ci < NC; ci++)
        for (int mi = 0; mi < NM; mi++) {
            int C = Cs[ci], M = Ms[mi];
            size_t nx = (size_t)M * C;
            float *x = falloc(nx), *dy = falloc(nx), *g = falloc(C), *b = falloc(C);
            fill(x, nx, -1, 1), fill(dy, nx, -1, 1), fill(g, C, 0.5f, 1.5f), fill(b, C, -1, 1);
            struct bn_out o, o2;
            bn_out_alloc(&o, M, C), bn_out_alloc(&o2, M, C);
            bn_run(k, M, C, x, g, b, dy, eps, 1, &o);
            n++;
            // forward vs double
            double *xd = dalloc(nx), *gd = dalloc(C), *bd = dalloc(C), *yd = dalloc(nx);
            to_d(x, xd, nx), to_d(g, gd, C), to_d(b, bd, C);
            bn_loss_d(M, C, xd, gd, bd, eps, dy, yd);
            if (!close_to(o.y, yd, nx, TOL_FWD, 1e-7, &wf)) bad_fwd++;
            // gradients vs finite differences
            double *fx = dalloc(nx), *fg = dalloc(C), *fb = dalloc(C);
            FD_GRAD(xd, nx, fx, bn_loss_d(M, C, xd, gd, bd, eps, dy, NULL));
            FD_GRAD(gd, (size_t)C, fg, bn_loss_d(M, C, xd, gd, bd, eps, dy, NULL));
            FD_GRAD(bd, (size_t)C, fb, bn_loss_d(M, C, xd, gd, bd, eps, dy, NULL));
            if (!close_to(o.dx, fx, nx, TOL_FD, TOL_FD_ABS, &wg) ||
                !close_to(o.dg, fg, C, TOL_FD, TOL_FD_ABS, &wg) ||
                !close_to(o.db, fb, C, TOL_FD, TOL_FD_ABS, &wg)) {
                bad_fd++;
                printf("# bn %s M=%d C=%d: gradient off finite differences\n", k->name, M, C);
            }
            // nth = 2, 3: bit-identical
            for (int nth = 2; nth <= 3; nth++) {
                bn_run(k, M, C, x, g, b, dy, eps, nth, &o2);
                if (!bn_out_same(&o, &o2, M, C)) bad_det++;
            }
            // accumulation: pre-filled P ends as P + result
            float *P = falloc(nx + 2 * C);
            fill(P, nx + 2 * C, -1, 1);
            memcpy(o2.dx, P, nx * sizeof(float));
            memcpy(o2.dg, P + nx, C * sizeof(float));
            memcpy(o2.db, P + nx + C, C * sizeof(float));
            struct nn_chan_args a = {.M = M, .C = C, .x = x, .dy = dy, .gamma = g, .beta = b,
                                     .mean = o.mean, .invstd = o.invstd, .eps = eps,
                                     .dx = o2.dx, .dgamma = o2.dg, .dbeta = o2.db};
            run_chan(k->bn_bwd, &a, 2);
            for (size_t i = 0; i < nx; i++) P[i] += o.dx[i];
            for (int c = 0; c < C; c++) P[nx + c] += o.dg[c], P[nx + C + c] += o.db[c];
            if (!closef(o2.dx, P, nx, TOL_ACC, NULL) || !closef(o2.dg, P + nx, C, TOL_ACC, NULL) ||
                !closef(o2.db, P + nx + C, C, TOL_ACC, NULL))
                bad_acc++;
            // NULL outputs: only dbeta asked for
            memset(o2.db, 0, C * sizeof(float));
            a.dx = NULL, a.dgamma = NULL, a.dbeta = o2.db;
            run_chan(k->bn_bwd, &a, 3);
            if (memcmp(o2.db, o.db, C * sizeof(float))) bad_null++;
            fh_free(P), fh_free(xd), fh_free(gd), fh_free(bd), fh_free(yd);
            fh_free(fx), fh_free(fg), fh_free(fb);
            bn_out_free(&o), bn_out_free(&o2);
            fh_free(x), fh_free(dy), fh_free(g), fh_free(b);
        }
    char d[160];
    printf("# bn %s: %d shapes, worst forward rel %.2g, worst gradient-vs-FD rel %.2g\n", k->name,
           n, wf, wg);
    snprintf(d, sizeof d, "bn %s: forward (y) matches a double forward", k->name);
    TEST_COND(d, bad_fwd == 0);
    snprintf(d, sizeof d, "bn %s: dx, dgamma, dbeta match finite differences", k->name);
    TEST_COND(d, bad_fd == 0);
    snprintf(d, sizeof d, "bn %s: bit-identical for nth = 1, 2, 3", k->name);
    TEST_COND(d, bad_det == 0);
    snprintf(d, sizeof d, "bn %s: backward accumulates (+=)", k->name);
    TEST_COND(d, bad_acc == 0);
    snprintf(d, sizeof d, "bn %s: NULL dx/dgamma skipped, dbeta unchanged", k->name);
    TEST_COND(d, bad_null == 0);
}

// ---- PReLU backward ----------------------------------------------------------------------
static void prelu_run(const struct nn_kern *k, int M, int C, const float *x, const float *al,
                      const float *dy, int nth, float *dx, float *da) {
    memset(dx, 0, (size_t)M * C * sizeof(float));
    memset(da, 0, (size_t)C * sizeof(float));
    struct nn_chan_args a = {.M = M, .C = C, .x = x, .dy = dy, .alpha = al, .dx = dx, .dalpha = da};
    run_chan(k->prelu_bwd, &a, nth);
}

static void prelu_fwd_run(const struct nn_kern *k, int M, int C, const float *x,
                          const float *al, int nth, float *y) {
    struct nn_chan_args a = {.M = M, .C = C, .x = x, .alpha = al, .y = y};
    run_chan(k->prelu_fwd, &a, nth);
}

static void test_prelu(const struct nn_kern *k) {
    int bad_fd = 0, bad_det = 0, bad_acc = 0, bad_null = 0, bad_fwd = 0;
    double wg = 0, wf = 0;
    for (int ci = 0; ci < NC; ci++)
        for (int mi = 0; mi < NM; mi++) {
            int C = Cs[ci], M = Ms[mi];
            size_t nx = (size_t)M * C;
            float *x = falloc(nx), *dy = falloc(nx), *al = falloc(C);
            float *dx = falloc(nx), *da = falloc(C), *dx2 = falloc(nx), *da2 = falloc(C);
            fill_away(x, nx, 0.05f, 1), fill(dy, nx, -1, 1), fill(al, C, 0, 0.5f);
            // forward: against the double formula, and the same bytes for nth = 1, 2, 3
            {
                float *y = falloc(nx), *y2 = falloc(nx);
                double *yd = dalloc(nx);
                for (size_t i = 0; i < nx; i++)
                    yd[i] = x[i] > 0 ? (double)x[i] : (double)al[i % C] * x[i];
                prelu_fwd_run(k, M, C, x, al, 1, y);
                if (!close_to(y, yd, nx, TOL_FWD, 0, &wf)) bad_fwd++;
                for (int nth = 2; nth <= 3; nth++) {
                    prelu_fwd_run(k, M, C, x, al, nth, y2);
                    if (memcmp(y, y2, nx * sizeof(float))) bad_det++;
                }
                fh_free(y), fh_free(y2), fh_free(yd);
            }
            prelu_run(k, M, C, x, al, dy, 1, dx, da);
            double *xd = dalloc(nx), *ad = dalloc(C), *fx = dalloc(nx), *fa = dalloc(C);
            to_d(x, xd, nx), to_d(al, ad, C);
            FD_GRAD(xd, nx, fx, prelu_loss_d(M, C, xd, ad, dy));
            FD_GRAD(ad, (size_t)C, fa, prelu_loss_d(M, C, xd, ad, dy));
            if (!close_to(dx, fx, nx, TOL_FD, TOL_FD_ABS, &wg) ||
                !close_to(da, fa, C, TOL_FD, TOL_FD_ABS, &wg)) {
                bad_fd++;
                printf("# prelu %s M=%d C=%d: gradient off finite differences\n", k->name, M, C);
            }
            for (int nth = 2; nth <= 3; nth++) {
                prelu_run(k, M, C, x, al, dy, nth, dx2, da2);
                if (memcmp(dx, dx2, nx * sizeof(float)) || memcmp(da, da2, C * sizeof(float)))
                    bad_det++;
            }
            float *P = falloc(nx + C);
            fill(P, nx + C, -1, 1);
            memcpy(dx2, P, nx * sizeof(float)), memcpy(da2, P + nx, C * sizeof(float));
            struct nn_chan_args a = {.M = M, .C = C, .x = x, .dy = dy, .alpha = al, .dx = dx2,
                                     .dalpha = da2};
            run_chan(k->prelu_bwd, &a, 3);
            for (size_t i = 0; i < nx; i++) P[i] += dx[i];
            for (int c = 0; c < C; c++) P[nx + c] += da[c];
            if (!closef(dx2, P, nx, TOL_ACC, NULL) || !closef(da2, P + nx, C, TOL_ACC, NULL))
                bad_acc++;
            memset(da2, 0, C * sizeof(float));
            a.dx = NULL, a.dalpha = da2;
            run_chan(k->prelu_bwd, &a, 2);
            if (memcmp(da2, da, C * sizeof(float))) bad_null++;
            memset(dx2, 0, nx * sizeof(float));
            a.dx = dx2, a.dalpha = NULL;
            run_chan(k->prelu_bwd, &a, 2);
            if (memcmp(dx2, dx, nx * sizeof(float))) bad_null++;
            fh_free(P), fh_free(xd), fh_free(ad), fh_free(fx), fh_free(fa);
            fh_free(x), fh_free(dy), fh_free(al), fh_free(dx), fh_free(da), fh_free(dx2), fh_free(da2);
        }
    char d[160];
    printf("# prelu %s: worst forward rel %.2g, worst gradient-vs-FD rel %.2g\n", k->name, wf, wg);
    snprintf(d, sizeof d, "prelu %s: forward matches a double forward", k->name);
    TEST_COND(d, bad_fwd == 0);
    snprintf(d, sizeof d, "prelu %s: dx, dalpha match finite differences", k->name);
    TEST_COND(d, bad_fd == 0);
    snprintf(d, sizeof d, "prelu %s: bit-identical for nth = 1, 2, 3", k->name);
    TEST_COND(d, bad_det == 0);
    snprintf(d, sizeof d, "prelu %s: backward accumulates (+=)", k->name);
    TEST_COND(d, bad_acc == 0);
    snprintf(d, sizeof d, "prelu %s: a NULL dx or dalpha is skipped", k->name);
    TEST_COND(d, bad_null == 0);
}

// ---- L2 normalisation --------------------------------------------------------------------
static void l2_run(const struct nn_kern *k, int N, int D, const float *x, const float *dy,
                   float eps, int nth, float *y, float *dx) {
    memset(dx, 0, (size_t)N * D * sizeof(float));
    struct nn_rows_args a = {.N = N, .D = D, .x = x, .y = y, .dy = dy, .dx = dx, .eps = eps};
    run_rows(k->l2norm_fwd, &a, nth);
    run_rows(k->l2norm_bwd, &a, nth);
}

static void test_l2(const struct nn_kern *k) {
    int bad_fwd = 0, bad_fd = 0, bad_det = 0, bad_acc = 0, bad_eps = 0;
    double wf = 0, wg = 0;
    const float eps = 1e-10f;
    // rows = M, D = C of the shared shape lists
    for (int ci = 0; ci < NC; ci++)
        for (int mi = 0; mi < NM; mi++) {
            int D = Cs[ci], N = Ms[mi];
            size_t nx = (size_t)N * D;
            float *x = falloc(nx), *dy = falloc(nx), *y = falloc(nx), *dx = falloc(nx);
            float *y2 = falloc(nx), *dx2 = falloc(nx);
            fill_away(x, nx, 0.05f, 1), fill(dy, nx, -1, 1);
            l2_run(k, N, D, x, dy, eps, 1, y, dx);
            double *xd = dalloc(nx), *yd = dalloc(nx), *fx = dalloc(nx);
            to_d(x, xd, nx);
            l2_loss_d(N, D, xd, eps, dy, yd);
            if (!close_to(y, yd, nx, TOL_FWD, 1e-7, &wf)) bad_fwd++;
            FD_GRAD(xd, nx, fx, l2_loss_d(N, D, xd, eps, dy, NULL));
            if (!close_to(dx, fx, nx, TOL_FD, TOL_FD_ABS, &wg)) {
                bad_fd++;
                printf("# l2norm %s N=%d D=%d: gradient off finite differences\n", k->name, N, D);
            }
            for (int nth = 2; nth <= 3; nth++) {
                l2_run(k, N, D, x, dy, eps, nth, y2, dx2);
                if (memcmp(y, y2, nx * sizeof(float)) || memcmp(dx, dx2, nx * sizeof(float)))
                    bad_det++;
            }
            float *P = falloc(nx);
            fill(P, nx, -1, 1);
            memcpy(dx2, P, nx * sizeof(float));
            struct nn_rows_args a = {.N = N, .D = D, .x = x, .y = y, .dy = dy, .dx = dx2, .eps = eps};
            run_rows(k->l2norm_bwd, &a, 2);
            for (size_t i = 0; i < nx; i++) P[i] += dx[i];
            if (!closef(dx2, P, nx, TOL_ACC, NULL)) bad_acc++;
            fh_free(P), fh_free(xd), fh_free(yd), fh_free(fx);
            fh_free(x), fh_free(dy), fh_free(y), fh_free(dx), fh_free(y2), fh_free(dx2);
        }
    // a row under eps (and an all-zero row): y = x / eps, dx = dy / eps
    {
        int D = 5;
        float x[10] = {1e-12f, -2e-12f, 3e-12f, 0, 1e-12f, 0, 0, 0, 0, 0}, dy[10], y[10], dx[10];
        fill(dy, 10, -1, 1);
        float e = 1e-10f;
        l2_run(k, 2, D, x, dy, e, 1, y, dx);
        for (int i = 0; i < 10; i++) {
            double wy = x[i] / (double)e, wd = dy[i] / (double)e;
            if (!(fabs(y[i] - wy) <= 1e-6 * fabs(wy) + 1e-30) ||
                !(fabs(dx[i] - wd) <= 1e-6 * fabs(wd)))
                bad_eps++;
        }
    }
    char d[160];
    printf("# l2norm %s: worst forward rel %.2g, worst gradient-vs-FD rel %.2g\n", k->name, wf, wg);
    snprintf(d, sizeof d, "l2norm %s: forward matches a double forward", k->name);
    TEST_COND(d, bad_fwd == 0);
    snprintf(d, sizeof d, "l2norm %s: dx matches finite differences", k->name);
    TEST_COND(d, bad_fd == 0);
    snprintf(d, sizeof d, "l2norm %s: bit-identical for nth = 1, 2, 3", k->name);
    TEST_COND(d, bad_det == 0);
    snprintf(d, sizeof d, "l2norm %s: backward accumulates (+=)", k->name);
    TEST_COND(d, bad_acc == 0);
    snprintf(d, sizeof d, "l2norm %s: rows under eps: y = x/eps, dx = dy/eps", k->name);
    TEST_COND(d, bad_eps == 0);
}

// ---- AVX2 against the reference ------------------------------------------------------------
static void test_fast_vs_ref(const struct nn_kern *ref, const struct nn_kern *fast) {
    static const int xC[] = {1, 3, 5, 17, 64, 100, 40}, xM[] = {1, 2, 7, 33, 130};
    int bad_bn = 0, bad_pr = 0, bad_prf = 0, bad_l2 = 0;
    double wbn = 0, wpr = 0, wl2 = 0;
    for (int ci = 0; ci < 7; ci++)
        for (int mi = 0; mi < 5; mi++) {
            int C = xC[ci], M = xM[mi];
            size_t nx = (size_t)M * C;
            float *x = falloc(nx), *dy = falloc(nx), *g = falloc(C), *b = falloc(C);
            fill(x, nx, -2, 3), fill(dy, nx, -1, 1), fill(g, C, -1.5f, 1.5f), fill(b, C, -1, 1);
            struct bn_out r, f;
            bn_out_alloc(&r, M, C), bn_out_alloc(&f, M, C);
            bn_run(ref, M, C, x, g, b, dy, 1e-3f, 1, &r);
            bn_run(fast, M, C, x, g, b, dy, 1e-3f, 3, &f);
            size_t ns[7] = {nx, C, C, C, nx, C, C};
            float *rp[7] = {r.y, r.mean, r.var, r.invstd, r.dx, r.dg, r.db};
            float *fp[7] = {f.y, f.mean, f.var, f.invstd, f.dx, f.dg, f.db};
            for (int i = 0; i < 7; i++)
                if (!closef(fp[i], rp[i], ns[i], TOL_FAST, &wbn)) bad_bn++;
            // PReLU: x includes exact zeros and the kink's both sides
            for (size_t i = 0; i < nx; i += 5) x[i] = 0;
            x[1 % nx] = -0.0f;
            prelu_fwd_run(ref, M, C, x, g, 1, r.y);
            prelu_fwd_run(fast, M, C, x, g, 3, f.y);
            if (memcmp(r.y, f.y, nx * sizeof(float))) bad_prf++;
            prelu_run(ref, M, C, x, g, dy, 1, r.dx, r.dg);
            prelu_run(fast, M, C, x, g, dy, 2, f.dx, f.dg);
            if (!closef(f.dx, r.dx, nx, TOL_FAST, &wpr) || !closef(f.dg, r.dg, C, TOL_FAST, &wpr))
                bad_pr++;
            l2_run(ref, M, C, x, dy, 1e-10f, 1, r.y, r.dx);
            l2_run(fast, M, C, x, dy, 1e-10f, 3, f.y, f.dx);
            if (!closef(f.y, r.y, nx, TOL_FAST, &wl2) || !closef(f.dx, r.dx, nx, TOL_FAST, &wl2))
                bad_l2++;
            bn_out_free(&r), bn_out_free(&f);
            fh_free(x), fh_free(dy), fh_free(g), fh_free(b);
        }
    printf("# %s vs %s worst rel: bn %.2g, prelu %.2g, l2norm %.2g\n", fast->name, ref->name, wbn,
           wpr, wl2);
    TEST_COND("avx2 bn fwd+bwd matches the reference (1e-5 rel)", bad_bn == 0);
    TEST_COND("avx2 prelu fwd is bit-identical to the reference (zeros, -0 included)", bad_prf == 0);
    TEST_COND("avx2 prelu bwd matches the reference (1e-5 rel)", bad_pr == 0);
    TEST_COND("avx2 l2norm fwd+bwd matches the reference (1e-5 rel)", bad_l2 == 0);
}

int main(void) {
    const struct nn_kern *ref = nn_kern_ref(), *fast = nn_kern_avx2();
    TEST_COND("reference table fills the chan/rows slots",
              ref->bn_fwd_train && ref->bn_bwd && ref->prelu_fwd && ref->prelu_bwd && ref->l2norm_fwd &&
                  ref->l2norm_bwd);
    test_bn(ref);
    test_prelu(ref);
    test_l2(ref);
    if (!fast) {
        printf("# no AVX2+FMA table on this CPU/build: avx2 checks skipped\n");
        TEST_COND("avx2 chan kernels skipped (not available)", 1);
        return TEST_REPORT();
    }
    TEST_COND("avx2 table fills the chan/rows slots",
              fast->bn_fwd_train && fast->bn_bwd && fast->prelu_fwd && fast->prelu_bwd && fast->l2norm_fwd &&
                  fast->l2norm_bwd);
    test_bn(fast);
    test_prelu(fast);
    test_l2(fast);
    test_fast_vs_ref(ref, fast);
    return TEST_REPORT();
}
