// SPDX-License-Identifier: MIT
// store, accounts section: migration of a v1 database built with the v1 SQL (rows and ids
// kept, integrity and foreign keys ok), AUTOINCREMENT user ids, deleting a user removes every
// row of theirs and none of anyone else's (counted by SQL through a second connection),
// sessions (expiry, touch, purge), tokens, settings, and bad input.
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/base.h"
#include "harness.h"
#include "store/store.h"
#include "store/store_int.h"

static char db_path[256];

static void remove_db(const char *p) {
    char x[300];
    remove(p);
    snprintf(x, sizeof x, "%s-wal", p);
    remove(x);
    snprintf(x, sizeof x, "%s-shm", p);
    remove(x);
}

// COUNT(*) of a query through a separate connection (not the store's).
static long long count(const char *sql) {
    sqlite3 *db;
    sqlite3_stmt *st;
    long long n = -1;
    if (sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) return -2;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW) n = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
    }
    sqlite3_close(db);
    return n;
}

static int exec(sqlite3 *db, const char *sql) {
    char *err = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &err);
    if (rc != SQLITE_OK) printf("# sql: %s\n", err ? err : "?");
    sqlite3_free(err);
    return rc;
}

// A user's library: 2 photos, 3 faces, 2 persons, 1 reject. Raw SQL, valid for v1 and v2.
static int add_library(sqlite3 *db, int owner) {
    char sql[2048];
    snprintf(sql, sizeof sql,
             "INSERT INTO photos (owner, path, size, mtime, sha256, width, height, status)"
             " VALUES (%d, 'a%d.jpg', 1, 1, '', 10, 10, 0), (%d, 'b%d.jpg', 1, 1, '', 10, 10, 0);"
             "INSERT INTO persons (owner, name) VALUES (%d, 'P%d'), (%d, NULL);"
             "INSERT INTO faces (owner, photo_id, person_id, x1, y1, x2, y2, det_score, blur,"
             " quality, dim, landmarks, thumb) SELECT %d, p.id, (SELECT MIN(id) FROM persons"
             " WHERE owner = %d), 0, 0, 5, 5, 0.9, 100, 1, 0, zeroblob(40), x'ffd8'"
             " FROM photos p WHERE p.owner = %d;"
             "INSERT INTO faces (owner, photo_id, x1, y1, x2, y2, det_score, blur, quality, dim,"
             " landmarks) SELECT %d, MIN(id), 1, 1, 4, 4, 0.8, 50, 1, 0, zeroblob(40) FROM photos"
             " WHERE owner = %d;"
             "INSERT INTO face_rejects (face_id, person_id) SELECT MAX(f.id), MAX(p.id)"
             " FROM faces f, persons p WHERE f.owner = %d AND p.owner = %d;"
             "UPDATE persons SET avatar_face = (SELECT MIN(id) FROM faces WHERE owner = %d)"
             " WHERE owner = %d AND name IS NOT NULL;",
             owner, owner, owner, owner, owner, owner, owner, owner, owner, owner, owner, owner,
             owner, owner, owner, owner);
    return exec(db, sql);
}

// A v1 database as the v1 program wrote it: users 1 (local) and 5 (bob, a gap before it).
static int make_v1(void) {
    remove_db(db_path);
    sqlite3 *db;
    if (sqlite3_open(db_path, &db) != SQLITE_OK) return -1;
    char sql[128];
    snprintf(sql, sizeof sql, "PRAGMA user_version = 1; PRAGMA application_id = %d;",
             STORE_APPLICATION_ID);
    int rc = exec(db, "PRAGMA journal_mode = WAL; BEGIN") || exec(db, store_migrations[0]) ||
             exec(db, "INSERT INTO users (id, name) VALUES (5, 'bob')") || add_library(db, 1) ||
             add_library(db, 5) || exec(db, sql) || exec(db, "COMMIT");
    sqlite3_close(db);
    return rc ? -1 : 0;
}

