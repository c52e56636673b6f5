// SPDX-License-Identifier: MIT
// store: accounts — users, sessions, API tokens (store.h, "accounts" section). Rows only;
// auth/ owns the policy. Statements live in the cache of store_sql.h, slots XA_*.
// - Deleting a user is one DELETE: every row of theirs goes through ON DELETE CASCADE
//   (photos -> faces -> rejects, persons, sessions, tokens); the counts are read first in
//   the same transaction.
// - Inserts use ON CONFLICT DO NOTHING and look at the change count, so a taken name or hash
//   is FH_E_EXISTS rather than a constraint error text.
#include <stdio.h>
#include <string.h>

#include "base/base.h"
#include "store/store.h"
#include "store/store_sql.h"

enum xa_id {
    XA_USER_ADD,
    XA_USER_FIND,
    XA_USER_BY_ID,
    XA_USER_PASS,
    XA_USER_DEL,
    XA_USER_COUNTS,
    XA_USER_SET_RECOG,
    XA_USER_SET_QUOTA,
    XA_USERS_WITH_PASS,
    XA_SESSION_ADD,
    XA_SESSION_GET,
    XA_SESSION_TOUCH,
    XA_SESSION_DEL,
    XA_SESSION_DEL_USER,
    XA_SESSION_PURGE,
    XA_TOKEN_ADD,
    XA_TOKEN_GET,
    XA_TOKEN_TOUCH,
    XA_TOKEN_DEL,
    XA_USER_EXISTS,
    XA_COUNT
};
_Static_assert(XA_COUNT <= STORE_XST_MAX, "store_sql.h statement slots");

// find / by_id run on every request with a session: no photo count there
#define USER_COLS "u.id, u.name, u.pass_hash, u.created, u.recognition, u.quota_bytes, 0"
#define USER_COLS_COUNTED                                                                   \
    "u.id, u.name, u.pass_hash, u.created, u.recognition, u.quota_bytes,"                   \
    " (SELECT COUNT(*) FROM photos p WHERE p.owner = u.id)"
#define TOKEN_COLS "id, user_id, hash, name, created, last_used"

static const char *const xa_sql[XA_COUNT] = {
    [XA_USER_ADD] = "INSERT INTO users (name, pass_hash, created) VALUES (?1, ?2, ?3)"
                    " ON CONFLICT (name) DO NOTHING RETURNING id",
    [XA_USER_FIND] = "SELECT " USER_COLS " FROM users u WHERE u.name = ?1",
    [XA_USER_BY_ID] = "SELECT " USER_COLS " FROM users u WHERE u.id = ?1",
    [XA_USER_PASS] = "UPDATE users SET pass_hash = ?2 WHERE id = ?1",
    [XA_USER_DEL] = "DELETE FROM users WHERE id = ?1",
    [XA_USER_COUNTS] =
        "SELECT (SELECT COUNT(*) FROM photos WHERE owner = ?1),"
        " (SELECT COUNT(*) FROM faces WHERE owner = ?1),"
        " (SELECT COUNT(*) FROM persons WHERE owner = ?1),"
        " (SELECT COUNT(*) FROM face_rejects r JOIN faces f ON f.id = r.face_id WHERE f.owner = ?1),"
        " (SELECT COUNT(*) FROM sessions WHERE user_id = ?1),"
        " (SELECT COUNT(*) FROM tokens WHERE user_id = ?1)",
    [XA_USER_SET_RECOG] = "UPDATE users SET recognition = ?2 WHERE id = ?1",
    [XA_USER_SET_QUOTA] = "UPDATE users SET quota_bytes = ?2 WHERE id = ?1",
    [XA_USERS_WITH_PASS] = "SELECT COUNT(*) FROM users WHERE pass_hash IS NOT NULL",
    [XA_SESSION_ADD] = "INSERT INTO sessions (hash, user_id, created, expires, last_seen)"
                       " VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (hash) DO NOTHING",
    [XA_SESSION_GET] = "SELECT user_id, created, expires, last_seen FROM sessions"
                       " WHERE hash = ?1 AND expires > ?2",
    [XA_SESSION_TOUCH] = "UPDATE sessions SET last_seen = ?2, expires = ?3 WHERE hash = ?1",
    [XA_SESSION_DEL] = "DELETE FROM sessions WHERE hash = ?1",
    [XA_SESSION_DEL_USER] = "DELETE FROM sessions WHERE user_id = ?1",
    [XA_SESSION_PURGE] = "DELETE FROM sessions WHERE expires <= ?1",
    [XA_TOKEN_ADD] = "INSERT INTO tokens (user_id, hash, name, created) VALUES (?1, ?2, ?3, ?4)"
                     " ON CONFLICT (hash) DO NOTHING RETURNING id",
    [XA_TOKEN_GET] = "SELECT " TOKEN_COLS " FROM tokens WHERE hash = ?1",
    [XA_TOKEN_TOUCH] = "UPDATE tokens SET last_used = ?2 WHERE id = ?1",
    [XA_TOKEN_DEL] = "DELETE FROM tokens WHERE id = ?1 AND user_id = ?2",
    [XA_USER_EXISTS] = "SELECT 1 FROM users WHERE id = ?1",
};
static const char users_each_sql[] = "SELECT " USER_COLS_COUNTED " FROM users u ORDER BY u.id";
static const char tokens_each_sql[] =
    "SELECT " TOKEN_COLS " FROM tokens WHERE user_id = ?1 ORDER BY id";

