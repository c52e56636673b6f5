// SPDX-License-Identifier: MIT
// REDUCE_MAX and SUM over one axis (keep_dims as the file says), and the fused SOFTMAX
// over the last axis: y = exp(x - max(x)) / sum(exp(x - max(x))), computed exactly as
// the composite graph does (float32, same order) so fused and unfused agree.
#include <float.h>
#include <math.h>

#include "nn/nn_int.h"

static int reduce_shape(const struct nn_net *net, const struct nn_node *nd,
                        const struct nn_shape *in[], struct nn_shape *out) {
    const struct nn_shape *x = in[0];
    int ax = nd->p.axis < 0 ? nd->p.axis + x->rank : nd->p.axis;
    if (ax < 0 || ax >= x->rank)
        return fh_fail(FH_E_ARG, "%s: axis %d out of range", nn_op_name(nd->op), nd->p.axis);
    *out = *x;
    if (nd->p.keep_dims) {
        out->d[ax] = 1;
    } else {
        for (int i = ax; i < x->rank - 1; i++) out->d[i] = x->d[i + 1];
        out->rank--;
    }
    return FH_OK;
}

static void reduce_forward(struct nn_session *s, const struct nn_node *nd) {
    const struct nn_slot *X = &s->slots[nd->in[0]];
    float *y = s->slots[nd->out].ptr;
    int ax = nd->p.axis < 0 ? nd->p.axis + X->shape.rank : nd->p.axis;
    size_t outer = 1, inner = 1;
    for (int i = 0; i < ax; i++) outer *= (size_t)X->shape.d[i];
    for (int i = ax + 1; i < X->shape.rank; i++) inner *= (size_t)X->shape.d[i];
    int len = X->shape.d[ax];
    for (size_t o = 0; o < outer; o++)
        for (size_t i = 0; i < inner; i++) {
            const float *x = X->ptr + o * len * inner + i;
            float acc = nd->op == NN_OP_SUM ? 0 : -FLT_MAX;
            for (int k = 0; k < len; k++) {
                float v = x[(size_t)k * inner];
                acc = nd->op == NN_OP_SUM ? acc + v : (v > acc ? v : acc);
            }
            y[o * inner + i] = acc;
        }
}

static int softmax_shape(const struct nn_net *net, const struct nn_node *nd,
                         const struct nn_shape *in[], struct nn_shape *out) {
    *out = *in[0];
    return FH_OK;
}

static void softmax_forward(struct nn_session *s, const struct nn_node *nd) {
    const struct nn_slot *X = &s->slots[nd->in[0]];
    float *y = s->slots[nd->out].ptr;
    int len = X->shape.d[X->shape.rank - 1];
    size_t rows = nn_shape_count(&X->shape) / (size_t)len;
    for (size_t r = 0; r < rows; r++) {
        const float *x = X->ptr + r * len;
        float *o = y + r * len, mx = -FLT_MAX, sum = 0;
        for (int k = 0; k < len; k++) mx = x[k] > mx ? x[k] : mx;
        for (int k = 0; k < len; k++) sum += (o[k] = expf(x[k] - mx));
        for (int k = 0; k < len; k++) o[k] /= sum;
    }
}

const struct nn_op_def nn_op_reduce_max = {"REDUCE_MAX", reduce_shape, NULL, reduce_forward, NULL, NULL};
const struct nn_op_def nn_op_sum = {"SUM", reduce_shape, NULL, reduce_forward, NULL, NULL};
const struct nn_op_def nn_op_softmax = {"SOFTMAX", softmax_shape, NULL, softmax_forward, NULL, NULL};
