// SPDX-License-Identifier: MIT
// The detector interface (detector.h): MTCNN, or a box-only backend + O-Net landmarks.
#include <math.h>
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
    int nb, cap_boxes, cap_scores, cap_kinds, cap_faces;
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

// ULFD boxes at input width `width` whose longer side is in [min_side, max_side)
static int run_ulfd(struct detector *d, const struct img *im, const struct detector_options *o, int width,
                    float min_side, float max_side) {
    struct det_ulfd_options uo = {.width = width, .thresh_score = o->ulfd_thresh > 0 ? o->ulfd_thresh : DET_ULFD_THRESH};
    if (uo.width > im->w) uo.width = im->w;
    if (uo.width < 32) uo.width = 32;
    struct det_box_f *b;
    int k, rc = det_ulfd_detect(d->ulfd, im, &uo, &b, &k);
    if (k > DET_MAX_PER_BACKEND) k = DET_MAX_PER_BACKEND; // best first: the rest are the tail
    for (int i = 0; !rc && i < k; i++) {
        float w = b[i].x2 - b[i].x1, h = b[i].y2 - b[i].y1, side = w > h ? w : h;
        if (side >= min_side && side < max_side)
            rc = add_box(d, b[i].x1, b[i].y1, b[i].x2, b[i].y2, b[i].score, DET_ULFD);
    }
    fh_free(b);
    return rc;
}

// FaceBoxes boxes at its width, longer side >= min_side
static int run_faceboxes(struct detector *d, const struct img *im, const struct detector_options *o, float min_side) {
    struct det_faceboxes_options fo = {.width = o->fb_width > 0 ? o->fb_width : DET_FB_WIDTH,
                                       .thresh_score = o->fb_thresh > 0 ? o->fb_thresh : DET_FB_THRESH};
    struct det_box_f *b;
    int k, rc = det_faceboxes_detect(d->fb, im, &fo, &b, &k);
    if (k > DET_MAX_PER_BACKEND) k = DET_MAX_PER_BACKEND;
    for (int i = 0; !rc && i < k; i++) {
        float w = b[i].x2 - b[i].x1, h = b[i].y2 - b[i].y1;
        if ((w > h ? w : h) >= min_side) rc = add_box(d, b[i].x1, b[i].y1, b[i].x2, b[i].y2, b[i].score, DET_FACEBOXES);
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

// keeps the candidates from index `from` on that overlap (IoU > th) none of the first `n_faces`
// faces nor a better-scoring kept candidate from `from` on (greedy by score)
static void suppress(struct detector *d, int from, int n_faces, float th) {
    int kept = from;
    for (int i = from; i < d->nb; i++) { // selection order: best score first
        int best = i;
        for (int j = i + 1; j < d->nb; j++)
            if (d->scores[j] > d->scores[best]) best = j;
        float tb[4], ts = d->scores[best];
        int tk = d->kinds[best];
        memcpy(tb, d->boxes + 4 * best, sizeof tb);
        memmove(d->boxes + 4 * best, d->boxes + 4 * i, sizeof tb), d->scores[best] = d->scores[i];
        d->kinds[best] = d->kinds[i];
        memcpy(d->boxes + 4 * i, tb, sizeof tb), d->scores[i] = ts, d->kinds[i] = tk;
        int covered = 0;
        for (int j = 0; j < n_faces && !covered; j++) {
            float fb[4] = {(float)d->faces[j].box[0], (float)d->faces[j].box[1], (float)d->faces[j].box[2],
                           (float)d->faces[j].box[3]};
            covered = iou_f(fb, tb) > th;
        }
        for (int j = from; j < kept && !covered; j++) covered = iou_f(d->boxes + 4 * j, tb) > th;
        if (covered) continue;
        memcpy(d->boxes + 4 * kept, tb, sizeof tb), d->kinds[kept] = tk, d->scores[kept++] = ts;
    }
    d->nb = kept;
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
    if (d->kind == DET_FUSED) {
        struct det_face *mf;
        if ((rc = det_mtcnn_detect(d->mtcnn, im, &o->mtcnn, &mf, &base, NULL))) return rc;
        if ((rc = fh_grow((void **)&d->faces, &d->cap_faces, base ? base : 1, sizeof *d->faces))) return rc;
        memcpy(d->faces, mf, sizeof *mf * (size_t)base);
        for (int i = 0; i < base; i++) d->faces[i].raw_score = 1 + d->faces[i].score;
        rc = run_ulfd(d, im, o, width, min_side, INFINITY);
        // small faces: ULFD again at twice the width, where they are as large as its anchors expect
        if (!rc && o->fuse_small > 0 && im->w > width)
            rc = run_ulfd(d, im, o, 2 * width, min_side, (float)o->fuse_small);
        if (!rc && d->fb) rc = run_faceboxes(d, im, o, min_side);
        if (!rc) suppress(d, 0, base, DET_FUSE_IOU);
    } else {
        rc = d->kind == DET_HAAR        ? run_haar(d, im, o)
           : d->kind == DET_FACEBOXES ? run_faceboxes(d, im, o, min_side)
                                      : run_ulfd(d, im, o, width, min_side, INFINITY);
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
        if (f.lm_score < o->lm_min_score) continue;
        f.raw_score = d->scores[i];
        f.kind = d->kinds[i];
        d->faces[kept++] = f;
    }
    *faces = d->faces, *n = kept;
    return FH_OK;
}

int detector_landmarks(struct detector *d, const struct img *im, const float *boxes, int n, float scale,
                       struct det_face *out) {
    return det_mtcnn_landmarks(d->mtcnn, im, boxes, n, scale, out);
}
