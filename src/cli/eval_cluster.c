// SPDX-License-Identifier: MIT
// facehatch eval cluster: cluster the faces of all 13,233 LFW images (label = folder)
// with every method and threshold we have, report pairwise and BCubed P/R/F, cluster
// counts and time; the JSON line carries the best BCubed F (the library's default).
// Images without a face stay as singleton clusters (they hurt recall, never dropped).
// --quick: every 4th of the 158 identities with >= 10 images (the default test run).
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "cli/cli.h"
#include "cluster/cluster.h"
#include "eval/eval.h"
#include "library/calib.h"

#define CUTOFF 1.2f // near-graph cutoff: above every threshold tried

struct trial {
    const char *method;
    float t;
    struct eval_cluster s;
    double seconds;
};

// ---- the scale run (issue 10): --synthetic N ------------------------------------------------------
// N faces: the real LFW embeddings plus copies of them under random rotations of the 192-D
// space (each copy a new population: distances inside it are the real ones, to other copies
// those of unrelated faces), the last copy cut to reach N. A full recluster as the library
// runs it (near graph below cluster_t + 0.2, average linkage at cluster_t under its
// constraints), timed, with the peak RSS; quality on the real faces (BCubed against the
// LFW names). Then the incremental path: the first N - 1000 faces clustered, the last
// 1000 added (their near pairs only, existing persons as fixed groups), timed, and
// compared with the full clustering of all N.
static void random_rotation(float *r, int d, uint64_t *rng) {
    for (int i = 0; i < d * d; i++) { // Gaussian entries (Box-Muller on xorshift)
        *rng ^= *rng << 13, *rng ^= *rng >> 7, *rng ^= *rng << 17;
        double u = ((*rng >> 11) + 0.5) * (1.0 / 9007199254740992.0);
        *rng ^= *rng << 13, *rng ^= *rng >> 7, *rng ^= *rng << 17;
        double v = (*rng >> 11) * (1.0 / 9007199254740992.0);
        r[i] = (float)(sqrt(-2 * log(u)) * cos(6.283185307179586 * v));
    }
    for (int i = 0; i < d; i++) { // Gram-Schmidt on the rows: an orthogonal matrix
        float *ri = r + (size_t)i * d;
        for (int j = 0; j < i; j++) {
            const float *rj = r + (size_t)j * d;
            double dot = 0;
            for (int k = 0; k < d; k++) dot += (double)ri[k] * rj[k];
            for (int k = 0; k < d; k++) ri[k] -= (float)dot * rj[k];
        }
        double s2 = 0;
        for (int k = 0; k < d; k++) s2 += (double)ri[k] * ri[k];
        for (int k = 0; k < d; k++) ri[k] /= (float)sqrt(s2);
    }
}

static double peak_rss_mb(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss / 1024.0;
}

// the library's full recluster on x[0..n): graph + average linkage; labels into lab
static int full_cluster(const float *x, int n, struct fh_pool *pool, int *lab, size_t *ne_out) {
    struct clus_edge *e;
    size_t ne;
    float t = LIB_CLUSTER_T, cutoff = LIB_CLUSTER_T + 0.2f;
    if (clus_graph_i8(x, n, FH_EMB_DIM, cutoff, pool, 0, &e, &ne)) return -1;
    int k = clus_average(n, e, ne, cutoff, t, lab);
    fh_free(e);
    if (ne_out) *ne_out = ne;
    return k;
}

