// SPDX-License-Identifier: MIT
// facehatch calibrate-int8: the activation scales of int8 inference (pipeline/int8_calib.h).
//
// Runs the float pipeline (detect at min face 20 + align + embed with flip, one thread) over
// a fixed set of real faces — N images (default 200) of LFW View 1's training pairs
// (pairsDevTrain.txt: never the View 1 test or View 2 pairs the accuracy is measured on),
// every k-th of its distinct images in sorted order — with an nn_calib attached to P-Net and
// MobileFaceNet: each sees every input its convs get in real use (P-Net every pyramid level,
// the embedder each aligned crop and its mirror). nn_calib_scales then picks each input's
// scale (nn.h: least squared error per tensor). The embedder's clip multiplier (1, 1.25,
// 1.5, 2: how much wider than that to clip) is the one whose int8 embeddings of the same
// calibration crops come closest to the float ones (mean cosine); the test pairs are never
// looked at. --write FILE writes the scales as a C header through FILE.tmp renamed when
// complete; without it they are printed.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "eval/eval.h"
#include "nn/nn.h"

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

// the distinct images of pairsDevTrain.txt, sorted; every k-th so that n remain
static int calib_images(const struct cli_opts *o, int want, char ***out, int *n, struct eval_pair **pairs) {
    char path[1024];
    int np;
    snprintf(path, sizeof path, "%s/lfw/pairsDevTrain.txt", o->data);
    if (eval_read_pairs(path, pairs, &np)) return -1;
    char **all = fh_malloc((size_t)np * 2 * sizeof *all);
    if (!all) return -1;
    int u = 0;
    for (int i = 0; i < np; i++) all[u++] = (*pairs)[i].a, all[u++] = (*pairs)[i].b;
    qsort(all, (size_t)u, sizeof *all, cmp_str);
    int d = 0;
    for (int i = 0; i < u; i++)
        if (!d || strcmp(all[d - 1], all[i])) all[d++] = all[i];
    int k = d / (want > 0 ? want : 1);
    if (k < 1) k = 1;
    int m = 0;
    for (int i = 0; i < d && m < want; i += k) all[m++] = all[i];
    *out = all, *n = m;
    return 0;
}

// raw embeddings (n x 192) of n aligned 112x112 RGB crops, as the pinned embedder sees them
static int embed_crops(const struct nn_net *net, const uint8_t *crops, int n, float *out) {
    struct nn_session *s;
    int rc = nn_session_new(net, NULL, &s);
    for (int b0 = 0; !rc && b0 < n; b0 += 16) {
        int nb = n - b0 < 16 ? n - b0 : 16, dims[4] = {nb, 112, 112, 3};
        if ((rc = nn_session_reshape(s, dims, 4))) break;
        float *in = nn_session_input(s, 0);
        const uint8_t *c = crops + (size_t)b0 * 112 * 112 * 3;
        for (size_t i = 0; i < (size_t)nb * 112 * 112 * 3; i++) in[i] = (c[i] - 127.5f) * 0.0078125f;
        if ((rc = nn_session_run(s))) break;
        memcpy(out + (size_t)b0 * 192, nn_session_output(s, 0, NULL, NULL), (size_t)nb * 192 * sizeof(float));
    }
    nn_session_free(s);
    return rc;
}

static double mean_cosine(const float *a, const float *b, int n, double *min) {
    double sum = 0;
    *min = 1;
    for (int i = 0; i < n; i++) {
        double ab = 0, aa = 0, bb = 0;
        for (int j = 0; j < 192; j++) {
            double x = a[(size_t)i * 192 + j], y = b[(size_t)i * 192 + j];
            ab += x * y, aa += x * x, bb += y * y;
        }
        double c = aa > 0 && bb > 0 ? ab / sqrt(aa * bb) : 0;
        sum += c, *min = c < *min ? c : *min;
    }
    return n ? sum / n : 0;
}

static int write_table(FILE *f, const char *name, const char *count, const struct nn_qscale *s, int n) {
    fprintf(f, "#define %s %d\nstatic const struct nn_qscale %s[] = {\n", count, n, name);
    for (int i = 0; i < n; i++) fprintf(f, "    {\"%s\", %.9gf},\n", s[i].name, (double)s[i].scale);
    return fprintf(f, "};\n") < 0;
}

