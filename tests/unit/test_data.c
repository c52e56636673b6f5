// SPDX-License-Identifier: MIT
// train/data: identity folders of real CelebA images (../shared/data/celeba200, train + test
// merged, 3 identities) detected, aligned and cached; the cache hit, a damaged entry
// recomputed; deterministic augmentation; the samplers; bad input reported per file.
#define _XOPEN_SOURCE 700
#include <fcntl.h>
#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/base.h"
#include "base/pool.h"
#include "harness.h"
#include "img/img.h"
#include "pipeline/facehatch.h"
#include "train/data.h"

#define CELEBA FH_SHARED "/data/celeba200"

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw) {
    return remove(p);
}
static void rm_rf(const char *dir) { nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS); }

static int write_bytes(const char *path, const void *p, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    int bad = fwrite(p, 1, n, f) != n;
    return fclose(f) || bad ? -1 : 0;
}

static int count_reason(const struct train_dataset *d, int reason, const char *suffix) {
    int c = 0;
    for (int i = 0; i < d->n_skipped; i++) {
        size_t lp = strlen(d->skipped[i].path), ls = strlen(suffix);
        if (d->skipped[i].reason == reason && lp >= ls && !strcmp(d->skipped[i].path + lp - ls, suffix)) c++;
    }
    return c;
}

// one cache file of dir, the n-th in readdir order
static int cache_file(const char *dir, int nth, char *path, size_t n) {
    char cmd[512];
    snprintf(cmd, sizeof cmd, "ls %s/*.fhcrop | sed -n %dp", dir, nth + 1);
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    int ok = fgets(path, (int)n, p) != NULL;
    pclose(p);
    if (!ok) return -1;
    path[strcspn(path, "\n")] = 0;
    return 0;
}

static struct fh_models *models;

struct prog {
    int calls, last_done, total, monotone;
};
static void on_progress(void *arg, int done, int total) {
    struct prog *p = arg;
    p->monotone &= done >= p->last_done && done <= total;
    p->calls++, p->last_done = done, p->total = total;
}
static char tmp[256];

