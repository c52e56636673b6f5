// SPDX-License-Identifier: MIT
// Uploads: the files a request brought (already on disk as temporary files, spool.c) are
// checked (magic bytes), counted against the owner's quota and stored per owner as
// <db>.uploads/<owner id>/<sha256>.<ext>, then queued for the indexer with their owner and
// original name. The same bytes twice give one photo (per owner). At start: uploads of the old
// flat layout move into 1/ (user 1's), stored files the library does not know are queued
// again; the library's lib_on_forget hands back files no photo and no op needs any more, and
// they are deleted here (only stored uploads, never anything else).
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/base.h"
#include "server/handlers_int.h"

const char *srv_sniff_image(const uint8_t *p, size_t n) {
    if (n >= 3 && p[0] == 0xff && p[1] == 0xd8 && p[2] == 0xff) return "jpg";
    if (n >= 8 && !memcmp(p, "\x89PNG\r\n\x1a\n", 8)) return "png";
    if (n >= 12 && !memcmp(p, "RIFF", 4) && !memcmp(p + 8, "WEBP", 4)) return "webp";
    if (n >= 12 && !memcmp(p + 4, "ftyp", 4)) {
        static const char *const brands[] = {"heic", "heix", "heim", "heis", "hevc", "hevx", "mif1", "msf1", "avif", "avis"};
        for (size_t i = 0; i < sizeof brands / sizeof *brands; i++)
            if (!memcmp(p + 8, brands[i], 4)) return "heic";
    }
    return NULL;
}

void srv_sanitize_name(const char *raw, char *out, size_t n) {
    const char *b = raw;
    for (const char *p = raw; *p; p++)
        if (*p == '/' || *p == '\\') b = p + 1; // basename, both conventions
    size_t k = 0, lim = n - 1 < SRV_NAME_MAX ? n - 1 : SRV_NAME_MAX;
    for (const unsigned char *p = (const unsigned char *)b; *p && k < lim;) {
        if (*p < 0x20 || *p == 0x7f) { // control characters are dropped
            p++;
            continue;
        }
        if (p[0] == '.' && p[1] == '.') { // no ".." anywhere
            out[k++] = '_';
            p += 2;
            continue;
        }
        int len = *p < 0x80 ? 1 : (*p & 0xe0) == 0xc0 ? 2 : (*p & 0xf0) == 0xe0 ? 3 : (*p & 0xf8) == 0xf0 ? 4 : 0;
        int ok = len > 0;
        for (int i = 1; ok && i < len; i++) ok = (p[i] & 0xc0) == 0x80;
        if (!ok) { // invalid UTF-8 byte
            out[k++] = '_';
            p++;
            continue;
        }
        if (k + (size_t)len > lim) break; // never cut a character in two
        memcpy(out + k, p, (size_t)len);
        k += (size_t)len, p += len;
    }
    out[k] = 0;
    if (!k || !strcmp(out, ".")) snprintf(out, n, "upload");
}

// a stored upload's file name: 64 hex digits, '.', a known extension
static int is_upload_name(const char *n) {
    size_t i = 0;
    while (i < 64 && ((n[i] >= '0' && n[i] <= '9') || (n[i] >= 'a' && n[i] <= 'f'))) i++;
    return i == 64 && (!strcmp(n + 64, ".jpg") || !strcmp(n + 64, ".png") || !strcmp(n + 64, ".heic") ||
                       !strcmp(n + 64, ".webp"));
}

// an owner's folder name: a positive decimal id without leading zeros
static int64_t owner_of_dir(const char *n) {
    if (n[0] < '1' || n[0] > '9' || strlen(n) > 18 || strspn(n, "0123456789") != strlen(n)) return 0;
    return strtoll(n, NULL, 10);
}

static int owner_dir(const struct srv *S, int64_t owner, char *out, size_t n) {
    if ((size_t)snprintf(out, n, "%s/%" PRId64, S->uploads, owner) >= n) return fh_fail(FH_E_LIMIT, "upload path too long");
    return FH_OK;
}

