// SPDX-License-Identifier: MIT
// Held-out pair verification (evalpairs.h): embedding, all pairs, 10-fold balanced
// accuracy and TAR at FAR 1e-3.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "train/evalpairs.h"

struct pair_ref {
    double d;
    long k;
};

static int cmp_pair(const void *a, const void *b) {
    const struct pair_ref *x = a, *y = b;
    if (x->d != y->d) return x->d < y->d ? -1 : 1;
    return (x->k > y->k) - (x->k < y->k);
}

// The best balanced-accuracy threshold over the pairs not in fold `skip` (-1: all pairs),
// from the sorted list; S, D: same and different pairs counted.
static double best_threshold(const struct pair_ref *p, const unsigned char *same, long n, int skip,
                             long S, long D) {
    double best_acc = 0.5, best_t = -1;   // t = -1: every pair "different"
    long s_le = 0, d_le = 0;
    for (long i = 0; i < n; i++) {
        long k = p[i].k;
        if (skip >= 0 && k % EVALPAIRS_FOLDS == skip) continue;
        if (same[k]) s_le++;
        else d_le++;
        // only at the last pair of a run of equal distances (the threshold takes them all)
        long j = i + 1;
        while (j < n && skip >= 0 && p[j].k % EVALPAIRS_FOLDS == skip) j++;
        if (j < n && p[j].d == p[i].d) continue;
        double acc = 0.5 * ((double)s_le / (double)S + (double)(D - d_le) / (double)D);
        if (acc > best_acc) best_acc = acc, best_t = p[i].d;
    }
    return best_t;
}

int evalpairs_score(const double *dist, const unsigned char *same, long n,
                    struct evalpairs_result *out) {
    if (!dist || !same || !out) return fh_fail(FH_E_ARG, "evalpairs: NULL argument");
    memset(out, 0, sizeof *out);
    long S[EVALPAIRS_FOLDS] = {0}, Dn[EVALPAIRS_FOLDS] = {0}, S_all = 0, D_all = 0;
    for (long k = 0; k < n; k++) {
        if (same[k]) S[k % EVALPAIRS_FOLDS]++, S_all++;
        else Dn[k % EVALPAIRS_FOLDS]++, D_all++;
        if (!(dist[k] >= 0 && isfinite(dist[k])))
            return fh_fail(FH_E_ARG, "evalpairs: pair %ld has distance %g", k, dist[k]);
    }
    for (int f = 0; f < EVALPAIRS_FOLDS; f++)
        if (!S[f] || !Dn[f])
            return fh_fail(FH_E_ARG, "evalpairs: fold %d has %ld same and %ld different pairs "
                           "(need both in every fold: more images or identities)", f, S[f], Dn[f]);
    struct pair_ref *p = fh_malloc((size_t)n * sizeof *p);
    double *diff = fh_malloc((size_t)D_all * sizeof *diff);
    if (!p || !diff) {
        fh_free(p), fh_free(diff);
        return fh_fail(FH_E_NOMEM, "evalpairs: no memory for %ld pairs", n);
    }
    long nd = 0;
    for (long k = 0; k < n; k++) {
        p[k] = (struct pair_ref){dist[k], k};
        if (!same[k]) diff[nd++] = dist[k];
    }
    qsort(p, (size_t)n, sizeof *p, cmp_pair);
    double accs[EVALPAIRS_FOLDS], sum = 0, sum_plain = 0;
    for (int f = 0; f < EVALPAIRS_FOLDS; f++) {
        double t = best_threshold(p, same, n, f, S_all - S[f], D_all - Dn[f]);
        long s_ok = 0, d_ok = 0;
        for (long k = f; k < n; k += EVALPAIRS_FOLDS) {
            if (same[k]) s_ok += dist[k] <= t;
            else d_ok += dist[k] > t;
        }
        accs[f] = 0.5 * ((double)s_ok / (double)S[f] + (double)d_ok / (double)Dn[f]);
        sum += accs[f];
        sum_plain += (double)(s_ok + d_ok) / (double)(S[f] + Dn[f]);
    }
    out->acc = sum / EVALPAIRS_FOLDS;
    out->acc_plain = sum_plain / EVALPAIRS_FOLDS;
    double var = 0;
    for (int f = 0; f < EVALPAIRS_FOLDS; f++) var += (accs[f] - out->acc) * (accs[f] - out->acc);
    out->acc_std = sqrt(var / EVALPAIRS_FOLDS);
    out->threshold = best_threshold(p, same, n, -1, S_all, D_all);
    // TAR at FAR: the (k+1)-th smallest different distance, accept d < t
    long kf = (long)floor(EVALPAIRS_FAR * (double)D_all);
    // diff sorted: the different pairs in the order of p
    nd = 0;
    for (long i = 0; i < n; i++)
        if (!same[p[i].k]) diff[nd++] = p[i].d;
    double t = diff[kf < D_all ? kf : D_all - 1];
    long acc_s = 0, acc_d = 0;
    for (long k = 0; k < n; k++) {
        if (dist[k] < t) {
            if (same[k]) acc_s++;
            else acc_d++;
        }
    }
    out->far_threshold = t;
    out->tar = (double)acc_s / (double)S_all;
    out->far = (double)acc_d / (double)D_all;
    out->n_same = S_all, out->n_diff = D_all;
    fh_free(p), fh_free(diff);
    return FH_OK;
}

