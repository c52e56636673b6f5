// SPDX-License-Identifier: MIT
// server internals shared by server.c, http.c (the libmicrohttpd adapter), handlers*.c
// (routes; handlers_int.h), indexer.c (background indexing), multipart.c and json.c. No HTTP-library
// type appears here: http.c turns each request into a struct srv_req view and sends the
// struct srv_resp the handlers fill.
#ifndef FH_SERVER_INT_H
#define FH_SERVER_INT_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "base/base.h"
#include "server/server.h"

struct lib;
struct auth;
struct store;

// ---- growable byte buffer (json.c) ---------------------------------------------------------
// A failed allocation sets oom and drops further writes; the caller checks oom once at the end.
struct srv_buf {
    char *data;                // NUL-terminated when len > 0 (fh_malloc'd)
    size_t len, cap;
    int oom;
};
void srv_buf_put(struct srv_buf *b, const void *p, size_t n);
void srv_buf_puts(struct srv_buf *b, const char *s);
void srv_buf_printf(struct srv_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void srv_buf_free(struct srv_buf *b);
// Hands the bytes over (caller frees with fh_free) and empties b.
char *srv_buf_take(struct srv_buf *b, size_t *n);

// ---- JSON writer (json.c): commas are placed by the writer ----------------------------------
#define SRV_JSON_DEPTH 32
struct srv_json {
    struct srv_buf *b;
    int depth;
    unsigned char first[SRV_JSON_DEPTH]; // no member written yet at this depth
    int after_key;
};
void jw_init(struct srv_json *w, struct srv_buf *b);
void jw_obj(struct srv_json *w);       // {
void jw_obj_end(struct srv_json *w);   // }
void jw_arr(struct srv_json *w);       // [
void jw_arr_end(struct srv_json *w);   // ]
void jw_key(struct srv_json *w, const char *k);
void jw_str(struct srv_json *w, const char *s);   // NULL writes null; escapes, drops bad UTF-8
void jw_int(struct srv_json *w, int64_t v);
void jw_num(struct srv_json *w, double v);        // non-finite writes null
void jw_bool(struct srv_json *w, int v);
void jw_null(struct srv_json *w);
void jw_id(struct srv_json *w, int64_t id);       // 0 writes null (ids start at 1)

// ---- JSON reader (json.c): cJSON validates the whole document; top-level scalars kept ------
enum srv_jtype { SRV_J_NONE = 0, SRV_J_NULL, SRV_J_BOOL, SRV_J_NUM, SRV_J_STR, SRV_J_ARR, SRV_J_OTHER };
#define SRV_JSON_MEMBERS 16
struct srv_jmember {
    char key[64];              // truncated keys never match a real field
    enum srv_jtype type;
    double num;                // SRV_J_NUM, SRV_J_BOOL (0/1)
    char *str;                 // SRV_J_STR: unescaped UTF-8, fh_malloc'd
    double *arr;               // SRV_J_ARR (an array of numbers only; others are SRV_J_OTHER):
    int n_arr;                 // its n_arr numbers, fh_malloc'd (NULL when empty)
};
struct srv_jdoc {
    int n;
    struct srv_jmember m[SRV_JSON_MEMBERS];
};
// Parses text (n bytes, need not be NUL-terminated) that must be one JSON object.
// FH_OK, FH_E_FORMAT (syntax, or a \u0000 escape; fh_errmsg says at which byte),
// FH_E_LIMIT (over SRV_MAX_JSON_BYTES, nesting over SRV_JSON_DEPTH, over SRV_JSON_MEMBERS).
int srv_json_parse(const char *text, size_t n, struct srv_jdoc *d);
void srv_json_free(struct srv_jdoc *d);
const struct srv_jmember *srv_json_get(const struct srv_jdoc *d, const char *key);

// ---- multipart/form-data, streamed (multipart.c) ------------------------------------------
// Extracts the boundary from a Content-Type header value. FH_E_ARG if absent or bad
// (RFC 2046 characters only, at most SRV_MP_BOUNDARY_MAX).
#define SRV_MP_BOUNDARY_MAX 70
#define SRV_MP_HEADERS_MAX 8192        // bytes of one part's header block
int srv_multipart_boundary(const char *content_type, char *out, size_t n);
struct srv_mp_head {
    char name[64];             // form field name (truncated)
    char filename[256];        // as sent (raw, untrusted, truncated); "" if none
    int has_filename;
};
// The parser calls begin at each part's data, data with its bytes in pieces (any sizes),
// end after its last byte. A non-zero return (FH_E_*) stops the parser with that code.
struct srv_mp_sink {
    int (*begin)(void *ctx, const struct srv_mp_head *h);
    int (*data)(void *ctx, const uint8_t *p, size_t n);
    int (*end)(void *ctx);
    void *ctx;
};
struct srv_mp {                // a streaming parser; fixed size, no allocation
    char delim[SRV_MP_BOUNDARY_MAX + 5];
    size_t dl, match;          // delimiter length; bytes of it matched so far
    int state, parts, max_parts, rc;
    char hdr[SRV_MP_HEADERS_MAX];
    size_t hdr_len, line_start;
    struct srv_mp_sink sink;
};
// FH_E_ARG for a bad boundary.
int srv_mp_init(struct srv_mp *m, const char *boundary, int max_parts, const struct srv_mp_sink *sink);
// Feeds the next n bytes of the body. FH_OK, or (sticky: every later call returns it)
// FH_E_FORMAT for a malformed body, FH_E_LIMIT for more than max_parts parts or a part
// header block over SRV_MP_HEADERS_MAX, or the sink's error.
int srv_mp_feed(struct srv_mp *m, const uint8_t *p, size_t n);
// At the end of the body: FH_OK if the closing delimiter was seen, else FH_E_FORMAT.
int srv_mp_finish(struct srv_mp *m);

// ---- uploads spooled to disk while they arrive (spool.c) ----------------------------------
// The sink for /api/upload: each file part goes to a new temporary file in the uploads
// folder (".part-<random>", O_EXCL, 0600), hashed (sha256) while written; over max_file
// bytes it is dropped at once (status 413) and the rest of its bytes are only counted.
// For /api/search (in_memory): the first file part is kept in memory instead (at most
// max_file bytes), other parts are skipped. Plain form fields are ignored.
struct srv_upfile {
    char name[SRV_NAME_MAX + 1];  // the client's file name, sanitised (srv_sanitize_name)
    size_t bytes;
    int status;                // 0, or the error: 400 empty, 413 too large, 500 write failed
    char msg[300];
    char tmp[48];              // its temporary file in the uploads folder (".part-<32 hex>");
                               // "" when none (removed, or taken by a handler)
    char sha[65];              // sha256 of the content (status 0, after the part ended)
    uint8_t head[16];          // the first bytes (magic-byte sniffing)
    size_t head_n;
};
struct srv_spool {
    const char *dir;
    size_t max_file;
    int in_memory;
    struct srv_upfile *files;  // the file parts, in order
    int n, cap;
    int fd;                    // the open temporary file, -1 when none
    int cur;                   // the current part is files[cur]; -1 for a skipped part
    struct fh_sha256_ctx sha;
    struct srv_buf mem;        // in_memory: the image
    struct srv_mp mp;
};
// FH_E_ARG when content_type is not multipart/form-data with a good boundary.
int srv_spool_init(struct srv_spool *sp, const char *dir, const char *content_type, size_t max_file,
                   int max_parts, int in_memory);
// Errors as srv_mp_feed, and FH_E_NOMEM; FH_E_IO when a temporary file cannot be created.
int srv_spool_feed(struct srv_spool *sp, const uint8_t *p, size_t n);
int srv_spool_finish(struct srv_spool *sp);
// Closes and removes every temporary file still listed, frees; accepts a zeroed spool.
void srv_spool_free(struct srv_spool *sp);

// ---- uploads (handlers_uploads.c) -------------------------------------------------------------
// Stored per owner: <db>.uploads/<owner id>/<sha256>.<ext>; temporary files (.part-*) at the top.
// At start (after srv_indexer_start, before HTTP): removes temporary files a crash left, moves
// uploads of the old flat layout (<db>.uploads/<sha256>.<ext>, user 1's) into 1/ with their
// photo rows, queues stored uploads the library does not know, and sets lib_on_forget on S->L
// (deletes a stored upload no photo and no op needs any more; never another path).
int srv_uploads_start(struct srv *S);
// Deletes every stored upload of the owner and the owner's folder (account deletion).
int srv_uploads_remove_owner(struct srv *S, int64_t owner);
// Image kind from the first bytes: "jpg", "png", "heic", "webp", or NULL (not an image).
const char *srv_sniff_image(const uint8_t *p, size_t n);
// The display name of an uploaded file: basename only, no control characters, no '/',
// '\\' or "..", at most SRV_NAME_MAX bytes (whole UTF-8 sequences). Never a path.
void srv_sanitize_name(const char *raw, char *out, size_t n);

// ---- the indexer (indexer.c) ----------------------------------------------------------------
struct srv_indexer;
// enqueue: no indexing here; uploads become jobs (with their bytes) for `facehatch worker`
int srv_indexer_start(const char *db, const char *models, const char *embedder, int int8, int threads, int enqueue,
                      struct srv_indexer **out);
// Queues one stored upload of owner (absolute path; name: the file name it was uploaded with,
// kept as photos.orig_name and shown in the status). FH_E_NOMEM. The indexer indexes it for
// that owner (lib_index_upload: no faces when the owner's face recognition is off).
int srv_indexer_push(struct srv_indexer *x, int64_t owner, const char *path, const char *name);
// 1 if path is waiting in the queue or being indexed now.
int srv_indexer_pending(struct srv_indexer *x, const char *path);
// Writes the owner's "indexing" status object (a JSON value) with w: only that owner's
// queue, counts and recent results. x NULL (no indexer: srv_open_for_test) writes an idle one.
void srv_indexer_status(struct srv_indexer *x, int64_t owner, struct srv_json *w, int n_recent);
void srv_indexer_stop(struct srv_indexer *x);   // finishes the current photo; accepts NULL

// ---- the server state ---------------------------------------------------------------------
struct srv {
    struct srv_config cfg;
    char *db, *models, *bind;  // copies of the config strings
    char *hosts[SRV_MAX_HOSTS]; // copies of cfg.hosts (cfg.hosts points at them)
    char *uploads;             // absolute path of "<db>.uploads"
    struct lib *L;             // the API's handle, used under mu
    pthread_mutex_t mu;
    struct srv_indexer *ix;
    void *http;                // http.c's daemon state
    int port;
    int slow;                  // search/recluster running now (http.c; atomic; <= SRV_SLOW_MAX)
    int stopping;              // srv_http_stop began: no new slow route (atomic)
    // accounts (accounts.c)
    struct auth *auth;         // one for the server: rate table and hashing gate inside
    struct srv_stores *stores; // the pool of store handles for auth calls
    int loopback;              // bound to 127.0.0.0/8
    int accounts;              // cached mode: 1 "accounts", 0 "local" (atomic)
    int64_t accounts_at;       // when it was computed (seconds; 0: stale; atomic)
};

// TEST ONLY (tests/fuzz/fuzz_router.c): the server state as srv_start makes it (config
// checks, the upload folder, the library, the accounts side) but without the indexer
// (S->ix NULL: /api/status reports an idle indexer; /api/upload must not be called), without
// the upload start-up (srv_uploads_start) and without HTTP; S->port is cfg.port. Errors as
// srv_start. Close with srv_stop.
int srv_open_for_test(const struct srv_config *c, struct srv **out);

// ---- accounts: modes, sessions, the store pool (accounts.c) ----------------------------------
// The server is in "accounts" mode when a user has a password (auth_accounts_exist) or when
// it is bound outside loopback (then nobody is served without a login, even if every password
// went away while it ran); else "local": requests without credentials act for user 1. The mode
// is cached and computed again when SRV_MODE_REFRESH_S have passed, or at once after a login or
// an account deletion (srv_accounts_changed), so a user added with `facehatch user add` while
// the server runs turns login on within that time.
// Store handles: auth calls take the calling thread's own struct store, and the HTTP threads
// are libmicrohttpd's (plus one thread per slow route), so the server keeps a pool of at most
// SRV_STORE_POOL handles on the database, opened on first need; a caller takes one for the
// length of one call sequence and gives it back (waiting while all are out).
#define SRV_STORE_POOL 8
#define SRV_MODE_REFRESH_S 2
int srv_accounts_start(struct srv *S);   // auth_new, the pool, the first mode, the dummy hash
void srv_accounts_stop(struct srv *S);   // accepts a half-started S
struct store *srv_store_take(struct srv *S);   // NULL (fh_errmsg says why) when none opens
void srv_store_give(struct srv *S, struct store *s);
int srv_accounts_mode(struct srv *S);    // 1 accounts, 0 local
void srv_accounts_changed(struct srv *S);
// The owner of a session id (the fh_session cookie value): 1 and *owner when valid, 0 when
// not, -1 when the check could not be made (database busy or broken; logged).
int srv_session_owner(struct srv *S, const char *sid, int64_t *owner);
// srv_config.bearer_check when the caller sets none: auth_token_check (ctx is the srv);
// returns as srv_session_owner.
int srv_bearer_owner(void *ctx, const char *token, int64_t *owner);

// ---- requests and responses (handlers.c) ------------------------------------------------------
#define SRV_ARGS_MAX 16
struct srv_req {
    const char *method;        // "GET", "POST", ...
    const char *path;          // decoded path, no query string
    const char *content_type;  // may be NULL
    const uint8_t *body;       // JSON routes: the whole body; /api/search: the image (NULL if none)
    size_t body_len;
    struct srv_upfile *files;  // /api/upload, /api/search: the file parts received (spool.c);
    int n_files;               // a handler that keeps a temporary file sets its tmp to 
    int n_args;                // query-string arguments
    const char *arg_key[SRV_ARGS_MAX], *arg_val[SRV_ARGS_MAX];
    int64_t owner;             // the user the request acts for
    int bearer;                // 1: authenticated by a bearer token that cfg.bearer_check
                               // accepted (owner is the token's); 0 otherwise, also when an
                               // Authorization header was sent but not validated
    int authed;                // 1: owner comes from a valid session cookie or bearer token;
                               // 0: no credentials (local mode: owner is cfg.owner)
    int accounts;              // the server's mode for this request: 1 accounts, 0 local
    const char *sid;           // the fh_session cookie when it named a valid session, else NULL
    const char *client;        // the peer's address ("192.0.2.7"; "" if unknown)
    int https;                 // the request's Origin is https:// (a --host name behind TLS)
};
#define SRV_RESP_HEADERS 4
#define SRV_HEADER_MAX 256
struct srv_resp {
    int status;
    const char *content_type;  // static string
    const char *cache;         // Cache-Control value or NULL
    struct srv_buf body;
    int n_headers;             // extra headers (Set-Cookie, Retry-After), sent by http.c
    struct {
        const char *name;      // static string
        char value[SRV_HEADER_MAX];
    } headers[SRV_RESP_HEADERS];
};
// Adds a header to rs (http.c sends it with the response). A header over SRV_RESP_HEADERS, or
// a value over SRV_HEADER_MAX bytes or with a control character, is dropped (logged).
void srv_resp_header(struct srv_resp *rs, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
// Routes one request; always fills rs (errors as {"error":{"code","message"}}).
void srv_handle(struct srv *S, const struct srv_req *rq, struct srv_resp *rs);
// Fills rs with the JSON error body.
void srv_error(struct srv_resp *rs, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

// ---- account routes (handlers_auth.c; docs/http-api.md "Auth") --------------------------------
#define SRV_COOKIE "fh_session"
void srv_h_me(struct srv *S, const struct srv_req *rq, int64_t id, struct srv_resp *rs);
void srv_h_login(struct srv *S, const struct srv_req *rq, int64_t id, struct srv_resp *rs);
void srv_h_logout(struct srv *S, const struct srv_req *rq, int64_t id, struct srv_resp *rs);
void srv_h_recognition(struct srv *S, const struct srv_req *rq, int64_t id, struct srv_resp *rs);
void srv_h_account_delete(struct srv *S, const struct srv_req *rq, int64_t id, struct srv_resp *rs);

// ---- HTTP adapter (http.c) -------------------------------------------------------------------
int srv_http_start(struct srv *S);
void srv_http_stop(struct srv *S);

// The checks before routing (docs/http-api.md "Browser safety", "Modes"), on the request's
// header values as plain strings (NULL: the header is absent). http.c calls it at header
// time; tests/fuzz/fuzz_router.c calls it directly.
struct srv_check {
    const char *method, *path;         // required: the request line ("GET", "/api/persons")
    const char *host;                  // Host
    const char *origin;                // Origin
    const char *sec_fetch_site;        // Sec-Fetch-Site
    const char *content_type;          // Content-Type
    const char *cookie;                // the fh_session cookie's value (libmicrohttpd splits Cookie)
    const char *authorization;         // Authorization ("Bearer <token>")
    int has_body;                      // Content-Length > 0, or a Transfer-Encoding
};
struct srv_ident {                     // who is asking (only on /api/ paths)
    int bearer;                        // a bearer token that cfg.bearer_check accepted
    int authed;                        // a valid session cookie or bearer token
    int accounts;                      // the server's mode now (1 accounts)
    int https;                         // Origin is https://
    int64_t owner;                     // the owner of the session or token (authed)
    char sid[72];                      // the valid session id from the cookie ("" none)
};
// 0 when the request may be routed, else its status with msg: 421 (Host not allowed), 503
// (a credential could not be checked now), 403 (a state-changing request from another origin,
// without a valid bearer token), 401 (accounts mode, no valid credential, not an open route),
// 415 (a body on a JSON route without Content-Type application/json). Always fills *who.
int srv_check_request(struct srv *S, const struct srv_check *in, struct srv_ident *who, char *msg, size_t n);

// ---- embedded web assets (generated by tools/embed.c into build/gen/web_assets.c) -----------
struct srv_asset {
    const char *path;          // "/index.html", "/app.js", ...
    const char *mime;
    const unsigned char *data;
    size_t len;
};
extern const struct srv_asset srv_assets[];
extern const size_t srv_n_assets;

#endif
