// SPDX-License-Identifier: MIT
// store: store.h on either engine, through db.h (db_sqlite.c, db_pg.c). Design:
// - Statement cache: every SQL text sits in st_sql[] under an enum id; a statement is
//   prepared on first use (persistent: SQLite's PREPARE_PERSISTENT, a named PostgreSQL
//   prepared statement), then reset and reused, and finalised by store_close. Bound data
//   outlives the step, and every statement is reset and its bindings cleared before the
//   function returns. One dialect of SQL serves both engines (db.h says what the
//   PostgreSQL driver rewrites); BEGIN, the schema, migrations, checks and the change
//   stamp differ and are chosen here by s->kind.
// - Iterations (the *_each functions) step a statement while the callback runs. A cached
//   statement in use by an iteration is marked; a nested iteration of the same kind gets a
//   temporary statement instead. Rows handed to the callback point into SQLite's row memory
//   (and a stack buffer for the decoded embedding), never into the buffers of s, so the
//   callback may call the reading functions. Writes from a callback are refused: SQLite
//   leaves the result of changing a table under a running SELECT undefined, and a COMMIT
//   or ROLLBACK would pull the row from under the iteration.
// - Multi-statement writes run in their own transaction when the caller has none open, so
//   they are atomic either way.
// - Errors: the engine's message is copied into fh_errmsg at the boundary ("store: what:
//   message"); db.h maps the codes (busy/locked -> FH_E_BUSY, out of memory -> FH_E_NOMEM).
#include "store/store.h"

#include <math.h>
#include <stdint.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "base/base.h"
#include "store/db.h"
#include "store/store_int.h"
#include "store/store_sql.h"

// ---- statements -----------------------------------------------------------------------------
enum st_id {
    ST_BEGIN,
    ST_COMMIT,
    ST_ROLLBACK,
    ST_USER_FIND,
    ST_USER_ADD,
    ST_MODEL_FIND,
    ST_MODEL_ADD,
    ST_MODEL_DIM,
    ST_MODEL_OTHER,
    ST_META_SET,
    ST_META_GET,
    ST_PHOTO_FIND,
    ST_PHOTO_GET,
    ST_PHOTO_EACH,
    ST_PHOTO_KEY,
    ST_PHOTO_ADD,
    ST_PHOTO_SET,
    ST_PHOTO_CLEAR_FACES,
    ST_PHOTO_DEL,
    ST_PHOTO_OWNED,
    ST_FACE_ADD,
    ST_FACE_GET,
    ST_FACE_EACH,
    ST_FACE_EACH_LITE,
    ST_FACE_EACH_EMB,
    ST_FACE_EACH_UNKNOWN,
    ST_FACE_EACH_AFTER,
    ST_FACE_OF_PHOTO,
    ST_FACE_PERSON,
    ST_FACE_SET,
    ST_FACE_LEAVE,
    ST_FACE_CLEAR_AUTO,
    ST_FACE_DEL,
    ST_FACE_IN_PERSON,
    ST_REJECT_ADD,
    ST_REJECT_DEL,
    ST_REJECT_HAS,
    ST_REJECT_EACH,
    ST_AVATAR_DROP,
    ST_AVATAR_FIX_OWNER,
    ST_AVATAR_FIX_PERSON,
    ST_PERSON_ADD,
    ST_PERSON_GET,
    ST_PERSON_EACH,
    ST_PERSON_BY_NAME,
    ST_PERSON_OWNED,
    ST_PERSON_RENAME,
    ST_PERSON_HIDE,
    ST_PERSON_AVATAR,
    ST_MERGE_REJECTS,
    ST_MERGE_DROP,
    ST_MERGE_MOVE,
    ST_MERGE_PERSON,
    ST_PERSON_DEL,
    ST_PRUNE,
    ST_COUNT
};

#define PHOTO_COLS                                                                          \
    "p.id, p.path, p.size, p.mtime, p.sha256, p.width, p.height,"                          \
    " (SELECT COUNT(*) FROM faces f WHERE f.photo_id = p.id), p.status, p.error, p.orig_name"
// column order read by face_row(); the blobs come last
#define FACE_COLS_LITE                                                                      \
    "id, photo_id, x1, y1, x2, y2, det_score, blur, quality, blurry, trash, model_id, dim,"   \
    " person_id, assigned, landmarks, detector"
#define FACE_COLS FACE_COLS_LITE ", embedding, thumb"
#define FACE_COLS_EMB FACE_COLS_LITE ", embedding"
enum { FACE_PAGE = 16384 }; // rows a face listing reads per statement
#define PERSON_SELECT                                                                       \
    "SELECT p.id, p.name, p.hidden, p.avatar_face, p.avatar_by_user, COUNT(f.id),"          \
    " COUNT(DISTINCT f.photo_id) FROM persons p LEFT JOIN faces f ON f.person_id = p.id"
#define PERSON_GROUP " GROUP BY p.id, p.name, p.hidden, p.avatar_face, p.avatar_by_user"
// an avatar must be a face of its person
#define AVATAR_STALE                                                                        \
    "avatar_face IS NOT NULL AND NOT EXISTS (SELECT 1 FROM faces f"                         \
    " WHERE f.id = persons.avatar_face AND f.person_id = persons.id)"

static const char *const st_sql[ST_COUNT] = {
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_USER_FIND] = "SELECT id FROM users WHERE name = ?1",
    [ST_USER_ADD] = "INSERT INTO users (name) VALUES (?1) ON CONFLICT (name) DO NOTHING",
    [ST_MODEL_FIND] = "SELECT id, dim FROM models WHERE name = ?1 AND version = ?2 AND sha256 = ?3",
    [ST_MODEL_ADD] = "INSERT INTO models (name, version, sha256, dim) VALUES (?1, ?2, ?3, ?4)"
                     " ON CONFLICT (name, version, sha256) DO NOTHING",
    [ST_MODEL_DIM] = "SELECT dim FROM models WHERE id = ?1",
    [ST_MODEL_OTHER] = "SELECT m.id, m.name, m.version, m.sha256, m.dim,"
                       " (SELECT COUNT(*) FROM faces f WHERE f.model_id = m.id) FROM models m"
                       " WHERE NOT (m.name = ?1 AND m.version = ?2 AND m.sha256 = ?3)"
                       " AND EXISTS (SELECT 1 FROM faces f WHERE f.model_id = m.id) ORDER BY m.id LIMIT 1",
    [ST_META_SET] = "INSERT INTO meta (key, value) VALUES (?1, ?2)"
                    " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    [ST_META_GET] = "SELECT value FROM meta WHERE key = ?1",
    [ST_PHOTO_FIND] = "SELECT " PHOTO_COLS " FROM photos p WHERE p.owner = ?1 AND p.path = ?2",
    [ST_PHOTO_GET] = "SELECT " PHOTO_COLS " FROM photos p WHERE p.id = ?1 AND p.owner = ?2",
    [ST_PHOTO_EACH] = "SELECT " PHOTO_COLS " FROM photos p WHERE p.owner = ?1 ORDER BY p.path",
    [ST_PHOTO_KEY] = "SELECT id, sha256 FROM photos WHERE owner = ?1 AND path = ?2",
    [ST_PHOTO_ADD] = "INSERT INTO photos (owner, path, size, mtime, sha256, width, height,"
                     " status, error, orig_name) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) RETURNING id",
    [ST_PHOTO_SET] = "UPDATE photos SET size = ?2, mtime = ?3, sha256 = ?4, width = ?5,"
                     " height = ?6, status = ?7, error = ?8, orig_name = COALESCE(?9, orig_name) WHERE id = ?1",
    [ST_PHOTO_CLEAR_FACES] = "DELETE FROM faces WHERE photo_id = ?1",
    [ST_PHOTO_DEL] = "DELETE FROM photos WHERE id = ?1 AND owner = ?2",
    [ST_PHOTO_OWNED] = "SELECT 1 FROM photos WHERE id = ?1 AND owner = ?2",
    [ST_FACE_ADD] = "INSERT INTO faces (owner, photo_id, person_id, assigned, x1, y1, x2, y2,"
                    " det_score, blur, quality, blurry, trash, model_id, dim, landmarks,"
                    " embedding, thumb, detector) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11,"
                    " ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19) RETURNING id",
    [ST_FACE_GET] = "SELECT " FACE_COLS " FROM faces WHERE id = ?1 AND owner = ?2",
    // listings of all an owner's faces go page by page (keyset: id > the last seen), so a
    // PostgreSQL result never holds more than FACE_PAGE rows in memory
    [ST_FACE_EACH] = "SELECT " FACE_COLS " FROM faces WHERE owner = ?1 AND id > ?2 ORDER BY id LIMIT ?3",
    [ST_FACE_EACH_LITE] = "SELECT " FACE_COLS_LITE " FROM faces WHERE owner = ?1 AND id > ?2 ORDER BY id LIMIT ?3",
    [ST_FACE_EACH_EMB] = "SELECT " FACE_COLS_EMB " FROM faces WHERE owner = ?1 AND id > ?2 ORDER BY id LIMIT ?3",
    [ST_FACE_EACH_AFTER] = "SELECT " FACE_COLS_EMB " FROM faces WHERE owner = ?1 AND id > ?2 ORDER BY id LIMIT ?3",
    [ST_FACE_EACH_UNKNOWN] = "SELECT " FACE_COLS_EMB " FROM faces WHERE owner = ?1 AND id > ?2"
                             " AND person_id IS NULL AND assigned = 0 ORDER BY id LIMIT ?3",
    [ST_FACE_OF_PHOTO] = "SELECT " FACE_COLS " FROM faces WHERE owner = ?1 AND photo_id = ?2"
                         " ORDER BY id",
    [ST_FACE_PERSON] = "SELECT person_id FROM faces WHERE id = ?1 AND owner = ?2",
    [ST_FACE_SET] = "UPDATE faces SET person_id = ?2, assigned = ?3 WHERE id = ?1",
    [ST_FACE_LEAVE] = "UPDATE faces SET person_id = NULL, assigned = 0"
                      " WHERE id = ?1 AND person_id = ?2",
    [ST_FACE_CLEAR_AUTO] = "UPDATE faces SET person_id = NULL"
                           " WHERE owner = ?1 AND assigned = 0 AND person_id IS NOT NULL",
    [ST_FACE_DEL] = "DELETE FROM faces WHERE id = ?1 AND owner = ?2",
    [ST_FACE_IN_PERSON] = "SELECT 1 FROM faces WHERE id = ?1 AND owner = ?2 AND person_id = ?3",
    [ST_REJECT_ADD] = "INSERT INTO face_rejects (face_id, person_id) VALUES (?1, ?2)"
                      " ON CONFLICT (face_id, person_id) DO NOTHING",
    [ST_REJECT_DEL] = "DELETE FROM face_rejects WHERE face_id = ?1 AND person_id = ?2",
    [ST_REJECT_HAS] = "SELECT 1 FROM face_rejects WHERE face_id = ?1 AND person_id = ?2",
    [ST_REJECT_EACH] = "SELECT r.face_id, r.person_id FROM face_rejects r JOIN faces f ON f.id = r.face_id"
                       " WHERE f.owner = ?1 ORDER BY r.face_id, r.person_id",
    [ST_AVATAR_DROP] = "UPDATE persons SET avatar_face = NULL, avatar_by_user = 0"
                       " WHERE avatar_face = ?1 AND id <> ?2",
    [ST_AVATAR_FIX_OWNER] = "UPDATE persons SET avatar_face = NULL, avatar_by_user = 0"
                            " WHERE owner = ?1 AND " AVATAR_STALE,
    [ST_AVATAR_FIX_PERSON] = "UPDATE persons SET avatar_face = NULL, avatar_by_user = 0"
                             " WHERE id = ?1 AND " AVATAR_STALE,
    [ST_PERSON_ADD] = "INSERT INTO persons (owner, name) VALUES (?1, ?2) RETURNING id",
    [ST_PERSON_GET] = PERSON_SELECT " WHERE p.id = ?1 AND p.owner = ?2" PERSON_GROUP,
    [ST_PERSON_EACH] = PERSON_SELECT " WHERE p.owner = ?1" PERSON_GROUP
                                     " ORDER BY COUNT(f.id) DESC, p.id",
    [ST_PERSON_BY_NAME] = "SELECT id FROM persons WHERE owner = ?1 AND name = ?2"
                          " ORDER BY id LIMIT 2",
    [ST_PERSON_OWNED] = "SELECT avatar_by_user FROM persons WHERE id = ?1 AND owner = ?2",
    [ST_PERSON_RENAME] = "UPDATE persons SET name = ?3 WHERE id = ?1 AND owner = ?2",
    [ST_PERSON_HIDE] = "UPDATE persons SET hidden = ?3 WHERE id = ?1 AND owner = ?2",
    [ST_PERSON_AVATAR] = "UPDATE persons SET avatar_face = ?2, avatar_by_user = ?3 WHERE id = ?1",
    // merge into ?1 from ?2. The WHERE before ON CONFLICT is required: without it SQLite
    // would read ON as a join constraint of the SELECT.
    [ST_MERGE_REJECTS] = "INSERT INTO face_rejects (face_id, person_id)"
                         " SELECT face_id, ?1 FROM face_rejects WHERE person_id = ?2"
                         " ON CONFLICT (face_id, person_id) DO NOTHING",
    [ST_MERGE_DROP] = "UPDATE faces SET person_id = NULL, assigned = 0"
                      " WHERE person_id IN (?1, ?2) AND EXISTS (SELECT 1 FROM face_rejects r"
                      " WHERE r.face_id = faces.id AND r.person_id = ?1)",
    [ST_MERGE_MOVE] = "UPDATE faces SET person_id = ?1, assigned = 1 WHERE person_id = ?2",
    // every SET expression sees the old row, so the CASE tests into's old avatar
    [ST_MERGE_PERSON] = "UPDATE persons SET"
                        " name = COALESCE(name, (SELECT q.name FROM persons q WHERE q.id = ?2)),"
                        " avatar_by_user = CASE WHEN avatar_face IS NULL THEN (SELECT"
                        " q.avatar_by_user FROM persons q WHERE q.id = ?2) ELSE avatar_by_user END,"
                        " avatar_face = COALESCE(avatar_face,"
                        " (SELECT q.avatar_face FROM persons q WHERE q.id = ?2))"
                        " WHERE id = ?1",
    [ST_PERSON_DEL] = "DELETE FROM persons WHERE id = ?1",
    [ST_PRUNE] = "DELETE FROM persons WHERE owner = ?1 AND name IS NULL"
                 " AND NOT EXISTS (SELECT 1 FROM faces f WHERE f.person_id = persons.id)",
};

