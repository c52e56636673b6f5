// SPDX-License-Identifier: MIT
// Indexing: walk folders, decode + detect + embed on worker threads (one engine each),
// commit each photo in its own transaction on the calling thread (the only one that
// touches the store), then let unknown faces form new persons.
//
//   main thread: walk -> to-do list ------------------------------> commit photo k (1 txn)
//   workers:          read, sha256, decode, faces, gates, thumbs --^   (queue of results)
//
// Crash safety: a photo is either fully in the database (row + faces + assignments) or
// not at all; a rerun skips what is committed (same size and mtime), so kill -9 at any
// moment loses at most the photos in flight and never duplicates a face.
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "align/align.h"
#include "library/head.h"
#include "library/library_int.h"

struct lib_options lib_options_default(void) {
    return (struct lib_options){.min_face = LIB_MIN_FACE, .flip = 1, .cluster_t = LIB_CLUSTER_T,
                                .min_person_faces = 3, .thumb_size = 96};
}

int lib_open(const char *db_path, const char *models_dir, struct lib **out) {
    return lib_open_embedder(db_path, models_dir, NULL, out);
}

static char *dup_str(const char *t) {
    char *c = fh_malloc(strlen(t) + 1);
    if (c) strcpy(c, t);
    return c;
}

int lib_open_embedder(const char *db_path, const char *models_dir, const char *embedder, struct lib **out) {
    return lib_open_ex(db_path, models_dir, embedder, 0, 0, out);
}

int lib_open_ex(const char *db_path, const char *models_dir, const char *embedder, int store_flags,
                int load_flags, struct lib **out) {
    *out = NULL;
    struct lib *L = fh_calloc(1, sizeof *L);
    if (!L) return fh_fail(FH_E_NOMEM, "library: out of memory");
    pthread_mutex_init(&L->engine_mu, NULL);
    L->load_flags = load_flags;
    // before the store: a bad file (or no int8 scales for it) changes nothing
    int rc = fh_embedder_identify_flags(embedder, load_flags, &L->emb_id);
    if (!rc) rc = store_open_ex(db_path, store_flags, &L->s);
    if (!rc && !(L->models_dir = dup_str(models_dir))) rc = fh_fail(FH_E_NOMEM, "library: out of memory");
    if (!rc && !(L->db_path = dup_str(db_path))) rc = fh_fail(FH_E_NOMEM, "library: out of memory");
    if (!rc && embedder && !(L->embedder = dup_str(embedder))) rc = fh_fail(FH_E_NOMEM, "library: out of memory");
    if (rc) {
        lib_close(L);
        return rc;
    }
    *out = L;
    return FH_OK;
}

void lib_close(struct lib *L) {
    if (!L) return;
    store_close(L->s);
    lib_query_free(L);
    fh_models_free(L->m);
    pthread_mutex_destroy(&L->engine_mu);
    fh_free(L->models_dir);
    fh_free(L->db_path);
    fh_free(L->embedder);
    fh_free(L);
}

struct store *lib_store(struct lib *L) { return L->s; }

int lib_models(struct lib *L) {
    pthread_mutex_lock(&L->engine_mu);
    int rc = L->m ? FH_OK : fh_models_load_embedder(L->models_dir, L->load_flags, L->embedder, &L->m);
    pthread_mutex_unlock(&L->engine_mu);
    return rc;
}

// ---- walking ------------------------------------------------------------------------------
struct file {
    char *path;
    int64_t size, mtime;
};
struct files {
    struct file *v;
    int n, cap;
};

static int is_image_name(const char *name) {
    const char *dot = strrchr(name, '.');
    if (!dot) return 0;
    static const char *ext[] = {".jpg", ".jpeg", ".png", ".heic", ".heif", ".webp", ".jpe"};
    for (size_t i = 0; i < sizeof ext / sizeof *ext; i++)
        if (!strcasecmp(dot, ext[i])) return 1;
    return 0;
}

static int add_file(struct files *f, const char *path, const struct stat *st) {
    if (fh_grow((void **)&f->v, &f->cap, f->n + 1, sizeof *f->v)) return FH_E_NOMEM;
    char *p = fh_malloc(strlen(path) + 1);
    if (!p) return fh_fail(FH_E_NOMEM, "index: out of memory");
    strcpy(p, path);
    f->v[f->n++] = (struct file){p, (int64_t)st->st_size, (int64_t)st->st_mtime};
    return FH_OK;
}