int cmd_quantize(int argc, char **argv) {
    const char *usage = "calibrate-int8 [--n N] [--write FILE] [--data DIR]   int8 activation scales";
    const char *write = NULL;
    int want = 200;
    for (int i = 0; i < argc; i++) { // our own options first, the common ones after
        if (!strcmp(argv[i], "--write") && i + 1 < argc) {
            write = argv[i + 1];
            memmove(argv + i, argv + i + 2, (size_t)(argc - i - 2) * sizeof *argv), argc -= 2, i--;
        } else if (!strcmp(argv[i], "--n") && i + 1 < argc) {
            char *end;
            long v = strtol(argv[i + 1], &end, 10);
            if (*end || v < 1 || v > 10000) {
                fprintf(stderr, "facehatch: --n takes 1..10000\nusage: facehatch %s\n", usage);
                return EXIT_USAGE;
            }
            want = (int)v;
            memmove(argv + i, argv + i + 2, (size_t)(argc - i - 2) * sizeof *argv), argc -= 2, i--;
        }
    }
    struct cli_opts o;
    int rc = cli_parse(&argc, argv, &o, usage);
    if (rc) return rc;
    if (argc) {
        fprintf(stderr, "facehatch: unexpected argument '%s'\nusage: facehatch %s\n", argv[0], usage);
        return EXIT_USAGE;
    }
    if (o.int8 || o.embedder) {
        fprintf(stderr, "facehatch: calibrate-int8 runs the pinned float models (no --precision, --embedder)\n");
        return EXIT_USAGE;
    }
    struct fh_models *m;
    if (cli_models_load(&o, &m)) return EXIT_FAIL;
    struct eval_pair *pairs = NULL;
    char **paths = NULL;
    int n = 0, faces = 0, imgs = 0, cap = 0;
    uint8_t *crops = NULL;
    float *e32 = NULL, *e8 = NULL;
    struct nn_qscale *best = NULL;
    struct nn_calib *cp = NULL, *ce = NULL;
    struct fh_engine *e = NULL;
    rc = EXIT_FAIL;
    if (calib_images(&o, want, &paths, &n, &pairs) || nn_calib_new(fh_models_net(m, FH_NET_PNET), &cp) ||
        nn_calib_new(fh_models_net(m, FH_NET_EMBEDDER), &ce) || fh_engine_new(m, 1, &e)) {
        fprintf(stderr, "facehatch: %s\n", fh_errmsg());
        goto out;
    }
    struct fh_config cfg = cli_config(&o);
    double t0 = fh_now_ms();
    for (int i = 0; i < n; i++) {
        char path[1400];
        struct img im;
        struct fh_face *f;
        int nf;
        snprintf(path, sizeof path, "%s/lfw/%s", o.data, paths[i]);
        if (fh_image_load(path, &im)) {
            fprintf(stderr, "facehatch: %s\n", fh_errmsg());
            goto out;
        }
        int r = fh_process(e, &im, &cfg, &f, &nf);
        for (int j = 0; !r && j < nf; j++) { // keep the aligned crops for the clip choice
            struct img crop;
            if ((r = fh_grow((void **)&crops, &cap, faces + j + 1, (size_t)112 * 112 * 3))) break;
            if ((r = fh_align(&im, &f[j], &crop))) break;
            for (int y = 0; y < 112; y++)
                memcpy(crops + ((size_t)(faces + j) * 112 + y) * 112 * 3, crop.data + (size_t)y * crop.stride, 112 * 3);
            img_free(&crop);
        }
        img_free(&im);
        if (r) {
            fprintf(stderr, "facehatch: %s: %s\n", path, fh_errmsg());
            goto out;
        }
        faces += nf, imgs++;
    }
    const struct nn_qscale *sp, *se;
    int np, ne;
    if (nn_calib_scales(cp, 1, &sp, &np) || nn_calib_scales(ce, 1, &se, &ne)) {
        fprintf(stderr, "facehatch: %s\n", fh_errmsg());
        goto out;
    }
    printf("int8 calibration: %d LFW View 1 train images, %d faces (with their mirrors), %.1f s; "
           "%d P-Net and %d MobileFaceNet conv inputs\n", imgs, faces, (fh_now_ms() - t0) / 1e3, np, ne);
    // the embedder's clip multiplier: int8 vs float embeddings of the calibration crops
    static const double mults[] = {1, 1.25, 1.5, 2};
    double best_cos = -1, best_mult = 1;
    e32 = fh_malloc((size_t)(faces ? faces : 1) * 192 * sizeof(float));
    e8 = fh_malloc((size_t)(faces ? faces : 1) * 192 * sizeof(float));
    best = fh_calloc((size_t)ne, sizeof *best);
    if (!e32 || !e8 || !best || embed_crops(fh_models_net(m, FH_NET_EMBEDDER), crops, faces, e32)) {
        fprintf(stderr, "facehatch: %s\n", fh_errmsg());
        goto out;
    }
    for (size_t k = 0; k < sizeof mults / sizeof *mults; k++) {
        char path[1100];
        snprintf(path, sizeof path, "%s/MobileFaceNet.tflite", o.models);
        if (nn_calib_scales(ce, mults[k], &se, &ne)) goto out;
        struct nn_options q = {.int8 = se, .n_int8 = ne};
        struct nn_net *net8;
        if (nn_net_load_tflite(path, &q, &net8) || embed_crops(net8, crops, faces, e8)) {
            fprintf(stderr, "facehatch: %s\n", fh_errmsg());
            goto out;
        }
        nn_net_free(net8);
        double mn, c = mean_cosine(e32, e8, faces, &mn);
        printf("  clip x%.2f: int8 vs float embeddings of the %d calibration crops: mean cosine %.5f, min %.4f\n",
               mults[k], faces, c, mn);
        if (c > best_cos) {
            best_cos = c, best_mult = mults[k];
            memcpy(best, se, (size_t)ne * sizeof *best);
        }
    }
    se = best;
    printf("  chosen: clip x%.2f\n", best_mult);
    if (!write) {
        for (int i = 0; i < np; i++) printf("  pnet %-40s %.6g\n", sp[i].name, (double)sp[i].scale);
        for (int i = 0; i < ne; i++) printf("  mfn  %-40s %.6g\n", se[i].name, (double)se[i].scale);
        rc = EXIT_OK;
        goto out;
    }
    char tmp[1100];
    snprintf(tmp, sizeof tmp, "%s.tmp", write);
    FILE *w = fopen(tmp, "w");
    if (!w) {
        fprintf(stderr, "facehatch: %s: cannot write\n", tmp);
        goto out;
    }
    int bad = fprintf(w, "// SPDX-License-Identifier: MIT\n"
                         "// int8 activation scales of the pinned P-Net and MobileFaceNet, written by\n"
                         "// `facehatch calibrate-int8 --write` (cli/cmd_quantize.c). Do not edit by hand.\n"
                         "#ifndef FH_INT8_CALIB_H\n#define FH_INT8_CALIB_H\n\n#include \"nn/nn.h\"\n\n"
                         "#define FH_INT8_CALIB_SOURCE \"LFW View 1 train (pairsDevTrain.txt): %d images, "
                         "%d faces; embedder clip x%.2f\"\n", imgs, faces, best_mult) < 0;
    bad |= write_table(w, "fh_int8_pnet", "FH_INT8_PNET_N", sp, np);
    bad |= write_table(w, "fh_int8_mfn", "FH_INT8_MFN_N", se, ne);
    bad |= fprintf(w, "\n#endif\n") < 0;
    if (fclose(w) || bad || rename(tmp, write)) {
        fprintf(stderr, "facehatch: %s: write failed\n", write);
        remove(tmp);
        goto out;
    }
    printf("wrote %s\n", write);
    rc = EXIT_OK;
out:
    fh_engine_free(e);
    fh_free(crops), fh_free(e32), fh_free(e8), fh_free(best);
    nn_calib_free(cp);
    nn_calib_free(ce);
    fh_free(paths);
    fh_free(pairs);
    fh_models_free(m);
    return rc;
}
