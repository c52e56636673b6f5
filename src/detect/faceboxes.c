// SPDX-License-Identifier: MIT
// FaceBoxes detector: resize, scale and pad as the graph does, run the net cut to its
// heads, decode against the graph's anchors for the padded size, threshold, NMS (see
// faceboxes.h).
#include <math.h>
#include <string.h>

#include "detect/faceboxes.h"

#define N_STRIDES 3
static const int STRIDES[N_STRIDES] = {32, 64, 128};
// per stride: anchor sizes and their densities (the d x d anchors of a size per cell)
static const int SIZES[N_STRIDES][3] = {{32, 64, 128}, {256, 0, 0}, {512, 0, 0}};
static const int DENSITY[N_STRIDES][3] = {{4, 2, 1}, {1, 0, 0}, {1, 0, 0}};
static const int N_SIZES[N_STRIDES] = {3, 1, 1};
#define PAD_TO 128
// the file's constants, as its converter stored them (float16): 1/255, 1/10, 1/5
#define PIXEL_SCALE 0.0039215087890625f
#define CENTER_SCALE 0.0999755859375f
#define SIZE_SCALE 0.199951171875f

static const char *const HEADS[6] = {
    "prediction_layers/class_predictor_0/BiasAdd", "prediction_layers/box_encoding_predictor_0/BiasAdd",
    "prediction_layers/class_predictor_1/BiasAdd", "prediction_layers/box_encoding_predictor_1/BiasAdd",
    "prediction_layers/class_predictor_2/BiasAdd", "prediction_layers/box_encoding_predictor_2/BiasAdd"};
static const char *const INPUT = "image_padding/pad_to_bounding_box/Pad";

struct det_faceboxes {
    struct nn_session *s;
    struct img in;         // the resized image
    int W, H, Wp, Hp;      // resized and padded input size
    float *anchors, *face, *enc, *dec; // (P, 4), (P), (P, 4), (P, 4)
    int P;
};

int det_faceboxes_load(const char *path, const struct nn_options *opt, struct nn_net **out) {
    static const int shape[4] = {1, PAD_TO, PAD_TO, 3};
    struct nn_options o = opt ? *opt : (struct nn_options){0};
    o.outputs = HEADS, o.n_outputs = 6, o.inputs = &INPUT, o.n_inputs = 1, o.input_shape = shape, o.input_rank = 4;
    return nn_net_load_tfjs(path, &o, out);
}

int det_faceboxes_new(const struct nn_net *net, struct fh_pool *pool, struct det_faceboxes **out) {
    *out = NULL;
    if (nn_net_n_inputs(net) != 1 || nn_net_n_outputs(net) != 6)
        return fh_fail(FH_E_ARG, "faceboxes: the net needs 1 input and 6 outputs (class and box heads)");
    struct det_faceboxes *d = fh_calloc(1, sizeof *d);
    if (!d) return fh_fail(FH_E_NOMEM, "faceboxes: out of memory");
    int rc = nn_session_new(net, pool, &d->s);
    if (rc) {
        fh_free(d);
        return rc;
    }
    *out = d;
    return FH_OK;
}

void det_faceboxes_free(struct det_faceboxes *d) {
    if (!d) return;
    nn_session_free(d->s);
    img_free(&d->in);
    fh_free(d->anchors), fh_free(d->face), fh_free(d->enc), fh_free(d->dec);
    fh_free(d);
}

// anchors per cell at stride index k
static int per_cell(int k) {
    int n = 0;
    for (int m = 0; m < N_SIZES[k]; m++) n += DENSITY[k][m] * DENSITY[k][m];
    return n;
}

int det_faceboxes_n_anchors(int W, int H) {
    int n = 0;
    for (int k = 0; k < N_STRIDES; k++) n += (W / STRIDES[k]) * (H / STRIDES[k]) * per_cell(k);
    return n;
}

static float clamp01(float v) { return v < 0 ? 0 : v > 1 ? 1 : v; }

