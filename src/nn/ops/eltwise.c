// SPDX-License-Identifier: MIT
// Element-wise ops. Binary ops broadcast numpy-style (shapes aligned on the right, a
// dimension of 1 repeats); our graphs only broadcast a per-channel vector or a size-1
// last axis, but the rule is general. Unary: NEG -x, ABS |x|, RELU max(x,0), EXP e^x.
// PRELU (fused from the composite sub-graphs, or built): f(x) = x > 0 ? x : alpha[c]*x.
// Backward (training): ADD (with broadcasting), RELU, PRELU.
#include <math.h>

#include "nn/nn_int.h"

static int bin_shape(const struct nn_net *net, const struct nn_node *nd,
                     const struct nn_shape *in[], struct nn_shape *out) {
    const struct nn_shape *a = in[0], *b = in[1];
    int r = a->rank > b->rank ? a->rank : b->rank;
    out->rank = r;
    for (int i = 0; i < r; i++) {
        int da = i < r - a->rank ? 1 : a->d[i - (r - a->rank)];
        int db = i < r - b->rank ? 1 : b->d[i - (r - b->rank)];
        if (da != db && da != 1 && db != 1)
            return fh_fail(FH_E_ARG, "%s: shapes do not broadcast (dim %d: %d vs %d)",
                           nn_op_name(nd->op), i, da, db);
        out->d[i] = da > db ? da : db;
    }
    return FH_OK;
}

// strides (in elements) of x broadcast to the rank-r output shape
static void bcast_strides(const struct nn_shape *x, int r, size_t st[FH_MAX_DIMS]) {
    size_t s = 1;
    for (int i = r - 1; i >= 0; i--) {
        int xi = i - (r - x->rank);
        int d = xi < 0 ? 1 : x->d[xi];
        st[i] = d == 1 ? 0 : s;
        s *= (size_t)d;
    }
}

static float bin_apply(enum nn_op op, float a, float b) {
    switch (op) {
    case NN_OP_ADD: return a + b;
    case NN_OP_SUB: return a - b;
    case NN_OP_MUL: return a * b;
    default: return a / b;
    }
}

static void bin_forward(struct nn_session *s, const struct nn_node *nd) {
    const struct nn_slot *A = &s->slots[nd->in[0]], *B = &s->slots[nd->in[1]];
    const struct nn_slot *Y = &s->slots[nd->out];
    int r = Y->shape.rank;
    size_t sa[FH_MAX_DIMS], sb[FH_MAX_DIMS];
    bcast_strides(&A->shape, r, sa);
    bcast_strides(&B->shape, r, sb);
    // outer = all dims but the last; inner loop over the last dim with stride 0 or 1
    int inner = r ? Y->shape.d[r - 1] : 1;
    size_t outer = nn_shape_count(&Y->shape) / (size_t)(inner ? inner : 1);
    size_t ia = r ? sa[r - 1] : 0, ib = r ? sb[r - 1] : 0;
    int idx[FH_MAX_DIMS] = {0};
    for (size_t o = 0; o < outer; o++) {
        size_t oa = 0, ob = 0;
        for (int i = 0; i < r - 1; i++) oa += idx[i] * sa[i], ob += idx[i] * sb[i];
        const float *pa = A->ptr + oa, *pb = B->ptr + ob;
        float *py = Y->ptr + o * (size_t)inner;
        for (int j = 0; j < inner; j++) py[j] = bin_apply(nd->op, pa[j * ia], pb[j * ib]);
        for (int i = r - 2; i >= 0; i--) { // odometer over the outer dims
            if (++idx[i] < Y->shape.d[i]) break;
            idx[i] = 0;
        }
    }
}

static int same_shape(const struct nn_net *net, const struct nn_node *nd,
                      const struct nn_shape *in[], struct nn_shape *out) {
    *out = *in[0];
    return FH_OK;
}

static void unary_forward(struct nn_session *s, const struct nn_node *nd) {
    const float *x = s->slots[nd->in[0]].ptr;
    float *y = s->slots[nd->out].ptr;
    size_t n = nn_shape_count(&s->slots[nd->out].shape);
    switch (nd->op) {
    case NN_OP_NEG: for (size_t i = 0; i < n; i++) y[i] = -x[i]; break;
    case NN_OP_ABS: for (size_t i = 0; i < n; i++) y[i] = fabsf(x[i]); break;
    case NN_OP_RELU: for (size_t i = 0; i < n; i++) y[i] = x[i] > 0 ? x[i] : 0; break;
    case NN_OP_EXP: for (size_t i = 0; i < n; i++) y[i] = expf(x[i]); break;
    default: FH_ASSERT(!"not a unary op");
    }
}

