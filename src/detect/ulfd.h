// SPDX-License-Identifier: MIT
// ULFD: the "Ultra-Light-Fast-Generic-Face-Detector-1MB" RFB-320 net (models/ulfd.onnx,
// docs/models.md) run fully convolutionally: the image is resized to a chosen width
// (aspect kept), the net's raw scores and box offsets are decoded against priors made here
// for that size (strides 8/16/32/64, min sizes {10,16,24} {32,48} {64,96} {128,192,256},
// centre variance 0.1, size variance 0.2, as the upstream code makes them for 320x240),
// then thresholded and NMS-ed. Boxes only: no landmarks. Self-contained for now (its own
// box type); the detector interface of issue 9 will wrap it.
//
//   struct nn_net *net;
//   if (det_ulfd_load("models/ulfd.onnx", &net)) puts(fh_errmsg());
//   struct det_ulfd *d;
//   det_ulfd_new(net, pool, &d);                 // pool may be NULL (1 thread)
//   struct det_box_f *b; int n;
//   det_ulfd_detect(d, &im, NULL, &b, &n);       // NULL: default options
//   for (int i = 0; i < n; i++) printf("%g %g %g %g %g\n", b[i].x1, b[i].y1, b[i].x2, b[i].y2, b[i].score);
//   fh_free(b); det_ulfd_free(d); nn_net_free(net);
//
// Thread safety: a det_ulfd is one thread at a time; one net may serve many det_ulfd.
#ifndef FH_DET_ULFD_H
#define FH_DET_ULFD_H

#include "base/pool.h"
#include "detect/boxf.h"
#include "img/img.h"
#include "nn/nn.h"

struct det_ulfd_options {
    int width;          // net input width in pixels (height follows the aspect); 0 = 640
    float thresh_score; // keep priors whose face probability exceeds this; 0 = 0.3
    float thresh_nms;   // drop a box overlapping a better one by IoU above this; 0 = 0.3
};

struct det_ulfd;

// Loads models/ulfd.onnx cut before its baked-in 320x240 decode: outputs "scores"
// [1, P, 2] and the raw box offsets "462" [1, P, 4] (that file's name for them). The
// errors of nn_net_load_onnx.
int det_ulfd_load(const char *path, struct nn_net **out);
// net: borrowed, must outlive d (a net from det_ulfd_load). pool: borrowed or NULL.
// FH_OK, FH_E_ARG (a net without those two outputs), FH_E_NOMEM.
int det_ulfd_new(const struct nn_net *net, struct fh_pool *pool, struct det_ulfd **out);
void det_ulfd_free(struct det_ulfd *d);
// Faces in im (RGB, or grey read as RGB), best first. o may be NULL (defaults).
// OUT: *boxes (fh_malloc'd, free with fh_free; NULL when *n == 0) and *n (at most
// FH_MAX_FACES). FH_OK, FH_E_ARG (bad image or options), FH_E_LIMIT (input too large),
// FH_E_FORMAT (the net's outputs do not fit the priors), FH_E_NOMEM.
int det_ulfd_detect(struct det_ulfd *d, const struct img *im, const struct det_ulfd_options *o,
                    struct det_box_f **boxes, int *n);

// ---- the decode, for tests and other runtimes ---------------------------------------------
// Number of priors for a W x H net input.
int det_ulfd_n_priors(int W, int H);
// Priors for a W x H input: (cx, cy, w, h) per prior, fractions of the input, clamped to
// [0, 1], in the net's output order: per stride s (8, 16, 32, 64) a map of
// fw x fh = ceil(W/s) x ceil(H/s) cells, row by row, centres ((i + 0.5)/fw, (j + 0.5)/fh),
// one prior per min size (min/W, min/H); equal to the file's baked priors at 320x240. OUT: p (4 * det_ulfd_n_priors(W, H) floats).
void det_ulfd_priors(int W, int H, float *p);
// Decodes raw offsets loc (P x 4) against priors (P x 4) into corner boxes (P x 4: x1, y1,
// x2, y2, fractions of the input), the arithmetic of the file's own decode.
void det_ulfd_decode(const float *loc, const float *priors, int P, float *boxes);

#endif
