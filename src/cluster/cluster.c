// SPDX-License-Identifier: MIT
// Clustering on the sparse near-pair graph: graph building, single linkage, average
// linkage, Chinese whispers, DBSCAN.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "cluster/cluster.h"
#include "nn/kern/kern.h"

// ---- the near graph -------------------------------------------------------------------
struct graph_job {
    const float *x;
    int n, dim;
    float cut2;               // cutoff^2 in squared distance
    struct clus_edge **part;  // per thread
    size_t *count, *cap;
    int *err;
};

static void graph_task(void *ctx, int ith, int nth) {
    struct graph_job *j = ctx;
    // rows a = ith, ith+nth, ... (interleaved: row a has n-a-1 pairs, so this balances)
    for (int a = ith; a < j->n; a += nth) {
        const float *xa = j->x + (size_t)a * j->dim;
        for (int b = a + 1; b < j->n; b++) {
            const float *xb = j->x + (size_t)b * j->dim;
            float dot = 0;
            for (int k = 0; k < j->dim; k++) dot += xa[k] * xb[k];
            float d2 = 2 - 2 * dot; // both unit length
            if (d2 >= j->cut2) continue;
            if (j->count[ith] == j->cap[ith]) {
                size_t nc = j->cap[ith] ? 2 * j->cap[ith] : 4096;
                struct clus_edge *p = fh_realloc(j->part[ith], nc * sizeof *p);
                if (!p) { j->err[ith] = 1; return; }
                j->part[ith] = p, j->cap[ith] = nc;
            }
            j->part[ith][j->count[ith]++] = (struct clus_edge){a, b, sqrtf(d2 > 0 ? d2 : 0)};
        }
    }
}

static int cmp_edge(const void *p, const void *q) {
    const struct clus_edge *x = p, *y = q;
    return x->a != y->a ? (x->a > y->a) - (x->a < y->a) : (x->b > y->b) - (x->b < y->b);
}

// The threads' edge lists (part[t], count[t] edges; err[t] set when one ran out of memory)
// joined into one array sorted by (a, b) in *edges; every part is freed. rc: the caller's
// status so far (nothing is joined unless FH_OK).
static int gather_edges(int rc, int nt, struct clus_edge **part, const size_t *count, const int *err,
                        struct clus_edge **edges, size_t *n_edges) {
    size_t total = 0;
    for (int t = 0; !rc && t < nt; t++) {
        if (err[t]) rc = fh_fail(FH_E_NOMEM, "cluster: out of memory for the near graph");
        total += count[t];
    }
    if (!rc && total > ((size_t)1 << 31)) rc = fh_fail(FH_E_LIMIT, "cluster: %zu near pairs", total);
    struct clus_edge *e = NULL;
    if (!rc && !(e = fh_malloc((total ? total : 1) * sizeof *e))) rc = fh_fail(FH_E_NOMEM, "cluster: out of memory");
    size_t k = 0;
    for (int t = 0; !rc && t < nt; t++) {
        if (count[t]) memcpy(e + k, part[t], count[t] * sizeof *e);
        k += count[t];
    }
    for (int t = 0; part && t < nt; t++) fh_free(part[t]);
    if (rc) return rc;
    qsort(e, total, sizeof *e, cmp_edge);
    *edges = e, *n_edges = total;
    return FH_OK;
}

int clus_graph(const float *x, int n, int dim, float cutoff, struct fh_pool *pool,
               struct clus_edge **edges, size_t *n_edges) {
    *edges = NULL, *n_edges = 0;
    if (n < 0 || dim < 1 || !(cutoff > 0)) return fh_fail(FH_E_ARG, "cluster: bad graph arguments");
    int nt = fh_pool_size(pool);
    struct graph_job j = {x, n, dim, cutoff * cutoff, fh_calloc((size_t)nt, sizeof(void *)),
                          fh_calloc((size_t)nt, sizeof(size_t)), fh_calloc((size_t)nt, sizeof(size_t)),
                          fh_calloc((size_t)nt, sizeof(int))};
    int rc = FH_OK;
    if (!j.part || !j.count || !j.cap || !j.err) rc = fh_fail(FH_E_NOMEM, "cluster: out of memory");
    if (!rc) fh_pool_run(pool, graph_task, &j);
    rc = gather_edges(rc, nt, j.part, j.count, j.err, edges, n_edges);
    fh_free(j.part), fh_free(j.count), fh_free(j.cap), fh_free(j.err);
    return rc;
}

