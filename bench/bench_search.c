// SPDX-License-Identifier: MIT
// bench_search: the gallery scan of search/ (issue 10, part 5) at 10^4, 10^5 and 10^6
// vectors: memory, ms per query (median of Q queries) on 1 thread and on all cores, and
// recall@1 / @10 against an exact float scan of the same vectors.
// The vectors are generated (seeded): identities are random unit vectors, each face is its
// identity plus Gaussian noise, normalised (noise 0.9 per dimension / sqrt(192): a face's
// cosine to its identity ~0.74, between two faces of one identity ~0.55, as for real
// MobileFaceNet embeddings of one person). 20 faces per identity; a query is a fresh face of
// an identity in the gallery. Real-embedding recall is `facehatch eval ident`'s job.
// "reranked@1": the top 32 of the scan re-scored with the float vectors (search_rerank;
// in the product they come from the store), "rerank ms" that query on all threads.
// "same id@1": the int8 top 1 is a face of the exact top 1's identity; "max gap": where the
// top 1 differs, by how much the exact best's float score beats the int8 pick's.
//   usage: bench_search [max_n] [queries]     (default 1000000 50)
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "base/pool.h"
#include "search/search.h"

#include "bench_time.h"

#define DIM 192
#define PER_ID 20

static uint64_t rng = 0x2545F4914F6CDD1Dull;
static double unif(void) {
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return ((rng >> 11) + 0.5) / 9007199254740992.0;
}
static float gauss(void) { return (float)(sqrt(-2 * log(unif())) * cos(6.283185307179586 * unif())); }
static void normalise(float *v) {
    double n = 0;
    for (int k = 0; k < DIM; k++) n += (double)v[k] * v[k];
    for (int k = 0; k < DIM; k++) v[k] = (float)(v[k] / sqrt(n));
}
static void face_of(const float *id, float *out) {
    for (int k = 0; k < DIM; k++) out[k] = id[k] + 0.9f / sqrtf(DIM) * gauss();
    normalise(out);
}

static const float *g_vectors; // the float vectors, standing in for the store's
static int fetch(void *ctx, int64_t id, float *out) {
    (void)ctx;
    memcpy(out, g_vectors + id * DIM, sizeof(float) * DIM);
    return 0;
}

