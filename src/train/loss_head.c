// SPDX-License-Identifier: MIT
// The classifier head: plain softmax logits W e + b, or cosine logits with a SphereFace,
// CosFace or ArcFace margin on the target; cross-entropy, its gradients w.r.t. e and W.
#include <math.h>
#include <string.h>

#include "base/base.h"
#include "train/loss_int.h"

uint64_t loss_rng_next(uint64_t *state) {
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

double loss_rng_uniform(uint64_t *state) {
    return (loss_rng_next(state) >> 11) * (1.0 / 9007199254740992.0);
}

// Dot products with double accumulation in 4 independent sums (a float and a double twin).
#define DOT4(name, TA, TB)                                                                  \
    double name(const TA *a, const TB *b, int n) {                                          \
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0;                                              \
        int i = 0;                                                                          \
        for (; i + 4 <= n; i += 4) {                                                        \
            s0 += (double)a[i] * b[i];                                                      \
            s1 += (double)a[i + 1] * b[i + 1];                                              \
            s2 += (double)a[i + 2] * b[i + 2];                                              \
            s3 += (double)a[i + 3] * b[i + 3];                                              \
        }                                                                                   \
        for (; i < n; i++) s0 += (double)a[i] * b[i];                                       \
        return (s0 + s1) + (s2 + s3);                                                       \
    }
DOT4(loss_dot_ff, float, float)
static DOT4(dot_dd, double, double)

double loss_unit(const float *e, int D, double *u) {
    double n2 = loss_dot_ff(e, e, D), n = sqrt(n2);
    if (n < 1e-12) n = 1e-12;
    for (int d = 0; d < D; d++) u[d] = e[d] / n;
    return n;
}

void loss_unit_backward(const double *u, const double *du, double enorm, int D, double *de) {
    double ud = 0;
    for (int d = 0; d < D; d++) ud += u[d] * du[d];
    for (int d = 0; d < D; d++) de[d] += (du[d] - u[d] * ud) / enorm;
}

int loss_head_init(struct loss_head *h, int rows, int D, int margin, uint64_t *rng) {
    memset(h, 0, sizeof *h);
    h->rows = rows, h->D = D, h->margin = margin;
    size_t n = (size_t)rows * D;
    h->w = fh_malloc(n * sizeof *h->w);
    h->gw = fh_calloc(n, sizeof *h->gw);
    h->dw = fh_calloc(n, sizeof *h->dw);
    h->touched = fh_calloc((size_t)rows, 1);
    h->cosv = fh_malloc((size_t)rows * sizeof *h->cosv);
    h->z = fh_malloc((size_t)rows * sizeof *h->z);
    h->g = fh_malloc((size_t)rows * sizeof *h->g);
    h->du = fh_malloc((size_t)D * sizeof *h->du);
    int ok = h->w && h->gw && h->dw && h->touched && h->cosv && h->z && h->g && h->du;
    if (margin == TRAIN_LOSS_SOFTMAX) {
        h->b = fh_calloc((size_t)rows, sizeof *h->b);
        h->gb = fh_calloc((size_t)rows, sizeof *h->gb);
        h->db = fh_calloc((size_t)rows, sizeof *h->db);
        ok = ok && h->b && h->gb && h->db;
    } else {
        h->wn = fh_malloc(n * sizeof *h->wn);
        h->wnorm = fh_malloc((size_t)rows * sizeof *h->wnorm);
        ok = ok && h->wn && h->wnorm;
    }
    if (!ok) {
        loss_head_free(h);
        return fh_fail(FH_E_NOMEM, "loss: no memory for a %d x %d head", rows, D);
    }
    double bound = 1.0 / sqrt((double)D);
    for (size_t i = 0; i < n; i++) h->w[i] = (float)((2 * loss_rng_uniform(rng) - 1) * bound);
    return FH_OK;
}

void loss_head_free(struct loss_head *h) {
    if (!h) return;
    fh_free(h->w), fh_free(h->b), fh_free(h->gw), fh_free(h->gb), fh_free(h->dw);
    fh_free(h->db), fh_free(h->touched), fh_free(h->wn), fh_free(h->wnorm);
    fh_free(h->cosv), fh_free(h->z), fh_free(h->g), fh_free(h->du);
    memset(h, 0, sizeof *h);
}

void loss_head_prepare(struct loss_head *h) {
    if (h->margin == TRAIN_LOSS_SOFTMAX) return;
    int D = h->D;
    for (int j = 0; j < h->rows; j++) {
        const float *w = h->w + (size_t)j * D;
        double n = sqrt(loss_dot_ff(w, w, D));
        if (n < 1e-12) n = 1e-12;
        h->wnorm[j] = n;
        double *wn = h->wn + (size_t)j * D;
        for (int d = 0; d < D; d++) wn[d] = w[d] / n;
    }
}

// Chebyshev T_m(c) and U_{m-1}(c) by their recurrences (T_m' = m U_{m-1}).
static void chebyshev(int m, double c, double *t, double *u) {
    double t0 = 1, t1 = c, u0 = 0, u1 = 1; // T_0, T_1; U_{-1}, U_0
    for (int k = 1; k < m; k++) {
        double t2 = 2 * c * t1 - t0, u2 = 2 * c * u1 - u0;
        t0 = t1, t1 = t2, u0 = u1, u1 = u2;
    }
    *t = m == 0 ? 1 : t1;
    *u = u1;
}

double loss_margin_fn(const struct loss_head *h, double c, double *dg) {
    double m = h->m;
    switch (h->margin) {
    case TRAIN_LOSS_COSFACE:
        *dg = 1;
        return c - m;
    case TRAIN_LOSS_ARCFACE: {
        double cm = cos(m), sm = sin(m);
        int use_arc = h->easy ? c > 0 : c > cos(M_PI - m);
        if (!use_arc) {
            *dg = 1;
            return h->easy ? c : c - sm * m;
        }
        double s2 = 1 - c * c, st = s2 > 1e-12 ? sqrt(s2) : 1e-6;
        *dg = s2 > 1e-12 ? cm + sm * c / st : cm;
        return c * cm - st * sm;
    }
    case TRAIN_LOSS_SPHEREFACE: {
        int mi = (int)lrint(m);
        double cc = c > 1 ? 1 : c < -1 ? -1 : c;
        int k = (int)floor(mi * acos(cc) / M_PI);
        if (k > mi - 1) k = mi - 1;
        if (k < 0) k = 0;
        double t, u, sign = (k & 1) ? -1 : 1;
        chebyshev(mi, cc, &t, &u);
        double psi = sign * t - 2 * k, dpsi = sign * mi * u, lam = h->lambda;
        *dg = (lam + dpsi) / (1 + lam);
        return (lam * cc + psi) / (1 + lam);
    }
    default:
        *dg = 1;
        return c;
    }
}

double loss_head_sample(struct loss_head *h, const float *e, const double *u, double enorm,
                        const int *rows, int nr, int t, double wgt, double *de, int *amax) {
    int D = h->D, plain = h->margin == TRAIN_LOSS_SOFTMAX;
    double *z = h->z, *cs = h->cosv, *g = h->g;
    int best = 0;
    for (int j = 0; j < nr; j++) {
        int r = rows ? rows[j] : j;
        cs[j] = plain ? loss_dot_ff(h->w + (size_t)r * D, e, D) + h->b[r]
                      : dot_dd(h->wn + (size_t)r * D, u, D);
        if (cs[j] > cs[best]) best = j;
    }
    if (amax) *amax = best;
    if (t < 0) return 0;
    // logits with the margin on the target: z_j = R g_j
    double R = plain ? 1 : h->margin == TRAIN_LOSS_SPHEREFACE ? enorm : h->s, dgt = 1;
    double zmax = -INFINITY;
    for (int j = 0; j < nr; j++) {
        g[j] = j == t && !plain ? loss_margin_fn(h, cs[j], &dgt) : cs[j];
        z[j] = R * g[j];
        if (z[j] > zmax) zmax = z[j];
    }
    double sum = 0;
    for (int j = 0; j < nr; j++) sum += exp(z[j] - zmax);
    double lse = zmax + log(sum), loss = lse - z[t];
    if (!de) return loss;
    double *du = h->du, dR = 0;
    if (!plain) memset(du, 0, (size_t)D * sizeof *du);
    for (int j = 0; j < nr; j++) {
        int r = rows ? rows[j] : j;
        double dz = wgt * (exp(z[j] - lse) - (j == t));
        double *dw = h->dw + (size_t)r * D;
        h->touched[r] = 1;
        if (plain) {
            const float *w = h->w + (size_t)r * D;
            for (int d = 0; d < D; d++) dw[d] += dz * e[d], de[d] += dz * w[d];
            h->db[r] += dz;
        } else {
            double dc = dz * R * (j == t ? dgt : 1);
            dR += dz * g[j];
            const double *wn = h->wn + (size_t)r * D;
            for (int d = 0; d < D; d++) dw[d] += dc * u[d], du[d] += dc * wn[d];
        }
    }
    if (!plain) {
        loss_unit_backward(u, du, enorm, D, de);
        if (h->margin == TRAIN_LOSS_SPHEREFACE) // R = |e|: dR/de = u
            for (int d = 0; d < D; d++) de[d] += dR * u[d];
    }
    return loss;
}

void loss_head_finish(struct loss_head *h) {
    int D = h->D;
    for (int r = 0; r < h->rows; r++) {
        if (!h->touched[r]) continue;
        double *dw = h->dw + (size_t)r * D;
        float *gw = h->gw + (size_t)r * D;
        if (h->margin == TRAIN_LOSS_SOFTMAX) {
            for (int d = 0; d < D; d++) gw[d] += (float)dw[d];
            h->gb[r] += (float)h->db[r];
            h->db[r] = 0;
        } else { // dW = (dWn - wn (wn . dWn)) / |W|
            const double *wn = h->wn + (size_t)r * D;
            double p = dot_dd(wn, dw, D);
            for (int d = 0; d < D; d++) gw[d] += (float)((dw[d] - wn[d] * p) / h->wnorm[r]);
        }
        memset(dw, 0, (size_t)D * sizeof *dw);
        h->touched[r] = 0;
    }
}
