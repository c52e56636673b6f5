// SPDX-License-Identifier: MIT
// The HTTP adapter: the only file that sees libmicrohttpd. It runs the daemon (a pool of
// SRV_HTTP_THREADS epoll threads, each serving many connections; at most
// SRV_MAX_CONNECTIONS, SRV_MAX_CONNECTIONS_PER_IP from one address, idle ones closed after
// SRV_CONNECTION_TIMEOUT_S). Before any route sees a request it checks, at header time:
// the Host header (421 unless an allowed name: DNS rebinding), who is asking (a bearer token,
// else the fh_session cookie: accounts.c), the origin of every state-changing request (403
// unless Origin is ours or Sec-Fetch-Site is same-origin, or a validated bearer token: CSRF),
// a login in accounts mode (401), the Content-Type of JSON bodies (415 unless
// application/json: "simple" cross-origin forms), and the body size (413 from
// Content-Length). JSON bodies are accumulated in memory under a hard cap; multipart bodies
// (/api/upload, /api/search) are streamed through a spool (spool.c) to temporary files as
// they arrive, which are removed when the request ends unless a handler took them. It turns
// the request
// into a plain struct srv_req and sends the struct srv_resp that srv_handle fills.
// libmicrohttpd's two-phase callback (headers, then body pieces, then a last call) stays here.
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "base/base.h"
#include "server/server_int.h"

struct conn {
    struct srv_buf body;
    size_t cap;                // body limit for this route
    int too_big;
    int answered;              // a response was queued at header time
    struct srv_ident who;      // who is asking, the mode (check_request)
    char client[64];           // the peer's address
    struct srv_spool *sp;      // multipart routes: the body is streamed through it
    size_t received;           // body bytes so far
    struct srv_req rq;         // slow routes: the request a worker thread handles
    struct srv_resp rs;        // the response (slow routes: filled by the worker)
    int done;                  // slow routes: the worker finished (atomic)
    struct srv *S;
    struct MHD_Connection *c;
    int sp_rc;                 // the spool's first error (the rest of the body is drained)
    char sp_msg[300];
};

// ---- browser safety -----------------------------------------------------------------------------
static int is_local_name(const char *h, size_t n) {
    return (n == 9 && !strncasecmp(h, "localhost", 9)) || (n == 9 && !memcmp(h, "127.0.0.1", 9)) ||
           (n == 5 && !memcmp(h, "[::1]", 5));
}

// 1 if h[0..n) is an allowed host name: 2 for one of the loopback names, 1 for a --host name
static int allowed_name(const struct srv *S, const char *h, size_t n) {
    if (is_local_name(h, n)) return 2;
    for (int i = 0; i < S->cfg.n_hosts; i++)
        if (strlen(S->hosts[i]) == n && !strncasecmp(S->hosts[i], h, n)) return 1;
    return 0;
}

// Splits "name[:port]" ("[v6]:port" too). Returns the allowed_name() kind, 0 if not allowed
// or malformed; *port is -1 when absent.
static int authority(const struct srv *S, const char *a, size_t len, long *port) {
    const char *end = a + len, *colon;
    if (len && a[0] == '[') {
        const char *rb = memchr(a, ']', len);
        if (!rb) return 0;
        colon = rb + 1 < end ? rb + 1 : NULL;
        if (colon && *colon != ':') return 0;
    } else
        colon = memchr(a, ':', len);
    size_t nl = colon ? (size_t)(colon - a) : len;
    *port = -1;
    if (colon) {
        const char *p = colon + 1;
        if (p == end || end - p > 5) return 0;
        long v = 0;
        for (; p < end; p++) {
            if (*p < '0' || *p > '9') return 0;
            v = v * 10 + (*p - '0');
        }
        *port = v;
    }
    return nl ? allowed_name(S, a, nl) : 0;
}

// Host: an allowed name, with the bound port or none (a proxy may drop it)
static int host_ok(const struct srv *S, const char *host) {
    long port;
    return host && authority(S, host, strlen(host), &port) && (port < 0 || port == S->port);
}

// Origin: http://<loopback name>:<bound port> exactly, or http(s)://<--host name>[:port]
// (a TLS proxy in front may serve it on another port)
static int origin_ok(const struct srv *S, const char *o) {
    int tls = !strncmp(o, "https://", 8);
    if (!tls && strncmp(o, "http://", 7)) return 0; // also "null" (sandboxed, file://)
    const char *a = o + (tls ? 8 : 7);
    long port;
    int kind = authority(S, a, strlen(a), &port);
    if (kind == 2) return !tls && port == S->port;
    return kind == 1;
}

