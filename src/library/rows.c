// SPDX-License-Identifier: MIT
// Owner-scoped reading of the library's rows (library.h "reading the owner's rows"): thin
// views of the store, so that callers such as the server never reach the store themselves.
#include <string.h>

#include "library/library_int.h"

int lib_person_get(struct lib *L, int64_t owner, int64_t person_id, struct store_person *out) {
    return store_person_get(L->s, owner, person_id, out);
}

int lib_persons_each(struct lib *L, int64_t owner, int (*fn)(void *ctx, const struct store_person *p), void *ctx) {
    return store_persons_each(L->s, owner, fn, ctx);
}

int lib_face_get(struct lib *L, int64_t owner, int64_t face_id, struct store_face *out) {
    return store_face_get(L->s, owner, face_id, out);
}

struct of_person {
    int64_t person;
    int (*fn)(void *ctx, const struct store_face *f);
    void *ctx;
    int count;                 // lib_unknown_count
};

static int of_person_cb(void *ctx, const struct store_face *f) {
    struct of_person *c = ctx;
    return f->person_id == c->person ? c->fn(c->ctx, f) : 0;
}

// TODO(store): a store_faces_of_person (WHERE person_id = ?) would avoid the scan of every face
int lib_faces_of_person(struct lib *L, int64_t owner, int64_t person_id,
                        int (*fn)(void *ctx, const struct store_face *f), void *ctx) {
    struct store_person p;
    int rc = person_id ? store_person_get(L->s, owner, person_id, &p) : FH_OK;
    struct of_person c = {.person = person_id, .fn = fn, .ctx = ctx};
    return rc ? rc : store_faces_each(L->s, owner, 0, of_person_cb, &c);
}

int lib_faces_of_photo(struct lib *L, int64_t owner, int64_t photo_id,
                       int (*fn)(void *ctx, const struct store_face *f), void *ctx) {
    return store_faces_of_photo(L->s, owner, photo_id, fn, ctx);
}

static int count_unknown_cb(void *ctx, const struct store_face *f) {
    struct of_person *c = ctx;
    c->count += !f->person_id && !f->trash;
    return 0;
}

int lib_unknown_count(struct lib *L, int64_t owner, int *n) {
    struct of_person c = {0};
    int rc = store_faces_each(L->s, owner, 0, count_unknown_cb, &c);
    *n = c.count;
    return rc;
}

int lib_photo_get(struct lib *L, int64_t owner, int64_t photo_id, struct store_photo *out) {
    return store_photo_get(L->s, owner, photo_id, out);
}

int lib_photo_find(struct lib *L, int64_t owner, const char *path, struct store_photo *out) {
    return store_photo_find(L->s, owner, path, out);
}

int lib_photos_each(struct lib *L, int64_t owner, int (*fn)(void *ctx, const struct store_photo *p), void *ctx) {
    return store_photos_each(L->s, owner, fn, ctx);
}

int lib_path_in_use(struct lib *L, int64_t owner, const char *path, int *yes) {
    return store_path_in_use(L->s, owner, path, yes);
}

int lib_photo_repath(struct lib *L, int64_t owner, const char *old_path, const char *new_path) {
    return store_photo_repath(L->s, owner, old_path, new_path);
}

int lib_user_recognition(struct lib *L, int64_t owner, int *on) { return store_user_get_recognition(L->s, owner, on); }

int lib_user_quota(struct lib *L, int64_t owner, int64_t *bytes) { return store_user_get_quota(L->s, owner, bytes); }

int lib_last_op(struct lib *L, int64_t owner, struct lib_op *op) {
    memset(op, 0, sizeof *op);
    return store_op_last(L->s, owner, &op->id, op->summary, sizeof op->summary);
}
