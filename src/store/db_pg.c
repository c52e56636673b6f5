// SPDX-License-Identifier: MIT
// db.h over PostgreSQL (libpq). Design:
// - SQL arrives in db.h's dialect and is rewritten once at prepare (?N -> $N, INSERT OR
//   IGNORE -> ON CONFLICT DO NOTHING); quoted strings and identifiers are copied as they are.
// - A persistent statement becomes a named server-side prepared statement, prepared at its
//   first step, when the bindings tell the parameter types; a one-off statement is sent with
//   PQexecParams. Parameters travel as text, blobs as binary bytea.
// - The first step runs the statement and keeps the whole result (PGresult); later steps
//   walk its rows. Results come back as text; bytea ("\x" hex) is decoded per column on
//   first read, into a buffer of the statement, valid until the next step or reset.
// - Errors map by SQLSTATE: 40001 / 40P01 / 55P03 -> FH_E_BUSY, 53200 -> FH_E_NOMEM,
//   23505 -> FH_E_EXISTS, the rest FH_E_DB; the server's message is copied.
// - libpq's notices (e.g. "relation already exists, skipping") are dropped: a library
//   never prints.
#include "store/db_int.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"

enum { OID_BOOL = 16, OID_BYTEA = 17, OID_INT8 = 20, OID_FLOAT8 = 701 };



static void quiet(void *arg, const char *message) {
    (void)arg;
    (void)message;
}

static void set_msg(struct db *db, const char *m) {
    snprintf(db->msg, sizeof db->msg, "%s", m && *m ? m : "unknown PostgreSQL error");
    size_t n = strlen(db->msg);
    while (n && (db->msg[n - 1] == '\n' || db->msg[n - 1] == ' ')) db->msg[--n] = 0;
}

static int code_of_state(const char *state) {
    if (!state) return FH_E_DB;
    if (!strcmp(state, "40001") || !strcmp(state, "40P01") || !strcmp(state, "55P03"))
        return FH_E_BUSY;
    if (!strcmp(state, "53200")) return FH_E_NOMEM;
    if (!strcmp(state, "23505")) return FH_E_EXISTS;
    return FH_E_DB;
}

// The result of a command: FH_OK for success (changes counted), else the mapped code.
static int check_result(struct db *db, PGresult *r) {
    ExecStatusType t = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (t == PGRES_COMMAND_OK || t == PGRES_TUPLES_OK) {
        const char *cmd = PQcmdStatus(r);
        if (!strncmp(cmd, "INSERT", 6) || !strncmp(cmd, "UPDATE", 6) || !strncmp(cmd, "DELETE", 6)) {
            db->changes = atoi(PQcmdTuples(r));
            db->total += db->changes;
        }
        return FH_OK;
    }
    if (!r) {
        set_msg(db, PQerrorMessage(db->c));
        return PQstatus(db->c) == CONNECTION_OK ? FH_E_NOMEM : FH_E_DB;
    }
    set_msg(db, PQresultErrorMessage(r));
    return code_of_state(PQresultErrorField(r, PG_DIAG_SQLSTATE));
}

// ---- connection ----------------------------------------------------------------------------------
int db_open_pg(const char *url, struct db **out, char *msg, size_t n) {
    *out = NULL;
    struct db *db = fh_calloc(1, sizeof *db);
    if (!db) {
        snprintf(msg, n, "cannot allocate the handle");
        return FH_E_NOMEM;
    }
    db->kind = DB_PG;
    // defaults first: values in the URL override them (libpq's expand_dbname order)
    const char *keys[] = {"connect_timeout", "application_name", "dbname", NULL};
    const char *vals[] = {"10", "facehatch", url, NULL};
    db->c = PQconnectdbParams(keys, vals, 1);
    if (!db->c || PQstatus(db->c) != CONNECTION_OK) {
        set_msg(db, db->c ? PQerrorMessage(db->c) : "out of memory");
        snprintf(msg, n, "%s", db->msg);
        int e = db->c ? FH_E_DB : FH_E_NOMEM;
        PQfinish(db->c);
        fh_free(db);
        return e;
    }
    PQsetNoticeProcessor(db->c, quiet, NULL);
    // text results we parse: hex bytea, UTF-8, shortest exact floats; quiet notices
    int rc = pgd_exec(db, "SET bytea_output = 'hex'; SET client_encoding = 'UTF8';"
                         " SET extra_float_digits = 1; SET client_min_messages = 'warning'");
    if (rc) {
        snprintf(msg, n, "%s", db->msg);
        pgd_close(db);
        return rc;
    }
    *out = db;
    return FH_OK;
}