#define PG_STR2(x) #x
#define PG_STR(x) PG_STR2(x)
static const char pg_begin[] =
    "BEGIN; SELECT pg_advisory_xact_lock(" PG_STR(STORE_PG_WRITE_LOCK) ")";

struct store {
    struct db *db;
    enum db_kind kind;
    struct db_stmt *st[ST_COUNT];        // the cache; NULL until first use
    struct db_stmt *xst[STORE_XST_MAX];  // the other files' cache (store_sql.h)
    unsigned char st_iter[ST_COUNT];     // cached statement held by a running iteration
    int depth;                           // running iterations (writes refused while > 0)
    char *str;                           // strings of the last get/find
    size_t str_cap;
    uint8_t *thumb;                      // thumbnail of the last store_face_get
    size_t thumb_cap;
    float emb[STORE_EMB_MAX];            // embedding of the last store_face_get
    uint8_t emb_le[STORE_EMB_MAX * 4];   // embedding being inserted, float32 little-endian
    uint8_t lm_le[10 * 4];               // landmarks being inserted
    char where[160];                     // the database, for messages (a URL without password)
    int64_t model_seen, model_seen_dim;  // the last model store_face_insert looked up
};

// ---- errors ---------------------------------------------------------------------------------
static int fail_db(struct store *s, int code, const char *what) {
    return fh_fail(code, "store: %s: %s", what, db_errmsg(s->db));
}

static int refuse_in_iteration(const char *what) {
    return fh_fail(FH_E_ARG, "store: %s from inside a store_*_each callback (writes must wait "
                             "until the iteration returns)", what);
}
#define WRITE_GUARD(s, what)                                                                \
    do {                                                                                    \
        if ((s)->depth) return refuse_in_iteration(what);                           \
    } while (0)

static const unsigned char *col_utext(struct db_stmt *st, int c) {
    return (const unsigned char *)db_col_text(st, c);
}

// ---- statement helpers ------------------------------------------------------------------------
// The SQL of a cached statement in this database's dialect (store_sql_pg_override).
static const char *sql_of(struct store *s, enum st_id id) {
    return s->kind == DB_PG && id == ST_BEGIN ? pg_begin : st_sql[id];
}

static int prep(struct store *s, enum st_id id, struct db_stmt **out) {
    FH_ASSERT(!s->st_iter[id]); // a cached statement is never reused while iterating
    *out = NULL;
    if (!s->st[id]) {
        int rc = db_prepare(s->db, sql_of(s, id), 1, &s->st[id]);
        if (rc) return fail_db(s, rc, "prepare");
    }
    *out = s->st[id];
    return FH_OK;
}

static void finish(struct db_stmt *st) { db_reset(st); }

static void bind_i64(struct store *s, struct db_stmt *st, int i, int64_t v) {
    (void)s;
    db_bind_i64(st, i, v);
}
// 0 means "none" in the API and NULL in the database
static void bind_id(struct store *s, struct db_stmt *st, int i, int64_t v) {
    (void)s;
    if (v) db_bind_i64(st, i, v);
    else db_bind_null(st, i);
}
static void bind_dbl(struct store *s, struct db_stmt *st, int i, double v) {
    (void)s;
    db_bind_dbl(st, i, v);
}
static void bind_text(struct store *s, struct db_stmt *st, int i, const char *t) {
    (void)s;
    db_bind_text(st, i, t);
}
static void bind_blob(struct store *s, struct db_stmt *st, int i, const void *p, size_t n) {
    (void)s;
    db_bind_blob(st, i, p, n);
}

// One step. Returns 1 (row: the statement stays live for reading), 0 (done: statement
// finished), or a negative FH_E_* (statement finished; a failed bind reports here).
static int step(struct store *s, struct db_stmt *st, const char *what) {
    int rc = db_step(st);
    return rc < 0 ? fail_db(s, rc, what) : rc;
}

// Runs a statement that returns no row needed; *changes gets the rows it changed.
static int run(struct store *s, struct db_stmt *st, const char *what, int *changes) {
    int rc;
    while ((rc = step(s, st, what)) == 1) {
    }
    if (rc == 0 && changes) *changes = db_changes(s->db);
    return rc;
}

// Steps once expecting at most one row and reads column 0 as an integer: 1 found (*v set),
// 0 no row, negative error. The statement is finished in all cases.
static int one_i64(struct store *s, struct db_stmt *st, const char *what, int64_t *v) {
    int rc = step(s, st, what);
    if (rc == 1) {
        if (v) *v = db_col_i64(st, 0);
        finish(st);
    }
    return rc;
}

static int exec_id(struct store *s, enum st_id id, const char *what) {
    // BEGIN/COMMIT/ROLLBACK: plain commands (PostgreSQL's BEGIN is two statements)
    int rc = db_exec(s->db, sql_of(s, id));
    return rc ? fail_db(s, rc, what) : FH_OK;
}

// ---- transactions ------------------------------------------------------------------------------
// Multi-statement writes: their own transaction when the caller has none open.
static int tx_enter(struct store *s, int *own) {
    *own = !db_in_tx(s->db);
    return *own ? exec_id(s, ST_BEGIN, "begin") : FH_OK;
}

static void rollback_quiet(struct store *s) {
    // keeps the failure's message: no fh_fail here; SQLite may have rolled back already
    if (db_in_tx(s->db)) db_exec(s->db, "ROLLBACK");
}

static int tx_leave(struct store *s, int own, int rc) {
    if (!own) return rc;
    if (rc == FH_OK) rc = exec_id(s, ST_COMMIT, "commit");
    if (rc != FH_OK) rollback_quiet(s);
    return rc;
}

// PostgreSQL only warns about BEGIN inside a transaction and COMMIT outside one; both
// engines refuse them here alike.
int store_begin(struct store *s) {
    FH_ASSERT(s);
    WRITE_GUARD(s, "store_begin");
    if (db_in_tx(s->db)) return fh_fail(FH_E_DB, "store: begin: a transaction is already open");
    return exec_id(s, ST_BEGIN, "begin");
}

int store_commit(struct store *s) {
    FH_ASSERT(s);
    WRITE_GUARD(s, "store_commit");
    if (!db_in_tx(s->db)) return fh_fail(FH_E_DB, "store: commit: no transaction is open");
    return exec_id(s, ST_COMMIT, "commit");
}

int store_rollback(struct store *s) {
    FH_ASSERT(s);
    WRITE_GUARD(s, "store_rollback");
    if (!db_in_tx(s->db)) return FH_OK;
    return exec_id(s, ST_ROLLBACK, "rollback");
}

// ---- buffers owned by s ------------------------------------------------------------------------
static int reserve(void **buf, size_t *cap, size_t n) {
    if (n <= *cap) return FH_OK;
    size_t c = *cap ? *cap : 256;
    while (c < n) c *= 2;
    void *p = fh_realloc(*buf, c);
    if (!p) return fh_fail(FH_E_NOMEM, "store: cannot allocate %zu bytes", c);
    *buf = p;
    *cap = c;
    return FH_OK;
}

// Copies up to `n` column texts of st (indices cols[]) into s->str; out[k] NULL for NULL.
static int copy_texts(struct store *s, struct db_stmt *st, const int *cols, int n,
                      const char **out) {
    size_t total = 0, len[4];
    FH_ASSERT(n <= 4);
    for (int k = 0; k < n; k++) out[k] = NULL;
    for (int k = 0; k < n; k++) {
        len[k] = db_col_null(st, cols[k]) ? 0 : db_col_bytes(st, cols[k]) + 1;
        total += len[k];
    }
    int rc = reserve((void **)&s->str, &s->str_cap, total ? total : 1);
    if (rc) return rc;
    char *p = s->str;
    for (int k = 0; k < n; k++) {
        if (!len[k]) continue;
        const unsigned char *t = col_utext(st, cols[k]);
        if (!t) return fh_fail(FH_E_NOMEM, "store: cannot read a text column");
        memcpy(p, t, len[k] - 1);
        p[len[k] - 1] = 0;
        out[k] = p;
        p += len[k];
    }
    return FH_OK;
}

