// SPDX-License-Identifier: MIT
// AVX2 twins of the per-channel (batch norm, PReLU backward) and per-row (L2
// normalisation) training kernels of ref/kern_ref_chan.c; semantics in kern.h. This
// file is built with -mavx2 -mfma; dispatch only uses it when the CPU has both.
//
// Per-channel kernels vectorise over channels (8 per ymm, masked tails; a thread's
// channel slice is 8-aligned, blocks of up to 32 channels walk all M rows at once).
// Each channel's sums are double, in row order, products of two floats are exact in
// double, and no mul+add is fused (-std=c11 keeps GCC from contracting), so batch norm
// and PReLU backward compute exactly the reference's operations: results equal the
// reference bit for bit (the tests still only require a tolerance).
// Every row walk prefetches its block PF_BYTES ahead (pf below): each slice reads a short
// block of every long row, and without it these memory-bound kernels ran at 1-2 GB/s
// (MobileFaceNet batch 64: BN fwd/bwd and PReLU bwd 3-4x faster with it).
// BN forward writes y with streaming stores when it is larger than 16 MB (9-18 % on
// MobileFaceNet-size tensors: no read for ownership of lines the kernel overwrites whole).
// The row kernels (L2 norm) vectorise along the row: 8 double partial sums, reduced in
// a fixed order, so they differ from the reference's sequential sum by double rounding
// only, and do not depend on nth.
#include <immintrin.h>
#include <math.h>
#include <stdint.h>

#include "nn/kern/kern_chan.h"

#define VB 4 // ymm vectors (of 8 channels) per block

// lanes [0, n) set, n in 0..8
static inline __m256i chan_mask(int n) {
    static const int32_t m[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
    return _mm256_loadu_si256((const __m256i *)(m + 8 - (n < 8 ? n : 8)));
}
static inline __m256 ld8(const float *p, int n) {
    return n >= 8 ? _mm256_loadu_ps(p) : _mm256_maskload_ps(p, chan_mask(n));
}
static inline void st8(float *p, __m256 v, int n) {
    if (n >= 8) _mm256_storeu_ps(p, v);
    else _mm256_maskstore_ps(p, chan_mask(n), v);
}
static inline __m256d lo4(__m256 v) { return _mm256_cvtps_pd(_mm256_castps256_ps128(v)); }
static inline __m256d hi4(__m256 v) { return _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)); }
static inline __m256 to8(__m256d lo, __m256d hi) {
    return _mm256_set_m128(_mm256_cvtpd_ps(hi), _mm256_cvtpd_ps(lo));
}
// (float)(acc) added to p[0..n)
static inline void acc_store(float *p, __m256d lo, __m256d hi, int n) {
    st8(p, _mm256_add_ps(ld8(p, n), to8(lo, hi)), n);
}

// Software prefetch of the w floats at p (one row's channel block), PF_BYTES ahead in the
// row walk: a slice reads a short block of every long row, a stride the hardware
// prefetchers follow too late (measured 2-4x slower without). Never faults.
#define PF_BYTES 4096
#define STREAM_FLOATS (4u << 20) // 16 MB
static inline size_t pf_dist(int C) { return (size_t)C * (size_t)((PF_BYTES / 4 + C - 1) / C); }
static inline void pf(const float *p, int w) {
    for (int i = 0; i < w; i += 16) _mm_prefetch((const char *)(p + i), _MM_HINT_T0);
}

