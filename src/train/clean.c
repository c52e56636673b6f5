// SPDX-License-Identifier: MIT
// clean_dir: list the identity folders, embed every image on all cores (one engine per
// worker thread), then cluster each folder and give each image its verdict.
#include "train/clean.h"

#include <dirent.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cluster/cluster.h"

static const char *const REASONS[CLEAN_REASONS] = {"keep", "wrong_person", "no_face",
                                                   "several_faces", "unreadable", "junk"};

const char *clean_reason_name(int reason) {
    return reason >= 0 && reason < CLEAN_REASONS ? REASONS[reason] : NULL;
}

struct clean_options clean_options_default(void) {
    return (struct clean_options){.threshold = CLEAN_THRESHOLD, .linkage = CLEAN_AVERAGE,
                                  .junk_score = CLEAN_JUNK_SCORE, .junk_side = CLEAN_JUNK_SIDE,
                                  .min_faces = CLEAN_MIN_FACES, .threads = 0,
                                  .cfg = fh_config_default()};
}

// ---- listing ----

static int cmp_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int is_dir(const char *path) {
    struct stat st;
    return !stat(path, &st) && S_ISDIR(st.st_mode);
}

// sorted names of the entries of path that are folders (want_dir) or not; *n of them
static int list_names(const char *path, int want_dir, char ***out, int *n) {
    *out = NULL, *n = 0;
    DIR *d = opendir(path);
    if (!d) return fh_fail(FH_E_IO, "%s: cannot open folder", path);
    int cap = 0, rc = FH_OK;
    struct dirent *e;
    while (!rc && (e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        size_t len = strlen(path) + strlen(e->d_name) + 2;
        char *full = fh_malloc(len);
        if (!full) { rc = fh_fail(FH_E_NOMEM, "clean: out of memory listing %s", path); break; }
        snprintf(full, len, "%s/%s", path, e->d_name);
        int dir = is_dir(full);
        fh_free(full);
        if (dir != want_dir) continue;
        if (*n >= CLEAN_MAX_IMAGES) { rc = fh_fail(FH_E_LIMIT, "%s: more than %d entries", path, CLEAN_MAX_IMAGES); break; }
        if (fh_grow((void **)out, &cap, *n + 1, sizeof **out) || !((*out)[*n] = strdup(e->d_name)))
            rc = fh_fail(FH_E_NOMEM, "clean: out of memory listing %s", path);
        else (*n)++;
    }
    closedir(d);
    if (rc) {
        for (int i = 0; i < *n; i++) free((*out)[i]);
        fh_free(*out), *out = NULL, *n = 0;
        return rc;
    }
    if (*n) qsort(*out, (size_t)*n, sizeof **out, cmp_name);
    return FH_OK;
}

// ---- embedding on all cores ----

struct job {
    const struct fh_models *m;
    const struct clean_options *o;
    const char *dir;
    struct clean_report *r;
    int *fold_of;          // image index -> folder
    int *file_of;          // image index -> file in that folder
    long n, next;
    int nomem;
    pthread_mutex_t mu;
};

static int by_score_desc(const void *a, const void *b) {
    float sa = ((const struct fh_face *)a)->score, sb = ((const struct fh_face *)b)->score;
    return (sa < sb) - (sa > sb);
}

static void embed_one(struct job *j, struct fh_engine *e, long i) {
    struct clean_folder *f = &j->r->folders[j->fold_of[i]];
    struct clean_file *cf = &f->files[j->file_of[i]];
    size_t len = strlen(j->dir) + strlen(f->name) + strlen(cf->name) + 3;
    char *path = fh_malloc(len);
    if (!path) { __atomic_store_n(&j->nomem, 1, __ATOMIC_RELAXED); return; }
    snprintf(path, len, "%s/%s/%s", j->dir, f->name, cf->name);
    struct img im = {0};
    struct fh_face *faces;
    int n = 0;
    int rc = fh_image_load(path, &im);
    if (!rc) rc = fh_detect(e, &im, &j->o->cfg, &faces, &n);
    if (!rc && n > 0) {
        qsort(faces, (size_t)n, sizeof *faces, by_score_desc);
        cf->n_faces = n;
        if (n > CLEAN_MAX_FACES_PER_IMAGE) n = CLEAN_MAX_FACES_PER_IMAGE;
        rc = fh_embed(e, &im, &j->o->cfg, faces, n);
    }
    fh_free(path);
    if (rc) {
        cf->n_faces = 0;
        cf->reason = CLEAN_UNREADABLE;
        if (!(cf->error = strdup(fh_errmsg()))) __atomic_store_n(&j->nomem, 1, __ATOMIC_RELAXED);
        img_free(&im);
        return;
    }
    if (n > 0) {
        cf->emb = fh_malloc((size_t)n * FH_EMB_DIM * sizeof(float));
        if (!cf->emb) { __atomic_store_n(&j->nomem, 1, __ATOMIC_RELAXED); img_free(&im); return; }
        for (int k = 0; k < n; k++) memcpy(cf->emb + (size_t)k * FH_EMB_DIM, faces[k].embedding, sizeof faces[k].embedding);
        cf->n_emb = n;
        int w = faces[0].box[2] - faces[0].box[0] + 1, h = faces[0].box[3] - faces[0].box[1] + 1;
        cf->side = w < h ? w : h;
        cf->score = faces[0].score;
    }
    img_free(&im);
}

static void *worker(void *arg) {
    struct job *j = arg;
    struct fh_engine *e;
    if (fh_engine_new(j->m, 1, &e)) return NULL;
    for (;;) {
        pthread_mutex_lock(&j->mu);
        long i = j->next++;
        pthread_mutex_unlock(&j->mu);
        if (i >= j->n) break;
        embed_one(j, e, i);
    }
    fh_engine_free(e);
    return NULL;
}

// runs the workers; FH_OK, or an error when no engine could be made
static int embed_all(struct job *j) {
    int nt = j->o->threads > 0 ? j->o->threads : fh_cpu_count();
    if (nt > 256) nt = 256;
    if ((long)nt > j->n) nt = j->n > 0 ? (int)j->n : 1;
    pthread_t th[256];
    int started = 0;
    for (int t = 0; t < nt; t++) started += !pthread_create(&th[started], NULL, worker, j);
    if (!started) {
        struct fh_engine *e;
        int rc = fh_engine_new(j->m, 1, &e);
        if (rc) return rc;
        for (long i = 0; i < j->n; i++) embed_one(j, e, i);
        j->next = j->n;
        fh_engine_free(e);
    }
    for (int t = 0; t < started; t++) pthread_join(th[t], NULL);
    if (j->next < j->n) return fh_fail(FH_E_NOMEM, "clean: no engine could be started");
    return j->nomem ? fh_fail(FH_E_NOMEM, "clean: out of memory") : FH_OK;
}

// ---- clustering one folder ----

// clusters the faces of folder f (images first..first+f->n_files-1) and sets verdicts
static int judge_folder(struct clean_folder *f, const struct clean_options *o) {
    const struct clean_file *fo = f->files;
    int nf = 0, with_face = 0;
    for (int i = 0; i < f->n_files; i++) nf += fo[i].n_emb, with_face += fo[i].n_emb > 0;
    f->n_with_face = with_face;
    f->judged = 0, f->n_main = 0;
    for (int i = 0; i < f->n_files; i++) {
        f->files[i].dist = -1;
        if (f->files[i].reason != CLEAN_UNREADABLE) f->files[i].reason = CLEAN_KEEP;
    }
    if (with_face < o->min_faces) return FH_OK;
    float *x = fh_malloc((size_t)nf * FH_EMB_DIM * sizeof(float));
    int64_t *photo = fh_malloc((size_t)nf * sizeof *photo);
    int *label = fh_malloc((size_t)nf * sizeof *label);
    int *count = fh_calloc((size_t)nf, sizeof *count);
    struct clus_edge *e = NULL;
    size_t ne = 0;
    int rc = x && photo && label && count ? FH_OK : fh_fail(FH_E_NOMEM, "clean: out of memory");
    for (int i = 0, k = 0; !rc && i < f->n_files; i++)
        for (int q = 0; q < fo[i].n_emb; q++, k++) {
            memcpy(x + (size_t)k * FH_EMB_DIM, fo[i].emb + (size_t)q * FH_EMB_DIM, FH_EMB_DIM * sizeof(float));
            photo[k] = i;
        }
    float cutoff = o->threshold + 0.2f;
    if (cutoff > 2.01f) cutoff = 2.01f;
    if (!rc) rc = clus_graph_i8(x, nf, FH_EMB_DIM, cutoff, NULL, 0, &e, &ne);
    int k = 0;
    if (!rc) {
        struct clus_constraints c = {.photo = photo};
        k = o->linkage == CLEAN_SINGLE ? clus_components(nf, e, ne, o->threshold, label)
                                       : clus_average_c(nf, e, ne, cutoff, o->threshold, &c, label);
        if (k < 0) rc = k;
    }
    if (!rc) {
        // main cluster: the most images (single linkage may hold two faces of one photo)
        int *last = fh_malloc((size_t)(k > 0 ? k : 1) * sizeof *last);
        if (!last) rc = fh_fail(FH_E_NOMEM, "clean: out of memory");
        for (int c = 0; !rc && c < k; c++) last[c] = -1;
        for (int i = 0, q = 0; !rc && i < f->n_files; i++)
            for (int t = 0; t < fo[i].n_emb; t++, q++)
                if (last[label[q]] != i) last[label[q]] = i, count[label[q]]++;
        fh_free(last);
    }
    int best = -1, second = 0;
    for (int c = 0; !rc && c < k; c++) {
        if (best < 0 || count[c] > count[best]) {
            if (best >= 0) second = count[best];
            best = c;
        } else if (count[c] > second) second = count[c];
    }
    if (!rc && best >= 0 && count[best] >= o->min_faces && count[best] > second) {
        f->judged = 1;
        f->n_main = count[best];
        float mean[FH_EMB_DIM] = {0};
        for (int q = 0; q < nf; q++)
            if (label[q] == best)
                for (int d = 0; d < FH_EMB_DIM; d++) mean[d] += x[(size_t)q * FH_EMB_DIM + d];
        double nn = 0;
        for (int d = 0; d < FH_EMB_DIM; d++) nn += (double)mean[d] * mean[d];
        float inv = nn > 0 ? (float)(1 / sqrt(nn)) : 0;
        for (int d = 0; d < FH_EMB_DIM; d++) mean[d] *= inv;
        for (int i = 0, q = 0; i < f->n_files; i++) {
            struct clean_file *cf = &f->files[i];
            int in_main = 0;
            for (int t = 0; t < fo[i].n_emb; t++, q++) {
                in_main |= label[q] == best;
                float d = fh_distance(mean, x + (size_t)q * FH_EMB_DIM);
                if (cf->dist < 0 || d < cf->dist) cf->dist = d;
            }
            if (cf->reason == CLEAN_UNREADABLE || in_main) continue;
            if (fo[i].n_emb == 0) cf->reason = CLEAN_NO_FACE;
            else if (cf->n_faces > 1) cf->reason = CLEAN_SEVERAL_FACES;
            else if ((o->junk_score > 0 && cf->score < o->junk_score) || (o->junk_side > 0 && fo[i].side < o->junk_side))
                cf->reason = CLEAN_JUNK;
            else cf->reason = CLEAN_WRONG_PERSON;
        }
    }
    fh_free(x), fh_free(photo), fh_free(label), fh_free(count), fh_free(e);
    return rc;
}

// ---- the whole run ----

static int check_options(const struct clean_options *o);

void clean_report_free(struct clean_report *r) {
    if (!r) return;
    for (int i = 0; i < r->n_folders; i++) {
        struct clean_folder *f = &r->folders[i];
        for (int k = 0; k < f->n_files; k++)
            free(f->files[k].name), free(f->files[k].error), fh_free(f->files[k].emb);
        fh_free(f->files);
        free(f->name);
    }
    fh_free(r->folders);
    *r = (struct clean_report){0};
}

// lists dir into r (folders and their files, verdicts KEEP)
static int scan(const char *dir, struct clean_report *r) {
    char **names;
    int n;
    int rc = list_names(dir, 1, &names, &n);
    if (rc) return rc;
    if (n == 0) {
        fh_free(names);
        return fh_fail(FH_E_NOTFOUND, "%s: no identity folders in it (expected DIR/<identity>/<images>)", dir);
    }
    r->folders = fh_calloc((size_t)n, sizeof *r->folders);
    if (!r->folders) rc = fh_fail(FH_E_NOMEM, "clean: out of memory");
    for (int i = 0; i < n; i++) {
        if (rc) { free(names[i]); continue; }
        struct clean_folder *f = &r->folders[r->n_folders++];
        f->name = names[i];
        size_t len = strlen(dir) + strlen(names[i]) + 2;
        char *sub = fh_malloc(len);
        char **files = NULL;
        int nfiles = 0;
        if (!sub) rc = fh_fail(FH_E_NOMEM, "clean: out of memory");
        else snprintf(sub, len, "%s/%s", dir, names[i]), rc = list_names(sub, 0, &files, &nfiles);
        fh_free(sub);
        if (!rc && r->n_images + nfiles > CLEAN_MAX_IMAGES)
            rc = fh_fail(FH_E_LIMIT, "%s: more than %d images", dir, CLEAN_MAX_IMAGES);
        if (!rc && nfiles && !(f->files = fh_calloc((size_t)nfiles, sizeof *f->files)))
            rc = fh_fail(FH_E_NOMEM, "clean: out of memory");
        for (int k = 0; k < nfiles; k++) {
            if (rc) { free(files[k]); continue; }
            f->files[f->n_files++] = (struct clean_file){.name = files[k], .dist = -1};
        }
        r->n_images += f->n_files;
        fh_free(files);
    }
    fh_free(names);
    return rc;
}

int clean_dir(const struct fh_models *m, const char *dir, const struct clean_options *o,
              struct clean_report *out) {
    *out = (struct clean_report){0};
    if (!m || !dir || !o) return fh_fail(FH_E_ARG, "clean: NULL argument");
    int rc = check_options(o);
    if (rc) return rc;
    struct clean_report r = {0};
    rc = scan(dir, &r);
    struct job j = {.m = m, .o = o, .dir = dir, .r = &r, .n = r.n_images};
    if (!rc && r.n_images) {
        j.fold_of = fh_malloc((size_t)r.n_images * sizeof *j.fold_of);
        j.file_of = fh_malloc((size_t)r.n_images * sizeof *j.file_of);
        if (!j.fold_of || !j.file_of) rc = fh_fail(FH_E_NOMEM, "clean: out of memory");
        for (long i = 0, q = 0; !rc && i < r.n_folders; i++)
            for (int k = 0; k < r.folders[i].n_files; k++, q++) j.fold_of[q] = (int)i, j.file_of[q] = k;
        if (!rc) {
            pthread_mutex_init(&j.mu, NULL);
            rc = embed_all(&j);
            pthread_mutex_destroy(&j.mu);
        }
    }
    fh_free(j.fold_of), fh_free(j.file_of);
    if (!rc) rc = clean_judge(&r, o);
    if (rc) {
        clean_report_free(&r);
        return rc;
    }
    *out = r;
    return FH_OK;
}

static int check_options(const struct clean_options *o) {
    if (!(o->threshold > 0 && o->threshold <= 2) || o->min_faces < 1 ||
        (o->linkage != CLEAN_AVERAGE && o->linkage != CLEAN_SINGLE) || o->junk_score < 0 || o->junk_side < 0)
        return fh_fail(FH_E_ARG, "clean: bad options (threshold in (0, 2], min_faces >= 1)");
    return FH_OK;
}

int clean_judge(struct clean_report *r, const struct clean_options *o) {
    if (!r || !o) return fh_fail(FH_E_ARG, "clean: NULL argument");
    int rc = check_options(o);
    for (int i = 0; !rc && i < r->n_folders; i++) rc = judge_folder(&r->folders[i], o);
    r->n_flagged = 0;
    for (int i = 0; i < r->n_folders; i++)
        for (int k = 0; k < r->folders[i].n_files; k++) r->n_flagged += r->folders[i].files[k].reason != CLEAN_KEEP;
    return rc;
}
