// SPDX-License-Identifier: MIT
// auth: login, sessions and API tokens (auth.h). A secret is 32 bytes from randombytes_buf,
// given out as lowercase hex (sessions) or "fh_" + hex (tokens); the store sees only the
// SHA-256 hex of the 32 bytes. Parsing a presented secret is strict (exact length, hex
// digits only) and runs in constant time (sodium_hex2bin).
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "auth/auth.h"
#include "auth/auth_int.h"
#include "base/base.h"

#define TOKEN_PREFIX "fh_"

// hex (exactly 64 hex digits) -> the SHA-256 hex the store keys on. 0 ok, -1 malformed.
static int secret_hash(const char *hex, char hash[65]) {
    uint8_t bin[32];
    size_t n = 0;
    const char *end = NULL;
    if (!hex || strnlen(hex, 65) != 64) return -1;
    if (sodium_hex2bin(bin, sizeof bin, hex, 64, NULL, &n, &end) != 0 || n != 32 ||
        end != hex + 64)
        return -1;
    fh_sha256_hex(bin, sizeof bin, hash);
    sodium_memzero(bin, sizeof bin);
    return 0;
}

// A fresh secret: hex (65 bytes with NUL) and its SHA-256 hex.
static void secret_new(char hex[65], char hash[65]) {
    uint8_t bin[32];
    randombytes_buf(bin, sizeof bin);
    sodium_bin2hex(hex, 65, bin, sizeof bin);
    fh_sha256_hex(bin, sizeof bin, hash);
    sodium_memzero(bin, sizeof bin);
}

static int fill_who(struct store *s, int64_t user_id, int64_t token_id, struct auth_who *who) {
    struct store_user u;
    int rc = store_user_by_id(s, user_id, &u);
    if (rc == FH_E_NOTFOUND) return fh_fail(FH_E_AUTH, "auth: the user is gone");
    if (rc) return rc;
    memset(who, 0, sizeof *who);
    who->user_id = u.id;
    who->token_id = token_id;
    snprintf(who->name, sizeof who->name, "%s", u.name);
    return FH_OK;
}

// ---- login -------------------------------------------------------------------------------------
static int refused(void) { return fh_fail(FH_E_AUTH, "auth: wrong user name or password"); }

static int64_t session_expiry(struct auth *a, int64_t created, int64_t now) {
    int64_t idle = now + a->o.session_idle_s, max = created + a->o.session_max_s;
    return idle < max ? idle : max;
}

// Re-hashes a password stored at another cost than the configured one (best effort).
static void upgrade_hash(struct auth *a, struct store *s, int64_t id, const char *hash,
                         const char *password) {
    if (crypto_pwhash_str_needs_rehash(hash, a->o.pw_ops, a->o.pw_mem) == 0) return;
    char h[crypto_pwhash_STRBYTES];
    if (auth_hash(a, password, h) == FH_OK) store_user_set_password(s, id, h);
    sodium_memzero(h, sizeof h);
}

int auth_login(struct auth *a, struct store *s, const char *user, const char *password,
               const char *client, char sid[AUTH_SID_LEN + 1], int64_t *retry_after_s) {
    FH_ASSERT(a && s && sid);
    sid[0] = 0;
    if (retry_after_s) *retry_after_s = 0;
    if (!user || !user[0] || strnlen(user, STORE_NAME_MAX + 1) > STORE_NAME_MAX)
        return fh_fail(FH_E_ARG, "auth: user name empty or longer than %d bytes", STORE_NAME_MAX);
    if (!password || strnlen(password, AUTH_PASSWORD_MAX + 1) > AUTH_PASSWORD_MAX)
        return fh_fail(FH_E_ARG, "auth: password missing or longer than %d bytes",
                       AUTH_PASSWORD_MAX);
    int64_t now = auth_now(a);
    int64_t w1 = rate_wait(a, RATE_NAME, user, now), w2 = rate_wait(a, RATE_ADDR, client, now);
    int64_t w = w1 > w2 ? w1 : w2;
    if (w > 0) {
        if (retry_after_s) *retry_after_s = w;
        return fh_fail(FH_E_RATE, "auth: too many failed logins; try again in %lld s",
                       (long long)w);
    }
    struct store_user u;
    int rc = store_user_find(s, user, &u);
    if (rc && rc != FH_E_NOTFOUND) return rc;
    int known = rc == FH_OK && u.pass_hash;
    char stored[crypto_pwhash_STRBYTES] = "";
    if (known) snprintf(stored, sizeof stored, "%s", u.pass_hash); // s's buffer is reused below
    int64_t uid = known ? u.id : 0;
    // unknown users and users without a password take the same time as a wrong password
    const char *against = known ? stored : auth_dummy(a);
    if (!against) return fh_fail(FH_E_NOMEM, "auth: cannot make the dummy hash");
    int ok = auth_verify(a, against, password) && known;
    if (!ok) {
        rate_fail(a, RATE_NAME, user, now);
        rate_fail(a, RATE_ADDR, client, now);
        return refused();
    }
    rate_clear(a, RATE_NAME, user);
    upgrade_hash(a, s, uid, stored, password);
    store_sessions_purge(s, now, NULL); // housekeeping; a failure here is not the login's
    struct store_session x = {.user_id = uid, .created = now, .last_seen = now};
    char hex[65];
    secret_new(hex, x.hash);
    x.expires = session_expiry(a, now, now);
    rc = store_session_insert(s, &x);
    if (rc == FH_OK) memcpy(sid, hex, sizeof hex);
    sodium_memzero(hex, sizeof hex);
    return rc;
}