void pgd_close(struct db *db) {
    PQfinish(db->c); // an open transaction is rolled back by the server
    fh_free(db);
}


int pgd_exec(struct db *db, const char *sql) {
    PGresult *r = PQexec(db->c, sql);
    int rc = check_result(db, r);
    // COMMIT of a transaction that an earlier error aborted "succeeds" as a ROLLBACK:
    // the caller must hear that nothing was written
    if (rc == FH_OK && !strncmp(sql, "COMMIT", 6) && !strcmp(PQcmdStatus(r), "ROLLBACK")) {
        set_msg(db, "the transaction was rolled back: a statement in it had failed");
        rc = FH_E_DB;
    }
    PQclear(r);
    return rc;
}

int pgd_in_tx(struct db *db) {
    PGTransactionStatusType t = PQtransactionStatus(db->c);
    return t == PQTRANS_INTRANS || t == PQTRANS_INERROR || t == PQTRANS_ACTIVE;
}
int pgd_changes(struct db *db) { return db->changes; }
int64_t pgd_total_changes(struct db *db) { return db->total; }

int pgd_busy_timeout(struct db *db, int ms) {
    char sql[64];
    snprintf(sql, sizeof sql, "SET lock_timeout = %d", ms);
    return pgd_exec(db, sql);
}

// ---- the dialect -----------------------------------------------------------------------------------
// Copies sql with ?N -> $N and INSERT OR IGNORE INTO -> INSERT INTO ... ON CONFLICT DO
// NOTHING; *np gets the highest N. NULL on allocation failure.
static char *rewrite(const char *sql, int *np) {
    size_t n = strlen(sql);
    char *o = fh_malloc(n + 32);
    if (!o) return NULL;
    size_t j = 0;
    int ignore = 0, maxp = 0;
    static const char oi[] = "INSERT OR IGNORE INTO";
    for (size_t i = 0; i < n;) {
        char c = sql[i];
        if (c == '\'' || c == '"') { // a quoted string or identifier, '' / "" escapes included
            o[j++] = sql[i++];
            while (i < n) {
                o[j++] = sql[i];
                if (sql[i++] == c) {
                    if (i < n && sql[i] == c) o[j++] = sql[i++];
                    else break;
                }
            }
            continue;
        }
        if (c == '?' && i + 1 < n && sql[i + 1] >= '0' && sql[i + 1] <= '9') {
            int v = 0;
            o[j++] = '$';
            for (i++; i < n && sql[i] >= '0' && sql[i] <= '9'; i++) {
                v = v * 10 + (sql[i] - '0');
                o[j++] = sql[i];
            }
            if (v > maxp) maxp = v;
            continue;
        }
        if (c == 'I' && !strncmp(sql + i, oi, sizeof oi - 1)) {
            memcpy(o + j, "INSERT INTO", 11);
            j += 11;
            i += sizeof oi - 1;
            ignore = 1;
            continue;
        }
        o[j++] = sql[i++];
    }
    if (ignore) {
        static const char tail[] = " ON CONFLICT DO NOTHING";
        memcpy(o + j, tail, sizeof tail - 1);
        j += sizeof tail - 1;
    }
    o[j] = 0;
    *np = maxp;
    return o;
}

// ---- statements ---------------------------------------------------------------------------------
int pgd_prepare(struct db *db, const char *sql, int persistent, struct db_stmt **out) {
    *out = NULL;
    struct db_stmt *st = fh_calloc(1, sizeof *st);
    int np = 0;
    char *q = st ? rewrite(sql, &np) : NULL;
    if (!q) {
        fh_free(st);
        snprintf(db->msg, sizeof db->msg, "cannot allocate a statement");
        return FH_E_NOMEM;
    }
    if (np > DB_PG_PARAMS_MAX) {
        fh_free(q);
        fh_free(st);
        snprintf(db->msg, sizeof db->msg, "statement has %d parameters, more than %d", np,
                 DB_PG_PARAMS_MAX);
        return FH_E_DB;
    }
    st->db = db;
    st->sql = q;
    st->np = np;
    st->persistent = persistent;
    if (persistent) snprintf(st->name, sizeof st->name, "fh%u", db->next_name++);
    *out = st;
    return FH_OK;
}

