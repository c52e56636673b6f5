// SPDX-License-Identifier: MIT
// Float face boxes: IoU and greedy NMS (boxf.h).
#include <math.h>
#include <stdlib.h>

#include "detect/boxf.h"

static int by_score(const void *a, const void *b) {
    const struct det_box_f *p = a, *q = b;
    if (p->score != q->score) return p->score > q->score ? -1 : 1;
    if (p->y1 != q->y1) return p->y1 < q->y1 ? -1 : 1;
    return p->x1 < q->x1 ? -1 : p->x1 > q->x1;
}

float det_box_f_iou(const struct det_box_f *a, const struct det_box_f *b) {
    float w = fminf(a->x2, b->x2) - fmaxf(a->x1, b->x1), h = fminf(a->y2, b->y2) - fmaxf(a->y1, b->y1);
    if (w <= 0 || h <= 0) return 0;
    float inter = w * h, u = (a->x2 - a->x1) * (a->y2 - a->y1) + (b->x2 - b->x1) * (b->y2 - b->y1) - inter;
    return u > 0 ? inter / u : 0;
}

int det_boxes_f_nms(struct det_box_f *b, int n, float thresh_nms, int max_keep) {
    qsort(b, (size_t)n, sizeof *b, by_score);
    int kept = 0;
    for (int i = 0; i < n && kept < max_keep; i++) {
        int ok = b[i].x2 > b[i].x1 && b[i].y2 > b[i].y1;
        for (int j = 0; j < kept && ok; j++) ok = det_box_f_iou(&b[i], &b[j]) <= thresh_nms;
        if (ok) b[kept++] = b[i];
    }
    return kept;
}
