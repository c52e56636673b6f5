// SPDX-License-Identifier: MIT
// Training sessions (nn_train.h): an nn_session whose plan keeps every activation
// (no memory reuse) and that holds a gradient per activation and per trainable param.
//
//   garena: [ activation gradients, first fit over their backward lifetimes ][ output grads ]
//   pgrad:  [ param 0 ][ param 1 ] ...   (trainable params only; kept across reshapes)
//   state:  per node, what its forward saves for its backward (BN batch statistics)
//
// Backward sets the output values' gradients to the caller's, then walks the nodes in
// reverse, zeroing each activation gradient where its lifetime starts; every op's backward accumulates into its inputs' and
// params' gradients (a value read twice sums both readers).
#include <string.h>

#include "nn/nn_int.h"
#include "nn/nn_train.h"

#define ALIGN_FLOATS 16

static size_t align_up(size_t n) { return (n + ALIGN_FLOATS - 1) / ALIGN_FLOATS * ALIGN_FLOATS; }

// the kernel slots each trainable op needs
static int kernels_for(const struct nn_kern *k, enum nn_op op) {
    switch (op) {
    case NN_OP_CONV2D:
    case NN_OP_FC: return k->conv_bwd_scratch && k->conv2d_bwd_data && k->conv2d_bwd_filter;
    case NN_OP_DWCONV2D: return k->dwconv2d_bwd_data && k->dwconv2d_bwd_filter;
    case NN_OP_BATCHNORM: return k->bn_fwd_train && k->bn_bwd;
    case NN_OP_PRELU: return k->prelu_bwd != NULL;
    case NN_OP_L2NORM: return k->l2norm_fwd && k->l2norm_bwd;
    default: return 1;
    }
}

static int check_net(const struct nn_net *net) {
    if (net->n_outputs < 1) return fh_fail(FH_E_ARG, "training: the net has no output");
    for (int i = 0; i < net->n_nodes; i++) {
        const struct nn_node *nd = &net->nodes[i];
        const char *name = nn_op_name(nd->op);
        if (!nn_op_defs[nd->op]->backward)
            return fh_fail(FH_E_UNSUPPORTED, "training: operator %d (%s) has no backward", i, name);
        if (nd->wq8)
            return fh_fail(FH_E_UNSUPPORTED, "training: operator %d (%s) runs in int8; train the float net", i, name);
        if (nd->p.act != NN_ACT_NONE)
            return fh_fail(FH_E_UNSUPPORTED,
                           "training: operator %d (%s) has a fused activation; a training graph "
                           "keeps activations as separate ops (build it with nn_b_*)", i, name);
        if (nd->op == NN_OP_PRELU && nd->p.alpha_scale != 1.0f)
            return fh_fail(FH_E_UNSUPPORTED, "training: operator %d (PRELU) has scaled slopes", i);
        if (!kernels_for(net->kern, nd->op))
            return fh_fail(FH_E_UNSUPPORTED, "training: the %s kernels have no backward for %s",
                           net->kern->name, name);
    }
    return FH_OK;
}

