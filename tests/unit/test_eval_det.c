// SPDX-License-Identifier: MIT
// Detection metrics (eval/eval_det.h) on tiny hand-made cases whose answers were
// worked out by hand (the comments show the arithmetic).
#include <math.h>
#include <string.h>

#include "base/base.h"
#include "eval/eval_det.h"
#include "harness.h"

static int near(double a, double b) { return fabs(a - b) < 1e-9; }

static struct eval_box box(double x1, double y1, double x2, double y2, double score, int image) {
    return (struct eval_box){x1, y1, x2, y2, score, image};
}

static void test_iou(void) {
    struct eval_box a = box(0, 0, 9, 9, 0, 0); // 10 x 10 pixels
    struct eval_box b = box(5, 0, 14, 9, 0, 0);
    // inter (9-5+1) x 10 = 50, union 100 + 100 - 50 = 150
    TEST_COND("iou: half-shifted 10x10 boxes = 1/3 (+1 convention)", near(eval_iou(&a, &b), 50.0 / 150));
    struct eval_box c = box(10, 0, 19, 9, 0, 0);
    TEST_COND("iou: adjacent boxes do not overlap", eval_iou(&a, &c) == 0);
    struct eval_box d = box(9, 9, 18, 18, 0, 0);
    TEST_COND("iou: one shared pixel = 1/199", near(eval_iou(&a, &d), 1.0 / 199));
    TEST_COND("iou: symmetric", near(eval_iou(&b, &a), eval_iou(&a, &b)));
    struct eval_box e = eval_box_xywh(10, 20, 5, 6, 0.5);
    TEST_COND("xywh: official x2 = x + w, y2 = y + h",
              e.x1 == 10 && e.y1 == 20 && e.x2 == 15 && e.y2 == 26 && e.score == 0.5);
}

static void test_wider_match(void) {
    // faces: G0 counted, G1 ignore region, G2 counted
    struct eval_box gt[3] = {box(0, 0, 9, 9, 0, 0), box(100, 0, 109, 9, 0, 0), box(200, 0, 209, 9, 0, 0)};
    char counted[3] = {1, 0, 1};
    struct eval_box det[6] = {
        box(0, 0, 9, 9, 0.9, 0),     // G0: true positive
        box(100, 0, 109, 9, 0.8, 0), // G1: ignore region, not a proposal
        box(1, 0, 10, 9, 0.7, 0),    // G0 again: false positive
        box(500, 0, 509, 9, 0.6, 0), // nothing: false positive
        box(200, 0, 209, 9, 0.5, 0), // G2: true positive
        box(101, 0, 110, 9, 0.4, 0), // G1 again: still ignored
    };
    char prop[6];
    int rec[6];
    int rc = eval_wider_match(det, 6, gt, 3, counted, 0.5, prop, rec);
    const char prop_want[6] = {1, 0, 1, 1, 1, 0};
    const int rec_want[6] = {1, 1, 1, 1, 2, 2};
    TEST_COND("wider match: ignore regions are not proposals, duplicates are",
              !rc && !memcmp(prop, prop_want, sizeof prop));
    TEST_COND("wider match: recall counts each counted face once", !memcmp(rec, rec_want, sizeof rec));
    // a detection at IoU just under 0.5 with a counted face is a plain false positive
    struct eval_box off = box(5, 0, 14, 9, 1, 0); // IoU 1/3 with G0
    eval_wider_match(&off, 1, gt, 3, counted, 0.5, prop, rec);
    TEST_COND("wider match: IoU 1/3 < 0.5 is a false positive", prop[0] == 1 && rec[0] == 0);
}

