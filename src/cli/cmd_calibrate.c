// SPDX-License-Identifier: MIT
// facehatch calibrate: re-derives the library's quality-gate constants from real data.
//
//   blur:  MTCNN faces on the WIDER FACE val subset matched (IoU >= 0.5) to annotated
//          faces carry WIDER's blur label (0 clear, 1 normal, 2 heavy). The threshold on
//          the variance of the Laplacian of the aligned 112x112 grey crop is the one that
//          best separates heavy from clear (balanced accuracy).
//   trash: MTCNN hits (thresholds lowered to 0.3/0.4/0.4 to see more junk) that overlap
//          no annotated face (max IoU < 0.1, centre outside every box) on WIDER and CMU+MIT
//          are real false detections; matched hits are faces. Only detections at least
//          LIB_MIN_FACE wide count (smaller ones never reach the library). Images alternate
//          between a fitting split and a held-out split. Centre = mean embedding of the
//          fitting split's false detections; radius = the largest distance that loses at
//          most 1 % of the fitting split's faces (a photo library must not drop real
//          faces); ROC AUC and the rates at that radius are measured on the held-out split.
//   heads: the "not a face" head (LR or MLP on the embedding) and the blur head, trained
//          with the engine and chosen by cross-validation inside the fitting split
//          (cli/calib_heads.c); measured on the held-out split beside the sphere.
// --write FILE writes the constants and the heads as a C header (src/library/calib.h),
// through FILE.tmp renamed when complete. --dump FILE saves the labelled detections;
// --samples FILE reads them back instead of running the detector (same build only).
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "align/align.h"
#include "cli/cli.h"
#include "eval/eval_det.h"
#include "library/calib.h"
#include "library/head.h"
#include "library/library.h"
#include "cli/calib_int.h"

struct box {
    float x1, y1, x2, y2;
    int blur;
};
struct samples {
    struct calib_sample *v;
    int n, cap;
};

static int push(struct samples *s, const struct calib_sample *x) {
    if (s->n == s->cap) {
        int nc = s->cap ? 2 * s->cap : 1024;
        struct calib_sample *v = fh_realloc(s->v, (size_t)nc * sizeof *v);
        if (!v) return -1;
        s->v = v, s->cap = nc;
    }
    s->v[s->n++] = *x;
    return 0;
}

// IoU of a detection with an annotated box (eval's +1-pixel convention)
static double iou(const int *a, const struct box *b) {
    struct eval_box x = {a[0], a[1], a[2], a[3], 0, 0}, y = {b->x1, b->y1, b->x2, b->y2, 0, 0};
    return eval_iou(&x, &y);
}

// one image: detect, label each face as matched (with its blur label) or trash
static int run_image(struct fh_engine *e, const struct fh_config *cfg, const char *path, const struct box *gt,
                     int ng, int img_i, struct samples *out) {
    struct img im, crop;
    struct fh_face *f;
    int n;
    if (fh_image_load(path, &im)) return -1;
    if (fh_process(e, &im, cfg, &f, &n) || img_alloc(&crop, ALIGN_SIZE, ALIGN_SIZE, 3)) {
        img_free(&im);
        return -1;
    }
    for (int i = 0; i < n; i++) {
        double best = 0;
        int bi = -1, inside = 0;
        float cx = (f[i].box[0] + f[i].box[2]) / 2.0f, cy = (f[i].box[1] + f[i].box[3]) / 2.0f;
        for (int g = 0; g < ng; g++) {
            double o = iou(f[i].box, &gt[g]);
            if (o > best) best = o, bi = g;
            inside |= cx >= gt[g].x1 && cx <= gt[g].x2 && cy >= gt[g].y1 && cy <= gt[g].y2;
        }
        struct calib_sample s = {.split = img_i % 4, .label = -1, .width = f[i].box[2] - f[i].box[0] + 1,
                                 .score = f[i].score};
        if (best >= 0.5) s.trash = 0, s.label = gt[bi].blur;
        else if (best < 0.1 && !inside) s.trash = 1;
        else continue; // ambiguous: neither
        memcpy(s.emb, f[i].embedding, sizeof s.emb);
        if (!align_face_into(&im, f[i].landmarks, &crop, NULL)) {
            s.blur = lib_blur(&crop);
            s.blur2 = lib_blur_half(&crop);
        }
        if (push(out, &s)) break;
    }
    img_free(&crop);
    img_free(&im);
    return 0;
}

