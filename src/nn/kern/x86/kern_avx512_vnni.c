// SPDX-License-Identifier: MIT
// AVX-512 VNNI int8 conv (kern.h: struct nn_qconv_args), built with -mavx512vnni on top of
// the AVX-512 flags and called only when the CPU has it (the "avx512vnni" table).
//
// vpdpbusd multiplies unsigned by signed bytes and adds groups of 4 products into int32
// lanes with no intermediate rounding or saturation. Our quantised input q is signed, so
// the im2col stores u = q + 128 (1..255; 128 for padding) and the kernel subtracts
// 128 * sum_k qw[oc, k], kept per channel after the packed panels: exact, the reference's
// sums. K <= NN_QCONV_MAX_K keeps the u8 sums (< 255 * 127 * K) inside int32.
//
// Packing: panels of 16 output channels; per group of 4 k (K rounded up to Kq, a multiple
// of 4; zero weights past K), 16 x 4 int8 = one zmm: wp[p][g][j][t] = qw[p*16 + j][4g + t];
// then int32 comp[np * 16]. A micro-kernel does up to 12 rows x 2 panels.
#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#include "nn/kern/kern.h"
#include "nn/kern/x86/kern_x86.h"

#define NR 16
#define MR NN_X86_MR512

static inline size_t round64(size_t n) { return (n + 63) / 64 * 64; }
static inline int kpad4(int K) { return (K + 3) & ~3; }
static inline __mmask16 lanes(int n) { return (__mmask16)(n >= 16 ? 0xffff : (1u << n) - 1); }

static size_t panels_bytes(int OC, int K) { return (size_t)((OC + NR - 1) / NR) * NR * (size_t)kpad4(K); }

size_t nn_vnni_qconv_pack_size(int OC, int K) {
    return round64(panels_bytes(OC, K) + (size_t)((OC + NR - 1) / NR) * NR * sizeof(int32_t));
}

void nn_vnni_qconv_pack(int OC, int K, const int8_t *wq, void *wp) {
    int np = (OC + NR - 1) / NR, Kq = kpad4(K);
    int8_t *d = wp;
    for (int p = 0; p < np; p++)
        for (int g = 0; g < Kq / 4; g++)
            for (int j = 0; j < NR; j++)
                for (int t = 0; t < 4; t++) {
                    int oc = p * NR + j, k = 4 * g + t;
                    *d++ = oc < OC && k < K ? wq[(size_t)oc * K + k] : 0;
                }
    int32_t *comp = (int32_t *)((char *)wp + panels_bytes(OC, K));
    for (int oc = 0; oc < np * NR; oc++) {
        int32_t s = 0;
        for (int k = 0; oc < OC && k < K; k++) s += wq[(size_t)oc * K + k];
        comp[oc] = 128 * s;
    }
}

static int tile_rows(int Kq) {
    int tm = (32768 / (Kq > 0 ? Kq : 1)) / 12 * 12; // ~32 KiB of u8 A, 12-row multiple
    if (tm < 12) tm = 12;
    if (tm > 96) tm = 96;
    return tm;
}

size_t nn_vnni_qconv_scratch(const struct nn_qconv_args *a) {
    int Kq = kpad4(a->KH * a->KW * a->C);
    return round64((size_t)tile_rows(Kq) * Kq + 64);
}

// n floats to u8 = q + 128
static inline void quant_u8(uint8_t *d, const float *s, int n, float xinv) {
    __m512 inv = _mm512_set1_ps(xinv), lo = _mm512_set1_ps(-127.0f), hi = _mm512_set1_ps(127.0f);
    __m512i off = _mm512_set1_epi32(128);
    for (int i = 0; i < n; i += 16) {
        __mmask16 k = lanes(n - i);
        __m512 v = _mm512_mul_ps(_mm512_maskz_loadu_ps(k, s + i), inv);
        v = _mm512_min_ps(_mm512_max_ps(v, lo), hi); // max(NaN, lo) = lo, as nn_quant8
        __m512i q = _mm512_add_epi32(_mm512_cvtps_epi32(v), off);
        _mm_mask_storeu_epi8(d + i, k, _mm512_cvtepi32_epi8(q));
    }
}

