// SPDX-License-Identifier: MIT
// auth: accounts, login sessions and API tokens — the policy over store/'s rows. Passwords
// are hashed with Argon2id (libsodium crypto_pwhash_str) and checked with
// crypto_pwhash_str_verify; session ids and tokens are 256-bit random secrets handed to the
// caller once and stored only as their SHA-256; failed logins are rate-limited in memory.
// It does not speak HTTP (cookies, headers, status codes are the server's), and does not
// decide what a user may see (every store/library call takes the owner explicitly).
//
//   struct auth *a;
//   if (auth_new(NULL, &a)) fail(fh_errmsg());            // one per process, shared by threads
//   auth_user_add(a, s, "alice", "correct horse", &uid);   // s: this thread's struct store
//   char sid[AUTH_SID_LEN + 1]; int64_t wait;
//   int rc = auth_login(a, s, "alice", pw, "192.0.2.7", sid, &wait);
//   // rc FH_E_AUTH -> 401, FH_E_RATE -> 429 with Retry-After: wait, FH_E_ARG -> 400
//   struct auth_who who;
//   if (auth_session_check(a, s, sid_from_cookie, &who) == FH_OK) serve(who.user_id);
//   auth_logout(a, s, sid);
//   auth_free(a);
//
// Secrets: a session id is 64 lowercase hex digits (32 random bytes from randombytes_buf);
// an API token is "fh_" + 64 lowercase hex digits. Both are stored as the SHA-256 (hex) of
// the 32 bytes, so a copy of the database lets nobody log in; the secret is shown once.
// Lookup is by that hash; the hash found is compared again with sodium_memcmp.
//
// Sessions: valid for AUTH_SESSION_IDLE_S after the last use (refreshed at most once every
// AUTH_TOUCH_S, so a busy page does not write on every request) and never longer than
// AUTH_SESSION_MAX_S after login. Changing a password ends all the user's sessions (API
// tokens stay: they are separate credentials, revoked one by one). Deleting a user deletes
// their sessions and tokens with all their rows.
//
// Rate limiting (in memory, per process): failures are counted per user name and per client
// address. After AUTH_RATE_FREE failures of one key the next attempt must wait
// AUTH_RATE_BASE_S, doubling with each further failure up to AUTH_RATE_MAX_S; a key with no
// failure for AUTH_RATE_FORGET_S starts again from zero; a successful login clears its user
// name's count (not the address's). While a key waits, login answers FH_E_RATE with the
// seconds left, without checking the password (so correct passwords wait too). The table
// holds AUTH_RATE_SLOTS keys; when full, the key with the oldest failure is dropped.
// Note: a per-name limit lets anyone delay one user's logins; tokens are not affected.
//
// Timing: an unknown user, or one without a password (the built-in "local"), is verified
// against a dummy hash of the same cost, so the answer takes as long as for a wrong password.
// At most opts.max_hashing hashes run at once (each takes opts.pw_mem bytes); more callers
// wait their turn.
//
// Thread safety: one struct auth is shared by all threads (its rate table and hashing gate
// are locked inside); every call takes the calling thread's own struct store (store.h: one
// handle per thread). The calls open their own transactions: call them with none open.
// Errors: FH_OK, FH_E_ARG (input outside the rules below; message says which),
// FH_E_AUTH (wrong password, unknown user, unknown/expired session or token), FH_E_RATE,
// FH_E_EXISTS (user name taken), FH_E_NOTFOUND (no such user, for the admin calls),
// FH_E_NOMEM, and the store's FH_E_DB / FH_E_BUSY.
#ifndef FH_AUTH_H
#define FH_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

#define AUTH_NAME_MAX 64            // user name bytes: [A-Za-z0-9._@-], first one alphanumeric
#define AUTH_PASSWORD_MIN 8         // password bytes (any bytes but NUL)
#define AUTH_PASSWORD_MAX 1024      // checked before hashing
#define AUTH_SID_LEN 64             // session id: hex digits
#define AUTH_TOKEN_LEN 67           // "fh_" + 64 hex digits
#define AUTH_SESSION_IDLE_S (30 * 86400)  // a session unused this long ends
#define AUTH_SESSION_MAX_S (90 * 86400)   // and every session ends this long after login
#define AUTH_TOUCH_S 60             // last_seen / last_used are written at most this often
#define AUTH_RATE_FREE 5            // failures before waiting
#define AUTH_RATE_BASE_S 30         // first wait, doubled per further failure
#define AUTH_RATE_MAX_S 900         // longest wait (15 min)
#define AUTH_RATE_FORGET_S 3600     // no failure for this long: the count starts again
#define AUTH_RATE_SLOTS 4096        // keys (names + addresses) remembered

struct auth;