// best threshold on x (positive class if x < t) by balanced accuracy
static double best_split(const double *x, const int *pos, int n, double *bacc) {
    double best_t = 0, best = -1;
    int np = 0;
    for (int i = 0; i < n; i++) np += pos[i];
    for (int i = 0; i < n; i++) {
        double t = x[i] + 1e-9;
        int tp = 0, tn = 0;
        for (int j = 0; j < n; j++) tp += pos[j] && x[j] < t, tn += !pos[j] && x[j] >= t;
        double b = 0.5 * ((np ? (double)tp / np : 0) + (n - np ? (double)tn / (n - np) : 0));
        if (b > best) best = b, best_t = t;
    }
    if (bacc) *bacc = best;
    return best_t;
}

// ROC AUC of "positive if x small": probability a random positive has smaller x than a
// random negative (ties count half)
static double auc_small(const double *x, const int *pos, int n) {
    double num = 0, den = 0;
    for (int i = 0; i < n; i++)
        if (pos[i])
            for (int j = 0; j < n; j++)
                if (!pos[j]) num += x[i] < x[j] ? 1 : x[i] == x[j] ? 0.5 : 0, den++;
    return den ? num / den : 0;
}

// Runs the detector over WIDER (subset) and CMU+MIT and labels every detection.
static int collect(const struct cli_opts *o, struct samples *s, int *n_img, int *n_cmu) {
    struct fh_models *m;
    struct fh_engine *e;
    int rc;
    if ((rc = cli_load(o, o->threads, &m, &e))) return rc;
    struct fh_config cfg = fh_config_default();
    cfg.min_face = 20;
    cfg.thresh[0] = 0.3f, cfg.thresh[1] = 0.4f, cfg.thresh[2] = 0.4f; // more junk to learn from
    // WIDER: the subset's ground truth (blocks of name, count, boxes with attributes)
    char path[1024], line[512];
    snprintf(path, sizeof path, "%s/widerface_val/wider_face_val_bbx_gt_subset.txt", o->data);
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "facehatch: %s: cannot open\n", path);
        fh_engine_free(e), fh_models_free(m);
        return EXIT_FAIL;
    }
    int img_i = 0;
    *n_img = 0;
    static struct box gt[4096];
    while (fgets(line, sizeof line, f)) {
        char name[400];
        int ng;
        if (sscanf(line, "%399s", name) != 1 || !fgets(line, sizeof line, f) || sscanf(line, "%d", &ng) != 1) break;
        int k = 0;
        for (int g = 0; g < ng && fgets(line, sizeof line, f); g++) {
            int x, y, w, h, blur, expr, ill, inv, occ, pose;
            if (sscanf(line, "%d %d %d %d %d %d %d %d %d %d", &x, &y, &w, &h, &blur, &expr, &ill, &inv, &occ, &pose) == 10 && k < 4096)
                gt[k++] = (struct box){(float)x, (float)y, (float)(x + w), (float)(y + h), blur};
        }
        if (ng == 0 && fgets(line, sizeof line, f)) {} // a 0-count block still has one line
        snprintf(path, sizeof path, "%s/widerface_val/WIDER_val/images/%s", o->data, name);
        run_image(e, &cfg, path, gt, k, img_i++, s);
        (*n_img)++;
        if (*n_img % 50 == 0) fprintf(stderr, "  WIDER %d images, %d samples\r", *n_img, s->n);
    }
    fclose(f);
    // CMU+MIT: loose boxes, grouped by image name
    snprintf(path, sizeof path, "%s/cmu_mit_frontal/ground_truth_bboxes.txt", o->data);
    f = fopen(path, "r");
    char cur[256] = "";
    int k = 0;
    *n_cmu = 0;
    for (int more = 1; f && more;) {
        char name[256];
        float x1, y1, x2, y2;
        more = fgets(line, sizeof line, f) != NULL;
        int ok = more && sscanf(line, "%255s %f %f %f %f", name, &x1, &y1, &x2, &y2) == 5;
        if ((!more || (ok && strcmp(name, cur))) && cur[0]) {
            snprintf(path, sizeof path, "%s/cmu_mit_frontal/test_jpg/%s", o->data, cur);
            run_image(e, &cfg, path, gt, k, img_i++, s);
            k = 0, (*n_cmu)++;
        }
        if (ok) {
            if (strcmp(name, cur)) snprintf(cur, sizeof cur, "%s", name);
            if (k < 4096) gt[k++] = (struct box){x1, y1, x2, y2, -1};
        }
    }
    if (f) fclose(f);
    // (the 13 CMU+MIT images without faces hold only false detections)
    static const char *empty[] = {"churchill-downs", "cluttered-tahoe", "fleetwood-mac", "giant-panda", "harvard",
                                  "knex20", "knex42", "pittsburgh-park", "tahoe-and-rich", "tree-roots",
                                  "uprooted-tree", "wall", "yellow-pages"};
    for (size_t i = 0; i < sizeof empty / sizeof *empty; i++) {
        snprintf(path, sizeof path, "%s/cmu_mit_frontal/test_jpg/%s.jpg", o->data, empty[i]);
        run_image(e, &cfg, path, gt, 0, img_i++, s), (*n_cmu)++;
    }
    fprintf(stderr, "%60s\r", "");
    fh_engine_free(e);
    fh_models_free(m);
    return EXIT_OK;
}

