// SPDX-License-Identifier: MIT
// Persons: incremental assignment while indexing, promotion of unknowns, full reclustering
// under the user's constraints, avatars, search, and the user's actions.
//
// Rules (issue "photo library"):
//   * only clusterable faces (not blurry, not "not a face") are grouped;
//   * two faces of one photo never go into one person automatically;
//   * a face the user put somewhere stays there; "not this person" is never undone;
//   * persons keep ids and names across reclustering when their faces mostly stay; a named
//     or user-held person is continued by the cluster overlapping it most (issue 7);
//   * a face the user made unknown (assigned by the user, no person) is never clustered.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/cluster.h"
#include <stdio.h>

#include "library/library_int.h"

// Near-graph cutoff: pairs farther than the clustering threshold + this margin are left
// out and count as exactly that far in averages (a lower bound). 0.2 above the threshold
// keeps the graph to mostly same-person pairs: 10x fewer edges than a 1.3 cutoff on LFW.
#define GRAPH_MARGIN 0.2f

// ---- person centroids ----------------------------------------------------------------------
static int px_slot(struct persons_index *px, int64_t id) {
    for (int i = 0; i < px->n; i++)
        if (px->id[i] == id) return i;
    if (px->n == px->cap) {
        int nc = px->cap ? 2 * px->cap : 64;
        int64_t *ids = fh_realloc(px->id, (size_t)nc * sizeof *ids);
        if (ids) px->id = ids;
        double *sum = fh_realloc(px->sum, (size_t)nc * FH_EMB_DIM * sizeof *sum);
        if (sum) px->sum = sum;
        int *cnt = fh_realloc(px->count, (size_t)nc * sizeof *cnt);
        if (cnt) px->count = cnt;
        if (!ids || !sum || !cnt) return -1;
        px->cap = nc;
    }
    int i = px->n++;
    px->id[i] = id, px->count[i] = 0;
    memset(px->sum + (size_t)i * FH_EMB_DIM, 0, sizeof(double) * FH_EMB_DIM);
    return i;
}

static int px_add(struct persons_index *px, int64_t id, const float *emb) {
    int i = px_slot(px, id);
    if (i < 0) return fh_fail(FH_E_NOMEM, "library: out of memory");
    for (int k = 0; k < FH_EMB_DIM; k++) px->sum[(size_t)i * FH_EMB_DIM + k] += emb[k];
    px->count[i]++;
    return FH_OK;
}

static int load_cb(void *ctx, const struct store_face *f) {
    struct persons_index *px = ctx;
    if (!f->person_id || f->blurry || f->trash || f->dim != FH_EMB_DIM) return 0;
    return px_add(px, f->person_id, f->embedding) ? 1 : 0;
}

int lib_persons_load(struct lib *L, int64_t owner, struct persons_index *px) {
    memset(px, 0, sizeof *px);
    return store_faces_each(L->s, owner, STORE_FACES_EMB, load_cb, px);
}

void lib_persons_free(struct persons_index *px) {
    fh_free(px->id), fh_free(px->sum), fh_free(px->count);
    memset(px, 0, sizeof *px);
}

int64_t lib_persons_nearest(const struct persons_index *px, const float *emb, const int64_t *exclude,
                            int n_exclude, float *dist) {
    int64_t best = 0;
    double bd = 1e9;
    for (int i = 0; i < px->n; i++) {
        if (!px->count[i]) continue;
        int skip = 0;
        for (int k = 0; k < n_exclude; k++) skip |= exclude[k] == px->id[i];
        if (skip) continue;
        // mean squared distance to unit vectors e_j: 2 - 2 <x, mean(e_j)>
        double dot = 0;
        const double *s = px->sum + (size_t)i * FH_EMB_DIM;
        for (int k = 0; k < FH_EMB_DIM; k++) dot += emb[k] * s[k];
        double d = sqrt(fmax(0, 2 - 2 * dot / px->count[i]));
        if (d < bd) bd = d, best = px->id[i];
    }
    if (dist) *dist = (float)bd;
    return best;
}

