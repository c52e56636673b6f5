// SPDX-License-Identifier: MIT
// The scalar reference of the int8 row-dot kernel (kern.h: struct nn_i8dot_args).
#include <string.h>

#include "nn/kern/kern_i8.h"

void nn_ref_i8_dot_rows(const struct nn_i8dot_args *a, int ith, int nth) {
    int r0, r1;
    nn_split(a->N, ith, nth, 1, &r0, &r1);
    for (int r = r0; r < r1; r++) {
        const int8_t *x = a->rows + (size_t)r * a->stride;
        int32_t s = 0;
        for (int k = 0; k < a->D; k++) s += (int32_t)x[k] * a->q[k];
        a->out[r] = s;
    }
}

// ---- int8 conv (kern.h: struct nn_qconv_args) ----------------------------------------
// The reference keeps the weights as quantised, (OC, K) bytes, and builds one quantised
// im2col row (K ints) at a time in its scratch.

static size_t round64(size_t n) { return (n + 63) / 64 * 64; }

size_t nn_ref_qconv_pack_size(int OC, int K) { return round64((size_t)OC * K); }

void nn_ref_qconv_pack(int OC, int K, const int8_t *wq, void *wp) {
    memcpy(wp, wq, (size_t)OC * K);
}

size_t nn_ref_qconv_scratch(const struct nn_qconv_args *a) {
    return round64((size_t)a->KH * a->KW * a->C * sizeof(int32_t));
}

void nn_ref_qconv2d(const struct nn_qconv_args *a, int ith, int nth) {
    int M = a->N * a->OH * a->OW, K = a->KH * a->KW * a->C, m0, m1;
    nn_split(M, ith, nth, 1, &m0, &m1);
    int32_t *q = (int32_t *)((char *)a->scratch + (size_t)ith * nn_ref_qconv_scratch(a));
    const int8_t *w = a->wp;
    for (int m = m0; m < m1; m++) {
        int n = m / (a->OH * a->OW), r = m % (a->OH * a->OW), oy = r / a->OW, ox = r % a->OW;
        int k = 0;
        for (int kh = 0; kh < a->KH; kh++)
            for (int kw = 0; kw < a->KW; kw++) {
                int iy = oy * a->SH - a->PT + kh, ix = ox * a->SW - a->PL + kw;
                int in = iy >= 0 && iy < a->H && ix >= 0 && ix < a->W;
                const float *x = in ? a->x + (((size_t)n * a->H + iy) * a->W + ix) * a->C : NULL;
                for (int c = 0; c < a->C; c++) q[k++] = in ? nn_quant8(x[c], a->xinv) : 0;
            }
        float *y = a->y + (size_t)m * a->OC;
        for (int oc = 0; oc < a->OC; oc++) {
            const int8_t *wr = w + (size_t)oc * K;
            int32_t acc = 0;
            for (k = 0; k < K; k++) acc += q[k] * wr[k];
            float v = (float)acc * a->dq[oc];
            if (a->bias) v += a->bias[oc];
            y[oc] = nn_act_apply(v, a->act, a->alpha, oc);
        }
    }
}
