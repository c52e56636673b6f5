// SPDX-License-Identifier: MIT
// Scalar reference kernels for the per-channel (batch norm, PReLU backward) and
// per-row (L2 normalisation) training ops; semantics in kern.h.
//
// Sums are taken in double, in row order m = 0..M-1 per channel (d = 0..D-1 per row),
// so a channel's statistics do not depend on M's size nor on how channels are sliced.
// Channels are walked in blocks of CB with m outer (one pass over the rows per block
// instead of one per channel); a block's sums are still one per channel in row order.
// M <= 0 (or N <= 0) writes nothing.
#include <math.h>

#include "nn/kern/kern_chan.h"

#define CB 32 // channels per block (local accumulators on the stack)

void nn_ref_bn_fwd_train(const struct nn_chan_args *a, int ith, int nth) {
    int M = a->M, C = a->C, c0, c1;
    if (M <= 0) return;
    nn_split(C, ith, nth, 1, &c0, &c1);
    for (int cb = c0; cb < c1; cb += CB) {
        int w = c1 - cb < CB ? c1 - cb : CB;
        double s[CB] = {0}, v[CB] = {0}, mu[CB];
        for (int m = 0; m < M; m++) {
            const float *x = a->x + (size_t)m * C + cb;
            for (int j = 0; j < w; j++) s[j] += x[j];
        }
        for (int j = 0; j < w; j++) mu[j] = s[j] / M;
        for (int m = 0; m < M; m++) {
            const float *x = a->x + (size_t)m * C + cb;
            for (int j = 0; j < w; j++) {
                double d = x[j] - mu[j];
                v[j] += d * d;
            }
        }
        for (int j = 0; j < w; j++) {
            double var = v[j] / M;
            a->mean[cb + j] = (float)mu[j];
            a->var[cb + j] = (float)var;
            a->invstd[cb + j] = (float)(1.0 / sqrt(var + (double)a->eps));
        }
        // y = gamma * xhat + beta with the stored (float) mean and invstd, as bn_bwd reads them
        for (int m = 0; m < M; m++) {
            const float *x = a->x + (size_t)m * C + cb;
            float *y = a->y + (size_t)m * C + cb;
            for (int j = 0; j < w; j++) {
                int c = cb + j;
                float xh = (x[j] - a->mean[c]) * a->invstd[c];
                y[j] = a->gamma[c] * xh + a->beta[c];
            }
        }
    }
}

void nn_ref_bn_bwd(const struct nn_chan_args *a, int ith, int nth) {
    int M = a->M, C = a->C, c0, c1;
    if (M <= 0) return;
    nn_split(C, ith, nth, 1, &c0, &c1);
    for (int cb = c0; cb < c1; cb += CB) {
        int w = c1 - cb < CB ? c1 - cb : CB;
        double sdy[CB] = {0}, sdyx[CB] = {0};
        for (int m = 0; m < M; m++) {
            const float *x = a->x + (size_t)m * C + cb, *dy = a->dy + (size_t)m * C + cb;
            for (int j = 0; j < w; j++) {
                float xh = (x[j] - a->mean[cb + j]) * a->invstd[cb + j];
                sdy[j] += dy[j];
                sdyx[j] += (double)dy[j] * xh; // exact product: same sum for any variant
            }
        }
        for (int j = 0; j < w; j++) {
            if (a->dgamma) a->dgamma[cb + j] += (float)sdyx[j];
            if (a->dbeta) a->dbeta[cb + j] += (float)sdy[j];
        }
        if (!a->dx) continue;
        // dx += gamma invstd (dy - sum dy / M - xhat sum(dy xhat) / M)
        float k[CB], am[CB], bm[CB];
        for (int j = 0; j < w; j++) {
            k[j] = a->gamma[cb + j] * a->invstd[cb + j];
            am[j] = (float)(sdy[j] / M);
            bm[j] = (float)(sdyx[j] / M);
        }
        for (int m = 0; m < M; m++) {
            const float *x = a->x + (size_t)m * C + cb, *dy = a->dy + (size_t)m * C + cb;
            float *dx = a->dx + (size_t)m * C + cb;
            for (int j = 0; j < w; j++) {
                float xh = (x[j] - a->mean[cb + j]) * a->invstd[cb + j];
                dx[j] += k[j] * (dy[j] - am[j] - xh * bm[j]);
            }
        }
    }
}

