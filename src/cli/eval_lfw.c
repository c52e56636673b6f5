// SPDX-License-Identifier: MIT
// facehatch eval lfw: the LFW verification protocol on ../shared/data/lfw.
//   --view 1: threshold chosen on pairsDevTrain.txt, accuracy on pairsDevTest.txt
//   --view 2: pairs.txt, 10 folds, each fold's threshold chosen on the other nine
// Each image's most central face is embedded (min face 40 px by default here, as the
// reference measurement); an image with no face gives distance +inf (counted wrong for
// a same pair, never dropped).   Images are embedded by one engine per core.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "eval/eval.h"

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
    float *emb = fh_calloc((size_t)u * FH_EMB_DIM, sizeof(float));
    char *found = fh_calloc((size_t)u, 1);
    int missing = emb && found ? cli_embed_central(o, m, paths, u, emb, found) : -1;
    if (missing < 0) {
        fh_free(emb), fh_free(found), fh_free(paths);
        return -1;
    }
    for (int i = 0; i < np; i++) {
        int a = find(paths, u, p[i].a), b = find(paths, u, p[i].b);
        same[i] = p[i].same;
        d[i] = found[a] && found[b]
                   ? fh_distance(emb + (size_t)a * FH_EMB_DIM, emb + (size_t)b * FH_EMB_DIM)
                   : INFINITY;
    }
    *n_images = u;
    fh_free(emb), fh_free(found), fh_free(paths);
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

int eval_lfw_cmd(const struct cli_opts *in) {
    struct cli_opts opts = *in, *o = &opts;
    if (!o->min_face_given) o->min_face = 40; // as the reference measurement (models.md 4)
    struct fh_models *m;
    if (cli_models_load(o, &m)) return EXIT_FAIL;
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
        float t2, t3;
        double tar2 = eval_tar_at_far(d, s, np, 1e-2, &t2), tar3 = eval_tar_at_far(d, s, np, 1e-3, &t3);
        printf("LFW View 2 (deep-funneled, unrestricted, labeled outside data), flip %s, min face %d\n",
               o->flip ? "on" : "off", o->min_face);
        printf("  %d pairs, %d images, %d without a face (their pairs count as 'different')\n", np, imgs, miss);
        printf("  10-fold accuracy %.2f %% +- %.2f (standard error; fold thresholds %.3f..%.3f)\n",
               100 * mean, 100 * se, tmin, tmax);
        printf("  accuracy at the fixed verify threshold %.3f: %.2f %%\n", fh_verify_threshold(o->flip), 100 * acc_fixed);
        printf("  TAR at FAR 1e-2: %.2f %% (threshold %.3f); at FAR 1e-3: %.2f %% (threshold %.3f), all 6000 pairs\n",
               100 * tar2, t2, 100 * tar3, t3);
        printf("  %.1f s\n", (fh_now_ms() - t0) / 1e3);
        if (o->plot) {
            double *fa = fh_malloc(sizeof(double) * (size_t)(np + 1)), *ta = fh_malloc(sizeof(double) * (size_t)(np + 1));
            float *th_roc = fh_malloc(sizeof(float) * (size_t)(np + 1));
            int k = fa && ta && th_roc ? eval_verify_roc(d, s, np, fa, ta, th_roc) : 0;
            char label[96];
            snprintf(label, sizeof label, "MTCNN+MobileFaceNet, flip %s (%.2f%%)", o->flip ? "on" : "off", 100 * mean);
            struct cli_curve c = {fa, ta, k, label};
            if (cli_svg_curves(o->plot, "LFW View 2 ROC (6000 pairs, deep-funneled)", "false accept rate",
                               "true accept rate", &c, 1, 1, 1e-4, 1, 0.9, 1))
                fprintf(stderr, "facehatch: %s\n", fh_errmsg());
            else printf("  ROC written to %s\n", o->plot);
            fh_free(fa), fh_free(ta), fh_free(th_roc);
        }
        printf("{\"eval\":\"lfw\",\"view\":2,\"flip\":%s,\"accuracy\":%.4f,\"std_err\":%.4f,"
               "\"tar_at_far\":{\"1e-2\":%.4f,\"1e-3\":%.4f},\"not_detected\":%d}\n",
               o->flip ? "true" : "false", mean, se, tar2, tar3, miss);
        fh_free(d), fh_free(s);
    }
    rc = EXIT_OK;
out:
    fh_free(p), fh_free(q);
    fh_models_free(m);
    return rc;
}

