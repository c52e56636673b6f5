// SPDX-License-Identifier: MIT
// LFW helpers shared by the evals: list the data set, embed many images on all cores.
#include <dirent.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"

struct embed_job {
    const struct cli_opts *o;
    const struct fh_models *m;
    char **paths;      // unique image paths (relative to data root)
    float *emb;        // n x 192
    char *found;       // per image
    int n;
    int next;          // shared counter
    int progress;      // print progress on stderr
    pthread_mutex_t mu;
};

static void *worker(void *arg) {
    struct embed_job *j = arg;
    struct fh_engine *e;
    if (fh_engine_new(j->m, 1, &e)) return NULL;
    struct fh_config cfg = cli_config(j->o);
    for (;;) {
        pthread_mutex_lock(&j->mu);
        int i = j->next++;
        pthread_mutex_unlock(&j->mu);
        if (i >= j->n) break;
        char path[1024];
        snprintf(path, sizeof path, "%s/lfw/%s", j->o->data, j->paths[i]);
        if (j->progress && i % 1000 == 0) fprintf(stderr, "  embedding %d / %d\r", i, j->n);
        struct img im;
        struct fh_face *faces;
        int n, c;
        if (fh_image_load(path, &im)) continue;
        if (!fh_detect(e, &im, &cfg, &faces, &n) && (c = fh_central_face(faces, n, im.w, im.h)) >= 0 &&
            !fh_embed(e, &im, &cfg, &faces[c], 1)) {
            memcpy(j->emb + (size_t)i * FH_EMB_DIM, faces[c].embedding, sizeof(float) * FH_EMB_DIM);
            j->found[i] = 1;
        }
        img_free(&im);
    }
    fh_engine_free(e);
    return NULL;
}

int cli_embed_central(const struct cli_opts *o, const struct fh_models *m, char **paths, int n,
                      float *emb, char *found) {
    struct embed_job j = {.o = o, .m = m, .paths = paths, .n = n, .emb = emb, .found = found,
                          .progress = n > 2000 && isatty(2)};
    pthread_mutex_init(&j.mu, NULL);
    int nt = o->threads > 0 ? o->threads : fh_cpu_count();
    pthread_t th[64];
    if (nt > 64) nt = 64;
    int started = 0;
    for (int t = 0; t < nt; t++) started += !pthread_create(&th[started], NULL, worker, &j);
    if (!started) worker(&j);
    for (int t = 0; t < started; t++) pthread_join(th[t], NULL);
    pthread_mutex_destroy(&j.mu);
    int missing = 0;
    for (int i = 0; i < n; i++) missing += !found[i];
    return missing;
}

static int cmp_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

// sorted names of the entries of dir (files or folders), skipping dot files
static int list_dir(const char *dir, char ***out, int *n) {
    *out = NULL, *n = 0;
    DIR *d = opendir(dir);
    if (!d) return fh_fail(FH_E_IO, "%s: cannot open folder", dir);
    int cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        if (*n == cap) {
            cap = cap ? 2 * cap : 64;
            char **q = fh_realloc(*out, (size_t)cap * sizeof *q);
            if (!q) break;
            *out = q;
        }
        if (!((*out)[*n] = strdup(e->d_name))) break;
        (*n)++;
    }
    closedir(d);
    qsort(*out, (size_t)*n, sizeof **out, cmp_name);
    return FH_OK;
}

void cli_lfw_free(struct cli_lfw *l) {
    if (!l) return;
    for (int i = 0; i < l->n; i++) free(l->paths[i]);
    for (int i = 0; i < l->n_ids; i++) free(l->names[i]);
    fh_free(l->paths), fh_free(l->names), fh_free(l->label);
    memset(l, 0, sizeof *l);
}

int cli_lfw_list(const char *data, struct cli_lfw *l) {
    memset(l, 0, sizeof *l);
    char root[1024];
    snprintf(root, sizeof root, "%s/lfw/lfw-deepfunneled", data);
    int rc = list_dir(root, &l->names, &l->n_ids), cap = 0;
    for (int k = 0; !rc && k < l->n_ids; k++) {
        char sub[1200], **files;
        int nf;
        snprintf(sub, sizeof sub, "%s/%s", root, l->names[k]);
        if ((rc = list_dir(sub, &files, &nf))) break;
        for (int f = 0; f < nf; f++) {
            if (l->n == cap) {
                cap = cap ? 2 * cap : 16384;
                char **p = fh_realloc(l->paths, (size_t)cap * sizeof *p);
                int *lb = fh_realloc(l->label, (size_t)cap * sizeof *lb);
                if (p) l->paths = p;
                if (lb) l->label = lb;
                if (!p || !lb) { rc = fh_fail(FH_E_NOMEM, "lfw: out of memory"); break; }
            }
            char rel[600];
            snprintf(rel, sizeof rel, "lfw-deepfunneled/%s/%s", l->names[k], files[f]);
            l->paths[l->n] = strdup(rel);
            l->label[l->n++] = k;
            free(files[f]);
        }
        fh_free(files);
    }
    if (!rc && l->n == 0) rc = fh_fail(FH_E_IO, "%s: no images", root);
    if (rc) cli_lfw_free(l);
    return rc;
}
