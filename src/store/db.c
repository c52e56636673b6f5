// SPDX-License-Identifier: MIT
// db.h: every call goes to the driver of the handle's engine (db_sqlite.c, db_pg.c).
#include "store/db_int.h"

#define CALL_DB(f, ...) (db->kind == DB_PG ? pgd_##f(__VA_ARGS__) : sqd_##f(__VA_ARGS__))
#define CALL_ST(f, ...) (st->db->kind == DB_PG ? pgd_##f(__VA_ARGS__) : sqd_##f(__VA_ARGS__))

void db_close(struct db *db) {
    if (db) CALL_DB(close, db);
}
enum db_kind db_kind(const struct db *db) { return db->kind; }
const char *db_errmsg(const struct db *db) { return db->msg; }
int db_exec(struct db *db, const char *sql) { return CALL_DB(exec, db, sql); }
int db_in_tx(struct db *db) { return CALL_DB(in_tx, db); }
int db_changes(struct db *db) { return CALL_DB(changes, db); }
int64_t db_total_changes(struct db *db) { return CALL_DB(total_changes, db); }
int db_busy_timeout(struct db *db, int ms) { return CALL_DB(busy_timeout, db, ms); }
int db_prepare(struct db *db, const char *sql, int persistent, struct db_stmt **out) {
    return CALL_DB(prepare, db, sql, persistent, out);
}
void db_finalize(struct db_stmt *st) {
    if (st) CALL_ST(finalize, st);
}
int db_param_count(struct db_stmt *st) { return CALL_ST(param_count, st); }
int db_bind_i64(struct db_stmt *st, int i, int64_t v) { return CALL_ST(bind_i64, st, i, v); }
int db_bind_dbl(struct db_stmt *st, int i, double v) { return CALL_ST(bind_dbl, st, i, v); }
int db_bind_text(struct db_stmt *st, int i, const char *t) { return CALL_ST(bind_text, st, i, t); }
int db_bind_blob(struct db_stmt *st, int i, const void *p, size_t n) {
    return CALL_ST(bind_blob, st, i, p, n);
}
int db_bind_null(struct db_stmt *st, int i) { return CALL_ST(bind_null, st, i); }
int db_step(struct db_stmt *st) { return CALL_ST(step, st); }
void db_reset(struct db_stmt *st) { CALL_ST(reset, st); }
int db_col_count(struct db_stmt *st) { return CALL_ST(col_count, st); }
int db_col_null(struct db_stmt *st, int c) { return CALL_ST(col_null, st, c); }
int64_t db_col_i64(struct db_stmt *st, int c) { return CALL_ST(col_i64, st, c); }
double db_col_dbl(struct db_stmt *st, int c) { return CALL_ST(col_dbl, st, c); }
const char *db_col_text(struct db_stmt *st, int c) { return CALL_ST(col_text, st, c); }
const void *db_col_blob(struct db_stmt *st, int c) { return CALL_ST(col_blob, st, c); }
size_t db_col_bytes(struct db_stmt *st, int c) { return CALL_ST(col_bytes, st, c); }