// ---- the near graph through an int8 screen ---------------------------------------------------
// Every pair is first scored with int8 codes (nn's i8_dot_rows: rows as int8 with a scale per
// vector, the query as int16), in blocks of QB queries against RT-row tiles so the tile stays
// in cache. A pair goes on to the exact float check (the loop of graph_task, so distances are
// bit-identical to clus_graph's) when its int8 dot plus a proven bound on the quantisation
// error can reach the cutoff; with the bound no pair of clus_graph's is ever missed.
enum { QB = 32, RT = 2048 };

struct g8_job {
    const float *x;
    int n, from, dim;
    float cut2, dot_cut;
    const int8_t *code;       // n x dim
    const float *scale, *l1;  // per vector: int8 scale, L1 norm
    const struct nn_kern *kern;
    struct clus_edge **part;
    size_t *count, *cap;
    int *err;
    int32_t *out;             // nth x RT
};

static int push_edge(struct g8_job *j, int ith, int a, int b, float d2) {
    if (j->count[ith] == j->cap[ith]) {
        size_t nc = j->cap[ith] ? 2 * j->cap[ith] : 4096;
        struct clus_edge *p = fh_realloc(j->part[ith], nc * sizeof *p);
        if (!p) return j->err[ith] = 1, -1;
        j->part[ith] = p, j->cap[ith] = nc;
    }
    j->part[ith][j->count[ith]++] = (struct clus_edge){a, b, sqrtf(d2 > 0 ? d2 : 0)};
    return 0;
}

static void g8_task(void *ctx, int ith, int nth) {
    struct g8_job *j = ctx;
    int n = j->n, dim = j->dim;
    int32_t *out = j->out + (size_t)ith * RT;
    int16_t q16[CLUS_GRAPH_MAX_DIM];
    for (int q0 = ith * QB; q0 < n; q0 += nth * QB) {
        int q1 = q0 + QB < n ? q0 + QB : n;
        int first = q0 + 1 > j->from ? q0 + 1 : j->from;
        for (int r0 = first; r0 < n; r0 += RT) {
            int r1 = r0 + RT < n ? r0 + RT : n;
            for (int a = q0; a < q1; a++) {
                int b0 = a + 1 > r0 ? a + 1 : r0;
                if (b0 >= r1) continue;
                const float *xa = j->x + (size_t)a * dim;
                float m = 0;
                for (int k = 0; k < dim; k++) m = fmaxf(m, fabsf(xa[k]));
                float u = m / 32767.0f, inv = m > 0 ? 32767.0f / m : 0;
                for (int k = 0; k < dim; k++) q16[k] = (int16_t)lrintf(xa[k] * inv);
                struct nn_i8dot_args args = {.N = r1 - b0, .D = dim, .rows = j->code + (size_t)b0 * dim,
                                             .stride = (size_t)dim, .q = q16, .out = out};
                j->kern->i8_dot_rows(&args, 0, 1);
                // |true - approx| <= s/2 (L1(q) + dim u/2) + u/2 (L1(v) + dim s/2) + dim u s/4
                float la = j->l1[a] + dim * u * 0.5f;
                for (int i = 0; i < r1 - b0; i++) {
                    int b = b0 + i;
                    float sb = j->scale[b];
                    float approx = (float)out[i] * u * sb;
                    float bound = 0.5f * sb * la + 0.5f * u * (j->l1[b] + dim * sb * 0.5f) + 0.25f * dim * u * sb;
                    if (approx + 1.001f * bound + 1e-6f <= j->dot_cut) continue;
                    const float *xb = j->x + (size_t)b * dim;
                    float dot = 0;
                    for (int k = 0; k < dim; k++) dot += xa[k] * xb[k];
                    float d2 = 2 - 2 * dot;
                    if (d2 >= j->cut2) continue;
                    if (push_edge(j, ith, a, b, d2)) return;
                }
            }
        }
    }
}

int clus_graph_i8(const float *x, int n, int dim, float cutoff, struct fh_pool *pool, int force_ref,
                  struct clus_edge **edges, size_t *n_edges) {
    return clus_graph_i8_from(x, n, 0, dim, cutoff, pool, force_ref, edges, n_edges);
}

