// SPDX-License-Identifier: MIT
// img: decoder against the golden sha256 of the samples, resize against the golden
// pyramid levels, refusal of damaged input, EXIF orientation, PNG pixel formats.
// Test inputs that are not on disk (EXIF JPEGs, PNGs, broken files) are built here
// with libjpeg/libpng directly, so they are independent of the decoder under test.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jpeglib.h>
#include <png.h>

#include "base/base.h"
#include "harness.h"
#include "img/img.h"

#define SAMPLES FH_MODELS "/samples/"
#define GOLDEN FH_SHARED "/golden/tflite/"

// ---- helpers ---------------------------------------------------------------------------
static uint8_t *load(const char *path, size_t *n) {
    uint8_t *b = NULL;
    if (fh_read_file(path, 1u << 28, &b, n)) printf("# cannot read %s: %s\n", path, fh_errmsg());
    return b;
}

// Writes bytes to a fresh /tmp file whose name ends in suffix; returns the path (static).
static const char *tmp_write(const void *d, size_t n, const char *suffix) {
    static char path[64];
    snprintf(path, sizeof path, "/tmp/fh_test_img_XXXXXX%s", suffix);
    int fd = mkstemps(path, (int)strlen(suffix));
    if (fd < 0 || write(fd, d, n) != (ssize_t)n) abort();
    close(fd);
    return path;
}

static int decode_tmp(const void *d, size_t n, const char *suffix, struct img *im) {
    const char *p = tmp_write(d, n, suffix);
    int rc = img_decode_file(p, im);
    unlink(p);
    return rc;
}

static const uint8_t *px(const struct img *im, int x, int y) {
    return im->data + (size_t)y * im->stride + (size_t)x * im->c;
}

// Encodes w x h pixels (1 = grey, 3 = RGB or 4 = CMYK components) at quality 100 with no chroma
// subsampling, so flat 8x8 blocks come back nearly exact.
static uint8_t *jpeg_encode(const uint8_t *pix, int w, int h, int comps, size_t *n) {
    struct jpeg_compress_struct ci;
    struct jpeg_error_mgr err;
    unsigned char *out = NULL;
    unsigned long len = 0;
    ci.err = jpeg_std_error(&err);
    jpeg_create_compress(&ci);
    jpeg_mem_dest(&ci, &out, &len);
    ci.image_width = w, ci.image_height = h, ci.input_components = comps;
    ci.in_color_space = comps == 4 ? JCS_CMYK : comps == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_set_defaults(&ci);
    jpeg_set_quality(&ci, 100, TRUE);
    for (int i = 0; i < ci.num_components; i++) ci.comp_info[i].h_samp_factor = ci.comp_info[i].v_samp_factor = 1;
    jpeg_start_compress(&ci, TRUE);
    while (ci.next_scanline < ci.image_height) {
        JSAMPROW r = (JSAMPROW)pix + (size_t)ci.next_scanline * w * comps;
        jpeg_write_scanlines(&ci, &r, 1);
    }
    jpeg_finish_compress(&ci);
    jpeg_destroy_compress(&ci);
    *n = len;
    return out;   // malloc'd by libjpeg
}

