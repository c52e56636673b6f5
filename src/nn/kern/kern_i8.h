// SPDX-License-Identifier: MIT
// kern (private): the int8 kernels, the row dot (struct nn_i8dot_args in kern.h) and the
// conv (struct nn_qconv_args), defined in ref/kern_ref_i8.c and x86/kern_avx2_*.c and put
// into the tables of kern_ref.c / kern_avx2.c (kern_avx512.c has its own). Integer
// arithmetic: every variant gives the reference's int32 sums exactly.
#ifndef FH_KERN_I8_H
#define FH_KERN_I8_H

#include "nn/kern/kern.h"

void nn_ref_i8_dot_rows(const struct nn_i8dot_args *a, int ith, int nth);
void nn_avx2_i8_dot_rows(const struct nn_i8dot_args *a, int ith, int nth);

// int8 conv (struct nn_qconv_args): the reference (ref/kern_ref_i8.c) and AVX2
// (x86/kern_avx2_q8.c: int16 pairs, vpmaddwd; its packing is shared with the AVX-512 BW
// kernel, whose im2col it also provides)
size_t nn_ref_qconv_pack_size(int OC, int K);
void nn_ref_qconv_pack(int OC, int K, const int8_t *wq, void *wp);
size_t nn_ref_qconv_scratch(const struct nn_qconv_args *a);
void nn_ref_qconv2d(const struct nn_qconv_args *a, int ith, int nth);
size_t nn_avx2_qconv_pack_size(int OC, int K);
void nn_avx2_qconv_pack(int OC, int K, const int8_t *wq, void *wp);
size_t nn_avx2_qconv_scratch(const struct nn_qconv_args *a);
void nn_avx2_qconv2d(const struct nn_qconv_args *a, int ith, int nth);
// rows [m0, m0 + rows) of the quantised im2col matrix as int16, each row Kp = K rounded
// up to even (zeros past K), rows Kp apart; and the tile height the AVX2 kernel uses
void nn_avx2_q16_im2col(const struct nn_qconv_args *a, int m0, int rows, int16_t *A);
int nn_q16_tile_rows(int Kp);

#endif
