// SPDX-License-Identifier: MIT
// img_decode_heif_mem: HEIF/HEIC (HEVC via libde265) and AVIF (AV1 via dav1d/aom), all
// through libheif, primary image only, into 8-bit RGB. libheif applies the geometric
// transformations of the primary item (clap crop, irot rotation, imir mirror) itself:
// those properties are what HEIF defines as the display orientation. An EXIF
// Orientation tag inside a HEIF file is informative only (iPhones write the same
// rotation into both, for old readers), so it is deliberately NOT applied on top; doing
// so would rotate such photos twice.
//
// libheif allocates its own pixel buffer (operator new, not fh_malloc) and we copy it
// into an img, so a decode briefly holds two copies. The limits below are checked from
// the item properties (ispe + transformations) before libheif decodes anything.
#include "img/img.h"

#include <string.h>

#include <libheif/heif.h>

#include "base/base.h"

// Maps a libheif error to our status and copies its message (libheif owns the text).
static int heif_status(struct heif_error e, const char *what) {
    int code = FH_E_FORMAT;   // Invalid_input, Decoder_plugin_error, Unsupported_filetype, ...
    if (e.code == heif_error_Memory_allocation_error)
        code = e.subcode == heif_suberror_Security_limit_exceeded ? FH_E_LIMIT : FH_E_NOMEM;
    else if (e.code == heif_error_Unsupported_feature)
        code = FH_E_UNSUPPORTED;   // e.g. a codec this libheif build lacks (JPEG, VVC, ...)
    const char *m = e.message ? e.message : "unknown error";
    int len = (int)strcspn(m, "\n");   // some libheif messages end in a newline
    return fh_fail(code, "heif: %s: %.*s", what, len, m);
}

static int heif_check_size(int w, int h) {
    if (w < 1 || h < 1) return fh_fail(FH_E_FORMAT, "heif: bad image size %dx%d", w, h);
    if (w > FH_MAX_IMAGE_SIDE || h > FH_MAX_IMAGE_SIDE ||
        (uint64_t)w * (uint64_t)h > FH_MAX_IMAGE_PIXELS)
        return fh_fail(FH_E_LIMIT, "heif: %dx%d exceeds the image size limit", w, h);
    return FH_OK;
}

// Everything libheif hands us, released in one place whatever happened.
struct hctx {
    struct heif_context *ctx;
    struct heif_image_handle *handle;
    struct heif_decoding_options *opt;
    struct heif_image *im;
};

static int heif_run(struct hctx *x, const uint8_t *buf, size_t n, struct img *out) {
    if (!(x->ctx = heif_context_alloc())) return fh_fail(FH_E_NOMEM, "heif: out of memory");
    // libheif's own guard (a security limit on width/height) stops absurd ispe sizes
    // while parsing; ours below gives the exact limits of base/limits.h.
    heif_context_set_maximum_image_size_limit(x->ctx, FH_MAX_IMAGE_SIDE);
    // Grid tiles (iPhone photos are 512x512 tiles) are decoded on the calling thread:
    // the caller decides parallelism (one decode per worker), not the decoder.
    heif_context_set_max_decoding_threads(x->ctx, 0);
    struct heif_error e = heif_context_read_from_memory_without_copy(x->ctx, buf, n, NULL);
    if (e.code) return heif_status(e, "cannot parse file");
    if ((e = heif_context_get_primary_image_handle(x->ctx, &x->handle)).code)
        return heif_status(e, "no primary image");
    // the coded size (what the codec allocates) and the displayed size (after clap/irot)
    int rc = heif_check_size(heif_image_handle_get_ispe_width(x->handle), heif_image_handle_get_ispe_height(x->handle));
    if (!rc) rc = heif_check_size(heif_image_handle_get_width(x->handle), heif_image_handle_get_height(x->handle));
    if (rc) return rc;
    if (!(x->opt = heif_decoding_options_alloc())) return fh_fail(FH_E_NOMEM, "heif: out of memory");
    x->opt->ignore_transformations = 0;   // apply clap/irot/imir (the default, stated)
    x->opt->convert_hdr_to_8bit = 1;      // 10/12-bit HEIC -> 8 bit
    x->opt->strict_decoding = 1;          // damaged data is an error, not a warning
    if ((e = heif_decode_image(x->handle, &x->im, heif_colorspace_RGB, heif_chroma_interleaved_RGB, x->opt)).code)
        return heif_status(e, "cannot decode image");
    int w = heif_image_get_width(x->im, heif_channel_interleaved);
    int h = heif_image_get_height(x->im, heif_channel_interleaved), stride = 0;
    const uint8_t *p = heif_image_get_plane_readonly(x->im, heif_channel_interleaved, &stride);
    if (!p || heif_image_get_bits_per_pixel_range(x->im, heif_channel_interleaved) != 8 || stride < 3 * w)
        return fh_fail(FH_E_FORMAT, "heif: decoder returned no 8-bit RGB plane");
    if ((rc = heif_check_size(w, h)) || (rc = img_alloc(out, w, h, 3))) return rc;
    for (int y = 0; y < h; y++) memcpy(out->data + (size_t)y * out->stride, p + (size_t)y * stride, (size_t)w * 3);
    return FH_OK;
}

int img_decode_heif_mem(const uint8_t *buf, size_t n, struct img *out) {
    memset(out, 0, sizeof *out);
    struct hctx x = {0};
    int rc = heif_run(&x, buf, n, out);
    heif_image_release(x.im);
    heif_decoding_options_free(x.opt);
    heif_image_handle_release(x.handle);
    heif_context_free(x.ctx);
    if (rc) img_free(out);
    return rc;
}
