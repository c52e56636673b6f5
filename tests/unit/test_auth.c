// SPDX-License-Identifier: MIT
// auth: users, login (right / wrong password, unknown user, user without password), sessions
// (lookup, refresh, idle and absolute expiry, logout), API tokens, the rate limiter (kicks
// in, Retry-After grows, decays, per address), password and name rules, passwd ending
// sessions, user deletion ending sessions and tokens, several threads at once. The clock is
// injected; hashes use the minimum Argon2id cost (AUTH_PW_OPS_MIN / AUTH_PW_MEM_MIN) so the
// test runs fast, and one check uses the real interactive cost.
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "auth/auth.h"
#include "base/base.h"
#include "harness.h"
#include "store/store.h"

static int64_t now = 1000000;
static int64_t test_clock(void *ctx) {
    (void)ctx;
    return now;
}

static char db_path[256];

static struct auth *new_auth(void) {
    struct auth_opts o = auth_opts_default();
    o.pw_ops = AUTH_PW_OPS_MIN;
    o.pw_mem = AUTH_PW_MEM_MIN;
    o.clock = test_clock;
    struct auth *a = NULL;
    if (auth_new(&o, &a)) printf("# auth_new: %s\n", fh_errmsg());
    return a;
}

static void test_rules(void) {
    TEST_COND("auth_init twice", auth_init() == FH_OK && auth_init() == FH_OK);
    char big[AUTH_PASSWORD_MAX + 2];
    memset(big, 'p', sizeof big - 1);
    big[sizeof big - 1] = 0;
    TEST_COND("password: 7 bytes too short, 8 ok", auth_password_check("1234567") == FH_E_ARG &&
                                                       auth_password_check("12345678") == FH_OK);
    TEST_COND("password: 1025 bytes too long, 1024 ok",
              auth_password_check(big) == FH_E_ARG &&
                  (big[AUTH_PASSWORD_MAX] = 0, auth_password_check(big) == FH_OK));
    TEST_COND("password NULL", auth_password_check(NULL) == FH_E_ARG);
    char name[AUTH_NAME_MAX + 2];
    memset(name, 'n', sizeof name - 1);
    name[sizeof name - 1] = 0;
    TEST_COND("names: empty, too long, space, leading dot, control char refused",
              auth_name_check("") == FH_E_ARG && auth_name_check(NULL) == FH_E_ARG &&
                  auth_name_check(name) == FH_E_ARG && auth_name_check("a b") == FH_E_ARG &&
                  auth_name_check(".a") == FH_E_ARG && auth_name_check("a\n") == FH_E_ARG &&
                  auth_name_check("\xc3\xa9") == FH_E_ARG);
    TEST_COND("names: alice, a.b-c_d@e, 64 bytes ok",
              auth_name_check("alice") == FH_OK && auth_name_check("a.b-c_d@e") == FH_OK &&
                  (name[AUTH_NAME_MAX] = 0, auth_name_check(name) == FH_OK));
    struct auth_opts o = auth_opts_default();
    struct auth *a = NULL;
    o.pw_mem = 100;
    TEST_COND("auth_new refuses a cost below the minimum", auth_new(&o, &a) == FH_E_ARG && !a);
    o = auth_opts_default();
    o.session_idle_s = 0;
    TEST_COND("auth_new refuses a zero idle time", auth_new(&o, &a) == FH_E_ARG);
    auth_free(NULL);
}

