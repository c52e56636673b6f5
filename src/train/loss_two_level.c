// SPDX-License-Identifier: MIT
// The two-level softmax approximation: a K-way head predicts the cluster of the identity,
// a second head predicts the identity among the members of the true cluster only.
#include <math.h>
#include <string.h>

#include "base/base.h"
#include "train/loss_int.h"

int loss_two_level_init(struct train_loss *l, uint64_t *rng) {
    const struct train_loss_opts *o = &l->o;
    int C = l->C, D = l->D, K = o->n_clusters, mk = o->two_level_margin;
    int rc = loss_head_init(&l->h1, K, D, mk, rng);
    if (!rc) rc = loss_head_init(&l->h, C, D, mk, rng);
    if (rc) return rc;
    struct loss_head *hs[2] = {&l->h1, &l->h};
    for (int i = 0; i < 2; i++)
        hs[i]->s = o->s, hs[i]->m = o->m, hs[i]->easy = o->arc_easy_margin;
    l->cluster_of = NULL;
    l->assign = fh_calloc((size_t)C, sizeof *l->assign);
    l->members = fh_malloc((size_t)C * sizeof *l->members);
    l->mstart = fh_malloc((size_t)(K + 1) * sizeof *l->mstart);
    l->pos = fh_malloc((size_t)C * sizeof *l->pos);
    if (!l->assign || !l->members || !l->mstart || !l->pos)
        return fh_fail(FH_E_NOMEM, "loss: no memory for the two-level head");
    l->params[l->np++] = (struct train_loss_param){"cluster.w", l->h1.w, l->h1.gw,
                                                   (size_t)K * D, K, D, 1};
    if (l->h1.b)
        l->params[l->np++] = (struct train_loss_param){"cluster.b", l->h1.b, l->h1.gb,
                                                       (size_t)K, K, 1, 0};
    l->params[l->np++] = (struct train_loss_param){"ident.w", l->h.w, l->h.gw,
                                                   (size_t)C * D, C, D, 1};
    if (l->h.b)
        l->params[l->np++] = (struct train_loss_param){"ident.b", l->h.b, l->h.gb,
                                                       (size_t)C, C, 1, 0};
    l->params[l->np++] = (struct train_loss_param){"cluster.assign", l->assign, NULL,
                                                   (size_t)C, C, 1, 0};
    return FH_OK;
}

void loss_two_level_free(struct train_loss *l) {
    fh_free(l->cluster_of), fh_free(l->assign), fh_free(l->members), fh_free(l->mstart);
    fh_free(l->pos);
}

// Checks an assignment (cluster of each of C classes, every one of K clusters used) and
// builds the member lists. code: the status for a bad assignment.
static int apply(struct train_loss *l, const int *a, int code) {
    int C = l->C, K = l->o.n_clusters;
    int *tmp = fh_calloc((size_t)K + 1, sizeof *tmp);
    if (!tmp) return fh_fail(FH_E_NOMEM, "loss: no memory");
    for (int c = 0; c < C; c++) {
        if (a[c] < 0 || a[c] >= K) {
            fh_free(tmp);
            return fh_fail(code, "loss: class %d assigned to cluster %d, outside [0, %d)", c,
                           a[c], K);
        }
        tmp[a[c] + 1]++;
    }
    for (int k = 0; k < K; k++)
        if (!tmp[k + 1]) {
            fh_free(tmp);
            return fh_fail(code, "loss: cluster %d has no class", k);
        }
    if (!l->cluster_of) {
        l->cluster_of = fh_malloc((size_t)C * sizeof *l->cluster_of);
        if (!l->cluster_of) {
            fh_free(tmp);
            return fh_fail(FH_E_NOMEM, "loss: no memory");
        }
    }
    for (int k = 0; k < K; k++) tmp[k + 1] += tmp[k];
    memcpy(l->mstart, tmp, (size_t)(K + 1) * sizeof *tmp);
    for (int c = 0; c < C; c++) {
        int k = a[c];
        l->pos[c] = tmp[k] - l->mstart[k];
        l->members[tmp[k]++] = c;
        l->cluster_of[c] = k;
        l->assign[c] = (float)k;
    }
    fh_free(tmp);
    return FH_OK;
}

int train_loss_set_clusters(struct train_loss *l, const int *cluster_of) {
    if (!l) return fh_fail(FH_E_ARG, "loss: NULL head");
    if (l->o.kind != TRAIN_LOSS_TWO_LEVEL)
        return fh_fail(FH_E_UNSUPPORTED, "loss: not a two-level head");
    if (cluster_of) return apply(l, cluster_of, FH_E_ARG);
    int *a = fh_malloc((size_t)l->C * sizeof *a);
    if (!a) return fh_fail(FH_E_NOMEM, "loss: no memory");
    for (int c = 0; c < l->C; c++) a[c] = c % l->o.n_clusters;
    int rc = apply(l, a, FH_E_ARG);
    fh_free(a);
    return rc;
}

