// SPDX-License-Identifier: MIT
// train/head: small binary heads trained with the engine (see head.h).
#include <math.h>
#include <string.h>

#include "base/base.h"
#include "train/head.h"
#include "train/optim.h"
#include "train/rng.h"

double train_bce_balanced(const float *z, const int *y, int n, double w_pos, double w_neg, float *dz) {
    double sum = 0;
    for (int i = 0; i < n; i++) {
        double v = z[i], w = y[i] ? w_pos : w_neg;
        // softplus(v) - y v, stable: max(v, 0) + log1p(exp(-|v|)) - y v
        double sp = (v > 0 ? v : 0) + log1p(exp(-fabs(v)));
        sum += w * (sp - (y[i] ? v : 0));
        if (dz) {
            double sg = v >= 0 ? 1 / (1 + exp(-v)) : exp(v) / (1 + exp(v));
            dz[i] = (float)(w * (sg - (y[i] ? 1 : 0)) / n);
        }
    }
    return n > 0 ? sum / n : 0;
}

int train_head_build(int dim, int hidden, uint64_t seed, struct nn_net **out) {
    *out = NULL;
    if (dim < 1 || dim > TRAIN_HEAD_MAX_DIM) return fh_fail(FH_E_ARG, "head: %d input features (1..%d)", dim, TRAIN_HEAD_MAX_DIM);
    if (hidden < 0 || hidden > TRAIN_HEAD_MAX_HIDDEN)
        return fh_fail(FH_E_ARG, "head: %d hidden units (0..%d)", hidden, TRAIN_HEAD_MAX_HIDDEN);
    struct nn_builder *b;
    int rc = nn_builder_new(seed, &b);
    if (rc) return rc;
    int x = nn_b_flatten(b, nn_b_input(b, "features", 1, 1, dim));
    if (hidden) x = nn_b_prelu(b, nn_b_fc(b, x, hidden, 1));
    nn_b_output(b, nn_b_fc(b, x, 1, 1));
    return nn_b_finish(b, NULL, out);
}

// the head's trainable params in creation order: fc w, fc b [, prelu alpha, fc w, fc b]
static int head_params(struct nn_net *net, int dim, int hidden, struct nn_param *p) {
    int want = hidden ? 5 : 2, k = 0;
    size_t n1 = hidden ? (size_t)hidden : 1;
    size_t sizes[5] = {n1 * (size_t)dim, n1, n1, n1, 1};
    for (int i = 0; i < nn_net_n_params(net) && k <= want; i++) {
        struct nn_param q;
        if (nn_net_param(net, i, &q)) return FH_E_ARG;
        if (!q.trainable) continue;
        if (k == want || q.n != sizes[k]) return fh_fail(FH_E_ARG, "head: param %s is not the head's (%d, %d)", q.name, dim, hidden);
        p[k++] = q;
    }
    if (k != want) return fh_fail(FH_E_ARG, "head: the net has %d params, the head %d", k, want);
    return FH_OK;
}

int train_head_export(struct nn_net *net, int dim, int hidden, const float *mean, const float *inv_std,
                      struct train_head *out) {
    memset(out, 0, sizeof *out);
    if (dim < 1 || dim > TRAIN_HEAD_MAX_DIM || hidden < 0 || hidden > TRAIN_HEAD_MAX_HIDDEN)
        return fh_fail(FH_E_ARG, "head: export of (%d, %d)", dim, hidden);
    struct nn_param p[5];
    int rc = head_params(net, dim, hidden, p);
    if (rc) return rc;
    size_t n1 = hidden ? (size_t)hidden : 1, total = n1 * (size_t)dim + n1 + (hidden ? 2 * n1 : 0);
    float *buf = fh_malloc(sizeof(float) * total);
    if (!buf) return fh_fail(FH_E_NOMEM, "head: %zu weights", total);
    out->dim = dim, out->hidden = hidden;
    out->w1 = buf, out->b1 = buf + n1 * (size_t)dim;
    for (size_t j = 0; j < n1; j++) {
        double b = p[1].w[j];
        for (int k = 0; k < dim; k++) {
            double w = p[0].w[j * (size_t)dim + (size_t)k], s = inv_std ? inv_std[k] : 1;
            out->w1[j * (size_t)dim + (size_t)k] = (float)(w * s);
            if (mean) b -= w * s * mean[k];
        }
        out->b1[j] = (float)b;
    }
    if (hidden) {
        out->alpha = out->b1 + n1, out->w2 = out->alpha + n1;
        memcpy(out->alpha, p[2].w, sizeof(float) * n1);
        memcpy(out->w2, p[3].w, sizeof(float) * n1);
        out->b2 = p[4].w[0];
    }
    return FH_OK;
}