static void im2col_u8(const struct nn_qconv_args *a, int m0, int rows, uint8_t *A) {
    int C = a->C, K = a->KH * a->KW * C, Kq = kpad4(K), ohw = a->OH * a->OW;
    if (a->KH == 1 && a->KW == 1 && a->SH == 1 && a->SW == 1 && a->PT == 0 && a->PL == 0 && a->OH == a->H &&
        a->OW == a->W && Kq == K) { // 1x1: the tile's rows are one contiguous run of x
        quant_u8(A, a->x + (size_t)m0 * K, rows * K, a->xinv);
        return;
    }
    for (int i = 0; i < rows; i++) {
        int m = m0 + i, n = m / ohw, r = m % ohw, oy = r / a->OW, ox = r % a->OW;
        uint8_t *d = A + (size_t)i * Kq;
        int ix0, kw0, kw1;
        nn_im2col_span(ox, a->SW, a->PL, a->W, a->KW, &ix0, &kw0, &kw1);
        for (int kh = 0; kh < a->KH; kh++, d += a->KW * C) {
            int iy = oy * a->SH - a->PT + kh;
            if (iy < 0 || iy >= a->H) {
                memset(d, 128, (size_t)a->KW * C);
                continue;
            }
            memset(d, 128, (size_t)kw0 * C);
            if (kw1 > kw0)
                quant_u8(d + kw0 * C, a->x + (((size_t)n * a->H + iy) * a->W + ix0 + kw0) * C, (kw1 - kw0) * C,
                         a->xinv);
            memset(d + kw1 * C, 128, (size_t)(a->KW - kw1) * C);
        }
        memset(A + (size_t)i * Kq + K, 128, (size_t)(Kq - K)); // weights are 0 there
    }
}

static inline void store16(__m512i acc, const int32_t *comp, float *y, int n, const float *dq,
                           const float *bias, int act, const float *alpha) {
    __mmask16 k = lanes(n);
    acc = _mm512_sub_epi32(acc, _mm512_loadu_si512(comp));
    __m512 v = _mm512_mul_ps(_mm512_cvtepi32_ps(acc), _mm512_maskz_loadu_ps(k, dq));
    if (bias) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(k, bias));
    if (act == 1) v = _mm512_max_ps(v, _mm512_setzero_ps());
    else if (act == 2) {
        __mmask16 gt = _mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_GT_OQ);
        v = _mm512_mask_blend_ps(gt, _mm512_mul_ps(_mm512_maskz_loadu_ps(k, alpha), v), v);
    }
    _mm512_mask_storeu_ps(y, k, v);
}

static inline __attribute__((always_inline)) void ukern(int R, int P, int Kq, const uint8_t *A, const int8_t *B,
                                                        const int32_t *comp, float *y, size_t ldy, int ncol,
                                                        const float *dq, const float *bias, int act,
                                                        const float *alpha) {
    __m512i c[MR][2];
#pragma GCC unroll 12
    for (int r = 0; r < R; r++) c[r][0] = c[r][1] = _mm512_setzero_si512();
    const int8_t *B1 = B + (size_t)Kq * NR;
    for (int g = 0; g < Kq / 4; g++) {
        __m512i b0 = _mm512_loadu_si512(B + (size_t)g * 64);
        __m512i b1 = P == 2 ? _mm512_loadu_si512(B1 + (size_t)g * 64) : b0;
#pragma GCC unroll 12
        for (int r = 0; r < R; r++) {
            int32_t quad;
            memcpy(&quad, A + (size_t)r * Kq + 4 * g, 4);
            __m512i t = _mm512_set1_epi32(quad);
            c[r][0] = _mm512_dpbusd_epi32(c[r][0], t, b0);
            if (P == 2) c[r][1] = _mm512_dpbusd_epi32(c[r][1], t, b1);
        }
    }
#pragma GCC unroll 12
    for (int r = 0; r < R; r++)
        for (int p = 0; p < P; p++)
            store16(c[r][p], comp + p * NR, y + (size_t)r * ldy + p * NR, p == P - 1 ? ncol : NR, dq + p * NR,
                    bias ? bias + p * NR : NULL, act, alpha ? alpha + p * NR : NULL);
}

