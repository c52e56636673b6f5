// SPDX-License-Identifier: MIT
// img_decode_*: format sniffing, JPEG (libjpeg-turbo + libexif orientation) and PNG
// (libpng); HEIF/AVIF (heif.c) and WebP (webp.c) are sniffed here and decoded there.
// libjpeg and libpng report fatal errors by calling a handler that must not
// return; we longjmp back out of it. To keep that well defined, each decoder's state
// lives in a struct owned by the caller of the function that calls setjmp, so nothing
// local to the setjmp frame changes before a longjmp, and cleanup happens in the caller.
#include "img/img.h"

#include <setjmp.h>
#include <stdio.h>
#include <string.h>

#include <jpeglib.h>
#include <jerror.h>   // after jpeglib.h: its jconfig.h decides which JWRN_ codes exist
#include <libexif/exif-data.h>
#include <png.h>

#include "base/base.h"

// Checks a header-declared size against limits/img.h before anything is allocated.
static int check_size(const char *fmt, uint64_t w, uint64_t h) {
    if (w < 1 || h < 1) return fh_fail(FH_E_FORMAT, "%s: empty image (%llux%llu)", fmt,
                                       (unsigned long long)w, (unsigned long long)h);
    if (w > FH_MAX_IMAGE_SIDE || h > FH_MAX_IMAGE_SIDE || w * h > FH_MAX_IMAGE_PIXELS)
        return fh_fail(FH_E_LIMIT, "%s: %llux%llu exceeds the image size limit", fmt,
                       (unsigned long long)w, (unsigned long long)h);
    return FH_OK;
}

// ---- EXIF orientation -----------------------------------------------------------------
// Orientation tag value (1..8) of an APP1 "Exif\0\0" payload; 1 when absent or unreadable.
static int exif_orientation(const uint8_t *d, unsigned n) {
    if (n < 6 || memcmp(d, "Exif\0\0", 6) != 0) return 1;
    ExifData *ed = exif_data_new_from_data(d, n);
    if (!ed) return 1;
    int o = 1;
    ExifEntry *e = exif_content_get_entry(ed->ifd[EXIF_IFD_0], EXIF_TAG_ORIENTATION);
    if (e && e->format == EXIF_FORMAT_SHORT && e->components >= 1 && e->data)
        o = exif_get_short(e->data, exif_data_get_byte_order(ed));
    exif_data_unref(ed);
    return o >= 1 && o <= 8 ? o : 1;
}

// Makes the stored image upright for EXIF orientation o. Output pixel (x, y) reads
// stored pixel (u, v) = transpose ? (y, x) : (x, y), each mirrored where flagged.
static int apply_orientation(struct img *im, int o) {
    static const struct { uint8_t tr, fx, fy; } tab[9] = {
        {0, 0, 0}, {0, 0, 0}, {0, 1, 0}, {0, 1, 1}, {0, 0, 1}, // -,1 id, 2 mirror, 3 rot180, 4 flip
        {1, 0, 0}, {1, 0, 1}, {1, 1, 1}, {1, 1, 0},            // 5 transpose, 6 cw, 7 transverse, 8 ccw
    };
    if (o == 1) return FH_OK;
    const int W = im->w, H = im->h, c = im->c, tr = tab[o].tr, fx = tab[o].fx, fy = tab[o].fy;
    struct img r;
    int rc = img_alloc(&r, tr ? H : W, tr ? W : H, c);
    if (rc) return rc;
    for (int y = 0; y < r.h; y++)
        for (int x = 0; x < r.w; x++) {
            int u = tr ? y : x, v = tr ? x : y;
            if (fx) u = W - 1 - u;
            if (fy) v = H - 1 - v;
            memcpy(r.data + (size_t)y * r.stride + (size_t)x * c, im->data + (size_t)v * im->stride + (size_t)u * c, c);
        }
    img_free(im);
    *im = r;
    return FH_OK;
}

