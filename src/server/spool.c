// SPDX-License-Identifier: MIT
// Upload bodies spooled to disk while they arrive: the sink the streaming multipart parser
// (multipart.c) feeds. Each file part is written to its own temporary file in the uploads
// folder and hashed on the way, so a request never holds a file in memory; the limits are
// checked per piece. Everything not handed on is removed by srv_spool_free, which the
// HTTP adapter calls when the request ends in any way (answered, refused, client gone).
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "base/base.h"
#include "server/server_int.h"

static void unlink_tmp(const struct srv_spool *sp, struct srv_upfile *f) {
    char path[4200];
    if (f->tmp[0] && (size_t)snprintf(path, sizeof path, "%s/%s", sp->dir, f->tmp) < sizeof path) unlink(path);
    f->tmp[0] = 0;
}

static void drop_tmp(struct srv_spool *sp, struct srv_upfile *f) {
    if (sp->fd >= 0 && sp->cur >= 0 && &sp->files[sp->cur] == f) close(sp->fd), sp->fd = -1;
    unlink_tmp(sp, f);
}

static void reject(struct srv_spool *sp, struct srv_upfile *f, int status, const char *what) {
    if (f->status) return;
    f->status = status;
    snprintf(f->msg, sizeof f->msg, "%s: %s", f->name, what);
    drop_tmp(sp, f);
}

// a new temporary file: uploads/.part-<128 random bits>, never an existing one
static int open_tmp(struct srv_spool *sp, struct srv_upfile *f) {
    for (int tries = 0; tries < 8; tries++) {
        uint8_t r[16];
        if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r) return fh_fail(FH_E_IO, "no random bytes: %s", strerror(errno));
        char hex[33];
        for (int i = 0; i < 16; i++) snprintf(hex + 2 * i, 3, "%02x", r[i]);
        char path[4200];
        snprintf(f->tmp, sizeof f->tmp, ".part-%s", hex);
        if ((size_t)snprintf(path, sizeof path, "%s/%s", sp->dir, f->tmp) >= sizeof path)
            return fh_fail(FH_E_LIMIT, "upload folder path too long");
        sp->fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (sp->fd >= 0) return FH_OK;
        f->tmp[0] = 0;
        if (errno != EEXIST) return fh_fail(FH_E_IO, "cannot store the upload: %s", strerror(errno));
    }
    return fh_fail(FH_E_IO, "cannot store the upload: no free temporary name");
}

static int on_begin(void *ctx, const struct srv_mp_head *h) {
    struct srv_spool *sp = ctx;
    sp->cur = -1;
    if (!h->has_filename) return FH_OK;        // a plain form field: skipped
    if (sp->in_memory && sp->n) return FH_OK;  // search: the first file only
    if (fh_grow((void **)&sp->files, &sp->cap, sp->n + 1, sizeof *sp->files))
        return fh_fail(FH_E_NOMEM, "out of memory");
    struct srv_upfile *f = &sp->files[sp->n++];
    memset(f, 0, sizeof *f);
    srv_sanitize_name(h->filename, f->name, sizeof f->name);
    sp->cur = sp->n - 1;
    fh_sha256_init(&sp->sha);
    if (sp->in_memory) return FH_OK;
    int rc = open_tmp(sp, f);
    if (rc) reject(sp, f, 500, fh_errmsg());   // this file fails; the request goes on
    return FH_OK;
}

static int on_data(void *ctx, const uint8_t *p, size_t n) {
    struct srv_spool *sp = ctx;
    if (sp->cur < 0) return FH_OK;
    struct srv_upfile *f = &sp->files[sp->cur];
    if (f->head_n < sizeof f->head) {
        size_t k = n < sizeof f->head - f->head_n ? n : sizeof f->head - f->head_n;
        memcpy(f->head + f->head_n, p, k);
        f->head_n += k;
    }
    f->bytes += n;
    if (f->status) return FH_OK;               // only counted
    if (f->bytes > sp->max_file) {
        char what[160];
        snprintf(what, sizeof what, "larger than the limit of %zu bytes", sp->max_file);
        reject(sp, f, 413, what);
        srv_buf_free(&sp->mem);
        return FH_OK;
    }
    fh_sha256_update(&sp->sha, p, n);
    if (sp->in_memory) {
        srv_buf_put(&sp->mem, p, n);
        return sp->mem.oom ? fh_fail(FH_E_NOMEM, "out of memory") : FH_OK;
    }
    for (size_t off = 0; off < n;) {
        ssize_t w = write(sp->fd, p + off, n - off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            char what[200];
            snprintf(what, sizeof what, "cannot store the upload: %s", w < 0 ? strerror(errno) : "short write");
            reject(sp, f, 500, what);
            return FH_OK;
        }
        off += (size_t)w;
    }
    return FH_OK;
}

static int on_end(void *ctx) {
    struct srv_spool *sp = ctx;
    if (sp->cur < 0) return FH_OK;
    struct srv_upfile *f = &sp->files[sp->cur];
    if (!f->status && !f->bytes) reject(sp, f, 400, "empty file");
    if (!f->status) {
        fh_sha256_final_hex(&sp->sha, f->sha);
        if (sp->fd >= 0) {
            int ok = !fsync(sp->fd);
            ok = !close(sp->fd) && ok;
            sp->fd = -1;
            if (!ok) reject(sp, f, 500, "cannot store the upload: write failed");
        }
    }
    sp->cur = -1;
    return FH_OK;
}

int srv_spool_init(struct srv_spool *sp, const char *dir, const char *content_type, size_t max_file,
                   int max_parts, int in_memory) {
    memset(sp, 0, sizeof *sp);
    sp->fd = -1, sp->cur = -1;
    sp->dir = dir, sp->max_file = max_file, sp->in_memory = in_memory;
    char boundary[SRV_MP_BOUNDARY_MAX + 1];
    int rc = srv_multipart_boundary(content_type, boundary, sizeof boundary);
    struct srv_mp_sink sink = {on_begin, on_data, on_end, sp};
    if (!rc) rc = srv_mp_init(&sp->mp, boundary, max_parts, &sink);
    return rc;
}

int srv_spool_feed(struct srv_spool *sp, const uint8_t *p, size_t n) { return srv_mp_feed(&sp->mp, p, n); }

int srv_spool_finish(struct srv_spool *sp) { return srv_mp_finish(&sp->mp); }

void srv_spool_free(struct srv_spool *sp) {
    if (sp->fd >= 0) close(sp->fd);
    sp->fd = -1;
    for (int i = 0; i < sp->n; i++) unlink_tmp(sp, &sp->files[i]);
    fh_free(sp->files);
    srv_buf_free(&sp->mem);
    memset(sp, 0, sizeof *sp);
    sp->fd = -1, sp->cur = -1;
}
