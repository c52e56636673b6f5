// SPDX-License-Identifier: MIT
// The CLI's detector switch: any detector of the public API (fh_config.detector).
#include <pthread.h>
#include <string.h>

#include "cli/detectors.h"

struct cli_detector {
    struct fh_models *m;
    struct fh_engine *e;
    struct fh_config cfg;
    struct cli_box *boxes;
    int cap;
};

int cli_detector_open(const struct cli_opts *o, int threads, struct cli_detector **out) {
    *out = NULL;
    struct cli_detector *d = fh_calloc(1, sizeof *d);
    if (!d) {
        fprintf(stderr, "facehatch: out of memory\n");
        return EXIT_FAIL;
    }
    int rc = cli_load(o, threads, &d->m, &d->e);
    if (rc) {
        fh_free(d);
        return rc;
    }
    d->cfg = cli_config(o);
    *out = d;
    return EXIT_OK;
}

void cli_detector_close(struct cli_detector *d) {
    if (!d) return;
    fh_engine_free(d->e);
    fh_models_free(d->m);
    fh_free(d->boxes);
    fh_free(d);
}

const char *cli_detector_name(const struct cli_detector *d) { return fh_detector_name(d->cfg.detector); }

int cli_detector_run(struct cli_detector *d, const struct img *im, struct cli_box **boxes, int *n) {
    *boxes = NULL, *n = 0;
    struct fh_face *f;
    int k, rc = fh_detect(d->e, im, &d->cfg, &f, &k);
    if (rc) return rc;
    if (k > d->cap) {
        struct cli_box *b = fh_realloc(d->boxes, (size_t)k * sizeof *b);
        if (!b) return fh_fail(FH_E_NOMEM, "detector: out of memory");
        d->boxes = b, d->cap = k;
    }
    for (int i = 0; i < k; i++) {
        struct cli_box *b = &d->boxes[i];
        *b = (struct cli_box){(float)f[i].box[0], (float)f[i].box[1], (float)f[i].box[2], (float)f[i].box[3],
                              f[i].raw_score, {0}, f[i].score, f[i].detector};
        memcpy(b->landmarks, f[i].landmarks, sizeof f[i].landmarks);
    }
    *boxes = d->boxes, *n = k;
    return FH_OK;
}

struct each_job {
    const struct cli_opts *o;
    int n, next, failed;
    void (*path)(void *, int, char *, size_t);
    int (*keep)(void *, int, const struct img *, const struct cli_box *, int);
    void *ctx;
    pthread_mutex_t mu;
};

static void fail_once(struct each_job *j) {
    pthread_mutex_lock(&j->mu);
    if (!j->failed) fprintf(stderr, "facehatch: %s\n", fh_errmsg());
    j->failed = 1;
    pthread_mutex_unlock(&j->mu);
}

static void *each_worker(void *arg) {
    struct each_job *j = arg;
    struct cli_detector *d;
    if (cli_detector_open(j->o, 1, &d)) { // prints its own error
        pthread_mutex_lock(&j->mu);
        j->failed = 1;
        pthread_mutex_unlock(&j->mu);
        return NULL;
    }
    for (;;) {
        pthread_mutex_lock(&j->mu);
        int i = j->failed ? j->n : j->next++;
        pthread_mutex_unlock(&j->mu);
        if (i >= j->n) break;
        char path[1024];
        j->path(j->ctx, i, path, sizeof path);
        struct img im;
        struct cli_box *b;
        int nb = 0, rc = img_decode_file(path, &im);
        if (!rc && !(rc = cli_detector_run(d, &im, &b, &nb))) rc = j->keep(j->ctx, i, &im, b, nb);
        img_free(&im);
        if (rc) {
            fail_once(j);
            break;
        }
    }
    cli_detector_close(d);
    return NULL;
}

int cli_detect_each(const struct cli_opts *o, int n, void (*path)(void *ctx, int i, char *buf, size_t size),
                    int (*keep)(void *ctx, int i, const struct img *im, const struct cli_box *b, int nb),
                    void *ctx, int *threads) {
    struct each_job j = {.o = o, .n = n, .path = path, .keep = keep, .ctx = ctx};
    pthread_mutex_init(&j.mu, NULL);
    int nt = o->threads > 0 ? o->threads : fh_cpu_count();
    if (nt > 64) nt = 64;
    if (nt > n) nt = n > 0 ? n : 1;
    pthread_t th[64];
    int started = 0;
    for (int t = 0; t < nt; t++) started += !pthread_create(&th[started], NULL, each_worker, &j);
    if (!started) fprintf(stderr, "facehatch: cannot start threads\n"), j.failed = 1;
    for (int t = 0; t < started; t++) pthread_join(th[t], NULL);
    pthread_mutex_destroy(&j.mu);
    if (threads) *threads = started;
    return j.failed ? -1 : 0;
}
