// SPDX-License-Identifier: MIT
// Graph passes (passes.h): pattern fusion, batch-norm folding, the batch-baked reshape.
// Each pass marks nodes dead while it walks the net, then compacts the node list.
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "nn/passes.h"

struct graph {
    struct nn_net *net;
    char *dead;   // per node
    int *prod;    // per value: producing node or -1
};

static int graph_open(struct graph *g, struct nn_net *net) {
    g->net = net;
    g->dead = fh_calloc((size_t)net->n_nodes + 1, 1);
    g->prod = fh_malloc(((size_t)net->n_values + 1) * sizeof(int));
    if (!g->dead || !g->prod) {
        fh_free(g->dead), fh_free(g->prod);
        return fh_fail(FH_E_NOMEM, "model: out of memory");
    }
    for (int v = 0; v < net->n_values; v++) g->prod[v] = -1;
    for (int i = 0; i < net->n_nodes; i++) g->prod[net->nodes[i].out] = i;
    return FH_OK;
}

// drops the dead nodes (keeping the order) and frees the graph
static int graph_close(struct graph *g) {
    struct nn_net *net = g->net;
    int n = 0;
    for (int i = 0; i < net->n_nodes; i++)
        if (!g->dead[i]) net->nodes[n++] = net->nodes[i];
    net->n_nodes = n;
    fh_free(g->dead), fh_free(g->prod);
    return FH_OK;
}

static const struct nn_node *producer(struct graph *g, int v, enum nn_op op) {
    if (v < 0) return NULL;
    int p = g->prod[v];
    if (p < 0 || g->dead[p] || g->net->nodes[p].op != op) return NULL;
    return &g->net->nodes[p];
}
static void kill(struct graph *g, const struct nn_node *nd) {
    g->dead[nd - g->net->nodes] = 1;
}
static int is_const(struct graph *g, int v) { return v >= 0 && g->net->values[v].data != NULL; }

// live readers of value v (net outputs count as readers)
static int n_consumers(struct graph *g, int v) {
    int n = 0;
    for (int i = 0; i < g->net->n_nodes; i++)
        if (!g->dead[i])
            for (int k = 0; k < g->net->nodes[i].n_in; k++) n += g->net->nodes[i].in[k] == v;
    for (int i = 0; i < g->net->n_outputs; i++) n += g->net->outputs[i] == v;
    return n;
}

// a pattern's inner node may go only when the pattern holds all n readers of its output:
// a value read elsewhere too (a damaged or unusual file) would be left with no producer
static int inner(struct graph *g, const struct nn_node *nd, int n) {
    return n_consumers(g, nd->out) == n;
}

// ---- PReLU ----------------------------------------------------------------------------
// ADD(RELU(x), MUL(...)) -> PRELU; returns 1 if node i was rewritten
static int fuse_prelu(struct graph *g, int i) {
    struct nn_node *add = &g->net->nodes[i];
    if (add->op != NN_OP_ADD) return 0;
    for (int side = 0; side < 2; side++) {
        const struct nn_node *relu = producer(g, add->in[side], NN_OP_RELU);
        const struct nn_node *mul = producer(g, add->in[!side], NN_OP_MUL);
        if (!relu || !mul) continue;
        int x = relu->in[0];
        for (int ms = 0; ms < 2; ms++) {
            int a = mul->in[ms], t = mul->in[!ms];
            if (!is_const(g, a)) continue;
            const struct nn_node *neg1 = producer(g, t, NN_OP_NEG), *relu2, *neg2;
            const struct nn_node *sub = producer(g, t, NN_OP_SUB), *abs;
            if (neg1 && (relu2 = producer(g, neg1->in[0], NN_OP_RELU)) &&
                (neg2 = producer(g, relu2->in[0], NN_OP_NEG)) && neg2->in[0] == x &&
                inner(g, relu, 1) && inner(g, mul, 1) && inner(g, neg1, 1) &&
                inner(g, relu2, 1) && inner(g, neg2, 1)) {
                kill(g, relu), kill(g, mul), kill(g, neg1), kill(g, relu2), kill(g, neg2);
                add->p.alpha_scale = 1.0f; // a*min(x,0)
            } else if (sub && sub->in[0] == x && (abs = producer(g, sub->in[1], NN_OP_ABS)) &&
                       abs->in[0] == x && inner(g, relu, 1) && inner(g, mul, 1) &&
                       inner(g, sub, 1) && inner(g, abs, 1)) {
                kill(g, relu), kill(g, mul), kill(g, sub), kill(g, abs);
                add->p.alpha_scale = 2.0f; // m*(x-|x|) = 2m*min(x,0)
            } else {
                continue;
            }
            add->op = NN_OP_PRELU;
            add->n_in = 1, add->in[0] = x;
            add->p.alpha = a;
            return 1;
        }
    }
    return 0;
}

