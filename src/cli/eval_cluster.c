// SPDX-License-Identifier: MIT
// facehatch eval cluster: cluster the faces of all 13,233 LFW images (label = folder)
// with every method and threshold we have, report pairwise and BCubed P/R/F, cluster
// counts and time; the JSON line carries the best BCubed F (the library's default).
// Images without a face stay as singleton clusters (they hurt recall, never dropped).
// --quick: every 4th of the 158 identities with >= 10 images (the default test run).
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cluster/cluster.h"
#include "eval/eval.h"

#define CUTOFF 1.2f // near-graph cutoff: above every threshold tried

struct trial {
    const char *method;
    float t;
    struct eval_cluster s;
    double seconds;
};

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
    if (clus_graph(emb, nf, FH_EMB_DIM, CUTOFF, pool, &e, &ne)) {
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
