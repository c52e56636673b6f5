// SPDX-License-Identifier: MIT
// The trained heads: train/head (class-balanced BCE and its gradient by central finite
// differences; training reduces the loss and separates synthetic clusters; bad input)
// and library/head (the plain-C inference equals the engine's forward on the same weights;
// the stored calib.h format: written exactly, an old calibration without a head still
// loads and falls back to the sphere, the current one uses its head when it has one; the
// blur features and the blur decision).
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "harness.h"
#include "img/img.h"
#include "library/head.h"
#include "library/library.h"
#include "train/head.h"
#include "train/rng.h"

// the old (format 0, sphere only) calibration, as it was before heads
#include "data/calib_v0.h"
#include "library/calib_head.h"

static void test_bce_grad(void) {
    float z[7] = {-30.0f, -3.2f, -0.4f, 0.0f, 0.7f, 2.5f, 25.0f}, dz[7];
    int y[7] = {1, 0, 1, 1, 0, 0, 1};
    double wp = 1.75, wn = 0.7, worst = 0;
    train_bce_balanced(z, y, 7, wp, wn, dz);
    for (int i = 0; i < 7; i++) {
        double h = 1e-3, keep = z[i];
        z[i] = (float)(keep + h);
        double lp = train_bce_balanced(z, y, 7, wp, wn, NULL);
        z[i] = (float)(keep - h);
        double lm = train_bce_balanced(z, y, 7, wp, wn, NULL);
        z[i] = (float)keep;
        double num = (lp - lm) / (2 * h), err = fabs(num - dz[i]) / (fabs(num) + 1e-3);
        if (err > worst) worst = err;
    }
    TEST_COND("bce: gradient matches central finite differences (rel. err < 1e-3)", worst < 1e-3);
    // at z = 0 every term is w log 2; far on the right side it vanishes, far wrong it is ~w|z|
    float z0[2] = {0, 0}, zf[2] = {40, -40}, zw[2] = {-40, 40};
    int y0[2] = {1, 0};
    TEST_COND("bce: value at z = 0", fabs(train_bce_balanced(z0, y0, 2, wp, wn, NULL) - (wp + wn) / 2 * log(2)) < 1e-12);
    TEST_COND("bce: confident and right ~ 0", train_bce_balanced(zf, y0, 2, wp, wn, NULL) < 1e-15);
    TEST_COND("bce: confident and wrong ~ w|z| (finite)", fabs(train_bce_balanced(zw, y0, 2, wp, wn, NULL) - (wp + wn) * 20) < 1e-9);
}

// n points in dim D: positives around +mu, negatives around -mu (mu on the first 2 axes),
// or (xor = 1) positives at (+,+)/(-,-) and negatives at (+,-)/(-,+) (not linearly separable)
static void clusters(struct train_rng *r, int n, int dim, int npos, int xor, float *x, int *y) {
    for (int i = 0; i < n; i++) {
        y[i] = i < npos;
        int q = (int)train_rng_below(r, 2);
        float s0 = xor ? (q ? 1.0f : -1.0f) : (y[i] ? 1.0f : -1.0f), s1 = xor ? (y[i] ? s0 : -s0) : s0;
        for (int d = 0; d < dim; d++) x[i * dim + d] = (float)(0.35 * train_rng_normal(r));
        x[i * dim + 0] += 1.0f * s0, x[i * dim + 1] += 1.0f * s1;
        x[i * dim + 2] += 5.0f; // an offset standardisation must remove
    }
}

static double head_auc(const struct train_head *t, const float *x, const int *y, int n, double *acc) {
    struct lib_head h = {LIB_HEAD_VERSION, t->dim, t->hidden, t->w1, t->b1, t->alpha, t->w2, t->b2, 0};
    double num = 0, den = 0;
    int right = 0, np = 0;
    float *s = malloc(sizeof(float) * (size_t)n);
    for (int i = 0; i < n; i++) s[i] = lib_head_logit(&h, x + (size_t)i * (size_t)t->dim), np += y[i];
    for (int i = 0; i < n; i++) {
        right += (s[i] >= 0) == y[i];
        if (y[i])
            for (int j = 0; j < n; j++)
                if (!y[j]) num += s[i] > s[j] ? 1 : s[i] == s[j] ? 0.5 : 0, den++;
    }
    free(s);
    *acc = (double)right / n;
    return num / den;
}

