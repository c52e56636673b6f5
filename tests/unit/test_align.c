// SPDX-License-Identifier: MIT
// LDLIBS: -lcjson
// align: similarity estimate against the golden align_matrix of all 19 pipeline faces,
// the warp against the golden 112x112 crops, and hand-made point sets.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "align/align.h"
#include "base/base.h"
#include "harness.h"
#include "img/img.h"

#define GOLDEN FH_SHARED "/golden/tflite/"
#define CROP_BYTES (112 * 112 * 3)

struct cmp { size_t differ, total; int max; };

static void compare(struct cmp *c, const uint8_t *a, const uint8_t *b, size_t n) {
    for (size_t i = 0; i < n; i++) {
        int d = abs(a[i] - b[i]);
        c->differ += d != 0;
        if (d > c->max) c->max = d;
    }
    c->total += n;
}

static void test_golden(void) {
    uint8_t *js = NULL, *crops = NULL;
    size_t jn = 0, cn = 0;
    if (fh_read_file(GOLDEN "mtcnn_mfn_pipeline.json", 1u << 28, &js, &jn) ||
        fh_read_file(GOLDEN "mfn_faces112.u8", 1u << 28, &crops, &cn)) {
        printf("# %s\n", fh_errmsg());
        TEST_COND("golden files readable", 0);
        fh_free(js);
        return;
    }
    cJSON *root = cJSON_Parse((const char *)js);
    cJSON *images = cJSON_GetObjectItem(root, "images");
    int faces = 0, bad_json = 0;
    double maxd_d = 0, maxd_f = 0;   // matrix: double path, float path (relative-ish)
    struct cmp face = {0}, gm = {0}, dm = {0};  // align_face; golden matrix; matrix from double points
    for (int s = 1; s <= 6; s++) {
        char key[16], path[64];
        snprintf(key, sizeof key, "sample%d", s);
        snprintf(path, sizeof path, FH_MODELS "/samples/sample%d.jpg", s);
        struct img im;
        if (img_decode_file(path, &im)) {
            printf("# %s\n", fh_errmsg());
            bad_json++;
            continue;
        }
        cJSON *f;
        cJSON_ArrayForEach(f, cJSON_GetObjectItem(cJSON_GetObjectItem(images, key), "faces")) {
            cJSON *lmj = cJSON_GetObjectItem(f, "landmarks"), *mj = cJSON_GetObjectItem(f, "align_matrix");
            int ci = cJSON_GetObjectItem(f, "crop_index") ? cJSON_GetObjectItem(f, "crop_index")->valueint : -1;
            if (cJSON_GetArraySize(lmj) != 5 || cJSON_GetArraySize(mj) != 2 || ci < 0 ||
                (size_t)(ci + 1) * CROP_BYTES > cn) {
                bad_json++;
                continue;
            }
            double lm[10], g[6], M[6], Mf[6];
            float lmf[10];
            for (int i = 0; i < 10; i++) lm[i] = cJSON_GetArrayItem(cJSON_GetArrayItem(lmj, i / 2), i % 2)->valuedouble, lmf[i] = (float)lm[i];
            for (int i = 0; i < 6; i++) g[i] = cJSON_GetArrayItem(cJSON_GetArrayItem(mj, i / 3), i % 3)->valuedouble;
            static const double tpl[10] = {38.2946, 51.6963, 73.5318, 51.5014, 56.0252,
                                           71.7366, 41.5493, 92.3655, 70.7299, 92.2041};
            align_similarity_d(lm, tpl, 5, M);
            align_similarity(lmf, align_arcface_template, 5, Mf);
            for (int i = 0; i < 6; i++) {
                double sc = fmax(1, fabs(g[i]));
                maxd_d = fmax(maxd_d, fabs(M[i] - g[i]) / sc);
                maxd_f = fmax(maxd_f, fabs(Mf[i] - g[i]) / sc);
            }
            // the pipeline path: float landmarks -> align_face
            struct img crop, crop2;
            if (align_face(&im, lmf, &crop, NULL) == 0) compare(&face, crop.data, crops + (size_t)ci * CROP_BYTES, CROP_BYTES);
            img_alloc(&crop2, 112, 112, 3);
            align_warp(&im, g, &crop2);
            compare(&gm, crop2.data, crops + (size_t)ci * CROP_BYTES, CROP_BYTES);
            align_warp(&im, M, &crop2);
            compare(&dm, crop2.data, crops + (size_t)ci * CROP_BYTES, CROP_BYTES);
            img_free(&crop);
            img_free(&crop2);
            faces++;
        }
        img_free(&im);
    }
    printf("# %d faces; align_matrix max diff (|d|/max(1,|g|)): double points %.3g, float points %.3g\n",
           faces, maxd_d, maxd_f);
    printf("# align_face crops: %zu of %zu bytes differ (%.4f %%), max %d\n", face.differ, face.total,
           face.total ? 100.0 * face.differ / face.total : 0, face.max);
    printf("# warp with golden matrix: %zu of %zu bytes differ (%.4f %%), max %d\n", gm.differ, gm.total,
           gm.total ? 100.0 * gm.differ / gm.total : 0, gm.max);
    printf("# warp with matrix from double landmarks: %zu of %zu bytes differ, max %d\n", dm.differ, dm.total, dm.max);
    TEST_COND("19 golden faces read", faces == 19 && bad_json == 0);
    TEST_COND("align_similarity_d matches golden align_matrix (<= 1e-6 rel)", faces && maxd_d <= 1e-6);
    // float landmarks carry ~6e-5 px rounding at x ~ 1900; that moves tx by ~1e-6 relative
    TEST_COND("align_similarity (float) matches golden align_matrix (<= 1e-5 rel)", faces && maxd_f <= 1e-5);
    TEST_COND("align_face crops match golden (max diff <= 1, < 0.5 % bytes)",
              face.total && face.max <= 1 && face.differ * 200 < face.total);
    TEST_COND("warp with golden matrix matches golden crops (max <= 1, < 0.5 %)",
              gm.total && gm.max <= 1 && gm.differ * 200 < gm.total);
    TEST_COND("warp with double-landmark matrix matches golden crops (max <= 1, < 0.5 %)",
              dm.total && dm.max <= 1 && dm.differ * 200 < dm.total);
    cJSON_Delete(root);
    fh_free(js);
    fh_free(crops);
}