// Inserts an APP1 Exif segment (TIFF header + IFD0 with one Orientation SHORT) right
// after SOI. big = Motorola byte order, else Intel.
static uint8_t *with_exif(const uint8_t *jpg, size_t n, int orient, int big, size_t *out_n) {
    uint8_t t[26] = {0};
    memcpy(t, big ? "MM\0\x2a\0\0\0\x08" : "II\x2a\0\x08\0\0\0", 8);
    // IFD0 at 8: count 1; entry: tag 0x0112, type 3 (SHORT), count 1, value; next IFD 0
    uint16_t f16[] = {1, 0x0112, 3, 1, 0, (uint16_t)orient, 0};
    int at[] = {8, 10, 12, 14, 16, 18, 20};   // count is 32-bit (14..17), value at 18
    for (int i = 0; i < 7; i++) {
        uint16_t v = f16[i];
        if (i == 3) {   // 32-bit component count
            if (big) t[17] = 1; else t[14] = 1;
            continue;
        }
        if (i == 4) continue;
        t[at[i]] = big ? v >> 8 : v & 255, t[at[i] + 1] = big ? v & 255 : v >> 8;
    }
    size_t seg = 2 + 6 + sizeof t;   // length field counts itself
    uint8_t *o = malloc(n + 2 + seg);
    memcpy(o, jpg, 2);
    o[2] = 0xff, o[3] = 0xe1, o[4] = (uint8_t)(seg >> 8), o[5] = (uint8_t)seg;
    memcpy(o + 6, "Exif\0\0", 6);
    memcpy(o + 12, t, sizeof t);
    memcpy(o + 12 + sizeof t, jpg + 2, n - 2);
    *out_n = n + 2 + seg;
    return o;
}

// Encodes a PNG: rows of packed samples as libpng expects them for the given type.
static uint8_t *png_encode(int w, int h, int color, int depth, int interlace, const uint8_t *rows,
                           size_t rowbytes, const png_color *pal, int npal, const uint8_t *trns,
                           int ntrns, size_t *n) {
    char *buf = NULL;
    FILE *f = open_memstream(&buf, n);
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    png_init_io(png, f);
    png_set_IHDR(png, info, w, h, depth, color, interlace, PNG_COMPRESSION_TYPE_DEFAULT,
                 PNG_FILTER_TYPE_DEFAULT);
    if (pal) png_set_PLTE(png, info, pal, npal);
    if (trns) png_set_tRNS(png, info, trns, ntrns, NULL);
    png_write_info(png, info);
    if (depth == 16) png_set_swap(png);   // our sample rows are little-endian uint16
    png_bytep rp[64];
    for (int y = 0; y < h; y++) rp[y] = (png_bytep)rows + y * rowbytes;
    png_write_image(png, rp);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    fclose(f);
    return (uint8_t *)buf;
}

static uint32_t crc32_(const uint8_t *p, size_t n) {
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++) c = c >> 1 ^ (0xedb88320u & -(c & 1));
    }
    return ~c;
}

static uint8_t *put_chunk(uint8_t *o, const char *type, const uint8_t *d, uint32_t len) {
    o[0] = len >> 24, o[1] = len >> 16, o[2] = len >> 8, o[3] = len;
    memcpy(o + 4, type, 4);
    if (len) memcpy(o + 8, d, len);
    uint32_t c = crc32_(o + 4, len + 4);
    o[8 + len] = c >> 24, o[9 + len] = c >> 16, o[10 + len] = c >> 8, o[11 + len] = c;
    return o + 12 + len;
}