// ---- JPEG -------------------------------------------------------------------------------
struct jctx {
    struct jpeg_decompress_struct cinfo;
    struct jpeg_error_mgr jerr;
    jmp_buf jb;
    char msg[JMSG_LENGTH_MAX];
    struct img *out;
    uint8_t *row;    // CMYK scanline, converted to RGB
};

static void jpeg_fatal(j_common_ptr ci) {
    struct jctx *x = (struct jctx *)ci->client_data;
    ci->err->format_message(ci, x->msg);
    longjmp(x->jb, 1);
}

// libjpeg only warns about truncated or corrupt entropy data and fills the rest of the
// image with grey; a face index must not silently store such half images, so those
// warnings are fatal. Harmless ones (unknown JFIF revision, bad ICC or Adobe marker) pass.
static void jpeg_emit(j_common_ptr ci, int level) {
    if (level != -1) return;   // trace messages
    switch (ci->err->msg_code) {
    case JWRN_JPEG_EOF: case JWRN_HIT_MARKER: case JWRN_HUFF_BAD_CODE: case JWRN_ARITH_BAD_CODE:
    case JWRN_MUST_RESYNC: case JWRN_EXTRANEOUS_DATA: case JWRN_NOT_SEQUENTIAL:
    case JWRN_BOGUS_PROGRESSION:
        jpeg_fatal(ci);
    }
}

static void jpeg_quiet(j_common_ptr ci) { (void)ci; }

static int jpeg_run(struct jctx *x, const uint8_t *buf, size_t n) {
    struct jpeg_decompress_struct *ci = &x->cinfo;
    ci->err = jpeg_std_error(&x->jerr);
    x->jerr.error_exit = jpeg_fatal;
    x->jerr.emit_message = jpeg_emit;
    x->jerr.output_message = jpeg_quiet;
    ci->client_data = x;
    if (setjmp(x->jb)) return fh_fail(FH_E_FORMAT, "jpeg: %s", x->msg);
    jpeg_create_decompress(ci);
    jpeg_mem_src(ci, buf, (unsigned long)n);
    jpeg_save_markers(ci, JPEG_APP0 + 1, 0xffff);
    jpeg_read_header(ci, TRUE);
    int rc = check_size("jpeg", ci->image_width, ci->image_height);
    if (rc) return rc;
    int orient = 1;
    for (jpeg_saved_marker_ptr m = ci->marker_list; m; m = m->next)
        if (m->marker == JPEG_APP0 + 1 && (orient = exif_orientation(m->data, m->data_length)) != 1) break;
    // CMYK cannot be converted to RGB by libjpeg; Adobe (the writer of nearly all CMYK
    // JPEGs) stores the inks inverted, so then R = C*K/255.
    int cmyk = ci->jpeg_color_space == JCS_CMYK || ci->jpeg_color_space == JCS_YCCK;
    ci->out_color_space = cmyk ? JCS_CMYK : JCS_RGB;
    jpeg_start_decompress(ci);
    if ((rc = img_alloc(x->out, (int)ci->output_width, (int)ci->output_height, 3))) return rc;
    if (cmyk && !(x->row = fh_malloc((size_t)ci->output_width * 4)))
        return fh_fail(FH_E_NOMEM, "jpeg: cannot allocate a scanline");
    while (ci->output_scanline < ci->output_height) {
        uint8_t *dst = x->out->data + (size_t)ci->output_scanline * x->out->stride;
        JSAMPROW r = cmyk ? x->row : dst;
        jpeg_read_scanlines(ci, &r, 1);
        for (unsigned i = 0; cmyk && i < ci->output_width; i++) {
            const uint8_t *p = x->row + 4 * i;
            for (int k = 0; k < 3; k++) {
                unsigned v = ci->saw_Adobe_marker ? p[k] * p[3] : (255u - p[k]) * (255u - p[3]);
                dst[3 * i + k] = (uint8_t)((v + 127) / 255);
            }
        }
    }
    jpeg_finish_decompress(ci);
    return apply_orientation(x->out, orient);
}

