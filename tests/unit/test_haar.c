// SPDX-License-Identifier: MIT
// haar: integral images and the pyramid resize against brute-force definitions, grouping
// on hand-made rectangles with known output, cascade loading (the real OpenCV files and
// broken ones), and detection on 20 CMU+MIT images against OpenCV 4.6's own output
// (cv2.CascadeClassifier(...).detectMultiScale2(grey, 1.1, 3) via
// tools/haar_opencv_ref.py --neighbors). Needs Debian's opencv-data: without
// /usr/share/opencv4 the loading tests FAIL, they do not skip.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "base/pool.h"
#include "haar/haar.h"
#include "haar/haar_int.h"

#define CMU FH_SHARED "/data/cmu_mit_frontal/test_jpg/"

static uint32_t rng_state = 12345;
static uint32_t rnd(void) {   // xorshift32, seeded: the same images every run
    rng_state ^= rng_state << 13, rng_state ^= rng_state >> 17, rng_state ^= rng_state << 5;
    return rng_state;
}

// ---- integral images vs their definitions ----------------------------------------------
static int check_integral(int w, int h) {
    size_t stride = (size_t)w + 2, is = (size_t)w + 3;   // padded strides on both sides
    uint8_t *g = malloc(stride * h);
    uint32_t *s = calloc(is * (h + 1), 4), *q = calloc(is * (h + 1), 4), *t = calloc(is * (h + 1), 4);
    uint32_t *scratch = malloc(4 * ((size_t)w + 1) * 4);
    for (size_t i = 0; i < stride * h; i++) g[i] = (uint8_t)rnd();
    haar_integral(g, w, h, stride, is, s, q, t, scratch);
    int ok = 1;
    for (int Y = 0; Y <= h; Y++)
        for (int X = 0; X <= w; X++) {
            uint64_t bs = 0, bq = 0, bt = 0;
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++) {
                    uint32_t v = g[(size_t)y * stride + x];
                    if (y < Y && x < X) bs += v, bq += v * v;
                    if (y < Y && abs(x - X + 1) <= Y - 1 - y) bt += v;
                }
            size_t o = (size_t)Y * is + X;
            ok &= s[o] == (uint32_t)bs && q[o] == (uint32_t)bq && t[o] == (uint32_t)bt;
        }
    free(g), free(s), free(q), free(t), free(scratch);
    return ok;
}

// ---- the pyramid resize vs a per-pixel transcription of its documented formula ---------
static int ref_tap(int src, int dst, int d, int *i0, int *w1) {   // 0: interpolate, -1/1: edge
    double scale = 1.0 / ((double)dst / src), f = scale * ((double)d + 0.5) - 0.5;
    int i = (int)floor(f);
    if (i < 0 || src == 1) return -1;
    if (i >= src - 1) return 1;
    *i0 = i, *w1 = (int)nearbyint((f - i) * 256);
    return 0;
}
static uint32_t ref_h(const uint8_t *row, int sw, int dw, int dx) {
    int i, w1, e = ref_tap(sw, dw, dx, &i, &w1);
    if (e) return (uint32_t)row[e < 0 ? 0 : sw - 1] * 256;
    return (uint32_t)((256 - w1) * row[i] + w1 * row[i + 1]);
}
static int check_resize(int sw, int sh, int dw, int dh) {
    uint8_t *s = malloc((size_t)sw * sh), *d = malloc((size_t)dw * dh);
    for (int i = 0; i < sw * sh; i++) s[i] = (uint8_t)(rnd() >> 7);
    int ok = haar_resize(s, sw, sh, sw, d, dw, dh) == FH_OK;
    for (int y = 0; y < dh && ok; y++)
        for (int x = 0; x < dw; x++) {
            int i, w1, e = ref_tap(sh, dh, y, &i, &w1);
            uint32_t v;
            if (sw == dw && sh == dh) v = s[y * sw + x];
            else if (e) v = (ref_h(s + (e < 0 ? 0 : sh - 1) * sw, sw, dw, x) + 128) >> 8;
            else v = ((256 - w1) * ref_h(s + i * sw, sw, dw, x) + w1 * ref_h(s + (i + 1) * sw, sw, dw, x) + 32768) >> 16;
            ok &= d[y * dw + x] == v;
        }
    free(s), free(d);
    return ok;
}

