// SPDX-License-Identifier: MIT
// Nets and sessions: weight packing, shape inference, the memory plan, the run loop.
//
// Memory plan of a session (one arena, planned per input shape, grown only if needed):
//
//   arena: [ activations: offsets by first-fit over lifetimes ][ scratch: T threads ]
//
// A value is live from the node that produces it to the last node that reads it (net
// outputs to the end). Each new value takes the lowest offset that does not overlap a
// live value, so MobileFaceNet's ~230 activations fit in a few buffers' worth of memory.
#include <float.h>
#include <math.h>
#include <string.h>

#include "nn/nn_int.h"
#include "nn/nn_train.h"

size_t nn_flush_denormals(float *x, size_t n) {
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (x[i] != 0 && fabsf(x[i]) < FLT_MIN) x[i] = 0, k++;
    return k;
}

struct nn_net *nn_net_alloc(int n_values, int n_nodes) {
    struct nn_net *net = fh_calloc(1, sizeof *net);
    if (!net) return NULL;
    net->values = fh_calloc((size_t)n_values, sizeof *net->values);
    net->nodes = fh_calloc((size_t)n_nodes, sizeof *net->nodes);
    if (!net->values || !net->nodes) {
        nn_net_free(net);
        return NULL;
    }
    net->n_values = n_values, net->n_nodes = n_nodes;
    for (int i = 0; i < n_values; i++) net->values[i].producer = -1, net->values[i].param = -1;
    return net;
}

void nn_net_free(struct nn_net *net) {
    if (!net) return;
    for (int i = 0; i < net->n_values; i++) {
        fh_free(net->values[i].name);
        fh_free(net->values[i].idata);
    }
    for (int i = 0; i < net->n_nodes; i++) {
        fh_free_aligned(net->nodes[i].wpacked);
        fh_free(net->nodes[i].alpha);
        fh_free_aligned(net->nodes[i].wq8);
        fh_free(net->nodes[i].dq);
    }
    fh_free(net->values);
    fh_free(net->nodes);
    fh_free(net->params);
    fh_free_aligned(net->blob);
    fh_free(net->meta);
    fh_free(net);
}

// value v has data once the nodes before the current one have run: a constant, a net
// input, or the output of a node already seen (producer is set in node order)
static int computed(const struct nn_net *net, int v) {
    const struct nn_value *x = &net->values[v];
    if (x->data || x->idata || x->producer >= 0) return 1;
    for (int i = 0; i < net->n_inputs; i++)
        if (net->inputs[i] == v) return 1;
    return 0;
}

// what the kernels keep from the weights: packed conv/fc panels, scaled PReLU slopes
static void derive(struct nn_net *net, struct nn_node *nd) {
    if (nd->wpacked) {
        const struct nn_value *w = &net->values[nd->in[1]];
        int OC = w->shape.d[0];
        net->kern->conv_pack(OC, (int)(nn_shape_count(&w->shape) / (size_t)OC), w->data, nd->wpacked);
    }
    if (nd->alpha) {
        const float *a = net->values[nd->p.alpha].data;
        for (int c = 0; c < nd->n_alpha; c++) nd->alpha[c] = a[c] * nd->p.alpha_scale;
    }
    if (nd->wq8) nn_quant_derive(net, nd);
}

void nn_net_weights_changed(struct nn_net *net) {
    for (int i = 0; i < net->n_nodes; i++) derive(net, &net->nodes[i]);
}

