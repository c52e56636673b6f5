// SPDX-License-Identifier: MIT
// train/ckpt: save -> read -> restore round trip (bit-identical), the file truncated at
// every offset and every byte flipped (FH_E_FORMAT, never a crash), structurally bad
// files with a valid checksum (each length checked), wrong magic, other versions,
// restore into a different net (FH_E_ARG naming the tensor and both shapes, nothing
// copied), atomic overwrite (a failed save leaves the old file and no temporary), and
// resume identity: SGD run 5 steps == 3 steps, checkpoint, restore, 2 steps.
#include <dirent.h>
#include <string.h>
#include <unistd.h>

#include "base/base.h"
#include "harness.h"
#include "train/ckpt.h"
#include "train/optim.h"

static char dir[64], path[128];

static int write_bytes(const char *p, const uint8_t *b, size_t n) {
    FILE *f = fopen(p, "wb");
    if (!f) return -1;
    size_t w = fwrite(b, 1, n, f);
    return fclose(f) || w != n ? -1 : 0;
}

// independent bitwise CRC-32 (IEEE), to forge files whose checksum is right
static uint32_t crc32_bitwise(const uint8_t *b, size_t n) {
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= b[i];
        for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1)));
    }
    return ~c;
}
static void fix_crc(uint8_t *b, size_t n) {
    uint32_t c = crc32_bitwise(b, n - 4);
    for (int i = 0; i < 4; i++) b[n - 4 + i] = (uint8_t)(c >> (8 * i));
}
static void put32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}

// read a mutated copy: the status
static int read_bytes(const uint8_t *b, size_t n) {
    char p[160];
    snprintf(p, sizeof p, "%s/mut.fhck", dir);
    if (write_bytes(p, b, n)) return 99;
    struct train_ckpt *ck;
    int rc = train_ckpt_read(p, &ck);
    train_ckpt_free(ck);
    return rc;
}

static int count_files(void) {
    DIR *d = opendir(dir);
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));)
        if (e->d_name[0] != '.') n++;
    if (d) closedir(d);
    return n;
}

// ---- the tensors of a tiny "net" --------------------------------------------------------
static float w_conv[4 * 3 * 3 * 2], w_mean[4], w_head[5 * 7], w_scalar[1];
static struct train_tensor T[5] = {
    {"conv0.w", 4, {4, 3, 3, 2}, 72, w_conv},
    {"bn1.mean", 1, {4}, 4, w_mean},
    {"head.w", 2, {5, 7}, 35, w_head},
    {"lr_scale", 0, {0}, 1, w_scalar},
    {"empty", 1, {0}, 0, NULL},
};
#define NT 5
static const char *META = "arch=tiny\nloss=arcface\nlr=0.1\r\nsteps=1000\n";

static void fill(void) {
    struct train_rng r;
    train_rng_seed(&r, 5);
    for (int i = 0; i < NT; i++)
        for (size_t k = 0; k < T[i].n; k++) T[i].data[k] = (float)train_rng_normal(&r);
}

static uint8_t *file_bytes(const char *p, size_t *n) {
    uint8_t *b;
    return fh_read_file(p, 1 << 20, &b, n) ? NULL : b;
}

