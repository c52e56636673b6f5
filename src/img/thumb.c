// SPDX-License-Identifier: MIT
// Face thumbnails and a blur measure: img_crop_resize (square, padded crop of a face
// box), img_encode_jpeg (libjpeg-turbo into an fh_malloc'd buffer) and
// img_laplacian_var (variance of the grey Laplacian). No face knowledge beyond "box".
#include "img/img.h"

#include <setjmp.h>
#include <stdio.h>
#include <string.h>

#include <jpeglib.h>

#include "base/base.h"

// ---- crop + resize ------------------------------------------------------------------------
int img_crop_resize(const struct img *src, int x1, int y1, int x2, int y2, int size, struct img *dst) {
    memset(dst, 0, sizeof *dst);
    if (!src->data || src->w < 1 || src->h < 1)
        return fh_fail(FH_E_ARG, "img_crop_resize: empty source image");
    int64_t bw = (int64_t)x2 - x1, bh = (int64_t)y2 - y1;
    if (bw < 1 || bh < 1) return fh_fail(FH_E_ARG, "img_crop_resize: empty box (%d,%d)-(%d,%d)", x1, y1, x2, y2);
    if (size < 1 || size > FH_MAX_IMAGE_SIDE) return fh_fail(FH_E_ARG, "img_crop_resize: bad size %d", size);
    int64_t m = bw > bh ? bw : bh, s = m + 2 * ((2 * m + 5) / 10);   // 2*round(m/5), halves up
    if (s > 4 * (int64_t)FH_MAX_IMAGE_SIDE)
        return fh_fail(FH_E_ARG, "img_crop_resize: box side %lld too large", (long long)m);
    // square centred on the box; bw, bh <= s so the halves are >= 0 and round down
    int64_t left = x1 - (s - bw) / 2, top = y1 - (s - bh) / 2;
    if (left < INT32_MIN || top < INT32_MIN || left > INT32_MAX - s || top > INT32_MAX - s)
        return fh_fail(FH_E_ARG, "img_crop_resize: box (%d,%d)-(%d,%d) out of range", x1, y1, x2, y2);
    int rc = img_alloc(dst, size, size, src->c);
    if (rc) return rc;
    img_resize_region(src, (int)left, (int)top, (int)s, (int)s, dst);   // outside src reads 0
    return FH_OK;
}

// ---- JPEG encoder ---------------------------------------------------------------------------
// libjpeg's jpeg_mem_dest allocates with malloc; ours grows an fh_realloc buffer so the
// result follows the library's allocation rule (and its fail-Nth test hook).
struct jenc {
    struct jpeg_compress_struct cinfo;
    struct jpeg_error_mgr jerr;
    struct jpeg_destination_mgr dest;
    jmp_buf jb;
    char msg[JMSG_LENGTH_MAX];
    uint8_t *buf;
    size_t cap;
    int nomem;
};

static void jenc_fatal(j_common_ptr ci) {
    struct jenc *x = (struct jenc *)ci->client_data;
    ci->err->format_message(ci, x->msg);
    longjmp(x->jb, 1);
}

static void jenc_quiet(j_common_ptr ci) { (void)ci; }

static void jenc_init(j_compress_ptr ci) {
    struct jenc *x = (struct jenc *)ci->client_data;
    ci->dest->next_output_byte = x->buf;
    ci->dest->free_in_buffer = x->cap;
}

// Called when the buffer is full (free_in_buffer == 0): double it.
static boolean jenc_grow(j_compress_ptr ci) {
    struct jenc *x = (struct jenc *)ci->client_data;
    uint8_t *p = fh_realloc(x->buf, x->cap * 2);
    if (!p) {
        x->nomem = 1;
        snprintf(x->msg, sizeof x->msg, "cannot grow the output buffer to %zu bytes", x->cap * 2);
        longjmp(x->jb, 1);
    }
    x->buf = p;
    ci->dest->next_output_byte = p + x->cap;
    ci->dest->free_in_buffer = x->cap;
    x->cap *= 2;
    return TRUE;
}

static void jenc_term(j_compress_ptr ci) { (void)ci; }