// Recursive walk; symlinks are not followed (no loops), hidden entries are skipped.
static int walk(const char *dir, int depth, struct files *f) {
    if (depth > 64) return FH_OK;
    DIR *d = opendir(dir);
    if (!d) return fh_fail(FH_E_IO, "%s: %s", dir, strerror(errno));
    struct dirent *e;
    int rc = FH_OK;
    while (!rc && (e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char path[4096];
        if (snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >= (int)sizeof path) continue;
        struct stat st;
        if (lstat(path, &st)) continue;
        if (S_ISDIR(st.st_mode)) rc = walk(path, depth + 1, f);
        else if (S_ISREG(st.st_mode) && is_image_name(e->d_name)) rc = add_file(f, path, &st);
    }
    closedir(d);
    return rc;
}

static int cmp_file(const void *a, const void *b) {
    return strcmp(((const struct file *)a)->path, ((const struct file *)b)->path);
}

// ---- the work of one photo (worker side; no store access) ----------------------------------
void lib_result_free(struct lib_result *r) {
    if (!r) return;
    for (int i = 0; i < r->n; i++) fh_free(r->faces[i].thumb);
    fh_free(r->faces);
    fh_free(r);
}

const char *const lib_stage_names[LIB_T_N] = {"read", "sha256", "decode", "detect", "align+embed",
                                              "gates+thumbs", "commit", "cluster"};

struct lib_result *lib_analyse(struct fh_engine *e, const struct lib_options *o, const uint8_t *data,
                               size_t n) {
    struct lib_result *r = fh_calloc(1, sizeof *r);
    if (!r) return NULL;
    double t = fh_now_ms(), t1;
    fh_sha256_hex(data, n, r->sha256);
    r->ms[LIB_T_HASH] = (t1 = fh_now_ms()) - t, t = t1;
    struct img im = {0}, crop = {0}, th = {0};
    struct fh_face *faces;
    int k = 0, rc = img_decode_mem(data, n, &im);
    r->ms[LIB_T_DECODE] = (t1 = fh_now_ms()) - t, t = t1;
    struct fh_config cfg = fh_config_default();
    cfg.min_face = o->min_face, cfg.flip = o->flip, cfg.detector = o->detector;
    if (!rc) rc = fh_detect(e, &im, &cfg, &faces, &k);
    r->ms[LIB_T_DETECT] = (t1 = fh_now_ms()) - t, t = t1;
    if (!rc) rc = fh_embed(e, &im, &cfg, faces, k);
    r->ms[LIB_T_EMBED] = (t1 = fh_now_ms()) - t, t = t1;
    if (!rc && k && !(r->faces = fh_calloc((size_t)k, sizeof *r->faces))) rc = fh_fail(FH_E_NOMEM, "index: out of memory");
    if (!rc) rc = img_alloc(&crop, ALIGN_SIZE, ALIGN_SIZE, 3);
    for (int i = 0; !rc && i < k; i++) {
        struct lib_face *f = &r->faces[r->n++];
        f->f = faces[i];
        if ((rc = align_face_into(&im, faces[i].landmarks, &crop, NULL))) break;
        f->blur = lib_blur(&crop);
        f->blurry = lib_is_blurry_face(&crop, &faces[i], f->blur);
        float jx[LIB_JUNK_FEATURES];
        lib_junk_vector(faces[i].embedding, f->blur, lib_blur_half(&crop), faces[i].box[2] - faces[i].box[0] + 1,
                        faces[i].score, jx);
        f->trash = lib_is_trash(jx);
        f->quality = lib_quality(&faces[i], &crop, f->blur, k);
        if (!(rc = img_crop_resize(&im, faces[i].box[0], faces[i].box[1], faces[i].box[2], faces[i].box[3],
                                   o->thumb_size, &th)))
            rc = img_encode_jpeg(&th, 85, &f->thumb, &f->thumb_size);
        img_free(&th);
    }
    r->width = im.w, r->height = im.h;
    r->ms[LIB_T_GATES] = fh_now_ms() - t;
    if (rc) {
        r->failed = 1;
        snprintf(r->error, sizeof r->error, "%s", fh_errmsg());
    }
    img_free(&crop);
    img_free(&im);
    return r;
}

// ---- the queue between workers and the committing thread ------------------------------------
struct queue {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct lib *L;
    const struct lib_options *o;
    struct files *todo;
    int next;                  // next file to take
    struct lib_result **done;  // per file, NULL until finished
    int stop;
};

static void *worker(void *arg) {
    struct queue *q = arg;
    struct fh_engine *e = NULL;
    fh_engine_new(q->L->m, 1, &e);
    for (;;) {
        pthread_mutex_lock(&q->mu);
        int i = q->stop ? q->todo->n : q->next++;
        pthread_mutex_unlock(&q->mu);
        if (i >= q->todo->n) break;
        uint8_t *buf = NULL;
        size_t n = 0;
        struct lib_result *r;
        double t0 = fh_now_ms();
        if (!e || fh_read_file(q->todo->v[i].path, FH_MAX_IMAGE_FILE_BYTES, &buf, &n)) {
            r = fh_calloc(1, sizeof *r);
            if (r) r->failed = 1, snprintf(r->error, sizeof r->error, "%s", e ? fh_errmsg() : "no engine");
        } else {
            double t_read = fh_now_ms() - t0;
            r = lib_analyse(e, q->o, buf, n);
            if (r) r->ms[LIB_T_READ] = t_read;
        }
        fh_free(buf);
        pthread_mutex_lock(&q->mu);
        q->done[i] = r ? r : (struct lib_result *)&q->done; // sentinel: out of memory
        pthread_cond_broadcast(&q->cv);
        pthread_mutex_unlock(&q->mu);
    }
    fh_engine_free(e);
    return NULL;
}

static void report(const struct lib_options *o, int done, int total, int faces, double t0, const char *path) {
    if (!o->progress) return;
    struct lib_progress p = {done, total, faces, (fh_now_ms() - t0) / 1e3, path};
    o->progress(o->progress_ctx, &p);
}

// paths of photos in the store under one of the roots whose file is gone
struct gone_ctx {
    const char *const *roots;
    int n_roots;
    int64_t *ids;
    int n, cap;
};
static int collect_gone(void *ctx, const struct store_photo *p) {
    struct gone_ctx *g = ctx;
    int under = 0;
    for (int i = 0; i < g->n_roots && !under; i++) {
        size_t l = strlen(g->roots[i]);
        under = !strncmp(p->path, g->roots[i], l) && (p->path[l] == '/' || p->path[l] == 0);
    }
    struct stat st;
    if (!under || !stat(p->path, &st)) return 0;
    if (fh_grow((void **)&g->ids, &g->cap, g->n + 1, sizeof *g->ids)) return 1;
    g->ids[g->n++] = p->id;
    return 0;
}

// The roots' image files (all, sorted) and those not committed with the same size and
// mtime (todo). *roots gets the resolved roots (free with free_roots).
static int collect(struct lib *L, int64_t owner, const char *const *roots_in, int n_roots, char ***roots_out,
                   struct files *all, struct files *todo, struct lib_stats *st) {
    char **roots = fh_calloc((size_t)(n_roots ? n_roots : 1), sizeof *roots);
    *roots_out = roots;
    int rc = roots ? FH_OK : fh_fail(FH_E_NOMEM, "index: out of memory");
    for (int i = 0; !rc && i < n_roots; i++) {
        if (!(roots[i] = realpath(roots_in[i], NULL))) rc = fh_fail(FH_E_IO, "%s: %s", roots_in[i], strerror(errno));
        struct stat sb;
        if (!rc && !stat(roots[i], &sb) && !S_ISDIR(sb.st_mode)) {
            if (is_image_name(roots[i])) rc = add_file(all, roots[i], &sb);
            else rc = fh_fail(FH_E_ARG, "%s: not a folder or a photo", roots_in[i]);
        } else if (!rc) {
            rc = walk(roots[i], 0, all);
        }
    }
    if (!rc) qsort(all->v, (size_t)all->n, sizeof *all->v, cmp_file);
    st->files = all->n;
    // skip what is committed with the same size and mtime
    for (int i = 0; !rc && i < all->n; i++) {
        struct store_photo p;
        int f = store_photo_find(L->s, owner, all->v[i].path, &p);
        if (f == FH_OK && p.size == all->v[i].size && p.mtime == all->v[i].mtime) st->unchanged++;
        else if (f == FH_OK || f == FH_E_NOTFOUND) rc = add_file(todo, all->v[i].path, &(struct stat){.st_size = all->v[i].size, .st_mtime = all->v[i].mtime});
        else rc = f;
    }
    return rc;
}

static void free_files(struct files *f) {
    for (int i = 0; i < f->n; i++) fh_free(f->v[i].path);
    fh_free(f->v);
}
static void free_roots(char **roots, int n_roots) {
    for (int i = 0; roots && i < n_roots; i++) free(roots[i]);
    fh_free(roots);
}

// photos under the roots whose file is gone: deleted, one transaction each
static int delete_gone(struct lib *L, int64_t owner, char **roots, int n_roots, struct lib_stats *st) {
    struct gone_ctx g = {(const char *const *)roots, n_roots, NULL, 0, 0};
    int rc = store_photos_each(L->s, owner, collect_gone, &g);
    for (int i = 0; !rc && i < g.n; i++) {
        if (!(rc = store_begin(L->s)) && !(rc = store_photo_delete(L->s, owner, g.ids[i]))) rc = store_commit(L->s);
        if (rc) store_rollback(L->s);
        else st->deleted++;
    }
    fh_free(g.ids);
    return rc;
}

// indexing needs the owner's face recognition on and the library's model to be L's
static int ready_to_index(struct lib *L, int64_t owner) {
    int on = 1;
    int rc = store_user_get_recognition(L->s, owner, &on);
    if (rc) return rc;
    if (!on) return fh_fail(FH_E_ARG, "index: face recognition is off for this user (turn it on first)");
    return lib_model_check(L);
}

int lib_index(struct lib *L, int64_t owner, const char *const *roots_in, int n_roots, const struct lib_options *o,
              struct lib_stats *st) {
    memset(st, 0, sizeof *st);
    double t0 = fh_now_ms();
    struct files all = {0}, todo = {0};
    int rc = ready_to_index(L, owner);
    if (rc) return rc;
    char **roots = NULL;
    rc = collect(L, owner, roots_in, n_roots, &roots, &all, &todo, st);
    struct persons_index px = {0};
    if (!rc && todo.n) rc = lib_models(L);
    if (!rc && todo.n) rc = lib_persons_load(L, owner, &px);
    struct queue q = {.L = L, .o = o, .todo = &todo};
    pthread_t th[64];
    int nt = o->threads > 0 ? o->threads : fh_cpu_count(), started = 0;
    if (nt > 64) nt = 64;
    if (nt > todo.n) nt = todo.n ? todo.n : 1;
    if (!rc && todo.n) {
        q.done = fh_calloc((size_t)todo.n, sizeof *q.done);
        if (!q.done) rc = fh_fail(FH_E_NOMEM, "index: out of memory");
        pthread_mutex_init(&q.mu, NULL);
        pthread_cond_init(&q.cv, NULL);
        for (int t = 0; !rc && t < nt; t++) started += !pthread_create(&th[started], NULL, worker, &q);
        if (!rc && !started) rc = fh_fail(FH_E_NOMEM, "index: cannot start threads");
        // commit in file order as results arrive
        for (int i = 0; !rc && i < todo.n; i++) {
            pthread_mutex_lock(&q.mu);
            while (!q.done[i]) pthread_cond_wait(&q.cv, &q.mu);
            struct lib_result *r = q.done[i];
            pthread_mutex_unlock(&q.mu);
            if (r == (struct lib_result *)&q.done) { rc = fh_fail(FH_E_NOMEM, "index: out of memory"); break; }
            for (int s = 0; s < LIB_T_COMMIT; s++) st->stage_ms[s] += r->ms[s];
            double tc = fh_now_ms();
            rc = lib_commit_photo(L, owner, &px, o, todo.v[i].path, todo.v[i].size, todo.v[i].mtime, r, st);
            st->stage_ms[LIB_T_COMMIT] += fh_now_ms() - tc;
            lib_result_free(r);
            q.done[i] = (struct lib_result *)&q.done; // consumed
            report(o, i + 1, todo.n, st->faces, t0, todo.v[i].path);
        }
        pthread_mutex_lock(&q.mu);
        q.stop = 1;
        pthread_mutex_unlock(&q.mu);
        for (int t = 0; t < started; t++) pthread_join(th[t], NULL);
        for (int i = 0; i < todo.n; i++)
            if (q.done[i] && q.done[i] != (struct lib_result *)&q.done) lib_result_free(q.done[i]);
        fh_free(q.done);
        pthread_mutex_destroy(&q.mu);
        pthread_cond_destroy(&q.cv);
    }
    if (!rc) rc = delete_gone(L, owner, roots, n_roots, st);
    // persons and avatars only change when faces came or went (a re-run over an
    // unchanged library reads no embeddings)
    double tcl = fh_now_ms();
    if (!rc && (st->indexed || st->deleted)) rc = lib_promote_unknowns(L, owner, o, st);
    if (!rc && (st->indexed || st->deleted)) rc = lib_update_avatars(L, owner);
    st->stage_ms[LIB_T_CLUSTER] = fh_now_ms() - tcl;
    lib_persons_free(&px);
    free_files(&all);
    free_files(&todo);
    free_roots(roots, n_roots);
    st->seconds = (fh_now_ms() - t0) / 1e3;
    return rc;
}

int lib_enqueue(struct lib *L, int64_t owner, const char *const *roots_in, int n_roots, struct lib_stats *st,
                int *queued) {
    memset(st, 0, sizeof *st);
    *queued = 0;
    double t0 = fh_now_ms();
    struct files all = {0}, todo = {0};
    int rc = ready_to_index(L, owner);
    if (rc) return rc;
    char **roots = NULL;
    rc = collect(L, owner, roots_in, n_roots, &roots, &all, &todo, st);
    // one transaction: the queue gets all of this run's photos or none
    if (!rc && todo.n && !(rc = store_begin(L->s))) {
        for (int i = 0; !rc && i < todo.n; i++) {
            int added = 0;
            rc = store_job_enqueue(L->s, owner, STORE_JOB_INDEX, todo.v[i].path, NULL, NULL, 0, &added);
            *queued += added;
        }
        if (!rc) rc = store_commit(L->s);
        if (rc) store_rollback(L->s), *queued = 0;
    }
    if (!rc) rc = delete_gone(L, owner, roots, n_roots, st);
    if (!rc && st->deleted) rc = store_job_enqueue(L->s, owner, STORE_JOB_CLUSTER, "", NULL, NULL, 0, NULL);
    free_files(&all);
    free_files(&todo);
    free_roots(roots, n_roots);
    st->seconds = (fh_now_ms() - t0) / 1e3;
    return rc;
}

int lib_enqueue_upload(struct lib *L, int64_t owner, const char *path, const char *orig_name, const uint8_t *data,
                       size_t n) {
    return store_job_enqueue(L->s, owner, STORE_JOB_INDEX, path, orig_name, data, n, NULL);
}

// one photo from bytes: analysed on L's warm engine (one engine kept across uploads), committed
static int index_bytes(struct lib *L, int64_t owner, const char *name, const char *orig_name, const uint8_t *data,
                       size_t n, const struct lib_options *o, struct lib_stats *st) {
    memset(st, 0, sizeof *st);
    double t0 = fh_now_ms();
    struct lib_result *r;
    int rc = lib_model_check(L);
    if (!rc) rc = lib_analyse_warm(L, o, data, n, &r);
    if (rc) return rc;
    r->orig_name = orig_name;
    struct persons_index px = {0};
    rc = lib_persons_load(L, owner, &px);
    if (!rc) rc = lib_commit_photo(L, owner, &px, o, name, (int64_t)n, 0, r, st);
    lib_result_free(r);
    lib_persons_free(&px);
    if (!rc) rc = lib_promote_unknowns(L, owner, o, st);
    if (!rc) rc = lib_update_avatars(L, owner);
    st->files = 1;
    st->seconds = (fh_now_ms() - t0) / 1e3;
    return rc;
}

int lib_index_bytes(struct lib *L, int64_t owner, const char *name, const uint8_t *data, size_t n,
                    const struct lib_options *o, struct lib_stats *st) {
    return index_bytes(L, owner, name, NULL, data, n, o, st);
}

struct lib_result *lib_analyse_no_faces(const uint8_t *data, size_t n) {
    struct lib_result *r = fh_calloc(1, sizeof *r);
    if (!r) return NULL;
    fh_sha256_hex(data, n, r->sha256);
    struct img im = {0};
    if (img_decode_mem(data, n, &im)) {
        r->failed = 1;
        snprintf(r->error, sizeof r->error, "%s", fh_errmsg());
    }
    r->width = im.w, r->height = im.h;
    img_free(&im);
    return r;
}

int lib_index_upload(struct lib *L, int64_t owner, const char *path, const char *orig_name, const uint8_t *data,
                     size_t n, const struct lib_options *o, struct lib_stats *st) {
    memset(st, 0, sizeof *st);
    int on = 1;
    int rc = store_user_get_recognition(L->s, owner, &on);
    if (rc) return rc;
    if (on) return index_bytes(L, owner, path, orig_name, data, n, o, st);
    struct lib_result *r = lib_analyse_no_faces(data, n);
    if (!r) return fh_fail(FH_E_NOMEM, "index: out of memory");
    r->orig_name = orig_name;
    struct persons_index px = {0}; // no faces: nothing is looked up in it
    rc = lib_commit_photo(L, owner, &px, o, path, (int64_t)n, 0, r, st);
    lib_result_free(r);
    st->files = 1;
    return rc;
}