static void test_login(struct auth *a, struct store *s) {
    int64_t alice = 0, bob = 0, id = 0, wait = -1;
    TEST_COND("add alice", auth_user_add(a, s, "alice", "alice-secret", &alice) == FH_OK && alice > 1);
    TEST_COND("add bob", auth_user_add(a, s, "bob", "bob-secret-1", &bob) == FH_OK && bob > alice);
    TEST_COND("duplicate add is FH_E_EXISTS",
              auth_user_add(a, s, "alice", "another-pass", &id) == FH_E_EXISTS &&
                  auth_user_add(a, s, "local", "another-pass", &id) == FH_E_EXISTS);
    TEST_COND("add with a short password / bad name: FH_E_ARG",
              auth_user_add(a, s, "carol", "short", &id) == FH_E_ARG &&
                  auth_user_add(a, s, "car ol", "long-enough", &id) == FH_E_ARG);
    struct store_user u;
    TEST_COND("the stored hash is Argon2id, not the password",
              store_user_find(s, "alice", &u) == 0 && strncmp(u.pass_hash, "$argon2id$", 10) == 0 &&
                  !strstr(u.pass_hash, "alice-secret"));
    int yes = 0;
    TEST_COND("accounts exist", auth_accounts_exist(s, &yes) == 0 && yes == 1);

    char sid[AUTH_SID_LEN + 1], sid2[AUTH_SID_LEN + 1];
    int rc = auth_login(a, s, "alice", "alice-secret", "10.0.0.1", sid, &wait);
    TEST_COND("login ok: 64 hex digits", rc == FH_OK && strlen(sid) == 64 &&
                                             strspn(sid, "0123456789abcdef") == 64 && wait == 0);
    TEST_COND("a second login gives another id",
              auth_login(a, s, "alice", "alice-secret", NULL, sid2, NULL) == FH_OK &&
                  strcmp(sid, sid2) != 0);
    TEST_COND("the id itself is not stored (only its hash)",
              store_session_get(s, sid, now, &(struct store_session){0}) == FH_E_NOTFOUND);
    TEST_COND("wrong password: FH_E_AUTH, no id",
              auth_login(a, s, "alice", "alice-secreT", NULL, sid2, NULL) == FH_E_AUTH && !sid2[0]);
    char msg_wrong[256], msg_unknown[256];
    snprintf(msg_wrong, sizeof msg_wrong, "%s", fh_errmsg());
    TEST_COND("unknown user: FH_E_AUTH with the same message",
              auth_login(a, s, "mallory", "whatever-pw", NULL, sid2, NULL) == FH_E_AUTH &&
                  (snprintf(msg_unknown, sizeof msg_unknown, "%s", fh_errmsg()),
                   strcmp(msg_wrong, msg_unknown) == 0));
    TEST_COND("'local' (no password) cannot log in",
              auth_login(a, s, "local", "", NULL, sid2, NULL) == FH_E_AUTH &&
                  auth_login(a, s, "local", "anything-at-all", NULL, sid2, NULL) == FH_E_AUTH);
    TEST_COND("empty user name: FH_E_ARG", auth_login(a, s, "", "x", NULL, sid2, NULL) == FH_E_ARG);

    struct auth_who w;
    TEST_COND("session check: alice",
              auth_session_check(a, s, sid, &w) == FH_OK && w.user_id == alice &&
                  strcmp(w.name, "alice") == 0 && w.token_id == 0);
    char bad[AUTH_SID_LEN + 1];
    memcpy(bad, sid, sizeof bad);
    bad[0] = bad[0] == 'a' ? 'b' : 'a';
    TEST_COND("a changed id is FH_E_AUTH", auth_session_check(a, s, bad, &w) == FH_E_AUTH);
    TEST_COND("malformed ids are FH_E_AUTH",
              auth_session_check(a, s, "", &w) == FH_E_AUTH &&
                  auth_session_check(a, s, NULL, &w) == FH_E_AUTH &&
                  auth_session_check(a, s, "zz", &w) == FH_E_AUTH);
    bad[0] = 'G';
    TEST_COND("a non-hex digit is FH_E_AUTH", auth_session_check(a, s, bad, &w) == FH_E_AUTH);
    TEST_COND("logout ends it", auth_logout(a, s, sid2) == FH_OK &&
                                    auth_session_check(a, s, sid2, &w) == FH_E_AUTH);
    TEST_COND("logout again / of garbage is FH_OK",
              auth_logout(a, s, sid2) == FH_OK && auth_logout(a, s, "junk") == FH_OK);

    // expiry: idle, refresh, absolute
    int64_t t0 = now;
    rc = auth_login(a, s, "bob", "bob-secret-1", NULL, sid2, NULL);
    now = t0 + AUTH_SESSION_IDLE_S - 1;
    TEST_COND("session valid just before the idle limit", rc == 0 && auth_session_check(a, s, sid2, &w) == FH_OK);
    now = t0 + 2 * AUTH_SESSION_IDLE_S - 2;
    TEST_COND("... and the use refreshed it", auth_session_check(a, s, sid2, &w) == FH_OK);
    now = t0 + 3 * AUTH_SESSION_IDLE_S - 3;
    TEST_COND("refreshed again (third idle period)", auth_session_check(a, s, sid2, &w) == FH_OK);
    now = t0 + AUTH_SESSION_MAX_S;
    TEST_COND("never past the absolute limit", auth_session_check(a, s, sid2, &w) == FH_E_AUTH);
    TEST_COND("alice's unused session expired after the idle time",
              auth_session_check(a, s, sid, &w) == FH_E_AUTH);
    // refreshing writes at most once a minute
    rc = auth_login(a, s, "bob", "bob-secret-1", NULL, sid2, NULL);
    struct store_session x;
    char hex[65];
    {
        uint8_t bin[32];
        for (int i = 0; i < 32; i++) sscanf(sid2 + 2 * i, "%2hhx", &bin[i]);
        fh_sha256_hex(bin, 32, hex);
    }
    now += 30;
    auth_session_check(a, s, sid2, &w);
    int quiet = store_session_get(s, hex, now, &x) == 0 && x.last_seen == now - 30;
    now += 31;
    auth_session_check(a, s, sid2, &w);
    TEST_COND("last_seen written at most once a minute",
              rc == 0 && quiet && store_session_get(s, hex, now, &x) == 0 && x.last_seen == now);
}