// ---- committing one photo --------------------------------------------------------------------
struct old_face {
    int box[4];
    int64_t person;
};
struct old_faces {
    struct old_face v[256];
    int n;
};
static int old_cb(void *ctx, const struct store_face *f) {
    struct old_faces *o = ctx;
    if (f->assigned == STORE_USER && o->n < 256) {
        memcpy(o->v[o->n].box, f->box, sizeof f->box);
        o->v[o->n++].person = f->person_id;
    }
    return 0;
}

static double iou(const int *a, const int *b) {
    int x1 = a[0] > b[0] ? a[0] : b[0], y1 = a[1] > b[1] ? a[1] : b[1];
    int x2 = a[2] < b[2] ? a[2] : b[2], y2 = a[3] < b[3] ? a[3] : b[3];
    if (x2 < x1 || y2 < y1) return 0;
    double in = (double)(x2 - x1 + 1) * (y2 - y1 + 1);
    double aa = (double)(a[2] - a[0] + 1) * (a[3] - a[1] + 1), bb = (double)(b[2] - b[0] + 1) * (b[3] - b[1] + 1);
    return in / (aa + bb - in);
}

int lib_commit_photo(struct lib *L, int64_t owner, struct persons_index *px, const struct lib_options *o,
                     const char *path, int64_t size, int64_t mtime, const struct lib_result *r,
                     struct lib_stats *st) {
    struct store_photo old;
    char old_sha[65] = "";
    int64_t old_id = 0;
    // faces are stored only under L's registered model, after lib_model_check (safety net:
    // every caller that embeds checks first)
    int rc = r->n && !L->model_id ? lib_model_check(L) : FH_OK;
    if (rc) return rc;
    rc = store_photo_find(L->s, owner, path, &old);
    if (rc == FH_OK) memcpy(old_sha, old.sha256, sizeof old_sha), old_id = old.id;
    else if (rc != FH_E_NOTFOUND) return rc;
    struct old_faces keep = {.n = 0};
    if (old_id && strcmp(old_sha, r->sha256) && (rc = store_faces_of_photo(L->s, owner, old_id, old_cb, &keep)))
        return rc;
    struct store_photo p = {.path = path, .size = size, .mtime = mtime, .width = r->width, .height = r->height,
                            .n_faces = r->failed ? 0 : r->n, .status = r->failed, .error = r->failed ? r->error : NULL,
                            .orig_name = r->orig_name};
    memcpy(p.sha256, r->sha256, sizeof p.sha256);
    int64_t pid, used[256], assigned[256];
    int n_used = 0;
    if ((rc = store_begin(L->s))) return rc;
    // a re-embed may have switched the library to another model since L checked (a long
    // index run, a worker): then nothing of this photo is written (lib_reembed_model_guard)
    rc = r->n && !r->failed ? lib_reembed_model_guard(L) : FH_OK;
    if (!rc) rc = store_photo_upsert(L->s, owner, &p, &pid);
    int same = !rc && old_id && !strcmp(old_sha, r->sha256);
    for (int i = 0; !rc && !r->failed && !same && i < r->n; i++) {
        const struct lib_face *lf = &r->faces[i];
        int64_t person = 0;
        int by = STORE_AUTO;
        for (int k = 0; k < keep.n; k++) // the user's word carries over to the same face
            if (iou(keep.v[k].box, lf->f.box) >= 0.5) person = keep.v[k].person, by = STORE_USER;
        if (!person && !lf->blurry && !lf->trash) {
            float d;
            int64_t near = lib_persons_nearest(px, lf->f.embedding, used, n_used, &d);
            if (near && d < o->cluster_t) person = near;
        }
        if (person && n_used < 256) used[n_used++] = person;
        struct store_face f = {.photo_id = pid, .det_score = lf->f.score, .blur = (float)lf->blur,
                               .quality = lf->quality, .blurry = lf->blurry, .trash = lf->trash,
                               .model_id = L->model_id, .dim = L->emb_id.dim, .embedding = lf->f.embedding,
                               .thumb = lf->thumb, .thumb_size = lf->thumb_size, .person_id = person,
                               .assigned = by};
        memcpy(f.box, lf->f.box, sizeof f.box);
        memcpy(f.landmarks, lf->f.landmarks, sizeof f.landmarks);
        const char *det = fh_detector_name(lf->f.detector);
        snprintf(f.detector, sizeof f.detector, "%s", det ? det : "mtcnn");
        int64_t fid;
        rc = store_face_insert(L->s, owner, &f, &fid);
        assigned[i < 256 ? i : 255] = person;
    }
    if (!rc && L->in_tx) rc = L->in_tx(L->in_tx_ctx, L->s);
    if (!rc) rc = store_commit(L->s);
    if (rc) {
        store_rollback(L->s);
        return rc;
    }
    if (r->failed) st->failed++;
    else if (same) st->unchanged++;
    else {
        st->indexed++, st->faces += r->n;
        for (int i = 0; i < r->n && i < 256; i++)
            if (assigned[i] && !r->faces[i].blurry && !r->faces[i].trash && px_add(px, assigned[i], r->faces[i].f.embedding))
                return FH_E_NOMEM;
    }
    return FH_OK;
}

