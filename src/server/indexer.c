// SPDX-License-Identifier: MIT
// The background indexer: one thread with its own library handle (its own SQLite
// connection, B.8) takes stored uploads from a FIFO queue and indexes them one at a time,
// so requests never wait for the models. Each upload is indexed for its owner. Its progress
// per owner (queue length, the photo being indexed, counts, the last results) is read by
// GET /api/status.
// Enqueue mode (serve --enqueue-only, issue 10): no thread and no engine; each upload is put
// into the database's job queue with its bytes (store_job_enqueue) for `facehatch worker`
// processes anywhere, and the status is read from the queue.
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "base/base.h"
#include "library/library.h"
#include "server/server_int.h"

struct item {
    int64_t owner;
    char *path, *display;
    struct item *next;
};

struct counts {                // per owner, since the start
    int64_t owner;
    long submitted, finished, failed, faces;
};

struct result {
    int64_t owner;
    char file[80];             // stored name (sha256.ext)
    char name[SRV_NAME_MAX + 1];
    int status;                // 0 indexed, 1 failed, 2 unchanged
    int faces;
    char error[256];
};

struct srv_indexer {
    struct lib *L;
    int enqueue;               // jobs for workers instead of the thread (x->L under x->mu)
    struct lib_options o;
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int stop, started;
    struct item *head, *tail;
    const struct item *cur;    // the item being indexed (srv_indexer_pending)
    int queued;
    struct counts *counts;     // one per owner seen
    int n_counts, cap_counts;
    char current[SRV_NAME_MAX + 1];
    int busy;
    struct result recent[SRV_RECENT_MAX]; // ring, newest at (next - 1)
    int n_recent, next;
};

