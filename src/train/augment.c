// SPDX-License-Identifier: MIT
// train/augment: per-sample augmentation keyed by (seed, epoch, position) and batch filling.
#include <math.h>
#include <string.h>

#include "align/align.h"
#include "base/base.h"
#include "train/data_int.h"

#define AUG_TAG 0x617567ull   // "aug": the augmentation's stream

struct train_aug train_aug_default(void) {
    return (struct train_aug){.p_flip = 0.5f, .scale = 0.05f, .shift = 4.0f, .contrast = 0.2f,
                              .brightness = 20.0f, .p_blur = 0.1f, .blur_sigma = 1.2f};
}

struct train_aug train_aug_none(void) {
    return (struct train_aug){.blur_sigma = 0.5f};
}

int train_aug_check(const struct train_aug *a) {
    if (!(a->p_flip >= 0 && a->p_flip <= 1)) return fh_fail(FH_E_ARG, "augment: p_flip %g not in 0..1", a->p_flip);
    if (!(a->p_blur >= 0 && a->p_blur <= 1)) return fh_fail(FH_E_ARG, "augment: p_blur %g not in 0..1", a->p_blur);
    if (!(a->contrast >= 0 && a->contrast <= 1))
        return fh_fail(FH_E_ARG, "augment: contrast %g not in 0..1", a->contrast);
    if (!(a->brightness >= 0 && a->brightness <= 255))
        return fh_fail(FH_E_ARG, "augment: brightness %g not in 0..255", a->brightness);
    if (!(a->blur_sigma >= 0.5f && a->blur_sigma <= 4))
        return fh_fail(FH_E_ARG, "augment: blur_sigma %g not in 0.5..4", a->blur_sigma);
    if (!(a->scale >= 0 && a->scale < 0.5f && a->shift >= 0) ||
        (TRAIN_CROP / 2) / (1 - a->scale) + a->shift > TRAIN_PADDED / 2)
        return fh_fail(FH_E_ARG, "augment: scale %g / shift %g leave the padded crop (need "
                       "56/(1-scale) + shift <= 64)", a->scale, a->shift);
    return FH_OK;
}

// separable Gaussian, clamp-to-edge borders, in place on a 112x112x3 float image
static void blur(float *im, float sigma) {
    enum { N = TRAIN_CROP, RMAX = 12 };
    int r = (int)ceilf(3 * sigma);
    if (r > RMAX) r = RMAX;
    float w[RMAX + 1], sum = 0, line[N * 3];
    for (int i = 0; i <= r; i++) sum += (w[i] = expf(-0.5f * i * i / (sigma * sigma))) * (i ? 2 : 1);
    for (int i = 0; i <= r; i++) w[i] /= sum;
    for (int pass = 0; pass < 2; pass++)
        for (int a = 0; a < N; a++) {
            // pass 0: row a (step 3 between pixels); pass 1: column a (step N*3)
            float *p = pass ? im + (size_t)a * 3 : im + (size_t)a * N * 3;
            size_t step = pass ? (size_t)N * 3 : 3;
            for (int x = 0; x < N; x++)
                for (int k = 0; k < 3; k++) {
                    float v = w[0] * p[x * step + k];
                    for (int i = 1; i <= r; i++) {
                        int l = x - i < 0 ? 0 : x - i, h = x + i >= N ? N - 1 : x + i;
                        v += w[i] * (p[l * step + k] + p[h * step + k]);
                    }
                    line[x * 3 + k] = v;
                }
            for (int x = 0; x < N; x++)
                for (int k = 0; k < 3; k++) p[x * step + k] = line[x * 3 + k];
        }
}

