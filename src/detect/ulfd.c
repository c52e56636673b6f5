// SPDX-License-Identifier: MIT
// ULFD detector: resize, run the net cut before its fixed-size decode, decode against
// priors made for the actual input size, threshold, NMS (see ulfd.h).
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "detect/ulfd.h"

#define N_STRIDES 4
static const int STRIDES[N_STRIDES] = {8, 16, 32, 64};
static const int MIN_SIZES[N_STRIDES][3] = {{10, 16, 24}, {32, 48, 0}, {64, 96, 0}, {128, 192, 256}};
static const int N_MIN[N_STRIDES] = {3, 2, 2, 3};
#define CENTER_VARIANCE 0.1f
#define SIZE_VARIANCE 0.2f

struct det_ulfd {
    const struct nn_net *net;
    struct nn_session *s;
    struct img in;        // the resized image
    int W, H;             // planned input size
    float *priors, *dec;  // (P, 4) each, for W x H
    int P;
};

int det_ulfd_load(const char *path, struct nn_net **out) {
    static const char *const outputs[2] = {"scores", "462"};
    struct nn_options opt = {.outputs = outputs, .n_outputs = 2};
    return nn_net_load_onnx(path, &opt, out);
}

int det_ulfd_new(const struct nn_net *net, struct fh_pool *pool, struct det_ulfd **out) {
    *out = NULL;
    if (nn_net_n_inputs(net) != 1 || nn_net_n_outputs(net) != 2)
        return fh_fail(FH_E_ARG, "ulfd: the net needs 1 input and 2 outputs (scores, box offsets)");
    struct det_ulfd *d = fh_calloc(1, sizeof *d);
    if (!d) return fh_fail(FH_E_NOMEM, "ulfd: out of memory");
    d->net = net;
    int rc = nn_session_new(net, pool, &d->s);
    if (rc) {
        fh_free(d);
        return rc;
    }
    *out = d;
    return FH_OK;
}

void det_ulfd_free(struct det_ulfd *d) {
    if (!d) return;
    nn_session_free(d->s);
    img_free(&d->in);
    fh_free(d->priors);
    fh_free(d->dec);
    fh_free(d);
}

// feature-map side for stride s: every stride-2 conv maps n to ceil(n / 2)
static int fmap(int n, int s) { return (n + s - 1) / s; }

int det_ulfd_n_priors(int W, int H) {
    int n = 0;
    for (int k = 0; k < N_STRIDES; k++) n += fmap(W, STRIDES[k]) * fmap(H, STRIDES[k]) * N_MIN[k];
    return n;
}

static float clamp01(double v) { return (float)(v < 0 ? 0 : v > 1 ? 1 : v); }

// upstream generate_priors with the shrinkage of its fd_config (image size / feature-map
// size): centres (i + 0.5) / fw, (j + 0.5) / fh over the fw x fh map, sizes min / W,
// min / H, clamped. (W / stride instead of fw moves the centres of the maps whose side
// does not divide: 240 / 32 = 7.5 vs 8 rows; the file's baked priors use fw, fh.)
void det_ulfd_priors(int W, int H, float *p) {
    for (int k = 0; k < N_STRIDES; k++) {
        double sw = fmap(W, STRIDES[k]), sh = fmap(H, STRIDES[k]);
        for (int j = 0; j < fmap(H, STRIDES[k]); j++)
            for (int i = 0; i < fmap(W, STRIDES[k]); i++)
                for (int m = 0; m < N_MIN[k]; m++, p += 4) {
                    p[0] = clamp01((i + 0.5) / sw), p[1] = clamp01((j + 0.5) / sh);
                    p[2] = clamp01((double)MIN_SIZES[k][m] / W), p[3] = clamp01((double)MIN_SIZES[k][m] / H);
                }
    }
}

// centre = loc * cv * prior_size + prior_centre; size = exp(loc * sv) * prior_size;
// corners = centre -/+ size / 2 (in the order of the file's decode graph)
void det_ulfd_decode(const float *loc, const float *pr, int P, float *b) {
    for (int i = 0; i < P; i++, loc += 4, pr += 4, b += 4) {
        float cx = loc[0] * CENTER_VARIANCE * pr[2] + pr[0];
        float cy = loc[1] * CENTER_VARIANCE * pr[3] + pr[1];
        float w = expf(loc[2] * SIZE_VARIANCE) * pr[2], h = expf(loc[3] * SIZE_VARIANCE) * pr[3];
        b[0] = cx - w / 2, b[1] = cy - h / 2, b[2] = cx + w / 2, b[3] = cy + h / 2;
    }
}

