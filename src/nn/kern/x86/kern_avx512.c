// SPDX-License-Identifier: MIT
// AVX-512 (F, BW, VL, DQ) kernels: built with those flags (Makefile), called only when
// the CPU has them (dispatch.c). The table is the AVX2 table with four slots replaced:
//
//  - conv2d: the AVX2 packing (panels of 16 output channels = one zmm), tiling and im2col
//    (kern_x86.h); a micro-kernel of up to 12 rows x 2 panels (24 zmm accumulators). A KxK
//    conv reads the interior of each output row in place (no im2col: conv_rows_direct);
//    only border pixels go through im2col.
//    Every output element is still acc = 0; acc = fma(a[k], b[k], acc) for k = 0..K-1;
//    + bias; act — the AVX2 kernel's sequence — so the results equal the AVX2 table's
//    bit for bit (tests/ops/test_kern.c checks it) and both stay within rounding of the
//    reference.
//  - maxpool2d: 16 channels per zmm, masked tails.
//  - dwconv2d: 16 channels per zmm (masked tails), the reference's tap order, runs of 8
//    or 4 interior pixels sharing each weight load: again the AVX2 kernel's arithmetic.
//  - qconv2d (int8): vpmaddwd on int16 pairs with 16 int32 lanes, the AVX2 int8 kernel's
//    packing and quantised im2col; the VNNI table (kern_avx512_vnni.c) uses vpdpbusd.
#include <float.h>
#include <immintrin.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "nn/kern/kern.h"
#include "nn/kern/kern_i8.h"
#include "nn/kern/x86/kern_x86.h"

#define NR 16
#define MR NN_X86_MR512

static inline __mmask16 lanes(int n) { return (__mmask16)(n >= 16 ? 0xffff : (1u << n) - 1); }

// bias + activation on 16 channels (k: valid lanes)
static inline __m512 bias_act16(__m512 v, __mmask16 k, const float *bias, int act, const float *alpha) {
    if (bias) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(k, bias));
    if (act == 1) return _mm512_max_ps(v, _mm512_setzero_ps()); // NaN -> 0, as the AVX2 max
    if (act == 2) {
        __mmask16 gt = _mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_GT_OQ);
        return _mm512_mask_blend_ps(gt, _mm512_mul_ps(_mm512_maskz_loadu_ps(k, alpha), v), v);
    }
    return v;
}

// ---- fp32 conv ---------------------------------------------------------------------------

// R rows (1..12) of A (lda apart) times P (1 or 2) panels starting at B (panels K*16 apart);
// ncol valid columns in the last panel
static inline __attribute__((always_inline)) void ukern(int R, int P, int K, const float *A, size_t lda,
                                                        const float *B, float *y, size_t ldy, int ncol,
                                                        const float *bias, int act, const float *alpha) {
    __m512 c[MR][2];
#pragma GCC unroll 12
    for (int r = 0; r < R; r++) c[r][0] = c[r][1] = _mm512_setzero_ps();
    const float *B1 = B + (size_t)K * NR;
    for (int k = 0; k < K; k++) {
        __m512 b0 = _mm512_loadu_ps(B + (size_t)k * NR);
        __m512 b1 = P == 2 ? _mm512_loadu_ps(B1 + (size_t)k * NR) : b0;
#pragma GCC unroll 12
        for (int r = 0; r < R; r++) {
            __m512 t = _mm512_set1_ps(A[(size_t)r * lda + k]);
            c[r][0] = _mm512_fmadd_ps(t, b0, c[r][0]);
            if (P == 2) c[r][1] = _mm512_fmadd_ps(t, b1, c[r][1]);
        }
    }
#pragma GCC unroll 12
    for (int r = 0; r < R; r++)
        for (int p = 0; p < P; p++) {
            int n = p == P - 1 ? ncol : NR;
            __mmask16 k = lanes(n);
            const float *bp = bias ? bias + p * NR : NULL, *ap = alpha ? alpha + p * NR : NULL;
            _mm512_mask_storeu_ps(y + (size_t)r * ldy + p * NR, k, bias_act16(c[r][p], k, bp, act, ap));
        }
}