static void test_rate(struct auth *a, struct store *s) {
    char sid[AUTH_SID_LEN + 1];
    int64_t wait = 0, id;
    auth_user_add(a, s, "dora", "dora-secret", &id);
    int fails = 0;
    for (int i = 0; i < AUTH_RATE_FREE; i++)
        fails += auth_login(a, s, "dora", "wrong-pass", "10.0.0.2", sid, &wait) == FH_E_AUTH;
    TEST_COND("the first failures are plain FH_E_AUTH", fails == AUTH_RATE_FREE);
    int rc = auth_login(a, s, "dora", "dora-secret", "10.0.0.3", sid, &wait);
    TEST_COND("then even the right password waits: FH_E_RATE with the seconds",
              rc == FH_E_RATE && wait == AUTH_RATE_BASE_S && !sid[0]);
    now += 10;
    TEST_COND("Retry-After counts down",
              auth_login(a, s, "dora", "dora-secret", NULL, sid, &wait) == FH_E_RATE &&
                  wait == AUTH_RATE_BASE_S - 10);
    TEST_COND("another user from another address is not affected",
              auth_login(a, s, "alice", "alice-secret", "10.0.0.9", sid, &wait) == FH_OK);
    now += AUTH_RATE_BASE_S;
    TEST_COND("after the wait: one more wrong password doubles the wait",
              auth_login(a, s, "dora", "wrong-pass", NULL, sid, &wait) == FH_E_AUTH &&
                  auth_login(a, s, "dora", "dora-secret", NULL, sid, &wait) == FH_E_RATE &&
                  wait == 2 * AUTH_RATE_BASE_S);
    for (int i = 0; i < 10; i++) {
        now += AUTH_RATE_MAX_S;
        auth_login(a, s, "dora", "wrong-pass", NULL, sid, &wait);
    }
    TEST_COND("the wait stops growing at the maximum",
              auth_login(a, s, "dora", "dora-secret", NULL, sid, &wait) == FH_E_RATE &&
                  wait == AUTH_RATE_MAX_S);
    now += AUTH_RATE_FORGET_S;
    TEST_COND("decay: after the forget time one failure is a plain failure again",
              auth_login(a, s, "dora", "wrong-pass", NULL, sid, &wait) == FH_E_AUTH &&
                  auth_login(a, s, "dora", "dora-secret", NULL, sid, &wait) == FH_OK);
    // per address: failures on many names from one address
    for (int i = 0; i < AUTH_RATE_FREE; i++) {
        char n[32];
        snprintf(n, sizeof n, "ghost%d", i);
        auth_login(a, s, n, "wrong-pass", "192.0.2.66", sid, &wait);
    }
    TEST_COND("per address: the address waits, for any user",
              auth_login(a, s, "alice", "alice-secret", "192.0.2.66", sid, &wait) == FH_E_RATE &&
                  wait > 0);
    TEST_COND("... other addresses do not",
              auth_login(a, s, "alice", "alice-secret", "192.0.2.67", sid, &wait) == FH_OK);
    TEST_COND("a success clears the name's count",
              auth_login(a, s, "dora", "wrong-pass", NULL, sid, &wait) == FH_E_AUTH &&
                  auth_login(a, s, "dora", "dora-secret", NULL, sid, &wait) == FH_OK);
    now += AUTH_RATE_FORGET_S;
}