void train_head_free(struct train_head *h) {
    if (!h) return;
    fh_free(h->w1);
    memset(h, 0, sizeof *h);
}

static int check_opts(const float *x, const int *y, int n, int dim, const struct train_head_opts *o) {
    if (!x || !y || !o) return fh_fail(FH_E_ARG, "head: NULL data or options");
    if (n < 2 || n > TRAIN_HEAD_MAX_N) return fh_fail(FH_E_ARG, "head: %d examples (2..%d)", n, TRAIN_HEAD_MAX_N);
    if (dim < 1 || dim > TRAIN_HEAD_MAX_DIM) return fh_fail(FH_E_ARG, "head: %d input features (1..%d)", dim, TRAIN_HEAD_MAX_DIM);
    if (o->epochs < 1 || o->epochs > 100000) return fh_fail(FH_E_ARG, "head: %d epochs (1..100000)", o->epochs);
    if (o->batch < 1 || o->batch > 65536) return fh_fail(FH_E_ARG, "head: batch %d (1..65536)", o->batch);
    if (!(o->lr > 0) || !isfinite(o->lr)) return fh_fail(FH_E_ARG, "head: learning rate %g", (double)o->lr);
    int npos = 0;
    for (int i = 0; i < n; i++) npos += y[i] != 0;
    if (npos == 0 || npos == n) return fh_fail(FH_E_ARG, "head: %d positives of %d examples: need both classes", npos, n);
    for (size_t i = 0; i < (size_t)n * (size_t)dim; i++)
        if (!isfinite(x[i])) return fh_fail(FH_E_ARG, "head: feature %zu of example %zu is not finite", i % (size_t)dim, i / (size_t)dim);
    return FH_OK;
}

// per-feature mean and 1 / standard deviation (1 for a constant feature)
static void standardise(const float *x, int n, int dim, float *mean, float *inv_std) {
    for (int k = 0; k < dim; k++) {
        double s = 0, s2 = 0;
        for (int i = 0; i < n; i++) s += x[(size_t)i * (size_t)dim + (size_t)k];
        double m = s / n;
        for (int i = 0; i < n; i++) {
            double d = x[(size_t)i * (size_t)dim + (size_t)k] - m;
            s2 += d * d;
        }
        double sd = sqrt(s2 / n);
        mean[k] = (float)m, inv_std[k] = (float)(sd > 1e-12 ? 1 / sd : 1);
    }
}

struct fit {
    struct nn_net *net;
    struct nn_session *s;
    struct train_sgd *sgd;
    float *xs, *mean, *inv_std, *dz;
    int *idx, *yb;
};

static void fit_free(struct fit *f) {
    train_sgd_free(f->sgd);
    nn_session_free(f->s);
    nn_net_free(f->net);
    fh_free(f->xs), fh_free(f->mean), fh_free(f->inv_std), fh_free(f->dz), fh_free(f->idx), fh_free(f->yb);
}

// forward the examples idx[0..b) (standardised); *z = the output logits
static int forward(struct fit *f, const int *idx, int b, int dim, int training, int *cur, const float **z) {
    int rc, dims[FH_MAX_DIMS], rank;
    if (b != *cur) {
        if ((rc = nn_session_reshape(f->s, (int[]){b, 1, 1, dim}, 4))) return rc;
        *cur = b;
    }
    float *in = nn_session_input(f->s, 0);
    for (int i = 0; i < b; i++) memcpy(in + (size_t)i * (size_t)dim, f->xs + (size_t)idx[i] * (size_t)dim, sizeof(float) * (size_t)dim);
    if ((rc = nn_session_forward(f->s, training))) return rc;
    *z = nn_session_output(f->s, 0, dims, &rank);
    return FH_OK;
}

