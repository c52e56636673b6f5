// SPDX-License-Identifier: MIT
// boxf: face boxes in float pixels with a score, as the single-shot detectors (ULFD,
// FaceBoxes) give them, and the greedy NMS they share. No landmarks, no nets.
//
//   struct det_box_f *b = ...;  int k = ...;      // candidates, any order
//   int n = det_boxes_f_nms(b, k, 0.3f, FH_MAX_FACES);  // b[0..n): kept, best first
#ifndef FH_DET_BOXF_H
#define FH_DET_BOXF_H

// a face box in pixels of the image given to the detector (may reach past its edges)
struct det_box_f {
    float x1, y1, x2, y2; // corners, x2 > x1, y2 > y1
    float score;          // face probability 0..1
};

// Intersection over union of two boxes (0 when they do not overlap).
float det_box_f_iou(const struct det_box_f *a, const struct det_box_f *b);
// Sorts b[0..n) best score first (ties by position, so the order never depends on the
// libc's qsort), then keeps greedily each box with a positive area that overlaps no kept
// box by IoU above thresh_nms, at most max_keep; the kept boxes are compacted to the
// front of b in that order. Returns how many were kept.
int det_boxes_f_nms(struct det_box_f *b, int n, float thresh_nms, int max_keep);

#endif
