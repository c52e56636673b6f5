// SPDX-License-Identifier: MIT
// AVX2+FMA kernels for the slots of struct nn_kern (this file alone is built with
// -mavx2 -mfma; dispatch.c only calls it when the CPU has both).
//
// conv2d is a GEMM: A = im2col rows (M = N*OH*OW output pixels, K = KH*KW*C), B = the
// filter packed by conv_pack into panels of 16 output channels (K rows of 16 floats,
// zero-padded past OC), C = y (M, OC). For a 1x1/stride-1/no-pad conv A is the input
// itself. A thread owns rows [m0, m1) of M (nn_split, MR-aligned) and walks them in
// tiles of TM rows; per tile, per panel, an MR x 16 FMA micro-kernel.
//
// Determinism (STYLE B.8): every output element is computed by the same sequence
// acc = 0; acc = fma(a[k], b[k], acc) for k = 0..K-1; acc += bias; act — whether it
// lands in a full MR-row block, a tail block, a full or partial 16-column panel — so
// results are bit-identical for any nth and any tile boundary. The padding cells of
// im2col are zeros, so fma adds an exact 0 there (the reference skips them; the only
// differences are the sign of a zero sum, and NaN instead of a finite value if a
// weight is inf/NaN).
//
// dwconv2d and maxpool2d vectorise over channels (8 per ymm, masked tails) and keep
// the reference's tap order (kh, then kw, skipping cells outside the input). dwconv
// does interior pixels in runs of 8 or 4 (one weight load per tap for all of them)
// and edge pixels one at a time; the taps and their order per element are the same.
// Non-goals: K-blocking, other layouts. kern_avx512.c reuses the packing, the tiling and
// im2col (kern_x86.h) with 16-wide registers and gives the same results bit for bit.
#include <float.h>
#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#include "nn/kern/kern.h"
#include "nn/kern/kern_chan.h"
#include "nn/kern/kern_i8.h"
#include "nn/kern/x86/kern_avx2_bwd.h"
#include "nn/kern/x86/kern_x86.h"

const struct nn_kern *nn_kern_avx2_table(void);

#define NR 16 // output channels per packed panel (2 ymm)
#define MR 6  // rows of the conv micro-kernel (12 accumulators + 2 B + 1 A register)

// ---- helpers -------------------------------------------------------------------------

