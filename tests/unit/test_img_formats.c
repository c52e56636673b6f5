// SPDX-License-Identifier: MIT
// img: HEIF/HEIC/AVIF and WebP decoding (colours, orientation, damage, limits), the JPEG
// thumbnail encoder, img_crop_resize and the Laplacian blur measure. The HEIF and WebP
// inputs are made here with the encoders of libheif (x265 / aom) and libwebp, and the
// WebP containers with EXIF chunks or animation frames are assembled by hand, so they
// are independent of the decoders under test. Expected values are worked out by hand.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libheif/heif.h>
#include <webp/encode.h>

#include "base/base.h"
#include "harness.h"
#include "img/img.h"

// ---- helpers ---------------------------------------------------------------------------
static const uint8_t *px(const struct img *im, int x, int y) {
    return im->data + (size_t)y * im->stride + (size_t)x * im->c;
}

static uint32_t xs = 2463534242u;
static uint8_t rnd8(void) {
    xs ^= xs << 13, xs ^= xs >> 17, xs ^= xs << 5;
    return (uint8_t)(xs >> 7);
}

static void put_le(uint8_t *p, uint32_t v, int bytes) {
    for (int i = 0; i < bytes; i++) p[i] = (uint8_t)(v >> 8 * i);
}

static void put_be32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v;
}

// Offset of the first occurrence of a 4-byte tag, or 0.
static size_t find4(const uint8_t *d, size_t n, const char *tag) {
    for (size_t i = 0; i + 4 <= n; i++)
        if (memcmp(d + i, tag, 4) == 0) return i;
    return 0;
}

// 64x32, quadrants of flat 32x16: R G / B Y (as test_img.c's EXIF test, scaled up so
// 4:2:0 chroma and 16x16 macroblocks stay inside one colour)
enum { QW = 64, QH = 32 };
static const uint8_t qcol[4][3] = {{220, 30, 30}, {30, 200, 30}, {30, 30, 220}, {230, 230, 40}};
static void quad_pixels(uint8_t *pix) {
    for (int y = 0; y < QH; y++)
        for (int x = 0; x < QW; x++) memcpy(pix + (y * QW + x) * 3, qcol[(y >= QH / 2) * 2 + (x >= QW / 2)], 3);
}

// The upright quadrant colours (TL, TR, BL, BR) for EXIF orientation o, worked out by hand
// from the EXIF definitions (the same table as test_img.c).
static const char *quad_want(int o) {
    static const char *q[9] = {"", "RGBY", "GRYB", "YBGR", "BYRG", "RBGY", "BRYG", "YGBR", "GYRB"};
    return q[o];
}

// Checks the size and the colour at the centre of each quadrant within tol.
static int quad_ok(const struct img *im, int o, int tol) {
    int swap = o >= 5;
    if (im->c != 3 || im->w != (swap ? QH : QW) || im->h != (swap ? QW : QH)) return 0;
    const char *q = quad_want(o);
    for (int i = 0; i < 4; i++) {
        const uint8_t *want = qcol[strchr("RGBY", q[i]) - "RGBY"];
        const uint8_t *got = px(im, (i & 1 ? 3 : 1) * im->w / 4, (i & 2 ? 3 : 1) * im->h / 4);
        for (int k = 0; k < 3; k++)
            if (abs(got[k] - want[k]) > tol) {
                printf("# quadrant %d channel %d: got %d want %d\n", i, k, got[k], want[k]);
                return 0;
            }
    }
    return 1;
}

// Little-endian TIFF with IFD0 holding one Orientation SHORT (26 bytes), optionally
// preceded by JPEG's "Exif\0\0" (then 32 bytes). Returns the length.
static size_t tiff_orient(uint8_t *t, int orient, int exif_prefix) {
    uint8_t *p = t;
    if (exif_prefix) memcpy(p, "Exif\0\0", 6), p += 6;
    memset(p, 0, 26);
    memcpy(p, "II\x2a\0\x08\0\0\0", 8);
    put_le(p + 8, 1, 2);                 // one entry
    put_le(p + 10, 0x0112, 2);           // Orientation
    put_le(p + 12, 3, 2);                // SHORT
    put_le(p + 14, 1, 4);                // count
    put_le(p + 18, (uint32_t)orient, 2); // value; next IFD offset (22..25) = 0
    return (size_t)(p - t) + 26;
}

// ---- HEIF encoding with libheif ------------------------------------------------------------
struct membuf { uint8_t *d; size_t n; };

static struct heif_error heif_write_mem(struct heif_context *ctx, const void *data, size_t size, void *ud) {
    (void)ctx;
    struct membuf *m = ud;
    m->d = malloc(size);
    memcpy(m->d, data, size);
    m->n = size;
    return (struct heif_error){heif_error_Ok, heif_suberror_Unspecified, "ok"};
}