static int decode_jpeg(const uint8_t *buf, size_t n, struct img *out) {
    struct jctx *x = fh_calloc(1, sizeof *x);   // ~1 KB of libjpeg state: keep it off the stack
    if (!x) return fh_fail(FH_E_NOMEM, "jpeg: out of memory");
    x->out = out;
    int rc = jpeg_run(x, buf, n);
    jpeg_destroy_decompress(&x->cinfo);
    fh_free(x->row);
    fh_free(x);
    return rc;
}

// ---- PNG --------------------------------------------------------------------------------
struct pctx {
    png_structp png;
    png_infop info;
    const uint8_t *buf;
    size_t n, pos;
    char msg[256];
    struct img *out;
    png_bytep *rows;
};

static void png_fatal(png_structp png, png_const_charp m) {
    struct pctx *x = png_get_error_ptr(png);
    snprintf(x->msg, sizeof x->msg, "%s", m);
    png_longjmp(png, 1);
}

static void png_quiet(png_structp png, png_const_charp m) { (void)png, (void)m; }

static void png_read_mem(png_structp png, png_bytep dst, png_size_t len) {
    struct pctx *x = png_get_io_ptr(png);
    if (len > x->n - x->pos) png_error(png, "truncated file");
    memcpy(dst, x->buf + x->pos, len);
    x->pos += len;
}

static int png_run(struct pctx *x) {
    png_structp png = x->png;
    png_infop info = x->info;
    if (setjmp(png_jmpbuf(png))) return fh_fail(FH_E_FORMAT, "png: %s", x->msg);
    png_set_read_fn(png, x, png_read_mem);
    // libpng's own size limit would fail as a format error; ours below says FH_E_LIMIT
    png_set_user_limits(png, 0x7fffffff, 0x7fffffff);
    png_read_info(png, info);
    png_uint_32 w = png_get_image_width(png, info), h = png_get_image_height(png, info);
    int rc = check_size("png", w, h);
    if (rc) return rc;
    png_set_expand(png);          // palette -> RGB, grey < 8 bit -> 8 bit, tRNS -> alpha
    png_set_scale_16(png);        // 16 -> 8 bit, rounded (v*255/65535), not truncated
    png_set_strip_alpha(png);     // dropped, not composited: faces do not need it
    png_set_gray_to_rgb(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    if (png_get_rowbytes(png, info) != (size_t)w * 3) png_error(png, "unexpected row layout");
    if ((rc = img_alloc(x->out, (int)w, (int)h, 3))) return rc;
    if (!(x->rows = fh_malloc(sizeof *x->rows * h))) return fh_fail(FH_E_NOMEM, "png: out of memory");
    for (png_uint_32 y = 0; y < h; y++) x->rows[y] = x->out->data + (size_t)y * x->out->stride;
    png_read_image(png, x->rows);
    png_read_end(png, NULL);      // also refuses files cut after the image data
    return FH_OK;
}

static int decode_png(const uint8_t *buf, size_t n, struct img *out) {
    struct pctx x = {.buf = buf, .n = n, .out = out};
    x.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &x, png_fatal, png_quiet);
    if (!x.png || !(x.info = png_create_info_struct(x.png))) {
        png_destroy_read_struct(&x.png, NULL, NULL);
        return fh_fail(FH_E_NOMEM, "png: out of memory");
    }
    int rc = png_run(&x);
    png_destroy_read_struct(&x.png, &x.info, NULL);
    fh_free(x.rows);
    return rc;
}

// ---- entry points -----------------------------------------------------------------------
int img_exif_orientation(const uint8_t *exif, size_t n) {
    return n > 0xffffffffu ? 1 : exif_orientation(exif, (unsigned)n);
}

