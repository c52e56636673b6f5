// SPDX-License-Identifier: MIT
// AVX2 int8 conv (kern.h: struct nn_qconv_args), built with -mavx2 -mfma.
//
// AVX2 has no instruction that multiplies int8 by int8 without a saturating step
// (vpmaddubsw adds two u8*s8 products into an int16 and saturates: 2*255*127 > 32767),
// so this kernel widens both sides to int16 and uses vpmaddwd (int16 pairs -> exact int32
// sums), then vpaddd. Exact like the reference; the win over fp32 is a quarter of the
// weight bytes and half the activation bytes, not more multiplies per instruction.
// AVX-512 BW runs the same packing with 16 int32 lanes (kern_avx512.c), VNNI its own.
//
// Packing: panels of 16 output channels; per panel, per pair of k (K rounded up to even,
// Kp), 16 x 2 int16 = 64 bytes: wp[p][kk][j][t] = w[p*16 + j][2*kk + t] (0 past OC or K).
// A: the quantised im2col rows of a tile as int16, Kp per row (zeros past K).
#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#include "nn/kern/kern.h"
#include "nn/kern/kern_i8.h"
#include "nn/kern/x86/kern_x86.h"

#define NR 16
#define MR 6

static inline size_t round64(size_t n) { return (n + 63) / 64 * 64; }
static inline int kpad2(int K) { return (K + 1) & ~1; }

size_t nn_avx2_qconv_pack_size(int OC, int K) {
    return round64((size_t)((OC + NR - 1) / NR) * NR * (size_t)kpad2(K) * sizeof(int16_t));
}

void nn_avx2_qconv_pack(int OC, int K, const int8_t *wq, void *wp) {
    int np = (OC + NR - 1) / NR, Kp = kpad2(K);
    int16_t *d = wp;
    for (int p = 0; p < np; p++)
        for (int kk = 0; kk < Kp / 2; kk++)
            for (int j = 0; j < NR; j++)
                for (int t = 0; t < 2; t++) {
                    int oc = p * NR + j, k = 2 * kk + t;
                    *d++ = oc < OC && k < K ? wq[(size_t)oc * K + k] : 0;
                }
}

int nn_q16_tile_rows(int Kp) {
    int tm = (16384 / (Kp > 0 ? Kp : 1)) / 12 * 12; // ~32 KiB of int16 A, 12-row multiple
    if (tm < 12) tm = 12;
    if (tm > 96) tm = 96;
    return tm;
}

size_t nn_avx2_qconv_scratch(const struct nn_qconv_args *a) {
    int Kp = kpad2(a->KH * a->KW * a->C);
    return round64((size_t)nn_q16_tile_rows(Kp) * Kp * sizeof(int16_t) + 32);
}

// n floats quantised to int16 (8 at a time, the tail through nn_quant8: the same values)
static inline void quant16(int16_t *d, const float *s, int n, float xinv) {
    __m256 inv = _mm256_set1_ps(xinv), lo = _mm256_set1_ps(-127.0f), hi = _mm256_set1_ps(127.0f);
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 v = _mm256_mul_ps(_mm256_loadu_ps(s + i), inv);
        v = _mm256_min_ps(_mm256_max_ps(v, lo), hi); // max(NaN, lo) = lo, as nn_quant8
        __m256i q = _mm256_cvtps_epi32(v);          // round to nearest even (MXCSR default)
        __m128i h = _mm_packs_epi32(_mm256_castsi256_si128(q), _mm256_extracti128_si256(q, 1));
        _mm_storeu_si128((__m128i *)(d + i), h);
    }
    for (; i < n; i++) d[i] = (int16_t)nn_quant8(s[i], xinv);
}

void nn_avx2_q16_im2col(const struct nn_qconv_args *a, int m0, int rows, int16_t *A) {
    int C = a->C, K = a->KH * a->KW * C, Kp = kpad2(K), ohw = a->OH * a->OW;
    if (a->KH == 1 && a->KW == 1 && a->SH == 1 && a->SW == 1 && a->PT == 0 && a->PL == 0 && a->OH == a->H &&
        a->OW == a->W && Kp == K) { // 1x1: the tile's rows are one contiguous run of x
        quant16(A, a->x + (size_t)m0 * K, rows * K, a->xinv);
        return;
    }
    for (int i = 0; i < rows; i++) {
        int m = m0 + i, n = m / ohw, r = m % ohw, oy = r / a->OW, ox = r % a->OW;
        int16_t *d = A + (size_t)i * Kp;
        int ix0, kw0, kw1;
        nn_im2col_span(ox, a->SW, a->PL, a->W, a->KW, &ix0, &kw0, &kw1);
        for (int kh = 0; kh < a->KH; kh++, d += a->KW * C) {
            int iy = oy * a->SH - a->PT + kh;
            if (iy < 0 || iy >= a->H) {
                memset(d, 0, (size_t)a->KW * C * sizeof *d);
                continue;
            }
            memset(d, 0, (size_t)kw0 * C * sizeof *d);
            if (kw1 > kw0)
                quant16(d + kw0 * C, a->x + (((size_t)n * a->H + iy) * a->W + ix0 + kw0) * C,
                        (kw1 - kw0) * C, a->xinv);
            memset(d + kw1 * C, 0, (size_t)(a->KW - kw1) * C * sizeof *d);
        }
        if (Kp > K) A[(size_t)i * Kp + K] = 0;
    }
}

