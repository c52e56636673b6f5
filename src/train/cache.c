// SPDX-License-Identifier: MIT
// train/cache: the on-disk crop cache, one checksummed file per image (layout in data_int.h).
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/base.h"
#include "train/data_int.h"

static const char MAGIC[8] = {'F', 'H', 'C', 'R', 'O', 'P', '0', '1'};

static uint64_t fnv64(uint64_t h, const uint8_t *p, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        h = (h ^ w) * 0x100000001b3ull;
    }
    for (; i < n; i++) h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

void train_cache_path(const char *dir, const char *key, char *path, size_t n) {
    char hex[65];
    fh_sha256_hex(key, strlen(key), hex);
    snprintf(path, n, "%s/%s.fhcrop", dir, hex);
}

static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static uint32_t get32(const uint8_t *p) {
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static size_t read_full(int fd, uint8_t *p, size_t n) {
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, p + got, n - got);
        if (r <= 0) break;
        got += (size_t)r;
    }
    return got;
}

int train_cache_read(const char *path, const char *key, struct train_cache_entry *e, uint8_t *pixels) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    uint8_t h[TRAIN_CACHE_HEADER], keyh[32], msg[160];
    int ok = -1;
    struct stat st;
    if (fstat(fd, &st) || read_full(fd, h, sizeof h) != sizeof h) goto done;
    fh_sha256(key, strlen(key), keyh);
    uint32_t reason = get32(h + 40), side = get32(h + 48), msg_len = get32(h + 52);
    if (memcmp(h, MAGIC, 8) || memcmp(h + 8, keyh, 32) || reason >= TRAIN_SKIP_COUNT ||
        msg_len >= sizeof msg || (side != 0 && side != TRAIN_PADDED) ||
        (side == 0) != (reason != TRAIN_SKIP_NONE))
        goto done;
    size_t npix = side ? TRAIN_PADDED_BYTES : 0;
    if ((size_t)st.st_size != sizeof h + msg_len + npix) goto done;
    if (read_full(fd, msg, msg_len) != msg_len || (npix && read_full(fd, pixels, npix) != npix)) goto done;
    uint64_t sum, want;
    memcpy(&want, h + 120, 8);
    sum = fnv64(0xcbf29ce484222325ull, h, 120);
    sum = fnv64(sum, msg, msg_len);
    if (npix) sum = fnv64(sum, pixels, npix);
    if (sum != want) goto done;
    e->reason = (int)reason;
    e->n_faces = (int)get32(h + 44);
    memcpy(&e->score, h + 56, 4);
    memcpy(e->box, h + 60, 16);
    memcpy(e->landmarks, h + 76, 40);
    memcpy(e->msg, msg, msg_len);
    e->msg[msg_len] = 0;
    ok = 1;
done:
    close(fd);
    return ok;
}

int train_cache_write(const char *path, const char *key, const struct train_cache_entry *e,
                      const uint8_t *pixels) {
    uint8_t h[TRAIN_CACHE_HEADER] = {0};
    size_t msg_len = strnlen(e->msg, sizeof e->msg - 1);
    memcpy(h, MAGIC, 8);
    fh_sha256(key, strlen(key), h + 8);
    put32(h + 40, (uint32_t)e->reason);
    put32(h + 44, (uint32_t)e->n_faces);
    put32(h + 48, pixels ? TRAIN_PADDED : 0);
    put32(h + 52, (uint32_t)msg_len);
    memcpy(h + 56, &e->score, 4);
    memcpy(h + 60, e->box, 16);
    memcpy(h + 76, e->landmarks, 40);
    uint64_t sum = fnv64(0xcbf29ce484222325ull, h, 120);
    sum = fnv64(sum, (const uint8_t *)e->msg, msg_len);
    if (pixels) sum = fnv64(sum, pixels, TRAIN_PADDED_BYTES);
    memcpy(h + 120, &sum, 8);

    char tmp[4200];
    int len = snprintf(tmp, sizeof tmp, "%s.tmp.XXXXXX", path);
    if (len < 0 || (size_t)len >= sizeof tmp) return fh_fail(FH_E_IO, "cache: path too long: %s", path);
    int fd = mkstemp(tmp);
    if (fd < 0) return fh_fail(FH_E_IO, "cache: cannot create %s", tmp);
    FILE *f = fdopen(fd, "wb");
    if (!f) {
        close(fd), unlink(tmp);
        return fh_fail(FH_E_IO, "cache: cannot open %s", tmp);
    }
    int bad = fwrite(h, 1, sizeof h, f) != sizeof h;
    bad |= fwrite(e->msg, 1, msg_len, f) != msg_len;
    if (pixels) bad |= fwrite(pixels, 1, TRAIN_PADDED_BYTES, f) != TRAIN_PADDED_BYTES;
    bad |= fclose(f) != 0;
    if (bad || rename(tmp, path)) {
        unlink(tmp);
        return fh_fail(FH_E_IO, "cache: cannot write %s", path);
    }
    return FH_OK;
}
