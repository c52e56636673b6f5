// SPDX-License-Identifier: MIT
// Routes on persons: list, one person with its faces and photos, rename, merge, hide, avatar
// (and its candidates), new person from faces, delete. Every action replies with the op it recorded ("op").
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "server/handlers_int.h"

static int person_cb(void *ctx, const struct store_person *p) {
    srv_person_json(ctx, p);
    return 0;
}

void srv_h_persons_list(struct srv *S, const struct srv_req *rq, int64_t id, struct srv_resp *rs) {
    struct srv_json w;
    int unknown = 0;
    jw_init(&w, &rs->body);
    jw_obj(&w);
    jw_key(&w, "persons"), jw_arr(&w);
    pthread_mutex_lock(&S->mu);
    int rc = lib_persons_each(S->L, rq->owner, person_cb, &w);
    if (!rc) rc = lib_unknown_count(S->L, rq->owner, &unknown);
    pthread_mutex_unlock(&S->mu);
    if (rc) return srv_fail(rs, rc);
    jw_arr_end(&w);
    jw_key(&w, "unknown_faces"), jw_int(&w, unknown);
    jw_obj_end(&w);
    srv_json_ok(rs, 200);
}

// ---- one person: faces, then the photos they are in ---------------------------------------------------
struct ids {
    int64_t *v;
    int n, cap;
};

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

struct faces_ctx {
    struct srv_json *w;
    struct ids photos;
};

static int face_cb(void *ctx, const struct store_face *f) {
    struct faces_ctx *c = ctx;
    srv_face_json(c->w, f);
    if (c->photos.n && c->photos.v[c->photos.n - 1] == f->photo_id) return 0; // faces of a photo come in a run
    if (fh_grow((void **)&c->photos.v, &c->photos.cap, c->photos.n + 1, sizeof *c->photos.v))
        return fh_fail(FH_E_NOMEM, "out of memory");
    c->photos.v[c->photos.n++] = f->photo_id;
    return 0;
}

// {"person": person, ... of the person id (the caller holds S->mu); FH_E_NOTFOUND if not the owner's
static int person_head(struct srv *S, const struct srv_req *rq, int64_t id, struct srv_json *w) {
    struct store_person p;
    int rc = lib_person_get(S->L, rq->owner, id, &p);
    if (!rc) jw_key(w, "person"), srv_person_json(w, &p);
    return rc;
}

void srv_h_person_get(struct srv *S, const struct srv_req *rq, int64_t id, struct srv_resp *rs) {
    struct srv_json w;
    struct faces_ctx c = {.w = &w};
    jw_init(&w, &rs->body);
    jw_obj(&w);
    pthread_mutex_lock(&S->mu);
    int rc = person_head(S, rq, id, &w);
    if (!rc) {
        jw_key(&w, "faces"), jw_arr(&w);
        rc = lib_faces_of_person(S->L, rq->owner, id, face_cb, &c);
        jw_arr_end(&w);
    }
    if (!rc) {
        // a person without faces has no array (NULL: qsort must not see it; fuzz_router found it)
        if (c.photos.n) qsort(c.photos.v, (size_t)c.photos.n, sizeof *c.photos.v, cmp_i64);
        jw_key(&w, "photos"), jw_arr(&w);
        for (int i = 0; !rc && i < c.photos.n; i++) {
            struct store_photo ph;
            if (i && c.photos.v[i] == c.photos.v[i - 1]) continue;
            if (!(rc = lib_photo_get(S->L, rq->owner, c.photos.v[i], &ph))) srv_photo_json(&w, &ph);
        }
        jw_arr_end(&w);
    }
    pthread_mutex_unlock(&S->mu);
    fh_free(c.photos.v);
    if (rc) return srv_fail(rs, rc);
    jw_obj_end(&w);
    srv_json_ok(rs, 200);
}

// ---- actions -------------------------------------------------------------------------------------------
// "name": a string (trimmed; at most STORE_NAME_MAX bytes, no control characters) or null
// (unnamed: name[0] = 0). On a bad value fills rs (400) and returns non-zero.
static int name_member(const struct srv_jdoc *d, char name[STORE_NAME_MAX + 1], struct srv_resp *rs) {
    const struct srv_jmember *m = srv_json_get(d, "name");
    name[0] = 0;
    if (!m || (m->type != SRV_J_STR && m->type != SRV_J_NULL)) {
        srv_error(rs, 400, "\"name\" must be a string or null");
        return 1;
    }
    if (m->type == SRV_J_NULL) return 0;
    const char *s = m->str, *e = s + strlen(s);
    while (*s == ' ' || *s == '\t') s++;
    while (e > s && (e[-1] == ' ' || e[-1] == '\t')) e--;
    if ((size_t)(e - s) > STORE_NAME_MAX) {
        srv_error(rs, 400, "name longer than %d bytes", STORE_NAME_MAX);
        return 1;
    }
    for (const char *p = s; p < e; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f) {
            srv_error(rs, 400, "name contains control characters");
            return 1;
        }
    memcpy(name, s, (size_t)(e - s));
    name[e - s] = 0;
    return 0;
}

