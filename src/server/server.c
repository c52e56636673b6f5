// SPDX-License-Identifier: MIT
// Server lifecycle: opens the library twice (the API's handle under one mutex, the
// indexer's own), prepares the upload folder "<db>.uploads/" (srv_uploads_start re-queues
// uploads that were stored but not indexed when the server last stopped), starts the accounts
// side (accounts.c: the mode, the auth state, the store pool), then starts the HTTP daemon.
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/base.h"
#include "library/library.h"
#include "server/server_int.h"

struct srv_config srv_config_default(void) {
    return (struct srv_config){.bind = "127.0.0.1", .port = SRV_DEFAULT_PORT,
                               .max_upload_bytes = (size_t)SRV_DEFAULT_MAX_UPLOAD_MB << 20,
                               .owner = LIB_OWNER_LOCAL};
}

static char *dup_str(const char *s) {
    char *p = fh_malloc(strlen(s) + 1);
    if (p) strcpy(p, s);
    return p;
}

// 1 for an IPv4 loopback address (127.0.0.0/8)
static int is_loopback(const char *bind) {
    struct in_addr a;
    return inet_pton(AF_INET, bind, &a) == 1 && (ntohl(a.s_addr) >> 24) == 127;
}

// a --host name: letters, digits, '-', '.', or a bracketed IPv6 literal; no port
static int host_name_ok(const char *h) {
    size_t n = strlen(h);
    if (!n || n > 253) return 0;
    if (h[0] == '[') return n > 2 && h[n - 1] == ']' && strspn(h + 1, "0123456789abcdefABCDEF:.") == n - 2;
    return strspn(h, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.") == n;
}

// srv_start without the indexer, the upload start-up and HTTP when test is set
static int open_srv(const struct srv_config *c, int test, struct srv **out) {
    *out = NULL;
    const char *bind = c->bind ? c->bind : "127.0.0.1";
    if (!is_loopback(bind) && !c->accounts_exist)
        return fh_fail(FH_E_ARG,
                       "serve: refusing to listen on %s: there are no accounts, so anyone who can reach "
                       "that address could read and change the whole library. Bind to 127.0.0.1 (the "
                       "default), or add an account first",
                       bind);
    if (c->n_hosts < 0 || c->n_hosts > SRV_MAX_HOSTS)
        return fh_fail(FH_E_ARG, "serve: at most %d --host names", SRV_MAX_HOSTS);
    for (int i = 0; i < c->n_hosts; i++)
        if (!c->hosts[i] || !host_name_ok(c->hosts[i]))
            return fh_fail(FH_E_ARG, "serve: --host %s: not a host name (letters, digits, '-', '.'; no port)",
                           c->hosts[i] ? c->hosts[i] : "(null)");
    if (!c->db || !*c->db || !c->models) return fh_fail(FH_E_ARG, "serve: a database and a models folder are required");
    if (c->port < 0 || c->port > 65535) return fh_fail(FH_E_ARG, "serve: port %d out of range", c->port);
    if (!c->max_upload_bytes) return fh_fail(FH_E_ARG, "serve: the upload limit must be positive");
    struct srv *S = fh_calloc(1, sizeof *S);
    if (!S) return fh_fail(FH_E_NOMEM, "out of memory");
    S->cfg = *c;
    if (!S->cfg.owner) S->cfg.owner = LIB_OWNER_LOCAL;
    S->loopback = is_loopback(bind);
    pthread_mutex_init(&S->mu, NULL);
    int rc = FH_OK;
    size_t up_n = strlen(c->uploads ? c->uploads : c->db) + 16;
    char *up = fh_malloc(up_n);
    S->db = dup_str(c->db), S->models = dup_str(c->models), S->bind = dup_str(bind);
    int hosts_ok = 1;
    for (int i = 0; i < c->n_hosts; i++) hosts_ok &= !!(S->cfg.hosts[i] = S->hosts[i] = dup_str(c->hosts[i]));
    if (!up || !S->db || !S->models || !S->bind || !hosts_ok) rc = fh_fail(FH_E_NOMEM, "out of memory");
    if (!rc && !c->uploads && store_is_url(c->db))
        rc = fh_fail(FH_E_ARG, "serve: a postgres:// database needs an upload folder (--uploads DIR)");
    if (!rc && up) {
        if (c->uploads) snprintf(up, up_n, "%s", c->uploads);
        else snprintf(up, up_n, "%s.uploads", c->db);
        if (mkdir(up, 0755) && errno != EEXIST) rc = fh_fail(FH_E_IO, "%s: %s", up, strerror(errno));
        else if (!(S->uploads = realpath(up, NULL))) rc = fh_fail(FH_E_IO, "%s: %s", up, strerror(errno));
    }
    fh_free(up);
    if (!rc) rc = lib_open_ex(S->db, S->models, c->embedder, 0, c->int8 ? FH_LOAD_INT8 : 0, &S->L);
    if (!rc) rc = lib_model_check(S->L); // never serve (index, search) a library of another model
    if (!rc) rc = srv_accounts_start(S);
    if (!rc && !test) rc = srv_indexer_start(S->db, S->models, c->embedder, c->int8, c->threads, c->enqueue, &S->ix);
    if (!rc && !test) rc = srv_uploads_start(S); // handlers_uploads.c: layout, re-queue, lib_on_forget
    if (!rc && !test) rc = srv_http_start(S);
    if (!rc && test) S->port = c->port;
    if (rc) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s", fh_errmsg());
        srv_stop(S);
        return fh_fail(rc, "%s", msg);
    }
    *out = S;
    return FH_OK;
}

int srv_start(const struct srv_config *c, struct srv **out) { return open_srv(c, 0, out); }

int srv_open_for_test(const struct srv_config *c, struct srv **out) { return open_srv(c, 1, out); }

int srv_port(const struct srv *S) { return S->port; }

void srv_stop(struct srv *S) {
    if (!S) return;
    srv_http_stop(S);          // no request runs after this
    srv_indexer_stop(S->ix);
    srv_accounts_stop(S);
    lib_close(S->L);
    pthread_mutex_destroy(&S->mu);
    free(S->uploads);          // from realpath (libc malloc)
    fh_free(S->db), fh_free(S->models), fh_free(S->bind);
    for (int i = 0; i < SRV_MAX_HOSTS; i++) fh_free(S->hosts[i]);
    fh_free(S);
}