void nn_avx2_bn_fwd_train(const struct nn_chan_args *a, int ith, int nth) {
    int M = a->M, C = a->C, c0, c1;
    if (M <= 0) return;
    // y far larger than the caches: streaming stores (no read for ownership); full
    // vectors are 32-byte aligned when y is and C is a multiple of 8
    int stream = (size_t)M * (size_t)C >= STREAM_FLOATS && C % 8 == 0 && !((uintptr_t)a->y & 31);
    size_t pd = pf_dist(C);
    nn_split(C, ith, nth, 8, &c0, &c1);
    __m256d dM = _mm256_set1_pd((double)M), one = _mm256_set1_pd(1.0);
    __m256d eps = _mm256_set1_pd((double)a->eps);
    for (int cb = c0; cb < c1; cb += 8 * VB) {
        int w = c1 - cb < 8 * VB ? c1 - cb : 8 * VB, nv = (w + 7) / 8;
        __m256d s[2 * VB], v[2 * VB], mu[2 * VB];
        for (int i = 0; i < 2 * VB; i++) s[i] = v[i] = _mm256_setzero_pd();
        for (int m = 0; m < M; m++) {
            const float *x = a->x + (size_t)m * C + cb;
            pf(x + pd, w);
            for (int i = 0; i < nv; i++) {
                __m256 xv = ld8(x + 8 * i, w - 8 * i);
                s[2 * i] = _mm256_add_pd(s[2 * i], lo4(xv));
                s[2 * i + 1] = _mm256_add_pd(s[2 * i + 1], hi4(xv));
            }
        }
        for (int i = 0; i < 2 * nv; i++) mu[i] = _mm256_div_pd(s[i], dM);
        for (int m = 0; m < M; m++) {
            const float *x = a->x + (size_t)m * C + cb;
            pf(x + pd, w);
            for (int i = 0; i < nv; i++) {
                __m256 xv = ld8(x + 8 * i, w - 8 * i);
                __m256d d0 = _mm256_sub_pd(lo4(xv), mu[2 * i]);
                __m256d d1 = _mm256_sub_pd(hi4(xv), mu[2 * i + 1]);
                v[2 * i] = _mm256_add_pd(v[2 * i], _mm256_mul_pd(d0, d0));
                v[2 * i + 1] = _mm256_add_pd(v[2 * i + 1], _mm256_mul_pd(d1, d1));
            }
        }
        __m256 meanf[VB], invf[VB], g[VB], b[VB];
        for (int i = 0; i < nv; i++) {
            int n = w - 8 * i, c = cb + 8 * i;
            __m256d v0 = _mm256_div_pd(v[2 * i], dM), v1 = _mm256_div_pd(v[2 * i + 1], dM);
            __m256d i0 = _mm256_div_pd(one, _mm256_sqrt_pd(_mm256_add_pd(v0, eps)));
            __m256d i1 = _mm256_div_pd(one, _mm256_sqrt_pd(_mm256_add_pd(v1, eps)));
            meanf[i] = to8(mu[2 * i], mu[2 * i + 1]);
            invf[i] = to8(i0, i1);
            st8(a->mean + c, meanf[i], n);
            st8(a->var + c, to8(v0, v1), n);
            st8(a->invstd + c, invf[i], n);
            g[i] = ld8(a->gamma + c, n);
            b[i] = ld8(a->beta + c, n);
        }
        for (int m = 0; m < M; m++) {
            const float *x = a->x + (size_t)m * C + cb;
            float *y = a->y + (size_t)m * C + cb;
            pf(x + pd, w);
            for (int i = 0; i < nv; i++) {
                int n = w - 8 * i;
                __m256 xh = _mm256_mul_ps(_mm256_sub_ps(ld8(x + 8 * i, n), meanf[i]), invf[i]);
                __m256 r = _mm256_add_ps(_mm256_mul_ps(g[i], xh), b[i]);
                if (stream && n >= 8) _mm256_stream_ps(y + 8 * i, r);
                else st8(y + 8 * i, r, n);
            }
        }
    }
    if (stream) _mm_sfence();
}

