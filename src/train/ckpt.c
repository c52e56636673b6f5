// SPDX-License-Identifier: MIT
// Training checkpoints: atomic write, checked read, restore by name (ckpt.h).
#include "train/ckpt.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/base.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "checkpoints store floats in host order: little-endian hosts only"
#endif

static const uint8_t MAGIC[8] = {'F', 'H', 'C', 'K', 'P', 'T', '\r', '\n'};
#define HDR_BYTES 68 // magic .. meta_len
#define ALIGN 64     // tensor data offsets, from the file start

// ---- CRC-32 (IEEE 802.3, reflected, poly 0xEDB88320; zlib's crc32) ------------------------
struct crc32 {
    uint32_t t[256], c;
};
static void crc_init(struct crc32 *k) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int j = 0; j < 8; j++) c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        k->t[i] = c;
    }
    k->c = 0xFFFFFFFFu;
}
static void crc_add(struct crc32 *k, const void *p, size_t n) {
    const uint8_t *b = p;
    uint32_t c = k->c;
    for (size_t i = 0; i < n; i++) c = k->t[(c ^ b[i]) & 0xFF] ^ (c >> 8);
    k->c = c;
}
static uint32_t crc_value(const struct crc32 *k) { return k->c ^ 0xFFFFFFFFu; }

