// SPDX-License-Identifier: MIT
// store: schema creation, persistence and refusal of foreign/newer files (byte-compared),
// the migration framework, every API function on temp-file and ":memory:" databases,
// owner isolation, transactions, FH_E_BUSY from a second connection, the callback rules,
// fail-Nth allocation (SQLite's allocations go through fh_malloc), integrity at the end.
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sqlite3.h>
#include <unistd.h>

#include "base/base.h"
#include "harness.h"
#include "store/store.h"
#include "store/store_int.h"

static char db_path[256], other_path[256];

static void remove_db(const char *p) {
    char x[300];
    remove(p);
    snprintf(x, sizeof x, "%s-wal", p);
    remove(x);
    snprintf(x, sizeof x, "%s-shm", p);
    remove(x);
    snprintf(x, sizeof x, "%s-journal", p);
    remove(x);
}

static int write_bytes(const char *p, const void *b, size_t n) {
    FILE *f = fopen(p, "wb");
    if (!f) return -1;
    size_t w = fwrite(b, 1, n, f);
    return fclose(f) == 0 && w == n ? 0 : -1;
}

static int same_file(const char *p, const uint8_t *b, size_t n) {
    uint8_t *c;
    size_t m;
    if (fh_read_file(p, 64u << 20, &c, &m)) return 0;
    int same = m == n && memcmp(c, b, n) == 0;
    fh_free(c);
    return same;
}

static void put_be32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v;
}
static uint32_t get_be32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void hex64(char out[65], int seed) {
    for (int i = 0; i < 64; i++) out[i] = "0123456789abcdef"[(i * 7 + seed * 13) & 15];
    out[64] = 0;
}

static struct store_photo mkphoto(const char *path, int seed) {
    struct store_photo p;
    memset(&p, 0, sizeof p);
    p.path = path;
    p.size = 1000 + seed;
    p.mtime = 1700000000 + seed;
    hex64(p.sha256, seed);
    p.width = 640;
    p.height = 480;
    return p;
}

static struct store_face mkface(int64_t photo, int64_t model, const float *emb, int dim) {
    struct store_face f;
    memset(&f, 0, sizeof f);
    f.photo_id = photo;
    f.box[0] = 10, f.box[1] = 20, f.box[2] = 110, f.box[3] = 140;
    for (int i = 0; i < 10; i++) f.landmarks[i] = 30.25f + (float)i * 7.125f;
    f.det_score = 0.987654f;
    f.blur = 123.456f;
    f.quality = 0.3333333f;
    f.model_id = model;
    f.dim = dim;
    f.embedding = emb;
    return f;
}

// ---- callbacks ---------------------------------------------------------------------------------
struct collect {
    int n;
    int64_t ids[64];
    int64_t owner_seen_ok; // 1 while every row matched the expectation
    struct store *s;
    int nested_rc, write_rc, inner;
};

static int count_photo(void *ctx, const struct store_photo *p) {
    struct collect *c = ctx;
    if (c->n < 64) c->ids[c->n] = p->id;
    c->n++;
    return 0;
}
static int count_face(void *ctx, const struct store_face *f) {
    struct collect *c = ctx;
    if (c->n < 64) c->ids[c->n] = f->id;
    c->n++;
    return 0;
}
static int count_person(void *ctx, const struct store_person *p) {
    struct collect *c = ctx;
    if (c->n < 64) c->ids[c->n] = p->id;
    c->n++;
    return 0;
}

// ---- the tests ------------------------------------------------------------------------------------
static struct store *s1; // the main temp-file database
static int64_t model;

static void test_open_persist(void) {
    remove_db(db_path);
    struct store *s = NULL;
    int rc = store_open(db_path, &s);
    TEST_COND("open creates a new database", rc == FH_OK && s);
    int v = -1;
    TEST_COND("user_version is the schema version",
              store_schema_version(s, &v) == 0 && v == STORE_SCHEMA_VERSION);
    int64_t uid = 0;
    TEST_COND("'local' is user 1", store_user_get(s, "local", &uid) == 0 && uid == 1);
    TEST_COND("meta set", store_meta_set(s, "thresh", "0.42") == FH_OK);
    TEST_COND("meta overwrite", store_meta_set(s, "thresh", "0.55") == FH_OK);
    store_close(s);
    uint8_t *b;
    size_t n;
    rc = fh_read_file(db_path, 64u << 20, &b, &n);
    TEST_COND("header: user_version and application_id FHDB at offsets 60/68",
              rc == 0 && n >= 100 && get_be32(b + 60) == STORE_SCHEMA_VERSION && get_be32(b + 68) == STORE_APPLICATION_ID);
    TEST_COND("header: WAL mode (read/write versions 2)", rc == 0 && b[18] == 2 && b[19] == 2);
    if (rc == 0) fh_free(b);
    rc = store_open(db_path, &s);
    char buf[32];
    TEST_COND("reopen keeps the data", rc == 0 && store_meta_get(s, "thresh", buf, sizeof buf) == 0 &&
                                            strcmp(buf, "0.55") == 0);
    TEST_COND("meta get truncates to the buffer",
              store_meta_get(s, "thresh", buf, 3) == 0 && strcmp(buf, "0.") == 0);
    TEST_COND("meta get of a missing key is FH_E_NOTFOUND",
              store_meta_get(s, "nope", buf, sizeof buf) == FH_E_NOTFOUND);
    TEST_COND("reopen: still the same version",
              store_schema_version(s, &v) == 0 && v == STORE_SCHEMA_VERSION);
    TEST_COND("store_check ok after reopen", store_check(s) == FH_OK);
    store_close(s);
    store_close(NULL);
}

static void test_refusals(void) {
    // a text file
    char text[4096];
    for (size_t i = 0; i < sizeof text; i++) text[i] = "not a database\n"[i % 15];
    remove_db(other_path);
    write_bytes(other_path, text, sizeof text);
    struct store *s = (struct store *)1;
    int rc = store_open(other_path, &s);
    TEST_COND("a text file is refused with FH_E_DB", rc == FH_E_DB && s == NULL);
    TEST_COND("... naming the problem", strstr(fh_errmsg(), "not a facehatch database") != NULL);
    TEST_COND("... and left byte for byte as it was", same_file(other_path, (uint8_t *)text, sizeof text));

    // ours, but from the future: user_version 99 patched into the header of a real v1 file
    uint8_t *b;
    size_t n;
    rc = fh_read_file(db_path, 64u << 20, &b, &n);
    TEST_COND("read the v1 file", rc == 0);
    if (rc) return;
    put_be32(b + 60, 99);
    remove_db(other_path);
    write_bytes(other_path, b, n);
    rc = store_open(other_path, &s);
    TEST_COND("a newer schema version is refused with FH_E_DB",
              rc == FH_E_DB && s == NULL && strstr(fh_errmsg(), "newer") != NULL);
    TEST_COND("... and left unmodified", same_file(other_path, b, n));

    // SQLite, not ours: another application_id
    put_be32(b + 60, 1);
    put_be32(b + 68, 0x12345678);
    remove_db(other_path);
    write_bytes(other_path, b, n);
    rc = store_open(other_path, &s);
    TEST_COND("another application's SQLite file is refused",
              rc == FH_E_DB && strstr(fh_errmsg(), "0x12345678") != NULL);
    TEST_COND("... and left unmodified", same_file(other_path, b, n));

    // SQLite with tables but no application_id / user_version (a plain foreign database)
    put_be32(b + 60, 0);
    put_be32(b + 68, 0);
    remove_db(other_path);
    write_bytes(other_path, b, n);
    rc = store_open(other_path, &s);
    TEST_COND("a foreign SQLite database with tables is refused",
              rc == FH_E_DB && strstr(fh_errmsg(), "not a facehatch database") != NULL);
    TEST_COND("... and left unmodified", same_file(other_path, b, n));
    fh_free(b);
    remove_db(other_path);

    TEST_COND("a path in a missing directory is FH_E_DB",
              store_open("/nonexistent-dir-fh/x.db", &s) == FH_E_DB && s == NULL);
    TEST_COND("an empty path is FH_E_ARG", store_open("", &s) == FH_E_ARG);
}

static void test_migrations(void) {
    struct store *s;
    int rc = store_open(":memory:", &s);
    TEST_COND(":memory: opens at the schema version", rc == 0);
    if (rc) return;
    enum { N = STORE_SCHEMA_VERSION };
    int v = 0;
    // the real steps, then one more
    const char *bad[N + 1], *good[N + 1];
    for (int i = 0; i < N; i++) bad[i] = good[i] = store_migrations[i];
    bad[N] = "CREATE TABLE extra (x INTEGER); SELECT no_such_column FROM extra";
    good[N] = "CREATE TABLE extra (x INTEGER)";
    rc = store_migrate(s, bad, N + 1);
    TEST_COND("a failing step returns FH_E_DB", rc == FH_E_DB);
    TEST_COND("... and leaves the version", store_schema_version(s, &v) == 0 && v == N);
    rc = store_migrate(s, good, N + 1);
    // the same CREATE TABLE succeeds, so the failed step's table was rolled back
    TEST_COND("a further step runs (the failed one left nothing)", rc == 0);
    TEST_COND("... and sets user_version + 1", store_schema_version(s, &v) == 0 && v == N + 1);
    TEST_COND("migrating again is a no-op", store_migrate(s, good, N + 1) == 0);
    TEST_COND("a program knowing fewer steps refuses the database",
              store_migrate(s, store_migrations, N) == FH_E_DB);
    store_close(s);
}