// ---- grouping on hand-made rectangles ----------------------------------------------------
static struct haar_det R(int x, int y, int w, int h, double m) { return (struct haar_det){x, y, w, h, 1, m}; }

static void test_group(void) {
    struct haar_det in[32];
    int n = 0;
    // A: six near-identical boxes; x sums to 63 -> 63/6 = 10.5 -> 10 (half to even, as
    // OpenCV's float cvRound), y 66/6 = 11, w 123/6 = 20.5 -> 20, h 120/6 = 20
    in[n++] = R(10, 10, 20, 20, 1.0), in[n++] = R(11, 11, 21, 20, 1.0), in[n++] = R(10, 12, 20, 20, 1.0);
    in[n++] = R(11, 11, 21, 20, 1.0), in[n++] = R(10, 11, 20, 20, 1.0), in[n++] = R(11, 11, 21, 20, 1.0);
    // B: four boxes inside A (not similar to it); A has more support (6 > max(3, 4)): dropped
    for (int i = 0; i < 4; i++) in[n++] = R(14, 14, 10, 10, 0.5);
    // C: a chain of 4 where the ends are not similar to each other: one class by transitivity
    in[n++] = R(100, 100, 30, 30, 3.0), in[n++] = R(105, 100, 30, 30, 3.0);
    in[n++] = R(110, 100, 30, 30, 3.0), in[n++] = R(115, 100, 30, 30, 3.0);
    // D: three boxes: not more than min_neighbors = 3, dropped
    for (int i = 0; i < 3; i++) in[n++] = R(300, 300, 40, 40, 1.0);
    struct haar_det *d;
    int m;
    int rc = haar_group(in, n, 3, 0.2, &d, &m);
    TEST_COND("group: two classes survive", rc == FH_OK && m == 2);
    if (rc || m != 2) return;
    TEST_COND("group: averaged box rounds half to even (10.5 -> 10, 20.5 -> 20)",
              d[0].x == 10 && d[0].y == 11 && d[0].w == 20 && d[0].h == 20 && d[0].neighbors == 6);
    TEST_COND("group: transitive chain is one class", d[1].x == 108 && d[1].y == 100 &&
                                                          d[1].w == 30 && d[1].neighbors == 4);
    TEST_COND("group: score = neighbors + 0.5 + 0.5 m/(1+m)",
              fabs(d[0].score - (6 + 0.75)) < 1e-12 && fabs(d[1].score - (4 + 0.875)) < 1e-12);
    fh_free(d);
    // with min_neighbors 5 only A is left; B (4) is no longer suppressed by anything kept
    rc = haar_group(in, n, 5, 0.2, &d, &m);
    TEST_COND("group: min_neighbors 5 keeps only A", rc == FH_OK && m == 1 && d[0].neighbors == 6);
    fh_free(d);
    // B inside A with B better supported than A is kept: n2 > max(3, n1) fails
    rc = haar_group(in + 3, n - 3, 2, 0.2, &d, &m);   // A now has 3 members, B 4
    TEST_COND("group: inner box with more support than the outer one stays",
              rc == FH_OK && m == 4 && d[1].x == 14 && d[1].neighbors == 4);
    fh_free(d);
    rc = haar_group(in, n, 0, 0.2, &d, &m);
    TEST_COND("group: min_neighbors 0 returns the raw boxes", rc == FH_OK && m == n && d[3].x == 11 &&
                                                                 d[3].neighbors == 1);
    fh_free(d);
    rc = haar_group(in, 0, 3, 0.2, &d, &m);
    TEST_COND("group: no input, no output", rc == FH_OK && m == 0 && d == NULL);
}

// ---- loading ------------------------------------------------------------------------------
static char tmpdir[64];

static int load_text(const char *name, const char *text, struct haar_cascade **c) {
    char path[128];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "wb");
    if (!f) return -100;
    fputs(text, f);
    fclose(f);
    int rc = haar_load(path, c);
    unlink(path);
    return rc;
}

