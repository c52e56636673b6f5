// SPDX-License-Identifier: MIT
// CONV2D, DEPTHWISE_CONV2D and FULLY_CONNECTED: shape inference and forward through the
// kernel table, and their backward (training sessions). FC is run as a 1x1 conv over
// [N, 1, 1, K] (y = W x + b, W (OC, K)).
//   conv: y[n,oy,ox,oc] = act(b[oc] + sum_{kh,kw,c} x[n, oy*SH-PT+kh, ox*SW-PL+kw, c] w[oc,kh,kw,c])
#include "nn/nn_int.h"

int nn_conv_out(int in, int k, int stride, int same, int *out, int *pad_before) {
    if (in < 1 || k < 1 || stride < 1) return FH_E_ARG;
    if (same) {
        // TensorFlow SAME: out = ceil(in/stride), extra padding goes after
        int o = (in + stride - 1) / stride;
        int total = (o - 1) * stride + k - in;
        if (total < 0) total = 0;
        *out = o, *pad_before = total / 2;
    } else {
        if (in < k) return FH_E_ARG;
        *out = (in - k) / stride + 1, *pad_before = 0;
    }
    return FH_OK;
}

// one axis of a conv: output size and padding before, for SAME / VALID (nn_conv_out) or
// explicit pads (ONNX: out = (in + pb + pa - (k-1)*d - 1) / s + 1), k dilated by d
static int conv_axis(const struct nn_params *p, int in, int k, int s, int d, int pb, int pa,
                     int *out, int *before) {
    int ke = (k - 1) * (d > 1 ? d : 1) + 1;
    if (p->same != NN_PAD_EXPLICIT) return nn_conv_out(in, ke, s, p->same, out, before);
    if (in < 1 || s < 1 || pb < 0 || pa < 0 || in + pb + pa < ke) return FH_E_ARG;
    *out = (in + pb + pa - ke) / s + 1, *before = pb;
    return FH_OK;
}

static int conv_geom(const struct nn_node *nd, int H, int W, int KH, int KW, int *OH, int *OW,
                     int *PT, int *PL) {
    const struct nn_params *p = &nd->p;
    if (conv_axis(p, H, KH, p->SH, p->DH, p->PT, p->PB, OH, PT) ||
        conv_axis(p, W, KW, p->SW, p->DW, p->PL, p->PR, OW, PL))
        return FH_E_ARG;
    return FH_OK;
}

static int conv_shape(const struct nn_net *net, const struct nn_node *nd,
                      const struct nn_shape *in[], struct nn_shape *out) {
    const struct nn_shape *x = in[0], *w = &net->values[nd->in[1]].shape;
    int dw = nd->op == NN_OP_DWCONV2D;
    if (x->rank != 4 || w->rank != 4)
        return fh_fail(FH_E_ARG, "%s: input must be rank 4", nn_op_name(nd->op));
    int C = x->d[3], KH = w->d[1], KW = w->d[2];
    if ((dw ? w->d[3] : w->d[3]) != C || (dw && w->d[0] != 1))
        return fh_fail(FH_E_ARG, "%s: input has %d channels, filter wants %d",
                       nn_op_name(nd->op), C, w->d[3]);
    if (dw && (nd->p.DH > 1 || nd->p.DW > 1))
        return fh_fail(FH_E_ARG, "%s: dilation is not supported", nn_op_name(nd->op));
    int OH, OW, pt, pl;
    if (conv_geom(nd, x->d[1], x->d[2], KH, KW, &OH, &OW, &pt, &pl))
        return fh_fail(FH_E_ARG, "%s: input %dx%d smaller than its %dx%d window (dilation %d,%d)",
                       nn_op_name(nd->op), x->d[1], x->d[2], KH, KW, nd->p.DH, nd->p.DW);
    *out = (struct nn_shape){4, {x->d[0], OH, OW, dw ? C : w->d[0]}};
    return nn_check_alpha(nd, out->d[3]);
}

