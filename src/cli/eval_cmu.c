// SPDX-License-Identifier: MIT
// facehatch eval cmu-mit: the CMU+MIT frontal face test set (130 grey images, 511
// faces; ../shared/data/cmu_mit_frontal, README section 6).
//   * the classic ROC: detection rate against the number of false positives over the
//     whole set as the score threshold falls (reported at 10, 50 and 167 FP);
//   * VOC AP at IoU 0.5 against James Hays' loose boxes (ground_truth_bboxes.txt), and
//     against the tight ones (ground_truth_bboxes_face_only.txt) as a second number.
// Boxes are clipped to the image. Detections are taken in score order over the whole
// set; each takes its best-IoU face of the same image, and each face is matched at
// most once (eval_det.h, eval_set_match). The ROC is that of the loose boxes.
// --quick: the first 20 images by name. MTCNN min face 20 px unless --min-face is
// given (many faces here are 20-30 px). One single-threaded detector per worker.
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/detectors.h"
#include "eval/eval_det.h"

#define CMU_DIR "cmu_mit_frontal"
#define CMU_MIN_FACE 20
#define CMU_QUICK_IMAGES 20
#define CMU_MAX_IMAGES 10000
static const int FP_REPORT[] = {10, 50, 167};
// FP counts at which the JSON samples the curve (plus its last point)
static const int FP_SAMPLE[] = {0, 1, 2, 3, 5, 7, 10, 15, 20, 30, 40, 50, 65, 80, 100, 125, 167,
                                200, 250, 300, 400, 500, 750, 1000, 1500, 2000, 5000, 10000};

struct cimg {
    char name[128];
    int w, h;
    struct eval_box *det;
    int n_det;
};

static int cmp_name(const void *a, const void *b) {
    return strcmp(((const struct cimg *)a)->name, ((const struct cimg *)b)->name);
}

// the .jpg files of test_jpg, sorted by name; prints the error and returns -1
static int list_images(const char *dir, struct cimg **out, int *n_out) {
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "facehatch: cannot open %s (CMU+MIT data, see ../shared/data/README.md)\n", dir);
        return -1;
    }
    struct cimg *c = NULL;
    int n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len < 5 || len >= sizeof c->name || strcmp(e->d_name + len - 4, ".jpg")) continue;
        if (n == CMU_MAX_IMAGES) break;
        if (n == cap) {
            int nc = cap ? 2 * cap : 256;
            struct cimg *t = fh_realloc(c, sizeof *c * (size_t)nc);
            if (!t) {
                fprintf(stderr, "facehatch: out of memory\n");
                fh_free(c), closedir(d);
                return -1;
            }
            c = t, cap = nc;
        }
        memset(&c[n], 0, sizeof c[n]);
        memcpy(c[n++].name, e->d_name, len + 1);
    }
    closedir(d);
    if (!n) {
        fprintf(stderr, "facehatch: %s: no .jpg images\n", dir);
        fh_free(c);
        return -1;
    }
    qsort(c, (size_t)n, sizeof *c, cmp_name);
    *out = c, *n_out = n;
    return 0;
}

static void free_cimgs(struct cimg *c, int n) {
    for (int i = 0; c && i < n; i++) fh_free(c[i].det);
    fh_free(c);
}

// "name x1 y1 x2 y2" lines of the images in c (others are skipped only with --quick:
// the full run needs every named image); boxes clipped to the image.
static int read_boxes(const char *path, const struct cimg *c, int n, int all, struct eval_box **out,
                      int *n_out) {
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "facehatch: cannot open %s\n", path);
        return -1;
    }
    struct eval_box *b = NULL;
    int nb = 0, cap = 0, line = 0;
    char buf[512], name[128];
    while (fgets(buf, sizeof buf, f)) {
        line++;
        double x1, y1, x2, y2;
        if (strspn(buf, " \t\r\n") == strlen(buf)) continue;
        if (sscanf(buf, "%127s %lf %lf %lf %lf", name, &x1, &y1, &x2, &y2) != 5 || x2 < x1 || y2 < y1) {
            fprintf(stderr, "facehatch: %s:%d: expected 'name x_min y_min x_max y_max'\n", path, line);
            goto fail;
        }
        struct cimg key;
        snprintf(key.name, sizeof key.name, "%s", name);
        const struct cimg *im = bsearch(&key, c, (size_t)n, sizeof *c, cmp_name);
        if (!im) {
            if (!all) continue;
            fprintf(stderr, "facehatch: %s:%d: image %s is missing\n", path, line, name);
            goto fail;
        }
        if (nb == cap) {
            int nc = cap ? 2 * cap : 1024;
            struct eval_box *t = fh_realloc(b, sizeof *b * (size_t)nc);
            if (!t) {
                fprintf(stderr, "facehatch: out of memory\n");
                goto fail;
            }
            b = t, cap = nc;
        }
        x1 = x1 < 0 ? 0 : x1, y1 = y1 < 0 ? 0 : y1;
        x2 = x2 > im->w - 1 ? im->w - 1 : x2, y2 = y2 > im->h - 1 ? im->h - 1 : y2;
        b[nb++] = (struct eval_box){x1, y1, x2, y2, 0, (int)(im - c)};
    }
    fclose(f);
    *out = b, *n_out = nb;
    return 0;