// ---- (a) golden decode, (b) golden resize -------------------------------------------------
static void test_samples(void) {
    static const char *sha[6] = {
        "27b4376eabd44d3d37553b1c2854b68d00d49aaed57968280f082d78327f540e",
        "bd2111ddf3989eeae2c0961bc357880054a71c7e4b884a7a7167aa4716daf2dc",
        "ee7f68cb00d411f75472f8cec663e44426081c7a7d7a257387649431d397c493",
        "0c1e1b357527b597685e0ee76b0ad76a296f0bd595a22fe188a67e358a76b51e",
        "f3b0c618141ae1d678ffc0902812436e14eac24dec59d949d0a7415743c6d88e",
        "903a80d651bfbcf2e7d516f4722a787441fce9e382d99a5903b15c31c76c1f63"};
    static const int hts[6] = {1280, 1367, 1350, 1448, 1398, 1537};
    int match = 0;
    struct img s1 = {0};
    for (int i = 0; i < 6; i++) {
        char path[256], hex[65] = "";
        snprintf(path, sizeof path, SAMPLES "sample%d.jpg", i + 1);
        struct img im;
        double t0 = fh_now_ms();
        int rc = img_decode_file(path, &im);
        double ms = fh_now_ms() - t0;
        if (rc) printf("# %s\n", fh_errmsg());
        else fh_sha256_hex(im.data, (size_t)im.w * im.h * 3, hex);
        int ok = !rc && im.w == 1920 && im.h == hts[i] && im.c == 3 && strcmp(hex, sha[i]) == 0;
        printf("# sample%d: %dx%d %.1f ms sha256 %s\n", i + 1, im.w, im.h, ms, ok ? "matches" : hex);
        match += ok;
        if (i == 0) s1 = im;
        else img_free(&im);
    }
    printf("# %d of 6 decoded sha256 match the golden\n", match);
    TEST_COND("sample1..6 decode to the golden sha256", match == 6);

    // pyramid levels: img_resize_region of the whole photo must equal the golden bytes
    static const int lv[8][2] = {{205, 137}, {146, 97}, {103, 69}, {73, 49},
                                 {52, 35},   {37, 25},  {26, 17}, {18, 12}};
    int all = s1.data != NULL;
    for (int k = 0; k < 8 && s1.data; k++) {
        char path[256];
        snprintf(path, sizeof path, GOLDEN "pnet_L%d_img.u8", k);
        size_t n = 0;
        uint8_t *g = load(path, &n);
        struct img d;
        img_alloc(&d, lv[k][0], lv[k][1], 3);
        img_resize_region(&s1, 0, 0, s1.w, s1.h, &d);
        size_t diff = 0;
        for (size_t i = 0; g && i < n && n == (size_t)d.w * d.h * 3; i++) diff += g[i] != d.data[i];
        int ok = g && n == (size_t)d.w * d.h * 3 && diff == 0;
        printf("# pnet level %d %dx%d: %zu bytes differ\n", k, d.w, d.h, diff);
        all &= ok;
        free(g);
        img_free(&d);
    }
    TEST_COND("resize of sample1 equals the 8 golden pyramid levels byte for byte", all);

    // FaceAntiSpoofing crops: inclusive MTCNN boxes (index.json) resized to 256x256
    static const int fas[2][4] = {{1464, 215, 1693, 444}, {379, 354, 632, 607}};
    size_t fn = 0, fdiff = 0;
    uint8_t *fg = load(GOLDEN "fas_crops256.u8", &fn);
    for (int f = 0; f < 2 && fg && fn == 2 * 256 * 256 * 3 && s1.data; f++) {
        struct img d;
        img_alloc(&d, 256, 256, 3);
        img_resize_region(&s1, fas[f][0], fas[f][1], fas[f][2] - fas[f][0] + 1, fas[f][3] - fas[f][1] + 1, &d);
        for (size_t i = 0; i < (size_t)256 * 256 * 3; i++) fdiff += d.data[i] != fg[f * 256 * 256 * 3 + i];
        img_free(&d);
    }
    printf("# fas crops 256x256: %zu bytes differ\n", fdiff);
    TEST_COND("resize of 2 face regions equals the golden FAS crops", fg && fn == 2 * 256 * 256 * 3 && s1.data && fdiff == 0);
    free(fg);

    // speed: the first (largest) MTCNN level of a 1920x1280 photo, 576x384
    struct img big;
    img_alloc(&big, 576, 384, 3);
    double t0 = fh_now_ms();
    if (s1.data) img_resize_region(&s1, 0, 0, s1.w, s1.h, &big);
    printf("# resize 1920x1280 -> 576x384: %.2f ms\n", fh_now_ms() - t0);
    img_free(&big);

    // region partly outside the image reads zeros; a 1:1 region copies pixels
    struct img r;
    img_alloc(&r, 4, 4, 3);
    if (s1.data) img_resize_region(&s1, -2, -2, 4, 4, &r);
    TEST_COND("region outside the image reads 0",
              s1.data && px(&r, 0, 0)[0] == 0 && px(&r, 1, 1)[2] == 0 && memcmp(px(&r, 2, 2), px(&s1, 0, 0), 3) == 0 &&
                  memcmp(px(&r, 3, 3), px(&s1, 1, 1), 3) == 0);
    img_free(&r);
    img_free(&s1);
}