int clus_graph_i8_from(const float *x, int n, int from, int dim, float cutoff, struct fh_pool *pool,
                       int force_ref, struct clus_edge **edges, size_t *n_edges) {
    *edges = NULL, *n_edges = 0;
    if (n < 0 || from < 0 || from > n || dim < 1 || dim > CLUS_GRAPH_MAX_DIM || !(cutoff > 0))
        return fh_fail(FH_E_ARG, "cluster: bad graph arguments");
    int nt = fh_pool_size(pool);
    struct g8_job j = {x, n, from, dim, cutoff * cutoff, 1 - cutoff * cutoff / 2, NULL, NULL, NULL,
                       nn_kern_best(force_ref), fh_calloc((size_t)nt, sizeof(void *)),
                       fh_calloc((size_t)nt, sizeof(size_t)), fh_calloc((size_t)nt, sizeof(size_t)),
                       fh_calloc((size_t)nt, sizeof(int)), fh_malloc((size_t)nt * RT * sizeof(int32_t))};
    int8_t *code = fh_malloc((size_t)(n ? n : 1) * dim);
    float *scale = fh_malloc((size_t)(n ? n : 1) * sizeof *scale), *l1 = fh_malloc((size_t)(n ? n : 1) * sizeof *l1);
    int rc = FH_OK;
    if (!j.part || !j.count || !j.cap || !j.err || !j.out || !code || !scale || !l1)
        rc = fh_fail(FH_E_NOMEM, "cluster: out of memory");
    for (int i = 0; !rc && i < n; i++) { // int8 codes: code = round(v / s), s = max|v| / 127
        const float *v = x + (size_t)i * dim;
        float m = 0, sum = 0;
        for (int k = 0; k < dim; k++) {
            if (!isfinite(v[k])) { rc = fh_fail(FH_E_ARG, "cluster: vector %d is not finite", i); break; }
            m = fmaxf(m, fabsf(v[k])), sum += fabsf(v[k]);
        }
        float inv = m > 0 ? 127.0f / m : 0;
        for (int k = 0; k < dim; k++) code[(size_t)i * dim + k] = (int8_t)lrintf(v[k] * inv);
        scale[i] = m / 127.0f, l1[i] = sum;
    }
    j.code = code, j.scale = scale, j.l1 = l1;
    if (!rc) fh_pool_run(pool, g8_task, &j);
    rc = gather_edges(rc, nt, j.part, j.count, j.err, edges, n_edges);
    fh_free(j.part), fh_free(j.count), fh_free(j.cap), fh_free(j.err), fh_free(j.out);
    fh_free(code), fh_free(scale), fh_free(l1);
    return rc;
}

// relabel roots/arbitrary ids to 0..k-1 in order of first appearance
static int relabel(int n, int *label) {
    int *map = fh_malloc((size_t)(n ? n : 1) * sizeof *map), k = 0;
    if (!map) return fh_fail(FH_E_NOMEM, "cluster: out of memory");
    for (int i = 0; i < n; i++) map[i] = -1;
    for (int i = 0; i < n; i++) {
        if (map[label[i]] < 0) map[label[i]] = k++;
        label[i] = map[label[i]];
    }
    fh_free(map);
    return k;
}

// ---- single linkage --------------------------------------------------------------------
static int find(int *p, int i) {
    while (p[i] != i) i = p[i] = p[p[i]];
    return i;
}

int clus_components(int n, const struct clus_edge *e, size_t ne, float t, int *label) {
    for (int i = 0; i < n; i++) label[i] = i;
    for (size_t k = 0; k < ne; k++)
        if (e[k].d < t) {
            int a = find(label, e[k].a), b = find(label, e[k].b);
            if (a != b) label[a > b ? a : b] = a < b ? a : b;
        }
    for (int i = 0; i < n; i++) label[i] = find(label, i);
    return relabel(n, label);
}