// a one-stage, one-stump cascade: "left half darker than right half" in a 4x4 window
#define TINY_HEAD "<?xml version=\"1.0\"?>\n<opencv_storage>\n<cascade type_id=\"opencv-cascade-classifier\">" \
    "<stageType>BOOST</stageType><featureType>%s</featureType><height>4</height><width>4</width>" \
    "<featureParams><maxCatCount>0</maxCatCount></featureParams><stageNum>1</stageNum><stages><_>"  \
    "<maxWeakCount>1</maxWeakCount><stageThreshold>0.5</stageThreshold><weakClassifiers><_>"        \
    "<internalNodes>%s</internalNodes><leafValues>-1. 1.</leafValues></_></weakClassifiers></_>"    \
    "</stages><features><_><rects><_>%s</_><_>2 0 2 4 -1.</_></rects></_></features></cascade>"     \
    "</opencv_storage>\n"

static int tiny(const char *type, const char *nodes, const char *rect, struct haar_cascade **c) {
    char buf[2048];
    snprintf(buf, sizeof buf, TINY_HEAD, type, nodes, rect);
    return load_text("tiny.xml", buf, c);
}

static void test_load_errors(void) {
    struct haar_cascade *c = (struct haar_cascade *)1;
    int rc = haar_load("/nonexistent/haarcascade.xml", &c);
    TEST_COND("load: missing file -> FH_E_IO naming opencv-data, out NULL",
              rc == FH_E_IO && strstr(fh_errmsg(), "opencv-data") && c == NULL);
    TEST_COND("load: empty file -> FH_E_FORMAT", load_text("e.xml", "", &c) == FH_E_FORMAT && !c);
    TEST_COND("load: not XML -> FH_E_FORMAT", load_text("t.xml", "hello", &c) == FH_E_FORMAT);
    rc = load_text("r.xml", "<?xml version=\"1.0\"?><foo><cascade/></foo>", &c);
    TEST_COND("load: wrong root -> FH_E_FORMAT naming it", rc == FH_E_FORMAT && strstr(fh_errmsg(), "<foo>"));
    rc = load_text("m.xml", "<opencv_storage><a><b></a></b></opencv_storage>", &c);
    TEST_COND("load: mismatched tags -> FH_E_FORMAT", rc == FH_E_FORMAT);
    rc = load_text("s.xml", "<opencv_storage><cascade><stageType>BOOST</stageType></cascade></opencv_storage>", &c);
    TEST_COND("load: no stages/features -> FH_E_FORMAT", rc == FH_E_FORMAT);

    rc = tiny("HAAR", "0 -1 0 0.", "0 0 4 4 1.", &c);
    TEST_COND("load: tiny valid cascade", rc == FH_OK && c && c->stumps && c->nstages == 1 &&
                                              c->win_w == 4 && fabsf(c->stages[0].threshold - (0.5f - 1e-5f)) == 0);
    haar_free(c);
    TEST_COND("load: LBP -> FH_E_UNSUPPORTED", tiny("LBP", "0 -1 0 0.", "0 0 4 4 1.", &c) == FH_E_UNSUPPORTED);
    rc = tiny("HAAR", "0 -1 5 0.", "0 0 4 4 1.", &c);
    TEST_COND("load: feature index out of range -> FH_E_FORMAT", rc == FH_E_FORMAT && !c);
    TEST_COND("load: rectangle outside the window -> FH_E_FORMAT",
              tiny("HAAR", "0 -1 0 0.", "1 0 4 4 1.", &c) == FH_E_FORMAT);
    TEST_COND("load: node count and leaves disagree -> FH_E_FORMAT",
              tiny("HAAR", "0 -1 0 0. 0 -1 0 0.", "0 0 4 4 1.", &c) == FH_E_FORMAT);
    TEST_COND("load: a tree child pointing back (a loop) -> FH_E_FORMAT",
              tiny("HAAR", "1 -1 0 0. 0 -2 0 0.", "0 0 4 4 1.", &c) == FH_E_FORMAT);
    TEST_COND("load: junk number -> FH_E_FORMAT", tiny("HAAR", "0 -1 0 x", "0 0 4 4 1.", &c) == FH_E_FORMAT);

    // every prefix-truncation point class: inside a tag, inside text, inside a comment
    uint8_t *buf;
    size_t n;
    if (fh_read_file(HAAR_DEFAULT_CASCADE, HAAR_MAX_XML_BYTES, &buf, &n) == FH_OK) {
        int all = 1;
        for (size_t cut = 10; cut < n; cut = cut * 3 + 7) {
            char save = (char)buf[cut];
            buf[cut] = 0;
            rc = load_text("cut.xml", (char *)buf, &c);
            all &= rc == FH_E_FORMAT && c == NULL;
            buf[cut] = (uint8_t)save;
        }
        TEST_COND("load: truncated default cascade -> FH_E_FORMAT at every cut", all);
        fh_free(buf);
    } else {
        TEST_COND("load: read the default cascade for truncation", 0);
    }
    haar_free(NULL);
}

