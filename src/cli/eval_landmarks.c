// SPDX-License-Identifier: MIT
// facehatch eval landmarks: 5-point landmark error on the MTFL test split (2,995 AFLW
// face crops, 80x80, manual points; ../shared/data/README.md section 2). Two rows:
//   frame     MTCNN's O-Net on the whole 80x80 frame as the face box (the landmark stage
//             alone, the dataset's usual protocol);
//   detector  the points the chosen detector gives (MTCNN's own; another detector's boxes
//             + O-Net), on the detection whose box holds the centroid of the true points
//             (highest score if several); images with no such detection count as missed.
// Error per face: mean over the 5 points of the distance to the true point over the true
// inter-ocular distance (NME); failure: NME > 10 %. Both orders are image-left first.
#include <math.h>
#include <pthread.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/detectors.h"

#define MTFL_DIR "mtfl_aflw_test80"
#define MTFL_MAX 10000 // images read at most (the split has 2,995)

struct mimg {
    char name[128];
    float gt[10];      // x, y interleaved, our point order
    float lm[10];      // the detector's points for this face
    float best;        // score of the chosen detection; -INF when none
};

// reads new_testing.txt: "AFLW/<file>.jpg x1 .. x5 y1 .. y5" per line
static int read_list(const char *data, struct mimg **out, int *n) {
    char path[1024];
    snprintf(path, sizeof path, "%s/" MTFL_DIR "/new_testing.txt", data);
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "facehatch: cannot open %s (see ../shared/data/README.md)\n", path);
        return -1;
    }
    struct mimg *v = fh_calloc(MTFL_MAX, sizeof *v);
    if (!v) {
        fclose(f);
        fprintf(stderr, "facehatch: out of memory\n");
        return -1;
    }
    char line[1024];
    int k = 0, lineno = 0, bad = 0;
    while (fgets(line, sizeof line, f) && k < MTFL_MAX) {
        lineno++;
        float x[5], y[5];
        char name[128];
        if (line[0] == '\n' || line[0] == '\r') continue;
        if (sscanf(line, "%127s %f %f %f %f %f %f %f %f %f %f", name, &x[0], &x[1], &x[2], &x[3], &x[4], &y[0],
                   &y[1], &y[2], &y[3], &y[4]) != 11 || strstr(name, "..")) {
            fprintf(stderr, "facehatch: %s:%d: not 'FILE x1..x5 y1..y5'\n", path, lineno);
            bad = 1;
            break;
        }
        snprintf(v[k].name, sizeof v[k].name, "%s", name);
        for (int j = 0; j < 5; j++) v[k].gt[2 * j] = x[j], v[k].gt[2 * j + 1] = y[j];
        v[k].best = -INFINITY;
        k++;
    }
    fclose(f);
    if (bad || !k) {
        if (!bad) fprintf(stderr, "facehatch: %s: no images\n", path);
        fh_free(v);
        return -1;
    }
    *out = v, *n = k;
    return 0;
}

static float nme(const float *gt, const float *p, float *per_point) {
    float iod = hypotf(gt[2] - gt[0], gt[3] - gt[1]), s = 0;
    for (int j = 0; j < 5; j++) {
        float e = hypotf(gt[2 * j] - p[2 * j], gt[2 * j + 1] - p[2 * j + 1]) / (iod > 1e-3f ? iod : 1e-3f);
        if (per_point) per_point[j] += e;
        s += e;
    }
    return s / 5;
}

struct row {
    int found, failures;
    double mean;
    float point[5];
};

static struct row summarize(const struct mimg *v, int n, int use_found) {
    struct row r = {0};
    for (int i = 0; i < n; i++) {
        if (use_found && v[i].best == -INFINITY) continue;
        float e = nme(v[i].gt, v[i].lm, r.point);
        r.found++, r.mean += e, r.failures += e > 0.10f;
    }
    if (r.found) {
        r.mean /= r.found;
        for (int j = 0; j < 5; j++) r.point[j] /= (float)r.found;
    }
    return r;
}

struct lctx {
    const struct cli_opts *o;
    struct mimg *v;
};

static void lm_path(void *ctx, int i, char *buf, size_t size) {
    struct lctx *c = ctx;
    snprintf(buf, size, "%s/" MTFL_DIR "/%s", c->o->data, c->v[i].name);
}