static void test_train_clusters(void) {
    enum { N = 240, D = 8, NP = 48 };
    static float x[N * D], xt[N * D];
    static int y[N], yt[N];
    struct train_rng r;
    train_rng_seed(&r, 7);
    for (int xor = 0; xor < 2; xor++) {
        clusters(&r, N, D, NP, xor, x, y);
        clusters(&r, N, D, NP, xor, xt, yt); // a fresh draw to test on
        for (int hidden = 0; hidden <= 16; hidden += 16) {
            struct train_head_opts o = {.hidden = hidden, .epochs = 1, .batch = 32, .lr = 1e-6f, .momentum = 0.9f,
                                        .weight_decay = 1e-4f, .seed = 3};
            struct train_head h0, h1;
            double l0 = 0, l1 = 0, acc;
            int ok0 = train_head_fit(x, y, N, D, &o, &h0, &l0) == FH_OK;
            o.epochs = 150, o.lr = 0.05f;
            int ok1 = train_head_fit(x, y, N, D, &o, &h1, &l1) == FH_OK;
            char what[160];
            int lr_xor = xor && !hidden; // the loss can only fall a little there
            snprintf(what, sizeof what, "train %s on %s clusters: loss %.3f -> %.3f (falls%s)", hidden ? "MLP" : "LR",
                     xor ? "XOR" : "two", l0, l1, lr_xor ? "" : " by half");
            TEST_COND(what, ok0 && ok1 && l1 < (lr_xor ? 0.9 : 0.5) * l0);
            if (!ok1) continue;
            double a = head_auc(&h1, xt, yt, N, &acc);
            snprintf(what, sizeof what, "  ... on a fresh draw: AUC %.3f, accuracy %.3f", a, acc);
            if (xor && !hidden) TEST_COND("LR cannot separate XOR (AUC < 0.75)", a < 0.75);
            else TEST_COND(what, a > 0.97 && acc > 0.9);
            train_head_free(&h0), train_head_free(&h1);
        }
    }
    // determinism: the same seed gives the same weights
    struct train_head_opts o = {.hidden = 16, .epochs = 5, .batch = 32, .lr = 0.05f, .momentum = 0.9f, .seed = 11};
    struct train_head a, b;
    int ok = !train_head_fit(x, y, N, D, &o, &a, NULL) && !train_head_fit(x, y, N, D, &o, &b, NULL);
    TEST_COND("train: deterministic for a seed", ok && !memcmp(a.w1, b.w1, sizeof(float) * 16 * D) && a.b2 == b.b2);
    train_head_free(&a), train_head_free(&b);
}

static void test_bad_input(void) {
    float x[8] = {0, 1, 2, 3, 4, 5, 6, 7};
    int y1[4] = {1, 1, 1, 1}, y2[4] = {1, 0, 1, 0};
    struct train_head h;
    struct train_head_opts o = {.hidden = 4, .epochs = 2, .batch = 2, .lr = 0.1f};
    TEST_COND("train: one class only is FH_E_ARG", train_head_fit(x, y1, 4, 2, &o, &h, NULL) == FH_E_ARG && h.w1 == NULL);
    x[5] = NAN;
    TEST_COND("train: a NaN feature is FH_E_ARG", train_head_fit(x, y2, 4, 2, &o, &h, NULL) == FH_E_ARG);
    x[5] = 5;
    o.hidden = -1;
    TEST_COND("train: hidden -1 is FH_E_ARG", train_head_fit(x, y2, 4, 2, &o, &h, NULL) == FH_E_ARG);
    o.hidden = 4, o.epochs = 0;
    TEST_COND("train: 0 epochs is FH_E_ARG", train_head_fit(x, y2, 4, 2, &o, &h, NULL) == FH_E_ARG);
    o.epochs = 2, o.lr = NAN;
    TEST_COND("train: NaN lr is FH_E_ARG", train_head_fit(x, y2, 4, 2, &o, &h, NULL) == FH_E_ARG);
    struct nn_net *net;
    TEST_COND("build: 0 features is FH_E_ARG", train_head_build(0, 4, 1, &net) == FH_E_ARG);
    TEST_COND("build: too many hidden is FH_E_ARG", train_head_build(4, TRAIN_HEAD_MAX_HIDDEN + 1, 1, &net) == FH_E_ARG);
    TEST_COND("build: LR", train_head_build(4, 0, 1, &net) == FH_OK);
    TEST_COND("export: a net of another shape is FH_E_ARG", train_head_export(net, 4, 8, NULL, NULL, &h) == FH_E_ARG);
    nn_net_free(net);
    struct lib_head lh = {LIB_HEAD_VERSION + 1, 4, 0, x, x, NULL, NULL, 0, 0};
    TEST_COND("lib_head_check: unknown version is FH_E_FORMAT", lib_head_check(&lh) == FH_E_FORMAT);
    lh.version = LIB_HEAD_VERSION, lh.hidden = 2;
    TEST_COND("lib_head_check: MLP without its weights is FH_E_FORMAT", lib_head_check(&lh) == FH_E_FORMAT);
}

