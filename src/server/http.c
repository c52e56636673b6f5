// SPDX-License-Identifier: MIT
// The HTTP adapter: the only file that sees libmicrohttpd. It runs the daemon (one thread
// per connection, at most SRV_MAX_CONNECTIONS), accumulates each request body in memory
// under a hard cap (413 before reading a body whose Content-Length is over it; a chunked
// body that grows over it is drained and answered 413), turns the request into a plain
// struct srv_req and sends the struct srv_resp that srv_handle fills. libmicrohttpd's
// two-phase callback (headers, then body pieces, then a last call) stays in here.
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/base.h"
#include "server/server_int.h"

struct conn {
    struct srv_buf body;
    size_t cap;                // body limit for this route
    int too_big;
    int answered;              // a response was queued at header time
};

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
    enum MHD_Result ok = MHD_queue_response(c, (unsigned)rs->status, r);
    MHD_destroy_response(r);
    return ok;
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

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_data_size,
                                  void **con_cls) {
    struct srv *S = cls;
    struct conn *k = *con_cls;
    if (!k) { // headers are in, no body yet
        if (!(k = fh_calloc(1, sizeof *k))) return MHD_NO;
        *con_cls = k;
        k->cap = body_cap(S, url);
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl && strtoull(cl, NULL, 10) > k->cap) {
            // refuse before reading the body; libmicrohttpd closes the connection after
            k->answered = 1;
            char msg[128];
            snprintf(msg, sizeof msg, "request body larger than %zu bytes", k->cap);
            return send_error(c, 413, msg);
        }
        return MHD_YES;
    }
    if (k->answered) {
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (*upload_data_size) {
        if (!k->too_big && k->body.len + *upload_data_size > k->cap) {
            k->too_big = 1;
            srv_buf_free(&k->body);
        }
        if (!k->too_big) {
            srv_buf_put(&k->body, upload_data, *upload_data_size);
            if (k->body.oom) return MHD_NO;
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (k->too_big) {
        char msg[128];
        snprintf(msg, sizeof msg, "request body larger than %zu bytes", k->cap);
        return send_error(c, 413, msg);
    }
    struct srv_req rq;
    memset(&rq, 0, sizeof rq);
    rq.method = method;
    rq.path = url;
    rq.content_type = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
    rq.body = (const uint8_t *)k->body.data;
    rq.body_len = k->body.len;
    rq.owner = S->cfg.owner;
    MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, collect_arg, &rq);
    struct srv_resp rs;
    memset(&rs, 0, sizeof rs);
    srv_handle(S, &rq, &rs);
    if (rs.body.oom) {
        srv_buf_free(&rs.body);
        srv_error(&rs, 500, "out of memory");
    }
    enum MHD_Result ok = send_resp(c, &rs);
    srv_buf_free(&rs.body);
    return ok;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe) {
    struct conn *k = *con_cls;
    if (!k) return;
    srv_buf_free(&k->body);
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
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL,
        on_request, S, MHD_OPTION_EXTERNAL_LOGGER, on_log, S, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&a, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)SRV_MAX_CONNECTIONS, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)SRV_CONNECTION_TIMEOUT_S,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, S, MHD_OPTION_END);
    if (!d) return fh_fail(FH_E_IO, "cannot listen on %s:%d (address in use or not available?)", S->bind, S->cfg.port);
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    S->port = info ? info->port : S->cfg.port;
    S->http = d;
    return FH_OK;
}

void srv_http_stop(struct srv *S) {
    if (S->http) MHD_stop_daemon(S->http);
    S->http = NULL;
}