// ---- input checks ------------------------------------------------------------------------------
static int check_str(const char *v, const char *what, size_t lo, size_t hi) {
    if (!v) return lo ? fh_fail(FH_E_ARG, "store: %s is NULL", what) : FH_OK;
    size_t n = strnlen(v, hi + 1);
    if (n < lo) return fh_fail(FH_E_ARG, "store: %s is empty", what);
    if (n > hi) return fh_fail(FH_E_ARG, "store: %s is longer than %zu bytes", what, hi);
    return FH_OK;
}

static int is_hex64(const char *h) {
    for (int i = 0; i < 64; i++) {
        char c = h[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
            return 0;
    }
    return h[64] == 0;
}

static const char *person_name(const char *name) { return name && name[0] ? name : NULL; }

// ---- float32 little-endian blobs ---------------------------------------------------------------
// Byte by byte so the stored form is the same on any host.
static void f32_to_le(const float *v, int n, uint8_t *out) {
    for (int i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, &v[i], 4);
        out[4 * i + 0] = (uint8_t)u;
        out[4 * i + 1] = (uint8_t)(u >> 8);
        out[4 * i + 2] = (uint8_t)(u >> 16);
        out[4 * i + 3] = (uint8_t)(u >> 24);
    }
}
static void le_to_f32(const uint8_t *b, int n, float *out) {
    for (int i = 0; i < n; i++) {
        uint32_t u = (uint32_t)b[4 * i] | (uint32_t)b[4 * i + 1] << 8 |
                     (uint32_t)b[4 * i + 2] << 16 | (uint32_t)b[4 * i + 3] << 24;
        memcpy(&out[i], &u, 4);
    }
}

// ---- opening -------------------------------------------------------------------------------------
// One-off statements (pragmas, schema checks): prepared, stepped, finalised. *v / buf get
// column 0 of the first row (0 / "" when there is none).
static int query_first(struct store *s, const char *sql, int64_t *v, char *buf, size_t n) {
    struct db_stmt *st;
    if (v) *v = 0;
    if (buf) buf[0] = 0;
    int rc = db_prepare(s->db, sql, 0, &st);
    if (rc) return fail_db(s, rc, sql);
    rc = db_step(st);
    if (rc == 1) {
        if (v) *v = db_col_i64(st, 0);
        const char *t = buf ? db_col_text(st, 0) : NULL; // (SQLite: text of an int allocates)
        if (buf && t) snprintf(buf, n, "%s", t);
        db_reset(st);
        rc = FH_OK;
    }
    int e = rc < 0 ? fail_db(s, rc, sql) : FH_OK;
    db_finalize(st);
    return e;
}
static int pragma_int(struct store *s, const char *sql, int64_t *v) {
    return query_first(s, sql, v, NULL, 0);
}
static int pragma_text(struct store *s, const char *sql, char *buf, size_t n) {
    return query_first(s, sql, NULL, buf, n);
}

static int exec_sql(struct store *s, const char *sql, const char *what) {
    int rc = db_exec(s->db, sql);
    return rc ? fail_db(s, rc, what) : FH_OK;
}

// PRAGMA foreign_key_check: FH_E_DB naming the first dangling reference
static int fk_check(struct store *s) {
    struct db_stmt *st;
    int r = db_prepare(s->db, "PRAGMA foreign_key_check", 0, &st);
    if (r) return fail_db(s, r, "foreign_key_check");
    int rc = FH_OK;
    r = db_step(st);
    if (r == 1) {
        const char *tab = db_col_text(st, 0), *par = db_col_text(st, 2);
        rc = fh_fail(FH_E_DB, "store: foreign key check: %s row %lld refers to a missing %s row",
                     tab ? tab : "?", (long long)db_col_i64(st, 1), par ? par : "?");
    } else if (r < 0) {
        rc = fail_db(s, r, "foreign_key_check");
    }
    db_finalize(st);
    return rc;
}

// PostgreSQL keeps the version in a table of its own (no user_version there); absent
// table: version 0.
static int pg_version(struct store *s, int64_t *v) {
    int64_t has = 0;
    int rc = pragma_int(s, "SELECT to_regclass('facehatch_schema') IS NOT NULL", &has);
    if (rc == FH_OK && has) rc = pragma_int(s, "SELECT version FROM facehatch_schema", v);
    else *v = 0;
    return rc;
}

int store_schema_version(struct store *s, int *version) {
    int64_t v = 0;
    int rc = s->kind == DB_PG ? pg_version(s, &v) : pragma_int(s, "PRAGMA user_version", &v);
    *version = (int)v;
    return rc;
}

static int migrate_steps(struct store *s, const char *const *steps, int n_steps) {
    for (;;) {
        int rc = exec_sql(s, "BEGIN IMMEDIATE", "migrate: begin");
        if (rc) return rc;
        int v;
        // re-read under the write lock: another process may have migrated meanwhile
        rc = store_schema_version(s, &v);
        if (rc == FH_OK && v > n_steps)
            rc = fh_fail(FH_E_DB, "store: schema version %d is newer than this program's %d",
                         v, n_steps);
        if (rc == FH_OK && v == n_steps) return exec_sql(s, "COMMIT", "migrate: commit");
        if (rc == FH_OK) {
            FH_ASSERT(steps[v]);
            char what[64], sql[96];
            snprintf(what, sizeof what, "migrate %d -> %d", v, v + 1);
            rc = exec_sql(s, steps[v], what);
            snprintf(sql, sizeof sql, "PRAGMA user_version = %d; PRAGMA application_id = %d",
                     v + 1, STORE_APPLICATION_ID);
            if (rc == FH_OK) rc = exec_sql(s, sql, what);
            if (rc == FH_OK) rc = fk_check(s);
            if (rc == FH_OK) rc = exec_sql(s, "COMMIT", what);
        }
        if (rc) {
            rollback_quiet(s);
            return rc;
        }
    }
}

// Steps run with foreign keys off, so a step may rebuild a table (SQLite's "12-step"
// ALTER: create the new table, copy, drop the old, rename) without the drop cascading;
// each step's result is checked with foreign_key_check before its commit. The pragma is a
// no-op inside a transaction, hence here, around the steps. (SQLite only.)
int store_migrate(struct store *s, const char *const *steps, int n_steps) {
    FH_ASSERT(s->kind == DB_SQLITE);
    int rc = exec_sql(s, "PRAGMA foreign_keys = OFF", "foreign_keys");
    if (rc == FH_OK) rc = migrate_steps(s, steps, n_steps);
    int on = exec_sql(s, "PRAGMA foreign_keys = ON", "foreign_keys");
    return rc ? rc : on;
}

// PostgreSQL: each step of store_pg_migrations in one transaction (DDL is transactional
// there), under a session advisory lock so two processes opening a new database at once
// do not both migrate; the version is re-read under the lock.
static int migrate_pg(struct store *s) {
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT pg_advisory_lock(%d)", STORE_PG_MIGRATE_LOCK);
    int rc = exec_sql(s, sql, "migrate: lock");
    if (rc) return rc;
    int v = 0;
    rc = store_schema_version(s, &v);
    if (rc == FH_OK && v > STORE_SCHEMA_VERSION)
        rc = fh_fail(FH_E_DB, "store: %s: schema version %d is newer than this program's %d; "
                              "upgrade facehatch", s->where, v, STORE_SCHEMA_VERSION);
    for (int k = 0; rc == FH_OK && k < store_pg_n_migrations; k++) {
        const struct store_pg_step *m = &store_pg_migrations[k];
        if (m->to <= v) continue;
        char what[64];
        snprintf(what, sizeof what, "migrate %d -> %d", v, m->to);
        rc = exec_sql(s, "BEGIN", what);
        if (rc == FH_OK) rc = exec_sql(s, m->sql, what);
        snprintf(sql, sizeof sql, "UPDATE facehatch_schema SET version = %d", m->to);
        if (rc == FH_OK) rc = exec_sql(s, sql, what);
        if (rc == FH_OK) rc = exec_sql(s, "COMMIT", what);
        if (rc) rollback_quiet(s);
        else v = m->to;
    }
    snprintf(sql, sizeof sql, "SELECT pg_advisory_unlock(%d)", STORE_PG_MIGRATE_LOCK);
    db_exec(s->db, sql); // also released when the connection closes
    return rc;
}

// Decides from read-only queries whether the database is one we may use: a fresh empty
// one, or ours at a version we know. Nothing is written before this says yes. *fresh = 1
// for an empty one.
static int check_ours(struct store *s, int *fresh) {
    int64_t app = 0, ver = 0, n_obj = 0;
    int rc;
    if (s->kind == DB_PG) {
        rc = pragma_int(s, "SELECT COUNT(*) FROM pg_tables WHERE schemaname = current_schema()",
                        &n_obj);
        int v = 0;
        if (rc == FH_OK) rc = store_schema_version(s, &v);
        if (rc) return rc;
        ver = v;
        app = ver > 0 || n_obj == 0 ? STORE_APPLICATION_ID : 0;
    } else {
        rc = pragma_int(s, "PRAGMA application_id", &app);
        if (rc == FH_OK) rc = pragma_int(s, "PRAGMA user_version", &ver);
        if (rc == FH_OK) rc = pragma_int(s, "SELECT COUNT(*) FROM sqlite_master", &n_obj);
        if (rc == FH_E_DB)
            return fh_fail(FH_E_DB, "store: %s: not a facehatch database (%s)", s->where,
                           db_errmsg(s->db));
        if (rc) return rc;
    }
    *fresh = app == 0 && ver == 0 && n_obj == 0;
    if (s->kind == DB_PG && ver == 0 && n_obj == 0) *fresh = 1;
    if (*fresh) return FH_OK;
    if (app != STORE_APPLICATION_ID)
        return s->kind == DB_PG
                   ? fh_fail(FH_E_DB, "store: %s: not a facehatch database (%lld tables, no "
                                      "facehatch_schema)", s->where, (long long)n_obj)
                   : fh_fail(FH_E_DB, "store: %s: not a facehatch database (SQLite file with "
                                      "application_id 0x%08llx, %lld schema objects)",
                             s->where, (unsigned long long)(uint32_t)app, (long long)n_obj);
    if (ver > STORE_SCHEMA_VERSION)
        return fh_fail(FH_E_DB, "store: %s: schema version %lld is newer than this program's "
                                "%d; upgrade facehatch",
                       s->where, (long long)ver, STORE_SCHEMA_VERSION);
    return FH_OK;
}

static int configure(struct store *s, int flags) {
    int fresh = 0;
    int rc = check_ours(s, &fresh);
    if (rc) return rc;
    if (fresh && (flags & STORE_OPEN_EXISTING))
        return fh_fail(FH_E_NOTFOUND, "store: %s holds no facehatch library yet (create it "
                                      "with `facehatch index … --db` or `serve --db` first)",
                       s->where);
    if (s->kind == DB_PG) return migrate_pg(s);
    char mode[16];
    rc = pragma_text(s, "PRAGMA journal_mode = WAL", mode, sizeof mode);
    if (rc) return rc;
    // ":memory:" databases cannot use WAL and report "memory"
    if (strcmp(mode, "wal") != 0 && strcmp(mode, "memory") != 0)
        return fh_fail(FH_E_DB, "store: %s: cannot switch to WAL (journal_mode is %s)", s->where,
                       mode);
    rc = exec_sql(s, "PRAGMA synchronous = FULL", "synchronous");
    if (rc == FH_OK) rc = store_migrate(s, store_migrations, STORE_SCHEMA_VERSION);
    return rc;
}