int train_head_fit(const float *x, const int *y, int n, int dim, const struct train_head_opts *o,
                   struct train_head *out, double *loss) {
    memset(out, 0, sizeof *out);
    int rc = check_opts(x, y, n, dim, o);
    if (rc) return rc;
    if (o->hidden < 0 || o->hidden > TRAIN_HEAD_MAX_HIDDEN)
        return fh_fail(FH_E_ARG, "head: %d hidden units (0..%d)", o->hidden, TRAIN_HEAD_MAX_HIDDEN);
    struct fit f = {0};
    int batch = o->batch < n ? o->batch : n;
    f.xs = fh_malloc(sizeof(float) * (size_t)n * (size_t)dim);
    f.mean = fh_malloc(sizeof(float) * (size_t)dim), f.inv_std = fh_malloc(sizeof(float) * (size_t)dim);
    f.dz = fh_malloc(sizeof(float) * (size_t)n);
    f.idx = fh_malloc(sizeof(int) * (size_t)n), f.yb = fh_malloc(sizeof(int) * (size_t)n);
    if (!f.xs || !f.mean || !f.inv_std || !f.dz || !f.idx || !f.yb) {
        fit_free(&f);
        return fh_fail(FH_E_NOMEM, "head: %d x %d training set", n, dim);
    }
    standardise(x, n, dim, f.mean, f.inv_std);
    for (size_t i = 0; i < (size_t)n; i++)
        for (size_t k = 0; k < (size_t)dim; k++) f.xs[i * (size_t)dim + k] = (x[i * (size_t)dim + k] - f.mean[k]) * f.inv_std[k];
    int npos = 0;
    for (int i = 0; i < n; i++) npos += y[i] != 0, f.idx[i] = i;
    double w_pos = n / (2.0 * npos), w_neg = n / (2.0 * (n - npos));
    int cur = 0;
    if ((rc = train_head_build(dim, o->hidden, o->seed, &f.net)) || (rc = nn_session_new_train(f.net, NULL, &f.s)) ||
        (rc = nn_session_reshape(f.s, (int[]){batch, 1, 1, dim}, 4))) {
        fit_free(&f);
        return rc;
    }
    cur = batch;
    struct train_param tp[5];
    int ntp = 0;
    for (int i = 0; i < nn_net_n_params(f.net) && ntp < 5; i++) {
        struct nn_param q;
        nn_net_param(f.net, i, &q);
        if (q.trainable) tp[ntp++] = (struct train_param){q.name, q.w, nn_session_param_grad(f.s, i), q.n, q.decay};
    }
    struct train_sgd_opts so = {.momentum = o->momentum, .weight_decay = o->weight_decay};
    if ((rc = train_sgd_new(tp, ntp, &so, &f.sgd))) {
        fit_free(&f);
        return rc;
    }
    long per_epoch = (n + batch - 1) / batch, total = per_epoch * o->epochs;
    struct train_sched sc = {.kind = TRAIN_SCHED_COSINE, .lr = o->lr, .warmup = total / 20, .total = total, .floor = o->lr / 100};
    if (sc.total <= sc.warmup) sc.kind = TRAIN_SCHED_CONST;
    struct train_rng r;
    train_rng_stream(&r, o->seed, 1);
    long step = 0;
    for (int ep = 0; ep < o->epochs && !rc; ep++) {
        for (int i = n - 1; i > 0; i--) { // Fisher-Yates
            int j = (int)train_rng_below(&r, (uint32_t)(i + 1)), t = f.idx[i];
            f.idx[i] = f.idx[j], f.idx[j] = t;
        }
        for (int off = 0; off < n && !rc; off += batch, step++) {
            int b = n - off < batch ? n - off : batch;
            const float *z;
            if ((rc = forward(&f, f.idx + off, b, dim, 1, &cur, &z))) break;
            for (int i = 0; i < b; i++) f.yb[i] = y[f.idx[off + i]] != 0;
            train_bce_balanced(z, f.yb, b, w_pos, w_neg, f.dz);
            memcpy(nn_session_output_grad(f.s, 0), f.dz, sizeof(float) * (size_t)b);
            nn_session_zero_grad(f.s);
            if ((rc = nn_session_backward(f.s)) || (rc = train_sgd_step(f.sgd, train_sched_lr(&sc, step), NULL))) break;
            nn_net_weights_changed(f.net);
        }
    }
    if (!rc && loss) { // the final loss over the whole set, inference mode
        for (int i = 0; i < n; i++) f.idx[i] = i, f.yb[i] = y[i] != 0;
        const float *z;
        if (!(rc = forward(&f, f.idx, n, dim, 0, &cur, &z))) *loss = train_bce_balanced(z, f.yb, n, w_pos, w_neg, NULL);
    }
    if (!rc) rc = train_head_export(f.net, dim, o->hidden, f.mean, f.inv_std, out);
    fit_free(&f);
    return rc;
}
