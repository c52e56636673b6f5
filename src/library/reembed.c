// SPDX-License-Identifier: MIT
// Switching the library's embedding model without losing a name (issue 12, lib_reembed).
//
//   stage:   every face's vector from L's model, photo by photo (its stored landmarks, the
//            photo read again), one transaction per batch into face_next; the faces keep
//            their old vectors, so the library keeps working on the old model meanwhile and
//            a killed run resumes where it stopped;
//   swap:    one transaction: all faces take the new vectors (store_reembed_swap) and the
//            meta key below records that persons must be rebuilt;
//   persons: each owner's persons are rebuilt by lib_recluster_anchored, which keeps every
//            user decision (user-assigned faces, merges, moves, "not this person", names with
//            the faces the user saw when naming), then the key goes. A run that finds nothing to stage but the key set rebuilds.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/limits.h"
#include "library/library_int.h"

#define BATCH_PHOTOS 16
#define META_REBUILD "reembed_rebuild_persons" // set by the swap, cleared once persons are rebuilt
#define META_MODEL "reembed_model"            // the model id the last switch went to

struct pend {
    struct store_reembed_face *v;
    char **path;
    int n, cap, pcap;
};
static int pend_cb(void *ctx, const struct store_reembed_face *f) {
    struct pend *p = ctx;
    int pcap = p->pcap;
    if (fh_grow((void **)&p->v, &p->cap, p->n + 1, sizeof *p->v) ||
        fh_grow((void **)&p->path, &pcap, p->n + 1, sizeof *p->path))
        return FH_E_NOMEM;
    p->pcap = pcap;
    size_t l = strlen(f->path);
    if (!(p->path[p->n] = fh_malloc(l + 1))) return FH_E_NOMEM;
    memcpy(p->path[p->n], f->path, l + 1);
    p->v[p->n] = *f;
    p->v[p->n].path = p->path[p->n];
    p->n++;
    return 0;
}
static void pend_clear(struct pend *p) {
    for (int i = 0; i < p->n; i++) fh_free(p->path[i]);
    p->n = 0;
}

// the faces v[0..k) of one photo: embedded from the photo (its file read again), or staged
// without a vector when the file is gone or no longer decodes
static int stage_photo(struct lib *L, struct fh_engine *e, const struct fh_config *cfg, int64_t target,
                       const struct store_reembed_face *v, int k, struct fh_face *faces, struct lib_reembed_stats *st) {
    uint8_t *data = NULL;
    size_t n = 0;
    struct img im = {0};
    int readable = !fh_read_file(v[0].path, FH_MAX_IMAGE_FILE_BYTES, &data, &n) && !img_decode_mem(data, n, &im);
    fh_free(data);
    int rc = FH_OK;
    if (readable) {
        for (int i = 0; i < k; i++) {
            memset(&faces[i], 0, sizeof faces[i]);
            memcpy(faces[i].box, v[i].box, sizeof v[i].box);
            memcpy(faces[i].landmarks, v[i].landmarks, sizeof v[i].landmarks);
        }
        rc = fh_embed(e, &im, cfg, faces, k);
    }
    img_free(&im);
    for (int i = 0; !rc && i < k; i++) {
        rc = store_reembed_put(L->s, v[i].face_id, target, readable ? faces[i].embedding : NULL,
                               readable ? FH_EMB_DIM : 0);
        if (readable) st->embedded++;
        else st->missing++;
    }
    st->photos++;
    return rc;
}

static int count_persons_cb(void *ctx, const struct store_person *p) {
    (void)p;
    ++*(int *)ctx;
    return 0;
}

struct owners {
    int64_t *v;
    int n, cap;
};
static int owner_cb(void *ctx, const struct store_user *u) {
    struct owners *o = ctx;
    if (fh_grow((void **)&o->v, &o->cap, o->n + 1, sizeof *o->v)) return FH_E_NOMEM;
    o->v[o->n++] = u->id;
    return 0;
}

// every owner's persons rebuilt under their decisions, then the rebuild mark cleared
static int rebuild_persons(struct lib *L, const struct lib_options *o, struct lib_reembed_stats *st) {
    struct owners ow = {0};
    int rc = store_users_each(L->s, owner_cb, &ow);
    for (int i = 0; !rc && i < ow.n; i++) {
        struct lib_stats ls;
        int before = 0, after = 0;
        if (!(rc = store_persons_each(L->s, ow.v[i], count_persons_cb, &before)) &&
            !(rc = lib_recluster_anchored(L, ow.v[i], o, &ls)))
            rc = store_persons_each(L->s, ow.v[i], count_persons_cb, &after);
        st->persons_before += before, st->persons_after += after;
    }
    fh_free(ow.v);
    if (!rc) rc = store_meta_set(L->s, META_REBUILD, "0");
    st->rebuilt = !rc;
    return rc;
}