const int *train_loss_clusters(const struct train_loss *l) {
    return l && l->o.kind == TRAIN_LOSS_TWO_LEVEL ? l->cluster_of : NULL;
}

int loss_two_level_reload(struct train_loss *l) {
    int *a = fh_malloc((size_t)l->C * sizeof *a);
    if (!a) return fh_fail(FH_E_NOMEM, "loss: no memory");
    for (int c = 0; c < l->C; c++) {
        float v = l->assign[c];
        a[c] = isfinite(v) && v == floorf(v) && fabsf(v) < 1e9f ? (int)v : -1;
    }
    int rc = apply(l, a, FH_E_FORMAT);
    if (rc) {
        fh_free(l->cluster_of);
        l->cluster_of = NULL;
    }
    fh_free(a);
    return rc;
}

static int two_level(struct train_loss *l, const float *E, const int *y, int N, float *dE,
                     struct train_loss_stats *st, int *pred) {
    int D = l->D;
    double *u = fh_malloc((size_t)D * 2 * sizeof *u);
    if (!u) return fh_fail(FH_E_NOMEM, "loss: no memory");
    double *de = u + D, loss = 0, wgt = 1.0 / N;
    int correct = 0, ccorrect = 0;
    loss_head_prepare(&l->h1);
    loss_head_prepare(&l->h);
    for (int i = 0; i < N; i++) {
        const float *e = E + (size_t)i * D;
        double en = loss_unit(e, D, u);
        double *g = dE ? de : NULL;
        if (g) memset(de, 0, (size_t)D * sizeof *de);
        int k = y ? l->cluster_of[y[i]] : -1, a1, a2;
        loss += loss_head_sample(&l->h1, e, u, en, NULL, l->o.n_clusters, k, wgt, g, &a1);
        if (k >= 0) {
            int *rows = l->members + l->mstart[k], nr = l->mstart[k + 1] - l->mstart[k];
            loss += loss_head_sample(&l->h, e, u, en, rows, nr, l->pos[y[i]], wgt, g, &a2);
        }
        if (a1 != k) { // the prediction among the predicted cluster's members
            int *rows = l->members + l->mstart[a1], nr = l->mstart[a1 + 1] - l->mstart[a1];
            loss_head_sample(&l->h, e, u, en, rows, nr, -1, 0, NULL, &a2);
        }
        int p = l->members[l->mstart[a1] + a2];
        if (pred) pred[i] = p;
        if (y) correct += p == y[i], ccorrect += a1 == k;
        if (g)
            for (int d = 0; d < D; d++) dE[(size_t)i * D + d] = (float)de[d];
    }
    fh_free(u);
    if (dE) loss_head_finish(&l->h1), loss_head_finish(&l->h);
    if (st) {
        st->loss = loss / N, st->acc = (double)correct / N, st->aux = (double)ccorrect / N;
        st->n_terms = N;
    }
    return FH_OK;
}

int loss_two_level_compute(struct train_loss *l, const float *E, const int *y, int N,
                           float *dE, struct train_loss_stats *st) {
    return two_level(l, E, y, N, dE, st, NULL);
}

int loss_two_level_predict(struct train_loss *l, const float *E, int N, int *pred) {
    return two_level(l, E, NULL, N, NULL, NULL, pred);
}

int train_two_level_cost(int C, int K, int D, const int *cluster_of, int bias,
                         struct train_two_level_cost *out) {
    if (!out || !cluster_of || C < 2 || K < 1 || K > C || D < 1 || C > TRAIN_LOSS_MAX_CLASSES ||
        D > TRAIN_LOSS_MAX_DIM)
        return fh_fail(FH_E_ARG, "loss: two-level cost needs 1 <= K <= C, D >= 1 and an "
                       "assignment (C %d, K %d, D %d)", C, K, D);
    size_t *n = fh_calloc((size_t)K, sizeof *n);
    if (!n) return fh_fail(FH_E_NOMEM, "loss: no memory");
    for (int c = 0; c < C; c++) {
        if (cluster_of[c] < 0 || cluster_of[c] >= K) {
            fh_free(n);
            return fh_fail(FH_E_ARG, "loss: class %d assigned to cluster %d, outside [0, %d)",
                           c, cluster_of[c], K);
        }
        n[cluster_of[c]]++;
    }
    size_t mx = 0;
    double sq = 0;
    for (int k = 0; k < K; k++) {
        if (n[k] > mx) mx = n[k];
        sq += (double)n[k] * n[k];
    }
    fh_free(n);
    size_t f = sizeof(float), bb = bias ? 1 : 0;
    out->flat_weight_bytes = (size_t)C * (D + bb) * f;
    out->two_level_weight_bytes = ((size_t)K + C) * (D + bb) * f;
    out->two_level_active_bytes = ((size_t)K + mx) * (D + bb) * f;
    out->flat_logits = C;
    out->two_level_logits_train = K + sq / C;
    out->two_level_logits_max = (double)(K + mx);
    return FH_OK;
}
