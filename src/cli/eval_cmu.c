// SPDX-License-Identifier: MIT
// facehatch eval cmu-mit: the CMU+MIT frontal face test set (130 grey images, 511
// faces; ../shared/data/cmu_mit_frontal, README section 6).
//   * the classic ROC: detection rate against the number of false positives over the
//     whole set as the score threshold falls (reported at 10, 50 and 167 FP);
//   * VOC AP at IoU 0.5 against James Hays' loose boxes (ground_truth_bboxes.txt), and
//     against the tight ones (ground_truth_bboxes_face_only.txt) as a second number;
//   * the same AP and ROC for the original papers' criterion, whatever a detector's box
//     style: the box contains both eyes and the mouth centre of the face
//     (ground_truth_landmarks.txt) and its side is 1-4x the face's landmark scale
//     (eval_det.h, eval_pts_hit).
// Boxes are clipped to the image. Detections are taken in score order over the whole
// set; each takes its best-IoU face of the same image (the landmark criterion: the
// nearest untaken face it is correct for), and each face is matched at most once
// (eval_det.h, eval_set_match, eval_pts_match). Each criterion has its own ROC.
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
#define N_REPORT (sizeof FP_REPORT / sizeof *FP_REPORT)
// the three criteria, in result order: human row label, JSON key suffix
// (ap, ap_tight, ap_points; dr_at_N, dr_tight_at_N, dr_points_at_N; roc, ...)
static const struct {
    const char *human, *suffix;
} CRITERIA[] = {
    {"IoU 0.5, loose boxes (ground_truth_bboxes)", ""},
    {"IoU 0.5, tight boxes (face_only)", "_tight"},
    {"points: eyes+mouth in box, side 1-4x scale", "_points"},
};
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

// "name v_1 .. v_k" lines (k numbers) of the images in c: *vals gets k numbers a row,
// *image the row's index into c. A line of another image is an error when `all` is set
// and skipped otherwise. Prints errors, -1.
static int read_rows(const char *path, const struct cimg *c, int n, int k, int all, double **vals, int **image,
                     int *n_rows) {
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "facehatch: cannot open %s\n", path);
        return -1;
    }
    double *v = NULL;
    int *im = NULL, nr = 0, cap = 0, line = 0;
    char buf[512], name[128];
    while (fgets(buf, sizeof buf, f)) {
        line++;
        if (strspn(buf, " \t\r\n") == strlen(buf)) continue;
        int pos = 0;
        if (sscanf(buf, "%127s%n", name, &pos) != 1) goto bad;
        if (nr == cap) {
            int nc = cap ? 2 * cap : 1024;
            double *tv = fh_realloc(v, sizeof *v * (size_t)k * (size_t)nc);
            if (tv) v = tv;
            int *ti = tv ? fh_realloc(im, sizeof *im * (size_t)nc) : NULL;
            if (!ti) {
                fprintf(stderr, "facehatch: out of memory\n");
                goto fail;
            }
            im = ti, cap = nc;
        }
        char *p = buf + pos, *end;
        for (int j = 0; j < k; j++, p = end) {
            v[(size_t)k * (size_t)nr + (size_t)j] = strtod(p, &end);
            if (end == p) goto bad;
        }
        if (strspn(p, " \t\r\n") != strlen(p)) goto bad;
        struct cimg key;
        snprintf(key.name, sizeof key.name, "%s", name);
        const struct cimg *ci = bsearch(&key, c, (size_t)n, sizeof *c, cmp_name);
        if (!ci) {
            if (!all) continue;
            fprintf(stderr, "facehatch: %s:%d: image %s is missing\n", path, line, name);
            goto fail;
        }
        im[nr++] = (int)(ci - c);
    }
    fclose(f);
    *vals = v, *image = im, *n_rows = nr;
    return 0;
bad:
    fprintf(stderr, "facehatch: %s:%d: expected an image name and %d numbers\n", path, line, k);
