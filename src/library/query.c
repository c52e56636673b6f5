// SPDX-License-Identifier: MIT
// Questions to the library that the UI asks often: "who is this" (lib_embed + lib_match,
// lib_search) and the unknown faces with a suggested person (lib_unknown_faces). The engine
// and the owner's person index stay warm in struct lib: the models load once, the engine is
// made once per thread count, and the index is rebuilt only when the store's change stamp
// moves (another connection committed, or this one wrote) or another owner is asked.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/cluster.h"
#include "library/library_int.h"

struct lib_px_cache {
    int valid;
    int64_t owner, stamp[2];
    struct persons_index px;
};

void lib_query_free(struct lib *L) {
    if (L->pxc) lib_persons_free(&L->pxc->px);
    fh_free(L->pxc);
    fh_engine_free(L->e);
    lib_gallery_free(L->gal);
    L->pxc = NULL, L->e = NULL, L->gal = NULL;
}

int lib_persons_cached(struct lib *L, int64_t owner, const struct persons_index **out) {
    int64_t stamp[2];
    int rc = store_change_stamp(L->s, stamp);
    if (rc) return rc;
    if (!L->pxc && !(L->pxc = fh_calloc(1, sizeof *L->pxc))) return fh_fail(FH_E_NOMEM, "library: out of memory");
    struct lib_px_cache *c = L->pxc;
    if (!c->valid || c->owner != owner || memcmp(c->stamp, stamp, sizeof stamp)) {
        lib_persons_free(&c->px);
        c->valid = 0;
        if ((rc = lib_persons_load(L, owner, &c->px))) {
            lib_persons_free(&c->px);
            return rc;
        }
        c->valid = 1, c->owner = owner;
        memcpy(c->stamp, stamp, sizeof stamp);
    }
    *out = &c->px;
    return FH_OK;
}

// L's engine for o->threads, made on first need; call with engine_mu held
static int warm_engine(struct lib *L, const struct lib_options *o) {
    int rc = FH_OK;
    if (L->e && L->e_threads != o->threads) fh_engine_free(L->e), L->e = NULL;
    if (!L->e && !(rc = fh_engine_new(L->m, o->threads, &L->e))) L->e_threads = o->threads;
    return rc;
}

int lib_analyse_warm(struct lib *L, const struct lib_options *o, const uint8_t *data, size_t n,
                     struct lib_result **out) {
    *out = NULL;
    int rc = lib_models(L);
    if (rc) return rc;
    pthread_mutex_lock(&L->engine_mu);
    if (!(rc = warm_engine(L, o)) && !(*out = lib_analyse(L->e, o, data, n)))
        rc = fh_fail(FH_E_NOMEM, "library: out of memory");
    pthread_mutex_unlock(&L->engine_mu);
    return rc;
}

int lib_embed(struct lib *L, const struct img *im, const struct lib_options *o, struct fh_face **out, int *n) {
    *out = NULL, *n = 0;
    int rc = lib_models(L), k = 0;
    if (rc) return rc;
    pthread_mutex_lock(&L->engine_mu);
    rc = warm_engine(L, o);
    struct fh_config cfg = fh_config_default();
    cfg.min_face = o->min_face, cfg.flip = o->flip, cfg.detector = o->detector;
    struct fh_face *faces = NULL;
    if (!rc) rc = fh_process(L->e, im, &cfg, &faces, &k);
    struct fh_face *copy = rc ? NULL : fh_malloc((size_t)(k ? k : 1) * sizeof *copy);
    if (!rc && !copy) rc = fh_fail(FH_E_NOMEM, "library: out of memory");
    if (!rc) memcpy(copy, faces, (size_t)k * sizeof *copy); // the engine's array is reused
    pthread_mutex_unlock(&L->engine_mu);
    if (!rc) *out = copy, *n = k;
    return rc;
}

int lib_match(struct lib *L, int64_t owner, const struct fh_face *faces, int n, const struct lib_options *o,
              struct lib_match **out) {
    *out = NULL;
    const struct persons_index *px;
    int rc = lib_persons_cached(L, owner, &px);
    if (rc) return rc;
    struct lib_match *m = fh_calloc((size_t)(n > 0 ? n : 1), sizeof *m);
    if (!m) return fh_fail(FH_E_NOMEM, "library: out of memory");
    for (int i = 0; i < n; i++) {
        m[i].face = faces[i];
        m[i].person_id = lib_persons_nearest(px, faces[i].embedding, NULL, 0, &m[i].distance);
        if (m[i].distance >= o->cluster_t) m[i].person_id = 0;
    }
    *out = m;
    return FH_OK;
}