// the rows of a tile in blocks of 12 (tails of 8, 4, 2, 1), P panels
static inline __attribute__((always_inline)) void rows_p(int P, int rows, int K, const float *A, size_t lda,
                                                         const float *B, float *y, size_t ldy, int ncol,
                                                         const float *bias, int act, const float *alpha) {
    int i = 0;
    for (; i + 12 <= rows; i += 12)
        ukern(12, P, K, A + i * lda, lda, B, y + i * ldy, ldy, ncol, bias, act, alpha);
    if (i + 8 <= rows) ukern(8, P, K, A + i * lda, lda, B, y + i * ldy, ldy, ncol, bias, act, alpha), i += 8;
    if (i + 4 <= rows) ukern(4, P, K, A + i * lda, lda, B, y + i * ldy, ldy, ncol, bias, act, alpha), i += 4;
    if (i + 2 <= rows) ukern(2, P, K, A + i * lda, lda, B, y + i * ldy, ldy, ncol, bias, act, alpha), i += 2;
    if (i < rows) ukern(1, P, K, A + i * lda, lda, B, y + i * ldy, ldy, ncol, bias, act, alpha);
}

// a tile's rows times panels [pa, pb), two at a time
static void conv_tile(const struct nn_conv_args *a, int K, const float *A, size_t lda, int rows, float *y,
                      int pa, int pb) {
    int OC = a->OC;
    const float *alpha = a->act == 2 ? a->alpha : NULL;
    for (int p = pa; p < pb;) {
        int P = p + 2 <= pb ? 2 : 1, oc0 = p * NR;
        int ncol = OC - (p + P - 1) * NR < NR ? OC - (p + P - 1) * NR : NR;
        const float *B = a->wp + (size_t)p * K * NR;
        const float *bias = a->bias ? a->bias + oc0 : NULL, *al = alpha ? alpha + oc0 : NULL;
        if (P == 2) rows_p(2, rows, K, A, lda, B, y + oc0, (size_t)OC, ncol, bias, a->act, al);
        else rows_p(1, rows, K, A, lda, B, y + oc0, (size_t)OC, ncol, bias, a->act, al);
        p += P;
    }
}

// ---- fp32 conv without im2col (KxK windows, no dilation) -----------------------------------
// For R output pixels ox..ox+R-1 of one output row whose every tap lies inside the input, the
// im2col row of pixel r at k = (kh*KW + kw)*C + c is x[n, iy0 + kh, ix0 + r*SW + kw, c]: read
// it in place. The k order, and so each element's FMA sequence, is im2col's: the results
// equal the im2col path (and the AVX2 table) bit for bit, without writing A.
struct drow {
    const float *x0;   // x at (n, iy0, ix0 of the block's first pixel, 0)
    size_t rs, ts;     // floats between the rows (pixels: SW*C), between kh rows (W*C)
};

static inline __attribute__((always_inline)) void dkern(int R, int P, const struct nn_conv_args *a,
                                                        const struct drow *d, const float *B, float *y,
                                                        size_t ldy, int ncol, const float *bias,
                                                        const float *alpha) {
    __m512 c[MR][2];
#pragma GCC unroll 12
    for (int r = 0; r < R; r++) c[r][0] = c[r][1] = _mm512_setzero_ps();
    const int C = a->C, K = a->KH * a->KW * C;
    const float *B1 = B + (size_t)K * NR;
    int k = 0;
    for (int kh = 0; kh < a->KH; kh++)
        for (int kw = 0; kw < a->KW; kw++) {
            const float *xt = d->x0 + (size_t)kh * d->ts + (size_t)kw * C;
            for (int ci = 0; ci < C; ci++, k++) {
                __m512 b0 = _mm512_loadu_ps(B + (size_t)k * NR);
                __m512 b1 = P == 2 ? _mm512_loadu_ps(B1 + (size_t)k * NR) : b0;
#pragma GCC unroll 12
                for (int r = 0; r < R; r++) {
                    __m512 t = _mm512_set1_ps(xt[(size_t)r * d->rs + ci]);
                    c[r][0] = _mm512_fmadd_ps(t, b0, c[r][0]);
                    if (P == 2) c[r][1] = _mm512_fmadd_ps(t, b1, c[r][1]);
                }
            }
        }
#pragma GCC unroll 12
    for (int r = 0; r < R; r++)
        for (int p = 0; p < P; p++) {
            __mmask16 m = lanes(p == P - 1 ? ncol : NR);
            _mm512_mask_storeu_ps(y + (size_t)r * ldy + p * NR, m,
                                  bias_act16(c[r][p], m, bias ? bias + p * NR : NULL, a->act,
                                             alpha ? alpha + p * NR : NULL));
        }
}

