// SPDX-License-Identifier: MIT
// pool: generation-counted pool. Between jobs a worker first spins briefly on the job
// counter (a forward pass issues ~60 small jobs back to back, and a futex wake-up per
// job costs more than the work of a 7x7 layer), then sleeps on a condition variable, so
// an idle program costs no CPU. The caller runs slice 0 itself.
#include "pool.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

#include "base.h"

#define SPIN_BEFORE_SLEEP 2000 // ~0.1 ms of pause instructions

struct fh_pool {
    int n;                       // participants including the caller
    pthread_t *threads;          // n-1 workers
    pthread_mutex_t mu;
    pthread_cond_t cv_work;
    atomic_ulong gen;            // job generation; bumped (under mu) per fh_pool_run
    atomic_int pending;          // workers still running the current job
    atomic_int quit;
    fh_task_fn fn;               // written before gen is bumped (release)
    void *ctx;
};

struct worker_arg {
    struct fh_pool *p;
    int ith;
};

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

static void *worker_main(void *arg) {
    struct worker_arg wa = *(struct worker_arg *)arg;
    fh_free(arg);
    struct fh_pool *p = wa.p;
    unsigned long seen = 0;
    for (;;) {
        unsigned long g;
        int spins = 0;
        while ((g = atomic_load_explicit(&p->gen, memory_order_acquire)) == seen &&
               !atomic_load(&p->quit)) {
            if (++spins < SPIN_BEFORE_SLEEP) {
                cpu_relax();
                continue;
            }
            pthread_mutex_lock(&p->mu);
            while (atomic_load(&p->gen) == seen && !atomic_load(&p->quit))
                pthread_cond_wait(&p->cv_work, &p->mu);
            pthread_mutex_unlock(&p->mu);
            spins = 0;
        }
        if (atomic_load(&p->quit)) break;
        seen = g;
        p->fn(p->ctx, wa.ith, p->n);
        atomic_fetch_sub_explicit(&p->pending, 1, memory_order_release);
    }
    return NULL;
}

struct fh_pool *fh_pool_new(int n_threads) {
    if (n_threads <= 0) n_threads = fh_cpu_count();
    struct fh_pool *p = fh_calloc(1, sizeof *p);
    if (!p) return fh_fail(FH_E_NOMEM, "pool: out of memory"), NULL;
    p->n = n_threads;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv_work, NULL);
    if (n_threads > 1) {
        p->threads = fh_calloc((size_t)n_threads - 1, sizeof *p->threads);
        if (!p->threads) {
            fh_free(p);
            fh_fail(FH_E_NOMEM, "pool: out of memory");
            return NULL;
        }
        for (int i = 1; i < n_threads; i++) {
            struct worker_arg *wa = fh_malloc(sizeof *wa);
            if (wa) wa->p = p, wa->ith = i;
            if (!wa || pthread_create(&p->threads[i - 1], NULL, worker_main, wa)) {
                fh_free(wa);
                p->n = i; // only i-1 workers exist: run with fewer threads rather than fail
                break;
            }
        }
    }
    return p;
}

void fh_pool_free(struct fh_pool *p) {
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    atomic_store(&p->quit, 1);
    pthread_cond_broadcast(&p->cv_work);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < p->n - 1; i++) pthread_join(p->threads[i], NULL);
    fh_free(p->threads);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv_work);
    fh_free(p);
}

int fh_pool_size(const struct fh_pool *p) { return p ? p->n : 1; }

void fh_pool_run(struct fh_pool *p, fh_task_fn fn, void *ctx) {
    if (!p || p->n == 1) {
        fn(ctx, 0, 1);
        return;
    }
    p->fn = fn, p->ctx = ctx;
    atomic_store_explicit(&p->pending, p->n - 1, memory_order_relaxed);
    pthread_mutex_lock(&p->mu); // bump under the lock so a worker going to sleep sees it
    atomic_fetch_add_explicit(&p->gen, 1, memory_order_release);
    pthread_cond_broadcast(&p->cv_work);
    pthread_mutex_unlock(&p->mu);
    fn(ctx, 0, p->n);
    for (int spins = 0; atomic_load_explicit(&p->pending, memory_order_acquire) > 0; spins++) {
        if (spins < SPIN_BEFORE_SLEEP) cpu_relax();
        else sched_yield();
    }
}