int lib_search(struct lib *L, int64_t owner, const struct img *im, const struct lib_options *o,
               struct lib_match **out, int *n) {
    struct fh_face *faces = NULL;
    int k, rc = lib_model_check(L);
    if (!rc) rc = lib_embed(L, im, o, &faces, &k);
    if (!rc && !(rc = lib_match(L, owner, faces, k, o, out))) *n = k;
    fh_free(faces);
    return rc;
}

// ---- unknown faces with suggestions --------------------------------------------------------------
struct uscan {
    struct lib_unknown *v;
    int n, cap, total, with_trash;
    float *emb;                 // n x FH_EMB_DIM
    int64_t *hidden;            // hidden persons: never suggested
    int n_hidden, cap_hidden;
};
static int hidden_cb(void *ctx, const struct store_person *p) {
    struct uscan *u = ctx;
    if (!p->hidden) return 0;
    if (fh_grow((void **)&u->hidden, &u->cap_hidden, u->n_hidden + 1, sizeof *u->hidden)) return FH_E_NOMEM;
    u->hidden[u->n_hidden++] = p->id;
    return 0;
}
static int unknown_cb(void *ctx, const struct store_face *f) {
    struct uscan *u = ctx;
    if (f->person_id || (f->trash && !u->with_trash)) return 0;
    u->total++;
    if (u->n == LIB_UNKNOWN_SCAN_MAX) return 0;
    if (u->n == u->cap) {
        int nc = u->cap ? 2 * u->cap : 64;
        struct lib_unknown *v = fh_realloc(u->v, (size_t)nc * sizeof *v);
        if (v) u->v = v;
        float *e = v ? fh_realloc(u->emb, (size_t)nc * FH_EMB_DIM * sizeof *e) : NULL;
        if (!e) return FH_E_NOMEM;
        u->emb = e, u->cap = nc;
    }
    struct lib_unknown *x = &u->v[u->n];
    memset(x, 0, sizeof *x);
    x->face = *f;
    x->face.embedding = NULL, x->face.thumb = NULL, x->face.thumb_size = 0;
    x->has_emb = f->dim == FH_EMB_DIM && f->embedding && !f->trash;
    if (x->has_emb) memcpy(u->emb + (size_t)u->n * FH_EMB_DIM, f->embedding, FH_EMB_DIM * sizeof(float));
    u->n++;
    return 0;
}
static int cmp_unknown(const void *a, const void *b) {
    const struct lib_unknown *x = a, *y = b;
    int sx = x->person != 0, sy = y->person != 0;
    if (sx != sy) return sy - sx; // faces with a suggestion first, nearest first
    if (sx && x->distance != y->distance) return x->distance < y->distance ? -1 : 1;
    return (x->face.id > y->face.id) - (x->face.id < y->face.id);
}

static int cmp_rank(const void *a, const void *b) {
    const struct lib_unknown *x = a, *y = b;
    unsigned rx = (unsigned)x->rank, ry = (unsigned)y->rank; // -1 (in no question) last
    if (rx != ry) return rx < ry ? -1 : 1;
    return (x->face.id > y->face.id) - (x->face.id < y->face.id);
}

