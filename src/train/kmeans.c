// SPDX-License-Identifier: MIT
// k-means (k-means++ init, Lloyd iterations) and the per-class identity centres it is run
// on for the two-level softmax.
#include <math.h>
#include <string.h>

#include "base/base.h"
#include "train/loss_int.h"

// k-means runs over identity centres: at most this many points (a few million identities).
#define KMEANS_MAX_POINTS (1 << 24)

int train_class_centres(const float *E, const int *y, int N, int D, int C, float *centres,
                        int *count) {
    if (!E || !y || !centres || N < 0 || D < 1 || C < 1 || D > TRAIN_LOSS_MAX_DIM ||
        C > TRAIN_LOSS_MAX_CLASSES)
        return fh_fail(FH_E_ARG, "loss: class centres need E, y, centres, N >= 0, "
                       "1 <= D <= %d, 1 <= C <= %d (N %d, D %d, C %d)", TRAIN_LOSS_MAX_DIM,
                       TRAIN_LOSS_MAX_CLASSES, N, D, C);
    for (int i = 0; i < N; i++)
        if (y[i] < 0 || y[i] >= C)
            return fh_fail(FH_E_ARG, "loss: label %d of row %d outside [0, %d)", y[i], i, C);
    double *acc = fh_calloc((size_t)C * D + D, sizeof *acc);
    int *cnt = fh_calloc((size_t)C, sizeof *cnt);
    if (!acc || !cnt) {
        fh_free(acc), fh_free(cnt);
        return fh_fail(FH_E_NOMEM, "loss: no memory for %d x %d centres", C, D);
    }
    double *u = acc + (size_t)C * D;
    for (int i = 0; i < N; i++) {
        loss_unit(E + (size_t)i * D, D, u);
        double *a = acc + (size_t)y[i] * D;
        for (int d = 0; d < D; d++) a[d] += u[d];
        cnt[y[i]]++;
    }
    for (int c = 0; c < C; c++) {
        double *a = acc + (size_t)c * D, n2 = 0;
        for (int d = 0; d < D; d++) n2 += a[d] * a[d];
        double n = sqrt(n2);
        for (int d = 0; d < D; d++) centres[(size_t)c * D + d] = n > 1e-12 ? (float)(a[d] / n) : 0;
        if (count) count[c] = cnt[c];
    }
    fh_free(acc), fh_free(cnt);
    return FH_OK;
}

static double dist2(const float *x, const double *c, int d) {
    double s = 0;
    for (int j = 0; j < d; j++) {
        double r = x[j] - c[j];
        s += r * r;
    }
    return s;
}

// c = the mean of each cluster's points (an empty cluster: 0)
static void means(const float *X, int n, int d, int k, const int *assign, const int *cnt, double *c) {
    memset(c, 0, (size_t)k * d * sizeof *c);
    for (int i = 0; i < n; i++)
        for (int j = 0; j < d; j++) c[(size_t)assign[i] * d + j] += X[(size_t)i * d + j];
    for (int q = 0; q < k; q++)
        for (int j = 0; cnt[q] && j < d; j++) c[(size_t)q * d + j] /= cnt[q];
}

// Lloyd iterations from the centres in c (k x d, doubles); assign[] as given (-1: none)
// counts as the previous assignment. best, cnt: scratch (n, k). Writes assign, the final
// centres into c, and returns the inertia.
static double lloyd(const float *X, int n, int d, int k, int max_iter, int *assign, double *c, double *best,
                    int *cnt) {
    for (int it = 0;; it++) {
        int changed = 0;
        for (int i = 0; i < n; i++) { // assignment step (ties: lowest cluster)
            int a = 0;
            double bd = dist2(X + (size_t)i * d, c, d);
            for (int q = 1; q < k; q++) {
                double s = dist2(X + (size_t)i * d, c + (size_t)q * d, d);
                if (s < bd) bd = s, a = q;
            }
            best[i] = bd;
            if (assign[i] != a) assign[i] = a, changed++;
        }
        // an empty cluster takes the point farthest from its centre in a cluster of >= 2
        memset(cnt, 0, (size_t)k * sizeof *cnt);
        for (int i = 0; i < n; i++) cnt[assign[i]]++;
        for (int q = 0; q < k; q++) {
            if (cnt[q]) continue;
            int far = -1;
            for (int i = 0; i < n; i++)
                if (cnt[assign[i]] > 1 && (far < 0 || best[i] > best[far])) far = i;
            cnt[assign[far]]--, cnt[q]++;
            assign[far] = q, best[far] = 0, changed++;
        }
        means(X, n, d, k, assign, cnt, c);
        if (!changed || it + 1 >= max_iter) break;
    }
    double sum = 0;
    for (int i = 0; i < n; i++) sum += dist2(X + (size_t)i * d, c + (size_t)assign[i] * d, d);
    return sum;
}

static int check_args(const float *X, int n, int d, int k, int max_iter, const int *assign) {
    if (!X || !assign) return fh_fail(FH_E_ARG, "kmeans: NULL points or assignment");
    if (d < 1 || k < 1 || k > n || max_iter < 0)
        return fh_fail(FH_E_ARG, "kmeans: need d >= 1, 1 <= k <= n, max_iter >= 0 "
                       "(n %d, d %d, k %d, max_iter %d)", n, d, k, max_iter);
    if (n > KMEANS_MAX_POINTS || d > TRAIN_LOSS_MAX_DIM)
        return fh_fail(FH_E_LIMIT, "kmeans: %d points of width %d above the limits %d / %d", n,
                       d, KMEANS_MAX_POINTS, TRAIN_LOSS_MAX_DIM);
    return FH_OK;
}