// ---- average linkage on the sparse graph -------------------------------------------------
// Each live cluster keeps its neighbours sorted by id with the sum and count of known
// pair distances, plus what the constraints need (its photos, its user tag, the tags its
// members rejected). A heap holds candidate merges stamped with both clusters' versions;
// stale entries are skipped when popped.
struct nb {
    int id, cnt;
    double sum;
};
struct i64s {              // a sorted set of int64
    int64_t *v;
    int n;
};
struct node {
    struct nb *v;
    int n, cap;
    int size, ver;
    struct i64s photos, rejects;
    int64_t tag;
};
struct cand {
    double avg;
    int a, b, va, vb;
};

static int heap_push(struct cand **h, size_t *n, size_t *cap, struct cand c) {
    if (*n == *cap) {
        size_t nc = *cap ? 2 * *cap : 1024;
        struct cand *p = fh_realloc(*h, nc * sizeof *p);
        if (!p) return -1;
        *h = p, *cap = nc;
    }
    size_t i = (*n)++;
    while (i && (*h)[(i - 1) / 2].avg > c.avg) (*h)[i] = (*h)[(i - 1) / 2], i = (i - 1) / 2;
    (*h)[i] = c;
    return 0;
}

static struct cand heap_pop(struct cand *h, size_t *n) {
    struct cand top = h[0], last = h[--*n];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= *n) break;
        if (c + 1 < *n && h[c + 1].avg < h[c].avg) c++;
        if (h[c].avg >= last.avg) break;
        h[i] = h[c], i = c;
    }
    if (*n) h[i] = last;
    return top;
}

static int nb_push(struct node *x, struct nb v) {
    if (x->n == x->cap) {
        int nc = x->cap ? 2 * x->cap : 4;
        struct nb *p = fh_realloc(x->v, (size_t)nc * sizeof *p);
        if (!p) return -1;
        x->v = p, x->cap = nc;
    }
    x->v[x->n++] = v;
    return 0;
}

static struct nb *nb_find(struct node *x, int id) {
    int lo = 0, hi = x->n - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        if (x->v[mid].id == id) return &x->v[mid];
        if (x->v[mid].id < id) lo = mid + 1;
        else hi = mid - 1;
    }
    return NULL;
}

static double avg_of(const struct node *x, const struct node *y, const struct nb *v, double cutoff) {
    double pairs = (double)x->size * y->size;
    return (v->sum + (pairs - v->cnt) * cutoff) / pairs;
}

static int i64s_has(const struct i64s *s, int64_t x) {
    int lo = 0, hi = s->n - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        if (s->v[mid] == x) return 1;
        if (s->v[mid] < x) lo = mid + 1;
        else hi = mid - 1;
    }
    return 0;
}
static int i64s_meet(const struct i64s *a, const struct i64s *b) {
    for (int i = 0, j = 0; i < a->n && j < b->n;) {
        if (a->v[i] == b->v[j]) return 1;
        if (a->v[i] < b->v[j]) i++;
        else j++;
    }
    return 0;
}
// a := a ∪ b (b is freed)
static int i64s_union(struct i64s *a, struct i64s *b) {
    if (!b->n) return 0;
    int64_t *m = fh_malloc((size_t)(a->n + b->n) * sizeof *m);
    if (!m) return -1;
    int i = 0, j = 0, k = 0;
    while (i < a->n || j < b->n) {
        int64_t x = j >= b->n || (i < a->n && a->v[i] < b->v[j]) ? a->v[i++] : b->v[j++];
        if (!k || m[k - 1] != x) m[k++] = x;
    }
    fh_free(a->v), fh_free(b->v);
    a->v = m, a->n = k, b->v = NULL, b->n = 0;
    return 0;
}
static int i64s_add(struct i64s *a, int64_t x) {
    struct i64s one = {fh_malloc(sizeof(int64_t)), 1};
    if (!one.v) return -1;
    one.v[0] = x;
    return i64s_union(a, &one);
}

// may clusters x and y become one?
static int allowed(const struct node *x, const struct node *y) {
    if (x->tag && y->tag && x->tag != y->tag) return 0;
    if (x->tag && i64s_has(&y->rejects, x->tag)) return 0;
    if (y->tag && i64s_has(&x->rejects, y->tag)) return 0;
    return !i64s_meet(&x->photos, &y->photos);
}

struct avg_ctx {
    struct node *g;
    int *parent;
    struct cand *h;
    size_t hn, hcap;
    double cutoff, t;
};