int store_is_url(const char *path) {
    return path && (!strncmp(path, "postgres://", 11) || !strncmp(path, "postgresql://", 13));
}

// The URL for messages: "postgres://user:secret@host/db" -> "postgres://user:***@host/db".
void store_redact_url(const char *url, char *out, size_t n) {
    snprintf(out, n, "%s", url);
    char *p = strstr(out, "://");
    if (!p) return;
    p += 3;
    char *at = strchr(p, '@'), *colon = strchr(p, ':');
    if (at && colon && colon < at) {
        char rest[160];
        snprintf(rest, sizeof rest, "%s", at);
        snprintf(colon, n - (size_t)(colon - out), ":***%s", rest);
    }
    char *q = strstr(out, "password="); // a password in the query string
    if (q) snprintf(q + 9, n - (size_t)(q + 9 - out), "***");
}

int store_open_ex(const char *path, int flags, struct store **out) {
    FH_ASSERT(out);
    *out = NULL;
    if (!path || !path[0]) return fh_fail(FH_E_ARG, "store: empty database path");
    if (strlen(path) > STORE_PATH_MAX)
        return fh_fail(FH_E_ARG, "store: database path longer than %d bytes", STORE_PATH_MAX);
    struct store *s = fh_calloc(1, sizeof *s);
    if (!s) return fh_fail(FH_E_NOMEM, "store: cannot allocate the handle");
    s->kind = store_is_url(path) ? DB_PG : DB_SQLITE;
    if (s->kind == DB_PG) store_redact_url(path, s->where, sizeof s->where);
    else snprintf(s->where, sizeof s->where, "%s", path);
    char msg[512];
    int e = s->kind == DB_PG ? db_open_pg(path, &s->db, msg, sizeof msg)
                             : db_open_sqlite(path, &s->db, msg, sizeof msg);
    if (e) {
        e = s->kind == DB_PG ? fh_fail(e, "store: cannot connect to %s: %s", s->where, msg)
                             : fh_fail(e, "store: %s: %s", s->where, msg);
        fh_free(s);
        return e;
    }
    e = db_busy_timeout(s->db, STORE_BUSY_TIMEOUT_MS);
    if (e) e = fail_db(s, e, "busy timeout");
    // connection setting, writes nothing; must be outside a transaction
    if (e == FH_OK && s->kind == DB_SQLITE)
        e = exec_sql(s, "PRAGMA foreign_keys = ON", "foreign_keys");
    if (e == FH_OK) e = configure(s, flags);
    if (e != FH_OK) {
        store_close(s);
        return e;
    }
    *out = s;
    return FH_OK;
}

int store_open(const char *path, struct store **out) { return store_open_ex(path, 0, out); }

int store_backend(const struct store *s) { return s->kind == DB_PG ? STORE_POSTGRES : STORE_SQLITE; }

void store_close(struct store *s) {
    if (!s) return;
    FH_ASSERT(s->depth == 0); // closing from inside an iteration's callback is a bug
    for (int i = 0; i < ST_COUNT; i++) db_finalize(s->st[i]);
    for (int i = 0; i < STORE_XST_MAX; i++) db_finalize(s->xst[i]);
    if (s->db) {
        rollback_quiet(s);
        db_close(s->db);
    }
    fh_free(s->str);
    fh_free(s->thumb);
    fh_free(s);
}

int store_set_busy_timeout(struct store *s, int ms) {
    FH_ASSERT(s);
    if (ms < 0) return fh_fail(FH_E_ARG, "store: negative busy timeout %d", ms);
    int rc = db_busy_timeout(s->db, ms);
    return rc ? fail_db(s, rc, "busy timeout") : FH_OK;
}

int store_check(struct store *s) {
    FH_ASSERT(s);
    if (s->kind == DB_PG) {
        // PostgreSQL checks every foreign key and constraint on each statement and keeps
        // its pages checksummed itself; what is left to check is the schema version
        int v = 0;
        int rc = store_schema_version(s, &v);
        if (rc == FH_OK && v != STORE_SCHEMA_VERSION)
            rc = fh_fail(FH_E_DB, "store: %s: schema version %d, expected %d", s->where, v,
                         STORE_SCHEMA_VERSION);
        return rc;
    }
    char first[256];
    int rc = pragma_text(s, "PRAGMA integrity_check", first, sizeof first);
    if (rc) return rc;
    if (strcmp(first, "ok") != 0)
        return fh_fail(FH_E_DB, "store: integrity check: %s", first);
    return fk_check(s);
}

// ---- iterations ----------------------------------------------------------------------------------
struct iter {
    struct db_stmt *st;
    enum st_id id;
    int temp; // a private statement: the cached one is held by an outer iteration
};

static int iter_begin(struct store *s, enum st_id id, struct iter *it) {
    it->id = id;
    it->temp = s->st_iter[id];
    if (it->temp) {
        int rc = db_prepare(s->db, sql_of(s, id), 0, &it->st);
        if (rc) return fail_db(s, rc, "prepare");
    } else {
        int rc = prep(s, id, &it->st);
        if (rc) return rc;
        s->st_iter[id] = 1;
    }
    s->depth++;
    return FH_OK;
}

static void iter_end(struct store *s, struct iter *it) {
    if (it->temp) {
        db_finalize(it->st);
    } else {
        finish(it->st);
        s->st_iter[it->id] = 0;
    }
    s->depth--;
}

// ---- users, models, meta ----------------------------------------------------------------------------
int store_user_get(struct store *s, const char *name, int64_t *id) {
    FH_ASSERT(s && id);
    int rc = check_str(name, "user name", 1, STORE_NAME_MAX);
    if (rc) return rc;
    struct db_stmt *st;
    for (int attempt = 0; attempt < 2; attempt++) {
        if ((rc = prep(s, ST_USER_FIND, &st))) return rc;
        bind_text(s, st, 1, name);
        rc = one_i64(s, st, "find user", id);
        if (rc != 0) return rc < 0 ? rc : FH_OK;
        if (attempt) break;
        WRITE_GUARD(s, "store_user_get (creating a user)");
        if ((rc = prep(s, ST_USER_ADD, &st))) return rc;
        bind_text(s, st, 1, name);
        if ((rc = run(s, st, "add user", NULL))) return rc;
    }
    return fh_fail(FH_E_DB, "store: user '%s' vanished after insert", name);
}

int store_user_id(struct store *s, const char *name, int64_t *id) {
    FH_ASSERT(s && id);
    int rc = check_str(name, "user name", 1, STORE_NAME_MAX);
    struct db_stmt *st;
    if (rc || (rc = prep(s, ST_USER_FIND, &st))) return rc;
    bind_text(s, st, 1, name);
    rc = one_i64(s, st, "find user", id);
    if (rc < 0) return rc;
    return rc ? FH_OK : fh_fail(FH_E_NOTFOUND, "no user named '%s'", name);
}

int store_model_get(struct store *s, const char *name, const char *version, const char *sha256,
                    int dim, int64_t *id) {
    FH_ASSERT(s && id);
    int rc = check_str(name, "model name", 1, STORE_NAME_MAX);
    if (rc == FH_OK) rc = check_str(version, "model version", 0, STORE_NAME_MAX);
    if (rc) return rc;
    if (!version) return fh_fail(FH_E_ARG, "store: model version is NULL");
    if (!sha256 || strnlen(sha256, 65) != 64 || !is_hex64(sha256))
        return fh_fail(FH_E_ARG, "store: model sha256 must be 64 hex digits");
    if (dim < 1 || dim > STORE_EMB_MAX)
        return fh_fail(FH_E_ARG, "store: model dim %d outside 1..%d", dim, STORE_EMB_MAX);
    struct db_stmt *st;
    for (int attempt = 0; attempt < 2; attempt++) {
        if ((rc = prep(s, ST_MODEL_FIND, &st))) return rc;
        bind_text(s, st, 1, name);
        bind_text(s, st, 2, version);
        bind_text(s, st, 3, sha256);
        rc = step(s, st, "find model");
        if (rc < 0) return rc;
        if (rc == 1) {
            *id = db_col_i64(st, 0);
            int have = (int)db_col_i64(st, 1);
            finish(st);
            if (have != dim)
                return fh_fail(FH_E_ARG, "store: model %s %s is registered with dim %d, not %d",
                               name, version, have, dim);
            return FH_OK;
        }
        if (attempt) break;
        WRITE_GUARD(s, "store_model_get (creating a model)");
        if ((rc = prep(s, ST_MODEL_ADD, &st))) return rc;
        bind_text(s, st, 1, name);
        bind_text(s, st, 2, version);
        bind_text(s, st, 3, sha256);
        bind_i64(s, st, 4, dim);
        if ((rc = run(s, st, "add model", NULL))) return rc;
    }
    return fh_fail(FH_E_DB, "store: model '%s' vanished after insert", name);
}

int store_model_other(struct store *s, const char *name, const char *version, const char *sha256,
                      struct store_model *other) {
    FH_ASSERT(s && name && version && sha256 && other);
    memset(other, 0, sizeof *other);
    struct db_stmt *st;
    int rc = prep(s, ST_MODEL_OTHER, &st);
    if (rc) return rc;
    bind_text(s, st, 1, name);
    bind_text(s, st, 2, version);
    bind_text(s, st, 3, sha256);
    rc = step(s, st, "find faces of another model");
    if (rc <= 0) return rc ? rc : fh_fail(FH_E_NOTFOUND, "store: no face of another model");
    const unsigned char *t[3] = {col_utext(st, 1), col_utext(st, 2), col_utext(st, 3)};
    other->id = db_col_i64(st, 0);
    snprintf(other->name, sizeof other->name, "%s", t[0] ? (const char *)t[0] : "");
    snprintf(other->version, sizeof other->version, "%s", t[1] ? (const char *)t[1] : "");
    snprintf(other->sha256, sizeof other->sha256, "%s", t[2] ? (const char *)t[2] : "");
    other->dim = (int)db_col_i64(st, 4);
    other->faces = db_col_i64(st, 5);
    finish(st);
    return FH_OK;
}

int store_meta_set(struct store *s, const char *key, const char *value) {
    FH_ASSERT(s);
    int rc = check_str(key, "meta key", 1, STORE_NAME_MAX);
    if (rc == FH_OK) rc = check_str(value, "meta value", 0, STORE_TEXT_MAX);
    if (rc == FH_OK && !value) rc = fh_fail(FH_E_ARG, "store: meta value is NULL");
    if (rc) return rc;
    WRITE_GUARD(s, "store_meta_set");
    struct db_stmt *st;
    if ((rc = prep(s, ST_META_SET, &st))) return rc;
    bind_text(s, st, 1, key);
    bind_text(s, st, 2, value);
    return run(s, st, "set meta", NULL);
}

