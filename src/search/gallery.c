// SPDX-License-Identifier: MIT
// search: the int8 gallery and its exact scan (search.h).
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "nn/kern/kern.h"
#include "search/search.h"

#define BLOCK 1024 // rows scored per kernel call (a chunk holds SEARCH_CHUNK / BLOCK blocks)

struct chunk {
    int8_t *codes;  // SEARCH_CHUNK x dim
    float *scale;   // SEARCH_CHUNK
    int64_t *id;    // SEARCH_CHUNK
};

struct search_gallery {
    int dim;
    int64_t n;
    struct chunk *chunks;
    int n_chunks, cap_chunks;
};

int search_gallery_new(int dim, struct search_gallery **out) {
    *out = NULL;
    if (dim < 1 || dim > SEARCH_MAX_DIM || dim > NN_I8DOT_MAX_D)
        return fh_fail(FH_E_ARG, "search: dimension %d not in 1..%d", dim, SEARCH_MAX_DIM);
    struct search_gallery *g = fh_calloc(1, sizeof *g);
    if (!g) return fh_fail(FH_E_NOMEM, "search: out of memory");
    g->dim = dim;
    *out = g;
    return FH_OK;
}

void search_gallery_free(struct search_gallery *g) {
    if (!g) return;
    for (int c = 0; c < g->n_chunks; c++) fh_free(g->chunks[c].codes), fh_free(g->chunks[c].scale), fh_free(g->chunks[c].id);
    fh_free(g->chunks);
    fh_free(g);
}

int64_t search_gallery_size(const struct search_gallery *g) { return g->n; }
int search_gallery_dim(const struct search_gallery *g) { return g->dim; }

size_t search_gallery_bytes(const struct search_gallery *g) {
    return sizeof *g + (size_t)g->cap_chunks * sizeof *g->chunks +
           (size_t)g->n_chunks * SEARCH_CHUNK * ((size_t)g->dim + sizeof(float) + sizeof(int64_t));
}

// v (dim floats) -> int8 codes and a scale: code = round(v / scale), scale = max|v| / 127
static float quantize(const float *v, int dim, int8_t *code) {
    float m = 0;
    for (int i = 0; i < dim; i++) m = fmaxf(m, fabsf(v[i]));
    if (m == 0) {
        memset(code, 0, (size_t)dim);
        return 0;
    }
    float inv = 127.0f / m;
    for (int i = 0; i < dim; i++) code[i] = (int8_t)lrintf(v[i] * inv);
    return m / 127.0f;
}

int search_gallery_add(struct search_gallery *g, const float *v, const int64_t *ids, int n) {
    if (n < 0 || (n && (!v || !ids))) return fh_fail(FH_E_ARG, "search: add needs n >= 0 vectors and ids");
    if (g->n + n > SEARCH_MAX_VECTORS)
        return fh_fail(FH_E_LIMIT, "search: %lld + %d vectors is more than the gallery's %d", (long long)g->n, n,
                       SEARCH_MAX_VECTORS);
    for (int i = 0; i < n; i++)
        for (int k = 0; k < g->dim; k++)
            if (!isfinite(v[(size_t)i * g->dim + k])) return fh_fail(FH_E_ARG, "search: vector %d is not finite", i);
    // room first, so that a failure adds nothing
    int need = (int)((g->n + n + SEARCH_CHUNK - 1) / SEARCH_CHUNK), have = g->n_chunks;
    if (need > g->cap_chunks) {
        int cap = g->cap_chunks ? g->cap_chunks : 4;
        while (cap < need) cap *= 2;
        struct chunk *t = fh_realloc(g->chunks, sizeof *t * (size_t)cap);
        if (!t) return fh_fail(FH_E_NOMEM, "search: out of memory");
        g->chunks = t, g->cap_chunks = cap;
    }
    for (int c = have; c < need; c++) {
        struct chunk *ch = &g->chunks[c];
        ch->codes = fh_malloc((size_t)SEARCH_CHUNK * (size_t)g->dim);
        ch->scale = fh_malloc(sizeof(float) * SEARCH_CHUNK);
        ch->id = fh_malloc(sizeof(int64_t) * SEARCH_CHUNK);
        if (!ch->codes || !ch->scale || !ch->id) {
            for (int d = have; d <= c; d++) fh_free(g->chunks[d].codes), fh_free(g->chunks[d].scale), fh_free(g->chunks[d].id);
            return fh_fail(FH_E_NOMEM, "search: out of memory for %d more vectors", n);
        }
    }
    g->n_chunks = need;
    for (int i = 0; i < n; i++, g->n++) {
        struct chunk *ch = &g->chunks[g->n / SEARCH_CHUNK];
        int64_t o = g->n % SEARCH_CHUNK;
        ch->scale[o] = quantize(v + (size_t)i * g->dim, g->dim, ch->codes + o * g->dim);
        ch->id[o] = ids[i];
    }
    return FH_OK;
}

// ---- the scan ------------------------------------------------------------------------
// A hit orders before another by higher score, then by lower row: a total order, so the
// k best do not depend on how the rows were split between threads.
static int better(float s, int64_t r, const struct search_hit *h) { return s > h->score || (s == h->score && r < h->row); }