struct auth_opts {
    // Argon2id cost of new hashes (crypto_pwhash_str's opslimit / memlimit). Defaults:
    // crypto_pwhash_OPSLIMIT_INTERACTIVE (2) and _MEMLIMIT_INTERACTIVE (64 MiB), ~0.3 s on one
    // core here. Tests may set AUTH_PW_OPS_MIN / AUTH_PW_MEM_MIN (1 pass, 8 KiB: ~1 ms); such
    // hashes verify fine with any options, since a hash string carries its own cost.
    unsigned long long pw_ops;
    size_t pw_mem;
    int max_hashing;                  // hashes at once (default 4); >= 1
    int64_t session_idle_s, session_max_s;   // defaults AUTH_SESSION_IDLE_S / _MAX_S
    // The clock, seconds since the epoch (default: time()). Tests pass their own.
    int64_t (*clock)(void *ctx);
    void *clock_ctx;
};
#define AUTH_PW_OPS_MIN 1ull
#define AUTH_PW_MEM_MIN 8192u
struct auth_opts auth_opts_default(void);

// Who a session or token belongs to.
struct auth_who {
    int64_t user_id;
    char name[AUTH_NAME_MAX + 1];
    int64_t token_id;                 // the API token used (0 for a session)
};

// ---- setup -----------------------------------------------------------------------------------
// Initialises libsodium once (thread-safe, idempotent). FH_E_UNSUPPORTED if it cannot.
int auth_init(void);
// opts NULL = auth_opts_default(). Calls auth_init. FH_E_ARG for opts out of range (costs
// below the minimums, times <= 0). The dummy hash (see Timing) is made at the first login that
// needs it; a server may call auth_login once at start (any name) to make it early.
int auth_new(const struct auth_opts *opts, struct auth **out);
void auth_free(struct auth *a);      // accepts NULL

// ---- rules ---------------------------------------------------------------------------------
// FH_OK or FH_E_ARG naming the problem (empty, too long, a character not allowed).
int auth_name_check(const char *name);
int auth_password_check(const char *password);

// ---- users (administration: the CLI) ---------------------------------------------------------
// Creates a user with a password. FH_E_EXISTS if the name is taken (also "local").
int auth_user_add(struct auth *a, struct store *s, const char *name, const char *password,
                  int64_t *id);
// Deletes a user and all their rows (store_user_delete); out (may be NULL) gets the counts.
// FH_E_NOTFOUND if absent; the built-in user 1 ("local") is refused with FH_E_ARG (the
// library's single-user mode stores its rows there).
int auth_user_del(struct auth *a, struct store *s, const char *name, struct store_user_counts *out);
// Sets a new password and ends all the user's sessions (*n_ended, may be NULL: how many).
// FH_E_NOTFOUND if absent.
int auth_user_passwd(struct auth *a, struct store *s, const char *name, const char *password,
                     int *n_ended);
// One user by id / by name (store_user_by_id / store_user_find: strings point into s, valid
// until the next call on s). FH_E_NOTFOUND if absent. The server reads accounts only
// through auth, never the store.
int auth_user_get(struct store *s, int64_t id, struct store_user *out);
int auth_user_find(struct store *s, const char *name, struct store_user *out);
// Every user ordered by id (store_users_each's rules).
int auth_users_each(struct store *s, int (*fn)(void *ctx, const struct store_user *u), void *ctx);
// *yes = 1 if at least one user has a password (then the server must require a login).
int auth_accounts_exist(struct store *s, int *yes);

// ---- sessions ----------------------------------------------------------------------------------
// Checks the password and on success writes a new session id (AUTH_SID_LEN hex digits + NUL)
// into sid. client: the peer address (or NULL: no per-address limit). On FH_E_RATE
// *retry_after_s (may be NULL) gets the seconds to wait (>= 1), else 0. Wrong password,
// unknown user and a user without password are all FH_E_AUTH (same message, same time).
// A name or password outside the length limits is FH_E_ARG (not counted as a failure).
// Also deletes expired sessions, and re-hashes a password stored at another cost.
int auth_login(struct auth *a, struct store *s, const char *user, const char *password,
               const char *client, char sid[AUTH_SID_LEN + 1], int64_t *retry_after_s);
// The user of a valid session (refreshing it at most once per AUTH_TOUCH_S). Malformed,
// unknown and expired ids are FH_E_AUTH.
int auth_session_check(struct auth *a, struct store *s, const char *sid, struct auth_who *who);
// Ends a session. FH_OK also when it was unknown or malformed (logout is idempotent).
int auth_logout(struct auth *a, struct store *s, const char *sid);

// ---- API tokens -------------------------------------------------------------------------------
// Creates a token for a user (label: 1..STORE_NAME_MAX bytes, e.g. "backup script"); writes
// it (AUTH_TOKEN_LEN chars + NUL) into token: shown once, never stored. *id may be NULL.
// FH_E_NOTFOUND if no such user.
int auth_token_create(struct auth *a, struct store *s, const char *user, const char *label,
                      char token[AUTH_TOKEN_LEN + 1], int64_t *id);
// The user of a token ("fh_..." as sent in "Authorization: Bearer"); FH_E_AUTH if
// malformed or unknown. Records the use at most once per AUTH_TOUCH_S.
int auth_token_check(struct auth *a, struct store *s, const char *token, struct auth_who *who);
// Revokes one token of a user: store_token_delete (FH_E_NOTFOUND if not theirs). The
// user's tokens are listed by store_tokens_each.
int auth_token_revoke(struct store *s, int64_t user_id, int64_t token_id);

#endif
