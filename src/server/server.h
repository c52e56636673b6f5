// SPDX-License-Identifier: MIT
// server: the photo library over HTTP (JSON API + the embedded web UI in web/). One
// library handle serves the API (serialised by one mutex); a second handle, owned by one
// background thread, indexes uploaded photos one at a time. Only http.c sees the HTTP
// library (libmicrohttpd); handlers are plain functions (request view) -> (status, body).
// It does not do TLS, accounts or sessions: bind it to loopback or put it behind a proxy.
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
// FH_E_ARG for a bad config; fh_errmsg() says which.
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
#define SRV_MAX_CONNECTIONS 64         // concurrent connections (one thread each)
#define SRV_CONNECTION_TIMEOUT_S 120   // idle connection closed after this
#define SRV_PHOTO_MAX_SIDE 1600        // GET /api/photos/{id}/image: longest side
#define SRV_NAME_MAX 100               // sanitised upload file name (bytes, for display)
#define SRV_RECENT_MAX 200             // recent indexing results kept for /api/status

struct srv_config {
    const char *db;            // library database (created if missing); required
    const char *models;        // models folder (fh_models_load); required
    const char *bind;          // IPv4 address to listen on (default "127.0.0.1")
    int port;                  // TCP port (default 8080; 0 = any free port, see srv_port)
    size_t max_upload_bytes;   // per uploaded file (default 50 MB); a request body may hold
                               // SRV_REQUEST_FILES_FACTOR times this
    int threads;               // threads of the indexing engine (0 = all cores)
    int64_t owner;             // the user every request acts for (default 1, "local";
                               // accounts later, ROADMAP)
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