// each face's place in the review queue (lib_review): question i, face j -> i x MAX + j
struct place {
    int64_t face;
    int rank, group;
};
static int cmp_place(const void *a, const void *b) {
    int64_t x = ((const struct place *)a)->face, y = ((const struct place *)b)->face;
    return (x > y) - (x < y);
}
static int rank_by_gain(struct lib *L, int64_t owner, struct lib_unknown *v, int n) {
    struct lib_options o = lib_options_default();
    struct lib_question *q = NULL;
    int nq = 0, np = 0, rc = lib_review(L, owner, &o, LIB_UNKNOWN_SCAN_MAX, &q, &nq);
    struct place *pl = rc ? NULL : fh_malloc((size_t)(nq ? nq : 1) * LIB_REVIEW_GROUP_MAX * sizeof *pl);
    if (!rc && !pl) rc = fh_fail(FH_E_NOMEM, "library: out of memory");
    for (int k = 0; !rc && k < nq; k++)
        for (int j = 0; q[k].kind == LIB_Q_FACES && j < q[k].n; j++)
            pl[np++] = (struct place){q[k].face[j], k * LIB_REVIEW_GROUP_MAX + j, q[k].size};
    if (!rc) qsort(pl, (size_t)np, sizeof *pl, cmp_place);
    for (int i = 0; !rc && i < n; i++) {
        struct place key = {.face = v[i].face.id}, *hit = bsearch(&key, pl, (size_t)np, sizeof *pl, cmp_place);
        v[i].rank = hit ? hit->rank : -1, v[i].group = hit ? hit->group : 0;
    }
    fh_free(q), fh_free(pl);
    if (!rc) qsort(v, (size_t)n, sizeof *v, cmp_rank);
    return rc;
}

int lib_unknown_faces(struct lib *L, int64_t owner, int limit, int flags, struct lib_unknown **out, int *n,
                      int *total) {
    *out = NULL, *n = 0, *total = 0;
    if (limit < 1 || limit > LIB_UNKNOWN_SCAN_MAX)
        return fh_fail(FH_E_ARG, "unknown faces: limit %d outside 1..%d", limit, LIB_UNKNOWN_SCAN_MAX);
    struct uscan u = {.with_trash = (flags & LIB_UNKNOWN_TRASH) != 0};
    const struct persons_index *px;
    int rc = store_persons_each(L->s, owner, hidden_cb, &u);
    if (!rc) rc = store_faces_each(L->s, owner, 1, unknown_cb, &u);
    if (!rc) rc = lib_persons_cached(L, owner, &px);
    float suggest_max = lib_options_default().cluster_t * LIB_SUGGEST_FACTOR;
    int64_t *excl = NULL;
    int cap = 0;
    for (int i = 0; !rc && i < u.n; i++) {
        if (!u.v[i].has_emb) continue;
        // nearest visible person the user did not reject for this face (a few tries)
        int ne = u.n_hidden;
        if (fh_grow((void **)&excl, &cap, ne + 4, sizeof *excl)) { rc = fh_fail(FH_E_NOMEM, "library: out of memory"); break; }
        if (ne) memcpy(excl, u.hidden, (size_t)ne * sizeof *excl);
        for (int tries = 0; tries < 4; tries++) {
            float d;
            int64_t best = lib_persons_nearest(px, u.emb + (size_t)i * FH_EMB_DIM, excl, ne, &d);
            if (!best || d >= suggest_max) break;
            int rej = store_face_is_rejected(L->s, u.v[i].face.id, best);
            if (rej < 0) { rc = rej; break; }
            if (!rej) {
                u.v[i].person = best, u.v[i].distance = d;
                break;
            }
            excl[ne++] = best;
        }
    }
    fh_free(excl);
    if (!rc && u.n) qsort(u.v, (size_t)u.n, sizeof *u.v, cmp_unknown);
    if (!rc && u.n && (flags & LIB_UNKNOWN_BY_GAIN)) rc = rank_by_gain(L, owner, u.v, u.n);
    for (int i = 0; !rc && i < u.n && i < limit; i++) { // the suggestions' names
        struct store_person p;
        if (u.v[i].person && !store_person_get(L->s, owner, u.v[i].person, &p) && p.name)
            snprintf(u.v[i].name, sizeof u.v[i].name, "%s", p.name);
    }
    fh_free(u.emb), fh_free(u.hidden);
    if (rc) {
        fh_free(u.v);
        return rc < 0 ? rc : fh_fail(FH_E_NOMEM, "library: out of memory");
    }
    *out = u.v, *n = u.n < limit ? u.n : limit, *total = u.total;
    return FH_OK;
}

