// SPDX-License-Identifier: MIT
// facehatch eval wider: WIDER FACE val on the events present in ../shared/data
// (wider_face_val_bbx_gt_subset.txt: 16 events, 554 images), the official Easy/Medium/
// Hard protocol: the faces that count per level are the official gt_list of
// eval_tools/ground_truth/wider_{easy,medium,hard}_val.mat (read with libmatio), the
// other faces are ignore regions; AP exactly as the official MATLAB code (eval_det.h).
// The .mat boxes are checked against the subset file, so both say the same thing.
// --quick: only 15--Stock_Market and 27--Spa (40 images), detections and .mat entries.
// FACEHATCH_WIDER_RESULTS=DIR also writes the detections as official result files;
// --results DIR scores such files (ours or another tool's) instead of running a detector.
// FACEHATCH_WIDER_DUMP=FILE writes every detection with its backend and both scores (a
// tab-separated table for tuning fusion offline).
// --events tune|test|E1,E2,...: only those events. tune = the 1st, 3rd, 5th, ... of the
// subset's events in sorted order, test = the 2nd, 4th, ...: fusion is tuned on one half
// and reported on the other.
// MTCNN runs with min face 12 px unless --min-face is given (WIDER's Hard level is
// mostly faces of 10-20 px; 12 is P-Net's native size, the smallest it can see), one
// single-threaded detector per worker thread over a shared image counter.
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "cli/detectors.h"
#include "eval/eval_det.h"

#define WIDER_DIR "widerface_val"
#define WIDER_MIN_FACE 12
static const char *const QUICK_EVENTS[] = {"15--Stock_Market", "27--Spa"};
static const char *const LEVELS[] = {"easy", "medium", "hard"};

// one image of the subset file
struct wimg {
    char path[192];  // relative to WIDER_val/images
    char event[64];
    char file[128];  // without .jpg
    int n_face;
    int *xywh;       // n_face x 4
    struct eval_box *det;
    int n_det;
    float *face_p;   // n_det: O-Net's face probability (FACEHATCH_WIDER_DUMP only)
    int *kind;       // n_det: the backend (FH_DETECTOR_*)
};

static int cmp_wimg(const void *a, const void *b) {
    const struct wimg *x = a, *y = b;
    int c = strcmp(x->event, y->event);
    return c ? c : strcmp(x->file, y->file);
}

static void free_wimgs(struct wimg *w, int n) {
    for (int i = 0; w && i < n; i++) fh_free(w[i].xywh), fh_free(w[i].det), fh_free(w[i].face_p), fh_free(w[i].kind);
    fh_free(w);
}

static int in_list(const char *s, const char *const *list, int n) {
    for (int i = 0; i < n; i++)
        if (!strcmp(s, list[i])) return 1;
    return 0;
}