static void test_roundtrip(struct train_ckpt_info *in) {
    TEST_COND("save", train_ckpt_save(path, T, NT, in) == FH_OK);
    TEST_COND("save leaves exactly one file (no temporary)", count_files() == 1);
    struct train_ckpt *ck;
    int rc = train_ckpt_read(path, &ck);
    TEST_COND("read", rc == FH_OK);
    if (rc) {
        printf("# %s\n", fh_errmsg());
        return;
    }
    struct train_ckpt_info out;
    train_ckpt_get_info(ck, &out);
    TEST_COND("step, epoch, rng state and metadata come back",
              out.step == in->step && out.epoch == in->epoch &&
                  !memcmp(&out.rng, &in->rng, sizeof out.rng) && !strcmp(out.meta, META));
    int same = train_ckpt_n_tensors(ck) == NT;
    for (int i = 0; same && i < NT; i++) {
        struct train_tensor t;
        train_ckpt_tensor(ck, i, &t);
        same = !strcmp(t.name, T[i].name) && t.rank == T[i].rank && t.n == T[i].n &&
               !memcmp(t.dims, T[i].dims, sizeof(int) * (size_t)t.rank) &&
               (!t.n || !memcmp(t.data, T[i].data, t.n * sizeof(float))) &&
               ((uintptr_t)t.data % 16 == 0 || !t.n);
    }
    TEST_COND("tensors come back in order, bit-identical, aligned", same);
    TEST_COND("find by name", train_ckpt_find(ck, "head.w") == 2 && train_ckpt_find(ck, "nope") == -1);
    // restore into zeroed buffers
    float c[72] = {0}, m[4] = {0}, h[35] = {0}, s[1] = {0};
    struct train_tensor dst[NT];
    memcpy(dst, T, sizeof dst);
    dst[0].data = c, dst[1].data = m, dst[2].data = h, dst[3].data = s;
    rc = train_ckpt_restore(ck, dst, NT, 1);
    TEST_COND("restore (exact) is bit-identical",
              rc == FH_OK && !memcmp(c, w_conv, sizeof c) && !memcmp(m, w_mean, sizeof m) &&
                  !memcmp(h, w_head, sizeof h) && s[0] == w_scalar[0]);

    // a different net: head [6, 7] instead of [5, 7]; nothing may be copied
    memset(c, 0, sizeof c);
    float h2[42] = {0};
    dst[2].dims[0] = 6, dst[2].n = 42, dst[2].data = h2;
    rc = train_ckpt_restore(ck, dst, NT, 1);
    printf("# %s\n", fh_errmsg());
    TEST_COND("restore: shape mismatch is FH_E_ARG naming the tensor and both shapes",
              rc == FH_E_ARG && strstr(fh_errmsg(), "head.w") && strstr(fh_errmsg(), "[5,7]") &&
                  strstr(fh_errmsg(), "[6,7]"));
    int zero = 1;
    for (int i = 0; i < 72; i++) zero &= c[i] == 0;
    TEST_COND("restore: nothing copied on a mismatch (not even earlier tensors)", zero);
    dst[2] = T[2], dst[2].data = h;
    dst[1].name = "bn1.var";
    rc = train_ckpt_restore(ck, dst, NT, 0);
    printf("# %s\n", fh_errmsg());
    TEST_COND("restore: missing tensor is FH_E_ARG naming it",
              rc == FH_E_ARG && strstr(fh_errmsg(), "bn1.var"));
    rc = train_ckpt_restore(ck, dst + 2, 2, 1);
    printf("# %s\n", fh_errmsg());
    TEST_COND("restore exact: an extra checkpoint tensor is FH_E_ARG naming it",
              rc == FH_E_ARG && strstr(fh_errmsg(), "conv0.w"));
    TEST_COND("restore non-exact: a subset is fine", train_ckpt_restore(ck, dst + 2, 2, 0) == FH_OK);

    char v[32];
    TEST_COND("meta: lr", train_meta_get(out.meta, "lr", v, sizeof v) == FH_OK && !strcmp(v, "0.1"));
    TEST_COND("meta: arch", train_meta_get(out.meta, "arch", v, sizeof v) == FH_OK && !strcmp(v, "tiny"));
    TEST_COND("meta: a prefix is not a key", train_meta_get(out.meta, "l", v, sizeof v) == FH_E_NOTFOUND);
    TEST_COND("meta: too small a buffer", train_meta_get(out.meta, "arch", v, 3) == FH_E_LIMIT);
    train_ckpt_free(ck);
}