void det_faceboxes_anchors(int W, int H, float *a) {
    for (int k = 0; k < N_STRIDES; k++) {
        int s = STRIDES[k], fw = W / s, fh = H / s;
        for (int y = 0; y < fh; y++)
            for (int x = 0; x < fw; x++)
                for (int m = 0; m < N_SIZES[k]; m++) {
                    int n = DENSITY[k][m];
                    double size = SIZES[k][m], step = size / n;
                    for (int kx = 0; kx < n; kx++)
                        for (int ky = 0; ky < n; ky++, a += 4) {
                            double cy = (y + 0.5) * s + (ky - (n - 1) / 2.0) * step;
                            double cx = (x + 0.5) * s + (kx - (n - 1) / 2.0) * step;
                            a[0] = clamp01((float)((cy - size / 2) / H)), a[1] = clamp01((float)((cx - size / 2) / W));
                            a[2] = clamp01((float)((cy + size / 2) / H)), a[3] = clamp01((float)((cx + size / 2) / W));
                        }
                }
    }
}

int det_faceboxes_gather(struct nn_session *s, int W, int H, float *face, float *enc) {
    size_t p = 0;
    for (int k = 0; k < N_STRIDES; k++) {
        int cd[FH_MAX_DIMS], bd[FH_MAX_DIMS], cr, br, A = per_cell(k);
        const float *cls = nn_session_output(s, 2 * k, cd, &cr), *box = nn_session_output(s, 2 * k + 1, bd, &br);
        int fw = W / STRIDES[k], fh = H / STRIDES[k];
        if (cr != 4 || br != 4 || cd[1] != fh || cd[2] != fw || cd[3] != 2 * A || bd[1] != fh || bd[2] != fw || bd[3] != 4 * A)
            return fh_fail(FH_E_FORMAT, "faceboxes: head %d does not fit a %dx%d input", k, W, H);
        // (1, fh, fw, A * 2) and (1, fh, fw, A * 4) read row-major: anchor p = cell * A + a
        for (size_t c = 0; c < (size_t)fh * fw * A; c++, p++) {
            face[p] = 1.0f / (1.0f + expf(cls[2 * c] - cls[2 * c + 1]));
            memcpy(enc + 4 * p, box + 4 * c, 4 * sizeof *enc);
        }
    }
    return FH_OK;
}

// the graph's arithmetic, in its order: centre-size from corners, the scaled offsets,
// corners, clip to the padded image, to fractions of the unpadded part, clip
void det_faceboxes_decode(const float *enc, const float *an, int P, float sy, float sx, float *b) {
    for (int i = 0; i < P; i++, enc += 4, an += 4, b += 4) {
        float ha = an[2] - an[0], wa = an[3] - an[1];
        float yc = enc[0] * CENTER_SCALE * ha + (an[0] + 0.5f * ha);
        float xc = enc[1] * CENTER_SCALE * wa + (an[1] + 0.5f * wa);
        float h = expf(enc[2] * SIZE_SCALE) * ha, w = expf(enc[3] * SIZE_SCALE) * wa;
        b[0] = clamp01(clamp01(yc - 0.5f * h) / sy), b[1] = clamp01(clamp01(xc - 0.5f * w) / sx);
        b[2] = clamp01(clamp01(yc + 0.5f * h) / sy), b[3] = clamp01(clamp01(xc + 0.5f * w) / sx);
    }
}

void det_faceboxes_input(const struct img *im, int Wp, int Hp, float *x) {
    memset(x, 0, (size_t)Wp * Hp * 3 * sizeof *x);
    for (int y = 0; y < im->h; y++) {
        const uint8_t *row = im->data + (size_t)y * im->stride;
        for (int i = 0; i < im->w; i++)
            for (int c = 0; c < 3; c++) x[((size_t)y * Wp + i) * 3 + c] = row[(size_t)i * im->c + (im->c == 3 ? c : 0)] * PIXEL_SCALE;
    }
}

