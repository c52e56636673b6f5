// SPDX-License-Identifier: MIT
// "Photos of this person" and the faces behind "who is this" (issue 10, part 5): the owner's
// faces as an int8 gallery (search/: 10^6 faces in 214 MB, ~6.5 ms a query on 2 threads),
// kept warm in struct lib. The gallery only grows: when the store's change stamp moves, the
// faces added since (ids above the last one indexed) are appended; faces deleted since are
// dropped from answers (each hit is looked up in the store, which also gives its current
// person), and the gallery is rebuilt when a query meets one, or when another owner asks.
// The best hits are re-ranked with the stored float vectors. Building reads the embeddings
// in batches of 65,536 (a float copy of one batch, 48 MB, besides the int8 gallery).
#include <math.h>
#include <string.h>

#include "library/library_int.h"
#include "search/search.h"

struct lib_gallery {
    int64_t owner, stamp[2], last_id;
    struct search_gallery *g;
    struct fh_pool *pool;
    int valid;
    // the batch being appended
    float *emb;
    int64_t *ids;
    int n, cap, dim;
};

void lib_gallery_free(struct lib_gallery *c) {
    if (!c) return;
    search_gallery_free(c->g);
    fh_pool_free(c->pool);
    fh_free(c->emb), fh_free(c->ids);
    fh_free(c);
}

enum { BATCH = 65536 }; // faces buffered as floats before they go into the gallery

static int collect_cb(void *ctx, const struct store_face *f) {
    struct lib_gallery *c = ctx;
    if (f->dim != c->dim || !f->embedding) {
        c->last_id = f->id;
        return 0;
    }
    if (c->n == BATCH) { // int8 now: the float copy never holds more than a batch
        int rc = search_gallery_add(c->g, c->emb, c->ids, c->n);
        if (rc) return rc;
        c->n = 0;
    }
    c->last_id = f->id;
    if (c->n == c->cap) {
        int nc = c->cap ? 2 * c->cap : 4096;
        float *e = fh_realloc(c->emb, sizeof *e * (size_t)nc * c->dim);
        if (e) c->emb = e;
        int64_t *i = fh_realloc(c->ids, sizeof *i * (size_t)nc);
        if (i) c->ids = i;
        if (!e || !i) return fh_fail(FH_E_NOMEM, "library: out of memory for the face index");
        c->cap = nc;
    }
    memcpy(c->emb + (size_t)c->n * c->dim, f->embedding, sizeof(float) * c->dim);
    c->ids[c->n++] = f->id;
    return 0;
}

// brings L's gallery up to date for owner: appends the faces added since, or rebuilds
static int gallery_sync(struct lib *L, int64_t owner, int rebuild) {
    int64_t stamp[2];
    int rc = store_change_stamp(L->s, stamp);
    if (rc) return rc;
    if (!L->gal && !(L->gal = fh_calloc(1, sizeof *L->gal))) return fh_fail(FH_E_NOMEM, "library: out of memory");
    struct lib_gallery *c = L->gal;
    if (c->valid && c->owner == owner && !rebuild && !memcmp(c->stamp, stamp, sizeof stamp)) return FH_OK;
    if (!c->valid || c->owner != owner || rebuild) {
        search_gallery_free(c->g);
        c->g = NULL, c->valid = 0, c->last_id = 0;
        c->dim = L->emb_id.dim > 0 ? L->emb_id.dim : FH_EMB_DIM;
        if ((rc = search_gallery_new(c->dim, &c->g))) return rc;
        if (!c->pool && !(c->pool = fh_pool_new(0))) return fh_fail(FH_E_NOMEM, "library: out of memory");
    }
    c->n = 0;
    rc = store_faces_after(L->s, owner, c->last_id, collect_cb, c);
    if (!rc && c->n) rc = search_gallery_add(c->g, c->emb, c->ids, c->n);
    if (rc) { // a half-synced gallery is not kept
        c->valid = 0;
        return rc;
    }
    c->valid = 1, c->owner = owner;
    memcpy(c->stamp, stamp, sizeof stamp);
    return FH_OK;
}

int lib_similar(struct lib *L, int64_t owner, const float *emb, int k, struct lib_similar *out, int *n) {
    *n = 0;
    if (k < 1 || k > LIB_SIMILAR_MAX) return fh_fail(FH_E_ARG, "similar faces: k %d outside 1..%d", k, LIB_SIMILAR_MAX);
    if (!emb) return fh_fail(FH_E_ARG, "similar faces: no embedding");
    int rc = FH_OK;
    for (int attempt = 0; attempt < 2; attempt++) {
        if ((rc = gallery_sync(L, owner, attempt > 0))) return rc;
        struct lib_gallery *c = L->gal;
        // a few more than asked: re-ranking may reorder the tail
        struct search_hit hits[LIB_SIMILAR_MAX + 16];
        int nh = 0, want = k + 16;
        if ((rc = search_gallery_query(c->g, emb, want, c->pool, 0, hits, &nh))) return rc;
        struct lib_similar tmp[LIB_SIMILAR_MAX + 16];
        int stale = 0, m = 0;
        for (int i = 0; i < nh; i++) {
            struct store_face f;
            int r = store_face_get(L->s, owner, hits[i].id, &f);
            if (r == FH_E_NOTFOUND) { stale = 1; break; }
            if (r) return r;
            float dot = 0; // the exact score from the stored vector
            for (int d = 0; d < f.dim && d < c->dim; d++) dot += emb[d] * f.embedding[d];
            float d2 = 2 - 2 * dot;
            tmp[m++] = (struct lib_similar){.face_id = f.id, .photo_id = f.photo_id, .person_id = f.person_id,
                                            .distance = sqrtf(d2 > 0 ? d2 : 0)};
        }
        if (stale) continue; // a face was deleted since the gallery was built: rebuild once
        for (int i = 1; i < m; i++) { // insertion sort by exact distance (m is small)
            struct lib_similar v = tmp[i];
            int j = i - 1;
            while (j >= 0 && (tmp[j].distance > v.distance ||
                              (tmp[j].distance == v.distance && tmp[j].face_id > v.face_id)))
                tmp[j + 1] = tmp[j], j--;
            tmp[j + 1] = v;
        }
        *n = m < k ? m : k;
        memcpy(out, tmp, sizeof *out * (size_t)*n);
        return FH_OK;
    }
    return fh_fail(FH_E_DB, "similar faces: the library changed while it was being searched; try again");
}
