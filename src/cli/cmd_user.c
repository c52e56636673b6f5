// SPDX-License-Identifier: MIT
// `facehatch user add|del|list|passwd|token|tokens|revoke|quota`: account administration on a library file
// (through auth/, which goes through store/). Passwords come from the terminal with echo
// off (asked twice), or with --password-stdin as one line from stdin (scripts).
// Output: one JSON object per line (list: a table, or a JSON array with --json).
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "auth/auth.h"
#include "cli/cli.h"
#include "store/store.h"

#define USER_USAGE                                                                          \
    "user add NAME [--password-stdin] --db LIB.db\n"                                        \
    "       facehatch user passwd NAME [--password-stdin] --db LIB.db\n"                    \
    "       facehatch user del NAME --db LIB.db\n"                                          \
    "       facehatch user list [--json] --db LIB.db\n"                                     \
    "       facehatch user token NAME [--name LABEL] --db LIB.db   (prints a new API token once)\n" \
    "       facehatch user tokens NAME --db LIB.db                 (lists the user's tokens)\n" \
    "       facehatch user revoke NAME TOKEN_ID --db LIB.db\n"                               \
    "       facehatch user quota NAME BYTES --db LIB.db            (upload quota: 500M, 2G, 0 = none)"

static int usage_error(const char *msg) {
    fprintf(stderr, "facehatch: %s\nusage: facehatch %s\n", msg, USER_USAGE);
    return EXIT_USAGE;
}

static int failure(void) {
    fprintf(stderr, "facehatch: %s\n", fh_errmsg());
    return EXIT_FAIL;
}

// ---- reading a password ----------------------------------------------------------------------
// One line from f into buf (n >= AUTH_PASSWORD_MAX + 3): 0 ok (newline removed), -1 nothing
// or too long.
static int read_line(FILE *f, char *buf, size_t n) {
    if (!fgets(buf, (int)n, f)) return -1;
    size_t len = strlen(buf);
    int had_nl = len && buf[len - 1] == '\n';
    if (!had_nl && !feof(f)) return -1; // longer than the buffer
    if (had_nl) buf[--len] = 0;
    if (len && buf[len - 1] == '\r') buf[--len] = 0;
    return 0;
}

// Prompts on stderr and reads stdin (a terminal) with echo off.
static int prompt(const char *what, char *buf, size_t n) {
    struct termios old, quiet;
    if (tcgetattr(0, &old) != 0) return -1;
    quiet = old;
    quiet.c_lflag &= ~(tcflag_t)ECHO;
    quiet.c_lflag |= ECHONL;
    fprintf(stderr, "%s: ", what);
    fflush(stderr);
    if (tcsetattr(0, TCSANOW, &quiet) != 0) return -1;
    int rc = read_line(stdin, buf, n);
    tcsetattr(0, TCSANOW, &old);
    return rc;
}

// The new password: from stdin (--password-stdin) or asked twice on the terminal. Returns
// EXIT_OK, EXIT_USAGE (no terminal and no --password-stdin) or EXIT_FAIL.
static int get_password(int from_stdin, char *buf, size_t n) {
    if (from_stdin) {
        if (read_line(stdin, buf, n) != 0) {
            fprintf(stderr, "facehatch: --password-stdin: no line, or longer than %d bytes\n",
                    AUTH_PASSWORD_MAX);
            return EXIT_FAIL;
        }
        return EXIT_OK;
    }
    if (!isatty(0)) return usage_error("stdin is not a terminal: pass --password-stdin");
    char again[AUTH_PASSWORD_MAX + 3];
    int rc = EXIT_OK;
    if (prompt("New password", buf, n) != 0 || prompt("Again", again, sizeof again) != 0) {
        fprintf(stderr, "facehatch: could not read the password from the terminal\n");
        rc = EXIT_FAIL;
    } else if (strcmp(buf, again) != 0) {
        fprintf(stderr, "facehatch: the passwords differ\n");
        rc = EXIT_FAIL;
    }
    memset(again, 0, sizeof again);
    return rc;
}

// ---- commands ------------------------------------------------------------------------------------
struct user_args {
    const char *sub, *name, *label;
    int password_stdin;
};

