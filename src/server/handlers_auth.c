// SPDX-License-Identifier: MIT
// The account routes (docs/http-api.md "Auth"): who am I, log in, log out, face recognition
// on/off, delete my account. Credentials were resolved by http.c before routing (rq->authed,
// rq->owner, rq->sid); login and the password check run on a store handle of the pool
// (accounts.c), the library's rows change under the server's mutex like every other route.
#define _XOPEN_SOURCE 700 // nftw
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth.h"
#include "base/base.h"
#include "library/library.h"
#include "server/server_int.h"
#include "store/store.h"

// ---- helpers ------------------------------------------------------------------------------------------
static void reply_code(struct srv_resp *rs, int rc) {
    int st = rc == FH_E_AUTH ? 401 : rc == FH_E_RATE ? 429 : rc == FH_E_ARG ? 400 : rc == FH_E_NOTFOUND ? 404
           : rc == FH_E_BUSY ? 503 : 500;
    const char *m = fh_errmsg();
    srv_error(rs, st, "%s", m && *m ? m : fh_strerror(rc));
}

// A failed auth_login: 401 with `refused` (the same text for a wrong name and a wrong
// password), 429 with Retry-After, else the code's status.
static void login_failed(struct srv_resp *rs, int rc, int64_t wait, const char *refused) {
    if (rc == FH_E_AUTH) return srv_error(rs, 401, "%s", refused);
    if (rc != FH_E_RATE) return reply_code(rs, rc);
    srv_error(rs, 429, "too many failed password checks: try again in %lld s", (long long)wait);
    srv_resp_header(rs, "Retry-After", "%lld", (long long)wait);
}

// One string member of the JSON body (fh_malloc'd into *out). Fills rs (400) on failure.
static int body_string(const struct srv_req *rq, const char *key, char **out, struct srv_resp *rs) {
    struct srv_jdoc d;
    *out = NULL;
    if (!rq->body_len) return srv_error(rs, 400, "a JSON object body is required"), 1;
    if (srv_json_parse((const char *)rq->body, rq->body_len, &d)) return srv_error(rs, 400, "%s", fh_errmsg()), 1;
    const struct srv_jmember *m = srv_json_get(&d, key);
    if (m && m->type == SRV_J_STR) *out = m->str, ((struct srv_jmember *)m)->str = NULL; // taken
    srv_json_free(&d);
    if (!*out) return srv_error(rs, 400, "\"%s\" must be a string", key), 1;
    return 0;
}

static void free_secret(char *p) {
    if (!p) return;
    volatile char *v = p;
    while (*v) *v++ = 0;
    fh_free(p);
}

// {"id":N,"name":"..","recognition":bool} of user id (from s)
static int user_json(struct store *s, int64_t id, struct srv_json *w) {
    struct store_user u;
    int rc = auth_user_get(s, id, &u);
    if (rc) return rc;
    jw_obj(w);
    jw_key(w, "id"), jw_int(w, u.id);
    jw_key(w, "name"), jw_str(w, u.name);
    jw_key(w, "recognition"), jw_bool(w, u.recognition);
    jw_obj_end(w);
    return FH_OK;
}

// 200 {"user": {...}} (mode too when with_mode); user null when id is 0
static void user_reply(struct srv *S, const struct srv_req *rq, int64_t id, int with_mode, struct srv_resp *rs) {
    struct store *s = id ? srv_store_take(S) : NULL;
    if (id && !s) return reply_code(rs, FH_E_DB);
    struct srv_json w;
    jw_init(&w, &rs->body);
    jw_obj(&w);
    if (with_mode) jw_key(&w, "mode"), jw_str(&w, rq->accounts ? "accounts" : "local");
    jw_key(&w, "user");
    int rc = id ? user_json(s, id, &w) : (jw_null(&w), FH_OK);
    srv_store_give(S, s);
    if (rc) return reply_code(rs, rc);
    jw_obj_end(&w);
    rs->status = 200;
    rs->content_type = "application/json";
}

// The session cookie: set (sid) or cleared (NULL). Secure when the page is https (a --host
// name behind a TLS proxy); over plain http a Secure cookie would never come back.
static void cookie(struct srv_resp *rs, const struct srv_req *rq, const char *sid) {
    srv_resp_header(rs, "Set-Cookie", "%s=%s; HttpOnly; SameSite=Strict; Path=/; Max-Age=%d%s", SRV_COOKIE,
                    sid ? sid : "", sid ? AUTH_SESSION_MAX_S : 0, rq->https ? "; Secure" : "");
}

static void empty_ok(struct srv_resp *rs) {
    srv_buf_puts(&rs->body, "{}");
    rs->status = 200;
    rs->content_type = "application/json";
}

// ---- routes ------------------------------------------------------------------------------------------
// Never 401: {"mode", "user"}; user null in accounts mode without credentials. In local mode
// without credentials the user is the local one (cfg.owner).
void srv_h_me(struct srv *S, const struct srv_req *rq, int64_t id, struct srv_resp *rs) {
    (void)id;
    user_reply(S, rq, rq->authed || !rq->accounts ? rq->owner : 0, 1, rs);
}

void srv_h_login(struct srv *S, const struct srv_req *rq, int64_t id, struct srv_resp *rs) {
    (void)id;
    char *user = NULL, *pw = NULL;
    if (body_string(rq, "user", &user, rs) || body_string(rq, "password", &pw, rs)) {
        fh_free(user), free_secret(pw);
        return;
    }
    struct store *s = srv_store_take(S);
    char sid[AUTH_SID_LEN + 1] = "";
    int64_t wait = 0;
    int rc = s ? auth_login(S->auth, s, user, pw, rq->client, sid, &wait) : FH_E_DB;
    struct store_user u;
    if (!rc) rc = auth_user_find(s, user, &u);
    int64_t uid = rc ? 0 : u.id;
    srv_store_give(S, s);
    fh_free(user), free_secret(pw);
    if (rc) return login_failed(rs, rc, wait, "wrong user name or password");
    srv_accounts_changed(S); // a login proves accounts exist
    user_reply(S, rq, uid, 0, rs);
    cookie(rs, rq, sid);
    memset(sid, 0, sizeof sid);
}

