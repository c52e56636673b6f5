// SPDX-License-Identifier: MIT
// facehatch serve: the photo library over HTTP (web UI + JSON API, docs/http-api.md)
// until SIGINT or SIGTERM.
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "auth/auth.h"
#include "cli/cli.h"
#include "server/server.h"
#include "store/store.h"

static void log_stderr(int level, const char *msg) {
    static const char *const tag[] = {"error", "warn", "info", "debug"};
    char ts[32];
    time_t t = time(NULL);
    struct tm tm;
    strftime(ts, sizeof ts, "%H:%M:%S", localtime_r(&t, &tm));
    fprintf(stderr, "%s %s: %s\n", ts, level >= 0 && level <= 3 ? tag[level] : "log", msg);
}

// 1 if the library has accounts (a user with a password: srv_config.accounts_exist). A missing
// file has none, and is not created here (a refused start leaves nothing behind); a file that
// cannot be read is reported by srv_start when it opens it, and counts as none here.
static int accounts_exist(const char *db) {
    struct stat st;
    if (stat(db, &st)) return 0;
    struct store *s;
    int yes = 0;
    if (store_open(db, &s)) return 0;
    if (auth_accounts_exist(s, &yes)) yes = 0;
    store_close(s);
    return yes;
}

static int parse_num(const char *s, long lo, long hi, long *out) {
    char *e;
    errno = 0;
    long v = s ? strtol(s, &e, 10) : 0;
    if (!s || errno || e == s || *e || v < lo || v > hi) return -1;
    *out = v;
    return 0;
}

int cmd_serve(int argc, char **argv) {
    const char *usage = "serve --db LIB.db|postgres://URL [--bind 127.0.0.1] [--port 8080] [--host NAME]... [--models DIR]\n"
                        "       [--embedder FILE] [--precision fp32|int8] [--threads N] [--max-upload-mb 50] [--quiet]\n"
                        "       [--uploads DIR] [--enqueue-only (uploads are indexed by `facehatch worker` processes)]";
    struct srv_config c = srv_config_default();
    int quiet = 0, k = 0;
    // the server's own options first; the rest goes to the common parser
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        long v;
        if (!strcmp(a, "--bind")) {
            if (!val) goto bad;
            c.bind = val, i++;
        } else if (!strcmp(a, "--uploads")) {
            if (!val) goto bad;
            c.uploads = val, i++;
        } else if (!strcmp(a, "--host")) {
            if (!val) goto bad;
            if (c.n_hosts == SRV_MAX_HOSTS) {
                fprintf(stderr, "facehatch: at most %d --host names\n", SRV_MAX_HOSTS);
                return EXIT_USAGE;
            }
            c.hosts[c.n_hosts++] = val, i++;
        } else if (!strcmp(a, "--port")) {
            if (parse_num(val, 0, 65535, &v)) goto bad;
            c.port = (int)v, i++;
        } else if (!strcmp(a, "--max-upload-mb")) {
            if (parse_num(val, 1, 4096, &v)) goto bad;
            c.max_upload_bytes = (size_t)v << 20, i++;
        } else if (!strcmp(a, "--quiet")) {
            quiet = 1;
        } else {
            argv[k++] = argv[i];
        }
        continue;
    bad:
        fprintf(stderr, "facehatch: option '%s' needs a valid value\nusage: facehatch %s\n", a, usage);
        return EXIT_USAGE;
    }
    argc = k;
    struct cli_opts o;
    int rc = cli_parse(&argc, argv, &o, usage);
    if (rc) return rc;
    if (argc > 0) {
        fprintf(stderr, "facehatch: serve takes no positional arguments ('%s')\nusage: facehatch %s\n", argv[0], usage);
        return EXIT_USAGE;
    }
    if (!o.db) {
        fprintf(stderr, "facehatch: --db LIB.db is required\nusage: facehatch %s\n", usage);
        return EXIT_USAGE;
    }
    if ((rc = cli_models_need(&o))) return rc;
    c.db = o.db, c.models = o.models, c.embedder = o.embedder, c.int8 = o.int8, c.threads = o.threads;
    c.enqueue = o.enqueue_only;
    c.accounts_exist = accounts_exist(o.db);
    fh_log_set(log_stderr, quiet ? FH_LOG_WARN : FH_LOG_INFO);
    // block the stop signals before any thread starts, so only sigwait below sees them
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    struct srv *S;
    if (srv_start(&c, &S)) {
        fprintf(stderr, "facehatch: %s\n", fh_errmsg());
        return EXIT_FAIL;
    }
    char shown[512];
    store_redact_url(c.db, shown, sizeof shown);
    fprintf(stderr, "facehatch serve: %s on http://%s:%d/ (uploads up to %zu MB each%s; Ctrl-C stops)\n", shown, c.bind,
            srv_port(S), c.max_upload_bytes >> 20, c.enqueue ? ", indexed by workers" : "");
    int sig = 0;
    sigwait(&set, &sig);
    fprintf(stderr, "facehatch serve: %s, stopping\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
    srv_stop(S);
    return EXIT_OK;
}