// merge cluster b into a; push the new candidates (avg < t) of a
static int merge(struct avg_ctx *c, int ia, int ib) {
    struct node *A = &c->g[ia], *B = &c->g[ib];
    struct nb *m = fh_malloc((size_t)(A->n + B->n + 1) * sizeof *m);
    if (!m || i64s_union(&A->photos, &B->photos) || i64s_union(&A->rejects, &B->rejects)) {
        fh_free(m);
        return FH_E_NOMEM;
    }
    int i = 0, j = 0, k = 0;
    while (i < A->n || j < B->n) {
        struct nb v;
        if (j >= B->n || (i < A->n && A->v[i].id < B->v[j].id)) v = A->v[i++];
        else if (i >= A->n || B->v[j].id < A->v[i].id) v = B->v[j++];
        else v = (struct nb){A->v[i].id, A->v[i].cnt + B->v[j].cnt, A->v[i].sum + B->v[j].sum}, i++, j++;
        if (v.id != ia && v.id != ib) m[k++] = v;
    }
    fh_free(A->v), fh_free(B->v);
    A->v = m, A->n = A->cap = k;
    A->size += B->size, A->ver++;
    if (!A->tag) A->tag = B->tag;
    B->v = NULL, B->n = B->cap = 0, B->size = 0, B->ver++;
    c->parent[ib] = ia;
    // neighbours: fold their entry for B into their entry for A, push new candidates
    for (int p = 0; p < A->n; p++) {
        struct node *X = &c->g[A->v[p].id];
        struct nb *xa = nb_find(X, ia), *xb = nb_find(X, ib);
        if (xb && xa) {
            xa->cnt += xb->cnt, xa->sum += xb->sum;
            memmove(xb, xb + 1, (size_t)(X->v + X->n - xb - 1) * sizeof *xb);
            X->n--;
        } else if (xb) { // B's slot becomes A's; move it to keep the list sorted
            int q = (int)(xb - X->v);
            struct nb v = X->v[q];
            v.id = ia;
            while (q > 0 && X->v[q - 1].id > v.id) X->v[q] = X->v[q - 1], q--;
            while (q + 1 < X->n && X->v[q + 1].id < v.id) X->v[q] = X->v[q + 1], q++;
            X->v[q] = v;
        }
        double avg = avg_of(A, X, &A->v[p], c->cutoff);
        if (avg < c->t) {
            int a = ia < A->v[p].id ? ia : A->v[p].id, b = ia < A->v[p].id ? A->v[p].id : ia;
            if (heap_push(&c->h, &c->hn, &c->hcap, (struct cand){avg, a, b, c->g[a].ver, c->g[b].ver}))
                return FH_E_NOMEM;
        }
    }
    return FH_OK;
}

