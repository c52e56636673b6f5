// SPDX-License-Identifier: MIT
// eval_det: face detection metrics. Pure functions over boxes and scores (no images, no
// networks, no files except the WIDER .mat reader at the end), unit-tested on hand-made
// cases. Two protocols:
//   * WIDER FACE, exactly as the official MATLAB eval_tools (wider_eval.m, evaluation.m):
//     per image the detections are sorted by score, descending; the +1-pixel box
//     convention; IoU >= 0.5 with the best-overlapping ground truth; faces outside the
//     level's gt_list are ignore regions; scores min-max normalised over all detections
//     of all images; 1000 thresholds; VOC AP with the max-precision envelope (VOCap).
//   * A whole-set VOC protocol (CMU+MIT): detections in score order over the set, each
//     matched to its best-IoU face of the same image, each face matched at most once;
//     VOC AP and the classic ROC (detection rate against the number of false positives).
//   * The landmark criterion of the original CMU+MIT papers (Rowley et al., Viola-Jones),
//     independent of a detector's box style: a detection is correct for a face when its
//     box contains both eyes and the mouth centre and its size is within a fixed factor
//     range of the face's landmark scale; same whole-set ranking, AP and ROC.
//
//   struct eval_wider_image im[N];   // per image: det, gt (eval_box_xywh), keep indices
//   double ap;
//   if (eval_wider_ap(im, N, &ap)) puts(fh_errmsg());
//
//   int *order; char *tp; double ap;
//   eval_set_match(det, nd, gt, ng, 0.5, order, tp);   // order/tp: caller's nd-arrays
//   ap = eval_set_ap(tp, nd, ng);
//
// Thread safety: all functions are reentrant.
#ifndef FH_EVAL_DET_H
#define FH_EVAL_DET_H

#include <stddef.h>

// A box with inclusive pixel corners (x2 >= x1, y2 >= y1): it covers x2-x1+1 columns.
// `score` is used for detections only; `image` indexes the image it belongs to (whole-
// set protocols only).
struct eval_box {
    double x1, y1, x2, y2;
    double score;
    int image;
};

// IoU with the +1-pixel convention of the official WIDER and VOC code:
// w = min(x2) - max(x1) + 1, area = (x2-x1+1)(y2-y1+1); 0 when the boxes do not overlap.
double eval_iou(const struct eval_box *a, const struct eval_box *b);

// The official WIDER box from a "x y w h" line (ground truth or a result file):
// x2 = x + w, y2 = y + h (sic: the official code adds w, not w-1, to both gt and
// detections, and then applies the +1 convention). A detector's inclusive box (x1..x2)
// is written as w = x2 - x1 + 1 and so becomes (x1, y1, x2+1, y2+1).
struct eval_box eval_box_xywh(double x, double y, double w, double h, double score);

// ---- WIDER FACE (official protocol) --------------------------------------------------
#define EVAL_WIDER_THRESHOLDS 1000 // thresh_num in evaluation.m
#define EVAL_WIDER_IOU 0.5         // IoU_thresh in evaluation.m

// One val image as the official evaluation sees it. All borrowed.
struct eval_wider_image {
    const struct eval_box *det; // n_det detections, any order, raw scores (eval_box_xywh)
    int n_det;
    const struct eval_box *gt;  // n_gt faces of face_bbx_list (eval_box_xywh)
    int n_gt;
    const int *keep;            // 1-based indices into gt of the faces that count for this
    int n_keep;                 // level (the .mat gt_list); the other faces are ignored
};

// image_evaluation.m on one image. det: nd detections in the order given (the official
// pipeline sorts them by score first); gt: ng faces; counted[ng]: 1 = counts, 0 = ignore
// region. Each detection takes its best-IoU face (first on ties); if IoU >= thresh and
// that face is ignored, the detection is not a proposal; if the face counts and is not
// yet matched it becomes matched (an already matched face leaves it a false positive).
// OUT: proposal[nd] (1 = counts as a proposal, 0 = matched an ignore region),
// recall[nd] (counted faces matched by detections 0..h). FH_OK or FH_E_NOMEM.
int eval_wider_match(const struct eval_box *det, int nd, const struct eval_box *gt, int ng,
                     const char *counted, double thresh, char *proposal, int *recall);

// image_pr_info.m, accumulated: for t = 1..n_thresh, thr = 1 - t/n_thresh, r = the LAST
// index whose score >= thr (the prefix when scores are sorted descending); adds the
// number of proposals among detections 0..r to props[t-1] and recall[r] to tps[t-1].
// score: the nd normalised scores in the order eval_wider_match saw. FH_OK or FH_E_NOMEM.
int eval_wider_image_pr(const double *score, int nd, const char *proposal, const int *recall,
                        int n_thresh, double *props, double *tps);

// VOCap: the area under the precision/recall curve with the max-precision envelope.
// rec, prec: n points in curve order (recall nondecreasing). mrec = [0 rec 1],
// mpre = [0 prec 0], mpre[i] = max(mpre[i], mpre[i+1]) backwards (NaN precision, from
// 0/0, loses against any number, as MATLAB's max), then the sum of
// (mrec[i]-mrec[i-1]) * mpre[i] where the recall changes.
double eval_voc_ap(const double *rec, const double *prec, int n);