int nn_pass_fuse_prelu(struct nn_net *net) {
    struct graph g;
    int rc = graph_open(&g, net);
    if (rc) return rc;
    for (int i = 0; i < net->n_nodes; i++)
        if (!g.dead[i]) fuse_prelu(&g, i);
    return graph_close(&g);
}

// ---- softmax ----------------------------------------------------------------------------
static void fuse_softmax(struct graph *g, int i) {
    struct nn_node *div = &g->net->nodes[i];
    if (div->op != NN_OP_DIV) return;
    const struct nn_node *exp = producer(g, div->in[0], NN_OP_EXP);
    const struct nn_node *sum = producer(g, div->in[1], NN_OP_SUM), *sub, *max;
    if (!exp || !sum || sum->in[0] != div->in[0] || !(sub = producer(g, exp->in[0], NN_OP_SUB)) ||
        !(max = producer(g, sub->in[1], NN_OP_REDUCE_MAX)) || max->in[0] != sub->in[0])
        return;
    int rank = g->net->values[sub->in[0]].shape.rank;
    int last = rank - 1;
    if ((sum->p.axis != last && sum->p.axis != -1) || (max->p.axis != last && max->p.axis != -1) ||
        !sum->p.keep_dims || !max->p.keep_dims || !inner(g, exp, 2) || !inner(g, sum, 1) ||
        !inner(g, sub, 1) || !inner(g, max, 1))
        return;
    int x = sub->in[0];
    kill(g, exp), kill(g, sum), kill(g, sub), kill(g, max);
    div->op = NN_OP_SOFTMAX;
    div->n_in = 1, div->in[0] = x;
}

int nn_pass_fuse_softmax(struct nn_net *net) {
    struct graph g;
    int rc = graph_open(&g, net);
    if (rc) return rc;
    for (int i = 0; i < net->n_nodes; i++)
        if (!g.dead[i]) fuse_softmax(&g, i);
    return graph_close(&g);
}

// ---- conv + activation ---------------------------------------------------------------------
// the CONV/DWCONV/FC without a fused activation whose output only node i reads, or NULL
static struct nn_node *conv_before(struct graph *g, int i) {
    int x = g->net->nodes[i].in[0], p = x >= 0 ? g->prod[x] : -1;
    if (p < 0 || g->dead[p]) return NULL;
    struct nn_node *cv = &g->net->nodes[p];
    if ((cv->op != NN_OP_CONV2D && cv->op != NN_OP_DWCONV2D && cv->op != NN_OP_FC) ||
        cv->p.act != NN_ACT_NONE || n_consumers(g, x) != 1)
        return NULL;
    return cv;
}

// the conv takes over node i's output
static void absorb(struct graph *g, struct nn_node *cv, int i) {
    cv->out = g->net->nodes[i].out;
    g->prod[cv->out] = (int)(cv - g->net->nodes);
    g->dead[i] = 1;
}

int nn_pass_fuse_act(struct nn_net *net) {
    struct graph g;
    int rc = graph_open(&g, net);
    if (rc) return rc;
    for (int i = 0; i < net->n_nodes; i++) {
        struct nn_node *pr = &net->nodes[i], *cv;
        if (g.dead[i] || (pr->op != NN_OP_PRELU && pr->op != NN_OP_RELU) || !(cv = conv_before(&g, i)))
            continue;
        if (pr->op == NN_OP_RELU) {
            cv->p.act = NN_ACT_RELU;
        } else {
            cv->p.act = NN_ACT_PRELU;
            cv->p.alpha = pr->p.alpha;
            cv->p.alpha_scale = pr->p.alpha_scale;
        }
        absorb(&g, cv, i);
    }
    return graph_close(&g);
}

// ---- batch-baked reshape ---------------------------------------------------------------------
int nn_pass_flatten_batch(struct nn_net *net) {
    if (net->n_inputs < 1) return FH_OK;
    int B = net->values[net->inputs[0]].shape.d[0];
    for (int i = 0; i < net->n_nodes; i++) {
        struct nn_node *nd = &net->nodes[i];
        if (nd->op != NN_OP_RESHAPE || nd->n_in != 2 || nd->in[1] < 0) continue;
        const struct nn_value *sv = &net->values[nd->in[1]];
        // a [B, K] reshape whose B is the stored input batch is the converter baking the
        // batch in: run it as a per-image flatten
        if (sv->idata && nn_shape_count(&sv->shape) == 2 && sv->idata[0] == B && B > 0 &&
            sv->idata[1] > 0)
            nd->op = NN_OP_FLATTEN, nd->n_in = 1;
    }
    return FH_OK;
}