static int prep(struct store *s, enum xa_id id, struct db_stmt **st) {
    return store_sql_prep(s, id, xa_sql[id], st);
}

static int check_name(const char *name) {
    return store_sql_check_str(name, "user name", 1, STORE_NAME_MAX);
}

static int check_hash(const char *hash, const char *what) {
    return store_sql_is_hex64(hash)
               ? FH_OK
               : fh_fail(FH_E_ARG, "store: %s hash must be 64 hex digits", what);
}

static int check_pass_hash(const char *h) {
    int rc = store_sql_check_str(h, "password hash", 0, STORE_HASH_MAX);
    if (rc == FH_OK && h && !h[0]) rc = fh_fail(FH_E_ARG, "store: empty password hash");
    return rc;
}

// An UPDATE/DELETE by id that must hit one row.
static int run_one(struct store *s, struct db_stmt *st, const char *what, const char *thing,
                   int64_t id) {
    int n = 0, rc = store_sql_run(s, st, what, &n);
    if (rc) return rc;
    return n ? FH_OK : fh_fail(FH_E_NOTFOUND, "store: no %s %lld", thing, (long long)id);
}

static int user_exists(struct store *s, int64_t id) {
    struct db_stmt *st;
    int rc = prep(s, XA_USER_EXISTS, &st);
    if (rc) return rc;
    store_sql_bind_i64(s, st, 1, id);
    rc = store_sql_one_i64(s, st, "find user", NULL);
    if (rc < 0) return rc;
    return rc ? FH_OK : fh_fail(FH_E_NOTFOUND, "store: no user %lld", (long long)id);
}

// ---- users ------------------------------------------------------------------------------------
int store_user_create(struct store *s, const char *name, const char *pass_hash, int64_t created,
                      int64_t *id) {
    FH_ASSERT(s && id);
    int rc = check_name(name);
    if (rc == FH_OK) rc = check_pass_hash(pass_hash);
    if (rc == FH_OK) rc = store_sql_writable(s, "store_user_create");
    if (rc) return rc;
    struct db_stmt *st;
    if ((rc = prep(s, XA_USER_ADD, &st))) return rc;
    store_sql_bind_text(s, st, 1, name);
    store_sql_bind_text(s, st, 2, pass_hash);
    store_sql_bind_i64(s, st, 3, created);
    int64_t v = 0;
    // RETURNING: the row comes before the insert is final, so step to the end
    rc = store_sql_step(s, st, "add user");
    if (rc == 1) {
        v = db_col_i64(st, 0);
        rc = store_sql_run(s, st, "add user", NULL);
        if (rc == FH_OK) *id = v;
        return rc;
    }
    return rc < 0 ? rc : fh_fail(FH_E_EXISTS, "store: user '%s' exists already", name);
}