static void test_corrupt(void) {
    size_t n;
    uint8_t *b = file_bytes(path, &n), *m = fh_malloc(n + 16);
    if (!b || !m) {
        TEST_COND("read the checkpoint bytes", 0);
        return;
    }
    printf("# checkpoint file: %zu bytes\n", n);
    int bad = 0;
    for (size_t cut = 0; cut < n; cut++)
        if (read_bytes(b, cut) != FH_E_FORMAT) bad++;
    TEST_COND("truncated at every offset: FH_E_FORMAT", bad == 0);
    bad = 0;
    for (size_t i = 0; i < n; i++)
        for (int f = 0; f < 2; f++) {
            memcpy(m, b, n);
            m[i] ^= f ? 0xFF : 0x01;
            if (read_bytes(m, n) != FH_E_FORMAT) bad++;
        }
    TEST_COND("every byte flipped (two ways): FH_E_FORMAT", bad == 0);
    memcpy(m, b, n);
    memset(m + n, 0, 16);
    TEST_COND("bytes appended: FH_E_FORMAT", read_bytes(m, n + 16) == FH_E_FORMAT);
    TEST_COND("wrong magic: FH_E_FORMAT saying so",
              read_bytes((const uint8_t *)"PK\3\4 this is a zip file, not ours....", 38) == FH_E_FORMAT &&
                  strstr(fh_errmsg(), "magic"));

    // valid checksum, bad structure: every length is checked before use
    struct {
        size_t off;
        uint32_t v;
        const char *what;
    } forge[] = {
        {12, 0xFFFFFFFFu, "n_tensors 2^32-1"}, {12, NT + 1, "n_tensors one too many"},
        {12, NT - 1, "n_tensors one too few"}, {64, 0xFFFFFFF0u, "meta_len huge"},
        {64, 0, "meta_len 0 (then garbage)"},
    };
    size_t meta_len = strlen(META), rec0 = 68 + meta_len; // first record: name length
    for (size_t i = 0; i < sizeof forge / sizeof *forge; i++) {
        memcpy(m, b, n);
        put32(m + forge[i].off, forge[i].v);
        fix_crc(m, n);
        int rc = read_bytes(m, n);
        printf("# %s: %s\n", forge[i].what, fh_errmsg());
        char d[96];
        snprintf(d, sizeof d, "forged %s (valid CRC): FH_E_FORMAT", forge[i].what);
        TEST_COND(d, rc == FH_E_FORMAT);
    }
    uint32_t forge_rec[][2] = {{0, 0},           {0, 0xFFFFFFFFu}, {0, 256},
                               {4 + 7, 7},       {4 + 7, 0xFFFFFFFFu},
                               {4 + 7 + 4, 0x7FFFFFFF}, {4 + 7 + 4 + 16, 73}, {4 + 7 + 4 + 16 + 4, 1}};
    const char *what_rec[] = {"name length 0", "name length huge", "name length 256", "rank 7",
                              "rank huge", "dim huge", "count != shape", "count high word"};
    for (size_t i = 0; i < sizeof forge_rec / sizeof *forge_rec; i++) {
        memcpy(m, b, n);
        put32(m + rec0 + forge_rec[i][0], forge_rec[i][1]);
        fix_crc(m, n);
        int rc = read_bytes(m, n);
        printf("# %s: %s\n", what_rec[i], fh_errmsg());
        char d[96];
        snprintf(d, sizeof d, "forged %s (valid CRC): FH_E_FORMAT", what_rec[i]);
        TEST_COND(d, rc == FH_E_FORMAT);
    }
    memcpy(m, b, n);
    m[rec0 + 4 + 7 + 4 + 16 + 8] = 1; // a padding byte
    fix_crc(m, n);
    TEST_COND("forged non-zero padding: FH_E_FORMAT", read_bytes(m, n) == FH_E_FORMAT);
    memcpy(m, b, n);
    uint8_t *nm = memmem(m, n, "lr_scale", 8);
    if (nm) memcpy(nm, "bn1.mean", 8); // same length: a second "bn1.mean"
    fix_crc(m, n);
    TEST_COND("forged duplicate name (valid CRC): FH_E_FORMAT",
              nm && read_bytes(m, n) == FH_E_FORMAT && strstr(fh_errmsg(), "twice"));
    memcpy(m, b, n);
    put32(m + 8, 2);
    fix_crc(m, n);
    TEST_COND("version 2 (valid CRC): FH_E_UNSUPPORTED", read_bytes(m, n) == FH_E_UNSUPPORTED);
    // random mutations with a fixed checksum: any status, never a crash (run under valgrind/ASan)
    struct train_rng r;
    train_rng_seed(&r, 11);
    int ok = 1;
    for (int it = 0; it < 3000; it++) {
        memcpy(m, b, n);
        int k = 1 + (int)train_rng_below(&r, 4);
        for (int j = 0; j < k; j++) m[train_rng_below(&r, (uint32_t)(n - 4))] = (uint8_t)train_rng_u32(&r);
        fix_crc(m, n);
        int rc = read_bytes(m, n);
        if (rc != FH_OK && rc != FH_E_FORMAT && rc != FH_E_UNSUPPORTED) ok = 0;
    }
    TEST_COND("3000 random mutations with a valid CRC: OK or FH_E_FORMAT/UNSUPPORTED", ok);
    fh_free(b), fh_free(m);
    char p[160];
    snprintf(p, sizeof p, "%s/mut.fhck", dir);
    unlink(p);
    struct train_ckpt *ck;
    snprintf(p, sizeof p, "%s/missing.fhck", dir);
    TEST_COND("missing file: FH_E_IO", train_ckpt_read(p, &ck) == FH_E_IO && !ck);
}