// ---- the review queue (issue 12 part 2) -----------------------------------------------------------
// Expected gain of a question: how much recall the answer adds, summed over the faces, as
// BCubed counts it (each face's share of its identity's faces it is grouped with; every face
// counts alike, so a face joining a small person is worth about as much as one joining a
// large one). With the group's g faces (each alone now) and the s faces of a person P all of
// one identity: "are these P?" gains p_yes x g (2s + g - 1) / (s + g); "who is this?" g - 1;
// "are persons A and B one?" p_yes x 2ab / (a + b). p_yes
// is a logistic in the group's root-mean-square distance to P, fitted to the simulated user's
// answers on LFW draws (`eval review --seed 101 --draws 3`, 1,651 answers to "is this P?": yes
// 96 % at 0.90-0.95, 65 % at 0.95-1.00, 17 % at 1.00-1.05, 5 % at 1.05-1.10, 0.2 % beyond);
// "are these two persons one?" got no yes in 156 answers at 1.00-1.20 (seeds 1-3 and 101-103),
// so those are asked only below REVIEW_MERGE_MAX, where 2 of 3 face suggestions were right.
#define REVIEW_P_MID 0.99f   // p_yes = 0.5 here (distance; the clustering threshold is 0.90)
#define REVIEW_P_WIDTH 0.03f
#define REVIEW_MERGE_MAX 1.00f

static float p_yes(float d) { return 1.0f / (1.0f + expf((d - REVIEW_P_MID) / REVIEW_P_WIDTH)); }

static int cmp_question(const void *a, const void *b) {
    const struct lib_question *x = a, *y = b;
    if (x->gain != y->gain) return x->gain > y->gain ? -1 : 1;
    return (x->face[0] > y->face[0]) - (x->face[0] < y->face[0]);
}

// ---- "are these two persons one?" ------------------------------------------------------------------
struct fpp { // every face of the owner: its photo and person
    int64_t *face, *photo, *person;
    int n, cap;
};
static int fpp_cb(void *ctx, const struct store_face *f) {
    struct fpp *x = ctx;
    if (!f->person_id) return 0;
    int c1 = x->cap, c2 = x->cap;
    if (fh_grow((void **)&x->face, &c1, x->n + 1, sizeof *x->face) ||
        fh_grow((void **)&x->photo, &c2, x->n + 1, sizeof *x->photo) ||
        fh_grow((void **)&x->person, &x->cap, x->n + 1, sizeof *x->person))
        return FH_E_NOMEM;
    x->face[x->n] = f->id, x->photo[x->n] = f->photo_id, x->person[x->n++] = f->person_id;
    return 0;
}
struct pairs { // person pairs the user set apart (a reject of a face of one for the other)
    int64_t *a, *b;
    int n, cap;
    const struct fpp *faces;
};
static int apart_cb(void *ctx, int64_t face, int64_t person) {
    struct pairs *p = ctx;
    const struct fpp *f = p->faces;
    int lo = 0, hi = f->n - 1; // faces come ordered by id
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        if (f->face[mid] == face) {
            int c = p->cap;
            if (fh_grow((void **)&p->a, &c, p->n + 1, sizeof *p->a) || fh_grow((void **)&p->b, &p->cap, p->n + 1, sizeof *p->b))
                return FH_E_NOMEM;
            p->a[p->n] = person, p->b[p->n++] = f->person[mid];
            return 0;
        }
        if (f->face[mid] < face) lo = mid + 1;
        else hi = mid - 1;
    }
    return 0;
}
static int apart(const struct pairs *p, int64_t x, int64_t y) {
    for (int i = 0; i < p->n; i++)
        if ((p->a[i] == x && p->b[i] == y) || (p->a[i] == y && p->b[i] == x)) return 1;
    return 0;
}
// 1 when persons x and y hold faces of one photo (then they are two people); -1 out of memory
static int share_photo(const struct fpp *f, int64_t x, int64_t y) {
    int64_t *px = NULL;
    int n = 0, cap = 0, hit = 0;
    for (int i = 0; i < f->n; i++)
        if (f->person[i] == x) {
            if (fh_grow((void **)&px, &cap, n + 1, sizeof *px)) {
                fh_free(px);
                return -1;
            }
            px[n++] = f->photo[i];
        }
    for (int j = 0; j < f->n && !hit; j++)
        if (f->person[j] == y)
            for (int i = 0; i < n && !hit; i++) hit = px[i] == f->photo[j];
    fh_free(px);
    return hit;
}
static int cmp_count_desc(const void *a, const void *b, void *ctx) {
    const int *cnt = ctx, x = *(const int *)a, y = *(const int *)b;
    return cnt[y] - cnt[x] ? cnt[y] - cnt[x] : x - y;
}