// Reads the official-format ground truth file, keeping images of the given events
// (all if events == NULL). Prints the error and returns -1.
static int read_subset(const char *path, const char *const *events, int n_events, struct wimg **out,
                       int *n_out) {
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "facehatch: cannot open %s (WIDER FACE data, see ../shared/data/README.md)\n", path);
        return -1;
    }
    struct wimg *w = NULL;
    int n = 0, cap = 0, line = 0;
    char buf[512];
    while (fgets(buf, sizeof buf, f)) {
        line++;
        buf[strcspn(buf, "\r\n")] = 0;
        if (!*buf) continue;
        struct wimg im = {0};
        const char *slash = strchr(buf, '/'), *dot = strrchr(buf, '.');
        char cnt[64];
        int nf;
        if (!slash || !dot || dot < slash || strlen(buf) >= sizeof im.path ||
            (size_t)(slash - buf) >= sizeof im.event || (size_t)(dot - slash) > sizeof im.file ||
            !fgets(cnt, sizeof cnt, f) || sscanf(cnt, "%d", &nf) != 1 || nf < 0 || nf > FH_MAX_FACES) {
            fprintf(stderr, "facehatch: %s:%d: expected an image path and a face count\n", path, line);
            goto fail;
        }
        line++;
        snprintf(im.path, sizeof im.path, "%s", buf);
        snprintf(im.event, sizeof im.event, "%.*s", (int)(slash - buf), buf);
        snprintf(im.file, sizeof im.file, "%.*s", (int)(dot - slash - 1), slash + 1);
        im.n_face = nf;
        im.xywh = fh_malloc(sizeof(int) * 4 * (size_t)(nf ? nf : 1));
        if (!im.xywh) {
            fprintf(stderr, "facehatch: out of memory\n");
            goto fail;
        }
        for (int k = 0; k < (nf ? nf : 1); k++) { // an empty image still has one line of zeros
            int *b = &im.xywh[4 * (nf ? k : 0)];
            line++;
            if (!fgets(buf, sizeof buf, f) || sscanf(buf, "%d %d %d %d", &b[0], &b[1], &b[2], &b[3]) != 4) {
                fprintf(stderr, "facehatch: %s:%d: expected x y w h ...\n", path, line);
                fh_free(im.xywh);
                goto fail;
            }
        }
        if (events && !in_list(im.event, events, n_events)) {
            fh_free(im.xywh);
            continue;
        }
        if (n == cap) {
            int nc = cap ? 2 * cap : 256;
            struct wimg *t = fh_realloc(w, sizeof *w * (size_t)nc);
            if (!t) {
                fprintf(stderr, "facehatch: out of memory\n");
                fh_free(im.xywh);
                goto fail;
            }
            w = t, cap = nc;
        }
        w[n++] = im;
    }
    fclose(f);
    if (!n) {
        fprintf(stderr, "facehatch: %s: no images%s\n", path, events ? " of the quick events" : "");
        free_wimgs(w, n);
        return -1;
    }
    qsort(w, (size_t)n, sizeof *w, cmp_wimg);
    *out = w, *n_out = n;
    return 0;
fail:
    fclose(f);
    free_wimgs(w, n);
    return -1;
}

// ---- detection over all images (cli_detect_each: one detector per worker thread) --------
struct wctx {
    const struct cli_opts *o;
    struct wimg *im;
    int dump;        // keep face_p and kind too
};

static void wider_path(void *ctx, int i, char *buf, size_t size) {
    struct wctx *c = ctx;
    snprintf(buf, size, "%s/" WIDER_DIR "/WIDER_val/images/%s", c->o->data, c->im[i].path);
}

static int wider_keep(void *ctx, int i, const struct img *im, const struct cli_box *b, int n) {
    struct wimg *w = &((struct wctx *)ctx)->im[i];
    int dump = ((struct wctx *)ctx)->dump;
    if (n > 0 && (!(w->det = fh_malloc(sizeof *w->det * (size_t)n)) ||
                  (dump && (!(w->face_p = fh_malloc(sizeof *w->face_p * (size_t)n)) ||
                            !(w->kind = fh_malloc(sizeof *w->kind * (size_t)n))))))
        return fh_fail(FH_E_NOMEM, "%s: out of memory", w->path);
    // result-file convention: x y w h with w = x2 - x1 + 1 for an inclusive box
    for (int k = 0; k < n; k++) {
        w->det[k] = eval_box_xywh(b[k].x1, b[k].y1, b[k].x2 - b[k].x1 + 1, b[k].y2 - b[k].y1 + 1, b[k].score);
        if (dump) w->face_p[k] = b[k].face_p, w->kind[k] = b[k].kind;
    }
    w->n_det = n;
    return FH_OK;
}

static int detect_all(const struct cli_opts *o, struct wimg *im, int n, int dump, int *threads) {
    struct wctx c = {o, im, dump};
    return cli_detect_each(o, n, wider_path, wider_keep, &c, threads);
}

// Writes the detections as official result files, DIR/<event>/<file>.txt ("name",
// count, "x y w h score" lines), so the numbers can be checked with the official tools.
static int write_results(const char *dir, const struct wimg *w, int n) {
    char path[1024];
    for (int i = 0; i < n; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, w[i].event);
        if (mkdir(dir, 0777) && errno != EEXIST) goto fail;
        if (mkdir(path, 0777) && errno != EEXIST) goto fail;
        snprintf(path, sizeof path, "%s/%s/%s.txt", dir, w[i].event, w[i].file);
        FILE *f = fopen(path, "w");
        if (!f) goto fail;
        fprintf(f, "%s\n%d\n", w[i].file, w[i].n_det);
        for (int k = 0; k < w[i].n_det; k++) {
            const struct eval_box *b = &w[i].det[k];
            fprintf(f, "%.1f %.1f %.1f %.1f %.6f\n", b->x1, b->y1, b->x2 - b->x1, b->y2 - b->y1, b->score);
        }
        if (fclose(f)) goto fail;
    }
    return 0;
