// SPDX-License-Identifier: MIT
// Writes the image seeds of tests/fuzz/corpus/img from one real photo: the photo is shrunk
// to 32x24 and encoded as baseline JPEG (plain and with an EXIF Orientation 6 APP1), PNG
// (RGB and grey), WebP (lossy, lossless, and an extended VP8X file with an EXIF chunk) and
// HEIF (HEVC, and AV1 when libheif has an encoder). Not part of the build; run by hand:
//   cc -std=c11 -D_GNU_SOURCE -Isrc -o /tmp/make_seeds tests/fuzz/make_seeds.c
//      build/libfacehatch.a $(pkg-config --libs libheif libwebp libpng) -ljpeg -lexif
//      -lwebpdemux -lm -pthread
//   /tmp/make_seeds ../shared/data/lfw/lfw-deepfunneled/Tony_Blair/Tony_Blair_0001.jpg
//      tests/fuzz/corpus/img
#include <libheif/heif.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <webp/encode.h>

#include "base/base.h"
#include "img/img.h"

#define W 32
#define H 24

static const char *dir;

static void put(const char *name, const void *p, size_t n) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(p, 1, n, f) != n || fclose(f)) {
        fprintf(stderr, "cannot write %s\n", path);
        exit(1);
    }
    printf("%s: %zu bytes\n", path, n);
}

static void le(uint8_t *p, uint32_t v, int n) {
    for (int i = 0; i < n; i++) p[i] = (uint8_t)(v >> (8 * i));
}

// "Exif\0\0" + a little-endian TIFF whose IFD0 holds Orientation = o (32 bytes)
static size_t exif(uint8_t *t, int o) {
    memset(t, 0, 32);
    memcpy(t, "Exif\0\0II\x2a\0\x08\0\0\0", 14);
    le(t + 14, 1, 2), le(t + 16, 0x0112, 2), le(t + 18, 3, 2), le(t + 20, 1, 4), le(t + 24, (uint32_t)o, 2);
    return 32;
}

struct membuf { uint8_t *d; size_t n; };
static struct heif_error heif_write_mem(struct heif_context *ctx, const void *data, size_t size, void *ud) {
    (void)ctx;
    struct membuf *m = ud;
    m->d = malloc(size);
    memcpy(m->d, data, size);
    m->n = size;
    return (struct heif_error){heif_error_Ok, heif_suberror_Unspecified, "ok"};
}

static void heif(const struct img *im, enum heif_compression_format fmt, const char *name) {
    struct heif_context *ctx = heif_context_alloc();
    struct heif_encoder *enc = NULL;
    struct heif_image *hi = NULL;
    struct heif_image_handle *h = NULL;
    struct membuf mb = {0};
    struct heif_error e = heif_context_get_encoder_for_format(ctx, fmt, &enc);
    if (!e.code) heif_encoder_set_lossy_quality(enc, 50);
    if (!e.code) e = heif_image_create(W, H, heif_colorspace_RGB, heif_chroma_interleaved_RGB, &hi);
    if (!e.code) e = heif_image_add_plane(hi, heif_channel_interleaved, W, H, 8);
    if (!e.code) {
        int stride;
        uint8_t *p = heif_image_get_plane(hi, heif_channel_interleaved, &stride);
        for (int y = 0; y < H; y++) memcpy(p + (size_t)y * stride, im->data + y * im->stride, W * 3);
        struct heif_encoding_options *opt = heif_encoding_options_alloc();
        opt->image_orientation = heif_orientation_rotate_90_cw;
        e = heif_context_encode_image(ctx, hi, enc, opt, &h);
        heif_encoding_options_free(opt);
    }
    struct heif_writer w = {.writer_api_version = 1, .write = heif_write_mem};
    if (!e.code) e = heif_context_write(ctx, &w, &mb);
    if (e.code) printf("%s: skipped (%s)\n", name, e.message);
    else put(name, mb.d, mb.n);
    free(mb.d);
    heif_image_handle_release(h);
    heif_image_release(hi);
    if (enc) heif_encoder_release(enc);
    heif_context_free(ctx);
}

