// SPDX-License-Identifier: MIT
// Loss heads: options, lifecycle, argument checks, the per-batch dispatch, center loss and
// the parameter list. The classifier maths is in loss_head.c, triplet in loss_triplet.c,
// the two-level softmax in loss_two_level.c.
#include <math.h>
#include <string.h>

#include "base/base.h"
#include "train/loss_int.h"

void train_loss_opts_default(struct train_loss_opts *o, int kind, int n_classes, int dim) {
    memset(o, 0, sizeof *o);
    o->kind = kind, o->n_classes = n_classes, o->dim = dim, o->seed = 1;
    o->s = 64, o->m = kind == TRAIN_LOSS_COSFACE ? 0.35f : kind == TRAIN_LOSS_SPHEREFACE ? 4 : 0.5f;
    o->triplet_margin = 0.2f;
    o->center_lambda = 0.01f, o->center_alpha = 0.5f;
    o->n_clusters = (int)lround(sqrt(n_classes > 0 ? n_classes : 0));
    if (o->n_clusters < 2) o->n_clusters = 2;
    o->two_level_margin = TRAIN_LOSS_SOFTMAX;
}

double train_loss_sphere_lambda(long iter) {
    double l = 1000.0 / (1 + 0.12 * (double)(iter > 0 ? iter : 0));
    return l > 5 ? l : 5;
}

int train_loss_set_sphere_lambda(struct train_loss *l, float lambda) {
    if (!l || !(lambda >= 0 && isfinite(lambda)))
        return fh_fail(FH_E_ARG, "loss: SphereFace lambda must be >= 0 (got %g)", lambda);
    if (l->o.kind != TRAIN_LOSS_SPHEREFACE)
        return fh_fail(FH_E_UNSUPPORTED, "loss: lambda is a SphereFace setting");
    l->o.sphere_lambda = lambda, l->h.lambda = lambda;
    return FH_OK;
}

static int check_opts(const struct train_loss_opts *o) {
    if (o->kind < 0 || o->kind >= TRAIN_LOSS_COUNT)
        return fh_fail(FH_E_ARG, "loss: unknown kind %d", o->kind);
    if (o->n_classes < 2 || o->dim < 1)
        return fh_fail(FH_E_ARG, "loss: need C >= 2 classes and D >= 1 (got C %d, D %d)",
                       o->n_classes, o->dim);
    if (o->n_classes > TRAIN_LOSS_MAX_CLASSES || o->dim > TRAIN_LOSS_MAX_DIM)
        return fh_fail(FH_E_LIMIT, "loss: C %d / D %d above the limits %d / %d", o->n_classes,
                       o->dim, TRAIN_LOSS_MAX_CLASSES, TRAIN_LOSS_MAX_DIM);
    int k = o->kind, cosine = k == TRAIN_LOSS_COSFACE || k == TRAIN_LOSS_ARCFACE ||
                              (k == TRAIN_LOSS_TWO_LEVEL && o->two_level_margin != 0);
    if (cosine && !(o->s > 0 && isfinite(o->s)))
        return fh_fail(FH_E_ARG, "loss: scale s must be > 0 (got %g)", o->s);
    if (cosine && !(o->m >= 0 && o->m < M_PI))
        return fh_fail(FH_E_ARG, "loss: margin m must be in [0, pi) (got %g)", o->m);
    if (k == TRAIN_LOSS_SPHEREFACE) {
        if (!(o->m >= 1 && o->m <= TRAIN_LOSS_MAX_SPHERE_M && o->m == floorf(o->m)))
            return fh_fail(FH_E_ARG, "loss: SphereFace margin m must be an integer in 1..%d "
                           "(got %g)", TRAIN_LOSS_MAX_SPHERE_M, o->m);
        if (!(o->sphere_lambda >= 0 && isfinite(o->sphere_lambda)))
            return fh_fail(FH_E_ARG, "loss: SphereFace lambda must be >= 0 (got %g)",
                           o->sphere_lambda);
    }
    if (k == TRAIN_LOSS_TRIPLET && !(o->triplet_margin >= 0 && o->triplet_margin <= 4))
        return fh_fail(FH_E_ARG, "loss: triplet margin must be in [0, 4] (got %g)",
                       o->triplet_margin);
    if (k == TRAIN_LOSS_CENTER && !(o->center_lambda >= 0 && isfinite(o->center_lambda)))
        return fh_fail(FH_E_ARG, "loss: center lambda must be >= 0 (got %g)", o->center_lambda);
    if (k == TRAIN_LOSS_CENTER && !(o->center_alpha >= 0 && o->center_alpha <= 1))
        return fh_fail(FH_E_ARG, "loss: center alpha must be in [0, 1] (got %g)",
                       o->center_alpha);
    if (k == TRAIN_LOSS_TWO_LEVEL) {
        if (o->n_clusters < 2 || o->n_clusters > o->n_classes)
            return fh_fail(FH_E_ARG, "loss: two-level needs 2 <= K <= C clusters (got K %d, "
                           "C %d)", o->n_clusters, o->n_classes);
        int mk = o->two_level_margin;
        if (mk != TRAIN_LOSS_SOFTMAX && mk != TRAIN_LOSS_COSFACE && mk != TRAIN_LOSS_ARCFACE)
            return fh_fail(FH_E_ARG, "loss: two-level margin must be softmax, cosface or "
                           "arcface (got %d)", mk);
    }
    return FH_OK;
}

