// SPDX-License-Identifier: MIT
// The job queue (issue 10): indexing work as rows, claimed by any number of worker
// processes. Table in store_int.h (STORE_JOBS_TABLE); API and rules in store.h ("job
// queue"). Times are the database's clock (workers on several machines share one), in
// whole seconds. PostgreSQL claims with FOR UPDATE SKIP LOCKED, so concurrent claims
// never wait for each other and never take the same row; SQLite's single writer makes
// its plain UPDATE … WHERE id = (SELECT …) just as exclusive.
#include <stdio.h>
#include <string.h>

#include "store/store_int.h"
#include "store/store_sql.h"

enum {
    XJ_BASE = 24, // store_sql.h slots 24.. (store_auth.c has 0..19)
    XJ_ADD = XJ_BASE,
    XJ_CLAIM,
    XJ_BEAT,
    XJ_FINISH,
    XJ_COUNT,
    XJ_PURGE,
    XJ_END
};
_Static_assert(XJ_END <= STORE_XST_MAX, "store_sql.h statement slots");

#define NOW_SQLITE "CAST(strftime('%s', 'now') AS INTEGER)"
#define NOW_PG "CAST(EXTRACT(EPOCH FROM clock_timestamp()) AS BIGINT)"

// claim: a queued job, or a running one whose lease ran out; index jobs before cluster
// jobs; a cluster job only once its owner has no index job queued or running under a
// lease (persons form from the whole burst, as `index` does) and no other cluster job of
// its owner runs
#define CLAIM(NOW, LOCK)                                                                    \
    "UPDATE jobs SET state = 1, attempts = attempts + 1, lease_token = lease_token + 1,"    \
    " lease_until = " NOW " + ?1, worker = ?2 WHERE id = (SELECT j.id FROM jobs j"          \
    " WHERE (j.state = 0 OR (j.state = 1 AND j.lease_until < " NOW "))"                     \
    " AND NOT (j.kind = 'cluster' AND EXISTS (SELECT 1 FROM jobs r WHERE r.owner = j.owner" \
    " AND r.kind = 'cluster' AND r.state = 1 AND r.lease_until >= " NOW                     \
    " AND r.id <> j.id)) AND NOT (j.kind = 'cluster' AND EXISTS (SELECT 1 FROM jobs r"       \
    " WHERE r.owner = j.owner AND r.kind = 'index' AND (r.state = 0 OR (r.state = 1"        \
    " AND r.lease_until >= " NOW "))))"                                                     \
    " ORDER BY CASE WHEN j.kind = 'cluster' THEN 1 ELSE 0 END, j.id"      \
    " LIMIT 1" LOCK ")"                                                                     \
    " RETURNING id, owner, kind, path, orig_name, data, attempts, lease_token"

static const char *sql_of(struct store *s, int id) {
    int pg = store_sql_kind(s) == DB_PG;
    switch (id) {
    case XJ_ADD:
        return pg ? "INSERT OR IGNORE INTO jobs (owner, kind, path, orig_name, data, created)"
                    " VALUES (?1, ?2, ?3, ?4, ?5, " NOW_PG ")"
                  : "INSERT OR IGNORE INTO jobs (owner, kind, path, orig_name, data, created)"
                    " VALUES (?1, ?2, ?3, ?4, ?5, " NOW_SQLITE ")";
    case XJ_CLAIM: return pg ? CLAIM(NOW_PG, " FOR UPDATE SKIP LOCKED") : CLAIM(NOW_SQLITE, "");
    case XJ_BEAT:
        return pg ? "UPDATE jobs SET lease_until = " NOW_PG " + ?3 WHERE id = ?1 AND lease_token = ?2"
                    " AND state = 1"
                  : "UPDATE jobs SET lease_until = " NOW_SQLITE " + ?3 WHERE id = ?1 AND lease_token = ?2"
                    " AND state = 1";
    case XJ_FINISH: // the bytes of an upload are not needed once it is indexed
        return pg ? "UPDATE jobs SET state = ?3, finished = " NOW_PG ", error = ?4, data = NULL"
                    " WHERE id = ?1 AND lease_token = ?2 AND state = 1"
                  : "UPDATE jobs SET state = ?3, finished = " NOW_SQLITE ", error = ?4, data = NULL"
                    " WHERE id = ?1 AND lease_token = ?2 AND state = 1";
    case XJ_COUNT:
        return "SELECT state, COUNT(*) FROM jobs WHERE (?1 = 0 OR owner = ?1) AND (?2 = '' OR kind = ?2)"
               " GROUP BY state";
    case XJ_PURGE:
        return "DELETE FROM jobs WHERE state IN (2, 3) AND finished < ?1";
    }
    return NULL;
}