int store_meta_get(struct store *s, const char *key, char *buf, size_t n) {
    FH_ASSERT(s && buf);
    if (n == 0) return fh_fail(FH_E_ARG, "store: meta buffer of size 0");
    buf[0] = 0;
    int rc = check_str(key, "meta key", 1, STORE_NAME_MAX);
    if (rc) return rc;
    struct db_stmt *st;
    if ((rc = prep(s, ST_META_GET, &st))) return rc;
    bind_text(s, st, 1, key);
    rc = step(s, st, "get meta");
    if (rc < 0) return rc;
    if (rc == 0) return fh_fail(FH_E_NOTFOUND, "store: no meta key '%s'", key);
    const unsigned char *t = col_utext(st, 0);
    size_t len = (size_t)(int)db_col_bytes(st, 0);
    if (!t) {
        finish(st);
        return fh_fail(FH_E_NOMEM, "store: cannot read meta '%s'", key);
    }
    if (len >= n) len = n - 1;
    memcpy(buf, t, len);
    buf[len] = 0;
    finish(st);
    return FH_OK;
}

// ---- photos ------------------------------------------------------------------------------------------
// Fills p from a PHOTO_COLS row; strings point into the row (copied by the caller if needed).
static void photo_row(struct db_stmt *st, struct store_photo *p) {
    memset(p, 0, sizeof *p);
    p->id = db_col_i64(st, 0);
    p->path = (const char *)col_utext(st, 1);
    p->size = db_col_i64(st, 2);
    p->mtime = db_col_i64(st, 3);
    const unsigned char *h = col_utext(st, 4);
    if (h) snprintf(p->sha256, sizeof p->sha256, "%s", (const char *)h);
    p->width = (int)db_col_i64(st, 5);
    p->height = (int)db_col_i64(st, 6);
    p->n_faces = (int)db_col_i64(st, 7);
    p->status = (int)db_col_i64(st, 8);
    p->error = (const char *)col_utext(st, 9);
    p->orig_name = (const char *)col_utext(st, 10);
}

// Reads the one row of a stepped ST_PHOTO_FIND/GET into out, strings copied into s.
static int photo_one(struct store *s, struct db_stmt *st, struct store_photo *out) {
    photo_row(st, out);
    static const int cols[3] = {1, 9, 10};
    const char *txt[3];
    int rc = copy_texts(s, st, cols, 3, txt);
    out->path = txt[0];
    out->error = txt[1];
    out->orig_name = txt[2];
    finish(st);
    return rc;
}

int store_photo_find(struct store *s, int64_t owner, const char *path, struct store_photo *out) {
    FH_ASSERT(s && out);
    int rc = check_str(path, "photo path", 1, STORE_PATH_MAX);
    if (rc) return rc;
    struct db_stmt *st;
    if ((rc = prep(s, ST_PHOTO_FIND, &st))) return rc;
    bind_i64(s, st, 1, owner);
    bind_text(s, st, 2, path);
    rc = step(s, st, "find photo");
    if (rc < 0) return rc;
    if (rc == 0) return fh_fail(FH_E_NOTFOUND, "store: no photo '%s'", path);
    return photo_one(s, st, out);
}

int store_photo_get(struct store *s, int64_t owner, int64_t photo_id, struct store_photo *out) {
    FH_ASSERT(s && out);
    struct db_stmt *st;
    int rc = prep(s, ST_PHOTO_GET, &st);
    if (rc) return rc;
    bind_i64(s, st, 1, photo_id);
    bind_i64(s, st, 2, owner);
    rc = step(s, st, "get photo");
    if (rc < 0) return rc;
    if (rc == 0) return fh_fail(FH_E_NOTFOUND, "store: no photo %lld", (long long)photo_id);
    return photo_one(s, st, out);
}

int store_photo_upsert(struct store *s, int64_t owner, const struct store_photo *p, int64_t *id) {
    FH_ASSERT(s && p && id);
    int rc = check_str(p->path, "photo path", 1, STORE_PATH_MAX);
    if (rc == FH_OK) rc = check_str(p->error, "photo error", 0, STORE_TEXT_MAX);
    if (rc == FH_OK) rc = check_str(p->orig_name, "photo original name", 0, STORE_PATH_MAX);
    if (rc) return rc;
    size_t hl = strnlen(p->sha256, sizeof p->sha256);
    if (hl == sizeof p->sha256 || (hl != 0 && (hl != 64 || !is_hex64(p->sha256))))
        return fh_fail(FH_E_ARG, "store: photo sha256 must be 64 hex digits or empty");
    if (p->status != 0 && p->status != 1)
        return fh_fail(FH_E_ARG, "store: photo status %d is not 0 or 1", p->status);
    if (p->width < 0 || p->height < 0)
        return fh_fail(FH_E_ARG, "store: negative photo size %dx%d", p->width, p->height);
    WRITE_GUARD(s, "store_photo_upsert");
    int own;
    if ((rc = tx_enter(s, &own))) return rc;
    struct db_stmt *st;
    int64_t pid = 0;
    int found = 0, same = 0;
    if ((rc = prep(s, ST_PHOTO_KEY, &st)) == FH_OK) {
        bind_i64(s, st, 1, owner);
        bind_text(s, st, 2, p->path);
        rc = step(s, st, "find photo");
        if (rc == 1) {
            found = 1;
            pid = db_col_i64(st, 0);
            const unsigned char *h = col_utext(st, 1);
            same = h && strcmp((const char *)h, p->sha256) == 0;
            finish(st);
            rc = FH_OK;
        }
    }
    if (rc == FH_OK && found) {
        if ((rc = prep(s, ST_PHOTO_SET, &st)) == FH_OK) {
            bind_i64(s, st, 1, pid);
            bind_i64(s, st, 2, p->size);
            bind_i64(s, st, 3, p->mtime);
            bind_text(s, st, 4, p->sha256);
            bind_i64(s, st, 5, p->width);
            bind_i64(s, st, 6, p->height);
            bind_i64(s, st, 7, p->status);
            bind_text(s, st, 8, p->error);
            bind_text(s, st, 9, p->orig_name);
            rc = run(s, st, "update photo", NULL);
        }
        // new content: the old faces describe another picture
        if (rc == FH_OK && !same && (rc = prep(s, ST_PHOTO_CLEAR_FACES, &st)) == FH_OK) {
            bind_i64(s, st, 1, pid);
            rc = run(s, st, "delete old faces", NULL);
        }
    } else if (rc == FH_OK) {
        if ((rc = prep(s, ST_PHOTO_ADD, &st)) == FH_OK) {
            bind_i64(s, st, 1, owner);
            bind_text(s, st, 2, p->path);
            bind_i64(s, st, 3, p->size);
            bind_i64(s, st, 4, p->mtime);
            bind_text(s, st, 5, p->sha256);
            bind_i64(s, st, 6, p->width);
            bind_i64(s, st, 7, p->height);
            bind_i64(s, st, 8, p->status);
            bind_text(s, st, 9, p->error);
            bind_text(s, st, 10, p->orig_name);
            rc = step(s, st, "insert photo");
            if (rc == 1) {
                pid = db_col_i64(st, 0);
                rc = run(s, st, "insert photo", NULL);
            } else if (rc == 0) {
                rc = fh_fail(FH_E_DB, "store: insert photo returned no id");
            }
        }
    }
    rc = tx_leave(s, own, rc);
    if (rc == FH_OK) *id = pid;
    return rc;
}

int store_photo_delete(struct store *s, int64_t owner, int64_t photo_id) {
    FH_ASSERT(s);
    WRITE_GUARD(s, "store_photo_delete");
    struct db_stmt *st;
    int rc, n = 0;
    if ((rc = prep(s, ST_PHOTO_DEL, &st))) return rc;
    bind_i64(s, st, 1, photo_id);
    bind_i64(s, st, 2, owner);
    // one statement: the cascade to faces, rejects and avatars is part of it, so atomic
    if ((rc = run(s, st, "delete photo", &n))) return rc;
    return n ? FH_OK : fh_fail(FH_E_NOTFOUND, "store: no photo %lld", (long long)photo_id);
}

int store_photos_each(struct store *s, int64_t owner,
                      int (*fn)(void *ctx, const struct store_photo *p), void *ctx) {
    FH_ASSERT(s && fn);
    struct iter it;
    int rc = iter_begin(s, ST_PHOTO_EACH, &it);
    if (rc) return rc;
    bind_i64(s, it.st, 1, owner);
    while ((rc = step(s, it.st, "list photos")) == 1) {
        struct store_photo p;
        photo_row(it.st, &p);
        if ((rc = fn(ctx, &p)) != 0) break;
    }
    iter_end(s, &it);
    return rc;
}

// ---- faces --------------------------------------------------------------------------------------------
// Fills f from a FACE_COLS(_LITE) row. The embedding is decoded into emb (STORE_EMB_MAX
// floats); the thumbnail points into the row. Stored sizes are checked before any copy.
static int face_row(struct db_stmt *st, int with_blobs, float *emb, struct store_face *f) {
    memset(f, 0, sizeof *f);
    f->id = db_col_i64(st, 0);
    f->photo_id = db_col_i64(st, 1);
    for (int k = 0; k < 4; k++) f->box[k] = (int)db_col_i64(st, 2 + k);
    f->det_score = (float)db_col_dbl(st, 6);
    f->blur = (float)db_col_dbl(st, 7);
    f->quality = (float)db_col_dbl(st, 8);
    f->blurry = (int)db_col_i64(st, 9);
    f->trash = (int)db_col_i64(st, 10);
    f->model_id = db_col_i64(st, 11);
    f->dim = (int)db_col_i64(st, 12);
    f->person_id = db_col_i64(st, 13);
    f->assigned = (int)db_col_i64(st, 14);
    const uint8_t *lm = db_col_blob(st, 15);
    int lm_n = (int)db_col_bytes(st, 15);
    if (lm_n != 40 || !lm)
        return fh_fail(FH_E_DB, "store: face %lld: landmarks are %d bytes, not 40",
                       (long long)f->id, lm_n);
    le_to_f32(lm, 10, f->landmarks);
    const unsigned char *det = col_utext(st, 16);
    snprintf(f->detector, sizeof f->detector, "%s", det ? (const char *)det : "mtcnn");
    if (f->dim < 0 || f->dim > STORE_EMB_MAX)
        return fh_fail(FH_E_DB, "store: face %lld: stored dim %d outside 0..%d", (long long)f->id,
                       f->dim, STORE_EMB_MAX);
    if (!with_blobs) return FH_OK;
    const uint8_t *e = db_col_blob(st, 17);
    int e_n = (int)db_col_bytes(st, 17);
    if (e_n != f->dim * 4 || (e_n && !e))
        return fh_fail(FH_E_DB, "store: face %lld: embedding is %d bytes, dim %d needs %d",
                       (long long)f->id, e_n, f->dim, f->dim * 4);
    if (f->dim) {
        le_to_f32(e, f->dim, emb);
        f->embedding = emb;
    }
    if (with_blobs == STORE_FACES_EMB) return FH_OK; // no thumbnail column
    f->thumb = db_col_blob(st, 18);
    f->thumb_size = (size_t)(int)db_col_bytes(st, 18);
    if (f->thumb_size == 0) f->thumb = NULL;
    return FH_OK;
}