void nn_avx2_bn_bwd(const struct nn_chan_args *a, int ith, int nth) {
    int M = a->M, C = a->C, c0, c1;
    if (M <= 0) return;
    size_t pd = pf_dist(C);
    nn_split(C, ith, nth, 8, &c0, &c1);
    __m256d dM = _mm256_set1_pd((double)M);
    for (int cb = c0; cb < c1; cb += 8 * VB) {
        int w = c1 - cb < 8 * VB ? c1 - cb : 8 * VB, nv = (w + 7) / 8;
        __m256d sdy[2 * VB], sdyx[2 * VB];
        __m256 meanf[VB], invf[VB];
        for (int i = 0; i < 2 * VB; i++) sdy[i] = sdyx[i] = _mm256_setzero_pd();
        for (int i = 0; i < nv; i++) {
            meanf[i] = ld8(a->mean + cb + 8 * i, w - 8 * i);
            invf[i] = ld8(a->invstd + cb + 8 * i, w - 8 * i);
        }
        for (int m = 0; m < M; m++) {
            const float *x = a->x + (size_t)m * C + cb, *dy = a->dy + (size_t)m * C + cb;
            pf(x + pd, w), pf(dy + pd, w);
            for (int i = 0; i < nv; i++) {
                int n = w - 8 * i;
                __m256 xh = _mm256_mul_ps(_mm256_sub_ps(ld8(x + 8 * i, n), meanf[i]), invf[i]);
                __m256 d = ld8(dy + 8 * i, n);
                __m256d d0 = lo4(d), d1 = hi4(d);
                sdy[2 * i] = _mm256_add_pd(sdy[2 * i], d0);
                sdy[2 * i + 1] = _mm256_add_pd(sdy[2 * i + 1], d1);
                sdyx[2 * i] = _mm256_add_pd(sdyx[2 * i], _mm256_mul_pd(d0, lo4(xh)));
                sdyx[2 * i + 1] = _mm256_add_pd(sdyx[2 * i + 1], _mm256_mul_pd(d1, hi4(xh)));
            }
        }
        for (int i = 0; i < nv; i++) {
            int n = w - 8 * i, c = cb + 8 * i;
            if (a->dgamma) acc_store(a->dgamma + c, sdyx[2 * i], sdyx[2 * i + 1], n);
            if (a->dbeta) acc_store(a->dbeta + c, sdy[2 * i], sdy[2 * i + 1], n);
        }
        if (!a->dx) continue;
        __m256 k[VB], am[VB], bm[VB];
        for (int i = 0; i < nv; i++) {
            k[i] = _mm256_mul_ps(ld8(a->gamma + cb + 8 * i, w - 8 * i), invf[i]);
            am[i] = to8(_mm256_div_pd(sdy[2 * i], dM), _mm256_div_pd(sdy[2 * i + 1], dM));
            bm[i] = to8(_mm256_div_pd(sdyx[2 * i], dM), _mm256_div_pd(sdyx[2 * i + 1], dM));
        }
        for (int m = 0; m < M; m++) {
            const float *x = a->x + (size_t)m * C + cb, *dy = a->dy + (size_t)m * C + cb;
            pf(x + pd, w), pf(dy + pd, w);
            float *dx = a->dx + (size_t)m * C + cb;
            pf(dx + pd, w);
            for (int i = 0; i < nv; i++) {
                int n = w - 8 * i;
                __m256 xh = _mm256_mul_ps(_mm256_sub_ps(ld8(x + 8 * i, n), meanf[i]), invf[i]);
                __m256 t = _mm256_sub_ps(_mm256_sub_ps(ld8(dy + 8 * i, n), am[i]),
                                         _mm256_mul_ps(xh, bm[i]));
                st8(dx + 8 * i, _mm256_add_ps(ld8(dx + 8 * i, n), _mm256_mul_ps(k[i], t)), n);
            }
        }
    }
}

// rows split; max(x, 0) + alpha min(x, 0) with the second operand (+0) returned for
// x = +-0 and NaN as the reference's compares do, and no fused multiply-add: bit-identical
void nn_avx2_prelu_fwd(const struct nn_chan_args *a, int ith, int nth) {
    int C = a->C, m0, m1;
    nn_split(a->M, ith, nth, 1, &m0, &m1);
    __m256 zero = _mm256_setzero_ps();
    for (int m = m0; m < m1; m++) {
        const float *x = a->x + (size_t)m * C;
        float *y = a->y + (size_t)m * C;
        for (int c = 0; c < C; c += 8) {
            int n = C - c;
            __m256 xv = ld8(x + c, n), al = ld8(a->alpha + c, n);
            __m256 t = _mm256_mul_ps(al, _mm256_min_ps(xv, zero));
            st8(y + c, _mm256_add_ps(_mm256_max_ps(xv, zero), t), n);
        }
    }
}