fail:
    fprintf(stderr, "facehatch: cannot write %s\n", path);
    return -1;
}

// Reads DIR/<event>/<file>.txt for every image (official result files: name, count,
// "x y w h score" lines). Prints the error, -1.
static int read_results(const char *dir, struct wimg *w, int n) {
    char path[1024], line[512];
    for (int i = 0; i < n; i++) {
        snprintf(path, sizeof path, "%s/%s/%s.txt", dir, w[i].event, w[i].file);
        FILE *f = fopen(path, "r");
        int nd, ln = 2;
        if (!f) {
            fprintf(stderr, "facehatch: cannot open %s (--results: one file per image)\n", path);
            return -1;
        }
        if (!fgets(line, sizeof line, f) || !fgets(line, sizeof line, f) || sscanf(line, "%d", &nd) != 1 ||
            nd < 0 || nd > FH_MAX_FACES * 10) {
            fprintf(stderr, "facehatch: %s: expected the image name and a detection count (at most %d)\n", path,
                    FH_MAX_FACES * 10);
            fclose(f);
            return -1;
        }
        if (nd && !(w[i].det = fh_malloc(sizeof *w[i].det * (size_t)nd))) {
            fprintf(stderr, "facehatch: out of memory\n");
            fclose(f);
            return -1;
        }
        for (int k = 0; k < nd; k++) {
            double x, y, bw, bh, sc;
            ln++;
            if (!fgets(line, sizeof line, f) || sscanf(line, "%lf %lf %lf %lf %lf", &x, &y, &bw, &bh, &sc) != 5 ||
                !(bw >= 0 && bh >= 0 && sc == sc)) {
                fprintf(stderr, "facehatch: %s:%d: expected x y w h score\n", path, ln);
                fclose(f);
                return -1;
            }
            w[i].det[k] = eval_box_xywh(x, y, bw, bh, sc);
        }
        w[i].n_det = nd;
        fclose(f);
    }
    return 0;
}

// FACEHATCH_WIDER_DUMP: "image kind x1 y1 x2 y2 score face_p" per detection, tab-separated
// (inclusive boxes; score: the detector's ranking score, face_p: O-Net's probability)
static int write_dump(const char *file, const struct wimg *w, int n) {
    FILE *f = fopen(file, "w");
    if (!f) goto fail;
    fprintf(f, "image\tkind\tx1\ty1\tx2\ty2\tscore\tface_p\n");
    for (int i = 0; i < n; i++)
        for (int k = 0; k < w[i].n_det; k++) {
            const struct eval_box *b = &w[i].det[k];
            fprintf(f, "%s\t%s\t%.1f\t%.1f\t%.1f\t%.1f\t%.6f\t%.6f\n", w[i].path, fh_detector_name(w[i].kind[k]),
                    b->x1, b->y1, b->x2 - 1, b->y2 - 1, b->score, w[i].face_p[k]);
        }
    if (fclose(f)) goto fail;
    return 0;
fail:
    fprintf(stderr, "facehatch: cannot write %s\n", file);
    return -1;
}

// Keeps the images of the events `spec` names (tune, test or a comma list), in place.
// The images are sorted by event. Prints the error, -1.
static int select_events(const char *spec, struct wimg *w, int *n) {
    int is_tune = !strcmp(spec, "tune"), is_test = !strcmp(spec, "test");
    int ev = -1, kept = 0;
    for (int i = 0; i < *n; i++) {
        if (!i || strcmp(w[i].event, w[i - 1].event)) ev++;
        int keep;
        if (is_tune || is_test) keep = (ev % 2 == 0) == is_tune;
        else {
            size_t len = strlen(w[i].event);
            keep = 0;
            for (const char *p = spec; *p && !keep; p = strchr(p, ',') ? strchr(p, ',') + 1 : p + strlen(p))
                keep = !strncmp(p, w[i].event, len) && (p[len] == ',' || !p[len]);
        }
        if (keep) {
            w[kept++] = w[i];
        } else {
            fh_free(w[i].xywh);
        }
    }
    *n = kept;
    if (!kept) {
        fprintf(stderr, "facehatch: --events %s: no such events in the subset (tune, test or names like "
                        "15--Stock_Market,27--Spa)\n", spec);
        return -1;
    }
    return 0;
}

