// SPDX-License-Identifier: MIT
// The user's actions on a library, each recorded as one op of the owner's operation log
// (store_op_*) so that lib_undo can take it back. Pattern of every action: one transaction
// = op row + before-images + the change + pruning the log to LIB_OPS_KEEP; then avatars.
#include <stdio.h>
#include <string.h>

#include "library/library_int.h"

// "'Anna'" or "person 5"
static void label(struct lib *L, int64_t owner, int64_t id, char *buf, size_t n) {
    struct store_person p;
    if (id && !store_person_get(L->s, owner, id, &p) && p.name && p.name[0]) snprintf(buf, n, "'%.80s'", p.name);
    else if (id) snprintf(buf, n, "person %lld", (long long)id);
    else snprintf(buf, n, "unknown");
}

static int op_start(struct lib *L, int64_t owner, const char *kind, const char *summary, int64_t *op) {
    int rc = store_begin(L->s);
    if (!rc && (rc = store_op_begin(L->s, owner, kind, summary, op))) store_rollback(L->s);
    return rc;
}

// commits (or rolls back on rc), prunes the log, tells lib_on_forget about files no op needs
static int op_end(struct lib *L, int64_t owner, int rc) {
    char **paths = NULL;
    int np = 0;
    if (!rc) rc = store_ops_prune(L->s, owner, LIB_OPS_KEEP, &paths, &np);
    if (!rc) rc = store_commit(L->s);
    if (rc) store_rollback(L->s);
    for (int i = 0; i < np; i++) {
        if (!rc && L->forget) L->forget(L->forget_ctx, owner, paths[i]);
        fh_free(paths[i]);
    }
    fh_free(paths);
    return rc ? rc : lib_update_avatars(L, owner);
}

void lib_on_forget(struct lib *L, void (*fn)(void *ctx, int64_t owner, const char *path), void *ctx) {
    L->forget = fn, L->forget_ctx = ctx;
}

static int person_exists(struct lib *L, int64_t owner, int64_t id) {
    struct store_person p;
    return store_person_get(L->s, owner, id, &p);
}

// starts an op about one person: checks it is the owner's, records its row; fmt has one %s
// for the person's label ("'Anna'", "person 5") and may have a second for `extra`
static int person_op(struct lib *L, int64_t owner, int64_t id, const char *kind, const char *fmt,
                     const char *extra, int64_t *op) {
    char who[100], sum[256];
    int rc = person_exists(L, owner, id);
    if (rc) return rc;
    label(L, owner, id, who, sizeof who);
    snprintf(sum, sizeof sum, fmt, who, extra ? extra : "");
    if ((rc = op_start(L, owner, kind, sum, op))) return rc;
    if ((rc = store_op_save_person(L->s, *op, owner, id, 0))) store_rollback(L->s);
    return rc;
}

int lib_rename(struct lib *L, int64_t owner, int64_t person_id, const char *name) {
    char to[100];
    snprintf(to, sizeof to, "%.80s", name ? name : "");
    int64_t op;
    int rc = person_op(L, owner, person_id, "rename", name && *name ? "Renamed %s to '%s'" : "Removed the name of %s%s",
                       to, &op);
    return rc ? rc : op_end(L, owner, store_person_rename(L->s, owner, person_id, name));
}

int lib_hide(struct lib *L, int64_t owner, int64_t person_id, int hidden) {
    int64_t op;
    int rc = person_op(L, owner, person_id, "hide", hidden ? "Hid %s%s" : "Showed %s%s", NULL, &op);
    return rc ? rc : op_end(L, owner, store_person_hide(L->s, owner, person_id, hidden != 0));
}

int lib_set_avatar(struct lib *L, int64_t owner, int64_t person_id, int64_t face_id) {
    int64_t op;
    int rc = person_op(L, owner, person_id, "avatar", "Changed the picture of %s%s", NULL, &op);
    return rc ? rc : op_end(L, owner, store_person_set_avatar(L->s, owner, person_id, face_id, 1));
}

int lib_merge(struct lib *L, int64_t owner, int64_t into, int64_t from) {
    if (into == from) return fh_fail(FH_E_ARG, "merge: a person cannot be merged into itself");
    char a[100], b[100], sum[256];
    int rc = person_exists(L, owner, into);
    if (!rc) rc = person_exists(L, owner, from);
    if (rc) return rc;
    label(L, owner, into, a, sizeof a), label(L, owner, from, b, sizeof b);
    snprintf(sum, sizeof sum, "Merged %s into %s", b, a);
    int64_t op;
    if ((rc = op_start(L, owner, "merge", sum, &op))) return rc;
    rc = store_op_save_person(L->s, op, owner, into, 1);
    if (!rc) rc = store_op_save_person(L->s, op, owner, from, 1);
    if (!rc) rc = store_person_merge(L->s, owner, into, from);
    return op_end(L, owner, rc);
}