// the plain-C inference equals the engine's forward on the same weights
static void test_inference_parity(void) {
    enum { D = FH_EMB_DIM, B = 6 };
    static float x[B * D], xs[B * D], mean[D], inv[D];
    struct train_rng r;
    train_rng_seed(&r, 5);
    for (int i = 0; i < B * D; i++) x[i] = (float)(0.1 * train_rng_normal(&r));
    for (int d = 0; d < D; d++) mean[d] = (float)(0.02 * train_rng_normal(&r)), inv[d] = 5 + (float)train_rng_below(&r, 10);
    for (int i = 0; i < B * D; i++) xs[i] = (x[i] - mean[i % D]) * inv[i % D];
    for (int hidden = 0; hidden <= 32; hidden += 32) {
        struct nn_net *net;
        struct nn_session *s = NULL;
        if (train_head_build(D, hidden, 9, &net)) {
            TEST_COND("parity: build", 0);
            continue;
        }
        for (int i = 0; i < nn_net_n_params(net); i++) { // biases, slopes away from their init
            struct nn_param p;
            nn_net_param(net, i, &p);
            if (p.trainable && !p.decay)
                for (size_t k = 0; k < p.n; k++) p.w[k] = (float)(0.3 * train_rng_normal(&r));
        }
        nn_net_weights_changed(net);
        struct train_head h = {0}, hf = {0};
        int ok = !nn_session_new(net, NULL, &s) && !nn_session_reshape(s, (int[]){B, 1, 1, D}, 4) &&
                 !train_head_export(net, D, hidden, NULL, NULL, &h) && !train_head_export(net, D, hidden, mean, inv, &hf);
        double worst = 0, worst_f = 0;
        for (int pass = 0; ok && pass < 2; pass++) {
            memcpy(nn_session_input(s, 0), pass ? xs : x, sizeof x);
            int dims[FH_MAX_DIMS], rank;
            ok = !nn_session_run(s);
            const float *z = nn_session_output(s, 0, dims, &rank);
            struct train_head *t = pass ? &hf : &h;
            struct lib_head lh = {LIB_HEAD_VERSION, D, hidden, t->w1, t->b1, t->alpha, t->w2, t->b2, 0};
            ok = ok && !lib_head_check(&lh) && rank == 2 && dims[0] == B && dims[1] == 1;
            for (int i = 0; ok && i < B; i++) {
                double e = fabs(lib_head_logit(&lh, x + i * D) - z[i]) / (1 + fabs(z[i]));
                if (pass) worst_f = e > worst_f ? e : worst_f;
                else worst = e > worst ? e : worst;
            }
        }
        char what[160];
        snprintf(what, sizeof what, "parity %s: plain C = engine forward (rel. err %.2g)", hidden ? "MLP" : "LR", worst);
        TEST_COND(what, ok && worst < 1e-5);
        snprintf(what, sizeof what, "parity %s: folded standardisation on raw input = engine on standardised (%.2g)",
                 hidden ? "MLP" : "LR", worst_f);
        TEST_COND(what, ok && worst_f < 1e-4);
        nn_session_free(s);
        nn_net_free(net);
        train_head_free(&h), train_head_free(&hf);
    }
}