// Owned checks: FH_OK, FH_E_NOTFOUND, or an error.
static int photo_owned(struct store *s, int64_t owner, int64_t photo_id) {
    struct db_stmt *st;
    int rc = prep(s, ST_PHOTO_OWNED, &st);
    if (rc) return rc;
    bind_i64(s, st, 1, photo_id);
    bind_i64(s, st, 2, owner);
    rc = one_i64(s, st, "find photo", NULL);
    if (rc < 0) return rc;
    return rc ? FH_OK : fh_fail(FH_E_NOTFOUND, "store: no photo %lld", (long long)photo_id);
}

// *by_user gets the person's avatar_by_user (may be NULL).
static int person_owned(struct store *s, int64_t owner, int64_t id, int *by_user) {
    struct db_stmt *st;
    int64_t v = 0;
    int rc = prep(s, ST_PERSON_OWNED, &st);
    if (rc) return rc;
    bind_i64(s, st, 1, id);
    bind_i64(s, st, 2, owner);
    rc = one_i64(s, st, "find person", &v);
    if (rc < 0) return rc;
    if (by_user) *by_user = (int)v;
    return rc ? FH_OK : fh_fail(FH_E_NOTFOUND, "store: no person %lld", (long long)id);
}

// *person gets the face's current person (0 = unknown).
static int face_owned(struct store *s, int64_t owner, int64_t id, int64_t *person) {
    struct db_stmt *st;
    int64_t v = 0;
    int rc = prep(s, ST_FACE_PERSON, &st);
    if (rc) return rc;
    bind_i64(s, st, 1, id);
    bind_i64(s, st, 2, owner);
    rc = one_i64(s, st, "find face", &v);
    if (rc < 0) return rc;
    if (person) *person = v;
    return rc ? FH_OK : fh_fail(FH_E_NOTFOUND, "store: no face %lld", (long long)id);
}

static int is_rejected(struct store *s, int64_t face_id, int64_t person_id) {
    struct db_stmt *st;
    int rc = prep(s, ST_REJECT_HAS, &st);
    if (rc) return rc;
    bind_i64(s, st, 1, face_id);
    bind_i64(s, st, 2, person_id);
    return one_i64(s, st, "find reject", NULL);
}

int store_face_insert(struct store *s, int64_t owner, const struct store_face *f, int64_t *id) {
    FH_ASSERT(s && f && id);
    if (f->dim < 0 || f->dim > STORE_EMB_MAX)
        return fh_fail(FH_E_ARG, "store: embedding dim %d outside 0..%d", f->dim, STORE_EMB_MAX);
    if (f->dim > 0 && !f->embedding)
        return fh_fail(FH_E_ARG, "store: dim %d but no embedding", f->dim);
    for (int i = 0; i < f->dim; i++)
        if (!isfinite(f->embedding[i]))
            return fh_fail(FH_E_ARG, "store: embedding[%d] is not finite", i);
    if (f->thumb_size > STORE_THUMB_MAX)
        return fh_fail(FH_E_ARG, "store: thumbnail of %zu bytes exceeds %u", f->thumb_size,
                       STORE_THUMB_MAX);
    if (f->thumb_size > 0 && !f->thumb)
        return fh_fail(FH_E_ARG, "store: thumb_size %zu but no thumbnail", f->thumb_size);
    if (f->assigned != STORE_AUTO && f->assigned != STORE_USER)
        return fh_fail(FH_E_ARG, "store: assigned %d is not STORE_AUTO or STORE_USER", f->assigned);
    if ((f->blurry != 0 && f->blurry != 1) || (f->trash != 0 && f->trash != 1))
        return fh_fail(FH_E_ARG, "store: blurry/trash must be 0 or 1");
    WRITE_GUARD(s, "store_face_insert");
    int rc = photo_owned(s, owner, f->photo_id);
    if (rc == FH_OK && f->person_id) rc = person_owned(s, owner, f->person_id, NULL);
    if (rc) return rc;
    if (f->dim > 0) {
        struct db_stmt *st;
        int64_t mdim = s->model_seen_dim;
        // a model row never changes once made: its dim is looked up once per connection (a
        // row a rolled-back transaction took with it still fails on the foreign key)
        if (!s->model_seen || s->model_seen != f->model_id) {
            if ((rc = prep(s, ST_MODEL_DIM, &st))) return rc;
            bind_i64(s, st, 1, f->model_id);
            rc = one_i64(s, st, "find model", &mdim);
            if (rc < 0) return rc;
            if (rc == 0) return fh_fail(FH_E_ARG, "store: no model %lld", (long long)f->model_id);
            s->model_seen = f->model_id, s->model_seen_dim = mdim;
        }
        if (mdim != f->dim)
            return fh_fail(FH_E_ARG, "store: model %lld has dim %lld, face has %d",
                           (long long)f->model_id, (long long)mdim, f->dim);
        f32_to_le(f->embedding, f->dim, s->emb_le);
    }
    f32_to_le(f->landmarks, 10, s->lm_le);
    struct db_stmt *st;
    if ((rc = prep(s, ST_FACE_ADD, &st))) return rc;
    bind_i64(s, st, 1, owner);
    bind_i64(s, st, 2, f->photo_id);
    bind_id(s, st, 3, f->person_id);
    bind_i64(s, st, 4, f->assigned);
    for (int k = 0; k < 4; k++) bind_i64(s, st, 5 + k, f->box[k]);
    bind_dbl(s, st, 9, f->det_score);
    bind_dbl(s, st, 10, f->blur);
    bind_dbl(s, st, 11, f->quality);
    bind_i64(s, st, 12, f->blurry);
    bind_i64(s, st, 13, f->trash);
    bind_id(s, st, 14, f->model_id);
    bind_i64(s, st, 15, f->dim);
    bind_blob(s, st, 16, s->lm_le, sizeof s->lm_le);
    bind_blob(s, st, 17, f->dim ? s->emb_le : NULL, (size_t)f->dim * 4);
    bind_blob(s, st, 18, f->thumb_size ? f->thumb : NULL, f->thumb_size);
    bind_text(s, st, 19, f->detector[0] ? f->detector : "mtcnn");
    rc = step(s, st, "insert face");
    if (rc == 1) {
        *id = db_col_i64(st, 0);
        return run(s, st, "insert face", NULL);
    }
    return rc < 0 ? rc : fh_fail(FH_E_DB, "store: insert face returned no id");
}

int store_face_get(struct store *s, int64_t owner, int64_t face_id, struct store_face *out) {
    FH_ASSERT(s && out);
    struct db_stmt *st;
    int rc = prep(s, ST_FACE_GET, &st);
    if (rc) return rc;
    bind_i64(s, st, 1, face_id);
    bind_i64(s, st, 2, owner);
    rc = step(s, st, "get face");
    if (rc < 0) return rc;
    if (rc == 0) return fh_fail(FH_E_NOTFOUND, "store: no face %lld", (long long)face_id);
    rc = face_row(st, 1, s->emb, out);
    if (rc == FH_OK && out->thumb) {
        rc = reserve((void **)&s->thumb, &s->thumb_cap, out->thumb_size);
        if (rc == FH_OK) {
            memcpy(s->thumb, out->thumb, out->thumb_size);
            out->thumb = s->thumb;
        }
    }
    finish(st);
    return rc;
}

static int faces_iterate(struct store *s, enum st_id id, int64_t owner, int64_t photo_id,
                         int with_blobs, int (*fn)(void *ctx, const struct store_face *f),
                         void *ctx) {
    float emb[STORE_EMB_MAX]; // this iteration's own: nested calls from fn cannot clobber it
    struct iter it;
    int rc = iter_begin(s, id, &it);
    if (rc) return rc;
    int paged = id != ST_FACE_OF_PHOTO;
    int64_t after = id == ST_FACE_EACH_AFTER ? photo_id : 0;
    for (;;) { // one page (all rows when not paged)
        bind_i64(s, it.st, 1, owner);
        bind_i64(s, it.st, 2, paged ? after : photo_id);
        if (paged) bind_i64(s, it.st, 3, FACE_PAGE);
        int got = 0;
        while ((rc = step(s, it.st, "list faces")) == 1) {
            struct store_face f;
            got++;
            if ((rc = face_row(it.st, with_blobs, emb, &f)) != FH_OK) break;
            after = f.id;
            if ((rc = fn(ctx, &f)) != 0) break;
        }
        if (rc) break; // an error or fn's stop (iter_end resets a statement left mid-page)
        if (!paged || got < FACE_PAGE) break;
    }
    iter_end(s, &it);
    return rc;
}

int store_faces_each(struct store *s, int64_t owner, int with_blobs,
                     int (*fn)(void *ctx, const struct store_face *f), void *ctx) {
    FH_ASSERT(s && fn);
    if (with_blobs < 0 || with_blobs > STORE_FACES_UNKNOWN)
        return fh_fail(FH_E_ARG, "store: with_blobs %d is not 0, 1, STORE_FACES_EMB or STORE_FACES_UNKNOWN",
                       with_blobs);
    enum st_id id = with_blobs == STORE_FACES_UNKNOWN ? ST_FACE_EACH_UNKNOWN
                    : with_blobs == STORE_FACES_EMB   ? ST_FACE_EACH_EMB
                    : with_blobs                      ? ST_FACE_EACH
                                                      : ST_FACE_EACH_LITE;
    return faces_iterate(s, id, owner, 0, with_blobs == STORE_FACES_UNKNOWN ? STORE_FACES_EMB : with_blobs, fn, ctx);
}

int store_faces_after(struct store *s, int64_t owner, int64_t after_id,
                      int (*fn)(void *ctx, const struct store_face *f), void *ctx) {
    FH_ASSERT(s && fn);
    return faces_iterate(s, ST_FACE_EACH_AFTER, owner, after_id, STORE_FACES_EMB, fn, ctx);
}

int store_faces_of_photo(struct store *s, int64_t owner, int64_t photo_id,
                         int (*fn)(void *ctx, const struct store_face *f), void *ctx) {
    FH_ASSERT(s && fn);
    return faces_iterate(s, ST_FACE_OF_PHOTO, owner, photo_id, 1, fn, ctx);
}

// Runs a two-id statement (?1, ?2).
static int run2(struct store *s, enum st_id id, int64_t a, int64_t b, const char *what) {
    struct db_stmt *st;
    int rc = prep(s, id, &st);
    if (rc) return rc;
    bind_i64(s, st, 1, a);
    bind_i64(s, st, 2, b);
    return run(s, st, what, NULL);
}

int store_face_assign(struct store *s, int64_t owner, int64_t face_id, int64_t person_id,
                      enum store_assign by) {
    FH_ASSERT(s);
    if (by != STORE_AUTO && by != STORE_USER)
        return fh_fail(FH_E_ARG, "store: assignment by %d is not STORE_AUTO or STORE_USER", by);
    WRITE_GUARD(s, "store_face_assign");
    int rc = face_owned(s, owner, face_id, NULL);
    if (rc == FH_OK && person_id) rc = person_owned(s, owner, person_id, NULL);
    if (rc == FH_OK && person_id && by == STORE_AUTO) {
        rc = is_rejected(s, face_id, person_id);
        if (rc == 1)
            rc = fh_fail(FH_E_ARG, "store: the user rejected face %lld from person %lld",
                         (long long)face_id, (long long)person_id);
    }
    if (rc) return rc;
    int own;
    if ((rc = tx_enter(s, &own))) return rc;
    if (person_id && by == STORE_USER)
        rc = run2(s, ST_REJECT_DEL, face_id, person_id, "delete reject");
    struct db_stmt *st;
    if (rc == FH_OK && (rc = prep(s, ST_FACE_SET, &st)) == FH_OK) {
        bind_i64(s, st, 1, face_id);
        bind_id(s, st, 2, person_id);
        bind_i64(s, st, 3, by);
        rc = run(s, st, "assign face", NULL);
    }
    // ids start at 1, so person 0 ("unknown") matches every person holding the face
    if (rc == FH_OK) rc = run2(s, ST_AVATAR_DROP, face_id, person_id, "drop avatar");
    return tx_leave(s, own, rc);
}