// ---- the three levels ------------------------------------------------------------------
static struct wimg *find_img(struct wimg *w, int n, const char *event, const char *file) {
    struct wimg key;
    snprintf(key.event, sizeof key.event, "%s", event);
    snprintf(key.file, sizeof key.file, "%s", file);
    return bsearch(&key, w, (size_t)n, sizeof *w, cmp_wimg);
}

// Reads one level's .mat (images of the given events). Prints errors, -1.
static int level_read(const struct cli_opts *o, const char *level, const char *const *events,
                      int n_events, struct eval_wider_gt_image **g, int *ng) {
    char path[1024];
    snprintf(path, sizeof path, "%s/" WIDER_DIR "/eval_tools/ground_truth/wider_%s_val.mat", o->data, level);
    if (eval_wider_gt_read(path, 1, events, n_events, g, ng)) {
        fprintf(stderr, "facehatch: %s\n", fh_errmsg());
        return -1;
    }
    return 0;
}

// AP of one level (its .mat images g) after checking them against the subset file;
// n_faces gets the number of faces that count. Prints errors, -1.
static int level_ap(const char *path, const struct eval_wider_gt_image *g, int ng, struct wimg *w, int n,
                    double *ap, int *n_faces) {
    int rc = -1;
    struct eval_wider_image *ei = fh_calloc((size_t)(ng ? ng : 1), sizeof *ei);
    struct eval_box *gt = NULL;
    int total = 0;
    for (int i = 0; i < ng; i++) total += g[i].n_face;
    gt = fh_malloc(sizeof *gt * (size_t)(total ? total : 1));
    if (!ei || !gt) {
        fprintf(stderr, "facehatch: out of memory\n");
        goto out;
    }
    if (ng != n) {
        fprintf(stderr, "facehatch: %s has %d images of these events, the subset file %d\n", path, ng, n);
        goto out;
    }
    *n_faces = 0;
    struct eval_box *gp = gt;
    for (int i = 0; i < ng; i++) {
        struct wimg *m = find_img(w, n, g[i].event, g[i].file);
        if (!m || m->n_face != g[i].n_face || memcmp(m->xywh, g[i].xywh, sizeof(int) * 4 * (size_t)m->n_face)) {
            fprintf(stderr, "facehatch: %s: %s/%s %s the subset file\n", path, g[i].event, g[i].file,
                    m ? "has other boxes than" : "is not in");
            goto out;
        }
        for (int k = 0; k < g[i].n_face; k++) {
            const int *b = &g[i].xywh[4 * k];
            gp[k] = eval_box_xywh(b[0], b[1], b[2], b[3], 0);
        }
        ei[i] = (struct eval_wider_image){m->det, m->n_det, gp, g[i].n_face, g[i].keep, g[i].n_keep};
        gp += g[i].n_face;
        *n_faces += g[i].n_keep;
    }
    if (eval_wider_ap(ei, ng, ap, NULL, NULL)) {
        fprintf(stderr, "facehatch: %s: %s\n", path, fh_errmsg());
        goto out;
    }
    rc = 0;
out:
    fh_free(ei), fh_free(gt);
    return rc;
}