int nn_net_finish(struct nn_net *net, const struct nn_options *opt) {
    net->kern = nn_kern_best(opt && opt->force_ref);
    nn_quant_mark(net, opt);
    for (int i = 0; i < net->n_values; i++) net->values[i].last_use = -1;
    for (int i = 0; i < net->n_nodes; i++) {
        struct nn_node *nd = &net->nodes[i];
        for (int k = 0; k < nd->n_in; k++) {
            int v = nd->in[k];
            if (v < 0) continue;
            if (!computed(net, v))
                return fh_fail(FH_E_FORMAT, "model: operator %d (%s) reads %s, which no earlier operator computes",
                               i, nn_op_name(nd->op), net->values[v].name);
            net->values[v].last_use = i;
        }
        if (computed(net, nd->out))
            return fh_fail(FH_E_FORMAT, "model: operator %d (%s) overwrites %s", i,
                           nn_op_name(nd->op), net->values[nd->out].name);
        net->values[nd->out].producer = i;
        if ((nd->op == NN_OP_CONV2D || nd->op == NN_OP_FC) && !nd->wpacked) {
            const struct nn_value *w = &net->values[nd->in[1]];
            int OC = w->shape.d[0];
            int K = (int)(nn_shape_count(&w->shape) / (size_t)OC);
            nd->wpacked = fh_malloc_aligned(net->kern->conv_pack_size(OC, K) * sizeof(float));
            if (!nd->wpacked) return fh_fail(FH_E_NOMEM, "model: out of memory packing weights");
        }
        if (nd->xscale > 0 && !nd->wq8 && nn_quant_alloc(net, nd)) return FH_E_NOMEM;
        if ((nd->p.act == NN_ACT_PRELU || nd->op == NN_OP_PRELU) && !nd->alpha) {
            const struct nn_value *a = &net->values[nd->p.alpha];
            size_t C = nn_shape_count(&a->shape);
            nd->alpha = fh_malloc(C * sizeof(float));
            if (!nd->alpha) return fh_fail(FH_E_NOMEM, "model: out of memory");
            nd->n_alpha = (int)C;
        }
        derive(net, nd);
    }
    for (int i = 0; i < net->n_outputs; i++) {
        if (!computed(net, net->outputs[i]))
            return fh_fail(FH_E_FORMAT, "model: output %s is never computed", net->values[net->outputs[i]].name);
        net->values[net->outputs[i]].last_use = net->n_nodes;
    }
    fh_free(net->params);
    net->params = NULL, net->n_params = 0;
    for (int v = 0; v < net->n_values; v++)
        net->n_params += (net->values[v].flags & (NN_VF_TRAIN | NN_VF_BUFFER)) != 0;
    if (net->n_params && !(net->params = fh_malloc((size_t)net->n_params * sizeof(int))))
        return fh_fail(FH_E_NOMEM, "model: out of memory");
    for (int v = 0, k = 0; v < net->n_values; v++) {
        net->values[v].param = -1;
        if (net->values[v].flags & (NN_VF_TRAIN | NN_VF_BUFFER)) net->values[v].param = k, net->params[k++] = v;
    }
    return FH_OK;
}

int nn_net_n_params(const struct nn_net *net) { return net->n_params; }

int nn_net_param(struct nn_net *net, int i, struct nn_param *out) {
    if (i < 0 || i >= net->n_params)
        return fh_fail(FH_E_ARG, "param %d out of range (the net has %d)", i, net->n_params);
    const struct nn_value *v = &net->values[net->params[i]];
    *out = (struct nn_param){.name = v->name, .rank = v->shape.rank, .n = nn_shape_count(&v->shape),
                             .w = v->data, .trainable = (v->flags & NN_VF_TRAIN) != 0,
                             .decay = (v->flags & NN_VF_DECAY) != 0};
    memcpy(out->dims, v->shape.d, sizeof out->dims);
    return FH_OK;
}

int nn_net_find_param(const struct nn_net *net, const char *name) {
    for (int i = 0; name && i < net->n_params; i++)
        if (!strcmp(net->values[net->params[i]].name, name)) return i;
    return -1;
}

int nn_check_alpha(const struct nn_node *nd, int C) {
    if (nd->p.act != NN_ACT_PRELU && nd->op != NN_OP_PRELU) return FH_OK;
    if (nd->n_alpha != C)
        return fh_fail(FH_E_ARG, "%s: %d PReLU slopes for %d channels", nn_op_name(nd->op),
                       nd->n_alpha, C);
    return FH_OK;
}

