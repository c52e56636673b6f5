// SPDX-License-Identifier: MIT
// img_resize_region: bilinear, half-pixel centres, exactly the golden definition
// (shared/golden/README.md). The per-column source indices and weights are computed
// once into a table, because the same x0/x1/fx repeat on every output row; this makes
// the MTCNN pyramid of a 1920x1280 photo cheap without changing a single bit.
#include "img/img.h"

#include <math.h>

#include "base/base.h"

// One axis: for each output coordinate, the two source coordinates (absolute, in the
// source image; -1 when outside it, which reads as 0) and the weight of the second.
struct axis { int i0, i1; double f; };

// Fills t[0..n) for output coordinates first..first+n-1 of dn.
static void axis_table(struct axis *t, int first, int n, int dn, int r0, int rn, int src_n) {
    // The ratio is rounded to double first, as the golden generator did: the literal
    // left-to-right (i + 0.5) * rn / dn differs in the last bit often enough to turn
    // 62 of the 78k golden pyramid bytes (v = k + 0.5 +- 1e-13) by one level.
    const double ratio = (double)rn / dn;
    for (int j = 0; j < n; j++) {
        int i = first + j;
        double s = (i + 0.5) * ratio - 0.5;
        if (s < 0) s = 0;
        if (s > rn - 1) s = rn - 1;
        int a = (int)floor(s), b = a + 1 < rn ? a + 1 : rn - 1;
        t[j].f = s - a;
        a += r0, b += r0;
        t[j].i0 = a >= 0 && a < src_n ? a : -1;
        t[j].i1 = b >= 0 && b < src_n ? b : -1;
    }
}

void img_resize_region(const struct img *src, int rx, int ry, int rw, int rh, struct img *dst) {
    img_resize_region_rows(src, rx, ry, rw, rh, dst, 0, dst->h);
}

void img_resize_region_rows(const struct img *src, int rx, int ry, int rw, int rh, struct img *dst, int y0,
                            int y1) {
    FH_ASSERT(rw >= 1 && rh >= 1 && src->c == dst->c && dst->w >= 1 && dst->h >= 1);
    FH_ASSERT(y0 >= 0 && y1 <= dst->h);
    const int c = src->c, dw = dst->w, dh = dst->h;
    static const uint8_t zero[4];
    // Columns go in stripes of COLS so the x table lives on the stack: the function
    // cannot fail (no allocation) and the table stays in L1.
    enum { COLS = 256 };
    struct axis tx[COLS], ty;
    for (int xs = 0; xs < dw; xs += COLS) {
        const int xn = dw - xs < COLS ? dw - xs : COLS;
        axis_table(tx, xs, xn, dw, rx, rw, src->w);
        for (int y = y0; y < y1; y++) {
            axis_table(&ty, y, 1, dh, ry, rh, src->h);
            const uint8_t *r0 = ty.i0 < 0 ? NULL : src->data + (size_t)ty.i0 * src->stride;
            const uint8_t *r1 = ty.i1 < 0 ? NULL : src->data + (size_t)ty.i1 * src->stride;
            const double fy = ty.f;
            uint8_t *out = dst->data + (size_t)y * dst->stride + (size_t)xs * c;
            for (int x = 0; x < xn; x++) {
                const int x0 = tx[x].i0, x1 = tx[x].i1;
                const double fx = tx[x].f;
                const uint8_t *p00 = r0 && x0 >= 0 ? r0 + (size_t)x0 * c : zero;
                const uint8_t *p01 = r0 && x1 >= 0 ? r0 + (size_t)x1 * c : zero;
                const uint8_t *p10 = r1 && x0 >= 0 ? r1 + (size_t)x0 * c : zero;
                const uint8_t *p11 = r1 && x1 >= 0 ? r1 + (size_t)x1 * c : zero;
                for (int k = 0; k < c; k++) {
                    double v = (1 - fy) * ((1 - fx) * p00[k] + fx * p01[k]) +
                               fy * ((1 - fx) * p10[k] + fx * p11[k]);
                    out[x * c + k] = (uint8_t)floor(v + 0.5);
                }
            }
        }
    }
}
