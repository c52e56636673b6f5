// SPDX-License-Identifier: MIT
// base: error state, allocation wrappers, logging, clock, file reading, cpu features.
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "base.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static _Thread_local char errbuf[512];

int fh_fail(int code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(errbuf, sizeof errbuf, fmt, ap);
    va_end(ap);
    return code;
}

const char *fh_errmsg(void) { return errbuf; }

const char *fh_strerror(int code) {
    switch (code) {
    case FH_OK: return "ok";
    case FH_E_NOMEM: return "out of memory";
    case FH_E_IO: return "i/o error";
    case FH_E_FORMAT: return "bad format";
    case FH_E_LIMIT: return "limit exceeded";
    case FH_E_ARG: return "invalid argument";
    case FH_E_NOTFOUND: return "not found";
    case FH_E_UNSUPPORTED: return "unsupported";
    case FH_E_INTEGRITY: return "integrity check failed";
    case FH_E_DB: return "database error";
    case FH_E_BUSY: return "database busy";
    case FH_E_EXISTS: return "already exists";
    case FH_E_AUTH: return "not authenticated";
    case FH_E_RATE: return "too many attempts";
    }
    return "unknown error";
}

void fh_assert_fail(const char *file, int line, const char *cond) {
    fprintf(stderr, "%s:%d: assertion failed: %s\n", file, line, cond);
    abort();
}

// ---- allocation -------------------------------------------------------------------
static long fail_countdown; // 0 = off; test-only, so not atomic

static int should_fail(void) {
    if (fail_countdown > 0 && --fail_countdown == 0) return 1;
    return 0;
}

void fh_alloc_fail_after(long n) { fail_countdown = n; }

void *fh_malloc(size_t n) { return should_fail() ? NULL : malloc(n ? n : 1); }
void *fh_calloc(size_t n, size_t size) { return should_fail() ? NULL : calloc(n ? n : 1, size ? size : 1); }
void *fh_realloc(void *p, size_t n) { return should_fail() ? NULL : realloc(p, n ? n : 1); }
void fh_free(void *p) { free(p); }

int fh_grow(void **p, int *cap, int need, size_t elem) {
    if (need <= *cap) return FH_OK;
    int nc = *cap > 8 ? *cap : 8;
    while (nc < need) nc = nc > (1 << 29) ? need : 2 * nc;
    void *q = fh_realloc(*p, (size_t)nc * elem);
    if (!q) return fh_fail(FH_E_NOMEM, "out of memory growing an array to %d items", nc);
    *p = q, *cap = nc;
    return FH_OK;
}

void *fh_malloc_aligned(size_t n) {
    if (should_fail()) return NULL;
    void *p = NULL;
    // round up so SIMD tails may over-read within the block
    size_t sz = (n + 63) & ~(size_t)63;
    if (posix_memalign(&p, 64, sz ? sz : 64)) return NULL;
    return p;
}
void fh_free_aligned(void *p) { free(p); }

// ---- logging ------------------------------------------------------------------------
static fh_log_fn log_fn;
static int log_max = FH_LOG_WARN;

void fh_log_set(fh_log_fn fn, int max_level) { log_fn = fn, log_max = max_level; }

void fh_log(int level, const char *fmt, ...) {
    if (!log_fn || level > log_max) return;
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    log_fn(level, buf);
}

// ---- misc -------------------------------------------------------------------------
double fh_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec * 1e-6;
}

int fh_cpu_count(void) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : (int)n;
}

int fh_read_file(const char *path, size_t max_bytes, uint8_t **out, size_t *out_n) {
    *out = NULL;
    *out_n = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return fh_fail(FH_E_IO, "%s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(f);
        return fh_fail(FH_E_IO, "%s: not a regular file", path);
    }
    if ((uint64_t)st.st_size > max_bytes) {
        fclose(f);
        return fh_fail(FH_E_LIMIT, "%s: file is %lld bytes, limit is %zu", path,
                       (long long)st.st_size, max_bytes);
    }
    size_t n = (size_t)st.st_size;
    uint8_t *buf = fh_malloc(n + 1);
    if (!buf) {
        fclose(f);
        return fh_fail(FH_E_NOMEM, "%s: cannot allocate %zu bytes", path, n);
    }
    size_t got = fread(buf, 1, n, f);
    int err = ferror(f);
    fclose(f);
    if (got != n || err) {
        fh_free(buf);
        return fh_fail(FH_E_IO, "%s: short read (%zu of %zu bytes)", path, got, n);
    }
    buf[n] = 0;
    *out = buf;
    *out_n = n;
    return FH_OK;
}

