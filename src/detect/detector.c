// SPDX-License-Identifier: MIT
// The detector interface (detector.h): MTCNN, or a box-only backend + O-Net landmarks.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "detect/detector.h"
#include "detect/faceboxes.h"
#include "detect/ulfd.h"
#include "haar/haar.h"

static const char *const KIND_NAMES[DET_KINDS] = {"mtcnn", "haar", "ulfd", "fused", "faceboxes"};

const char *det_kind_name(int kind) { return kind >= 0 && kind < DET_KINDS ? KIND_NAMES[kind] : NULL; }

int det_kind_parse(const char *name) {
    for (int k = 0; name && k < DET_KINDS; k++)
        if (!strcmp(name, KIND_NAMES[k])) return k;
    return -1;
}

const char *det_kind_names(void) { return "mtcnn|haar|ulfd|fused|faceboxes"; }

struct detector {
    int kind;
    struct det_mtcnn *mtcnn;       // the whole cascade, or O-Net for the others' landmarks
    struct haar_cascade *haar;
    struct det_ulfd *ulfd;
    struct det_faceboxes *fb;      // FaceBoxes (its own kind, or inside fused when loaded)
    struct fh_pool *pool;          // borrowed
    float *boxes, *scores;         // candidates of box-only backends: [nb][4], [nb]
    int *kinds;                    // [nb]: the backend of each candidate
    struct det_face *faces;
    struct det_face *fused;        // DET_FUSED's output
    float *fs;                     // DET_FUSED scratch: [nc] calibrated scores
    int *fo;                       // DET_FUSED scratch: [nc] order, then [nc] suppressed flags
    int nb, cap_boxes, cap_scores, cap_kinds, cap_faces, cap_fused, cap_fs, cap_fo;
};

struct detector_options detector_options_default(void) {
    return (struct detector_options){.mtcnn = det_options_default(), .lm_scale = DET_LM_SCALE};
}

int detector_new(int kind, const struct detector_nets *nets, struct fh_pool *pool, struct detector **out) {
    *out = NULL;
    if (!det_kind_name(kind)) return fh_fail(FH_E_ARG, "detector: unknown kind %d (known: %s)", kind, det_kind_names());
    struct detector *d = fh_calloc(1, sizeof *d);
    if (!d) return fh_fail(FH_E_NOMEM, "detector: out of memory");
    d->kind = kind, d->pool = pool;
    int rc = det_mtcnn_new(nets->pnet, nets->rnet, nets->onet, pool, &d->mtcnn);
    if (!rc && kind == DET_HAAR) rc = haar_load(HAAR_DEFAULT_CASCADE, &d->haar);
    if (!rc && (kind == DET_ULFD || kind == DET_FUSED))
        rc = nets->ulfd ? det_ulfd_new(nets->ulfd, pool, &d->ulfd)
                        : fh_fail(FH_E_IO, "detector %s: the ULFD model is not loaded (models/ulfd.onnx: run "
                                  "`make models`)", KIND_NAMES[kind]);
    if (!rc && kind == DET_FACEBOXES && !nets->faceboxes)
        rc = fh_fail(FH_E_IO, "detector faceboxes: the FaceBoxes model is not loaded (models/faceboxes/: run "
                     "`make models`)");
    if (!rc && (kind == DET_FACEBOXES || kind == DET_FUSED) && nets->faceboxes)
        rc = det_faceboxes_new(nets->faceboxes, pool, &d->fb);
    if (rc) {
        detector_free(d);
        return rc;
    }
    *out = d;
    return FH_OK;
}

void detector_free(struct detector *d) {
    if (!d) return;
    det_mtcnn_free(d->mtcnn);
    haar_free(d->haar);
    det_ulfd_free(d->ulfd);
    det_faceboxes_free(d->fb);
    fh_free(d->boxes);
    fh_free(d->scores);
    fh_free(d->kinds);
    fh_free(d->faces);
    fh_free(d->fused);
    fh_free(d->fs);
    fh_free(d->fo);
    fh_free(d);
}

int detector_kind(const struct detector *d) { return d->kind; }

// appends a candidate box (x1, y1, x2, y2 pixels) with its score and backend
static int add_box(struct detector *d, float x1, float y1, float x2, float y2, float score, int kind) {
    int rc = fh_grow((void **)&d->boxes, &d->cap_boxes, 4 * (d->nb + 1), sizeof *d->boxes);
    if (!rc) rc = fh_grow((void **)&d->scores, &d->cap_scores, d->nb + 1, sizeof *d->scores);
    if (!rc) rc = fh_grow((void **)&d->kinds, &d->cap_kinds, d->nb + 1, sizeof *d->kinds);
    if (rc) return rc;
    float *q = d->boxes + 4 * d->nb;
    q[0] = x1, q[1] = y1, q[2] = x2, q[3] = y2;
    d->kinds[d->nb] = kind;
    d->scores[d->nb++] = score;
    return FH_OK;
}