static int cmd_add_passwd(struct auth *a, struct store *s, const struct user_args *u, int add) {
    char pw[AUTH_PASSWORD_MAX + 3];
    int rc = add ? auth_name_check(u->name) : FH_OK;
    if (rc) return failure();
    // before asking for a password: the user must exist (passwd) or not (add)
    struct store_user su;
    rc = store_user_find(s, u->name, &su);
    if (add && rc == FH_OK) rc = fh_fail(FH_E_EXISTS, "user '%s' exists already", u->name);
    if (add && rc == FH_E_NOTFOUND) rc = FH_OK;
    if (rc) return failure();
    if ((rc = get_password(u->password_stdin, pw, sizeof pw))) return rc;
    int64_t id = 0;
    int n = 0;
    rc = add ? auth_user_add(a, s, u->name, pw, &id) : auth_user_passwd(a, s, u->name, pw, &n);
    memset(pw, 0, sizeof pw);
    if (rc) return failure();
    fputs(add ? "{\"added\":" : "{\"password_changed\":", stdout);
    json_str(stdout, u->name);
    if (add) printf(",\"id\":%lld}\n", (long long)id);
    else printf(",\"sessions_ended\":%d}\n", n);
    return EXIT_OK;
}

static int cmd_del(struct auth *a, struct store *s, const struct user_args *u) {
    struct store_user_counts c;
    if (auth_user_del(a, s, u->name, &c)) return failure();
    fputs("{\"deleted\":", stdout);
    json_str(stdout, u->name);
    printf(",\"photos\":%lld,\"faces\":%lld,\"persons\":%lld,\"rejects\":%lld,\"sessions\":%lld,"
           "\"tokens\":%lld}\n",
           (long long)c.photos, (long long)c.faces, (long long)c.persons, (long long)c.rejects,
           (long long)c.sessions, (long long)c.tokens);
    return EXIT_OK;
}

struct list_ctx {
    int json, n;
};

static int list_row(void *ctx, const struct store_user *u) {
    struct list_ctx *l = ctx;
    char when[32] = "-";
    if (u->created) {
        time_t t = (time_t)u->created;
        struct tm tm;
        if (gmtime_r(&t, &tm)) strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    }
    if (l->json) {
        printf("%s\n  {\"id\":%lld,\"name\":", l->n ? "," : "", (long long)u->id);
        json_str(stdout, u->name);
        printf(",\"login\":%s,\"created\":", u->has_password ? "true" : "false");
        if (u->created) json_str(stdout, when);
        else fputs("null", stdout);
        printf(",\"recognition\":%s,\"quota_bytes\":%lld,\"photos\":%d}",
               u->recognition ? "true" : "false", (long long)u->quota_bytes, u->n_photos);
    } else {
        if (!l->n) printf("%-6s %-24s %-5s %-7s %-11s %-12s %s\n", "ID", "NAME", "LOGIN", "PHOTOS",
                          "RECOGNITION", "QUOTA", "CREATED");
        char quota[24] = "unlimited";
        if (u->quota_bytes) snprintf(quota, sizeof quota, "%lld", (long long)u->quota_bytes);
        printf("%-6lld %-24s %-5s %-7d %-11s %-12s %s\n", (long long)u->id, u->name,
               u->has_password ? "yes" : "no", u->n_photos, u->recognition ? "on" : "off", quota,
               when);
    }
    l->n++;
    return 0;
}

static int cmd_list(struct store *s, int json) {
    struct list_ctx l = {json, 0};
    if (json) fputs("[", stdout);
    int rc = auth_users_each(s, list_row, &l);
    if (json) fputs(l.n ? "\n]\n" : "]\n", stdout);
    return rc ? failure() : EXIT_OK;
}

static int cmd_token(struct auth *a, struct store *s, const struct user_args *u) {
    char tok[AUTH_TOKEN_LEN + 1];
    int64_t id = 0;
    if (auth_token_create(a, s, u->name, u->label ? u->label : "cli", tok, &id)) return failure();
    fputs("{\"user\":", stdout);
    json_str(stdout, u->name);
    printf(",\"token_id\":%lld,\"token\":\"%s\"}\n", (long long)id, tok);
    memset(tok, 0, sizeof tok);
    if (isatty(1)) fprintf(stderr, "facehatch: the token is shown this once; keep it secret\n");
    return EXIT_OK;
}

// "500M", "2G", "1048576", "0": bytes (K, M, G, T are powers of 1024). -1 if malformed.
static int64_t parse_bytes(const char *v) {
    char *e;
    if (!v || *v < '0' || *v > '9') return -1;
    unsigned long long x = strtoull(v, &e, 10);
    int sh = 0;
    if (*e) {
        const char *u = strchr("KMGT", *e);
        if (!u || e[1]) return -1;
        sh = 10 * (int)(u - "KMGT" + 1);
    }
    if (x > (unsigned long long)(INT64_MAX >> sh)) return -1;
    return (int64_t)(x << sh);
}