// R pixels (1..12) starting at d, every panel
static inline __attribute__((always_inline)) void drun(int R, const struct nn_conv_args *a, const struct drow *d,
                                                       float *y) {
    int np = (a->OC + NR - 1) / NR;
    const float *alpha = a->act == 2 ? a->alpha : NULL;
    size_t K = (size_t)a->KH * a->KW * a->C;
    for (int p = 0; p < np;) {
        int P = p + 2 <= np ? 2 : 1, oc0 = p * NR;
        int ncol = a->OC - (p + P - 1) * NR < NR ? a->OC - (p + P - 1) * NR : NR;
        const float *B = a->wp + (size_t)p * K * NR, *bias = a->bias ? a->bias + oc0 : NULL;
        const float *al = alpha ? alpha + oc0 : NULL;
        if (P == 2) dkern(R, 2, a, d, B, y + oc0, (size_t)a->OC, ncol, bias, al);
        else dkern(R, 1, a, d, B, y + oc0, (size_t)a->OC, ncol, bias, al);
        p += P;
    }
}

// output pixels [m, m + cnt) through im2col (the scratch holds tm rows)
static void im2col_rows(const struct nn_conv_args *a, int m, int cnt, float *A, int tm) {
    int K = a->KH * a->KW * a->C, np = (a->OC + NR - 1) / NR;
    for (int t = m; t < m + cnt; t += tm) {
        int rows = m + cnt - t < tm ? m + cnt - t : tm;
        nn_avx2_im2col(a, t, rows, A);
        conv_tile(a, K, A, (size_t)K, rows, a->y + (size_t)t * a->OC, 0, np);
    }
}

// rows [m0, m1) of a KxK conv: interior runs read in place, the border through im2col
static void conv_rows_direct(const struct nn_conv_args *a, int m0, int m1, float *A) {
    int ohw = a->OH * a->OW, tm = nn_avx2_conv_tm(a->KH * a->KW * a->C);
    int ox0 = (a->PL + a->SW - 1) / a->SW, ox1 = 0; // columns whose taps are all inside
    if (a->W - a->KW + a->PL >= 0) ox1 = (a->W - a->KW + a->PL) / a->SW + 1;
    if (ox1 > a->OW) ox1 = a->OW;
    if (ox0 > ox1) ox0 = ox1;
    for (int m = m0; m < m1;) {
        int n = m / ohw, oy = m % ohw / a->OW, ox = m % a->OW;
        int row_end = m - ox + a->OW < m1 ? m - ox + a->OW : m1;
        int iy0 = oy * a->SH - a->PT;
        if (iy0 < 0 || iy0 + a->KH > a->H || ox1 <= ox0) { // a border row: all through im2col
            im2col_rows(a, m, row_end - m, A, tm);
            m = row_end;
            continue;
        }
        int a0 = m - ox + ox0 > m ? m - ox + ox0 : m, a1 = m - ox + ox1 < row_end ? m - ox + ox1 : row_end;
        if (a1 < a0) a1 = a0;
        if (a0 > m) im2col_rows(a, m, a0 - m, A, tm);
        for (int q = a0; q < a1;) {
            int qx = q % a->OW, left = a1 - q;
            struct drow d = {a->x + (((size_t)n * a->H + iy0) * a->W + (size_t)(qx * a->SW - a->PL)) * a->C,
                             (size_t)a->SW * a->C, (size_t)a->W * a->C};
            float *y = a->y + (size_t)q * a->OC;
            int R = left >= 12 ? 12 : left >= 8 ? 8 : left >= 4 ? 4 : left >= 2 ? 2 : 1;
            if (R == 12) drun(12, a, &d, y);
            else if (R == 8) drun(8, a, &d, y);
            else if (R == 4) drun(4, a, &d, y);
            else if (R == 2) drun(2, a, &d, y);
            else drun(1, a, &d, y);
            q += R;
        }
        if (row_end > a1) im2col_rows(a, a1, row_end - a1, A, tm);
        m = row_end;
    }
}

