// SPDX-License-Identifier: MIT
// kern (private): the per-channel and per-row training kernels (struct nn_chan_args,
// struct nn_rows_args in kern.h), defined in ref/kern_ref_chan.c and
// x86/kern_avx2_chan.c and put into the tables of kern_ref.c / kern_avx2.c.
// Semantics, accumulation and slicing: see kern.h.
//
// Both variants take every per-channel / per-row sum in double, in row order (m = 0..M-1,
// resp. d = 0..D-1 for the reference; the AVX2 row kernels sum 8 lanes then reduce in a
// fixed order), so results never depend on nth.
#ifndef FH_KERN_CHAN_H
#define FH_KERN_CHAN_H

#include "nn/kern/kern.h"

void nn_ref_bn_fwd_train(const struct nn_chan_args *a, int ith, int nth);
void nn_ref_bn_bwd(const struct nn_chan_args *a, int ith, int nth);
void nn_ref_prelu_fwd(const struct nn_chan_args *a, int ith, int nth);
void nn_ref_prelu_bwd(const struct nn_chan_args *a, int ith, int nth);
void nn_ref_l2norm_fwd(const struct nn_rows_args *a, int ith, int nth);
void nn_ref_l2norm_bwd(const struct nn_rows_args *a, int ith, int nth);

void nn_avx2_bn_fwd_train(const struct nn_chan_args *a, int ith, int nth);
void nn_avx2_bn_bwd(const struct nn_chan_args *a, int ith, int nth);
void nn_avx2_prelu_fwd(const struct nn_chan_args *a, int ith, int nth);
void nn_avx2_prelu_bwd(const struct nn_chan_args *a, int ith, int nth);
void nn_avx2_l2norm_fwd(const struct nn_rows_args *a, int ith, int nth);
void nn_avx2_l2norm_bwd(const struct nn_rows_args *a, int ith, int nth);

#endif
