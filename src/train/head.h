// SPDX-License-Identifier: MIT
// train/head: small binary classifiers on a feature vector (the library's "not a face"
// head on the 192-D embedding; a blur score on a few image features), trained with the
// engine: the net is made with the builder (nn_train.h), trained in a training session
// with train/optim.h (SGD momentum, weight decay, warm-up + cosine), on a class-balanced
// binary cross-entropy written here.
//
//   struct train_head_opts o = {.hidden = 32, .epochs = 200, .batch = 64, .lr = 0.05f,
//                               .momentum = 0.9f, .weight_decay = 1e-3f, .seed = 1};
//   struct train_head h;
//   if (train_head_fit(x, y, n, 192, &o, &h, &loss)) puts(fh_errmsg());
//   ... logit = w2 . prelu(w1 x + b1) + b2 (w1 x + b1 for hidden = 0): library/head.h ...
//   train_head_free(&h);
//
// The model: input (N, 1, 1, dim) -> flatten -> fc(hidden) -> PReLU -> fc(1) (hidden > 0,
// a small MLP) or flatten -> fc(1) (hidden = 0, logistic regression). The output is a
// logit z; P(positive) = sigmoid(z). Inputs are standardised (per-feature mean and
// standard deviation of the training set) inside training; train_head_export folds the
// standardisation into the first layer, so a train_head works on raw features.
#ifndef FH_TRAIN_HEAD_H
#define FH_TRAIN_HEAD_H

#include <stdint.h>

#include "nn/nn_train.h"

#define TRAIN_HEAD_MAX_DIM 4096
#define TRAIN_HEAD_MAX_HIDDEN 1024
#define TRAIN_HEAD_MAX_N 10000000

// A trained head in plain arrays (one allocation, owned; train_head_free). The layout the
// library's inference reads (library/head.h, struct lib_head).
struct train_head {
    int dim;      // input features
    int hidden;   // 0: logistic regression, z = w1 . x + b1[0]
    float *w1;    // (hidden ? hidden : 1) x dim, row-major
    float *b1;    // hidden ? hidden : 1
    float *alpha; // hidden PReLU slopes (NULL when hidden = 0)
    float *w2;    // hidden output weights (NULL when hidden = 0)
    float b2;     // output bias (unused when hidden = 0)
};

struct train_head_opts {
    int hidden;         // 0 .. TRAIN_HEAD_MAX_HIDDEN
    int epochs;         // 1 .. 100000 passes over the data (shuffled each epoch)
    int batch;          // 1 .. 65536 examples per step (the last step of an epoch may be short)
    float lr;           // peak learning rate (> 0): linear warm-up over the first 5 % of
                        // steps, then cosine to lr / 100
    float momentum;     // [0, 1)
    float weight_decay; // >= 0, on the fc weights only
    uint64_t seed;      // initial weights and shuffling
};

// Class-balanced binary cross-entropy on logits: positives weigh w_pos, negatives w_neg,
//   L = (1/n) sum_i w_i (softplus(z_i) - y_i z_i),   dL/dz_i = w_i (sigmoid(z_i) - y_i) / n
// (the numerically stable forms; y_i is 0 or 1, any non-zero counts as 1). Writes dz when
// not NULL; returns L (0 when n <= 0). train_head_fit uses w_pos = n / (2 n_pos),
// w_neg = n / (2 n_neg), so both classes weigh half.
double train_bce_balanced(const float *z, const int *y, int n, double w_pos, double w_neg, float *dz);

// The head's net, freshly initialised from seed (He-normal fc weights, zero biases, PReLU
// slopes 0.25). FH_OK, FH_E_ARG (dim or hidden out of range), FH_E_NOMEM.
int train_head_build(int dim, int hidden, uint64_t seed, struct nn_net **out);

// Copies a head net's weights (as made by train_head_build with the same dim, hidden) into
// *out, folding an input standardisation x' = (x - mean) * inv_std into the first layer
// (mean, inv_std: dim values each, or both NULL for none). FH_OK, FH_E_ARG (not such a
// net), FH_E_NOMEM.
int train_head_export(struct nn_net *net, int dim, int hidden, const float *mean, const float *inv_std,
                      struct train_head *out);

// Trains a head on n examples x (n x dim, row-major) with labels y (0 / 1), both classes
// present. *loss (may be NULL) gets the final balanced BCE on the whole set (inference
// mode). FH_OK, FH_E_ARG (a size or option out of range, one class missing, a non-finite
// feature, naming it), FH_E_NOMEM, or the engine's error.
int train_head_fit(const float *x, const int *y, int n, int dim, const struct train_head_opts *o,
                   struct train_head *out, double *loss);

void train_head_free(struct train_head *h);

#endif
