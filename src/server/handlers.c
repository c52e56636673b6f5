// SPDX-License-Identifier: MIT
// The router: a table {method, pattern, handler} (one line per route; the handlers live in one
// file per resource, see handlers_int.h), 404/405, the embedded web assets, the one error
// shape, and what every handler shares: request helpers, the JSON shapes, the "op" of a user
// action and POST /api/undo. Shapes and limits: docs/http-api.md.
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "server/handlers_int.h"

// ---- errors -------------------------------------------------------------------------------------
void srv_error(struct srv_resp *rs, int status, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    srv_buf_free(&rs->body);
    rs->status = status;
    rs->content_type = "application/json";
    rs->cache = NULL;
    struct srv_json w;
    jw_init(&w, &rs->body);
    jw_obj(&w);
    jw_key(&w, "error"), jw_obj(&w);
    jw_key(&w, "code"), jw_int(&w, status);
    jw_key(&w, "message"), jw_str(&w, msg);
    jw_obj_end(&w);
    jw_obj_end(&w);
}

static int status_of(int rc) {
    switch (rc) {
    case FH_E_NOTFOUND: return 404;
    case FH_E_ARG: return 400;
    case FH_E_FORMAT:
    case FH_E_UNSUPPORTED: return 415;
    case FH_E_LIMIT: return 413;
    case FH_E_BUSY: return 503;
    default: return 500;
    }
}

// an FH_E_* failure: the status from the code, the message from fh_errmsg()
void srv_fail(struct srv_resp *rs, int rc) {
    const char *m = fh_errmsg();
    srv_error(rs, status_of(rc), "%s", m && *m ? m : fh_strerror(rc));
}

void srv_json_ok(struct srv_resp *rs, int status) {
    rs->status = status;
    rs->content_type = "application/json";
}

// ---- request helpers ----------------------------------------------------------------------------
const char *srv_arg(const struct srv_req *rq, const char *key) {
    for (int i = 0; i < rq->n_args; i++)
        if (!strcmp(rq->arg_key[i], key)) return rq->arg_val[i];
    return NULL;
}

int srv_arg_int(const struct srv_req *rq, const char *key, int def, int lo, int hi) {
    const char *v = srv_arg(rq, key);
    if (!v || !*v) return def;
    char *e;
    long x = strtol(v, &e, 10);
    if (*e) return def;
    return x < lo ? lo : x > hi ? hi : (int)x;
}

// parses the JSON body; on failure fills rs (400) and returns non-zero
int srv_body_json(const struct srv_req *rq, struct srv_resp *rs, struct srv_jdoc *d) {
    if (!rq->body_len) {
        srv_error(rs, 400, "a JSON object body is required");
        return 1;
    }
    int rc = srv_json_parse((const char *)rq->body, rq->body_len, d);
    if (rc) {
        srv_error(rs, 400, "%s", fh_errmsg());
        return 1;
    }
    return 0;
}

// an id member: a positive integer; null (or 0) allowed only when nullable (*id = 0)
int srv_json_id(const struct srv_jdoc *d, const char *key, int nullable, int64_t *id, struct srv_resp *rs) {
    const struct srv_jmember *m = srv_json_get(d, key);
    *id = 0;
    if (m && m->type == SRV_J_NULL && nullable) return 0;
    if (m && m->type == SRV_J_NUM && m->num == floor(m->num) && m->num >= (nullable ? 0 : 1) && m->num < 9007199254740992.0) {
        *id = (int64_t)m->num;
        return 0;
    }
    srv_error(rs, 400, "\"%s\" must be %s", key, nullable ? "a person id or null" : "a positive integer id");
    return 1;
}

int srv_body_json_opt(const struct srv_req *rq, struct srv_resp *rs, struct srv_jdoc *d) {
    if (!rq->body_len) {
        memset(d, 0, sizeof *d);
        return 0;
    }
    return srv_body_json(rq, rs, d);
}

int srv_json_ids(const struct srv_jdoc *d, const char *key, int max, int64_t **ids, int *n, struct srv_resp *rs) {
    const struct srv_jmember *m = srv_json_get(d, key);
    *ids = NULL, *n = 0;
    if (!m || m->type != SRV_J_ARR) {
        srv_error(rs, 400, "\"%s\" must be an array of ids", key);
        return 1;
    }
    if (m->n_arr < 1 || m->n_arr > max) {
        srv_error(rs, 400, "\"%s\" needs 1..%d ids, got %d", key, max, m->n_arr);
        return 1;
    }
    for (int i = 0; i < m->n_arr; i++) {
        double v = m->arr[i];
        if (!(v == floor(v) && v >= 1 && v < 9007199254740992.0)) {
            srv_error(rs, 400, "\"%s\"[%d] is not a positive integer id", key, i);
            return 1;
        }
    }
    if (!(*ids = fh_malloc((size_t)m->n_arr * sizeof **ids))) {
        srv_fail(rs, fh_fail(FH_E_NOMEM, "out of memory"));
        return 1;
    }
    for (int i = 0; i < m->n_arr; i++) (*ids)[i] = (int64_t)m->arr[i];
    *n = m->n_arr;
    return 0;
}

