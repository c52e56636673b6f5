// SPDX-License-Identifier: MIT
// Clustering quality against labels: pairwise and BCubed precision/recall/F.
//   pairwise: P = |same cluster & same label| / |same cluster| over item pairs; R likewise
//             over pairs with the same label.
//   BCubed:   per item, P = |its cluster ∩ its class| / |its cluster|, R = ... / |its class|,
//             averaged over items.
// Both come from the contingency counts n_ij (items in cluster i with label j).
#include <stdlib.h>

#include "base/base.h"
#include "eval/eval.h"

static const int *sort_pred, *sort_truth;
static int cmp_cell(const void *a, const void *b) {
    int x = *(const int *)a, y = *(const int *)b;
    if (sort_pred[x] != sort_pred[y]) return sort_pred[x] < sort_pred[y] ? -1 : 1;
    return (sort_truth[x] > sort_truth[y]) - (sort_truth[x] < sort_truth[y]);
}

static double f1(double p, double r) { return p + r > 0 ? 2 * p * r / (p + r) : 0; }

int eval_cluster_scores(const int *pred, const int *truth, int n, struct eval_cluster *s) {
    int *idx = fh_malloc((size_t)(n ? n : 1) * sizeof *idx), max_p = 0, max_t = 0;
    if (!idx) return fh_fail(FH_E_NOMEM, "eval: out of memory");
    for (int i = 0; i < n; i++) {
        idx[i] = i;
        if (pred[i] > max_p) max_p = pred[i];
        if (truth[i] > max_t) max_t = truth[i];
    }
    long *csize = fh_calloc((size_t)max_p + 1, sizeof *csize), *tsize = fh_calloc((size_t)max_t + 1, sizeof *tsize);
    if (!csize || !tsize) {
        fh_free(idx), fh_free(csize), fh_free(tsize);
        return fh_fail(FH_E_NOMEM, "eval: out of memory");
    }
    for (int i = 0; i < n; i++) csize[pred[i]]++, tsize[truth[i]]++;
    sort_pred = pred, sort_truth = truth; // qsort has no context argument; single-threaded use
    qsort(idx, (size_t)n, sizeof *idx, cmp_cell);
    double tp = 0, bp = 0, br = 0;
    for (int i = 0; i < n;) {
        int j = i;
        while (j < n && pred[idx[j]] == pred[idx[i]] && truth[idx[j]] == truth[idx[i]]) j++;
        double nij = j - i;
        tp += nij * (nij - 1) / 2;
        bp += nij * nij / (double)csize[pred[idx[i]]];
        br += nij * nij / (double)tsize[truth[idx[i]]];
        i = j;
    }
    double pp = 0, tpairs = 0;
    int clusters = 0;
    for (int c = 0; c <= max_p; c++) pp += csize[c] * (csize[c] - 1) / 2.0, clusters += csize[c] > 0;
    for (int c = 0; c <= max_t; c++) tpairs += tsize[c] * (tsize[c] - 1) / 2.0;
    s->pair_p = pp > 0 ? tp / pp : 1, s->pair_r = tpairs > 0 ? tp / tpairs : 1;
    s->pair_f = f1(s->pair_p, s->pair_r);
    s->bcubed_p = n ? bp / n : 1, s->bcubed_r = n ? br / n : 1;
    s->bcubed_f = f1(s->bcubed_p, s->bcubed_r);
    s->clusters = clusters;
    fh_free(idx), fh_free(csize), fh_free(tsize);
    return FH_OK;
}