// Encodes the quadrant image with the given codec; orient (1..8) becomes irot/imir
// properties (libheif's image_orientation), exif_orient (0 = none) an EXIF item.
static uint8_t *heif_encode(enum heif_compression_format fmt, int orient, int exif_orient, size_t *n) {
    uint8_t pix[QW * QH * 3];
    quad_pixels(pix);
    struct heif_context *ctx = heif_context_alloc();
    struct heif_encoder *enc = NULL;
    struct heif_image *im = NULL;
    struct heif_image_handle *h = NULL;
    struct membuf mb = {0};
    struct heif_error e = heif_context_get_encoder_for_format(ctx, fmt, &enc);
    if (!e.code) heif_encoder_set_lossy_quality(enc, 90);
    if (!e.code) e = heif_image_create(QW, QH, heif_colorspace_RGB, heif_chroma_interleaved_RGB, &im);
    if (!e.code) e = heif_image_add_plane(im, heif_channel_interleaved, QW, QH, 8);
    if (!e.code) {
        int stride;
        uint8_t *p = heif_image_get_plane(im, heif_channel_interleaved, &stride);
        for (int y = 0; y < QH; y++) memcpy(p + (size_t)y * stride, pix + y * QW * 3, QW * 3);
        struct heif_encoding_options *opt = heif_encoding_options_alloc();
        opt->image_orientation = (enum heif_orientation)orient;
        e = heif_context_encode_image(ctx, im, enc, opt, &h);
        heif_encoding_options_free(opt);
    }
    if (!e.code && exif_orient) {
        uint8_t t[32];
        size_t tn = tiff_orient(t, exif_orient, 1);
        e = heif_context_add_exif_metadata(ctx, h, t, (int)tn);
    }
    struct heif_writer w = {.writer_api_version = 1, .write = heif_write_mem};
    if (!e.code) e = heif_context_write(ctx, &w, &mb);
    if (e.code) printf("# heif encode: %s\n", e.message);
    heif_image_handle_release(h);
    heif_image_release(im);
    if (enc) heif_encoder_release(enc);
    heif_context_free(ctx);
    *n = mb.n;
    return mb.d;
}