int fh_cpu_has(int features) {
    static int cached = -1;
    if (cached < 0) {
        int f = 0;
#if defined(__x86_64__) || defined(__i386__)
        __builtin_cpu_init();
        if (__builtin_cpu_supports("avx2")) f |= FH_CPU_AVX2;
        if (__builtin_cpu_supports("fma")) f |= FH_CPU_FMA;
        if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
            __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq"))
            f |= FH_CPU_AVX512;
        if ((f & FH_CPU_AVX512) && __builtin_cpu_supports("avx512vnni")) f |= FH_CPU_AVX512VNNI;
#endif
        cached = f;
    }
    return (cached & features) == features;
}

// ---- sha256 (FIPS 180-4), used to check model files and decoded goldens -------------
static const uint32_t K256[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
    0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
    0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
    0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
    0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
    0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
    0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
    0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
    0xc67178f2};

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void sha256_block(uint32_t h[8], const uint8_t *p) {
    uint32_t w[64];
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
               (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
    for (int i = 16; i < 64; i++) {
        uint32_t s0 = ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
    for (int i = 0; i < 64; i++) {
        uint32_t t1 = hh + (ROR(e, 6) ^ ROR(e, 11) ^ ROR(e, 25)) + ((e & f) ^ (~e & g)) + K256[i] + w[i];
        uint32_t t2 = (ROR(a, 2) ^ ROR(a, 13) ^ ROR(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
        hh = g, g = f, f = e, e = d + t1, d = c, c = b, b = a, a = t1 + t2;
    }
    h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e, h[5] += f, h[6] += g, h[7] += hh;
}

void fh_sha256_init(struct fh_sha256_ctx *c) {
    static const uint32_t h0[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    memcpy(c->h, h0, sizeof h0);
    c->n = 0;
}

void fh_sha256_update(struct fh_sha256_ctx *c, const void *data, size_t n) {
    const uint8_t *p = data;
    size_t used = (size_t)(c->n % 64);
    c->n += n;
    if (used) {
        size_t k = 64 - used < n ? 64 - used : n;
        memcpy(c->buf + used, p, k);
        p += k, n -= k, used += k;
        if (used < 64) return;
        sha256_block(c->h, c->buf);
    }
    while (n >= 64) sha256_block(c->h, p), p += 64, n -= 64;
    if (n) memcpy(c->buf, p, n);
}

void fh_sha256_final(struct fh_sha256_ctx *c, uint8_t out[32]) {
    size_t left = (size_t)(c->n % 64);
    uint8_t tail[128] = {0};
    memcpy(tail, c->buf, left);
    tail[left] = 0x80;
    size_t tl = left < 56 ? 64 : 128;
    uint64_t bits = c->n * 8;
    for (int i = 0; i < 8; i++) tail[tl - 1 - i] = (uint8_t)(bits >> (8 * i));
    sha256_block(c->h, tail);
    if (tl == 128) sha256_block(c->h, tail + 64);
    for (int i = 0; i < 8; i++) {
        out[4 * i] = c->h[i] >> 24, out[4 * i + 1] = c->h[i] >> 16;
        out[4 * i + 2] = c->h[i] >> 8, out[4 * i + 3] = c->h[i];
    }
}

static void to_hex(const uint8_t d[32], char hex[65]) {
    for (int i = 0; i < 32; i++) sprintf(hex + 2 * i, "%02x", d[i]);
    hex[64] = 0;
}

void fh_sha256_final_hex(struct fh_sha256_ctx *c, char hex[65]) {
    uint8_t d[32];
    fh_sha256_final(c, d);
    to_hex(d, hex);
}

void fh_sha256(const void *data, size_t n, uint8_t out[32]) {
    struct fh_sha256_ctx c;
    fh_sha256_init(&c);
    fh_sha256_update(&c, data, n);
    fh_sha256_final(&c, out);
}

void fh_sha256_hex(const void *data, size_t n, char hex[65]) {
    uint8_t d[32];
    fh_sha256(data, n, d);
    to_hex(d, hex);
}