// ---- loading faces for clustering ----------------------------------------------------------
struct fset {
    int n, cap;
    int64_t *id, *photo, *person;
    int *assigned;
    float *emb;
};
static int fset_cb(void *ctx, const struct store_face *f) {
    struct fset *s = ctx;
    if (f->blurry || f->trash || f->dim != FH_EMB_DIM) return 0;
    if (s->n == s->cap) {
        int nc = s->cap ? 2 * s->cap : 1024;
        int64_t *a = fh_realloc(s->id, (size_t)nc * sizeof *a);
        if (a) s->id = a;
        int64_t *b = fh_realloc(s->photo, (size_t)nc * sizeof *b);
        if (b) s->photo = b;
        int64_t *c = fh_realloc(s->person, (size_t)nc * sizeof *c);
        if (c) s->person = c;
        int *d = fh_realloc(s->assigned, (size_t)nc * sizeof *d);
        if (d) s->assigned = d;
        float *e = fh_realloc(s->emb, (size_t)nc * FH_EMB_DIM * sizeof *e);
        if (e) s->emb = e;
        if (!a || !b || !c || !d || !e) return 1;
        s->cap = nc;
    }
    int i = s->n++;
    s->id[i] = f->id, s->photo[i] = f->photo_id, s->person[i] = f->person_id, s->assigned[i] = f->assigned;
    memcpy(s->emb + (size_t)i * FH_EMB_DIM, f->embedding, sizeof(float) * FH_EMB_DIM);
    return 0;
}
static void fset_free(struct fset *s) {
    fh_free(s->id), fh_free(s->photo), fh_free(s->person), fh_free(s->assigned), fh_free(s->emb);
}