void nn_avx2_prelu_bwd(const struct nn_chan_args *a, int ith, int nth) {
    int M = a->M, C = a->C, c0, c1;
    if (M <= 0) return;
    size_t pd = pf_dist(C);
    nn_split(C, ith, nth, 8, &c0, &c1);
    __m256 one = _mm256_set1_ps(1.0f), zero = _mm256_setzero_ps();
    for (int cb = c0; cb < c1; cb += 8 * VB) {
        int w = c1 - cb < 8 * VB ? c1 - cb : 8 * VB, nv = (w + 7) / 8;
        __m256d sa[2 * VB];
        __m256 al[VB];
        for (int i = 0; i < 2 * VB; i++) sa[i] = _mm256_setzero_pd();
        for (int i = 0; i < nv; i++) al[i] = ld8(a->alpha + cb + 8 * i, w - 8 * i);
        for (int m = 0; m < M; m++) {
            const float *x = a->x + (size_t)m * C + cb, *dy = a->dy + (size_t)m * C + cb;
            pf(x + pd, w), pf(dy + pd, w);
            if (a->dx) pf(a->dx + (size_t)m * C + cb + pd, w);
            for (int i = 0; i < nv; i++) {
                int n = w - 8 * i;
                __m256 xv = ld8(x + 8 * i, n), d = ld8(dy + 8 * i, n);
                __m256 gt = _mm256_cmp_ps(xv, zero, _CMP_GT_OQ); // false for NaN, as the ref
                if (a->dx) {
                    float *dx = a->dx + (size_t)m * C + cb + 8 * i;
                    __m256 s = _mm256_blendv_ps(al[i], one, gt);
                    st8(dx, _mm256_add_ps(ld8(dx, n), _mm256_mul_ps(d, s)), n);
                }
                __m256 xn = _mm256_blendv_ps(xv, zero, gt); // x where x <= 0, else 0
                sa[2 * i] = _mm256_add_pd(sa[2 * i], _mm256_mul_pd(lo4(d), lo4(xn)));
                sa[2 * i + 1] = _mm256_add_pd(sa[2 * i + 1], _mm256_mul_pd(hi4(d), hi4(xn)));
            }
        }
        if (a->dalpha)
            for (int i = 0; i < nv; i++)
                acc_store(a->dalpha + cb + 8 * i, sa[2 * i], sa[2 * i + 1], w - 8 * i);
    }
}

// sum of 4 doubles in a fixed order
static inline double hsum4(__m256d v) {
    __m128d l = _mm256_castpd256_pd128(v), h = _mm256_extractf128_pd(v, 1);
    __m128d s = _mm_add_pd(l, h);
    return _mm_cvtsd_f64(_mm_add_sd(s, _mm_unpackhi_pd(s, s)));
}

// sum_d p[d] q[d] in double (8 partial sums, then reduced)
static double row_dot(const float *p, const float *q, int D) {
    __m256d s0 = _mm256_setzero_pd(), s1 = _mm256_setzero_pd();
    for (int d = 0; d < D; d += 8) {
        __m256 pv = ld8(p + d, D - d), qv = ld8(q + d, D - d);
        s0 = _mm256_add_pd(s0, _mm256_mul_pd(lo4(pv), lo4(qv)));
        s1 = _mm256_add_pd(s1, _mm256_mul_pd(hi4(pv), hi4(qv)));
    }
    return hsum4(_mm256_add_pd(s0, s1));
}

void nn_avx2_l2norm_fwd(const struct nn_rows_args *a, int ith, int nth) {
    int r0, r1, D = a->D;
    nn_split(a->N, ith, nth, 1, &r0, &r1);
    for (int r = r0; r < r1; r++) {
        const float *x = a->x + (size_t)r * D;
        float *y = a->y + (size_t)r * D;
        double nrm = sqrt(row_dot(x, x, D));
        __m256d den = _mm256_set1_pd(nrm >= a->eps ? nrm : a->eps);
        for (int d = 0; d < D; d += 8) {
            __m256 xv = ld8(x + d, D - d);
            st8(y + d, to8(_mm256_div_pd(lo4(xv), den), _mm256_div_pd(hi4(xv), den)), D - d);
        }
    }
}

void nn_avx2_l2norm_bwd(const struct nn_rows_args *a, int ith, int nth) {
    int r0, r1, D = a->D;
    if (!a->dx) return;
    nn_split(a->N, ith, nth, 1, &r0, &r1);
    for (int r = r0; r < r1; r++) {
        const float *x = a->x + (size_t)r * D, *y = a->y + (size_t)r * D;
        const float *dy = a->dy + (size_t)r * D;
        float *dx = a->dx + (size_t)r * D;
        double nrm = sqrt(row_dot(x, x, D));
        __m256d den = _mm256_set1_pd(nrm >= a->eps ? nrm : a->eps);
        __m256d dot = _mm256_set1_pd(nrm >= a->eps ? row_dot(y, dy, D) : 0.0);
        for (int d = 0; d < D; d += 8) {
            int n = D - d;
            __m256 yv = ld8(y + d, n), dv = ld8(dy + d, n);
            __m256d g0 = _mm256_div_pd(_mm256_sub_pd(lo4(dv), _mm256_mul_pd(lo4(yv), dot)), den);
            __m256d g1 = _mm256_div_pd(_mm256_sub_pd(hi4(dv), _mm256_mul_pd(hi4(yv), dot)), den);
            st8(dx + d, _mm256_add_ps(ld8(dx + d, n), to8(g0, g1)), n);
        }
    }
}