static void test_migration(void) {
    TEST_COND("a v1 database is built with the v1 SQL", make_v1() == 0);
    long long photos = count("SELECT COUNT(*) FROM photos"), faces = count("SELECT COUNT(*) FROM faces");
    long long max_face = count("SELECT MAX(id) FROM faces");
    struct store *s = NULL;
    int rc = store_open(db_path, &s);
    TEST_COND("the new code opens it", rc == FH_OK);
    if (rc) {
        printf("# %s\n", fh_errmsg());
        return;
    }
    int v = 0;
    TEST_COND("... migrated to the current version",
              store_schema_version(s, &v) == 0 && v == STORE_SCHEMA_VERSION);
    TEST_COND("... integrity and foreign keys ok", store_check(s) == FH_OK);
    struct store_user u;
    TEST_COND("'local' keeps id 1, no password, recognition on, no quota",
              store_user_find(s, "local", &u) == 0 && u.id == 1 && !u.has_password &&
                  !u.pass_hash && u.recognition == 1 && u.quota_bytes == 0);
    TEST_COND("'bob' keeps id 5", store_user_find(s, "bob", &u) == 0 && u.id == 5);
    store_close(s);
    TEST_COND("photos and faces kept, face ids too",
              count("SELECT COUNT(*) FROM photos") == photos && photos == 4 &&
                  count("SELECT COUNT(*) FROM faces") == faces && faces == 6 &&
                  count("SELECT MAX(id) FROM faces") == max_face);
    TEST_COND("persons and rejects kept", count("SELECT COUNT(*) FROM persons") == 4 &&
                                              count("SELECT COUNT(*) FROM face_rejects") == 2);
    TEST_COND("users is AUTOINCREMENT now",
              count("SELECT COUNT(*) FROM sqlite_master WHERE name = 'users'"
                    " AND sql LIKE '%AUTOINCREMENT%'") == 1);
    TEST_COND("photos still refer to users",
              count("SELECT COUNT(*) FROM pragma_foreign_key_list('photos')"
                    " WHERE \"table\" = 'users'") == 1);
}

struct ctr {
    int n;
    int64_t last;
    int photos_of_1;
};
static int count_user(void *ctx, const struct store_user *u) {
    struct ctr *c = ctx;
    c->n++;
    c->last = u->id;
    if (u->id == 1) c->photos_of_1 = u->n_photos;
    return 0;
}

static void test_users(void) {
    struct store *s = NULL;
    if (store_open(db_path, &s)) return;
    int64_t carol = 0, dave = 0, again = 0;
    TEST_COND("create: a new id after the highest", store_user_create(s, "carol", "$argon2id$x", 100, &carol) == 0 && carol == 6);
    TEST_COND("create: a taken name is FH_E_EXISTS",
              store_user_create(s, "carol", NULL, 100, &again) == FH_E_EXISTS &&
                  store_user_create(s, "local", NULL, 100, &again) == FH_E_EXISTS);
    struct store_user u;
    TEST_COND("find: hash, created",
              store_user_find(s, "carol", &u) == 0 && u.has_password && u.created == 100 &&
                  strcmp(u.pass_hash, "$argon2id$x") == 0 && strcmp(u.name, "carol") == 0);
    TEST_COND("find never creates", store_user_find(s, "nobody", &u) == FH_E_NOTFOUND &&
                                        count("SELECT COUNT(*) FROM users WHERE name = 'nobody'") == 0);
    TEST_COND("by id", store_user_by_id(s, carol, &u) == 0 && strcmp(u.name, "carol") == 0 &&
                           store_user_by_id(s, 999, &u) == FH_E_NOTFOUND);
    int n = -1;
    TEST_COND("one user with a password", store_users_with_password(s, &n) == 0 && n == 1);
    TEST_COND("set password", store_user_set_password(s, 5, "$argon2id$bob") == 0 &&
                                  store_users_with_password(s, &n) == 0 && n == 2);
    TEST_COND("clear password", store_user_set_password(s, 5, NULL) == 0 &&
                                    store_users_with_password(s, &n) == 0 && n == 1);
    TEST_COND("set password of nobody is FH_E_NOTFOUND",
              store_user_set_password(s, 999, "$h") == FH_E_NOTFOUND);
    struct ctr c = {0};
    TEST_COND("each: every user, by id, photos counted",
              store_users_each(s, count_user, &c) == 0 && c.n == 3 && c.last == carol &&
                  c.photos_of_1 == 2);
    int on = -1;
    int64_t q = -1;
    TEST_COND("recognition: default on, set off",
              store_user_get_recognition(s, carol, &on) == 0 && on == 1 &&
                  store_user_set_recognition(s, carol, 0) == 0 &&
                  store_user_get_recognition(s, carol, &on) == 0 && on == 0);
    TEST_COND("quota: default 0, set", store_user_get_quota(s, carol, &q) == 0 && q == 0 &&
                                           store_user_set_quota(s, carol, 1 << 30) == 0 &&
                                           store_user_get_quota(s, carol, &q) == 0 && q == 1 << 30);
    TEST_COND("settings of nobody: FH_E_NOTFOUND",
              store_user_set_quota(s, 999, 1) == FH_E_NOTFOUND &&
                  store_user_get_recognition(s, 999, &on) == FH_E_NOTFOUND);

    // bad input
    char longname[STORE_NAME_MAX + 2];
    memset(longname, 'x', sizeof longname - 1);
    longname[sizeof longname - 1] = 0;
    char longhash[STORE_HASH_MAX + 2];
    memset(longhash, 'h', sizeof longhash - 1);
    longhash[sizeof longhash - 1] = 0;
    TEST_COND("empty / NULL / over-long names are FH_E_ARG",
              store_user_create(s, "", NULL, 0, &again) == FH_E_ARG &&
                  store_user_create(s, NULL, NULL, 0, &again) == FH_E_ARG &&
                  store_user_create(s, longname, NULL, 0, &again) == FH_E_ARG &&
                  store_user_find(s, longname, &u) == FH_E_ARG && store_user_find(s, "", &u) == FH_E_ARG);
    TEST_COND("empty / over-long password hashes are FH_E_ARG",
              store_user_create(s, "eve", "", 0, &again) == FH_E_ARG &&
                  store_user_create(s, "eve", longhash, 0, &again) == FH_E_ARG &&
                  store_user_set_password(s, carol, longhash) == FH_E_ARG);
    TEST_COND("recognition not 0/1, negative quota: FH_E_ARG",
              store_user_set_recognition(s, carol, 2) == FH_E_ARG &&
                  store_user_set_quota(s, carol, -1) == FH_E_ARG);

    // ids are never reused
    struct store_user_counts uc;
    TEST_COND("delete a user without rows", store_user_create(s, "dave", NULL, 0, &dave) == 0 &&
                                               store_user_delete(s, dave, &uc) == 0 && uc.photos == 0);
    TEST_COND("the next user gets a new id, not the deleted one",
              store_user_create(s, "erin", NULL, 0, &again) == 0 && again == dave + 1);
    TEST_COND("deleting nobody is FH_E_NOTFOUND", store_user_delete(s, 999, NULL) == FH_E_NOTFOUND);
    store_close(s);
}

