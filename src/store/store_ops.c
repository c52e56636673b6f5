// SPDX-License-Identifier: MIT
// The operation log: before-images of the rows a user action changes, and undo. Tables in
// schema_domain.c; API and rules in store.h ("operation log"). Every function here runs
// inside the caller's open transaction (store_begin) except store_op_undo and
// store_ops_prune, which take their own unless one is open.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/store_int.h"
#include "store/store_sql.h"

static int sql(struct store *s, const char *q, const int64_t *a, int n, const char *what) {
    int rc = store_sql(s, q, a, n, NULL, NULL, what);
    return rc < 0 ? rc : FH_OK;
}

int store_op_begin(struct store *s, int64_t owner, const char *kind, const char *summary, int64_t *op) {
    if (!kind || !*kind || strlen(kind) > STORE_NAME_MAX) return fh_fail(FH_E_ARG, "store: bad op kind");
    char sum[STORE_OP_SUMMARY_MAX + 1];
    const char *src = summary ? summary : kind;
    size_t l = strnlen(src, STORE_OP_SUMMARY_MAX);
    memcpy(sum, src, l), sum[l] = 0;
    int64_t a[3] = {owner, (int64_t)time(NULL), 0};
    struct store_sql_row r = {0};
    // store_sql binds one text: the summary here, the kind by a second statement
    int rc = store_sql(s, "INSERT INTO ops (owner, created, kind, summary) VALUES (?1, ?2, '', ?3) RETURNING id",
                       a, 2, sum, &r, "op: begin");
    if (rc < 0) return rc;
    a[0] = r.i;
    if ((rc = store_sql(s, "UPDATE ops SET kind = ?2 WHERE id = ?1", a, 1, kind, NULL, "op: kind")) < 0) return rc;
    *op = r.i;
    return FH_OK;
}

int store_op_save_person(struct store *s, int64_t op, int64_t owner, int64_t person_id, int with_faces) {
    int64_t a[3] = {op, person_id, owner};
    int rc = sql(s, "INSERT OR IGNORE INTO op_persons (op_id, id, existed, name, hidden, avatar_face, avatar_by_user)"
                    " SELECT ?1, id, 1, name, hidden, avatar_face, avatar_by_user FROM persons WHERE id = ?2 AND owner = ?3",
                 a, 3, "op: save person");
    if (!rc) rc = sql(s, "INSERT OR IGNORE INTO op_rejects SELECT ?1, face_id, person_id FROM face_rejects WHERE person_id = ?2",
                      a, 2, "op: save rejects of person");
    if (!rc && with_faces)
        rc = sql(s, "INSERT OR IGNORE INTO op_rejects SELECT ?1, r.face_id, r.person_id FROM face_rejects r"
                    " JOIN faces f ON f.id = r.face_id WHERE f.person_id = ?2 AND f.owner = ?3",
                 a, 3, "op: save rejects of faces");
    if (!rc && with_faces)
        rc = sql(s, "INSERT OR IGNORE INTO op_faces (op_id, id, person_id, assigned)"
                    " SELECT ?1, id, person_id, assigned FROM faces WHERE person_id = ?2 AND owner = ?3",
                 a, 3, "op: save faces of person");
    return rc;
}

int store_op_new_person(struct store *s, int64_t op, int64_t person_id) {
    int64_t a[2] = {op, person_id};
    return sql(s, "INSERT OR IGNORE INTO op_persons (op_id, id, existed) VALUES (?1, ?2, 0)", a, 2, "op: new person");
}

int store_op_save_face(struct store *s, int64_t op, int64_t owner, int64_t face_id) {
    int64_t a[3] = {op, face_id, owner};
    int rc = sql(s, "INSERT OR IGNORE INTO op_faces (op_id, id, person_id, assigned)"
                    " SELECT ?1, id, person_id, assigned FROM faces WHERE id = ?2 AND owner = ?3",
                 a, 3, "op: save face");
    if (!rc) rc = sql(s, "INSERT OR IGNORE INTO op_rejects SELECT ?1, face_id, person_id FROM face_rejects WHERE face_id = ?2",
                      a, 2, "op: save rejects of face");
    return rc;
}