// bytes the owner's stored uploads take now
static int64_t owner_bytes(const struct srv *S, int64_t owner) {
    char dir[PATH_MAX];
    int64_t sum = 0;
    if (owner_dir(S, owner, dir, sizeof dir)) return 0;
    DIR *d = opendir(dir);
    if (!d) return 0;
    struct dirent *e;
    struct stat st;
    while ((e = readdir(d)))
        if (is_upload_name(e->d_name) && !fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) && S_ISREG(st.st_mode))
            sum += (int64_t)st.st_size;
    closedir(d);
    return sum;
}

// Stores a received file (its temporary file, named by its sha256) as <owner>/<sha256>.<ext>
// and queues it. The same bytes already stored for this owner, or waiting in the queue, are
// not queued again: *state says "duplicate" (and *photo the stored photo, if indexed). Returns
// 0, or an HTTP status with fh_errmsg() set (413: over the owner's quota; 500).
static int take_upload(struct srv *S, int64_t owner, struct srv_upfile *f, const char *ext, char *file, size_t nf,
                       const char **state, int64_t *photo, int64_t *used) {
    char dir[PATH_MAX], path[PATH_MAX + 80], tmp[PATH_MAX];
    snprintf(file, nf, "%s.%s", f->sha, ext);
    if (owner_dir(S, owner, dir, sizeof dir) || (size_t)snprintf(path, sizeof path, "%s/%s", dir, file) >= sizeof path ||
        (size_t)snprintf(tmp, sizeof tmp, "%s/%s", S->uploads, f->tmp) >= sizeof tmp)
        return fh_fail(FH_E_LIMIT, "upload path too long"), 500;
    *state = "queued", *photo = 0;
    if (!access(path, F_OK)) { // the same content is stored already for this owner
        struct store_photo p;
        pthread_mutex_lock(&S->mu);
        int found = !lib_photo_find(S->L, owner, path, &p);
        pthread_mutex_unlock(&S->mu);
        if (found || srv_indexer_pending(S->ix, path)) {
            *state = "duplicate", *photo = found ? p.id : 0;
            return 0;          // the temporary copy is removed with the request
        }
        // stored but no photo (a deleted photo's file kept for undo): indexed again
    } else {
        int64_t quota = 0;
        pthread_mutex_lock(&S->mu);
        int rc = lib_user_quota(S->L, owner, &quota);
        pthread_mutex_unlock(&S->mu);
        if (rc) return 500;
        if (*used < 0) *used = owner_bytes(S, owner);
        if (quota > 0 && *used + (int64_t)f->bytes > quota)
            return fh_fail(FH_E_LIMIT, "over your upload quota: %" PRId64 " of %" PRId64 " bytes used, this file needs %zu",
                           *used, quota, f->bytes), 413;
        if (mkdir(dir, 0755) && errno != EEXIST) return fh_fail(FH_E_IO, "cannot store the upload: %s", strerror(errno)), 500;
        if (rename(tmp, path)) return fh_fail(FH_E_IO, "cannot store the upload: %s", strerror(errno)), 500;
        f->tmp[0] = 0;         // taken
        *used += (int64_t)f->bytes;
    }
    return srv_indexer_push(S->ix, owner, path, f->name) ? 500 : 0;
}