static int prep(struct store *s, int id, struct db_stmt **st) {
    return store_sql_prep(s, id, sql_of(s, id), st);
}

static int check_kind(const char *kind) {
    if (!kind || (strcmp(kind, STORE_JOB_INDEX) && strcmp(kind, STORE_JOB_CLUSTER)))
        return fh_fail(FH_E_ARG, "store: job kind '%s' is not index or cluster", kind ? kind : "(null)");
    return FH_OK;
}

int store_job_enqueue(struct store *s, int64_t owner, const char *kind, const char *path,
                      const char *orig_name, const uint8_t *data, size_t n, int *added) {
    FH_ASSERT(s);
    if (added) *added = 0;
    int rc = check_kind(kind);
    if (!rc) rc = store_sql_check_str(path, "job path", 0, STORE_PATH_MAX);
    if (!rc && !path) rc = fh_fail(FH_E_ARG, "store: job path is NULL");
    if (!rc) rc = store_sql_check_str(orig_name, "job original name", 0, STORE_PATH_MAX);
    if (!rc && n > STORE_JOB_DATA_MAX)
        rc = fh_fail(FH_E_ARG, "store: job data of %zu bytes exceeds %u", n, STORE_JOB_DATA_MAX);
    if (!rc && n && !data) rc = fh_fail(FH_E_ARG, "store: job data size %zu but no data", n);
    if (!rc && !strcmp(kind, STORE_JOB_INDEX) && !path[0])
        rc = fh_fail(FH_E_ARG, "store: an index job needs the photo's path");
    if (!rc) rc = store_sql_writable(s, "store_job_enqueue");
    struct db_stmt *st;
    if (rc || (rc = prep(s, XJ_ADD, &st))) return rc;
    store_sql_bind_i64(s, st, 1, owner);
    store_sql_bind_text(s, st, 2, kind);
    store_sql_bind_text(s, st, 3, path);
    store_sql_bind_text(s, st, 4, orig_name);
    store_sql_bind_blob(s, st, 5, n ? data : NULL, n);
    int changes = 0;
    rc = store_sql_run(s, st, "enqueue job", &changes);
    if (!rc && added) *added = changes > 0;
    return rc;
}

int store_job_claim(struct store *s, const char *worker, int lease_s, struct store_job *out) {
    FH_ASSERT(s && out);
    memset(out, 0, sizeof *out);
    if (lease_s < 1 || lease_s > 86400)
        return fh_fail(FH_E_ARG, "store: lease of %d s outside 1..86400", lease_s);
    int rc = store_sql_check_str(worker, "worker name", 1, STORE_NAME_MAX);
    if (!rc) rc = store_sql_writable(s, "store_job_claim");
    struct db_stmt *st;
    if (rc || (rc = prep(s, XJ_CLAIM, &st))) return rc;
    store_sql_bind_i64(s, st, 1, lease_s);
    store_sql_bind_text(s, st, 2, worker);
    rc = store_sql_step(s, st, "claim job");
    if (rc <= 0) return rc ? rc : fh_fail(FH_E_NOTFOUND, "store: no job to claim");
    out->id = db_col_i64(st, 0);
    out->owner = db_col_i64(st, 1);
    snprintf(out->kind, sizeof out->kind, "%s", db_col_text(st, 2) ? db_col_text(st, 2) : "");
    out->attempts = (int)db_col_i64(st, 6);
    out->token = db_col_i64(st, 7);
    // path, original name and data are copied into s (valid until the next store call)
    size_t lp = db_col_bytes(st, 3), lo = db_col_null(st, 4) ? 0 : db_col_bytes(st, 4) + 1;
    size_t ld = db_col_bytes(st, 5);
    const void *d = db_col_blob(st, 5);
    rc = store_sql_reserve(s, lp + 1 + lo + ld + 1);
    if (!rc) {
        char *b = store_sql_buffer(s);
        memcpy(b, db_col_text(st, 3) ? db_col_text(st, 3) : "", lp);
        b[lp] = 0;
        out->path = b;
        b += lp + 1;
        if (lo) {
            memcpy(b, db_col_text(st, 4), lo - 1);
            b[lo - 1] = 0;
            out->orig_name = b;
            b += lo;
        }
        if (ld && d) {
            memcpy(b, d, ld);
            out->data = (const uint8_t *)b;
            out->data_size = ld;
        }
    }
    if (rc) {
        store_sql_finish(st);
        return rc;
    }
    while ((rc = store_sql_step(s, st, "claim job")) == 1) {
    }
    return rc;
}

