// SPDX-License-Identifier: MIT
// img: the image type, decoding (JPEG via libjpeg-turbo, PNG via libpng, EXIF
// orientation applied) and geometry (bilinear region resize). Knows nothing about
// faces or networks. Decoder-library types never leave this module.
//
//   struct img im;
//   if (img_decode_file("a.jpg", &im)) { puts(fh_errmsg()); return; }
//   struct img small;  img_alloc(&small, 320, 240, 3);
//   img_resize_region(&im, 0, 0, im.w, im.h, &small);
//   img_free(&small); img_free(&im);
//
// Thread safety: all functions are reentrant; an img is used by one thread at a time.
#ifndef FH_IMG_H
#define FH_IMG_H

#include <stddef.h>
#include <stdint.h>

#include "base/limits.h"

// 8-bit interleaved pixels, row-major. Pixel (x, y) channel k is at
// data[y*stride + x*c + k]. c = 3 (RGB) or 1 (grey). The img owns data (free with img_free).
struct img {
    int w, h;        // size in pixels
    int c;           // channels: 3 = RGB, 1 = grey
    size_t stride;   // bytes per row (>= w*c)
    uint8_t *data;   // owned; NULL for an empty img
};

// Allocates a zeroed w x h x c image (stride = w*c; w, h >= 1; c = 1..4). Checks
// FH_MAX_IMAGE_SIDE and FH_MAX_IMAGE_PIXELS first. Returns FH_OK, FH_E_LIMIT, FH_E_ARG
// or FH_E_NOMEM; on failure *im is empty.
int img_alloc(struct img *im, int w, int h, int c);
// Frees the pixels and zeroes the struct; accepts an empty img.
void img_free(struct img *im);

// Decodes a JPEG or PNG (sniffed from the bytes, not the name) into 8-bit RGB (c=3),
// applying the EXIF orientation of JPEGs so the result is upright. Grey, palette,
// 16-bit and alpha images are converted to RGB (alpha dropped). JPEGs are decoded with
// libjpeg's default settings (islow IDCT, fancy upsampling), which the goldens match.
// Size limits are checked from the header before any pixel buffer is allocated.
// Strict about damage: libjpeg's warnings for truncated or corrupt entropy data
// (premature end, bad Huffman code, extraneous bytes, lost RST markers) are errors
// here, not a half-grey image; PNGs must be complete through IEND with valid critical
// CRCs. CMYK/YCCK JPEGs are converted assuming Adobe's inverted inks. PNG gamma and
// colour profiles are ignored (raw sample values).
// Returns FH_OK; FH_E_IO (missing/unreadable file), FH_E_FORMAT (not an image, corrupt
// or truncated data), FH_E_LIMIT (file or pixel limits), FH_E_NOMEM. On failure *out
// is empty. The message from fh_errmsg() names the file and the problem.
int img_decode_file(const char *path, struct img *out);
int img_decode_mem(const uint8_t *buf, size_t n, struct img *out);

// Resizes the region (rx, ry, rw, rh) of src into dst (dst->w x dst->h, same c,
// caller-allocated). Bilinear with half-pixel centres, no antialiasing, exactly the
// golden definition: sx = (x+0.5)*(rw/dw) - 0.5 (the ratio rounded to double first;
// this order is what makes it bit-exact) clamped to [0, rw-1], x0 = floor(sx),
// x1 = min(x0+1, rw-1), weights in double, value stored as floor(v+0.5). Region pixels
// outside src read as 0. rw, rh >= 1. Never fails (no allocation).
void img_resize_region(const struct img *src, int rx, int ry, int rw, int rh, struct img *dst);

// Mirrors an image left-right in place.
void img_flip_h(struct img *im);

// Writes a binary PPM (c=3) or PGM (c=1); for debugging and tests. FH_OK, FH_E_IO, or
// FH_E_ARG for other channel counts.
int img_write_pnm(const struct img *im, const char *path);

#endif
