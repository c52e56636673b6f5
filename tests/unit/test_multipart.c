// SPDX-License-Identifier: MIT
// The streaming multipart/form-data parser: for several bodies (near-miss delimiters in
// the data, CR at a part's end, preamble/epilogue, transport padding, a part without
// headers, an empty part), every way of cutting the body into two and into three pieces,
// and one byte at a time, gives exactly the parts of the one-piece parse and the expected
// ones. Bad bodies and the limits (part count, header block size) are refused with the
// right code; a sink error stops the parse. Then the upload spool: files written to
// temporary files (0600) with the right sha256, an over-limit file dropped at once, and
// everything removed by srv_spool_free.
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/base.h"
#include "harness.h"
#include "server/server_int.h"

#define MAXP 8
struct got {
    int n, ended, sink_fail_at;
    struct {
        char name[64], filename[256];
        int has_filename;
        char data[512];
        size_t len;
    } p[MAXP];
};

static int on_begin(void *ctx, const struct srv_mp_head *h) {
    struct got *g = ctx;
    if (g->n == MAXP) return FH_E_LIMIT;
    if (g->n + 1 == g->sink_fail_at) return fh_fail(FH_E_IO, "sink refuses");
    strcpy(g->p[g->n].name, h->name), strcpy(g->p[g->n].filename, h->filename);
    g->p[g->n].has_filename = h->has_filename, g->p[g->n].len = 0;
    g->n++;
    return FH_OK;
}
static int on_data(void *ctx, const uint8_t *p, size_t n) {
    struct got *g = ctx;
    if (!g->n || g->p[g->n - 1].len + n > sizeof g->p[0].data) return FH_E_LIMIT;
    memcpy(g->p[g->n - 1].data + g->p[g->n - 1].len, p, n);
    g->p[g->n - 1].len += n;
    return FH_OK;
}
static int on_end(void *ctx) {
    ((struct got *)ctx)->ended++;
    return FH_OK;
}

// parses body cut at the given points (sorted, 0..n); returns the code, parts in g
static int run(const char *body, size_t n, const size_t *cuts, int ncuts, int max_parts, struct got *g) {
    memset(g, 0, sizeof *g);
    struct srv_mp m;
    struct srv_mp_sink sink = {on_begin, on_data, on_end, g};
    int rc = srv_mp_init(&m, "XyZ-b0und'ary", max_parts, &sink);
    size_t at = 0;
    for (int i = 0; i <= ncuts && !rc; i++) {
        size_t to = i < ncuts ? cuts[i] : n;
        rc = srv_mp_feed(&m, (const uint8_t *)body + at, to - at);
        at = to;
    }
    return rc ? rc : srv_mp_finish(&m);
}

static int same(const struct got *a, const struct got *b) {
    if (a->n != b->n || a->ended != b->ended) return 0;
    for (int i = 0; i < a->n; i++)
        if (strcmp(a->p[i].name, b->p[i].name) || strcmp(a->p[i].filename, b->p[i].filename) ||
            a->p[i].has_filename != b->p[i].has_filename || a->p[i].len != b->p[i].len ||
            memcmp(a->p[i].data, b->p[i].data, a->p[i].len))
            return 0;
    return 1;
}

#define B "XyZ-b0und'ary"
#define BIN_BODY "--" B "\r\ncontent-disposition: form-data; name=\"bin\"\r\n\r\n\0\0\r\0\n\0--\r\n--" B "--"
struct want {
    const char *name, *filename;
    int has_filename;
    const char *data;
    size_t len;
};
static const struct {
    const char *what, *body;
    size_t len; // 0: strlen
    int n;
    struct want w[3];
} BODIES[] = {
    {"field and file with near-miss delimiters in the data",
     "--" B "\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nhello\r\n--" B "\r\n"
     "Content-Disposition: form-data; name=\"files\"; filename=\"a \\\"b\\\".jpg\"\r\nContent-Type: image/jpeg\r\n\r\n"
     "\xff\xd8\r\n--XyZ\r\n-\r\r\n--" "XyZ-b0und'ar\r\n\r\r--\r\n" "\r\n--" B "--\r\n",
     0, 2, {{"title", "", 0, "hello", 5}, {"files", "a \"b\".jpg", 1, "\xff\xd8\r\n--XyZ\r\n-\r\r\n--XyZ-b0und'ar\r\n\r\r--\r\n", 37}}},
    {"preamble, transport padding, epilogue, a CR ending the data",
     "preamble text\r\n--" B "  \t\r\nContent-Disposition: form-data; name=f; filename=x.png\r\n\r\nabc\r\r\n--" B "--epilogue\r\n--" B "\r\n",
     0, 1, {{"f", "x.png", 1, "abc\r", 4}}},
    {"a part without headers and an empty part",
     "--" B "\r\n\r\nno headers\r\n--" B "\r\nContent-Disposition: form-data; name=\"e\"; filename=\"\"\r\n\r\n\r\n--" B "--",
     0, 2, {{"", "", 0, "no headers", 10}, {"e", "", 1, "", 0}}},
    {"binary data with NUL bytes", BIN_BODY, sizeof BIN_BODY - 1, 1, {{"bin", "", 0, "\0\0\r\0\n\0--", 8}}},
};