// ---- detection ---------------------------------------------------------------------------
// OpenCV 4.6: name x y w h neighbours (tools/haar_opencv_ref.py --neighbors)
static const char *const opencv_ref[] = {
    "bwolen.jpg 4 15 50 50 13",
    "wxm.jpg 28 17 50 50 33",
    "brian.jpg 36 19 55 55 24",
    "tp.jpg 13 33 70 70 91",
    "speed.jpg 31 35 41 41 36",
    "albert.jpg 53 9 57 57 49",
    "kymberly.jpg 27 18 66 66 43",
    "trekcolr.jpg 71 8 59 59 30",
    "trekcolr.jpg 125 16 32 32 5",
    "trekcolr.jpg 25 19 57 57 73",
    "gpripe.jpg 2 12 55 55 18",
    "gpripe.jpg 51 19 71 71 56",
    "hendrix2.jpg 25 41 70 70 53",
    "lacrosse.jpg 77 22 57 57 24",
    "tp-reza-girosi.jpg 143 17 47 47 30",
    "tp-reza-girosi.jpg 15 34 48 48 24",
    "tp-reza-girosi.jpg 74 43 54 54 39",
    "ysato.jpg 63 59 73 73 62",
    "cfb.jpg 41 33 94 94 76",
    "me.jpg 130 25 44 44 30",
    "baseball.jpg 69 17 65 65 64",
    "cnn1085.jpg 100 46 98 98 37",
    "trek-trio.jpg 98 38 64 64 66",
    "trek-trio.jpg 39 206 57 57 4",
    "trek-trio.jpg 219 118 33 33 28",
    "trek-trio.jpg 16 118 36 36 25",
    "aerosmith-double.jpg 94 8 59 59 48",
    "aerosmith-double.jpg 77 114 59 59 86",
    "aerosmith-double.jpg 264 105 55 55 55",
    "aerosmith-double.jpg 214 33 57 57 26",
    "aerosmith-double.jpg 148 87 58 58 23",
};
static const char *const ref_images[] = {
    "bwolen", "wxm", "brian", "tp", "speed", "albert", "kymberly", "trekcolr", "gpripe", "hendrix2",
    "lacrosse", "tp-reza-girosi", "ysato", "cfb", "me", "baseball", "knex20", "cnn1085", "trek-trio",
    "aerosmith-double",
};