// the calib.h text: the writer's numbers read back bit-exactly
static void test_write_format(void) {
    float w1[6] = {1.0f, -2.5e-7f, 3.14159274f, 0.1f, -0.0f, 65504.0f}, b1[2] = {0.5f, -1.0f / 3};
    float al[2] = {0.25f, 0.01f}, w2[2] = {-1.5f, 2.0f / 7};
    struct lib_head h = {LIB_HEAD_VERSION, 3, 2, w1, b1, al, w2, 0.125f, -0.75f};
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    int rc = lib_head_write_calib(f, "junk", &h);
    fclose(f);
    TEST_COND("write: FH_OK", rc == FH_OK && buf);
    if (!buf) return;
    TEST_COND("write: version, hidden, dim, threshold", strstr(buf, "#define LIB_JUNK_HEAD_VERSION 1\n") &&
                                                       strstr(buf, "#define LIB_JUNK_HEAD_HIDDEN 2\n") &&
                                                       strstr(buf, "#define LIB_JUNK_HEAD_DIM 3\n") &&
                                                       strstr(buf, "#define LIB_JUNK_HEAD_THRESHOLD -7.50000000e-01f\n"));
    const char *p = strstr(buf, "lib_junk_head_w1[6] = {");
    int exact = p != NULL;
    for (int i = 0; exact && i < 6; i++) {
        p = strpbrk(p + (i ? 0 : 22), "-0123456789");
        char *end;
        float v = strtof(p, &end);
        exact = memcmp(&v, &w1[i], sizeof v) == 0 && *end == 'f';
        p = end + 1;
    }
    TEST_COND("write: weights read back bit-exactly", exact);
    TEST_COND("write: alpha and w2 present", strstr(buf, "lib_junk_head_alpha[2]") && strstr(buf, "lib_junk_head_w2[2]"));
    free(buf);
    f = open_memstream(&buf, &len);
    rc = lib_head_write_calib(f, "blur", &h);
    fclose(f);
    TEST_COND("write: the blur head's names", rc == FH_OK && strstr(buf, "#define LIB_BLUR_HEAD_VERSION 1\n") &&
                                                  strstr(buf, "lib_blur_head_w1[6]") && !strstr(buf, "JUNK"));
    free(buf);
    f = open_memstream(&buf, &len);
    TEST_COND("write: an unknown head name is FH_E_ARG", lib_head_write_calib(f, "eyes", &h) == FH_E_ARG);
    fclose(f);
    free(buf);
    struct lib_head bad = h;
    bad.version = 0;
    f = open_memstream(&buf, &len);
    TEST_COND("write: a bad head is FH_E_FORMAT", lib_head_write_calib(f, "junk", &bad) == FH_E_FORMAT);
    fclose(f);
    free(buf);
}

