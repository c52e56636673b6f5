// SPDX-License-Identifier: MIT
// train/loss private: the classifier head shared by softmax, center, SphereFace, CosFace,
// ArcFace and both levels of the two-level softmax, and the head object itself.
#ifndef FH_TRAIN_LOSS_INT_H
#define FH_TRAIN_LOSS_INT_H

#include "train/loss.h"

// A classifier over `rows` classes of width D. margin = TRAIN_LOSS_SOFTMAX: logits W e + b;
// TRAIN_LOSS_SPHEREFACE / _COSFACE / _ARCFACE: cosine logits with that margin on the target.
struct loss_head {
    int rows, D, margin;
    float s, m, lambda;       // scale, margin, SphereFace lambda
    int easy;                 // ArcFace easy margin
    float *w, *b;             // (rows, D), (rows) (b only for plain softmax)
    float *gw, *gb;           // accumulated gradients, same shapes
    double *dw, *db;          // per-call gradient scratch (rows, D), (rows)
    unsigned char *touched;   // (rows) rows with a non-zero dw this call
    double *wn;               // cosine heads: normalised rows (rows, D), per call
    double *wnorm;            // (rows) |W_j| (floored)
    double *cosv, *z, *g;     // per-sample scratch (rows)
    double *du;               // per-sample scratch (D)
};

// Allocates a head and initialises W uniform in +-1/sqrt(D) from *rng. FH_OK or FH_E_NOMEM.
int loss_head_init(struct loss_head *h, int rows, int D, int margin, uint64_t *rng);
void loss_head_free(struct loss_head *h);
// Per call, before any sample: normalises the rows of cosine heads.
void loss_head_prepare(struct loss_head *h);
// One sample: e (D) raw, u = e/|e| (D), enorm = |e| (floored). Candidates: rows[0..nr) of
// the head, or all rows when rows is NULL (nr = h->rows). t: position of the target among
// the candidates, or -1 to only predict. *amax: OUT position of the largest margin-free
// logit. With de != NULL, adds wgt * dL/de into de (D doubles) and wgt * dL/dW into the
// head's scratch. Returns the cross-entropy (0 when t < 0).
double loss_head_sample(struct loss_head *h, const float *e, const double *u, double enorm,
                        const int *rows, int nr, int t, double wgt, double *de, int *amax);
// Per call, after the samples: moves the scratch gradients into gw/gb (through the row
// normalisation for cosine heads) and clears the scratch.
void loss_head_finish(struct loss_head *h);

// Dot product of float vectors with double accumulation.
double loss_dot_ff(const float *a, const float *b, int n);
// u = e/|e| in double; returns |e| floored at 1e-12.
double loss_unit(const float *e, int D, double *u);
// Adds to de (D) the gradient through u = e/|e|: (du - u (u . du)) / enorm.
void loss_unit_backward(const double *u, const double *du, double enorm, int D, double *de);

// splitmix64 generator and a uniform double in [0, 1).
uint64_t loss_rng_next(uint64_t *state);
double loss_rng_uniform(uint64_t *state);

// Margin functions of the target cosine c: the value, and its derivative in *dg.
double loss_margin_fn(const struct loss_head *h, double c, double *dg);

// The head object (train_loss_new). Parameters are listed in params[0..np).
struct train_loss {
    struct train_loss_opts o; // copy; o.cluster_of is NULL (the copy is cluster_of below)
    int C, D;
    struct loss_head h;       // the classifier; two-level: level 2 (identity, C rows)
    struct loss_head h1;      // two-level: level 1 (cluster, K rows)
    float *centers, *gcenters;// center loss (C, D)
    int *count;               // center loss scratch (C), zero between calls
    int *cluster_of;          // two-level (C); NULL until a valid assignment is set
    float *assign;            // two-level (C): cluster_of as floats, the "cluster.assign" param
    int *members, *mstart;    // two-level: classes of cluster k are members[mstart[k]..mstart[k+1])
    int *pos;                 // two-level (C): position of a class among its cluster's members
    int np;
    struct train_loss_param params[8];
};

// Two-level softmax (loss_two_level.c).
int loss_two_level_init(struct train_loss *l, uint64_t *rng);   // heads + params
void loss_two_level_free(struct train_loss *l);
int loss_two_level_reload(struct train_loss *l);                 // from l->assign
int loss_two_level_compute(struct train_loss *l, const float *E, const int *y, int N,
                           float *dE, struct train_loss_stats *st);
int loss_two_level_predict(struct train_loss *l, const float *E, int N, int *pred);

// Triplet loss (loss_triplet.c): same contract as train_loss_compute, no parameters.
int loss_triplet_compute(const struct train_loss_opts *o, const float *E, const int *y, int N,
                         int D, float *dE, struct train_loss_stats *st);

#endif