fail:
    fclose(f);
    fh_free(b);
    return -1;
}

// ---- detection (cli_detect_each: one detector per worker thread) -----------------------
struct cctx {
    const struct cli_opts *o;
    struct cimg *im;
};

static void cmu_path(void *ctx, int i, char *buf, size_t size) {
    struct cctx *c = ctx;
    snprintf(buf, size, "%s/" CMU_DIR "/test_jpg/%s", c->o->data, c->im[i].name);
}

static int cmu_keep(void *ctx, int i, const struct img *im, const struct cli_box *b, int n) {
    struct cimg *c = &((struct cctx *)ctx)->im[i];
    c->w = im->w, c->h = im->h;
    if (n > 0 && !(c->det = fh_malloc(sizeof *c->det * (size_t)n)))
        return fh_fail(FH_E_NOMEM, "%s: out of memory", c->name);
    for (int k = 0; k < n; k++) c->det[k] = (struct eval_box){b[k].x1, b[k].y1, b[k].x2, b[k].y2, b[k].score, i};
    c->n_det = n;
    return FH_OK;
}

static int detect_all(const struct cli_opts *o, struct cimg *im, int n, int *threads) {
    struct cctx c = {o, im};
    return cli_detect_each(o, n, cmu_path, cmu_keep, &c, threads);
}

// matches det against one box file: AP, and the ROC when fp/rate are given
struct result {
    double ap;
    int n_gt, n_pts;
    int *fp;
    double *rate;
};

static int evaluate(const struct eval_box *det, int nd, const struct eval_box *gt, int ng, struct result *r) {
    int *order = fh_malloc(sizeof(int) * (size_t)(nd + 1));
    char *tp = fh_malloc((size_t)(nd + 1));
    double *score = fh_malloc(sizeof(double) * (size_t)(nd + 1));
    r->fp = fh_malloc(sizeof(int) * (size_t)(nd + 1));
    r->rate = fh_malloc(sizeof(double) * (size_t)(nd + 1));
    int rc = -1;
    if (!order || !tp || !score || !r->fp || !r->rate) {
        fprintf(stderr, "facehatch: out of memory\n");
        goto out;
    }
    if (eval_set_match(det, nd, gt, ng, 0.5, order, tp)) {
        fprintf(stderr, "facehatch: %s\n", fh_errmsg());
        goto out;
    }
    for (int k = 0; k < nd; k++) score[k] = det[order[k]].score;
    r->n_gt = ng;
    r->ap = eval_set_ap(tp, nd, ng);
    r->n_pts = eval_roc(score, tp, nd, ng, r->fp, r->rate);
    rc = 0;
out:
    fh_free(order), fh_free(tp), fh_free(score);
    return rc;
}

static void roc_point(int fp, double rate, int *n) { printf("%s[%d,%.4f]", (*n)++ ? "," : "", fp, rate); }

// the sampled curve: FP_SAMPLE points below the last one, the last point, and the
// FP_REPORT points even past it (the rate at most N false positives allow)
static void print_roc_json(const struct result *r) {
    int last = r->fp[r->n_pts - 1], done = 0, n = 0;
    printf("[");
    for (size_t i = 0; i < sizeof FP_SAMPLE / sizeof *FP_SAMPLE; i++) {
        int s = FP_SAMPLE[i], report = 0;
        for (size_t k = 0; k < sizeof FP_REPORT / sizeof *FP_REPORT; k++) report |= s == FP_REPORT[k];
        if (s >= last && !done) roc_point(last, r->rate[r->n_pts - 1], &n), done = 1;
        if (s < last || (report && s != last)) roc_point(s, eval_roc_rate_at(r->fp, r->rate, r->n_pts, s), &n);
    }
    if (!done) roc_point(last, r->rate[r->n_pts - 1], &n);
    printf("]");
}