// The k best so far as a heap whose root is the worst of them (every parent worse than its
// children), n of them; a new hit better than the root replaces it.
static void heap_push(struct search_hit *h, int *n, int k, float s, int64_t row, int64_t id) {
    struct search_hit x = {id, s, row};
    int i;
    if (*n == k) {
        if (!better(s, row, &h[0])) return;
        i = 0; // sift down from the root: the worse child moves up while x is better than it
        for (;;) {
            int l = 2 * i + 1, r = l + 1, w = l;
            if (l >= k) break;
            if (r < k && better(h[l].score, h[l].row, &h[r])) w = r;
            if (better(h[w].score, h[w].row, &x)) break;
            h[i] = h[w];
            i = w;
        }
    } else {
        i = (*n)++; // sift up: a parent better than x moves down
        while (i > 0) {
            int p = (i - 1) / 2;
            if (!better(h[p].score, h[p].row, &x)) break;
            h[i] = h[p];
            i = p;
        }
    }
    h[i] = x;
}

struct scan {
    const struct search_gallery *g;
    const struct nn_kern *kern;
    const int16_t *q;
    float qscale;
    int k;
    struct search_hit *heaps; // nth x k
    int *n_heap;              // nth
    int failed;
};

static void scan_task(void *ctx, int ith, int nth) {
    struct scan *s = ctx;
    const struct search_gallery *g = s->g;
    int64_t blocks = (g->n + BLOCK - 1) / BLOCK, b0 = blocks * ith / nth, b1 = blocks * (ith + 1) / nth;
    struct search_hit *h = s->heaps + (size_t)ith * s->k;
    int32_t dot[BLOCK];
    for (int64_t b = b0; b < b1; b++) {
        int64_t r0 = b * BLOCK, n = g->n - r0 < BLOCK ? g->n - r0 : BLOCK;
        const struct chunk *ch = &g->chunks[r0 / SEARCH_CHUNK];
        int64_t o = r0 % SEARCH_CHUNK;
        struct nn_i8dot_args a = {.N = (int)n, .D = g->dim, .rows = ch->codes + o * g->dim, .stride = (size_t)g->dim,
                                  .q = s->q, .out = dot};
        s->kern->i8_dot_rows(&a, 0, 1);
        for (int i = 0; i < n; i++)
            heap_push(h, &s->n_heap[ith], s->k, (float)dot[i] * ch->scale[o + i] * s->qscale, r0 + i, ch->id[o + i]);
    }
}

static int cmp_hits(const void *a, const void *b) {
    const struct search_hit *x = a, *y = b;
    return better(x->score, x->row, y) ? -1 : better(y->score, y->row, x) ? 1 : 0;
}

int search_gallery_query(const struct search_gallery *g, const float *q, int k, struct fh_pool *pool,
                         int force_ref, struct search_hit *hits, int *n_hits) {
    *n_hits = 0;
    if (k < 1 || k > SEARCH_MAX_K) return fh_fail(FH_E_ARG, "search: k %d not in 1..%d", k, SEARCH_MAX_K);
    if (!q) return fh_fail(FH_E_ARG, "search: no query");
    float m = 0;
    for (int i = 0; i < g->dim; i++) {
        if (!isfinite(q[i])) return fh_fail(FH_E_ARG, "search: the query is not finite");
        m = fmaxf(m, fabsf(q[i]));
    }
    if (!g->n) return FH_OK;
    int nth = fh_pool_size(pool);
    int16_t q16[SEARCH_MAX_DIM];
    float inv = m > 0 ? 32767.0f / m : 0;
    for (int i = 0; i < g->dim; i++) q16[i] = (int16_t)lrintf(q[i] * inv);
    struct scan s = {.g = g, .kern = nn_kern_best(force_ref), .q = q16, .qscale = m / 32767.0f, .k = k};
    s.heaps = fh_malloc(sizeof *s.heaps * (size_t)k * (size_t)nth);
    s.n_heap = fh_calloc((size_t)nth, sizeof *s.n_heap);
    if (!s.heaps || !s.n_heap) {
        fh_free(s.heaps), fh_free(s.n_heap);
        return fh_fail(FH_E_NOMEM, "search: out of memory");
    }
    fh_pool_run(pool, scan_task, &s);
    // merge: every thread's kept hits, sorted, the first k
    int total = 0;
    for (int t = 0; t < nth; t++) {
        memmove(s.heaps + total, s.heaps + (size_t)t * k, sizeof *s.heaps * (size_t)s.n_heap[t]);
        total += s.n_heap[t];
    }
    qsort(s.heaps, (size_t)total, sizeof *s.heaps, cmp_hits);
    *n_hits = total < k ? total : k;
    memcpy(hits, s.heaps, sizeof *hits * (size_t)*n_hits);
    fh_free(s.heaps), fh_free(s.n_heap);
    return FH_OK;
}

int search_rerank(int dim, const float *q, struct search_hit *hits, int n, search_fetch_fn fetch, void *ctx) {
    if (dim < 1 || dim > SEARCH_MAX_DIM || n < 0 || !q || (n && (!hits || !fetch)))
        return fh_fail(FH_E_ARG, "search: rerank needs a query, hits and a fetch function");
    float v[SEARCH_MAX_DIM];
    int rc = FH_OK;
    for (int i = 0; i < n; i++) {
        int r = fetch(ctx, hits[i].id, v);
        if (r) {
            if (!rc) rc = r;
            continue;
        }
        double s = 0;
        for (int k = 0; k < dim; k++) s += (double)v[k] * q[k];
        hits[i].score = (float)s;
    }
    qsort(hits, (size_t)n, sizeof *hits, cmp_hits);
    return rc;
}
