// SPDX-License-Identifier: MIT
// img_decode_webp_mem: WebP (lossy VP8, lossless VP8L, with or without alpha, simple or
// extended VP8X container) via libwebp + libwebpdemux into 8-bit RGB. Alpha is dropped,
// not composited (as for PNG). An animation yields its first frame drawn on a black
// canvas of the animation's size (a first frame blends onto a transparent canvas, so
// its own RGB values are the result). The EXIF chunk's Orientation is applied with the
// same code as for JPEG. libwebp decodes straight into our img: no second pixel copy.
#include "img/img.h"

#include <string.h>

#include <webp/decode.h>
#include <webp/demux.h>

#include "base/base.h"

static int webp_status(VP8StatusCode s, const char *what) {
    switch (s) {
    case VP8_STATUS_OK: return FH_OK;
    case VP8_STATUS_OUT_OF_MEMORY: return fh_fail(FH_E_NOMEM, "webp: %s: out of memory", what);
    case VP8_STATUS_NOT_ENOUGH_DATA: return fh_fail(FH_E_FORMAT, "webp: %s: truncated data", what);
    case VP8_STATUS_UNSUPPORTED_FEATURE:
        return fh_fail(FH_E_UNSUPPORTED, "webp: %s: unsupported feature", what);
    case VP8_STATUS_INVALID_PARAM: return fh_fail(FH_E_FORMAT, "webp: %s: invalid parameter", what);
    default: return fh_fail(FH_E_FORMAT, "webp: %s: corrupt bitstream (status %d)", what, (int)s);
    }
}

static int webp_check_size(int w, int h) {
    if (w < 1 || h < 1) return fh_fail(FH_E_FORMAT, "webp: bad image size %dx%d", w, h);
    if (w > FH_MAX_IMAGE_SIDE || h > FH_MAX_IMAGE_SIDE ||
        (uint64_t)w * (uint64_t)h > FH_MAX_IMAGE_PIXELS)
        return fh_fail(FH_E_LIMIT, "webp: %dx%d exceeds the image size limit", w, h);
    return FH_OK;
}

// EXIF Orientation (1..8) of the file's EXIF chunk; 1 when absent or unreadable. The
// WebP spec stores the TIFF structure itself ("II*\0"/"MM\0*"); some writers prepend
// JPEG's "Exif\0\0", which img_exif_orientation expects, so it is added when missing.
static int webp_orientation(const WebPDemuxer *dmux) {
    if (!(WebPDemuxGetI(dmux, WEBP_FF_FORMAT_FLAGS) & EXIF_FLAG)) return 1;
    WebPChunkIterator it;
    if (!WebPDemuxGetChunk(dmux, "EXIF", 1, &it)) return 1;
    const uint8_t *d = it.chunk.bytes;
    size_t n = it.chunk.size;
    int o = 1;
    if (n >= 6 && memcmp(d, "Exif\0\0", 6) == 0) {
        o = img_exif_orientation(d, n);
    } else if (n >= 8 && n < FH_MAX_IMAGE_FILE_BYTES) {
        uint8_t *t = fh_malloc(n + 6);
        if (t) {   // out of memory here only loses the orientation, never the image
            memcpy(t, "Exif\0\0", 6);
            memcpy(t + 6, d, n);
            o = img_exif_orientation(t, n + 6);
            fh_free(t);
        }
    }
    WebPDemuxReleaseChunkIterator(&it);
    return o;
}

int img_webp_orientation_mem(const uint8_t *buf, size_t n) {
    WebPData data = {buf, n};
    WebPDemuxer *dmux = WebPDemux(&data);
    int o = dmux ? webp_orientation(dmux) : 1;
    WebPDemuxDelete(dmux);
    return o;
}

static int webp_run(WebPDemuxer **dmux, WebPIterator *it, int *have_it, const uint8_t *buf, size_t n,
                    struct img *out) {
    // header only (no allocation): canvas size of VP8X files, else the bitstream's
    WebPBitstreamFeatures f;
    int rc = webp_status(WebPGetFeatures(buf, n, &f), "bad header");
    if (rc || (rc = webp_check_size(f.width, f.height))) return rc;
    WebPData data = {buf, n};
    if (!(*dmux = WebPDemux(&data)))   // NULL for truncated files and invalid chunk layouts
        return fh_fail(FH_E_FORMAT, "webp: invalid or truncated container");
    int W = (int)WebPDemuxGetI(*dmux, WEBP_FF_CANVAS_WIDTH), H = (int)WebPDemuxGetI(*dmux, WEBP_FF_CANVAS_HEIGHT);
    if ((rc = webp_check_size(W, H))) return rc;
    if (!(*have_it = WebPDemuxGetFrame(*dmux, 1, it))) return fh_fail(FH_E_FORMAT, "webp: no image frame");
    if (it->x_offset < 0 || it->y_offset < 0 || it->width < 1 || it->height < 1 ||
        it->width > W - it->x_offset || it->height > H - it->y_offset)
        return fh_fail(FH_E_FORMAT, "webp: frame %dx%d+%d+%d outside the %dx%d canvas", it->width, it->height,
                       it->x_offset, it->y_offset, W, H);
    if ((rc = img_alloc(out, W, H, 3))) return rc;   // zeroed: black around a smaller frame

    WebPDecoderConfig cfg;
    if (!WebPInitDecoderConfig(&cfg)) return fh_fail(FH_E_FORMAT, "webp: library version mismatch");
    cfg.output.colorspace = MODE_RGB;
    cfg.output.is_external_memory = 1;
    cfg.output.u.RGBA.rgba = out->data + (size_t)it->y_offset * out->stride + (size_t)it->x_offset * 3;
    cfg.output.u.RGBA.stride = (int)out->stride;
    cfg.output.u.RGBA.size = (size_t)(it->height - 1) * out->stride + (size_t)it->width * 3;
    rc = webp_status(WebPDecode(it->fragment.bytes, it->fragment.size, &cfg), "cannot decode image");
    WebPFreeDecBuffer(&cfg.output);   // frees nothing we own (external memory); required by the API
    if (rc) return rc;
    if (cfg.output.width != it->width || cfg.output.height != it->height)
        return fh_fail(FH_E_FORMAT, "webp: frame is %dx%d, its header said %dx%d", cfg.output.width,
                       cfg.output.height, it->width, it->height);
    return img_orient(out, webp_orientation(*dmux));
}

int img_decode_webp_mem(const uint8_t *buf, size_t n, struct img *out) {
    memset(out, 0, sizeof *out);
    WebPDemuxer *dmux = NULL;
    WebPIterator it;
    int have_it = 0;
    int rc = webp_run(&dmux, &it, &have_it, buf, n, out);
    if (have_it) WebPDemuxReleaseIterator(&it);
    WebPDemuxDelete(dmux);
    if (rc) img_free(out);
    return rc;
}