static void add_param(struct train_loss *l, const char *name, float *w, float *g, int rows,
                      int cols, int decay) {
    struct train_loss_param *p = &l->params[l->np++];
    p->name = name, p->w = w, p->g = g, p->rows = rows, p->cols = cols;
    p->n = (size_t)rows * cols, p->decay = decay;
}

static void set_head_opts(struct loss_head *h, const struct train_loss_opts *o) {
    h->s = o->s, h->m = o->m, h->lambda = o->sphere_lambda, h->easy = o->arc_easy_margin;
}

int train_loss_new(const struct train_loss_opts *o, struct train_loss **out) {
    *out = NULL;
    if (!o) return fh_fail(FH_E_ARG, "loss: NULL options");
    int rc = check_opts(o);
    if (rc) return rc;
    struct train_loss *l = fh_calloc(1, sizeof *l);
    if (!l) return fh_fail(FH_E_NOMEM, "loss: no memory");
    l->o = *o, l->o.cluster_of = NULL;
    l->C = o->n_classes, l->D = o->dim;
    uint64_t rng = o->seed;
    int C = l->C, D = l->D, k = o->kind;
    switch (k) {
    case TRAIN_LOSS_TRIPLET:
        break;
    case TRAIN_LOSS_TWO_LEVEL:
        rc = loss_two_level_init(l, &rng);
        break;
    default:
        rc = loss_head_init(&l->h, C, D, k == TRAIN_LOSS_CENTER ? TRAIN_LOSS_SOFTMAX : k, &rng);
        if (rc) break;
        set_head_opts(&l->h, o);
        add_param(l, "head.w", l->h.w, l->h.gw, C, D, 1);
        if (l->h.b) add_param(l, "head.b", l->h.b, l->h.gb, C, 1, 0);
        if (k == TRAIN_LOSS_CENTER) {
            l->centers = fh_calloc((size_t)C * D, sizeof *l->centers);
            l->gcenters = fh_calloc((size_t)C * D, sizeof *l->gcenters);
            l->count = fh_calloc((size_t)C, sizeof *l->count);
            if (!l->centers || !l->gcenters || !l->count) {
                rc = fh_fail(FH_E_NOMEM, "loss: no memory for %d x %d centers", C, D);
                break;
            }
            add_param(l, "center.c", l->centers, o->center_alpha > 0 ? NULL : l->gcenters, C,
                      D, 0);
        }
    }
    if (rc == FH_OK && k == TRAIN_LOSS_TWO_LEVEL) rc = train_loss_set_clusters(l, o->cluster_of);
    if (rc) {
        train_loss_free(l);
        return rc;
    }
    *out = l;
    return FH_OK;
}