// ---- HEIF decoding -----------------------------------------------------------------------
static void test_heif(void) {
    int dec_hevc = heif_have_decoder_for_format(heif_compression_HEVC);
    int dec_av1 = heif_have_decoder_for_format(heif_compression_AV1);
    int enc_hevc = heif_have_encoder_for_format(heif_compression_HEVC);
    int enc_av1 = heif_have_encoder_for_format(heif_compression_AV1);
    printf("# libheif %s: decoders HEVC %d AV1 %d, encoders HEVC %d AV1 %d\n", heif_get_version(), dec_hevc, dec_av1,
           enc_hevc, enc_av1);
    TEST_COND("libheif has an HEVC (HEIC) decoder", dec_hevc);
    if (!enc_hevc) {
        printf("# SKIP: no HEVC encoder in this libheif, HEIC round trips not tested\n");
        return;
    }
    struct img im;
    size_t n;
    uint8_t *heic = heif_encode(heif_compression_HEVC, 1, 0, &n);
    TEST_COND("HEIC test file encoded (x265)", heic && n > 100 && memcmp(heic + 4, "ftypheic", 8) == 0);
    if (!heic) return;
    int rc = img_decode_mem(heic, n, &im);
    if (rc) printf("# %s\n", fh_errmsg());
    TEST_COND("HEIC 64x32 decodes via img_decode_mem, quadrant colours within 12", rc == 0 && quad_ok(&im, 1, 12));
    img_free(&im);

    // through the file entry point under a misleading name: sniffed, not named
    char path[] = "/tmp/fh_test_fmt_XXXXXX.jpg";
    int fd = mkstemps(path, 4);
    if (fd < 0 || write(fd, heic, n) != (ssize_t)n) abort();
    close(fd);
    rc = img_decode_file(path, &im);
    unlink(path);
    TEST_COND("HEIC named .jpg decodes through img_decode_file", rc == 0 && quad_ok(&im, 1, 12));
    img_free(&im);

    // irot/imir written by libheif for each EXIF-style orientation: libheif applies them
    for (int o = 2; o <= 8; o++) {
        size_t on;
        uint8_t *f = heif_encode(heif_compression_HEVC, o, 0, &on);
        rc = f ? img_decode_mem(f, on, &im) : -99;
        char d[96];
        snprintf(d, sizeof d, "HEIC with irot/imir for orientation %d decodes upright (%s, %dx%d)", o, quad_want(o),
                 im.w, im.h);
        TEST_COND(d, rc == 0 && quad_ok(&im, o, 12));
        img_free(&im);
        free(f);
    }
    // an EXIF item saying "rotate 90 cw" but no irot: the EXIF tag must not be applied
    size_t en;
    uint8_t *ex = heif_encode(heif_compression_HEVC, 1, 6, &en);
    rc = ex ? img_decode_mem(ex, en, &im) : -99;
    TEST_COND("HEIC with EXIF orientation 6 and no irot stays as stored (EXIF not applied)",
              ex && find4(ex, en, "Exif") && rc == 0 && quad_ok(&im, 1, 12));
    img_free(&im);
    free(ex);
    // EXIF 6 together with irot for 6 (what phones write): rotated once, not twice
    ex = heif_encode(heif_compression_HEVC, 6, 6, &en);
    rc = ex ? img_decode_mem(ex, en, &im) : -99;
    TEST_COND("HEIC with irot 90 cw and EXIF orientation 6 is rotated once", rc == 0 && quad_ok(&im, 6, 12));
    img_free(&im);
    free(ex);

    // 10-bit HEIC (what newer phones can write): reduced to 8 bit, v*255/1023
    struct heif_context *ctx = heif_context_alloc();
    struct heif_encoder *enc = NULL;
    struct heif_image *him = NULL;
    struct membuf mb = {0};
    struct heif_error e = heif_context_get_encoder_for_format(ctx, heif_compression_HEVC, &enc);
    if (!e.code) e = heif_image_create(QW, QH, heif_colorspace_RGB, heif_chroma_interleaved_RRGGBB_LE, &him);
    if (!e.code) e = heif_image_add_plane(him, heif_channel_interleaved, QW, QH, 10);
    if (!e.code) {
        int stride;
        uint8_t *p = heif_image_get_plane(him, heif_channel_interleaved, &stride);
        for (int y = 0; y < QH; y++)
            for (int x = 0; x < QW; x++)
                for (int k = 0; k < 3; k++) put_le(p + (size_t)y * stride + x * 6 + 2 * k, k == 0 ? 800 : k == 1 ? 400 : 100, 2);
        e = heif_context_encode_image(ctx, him, enc, NULL, NULL);
    }
    struct heif_writer hw = {.writer_api_version = 1, .write = heif_write_mem};
    if (!e.code) e = heif_context_write(ctx, &hw, &mb);
    heif_image_release(him);
    if (enc) heif_encoder_release(enc);
    heif_context_free(ctx);
    rc = mb.d ? img_decode_mem(mb.d, mb.n, &im) : -99;
    const uint8_t *p10 = rc ? NULL : px(&im, 20, 10);
    if (p10) printf("# 10-bit heic (800, 400, 100) -> %d %d %d\n", p10[0], p10[1], p10[2]);
    TEST_COND("10-bit HEIC -> 8-bit RGB (199, 100, 25) within 3",
              p10 && abs(p10[0] - 199) <= 3 && abs(p10[1] - 100) <= 3 && abs(p10[2] - 25) <= 3);
    img_free(&im);
    free(mb.d);

    // AVIF (AV1 through the same libheif path)
    if (enc_av1) {
        size_t an;
        uint8_t *avif = heif_encode(heif_compression_AV1, 1, 0, &an);
        rc = avif ? img_decode_mem(avif, an, &im) : -99;
        if (rc) printf("# avif: %s\n", fh_errmsg());
        TEST_COND("AVIF (ftyp avif) 64x32 decodes, quadrant colours within 12",
                  avif && memcmp(avif + 8, "avif", 4) == 0 && rc == 0 && quad_ok(&im, 1, 12));
        img_free(&im);
        free(avif);
    } else {
        printf("# SKIP: no AV1 encoder, AVIF not tested\n");
    }

    // damage: truncated, header boxes destroyed, entropy data scrambled
    size_t cuts[] = {n / 2, n - 10, 40, 20};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        rc = img_decode_mem(heic, cuts[i], &im);
        char d[80];
        printf("# heic cut at %zu of %zu: %s\n", cuts[i], n, fh_errmsg());
        snprintf(d, sizeof d, "HEIC truncated to %zu bytes -> FH_E_FORMAT", cuts[i]);
        TEST_COND(d, rc == FH_E_FORMAT && im.data == NULL);
    }
    uint8_t *bad = malloc(n);
    const char *boxes[] = {"meta", "iloc", "hvcC", "pitm"};
    for (size_t b = 0; b < sizeof boxes / sizeof boxes[0]; b++) {
        memcpy(bad, heic, n);
        size_t at = find4(bad, n, boxes[b]);
        if (at) memcpy(bad + at, "zzzz", 4);
        rc = img_decode_mem(bad, n, &im);
        printf("# heic without %s: %s\n", boxes[b], fh_errmsg());
        char d[80];
        snprintf(d, sizeof d, "HEIC with its '%s' box renamed -> FH_E_FORMAT", boxes[b]);
        TEST_COND(d, at && rc == FH_E_FORMAT && im.data == NULL);
    }
    memcpy(bad, heic, n);
    size_t at = find4(bad, n, "iloc");   // box sizes of the meta children made absurd
    if (at) put_be32(bad + at - 4, 0x7ffffff0u);
    rc = img_decode_mem(bad, n, &im);
    printf("# heic iloc size absurd: %s\n", fh_errmsg());
    TEST_COND("HEIC with an absurd box size -> FH_E_FORMAT", rc == FH_E_FORMAT);
    int survived = 1, decoded = 0;
    size_t mdat = find4(heic, n, "mdat");
    for (int t = 0; t < 20 && mdat; t++) {   // payload noise: must not crash or leak
        memcpy(bad, heic, n);
        for (size_t i = mdat + 8 + (n - mdat) / 4; i < n; i++)
            if (rnd8() < 64) bad[i] = rnd8();
        rc = img_decode_mem(bad, n, &im);
        survived &= rc == 0 || rc == FH_E_FORMAT;
        decoded += rc == 0;
        img_free(&im);
    }
    printf("# heic payload noise: %d of 20 still decoded (HEVC has no checksum)\n", decoded);
    TEST_COND("HEIC with scrambled HEVC data: FH_OK or FH_E_FORMAT, no crash", mdat && survived);
    free(bad);

    // header claims: 30000x30000 (above libheif's and our side limit) and 15000x15000
    // (side fine, pixel count over FH_MAX_IMAGE_PIXELS); no fh_ allocation may happen first
    at = find4(heic, n, "ispe");
    for (int big = 0; big < 2 && at; big++) {
        uint8_t *h = malloc(n);
        memcpy(h, heic, n);
        uint32_t side = big ? 15000 : 30000;
        for (size_t i = at; i + 16 <= n; i++)   // libheif writes the ispe property twice
            if (memcmp(h + i, "ispe", 4) == 0) put_be32(h + i + 8, side), put_be32(h + i + 12, side);
        fh_alloc_fail_after(1);
        rc = img_decode_mem(h, n, &im);
        fh_alloc_fail_after(0);
        printf("# heic ispe %u: %s\n", side, fh_errmsg());
        char d[80];
        snprintf(d, sizeof d, "HEIC ispe %ux%u -> FH_E_LIMIT without allocating", side, side);
        TEST_COND(d, rc == FH_E_LIMIT && im.data == NULL);
        free(h);
    }
    // an MP4 ftyp is not sniffed as HEIF; an heic ftyp with garbage after it is corrupt
    uint8_t mp4[64] = {0, 0, 0, 24, 'f', 't', 'y', 'p', 'i', 's', 'o', 'm', 0, 0, 2, 0, 'i', 's', 'o', 'm', 'm', 'p', '4', '1'};
    rc = img_decode_mem(mp4, sizeof mp4, &im);
    printf("# mp4: %s\n", fh_errmsg());
    TEST_COND("MP4 ftyp (isom) -> FH_E_FORMAT 'not a ... image'", rc == FH_E_FORMAT && strstr(fh_errmsg(), "not a"));
    memcpy(mp4 + 8, "heic", 4);
    memcpy(mp4 + 16, "mif1heic", 8);
    rc = img_decode_mem(mp4, sizeof mp4, &im);
    printf("# heic ftyp + zeros: %s\n", fh_errmsg());
    TEST_COND("heic ftyp followed by zeros -> FH_E_FORMAT from libheif", rc == FH_E_FORMAT && strstr(fh_errmsg(), "heif"));
    free(heic);
}