static void conv_args(const struct nn_session *s, const struct nn_node *nd,
                      struct nn_conv_args *a) {
    const struct nn_net *net = s->net;
    const struct nn_shape *x = &s->slots[nd->in[0]].shape;
    const struct nn_value *w = &net->values[nd->in[1]];
    *a = (struct nn_conv_args){0};
    a->x = s->slots[nd->in[0]].ptr;
    a->w = w->data;
    a->wp = nd->wpacked;
    a->bias = nd->n_in > 2 && nd->in[2] >= 0 ? net->values[nd->in[2]].data : NULL;
    a->act = nd->p.act;
    a->alpha = nd->alpha;
    a->y = s->slots[nd->out].ptr;
    a->scratch = s->scratch;
    a->OC = w->shape.d[0];
    a->SH = nd->p.SH, a->SW = nd->p.SW;
    if (nd->op == NN_OP_FC) {
        int K = w->shape.d[1];
        a->N = (int)(nn_shape_count(x) / (size_t)K), a->H = a->W = 1, a->C = K;
        a->KH = a->KW = 1, a->SH = a->SW = 1, a->OH = a->OW = 1;
        return;
    }
    a->N = x->d[0], a->H = x->d[1], a->W = x->d[2], a->C = x->d[3];
    a->KH = w->shape.d[1], a->KW = w->shape.d[2];
    a->DH = nd->p.DH, a->DW = nd->p.DW;
    conv_geom(nd, a->H, a->W, a->KH, a->KW, &a->OH, &a->OW, &a->PT, &a->PL);
}

static void conv_bwd_args(const struct nn_session *s, const struct nn_node *nd,
                          struct nn_conv_bwd_args *b) {
    struct nn_conv_args a;
    conv_args(s, nd, &a);
    FH_ASSERT(a.DH <= 1 && a.DW <= 1); // no backward kernel takes dilation
    *b = (struct nn_conv_bwd_args){.x = a.x, .N = a.N, .H = a.H, .W = a.W, .C = a.C, .w = a.w,
                                   .OC = a.OC, .KH = a.KH, .KW = a.KW, .SH = a.SH, .SW = a.SW,
                                   .PT = a.PT, .PL = a.PL, .OH = a.OH, .OW = a.OW,
                                   .dy = nn_grad(s, nd->out), .dx = nn_grad(s, nd->in[0]),
                                   .dw = nn_grad(s, nd->in[1]),
                                   .db = nd->n_in > 2 ? nn_grad(s, nd->in[2]) : NULL,
                                   .scratch = s->scratch};
}

// the int8 kernel's arguments for a node with quantised weights (nd->wq8)
static void qconv_args(const struct nn_session *s, const struct nn_node *nd, struct nn_qconv_args *q) {
    struct nn_conv_args a;
    conv_args(s, nd, &a);
    *q = (struct nn_qconv_args){.x = a.x, .N = a.N, .H = a.H, .W = a.W, .C = a.C, .wp = nd->wq8,
                                .dq = nd->dq, .bias = a.bias, .xinv = 1.0f / nd->xscale, .OC = a.OC,
                                .KH = a.KH, .KW = a.KW, .SH = a.SH, .SW = a.SW, .PT = a.PT, .PL = a.PL,
                                .OH = a.OH, .OW = a.OW, .act = a.act, .alpha = a.alpha, .y = a.y,
                                .scratch = a.scratch};
}

// forward scratch; a training session also runs the backward kernels in the same space
static size_t conv_scratch(const struct nn_session *s, const struct nn_node *nd) {
    if (nd->wq8) {
        struct nn_qconv_args q;
        qconv_args(s, nd, &q);
        return (s->net->kern->qconv_scratch(&q) + sizeof(float) - 1) / sizeof(float);
    }
    struct nn_conv_args a;
    conv_args(s, nd, &a);
    size_t n = s->net->kern->conv_scratch(&a);
    if (s->train) {
        struct nn_conv_bwd_args b;
        conv_bwd_args(s, nd, &b);
        size_t nb = s->net->kern->conv_bwd_scratch(&b);
        if (nb > n) n = nb;
    }
    return n;
}

struct conv_job {
    const struct nn_kern *k;
    struct nn_conv_args a;
};
static void conv_task(void *ctx, int ith, int nth) {
    struct conv_job *j = ctx;
    j->k->conv2d(&j->a, ith, nth);
}

struct qconv_job {
    const struct nn_kern *k;
    struct nn_qconv_args a;
};
static void qconv_task(void *ctx, int ith, int nth) {
    struct qconv_job *j = ctx;
    j->k->qconv2d(&j->a, ith, nth);
}

static void conv_forward(struct nn_session *s, const struct nn_node *nd) {
    if (nd->wq8) {
        struct qconv_job q = {.k = s->net->kern};
        qconv_args(s, nd, &q.a);
        nn_session_parallel(s, qconv_task, &q);
        return;
    }
    struct conv_job j = {.k = s->net->kern};
    conv_args(s, nd, &j.a);
    nn_session_parallel(s, conv_task, &j);
}

