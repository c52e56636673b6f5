// SPDX-License-Identifier: MIT
// facehatch bench: median latency of each net and of the whole pipeline, at 1 thread
// and at all cores, on real inputs (the models folder cli_models_find chose, photos from its samples/).
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "detect/detect.h"
#include "detect/faceboxes.h"
#include "detect/ulfd.h"
#include "embed/embed.h"
#include "nn/nn.h"
#include "pipeline/int8_calib.h"

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

// median ms of `runs` runs of a session at the given input shape (after 2 warm-ups)
static double time_net(const struct nn_net *net, struct fh_pool *pool, const int *dims, int runs) {
    struct nn_session *s;
    if (nn_session_new(net, pool, &s) || nn_session_reshape(s, dims, 4)) return -1;
    size_t n = (size_t)dims[0] * dims[1] * dims[2] * dims[3];
    float *in = nn_session_input(s, 0);
    for (size_t i = 0; i < n; i++) in[i] = (float)((i * 2654435761u) % 255) / 128.0f - 1.0f;
    double t[64];
    if (runs > 64) runs = 64;
    for (int r = -2; r < runs; r++) {
        double t0 = fh_now_ms();
        nn_session_run(s);
        if (r >= 0) t[r] = fh_now_ms() - t0;
    }
    nn_session_free(s);
    qsort(t, (size_t)runs, sizeof *t, cmp_d);
    return t[runs / 2];
}

// median ms of `runs` runs (after one warm-up) of detect (+ align + embed when full)
static double median_pipeline(struct fh_engine *e, const struct img *im, const struct fh_config *cfg,
                              int runs, int full) {
    double t[64];
    for (int r = -1; r < runs; r++) {
        struct fh_face *f;
        int n;
        double t0 = fh_now_ms();
        if (full) fh_process(e, im, cfg, &f, &n);
        else fh_detect(e, im, cfg, &f, &n);
        if (r >= 0) t[r] = fh_now_ms() - t0;
    }
    qsort(t, (size_t)runs, sizeof *t, cmp_d);
    return t[runs / 2];
}

// MTCNN's stages on sample1 at min face 40 (det_stats: medians of each stage's ms over runs;
// P-Net includes the pyramid's resizes), at 1 thread and `all`
static void mtcnn_stages(const struct nn_net *pnet, const struct nn_net *rnet, const struct nn_net *onet,
                         const struct img *im, int runs, int all) {
    double med[2][4] = {{0}};
    for (int th = 0; th < 2; th++) {
        struct fh_pool *pool = th ? fh_pool_new(all) : NULL;
        struct det_mtcnn *d;
        if ((th && !pool) || det_mtcnn_new(pnet, rnet, onet, pool, &d)) {
            fh_pool_free(pool);
            return;
        }
        struct det_options o = det_options_default();
        o.min_face = 40;
        double t[4][64];
        for (int r = -1; r < runs; r++) {
            struct det_face *f;
            struct det_stats st;
            int n;
            double t0 = fh_now_ms();
            if (det_mtcnn_detect(d, im, &o, &f, &n, &st)) break;
            if (r < 0) continue;
            t[3][r] = fh_now_ms() - t0;
            for (int k = 0; k < 3; k++) t[k][r] = st.ms[k];
        }
        for (int k = 0; k < 4; k++) {
            qsort(t[k], (size_t)runs, sizeof(double), cmp_d);
            med[th][k] = t[k][runs / 2];
        }
        det_mtcnn_free(d);
        fh_pool_free(pool);
    }
    static const char *names[4] = {"  P-Net stage (pyramid + P-Net + NMS)", "  R-Net stage (crops + R-Net)",
                                   "  O-Net stage (crops + O-Net)", "  MTCNN (median of the whole run)"};
    for (int k = 0; k < 4; k++)
        printf("%-44s %12.1f %12.1f %7.2fx\n", names[k], med[0][k], med[1][k], med[0][k] / med[1][k]);
}

// every detector on one photo (sample1, 1920x1280), detection only (boxes + landmarks),
// min face 20, at 1 thread and at `all`
static void bench_detectors(const struct fh_models *m, const struct cli_opts *o, const struct img *im, int runs,
                            int all) {
    printf("\n%-44s %12s %12s %8s\n", "detector, sample1 1920x1280, min face 20", "1 thr ms", "all thr ms", "speedup");
    for (int d = 0; d < FH_DETECTORS; d++) {
        double t[2] = {0, 0};
        int n = -1;
        for (int th = 0; th < 2; th++) {
            struct fh_engine *e;
            if (fh_engine_new(m, th ? all : 1, &e)) break;
            struct fh_config cfg = cli_config(o);
            cfg.min_face = 20, cfg.detector = d;
            struct fh_face *f;
            if (fh_detect(e, im, &cfg, &f, &n)) {
                printf("%-44s %s\n", fh_detector_name(d), fh_errmsg());
                fh_engine_free(e);
                break;
            }
            t[th] = median_pipeline(e, im, &cfg, runs, 0);
            fh_engine_free(e);
        }
        if (t[1] > 0) {
            char name[64];
            snprintf(name, sizeof name, "%s (%d faces)", fh_detector_name(d), n);
            printf("%-44s %12.1f %12.1f %7.2fx\n", name, t[0], t[1], t[0] / t[1]);
        }
    }
}