// Fills u from a USER_COLS row (strings point into the row).
static void user_row(struct db_stmt *st, struct store_user *u) {
    memset(u, 0, sizeof *u);
    u->id = db_col_i64(st, 0);
    u->name = (const char *)(const unsigned char *)db_col_text(st, 1);
    u->has_password = !db_col_null(st, 2);
    u->created = db_col_i64(st, 3);
    u->recognition = (int)db_col_i64(st, 4);
    u->quota_bytes = db_col_i64(st, 5);
    u->n_photos = (int)db_col_i64(st, 6);
}

static int user_one(struct store *s, struct db_stmt *st, const char *what, struct store_user *out) {
    int rc = store_sql_step(s, st, what);
    if (rc <= 0) return rc < 0 ? rc : FH_E_NOTFOUND;
    user_row(st, out);
    static const int cols[2] = {1, 2};
    const char *txt[2];
    rc = store_sql_copy_texts(s, st, cols, 2, txt);
    out->name = txt[0];
    out->pass_hash = txt[1];
    store_sql_finish(st);
    return rc;
}

int store_user_find(struct store *s, const char *name, struct store_user *out) {
    FH_ASSERT(s && out);
    int rc = check_name(name);
    if (rc) return rc;
    struct db_stmt *st;
    if ((rc = prep(s, XA_USER_FIND, &st))) return rc;
    store_sql_bind_text(s, st, 1, name);
    rc = user_one(s, st, "find user", out);
    return rc == FH_E_NOTFOUND ? fh_fail(rc, "store: no user '%s'", name) : rc;
}

int store_user_by_id(struct store *s, int64_t id, struct store_user *out) {
    FH_ASSERT(s && out);
    struct db_stmt *st;
    int rc = prep(s, XA_USER_BY_ID, &st);
    if (rc) return rc;
    store_sql_bind_i64(s, st, 1, id);
    rc = user_one(s, st, "get user", out);
    return rc == FH_E_NOTFOUND ? fh_fail(rc, "store: no user %lld", (long long)id) : rc;
}

int store_users_each(struct store *s, int (*fn)(void *ctx, const struct store_user *u), void *ctx) {
    FH_ASSERT(s && fn);
    struct db_stmt *st;
    int rc = store_sql_iter_begin(s, users_each_sql, &st);
    if (rc) return rc;
    while ((rc = store_sql_step(s, st, "list users")) == 1) {
        struct store_user u;
        user_row(st, &u);
        u.pass_hash = NULL;
        if ((rc = fn(ctx, &u)) != 0) break;
    }
    store_sql_iter_end(s, st);
    return rc;
}

int store_user_set_password(struct store *s, int64_t id, const char *pass_hash) {
    FH_ASSERT(s);
    int rc = check_pass_hash(pass_hash);
    if (rc == FH_OK) rc = store_sql_writable(s, "store_user_set_password");
    if (rc) return rc;
    struct db_stmt *st;
    if ((rc = prep(s, XA_USER_PASS, &st))) return rc;
    store_sql_bind_i64(s, st, 1, id);
    store_sql_bind_text(s, st, 2, pass_hash);
    return run_one(s, st, "set password", "user", id);
}