static int is_state_changing(const char *method) {
    return strcmp(method, "GET") && strcmp(method, "HEAD") && strcmp(method, "OPTIONS");
}

static int is_multipart_route(const char *url) { return !strcmp(url, "/api/upload") || !strcmp(url, "/api/search"); }

// the media type of a Content-Type value is `type` (case-insensitive; parameters allowed)
static int media_is(const char *ct, const char *type) {
    size_t n = strlen(type);
    return ct && !strncasecmp(ct, type, n) && (!ct[n] || ct[n] == ';' || ct[n] == ' ' || ct[n] == '\t');
}

// Routes that answer without credentials in accounts mode (docs/http-api.md "Modes").
static int open_route(const char *method, const char *url) {
    return (!strcmp(method, "POST") && !strcmp(url, "/api/login")) || (!strcmp(method, "GET") && !strcmp(url, "/api/me"));
}

// Who is asking: a bearer token (cfg.bearer_check) or else the fh_session cookie; only on
// /api/ paths (assets need nobody). Fills who->bearer, authed, owner, sid. Returns -1 when a
// credential could not be checked (database busy), else 0.
static int identify(struct srv *S, const struct srv_check *in, struct srv_ident *who) {
    who->bearer = who->authed = 0, who->sid[0] = 0;
    if (strncmp(in->path, "/api/", 5)) return 0;
    const char *auth = in->authorization;
    if (auth && !strncasecmp(auth, "Bearer ", 7) && S->cfg.bearer_check) {
        int64_t o = 0;
        int v = S->cfg.bearer_check(S->cfg.bearer_ctx, auth + 7, &o);
        if (v == 1 && o > 0) who->bearer = who->authed = 1, who->owner = o;
        return v < 0 ? -1 : 0; // a token that fails is not replaced by a cookie
    }
    const char *sid = in->cookie;
    int64_t o = 0;
    int v = sid && strlen(sid) < sizeof who->sid ? srv_session_owner(S, sid, &o) : 0;
    if (v == 1) {
        who->authed = 1, who->owner = o;
        snprintf(who->sid, sizeof who->sid, "%s", sid);
    }
    return v < 0 ? -1 : 0;
}

int srv_check_request(struct srv *S, const struct srv_check *in, struct srv_ident *who, char *msg, size_t n) {
    const char *host = in->host, *method = in->method, *url = in->path;
    memset(who, 0, sizeof *who);
    if (!host_ok(S, host)) {
        snprintf(msg, n, "Host '%.100s' is not served here (allowed: localhost, 127.0.0.1, [::1]%s, with port %d)",
                 host ? host : "", S->cfg.n_hosts ? " and the --host names" : "", S->port);
        return 421;
    }
    if (identify(S, in, who)) {
        snprintf(msg, n, "the session could not be checked now (database busy); try again shortly");
        return 503;
    }
    who->accounts = srv_accounts_mode(S);
    const char *origin = in->origin;
    who->https = origin && !strncmp(origin, "https://", 8);
    if (is_state_changing(method) && !who->bearer) {
        const char *site = in->sec_fetch_site;
        if (origin ? !origin_ok(S, origin) : !(site && !strcmp(site, "same-origin"))) {
            snprintf(msg, n, "%s from %s%.100s refused: state-changing requests must come from this server's own "
                             "pages (Origin http://localhost:%d or Sec-Fetch-Site: same-origin)",
                     method, origin ? "origin " : "", origin ? origin : "an unknown origin", S->port);
            return 403;
        }
    }
    if (who->accounts && !who->authed && !strncmp(url, "/api/", 5) && !open_route(method, url)) {
        snprintf(msg, n, "login required");
        return 401;
    }
    const char *ct = in->content_type;
    if (in->has_body && !is_multipart_route(url) && !strncmp(url, "/api/", 5) && !media_is(ct, "application/json")) {
        snprintf(msg, n, "a JSON body needs Content-Type: application/json (got '%.80s')", ct ? ct : "");
        return 415;
    }
    return 0;
}