// --dump / --samples: the collected detections as a binary cache of this build (magic,
// count, raw records), so the heads can be retrained without re-running the detector.
static const char dump_magic[8] = "FHCAL1\n";

static int dump_samples(const char *path, const struct samples *s, int n_img, int n_cmu) {
    FILE *f = fopen(path, "wb");
    int hdr[3] = {s->n, n_img, n_cmu}, rec = (int)sizeof *s->v, ok = f != NULL;
    ok = ok && fwrite(dump_magic, 1, 8, f) == 8 && fwrite(&rec, sizeof rec, 1, f) == 1 && fwrite(hdr, sizeof hdr, 1, f) == 1;
    ok = ok && fwrite(s->v, sizeof *s->v, (size_t)s->n, f) == (size_t)s->n;
    if (f && fclose(f)) ok = 0;
    if (!ok) fprintf(stderr, "facehatch: %s: cannot write\n", path);
    return ok ? EXIT_OK : EXIT_FAIL;
}

static int load_samples(const char *path, struct samples *s, int *n_img, int *n_cmu) {
    FILE *f = fopen(path, "rb");
    char mg[8];
    int hdr[3], rec = 0, ok = f != NULL;
    if (!f) {
        fprintf(stderr, "facehatch: %s: cannot open\n", path);
        return EXIT_FAIL;
    }
    ok = ok && fread(mg, 1, 8, f) == 8 && !memcmp(mg, dump_magic, 8) && fread(&rec, sizeof rec, 1, f) == 1 &&
         rec == (int)sizeof *s->v && fread(hdr, sizeof hdr, 1, f) == 1 && hdr[0] > 0 && hdr[0] <= 1000000;
    if (ok && !(s->v = fh_malloc(sizeof *s->v * (size_t)hdr[0]))) ok = 0;
    ok = ok && fread(s->v, sizeof *s->v, (size_t)hdr[0], f) == (size_t)hdr[0];
    if (f) fclose(f);
    if (!ok) {
        fprintf(stderr, "facehatch: %s: not a sample file written by this build's calibrate --dump\n", path);
        return EXIT_FAIL;
    }
    s->n = s->cap = hdr[0], *n_img = hdr[1], *n_cmu = hdr[2];
    return EXIT_OK;
}