int nn_net_n_inputs(const struct nn_net *net) { return net->n_inputs; }
int nn_net_n_outputs(const struct nn_net *net) { return net->n_outputs; }
int nn_net_n_nodes(const struct nn_net *net) { return net->n_nodes; }
const char *nn_net_kernels(const struct nn_net *net) { return net->kern->name; }

int nn_net_input_shape(const struct nn_net *net, int i, int dims[FH_MAX_DIMS]) {
    const struct nn_shape *s = &net->values[net->inputs[i]].shape;
    memcpy(dims, s->d, sizeof s->d);
    return s->rank;
}

int nn_net_count_op(const struct nn_net *net, enum nn_op op) {
    int n = 0;
    for (int i = 0; i < net->n_nodes; i++) n += net->nodes[i].op == op;
    return n;
}

// ---- sessions -------------------------------------------------------------------------
int nn_session_new(const struct nn_net *net, struct fh_pool *pool, struct nn_session **out) {
    struct nn_session *s = fh_calloc(1, sizeof *s);
    if (!s || !(s->slots = fh_calloc((size_t)net->n_values, sizeof *s->slots)) ||
        !(s->live = fh_malloc((size_t)net->n_values))) {
        if (s) fh_free(s->slots);
        fh_free(s);
        return fh_fail(FH_E_NOMEM, "session: out of memory");
    }
    s->net = net, s->pool = pool;
    *out = s;
    return FH_OK;
}

void nn_session_free(struct nn_session *s) {
    if (!s) return;
    nn_train_free(s);
    fh_free_aligned(s->arena);
    fh_free(s->slots);
    fh_free(s->live);
    fh_free(s);
}

size_t nn_session_bytes(const struct nn_session *s) { return (s->arena_cap + s->garena_cap) * sizeof(float); }

void nn_session_parallel(struct nn_session *s, void (*fn)(void *, int, int), void *ctx) {
    fh_pool_run(s->pool, fn, ctx);
}

#define ALIGN_FLOATS 16 // 64 bytes

// first-fit offset for `size` floats among the values live at node `at`
static size_t plan_offset(const struct nn_session *s, const char *live, size_t size) {
    const struct nn_net *net = s->net;
    size_t off = 0;
    for (;;) {
        size_t next = off;
        for (int v = 0; v < net->n_values; v++) {
            if (!live[v]) continue;
            size_t a = s->slots[v].offset, b = a + nn_shape_count(&s->slots[v].shape);
            b = (b + ALIGN_FLOATS - 1) / ALIGN_FLOATS * ALIGN_FLOATS;
            if (a < off + size && off < b && b > next) next = b;
        }
        if (next == off) return off;
        off = next;
    }
}