void train_loss_free(struct train_loss *l) {
    if (!l) return;
    loss_head_free(&l->h);
    loss_head_free(&l->h1);
    fh_free(l->centers), fh_free(l->gcenters), fh_free(l->count);
    loss_two_level_free(l);
    fh_free(l);
}

int train_loss_n_params(const struct train_loss *l) { return l ? l->np : 0; }

int train_loss_param(struct train_loss *l, int i, struct train_loss_param *out) {
    if (!l || !out || i < 0 || i >= l->np)
        return fh_fail(FH_E_ARG, "loss: param %d out of range [0, %d)", i, l ? l->np : 0);
    *out = l->params[i];
    return FH_OK;
}

int train_loss_find_param(const struct train_loss *l, const char *name) {
    for (int i = 0; l && name && i < l->np; i++)
        if (!strcmp(l->params[i].name, name)) return i;
    return -1;
}

void train_loss_zero_grad(struct train_loss *l) {
    for (int i = 0; l && i < l->np; i++)
        if (l->params[i].g) memset(l->params[i].g, 0, l->params[i].n * sizeof(float));
}

int train_loss_params_changed(struct train_loss *l) {
    if (!l) return fh_fail(FH_E_ARG, "loss: NULL head");
    return l->o.kind == TRAIN_LOSS_TWO_LEVEL ? loss_two_level_reload(l) : FH_OK;
}

static int check_batch(const struct train_loss *l, const float *E, const int *y, int N, int D) {
    if (!l) return fh_fail(FH_E_ARG, "loss: NULL head");
    if (!E) return fh_fail(FH_E_ARG, "loss: NULL embeddings");
    if (N < 1) return fh_fail(FH_E_ARG, "loss: empty batch (N = %d)", N);
    if (N > TRAIN_LOSS_MAX_BATCH)
        return fh_fail(FH_E_LIMIT, "loss: batch of %d rows above the limit %d", N,
                       TRAIN_LOSS_MAX_BATCH);
    if (D != l->D)
        return fh_fail(FH_E_ARG, "loss: embedding width %d, the head was made for %d", D, l->D);
    if (l->o.kind == TRAIN_LOSS_TWO_LEVEL && !l->cluster_of)
        return fh_fail(FH_E_ARG, "loss: two-level head has no valid cluster assignment");
    for (int i = 0; y && i < N; i++)
        if (y[i] < 0 || y[i] >= l->C)
            return fh_fail(FH_E_ARG, "loss: label %d of row %d outside [0, %d)", y[i], i, l->C);
    return FH_OK;
}

// Center term: lambda/N sum 1/2 |e_i - c_{y_i}|^2; its gradient into de; the centers'
// gradient (alpha = 0) or Wen et al.'s update (alpha > 0, after the loss).
static double center_term(struct train_loss *l, const float *E, const int *y, int N, float *dE) {
    int D = l->D;
    double lam = l->o.center_lambda, sum = 0;
    for (int i = 0; i < N; i++) {
        const float *e = E + (size_t)i * D, *c = l->centers + (size_t)y[i] * D;
        for (int d = 0; d < D; d++) {
            double r = (double)e[d] - c[d];
            sum += 0.5 * r * r;
            if (dE) dE[(size_t)i * D + d] += (float)(lam / N * r);
        }
    }
    if (!dE) return sum / N;
    if (l->o.center_alpha == 0) {
        for (int i = 0; i < N; i++) {
            const float *e = E + (size_t)i * D, *c = l->centers + (size_t)y[i] * D;
            float *g = l->gcenters + (size_t)y[i] * D;
            for (int d = 0; d < D; d++) g[d] += (float)(lam / N * ((double)c[d] - e[d]));
        }
        return sum / N;
    }
    // Wen et al.: delta_j = sum_{y_i = j} (c_j - e_i) / (1 + n_j); c_j -= alpha delta_j.
    // The per-class sums use the old centers: accumulate (c_j - e_i) per class first.
    for (int i = 0; i < N; i++) l->count[y[i]]++;
    double *delta = l->h.du; // D doubles of scratch, free between samples
    for (int i = 0; i < N; i++) {
        int j = y[i];
        if (l->count[j] <= 0) continue; // this class was already updated
        float *c = l->centers + (size_t)j * D;
        memset(delta, 0, (size_t)D * sizeof *delta);
        for (int i2 = i; i2 < N; i2++)
            if (y[i2] == j)
                for (int d = 0; d < D; d++) delta[d] += (double)c[d] - E[(size_t)i2 * D + d];
        double scale = l->o.center_alpha / (1.0 + l->count[j]);
        for (int d = 0; d < D; d++) c[d] -= (float)(scale * delta[d]);
        l->count[j] = -1;
    }
    for (int i = 0; i < N; i++) l->count[y[i]] = 0;
    return sum / N;
}