int store_op_save_photo(struct store *s, int64_t op, int64_t owner, int64_t photo_id) {
    int64_t a[3] = {op, photo_id, owner};
    int rc = sql(s, "INSERT OR IGNORE INTO op_photos SELECT ?1, id, owner, path, size, mtime, sha256, width, height,"
                    " status, error, orig_name FROM photos WHERE id = ?2 AND owner = ?3",
                 a, 3, "op: save photo");
    // the persons its faces are in (they may be pruned when the photo goes)
    if (!rc) rc = sql(s, "INSERT OR IGNORE INTO op_persons (op_id, id, existed, name, hidden, avatar_face, avatar_by_user)"
                         " SELECT ?1, p.id, 1, p.name, p.hidden, p.avatar_face, p.avatar_by_user FROM persons p"
                         " WHERE p.id IN (SELECT person_id FROM faces WHERE photo_id = ?2 AND owner = ?3)",
                      a, 3, "op: save persons of photo");
    if (!rc) rc = sql(s, "INSERT OR IGNORE INTO op_rejects SELECT ?1, r.face_id, r.person_id FROM face_rejects r"
                         " JOIN faces f ON f.id = r.face_id WHERE f.photo_id = ?2 AND f.owner = ?3",
                      a, 3, "op: save rejects of photo");
    // undo rewrites the rejects of every person in scope: keep them all
    if (!rc) rc = sql(s, "INSERT OR IGNORE INTO op_rejects SELECT ?1, face_id, person_id FROM face_rejects"
                         " WHERE person_id IN (SELECT id FROM op_persons WHERE op_id = ?1)",
                      a, 1, "op: save rejects of persons");
    if (!rc) rc = sql(s, "INSERT OR IGNORE INTO op_faces SELECT ?1, id, person_id, assigned, 1, owner, photo_id,"
                         " x1, y1, x2, y2, det_score, blur, quality, blurry, trash, model_id, dim, landmarks,"
                         " embedding, thumb, detector FROM faces WHERE photo_id = ?2 AND owner = ?3",
                      a, 3, "op: save faces of photo");
    return rc;
}

// undo, in dependency order: photos, persons (rows; created ones go), faces (full rows,
// then assignments), avatars, rejects; rows whose parent vanished are skipped
static const char *const undo_sql[] = {
    "INSERT OR IGNORE INTO photos (id, owner, path, size, mtime, sha256, width, height, status, error, orig_name)"
    " SELECT id, owner, path, size, mtime, sha256, width, height, status, error, orig_name FROM op_photos"
    " WHERE op_id = ?1 AND owner = ?2",
    "INSERT OR IGNORE INTO persons (id, owner, name, hidden)"
    " SELECT id, ?2, name, hidden FROM op_persons WHERE op_id = ?1 AND existed = 1",
    "UPDATE persons SET name = (SELECT o.name FROM op_persons o WHERE o.op_id = ?1 AND o.id = persons.id),"
    " hidden = (SELECT o.hidden FROM op_persons o WHERE o.op_id = ?1 AND o.id = persons.id)"
    " WHERE owner = ?2 AND id IN (SELECT id FROM op_persons WHERE op_id = ?1 AND existed = 1)",
    "DELETE FROM persons WHERE owner = ?2 AND id IN (SELECT id FROM op_persons WHERE op_id = ?1 AND existed = 0)",
    "INSERT OR IGNORE INTO faces SELECT o.id, o.owner, o.photo_id,"
    " (SELECT p.id FROM persons p WHERE p.id = o.person_id), o.assigned, o.x1, o.y1, o.x2, o.y2, o.det_score,"
    " o.blur, o.quality, o.blurry, o.trash, o.model_id, o.dim, o.landmarks, o.embedding, o.thumb,"
    " COALESCE(o.detector, 'mtcnn') FROM op_faces o WHERE o.op_id = ?1 AND o.full = 1 AND o.owner = ?2"
    " AND EXISTS (SELECT 1 FROM photos p WHERE p.id = o.photo_id AND p.owner = ?2)",
    "UPDATE faces SET person_id = (SELECT p.id FROM op_faces o JOIN persons p ON p.id = o.person_id"
    " WHERE o.op_id = ?1 AND o.id = faces.id),"
    " assigned = (SELECT o.assigned FROM op_faces o WHERE o.op_id = ?1 AND o.id = faces.id)"
    " WHERE owner = ?2 AND id IN (SELECT id FROM op_faces WHERE op_id = ?1)",
    "UPDATE persons SET avatar_face = (SELECT f.id FROM op_persons o JOIN faces f ON f.id = o.avatar_face"
    " WHERE o.op_id = ?1 AND o.id = persons.id),"
    " avatar_by_user = (SELECT o.avatar_by_user FROM op_persons o WHERE o.op_id = ?1 AND o.id = persons.id)"
    " WHERE owner = ?2 AND id IN (SELECT id FROM op_persons WHERE op_id = ?1 AND existed = 1)",
    "UPDATE persons SET avatar_face = NULL, avatar_by_user = 0 WHERE owner = ?2 AND avatar_face IS NOT NULL"
    " AND NOT EXISTS (SELECT 1 FROM faces f WHERE f.id = persons.avatar_face AND f.person_id = persons.id)",
    "DELETE FROM face_rejects WHERE face_id IN (SELECT id FROM op_faces WHERE op_id = ?1)"
    " OR person_id IN (SELECT id FROM op_persons WHERE op_id = ?1)",
    "INSERT OR IGNORE INTO face_rejects SELECT o.face_id, o.person_id FROM op_rejects o WHERE o.op_id = ?1"
    " AND EXISTS (SELECT 1 FROM faces f WHERE f.id = o.face_id AND f.owner = ?2)"
    " AND EXISTS (SELECT 1 FROM persons p WHERE p.id = o.person_id AND p.owner = ?2)",
    "DELETE FROM ops WHERE id = ?1",
};

