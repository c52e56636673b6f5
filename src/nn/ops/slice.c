// SPDX-License-Identifier: MIT
// SLICE: y = x[..., start:stop, ...] along p.axis, step 1. start/stop as ONNX reads them:
// negative counts from the end, then clamped to [0, dim]; an empty result is refused.
#include <string.h>

#include "nn/nn_int.h"

// index i of a dimension d: negative counts from the end, then clamped to [0, d]
static int slice_index(int i, int d) {
    long v = i < 0 ? (long)i + d : i;
    return v < 0 ? 0 : v > d ? d : (int)v;
}

// [*a, *b) of dimension d
static void slice_range(const struct nn_params *p, int d, int *a, int *b) {
    *a = slice_index(p->start, d), *b = slice_index(p->stop, d);
}

static int slice_shape(const struct nn_net *net, const struct nn_node *nd,
                       const struct nn_shape *in[], struct nn_shape *out) {
    int ax = nd->p.axis, a, b;
    if (ax < 0 || ax >= in[0]->rank) return fh_fail(FH_E_ARG, "SLICE: axis %d of a rank-%d input", ax, in[0]->rank);
    slice_range(&nd->p, in[0]->d[ax], &a, &b);
    if (b <= a) return fh_fail(FH_E_ARG, "SLICE: [%d, %d) of %d is empty", nd->p.start, nd->p.stop, in[0]->d[ax]);
    *out = *in[0];
    out->d[ax] = b - a;
    return FH_OK;
}

static void slice_forward(struct nn_session *s, const struct nn_node *nd) {
    const struct nn_shape *xs = &s->slots[nd->in[0]].shape;
    int ax = nd->p.axis, a, b;
    slice_range(&nd->p, xs->d[ax], &a, &b);
    size_t outer = 1, inner = 1;
    for (int d = 0; d < ax; d++) outer *= (size_t)xs->d[d];
    for (int d = ax + 1; d < xs->rank; d++) inner *= (size_t)xs->d[d];
    const float *x = s->slots[nd->in[0]].ptr;
    float *y = s->slots[nd->out].ptr;
    size_t n = (size_t)(b - a) * inner, row = (size_t)xs->d[ax] * inner;
    // row o of x: [outer][dim][inner]; keep [a, b) of dim
    for (size_t o = 0; o < outer; o++) memcpy(y + o * n, x + o * row + (size_t)a * inner, n * sizeof *y);
}

const struct nn_op_def nn_op_slice = {"SLICE", slice_shape, NULL, slice_forward, NULL, NULL};