// ---- WebP ----------------------------------------------------------------------------------
// A lossy simple-format WebP of the quadrant image (libwebp malloc; free with WebPFree).
static uint8_t *webp_quads(size_t *n) {
    uint8_t pix[QW * QH * 3], *out = NULL;
    quad_pixels(pix);
    *n = WebPEncodeRGB(pix, QW, QH, QW * 3, 95, &out);
    return out;
}

// Assembles RIFF/WEBP from chunks: each is fourcc, payload, length (padded to even here).
struct chunk { const char *cc; const uint8_t *d; size_t n; };
static uint8_t *riff(const struct chunk *c, int nc, size_t *n) {
    size_t total = 12;
    for (int i = 0; i < nc; i++) total += 8 + c[i].n + (c[i].n & 1);
    uint8_t *o = calloc(1, total), *p = o + 12;
    memcpy(o, "RIFF", 4), put_le(o + 4, (uint32_t)(total - 8), 4), memcpy(o + 8, "WEBP", 4);
    for (int i = 0; i < nc; i++) {
        memcpy(p, c[i].cc, 4), put_le(p + 4, (uint32_t)c[i].n, 4);
        memcpy(p + 8, c[i].d, c[i].n);
        p += 8 + c[i].n + (c[i].n & 1);
    }
    *n = total;
    return o;
}

static void vp8x(uint8_t *p, uint8_t flags, int w, int h) {
    memset(p, 0, 10);
    p[0] = flags;
    put_le(p + 4, (uint32_t)(w - 1), 3), put_le(p + 7, (uint32_t)(h - 1), 3);
}