int store_user_delete(struct store *s, int64_t id, struct store_user_counts *out) {
    FH_ASSERT(s);
    int rc = store_sql_writable(s, "store_user_delete"), own;
    if (rc || (rc = store_sql_tx_enter(s, &own))) return rc;
    struct store_user_counts c = {0};
    struct db_stmt *st;
    if ((rc = prep(s, XA_USER_COUNTS, &st)) == FH_OK) {
        store_sql_bind_i64(s, st, 1, id);
        rc = store_sql_step(s, st, "count user rows");
        if (rc == 1) {
            c = (struct store_user_counts){db_col_i64(st, 0), db_col_i64(st, 1),
                                           db_col_i64(st, 2), db_col_i64(st, 3),
                                           db_col_i64(st, 4), db_col_i64(st, 5)};
            store_sql_finish(st);
            rc = FH_OK;
        } else if (rc == 0) {
            rc = fh_fail(FH_E_DB, "store: counting a user's rows returned nothing");
        }
    }
    if (rc == FH_OK && (rc = prep(s, XA_USER_DEL, &st)) == FH_OK) {
        store_sql_bind_i64(s, st, 1, id);
        rc = run_one(s, st, "delete user", "user", id);
    }
    rc = store_sql_tx_leave(s, own, rc);
    if (rc == FH_OK && out) *out = c;
    return rc;
}

static int user_set_int(struct store *s, enum xa_id id_st, int64_t id, int64_t v,
                        const char *what) {
    int rc = store_sql_writable(s, what);
    if (rc) return rc;
    struct db_stmt *st;
    if ((rc = prep(s, id_st, &st))) return rc;
    store_sql_bind_i64(s, st, 1, id);
    store_sql_bind_i64(s, st, 2, v);
    return run_one(s, st, what, "user", id);
}

int store_user_set_recognition(struct store *s, int64_t id, int on) {
    FH_ASSERT(s);
    if (on != 0 && on != 1) return fh_fail(FH_E_ARG, "store: recognition flag %d is not 0 or 1", on);
    return user_set_int(s, XA_USER_SET_RECOG, id, on, "store_user_set_recognition");
}

int store_user_set_quota(struct store *s, int64_t id, int64_t bytes) {
    FH_ASSERT(s);
    if (bytes < 0) return fh_fail(FH_E_ARG, "store: negative quota %lld", (long long)bytes);
    return user_set_int(s, XA_USER_SET_QUOTA, id, bytes, "store_user_set_quota");
}

int store_user_get_recognition(struct store *s, int64_t id, int *on) {
    FH_ASSERT(s && on);
    struct store_user u;
    int rc = store_user_by_id(s, id, &u);
    if (rc == FH_OK) *on = u.recognition;
    return rc;
}

int store_user_get_quota(struct store *s, int64_t id, int64_t *bytes) {
    FH_ASSERT(s && bytes);
    struct store_user u;
    int rc = store_user_by_id(s, id, &u);
    if (rc == FH_OK) *bytes = u.quota_bytes;
    return rc;
}

int store_users_with_password(struct store *s, int *n) {
    FH_ASSERT(s && n);
    struct db_stmt *st;
    int rc = prep(s, XA_USERS_WITH_PASS, &st);
    if (rc) return rc;
    int64_t v = 0;
    rc = store_sql_one_i64(s, st, "count users", &v);
    if (rc < 0) return rc;
    *n = (int)v;
    return FH_OK;
}

// ---- sessions ---------------------------------------------------------------------------------
int store_session_insert(struct store *s, const struct store_session *x) {
    FH_ASSERT(s && x);
    int rc = check_hash(x->hash, "session");
    if (rc) return rc;
    if (x->expires <= x->created)
        return fh_fail(FH_E_ARG, "store: session expires (%lld) before it is created (%lld)",
                       (long long)x->expires, (long long)x->created);
    if ((rc = store_sql_writable(s, "store_session_insert")) || (rc = user_exists(s, x->user_id)))
        return rc;
    struct db_stmt *st;
    if ((rc = prep(s, XA_SESSION_ADD, &st))) return rc;
    store_sql_bind_text(s, st, 1, x->hash);
    store_sql_bind_i64(s, st, 2, x->user_id);
    store_sql_bind_i64(s, st, 3, x->created);
    store_sql_bind_i64(s, st, 4, x->expires);
    store_sql_bind_i64(s, st, 5, x->last_seen);
    int n = 0;
    if ((rc = store_sql_run(s, st, "add session", &n))) return rc;
    return n ? FH_OK : fh_fail(FH_E_EXISTS, "store: session exists already");
}