static int count_tok(void *ctx, const struct store_token *t) {
    (*(int *)ctx)++;
    return 0;
}

static void test_tokens_passwd_delete(struct auth *a, struct store *s) {
    int64_t eve = 0, tid = 0;
    char tok[AUTH_TOKEN_LEN + 1], sid[AUTH_SID_LEN + 1], sid2[AUTH_SID_LEN + 1];
    struct auth_who w;
    auth_user_add(a, s, "eve", "eve-secret", &eve);
    TEST_COND("token: fh_ + 64 hex",
              auth_token_create(a, s, "eve", "backup", tok, &tid) == FH_OK && strlen(tok) == 67 &&
                  strncmp(tok, "fh_", 3) == 0 && strspn(tok + 3, "0123456789abcdef") == 64);
    TEST_COND("token check: eve, token id",
              auth_token_check(a, s, tok, &w) == FH_OK && w.user_id == eve && w.token_id == tid &&
                  strcmp(w.name, "eve") == 0);
    TEST_COND("the token itself is not stored",
              store_token_get(s, tok + 3, &(struct store_token){0}) == FH_E_NOTFOUND);
    TEST_COND("a token without prefix / changed / empty is FH_E_AUTH",
              auth_token_check(a, s, tok + 3, &w) == FH_E_AUTH &&
                  auth_token_check(a, s, "fh_", &w) == FH_E_AUTH &&
                  auth_token_check(a, s, NULL, &w) == FH_E_AUTH &&
                  (tok[10] ^= 1, auth_token_check(a, s, tok, &w) == FH_E_AUTH));
    tok[10] ^= 1;
    TEST_COND("a session id is not a token, nor the reverse",
              auth_session_check(a, s, tok + 3, &w) == FH_E_AUTH);
    TEST_COND("token for nobody / empty label",
              auth_token_create(a, s, "nobody", "x", tok, NULL) == FH_E_NOTFOUND &&
                  auth_token_create(a, s, "eve", "", tok, NULL) == FH_E_ARG);
    auth_token_create(a, s, "eve", "backup", tok, &tid);
    int n = 0;
    store_tokens_each(s, eve, count_tok, &n);
    TEST_COND("two tokens listed (labels may repeat)", n == 2);
    TEST_COND("revoke: gone", auth_token_revoke(s, eve, tid) == FH_OK &&
                                  auth_token_check(a, s, tok, &w) == FH_E_AUTH);
    auth_token_create(a, s, "eve", "phone", tok, &tid);

    // passwd ends sessions
    int ended = -1;
    auth_login(a, s, "eve", "eve-secret", NULL, sid, NULL);
    auth_login(a, s, "eve", "eve-secret", NULL, sid2, NULL);
    TEST_COND("passwd: short password refused, nothing changes",
              auth_user_passwd(a, s, "eve", "short", &ended) == FH_E_ARG &&
                  auth_session_check(a, s, sid, &w) == FH_OK);
    TEST_COND("passwd of nobody: FH_E_NOTFOUND",
              auth_user_passwd(a, s, "nobody", "long-enough", NULL) == FH_E_NOTFOUND);
    TEST_COND("passwd ends both sessions", auth_user_passwd(a, s, "eve", "eve-new-secret", &ended) == FH_OK &&
                                             ended == 2 && auth_session_check(a, s, sid, &w) == FH_E_AUTH &&
                                             auth_session_check(a, s, sid2, &w) == FH_E_AUTH);
    TEST_COND("old password refused, new one works",
              auth_login(a, s, "eve", "eve-secret", NULL, sid, NULL) == FH_E_AUTH &&
                  auth_login(a, s, "eve", "eve-new-secret", NULL, sid, NULL) == FH_OK);
    TEST_COND("tokens survive passwd", auth_token_check(a, s, tok, &w) == FH_OK);

    // delete
    struct store_user_counts c;
    TEST_COND("'local' cannot be deleted", auth_user_del(a, s, "local", &c) == FH_E_ARG);
    // tokens: the first "backup" and "phone" (the second "backup" was revoked)
    TEST_COND("delete eve: 1 session, 2 tokens",
              auth_user_del(a, s, "eve", &c) == FH_OK && c.sessions == 1 && c.tokens == 2);
    TEST_COND("... her session and token are dead",
              auth_session_check(a, s, sid, &w) == FH_E_AUTH && auth_token_check(a, s, tok, &w) == FH_E_AUTH);
    TEST_COND("... and she cannot log in", auth_login(a, s, "eve", "eve-new-secret", NULL, sid, NULL) == FH_E_AUTH);
    TEST_COND("delete nobody: FH_E_NOTFOUND", auth_user_del(a, s, "eve", &c) == FH_E_NOTFOUND);
    int64_t eve2 = 0;
    TEST_COND("a new eve gets a new id", auth_user_add(a, s, "eve", "eve-secret", &eve2) == 0 && eve2 > eve);
}