static void test_webp(void) {
    struct img im;
    size_t n;
    uint8_t *wp = webp_quads(&n);
    TEST_COND("WebP test file encoded (simple lossy VP8)", wp && n > 30 && memcmp(wp + 12, "VP8 ", 4) == 0);
    int rc = img_decode_mem(wp, n, &im);
    if (rc) printf("# %s\n", fh_errmsg());
    TEST_COND("lossy WebP 64x32 decodes, quadrant colours within 10", rc == 0 && quad_ok(&im, 1, 10));
    img_free(&im);

    // lossless: exact, also with alpha (dropped, never composited)
    enum { LW = 37, LH = 23 };
    uint8_t noise[LW * LH * 4], rgb[LW * LH * 3];
    for (int i = 0; i < LW * LH; i++) {
        for (int k = 0; k < 3; k++) rgb[3 * i + k] = noise[4 * i + k] = rnd8();
        noise[4 * i + 3] = (uint8_t)(1 + rnd8() % 255);   // never 0: libwebp may rewrite RGB under alpha 0
    }
    uint8_t *ll = NULL;
    size_t ln = WebPEncodeLosslessRGB(rgb, LW, LH, LW * 3, &ll);
    rc = img_decode_mem(ll, ln, &im);
    TEST_COND("lossless WebP 37x23 noise decodes exactly", rc == 0 && im.w == LW && im.h == LH &&
                                                             im.stride == LW * 3 && memcmp(im.data, rgb, sizeof rgb) == 0);
    img_free(&im);
    WebPFree(ll);
    ln = WebPEncodeLosslessRGBA(noise, LW, LH, LW * 4, &ll);
    rc = img_decode_mem(ll, ln, &im);
    TEST_COND("lossless RGBA WebP -> RGB with alpha dropped, exact",
              rc == 0 && im.c == 3 && im.w == LW && memcmp(im.data, rgb, sizeof rgb) == 0);
    img_free(&im);
    WebPFree(ll);

    // damage
    size_t cuts[] = {n / 2, n - 1, 30, 16, 12};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        rc = img_decode_mem(wp, cuts[i], &im);
        printf("# webp cut at %zu of %zu: %s\n", cuts[i], n, fh_errmsg());
        char d[80];
        snprintf(d, sizeof d, "WebP truncated to %zu bytes -> FH_E_FORMAT", cuts[i]);
        TEST_COND(d, rc == FH_E_FORMAT && im.data == NULL);
    }
    uint8_t *bad = malloc(n);
    memcpy(bad, wp, n);
    bad[23] ^= 0xff;   // VP8 start code 9d 01 2a at 23..25
    rc = img_decode_mem(bad, n, &im);
    printf("# webp bad start code: %s\n", fh_errmsg());
    TEST_COND("WebP with a broken VP8 start code -> FH_E_FORMAT", rc == FH_E_FORMAT && im.data == NULL);
    memcpy(bad, wp, n);
    put_le(bad + 16, 0x7ffffff0u, 4);   // VP8 chunk size past the end of the file
    rc = img_decode_mem(bad, n, &im);
    printf("# webp chunk size: %s\n", fh_errmsg());
    TEST_COND("WebP with a chunk size past the end -> FH_E_FORMAT", rc == FH_E_FORMAT);
    int survived = 1, decoded = 0;
    for (int t = 0; t < 50; t++) {
        memcpy(bad, wp, n);
        for (size_t i = 40; i < n; i++)
            if (rnd8() < 32) bad[i] = rnd8();
        rc = img_decode_mem(bad, n, &im);
        survived &= rc == 0 || rc == FH_E_FORMAT;
        decoded += rc == 0;
        img_free(&im);
    }
    printf("# webp payload noise: %d of 50 still decoded (VP8 has no checksum)\n", decoded);
    TEST_COND("WebP with scrambled VP8 data: FH_OK or FH_E_FORMAT, no crash", survived);
    free(bad);

    // huge: the VP8 frame header (width/height at 26..29, 14 bits each) says 16383x16383
    // (268 MP > FH_MAX_IMAGE_PIXELS); and an animated VP8X canvas of 30000x30000
    uint8_t *h = malloc(n);
    memcpy(h, wp, n);
    put_le(h + 26, 16383, 2), put_le(h + 28, 16383, 2);
    fh_alloc_fail_after(1);
    rc = img_decode_mem(h, n, &im);
    fh_alloc_fail_after(0);
    printf("# webp 16383^2: %s\n", fh_errmsg());
    TEST_COND("WebP VP8 header 16383x16383 -> FH_E_LIMIT without allocating", rc == FH_E_LIMIT && im.data == NULL);
    free(h);
    uint8_t x[10], anim[6] = {0}, anmf[16 + 512];
    vp8x(x, 0x02, 30000, 30000);
    memset(anmf, 0, 16);
    put_le(anmf + 6, QW - 1, 3), put_le(anmf + 9, QH - 1, 3);
    size_t vn = 8 + (size_t)(wp[16] | wp[17] << 8 | wp[18] << 16) ;
    vn += vn & 1;
    if (16 + vn > sizeof anmf) abort();
    memcpy(anmf + 16, wp + 12, vn);
    struct chunk big[] = {{"VP8X", x, 10}, {"ANIM", anim, 6}, {"ANMF", anmf, 16 + vn}};
    size_t bn;
    uint8_t *bf = riff(big, 3, &bn);
    fh_alloc_fail_after(1);
    rc = img_decode_mem(bf, bn, &im);
    fh_alloc_fail_after(0);
    printf("# webp anim 30000^2: %s\n", fh_errmsg());
    TEST_COND("animated WebP canvas 30000x30000 -> FH_E_LIMIT without allocating", rc == FH_E_LIMIT && im.data == NULL);
    free(bf);

    // EXIF orientation: VP8X (EXIF flag) + VP8 + EXIF, for all eight values
    for (int prefix = 0; prefix < 2; prefix++)
        for (int o = 1; o <= 8; o++) {
            if (prefix && o != 6) continue;
            uint8_t t[32];
            size_t tn = tiff_orient(t, o, prefix);
            vp8x(x, 0x08, QW, QH);
            struct chunk c[] = {{"VP8X", x, 10}, {"VP8 ", wp + 20, vn - 8}, {"EXIF", t, tn}};
            size_t fn;
            uint8_t *f = riff(c, 3, &fn);
            rc = img_decode_mem(f, fn, &im);
            if (rc) printf("# %s\n", fh_errmsg());
            char d[96];
            snprintf(d, sizeof d, "WebP with EXIF chunk%s orientation %d upright (%s, %dx%d)",
                     prefix ? " ('Exif\\0\\0' prefixed)" : "", o, quad_want(o), im.w, im.h);
            TEST_COND(d, rc == 0 && quad_ok(&im, o, 10));
            img_free(&im);
            free(f);
        }

    // animation: canvas 64x32; frame 1 = 32x16 red at (16, 8), frame 2 = the quadrants
    uint8_t red[32 * 16 * 3], *rw = NULL;
    for (int i = 0; i < 32 * 16; i++) red[3 * i] = 210, red[3 * i + 1] = 40, red[3 * i + 2] = 40;
    size_t rn = WebPEncodeRGB(red, 32, 16, 32 * 3, 95, &rw);
    size_t rvn = 8 + (size_t)(rw[16] | rw[17] << 8 | rw[18] << 16);
    rvn += rvn & 1;
    uint8_t *f1 = calloc(1, 16 + rvn);
    put_le(f1, 16 / 2, 3), put_le(f1 + 3, 8 / 2, 3), put_le(f1 + 6, 31, 3), put_le(f1 + 9, 15, 3);
    put_le(f1 + 12, 100, 3);   // 100 ms; flags 0
    memcpy(f1 + 16, rw + 12, rvn);
    vp8x(x, 0x02, QW, QH);
    put_le(anmf, 0, 3), put_le(anmf + 3, 0, 3), put_le(anmf + 12, 100, 3);
    struct chunk an[] = {{"VP8X", x, 10}, {"ANIM", anim, 6}, {"ANMF", f1, 16 + rvn}, {"ANMF", anmf, 16 + vn}};
    size_t ann;
    uint8_t *af = riff(an, 4, &ann);
    rc = img_decode_mem(af, ann, &im);
    if (rc) printf("# anim: %s\n", fh_errmsg());
    int ok = rc == 0 && im.w == QW && im.h == QH && (rn > 0);
    for (int y = 0; ok && y < QH; y++)
        for (int xx = 0; ok && xx < QW; xx++) {
            const uint8_t *p = px(&im, xx, y);
            int inside = xx >= 16 && xx < 48 && y >= 8 && y < 24;
            if (inside) ok = abs(p[0] - 210) <= 10 && abs(p[1] - 40) <= 10 && abs(p[2] - 40) <= 10;
            else ok = p[0] == 0 && p[1] == 0 && p[2] == 0;
        }
    TEST_COND("animated WebP -> first frame on a black 64x32 canvas at (16, 8)", ok);
    img_free(&im);
    free(af);
    free(f1);
    WebPFree(rw);
    WebPFree(wp);
}

