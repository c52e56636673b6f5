// SPDX-License-Identifier: MIT
// A stateless worker (issue 10): claims jobs from the store's queue and runs them. Holds
// nothing between jobs but the models, one engine and (for a few seconds) an owner's person
// index; any number of workers on any number of machines may share one database.
//
//   main thread:  claim ──▶ read / analyse ──▶ BEGIN photo + faces + finish(job, token) COMMIT
//   beat thread:          renew the lease every lease/3 (own connection) ──┘
//
// Exactly once: the job's finish is fenced by its claim token inside the photo's
// transaction. A worker killed with -9 commits nothing of the job in hand; the lease runs
// out and another worker claims it with a new token. A worker that only stalled past its
// lease finds its token stale at commit and rolls back.
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/base.h"
#include "library/library_int.h"

// ---- the heartbeat -----------------------------------------------------------------------------
struct beat {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct store *s;   // its own connection
    int lease_s, quit;
    int64_t id, token; // the job in hand (0: none)
};

static void *beat_main(void *arg) {
    struct beat *b = arg;
    pthread_mutex_lock(&b->mu);
    while (!b->quit) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        int64_t ms = (int64_t)b->lease_s * 1000 / 3;
        until.tv_sec += ms / 1000;
        until.tv_nsec += (ms % 1000) * 1000000;
        if (until.tv_nsec >= 1000000000) until.tv_sec++, until.tv_nsec -= 1000000000;
        pthread_cond_timedwait(&b->cv, &b->mu, &until);
        if (b->quit || !b->id) continue;
        int64_t id = b->id, token = b->token;
        pthread_mutex_unlock(&b->mu);
        // a lost lease needs nothing here: the fenced finish refuses the commit
        store_job_heartbeat(b->s, id, token, b->lease_s);
        pthread_mutex_lock(&b->mu);
    }
    pthread_mutex_unlock(&b->mu);
    return NULL;
}

static void beat_set(struct beat *b, int64_t id, int64_t token) {
    pthread_mutex_lock(&b->mu);
    b->id = id, b->token = token;
    pthread_mutex_unlock(&b->mu);
}

// ---- one job -------------------------------------------------------------------------------------
struct job {
    int64_t id, owner, token;
    int attempts, cluster;
    char *path, *orig_name;
    uint8_t *data;
    size_t n;
};

static void job_free(struct job *j) {
    fh_free(j->path), fh_free(j->orig_name), fh_free(j->data);
    memset(j, 0, sizeof *j);
}

static char *dup_or_null(const char *t) {
    if (!t) return NULL;
    char *c = fh_malloc(strlen(t) + 1);
    if (c) strcpy(c, t);
    return c;
}

// the claimed row points into the store's buffers: copied out before the next call
static int job_copy(const struct store_job *sj, struct job *j) {
    memset(j, 0, sizeof *j);
    j->id = sj->id, j->owner = sj->owner, j->token = sj->token, j->attempts = sj->attempts;
    j->cluster = !strcmp(sj->kind, STORE_JOB_CLUSTER);
    j->path = dup_or_null(sj->path);
    j->orig_name = dup_or_null(sj->orig_name);
    if (sj->data_size && (j->data = fh_malloc(sj->data_size))) {
        memcpy(j->data, sj->data, sj->data_size);
        j->n = sj->data_size;
    }
    if (!j->path || (sj->orig_name && !j->orig_name) || (sj->data_size && !j->data)) {
        job_free(j);
        return fh_fail(FH_E_NOMEM, "worker: out of memory");
    }
    return FH_OK;
}

// finish the job inside the photo's transaction; an index job queues clustering there too
struct fence {
    const struct job *j;
    int ok;
    const char *error;
    int faces;          // faces about to be stored
    int recognition_off; // set when the owner turned recognition off meanwhile
};
static int finish_in_tx(void *ctx, struct store *s) {
    struct fence *f = ctx;
    if (f->faces > 0) { // checked again under the write lock: off means no face is stored
        int on = 1, rc = store_user_get_recognition(s, f->j->owner, &on);
        if (rc) return rc;
        if (!on) {
            f->recognition_off = 1;
            return fh_fail(FH_E_ARG, "worker: face recognition was turned off during the job");
        }
    }
    int rc = store_job_finish(s, f->j->id, f->j->token, f->ok, f->error);
    if (!rc && !f->j->cluster) rc = store_job_enqueue(s, f->j->owner, STORE_JOB_CLUSTER, "", NULL, NULL, 0, NULL);
    return rc;
}

// finish without results (unchanged, gave up, cluster): a transaction of its own
static int finish_alone(struct lib *L, const struct job *j, int ok, const char *error) {
    int rc = store_begin(L->s);
    if (!rc) rc = store_job_finish(L->s, j->id, j->token, ok, error);
    if (!rc) rc = store_commit(L->s);
    if (rc) store_rollback(L->s);
    return rc;
}

