// SPDX-License-Identifier: MIT
// Verification metrics and the LFW pair-list reader.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "eval/eval.h"

int eval_read_pairs(const char *path, struct eval_pair **pairs, int *n) {
    *pairs = NULL, *n = 0;
    uint8_t *buf;
    size_t len;
    int rc = fh_read_file(path, 64u << 20, &buf, &len);
    if (rc) return rc;
    int cap = 0, k = 0, line = 0;
    struct eval_pair *p = NULL;
    char *save = NULL;
    for (char *l = strtok_r((char *)buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        if (++line == 1) continue; // header: folds and pairs per fold
        char n1[64], n2[64];
        int i, j, f;
        size_t ll = strlen(l);
        if (ll && l[ll - 1] == '\r') l[ll - 1] = 0;
        if (!*l) continue;
        if (k >= 100000) { rc = fh_fail(FH_E_LIMIT, "%s: more than 100000 pairs", path); break; }
        if (k == cap) {
            cap = cap ? 2 * cap : 1024;
            struct eval_pair *q = fh_realloc(p, (size_t)cap * sizeof *p);
            if (!q) { rc = fh_fail(FH_E_NOMEM, "pairs: out of memory"); break; }
            p = q;
        }
        struct eval_pair *e = &p[k];
        if ((f = sscanf(l, "%63s %d %63s %d", n1, &i, n2, &j)) == 4) {
            e->same = 0;
        } else if (sscanf(l, "%63s %d %d", n1, &i, &j) == 3) {
            strcpy(n2, n1);
            e->same = 1;
        } else {
            rc = fh_fail(FH_E_FORMAT, "%s:%d: not a pair line", path, line);
            break;
        }
        if (i < 1 || j < 1 || i > 9999 || j > 9999) { rc = fh_fail(FH_E_FORMAT, "%s:%d: bad image number", path, line); break; }
        snprintf(e->a, sizeof e->a, "lfw-deepfunneled/%s/%s_%04d.jpg", n1, n1, i);
        snprintf(e->b, sizeof e->b, "lfw-deepfunneled/%s/%s_%04d.jpg", n2, n2, j);
        k++;
    }
    fh_free(buf);
    if (rc) {
        fh_free(p);
        return rc;
    }
    *pairs = p, *n = k;
    return FH_OK;
}

double eval_accuracy(const float *d, const int *same, int n, float t) {
    int ok = 0;
    for (int i = 0; i < n; i++) ok += (d[i] < t) == !!same[i];
    return n ? (double)ok / n : 0;
}

static int cmp_float(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

float eval_best_threshold(const float *d, const int *same, int n, double *acc) {
    float *s = fh_malloc((size_t)(n ? n : 1) * sizeof *s);
    float best_t = 0;
    double best = -1;
    if (!s) {
        if (acc) *acc = 0;
        return 0;
    }
    memcpy(s, d, (size_t)n * sizeof *s);
    qsort(s, (size_t)n, sizeof *s, cmp_float);
    // candidates: below everything, and midpoints between neighbours
    for (int i = 0; i <= n; i++) {
        float t;
        if (i == 0) t = n ? s[0] - 1e-3f : 0;
        else if (i == n || !isfinite(s[i])) t = isfinite(s[i - 1]) ? s[i - 1] + 1e-3f : 4.0f;
        else if (s[i] == s[i - 1]) continue;
        else t = 0.5f * (s[i - 1] + s[i]);
        double a = eval_accuracy(d, same, n, t);
        if (a > best) best = a, best_t = t;
        if (i < n && !isfinite(s[i])) break;
    }
    fh_free(s);
    if (acc) *acc = best;
    return best_t;
}

void eval_kfold(const float *d, const int *same, int n, int k, double *mean, double *std_err,
                float *thresholds) {
    int per = n / k;
    double acc[64], sum = 0, sq = 0;
    float *td = fh_malloc((size_t)n * sizeof *td);
    int *ts = fh_malloc((size_t)n * sizeof *ts);
    if (k > 64 || !td || !ts) {
        *mean = *std_err = 0;
        fh_free(td), fh_free(ts);
        return;
    }
    for (int f = 0; f < k; f++) {
        int m = 0;
        for (int i = 0; i < n; i++)
            if (i / per != f) td[m] = d[i], ts[m] = same[i], m++;
        float t = eval_best_threshold(td, ts, m, NULL);
        if (thresholds) thresholds[f] = t;
        acc[f] = eval_accuracy(d + f * per, same + f * per, per, t);
        sum += acc[f];
    }
    *mean = sum / k;
    for (int f = 0; f < k; f++) sq += (acc[f] - *mean) * (acc[f] - *mean);
    *std_err = k > 1 ? sqrt(sq / (k - 1)) / sqrt(k) : 0;
    fh_free(td), fh_free(ts);
}

static int cmp_pair_d(const void *a, const void *b) {
    float x = ((const float *)a)[0], y = ((const float *)b)[0];
    return (x > y) - (x < y);
}

int eval_verify_roc(const float *d, const int *same, int n, double *far, double *tar, float *thr) {
    // sort (distance, label) pairs; walking up the distances accepts one more pair each step
    float *p = fh_malloc((size_t)n * 2 * sizeof *p);
    if (!p) return 0;
    int pos = 0, neg = 0;
    for (int i = 0; i < n; i++) p[2 * i] = d[i], p[2 * i + 1] = (float)!!same[i], pos += !!same[i];
    neg = n - pos;
    qsort(p, (size_t)n, 2 * sizeof *p, cmp_pair_d);
    int k = 0, tp = 0, fp = 0;
    far[k] = 0, tar[k] = 0, thr[k] = n ? p[0] : 0, k++;
    for (int i = 0; i < n && isfinite(p[2 * i]); i++) {
        tp += p[2 * i + 1] > 0.5f, fp += p[2 * i + 1] < 0.5f;
        if (i + 1 < n && p[2 * i + 2] == p[2 * i]) continue; // ties move together
        far[k] = neg ? (double)fp / neg : 0, tar[k] = pos ? (double)tp / pos : 0;
        thr[k++] = i + 1 < n && isfinite(p[2 * i + 2]) ? 0.5f * (p[2 * i] + p[2 * i + 2]) : p[2 * i] + 1e-3f;
    }
    fh_free(p);
    return k;
}

double eval_tar_at_far(const float *d, const int *same, int n, double far_max, float *t_out) {
    double *far = fh_malloc(sizeof(double) * (size_t)(n + 1)), *tar = fh_malloc(sizeof(double) * (size_t)(n + 1));
    float *thr = fh_malloc(sizeof(float) * (size_t)(n + 1));
    double best = 0;
    float bt = 0;
    int k = far && tar && thr ? eval_verify_roc(d, same, n, far, tar, thr) : 0;
    for (int i = 0; i < k; i++)
        if (far[i] <= far_max && tar[i] >= best) best = tar[i], bt = thr[i];
    if (t_out) *t_out = bt;
    fh_free(far), fh_free(tar), fh_free(thr);
    return best;
}