// ---- (c) bad input ---------------------------------------------------------------------
static void test_bad_input(void) {
    struct img im;
    int rc = img_decode_file("/tmp/fh_test_img_no_such_file.jpg", &im);
    TEST_COND("missing file -> FH_E_IO", rc == FH_E_IO && im.data == NULL);
    rc = decode_tmp("", 0, ".jpg", &im);
    printf("# empty: %s\n", fh_errmsg());
    TEST_COND("empty file -> FH_E_FORMAT", rc == FH_E_FORMAT && im.data == NULL);
    const char *txt = "hello, this is not a picture\n";
    rc = decode_tmp(txt, strlen(txt), ".jpg", &im);
    printf("# text: %s\n", fh_errmsg());
    TEST_COND("text file named .jpg -> FH_E_FORMAT", rc == FH_E_FORMAT);

    size_t n = 0;
    uint8_t *jpg = load(SAMPLES "sample1.jpg", &n);
    if (!jpg) jpg = calloc(1, n = 4);
    rc = decode_tmp(jpg, n / 2, ".jpg", &im);
    printf("# truncated jpeg: %s\n", fh_errmsg());
    TEST_COND("truncated JPEG (first half) -> FH_E_FORMAT", rc == FH_E_FORMAT && im.data == NULL);
    rc = img_decode_mem(jpg, 2000, &im);   // cut inside the headers
    TEST_COND("JPEG cut inside its headers -> FH_E_FORMAT", rc == FH_E_FORMAT);

    // garbage in the middle of the entropy-coded data (after the SOS header)
    size_t sos = 0;
    for (size_t i = 2; i + 3 < n && !sos; i++)
        if (jpg[i] == 0xff && jpg[i + 1] == 0xda) sos = i + 2 + (jpg[i + 2] << 8 | jpg[i + 3]);
    uint32_t s = 12345;
    for (int variant = 0; variant < 2; variant++) {
        uint8_t *bad = malloc(n);
        memcpy(bad, jpg, n);
        size_t mid = sos + (n - sos) / 2;
        for (size_t i = mid; i < mid + 512 && i + 2 < n; i++) {
            s ^= s << 13, s ^= s >> 17, s ^= s << 5;
            // variant 0: no 0xFF (no fake markers, only wrong Huffman bits);
            // variant 1: any byte, which also creates bogus markers
            bad[i] = variant == 0 && (s & 255) == 255 ? 0x55 : (uint8_t)s;
        }
        rc = img_decode_mem(bad, n, &im);
        printf("# corrupt jpeg variant %d: rc %d %s\n", variant, rc, rc ? fh_errmsg() : "(decoded)");
        TEST_COND("corrupt JPEG entropy data -> FH_E_FORMAT", rc == FH_E_FORMAT && im.data == NULL);
        img_free(&im);
        free(bad);
    }

    // a JPEG whose SOF claims 30000x30000: FH_E_LIMIT before the pixel buffer. The
    // allocation after decode's own state (call 1) is made to fail, so reaching
    // img_alloc would give FH_E_NOMEM instead.
    uint8_t px4[8 * 8 * 3] = {0};
    size_t jn;
    uint8_t *small = jpeg_encode(px4, 8, 8, 3, &jn);
    for (size_t i = 2; i + 8 < jn; i++)
        if (small[i] == 0xff && small[i + 1] == 0xc0) {
            small[i + 5] = 30000 >> 8, small[i + 6] = 30000 & 255;   // height
            small[i + 7] = 30000 >> 8, small[i + 8] = 30000 & 255;   // width
            break;
        }
    fh_alloc_fail_after(2);
    rc = img_decode_mem(small, jn, &im);
    fh_alloc_fail_after(0);
    printf("# huge jpeg: %s\n", fh_errmsg());
    TEST_COND("JPEG SOF 30000x30000 -> FH_E_LIMIT before allocating", rc == FH_E_LIMIT);
    free(small);

    // truncated PNG: a noisy 64x64 RGB image cut in half
    uint8_t noise[64 * 64 * 3];
    for (size_t i = 0; i < sizeof noise; i++) s ^= s << 13, s ^= s >> 17, s ^= s << 5, noise[i] = (uint8_t)s;
    size_t pn;
    uint8_t *png = png_encode(64, 64, PNG_COLOR_TYPE_RGB, 8, 0, noise, 64 * 3, NULL, 0, NULL, 0, &pn);
    rc = img_decode_mem(png, pn, &im);
    TEST_COND("noise PNG decodes exactly", rc == 0 && memcmp(im.data, noise, sizeof noise) == 0);
    img_free(&im);
    rc = decode_tmp(png, pn / 2, ".png", &im);
    printf("# truncated png: %s\n", fh_errmsg());
    TEST_COND("truncated PNG -> FH_E_FORMAT", rc == FH_E_FORMAT && im.data == NULL);
    rc = img_decode_mem(png, pn - 12, &im);   // IEND missing
    TEST_COND("PNG without IEND -> FH_E_FORMAT", rc == FH_E_FORMAT);
    png[50] ^= 1;   // inside the IDAT data (which starts at byte 41): critical chunk CRC fails
    rc = img_decode_mem(png, pn, &im);
    printf("# png bad crc: %s\n", fh_errmsg());
    TEST_COND("PNG with a bad IDAT CRC -> FH_E_FORMAT", rc == FH_E_FORMAT);
    free(png);

    // PNG whose IHDR says 100000x100000 (valid CRCs, a small IDAT so libpng reaches it)
    uint8_t h[80], *o = h, ihdr[13] = {0, 1, 0x86, 0xa0, 0, 1, 0x86, 0xa0, 8, 2, 0, 0, 0};
    memcpy(o, "\x89PNG\r\n\x1a\n", 8), o += 8;
    o = put_chunk(o, "IHDR", ihdr, 13);
    o = put_chunk(o, "IDAT", (const uint8_t *)"\x78\x9c\x03\x00\x00\x00\x00\x01", 8);
    o = put_chunk(o, "IEND", NULL, 0);
    fh_alloc_fail_after(1);   // any fh_ allocation before the limit check would show as NOMEM
    rc = img_decode_mem(h, (size_t)(o - h), &im);
    fh_alloc_fail_after(0);
    printf("# huge png: %s\n", fh_errmsg());
    TEST_COND("PNG IHDR 100000x100000 -> FH_E_LIMIT without allocating", rc == FH_E_LIMIT && im.data == NULL);
    free(jpg);
}