int clus_average_c(int n, const struct clus_edge *e, size_t ne, float cutoff, float t,
                   const struct clus_constraints *cons, int *label) {
    struct avg_ctx c = {fh_calloc((size_t)(n ? n : 1), sizeof *c.g), fh_malloc((size_t)(n ? n : 1) * sizeof(int)),
                        NULL, 0, 0, cutoff, t};
    int rc = c.g && c.parent ? FH_OK : FH_E_NOMEM;
    for (int i = 0; !rc && i < n; i++) {
        c.g[i].size = 1, c.parent[i] = i;
        c.g[i].tag = cons && cons->tag ? cons->tag[i] : 0;
        if (cons && cons->photo && i64s_add(&c.g[i].photos, cons->photo[i])) rc = FH_E_NOMEM;
    }
    for (int r = 0; !rc && cons && r < cons->n_reject; r++) {
        int it = cons->reject_item[r];
        if (it < 0 || it >= n) { rc = FH_E_ARG; break; }
        if (i64s_add(&c.g[it].rejects, cons->reject_tag[r])) rc = FH_E_NOMEM;
    }
    for (size_t k = 0; !rc && k < ne; k++)
        if (nb_push(&c.g[e[k].a], (struct nb){e[k].b, 1, e[k].d}) ||
            nb_push(&c.g[e[k].b], (struct nb){e[k].a, 1, e[k].d}))
            rc = FH_E_NOMEM;
    // b's lists were filled in order of a and may interleave with larger ids: sort once
    for (int i = 0; !rc && i < n; i++) {
        struct node *x = &c.g[i];
        for (int p = 1; p < x->n; p++) { // insertion sort: lists are nearly sorted
            struct nb v = x->v[p];
            int q = p - 1;
            while (q >= 0 && x->v[q].id > v.id) x->v[q + 1] = x->v[q], q--;
            x->v[q + 1] = v;
        }
    }
    // forced groups first (a user's persons), then the threshold merges
    if (!rc && cons && cons->group) {
        int *lead = fh_malloc((size_t)(n ? n : 1) * sizeof *lead);
        if (!lead) rc = FH_E_NOMEM;
        for (int i = 0; !rc && i < n; i++) lead[i] = -1;
        for (int i = 0; !rc && i < n; i++) {
            int gid = cons->group[i];
            if (gid < 0) continue;
            if (gid >= n) { rc = FH_E_ARG; break; }
            int r = lead[gid];
            if (r < 0) { lead[gid] = i; continue; }
            while (c.parent[r] != r) r = c.parent[r];
            rc = merge(&c, r, i);
        }
        fh_free(lead);
    }
    for (size_t k = 0; !rc && k < ne; k++) {
        int a = e[k].a, b = e[k].b;
        if (c.parent[a] != a || c.parent[b] != b) continue; // handled by the merges above
        if (e[k].d < t && heap_push(&c.h, &c.hn, &c.hcap, (struct cand){e[k].d, a, b, c.g[a].ver, c.g[b].ver}))
            rc = FH_E_NOMEM;
    }
    // pairs of pre-merged groups: their candidates were pushed by merge(); nothing else
    while (!rc && c.hn) {
        struct cand x = heap_pop(c.h, &c.hn);
        if (x.avg >= t) break;
        struct node *A = &c.g[x.a], *B = &c.g[x.b];
        if (A->size == 0 || B->size == 0 || A->ver != x.va || B->ver != x.vb || !allowed(A, B)) continue;
        rc = merge(&c, x.a, x.b);
    }
    if (!rc)
        for (int i = 0; i < n; i++) {
            int r = i;
            while (c.parent[r] != r) r = c.parent[r];
            label[i] = r;
        }
    for (int i = 0; c.g && i < n; i++) fh_free(c.g[i].v), fh_free(c.g[i].photos.v), fh_free(c.g[i].rejects.v);
    fh_free(c.g), fh_free(c.h), fh_free(c.parent);
    if (rc == FH_E_ARG) return fh_fail(FH_E_ARG, "cluster: constraint index out of range");
    if (rc) return fh_fail(FH_E_NOMEM, "cluster: out of memory");
    return relabel(n, label);
}

int clus_average(int n, const struct clus_edge *e, size_t ne, float cutoff, float t, int *label) {
    return clus_average_c(n, e, ne, cutoff, t, NULL, label);
}

// ---- Chinese whispers ----------------------------------------------------------------------
// adjacency in CSR form from the sorted edge list, restricted to d < t
static int csr(int n, const struct clus_edge *e, size_t ne, float t, size_t **off, int **nbr, float **w) {
    *off = fh_calloc((size_t)n + 1, sizeof **off);
    size_t m = 0;
    for (size_t k = 0; k < ne; k++) m += e[k].d < t;
    *nbr = fh_malloc((2 * m + 1) * sizeof **nbr);
    *w = fh_malloc((2 * m + 1) * sizeof **w);
    if (!*off || !*nbr || !*w) return fh_fail(FH_E_NOMEM, "cluster: out of memory");
    for (size_t k = 0; k < ne; k++)
        if (e[k].d < t) (*off)[e[k].a + 1]++, (*off)[e[k].b + 1]++;
    for (int i = 0; i < n; i++) (*off)[i + 1] += (*off)[i];
    size_t *fill = fh_malloc((size_t)(n ? n : 1) * sizeof *fill);
    if (!fill) return fh_fail(FH_E_NOMEM, "cluster: out of memory");
    memcpy(fill, *off, (size_t)n * sizeof *fill);
    for (size_t k = 0; k < ne; k++)
        if (e[k].d < t) {
            float wt = 1 - e[k].d / t;
            (*nbr)[fill[e[k].a]] = e[k].b, (*w)[fill[e[k].a]++] = wt;
            (*nbr)[fill[e[k].b]] = e[k].a, (*w)[fill[e[k].b]++] = wt;
        }
    fh_free(fill);
    return FH_OK;
}

