// SPDX-License-Identifier: MIT
// facehatch eval wider: WIDER FACE val on the events present in ../shared/data
// (wider_face_val_bbx_gt_subset.txt: 16 events, 554 images), the official Easy/Medium/
// Hard protocol: the faces that count per level are the official gt_list of
// eval_tools/ground_truth/wider_{easy,medium,hard}_val.mat (read with libmatio), the
// other faces are ignore regions; AP exactly as the official MATLAB code (eval_det.h).
// The .mat boxes are checked against the subset file, so both say the same thing.
// --quick: only 15--Stock_Market and 27--Spa (40 images), detections and .mat entries.
// FACEHATCH_WIDER_RESULTS=DIR also writes the detections as official result files.
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
};

static int cmp_wimg(const void *a, const void *b) {
    const struct wimg *x = a, *y = b;
    int c = strcmp(x->event, y->event);
    return c ? c : strcmp(x->file, y->file);
}

static void free_wimgs(struct wimg *w, int n) {
    for (int i = 0; w && i < n; i++) fh_free(w[i].xywh), fh_free(w[i].det);
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
};

static void wider_path(void *ctx, int i, char *buf, size_t size) {
    struct wctx *c = ctx;
    snprintf(buf, size, "%s/" WIDER_DIR "/WIDER_val/images/%s", c->o->data, c->im[i].path);
}

static int wider_keep(void *ctx, int i, const struct img *im, const struct cli_box *b, int n) {
    struct wimg *w = &((struct wctx *)ctx)->im[i];
    if (n > 0 && !(w->det = fh_malloc(sizeof *w->det * (size_t)n)))
        return fh_fail(FH_E_NOMEM, "%s: out of memory", w->path);
    // result-file convention: x y w h with w = x2 - x1 + 1 for an inclusive box
    for (int k = 0; k < n; k++)
        w->det[k] = eval_box_xywh(b[k].x1, b[k].y1, b[k].x2 - b[k].x1 + 1, b[k].y2 - b[k].y1 + 1, b[k].score);
    w->n_det = n;
    return FH_OK;
}

static int detect_all(const struct cli_opts *o, struct wimg *im, int n, int *threads) {
    struct wctx c = {o, im};
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
    if (detect_all(o, w, n, &threads)) goto out;
    double t_det = fh_now_ms() - t0;
    for (int i = 0; i < n; i++) dets += w[i].n_det;
    const char *res = getenv("FACEHATCH_WIDER_RESULTS");
    if (res && *res && write_results(res, w, n)) goto out;
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
        printf("WIDER FACE val, 16-event subset (%d events)\n", nev);
    printf("  official protocol (eval_tools .mat gt_list, IoU 0.5, 1000 thresholds, VOC AP)\n");
    printf("  detector %s", det);
    cli_print_det_settings(stdout, o);
    printf("; %d images, %d faces, %d detections\n", n, faces, dets);
    printf("  %-8s %7s %8s\n", "level", "faces", "AP");
    for (int l = 0; l < 3; l++) printf("  %-8s %7d %8.4f\n", LEVELS[l], n_face[l], ap[l]);
    printf("  %.1f s (detection %.1f s, %.0f ms/image on %d threads)\n", secs, t_det / 1e3,
           t_det * threads / n, threads);
    printf("{\"eval\":\"wider\",\"detector\":");
    json_str(stdout, det);
    printf(",\"subset\":\"%d events\",\"quick\":%s", nev, o->quick ? "true" : "false");
    cli_json_det_settings(stdout, o);
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