void srv_h_logout(struct srv *S, const struct srv_req *rq, int64_t id, struct srv_resp *rs) {
    (void)id;
    if (rq->sid) {
        struct store *s = srv_store_take(S);
        int rc = s ? auth_logout(S->auth, s, rq->sid) : FH_E_DB;
        srv_store_give(S, s);
        if (rc) return reply_code(rs, rc);
    }
    empty_ok(rs);
    cookie(rs, rq, NULL);
}

// {"on": bool}. Off: the flag first (the indexer must not add faces), then every face, person
// and op of the user goes. On: the flag, then every photo is analysed again (a slow route:
// http.c runs it on its own thread; the library mutex is held meanwhile, as for recluster).
// Asking for the state the user is in changes nothing (on again would re-analyse and lose names).
void srv_h_recognition(struct srv *S, const struct srv_req *rq, int64_t id, struct srv_resp *rs) {
    (void)id;
    struct srv_jdoc d;
    if (!rq->body_len) return srv_error(rs, 400, "a JSON object body is required");
    if (srv_json_parse((const char *)rq->body, rq->body_len, &d)) return srv_error(rs, 400, "%s", fh_errmsg());
    const struct srv_jmember *m = srv_json_get(&d, "on");
    int on = m && m->type == SRV_J_BOOL ? (int)m->num : -1;
    srv_json_free(&d);
    if (on < 0) return srv_error(rs, 400, "\"on\" must be true or false");
    struct lib_options o = lib_options_default();
    o.threads = S->cfg.threads;
    struct lib_stats st;
    int was = 0;
    pthread_mutex_lock(&S->mu);
    int rc = lib_user_recognition(S->L, rq->owner, &was);
    if (!rc && was != on) rc = lib_recognition_set(S->L, rq->owner, on, &o, &st); // stores the flag too
    pthread_mutex_unlock(&S->mu);
    if (rc) return reply_code(rs, rc);
    if (was != on)
        fh_log(FH_LOG_INFO, "serve: user %lld turned face recognition %s", (long long)rq->owner, on ? "on" : "off");
    user_reply(S, rq, rq->owner, 0, rs);
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *f) {
    (void)sb, (void)flag, (void)f;
    if (remove(path) && errno != ENOENT) fh_log(FH_LOG_WARN, "serve: cannot remove %s: %s", path, strerror(errno));
    return 0;
}

// Removes "<uploads>/<owner>/" and everything in it, and nothing else: the folder's real path
// must be exactly that (a symlink pointing elsewhere is refused), and links inside are
// removed, never followed (FTW_PHYS), nor other file systems entered (FTW_MOUNT).
static void remove_uploads(struct srv *S, int64_t owner) {
    char dir[PATH_MAX], real[PATH_MAX];
    if (snprintf(dir, sizeof dir, "%s/%lld", S->uploads, (long long)owner) >= (int)sizeof dir) return;
    if (!realpath(dir, real)) {
        if (errno != ENOENT) fh_log(FH_LOG_WARN, "serve: %s: %s", dir, strerror(errno));
        return;
    }
    if (strcmp(real, dir)) {
        fh_log(FH_LOG_WARN, "serve: %s is not a folder inside %s (a link?): not removed", dir, S->uploads);
        return;
    }
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

// {"password": ".."}: accounts mode only. The password is checked by a login (the same rate
// limit and timing as /api/login; the session it makes goes with the user), then the user and
// every row of theirs go (one transaction), then their upload folder, and the cookie is cleared.
void srv_h_account_delete(struct srv *S, const struct srv_req *rq, int64_t id, struct srv_resp *rs) {
    (void)id;
    if (!rq->accounts || !rq->authed)
        return srv_error(rs, 400, "there are no accounts on this server (local mode): nothing to delete");
    char *pw = NULL;
    if (body_string(rq, "password", &pw, rs)) return;
    struct store *s = srv_store_take(S);
    struct store_user u;
    char name[STORE_NAME_MAX + 1] = "", sid[AUTH_SID_LEN + 1];
    int64_t wait = 0;
    int rc = s ? auth_user_get(s, rq->owner, &u) : FH_E_DB;
    if (!rc) snprintf(name, sizeof name, "%s", u.name);
    if (!rc && rq->owner == LIB_OWNER_LOCAL) rc = fh_fail(FH_E_ARG, "the built-in local user cannot be deleted");
    if (!rc) rc = auth_login(S->auth, s, name, pw, rq->client, sid, &wait);
    srv_store_give(S, s);
    free_secret(pw);
    if (rc) return login_failed(rs, rc, wait, "wrong password");
    struct store_user_counts n;
    pthread_mutex_lock(&S->mu);
    rc = auth_user_del(S->auth, lib_store(S->L), name, &n);
    pthread_mutex_unlock(&S->mu);
    if (rc) return reply_code(rs, rc);
    remove_uploads(S, rq->owner);
    srv_accounts_changed(S); // the last account may be gone
    fh_log(FH_LOG_INFO, "serve: user %lld deleted their account (%lld photos, %lld faces, %lld persons)",
           (long long)rq->owner, (long long)n.photos, (long long)n.faces, (long long)n.persons);
    empty_ok(rs);
    cookie(rs, rq, NULL);
}
