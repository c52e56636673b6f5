// SPDX-License-Identifier: MIT
// The server's side of accounts (server_int.h "accounts"): the mode (local / accounts), the
// pool of store handles the auth calls run on, session and token checks for http.c. The
// policy (hashing, expiry, rate limits) is auth/'s; the routes are handlers_auth.c.
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "auth/auth.h"
#include "base/base.h"
#include "server/server_int.h"
#include "store/store.h"

struct srv_stores {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct store *idle[SRV_STORE_POOL]; // handles not in use
    int n_idle, n_open;                 // idle ones; all opened so far (<= SRV_STORE_POOL)
};

// ---- the pool of store handles ------------------------------------------------------------------
struct store *srv_store_take(struct srv *S) {
    struct srv_stores *p = S->stores;
    pthread_mutex_lock(&p->mu);
    while (!p->n_idle && p->n_open == SRV_STORE_POOL) pthread_cond_wait(&p->cv, &p->mu);
    if (p->n_idle) {
        struct store *s = p->idle[--p->n_idle];
        pthread_mutex_unlock(&p->mu);
        return s;
    }
    p->n_open++; // reserve a slot, open outside the lock
    pthread_mutex_unlock(&p->mu);
    struct store *s = NULL;
    if (store_open(S->db, &s)) {
        pthread_mutex_lock(&p->mu);
        p->n_open--;
        pthread_cond_signal(&p->cv);
        pthread_mutex_unlock(&p->mu);
        return NULL;
    }
    return s;
}

void srv_store_give(struct srv *S, struct store *s) {
    if (!s) return;
    struct srv_stores *p = S->stores;
    pthread_mutex_lock(&p->mu);
    p->idle[p->n_idle++] = s;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

// ---- the mode -------------------------------------------------------------------------------------
static int64_t now_s(void) { return (int64_t)time(NULL); }

// Computes the mode now; -1 when the database cannot tell (busy, broken).
static int mode_compute(struct srv *S) {
    int yes = 0;
    struct store *s = srv_store_take(S);
    int rc = s ? auth_accounts_exist(s, &yes) : FH_E_DB;
    srv_store_give(S, s);
    if (rc) {
        fh_log(FH_LOG_WARN, "serve: cannot tell whether accounts exist (%s): mode unchanged", fh_errmsg());
        return -1;
    }
    return yes || !S->loopback;
}

int srv_accounts_mode(struct srv *S) {
    int64_t t = now_s(), at = __atomic_load_n(&S->accounts_at, __ATOMIC_ACQUIRE);
    if (at && t - at < SRV_MODE_REFRESH_S && t >= at) return __atomic_load_n(&S->accounts, __ATOMIC_ACQUIRE);
    int m = mode_compute(S); // two threads may both compute: same answer, no harm
    if (m < 0) m = __atomic_load_n(&S->accounts, __ATOMIC_ACQUIRE); // starts at 1: closed
    int old = __atomic_exchange_n(&S->accounts, m, __ATOMIC_ACQ_REL);
    __atomic_store_n(&S->accounts_at, t, __ATOMIC_RELEASE);
    if (old != m && S->http) fh_log(FH_LOG_INFO, "serve: now in %s mode", m ? "accounts (login required)" : "local");
    return m;
}

void srv_accounts_changed(struct srv *S) { __atomic_store_n(&S->accounts_at, 0, __ATOMIC_RELEASE); }

// ---- credentials ------------------------------------------------------------------------------------
// fn: auth_session_check or auth_token_check. 1 valid, 0 not, -1 the check itself failed
// (database busy or broken: not the client's fault, so not a 401)
static int who_owner(struct srv *S, const char *secret, int64_t *owner,
                     int (*fn)(struct auth *, struct store *, const char *, struct auth_who *)) {
    struct store *s = srv_store_take(S);
    if (!s) return -1;
    struct auth_who who;
    int rc = fn(S->auth, s, secret, &who);
    srv_store_give(S, s);
    if (rc && rc != FH_E_AUTH) {
        fh_log(FH_LOG_WARN, "serve: credential check failed: %s", fh_errmsg());
        return -1;
    }
    if (rc || who.user_id <= 0) return 0;
    *owner = who.user_id;
    return 1;
}

int srv_session_owner(struct srv *S, const char *sid, int64_t *owner) {
    return who_owner(S, sid, owner, auth_session_check);
}

int srv_bearer_owner(void *ctx, const char *token, int64_t *owner) {
    return who_owner(ctx, token, owner, auth_token_check);
}

// ---- lifecycle ---------------------------------------------------------------------------------------
int srv_accounts_start(struct srv *S) {
    if (!(S->stores = fh_calloc(1, sizeof *S->stores))) return fh_fail(FH_E_NOMEM, "out of memory");
    pthread_mutex_init(&S->stores->mu, NULL);
    pthread_cond_init(&S->stores->cv, NULL);
    int rc = auth_new(NULL, &S->auth);
    if (rc) return rc;
    if (!S->cfg.bearer_check) S->cfg.bearer_check = srv_bearer_owner, S->cfg.bearer_ctx = S;
    S->accounts = 1; // until the database says otherwise: a failure keeps the server closed
    srv_accounts_mode(S);
    // one login nobody can pass (the name is longer than any account's), so the dummy hash that
    // unknown names are checked against exists before the first real login: no timing tell
    struct store *s = srv_store_take(S);
    if (!s) return FH_E_DB;
    char name[AUTH_NAME_MAX + 8], sid[AUTH_SID_LEN + 1];
    memset(name, 'x', sizeof name - 1);
    name[sizeof name - 1] = 0;
    auth_login(S->auth, s, name, "-", NULL, sid, NULL);
    srv_store_give(S, s);
    fh_log(FH_LOG_INFO, "serve: %s mode", S->accounts ? "accounts (login required)" : "local (no accounts)");
    return FH_OK;
}

void srv_accounts_stop(struct srv *S) {
    struct srv_stores *p = S->stores;
    if (p) {
        for (int i = 0; i < p->n_idle; i++) store_close(p->idle[i]); // all are back: no request runs
        pthread_mutex_destroy(&p->mu);
        pthread_cond_destroy(&p->cv);
        fh_free(p);
    }
    auth_free(S->auth);
    S->stores = NULL, S->auth = NULL;
}
