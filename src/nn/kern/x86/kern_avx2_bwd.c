// SPDX-License-Identifier: MIT
// AVX2+FMA backward kernels for conv / FC and depthwise conv (slots of struct nn_kern;
// this file is built with -mavx2 -mfma and only called when the CPU has both).
//
// conv bwd_data is a GEMM over the output channels: dXcol[M, K] = dY[M, OC] * W[OC, K]
// with W packed per thread (scratch) into panels of 16 columns of K; an MR x 16 FMA
// micro-kernel; then col2im adds dXcol into dx. A 1x1 / stride-1 / unpadded conv (and
// FC) needs no im2col or col2im: the micro-kernel adds straight into dx. A slice owns
// the dx rows (n, iy) [r0, r1) and computes the output rows that reach them (at most
// KH-1 rows of overlap with its neighbours are recomputed).
// conv bwd_filter is a GEMM over the pixels: dW[OC, K] += dY^T[OC, M] * im2col(X)[M, K],
// tiled over M (the im2col tile holds only the slice's columns). The accumulators
// start from dw and go back to it after each tile, so each dw element is the single
// chain dw = fma(dy[m, oc], xcol[m, k], dw) for m = 0..M-1, whatever the tiles or the
// slice. A slice owns 16-column panels of K (or, with few panels, rows of OC).
// db (conv and depthwise) is a plain sum over m in order, then db += sum: the same
// arithmetic as the reference, bit for bit.
// Depthwise bwd_data gathers per dx pixel over the taps in (kh, kw) order, 8 channels
// per ymm (32 at a time for 4 independent chains, masked tails); bwd_filter splits the
// channels, sums each (tap, channel) over m in order from 0 in a stack buffer, then
// dw += sum.
//
// Determinism: every output element is computed by one fixed sequence of operations
// that depends on the shape only, never on the slice bounds, tile bounds or which
// micro-kernel (6, 2 or 1 rows; full or masked columns) handles it, so results are
// bit-identical for any nth. Against the reference only FMA rounding and the summation
// grouping differ (tests/ops/test_kern_bwd.c: 1e-5 of max |ref|).
// Non-goals: K-blocking of the reduction, AVX-512, layouts other than NHWC.
#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#include "nn/kern/ref/kern_ref_bwd.h"
#include "nn/kern/x86/kern_avx2_bwd.h"

#define NR 16        // columns per panel (2 ymm)
#define MR 6         // rows of the micro-kernel (12 accumulators)
#define FT 65536     // floats of a bwd_filter im2col tile (256 KiB: L2)
#define TM_MAX 256   // rows of a bwd_filter tile
#define DW_ACC 8192  // floats of the depthwise bwd_filter stack accumulator (32 KiB)
#define DW_TAPS 64   // depthwise kernels with more taps fall back to the reference

// ---- helpers ---------------------------------------------------------------------------