int img_orientation_mem(const uint8_t *buf, size_t n) {
    if (n >= 12 && memcmp(buf, "RIFF", 4) == 0 && memcmp(buf + 8, "WEBP", 4) == 0) return img_webp_orientation_mem(buf, n);
    if (n < 4 || buf[0] != 0xff || buf[1] != 0xd8) return 1;
    // JPEG: the segments before the scan, as jpeg_run reads them (the first APP1 that says != 1)
    for (size_t i = 2; i + 4 <= n;) {
        if (buf[i] != 0xff) return 1;
        unsigned m = buf[i + 1];
        if (m == 0xff) { i++; continue; }   // fill byte
        if (m == 0xd8 || m == 0x01 || (m >= 0xd0 && m <= 0xd7)) { i += 2; continue; }
        if (m == 0xda || m == 0xd9) return 1;
        size_t len = (size_t)buf[i + 2] << 8 | buf[i + 3];
        if (len < 2 || i + 2 + len > n) return 1;
        int o = m == 0xe1 ? img_exif_orientation(buf + i + 4, len - 2) : 1;
        if (o != 1) return o;
        i += 2 + len;
    }
    return 1;
}

int img_orient(struct img *im, int orientation) {
    return apply_orientation(im, orientation >= 1 && orientation <= 8 ? orientation : 1);
}

// A HEIF-family file starts with an ISO-BMFF 'ftyp' box; its major or one of its
// compatible brands says still image (heic/heix/heim/heis: HEVC, mif1/msf1: generic
// HEIF, avif/avis: AV1). Movies (isom, mp42, qt) share the box but not these brands.
static int is_heif(const uint8_t *buf, size_t n) {
    static const char brands[][5] = {"heic", "heix", "heim", "heis", "hevc", "hevx", "mif1", "msf1", "avif", "avis"};
    if (n < 16 || memcmp(buf + 4, "ftyp", 4) != 0) return 0;
    size_t box = (size_t)buf[0] << 24 | (size_t)buf[1] << 16 | (size_t)buf[2] << 8 | buf[3];
    if (box < 16 || box > n) box = n < 64 ? n : 64;   // damaged size: still look at a few brands
    for (size_t i = 8; i + 4 <= box; i += i == 8 ? 8 : 4)   // major brand, skip minor version, compatible
        for (size_t b = 0; b < sizeof brands / sizeof brands[0]; b++)
            if (memcmp(buf + i, brands[b], 4) == 0) return 1;
    return 0;
}

int img_decode_mem(const uint8_t *buf, size_t n, struct img *out) {
    memset(out, 0, sizeof *out);
    int rc;
    if (n >= 3 && buf[0] == 0xff && buf[1] == 0xd8 && buf[2] == 0xff)
        rc = decode_jpeg(buf, n, out);
    else if (n >= 8 && memcmp(buf, "\x89PNG\r\n\x1a\n", 8) == 0)
        rc = decode_png(buf, n, out);
    else if (is_heif(buf, n))
        rc = img_decode_heif_mem(buf, n, out);
    else if (n >= 12 && memcmp(buf, "RIFF", 4) == 0 && memcmp(buf + 8, "WEBP", 4) == 0)
        rc = img_decode_webp_mem(buf, n, out);
    else
        rc = fh_fail(FH_E_FORMAT, n ? "not a JPEG, PNG, HEIF/AVIF or WebP image" : "empty file");
    if (rc) img_free(out);
    return rc;
}

int img_decode_file(const char *path, struct img *out) {
    memset(out, 0, sizeof *out);
    uint8_t *buf;
    size_t n;
    int rc = fh_read_file(path, FH_MAX_IMAGE_FILE_BYTES, &buf, &n);
    if (rc) return rc;   // message already names the file
    rc = img_decode_mem(buf, n, out);
    fh_free(buf);
    if (rc) {
        char m[512];   // fh_fail overwrites fh_errmsg()'s buffer: copy it first
        snprintf(m, sizeof m, "%s", fh_errmsg());
        fh_fail(rc, "%s: %s", path, m);
    }
    return rc;
}