int store_op_undo(struct store *s, int64_t owner, char *summary, size_t n) {
    FH_ASSERT(s && (summary || !n));
    if (n) summary[0] = 0;
    int rc = store_begin(s);
    if (rc) return rc;
    struct store_sql_row r = {0};
    int64_t a[2] = {owner, 0};
    rc = store_sql(s, "SELECT id, summary FROM ops WHERE owner = ?1 ORDER BY id DESC LIMIT 1", a, 1, NULL, &r,
                   "undo: last op");
    if (rc == 0) rc = fh_fail(FH_E_NOTFOUND, "nothing to undo");
    else if (rc == 1) rc = FH_OK;
    a[0] = r.i, a[1] = owner;
    for (size_t i = 0; !rc && i < sizeof undo_sql / sizeof undo_sql[0]; i++) rc = sql(s, undo_sql[i], a, 2, "undo");
    if (!rc) rc = store_commit(s);
    if (rc) {
        store_rollback(s);
        return rc;
    }
    if (n) snprintf(summary, n, "%s", r.text);
    return FH_OK;
}

struct paths_ctx {
    char **v;
    int n, cap;
};
static int path_cb(void *ctx, int64_t i, const char *text) {
    struct paths_ctx *p = ctx;
    size_t l = text ? strlen(text) : 0;
    char *c = l ? fh_malloc(l + 1) : NULL;
    if (!c || fh_grow((void **)&p->v, &p->cap, p->n + 1, sizeof *p->v)) {
        fh_free(c);
        return 1;
    }
    memcpy(c, text, l + 1);
    p->v[p->n++] = c;
    return 0;
}

int store_ops_prune(struct store *s, int64_t owner, int keep, char ***paths, int *n_paths) {
    FH_ASSERT(s && paths && n_paths && keep >= 0);
    *paths = NULL, *n_paths = 0;
    int64_t a[2] = {owner, keep};
    struct paths_ctx pc = {0};
    struct store_sql_row r = {.each = path_cb, .ctx = &pc};
    // deleted photos' paths that nothing will use once the old ops are gone
    int rc = store_sql(s, "WITH old AS (SELECT id FROM ops WHERE owner = ?1 AND id NOT IN"
                          " (SELECT id FROM ops WHERE owner = ?1 ORDER BY id DESC LIMIT ?2))"
                          " SELECT DISTINCT 0, o.path FROM op_photos o WHERE o.op_id IN (SELECT id FROM old)"
                          " AND NOT EXISTS (SELECT 1 FROM photos p WHERE p.path = o.path)"
                          " AND NOT EXISTS (SELECT 1 FROM op_photos q WHERE q.path = o.path"
                          " AND q.op_id NOT IN (SELECT id FROM old))",
                       a, 2, NULL, &r, "prune ops: paths");
    if (rc >= 0)
        rc = store_sql(s, "DELETE FROM ops WHERE owner = ?1 AND id NOT IN"
                          " (SELECT id FROM ops WHERE owner = ?1 ORDER BY id DESC LIMIT ?2)",
                       a, 2, NULL, NULL, "prune ops");
    if (rc < 0) {
        for (int i = 0; i < pc.n; i++) fh_free(pc.v[i]);
        fh_free(pc.v);
        return rc;
    }
    *paths = pc.v, *n_paths = pc.n;
    return FH_OK;
}