int lib_promote_unknowns(struct lib *L, int64_t owner, const struct lib_options *o, struct lib_stats *st) {
    // the clusterable faces nobody holds yet
    struct fset u = {0};
    int rc = store_faces_each(L->s, owner, STORE_FACES_UNKNOWN, fset_cb, &u), k = 0;
    if (rc) {
        fset_free(&u);
        return rc;
    }
    for (int i = 0; i < u.n; i++) {
        if (u.person[i] || u.assigned[i] == STORE_USER) continue; // the user said "unknown"
        u.id[k] = u.id[i], u.photo[k] = u.photo[i], u.person[k] = 0, u.assigned[k] = u.assigned[i];
        memmove(u.emb + (size_t)k * FH_EMB_DIM, u.emb + (size_t)i * FH_EMB_DIM, sizeof(float) * FH_EMB_DIM);
        k++;
    }
    u.n = k;
    if (u.n < o->min_person_faces) { fset_free(&u); return FH_OK; }
    struct clus_edge *e = NULL;
    size_t ne = 0;
    int *label = fh_malloc((size_t)u.n * sizeof *label), *size = fh_calloc((size_t)u.n, sizeof *size);
    if (!label || !size) rc = fh_fail(FH_E_NOMEM, "library: out of memory");
    float cutoff = o->cluster_t + GRAPH_MARGIN;
    struct fh_pool *pool = rc ? NULL : fh_pool_new(o->threads);
    if (!rc) rc = clus_graph_i8(u.emb, u.n, FH_EMB_DIM, cutoff, pool, 0, &e, &ne);
    fh_pool_free(pool);
    struct clus_constraints c = {.photo = u.photo};
    k = rc ? 0 : clus_average_c(u.n, e, ne, cutoff, o->cluster_t, &c, label);
    if (k < 0) rc = k;
    for (int i = 0; !rc && i < u.n; i++) size[label[i]]++;
    int64_t *pid = rc ? NULL : fh_calloc((size_t)(k ? k : 1), sizeof *pid);
    if (!rc && !pid) rc = fh_fail(FH_E_NOMEM, "library: out of memory");
    int64_t *ap = rc ? NULL : fh_malloc(sizeof *ap * (size_t)(u.n ? u.n : 1));
    if (!rc && !ap) rc = fh_fail(FH_E_NOMEM, "library: out of memory");
    int na = 0;
    if (!rc && !(rc = store_begin(L->s))) {
        for (int i = 0; !rc && i < u.n; i++) {
            int l = label[i];
            if (size[l] < o->min_person_faces) continue;
            if (!pid[l]) {
                if ((rc = store_person_create(L->s, owner, NULL, &pid[l]))) break;
                st->persons_new++;
            }
            u.id[na] = u.id[i], ap[na++] = pid[l]; // (na <= i: u.id is reused in place)
        }
        if (!rc) rc = store_faces_assign_auto(L->s, owner, u.id, ap, na, NULL);
        if (!rc) rc = store_commit(L->s);
        if (rc) store_rollback(L->s);
    }
    fh_free(pid), fh_free(ap), fh_free(label), fh_free(size), fh_free(e);
    fset_free(&u);
    return rc;
}

// ---- full reclustering ---------------------------------------------------------------------------
struct rej {
    int64_t *face, *person;
    int n, cap;
};
static int rej_cb(void *ctx, int64_t face_id, int64_t person_id) {
    struct rej *r = ctx;
    if (r->n == r->cap) {
        int nc = r->cap ? 2 * r->cap : 64;
        int64_t *a = fh_realloc(r->face, (size_t)nc * sizeof *a);
        if (a) r->face = a;
        int64_t *b = fh_realloc(r->person, (size_t)nc * sizeof *b);
        if (b) r->person = b;
        if (!a || !b) return 1;
        r->cap = nc;
    }
    r->face[r->n] = face_id, r->person[r->n++] = person_id;
    return 0;
}

static int find_face(const struct fset *s, int64_t id) {
    int lo = 0, hi = s->n - 1; // faces come ordered by id
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        if (s->id[mid] == id) return mid;
        if (s->id[mid] < id) lo = mid + 1;
        else hi = mid - 1;
    }
    return -1;
}

// persons the user holds: named, or holding user-assigned faces
struct kept {
    int64_t *v;
    int n, cap;
};
static int kept_has(const struct kept *k, int64_t id) {
    for (int i = 0; i < k->n; i++)
        if (k->v[i] == id) return 1;
    return 0;
}
static int kept_add(struct kept *k, int64_t id) {
    if (kept_has(k, id)) return FH_OK;
    if (fh_grow((void **)&k->v, &k->cap, k->n + 1, sizeof *k->v)) return FH_E_NOMEM;
    k->v[k->n++] = id;
    return FH_OK;
}
static int kept_cb(void *ctx, const struct store_person *p) {
    return p->name && p->name[0] ? kept_add(ctx, p->id) : FH_OK;
}

struct ov {
    int cluster;
    int64_t person;
    int count;
};
static int cmp_ov(const void *a, const void *b) {
    const struct ov *x = a, *y = b;
    if (x->count != y->count) return y->count - x->count;
    if (x->cluster != y->cluster) return x->cluster - y->cluster;
    return (x->person > y->person) - (x->person < y->person);
}

