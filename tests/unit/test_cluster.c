// SPDX-License-Identifier: MIT
// Clustering methods on synthetic blobs with known labels, and the clustering metrics on
// hand-made cases with known answers.
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "base/base.h"
#include "cluster/cluster.h"
#include "eval/eval.h"
#include "harness.h"

static uint64_t rng = 88172645463325252ull;
static double uni(void) {
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return (rng >> 11) * (1.0 / 9007199254740992.0);
}
static double gauss(void) {
    double u = uni() + 1e-12, v = uni();
    return sqrt(-2 * log(u)) * cos(6.283185307179586 * v);
}

// clus_graph_i8 == clus_graph exactly (pairs and distance bits), on blobs of unit vectors of
// an odd size and dimension, several cutoffs, 1 and 2 threads, the reference and the best kernel
static void test_graph_i8(void) {
    static const int dims[2] = {192, 61};
    for (int di = 0; di < 2; di++) {
        int n = 1037, D = dims[di], K = 23;
        float *x = fh_malloc(sizeof(float) * (size_t)n * D), *c = fh_malloc(sizeof(float) * (size_t)K * D);
        for (int i = 0; i < K * D; i++) c[i] = (float)gauss();
        for (int i = 0; i < n; i++) {
            double s2 = 0;
            float spread = (float)(0.15 + 0.5 * uni());
            for (int d = 0; d < D; d++) {
                x[(size_t)i * D + d] = c[(i % K) * D + d] / sqrtf((float)D) + spread * (float)gauss() / sqrtf((float)D);
                s2 += (double)x[(size_t)i * D + d] * x[(size_t)i * D + d];
            }
            for (int d = 0; d < D; d++) x[(size_t)i * D + d] /= (float)sqrt(s2);
        }
        static const float cuts[3] = {0.7f, 1.0f, 1.3f};
        for (int ci = 0; ci < 3; ci++)
            for (int threads = 1; threads <= 2; threads++)
                for (int ref = 0; ref <= 1; ref++) {
                    struct fh_pool *pool = fh_pool_new(threads);
                    struct clus_edge *e0 = NULL, *e1 = NULL;
                    size_t n0 = 0, n1 = 0;
                    int r0 = clus_graph(x, n, D, cuts[ci], pool, &e0, &n0);
                    int r1 = clus_graph_i8(x, n, D, cuts[ci], pool, ref, &e1, &n1);
                    int same = r0 == 0 && r1 == 0 && n0 == n1;
                    for (size_t k = 0; same && k < n0; k++)
                        same = e0[k].a == e1[k].a && e0[k].b == e1[k].b && !memcmp(&e0[k].d, &e1[k].d, sizeof(float));
                    char what[160];
                    snprintf(what, sizeof what, "graph_i8 == graph: n %d, dim %d, cutoff %.1f, %d thread(s), %s kernel (%zu pairs)",
                             n, D, cuts[ci], threads, ref ? "reference" : "best", n0);
                    TEST_COND(what, same && n0 > 0);
                    fh_free(e0), fh_free(e1);
                    fh_pool_free(pool);
                }
        // pairs only from `from` on (an incremental update's new faces)
        struct fh_pool *pool = fh_pool_new(2);
        struct clus_edge *e0 = NULL, *e1 = NULL;
        size_t n0 = 0, n1 = 0, want = 0;
        int from = 900;
        int r0 = clus_graph(x, n, D, 1.0f, pool, &e0, &n0);
        int r1 = clus_graph_i8_from(x, n, from, D, 1.0f, pool, 0, &e1, &n1);
        int same = r0 == 0 && r1 == 0;
        for (size_t k = 0, j = 0; same && k < n0; k++) {
            if (e0[k].b < from) continue;
            want++;
            same = j < n1 && e0[k].a == e1[j].a && e0[k].b == e1[j].b && !memcmp(&e0[k].d, &e1[j].d, sizeof(float));
            j++;
        }
        TEST_COND("graph_i8_from: exactly the pairs (a, b >= from)", same && want == n1 && n1 > 0);
        fh_free(e0), fh_free(e1);
        fh_pool_free(pool);
        x[5] = NAN;
        TEST_COND("graph_i8: a non-finite vector is FH_E_ARG", clus_graph_i8(x, n, D, 1.0f, NULL, 0, &e1, &n1) == FH_E_ARG);
        fh_free(x), fh_free(c);
    }
}

