// SPDX-License-Identifier: MIT
// img: allocation, in-place flip and the PNM debug writer.
#include "img/img.h"

#include <stdio.h>
#include <string.h>

#include "base/base.h"

int img_alloc(struct img *im, int w, int h, int c) {
    memset(im, 0, sizeof *im);
    if (w < 1 || h < 1 || c < 1 || c > 4)
        return fh_fail(FH_E_ARG, "img: bad size %dx%dx%d", w, h, c);
    if (w > FH_MAX_IMAGE_SIDE || h > FH_MAX_IMAGE_SIDE ||
        (uint64_t)w * (uint64_t)h > FH_MAX_IMAGE_PIXELS)
        return fh_fail(FH_E_LIMIT, "img: %dx%d exceeds the image size limit", w, h);
    size_t stride = (size_t)w * (size_t)c;
    uint8_t *p = fh_calloc((size_t)h, stride);
    if (!p) return fh_fail(FH_E_NOMEM, "img: cannot allocate %dx%dx%d", w, h, c);
    *im = (struct img){.w = w, .h = h, .c = c, .stride = stride, .data = p};
    return FH_OK;
}

void img_free(struct img *im) {
    if (!im) return;
    fh_free(im->data);
    memset(im, 0, sizeof *im);
}

void img_flip_h(struct img *im) {
    int c = im->c;
    for (int y = 0; y < im->h; y++) {
        uint8_t *row = im->data + (size_t)y * im->stride;
        for (int a = 0, b = im->w - 1; a < b; a++, b--)
            for (int k = 0; k < c; k++) {
                uint8_t t = row[a * c + k];
                row[a * c + k] = row[b * c + k];
                row[b * c + k] = t;
            }
    }
}

int img_write_pnm(const struct img *im, const char *path) {
    if (im->c != 1 && im->c != 3) return fh_fail(FH_E_ARG, "pnm: cannot write %d channels", im->c);
    FILE *f = fopen(path, "wb");
    if (!f) return fh_fail(FH_E_IO, "%s: cannot create", path);
    int ok = fprintf(f, "P%c\n%d %d\n255\n", im->c == 3 ? '6' : '5', im->w, im->h) > 0;
    size_t row = (size_t)im->w * im->c;
    for (int y = 0; ok && y < im->h; y++) ok = fwrite(im->data + (size_t)y * im->stride, 1, row, f) == row;
    if (fclose(f) != 0) ok = 0;
    return ok ? FH_OK : fh_fail(FH_E_IO, "%s: write failed", path);
}
