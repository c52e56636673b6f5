// SPDX-License-Identifier: MIT
// detector: one interface over the face detectors. A backend finds boxes with its own
// score; faces without landmarks get them from MTCNN's O-Net run on their boxes
// (det_mtcnn_landmarks), so alignment works whichever detector found the face.
//
//   struct detector_nets nets = {pnet, rnet, onet};          // borrowed, outlive d
//   struct detector *d;
//   detector_new(DET_HAAR, &nets, pool, &d);                  // pool may be NULL
//   struct detector_options o = detector_options_default();
//   struct det_face *faces; int n;
//   detector_run(d, &photo, &o, &faces, &n);                  // faces owned by d
//   detector_free(d);
//
// Backends:
//   DET_MTCNN  the cascade of detect.h: box, O-Net probability, 5 landmarks.
//   DET_HAAR   OpenCV's frontal-face Viola-Jones cascade (haar/, read from Debian's
//              opencv-data at detector_new): box and grouped-hit score; landmarks and a
//              face probability from O-Net on the box.
//   DET_ULFD   ULFD RFB-320 (ulfd.h, models/ulfd.onnx) at ulfd_width: box and score;
//              landmarks and face probability from O-Net.
//   DET_FACEBOXES  FaceBoxes (faceboxes.h, models/faceboxes/) at fb_width: box and score;
//              landmarks and face probability from O-Net.
//   DET_FUSED  MTCNN, ULFD (and a second ULFD run at twice the width for faces under
//              fuse_small) and FaceBoxes (when loaded; at DET_FB_WIDTH, and again at
//              fb_width when that is larger), fused by score calibration: every
//              candidate's features (backend, its score, O-Net's p on its box, size, its
//              best IoU with each other backend's boxes) go through a logistic regression
//              fitted offline on half of the WIDER subset (tools/fuse_tune.py), giving
//              one comparable score in (0, 1) (raw_score); greedy NMS at DET_FUSE_IOU by
//              it, and each kept box is the score-weighted mean of the candidates it
//              overlaps (box voting). A fused face keeps the landmarks and O-Net p of its
//              best candidate; kind says which backend that was.
// Scores: det_face.raw_score is the backend's own ranking score (use it for AP/ROC);
// det_face.score is a face probability in 0..1 (MTCNN: O-Net's; others: O-Net's on the
// box, lm_score), comparable across detectors, which the library's gates use.
// Thread safety: a detector is used by one thread at a time; nets and cascade are shared
// read-only. Errors: FH_OK or FH_E_* with fh_errmsg() set; nothing prints.
#ifndef FH_DETECTOR_H
#define FH_DETECTOR_H

#include "detect/detect.h"

enum det_kind { DET_MTCNN = 0, DET_HAAR = 1, DET_ULFD = 2, DET_FUSED = 3, DET_FACEBOXES = 4, DET_KINDS };
#define DET_FUSE_IOU 0.4f

// "mtcnn", "haar", "ulfd", "fused", "faceboxes"; NULL for an unknown kind
const char *det_kind_name(int kind);
// the kind a name gives, or -1
int det_kind_parse(const char *name);
// "mtcnn|haar|ulfd|fused|faceboxes": the names, for usage texts (static storage)
const char *det_kind_names(void);

struct detector_nets {
    const struct nn_net *pnet, *rnet, *onet;
    const struct nn_net *ulfd;  // det_ulfd_load's net; NULL: DET_ULFD/DET_FUSED unavailable
    const struct nn_net *faceboxes; // det_faceboxes_load's net; NULL: DET_FACEBOXES unavailable,
                                    // DET_FUSED without it
};

struct detector_options {
    struct det_options mtcnn;   // MTCNN's options; min_face also bounds the other backends
    float lm_scale;             // O-Net crop side = lm_scale * the box's longer side (DET_LM_SCALE)
    float lm_min_score;         // faces of other backends whose O-Net score is below are
                                // dropped (0: keep all; default 0)
    int ulfd_width;             // ULFD's input width (0: 640; the photo's own width at most)
    float ulfd_thresh;          // ULFD's score threshold (0: DET_ULFD_THRESH); the evals go
                                // lower (DET_ULFD_THRESH_EVAL) to trace the whole PR curve
    int fuse_small;             // fused: also run ULFD at twice ulfd_width on photos wider than
                                // it, for faces whose longer side is under this (0: off)
    int fb_width;               // FaceBoxes' input width (0: DET_FB_WIDTH); fused: a second
                                // FaceBoxes run at this width when it is above DET_FB_WIDTH
    float fb_thresh;            // FaceBoxes' score threshold (0: DET_FB_THRESH; evals: _EVAL)
};
#define DET_FB_WIDTH 1024
// ULFD and FaceBoxes keep at most this many boxes a photo (best first; at the evals' low
// thresholds FaceBoxes passes thousands of background anchors, each of which would cost an
// O-Net run)
#define DET_MAX_PER_BACKEND 300
#define DET_FB_THRESH 0.5f
#define DET_FB_THRESH_EVAL 0.05f
#define DET_ULFD_THRESH 0.3f
#define DET_ULFD_WIDTH 640
#define DET_ULFD_THRESH_EVAL 0.1f
struct detector_options detector_options_default(void);

struct detector;

// FH_E_ARG (unknown kind, nets of the wrong shape), FH_E_IO/FH_E_FORMAT (Haar cascade
// missing or bad: the message says what to install; no ULFD net for ULFD/fused), FH_E_NOMEM.
int detector_new(int kind, const struct detector_nets *nets, struct fh_pool *pool, struct detector **out);
void detector_free(struct detector *d);
int detector_kind(const struct detector *d);

// Finds faces in an RGB image; *faces belong to d (valid until its next call), at most
// FH_MAX_FACES, every one with landmarks. Errors as det_mtcnn_detect / haar_detect.
int detector_run(struct detector *d, const struct img *im, const struct detector_options *o,
                 struct det_face **faces, int *n);

// det_mtcnn_landmarks through the detector's O-Net (any kind): landmarks for boxes found
// elsewhere. Same contract.
int detector_landmarks(struct detector *d, const struct img *im, const float *boxes, int n, float scale,
                       struct det_face *out);

#endif