// the owner's person index, reused for a few seconds (faces other workers commit meanwhile
// only miss this shortcut; the cluster job after them sees every face)
struct px_keep {
    int64_t owner;
    double at;
    struct persons_index px;
    int valid;
};
enum { PX_KEEP_MS = 5000 };

static int px_get(struct lib *L, struct px_keep *k, int64_t owner, struct persons_index **px) {
    double now = fh_now_ms();
    if (!k->valid || k->owner != owner || now - k->at > PX_KEEP_MS) {
        lib_persons_free(&k->px);
        memset(&k->px, 0, sizeof k->px);
        k->valid = 0;
        int rc = lib_persons_load(L, owner, &k->px);
        if (rc) return rc;
        k->valid = 1, k->owner = owner, k->at = now;
    }
    *px = &k->px;
    return FH_OK;
}

static void say(const struct lib_worker_options *w, const struct job *j, const char *what, int faces) {
    if (w->report) w->report(w->report_ctx, j->id, j->cluster ? STORE_JOB_CLUSTER : STORE_JOB_INDEX, j->path, what, faces);
}

static int run_index(struct lib *L, struct fh_engine *e, const struct lib_options *o,
                     const struct lib_worker_options *w, struct px_keep *keep, const struct job *j,
                     struct lib_worker_stats *st) {
    int64_t size = (int64_t)j->n, mtime = 0;
    uint8_t *buf = NULL;
    size_t n = 0;
    const uint8_t *bytes = j->data;
    struct lib_result *r = NULL;
    if (!j->data) { // a photo on disk: skip it if committed as it is now
        struct stat sb;
        struct store_photo p;
        if (!stat(j->path, &sb)) {
            size = (int64_t)sb.st_size, mtime = (int64_t)sb.st_mtime;
            int f = store_photo_find(L->s, j->owner, j->path, &p);
            if (f == FH_OK && p.size == size && p.mtime == mtime) {
                int rc = finish_alone(L, j, 1, NULL);
                if (rc == FH_E_NOTFOUND) return st->lost++, say(w, j, "lease lost", 0), FH_OK;
                if (!rc) st->unchanged++, say(w, j, "unchanged", 0);
                return rc;
            }
            if (f != FH_OK && f != FH_E_NOTFOUND) return f;
        }
        if (fh_read_file(j->path, FH_MAX_IMAGE_FILE_BYTES, &buf, &n)) {
            r = fh_calloc(1, sizeof *r);
            if (!r) return fh_fail(FH_E_NOMEM, "worker: out of memory");
            r->failed = 1;
            snprintf(r->error, sizeof r->error, "%s", fh_errmsg());
        }
        bytes = buf;
    }
    // read per job: faces must never be stored after the owner turned recognition off
    struct persons_index *px = NULL, none = {0};
    int on = 1, rc = store_user_get_recognition(L->s, j->owner, &on);
    if (!rc) rc = on ? px_get(L, keep, j->owner, &px) : (px = &none, FH_OK);
    double ta = fh_now_ms();
    if (!rc && !r) {
        r = on ? lib_analyse(e, o, bytes, j->data ? j->n : n) : lib_analyse_no_faces(bytes, j->data ? j->n : n);
        if (!r) rc = fh_fail(FH_E_NOMEM, "worker: out of memory");
    }
    fh_free(buf);
    st->t_analyse += (fh_now_ms() - ta) / 1e3;
    if (rc) {
        lib_result_free(r);
        return rc;
    }
    r->orig_name = j->orig_name;
    struct lib_stats ls = {0};
    struct fence f = {j, !r->failed, r->failed ? r->error : NULL, r->failed ? 0 : r->n, 0};
    double tc = fh_now_ms();
    L->in_tx = finish_in_tx, L->in_tx_ctx = &f;
    rc = lib_commit_photo(L, j->owner, px, o, j->path, size, mtime, r, &ls);
    L->in_tx = NULL, L->in_tx_ctx = NULL;
    st->t_commit += (fh_now_ms() - tc) / 1e3;
    int failed = r->failed;
    lib_result_free(r);
    if (f.recognition_off) { // nothing written; the job comes back after its lease, then without faces
        keep->valid = 0;
        say(w, j, "retry: recognition turned off", 0);
        return FH_OK;
    }
    if (rc == FH_E_NOTFOUND) { // the lease went to another worker: nothing was written
        keep->valid = 0;       // px may hold faces that were rolled back
        st->lost++;
        say(w, j, "lease lost", 0);
        return FH_OK;
    }
    if (rc) {
        keep->valid = 0;
        return rc;
    }
    st->faces += ls.faces;
    if (failed) st->failed++, say(w, j, "failed", 0);
    else if (ls.unchanged) st->unchanged++, say(w, j, "unchanged", 0);
    else st->indexed++, say(w, j, "indexed", ls.faces);
    return FH_OK;
}