// The request's headers as srv_check_request takes them.
static int check_request(struct srv *S, struct MHD_Connection *c, const char *url, const char *method,
                         struct srv_ident *who, char *msg, size_t n) {
    const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    const char *te = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING);
    struct srv_check in = {
        .method = method,
        .path = url,
        .host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST),
        .origin = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin"),
        .sec_fetch_site = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Sec-Fetch-Site"),
        .content_type = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE),
        .cookie = MHD_lookup_connection_value(c, MHD_COOKIE_KIND, SRV_COOKIE),
        .authorization = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION),
        .has_body = te || (cl && strtoull(cl, NULL, 10) > 0),
    };
    return srv_check_request(S, &in, who, msg, n);
}

// ---- bodies -------------------------------------------------------------------------------------------
static size_t body_cap(const struct srv *S, const char *url) {
    if (!strcmp(url, "/api/upload")) return S->cfg.max_upload_bytes * SRV_REQUEST_FILES_FACTOR;
    if (!strcmp(url, "/api/search")) return S->cfg.max_upload_bytes + 65536; // one image + form overhead
    return SRV_MAX_JSON_BYTES;
}

static void free_body(void *p) { fh_free(p); }

static enum MHD_Result send_resp(struct MHD_Connection *c, struct srv_resp *rs) {
    size_t n;
    char *data = srv_buf_take(&rs->body, &n);
    struct MHD_Response *r = data ? MHD_create_response_from_buffer_with_free_callback(n, data, free_body)
                                  : MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    if (!r) {
        fh_free(data);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, rs->content_type ? rs->content_type : "application/json");
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, rs->cache ? rs->cache : "no-store");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(r, "X-Frame-Options", "DENY");
    if (rs->content_type && !strncmp(rs->content_type, "text/html", 9))
        MHD_add_response_header(r, "Content-Security-Policy",
                                "default-src 'self'; img-src 'self' blob: data:; style-src 'self'; "
                                "script-src 'self'; connect-src 'self'; frame-ancestors 'none'");
    if (rs->status == 405) MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, POST");
    for (int i = 0; i < rs->n_headers; i++) MHD_add_response_header(r, rs->headers[i].name, rs->headers[i].value);
    enum MHD_Result ok = MHD_queue_response(c, (unsigned)rs->status, r);
    MHD_destroy_response(r);
    return ok;
}

void srv_resp_header(struct srv_resp *rs, const char *name, const char *fmt, ...) {
    if (rs->n_headers == SRV_RESP_HEADERS) {
        fh_log(FH_LOG_WARN, "http: header %s dropped: more than %d extra headers", name, SRV_RESP_HEADERS);
        return;
    }
    char *v = rs->headers[rs->n_headers].value;
    va_list ap;
    va_start(ap, fmt);
    int len = vsnprintf(v, SRV_HEADER_MAX, fmt, ap);
    va_end(ap);
    for (int i = 0; len >= 0 && len < SRV_HEADER_MAX && v[i]; i++)
        if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f) len = -1; // no header injection
    if (len < 0 || len >= SRV_HEADER_MAX) {
        fh_log(FH_LOG_WARN, "http: header %s dropped: too long or a control character", name);
        return;
    }
    rs->headers[rs->n_headers++].name = name;
}

static enum MHD_Result send_error(struct MHD_Connection *c, int status, const char *msg) {
    struct srv_resp rs;
    memset(&rs, 0, sizeof rs);
    srv_error(&rs, status, "%s", msg);
    enum MHD_Result ok = send_resp(c, &rs);
    srv_buf_free(&rs.body);
    return ok;
}

static enum MHD_Result collect_arg(void *cls, enum MHD_ValueKind kind, const char *key, const char *value) {
    struct srv_req *rq = cls;
    if (rq->n_args == SRV_ARGS_MAX) return MHD_NO;
    rq->arg_key[rq->n_args] = key, rq->arg_val[rq->n_args] = value ? value : "";
    rq->n_args++;
    return MHD_YES;
}

static void handle(struct srv *S, const struct srv_req *rq, struct srv_resp *rs) {
    memset(rs, 0, sizeof *rs);
    srv_handle(S, rq, rs);
    if (rs->body.oom) {
        srv_buf_free(&rs->body);
        srv_error(rs, 500, "out of memory");
    }
}

static enum MHD_Result send_done(struct MHD_Connection *c, struct conn *k) {
    enum MHD_Result ok = send_resp(c, &k->rs);
    srv_buf_free(&k->rs.body);
    return ok;
}