// plans the session and the priors for a W x H input (only when the size changes)
static int plan(struct det_ulfd *d, int W, int H) {
    if (d->W == W && d->H == H) return FH_OK;
    d->W = d->H = 0;
    img_free(&d->in);
    int rc = img_alloc(&d->in, W, H, 3), dims[4] = {1, H, W, 3};
    if (rc || (rc = nn_session_reshape(d->s, dims, 4))) return rc;
    int P = det_ulfd_n_priors(W, H);
    fh_free(d->priors), fh_free(d->dec);
    d->priors = fh_malloc((size_t)P * 4 * sizeof(float));
    d->dec = fh_malloc((size_t)P * 4 * sizeof(float));
    if (!d->priors || !d->dec) return fh_fail(FH_E_NOMEM, "ulfd: out of memory");
    det_ulfd_priors(W, H, d->priors);
    d->P = P, d->W = W, d->H = H;
    return FH_OK;
}

int det_ulfd_detect(struct det_ulfd *d, const struct img *im, const struct det_ulfd_options *o,
                    struct det_box_f **boxes, int *n) {
    *boxes = NULL, *n = 0;
    struct det_ulfd_options opt = o ? *o : (struct det_ulfd_options){0};
    if (opt.width <= 0) opt.width = 640;
    if (!(opt.thresh_score > 0)) opt.thresh_score = 0.3f;
    if (!(opt.thresh_nms > 0)) opt.thresh_nms = 0.3f;
    if (!im || !im->data || im->w < 1 || im->h < 1 || (im->c != 3 && im->c != 1))
        return fh_fail(FH_E_ARG, "ulfd: an RGB or grey image is needed");
    if (opt.width > FH_MAX_IMAGE_SIDE || opt.thresh_score >= 1 || opt.thresh_nms > 1)
        return fh_fail(FH_E_ARG, "ulfd: width %d / thresholds out of range", opt.width);
    int W = opt.width, H = (int)lround((double)im->h * W / im->w);
    if (H < 1) H = 1;
    if ((size_t)W * H > FH_MAX_IMAGE_PIXELS / 4) return fh_fail(FH_E_LIMIT, "ulfd: a %dx%d net input is too large", W, H);
    int rc = plan(d, W, H);
    if (rc) return rc;
    // the resized image, grey replicated to RGB, as (v - 127) / 128
    struct img view = d->in;
    view.c = im->c, view.stride = (size_t)W * im->c;
    img_resize_region(im, 0, 0, im->w, im->h, &view);
    float *x = nn_session_input(d->s, 0);
    for (size_t i = 0; i < (size_t)W * H; i++)
        for (int c = 0; c < 3; c++) x[i * 3 + c] = (float)(view.data[i * im->c + (im->c == 3 ? c : 0)] - 127) / 128.0f;
    if ((rc = nn_session_run(d->s))) return rc;
    int sd[FH_MAX_DIMS], ld[FH_MAX_DIMS], sr, lr;
    const float *sc = nn_session_output(d->s, 0, sd, &sr), *loc = nn_session_output(d->s, 1, ld, &lr);
    if (sr != 3 || lr != 3 || sd[1] != d->P || ld[1] != d->P || sd[2] != 2 || ld[2] != 4)
        return fh_fail(FH_E_FORMAT, "ulfd: net outputs do not fit %d priors of a %dx%d input", d->P, W, H);
    det_ulfd_decode(loc, d->priors, d->P, d->dec);
    int m = 0;
    for (int p = 0; p < d->P; p++) m += sc[p * 2 + 1] > opt.thresh_score;
    if (!m) return FH_OK;
    if (m > FH_MAX_CANDIDATES) m = FH_MAX_CANDIDATES;
    struct det_box_f *b = fh_malloc((size_t)m * sizeof *b);
    if (!b) return fh_fail(FH_E_NOMEM, "ulfd: out of memory");
    int k = 0;
    for (int p = 0; p < d->P && k < m; p++)
        if (sc[p * 2 + 1] > opt.thresh_score) {
            const float *q = d->dec + (size_t)p * 4;
            b[k++] = (struct det_box_f){q[0] * im->w, q[1] * im->h, q[2] * im->w, q[3] * im->h, sc[p * 2 + 1]};
        }
    *boxes = b, *n = det_boxes_f_nms(b, k, opt.thresh_nms, FH_MAX_FACES);
    return FH_OK;
}
