// SPDX-License-Identifier: MIT
// CONCAT: y = [x0, x1, ...] along p.axis; every other dimension must be equal.
// Viewed as rows: outer = prod(d[0 .. axis-1]) rows, input k contributing a run of
// inner_k = prod(d_k[axis ..]) floats to each row. A copy, no arithmetic, so there is no
// kernel-table slot (nothing for a fast variant to speed up beyond memcpy).
#include <string.h>

#include "nn/nn_int.h"

static int concat_shape(const struct nn_net *net, const struct nn_node *nd,
                        const struct nn_shape *in[], struct nn_shape *out) {
    const struct nn_shape *x = in[0];
    int ax = nd->p.axis;
    if (ax < 0 || ax >= x->rank) return fh_fail(FH_E_ARG, "CONCAT: axis %d of a rank-%d input", ax, x->rank);
    *out = *x;
    for (int k = 1; k < nd->n_in; k++) {
        const struct nn_shape *y = in[k];
        if (!y || y->rank != x->rank) return fh_fail(FH_E_ARG, "CONCAT: input %d has another rank", k);
        for (int d = 0; d < x->rank; d++)
            if (d != ax && y->d[d] != x->d[d])
                return fh_fail(FH_E_ARG, "CONCAT: input %d dimension %d is %d, input 0 has %d", k,
                               d, y->d[d], x->d[d]);
        if ((long)out->d[ax] + y->d[ax] > (1L << 30)) return fh_fail(FH_E_ARG, "CONCAT: too large");
        out->d[ax] += y->d[ax];
    }
    return FH_OK;
}

static void concat_forward(struct nn_session *s, const struct nn_node *nd) {
    const struct nn_shape *ys = &s->slots[nd->out].shape;
    int ax = nd->p.axis;
    size_t outer = 1, row = 1;
    for (int d = 0; d < ax; d++) outer *= (size_t)ys->d[d];
    for (int d = ax; d < ys->rank; d++) row *= (size_t)ys->d[d];
    float *y = s->slots[nd->out].ptr;
    size_t off = 0;
    // input k: rows of inner floats, placed at column off of each output row
    for (int k = 0; k < nd->n_in; k++) {
        const struct nn_slot *xs = &s->slots[nd->in[k]];
        size_t inner = outer ? nn_shape_count(&xs->shape) / outer : 0;
        for (size_t o = 0; o < outer; o++)
            memcpy(y + o * row + off, xs->ptr + o * inner, inner * sizeof *y);
        off += inner;
    }
}

const struct nn_op_def nn_op_concat = {"CONCATENATION", concat_shape, NULL, concat_forward, NULL, NULL};