// ---- JPEG encoder ----------------------------------------------------------------------------
static void test_jpeg_encode(void) {
    struct img im, back;
    img_alloc(&im, 48, 40, 3);
    for (int y = 0; y < 40; y++)
        for (int x = 0; x < 48; x++) {
            uint8_t *p = im.data + (size_t)y * im.stride + (size_t)x * 3;
            p[0] = (uint8_t)(x * 5), p[1] = (uint8_t)(y * 6), p[2] = (uint8_t)(128 + (x - y) * 2);
        }
    uint8_t *j = NULL;
    size_t n = 0;
    int rc = img_encode_jpeg(&im, 95, &j, &n);
    TEST_COND("img_encode_jpeg 48x40 q95 -> JFIF bytes", rc == 0 && n > 200 && j[0] == 0xff && j[1] == 0xd8 &&
                                                             j[n - 2] == 0xff && j[n - 1] == 0xd9);
    rc = img_decode_mem(j, n, &back);
    int maxd = 0;
    double sum = 0;
    for (int i = 0; rc == 0 && i < 48 * 40 * 3; i++) {
        int d = abs(back.data[i] - im.data[i]);
        maxd = d > maxd ? d : maxd, sum += d;
    }
    printf("# jpeg round trip q95: max diff %d, mean %.2f\n", maxd, sum / (48 * 40 * 3));
    TEST_COND("JPEG round trip: dims exact, max diff <= 12, mean <= 2",
              rc == 0 && back.w == 48 && back.h == 40 && maxd <= 12 && sum / (48 * 40 * 3) <= 2);
    img_free(&back);

    // a padded stride gives the same bytes as the packed image
    struct img pad = {.w = 48, .h = 40, .c = 3, .stride = 48 * 3 + 13};
    pad.data = calloc(40, pad.stride);
    for (int y = 0; y < 40; y++) memcpy(pad.data + y * pad.stride, im.data + y * im.stride, 48 * 3);
    uint8_t *j2 = NULL;
    size_t n2 = 0;
    rc = img_encode_jpeg(&pad, 95, &j2, &n2);
    TEST_COND("img_encode_jpeg honours the stride", rc == 0 && n2 == n && memcmp(j, j2, n) == 0);
    fh_free(j2);
    free(pad.data);
    fh_free(j);

    struct img g;
    img_alloc(&g, 20, 12, 1);
    memset(g.data, 90, 20 * 12);
    rc = img_encode_jpeg(&g, 80, &j, &n);
    int rc2 = rc ? rc : img_decode_mem(j, n, &back);
    TEST_COND("grey img encodes and decodes to RGB of the same grey",
              rc2 == 0 && back.w == 20 && back.h == 12 && abs(px(&back, 7, 5)[0] - 90) <= 1 &&
                  px(&back, 7, 5)[0] == px(&back, 7, 5)[2]);
    img_free(&back);
    fh_free(j);
    img_free(&g);

    TEST_COND("quality 0 -> FH_E_ARG", img_encode_jpeg(&im, 0, &j, &n) == FH_E_ARG && !j && !n);
    TEST_COND("quality 101 -> FH_E_ARG", img_encode_jpeg(&im, 101, &j, &n) == FH_E_ARG);
    struct img four = im;
    four.c = 4;
    TEST_COND("4 channels -> FH_E_ARG", img_encode_jpeg(&four, 90, &j, &n) == FH_E_ARG);
    struct img empty = {0};
    TEST_COND("empty img -> FH_E_ARG", img_encode_jpeg(&empty, 90, &j, &n) == FH_E_ARG);

    // out of memory: the state (1st), the output buffer (2nd), its growth (3rd, noise
    // at q100 needs more than the initial half byte per sample)
    struct img noise;
    img_alloc(&noise, 64, 64, 3);
    for (size_t i = 0; i < 64 * 64 * 3; i++) noise.data[i] = rnd8();
    for (int k = 1; k <= 3; k++) {
        fh_alloc_fail_after(k);
        rc = img_encode_jpeg(&noise, 100, &j, &n);
        fh_alloc_fail_after(0);
        char d[64];
        snprintf(d, sizeof d, "allocation %d fails -> FH_E_NOMEM, nothing returned", k);
        printf("# %s\n", fh_errmsg());
        TEST_COND(d, rc == FH_E_NOMEM && !j && !n);
    }
    rc = img_encode_jpeg(&noise, 100, &j, &n);
    rc2 = rc ? rc : img_decode_mem(j, n, &back);
    TEST_COND("noise q100 (buffer grows) round trips", rc2 == 0 && n > 64 * 64 * 3 / 2 && back.w == 64);
    img_free(&back);
    fh_free(j);
    img_free(&noise);
    img_free(&im);
}