int store_ops_count(struct store *s, int64_t owner, int *n) {
    struct store_sql_row r = {0};
    int rc = store_sql(s, "SELECT COUNT(*) FROM ops WHERE owner = ?1", &owner, 1, NULL, &r, "count ops");
    if (rc < 0) return rc;
    *n = (int)r.i;
    return FH_OK;
}

int store_op_last(struct store *s, int64_t owner, int64_t *id, char *summary, size_t n) {
    FH_ASSERT(s && id && (summary || !n));
    if (n) summary[0] = 0;
    struct store_sql_row r = {0};
    int rc = store_sql(s, "SELECT id, summary FROM ops WHERE owner = ?1 ORDER BY id DESC LIMIT 1", &owner, 1, NULL, &r,
                       "last op");
    if (rc < 0) return rc;
    if (rc == 0) return fh_fail(FH_E_NOTFOUND, "nothing to undo");
    *id = r.i;
    if (n) snprintf(summary, n, "%s", r.text);
    return FH_OK;
}

int store_path_in_use(struct store *s, int64_t owner, const char *path, int *yes) {
    FH_ASSERT(s && path && yes);
    *yes = 0;
    int rc = store_sql_check_str(path, "photo path", 1, STORE_PATH_MAX);
    if (rc) return rc;
    struct store_sql_row r = {0};
    rc = store_sql(s, "SELECT EXISTS (SELECT 1 FROM photos WHERE owner = ?1 AND path = ?2)"
                      " OR EXISTS (SELECT 1 FROM op_photos WHERE owner = ?1 AND path = ?2)",
                   &owner, 1, path, &r, "path in use");
    if (rc < 0) return rc;
    *yes = r.i != 0;
    return FH_OK;
}

// ids from column 0, and (when the text column holds a number) a second id from column 1
struct ids_ctx {
    int64_t *v, *w;
    int n, cap, wcap;
};
static int id_cb(void *ctx, int64_t i, const char *text) {
    struct ids_ctx *c = ctx;
    if (fh_grow((void **)&c->v, &c->cap, c->n + 1, sizeof *c->v)) return 1;
    if (fh_grow((void **)&c->w, &c->wcap, c->n + 1, sizeof *c->w)) return 1;
    c->w[c->n] = text ? strtoll(text, NULL, 10) : 0;
    c->v[c->n++] = i;
    return 0;
}

int store_photo_repath(struct store *s, int64_t owner, const char *old_path, const char *new_path) {
    FH_ASSERT(s && old_path && new_path);
    int rc = store_sql_check_str(old_path, "photo path", 1, STORE_PATH_MAX);
    if (!rc) rc = store_sql_check_str(new_path, "photo path", 1, STORE_PATH_MAX);
    if (rc) return rc;
    int own;
    if ((rc = store_sql_tx_enter(s, &own))) return rc;
    // store_sql binds one text: collect the ids by the old path, then set the new one by id
    struct ids_ctx ph = {0}, op = {0};
    struct store_sql_row r1 = {.each = id_cb, .ctx = &ph}, r2 = {.each = id_cb, .ctx = &op};
    int64_t a[2] = {owner, 0};
    rc = store_sql(s, "SELECT id, '' FROM photos WHERE owner = ?1 AND path = ?2", a, 1, old_path, &r1, "repath: photos");
    if (rc >= 0)
        rc = store_sql(s, "SELECT op_id, CAST(id AS TEXT) FROM op_photos WHERE owner = ?1 AND path = ?2", a, 1,
                       old_path, &r2, "repath: ops");
    for (int i = 0; rc >= 0 && i < ph.n; i++)
        a[1] = ph.v[i], rc = store_sql(s, "UPDATE photos SET path = ?3 WHERE owner = ?1 AND id = ?2", a, 2, new_path,
                                       NULL, "repath photo");
    for (int i = 0; rc >= 0 && i < op.n; i++) {
        int64_t b[3] = {owner, op.v[i], op.w[i]};
        rc = store_sql(s, "UPDATE op_photos SET path = ?4 WHERE owner = ?1 AND op_id = ?2 AND id = ?3", b, 3,
                       new_path, NULL, "repath op photo");
    }
    fh_free(ph.v), fh_free(op.v), fh_free(ph.w), fh_free(op.w);
    return store_sql_tx_leave(s, own, rc < 0 ? rc : FH_OK);
}