// ---- JSON shapes ------------------------------------------------------------------------------------
void srv_person_json(struct srv_json *w, const struct store_person *p) {
    jw_obj(w);
    jw_key(w, "id"), jw_int(w, p->id);
    jw_key(w, "name"), jw_str(w, p->name && *p->name ? p->name : NULL);
    jw_key(w, "hidden"), jw_bool(w, p->hidden);
    jw_key(w, "n_faces"), jw_int(w, p->n_faces);
    jw_key(w, "n_photos"), jw_int(w, p->n_photos);
    jw_key(w, "avatar"), jw_id(w, p->avatar_face);
    jw_key(w, "avatar_by_user"), jw_bool(w, p->avatar_by_user);
    jw_obj_end(w);
}

void srv_face_json(struct srv_json *w, const struct store_face *f) {
    jw_obj(w);
    jw_key(w, "id"), jw_int(w, f->id);
    jw_key(w, "photo"), jw_int(w, f->photo_id);
    jw_key(w, "person"), jw_id(w, f->person_id);
    jw_key(w, "box"), jw_arr(w);
    for (int k = 0; k < 4; k++) jw_int(w, f->box[k]);
    jw_arr_end(w);
    jw_key(w, "score"), jw_num(w, f->det_score);
    jw_key(w, "detector"), jw_str(w, f->detector);
    jw_key(w, "quality"), jw_num(w, f->quality);
    jw_key(w, "blurry"), jw_bool(w, f->blurry);
    jw_key(w, "trash"), jw_bool(w, f->trash);
    jw_key(w, "assigned"), jw_str(w, f->assigned == STORE_USER ? "user" : "auto");
    jw_obj_end(w);
}

