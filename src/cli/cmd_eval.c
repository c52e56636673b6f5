// SPDX-License-Identifier: MIT
// facehatch eval lfw: the LFW verification protocol on ../shared/data/lfw.
//   --view 1: threshold chosen on pairsDevTrain.txt, accuracy on pairsDevTest.txt
//   --view 2: pairs.txt, 10 folds, each fold's threshold chosen on the other nine
// Each image's most central face is embedded (min face 40 px by default here, as the
// reference measurement); an image with no face gives distance +inf (counted wrong for
// a same pair, never dropped).   Images are embedded by one engine per core.
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "eval/eval.h"

struct job {
    const struct cli_opts *o;
    const struct fh_models *m;
    char **paths;      // unique image paths (relative to data root)
    float *emb;        // n x 192
    char *found;       // per image
    int n;
    int next;          // shared counter
    pthread_mutex_t mu;
};

static void *worker(void *arg) {
    struct job *j = arg;
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

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int find(char **paths, int n, const char *p) {
    char **r = bsearch(&p, paths, (size_t)n, sizeof *paths, cmp_str);
    return r ? (int)(r - paths) : -1;
}

// distances for the pairs of lists[0..nl); returns images not detected (or -1 on error)
static int lfw_distances(const struct cli_opts *o, const struct fh_models *m, struct eval_pair *p,
                         int np, float *d, int *same, int *n_images) {
    char **paths = fh_malloc((size_t)np * 2 * sizeof *paths);
    if (!paths) return -1;
    int n = 0;
    for (int i = 0; i < np; i++) paths[n++] = p[i].a, paths[n++] = p[i].b;
    qsort(paths, (size_t)n, sizeof *paths, cmp_str);
    int u = 0;
    for (int i = 0; i < n; i++)
        if (!u || strcmp(paths[u - 1], paths[i])) paths[u++] = paths[i];
    struct job j = {.o = o, .m = m, .paths = paths, .n = u,
                    .emb = fh_calloc((size_t)u * FH_EMB_DIM, sizeof(float)), .found = fh_calloc((size_t)u, 1)};
    pthread_mutex_init(&j.mu, NULL);
    int nt = o->threads > 0 ? o->threads : fh_cpu_count();
    pthread_t th[64];
    if (nt > 64) nt = 64;
    for (int t = 0; t < nt; t++) pthread_create(&th[t], NULL, worker, &j);
    for (int t = 0; t < nt; t++) pthread_join(th[t], NULL);
    int missing = 0;
    for (int i = 0; i < u; i++) missing += !j.found[i];
    for (int i = 0; i < np; i++) {
        int a = find(paths, u, p[i].a), b = find(paths, u, p[i].b);
        same[i] = p[i].same;
        d[i] = j.found[a] && j.found[b]
                   ? fh_distance(j.emb + (size_t)a * FH_EMB_DIM, j.emb + (size_t)b * FH_EMB_DIM)
                   : INFINITY;
    }
    *n_images = u;
    fh_free(j.emb), fh_free(j.found), fh_free(paths);
    pthread_mutex_destroy(&j.mu);
    return missing;
}

static int load_pairs(const struct cli_opts *o, const char *file, struct eval_pair **p, int *n) {
    char path[1024];
    snprintf(path, sizeof path, "%s/lfw/%s", o->data, file);
    if (eval_read_pairs(path, p, n)) {
        fprintf(stderr, "facehatch: %s\n", fh_errmsg());
        return -1;
    }
    return 0;
}

static int eval_lfw(const struct cli_opts *o) {
    struct fh_models *m;
    if (fh_models_load(o->models, o->ref ? FH_LOAD_REF : 0, &m)) {
        fprintf(stderr, "facehatch: %s\n", fh_errmsg());
        return EXIT_FAIL;
    }
    struct eval_pair *p = NULL, *q = NULL;
    int np, nq, rc = EXIT_FAIL, imgs, imgs2;
    double t0 = fh_now_ms();
    if (o->view == 1) {
        if (load_pairs(o, "pairsDevTrain.txt", &p, &np) || load_pairs(o, "pairsDevTest.txt", &q, &nq)) goto out;
        float *d = fh_malloc(sizeof(float) * (size_t)(np + nq));
        int *s = fh_malloc(sizeof(int) * (size_t)(np + nq));
        int miss = lfw_distances(o, m, p, np, d, s, &imgs);
        int miss2 = lfw_distances(o, m, q, nq, d + np, s + np, &imgs2);
        double acc_train, acc_best;
        float t = eval_best_threshold(d, s, np, &acc_train);
        double acc = eval_accuracy(d + np, s + np, nq, t);
        float tb = eval_best_threshold(d + np, s + np, nq, &acc_best);
        printf("LFW View 1 (deep-funneled), flip %s, min face %d\n", o->flip ? "on" : "off", o->min_face);
        printf("  train: %d pairs, %d images, %d without a face; best threshold %.4f (accuracy %.2f %%)\n",
               np, imgs, miss, t, 100 * acc_train);
        printf("  test:  %d pairs, %d images, %d without a face; accuracy %.2f %% at %.4f "
               "(%.2f %% at the test's own best %.4f)\n", nq, imgs2, miss2, 100 * acc, t, 100 * acc_best, tb);
        printf("  %.1f s\n", (fh_now_ms() - t0) / 1e3);
        printf("{\"eval\":\"lfw\",\"view\":1,\"flip\":%s,\"threshold\":%.4f,\"accuracy\":%.4f,"
               "\"train_accuracy\":%.4f,\"not_detected\":%d}\n", o->flip ? "true" : "false", t, acc,
               acc_train, miss + miss2);
        fh_free(d), fh_free(s);
    } else {
        if (load_pairs(o, "pairs.txt", &p, &np)) goto out;
        if (np % 10) { fprintf(stderr, "facehatch: pairs.txt: %d pairs is not 10 folds\n", np); goto out; }
        float *d = fh_malloc(sizeof(float) * (size_t)np), th[10];
        int *s = fh_malloc(sizeof(int) * (size_t)np);
        int miss = lfw_distances(o, m, p, np, d, s, &imgs);
        double mean, se, acc_fixed = eval_accuracy(d, s, np, fh_verify_threshold(o->flip));
        eval_kfold(d, s, np, 10, &mean, &se, th);
        float tmin = th[0], tmax = th[0];
        for (int k = 1; k < 10; k++) tmin = fminf(tmin, th[k]), tmax = fmaxf(tmax, th[k]);
        printf("LFW View 2 (deep-funneled, unrestricted, labeled outside data), flip %s, min face %d\n",
               o->flip ? "on" : "off", o->min_face);
        printf("  %d pairs, %d images, %d without a face\n", np, imgs, miss);
        printf("  10-fold accuracy %.2f %% +- %.2f (fold thresholds %.3f..%.3f); %.2f %% at the fixed %.3f\n",
               100 * mean, 100 * se, tmin, tmax, 100 * acc_fixed, fh_verify_threshold(o->flip));
        printf("  %.1f s\n", (fh_now_ms() - t0) / 1e3);
        printf("{\"eval\":\"lfw\",\"view\":2,\"flip\":%s,\"accuracy\":%.4f,\"std_err\":%.4f,"
               "\"not_detected\":%d}\n", o->flip ? "true" : "false", mean, se, miss);
        fh_free(d), fh_free(s);
    }
    rc = EXIT_OK;
out:
    fh_free(p), fh_free(q);
    fh_models_free(m);
    return rc;
}

int cmd_eval(int argc, char **argv) {
    const char *usage = "eval lfw [--view 1|2] [--data DIR] [--no-flip] [--min-face N] [--threads N]";
    struct cli_opts o;
    int rc = cli_parse(&argc, argv, &o, usage);
    if (rc) return rc;
    if (!o.min_face_given) o.min_face = 40; // as the reference measurement (models.md 4)
    if (argc != 1 || strcmp(argv[0], "lfw")) {
        fprintf(stderr, "facehatch: eval needs a benchmark name (lfw)\nusage: facehatch %s\n", usage);
        return EXIT_USAGE;
    }
    return eval_lfw(&o);
}