// rows split; branch-free form (signs are random), the same values as x > 0 ? x : a x
void nn_ref_prelu_fwd(const struct nn_chan_args *a, int ith, int nth) {
    int C = a->C, m0, m1;
    nn_split(a->M, ith, nth, 1, &m0, &m1);
    const float *restrict al = a->alpha;
    for (int m = m0; m < m1; m++) {
        const float *restrict x = a->x + (size_t)m * C;
        float *restrict y = a->y + (size_t)m * C;
        for (int c = 0; c < C; c++) {
            float p = x[c] > 0 ? x[c] : 0, n = x[c] < 0 ? x[c] : 0, t = al[c] * n;
            y[c] = p + t;
        }
    }
}

void nn_ref_prelu_bwd(const struct nn_chan_args *a, int ith, int nth) {
    int M = a->M, C = a->C, c0, c1;
    if (M <= 0) return;
    nn_split(C, ith, nth, 1, &c0, &c1);
    for (int cb = c0; cb < c1; cb += CB) {
        int w = c1 - cb < CB ? c1 - cb : CB;
        double sa[CB] = {0};
        for (int m = 0; m < M; m++) {
            const float *x = a->x + (size_t)m * C + cb, *dy = a->dy + (size_t)m * C + cb;
            float *dx = a->dx ? a->dx + (size_t)m * C + cb : NULL;
            for (int j = 0; j < w; j++) {
                if (x[j] > 0) {
                    if (dx) dx[j] += dy[j];
                } else { // also NaN, as the forward's v > 0 ? v : alpha v
                    if (dx) dx[j] += dy[j] * a->alpha[cb + j];
                    sa[j] += (double)dy[j] * x[j];
                }
            }
        }
        if (a->dalpha)
            for (int j = 0; j < w; j++) a->dalpha[cb + j] += (float)sa[j];
    }
}

// |row| in double
static double row_norm(const float *x, int D) {
    double ss = 0;
    for (int d = 0; d < D; d++) ss += (double)x[d] * x[d];
    return sqrt(ss);
}

void nn_ref_l2norm_fwd(const struct nn_rows_args *a, int ith, int nth) {
    int r0, r1, D = a->D;
    nn_split(a->N, ith, nth, 1, &r0, &r1);
    for (int r = r0; r < r1; r++) {
        const float *x = a->x + (size_t)r * D;
        float *y = a->y + (size_t)r * D;
        double n = row_norm(x, D), den = n >= a->eps ? n : a->eps;
        for (int d = 0; d < D; d++) y[d] = (float)(x[d] / den);
    }
}

// dx += (dy - y (y . dy)) / |x| when |x| >= eps, else dy / eps (y = x / eps is linear there)
void nn_ref_l2norm_bwd(const struct nn_rows_args *a, int ith, int nth) {
    int r0, r1, D = a->D;
    if (!a->dx) return;
    nn_split(a->N, ith, nth, 1, &r0, &r1);
    for (int r = r0; r < r1; r++) {
        const float *x = a->x + (size_t)r * D, *y = a->y + (size_t)r * D;
        const float *dy = a->dy + (size_t)r * D;
        float *dx = a->dx + (size_t)r * D;
        double n = row_norm(x, D), den = n >= a->eps ? n : a->eps, dot = 0;
        if (n >= a->eps)
            for (int d = 0; d < D; d++) dot += (double)y[d] * dy[d];
        for (int d = 0; d < D; d++) dx[d] += (float)((dy[d] - y[d] * dot) / den);
    }
}