// appends the "same person?" questions to *q (k of them so far)
static int merge_questions(struct lib *L, int64_t owner, const struct lib_options *o, const struct persons_index *px,
                           const int64_t *hidden, int n_hidden, struct lib_question **q, int *k) {
    int np = 0, *idx = fh_malloc((size_t)(px->n ? px->n : 1) * sizeof *idx);
    if (!idx) return fh_fail(FH_E_NOMEM, "review: out of memory");
    for (int i = 0; i < px->n; i++) {
        int vis = px->count[i] > 0;
        for (int h = 0; h < n_hidden && vis; h++) vis = hidden[h] != px->id[i];
        if (vis) idx[np++] = i;
    }
    qsort_r(idx, (size_t)np, sizeof *idx, cmp_count_desc, px->count);
    if (np > LIB_REVIEW_MERGE_PERSONS) np = LIB_REVIEW_MERGE_PERSONS;
    struct fpp f = {0};
    struct pairs ap = {.faces = &f};
    int rc = np > 1 ? store_faces_each(L->s, owner, 0, fpp_cb, &f) : FH_OK;
    if (!rc && np > 1) rc = store_rejects_each(L->s, owner, apart_cb, &ap);
    float suggest_max = o->cluster_t * LIB_SUGGEST_FACTOR;
    int cap = *k;
    for (int x = 0; !rc && x < np; x++)
        for (int y = x + 1; !rc && y < np; y++) {
            int i = idx[x], j = idx[y];
            const double *si = px->sum + (size_t)i * FH_EMB_DIM, *sj = px->sum + (size_t)j * FH_EMB_DIM;
            double dot = 0;
            for (int d = 0; d < FH_EMB_DIM; d++) dot += si[d] * sj[d];
            // mean squared distance over the persons' face pairs: 2 - 2 <mean_i, mean_j>
            double dist = sqrt(fmax(0, 2 - 2 * dot / ((double)px->count[i] * px->count[j])));
            if (dist >= suggest_max || dist >= REVIEW_MERGE_MAX || apart(&ap, px->id[i], px->id[j])) continue;
            int shared = share_photo(&f, px->id[i], px->id[j]);
            if (shared < 0) rc = fh_fail(FH_E_NOMEM, "review: out of memory");
            if (shared) continue;
            if (fh_grow((void **)q, &cap, *k + 1, sizeof **q)) {
                rc = fh_fail(FH_E_NOMEM, "review: out of memory");
                break;
            }
            struct lib_question *m = &(*q)[(*k)++];
            memset(m, 0, sizeof *m);
            m->kind = LIB_Q_MERGE, m->person = px->id[i], m->other = px->id[j]; // i is the larger
            m->size = px->count[j], m->distance = (float)dist, m->p_yes = p_yes((float)dist);
            m->gain = (float)(m->p_yes * 2.0 * px->count[i] * px->count[j] / (px->count[i] + px->count[j]));
            for (int t = 0; t < f.n && m->n < LIB_REVIEW_GROUP_MAX; t++)
                if (f.person[t] == m->other) m->face[m->n++] = f.face[t];
        }
    fh_free(idx), fh_free(f.face), fh_free(f.photo), fh_free(f.person), fh_free(ap.a), fh_free(ap.b);
    return rc;
}

