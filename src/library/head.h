// SPDX-License-Identifier: MIT
// library/head: inference of the small trained heads the library stores with its
// calibration (calib.h): the "not a face" head on the 192-D embedding followed by the face's
// LIB_BLUR_FEATURES context features (lib_junk_vector; a head stored before context
// existed reads the embedding alone), and the blur head on LIB_BLUR_FEATURES image features, trained by `facehatch calibrate` with the engine
// (train/head.h). Plain C over stored weights: no net, no session, no allocation.
//
//   logit = w2 . prelu(w1 x + b1) + b2     (hidden > 0: a small MLP)
//   logit = w1 . x + b1[0]                 (hidden = 0: logistic regression)
//   positive ("not a face") when logit >= threshold
//
// Sums in double, in index order (the same arithmetic on every machine).
#ifndef FH_LIBRARY_HEAD_H
#define FH_LIBRARY_HEAD_H

#include <stdio.h>

#define LIB_HEAD_VERSION 1   // the stored format this build reads and writes
#define LIB_HEAD_MAX_DIM 4096
#define LIB_HEAD_MAX_HIDDEN 1024

struct lib_head {
    int version;        // LIB_HEAD_VERSION
    int dim, hidden;    // input features; hidden units (0: logistic regression)
    const float *w1;    // (hidden ? hidden : 1) x dim, row-major
    const float *b1;    // hidden ? hidden : 1
    const float *alpha; // hidden PReLU slopes (NULL when hidden = 0)
    const float *w2;    // hidden (NULL when hidden = 0)
    float b2;           // (unused when hidden = 0)
    float threshold;    // positive when the logit >= threshold
};

// FH_OK, or FH_E_FORMAT naming what is wrong (version, sizes, a NULL array).
int lib_head_check(const struct lib_head *h);
// The logit of x (h->dim values). h must pass lib_head_check.
float lib_head_logit(const struct lib_head *h, const float *x);
// 1 when the logit reaches the threshold.
int lib_head_positive(const struct lib_head *h, const float *x);

// The blur head's features of a face: log(1 + variance of the Laplacian of the aligned
// 112x112 crop), the same on the crop halved to 56x56 (lib_blur_half), log(box width in
// pixels), detector score. Calibrate and the library both build them here.
#define LIB_BLUR_FEATURES 4
void lib_blur_vector(double blur, double blur_half, int box_width, float score, float out[LIB_BLUR_FEATURES]);

// The "not a face" head's input: the 192-D embedding, then lib_blur_vector's 4 features
// (junk is often soft, small and low-scored: these caught far more of it than the
// embedding alone, docs/TRAINING.md).
#define LIB_JUNK_FEATURES (192 + LIB_BLUR_FEATURES)
void lib_junk_vector(const float *emb, double blur, double blur_half, int box_width, float score,
                     float out[LIB_JUNK_FEATURES]);

// The "not a face" head compiled in from calib.h, or NULL when calib.h holds none (a
// calibration written before heads existed: then lib_is_trash uses the sphere). Its dim is
// LIB_JUNK_FEATURES, or 192 (embedding only) for a head stored before context existed.
const struct lib_head *lib_junk_head(void);
// "Not a face" by head h given x = lib_junk_vector(...) (a 192-D head reads its first 192
// values), or by the calibrated sphere on the embedding (x's first 192 values) when h is
// NULL. lib_is_trash(x) is lib_is_trash_with(lib_junk_head(), x).
int lib_is_trash_with(const struct lib_head *h, const float *x);
struct img;
// Variance of the Laplacian of the aligned crop halved (bilinear) to 56x56; no allocation.
double lib_blur_half(const struct img *aligned112);
// The blur head compiled in from calib.h, or NULL (then blur is the Laplacian threshold).
const struct lib_head *lib_blur_head(void);
// "Blurry" by the blur head when calib.h has one (heavy blur when the logit >= its
// threshold), else lib_is_blurry(blur). blur = lib_blur(aligned112).
struct fh_face;
int lib_is_blurry_face(const struct img *aligned112, const struct fh_face *f, double blur);

// Writes h as the head `name` ("junk" or "blur") of a calib.h (C source: version, sizes,
// threshold and weight arrays LIB_<NAME>_HEAD_* / lib_<name>_head_*, read back by
// library/calib_head.h) to w. FH_OK, FH_E_FORMAT (h fails lib_head_check), FH_E_ARG (another
// name), FH_E_IO (a write failed).
int lib_head_write_calib(FILE *w, const char *name, const struct lib_head *h);

#endif