// Bulk automatic assignment. PostgreSQL: chunks of pairs as two bigint arrays in one UPDATE
// (a round trip per chunk, not per face); SQLite: one prepared UPDATE per face (in-process,
// cheap). Both skip pairs the user rejected and persons that are not the owner's.
#define ASSIGN_WHERE                                                                            \
    " AND faces.owner = ?3 AND EXISTS (SELECT 1 FROM persons p WHERE p.id = v.p AND p.owner = ?3)" \
    " AND NOT EXISTS (SELECT 1 FROM face_rejects r WHERE r.face_id = v.f AND r.person_id = v.p)"
static const char assign_pg[] =
    "UPDATE faces SET person_id = v.p, assigned = 0 FROM (SELECT unnest(CAST(?1 AS bigint[])) AS f,"
    " unnest(CAST(?2 AS bigint[])) AS p) v WHERE faces.id = v.f" ASSIGN_WHERE;
static const char assign_sqlite[] =
    "UPDATE faces SET person_id = ?2, assigned = 0 WHERE id = ?1 AND EXISTS (SELECT 1 FROM (SELECT ?1 AS f, ?2 AS p) v"
    " WHERE 1" ASSIGN_WHERE ")";
enum { ASSIGN_CHUNK = 5000 };

// "{a,b,c}" of n ids into buf (cap bytes): 0, or -1 when it does not fit
static int id_array(const int64_t *v, int n, char *buf, size_t cap) {
    size_t k = 0;
    buf[k++] = '{';
    for (int i = 0; i < n; i++) {
        int w = snprintf(buf + k, cap - k, i ? ",%lld" : "%lld", (long long)v[i]);
        if (w < 0 || (size_t)w >= cap - k) return -1;
        k += (size_t)w;
    }
    if (k + 2 > cap) return -1;
    buf[k++] = '}', buf[k] = 0;
    return 0;
}

int store_faces_assign_auto(struct store *s, int64_t owner, const int64_t *faces, const int64_t *persons, int n,
                            int *changed) {
    FH_ASSERT(s && (n == 0 || (faces && persons)));
    if (changed) *changed = 0;
    if (n < 0) return fh_fail(FH_E_ARG, "store: negative count %d", n);
    for (int i = 0; i < n; i++)
        if (persons[i] <= 0) return fh_fail(FH_E_ARG, "store: bulk assignment to person %lld", (long long)persons[i]);
    WRITE_GUARD(s, "store_faces_assign_auto");
    int own, rc;
    if ((rc = tx_enter(s, &own))) return rc;
    struct db_stmt *st = NULL;
    rc = db_prepare(s->db, s->kind == DB_PG ? assign_pg : assign_sqlite, 1, &st);
    if (rc) rc = fail_db(s, rc, "prepare");
    size_t cap = (size_t)ASSIGN_CHUNK * 21 + 4;
    char *fa = s->kind == DB_PG && !rc ? fh_malloc(cap) : NULL, *pa = s->kind == DB_PG && !rc ? fh_malloc(cap) : NULL;
    if (s->kind == DB_PG && !rc && (!fa || !pa)) rc = fh_fail(FH_E_NOMEM, "store: out of memory");
    for (int i = 0; !rc && i < n; i += s->kind == DB_PG ? ASSIGN_CHUNK : 1) {
        int m = s->kind == DB_PG ? (n - i < ASSIGN_CHUNK ? n - i : ASSIGN_CHUNK) : 1;
        if (s->kind == DB_PG) {
            if (id_array(faces + i, m, fa, cap) || id_array(persons + i, m, pa, cap)) {
                rc = fh_fail(FH_E_NOMEM, "store: id array too long");
                break;
            }
            db_bind_text(st, 1, fa);
            db_bind_text(st, 2, pa);
        } else {
            db_bind_i64(st, 1, faces[i]);
            db_bind_i64(st, 2, persons[i]);
        }
        db_bind_i64(st, 3, owner);
        int c = 0;
        rc = run(s, st, "assign faces", &c);
        if (!rc && changed) *changed += c;
    }
    fh_free(fa), fh_free(pa);
    db_finalize(st);
    if (!rc) {
        struct db_stmt *fx;
        if ((rc = prep(s, ST_AVATAR_FIX_OWNER, &fx)) == FH_OK) {
            bind_i64(s, fx, 1, owner);
            rc = run(s, fx, "fix avatars", NULL);
        }
    }
    return tx_leave(s, own, rc);
}

int store_faces_clear_auto(struct store *s, int64_t owner) {
    FH_ASSERT(s);
    WRITE_GUARD(s, "store_faces_clear_auto");
    int own, rc;
    if ((rc = tx_enter(s, &own))) return rc;
    struct db_stmt *st;
    if ((rc = prep(s, ST_FACE_CLEAR_AUTO, &st)) == FH_OK) {
        bind_i64(s, st, 1, owner);
        rc = run(s, st, "clear automatic assignments", NULL);
    }
    if (rc == FH_OK && (rc = prep(s, ST_AVATAR_FIX_OWNER, &st)) == FH_OK) {
        bind_i64(s, st, 1, owner);
        rc = run(s, st, "fix avatars", NULL);
    }
    return tx_leave(s, own, rc);
}

int store_face_reject(struct store *s, int64_t owner, int64_t face_id, int64_t person_id) {
    FH_ASSERT(s);
    WRITE_GUARD(s, "store_face_reject");
    int rc = face_owned(s, owner, face_id, NULL);
    if (rc == FH_OK) rc = person_owned(s, owner, person_id, NULL);
    if (rc) return rc;
    int own;
    if ((rc = tx_enter(s, &own))) return rc;
    rc = run2(s, ST_REJECT_ADD, face_id, person_id, "add reject");
    if (rc == FH_OK) rc = run2(s, ST_FACE_LEAVE, face_id, person_id, "unassign face");
    if (rc == FH_OK) {
        struct db_stmt *st;
        if ((rc = prep(s, ST_AVATAR_FIX_PERSON, &st)) == FH_OK) {
            bind_i64(s, st, 1, person_id);
            rc = run(s, st, "fix avatar", NULL);
        }
    }
    return tx_leave(s, own, rc);
}

int store_face_is_rejected(struct store *s, int64_t face_id, int64_t person_id) {
    FH_ASSERT(s);
    return is_rejected(s, face_id, person_id);
}

int store_rejects_each(struct store *s, int64_t owner,
                       int (*fn)(void *ctx, int64_t face_id, int64_t person_id), void *ctx) {
    FH_ASSERT(s && fn);
    struct iter it;
    int rc = iter_begin(s, ST_REJECT_EACH, &it);
    if (rc) return rc;
    bind_i64(s, it.st, 1, owner);
    while ((rc = step(s, it.st, "list rejects")) == 1)
        if ((rc = fn(ctx, db_col_i64(it.st, 0), db_col_i64(it.st, 1))) != 0) break;
    iter_end(s, &it);
    return rc;
}

int store_face_delete(struct store *s, int64_t owner, int64_t face_id) {
    FH_ASSERT(s);
    WRITE_GUARD(s, "store_face_delete");
    struct db_stmt *st;
    int rc, n = 0;
    if ((rc = prep(s, ST_FACE_DEL, &st))) return rc;
    bind_i64(s, st, 1, face_id);
    bind_i64(s, st, 2, owner);
    if ((rc = run(s, st, "delete face", &n))) return rc;
    return n ? FH_OK : fh_fail(FH_E_NOTFOUND, "store: no face %lld", (long long)face_id);
}

// ---- persons -------------------------------------------------------------------------------------------
static void person_row(struct db_stmt *st, struct store_person *p) {
    memset(p, 0, sizeof *p);
    p->id = db_col_i64(st, 0);
    p->name = (const char *)col_utext(st, 1);
    p->hidden = (int)db_col_i64(st, 2);
    p->avatar_face = db_col_i64(st, 3);
    p->avatar_by_user = (int)db_col_i64(st, 4);
    p->n_faces = (int)db_col_i64(st, 5);
    p->n_photos = (int)db_col_i64(st, 6);
}

int store_person_create(struct store *s, int64_t owner, const char *name, int64_t *id) {
    FH_ASSERT(s && id);
    int rc = check_str(name, "person name", 0, STORE_NAME_MAX);
    if (rc) return rc;
    WRITE_GUARD(s, "store_person_create");
    struct db_stmt *st;
    if ((rc = prep(s, ST_PERSON_ADD, &st))) return rc;
    bind_i64(s, st, 1, owner);
    bind_text(s, st, 2, person_name(name));
    rc = step(s, st, "create person");
    if (rc == 1) {
        *id = db_col_i64(st, 0);
        return run(s, st, "create person", NULL);
    }
    return rc < 0 ? rc : fh_fail(FH_E_DB, "store: create person returned no id");
}

int store_person_get(struct store *s, int64_t owner, int64_t id, struct store_person *out) {
    FH_ASSERT(s && out);
    struct db_stmt *st;
    int rc = prep(s, ST_PERSON_GET, &st);
    if (rc) return rc;
    bind_i64(s, st, 1, id);
    bind_i64(s, st, 2, owner);
    rc = step(s, st, "get person");
    if (rc < 0) return rc;
    if (rc == 0) return fh_fail(FH_E_NOTFOUND, "store: no person %lld", (long long)id);
    person_row(st, out);
    static const int cols[1] = {1};
    rc = copy_texts(s, st, cols, 1, &out->name);
    finish(st);
    return rc;
}

int store_person_find(struct store *s, int64_t owner, const char *name, struct store_person *out) {
    FH_ASSERT(s && out);
    int rc = check_str(name, "person name", 1, STORE_NAME_MAX);
    if (rc) return rc;
    struct db_stmt *st;
    if ((rc = prep(s, ST_PERSON_BY_NAME, &st))) return rc;
    bind_i64(s, st, 1, owner);
    bind_text(s, st, 2, name);
    int64_t id = 0;
    int n = 0;
    while ((rc = step(s, st, "find person")) == 1) {
        if (n++ == 0) id = db_col_i64(st, 0);
    }
    if (rc < 0) return rc;
    if (n == 0) return fh_fail(FH_E_NOTFOUND, "store: no person named '%s'", name);
    if (n > 1) return fh_fail(FH_E_ARG, "store: several persons are named '%s'", name);
    return store_person_get(s, owner, id, out);
}