// ---- crop + resize ----------------------------------------------------------------------------
static uint8_t pat(int x, int y, int k) { return (uint8_t)(1 + (x * 7 + y * 3 + k * 50) % 250); }

// dst (size s = region side) must equal src shifted by (left, top), black outside src
static int crop_exact(const struct img *src, const struct img *dst, int left, int top) {
    for (int y = 0; y < dst->h; y++)
        for (int x = 0; x < dst->w; x++)
            for (int k = 0; k < dst->c; k++) {
                int sx = left + x, sy = top + y;
                int want = sx >= 0 && sy >= 0 && sx < src->w && sy < src->h ? pat(sx, sy, k) : 0;
                if (px(dst, x, y)[k] != want) return 0;
            }
    return 1;
}

static void test_crop(void) {
    struct img src, d;
    img_alloc(&src, 100, 80, 3);
    for (int y = 0; y < 80; y++)
        for (int x = 0; x < 100; x++)
            for (int k = 0; k < 3; k++) src.data[(size_t)y * src.stride + x * 3 + k] = pat(x, y, k);
    // (10,10)-(30,30): m = 20, pad round(4) = 4, side 28, left = top = 10 - 4 = 6
    int rc = img_crop_resize(&src, 10, 10, 30, 30, 28, &d);
    TEST_COND("box 20x20 -> 28x28 square from (6,6), 1:1 copy", rc == 0 && d.w == 28 && d.h == 28 && d.c == 3 &&
                                                                    crop_exact(&src, &d, 6, 6));
    img_free(&d);
    // (0,0)-(20,20) at the corner: square from (-4,-4), first 4 rows/columns black
    rc = img_crop_resize(&src, 0, 0, 20, 20, 28, &d);
    TEST_COND("box at the top-left corner: black 4-pixel band, rest copied",
              rc == 0 && crop_exact(&src, &d, -4, -4) && px(&d, 3, 10)[0] == 0 && px(&d, 4, 4)[0] == pat(0, 0, 0));
    img_free(&d);
    // tall box (50,20)-(60,50): m = 30, pad round(6) = 6, side 42, left = 50 - 16, top = 20 - 6
    rc = img_crop_resize(&src, 50, 20, 60, 50, 42, &d);
    TEST_COND("tall box 10x30 -> 42x42 square centred on it", rc == 0 && d.w == 42 && crop_exact(&src, &d, 34, 14));
    img_free(&d);
    // bottom-right (90,70)-(100,80): m = 10, pad round(2) = 2, side 14 from (88,68): the
    // last two columns and rows are outside the 100x80 image
    rc = img_crop_resize(&src, 90, 70, 100, 80, 14, &d);
    TEST_COND("box at the bottom-right corner: 2-pixel black band right and below",
              rc == 0 && crop_exact(&src, &d, 88, 68) && px(&d, 12, 0)[1] == 0 && px(&d, 0, 13)[2] == 0 &&
                  px(&d, 11, 11)[0] == pat(99, 79, 0));
    img_free(&d);
    // same box to 7x7: output (6,6) samples source 12.5 -> columns/rows 12, 13 = outside
    rc = img_crop_resize(&src, 90, 70, 100, 80, 7, &d);
    TEST_COND("downscaled 14 -> 7: size 7x7, bottom-right pixel black",
              rc == 0 && d.w == 7 && d.h == 7 && px(&d, 6, 6)[0] == 0 && px(&d, 6, 6)[1] == 0 && px(&d, 0, 0)[0] != 0);
    img_free(&d);
    // box 50 wide: pad round(10) = 10 -> side 70; size 112 upscales
    rc = img_crop_resize(&src, 25, 15, 75, 65, 112, &d);
    TEST_COND("upscale to 112x112", rc == 0 && d.w == 112 && d.h == 112);
    img_free(&d);
    // m = 12: round(2.4) = 2 -> side 16; m = 13: round(2.6) = 3 -> side 19
    rc = img_crop_resize(&src, 30, 30, 42, 42, 16, &d);
    int ok = rc == 0 && crop_exact(&src, &d, 28, 28);
    img_free(&d);
    rc = img_crop_resize(&src, 30, 30, 43, 43, 19, &d);
    TEST_COND("padding rounds to the nearest pixel (12 -> 16, 13 -> 19)", ok && rc == 0 && crop_exact(&src, &d, 27, 27));
    img_free(&d);
    rc = img_crop_resize(&src, 500, 500, 520, 520, 8, &d);
    ok = rc == 0;
    for (int i = 0; ok && i < 8 * 8 * 3; i++) ok = d.data[i] == 0;
    TEST_COND("box wholly outside the image -> all black", ok);
    img_free(&d);
    TEST_COND("empty box -> FH_E_ARG", img_crop_resize(&src, 10, 10, 10, 30, 8, &d) == FH_E_ARG && !d.data);
    TEST_COND("size 0 -> FH_E_ARG", img_crop_resize(&src, 10, 10, 20, 30, 0, &d) == FH_E_ARG);
    TEST_COND("huge box -> FH_E_ARG", img_crop_resize(&src, -2000000000, 0, 2000000000, 10, 8, &d) == FH_E_ARG);
    struct img g;
    img_alloc(&g, 10, 10, 1);
    rc = img_crop_resize(&g, 2, 2, 6, 6, 5, &d);
    TEST_COND("grey source -> grey 5x5 thumbnail", rc == 0 && d.c == 1 && d.w == 5);
    img_free(&d);
    img_free(&g);
    img_free(&src);
}