int evalpairs_score_embeddings(const float *emb, const int *label, int n, int d,
                               struct evalpairs_result *out) {
    if (!emb || !label || !out || d < 1) return fh_fail(FH_E_ARG, "evalpairs: bad argument");
    if (n < 2) return fh_fail(FH_E_ARG, "evalpairs: %d images, need at least 2", n);
    if (n > EVALPAIRS_MAX_IMAGES)
        return fh_fail(FH_E_LIMIT, "evalpairs: %d images, at most %d", n, EVALPAIRS_MAX_IMAGES);
    long np = (long)n * (n - 1) / 2;
    double *dist = fh_malloc((size_t)np * sizeof *dist);
    unsigned char *same = fh_malloc((size_t)np);
    if (!dist || !same) {
        fh_free(dist), fh_free(same);
        return fh_fail(FH_E_NOMEM, "evalpairs: no memory for %ld pairs", np);
    }
    long k = 0;
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++, k++) {
            const float *a = emb + (size_t)i * d, *b = emb + (size_t)j * d;
            double s = 0;
            for (int c = 0; c < d; c++) s += ((double)a[c] - b[c]) * ((double)a[c] - b[c]);
            dist[k] = sqrt(s);
            same[k] = label[i] == label[j];
        }
    int rc = evalpairs_score(dist, same, np, out);
    if (!rc) {
        out->n_images = n;
        int ids = 0;
        for (int i = 0; i < n; i++) {
            int seen = 0;
            for (int j = 0; j < i && !seen; j++) seen = label[j] == label[i];
            ids += !seen;
        }
        out->n_ids = ids;
    }
    fh_free(dist), fh_free(same);
    return rc;
}

#define CHUNK 64

int evalpairs_embed(const struct nn_net *net, struct emb_prep prep, const struct train_dataset *d,
                    int flip, struct fh_pool *pool, float *emb) {
    if (!net || !d || !emb) return fh_fail(FH_E_ARG, "evalpairs: NULL argument");
    struct emb *e;
    int rc = emb_new_prep(net, prep, pool, &e);
    if (rc) return rc;
    struct img crops[CHUNK];
    memset(crops, 0, sizeof crops);
    for (int i = 0; i < CHUNK && !rc; i++) rc = img_alloc(&crops[i], TRAIN_CROP, TRAIN_CROP, 3);
    for (int i0 = 0; i0 < d->n && !rc; i0 += CHUNK) {
        int nb = d->n - i0 < CHUNK ? d->n - i0 : CHUNK;
        for (int i = 0; i < nb; i++) train_dataset_crop112(d, i0 + i, &crops[i]);
        rc = emb_run(e, crops, nb, flip, emb + (size_t)i0 * EMB_DIM, NULL);
    }
    for (int i = 0; i < CHUNK; i++) img_free(&crops[i]);
    emb_free(e);
    return rc;
}

int evalpairs_run(const struct nn_net *net, struct emb_prep prep, const struct train_dataset *d,
                  int flip, struct fh_pool *pool, struct evalpairs_result *out) {
    if (!d || d->n < 2) return fh_fail(FH_E_ARG, "evalpairs: need at least 2 images");
    if (d->n > EVALPAIRS_MAX_IMAGES)
        return fh_fail(FH_E_LIMIT, "evalpairs: %d images, at most %d", d->n, EVALPAIRS_MAX_IMAGES);
    float *emb = fh_malloc((size_t)d->n * EMB_DIM * sizeof *emb);
    int *label = fh_malloc((size_t)d->n * sizeof *label);
    int rc = !emb || !label ? fh_fail(FH_E_NOMEM, "evalpairs: no memory") : FH_OK;
    for (int i = 0; !rc && i < d->n; i++) label[i] = d->images[i].label;
    if (!rc) rc = evalpairs_embed(net, prep, d, flip, pool, emb);
    if (!rc) rc = evalpairs_score_embeddings(emb, label, d->n, EMB_DIM, out);
    fh_free(emb), fh_free(label);
    return rc;
}

// a metadata number of a .fhm; FH_E_FORMAT naming the key when absent or bad
static int meta_num(const struct nn_net *net, const char *path, const char *key, double *out) {
    const char *v = nn_net_meta(net, key);
    char *end = NULL;
    double x = v ? strtod(v, &end) : 0;
    if (!v || end == v || *end || !(x > -1e9 && x < 1e9))
        return fh_fail(FH_E_FORMAT, "%s: metadata %s is %s", path, key, v ? "not a number" : "missing");
    *out = x;
    return FH_OK;
}

int evalpairs_load_model(const char *path, int force_ref, struct nn_net **net, struct emb_prep *prep) {
    *net = NULL;
    *prep = EMB_PREP_MFN;
    uint8_t *buf;
    size_t n;
    int rc = fh_read_file(path, FH_MAX_MODEL_BYTES, &buf, &n);
    if (rc) return rc;
    struct nn_options o = {.force_ref = force_ref};
    int fhm = nn_is_fhm(buf, n);
    rc = fhm ? nn_net_load_mem(buf, n, &o, net) : nn_net_load_tflite_mem(buf, n, &o, net);
    fh_free(buf);
    if (rc) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s", fh_errmsg());
        return fh_fail(rc, "%s: %s", path, msg);
    }
    double mean = 0, scale = 0;
    if (fhm && (!(rc = meta_num(*net, path, "input_mean", &mean)) &&
                !(rc = meta_num(*net, path, "input_scale", &scale)))) {
        if (!(scale > 0)) rc = fh_fail(FH_E_FORMAT, "%s: metadata input_scale %g must be > 0", path, scale);
        *prep = (struct emb_prep){(float)mean, (float)scale};
    }
    if (rc) nn_net_free(*net), *net = NULL;
    return rc;
}
