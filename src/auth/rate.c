// SPDX-License-Identifier: MIT
// auth: the in-memory login rate limiter (policy in auth.h). A fixed table of
// AUTH_RATE_SLOTS keys, scanned linearly under the state's mutex: logins are rare and each
// costs an Argon2id hash, so a 4096-slot scan is noise. Keys are a keyed BLAKE2b of the
// name or address (random key per process), so the table holds no user names.
#include <sodium.h>
#include <string.h>

#include "auth/auth_int.h"

static void key_of(struct auth *a, enum rate_kind k, const char *v, uint8_t key[16]) {
    crypto_generichash_state st;
    uint8_t kind[2] = {(uint8_t)k, ':'};
    crypto_generichash_init(&st, a->rate_key, sizeof a->rate_key, 16);
    crypto_generichash_update(&st, kind, sizeof kind);
    crypto_generichash_update(&st, (const uint8_t *)v, strlen(v));
    crypto_generichash_final(&st, key, 16);
    static const uint8_t zero[16];
    if (!memcmp(key, zero, 16)) key[0] = 1; // all zero marks a free slot
}

// The slot of key, or NULL. Called with a->mu held.
static struct rate_slot *find(struct auth *a, const uint8_t key[16]) {
    for (int i = 0; i < AUTH_RATE_SLOTS; i++)
        if (!memcmp(a->rate[i].key, key, 16)) return &a->rate[i];
    return NULL;
}

// A slot for a new key: a free one, else the one whose last failure is oldest.
static struct rate_slot *take(struct auth *a, const uint8_t key[16]) {
    static const uint8_t zero[16];
    struct rate_slot *old = &a->rate[0];
    for (int i = 0; i < AUTH_RATE_SLOTS; i++) {
        if (!memcmp(a->rate[i].key, zero, 16)) {
            old = &a->rate[i];
            break;
        }
        if (a->rate[i].last_fail < old->last_fail) old = &a->rate[i];
    }
    memset(old, 0, sizeof *old);
    memcpy(old->key, key, 16);
    return old;
}

static int forgotten(const struct rate_slot *r, int64_t now) {
    return now - r->last_fail >= AUTH_RATE_FORGET_S;
}

int64_t rate_wait(struct auth *a, enum rate_kind k, const char *v, int64_t now) {
    if (!v) return 0;
    uint8_t key[16];
    key_of(a, k, v, key);
    pthread_mutex_lock(&a->mu);
    struct rate_slot *r = find(a, key);
    int64_t w = r && !forgotten(r, now) && r->until > now ? r->until - now : 0;
    pthread_mutex_unlock(&a->mu);
    return w;
}

void rate_fail(struct auth *a, enum rate_kind k, const char *v, int64_t now) {
    if (!v) return;
    uint8_t key[16];
    key_of(a, k, v, key);
    pthread_mutex_lock(&a->mu);
    struct rate_slot *r = find(a, key);
    if (!r) r = take(a, key);
    if (forgotten(r, now)) r->fails = 0, r->until = 0;
    r->fails++;
    r->last_fail = now;
    if (r->fails >= AUTH_RATE_FREE) {
        int ex = r->fails - AUTH_RATE_FREE; // 0 for the AUTH_RATE_FREE-th failure
        int64_t w = AUTH_RATE_BASE_S;
        while (ex-- > 0 && w < AUTH_RATE_MAX_S) w *= 2;
        r->until = now + (w < AUTH_RATE_MAX_S ? w : AUTH_RATE_MAX_S);
    }
    pthread_mutex_unlock(&a->mu);
}

void rate_clear(struct auth *a, enum rate_kind k, const char *v) {
    if (!v) return;
    uint8_t key[16];
    key_of(a, k, v, key);
    pthread_mutex_lock(&a->mu);
    struct rate_slot *r = find(a, key);
    if (r) memset(r, 0, sizeof *r);
    pthread_mutex_unlock(&a->mu);
}