static void put_u32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static void put_u64(uint8_t *p, uint64_t v) {
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static uint32_t get_u32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t get_u64(const uint8_t *p) {
    return (uint64_t)get_u32(p) | (uint64_t)get_u32(p + 4) << 32;
}

static void fmt_shape(char *out, size_t cap, int rank, const int *dims) {
    size_t o = 0;
    o += (size_t)snprintf(out, cap, "[");
    for (int i = 0; i < rank && o < cap; i++)
        o += (size_t)snprintf(out + o, cap - o, "%s%d", i ? "," : "", dims[i]);
    if (o < cap) snprintf(out + o, cap - o, "]");
}

// qsort over indices into an array of names
struct name_ix {
    const char *name;
    int i;
};
static int cmp_name_ix(const void *a, const void *b) {
    const struct name_ix *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : (x->i > y->i) - (x->i < y->i);
}
// sorted copy of the names, or NULL (out of memory); *dup = a name seen twice or NULL
static struct name_ix *sort_names(const char *const *names, size_t stride, int n,
                                  const char **dup) {
    struct name_ix *ix = fh_malloc((n ? (size_t)n : 1) * sizeof *ix);
    *dup = NULL;
    if (!ix) return NULL;
    for (int i = 0; i < n; i++)
        ix[i].name = *(const char *const *)((const char *)names + (size_t)i * stride), ix[i].i = i;
    qsort(ix, (size_t)n, sizeof *ix, cmp_name_ix);
    for (int i = 1; i < n && !*dup; i++)
        if (!strcmp(ix[i].name, ix[i - 1].name)) *dup = ix[i].name;
    return ix;
}

// ---- save ------------------------------------------------------------------------------------

static size_t pad_to(size_t off) { return (ALIGN - off % ALIGN) % ALIGN; }

// bytes of the whole file, or 0 when over the limit
static size_t file_size(const struct train_tensor *t, int n, size_t meta_len) {
    size_t off = HDR_BYTES + meta_len;
    for (int i = 0; i < n; i++) {
        off += 4 + strlen(t[i].name) + 4 + 4 * (size_t)t[i].rank + 8;
        off += pad_to(off);
        if (t[i].n > (TRAIN_CKPT_MAX_BYTES - off) / 4) return 0;
        off += t[i].n * 4;
    }
    off += 4;
    return off <= TRAIN_CKPT_MAX_BYTES ? off : 0;
}

static int check_tensors(const struct train_tensor *t, int n) {
    for (int i = 0; i < n; i++) {
        const char *nm = t[i].name;
        if (!nm || !nm[0]) return fh_fail(FH_E_ARG, "checkpoint: tensor %d has no name", i);
        if (strlen(nm) > TRAIN_CKPT_MAX_NAME)
            return fh_fail(FH_E_ARG, "checkpoint: tensor name '%.40s...' longer than %d", nm,
                           TRAIN_CKPT_MAX_NAME);
        if (t[i].rank < 0 || t[i].rank > FH_MAX_DIMS)
            return fh_fail(FH_E_ARG, "checkpoint: tensor '%s' has rank %d", nm, t[i].rank);
        size_t prod = 1;
        for (int d = 0; d < t[i].rank; d++) {
            if (t[i].dims[d] < 0)
                return fh_fail(FH_E_ARG, "checkpoint: tensor '%s' dim %d is %d", nm, d, t[i].dims[d]);
            if (t[i].dims[d] && prod > SIZE_MAX / (size_t)t[i].dims[d])
                return fh_fail(FH_E_LIMIT, "checkpoint: tensor '%s' too large", nm);
            prod *= (size_t)t[i].dims[d];
        }
        if (prod != t[i].n)
            return fh_fail(FH_E_ARG, "checkpoint: tensor '%s' has %zu values, its shape %zu", nm,
                           t[i].n, prod);
        if (t[i].n && !t[i].data)
            return fh_fail(FH_E_ARG, "checkpoint: tensor '%s' has no data", nm);
    }
    const char *dup;
    struct name_ix *ix = sort_names(&t[0].name, sizeof *t, n, &dup);
    if (!ix) return fh_fail(FH_E_NOMEM, "checkpoint: out of memory");
    fh_free(ix);
    if (dup) return fh_fail(FH_E_ARG, "checkpoint: tensor name '%s' appears twice", dup);
    return FH_OK;
}

struct writer {
    FILE *f;
    struct crc32 crc;
    int err;
};
static void w_bytes(struct writer *w, const void *p, size_t n) {
    if (w->err || !n) return;
    crc_add(&w->crc, p, n);
    if (fwrite(p, 1, n, w->f) != n) w->err = errno ? errno : EIO;
}

static int fsync_dir(const char *path) {
    char dir[4096];
    const char *slash = strrchr(path, '/');
    if (!slash) snprintf(dir, sizeof dir, ".");
    else if (slash == path) snprintf(dir, sizeof dir, "/");
    else snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd < 0) return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

int train_ckpt_save(const char *path, const struct train_tensor *t, int n,
                    const struct train_ckpt_info *info) {
    if (!path || !path[0] || !info || n < 0 || (n && !t))
        return fh_fail(FH_E_ARG, "checkpoint: bad arguments");
    if (n > TRAIN_CKPT_MAX_TENSORS)
        return fh_fail(FH_E_LIMIT, "checkpoint: %d tensors, limit %d", n, TRAIN_CKPT_MAX_TENSORS);
    if (strlen(path) > 4000) return fh_fail(FH_E_ARG, "checkpoint: path too long");
    const char *meta = info->meta ? info->meta : "";
    size_t meta_len = strlen(meta);
    if (meta_len > TRAIN_CKPT_MAX_META)
        return fh_fail(FH_E_ARG, "checkpoint: metadata is %zu bytes, limit %u", meta_len,
                       TRAIN_CKPT_MAX_META);
    int rc = check_tensors(t, n);
    if (rc) return rc;
    size_t total = file_size(t, n, meta_len);
    if (!total)
        return fh_fail(FH_E_LIMIT, "checkpoint: larger than %zu bytes", TRAIN_CKPT_MAX_BYTES);

    char tmp[4096 + 16];
    snprintf(tmp, sizeof tmp, "%s.tmpXXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) return fh_fail(FH_E_IO, "%s: cannot create a temporary file: %s", path, strerror(errno));
    struct writer w = {.f = fdopen(fd, "wb")};
    if (!w.f) {
        int e = errno;
        close(fd);
        unlink(tmp);
        return fh_fail(FH_E_IO, "%s: %s", tmp, strerror(e));
    }
    crc_init(&w.crc);
    uint8_t h[HDR_BYTES], zeros[ALIGN] = {0};
    memcpy(h, MAGIC, 8);
    put_u32(h + 8, TRAIN_CKPT_VERSION);
    put_u32(h + 12, (uint32_t)n);
    put_u64(h + 16, info->step);
    put_u64(h + 24, info->epoch);
    for (int i = 0; i < 4; i++) put_u64(h + 32 + 8 * i, info->rng.s[i]);
    put_u32(h + 64, (uint32_t)meta_len);
    w_bytes(&w, h, HDR_BYTES);
    w_bytes(&w, meta, meta_len);
    size_t off = HDR_BYTES + meta_len;
    for (int i = 0; i < n; i++) {
        uint8_t r[4 + 4 * FH_MAX_DIMS + 8];
        size_t len = strlen(t[i].name);
        put_u32(r, (uint32_t)len);
        w_bytes(&w, r, 4);
        w_bytes(&w, t[i].name, len);
        put_u32(r, (uint32_t)t[i].rank);
        for (int d = 0; d < t[i].rank; d++) put_u32(r + 4 + 4 * d, (uint32_t)t[i].dims[d]);
        put_u64(r + 4 + 4 * t[i].rank, t[i].n);
        w_bytes(&w, r, 4 + 4 * (size_t)t[i].rank + 8);
        off += 4 + len + 4 + 4 * (size_t)t[i].rank + 8;
        w_bytes(&w, zeros, pad_to(off));
        off += pad_to(off);
        w_bytes(&w, t[i].data, t[i].n * sizeof(float));
        off += t[i].n * sizeof(float);
    }
    uint8_t c[4];
    put_u32(c, crc_value(&w.crc));
    w_bytes(&w, c, 4);
    off += 4;
    if (!w.err && off != total) w.err = EIO; // a bug in file_size, never silently
    if (!w.err && fflush(w.f)) w.err = errno;
    if (!w.err && fsync(fileno(w.f))) w.err = errno;
    if (fclose(w.f) && !w.err) w.err = errno;
    if (!w.err && rename(tmp, path)) w.err = errno;
    if (w.err) {
        unlink(tmp);
        return fh_fail(FH_E_IO, "%s: write failed: %s", path, strerror(w.err));
    }
    if (fsync_dir(path)) return fh_fail(FH_E_IO, "%s: fsync of the directory: %s", path, strerror(errno));
    return FH_OK;
}

// ---- read ------------------------------------------------------------------------------------

struct train_ckpt {
    uint8_t *buf;
    size_t size;
    struct train_ckpt_info info;
    char *meta;
    int nt;
    struct train_tensor *t;
    char *names;             // NUL-terminated copies, t[i].name points here
    struct name_ix *sorted;  // by name, for find
};

void train_ckpt_free(struct train_ckpt *ck) {
    if (!ck) return;
    fh_free(ck->buf), fh_free(ck->meta), fh_free(ck->t), fh_free(ck->names), fh_free(ck->sorted);
    fh_free(ck);
}

// a bounds-checked cursor over the file
struct rd {
    const uint8_t *p;
    size_t off, end; // end = size - 4 (the checksum)
    const char *path;
};
static int rd_need(struct rd *r, size_t n, const char *what) {
    if (n > r->end - r->off)
        return fh_fail(FH_E_FORMAT, "%s: truncated or corrupt: %s at byte %zu needs %zu bytes, %zu left",
                       r->path, what, r->off, n, r->end - r->off);
    return FH_OK;
}

static int parse(struct train_ckpt *ck, const char *path) {
    struct rd r = {.p = ck->buf, .off = HDR_BYTES, .end = ck->size - 4, .path = path};
    const uint8_t *b = ck->buf;
    uint32_t nt = get_u32(b + 12), meta_len = get_u32(b + 64);
    ck->info.step = get_u64(b + 16);
    ck->info.epoch = get_u64(b + 24);
    for (int i = 0; i < 4; i++) ck->info.rng.s[i] = get_u64(b + 32 + 8 * i);
    if (meta_len > TRAIN_CKPT_MAX_META)
        return fh_fail(FH_E_FORMAT, "%s: metadata length %u over the limit", path, meta_len);
    if (rd_need(&r, meta_len, "metadata")) return FH_E_FORMAT;
    if (memchr(b + r.off, 0, meta_len))
        return fh_fail(FH_E_FORMAT, "%s: metadata holds a NUL byte", path);
    if (!(ck->meta = fh_malloc(meta_len + 1))) return fh_fail(FH_E_NOMEM, "%s: out of memory", path);
    memcpy(ck->meta, b + r.off, meta_len);
    ck->meta[meta_len] = 0;
    ck->info.meta = ck->meta;
    r.off += meta_len;
    // every record takes at least 4 + 1 + 4 + 8 bytes: bound the count before allocating
    if (nt > TRAIN_CKPT_MAX_TENSORS || nt > (r.end - r.off) / 17)
        return fh_fail(FH_E_FORMAT, "%s: %u tensors cannot fit in the file", path, nt);
    ck->t = fh_calloc(nt ? nt : 1, sizeof *ck->t);
    ck->names = fh_malloc(r.end - r.off + nt + 1); // names are bytes of the file, + NULs
    if (!ck->t || !ck->names) return fh_fail(FH_E_NOMEM, "%s: out of memory", path);
    size_t no = 0;
    for (uint32_t i = 0; i < nt; i++) {
        struct train_tensor *t = &ck->t[i];
        if (rd_need(&r, 4, "tensor name length")) return FH_E_FORMAT;
        uint32_t len = get_u32(b + r.off);
        r.off += 4;
        if (len == 0 || len > TRAIN_CKPT_MAX_NAME)
            return fh_fail(FH_E_FORMAT, "%s: tensor %u name length %u", path, i, len);
        if (rd_need(&r, len, "tensor name")) return FH_E_FORMAT;
        if (memchr(b + r.off, 0, len))
            return fh_fail(FH_E_FORMAT, "%s: tensor %u name holds a NUL byte", path, i);
        memcpy(ck->names + no, b + r.off, len);
        ck->names[no + len] = 0;
        t->name = ck->names + no;
        no += len + 1;
        r.off += len;
        if (rd_need(&r, 4, "tensor rank")) return FH_E_FORMAT;
        uint32_t rank = get_u32(b + r.off);
        r.off += 4;
        if (rank > FH_MAX_DIMS)
            return fh_fail(FH_E_FORMAT, "%s: tensor '%s' rank %u", path, t->name, rank);
        t->rank = (int)rank;
        if (rd_need(&r, 4 * (size_t)rank + 8, "tensor shape")) return FH_E_FORMAT;
        uint64_t prod = 1;
        for (uint32_t d = 0; d < rank; d++) {
            uint32_t v = get_u32(b + r.off + 4 * d);
            if (v > INT_MAX)
                return fh_fail(FH_E_FORMAT, "%s: tensor '%s' dim %u is %u", path, t->name, d, v);
            t->dims[d] = (int)v;
            prod = v && prod > TRAIN_CKPT_MAX_BYTES / v ? TRAIN_CKPT_MAX_BYTES + 1 : prod * v;
        }
        r.off += 4 * (size_t)rank;
        uint64_t count = get_u64(b + r.off);
        r.off += 8;
        if (count != prod)
            return fh_fail(FH_E_FORMAT, "%s: tensor '%s' count %llu does not match its shape",
                           path, t->name, (unsigned long long)count);
        size_t pad = pad_to(r.off);
        if (rd_need(&r, pad, "padding")) return FH_E_FORMAT;
        for (size_t k = 0; k < pad; k++)
            if (b[r.off + k]) return fh_fail(FH_E_FORMAT, "%s: non-zero padding before tensor '%s'", path, t->name);
        r.off += pad;
        if (count > (r.end - r.off) / 4)
            return fh_fail(FH_E_FORMAT, "%s: truncated or corrupt: tensor '%s' needs %llu floats, %zu bytes left",
                           path, t->name, (unsigned long long)count, r.end - r.off);
        t->n = (size_t)count;
        t->data = (float *)(ck->buf + r.off); // offset is a multiple of 64; buf from malloc
        r.off += t->n * 4;
    }
    if (r.off != r.end)
        return fh_fail(FH_E_FORMAT, "%s: %zu unexpected bytes after the last tensor", path, r.end - r.off);
    ck->nt = (int)nt;
    const char *dup;
    ck->sorted = sort_names(&ck->t[0].name, sizeof *ck->t, ck->nt, &dup);
    if (!ck->sorted) return fh_fail(FH_E_NOMEM, "%s: out of memory", path);
    if (dup) return fh_fail(FH_E_FORMAT, "%s: tensor name '%s' appears twice", path, dup);
    return FH_OK;
}

int train_ckpt_read(const char *path, struct train_ckpt **out) {
    *out = NULL;
    uint8_t *buf;
    size_t n;
    int rc = fh_read_file(path, TRAIN_CKPT_MAX_BYTES, &buf, &n);
    if (rc) return rc;
    if (n < sizeof MAGIC || memcmp(buf, MAGIC, sizeof MAGIC)) {
        fh_free(buf);
        return fh_fail(FH_E_FORMAT, "%s: not a facehatch checkpoint (bad magic)", path);
    }
    if (n < HDR_BYTES + 4) {
        fh_free(buf);
        return fh_fail(FH_E_FORMAT, "%s: truncated: %zu bytes, a header needs %d", path, n,
                       HDR_BYTES + 4);
    }
    struct crc32 crc;
    crc_init(&crc);
    crc_add(&crc, buf, n - 4);
    if (crc_value(&crc) != get_u32(buf + n - 4)) {
        fh_free(buf);
        return fh_fail(FH_E_FORMAT, "%s: checksum mismatch (corrupt or truncated file)", path);
    }
    uint32_t version = get_u32(buf + 8);
    if (version != TRAIN_CKPT_VERSION) {
        fh_free(buf);
        return fh_fail(FH_E_UNSUPPORTED, "%s: checkpoint version %u, this build reads %d", path,
                       version, TRAIN_CKPT_VERSION);
    }
    struct train_ckpt *ck = fh_calloc(1, sizeof *ck);
    if (!ck) {
        fh_free(buf);
        return fh_fail(FH_E_NOMEM, "%s: out of memory", path);
    }
    ck->buf = buf, ck->size = n;
    rc = parse(ck, path);
    if (rc) {
        train_ckpt_free(ck);
        return rc;
    }
    *out = ck;
    return FH_OK;
}

void train_ckpt_get_info(const struct train_ckpt *ck, struct train_ckpt_info *out) { *out = ck->info; }
int train_ckpt_n_tensors(const struct train_ckpt *ck) { return ck->nt; }

int train_ckpt_tensor(const struct train_ckpt *ck, int i, struct train_tensor *out) {
    if (i < 0 || i >= ck->nt) return fh_fail(FH_E_ARG, "checkpoint: tensor %d out of range", i);
    *out = ck->t[i];
    return FH_OK;
}

int train_ckpt_find(const struct train_ckpt *ck, const char *name) {
    int lo = 0, hi = ck->nt - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2, c = strcmp(ck->sorted[mid].name, name);
        if (!c) return ck->sorted[mid].i;
        if (c < 0) lo = mid + 1;
        else hi = mid - 1;
    }
    return -1;
}

int train_ckpt_restore(const struct train_ckpt *ck, const struct train_tensor *t, int n,
                       int exact) {
    if (n < 0 || (n && !t)) return fh_fail(FH_E_ARG, "checkpoint: bad target list");
    uint8_t *used = fh_calloc(ck->nt ? (size_t)ck->nt : 1, 1);
    if (!used) return fh_fail(FH_E_NOMEM, "checkpoint: out of memory");
    int rc = FH_OK;
    char s1[96], s2[96];
    for (int i = 0; i < n && !rc; i++) {
        const char *nm = t[i].name ? t[i].name : "";
        fmt_shape(s2, sizeof s2, t[i].rank, t[i].dims);
        int k = train_ckpt_find(ck, nm);
        if (k < 0) {
            rc = fh_fail(FH_E_ARG, "checkpoint has no tensor '%s' (net %s)", nm, s2);
            break;
        }
        const struct train_tensor *f = &ck->t[k];
        int same = f->rank == t[i].rank && f->n == t[i].n;
        for (int d = 0; same && d < f->rank; d++) same = f->dims[d] == t[i].dims[d];
        if (!same) {
            fmt_shape(s1, sizeof s1, f->rank, f->dims);
            rc = fh_fail(FH_E_ARG, "tensor '%s': checkpoint %s, net %s", nm, s1, s2);
        } else if (t[i].n && !t[i].data) {
            rc = fh_fail(FH_E_ARG, "tensor '%s': no target data", nm);
        }
        used[k] = 1;
    }
    for (int k = 0; exact && !rc && k < ck->nt; k++)
        if (!used[k]) {
            fmt_shape(s1, sizeof s1, ck->t[k].rank, ck->t[k].dims);
            rc = fh_fail(FH_E_ARG, "checkpoint tensor '%s' %s is not in the net", ck->t[k].name, s1);
        }
    fh_free(used);
    if (rc) return rc;
    for (int i = 0; i < n; i++) {
        const struct train_tensor *f = &ck->t[train_ckpt_find(ck, t[i].name)];
        if (f->n) memcpy(t[i].data, f->data, f->n * sizeof(float));
    }
    return FH_OK;
}

int train_meta_get(const char *meta, const char *key, char *out, size_t cap) {
    size_t kl = strlen(key);
    for (const char *p = meta ? meta : ""; *p;) {
        const char *eol = strchr(p, '\n');
        size_t ll = eol ? (size_t)(eol - p) : strlen(p);
        if (ll > kl && !strncmp(p, key, kl) && p[kl] == '=') {
            size_t vl = ll - kl - 1;
            if (vl && p[kl + 1 + vl - 1] == '\r') vl--;
            if (vl + 1 > cap) return fh_fail(FH_E_LIMIT, "metadata: value of '%s' is too long", key);
            memcpy(out, p + kl + 1, vl);
            out[vl] = 0;
            return FH_OK;
        }
        p += ll + (eol ? 1 : 0);
    }
    return fh_fail(FH_E_NOTFOUND, "metadata: no key '%s'", key);
}
