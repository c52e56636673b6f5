// SPDX-License-Identifier: MIT
// Internal to kern/: the AVX2+FMA backward kernels of conv / FC and depthwise conv
// (kern_avx2_bwd.c, built with -mavx2 -mfma) for the AVX2 table in kern_avx2.c.
// Semantics: struct nn_kern in kern.h.
#ifndef FH_KERN_AVX2_BWD_H
#define FH_KERN_AVX2_BWD_H

#include "nn/kern/kern.h"

size_t nn_avx2_conv_bwd_scratch(const struct nn_conv_bwd_args *a);
void nn_avx2_conv2d_bwd_data(const struct nn_conv_bwd_args *a, int ith, int nth);
void nn_avx2_conv2d_bwd_filter(const struct nn_conv_bwd_args *a, int ith, int nth);
void nn_avx2_dwconv2d_bwd_data(const struct nn_dw_bwd_args *a, int ith, int nth);
void nn_avx2_dwconv2d_bwd_filter(const struct nn_dw_bwd_args *a, int ith, int nth);

#endif
