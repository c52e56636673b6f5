// SPDX-License-Identifier: MIT
// db.h over SQLite. Binds use SQLITE_STATIC (the data outlives the step, db.h's rule);
// the error text is copied at the failure, before a reset could replace it. SQLite's own
// allocations go through fh_malloc (installed once, before SQLite initialises), so
// fh_alloc_fail_after reaches them too.
#include "store/db_int.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "base/base.h"


// ---- SQLite's allocator through fh_malloc ------------------------------------------------
// SQLite needs xSize, so each block carries its size in a 16-byte header (which also keeps
// the 8-byte alignment SQLite asks for).
enum { SQ_HDR = 16 };
static void *sq_malloc(int n) {
    if (n <= 0) return NULL;
    unsigned char *p = fh_malloc((size_t)n + SQ_HDR);
    if (!p) return NULL;
    memcpy(p, &n, sizeof n);
    return p + SQ_HDR;
}
static void sq_free(void *p) {
    if (p) fh_free((unsigned char *)p - SQ_HDR);
}
static void *sq_realloc(void *p, int n) {
    if (!p) return sq_malloc(n);
    if (n <= 0) return NULL;
    unsigned char *q = fh_realloc((unsigned char *)p - SQ_HDR, (size_t)n + SQ_HDR);
    if (!q) return NULL;
    memcpy(q, &n, sizeof n);
    return q + SQ_HDR;
}
static int sq_size(void *p) {
    int n = 0;
    if (p) memcpy(&n, (unsigned char *)p - SQ_HDR, sizeof n);
    return n;
}
static int sq_roundup(int n) { return (n + 7) & ~7; }
static int sq_init(void *x) {
    (void)x;
    return SQLITE_OK;
}
static void sq_shutdown(void *x) { (void)x; }

static pthread_once_t sq_once = PTHREAD_ONCE_INIT;
static void sq_install(void) {
    static const sqlite3_mem_methods mm = {sq_malloc, sq_free,  sq_realloc,  sq_size,
                                           sq_roundup, sq_init, sq_shutdown, NULL};
    // Fails with SQLITE_MISUSE if something in the process initialised SQLite first; then
    // SQLite keeps its own allocator, which is only a loss for fault-injection tests.
    sqlite3_config(SQLITE_CONFIG_MALLOC, &mm);
}

// ---- errors ---------------------------------------------------------------------------------
static int code_of(int rc) {
    switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED: return FH_E_BUSY;
    case SQLITE_NOMEM: return FH_E_NOMEM;
    default: return FH_E_DB;
    }
}
static int fail(struct db *db, int rc) {
    snprintf(db->msg, sizeof db->msg, "%s", db->h ? sqlite3_errmsg(db->h) : sqlite3_errstr(rc));
    return code_of(rc);
}

// ---- connection ----------------------------------------------------------------------------------
int db_open_sqlite(const char *path, struct db **out, char *msg, size_t n) {
    *out = NULL;
    pthread_once(&sq_once, sq_install);
    struct db *db = fh_calloc(1, sizeof *db);
    if (!db) {
        snprintf(msg, n, "cannot allocate the handle");
        return FH_E_NOMEM;
    }
    db->kind = DB_SQLITE;
    // NOMUTEX: one handle per thread (store.h), so SQLite's per-connection mutex is not needed
    int rc = sqlite3_open_v2(path, &db->h,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                             NULL);
    if (rc == SQLITE_OK) rc = sqlite3_extended_result_codes(db->h, 1);
    if (rc != SQLITE_OK) {
        int e = db->h ? code_of(rc) : FH_E_NOMEM;
        snprintf(msg, n, "%s", db->h ? sqlite3_errmsg(db->h) : sqlite3_errstr(rc));
        sqlite3_close(db->h);
        fh_free(db);
        return e;
    }
    *out = db;
    return FH_OK;
}

void sqd_close(struct db *db) {
    if (db->h) {
        if (!sqlite3_get_autocommit(db->h)) sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
        sqlite3_close(db->h); // every statement is finalised by then, so this closes
    }
    fh_free(db);
}


