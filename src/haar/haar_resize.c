// SPDX-License-Identifier: MIT
// The image pyramid's resize: OpenCV 4.6's cv::resize(INTER_LINEAR_EXACT) on 8-bit grey
// images, bit for bit. CascadeClassifier builds its pyramid with this "bit-exact" linear
// variant (not plain INTER_LINEAR, whose SIMD rounding differs), and hits near a stage
// threshold flip on a single grey level, so the exact arithmetic matters:
//   source position  f = s*(d + 0.5) - 0.5 in double, s = 1 / (dst_size / src_size);
//   taps i = floor(f), i+1, weights w1 = round_half_even((f - i) * 256), w0 = 256 - w1;
//   horizontal       h = w0*src[i] + w1*src[i+1]            (8 fraction bits, exact)
//   vertical         out = (w0*h[i] + w1*h[i+1] + 2^15) >> 16;
// positions left of 0 / right of size-1 copy the edge pixel (row: (h + 128) >> 8).
// Equal sizes copy; OpenCV's exact-2x INTER_AREA shortcut gives the same numbers.
#include <math.h>
#include <string.h>

#include "base/base.h"
#include "haar/haar_int.h"

#define FRAC_BITS 8
#define ONE (1 << FRAC_BITS)

// Per output coordinate: first tap and weights; *lo / *hi: the output range [lo, hi)
// that interpolates, below lo the first source pixel, from hi on the last one.
static void coeffs(int src, int dst, int *ofs, uint16_t *w, int *lo, int *hi) {
    double inv = (double)dst / src;   // cv::resize derives the scale from the sizes
    double scale = 1.0 / inv;
    *lo = 0, *hi = dst;
    for (int d = 0; d < dst; d++) {
        double f = scale * ((double)d + 0.5) - 0.5;
        int i = (int)floor(f);
        ofs[d] = 0, w[2 * d] = ONE, w[2 * d + 1] = 0;
        if (i >= 0 && src > 1) {
            if (i < src - 1) {
                uint16_t w1 = (uint16_t)lrint((f - i) * ONE);
                ofs[d] = i, w[2 * d] = (uint16_t)(ONE - w1), w[2 * d + 1] = w1;
            } else {
                ofs[d] = src - 1;
                if (d < *hi) *hi = d;
            }
        } else if (d + 1 > *lo) {
            *lo = d + 1;
        }
    }
    if (*lo > *hi) *lo = *hi;   // only when src == 1: everything copies the one pixel
}

// One source row into 8-fraction-bit values.
static void hline(const uint8_t *s, int sw, const int *ofs, const uint16_t *w, int lo, int hi, int dw,
                  uint32_t *h) {
    int d = 0;
    for (; d < lo; d++) h[d] = (uint32_t)s[0] << FRAC_BITS;
    for (; d < hi; d++) h[d] = w[2 * d] * s[ofs[d]] + w[2 * d + 1] * s[ofs[d] + 1];
    for (; d < dw; d++) h[d] = (uint32_t)s[sw - 1] << FRAC_BITS;
}

int haar_resize(const uint8_t *src, int sw, int sh, size_t sstride, uint8_t *dst, int dw, int dh) {
    FH_ASSERT(sw > 0 && sh > 0 && dw > 0 && dh > 0);
    if (sw == dw && sh == dh) {   // cv::resize copies equal sizes
        for (int y = 0; y < sh; y++) memcpy(dst + (size_t)y * dw, src + (size_t)y * sstride, (size_t)sw);
        return FH_OK;
    }
    int *xofs = fh_malloc((size_t)dw * sizeof *xofs), *yofs = fh_malloc((size_t)dh * sizeof *yofs);
    uint16_t *xw = fh_malloc((size_t)dw * 2 * sizeof *xw), *yw = fh_malloc((size_t)dh * 2 * sizeof *yw);
    uint32_t *rows = fh_malloc((size_t)dw * 2 * sizeof *rows);
    if (!xofs || !yofs || !xw || !yw || !rows) {
        fh_free(xofs), fh_free(yofs), fh_free(xw), fh_free(yw), fh_free(rows);
        return fh_fail(FH_E_NOMEM, "haar: out of memory resizing to %dx%d", dw, dh);
    }
    int xlo, xhi, ylo, yhi;
    coeffs(sw, dw, xofs, xw, &xlo, &xhi);
    coeffs(sh, dh, yofs, yw, &ylo, &yhi);

    uint32_t *h0 = rows, *h1 = rows + dw;
    int have0 = -1, have1 = -1;   // source rows held in h0, h1
    for (int dy = 0; dy < dh; dy++) {
        uint8_t *o = dst + (size_t)dy * dw;
        if (dy < ylo || dy >= yhi) {   // above / below the source: its edge row, rounded
            int sy = dy < ylo ? 0 : sh - 1;
            if (have0 != sy) hline(src + (size_t)sy * sstride, sw, xofs, xw, xlo, xhi, dw, h0), have0 = sy;
            for (int x = 0; x < dw; x++) {
                uint32_t v = (h0[x] + (ONE >> 1)) >> FRAC_BITS;
                o[x] = (uint8_t)(v > 255 ? 255 : v);
            }
            continue;
        }
        int sy = yofs[dy];
        if (have0 != sy) {
            if (have1 == sy) {   // moving down one row: the old second row is the new first
                uint32_t *t = h0;
                h0 = h1, h1 = t, have0 = sy, have1 = -1;
            } else {
                hline(src + (size_t)sy * sstride, sw, xofs, xw, xlo, xhi, dw, h0), have0 = sy;
            }
        }
        if (have1 != sy + 1) hline(src + (size_t)(sy + 1) * sstride, sw, xofs, xw, xlo, xhi, dw, h1), have1 = sy + 1;
        uint32_t w0 = yw[2 * dy], w1 = yw[2 * dy + 1];
        for (int x = 0; x < dw; x++) {
            uint32_t v = (h0[x] * w0 + h1[x] * w1 + (1u << 15)) >> 16;
            o[x] = (uint8_t)(v > 255 ? 255 : v);
        }
    }
    fh_free(xofs), fh_free(yofs), fh_free(xw), fh_free(yw), fh_free(rows);
    return FH_OK;
}

void haar_grey(const struct img *im, uint8_t *dst) {
    for (int y = 0; y < im->h; y++) {
        const uint8_t *s = im->data + (size_t)y * im->stride;
        uint8_t *d = dst + (size_t)y * im->w;
        if (im->c == 1) {
            memcpy(d, s, (size_t)im->w);
            continue;
        }
        // cvtColor(BGR2GRAY) fixed point: 14-bit weights of 0.299/0.587/0.114, rounded
        for (int x = 0; x < im->w; x++, s += im->c)
            d[x] = (uint8_t)((s[0] * 4899 + s[1] * 9617 + s[2] * 1868 + (1 << 13)) >> 14);
    }
}