int store_job_heartbeat(struct store *s, int64_t id, int64_t token, int lease_s) {
    FH_ASSERT(s);
    if (lease_s < 1 || lease_s > 86400)
        return fh_fail(FH_E_ARG, "store: lease of %d s outside 1..86400", lease_s);
    struct db_stmt *st;
    int rc = store_sql_writable(s, "store_job_heartbeat"), n = 0;
    if (rc || (rc = prep(s, XJ_BEAT, &st))) return rc;
    store_sql_bind_i64(s, st, 1, id);
    store_sql_bind_i64(s, st, 2, token);
    store_sql_bind_i64(s, st, 3, lease_s);
    if ((rc = store_sql_run(s, st, "renew lease", &n))) return rc;
    return n ? FH_OK : fh_fail(FH_E_NOTFOUND, "store: job %lld: the lease was lost (another worker "
                                              "took it over)", (long long)id);
}

int store_job_finish(struct store *s, int64_t id, int64_t token, int ok, const char *error) {
    FH_ASSERT(s);
    int rc = store_sql_check_str(error, "job error", 0, STORE_TEXT_MAX), n = 0;
    if (!rc) rc = store_sql_writable(s, "store_job_finish");
    struct db_stmt *st;
    if (rc || (rc = prep(s, XJ_FINISH, &st))) return rc;
    store_sql_bind_i64(s, st, 1, id);
    store_sql_bind_i64(s, st, 2, token);
    store_sql_bind_i64(s, st, 3, ok ? STORE_JOB_DONE : STORE_JOB_FAILED);
    store_sql_bind_text(s, st, 4, error);
    if ((rc = store_sql_run(s, st, "finish job", &n))) return rc;
    return n ? FH_OK : fh_fail(FH_E_NOTFOUND, "store: job %lld: the lease was lost (another worker "
                                              "took it over)", (long long)id);
}

int store_jobs_count(struct store *s, int64_t owner, const char *kind, struct store_job_counts *out) {
    FH_ASSERT(s && out);
    memset(out, 0, sizeof *out);
    struct db_stmt *st;
    int rc = kind ? check_kind(kind) : FH_OK;
    if (rc || (rc = prep(s, XJ_COUNT, &st))) return rc;
    store_sql_bind_i64(s, st, 1, owner);
    store_sql_bind_text(s, st, 2, kind ? kind : "");
    while ((rc = store_sql_step(s, st, "count jobs")) == 1) {
        int64_t state = db_col_i64(st, 0), n = db_col_i64(st, 1);
        if (state == STORE_JOB_QUEUED) out->queued = n;
        else if (state == STORE_JOB_RUNNING) out->running = n;
        else if (state == STORE_JOB_DONE) out->done = n;
        else if (state == STORE_JOB_FAILED) out->failed = n;
    }
    return rc;
}

int store_jobs_purge(struct store *s, int64_t before, int *n) {
    FH_ASSERT(s);
    struct db_stmt *st;
    int rc = store_sql_writable(s, "store_jobs_purge");
    if (rc || (rc = prep(s, XJ_PURGE, &st))) return rc;
    store_sql_bind_i64(s, st, 1, before);
    return store_sql_run(s, st, "purge jobs", n);
}