static const char *base_name(const char *p) {
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

void srv_photo_json(struct srv_json *w, const struct store_photo *p) {
    jw_obj(w);
    jw_key(w, "id"), jw_int(w, p->id);
    // the name it was uploaded with, else the stored file's name (never the server-side folder)
    jw_key(w, "name"), jw_str(w, p->orig_name && *p->orig_name ? base_name(p->orig_name) : base_name(p->path));
    jw_key(w, "width"), jw_int(w, p->width);
    jw_key(w, "height"), jw_int(w, p->height);
    jw_key(w, "n_faces"), jw_int(w, p->n_faces);
    jw_key(w, "status"), jw_str(w, p->status ? "failed" : "indexed");
    jw_key(w, "error"), jw_str(w, p->status ? p->error : NULL);
    jw_obj_end(w);
}

void srv_op_member(struct srv *S, int64_t owner, struct srv_json *w) {
    struct lib_op op;
    jw_key(w, "op");
    if (lib_last_op(S->L, owner, &op)) {
        jw_null(w);
        return;
    }
    jw_obj(w);
    jw_key(w, "id"), jw_int(w, op.id);
    jw_key(w, "summary"), jw_str(w, op.summary);
    jw_obj_end(w);
}

void srv_person_reply(struct srv *S, const struct srv_req *rq, int64_t id, int with_op, struct srv_resp *rs) {
    struct store_person p;
    int rc = lib_person_get(S->L, rq->owner, id, &p);
    if (rc) return srv_fail(rs, rc);
    struct srv_json w;
    jw_init(&w, &rs->body);
    jw_obj(&w);
    jw_key(&w, "person");
    srv_person_json(&w, &p);
    if (with_op) srv_op_member(S, rq->owner, &w);
    jw_obj_end(&w);
    srv_json_ok(rs, 200);
}

void srv_op_reply(struct srv *S, const struct srv_req *rq, struct srv_resp *rs) {
    struct srv_json w;
    jw_init(&w, &rs->body);
    jw_obj(&w);
    srv_op_member(S, rq->owner, &w);
    jw_obj_end(&w);
    srv_json_ok(rs, 200);
}

// ---- undo ----------------------------------------------------------------------------------------------
// POST /api/undo: the owner's latest op taken back; 409 when the log is empty
void srv_h_undo(struct srv *S, const struct srv_req *rq, int64_t id, struct srv_resp *rs) {
    struct srv_jdoc d;
    if (srv_body_json_opt(rq, rs, &d)) return; // none or {} (members ignored)
    srv_json_free(&d);
    struct lib_op op;
    pthread_mutex_lock(&S->mu);
    int rc = lib_undo_op(S->L, rq->owner, &op);
    pthread_mutex_unlock(&S->mu);
    if (rc == FH_E_NOTFOUND) return srv_error(rs, 409, "nothing to undo");
    if (rc) return srv_fail(rs, rc);
    struct srv_json w;
    jw_init(&w, &rs->body);
    jw_obj(&w);
    jw_key(&w, "undone"), jw_obj(&w);
    jw_key(&w, "id"), jw_int(&w, op.id);
    jw_key(&w, "summary"), jw_str(&w, op.summary);
    jw_obj_end(&w);
    jw_obj_end(&w);
    srv_json_ok(rs, 200);
}

// ---- routing -------------------------------------------------------------------------------------------
// One line per route. '#' in a pattern: one positive integer segment (the handler's id).
// More specific patterns need no order: a pattern matches the whole path.
static const struct route {
    const char *method, *pattern;
    srv_handler_fn fn;
} ROUTES[] = {
    {"GET", "/api/persons", srv_h_persons_list},
    {"POST", "/api/persons", srv_h_person_new},
    {"GET", "/api/persons/#", srv_h_person_get},
    {"POST", "/api/persons/#/rename", srv_h_person_rename},
    {"POST", "/api/persons/#/merge", srv_h_person_merge},
    {"POST", "/api/persons/#/apart", srv_h_person_apart},
    {"GET", "/api/review/merges", srv_h_review_merges},
    {"POST", "/api/persons/#/hide", srv_h_person_hide},
    {"POST", "/api/persons/#/avatar", srv_h_person_avatar},
    {"GET", "/api/persons/#/avatars", srv_h_person_avatars},
    {"POST", "/api/persons/#/delete", srv_h_person_delete},
    {"GET", "/api/unknown", srv_h_unknown_list},
    {"POST", "/api/faces/move", srv_h_faces_move},
    {"POST", "/api/faces/reject", srv_h_faces_reject},
    {"GET", "/api/faces/#", srv_h_face_get},
    {"POST", "/api/faces/#/move", srv_h_face_move},
    {"POST", "/api/faces/#/reject", srv_h_face_reject},
    {"GET", "/api/faces/#/thumb", srv_h_face_thumb},
    {"GET", "/api/photos/#", srv_h_photo_get},
    {"GET", "/api/photos/#/image", srv_h_photo_image},
    {"POST", "/api/photos/#/delete", srv_h_photo_delete},
    {"POST", "/api/upload", srv_h_upload},
    {"GET", "/api/status", srv_h_status},
    {"POST", "/api/search", srv_h_search},
    {"POST", "/api/recluster", srv_h_recluster},
    {"POST", "/api/undo", srv_h_undo},
    {"GET", "/api/me", srv_h_me},
    {"POST", "/api/login", srv_h_login},
    {"POST", "/api/logout", srv_h_logout},
    {"POST", "/api/account/recognition", srv_h_recognition},
    {"POST", "/api/account/delete", srv_h_account_delete},
};

// 1 if path matches pattern (*id gets the '#' segment)
static int match(const char *pattern, const char *path, int64_t *id) {
    const char *p = pattern, *s = path;
    *id = 0;
    while (*p && *s) {
        if (*p == '#') {
            int64_t v = 0;
            int digits = 0;
            while (*s >= '0' && *s <= '9' && digits < 18) v = v * 10 + (*s++ - '0'), digits++;
            if (!digits || v <= 0 || (*s >= '0' && *s <= '9')) return 0;
            *id = v;
            p++;
            continue;
        }
        if (*p++ != *s++) return 0;
    }
    return !*p && !*s;
}

static void asset(const struct srv_req *rq, struct srv_resp *rs) {
    const char *path = !strcmp(rq->path, "/") ? "/index.html" : rq->path;
    for (size_t i = 0; i < srv_n_assets; i++)
        if (!strcmp(srv_assets[i].path, path)) {
            srv_buf_put(&rs->body, srv_assets[i].data, srv_assets[i].len);
            rs->status = 200;
            rs->content_type = srv_assets[i].mime;
            rs->cache = "no-cache"; // revalidated: a new binary brings new assets
            return;
        }
    srv_error(rs, 404, "no such page: %s", rq->path);
}

void srv_handle(struct srv *S, const struct srv_req *rq, struct srv_resp *rs) {
    int wrong_method = 0;
    int64_t id;
    for (size_t i = 0; i < sizeof ROUTES / sizeof *ROUTES; i++) {
        if (!match(ROUTES[i].pattern, rq->path, &id)) continue;
        if (strcmp(ROUTES[i].method, rq->method)) {
            wrong_method = 1;
            continue;
        }
        ROUTES[i].fn(S, rq, id, rs);
        return;
    }
    if (wrong_method) return srv_error(rs, 405, "%s not allowed on %s", rq->method, rq->path);
    if (!strncmp(rq->path, "/api/", 5) || !strcmp(rq->path, "/api"))
        return srv_error(rs, 404, "no such route: %s", rq->path);
    if (strcmp(rq->method, "GET") && strcmp(rq->method, "HEAD"))
        return srv_error(rs, 405, "%s not allowed on %s", rq->method, rq->path);
    asset(rq, rs);
}
