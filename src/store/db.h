// SPDX-License-Identifier: MIT
// store-private: the two database engines behind one small statement interface, so that
// store.c, store_auth.c and store_ops.c are written once. db_sqlite.c drives SQLite (the
// embedded default); db_pg.c drives PostgreSQL 15 through libpq (issue 10: the state of a
// service with many workers). Only store/*.c include this; no engine type leaves it.
//
// SQL is written in one dialect, SQLite's portable subset with numbered parameters ?1..?N;
// the PostgreSQL driver rewrites what differs at prepare time:
//   ?N                      -> $N
//   INSERT OR IGNORE INTO … -> INSERT INTO … ON CONFLICT DO NOTHING
// Statements whose meaning differs (BEGIN IMMEDIATE, pragmas, schema) are chosen by the
// caller from db_kind(). Placeholders are typed by their first binding (int8, float8,
// text, bytea; a NULL binding lets PostgreSQL infer the type from the context).
//
// Results: db_step() returns 1 (a row is readable through db_col_*), 0 (done: the
// statement was reset and its bindings cleared) or a negative FH_E_* code; the engine's
// message for it is db_errmsg() (the caller wraps it with fh_fail). PostgreSQL results
// are read whole into memory at the first step (libpq), so a statement's rows stay
// readable while other statements run on the same connection, as SQLite allows.
// Errors: FH_E_BUSY (SQLite busy/locked; PostgreSQL lock timeout, deadlock, serialization
// failure), FH_E_NOMEM, FH_E_EXISTS (a unique constraint, PostgreSQL only: SQLite's
// callers test with ON CONFLICT instead), FH_E_DB (everything else, including a lost
// connection).
#ifndef FH_STORE_DB_H
#define FH_STORE_DB_H

#include <stddef.h>
#include <stdint.h>

enum db_kind { DB_SQLITE, DB_PG };

struct db;
struct db_stmt;

// Opening. sqlite: a file path or ":memory:" (created if absent). pg: a libpq connection
// URI (postgres://user@host:port/db?… or postgresql://…). On error *out is NULL, the
// return is FH_E_DB / FH_E_NOMEM and msg (n bytes) holds the reason.
int db_open_sqlite(const char *path, struct db **out, char *msg, size_t n);
int db_open_pg(const char *url, struct db **out, char *msg, size_t n);
void db_close(struct db *db);            // finalises nothing: close every statement first
enum db_kind db_kind(const struct db *db);
const char *db_errmsg(const struct db *db);

// Runs one or more statements without parameters or results (schema, BEGIN, pragmas).
int db_exec(struct db *db, const char *sql);
// 1 inside an open transaction (including a failed one awaiting ROLLBACK), else 0.
int db_in_tx(struct db *db);
// Rows changed by the last finished INSERT/UPDATE/DELETE; running total of this connection.
int db_changes(struct db *db);
int64_t db_total_changes(struct db *db);
// SQLite: the busy timeout in ms. PostgreSQL: lock_timeout for this session.
int db_busy_timeout(struct db *db, int ms);

// Statements. persistent: kept for reuse (SQLite's PREPARE_PERSISTENT; a named server-side
// prepared statement in PostgreSQL).
int db_prepare(struct db *db, const char *sql, int persistent, struct db_stmt **out);
void db_finalize(struct db_stmt *st);    // accepts NULL
int db_param_count(struct db_stmt *st);  // the highest ?N in the SQL
// Binds: i is 1-based. Text and blobs are borrowed until the next step or reset.
int db_bind_i64(struct db_stmt *st, int i, int64_t v);
int db_bind_dbl(struct db_stmt *st, int i, double v);
int db_bind_text(struct db_stmt *st, int i, const char *t);   // NULL binds NULL
int db_bind_blob(struct db_stmt *st, int i, const void *p, size_t n); // NULL binds NULL
int db_bind_null(struct db_stmt *st, int i);
int db_step(struct db_stmt *st);
void db_reset(struct db_stmt *st);       // back to the start, bindings cleared
// Columns of the current row (0-based). NULL reads as 0 / NULL; booleans as 0 / 1.
int db_col_count(struct db_stmt *st);
int db_col_null(struct db_stmt *st, int c);
int64_t db_col_i64(struct db_stmt *st, int c);
double db_col_dbl(struct db_stmt *st, int c);
const char *db_col_text(struct db_stmt *st, int c);          // NULL for NULL
const void *db_col_blob(struct db_stmt *st, int c);          // NULL for NULL or empty
size_t db_col_bytes(struct db_stmt *st, int c);              // text or blob length

#endif