int lib_review(struct lib *L, int64_t owner, const struct lib_options *o, int limit, struct lib_question **out,
               int *n) {
    *out = NULL, *n = 0;
    if (limit < 1 || limit > LIB_UNKNOWN_SCAN_MAX)
        return fh_fail(FH_E_ARG, "review: limit %d outside 1..%d", limit, LIB_UNKNOWN_SCAN_MAX);
    struct uscan u = {0};
    const struct persons_index *px;
    int rc = store_persons_each(L->s, owner, hidden_cb, &u);
    if (!rc) rc = store_faces_each(L->s, owner, STORE_FACES_UNKNOWN, unknown_cb, &u);
    if (!rc) rc = lib_persons_cached(L, owner, &px);
    // the faces a question can be about: with a vector; blurry ones too (the user knows them)
    int m = 0;
    for (int i = 0; !rc && i < u.n; i++)
        if (u.v[i].has_emb) {
            u.v[m] = u.v[i];
            memmove(u.emb + (size_t)m * FH_EMB_DIM, u.emb + (size_t)i * FH_EMB_DIM, FH_EMB_DIM * sizeof(float));
            m++;
        }
    // groups: average linkage at the clustering threshold, never two faces of one photo
    int *label = fh_malloc((size_t)(m ? m : 1) * sizeof *label);
    int64_t *photo = fh_malloc((size_t)(m ? m : 1) * sizeof *photo);
    struct clus_edge *e = NULL;
    size_t ne = 0;
    int k = 0;
    if (!rc && (!label || !photo)) rc = fh_fail(FH_E_NOMEM, "review: out of memory");
    for (int i = 0; !rc && i < m; i++) photo[i] = u.v[i].face.photo_id;
    float cutoff = o->cluster_t + 0.2f;
    if (!rc && m) rc = clus_graph_i8(u.emb, m, FH_EMB_DIM, cutoff, NULL, 0, &e, &ne);
    struct clus_constraints c = {.photo = photo};
    if (!rc && m && (k = clus_average_c(m, e, ne, cutoff, o->cluster_t, &c, label)) < 0) rc = k;
    struct lib_question *q = rc ? NULL : fh_calloc((size_t)(k ? k : 1), sizeof *q);
    double *mean = rc ? NULL : fh_malloc(FH_EMB_DIM * sizeof *mean);
    if (!rc && (!q || !mean)) rc = fh_fail(FH_E_NOMEM, "review: out of memory");
    for (int i = 0; !rc && i < m; i++) { // faces into their group's question (the first LIB_REVIEW_GROUP_MAX)
        struct lib_question *g = &q[label[i]];
        if (g->n < LIB_REVIEW_GROUP_MAX) g->face[g->n++] = u.v[i].face.id;
        g->size++;
    }
    float suggest_max = o->cluster_t * LIB_SUGGEST_FACTOR;
    for (int g = 0; !rc && g < k; g++) {
        // the group's mean vector: its RMS distance to a person is sqrt(2 - 2 <mean, person mean>)
        memset(mean, 0, FH_EMB_DIM * sizeof *mean);
        for (int i = 0; i < m; i++)
            if (label[i] == g)
                for (int d = 0; d < FH_EMB_DIM; d++) mean[d] += u.emb[(size_t)i * FH_EMB_DIM + d] / q[g].size;
        float mf[FH_EMB_DIM];
        for (int d = 0; d < FH_EMB_DIM; d++) mf[d] = (float)mean[d];
        // nearest visible person none of the group's faces was rejected for (a few tries)
        int64_t excl[LIB_REVIEW_GROUP_MAX + 8];
        int nx = 0, ok = 0;
        int64_t best = 0;
        float dist = 0;
        for (int tries = 0; tries < 4 && !rc && !ok; tries++) {
            int64_t all[LIB_REVIEW_GROUP_MAX + 8 + 64];
            int na = 0;
            for (int h = 0; h < u.n_hidden && na < 64; h++) all[na++] = u.hidden[h];
            for (int x = 0; x < nx; x++) all[na++] = excl[x];
            best = lib_persons_nearest(px, mf, all, na, &dist);
            if (!best || dist >= suggest_max) { best = 0; break; }
            ok = 1;
            for (int f = 0; f < q[g].n && ok; f++) {
                int rej = store_face_is_rejected(L->s, q[g].face[f], best);
                if (rej < 0) rc = rej;
                if (rej) ok = 0;
            }
            if (!ok) excl[nx++] = best;
        }
        if (!ok) best = 0;
        double sz = q[g].size;
        q[g].person = best;
        q[g].distance = best ? dist : 0;
        if (best) {
            int cnt = 0;
            for (int i = 0; i < px->n; i++)
                if (px->id[i] == best) cnt = px->count[i];
            q[g].p_yes = p_yes(dist);
            q[g].gain = (float)(q[g].p_yes * sz * (2.0 * cnt + sz - 1) / (cnt + sz));
        } else {
            q[g].gain = (float)(sz - 1);
        }
    }
    if (!rc) rc = merge_questions(L, owner, o, px, u.hidden, u.n_hidden, &q, &k);
    if (!rc && k) qsort(q, (size_t)k, sizeof *q, cmp_question);
    for (int i = 0; !rc && i < k && i < limit; i++) {
        struct store_person p;
        if (q[i].person && !store_person_get(L->s, owner, q[i].person, &p) && p.name)
            snprintf(q[i].name, sizeof q[i].name, "%s", p.name);
    }
    fh_free(label), fh_free(photo), fh_free(e), fh_free(mean);
    fh_free(u.v), fh_free(u.emb), fh_free(u.hidden);
    if (rc) {
        fh_free(q);
        return rc < 0 ? rc : fh_fail(FH_E_NOMEM, "library: out of memory");
    }
    *out = q, *n = k < limit ? k : limit;
    return FH_OK;
}