static const char *base_name(const char *p) {
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

// the owner's counts (created on first use; NULL when out of memory). Under x->mu.
static struct counts *counts_of(struct srv_indexer *x, int64_t owner, int create) {
    for (int i = 0; i < x->n_counts; i++)
        if (x->counts[i].owner == owner) return &x->counts[i];
    if (!create || fh_grow((void **)&x->counts, &x->cap_counts, x->n_counts + 1, sizeof *x->counts)) return NULL;
    x->counts[x->n_counts] = (struct counts){.owner = owner};
    return &x->counts[x->n_counts++];
}

static void index_one(struct srv_indexer *x, const struct item *it) {
    struct result r;
    memset(&r, 0, sizeof r);
    r.owner = it->owner;
    snprintf(r.file, sizeof r.file, "%s", base_name(it->path));
    snprintf(r.name, sizeof r.name, "%s", it->display);
    uint8_t *data = NULL;
    size_t n = 0;
    struct lib_stats st;
    memset(&st, 0, sizeof st);
    int rc = fh_read_file(it->path, FH_MAX_IMAGE_FILE_BYTES, &data, &n);
    // the display name is the sanitised name it was uploaded with (the file's own when re-queued)
    const char *orig = strcmp(it->display, base_name(it->path)) ? it->display : NULL;
    if (!rc) rc = lib_index_upload(x->L, it->owner, it->path, orig, data, n, &x->o, &st);
    fh_free(data);
    if (rc) {
        r.status = 1;
        snprintf(r.error, sizeof r.error, "%s", fh_errmsg());
    } else if (st.failed) {
        // the photo was recorded as unreadable: its row says why
        struct store_photo p;
        r.status = 1;
        if (!lib_photo_find(x->L, it->owner, it->path, &p) && p.error)
            snprintf(r.error, sizeof r.error, "%s", p.error);
        else snprintf(r.error, sizeof r.error, "could not be read");
    } else {
        r.status = st.indexed ? 0 : 2;
        r.faces = st.faces;
    }
    fh_log(r.status == 1 ? FH_LOG_WARN : FH_LOG_INFO, "index %s (%s): %s %s", r.file, r.name,
           r.status == 1 ? "failed:" : r.status == 2 ? "unchanged" : "indexed", r.error);
    pthread_mutex_lock(&x->mu);
    struct counts *c = counts_of(x, it->owner, 1);
    if (c) c->finished++, c->failed += r.status == 1, c->faces += r.faces;
    x->recent[x->next] = r;
    x->next = (x->next + 1) % SRV_RECENT_MAX;
    if (x->n_recent < SRV_RECENT_MAX) x->n_recent++;
    x->busy = 0;
    x->current[0] = 0;
    pthread_mutex_unlock(&x->mu);
}

static void *run(void *arg) {
    struct srv_indexer *x = arg;
    pthread_mutex_lock(&x->mu);
    for (;;) {
        while (!x->stop && !x->head) pthread_cond_wait(&x->cv, &x->mu);
        if (x->stop) break;
        struct item *it = x->head;
        x->head = it->next;
        if (!x->head) x->tail = NULL;
        x->queued--;
        x->busy = 1;
        snprintf(x->current, sizeof x->current, "%s", it->display);
        x->cur = it;
        pthread_mutex_unlock(&x->mu);
        index_one(x, it);
        pthread_mutex_lock(&x->mu);
        x->cur = NULL;
        fh_free(it->path), fh_free(it->display), fh_free(it);
    }
    pthread_mutex_unlock(&x->mu);
    return NULL;
}

int srv_indexer_start(const char *db, const char *models, const char *embedder, int int8, int threads, int enqueue,
                      struct srv_indexer **out) {
    *out = NULL;
    struct srv_indexer *x = fh_calloc(1, sizeof *x);
    if (!x) return fh_fail(FH_E_NOMEM, "out of memory");
    int rc = lib_open_ex(db, models, embedder, 0, int8 ? FH_LOAD_INT8 : 0, &x->L);
    if (rc) {
        fh_free(x);
        return rc;
    }
    x->o = lib_options_default();
    x->o.threads = threads;
    x->enqueue = enqueue;
    pthread_mutex_init(&x->mu, NULL);
    pthread_cond_init(&x->cv, NULL);
    if (!enqueue && pthread_create(&x->th, NULL, run, x)) {
        srv_indexer_stop(x);
        return fh_fail(FH_E_NOMEM, "indexer: cannot start a thread");
    }
    x->started = !enqueue;
    *out = x;
    return FH_OK;
}

// enqueue mode: the upload's bytes go into a job (a worker may run on another machine)
static int push_job(struct srv_indexer *x, int64_t owner, const char *path, const char *display) {
    uint8_t *data = NULL;
    size_t n = 0;
    int rc = fh_read_file(path, FH_MAX_IMAGE_FILE_BYTES, &data, &n);
    const char *orig = strcmp(display, base_name(path)) ? display : NULL;
    if (!rc) {
        pthread_mutex_lock(&x->mu);
        rc = lib_enqueue_upload(x->L, owner, path, orig, data, n);
        pthread_mutex_unlock(&x->mu);
    }
    fh_free(data);
    return rc;
}

int srv_indexer_push(struct srv_indexer *x, int64_t owner, const char *path, const char *display) {
    if (x->enqueue) return push_job(x, owner, path, display);
    struct item *it = fh_calloc(1, sizeof *it);
    if (it) it->path = fh_malloc(strlen(path) + 1), it->display = fh_malloc(strlen(display) + 1);
    if (!it || !it->path || !it->display) {
        if (it) fh_free(it->path), fh_free(it->display);
        fh_free(it);
        return fh_fail(FH_E_NOMEM, "out of memory");
    }
    strcpy(it->path, path), strcpy(it->display, display);
    it->owner = owner;
    pthread_mutex_lock(&x->mu);
    struct counts *c = counts_of(x, owner, 1);
    if (!c) {
        pthread_mutex_unlock(&x->mu);
        fh_free(it->path), fh_free(it->display), fh_free(it);
        return fh_fail(FH_E_NOMEM, "out of memory");
    }
    c->submitted++;
    if (x->tail) x->tail->next = it;
    else x->head = it;
    x->tail = it;
    x->queued++;
    pthread_cond_signal(&x->cv);
    pthread_mutex_unlock(&x->mu);
    return FH_OK;
}

int srv_indexer_pending(struct srv_indexer *x, const char *path) {
    if (x->enqueue) return 0; // the queue keeps one waiting job per photo itself
    pthread_mutex_lock(&x->mu);
    const struct item *it = x->head;
    while (it && strcmp(it->path, path)) it = it->next;
    int found = it || (x->cur && !strcmp(x->cur->path, path));
    pthread_mutex_unlock(&x->mu);
    return found;
}

// enqueue mode: the owner's jobs by state (running ones count as queued: some worker has them)
static void status_of_queue(struct srv_indexer *x, int64_t owner, struct srv_json *w) {
    struct store_job_counts c = {0};
    pthread_mutex_lock(&x->mu);
    int rc = store_jobs_count(lib_store(x->L), owner, STORE_JOB_INDEX, &c);
    pthread_mutex_unlock(&x->mu);
    if (rc) fh_log(FH_LOG_WARN, "status: %s", fh_errmsg());
    jw_obj(w);
    jw_key(w, "busy"), jw_bool(w, c.queued + c.running > 0);
    jw_key(w, "queued"), jw_int(w, c.queued + c.running);
    jw_key(w, "current"), jw_str(w, NULL);
    jw_key(w, "submitted"), jw_int(w, c.queued + c.running + c.done + c.failed);
    jw_key(w, "finished"), jw_int(w, c.done + c.failed);
    jw_key(w, "failed"), jw_int(w, c.failed);
    jw_key(w, "workers"), jw_str(w, "external");
    jw_key(w, "recent"), jw_arr(w);
    jw_arr_end(w);
    jw_obj_end(w);
}

void srv_indexer_status(struct srv_indexer *x, int64_t owner, struct srv_json *w, int n_recent) {
    if (x && x->enqueue) {
        status_of_queue(x, owner, w);
        return;
    }
    static struct srv_indexer idle; // x NULL (srv_open_for_test): an empty queue, no counts
    int locked = x != NULL;
    if (!x) x = &idle;
    if (locked) pthread_mutex_lock(&x->mu);
    int queued = 0, mine = x->busy && x->cur && x->cur->owner == owner;
    for (const struct item *it = x->head; it; it = it->next) queued += it->owner == owner;
    const struct counts *c = counts_of(x, owner, 0);
    struct counts none = {0};
    if (!c) c = &none;
    jw_obj(w);
    jw_key(w, "busy"), jw_bool(w, mine || queued > 0);
    jw_key(w, "queued"), jw_int(w, queued);
    jw_key(w, "current"), jw_str(w, mine ? x->current : NULL);
    jw_key(w, "submitted"), jw_int(w, c->submitted);
    jw_key(w, "finished"), jw_int(w, c->finished);
    jw_key(w, "failed"), jw_int(w, c->failed);
    jw_key(w, "faces"), jw_int(w, c->faces);
    jw_key(w, "recent"), jw_arr(w);
    for (int i = 0, k = 0; i < x->n_recent && k < n_recent; i++) {
        const struct result *r = &x->recent[(x->next - 1 - i + SRV_RECENT_MAX) % SRV_RECENT_MAX];
        static const char *const names[] = {"indexed", "failed", "unchanged"};
        if (r->owner != owner) continue;
        k++;
        jw_obj(w);
        jw_key(w, "file"), jw_str(w, r->file);
        jw_key(w, "name"), jw_str(w, r->name);
        jw_key(w, "status"), jw_str(w, names[r->status]);
        jw_key(w, "faces"), jw_int(w, r->faces);
        jw_key(w, "error"), jw_str(w, r->status == 1 ? r->error : NULL);
        jw_obj_end(w);
    }
    jw_arr_end(w);
    jw_obj_end(w);
    if (locked) pthread_mutex_unlock(&x->mu);
}

void srv_indexer_stop(struct srv_indexer *x) {
    if (!x) return;
    if (x->started) {
        pthread_mutex_lock(&x->mu);
        x->stop = 1;
        pthread_cond_signal(&x->cv);
        pthread_mutex_unlock(&x->mu);
        pthread_join(x->th, NULL);
    }
    for (struct item *it = x->head, *nx; it; it = nx) {
        nx = it->next;
        fh_free(it->path), fh_free(it->display), fh_free(it);
    }
    fh_free(x->counts);
    pthread_mutex_destroy(&x->mu);
    pthread_cond_destroy(&x->cv);
    lib_close(x->L);
    fh_free(x);
}