// ---- slow routes off the polling threads ---------------------------------------------------------
// Search and recluster take seconds. Their connection is suspended, a thread of its own runs
// the handler, then resumes the connection, and libmicrohttpd calls on_request again, which
// sends the response (k->done). At most SRV_SLOW_MAX run at once; more are answered 503 (they
// would only queue on the library mutex).
// Login and account deletion hash a password (Argon2id, ~0.3 s); turning recognition on
// analyses every photo of the user again: slow as well.
static int is_slow(const char *method, const char *url) {
    return !strcmp(method, "POST") && (!strcmp(url, "/api/search") || !strcmp(url, "/api/recluster") ||
                                       !strcmp(url, "/api/login") || !strcmp(url, "/api/account/delete") ||
                                       !strcmp(url, "/api/account/recognition"));
}

static void *slow_worker(void *arg) {
    struct conn *k = arg;
    struct srv *S = k->S;
    struct MHD_Connection *c = k->c;
    handle(S, &k->rq, &k->rs);
    __atomic_store_n(&k->done, 1, __ATOMIC_RELEASE);
    MHD_resume_connection(c); // k may be gone after this
    __atomic_sub_fetch(&S->slow, 1, __ATOMIC_SEQ_CST);
    return NULL;
}

static enum MHD_Result run_slow(struct srv *S, struct MHD_Connection *c, struct conn *k, const struct srv_req *rq) {
    if (__atomic_add_fetch(&S->slow, 1, __ATOMIC_SEQ_CST) > SRV_SLOW_MAX || __atomic_load_n(&S->stopping, __ATOMIC_SEQ_CST)) {
        __atomic_sub_fetch(&S->slow, 1, __ATOMIC_SEQ_CST);
        return send_error(c, 503, "busy: searches or reclusterings are running (at most 4 at once); try again shortly");
    }
    k->rq = *rq, k->S = S, k->c = c;
    pthread_attr_t at;
    pthread_t th;
    pthread_attr_init(&at);
    pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
    MHD_suspend_connection(c);
    int e = pthread_create(&th, &at, slow_worker, k);
    pthread_attr_destroy(&at);
    if (e) { // no thread: run it here after all
        MHD_resume_connection(c);
        __atomic_sub_fetch(&S->slow, 1, __ATOMIC_SEQ_CST);
        handle(S, &k->rq, &k->rs);
        return send_done(c, k);
    }
    return MHD_YES;
}