static void test_detect_vs_opencv(const struct haar_cascade *c) {
    struct haar_params p = haar_params_default();
    int nref = (int)(sizeof opencv_ref / sizeof *opencv_ref), found = 0, ours = 0, fail = 0;
    double t0 = fh_now_ms();
    for (size_t k = 0; k < sizeof ref_images / sizeof *ref_images; k++) {
        char path[256], name[64];
        snprintf(path, sizeof path, CMU "%s.jpg", ref_images[k]);
        snprintf(name, sizeof name, "%s.jpg", ref_images[k]);
        struct img im;
        if (img_decode_file(path, &im)) {
            printf("# %s\n", fh_errmsg());
            fail++;
            continue;
        }
        struct haar_det *d;
        int n;
        if (haar_detect(c, &im, &p, &d, &n)) {
            printf("# %s\n", fh_errmsg());
            fail++;
            img_free(&im);
            continue;
        }
        ours += n;
        for (int i = 0; i < n; i++) {
            char line[128];
            snprintf(line, sizeof line, "%s %d %d %d %d %d", name, d[i].x, d[i].y, d[i].w, d[i].h, d[i].neighbors);
            int hit = 0;
            for (int r = 0; r < nref; r++) hit |= !strcmp(opencv_ref[r], line);
            found += hit;
            if (!hit) printf("# not in OpenCV's output: %s\n", line);
            if (!(d[i].score > d[i].neighbors && d[i].score < d[i].neighbors + 1)) fail++;
        }
        fh_free(d);
        img_free(&im);
    }
    printf("# 20 images in %.0f ms\n", fh_now_ms() - t0);
    TEST_COND("detect: 20 CMU+MIT images give exactly OpenCV's boxes and neighbour counts",
              fail == 0 && found == nref && ours == nref);
}

static void test_detect_args(const struct haar_cascade *c) {
    struct img im;
    struct haar_det *d = (struct haar_det *)1;
    int n = -1;
    img_alloc(&im, 64, 48, 3);
    struct haar_params p = haar_params_default();
    p.scale_factor = 1.0;
    TEST_COND("detect: scale_factor 1 -> FH_E_ARG", haar_detect(c, &im, &p, &d, &n) == FH_E_ARG && !d && n == 0);
    p = haar_params_default();
    TEST_COND("detect: NULL cascade -> FH_E_ARG", haar_detect(NULL, &im, &p, &d, &n) == FH_E_ARG);
    TEST_COND("detect: flat image -> no faces", haar_detect(c, &im, &p, &d, &n) == FH_OK && n == 0 && !d);
    img_free(&im);
    img_alloc(&im, 20, 20, 1);   // smaller than the 24x24 window
    TEST_COND("detect: image smaller than the window -> no faces",
              haar_detect(c, &im, &p, &d, &n) == FH_OK && n == 0);
    img_free(&im);
    img_alloc(&im, 30, 30, 2);
    TEST_COND("detect: 2 channels -> FH_E_ARG", haar_detect(c, &im, &p, &d, &n) == FH_E_ARG);
    img_free(&im);
    // out of memory at every allocation of a real detection: an error, never a crash/leak
    struct img ph;
    if (img_decode_file(CMU "albert.jpg", &ph) == FH_OK) {
        int ok = 1;
        for (long k = 1; k < 40; k++) {
            fh_alloc_fail_after(k);
            int rc = haar_detect(c, &ph, &p, &d, &n);
            fh_alloc_fail_after(0);
            ok &= rc == FH_OK || rc == FH_E_NOMEM;
            if (rc == FH_OK) fh_free(d);
        }
        TEST_COND("detect: allocation failures return FH_E_NOMEM", ok);
        img_free(&ph);
    }
}

// The same detections (boxes, order, scores, bit for bit) with 1, 2 and 3 threads, also
// raw (ungrouped) hits, which show any change of order directly.
static void test_detect_threads(const struct haar_cascade *c) {
    static const char *const imgs[] = {"aerosmith-double", "baseball", "cnn1085", "knex20", "trek-trio"};
    struct fh_pool *pools[3] = {NULL, fh_pool_new(2), fh_pool_new(3)};
    int ok = pools[1] && pools[2], total = 0;
    for (size_t k = 0; ok && k < sizeof imgs / sizeof *imgs; k++) {
        char path[256];
        snprintf(path, sizeof path, CMU "%s.jpg", imgs[k]);
        struct img im;
        if (img_decode_file(path, &im)) {
            printf("# %s\n", fh_errmsg());
            ok = 0;
            break;
        }
        for (int raw = 0; raw < 2; raw++) {
            struct haar_det *d[3] = {NULL, NULL, NULL};
            int n[3] = {-1, -1, -1};
            for (int t = 0; t < 3; t++) {
                struct haar_params p = haar_params_default();
                p.pool = pools[t];
                int rc = raw ? haar_detect_raw(c, &im, &p, &d[t], &n[t]) : haar_detect(c, &im, &p, &d[t], &n[t]);
                ok &= rc == FH_OK;
            }
            for (int t = 1; t < 3; t++)
                ok &= n[t] == n[0] && (n[0] == 0 || memcmp(d[t], d[0], (size_t)n[0] * sizeof *d[0]) == 0);
            if (!raw) total += n[0];
            for (int t = 0; t < 3; t++) fh_free(d[t]);
        }
        img_free(&im);
    }
    fh_pool_free(pools[1]), fh_pool_free(pools[2]);
    TEST_COND("detect: 1, 2 and 3 threads give identical detections and raw hits (5 CMU+MIT images)",
              ok && total > 0);
}