static void test_voc_ap(void) {
    // rec .5 .5 1, prec 1 .5 2/3: the recall changes at points 1 and 3:
    // .5 * 1 + .5 * (2/3) = 5/6
    double r1[3] = {0.5, 0.5, 1}, p1[3] = {1, 0.5, 2.0 / 3};
    TEST_COND("VOCap: 3 points = 5/6", near(eval_voc_ap(r1, p1, 3), 5.0 / 6));
    // rec .5 .5 1, prec .5 ... : the envelope lifts the first step to max(.5, 2/3)
    double r2[3] = {0.5, 0.5, 1}, p2[3] = {0.5, 0.5, 2.0 / 3};
    TEST_COND("VOCap: the max-precision envelope = 2/3 (not 7/12)", near(eval_voc_ap(r2, p2, 3), 2.0 / 3));
    // NaN precision (0/0 where nothing passes the threshold) loses against numbers
    double r3[3] = {0, 0.5, 1}, p3[3] = {NAN, 1, 0.5};
    TEST_COND("VOCap: NaN precision ignored as MATLAB max does = 3/4", near(eval_voc_ap(r3, p3, 3), 0.75));
}

static void test_wider_ap(void) {
    // one image, 2 counted faces; detections FP 0.9, TP 0.8, TP 0.7 -> normalised 1, .5, 0.
    // t < 500 (thr > .5): 1 proposal, 0 tp -> prec 0, rec 0
    // 500 <= t < 1000 (0 < thr <= .5): 2 proposals, 1 tp -> prec .5, rec .5
    // t = 1000 (thr 0): 3 proposals, 2 tp -> prec 2/3, rec 1
    // VOCap: .5 * max(.5, 2/3) + .5 * 2/3 = 2/3 (without the envelope 7/12)
    struct eval_box gt[2] = {eval_box_xywh(0, 0, 9, 9, 0), eval_box_xywh(100, 0, 9, 9, 0)};
    int keep[2] = {1, 2};
    struct eval_box det[3] = {eval_box_xywh(300, 0, 9, 9, 0.9), eval_box_xywh(0, 0, 9, 9, 0.8),
                              eval_box_xywh(100, 0, 9, 9, 0.7)};
    struct eval_wider_image im = {det, 3, gt, 2, keep, 2};
    double ap = -1, rec[EVAL_WIDER_THRESHOLDS], prec[EVAL_WIDER_THRESHOLDS];
    int rc = eval_wider_ap(&im, 1, &ap, rec, prec);
    TEST_COND("wider AP: 3 detections by hand = 2/3", !rc && near(ap, 2.0 / 3));
    TEST_COND("wider PR: thresholds 1 and 499 -> prec 0, rec 0", prec[0] == 0 && rec[498] == 0);
    TEST_COND("wider PR: threshold 500 -> prec .5, rec .5", near(prec[499], 0.5) && near(rec[499], 0.5));
    TEST_COND("wider PR: threshold 1000 -> prec 2/3, rec 1", near(prec[999], 2.0 / 3) && near(rec[999], 1));

    // the second face an ignore region: its detection (0.7) is not a proposal, 1 face counts.
    // t < 500: 1 proposal, 0 tp; t >= 500: 2 proposals, 1 tp -> prec .5, rec 1: AP = 1 * .5
    int keep1[1] = {1};
    im.keep = keep1, im.n_keep = 1;
    rc = eval_wider_ap(&im, 1, &ap, NULL, NULL);
    TEST_COND("wider AP: ignore region neither TP nor FP = 1/2", !rc && near(ap, 0.5));

    // a second image with a face and no detections still counts its face
    struct eval_box gt2[1] = {eval_box_xywh(0, 0, 9, 9, 0)};
    struct eval_wider_image two[2] = {{det, 3, gt, 2, keep, 2}, {NULL, 0, gt2, 1, keep1, 1}};
    rc = eval_wider_ap(two, 2, &ap, NULL, NULL);
    // 3 faces: rec 1/3 at t = 500 (prec .5, envelope 2/3), rec 2/3 at t = 1000 (prec 2/3):
    // 1/3 * 2/3 + 1/3 * 2/3 = 4/9
    TEST_COND("wider AP: an image without detections still counts its faces = 4/9", !rc && near(ap, 4.0 / 9));

    int bad[1] = {3};
    struct eval_wider_image b = {det, 3, gt, 2, bad, 1};
    TEST_COND("wider AP: a keep index past the faces is FH_E_ARG", eval_wider_ap(&b, 1, &ap, NULL, NULL) == FH_E_ARG);
}