int cmd_bench(int argc, char **argv) {
    const char *usage = "bench [--runs N] [--nets] [--models DIR] [--threads N]";
    int runs = 15, nets_only = 0;
    for (int i = 0; i < argc; i++)
        if (!strcmp(argv[i], "--nets")) { // the nets table only
            nets_only = 1;
            memmove(&argv[i], &argv[i + 1], sizeof(char *) * (size_t)(argc - i - 1));
            argc--;
            break;
        }
    for (int i = 0; i + 1 < argc; i++)
        if (!strcmp(argv[i], "--runs")) {
            runs = atoi(argv[i + 1]);
            memmove(&argv[i], &argv[i + 2], sizeof(char *) * (size_t)(argc - i - 2));
            argc -= 2;
            break;
        }
    struct cli_opts o;
    int rc = cli_parse(&argc, argv, &o, usage);
    if (rc) return rc;
    if (runs < 1 || runs > 64) {
        fprintf(stderr, "facehatch: --runs must be 1..64\n");
        return EXIT_USAGE;
    }
    struct fh_models *m;
    if ((rc = cli_models_load(&o, &m))) return rc;
    int all = o.threads > 0 ? o.threads : fh_cpu_count();
    struct nn_net *pnet, *rnet, *onet, *mfn;
    struct nn_options no = {.force_ref = o.ref};
    char path[1024];
    snprintf(path, sizeof path, "%s/pnet.tflite", o.models);
    nn_net_load_tflite(path, &no, &pnet);
    snprintf(path, sizeof path, "%s/rnet.tflite", o.models);
    nn_net_load_tflite(path, &no, &rnet);
    snprintf(path, sizeof path, "%s/onet.tflite", o.models);
    nn_net_load_tflite(path, &no, &onet);
    snprintf(path, sizeof path, "%s/MobileFaceNet.tflite", o.models);
    nn_net_load_tflite(path, &no, &mfn);
    // int8: the embedder as --precision int8 runs it, and P-Net in int8 (not used by any
    // command: MTCNN's boxes move too much; its row shows what it would give)
    struct nn_net *mfn8 = NULL, *pnet8 = NULL;
    struct nn_options q = no;
    q.int8 = fh_int8_mfn, q.n_int8 = FH_INT8_MFN_N;
    if (!FH_INT8_MFN_N || nn_net_load_tflite(path, &q, &mfn8)) mfn8 = NULL;
    snprintf(path, sizeof path, "%s/pnet.tflite", o.models);
    q.int8 = fh_int8_pnet, q.n_int8 = FH_INT8_PNET_N;
    if (!FH_INT8_PNET_N || nn_net_load_tflite(path, &q, &pnet8)) pnet8 = NULL;
    struct nn_net *ulfd = NULL, *fbx = NULL; // optional models: their rows only when present
    snprintf(path, sizeof path, "%s/" FH_MODEL_ULFD, o.models);
    if (det_ulfd_load(path, &ulfd)) ulfd = NULL;
    snprintf(path, sizeof path, "%s/" FH_MODEL_FACEBOXES, o.models);
    if (det_faceboxes_load(path, &no, &fbx)) fbx = NULL;
    struct fh_pool *pool = fh_pool_new(all);
    printf("facehatch bench: kernels %s, %d runs per row (median), 1 thread vs %d threads\n\n",
           fh_models_kernels(m), runs, all);
    printf("%-44s %12s %12s %8s\n", "net (input, NHWC; MTCNN inputs transposed)", "1 thr ms", "all thr ms", "speedup");
    struct {
        const char *name;
        const struct nn_net *net;
        int dims[4];
        int per; // divide by this (ms per face)
    } rows[] = {
        {"P-Net 576x384 (sample1 level 0, min face 40)", pnet, {1, 576, 384, 3}, 1},
        {"P-Net 576x384 int8 (not used: boxes move)", pnet8, {1, 576, 384, 3}, 1},
        {"P-Net 320x240", pnet, {1, 320, 240, 3}, 1},
        {"P-Net 100x100", pnet, {1, 100, 100, 3}, 1},
        {"R-Net batch 32 (24x24)", rnet, {32, 24, 24, 3}, 1},
        {"O-Net batch 16 (48x48)", onet, {16, 48, 48, 3}, 1},
        {"MobileFaceNet batch 1 (ms/face)", mfn, {1, 112, 112, 3}, 1},
        {"MobileFaceNet batch 4 (ms/face)", mfn, {4, 112, 112, 3}, 4},
        {"MobileFaceNet batch 16 (ms/face)", mfn, {16, 112, 112, 3}, 16},
        {"MobileFaceNet int8 batch 1 (ms/face)", mfn8, {1, 112, 112, 3}, 1},
        {"MobileFaceNet int8 batch 4 (ms/face)", mfn8, {4, 112, 112, 3}, 4},
        {"MobileFaceNet int8 batch 16 (ms/face)", mfn8, {16, 112, 112, 3}, 16},
        {"ULFD 320x240 (the ONNX file's own input)", ulfd, {1, 240, 320, 3}, 1},
        {"ULFD 640x427 (sample1 at 640 wide)", ulfd, {1, 427, 640, 3}, 1},
        {"FaceBoxes 1024x768 (sample1 at 1024, padded)", fbx, {1, 768, 1024, 3}, 1},
    };
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
        if (!rows[i].net) continue;
        double t1 = time_net(rows[i].net, NULL, rows[i].dims, runs) / rows[i].per;
        double tn = time_net(rows[i].net, pool, rows[i].dims, runs) / rows[i].per;
        printf("%-44s %12.3f %12.3f %7.2fx\n", rows[i].name, t1, tn, t1 / tn);
    }
    if (nets_only) goto done;
    // end to end on the six demo photos, min face 40: decode excluded, detect + embed (flip)
    printf("\n%-44s %12s %12s %8s\n", "end to end (detect + align + embed, flip)", "1 thr ms", "all thr ms", "speedup");
    struct img ims[6];
    int n_ims = 0;
    for (int s = 1; s <= 6; s++) {
        snprintf(path, sizeof path, "%s/samples/sample%d.jpg", o.models, s);
        if (!fh_image_load(path, &ims[n_ims])) n_ims++;
    }
    double tot[2] = {0, 0}, det1[2] = {0, 0};
    for (int th = 0; th < 2; th++) {
        struct fh_engine *e;
        if (fh_engine_new(m, th ? all : 1, &e)) break;
        struct fh_config cfg = cli_config(&o);
        cfg.min_face = 40;
        int er = runs < 5 ? runs : 5;
        for (int k = 0; k < n_ims; k++) {
            tot[th] += median_pipeline(e, &ims[k], &cfg, er, 1);
            if (k == 0) det1[th] = median_pipeline(e, &ims[k], &cfg, er, 0);
        }
        fh_engine_free(e);
    }
    printf("%-44s %12.1f %12.1f %7.2fx\n", "MTCNN only, sample1 (1920x1280, min face 40)", det1[0], det1[1], det1[0] / det1[1]);
    if (n_ims) mtcnn_stages(pnet, rnet, onet, &ims[0], runs, all);
    printf("%-44s %12.1f %12.1f %7.2fx\n", "six demo photos, 19 faces, total", tot[0], tot[1], tot[0] / tot[1]);
    printf("%-44s %12.1f %12.1f\n", "  per photo", tot[0] / n_ims, tot[1] / n_ims);
    struct fh_models *m8; // the same with the int8 embedder (--precision int8)
    if (!fh_models_load(o.models, (o.ref ? FH_LOAD_REF : 0) | FH_LOAD_INT8, &m8)) {
        double t8[2] = {0, 0};
        for (int th = 0; th < 2; th++) {
            struct fh_engine *e;
            if (fh_engine_new(m8, th ? all : 1, &e)) break;
            struct fh_config cfg = cli_config(&o);
            cfg.min_face = 40;
            for (int k = 0; k < n_ims; k++) t8[th] += median_pipeline(e, &ims[k], &cfg, runs < 5 ? runs : 5, 1);
            fh_engine_free(e);
        }
        printf("%-44s %12.1f %12.1f %7.2fx\n", "six demo photos, int8 embedder, total", t8[0], t8[1], t8[0] / t8[1]);
        fh_models_free(m8);
    }
    if (n_ims) bench_detectors(m, &o, &ims[0], runs < 5 ? runs : 5, all);
    for (int k = 0; k < n_ims; k++) img_free(&ims[k]);
done:
    fh_pool_free(pool);
    nn_net_free(pnet), nn_net_free(rnet), nn_net_free(onet), nn_net_free(mfn);
    nn_net_free(mfn8), nn_net_free(pnet8);
    nn_net_free(ulfd), nn_net_free(fbx);
    fh_models_free(m);
    return EXIT_OK;
}
