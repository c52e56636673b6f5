// SPDX-License-Identifier: MIT
// Questions to the library that the UI asks often: "who is this" (lib_embed + lib_match,
// lib_search) and the unknown faces with a suggested person (lib_unknown_faces). The engine
// and the owner's person index stay warm in struct lib: the models load once, the engine is
// made once per thread count, and the index is rebuilt only when the store's change stamp
// moves (another connection committed, or this one wrote) or another owner is asked.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

int lib_unknown_faces(struct lib *L, int64_t owner, int limit, int with_trash, struct lib_unknown **out, int *n,
                      int *total) {
    *out = NULL, *n = 0, *total = 0;
    if (limit < 1 || limit > LIB_UNKNOWN_SCAN_MAX)
        return fh_fail(FH_E_ARG, "unknown faces: limit %d outside 1..%d", limit, LIB_UNKNOWN_SCAN_MAX);
    struct uscan u = {.with_trash = with_trash != 0};
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
