// SPDX-License-Identifier: MIT
// auth-private: the shared state of struct auth (auth.c), the password hashing gate, and the
// rate limiter (rate.c), used by session.c. Not part of the public API.
#ifndef FH_AUTH_INT_H
#define FH_AUTH_INT_H

#include <pthread.h>

#include "auth/auth.h"

struct rate_slot {
    uint8_t key[16];       // keyed BLAKE2b of "u:" name or "a:" address; all zero = free
    int fails;
    int64_t last_fail;     // seconds
    int64_t until;         // attempts refused before this second
};

struct auth {
    struct auth_opts o;
    char dummy[128];       // crypto_pwhash_STRBYTES: a hash no password is known for,
    int dummy_ready;       // made on first need (under dummy_mu)
    pthread_mutex_t dummy_mu;
    pthread_mutex_t mu;    // guards rate[] and hashing
    pthread_cond_t cv;     // a hashing slot came free
    int hashing;           // hashes running now (<= o.max_hashing)
    uint8_t rate_key[32];  // random key of the rate table's hash
    struct rate_slot rate[AUTH_RATE_SLOTS];
};

int64_t auth_now(struct auth *a);
// Password hash / verify through the gate (at most o.max_hashing at once).
int auth_hash(struct auth *a, const char *password, char out[128]);
int auth_verify(struct auth *a, const char *hash, const char *password); // 1 match, 0 not
// The dummy hash (made on the first call, at the configured cost), or NULL on failure.
const char *auth_dummy(struct auth *a);

// ---- rate.c ----
enum rate_kind { RATE_NAME = 'u', RATE_ADDR = 'a' };
// Seconds the key must still wait at now (0: may try).
int64_t rate_wait(struct auth *a, enum rate_kind k, const char *v, int64_t now);
void rate_fail(struct auth *a, enum rate_kind k, const char *v, int64_t now);
void rate_clear(struct auth *a, enum rate_kind k, const char *v);

#endif