static int person_update(struct store *s, enum st_id sid, int64_t owner, int64_t id,
                         const char *text, int64_t v, const char *what) {
    struct db_stmt *st;
    int rc, n = 0;
    if ((rc = prep(s, sid, &st))) return rc;
    bind_i64(s, st, 1, id);
    bind_i64(s, st, 2, owner);
    if (sid == ST_PERSON_RENAME)
        bind_text(s, st, 3, text);
    else
        bind_i64(s, st, 3, v);
    if ((rc = run(s, st, what, &n))) return rc;
    return n ? FH_OK : fh_fail(FH_E_NOTFOUND, "store: no person %lld", (long long)id);
}

int store_person_rename(struct store *s, int64_t owner, int64_t id, const char *name) {
    FH_ASSERT(s);
    int rc = check_str(name, "person name", 0, STORE_NAME_MAX);
    if (rc) return rc;
    WRITE_GUARD(s, "store_person_rename");
    return person_update(s, ST_PERSON_RENAME, owner, id, person_name(name), 0, "rename person");
}

int store_person_hide(struct store *s, int64_t owner, int64_t id, int hidden) {
    FH_ASSERT(s);
    WRITE_GUARD(s, "store_person_hide");
    return person_update(s, ST_PERSON_HIDE, owner, id, NULL, hidden != 0, "hide person");
}

int store_person_set_avatar(struct store *s, int64_t owner, int64_t id, int64_t face_id,
                            int by_user) {
    FH_ASSERT(s);
    WRITE_GUARD(s, "store_person_set_avatar");
    int user_pick = 0;
    int rc = person_owned(s, owner, id, &user_pick);
    if (rc) return rc;
    by_user = by_user != 0;
    if (user_pick && !by_user) return FH_OK; // the user's choice stands
    struct db_stmt *st;
    if (face_id) {
        if ((rc = prep(s, ST_FACE_IN_PERSON, &st))) return rc;
        bind_i64(s, st, 1, face_id);
        bind_i64(s, st, 2, owner);
        bind_i64(s, st, 3, id);
        rc = one_i64(s, st, "find face", NULL);
        if (rc < 0) return rc;
        if (rc == 0)
            return fh_fail(FH_E_ARG, "store: face %lld is not a face of person %lld",
                           (long long)face_id, (long long)id);
    }
    if ((rc = prep(s, ST_PERSON_AVATAR, &st))) return rc;
    bind_i64(s, st, 1, id);
    bind_id(s, st, 2, face_id);
    bind_i64(s, st, 3, face_id ? by_user : 0);
    return run(s, st, "set avatar", NULL);
}

int store_person_merge(struct store *s, int64_t owner, int64_t into, int64_t from) {
    FH_ASSERT(s);
    if (into == from)
        return fh_fail(FH_E_ARG, "store: cannot merge person %lld into itself", (long long)into);
    WRITE_GUARD(s, "store_person_merge");
    int rc = person_owned(s, owner, into, NULL);
    if (rc == FH_OK) rc = person_owned(s, owner, from, NULL);
    if (rc) return rc;
    int own;
    if ((rc = tx_enter(s, &own))) return rc;
    // order matters: carry rejects first, so the faces they name stay out of into
    rc = run2(s, ST_MERGE_REJECTS, into, from, "carry rejects");
    if (rc == FH_OK) rc = run2(s, ST_MERGE_DROP, into, from, "apply rejects");
    if (rc == FH_OK) rc = run2(s, ST_MERGE_MOVE, into, from, "move faces");
    if (rc == FH_OK) rc = run2(s, ST_MERGE_PERSON, into, from, "merge names");
    struct db_stmt *st;
    if (rc == FH_OK && (rc = prep(s, ST_PERSON_DEL, &st)) == FH_OK) {
        bind_i64(s, st, 1, from);
        rc = run(s, st, "delete merged person", NULL);
    }
    if (rc == FH_OK && (rc = prep(s, ST_AVATAR_FIX_PERSON, &st)) == FH_OK) {
        bind_i64(s, st, 1, into);
        rc = run(s, st, "fix avatar", NULL);
    }
    return tx_leave(s, own, rc);
}

int store_persons_each(struct store *s, int64_t owner,
                       int (*fn)(void *ctx, const struct store_person *p), void *ctx) {
    FH_ASSERT(s && fn);
    struct iter it;
    int rc = iter_begin(s, ST_PERSON_EACH, &it);
    if (rc) return rc;
    bind_i64(s, it.st, 1, owner);
    while ((rc = step(s, it.st, "list persons")) == 1) {
        struct store_person p;
        person_row(it.st, &p);
        if ((rc = fn(ctx, &p)) != 0) break;
    }
    iter_end(s, &it);
    return rc;
}

int store_persons_prune(struct store *s, int64_t owner) {
    FH_ASSERT(s);
    WRITE_GUARD(s, "store_persons_prune");
    struct db_stmt *st;
    int rc = prep(s, ST_PRUNE, &st);
    if (rc) return rc;
    bind_i64(s, st, 1, owner);
    return run(s, st, "prune persons", NULL);
}

// ---- for the store's other files (store_sql.h) ------------------------------------------------
int store_sql_prep(struct store *s, int slot, const char *sql, struct db_stmt **out) {
    FH_ASSERT(slot >= 0 && slot < STORE_XST_MAX);
    *out = NULL;
    if (!s->xst[slot]) {
        int rc = db_prepare(s->db, sql, 1, &s->xst[slot]);
        if (rc) return fail_db(s, rc, "prepare");
    }
    *out = s->xst[slot];
    return FH_OK;
}
void store_sql_bind_i64(struct store *s, struct db_stmt *st, int i, int64_t v) { bind_i64(s, st, i, v); }
void store_sql_bind_blob(struct store *s, struct db_stmt *st, int i, const void *p, size_t n) {
    bind_blob(s, st, i, p, n);
}
void store_sql_bind_text(struct store *s, struct db_stmt *st, int i, const char *t) {
    bind_text(s, st, i, t);
}
int store_sql_step(struct store *s, struct db_stmt *st, const char *what) { return step(s, st, what); }
int store_sql_run(struct store *s, struct db_stmt *st, const char *what, int *changes) {
    return run(s, st, what, changes);
}
int store_sql_one_i64(struct store *s, struct db_stmt *st, const char *what, int64_t *v) {
    return one_i64(s, st, what, v);
}
void store_sql_finish(struct db_stmt *st) { finish(st); }
int store_sql_copy_texts(struct store *s, struct db_stmt *st, const int *cols, int n,
                         const char **out) {
    return copy_texts(s, st, cols, n, out);
}
int store_sql_reserve(struct store *s, size_t n) { return reserve((void **)&s->str, &s->str_cap, n); }
char *store_sql_buffer(struct store *s) { return s->str; }
int store_sql_check_str(const char *v, const char *what, size_t lo, size_t hi) {
    return check_str(v, what, lo, hi);
}
int store_sql_is_hex64(const char *h) { return h && strnlen(h, 65) == 64 && is_hex64(h); }
int store_sql_writable(struct store *s, const char *what) {
    WRITE_GUARD(s, what);
    return FH_OK;
}
int store_sql_tx_enter(struct store *s, int *own) { return tx_enter(s, own); }
int store_sql_tx_leave(struct store *s, int own, int rc) { return tx_leave(s, own, rc); }
int store_sql_iter_begin(struct store *s, const char *sql, struct db_stmt **out) {
    int rc = db_prepare(s->db, sql, 0, out);
    if (rc) return fail_db(s, rc, "prepare");
    s->depth++;
    return FH_OK;
}
void store_sql_iter_end(struct store *s, struct db_stmt *st) {
    db_finalize(st);
    s->depth--;
}
int store_sql_kind(const struct store *s) { return s->kind; }

// ---- one-off statements for store_ops.c ----------------------------------------------------------
int store_sql(struct store *s, const char *sql, const int64_t *args, int n, const char *text,
              struct store_sql_row *row, const char *what) {
    FH_ASSERT(s && sql && n >= 0);
    if (s->depth) return refuse_in_iteration(what);
    struct db_stmt *st;
    int rc = db_prepare(s->db, sql, 0, &st);
    if (rc) return fail_db(s, rc, what);
    int np = db_param_count(st); // a statement may leave trailing args unused
    for (int i = 0; i < n && i < np; i++) db_bind_i64(st, i + 1, args[i]);
    if (text && n < np) db_bind_text(st, n + 1, text);
    int got = 0;
    while ((rc = db_step(st)) == 1) {
        if (row && got < 1) {
            row->i = db_col_i64(st, 0);
            const char *t = db_col_count(st) > 1 ? db_col_text(st, 1) : NULL;
            snprintf(row->text, sizeof row->text, "%s", t ? t : "");
        }
        if (row && row->each &&
            row->each(row->ctx, db_col_i64(st, 0), db_col_count(st) > 1 ? db_col_text(st, 1) : NULL)) {
            db_reset(st);
            rc = fh_fail(FH_E_NOMEM, "store: %s: out of memory", what);
            break;
        }
        got++;
    }
    int out = rc == 0 ? (got > 0) : rc == FH_E_NOMEM && row && row->each ? rc : fail_db(s, rc, what);
    db_finalize(st);
    return out;
}

int store_person_dissolve(struct store *s, int64_t owner, int64_t id) {
    FH_ASSERT(s);
    int rc = person_owned(s, owner, id, NULL);
    if (rc) return rc;
    int64_t a[2] = {id, owner};
    rc = store_sql(s, "UPDATE faces SET person_id = NULL, assigned = 1 WHERE person_id = ?1 AND owner = ?2", a, 2,
                   NULL, NULL, "dissolve person: faces");
    if (rc >= 0)
        rc = store_sql(s, "DELETE FROM persons WHERE id = ?1 AND owner = ?2", a, 2, NULL, NULL, "dissolve person");
    return rc < 0 ? rc : FH_OK;
}

// PostgreSQL: the text of the current snapshot (xmin:xmax:running xids) changes whenever a
// transaction that wrote anything commits or starts writing, and stays put while nobody
// writes; its FNV-1a hash is the stamp (a changed stamp may be a false alarm, never a miss).
int store_change_stamp(struct store *s, int64_t stamp[2]) {
    FH_ASSERT(s && stamp);
    int rc;
    if (s->kind == DB_PG) {
        char snap[512];
        rc = pragma_text(s, "SELECT pg_current_snapshot()::text", snap, sizeof snap);
        uint64_t h = 1469598103934665603ull;
        for (const char *p = snap; *p; p++) h = (h ^ (unsigned char)*p) * 1099511628211ull;
        stamp[0] = (int64_t)h;
    } else {
        rc = pragma_int(s, "PRAGMA data_version", &stamp[0]);
    }
    stamp[1] = db_total_changes(s->db);
    return rc;
}

int store_owner_forget_faces(struct store *s, int64_t owner) {
    FH_ASSERT(s);
    static const char *const q[] = {
        "DELETE FROM ops WHERE owner = ?1", // before-images hold embeddings and thumbnails
        "DELETE FROM persons WHERE owner = ?1",
        "DELETE FROM faces WHERE owner = ?1",
        "UPDATE photos SET sha256 = '' WHERE owner = ?1",
    };
    int rc = FH_OK;
    for (size_t i = 0; rc >= 0 && i < sizeof q / sizeof q[0]; i++)
        rc = store_sql(s, q[i], &owner, 1, NULL, NULL, "forget faces");
    return rc < 0 ? rc : FH_OK;
}