// anchor_named: the faces of named persons count as the user's (fixed groups tagged with the
// person) while they stay automatic in the store (lib_recluster_anchored)
static int recluster(struct lib *L, int64_t owner, const struct lib_options *o, int anchor_named,
                     struct lib_stats *st) {
    memset(st, 0, sizeof *st);
    double t0 = fh_now_ms();
    struct fset f = {0};
    struct rej rj = {0};
    struct kept named = {0};
    int rc = lib_model_check(L);
    if (!rc) rc = store_faces_each(L->s, owner, STORE_FACES_EMB, fset_cb, &f);
    if (!rc) rc = store_rejects_each(L->s, owner, rej_cb, &rj);
    if (!rc && anchor_named) rc = store_persons_each(L->s, owner, kept_cb, &named);
    int n = f.n;
    int *label = fh_malloc((size_t)(n ? n : 1) * sizeof *label), *group = fh_malloc((size_t)(n ? n : 1) * sizeof *group);
    int64_t *tag = fh_calloc((size_t)(n ? n : 1), sizeof *tag);
    int *ritem = fh_malloc((size_t)(rj.n ? rj.n : 1) * sizeof *ritem), nr = 0;
    if (!rc && (!label || !group || !tag || !ritem)) rc = fh_fail(FH_E_NOMEM, "library: out of memory");
    // user persons: their user-assigned faces form fixed groups tagged with the person
    for (int i = 0; !rc && i < n; i++) {
        group[i] = -1;
        if (f.person[i] && (f.assigned[i] == STORE_USER || kept_has(&named, f.person[i]))) {
            tag[i] = f.person[i];
            int first = -1;
            for (int j = 0; j < i && first < 0; j++)
                if (tag[j] == tag[i]) first = group[j];
            group[i] = first >= 0 ? first : i;
        }
    }
    for (int r = 0; !rc && r < rj.n; r++) {
        int it = find_face(&f, rj.face[r]);
        if (it >= 0) ritem[nr] = it, rj.person[nr++] = rj.person[r];
    }
    struct clus_edge *e = NULL;
    size_t ne = 0;
    float cutoff = o->cluster_t + GRAPH_MARGIN;
    struct fh_pool *pool = rc ? NULL : fh_pool_new(o->threads);
    if (!rc) rc = clus_graph_i8(f.emb, n, FH_EMB_DIM, cutoff, pool, 0, &e, &ne);
    fh_pool_free(pool);
    struct clus_constraints c = {group, f.photo, tag, ritem, rj.person, nr};
    int k = rc ? 0 : clus_average_c(n, e, ne, cutoff, o->cluster_t, &c, label);
    if (k < 0) rc = k;
    // which person does each cluster become? tagged clusters: their tag. Others: the
    // previous person most of their faces had (greedy by overlap), else a new person,
    // else (too small) unknown.
    int64_t *cp = rc ? NULL : fh_calloc((size_t)(k ? k : 1), sizeof *cp);
    int *csize = rc ? NULL : fh_calloc((size_t)(k ? k : 1), sizeof *csize);
    struct ov *ov = rc ? NULL : fh_malloc((size_t)(n ? n : 1) * sizeof *ov);
    if (!rc && (!cp || !csize || !ov)) rc = fh_fail(FH_E_NOMEM, "library: out of memory");
    int nov = 0;
    for (int i = 0; !rc && i < n; i++) {
        csize[label[i]]++;
        if (tag[i]) cp[label[i]] = tag[i];
    }
    for (int i = 0; !rc && i < n; i++) // overlap of untagged clusters with old auto persons
        if (!cp[label[i]] && f.person[i] && f.assigned[i] == STORE_AUTO) {
            int j = 0;
            while (j < nov && !(ov[j].cluster == label[i] && ov[j].person == f.person[i])) j++;
            if (j == nov) ov[nov++] = (struct ov){label[i], f.person[i], 0};
            ov[j].count++;
        }
    // A person the user holds (named, or with faces the user put there) is continued by the
    // untagged cluster that overlaps it most, even when its user-assigned faces ended up in
    // a cluster of their own (an outlier the user confirmed): both clusters become that
    // person, so a recluster never strips a named person down to the user's own faces.
    struct kept kp = {0};
    if (!rc) rc = store_persons_each(L->s, owner, kept_cb, &kp);
    for (int i = 0; !rc && i < n; i++)
        if (tag[i] && kept_add(&kp, tag[i])) rc = fh_fail(FH_E_NOMEM, "library: out of memory");
    char *by_ov = rc ? NULL : fh_calloc((size_t)(k ? k : 1), 1); // cluster got its person by overlap
    if (!rc && !by_ov) rc = fh_fail(FH_E_NOMEM, "library: out of memory");
    if (!rc) qsort(ov, (size_t)nov, sizeof *ov, cmp_ov);
    for (int j = 0; !rc && j < nov; j++) {
        int taken = 0, held = kept_has(&kp, ov[j].person);
        for (int q = 0; q < k && !taken; q++) taken = cp[q] == ov[j].person && (by_ov[q] || !held);
        if (!cp[ov[j].cluster] && !taken && (held || csize[ov[j].cluster] >= o->min_person_faces))
            cp[ov[j].cluster] = ov[j].person, by_ov[ov[j].cluster] = 1;
    }
    fh_free(by_ov), fh_free(kp.v);
    // the assignments, written in bulk ("not this person" beats the cluster a face landed
    // in: the store skips rejected pairs)
    int64_t *af = rc ? NULL : fh_malloc(sizeof *af * (size_t)(n ? n : 1)), *ap = rc ? NULL : fh_malloc(sizeof *ap * (size_t)(n ? n : 1));
    if (!rc && (!af || !ap)) rc = fh_fail(FH_E_NOMEM, "library: out of memory");
    int na = 0;
    if (!rc && !(rc = store_begin(L->s))) {
        rc = store_faces_clear_auto(L->s, owner);
        for (int i = 0; !rc && i < n; i++) {
            if (f.assigned[i] == STORE_USER) continue;
            int l = label[i];
            if (!cp[l] && csize[l] >= o->min_person_faces) {
                if ((rc = store_person_create(L->s, owner, NULL, &cp[l]))) break;
                st->persons_new++;
            }
            if (cp[l]) af[na] = f.id[i], ap[na++] = cp[l];
        }
        if (!rc) rc = store_faces_assign_auto(L->s, owner, af, ap, na, NULL);
        if (!rc) rc = store_persons_prune(L->s, owner);
        if (!rc) rc = store_commit(L->s);
        if (rc) store_rollback(L->s);
    }
    if (!rc) rc = lib_update_avatars(L, owner);
    st->faces = n;
    st->seconds = (fh_now_ms() - t0) / 1e3;
    fh_free(af), fh_free(ap);
    fh_free(cp), fh_free(csize), fh_free(ov), fh_free(e), fh_free(label), fh_free(group), fh_free(tag), fh_free(ritem);
    fh_free(rj.face), fh_free(rj.person), fh_free(named.v);
    fset_free(&f);
    return rc;
}

