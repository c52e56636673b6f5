// SPDX-License-Identifier: MIT
// int8 inference: which nodes run in int8, their quantised weights, and the calibration
// of activation scales (nn.h: nn_options.int8, nn_calib_*).
//
// Weights: symmetric per output channel, ws[oc] = max_k |w[oc, k]| / 127 (1 for an
// all-zero channel), qw = nearbyint(w / ws). Inputs: symmetric per tensor with the
// calibrated scale xs; the kernel multiplies the exact int32 sum by dq[oc] = xs * ws[oc].
//
// Calibration: one histogram of |x| per conv input (2048 bins over [0, range]; range
// doubles, merging bin pairs, whenever a run sees a larger value), then the clipping
// threshold t (at a bin edge, at least 1/16 of the range) that minimises
//   sum_{bins below t} n * (t/127)^2 / 12  +  sum_{bins above t} n * (centre - t)^2,
// the rounding noise of the values kept plus the error of the values clipped; xs = t/127,
// or with a clip multiplier m: xs = min(m t, the largest value seen) / 127 (cmd_quantize.c
// picks m on the calibration faces).
#include <math.h>
#include <string.h>

#include "nn/nn_int.h"

#define NB 2048

void nn_conv_dims(const struct nn_net *net, const struct nn_node *nd, int *OC, int *K) {
    const struct nn_shape *w = &net->values[nd->in[1]].shape;
    *OC = w->d[0];
    *K = (int)(nn_shape_count(w) / (size_t)(*OC > 0 ? *OC : 1));
}

// a node the int8 kernels can run (given a scale for its input)
static int quantisable(const struct nn_net *net, const struct nn_node *nd) {
    if (nd->op != NN_OP_CONV2D && nd->op != NN_OP_FC) return 0;
    if (nd->p.DH > 1 || nd->p.DW > 1 || !net->values[nd->in[1]].data) return 0;
    int OC, K;
    nn_conv_dims(net, nd, &OC, &K);
    return OC > 0 && K > 0 && K <= NN_QCONV_MAX_K;
}

void nn_quant_mark(struct nn_net *net, const struct nn_options *opt) {
    for (int i = 0; i < net->n_nodes; i++) {
        struct nn_node *nd = &net->nodes[i];
        if (nd->wq8) continue; // already int8 (a re-finish)
        nd->xscale = 0;
        if (!opt || opt->n_int8 <= 0 || !quantisable(net, nd)) continue;
        const char *name = net->values[nd->in[0]].name;
        for (int k = 0; k < opt->n_int8; k++)
            if (name && opt->int8[k].name && !strcmp(opt->int8[k].name, name) && opt->int8[k].scale > 0 &&
                isfinite(opt->int8[k].scale)) {
                nd->xscale = opt->int8[k].scale;
                break;
            }
    }
}

// wq8 holds the packed weights, then the unpacked quantised ones (OC x K) derive makes
int nn_quant_alloc(struct nn_net *net, struct nn_node *nd) {
    int OC, K;
    nn_conv_dims(net, nd, &OC, &K);
    size_t packed = net->kern->qconv_pack_size(OC, K);
    nd->wq8 = fh_malloc_aligned(packed + (size_t)OC * K);
    nd->dq = fh_malloc((size_t)OC * sizeof(float));
    if (!nd->wq8 || !nd->dq) return fh_fail(FH_E_NOMEM, "model: out of memory quantising weights");
    return FH_OK;
}

void nn_quant_derive(const struct nn_net *net, struct nn_node *nd) {
    int OC, K;
    nn_conv_dims(net, nd, &OC, &K);
    const float *w = net->values[nd->in[1]].data;
    int8_t *q = (int8_t *)nd->wq8 + net->kern->qconv_pack_size(OC, K);
    for (int oc = 0; oc < OC; oc++) {
        const float *wr = w + (size_t)oc * K;
        float mx = 0;
        for (int k = 0; k < K; k++) mx = fmaxf(mx, fabsf(wr[k]));
        float ws = mx > 0 && isfinite(mx) ? mx / 127.0f : 1.0f;
        for (int k = 0; k < K; k++) q[(size_t)oc * K + k] = (int8_t)nn_quant8(wr[k], 1.0f / ws);
        nd->dq[oc] = nd->xscale * ws;
    }
    net->kern->qconv_pack(OC, K, q, nd->wq8);
}

int nn_net_n_int8(const struct nn_net *net) {
    int n = 0;
    for (int i = 0; i < net->n_nodes; i++) n += net->nodes[i].wq8 != NULL;
    return n;
}

// ---- calibration -------------------------------------------------------------------------

struct hist {
    int value;
    double range;     // bins cover [0, range); 0 until a non-zero value is seen
    double bins[NB];
    unsigned stamp;   // the run that last added this value (a value read by two convs counts once)
};