int main(void) {
    char ok_msg[160];
    for (size_t b = 0; b < sizeof BODIES / sizeof *BODIES; b++) {
        const char *body = BODIES[b].body;
        size_t n = BODIES[b].len ? BODIES[b].len : strlen(body);
        struct got one, g;
        int rc = run(body, n, NULL, 0, 16, &one);
        int want_ok = rc == FH_OK && one.n == BODIES[b].n && one.ended == BODIES[b].n;
        for (int i = 0; want_ok && i < one.n; i++) {
            const struct want *w = &BODIES[b].w[i];
            want_ok = !strcmp(one.p[i].name, w->name) && !strcmp(one.p[i].filename, w->filename) &&
                      one.p[i].has_filename == w->has_filename && one.p[i].len == w->len &&
                      !memcmp(one.p[i].data, w->data, w->len);
            if (!want_ok) printf("  part %d: '%s' '%s' %zu bytes\n", i, one.p[i].name, one.p[i].filename, one.p[i].len);
        }
        snprintf(ok_msg, sizeof ok_msg, "%s: one piece gives the expected parts", BODIES[b].what);
        TEST_COND(ok_msg, want_ok);
        int all = 1;
        for (size_t i = 0; i <= n && all; i++) { // two pieces
            size_t c[1] = {i};
            all = run(body, n, c, 1, 16, &g) == FH_OK && same(&one, &g);
            if (!all) printf("  differs when cut at %zu\n", i);
        }
        for (size_t i = 0; i <= n && all; i++) // three pieces
            for (size_t j = i; j <= n && all; j++) {
                size_t c[2] = {i, j};
                all = run(body, n, c, 2, 16, &g) == FH_OK && same(&one, &g);
                if (!all) printf("  differs when cut at %zu, %zu\n", i, j);
            }
        size_t *bytes = malloc(n * sizeof *bytes);
        for (size_t i = 0; i < n; i++) bytes[i] = i + 1;
        all = all && run(body, n, bytes, (int)n - 1, 16, &g) == FH_OK && same(&one, &g);
        free(bytes);
        snprintf(ok_msg, sizeof ok_msg, "%s: every 2- and 3-piece split and 1-byte pieces agree", BODIES[b].what);
        TEST_COND(ok_msg, all);
    }

    struct got g;
    const char *fmt_bad[] = {
        "",                                                         // empty
        "no boundary here at all",                                  // none
        "--" B "\r\nContent-Disposition: form-data; name=a\r\n\r\ndata",  // no closing
        "--" B "\r\nContent-Disposition: form-data; name=a\r\n",    // headers cut
        "--" B "x\r\n\r\ndata\r\n--" B "--",                        // bad delimiter line
        "--" B "\r\n\r\ndata\r\n--" B "-x",                         // bad close
        "--" B " x\r\n\r\n\r\n--" B "--",                           // bad padding
        "--" B "\r\n\r\ndata\r\n--" B "\rX",                        // CR without LF
    };
    int all = 1;
    for (size_t i = 0; i < sizeof fmt_bad / sizeof *fmt_bad; i++) {
        size_t n = strlen(fmt_bad[i]);
        int rc1 = run(fmt_bad[i], n, NULL, 0, 16, &g);
        size_t c[1] = {n / 2};
        int rc2 = run(fmt_bad[i], n, c, 1, 16, &g);
        if (rc1 != FH_E_FORMAT || rc2 != FH_E_FORMAT) all = 0, printf("  bad body %zu: %d %d\n", i, rc1, rc2);
    }
    TEST_COND("bad bodies: FH_E_FORMAT, whole or cut", all);

    const char *three = "--" B "\r\n\r\na\r\n--" B "\r\n\r\nb\r\n--" B "\r\n\r\nc\r\n--" B "--";
    TEST_COND("3 parts with max 3: ok", run(three, strlen(three), NULL, 0, 3, &g) == FH_OK && g.n == 3);
    TEST_COND("3 parts with max 2: FH_E_LIMIT after 2", run(three, strlen(three), NULL, 0, 2, &g) == FH_E_LIMIT && g.n == 2);
    static char big[SRV_MP_HEADERS_MAX + 200];
    int k = snprintf(big, sizeof big, "--" B "\r\nX-Long: ");
    memset(big + k, 'a', SRV_MP_HEADERS_MAX);
    strcpy(big + k + SRV_MP_HEADERS_MAX, "\r\n\r\nd\r\n--" B "--");
    TEST_COND("a part header block over SRV_MP_HEADERS_MAX: FH_E_LIMIT", run(big, strlen(big), NULL, 0, 4, &g) == FH_E_LIMIT);
    memset(&g, 0, sizeof g);
    g.sink_fail_at = 2;
    {
        struct srv_mp m;
        struct srv_mp_sink sink = {on_begin, on_data, on_end, &g};
        srv_mp_init(&m, B, 16, &sink);
        int rc = srv_mp_feed(&m, (const uint8_t *)three, strlen(three));
        TEST_COND("a sink error stops the parser, and sticks", rc == FH_E_IO && srv_mp_feed(&m, (const uint8_t *)"x", 1) == FH_E_IO &&
                                                                   srv_mp_finish(&m) == FH_E_IO && g.n == 1);
    }
    char bnd[80];
    TEST_COND("boundary from Content-Type (quoted, parameters)",
              !srv_multipart_boundary("multipart/form-data; charset=x; boundary=\"a b:c\"", bnd, sizeof bnd) && !strcmp(bnd, "a b:c"));
    TEST_COND("bad boundaries refused", srv_multipart_boundary("multipart/form-data", bnd, sizeof bnd) == FH_E_ARG &&
                                            srv_multipart_boundary("multipart/form-data; boundary=a\rb", bnd, sizeof bnd) == FH_E_ARG &&
                                            srv_multipart_boundary("text/plain; boundary=ab", bnd, sizeof bnd) == FH_E_ARG &&
                                            srv_multipart_boundary(NULL, bnd, sizeof bnd) == FH_E_ARG);

    // ---- the upload spool ----
    char dir[] = "/tmp/fh_spool_XXXXXX";
    TEST_COND("temp dir", mkdtemp(dir) != NULL);
    static char body[4096];
    static uint8_t data[1500];
    for (size_t i = 0; i < sizeof data; i++) data[i] = (uint8_t)(i * 7 + 3);
    data[700] = '\r', data[701] = '\n', data[702] = '-', data[703] = '-';
    size_t n = (size_t)snprintf(body, sizeof body, "--" B "\r\nContent-Disposition: form-data; name=f; filename=\"../a.jpg\"\r\n\r\n");
    memcpy(body + n, data, sizeof data), n += sizeof data;
    n += (size_t)snprintf(body + n, sizeof body - n, "\r\n--" B "\r\nContent-Disposition: form-data; name=g; filename=big.jpg\r\n\r\n");
    memset(body + n, 'x', 1600), n += 1600;
    n += (size_t)snprintf(body + n, sizeof body - n, "\r\n--" B "--\r\n");
    struct srv_spool sp;
    int rc = srv_spool_init(&sp, dir, "multipart/form-data; boundary=" B, 1500, 8, 0);
    for (size_t at = 0; !rc && at < n; at += 97) rc = srv_spool_feed(&sp, (const uint8_t *)body + at, n - at < 97 ? n - at : 97);
    if (!rc) rc = srv_spool_finish(&sp);
    TEST_COND("spool: parsed, 2 files", rc == FH_OK && sp.n == 2);
    char hex[65];
    fh_sha256_hex(data, sizeof data, hex);
    struct stat st;
    char tmp[300];
    snprintf(tmp, sizeof tmp, "%s/%s", dir, sp.n ? sp.files[0].tmp : "");
    int f0 = sp.n == 2 && !sp.files[0].status && sp.files[0].bytes == sizeof data && !strcmp(sp.files[0].sha, hex) &&
             !strcmp(sp.files[0].name, "a.jpg") && sp.files[0].head_n == 16 && !memcmp(sp.files[0].head, data, 16) &&
             !strncmp(sp.files[0].tmp, ".part-", 6) && !stat(tmp, &st) && st.st_size == (off_t)sizeof data && (st.st_mode & 0777) == 0600;
    TEST_COND("spool: the file at the limit is in a 0600 temp file with its sha256 and sanitised name", f0);
    TEST_COND("spool: the file over the limit is 413 and has no temp file",
              sp.n == 2 && sp.files[1].status == 413 && !sp.files[1].tmp[0] && sp.files[1].bytes == 1600);
    srv_spool_free(&sp);
    DIR *d = opendir(dir);
    int left = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (e->d_name[0] != '.' || strncmp(e->d_name, ".part-", 6) == 0) left += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    if (d) closedir(d);
    TEST_COND("spool: srv_spool_free removes every temporary file", left == 0);
    rc = srv_spool_init(&sp, dir, "application/json", 10, 8, 0);
    TEST_COND("spool: not multipart is FH_E_ARG", rc == FH_E_ARG);
    srv_spool_free(&sp);
    rmdir(dir);
    return TEST_REPORT();
}
