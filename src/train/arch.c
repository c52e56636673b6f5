// SPDX-License-Identifier: MIT
// The embedding architectures (arch.h): MobileFaceNet as the pretrained net has it
// (docs/models.md section 4) and a small variant, from one table each.
#include <string.h>

#include "nn/nn_int.h"
#include "train/arch.h"

struct stage {
    int expand, out, blocks, stride; // bottleneck: 1x1 in->expand, dw 3x3, 1x1 expand->out
};

struct arch {
    const char *name;
    int stem;                 // conv 3x3/2 and dw 3x3 channels, then conv 1x1 stem->stem
    struct stage st[4];
    int head, emb;            // conv 1x1 -> head, GDConv 7x7, conv 1x1 head, conv 1x1 -> emb
};

static const struct arch archs[] = {
    {"mobilefacenet", 64, {{128, 64, 5, 2}, {256, 128, 7, 2}, {512, 128, 1, 2}, {256, 128, 2, 1}}, 512, 192},
    {"mfn-s", 32, {{64, 32, 1, 2}, {128, 64, 1, 2}, {256, 64, 1, 2}, {128, 64, 1, 1}}, 256, 192},
};

// conv (+ BN) (+ PReLU); bias only without BN
static int conv(struct nn_builder *b, int x, int oc, int k, int s, int pad, int bn, int prelu) {
    x = nn_b_conv(b, x, oc, k, s, pad, !bn);
    if (bn) x = nn_b_bn(b, x);
    return prelu ? nn_b_prelu(b, x) : x;
}

static int dw(struct nn_builder *b, int x, int k, int s, int pad, int bn, int prelu) {
    x = nn_b_dwconv(b, x, k, s, pad, !bn);
    if (bn) x = nn_b_bn(b, x);
    return prelu ? nn_b_prelu(b, x) : x;
}

int arch_build(const char *name, int bn, uint64_t seed, struct nn_net **out) {
    *out = NULL;
    const struct arch *a = NULL;
    for (size_t i = 0; i < sizeof archs / sizeof *archs; i++)
        if (name && !strcmp(name, archs[i].name)) a = &archs[i];
    if (!a) return fh_fail(FH_E_ARG, "arch: unknown architecture '%s' (mobilefacenet, mfn-s)", name ? name : "");
    struct nn_builder *b;
    int rc = nn_builder_new(seed, &b);
    if (rc) return rc;
    int x = nn_b_input(b, "input", 112, 112, 3), c = a->stem;
    x = conv(b, x, c, 3, 2, 1, bn, 1);
    x = dw(b, x, 3, 1, 1, bn, 1);
    x = conv(b, x, c, 1, 1, 1, bn, 0);
    for (int s = 0; s < 4; s++) {
        const struct stage *st = &a->st[s];
        for (int k = 0; k < st->blocks; k++) {
            int stride = k ? 1 : st->stride;
            int y = conv(b, x, st->expand, 1, 1, 1, bn, 1);
            y = dw(b, y, 3, stride, 1, bn, 1);
            y = conv(b, y, st->out, 1, 1, 1, bn, 0);
            x = stride == 1 && c == st->out ? nn_b_add(b, y, x) : y;
            c = st->out;
        }
    }
    x = conv(b, x, a->head, 1, 1, 1, bn, 1);
    x = dw(b, x, 7, 1, 0, bn, 0);
    x = conv(b, x, a->head, 1, 1, 0, bn, 0);
    x = conv(b, x, a->emb, 1, 1, 1, bn, 0);
    nn_b_output(b, nn_b_flatten(b, x));
    return nn_b_finish(b, NULL, out);
}

// the weighted layers of a net in order: conv/dw/fc (weights, bias) and PReLU slopes
struct layers {
    int n_conv, n_prelu;
    int w[128], b[128];           // value indices (b -1 when none)
    const float *slope[128];      // effective slopes
    int n_slope[128];
    int prelu_v[128];             // the slope value (arch net) or -1
};