// the face's current person (0 = unknown)
static int face_person(struct lib *L, int64_t owner, int64_t face_id, int64_t *person) {
    struct store_face f;
    int rc = store_face_get(L->s, owner, face_id, &f);
    if (!rc) *person = f.person_id;
    return rc;
}

int lib_move_face(struct lib *L, int64_t owner, int64_t face_id, int64_t person_id) {
    char to[100], sum[160];
    int64_t from = 0;
    int rc = face_person(L, owner, face_id, &from);
    if (!rc && person_id) rc = person_exists(L, owner, person_id);
    if (rc) return rc;
    label(L, owner, person_id, to, sizeof to);
    snprintf(sum, sizeof sum, "Moved a face to %s", to);
    int64_t op;
    if ((rc = op_start(L, owner, "move", sum, &op))) return rc;
    rc = store_op_save_face(L->s, op, owner, face_id);
    if (!rc && from) rc = store_op_save_person(L->s, op, owner, from, 0);
    if (!rc && person_id) rc = store_op_save_person(L->s, op, owner, person_id, 0);
    if (!rc) rc = store_face_assign(L->s, owner, face_id, person_id, STORE_USER);
    return op_end(L, owner, rc);
}

int lib_reject_face(struct lib *L, int64_t owner, int64_t face_id, int64_t person_id) {
    char who[100], sum[160];
    int64_t from = 0;
    int rc = face_person(L, owner, face_id, &from);
    if (!rc) rc = person_exists(L, owner, person_id);
    if (rc) return rc;
    label(L, owner, person_id, who, sizeof who);
    snprintf(sum, sizeof sum, "A face is not %s", who);
    int64_t op;
    if ((rc = op_start(L, owner, "reject", sum, &op))) return rc;
    rc = store_op_save_face(L->s, op, owner, face_id);
    if (!rc) rc = store_op_save_person(L->s, op, owner, person_id, 0);
    if (!rc && from && from != person_id) rc = store_op_save_person(L->s, op, owner, from, 0);
    if (!rc) rc = store_face_reject(L->s, owner, face_id, person_id);
    return op_end(L, owner, rc);
}

int lib_person_new(struct lib *L, int64_t owner, const char *name, const int64_t *face_ids, int n, int64_t *id) {
    if (n < 1 || n > LIB_FACES_MAX || !face_ids)
        return fh_fail(FH_E_ARG, "new person: needs 1..%d faces, got %d", LIB_FACES_MAX, n);
    if (name && strlen(name) > STORE_NAME_MAX) return fh_fail(FH_E_ARG, "new person: name longer than %d bytes", STORE_NAME_MAX);
    int64_t from;
    for (int i = 0; i < n; i++) {
        int rc = face_person(L, owner, face_ids[i], &from);
        if (rc) return rc;
    }
    char sum[160];
    snprintf(sum, sizeof sum, name && *name ? "New person '%.80s' from %d face%s" : "New person%.0s from %d face%s",
             name ? name : "", n, n == 1 ? "" : "s");
    int64_t op, pid = 0;
    int rc = op_start(L, owner, "new", sum, &op);
    if (rc) return rc;
    rc = store_person_create(L->s, owner, name, &pid);
    if (!rc) rc = store_op_new_person(L->s, op, pid);
    for (int i = 0; !rc && i < n; i++) {
        if (!(rc = store_op_save_face(L->s, op, owner, face_ids[i])) && !(rc = face_person(L, owner, face_ids[i], &from)) && from)
            rc = store_op_save_person(L->s, op, owner, from, 0);
        if (!rc) rc = store_face_assign(L->s, owner, face_ids[i], pid, STORE_USER);
    }
    rc = op_end(L, owner, rc);
    if (!rc && id) *id = pid;
    return rc;
}

int lib_person_delete(struct lib *L, int64_t owner, int64_t person_id) {
    char who[100], sum[160];
    int rc = person_exists(L, owner, person_id);
    if (rc) return rc;
    label(L, owner, person_id, who, sizeof who);
    snprintf(sum, sizeof sum, "Deleted %s", who);
    int64_t op;
    if ((rc = op_start(L, owner, "delete_person", sum, &op))) return rc;
    rc = store_op_save_person(L->s, op, owner, person_id, 1);
    // its faces become unknown by the user's word (STORE_USER): clustering leaves them be
    if (!rc) rc = store_person_dissolve(L->s, owner, person_id);
    return op_end(L, owner, rc);
}

int lib_photo_delete(struct lib *L, int64_t owner, int64_t photo_id) {
    struct store_photo p;
    int rc = store_photo_get(L->s, owner, photo_id, &p);
    if (rc) return rc;
    const char *base = strrchr(p.orig_name ? p.orig_name : p.path, '/');
    char sum[160];
    snprintf(sum, sizeof sum, "Deleted the photo %.100s", base ? base + 1 : p.orig_name ? p.orig_name : p.path);
    int64_t op;
    if ((rc = op_start(L, owner, "delete_photo", sum, &op))) return rc;
    rc = store_op_save_photo(L->s, op, owner, photo_id);
    if (!rc) rc = store_photo_delete(L->s, owner, photo_id);
    if (!rc) rc = store_persons_prune(L->s, owner);
    return op_end(L, owner, rc);
}

