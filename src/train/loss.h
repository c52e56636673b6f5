// SPDX-License-Identifier: MIT
// train/loss: the metric-learning loss heads of the training loop (softmax, triplet with
// semi-hard or hardest-negative mining, center loss, A-Softmax/SphereFace, CosFace,
// ArcFace, and the two-level softmax approximation), plus the k-means that groups
// identities into clusters for the two-level head. A head takes the net's raw embeddings E
// (N x D floats, NOT normalised: a head that needs unit vectors normalises them itself and
// back-propagates through that), integer labels y in [0, C), and returns the batch loss,
// dL/dE (written) and the gradients of its own parameters (accumulated). It owns its
// parameters and lists them by name for the optimizer and for checkpoints. It does not
// run the net, choose batches (P x K sampling is the data module's job) or update
// weights (that is the optimizer's job, except center loss in Wen et al. mode, below).
// Single-threaded: one thread at a time per head (every call, predict included, uses the
// head's scratch); separate heads are independent. Double-precision accumulation inside,
// float storage outside. Cost per call O(N C D) for the flat classifiers (measured: ~95 ms
// for N 64, C 10^4, D 128 on one core of the 2-core box; ~1.5 ms at C 160), O(N (K + n_k) D)
// for the two-level head (plus O(C D) per call to normalise the rows when margin-capable),
// O(N^2 D) for triplet.
//
//   struct train_loss_opts o;
//   train_loss_opts_default(&o, TRAIN_LOSS_ARCFACE, C, D);     // s = 64, m = 0.5
//   o.seed = 42;
//   struct train_loss *l;
//   if (train_loss_new(&o, &l)) return fh_errmsg();
//   for each batch:
//       run the net: E (N x D)
//       train_loss_zero_grad(l);
//       struct train_loss_stats st;
//       train_loss_compute(l, E, y, N, D, dE, &st);             // st.loss, st.acc
//       back-propagate dE through the net
//       for i < train_loss_n_params(l): train_loss_param(l, i, &p);
//           if (p.g) optimizer step on p.w (p.n floats) with p.g, decay if p.decay
//   train_loss_free(l);
//
// Conventions (all losses): the loss is the MEAN over the batch (triplet: over the
// anchor-positive pairs), so dE is already divided by N. Class weights W are (C, D) row-
// major, one row per class. Cosine heads (SphereFace, CosFace, ArcFace, and the two-level
// head when margin-capable) use cos_j = <W_j/|W_j|, e/|e|> and no bias.
//   softmax   logits z_j = W_j . e + b_j; L = -log softmax(z)_y.
//   center    softmax + lambda * 1/2 |e - c_y|^2 (per sample, averaged over N). Centers
//             (C, D), initialised 0. center_alpha > 0: Wen et al. 2016 update applied at
//             the end of every train_loss_compute, from the batch it just saw:
//             c_j -= alpha * sum_{i: y_i = j} (c_j - e_i) / (1 + n_j); then the centers are
//             listed with g = NULL (saved, not optimised). center_alpha = 0: the centers are
//             ordinary trainable params with gradient lambda/N sum (c_j - e_i).
//   sphereface (A-Softmax, Liu et al. 2017) z_j = |e| cos_j (j != y),
//             z_y = |e| (lambda cos_y + psi(theta_y)) / (1 + lambda),
//             psi(theta) = (-1)^k cos(m theta) - 2k for theta in [k pi/m, (k+1) pi/m],
//             m integer 1..TRAIN_LOSS_MAX_SPHERE_M; cos(m theta) via the Chebyshev polynomial
//             T_m(cos theta) (exact, no acos in the gradient). sphere_lambda is the caller's
//             annealed lambda (train_loss_sphere_lambda gives the paper's schedule; 0 = pure
//             A-Softmax).
//   cosface   z_j = s cos_j (j != y), z_y = s (cos_y - m).
//   arcface   z_j = s cos_j (j != y), z_y = s phi, phi = cos(theta_y + m) when
//             theta_y + m <= pi, else (insightface "th/mm" rule) phi = cos_y - m sin(m), which
//             keeps phi decreasing in theta. With arc_easy_margin = 1 instead:
//             phi = cos(theta + m) when cos_y > 0, else cos_y. sin(theta) = sqrt(1 - cos^2) is
//             floored at 1e-6 so theta -> 0 has a finite gradient.
//   triplet   on u = e/|e|, d(a,b) = |u_a - u_b|^2 (FaceNet); for every ordered
//             anchor-positive pair (a != p, y_a = y_p) whose anchor has a negative in the
//             batch: semi-hard mode picks the negative n with the smallest d(a,n) among
//             d(a,n) > d(a,p) (so the semi-hard one, d(a,p) < d(a,n) < d(a,p) + margin, when
//             it exists); if no negative is farther than the positive, the farthest
//             negative (the tf.contrib triplet_semihard_loss rule). Hardest mode picks
//             argmin d(a,n). L = mean over pairs of max(0, d(a,p) - d(a,n) + margin).
//             Ties go to the lowest index. acc = fraction of pairs whose positive is nearer
//             than every negative.
//   two-level K clusters partition the C identities (train_kmeans on identity centres).
//             Level 1 predicts the cluster: a K-way head. Level 2 predicts the identity among
//             the members of the TRUE cluster only (only those rows of W2 are touched).
//             L = L1 + L2. Both levels are plain softmax (two_level_margin = 0: logits W e + b)
//             or CosFace/ArcFace-style (two_level_margin = TRAIN_LOSS_COSFACE or
//             TRAIN_LOSS_ARCFACE, with s, m). Prediction: argmax level 1, then argmax over
//             that cluster's members. acc = identity accuracy of that prediction, aux =
//             cluster accuracy.
// Accuracy (classifier heads): argmax of the logits WITHOUT the margin equals y.
//
// Errors: FH_E_ARG (bad option, N = 0, D different from the head's, label out of range,
// NULL pointer) with fh_errmsg() naming the problem, FH_E_LIMIT (above the limits below),
// FH_E_NOMEM. A failing call leaves parameters and gradients unchanged.
#ifndef FH_TRAIN_LOSS_H
#define FH_TRAIN_LOSS_H

