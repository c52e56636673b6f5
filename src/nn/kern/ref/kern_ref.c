// SPDX-License-Identifier: MIT
// Scalar reference kernels: the plain loops every fast kernel is tested against.
// Accumulation order is fixed: acc = 0; acc += x*w over (kh, kw, c); then + bias.
#include <float.h>
#include <string.h>

#include "nn/kern/kern.h"
#include "nn/kern/kern_chan.h"
#include "nn/kern/kern_i8.h"
#include "nn/kern/ref/kern_ref_bwd.h"

static size_t ref_pack_size(int OC, int K) { return (size_t)OC * K; }
static void ref_pack(int OC, int K, const float *w, float *wp) {
    memcpy(wp, w, (size_t)OC * K * sizeof *w);
}
static size_t ref_conv_scratch(const struct nn_conv_args *a) { return 0; }

static void ref_conv2d(const struct nn_conv_args *a, int ith, int nth) {
    int M = a->N * a->OH * a->OW, m0, m1;
    int DH = a->DH > 1 ? a->DH : 1, DW = a->DW > 1 ? a->DW : 1;
    nn_split(M, ith, nth, 1, &m0, &m1);
    // for each output pixel m: y[m, oc] = sum_{kh,kw,c} x[n, iy, ix, c] * w[oc, kh, kw, c],
    // iy = oy*SH - PT + kh*DH, ix = ox*SW - PL + kw*DW
    for (int m = m0; m < m1; m++) {
        int n = m / (a->OH * a->OW), r = m % (a->OH * a->OW), oy = r / a->OW, ox = r % a->OW;
        float *y = a->y + (size_t)m * a->OC;
        for (int oc = 0; oc < a->OC; oc++) {
            const float *w = a->w + (size_t)oc * a->KH * a->KW * a->C;
            float acc = 0;
            for (int kh = 0; kh < a->KH; kh++) {
                int iy = oy * a->SH - a->PT + kh * DH;
                if (iy < 0 || iy >= a->H) continue;
                for (int kw = 0; kw < a->KW; kw++) {
                    int ix = ox * a->SW - a->PL + kw * DW;
                    if (ix < 0 || ix >= a->W) continue;
                    const float *x = a->x + (((size_t)n * a->H + iy) * a->W + ix) * a->C;
                    const float *wk = w + ((size_t)kh * a->KW + kw) * a->C;
                    for (int c = 0; c < a->C; c++) acc += x[c] * wk[c];
                }
            }
            if (a->bias) acc += a->bias[oc];
            y[oc] = nn_act_apply(acc, a->act, a->alpha, oc);
        }
    }
}

static void ref_dwconv2d(const struct nn_dw_args *a, int ith, int nth) {
    int rows = a->N * a->OH, r0, r1;
    nn_split(rows, ith, nth, 1, &r0, &r1);
    // rows = (n, oy); y[n, oy, ox, c] = sum_{kh,kw} x[n, iy, ix, c] * w[kh, kw, c]
    for (int r = r0; r < r1; r++) {
        int n = r / a->OH, oy = r % a->OH;
        for (int ox = 0; ox < a->OW; ox++) {
            float *y = a->y + (((size_t)n * a->OH + oy) * a->OW + ox) * a->C;
            for (int c = 0; c < a->C; c++) {
                float acc = 0;
                for (int kh = 0; kh < a->KH; kh++) {
                    int iy = oy * a->SH - a->PT + kh;
                    if (iy < 0 || iy >= a->H) continue;
                    for (int kw = 0; kw < a->KW; kw++) {
                        int ix = ox * a->SW - a->PL + kw;
                        if (ix < 0 || ix >= a->W) continue;
                        acc += a->x[(((size_t)n * a->H + iy) * a->W + ix) * a->C + c] *
                               a->w[((size_t)kh * a->KW + kw) * a->C + c];
                    }
                }
                if (a->bias) acc += a->bias[c];
                y[c] = nn_act_apply(acc, a->act, a->alpha, c);
            }
        }
    }
}

static void ref_maxpool2d(const struct nn_pool_args *a, int ith, int nth) {
    int rows = a->N * a->OH, r0, r1;
    nn_split(rows, ith, nth, 1, &r0, &r1);
    for (int r = r0; r < r1; r++) {
        int n = r / a->OH, oy = r % a->OH;
        for (int ox = 0; ox < a->OW; ox++) {
            float *y = a->y + (((size_t)n * a->OH + oy) * a->OW + ox) * a->C;
            for (int c = 0; c < a->C; c++) y[c] = -FLT_MAX;
            for (int kh = 0; kh < a->KH; kh++) {
                int iy = oy * a->SH - a->PT + kh;
                if (iy < 0 || iy >= a->H) continue;
                for (int kw = 0; kw < a->KW; kw++) {
                    int ix = ox * a->SW - a->PL + kw;
                    if (ix < 0 || ix >= a->W) continue;
                    const float *x = a->x + (((size_t)n * a->H + iy) * a->W + ix) * a->C;
                    for (int c = 0; c < a->C; c++) y[c] = x[c] > y[c] ? x[c] : y[c];
                }
            }
        }
    }
}

static const struct nn_kern ref_table = {
    .name = "ref",
    .conv_pack_size = ref_pack_size,
    .conv_pack = ref_pack,
    .conv_scratch = ref_conv_scratch,
    .conv2d = ref_conv2d,
    .dwconv2d = ref_dwconv2d,
    .maxpool2d = ref_maxpool2d,
    .bn_fwd_train = nn_ref_bn_fwd_train,
    .bn_bwd = nn_ref_bn_bwd,
    .prelu_fwd = nn_ref_prelu_fwd,
    .prelu_bwd = nn_ref_prelu_bwd,
    .l2norm_fwd = nn_ref_l2norm_fwd,
    .l2norm_bwd = nn_ref_l2norm_bwd,
    .conv_bwd_scratch = nn_ref_conv_bwd_scratch,
    .conv2d_bwd_data = nn_ref_conv2d_bwd_data,
    .conv2d_bwd_filter = nn_ref_conv2d_bwd_filter,
    .dwconv2d_bwd_data = nn_ref_dwconv2d_bwd_data,
    .dwconv2d_bwd_filter = nn_ref_dwconv2d_bwd_filter,
    .i8_dot_rows = nn_ref_i8_dot_rows,
    .qconv_pack_size = nn_ref_qconv_pack_size,
    .qconv_pack = nn_ref_qconv_pack,
    .qconv_scratch = nn_ref_qconv_scratch,
    .qconv2d = nn_ref_qconv2d,
};

const struct nn_kern *nn_kern_ref(void) { return &ref_table; }
