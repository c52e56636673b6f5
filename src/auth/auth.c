// SPDX-License-Identifier: MIT
// auth: setup, the name and password rules, Argon2id hashing through a gate that bounds
// the memory of concurrent hashes, and the user administration calls (auth.h).
#include "auth/auth.h"

#include <sodium.h>
#include <string.h>
#include <time.h>

#include "auth/auth_int.h"
#include "base/base.h"

_Static_assert(crypto_pwhash_STRBYTES == sizeof ((struct auth *)0)->dummy, "hash buffer size");
_Static_assert(crypto_pwhash_OPSLIMIT_MIN <= AUTH_PW_OPS_MIN, "test cost");
_Static_assert(crypto_pwhash_MEMLIMIT_MIN <= AUTH_PW_MEM_MIN, "test cost");

// ---- setup ------------------------------------------------------------------------------------
static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int init_rc;
static void init_sodium(void) { init_rc = sodium_init() < 0 ? -1 : 0; }

int auth_init(void) {
    pthread_once(&init_once, init_sodium);
    return init_rc ? fh_fail(FH_E_UNSUPPORTED, "auth: libsodium failed to initialise") : FH_OK;
}

static int64_t clock_time(void *ctx) {
    (void)ctx;
    return (int64_t)time(NULL);
}

struct auth_opts auth_opts_default(void) {
    return (struct auth_opts){.pw_ops = crypto_pwhash_OPSLIMIT_INTERACTIVE,
                              .pw_mem = crypto_pwhash_MEMLIMIT_INTERACTIVE,
                              .max_hashing = 4,
                              .session_idle_s = AUTH_SESSION_IDLE_S,
                              .session_max_s = AUTH_SESSION_MAX_S,
                              .clock = clock_time};
}

int64_t auth_now(struct auth *a) { return a->o.clock(a->o.clock_ctx); }

int auth_new(const struct auth_opts *opts, struct auth **out) {
    FH_ASSERT(out);
    *out = NULL;
    struct auth_opts o = opts ? *opts : auth_opts_default();
    if (!o.clock) o.clock = clock_time;
    if (o.pw_ops < AUTH_PW_OPS_MIN || o.pw_ops > crypto_pwhash_OPSLIMIT_MAX ||
        o.pw_mem < AUTH_PW_MEM_MIN || o.pw_mem > ((size_t)1 << 31))
        return fh_fail(FH_E_ARG, "auth: password hash cost out of range (ops %llu, mem %zu)",
                       o.pw_ops, o.pw_mem);
    if (o.max_hashing < 1 || o.session_idle_s <= 0 || o.session_max_s <= 0)
        return fh_fail(FH_E_ARG, "auth: max_hashing and session times must be positive");
    int rc = auth_init();
    if (rc) return rc;
    struct auth *a = fh_calloc(1, sizeof *a);
    if (!a) return fh_fail(FH_E_NOMEM, "auth: cannot allocate the state");
    a->o = o;
    pthread_mutex_init(&a->mu, NULL);
    pthread_mutex_init(&a->dummy_mu, NULL);
    pthread_cond_init(&a->cv, NULL);
    randombytes_buf(a->rate_key, sizeof a->rate_key);
    *out = a;
    return FH_OK;
}

// The hash of a random password nobody knows, at the configured cost. Made on first need,
// so the CLI's commands that never log in do not pay for it.
const char *auth_dummy(struct auth *a) {
    pthread_mutex_lock(&a->dummy_mu);
    if (!a->dummy_ready) {
        uint8_t secret[32];
        char pw[65];
        randombytes_buf(secret, sizeof secret);
        sodium_bin2hex(pw, sizeof pw, secret, sizeof secret);
        a->dummy_ready = auth_hash(a, pw, a->dummy) == FH_OK;
        sodium_memzero(pw, sizeof pw);
        sodium_memzero(secret, sizeof secret);
    }
    pthread_mutex_unlock(&a->dummy_mu);
    return a->dummy_ready ? a->dummy : NULL;
}

void auth_free(struct auth *a) {
    if (!a) return;
    pthread_mutex_destroy(&a->mu);
    pthread_mutex_destroy(&a->dummy_mu);
    pthread_cond_destroy(&a->cv);
    sodium_memzero(a, sizeof *a);
    fh_free(a);
}

// ---- rules --------------------------------------------------------------------------------------
static int name_char(unsigned char c, int first) {
    int alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    return alnum || (!first && (c == '.' || c == '_' || c == '-' || c == '@'));
}

int auth_name_check(const char *name) {
    if (!name || !name[0]) return fh_fail(FH_E_ARG, "auth: empty user name");
    size_t n = strnlen(name, AUTH_NAME_MAX + 1);
    if (n > AUTH_NAME_MAX)
        return fh_fail(FH_E_ARG, "auth: user name longer than %d bytes", AUTH_NAME_MAX);
    for (size_t i = 0; i < n; i++)
        if (!name_char((unsigned char)name[i], i == 0))
            return fh_fail(FH_E_ARG, "auth: user name: character %zu is not allowed (letters, "
                                     "digits and . _ - @ after the first)", i + 1);
    return FH_OK;
}