// Haar boxes (x, y, w, h -> inclusive corners) with their scores, sides >= min_face
static int run_haar(struct detector *d, const struct img *im, const struct detector_options *o) {
    struct haar_params hp = haar_params_default();
    hp.min_size = o->mtcnn.min_face;
    hp.pool = d->pool;
    struct haar_det *h;
    int k, rc = haar_detect(d->haar, im, &hp, &h, &k);
    for (int i = 0; !rc && i < k; i++)
        rc = add_box(d, (float)h[i].x, (float)h[i].y, (float)(h[i].x + h[i].w - 1), (float)(h[i].y + h[i].h - 1),
                     (float)h[i].score, DET_HAAR);
    fh_free(h);
    return rc;
}

// ULFD boxes at input width `width` whose longer side is in [min_side, max_side), as
// candidates of `kind`
static int run_ulfd(struct detector *d, const struct img *im, const struct detector_options *o, int width,
                    float min_side, float max_side, int kind) {
    struct det_ulfd_options uo = {.width = width, .thresh_score = o->ulfd_thresh > 0 ? o->ulfd_thresh : DET_ULFD_THRESH};
    if (uo.width > im->w) uo.width = im->w;
    if (uo.width < 32) uo.width = 32;
    struct det_box_f *b;
    int k, rc = det_ulfd_detect(d->ulfd, im, &uo, &b, &k);
    if (k > DET_MAX_PER_BACKEND) k = DET_MAX_PER_BACKEND; // best first: the rest are the tail
    for (int i = 0; !rc && i < k; i++) {
        float w = b[i].x2 - b[i].x1, h = b[i].y2 - b[i].y1, side = w > h ? w : h;
        if (side >= min_side && side < max_side)
            rc = add_box(d, b[i].x1, b[i].y1, b[i].x2, b[i].y2, b[i].score, kind);
    }
    fh_free(b);
    return rc;
}

// FaceBoxes boxes at input width `width`, longer side >= min_side, as candidates of `kind`
static int run_faceboxes(struct detector *d, const struct img *im, const struct detector_options *o, int width,
                         float min_side, int kind) {
    struct det_faceboxes_options fo = {.width = width, .thresh_score = o->fb_thresh > 0 ? o->fb_thresh : DET_FB_THRESH};
    struct det_box_f *b;
    int k, rc = det_faceboxes_detect(d->fb, im, &fo, &b, &k);
    if (k > DET_MAX_PER_BACKEND) k = DET_MAX_PER_BACKEND;
    for (int i = 0; !rc && i < k; i++) {
        float w = b[i].x2 - b[i].x1, h = b[i].y2 - b[i].y1;
        if ((w > h ? w : h) >= min_side) rc = add_box(d, b[i].x1, b[i].y1, b[i].x2, b[i].y2, b[i].score, kind);
    }
    fh_free(b);
    return rc;
}

static float iou_f(const float *a, const float *b) {
    float x1 = fmaxf(a[0], b[0]), y1 = fmaxf(a[1], b[1]), x2 = fminf(a[2], b[2]), y2 = fminf(a[3], b[3]);
    if (x2 <= x1 || y2 <= y1) return 0;
    float in = (x2 - x1) * (y2 - y1);
    return in / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - in);
}

// ---- fused: score-calibrated fusion ----------------------------------------------------
// Every backend's candidates get one comparable score, a logistic regression on per-backend
// features fitted offline (tools/fuse_tune.py, on the WIDER subset's tune events; see
// docs/RESULTS.md): for a candidate of backend b, z = W[bias][b] + W[score][b] logit(its
// score) + W[onet][b] logit(O-Net's p on it) + W[size][b] L + W[size2][b] L^2
// (L = log2(longer side / 12)) + sum over the other backends k of W[agree][k] * (best IoU
// with k's candidates); score = sigmoid(z). Then greedy NMS at DET_FUSE_IOU by that score,
// and each kept box becomes the score-weighted mean of every candidate it overlaps by at
// least DET_FUSE_IOU (box voting). Backends (columns): MTCNN, ULFD, ULFD at twice the
// width (fuse_small), FaceBoxes at fb_width when that is above DET_FB_WIDTH, FaceBoxes at
// DET_FB_WIDTH. A backend that does not run (FaceBoxes not loaded, no wide run) just never
// agrees.
enum { FUSE_MTCNN, FUSE_ULFD, FUSE_ULFD2, FUSE_FB, FUSE_FB1024, FUSE_N };
#define KIND_ULFD2 DET_KINDS      // d->kinds of the second ULFD run's candidates (reported as ULFD)
#define KIND_FB_WIDE (DET_KINDS + 1) // FaceBoxes' run at fb_width > DET_FB_WIDTH (reported as FaceBoxes)
enum { FW_BIAS, FW_SCORE, FW_ONET, FW_SIZE, FW_AGREE, FW_SIZE2, FW_N };
static const float FUSE_W[FW_N][FUSE_N] = {
    {-0.991692f, -0.552644f, -0.387711f, -0.655170f, -0.733084f}, // bias
    {0.301127f, 0.578105f, 0.538193f, 1.571494f, 1.448613f},      // logit score (MTCNN: O-Net's p)
    {0.301127f, 0.385736f, 0.365931f, 0.523230f, 0.583855f},      // logit O-Net p on the box
    {-0.691505f, -0.293188f, -0.361559f, -0.497120f, -0.641202f}, // log2 size/12
    {0.455582f, 0.793326f, 0.427306f, 0.149568f, 0.043471f},      // agreement with this backend's boxes
    {0.099834f, -0.068477f, -0.371506f, 0.048580f, 0.111491f},    // (log2 size/12)^2
};