int eval_cmu_cmd(const struct cli_opts *in) {
    struct cli_opts opts = *in, *o = &opts;
    if (!o->min_face_given) o->min_face = CMU_MIN_FACE;
    char path[1024];
    snprintf(path, sizeof path, "%s/" CMU_DIR "/test_jpg", o->data);
    struct cimg *c;
    int n, threads, rc = EXIT_FAIL;
    if (list_images(path, &c, &n)) return EXIT_FAIL;
    if (o->quick && n > CMU_QUICK_IMAGES) n = CMU_QUICK_IMAGES;
    struct eval_box *loose = NULL, *tight = NULL, *det = NULL;
    struct result r[2] = {0};
    int n_loose, n_tight, nd = 0;
    double t0 = fh_now_ms();
    if (detect_all(o, c, n, &threads)) goto out;
    double t_det = fh_now_ms() - t0;
    snprintf(path, sizeof path, "%s/" CMU_DIR "/ground_truth_bboxes.txt", o->data);
    if (read_boxes(path, c, n, !o->quick, &loose, &n_loose)) goto out;
    snprintf(path, sizeof path, "%s/" CMU_DIR "/ground_truth_bboxes_face_only.txt", o->data);
    if (read_boxes(path, c, n, !o->quick, &tight, &n_tight)) goto out;
    for (int i = 0; i < n; i++) nd += c[i].n_det;
    if (!(det = fh_malloc(sizeof *det * (size_t)(nd ? nd : 1)))) {
        fprintf(stderr, "facehatch: out of memory\n");
        goto out;
    }
    for (int i = 0, k = 0; i < n; i++)
        for (int j = 0; j < c[i].n_det; j++) det[k++] = c[i].det[j];
    if (evaluate(det, nd, loose, n_loose, &r[0]) || evaluate(det, nd, tight, n_tight, &r[1])) goto out;
    double secs = (fh_now_ms() - t0) / 1e3;
    printf("CMU+MIT frontal faces%s: %d images, %d faces, detector %s", o->quick ? " (--quick)" : "", n,
           n_loose, o->detector);
    if (strcmp(o->detector, "haar")) printf(", min face %d px", o->min_face);
    printf(", %d detections\n", nd);
    printf("  IoU 0.5, each face matched once, detections in score order over the set\n");
    printf("  %-28s %8s", "boxes", "AP");
    for (size_t i = 0; i < sizeof FP_REPORT / sizeof *FP_REPORT; i++) printf("   DR@%-3d", FP_REPORT[i]);
    printf("   all dets (FP)\n");
    for (int b = 0; b < 2; b++) {
        printf("  %-28s %8.4f", b ? "tight (face_only)" : "loose (ground_truth_bboxes)", r[b].ap);
        for (size_t i = 0; i < sizeof FP_REPORT / sizeof *FP_REPORT; i++)
            printf("   %6.4f", eval_roc_rate_at(r[b].fp, r[b].rate, r[b].n_pts, FP_REPORT[i]));
        printf("   %6.4f (%d)\n", r[b].rate[r[b].n_pts - 1], r[b].fp[r[b].n_pts - 1]);
    }
    printf("  %.1f s (detection %.1f s, %.0f ms/image on %d threads)\n", secs, t_det / 1e3,
           t_det * threads / n, threads);
    printf("{\"eval\":\"cmu-mit\",\"detector\":");
    json_str(stdout, o->detector);
    printf(",\"quick\":%s,\"min_face\":%d,\"ap\":%.4f,\"ap_tight\":%.4f", o->quick ? "true" : "false",
           o->min_face, r[0].ap, r[1].ap);
    for (size_t i = 0; i < sizeof FP_REPORT / sizeof *FP_REPORT; i++)
        printf(",\"dr_at_%d\":%.4f", FP_REPORT[i], eval_roc_rate_at(r[0].fp, r[0].rate, r[0].n_pts, FP_REPORT[i]));
    printf(",\"roc\":");
    print_roc_json(&r[0]);
    printf(",\"roc_tight\":");
    print_roc_json(&r[1]);
    printf(",\"faces\":%d,\"detections\":%d,\"images\":%d,\"seconds\":%.1f}\n", n_loose, nd, n, secs);
    rc = EXIT_OK;
out:
    for (int b = 0; b < 2; b++) fh_free(r[b].fp), fh_free(r[b].rate);
    fh_free(loose), fh_free(tight), fh_free(det);
    free_cimgs(c, n); // images past n (--quick) hold no detections
    return rc;
}