// The whole official computation for one level: sorts each image's detections by score
// (descending, stable), normalises all scores by the global min and max (all 1 if they
// are equal), runs eval_wider_match and eval_wider_image_pr on every image with both
// faces and detections, counts every keep index as a face (count_face), turns the sums
// into precision = tp/props and recall = tp/count_face at each threshold and returns
// VOCap. pr_rec, pr_prec: optional OUT arrays of EVAL_WIDER_THRESHOLDS (may be NULL).
// FH_OK, FH_E_ARG (a keep index out of range), FH_E_NOMEM.
int eval_wider_ap(const struct eval_wider_image *im, int n, double *ap, double *pr_rec,
                  double *pr_prec);

// ---- whole-set protocol (CMU+MIT; VOC rules) ------------------------------------------
// Sorts the nd detections by score (descending, stable: ties keep their input order)
// and matches them in that order: each takes the face of the same image (gt[].image)
// with the highest IoU (first on ties); IoU >= thresh and the face not yet taken: true
// positive, and the face is taken; otherwise a false positive. Each face counts once.
// OUT: order[nd] (the input index of the k-th detection in score order), tp[nd] (1/0
// per rank k). FH_OK or FH_E_NOMEM.
int eval_set_match(const struct eval_box *det, int nd, const struct eval_box *gt, int ng,
                   double thresh, int *order, char *tp);

// VOC AP of ranked results: rec_k = TP_k / n_gt, prec_k = TP_k / k, then VOCap as
// eval_voc_ap. 0 when n_gt == 0.
double eval_set_ap(const char *tp, int nd, int n_gt);

// The ROC of a threshold sweep: detections taken in rank order, one point at the end of
// each run of equal scores (a threshold cannot split a tie), plus (0, 0) first.
// score: ranked scores (descending), tp: eval_set_match's. OUT: fp[nd+1] false positives
// and rate[nd+1] detection rate (TP / n_gt; 0 if n_gt == 0) per point; returns the
// number of points (>= 1).
int eval_roc(const double *score, const char *tp, int nd, int n_gt, int *fp, double *rate);

// The detection rate at most max_fp false positives allow: the rate of the last ROC
// point with fp <= max_fp (rates never fall along the curve).
double eval_roc_rate_at(const int *fp, const double *rate, int n, int max_fp);

// ---- landmark criterion (CMU+MIT, as Rowley et al. and Viola-Jones scored it) ---------
// A face by its points (pixels; CMU+MIT ground_truth_landmarks.txt also gives the nose and
// the mouth corners, which the criterion does not use).
struct eval_face_pts {
    double eye_l[2], eye_r[2]; // x, y of the two eye centres (either order)
    double mouth[2];           // x, y of the mouth centre
    int image;                 // as eval_box.image
};

// The size window, in units of eval_pts_scale. Chosen to hold both box styles of the
// CMU+MIT ground truth with a margin: over the 511 faces, sqrt(w*h) / scale is 2.27-3.82
// for Hays' loose boxes and 1.30-2.25 for the tight (face_only) ones. Below 1 a box
// cannot hold a frontal face's eyes and mouth with any margin; above 4 it is mostly
// background (such a box has IoU <= ~0.56 with the loose box of the face it contains).
#define EVAL_PTS_SIZE_MIN 1.0
#define EVAL_PTS_SIZE_MAX 4.0

// A face's landmark scale: max(eye distance, distance from the eyes' midpoint to the
// mouth centre), so that both a turned head (short eye distance) and a tilted one count.
double eval_pts_scale(const struct eval_face_pts *f);

// 1 when detection d (inclusive pixel box; its image is not checked) is correct for face f:
// x1 <= x <= x2 and y1 <= y <= y2 for both eyes and the mouth centre, and the box side
// sqrt(w * h), w = x2 - x1 + 1, h = y2 - y1 + 1, is within [EVAL_PTS_SIZE_MIN,
// EVAL_PTS_SIZE_MAX] x eval_pts_scale(f), bounds included. 0 otherwise.
int eval_pts_hit(const struct eval_box *d, const struct eval_face_pts *f);

// The whole-set matching for the landmark criterion: sorts the nd detections by score
// (descending, stable, as eval_set_match) and takes them greedily in that order; each
// takes, among the faces of its image it is correct for (eval_pts_hit) that no earlier
// detection took, the one whose landmark centre (mean of eyes and mouth) is nearest to
// the box centre (first on ties): a true positive. No such face: a false positive (a
// second detection of a taken face, or one correct for no face). Each face counts once.
// OUT: order[nd], tp[nd] as eval_set_match (feed eval_set_ap and eval_roc).
// FH_OK or FH_E_NOMEM.
int eval_pts_match(const struct eval_box *det, int nd, const struct eval_face_pts *gt, int ng, int *order,
                   char *tp);

// ---- WIDER ground-truth .mat files (official eval_tools/ground_truth, via libmatio) ----
// One image of a .mat file: event name, file name (no .jpg), faces as x, y, w, h, and
// the level's gt_list (1-based face indices; NULL/0 for wider_face_val.mat).
struct eval_wider_gt_image {
    char event[64];
    char file[128];
    int *xywh;  // n_face x 4
    int n_face;
    int *keep;  // n_keep
    int n_keep;
};

// Reads event_list, file_list, face_bbx_list and (if want_keep) gt_list of a WIDER
// ground-truth .mat. If events is non-NULL only images of those n_events event names
// are kept. *out is allocated (free with eval_wider_gt_free).
// FH_OK, FH_E_IO (cannot open), FH_E_FORMAT (a variable missing or of the wrong shape,
// named), FH_E_NOMEM.
int eval_wider_gt_read(const char *path, int want_keep, const char *const *events,
                       int n_events, struct eval_wider_gt_image **out, int *n);
void eval_wider_gt_free(struct eval_wider_gt_image *im, int n);

#endif
