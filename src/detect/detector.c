// SPDX-License-Identifier: MIT
// The detector interface (detector.h): MTCNN, or a box-only backend + O-Net landmarks.
#include <string.h>

#include "detect/detector.h"
#include "haar/haar.h"

static const char *const KIND_NAMES[DET_KINDS] = {"mtcnn", "haar"};

const char *det_kind_name(int kind) { return kind >= 0 && kind < DET_KINDS ? KIND_NAMES[kind] : NULL; }

int det_kind_parse(const char *name) {
    for (int k = 0; name && k < DET_KINDS; k++)
        if (!strcmp(name, KIND_NAMES[k])) return k;
    return -1;
}

const char *det_kind_names(void) { return "mtcnn|haar"; }

struct detector {
    int kind;
    struct det_mtcnn *mtcnn;       // the whole cascade, or O-Net for the others' landmarks
    struct haar_cascade *haar;
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

int detector_run(struct detector *d, const struct img *im, const struct detector_options *o,
                 struct det_face **faces, int *n) {
    *faces = NULL, *n = 0;
    if (d->kind == DET_MTCNN) return det_mtcnn_detect(d->mtcnn, im, &o->mtcnn, faces, n, NULL);
    if (!im || !im->data || im->c != 3 || im->w < 1 || im->h < 1)
        return fh_fail(FH_E_ARG, "detector: need a non-empty RGB image");
    float *scores;
    int k, rc = run_haar(d, im, o, &scores, &k);
    if (rc) return rc;
    if (k > FH_MAX_FACES) k = FH_MAX_FACES;
    if ((rc = fh_grow((void **)&d->faces, &d->cap_faces, k ? k : 1, sizeof *d->faces))) return rc;
    if ((rc = det_mtcnn_landmarks(d->mtcnn, im, d->boxes, k, o->lm_scale, d->faces))) return rc;
    int kept = 0;
    for (int i = 0; i < k; i++) {
        if (d->faces[i].lm_score < o->lm_min_score) continue;
        d->faces[kept] = d->faces[i];
        d->faces[kept].raw_score = scores[i];
        d->faces[kept].kind = d->kind;
        kept++;
    }
    *faces = d->faces, *n = kept;
    return FH_OK;
}

int detector_landmarks(struct detector *d, const struct img *im, const float *boxes, int n, float scale,
                       struct det_face *out) {
    return det_mtcnn_landmarks(d->mtcnn, im, boxes, n, scale, out);
}
