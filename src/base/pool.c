// SPDX-License-Identifier: MIT
// pool: generation-counted barrier pool. Workers sleep on a condition variable
// between jobs (so an idle server costs no CPU) and the caller runs slice 0.
#include "pool.h"

#include <pthread.h>

#include "base.h"

struct fh_pool {
    int n;                   // total participants including the caller
    pthread_t *threads;      // n-1 workers
    pthread_mutex_t mu;
    pthread_cond_t cv_work, cv_done;
    unsigned long gen;       // job generation; bumped per fh_pool_run
    int pending;             // workers still running the current job
    int quit;
    fh_task_fn fn;
    void *ctx;
};

struct worker_arg {
    struct fh_pool *p;
    int ith;
};

static void *worker_main(void *arg) {
    struct worker_arg wa = *(struct worker_arg *)arg;
    fh_free(arg);
    struct fh_pool *p = wa.p;
    unsigned long seen = 0;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->quit && p->gen == seen) pthread_cond_wait(&p->cv_work, &p->mu);
        if (p->quit) break;
        seen = p->gen;
        fh_task_fn fn = p->fn;
        void *ctx = p->ctx;
        pthread_mutex_unlock(&p->mu);
        fn(ctx, wa.ith, p->n);
        pthread_mutex_lock(&p->mu);
        if (--p->pending == 0) pthread_cond_signal(&p->cv_done);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

struct fh_pool *fh_pool_new(int n_threads) {
    if (n_threads <= 0) n_threads = fh_cpu_count();
    struct fh_pool *p = fh_calloc(1, sizeof *p);
    if (!p) return fh_fail(FH_E_NOMEM, "pool: out of memory"), NULL;
    p->n = n_threads;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv_work, NULL);
    pthread_cond_init(&p->cv_done, NULL);
    if (n_threads > 1) {
        p->threads = fh_calloc((size_t)n_threads - 1, sizeof *p->threads);
        if (!p->threads) goto fail;
        for (int i = 1; i < n_threads; i++) {
            struct worker_arg *wa = fh_malloc(sizeof *wa);
            if (!wa) goto fail_started;
            wa->p = p, wa->ith = i;
            if (pthread_create(&p->threads[i - 1], NULL, worker_main, wa)) {
                fh_free(wa);
                goto fail_started;
            }
            continue;
        fail_started:
            p->n = i; // only i-1 workers exist; shrink the pool rather than fail
            break;
        }
    }
    return p;
fail:
    fh_free(p);
    fh_fail(FH_E_NOMEM, "pool: out of memory");
    return NULL;
}

void fh_pool_free(struct fh_pool *p) {
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    p->quit = 1;
    pthread_cond_broadcast(&p->cv_work);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < p->n - 1; i++) pthread_join(p->threads[i], NULL);
    fh_free(p->threads);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv_work);
    pthread_cond_destroy(&p->cv_done);
    fh_free(p);
}

int fh_pool_size(const struct fh_pool *p) { return p ? p->n : 1; }

void fh_pool_run(struct fh_pool *p, fh_task_fn fn, void *ctx) {
    if (!p || p->n == 1) {
        fn(ctx, 0, 1);
        return;
    }
    pthread_mutex_lock(&p->mu);
    p->fn = fn, p->ctx = ctx;
    p->pending = p->n - 1;
    p->gen++;
    pthread_cond_broadcast(&p->cv_work);
    pthread_mutex_unlock(&p->mu);
    fn(ctx, 0, p->n);
    pthread_mutex_lock(&p->mu);
    while (p->pending > 0) pthread_cond_wait(&p->cv_done, &p->mu);
    pthread_mutex_unlock(&p->mu);
}