// the peer's address as text ("" if unknown)
static void peer(struct MHD_Connection *c, char *out, size_t n) {
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    out[0] = 0;
    if (!ci || !ci->client_addr) return;
    const struct sockaddr *sa = ci->client_addr;
    if (sa->sa_family == AF_INET) inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out, (socklen_t)n);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, out, (socklen_t)n);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_data_size,
                                  void **con_cls) {
    struct srv *S = cls;
    struct conn *k = *con_cls;
    if (!k) { // headers are in, no body yet
        if (!(k = fh_calloc(1, sizeof *k))) return MHD_NO;
        *con_cls = k;
        k->cap = body_cap(S, url);
        char msg[400];
        int st = check_request(S, c, url, method, &k->who, msg, sizeof msg);
        if (st) {
            k->answered = 1;
            return send_error(c, st, msg);
        }
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl && strtoull(cl, NULL, 10) > k->cap) {
            // refuse before reading the body; libmicrohttpd closes the connection after
            k->answered = 1;
            snprintf(msg, sizeof msg, "request body larger than %zu bytes", k->cap);
            return send_error(c, 413, msg);
        }
        if (is_multipart_route(url) && !strcmp(method, "POST")) { // streamed, never held whole
            const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
            int search = !strcmp(url, "/api/search");
            if (!(k->sp = fh_calloc(1, sizeof *k->sp))) return MHD_NO;
            if (srv_spool_init(k->sp, S->uploads, ct, S->cfg.max_upload_bytes,
                               search ? SRV_SEARCH_PARTS_MAX : SRV_MAX_FILES_PER_REQUEST, search)) {
                k->answered = 1;
                return send_error(c, 400, fh_errmsg());
            }
        }
        return MHD_YES;
    }
    if (__atomic_load_n(&k->done, __ATOMIC_ACQUIRE)) return send_done(c, k); // resumed after a slow route
    if (k->answered) {
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (*upload_data_size) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        k->received += n;
        if (!k->too_big && k->received > k->cap) { // a chunked body that grew too big
            k->too_big = 1;
            srv_buf_free(&k->body);
            if (k->sp) srv_spool_free(k->sp); // its temporary files go now
        }
        if (k->too_big || k->sp_rc) return MHD_YES; // drained
        if (k->sp) {
            if ((k->sp_rc = srv_spool_feed(k->sp, (const uint8_t *)upload_data, n))) {
                snprintf(k->sp_msg, sizeof k->sp_msg, "%s", fh_errmsg());
                srv_spool_free(k->sp);
            }
            return MHD_YES;
        }
        srv_buf_put(&k->body, upload_data, n);
        return k->body.oom ? MHD_NO : MHD_YES;
    }
    if (k->too_big) {
        char msg[128];
        snprintf(msg, sizeof msg, "request body larger than %zu bytes", k->cap);
        return send_error(c, 413, msg);
    }
    if (k->sp && !k->sp_rc && (k->sp_rc = srv_spool_finish(k->sp))) {
        snprintf(k->sp_msg, sizeof k->sp_msg, "%s", fh_errmsg());
        srv_spool_free(k->sp);
    }
    if (k->sp_rc)
        return send_error(c, k->sp_rc == FH_E_LIMIT ? 413 : k->sp_rc == FH_E_FORMAT ? 400 : 500, k->sp_msg);
    struct srv_req rq;
    memset(&rq, 0, sizeof rq);
    rq.method = method;
    rq.path = url;
    rq.content_type = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
    rq.body = (const uint8_t *)k->body.data;
    rq.body_len = k->body.len;
    if (k->sp) {
        rq.files = k->sp->files, rq.n_files = k->sp->n;
        if (k->sp->in_memory) rq.body = (const uint8_t *)k->sp->mem.data, rq.body_len = k->sp->mem.len;
    }
    rq.owner = k->who.authed ? k->who.owner : S->cfg.owner; // accounts mode: only open routes lack one
    rq.bearer = k->who.bearer;
    rq.authed = k->who.authed;
    rq.accounts = k->who.accounts;
    rq.sid = k->who.sid[0] ? k->who.sid : NULL;
    rq.https = k->who.https;
    peer(c, k->client, sizeof k->client);
    rq.client = k->client;
    MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, collect_arg, &rq);
    if (is_slow(method, url)) return run_slow(S, c, k, &rq);
    handle(S, &rq, &k->rs);
    return send_done(c, k);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe) {
    struct conn *k = *con_cls;
    if (!k) return;
    srv_buf_free(&k->body);
    srv_buf_free(&k->rs.body);
    if (k->sp) srv_spool_free(k->sp); // removes what the handler did not take (also: client gone)
    fh_free(k->sp);
    fh_free(k);
    *con_cls = NULL;
}

static void on_log(void *cls, const char *fmt, va_list ap) {
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && msg[n - 1] == '\n') msg[--n] = 0;
    fh_log(FH_LOG_WARN, "http: %s", msg);
}

int srv_http_start(struct srv *S) {
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)S->cfg.port);
    if (inet_pton(AF_INET, S->bind, &a.sin_addr) != 1)
        return fh_fail(FH_E_ARG, "--bind %s: not an IPv4 address", S->bind);
    // a pool of epoll threads, each serving many connections: idle sockets cost a file
    // descriptor, not a thread. Handlers run on these threads, except the slow ones (search,
    // recluster), which run on threads of their own while their connection is suspended.
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG, 0, NULL,
        NULL, on_request, S,
        MHD_OPTION_EXTERNAL_LOGGER, on_log, S, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&a,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)SRV_HTTP_THREADS, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)SRV_MAX_CONNECTIONS, MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)SRV_MAX_CONNECTIONS_PER_IP,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)SRV_CONNECTION_TIMEOUT_S, MHD_OPTION_NOTIFY_COMPLETED,
        on_completed, S, MHD_OPTION_END);
    if (!d) return fh_fail(FH_E_IO, "cannot listen on %s:%d (address in use or not available?)", S->bind, S->cfg.port);
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    S->port = info ? info->port : S->cfg.port;
    S->http = d;
    return FH_OK;
}

void srv_http_stop(struct srv *S) {
    // no connection may stay suspended when the daemon stops: let running slow routes finish
    __atomic_store_n(&S->stopping, 1, __ATOMIC_SEQ_CST);
    while (__atomic_load_n(&S->slow, __ATOMIC_SEQ_CST)) usleep(10000);
    if (S->http) MHD_stop_daemon(S->http);
    S->http = NULL;
}
