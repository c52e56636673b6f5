// SPDX-License-Identifier: MIT
// Face recognition per owner, off and on again (lib_recognition_set).
#include <string.h>

#include "base/limits.h"
#include "library/library_int.h"

struct ph {
    int64_t size, mtime;
    char *path;
};
struct phs {
    struct ph *v;
    int n, cap;
};
static int ph_cb(void *ctx, const struct store_photo *p) {
    struct phs *s = ctx;
    size_t l = strlen(p->path);
    char *c = fh_malloc(l + 1);
    if (!c || fh_grow((void **)&s->v, &s->cap, s->n + 1, sizeof *s->v)) {
        fh_free(c);
        return FH_E_NOMEM;
    }
    memcpy(c, p->path, l + 1);
    s->v[s->n++] = (struct ph){p->size, p->mtime, c};
    return 0;
}

// re-analyses every photo of the owner from its stored path (one warm engine)
static int recompute(struct lib *L, int64_t owner, const struct lib_options *o, struct lib_stats *st) {
    struct phs all = {0};
    struct persons_index px = {0};
    int rc = store_photos_each(L->s, owner, ph_cb, &all);
    if (!rc) rc = lib_persons_load(L, owner, &px);
    for (int i = 0; !rc && i < all.n; i++) {
        uint8_t *data = NULL;
        size_t n = 0;
        struct lib_result *r = NULL;
        if (!fh_read_file(all.v[i].path, FH_MAX_IMAGE_FILE_BYTES, &data, &n)) {
            rc = lib_analyse_warm(L, o, data, n, &r);
            fh_free(data);
        } else {
            st->failed++; // the file is gone: the photo stays, without faces
        }
        if (!rc && r) rc = lib_commit_photo(L, owner, &px, o, all.v[i].path, all.v[i].size, all.v[i].mtime, r, st);
        lib_result_free(r);
    }
    lib_persons_free(&px);
    for (int i = 0; i < all.n; i++) fh_free(all.v[i].path);
    fh_free(all.v);
    st->files = all.n;
    if (!rc) rc = lib_promote_unknowns(L, owner, o, st);
    if (!rc) rc = lib_update_avatars(L, owner);
    return rc;
}

int lib_recognition_set(struct lib *L, int64_t owner, int on, const struct lib_options *o, struct lib_stats *st) {
    memset(st, 0, sizeof *st);
    double t0 = fh_now_ms();
    int rc = on ? lib_model_check(L) : FH_OK; // on re-embeds: never with another model
    if (!rc) rc = store_begin(L->s);
    if (!rc) rc = store_user_set_recognition(L->s, owner, on);
    if (!rc) rc = store_owner_forget_faces(L->s, owner);
    if (!rc) rc = store_commit(L->s);
    if (rc) store_rollback(L->s);
    if (!rc && on) rc = recompute(L, owner, o, st);
    st->seconds = (fh_now_ms() - t0) / 1e3;
    return rc;
}