#include <stddef.h>
#include <stdint.h>

// Limits (here rather than base/limits.h while training is being built): classes per head
// (1M identities x 512 floats = 2 GB of weights is beyond this machine), embedding width,
// batch rows, SphereFace margin (psi is only used with m <= 4 in practice).
#define TRAIN_LOSS_MAX_CLASSES (1 << 20)
#define TRAIN_LOSS_MAX_DIM 4096
#define TRAIN_LOSS_MAX_BATCH 65536
#define TRAIN_LOSS_MAX_SPHERE_M 8
#define TRAIN_LOSS_MAX_TRIPLET_BATCH 4096   // the triplet head keeps an N x N distance matrix

enum train_loss_kind {
    TRAIN_LOSS_SOFTMAX = 0,
    TRAIN_LOSS_TRIPLET = 1,
    TRAIN_LOSS_CENTER = 2,
    TRAIN_LOSS_SPHEREFACE = 3,
    TRAIN_LOSS_COSFACE = 4,
    TRAIN_LOSS_ARCFACE = 5,
    TRAIN_LOSS_TWO_LEVEL = 6,
    TRAIN_LOSS_COUNT
};

struct train_loss_opts {
    int kind;                 // enum train_loss_kind
    int n_classes;            // C (>= 2; triplet: only bounds the labels)
    int dim;                  // D, embedding width
    uint64_t seed;            // weight init (deterministic)
    float s;                  // cosface/arcface/two-level-margin scale (> 0)
    float m;                  // cosface/arcface margin (radians for arcface);
                              // sphereface: integer margin m (1..8) as a float
    int arc_easy_margin;      // arcface: 1 = easy margin, 0 = th/mm rule (default)
    float sphere_lambda;      // sphereface annealing lambda (>= 0; 0 = pure A-Softmax)
    float triplet_margin;     // triplet alpha on squared distances of unit vectors (0.2)
    int triplet_hardest;      // 0 = semi-hard mining (default), 1 = hardest negative
    float center_lambda;      // center loss weight (>= 0)
    float center_alpha;       // center update rate (0..1]; 0 = centers learnt by gradient
    int n_clusters;           // two-level: K (2 .. C)
    const int *cluster_of;    // two-level: (C) cluster of each class in [0, K), each cluster
                              // non-empty; copied. NULL: classes i go to cluster i % K.
    int two_level_margin;     // two-level: TRAIN_LOSS_SOFTMAX (0), _COSFACE or _ARCFACE
};