// several threads, each with its own store handle, log in and check sessions at once
struct thr {
    struct auth *a;
    int ok;
};
static void *worker(void *p) {
    struct thr *t = p;
    struct store *s;
    if (store_open(db_path, &s)) return NULL;
    for (int i = 0; i < 10; i++) {
        char sid[AUTH_SID_LEN + 1];
        struct auth_who w;
        if (auth_login(t->a, s, "alice", "alice-secret", NULL, sid, NULL) == FH_OK &&
            auth_session_check(t->a, s, sid, &w) == FH_OK && auth_logout(t->a, s, sid) == FH_OK)
            t->ok++;
    }
    store_close(s);
    return NULL;
}

static void test_threads(struct auth *a) {
    pthread_t th[4];
    struct thr t[4];
    for (int i = 0; i < 4; i++) {
        t[i] = (struct thr){a, 0};
        pthread_create(&th[i], NULL, worker, &t[i]);
    }
    int ok = 0;
    for (int i = 0; i < 4; i++) pthread_join(th[i], NULL), ok += t[i].ok;
    TEST_COND("4 threads x 10 login/check/logout, each with its own store", ok == 40);
}

static void test_real_cost(struct store *s) {
    struct auth *a = NULL;
    int rc = auth_new(NULL, &a);
    char sid[AUTH_SID_LEN + 1];
    // a hash of the low test cost verifies under any options, and is upgraded on login
    double t0 = fh_now_ms();
    rc = rc || auth_login(a, s, "alice", "alice-secret", NULL, sid, NULL);
    double ms = fh_now_ms() - t0;
    struct store_user u;
    TEST_COND("default cost: Argon2id m=65536 t=2; an old low-cost hash is upgraded at login",
              rc == 0 && store_user_find(s, "alice", &u) == 0 && strstr(u.pass_hash, "m=65536,t=2"));
    printf("# login with the re-hash at the interactive cost: %.0f ms\n", ms);
    auth_free(a);
}

int main(void) {
    snprintf(db_path, sizeof db_path, "/tmp/fh_test_auth_%d.db", (int)getpid());
    remove(db_path);
    test_rules();
    struct store *s = NULL;
    struct auth *a = new_auth();
    int rc = store_open(db_path, &s);
    TEST_COND("setup", a && rc == 0);
    if (a && rc == 0) {
        test_login(a, s);
        test_rate(a, s);
        test_tokens_passwd_delete(a, s);
        test_threads(a);
        test_real_cost(s);
    }
    auth_free(a);
    store_close(s);
    char x[300];
    remove(db_path);
    snprintf(x, sizeof x, "%s-wal", db_path);
    remove(x);
    snprintf(x, sizeof x, "%s-shm", db_path);
    remove(x);
    return TEST_REPORT();
}