fail:
    fclose(f);
    fh_free(v), fh_free(im);
    return -1;
}

// "name x_min y_min x_max y_max" lines of the images in c (others are skipped only with
// --quick: the full run needs every named image); boxes clipped to the image.
static int read_boxes(const char *path, const struct cimg *c, int n, int all, struct eval_box **out,
                      int *n_out) {
    double *v;
    int *image, nr;
    if (read_rows(path, c, n, 4, all, &v, &image, &nr)) return -1;
    struct eval_box *b = fh_malloc(sizeof *b * (size_t)(nr ? nr : 1));
    int rc = b ? 0 : -1;
    if (!b) fprintf(stderr, "facehatch: out of memory\n");
    for (int r = 0; b && r < nr; r++) {
        const struct cimg *im = &c[image[r]];
        double x1 = v[4 * r], y1 = v[4 * r + 1], x2 = v[4 * r + 2], y2 = v[4 * r + 3];
        if (x2 < x1 || y2 < y1) {
            fprintf(stderr, "facehatch: %s: a box of %s has x_max < x_min or y_max < y_min\n", path, im->name);
            rc = -1;
            break;
        }
        x1 = x1 < 0 ? 0 : x1, y1 = y1 < 0 ? 0 : y1;
        x2 = x2 > im->w - 1 ? im->w - 1 : x2, y2 = y2 > im->h - 1 ? im->h - 1 : y2;
        b[r] = (struct eval_box){x1, y1, x2, y2, 0, image[r]};
    }
    fh_free(v), fh_free(image);
    if (rc) fh_free(b);
    else *out = b, *n_out = nr;
    return rc;
}