int lib_recluster(struct lib *L, int64_t owner, const struct lib_options *o, struct lib_stats *st) {
    return recluster(L, owner, o, 0, st);
}

int lib_recluster_anchored(struct lib *L, int64_t owner, const struct lib_options *o, struct lib_stats *st) {
    return recluster(L, owner, o, 1, st);
}

// ---- avatars -------------------------------------------------------------------------------------
struct best {
    int64_t person, face;
    float q;
};
struct bests {
    struct best *v;
    int n, cap;
};
// every assigned face (person, face, quality); sorted by person and reduced to the best one
// afterwards (faces arrive by id: on equal quality the lowest id wins, as before)
static int best_cb(void *ctx, const struct store_face *f) {
    struct bests *b = ctx;
    if (!f->person_id) return 0;
    if (fh_grow((void **)&b->v, &b->cap, b->n + 1, sizeof *b->v)) return 1;
    b->v[b->n++] = (struct best){f->person_id, f->id, f->quality};
    return 0;
}
static int cmp_best(const void *x, const void *y) {
    const struct best *a = x, *b = y;
    if (a->person != b->person) return a->person < b->person ? -1 : 1;
    if (a->q != b->q) return a->q > b->q ? -1 : 1;
    return (a->face > b->face) - (a->face < b->face);
}
// the best face of person id in the reduced, sorted list (0: none)
static int64_t best_of(const struct bests *b, int64_t id) {
    int lo = 0, hi = b->n - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        if (b->v[mid].person == id) return b->v[mid].face;
        if (b->v[mid].person < id) lo = mid + 1;
        else hi = mid - 1;
    }
    return 0;
}
// the faces of one person (lib_avatar_candidates)
static int person_best_cb(void *ctx, const struct store_face *f) {
    struct bests *b = ctx;
    if (fh_grow((void **)&b->v, &b->cap, b->n + 1, sizeof *b->v)) return fh_fail(FH_E_NOMEM, "out of memory");
    b->v[b->n++] = (struct best){f->person_id, f->id, f->quality};
    return 0;
}

