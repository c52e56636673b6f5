// SPDX-License-Identifier: MIT
// ULFD RFB-320 (models/ulfd.onnx) through our ONNX importer against ONNX Runtime's outputs
// (build/golden/ulfd_golden.bin, made by tools/ulfd_golden.sh at `make test`) on two demo photos resized
// to the file's 320x240: face scores and decoded boxes, with the best and the reference
// kernels; then the net cut before its decode (det_ulfd_load) decoded against our own
// priors (detect/ulfd.c) against the same ORT boxes, and det_ulfd_detect on the six demo
// photos at 640 wide. `test_ulfd --write-inputs DIR` writes the 320x240 RGB inputs the golden tool
// feeds to ONNX Runtime.
#include <math.h>
#include <string.h>

#include "demo_boxes.h"
#include "detect/ulfd.h"
#include "harness.h"
#include "img/img.h"
#include "nn/nn.h"

#define GW 320
#define GH 240
// |ours - ONNX Runtime| on scores (softmax probabilities) and on boxes (fractions of the
// input size): float32 sums in another order (im2col GEMM with FMA vs ORT's MLAS) differ
// by a few ulp per layer over 52 convs (measured: 1e-6); 1e-5 is ~0.003 px at 320 wide
#define TOL 1e-5

static const char *const IMAGES[] = {"sample1", "sample2"};
#define N_IMAGES 2

static uint32_t fnv1a(const uint8_t *b, size_t n) {
    uint32_t h = 0x811c9dc5u;
    for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 0x01000193u;
    return h;
}

// the photo resized (stretched) to 320x240, tightly packed
static int load_input(const char *name, struct img *dst) {
    char path[256];
    struct img im;
    snprintf(path, sizeof path, FH_MODELS "/samples/%s.jpg", name);
    int rc = img_decode_file(path, &im);
    if (rc) return rc;
    if (!(rc = img_alloc(dst, GW, GH, 3))) img_resize_region(&im, 0, 0, im.w, im.h, dst);
    img_free(&im);
    return rc;
}

static int write_inputs(const char *dir) {
    for (int i = 0; i < N_IMAGES; i++) {
        struct img im;
        char path[512];
        if (load_input(IMAGES[i], &im)) return fprintf(stderr, "%s\n", fh_errmsg()), 1;
        snprintf(path, sizeof path, "%s/%s.rgb", dir, IMAGES[i]);
        FILE *f = fopen(path, "wb");
        if (!f || fwrite(im.data, 1, (size_t)GW * GH * 3, f) != (size_t)GW * GH * 3 || fclose(f))
            return fprintf(stderr, "cannot write %s\n", path), 1;
        img_free(&im);
    }
    return 0;
}

struct golden {
    uint8_t *buf;
    size_t n;
    int n_images, P;
};

static int golden_read(struct golden *g) {
    FILE *f = fopen(FH_GOLDEN "/ulfd_golden.bin", "rb");
    if (!f) return 0;
    g->buf = malloc(1 << 20);
    g->n = fread(g->buf, 1, 1 << 20, f);
    fclose(f);
    if (g->n < 16 || memcmp(g->buf, "ULFDGLD1", 8)) return 0;
    uint32_t ni, p;
    memcpy(&ni, g->buf + 8, 4), memcpy(&p, g->buf + 12, 4);
    g->n_images = (int)ni, g->P = (int)p;
    return g->n == 16 + (size_t)ni * (36 + (size_t)p * 20);
}

// image i of the golden file: name, input hash, face[P], boxes[P*4]
static const uint8_t *golden_image(const struct golden *g, int i, uint32_t *hash, const float **face,
                                   const float **boxes) {
    const uint8_t *p = g->buf + 16 + (size_t)i * (36 + (size_t)g->P * 20);
    memcpy(hash, p + 32, 4);
    *face = (const float *)(p + 36); // 4-byte aligned: 16 + k*(36 + 20 P)
    *boxes = *face + g->P;
    return p;
}

static void to_input(const struct img *im, float *x) {
    for (size_t i = 0; i < (size_t)GW * GH * 3; i++) x[i] = (float)(im->data[i] - 127) / 128.0f;
}