int clus_chinese_whispers(int n, const struct clus_edge *e, size_t ne, float t, int iters,
                          uint64_t seed, int *label) {
    size_t *off = NULL;
    int *nbr = NULL, *order = fh_malloc((size_t)(n ? n : 1) * sizeof *order);
    float *w = NULL, *acc = fh_calloc((size_t)(n ? n : 1), sizeof *acc);
    int rc = order && acc ? csr(n, e, ne, t, &off, &nbr, &w) : fh_fail(FH_E_NOMEM, "cluster: out of memory");
    uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
    for (int i = 0; !rc && i < n; i++) label[i] = i, order[i] = i;
    for (int it = 0; !rc && it < iters; it++) {
        for (int i = n - 1; i > 0; i--) { // seeded Fisher-Yates
            s ^= s << 13, s ^= s >> 7, s ^= s << 17;
            int j = (int)(s % (uint64_t)(i + 1)), tmp = order[i];
            order[i] = order[j], order[j] = tmp;
        }
        int changed = 0;
        for (int q = 0; q < n; q++) {
            int i = order[q], best = label[i];
            float bw = 0;
            for (size_t k = off[i]; k < off[i + 1]; k++) acc[label[nbr[k]]] += w[k];
            for (size_t k = off[i]; k < off[i + 1]; k++) {
                int l = label[nbr[k]];
                if (acc[l] > bw || (acc[l] == bw && l < best)) bw = acc[l], best = l;
            }
            for (size_t k = off[i]; k < off[i + 1]; k++) acc[label[nbr[k]]] = 0;
            changed += best != label[i];
            label[i] = best;
        }
        if (!changed) break;
    }
    fh_free(off), fh_free(nbr), fh_free(w), fh_free(order), fh_free(acc);
    return rc ? rc : relabel(n, label);
}

// ---- DBSCAN ----------------------------------------------------------------------------------
int clus_dbscan(int n, const struct clus_edge *e, size_t ne, float eps, int min_pts, int *label) {
    size_t *off = NULL;
    int *nbr = NULL, *stack = fh_malloc((size_t)(n ? n : 1) * sizeof *stack);
    float *w = NULL;
    int rc = stack ? csr(n, e, ne, eps, &off, &nbr, &w) : fh_fail(FH_E_NOMEM, "cluster: out of memory");
    for (int i = 0; !rc && i < n; i++) label[i] = -1;
    int k = 0;
    for (int i = 0; !rc && i < n; i++) {
        if (label[i] >= 0 || (int)(off[i + 1] - off[i]) + 1 < min_pts) continue;
        // grow a cluster from core point i
        int sp = 0, c = n + k++; // temporary ids above n, relabelled at the end
        label[i] = c, stack[sp++] = i;
        while (sp) {
            int p = stack[--sp];
            if ((int)(off[p + 1] - off[p]) + 1 < min_pts) continue; // border: no expansion
            for (size_t q = off[p]; q < off[p + 1]; q++)
                if (label[nbr[q]] < 0) label[nbr[q]] = c, stack[sp++] = nbr[q];
        }
    }
    fh_free(off), fh_free(nbr), fh_free(w), fh_free(stack);
    if (rc) return rc;
    // noise -> singletons; map temporary ids and singletons to 0..k-1
    int *tmp = fh_malloc((size_t)(n ? n : 1) * sizeof *tmp);
    if (!tmp) return fh_fail(FH_E_NOMEM, "cluster: out of memory");
    for (int i = 0; i < n; i++) tmp[i] = label[i] < 0 ? i : label[i] - n;
    // make ids distinct between clusters (0..k-1 -> i of first member) and singletons
    int *first = fh_malloc((size_t)(k ? k : 1) * sizeof *first);
    if (!first) { fh_free(tmp); return fh_fail(FH_E_NOMEM, "cluster: out of memory"); }
    for (int c = 0; c < k; c++) first[c] = -1;
    for (int i = 0; i < n; i++)
        if (label[i] >= 0 && first[label[i] - n] < 0) first[label[i] - n] = i;
    for (int i = 0; i < n; i++) label[i] = label[i] < 0 ? i : first[tmp[i]];
    fh_free(tmp), fh_free(first);
    return relabel(n, label);
}