// softmax, center, SphereFace, CosFace, ArcFace: one head over all C classes
static int flat_compute(struct train_loss *l, const float *E, const int *y, int N, float *dE,
                        struct train_loss_stats *st) {
    int D = l->D;
    double *u = fh_malloc((size_t)D * 2 * sizeof *u);
    if (!u) return fh_fail(FH_E_NOMEM, "loss: no memory");
    double *de = u + D, loss = 0;
    int correct = 0;
    loss_head_prepare(&l->h);
    for (int i = 0; i < N; i++) {
        const float *e = E + (size_t)i * D;
        double en = loss_unit(e, D, u);
        int am;
        if (dE) memset(de, 0, (size_t)D * sizeof *de);
        loss += loss_head_sample(&l->h, e, u, en, NULL, l->C, y[i], 1.0 / N, dE ? de : NULL,
                                 &am);
        correct += am == y[i];
        if (dE)
            for (int d = 0; d < D; d++) dE[(size_t)i * D + d] = (float)de[d];
    }
    fh_free(u);
    if (dE) loss_head_finish(&l->h);
    st->loss = loss / N, st->acc = (double)correct / N, st->aux = 0, st->n_terms = N;
    if (l->o.kind == TRAIN_LOSS_CENTER) {
        st->aux = center_term(l, E, y, N, dE);
        st->loss += l->o.center_lambda * st->aux;
    }
    return FH_OK;
}

int train_loss_compute(struct train_loss *l, const float *E, const int *y, int N, int D,
                       float *dE, struct train_loss_stats *st) {
    int rc = check_batch(l, E, y, N, D);
    if (rc) return rc;
    if (!y) return fh_fail(FH_E_ARG, "loss: NULL labels");
    struct train_loss_stats tmp;
    if (!st) st = &tmp;
    switch (l->o.kind) {
    case TRAIN_LOSS_TRIPLET:
        return loss_triplet_compute(&l->o, E, y, N, D, dE, st);
    case TRAIN_LOSS_TWO_LEVEL:
        return loss_two_level_compute(l, E, y, N, dE, st);
    default:
        return flat_compute(l, E, y, N, dE, st);
    }
}

int train_loss_predict(struct train_loss *l, const float *E, int N, int D, int *pred) {
    int rc = check_batch(l, E, NULL, N, D);
    if (rc) return rc;
    if (!pred) return fh_fail(FH_E_ARG, "loss: NULL prediction array");
    if (l->o.kind == TRAIN_LOSS_TRIPLET)
        return fh_fail(FH_E_UNSUPPORTED, "loss: a triplet head has no classifier to predict with");
    if (l->o.kind == TRAIN_LOSS_TWO_LEVEL) return loss_two_level_predict(l, E, N, pred);
    double *u = fh_malloc((size_t)D * sizeof *u);
    if (!u) return fh_fail(FH_E_NOMEM, "loss: no memory");
    loss_head_prepare(&l->h);
    for (int i = 0; i < N; i++) {
        const float *e = E + (size_t)i * D;
        double en = loss_unit(e, D, u);
        loss_head_sample(&l->h, e, u, en, NULL, l->C, -1, 0, NULL, &pred[i]);
    }
    fh_free(u);
    return FH_OK;
}