static int collect(const struct nn_net *net, struct layers *l) {
    memset(l, 0, sizeof *l);
    for (int i = 0; i < net->n_nodes; i++) {
        const struct nn_node *nd = &net->nodes[i];
        int cv = nd->op == NN_OP_CONV2D || nd->op == NN_OP_DWCONV2D || nd->op == NN_OP_FC;
        if (cv) {
            if (l->n_conv == 128) return fh_fail(FH_E_ARG, "arch: more than 128 conv layers");
            l->w[l->n_conv] = nd->in[1];
            l->b[l->n_conv++] = nd->n_in > 2 ? nd->in[2] : -1;
        }
        if (nd->op == NN_OP_PRELU || (cv && nd->p.act == NN_ACT_PRELU)) {
            if (l->n_prelu == 128) return fh_fail(FH_E_ARG, "arch: more than 128 PReLUs");
            l->slope[l->n_prelu] = nd->alpha;
            l->n_slope[l->n_prelu] = nd->n_alpha;
            l->prelu_v[l->n_prelu++] = nd->p.alpha;
        } else if (cv && nd->p.act != NN_ACT_NONE) {
            return fh_fail(FH_E_ARG, "arch: operator %d has an activation other than PReLU", i);
        }
    }
    return FH_OK;
}

static int same_shape(const struct nn_shape *a, const struct nn_shape *b) {
    return a->rank == b->rank && !memcmp(a->d, b->d, sizeof(int) * (size_t)a->rank);
}

int arch_load_tflite_weights(struct nn_net *net, const struct nn_net *tflite) {
    struct layers *d = fh_malloc(sizeof *d), *s = fh_malloc(sizeof *s);
    int rc = !d || !s ? fh_fail(FH_E_NOMEM, "arch: out of memory") : FH_OK;
    if (!rc) rc = collect(net, d);
    if (!rc) rc = collect(tflite, s);
    if (!rc && (d->n_conv != s->n_conv || d->n_prelu != s->n_prelu))
        rc = fh_fail(FH_E_ARG, "arch: the net has %d conv layers and %d PReLUs, the TFLite net %d and %d",
                     d->n_conv, d->n_prelu, s->n_conv, s->n_prelu);
    for (int i = 0; !rc && i < d->n_conv; i++) {
        struct nn_value *dw = &net->values[d->w[i]];
        const struct nn_value *sw = &tflite->values[s->w[i]];
        if (!same_shape(&dw->shape, &sw->shape) || d->b[i] < 0) {
            rc = fh_fail(FH_E_ARG, "arch: layer %s does not fit TFLite tensor %s (shape or bias)", dw->name, sw->name);
            break;
        }
        memcpy(dw->data, sw->data, nn_shape_count(&dw->shape) * sizeof(float));
        struct nn_value *db = &net->values[d->b[i]];
        size_t nb = nn_shape_count(&db->shape);
        if (s->b[i] >= 0 && nn_shape_count(&tflite->values[s->b[i]].shape) != nb) {
            rc = fh_fail(FH_E_ARG, "arch: bias %s does not fit", db->name);
            break;
        }
        if (s->b[i] >= 0) memcpy(db->data, tflite->values[s->b[i]].data, nb * sizeof(float));
        else memset(db->data, 0, nb * sizeof(float));
    }
    for (int i = 0; !rc && i < d->n_prelu; i++) {
        struct nn_value *a = &net->values[d->prelu_v[i]];
        if ((int)nn_shape_count(&a->shape) != s->n_slope[i]) {
            rc = fh_fail(FH_E_ARG, "arch: %s has %d slopes, the TFLite PReLU %d", a->name,
                         (int)nn_shape_count(&a->shape), s->n_slope[i]);
            break;
        }
        memcpy(a->data, s->slope[i], (size_t)s->n_slope[i] * sizeof(float));
    }
    fh_free(d), fh_free(s);
    if (!rc) nn_net_weights_changed(net);
    return rc;
}
