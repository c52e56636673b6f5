// SPDX-License-Identifier: MIT
// The detector interface (detector.h): MTCNN, or a box-only backend + O-Net landmarks.
#include <math.h>
#include <string.h>

#include "detect/detector.h"
#include "detect/ulfd.h"
#include "haar/haar.h"

static const char *const KIND_NAMES[DET_KINDS] = {"mtcnn", "haar", "ulfd", "fused"};

const char *det_kind_name(int kind) { return kind >= 0 && kind < DET_KINDS ? KIND_NAMES[kind] : NULL; }

int det_kind_parse(const char *name) {
    for (int k = 0; name && k < DET_KINDS; k++)
        if (!strcmp(name, KIND_NAMES[k])) return k;
    return -1;
}

const char *det_kind_names(void) { return "mtcnn|haar|ulfd|fused"; }

struct detector {
    int kind;
    struct det_mtcnn *mtcnn;       // the whole cascade, or O-Net for the others' landmarks
    struct haar_cascade *haar;
    struct det_ulfd *ulfd;
    struct fh_pool *pool;          // borrowed
    float *boxes;                  // [n][4] boxes of a box-only backend
    struct det_face *faces;
    int cap_boxes, cap_faces;
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
    fh_free(d->boxes);
    fh_free(d->faces);
    fh_free(d);
}

int detector_kind(const struct detector *d) { return d->kind; }

// Haar boxes (x, y, w, h) with their scores, sides >= min_face
static int run_haar(struct detector *d, const struct img *im, const struct detector_options *o, float **scores,
                    int *n) {
    struct haar_params hp = haar_params_default();
    hp.min_size = o->mtcnn.min_face;
    hp.pool = d->pool;
    struct haar_det *h;
    int k, rc = haar_detect(d->haar, im, &hp, &h, &k);
    if (rc) return rc;
    if ((rc = fh_grow((void **)&d->boxes, &d->cap_boxes, 5 * (k ? k : 1), sizeof *d->boxes))) {
        fh_free(h);
        return rc;
    }
    float *s = d->boxes + 4 * k; // the scores follow the boxes
    for (int i = 0; i < k; i++) {
        float *b = d->boxes + 4 * i;
        b[0] = (float)h[i].x, b[1] = (float)h[i].y;
        b[2] = (float)(h[i].x + h[i].w - 1), b[3] = (float)(h[i].y + h[i].h - 1);
        s[i] = (float)h[i].score;
    }
    fh_free(h);
    *scores = s, *n = k;
    return FH_OK;
}

// ULFD boxes with their scores, longer side >= min_face
static int run_ulfd(struct detector *d, const struct img *im, const struct detector_options *o, float **scores,
                    int *n) {
    struct det_ulfd_options uo = {.width = o->ulfd_width > 0 ? o->ulfd_width : 640,
                                  .thresh_score = o->ulfd_thresh > 0 ? o->ulfd_thresh : DET_ULFD_THRESH};
    if (uo.width > im->w) uo.width = im->w;
    if (uo.width < 32) uo.width = 32;
    struct det_box_f *b;
    int k, rc = det_ulfd_detect(d->ulfd, im, &uo, &b, &k);
    if (rc) return rc;
    if ((rc = fh_grow((void **)&d->boxes, &d->cap_boxes, 5 * (k ? k : 1), sizeof *d->boxes))) {
        fh_free(b);
        return rc;
    }
    float *s = d->boxes + 4 * k;
    int kept = 0;
    for (int i = 0; i < k; i++) {
        float w = b[i].x2 - b[i].x1, h = b[i].y2 - b[i].y1;
        if ((w > h ? w : h) < (float)o->mtcnn.min_face) continue;
        float *q = d->boxes + 4 * kept;
        q[0] = b[i].x1, q[1] = b[i].y1, q[2] = b[i].x2, q[3] = b[i].y2;
        s[kept++] = b[i].score;
    }
    fh_free(b);
    memmove(d->boxes + 4 * kept, s, sizeof *s * (size_t)kept); // scores right after the boxes
    *scores = d->boxes + 4 * kept, *n = kept;
    return FH_OK;
}