static void test_wider_sorts(void) {
    // 2 faces; TP 0.9, TP 0.8, FP 0.7. Sorted (the official read_pred.m): t < 500 -> prec 1
    // rec .5; t >= 500 -> prec 1 rec 1: AP = 1.
    // Given unsorted as FP, TP(.9), TP(.8) without sorting, image_pr_info takes the LAST
    // index with score >= thr: thr > .5 -> index 1: 2 proposals, 1 tp (prec .5, rec .5);
    // thr <= .5 -> index 2: prec 2/3, rec 1: AP = .5 * 2/3 + .5 * 2/3 = 2/3 < 1.
    struct eval_box gt[2] = {eval_box_xywh(0, 0, 9, 9, 0), eval_box_xywh(100, 0, 9, 9, 0)};
    int keep[2] = {1, 2};
    struct eval_box det[3] = {eval_box_xywh(300, 0, 9, 9, 0.7), eval_box_xywh(0, 0, 9, 9, 0.9),
                              eval_box_xywh(100, 0, 9, 9, 0.8)};
    struct eval_wider_image im = {det, 3, gt, 2, keep, 2};
    double ap = -1;
    int rc = eval_wider_ap(&im, 1, &ap, NULL, NULL);
    TEST_COND("wider AP sorts by score first: unsorted input still = 1", !rc && near(ap, 1));

    char counted[2] = {1, 1}, prop[3];
    int rec[3];
    double score[3] = {0, 1, 0.5}; // normalised .7 .9 .8
    double props[EVAL_WIDER_THRESHOLDS] = {0}, tps[EVAL_WIDER_THRESHOLDS] = {0};
    double r[EVAL_WIDER_THRESHOLDS], p[EVAL_WIDER_THRESHOLDS];
    eval_wider_match(det, 3, gt, 2, counted, 0.5, prop, rec);
    eval_wider_image_pr(score, 3, prop, rec, EVAL_WIDER_THRESHOLDS, props, tps);
    for (int t = 0; t < EVAL_WIDER_THRESHOLDS; t++) p[t] = tps[t] / props[t], r[t] = tps[t] / 2;
    double unsorted = eval_voc_ap(r, p, EVAL_WIDER_THRESHOLDS);
    TEST_COND("wider AP without the sort (as a Python port) = 2/3, lower", near(unsorted, 2.0 / 3));
}