int lib_reembed(struct lib *L, const struct lib_options *o, struct lib_reembed_stats *st) {
    memset(st, 0, sizeof *st);
    double t0 = fh_now_ms();
    int64_t target = 0, staged = 0, pending = 0;
    const struct fh_embedder_id *id = &L->emb_id;
    int rc = store_model_get(L->s, id->name, id->version, id->sha256, id->dim, &target);
    if (!rc) rc = store_reembed_discard(L->s, target);
    if (!rc) rc = store_reembed_count(L->s, target, &staged, &pending);
    if (rc) return rc;
    st->staged_before = staged, st->total = staged + pending;
    struct fh_engine *e = NULL;
    struct fh_face *faces = NULL;
    struct pend p = {0};
    struct fh_config cfg = fh_config_default();
    cfg.flip = o->flip;
    if (pending && !(rc = lib_models(L))) rc = fh_engine_new(L->m, o->threads, &e);
    int64_t done = staged;
    while (!rc && pending) {
        pend_clear(&p);
        if ((rc = store_reembed_pending(L->s, target, BATCH_PHOTOS, pend_cb, &p))) break;
        if (!p.n) break;
        if (!(faces = fh_realloc(faces, (size_t)p.n * sizeof *faces))) {
            rc = fh_fail(FH_E_NOMEM, "reembed: out of memory");
            break;
        }
        if ((rc = store_begin(L->s))) break;
        for (int i = 0, j; !rc && i < p.n; i = j) {
            for (j = i + 1; j < p.n && p.v[j].photo_id == p.v[i].photo_id; j++) {}
            rc = stage_photo(L, e, &cfg, target, p.v + i, j - i, faces, st);
            done += j - i;
        }
        if (!rc) rc = store_commit(L->s);
        if (rc) {
            store_rollback(L->s);
            break;
        }
        if (o->progress) {
            struct lib_progress pr = {(int)done, (int)st->total, st->embedded, (fh_now_ms() - t0) / 1e3,
                                      p.v[p.n - 1].path};
            o->progress(o->progress_ctx, &pr);
        }
    }
    pend_clear(&p);
    fh_free(p.v), fh_free(p.path), fh_free(faces);
    fh_engine_free(e);
    // all staged: switch, and mark the persons for rebuilding in the same transaction
    if (!rc && st->total) {
        char tid[24];
        snprintf(tid, sizeof tid, "%lld", (long long)target);
        if (!(rc = store_begin(L->s)) && !(rc = store_reembed_swap(L->s, target, &st->switched)) &&
            !(rc = store_meta_set(L->s, META_REBUILD, "1")) && !(rc = store_meta_set(L->s, META_MODEL, tid)))
            rc = store_commit(L->s);
        if (rc) store_rollback(L->s);
    }
    if (!rc) {
        L->model_id = target;
        lib_query_free(L); // caches of the old vectors
    }
    char mark[8] = "";
    int mrc = rc ? rc : store_meta_get(L->s, META_REBUILD, mark, sizeof mark);
    if (!rc && mrc && mrc != FH_E_NOTFOUND) rc = mrc;
    if (!rc && !strcmp(mark, "1")) rc = rebuild_persons(L, o, st);
    st->seconds = (fh_now_ms() - t0) / 1e3;
    return rc;
}

int lib_reembed_status(struct lib *L, struct lib_reembed_status *out) {
    memset(out, 0, sizeof *out);
    int rc = store_model_in_use(L->s, &out->in_use);
    if (rc == FH_E_NOTFOUND) rc = FH_OK; // an empty library: no model yet
    if (rc) return rc;
    int64_t target;
    rc = store_reembed_target(L->s, &target);
    if (rc == FH_E_NOTFOUND) return FH_OK;
    if (!rc) rc = store_model_by_id(L->s, target, &out->target);
    if (!rc) rc = store_reembed_count(L->s, target, &out->staged, &out->pending);
    if (!rc) out->running = 1;
    return rc;
}

const struct fh_embedder_id *lib_embedder(struct lib *L) { return &L->emb_id; }

int lib_reembed_model_guard(struct lib *L) {
    char id[24];
    int rc = store_meta_get(L->s, META_MODEL, id, sizeof id);
    if (rc == FH_E_NOTFOUND) return FH_OK; // never switched
    if (rc) return rc;
    if (!L->model_id || strtoll(id, NULL, 10) == L->model_id) return FH_OK;
    // switched since: refused when faces of another model are there (an emptied library
    // takes any model, as lib_model_check says)
    struct store_model other;
    const struct fh_embedder_id *me = &L->emb_id;
    rc = store_model_other(L->s, me->name, me->version, me->sha256, &other);
    if (rc == FH_E_NOTFOUND) return FH_OK;
    if (rc) return rc;
    return fh_fail(FH_E_UNSUPPORTED, "the library was switched to another model (facehatch reembed) while this ran: "
                   "nothing of this photo was stored; run again with the library's model");
}