int main(void) {
    int ok = 1;
    for (int i = 0; i < 6; i++) ok &= check_integral(1 + (int)(rnd() % 9), 1 + (int)(rnd() % 9));
    TEST_COND("integral: sum, sqsum, tilted equal their definitions on small random images", ok);
    ok = 1;
    static const int sizes[][4] = {{40, 30, 20, 15}, {41, 31, 20, 15}, {100, 80, 91, 73}, {7, 5, 13, 11},
                                   {1, 1, 3, 2}, {9, 1, 4, 1}, {33, 29, 33, 29}, {260, 7, 236, 6}};
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++)
        ok &= check_resize(sizes[i][0], sizes[i][1], sizes[i][2], sizes[i][3]);
    for (int i = 0; i < 40; i++) {
        int sw = 1 + (int)(rnd() % 120), sh = 1 + (int)(rnd() % 120);
        ok &= check_resize(sw, sh, 1 + (int)(rnd() % sw), 1 + (int)(rnd() % sh));
    }
    TEST_COND("resize: equals the per-pixel bit-exact linear definition", ok);
    {
        uint8_t s[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 255}, d[4];
        haar_resize(s, 4, 4, 4, d, 2, 2);
        TEST_COND("resize: exact 2x is the rounded 2x2 mean", d[0] == 3 && d[1] == 5 && d[2] == 11 && d[3] == 73);
        struct img im;
        img_alloc(&im, 3, 1, 3);
        memcpy(im.data, "\xff\0\0\0\xff\0\0\0\xff", 9);
        uint8_t g[3];
        haar_grey(&im, g);
        TEST_COND("grey: OpenCV's fixed-point weights (R 76, G 150, B 29)", g[0] == 76 && g[1] == 150 && g[2] == 29);
        img_free(&im);
    }
    test_group();
    snprintf(tmpdir, sizeof tmpdir, "/tmp/test_haar.XXXXXX");
    if (!mkdtemp(tmpdir)) {
        TEST_COND("mkdtemp", 0);
        return TEST_REPORT();
    }
    test_load_errors();

    struct haar_cascade *c = NULL;
    int rc = haar_load(HAAR_DEFAULT_CASCADE, &c);
    if (rc) printf("# %s\n", fh_errmsg());
    TEST_COND("load: haarcascade_frontalface_default.xml (needs opencv-data)",
              rc == FH_OK && c->win_w == 24 && c->win_h == 24 && c->nstages == 25 && c->ntrees == 2913 &&
                  c->nfeatures == 2913 && c->stumps && !c->tilted);
    struct haar_cascade *o = NULL;
    rc = haar_load("/usr/share/opencv4/haarcascades/haarcascade_licence_plate_rus_16stages.xml", &o);
    TEST_COND("load: an old-format cascade (licence plate, 64x16)", rc == FH_OK && o->win_w == 64 &&
                                                                        o->win_h == 16 && o->nstages == 16);
    haar_free(o);
    rc = haar_load("/usr/share/opencv4/haarcascades/haarcascade_eye_tree_eyeglasses.xml", &o);
    TEST_COND("load: a tree cascade with tilted features", rc == FH_OK && !o->stumps && o->tilted);
    haar_free(o);
    rmdir(tmpdir);
    if (c) {
        test_detect_args(c);
        test_detect_vs_opencv(c);
        test_detect_threads(c);
    }
    haar_free(c);
    return TEST_REPORT();
}