int cmd_calibrate(int argc, char **argv) {
    const char *usage = "calibrate [--data DIR] [--write FILE] [--threads N] [--dump FILE | --samples FILE]";
    const char *write = NULL, *dump = NULL, *load = NULL;
    for (int i = 0; i + 1 < argc;)
        if (!strcmp(argv[i], "--write") || !strcmp(argv[i], "--dump") || !strcmp(argv[i], "--samples")) {
            *(argv[i][2] == 'w' ? &write : argv[i][2] == 'd' ? &dump : &load) = argv[i + 1];
            memmove(&argv[i], &argv[i + 2], sizeof(char *) * (size_t)(argc - i - 2));
            argc -= 2;
        } else {
            i++;
        }
    struct cli_opts o;
    int rc = cli_parse(&argc, argv, &o, usage);
    if (rc) return rc;
    if (argc) {
        fprintf(stderr, "facehatch: calibrate takes no arguments\nusage: facehatch %s\n", usage);
        return EXIT_USAGE;
    }
    struct samples s = {0};
    int n_img = 0, n_cmu = 0;
    double t0 = fh_now_ms();
    rc = load ? load_samples(load, &s, &n_img, &n_cmu) : collect(&o, &s, &n_img, &n_cmu);
    if (!rc && dump) rc = dump_samples(dump, &s, n_img, n_cmu);
    if (rc) {
        fh_free(s.v);
        return rc;
    }
    int nt = 0, nf = 0;
    for (int i = 0; i < s.n; i++) nt += s.v[i].trash, nf += !s.v[i].trash;
    printf("calibration data: %d WIDER + %d CMU+MIT images, %d faces, %d false detections (%.0f s)\n\n", n_img,
           n_cmu, nf, nt, (fh_now_ms() - t0) / 1e3);
    // blur: heavy (2) vs clear (0) among matched WIDER faces
    double *x = fh_malloc(sizeof(double) * (size_t)(s.n ? s.n : 1));
    int *pos = fh_malloc(sizeof(int) * (size_t)(s.n ? s.n : 1)), q = 0, c0 = 0, c2 = 0;
    for (int i = 0; i < s.n; i++)
        if (!s.v[i].trash && (s.v[i].label == 0 || s.v[i].label == 2))
            x[q] = s.v[i].blur, pos[q] = s.v[i].label == 2, c2 += pos[q], c0 += !pos[q], q++;
    double bacc, blur_t = best_split(x, pos, q, &bacc), blur_auc = auc_small(x, pos, q);
    printf("blur: %d clear vs %d heavily blurred WIDER faces; threshold %.1f (variance of the Laplacian),\n"
           "      balanced accuracy %.3f, ROC AUC %.3f\n", c0, c2, blur_t, bacc, blur_auc);
    // trash: centre and radius on the fitting split, AUC on the held-out split; only
    // detections the library would keep (>= its min face)
    double centre[FH_EMB_DIM] = {0};
    int nfit = 0;
    for (int i = 0; i < s.n; i++)
        if (s.v[i].trash && !calib_held(&s.v[i]) && s.v[i].width >= LIB_MIN_FACE) {
            for (int d = 0; d < FH_EMB_DIM; d++) centre[d] += s.v[i].emb[d];
            nfit++;
        }
    for (int d = 0; d < FH_EMB_DIM; d++) centre[d] /= nfit ? nfit : 1;
    int nh = 0, nfit_all = 0;
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < s.n; i++) {
            if (calib_held(&s.v[i]) != pass || s.v[i].width < LIB_MIN_FACE) continue;
            double d2 = 0;
            for (int d = 0; d < FH_EMB_DIM; d++) d2 += (s.v[i].emb[d] - centre[d]) * (s.v[i].emb[d] - centre[d]);
            int slot = pass ? nfit_all + nh++ : nfit_all++;
            x[slot] = sqrt(d2), pos[slot] = s.v[i].trash;
        }
    // radius: the 1st percentile of the fitting faces' distances
    double *fd = fh_malloc(sizeof(double) * (size_t)(nfit_all ? nfit_all : 1));
    int nfd = 0;
    for (int i = 0; fd && i < nfit_all; i++)
        if (!pos[i]) fd[nfd++] = x[i];
    for (int a = 1; a < nfd; a++) { // insertion sort
        double v = fd[a];
        int b = a - 1;
        while (b >= 0 && fd[b] > v) fd[b + 1] = fd[b], b--;
        fd[b + 1] = v;
    }
    double radius = nfd ? fd[nfd / 100] : 0;
    fh_free(fd);
    double auc = auc_small(x + nfit_all, pos + nfit_all, nh);
    int tp = 0, p = 0, fp = 0, ng2 = 0;
    for (int i = nfit_all; i < nfit_all + nh; i++) {
        if (pos[i]) p++, tp += x[i] < radius;
        else ng2++, fp += x[i] < radius;
    }
    printf("trash: %d faces and %d false detections at least %d px wide; centre from the %d of the fitting split;\n"
           "       radius %.4f (loses 1 %% of the fitting split's faces)\n", nfd + ng2, nfit + p, LIB_MIN_FACE, nfit, radius);
    printf("       held-out: ROC AUC %.4f; at the radius %.1f %% of %d false detections caught, %.2f %% of %d faces lost\n",
           auc, 100.0 * tp / (p ? p : 1), p, 100.0 * fp / (ng2 ? ng2 : 1), ng2);
    printf("{\"calibrate\":{\"blur_threshold\":%.2f,\"blur_auc\":%.4f,\"trash_radius\":%.4f,\"trash_auc_heldout\":%.4f,"
           "\"faces\":%d,\"false_detections\":%d}}\n", blur_t, blur_auc, radius, auc, nf, nt);
    // the constants go to FILE.tmp, renamed over FILE once complete
    rc = EXIT_OK;
    FILE *w = NULL;
    char tmp[1100];
    if (write) {
        snprintf(tmp, sizeof tmp, "%s.tmp", write);
        if (!(w = fopen(tmp, "w"))) {
            fprintf(stderr, "facehatch: %s: cannot write\n", tmp);
            rc = EXIT_FAIL;
        }
    }
    if (w) {
        fprintf(w, "// SPDX-License-Identifier: MIT\n// Quality-gate constants written by `facehatch calibrate --write` "
                   "(see cli/cmd_calibrate.c\n// for how they are derived; docs/RESULTS.md for the run). Do not edit "
                   "by hand.\n#ifndef FH_CALIB_H\n#define FH_CALIB_H\n\n");
        fprintf(w, "// blur: variance of the Laplacian of the aligned grey face below this = blurry\n"
                   "#define LIB_BLUR_THRESHOLD %.2f\n", blur_t);
        fprintf(w, "// trash: embeddings closer than this to lib_trash_centre are \"not a face\" (the fallback\n"
                   "// when no junk head follows)\n#define LIB_TRASH_RADIUS %.4ff\n", radius);
        fprintf(w, "// persons: average-linkage threshold chosen by `facehatch eval cluster`\n"
                   "#define LIB_CLUSTER_T %.2ff\n\n", LIB_CLUSTER_T);
        fprintf(w, "static const float lib_trash_centre[%d] = {\n", FH_EMB_DIM);
        for (int d = 0; d < FH_EMB_DIM; d++) fprintf(w, "%s%.7ff,%s", d % 6 ? " " : "    ", centre[d], d % 6 == 5 ? "\n" : "");
        fprintf(w, "};\n\n");
    }
    printf("\n");
    if (calib_heads(s.v, s.n, LIB_MIN_FACE, fh_config_default().thresh[2], w)) rc = EXIT_FAIL;
    if (w) {
        fprintf(w, "#endif\n");
        int bad = ferror(w);
        if (fclose(w) || bad || rc || rename(tmp, write)) {
            if (!rc) fprintf(stderr, "facehatch: %s: cannot write\n", write);
            remove(tmp);
            rc = EXIT_FAIL;
        } else {
            printf("constants written to %s\n", write);
        }
    }
    fh_free(x), fh_free(pos), fh_free(s.v);
    return rc;
}
