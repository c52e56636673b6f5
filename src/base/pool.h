// SPDX-License-Identifier: MIT
// pool: a fixed thread pool running one parallel_for at a time. The caller's thread
// takes part as worker 0, so a pool of n threads starts n-1 pthreads. No work
// stealing, no nesting: a task function must not call fh_pool_run on the same pool.
//
//   struct fh_pool *p = fh_pool_new(4);           // NULL on failure (see fh_errmsg)
//   fh_pool_run(p, work, &ctx);                   // work(&ctx, ith, nth) on every thread
//   fh_pool_free(p);
//
// Thread safety: one fh_pool_run at a time per pool (the owner's thread).
#ifndef FH_POOL_H
#define FH_POOL_H

struct fh_pool;
typedef void (*fh_task_fn)(void *ctx, int ith, int nth);

// n_threads <= 0 means fh_cpu_count(). Returns NULL on failure (FH_E_NOMEM via errmsg).
struct fh_pool *fh_pool_new(int n_threads);
void fh_pool_free(struct fh_pool *p);
int fh_pool_size(const struct fh_pool *p); // NULL pool -> 1
// Runs fn(ctx, ith, nth) for ith in 0..nth-1 in parallel, returns when all are done.
// A NULL pool runs fn(ctx, 0, 1) on the caller's thread.
void fh_pool_run(struct fh_pool *p, fh_task_fn fn, void *ctx);

#endif