static int cmd_quota(struct store *s, const struct user_args *u, const char *bytes) {
    int64_t b = parse_bytes(bytes);
    if (b < 0) return usage_error("quota: BYTES must be a number, optionally with K, M, G or T (0 = none)");
    struct store_user su;
    if (auth_user_find(s, u->name, &su) || store_user_set_quota(s, su.id, b)) return failure();
    fputs("{\"user\":", stdout);
    json_str(stdout, u->name);
    printf(",\"quota_bytes\":%lld}\n", (long long)b);
    return EXIT_OK;
}

static int token_row(void *ctx, const struct store_token *t) {
    (void)ctx;
    printf("{\"token_id\":%lld,\"name\":", (long long)t->id);
    json_str(stdout, t->name);
    printf(",\"created\":%lld,\"last_used\":%lld}\n", (long long)t->created, (long long)t->last_used);
    return 0;
}

static int cmd_tokens(struct store *s, const struct user_args *u) {
    struct store_user su;
    if (auth_user_find(s, u->name, &su) || store_tokens_each(s, su.id, token_row, NULL)) return failure();
    return EXIT_OK;
}

static int cmd_revoke(struct store *s, const struct user_args *u, const char *id_s) {
    char *e;
    long long id = strtoll(id_s, &e, 10);
    if (*e || id <= 0) return usage_error("revoke: TOKEN_ID must be a positive number (see user tokens)");
    struct store_user su;
    if (auth_user_find(s, u->name, &su) || auth_token_revoke(s, su.id, id)) return failure();
    printf("{\"revoked\":%lld}\n", id);
    return EXIT_OK;
}

// Removes --password-stdin and --name LABEL from argv (cli_parse knows neither).
static int take_own_options(int *argc, char **argv, struct user_args *u) {
    int k = 0;
    for (int i = 0; i < *argc; i++) {
        if (!strcmp(argv[i], "--password-stdin")) {
            u->password_stdin = 1;
        } else if (!strcmp(argv[i], "--name")) {
            if (i + 1 >= *argc) return usage_error("option '--name' needs a value");
            u->label = argv[++i];
        } else if (!strcmp(argv[i], "--")) {
            while (i < *argc) argv[k++] = argv[i++];
        } else {
            argv[k++] = argv[i];
        }
    }
    *argc = k;
    return EXIT_OK;
}

int cmd_user(int argc, char **argv) {
    struct user_args u = {0};
    struct cli_opts o;
    int rc = take_own_options(&argc, argv, &u);
    if (rc == EXIT_OK) rc = cli_parse(&argc, argv, &o, USER_USAGE);
    if (rc) return rc;
    if (argc < 1) return usage_error("user needs a subcommand");
    u.sub = argv[0];
    int list = !strcmp(u.sub, "list"), add = !strcmp(u.sub, "add"), passwd = !strcmp(u.sub, "passwd");
    int del = !strcmp(u.sub, "del"), token = !strcmp(u.sub, "token"), tokens = !strcmp(u.sub, "tokens");
    int revoke = !strcmp(u.sub, "revoke"), quota = !strcmp(u.sub, "quota");
    if (!(list || add || passwd || del || token || tokens || revoke || quota)) return usage_error("unknown user subcommand");
    int want = list ? 1 : revoke || quota ? 3 : 2;
    if (argc != want)
        return usage_error(list ? "user list takes no name" : want == 3 ? "user NAME and a value expected" : "one user NAME expected");
    if (u.password_stdin && !(add || passwd)) return usage_error("--password-stdin is for add and passwd");
    if (u.label && !token) return usage_error("--name is for user token");
    if (o.json && !list) return usage_error("--json is for user list");
    if (!o.db) return usage_error("--db LIB.db is required");
    u.name = list ? NULL : argv[1];

    struct store *s = NULL;
    struct auth *a = NULL;
    if (store_open(o.db, &s) || (!list && auth_new(NULL, &a))) {
        rc = failure();
    } else if (list) {
        rc = cmd_list(s, o.json);
    } else if (tokens) {
        rc = cmd_tokens(s, &u);
    } else if (revoke) {
        rc = cmd_revoke(s, &u, argv[2]);
    } else if (quota) {
        rc = cmd_quota(s, &u, argv[2]);
    } else if (add || passwd) {
        rc = cmd_add_passwd(a, s, &u, add);
    } else if (del) {
        rc = cmd_del(a, s, &u);
    } else {
        rc = cmd_token(a, s, &u);
    }
    auth_free(a);
    store_close(s);
    return rc;
}
