// SPDX-License-Identifier: MIT
// Full pipeline on the six demo photos against ../shared/golden/tflite/
// mtcnn_mfn_pipeline.json (reference runtime, min face 40): decoded pixels, boxes,
// landmarks, per-stage counts, embeddings; and the packed pyramid finds the same faces.
#include <cjson/cJSON.h>
#include <math.h>
#include <string.h>

#include "harness.h"
#include "pipeline/facehatch.h"

static double iou(const int *a, const double *b) {
    double x1 = fmax(a[0], b[0]), y1 = fmax(a[1], b[1]), x2 = fmin(a[2], b[2]), y2 = fmin(a[3], b[3]);
    if (x2 < x1 || y2 < y1) return 0;
    double in = (x2 - x1 + 1) * (y2 - y1 + 1);
    double aa = (a[2] - a[0] + 1.0) * (a[3] - a[1] + 1), ab = (b[2] - b[0] + 1) * (b[3] - b[1] + 1);
    return in / (aa + ab - in);
}

int main(void) {
    uint8_t *js;
    size_t jn;
    if (fh_read_file(FH_SHARED "/golden/tflite/mtcnn_mfn_pipeline.json", 1 << 26, &js, &jn)) {
        printf("%s\n", fh_errmsg());
        return 1;
    }
    cJSON *root = cJSON_Parse((const char *)js);
    cJSON *images = cJSON_GetObjectItem(root, "images");
    struct fh_models *m;
    struct fh_engine *e;
    if (fh_models_load(FH_MODELS, 0, &m) || fh_engine_new(m, 2, &e)) {
        printf("%s\n", fh_errmsg());
        return 1;
    }
    struct fh_config cfg = fh_config_default();
    cfg.min_face = 40;
    int total = 0, matched = 0, exact = 0, counts_same = 0, packed_same = 0, golden_total = 0;
    double worst_iou = 1, worst_lm = 0, worst_cos = 1, worst_cos_flip = 1;
    for (int s = 1; s <= 6; s++) {
        char name[32], path[256];
        snprintf(name, sizeof name, "sample%d", s);
        snprintf(path, sizeof path, FH_MODELS "/samples/%s.jpg", name);
        cJSON *g = cJSON_GetObjectItem(images, name);
        struct img im;
        if (!g || fh_image_load(path, &im)) {
            printf("%s: %s\n", path, fh_errmsg());
            continue;
        }
        char hex[65];
        fh_sha256_hex(im.data, (size_t)im.w * im.h * 3, hex);
        snprintf(path, sizeof path, "%s decodes to the golden RGB bytes (sha256)", name);
        TEST_COND(path, !strcmp(hex, cJSON_GetObjectItem(g, "decoded_rgb_sha256")->valuestring));
        struct fh_face *faces;
        int n;
        cfg.flip = 0;
        if (fh_process(e, &im, &cfg, &faces, &n)) printf("%s\n", fh_errmsg());
        cJSON *gf = cJSON_GetObjectItem(g, "faces");
        int gn = cJSON_GetArraySize(gf);
        golden_total += gn;
        total += n;
        // match each golden face to ours by best IoU
        for (int j = 0; j < gn; j++) {
            cJSON *f = cJSON_GetArrayItem(gf, j);
            double gb[4];
            for (int k = 0; k < 4; k++) gb[k] = cJSON_GetArrayItem(cJSON_GetObjectItem(f, "box"), k)->valuedouble;
            int bi = -1;
            double bo = 0;
            for (int i = 0; i < n; i++)
                if (iou(faces[i].box, gb) > bo) bo = iou(faces[i].box, gb), bi = i;
            if (bo < worst_iou) worst_iou = bo;
            if (bi < 0 || bo < 0.9) continue;
            matched++;
            exact += bo == 1.0;
            cJSON *lm = cJSON_GetObjectItem(f, "landmarks");
            for (int k = 0; k < 5; k++) {
                double dx = faces[bi].landmarks[2 * k] - cJSON_GetArrayItem(cJSON_GetArrayItem(lm, k), 0)->valuedouble;
                double dy = faces[bi].landmarks[2 * k + 1] - cJSON_GetArrayItem(cJSON_GetArrayItem(lm, k), 1)->valuedouble;
                if (sqrt(dx * dx + dy * dy) > worst_lm) worst_lm = sqrt(dx * dx + dy * dy);
            }
            cJSON *er = cJSON_GetObjectItem(f, "embedding_raw");
            double ab = 0, bb = 0, abf = 0;
            float flipped[FH_EMB_DIM];
            struct fh_config cf = cfg;
            cf.flip = 1;
            struct fh_face one = faces[bi];
            fh_embed(e, &im, &cf, &one, 1);
            memcpy(flipped, one.embedding, sizeof flipped);
            for (int k = 0; k < FH_EMB_DIM; k++) {
                double v = cJSON_GetArrayItem(er, k)->valuedouble;
                ab += faces[bi].embedding[k] * v, bb += v * v, abf += flipped[k] * v;
            }
            if (ab / sqrt(bb) < worst_cos) worst_cos = ab / sqrt(bb);
            if (abf / sqrt(bb) < worst_cos_flip) worst_cos_flip = abf / sqrt(bb);
        }
        // the packed pyramid finds the same faces
        int boxes[64][4], nb = n < 64 ? n : 64;
        for (int i = 0; i < nb; i++) memcpy(boxes[i], faces[i].box, sizeof boxes[i]);
        cfg.packed_pyramid = 1;
        struct fh_face *pf;
        int pn;
        fh_detect(e, &im, &cfg, &pf, &pn);
        cfg.packed_pyramid = 0;
        int same = pn == nb;
        for (int i = 0; same && i < nb; i++) {
            double b[4] = {boxes[i][0], boxes[i][1], boxes[i][2], boxes[i][3]};
            int found = 0;
            for (int k = 0; k < pn; k++) found |= iou(pf[k].box, b) >= 0.9;
            same &= found;
        }
        packed_same += same;
        counts_same++;
        img_free(&im);
    }
    // P-Net in narrow strips (many per level) finds exactly what one run per level finds,
    // at min face 20 (deeper pyramid, more candidates)
    int tiled_same = 1, tiled_faces = 0;
    for (int s = 1; s <= 6; s++) {
        char path[256];
        snprintf(path, sizeof path, FH_MODELS "/samples/sample%d.jpg", s);
        struct img im;
        if (fh_image_load(path, &im)) { tiled_same = 0; continue; }
        struct fh_config c20 = fh_config_default();
        struct fh_face *f, keep[64];
        int n, tn;
        fh_detect(e, &im, &c20, &f, &n);
        memcpy(keep, f, sizeof *f * (size_t)(n < 64 ? n : 64));
        c20.pnet_tile_pixels = 20000;
        fh_detect(e, &im, &c20, &f, &tn);
        tiled_same &= tn == n;
        for (int i = 0; tiled_same && i < n && i < 64; i++)
            tiled_same &= !memcmp(keep[i].box, f[i].box, sizeof f[i].box) && keep[i].score == f[i].score;
        tiled_faces += tn;
        img_free(&im);
    }
    char tmsg[120];
    snprintf(tmsg, sizeof tmsg, "P-Net in 20000-pixel strips gives identical faces (%d faces, min face 20)", tiled_faces);
    TEST_COND(tmsg, tiled_same);
    // steady state: a second pass over the same photos must not allocate at all
    // (every library allocation goes through fh_malloc, which is told to fail)
    int no_alloc_ok = 1;
    for (int s = 1; s <= 6; s++) {
        char path[256];
        snprintf(path, sizeof path, FH_MODELS "/samples/sample%d.jpg", s);
        struct img im;
        if (fh_image_load(path, &im)) { no_alloc_ok = 0; continue; }
        struct fh_face *faces;
        int n;
        cfg.flip = 1;
        fh_process(e, &im, &cfg, &faces, &n); // warm with flip on
        fh_alloc_fail_after(1);
        int rc = fh_process(e, &im, &cfg, &faces, &n);
        fh_alloc_fail_after(0);
        if (rc) printf("sample%d: %s\n", s, fh_errmsg());
        no_alloc_ok &= rc == 0;
        img_free(&im);
    }
    TEST_COND("detect + align + embed allocate nothing once warm (fail-Nth malloc armed)", no_alloc_ok);
    char msg[200];
    snprintf(msg, sizeof msg, "19 golden faces found with IoU >= 0.9: %d of %d (ours %d, %d boxes exact, worst IoU %.3f)", matched, golden_total, total, exact, worst_iou);
    TEST_COND(msg, golden_total == 19 && matched == 19 && total == 19);
    snprintf(msg, sizeof msg, "landmarks within 2 px of the golden (worst %.4f px)", worst_lm);
    TEST_COND(msg, matched == 19 && worst_lm <= 2.0);
    snprintf(msg, sizeof msg, "embeddings (no flip) cosine to reference >= 0.999 (worst %.6f)", worst_cos);
    TEST_COND(msg, matched == 19 && worst_cos >= 0.999);
    snprintf(msg, sizeof msg, "flip-TTA embeddings stay close to the reference (worst cosine %.4f >= 0.95)", worst_cos_flip);
    TEST_COND(msg, matched == 19 && worst_cos_flip >= 0.95);
    snprintf(msg, sizeof msg, "packed pyramid finds the same faces on %d of 6 photos", packed_same);
    TEST_COND(msg, packed_same == 6);
    fh_engine_free(e);
    fh_models_free(m);
    cJSON_Delete(root);
    fh_free(js);
    return TEST_REPORT();
}