static void test_golden(const struct golden *g, int force_ref) {
    struct nn_options opt = {.force_ref = force_ref};
    struct nn_net *net;
    char d[200];
    int rc = nn_net_load_onnx(FH_MODELS "/ulfd.onnx", &opt, &net);
    snprintf(d, sizeof d, "ulfd.onnx loads (%s kernels)", force_ref ? "ref" : "best");
    TEST_COND(d, rc == FH_OK);
    if (rc) {
        printf("# %s\n", fh_errmsg());
        return;
    }
    struct nn_session *s;
    nn_session_new(net, NULL, &s);
    int dims[4] = {1, GH, GW, 3};
    nn_session_reshape(s, dims, 4);
    for (int i = 0; i < g->n_images; i++) {
        uint32_t hash;
        const float *face, *boxes;
        const char *name = (const char *)golden_image(g, i, &hash, &face, &boxes);
        struct img im;
        if (load_input(name, &im)) {
            TEST_COND("golden image decodes", 0);
            continue;
        }
        snprintf(d, sizeof d, "%s: our 320x240 input is the one ONNX Runtime saw", name);
        TEST_COND(d, fnv1a(im.data, (size_t)GW * GH * 3) == hash);
        to_input(&im, nn_session_input(s, 0));
        img_free(&im);
        nn_session_run(s);
        int od[FH_MAX_DIMS], r1, r2;
        const float *sc = nn_session_output(s, 0, od, &r1);
        int P = od[1];
        const float *bx = nn_session_output(s, 1, od, &r2);
        double es = 0, eb = 0;
        for (int p = 0; p < P && P == g->P; p++) {
            es = fmax(es, fabs(sc[p * 2 + 1] - face[p]));
            for (int k = 0; k < 4; k++) eb = fmax(eb, fabs(bx[p * 4 + k] - boxes[p * 4 + k]));
        }
        snprintf(d, sizeof d, "%s (%s): %d priors; max |ours - ORT| scores %.2g, boxes %.2g (tol %.0e)",
                 name, force_ref ? "ref" : "best", P, es, eb, TOL);
        TEST_COND(d, P == g->P && es <= TOL && eb <= TOL);
    }
    nn_session_free(s);
    nn_net_free(net);
}

// our priors + decode on the cut net == the file's baked-in 320x240 decode (ORT)
static void test_own_decode(const struct golden *g) {
    struct nn_net *net;
    int rc = det_ulfd_load(FH_MODELS "/ulfd.onnx", &net);
    TEST_COND("ulfd.onnx loads cut before its decode (outputs scores, raw offsets)", rc == FH_OK && nn_net_n_outputs(net) == 2);
    if (rc) return;
    int P = det_ulfd_n_priors(GW, GH);
    TEST_COND("320x240 has 4420 priors (40x30x3 + 20x15x2 + 10x8x2 + 5x4x3)", P == 4420 && P == g->P);
    float *pr = malloc((size_t)P * 16), *bx = malloc((size_t)P * 16);
    det_ulfd_priors(GW, GH, pr);
    struct nn_session *s;
    nn_session_new(net, NULL, &s);
    int dims[4] = {1, GH, GW, 3};
    nn_session_reshape(s, dims, 4);
    for (int i = 0; i < g->n_images && P == g->P; i++) {
        uint32_t hash;
        const float *face, *boxes;
        const char *name = (const char *)golden_image(g, i, &hash, &face, &boxes);
        struct img im;
        if (load_input(name, &im)) continue;
        to_input(&im, nn_session_input(s, 0));
        img_free(&im);
        nn_session_run(s);
        int od[FH_MAX_DIMS], r;
        det_ulfd_decode(nn_session_output(s, 1, od, &r), pr, P, bx);
        double eb = 0;
        for (int k = 0; k < P * 4; k++) eb = fmax(eb, fabs(bx[k] - boxes[k]));
        char d[200];
        snprintf(d, sizeof d, "%s: our priors + decode vs the file's decode in ORT: max diff %.2g (tol %.0e)", name, eb, TOL);
        TEST_COND(d, od[1] == P && eb <= TOL);
    }
    free(pr), free(bx);
    nn_session_free(s);
    nn_net_free(net);
}

static int ulfd_detect(void *d, const struct img *im, struct det_box_f **b, int *n) {
    return det_ulfd_detect(d, im, NULL, b, n);
}

// fully convolutional at 640 wide on the demo photos (3-5 people each): every photo has
// 3 to 6 confident faces, boxes lie in the image (10 % margin) and are sorted by score
static void test_detect(void) {
    struct nn_net *net;
    struct det_ulfd *d = NULL;
    if (det_ulfd_load(FH_MODELS "/ulfd.onnx", &net) || det_ulfd_new(net, NULL, &d)) {
        TEST_COND("det_ulfd_new", 0);
        return;
    }
    char counts[128], msg[256];
    int ok = demo_boxes_check(ulfd_detect, d, 0.1f, 3, 6, counts, sizeof counts);
    snprintf(msg, sizeof msg, "det_ulfd_detect at 640 wide: faces >= 0.9 / > 0.3 per demo photo: %s; an empty image: FH_E_ARG", counts);
    TEST_COND(msg, ok);
    det_ulfd_free(d);
    nn_net_free(net);
}

int main(int argc, char **argv) {
    if (argc == 3 && !strcmp(argv[1], "--write-inputs")) return write_inputs(argv[2]);
    struct golden g = {0};
    TEST_COND("the ULFD golden reads (tools/ulfd_golden.sh makes it)", golden_read(&g));
    if (g.n_images) {
        test_golden(&g, 0);
        test_golden(&g, 1);
        test_own_decode(&g);
    }
    test_detect();
    free(g.buf);
    return TEST_REPORT();
}
