// SPDX-License-Identifier: MIT
// The background indexer: one thread with its own library handle (its own SQLite
// connection, B.8) takes stored uploads from a FIFO queue and indexes them one at a time,
// so requests never wait for the models. Its progress (queue length, the photo being
// indexed, counts, the last results) is read by GET /api/status.
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "base/base.h"
#include "library/library.h"
#include "server/server_int.h"

struct item {
    char *path, *display;
    struct item *next;
};

struct result {
    char file[80];             // stored name (sha256.ext)
    char name[SRV_NAME_MAX + 1];
    int status;                // 0 indexed, 1 failed, 2 unchanged
    int faces;
    char error[256];
};

struct srv_indexer {
    struct lib *L;
    struct lib_options o;
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int stop, started;
    struct item *head, *tail;
    const struct item *cur;    // the item being indexed (srv_indexer_pending)
    int queued;
    long submitted, finished, failed, faces;
    char current[SRV_NAME_MAX + 1];
    int busy;
    struct result recent[SRV_RECENT_MAX]; // ring, newest at (next - 1)
    int n_recent, next;
};

static const char *base_name(const char *p) {
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

static void index_one(struct srv_indexer *x, const struct item *it) {
    struct result r;
    memset(&r, 0, sizeof r);
    snprintf(r.file, sizeof r.file, "%s", base_name(it->path));
    snprintf(r.name, sizeof r.name, "%s", it->display);
    uint8_t *data = NULL;
    size_t n = 0;
    struct lib_stats st;
    memset(&st, 0, sizeof st);
    int rc = fh_read_file(it->path, FH_MAX_IMAGE_FILE_BYTES, &data, &n);
    if (!rc) rc = lib_index_bytes(x->L, LIB_OWNER_LOCAL, it->path, data, n, &x->o, &st);
    fh_free(data);
    if (rc) {
        r.status = 1;
        snprintf(r.error, sizeof r.error, "%s", fh_errmsg());
    } else if (st.failed) {
        // the photo was recorded as unreadable: its row says why
        struct store_photo p;
        r.status = 1;
        if (!store_photo_find(lib_store(x->L), LIB_OWNER_LOCAL, it->path, &p) && p.error)
            snprintf(r.error, sizeof r.error, "%s", p.error);
        else snprintf(r.error, sizeof r.error, "could not be read");
    } else {
        r.status = st.indexed ? 0 : 2;
        r.faces = st.faces;
    }
    fh_log(r.status == 1 ? FH_LOG_WARN : FH_LOG_INFO, "index %s (%s): %s %s", r.file, r.name,
           r.status == 1 ? "failed:" : r.status == 2 ? "unchanged" : "indexed", r.error);
    pthread_mutex_lock(&x->mu);
    x->finished++;
    x->failed += r.status == 1;
    x->faces += r.faces;
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

int srv_indexer_start(const char *db, const char *models, int threads, struct srv_indexer **out) {
    *out = NULL;
    struct srv_indexer *x = fh_calloc(1, sizeof *x);
    if (!x) return fh_fail(FH_E_NOMEM, "out of memory");
    int rc = lib_open(db, models, &x->L);
    if (rc) {
        fh_free(x);
        return rc;
    }
    x->o = lib_options_default();
    x->o.threads = threads;
    pthread_mutex_init(&x->mu, NULL);
    pthread_cond_init(&x->cv, NULL);
    if (pthread_create(&x->th, NULL, run, x)) {
        srv_indexer_stop(x);
        return fh_fail(FH_E_NOMEM, "indexer: cannot start a thread");
    }
    x->started = 1;
    *out = x;
    return FH_OK;
}

int srv_indexer_push(struct srv_indexer *x, const char *path, const char *display) {
    struct item *it = fh_calloc(1, sizeof *it);
    if (it) it->path = fh_malloc(strlen(path) + 1), it->display = fh_malloc(strlen(display) + 1);
    if (!it || !it->path || !it->display) {
        if (it) fh_free(it->path), fh_free(it->display);
        fh_free(it);
        return fh_fail(FH_E_NOMEM, "out of memory");
    }
    strcpy(it->path, path), strcpy(it->display, display);
    pthread_mutex_lock(&x->mu);
    if (x->tail) x->tail->next = it;
    else x->head = it;
    x->tail = it;
    x->queued++;
    x->submitted++;
    pthread_cond_signal(&x->cv);
    pthread_mutex_unlock(&x->mu);
    return FH_OK;
}

int srv_indexer_pending(struct srv_indexer *x, const char *path) {
    pthread_mutex_lock(&x->mu);
    const struct item *it = x->head;
    while (it && strcmp(it->path, path)) it = it->next;
    int found = it || (x->cur && !strcmp(x->cur->path, path));
    pthread_mutex_unlock(&x->mu);
    return found;
}

void srv_indexer_status(struct srv_indexer *x, struct srv_json *w, int n_recent) {
    pthread_mutex_lock(&x->mu);
    jw_obj(w);
    jw_key(w, "busy"), jw_bool(w, x->busy || x->queued > 0);
    jw_key(w, "queued"), jw_int(w, x->queued);
    jw_key(w, "current"), jw_str(w, x->busy ? x->current : NULL);
    jw_key(w, "submitted"), jw_int(w, x->submitted);
    jw_key(w, "finished"), jw_int(w, x->finished);
    jw_key(w, "failed"), jw_int(w, x->failed);
    jw_key(w, "faces"), jw_int(w, x->faces);
    jw_key(w, "recent"), jw_arr(w);
    for (int i = 0; i < x->n_recent && i < n_recent; i++) {
        const struct result *r = &x->recent[(x->next - 1 - i + SRV_RECENT_MAX) % SRV_RECENT_MAX];
        static const char *const names[] = {"indexed", "failed", "unchanged"};
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
    pthread_mutex_unlock(&x->mu);
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
    pthread_mutex_destroy(&x->mu);
    pthread_cond_destroy(&x->cv);
    lib_close(x->L);
    fh_free(x);
}
