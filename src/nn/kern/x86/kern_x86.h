// SPDX-License-Identifier: MIT
// kern/x86 (private): what the AVX-512 kernels share with the AVX2 ones. The fp32 conv
// uses the AVX2 table's packing (panels of 16 output channels), tiling and im2col, so the
// two tables differ only in register width and give the same results bit for bit.
#ifndef FH_KERN_X86_H
#define FH_KERN_X86_H

#include "nn/kern/kern.h"

// kern_avx2.c
int nn_avx2_conv_direct(const struct nn_conv_args *a);    // 1x1, stride 1, no pad: A = x
int nn_avx2_conv_tm(int K);                                // rows per im2col tile
size_t nn_avx2_conv_scratch(const struct nn_conv_args *a); // floats per thread
void nn_avx2_im2col(const struct nn_conv_args *a, int m0, int rows, float *A);
const struct nn_kern *nn_kern_avx2_table(void);

// kern_avx512.c: tables built from the AVX2 table on first use (thread-safe)
const struct nn_kern *nn_kern_avx512_table(int vnni);
// kern_avx512_vnni.c (built with -mavx512vnni): the int8 conv on vpdpbusd. Packing: panels
// of 16 output channels, per group of 4 k (K rounded up to a multiple of 4) 16 x 4 int8 =
// 64 bytes, then per output channel the int32 128 * sum_k qw (the u8 input is q + 128).
size_t nn_vnni_qconv_pack_size(int OC, int K);
void nn_vnni_qconv_pack(int OC, int K, const int8_t *wq, void *wp);
size_t nn_vnni_qconv_scratch(const struct nn_qconv_args *a);
void nn_vnni_qconv2d(const struct nn_qconv_args *a, int ith, int nth);

// im2col without dilation: the kw taps of one kh row of output column ox are adjacent input
// cells, taps [0, kw0) and [kw1, KW) outside the input (zeros), [kw0, kw1) one run starting
// at input column ix0 + kw0
static inline void nn_im2col_span(int ox, int SW, int PL, int W, int KW, int *ix0, int *kw0, int *kw1) {
    int x0 = ox * SW - PL, k0 = x0 < 0 ? -x0 : 0, k1 = W - x0;
    if (k1 > KW) k1 = KW;
    if (k0 > KW) k0 = KW;
    if (k1 < k0) k1 = k0;
    *ix0 = x0, *kw0 = k0, *kw1 = k1;
}

// a pooling window along one axis: output o's taps [k0, k1) of K lie inside the input
// (o*S - P + k in [0, in))
static inline void nn_pool_taps(int o, int S, int P, int in, int K, int *k0, int *k1) {
    int a = P - o * S, b = in + P - o * S;
    *k0 = a < 0 ? 0 : a, *k1 = b > K ? K : b;
}

// the largest rows x panels a 512-bit micro-kernel takes
#define NN_X86_MR512 12
#endif
