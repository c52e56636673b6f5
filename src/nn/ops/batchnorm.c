// SPDX-License-Identifier: MIT
// BATCHNORM over the last axis; inputs x, gamma, beta, running mean, running var (C each).
//   inference:  y = gamma (x - mean) / sqrt(var + eps) + beta, as a per-channel scale and
//               shift (computed per run into the session scratch)
//   training:   the kern's bn_fwd_train with batch statistics (biased variance), saved in
//               the node's session state (mean, invstd, var) for backward; the running
//               stats move as torch does with momentum 0.1, running_var taking the
//               UNBIASED batch variance var * M / (M - 1) (M = rows = N*H*W).
//   backward:   the kern's bn_bwd (dx, dgamma, dbeta).
#include <math.h>

#include "nn/nn_int.h"

#define BN_MOMENTUM 0.1f

static int bn_shape(const struct nn_net *net, const struct nn_node *nd,
                    const struct nn_shape *in[], struct nn_shape *out) {
    const struct nn_shape *x = in[0];
    int C = x->rank ? x->d[x->rank - 1] : 0;
    for (int k = 1; k < 5; k++)
        if (nd->n_in != 5 || !in[k] || (int)nn_shape_count(in[k]) != C)
            return fh_fail(FH_E_ARG, "BATCHNORM: %d channels, but parameter %d does not have %d values",
                           C, k, C);
    *out = *x;
    return FH_OK;
}

static size_t bn_scratch(const struct nn_session *s, const struct nn_node *nd) {
    return 2 * nn_shape_count(&s->net->values[nd->in[1]].shape);
}

static size_t bn_state(const struct nn_net *net, const struct nn_node *nd) {
    return 3 * nn_shape_count(&net->values[nd->in[1]].shape);
}

struct bn_job {
    const struct nn_kern *k;
    struct nn_chan_args a;
};
static void bn_fwd_task(void *ctx, int ith, int nth) {
    struct bn_job *j = ctx;
    j->k->bn_fwd_train(&j->a, ith, nth);
}
static void bn_bwd_task(void *ctx, int ith, int nth) {
    struct bn_job *j = ctx;
    j->k->bn_bwd(&j->a, ith, nth);
}

static void bn_args(const struct nn_session *s, const struct nn_node *nd, struct nn_chan_args *a) {
    const struct nn_net *net = s->net;
    *a = (struct nn_chan_args){0};
    nn_rows(&s->slots[nd->in[0]].shape, &a->M, &a->C);
    a->x = s->slots[nd->in[0]].ptr, a->y = s->slots[nd->out].ptr;
    a->gamma = net->values[nd->in[1]].data, a->beta = net->values[nd->in[2]].data;
    a->eps = nd->p.eps;
    float *st = s->state ? s->state[nd - net->nodes] : NULL;
    if (st) a->mean = st, a->invstd = st + a->C, a->var = st + 2 * a->C;
}

static void bn_forward(struct nn_session *s, const struct nn_node *nd) {
    const struct nn_net *net = s->net;
    struct bn_job j = {.k = net->kern};
    bn_args(s, nd, &j.a);
    int M = j.a.M, C = j.a.C;
    float *rm = net->values[nd->in[3]].data, *rv = net->values[nd->in[4]].data;
    if (s->training) {
        nn_session_parallel(s, bn_fwd_task, &j);
        float unbias = M > 1 ? (float)M / (float)(M - 1) : 1.0f;
        for (int c = 0; c < C; c++) {
            rm[c] = (1 - BN_MOMENTUM) * rm[c] + BN_MOMENTUM * j.a.mean[c];
            rv[c] = (1 - BN_MOMENTUM) * rv[c] + BN_MOMENTUM * j.a.var[c] * unbias;
        }
        return;
    }
    float *scale = s->scratch, *shift = s->scratch + C;
    for (int c = 0; c < C; c++) {
        scale[c] = j.a.gamma[c] / sqrtf(rv[c] + nd->p.eps);
        shift[c] = j.a.beta[c] - rm[c] * scale[c];
    }
    for (int m = 0; m < M; m++) {
        const float *x = j.a.x + (size_t)m * C;
        float *y = j.a.y + (size_t)m * C;
        for (int c = 0; c < C; c++) y[c] = x[c] * scale[c] + shift[c];
    }
}

static void bn_backward(struct nn_session *s, const struct nn_node *nd) {
    struct bn_job j = {.k = s->net->kern};
    bn_args(s, nd, &j.a);
    j.a.dy = nn_grad(s, nd->out), j.a.dx = nn_grad(s, nd->in[0]);
    j.a.dgamma = nn_grad(s, nd->in[1]), j.a.dbeta = nn_grad(s, nd->in[2]);
    nn_session_parallel(s, bn_bwd_task, &j);
}

const struct nn_op_def nn_op_batchnorm = {"BATCHNORM", bn_shape, bn_scratch, bn_forward,
                                          bn_backward, bn_state};
