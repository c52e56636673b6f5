// SPDX-License-Identifier: MIT
// embed: face embeddings with MobileFaceNet (192-D, trained with an ArcFace-family loss
// on 5-point-aligned 112x112 crops), L2-normalised, with optional flip test-time
// augmentation; and the distance used to compare them. Knows nothing about detection.
//
//   struct emb *e;  emb_new(mfn_net, pool, &e);
//   float v[EMB_DIM];
//   emb_run(e, &crop112, 1, 1, v, NULL);        // flip TTA on
//   float d = emb_distance(v, w);               // Euclidean, in [0, 2]
//   emb_free(e);
//
// Thread safety: an emb is used by one thread at a time; the net may be shared.
#ifndef FH_EMBED_H
#define FH_EMBED_H

#include "base/pool.h"
#include "img/img.h"
#include "nn/nn.h"

#define EMB_DIM 192
#define EMB_SIZE 112 // input crop side (the ArcFace template size)
#define EMB_BATCH 4 // crops per run (8 images with flip): on a CPU a bigger batch is no
                     // faster per face (bench) and only costs activation memory

struct emb;

// Input preprocessing: the net sees (pixel - mean) * scale per RGB channel.
struct emb_prep {
    float mean, scale;
};
// The pretrained MobileFaceNet's: (v - 127.5) / 128.
#define EMB_PREP_MFN ((struct emb_prep){127.5f, 0.0078125f})

// mfn is borrowed and must outlive the embedder; pool may be NULL. FH_OK, FH_E_ARG
// (the net does not output [N,192] for a [N,112,112,3] input), FH_E_NOMEM.
// emb_new uses EMB_PREP_MFN; emb_new_prep the caller's (e.g. from a .fhm's metadata).
int emb_new(const struct nn_net *mfn, struct fh_pool *pool, struct emb **out);
int emb_new_prep(const struct nn_net *net, struct emb_prep prep, struct fh_pool *pool,
                 struct emb **out);
void emb_free(struct emb *e);

// Embeds n aligned 112x112 RGB crops. out: n x EMB_DIM floats, each L2-normalised.
// With flip, each crop is also embedded mirrored; the two normalised embeddings are
// averaged and normalised again. raw (may be NULL): n x EMB_DIM un-normalised outputs
// of the un-mirrored crops (what the reference runtime prints). FH_OK, FH_E_ARG,
// FH_E_NOMEM.
int emb_run(struct emb *e, const struct img *crops, int n, int flip, float *out, float *raw);

// v /= sqrt(max(sum v^2, 1e-10)), as the reference apps do
void emb_normalize(float *v, int d);
// Euclidean distance of two embeddings (normalised ones give 0..2)
float emb_distance(const float *a, const float *b, int d);

#endif