static void test_delete_cascade(void) {
    struct store *s = NULL;
    if (store_open(db_path, &s)) return;
    struct store_user u;
    if (store_user_find(s, "carol", &u)) return;
    int64_t carol = u.id;
    // carol's library, sessions and tokens
    sqlite3 *db;
    int rc = sqlite3_open(db_path, &db);
    rc = rc || add_library(db, (int)carol);
    sqlite3_close(db);
    TEST_COND("carol gets a library", rc == 0);
    char h[65];
    for (int i = 0; i < 2; i++) {
        snprintf(h, sizeof h, "%064d", 10 + i);
        struct store_session x = {.user_id = carol, .created = 1, .expires = 1000, .last_seen = 1};
        memcpy(x.hash, h, 65);
        int64_t tid;
        snprintf(h, sizeof h, "%064d", 20 + i);
        store_session_insert(s, &x);
        store_token_insert(s, carol, h, "t", 1, &tid);
    }
    struct store_session bx = {.user_id = 5, .created = 1, .expires = 1000, .last_seen = 1};
    snprintf(bx.hash, sizeof bx.hash, "%064d", 30);
    TEST_COND("bob has a session", store_session_insert(s, &bx) == 0);
    const char *tables[] = {"photos WHERE owner", "faces WHERE owner", "persons WHERE owner",
                            "sessions WHERE user_id", "tokens WHERE user_id"};
    long long before[2][5];
    for (int k = 0; k < 5; k++) {
        char sql[128];
        snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM %s = 1", tables[k]);
        before[0][k] = count(sql);
        snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM %s = 5", tables[k]);
        before[1][k] = count(sql);
    }
    long long rejects_other = count("SELECT COUNT(*) FROM face_rejects r JOIN faces f"
                                    " ON f.id = r.face_id WHERE f.owner <> 6");
    struct store_user_counts c = {0};
    rc = store_user_delete(s, carol, &c);
    TEST_COND("delete carol: counts of what went",
              rc == 0 && c.photos == 2 && c.faces == 3 && c.persons == 2 && c.rejects == 1 &&
                  c.sessions == 2 && c.tokens == 2);
    int left = 0;
    for (int k = 0; k < 5; k++) {
        char sql[128];
        snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM %s = %lld", tables[k], (long long)carol);
        left += count(sql) != 0;
    }
    left += count("SELECT COUNT(*) FROM face_rejects r LEFT JOIN faces f ON f.id = r.face_id"
                  " WHERE f.id IS NULL OR f.owner = 6") != 0;
    left += count("SELECT COUNT(*) FROM users WHERE id = 6") != 0;
    TEST_COND("none of carol's rows is left (thumbnails are in faces)", left == 0);
    int same = 1;
    for (int k = 0; k < 5; k++) {
        char sql[128];
        snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM %s = 1", tables[k]);
        same &= count(sql) == before[0][k];
        snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM %s = 5", tables[k]);
        same &= count(sql) == before[1][k];
    }
    same &= count("SELECT COUNT(*) FROM face_rejects") == rejects_other;
    TEST_COND("local's and bob's rows are all still there", same && before[1][0] == 2 &&
                                                              before[1][3] == 1);
    TEST_COND("integrity and foreign keys ok after the delete", store_check(s) == FH_OK);
    store_close(s);
}

