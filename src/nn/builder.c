// SPDX-License-Identifier: MIT
// The net builder (nn_train.h): values and nodes collected in creation order, params
// initialised as they are created, then copied into an nn_net by nn_b_finish.
//
// Shapes are tracked with batch 1 (the stored shape); any batch runs.
// Layers are named "<kind><n>", n the node's index (every nn_b_* that adds an op takes
// the next number: conv, dw, fc, bn, prelu, relu, add, flatten, l2norm); a layer's output
// value has the layer's name, its params "<layer>.<w|b|gamma|beta|mean|var|alpha>".
//
// Initialisation (deterministic for a seed): the generator is xoshiro256** seeded by
// four splitmix64 outputs from the seed; a uniform u in (0, 1] is (next >> 11 + 1) 2^-53;
// standard normals come in Box–Muller pairs z0 = r cos(2 pi u2), z1 = r sin(2 pi u2),
// r = sqrt(-2 ln u1) (z0 first, z1 kept for the next draw, across tensors). Every
// conv/dw/fc weight, in creation order and in layout order, is std * z with
// std = sqrt(2 / fan_in), fan_in = KH KW C (conv), KH KW (depthwise), K (fc).
// Nothing else draws. A framework that wants the same start should load the weights by
// name rather than reproduce this generator.
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "nn/nn_int.h"
#include "nn/nn_train.h"

#define B_MAX_PARAM (1u << 28) // floats in one param
#define B_MAX_NODES FH_MAX_MODEL_OPS

struct bval {
    char *name;
    struct nn_shape shape;
    int flags;
    float *data; // params only (owned until finish)
};

struct nn_builder {
    uint64_t r[4];
    int have_spare;
    double spare;
    struct bval *v;
    int nv, cap_v;
    struct nn_node *nd;
    int nn, cap_n;
    int input, n_outputs, outputs[8];
    int err;
    char msg[256];
};

// ---- generator ------------------------------------------------------------------------
static uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t xoshiro(uint64_t s[4]) {
    uint64_t out = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0], s[3] ^= s[1], s[1] ^= s[2], s[0] ^= s[3], s[2] ^= t, s[3] = rotl(s[3], 45);
    return out;
}

static double normal(struct nn_builder *b) {
    if (b->have_spare) {
        b->have_spare = 0;
        return b->spare;
    }
    double u1 = (double)((xoshiro(b->r) >> 11) + 1) * 0x1p-53;
    double u2 = (double)((xoshiro(b->r) >> 11) + 1) * 0x1p-53;
    double r = sqrt(-2.0 * log(u1)), t = 2.0 * 3.14159265358979323846 * u2;
    b->spare = r * sin(t), b->have_spare = 1;
    return r * cos(t);
}

// ---- bookkeeping ----------------------------------------------------------------------
int nn_builder_new(uint64_t seed, struct nn_builder **out) {
    struct nn_builder *b = fh_calloc(1, sizeof *b);
    *out = b;
    if (!b) return fh_fail(FH_E_NOMEM, "builder: out of memory");
    uint64_t x = seed;
    for (int i = 0; i < 4; i++) b->r[i] = splitmix64(&x);
    b->input = -1;
    return FH_OK;
}

void nn_builder_free(struct nn_builder *b) {
    if (!b) return;
    for (int i = 0; i < b->nv; i++) fh_free(b->v[i].name), fh_free(b->v[i].data);
    fh_free(b->v);
    fh_free(b->nd);
    fh_free(b);
}

// keeps the first error (code and message); returns -1 for the nn_b_* call
static int fail(struct nn_builder *b, int code) {
    if (!b->err) {
        b->err = code;
        snprintf(b->msg, sizeof b->msg, "%s", fh_errmsg());
    }
    return -1;
}

static int bad(struct nn_builder *b, int x) {
    if (!b || b->err) return 1;
    if (x < 0 || x >= b->nv || b->v[x].data) {
        fh_fail(FH_E_ARG, "builder: layer %d: input %d is not a tensor of this builder", b->nn, x);
        fail(b, FH_E_ARG);
        return 1;
    }
    return 0;
}