static int scale_run(const float *real, int nf, const int *truth, int total, struct fh_pool *pool, int seed) {
    enum { NEW = 1000, D = FH_EMB_DIM };
    if (total < nf + NEW) total = nf + NEW;
    float *x = fh_malloc(sizeof(float) * (size_t)total * D), *r = fh_malloc(sizeof(float) * D * D);
    int *lab = fh_malloc(sizeof(int) * (size_t)total), *inc = fh_malloc(sizeof(int) * (size_t)total);
    int *tr = fh_malloc(sizeof(int) * (size_t)total), *group = fh_malloc(sizeof(int) * (size_t)total);
    int rc = EXIT_FAIL, maxl = 0;
    if (!x || !r || !lab || !inc || !tr || !group) { fprintf(stderr, "facehatch: out of memory\n"); goto done; }
    for (int i = 0; i < nf; i++) maxl = truth[i] > maxl ? truth[i] : maxl;
    memcpy(x, real, sizeof(float) * (size_t)nf * D);
    memcpy(tr, truth, sizeof(int) * (size_t)nf);
    uint64_t rng = 0x9E3779B97F4A7C15ull ^ (uint64_t)seed;
    for (int c = 1, i = nf; i < total; c++) {
        random_rotation(r, D, &rng);
        for (int j = 0; j < nf && i < total; j++, i++) {
            for (int a = 0; a < D; a++) {
                float acc = 0;
                for (int b = 0; b < D; b++) acc += r[a * D + b] * real[(size_t)j * D + b];
                x[(size_t)i * D + a] = acc;
            }
            tr[i] = truth[j] + c * (maxl + 1);
        }
    }
    printf("scale run: %d faces = %d real LFW faces + %d in rotated copies; threshold %.2f, graph cutoff %.2f\n",
           total, nf, total - nf, LIB_CLUSTER_T, LIB_CLUSTER_T + 0.2f);
    double rss0 = peak_rss_mb(), t0 = fh_now_ms();
    size_t ne = 0;
    int k = full_cluster(x, total, pool, lab, &ne);
    double t_full = (fh_now_ms() - t0) / 1e3, rss1 = peak_rss_mb();
    if (k < 0) { fprintf(stderr, "facehatch: %s\n", fh_errmsg()); goto done; }
    struct eval_cluster q_real, q_all;
    eval_cluster_scores(lab, tr, nf, &q_real);
    eval_cluster_scores(lab, tr, total, &q_all);
    printf("  full recluster: %.1f s (%zu near pairs), %d persons; peak RSS %.0f MB (%.0f MB before)\n", t_full, ne, k,
           rss1, rss0);
    printf("  BCubed on the real faces: P %.4f R %.4f F %.4f; on all: F %.4f\n", q_real.bcubed_p, q_real.bcubed_r,
           q_real.bcubed_f, q_all.bcubed_f);
    // incremental: persons of the first total - NEW faces fixed, the last NEW added
    int old = total - NEW;
    int ko = full_cluster(x, old, pool, inc, NULL);
    if (ko < 0) { fprintf(stderr, "facehatch: %s\n", fh_errmsg()); goto done; }
    t0 = fh_now_ms();
    struct clus_edge *e;
    size_t ne2;
    float cutoff = LIB_CLUSTER_T + 0.2f;
    for (int i = 0; i < total; i++) group[i] = i < old ? inc[i] : -1;
    struct clus_constraints cons = {.group = group};
    int k2 = clus_graph_i8_from(x, total, old, FH_EMB_DIM, cutoff, pool, 0, &e, &ne2);
    if (!k2) k2 = clus_average_c(total, e, ne2, cutoff, LIB_CLUSTER_T, &cons, inc);
    double t_inc = (fh_now_ms() - t0) / 1e3;
    if (k2 < 0) { fprintf(stderr, "facehatch: %s\n", fh_errmsg()); goto done; }
    fh_free(e);
    struct eval_cluster q_inc, q_vs;
    eval_cluster_scores(inc, tr, total, &q_inc);
    eval_cluster_scores(inc, lab, total, &q_vs);
    printf("  incremental: %d new faces added to %d in %.2f s (%zu new near pairs), %d persons; BCubed F on all %.4f;"
           " against the full recluster F %.4f\n", NEW, old, t_inc, ne2, k2, q_inc.bcubed_f, q_vs.bcubed_f);
    printf("{\"eval\":\"cluster-scale\",\"faces\":%d,\"real\":%d,\"full_s\":%.2f,\"pairs\":%zu,\"persons\":%d,"
           "\"peak_rss_mb\":%.0f,\"bcubed_real\":{\"p\":%.4f,\"r\":%.4f,\"f\":%.4f},\"bcubed_all_f\":%.4f,"
           "\"incremental_s\":%.3f,\"incremental_new\":%d,\"incremental_f\":%.4f,\"incremental_vs_full_f\":%.4f}\n",
           total, nf, t_full, ne, k, rss1, q_real.bcubed_p, q_real.bcubed_r, q_real.bcubed_f, q_all.bcubed_f, t_inc, NEW,
           q_inc.bcubed_f, q_vs.bcubed_f);
    rc = EXIT_OK;
done:
    fh_free(x), fh_free(r), fh_free(lab), fh_free(inc), fh_free(tr), fh_free(group);
    return rc;
}

