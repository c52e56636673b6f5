// SPDX-License-Identifier: MIT
// libFuzzer harness: the server's request handling without sockets: the checks before
// routing (srv_check_request, http.c: Host allow-list, Origin / Sec-Fetch-Site, Content-Type,
// bearer token / session cookie) and the router with every handler (srv_handle,
// handlers*.c), against one real struct srv made once (srv_open_for_test: no HTTP, no
// indexer) on a temporary database with two users, persons, photos and faces made through
// the store (no models).
//
// Input: eight lines ('\n'), then the body (the rest, bytes as they are):
//   1 method: one digit picks GET POST HEAD PUT DELETE OPTIONS (0..5), anything else is taken as it is
//   2 path, with an optional "?k=v&k2=v2" query (at most SRV_ARGS_MAX arguments, not decoded:
//     libmicrohttpd hands the handlers decoded values)
//   3 Host   4 Origin   5 Sec-Fetch-Site   6 Content-Type
//   7 the fh_session cookie's value   8 Authorization
// An empty header line (3..8) is an absent header. Missing lines are absent headers / "".
// The token check (cfg.bearer_check) accepts "Bearer bob" (user 2) and "Bearer local"
// (user 1), answers "Bearer busy" with -1 (database busy), and passes any other token to the
// real one (srv_bearer_owner).
//
// Every input runs the checks, then the router whatever they decided (the handlers must be
// safe on their own), acting for the checks' owner when authed, else user 1. Not routed:
// POST /api/search, /api/upload, /api/recluster (they run the models or need the indexer),
// /api/login, /api/account/delete (Argon2id, ~0.3 s each) and /api/account/recognition
// (turning it on analyses every photo with the models). The state persists between inputs
// (a deleted person stays deleted), so the fixture is topped up when user 1 has fewer than
// two persons; a crash found late may need the inputs before it to reproduce.
//
// Traps: a check status outside {0, 401, 403, 415, 421, 503}, an identity that is not
// consistent (bearer without authed, authed without an owner); a response status outside
// 200..599, no content type, a JSON content type whose body is not one valid JSON document
// (cJSON) or holds a NUL, an error status without {"error":{"code":<status>,...}}, an extra
// header with a control character. ASan/UBSan/LSan catch the rest. The temporary folder
// (/tmp/fuzz_router.XXXXXX) is removed at exit, not after a crash (abort skips atexit).
// fuzz: -max_len=4096
#include <cjson/cJSON.h>
#include <ftw.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/base.h"
#include "library/library.h"
#include "server/server_int.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct srv *S;
static char dir[64], photo_file[128];
static int64_t U2, model;
static unsigned long n_runs, n_fixture;

static int test_bearer(void *ctx, const char *token, int64_t *owner) {
    if (!strcmp(token, "bob")) return *owner = U2, 1;
    if (!strcmp(token, "local")) return *owner = LIB_OWNER_LOCAL, 1;
    if (!strcmp(token, "busy")) return -1;
    return srv_bearer_owner(S, token, owner);
}

// ---- the fixture: made through the store, no models --------------------------------------------
static int64_t add_photo(struct store *s, int64_t owner, const char *path, unsigned k) {
    struct store_photo p = {.path = path, .size = 856, .mtime = 5, .width = 32, .height = 32};
    for (int i = 0; i < 64; i++) p.sha256[i] = "0123456789abcdef"[(i + k) & 15];
    if (k & 1) p.orig_name = "Holiday \"1\".jpg";
    int64_t id = 0;
    store_photo_upsert(s, owner, &p, &id);
    return id;
}

static void add_face(struct store *s, int64_t owner, int64_t photo, int k, int64_t person, int by) {
    float emb[4] = {(float)k, 1, 0.5f, -1};
    uint8_t thumb[3] = {0xff, (uint8_t)k, 0xd9};
    struct store_face f = {.photo_id = photo, .box = {k, 2, k + 20, 30}, .det_score = 0.9f, .blur = 50,
                           .quality = 0.1f * (float)k, .model_id = model, .dim = 4, .embedding = emb,
                           .thumb = thumb, .thumb_size = 3, .person_id = person, .assigned = by};
    int64_t id;
    store_face_insert(s, owner, &f, &id);
}