static inline __attribute__((always_inline)) void rows_p(int P, int rows, int Kq, const uint8_t *A,
                                                         const int8_t *B, const int32_t *comp, float *y,
                                                         size_t ldy, int ncol, const float *dq,
                                                         const float *bias, int act, const float *alpha) {
    int i = 0;
    for (; i + 12 <= rows; i += 12)
        ukern(12, P, Kq, A + (size_t)i * Kq, B, comp, y + i * ldy, ldy, ncol, dq, bias, act, alpha);
    if (i + 8 <= rows) ukern(8, P, Kq, A + (size_t)i * Kq, B, comp, y + i * ldy, ldy, ncol, dq, bias, act, alpha), i += 8;
    if (i + 4 <= rows) ukern(4, P, Kq, A + (size_t)i * Kq, B, comp, y + i * ldy, ldy, ncol, dq, bias, act, alpha), i += 4;
    if (i + 2 <= rows) ukern(2, P, Kq, A + (size_t)i * Kq, B, comp, y + i * ldy, ldy, ncol, dq, bias, act, alpha), i += 2;
    if (i < rows) ukern(1, P, Kq, A + (size_t)i * Kq, B, comp, y + i * ldy, ldy, ncol, dq, bias, act, alpha);
}

static void tile(const struct nn_qconv_args *a, int Kq, const uint8_t *A, int rows, float *y, int pa, int pb) {
    const float *alpha = a->act == 2 ? a->alpha : NULL;
    const int32_t *comp = (const int32_t *)((const char *)a->wp + panels_bytes(a->OC, a->KH * a->KW * a->C));
    for (int p = pa; p < pb;) {
        int P = p + 2 <= pb ? 2 : 1, oc0 = p * NR;
        int ncol = a->OC - (p + P - 1) * NR < NR ? a->OC - (p + P - 1) * NR : NR;
        const int8_t *B = (const int8_t *)a->wp + (size_t)p * Kq * NR;
        const float *bias = a->bias ? a->bias + oc0 : NULL, *al = alpha ? alpha + oc0 : NULL;
        if (P == 2)
            rows_p(2, rows, Kq, A, B, comp + oc0, y + oc0, (size_t)a->OC, ncol, a->dq + oc0, bias, a->act, al);
        else
            rows_p(1, rows, Kq, A, B, comp + oc0, y + oc0, (size_t)a->OC, ncol, a->dq + oc0, bias, a->act, al);
        p += P;
    }
}

void nn_vnni_qconv2d(const struct nn_qconv_args *a, int ith, int nth) {
    int M = a->N * a->OH * a->OW, Kq = kpad4(a->KH * a->KW * a->C), m0, m1;
    int np = (a->OC + NR - 1) / NR, tm = tile_rows(Kq);
    uint8_t *A = (uint8_t *)a->scratch + (size_t)ith * nn_vnni_qconv_scratch(a);
    if (a->OC <= 0) return;
    if (nth > 1 && M < 6 * nth && M <= tm && np >= nth) { // few rows (FC): split the channels
        int p0, p1;
        nn_split(np, ith, nth, 1, &p0, &p1);
        if (p0 >= p1) return;
        im2col_u8(a, 0, M, A);
        tile(a, Kq, A, M, a->y, p0, p1);
        return;
    }
    nn_split(M, ith, nth, 6, &m0, &m1);
    for (int t = m0; t < m1; t += tm) {
        int rows = m1 - t < tm ? m1 - t : tm;
        im2col_u8(a, t, rows, A);
        tile(a, Kq, A, rows, a->y + (size_t)t * a->OC, 0, np);
    }
}
