// SPDX-License-Identifier: MIT
// search/: the int8 row-dot kernel (AVX2 against its scalar twin, exactly, on odd sizes,
// extreme values and any thread split) and the gallery (quantisation error, the k best
// against an exact float scan, thread-count independence, insertion-order ties, growth
// across chunks, bad input leaving the gallery unchanged).
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "../harness.h"
#include "base/base.h"
#include "base/pool.h"
#include "nn/kern/kern.h"
#include "search/search.h"

static uint64_t rng = 88172645463325252ull;
static uint32_t rnd(void) {
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return (uint32_t)(rng >> 11);
}
static float gauss(void) { // sum of uniforms: close enough for test vectors
    float s = 0;
    for (int i = 0; i < 12; i++) s += (float)(rnd() & 0xffff) / 65536.0f;
    return s - 6;
}
static void unit(float *v, int d) {
    double n = 0;
    for (int i = 0; i < d; i++) v[i] = gauss(), n += (double)v[i] * v[i];
    for (int i = 0; i < d; i++) v[i] = (float)(v[i] / sqrt(n));
}

static void test_kernel(void) {
    const struct nn_kern *ref = nn_kern_ref(), *avx = nn_kern_avx2();
    if (!avx) {
        printf("# no AVX2+FMA on this CPU: the AVX2 int8 kernel is not tested here\n");
        return;
    }
    static const int Ns[] = {1, 3, 4, 5, 17, 1001}, Ds[] = {1, 15, 16, 17, 31, 192, 511, 512};
    int ok = 1, cases = 0, split_ok = 1;
    for (size_t a = 0; a < sizeof Ns / sizeof *Ns; a++)
        for (size_t b = 0; b < sizeof Ds / sizeof *Ds; b++) {
            int N = Ns[a], D = Ds[b];
            size_t stride = (size_t)D + (b & 1) * 7; // padded rows too
            int8_t *rows = fh_malloc(stride * (size_t)N);
            int16_t q[512];
            int32_t o1[1001], o2[1001], o3[1001];
            for (size_t i = 0; i < stride * (size_t)N; i++)
                rows[i] = (int8_t)(i % 11 == 0 ? (i % 2 ? 127 : -127) : (int)(rnd() % 255) - 127);
            for (int k = 0; k < D; k++) q[k] = (int16_t)(k % 5 == 0 ? (k % 2 ? 32767 : -32767) : (int)(rnd() % 65535) - 32767);
            struct nn_i8dot_args x = {.N = N, .D = D, .rows = rows, .stride = stride, .q = q, .out = o1};
            ref->i8_dot_rows(&x, 0, 1);
            x.out = o2;
            avx->i8_dot_rows(&x, 0, 1);
            ok &= !memcmp(o1, o2, sizeof *o1 * (size_t)N);
            x.out = o3;
            for (int t = 0; t < 3; t++) avx->i8_dot_rows(&x, t, 3);
            split_ok &= !memcmp(o1, o3, sizeof *o1 * (size_t)N);
            // the reference itself against int64 arithmetic
            for (int r = 0; r < N; r++) {
                int64_t s = 0;
                for (int k = 0; k < D; k++) s += (int64_t)rows[(size_t)r * stride + k] * q[k];
                ok &= s == o1[r];
            }
            fh_free(rows);
            cases++;
        }
    char d[160];
    snprintf(d, sizeof d, "i8_dot_rows: AVX2 == reference == int64 sums, %d shapes (N 1..1001, D 1..512, padded rows, +-127 x +-32767)", cases);
    TEST_COND(d, ok);
    TEST_COND("i8_dot_rows: three slices give the same rows as one", split_ok);
}

// hits equal field by field (the struct has padding, which memcmp would compare)
static int same_hits(const struct search_hit *a, const struct search_hit *b, int n) {
    for (int i = 0; i < n; i++)
        if (a[i].id != b[i].id || a[i].row != b[i].row || a[i].score != b[i].score) return 0;
    return 1;
}