struct train_loss_stats {
    double loss;              // mean loss of the batch
    double acc;               // training accuracy in [0, 1]; triplet: see above
    double aux;               // center: the center term (before lambda); triplet: fraction
                              // of pairs with a positive loss; two-level: cluster accuracy
    int n_terms;              // samples (classifiers) or anchor-positive pairs (triplet)
};

struct train_loss; // opaque: a loss head and its parameters

// One parameter (or buffer) of a head.
struct train_loss_param {
    const char *name;         // "head.w", "head.b", "center.c", "cluster.w", "cluster.b",
                              // "ident.w", "ident.b", "cluster.assign"; owned by the head
    float *w;                 // values, n floats, mutable (call train_loss_params_changed
                              // after writing them, e.g. after loading a checkpoint)
    float *g;                 // gradient, n floats, accumulated by train_loss_compute;
                              // NULL for buffers the optimizer must not touch (Wen centers,
                              // the two-level cluster assignment)
    size_t n;
    int rows, cols;           // shape (rows x cols, cols = 1 for vectors)
    int decay;                // 1: weight decay applies (class weight matrices)
};

// ---- lifecycle ----------------------------------------------------------------------------
// Fills o with the usual values for kind: softmax; triplet margin 0.2, semi-hard;
// center lambda 0.01, alpha 0.5; sphereface m 4, lambda 0; cosface s 64, m 0.35; arcface
// s 64, m 0.5, th/mm rule; two-level K = max(2, round(sqrt(C))), plain softmax at both
// levels.
// seed 1.
void train_loss_opts_default(struct train_loss_opts *o, int kind, int n_classes, int dim);
// Makes a head: parameters allocated and initialised from o->seed (class weights uniform in
// +-1/sqrt(D) as torch.nn.Linear, biases and centers 0). FH_OK, FH_E_ARG (bad option, the
// message names it), FH_E_LIMIT, FH_E_NOMEM.
int train_loss_new(const struct train_loss_opts *o, struct train_loss **out);
void train_loss_free(struct train_loss *l);   // NULL ok

// ---- per batch ----------------------------------------------------------------------------
// Loss of one batch. E: (N, D) embeddings, borrowed; y: (N) labels in [0, C); dE: OUT (N, D),
// written (dL/dE of the mean loss); may be NULL to evaluate only (no parameter gradient is
// accumulated then, and Wen centers are not updated). st: OUT, may be NULL.
// Parameter gradients ACCUMULATE (+=) until train_loss_zero_grad. Center loss with
// center_alpha > 0 updates the centers after computing the loss (see above).
// FH_OK, FH_E_ARG (N = 0, D != the head's D, a label outside [0, C), NULL E/y),
// FH_E_LIMIT (N > TRAIN_LOSS_MAX_BATCH, triplet N > TRAIN_LOSS_MAX_TRIPLET_BATCH),
// FH_E_NOMEM.
int train_loss_compute(struct train_loss *l, const float *E, const int *y, int N, int D,
                       float *dE, struct train_loss_stats *st);
void train_loss_zero_grad(struct train_loss *l);
// Predicted class of each row of E (N, D) into pred (N): classifier heads argmax of the
// margin-free logits; two-level: cluster argmax, then argmax among its members. Triplet
// has no classifier: FH_E_UNSUPPORTED. Other errors as train_loss_compute.
int train_loss_predict(struct train_loss *l, const float *E, int N, int D, int *pred);

// ---- parameters ---------------------------------------------------------------------------
int train_loss_n_params(const struct train_loss *l);
// i in [0, n_params): FH_OK or FH_E_ARG. The pointers stay valid until train_loss_free.
int train_loss_param(struct train_loss *l, int i, struct train_loss_param *out);
// Index of the param called name, or -1.
int train_loss_find_param(const struct train_loss *l, const char *name);
// After writing param values directly (checkpoint load): re-checks the two-level
// assignment ("cluster.assign": integers in [0, K), no empty cluster) and rebuilds what is
// derived from it. FH_OK or FH_E_FORMAT naming the bad entry (the head is then unusable
// until a valid assignment is set).
int train_loss_params_changed(struct train_loss *l);