int eval_wider_cmd(const struct cli_opts *in) {
    struct cli_opts opts = *in, *o = &opts;
    if (!o->min_face_given) o->min_face = WIDER_MIN_FACE;
    const char *const *events = o->quick ? QUICK_EVENTS : NULL;
    int n_events = o->quick ? (int)(sizeof QUICK_EVENTS / sizeof *QUICK_EVENTS) : 0;
    char path[1024];
    snprintf(path, sizeof path, "%s/" WIDER_DIR "/wider_face_val_bbx_gt_subset.txt", o->data);
    struct wimg *w;
    int n, threads;
    if (read_subset(path, events, n_events, &w, &n)) return EXIT_FAIL;
    if (o->events && select_events(o->events, w, &n)) {
        free_wimgs(w, n);
        return EXIT_FAIL;
    }
    const char *dump = getenv("FACEHATCH_WIDER_DUMP");
    if (dump && !*dump) dump = NULL;
    // the event names of the subset (sorted, so unique by neighbours) restrict the .mat
    const char *ev[128];
    int nev = 0;
    for (int i = 0; i < n; i++)
        if ((!nev || strcmp(ev[nev - 1], w[i].event)) && nev < 128) ev[nev++] = w[i].event;
    int faces = 0, dets = 0, n_face[3];
    double ap[3], t0 = fh_now_ms();
    for (int i = 0; i < n; i++) faces += w[i].n_face;
    int rc = EXIT_FAIL;
    struct eval_wider_gt_image *g[3] = {0};
    int ng[3] = {0};
    for (int l = 0; l < 3; l++) // before the detector runs, so a bad file fails at once
        if (level_read(o, LEVELS[l], ev, nev, &g[l], &ng[l])) goto out;
    if (o->results ? read_results(o->results, w, n) : detect_all(o, w, n, dump != NULL, &threads)) goto out;
    if (o->results) threads = 0;
    double t_det = fh_now_ms() - t0;
    for (int i = 0; i < n; i++) dets += w[i].n_det;
    const char *res = getenv("FACEHATCH_WIDER_RESULTS");
    if (res && *res && write_results(res, w, n)) goto out;
    if (dump && !o->results && write_dump(dump, w, n)) goto out;
    for (int l = 0; l < 3; l++) {
        snprintf(path, sizeof path, "wider_%s_val.mat", LEVELS[l]);
        if (level_ap(path, g[l], ng[l], w, n, &ap[l], &n_face[l])) goto out;
    }
    double secs = (fh_now_ms() - t0) / 1e3;
    const char *det = o->detector;
    if (o->quick)
        printf("WIDER FACE val, 16-event subset: --quick, %d events (%s, %s)\n", nev, QUICK_EVENTS[0],
               QUICK_EVENTS[1]);
    else
        printf("WIDER FACE val, 16-event subset (%d events%s%s)\n", nev, o->events ? ": --events " : "",
               o->events ? o->events : "");
    printf("  official protocol (eval_tools .mat gt_list, IoU 0.5, 1000 thresholds, VOC AP)\n");
    if (o->results)
        printf("  results %s", o->results);
    else {
        printf("  detector %s", det);
        cli_print_det_settings(stdout, o);
    }
    printf("; %d images, %d faces, %d detections\n", n, faces, dets);
    printf("  %-8s %7s %8s\n", "level", "faces", "AP");
    for (int l = 0; l < 3; l++) printf("  %-8s %7d %8.4f\n", LEVELS[l], n_face[l], ap[l]);
    if (!o->results)
        printf("  %.1f s (detection %.1f s, %.0f ms/image on %d threads)\n", secs, t_det / 1e3,
               t_det * threads / n, threads);
    printf("{\"eval\":\"wider\",\"detector\":");
    json_str(stdout, o->results ? "results" : det);
    printf(",\"subset\":\"%d events\",\"quick\":%s,\"events\":", nev, o->quick ? "true" : "false");
    json_str(stdout, o->events ? o->events : "all");
    if (o->results) {
        printf(",\"results\":");
        json_str(stdout, o->results);
    } else {
        cli_json_det_settings(stdout, o);
    }
    printf(",\"ap\":{\"easy\":%.4f,\"medium\":%.4f,"
           "\"hard\":%.4f},\"faces\":{\"easy\":%d,\"medium\":%d,\"hard\":%d},\"images\":%d,"
           "\"detections\":%d,\"seconds\":%.1f}\n",
           ap[0], ap[1], ap[2], n_face[0], n_face[1],
           n_face[2], n, dets, secs);
    rc = EXIT_OK;
out:
    for (int l = 0; l < 3; l++) eval_wider_gt_free(g[l], ng[l]);
    free_wimgs(w, n);
    return rc;
}