int eval_cluster_cmd(const struct cli_opts *in) {
    struct cli_opts opts = *in, *o = &opts;
    if (!o->min_face_given) o->min_face = 40;
    struct cli_lfw l;
    if (cli_lfw_list(o->data, &l)) {
        fprintf(stderr, "facehatch: %s\n", fh_errmsg());
        return EXIT_FAIL;
    }
    // subset selection (indices into l)
    int *count = fh_calloc((size_t)l.n_ids, sizeof *count), *pick = fh_malloc((size_t)l.n * sizeof *pick), n = 0;
    for (int i = 0; i < l.n; i++) count[l.label[i]]++;
    int big = 0, *rank_big = fh_calloc((size_t)l.n_ids, sizeof *rank_big);
    for (int k = 0; k < l.n_ids; k++) rank_big[k] = count[k] >= 10 ? big++ : -1;
    for (int i = 0; i < l.n; i++)
        if (!o->quick || (rank_big[l.label[i]] >= 0 && rank_big[l.label[i]] % 4 == 0)) pick[n++] = i;
    char **paths = fh_malloc((size_t)n * sizeof *paths);
    int *truth = fh_malloc((size_t)n * sizeof *truth);
    float *emb = fh_calloc((size_t)n * FH_EMB_DIM, sizeof *emb);
    char *found = fh_calloc((size_t)n, 1);
    int *label = fh_malloc((size_t)n * sizeof *label), rc = EXIT_FAIL;
    struct fh_models *m = NULL;
    if (!paths || !truth || !emb || !found || !label) { fprintf(stderr, "facehatch: out of memory\n"); goto out; }
    for (int i = 0; i < n; i++) paths[i] = l.paths[pick[i]], truth[i] = l.label[pick[i]];
    if (cli_models_load(o, &m)) goto out;
    double t0 = fh_now_ms();
    int missing = cli_embed_central(o, m, paths, n, emb, found);
    double t_embed = (fh_now_ms() - t0) / 1e3;
    // cluster only the faces found; the rest become singletons afterwards
    int nf = 0;
    for (int i = 0; i < n; i++)
        if (found[i]) memmove(emb + (size_t)nf++ * FH_EMB_DIM, emb + (size_t)i * FH_EMB_DIM, sizeof(float) * FH_EMB_DIM);
    struct fh_pool *pool = fh_pool_new(o->threads);
    struct clus_edge *e;
    size_t ne;
    t0 = fh_now_ms();
    if (o->synthetic) { // the 10^5-face scale run instead of the method table
        int *tf = fh_malloc((size_t)(nf ? nf : 1) * sizeof *tf);
        for (int i = 0, f = 0; tf && i < n; i++)
            if (found[i]) tf[f++] = truth[i];
        rc = tf ? scale_run(emb, nf, tf, o->synthetic, pool, o->seed) : EXIT_FAIL;
        fh_free(tf);
        fh_pool_free(pool);
        goto out;
    }
    if (clus_graph_i8(emb, nf, FH_EMB_DIM, CUTOFF, pool, 0, &e, &ne)) {
        fprintf(stderr, "facehatch: %s\n", fh_errmsg());
        fh_pool_free(pool);
        goto out;
    }
    double t_graph = (fh_now_ms() - t0) / 1e3;
    fh_pool_free(pool);
    int ids = o->quick ? (big + 3) / 4 : l.n_ids;
    printf("LFW clustering (deep-funneled), %d images of %d identities%s, %d without a face (singletons)\n",
           n, ids, o->quick ? " [quick subset]" : "", missing);
    printf("  embedding %.1f s; near graph (pairs closer than %.2f): %zu pairs in %.1f s\n\n", t_embed, CUTOFF, ne, t_graph);
    printf("%-18s %6s %8s | %6s %6s %6s | %6s %6s %6s | %7s\n", "method", "thresh", "clusters", "pairP", "pairR",
           "pairF", "B3 P", "B3 R", "B3 F", "seconds");
    static const float T_AVG[] = {0.85f, 0.9f, 0.95f, 1.0f, 1.05f, 1.1f}, T_SL[] = {0.7f, 0.8f, 0.9f, 1.0f},
                       T_CW[] = {0.8f, 0.9f, 1.0f, 1.1f}, T_DB[] = {0.8f, 0.9f, 1.0f};
    struct trial tr[32];
    int nt = 0, *lab = fh_malloc((size_t)(nf ? nf : 1) * sizeof *lab);
    for (int mth = 0; mth < 4 && lab; mth++) {
        const float *ts = mth == 0 ? T_AVG : mth == 1 ? T_SL : mth == 2 ? T_CW : T_DB;
        int cnt = mth == 0 ? 6 : mth == 1 ? 4 : mth == 2 ? 4 : 3;
        for (int q = 0; q < cnt; q++) {
            struct trial *t = &tr[nt++];
            t->method = mth == 0 ? "average" : mth == 1 ? "single" : mth == 2 ? "chinese-whispers" : "dbscan-3";
            t->t = ts[q];
            double c0 = fh_now_ms();
            int k = mth == 0 ? clus_average(nf, e, ne, CUTOFF, ts[q], lab)
                  : mth == 1 ? clus_components(nf, e, ne, ts[q], lab)
                  : mth == 2 ? clus_chinese_whispers(nf, e, ne, ts[q], 30, (uint64_t)o->seed, lab)
                             : clus_dbscan(nf, e, ne, ts[q], 3, lab);
            t->seconds = (fh_now_ms() - c0) / 1e3;
            if (k < 0) { fprintf(stderr, "facehatch: %s\n", fh_errmsg()); nt--; continue; }
            for (int i = 0, f = 0; i < n; i++) label[i] = found[i] ? lab[f++] : k + i; // singletons
            eval_cluster_scores(label, truth, n, &t->s);
            printf("%-18s %6.2f %8d | %6.4f %6.4f %6.4f | %6.4f %6.4f %6.4f | %7.2f\n", t->method, t->t, t->s.clusters,
                   t->s.pair_p, t->s.pair_r, t->s.pair_f, t->s.bcubed_p, t->s.bcubed_r, t->s.bcubed_f, t->seconds);
        }
    }
    int best = 0;
    for (int i = 1; i < nt; i++)
        if (tr[i].s.bcubed_f > tr[best].s.bcubed_f) best = i;
    if (nt) {
        struct trial *b = &tr[best];
        printf("\nbest BCubed F: %s at %.2f\n", b->method, b->t);
        printf("{\"eval\":\"cluster\",\"method\":\"%s\",\"threshold\":%.2f,\"images\":%d,\"not_detected\":%d,"
               "\"pairwise\":{\"p\":%.4f,\"r\":%.4f,\"f\":%.4f},\"bcubed\":{\"p\":%.4f,\"r\":%.4f,\"f\":%.4f},"
               "\"clusters\":%d,\"identities\":%d,\"seconds\":%.2f}\n",
               b->method, b->t, n, missing, b->s.pair_p, b->s.pair_r, b->s.pair_f, b->s.bcubed_p, b->s.bcubed_r,
               b->s.bcubed_f, b->s.clusters, ids, b->seconds + t_graph);
        rc = EXIT_OK;
    }
    fh_free(lab), fh_free(e);
out:
    fh_models_free(m);
    fh_free(count), fh_free(pick), fh_free(rank_big), fh_free(paths), fh_free(truth), fh_free(emb), fh_free(found), fh_free(label);
    cli_lfw_free(&l);
    return rc;
}