static void test_real(void) {
    const char *roots[] = {CELEBA "/train", CELEBA "/test"};
    char cache[300];
    snprintf(cache, sizeof cache, "%s/cache/crops", tmp);   // parents created by the load
    struct train_data_options o = train_data_options_default();
    o.roots = roots, o.n_roots = 2, o.id_first = 0, o.id_last = 2, o.cache_dir = cache, o.n_threads = 2;
    struct train_dataset a, b, c;
    struct prog pr = {.monotone = 1};
    o.progress = on_progress, o.progress_arg = &pr;
    int rc = train_dataset_load(models, &o, &a);
    o.progress = NULL;
    if (rc) printf("# %s\n", fh_errmsg());
    TEST_COND("3 CelebA identities (train + test merged) load", rc == FH_OK);
    if (rc) {
        train_dataset_free(&a);
        return;
    }
    printf("# %d files, %d usable, %d skipped, %.0f ms (detect + align, 2 threads)\n", a.n_files,
           a.n, a.n_skipped, a.load_ms);
    for (int i = 0; i < a.n_skipped; i++)
        printf("#   skipped %s: %s (%s)\n", a.skipped[i].path, train_skip_name(a.skipped[i].reason), a.skipped[i].msg);
    TEST_COND("90 files scanned, every one usable or reported", a.n_files == 90 && a.n + a.n_skipped == 90);
    TEST_COND("most CelebA images have a face (>= 85 of 90)", a.n >= 85);
    TEST_COND("natural order: labels celeb_0, celeb_1, celeb_2", a.n_ids == 3 &&
              !strcmp(a.id_names[0], "celeb_0") && !strcmp(a.id_names[1], "celeb_1") &&
              !strcmp(a.id_names[2], "celeb_2"));
    int sorted = a.id_start[0] == 0 && a.id_start[3] == a.n;
    for (int i = 0; i < a.n; i++)
        sorted &= a.images[i].label >= 0 && a.images[i].label < 3 && i >= a.id_start[a.images[i].label] &&
                  i < a.id_start[a.images[i].label + 1] && strstr(a.images[i].path, a.id_names[a.images[i].label]);
    TEST_COND("images grouped by label, paths in their identity folder", sorted);
    TEST_COND("progress reported on the caller's thread, ending at 90 of 90",
              pr.calls >= 2 && pr.monotone && pr.last_done == 90 && pr.total == 90);
    TEST_COND("first load: every file computed", a.cache_misses == 90 && a.cache_hits == 0 && a.cache_corrupt == 0);

    // the centre of the padded crop is the aligned crop of the pipeline (fh_detect + fh_align)
    struct img im = {0}, ref = {0}, mine = {0};
    int same = 0, maxd = 99;
    struct fh_engine *e = NULL;
    if (!fh_engine_new(models, 1, &e) && !fh_image_load(a.images[0].path, &im) && !img_alloc(&mine, 112, 112, 3)) {
        struct fh_face *f;
        int n;
        if (!fh_detect(e, &im, &o.det, &f, &n) && n >= 1) {
            int k = 0;   // the face the loader chose: same box
            for (int i = 0; i < n; i++)
                if (!memcmp(f[i].box, a.images[0].box, sizeof f[i].box)) k = i;
            if (!fh_align(&im, &f[k], &ref)) {
                train_dataset_crop112(&a, 0, &mine);
                maxd = 0;
                for (size_t i = 0; i < (size_t)112 * 112 * 3; i++) {
                    int dd = abs(ref.data[i] - mine.data[i]);
                    same += dd == 0;
                    if (dd > maxd) maxd = dd;
                }
            }
        }
    }
    printf("# centre crop vs fh_align: %d of %d bytes equal, max diff %d\n", same, 112 * 112 * 3, maxd);
    TEST_COND("centre 112x112 of the padded crop = fh_align's crop (<= 1 level)", maxd <= 1 && same > 112 * 112 * 3 * 99 / 100);
    img_free(&im), img_free(&ref), img_free(&mine);
    fh_engine_free(e);

    rc = train_dataset_load(models, &o, &b);
    printf("# reload from cache: %.0f ms (first load %.0f ms)\n", b.load_ms, a.load_ms);
    TEST_COND("second load: all 90 from the cache", !rc && b.cache_hits == 90 && b.cache_misses == 0);
    TEST_COND("second load is faster (< 1/3 of the first)", !rc && b.load_ms * 3 < a.load_ms);
    TEST_COND("cached crops, labels and skips equal the computed ones", !rc && b.n == a.n &&
              b.n_skipped == a.n_skipped && !memcmp(a.crops, b.crops, (size_t)a.n * TRAIN_PADDED_BYTES) &&
              !memcmp(a.id_start, b.id_start, sizeof *a.id_start * 4));
    train_dataset_free(&b);

    // damage two entries: one byte flipped in the pixels, one truncated
    char p1[512], p2[512];
    int damaged = 0;
    if (!cache_file(cache, 3, p1, sizeof p1) && !cache_file(cache, 7, p2, sizeof p2)) {
        int fd = open(p1, O_RDWR);
        unsigned char ch;
        if (fd >= 0 && pread(fd, &ch, 1, 5000) == 1) {
            ch ^= 0x40;
            damaged += pwrite(fd, &ch, 1, 5000) == 1;
        }
        if (fd >= 0) close(fd);
        damaged += truncate(p2, 1000) == 0;
    }
    rc = train_dataset_load(models, &o, &c);
    TEST_COND("damaged entries detected and recomputed", damaged == 2 && !rc && c.cache_corrupt == 2 &&
              c.cache_misses == 2 && c.cache_hits == 88);
    TEST_COND("recomputed crops equal the first ones", !rc && c.n == a.n &&
              !memcmp(a.crops, c.crops, (size_t)a.n * TRAIN_PADDED_BYTES));
    train_dataset_free(&c);

    // ---- augmentation ----
    enum { B = 8 };
    size_t nf = B * TRAIN_SAMPLE_FLOATS;
    float *x1 = malloc(nf * sizeof *x1), *x2 = malloc(nf * sizeof *x2), *x3 = malloc(nf * sizeof *x3);
    int items[B], y[B];
    for (int k = 0; k < B; k++) items[k] = (k * 11) % a.n;
    struct train_aug aug = train_aug_default();
    aug.p_blur = 0.5f;   // make blur happen in a batch of 8
    struct fh_pool *pool = fh_pool_new(2);
    int ok = !train_batch_fill(&a, &aug, 7, 3, items, B, 100, NULL, x1, y) &&
             !train_batch_fill(&a, &aug, 7, 3, items, B, 100, pool, x2, NULL);
    TEST_COND("same (seed, epoch, position): identical batch, 1 or 2 threads", ok && !memcmp(x1, x2, nf * sizeof *x1));
    int lab = 1;
    for (int k = 0; k < B; k++) lab &= y[k] == a.images[items[k]].label;
    TEST_COND("labels follow the items", lab);
    ok = !train_batch_fill(&a, &aug, 8, 3, items, B, 100, pool, x3, NULL);
    int ndiff = 0;
    for (int k = 0; k < B; k++)
        ndiff += memcmp(x1 + k * TRAIN_SAMPLE_FLOATS, x3 + k * TRAIN_SAMPLE_FLOATS, TRAIN_SAMPLE_FLOATS * sizeof *x1) != 0;
    TEST_COND("another seed: every sample differs", ok && ndiff == B);
    ok = !train_batch_fill(&a, &aug, 7, 4, items, B, 100, pool, x3, NULL);
    TEST_COND("another epoch: differs", ok && memcmp(x1, x3, nf * sizeof *x1));
    float lo = 1e9f, hi = -1e9f;
    for (size_t i = 0; i < nf; i++) lo = fminf(lo, x1[i]), hi = fmaxf(hi, x1[i]);
    TEST_COND("normalised range (v - 127.5)/128", lo >= -127.5f / 128 - 1e-6f && hi <= 127.5f / 128 + 1e-6f && hi - lo > 1);

    // flip: p_flip 1 vs 0 with every other augmentation on is the exact mirror
    struct train_aug f1 = train_aug_default(), f0 = train_aug_default();
    f1.p_flip = 1, f0.p_flip = 0, f1.p_blur = f0.p_blur = 1;
    train_aug_sample(&f1, 5, 0, 42, train_dataset_crop(&a, 1), x1);
    train_aug_sample(&f0, 5, 0, 42, train_dataset_crop(&a, 1), x2);
    int mirror = 1;
    for (int yy = 0; yy < 112; yy++)
        for (int xx = 0; xx < 112; xx++)
            for (int k = 0; k < 3; k++)
                mirror &= x1[(yy * 112 + xx) * 3 + k] == x2[(yy * 112 + 111 - xx) * 3 + k];
    TEST_COND("flip is the exact mirror", mirror && memcmp(x1, x2, TRAIN_SAMPLE_FLOATS * sizeof *x1));

    // no augmentation: the centre crop, normalised
    struct train_aug none = train_aug_none();
    train_aug_sample(&none, 1, 0, 0, train_dataset_crop(&a, 2), x1);
    const uint8_t *pc = train_dataset_crop(&a, 2);
    int exact = 1;
    for (int yy = 0; yy < 112; yy++)
        for (int i = 0; i < 112 * 3; i++)
            exact &= x1[yy * 336 + i] == (pc[((yy + 8) * 128 + 8) * 3 + i] - 127.5f) / 128;
    TEST_COND("train_aug_none gives the normalised centre crop", exact);
    // jitter only: a re-warp that stays close to the centre crop (mean abs diff small, not 0)
    struct train_aug jit = train_aug_none();
    jit.scale = 0.05f, jit.shift = 4;
    train_aug_sample(&jit, 1, 0, 0, train_dataset_crop(&a, 2), x2);
    double mad = 0;
    for (size_t i = 0; i < TRAIN_SAMPLE_FLOATS; i++) mad += fabs(x1[i] - x2[i]) * 128;
    mad /= TRAIN_SAMPLE_FLOATS;
    printf("# jitter: mean abs change %.1f levels\n", mad);
    TEST_COND("jitter moves the crop a little, no black border", mad > 0.5 && mad < 40);
    struct train_aug bad = train_aug_default();
    bad.shift = 10;
    TEST_COND("augmentation out of the padded crop refused", train_aug_check(&bad) == FH_E_ARG &&
              train_batch_fill(&a, &bad, 1, 0, items, B, 0, NULL, x1, NULL) == FH_E_ARG);
    items[0] = a.n;
    TEST_COND("batch item out of range refused", train_batch_fill(&a, &aug, 1, 0, items, B, 0, NULL, x1, NULL) == FH_E_ARG);
    items[0] = 0;

    // grid export
    struct img grid;
    train_batch_fill(&a, &aug, 7, 3, items, B, 100, pool, x1, NULL);
    rc = train_batch_grid(x1, B, 4, &grid);
    uint8_t *jpg = NULL;
    size_t jn = 0;
    char gpath[300];
    snprintf(gpath, sizeof gpath, "%s/grid.jpg", tmp);
    TEST_COND("batch grid 4x2 written as JPEG", !rc && grid.w == 4 * 114 + 2 && grid.h == 2 * 114 + 2 &&
              !img_encode_jpeg(&grid, 90, &jpg, &jn) && !write_bytes(gpath, jpg, jn));
    fh_free(jpg);
    img_free(&grid);

    // ---- samplers ----
    int *o1 = malloc(sizeof *o1 * (size_t)a.n), *o2 = malloc(sizeof *o2 * (size_t)a.n), *seen = calloc((size_t)a.n, sizeof *seen);
    train_order_epoch(a.n, 9, 1, o1);
    int perm = 1;
    for (int i = 0; i < a.n; i++) perm &= o1[i] >= 0 && o1[i] < a.n && !seen[o1[i]]++;
    train_order_epoch(a.n, 9, 1, o2);
    int same_o = !memcmp(o1, o2, sizeof *o1 * (size_t)a.n);
    train_order_epoch(a.n, 9, 2, o2);
    TEST_COND("epoch order: a permutation, same for (seed, epoch), other for another epoch",
              perm && same_o && memcmp(o1, o2, sizeof *o1 * (size_t)a.n));
    int pk[3 * 40], pk2[3 * 40];
    rc = train_batch_pk(&a, 2, 4, 11, 0, 5, pk);
    int pk_ok = !rc && a.images[pk[0]].label != a.images[pk[4]].label;
    for (int p = 0; p < 2 && pk_ok; p++)
        for (int k = 0; k < 4; k++) {
            pk_ok &= a.images[pk[p * 4 + k]].label == a.images[pk[p * 4]].label;
            for (int j = 0; j < k; j++) pk_ok &= pk[p * 4 + k] != pk[p * 4 + j];
        }
    train_batch_pk(&a, 2, 4, 11, 0, 5, pk2);
    TEST_COND("P x K: 2 identities x 4 distinct images, reproducible", pk_ok && !memcmp(pk, pk2, sizeof *pk * 8));
    rc = train_batch_pk(&a, 3, 40, 11, 0, 0, pk);   // K > images per identity: all, then repeats
    int rep = !rc;
    for (int p = 0; p < 3 && rep; p++) {
        int l = a.images[pk[p * 40]].label, cnt = a.id_start[l + 1] - a.id_start[l];
        for (int k = 0; k < 40; k++) rep &= a.images[pk[p * 40 + k]].label == l;
        for (int k = 0; k < cnt; k++) rep &= pk[p * 40 + k] == a.id_start[l] + k;
    }
    TEST_COND("P x K with K above an identity's count: all its images, then repeats", rep);
    TEST_COND("P above the identity count refused", train_batch_pk(&a, 4, 2, 1, 0, 0, pk) == FH_E_ARG);
    free(o1), free(o2), free(seen);
    free(x1), free(x2), free(x3);
    fh_pool_free(pool);
    train_dataset_free(&a);
}