// "name lex ley rex rey nose_x nose_y lmouth_x lmouth_y cmouth_x cmouth_y rmouth_x rmouth_y"
// lines; lines of images not in c are skipped (the file also lists the 223 faces of the
// Rotated Test Set, whose images are absent). Prints errors, -1.
static int read_points(const char *path, const struct cimg *c, int n, struct eval_face_pts **out, int *n_out) {
    double *v;
    int *image, nr;
    if (read_rows(path, c, n, 12, 0, &v, &image, &nr)) return -1;
    struct eval_face_pts *p = fh_malloc(sizeof *p * (size_t)(nr ? nr : 1));
    if (!p) fprintf(stderr, "facehatch: out of memory\n");
    // eyes: points 0 and 1; mouth centre: point 4 (nose and mouth corners unused)
    for (int r = 0; p && r < nr; r++) {
        const double *x = &v[12 * r];
        p[r] = (struct eval_face_pts){{x[0], x[1]}, {x[2], x[3]}, {x[8], x[9]}, image[r]};
    }
    fh_free(v), fh_free(image);
    if (!p) return -1;
    *out = p, *n_out = nr;
    return 0;
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

// gt: boxes (IoU 0.5) or, when pts is given, landmarks (eval_pts_match); ng faces
static int evaluate(const struct eval_box *det, int nd, const struct eval_box *gt, const struct eval_face_pts *pts,
                    int ng, struct result *r) {
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
    if (pts ? eval_pts_match(det, nd, pts, ng, order, tp) : eval_set_match(det, nd, gt, ng, 0.5, order, tp)) {
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
        for (size_t k = 0; k < N_REPORT; k++) report |= s == FP_REPORT[k];
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
    struct eval_face_pts *pts = NULL;
    struct result r[3] = {0}; // loose, tight, points
    int n_loose, n_tight, n_pts, nd = 0;
    double t0 = fh_now_ms();
    if (detect_all(o, c, n, &threads)) goto out;
    double t_det = fh_now_ms() - t0;
    snprintf(path, sizeof path, "%s/" CMU_DIR "/ground_truth_bboxes.txt", o->data);
    if (read_boxes(path, c, n, !o->quick, &loose, &n_loose)) goto out;
    snprintf(path, sizeof path, "%s/" CMU_DIR "/ground_truth_bboxes_face_only.txt", o->data);
    if (read_boxes(path, c, n, !o->quick, &tight, &n_tight)) goto out;
    snprintf(path, sizeof path, "%s/" CMU_DIR "/ground_truth_landmarks.txt", o->data);
    if (read_points(path, c, n, &pts, &n_pts)) goto out;
    if (n_pts != n_loose || n_tight != n_loose) {
        fprintf(stderr, "facehatch: " CMU_DIR ": %d loose boxes, %d tight boxes, %d landmark faces\n", n_loose,
                n_tight, n_pts);
        goto out;
    }
    for (int i = 0; i < n; i++) nd += c[i].n_det;
    if (!(det = fh_malloc(sizeof *det * (size_t)(nd ? nd : 1)))) {
        fprintf(stderr, "facehatch: out of memory\n");
        goto out;
    }
    for (int i = 0, k = 0; i < n; i++)
        for (int j = 0; j < c[i].n_det; j++) det[k++] = c[i].det[j];
    if (evaluate(det, nd, loose, NULL, n_loose, &r[0]) || evaluate(det, nd, tight, NULL, n_tight, &r[1]) ||
        evaluate(det, nd, NULL, pts, n_pts, &r[2]))
        goto out;
    double secs = (fh_now_ms() - t0) / 1e3;
    printf("CMU+MIT frontal faces%s: %d images, %d faces, detector %s", o->quick ? " (--quick)" : "", n,
           n_loose, o->detector);
    cli_print_det_settings(stdout, o);
    printf(", %d detections\n", nd);
    printf("  each face matched once, detections in score order over the set\n");
    printf("  %-42s %8s", "criterion", "AP");
    for (size_t i = 0; i < N_REPORT; i++) printf("   DR@%-3d", FP_REPORT[i]);
    printf("   all dets (FP)\n");
    for (int b = 0; b < 3; b++) {
        printf("  %-42s %8.4f", CRITERIA[b].human, r[b].ap);
        for (size_t i = 0; i < N_REPORT; i++) printf("   %6.4f", eval_roc_rate_at(r[b].fp, r[b].rate, r[b].n_pts, FP_REPORT[i]));
        printf("   %6.4f (%d)\n", r[b].rate[r[b].n_pts - 1], r[b].fp[r[b].n_pts - 1]);
    }
    printf("  %.1f s (detection %.1f s, %.0f ms/image on %d threads)\n", secs, t_det / 1e3,
           t_det * threads / n, threads);
    printf("{\"eval\":\"cmu-mit\",\"detector\":");
    json_str(stdout, o->detector);
    printf(",\"quick\":%s", o->quick ? "true" : "false");
    cli_json_det_settings(stdout, o);
    for (int b = 0; b < 3; b++) printf(",\"ap%s\":%.4f", CRITERIA[b].suffix, r[b].ap);
    for (int b = 0; b < 3; b++)
        for (size_t i = 0; i < N_REPORT; i++)
            printf(",\"dr%s_at_%d\":%.4f", CRITERIA[b].suffix, FP_REPORT[i],
                   eval_roc_rate_at(r[b].fp, r[b].rate, r[b].n_pts, FP_REPORT[i]));
    for (int b = 0; b < 3; b++) {
        printf(",\"roc%s\":", CRITERIA[b].suffix);
        print_roc_json(&r[b]);
    }
    printf(",\"faces\":%d,\"detections\":%d,\"images\":%d,\"seconds\":%.1f}\n", n_loose, nd, n, secs);
    rc = EXIT_OK;
out:
    for (int b = 0; b < 3; b++) fh_free(r[b].fp), fh_free(r[b].rate);
    fh_free(loose), fh_free(tight), fh_free(pts), fh_free(det);
    free_cimgs(c, n); // images past n (--quick) hold no detections
    return rc;
}
