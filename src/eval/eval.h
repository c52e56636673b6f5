// SPDX-License-Identifier: MIT
// eval: verification metrics and LFW pair lists. Pure functions over distances and
// labels (no images, no networks), so they are unit-tested on hand-made cases.
#ifndef FH_EVAL_H
#define FH_EVAL_H

#include <stddef.h>

// One pair of an LFW list: image paths relative to the data root, same-person label.
struct eval_pair {
    char a[160], b[160];
    int same;
};

// Parses an official LFW pair list (pairs.txt, pairsDevTrain.txt, pairsDevTest.txt):
// header line, then "name i j" (same) or "name1 i name2 j" (different) lines. Paths
// come out as "lfw-deepfunneled/NAME/NAME_%04d.jpg". Allocates *pairs (fh_free).
// FH_OK, FH_E_IO, FH_E_FORMAT (names the line), FH_E_LIMIT (> 100000 pairs).
int eval_read_pairs(const char *path, struct eval_pair **pairs, int *n);

// Accuracy of "same if d < t" over n pairs.
double eval_accuracy(const float *d, const int *same, int n, float t);
// Threshold with the best accuracy on these pairs: the midpoint between neighbouring
// sorted distances (ties broken towards the smaller threshold). Distances may be
// +inf (a face was not found). Returns the threshold; *acc gets its accuracy.
float eval_best_threshold(const float *d, const int *same, int n, double *acc);
// k-fold protocol (LFW View 2): pairs are in k consecutive equal folds; for each fold
// the threshold is chosen on the other k-1 and accuracy measured on it. Writes mean
// accuracy and standard error (sample std / sqrt(k)); thresholds[k] may be NULL.
void eval_kfold(const float *d, const int *same, int n, int k, double *mean, double *std_err,
                float *thresholds);

// ROC of "same if d < t" over all thresholds: writes k <= n+1 points in increasing
// FAR order (far[i], tar[i], threshold thr[i]), starting at (0, 0); tied distances
// move together; +inf distances (no face) are never accepted. Returns k.
int eval_verify_roc(const float *d, const int *same, int n, double *far, double *tar, float *thr);
// Highest TAR among ROC points with FAR <= far_max (e.g. 1e-3 over 3,000 different
// pairs allows 3 false accepts); *t_out (may be NULL) gets that threshold.
double eval_tar_at_far(const float *d, const int *same, int n, double far_max, float *t_out);

// ---- identification (eval/ident.c) ----
// g: ng gallery embeddings (dim each, L2-normalised), gl their labels (-1 = distractor);
// p: np probes with labels pl. A probe is a rank-1 hit when its most similar gallery
// entry (dot product) carries its label. Returns the hit rate.
double eval_rank1(const float *g, const int *gl, int ng, const float *p, const int *pl, int np, int dim);
// Open-set: nm holds nnm non-mated probes (their identity is not in the gallery). The
// threshold lets at most floor(far * nnm) of them match anything (similarity > thr);
// DIR = share of mated probes that are rank-1 hits above it. *thr_out gets the threshold.
double eval_dir_at_far(const float *g, const int *gl, int ng, const float *p, const int *pl, int np,
                       const float *nm, int nnm, int dim, double far, float *thr_out);

// ---- clustering quality (eval/cluster_metrics.c) ----
struct eval_cluster {
    double pair_p, pair_r, pair_f;       // pairwise precision, recall, F1
    double bcubed_p, bcubed_r, bcubed_f; // BCubed precision, recall, F1
    int clusters;                        // distinct predicted clusters
};
// pred, truth: n non-negative labels. Not thread-safe (qsort without context).
int eval_cluster_scores(const int *pred, const int *truth, int n, struct eval_cluster *s);

#endif