// ---- Laplacian variance ------------------------------------------------------------------------
static void test_laplacian(void) {
    struct img im;
    img_alloc(&im, 10, 10, 3);
    for (int i = 0; i < 100; i++) im.data[3 * i] = 90, im.data[3 * i + 1] = 120, im.data[3 * i + 2] = 30;
    TEST_COND("flat RGB image -> exactly 0", img_laplacian_var(&im) == 0.0);
    img_free(&im);

    // 6x6 grey checkerboard 0/255: each of the 16 interior pixels is -4*255 (white, all
    // neighbours black) or +4*255 (black); 8 of each, mean 0, variance 1020^2 = 1040400
    img_alloc(&im, 6, 6, 1);
    for (int y = 0; y < 6; y++)
        for (int x = 0; x < 6; x++) im.data[y * 6 + x] = (x + y) & 1 ? 255 : 0;
    double v = img_laplacian_var(&im);
    printf("# checkerboard: %.6f\n", v);
    TEST_COND("6x6 grey checkerboard -> 1040400", v == 1040400.0);
    img_free(&im);
    // 7x5 RGB checkerboard white/black: of the 5x3 = 15 interior pixels, those with x+y
    // even are white (8 of them: -1020), the odd ones black (7: +1020);
    // mean = (7-8)*1020/15 = -68, variance = 1020^2 - 68^2 = 1035776
    img_alloc(&im, 7, 5, 3);
    for (int y = 0; y < 5; y++)
        for (int x = 0; x < 7; x++) memset(im.data + (y * 7 + x) * 3, (x + y) & 1 ? 0 : 255, 3);
    v = img_laplacian_var(&im);
    printf("# rgb checkerboard: %.6f\n", v);
    TEST_COND("7x5 RGB checkerboard -> 1035776 (grey white = 255 within rounding)", fabs(v - 1035776.0) < 1e-6);
    img_free(&im);
    // one pixel of 100 in a 5x5 black grey image: interior 3x3 = -400 (centre), +100 (4
    // edge neighbours), 0 (4 corners): mean 0, variance (160000 + 4*10000)/9
    img_alloc(&im, 5, 5, 1);
    im.data[2 * 5 + 2] = 100;
    v = img_laplacian_var(&im);
    TEST_COND("single bright pixel -> 200000/9", fabs(v - 200000.0 / 9) < 1e-9);
    img_free(&im);
    img_alloc(&im, 9, 4, 1);
    for (int y = 0; y < 4; y++)
        for (int x = 0; x < 9; x++) im.data[y * 9 + x] = (uint8_t)(10 + 20 * x + 5 * y);
    TEST_COND("linear ramp -> 0", img_laplacian_var(&im) == 0.0);
    img_free(&im);
    img_alloc(&im, 2, 9, 3);
    TEST_COND("2x9 image (no interior) -> 0", img_laplacian_var(&im) == 0.0);
    img_free(&im);
}

int main(void) {
    test_heif();
    test_webp();
    test_jpeg_encode();
    test_crop();
    test_laplacian();
    return TEST_REPORT();
}