int main(void) {
    test_graph_i8();
    // metrics: clusters {0,1,2} {3,4} vs classes {0,1} {2,3,4}
    int pred[5] = {0, 0, 0, 1, 1}, truth[5] = {0, 0, 1, 1, 1};
    struct eval_cluster s;
    eval_cluster_scores(pred, truth, 5, &s);
    // pairwise: predicted pairs 3+1 = 4, true pairs 1+3 = 4, both 1 (0,1) + 1 (3,4) = 2
    TEST_COND("pairwise P = R = 0.5", fabs(s.pair_p - 0.5) < 1e-12 && fabs(s.pair_r - 0.5) < 1e-12);
    // BCubed P: items 0,1: 2/3; item 2: 1/3; items 3,4: 2/2 -> (2/3+2/3+1/3+1+1)/5 = 11/15
    // BCubed R: items 0,1: 2/2; item 2: 1/3; items 3,4: 2/3 -> (1+1+1/3+2/3+2/3)/5 = 11/15
    TEST_COND("BCubed P = R = 11/15", fabs(s.bcubed_p - 11 / 15.0) < 1e-12 && fabs(s.bcubed_r - 11 / 15.0) < 1e-12);
    TEST_COND("2 clusters counted", s.clusters == 2);
    int all[5] = {0, 1, 2, 3, 4};
    eval_cluster_scores(all, truth, 5, &s);
    TEST_COND("all singletons: pairwise P 1 (no pairs), R 0; BCubed P 1", s.pair_p == 1 && s.pair_r == 0 && s.bcubed_p == 1);

    // 6 well separated blobs of unit vectors in 32-D, 40 points each, plus 10 outliers
    enum { D = 32, K = 6, PER = 40, OUT = 10, N = K * PER + OUT };
    static float x[N * D];
    static int lab[N], got[N];
    float centre[K][D];
    for (int k = 0; k < K; k++) {
        double s2 = 0;
        for (int d = 0; d < D; d++) centre[k][d] = (float)gauss(), s2 += centre[k][d] * centre[k][d];
        for (int d = 0; d < D; d++) centre[k][d] /= (float)sqrt(s2);
    }
    for (int i = 0; i < N; i++) {
        int k = i < K * PER ? i / PER : -1;
        lab[i] = k >= 0 ? k : K + (i - K * PER);
        double s2 = 0;
        for (int d = 0; d < D; d++) {
            x[i * D + d] = (float)(k >= 0 ? centre[k][d] + 0.06 * gauss() : gauss());
            s2 += (double)x[i * D + d] * x[i * D + d];
        }
        for (int d = 0; d < D; d++) x[i * D + d] /= (float)sqrt(s2);
    }
    struct clus_edge *e;
    size_t ne;
    struct fh_pool *pool = fh_pool_new(2);
    int rc = clus_graph(x, N, D, 1.2f, pool, &e, &ne);
    // brute-force check of the graph
    size_t bf = 0;
    for (int a = 0; a < N; a++)
        for (int b = a + 1; b < N; b++) {
            double d2 = 0;
            for (int d = 0; d < D; d++) d2 += (x[a * D + d] - x[b * D + d]) * (double)(x[a * D + d] - x[b * D + d]);
            bf += sqrt(d2) < 1.2;
        }
    TEST_COND("near graph has exactly the brute-force pairs (2 threads)", rc == 0 && ne == bf);
    struct {
        const char *name;
        int k;
    } r[4];
    r[0].name = "single linkage", r[0].k = clus_components(N, e, ne, 0.7f, got);
    eval_cluster_scores(got, lab, N, &s);
    double f0 = s.bcubed_f;
    r[1].name = "average linkage", r[1].k = clus_average(N, e, ne, 1.2f, 0.7f, got);
    eval_cluster_scores(got, lab, N, &s);
    double f1v = s.bcubed_f;
    r[2].name = "chinese whispers", r[2].k = clus_chinese_whispers(N, e, ne, 0.7f, 20, 1, got);
    eval_cluster_scores(got, lab, N, &s);
    double f2 = s.bcubed_f;
    r[3].name = "dbscan", r[3].k = clus_dbscan(N, e, ne, 0.7f, 3, got);
    eval_cluster_scores(got, lab, N, &s);
    double f3 = s.bcubed_f;
    printf("clusters: %d %d %d %d; BCubed F %.4f %.4f %.4f %.4f\n", r[0].k, r[1].k, r[2].k, r[3].k, f0, f1v, f2, f3);
    TEST_COND("every method recovers the 6 blobs + 10 outliers exactly (16 clusters, F = 1)",
              r[0].k == 16 && r[1].k == 16 && r[2].k == 16 && r[3].k == 16 && f0 == 1 && f1v == 1 && f2 == 1 && f3 == 1);
    // average linkage vs single linkage on a chain: a-b 0.5, b-c 0.5, a-c 0.9 (t = 0.6)
    struct clus_edge ch[3] = {{0, 1, 0.5f}, {0, 2, 0.9f}, {1, 2, 0.5f}};
    int l3[3];
    TEST_COND("single linkage chains a-b-c into one cluster", clus_components(3, ch, 3, 0.6f, l3) == 1);
    TEST_COND("average linkage keeps c apart (avg(ab, c) = 0.7 >= 0.6)",
              clus_average(3, ch, 3, 2.0f, 0.6f, l3) == 2 && l3[0] == l3[1] && l3[2] != l3[0]);
    TEST_COND("labels numbered by first appearance", l3[0] == 0);
    // constraints: 4 items, all close (0.1 apart)
    struct clus_edge q[6] = {{0, 1, 0.1f}, {0, 2, 0.1f}, {0, 3, 0.1f}, {1, 2, 0.1f}, {1, 3, 0.1f}, {2, 3, 0.1f}};
    int l4[4];
    TEST_COND("no constraints: one cluster", clus_average_c(4, q, 6, 1.2f, 0.5f, NULL, l4) == 1);
    int64_t photo[4] = {10, 10, 11, 12};
    struct clus_constraints c1 = {.photo = photo};
    int k1 = clus_average_c(4, q, 6, 1.2f, 0.5f, &c1, l4);
    TEST_COND("two faces of one photo never share a cluster", k1 == 2 && l4[0] != l4[1]);
    int64_t tag[4] = {7, 0, 0, 8};
    struct clus_constraints c2 = {.tag = tag};
    int k2 = clus_average_c(4, q, 6, 1.2f, 0.5f, &c2, l4);
    TEST_COND("two user persons never merge", k2 == 2 && l4[0] != l4[3]);
    int ri[1] = {1};
    int64_t rt[1] = {7};
    struct clus_constraints c3 = {.tag = (int64_t[]){7, 0, 0, 0}, .reject_item = ri, .reject_tag = rt, .n_reject = 1};
    clus_average_c(4, q, 6, 1.2f, 0.5f, &c3, l4);
    TEST_COND("a rejected face never joins the person it was rejected from", l4[1] != l4[0]);
    struct clus_edge far2[1] = {{0, 1, 1.5f}};
    int grp[3] = {0, 0, -1}, l2[3];
    TEST_COND("forced groups merge whatever their distance", clus_average_c(3, far2, 1, 2.0f, 0.5f,
              &(struct clus_constraints){.group = grp}, l2) == 2 && l2[0] == l2[1]);
    fh_free(e);
    fh_pool_free(pool);
    return TEST_REPORT();
}