static int fuse_col(int kind) {
    return kind == DET_MTCNN ? FUSE_MTCNN : kind == DET_ULFD ? FUSE_ULFD : kind == KIND_ULFD2 ? FUSE_ULFD2
         : kind == KIND_FB_WIDE ? FUSE_FB : FUSE_FB1024;
}

static float logit_clip(float p) {
    p = fminf(fmaxf(p, 1e-4f), 1 - 1e-4f);
    return logf(p / (1 - p));
}

static void face_boxf(const struct det_face *f, float *b) {
    for (int j = 0; j < 4; j++) b[j] = (float)f->box[j];
}

static float iou_faces(const struct det_face *a, const struct det_face *b) {
    float p[4], q[4];
    face_boxf(a, p), face_boxf(b, q);
    return iou_f(p, q);
}

// qsort's context: a detector runs on one thread at a time, several detectors on several
static _Thread_local const float *t_cmp_scores;
static int cmp_by_score(const void *a, const void *b) {
    int i = *(const int *)a, j = *(const int *)b;
    float x = t_cmp_scores[i], y = t_cmp_scores[j];
    return x > y ? -1 : x < y ? 1 : i - j;
}

// Fuses the nc candidates in d->faces (raw_score: the backend's score, lm_score: O-Net's
// p, kind: DET_* or KIND_ULFD2) into d->fused, best first.
static int fuse(struct detector *d, const struct img *im, int nc, const struct detector_options *o, int *n_out) {
    *n_out = 0;
    int rc = fh_grow((void **)&d->fs, &d->cap_fs, nc ? nc : 1, sizeof *d->fs);
    if (!rc) rc = fh_grow((void **)&d->fo, &d->cap_fo, nc ? 2 * nc : 1, sizeof *d->fo);
    if (!rc) rc = fh_grow((void **)&d->fused, &d->cap_fused, nc ? nc : 1, sizeof *d->fused);
    if (rc) return rc;
    const struct det_face *c = d->faces;
    for (int i = 0; i < nc; i++) {
        int b = fuse_col(c[i].kind);
        float agree[FUSE_N] = {0};
        for (int j = 0; j < nc; j++) {
            int k = fuse_col(c[j].kind);
            if (k == b) continue;
            float v = iou_faces(&c[i], &c[j]);
            if (v > agree[k]) agree[k] = v;
        }
        float w = (float)(c[i].box[2] - c[i].box[0]), h = (float)(c[i].box[3] - c[i].box[1]);
        float L = log2f(fmaxf((w > h ? w : h) + 1, 1) / 12);
        float s = b == FUSE_MTCNN ? c[i].score : c[i].raw_score;
        float z = FUSE_W[FW_BIAS][b] + FUSE_W[FW_SCORE][b] * logit_clip(s) + FUSE_W[FW_ONET][b] * logit_clip(c[i].lm_score) +
                  FUSE_W[FW_SIZE][b] * L + FUSE_W[FW_SIZE2][b] * L * L;
        for (int k = 0; k < FUSE_N; k++) z += FUSE_W[FW_AGREE][k] * agree[k];
        d->fs[i] = 1 / (1 + expf(-z));
    }
    int *order = d->fo, *dead = d->fo + nc;
    for (int i = 0; i < nc; i++) order[i] = i, dead[i] = 0;
    t_cmp_scores = d->fs;
    qsort(order, (size_t)nc, sizeof *order, cmp_by_score);
    int kept = 0;
    for (int r = 0; r < nc; r++) {
        int i = order[r];
        if (dead[i]) continue;
        // box voting over every candidate (suppressed ones too) the kept one overlaps
        double sw = 0, acc[4] = {0};
        for (int j = 0; j < nc; j++) {
            float v = j == i ? 1 : iou_faces(&c[i], &c[j]);
            if (v > DET_FUSE_IOU && j != i) dead[j] = 1;
            if (v >= DET_FUSE_IOU) {
                sw += d->fs[j];
                for (int t = 0; t < 4; t++) acc[t] += (double)d->fs[j] * c[j].box[t];
            }
        }
        if (c[i].kind != DET_MTCNN && c[i].lm_score < o->lm_min_score) continue;
        struct det_face f = c[i];
        if (sw > 0)
            for (int t = 0; t < 4; t++) f.box[t] = (int)lrint(acc[t] / sw);
        if (f.box[2] <= f.box[0] || f.box[3] <= f.box[1]) memcpy(f.box, c[i].box, sizeof f.box);
        memcpy(f.square_box, f.box, sizeof f.box);
        det_square_box(f.square_box, im->w, im->h);
        f.raw_score = d->fs[i];
        if (f.kind == KIND_ULFD2) f.kind = DET_ULFD;
        if (f.kind == KIND_FB_WIDE) f.kind = DET_FACEBOXES;
        d->fused[kept++] = f;
    }
    *n_out = kept;
    return FH_OK;
}