// a new value; params get their data (zeroed) here
static int new_value(struct nn_builder *b, const char *layer, const char *suffix,
                     struct nn_shape shape, int flags) {
    if (fh_grow((void **)&b->v, &b->cap_v, b->nv + 1, sizeof *b->v))
        return fail(b, FH_E_NOMEM);
    struct bval *v = &b->v[b->nv];
    *v = (struct bval){.shape = shape, .flags = flags};
    size_t n = nn_shape_count(&shape), len = strlen(layer) + (suffix ? strlen(suffix) + 2 : 1);
    if (!(v->name = fh_malloc(len))) return fail(b, FH_E_NOMEM);
    snprintf(v->name, len, suffix ? "%s.%s" : "%s", layer, suffix);
    if (flags && !(v->data = fh_calloc(n ? n : 1, sizeof(float)))) {
        fh_free(v->name);
        return fail(b, FH_E_NOMEM);
    }
    return b->nv++;
}

static int param(struct nn_builder *b, const char *layer, const char *suffix, int n, float fill,
                 int flags) {
    if (n < 1 || (unsigned)n > B_MAX_PARAM) {
        fh_fail(FH_E_ARG, "builder: %s.%s: %d values", layer, suffix, n);
        return fail(b, FH_E_ARG);
    }
    int v = new_value(b, layer, suffix, (struct nn_shape){1, {n}}, flags);
    if (v >= 0)
        for (int i = 0; i < n; i++) b->v[v].data[i] = fill;
    return v;
}

// He-normal weights of the given shape
static int weights(struct nn_builder *b, const char *layer, struct nn_shape shape, size_t fan_in) {
    size_t n = nn_shape_count(&shape);
    if (n < 1 || n > B_MAX_PARAM) {
        fh_fail(FH_E_ARG, "builder: %s.w: %zu weights", layer, n);
        return fail(b, FH_E_ARG);
    }
    int v = new_value(b, layer, "w", shape, NN_VF_TRAIN | NN_VF_DECAY);
    if (v < 0) return -1;
    double sd = sqrt(2.0 / (double)fan_in);
    for (size_t i = 0; i < n; i++) b->v[v].data[i] = (float)(sd * normal(b));
    return v;
}

// the next node, its layer name in `name`
static struct nn_node *new_node(struct nn_builder *b, enum nn_op op, const char *kind,
                                char name[32]) {
    if (b->nn >= B_MAX_NODES) {
        fh_fail(FH_E_LIMIT, "builder: more than %d layers", B_MAX_NODES);
        fail(b, FH_E_LIMIT);
        return NULL;
    }
    if (fh_grow((void **)&b->nd, &b->cap_n, b->nn + 1, sizeof *b->nd)) {
        fail(b, FH_E_NOMEM);
        return NULL;
    }
    snprintf(name, 32, "%s%d", kind, b->nn);
    struct nn_node *nd = &b->nd[b->nn];
    *nd = (struct nn_node){.op = op, .out = -1};
    nd->p = (struct nn_params){.KH = 1, .KW = 1, .SH = 1, .SW = 1, .alpha = -1, .axis = -1,
                               .alpha_scale = 1};
    return nd;
}

// output value of node nd (the last one created); returns its index
static int finish_node(struct nn_builder *b, const char *name, struct nn_shape shape) {
    if (b->err) return -1;
    int o = new_value(b, name, NULL, shape, 0);
    if (o < 0) return -1;
    b->nd[b->nn].out = o;
    b->nn++;
    return o;
}

static int argfail(struct nn_builder *b, const char *fmt, const char *name, int x, int y) {
    fh_fail(FH_E_ARG, fmt, name, x, y);
    return fail(b, FH_E_ARG);
}

// ---- layers ---------------------------------------------------------------------------
int nn_b_input(struct nn_builder *b, const char *name, int h, int w, int c) {
    if (!b || b->err) return -1;
    if (b->input >= 0) return argfail(b, "builder: input %s: the net has an input already%.0d%.0d", name ? name : "", 0, 0);
    if (!name || !*name || h < 1 || w < 1 || c < 1 || h > FH_MAX_IMAGE_SIDE ||
        w > FH_MAX_IMAGE_SIDE || c > 65536 || (size_t)h * w * c > ((size_t)1 << 31)) {
        fh_fail(FH_E_ARG, "builder: input %s: bad shape %dx%dx%d", name ? name : "(no name)", h, w, c);
        return fail(b, FH_E_ARG);
    }
    return b->input = new_value(b, name, NULL, (struct nn_shape){4, {1, h, w, c}}, 0);
}