// lanes [0, n) set, n in 0..8
static inline __m256i tail_mask(int n) {
    static const int32_t m[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
    return _mm256_loadu_si256((const __m256i *)(m + 8 - n));
}

// activation on 8 channels; alpha points at the first of those 8 (full vector) or is
// loaded masked by the caller
static inline __m256 act8(__m256 v, int act, __m256 alpha) {
    if (act == 1) return _mm256_max_ps(v, _mm256_setzero_ps()); // v > 0 ? v : 0 (NaN -> 0)
    if (act == 2) {
        __m256 gt = _mm256_cmp_ps(v, _mm256_setzero_ps(), _CMP_GT_OQ);
        return _mm256_blendv_ps(_mm256_mul_ps(alpha, v), v, gt);
    }
    return v;
}

// ---- conv: packing -------------------------------------------------------------------

static size_t avx2_pack_size(int OC, int K) {
    return (size_t)((OC + NR - 1) / NR) * NR * (size_t)K;
}

// wp[p][k][j] = w[p*16 + j][k], zero for p*16 + j >= OC. Each panel is K*16 floats, a
// multiple of 64 bytes, so panels stay as aligned as wp.
static void avx2_pack(int OC, int K, const float *w, float *wp) {
    int np = (OC + NR - 1) / NR;
    for (int p = 0; p < np; p++) {
        float *d = wp + (size_t)p * K * NR;
        for (int k = 0; k < K; k++)
            for (int j = 0; j < NR; j++) {
                int oc = p * NR + j;
                d[(size_t)k * NR + j] = oc < OC ? w[(size_t)oc * K + k] : 0.0f;
            }
    }
}

// ---- conv: tiling --------------------------------------------------------------------

int nn_avx2_conv_direct(const struct nn_conv_args *a) {
    return a->KH == 1 && a->KW == 1 && a->DH <= 1 && a->DW <= 1 && a->SH == 1 && a->SW == 1 && a->PT == 0 &&
           a->PL == 0 && a->OH == a->H && a->OW == a->W;
}

// rows per im2col tile: about 64 KiB of A, a multiple of MR, 6..96 rows. Any value
// gives the same results (see the file comment); this only trades cache for overhead.
int nn_avx2_conv_tm(int K) {
    int tm = (16384 / (K > 0 ? K : 1)) / MR * MR;
    if (tm < MR) tm = MR;
    if (tm > 16 * MR) tm = 16 * MR;
    return tm;
}

size_t nn_avx2_conv_scratch(const struct nn_conv_args *a) {
    if (nn_avx2_conv_direct(a)) return 0;
    size_t K = (size_t)a->KH * a->KW * a->C;
    size_t n = (size_t)nn_avx2_conv_tm((int)K) * K + 8; // + slack for copy_f/zero_f
    return (n + 15) / 16 * 16; // keep every thread's slice 64-byte aligned
}

// short copies/clears for im2col, inline (a libc call per 3..100 floats costs more
// than the copy). They may write up to 7 floats of zeros past d + n: im2col fills A
// in increasing address order, so the next write covers them, and conv_scratch
// leaves 8 floats of slack after the tile. Source reads stay within [s, s + n).
static inline void copy_f(float *d, const float *s, int n) {
    int i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(d + i, _mm256_loadu_ps(s + i));
    if (i < n) _mm256_storeu_ps(d + i, _mm256_maskload_ps(s + i, tail_mask(n - i)));
}
static inline void zero_f(float *d, int n) {
    for (int i = 0; i < n; i += 8) _mm256_storeu_ps(d + i, _mm256_setzero_ps());
}

// im2col of a dilated conv: taps are DH / DW cells apart, so each is its own copy of C
// floats or C zeros (in increasing address order, as copy_f/zero_f need)
static void im2col_dilated(const struct nn_conv_args *a, int m0, int rows, float *A) {
    int C = a->C, K = a->KH * a->KW * C, ohw = a->OH * a->OW;
    int DH = a->DH > 1 ? a->DH : 1, DW = a->DW > 1 ? a->DW : 1;
    for (int i = 0; i < rows; i++) {
        int m = m0 + i, n = m / ohw, r = m % ohw, oy = r / a->OW, ox = r % a->OW;
        float *d = A + (size_t)i * K;
        for (int kh = 0; kh < a->KH; kh++) {
            int iy = oy * a->SH - a->PT + kh * DH;
            for (int kw = 0; kw < a->KW; kw++, d += C) {
                int ix = ox * a->SW - a->PL + kw * DW;
                if (iy < 0 || iy >= a->H || ix < 0 || ix >= a->W) zero_f(d, C);
                else copy_f(d, a->x + (((size_t)n * a->H + iy) * a->W + ix) * C, C);
            }
        }
    }
}

// rows [m0, m0 + rows) of the im2col matrix into A (rows of K floats)
void nn_avx2_im2col(const struct nn_conv_args *a, int m0, int rows, float *A) {
    int C = a->C, K = a->KH * a->KW * C, ohw = a->OH * a->OW, KWC = a->KW * C;
    if (a->DH > 1 || a->DW > 1) {
        im2col_dilated(a, m0, rows, A);
        return;
    }
    for (int i = 0; i < rows; i++) {
        int m = m0 + i, n = m / ohw, r = m % ohw, oy = r / a->OW, ox = r % a->OW;
        float *d = A + (size_t)i * K;
        // the kw taps of one kh are adjacent input cells: zeros, one copy, zeros
        int ix0, kw0, kw1;
        nn_im2col_span(ox, a->SW, a->PL, a->W, a->KW, &ix0, &kw0, &kw1);
        for (int kh = 0; kh < a->KH; kh++, d += KWC) {
            int iy = oy * a->SH - a->PT + kh;
            if (iy < 0 || iy >= a->H) {
                zero_f(d, KWC);
                continue;
            }
            zero_f(d, kw0 * C);
            if (kw1 > kw0)
                copy_f(d + kw0 * C, a->x + (((size_t)n * a->H + iy) * a->W + ix0 + kw0) * C,
                       (kw1 - kw0) * C);
            zero_f(d + kw1 * C, (a->KW - kw1) * C);
        }
    }
}

// bias + activation + store of one row's 16 accumulators into y (ncol valid columns)
static inline void conv_store_row(__m256 c0, __m256 c1, float *y, int ncol, const float *bias,
                                  int act, const float *alpha) {
    if (ncol == NR) {
        if (bias) {
            c0 = _mm256_add_ps(c0, _mm256_loadu_ps(bias));
            c1 = _mm256_add_ps(c1, _mm256_loadu_ps(bias + 8));
        }
        if (act == 2) {
            c0 = act8(c0, act, _mm256_loadu_ps(alpha));
            c1 = act8(c1, act, _mm256_loadu_ps(alpha + 8));
        } else {
            c0 = act8(c0, act, c0);
            c1 = act8(c1, act, c1);
        }
        _mm256_storeu_ps(y, c0);
        _mm256_storeu_ps(y + 8, c1);
        return;
    }
    int n0 = ncol < 8 ? ncol : 8, n1 = ncol - n0;
    __m256i k0 = tail_mask(n0), k1 = tail_mask(n1);
    if (bias) {
        c0 = _mm256_add_ps(c0, _mm256_maskload_ps(bias, k0));
        c1 = _mm256_add_ps(c1, _mm256_maskload_ps(bias + 8, k1));
    }
    if (act == 2) {
        c0 = act8(c0, act, _mm256_maskload_ps(alpha, k0));
        c1 = act8(c1, act, _mm256_maskload_ps(alpha + 8, k1));
    } else {
        c0 = act8(c0, act, c0);
        c1 = act8(c1, act, c1);
    }
    _mm256_maskstore_ps(y, k0, c0);
    _mm256_maskstore_ps(y + 8, k1, c1);
}

// y[i][0..ncol) for i < MR = act(bias + sum_k A[i][k] * B[k][.]); A rows lda apart,
// y rows ldy apart, B a packed panel (K rows of 16).
static void ukern_6x16(int K, const float *A, size_t lda, const float *B, float *y, size_t ldy,
                       int ncol, const float *bias, int act, const float *alpha) {
    __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps();
    __m256 c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
    __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps();
    __m256 c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
    __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps();
    __m256 c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
    const float *a0 = A, *a1 = A + lda, *a2 = A + 2 * lda, *a3 = A + 3 * lda,
                *a4 = A + 4 * lda, *a5 = A + 5 * lda;
    for (int k = 0; k < K; k++) {
        __m256 b0 = _mm256_loadu_ps(B + (size_t)k * NR), b1 = _mm256_loadu_ps(B + (size_t)k * NR + 8);
        __m256 t;
        t = _mm256_broadcast_ss(a0 + k);
        c00 = _mm256_fmadd_ps(t, b0, c00);
        c01 = _mm256_fmadd_ps(t, b1, c01);
        t = _mm256_broadcast_ss(a1 + k);
        c10 = _mm256_fmadd_ps(t, b0, c10);
        c11 = _mm256_fmadd_ps(t, b1, c11);
        t = _mm256_broadcast_ss(a2 + k);
        c20 = _mm256_fmadd_ps(t, b0, c20);
        c21 = _mm256_fmadd_ps(t, b1, c21);
        t = _mm256_broadcast_ss(a3 + k);
        c30 = _mm256_fmadd_ps(t, b0, c30);
        c31 = _mm256_fmadd_ps(t, b1, c31);
        t = _mm256_broadcast_ss(a4 + k);
        c40 = _mm256_fmadd_ps(t, b0, c40);
        c41 = _mm256_fmadd_ps(t, b1, c41);
        t = _mm256_broadcast_ss(a5 + k);
        c50 = _mm256_fmadd_ps(t, b0, c50);
        c51 = _mm256_fmadd_ps(t, b1, c51);
    }
    conv_store_row(c00, c01, y, ncol, bias, act, alpha);
    conv_store_row(c10, c11, y + ldy, ncol, bias, act, alpha);
    conv_store_row(c20, c21, y + 2 * ldy, ncol, bias, act, alpha);
    conv_store_row(c30, c31, y + 3 * ldy, ncol, bias, act, alpha);
    conv_store_row(c40, c41, y + 4 * ldy, ncol, bias, act, alpha);
    conv_store_row(c50, c51, y + 5 * ldy, ncol, bias, act, alpha);
}

// the same per element as ukern_6x16, for 2 rows (tails: 1..5 rows = pairs + a single)
static void ukern_2x16(int K, const float *A, size_t lda, const float *B, float *y, size_t ldy,
                       int ncol, const float *bias, int act, const float *alpha) {
    __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps();
    __m256 c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
    const float *a0 = A, *a1 = A + lda;
    for (int k = 0; k < K; k++) {
        __m256 b0 = _mm256_loadu_ps(B + (size_t)k * NR), b1 = _mm256_loadu_ps(B + (size_t)k * NR + 8);
        __m256 t = _mm256_broadcast_ss(a0 + k);
        c00 = _mm256_fmadd_ps(t, b0, c00);
        c01 = _mm256_fmadd_ps(t, b1, c01);
        t = _mm256_broadcast_ss(a1 + k);
        c10 = _mm256_fmadd_ps(t, b0, c10);
        c11 = _mm256_fmadd_ps(t, b1, c11);
    }
    conv_store_row(c00, c01, y, ncol, bias, act, alpha);
    conv_store_row(c10, c11, y + ldy, ncol, bias, act, alpha);
}

static void ukern_1x16(int K, const float *A, const float *B, float *y, int ncol,
                       const float *bias, int act, const float *alpha) {
    __m256 c0 = _mm256_setzero_ps(), c1 = _mm256_setzero_ps();
    for (int k = 0; k < K; k++) {
        __m256 t = _mm256_broadcast_ss(A + k);
        c0 = _mm256_fmadd_ps(t, _mm256_loadu_ps(B + (size_t)k * NR), c0);
        c1 = _mm256_fmadd_ps(t, _mm256_loadu_ps(B + (size_t)k * NR + 8), c1);
    }
    conv_store_row(c0, c1, y, ncol, bias, act, alpha);
}

// y rows [0, rows) of a tile: A (rows x K, lda) times panels [pa, pb)
static void conv_tile(const struct nn_conv_args *a, int K, const float *A, size_t lda, int rows,
                      float *y, int pa, int pb) {
    int OC = a->OC;
    const float *alpha = a->act == 2 ? a->alpha : NULL;
    for (int p = pa; p < pb; p++) {
        const float *B = a->wp + (size_t)p * K * NR;
        int oc0 = p * NR, ncol = OC - oc0 < NR ? OC - oc0 : NR;
        const float *bias = a->bias ? a->bias + oc0 : NULL;
        const float *al = alpha ? alpha + oc0 : NULL;
        int i = 0;
        for (; i + MR <= rows; i += MR)
            ukern_6x16(K, A + i * lda, lda, B, y + (size_t)i * OC + oc0, (size_t)OC, ncol, bias,
                       a->act, al);
        for (; i + 2 <= rows; i += 2)
            ukern_2x16(K, A + i * lda, lda, B, y + (size_t)i * OC + oc0, (size_t)OC, ncol, bias,
                       a->act, al);
        if (i < rows) ukern_1x16(K, A + i * lda, B, y + (size_t)i * OC + oc0, ncol, bias, a->act, al);
    }
}

static void avx2_conv2d(const struct nn_conv_args *a, int ith, int nth) {
    int M = a->N * a->OH * a->OW, K = a->KH * a->KW * a->C, m0, m1;
    int np = (a->OC + NR - 1) / NR;
    if (a->OC <= 0) return;
    // Few rows (an FC layer at batch 1, a 1x1 conv after global pooling): split the output
    // channels instead, so every thread works. Each element still goes through the same
    // micro-kernel arithmetic as in a single-threaded run.
    if (nn_avx2_conv_direct(a) && nth > 1 && M < MR * nth && np >= nth) {
        int p0, p1;
        nn_split(np, ith, nth, 1, &p0, &p1);
        if (p0 < p1) conv_tile(a, K, a->x, (size_t)K, M, a->y, p0, p1);
        return;
    }
    nn_split(M, ith, nth, MR, &m0, &m1);
    if (m0 >= m1) return;
    int tm = nn_avx2_conv_tm(K);
    if (nn_avx2_conv_direct(a)) {
        for (int t = m0; t < m1; t += tm) {
            int rows = m1 - t < tm ? m1 - t : tm;
            conv_tile(a, K, a->x + (size_t)t * K, (size_t)K, rows, a->y + (size_t)t * a->OC, 0, np);
        }
        return;
    }
    float *A = a->scratch + (size_t)ith * nn_avx2_conv_scratch(a);
    for (int t = m0; t < m1; t += tm) {
        int rows = m1 - t < tm ? m1 - t : tm;
        nn_avx2_im2col(a, t, rows, A);
        conv_tile(a, K, A, (size_t)K, rows, a->y + (size_t)t * a->OC, 0, np);
    }
}

// ---- depthwise conv --------------------------------------------------------------------

// one output pixel, channels [c, c+8) (mask km for the tail); taps in reference order
static inline __m256 dw_pixel8(const struct nn_dw_args *a, int n, int oy, int ox, int c,
                               __m256i km, int full) {
    __m256 acc = _mm256_setzero_ps();
    for (int kh = 0; kh < a->KH; kh++) {
        int iy = oy * a->SH - a->PT + kh;
        if (iy < 0 || iy >= a->H) continue;
        const float *xr = a->x + ((size_t)n * a->H + iy) * a->W * a->C + c;
        const float *wr = a->w + (size_t)kh * a->KW * a->C + c;
        for (int kw = 0; kw < a->KW; kw++) {
            int ix = ox * a->SW - a->PL + kw;
            if (ix < 0 || ix >= a->W) continue;
            const float *xp = xr + (size_t)ix * a->C, *wq = wr + (size_t)kw * a->C;
            __m256 xv = full ? _mm256_loadu_ps(xp) : _mm256_maskload_ps(xp, km);
            __m256 wv = full ? _mm256_loadu_ps(wq) : _mm256_maskload_ps(wq, km);
            acc = _mm256_fmadd_ps(xv, wv, acc);
        }
    }
    return acc;
}

static inline void dw_finish8(const struct nn_dw_args *a, __m256 acc, float *y, int c, __m256i km,
                              int full) {
    if (a->bias) acc = _mm256_add_ps(acc, full ? _mm256_loadu_ps(a->bias + c)
                                              : _mm256_maskload_ps(a->bias + c, km));
    if (a->act == 2)
        acc = act8(acc, 2, full ? _mm256_loadu_ps(a->alpha + c) : _mm256_maskload_ps(a->alpha + c, km));
    else
        acc = act8(acc, a->act, acc);
    if (full) _mm256_storeu_ps(y, acc);
    else _mm256_maskstore_ps(y, km, acc);
}

// P adjacent output pixels ox..ox+P-1 (P = 8 or 4) whose every kw tap is inside the
// row: one w load serves P independent FMA chains. Per element the arithmetic is
// identical to dw_pixel8 (same taps, same order).
static inline __attribute__((always_inline)) void dw_run8(const struct nn_dw_args *a, int P,
                                                          int n, int oy, int ox, int c,
                                                          float *y) {
    __m256 acc[8];
    size_t C = (size_t)a->C, sx = (size_t)a->SW * C;
#pragma GCC unroll 8
    for (int q = 0; q < P; q++) acc[q] = _mm256_setzero_ps();
    for (int kh = 0; kh < a->KH; kh++) {
        int iy = oy * a->SH - a->PT + kh;
        if (iy < 0 || iy >= a->H) continue;
        const float *xp = a->x + ((size_t)n * a->H + iy) * a->W * C + c +
                          (size_t)(ox * a->SW - a->PL) * C;
        const float *wq = a->w + (size_t)kh * a->KW * C + c;
        for (int kw = 0; kw < a->KW; kw++, xp += C, wq += C) {
            __m256 wv = _mm256_loadu_ps(wq);
#pragma GCC unroll 8
            for (int q = 0; q < P; q++)
                acc[q] = _mm256_fmadd_ps(_mm256_loadu_ps(xp + q * sx), wv, acc[q]);
        }
    }
    __m256i km = tail_mask(8);
#pragma GCC unroll 8
    for (int q = 0; q < P; q++) dw_finish8(a, acc[q], y + q * C, c, km, 1);
}

// one output pixel, 4 channel blocks [c, c+32) at once (4 independent FMA chains)
static inline void dw_pixel32(const struct nn_dw_args *a, int n, int oy, int ox, int c, float *y) {
    __m256 c0 = _mm256_setzero_ps(), c1 = c0, c2 = c0, c3 = c0;
    for (int kh = 0; kh < a->KH; kh++) {
        int iy = oy * a->SH - a->PT + kh;
        if (iy < 0 || iy >= a->H) continue;
        const float *xr = a->x + ((size_t)n * a->H + iy) * a->W * a->C + c;
        const float *wr = a->w + (size_t)kh * a->KW * a->C + c;
        for (int kw = 0; kw < a->KW; kw++) {
            int ix = ox * a->SW - a->PL + kw;
            if (ix < 0 || ix >= a->W) continue;
            const float *xp = xr + (size_t)ix * a->C, *wq = wr + (size_t)kw * a->C;
            c0 = _mm256_fmadd_ps(_mm256_loadu_ps(xp), _mm256_loadu_ps(wq), c0);
            c1 = _mm256_fmadd_ps(_mm256_loadu_ps(xp + 8), _mm256_loadu_ps(wq + 8), c1);
            c2 = _mm256_fmadd_ps(_mm256_loadu_ps(xp + 16), _mm256_loadu_ps(wq + 16), c2);
            c3 = _mm256_fmadd_ps(_mm256_loadu_ps(xp + 24), _mm256_loadu_ps(wq + 24), c3);
        }
    }
    __m256i km = tail_mask(8);
    dw_finish8(a, c0, y, c, km, 1);
    dw_finish8(a, c1, y + 8, c + 8, km, 1);
    dw_finish8(a, c2, y + 16, c + 16, km, 1);
    dw_finish8(a, c3, y + 24, c + 24, km, 1);
}

// all channels of one output pixel
static void dw_pixel(const struct nn_dw_args *a, int n, int oy, int ox, float *y, __m256i ktail) {
    int C = a->C, cfull = C / 8 * 8, c = 0;
    for (; c + 32 <= cfull; c += 32) dw_pixel32(a, n, oy, ox, c, y + c);
    for (; c < cfull; c += 8) dw_finish8(a, dw_pixel8(a, n, oy, ox, c, ktail, 1), y + c, c, ktail, 1);
    if (cfull < C) dw_finish8(a, dw_pixel8(a, n, oy, ox, cfull, ktail, 0), y + cfull, cfull, ktail, 0);
}

static void avx2_dwconv2d(const struct nn_dw_args *a, int ith, int nth) {
    int rows = a->N * a->OH, r0, r1, C = a->C;
    nn_split(rows, ith, nth, 1, &r0, &r1);
    // ox range [ox0, ox1) where all kw taps are inside the input row
    int ox0 = (a->PL + a->SW - 1) / a->SW, ox1 = 0;
    if (a->W - a->KW + a->PL >= 0) ox1 = (a->W - a->KW + a->PL) / a->SW + 1;
    if (ox1 > a->OW) ox1 = a->OW;
    if (ox0 > ox1) ox0 = ox1;
    int cfull = C / 8 * 8;
    __m256i ktail = tail_mask(C - cfull);
    for (int r = r0; r < r1; r++) {
        int n = r / a->OH, oy = r % a->OH;
        float *yrow = a->y + (size_t)r * a->OW * C;
        int ox = 0;
        while (ox < a->OW) {
            int P = ox < ox0 ? 0 : ox + 8 <= ox1 ? 8 : ox + 4 <= ox1 ? 4 : 0;
            if (P == 0) { // edge (or short interior): one pixel, taps checked
                dw_pixel(a, n, oy, ox, yrow + (size_t)ox * C, ktail);
                ox++;
                continue;
            }
            for (int c = 0; c < cfull; c += 8) {
                if (P == 8) dw_run8(a, 8, n, oy, ox, c, yrow + (size_t)ox * C + c);
                else dw_run8(a, 4, n, oy, ox, c, yrow + (size_t)ox * C + c);
            }
            if (cfull < C)
                for (int q = 0; q < P; q++)
                    dw_finish8(a, dw_pixel8(a, n, oy, ox + q, cfull, ktail, 0),
                               yrow + (size_t)(ox + q) * C + cfull, cfull, ktail, 0);
            ox += P;
        }
    }
}

// ---- max pool ----------------------------------------------------------------------------

static void avx2_maxpool2d(const struct nn_pool_args *a, int ith, int nth) {
    int rows = a->N * a->OH, r0, r1, C = a->C, cfull = C / 8 * 8;
    nn_split(rows, ith, nth, 1, &r0, &r1);
    __m256i kt = tail_mask(C - cfull);
    for (int r = r0; r < r1; r++) {
        int n = r / a->OH, oy = r % a->OH;
        int kh0, kh1;
        nn_pool_taps(oy, a->SH, a->PT, a->H, a->KH, &kh0, &kh1);
        for (int ox = 0; ox < a->OW; ox++) {
            int kw0, kw1;
            nn_pool_taps(ox, a->SW, a->PL, a->W, a->KW, &kw0, &kw1);
            float *y = a->y + (((size_t)n * a->OH + oy) * a->OW + ox) * C;
            for (int c = 0; c < C; c += 8) {
                int full = c < cfull;
                __m256 m = _mm256_set1_ps(-FLT_MAX);
                for (int kh = kh0; kh < kh1; kh++) {
                    int iy = oy * a->SH - a->PT + kh;
                    const float *xr = a->x + ((size_t)n * a->H + iy) * a->W * C + c;
                    for (int kw = kw0; kw < kw1; kw++) {
                        const float *xp = xr + (size_t)(ox * a->SW - a->PL + kw) * C;
                        __m256 v = full ? _mm256_loadu_ps(xp) : _mm256_maskload_ps(xp, kt);
                        m = _mm256_max_ps(v, m); // v > m ? v : m, as the reference
                    }
                }
                if (full) _mm256_storeu_ps(y + c, m);
                else _mm256_maskstore_ps(y + c, kt, m);
            }
        }
    }
}

static const struct nn_kern avx2_table = {
    .name = "avx2",
    .conv_pack_size = avx2_pack_size,
    .conv_pack = avx2_pack,
    .conv_scratch = nn_avx2_conv_scratch,
    .conv2d = avx2_conv2d,
    .dwconv2d = avx2_dwconv2d,
    .maxpool2d = avx2_maxpool2d,
    .bn_fwd_train = nn_avx2_bn_fwd_train,
    .bn_bwd = nn_avx2_bn_bwd,
    .prelu_fwd = nn_avx2_prelu_fwd,
    .prelu_bwd = nn_avx2_prelu_bwd,
    .l2norm_fwd = nn_avx2_l2norm_fwd,
    .l2norm_bwd = nn_avx2_l2norm_bwd,
    .conv_bwd_scratch = nn_avx2_conv_bwd_scratch,
    .conv2d_bwd_data = nn_avx2_conv2d_bwd_data,
    .conv2d_bwd_filter = nn_avx2_conv2d_bwd_filter,
    .dwconv2d_bwd_data = nn_avx2_dwconv2d_bwd_data,
    .dwconv2d_bwd_filter = nn_avx2_dwconv2d_bwd_filter,
    .i8_dot_rows = nn_avx2_i8_dot_rows,
    .qconv_pack_size = nn_avx2_qconv_pack_size,
    .qconv_pack = nn_avx2_qconv_pack,
    .qconv_scratch = nn_avx2_qconv_scratch,
    .qconv2d = nn_avx2_qconv2d,
};

const struct nn_kern *nn_kern_avx2_table(void) { return &avx2_table; }
