// SPDX-License-Identifier: MIT
// server: the photo library over HTTP (JSON API + the embedded web UI in web/). One
// library handle serves the API (serialised by one mutex); a second handle, owned by one
// background thread, indexes uploaded photos one at a time. Only http.c sees the HTTP
// library (libmicrohttpd); handlers are plain functions (request view) -> (status, body).
// Accounts (auth/): in "accounts" mode (a user has a password, or a non-loopback bind) every
// API call needs a session cookie (POST /api/login) or an API token; in "local" mode requests
// act for user 1. It refuses a non-loopback bind without accounts, and checks Host, Origin
// and Content-Type before routing (browser safety). It does not do TLS.
// Routes, shapes, errors and limits: docs/http-api.md.
//
//   struct srv_config c = srv_config_default();
//   c.db = "lib.db", c.models = "models";
//   struct srv *S;
//   if (srv_start(&c, &S)) { fprintf(stderr, "%s\n", fh_errmsg()); return 1; }
//   ... wait for SIGINT/SIGTERM ...
//   srv_stop(S);
//
// Errors: FH_OK or FH_E_* from opening the library (FH_E_DB, FH_E_IO, FH_E_INTEGRITY),
// FH_E_IO when the upload folder cannot be created or the address cannot be bound,
// FH_E_ARG for a bad config (incl. a non-loopback bind without accounts); fh_errmsg()
// says which.
// Thread safety: srv_start/srv_stop from one thread; the server runs its own threads.
#ifndef FH_SERVER_H
#define FH_SERVER_H

#include <stddef.h>
#include <stdint.h>

// Defaults and hard limits on outside input (see docs/http-api.md).
// TODO(base): move the limits to base/limits.h beside the other limits on outside input.
#define SRV_DEFAULT_PORT 8080
#define SRV_DEFAULT_MAX_UPLOAD_MB 50   // per uploaded file: a 50 MB JPEG is ~100 MP
#define SRV_REQUEST_FILES_FACTOR 4     // a request body may carry up to 4 max-size files
#define SRV_MAX_JSON_BYTES 65536       // JSON request bodies (a rename is ~50 bytes)
#define SRV_MAX_FILES_PER_REQUEST 256  // parts of one multipart upload
#define SRV_SEARCH_PARTS_MAX 8         // parts of one search request
#define SRV_MAX_CONNECTIONS 1024       // concurrent connections (all clients)
#define SRV_MAX_CONNECTIONS_PER_IP 100 // concurrent connections from one address
#define SRV_CONNECTION_TIMEOUT_S 30    // idle connection closed after this
#define SRV_HTTP_THREADS 16            // polling threads (epoll), each serving many connections
#define SRV_SLOW_MAX 4                 // search/recluster running at once; more: 503
#define SRV_MAX_HOSTS 16               // --host names
#define SRV_PHOTO_MAX_SIDE 1600        // GET /api/photos/{id}/image: longest side
#define SRV_NAME_MAX 100               // sanitised upload file name (bytes, for display)
#define SRV_RECENT_MAX 200             // recent indexing results kept for /api/status

struct srv_config {
    const char *db;            // library database (created if missing); required
    const char *models;        // models folder (fh_models_load); required
    const char *embedder;      // embedder file (.fhm/.tflite, lib_open_embedder); NULL: the pinned one
    int int8;                  // 1: the models run in int8 (FH_LOAD_INT8 to lib_open_ex)
    const char *bind;          // IPv4 address to listen on (default "127.0.0.1")
    int port;                  // TCP port (default 8080; 0 = any free port, see srv_port)
    size_t max_upload_bytes;   // per uploaded file (default 50 MB); a request body may hold
                               // SRV_REQUEST_FILES_FACTOR times this
    int threads;               // threads of the indexing engine (0 = all cores)
    int enqueue;               // uploads become jobs for `facehatch worker` processes (no
                               // engine here); /api/status reads the queue
    const char *uploads;       // upload folder; NULL: "<db>.uploads" (required for a URL db)
    int64_t owner;             // local mode: the user a request without credentials acts
                               // for (default 1, "local")
    // Browser safety (docs/http-api.md "Browser safety"): the Host header must name
    // localhost, 127.0.0.1, [::1] or one of hosts[] (with or without the bound port).
    const char *hosts[SRV_MAX_HOSTS];
    int n_hosts;
    // Set by the caller when the library has accounts (auth_accounts_exist). Binding to a
    // non-loopback address without accounts is refused (FH_E_ARG): anyone on the network could
    // read and change everything. (The running server reads the mode itself: see http-api.md.)
    int accounts_exist;
    // Bearer tokens: a request with `Authorization: Bearer T` acts for owner, and a
    // state-changing one is exempt from the Origin check, only when bearer_check(bearer_ctx,
    // T, &owner) returns 1 (0: not a valid token; -1: could not check now, answered 503).
    // NULL: srv_start sets the accounts' API-token check (auth_token_check).
    int (*bearer_check)(void *ctx, const char *token, int64_t *owner);
    void *bearer_ctx;
};
struct srv_config srv_config_default(void);

struct srv;
// Opens the library (and a second handle for the indexer), creates the upload folder
// "<db>.uploads/" next to the database, starts the indexing thread and the HTTP daemon.
// Returns immediately; *out is NULL on error. The config strings are copied.
int srv_start(const struct srv_config *c, struct srv **out);
// The port actually bound (useful with port 0).
int srv_port(const struct srv *S);
// Stops accepting connections, waits for running requests and for the photo being
// indexed (the rest of the queue stays on disk, not indexed), closes the library.
// Accepts NULL.
void srv_stop(struct srv *S);

#endif