static int conv_like(struct nn_builder *b, int x, int oc, int k, int s, int pad, int bias, int dw) {
    if (bad(b, x)) return -1;
    char name[32];
    struct nn_node *nd = new_node(b, dw ? NN_OP_DWCONV2D : NN_OP_CONV2D, dw ? "dw" : "conv", name);
    if (!nd) return -1;
    const struct nn_shape *xs = &b->v[x].shape;
    if (xs->rank != 4) return argfail(b, "builder: %s: input must be NHWC (rank %d)%.0d", name, xs->rank, 0);
    int C = xs->d[3], OH, OW, pt;
    if (dw) oc = C;
    if (oc < 1 || oc > 65536 || k < 1 || k > 64 || s < 1 || s > 64)
        return argfail(b, "builder: %s: bad channels %d or window %d", name, oc, k);
    if (nn_conv_out(xs->d[1], k, s, pad != 0, &OH, &pt) || nn_conv_out(xs->d[2], k, s, pad != 0, &OW, &pt))
        return argfail(b, "builder: %s: input %dx%d smaller than the window", name, xs->d[1], xs->d[2]);
    nd->in[0] = x;
    nd->p.KH = nd->p.KW = k, nd->p.SH = nd->p.SW = s, nd->p.same = pad != 0;
    struct nn_shape ws = dw ? (struct nn_shape){4, {1, k, k, C}} : (struct nn_shape){4, {oc, k, k, C}};
    nd->in[1] = weights(b, name, ws, (size_t)k * k * (dw ? 1 : (size_t)C));
    nd->n_in = 2;
    if (bias) nd->in[2] = param(b, name, "b", oc, 0, NN_VF_TRAIN), nd->n_in = 3;
    return finish_node(b, name, (struct nn_shape){4, {1, OH, OW, oc}});
}

int nn_b_conv(struct nn_builder *b, int x, int oc, int k, int s, int pad, int bias) {
    return conv_like(b, x, oc, k, s, pad, bias, 0);
}

int nn_b_dwconv(struct nn_builder *b, int x, int k, int s, int pad, int bias) {
    return conv_like(b, x, 0, k, s, pad, bias, 1);
}

int nn_b_fc(struct nn_builder *b, int x, int oc, int bias) {
    if (bad(b, x)) return -1;
    char name[32];
    struct nn_node *nd = new_node(b, NN_OP_FC, "fc", name);
    if (!nd) return -1;
    const struct nn_shape *xs = &b->v[x].shape;
    if (xs->rank != 2) return argfail(b, "builder: %s: input must be (N, K), not rank %d%.0d", name, xs->rank, 0);
    int K = xs->d[1];
    if (oc < 1 || oc > (1 << 20)) return argfail(b, "builder: %s: %d outputs%.0d", name, oc, 0);
    nd->in[0] = x;
    nd->in[1] = weights(b, name, (struct nn_shape){2, {oc, K}}, (size_t)K);
    nd->n_in = 2;
    if (bias) nd->in[2] = param(b, name, "b", oc, 0, NN_VF_TRAIN), nd->n_in = 3;
    return finish_node(b, name, (struct nn_shape){2, {1, oc}});
}

int nn_b_bn(struct nn_builder *b, int x) {
    if (bad(b, x)) return -1;
    char name[32];
    struct nn_node *nd = new_node(b, NN_OP_BATCHNORM, "bn", name);
    if (!nd) return -1;
    struct nn_shape xs = b->v[x].shape;
    int C = xs.d[xs.rank - 1];
    nd->in[0] = x, nd->n_in = 5, nd->p.eps = 1e-5f;
    nd->in[1] = param(b, name, "gamma", C, 1, NN_VF_TRAIN);
    nd->in[2] = param(b, name, "beta", C, 0, NN_VF_TRAIN);
    nd->in[3] = param(b, name, "mean", C, 0, NN_VF_BUFFER);
    nd->in[4] = param(b, name, "var", C, 1, NN_VF_BUFFER);
    return finish_node(b, name, xs);
}

int nn_b_prelu(struct nn_builder *b, int x) {
    if (bad(b, x)) return -1;
    char name[32];
    struct nn_node *nd = new_node(b, NN_OP_PRELU, "prelu", name);
    if (!nd) return -1;
    struct nn_shape xs = b->v[x].shape;
    nd->in[0] = x, nd->n_in = 1;
    nd->p.alpha = param(b, name, "alpha", xs.d[xs.rank - 1], 0.25f, NN_VF_TRAIN);
    return finish_node(b, name, xs);
}