int nn_session_new_train(struct nn_net *net, struct fh_pool *pool, struct nn_session **out) {
    *out = NULL;
    int rc = check_net(net);
    if (rc) return rc;
    struct nn_session *s;
    if ((rc = nn_session_new(net, pool, &s))) return rc;
    s->train = 1;
    size_t np = 0, ns = 0;
    for (int i = 0; i < net->n_params; i++)
        if (net->values[net->params[i]].flags & NN_VF_TRAIN)
            np += align_up(nn_shape_count(&net->values[net->params[i]].shape));
    for (int i = 0; i < net->n_nodes; i++)
        if (nn_op_defs[net->nodes[i].op]->state)
            ns += align_up(nn_op_defs[net->nodes[i].op]->state(net, &net->nodes[i]));
    s->grad = fh_calloc((size_t)net->n_values, sizeof *s->grad);
    s->ograd = fh_calloc((size_t)net->n_outputs + 1, sizeof *s->ograd);
    s->state = fh_calloc((size_t)net->n_nodes + 1, sizeof *s->state);
    s->pgrad = np ? fh_malloc_aligned(np * sizeof(float)) : NULL;
    s->state_mem = ns ? fh_malloc_aligned(ns * sizeof(float)) : NULL;
    if (!s->grad || !s->ograd || !s->state || (np && !s->pgrad) || (ns && !s->state_mem)) {
        nn_session_free(s);
        return fh_fail(FH_E_NOMEM, "training session: out of memory");
    }
    np = ns = 0;
    for (int i = 0; i < net->n_params; i++) {
        const struct nn_value *v = &net->values[net->params[i]];
        if (!(v->flags & NN_VF_TRAIN)) continue;
        s->grad[net->params[i]] = s->pgrad + np;
        np += align_up(nn_shape_count(&v->shape));
    }
    if (np) memset(s->pgrad, 0, np * sizeof(float));
    for (int i = 0; i < net->n_nodes; i++) {
        if (!nn_op_defs[net->nodes[i].op]->state) continue;
        s->state[i] = s->state_mem + ns;
        ns += align_up(nn_op_defs[net->nodes[i].op]->state(net, &net->nodes[i]));
    }
    if (ns) memset(s->state_mem, 0, ns * sizeof(float));
    *out = s;
    return FH_OK;
}

void nn_train_free(struct nn_session *s) {
    if (!s->train) return;
    fh_free_aligned(s->garena);
    fh_free_aligned(s->pgrad);
    fh_free_aligned(s->state_mem);
    fh_free(s->grad);
    fh_free(s->ograd);
    fh_free(s->state);
}

static int is_activation(const struct nn_net *net, int v) {
    if (net->values[v].producer >= 0) return 1;
    for (int i = 0; i < net->n_inputs; i++)
        if (net->inputs[i] == v) return 1;
    return 0;
}

static int is_output(const struct nn_net *net, int v) {
    for (int i = 0; i < net->n_outputs; i++)
        if (net->outputs[i] == v) return 1;
    return 0;
}

// the backward step (node index) at which the gradient of activation v starts: its last
// reader's, or its producer's for a value nobody reads; n_nodes for net outputs
static int grad_start(const struct nn_net *net, int v) {
    if (is_output(net, v)) return net->n_nodes;
    return net->values[v].last_use >= 0 ? net->values[v].last_use : net->values[v].producer;
}

// first-fit offset for `size` floats among the live gradients
static size_t fit(const struct nn_session *s, const size_t *off, size_t size) {
    const struct nn_net *net = s->net;
    size_t o = 0;
    for (;;) {
        size_t next = o;
        for (int v = 0; v < net->n_values; v++) {
            if (!s->live[v]) continue;
            size_t a = off[v], b = align_up(a + nn_shape_count(&s->slots[v].shape));
            if (a < o + size && o < b && b > next) next = b;
        }
        if (next == o) return o;
        o = next;
    }
}