// ---- (d) EXIF orientation ----------------------------------------------------------------
static void test_exif(void) {
    // 32x16, quadrants of flat 16x8 (two 8x8 blocks each): R G / B Y
    static const uint8_t col[4][3] = {{220, 30, 30}, {30, 200, 30}, {30, 30, 220}, {230, 230, 40}};
    uint8_t pix[32 * 16 * 3];
    for (int y = 0; y < 16; y++)
        for (int x = 0; x < 32; x++) memcpy(pix + (y * 32 + x) * 3, col[(y >= 8) * 2 + (x >= 16)], 3);
    size_t n;
    uint8_t *jpg = jpeg_encode(pix, 32, 16, 3, &n);
    // expected quadrant colours (TL, TR, BL, BR of the upright image) per orientation,
    // worked out by hand from the EXIF definitions
    static const struct { int o; char q[5]; } cases[] = {
        {1, "RGBY"}, {2, "GRYB"}, {3, "YBGR"}, {4, "BYRG"},
        {5, "RBGY"}, {6, "BRYG"}, {7, "YGBR"}, {8, "GYRB"},
    };
    for (int big = 0; big < 2; big++)
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            size_t en;
            uint8_t *e = with_exif(jpg, n, cases[i].o, big, &en);
            struct img im;
            int rc = img_decode_mem(e, en, &im), ok = rc == 0;
            int swap = cases[i].o >= 5;
            ok = ok && im.w == (swap ? 16 : 32) && im.h == (swap ? 32 : 16);
            for (int q = 0; ok && q < 4; q++) {
                const uint8_t *want = col[strchr("RGBY", cases[i].q[q]) - "RGBY"];
                const uint8_t *got = px(&im, (q & 1 ? 3 : 1) * im.w / 4, (q & 2 ? 3 : 1) * im.h / 4);
                for (int k = 0; k < 3; k++) ok &= abs(got[k] - want[k]) <= 6;
            }
            char d[80];
            snprintf(d, sizeof d, "EXIF orientation %d (%s) upright %dx%d", cases[i].o, big ? "MM" : "II", im.w, im.h);
            TEST_COND(d, ok);
            img_free(&im);
            free(e);
        }
    free(jpg);

    // CMYK JPEG (libjpeg writes an Adobe marker, so inks are stored inverted: raw = RGB, K = 255)
    uint8_t cmyk[16 * 16 * 4];
    for (int i = 0; i < 16 * 16; i++) cmyk[4 * i] = 200, cmyk[4 * i + 1] = 100, cmyk[4 * i + 2] = 50, cmyk[4 * i + 3] = 255;
    uint8_t *cj = jpeg_encode(cmyk, 16, 16, 4, &n);
    struct img im;
    int rc = img_decode_mem(cj, n, &im);
    const uint8_t *p = rc ? NULL : px(&im, 8, 8);
    TEST_COND("Adobe CMYK JPEG -> RGB", p && abs(p[0] - 200) <= 3 && abs(p[1] - 100) <= 3 && abs(p[2] - 50) <= 3);
    img_free(&im);
    free(cj);

    uint8_t grey[16 * 16];
    memset(grey, 77, sizeof grey);
    uint8_t *gj = jpeg_encode(grey, 16, 16, 1, &n);
    rc = img_decode_mem(gj, n, &im);
    p = rc ? NULL : px(&im, 5, 9);
    TEST_COND("greyscale JPEG -> RGB", p && im.c == 3 && p[0] == 77 && p[1] == 77 && p[2] == 77);
    img_free(&im);
    free(gj);
}