int detector_run(struct detector *d, const struct img *im, const struct detector_options *o,
                 struct det_face **faces, int *n) {
    *faces = NULL, *n = 0;
    if (d->kind == DET_MTCNN) return det_mtcnn_detect(d->mtcnn, im, &o->mtcnn, faces, n, NULL);
    if (!im || !im->data || im->c != 3 || im->w < 1 || im->h < 1)
        return fh_fail(FH_E_ARG, "detector: need a non-empty RGB image");
    int base = 0, rc;
    d->nb = 0;
    float min_side = (float)o->mtcnn.min_face;
    int width = o->ulfd_width > 0 ? o->ulfd_width : DET_ULFD_WIDTH;
    int fb_width = o->fb_width > 0 ? o->fb_width : DET_FB_WIDTH;
    if (d->kind == DET_FUSED) {
        struct det_face *mf;
        if ((rc = det_mtcnn_detect(d->mtcnn, im, &o->mtcnn, &mf, &base, NULL))) return rc;
        if ((rc = fh_grow((void **)&d->faces, &d->cap_faces, base ? base : 1, sizeof *d->faces))) return rc;
        memcpy(d->faces, mf, sizeof *mf * (size_t)base);
        rc = run_ulfd(d, im, o, width, min_side, INFINITY, DET_ULFD);
        // small faces: ULFD again at twice the width, where they are as large as its anchors expect
        if (!rc && o->fuse_small > 0 && im->w > width)
            rc = run_ulfd(d, im, o, 2 * width, min_side, (float)o->fuse_small, KIND_ULFD2);
        // FaceBoxes at its default width, and again at a larger fb_width (small faces)
        if (!rc && d->fb) rc = run_faceboxes(d, im, o, DET_FB_WIDTH, min_side, DET_FACEBOXES);
        if (!rc && d->fb && fb_width > DET_FB_WIDTH) rc = run_faceboxes(d, im, o, fb_width, min_side, KIND_FB_WIDE);
    } else {
        rc = d->kind == DET_HAAR        ? run_haar(d, im, o)
           : d->kind == DET_FACEBOXES ? run_faceboxes(d, im, o, fb_width, min_side, DET_FACEBOXES)
                                      : run_ulfd(d, im, o, width, min_side, INFINITY, DET_ULFD);
    }
    if (rc) return rc;
    // landmarks and face probability from O-Net for the candidates, after the first `base`
    int k = d->nb;
    if (base + k > FH_MAX_FACES) k = FH_MAX_FACES - base;
    if ((rc = fh_grow((void **)&d->faces, &d->cap_faces, base + k > 0 ? base + k : 1, sizeof *d->faces)) ||
        (rc = det_mtcnn_landmarks(d->mtcnn, im, d->boxes, k, o->lm_scale, d->faces + base)))
        return rc;
    int kept = base;
    for (int i = 0; i < k; i++) {
        struct det_face f = d->faces[base + i];
        if (d->kind != DET_FUSED && f.lm_score < o->lm_min_score) continue; // fused: after fusion
        f.raw_score = d->scores[i];
        f.kind = d->kinds[i];
        d->faces[kept++] = f;
    }
    if (d->kind == DET_FUSED) {
        if ((rc = fuse(d, im, kept, o, n))) return rc;
        *faces = d->fused;
        return FH_OK;
    }
    *faces = d->faces, *n = kept;
    return FH_OK;
}

int detector_landmarks(struct detector *d, const struct img *im, const float *boxes, int n, float scale,
                       struct det_face *out) {
    return det_mtcnn_landmarks(d->mtcnn, im, boxes, n, scale, out);
}