int sqd_exec(struct db *db, const char *sql) {
    int rc = sqlite3_exec(db->h, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? FH_OK : fail(db, rc);
}
int sqd_in_tx(struct db *db) { return !sqlite3_get_autocommit(db->h); }
int sqd_changes(struct db *db) { return sqlite3_changes(db->h); }
int64_t sqd_total_changes(struct db *db) { return sqlite3_total_changes64(db->h); }
int sqd_busy_timeout(struct db *db, int ms) {
    int rc = sqlite3_busy_timeout(db->h, ms);
    return rc == SQLITE_OK ? FH_OK : fail(db, rc);
}

// ---- statements ---------------------------------------------------------------------------------
int sqd_prepare(struct db *db, const char *sql, int persistent, struct db_stmt **out) {
    *out = NULL;
    struct db_stmt *st = fh_calloc(1, sizeof *st);
    if (!st) {
        snprintf(db->msg, sizeof db->msg, "cannot allocate a statement");
        return FH_E_NOMEM;
    }
    int rc = sqlite3_prepare_v3(db->h, sql, -1, persistent ? SQLITE_PREPARE_PERSISTENT : 0,
                                &st->st, NULL);
    if (rc != SQLITE_OK) {
        fh_free(st);
        return fail(db, rc);
    }
    st->db = db;
    *out = st;
    return FH_OK;
}

void sqd_finalize(struct db_stmt *st) {
    if (!st) return;
    sqlite3_finalize(st->st);
    fh_free(st);
}

int sqd_param_count(struct db_stmt *st) { return sqlite3_bind_parameter_count(st->st); }

static int noted(struct db_stmt *st, int rc) {
    if (rc != SQLITE_OK && st->bind_rc == SQLITE_OK) st->bind_rc = rc;
    return rc == SQLITE_OK ? FH_OK : code_of(rc);
}
int sqd_bind_i64(struct db_stmt *st, int i, int64_t v) {
    return noted(st, sqlite3_bind_int64(st->st, i, v));
}
int sqd_bind_dbl(struct db_stmt *st, int i, double v) {
    return noted(st, sqlite3_bind_double(st->st, i, v));
}
int sqd_bind_text(struct db_stmt *st, int i, const char *t) {
    return noted(st, t ? sqlite3_bind_text(st->st, i, t, -1, SQLITE_STATIC)
                       : sqlite3_bind_null(st->st, i));
}
int sqd_bind_blob(struct db_stmt *st, int i, const void *p, size_t n) {
    if (p && n > 0x7fffffff) return noted(st, SQLITE_TOOBIG);
    return noted(st, p ? sqlite3_bind_blob(st->st, i, p, (int)n, SQLITE_STATIC)
                       : sqlite3_bind_null(st->st, i));
}
int sqd_bind_null(struct db_stmt *st, int i) { return noted(st, sqlite3_bind_null(st->st, i)); }

void sqd_reset(struct db_stmt *st) {
    sqlite3_reset(st->st);
    sqlite3_clear_bindings(st->st);
    st->bind_rc = SQLITE_OK;
}

int sqd_step(struct db_stmt *st) {
    int rc = st->bind_rc;
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(st->st);
        if (rc == SQLITE_ROW) return 1;
        if (rc == SQLITE_DONE) {
            sqd_reset(st);
            return 0;
        }
    }
    int e = fail(st->db, rc); // before the reset, while errmsg is this failure's
    sqd_reset(st);
    return e;
}

int sqd_col_count(struct db_stmt *st) { return sqlite3_column_count(st->st); }
int sqd_col_null(struct db_stmt *st, int c) { return sqlite3_column_type(st->st, c) == SQLITE_NULL; }
int64_t sqd_col_i64(struct db_stmt *st, int c) { return sqlite3_column_int64(st->st, c); }
double sqd_col_dbl(struct db_stmt *st, int c) { return sqlite3_column_double(st->st, c); }
const char *sqd_col_text(struct db_stmt *st, int c) {
    return (const char *)sqlite3_column_text(st->st, c);
}
const void *sqd_col_blob(struct db_stmt *st, int c) { return sqlite3_column_blob(st->st, c); }
size_t sqd_col_bytes(struct db_stmt *st, int c) { return (size_t)sqlite3_column_bytes(st->st, c); }