struct nn_calib {
    struct nn_net *net;
    int n;
    struct hist *h;
    int *of_value;    // value -> index into h, or -1
    unsigned run;
    struct nn_qscale *out;
};

int nn_calib_new(struct nn_net *net, struct nn_calib **out) {
    *out = NULL;
    if (net->calib) return fh_fail(FH_E_ARG, "calibration: the net already has one attached");
    struct nn_calib *c = fh_calloc(1, sizeof *c);
    if (!c || !(c->of_value = fh_malloc((size_t)net->n_values * sizeof(int)))) {
        fh_free(c);
        return fh_fail(FH_E_NOMEM, "calibration: out of memory");
    }
    c->net = net;
    for (int v = 0; v < net->n_values; v++) c->of_value[v] = -1;
    for (int i = 0; i < net->n_nodes; i++) {
        const struct nn_node *nd = &net->nodes[i];
        if (quantisable(net, nd) && c->of_value[nd->in[0]] < 0) c->of_value[nd->in[0]] = c->n++;
    }
    c->h = fh_calloc((size_t)(c->n ? c->n : 1), sizeof *c->h);
    c->out = fh_calloc((size_t)(c->n ? c->n : 1), sizeof *c->out);
    if (!c->h || !c->out) {
        nn_calib_free(c);
        return fh_fail(FH_E_NOMEM, "calibration: out of memory");
    }
    for (int v = 0; v < net->n_values; v++)
        if (c->of_value[v] >= 0) c->h[c->of_value[v]].value = v;
    net->calib = c;
    *out = c;
    return FH_OK;
}

void nn_calib_free(struct nn_calib *c) {
    if (!c) return;
    if (c->net && c->net->calib == c) c->net->calib = NULL;
    fh_free(c->h);
    fh_free(c->of_value);
    fh_free(c->out);
    fh_free(c);
}

static void add(struct hist *h, const float *x, size_t n) {
    float mx = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(x[i])) mx = fmaxf(mx, fabsf(x[i]));
    if (mx <= 0) return;
    if (h->range <= 0) h->range = mx;
    while (mx > h->range) { // double the range: bin pairs merge
        for (int b = 0; b < NB / 2; b++) h->bins[b] = h->bins[2 * b] + h->bins[2 * b + 1];
        memset(h->bins + NB / 2, 0, NB / 2 * sizeof *h->bins);
        h->range *= 2;
    }
    double k = NB / h->range;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(x[i])) continue;
        int b = (int)(fabsf(x[i]) * k);
        h->bins[b < NB ? b : NB - 1] += 1;
    }
}

void nn_calib_observe(struct nn_calib *c, const struct nn_session *s, int node) {
    if (node == 0) c->run++;
    const struct nn_node *nd = &c->net->nodes[node];
    if (!quantisable(c->net, nd)) return;
    struct hist *h = &c->h[c->of_value[nd->in[0]]];
    if (h->stamp == c->run) return;
    h->stamp = c->run;
    const struct nn_slot *sl = &s->slots[nd->in[0]];
    add(h, sl->ptr, nn_shape_count(&sl->shape));
}

// the threshold minimising the expected squared error (file comment), by suffix sums
static double best_threshold(const struct hist *h) {
    double bw = h->range / NB, S0 = 0, S1 = 0, S2 = 0, below = 0;
    for (int b = 0; b < NB; b++) { // sums over the bins above the threshold, all at first
        double cc = (b + 0.5) * bw;
        S0 += h->bins[b], S1 += h->bins[b] * cc, S2 += h->bins[b] * cc * cc;
    }
    double best = h->range, best_err = INFINITY;
    for (int b = 0; b < NB; b++) {
        double cc = (b + 0.5) * bw, t = (b + 1) * bw;
        below += h->bins[b];
        S0 -= h->bins[b], S1 -= h->bins[b] * cc, S2 -= h->bins[b] * cc * cc;
        if (b + 1 < NB / 16) continue;
        double step = t / 127, err = below * step * step / 12 + (S2 - 2 * t * S1 + t * t * S0);
        if (err < best_err) best_err = err, best = t;
    }
    return best;
}

// the top edge of the highest non-empty bin
static double max_seen(const struct hist *h) {
    int b = NB - 1;
    while (b > 0 && h->bins[b] == 0) b--;
    return (b + 1) * h->range / NB;
}

int nn_calib_scales(struct nn_calib *c, double clip_mult, const struct nn_qscale **out, int *n) {
    int k = 0;
    for (int i = 0; i < c->n; i++) {
        const struct hist *h = &c->h[i];
        if (h->range <= 0) continue;
        c->out[k].name = c->net->values[h->value].name;
        double t = best_threshold(h) * clip_mult, mx = max_seen(h);
        if (t > mx) t = mx;
        c->out[k].scale = (float)(t / 127);
        k++;
    }
    if (!k) return fh_fail(FH_E_ARG, "calibration: no conv input seen yet (run some inputs first)");
    *out = c->out, *n = k;
    return FH_OK;
}
