// SPDX-License-Identifier: MIT
// Quality gates from the talk: blur (variance of the Laplacian of the aligned face) and
// "not a face" (the trained head of calib.h when it holds one, library/head.h; otherwise a
// sphere around the mean embedding of real false detections), plus the avatar quality
// score. The constants come from `facehatch calibrate` (calib.h).
#include <math.h>
#include <string.h>

#include "align/align.h"
#include "library/calib.h"
#include "library/calib_head.h"
#include "library/head.h"
#include "library/library.h"

double lib_blur(const struct img *a) { return img_laplacian_var(a); }

int lib_is_blurry(double blur) { return blur < LIB_BLUR_THRESHOLD; }

double lib_blur_half(const struct img *a) {
    uint8_t px[(ALIGN_SIZE / 2) * (ALIGN_SIZE / 2) * 3];
    struct img half = {ALIGN_SIZE / 2, ALIGN_SIZE / 2, a->c, (size_t)(ALIGN_SIZE / 2) * (size_t)a->c, px};
    if (a->c < 1 || a->c > 3) return 0;
    img_resize_region(a, 0, 0, a->w, a->h, &half);
    return lib_blur(&half);
}

void lib_blur_vector(double blur, double blur_half, int box_width, float score, float out[LIB_BLUR_FEATURES]) {
    out[0] = (float)log1p(blur > 0 ? blur : 0), out[1] = (float)log1p(blur_half > 0 ? blur_half : 0);
    out[2] = (float)log(box_width > 1 ? box_width : 1), out[3] = score;
}

const struct lib_head *lib_blur_head(void) { return LIB_CALIB_BLUR_HEAD; }

int lib_is_blurry_face(const struct img *a, const struct fh_face *f, double blur) {
    const struct lib_head *h = lib_blur_head();
    if (!h) return lib_is_blurry(blur);
    float x[LIB_BLUR_FEATURES];
    lib_blur_vector(blur, lib_blur_half(a), f->box[2] - f->box[0] + 1, f->score, x);
    return lib_head_positive(h, x);
}

float lib_trash_distance(const float *emb) {
    double s = 0;
    for (int k = 0; k < FH_EMB_DIM; k++) s += ((double)emb[k] - lib_trash_centre[k]) * ((double)emb[k] - lib_trash_centre[k]);
    return (float)sqrt(s);
}

const struct lib_head *lib_junk_head(void) { return LIB_CALIB_JUNK_HEAD; }

_Static_assert(LIB_JUNK_FEATURES == FH_EMB_DIM + LIB_BLUR_FEATURES, "the junk head reads the embedding + context");

void lib_junk_vector(const float *emb, double blur, double blur_half, int box_width, float score,
                     float out[LIB_JUNK_FEATURES]) {
    memcpy(out, emb, FH_EMB_DIM * sizeof *out);
    lib_blur_vector(blur, blur_half, box_width, score, out + FH_EMB_DIM);
}

int lib_is_trash_with(const struct lib_head *h, const float *x) {
    return h ? lib_head_positive(h, x) : lib_trash_distance(x) < LIB_TRASH_RADIUS;
}

int lib_is_trash(const float *x) { return lib_is_trash_with(lib_junk_head(), x); }

static float clamp01(double x) { return (float)(x < 0 ? 0 : x > 1 ? 1 : x); }

float lib_quality(const struct fh_face *f, double blur, int faces_in_photo) {
    const float *p = f->landmarks; // le, re, nose, lm, rm (x, y)
    double ex = p[2] - p[0], ey = p[3] - p[1], eye = sqrt(ex * ex + ey * ey);
    double mid_x = (p[0] + p[2]) / 2, mid_y = (p[1] + p[3]) / 2;
    // yaw: how far the nose sits from the eyes' midline, relative to the eye distance
    double yaw = eye > 0 ? fabs((p[4] - mid_x) * ex + (p[5] - mid_y) * ey) / (eye * eye) : 1;
    double roll = fabs(atan2(ey, ex));
    float frontal = clamp01(1 - 2.5 * yaw) * clamp01(cos(roll));
    float sharp = clamp01(log10(blur + 1) / 3.0);              // 1 at a variance of ~1000
    float size = clamp01((f->box[2] - f->box[0] + 1) / 160.0); // 1 from 160 px wide
    float alone = faces_in_photo <= 1 ? 1.0f : 0.85f;
    return f->score * (0.35f * frontal + 0.35f * sharp + 0.3f * size) * alone;
}