static int run_cluster(struct lib *L, const struct lib_options *o, const struct lib_worker_options *w,
                       struct px_keep *keep, const struct job *j, struct lib_worker_stats *st) {
    struct lib_stats ls = {0};
    double t0 = fh_now_ms();
    int rc = lib_cluster_unknowns(L, j->owner, o, &ls);
    st->t_cluster += (fh_now_ms() - t0) / 1e3;
    keep->valid = 0; // persons changed
    if (!rc) rc = finish_alone(L, j, 1, NULL);
    if (rc == FH_E_NOTFOUND) return st->lost++, say(w, j, "lease lost", 0), FH_OK;
    if (rc) return rc;
    st->clustered++;
    st->persons_new += ls.persons_new;
    say(w, j, "clustered", ls.persons_new);
    return FH_OK;
}

int lib_cluster_unknowns(struct lib *L, int64_t owner, const struct lib_options *o, struct lib_stats *st) {
    int rc = lib_promote_unknowns(L, owner, o, st);
    return rc ? rc : lib_update_avatars(L, owner);
}

int lib_worker_run(struct lib *L, const struct lib_options *o, const struct lib_worker_options *w_in,
                   struct lib_worker_stats *st) {
    memset(st, 0, sizeof *st);
    double t0 = fh_now_ms();
    struct lib_worker_options w = *w_in;
    if (w.lease_s <= 0) w.lease_s = 60;
    if (w.idle_ms <= 0) w.idle_ms = 100;
    char name[STORE_NAME_MAX];
    if (!w.name || !w.name[0]) {
        char host[128] = "?";
        gethostname(host, sizeof host - 1);
        snprintf(name, sizeof name, "%s:%d", host, (int)getpid());
        w.name = name;
    }
    int rc = lib_model_check(L);
    if (!rc) rc = lib_models(L);
    struct fh_engine *e = NULL;
    if (!rc) rc = fh_engine_new(L->m, o->threads, &e);
    if (rc) return rc;
    struct beat b = {.lease_s = w.lease_s};
    pthread_mutex_init(&b.mu, NULL);
    pthread_cond_init(&b.cv, NULL);
    pthread_t bt;
    int beating = 0;
    rc = store_open_ex(L->db_path, STORE_OPEN_EXISTING, &b.s);
    if (!rc) beating = !pthread_create(&bt, NULL, beat_main, &b);
    if (!rc && !beating) rc = fh_fail(FH_E_NOMEM, "worker: cannot start the heartbeat thread");
    struct px_keep keep = {0};
    st->t_start = (fh_now_ms() - t0) / 1e3;
    while (!rc && !(w.stop && *w.stop)) {
        struct store_job sj;
        struct job j;
        double tq = fh_now_ms();
        rc = store_job_claim(L->s, w.name, w.lease_s, &sj);
        if (rc != FH_E_NOTFOUND) st->t_commit += (fh_now_ms() - tq) / 1e3;
        if (rc == FH_E_NOTFOUND) {
            double ti = fh_now_ms();
            // idle: with exit_when_idle, leave once nothing is queued or running anywhere
            // (a job whose worker died comes back when its lease runs out: wait for it)
            struct store_job_counts c;
            rc = store_jobs_count(L->s, 0, NULL, &c);
            if (rc) break;
            if (w.exit_when_idle && !c.queued && !c.running) break;
            for (int waited = 0; waited < w.idle_ms && !(w.stop && *w.stop); waited += 50) usleep(50 * 1000);
            st->t_idle += (fh_now_ms() - ti) / 1e3;
            continue;
        }
        if (rc || (rc = job_copy(&sj, &j))) break;
        st->jobs++;
        beat_set(&b, j.id, j.token);
        if (j.attempts >= LIB_JOB_MAX_ATTEMPTS) {
            rc = finish_alone(L, &j, 0, "gave up: this job's worker stopped before finishing it each time");
            if (rc == FH_E_NOTFOUND) rc = FH_OK;
            if (!rc) st->failed++, say(&w, &j, "gave up", 0);
        } else if (j.cluster) {
            rc = run_cluster(L, o, &w, &keep, &j, st);
        } else {
            rc = run_index(L, e, o, &w, &keep, &j, st);
        }
        beat_set(&b, 0, 0);
        job_free(&j);
    }
    if (beating) {
        pthread_mutex_lock(&b.mu);
        b.quit = 1;
        pthread_cond_signal(&b.cv);
        pthread_mutex_unlock(&b.mu);
        pthread_join(bt, NULL);
    }
    store_close(b.s);
    pthread_mutex_destroy(&b.mu);
    pthread_cond_destroy(&b.cv);
    if (keep.valid) lib_persons_free(&keep.px);
    fh_engine_free(e);
    st->seconds = (fh_now_ms() - t0) / 1e3;
    return rc;
}
