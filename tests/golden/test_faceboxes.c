// SPDX-License-Identifier: MIT
// FaceBoxes (models/faceboxes/, a TensorFlow.js graph model) through our tfjs importer
// against TensorFlow.js's own outputs (build/golden/faceboxes_golden.bin, made at `make test` by
// tools/faceboxes_golden.sh with the tfjs cpu backend) on two demo photos resized to
// 320x240 (padded to 384x256 by the graph and by us): our anchors against the graph's, the
// heads' face probabilities and box encodings with the best and the reference kernels, our
// decode against the graph's decoded boxes; then det_faceboxes_detect on the six demo
// photos. `test_faceboxes --write-inputs DIR` writes the 320x240 RGB inputs tfjs is fed.
#include <math.h>
#include <string.h>

#include "demo_boxes.h"
#include "detect/faceboxes.h"
#include "harness.h"
#include "img/img.h"
#include "nn/nn.h"

#define GW 320
#define GH 240
#define GWP 384 // padded to multiples of 128
#define GHP 256
// |ours - tfjs|: float32 sums in another order (our im2col GEMM with FMA vs tfjs-cpu's
// loops) over 33 convs; measured below 1e-5 on probabilities and encodings; decoded boxes
// (fractions of the image) inherit it through exp()
#define TOL 1e-4

static const char *const IMAGES[] = {"sample1", "sample2"};

static uint32_t hash_bytes(const uint8_t *b, size_t n) { // FNV-1a, as the golden tool
    uint32_t h = 0x811c9dc5u;
    while (n--) h = (h ^ *b++) * 0x01000193u;
    return h;
}

// demo photo `name` stretched to GW x GH
static int photo(const char *name, struct img *out) {
    char path[256];
    struct img full;
    snprintf(path, sizeof path, FH_MODELS "/samples/%s.jpg", name);
    int rc = img_decode_file(path, &full);
    if (rc) return rc;
    rc = img_alloc(out, GW, GH, 3);
    if (!rc) img_resize_region(&full, 0, 0, full.w, full.h, out);
    img_free(&full);
    return rc;
}

struct golden {
    float *buf;   // the whole file (4-byte aligned)
    size_t bytes;
    int n, P;
    const float *anchors;
};

// image i: name, hash, face[P], enc[P*4], boxes[P*4]
static const char *golden_at(const struct golden *g, int i, uint32_t *hash, const float **face, const float **enc,
                             const float **boxes) {
    const uint8_t *p = (const uint8_t *)g->buf + 24 + (size_t)g->P * 16 + (size_t)i * (36 + (size_t)g->P * 36);
    memcpy(hash, p + 32, 4);
    *face = (const float *)(p + 36), *enc = *face + g->P, *boxes = *enc + 4 * (size_t)g->P;
    return (const char *)p;
}

static int golden_load(struct golden *g) {
    FILE *f = fopen(FH_GOLDEN "/faceboxes_golden.bin", "rb");
    if (!f) return 0;
    g->buf = malloc(1 << 20);
    g->bytes = fread(g->buf, 1, 1 << 20, f);
    fclose(f);
    uint32_t h[4];
    if (g->bytes < 24 || memcmp(g->buf, "FBXGLD01", 8)) return 0;
    memcpy(h, (const uint8_t *)g->buf + 8, 16);
    g->n = (int)h[0], g->P = (int)h[1], g->anchors = (const float *)((const uint8_t *)g->buf + 24);
    return h[2] == GW && h[3] == GH && g->bytes == 24 + (size_t)g->P * 16 + (size_t)g->n * (36 + (size_t)g->P * 36);
}

static double max_diff(const float *a, const float *b, size_t n) {
    double e = 0;
    for (size_t i = 0; i < n; i++) e = fmax(e, fabs((double)a[i] - b[i]));
    return e;
}

static void test_anchors(const struct golden *g) {
    int P = det_faceboxes_n_anchors(GWP, GHP);
    TEST_COND("384x256 has 2046 anchors (12x8x21 + 6x4 + 3x2), as the graph makes", P == 2046 && P == g->P);
    if (P != g->P) return;
    float *a = malloc((size_t)P * 16);
    det_faceboxes_anchors(GWP, GHP, a);
    double e = max_diff(a, g->anchors, (size_t)P * 4);
    char d[160];
    snprintf(d, sizeof d, "our anchors vs the graph's: max diff %.2g (tol 1e-6)", e);
    TEST_COND(d, e <= 1e-6);
    free(a);
}