// d(a + b): each input gets dy summed over the dimensions it was broadcast along
// (serial, output order: deterministic)
static void add_backward(struct nn_session *s, const struct nn_node *nd) {
    const struct nn_slot *Y = &s->slots[nd->out];
    const float *dy = nn_grad(s, nd->out);
    size_t n = nn_shape_count(&Y->shape);
    int r = Y->shape.rank;
    for (int k = 0; k < 2; k++) {
        float *g = nn_grad(s, nd->in[k]);
        if (!g) continue;
        const struct nn_shape *xs = &s->slots[nd->in[k]].shape;
        if (nn_shape_count(xs) == n) {
            for (size_t i = 0; i < n; i++) g[i] += dy[i];
            continue;
        }
        size_t st[FH_MAX_DIMS];
        bcast_strides(xs, r, st);
        int idx[FH_MAX_DIMS] = {0};
        size_t off = 0;
        for (size_t i = 0; i < n; i++) {
            g[off] += dy[i];
            for (int d = r - 1; d >= 0; d--) { // odometer, keeping the input offset
                off += st[d];
                if (++idx[d] < Y->shape.d[d]) break;
                off -= st[d] * (size_t)idx[d];
                idx[d] = 0;
            }
        }
    }
}

static void relu_backward(struct nn_session *s, const struct nn_node *nd) {
    const float *x = s->slots[nd->in[0]].ptr, *dy = nn_grad(s, nd->out);
    float *dx = nn_grad(s, nd->in[0]);
    size_t n = nn_shape_count(&s->slots[nd->out].shape);
    if (dx)
        for (size_t i = 0; i < n; i++) dx[i] += x[i] > 0 ? dy[i] : 0;
}

struct chan_job {
    const struct nn_kern *k;
    struct nn_chan_args a;
};
static void prelu_bwd_task(void *ctx, int ith, int nth) {
    struct chan_job *j = ctx;
    j->k->prelu_bwd(&j->a, ith, nth);
}

static void prelu_fwd_task(void *ctx, int ith, int nth) {
    struct chan_job *j = ctx;
    j->k->prelu_fwd(&j->a, ith, nth);
}

static void prelu_forward(struct nn_session *s, const struct nn_node *nd) {
    struct chan_job j = {.k = s->net->kern};
    nn_rows(&s->slots[nd->in[0]].shape, &j.a.M, &j.a.C);
    j.a.x = s->slots[nd->in[0]].ptr, j.a.y = s->slots[nd->out].ptr, j.a.alpha = nd->alpha;
    nn_session_parallel(s, prelu_fwd_task, &j);
}

// slopes are the param itself (training sessions refuse alpha_scale != 1)
static void prelu_backward(struct nn_session *s, const struct nn_node *nd) {
    struct chan_job j = {.k = s->net->kern};
    nn_rows(&s->slots[nd->in[0]].shape, &j.a.M, &j.a.C);
    j.a.x = s->slots[nd->in[0]].ptr, j.a.dy = nn_grad(s, nd->out);
    j.a.dx = nn_grad(s, nd->in[0]), j.a.alpha = nd->alpha, j.a.dalpha = nn_grad(s, nd->p.alpha);
    if (j.a.dx || j.a.dalpha) nn_session_parallel(s, prelu_bwd_task, &j);
}

const struct nn_op_def nn_op_add = {"ADD", bin_shape, NULL, bin_forward, add_backward, NULL};
const struct nn_op_def nn_op_sub = {"SUB", bin_shape, NULL, bin_forward, NULL, NULL};
const struct nn_op_def nn_op_mul = {"MUL", bin_shape, NULL, bin_forward, NULL, NULL};
const struct nn_op_def nn_op_div = {"DIV", bin_shape, NULL, bin_forward, NULL, NULL};
const struct nn_op_def nn_op_neg = {"NEG", same_shape, NULL, unary_forward, NULL, NULL};
const struct nn_op_def nn_op_abs = {"ABS", same_shape, NULL, unary_forward, NULL, NULL};
const struct nn_op_def nn_op_relu = {"RELU", same_shape, NULL, unary_forward, relu_backward, NULL};
const struct nn_op_def nn_op_exp = {"EXP", same_shape, NULL, unary_forward, NULL, NULL};
static int prelu_shape(const struct nn_net *net, const struct nn_node *nd,
                       const struct nn_shape *in[], struct nn_shape *out) {
    *out = *in[0];
    return nn_check_alpha(nd, out->rank ? out->d[out->rank - 1] : 1);
}

const struct nn_op_def nn_op_prelu = {"PRELU", prelu_shape, NULL, prelu_forward, prelu_backward, NULL};