int auth_password_check(const char *password) {
    if (!password) return fh_fail(FH_E_ARG, "auth: no password");
    size_t n = strnlen(password, AUTH_PASSWORD_MAX + 1);
    if (n < AUTH_PASSWORD_MIN)
        return fh_fail(FH_E_ARG, "auth: password shorter than %d bytes", AUTH_PASSWORD_MIN);
    if (n > AUTH_PASSWORD_MAX)
        return fh_fail(FH_E_ARG, "auth: password longer than %d bytes", AUTH_PASSWORD_MAX);
    return FH_OK;
}

// ---- hashing through the gate ------------------------------------------------------------------
static void gate_enter(struct auth *a) {
    pthread_mutex_lock(&a->mu);
    while (a->hashing >= a->o.max_hashing) pthread_cond_wait(&a->cv, &a->mu);
    a->hashing++;
    pthread_mutex_unlock(&a->mu);
}

static void gate_leave(struct auth *a) {
    pthread_mutex_lock(&a->mu);
    a->hashing--;
    pthread_cond_signal(&a->cv);
    pthread_mutex_unlock(&a->mu);
}

int auth_hash(struct auth *a, const char *password, char out[128]) {
    gate_enter(a);
    int r = crypto_pwhash_str(out, password, strlen(password), a->o.pw_ops, a->o.pw_mem);
    gate_leave(a);
    return r ? fh_fail(FH_E_NOMEM, "auth: cannot hash the password (Argon2id needs %zu bytes)",
                       a->o.pw_mem)
             : FH_OK;
}

int auth_verify(struct auth *a, const char *hash, const char *password) {
    gate_enter(a);
    int r = crypto_pwhash_str_verify(hash, password, strlen(password));
    gate_leave(a);
    return r == 0;
}

// ---- users ------------------------------------------------------------------------------------
int auth_user_add(struct auth *a, struct store *s, const char *name, const char *password,
                  int64_t *id) {
    FH_ASSERT(a && s && id);
    int rc = auth_name_check(name);
    if (rc == FH_OK) rc = auth_password_check(password);
    if (rc) return rc;
    char h[crypto_pwhash_STRBYTES];
    if ((rc = auth_hash(a, password, h))) return rc;
    rc = store_user_create(s, name, h, auth_now(a), id);
    sodium_memzero(h, sizeof h);
    return rc;
}

// The user by name; names the store accepts but the rules do not (old rows) still work.
static int user_by_name(struct store *s, const char *name, struct store_user *u) {
    if (!name || !name[0]) return fh_fail(FH_E_ARG, "auth: empty user name");
    return store_user_find(s, name, u);
}

int auth_user_del(struct auth *a, struct store *s, const char *name, struct store_user_counts *out) {
    FH_ASSERT(a && s);
    struct store_user u;
    int rc = user_by_name(s, name, &u);
    if (rc) return rc;
    if (u.id == 1)
        return fh_fail(FH_E_ARG, "auth: user 1 ('%s') is the built-in local user and cannot be "
                                 "deleted", name);
    return store_user_delete(s, u.id, out);
}

int auth_user_passwd(struct auth *a, struct store *s, const char *name, const char *password,
                     int *n_ended) {
    FH_ASSERT(a && s);
    int rc = auth_password_check(password);
    struct store_user u;
    if (rc == FH_OK) rc = user_by_name(s, name, &u);
    if (rc) return rc;
    char h[crypto_pwhash_STRBYTES];
    if ((rc = auth_hash(a, password, h))) return rc; // before the transaction: hashing is slow
    int n = 0;
    rc = store_begin(s);
    if (rc == FH_OK) rc = store_user_set_password(s, u.id, h);
    if (rc == FH_OK) rc = store_sessions_delete_user(s, u.id, &n);
    if (rc == FH_OK) rc = store_commit(s);
    if (rc) store_rollback(s);
    sodium_memzero(h, sizeof h);
    if (rc == FH_OK && n_ended) *n_ended = n;
    return rc;
}

int auth_user_get(struct store *s, int64_t id, struct store_user *out) { return store_user_by_id(s, id, out); }

int auth_user_find(struct store *s, const char *name, struct store_user *out) {
    return store_user_find(s, name, out);
}

int auth_users_each(struct store *s, int (*fn)(void *ctx, const struct store_user *u), void *ctx) {
    return store_users_each(s, fn, ctx);
}

int auth_accounts_exist(struct store *s, int *yes) {
    FH_ASSERT(s && yes);
    int n = 0, rc = store_users_with_password(s, &n);
    *yes = rc == FH_OK && n > 0;
    return rc;
}