void srv_h_upload(struct srv *S, const struct srv_req *rq, int64_t id, struct srv_resp *rs) {
    if (!rq->n_files) return srv_error(rs, 400, "no file in the upload (multipart parts with a filename)");
    struct srv_json w;
    jw_init(&w, &rs->body);
    jw_obj(&w);
    jw_key(&w, "files"), jw_arr(&w);
    int queued = 0, dups = 0, first_err = 0;
    int64_t used = -1; // bytes of the owner's uploads, counted at the first new file
    char first_msg[400] = "";
    for (int i = 0; i < rq->n_files; i++) {
        struct srv_upfile *f = &rq->files[i];
        char file[80] = "", msg[400];
        int status = f->status;
        const char *ext = NULL, *state = "rejected";
        int64_t photo = 0;
        snprintf(msg, sizeof msg, "%s", f->msg);
        // limits were checked as the bytes arrived (spool.c); the magic bytes before any decoding
        if (!status && !(ext = srv_sniff_image(f->head, f->head_n)))
            status = 415, snprintf(msg, sizeof msg, "%s: not a JPEG, PNG, HEIC or WebP image", f->name);
        if (!status && (status = take_upload(S, rq->owner, f, ext, file, sizeof file, &state, &photo, &used)))
            state = "rejected", snprintf(msg, sizeof msg, "%s: %s", f->name, fh_errmsg());
        jw_obj(&w);
        jw_key(&w, "name"), jw_str(&w, f->name);
        jw_key(&w, "bytes"), jw_int(&w, (int64_t)f->bytes);
        jw_key(&w, "status"), jw_str(&w, status ? "rejected" : state);
        jw_key(&w, "file"), jw_str(&w, status ? NULL : file);
        jw_key(&w, "photo"), jw_id(&w, photo);
        jw_key(&w, "error");
        if (status) {
            jw_obj(&w);
            jw_key(&w, "code"), jw_int(&w, status);
            jw_key(&w, "message"), jw_str(&w, msg);
            jw_obj_end(&w);
            if (!first_err) first_err = status, snprintf(first_msg, sizeof first_msg, "%s", msg);
        } else {
            jw_null(&w);
            if (!strcmp(state, "queued")) queued++;
            else dups++;
        }
        jw_obj_end(&w);
    }
    jw_arr_end(&w);
    // 202 when anything was queued, 200 when all were already there; otherwise the first
    // file's error, with every file's
    if (!queued && !dups) {
        jw_key(&w, "error"), jw_obj(&w);
        jw_key(&w, "code"), jw_int(&w, first_err);
        jw_key(&w, "message"), jw_str(&w, first_msg);
        jw_obj_end(&w);
    }
    jw_key(&w, "queued"), jw_int(&w, queued);
    jw_key(&w, "duplicates"), jw_int(&w, dups);
    jw_key(&w, "rejected"), jw_int(&w, rq->n_files - queued - dups);
    jw_obj_end(&w);
    srv_json_ok(rs, queued ? 202 : dups ? 200 : first_err);
}

// ---- at start, and files the library forgets ------------------------------------------------------------
// lib_on_forget: a deleted photo's file that no photo and no op needs any more. Only a stored
// upload of that owner (<uploads>/<owner>/<sha256>.<ext>) is deleted; any other path is left.
static void forget(void *ctx, int64_t owner, const char *path) {
    const struct srv *S = ctx;
    char dir[PATH_MAX];
    size_t n;
    if (owner_dir(S, owner, dir, sizeof dir)) return;
    n = strlen(dir);
    if (strncmp(path, dir, n) || path[n] != '/' || !is_upload_name(path + n + 1)) return;
    if (unlink(path) && errno != ENOENT) fh_log(FH_LOG_WARN, "serve: cannot delete %s: %s", path, strerror(errno));
}

// The old flat layout (<uploads>/<sha256>.<ext>, before uploads were kept per user): those files
// were user 1's. Moved into 1/, and the library's rows follow them.
static int migrate_flat(struct srv *S, const char *name) {
    char dir[PATH_MAX], from[PATH_MAX + 80], to[PATH_MAX + 80];
    int rc = owner_dir(S, LIB_OWNER_LOCAL, dir, sizeof dir);
    if (rc) return rc;
    snprintf(from, sizeof from, "%s/%s", S->uploads, name);
    snprintf(to, sizeof to, "%s/%s", dir, name);
    if (mkdir(dir, 0755) && errno != EEXIST) return fh_fail(FH_E_IO, "%s: %s", dir, strerror(errno));
    // rows first, then the file; a failed move puts the rows back (rows and file stay together)
    if ((rc = lib_photo_repath(S->L, LIB_OWNER_LOCAL, from, to))) return rc;
    if (rename(from, to)) {
        rc = fh_fail(FH_E_IO, "%s: %s", from, strerror(errno));
        lib_photo_repath(S->L, LIB_OWNER_LOCAL, to, from);
    }
    return rc;
}