int lib_avatar_candidates(struct lib *L, int64_t owner, int64_t person_id, int max, int64_t *face_ids,
                          float *quality, int *n) {
    struct bests b = {0};
    *n = 0;
    if (person_id <= 0 || max < 0) return fh_fail(FH_E_ARG, "avatar candidates: bad person or count");
    int rc = lib_faces_of_person(L, owner, person_id, person_best_cb, &b);
    if (!rc && b.n) qsort(b.v, (size_t)b.n, sizeof *b.v, cmp_best); // the order lib_update_avatars picks by
    for (int i = 0; !rc && i < b.n && i < max; i++) {
        face_ids[i] = b.v[i].face;
        if (quality) quality[i] = b.v[i].q;
        (*n)++;
    }
    fh_free(b.v);
    return rc;
}

struct pinfo {
    int64_t id, avatar;
    int by_user;
};
struct pinfos {
    struct pinfo *v;
    int n, cap;
};
static int pinfo_cb(void *ctx, const struct store_person *p) {
    struct pinfos *s = ctx;
    if (fh_grow((void **)&s->v, &s->cap, s->n + 1, sizeof *s->v)) return 1;
    s->v[s->n++] = (struct pinfo){p->id, p->avatar_face, p->avatar_by_user};
    return 0;
}

int lib_update_avatars(struct lib *L, int64_t owner) {
    struct bests b = {0};
    struct pinfos p = {0};
    int rc = store_faces_each(L->s, owner, 0, best_cb, &b);
    if (!rc && b.n) { // sort by person, best first; keep each person's first
        qsort(b.v, (size_t)b.n, sizeof *b.v, cmp_best);
        int k = 0;
        for (int i = 0; i < b.n; i++)
            if (!k || b.v[k - 1].person != b.v[i].person) b.v[k++] = b.v[i];
        b.n = k;
    }
    if (!rc) rc = store_persons_each(L->s, owner, pinfo_cb, &p);
    if (!rc && !(rc = store_begin(L->s))) {
        for (int i = 0; !rc && i < p.n; i++) {
            int64_t face = best_of(&b, p.v[i].id);
            // keep the user's pick while that face is still in the person
            int keep = 0;
            if (p.v[i].by_user && p.v[i].avatar) {
                struct store_face f;
                keep = !store_face_get(L->s, owner, p.v[i].avatar, &f) && f.person_id == p.v[i].id;
            }
            if (!keep && face != p.v[i].avatar) rc = store_person_set_avatar(L->s, owner, p.v[i].id, face, 0);
        }
        if (!rc) rc = store_commit(L->s);
        if (rc) store_rollback(L->s);
    }
    fh_free(b.v), fh_free(p.v);
    return rc;
}
