// SPDX-License-Identifier: MIT
// libFuzzer harness: the streaming multipart/form-data parser (src/server/multipart.c,
// srv_mp_*). Input layout: the first line (up to '\n', at most 255 bytes) is the
// Content-Type header value given to srv_multipart_boundary; the next byte seeds the chunk
// sizes; the rest is the body. The body is parsed twice: in one piece, and in pieces whose
// sizes come from the seed byte (1..64 bytes, varying). Both runs must agree on the result
// code, on every part's header and on a checksum of every part's bytes — a boundary split
// across pieces must not change what is parsed. Each part's filename then goes through
// srv_sanitize_name, as the upload handler does.
// fuzz: -max_len=16384
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "base/base.h"
#include "server/server_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_PARTS 16

struct rec {
    int n;                             // parts begun
    int ended;                         // parts ended
    uint64_t sum[MAX_PARTS];           // FNV-1a of each part's bytes
    size_t len[MAX_PARTS];
    struct srv_mp_head head[MAX_PARTS];
};

static int on_begin(void *ctx, const struct srv_mp_head *h) {
    struct rec *r = ctx;
    if (r->n != r->ended) __builtin_trap();   // begin while a part is open
    if (r->n == MAX_PARTS) return FH_E_LIMIT;
    r->head[r->n] = *h;
    r->sum[r->n] = 1469598103934665603ull, r->len[r->n] = 0;
    r->n++;
    char name[SRV_NAME_MAX + 1];
    srv_sanitize_name(h->filename, name, sizeof name);
    if (strlen(name) > SRV_NAME_MAX || strchr(name, '/')) __builtin_trap();
    return 0;
}

static int on_data(void *ctx, const uint8_t *p, size_t n) {
    struct rec *r = ctx;
    if (r->n == r->ended) __builtin_trap();   // data outside a part
    uint64_t h = r->sum[r->n - 1];
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 1099511628211ull;
    r->sum[r->n - 1] = h, r->len[r->n - 1] += n;
    return 0;
}

static int on_end(void *ctx) {
    struct rec *r = ctx;
    if (r->n == r->ended) __builtin_trap();
    r->ended++;
    return 0;
}

static int parse(const char *boundary, const uint8_t *body, size_t n, unsigned seed, struct rec *r) {
    memset(r, 0, sizeof *r);
    static struct srv_mp m;            // ~8 KB: off the stack
    struct srv_mp_sink sink = {on_begin, on_data, on_end, r};
    int rc = srv_mp_init(&m, boundary, MAX_PARTS, &sink);
    if (rc) return rc;
    size_t off = 0;
    while (!rc && off < n) {
        size_t k = seed ? 1 + (seed + off * 7) % 64 : n - off;
        if (k > n - off) k = n - off;
        rc = srv_mp_feed(&m, body + off, k);
        off += k;
    }
    if (!rc) rc = srv_mp_finish(&m);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const uint8_t *nl = memchr(data, '\n', size < 256 ? size : 256);
    if (!nl) return 0;
    char ct[256];
    size_t cl = (size_t)(nl - data);
    memcpy(ct, data, cl);
    ct[cl] = 0;   // a NUL inside the header just ends it early, as a C string would
    char boundary[SRV_MP_BOUNDARY_MAX + 1];
    if (srv_multipart_boundary(ct, boundary, sizeof boundary)) return 0;
    if (size - cl - 1 < 1) return 0;
    unsigned seed = 1u + nl[1];
    const uint8_t *body = nl + 2;
    size_t n = size - cl - 2;
    static struct rec a, b;
    int ra = parse(boundary, body, n, 0, &a);
    int rb = parse(boundary, body, n, seed, &b);
    if (ra != rb || a.n != b.n || a.ended != b.ended) __builtin_trap();
    for (int i = 0; i < a.n; i++)
        if (a.sum[i] != b.sum[i] || a.len[i] != b.len[i] ||
            memcmp(&a.head[i], &b.head[i], sizeof a.head[i]))
            __builtin_trap();
    return 0;
}
