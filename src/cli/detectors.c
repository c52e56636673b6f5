// SPDX-License-Identifier: MIT
// The CLI's detector switch: MTCNN through the public API, or the Haar baseline.
#include <pthread.h>
#include <string.h>

#include "base/pool.h"
#include "cli/detectors.h"
#include "haar/haar.h"

struct cli_detector {
    int haar;
    struct fh_models *m;
    struct fh_engine *e;
    struct fh_config cfg;
    struct haar_cascade *c;
    struct haar_params hp;
    struct fh_pool *pool;   // Haar's threads (hp.pool); NULL for one thread
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
    d->haar = !strcmp(o->detector, "haar");
    int rc;
    if (d->haar) {
        d->hp = haar_params_default();
        if ((rc = haar_load(HAAR_DEFAULT_CASCADE, &d->c))) {
            fprintf(stderr, "facehatch: %s\n", fh_errmsg());
            fh_free(d);
            return EXIT_FAIL;
        }
        int nt = threads > 0 ? threads : fh_cpu_count();   // <= 0: all cores
        if (nt > 1 && !(d->pool = fh_pool_new(nt))) {
            fprintf(stderr, "facehatch: %s\n", fh_errmsg());
            haar_free(d->c);
            fh_free(d);
            return EXIT_FAIL;
        }
        d->hp.pool = d->pool;
    } else {
        if ((rc = cli_load(o, threads, &d->m, &d->e))) {
            fh_free(d);
            return rc;
        }
        d->cfg = cli_config(o);
    }
    *out = d;
    return EXIT_OK;
}

void cli_detector_close(struct cli_detector *d) {
    if (!d) return;
    haar_free(d->c);
    fh_pool_free(d->pool);
    fh_engine_free(d->e);
    fh_models_free(d->m);
    fh_free(d->boxes);
    fh_free(d);
}

const char *cli_detector_name(const struct cli_detector *d) { return d->haar ? "haar" : "mtcnn"; }

static int reserve(struct cli_detector *d, int n) {
    if (n <= d->cap) return FH_OK;
    struct cli_box *b = fh_realloc(d->boxes, (size_t)n * sizeof *b);
    if (!b) return fh_fail(FH_E_NOMEM, "detector: out of memory");
    d->boxes = b, d->cap = n;
    return FH_OK;
}

int cli_detector_run(struct cli_detector *d, const struct img *im, struct cli_box **boxes, int *n) {
    *boxes = NULL, *n = 0;
    int rc, k;
    if (d->haar) {
        struct haar_det *h;
        if ((rc = haar_detect(d->c, im, &d->hp, &h, &k))) return rc;
        if ((rc = reserve(d, k))) {
            fh_free(h);
            return rc;
        }
        for (int i = 0; i < k; i++)
            d->boxes[i] = (struct cli_box){(float)h[i].x, (float)h[i].y, (float)(h[i].x + h[i].w - 1),
                                           (float)(h[i].y + h[i].h - 1), (float)h[i].score, {0}};
        fh_free(h);
    } else {
        struct fh_face *f;
        if ((rc = fh_detect(d->e, im, &d->cfg, &f, &k)) || (rc = reserve(d, k))) return rc;
        for (int i = 0; i < k; i++) {
            d->boxes[i] = (struct cli_box){(float)f[i].box[0], (float)f[i].box[1], (float)f[i].box[2],
                                           (float)f[i].box[3], f[i].score, {0}};
            memcpy(d->boxes[i].landmarks, f[i].landmarks, sizeof f[i].landmarks);
        }
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
