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

// ---- avatar quality ------------------------------------------------------------------------
// Pose from the 5 landmarks (le, re, nose, lm, rm as x, y): E = the eyes' midpoint, M = the
// mouth's, the face axis E->M. In the ArcFace template the nose sits on that axis (yaw 0) at
// 0.495 of the way from E to M (pitch 0), the eyes are 0.866 axis lengths apart and the eye
// line is horizontal (roll 0).
#define Q_NOSE_T 0.495

struct pose {
    double yaw;   // the nose's distance from the face axis, in eye distances (a profile: ~0.5)
    double pitch; // |where along the axis the nose sits - 0.495| (up or down; smiles move it too)
    double ratio; // eye distance / axis length: a turned head foreshortens the eyes
    double roll;  // |angle of the eye line|, radians
};

static struct pose pose_of(const float *p) {
    struct pose o = {1, 1, 0, 0};
    double ex = p[2] - p[0], ey = p[3] - p[1], eye = sqrt(ex * ex + ey * ey);
    double Ex = (p[0] + p[2]) / 2, Ey = (p[1] + p[3]) / 2, Mx = (p[6] + p[8]) / 2, My = (p[7] + p[9]) / 2;
    double ax = Mx - Ex, ay = My - Ey, a2 = ax * ax + ay * ay, nx = p[4] - Ex, ny = p[5] - Ey;
    o.roll = fabs(atan2(ey, ex));
    if (eye > 0 && a2 > 0) {
        o.yaw = fabs(nx * ay - ny * ax) / sqrt(a2) / eye;
        o.pitch = fabs((nx * ax + ny * ay) / a2 - Q_NOSE_T);
        o.ratio = eye / sqrt(a2);
    }
    return o;
}

// mean, standard deviation and clipped share (<= 8 or >= 247) of the grey (R+2G+B)/4 of the
// rectangle [x0, x1) x [y0, y1) of a
static void grey_stats(const struct img *a, int x0, int y0, int x1, int y1, double *mean, double *sd, double *clip) {
    double s = 0, ss = 0;
    int n = 0, nc = 0;
    for (int y = y0; y < y1; y++)
        for (int x = x0; x < x1; x++) {
            const uint8_t *q = a->data + (size_t)y * a->stride + (size_t)x * (size_t)a->c;
            double v = a->c == 3 ? (q[0] + 2.0 * q[1] + q[2]) / 4 : q[0];
            s += v, ss += v * v, n++, nc += v <= 8 || v >= 247;
        }
    *mean = s / n;
    *sd = sqrt(fmax(ss / n - *mean * *mean, 0));
    *clip = (double)nc / n;
}

void lib_quality_parts(const struct fh_face *f, const struct img *a, double blur, int faces_in_photo,
                       struct lib_quality_parts *q) {
    const float *p = f->landmarks;
    struct pose o = pose_of(p);
    // pitch counts only when extreme: expressions move the nose along the axis as much as a
    // nod does (tests/data/avatar_ranking.tsv: a stricter pitch disagreed with the hand)
    q->frontal = clamp01(1 - 2.5 * o.yaw) * clamp01((o.ratio - 0.55) / 0.3) * clamp01(1 - o.roll / 0.52) *
                 clamp01(1 - 2 * (o.pitch - 0.15));
    q->sharp = clamp01(log10(blur + 1) / 3.0);               // 1 at a variance of ~1000
    int bw = f->box[2] - f->box[0] + 1, bh = f->box[3] - f->box[1] + 1;
    q->size = clamp01(bw / 160.0);                           // 1 from 160 px wide
    // eyes, from the landmarks only (no eye-state model): both inside the box, and apart by
    // a plausible share of the box (a frontal face: ~0.35-0.45 of its side; a misplaced or
    // cut-off face less)
    double ex = p[2] - p[0], ey = p[3] - p[1], side = bw > bh ? bw : bh;
    int inside = 1;
    for (int k = 0; k < 2; k++)
        inside &= p[2 * k] >= f->box[0] && p[2 * k] <= f->box[2] && p[2 * k + 1] >= f->box[1] && p[2 * k + 1] <= f->box[3];
    q->eyes = inside ? clamp01(sqrt(ex * ex + ey * ey) / (0.3 * side)) : 0;
    // exposure of the aligned face (brows to chin, cheek to cheek): full marks for a mean grey
    // anywhere in 70..190 (any skin tone; the score is only compared within one person),
    // falling to 0 at 20 and 240; less for clipped pixels and for a flat (foggy) face
    q->exposure = 0.5f;
    if (a && a->data && a->w == ALIGN_SIZE && a->h == ALIGN_SIZE && (a->c == 1 || a->c == 3)) {
        double mean, sd, clip;
        grey_stats(a, 28, 36, 84, 104, &mean, &sd, &clip);
        q->exposure = clamp01(1 - fmax(fabs(mean - 130) - 60, 0) / 50) * clamp01(1 - 2 * clip) * clamp01(sd / 20);
    }
    q->det = clamp01((f->score - 0.8) / 0.2);
    q->alone = faces_in_photo <= 1 ? 1.0f : 0.97f;
}

// Set by reasoning, not fitted (72 hand-ranked photos are too few to fit on): pose and
// sharpness first, exposure next; size, which LFW cannot test, a little; the landmark-only eye
// check as a guard. A doubtful detection halves the score at worst. docs/RESULTS.md measures it.
float lib_quality_combine(const struct lib_quality_parts *q) {
    double s = 0.40 * q->frontal + 0.30 * q->sharp + 0.10 * q->size + 0.05 * q->eyes + 0.15 * q->exposure;
    return clamp01(s * (0.5 + 0.5 * q->det) * q->alone);
}

float lib_quality(const struct fh_face *f, const struct img *aligned112, double blur, int faces_in_photo) {
    struct lib_quality_parts q;
    lib_quality_parts(f, aligned112, blur, faces_in_photo, &q);
    return lib_quality_combine(&q);
}