// two photos (one a real JPEG), two persons (one named), faces in both and one unknown
static void fixture(int64_t owner) {
    struct store *s = lib_store(S->L);
    unsigned k = (unsigned)n_fixture++;
    char path[160];
    snprintf(path, sizeof path, "%s/missing-%u.jpg", dir, k);
    int64_t ph[2] = {add_photo(s, owner, photo_file, 2 * k), add_photo(s, owner, path, 2 * k + 1)}, pa = 0, pb = 0;
    store_person_create(s, owner, "Anna <b>\xc3\xa9</b>", &pa);
    store_person_create(s, owner, NULL, &pb);
    for (int i = 0; i < 5; i++) add_face(s, owner, ph[i & 1], i + 1, i < 2 ? pa : i < 4 ? pb : 0, i == 0 ? STORE_USER : STORE_AUTO);
    lib_update_avatars(S->L, owner);
}

static int count_person(void *ctx, const struct store_person *p) {
    ++*(int *)ctx;
    return 0;
}

static void quiet(int level, const char *msg) {}

static int rm_entry(const char *p, const struct stat *st, int flag, struct FTW *f) { return remove(p); }

static void cleanup(void) {
    srv_stop(S);
    S = NULL;
    if (dir[0]) nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    fh_log_set(quiet, FH_LOG_ERROR);   // handlers log what they refuse
    snprintf(dir, sizeof dir, "/tmp/fuzz_router.XXXXXX");
    if (!mkdtemp(dir)) abort();
    char db[128];
    snprintf(db, sizeof db, "%s/lib.db", dir);
    snprintf(photo_file, sizeof photo_file, "%s/plain.jpg", dir);
    FILE *in = fopen("tests/fuzz/corpus/img/plain.jpg", "rb"), *out = fopen(photo_file, "wb");
    if (in && out) {
        char buf[4096];
        size_t n;
        while ((n = fread(buf, 1, sizeof buf, in))) fwrite(buf, 1, n, out);
    }
    if (in) fclose(in);
    if (out) fclose(out);
    struct srv_config c = srv_config_default();
    c.db = db, c.models = "no-models-here", c.hosts[0] = "photos.example", c.n_hosts = 1;
    c.bearer_check = test_bearer;
    if (srv_open_for_test(&c, &S)) {
        fprintf(stderr, "fuzz_router: %s\n", fh_errmsg());
        abort();
    }
    atexit(cleanup);
    struct store *s = lib_store(S->L);
    char hex[65];
    memset(hex, 'a', 64), hex[64] = 0;
    if (store_model_get(s, "test", "1", hex, 4, &model) || store_user_get(s, "bob", &U2)) abort();
    fixture(LIB_OWNER_LOCAL);
    fixture(U2);
    return 0;
}

// ---- the input ---------------------------------------------------------------------------------
#define LINES 8

static void check_response(const struct srv_resp *rs) {
    if (rs->status < 200 || rs->status > 599 || !rs->content_type) __builtin_trap();
    if (rs->n_headers < 0 || rs->n_headers > SRV_RESP_HEADERS) __builtin_trap();
    for (int i = 0; i < rs->n_headers; i++)
        for (const char *v = rs->headers[i].value; *v; v++)
            if ((unsigned char)*v < 0x20 || *v == 0x7f) __builtin_trap();
    if (rs->body.oom || strncmp(rs->content_type, "application/json", 16)) return;
    if (!rs->body.len || strlen(rs->body.data) != rs->body.len) __builtin_trap();
    cJSON *j = cJSON_ParseWithLength(rs->body.data, rs->body.len);
    if (!j) __builtin_trap();
    if (rs->status >= 400) {
        const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
        const cJSON *code = cJSON_GetObjectItemCaseSensitive(e, "code");
        const cJSON *msg = cJSON_GetObjectItemCaseSensitive(e, "message");
        if (!cJSON_IsNumber(code) || code->valueint != rs->status || !cJSON_IsString(msg)) __builtin_trap();
    }
    cJSON_Delete(j);
}