// ---- (e) PNG formats -------------------------------------------------------------------------
static void test_png(void) {
    enum { W = 13, H = 7 };
    uint8_t rgb[H][W][3], rows[H][W * 8];
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            rgb[y][x][0] = (uint8_t)(x * 37 + y * 11), rgb[y][x][1] = (uint8_t)(x * 5 + y * 71),
            rgb[y][x][2] = (uint8_t)(x * y * 3 + 17);
    png_color pal[W];
    for (int i = 0; i < W; i++) pal[i] = (png_color){rgb[1][i][0], rgb[1][i][1], rgb[1][i][2]};
    uint8_t trns[W];
    memset(trns, 0, sizeof trns);
    for (int type = 0; type < 8; type++) {
        static const char *name[] = {"rgb8", "grey8", "palette8", "rgb16", "rgba8", "grey-alpha16",
                                     "palette4+tRNS", "rgb8 interlaced"};
        uint8_t want[H][W][3];
        int color = PNG_COLOR_TYPE_RGB, depth = 8, interlace = 0;
        memset(rows, 0, sizeof rows);
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++) {
                const uint8_t *c = rgb[y][x];
                uint8_t *r = rows[y];
                uint8_t g = c[0];
                memcpy(want[y][x], c, 3);
                switch (type) {
                case 0: case 7: memcpy(r + 3 * x, c, 3); interlace = type == 7; break;
                case 1: color = PNG_COLOR_TYPE_GRAY; r[x] = g; memset(want[y][x], g, 3); break;
                case 2: case 6: {
                    int idx = (x + y) % (type == 2 ? W : 8);
                    color = PNG_COLOR_TYPE_PALETTE;
                    if (type == 6) depth = 4, r[x / 2] |= (uint8_t)(idx << (x & 1 ? 0 : 4));
                    else r[x] = (uint8_t)idx;
                    memcpy(want[y][x], &pal[idx], 3);
                    break;
                }
                case 3: depth = 16;   // little-endian samples x*257: exactly x after scaling
                    for (int k = 0; k < 3; k++) r[6 * x + 2 * k] = r[6 * x + 2 * k + 1] = c[k];
                    break;
                case 4: color = PNG_COLOR_TYPE_RGBA; memcpy(r + 4 * x, c, 3); r[4 * x + 3] = (uint8_t)(x * 19); break;
                case 5: color = PNG_COLOR_TYPE_GRAY_ALPHA, depth = 16;
                    r[4 * x] = r[4 * x + 1] = g, r[4 * x + 2] = 7, r[4 * x + 3] = (uint8_t)(y * 30);
                    memset(want[y][x], g, 3);
                    break;
                }
            }
        size_t n;
        uint8_t *png = png_encode(W, H, color, depth, interlace ? PNG_INTERLACE_ADAM7 : 0, &rows[0][0], sizeof rows[0],
                                  color == PNG_COLOR_TYPE_PALETTE ? pal : NULL, type == 2 ? W : 8,
                                  type == 6 ? trns : NULL, 8, &n);
        struct img im;
        int rc = img_decode_mem(png, n, &im);
        char d[80];
        snprintf(d, sizeof d, "PNG %s decodes to the right RGB pixels", name[type]);
        TEST_COND(d, rc == 0 && im.w == W && im.h == H && im.c == 3 && memcmp(im.data, want, sizeof want) == 0);
        img_free(&im);
        free(png);
    }
}