// one Lloyd run: scratch, then lloyd from c
static int run(const float *X, int n, int d, int k, int max_iter, int *assign, double *c, float *centres,
               double *inertia) {
    double *best = fh_malloc((size_t)n * sizeof *best);
    int *cnt = fh_malloc((size_t)k * sizeof *cnt);
    if (!best || !cnt) {
        fh_free(best), fh_free(cnt);
        return fh_fail(FH_E_NOMEM, "kmeans: no memory for %d points", n);
    }
    double sum = lloyd(X, n, d, k, max_iter, assign, c, best, cnt);
    if (inertia) *inertia = sum;
    if (centres)
        for (size_t i = 0; i < (size_t)k * d; i++) centres[i] = (float)c[i];
    fh_free(best), fh_free(cnt);
    return FH_OK;
}

int train_kmeans(const float *X, int n, int d, int k, uint64_t seed, int max_iter, int *assign,
                 float *centres, double *inertia) {
    int rc = check_args(X, n, d, k, max_iter, assign);
    if (rc) return rc;
    double *c = fh_malloc(((size_t)k * d + n) * sizeof *c);
    if (!c) return fh_fail(FH_E_NOMEM, "kmeans: no memory for %d x %d", k, d);
    double *best = c + (size_t)k * d; // (n) squared distance to the nearest chosen centre
    uint64_t rng = seed;
    // k-means++: first centre uniform, then each point with probability ~ best^2
    int first = (int)(loss_rng_uniform(&rng) * n);
    for (int j = 0; j < d; j++) c[j] = X[(size_t)first * d + j];
    for (int i = 0; i < n; i++) best[i] = dist2(X + (size_t)i * d, c, d);
    for (int q = 1; q < k; q++) {
        double total = 0;
        for (int i = 0; i < n; i++) total += best[i];
        int pick = -1;
        if (total > 0) {
            double r = loss_rng_uniform(&rng) * total;
            for (int i = 0; i < n && pick < 0; i++)
                if ((r -= best[i]) < 0 && best[i] > 0) pick = i;
            if (pick < 0) // rounding at the end: the last point with weight
                for (int i = n - 1; i >= 0 && pick < 0; i--)
                    if (best[i] > 0) pick = i;
        } else {
            pick = q; // every point coincides with a centre: any point will do
        }
        double *cq = c + (size_t)q * d;
        for (int j = 0; j < d; j++) cq[j] = X[(size_t)pick * d + j];
        for (int i = 0; i < n; i++) {
            double s = dist2(X + (size_t)i * d, cq, d);
            if (s < best[i]) best[i] = s;
        }
    }
    for (int i = 0; i < n; i++) assign[i] = -1;
    rc = run(X, n, d, k, max_iter, assign, c, centres, inertia);
    fh_free(c);
    return rc;
}

int train_kmeans_refine(const float *X, int n, int d, int k, int max_iter, int *assign, float *centres,
                        double *inertia) {
    int rc = check_args(X, n, d, k, max_iter, assign);
    if (rc) return rc;
    for (int i = 0; i < n; i++)
        if (assign[i] < 0 || assign[i] >= k)
            return fh_fail(FH_E_ARG, "kmeans: refine: point %d starts in cluster %d, outside [0, %d)", i,
                           assign[i], k);
    double *c = fh_malloc((size_t)k * d * sizeof *c);
    int *cnt = fh_calloc((size_t)k, sizeof *cnt);
    if (!c || !cnt) rc = fh_fail(FH_E_NOMEM, "kmeans: no memory for %d x %d", k, d);
    if (!rc) {
        for (int i = 0; i < n; i++) cnt[assign[i]]++;
        means(X, n, d, k, assign, cnt, c); // an empty start cluster: its centre at 0
        rc = run(X, n, d, k, max_iter, assign, c, centres, inertia);
    }
    fh_free(c), fh_free(cnt);
    return rc;
}

int train_cluster_relabel(const int *prev, int *next, int n, int k) {
    if (!prev || !next || n < 1 || k < 1 || k > 4096)
        return fh_fail(FH_E_ARG, "kmeans: relabel needs two assignments, n >= 1, 1 <= k <= 4096 "
                       "(n %d, k %d)", n, k);
    for (int i = 0; i < n; i++)
        if (prev[i] < 0 || prev[i] >= k || next[i] < 0 || next[i] >= k)
            return fh_fail(FH_E_ARG, "kmeans: relabel: point %d has cluster %d / %d outside "
                           "[0, %d)", i, prev[i], next[i], k);
    int *ov = fh_calloc((size_t)k * k + 2 * (size_t)k, sizeof *ov);
    if (!ov) return fh_fail(FH_E_NOMEM, "kmeans: no memory to relabel %d clusters", k);
    int *map = ov + (size_t)k * k, *taken = map + k; // map: new label -> old label
    for (int i = 0; i < n; i++) ov[(size_t)next[i] * k + prev[i]]++;
    for (int q = 0; q < k; q++) map[q] = -1;
    // greedy: the largest remaining overlap (new q, old p) first; ties: lowest q, then p
    for (int round = 0; round < k; round++) {
        int bq = -1, bp = -1, bv = -1;
        for (int q = 0; q < k; q++) {
            if (map[q] >= 0) continue;
            for (int p = 0; p < k; p++)
                if (!taken[p] && ov[(size_t)q * k + p] > bv) bv = ov[(size_t)q * k + p], bq = q, bp = p;
        }
        map[bq] = bp, taken[bp] = 1;
    }
    for (int i = 0; i < n; i++) next[i] = map[next[i]];
    fh_free(ov);
    return FH_OK;
}