// plans the session and the anchors for a W x H image (only when the size changes)
static int plan(struct det_faceboxes *d, int W, int H) {
    if (d->W == W && d->H == H) return FH_OK;
    d->W = d->H = 0;
    img_free(&d->in);
    int Wp = (W + PAD_TO - 1) / PAD_TO * PAD_TO, Hp = (H + PAD_TO - 1) / PAD_TO * PAD_TO;
    int rc = img_alloc(&d->in, W, H, 3), dims[4] = {1, Hp, Wp, 3};
    if (rc || (rc = nn_session_reshape(d->s, dims, 4))) return rc;
    int P = det_faceboxes_n_anchors(Wp, Hp);
    fh_free(d->anchors), fh_free(d->face), fh_free(d->enc), fh_free(d->dec);
    d->anchors = fh_malloc((size_t)P * 4 * sizeof(float));
    d->face = fh_malloc((size_t)P * sizeof(float));
    d->enc = fh_malloc((size_t)P * 4 * sizeof(float));
    d->dec = fh_malloc(4 * sizeof(float));
    if (!d->anchors || !d->face || !d->enc || !d->dec) return fh_fail(FH_E_NOMEM, "faceboxes: out of memory");
    det_faceboxes_anchors(Wp, Hp, d->anchors);
    d->P = P, d->W = W, d->H = H, d->Wp = Wp, d->Hp = Hp;
    return FH_OK;
}

int det_faceboxes_detect(struct det_faceboxes *d, const struct img *im, const struct det_faceboxes_options *o,
                         struct det_box_f **boxes, int *n) {
    *boxes = NULL, *n = 0;
    struct det_faceboxes_options opt = o ? *o : (struct det_faceboxes_options){0};
    if (opt.width <= 0) opt.width = 1024;
    if (!(opt.thresh_score > 0)) opt.thresh_score = 0.5f;
    if (!(opt.thresh_nms > 0)) opt.thresh_nms = 0.3f;
    if (!im || !im->data || im->w < 1 || im->h < 1 || (im->c != 3 && im->c != 1))
        return fh_fail(FH_E_ARG, "faceboxes: an RGB or grey image is needed");
    if (opt.width > FH_MAX_IMAGE_SIDE || opt.thresh_score > 1 || opt.thresh_nms > 1)
        return fh_fail(FH_E_ARG, "faceboxes: width %d / thresholds out of range", opt.width);
    int W = opt.width, H = (int)lround((double)im->h * W / im->w);
    if (H < 1) H = 1;
    if ((size_t)(W + PAD_TO) * (H + PAD_TO) > FH_MAX_IMAGE_PIXELS / 4)
        return fh_fail(FH_E_LIMIT, "faceboxes: a %dx%d net input is too large", W, H);
    int rc = plan(d, W, H);
    if (rc) return rc;
    // the resized image, grey replicated to RGB, scaled and padded as the graph does
    struct img view = d->in;
    view.c = im->c, view.stride = (size_t)W * im->c;
    img_resize_region(im, 0, 0, im->w, im->h, &view);
    det_faceboxes_input(&view, d->Wp, d->Hp, nn_session_input(d->s, 0));
    if ((rc = nn_session_run(d->s)) || (rc = det_faceboxes_gather(d->s, d->Wp, d->Hp, d->face, d->enc))) return rc;
    int m = 0;
    for (int p = 0; p < d->P; p++) m += d->face[p] >= opt.thresh_score;
    if (!m) return FH_OK;
    if (m > FH_MAX_CANDIDATES) m = FH_MAX_CANDIDATES;
    struct det_box_f *b = fh_malloc((size_t)m * sizeof *b);
    if (!b) return fh_fail(FH_E_NOMEM, "faceboxes: out of memory");
    // the graph's scale: the unpadded part as a fraction of the padded input (double, then float)
    float sy = (float)((double)H / d->Hp), sx = (float)((double)W / d->Wp);
    int k = 0;
    for (int p = 0; p < d->P && k < m; p++) {
        if (d->face[p] < opt.thresh_score) continue;
        det_faceboxes_decode(d->enc + 4 * (size_t)p, d->anchors + 4 * (size_t)p, 1, sy, sx, d->dec);
        b[k++] = (struct det_box_f){d->dec[1] * im->w, d->dec[0] * im->h, d->dec[3] * im->w, d->dec[2] * im->h, d->face[p]};
    }
    *boxes = b, *n = det_boxes_f_nms(b, k, opt.thresh_nms, FH_MAX_FACES);
    return FH_OK;
}