static void drop_result(struct db_stmt *st) {
    PQclear(st->res);
    st->res = NULL;
    if (st->blob)
        for (int c = 0; c < st->ncols; c++) fh_free(st->blob[c]);
    fh_free(st->blob);
    fh_free(st->blob_n);
    fh_free(st->blob_cap);
    fh_free(st->blob_row);
    st->blob = NULL;
    st->blob_n = st->blob_cap = NULL;
    st->blob_row = NULL;
    st->row = st->nrows = st->ncols = 0;
}

static void clear_binds(struct db_stmt *st) {
    for (int i = 0; i < st->np; i++) {
        st->vals[i] = NULL;
        st->lens[i] = st->fmts[i] = 0;
    }
    st->bind_rc = FH_OK;
}

void pgd_reset(struct db_stmt *st) {
    drop_result(st);
    clear_binds(st);
}

void pgd_finalize(struct db_stmt *st) {
    if (!st) return;
    // a named statement lives until the connection closes (persistent ones are only
    // finalised by store_close, right before it)
    drop_result(st);
    fh_free(st->sql);
    fh_free(st);
}

int pgd_param_count(struct db_stmt *st) { return st->np; }

static int param(struct db_stmt *st, int i, Oid type) {
    if (i < 1 || i > st->np) {
        snprintf(st->db->msg, sizeof st->db->msg, "bind index %d outside 1..%d", i, st->np);
        if (st->bind_rc == FH_OK) st->bind_rc = FH_E_DB;
        return -1;
    }
    // the first typed binding fixes a named statement's parameter type
    if (type && (!st->prepared || !st->persistent)) st->types[i - 1] = type;
    return i - 1;
}

int pgd_bind_i64(struct db_stmt *st, int i, int64_t v) {
    int k = param(st, i, OID_INT8);
    if (k < 0) return st->bind_rc;
    snprintf(st->num[k], DB_NUM_BUF, "%lld", (long long)v);
    st->vals[k] = st->num[k];
    st->fmts[k] = 0;
    return FH_OK;
}
int pgd_bind_dbl(struct db_stmt *st, int i, double v) {
    int k = param(st, i, OID_FLOAT8);
    if (k < 0) return st->bind_rc;
    snprintf(st->num[k], DB_NUM_BUF, "%.17g", v);
    st->vals[k] = st->num[k];
    st->fmts[k] = 0;
    return FH_OK;
}
int pgd_bind_text(struct db_stmt *st, int i, const char *t) {
    int k = param(st, i, 0); // unknown: the server infers it from the context
    if (k < 0) return st->bind_rc;
    st->vals[k] = t;
    st->fmts[k] = 0;
    return FH_OK;
}
int pgd_bind_blob(struct db_stmt *st, int i, const void *p, size_t n) {
    int k = param(st, i, OID_BYTEA);
    if (k < 0) return st->bind_rc;
    if (n > 0x3fffffff) {
        snprintf(st->db->msg, sizeof st->db->msg, "blob of %zu bytes is too big", n);
        if (st->bind_rc == FH_OK) st->bind_rc = FH_E_DB;
        return st->bind_rc;
    }
    static const char empty[1] = {0};
    st->vals[k] = p ? (n ? p : empty) : NULL;
    st->lens[k] = (int)n;
    st->fmts[k] = 1;
    return FH_OK;
}
int pgd_bind_null(struct db_stmt *st, int i) {
    int k = param(st, i, 0);
    if (k < 0) return st->bind_rc;
    st->vals[k] = NULL;
    return FH_OK;
}

