// SPDX-License-Identifier: MIT
// Re-embedding (issue 12): the vectors of another model are staged in face_next (table in
// store_int.h) while every face keeps its own; one transaction swaps them in once each face
// has its row. API and rules in store.h ("re-embedding").
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "store/store_int.h"
#include "store/store_sql.h"

enum {
    XR_BASE = 32, // store_sql.h slots 32.. (store_auth.c 0..19, store_jobs.c 24..)
    XR_PUT = XR_BASE,
    XR_PENDING_N,
    XR_STAGED_N,
    XR_TARGET,
    XR_DISCARD,
    XR_SWAP,
    XR_OPS,
    XR_CLEAR,
    XR_IN_USE,
    XR_MODEL,
    XR_END
};
_Static_assert(XR_END <= STORE_XST_MAX, "store_sql.h statement slots");

// a face still to re-embed for ?1: made by another model (or none) and not staged for ?1
#define PENDING_WHERE                                                                              \
    " FROM faces f WHERE (f.model_id IS NULL OR f.model_id <> ?1) AND NOT EXISTS"              \
    " (SELECT 1 FROM face_next n WHERE n.face_id = f.id AND n.model_id = ?1)"

static const char *const sql_of[XR_END - XR_BASE] = {
    [XR_PUT - XR_BASE] = "INSERT INTO face_next (face_id, model_id, dim, embedding) VALUES (?1, ?2, ?3, ?4)"
                         " ON CONFLICT (face_id) DO UPDATE SET model_id = excluded.model_id,"
                         " dim = excluded.dim, embedding = excluded.embedding",
    [XR_PENDING_N - XR_BASE] = "SELECT COUNT(*)" PENDING_WHERE,
    [XR_STAGED_N - XR_BASE] = "SELECT COUNT(*) FROM face_next WHERE model_id = ?1",
    [XR_TARGET - XR_BASE] = "SELECT model_id FROM face_next ORDER BY face_id DESC LIMIT 1",
    [XR_DISCARD - XR_BASE] = "DELETE FROM face_next WHERE model_id <> ?1",
    // every face takes its staged vector (none: dim 0, no vector, still the target's face)
    [XR_SWAP - XR_BASE] = "UPDATE faces SET model_id = ?1,"
                          " dim = (SELECT n.dim FROM face_next n WHERE n.face_id = faces.id),"
                          " embedding = (SELECT n.embedding FROM face_next n WHERE n.face_id = faces.id)"
                          " WHERE EXISTS (SELECT 1 FROM face_next n WHERE n.face_id = faces.id AND n.model_id = ?1)",
    // undo's before-images of deleted faces: their old vectors are dropped (never mixed)
    [XR_OPS - XR_BASE] = "UPDATE op_faces SET model_id = ?1, dim = 0, embedding = NULL"
                         " WHERE \"full\" = 1 AND (model_id IS NULL OR model_id <> ?1)",
    [XR_CLEAR - XR_BASE] = "DELETE FROM face_next",
    [XR_IN_USE - XR_BASE] = "SELECT m.id, m.name, m.version, m.sha256, m.dim, COUNT(f.id) FROM models m"
                            " JOIN faces f ON f.model_id = m.id GROUP BY m.id, m.name, m.version, m.sha256, m.dim"
                            " ORDER BY COUNT(f.id) DESC, m.id LIMIT 1",
    [XR_MODEL - XR_BASE] = "SELECT m.id, m.name, m.version, m.sha256, m.dim,"
                           " (SELECT COUNT(*) FROM faces f WHERE f.model_id = m.id) FROM models m WHERE m.id = ?1",
};

static int prep(struct store *s, int id, struct db_stmt **st) {
    return store_sql_prep(s, id, sql_of[id - XR_BASE], st);
}

static int count(struct store *s, int id, int64_t target, int64_t *n, const char *what) {
    struct db_stmt *st;
    int rc = prep(s, id, &st);
    if (rc) return rc;
    store_sql_bind_i64(s, st, 1, target);
    rc = store_sql_one_i64(s, st, what, n);
    return rc < 0 ? rc : FH_OK;
}

int store_reembed_count(struct store *s, int64_t target, int64_t *staged, int64_t *pending) {
    FH_ASSERT(s && staged && pending);
    *staged = *pending = 0;
    int rc = count(s, XR_STAGED_N, target, staged, "count staged faces");
    return rc ? rc : count(s, XR_PENDING_N, target, pending, "count faces to re-embed");
}

int store_reembed_target(struct store *s, int64_t *target) {
    FH_ASSERT(s && target);
    *target = 0;
    struct db_stmt *st;
    int rc = prep(s, XR_TARGET, &st);
    if (rc) return rc;
    rc = store_sql_one_i64(s, st, "find the re-embed's model", target);
    if (rc < 0) return rc;
    return rc ? FH_OK : fh_fail(FH_E_NOTFOUND, "store: no re-embed in progress");
}

static int model_row(struct store *s, int id, int64_t model_id, struct store_model *out) {
    memset(out, 0, sizeof *out);
    struct db_stmt *st;
    int rc = prep(s, id, &st);
    if (rc) return rc;
    if (id == XR_MODEL) store_sql_bind_i64(s, st, 1, model_id);
    rc = store_sql_step(s, st, "read a model");
    if (rc <= 0) return rc ? rc : fh_fail(FH_E_NOTFOUND, "store: no such model");
    const char *t[3] = {db_col_text(st, 1), db_col_text(st, 2), db_col_text(st, 3)};
    out->id = db_col_i64(st, 0);
    snprintf(out->name, sizeof out->name, "%s", t[0] ? t[0] : "");
    snprintf(out->version, sizeof out->version, "%s", t[1] ? t[1] : "");
    snprintf(out->sha256, sizeof out->sha256, "%s", t[2] ? t[2] : "");
    out->dim = (int)db_col_i64(st, 4);
    out->faces = db_col_i64(st, 5);
    store_sql_finish(st);
    return FH_OK;
}

