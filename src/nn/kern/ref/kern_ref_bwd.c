// SPDX-License-Identifier: MIT
// Scalar reference backward kernels for conv / FC and depthwise conv: the plain loops
// the fast twins (kern/x86/kern_avx2_bwd.c) and the finite-difference tests check.
// Every output element is a gather: acc = 0; acc += terms in a fixed order; out += acc.
//   conv dx[n,iy,ix,c]: terms over (kh, kw, oc) with oy = (iy + PT - kh) / SH exact;
//   conv dw[oc,kh,kw,c], db[oc]: terms over m = (n, oy, ox) in increasing order;
//   dw   dx: taps (kh, kw); dw dw / db: m in increasing order.
// Slices: conv/dw bwd_data split the input rows (n, iy) so each slice owns its dx rows;
// bwd_filter splits the output channels (conv) or channels (dw). Nothing here depends
// on nth except which slice does the work, so results are bit-identical for any nth.
// Non-goal: speed (no tiling, no scratch).
#include "nn/kern/ref/kern_ref_bwd.h"

size_t nn_ref_conv_bwd_scratch(const struct nn_conv_bwd_args *a) { return 0; }

// output coordinate o whose tap k reads input coordinate i (i = o*S - P + k), or -1
static inline int src_of(int i, int k, int S, int P, int O) {
    int t = i + P - k;
    if (t < 0 || t % S) return -1;
    t /= S;
    return t < O ? t : -1;
}

// dx[n, iy, ix, c] gathered over taps (kh, kw) whose output cell exists, then over
// o < no: dy[n, oy, ox, dyo + o] * w[(o * wso) + (kh, kw, c)]. Conv: no = OC, dyo = 0,
// wso = KH*KW*C; depthwise: no = 1, dyo = c. dy points at image n (ldy channels).
static float gather(const float *dy, int ldy, int dyo, int no, const float *w, size_t wso, int c,
                    int C, int iy, int ix, int KH, int KW, int SH, int SW, int PT, int PL, int OH,
                    int OW) {
    float acc = 0;
    for (int kh = 0; kh < KH; kh++) {
        int oy = src_of(iy, kh, SH, PT, OH);
        if (oy < 0) continue;
        for (int kw = 0; kw < KW; kw++) {
            int ox = src_of(ix, kw, SW, PL, OW);
            if (ox < 0) continue;
            const float *g = dy + ((size_t)oy * OW + ox) * ldy + dyo;
            const float *wk = w + ((size_t)kh * KW + kw) * C + c;
            for (int o = 0; o < no; o++) acc += g[o] * wk[(size_t)o * wso];
        }
    }
    return acc;
}

void nn_ref_conv2d_bwd_data(const struct nn_conv_bwd_args *a, int ith, int nth) {
    if (!a->dx) return;
    int r0, r1;
    size_t K = (size_t)a->KH * a->KW * a->C;
    nn_split(a->N * a->H, ith, nth, 1, &r0, &r1);
    for (int r = r0; r < r1; r++) {
        const float *dy = a->dy + (size_t)(r / a->H) * a->OH * a->OW * a->OC;
        float *dx = a->dx + (size_t)r * a->W * a->C;
        for (int i = 0; i < a->W * a->C; i++)
            dx[i] += gather(dy, a->OC, 0, a->OC, a->w, K, i % a->C, a->C, r % a->H, i / a->C,
                            a->KH, a->KW, a->SH, a->SW, a->PT, a->PL, a->OH, a->OW);
    }
}

// sum over m = (n, oy, ox) in increasing order of dy[m, o] * x[n, iy, ix, c] at tap
// (kh, kw), cells outside the input skipped; ldy = channels of dy. x == NULL: sum of dy.
static float sum_m(const float *dy, int ldy, int o, const float *x, int c, int N, int H, int W,
                   int C, int kh, int kw, int SH, int SW, int PT, int PL, int OH, int OW) {
    float acc = 0;
    for (int m = 0; m < N * OH * OW; m++) {
        float g = dy[(size_t)m * ldy + o];
        if (!x) {
            acc += g;
            continue;
        }
        int n = m / (OH * OW), q = m % (OH * OW);
        int iy = q / OW * SH - PT + kh, ix = q % OW * SW - PL + kw;
        if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
        acc += g * x[(((size_t)n * H + iy) * W + ix) * C + c];
    }
    return acc;
}

void nn_ref_conv2d_bwd_filter(const struct nn_conv_bwd_args *a, int ith, int nth) {
    int o0, o1, K = a->KH * a->KW * a->C;
    nn_split(a->OC, ith, nth, 1, &o0, &o1);
    for (int oc = o0; oc < o1; oc++) {
        if (a->db)
            a->db[oc] += sum_m(a->dy, a->OC, oc, NULL, 0, a->N, a->H, a->W, a->C, 0, 0, a->SH,
                               a->SW, a->PT, a->PL, a->OH, a->OW);
        for (int k = 0; a->dw && k < K; k++) {
            int kh = k / (a->KW * a->C), kw = k / a->C % a->KW, c = k % a->C;
            a->dw[(size_t)oc * K + k] += sum_m(a->dy, a->OC, oc, a->x, c, a->N, a->H, a->W, a->C,
                                               kh, kw, a->SH, a->SW, a->PT, a->PL, a->OH, a->OW);
        }
    }
}

void nn_ref_dwconv2d_bwd_data(const struct nn_dw_bwd_args *a, int ith, int nth) {
    if (!a->dx) return;
    int r0, r1;
    nn_split(a->N * a->H, ith, nth, 1, &r0, &r1);
    for (int r = r0; r < r1; r++) {
        const float *dy = a->dy + (size_t)(r / a->H) * a->OH * a->OW * a->C;
        float *dx = a->dx + (size_t)r * a->W * a->C;
        for (int i = 0; i < a->W * a->C; i++)
            dx[i] += gather(dy, a->C, i % a->C, 1, a->w, 0, i % a->C, a->C, r % a->H, i / a->C,
                            a->KH, a->KW, a->SH, a->SW, a->PT, a->PL, a->OH, a->OW);
    }
}

void nn_ref_dwconv2d_bwd_filter(const struct nn_dw_bwd_args *a, int ith, int nth) {
    int c0, c1;
    nn_split(a->C, ith, nth, 1, &c0, &c1);
    for (int c = c0; c < c1; c++) {
        if (a->db)
            a->db[c] += sum_m(a->dy, a->C, c, NULL, 0, a->N, a->H, a->W, a->C, 0, 0, a->SH, a->SW,
                              a->PT, a->PL, a->OH, a->OW);
        for (int k = 0; a->dw && k < a->KH * a->KW; k++)
            a->dw[(size_t)k * a->C + c] += sum_m(a->dy, a->C, c, a->x, c, a->N, a->H, a->W, a->C,
                                                 k / a->KW, k % a->KW, a->SH, a->SW, a->PT, a->PL,
                                                 a->OH, a->OW);
    }
}
