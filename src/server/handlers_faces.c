// SPDX-License-Identifier: MIT
// Routes on faces: one face, its thumbnail, the unknown faces with suggestions, move and
// "not this person" for one face or many at once (bulk: one op, so one undo takes all back).
#include <string.h>

#include "base/base.h"
#include "server/handlers_int.h"

#define UNKNOWN_LIMIT_DEFAULT 100
#define UNKNOWN_LIMIT_MAX 1000

// the person-centroid logic lives in the library (lib_unknown_faces)
void srv_h_unknown_list(struct srv *S, const struct srv_req *rq, int64_t id, struct srv_resp *rs) {
    int limit = srv_arg_int(rq, "limit", UNKNOWN_LIMIT_DEFAULT, 1, UNKNOWN_LIMIT_MAX);
    const char *t = srv_arg(rq, "trash");
    struct lib_unknown *u = NULL;
    int n = 0, total = 0;
    pthread_mutex_lock(&S->mu);
    // the review queue's order: the most useful question first (lib_review)
    int rc = lib_unknown_faces(S->L, rq->owner, limit, (t && !strcmp(t, "1") ? LIB_UNKNOWN_TRASH : 0) | LIB_UNKNOWN_BY_GAIN,
                               &u, &n, &total);
    pthread_mutex_unlock(&S->mu);
    if (rc) return srv_fail(rs, rc);
    struct srv_json w;
    jw_init(&w, &rs->body);
    jw_obj(&w);
    jw_key(&w, "total"), jw_int(&w, total);
    jw_key(&w, "faces"), jw_arr(&w);
    for (int i = 0; i < n; i++) {
        jw_obj(&w);
        jw_key(&w, "face");
        srv_face_json(&w, &u[i].face);
        jw_key(&w, "suggestion");
        if (u[i].person) {
            jw_obj(&w);
            jw_key(&w, "person"), jw_int(&w, u[i].person);
            jw_key(&w, "name"), jw_str(&w, u[i].name[0] ? u[i].name : NULL);
            jw_key(&w, "distance"), jw_num(&w, u[i].distance);
            jw_obj_end(&w);
        } else jw_null(&w);
        jw_key(&w, "group"), jw_int(&w, u[i].group); // faces of its question (0: in none)
        jw_obj_end(&w);
    }
    jw_arr_end(&w);
    jw_obj_end(&w);
    srv_json_ok(rs, 200);
    fh_free(u);
}

// {"face": face} (with_op: and "op"; pulled >= 0: and "pulled") for face id. Under S->mu.
static void face_reply(struct srv *S, const struct srv_req *rq, int64_t id, int with_op, int pulled,
                       struct srv_resp *rs) {
    struct store_face f;
    int rc = lib_face_get(S->L, rq->owner, id, &f);
    if (rc) return srv_fail(rs, rc);
    struct srv_json w;
    jw_init(&w, &rs->body);
    jw_obj(&w);
    jw_key(&w, "face");
    srv_face_json(&w, &f);
    if (with_op) srv_op_member(S, rq->owner, &w);
    if (pulled >= 0) jw_key(&w, "pulled"), jw_int(&w, pulled);
    jw_obj_end(&w);
    srv_json_ok(rs, 200);
}

void srv_h_face_get(struct srv *S, const struct srv_req *rq, int64_t id, struct srv_resp *rs) {
    pthread_mutex_lock(&S->mu);
    face_reply(S, rq, id, 0, -1, rs);
    pthread_mutex_unlock(&S->mu);
}

// after a move into a person: its new neighbours among the unknown faces follow (a yes pulls
// them along; lib_review_pull, not part of the op). Under S->mu.
static int pull(struct srv *S, int64_t owner, int64_t person, int *pulled) {
    struct lib_options o = lib_options_default();
    o.threads = S->cfg.threads;
    return lib_review_pull(S->L, owner, person, &o, pulled);
}