int store_session_get(struct store *s, const char *hash, int64_t now, struct store_session *out) {
    FH_ASSERT(s && out);
    int rc = check_hash(hash, "session");
    if (rc) return rc;
    struct db_stmt *st;
    if ((rc = prep(s, XA_SESSION_GET, &st))) return rc;
    store_sql_bind_text(s, st, 1, hash);
    store_sql_bind_i64(s, st, 2, now);
    rc = store_sql_step(s, st, "get session");
    if (rc < 0) return rc;
    if (rc == 0) return fh_fail(FH_E_NOTFOUND, "store: no valid session");
    memset(out, 0, sizeof *out);
    memcpy(out->hash, hash, 65);
    out->user_id = db_col_i64(st, 0);
    out->created = db_col_i64(st, 1);
    out->expires = db_col_i64(st, 2);
    out->last_seen = db_col_i64(st, 3);
    store_sql_finish(st);
    return FH_OK;
}

int store_session_touch(struct store *s, const char *hash, int64_t last_seen, int64_t expires) {
    FH_ASSERT(s);
    int rc = check_hash(hash, "session");
    if (rc == FH_OK) rc = store_sql_writable(s, "store_session_touch");
    if (rc) return rc;
    struct db_stmt *st;
    if ((rc = prep(s, XA_SESSION_TOUCH, &st))) return rc;
    store_sql_bind_text(s, st, 1, hash);
    store_sql_bind_i64(s, st, 2, last_seen);
    store_sql_bind_i64(s, st, 3, expires);
    int n = 0;
    if ((rc = store_sql_run(s, st, "touch session", &n))) return rc;
    return n ? FH_OK : fh_fail(FH_E_NOTFOUND, "store: no such session");
}

int store_session_delete(struct store *s, const char *hash) {
    FH_ASSERT(s);
    int rc = check_hash(hash, "session");
    if (rc == FH_OK) rc = store_sql_writable(s, "store_session_delete");
    if (rc) return rc;
    struct db_stmt *st;
    if ((rc = prep(s, XA_SESSION_DEL, &st))) return rc;
    store_sql_bind_text(s, st, 1, hash);
    int n = 0;
    if ((rc = store_sql_run(s, st, "delete session", &n))) return rc;
    return n ? FH_OK : fh_fail(FH_E_NOTFOUND, "store: no such session");
}

static int delete_by(struct store *s, enum xa_id id, int64_t v, int *n, const char *what) {
    int rc = store_sql_writable(s, what), k = 0;
    if (rc) return rc;
    struct db_stmt *st;
    if ((rc = prep(s, id, &st))) return rc;
    store_sql_bind_i64(s, st, 1, v);
    rc = store_sql_run(s, st, what, &k);
    if (rc == FH_OK && n) *n = k;
    return rc;
}

int store_sessions_delete_user(struct store *s, int64_t user_id, int *n) {
    FH_ASSERT(s);
    return delete_by(s, XA_SESSION_DEL_USER, user_id, n, "store_sessions_delete_user");
}

int store_sessions_purge(struct store *s, int64_t now, int *n) {
    FH_ASSERT(s);
    return delete_by(s, XA_SESSION_PURGE, now, n, "store_sessions_purge");
}