void srv_h_person_rename(struct srv *S, const struct srv_req *rq, int64_t id, struct srv_resp *rs) {
    struct srv_jdoc d;
    char name[STORE_NAME_MAX + 1];
    if (srv_body_json(rq, rs, &d)) return;
    int bad = name_member(&d, name, rs);
    srv_json_free(&d);
    if (bad) return;
    pthread_mutex_lock(&S->mu);
    int rc = lib_rename(S->L, rq->owner, id, name[0] ? name : NULL);
    if (rc) srv_fail(rs, rc);
    else srv_person_reply(S, rq, id, 1, rs);
    pthread_mutex_unlock(&S->mu);
}

void srv_h_person_merge(struct srv *S, const struct srv_req *rq, int64_t id, struct srv_resp *rs) {
    struct srv_jdoc d;
    int64_t from;
    if (srv_body_json(rq, rs, &d)) return;
    int bad = srv_json_id(&d, "from", 0, &from, rs);
    srv_json_free(&d);
    if (bad) return;
    if (from == id) return srv_error(rs, 400, "a person cannot be merged into itself");
    pthread_mutex_lock(&S->mu);
    int rc = lib_merge(S->L, rq->owner, id, from); // 404 names the missing one
    if (rc) srv_fail(rs, rc);
    else srv_person_reply(S, rq, id, 1, rs);
    pthread_mutex_unlock(&S->mu);
}

// POST /api/persons/#/apart {"person": OTHER}: "OTHER is not this person" (every face of OTHER
// rejected for this one, one op); replies like the other person actions, with this person
void srv_h_person_apart(struct srv *S, const struct srv_req *rq, int64_t id, struct srv_resp *rs) {
    struct srv_jdoc d;
    int64_t other;
    if (srv_body_json(rq, rs, &d)) return;
    int bad = srv_json_id(&d, "person", 0, &other, rs);
    srv_json_free(&d);
    if (bad) return;
    if (other == id) return srv_error(rs, 400, "a person is always itself");
    pthread_mutex_lock(&S->mu);
    int rc = lib_persons_apart(S->L, rq->owner, id, other);
    if (rc) srv_fail(rs, rc);
    else srv_person_reply(S, rq, id, 1, rs);
    pthread_mutex_unlock(&S->mu);
}

// GET /api/review/merges?limit=5: 200 {"merges": [{"person": {"id", "name", "avatar", "faces"},
// "other": {...}, "distance", "p_yes", "gain"}]}: the review queue's "are these two persons
// one?" questions, most expected gain first (lib_review)
#define MERGES_LIMIT_DEFAULT 5
#define MERGES_LIMIT_MAX 50
static void person_brief(struct srv *S, int64_t owner, int64_t id, struct srv_json *w) {
    struct store_person p;
    jw_obj(w);
    jw_key(w, "id"), jw_int(w, id);
    if (!lib_person_get(S->L, owner, id, &p)) {
        jw_key(w, "name"), jw_str(w, p.name && p.name[0] ? p.name : NULL);
        jw_key(w, "avatar"), jw_id(w, p.avatar_face);
        jw_key(w, "faces"), jw_int(w, p.n_faces);
    }
    jw_obj_end(w);
}
void srv_h_review_merges(struct srv *S, const struct srv_req *rq, int64_t id, struct srv_resp *rs) {
    int limit = srv_arg_int(rq, "limit", MERGES_LIMIT_DEFAULT, 1, MERGES_LIMIT_MAX);
    struct lib_options o = lib_options_default();
    struct lib_question *q = NULL;
    int n = 0;
    pthread_mutex_lock(&S->mu);
    int rc = lib_review(S->L, rq->owner, &o, LIB_UNKNOWN_SCAN_MAX, &q, &n);
    if (!rc) {
        struct srv_json w;
        jw_init(&w, &rs->body);
        jw_obj(&w);
        jw_key(&w, "merges"), jw_arr(&w);
        for (int i = 0, k = 0; i < n && k < limit; i++) {
            if (q[i].kind != LIB_Q_MERGE) continue;
            k++;
            jw_obj(&w);
            jw_key(&w, "person"), person_brief(S, rq->owner, q[i].person, &w);
            jw_key(&w, "other"), person_brief(S, rq->owner, q[i].other, &w);
            jw_key(&w, "distance"), jw_num(&w, q[i].distance);
            jw_key(&w, "p_yes"), jw_num(&w, q[i].p_yes);
            jw_key(&w, "gain"), jw_num(&w, q[i].gain);
            jw_obj_end(&w);
        }
        jw_arr_end(&w);
        jw_obj_end(&w);
    }
    pthread_mutex_unlock(&S->mu);
    fh_free(q);
    if (rc) return srv_fail(rs, rc);
    srv_json_ok(rs, 200);
}