#define DIM 192
static const float *t_vectors;
static int t_fetch(void *ctx, int64_t id, float *out) {
    if (id == (int64_t)(intptr_t)ctx) return FH_E_NOTFOUND; // the one id this fetch cannot find
    memcpy(out, t_vectors + (id - 1000) * DIM, sizeof(float) * DIM);
    return FH_OK;
}

static void test_gallery(void) {
    struct search_gallery *g;
    TEST_COND("dimension 0 and 513 refused", search_gallery_new(0, &g) == FH_E_ARG && search_gallery_new(513, &g) == FH_E_ARG);
    if (search_gallery_new(DIM, &g)) return;
    struct search_hit hits[50];
    int nh;
    float q[DIM];
    unit(q, DIM);
    TEST_COND("an empty gallery: no hits", !search_gallery_query(g, q, 5, NULL, 0, hits, &nh) && nh == 0);
    // 70,001 random unit vectors (two chunks and a bit), ids 1000 + row
    int N = 70001;
    float *v = fh_malloc(sizeof *v * (size_t)N * DIM);
    int64_t *ids = fh_malloc(sizeof *ids * (size_t)N);
    for (int i = 0; i < N; i++) unit(v + (size_t)i * DIM, DIM), ids[i] = 1000 + i;
    int rc = search_gallery_add(g, v, ids, 40000);
    if (!rc) rc = search_gallery_add(g, v + (size_t)40000 * DIM, ids + 40000, N - 40000);
    TEST_COND("70,001 vectors added in two calls, across two chunks", !rc && search_gallery_size(g) == N);
    // bad input leaves it unchanged
    float bad[2 * DIM];
    memcpy(bad, v, sizeof bad);
    bad[DIM + 7] = NAN;
    TEST_COND("a NaN in the 2nd vector: FH_E_ARG, nothing added",
              search_gallery_add(g, bad, ids, 2) == FH_E_ARG && strstr(fh_errmsg(), "vector 1") && search_gallery_size(g) == N);
    q[3] = INFINITY;
    TEST_COND("a non-finite query: FH_E_ARG", search_gallery_query(g, q, 5, NULL, 0, hits, &nh) == FH_E_ARG);
    TEST_COND("k 0 and k 1001: FH_E_ARG", search_gallery_query(g, v, 0, NULL, 0, hits, &nh) == FH_E_ARG &&
                                            search_gallery_query(g, v, 1001, NULL, 0, hits, &nh) == FH_E_ARG);
    TEST_COND("bytes: 204 per vector at 192-D, in whole chunks",
              search_gallery_bytes(g) >= (size_t)2 * SEARCH_CHUNK * 204 && search_gallery_bytes(g) < (size_t)2 * SEARCH_CHUNK * 205);
    // queries: noisy copies of gallery vectors (the near-duplicate must come first) and
    // fresh random vectors (the top 10 against an exact float scan)
    struct fh_pool *pool = fh_pool_new(3);
    int self_ok = 0, top1 = 0, in10 = 0, same_threads = 1, ref_same = 1, nq = 40, rr_ok = 0, rr_exact = 1;
    t_vectors = v;
    double worst_err = 0;
    float *exact = fh_malloc(sizeof *exact * (size_t)N);
    for (int t = 0; t < nq; t++) {
        int src = (int)(rnd() % (unsigned)N);
        float qq[DIM];
        if (t < nq / 2) {
            double n = 0;
            for (int k = 0; k < DIM; k++) qq[k] = v[(size_t)src * DIM + k] + 0.03f * gauss(), n += (double)qq[k] * qq[k];
            for (int k = 0; k < DIM; k++) qq[k] = (float)(qq[k] / sqrt(n));
        } else {
            unit(qq, DIM);
        }
        struct search_hit h1[10], h2[10], h3[10];
        int n1, n2, n3;
        if (search_gallery_query(g, qq, 10, NULL, 0, h1, &n1) || search_gallery_query(g, qq, 10, pool, 0, h2, &n2) ||
            search_gallery_query(g, qq, 10, NULL, 1, h3, &n3)) {
            printf("# %s\n", fh_errmsg());
            continue;
        }
        same_threads &= n1 == 10 && n2 == 10 && same_hits(h1, h2, 10);
        ref_same &= n3 == 10 && same_hits(h1, h3, 10);
        int best = 0;
        for (int i = 0; i < N; i++) {
            double s = 0;
            for (int k = 0; k < DIM; k++) s += (double)qq[k] * v[(size_t)i * DIM + k];
            exact[i] = (float)s;
            if (exact[i] > exact[best]) best = i;
        }
        for (int j = 0; j < 10; j++) worst_err = fmax(worst_err, fabs(h1[j].score - exact[h1[j].row]));
        if (t < nq / 2) self_ok += h1[0].row == src && h1[0].id == 1000 + src;
        // the top 32 re-ranked with the float vectors: the exact best first, exact scores
        struct search_hit h32[32];
        int n32;
        if (!search_gallery_query(g, qq, 32, pool, 0, h32, &n32) &&
            !search_rerank(DIM, qq, h32, n32, t_fetch, (void *)(intptr_t)-1)) {
            rr_ok += h32[0].row == best;
            for (int j = 0; j < n32; j++) rr_exact &= fabs(h32[j].score - exact[h32[j].row]) < 1e-6 && (!j || h32[j].score <= h32[j - 1].score);
        }
        top1 += h1[0].row == best;
        for (int j = 0; j < 10; j++) in10 += h1[j].row == best;
    }
    char d[200];
    snprintf(d, sizeof d, "near-duplicate queries find their source first (%d/%d)", self_ok, nq / 2);
    TEST_COND(d, self_ok == nq / 2);
    snprintf(d, sizeof d, "top 1 = the exact float scan's best in %d/%d queries, in the top 10 in %d/%d; worst score error %.4f",
             top1, nq, in10, nq, worst_err);
    TEST_COND(d, top1 >= nq - 2 && in10 == nq && worst_err < 0.01);
    snprintf(d, sizeof d, "the top 32 re-ranked with the float vectors: the exact best first in %d/%d, exact scores, sorted", rr_ok, nq);
    TEST_COND(d, rr_ok == nq && rr_exact);
    struct search_hit h2[2] = {{1000, 0.5f, 0}, {1001, 0.4f, 1}};
    TEST_COND("rerank: a vector fetch cannot find: its error, the hit keeps its score",
              search_rerank(DIM, v, h2, 2, t_fetch, (void *)(intptr_t)1001) == FH_E_NOTFOUND &&
              h2[0].id == 1000 && fabsf(h2[0].score - 1.0f) < 1e-5f && h2[1].score == 0.4f);
    TEST_COND("3 threads give the same hits as 1", same_threads);
    TEST_COND("the scalar kernel gives the same hits", ref_same);
    // ties: the same vector twice, the earlier row first
    float one[2 * DIM];
    memcpy(one, v, sizeof(float) * DIM), memcpy(one + DIM, v, sizeof(float) * DIM);
    int64_t tid[2] = {-1, -2};
    struct search_gallery *g2;
    search_gallery_new(DIM, &g2);
    search_gallery_add(g2, one, tid, 2);
    TEST_COND("equal scores: insertion order decides", !search_gallery_query(g2, v, 2, pool, 0, hits, &nh) && nh == 2 &&
                                                         hits[0].id == -1 && hits[1].id == -2 && hits[0].score == hits[1].score);
    search_gallery_free(g2);
    fh_free(exact), fh_free(v), fh_free(ids);
    fh_pool_free(pool);
    search_gallery_free(g);
}

int main(void) {
    test_kernel();
    test_gallery();
    return TEST_REPORT();
}
