// SPDX-License-Identifier: MIT
// Internal to kern/: the scalar reference backward kernels of conv / FC and depthwise
// conv (kern_ref_bwd.c), for the reference table (kern_ref.c) and as the fallback
// slots of faster tables. Semantics: struct nn_kern in kern.h.
#ifndef FH_KERN_REF_BWD_H
#define FH_KERN_REF_BWD_H

#include "nn/kern/kern.h"

size_t nn_ref_conv_bwd_scratch(const struct nn_conv_bwd_args *a);
void nn_ref_conv2d_bwd_data(const struct nn_conv_bwd_args *a, int ith, int nth);
void nn_ref_conv2d_bwd_filter(const struct nn_conv_bwd_args *a, int ith, int nth);
void nn_ref_dwconv2d_bwd_data(const struct nn_dw_bwd_args *a, int ith, int nth);
void nn_ref_dwconv2d_bwd_filter(const struct nn_dw_bwd_args *a, int ith, int nth);

#endif
