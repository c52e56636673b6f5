// SPDX-License-Identifier: MIT
// RESHAPE to a constant shape (one -1 allowed) and FLATTEN ([N, ...] -> [N, prod]).
// The importer turns MobileFaceNet's constant [2,192] reshape (batch baked in by the
// converter) into FLATTEN so any batch runs. Both copy (no aliasing in the plan).
#include <string.h>

#include "nn/nn_int.h"

static int reshape_shape(const struct nn_net *net, const struct nn_node *nd,
                         const struct nn_shape *in[], struct nn_shape *out) {
    size_t n = nn_shape_count(in[0]);
    if (nd->op == NN_OP_FLATTEN) {
        int N = in[0]->rank ? in[0]->d[0] : 1;
        *out = (struct nn_shape){2, {N, N ? (int)(n / (size_t)N) : 0}};
        return FH_OK;
    }
    const struct nn_value *sv = &net->values[nd->in[1]];
    int r = (int)nn_shape_count(&sv->shape), neg = -1;
    if (!sv->idata || r < 1 || r > FH_MAX_DIMS)
        return fh_fail(FH_E_ARG, "RESHAPE: bad shape tensor");
    size_t known = 1;
    out->rank = r;
    for (int i = 0; i < r; i++) {
        out->d[i] = sv->idata[i];
        if (out->d[i] == -1 && neg < 0) neg = i;
        else if (out->d[i] < 0) return fh_fail(FH_E_ARG, "RESHAPE: bad dimension");
        else known *= (size_t)out->d[i];
    }
    if (neg >= 0 && known) out->d[neg] = (int)(n / known), known *= (size_t)out->d[neg];
    if (known != n)
        return fh_fail(FH_E_ARG, "RESHAPE: %zu values cannot take the shape (%zu)", n, known);
    return FH_OK;
}

static void reshape_forward(struct nn_session *s, const struct nn_node *nd) {
    memcpy(s->slots[nd->out].ptr, s->slots[nd->in[0]].ptr,
           nn_shape_count(&s->slots[nd->out].shape) * sizeof(float));
}

static void reshape_backward(struct nn_session *s, const struct nn_node *nd) {
    const float *dy = nn_grad(s, nd->out);
    float *dx = nn_grad(s, nd->in[0]);
    size_t n = nn_shape_count(&s->slots[nd->out].shape);
    if (dx)
        for (size_t i = 0; i < n; i++) dx[i] += dy[i];
}

const struct nn_op_def nn_op_reshape = {"RESHAPE", reshape_shape, NULL, reshape_forward, reshape_backward, NULL};
const struct nn_op_def nn_op_flatten = {"FLATTEN", reshape_shape, NULL, reshape_forward, reshape_backward, NULL};