static int lm_keep(void *ctx, int i, const struct img *im, const struct cli_box *b, int n) {
    struct mimg *m = &((struct lctx *)ctx)->v[i];
    float cx = 0, cy = 0;
    for (int j = 0; j < 5; j++) cx += m->gt[2 * j] / 5, cy += m->gt[2 * j + 1] / 5;
    for (int k = 0; k < n; k++)
        if (b[k].x1 <= cx && cx <= b[k].x2 && b[k].y1 <= cy && cy <= b[k].y2 && b[k].score > m->best) {
            m->best = b[k].score;
            memcpy(m->lm, b[k].landmarks, sizeof m->lm);
        }
    return FH_OK;
}

static void print_row(const char *what, const struct row *r, int n) {
    printf("%-28s %5d/%d (%5.1f %%)  NME %5.2f %%  failures %5.2f %%  per point %.2f %.2f %.2f %.2f %.2f %%\n", what,
           r->found, n, 100.0 * r->found / n, 100 * r->mean, r->found ? 100.0 * r->failures / r->found : 0,
           100 * r->point[0], 100 * r->point[1], 100 * r->point[2], 100 * r->point[3], 100 * r->point[4]);
}

static void json_row(const char *key, const char *name, const struct row *r, int n) {
    printf("\"%s\":{\"name\":\"%s\",\"found\":%d,\"found_rate\":%.5f,\"nme\":%.6f,\"failure_rate\":%.6f,"
           "\"nme_points\":[%.6f,%.6f,%.6f,%.6f,%.6f]}",
           key, name, r->found, (double)r->found / n, r->mean, r->found ? (double)r->failures / r->found : 0,
           r->point[0], r->point[1], r->point[2], r->point[3], r->point[4]);
}

int eval_landmarks_cmd(const struct cli_opts *o) {
    struct mimg *v;
    int n;
    if (read_list(o->data, &v, &n)) return EXIT_FAIL;
    if (o->quick && n > 300) n = 300;
    double t0 = fh_now_ms();
    // frame: O-Net on the whole crop
    struct fh_models *m;
    struct fh_engine *e;
    int rc = cli_load(o, o->threads, &m, &e);
    if (rc) {
        fh_free(v);
        return rc;
    }
    for (int i = 0; i < n && !rc; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/" MTFL_DIR "/%s", o->data, v[i].name);
        struct img im;
        struct fh_face f;
        if (fh_image_load(path, &im)) {
            fprintf(stderr, "facehatch: %s\n", fh_errmsg());
            rc = EXIT_FAIL;
            break;
        }
        float box[4] = {0, 0, (float)(im.w - 1), (float)(im.h - 1)};
        if (fh_landmarks(e, &im, box, 1, &f)) {
            fprintf(stderr, "facehatch: %s: %s\n", path, fh_errmsg());
            rc = EXIT_FAIL;
        } else {
            memcpy(v[i].lm, f.landmarks, sizeof v[i].lm);
        }
        img_free(&im);
    }
    fh_engine_free(e);
    fh_models_free(m);
    if (rc) {
        fh_free(v);
        return rc;
    }
    struct row frame = summarize(v, n, 0);
    for (int i = 0; i < n; i++) memset(v[i].lm, 0, sizeof v[i].lm);
    struct lctx c = {o, v};
    int threads;
    if (cli_detect_each(o, n, lm_path, lm_keep, &c, &threads)) {
        fh_free(v);
        return EXIT_FAIL;
    }
    struct row det = summarize(v, n, 1);
    printf("MTFL test (AFLW, 80x80 crops): %d faces; NME = mean point error / inter-ocular distance\n", n);
    print_row("O-Net on the whole frame", &frame, n);
    char what[64];
    snprintf(what, sizeof what, "%s (min face %d)", o->detector, o->min_face);
    print_row(what, &det, n);
    printf("(%.1f s, %d threads)\n", (fh_now_ms() - t0) / 1000, threads);
    printf("{\"eval\":\"landmarks\",\"n\":%d,\"min_face\":%d,", n, o->min_face);
    json_row("frame", "onet", &frame, n);
    putchar(',');
    json_row("detector", o->detector, &det, n);
    puts("}");
    fh_free(v);
    return EXIT_OK;
}