// queues the owner's stored uploads that the library does not know (the server stopped before
// indexing them); a file a photo or an op of the log refers to is known
static int requeue_owner(struct srv *S, int64_t owner, int *n) {
    char dir[PATH_MAX], path[PATH_MAX + 80];
    int on, rc = owner_dir(S, owner, dir, sizeof dir);
    if (rc) return rc;
    if (lib_user_recognition(S->L, owner, &on) == FH_E_NOTFOUND) {
        fh_log(FH_LOG_WARN, "serve: %s belongs to no user: left alone", dir);
        return FH_OK;
    }
    DIR *d = opendir(dir);
    if (!d) return fh_fail(FH_E_IO, "%s: %s", dir, strerror(errno));
    struct dirent *e;
    while (!rc && (e = readdir(d))) {
        if (!strncmp(e->d_name, ".tmp-", 5)) {
            unlinkat(dirfd(d), e->d_name, 0);
            continue;
        }
        if (!is_upload_name(e->d_name)) continue;
        if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >= sizeof path) continue;
        int used = 0;
        if (!(rc = lib_path_in_use(S->L, owner, path, &used)) && !used)
            rc = srv_indexer_push(S->ix, owner, path, e->d_name), ++*n;
    }
    closedir(d);
    return rc;
}

int srv_uploads_start(struct srv *S) {
    DIR *d = opendir(S->uploads);
    if (!d) return fh_fail(FH_E_IO, "%s: %s", S->uploads, strerror(errno));
    struct dirent *e;
    int rc = FH_OK, n = 0, moved = 0;
    int64_t *owners = NULL;
    int n_owners = 0, cap = 0;
    while (!rc && (e = readdir(d))) {
        if (!strncmp(e->d_name, ".part-", 6) || !strncmp(e->d_name, ".tmp-", 5)) {
            unlinkat(dirfd(d), e->d_name, 0); // an upload cut off by a crash
            continue;
        }
        if (is_upload_name(e->d_name)) rc = migrate_flat(S, e->d_name), moved++;
    }
    closedir(d);
    d = NULL;
    if (moved) fh_log(FH_LOG_INFO, "serve: %d uploads of the old flat layout moved into %s/1/", moved, S->uploads);
    // the owners' folders (listed after the move, which may have made 1/)
    if (!rc && !(d = opendir(S->uploads))) rc = fh_fail(FH_E_IO, "%s: %s", S->uploads, strerror(errno));
    while (!rc && (e = readdir(d))) {
        int64_t o = owner_of_dir(e->d_name);
        struct stat st;
        if (!o || fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) || !S_ISDIR(st.st_mode)) continue;
        if (fh_grow((void **)&owners, &cap, n_owners + 1, sizeof *owners)) rc = fh_fail(FH_E_NOMEM, "out of memory");
        else owners[n_owners++] = o;
    }
    if (d) closedir(d);
    for (int i = 0; !rc && i < n_owners; i++) rc = requeue_owner(S, owners[i], &n);
    fh_free(owners);
    if (n) fh_log(FH_LOG_INFO, "serve: %d stored uploads were not indexed yet: queued", n);
    if (!rc) lib_on_forget(S->L, forget, S);
    return rc;
}

int srv_uploads_remove_owner(struct srv *S, int64_t owner) {
    char dir[PATH_MAX];
    int rc = owner_dir(S, owner, dir, sizeof dir);
    if (rc) return rc;
    DIR *d = opendir(dir);
    if (!d) return errno == ENOENT ? FH_OK : fh_fail(FH_E_IO, "%s: %s", dir, strerror(errno));
    struct dirent *e;
    while ((e = readdir(d)))
        if (is_upload_name(e->d_name) || !strncmp(e->d_name, ".tmp-", 5)) unlinkat(dirfd(d), e->d_name, 0);
    closedir(d);
    if (rmdir(dir) && errno != ENOENT) return fh_fail(FH_E_IO, "%s: %s", dir, strerror(errno));
    return FH_OK;
}