// bad input: a non-image file, an image without a face, an empty folder, a folder with junk
// only, an unreadable root, a root without identity folders
static void test_bad(void) {
    char root[300], p[400], cache[300];
    snprintf(root, sizeof root, "%s/bad", tmp);
    snprintf(cache, sizeof cache, "%s/cache2", tmp);
    mkdir(root, 0777);
    const char *dirs[] = {"alice", "bob", "empty", "junk"};
    for (int i = 0; i < 4; i++) snprintf(p, sizeof p, "%s/%s", root, dirs[i]), mkdir(p, 0777);
    // alice: 3 real images (copied) + notes.txt + a background with no face
    const char *src[] = {"005840.jpg", "007983.jpg", "013036.jpg"};
    int setup = 0;
    for (int i = 0; i < 3; i++) {
        uint8_t *buf;
        size_t n;
        snprintf(p, sizeof p, CELEBA "/train/celeb_0/%s", src[i]);
        if (!fh_read_file(p, 1 << 20, &buf, &n)) {
            snprintf(p, sizeof p, "%s/alice/%s", root, src[i]);
            setup += !write_bytes(p, buf, n);
            fh_free(buf);
        }
    }
    snprintf(p, sizeof p, "%s/alice/notes.txt", root);
    setup += !write_bytes(p, "not an image\n", 13);
    snprintf(p, sizeof p, "%s/alice/.hidden", root);
    setup += !write_bytes(p, "x", 1);
    // a generated background: smooth gradients and a few stripes, no face
    struct img bg;
    uint8_t *jpg = NULL;
    size_t jn = 0;
    if (!img_alloc(&bg, 160, 200, 3)) {
        for (int yy = 0; yy < 200; yy++)
            for (int xx = 0; xx < 160; xx++) {
                uint8_t *q = bg.data + (size_t)yy * bg.stride + (size_t)xx * 3;
                q[0] = (uint8_t)(xx + yy / 2), q[1] = (uint8_t)(120 + ((xx / 20) % 2) * 40), q[2] = (uint8_t)(200 - yy / 2);
            }
        if (!img_encode_jpeg(&bg, 90, &jpg, &jn)) {
            snprintf(p, sizeof p, "%s/alice/background.jpg", root);
            setup += !write_bytes(p, jpg, jn);
            snprintf(p, sizeof p, "%s/junk/wall.jpg", root);
            setup += !write_bytes(p, jpg, jn);
            // bob: a truncated JPEG and one real image
            snprintf(p, sizeof p, "%s/bob/cut.jpg", root);
            setup += !write_bytes(p, jpg, jn / 3);
        }
        fh_free(jpg);
        img_free(&bg);
    }
    uint8_t *buf;
    size_t n;
    snprintf(p, sizeof p, "%s/bob/x.jpg", root);
    char srcp[400];
    snprintf(srcp, sizeof srcp, "%s/alice/%s", root, src[0]);
    if (!fh_read_file(srcp, 1 << 20, &buf, &n)) setup += !write_bytes(p, buf, n), fh_free(buf);
    TEST_COND("bad-input tree written", setup == 9);

    const char *roots[] = {root};
    struct train_data_options o = train_data_options_default();
    o.roots = roots, o.n_roots = 1, o.cache_dir = cache, o.n_threads = 2;
    struct train_dataset d;
    int rc = train_dataset_load(models, &o, &d);
    for (int i = 0; i < d.n_skipped; i++)
        printf("#   skipped %s: %s (%s)\n", d.skipped[i].path, train_skip_name(d.skipped[i].reason), d.skipped[i].msg);
    TEST_COND("mixed tree loads (4 usable images, 2 identities)", rc == FH_OK && d.n == 4 && d.n_ids == 2 &&
              !strcmp(d.id_names[0], "alice") && !strcmp(d.id_names[1], "bob"));
    TEST_COND("hidden files ignored; 8 files scanned", d.n_files == 8);
    TEST_COND("notes.txt: not an image", count_reason(&d, TRAIN_SKIP_NOT_IMAGE, "/alice/notes.txt") == 1);
    TEST_COND("background.jpg: no face", count_reason(&d, TRAIN_SKIP_NO_FACE, "/alice/background.jpg") == 1);
    TEST_COND("cut.jpg (truncated): not an image", count_reason(&d, TRAIN_SKIP_NOT_IMAGE, "/bob/cut.jpg") == 1);
    TEST_COND("empty folder reported", count_reason(&d, TRAIN_SKIP_EMPTY_FOLDER, "/empty") == 1);
    TEST_COND("junk-only folder: no usable image (and its file: no face)",
              count_reason(&d, TRAIN_SKIP_NO_USABLE, "/junk") == 1 &&
              count_reason(&d, TRAIN_SKIP_NO_FACE, "/junk/wall.jpg") == 1 && d.n_skipped == 6);
    train_dataset_free(&d);
    rc = train_dataset_load(models, &o, &d);
    TEST_COND("skips are cached too (second load: 8 hits, same 6 reasons)",
              rc == FH_OK && d.cache_hits == 8 && d.cache_misses == 0 && d.n_skipped == 6 &&
              count_reason(&d, TRAIN_SKIP_NO_FACE, "/alice/background.jpg") == 1);
    train_dataset_free(&d);

    // every allocation failing in turn (one thread: the fail-Nth hook is not thread-safe):
    // FH_E_NOMEM or success, never a crash or a leak (ASan build)
    o.n_threads = 1;
    int oom_ok = 1, last = 0;
    long k_last = 0;
    for (long k = 1; k <= 3000 && !last; k++) {
        fh_alloc_fail_after(k);
        rc = train_dataset_load(models, &o, &d);
        fh_alloc_fail_after(0);
        oom_ok &= rc == FH_OK || rc == FH_E_NOMEM;
        last = rc == FH_OK && d.n == 4, k_last = k;
        train_dataset_free(&d);
    }
    printf("# allocation failure injected at 1..%ld\n", k_last);
    TEST_COND("allocation failures: FH_E_NOMEM until the load succeeds", oom_ok && last);
    o.n_threads = 2;

    // nothing usable: only the junk identity
    o.id_first = o.id_last = 3;
    rc = train_dataset_load(models, &o, &d);
    printf("# %s\n", fh_errmsg());
    TEST_COND("nothing usable: FH_E_NOTFOUND, reasons still listed", rc == FH_E_NOTFOUND && d.n == 0 &&
              d.n_skipped == 2 && strstr(fh_errmsg(), "no usable image"));
    train_dataset_free(&d);
    o.id_first = 5, o.id_last = 9;
    TEST_COND("identity range past the folders refused", train_dataset_load(models, &o, &d) == FH_E_ARG);
    train_dataset_free(&d);
    o.id_first = -1, o.id_last = -1;
    snprintf(p, sizeof p, "%s/missing", tmp);
    roots[0] = p;
    rc = train_dataset_load(models, &o, &d);
    TEST_COND("missing root: FH_E_IO naming it", rc == FH_E_IO && strstr(fh_errmsg(), "missing"));
    train_dataset_free(&d);
    snprintf(p, sizeof p, "%s/bad/empty", tmp);
    rc = train_dataset_load(models, &o, &d);
    TEST_COND("root without identity folders: FH_E_NOTFOUND", rc == FH_E_NOTFOUND);
    train_dataset_free(&d);
    o.n_roots = 0;
    TEST_COND("no roots: FH_E_ARG", train_dataset_load(models, &o, &d) == FH_E_ARG);
    train_dataset_free(&d);
}

int main(void) {
    struct stat st;
    if (stat(CELEBA "/train/celeb_0", &st) || fh_models_load(FH_MODELS, 0, &models)) {
        printf("# needs %s and `make models`: %s\n", CELEBA, fh_errmsg());
        TEST_COND("celeba200 and models present", 0);
        return TEST_REPORT();
    }
    snprintf(tmp, sizeof tmp, "/tmp/fh_test_data.XXXXXX");
    if (!mkdtemp(tmp)) {
        TEST_COND("temp folder", 0);
        return TEST_REPORT();
    }
    test_real();
    test_bad();
    rm_rf(tmp);
    fh_models_free(models);
    return TEST_REPORT();
}
