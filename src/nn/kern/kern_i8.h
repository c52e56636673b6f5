// SPDX-License-Identifier: MIT
// kern (private): the int8 row-dot kernels (struct nn_i8dot_args in kern.h), defined in
// ref/kern_ref_i8.c and x86/kern_avx2_i8.c and put into the tables of kern_ref.c /
// kern_avx2.c. Integer arithmetic: both give the same int32 results exactly.
#ifndef FH_KERN_I8_H
#define FH_KERN_I8_H

#include "nn/kern/kern.h"

void nn_ref_i8_dot_rows(const struct nn_i8dot_args *a, int ith, int nth);
void nn_avx2_i8_dot_rows(const struct nn_i8dot_args *a, int ith, int nth);

#endif