static void test_set_protocol(void) {
    // image 0: faces F0 F1 F2; image 1: face F3
    struct eval_box gt[4] = {box(0, 0, 9, 9, 0, 0), box(100, 0, 109, 9, 0, 0), box(200, 0, 209, 9, 0, 0),
                             box(0, 0, 9, 9, 0, 1)};
    struct eval_box det[6] = {
        box(0, 0, 9, 9, 0.6, 1),     // F3 (image 1): TP (not F0: other image)
        box(0, 0, 9, 9, 0.9, 0),     // F0: TP
        box(1, 1, 10, 10, 0.8, 0),   // F0 again: FP (each face once)
        box(100, 0, 109, 9, 0.8, 0), // F1: TP (tie with the one above, after it)
        box(500, 0, 509, 9, 0.7, 0), // FP
        box(300, 0, 309, 9, 0.5, 1), // FP
    };
    int order[6];
    char tp[6];
    int rc = eval_set_match(det, 6, gt, 4, 0.5, order, tp);
    const int order_want[6] = {1, 2, 3, 4, 0, 5};
    const char tp_want[6] = {1, 0, 1, 0, 1, 0};
    TEST_COND("set match: score order over the set, ties stable", !rc && !memcmp(order, order_want, sizeof order));
    TEST_COND("set match: each face matched at most once, per image", !memcmp(tp, tp_want, sizeof tp));
    // ranks T F T F T F, 4 faces: prec 1 .5 2/3 .5 3/5 .5; recall steps of 1/4 at ranks 1 3 5
    // envelope: rank1 1, rank3 2/3, rank5 3/5 -> AP = (1 + 2/3 + 3/5) / 4 = 17/30
    TEST_COND("set AP by hand = 17/30", near(eval_set_ap(tp, 6, 4), 17.0 / 30));
    const char tp2[3] = {0, 1, 1}; // prec 0 .5 2/3, envelope 2/3 at both steps of 1/2
    TEST_COND("set AP with the envelope = 2/3", near(eval_set_ap(tp2, 3, 2), 2.0 / 3));

    // ROC: scores .9 .8 .8 .7 .6 .5 with T F T F T F, 4 faces; the tie at .8 is one step
    double score[6];
    for (int k = 0; k < 6; k++) score[k] = det[order[k]].score;
    int fp[7];
    double dr[7];
    int n = eval_roc(score, tp, 6, 4, fp, dr);
    const int fp_want[6] = {0, 0, 1, 2, 2, 3};
    const double dr_want[6] = {0, 0.25, 0.5, 0.5, 0.75, 0.75};
    int ok = n == 6;
    for (int i = 0; ok && i < n; i++) ok = fp[i] == fp_want[i] && near(dr[i], dr_want[i]);
    TEST_COND("ROC: one point per score step, ties not split", ok);
    TEST_COND("ROC: detection rate at 0 / 1 / 2 / 100 false positives",
              near(eval_roc_rate_at(fp, dr, n, 0), 0.25) && near(eval_roc_rate_at(fp, dr, n, 1), 0.5) &&
                  near(eval_roc_rate_at(fp, dr, n, 2), 0.75) && near(eval_roc_rate_at(fp, dr, n, 100), 0.75));
}

static struct eval_face_pts face(double lx, double ly, double rx, double ry, double mx, double my, int image) {
    return (struct eval_face_pts){{lx, ly}, {rx, ry}, {mx, my}, image};
}

static void test_pts_hit(void) {
    // eyes (40,40) (60,40), mouth (50,60): eye distance 20, eye midpoint to mouth 20
    struct eval_face_pts f = face(40, 40, 60, 40, 50, 60, 0);
    TEST_COND("pts scale: max(eye distance 20, midpoint-mouth 20) = 20", near(eval_pts_scale(&f), 20));
    struct eval_face_pts tall = face(0, 0, 10, 0, 5, 30, 0);
    TEST_COND("pts scale: a long face is scaled by its midpoint-mouth distance (30)", near(eval_pts_scale(&tall), 30));
    struct eval_face_pts swapped = face(60, 40, 40, 40, 50, 60, 0);
    TEST_COND("pts scale: the eye order does not matter", near(eval_pts_scale(&swapped), 20));
    // the size window for scale 20: box side sqrt(w h) in [20, 80]
    struct eval_box ok = box(30, 30, 69, 69, 1, 0); // 40 x 40
    TEST_COND("pts hit: eyes and mouth inside, side 40 = 2x scale", eval_pts_hit(&ok, &f) && eval_pts_hit(&ok, &swapped));
    struct eval_box b = box(41, 30, 80, 69, 1, 0);
    TEST_COND("pts miss: left eye (x 40) outside x1 = 41", !eval_pts_hit(&b, &f));
    b = box(21, 30, 59, 69, 1, 0);
    TEST_COND("pts miss: right eye (x 60) outside x2 = 59", !eval_pts_hit(&b, &f));
    b = box(30, 41, 69, 80, 1, 0);
    TEST_COND("pts miss: both eyes (y 40) above y1 = 41", !eval_pts_hit(&b, &f));
    b = box(30, 30, 69, 59, 1, 0);
    TEST_COND("pts miss: mouth (y 60) below y2 = 59", !eval_pts_hit(&b, &f));
    b = box(40, 40, 60, 60, 1, 0); // the points on its border, 21 x 21
    TEST_COND("pts hit: the box border counts as inside (inclusive corners)", eval_pts_hit(&b, &f));
    // eyes (40,40) (60,40), mouth (50,45): scale 20 from the eyes; a 21 x 9 strip holds
    // all three points but its side sqrt(189) = 13.7 < 20
    struct eval_face_pts flat = face(40, 40, 60, 40, 50, 45, 0);
    b = box(40, 38, 60, 46, 1, 0);
    TEST_COND("pts miss: too small (side 13.7 < 1 x scale 20)", !eval_pts_hit(&b, &flat));
    b = box(10, 10, 89, 89, 1, 0); // 80 x 80
    TEST_COND("pts hit: side 80 = 4 x scale (bound included)", eval_pts_hit(&b, &f));
    b = box(10, 10, 90, 90, 1, 0); // 81 x 81
    TEST_COND("pts miss: too large (side 81 > 4 x scale 20)", !eval_pts_hit(&b, &f));
}

