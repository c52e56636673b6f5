// SPDX-License-Identifier: MIT
// store-private: store.c's statement helpers for the store's other files (store_auth.c), so
// every file of the module shares one statement cache, one error mapping, one transaction
// rule and the iteration guard. engine types stay inside store/: only store/*.c include this.
// Conventions are store.c's: binds record the first failure, which the next step reports;
// a step returns 1 (row), 0 (done, statement reset) or a negative FH_E_*.
#ifndef FH_STORE_SQL_H
#define FH_STORE_SQL_H

#include "store/db.h"

#include "store/store.h"

// Cached statements of the other files: slot 0..STORE_XST_MAX-1, one SQL text per slot
// (each file owns a range, see store_auth.c); prepared on first use, finalised at close.
#define STORE_XST_MAX 48
int store_sql_prep(struct store *s, int slot, const char *sql, struct db_stmt **out);
void store_sql_bind_i64(struct store *s, struct db_stmt *st, int i, int64_t v);
void store_sql_bind_blob(struct store *s, struct db_stmt *st, int i, const void *p, size_t n);
void store_sql_bind_text(struct store *s, struct db_stmt *st, int i, const char *t); // NULL -> NULL
int store_sql_step(struct store *s, struct db_stmt *st, const char *what);
// Steps to the end; *changes (may be NULL) gets sqlite3_changes.
int store_sql_run(struct store *s, struct db_stmt *st, const char *what, int *changes);
// At most one row, column 0 as an integer: 1 found (*v set), 0 none, negative error.
int store_sql_one_i64(struct store *s, struct db_stmt *st, const char *what, int64_t *v);
void store_sql_finish(struct db_stmt *st); // reset + clear bindings (after reading a row)
// Copies n (<= 4) text columns into the buffer of s (valid until the next store call).
int store_sql_copy_texts(struct store *s, struct db_stmt *st, const int *cols, int n,
                         const char **out);
// The buffer of s that store_*_get results point into, grown to at least n bytes.
int store_sql_reserve(struct store *s, size_t n);
char *store_sql_buffer(struct store *s);
// FH_E_ARG naming what if v is NULL (lo > 0), shorter than lo or longer than hi bytes.
int store_sql_check_str(const char *v, const char *what, size_t lo, size_t hi);
// 1 if h is exactly 64 hex digits (a SHA-256), else 0 (NULL too).
int store_sql_is_hex64(const char *h);
// FH_E_ARG if called from inside a store_*_each callback (writes are refused there).
int store_sql_writable(struct store *s, const char *what);
// A multi-statement write's own transaction when the caller has none open (store.c rule).
int store_sql_tx_enter(struct store *s, int *own);
int store_sql_tx_leave(struct store *s, int own, int rc);
// Iterations: a private statement (so callbacks may read through s), counted so that
// writes from the callback are refused. Always pair with store_sql_iter_end.
// DB_SQLITE or DB_PG: for the few statements written per dialect (the job queue)
int store_sql_kind(const struct store *s);
int store_sql_iter_begin(struct store *s, const char *sql, struct db_stmt **out);
void store_sql_iter_end(struct store *s, struct db_stmt *st);

#endif