void srv_h_face_move(struct srv *S, const struct srv_req *rq, int64_t id, struct srv_resp *rs) {
    struct srv_jdoc d;
    int64_t person;
    if (srv_body_json(rq, rs, &d)) return;
    int bad = srv_json_id(&d, "person", 1, &person, rs);
    srv_json_free(&d);
    if (bad) return;
    pthread_mutex_lock(&S->mu);
    int pulled = 0;
    int rc = lib_move_face(S->L, rq->owner, id, person);
    if (!rc && person) rc = pull(S, rq->owner, person, &pulled);
    if (rc) srv_fail(rs, rc);
    else face_reply(S, rq, id, 1, pulled, rs);
    pthread_mutex_unlock(&S->mu);
}

void srv_h_face_reject(struct srv *S, const struct srv_req *rq, int64_t id, struct srv_resp *rs) {
    struct srv_jdoc d;
    int64_t person;
    if (srv_body_json(rq, rs, &d)) return;
    int bad = srv_json_id(&d, "person", 0, &person, rs);
    srv_json_free(&d);
    if (bad) return;
    pthread_mutex_lock(&S->mu);
    int rc = lib_reject_face(S->L, rq->owner, id, person);
    if (rc) srv_fail(rs, rc);
    else face_reply(S, rq, id, 1, -1, rs);
    pthread_mutex_unlock(&S->mu);
}

void srv_h_face_thumb(struct srv *S, const struct srv_req *rq, int64_t id, struct srv_resp *rs) {
    pthread_mutex_lock(&S->mu);
    struct store_face f;
    int rc = lib_face_get(S->L, rq->owner, id, &f);
    if (!rc && (!f.thumb || !f.thumb_size)) rc = fh_fail(FH_E_NOTFOUND, "face %lld has no thumbnail", (long long)id);
    if (!rc) srv_buf_put(&rs->body, f.thumb, f.thumb_size);
    pthread_mutex_unlock(&S->mu);
    if (rc) return srv_fail(rs, rc);
    rs->status = 200;
    rs->content_type = "image/jpeg";
    rs->cache = "private, max-age=86400"; // a face id never gets other pixels
}

// ---- bulk: {"faces": [ID...], "person": ID | null} -----------------------------------------------------
// reject: 1, "person" required; move: null = unknown. Replies {"moved"|"rejected": N, "op"}.
static void faces_bulk(struct srv *S, const struct srv_req *rq, int reject, struct srv_resp *rs) {
    struct srv_jdoc d;
    int64_t *faces = NULL, person = 0;
    int n = 0;
    if (srv_body_json(rq, rs, &d)) return;
    int bad = srv_json_ids(&d, "faces", SRV_BULK_MAX, &faces, &n, rs);
    if (!bad) bad = srv_json_id(&d, "person", !reject, &person, rs);
    srv_json_free(&d);
    if (bad) {
        fh_free(faces);
        return;
    }
    pthread_mutex_lock(&S->mu);
    int pulled = 0;
    int rc = reject ? lib_reject_faces(S->L, rq->owner, faces, n, person) : lib_move_faces(S->L, rq->owner, faces, n, person);
    if (!rc && !reject && person) rc = pull(S, rq->owner, person, &pulled);
    if (rc) srv_fail(rs, rc);
    else {
        struct srv_json w;
        jw_init(&w, &rs->body);
        jw_obj(&w);
        jw_key(&w, reject ? "rejected" : "moved"), jw_int(&w, n);
        if (!reject) jw_key(&w, "pulled"), jw_int(&w, pulled);
        srv_op_member(S, rq->owner, &w);
        jw_obj_end(&w);
        srv_json_ok(rs, 200);
    }
    pthread_mutex_unlock(&S->mu);
    fh_free(faces);
}

void srv_h_faces_move(struct srv *S, const struct srv_req *rq, int64_t id, struct srv_resp *rs) { faces_bulk(S, rq, 0, rs); }

void srv_h_faces_reject(struct srv *S, const struct srv_req *rq, int64_t id, struct srv_resp *rs) { faces_bulk(S, rq, 1, rs); }