static void test_atomic(struct train_ckpt_info *in) {
    size_t n0, n1;
    uint8_t *before = file_bytes(path, &n0);
    struct train_tensor dup[2] = {T[0], T[0]};
    TEST_COND("save with a duplicate name: FH_E_ARG",
              train_ckpt_save(path, dup, 2, in) == FH_E_ARG && strstr(fh_errmsg(), "conv0.w"));
    struct train_tensor badn = T[0];
    badn.n = 71;
    TEST_COND("save with n != shape: FH_E_ARG", train_ckpt_save(path, &badn, 1, in) == FH_E_ARG);
    uint8_t *after = file_bytes(path, &n1);
    TEST_COND("a failed save leaves the old file intact and no temporary",
              before && after && n0 == n1 && !memcmp(before, after, n0) && count_files() == 1);
    fh_free(before), fh_free(after);
    char p[160];
    snprintf(p, sizeof p, "%s/no/such/dir/x.fhck", dir);
    TEST_COND("save into a missing directory: FH_E_IO", train_ckpt_save(p, T, NT, in) == FH_E_IO);
    // overwrite with new content: the new file is complete
    w_head[0] += 1;
    TEST_COND("overwrite", train_ckpt_save(path, T, NT, in) == FH_OK && count_files() == 1);
    struct train_ckpt *ck;
    struct train_tensor t;
    int ok = train_ckpt_read(path, &ck) == FH_OK && train_ckpt_tensor(ck, 2, &t) == FH_OK &&
             t.data[0] == w_head[0];
    train_ckpt_free(ck);
    TEST_COND("overwrite: the new values are read back", ok);
}

// ---- resume identity with the optimizer ------------------------------------------------
#define PN 13
static void grad(const float *w, float *g, int step) {
    for (int i = 0; i < PN; i++) g[i] = w[i] * w[i] * 0.5f - 0.1f * (float)(i - step);
}
static void sgd_run(float *w, float *g, struct train_sgd *s, int from, int to) {
    struct train_sched sc = {.kind = TRAIN_SCHED_COSINE, .lr = 0.1f, .warmup = 2, .total = 5, .floor = 0.01f};
    for (int step = from; step < to; step++) {
        grad(w, g, step);
        train_sgd_step(s, train_sched_lr(&sc, step), NULL);
    }
}
static void test_resume(void) {
    float wa[PN], ga[PN], wb[PN], gb[PN];
    for (int i = 0; i < PN; i++) wa[i] = wb[i] = (float)i / PN - 0.4f;
    struct train_param pa = {"p", wa, ga, PN, 1}, pb = {"p", wb, gb, PN, 1};
    struct train_sgd_opts o = {.momentum = 0.9f, .weight_decay = 1e-2f, .clip_norm = 0.5f};
    struct train_sgd *sa, *sb;
    train_sgd_new(&pa, 1, &o, &sa);
    sgd_run(wa, ga, sa, 0, 3);
    struct train_tensor t[2] = {{"p", 1, {PN}, PN, wa}};
    train_sgd_state(sa, 0, &t[1]);
    struct train_ckpt_info in = {.step = 3};
    int rc = train_ckpt_save(path, t, 2, &in);
    sgd_run(wa, ga, sa, 3, 5); // uninterrupted

    train_sgd_new(&pb, 1, &o, &sb);
    struct train_ckpt *ck;
    struct train_tensor u[2] = {{"p", 1, {PN}, PN, wb}};
    train_sgd_state(sb, 0, &u[1]);
    rc |= train_ckpt_read(path, &ck);
    if (!rc) rc = train_ckpt_restore(ck, u, 2, 1);
    struct train_ckpt_info out = {0};
    if (!rc) train_ckpt_get_info(ck, &out);
    train_ckpt_free(ck);
    sgd_run(wb, gb, sb, (int)out.step, 5);
    TEST_COND("resume: 3 steps + checkpoint + 2 steps == 5 steps, bit-identical",
              rc == FH_OK && out.step == 3 && !memcmp(wa, wb, sizeof wa));
    train_sgd_free(sa), train_sgd_free(sb);
}

int main(void) {
    snprintf(dir, sizeof dir, "/tmp/fh_ckpt_XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 2;
    }
    snprintf(path, sizeof path, "%s/run.fhck", dir);
    fill();
    struct train_ckpt_info in = {.step = 12345678901ull, .epoch = 7, .meta = META};
    train_rng_seed(&in.rng, 9);
    train_rng_u64(&in.rng);
    test_roundtrip(&in);
    test_corrupt();
    test_atomic(&in);
    test_resume();
    unlink(path);
    rmdir(dir);
    return TEST_REPORT();
}