static int count_token(void *ctx, const struct store_token *t) {
    struct ctr *c = ctx;
    c->n++;
    c->last = t->id;
    return 0;
}

static void test_sessions_tokens(void) {
    struct store *s = NULL;
    if (store_open(":memory:", &s)) return;
    int64_t alice, bob;
    store_user_create(s, "alice", "$h", 0, &alice);
    store_user_create(s, "bob", "$h", 0, &bob);
    struct store_session x = {.user_id = alice, .created = 100, .expires = 200, .last_seen = 100},
                         g;
    snprintf(x.hash, sizeof x.hash, "%064x", 0xabc);
    TEST_COND("session insert", store_session_insert(s, &x) == 0);
    TEST_COND("the same hash again is FH_E_EXISTS", store_session_insert(s, &x) == FH_E_EXISTS);
    TEST_COND("get before expiry",
              store_session_get(s, x.hash, 199, &g) == 0 && g.user_id == alice && g.created == 100 &&
                  g.expires == 200 && g.last_seen == 100 && strcmp(g.hash, x.hash) == 0);
    TEST_COND("get at expiry: FH_E_NOTFOUND", store_session_get(s, x.hash, 200, &g) == FH_E_NOTFOUND);
    TEST_COND("touch moves last_seen and expires",
              store_session_touch(s, x.hash, 150, 300) == 0 &&
                  store_session_get(s, x.hash, 250, &g) == 0 && g.last_seen == 150);
    int n = -1;
    TEST_COND("purge before expiry removes nothing", store_sessions_purge(s, 299, &n) == 0 && n == 0);
    TEST_COND("purge at expiry removes it", store_sessions_purge(s, 300, &n) == 0 && n == 1 &&
                                                store_session_touch(s, x.hash, 1, 2) == FH_E_NOTFOUND);
    struct store_session y = x;
    y.user_id = 999;
    TEST_COND("a session of nobody is FH_E_NOTFOUND", store_session_insert(s, &y) == FH_E_NOTFOUND);
    y = x;
    y.expires = y.created;
    TEST_COND("expires <= created is FH_E_ARG", store_session_insert(s, &y) == FH_E_ARG);
    y = x;
    strcpy(y.hash, "not-a-hash");
    TEST_COND("a malformed hash is FH_E_ARG", store_session_insert(s, &y) == FH_E_ARG &&
                                                  store_session_get(s, "zz", 0, &g) == FH_E_ARG &&
                                                  store_session_delete(s, NULL) == FH_E_ARG);
    for (int i = 0; i < 3; i++) {
        y = x;
        y.hash[0] = (char)('1' + i);
        y.user_id = i < 2 ? alice : bob;
        store_session_insert(s, &y);
    }
    TEST_COND("delete one", store_session_delete(s, y.hash) == 0 &&
                                store_session_delete(s, y.hash) == FH_E_NOTFOUND);
    TEST_COND("delete all of a user", store_sessions_delete_user(s, alice, &n) == 0 && n == 2);

    char th[65];
    snprintf(th, sizeof th, "%064x", 0x70c);
    int64_t t1 = 0, t2 = 0;
    TEST_COND("token insert", store_token_insert(s, alice, th, "backup", 7, &t1) == 0 && t1 > 0);
    TEST_COND("the same token hash again is FH_E_EXISTS",
              store_token_insert(s, bob, th, "x", 7, &t2) == FH_E_EXISTS);
    struct store_token t;
    TEST_COND("token get", store_token_get(s, th, &t) == 0 && t.id == t1 && t.user_id == alice &&
                               strcmp(t.name, "backup") == 0 && t.created == 7 && t.last_used == 0);
    TEST_COND("token touch", store_token_touch(s, t1, 9) == 0 && store_token_get(s, th, &t) == 0 &&
                                 t.last_used == 9);
    TEST_COND("empty token name, nobody's token: FH_E_ARG / FH_E_NOTFOUND",
              store_token_insert(s, alice, th, "", 7, &t2) == FH_E_ARG &&
                  store_token_insert(s, 999, "0000000000000000000000000000000000000000000000000000000000000001", "x", 7, &t2) == FH_E_NOTFOUND);
    char th0[65];
    memcpy(th0, th, sizeof th);
    th[0] = 'f';
    TEST_COND("a second token", store_token_insert(s, alice, th, "phone", 8, &t2) == 0 && t2 > t1);
    struct ctr c = {0};
    TEST_COND("list alice's tokens", store_tokens_each(s, alice, count_token, &c) == 0 && c.n == 2 &&
                                         c.last == t2);
    TEST_COND("bob cannot delete alice's token", store_token_delete(s, bob, t1) == FH_E_NOTFOUND);
    TEST_COND("alice deletes hers", store_token_delete(s, alice, t1) == 0 &&
                                        store_token_get(s, th0, &t) == FH_E_NOTFOUND &&
                                        store_token_get(s, th, &t) == 0);
    store_close(s);
}

