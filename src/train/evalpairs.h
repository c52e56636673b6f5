// SPDX-License-Identifier: MIT
// train/evalpairs: held-out verification of an embedder on identity folders. Embeds every
// image of a loaded dataset (the aligned 112x112 centre of each cached crop, no
// augmentation; optional flip test-time augmentation) through a net in inference mode,
// L2-normalised, forms ALL same/different pairs and reports
//   - 10-fold accuracy, the LFW protocol: for each fold, the distance threshold that
//     maximises the accuracy on the other 9 folds is applied to the 10th; mean and standard
//     deviation over the folds. With all pairs, different pairs outnumber same pairs ~40:1,
//     so "accuracy" here is BALANCED accuracy, (same-pair accuracy + different-pair
//     accuracy) / 2, both when choosing the threshold and when testing it (chance = 0.5,
//     as on LFW's 50/50 folds). The plain accuracy at the chosen thresholds is reported too.
//   - TAR at FAR 1e-3 over all pairs: t = the (k+1)-th smallest different-pair distance,
//     k = floor(1e-3 * n_diff); a pair is accepted when d < t (so FAR <= 1e-3 even with
//     ties); TAR = accepted same pairs / n_same.
// Pairs are enumerated (i, j), i < j, in row-major order over the images in dataset order;
// pair number k (from 0) goes to fold k % 10. Distances: Euclidean on unit vectors, in
// double. Threshold rule: a pair is "same" when d <= t; candidate thresholds are the pair
// distances themselves (and -1: all "different"); the lowest best one wins.
//
//   struct evalpairs_result r;
//   evalpairs_run(net, EMB_PREP_MFN, &heldout, 1, pool, &r);
//   printf("%.4f +- %.4f, TAR %.4f @ FAR %.1e\n", r.acc, r.acc_std, r.tar, r.far);
//
// Thread safety: evalpairs_run runs an inference session on net (no training session may
// run on it at the same time); the scoring functions are pure.
#ifndef FH_TRAIN_EVALPAIRS_H
#define FH_TRAIN_EVALPAIRS_H

#include <stddef.h>

#include "base/pool.h"
#include "embed/embed.h"
#include "nn/nn.h"
#include "train/data.h"

#define EVALPAIRS_FOLDS 10
#define EVALPAIRS_FAR 1e-3
// Images per evaluation: 20,000 images are 2e8 pairs (1.6 GB of distances).
#define EVALPAIRS_MAX_IMAGES 20000

struct evalpairs_result {
    int n_images, n_ids;
    long n_same, n_diff;          // pairs
    double acc, acc_std;          // 10-fold balanced accuracy: mean, standard deviation
    double acc_plain;             // 10-fold plain accuracy at the same thresholds (mean)
    double threshold;             // the best balanced-accuracy threshold on all pairs
    double tar, far, far_threshold; // TAR at FAR <= 1e-3: TAR, the FAR reached, t
};

// Scores given pair distances. dist (n), same (n: 1 same identity, 0 different), fold of
// pair k = k % 10. Needs at least one same and one different pair in every fold:
// FH_E_ARG otherwise (also NULL). FH_E_NOMEM. Fills every field but n_images and n_ids.
int evalpairs_score(const double *dist, const unsigned char *same, long n,
                    struct evalpairs_result *out);

// All pairs of n embeddings (n, d), unit vectors, with labels: the distances and flags in
// pair order, then evalpairs_score. n in 2..EVALPAIRS_MAX_IMAGES. FH_OK, FH_E_ARG (also
// fewer than 2 identities or no same pair), FH_E_LIMIT, FH_E_NOMEM.
int evalpairs_score_embeddings(const float *emb, const int *label, int n, int d,
                               struct evalpairs_result *out);

// Embeds every image of d (train_dataset_crop112, no augmentation) with net (an [N,192]
// embedder taking [N,112,112,3] input preprocessed as prep), flip TTA when flip = 1.
// emb: OUT (d->n, 192), unit vectors. pool borrowed, may be NULL. FH_OK, FH_E_ARG (net
// shape), FH_E_NOMEM.
int evalpairs_embed(const struct nn_net *net, struct emb_prep prep, const struct train_dataset *d,
                    int flip, struct fh_pool *pool, float *emb);

// evalpairs_embed, then evalpairs_score_embeddings with the dataset's labels.
int evalpairs_run(const struct nn_net *net, struct emb_prep prep, const struct train_dataset *d,
                  int flip, struct fh_pool *pool, struct evalpairs_result *out);

// Loads an embedder file by content: our .fhm (preprocessing from its metadata input_mean
// and input_scale, both required) or a TFLite file (the pretrained MobileFaceNet's
// EMB_PREP_MFN). force_ref: scalar reference kernels. FH_OK, or the loaders' errors
// (FH_E_IO, FH_E_FORMAT, FH_E_UNSUPPORTED, FH_E_LIMIT, FH_E_NOMEM) naming the file.
int evalpairs_load_model(const char *path, int force_ref, struct nn_net **net, struct emb_prep *prep);

#endif