// checks 1..LIB_FACES_MAX faces, all the owner's, and the person (if any); then one op whose
// summary is "<verb> <what> <the person's label>" (a face / N faces)
static int faces_op(struct lib *L, int64_t owner, const int64_t *face_ids, int n, int64_t person_id, const char *kind,
                    int move, int64_t *op) {
    if (n < 1 || n > LIB_FACES_MAX || !face_ids)
        return fh_fail(FH_E_ARG, "%s: needs 1..%d faces, got %d", kind, LIB_FACES_MAX, n);
    int64_t from;
    int rc = person_id ? person_exists(L, owner, person_id) : FH_OK;
    for (int i = 0; !rc && i < n; i++) rc = face_person(L, owner, face_ids[i], &from);
    if (rc) return rc;
    char who[100], sum[256];
    label(L, owner, person_id, who, sizeof who);
    if (move && n == 1) snprintf(sum, sizeof sum, "Moved a face to %s", who);
    else if (move) snprintf(sum, sizeof sum, "Moved %d faces to %s", n, who);
    else if (n == 1) snprintf(sum, sizeof sum, "A face is not %s", who);
    else snprintf(sum, sizeof sum, "%d faces are not %s", n, who);
    return op_start(L, owner, kind, sum, op);
}

int lib_move_faces(struct lib *L, int64_t owner, const int64_t *face_ids, int n, int64_t person_id) {
    int64_t op, from;
    int rc = faces_op(L, owner, face_ids, n, person_id, "move", 1, &op);
    if (rc) return rc;
    if (person_id) rc = store_op_save_person(L->s, op, owner, person_id, 0);
    for (int i = 0; !rc && i < n; i++) {
        if (!(rc = store_op_save_face(L->s, op, owner, face_ids[i])) && !(rc = face_person(L, owner, face_ids[i], &from)) && from)
            rc = store_op_save_person(L->s, op, owner, from, 0);
        if (!rc) rc = store_face_assign(L->s, owner, face_ids[i], person_id, STORE_USER);
    }
    return op_end(L, owner, rc);
}

int lib_reject_faces(struct lib *L, int64_t owner, const int64_t *face_ids, int n, int64_t person_id) {
    if (!person_id) return fh_fail(FH_E_ARG, "reject: a person is needed");
    int64_t op, from;
    int rc = faces_op(L, owner, face_ids, n, person_id, "reject", 0, &op);
    if (rc) return rc;
    rc = store_op_save_person(L->s, op, owner, person_id, 0);
    for (int i = 0; !rc && i < n; i++) {
        if (!(rc = store_op_save_face(L->s, op, owner, face_ids[i])) && !(rc = face_person(L, owner, face_ids[i], &from)) &&
            from && from != person_id)
            rc = store_op_save_person(L->s, op, owner, from, 0);
        if (!rc) rc = store_face_reject(L->s, owner, face_ids[i], person_id);
    }
    return op_end(L, owner, rc);
}

int lib_undo_op(struct lib *L, int64_t owner, struct lib_op *undone) {
    int rc = lib_last_op(L, owner, undone);
    return rc ? rc : lib_undo(L, owner, undone->summary, sizeof undone->summary);
}

int lib_undo(struct lib *L, int64_t owner, char *summary, size_t n) {
    int rc = store_op_undo(L->s, owner, summary, n);
    return rc ? rc : lib_update_avatars(L, owner);
}

struct ids {
    int64_t *v;
    int n, cap;
};
static int ids_cb(void *ctx, const struct store_face *f) {
    struct ids *x = ctx;
    if (x->n >= LIB_FACES_MAX) return FH_E_LIMIT;
    if (fh_grow((void **)&x->v, &x->cap, x->n + 1, sizeof *x->v)) return FH_E_NOMEM;
    x->v[x->n++] = f->id;
    return 0;
}

int lib_persons_apart(struct lib *L, int64_t owner, int64_t person, int64_t other) {
    if (!person || !other || person == other)
        return fh_fail(FH_E_ARG, "apart: two different persons are needed");
    struct ids x = {0};
    int rc = lib_faces_of_person(L, owner, other, ids_cb, &x);
    if (rc == FH_E_LIMIT) rc = fh_fail(FH_E_LIMIT, "apart: person %lld has more than %d faces", (long long)other,
                                       LIB_FACES_MAX);
    else if (rc == FH_E_NOMEM) rc = fh_fail(FH_E_NOMEM, "apart: out of memory");
    if (!rc && !x.n) rc = fh_fail(FH_E_ARG, "apart: person %lld has no faces", (long long)other);
    if (!rc) rc = lib_reject_faces(L, owner, x.v, x.n, person);
    fh_free(x.v);
    return rc;
}
