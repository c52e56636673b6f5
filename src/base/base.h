// SPDX-License-Identifier: MIT
// base: status codes, the thread-local error message, checked allocation with a
// test-only fail-Nth hook, logging hook, timing and small helpers. Depends on libc
// and pthreads only. It does not print or exit (except FH_ASSERT on a broken
// invariant, which is a bug, never bad input).
//
//   int rc = img_decode_file(path, &im);
//   if (rc) fprintf(stderr, "%s: %s\n", path, fh_errmsg());  // caller decides
#ifndef FH_BASE_H
#define FH_BASE_H

#include <stddef.h>
#include <stdint.h>

// ---- status codes: 0 = ok, negative = failure --------------------------------------
enum fh_status {
    FH_OK = 0,
    FH_E_NOMEM = -1,    // allocation failed
    FH_E_IO = -2,       // file missing/unreadable/short read
    FH_E_FORMAT = -3,   // bytes are not what they claim to be (corrupt image, bad model)
    FH_E_LIMIT = -4,    // input exceeds a limit in base/limits.h
    FH_E_ARG = -5,      // caller passed an invalid argument
    FH_E_NOTFOUND = -6, // named thing does not exist (tensor, face, ...)
    FH_E_UNSUPPORTED = -7, // valid input we do not handle (op, pixel format)
    FH_E_INTEGRITY = -8,   // checksum mismatch (model file altered)
    FH_E_DB = -9,          // database error (SQLite's message is copied into fh_errmsg)
    FH_E_BUSY = -10,       // the database stayed locked by another connection too long
    FH_E_EXISTS = -11,     // the name is already taken (user name, ...)
    FH_E_AUTH = -12,       // credentials refused: wrong password, unknown user, bad session/token
    FH_E_RATE = -13,       // too many failed attempts: wait (the call says how long)
};

// Sets the calling thread's last-error message (printf-style) and returns code.
// Use as: return fh_fail(FH_E_FORMAT, "png: bad width %u", w);
int fh_fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
// The calling thread's last-error message ("" if none). Valid until the next
// fh_fail on this thread.
const char *fh_errmsg(void);
// Generic text for a status code.
const char *fh_strerror(int code);

// ---- assertions: bugs only -----------------------------------------------------------
void fh_assert_fail(const char *file, int line, const char *cond) __attribute__((noreturn));
#define FH_ASSERT(c) ((c) ? (void)0 : fh_assert_fail(__FILE__, __LINE__, #c))

// ---- allocation -----------------------------------------------------------------------
// All library allocations go through these. They return NULL on failure (never exit).
void *fh_malloc(size_t n);
void *fh_calloc(size_t n, size_t size);
void *fh_realloc(void *p, size_t n);
void fh_free(void *p);
// 64-byte aligned block (for SIMD buffers); free with fh_free_aligned.
void *fh_malloc_aligned(size_t n);
void fh_free_aligned(void *p);
// Grows the array *p (of elem-byte items, capacity *cap) so it holds at least `need`
// items, doubling. FH_OK, or FH_E_NOMEM with *p and *cap unchanged.
int fh_grow(void **p, int *cap, int need, size_t elem);
// Test hook: make the n-th allocation from now fail (0 = off). Not thread-safe.
void fh_alloc_fail_after(long n);

// ---- logging ------------------------------------------------------------------------
enum fh_log_level { FH_LOG_ERROR, FH_LOG_WARN, FH_LOG_INFO, FH_LOG_DEBUG };
// The program installs a sink; the default discards everything.
typedef void (*fh_log_fn)(int level, const char *msg);
void fh_log_set(fh_log_fn fn, int max_level);
void fh_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

// ---- time & misc ----------------------------------------------------------------------
double fh_now_ms(void);              // monotonic clock, milliseconds
int fh_cpu_count(void);              // online cores, >= 1
// sha256 of a buffer; out is 32 bytes; hex is 65 chars (with NUL).
void fh_sha256(const void *data, size_t n, uint8_t out[32]);
void fh_sha256_hex(const void *data, size_t n, char hex[65]);
// Incremental sha256 (data fed in pieces, e.g. an upload as it arrives): init, any number
// of updates, final (out 32 bytes) or final_hex (65 chars); same digest as fh_sha256.
struct fh_sha256_ctx {
    uint32_t h[8];
    uint64_t n;                // bytes fed so far
    uint8_t buf[64];
};
void fh_sha256_init(struct fh_sha256_ctx *c);
void fh_sha256_update(struct fh_sha256_ctx *c, const void *data, size_t n);
void fh_sha256_final(struct fh_sha256_ctx *c, uint8_t out[32]);
void fh_sha256_final_hex(struct fh_sha256_ctx *c, char hex[65]);
// Reads a whole file into a fresh buffer (caller frees with fh_free). Refuses files
// larger than max_bytes with FH_E_LIMIT before allocating.
int fh_read_file(const char *path, size_t max_bytes, uint8_t **out, size_t *out_n);

// ---- CPU features (cached after the first call) ---------------------------------------
// AVX512: F + BW + VL + DQ (what kern/x86/kern_avx512.c is built for); VNNI: AVX512-VNNI
enum { FH_CPU_AVX2 = 1, FH_CPU_FMA = 2, FH_CPU_AVX512 = 4, FH_CPU_AVX512VNNI = 8 };
int fh_cpu_has(int features);

#endif