// ---- small API bits ----------------------------------------------------------------------------
static void test_api(void) {
    struct img im;
    TEST_COND("img_alloc refuses 0 width", img_alloc(&im, 0, 5, 3) == FH_E_ARG && !im.data);
    TEST_COND("img_alloc refuses 20001 wide", img_alloc(&im, 20001, 5, 3) == FH_E_LIMIT);
    TEST_COND("img_alloc refuses 15000x15000", img_alloc(&im, 15000, 15000, 3) == FH_E_LIMIT);
    img_free(NULL);
    img_free(&im);
    img_alloc(&im, 3, 2, 3);
    for (int i = 0; i < 18; i++) im.data[i] = (uint8_t)i;
    img_flip_h(&im);
    static const uint8_t want[18] = {6, 7, 8, 3, 4, 5, 0, 1, 2, 15, 16, 17, 12, 13, 14, 9, 10, 11};
    TEST_COND("img_flip_h mirrors rows", memcmp(im.data, want, 18) == 0);
    char path[] = "/tmp/fh_test_img_XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    int rc = img_write_pnm(&im, path);
    size_t n = 0;
    uint8_t *b = load(path, &n);
    unlink(path);
    TEST_COND("img_write_pnm writes P6", rc == 0 && n == 11 + 18 && memcmp(b, "P6\n3 2\n255\n", 11) == 0 &&
                                             memcmp(b + 11, want, 18) == 0);
    free(b);
    img_free(&im);
}

int main(void) {
    test_samples();
    test_bad_input();
    test_exif();
    test_png();
    test_api();
    return TEST_REPORT();
}
