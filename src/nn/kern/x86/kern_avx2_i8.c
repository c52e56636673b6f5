// SPDX-License-Identifier: MIT
// AVX2 twin of the int8 row-dot kernel (ref/kern_ref_i8.c; kern.h: struct nn_i8dot_args).
// Built with -mavx2 -mfma; dispatch only uses it when the CPU has both.
//
// Four rows at a time share each query load: 16 int8 of a row are sign-extended to int16
// (vpmovsxbw) and multiplied with 16 int16 of the query, adjacent products summed into
// int32 (vpmaddwd), 8 lanes per row accumulated over the row and reduced at the end; the
// D % 16 tail is scalar. Integer sums: equal to the reference exactly. The scan is bound by
// memory (a 10^6 x 192 gallery is 192 MB), so the next rows are prefetched.
#include <immintrin.h>

#include "nn/kern/kern_i8.h"

static inline int32_t hsum8(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
    return _mm_cvtsi128_si32(s);
}

static inline __m256i madd16(const int8_t *x, __m256i q) {
    return _mm256_madd_epi16(_mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)x)), q);
}

void nn_avx2_i8_dot_rows(const struct nn_i8dot_args *a, int ith, int nth) {
    int r0, r1;
    nn_split(a->N, ith, nth, 1, &r0, &r1);
    const int D = a->D, D16 = D & ~15;
    const size_t st = a->stride;
    int r = r0;
    for (; r + 4 <= r1; r += 4) {
        const int8_t *x0 = a->rows + (size_t)r * st, *x1 = x0 + st, *x2 = x1 + st, *x3 = x2 + st;
        _mm_prefetch((const char *)(x0 + 8 * st), _MM_HINT_T0);
        _mm_prefetch((const char *)(x0 + 8 * st + 64), _MM_HINT_T0);
        _mm_prefetch((const char *)(x0 + 8 * st + 128), _MM_HINT_T0);
        __m256i s0 = _mm256_setzero_si256(), s1 = s0, s2 = s0, s3 = s0;
        for (int k = 0; k < D16; k += 16) {
            __m256i q = _mm256_loadu_si256((const __m256i *)(a->q + k));
            s0 = _mm256_add_epi32(s0, madd16(x0 + k, q));
            s1 = _mm256_add_epi32(s1, madd16(x1 + k, q));
            s2 = _mm256_add_epi32(s2, madd16(x2 + k, q));
            s3 = _mm256_add_epi32(s3, madd16(x3 + k, q));
        }
        int32_t t0 = hsum8(s0), t1 = hsum8(s1), t2 = hsum8(s2), t3 = hsum8(s3);
        for (int k = D16; k < D; k++) {
            int32_t qk = a->q[k];
            t0 += x0[k] * qk, t1 += x1[k] * qk, t2 += x2[k] * qk, t3 += x3[k] * qk;
        }
        a->out[r] = t0, a->out[r + 1] = t1, a->out[r + 2] = t2, a->out[r + 3] = t3;
    }
    for (; r < r1; r++) {
        const int8_t *x = a->rows + (size_t)r * st;
        __m256i s = _mm256_setzero_si256();
        for (int k = 0; k < D16; k += 16) s = _mm256_add_epi32(s, madd16(x + k, _mm256_loadu_si256((const __m256i *)(a->q + k))));
        int32_t t = hsum8(s);
        for (int k = D16; k < D; k++) t += x[k] * a->q[k];
        a->out[r] = t;
    }
}