// an old calibration (no head) loads and the library falls back to the sphere; the
// current one uses its head when it stores one
static void test_calib_formats(void) {
    TEST_COND("old calib.h: no head stored (LIB_CALIB_JUNK_HEAD is NULL)", LIB_CALIB_JUNK_HEAD == NULL);
    TEST_COND("old calib.h: the sphere's constants are there", LIB_TRASH_RADIUS > 0 && lib_trash_centre[0] != 0);
    // the fallback is the sphere: trash exactly below one distance
    struct train_rng r;
    train_rng_seed(&r, 2);
    float e[FH_EMB_DIM];
    double max_in = -1, min_out = 1e9;
    int n_in = 0, n_out = 0;
    for (int k = 0; k < 400; k++) {
        double a = (k % 40) / 40.0; // from the sphere's own centre outwards
        for (int d = 0; d < FH_EMB_DIM; d++) e[d] = (float)(lib_trash_centre[d] * (1 - a) + a * 0.1 * train_rng_normal(&r));
        double dist = lib_trash_distance(e);
        if (lib_is_trash_with(NULL, e)) n_in++, max_in = dist > max_in ? dist : max_in;
        else n_out++, min_out = dist < min_out ? dist : min_out;
    }
    TEST_COND("sphere fallback: trash exactly inside one radius", n_in > 0 && n_out > 0 && max_in < min_out);
    const struct lib_head *h = lib_junk_head();
    if (!h) {
        TEST_COND("current calib.h: no head, lib_is_trash is the sphere", 1);
        return;
    }
    TEST_COND("current calib.h: its head passes lib_head_check, on the embedding + context",
              lib_head_check(h) == FH_OK && h->dim == LIB_JUNK_FEATURES);
    int same = 1, n_pos = 0, ctx_matters = 0;
    float x[LIB_JUNK_FEATURES];
    for (int k = 0; k < 400; k++) {
        for (int d = 0; d < FH_EMB_DIM; d++) e[d] = (float)(0.07 * train_rng_normal(&r));
        // the same embedding as a sharp, large, confident face and as a soft, small, weak one
        lib_junk_vector(e, 400, 100, 200, 0.999f, x);
        int a = lib_is_trash(x);
        same &= a == lib_head_positive(h, x);
        lib_junk_vector(e, 5, 2, 40, 0.71f, x);
        int b = lib_is_trash(x);
        same &= b == lib_head_positive(h, x);
        n_pos += a + b, ctx_matters += a != b;
    }
    TEST_COND("current calib.h: lib_is_trash uses the head", same && n_pos > 0);
    TEST_COND("current calib.h: the context changes decisions", ctx_matters > 0);
}

// the blur features: the half-scale Laplacian is the one of the halved crop; without a blur
// head in calib.h the face's blur decision is the Laplacian threshold
static void test_blur_features(void) {
    struct img a, half;
    struct train_rng r;
    train_rng_seed(&r, 4);
    if (img_alloc(&a, 112, 112, 3) || img_alloc(&half, 56, 56, 3)) {
        TEST_COND("blur: alloc", 0);
        return;
    }
    for (size_t i = 0; i < (size_t)112 * 112 * 3; i++) a.data[i] = (uint8_t)(i % 336 < 168 ? 40 : 200) ^ (uint8_t)train_rng_below(&r, 16);
    img_resize_region(&a, 0, 0, 112, 112, &half);
    TEST_COND("blur: lib_blur_half = Laplacian of the crop halved", lib_blur_half(&a) == lib_blur(&half) && lib_blur(&half) > 0);
    float v[LIB_BLUR_FEATURES];
    lib_blur_vector(99, 24, 80, 0.9f, v);
    TEST_COND("blur: feature vector", fabsf(v[0] - logf(100)) < 1e-5f && fabsf(v[1] - logf(25)) < 1e-5f &&
                                          fabsf(v[2] - logf(80)) < 1e-5f && v[3] == 0.9f);
    float e[FH_EMB_DIM], x[LIB_JUNK_FEATURES];
    for (int d = 0; d < FH_EMB_DIM; d++) e[d] = (float)d / FH_EMB_DIM;
    lib_junk_vector(e, 99, 24, 80, 0.9f, x);
    TEST_COND("junk features: the embedding, then the blur features",
              !memcmp(x, e, sizeof e) && !memcmp(x + FH_EMB_DIM, v, sizeof v));
    struct fh_face face = {.box = {10, 10, 89, 89}, .score = 0.99f};
    const struct lib_head *h = lib_blur_head();
    double b = lib_blur(&a);
    if (!h) {
        TEST_COND("blur: no blur head, the Laplacian decides", lib_is_blurry_face(&a, &face, b) == lib_is_blurry(b) &&
                                                                   lib_is_blurry_face(&a, &face, 1) == lib_is_blurry(1));
    } else {
        lib_blur_vector(b, lib_blur_half(&a), 80, face.score, v);
        TEST_COND("blur: the stored head decides", lib_head_check(h) == FH_OK &&
                                                       lib_is_blurry_face(&a, &face, b) == lib_head_positive(h, v));
    }
    img_free(&a), img_free(&half);
}

int main(void) {
    test_bce_grad();
    test_train_clusters();
    test_bad_input();
    test_inference_parity();
    test_write_format();
    test_calib_formats();
    test_blur_features();
    return TEST_REPORT();
}
