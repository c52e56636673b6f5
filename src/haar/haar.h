// SPDX-License-Identifier: MIT
// haar: the Viola-Jones face detector, evaluating OpenCV's Haar cascades (the XML files
// of Debian's opencv-data, read at run time, never committed): integral images, stage
// thresholds, a sliding window over scales, grouping of overlapping hits, as OpenCV's
// CascadeClassifier::detectMultiScale does. It is the talk's "old-school" baseline.
// It reproduces OpenCV 4.6's CPU path (image pyramid by cv::resize INTER_LINEAR_EXACT, the
// same fixed/floating point types, groupRectangles with eps 0.2) so that its boxes are
// OpenCV's boxes; it does not do LBP/HOG cascades, OpenCV's "legacy" feature-scaling
// path, masks, or the rejectLevels output.
//
//   struct haar_cascade *c;
//   haar_load(HAAR_DEFAULT_CASCADE, &c);
//   struct haar_params p = haar_params_default();   // OpenCV's defaults
//   struct haar_det *d; int n;
//   haar_detect(c, &photo, &p, &d, &n);              // d: fh_malloc'd, caller fh_free()s
//   haar_free(c);
//
// Thread safety: a loaded cascade is immutable and may be shared; haar_detect is
// reentrant. One call uses one core, or the threads of haar_params.pool (the pyramid
// levels shared out among them); the detections are the same for any thread count.
#ifndef FH_HAAR_H
#define FH_HAAR_H

#include "base/base.h"
#include "base/limits.h"
#include "img/img.h"

#define HAAR_DEFAULT_CASCADE "/usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml"

// ---- limits (the cascade file and the work per image are bounded before allocating) ------
// Cascade XML: the largest OpenCV ships is 2.7 MB; 64 MB leaves room, refuses junk.
#define HAAR_MAX_XML_BYTES (64u * 1024u * 1024u)
// Window side of a cascade: OpenCV's are 20..64 px; nothing sensible is bigger.
#define HAAR_MAX_WINDOW 1024
// Cascade size: frontalface_default has 25 stages, 2913 trees, 2913 features.
#define HAAR_MAX_STAGES 1000
#define HAAR_MAX_TREES 1000000
#define HAAR_MAX_FEATURES 1000000
#define HAAR_MAX_TREE_NODES 1024
// Pixels per image: the work buffers take ~13 bytes a pixel (17 with tilted features),
// so 40 MP (a large phone photo) costs ~0.5 GB; FH_MAX_IMAGE_SIDE bounds each side.
#define HAAR_MAX_IMAGE_PIXELS (40u * 1000u * 1000u)
// Pyramid levels: scale factor 1.1 gives ~40 for a 1000 px photo; more means a scale
// factor so close to 1 that the scan would never end in practice.
#define HAAR_MAX_SCALES 4096
// Raw window hits before grouping (grouping is quadratic in them); a crowd photo has a
// few thousand.
#define HAAR_MAX_HITS FH_MAX_CANDIDATES
// OpenCV's GROUP_EPS for detectMultiScale.
#define HAAR_GROUP_EPS 0.2

struct haar_cascade;
struct fh_pool;

struct haar_params {
    double scale_factor;   // window growth per scale (OpenCV default 1.1); > 1
    int min_neighbors;     // hits a group needs beyond this to be kept (OpenCV default 3:
                           // groups of >= 4 hits survive); <= 0: raw hits, ungrouped
    int min_size;          // smallest window side in pixels (0: the cascade's own size)
    int max_size;          // largest window side (0: the image)
    struct fh_pool *pool;  // borrowed; NULL (the default): scan on the caller's thread only.
                           // Otherwise the pool's threads take whole pyramid levels, each
                           // thread with its own work buffers (~9 bytes a pixel, 13 with
                           // tilted features, per thread beyond the first). Same output for
                           // any pool size. The pool must not be running another job.
};

struct haar_det {
    int x, y, w, h;        // box in pixels, clipped to the image
    int neighbors;         // raw hits grouped into this detection (OpenCV's rejectLevels
                           // "weights" analogue); the detection score for AP/ROC
    double score;          // ranking score: neighbors plus a tie-breaker in (0,1) from the
                           // mean last-stage margin of the group (higher = more face-like)
};
// The tie-breaker exactly: m = mean over the group's raw hits of (last stage sum - last
// stage threshold) >= 0, tie = 0.5 + 0.5 * m / (1 + m), in [0.5, 1). So score orders by
// neighbors first, then by how clearly the group's windows passed the final stage.

// OpenCV's defaults: {1.1, 3, 0, 0}, no pool.
struct haar_params haar_params_default(void);

// Loads an OpenCV cascade XML (old "opencv-haar-classifier" or new "opencv-cascade-
// classifier" format). FH_E_IO (missing; the message says `apt-get install opencv-data`),
// FH_E_FORMAT (names what is wrong, with the line: not XML, truncated, root element not
// <opencv_storage>, missing stages/features, bad numbers, rectangles outside the window,
// bad tree links), FH_E_UNSUPPORTED (LBP/HOG cascades, tree-shaped old cascades),
// FH_E_LIMIT (file over HAAR_MAX_XML_BYTES, counts over the limits above), FH_E_NOMEM.
// On failure *out is NULL. Frees with haar_free (accepts NULL).
int haar_load(const char *xml_path, struct haar_cascade **out);
void haar_free(struct haar_cascade *c);

// Detects faces in an RGB(A) or grey image (RGB is converted to grey as OpenCV's
// cvtColor(BGR2GRAY) does on the same pixels in BGR order: Y = 0.299R + 0.587G + 0.114B
// in 14-bit fixed point). *out is fh_malloc'd (NULL when n == 0); free with fh_free.
// Boxes come in the order of each group's first hit (scale, then row, then column),
// at most FH_MAX_FACES. FH_E_ARG (NULL, channels not 1/3/4, scale_factor <= 1),
// FH_E_LIMIT (image over HAAR_MAX_IMAGE_PIXELS / FH_MAX_IMAGE_SIDE, too many scales or
// raw hits), FH_E_NOMEM.
int haar_detect(const struct haar_cascade *c, const struct img *im, const struct haar_params *p,
                struct haar_det **out, int *n);

// ---- the two halves of haar_detect, for tests and tools ------------------------------------
// All windows the cascade accepts, before grouping and clipping (OpenCV's
// detectMultiScaleNoGrouping): neighbors = 1, score = the window's last-stage margin.
// p->min_neighbors is ignored. Errors as haar_detect.
int haar_detect_raw(const struct haar_cascade *c, const struct img *im, const struct haar_params *p,
                    struct haar_det **out, int *n);

// OpenCV's groupRectangles(rects, min_neighbors, eps): classes of transitively similar
// boxes (every edge within eps * (min widths + min heights) / 2), averaged (sums times
// float 1/count, rounded half to even), kept when count > min_neighbors, minus boxes
// inside a kept box grown by eps*size that has more support (n2 > max(3, n1) or n1 < 3).
// hits: n raw boxes (borrowed), score = last-stage margin. *out (fh_malloc'd, NULL when
// empty): neighbors = class size, score as in struct haar_det. min_neighbors <= 0 returns
// the hits unchanged (neighbors 1). No clipping. FH_E_ARG, FH_E_NOMEM. O(n^2).
int haar_group(const struct haar_det *hits, int n, int min_neighbors, double eps,
               struct haar_det **out, int *n_out);

#endif
