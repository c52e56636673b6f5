// SPDX-License-Identifier: MIT
// L2NORM: rows of the last axis, y = x / max(|x|, eps) (the kern's l2norm_fwd / _bwd).
#include "nn/nn_int.h"

static int l2_shape(const struct nn_net *net, const struct nn_node *nd,
                    const struct nn_shape *in[], struct nn_shape *out) {
    if (in[0]->rank < 1 || in[0]->d[in[0]->rank - 1] < 1)
        return fh_fail(FH_E_ARG, "L2NORM: input has no last axis");
    *out = *in[0];
    return FH_OK;
}

struct l2_job {
    const struct nn_kern *k;
    struct nn_rows_args a;
};
static void l2_fwd_task(void *ctx, int ith, int nth) {
    struct l2_job *j = ctx;
    j->k->l2norm_fwd(&j->a, ith, nth);
}
static void l2_bwd_task(void *ctx, int ith, int nth) {
    struct l2_job *j = ctx;
    j->k->l2norm_bwd(&j->a, ith, nth);
}

static void l2_args(const struct nn_session *s, const struct nn_node *nd, struct nn_rows_args *a) {
    *a = (struct nn_rows_args){.x = s->slots[nd->in[0]].ptr, .y = s->slots[nd->out].ptr,
                               .eps = nd->p.eps};
    nn_rows(&s->slots[nd->in[0]].shape, &a->N, &a->D);
}

static void l2_forward(struct nn_session *s, const struct nn_node *nd) {
    struct l2_job j = {.k = s->net->kern};
    l2_args(s, nd, &j.a);
    nn_session_parallel(s, l2_fwd_task, &j);
}

static void l2_backward(struct nn_session *s, const struct nn_node *nd) {
    struct l2_job j = {.k = s->net->kern};
    l2_args(s, nd, &j.a);
    j.a.dy = nn_grad(s, nd->out), j.a.dx = nn_grad(s, nd->in[0]);
    if (j.a.dx) nn_session_parallel(s, l2_bwd_task, &j);
}

const struct nn_op_def nn_op_l2norm = {"L2NORM", l2_shape, NULL, l2_forward, l2_backward, NULL};