static float box_iou(const int *a, const float *b) {
    float x1 = fmaxf((float)a[0], b[0]), y1 = fmaxf((float)a[1], b[1]);
    float x2 = fminf((float)a[2], b[2]), y2 = fminf((float)a[3], b[3]);
    if (x2 <= x1 || y2 <= y1) return 0;
    float in = (x2 - x1) * (y2 - y1), aa = (float)(a[2] - a[0]) * (float)(a[3] - a[1]);
    float ab = (b[2] - b[0]) * (b[3] - b[1]);
    return in / (aa + ab - in);
}

// landmarks and face probability for the k boxes of d->boxes (scores alongside), appended
// to d->faces after the first `base` faces as faces of `kind`
static int boxes_to_faces(struct detector *d, const struct img *im, const struct detector_options *o,
                          const float *scores, int k, int base, int kind, int *n) {
    if (base + k > FH_MAX_FACES) k = FH_MAX_FACES - base;
    int rc = fh_grow((void **)&d->faces, &d->cap_faces, base + k > 0 ? base + k : 1, sizeof *d->faces);
    if (rc || (rc = det_mtcnn_landmarks(d->mtcnn, im, d->boxes, k, o->lm_scale, d->faces + base))) return rc;
    int kept = base;
    for (int i = 0; i < k; i++) {
        struct det_face f = d->faces[base + i];
        if (f.lm_score < o->lm_min_score) continue;
        f.raw_score = scores[i];
        f.kind = kind;
        d->faces[kept++] = f;
    }
    *n = kept;
    return FH_OK;
}

int detector_run(struct detector *d, const struct img *im, const struct detector_options *o,
                 struct det_face **faces, int *n) {
    *faces = NULL, *n = 0;
    if (d->kind == DET_MTCNN) return det_mtcnn_detect(d->mtcnn, im, &o->mtcnn, faces, n, NULL);
    if (!im || !im->data || im->c != 3 || im->w < 1 || im->h < 1)
        return fh_fail(FH_E_ARG, "detector: need a non-empty RGB image");
    float *scores;
    int k, base = 0, rc;
    if (d->kind == DET_FUSED) {
        struct det_face *mf;
        if ((rc = det_mtcnn_detect(d->mtcnn, im, &o->mtcnn, &mf, &base, NULL))) return rc;
        if ((rc = fh_grow((void **)&d->faces, &d->cap_faces, base ? base : 1, sizeof *d->faces))) return rc;
        memcpy(d->faces, mf, sizeof *mf * (size_t)base);
        for (int i = 0; i < base; i++) d->faces[i].raw_score = 1 + d->faces[i].score;
    }
    rc = d->kind == DET_HAAR ? run_haar(d, im, o, &scores, &k) : run_ulfd(d, im, o, &scores, &k);
    if (rc) return rc;
    if (d->kind == DET_FUSED) { // keep ULFD's boxes that no MTCNN face covers
        int kept = 0;
        for (int i = 0; i < k; i++) {
            int covered = 0;
            for (int j = 0; j < base && !covered; j++) covered = box_iou(d->faces[j].box, d->boxes + 4 * i) > DET_FUSE_IOU;
            if (covered) continue;
            memmove(d->boxes + 4 * kept, d->boxes + 4 * i, 4 * sizeof *d->boxes);
            scores[kept++] = scores[i]; // scores[] sits after the k boxes: kept <= i, no overlap
        }
        // move the kept scores right after the kept boxes
        memmove(d->boxes + 4 * kept, scores, sizeof *scores * (size_t)kept);
        scores = d->boxes + 4 * kept, k = kept;
    }
    int kind = d->kind == DET_HAAR ? DET_HAAR : DET_ULFD;
    if ((rc = boxes_to_faces(d, im, o, scores, k, base, kind, n))) return rc;
    *faces = d->faces;
    return FH_OK;
}

int detector_landmarks(struct detector *d, const struct img *im, const float *boxes, int n, float scale,
                       struct det_face *out) {
    return det_mtcnn_landmarks(d->mtcnn, im, boxes, n, scale, out);
}