static void test_pts_match(void) {
    // image 0: A (eyes 40..60) and B (eyes 70..90) side by side; image 1: C = A's points
    struct eval_face_pts gt[3] = {face(40, 40, 60, 40, 50, 60, 0), face(70, 40, 90, 40, 80, 60, 0),
                                  face(40, 40, 60, 40, 50, 60, 1)};
    struct eval_box det[6] = {
        box(30, 30, 69, 69, 0.9, 0),  // A: TP
        box(32, 30, 71, 69, 0.8, 0),  // correct for A only (B's right eye at 90 > 71): taken, FP
        box(35, 30, 94, 69, 0.85, 0), // correct for A and B (side 49); A taken -> B: TP
        box(35, 30, 94, 69, 0.7, 0),  // the same box again: both taken, FP
        box(30, 30, 69, 69, 0.6, 1),  // C on image 1 (not A: other image): TP
        box(10, 10, 90, 90, 0.5, 1),  // holds C but side 81 > 4 x 20: FP
    };
    int order[6];
    char tp[6];
    int rc = eval_pts_match(det, 6, gt, 3, order, tp);
    const int order_want[6] = {0, 2, 1, 3, 4, 5};
    const char tp_want[6] = {1, 1, 0, 0, 1, 0};
    TEST_COND("pts match: score order over the set", !rc && !memcmp(order, order_want, sizeof order));
    TEST_COND("pts match: each face once, per image, an untaken face it is correct for wins",
              !memcmp(tp, tp_want, sizeof tp));
    // the wide box first: centre (64.5, 49.5) is nearer A's landmark centre (50, 46.7) than
    // B's (80, 46.7), so it takes A; then a box on B alone is a TP and one on A alone a FP
    struct eval_box det2[3] = {box(35, 30, 94, 69, 0.9, 0), box(65, 30, 94, 69, 0.8, 0), box(30, 30, 69, 69, 0.7, 0)};
    char tp2[3];
    rc = eval_pts_match(det2, 3, gt, 3, order, tp2);
    TEST_COND("pts match: of two untaken faces the nearest landmark centre is taken",
              !rc && tp2[0] == 1 && tp2[1] == 1 && tp2[2] == 0);
    // AP and ROC are the shared whole-set ones: T T F F T F, 3 faces -> steps at ranks 1 2 5
    // with envelope 1, 1, 3/5: AP = (1 + 1 + 3/5) / 3 = 13/15
    TEST_COND("pts AP by hand = 13/15", near(eval_set_ap(tp, 6, 3), 13.0 / 15));
    rc = eval_pts_match(det, 0, gt, 3, order, tp);
    TEST_COND("pts match: no detections is fine", !rc);
}

int main(void) {
    test_iou();
    test_wider_match();
    test_voc_ap();
    test_wider_ap();
    test_wider_sorts();
    test_set_protocol();
    test_pts_hit();
    test_pts_match();
    return TEST_REPORT();
}
