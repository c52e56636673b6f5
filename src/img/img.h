// SPDX-License-Identifier: MIT
// img: the image type, decoding (JPEG via libjpeg-turbo, PNG via libpng, EXIF
// orientation applied; HEIF/AVIF via libheif, WebP via libwebp) and geometry (bilinear
// region resize), plus face thumbnails (crop, JPEG encoding) and a blur measure. Knows nothing about
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
// Also sniffed and decoded the same way: HEIF/HEIC/AVIF (an 'ftyp' box with a brand
// heic/heix/heim/heis/hevc/hevx/mif1/msf1/avif/avis) and WebP (RIFF....WEBP); see the
// two functions below for their orientation rules. FH_E_UNSUPPORTED for a valid file
// of those formats that the linked libraries cannot decode (e.g. a HEIF codec missing).
int img_decode_file(const char *path, struct img *out);
int img_decode_mem(const uint8_t *buf, size_t n, struct img *out);

// ---- format backends (img_decode_mem picks one; callable directly) --------------------
// HEIF via libheif: the primary image, RGB8, alpha dropped, 10/12-bit reduced to 8.
// HEVC-coded (HEIC, via libde265) and AV1-coded (AVIF, via dav1d/aom) items decode with
// Debian's libheif 1.15. Orientation is what HEIF defines: libheif applies the item's
// clap (crop), irot (rotation) and imir (mirror) properties; an EXIF Orientation tag in
// the file is NOT applied on top (cameras and phones repeat the irot rotation there for
// old readers, so applying both would turn the photo twice). Limits are checked from the
// item's ispe size and its displayed size before libheif decodes pixels. libheif holds
// its own copy of the pixels during the call (so peak memory is ~2x the RGB size) and
// decodes grid tiles on the calling thread. Errors as img_decode_mem.
int img_decode_heif_mem(const uint8_t *buf, size_t n, struct img *out);
// WebP via libwebp: lossy or lossless, simple or extended (VP8X) file, RGB8 with alpha
// dropped. An animation gives its first frame placed on a black canvas of the
// animation's size. The Orientation of an EXIF chunk is applied as for JPEG. Limits are
// checked from the header (VP8X canvas or bitstream size) before any allocation. Lossy
// VP8 has no checksums: damaged entropy data can decode to wrong pixels without error;
// truncation and damaged headers/chunk layout are FH_E_FORMAT. Errors as img_decode_mem.
int img_decode_webp_mem(const uint8_t *buf, size_t n, struct img *out);

// EXIF Orientation (1..8) in an APP1-style payload that starts with "Exif\0\0" (then
// the TIFF header); 1 when absent or unreadable. Never fails.
int img_exif_orientation(const uint8_t *exif, size_t n);
// The EXIF orientation (1..8) img_decode_mem applies to these bytes, found without decoding
// pixels: a JPEG's APP1 Exif segments (the first that says other than 1), a WebP's EXIF chunk
// (img_webp_orientation_mem); 1 for PNG, HEIF (libheif turns those itself) and anything
// unreadable. Never fails. What XMP face regions need: they are relative to the stored image.
int img_orientation_mem(const uint8_t *buf, size_t n);
int img_webp_orientation_mem(const uint8_t *buf, size_t n);
// Makes *im upright for EXIF orientation 1..8 (values outside count as 1): 2 mirror,
// 3 rotate 180, 4 flip, 5 transpose, 6 rotate 90 cw, 7 transverse, 8 rotate 90 ccw.
// Replaces im's pixels by a new buffer. FH_OK or FH_E_NOMEM (im unchanged then).
int img_orient(struct img *im, int orientation);

// Resizes the region (rx, ry, rw, rh) of src into dst (dst->w x dst->h, same c,
// caller-allocated). Bilinear with half-pixel centres, no antialiasing, exactly the
// golden definition: sx = (x+0.5)*(rw/dw) - 0.5 (the ratio rounded to double first;
// this order is what makes it bit-exact) clamped to [0, rw-1], x0 = floor(sx),
// x1 = min(x0+1, rw-1), weights in double, value stored as floor(v+0.5). Region pixels
// outside src read as 0. rw, rh >= 1. Never fails (no allocation).
void img_resize_region(const struct img *src, int rx, int ry, int rw, int rh, struct img *dst);
// Only dst rows [y0, y1) of img_resize_region (the same bytes): threads can share one resize.
void img_resize_region_rows(const struct img *src, int rx, int ry, int rw, int rh, struct img *dst, int y0,
                            int y1);

// ---- face thumbnails and quality (thumb.c) ---------------------------------------------
// Crops the face box (x1, y1)-(x2, y2) (pixels, x2 > x1, y2 > y1; may lie partly or wholly
// outside src) as a square thumbnail: with m = max(x2-x1, y2-y1) the square has side
// s = m + 2*round(m/5) (20 % of the box added on each side, made square on the longer
// side), is centred on the box (left = x1 - (s-(x2-x1))/2, top = y1 - (s-(y2-y1))/2,
// integer halves rounded down) and is resized to size x size with img_resize_region
// (bilinear, no antialiasing). The square is not shifted or squeezed to fit the image:
// the image content is clipped to the image and the parts of the square outside src are
// black. OUT: dst is allocated here (size x size, src->c channels; free with img_free).
// size 1..FH_MAX_IMAGE_SIDE. FH_OK, FH_E_ARG (empty box, bad size, box side over
// 4*FH_MAX_IMAGE_SIDE) or FH_E_NOMEM; on failure dst is empty.
int img_crop_resize(const struct img *src, int x1, int y1, int x2, int y2, int size, struct img *dst);

// Encodes im (c = 3 RGB or c = 1 grey, any stride) as a baseline JFIF JPEG with
// libjpeg-turbo at quality 1..100 (libjpeg's standard tables and 4:2:0 chroma). OUT: *out
// is a fresh buffer from fh_malloc (caller frees with fh_free) of *n bytes. FH_OK,
// FH_E_ARG (empty image, other channel counts, quality out of range), FH_E_NOMEM; on
// failure *out is NULL and *n is 0.
int img_encode_jpeg(const struct img *im, int quality, uint8_t **out, size_t *n);

// Blur measure: the population variance of the Laplacian of the grey image. Grey is
// 0.299 R + 0.587 G + 0.114 B in double (not rounded; c = 1 images are used as they are),
// the Laplacian the 3x3 kernel [0 1 0; 1 -4 1; 0 1 0] at the interior pixels only
// (1 <= x < w-1, 1 <= y < h-1; no border padding). Sharp faces give large values, blurred
// ones small; the caller applies its threshold to the aligned 112x112 crop. 0.0 for
// images smaller than 3x3 (no interior pixel) and for flat or linear-ramp images.
// c must be 1 or 3. Never fails, no allocation.
double img_laplacian_var(const struct img *im);

// Mirrors an image left-right in place.
void img_flip_h(struct img *im);

// Writes a binary PPM (c=3) or PGM (c=1); for debugging and tests. FH_OK, FH_E_IO, or
// FH_E_ARG for other channel counts.
int img_write_pnm(const struct img *im, const char *path);

#endif