// ---- batch-norm folding ------------------------------------------------------------------------
static size_t round16(size_t n) { return (n + 15) & ~(size_t)15; }

// output channels of a conv node (the axis batch norm scales)
static int conv_oc(const struct nn_net *net, const struct nn_node *cv) {
    const struct nn_shape *w = &net->values[cv->in[1]].shape;
    return cv->op == NN_OP_DWCONV2D ? w->d[3] : w->d[0];
}

static int only_reader(struct graph *g, int v) { return v >= 0 && n_consumers(g, v) == 1; }

// the conv that BATCHNORM node i can fold into, or NULL
static struct nn_node *foldable(struct graph *g, int i) {
    const struct nn_node *bn = &g->net->nodes[i];
    if (bn->op != NN_OP_BATCHNORM || bn->n_in != 5) return NULL;
    struct nn_node *cv = conv_before(g, i);
    if (!cv || cv->n_in < 2 || !is_const(g, cv->in[1]) || !only_reader(g, cv->in[1])) return NULL;
    int b = cv->n_in > 2 ? cv->in[2] : -1;
    if (b >= 0 && (!is_const(g, b) || !only_reader(g, b))) return NULL;
    size_t C = (size_t)conv_oc(g->net, cv);
    for (int k = 1; k < 5; k++)
        if (!is_const(g, bn->in[k]) || nn_shape_count(&g->net->values[bn->in[k]].shape) != C)
            return NULL;
    return cv;
}

// room for `extra` more values (zeroed, not yet counted in n_values) and `floats` more
// constant floats at *room (the blob is reallocated; every value's data moves with it)
static int grow(struct nn_net *net, int extra, size_t floats, float **room) {
    struct nn_value *v = fh_realloc(net->values, ((size_t)net->n_values + (size_t)extra) * sizeof *v);
    if (!v) return fh_fail(FH_E_NOMEM, "model: out of memory");
    net->values = v;
    memset(v + net->n_values, 0, (size_t)extra * sizeof *v);
    size_t used = 0;
    for (int i = 0; i < net->n_values; i++)
        if (v[i].data) {
            size_t end = (size_t)(v[i].data - net->blob) + round16(nn_shape_count(&v[i].shape));
            if (end > used) used = end;
        }
    float *blob = fh_malloc_aligned((used + floats) * sizeof(float) + 64);
    if (!blob) return fh_fail(FH_E_NOMEM, "model: out of memory");
    if (used) memcpy(blob, net->blob, used * sizeof(float));
    for (int i = 0; i < net->n_values; i++)
        if (v[i].data) v[i].data = blob + (v[i].data - net->blob);
    fh_free_aligned(net->blob);
    net->blob = blob;
    for (int i = net->n_values; i < net->n_values + extra; i++) v[i].producer = v[i].last_use = v[i].param = -1;
    *room = blob + used;
    return FH_OK;
}

static void fold(struct nn_net *net, struct nn_node *cv, const struct nn_node *bn) {
    int C = conv_oc(net, cv);
    const float *gam = net->values[bn->in[1]].data, *beta = net->values[bn->in[2]].data;
    const float *mean = net->values[bn->in[3]].data, *var = net->values[bn->in[4]].data;
    struct nn_value *w = &net->values[cv->in[1]];
    float *b = net->values[cv->in[2]].data;
    size_t n = nn_shape_count(&w->shape);
    for (int c = 0; c < C; c++) {
        float s = (float)(gam[c] / sqrt((double)var[c] + bn->p.eps));
        b[c] = (b[c] - mean[c]) * s + beta[c];
        if (cv->op == NN_OP_DWCONV2D)
            for (size_t k = (size_t)c; k < n; k += (size_t)C) w->data[k] *= s;
        else
            for (size_t k = n / (size_t)C * (size_t)c, e = k + n / (size_t)C; k < e; k++) w->data[k] *= s;
    }
}

