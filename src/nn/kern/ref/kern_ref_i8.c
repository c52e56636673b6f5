// SPDX-License-Identifier: MIT
// The scalar reference of the int8 row-dot kernel (kern.h: struct nn_i8dot_args).
#include "nn/kern/kern_i8.h"

void nn_ref_i8_dot_rows(const struct nn_i8dot_args *a, int ith, int nth) {
    int r0, r1;
    nn_split(a->N, ith, nth, 1, &r0, &r1);
    for (int r = r0; r < r1; r++) {
        const int8_t *x = a->rows + (size_t)r * a->stride;
        int32_t s = 0;
        for (int k = 0; k < a->D; k++) s += (int32_t)x[k] * a->q[k];
        a->out[r] = s;
    }
}