static int jenc_run(struct jenc *x, const struct img *im, int quality, size_t *n) {
    struct jpeg_compress_struct *ci = &x->cinfo;
    ci->err = jpeg_std_error(&x->jerr);
    x->jerr.error_exit = jenc_fatal;
    x->jerr.output_message = jenc_quiet;
    ci->client_data = x;
    if (setjmp(x->jb)) return fh_fail(x->nomem ? FH_E_NOMEM : FH_E_FORMAT, "jpeg encode: %s", x->msg);
    jpeg_create_compress(ci);
    // a face thumbnail at quality ~90 takes well under 1 byte/pixel; start there
    x->cap = (size_t)im->w * (size_t)im->h * (size_t)im->c / 2 + 1024;
    if (!(x->buf = fh_malloc(x->cap))) return fh_fail(FH_E_NOMEM, "jpeg encode: out of memory");
    x->dest = (struct jpeg_destination_mgr){.init_destination = jenc_init, .empty_output_buffer = jenc_grow,
                                            .term_destination = jenc_term};
    ci->dest = &x->dest;
    ci->image_width = (JDIMENSION)im->w;
    ci->image_height = (JDIMENSION)im->h;
    ci->input_components = im->c;
    ci->in_color_space = im->c == 3 ? JCS_RGB : JCS_GRAYSCALE;
    jpeg_set_defaults(ci);
    jpeg_set_quality(ci, quality, TRUE);
    jpeg_start_compress(ci, TRUE);
    while (ci->next_scanline < ci->image_height) {
        JSAMPROW r = im->data + (size_t)ci->next_scanline * im->stride;
        jpeg_write_scanlines(ci, &r, 1);
    }
    jpeg_finish_compress(ci);
    *n = x->cap - x->dest.free_in_buffer;
    return FH_OK;
}

int img_encode_jpeg(const struct img *im, int quality, uint8_t **out, size_t *n) {
    *out = NULL;
    *n = 0;
    if (!im->data || im->w < 1 || im->h < 1 || (im->c != 1 && im->c != 3))
        return fh_fail(FH_E_ARG, "jpeg encode: need a non-empty RGB or grey image (%dx%dx%d)", im->w, im->h, im->c);
    if (quality < 1 || quality > 100) return fh_fail(FH_E_ARG, "jpeg encode: quality %d not in 1..100", quality);
    struct jenc *x = fh_calloc(1, sizeof *x);   // libjpeg state: keep it off the stack
    if (!x) return fh_fail(FH_E_NOMEM, "jpeg encode: out of memory");
    size_t len = 0;
    int rc = jenc_run(x, im, quality, &len);
    jpeg_destroy_compress(&x->cinfo);
    if (rc) {
        fh_free(x->buf);
    } else {
        *out = x->buf;
        *n = len;
    }
    fh_free(x);
    return rc;
}

// ---- blur measure ---------------------------------------------------------------------------
static double grey_at(const struct img *im, int x, int y) {
    const uint8_t *p = im->data + (size_t)y * im->stride + (size_t)x * im->c;
    return im->c == 1 ? p[0] : 0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2];
}

// Summed as (up + down) + (left + right): on a flat image that is 2g + 2g = 4g exactly,
// so flat regions give exactly 0 rather than a rounding residue.
static double lap_at(const struct img *im, int x, int y) {
    return (grey_at(im, x, y - 1) + grey_at(im, x, y + 1)) + (grey_at(im, x - 1, y) + grey_at(im, x + 1, y)) -
           4 * grey_at(im, x, y);
}

double img_laplacian_var(const struct img *im) {
    FH_ASSERT(im->c == 1 || im->c == 3);
    if (!im->data || im->w < 3 || im->h < 3) return 0.0;
    // two passes (mean, then squared deviations): no cancellation, no buffer; a 112x112
    // crop is ~12k interior pixels, recomputing the Laplacian is cheaper than storing it
    double sum = 0;
    for (int y = 1; y < im->h - 1; y++)
        for (int x = 1; x < im->w - 1; x++) sum += lap_at(im, x, y);
    const double cnt = (double)(im->w - 2) * (im->h - 2), mean = sum / cnt;
    double ss = 0;
    for (int y = 1; y < im->h - 1; y++)
        for (int x = 1; x < im->w - 1; x++) {
            double d = lap_at(im, x, y) - mean;
            ss += d * d;
        }
    return ss / cnt;
}