int nn_pass_fold_bn(struct nn_net *net) {
    struct graph g;
    int rc = graph_open(&g, net);
    if (rc) return rc;
    // first count the biases to create, so the values and the blob grow once
    int need = 0;
    size_t floats = 0;
    for (int i = 0; i < net->n_nodes; i++) {
        const struct nn_node *cv = foldable(&g, i);
        if (cv && (cv->n_in < 3 || cv->in[2] < 0)) need++, floats += round16((size_t)conv_oc(net, cv));
    }
    float *next = NULL;
    if (need && (rc = grow(net, need, floats, &next))) {
        graph_close(&g);
        return rc;
    }
    for (int i = 0; i < net->n_nodes; i++) {
        struct nn_node *cv = foldable(&g, i), *bn = &net->nodes[i];
        if (!cv) continue;
        if (cv->n_in < 3 || cv->in[2] < 0) {
            struct nn_value *b = &net->values[net->n_values];
            int C = conv_oc(net, cv);
            char name[512];
            snprintf(name, sizeof name, "%s.bias", net->values[cv->in[1]].name);
            if (!(b->name = fh_malloc(strlen(name) + 1))) {
                rc = fh_fail(FH_E_NOMEM, "model: out of memory");
                break;
            }
            strcpy(b->name, name);
            b->shape = (struct nn_shape){1, {C}};
            b->dtype = NN_F32;
            b->flags = net->values[cv->in[1]].flags & NN_VF_TRAIN; // trainable if the weights are
            b->data = next;
            memset(next, 0, (size_t)C * sizeof(float));
            next += round16((size_t)C);
            cv->in[2] = net->n_values++;
            cv->n_in = 3;
        }
        fold(net, cv, bn);
        absorb(&g, cv, i);
        // gamma, beta, mean, var read by nothing now: no longer params
        for (int k = 1; k < 5; k++)
            if (!n_consumers(&g, bn->in[k])) net->values[bn->in[k]].flags = 0;
    }
    graph_close(&g);
    return rc;
}

// ---- pass lists ------------------------------------------------------------------------------
int nn_passes_import(struct nn_net *net, const struct nn_options *opt) {
    int rc = nn_pass_flatten_batch(net);
    if (rc || (opt && opt->no_fuse)) return rc;
    if (!(rc = nn_pass_fuse_prelu(net)) && !(rc = nn_pass_fuse_softmax(net))) rc = nn_pass_fuse_act(net);
    return rc;
}

int nn_passes_export(struct nn_net *net) {
    int rc = nn_pass_fold_bn(net);
    return rc ? rc : nn_pass_fuse_act(net);
}

// ---- checks ------------------------------------------------------------------------------------
int nn_net_check_shapes(const struct nn_net *net) {
    struct nn_shape *sh = fh_malloc((size_t)net->n_values * sizeof *sh);
    if (!sh) return fh_fail(FH_E_NOMEM, "model: out of memory");
    for (int v = 0; v < net->n_values; v++) sh[v] = net->values[v].shape;
    int rc = FH_OK;
    for (int i = 0; i < net->n_nodes && !rc; i++) {
        const struct nn_node *nd = &net->nodes[i];
        const struct nn_shape *ins[NN_MAX_IN];
        for (int k = 0; k < nd->n_in; k++) ins[k] = nd->in[k] >= 0 ? &sh[nd->in[k]] : NULL;
        if (nn_op_defs[nd->op]->shape(net, nd, ins, &sh[nd->out])) {
            char msg[256];
            snprintf(msg, sizeof msg, "%s", fh_errmsg());
            rc = fh_fail(FH_E_FORMAT, "model: operator %d (%s -> %s) does not fit its inputs: %s",
                         i, nn_op_name(nd->op), net->values[nd->out].name, msg);
        }
    }
    fh_free(sh);
    return rc;
}

int nn_net_seal(struct nn_net *net, int rc, const struct nn_options *opt, struct nn_net **out) {
    if (!rc) rc = nn_net_finish(net, opt);
    if (!rc) rc = nn_net_check_shapes(net);
    if (rc) {
        nn_net_free(net);
        return rc;
    }
    *out = net;
    return FH_OK;
}

void nn_net_unfinish(struct nn_net *net) {
    for (int i = 0; i < net->n_nodes; i++) {
        fh_free_aligned(net->nodes[i].wpacked);
        fh_free(net->nodes[i].alpha);
        fh_free_aligned(net->nodes[i].wq8);
        fh_free(net->nodes[i].dq);
        net->nodes[i].wpacked = NULL, net->nodes[i].alpha = NULL, net->nodes[i].n_alpha = 0;
        net->nodes[i].wq8 = NULL, net->nodes[i].dq = NULL, net->nodes[i].xscale = 0; // int8 is dropped
    }
    for (int v = 0; v < net->n_values; v++) net->values[v].producer = -1, net->values[v].last_use = -1;
}

int nn_net_optimize(struct nn_net *net, int passes) {
    struct nn_options opt = {.force_ref = net->kern && !strcmp(net->kern->name, "ref")};
    nn_net_unfinish(net);
    int rc = FH_OK;
    if (passes & NN_PASS_FOLD_BN) rc = nn_pass_fold_bn(net);
    if (!rc && (passes & NN_PASS_FUSE_PATTERNS) && !(rc = nn_pass_fuse_prelu(net)))
        rc = nn_pass_fuse_softmax(net);
    if (!rc && (passes & NN_PASS_FUSE_ACT)) rc = nn_pass_fuse_act(net);
    int rc2 = nn_net_finish(net, &opt);
    return rc ? rc : rc2;
}