static void test_net(const struct golden *g, int force_ref) {
    struct nn_net *net;
    char d[200];
    struct nn_options o = {.force_ref = force_ref};
    int rc = det_faceboxes_load(FH_MODELS "/faceboxes/model.json", &o, &net);
    snprintf(d, sizeof d, "faceboxes cut to its heads loads (%s kernels: %s)", force_ref ? "ref" : "best", rc ? "-" : nn_net_kernels(net));
    TEST_COND(d, rc == FH_OK);
    if (rc) {
        printf("# %s\n", fh_errmsg());
        return;
    }
    struct nn_session *s;
    nn_session_new(net, NULL, &s);
    int dims[4] = {1, GHP, GWP, 3}, P = g->P;
    nn_session_reshape(s, dims, 4);
    float *face = malloc((size_t)P * 4), *enc = malloc((size_t)P * 16), *an = malloc((size_t)P * 16), *bx = malloc((size_t)P * 16);
    det_faceboxes_anchors(GWP, GHP, an);
    for (int i = 0; i < g->n; i++) {
        uint32_t hash;
        const float *gface, *genc, *gbox;
        const char *name = golden_at(g, i, &hash, &gface, &genc, &gbox);
        struct img im;
        if (photo(name, &im)) {
            TEST_COND("golden photo decodes", 0);
            continue;
        }
        int same = hash_bytes(im.data, (size_t)GW * GH * 3) == hash;
        det_faceboxes_input(&im, GWP, GHP, nn_session_input(s, 0));
        img_free(&im);
        rc = nn_session_run(s);
        if (!rc) rc = det_faceboxes_gather(s, GWP, GHP, face, enc);
        det_faceboxes_decode(enc, an, P, (float)((double)GH / GHP), (float)((double)GW / GWP), bx);
        double ef = max_diff(face, gface, (size_t)P), ee = max_diff(enc, genc, (size_t)P * 4), eb = max_diff(bx, gbox, (size_t)P * 4);
        snprintf(d, sizeof d, "%s (%s): input as tfjs saw it; max |ours - tfjs| face %.2g, encodings %.2g, decoded boxes %.2g (tol %.0e)",
                 name, force_ref ? "ref" : "best", ef, ee, eb, TOL);
        TEST_COND(d, rc == FH_OK && same && ef <= TOL && ee <= TOL && eb <= TOL);
    }
    free(face), free(enc), free(an), free(bx);
    nn_session_free(s);
    nn_net_free(net);
}

static int faceboxes_detect(void *d, const struct img *im, struct det_box_f **b, int *n) {
    return det_faceboxes_detect(d, im, NULL, b, n);
}

// the six demo photos (3-5 people each) at 1024 wide: 2 to 6 confident faces on each,
// boxes inside the image (the decode clips them) and sorted by score
static void test_detect(void) {
    struct nn_net *net;
    struct det_faceboxes *d = NULL;
    if (det_faceboxes_load(FH_MODELS "/faceboxes/model.json", NULL, &net) || det_faceboxes_new(net, NULL, &d)) {
        TEST_COND("det_faceboxes_new", 0);
        return;
    }
    char counts[128], msg[256];
    int ok = demo_boxes_check(faceboxes_detect, d, 0, 2, 6, counts, sizeof counts);
    snprintf(msg, sizeof msg, "det_faceboxes_detect at 1024 wide: faces >= 0.9 / >= 0.5 per demo photo: %s; an empty image: FH_E_ARG", counts);
    TEST_COND(msg, ok);
    det_faceboxes_free(d);
    nn_net_free(net);
}

static int write_inputs(const char *dir) {
    for (size_t i = 0; i < sizeof IMAGES / sizeof *IMAGES; i++) {
        struct img im;
        char path[512];
        if (photo(IMAGES[i], &im)) return fprintf(stderr, "%s\n", fh_errmsg()), 1;
        snprintf(path, sizeof path, "%s/%s.rgb", dir, IMAGES[i]);
        FILE *f = fopen(path, "wb");
        int bad = !f || fwrite(im.data, 1, (size_t)GW * GH * 3, f) != (size_t)GW * GH * 3;
        if (f && fclose(f)) bad = 1;
        img_free(&im);
        if (bad) return fprintf(stderr, "cannot write %s\n", path), 1;
    }
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 3 && !strcmp(argv[1], "--write-inputs")) return write_inputs(argv[2]);
    struct golden g = {0};
    TEST_COND("the FaceBoxes golden reads (tools/faceboxes_golden.sh makes it)", golden_load(&g));
    if (g.n) {
        test_anchors(&g);
        test_net(&g, 0);
        test_net(&g, 1);
    }
    test_detect();
    free(g.buf);
    return TEST_REPORT();
}