// A version-1 database with data (written with SQLite directly: photos, persons, faces
// with blobs, a reject, an avatar, gaps in the ids) migrates to the current schema with
// every row and id kept; afterwards a deleted person's id is never given out again.
static void test_migrate_v1_data(void) {
    remove_db(other_path);
    sqlite3 *db;
    char sql[4096];
    int ok = sqlite3_open(other_path, &db) == SQLITE_OK;
    snprintf(sql, sizeof sql, "%s; PRAGMA user_version = 1; PRAGMA application_id = %d;"
             "INSERT INTO models (id, name, version, sha256, dim) VALUES (1, 'm', 'v', 'x', 2);"
             "INSERT INTO photos VALUES (3, 1, '/a.jpg', 10, 20, 'aa', 100, 80, 0, NULL);"
             "INSERT INTO photos VALUES (7, 1, '/b.jpg', 11, 21, 'bb', 0, 0, 1, 'broken');"
             "INSERT INTO persons VALUES (5, 1, 'Anna', 0, NULL, 0), (9, 1, NULL, 1, NULL, 0);"
             "INSERT INTO faces VALUES (4, 1, 3, 5, 1, 1, 2, 30, 40, 0.9, 55.5, 0.7, 0, 0, 1, 2,"
             " zeroblob(40), x'0000803f00000000', x'ffd8ffd9');"
             "INSERT INTO faces VALUES (8, 1, 3, 9, 0, 50, 2, 80, 40, 0.8, 44.5, 0.6, 0, 0, 1, 2,"
             " zeroblob(40), x'000000000000803f', NULL);"
             "UPDATE persons SET avatar_face = 4, avatar_by_user = 1 WHERE id = 5;"
             "INSERT INTO face_rejects VALUES (8, 5);",
             store_migrations[0], STORE_APPLICATION_ID);
    ok = ok && sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK;
    sqlite3_close(db);
    TEST_COND("a version-1 database with data written", ok);
    struct store *s;
    int rc = store_open(other_path, &s), v = 0;
    TEST_COND("it opens (migrates)", rc == FH_OK);
    if (rc) return;
    TEST_COND("... to the current version", store_schema_version(s, &v) == 0 && v == STORE_SCHEMA_VERSION);
    TEST_COND("... integrity and foreign keys ok", store_check(s) == FH_OK);
    struct store_photo p;
    TEST_COND("photo 3 kept with its columns", store_photo_get(s, 1, 3, &p) == 0 && !strcmp(p.path, "/a.jpg") &&
                                                   p.size == 10 && p.mtime == 20 && p.width == 100 && p.n_faces == 2);
    TEST_COND("photo 7 kept with its error", store_photo_get(s, 1, 7, &p) == 0 && p.status == 1 &&
                                                 p.error && !strcmp(p.error, "broken"));
    struct store_face f;
    rc = store_face_get(s, 1, 4, &f);
    TEST_COND("face 4 kept: person, assignment, box, scores", rc == 0 && f.person_id == 5 &&
              f.assigned == 1 && f.box[2] == 30 && f.det_score > 0.89f && f.dim == 2);
    TEST_COND("... and its blobs", rc == 0 && f.embedding && f.embedding[0] == 1.0f && f.thumb_size == 4 &&
                                       f.thumb[0] == 0xff);
    TEST_COND("face 8 kept", store_face_get(s, 1, 8, &f) == 0 && f.person_id == 9 && f.assigned == 0);
    struct store_person q;
    TEST_COND("person 5 kept: name, avatar by the user", store_person_get(s, 1, 5, &q) == 0 &&
              q.name && !strcmp(q.name, "Anna") && q.avatar_face == 4 && q.avatar_by_user == 1);
    TEST_COND("person 9 kept: unnamed, hidden", store_person_get(s, 1, 9, &q) == 0 && !q.name && q.hidden == 1);
    TEST_COND("the reject kept", store_face_is_rejected(s, 8, 5) == 1);
    // ids are never reused
    int64_t a = 0, b = 0, c = 0;
    TEST_COND("a new person after the migration gets a fresh id", store_person_create(s, 1, "X", &a) == 0 && a > 9);
    TEST_COND("a person is deleted (merged away)", store_person_merge(s, 1, 5, a) == 0 &&
                                                       store_person_get(s, 1, a, &q) == FH_E_NOTFOUND);
    TEST_COND("the next person's id is new, not the deleted one's",
              store_person_create(s, 1, "Y", &b) == 0 && b > a);
    struct store_photo np = mkphoto("/c.jpg", 3);
    TEST_COND("photo ids too", store_photo_upsert(s, 1, &np, &c) == 0 && store_photo_delete(s, 1, c) == 0 &&
                                   store_photo_upsert(s, 1, &np, &b) == 0 && b > c);
    np.orig_name = "IMG 0001.JPG";
    TEST_COND("an upload keeps its original name", store_photo_upsert(s, 1, &np, &c) == 0 &&
              store_photo_get(s, 1, c, &p) == 0 && p.orig_name && !strcmp(p.orig_name, "IMG 0001.JPG"));
    np.orig_name = NULL;
    TEST_COND("... re-upserting without one keeps it", store_photo_upsert(s, 1, &np, &c) == 0 &&
              store_photo_get(s, 1, c, &p) == 0 && p.orig_name && !strcmp(p.orig_name, "IMG 0001.JPG"));
    TEST_COND("indexed photos have none", store_photo_get(s, 1, 3, &p) == 0 && !p.orig_name);
    TEST_COND("integrity ok at the end", store_check(s) == FH_OK);
    store_close(s);
    remove_db(other_path);
}

