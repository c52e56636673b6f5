// SPDX-License-Identifier: MIT
// cli/calib_int.h: what `facehatch calibrate` (cmd_calibrate.c) collects and hands to the
// trained heads (calib_heads.c). Private to the cli module.
#ifndef FH_CALIB_INT_H
#define FH_CALIB_INT_H

#include <stdio.h>

#include "pipeline/facehatch.h"

// One detection of the calibration run.
struct calib_sample {
    float emb[FH_EMB_DIM]; // L2-normalised embedding
    double blur;           // variance of the Laplacian of the aligned 112x112 crop
    double blur2;          // the same on the crop halved to 56x56 (a second scale)
    float score;           // detector confidence
    int label;             // WIDER blur label (0 clear, 1 normal, 2 heavy), or -1 (CMU+MIT)
    int trash;             // 1 = false detection, 0 = face
    int split;             // image index % 4: odd = held-out (test); 0 = train, 2 = validation
    int width;             // detection box width in pixels
};

// The split roles (calibrate's held-out protocol: images alternate fitting / held-out; the
// fitting half alternates again between training and validation for the trained heads).
static inline int calib_held(const struct calib_sample *s) { return s->split & 1; }
static inline int calib_train(const struct calib_sample *s) { return s->split == 0; }
static inline int calib_val(const struct calib_sample *s) { return s->split == 2; }

// The trained heads: "not a face" (LR and MLP on the embedding + context, lib_junk_vector,
// chosen out-of-fold, compared with the sphere on the held-out split) and blur (LR on a few
// features vs the variance of the Laplacian). Scored on what the library keeps: width >=
// min_width, detector score >= min_score. Prints the report to stdout; when w is not NULL,
// appends the chosen heads to the calib.h being written (format: library/calib_head.h).
// Returns 0, or -1 when there is too little data or memory (message on stderr).
int calib_heads(const struct calib_sample *s, int n, int min_width, float min_score, FILE *w);

#endif
