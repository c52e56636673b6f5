// SPDX-License-Identifier: MIT
// MAX_POOL_2D: y[n,oy,ox,c] = max over the window of x; cells in the SAME padding are
// ignored (act as -inf), as TensorFlow does.
#include "nn/nn_int.h"

static int pool_shape(const struct nn_net *net, const struct nn_node *nd,
                      const struct nn_shape *in[], struct nn_shape *out) {
    const struct nn_shape *x = in[0];
    if (x->rank != 4) return fh_fail(FH_E_ARG, "MAX_POOL_2D: input must be rank 4");
    int OH, OW, pt, pl;
    if (nn_conv_out(x->d[1], nd->p.KH, nd->p.SH, nd->p.same, &OH, &pt) ||
        nn_conv_out(x->d[2], nd->p.KW, nd->p.SW, nd->p.same, &OW, &pl))
        return fh_fail(FH_E_ARG, "MAX_POOL_2D: input %dx%d smaller than its window",
                       x->d[1], x->d[2]);
    *out = (struct nn_shape){4, {x->d[0], OH, OW, x->d[3]}};
    return FH_OK;
}

struct pool_job {
    const struct nn_kern *k;
    struct nn_pool_args a;
};
static void pool_task(void *ctx, int ith, int nth) {
    struct pool_job *j = ctx;
    j->k->maxpool2d(&j->a, ith, nth);
}

static void pool_forward(struct nn_session *s, const struct nn_node *nd) {
    const struct nn_shape *x = &s->slots[nd->in[0]].shape, *y = &s->slots[nd->out].shape;
    struct pool_job j = {.k = s->net->kern};
    j.a = (struct nn_pool_args){.x = s->slots[nd->in[0]].ptr, .N = x->d[0], .H = x->d[1],
                                .W = x->d[2], .C = x->d[3], .KH = nd->p.KH, .KW = nd->p.KW,
                                .SH = nd->p.SH, .SW = nd->p.SW, .OH = y->d[1], .OW = y->d[2],
                                .y = s->slots[nd->out].ptr};
    nn_conv_out(x->d[1], nd->p.KH, nd->p.SH, nd->p.same, &j.a.OH, &j.a.PT);
    nn_conv_out(x->d[2], nd->p.KW, nd->p.SW, nd->p.same, &j.a.OW, &j.a.PL);
    nn_session_parallel(s, pool_task, &j);
}

const struct nn_op_def nn_op_maxpool2d = {"MAX_POOL_2D", pool_shape, NULL, pool_forward, NULL, NULL};