// ---- sessions -----------------------------------------------------------------------------------
int auth_session_check(struct auth *a, struct store *s, const char *sid, struct auth_who *who) {
    FH_ASSERT(a && s && who);
    char hash[65];
    if (secret_hash(sid, hash)) return fh_fail(FH_E_AUTH, "auth: malformed session id");
    int64_t now = auth_now(a);
    struct store_session x;
    int rc = store_session_get(s, hash, now, &x);
    if (rc == FH_E_NOTFOUND) return fh_fail(FH_E_AUTH, "auth: session unknown or expired");
    if (rc) return rc;
    if (sodium_memcmp(x.hash, hash, 64) != 0) return fh_fail(FH_E_AUTH, "auth: session mismatch");
    if (now - x.last_seen >= AUTH_TOUCH_S) {
        rc = store_session_touch(s, hash, now, session_expiry(a, x.created, now));
        if (rc) return rc;
    }
    return fill_who(s, x.user_id, 0, who);
}

int auth_logout(struct auth *a, struct store *s, const char *sid) {
    FH_ASSERT(a && s);
    char hash[65];
    if (secret_hash(sid, hash)) return FH_OK;
    int rc = store_session_delete(s, hash);
    return rc == FH_E_NOTFOUND ? FH_OK : rc;
}

// ---- tokens --------------------------------------------------------------------------------------
int auth_token_create(struct auth *a, struct store *s, const char *user, const char *label,
                      char token[AUTH_TOKEN_LEN + 1], int64_t *id) {
    FH_ASSERT(a && s && token);
    token[0] = 0;
    if (!user || !user[0]) return fh_fail(FH_E_ARG, "auth: empty user name");
    struct store_user u;
    int rc = store_user_find(s, user, &u);
    if (rc) return rc;
    char hex[65], hash[65];
    secret_new(hex, hash);
    int64_t tid = 0;
    rc = store_token_insert(s, u.id, hash, label, auth_now(a), &tid);
    if (rc == FH_OK) {
        memcpy(token, TOKEN_PREFIX, sizeof TOKEN_PREFIX - 1);
        memcpy(token + sizeof TOKEN_PREFIX - 1, hex, sizeof hex);
        if (id) *id = tid;
    }
    sodium_memzero(hex, sizeof hex);
    return rc;
}

int auth_token_check(struct auth *a, struct store *s, const char *token, struct auth_who *who) {
    FH_ASSERT(a && s && who);
    char hash[65];
    if (!token || strncmp(token, TOKEN_PREFIX, sizeof TOKEN_PREFIX - 1) != 0 ||
        secret_hash(token + sizeof TOKEN_PREFIX - 1, hash))
        return fh_fail(FH_E_AUTH, "auth: malformed API token");
    struct store_token t;
    int rc = store_token_get(s, hash, &t);
    if (rc == FH_E_NOTFOUND) return fh_fail(FH_E_AUTH, "auth: unknown API token");
    if (rc) return rc;
    if (sodium_memcmp(t.hash, hash, 64) != 0) return fh_fail(FH_E_AUTH, "auth: token mismatch");
    int64_t now = auth_now(a);
    if (now - t.last_used >= AUTH_TOUCH_S && (rc = store_token_touch(s, t.id, now))) return rc;
    return fill_who(s, t.user_id, t.id, who);
}

int auth_token_revoke(struct store *s, int64_t user_id, int64_t token_id) {
    return store_token_delete(s, user_id, token_id);
}