static int execute(struct db_stmt *st) {
    struct db *db = st->db;
    PGresult *r;
    if (st->persistent) {
        if (!st->prepared) {
            r = PQprepare(db->c, st->name, st->sql, st->np, (const Oid *)st->types);
            int rc = check_result(db, r);
            PQclear(r);
            if (rc) return rc;
            st->prepared = 1;
        }
        r = PQexecPrepared(db->c, st->name, st->np, st->vals, st->lens, st->fmts, 0);
    } else {
        r = PQexecParams(db->c, st->sql, st->np, (const Oid *)st->types, st->vals, st->lens, st->fmts, 0);
    }
    int rc = check_result(db, r);
    if (rc) {
        PQclear(r);
        return rc;
    }
    st->res = r;
    st->nrows = PQntuples(r);
    st->ncols = PQnfields(r);
    st->row = -1;
    if (st->ncols) {
        st->blob = fh_calloc((size_t)st->ncols, sizeof *st->blob);
        st->blob_n = fh_calloc((size_t)st->ncols, sizeof *st->blob_n);
        st->blob_cap = fh_calloc((size_t)st->ncols, sizeof *st->blob_cap);
        st->blob_row = fh_calloc((size_t)st->ncols, sizeof *st->blob_row);
        if (!st->blob || !st->blob_n || !st->blob_cap || !st->blob_row) {
            snprintf(db->msg, sizeof db->msg, "cannot allocate a result");
            return FH_E_NOMEM;
        }
        for (int c = 0; c < st->ncols; c++) st->blob_row[c] = -1;
    }
    return FH_OK;
}

int pgd_step(struct db_stmt *st) {
    int rc = st->bind_rc;
    if (rc == FH_OK && !st->res) rc = execute(st);
    if (rc) {
        pgd_reset(st);
        return rc;
    }
    if (++st->row < st->nrows) return 1;
    pgd_reset(st);
    return 0;
}

int pgd_col_count(struct db_stmt *st) { return st->ncols; }
static int bad_col(struct db_stmt *st, int c) {
    return !st->res || c < 0 || c >= st->ncols || st->row < 0 || st->row >= st->nrows;
}
int pgd_col_null(struct db_stmt *st, int c) {
    return bad_col(st, c) || PQgetisnull(st->res, st->row, c);
}
int64_t pgd_col_i64(struct db_stmt *st, int c) {
    if (pgd_col_null(st, c)) return 0;
    const char *v = PQgetvalue(st->res, st->row, c);
    if (PQftype(st->res, c) == OID_BOOL) return v[0] == 't';
    return strtoll(v, NULL, 10);
}
double pgd_col_dbl(struct db_stmt *st, int c) {
    if (pgd_col_null(st, c)) return 0;
    return strtod(PQgetvalue(st->res, st->row, c), NULL);
}
const char *pgd_col_text(struct db_stmt *st, int c) {
    if (pgd_col_null(st, c)) return NULL;
    return PQgetvalue(st->res, st->row, c);
}

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// Decodes the bytea of column c of the current row ("\x" + hex digits) into the column's
// buffer. Anything else (a text column read as a blob) is returned as its bytes.
static const unsigned char *blob_of(struct db_stmt *st, int c, size_t *n) {
    *n = 0;
    if (pgd_col_null(st, c)) return NULL;
    const char *v = PQgetvalue(st->res, st->row, c);
    size_t len = (size_t)PQgetlength(st->res, st->row, c);
    if (PQftype(st->res, c) != OID_BYTEA) {
        *n = len;
        return (const unsigned char *)v;
    }
    if (st->blob_row[c] == st->row) {
        *n = st->blob_n[c];
        return st->blob[c];
    }
    if (len < 2 || v[0] != '\\' || v[1] != 'x' || (len & 1)) return NULL; // not hex output
    size_t m = (len - 2) / 2;
    if (m + 1 > st->blob_cap[c]) {
        unsigned char *b = fh_realloc(st->blob[c], m + 1);
        if (!b) return NULL;
        st->blob[c] = b;
        st->blob_cap[c] = m + 1;
    }
    for (size_t i = 0; i < m; i++) {
        int hi = hexval(v[2 + 2 * i]), lo = hexval(v[3 + 2 * i]);
        if (hi < 0 || lo < 0) return NULL;
        st->blob[c][i] = (unsigned char)(hi << 4 | lo);
    }
    st->blob_row[c] = st->row;
    st->blob_n[c] = m;
    *n = m;
    return st->blob[c];
}

const void *pgd_col_blob(struct db_stmt *st, int c) {
    size_t n;
    const unsigned char *p = blob_of(st, c, &n);
    return n ? p : NULL;
}
size_t pgd_col_bytes(struct db_stmt *st, int c) {
    size_t n;
    blob_of(st, c, &n);
    return n;
}