static void test_limits(struct store *s) {
    static char longpath[STORE_PATH_MAX + 2];
    memset(longpath, 'a', STORE_PATH_MAX + 1);
    longpath[0] = '/';
    struct store_photo p = mkphoto(longpath, 1);
    int64_t id;
    TEST_COND("path > 4096 bytes: FH_E_ARG", store_photo_upsert(s, 1, &p, &id) == FH_E_ARG);
    longpath[STORE_PATH_MAX] = 0;
    struct store_photo p2 = mkphoto(longpath, 1);
    TEST_COND("path of exactly 4096 bytes is accepted", store_photo_upsert(s, 1, &p2, &id) == 0);
    TEST_COND("... and deleted", store_photo_delete(s, 1, id) == 0);
    struct store_photo p3 = mkphoto("", 1);
    TEST_COND("empty path: FH_E_ARG", store_photo_upsert(s, 1, &p3, &id) == FH_E_ARG);
    struct store_photo p4 = mkphoto("/x.jpg", 1);
    p4.sha256[10] = 'z';
    TEST_COND("bad sha256: FH_E_ARG", store_photo_upsert(s, 1, &p4, &id) == FH_E_ARG);

    struct store_photo ph = mkphoto("/limits.jpg", 2);
    int64_t pid;
    store_photo_upsert(s, 1, &ph, &pid);
    static float emb[STORE_EMB_MAX + 1];
    struct store_face f = mkface(pid, model, emb, STORE_EMB_MAX + 1);
    TEST_COND("dim 513: FH_E_ARG", store_face_insert(s, 1, &f, &id) == FH_E_ARG);
    static uint8_t thumb[STORE_THUMB_MAX + 1];
    f = mkface(pid, 0, NULL, 0);
    f.thumb = thumb;
    f.thumb_size = STORE_THUMB_MAX + 1;
    TEST_COND("thumbnail > 1 MB: FH_E_ARG", store_face_insert(s, 1, &f, &id) == FH_E_ARG);
    f.thumb_size = STORE_THUMB_MAX;
    TEST_COND("thumbnail of exactly 1 MB is accepted", store_face_insert(s, 1, &f, &id) == 0);
    float e4[128] = {0};
    e4[5] = NAN;
    f = mkface(pid, model, e4, 128);
    TEST_COND("NaN in an embedding: FH_E_ARG", store_face_insert(s, 1, &f, &id) == FH_E_ARG);
    e4[5] = 0;
    f = mkface(pid, model, e4, 64);
    TEST_COND("dim differing from the model's: FH_E_ARG", store_face_insert(s, 1, &f, &id) == FH_E_ARG);
    int64_t m2;
    TEST_COND("model re-registered with another dim: FH_E_ARG",
              store_model_get(s, "mobilefacenet", "1", "ab", 128, &m2) == FH_E_ARG &&
                  store_model_get(s, "mobilefacenet", "1.0", "0123456789abcdef0123456789abcdef"
                                  "0123456789abcdef0123456789abcdef", 64, &m2) == FH_E_ARG);
    char name[STORE_NAME_MAX + 2];
    memset(name, 'n', sizeof name - 1);
    name[sizeof name - 1] = 0;
    TEST_COND("person name > 256 bytes: FH_E_ARG", store_person_create(s, 1, name, &id) == FH_E_ARG);
    struct collect c = {0};
    store_faces_of_photo(s, 1, pid, count_face, &c);
    TEST_COND("only the accepted face was stored", c.n == 1);
    const char *msha = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    struct store_model om;
    f = mkface(pid, model, e4, 128);
    TEST_COND("a face of the model", store_face_insert(s, 1, &f, &id) == 0);
    TEST_COND("model_other: none besides the faces' own model",
              store_model_other(s, "mobilefacenet", "1.0", msha, &om) == FH_E_NOTFOUND);
    TEST_COND("model_other: another model (same name, other sha256) sees the face's model",
              store_model_other(s, "mobilefacenet", "1.0", "f123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                                &om) == 0 && om.id == model && om.faces == 1 && om.dim == 128 &&
                  !strcmp(om.name, "mobilefacenet") && !strcmp(om.version, "1.0") && !strcmp(om.sha256, msha));
    store_photo_delete(s, 1, pid);
    TEST_COND("model_other: a model without faces is never another",
              store_model_other(s, "x", "1", msha, &om) == FH_E_NOTFOUND);
}

static void test_photos_faces(struct store *s) {
    char sha[65];
    hex64(sha, 9);
    int64_t m2 = 0;
    TEST_COND("model_get creates",
              store_model_get(s, "mobilefacenet", "1.0", "0123456789abcdef0123456789abcdef"
                              "0123456789abcdef0123456789abcdef", 128, &model) == 0 && model > 0);
    TEST_COND("model_get finds the same",
              store_model_get(s, "mobilefacenet", "1.0", "0123456789abcdef0123456789abcdef"
                              "0123456789abcdef0123456789abcdef", 128, &m2) == 0 && m2 == model);

    struct store_photo p = mkphoto("/lib/b.jpg", 1), q;
    p.error = NULL;
    int64_t pid = 0, pid2 = 0;
    TEST_COND("photo insert", store_photo_upsert(s, 1, &p, &pid) == 0 && pid > 0);
    TEST_COND("photo find", store_photo_find(s, 1, "/lib/b.jpg", &q) == 0 && q.id == pid &&
                                 strcmp(q.path, "/lib/b.jpg") == 0 && q.size == 1001 &&
                                 q.mtime == 1700000001 && strcmp(q.sha256, p.sha256) == 0 &&
                                 q.width == 640 && q.height == 480 && q.status == 0 &&
                                 q.error == NULL && q.n_faces == 0);
    TEST_COND("missing photo: FH_E_NOTFOUND", store_photo_find(s, 1, "/none.jpg", &q) == FH_E_NOTFOUND);
    TEST_COND("photo get by id", store_photo_get(s, 1, pid, &q) == 0 && q.id == pid &&
                                     strcmp(q.path, "/lib/b.jpg") == 0 && q.size == 1001);
    TEST_COND("photo get of a missing id: FH_E_NOTFOUND", store_photo_get(s, 1, 987654, &q) == FH_E_NOTFOUND);

    // a face with every field set, embedding with awkward values, thumbnail with zero bytes
    float emb[128];
    for (int i = 0; i < 128; i++) emb[i] = (float)i * 0.37f - 5.0f;
    emb[0] = -0.0f, emb[1] = 1e-40f, emb[2] = FLT_MAX, emb[3] = -FLT_MIN, emb[4] = 1.0f / 3.0f;
    uint8_t thumb[3000];
    for (int i = 0; i < 3000; i++) thumb[i] = (uint8_t)(i * 131 + (i >> 3));
    thumb[0] = 0, thumb[1] = 0xFF, thumb[2] = 0xD8;
    struct store_face f = mkface(pid, model, emb, 128), g;
    f.thumb = thumb;
    f.thumb_size = sizeof thumb;
    f.blurry = 1;
    f.trash = 0;
    int64_t f1 = 0, f2 = 0, f3 = 0;
    TEST_COND("face insert", store_face_insert(s, 1, &f, &f1) == 0 && f1 > 0);
    int rc = store_face_get(s, 1, f1, &g);
    TEST_COND("face get", rc == 0 && g.id == f1 && g.photo_id == pid);
    TEST_COND("embedding round trip is bit-exact",
              rc == 0 && g.dim == 128 && g.embedding && memcmp(g.embedding, emb, sizeof emb) == 0);
    TEST_COND("thumbnail round trip is exact", rc == 0 && g.thumb_size == sizeof thumb && g.thumb &&
                                                   memcmp(g.thumb, thumb, sizeof thumb) == 0);
    TEST_COND("box, landmarks, scores, flags round trip",
              rc == 0 && memcmp(g.box, f.box, sizeof f.box) == 0 &&
                  memcmp(g.landmarks, f.landmarks, sizeof f.landmarks) == 0 &&
                  g.det_score == f.det_score && g.blur == f.blur && g.quality == f.quality &&
                  g.blurry == 1 && g.trash == 0 && g.model_id == model && g.person_id == 0 &&
                  g.assigned == STORE_AUTO);
    struct store_face nf = mkface(pid, 0, NULL, 0);
    nf.trash = 1;
    TEST_COND("a face without embedding (dim 0)", store_face_insert(s, 1, &nf, &f2) == 0);
    TEST_COND("... reads back with no embedding, no thumbnail",
              store_face_get(s, 1, f2, &g) == 0 && g.dim == 0 && !g.embedding && !g.thumb &&
                  g.thumb_size == 0 && g.trash == 1);
    TEST_COND("third face", store_face_insert(s, 1, &f, &f3) == 0);
    TEST_COND("n_faces counts the stored faces", store_photo_find(s, 1, "/lib/b.jpg", &q) == 0 && q.n_faces == 3);
    TEST_COND("missing face: FH_E_NOTFOUND", store_face_get(s, 1, 999999, &g) == FH_E_NOTFOUND);

    struct collect c = {0};
    TEST_COND("faces_of_photo lists 3 in id order",
              store_faces_of_photo(s, 1, pid, count_face, &c) == 0 && c.n == 3 && c.ids[0] == f1 &&
                  c.ids[1] == f2 && c.ids[2] == f3);

    // upsert with the same content keeps the faces, changed content drops them
    struct store_photo p2 = p;
    p2.mtime += 100;
    TEST_COND("upsert, same sha256: same id", store_photo_upsert(s, 1, &p2, &pid2) == 0 && pid2 == pid);
    TEST_COND("... faces kept", store_photo_find(s, 1, "/lib/b.jpg", &q) == 0 && q.n_faces == 3 &&
                                    q.mtime == p2.mtime);
    hex64(p2.sha256, 77);
    p2.status = 1;
    p2.error = "jpeg: premature end";
    TEST_COND("upsert, new sha256: same id", store_photo_upsert(s, 1, &p2, &pid2) == 0 && pid2 == pid);
    TEST_COND("... faces deleted, fields replaced",
              store_photo_find(s, 1, "/lib/b.jpg", &q) == 0 && q.n_faces == 0 && q.status == 1 &&
                  q.error && strcmp(q.error, "jpeg: premature end") == 0 &&
                  strcmp(q.sha256, p2.sha256) == 0);
    TEST_COND("... the old face is gone", store_face_get(s, 1, f1, &g) == FH_E_NOTFOUND);

    struct store_photo pa = mkphoto("/lib/a.jpg", 3), pc = mkphoto("/lib/c.jpg", 4);
    int64_t ia, ic;
    store_photo_upsert(s, 1, &pc, &ic);
    store_photo_upsert(s, 1, &pa, &ia);
    memset(&c, 0, sizeof c);
    TEST_COND("photos_each is ordered by path",
              store_photos_each(s, 1, count_photo, &c) == 0 && c.n == 3 && c.ids[0] == ia &&
                  c.ids[1] == pid && c.ids[2] == ic);

    // faces_each with and without blobs
    int64_t fa, fb;
    struct store_face fx = mkface(ia, model, emb, 128);
    fx.thumb = thumb, fx.thumb_size = 100;
    store_face_insert(s, 1, &fx, &fa);
    store_face_insert(s, 1, &fx, &fb);
    (void)fb;
    memset(&c, 0, sizeof c);
    TEST_COND("faces_each lists the owner's faces", store_faces_each(s, 1, 1, count_face, &c) == 0 && c.n == 2 && c.ids[0] == fa);
    TEST_COND("photo delete", store_photo_delete(s, 1, ia) == 0);
    TEST_COND("... cascades to its faces", store_face_get(s, 1, fa, &g) == FH_E_NOTFOUND);
    TEST_COND("deleting it again: FH_E_NOTFOUND", store_photo_delete(s, 1, ia) == FH_E_NOTFOUND);
    store_photo_delete(s, 1, ic);
    store_photo_delete(s, 1, pid);
}

static int check_blobs(void *ctx, const struct store_face *f) {
    int *bad = ctx;
    if (f->dim != 128 || !f->embedding || f->embedding[7] != 7 * 0.5f || f->thumb_size != 10 ||
        f->thumb[9] != 9)
        (*bad)++;
    return 0;
}
static int check_emb(void *ctx, const struct store_face *f) {
    int *bad = ctx;
    if (f->dim != 128 || !f->embedding || f->embedding[7] != 7 * 0.5f || f->thumb || f->thumb_size) (*bad)++;
    return 0;
}
static int check_lite(void *ctx, const struct store_face *f) {
    int *bad = ctx;
    if (f->dim != 128 || f->embedding || f->thumb || f->thumb_size) (*bad)++;
    return 0;
}

struct person_row {
    int64_t id;
    int n_faces, n_photos;
};
struct person_list {
    int n;
    struct person_row r[16];
};
static int list_person(void *ctx, const struct store_person *p) {
    struct person_list *l = ctx;
    if (l->n < 16) l->r[l->n] = (struct person_row){p->id, p->n_faces, p->n_photos};
    l->n++;
    return 0;
}

static void test_persons(struct store *s) {
    float emb[128];
    for (int i = 0; i < 128; i++) emb[i] = (float)i * 0.5f;
    uint8_t thumb[10] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
    struct store_photo ph1 = mkphoto("/p/1.jpg", 11), ph2 = mkphoto("/p/2.jpg", 12);
    int64_t p1, p2, f[8];
    store_photo_upsert(s, 1, &ph1, &p1);
    store_photo_upsert(s, 1, &ph2, &p2);
    for (int i = 0; i < 8; i++) {
        struct store_face x = mkface(i < 4 ? p1 : p2, model, emb, 128);
        x.thumb = thumb, x.thumb_size = sizeof thumb;
        store_face_insert(s, 1, &x, &f[i]);
    }
    int bad = 0;
    store_faces_each(s, 1, 1, check_blobs, &bad);
    TEST_COND("faces_each with blobs: embedding and thumbnail", bad == 0);
    bad = 0;
    store_faces_each(s, 1, 0, check_lite, &bad);
    TEST_COND("faces_each without blobs: none, dim kept", bad == 0);
    bad = 0;
    TEST_COND("faces_each STORE_FACES_EMB: the embedding, no thumbnail",
              store_faces_each(s, 1, STORE_FACES_EMB, check_emb, &bad) == 0 && bad == 0);
    TEST_COND("faces_each with_blobs 4: FH_E_ARG", store_faces_each(s, 1, 4, check_emb, &bad) == FH_E_ARG);
    struct collect un = {0};
    store_face_assign(s, 1, f[0], 0, STORE_USER); // the user's "unknown": not listed
    TEST_COND("faces_each STORE_FACES_UNKNOWN: the 7 automatic unknowns",
              store_faces_each(s, 1, STORE_FACES_UNKNOWN, count_face, &un) == 0 && un.n == 7 && un.ids[0] == f[1]);

    int64_t A, B, C, D, E;
    struct store_person pp;
    TEST_COND("create named", store_person_create(s, 1, "Alice", &A) == 0);
    TEST_COND("create unnamed (NULL)", store_person_create(s, 1, NULL, &B) == 0);
    TEST_COND("create with \"\" is unnamed", store_person_create(s, 1, "", &C) == 0 &&
                                                  store_person_get(s, 1, C, &pp) == 0 && pp.name == NULL);
    TEST_COND("get", store_person_get(s, 1, A, &pp) == 0 && pp.id == A && strcmp(pp.name, "Alice") == 0 &&
                         pp.hidden == 0 && pp.avatar_face == 0 && pp.n_faces == 0);
    TEST_COND("find by name", store_person_find(s, 1, "Alice", &pp) == 0 && pp.id == A);
    TEST_COND("find missing: FH_E_NOTFOUND", store_person_find(s, 1, "Zed", &pp) == FH_E_NOTFOUND);
    TEST_COND("rename", store_person_rename(s, 1, B, "Bob") == 0 && store_person_get(s, 1, B, &pp) == 0 &&
                            strcmp(pp.name, "Bob") == 0);
    TEST_COND("rename to a shared name", store_person_rename(s, 1, C, "Bob") == 0);
    TEST_COND("find with two matches: FH_E_ARG", store_person_find(s, 1, "Bob", &pp) == FH_E_ARG);
    TEST_COND("rename to NULL unnames", store_person_rename(s, 1, C, NULL) == 0 &&
                                            store_person_get(s, 1, C, &pp) == 0 && pp.name == NULL);
    TEST_COND("hide", store_person_hide(s, 1, A, 1) == 0 && store_person_get(s, 1, A, &pp) == 0 && pp.hidden == 1);
    TEST_COND("unhide", store_person_hide(s, 1, A, 0) == 0 && store_person_get(s, 1, A, &pp) == 0 && pp.hidden == 0);
    TEST_COND("missing person: FH_E_NOTFOUND", store_person_get(s, 1, 99999, &pp) == FH_E_NOTFOUND &&
                                                   store_person_rename(s, 1, 99999, "x") == FH_E_NOTFOUND);

    // assignments: A gets f0 (auto), f1 (user), f4 (auto, other photo); B gets f2, f3
    TEST_COND("assign auto", store_face_assign(s, 1, f[0], A, STORE_AUTO) == 0);
    TEST_COND("assign user", store_face_assign(s, 1, f[1], A, STORE_USER) == 0);
    store_face_assign(s, 1, f[4], A, STORE_AUTO);
    store_face_assign(s, 1, f[2], B, STORE_AUTO);
    store_face_assign(s, 1, f[3], B, STORE_AUTO);
    struct store_face g;
    TEST_COND("face shows its person and who",
              store_face_get(s, 1, f[1], &g) == 0 && g.person_id == A && g.assigned == STORE_USER);
    TEST_COND("counts: 3 faces over 2 photos", store_person_get(s, 1, A, &pp) == 0 && pp.n_faces == 3 &&
                                                  pp.n_photos == 2);
    struct person_list l = {0};
    TEST_COND("persons_each: ordered by face count, then id",
              store_persons_each(s, 1, list_person, &l) == 0 && l.n == 3 && l.r[0].id == A &&
                  l.r[0].n_faces == 3 && l.r[0].n_photos == 2 && l.r[1].id == B &&
                  l.r[1].n_faces == 2 && l.r[1].n_photos == 1 && l.r[2].id == C && l.r[2].n_faces == 0);

    TEST_COND("clear_auto", store_faces_clear_auto(s, 1) == 0);
    TEST_COND("... keeps the user's assignment",
              store_face_get(s, 1, f[1], &g) == 0 && g.person_id == A && g.assigned == STORE_USER);
    TEST_COND("... drops the automatic ones", store_face_get(s, 1, f[0], &g) == 0 && g.person_id == 0 &&
                                                  store_person_get(s, 1, B, &pp) == 0 && pp.n_faces == 0);

    // avatars
    TEST_COND("avatar must be a face of the person", store_person_set_avatar(s, 1, A, f[0], 1) == FH_E_ARG);
    TEST_COND("user avatar", store_person_set_avatar(s, 1, A, f[1], 1) == 0 &&
                                 store_person_get(s, 1, A, &pp) == 0 && pp.avatar_face == f[1] &&
                                 pp.avatar_by_user == 1);
    store_face_assign(s, 1, f[0], A, STORE_AUTO);
    TEST_COND("an automatic pick keeps the user's", store_person_set_avatar(s, 1, A, f[0], 0) == 0 &&
                                                       store_person_get(s, 1, A, &pp) == 0 &&
                                                       pp.avatar_face == f[1]);

    // reject: the face leaves the person and its avatar; clustering may not put it back
    TEST_COND("reject", store_face_reject(s, 1, f[1], A) == 0);
    TEST_COND("... is_rejected", store_face_is_rejected(s, f[1], A) == 1 && store_face_is_rejected(s, f[0], A) == 0);
    TEST_COND("... face became unknown", store_face_get(s, 1, f[1], &g) == 0 && g.person_id == 0);
    TEST_COND("... avatar cleared", store_person_get(s, 1, A, &pp) == 0 && pp.avatar_face == 0 &&
                                        pp.avatar_by_user == 0);
    TEST_COND("reject twice is fine", store_face_reject(s, 1, f[1], A) == 0);
    TEST_COND("automatic assignment back: FH_E_ARG", store_face_assign(s, 1, f[1], A, STORE_AUTO) == FH_E_ARG);
    TEST_COND("a user assignment back lifts the reject",
              store_face_assign(s, 1, f[1], A, STORE_USER) == 0 && store_face_is_rejected(s, f[1], A) == 0);
    store_face_reject(s, 1, f[1], A);
    TEST_COND("rejecting from a person it is not in keeps its person",
              store_face_assign(s, 1, f[5], B, STORE_AUTO) == 0 && store_face_reject(s, 1, f[5], A) == 0 &&
                  store_face_get(s, 1, f[5], &g) == 0 && g.person_id == B);
    TEST_COND("an avatar that leaves by assignment is cleared",
              store_person_set_avatar(s, 1, B, f[5], 0) == 0 &&
                  store_face_assign(s, 1, f[5], 0, STORE_USER) == 0 &&
                  store_person_get(s, 1, B, &pp) == 0 && pp.avatar_face == 0);

    // merge: D (unnamed, f6) <- E ("Eve", f2 avatar by user, f3 rejected for D, reject f7/E)
    store_person_create(s, 1, NULL, &D);
    store_person_create(s, 1, "Eve", &E);
    store_face_assign(s, 1, f[6], D, STORE_AUTO);
    store_face_assign(s, 1, f[2], E, STORE_AUTO);
    store_face_assign(s, 1, f[3], E, STORE_AUTO);
    store_person_set_avatar(s, 1, E, f[2], 1);
    store_face_reject(s, 1, f[3], D);
    store_face_reject(s, 1, f[7], E);
    TEST_COND("merge into itself: FH_E_ARG", store_person_merge(s, 1, D, D) == FH_E_ARG);
    TEST_COND("merge", store_person_merge(s, 1, D, E) == 0);
    TEST_COND("... from is deleted", store_person_get(s, 1, E, &pp) == FH_E_NOTFOUND);
    TEST_COND("... unnamed into takes from's name, and its avatar",
              store_person_get(s, 1, D, &pp) == 0 && pp.name && strcmp(pp.name, "Eve") == 0 &&
                  pp.avatar_face == f[2] && pp.avatar_by_user == 1);
    TEST_COND("... faces moved, user-assigned", store_face_get(s, 1, f[2], &g) == 0 && g.person_id == D &&
                                                    g.assigned == STORE_USER);
    TEST_COND("... into's own face stays", store_face_get(s, 1, f[6], &g) == 0 && g.person_id == D &&
                                               g.assigned == STORE_AUTO);
    TEST_COND("... a face rejected for into stays out", store_face_get(s, 1, f[3], &g) == 0 && g.person_id == 0 &&
                                                            store_face_is_rejected(s, f[3], D) == 1);
    TEST_COND("... rejects carried over", store_face_is_rejected(s, f[7], D) == 1 &&
                                              store_face_is_rejected(s, f[7], E) == 0);
    TEST_COND("... counts", pp.n_faces == 2 && pp.n_photos == 2);
    int64_t P, Q;
    store_person_create(s, 1, "Paul", &P);
    store_person_create(s, 1, "Quinn", &Q);
    TEST_COND("merge keeps into's name", store_person_merge(s, 1, P, Q) == 0 &&
                                             store_person_get(s, 1, P, &pp) == 0 && strcmp(pp.name, "Paul") == 0);

    // prune: unnamed and empty goes; named or non-empty stays
    int64_t U;
    store_person_create(s, 1, NULL, &U);
    TEST_COND("prune", store_persons_prune(s, 1) == 0);
    TEST_COND("... removed the unnamed empty persons",
              store_person_get(s, 1, U, &pp) == FH_E_NOTFOUND && store_person_get(s, 1, C, &pp) == FH_E_NOTFOUND);
    TEST_COND("... kept named empty ones and ones with faces",
              store_person_get(s, 1, B, &pp) == 0 && store_person_get(s, 1, P, &pp) == 0 &&
                  store_person_get(s, 1, D, &pp) == 0 && store_person_get(s, 1, A, &pp) == 0);

    // face and photo deletion
    TEST_COND("face delete", store_face_delete(s, 1, f[2]) == 0 && store_face_get(s, 1, f[2], &g) == FH_E_NOTFOUND);
    TEST_COND("... avatar that was it is cleared", store_person_get(s, 1, D, &pp) == 0 && pp.avatar_face == 0);
    TEST_COND("face delete again: FH_E_NOTFOUND", store_face_delete(s, 1, f[2]) == FH_E_NOTFOUND);
    store_person_set_avatar(s, 1, D, f[6], 0);
    TEST_COND("photo delete cascades: faces, rejects, avatar; the person stays",
              store_photo_delete(s, 1, p2) == 0 && store_face_get(s, 1, f[6], &g) == FH_E_NOTFOUND &&
                  store_face_is_rejected(s, f[7], D) == 0 && store_person_get(s, 1, D, &pp) == 0 &&
                  pp.avatar_face == 0 && pp.n_faces == 0);
    TEST_COND("store_check after all that", store_check(s) == FH_OK);
}

static void test_owners(struct store *s) {
    int64_t u2 = 0, again = 0;
    TEST_COND("a second user", store_user_get(s, "alice", &u2) == 0 && u2 != 1 &&
                                   store_user_get(s, "alice", &again) == 0 && again == u2);
    int64_t found = 0;
    TEST_COND("store_user_id finds an existing user", store_user_id(s, "alice", &found) == 0 && found == u2);
    TEST_COND("store_user_id: absent is FH_E_NOTFOUND", store_user_id(s, "nobody-here", &found) == FH_E_NOTFOUND);
    TEST_COND("... and creates nothing", store_user_id(s, "nobody-here", &found) == FH_E_NOTFOUND);
    TEST_COND("store_user_id: an empty name is FH_E_ARG", store_user_id(s, "", &found) == FH_E_ARG);
    float emb[128] = {0};
    struct store_photo ph = mkphoto("/shared/name.jpg", 21);
    int64_t p1, p2, f1, f2, pers1, pers2, id;
    store_photo_upsert(s, 1, &ph, &p1);
    TEST_COND("same path for another owner is another photo",
              store_photo_upsert(s, u2, &ph, &p2) == 0 && p2 != p1);
    struct store_face fa = mkface(p1, model, emb, 128), fb = mkface(p2, model, emb, 128);
    store_face_insert(s, 1, &fa, &f1);
    store_face_insert(s, u2, &fb, &f2);
    store_person_create(s, 1, "Mine", &pers1);
    store_person_create(s, u2, "Hers", &pers2);
    store_face_assign(s, 1, f1, pers1, STORE_USER);

    struct store_photo q;
    struct store_face g;
    struct store_person pp;
    TEST_COND("find by path gives the owner's own photo", store_photo_find(s, u2, ph.path, &q) == 0 && q.id == p2);
    TEST_COND("user 2 cannot get user 1's photo by id", store_photo_get(s, u2, p1, &q) == FH_E_NOTFOUND);
    TEST_COND("user 2 cannot get user 1's face", store_face_get(s, u2, f1, &g) == FH_E_NOTFOUND);
    TEST_COND("user 2 cannot get user 1's person", store_person_get(s, u2, pers1, &pp) == FH_E_NOTFOUND);
    TEST_COND("user 2 cannot find user 1's person by name", store_person_find(s, u2, "Mine", &pp) == FH_E_NOTFOUND);
    struct collect c = {0};
    store_photos_each(s, u2, count_photo, &c);
    TEST_COND("user 2's photo listing has only hers", c.n == 1 && c.ids[0] == p2);
    memset(&c, 0, sizeof c);
    store_faces_each(s, u2, 1, count_face, &c);
    TEST_COND("user 2's face listing has only hers", c.n == 1 && c.ids[0] == f2);
    memset(&c, 0, sizeof c);
    store_faces_of_photo(s, u2, p1, count_face, &c);
    TEST_COND("user 2 lists no faces of user 1's photo", c.n == 0);
    memset(&c, 0, sizeof c);
    store_persons_each(s, u2, count_person, &c);
    TEST_COND("user 2's person listing has only hers", c.n == 1 && c.ids[0] == pers2);
    memset(&c, 0, sizeof c);
    store_photos_each(s, 1, count_photo, &c);
    int leak = 0;
    for (int i = 0; i < c.n && i < 64; i++) leak |= c.ids[i] == p2;
    TEST_COND("and user 1's listing has none of hers", !leak);

    TEST_COND("user 2 cannot write user 1's rows",
              store_face_assign(s, u2, f1, 0, STORE_USER) == FH_E_NOTFOUND &&
                  store_face_assign(s, u2, f2, pers1, STORE_USER) == FH_E_NOTFOUND &&
                  store_face_reject(s, u2, f1, pers1) == FH_E_NOTFOUND &&
                  store_face_reject(s, u2, f2, pers1) == FH_E_NOTFOUND &&
                  store_face_delete(s, u2, f1) == FH_E_NOTFOUND &&
                  store_photo_delete(s, u2, p1) == FH_E_NOTFOUND &&
                  store_person_rename(s, u2, pers1, "x") == FH_E_NOTFOUND &&
                  store_person_hide(s, u2, pers1, 1) == FH_E_NOTFOUND &&
                  store_person_set_avatar(s, u2, pers1, f1, 1) == FH_E_NOTFOUND &&
                  store_person_merge(s, u2, pers2, pers1) == FH_E_NOTFOUND &&
                  store_person_merge(s, 1, pers1, pers2) == FH_E_NOTFOUND);
    struct store_face into1 = mkface(p1, model, emb, 128);
    TEST_COND("user 2 cannot add a face to user 1's photo", store_face_insert(s, u2, &into1, &id) == FH_E_NOTFOUND);
    into1 = mkface(p2, model, emb, 128);
    into1.person_id = pers1;
    TEST_COND("... nor put her face in user 1's person", store_face_insert(s, u2, &into1, &id) == FH_E_NOTFOUND);
    store_faces_clear_auto(s, u2);
    store_persons_prune(s, u2);
    TEST_COND("user 1's rows are untouched",
              store_face_get(s, 1, f1, &g) == 0 && g.person_id == pers1 && store_person_get(s, 1, pers1, &pp) == 0 &&
                  strcmp(pp.name, "Mine") == 0 && pp.hidden == 0 && pp.n_faces == 1);
    TEST_COND("an unknown owner cannot insert (foreign key)",
              store_photo_upsert(s, 4242, &ph, &id) == FH_E_DB);
    store_photo_delete(s, 1, p1);
    store_photo_delete(s, u2, p2);
}

static void test_transactions(struct store *s) {
    struct store_photo p = mkphoto("/tx/a.jpg", 31), q;
    int64_t id;
    TEST_COND("rollback without a transaction is fine", store_rollback(s) == 0);
    TEST_COND("begin", store_begin(s) == 0);
    TEST_COND("begin twice fails", store_begin(s) == FH_E_DB);
    store_photo_upsert(s, 1, &p, &id);
    int64_t per;
    store_person_create(s, 1, "Tx", &per);
    TEST_COND("rollback", store_rollback(s) == 0);
    struct store_person pp;
    TEST_COND("... leaves nothing", store_photo_find(s, 1, p.path, &q) == FH_E_NOTFOUND &&
                                        store_person_find(s, 1, "Tx", &pp) == FH_E_NOTFOUND);
    TEST_COND("begin + upsert + face + commit", store_begin(s) == 0 && store_photo_upsert(s, 1, &p, &id) == 0 &&
                                                    store_commit(s) == 0);
    TEST_COND("... persists", store_photo_find(s, 1, p.path, &q) == 0 && q.id == id);
    TEST_COND("commit without a transaction fails", store_commit(s) == FH_E_DB);
    store_photo_delete(s, 1, id);
}

// callback rules: reads allowed, writes refused, non-zero stops and is returned
static int cb_rules(void *ctx, const struct store_photo *p) {
    struct collect *c = ctx;
    struct store_photo q;
    char path[64];
    snprintf(path, sizeof path, "%s", p->path);
    if (store_photo_find(c->s, 1, path, &q) != 0 || q.id != p->id) c->nested_rc = -100;
    if (strcmp(p->path, path) != 0) c->nested_rc = -101; // the row survived the nested call
    struct collect inner = {0};
    if (store_photos_each(c->s, 1, count_photo, &inner) != 0) c->nested_rc = -102;
    c->inner = inner.n;
    c->write_rc = store_meta_set(c->s, "k", "v");
    if (c->write_rc == FH_OK) return -1;
    if (store_begin(c->s) != FH_E_ARG) return -1;
    return ++c->n == 2 ? 7 : 0;
}
static int cb_fail(void *ctx, const struct store_photo *p) {
    (void)ctx, (void)p;
    return FH_E_IO;
}

static void test_callbacks(struct store *s) {
    struct store_photo a = mkphoto("/cb/a.jpg", 41), b = mkphoto("/cb/b.jpg", 42), d = mkphoto("/cb/c.jpg", 43);
    int64_t ia, ib, id;
    store_photo_upsert(s, 1, &a, &ia);
    store_photo_upsert(s, 1, &b, &ib);
    store_photo_upsert(s, 1, &d, &id);
    struct collect all = {0};
    store_photos_each(s, 1, count_photo, &all);
    struct collect c = {0};
    c.s = s;
    int rc = store_photos_each(s, 1, cb_rules, &c);
    TEST_COND("fn returning 7 stops the iteration and 7 is returned", rc == 7 && c.n == 2);
    TEST_COND("reads (find, a nested each) work inside fn", c.nested_rc == 0 && c.inner == all.n && all.n >= 3);
    TEST_COND("writes inside fn are refused with FH_E_ARG", c.write_rc == FH_E_ARG);
    TEST_COND("fn's FH_E_* code is passed up", store_photos_each(s, 1, cb_fail, NULL) == FH_E_IO);
    TEST_COND("writes work again after the iteration", store_meta_set(s, "k", "v") == 0);
    store_photo_delete(s, 1, ia);
    store_photo_delete(s, 1, ib);
    store_photo_delete(s, 1, id);
}

static void test_busy(void) {
    struct store *a = NULL, *b = NULL;
    int rc = store_open(db_path, &a);
    if (rc == 0) rc = store_open(db_path, &b);
    TEST_COND("two connections to one file", rc == 0);
    if (rc) {
        store_close(a);
        return;
    }
    TEST_COND("set busy timeout", store_set_busy_timeout(b, 100) == 0);
    TEST_COND("A takes the write lock", store_begin(a) == 0 && store_meta_set(a, "lock", "a") == 0);
    double t0 = fh_now_ms();
    rc = store_begin(b);
    double dt = fh_now_ms() - t0;
    TEST_COND("B's begin: FH_E_BUSY after the timeout", rc == FH_E_BUSY && dt >= 90);
    TEST_COND("B's autocommit write: FH_E_BUSY", store_meta_set(b, "x", "y") == FH_E_BUSY);
    char buf[8];
    TEST_COND("B still reads (WAL), not seeing A's uncommitted write",
              store_meta_get(b, "thresh", buf, sizeof buf) == 0 &&
                  store_meta_get(b, "lock", buf, sizeof buf) == FH_E_NOTFOUND);
    TEST_COND("A commits", store_commit(a) == 0);
    TEST_COND("B writes now", store_begin(b) == 0 && store_meta_set(b, "x", "y") == 0 && store_commit(b) == 0);
    TEST_COND("and sees A's write", store_meta_get(b, "lock", buf, sizeof buf) == 0 && strcmp(buf, "a") == 0);
    store_close(a);
    store_close(b);
}

// fail-Nth: every allocation in turn fails once; each call returns an error or succeeds,
// never crashes, and the handle stays usable.
static void test_alloc_failures(void) {
    int nomem = 0, ok = 0, other = 0, run_ok = 0;
    long n;
    // every allocation up to 300, then every 7th, until 20 runs in a row saw no failure
    for (n = 1; run_ok < 20 && n < 100000; n += n < 300 ? 1 : 7) {
        struct store *s = NULL;
        fh_alloc_fail_after(n);
        int rc = store_open(":memory:", &s);
        fh_alloc_fail_after(0);
        run_ok = rc == FH_OK ? run_ok + 1 : 0;
        if (rc == FH_OK) {
            ok++;
            if (!s || store_check(s) != FH_OK) other += 1000;
            store_close(s);
        } else if (rc == FH_E_NOMEM) {
            nomem++;
            if (s) other += 1000;
        } else {
            other++;
        }
    }
    printf("# store_open(:memory:) under fail-Nth up to %ld: %d ok, %d FH_E_NOMEM, %d other\n", n, ok,
           nomem, other);
    TEST_COND("fail-Nth store_open: errors returned, no crash", nomem > 10 && ok > 0 && other < 1000);

    struct store *s;
    remove_db(other_path);
    if (store_open(other_path, &s)) {
        TEST_COND("open for fail-Nth", 0);
        return;
    }
    int64_t m, pid;
    store_model_get(s, "m", "1", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", 16, &m);
    float emb[16] = {1, 2, 3};
    uint8_t thumb[5000] = {1};
    nomem = ok = other = run_ok = 0;
    int broken = 0;
    for (n = 1; run_ok < 20 && n < 100000; n += n < 300 ? 1 : 5) {
        char path[32];
        snprintf(path, sizeof path, "/oom/%ld.jpg", n);
        struct store_photo p = mkphoto(path, (int)n);
        struct store_face f = mkface(0, m, emb, 16), g;
        f.thumb = thumb, f.thumb_size = sizeof thumb;
        struct store_person pp;
        int64_t fid, per, per2;
        fh_alloc_fail_after(n);
        int rc = store_begin(s);
        if (rc == 0) rc = store_photo_upsert(s, 1, &p, &pid);
        f.photo_id = pid;
        if (rc == 0) rc = store_face_insert(s, 1, &f, &fid);
        if (rc == 0) rc = store_person_create(s, 1, NULL, &per);
        if (rc == 0) rc = store_person_create(s, 1, NULL, &per2);
        if (rc == 0) rc = store_face_assign(s, 1, fid, per, STORE_AUTO);
        if (rc == 0) rc = store_person_merge(s, 1, per2, per);
        if (rc == 0) rc = store_commit(s);
        if (rc == 0) rc = store_face_get(s, 1, fid, &g);
        if (rc == 0) rc = store_person_get(s, 1, per2, &pp);
        if (rc == 0) {
            struct collect c = {0};
            rc = store_persons_each(s, 1, count_person, &c);
        }
        fh_alloc_fail_after(0);
        if (rc) store_rollback(s);
        run_ok = rc == FH_OK ? run_ok + 1 : 0;
        if (rc == FH_OK) ok++;
        else if (rc == FH_E_NOMEM) nomem++;
        else other++;
        // the handle still works and holds either the whole transaction or none of it
        struct store_photo q;
        int found = store_photo_find(s, 1, path, &q);
        if (found != FH_OK && found != FH_E_NOTFOUND) broken++;
        if (found == FH_OK && q.n_faces != 1) broken++;
        // clean up so every round does the same work (the loop ends when rounds stop failing)
        if (found == FH_OK && store_photo_delete(s, 1, q.id) != FH_OK) broken++;
        if (store_persons_prune(s, 1) != FH_OK) broken++;
    }
    printf("# transaction under fail-Nth up to %ld: %d ok, %d FH_E_NOMEM, %d other\n", n, ok, nomem,
           other);
    TEST_COND("fail-Nth writes and reads: errors returned, no crash", nomem > 10 && ok > 0);
    TEST_COND("... the handle stays usable and transactions stay whole", broken == 0);
    TEST_COND("... integrity check ok afterwards", store_check(s) == FH_OK);
    store_close(s);
    remove_db(other_path);
}

// ---- bulk automatic assignment (clustering), on either engine ---------------------------------
static void test_bulk_assign(struct store *s) {
    float emb[128] = {1};
    struct store_photo ph = mkphoto("/bulk/1.jpg", 91);
    int64_t pid, f[6], A, B, other_face, other_person, bob;
    store_photo_upsert(s, 1, &ph, &pid);
    for (int i = 0; i < 6; i++) {
        struct store_face x = mkface(pid, model, emb, 128);
        store_face_insert(s, 1, &x, &f[i]);
    }
    store_person_create(s, 1, "BulkA", &A);
    store_person_create(s, 1, "BulkB", &B);
    store_user_get(s, "bulkbob", &bob);
    struct store_photo bp = mkphoto("/bulk/bob.jpg", 92);
    int64_t bpid;
    store_photo_upsert(s, bob, &bp, &bpid);
    struct store_face bx = mkface(bpid, model, emb, 128);
    store_face_insert(s, bob, &bx, &other_face);
    store_person_create(s, bob, "BobP", &other_person);
    TEST_COND("bulk: a user's 'not this person'", store_face_reject(s, 1, f[2], A) == 0);
    TEST_COND("bulk: avatar f[5] of B", store_face_assign(s, 1, f[5], B, STORE_USER) == 0 &&
                                           store_person_set_avatar(s, 1, B, f[5], 0) == 0);
    int64_t faces[7] = {f[0], f[1], f[2], f[3], f[4], other_face, f[5]};
    int64_t pers[7] = {A, A, A, B, other_person, B, A};
    int changed = -1;
    TEST_COND("bulk: assign 7 pairs", store_faces_assign_auto(s, 1, faces, pers, 7, &changed) == 0);
    struct store_face g;
    int ok = changed == 4;
    int64_t want[6] = {A, A, 0, B, 0, A};
    for (int i = 0; i < 6; i++) ok &= store_face_get(s, 1, f[i], &g) == 0 && g.person_id == want[i];
    TEST_COND("bulk: 4 set; the rejected pair, another owner's person and face skipped", ok);
    ok = store_face_get(s, 1, f[0], &g) == 0 && g.assigned == STORE_AUTO;
    struct store_person pb;
    TEST_COND("bulk: STORE_AUTO; B's avatar cleared when its face left", ok && store_person_get(s, 1, B, &pb) == 0 &&
                                                                           pb.avatar_face == 0);
    TEST_COND("bulk: another owner's face untouched", store_face_get(s, bob, other_face, &g) == 0 && g.person_id == 0);
    int64_t zero = 0;
    TEST_COND("bulk: person 0 refused", store_faces_assign_auto(s, 1, faces, &zero, 1, NULL) == FH_E_ARG);
    TEST_COND("bulk: nothing to do", store_faces_assign_auto(s, 1, NULL, NULL, 0, &changed) == 0 && changed == 0);
    store_photo_delete(s, 1, pid);
    store_user_delete(s, bob, NULL);
    store_persons_prune(s, 1);
    store_person_dissolve(s, 1, A);
    store_person_dissolve(s, 1, B);
}

// ---- the job queue (issue 10), on either engine -----------------------------------------------
static void test_jobs(struct store *s, struct store *s2) {
    int added = -1;
    struct store_job j, k;
    struct store_job_counts c;
    TEST_COND("jobs: empty queue: claim is FH_E_NOTFOUND", store_job_claim(s, "w1", 30, &j) == FH_E_NOTFOUND);
    TEST_COND("jobs: enqueue", store_job_enqueue(s, 1, STORE_JOB_INDEX, "/j/a.jpg", NULL, NULL, 0, &added) == 0 && added == 1);
    TEST_COND("jobs: the same photo again is not queued twice",
              store_job_enqueue(s, 1, STORE_JOB_INDEX, "/j/a.jpg", NULL, NULL, 0, &added) == 0 && added == 0);
    static const uint8_t bytes[5] = {0, 1, 0xff, 0x5c, 'x'};
    TEST_COND("jobs: an upload with its bytes",
              store_job_enqueue(s, 1, STORE_JOB_INDEX, "/up/b.jpg", "Holiday.jpg", bytes, 5, &added) == 0 && added == 1);
    TEST_COND("jobs: a cluster job", store_job_enqueue(s, 1, STORE_JOB_CLUSTER, "", NULL, NULL, 0, &added) == 0 && added);
    TEST_COND("jobs: bad kind, empty index path, huge data refused",
              store_job_enqueue(s, 1, "zap", "/x", NULL, NULL, 0, NULL) == FH_E_ARG &&
                  store_job_enqueue(s, 1, STORE_JOB_INDEX, "", NULL, NULL, 0, NULL) == FH_E_ARG &&
                  store_job_enqueue(s, 1, STORE_JOB_INDEX, "/x", NULL, bytes, (size_t)STORE_JOB_DATA_MAX + 1, NULL) == FH_E_ARG);
    TEST_COND("jobs: counts", store_jobs_count(s, 0, NULL, &c) == 0 && c.queued == 3 && c.running == 0);
    TEST_COND("jobs: claim the oldest", store_job_claim(s, "w1", 30, &j) == 0 && !strcmp(j.kind, "index") &&
                                            !strcmp(j.path, "/j/a.jpg") && !j.orig_name && !j.data && j.attempts == 1);
    TEST_COND("jobs: a second worker gets the next one, with its bytes",
              store_job_claim(s2, "w2", 30, &k) == 0 && k.id != j.id && !strcmp(k.path, "/up/b.jpg") &&
                  k.orig_name && !strcmp(k.orig_name, "Holiday.jpg") && k.data_size == 5 && !memcmp(k.data, bytes, 5));
    TEST_COND("jobs: a photo being worked on may be queued again",
              store_job_enqueue(s, 1, STORE_JOB_INDEX, "/j/a.jpg", NULL, NULL, 0, &added) == 0 && added == 1);
    struct store_job c1, c2, k2;
    TEST_COND("jobs: index jobs first", store_job_claim(s2, "w2", 30, &c1) == 0 && !strcmp(c1.kind, "index") &&
                                            !strcmp(c1.path, "/j/a.jpg"));
    TEST_COND("jobs: the cluster job waits while index jobs of its owner run",
              store_job_claim(s, "w1", 30, &c2) == FH_E_NOTFOUND);
    TEST_COND("jobs: heartbeat", store_job_heartbeat(s, j.id, j.token, 30) == 0);
    TEST_COND("jobs: finish inside a transaction", store_begin(s) == 0 && store_job_finish(s, j.id, j.token, 1, NULL) == 0 &&
                                                       store_commit(s) == 0);
    TEST_COND("jobs: finishing twice: the lease is gone", store_job_finish(s, j.id, j.token, 1, NULL) == FH_E_NOTFOUND &&
                                                              store_job_heartbeat(s, j.id, j.token, 30) == FH_E_NOTFOUND);
    TEST_COND("jobs: a wrong token cannot finish", store_job_finish(s2, k.id, k.token + 1, 1, NULL) == FH_E_NOTFOUND);
    TEST_COND("jobs: finish the upload's job", store_job_finish(s2, k.id, k.token, 1, NULL) == 0);
    // lease expiry: c1 (w2) stalls with a 1 s lease; w1 takes it over with a new token
    TEST_COND("jobs: a short lease", store_job_heartbeat(s2, c1.id, c1.token, 1) == 0);
    usleep(2100 * 1000);
    struct store_job r;
    TEST_COND("jobs: after the lease, another worker re-claims the job",
              store_job_claim(s, "w1", 30, &r) == 0 && r.id == c1.id && r.attempts == 2 && r.token != c1.token);
    TEST_COND("jobs: the stalled worker can neither renew nor finish",
              store_job_heartbeat(s2, c1.id, c1.token, 30) == FH_E_NOTFOUND &&
                  store_begin(s2) == 0 && store_job_finish(s2, c1.id, c1.token, 1, NULL) == FH_E_NOTFOUND &&
                  store_rollback(s2) == 0);
    TEST_COND("jobs: the new holder finishes", store_job_finish(s, r.id, r.token, 1, NULL) == 0);
    TEST_COND("jobs: now the cluster job", store_job_claim(s2, "w2", 30, &c2) == 0 && !strcmp(c2.kind, "cluster"));
    TEST_COND("jobs: one cluster job of an owner at a time",
              store_job_enqueue(s, 1, STORE_JOB_CLUSTER, "", NULL, NULL, 0, &added) == 0 && added == 1 &&
                  store_job_claim(s, "w1", 30, &k2) == FH_E_NOTFOUND);
    TEST_COND("jobs: a failed cluster job; the next one is claimable",
              store_job_finish(s2, c2.id, c2.token, 0, "boom") == 0 && store_job_claim(s, "w1", 30, &k2) == 0 &&
                  !strcmp(k2.kind, "cluster") && store_job_finish(s, k2.id, k2.token, 1, NULL) == 0);
    TEST_COND("jobs: counts by owner", store_jobs_count(s, 1, NULL, &c) == 0 && c.queued == 0 && c.running == 0 &&
                                           c.done == 4 && c.failed == 1 && store_jobs_count(s, 2, NULL, &c) == 0 &&
                                           c.done == 0);
    TEST_COND("jobs: counts of one kind", store_jobs_count(s, 1, STORE_JOB_CLUSTER, &c) == 0 && c.done == 1 &&
                                              c.failed == 1 && store_jobs_count(s, 1, "zap", &c) == FH_E_ARG);
    int n = 0;
    TEST_COND("jobs: purge finished ones", store_jobs_purge(s, (int64_t)4e9, &n) == 0 && n == 5);
}

// ---- PostgreSQL (issue 10): the same API sections on a real server, plus its refusals ----------
static void test_pg_busy(const char *url) {
    struct store *a = NULL, *b = NULL;
    int rc = store_open(url, &a);
    if (rc == 0) rc = store_open(url, &b);
    TEST_COND("pg: two connections to one database", rc == 0);
    if (rc) {
        store_close(a);
        return;
    }
    TEST_COND("pg: set lock timeout", store_set_busy_timeout(b, 100) == 0);
    TEST_COND("pg: A takes the write lock", store_begin(a) == 0 && store_meta_set(a, "lock", "a") == 0);
    double t0 = fh_now_ms();
    rc = store_begin(b);
    double dt = fh_now_ms() - t0;
    TEST_COND("pg: B's begin: FH_E_BUSY after the timeout", rc == FH_E_BUSY && dt >= 90);
    TEST_COND("pg: ... and B is left outside a transaction", store_rollback(b) == 0 && store_commit(b) == FH_E_DB);
    char buf[8];
    TEST_COND("pg: B reads, not seeing A's uncommitted write",
              store_meta_get(b, "lock", buf, sizeof buf) == FH_E_NOTFOUND);
    TEST_COND("pg: A commits", store_commit(a) == 0);
    TEST_COND("pg: B writes now", store_begin(b) == 0 && store_meta_set(b, "x", "y") == 0 && store_commit(b) == 0);
    TEST_COND("pg: and sees A's write", store_meta_get(b, "lock", buf, sizeof buf) == 0 && strcmp(buf, "a") == 0);
    // a failed statement aborts a PostgreSQL transaction: COMMIT must not report success
    struct store_photo p = mkphoto("/pg/abort.jpg", 77);
    int64_t pid;
    TEST_COND("pg: begin + a write", store_begin(a) == 0 && store_photo_upsert(a, 1, &p, &pid) == 0);
    struct store_face f = {0};
    f.photo_id = pid;
    f.box[2] = f.box[3] = 10;
    f.model_id = 999999; // dim 0: the store does not look the model up, the foreign key fails
    int64_t fid;
    TEST_COND("pg: a statement the server rejects (foreign key)", store_face_insert(a, 1, &f, &fid) == FH_E_DB);
    rc = store_commit(a);
    struct store_photo q;
    TEST_COND("pg: commit after a failed statement is FH_E_DB", rc == FH_E_DB);
    TEST_COND("pg: ... and nothing of the transaction was written", store_photo_find(b, 1, p.path, &q) == FH_E_NOTFOUND);
    store_rollback(a);
    store_close(a);
    store_close(b);
}

static void test_pg_refusals(void) {
    char url[512], out[256], msg[512];
    struct store *s = NULL;
    int rc = store_open("postgresql:///nope?host=/nonexistent-fh-socket-dir&user=postgres&connect_timeout=2", &s);
    TEST_COND("pg: an unreachable server is FH_E_DB naming the URL", rc == FH_E_DB && s == NULL &&
                                                                     strstr(fh_errmsg(), "cannot connect to") &&
                                                                     strstr(fh_errmsg(), "nonexistent-fh-socket-dir"));
    rc = store_open("postgresql://alice:s3cr3t@/nope?host=/nonexistent-fh-socket-dir&connect_timeout=2", &s);
    snprintf(msg, sizeof msg, "%s", fh_errmsg());
    TEST_COND("pg: the password never appears in the message", rc == FH_E_DB && !strstr(msg, "s3cr3t") &&
                                                                   strstr(msg, "alice:***@"));
    if (test_pg_url("fh_test_store_other", url, sizeof url) != 1) return;
    rc = store_open_ex(url, STORE_OPEN_EXISTING, &s);
    TEST_COND("pg: an empty database with STORE_OPEN_EXISTING is FH_E_NOTFOUND", rc == FH_E_NOTFOUND && !s);
    TEST_COND("pg: ... and nothing was created",
              test_pg_sql(url, "SELECT COUNT(*) FROM pg_tables WHERE schemaname = 'public'", out, sizeof out) == 0 &&
                  strcmp(out, "0") == 0);
    test_pg_sql(url, "CREATE TABLE theirs (x int); INSERT INTO theirs VALUES (7)", out, sizeof out);
    rc = store_open(url, &s);
    TEST_COND("pg: a database of another program is refused", rc == FH_E_DB && !s &&
                                                                strstr(fh_errmsg(), "not a facehatch database"));
    TEST_COND("pg: ... and left as it was",
              test_pg_sql(url, "SELECT COUNT(*) FROM pg_tables WHERE schemaname = 'public'", out, sizeof out) == 0 &&
                  strcmp(out, "1") == 0);
    test_pg_url("fh_test_store_other", url, sizeof url);
    rc = store_open(url, &s);
    TEST_COND("pg: a new library", rc == 0);
    int v = 0;
    TEST_COND("pg: ... at the current schema version", rc == 0 && store_schema_version(s, &v) == 0 &&
                                                         v == STORE_SCHEMA_VERSION && store_check(s) == 0);
    store_close(s);
    rc = store_open_ex(url, STORE_OPEN_EXISTING, &s);
    TEST_COND("pg: STORE_OPEN_EXISTING opens an existing library", rc == 0);
    store_close(s);
    test_pg_sql(url, "UPDATE facehatch_schema SET version = 99", out, sizeof out);
    rc = store_open(url, &s);
    TEST_COND("pg: a newer schema is refused", rc == FH_E_DB && strstr(fh_errmsg(), "newer"));
    TEST_COND("pg: ... and left at its version",
              test_pg_sql(url, "SELECT version FROM facehatch_schema", out, sizeof out) == 0 && strcmp(out, "99") == 0);
}

static void test_pg(void) {
    char url[512];
    int r = test_pg_url("fh_test_store", url, sizeof url);
    if (r == 0) return;
    TEST_COND("pg: a fresh test database", r == 1);
    if (r != 1) return;
    struct store *s;
    int rc = store_open(url, &s);
    TEST_COND("pg: open (creates the schema)", rc == 0);
    if (rc) {
        printf("# %s\n", fh_errmsg());
        return;
    }
    test_photos_faces(s);
    test_limits(s);
    test_persons(s);
    test_owners(s);
    test_transactions(s);
    test_callbacks(s);
    test_bulk_assign(s);
    struct store *s2;
    if (store_open(url, &s2) == 0) {
        test_jobs(s, s2);
        store_close(s2);
    }
    TEST_COND("pg: check", store_check(s) == FH_OK);
    store_close(s);
    rc = store_open(url, &s);
    TEST_COND("pg: reopen keeps the data", rc == 0 && store_check(s) == FH_OK);
    store_close(s);
    test_pg_busy(url);
    test_pg_refusals();
}

int main(void) {
    snprintf(db_path, sizeof db_path, "/tmp/fh_test_store_%d.db", (int)getpid());
    snprintf(other_path, sizeof other_path, "/tmp/fh_test_store_%d_other.db", (int)getpid());

    test_open_persist();
    test_refusals();
    test_migrations();
    test_migrate_v1_data();

    int rc = store_open(db_path, &s1);
    TEST_COND("open the test database", rc == 0);
    if (rc) return TEST_REPORT();
    test_photos_faces(s1);
    test_limits(s1);
    test_persons(s1);
    test_owners(s1);
    test_transactions(s1);
    test_callbacks(s1);
    test_bulk_assign(s1);
    struct store *s2;
    if (store_open(db_path, &s2) == 0) {
        test_jobs(s1, s2);
        store_close(s2);
    }
    TEST_COND("integrity check of the file database", store_check(s1) == FH_OK);
    store_close(s1);
    test_busy();

    struct store *m;
    rc = store_open(":memory:", &m);
    TEST_COND(":memory: database for the API", rc == 0);
    if (rc == 0) {
        test_photos_faces(m);
        test_persons(m);
        test_owners(m);
        TEST_COND("integrity check of the :memory: database", store_check(m) == FH_OK);
        store_close(m);
    }
    test_alloc_failures();

    rc = store_open(db_path, &s1);
    TEST_COND("final reopen and integrity check", rc == 0 && store_check(s1) == FH_OK);
    store_close(s1);
    remove_db(db_path);
    test_pg();
    return TEST_REPORT();
}