static void avx512_conv2d(const struct nn_conv_args *a, int ith, int nth) {
    int M = a->N * a->OH * a->OW, K = a->KH * a->KW * a->C, m0, m1;
    int np = (a->OC + NR - 1) / NR;
    if (a->OC <= 0) return;
    int direct = nn_avx2_conv_direct(a);
    if (direct && nth > 1 && M < 6 * nth && np >= nth) { // few rows: split the channels
        int p0, p1;
        nn_split(np, ith, nth, 1, &p0, &p1);
        if (p0 < p1) conv_tile(a, K, a->x, (size_t)K, M, a->y, p0, p1);
        return;
    }
    nn_split(M, ith, nth, 6, &m0, &m1);
    if (m0 >= m1) return;
    int tm = nn_avx2_conv_tm(K);
    float *A = direct ? NULL : a->scratch + (size_t)ith * nn_avx2_conv_scratch(a);
    // in place when the output rows are long enough for 8-pixel blocks (short rows, as
    // R-Net's and O-Net's, run better as im2col tiles of many rows)
    if (!direct && a->DH <= 1 && a->DW <= 1 && a->OW >= 16) {
        conv_rows_direct(a, m0, m1, A);
        return;
    }
    for (int t = m0; t < m1; t += tm) {
        int rows = m1 - t < tm ? m1 - t : tm;
        const float *At = direct ? a->x + (size_t)t * K : A;
        if (!direct) nn_avx2_im2col(a, t, rows, A);
        conv_tile(a, K, At, (size_t)K, rows, a->y + (size_t)t * a->OC, 0, np);
    }
}

// ---- depthwise conv ----------------------------------------------------------------------

// one output pixel, channels [c, c + 16) (k: valid lanes); taps in reference order
static inline __m512 dw_pixel16(const struct nn_dw_args *a, int n, int oy, int ox, int c, __mmask16 k) {
    __m512 acc = _mm512_setzero_ps();
    for (int kh = 0; kh < a->KH; kh++) {
        int iy = oy * a->SH - a->PT + kh;
        if (iy < 0 || iy >= a->H) continue;
        const float *xr = a->x + ((size_t)n * a->H + iy) * a->W * a->C + c;
        const float *wr = a->w + (size_t)kh * a->KW * a->C + c;
        for (int kw = 0; kw < a->KW; kw++) {
            int ix = ox * a->SW - a->PL + kw;
            if (ix < 0 || ix >= a->W) continue;
            acc = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(k, xr + (size_t)ix * a->C),
                                  _mm512_maskz_loadu_ps(k, wr + (size_t)kw * a->C), acc);
        }
    }
    return acc;
}

static inline void dw_store16(const struct nn_dw_args *a, __m512 acc, float *y, int c, __mmask16 k) {
    const float *al = a->act == 2 ? a->alpha + c : NULL;
    _mm512_mask_storeu_ps(y, k, bias_act16(acc, k, a->bias ? a->bias + c : NULL, a->act, al));
}

// P adjacent interior pixels (every kw tap inside the row), channels [c, c + 16)
static inline __attribute__((always_inline)) void dw_run16(const struct nn_dw_args *a, int P, int n, int oy,
                                                           int ox, int c, __mmask16 k, float *y) {
    __m512 acc[8];
    size_t C = (size_t)a->C, sx = (size_t)a->SW * C;
#pragma GCC unroll 8
    for (int q = 0; q < P; q++) acc[q] = _mm512_setzero_ps();
    for (int kh = 0; kh < a->KH; kh++) {
        int iy = oy * a->SH - a->PT + kh;
        if (iy < 0 || iy >= a->H) continue;
        const float *xp = a->x + ((size_t)n * a->H + iy) * a->W * C + c + (size_t)(ox * a->SW - a->PL) * C;
        const float *wq = a->w + (size_t)kh * a->KW * C + c;
        for (int kw = 0; kw < a->KW; kw++, xp += C, wq += C) {
            __m512 wv = _mm512_maskz_loadu_ps(k, wq);
#pragma GCC unroll 8
            for (int q = 0; q < P; q++) acc[q] = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(k, xp + q * sx), wv, acc[q]);
        }
    }
#pragma GCC unroll 8
    for (int q = 0; q < P; q++) dw_store16(a, acc[q], y + q * C, c, k);
}

static void avx512_dwconv2d(const struct nn_dw_args *a, int ith, int nth) {
    int rows = a->N * a->OH, r0, r1, C = a->C;
    nn_split(rows, ith, nth, 1, &r0, &r1);
    int ox0 = (a->PL + a->SW - 1) / a->SW, ox1 = 0;
    if (a->W - a->KW + a->PL >= 0) ox1 = (a->W - a->KW + a->PL) / a->SW + 1;
    if (ox1 > a->OW) ox1 = a->OW;
    if (ox0 > ox1) ox0 = ox1;
    for (int r = r0; r < r1; r++) {
        int n = r / a->OH, oy = r % a->OH;
        float *yrow = a->y + (size_t)r * a->OW * C;
        int ox = 0;
        while (ox < a->OW) {
            int P = ox < ox0 ? 0 : ox + 8 <= ox1 ? 8 : ox + 4 <= ox1 ? 4 : 0;
            if (P == 0) {
                for (int c = 0; c < C; c += NR) {
                    __mmask16 k = lanes(C - c);
                    dw_store16(a, dw_pixel16(a, n, oy, ox, c, k), yrow + (size_t)ox * C + c, c, k);
                }
                ox++;
                continue;
            }
            for (int c = 0; c < C; c += NR) {
                __mmask16 k = lanes(C - c);
                if (P == 8) dw_run16(a, 8, n, oy, ox, c, k, yrow + (size_t)ox * C + c);
                else dw_run16(a, 4, n, oy, ox, c, k, yrow + (size_t)ox * C + c);
            }
            ox += P;
        }
    }
}