void train_aug_sample(const struct train_aug *a, uint64_t seed, int epoch, int64_t pos,
                      const uint8_t *padded, float *out) {
    enum { N = TRAIN_CROP, P = TRAIN_PADDED };
    struct train_rng r = train_rng_key(seed, AUG_TAG, epoch, pos);
    float u[8];   // every draw is made, whatever the switches (fixed stream layout)
    for (int i = 0; i < 8; i++) u[i] = train_rng_unit(&r);
    int flip = u[0] < a->p_flip, do_blur = u[6] < a->p_blur;
    float s = 1 + a->scale * (2 * u[1] - 1), dx = a->shift * (2 * u[2] - 1), dy = a->shift * (2 * u[3] - 1);
    float c = 1 + a->contrast * (2 * u[4] - 1), b = a->brightness * (2 * u[5] - 1);
    float sigma = 0.5f + (a->blur_sigma - 0.5f) * u[7];

    uint8_t px[N * N * 3];
    struct img dst = {.w = N, .h = N, .c = 3, .stride = N * 3, .data = px};
    if (a->scale > 0 || a->shift > 0) {
        // forward map padded -> output: x' = s (x - 63.5) + 55.5 + dx (pixel centres at integers)
        struct img src = {.w = P, .h = P, .c = 3, .stride = P * 3, .data = (uint8_t *)padded};
        const double M[6] = {s, 0, (N - 1) / 2.0 + dx - s * (P - 1) / 2.0,
                             0, s, (N - 1) / 2.0 + dy - s * (P - 1) / 2.0};
        FH_ASSERT(align_warp(&src, M, &dst) == FH_OK);
    } else {
        for (int y = 0; y < N; y++)
            memcpy(px + (size_t)y * N * 3, padded + ((size_t)(y + TRAIN_PAD) * P + TRAIN_PAD) * 3, N * 3);
    }
    size_t n = (size_t)N * N * 3;
    if (a->contrast > 0 || a->brightness > 0) {
        double mean = 0;
        for (size_t i = 0; i < n; i++) mean += px[i];
        float m = (float)(mean / (double)n);
        for (size_t i = 0; i < n; i++) {
            float v = (px[i] - m) * c + m + b;
            out[i] = v < 0 ? 0 : v > 255 ? 255 : v;
        }
    } else {
        for (size_t i = 0; i < n; i++) out[i] = px[i];
    }
    if (a->p_blur > 0 && do_blur) blur(out, sigma);
    for (size_t i = 0; i < n; i++) out[i] = (out[i] - 127.5f) * 0.0078125f;
    if (flip)
        for (int y = 0; y < N; y++) {
            float *row = out + (size_t)y * N * 3;
            for (int x = 0; x < N / 2; x++)
                for (int k = 0; k < 3; k++) {
                    float t = row[x * 3 + k];
                    row[x * 3 + k] = row[(N - 1 - x) * 3 + k];
                    row[(N - 1 - x) * 3 + k] = t;
                }
        }
}

struct fill {
    const struct train_dataset *d;
    const struct train_aug *a;
    uint64_t seed;
    int epoch, n;
    const int *items;
    int64_t pos0;
    float *x;
};

static void fill_task(void *ctx, int ith, int nth) {
    const struct fill *f = ctx;
    for (int k = ith; k < f->n; k += nth)
        train_aug_sample(f->a, f->seed, f->epoch, f->pos0 + k, train_dataset_crop(f->d, f->items[k]),
                         f->x + (size_t)k * TRAIN_SAMPLE_FLOATS);
}

int train_batch_fill(const struct train_dataset *d, const struct train_aug *a, uint64_t seed,
                     int epoch, const int *items, int n, int64_t pos0, struct fh_pool *pool,
                     float *x, int *y) {
    if (n < 1 || n > TRAIN_MAX_BATCH) return fh_fail(FH_E_ARG, "batch: %d samples not in 1..%d", n, TRAIN_MAX_BATCH);
    int rc = train_aug_check(a);
    if (rc) return rc;
    for (int k = 0; k < n; k++)
        if (items[k] < 0 || items[k] >= d->n)
            return fh_fail(FH_E_ARG, "batch: item %d is %d, not in 0..%d", k, items[k], d->n - 1);
    struct fill f = {d, a, seed, epoch, n, items, pos0, x};
    fh_pool_run(pool, fill_task, &f);
    if (y)
        for (int k = 0; k < n; k++) y[k] = d->images[items[k]].label;
    return FH_OK;
}

int train_batch_grid(const float *x, int n, int cols, struct img *out) {
    memset(out, 0, sizeof *out);
    if (n < 1 || n > TRAIN_MAX_BATCH || cols < 1 || cols > 1000)
        return fh_fail(FH_E_ARG, "grid: %d samples in %d columns", n, cols);
    if (cols > n) cols = n;
    int rows = (n + cols - 1) / cols, g = 2, side = TRAIN_CROP + g;
    long w = (long)cols * side + g, h = (long)rows * side + g;
    if (w > FH_MAX_IMAGE_SIDE || h > FH_MAX_IMAGE_SIDE)
        return fh_fail(FH_E_LIMIT, "grid: %ld x %ld pixels is too large", w, h);
    int rc = img_alloc(out, (int)w, (int)h, 3);
    if (rc) return rc;
    for (int k = 0; k < n; k++) {
        const float *s = x + (size_t)k * TRAIN_SAMPLE_FLOATS;
        int ox = g + (k % cols) * side, oy = g + (k / cols) * side;
        for (int yy = 0; yy < TRAIN_CROP; yy++) {
            uint8_t *row = out->data + (size_t)(oy + yy) * out->stride + (size_t)ox * 3;
            for (int i = 0; i < TRAIN_CROP * 3; i++) {
                float v = s[(size_t)yy * TRAIN_CROP * 3 + i] * 128 + 127.5f;
                row[i] = v <= 0 ? 0 : v >= 255 ? 255 : (uint8_t)(v + 0.5f);
            }
        }
    }
    return FH_OK;
}