// ---- tokens -----------------------------------------------------------------------------------
int store_token_insert(struct store *s, int64_t user_id, const char *hash, const char *name,
                       int64_t created, int64_t *id) {
    FH_ASSERT(s && id);
    int rc = check_hash(hash, "token");
    if (rc == FH_OK) rc = store_sql_check_str(name, "token name", 1, STORE_NAME_MAX);
    if (rc == FH_OK) rc = store_sql_writable(s, "store_token_insert");
    if (rc == FH_OK) rc = user_exists(s, user_id);
    if (rc) return rc;
    struct db_stmt *st;
    if ((rc = prep(s, XA_TOKEN_ADD, &st))) return rc;
    store_sql_bind_i64(s, st, 1, user_id);
    store_sql_bind_text(s, st, 2, hash);
    store_sql_bind_text(s, st, 3, name);
    store_sql_bind_i64(s, st, 4, created);
    rc = store_sql_step(s, st, "add token");
    if (rc == 1) {
        int64_t v = db_col_i64(st, 0);
        rc = store_sql_run(s, st, "add token", NULL);
        if (rc == FH_OK) *id = v;
        return rc;
    }
    return rc < 0 ? rc : fh_fail(FH_E_EXISTS, "store: token exists already");
}

static void token_row(struct db_stmt *st, struct store_token *t) {
    memset(t, 0, sizeof *t);
    t->id = db_col_i64(st, 0);
    t->user_id = db_col_i64(st, 1);
    const unsigned char *h = (const unsigned char *)db_col_text(st, 2);
    if (h) snprintf(t->hash, sizeof t->hash, "%s", (const char *)h);
    t->name = (const char *)(const unsigned char *)db_col_text(st, 3);
    t->created = db_col_i64(st, 4);
    t->last_used = db_col_i64(st, 5);
}

int store_token_get(struct store *s, const char *hash, struct store_token *out) {
    FH_ASSERT(s && out);
    int rc = check_hash(hash, "token");
    if (rc) return rc;
    struct db_stmt *st;
    if ((rc = prep(s, XA_TOKEN_GET, &st))) return rc;
    store_sql_bind_text(s, st, 1, hash);
    rc = store_sql_step(s, st, "get token");
    if (rc < 0) return rc;
    if (rc == 0) return fh_fail(FH_E_NOTFOUND, "store: no such token");
    token_row(st, out);
    static const int cols[1] = {3};
    rc = store_sql_copy_texts(s, st, cols, 1, &out->name);
    store_sql_finish(st);
    return rc;
}

int store_token_touch(struct store *s, int64_t id, int64_t last_used) {
    FH_ASSERT(s);
    int rc = store_sql_writable(s, "store_token_touch");
    if (rc) return rc;
    struct db_stmt *st;
    if ((rc = prep(s, XA_TOKEN_TOUCH, &st))) return rc;
    store_sql_bind_i64(s, st, 1, id);
    store_sql_bind_i64(s, st, 2, last_used);
    return run_one(s, st, "touch token", "token", id);
}

int store_tokens_each(struct store *s, int64_t user_id,
                      int (*fn)(void *ctx, const struct store_token *t), void *ctx) {
    FH_ASSERT(s && fn);
    struct db_stmt *st;
    int rc = store_sql_iter_begin(s, tokens_each_sql, &st);
    if (rc) return rc;
    store_sql_bind_i64(s, st, 1, user_id);
    while ((rc = store_sql_step(s, st, "list tokens")) == 1) {
        struct store_token t;
        token_row(st, &t);
        if ((rc = fn(ctx, &t)) != 0) break;
    }
    store_sql_iter_end(s, st);
    return rc;
}

int store_token_delete(struct store *s, int64_t user_id, int64_t token_id) {
    FH_ASSERT(s);
    int rc = store_sql_writable(s, "store_token_delete");
    if (rc) return rc;
    struct db_stmt *st;
    if ((rc = prep(s, XA_TOKEN_DEL, &st))) return rc;
    store_sql_bind_i64(s, st, 1, token_id);
    store_sql_bind_i64(s, st, 2, user_id);
    return run_one(s, st, "delete token", "token", token_id);
}