// ---- max pool: 16 channels per zmm, masked tails (max is exact: equal to every table) ------
static void avx512_maxpool2d(const struct nn_pool_args *a, int ith, int nth) {
    int rows = a->N * a->OH, r0, r1, C = a->C;
    nn_split(rows, ith, nth, 1, &r0, &r1);
    for (int r = r0; r < r1; r++) {
        int n = r / a->OH, oy = r % a->OH;
        int kh0, kh1;
        nn_pool_taps(oy, a->SH, a->PT, a->H, a->KH, &kh0, &kh1);
        for (int ox = 0; ox < a->OW; ox++) {
            int kw0, kw1;
            nn_pool_taps(ox, a->SW, a->PL, a->W, a->KW, &kw0, &kw1);
            float *y = a->y + (((size_t)n * a->OH + oy) * a->OW + ox) * C;
            for (int c = 0; c < C; c += NR) {
                __mmask16 k = lanes(C - c);
                __m512 m = _mm512_set1_ps(-FLT_MAX);
                for (int kh = kh0; kh < kh1; kh++) {
                    const float *xr = a->x + ((size_t)n * a->H + oy * a->SH - a->PT + kh) * a->W * C + c;
                    for (int kw = kw0; kw < kw1; kw++)
                        m = _mm512_max_ps(_mm512_maskz_loadu_ps(k, xr + (size_t)(ox * a->SW - a->PL + kw) * C), m);
                }
                _mm512_mask_storeu_ps(y + c, k, m);
            }
        }
    }
}

// ---- int8 conv: vpmaddwd on int16 pairs (the AVX2 int8 packing) ----------------------------

static inline void qstore16(__m512i acc, float *y, int n, const float *dq, const float *bias, int act,
                            const float *alpha) {
    __mmask16 k = lanes(n);
    __m512 v = _mm512_mul_ps(_mm512_cvtepi32_ps(acc), _mm512_maskz_loadu_ps(k, dq));
    _mm512_mask_storeu_ps(y, k, bias_act16(v, k, bias, act, alpha));
}

static inline __attribute__((always_inline)) void qukern(int R, int P, int Kp, const int16_t *A,
                                                         const int16_t *B, float *y, size_t ldy, int ncol,
                                                         const float *dq, const float *bias, int act,
                                                         const float *alpha) {
    __m512i c[MR][2];
#pragma GCC unroll 12
    for (int r = 0; r < R; r++) c[r][0] = c[r][1] = _mm512_setzero_si512();
    const int16_t *B1 = B + (size_t)Kp * NR;
    for (int kk = 0; kk < Kp / 2; kk++) {
        __m512i b0 = _mm512_loadu_si512(B + (size_t)kk * 32);
        __m512i b1 = P == 2 ? _mm512_loadu_si512(B1 + (size_t)kk * 32) : b0;
#pragma GCC unroll 12
        for (int r = 0; r < R; r++) {
            int32_t pair;
            memcpy(&pair, A + (size_t)r * Kp + 2 * kk, 4);
            __m512i t = _mm512_set1_epi32(pair);
            c[r][0] = _mm512_add_epi32(c[r][0], _mm512_madd_epi16(t, b0));
            if (P == 2) c[r][1] = _mm512_add_epi32(c[r][1], _mm512_madd_epi16(t, b1));
        }
    }
#pragma GCC unroll 12
    for (int r = 0; r < R; r++)
        for (int p = 0; p < P; p++)
            qstore16(c[r][p], y + (size_t)r * ldy + p * NR, p == P - 1 ? ncol : NR, dq + p * NR,
                     bias ? bias + p * NR : NULL, act, alpha ? alpha + p * NR : NULL);
}