int main(int argc, char **argv) {
    if (argc != 3) return fprintf(stderr, "usage: make_seeds PHOTO DIR\n"), 2;
    dir = argv[2];
    struct img src, im;
    if (img_decode_file(argv[1], &src) || img_alloc(&im, W, H, 3)) return fprintf(stderr, "%s\n", fh_errmsg()), 1;
    img_resize_region(&src, 0, 0, src.w, src.h, &im);
    img_free(&src);

    uint8_t *j;
    size_t jn;
    if (img_encode_jpeg(&im, 50, &j, &jn)) return 1;
    put("plain.jpg", j, jn);
    // the same JPEG with an APP1 Exif segment (Orientation 6) right after SOI
    uint8_t app1[4 + 32], ex[32];
    size_t en = exif(ex, 6);
    app1[0] = 0xff, app1[1] = 0xe1, app1[2] = (uint8_t)((en + 2) >> 8), app1[3] = (uint8_t)(en + 2);
    memcpy(app1 + 4, ex, en);
    uint8_t *jo = malloc(jn + sizeof app1);
    memcpy(jo, j, 2), memcpy(jo + 2, app1, sizeof app1), memcpy(jo + 2 + sizeof app1, j + 2, jn - 2);
    put("exif6.jpg", jo, jn + sizeof app1);
    free(jo);
    fh_free(j);

    for (int grey = 0; grey < 2; grey++) {
        png_image pi = {.version = PNG_IMAGE_VERSION, .width = W, .height = H,
                        .format = grey ? PNG_FORMAT_GRAY : PNG_FORMAT_RGB};
        uint8_t g[W * H], *pix = im.data;
        if (grey) {
            for (int i = 0; i < W * H; i++) g[i] = im.data[3 * i + 1];
            pix = g;
        }
        png_alloc_size_t pn = 0;
        png_image_write_to_memory(&pi, NULL, &pn, 0, pix, 0, NULL);
        uint8_t *pb = malloc(pn);
        if (!png_image_write_to_memory(&pi, pb, &pn, 0, pix, 0, NULL)) return 1;
        put(grey ? "grey.png" : "rgb.png", pb, pn);
        free(pb);
    }

    uint8_t *wb;
    size_t wn = WebPEncodeLosslessRGB(im.data, W, H, (int)im.stride, &wb);
    put("lossless.webp", wb, wn);
    WebPFree(wb);
    wn = WebPEncodeRGB(im.data, W, H, (int)im.stride, 50, &wb);
    put("lossy.webp", wb, wn);
    // extended: RIFF WEBP + VP8X (EXIF flag, canvas) + the VP8 chunk + an EXIF chunk
    size_t vp8 = wn - 12, xn = 12 + 18 + vp8 + 8 + (en - 6);
    uint8_t *x = calloc(1, xn);
    memcpy(x, "RIFF", 4), le(x + 4, (uint32_t)(xn - 8), 4), memcpy(x + 8, "WEBP", 4);
    memcpy(x + 12, "VP8X", 4), le(x + 16, 10, 4), x[20] = 0x08, le(x + 24, W - 1, 3), le(x + 27, H - 1, 3);
    memcpy(x + 30, wb + 12, vp8);
    memcpy(x + 30 + vp8, "EXIF", 4), le(x + 34 + vp8, (uint32_t)(en - 6), 4), memcpy(x + 38 + vp8, ex + 6, en - 6);
    put("extended_exif.webp", x, xn);
    free(x);
    WebPFree(wb);

    heif(&im, heif_compression_HEVC, "rot90.heic");
    heif(&im, heif_compression_AV1, "rot90.avif");
    img_free(&im);
    return 0;
}