// Gradient plan: backward walks the nodes in reverse, so the gradient of a value lives
// from its last reader's backward (where it is zeroed) to its producer's (after which
// nothing reads it); net inputs' gradients live to the end. First fit over those
// lifetimes, as the forward plan does, keeps MobileFaceNet's gradients to a few buffers.
int nn_train_plan(struct nn_session *s, size_t used) {
    const struct nn_net *net = s->net;
    (void)used;
    size_t *off = fh_calloc((size_t)net->n_values, sizeof *off);
    char *placed = fh_calloc((size_t)net->n_values, 1);
    if (!off || !placed) {
        fh_free(off), fh_free(placed);
        return fh_fail(FH_E_NOMEM, "training session: out of memory");
    }
    memset(s->live, 0, (size_t)net->n_values);
    size_t end = 0;
    for (int i = net->n_nodes; i >= 0; i--) {
        const struct nn_node *nd = i < net->n_nodes ? &net->nodes[i] : NULL;
        int vs[NN_MAX_IN + 1], n = 0;
        if (!nd)
            for (int k = 0; k < net->n_outputs; k++) vs[n++] = net->outputs[k];
        else
            for (int k = 0, m = nd->n_in; k <= m; k++) vs[n++] = k < m ? nd->in[k] : nd->out;
        for (int k = 0; k < n; k++) {
            int v = vs[k];
            if (v < 0 || placed[v] || !is_activation(net, v)) continue;
            size_t cnt = nn_shape_count(&s->slots[v].shape);
            off[v] = fit(s, off, cnt);
            placed[v] = s->live[v] = 1;
            if (align_up(off[v] + cnt) > end) end = align_up(off[v] + cnt);
        }
        if (nd) s->live[nd->out] = 0; // its producer's backward was the last to read it
    }
    size_t need = end;
    for (int i = 0; i < net->n_outputs; i++) need += align_up(nn_shape_count(&s->slots[net->outputs[i]].shape));
    if (need > s->garena_cap) {
        fh_free_aligned(s->garena);
        s->garena = fh_malloc_aligned(need * sizeof(float));
        s->garena_cap = s->garena ? need : 0;
    }
    if (!s->garena) {
        fh_free(off), fh_free(placed);
        return fh_fail(FH_E_NOMEM, "training session: cannot allocate %zu MB of gradients", need >> 18);
    }
    memset(s->garena, 0, need * sizeof(float));
    for (int v = 0; v < net->n_values; v++)
        if (is_activation(net, v)) s->grad[v] = placed[v] ? s->garena + off[v] : NULL;
    for (int i = 0; i < net->n_outputs; i++) {
        s->ograd[i] = s->garena + end;
        end += align_up(nn_shape_count(&s->slots[net->outputs[i]].shape));
    }
    fh_free(off), fh_free(placed);
    return FH_OK;
}

// zeroes the gradients whose lifetime starts at backward step i
static void start_grads(struct nn_session *s, int i) {
    const struct nn_net *net = s->net;
    const struct nn_node *nd = &net->nodes[i];
    for (int k = 0; k <= nd->n_in; k++) {
        int v = k < nd->n_in ? nd->in[k] : nd->out;
        if (v >= 0 && s->grad[v] && is_activation(net, v) && grad_start(net, v) == i)
            memset(s->grad[v], 0, nn_shape_count(&s->slots[v].shape) * sizeof(float));
    }
}

float *nn_session_output_grad(struct nn_session *s, int i) {
    if (!s->train || !s->planned || i < 0 || i >= s->net->n_outputs) return NULL;
    return s->ograd[i];
}

int nn_session_backward(struct nn_session *s) {
    const struct nn_net *net = s->net;
    if (!s->train) return fh_fail(FH_E_ARG, "backward: not a training session");
    if (!s->planned || !s->training)
        return fh_fail(FH_E_ARG, "backward: needs a forward in training mode first");
    // every activation gradient starts at zero when its lifetime starts (start_grads)
    for (int i = 0; i < net->n_outputs; i++)
        memset(s->grad[net->outputs[i]], 0, nn_shape_count(&s->slots[net->outputs[i]].shape) * sizeof(float));
    for (int i = 0; i < net->n_outputs; i++) {
        float *g = s->grad[net->outputs[i]];
        const float *o = s->ograd[i];
        size_t n = nn_shape_count(&s->slots[net->outputs[i]].shape);
        for (size_t k = 0; k < n; k++) g[k] += o[k];
    }
    for (int i = net->n_nodes - 1; i >= 0; i--) {
        start_grads(s, i);
        nn_op_defs[net->nodes[i].op]->backward(s, &net->nodes[i]);
    }
    return FH_OK;
}

void nn_session_zero_grad(struct nn_session *s) {
    const struct nn_net *net = s->net;
    if (!s->train) return;
    for (int i = 0; i < net->n_params; i++) {
        float *g = s->grad[net->params[i]];
        if (g) memset(g, 0, nn_shape_count(&net->values[net->params[i]].shape) * sizeof(float));
    }
}

float *nn_session_param_grad(struct nn_session *s, int i) {
    if (!s->train || i < 0 || i >= s->net->n_params) return NULL;
    return s->grad[s->net->params[i]];
}

const float *nn_session_input_grad(struct nn_session *s, int i) {
    if (!s->train || !s->planned || i < 0 || i >= s->net->n_inputs) return NULL;
    return s->grad[s->net->inputs[i]];
}