int nn_session_reshape(struct nn_session *s, const int *dims, int rank) {
    const struct nn_net *net = s->net;
    s->planned = 0, s->training = 0; // a backward needs a forward(1) at this shape
    struct nn_value *in = &net->values[net->inputs[0]];
    if (rank != in->shape.rank)
        return fh_fail(FH_E_ARG, "input rank %d, the net takes rank %d", rank, in->shape.rank);
    size_t total = 1;
    for (int i = 0; i < rank; i++) {
        if (dims[i] < 1) return fh_fail(FH_E_ARG, "input dimension %d is %d", i, dims[i]);
        total *= (size_t)dims[i];
        if (total > ((size_t)1 << 31)) return fh_fail(FH_E_LIMIT, "input tensor too large");
    }
    char *live = s->live;
    memset(live, 0, (size_t)net->n_values);
    for (int v = 0; v < net->n_values; v++) {
        s->slots[v].shape = net->values[v].shape;
        s->slots[v].offset = 0;
        s->slots[v].ptr = net->values[v].data;
    }
    struct nn_slot *is = &s->slots[net->inputs[0]];
    is->shape.rank = rank;
    memcpy(is->shape.d, dims, sizeof(int) * (size_t)rank);
    is->offset = 0;
    live[net->inputs[0]] = 1;
    size_t used = (nn_shape_count(&is->shape) + ALIGN_FLOATS - 1) / ALIGN_FLOATS * ALIGN_FLOATS;
    size_t scratch = 0;
    int rc = FH_OK;
    for (int i = 0; i < net->n_nodes; i++) {
        const struct nn_node *nd = &net->nodes[i];
        const struct nn_shape *ins[NN_MAX_IN];
        for (int k = 0; k < nd->n_in; k++) ins[k] = nd->in[k] >= 0 ? &s->slots[nd->in[k]].shape : NULL;
        struct nn_slot *o = &s->slots[nd->out];
        if ((rc = nn_op_defs[nd->op]->shape(net, nd, ins, &o->shape))) break;
        size_t n = nn_shape_count(&o->shape);
        if (n > ((size_t)1 << 31)) {
            rc = fh_fail(FH_E_LIMIT, "%s: output too large", nn_op_name(nd->op));
            break;
        }
        // free what died before this node (a training session keeps everything), then
        // place the output
        for (int v = 0; v < net->n_values && !s->train; v++)
            if (live[v] && net->values[v].last_use < i) live[v] = 0;
        o->offset = plan_offset(s, live, n);
        live[nd->out] = 1;
        size_t end = (o->offset + n + ALIGN_FLOATS - 1) / ALIGN_FLOATS * ALIGN_FLOATS;
        if (end > used) used = end;
        if (nn_op_defs[nd->op]->scratch) {
            size_t sc = nn_op_defs[nd->op]->scratch(s, nd);
            if (sc > scratch) scratch = sc;
        }
    }
    if (rc) return rc;
    scratch = (scratch + ALIGN_FLOATS - 1) / ALIGN_FLOATS * ALIGN_FLOATS;
    size_t need = used + scratch * (size_t)fh_pool_size(s->pool);
    if (need > s->arena_cap) {
        fh_free_aligned(s->arena);
        s->arena = fh_malloc_aligned(need * sizeof(float));
        s->arena_cap = s->arena ? need : 0;
        if (!s->arena) return fh_fail(FH_E_NOMEM, "session: cannot allocate %zu MB", need >> 18);
    }
    s->arena_used = need;
    s->scratch = s->arena + used;
    s->scratch_per_thread = scratch;
    for (int v = 0; v < net->n_values; v++)
        if (!net->values[v].data) s->slots[v].ptr = s->arena + s->slots[v].offset;
    if (s->train && (rc = nn_train_plan(s, used))) return rc;
    s->planned = 1;
    return FH_OK;
}

float *nn_session_input(struct nn_session *s, int i) {
    return s->planned ? s->slots[s->net->inputs[i]].ptr : NULL;
}

int nn_session_forward(struct nn_session *s, int training) {
    if (!s->planned) return fh_fail(FH_E_ARG, "session: run before reshape");
    if (training && !s->train)
        return fh_fail(FH_E_ARG, "session: training forward needs a training session");
    s->training = training != 0;
    for (int i = 0; i < s->net->n_nodes; i++) {
        if (s->net->calib) nn_calib_observe(s->net->calib, s, i);
        nn_op_defs[s->net->nodes[i].op]->forward(s, &s->net->nodes[i]);
    }
    return FH_OK;
}

int nn_session_run(struct nn_session *s) { return nn_session_forward(s, 0); }

const float *nn_session_output(struct nn_session *s, int i, int dims[FH_MAX_DIMS], int *rank) {
    const struct nn_slot *o = &s->slots[s->net->outputs[i]];
    if (dims) memcpy(dims, o->shape.d, sizeof o->shape.d);
    if (rank) *rank = o->shape.rank;
    return o->ptr;
}