void srv_h_person_hide(struct srv *S, const struct srv_req *rq, int64_t id, struct srv_resp *rs) {
    struct srv_jdoc d;
    if (srv_body_json(rq, rs, &d)) return;
    const struct srv_jmember *m = srv_json_get(&d, "hidden");
    int hidden = m && m->type == SRV_J_BOOL ? (int)m->num : -1;
    srv_json_free(&d);
    if (hidden < 0) return srv_error(rs, 400, "\"hidden\" must be true or false");
    pthread_mutex_lock(&S->mu);
    int rc = lib_hide(S->L, rq->owner, id, hidden);
    if (rc) srv_fail(rs, rc);
    else srv_person_reply(S, rq, id, 1, rs);
    pthread_mutex_unlock(&S->mu);
}

void srv_h_person_avatar(struct srv *S, const struct srv_req *rq, int64_t id, struct srv_resp *rs) {
    struct srv_jdoc d;
    int64_t face;
    if (srv_body_json(rq, rs, &d)) return;
    int bad = srv_json_id(&d, "face", 0, &face, rs);
    srv_json_free(&d);
    if (bad) return;
    pthread_mutex_lock(&S->mu);
    struct store_face f;
    int rc = lib_face_get(S->L, rq->owner, face, &f);
    if (!rc && f.person_id != id) rc = fh_fail(FH_E_ARG, "face %lld is not a face of person %lld", (long long)face, (long long)id);
    if (!rc) rc = lib_set_avatar(S->L, rq->owner, id, face);
    if (rc) srv_fail(rs, rc);
    else srv_person_reply(S, rq, id, 1, rs);
    pthread_mutex_unlock(&S->mu);
}

// GET /api/persons/#/avatars?limit=5: 200 {"person", "candidates": [face...]}, the person's
// best avatar candidates by quality, best first (the first is the automatic avatar)
#define AVATARS_LIMIT_DEFAULT 5
#define AVATARS_LIMIT_MAX 24
void srv_h_person_avatars(struct srv *S, const struct srv_req *rq, int64_t id, struct srv_resp *rs) {
    int limit = srv_arg_int(rq, "limit", AVATARS_LIMIT_DEFAULT, 1, AVATARS_LIMIT_MAX), n = 0;
    int64_t ids[AVATARS_LIMIT_MAX];
    struct srv_json w;
    jw_init(&w, &rs->body);
    jw_obj(&w);
    pthread_mutex_lock(&S->mu);
    int rc = person_head(S, rq, id, &w);
    if (!rc) rc = lib_avatar_candidates(S->L, rq->owner, id, limit, ids, NULL, &n);
    if (!rc) jw_key(&w, "candidates"), jw_arr(&w);
    for (int i = 0; !rc && i < n; i++) {
        struct store_face f;
        if (!(rc = lib_face_get(S->L, rq->owner, ids[i], &f))) srv_face_json(&w, &f);
    }
    pthread_mutex_unlock(&S->mu);
    if (rc) return srv_fail(rs, rc);
    jw_arr_end(&w);
    jw_obj_end(&w);
    srv_json_ok(rs, 200);
}

// POST /api/persons {"name": "Anna" | null, "faces": [ID...]}: 201 {"person", "op"}
void srv_h_person_new(struct srv *S, const struct srv_req *rq, int64_t id, struct srv_resp *rs) {
    struct srv_jdoc d;
    char name[STORE_NAME_MAX + 1];
    int64_t *faces = NULL, pid = 0;
    int n = 0;
    if (srv_body_json(rq, rs, &d)) return;
    int bad = srv_json_get(&d, "name") ? name_member(&d, name, rs) : (name[0] = 0);
    if (!bad) bad = srv_json_ids(&d, "faces", SRV_BULK_MAX, &faces, &n, rs);
    srv_json_free(&d);
    if (bad) return;
    pthread_mutex_lock(&S->mu);
    int rc = lib_person_new(S->L, rq->owner, name[0] ? name : NULL, faces, n, &pid);
    if (rc) srv_fail(rs, rc);
    else {
        srv_person_reply(S, rq, pid, 1, rs);
        if (rs->status == 200) rs->status = 201;
    }
    pthread_mutex_unlock(&S->mu);
    fh_free(faces);
}

// POST /api/persons/{id}/delete: its faces go back to unknown (by the user's word)
void srv_h_person_delete(struct srv *S, const struct srv_req *rq, int64_t id, struct srv_resp *rs) {
    pthread_mutex_lock(&S->mu);
    int rc = lib_person_delete(S->L, rq->owner, id);
    if (rc) srv_fail(rs, rc);
    else srv_op_reply(S, rq, rs);
    pthread_mutex_unlock(&S->mu);
}