static inline __attribute__((always_inline)) void qrows_p(int P, int rows, int Kp, const int16_t *A,
                                                          const int16_t *B, float *y, size_t ldy, int ncol,
                                                          const float *dq, const float *bias, int act,
                                                          const float *alpha) {
    int i = 0;
    for (; i + 12 <= rows; i += 12)
        qukern(12, P, Kp, A + (size_t)i * Kp, B, y + i * ldy, ldy, ncol, dq, bias, act, alpha);
    if (i + 8 <= rows) qukern(8, P, Kp, A + (size_t)i * Kp, B, y + i * ldy, ldy, ncol, dq, bias, act, alpha), i += 8;
    if (i + 4 <= rows) qukern(4, P, Kp, A + (size_t)i * Kp, B, y + i * ldy, ldy, ncol, dq, bias, act, alpha), i += 4;
    if (i + 2 <= rows) qukern(2, P, Kp, A + (size_t)i * Kp, B, y + i * ldy, ldy, ncol, dq, bias, act, alpha), i += 2;
    if (i < rows) qukern(1, P, Kp, A + (size_t)i * Kp, B, y + i * ldy, ldy, ncol, dq, bias, act, alpha);
}

static void qtile(const struct nn_qconv_args *a, int Kp, const int16_t *A, int rows, float *y, int pa, int pb) {
    const float *alpha = a->act == 2 ? a->alpha : NULL;
    for (int p = pa; p < pb;) {
        int P = p + 2 <= pb ? 2 : 1, oc0 = p * NR;
        int ncol = a->OC - (p + P - 1) * NR < NR ? a->OC - (p + P - 1) * NR : NR;
        const int16_t *B = (const int16_t *)a->wp + (size_t)p * Kp * NR;
        const float *bias = a->bias ? a->bias + oc0 : NULL, *al = alpha ? alpha + oc0 : NULL;
        if (P == 2) qrows_p(2, rows, Kp, A, B, y + oc0, (size_t)a->OC, ncol, a->dq + oc0, bias, a->act, al);
        else qrows_p(1, rows, Kp, A, B, y + oc0, (size_t)a->OC, ncol, a->dq + oc0, bias, a->act, al);
        p += P;
    }
}

static void avx512_qconv2d(const struct nn_qconv_args *a, int ith, int nth) {
    int M = a->N * a->OH * a->OW, K = a->KH * a->KW * a->C, Kp = (K + 1) & ~1, m0, m1;
    int np = (a->OC + NR - 1) / NR, tm = nn_q16_tile_rows(Kp);
    int16_t *A = (int16_t *)((char *)a->scratch + (size_t)ith * nn_avx2_qconv_scratch(a));
    if (a->OC <= 0) return;
    if (nth > 1 && M < 6 * nth && M <= tm && np >= nth) {
        int p0, p1;
        nn_split(np, ith, nth, 1, &p0, &p1);
        if (p0 >= p1) return;
        nn_avx2_q16_im2col(a, 0, M, A);
        qtile(a, Kp, A, M, a->y, p0, p1);
        return;
    }
    nn_split(M, ith, nth, 6, &m0, &m1);
    for (int t = m0; t < m1; t += tm) {
        int rows = m1 - t < tm ? m1 - t : tm;
        nn_avx2_q16_im2col(a, t, rows, A);
        qtile(a, Kp, A, rows, a->y + (size_t)t * a->OC, 0, np);
    }
}

// ---- the tables ------------------------------------------------------------------------------

static struct nn_kern avx512_table, vnni_table;
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

static void tables_init(void) {
    avx512_table = *nn_kern_avx2_table();
    avx512_table.name = "avx512";
    avx512_table.conv2d = avx512_conv2d;
    avx512_table.dwconv2d = avx512_dwconv2d;
    avx512_table.maxpool2d = avx512_maxpool2d;
    avx512_table.qconv2d = avx512_qconv2d; // packing and scratch: the AVX2 int8 kernel's
    vnni_table = avx512_table;
    vnni_table.name = "avx512vnni";
    vnni_table.qconv_pack_size = nn_vnni_qconv_pack_size;
    vnni_table.qconv_pack = nn_vnni_qconv_pack;
    vnni_table.qconv_scratch = nn_vnni_qconv_scratch;
    vnni_table.qconv2d = nn_vnni_qconv2d;
}

const struct nn_kern *nn_kern_avx512_table(int vnni) {
    pthread_once(&tables_once, tables_init);
    return vnni ? &vnni_table : &avx512_table;
}