int store_model_in_use(struct store *s, struct store_model *out) {
    FH_ASSERT(s && out);
    return model_row(s, XR_IN_USE, 0, out);
}

int store_model_by_id(struct store *s, int64_t id, struct store_model *out) {
    FH_ASSERT(s && out);
    return model_row(s, XR_MODEL, id, out);
}

int store_reembed_pending(struct store *s, int64_t target, int limit,
                          int (*fn)(void *ctx, const struct store_reembed_face *f), void *ctx) {
    FH_ASSERT(s && fn);
    if (limit < 1) return fh_fail(FH_E_ARG, "store: re-embed batch limit %d < 1", limit);
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT f.id, f.photo_id, f.owner, p.path, f.x1, f.y1, f.x2, f.y2, f.landmarks %s"
             " AND f.photo_id IN (SELECT f2.photo_id %s ORDER BY f2.photo_id LIMIT ?2)"
             " ORDER BY f.photo_id, f.id",
             "FROM faces f JOIN photos p ON p.id = f.photo_id WHERE (f.model_id IS NULL OR f.model_id <> ?1)"
             " AND NOT EXISTS (SELECT 1 FROM face_next n WHERE n.face_id = f.id AND n.model_id = ?1)",
             "FROM faces f2 WHERE (f2.model_id IS NULL OR f2.model_id <> ?1) AND NOT EXISTS"
             " (SELECT 1 FROM face_next n WHERE n.face_id = f2.id AND n.model_id = ?1)");
    struct db_stmt *st;
    int rc = store_sql_iter_begin(s, sql, &st);
    if (rc) return rc;
    store_sql_bind_i64(s, st, 1, target);
    store_sql_bind_i64(s, st, 2, limit);
    while ((rc = store_sql_step(s, st, "list faces to re-embed")) == 1) {
        struct store_reembed_face f = {.face_id = db_col_i64(st, 0), .photo_id = db_col_i64(st, 1),
                                       .owner = db_col_i64(st, 2), .path = db_col_text(st, 3)};
        for (int k = 0; k < 4; k++) f.box[k] = (int)db_col_i64(st, 4 + k);
        const void *lm = db_col_blob(st, 8);
        if (!f.path || !lm || db_col_bytes(st, 8) != sizeof f.landmarks) {
            rc = fh_fail(FH_E_DB, "store: face %lld has no photo path or bad landmarks", (long long)f.face_id);
            break;
        }
        memcpy(f.landmarks, lm, sizeof f.landmarks);
        int stop = fn(ctx, &f);
        if (stop) {
            rc = stop;
            break;
        }
    }
    store_sql_iter_end(s, st);
    return rc < 0 || rc > 1 ? rc : FH_OK;
}

int store_reembed_put(struct store *s, int64_t face_id, int64_t target, const float *emb, int dim) {
    FH_ASSERT(s);
    if (dim < 0 || dim > STORE_EMB_MAX || (dim && !emb))
        return fh_fail(FH_E_ARG, "store: re-embed vector of dim %d", dim);
    for (int k = 0; k < dim; k++)
        if (!isfinite(emb[k])) return fh_fail(FH_E_ARG, "store: re-embed vector of face %lld is not finite",
                                              (long long)face_id);
    int rc = store_sql_writable(s, "store_reembed_put");
    struct db_stmt *st;
    if (!rc) rc = prep(s, XR_PUT, &st);
    if (rc) return rc;
    store_sql_bind_i64(s, st, 1, face_id);
    store_sql_bind_i64(s, st, 2, target);
    store_sql_bind_i64(s, st, 3, dim);
    store_sql_bind_blob(s, st, 4, dim ? emb : NULL, (size_t)dim * sizeof *emb);
    return store_sql_run(s, st, "stage a re-embedded face", NULL);
}

int store_reembed_discard(struct store *s, int64_t target) {
    FH_ASSERT(s);
    int rc = store_sql_writable(s, "store_reembed_discard");
    struct db_stmt *st;
    if (!rc) rc = prep(s, XR_DISCARD, &st);
    if (rc) return rc;
    store_sql_bind_i64(s, st, 1, target);
    return store_sql_run(s, st, "discard another re-embed", NULL);
}

int store_reembed_swap(struct store *s, int64_t target, int64_t *faces) {
    FH_ASSERT(s);
    int64_t staged, pending, n = 0;
    int own, rc = store_sql_writable(s, "store_reembed_swap");
    if (!rc) rc = store_sql_tx_enter(s, &own);
    if (rc) return rc;
    rc = store_reembed_count(s, target, &staged, &pending);
    if (!rc && pending)
        rc = fh_fail(FH_E_ARG, "store: %lld faces are not re-embedded yet: nothing switched", (long long)pending);
    struct db_stmt *st;
    int changes = 0;
    if (!rc && !(rc = prep(s, XR_SWAP, &st))) {
        store_sql_bind_i64(s, st, 1, target);
        rc = store_sql_run(s, st, "switch faces to the new vectors", &changes);
        n = changes;
    }
    if (!rc && !(rc = prep(s, XR_OPS, &st))) {
        store_sql_bind_i64(s, st, 1, target);
        rc = store_sql_run(s, st, "drop old vectors of undo's deleted faces", NULL);
    }
    if (!rc && !(rc = prep(s, XR_CLEAR, &st))) rc = store_sql_run(s, st, "clear staged vectors", NULL);
    rc = store_sql_tx_leave(s, own, rc);
    if (!rc && faces) *faces = n;
    return rc;
}