// one-input ops whose output has the input's shape (or flatten's)
static int simple(struct nn_builder *b, int x, enum nn_op op, const char *kind) {
    if (bad(b, x)) return -1;
    char name[32];
    struct nn_node *nd = new_node(b, op, kind, name);
    if (!nd) return -1;
    struct nn_shape xs = b->v[x].shape;
    nd->in[0] = x, nd->n_in = 1;
    if (op == NN_OP_FLATTEN) xs = (struct nn_shape){2, {1, (int)nn_shape_count(&xs)}};
    if (op == NN_OP_L2NORM) {
        if (xs.rank != 2) return argfail(b, "builder: %s: input must be (N, D), not rank %d%.0d", name, xs.rank, 0);
        nd->p.eps = 1e-10f;
    }
    return finish_node(b, name, xs);
}

int nn_b_relu(struct nn_builder *b, int x) { return simple(b, x, NN_OP_RELU, "relu"); }
int nn_b_flatten(struct nn_builder *b, int x) { return simple(b, x, NN_OP_FLATTEN, "flatten"); }
int nn_b_l2norm(struct nn_builder *b, int x) { return simple(b, x, NN_OP_L2NORM, "l2norm"); }

int nn_b_add(struct nn_builder *b, int x, int y) {
    if (bad(b, x) || bad(b, y)) return -1;
    char name[32];
    struct nn_node *nd = new_node(b, NN_OP_ADD, "add", name);
    if (!nd) return -1;
    const struct nn_shape *xs = &b->v[x].shape, *ys = &b->v[y].shape;
    if (xs->rank != ys->rank || memcmp(xs->d, ys->d, sizeof(int) * (size_t)xs->rank))
        return argfail(b, "builder: %s: shapes differ (%d vs %d values)", name,
                       (int)nn_shape_count(xs), (int)nn_shape_count(ys));
    nd->in[0] = x, nd->in[1] = y, nd->n_in = 2;
    return finish_node(b, name, *xs);
}

int nn_b_output(struct nn_builder *b, int x) {
    if (bad(b, x)) return -1;
    if (b->n_outputs >= 8) return argfail(b, "builder: %s: more than %d outputs%.0d", b->v[x].name, 8, 0);
    b->outputs[b->n_outputs++] = x;
    return x;
}

int nn_b_finish(struct nn_builder *b, const struct nn_options *opt, struct nn_net **out) {
    *out = NULL;
    if (!b) return fh_fail(FH_E_NOMEM, "builder: out of memory");
    int rc = b->err;
    if (!rc && (b->input < 0 || b->n_outputs < 1)) {
        fh_fail(FH_E_ARG, "builder: the net needs an input and an output");
        rc = fail(b, FH_E_ARG), rc = b->err;
    }
    if (rc) {
        fh_fail(rc, "%s", b->msg);
        nn_builder_free(b);
        return rc;
    }
    struct nn_net *net = nn_net_alloc(b->nv, b->nn);
    size_t floats = 0;
    for (int i = 0; i < b->nv; i++)
        if (b->v[i].data) floats += (nn_shape_count(&b->v[i].shape) + 15) & ~(size_t)15;
    if (!net || !(net->blob = fh_malloc_aligned((floats + 16) * sizeof(float)))) {
        nn_net_free(net);
        nn_builder_free(b);
        return fh_fail(FH_E_NOMEM, "builder: out of memory for %zu weights", floats);
    }
    floats = 0;
    for (int i = 0; i < b->nv; i++) {
        struct nn_value *v = &net->values[i];
        struct bval *bv = &b->v[i];
        v->name = bv->name, bv->name = NULL;
        v->shape = bv->shape, v->dtype = NN_F32, v->flags = bv->flags;
        if (!bv->data) continue;
        size_t n = nn_shape_count(&bv->shape);
        v->data = net->blob + floats;
        memcpy(v->data, bv->data, n * sizeof(float));
        floats += (n + 15) & ~(size_t)15;
    }
    memcpy(net->nodes, b->nd, (size_t)b->nn * sizeof *b->nd);
    net->n_inputs = 1, net->inputs[0] = b->input;
    net->n_outputs = b->n_outputs;
    memcpy(net->outputs, b->outputs, sizeof b->outputs);
    nn_builder_free(b);
    if ((rc = nn_net_finish(net, opt))) {
        nn_net_free(net);
        return rc;
    }
    *out = net;
    return FH_OK;
}
