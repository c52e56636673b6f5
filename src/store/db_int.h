// SPDX-License-Identifier: MIT
// db.h's two drivers: the handle types they share (one struct per handle, the engine's own
// part chosen by kind) and each driver's functions, which db.c dispatches to. Only db.c,
// db_sqlite.c and db_pg.c include this. The engines' types appear as their tagged structs
// (sqlite3, sqlite3_stmt, PGconn, PGresult are typedefs of these), so neither engine's
// header is needed here.
#ifndef FH_STORE_DB_INT_H
#define FH_STORE_DB_INT_H

#include "store/db.h"

struct sqlite3;
struct sqlite3_stmt;
struct pg_conn;
struct pg_result;

enum { DB_PG_PARAMS_MAX = 64 }; // more ?N than this in one statement is a bug in the SQL
enum { DB_NUM_BUF = 32 };       // one bound number as text

struct db {
    enum db_kind kind;
    char msg[512];             // the last failure's message
    struct sqlite3 *h;         // SQLite
    struct pg_conn *c;         // PostgreSQL: the connection, rows changed, statement names
    int changes;
    int64_t total;
    unsigned next_name;
};

struct db_stmt {
    struct db *db;
    int bind_rc;               // first failed bind since the last step (FH_E_* / SQLite rc)
    struct sqlite3_stmt *st;   // SQLite
    char *sql;                 // PostgreSQL: the rewritten SQL, prepared lazily
    int persistent, prepared;
    char name[24];
    int np;                    // highest $N
    unsigned types[DB_PG_PARAMS_MAX];
    const char *vals[DB_PG_PARAMS_MAX];
    int lens[DB_PG_PARAMS_MAX], fmts[DB_PG_PARAMS_MAX];
    char num[DB_PG_PARAMS_MAX][DB_NUM_BUF];
    struct pg_result *res;     // the running execution's rows; NULL before the first step
    int row, nrows, ncols;
    unsigned char **blob;      // per column: the decoded bytea of row blob_row[c]
    size_t *blob_n, *blob_cap;
    int *blob_row;
};

#define DB_DRIVER(p)                                                                        \
    void p##close(struct db *db);                                                           \
    int p##exec(struct db *db, const char *sql);                                            \
    int p##in_tx(struct db *db);                                                            \
    int p##changes(struct db *db);                                                          \
    int64_t p##total_changes(struct db *db);                                                \
    int p##busy_timeout(struct db *db, int ms);                                             \
    int p##prepare(struct db *db, const char *sql, int persistent, struct db_stmt **out);   \
    void p##finalize(struct db_stmt *st);                                                   \
    int p##param_count(struct db_stmt *st);                                                 \
    int p##bind_i64(struct db_stmt *st, int i, int64_t v);                                  \
    int p##bind_dbl(struct db_stmt *st, int i, double v);                                   \
    int p##bind_text(struct db_stmt *st, int i, const char *t);                             \
    int p##bind_blob(struct db_stmt *st, int i, const void *p, size_t n);                   \
    int p##bind_null(struct db_stmt *st, int i);                                            \
    int p##step(struct db_stmt *st);                                                        \
    void p##reset(struct db_stmt *st);                                                      \
    int p##col_count(struct db_stmt *st);                                                   \
    int p##col_null(struct db_stmt *st, int c);                                             \
    int64_t p##col_i64(struct db_stmt *st, int c);                                          \
    double p##col_dbl(struct db_stmt *st, int c);                                           \
    const char *p##col_text(struct db_stmt *st, int c);                                     \
    const void *p##col_blob(struct db_stmt *st, int c);                                     \
    size_t p##col_bytes(struct db_stmt *st, int c);
DB_DRIVER(sqd_)
DB_DRIVER(pgd_)
#undef DB_DRIVER

#endif