int main(int argc, char **argv) {
    long max_n = argc > 1 ? atol(argv[1]) : 1000000;
    int nq = argc > 2 ? atoi(argv[2]) : 50;
    if (max_n < 1000 || max_n > 10000000 || nq < 1 || nq > 1000) {
        fprintf(stderr, "usage: bench_search [max_n 1000..10^7] [queries 1..1000]\n");
        return 2;
    }
    int all = fh_cpu_count();
    struct fh_pool *pool = fh_pool_new(all);
    long n_ids = (max_n + PER_ID - 1) / PER_ID;
    float *ids = malloc(sizeof(float) * (size_t)n_ids * DIM), *v = malloc(sizeof(float) * (size_t)max_n * DIM);
    int64_t *lab = malloc(sizeof(int64_t) * (size_t)max_n);
    float *q = malloc(sizeof(float) * (size_t)nq * DIM);
    if (!ids || !v || !lab || !q || !pool) return fprintf(stderr, "out of memory\n"), 1;
    g_vectors = v;
    for (long i = 0; i < n_ids; i++) {
        for (int k = 0; k < DIM; k++) ids[i * DIM + k] = gauss();
        normalise(ids + i * DIM);
    }
    printf("bench_search: %d-D, %d faces per generated identity, %d queries (fresh faces of gallery identities),\n"
           "int8 exact scan (search/) vs float exact scan; 1 thread and %d threads; median ms per query\n\n",
           DIM, PER_ID, nq, all);
    printf("%10s %9s %12s %12s %14s %11s %11s %11s %10s %11s %12s\n", "vectors", "MB", "ms 1 thr", "ms all thr",
           "float ms 1 thr", "recall@1", "recall@10", "same id@1", "max gap", "reranked@1", "rerank ms");
    struct search_gallery *g;
    if (search_gallery_new(DIM, &g)) return 1;
    long have = 0;
    for (long n = 10000; n <= max_n; n *= 10) {
        for (; have < n; have++) { // faces in identity order: row i is identity i / PER_ID
            face_of(ids + (have / PER_ID) * DIM, v + have * DIM);
            lab[have] = have;
        }
        if (search_gallery_size(g) < n && search_gallery_add(g, v + search_gallery_size(g) * DIM,
                                                              lab + search_gallery_size(g), (int)(n - search_gallery_size(g))))
            return fprintf(stderr, "%s\n", fh_errmsg()), 1;
        for (int i = 0; i < nq; i++) face_of(ids + (long)(unif() * (double)(n / PER_ID)) * DIM, q + (size_t)i * DIM);
        double t1[1000], tn[1000], tf[1000], tr[1000], gap = 0;
        int r1 = 0, r10 = 0, rid = 0, rr1 = 0, nf = n <= 100000 ? nq : (nq < 5 ? nq : 5);
        for (int i = 0; i < nq; i++) {
            struct search_hit h[10];
            int nh;
            double t0 = now_s();
            search_gallery_query(g, q + (size_t)i * DIM, 10, NULL, 0, h, &nh);
            t1[i] = (now_s() - t0) * 1e3;
            t0 = now_s();
            search_gallery_query(g, q + (size_t)i * DIM, 10, pool, 0, h, &nh);
            tn[i] = (now_s() - t0) * 1e3;
            // the exact float scan (plain loop, -O2 vectorised), and its best row
            t0 = now_s();
            long best = 0;
            float bs = -2;
            for (long r = 0; r < n; r++) {
                const float *x = v + r * DIM, *y = q + (size_t)i * DIM;
                float s = 0;
                for (int k = 0; k < DIM; k++) s += x[k] * y[k];
                if (s > bs) bs = s, best = r;
            }
            if (i < nf) tf[i] = (now_s() - t0) * 1e3;
            // the top 32, re-ranked with the float vectors
            struct search_hit h32[32];
            int n32;
            t0 = now_s();
            search_gallery_query(g, q + (size_t)i * DIM, 32, pool, 0, h32, &n32);
            search_rerank(DIM, q + (size_t)i * DIM, h32, n32, fetch, NULL);
            tr[i] = (now_s() - t0) * 1e3;
            rr1 += n32 && h32[0].row == best;
            r1 += nh && h[0].row == best;
            rid += nh && h[0].row / PER_ID == best / PER_ID; // the same (generated) identity
            if (nh && h[0].row != best) { // how much better the exact best really is
                const float *x = v + h[0].row * DIM, *y = q + (size_t)i * DIM;
                float s0 = 0;
                for (int k = 0; k < DIM; k++) s0 += x[k] * y[k];
                gap = fmax(gap, bs - s0);
            }
            for (int j = 0; j < nh; j++) r10 += h[j].row == best;
        }
        qsort(t1, (size_t)nq, sizeof *t1, cmp_double), qsort(tn, (size_t)nq, sizeof *tn, cmp_double);
        qsort(tf, (size_t)nf, sizeof *tf, cmp_double), qsort(tr, (size_t)nq, sizeof *tr, cmp_double);
        printf("%10ld %9.1f %12.3f %12.3f %14.3f %11.3f %11.3f %11.3f %10.5f %11.3f %12.3f\n", n,
               search_gallery_bytes(g) / 1e6, t1[nq / 2], tn[nq / 2], tf[nf / 2], (double)r1 / nq, (double)r10 / nq,
               (double)rid / nq, gap, (double)rr1 / nq, tr[nq / 2]);
    }
    printf("\nfloat scan memory at 192-D: %.0f MB per 10^6 vectors (4 bytes a value)\n", 768.0);
    search_gallery_free(g);
    fh_pool_free(pool);
    free(ids), free(v), free(lab), free(q);
    return 0;
}
