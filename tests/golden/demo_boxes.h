// SPDX-License-Identifier: MIT
// Shared by the single-shot detector goldens (test_ulfd, test_faceboxes): run a detector on
// the six demo photos (3-5 people each) and check its boxes: inside the image (with a
// margin), sorted by score, the number of confident ones in a range.
#ifndef FH_TEST_DEMO_BOXES_H
#define FH_TEST_DEMO_BOXES_H
#include <string.h>

#include "base/base.h"
#include "detect/boxf.h"
#include "harness.h"
#include "img/img.h"

// detect(ctx, image, OUT boxes (fh_malloc'd), OUT n): the detector under test
typedef int (*demo_detect_fn)(void *ctx, const struct img *im, struct det_box_f **b, int *n);

// 1 if an empty image gives FH_E_ARG and no boxes, and on every demo photo the call succeeds, boxes lie within `margin` (a fraction of the
// image side) of the image, come sorted by score, and min_strong..max_strong of them score
// >= 0.9; counts gets "strong/all" per photo
static int demo_boxes_check(demo_detect_fn detect, void *ctx, float margin, int min_strong, int max_strong,
                            char *counts, size_t cap) {
    struct det_box_f *b;
    int n = -1, ok = detect(ctx, &(struct img){0}, &b, &n) == FH_E_ARG && n == 0;
    counts[0] = 0;
    for (int i = 1; i <= 6; i++) {
        char path[256];
        struct img im;
        snprintf(path, sizeof path, FH_MODELS "/samples/sample%d.jpg", i);
        if (img_decode_file(path, &im)) return 0;
        int strong = 0, rc = detect(ctx, &im, &b, &n);
        for (int k = 0; !rc && k < n; k++) {
            strong += b[k].score >= 0.9f;
            if (b[k].x1 < -margin * im.w || b[k].x2 > (1 + margin) * im.w || b[k].y1 < -margin * im.h ||
                b[k].y2 > (1 + margin) * im.h || b[k].y2 <= b[k].y1 || (k && b[k].score > b[k - 1].score))
                ok = 0;
        }
        ok &= rc == FH_OK && strong >= min_strong && strong <= max_strong;
        snprintf(counts + strlen(counts), cap - strlen(counts), "%s%d/%d", i > 1 ? " " : "", strong, n);
        if (!rc) fh_free(b);
        img_free(&im);
    }
    return ok;
}
#endif