// lanes [0, n) set, n clamped to 0..8
static inline __m256i lanes(int n) {
    static const int32_t m[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
    n = n < 0 ? 0 : n > 8 ? 8 : n;
    return _mm256_loadu_si256((const __m256i *)(m + 8 - n));
}
static inline __m256 ld(const float *p, int n) {
    return n >= 8 ? _mm256_loadu_ps(p) : _mm256_maskload_ps(p, lanes(n));
}
static inline void st(float *p, __m256 v, int n) {
    if (n >= 8) _mm256_storeu_ps(p, v);
    else _mm256_maskstore_ps(p, lanes(n), v);
}
// d[i] += s[i] for i < n (no access past n)
static inline void add_f(float *d, const float *s, int n) {
    int i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(d + i, _mm256_add_ps(_mm256_loadu_ps(d + i), _mm256_loadu_ps(s + i)));
    if (i < n) st(d + i, _mm256_add_ps(ld(d + i, n - i), ld(s + i, n - i)), n - i);
}
static inline void copy_f(float *d, const float *s, int n) {
    int i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(d + i, _mm256_loadu_ps(s + i));
    if (i < n) st(d + i, ld(s + i, n - i), n - i);
}
static inline void zero_f(float *d, int n) {
    int i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(d + i, _mm256_setzero_ps());
    if (i < n) st(d + i, _mm256_setzero_ps(), n - i);
}
static inline int imin(int a, int b) { return a < b ? a : b; }
static inline int imax(int a, int b) { return a > b ? a : b; }
static inline size_t round16(size_t n) { return (n + 15) / 16 * 16; }

static int conv_direct(const struct nn_conv_bwd_args *a) {
    return a->KH == 1 && a->KW == 1 && a->SH == 1 && a->SW == 1 && a->PT == 0 && a->PL == 0 &&
           a->OH == a->H && a->OW == a->W;
}

// ---- GEMM micro-kernels ----------------------------------------------------------------

// bwd_data: d[i][j] (i < R, j < ncol) = (add ? d[i][j] : 0) + sum_{o < OC} A[i][o] B[o][j],
// each sum the chain acc = fma(A, B, acc) from 0 over o in order. A rows lda apart, B a
// packed panel (OC rows of 16), d rows ldd apart.
static inline __attribute__((always_inline)) void gemm_nn(int R, int OC, const float *A,
                                                          size_t lda, const float *B, float *d,
                                                          size_t ldd, int ncol, int add) {
    __m256 c0[MR], c1[MR];
#pragma GCC unroll 6
    for (int i = 0; i < R; i++) c0[i] = c1[i] = _mm256_setzero_ps();
    for (int o = 0; o < OC; o++) {
        __m256 b0 = _mm256_loadu_ps(B + (size_t)o * NR), b1 = _mm256_loadu_ps(B + (size_t)o * NR + 8);
#pragma GCC unroll 6
        for (int i = 0; i < R; i++) {
            __m256 t = _mm256_broadcast_ss(A + i * lda + o);
            c0[i] = _mm256_fmadd_ps(t, b0, c0[i]);
            c1[i] = _mm256_fmadd_ps(t, b1, c1[i]);
        }
    }
    int n0 = imin(ncol, 8), n1 = ncol - n0;
#pragma GCC unroll 6
    for (int i = 0; i < R; i++) {
        float *p = d + i * ldd;
        if (add) {
            c0[i] = _mm256_add_ps(ld(p, n0), c0[i]);
            if (n1 > 0) c1[i] = _mm256_add_ps(ld(p + 8, n1), c1[i]);
        }
        st(p, c0[i], n0);
        if (n1 > 0) st(p + 8, c1[i], n1);
    }
}
static void gemm_nn6(int OC, const float *A, size_t lda, const float *B, float *d, size_t ldd,
                     int ncol, int add) {
    gemm_nn(6, OC, A, lda, B, d, ldd, ncol, add);
}
static void gemm_nn2(int OC, const float *A, size_t lda, const float *B, float *d, size_t ldd,
                     int ncol, int add) {
    gemm_nn(2, OC, A, lda, B, d, ldd, ncol, add);
}
static void gemm_nn1(int OC, const float *A, size_t lda, const float *B, float *d, size_t ldd,
                     int ncol, int add) {
    gemm_nn(1, OC, A, lda, B, d, ldd, ncol, add);
}
static void gemm_nn_rows(int rows, int OC, const float *A, size_t lda, const float *B, float *d,
                         size_t ldd, int ncol, int add) {
    int i = 0;
    for (; i + 6 <= rows; i += 6) gemm_nn6(OC, A + i * lda, lda, B, d + i * ldd, ldd, ncol, add);
    for (; i + 2 <= rows; i += 2) gemm_nn2(OC, A + i * lda, lda, B, d + i * ldd, ldd, ncol, add);
    if (i < rows) gemm_nn1(OC, A + i * lda, lda, B, d + i * ldd, ldd, ncol, add);
}

// bwd_filter: c[i][j] (i < R, j < ncol) = fma chain over m < rows of dy[m][i] X[m][j],
// starting from the value in c. dy rows ldy apart, X rows ldx apart, c rows ldc apart.
static inline __attribute__((always_inline)) void gemm_tn(int R, int rows, const float *dy,
                                                          size_t ldy, const float *X, size_t ldx,
                                                          float *c, size_t ldc, int ncol) {
    int n0 = imin(ncol, 8), n1 = ncol - n0;
    __m256 c0[MR], c1[MR];
#pragma GCC unroll 6
    for (int i = 0; i < R; i++) {
        c0[i] = ld(c + i * ldc, n0);
        c1[i] = n1 > 0 ? ld(c + i * ldc + 8, n1) : _mm256_setzero_ps();
    }
    if (ncol == NR) {
        for (int m = 0; m < rows; m++) {
            const float *x = X + (size_t)m * ldx, *g = dy + (size_t)m * ldy;
            __m256 b0 = _mm256_loadu_ps(x), b1 = _mm256_loadu_ps(x + 8);
#pragma GCC unroll 6
            for (int i = 0; i < R; i++) {
                __m256 t = _mm256_broadcast_ss(g + i);
                c0[i] = _mm256_fmadd_ps(t, b0, c0[i]);
                c1[i] = _mm256_fmadd_ps(t, b1, c1[i]);
            }
        }
    } else {
        __m256i k0 = lanes(n0), k1 = lanes(n1);
        for (int m = 0; m < rows; m++) {
            const float *x = X + (size_t)m * ldx, *g = dy + (size_t)m * ldy;
            __m256 b0 = _mm256_maskload_ps(x, k0), b1 = _mm256_maskload_ps(x + 8, k1);
#pragma GCC unroll 6
            for (int i = 0; i < R; i++) {
                __m256 t = _mm256_broadcast_ss(g + i);
                c0[i] = _mm256_fmadd_ps(t, b0, c0[i]);
                c1[i] = _mm256_fmadd_ps(t, b1, c1[i]);
            }
        }
    }
#pragma GCC unroll 6
    for (int i = 0; i < R; i++) {
        st(c + i * ldc, c0[i], n0);
        if (n1 > 0) st(c + i * ldc + 8, c1[i], n1);
    }
}
static void gemm_tn6(int rows, const float *dy, size_t ldy, const float *X, size_t ldx, float *c,
                     size_t ldc, int ncol) {
    gemm_tn(6, rows, dy, ldy, X, ldx, c, ldc, ncol);
}
static void gemm_tn2(int rows, const float *dy, size_t ldy, const float *X, size_t ldx, float *c,
                     size_t ldc, int ncol) {
    gemm_tn(2, rows, dy, ldy, X, ldx, c, ldc, ncol);
}
static void gemm_tn1(int rows, const float *dy, size_t ldy, const float *X, size_t ldx, float *c,
                     size_t ldc, int ncol) {
    gemm_tn(1, rows, dy, ldy, X, ldx, c, ldc, ncol);
}

// ---- conv: scratch, packing, im2col / col2im -------------------------------------------

// rows of a bwd_data tile: about 32K floats of dXcol (or of dY when direct), MR multiple
static int tm_data(int width) {
    int tm = (32768 / (width > 0 ? width : 1)) / MR * MR;
    return imin(imax(tm, MR), 32 * MR);
}
// rows of a bwd_filter tile for a slice of ks columns
static int tm_filter(int ks) { return imin(imax(FT / (ks > 0 ? ks : 1), 16), TM_MAX); }

static size_t packed_size(const struct nn_conv_bwd_args *a) {
    size_t K = (size_t)a->KH * a->KW * a->C;
    return round16((K + NR - 1) / NR * NR * (size_t)a->OC);
}

size_t nn_avx2_conv_bwd_scratch(const struct nn_conv_bwd_args *a) {
    size_t K = (size_t)a->KH * a->KW * a->C;
    if (conv_direct(a)) return packed_size(a);
    size_t data = packed_size(a) + (size_t)tm_data((int)K) * K;
    size_t filt = FT > 16 * K ? FT : 16 * K; // tm_filter(ks) * ks for any ks <= K
    return round16(data > filt ? data : filt);
}

// Bp[p][o][j] = w[o][p*16 + j], zero past K: panel p is OC rows of 16
static void pack_w(const struct nn_conv_bwd_args *a, float *Bp) {
    int K = a->KH * a->KW * a->C, np = (K + NR - 1) / NR;
    for (int p = 0; p < np; p++) {
        int n = imin(NR, K - p * NR);
        for (int o = 0; o < a->OC; o++) {
            float *d = Bp + ((size_t)p * a->OC + o) * NR;
            copy_f(d, a->w + (size_t)o * K + p * NR, n);
            zero_f(d + n, NR - n);
        }
    }
}

// rows [m0, m0 + rows) of im2col(x), columns [k0, k1) only, into A (rows of k1 - k0)
static void im2col_cols(const struct nn_conv_bwd_args *a, int m0, int rows, int k0, int k1,
                        float *A) {
    int C = a->C, ohw = a->OH * a->OW, ks = k1 - k0;
    for (int i = 0; i < rows; i++) {
        int m = m0 + i, n = m / ohw, q = m % ohw, oy = q / a->OW, ox = q % a->OW;
        float *d = A + (size_t)i * ks - k0;
        for (int tp = k0 / C; tp * C < k1; tp++) {
            int kh = tp / a->KW, kw = tp % a->KW, ca = imax(k0 - tp * C, 0), cb = imin(k1 - tp * C, C);
            int iy = oy * a->SH - a->PT + kh, ix = ox * a->SW - a->PL + kw;
            if (iy < 0 || iy >= a->H || ix < 0 || ix >= a->W) zero_f(d + tp * C + ca, cb - ca);
            else copy_f(d + tp * C + ca, a->x + (((size_t)n * a->H + iy) * a->W + ix) * C + ca, cb - ca);
        }
    }
}

// dx rows [ia, ib) of image n += the dXcol rows [m0, m0 + rows) (rows of K), in order
// of m, then (kh, kw)
static void col2im_add(const struct nn_conv_bwd_args *a, int m0, int rows, const float *col,
                       int n, int ia, int ib) {
    int C = a->C, K = a->KH * a->KW * C;
    for (int i = 0; i < rows; i++) {
        int m = m0 + i, oy = m / a->OW % a->OH, ox = m % a->OW;
        for (int kh = 0; kh < a->KH; kh++) {
            int iy = oy * a->SH - a->PT + kh;
            if (iy < ia || iy >= ib) continue;
            for (int kw = 0; kw < a->KW; kw++) {
                int ix = ox * a->SW - a->PL + kw;
                if (ix < 0 || ix >= a->W) continue;
                add_f(a->dx + (((size_t)n * a->H + iy) * a->W + ix) * C,
                      col + (size_t)i * K + (kh * a->KW + kw) * C, C);
            }
        }
    }
}

// ---- conv backward -----------------------------------------------------------------------

void nn_avx2_conv2d_bwd_data(const struct nn_conv_bwd_args *a, int ith, int nth) {
    if (!a->dx || a->OC <= 0) return;
    int K = a->KH * a->KW * a->C, np = (K + NR - 1) / NR, M = a->N * a->OH * a->OW, OC = a->OC;
    float *Bp = a->scratch + (size_t)ith * nn_avx2_conv_bwd_scratch(a);
    if (conv_direct(a)) {
        // dx[m, :] += dY[m, :] W, m = pixel. Few rows (FC at small batch): split the
        // panels so every thread works; else the rows.
        int m0 = 0, m1 = M, p0 = 0, p1 = np;
        if (nth > 1 && M < MR * nth && np >= nth) nn_split(np, ith, nth, 1, &p0, &p1);
        else nn_split(M, ith, nth, MR, &m0, &m1);
        if (m0 >= m1 || p0 >= p1) return;
        pack_w(a, Bp);
        int tm = tm_data(OC);
        for (int t = m0; t < m1; t += tm) {
            int rows = imin(tm, m1 - t);
            for (int p = p0; p < p1; p++)
                gemm_nn_rows(rows, OC, a->dy + (size_t)t * OC, OC, Bp + (size_t)p * OC * NR,
                             a->dx + (size_t)t * K + p * NR, K, imin(NR, K - p * NR), 1);
        }
        return;
    }
    int r0, r1;
    nn_split(a->N * a->H, ith, nth, 1, &r0, &r1);
    if (r0 >= r1) return;
    pack_w(a, Bp);
    float *col = Bp + packed_size(a);
    int tm = tm_data(K);
    for (int r = r0; r < r1;) {
        int n = r / a->H, ia = r % a->H, ib = imin(a->H, ia + (r1 - r));
        r += ib - ia;
        // output rows whose taps reach input rows [ia, ib)
        int lo = ia + a->PT - a->KH + 1, hi = ib - 1 + a->PT;
        int oy0 = lo <= 0 ? 0 : (lo + a->SH - 1) / a->SH, oy1 = hi < 0 ? -1 : hi / a->SH;
        if (oy1 > a->OH - 1) oy1 = a->OH - 1;
        if (oy0 > oy1) continue;
        int mA = (n * a->OH + oy0) * a->OW, mB = (n * a->OH + oy1 + 1) * a->OW;
        for (int t = mA; t < mB; t += tm) {
            int rows = imin(tm, mB - t);
            for (int p = 0; p < np; p++)
                gemm_nn_rows(rows, OC, a->dy + (size_t)t * OC, OC, Bp + (size_t)p * OC * NR,
                             col + p * NR, K, imin(NR, K - p * NR), 0);
            col2im_add(a, t, rows, col, n, ia, ib);
        }
    }
}

// db[o] += sum over m in order of dy[m][o] for o in [o0, o1): ld channels of dy, M rows
static void sum_rows(const float *dy, int ld, int M, int o0, int o1, float *db) {
    float acc[256] __attribute__((aligned(32)));
    for (int q0 = o0; q0 < o1; q0 += 256) {
        int w = imin(256, o1 - q0);
        zero_f(acc, w);
        for (int m = 0; m < M; m++) add_f(acc, dy + (size_t)m * ld + q0, w);
        add_f(db + q0, acc, w);
    }
}

void nn_avx2_conv2d_bwd_filter(const struct nn_conv_bwd_args *a, int ith, int nth) {
    int K = a->KH * a->KW * a->C, M = a->N * a->OH * a->OW, OC = a->OC, np = (K + NR - 1) / NR;
    if (a->db) {
        int o0, o1;
        nn_split(OC, ith, nth, 8, &o0, &o1);
        sum_rows(a->dy, OC, M, o0, o1, a->db);
    }
    if (!a->dw || OC <= 0 || K <= 0) return;
    // a slice owns panels of K columns (no im2col work is repeated across threads), or
    // rows of OC when there are too few panels
    int k0 = 0, k1 = K, o0 = 0, o1 = OC;
    if (np >= 2 * nth || OC < 2 * MR * nth) {
        int p0, p1;
        nn_split(np, ith, nth, 1, &p0, &p1);
        k0 = p0 * NR, k1 = imin(p1 * NR, K);
    } else {
        nn_split(OC, ith, nth, MR, &o0, &o1);
    }
    if (k0 >= k1 || o0 >= o1) return;
    int direct = conv_direct(a), ks = k1 - k0, tm = direct ? TM_MAX : tm_filter(ks);
    float *col = a->scratch + (size_t)ith * nn_avx2_conv_bwd_scratch(a);
    for (int t = 0; t < M; t += tm) {
        int rows = imin(tm, M - t);
        const float *X = a->x + (size_t)t * K + k0;
        size_t ldx = (size_t)K;
        if (!direct) {
            im2col_cols(a, t, rows, k0, k1, col);
            X = col, ldx = (size_t)ks;
        }
        const float *g = a->dy + (size_t)t * OC;
        for (int k = k0; k < k1; k += NR) {
            int ncol = imin(NR, k1 - k), oc = o0;
            const float *Xk = X + (k - k0);
            for (; oc + 6 <= o1; oc += 6)
                gemm_tn6(rows, g + oc, OC, Xk, ldx, a->dw + (size_t)oc * K + k, K, ncol);
            for (; oc + 2 <= o1; oc += 2)
                gemm_tn2(rows, g + oc, OC, Xk, ldx, a->dw + (size_t)oc * K + k, K, ncol);
            if (oc < o1) gemm_tn1(rows, g + oc, OC, Xk, ldx, a->dw + (size_t)oc * K + k, K, ncol);
        }
    }
}

// ---- depthwise backward ------------------------------------------------------------------

// output coordinate o whose tap k reads input coordinate i (i = o*S - P + k), or -1
static inline int src_of(int i, int k, int S, int P, int O) {
    int t = i + P - k;
    if (t < 0 || t % S) return -1;
    t /= S;
    return t < O ? t : -1;
}

void nn_avx2_dwconv2d_bwd_data(const struct nn_dw_bwd_args *a, int ith, int nth) {
    if (!a->dx) return;
    if (a->KH * a->KW > DW_TAPS) {
        nn_ref_dwconv2d_bwd_data(a, ith, nth);
        return;
    }
    int r0, r1, C = a->C;
    nn_split(a->N * a->H, ith, nth, 1, &r0, &r1);
    size_t gof[DW_TAPS], wof[DW_TAPS]; // dy / w offsets of the valid taps, (kh, kw) order
    for (int r = r0; r < r1; r++) {
        int n = r / a->H, iy = r % a->H;
        for (int ix = 0; ix < a->W; ix++) {
            int nt = 0;
            for (int kh = 0; kh < a->KH; kh++) {
                int oy = src_of(iy, kh, a->SH, a->PT, a->OH);
                if (oy < 0) continue;
                for (int kw = 0; kw < a->KW; kw++) {
                    int ox = src_of(ix, kw, a->SW, a->PL, a->OW);
                    if (ox < 0) continue;
                    gof[nt] = (((size_t)n * a->OH + oy) * a->OW + ox) * C;
                    wof[nt++] = ((size_t)kh * a->KW + kw) * C;
                }
            }
            float *dx = a->dx + ((size_t)r * a->W + ix) * C;
            int c = 0;
            for (; c + 32 <= C; c += 32) {
                __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
                for (int t = 0; t < nt; t++) {
                    const float *g = a->dy + gof[t] + c, *w = a->w + wof[t] + c;
                    s0 = _mm256_fmadd_ps(_mm256_loadu_ps(g), _mm256_loadu_ps(w), s0);
                    s1 = _mm256_fmadd_ps(_mm256_loadu_ps(g + 8), _mm256_loadu_ps(w + 8), s1);
                    s2 = _mm256_fmadd_ps(_mm256_loadu_ps(g + 16), _mm256_loadu_ps(w + 16), s2);
                    s3 = _mm256_fmadd_ps(_mm256_loadu_ps(g + 24), _mm256_loadu_ps(w + 24), s3);
                }
                _mm256_storeu_ps(dx + c, _mm256_add_ps(_mm256_loadu_ps(dx + c), s0));
                _mm256_storeu_ps(dx + c + 8, _mm256_add_ps(_mm256_loadu_ps(dx + c + 8), s1));
                _mm256_storeu_ps(dx + c + 16, _mm256_add_ps(_mm256_loadu_ps(dx + c + 16), s2));
                _mm256_storeu_ps(dx + c + 24, _mm256_add_ps(_mm256_loadu_ps(dx + c + 24), s3));
            }
            for (; c < C; c += 8) {
                int nc = imin(8, C - c);
                __m256 s = _mm256_setzero_ps();
                for (int t = 0; t < nt; t++)
                    s = _mm256_fmadd_ps(ld(a->dy + gof[t] + c, nc), ld(a->w + wof[t] + c, nc), s);
                st(dx + c, _mm256_add_ps(ld(dx + c, nc), s), nc);
            }
        }
    }
}

// acc[c] = fma chain over ox in [oxa, oxb) of g[ox*C + c] * x[ix(ox)*C + c], channels
// [0, w) (32 at a time: 4 independent chains); g, x, acc point at the first channel
static inline void dw_tap_row(float *acc, int w, const float *g, const float *x, int oxa,
                              int oxb, size_t C, size_t sx) {
    int c = 0;
    for (; c + 32 <= w; c += 32) {
        __m256 s0 = _mm256_loadu_ps(acc + c), s1 = _mm256_loadu_ps(acc + c + 8);
        __m256 s2 = _mm256_loadu_ps(acc + c + 16), s3 = _mm256_loadu_ps(acc + c + 24);
        for (int ox = oxa; ox < oxb; ox++) {
            const float *gp = g + ox * C + c, *xp = x + ox * sx + c;
            s0 = _mm256_fmadd_ps(_mm256_loadu_ps(gp), _mm256_loadu_ps(xp), s0);
            s1 = _mm256_fmadd_ps(_mm256_loadu_ps(gp + 8), _mm256_loadu_ps(xp + 8), s1);
            s2 = _mm256_fmadd_ps(_mm256_loadu_ps(gp + 16), _mm256_loadu_ps(xp + 16), s2);
            s3 = _mm256_fmadd_ps(_mm256_loadu_ps(gp + 24), _mm256_loadu_ps(xp + 24), s3);
        }
        _mm256_storeu_ps(acc + c, s0), _mm256_storeu_ps(acc + c + 8, s1);
        _mm256_storeu_ps(acc + c + 16, s2), _mm256_storeu_ps(acc + c + 24, s3);
    }
    for (; c < w; c += 8) {
        int nc = imin(8, w - c);
        __m256 s = ld(acc + c, nc);
        for (int ox = oxa; ox < oxb; ox++) s = _mm256_fmadd_ps(ld(g + ox * C + c, nc), ld(x + ox * sx + c, nc), s);
        st(acc + c, s, nc);
    }
}

void nn_avx2_dwconv2d_bwd_filter(const struct nn_dw_bwd_args *a, int ith, int nth) {
    int taps = a->KH * a->KW, C = a->C, M = a->N * a->OH * a->OW;
    if (taps > DW_TAPS) {
        nn_ref_dwconv2d_bwd_filter(a, ith, nth);
        return;
    }
    int c0, c1;
    nn_split(C, ith, nth, 8, &c0, &c1);
    if (a->db) sum_rows(a->dy, C, M, c0, c1, a->db);
    if (!a->dw || c0 >= c1) return;
    float acc[DW_ACC] __attribute__((aligned(32)));
    int ch = imin(DW_ACC / taps / 8 * 8, 512);
    for (int q0 = c0; q0 < c1; q0 += ch) {
        int w = imin(ch, c1 - q0);
        zero_f(acc, taps * w);
        for (int n = 0; n < a->N; n++)
            for (int oy = 0; oy < a->OH; oy++) {
                const float *g = a->dy + (((size_t)n * a->OH + oy) * a->OW) * C + q0;
                for (int kh = 0; kh < a->KH; kh++) {
                    int iy = oy * a->SH - a->PT + kh;
                    if (iy < 0 || iy >= a->H) continue;
                    const float *xr = a->x + ((size_t)n * a->H + iy) * a->W * C + q0;
                    for (int kw = 0; kw < a->KW; kw++) {
                        // ox with 0 <= ox*SW - PL + kw < W
                        int lo = a->PL - kw, hi = a->W - 1 + a->PL - kw;
                        int oxa = lo <= 0 ? 0 : (lo + a->SW - 1) / a->SW;
                        int oxb = hi < 0 ? 0 : imin(hi / a->SW + 1, a->OW);
                        if (oxa >= oxb) continue;
                        dw_tap_row(acc + (size_t)(kh * a->KW + kw) * w, w, g,
                                   xr + (ptrdiff_t)(kw - a->PL) * C, oxa, oxb, (size_t)C,
                                   (size_t)a->SW * C);
                    }
                }
            }
        for (int t = 0; t < taps; t++) add_f(a->dw + (size_t)t * C + q0, acc + (size_t)t * w, w);
    }
}