struct conv_bwd_job {
    const struct nn_kern *k;
    struct nn_conv_bwd_args a;
};
static void conv_bwd_data_task(void *ctx, int ith, int nth) {
    struct conv_bwd_job *j = ctx;
    j->k->conv2d_bwd_data(&j->a, ith, nth);
}
static void conv_bwd_filter_task(void *ctx, int ith, int nth) {
    struct conv_bwd_job *j = ctx;
    j->k->conv2d_bwd_filter(&j->a, ith, nth);
}

// conv and FC (a 1x1 conv over [N, 1, 1, K]): dx, then dw and db
static void conv_backward(struct nn_session *s, const struct nn_node *nd) {
    struct conv_bwd_job j = {.k = s->net->kern};
    conv_bwd_args(s, nd, &j.a);
    if (j.a.dx) nn_session_parallel(s, conv_bwd_data_task, &j);
    if (j.a.dw || j.a.db) nn_session_parallel(s, conv_bwd_filter_task, &j);
}

static int fc_shape(const struct nn_net *net, const struct nn_node *nd,
                    const struct nn_shape *in[], struct nn_shape *out) {
    const struct nn_shape *w = &net->values[nd->in[1]].shape;
    if (w->rank != 2) return fh_fail(FH_E_ARG, "FULLY_CONNECTED: weights must be rank 2");
    size_t n = nn_shape_count(in[0]), K = (size_t)w->d[1];
    if (K == 0 || n % K)
        return fh_fail(FH_E_ARG, "FULLY_CONNECTED: input of %zu values is not a multiple of %zu",
                       n, K);
    *out = (struct nn_shape){2, {(int)(n / K), w->d[0]}};
    return nn_check_alpha(nd, w->d[0]);
}

struct dw_job {
    const struct nn_kern *k;
    struct nn_dw_args a;
};
static void dw_task(void *ctx, int ith, int nth) {
    struct dw_job *j = ctx;
    j->k->dwconv2d(&j->a, ith, nth);
}

static void dw_forward(struct nn_session *s, const struct nn_node *nd) {
    struct nn_conv_args c;
    conv_args(s, nd, &c);
    struct dw_job j = {.k = s->net->kern};
    j.a = (struct nn_dw_args){.x = c.x, .N = c.N, .H = c.H, .W = c.W, .C = c.C, .w = c.w,
                              .bias = c.bias, .KH = c.KH, .KW = c.KW, .SH = c.SH, .SW = c.SW,
                              .PT = c.PT, .PL = c.PL, .OH = c.OH, .OW = c.OW, .act = c.act,
                              .alpha = c.alpha, .y = c.y};
    nn_session_parallel(s, dw_task, &j);
}

struct dw_bwd_job {
    const struct nn_kern *k;
    struct nn_dw_bwd_args a;
};
static void dw_bwd_data_task(void *ctx, int ith, int nth) {
    struct dw_bwd_job *j = ctx;
    j->k->dwconv2d_bwd_data(&j->a, ith, nth);
}
static void dw_bwd_filter_task(void *ctx, int ith, int nth) {
    struct dw_bwd_job *j = ctx;
    j->k->dwconv2d_bwd_filter(&j->a, ith, nth);
}

static void dw_backward(struct nn_session *s, const struct nn_node *nd) {
    struct nn_conv_bwd_args c;
    conv_bwd_args(s, nd, &c);
    struct dw_bwd_job j = {.k = s->net->kern};
    j.a = (struct nn_dw_bwd_args){.x = c.x, .N = c.N, .H = c.H, .W = c.W, .C = c.C, .w = c.w,
                                  .KH = c.KH, .KW = c.KW, .SH = c.SH, .SW = c.SW, .PT = c.PT,
                                  .PL = c.PL, .OH = c.OH, .OW = c.OW, .dy = c.dy, .dx = c.dx,
                                  .dw = c.dw, .db = c.db};
    if (j.a.dx) nn_session_parallel(s, dw_bwd_data_task, &j);
    if (j.a.dw || j.a.db) nn_session_parallel(s, dw_bwd_filter_task, &j);
}

const struct nn_op_def nn_op_conv2d = {"CONV_2D", conv_shape, conv_scratch, conv_forward, conv_backward, NULL};
const struct nn_op_def nn_op_dwconv2d = {"DEPTHWISE_CONV_2D", conv_shape, NULL, dw_forward, dw_backward, NULL};
const struct nn_op_def nn_op_fc = {"FULLY_CONNECTED", fc_shape, conv_scratch, conv_forward, conv_backward, NULL};