// every allocation failing in turn, from the open through the accounts calls: FH_OK or
// FH_E_NOMEM, never a crash or another code, and a database that opened stays consistent.
// (Statements are prepared on first use, so the accounts calls allocate right after open.)
static void test_fail_nth(void) {
    int ok = 0, nomem = 0, other = 0, late = 0, bad_after = 0, run_ok = 0;
    // every allocation up to 300, then every 7th, until 20 runs in a row saw no failure
    for (int n = 1; run_ok < 20 && n < 100000; n += n < 300 ? 1 : 7) {
        struct store *s = NULL;
        fh_alloc_fail_after(n);
        int rc = store_open(":memory:", &s), opened = rc == FH_OK;
        int64_t id = 0;
        if (rc == FH_OK) rc = store_user_create(s, "u", "$h", 1, &id);
        struct store_session x = {.user_id = id, .created = 1, .expires = 2, .last_seen = 1};
        snprintf(x.hash, sizeof x.hash, "%064d", n);
        if (rc == FH_OK) rc = store_session_insert(s, &x);
        int64_t tid;
        if (rc == FH_OK) rc = store_token_insert(s, id, x.hash, "t", 1, &tid);
        struct store_user_counts c;
        if (rc == FH_OK) rc = store_user_delete(s, id, &c);
        fh_alloc_fail_after(0);
        run_ok = rc == FH_OK ? run_ok + 1 : 0;
        if (rc == FH_OK) ok++;
        else if (rc == FH_E_NOMEM) nomem++, late += opened;
        else other++, printf("# n=%d: %d %s\n", n, rc, fh_errmsg());
        if (opened) {
            store_rollback(s);
            bad_after += store_check(s) != FH_OK;
        }
        store_close(s);
    }
    printf("# open + accounts under fail-Nth: %d ok, %d FH_E_NOMEM (%d after the open), %d other\n",
           ok, nomem, late, other);
    TEST_COND("fail-Nth: only FH_OK or FH_E_NOMEM, some inside the accounts calls",
              other == 0 && ok > 0 && late > 0);
    TEST_COND("fail-Nth: every database that opened is consistent after", bad_after == 0);
}

int main(void) {
    snprintf(db_path, sizeof db_path, "/tmp/fh_test_store_auth_%d.db", (int)getpid());
    // first: a store_open must initialise SQLite (routing its allocations through fh_malloc)
    // before this file's own sqlite3 connections do
    test_fail_nth();
    test_migration();
    test_users();
    test_delete_cascade();
    test_sessions_tokens();
    remove_db(db_path);
    return TEST_REPORT();
}