static double residual(const double *src, const double *dst, int n, const double M[6]) {
    double r = 0;
    for (int i = 0; i < n; i++) {
        double x = M[0] * src[2 * i] + M[1] * src[2 * i + 1] + M[2] - dst[2 * i];
        double y = M[3] * src[2 * i] + M[4] * src[2 * i + 1] + M[5] - dst[2 * i + 1];
        r += x * x + y * y;
    }
    return r;
}

static void test_hand_made(void) {
    // exact similarity: scale 1.7, rotation 0.6 rad, translation (12.5, -40)
    const double s = 1.7, th = 0.6, tx = 12.5, ty = -40;
    const double a = s * cos(th), b = s * sin(th);
    double src[10] = {10, 20, 45, 18, 30, 40, 14, 61, 50, 66}, dst[10];
    for (int i = 0; i < 5; i++)
        dst[2 * i] = a * src[2 * i] - b * src[2 * i + 1] + tx, dst[2 * i + 1] = b * src[2 * i] + a * src[2 * i + 1] + ty;
    double M[6], want[6] = {a, -b, tx, b, a, ty}, e = 0;
    int rc = align_similarity_d(src, dst, 5, M);
    for (int i = 0; i < 6; i++) e = fmax(e, fabs(M[i] - want[i]));
    printf("# known transform recovered to %.3g\n", e);
    TEST_COND("known rotation+scale+translation recovered", rc == 0 && e < 1e-12);
    float sf[10], df[10];
    for (int i = 0; i < 10; i++) sf[i] = (float)src[i], df[i] = (float)dst[i];
    rc = align_similarity(sf, df, 5, M);
    e = 0;
    for (int i = 0; i < 6; i++) e = fmax(e, fabs(M[i] - want[i]));
    TEST_COND("float entry point agrees (float inputs)", rc == 0 && e < 1e-4);

    // a 180-degree turn (det(A) > 0, the SVD's "rank 2" branch with d = 1) and 2 points
    double p2[4] = {0, 0, 10, 0}, q2[4] = {5, 5, -15, 5};
    rc = align_similarity_d(p2, q2, 2, M);
    TEST_COND("two points, 180 degrees, scale 2", rc == 0 && fabs(M[0] + 2) < 1e-12 && fabs(M[3]) < 1e-12 &&
                                                      fabs(M[2] - 5) < 1e-12 && fabs(M[5] - 5) < 1e-12);

    // mirrored target: the answer must stay a rotation (never det < 0) and be the least-
    // squares optimum among rotations: nudging angle, scale or shift makes it worse
    double mir[10];
    for (int i = 0; i < 5; i++) mir[2 * i] = -1.3 * src[2 * i] + 3, mir[2 * i + 1] = 0.9 * src[2 * i + 1] + 0.4 * src[2 * i] - 7;
    rc = align_similarity_d(src, mir, 5, M);
    double r0 = residual(src, mir, 5, M), det = M[0] * M[4] - M[1] * M[3];
    int best = 1;
    for (int k = 0; k < 4; k++)
        for (int sg = -1; sg <= 1; sg += 2) {
            double P[6];
            memcpy(P, M, sizeof P);
            double h = 1e-4 * sg;
            if (k == 0) { double c = cos(h), sn = sin(h), p0 = P[0], p3 = P[3];   // rotate
                          P[0] = c * p0 - sn * p3, P[3] = sn * p0 + c * p3, P[4] = P[0], P[1] = -P[3]; }
            if (k == 1) for (int i = 0; i < 6; i++) if (i != 2 && i != 5) P[i] *= 1 + h;
            if (k == 2) P[2] += h;
            if (k == 3) P[5] += h;
            best &= residual(src, mir, 5, P) > r0;
        }
    TEST_COND("mirror target: rotation (M = [a -b; b a], det > 0), least-squares optimal",
              rc == 0 && M[0] == M[4] && M[1] == -M[3] && det > 0 && best);

    // degenerate inputs
    double same[6] = {3, 4, 3, 4, 3, 4}, cross[8] = {1, 0, -1, 0, 0, 1, 0, -1}, xm[8] = {-1, 0, 1, 0, 0, 1, 0, -1};
    TEST_COND("all points equal -> FH_E_ARG", align_similarity_d(same, dst, 3, M) == FH_E_ARG);
    TEST_COND("one point -> FH_E_ARG", align_similarity_d(src, dst, 1, M) == FH_E_ARG);
    TEST_COND("pure mirror of a symmetric cross -> FH_E_ARG", align_similarity_d(cross, xm, 4, M) == FH_E_ARG);

    // warp: identity copies, an integer shift moves pixels and fills zeros
    struct img a8, w8;
    img_alloc(&a8, 9, 7, 3);
    img_alloc(&w8, 9, 7, 3);
    for (size_t i = 0; i < 9 * 7 * 3; i++) a8.data[i] = (uint8_t)(i * 7 + 1);
    double id[6] = {1, 0, 0, 0, 1, 0}, sh[6] = {1, 0, 3, 0, 1, 2}, sing[6] = {1, 2, 0, 2, 4, 0};
    align_warp(&a8, id, &w8);
    TEST_COND("warp with identity copies", memcmp(a8.data, w8.data, 9 * 7 * 3) == 0);
    align_warp(&a8, sh, &w8);
    int ok = 1;
    for (int y = 0; y < 7; y++)
        for (int x = 0; x < 9; x++)
            for (int k = 0; k < 3; k++) {
                int want8 = x >= 3 && y >= 2 ? a8.data[((y - 2) * 9 + x - 3) * 3 + k] : 0;
                ok &= w8.data[(y * 9 + x) * 3 + k] == want8;
            }
    TEST_COND("warp by (+3, +2) shifts and zero-fills", ok);
    TEST_COND("singular matrix -> FH_E_ARG", align_warp(&a8, sing, &w8) == FH_E_ARG);
    img_free(&a8);
    img_free(&w8);
}

int main(void) {
    test_golden();
    test_hand_made();
    return TEST_REPORT();
}