static int skipped(const char *method, const char *path) {
    static const char *const slow[] = {"/api/search", "/api/upload", "/api/recluster", "/api/login",
                                       "/api/account/delete", "/api/account/recognition"};
    if (strcmp(method, "POST")) return 0;
    for (size_t i = 0; i < sizeof slow / sizeof *slow; i++)
        if (!strcmp(path, slow[i])) return 1;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    // split: eight NUL-terminated lines in a copy, the body after them
    char *copy = malloc(size + 1);
    if (!copy) return 0;
    memcpy(copy, data, size);
    copy[size] = 0;
    const char *line[LINES];
    size_t pos = 0;
    for (int i = 0; i < LINES; i++) {
        line[i] = copy + pos;   // without a '\n' the line runs to the end; later lines are ""
        char *nl = memchr(copy + pos, '\n', size - pos);
        pos = nl ? (size_t)(nl - copy) + 1 : size;
        if (nl) *nl = 0;
    }
    const uint8_t *body = data + pos;
    size_t body_len = size - pos;
    static const char *const methods[] = {"GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS"};
    const char *method = line[0][0] >= '0' && line[0][0] <= '5' && !line[0][1] ? methods[line[0][0] - '0'] : line[0];
    // the query string: split in place
    char *path = (char *)line[1], *q = strchr(path, '?');
    struct srv_req rq;
    memset(&rq, 0, sizeof rq);
    if (q) {
        *q++ = 0;
        while (q && rq.n_args < SRV_ARGS_MAX) {
            char *amp = strchr(q, '&'), *eq;
            if (amp) *amp = 0;
            if ((eq = strchr(q, '='))) *eq = 0;
            rq.arg_key[rq.n_args] = q, rq.arg_val[rq.n_args] = eq ? eq + 1 : "";
            rq.n_args++;
            q = amp ? amp + 1 : NULL;
        }
    }
#define HDR(i) (line[i][0] ? line[i] : NULL)
    struct srv_check in = {.method = method, .path = path, .host = HDR(2), .origin = HDR(3), .sec_fetch_site = HDR(4),
                           .content_type = HDR(5), .cookie = HDR(6), .authorization = HDR(7), .has_body = body_len > 0};
    struct srv_ident who;
    char msg[400];
    msg[sizeof msg - 1] = 0;
    int st = srv_check_request(S, &in, &who, msg, sizeof msg - 1);
    if (st != 0 && st != 401 && st != 403 && st != 415 && st != 421 && st != 503) __builtin_trap();
    if (st && !memchr(msg, 0, sizeof msg - 1)) __builtin_trap();
    if ((who.bearer && !who.authed) || (who.authed && who.owner <= 0) || (who.sid[0] && !who.authed)) __builtin_trap();

    if (!skipped(method, path)) {
        rq.method = method, rq.path = path, rq.content_type = in.content_type;
        rq.body = body_len ? body : NULL, rq.body_len = body_len;
        rq.owner = who.authed ? who.owner : S->cfg.owner;
        rq.bearer = who.bearer, rq.authed = who.authed, rq.accounts = who.accounts;
        rq.sid = who.sid[0] ? who.sid : NULL, rq.https = who.https, rq.client = "127.0.0.1";
        struct srv_resp rs;
        memset(&rs, 0, sizeof rs);
        srv_handle(S, &rq, &rs);
        check_response(&rs);
        srv_buf_free(&rs.body);
    }
    free(copy);
    if (++n_runs % 64 == 0) {   // top the fixture up when the inputs deleted most of it
        int n = 0;
        store_persons_each(lib_store(S->L), LIB_OWNER_LOCAL, count_person, &n);
        if (n < 2) fixture(LIB_OWNER_LOCAL);
    }
    return 0;
}