// ---- SphereFace annealing -----------------------------------------------------------------
// The SphereFace paper's schedule: lambda = max(5, 1000 / (1 + 0.12 iter)).
double train_loss_sphere_lambda(long iter);
// Sets the lambda a SphereFace head uses from the next call on (the trainer calls it every
// step with train_loss_sphere_lambda(step)). FH_OK, FH_E_ARG (lambda < 0 or not finite),
// FH_E_UNSUPPORTED (not a SphereFace head).
int train_loss_set_sphere_lambda(struct train_loss *l, float lambda);

// ---- two-level softmax ----------------------------------------------------------------------
// Replaces the cluster assignment of a two-level head (C ints in [0, K), no empty cluster;
// copied). Weights are kept (a row of W2 stays its class's row). FH_OK, FH_E_ARG,
// FH_E_UNSUPPORTED (not a two-level head).
int train_loss_set_clusters(struct train_loss *l, const int *cluster_of);
// The current assignment (C ints, owned by the head, valid until the next set/reload), or
// NULL: not a two-level head, or no valid assignment yet.
const int *train_loss_clusters(const struct train_loss *l);

// What the two-level head costs against a flat C-way softmax of the same width D.
struct train_two_level_cost {
    size_t flat_weight_bytes;       // C x D floats (+ C biases)
    size_t two_level_weight_bytes;  // (K + C) x D floats (+ K + C biases): all stored rows
    size_t two_level_active_bytes;  // rows one sample touches at most: (K + max |cluster|)
                                    // x (D + 1) floats
    double flat_logits;             // logits per sample, flat: C
    double two_level_logits_train;  // per training sample, mean over identities (uniform):
                                    // K + sum_k n_k^2 / C
    double two_level_logits_max;    // K + max n_k (training and test worst case)
};
// cluster_of: (C) cluster of each class in [0, K). With bias = 1 the bias floats count.
// FH_OK or FH_E_ARG.
int train_two_level_cost(int C, int K, int D, const int *cluster_of, int bias,
                         struct train_two_level_cost *out);

// ---- k-means and identity centres -------------------------------------------------------
// Identity centres: the mean of the L2-normalised rows of E (N, D) of each class, then
// renormalised to unit length; centres: OUT (C, D); count: OUT (C) images per class, may
// be NULL. A class absent from E gets a zero row and count 0. FH_OK, FH_E_ARG.
int train_class_centres(const float *E, const int *y, int N, int D, int C, float *centres,
                        int *count);
// Lloyd's k-means of X (n, d) into k clusters, k-means++ init (squared-distance weighted
// draws) from seed; at most max_iter Lloyd iterations, at least one (stops when no point
// changes cluster).
// Rows of X with all zeros are allowed (absent classes). An emptied cluster is re-seeded
// with the point farthest from its centre, so every cluster ends non-empty when n >= k.
// assign: OUT (n) cluster index; centres: OUT (k, d), may be NULL; inertia: OUT (sum of
// squared distances to the assigned centre), may be NULL. Deterministic for a seed.
// FH_OK, FH_E_ARG (k < 1, k > n, d < 1, NULL), FH_E_LIMIT, FH_E_NOMEM.
int train_kmeans(const float *X, int n, int d, int k, uint64_t seed, int max_iter, int *assign,
                 float *centres, double *inertia);
// Renames the clusters of next (n points, labels in [0, k)) so that they agree with prev as
// much as possible: new cluster q takes the old label it shares most points with (greedy on
// the k x k overlap counts, largest first). k-means labels are arbitrary, so without this a
// recluster would scramble every row of a head trained on the old labels (the two-level
// softmax's cluster head). The partition itself is unchanged. FH_OK, FH_E_ARG (NULL, a label
// out of range, k > 4096), FH_E_NOMEM.
int train_cluster_relabel(const int *prev, int *next, int n, int k);
// Lloyd's k-means started from a given assignment (n ints in [0, k); IN/OUT): the centres
// are its cluster means, then iterations as train_kmeans (an emptied cluster re-seeded the
// same way). Labels stay those of the start; a partition that is already a fixed point
// comes back unchanged. The two-level softmax reclusters this way, so that its clusters move
// only as much as the embedding does (a fresh k-means++ finds another local optimum every
// time). FH_OK, FH_E_ARG (as train_kmeans, or a start label out of range), FH_E_LIMIT,
// FH_E_NOMEM.
int train_kmeans_refine(const float *X, int n, int d, int k, int max_iter, int *assign, float *centres,
                        double *inertia);

#endif