// lanes [0, n) set, n in 0..8
static inline __m256i tail_mask(int n) {
    static const int32_t m[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
    return _mm256_loadu_si256((const __m256i *)(m + 8 - n));
}

// dequantise, bias, activation, store of 8 sums; multiply then add (no FMA), as the reference
static inline void store8(__m256i acc, float *y, const float *dq, const float *bias, int act,
                          const float *alpha, int n) {
    __m256i km = tail_mask(n);
    __m256 v = _mm256_mul_ps(_mm256_cvtepi32_ps(acc), _mm256_maskload_ps(dq, km));
    if (bias) v = _mm256_add_ps(v, _mm256_maskload_ps(bias, km));
    if (act == 1) v = _mm256_max_ps(v, _mm256_setzero_ps());
    else if (act == 2) {
        __m256 gt = _mm256_cmp_ps(v, _mm256_setzero_ps(), _CMP_GT_OQ);
        v = _mm256_blendv_ps(_mm256_mul_ps(_mm256_maskload_ps(alpha, km), v), v, gt);
    }
    _mm256_maskstore_ps(y, km, v);
}

// R (1..6) rows of A times one packed panel B (Kp/2 pairs of 16 x 2 int16)
static inline __attribute__((always_inline)) void ukern(int R, int Kp, const int16_t *A, const int16_t *B,
                                                        float *y, size_t ldy, int ncol, const float *dq,
                                                        const float *bias, int act, const float *alpha) {
    __m256i c[MR][2];
#pragma GCC unroll 6
    for (int r = 0; r < R; r++) c[r][0] = c[r][1] = _mm256_setzero_si256();
    for (int kk = 0; kk < Kp / 2; kk++) {
        __m256i b0 = _mm256_loadu_si256((const __m256i *)(B + (size_t)kk * 32));
        __m256i b1 = _mm256_loadu_si256((const __m256i *)(B + (size_t)kk * 32 + 16));
#pragma GCC unroll 6
        for (int r = 0; r < R; r++) {
            int32_t pair;
            memcpy(&pair, A + (size_t)r * Kp + 2 * kk, 4);
            __m256i t = _mm256_set1_epi32(pair);
            c[r][0] = _mm256_add_epi32(c[r][0], _mm256_madd_epi16(t, b0));
            c[r][1] = _mm256_add_epi32(c[r][1], _mm256_madd_epi16(t, b1));
        }
    }
    int n0 = ncol < 8 ? ncol : 8, n1 = ncol - n0;
#pragma GCC unroll 6
    for (int r = 0; r < R; r++) {
        float *yr = y + (size_t)r * ldy;
        store8(c[r][0], yr, dq, bias, act, alpha, n0);
        if (n1 > 0)
            store8(c[r][1], yr + 8, dq + 8, bias ? bias + 8 : NULL, act, alpha ? alpha + 8 : NULL, n1);
    }
}

static void tile(const struct nn_qconv_args *a, int Kp, const int16_t *A, int rows, float *y, int pa, int pb) {
    const float *alpha = a->act == 2 ? a->alpha : NULL;
    for (int p = pa; p < pb; p++) {
        const int16_t *B = (const int16_t *)a->wp + (size_t)p * Kp * NR;
        int oc0 = p * NR, ncol = a->OC - oc0 < NR ? a->OC - oc0 : NR;
        const float *bias = a->bias ? a->bias + oc0 : NULL, *al = alpha ? alpha + oc0 : NULL;
        int i = 0;
        for (; i + MR <= rows; i += MR)
            ukern(MR, Kp, A + (size_t)i * Kp, B, y + (size_t)i * a->OC + oc0, (size_t)a->OC, ncol,
                  a->dq + oc0, bias, a->act, al);
        for (; i < rows; i++)
            ukern(1, Kp, A + (size_t)i * Kp, B, y + (size_t)i * a->OC + oc0, (size_t)a->OC, ncol,
                  a->dq + oc0, bias, a->act, al);
    }
}

void nn_avx2_qconv2d(const struct nn_qconv_args *a, int ith, int nth) {
    int M = a->N * a->OH * a->OW, K = a->KH * a->KW * a->C, Kp = kpad2(K), m0, m1;
    int np = (a->OC + NR - 1) / NR, tm = nn_q16_tile_rows(Kp);
    int16_t *A = (int16_t *)((char *)a->scratch + (size_t)ith * nn_avx2_qconv_scratch(a));
    if (a->OC <= 0) return;
    if (nth > 1 && M < MR * nth && M <= tm && np >= nth) { // few rows (FC): split the channels
        int p0, p1;
        nn_split(np, ith, nth, 1, &p0, &p1);
        if (p0 >= p1) return;
        nn_avx2_q16_im2col(a, 0, M, A);
        tile(a, Kp, A, M, a->y, p0, p1);
        return;
    }
    nn_split(M, ith, nth, MR, &m0, &m1);
    for (int t = m0; t < m1; t += tm) {
        int rows = m1 - t < tm ? m1 - t : tm;
        nn_avx2_q16_im2col(a, t, rows, A);
        tile(a, Kp, A, rows, a->y + (size_t)t * a->OC, 0, np);
    }
}