// ---- a yes pulls its neighbours along --------------------------------------------------------------
struct pull {
    int64_t person, *photo_taken;
    int n_taken, cap_taken;
};
static int taken_cb(void *ctx, const struct store_face *f) { // photos the person already holds a face in
    struct pull *p = ctx;
    if (f->person_id != p->person) return 0;
    if (fh_grow((void **)&p->photo_taken, &p->cap_taken, p->n_taken + 1, sizeof *p->photo_taken)) return FH_E_NOMEM;
    p->photo_taken[p->n_taken++] = f->photo_id;
    return 0;
}

int lib_review_pull(struct lib *L, int64_t owner, int64_t person, const struct lib_options *o, int *pulled) {
    *pulled = 0;
    struct uscan u = {0};
    struct pull p = {.person = person};
    const struct persons_index *px;
    int rc = store_persons_each(L->s, owner, hidden_cb, &u);
    if (!rc) rc = store_faces_each(L->s, owner, STORE_FACES_UNKNOWN, unknown_cb, &u);
    if (!rc) rc = store_faces_each(L->s, owner, 0, taken_cb, &p);
    if (!rc) rc = lib_persons_cached(L, owner, &px);
    int64_t *ids = fh_malloc((size_t)(u.n ? u.n : 1) * sizeof *ids), *to = fh_malloc((size_t)(u.n ? u.n : 1) * sizeof *to);
    if (!rc && (!ids || !to)) rc = fh_fail(FH_E_NOMEM, "review: out of memory");
    int na = 0;
    for (int i = 0; !rc && i < u.n; i++) {
        const struct lib_unknown *x = &u.v[i];
        if (!x->has_emb || x->face.blurry) continue;
        float d;
        // the index-time rule with a margin: the nearest person well within the clustering
        // threshold, now that the person grew; never a second face of a photo, never against a
        // "not this person"
        int64_t near = lib_persons_nearest(px, u.emb + (size_t)i * FH_EMB_DIM, u.hidden, u.n_hidden, &d);
        if (near != person || d >= o->cluster_t - LIB_PULL_MARGIN) continue;
        int taken = 0;
        for (int t = 0; t < p.n_taken && !taken; t++) taken = p.photo_taken[t] == x->face.photo_id;
        if (taken) continue;
        int rej = store_face_is_rejected(L->s, x->face.id, person);
        if (rej < 0) rc = rej;
        if (rej) continue;
        ids[na] = x->face.id, to[na++] = person;
        if (fh_grow((void **)&p.photo_taken, &p.cap_taken, p.n_taken + 1, sizeof *p.photo_taken)) rc = FH_E_NOMEM;
        else p.photo_taken[p.n_taken++] = x->face.photo_id;
    }
    if (!rc && na && !(rc = store_begin(L->s))) {
        rc = store_faces_assign_auto(L->s, owner, ids, to, na, NULL);
        if (!rc) rc = store_commit(L->s);
        if (rc) store_rollback(L->s);
    }
    if (!rc) *pulled = na;
    fh_free(ids), fh_free(to), fh_free(p.photo_taken);
    fh_free(u.v), fh_free(u.emb), fh_free(u.hidden);
    return rc < 0 ? rc : rc ? fh_fail(FH_E_NOMEM, "library: out of memory") : FH_OK;
}
