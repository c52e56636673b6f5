// SPDX-License-Identifier: MIT
// store-private: the schema's migration steps (schema.c) and the runner (store.c), shared
// between the two files and reachable by tests/unit/test_store.c to exercise the framework
// with made-up steps. Not part of the public API; no SQLite types here either.
#ifndef FH_STORE_INT_H
#define FH_STORE_INT_H

#include "store/store.h"

// PRAGMA application_id of a facehatch database ("FHDB"): tells our files from other
// SQLite files before anything is written.
#define STORE_APPLICATION_ID 0x46484442

// store_migrations[k] is the SQL (one or more statements) taking a database from
// user_version k to k + 1. Released steps are never edited, only appended.
extern const char *const store_migrations[STORE_SCHEMA_VERSION];
extern const char store_schema_domain[]; // schema_domain.c: photos/persons/faces rebuilt
                                          // with AUTOINCREMENT, photos.orig_name, ops log

// The job queue's table (schema step 5), in either dialect: ID is the id column's type
// (INTEGER PRIMARY KEY AUTOINCREMENT / an identity column), INT the integer type, BLOB the
// bytes type. kind: "index" (a photo: a path the worker reads, or the upload's bytes in
// data) or "cluster" (form persons from the owner's unknown faces). state: 0 queued, 1
// running (under a lease), 2 done, 3 failed. lease_token counts the claims: the worker that
// completes a job must hold the latest one (fencing), so a worker that lost its lease can
// never commit. At most one queued job per (owner, kind, path); a running one may have a
// queued successor (the photo changed again, more faces to cluster).
#define STORE_JOBS_TABLE(ID, INT, BLOB)                                                     \
    "CREATE TABLE jobs ("                                                                   \
    "  id " ID ","                                                                          \
    "  owner " INT " NOT NULL REFERENCES users (id) ON DELETE CASCADE,"                     \
    "  kind TEXT NOT NULL,"                                                                 \
    "  path TEXT NOT NULL,"                                                                 \
    "  orig_name TEXT,"                                                                     \
    "  data " BLOB ","                                                                      \
    "  state " INT " NOT NULL DEFAULT 0 CHECK (state IN (0, 1, 2, 3)),"                     \
    "  attempts " INT " NOT NULL DEFAULT 0,"                                                \
    "  lease_token " INT " NOT NULL DEFAULT 0,"                                             \
    "  lease_until " INT " NOT NULL DEFAULT 0,"                                             \
    "  worker TEXT,"                                                                        \
    "  created " INT " NOT NULL,"                                                           \
    "  finished " INT " NOT NULL DEFAULT 0,"                                                \
    "  error TEXT"                                                                          \
    ");"                                                                                    \
    "CREATE UNIQUE INDEX jobs_queued ON jobs (owner, kind, path) WHERE state = 0;"          \
    "CREATE INDEX jobs_state ON jobs (state, id);"

// Re-embedding (schema step 6, store_reembed.c): a face's vector from the model being
// switched to, staged while faces keep the old one until every face has its row
// (store_reembed_swap). embedding NULL with dim 0: the face could not be re-embedded (its
// photo file is gone) and keeps no vector under the new model. Rows go with their face.
#define STORE_FACE_NEXT_TABLE(INT, BLOB)                                                    \
    "CREATE TABLE face_next ("                                                              \
    "  face_id " INT " PRIMARY KEY REFERENCES faces (id) ON DELETE CASCADE,"                \
    "  model_id " INT " NOT NULL REFERENCES models (id),"                                   \
    "  dim " INT " NOT NULL CHECK (dim >= 0),"                                              \
    "  embedding " BLOB                                                                     \
    ");"                                                                                    \
    "CREATE INDEX face_next_model ON face_next (model_id);"

// PostgreSQL's migration steps (schema_pg.c): step k takes the version from the previous
// step's `to` (0 for the first) to its own; the first builds everything at once.
struct store_pg_step {
    int to;
    const char *sql;
};
extern const struct store_pg_step store_pg_migrations[];
extern const int store_pg_n_migrations;
// Advisory lock keys: the migration (session lock) and the write lock every transaction
// takes first (store_begin), which gives PostgreSQL SQLite's one-writer-at-a-time rule that
// the store's read-then-write functions rely on. Both "FHDB"-derived, arbitrary otherwise.
#define STORE_PG_MIGRATE_LOCK 1178682433
#define STORE_PG_WRITE_LOCK 1178682434

// Runs steps[v .. n_steps-1] where v is the database's user_version, each step in its own
// BEGIN IMMEDIATE transaction that also sets user_version (and application_id). v is
// re-read inside each transaction, so two processes opening a new file at once do not both
// migrate. A failing step rolls back, leaves the version at its start and returns the error.
// A database newer than n_steps is FH_E_DB.
int store_migrate(struct store *s, const char *const *steps, int n_steps);
// The database's PRAGMA user_version.
int store_schema_version(struct store *s, int *version);

// One statement on s's connection (prepared each call: for rare paths like the op log).
// args bind ?1..?n, text (if not NULL) ?n+1. With row: the first result row's column 0 goes to
// row->i and column 1 (as text, truncated) to row->text; row->each, if set, is called for
// every row with columns 0 and 1 (non-zero stops with FH_E_NOMEM). Returns 1 if the statement
// produced a row, 0 if not, or FH_E_*; refused (FH_E_ARG) inside an iteration.
struct store_sql_row {
    int64_t i;
    char text[512];
    int (*each)(void *ctx, int64_t i, const char *text);
    void *ctx;
};
int store_sql(struct store *s, const char *sql, const int64_t *args, int n, const char *text,
              struct store_sql_row *row, const char *what);

#endif
