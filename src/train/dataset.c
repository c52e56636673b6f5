// SPDX-License-Identifier: MIT
// train/dataset: identity folders -> detected, aligned, cached padded crops (data.h).
#include <dirent.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "align/align.h"
#include "base/base.h"
#include "train/data_int.h"

const char *train_skip_name(int reason) {
    static const char *const names[TRAIN_SKIP_COUNT] = {
        "usable", "unreadable", "not an image", "too large", "no face",
        "empty folder", "no usable image", "alignment failed"};
    return reason >= 0 && reason < TRAIN_SKIP_COUNT ? names[reason] : "?";
}

struct train_data_options train_data_options_default(void) {
    return (struct train_data_options){.id_first = -1, .id_last = -1, .det = fh_config_default()};
}

void train_data_version(const struct fh_models *m, const struct fh_config *det, char *buf, size_t n) {
    const char *sha[3];
    for (int i = 0; i < 3; i++) fh_model_file(i, &sha[i]);
    snprintf(buf, n, "fhcrop1 mtcnn %.12s %.12s %.12s %s min%d t%.3f,%.3f,%.3f pad%d "
             "rule:central-of-half-area",
             sha[0], sha[1], sha[2], fh_models_kernels(m), det->min_face, det->thresh[0],
             det->thresh[1], det->thresh[2], TRAIN_PAD);
}

// ---- scanning --------------------------------------------------------------------------
static int natcmp(const void *a, const void *b) {
    return strverscmp(*(char *const *)a, *(char *const *)b);
}

struct names {
    char **v;
    int n, cap;
};
static void names_free(struct names *s) {
    for (int i = 0; i < s->n; i++) fh_free(s->v[i]);
    fh_free(s->v);
    memset(s, 0, sizeof *s);
}
static int names_add(struct names *s, const char *name, int limit) {
    if (s->n >= limit) return fh_fail(FH_E_LIMIT, "dataset: more than %d entries", limit);
    if (fh_grow((void **)&s->v, &s->cap, s->n + 1, sizeof *s->v)) return fh_fail(FH_E_NOMEM, "dataset: out of memory");
    size_t len = strlen(name) + 1;
    if (!(s->v[s->n] = fh_malloc(len))) return fh_fail(FH_E_NOMEM, "dataset: out of memory");
    memcpy(s->v[s->n++], name, len);
    return FH_OK;
}

// Entries of dir that are directories (want_dirs) or regular files, hidden ones left out,
// in natural order. Symbolic links are followed. FH_E_IO if dir cannot be opened.
static int list_dir(const char *dir, int want_dirs, int limit, struct names *out) {
    DIR *d = opendir(dir);
    if (!d) return fh_fail(FH_E_IO, "dataset: cannot open folder %s", dir);
    struct dirent *de;
    int rc = FH_OK;
    char path[PATH_MAX];
    while (!rc && (de = readdir(d))) {
        if (de->d_name[0] == '.') continue;
        int len = snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        struct stat st;
        if (len < 0 || (size_t)len >= sizeof path) continue;
        // an entry that cannot be stat'ed is listed as a file (reported unreadable later)
        int is_dir = stat(path, &st) == 0 && S_ISDIR(st.st_mode);
        int is_file = !is_dir && (stat(path, &st) != 0 || S_ISREG(st.st_mode));
        if (want_dirs ? is_dir : is_file) rc = names_add(out, de->d_name, limit);
    }
    closedir(d);
    if (!rc && out->n > 1) qsort(out->v, (size_t)out->n, sizeof *out->v, natcmp);
    return rc;
}

static char *join3(const char *a, const char *b, const char *c) {
    size_t n = strlen(a) + strlen(b) + (c ? strlen(c) + 1 : 0) + 2;
    char *p = fh_malloc(n);
    if (p) snprintf(p, n, c ? "%s/%s/%s" : "%s/%s", a, b, c ? c : "");
    return p;
}

// ---- per-file work ---------------------------------------------------------------------
struct item {
    char *path;
    int id;                  // index into the kept identity names
    struct train_cache_entry e;
};

struct job {
    const struct train_data_options *o;
    struct fh_engine **eng;
    struct item *items;
    int n_items;
    uint8_t *crops;
    const char *version;
    atomic_int next, done, hits, misses, corrupt, write_errors, fatal;
};

// Face rule: among faces with box area >= half the largest, the nearest to the centre.
static int choose_face(const struct fh_face *f, int n, int w, int h) {
    double amax = 0;
    for (int i = 0; i < n; i++) {
        double a = (double)(f[i].box[2] - f[i].box[0] + 1) * (f[i].box[3] - f[i].box[1] + 1);
        if (a > amax) amax = a;
    }
    int best = -1;
    double bd = 0;
    for (int i = 0; i < n; i++) {
        double a = (double)(f[i].box[2] - f[i].box[0] + 1) * (f[i].box[3] - f[i].box[1] + 1);
        if (a < 0.5 * amax) continue;
        double cx = (f[i].box[0] + f[i].box[2]) / 2.0 - w / 2.0;
        double cy = (f[i].box[1] + f[i].box[3]) / 2.0 - h / 2.0;
        double d = cx * cx + cy * cy;
        if (best < 0 || d < bd) best = i, bd = d;
    }
    return best;
}

static void set_skip(struct train_cache_entry *e, int reason, const char *msg) {
    e->reason = reason;
    snprintf(e->msg, sizeof e->msg, "%s", msg);
}

// Detects and aligns one file into crop. Returns FH_OK (e filled: a crop or a skip reason)
// or FH_E_NOMEM (fatal for the load).
static int compute(struct fh_engine *eng, const struct fh_config *det, const char *path,
                   struct train_cache_entry *e, uint8_t *crop) {
    struct img im = {0};
    int rc = img_decode_file(path, &im);
    if (rc == FH_E_NOMEM) return rc;
    if (rc) {
        set_skip(e, rc == FH_E_IO ? TRAIN_SKIP_UNREADABLE
                    : rc == FH_E_LIMIT ? TRAIN_SKIP_TOO_LARGE : TRAIN_SKIP_NOT_IMAGE, fh_errmsg());
        return FH_OK;
    }
    struct fh_face *faces;
    int n;
    if ((rc = fh_detect(eng, &im, det, &faces, &n))) {
        img_free(&im);
        if (rc == FH_E_NOMEM) return rc;
        set_skip(e, rc == FH_E_LIMIT ? TRAIN_SKIP_TOO_LARGE : TRAIN_SKIP_NOT_IMAGE, fh_errmsg());
        return FH_OK;
    }
    e->n_faces = n;
    if (n == 0) {
        img_free(&im);
        char msg[64];
        snprintf(msg, sizeof msg, "0 faces at min_face %d", det->min_face);
        set_skip(e, TRAIN_SKIP_NO_FACE, msg);
        return FH_OK;
    }
    const struct fh_face *f = &faces[choose_face(faces, n, im.w, im.h)];
    e->score = f->score;
    memcpy(e->box, f->box, sizeof e->box);
    memcpy(e->landmarks, f->landmarks, sizeof e->landmarks);
    // align's own matrix (a 1x1 warp gives it), moved by TRAIN_PAD on the padded canvas
    uint8_t one[3];
    struct img px = {.w = 1, .h = 1, .c = 3, .stride = 3, .data = one};
    struct img dst = {.w = TRAIN_PADDED, .h = TRAIN_PADDED, .c = 3, .stride = TRAIN_PADDED * 3, .data = crop};
    double M[6];
    rc = align_face_into(&im, f->landmarks, &px, M);
    if (!rc) {
        M[2] += TRAIN_PAD, M[5] += TRAIN_PAD;
        rc = align_warp(&im, M, &dst);
    }
    img_free(&im);
    if (rc == FH_E_NOMEM) return rc;
    if (rc) set_skip(e, TRAIN_SKIP_ALIGN, fh_errmsg());
    else e->reason = TRAIN_SKIP_NONE, e->msg[0] = 0;
    return FH_OK;
}

static void one_item(struct job *j, int ith, int i) {
    struct item *it = &j->items[i];
    uint8_t *crop = j->crops + (size_t)i * TRAIN_PADDED_BYTES;
    struct stat st;
    char real[PATH_MAX], key[PATH_MAX + 512], cpath[PATH_MAX + 100];
    if (stat(it->path, &st) || !realpath(it->path, real)) {
        set_skip(&it->e, TRAIN_SKIP_UNREADABLE, "cannot stat the file");
        return;
    }
    const char *dir = j->o->cache_dir;
    if (dir) {
        snprintf(key, sizeof key, "%s\n%s\n%lld\n%lld", j->version, real, (long long)st.st_size,
                 (long long)st.st_mtim.tv_sec * 1000000000ll + st.st_mtim.tv_nsec);
        train_cache_path(dir, key, cpath, sizeof cpath);
        int r = train_cache_read(cpath, key, &it->e, crop);
        if (r == 1) {
            atomic_fetch_add(&j->hits, 1);
            return;
        }
        if (r < 0) atomic_fetch_add(&j->corrupt, 1);
    }
    atomic_fetch_add(&j->misses, 1);
    memset(&it->e, 0, sizeof it->e);
    if (compute(j->eng[ith], &j->o->det, it->path, &it->e, crop)) {
        atomic_store(&j->fatal, FH_E_NOMEM);
        return;
    }
    if (dir && it->e.reason != TRAIN_SKIP_UNREADABLE &&
        train_cache_write(cpath, key, &it->e, it->e.reason ? NULL : crop))
        atomic_fetch_add(&j->write_errors, 1);
}

static void worker(void *ctx, int ith, int nth) {
    struct job *j = ctx;
    for (;;) {
        if (atomic_load(&j->fatal)) return;
        int i = atomic_fetch_add(&j->next, 1);
        if (i >= j->n_items) return;
        one_item(j, ith, i);
        int done = atomic_fetch_add(&j->done, 1) + 1;
        if (ith == 0 && j->o->progress) j->o->progress(j->o->progress_arg, done, j->n_items);
    }
}

static int mkdirs(const char *dir) {
    char p[PATH_MAX];
    int len = snprintf(p, sizeof p, "%s", dir);
    if (len <= 0 || (size_t)len >= sizeof p) return fh_fail(FH_E_ARG, "dataset: bad cache folder");
    for (char *s = p + 1; *s; s++)
        if (*s == '/') {
            *s = 0;
            mkdir(p, 0777);
            *s = '/';
        }
    struct stat st;
    if (mkdir(p, 0777) && (stat(p, &st) || !S_ISDIR(st.st_mode)))
        return fh_fail(FH_E_IO, "dataset: cannot create the cache folder %s", dir);
    return FH_OK;
}

// ---- assembling ------------------------------------------------------------------------
static int add_skip(struct train_dataset *d, int *cap, const char *path, int reason, const char *msg) {
    if (fh_grow((void **)&d->skipped, cap, d->n_skipped + 1, sizeof *d->skipped))
        return fh_fail(FH_E_NOMEM, "dataset: out of memory");
    struct train_skipped *s = &d->skipped[d->n_skipped];
    size_t len = strlen(path) + 1;
    if (!(s->path = fh_malloc(len))) return fh_fail(FH_E_NOMEM, "dataset: out of memory");
    memcpy(s->path, path, len);
    s->reason = reason;
    snprintf(s->msg, sizeof s->msg, "%s", msg);
    d->n_skipped++;
    return FH_OK;
}

static int check_options(const struct train_data_options *o) {
    if (!o->roots || o->n_roots < 1 || o->n_roots > 16)
        return fh_fail(FH_E_ARG, "dataset: need 1..16 root folders, got %d", o->n_roots);
    for (int r = 0; r < o->n_roots; r++)
        if (!o->roots[r] || !o->roots[r][0]) return fh_fail(FH_E_ARG, "dataset: root %d is empty", r);
    if ((o->id_first < 0) != (o->id_last < 0) || o->id_first > o->id_last)
        return fh_fail(FH_E_ARG, "dataset: bad identity range %d..%d", o->id_first, o->id_last);
    if (o->det.min_face < 12) return fh_fail(FH_E_ARG, "dataset: min_face %d < 12", o->det.min_face);
    return FH_OK;
}

int train_dataset_load(const struct fh_models *m, const struct train_data_options *o,
                       struct train_dataset *d) {
    memset(d, 0, sizeof *d);
    double t0 = fh_now_ms();
    int rc = check_options(o), skip_cap = 0;
    if (rc) return rc;
    struct names ids = {0};
    struct item *items = NULL;
    int n_items = 0, items_cap = 0, n_threads = 0;
    int *id_files = NULL;           // files listed per kept identity
    struct fh_engine **eng = NULL;
    struct fh_pool *pool = NULL;

    // the union of identity folder names over the roots
    for (int r = 0; r < o->n_roots && !rc; r++) {
        struct names s = {0};
        if (!(rc = list_dir(o->roots[r], 1, TRAIN_MAX_IDS, &s)))
            for (int i = 0; i < s.n && !rc; i++) rc = names_add(&ids, s.v[i], TRAIN_MAX_IDS * 16);
        names_free(&s);
    }
    if (rc) goto out;
    if (ids.n > 1) qsort(ids.v, (size_t)ids.n, sizeof *ids.v, natcmp);
    int n_uniq = 0;   // the same folder name in several roots: one identity
    for (int i = 0; i < ids.n; i++) {
        if (n_uniq > 0 && !strcmp(ids.v[n_uniq - 1], ids.v[i])) fh_free(ids.v[i]);
        else ids.v[n_uniq++] = ids.v[i];
    }
    ids.n = n_uniq;
    if (ids.n > TRAIN_MAX_IDS) {
        rc = fh_fail(FH_E_LIMIT, "dataset: more than %d identity folders", TRAIN_MAX_IDS);
        goto out;
    }
    if (ids.n == 0) {
        rc = fh_fail(FH_E_NOTFOUND, "dataset: no identity folder in %s%s", o->roots[0],
                     o->n_roots > 1 ? " (or the other roots)" : "");
        goto out;
    }
    int first = 0, last = ids.n - 1;
    if (o->id_first >= 0) {
        if (o->id_first >= ids.n) {
            rc = fh_fail(FH_E_ARG, "dataset: identity range %d..%d but only %d identity folders",
                         o->id_first, o->id_last, ids.n);
            goto out;
        }
        first = o->id_first, last = o->id_last < ids.n ? o->id_last : ids.n - 1;
    }
    int n_kept = last - first + 1;
    if (!(id_files = fh_calloc((size_t)n_kept, sizeof *id_files))) {
        rc = fh_fail(FH_E_NOMEM, "dataset: out of memory");
        goto out;
    }
    // the files of each kept identity, root by root
    for (int k = 0; k < n_kept && !rc; k++) {
        const char *name = ids.v[first + k];
        for (int r = 0; r < o->n_roots && !rc; r++) {
            char *dir = join3(o->roots[r], name, NULL);
            struct stat st;
            if (!dir) rc = fh_fail(FH_E_NOMEM, "dataset: out of memory");
            else if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode)) {
                struct names s = {0};
                rc = list_dir(dir, 0, TRAIN_MAX_IMAGES, &s);
                if (rc == FH_E_IO) rc = add_skip(d, &skip_cap, dir, TRAIN_SKIP_UNREADABLE, fh_errmsg());
                for (int i = 0; i < s.n && !rc; i++) {
                    if (n_items >= TRAIN_MAX_IMAGES)
                        rc = fh_fail(FH_E_LIMIT, "dataset: more than %d files", TRAIN_MAX_IMAGES);
                    else if (fh_grow((void **)&items, &items_cap, n_items + 1, sizeof *items))
                        rc = fh_fail(FH_E_NOMEM, "dataset: out of memory");
                    else if (!(items[n_items].path = join3(o->roots[r], name, s.v[i])))
                        rc = fh_fail(FH_E_NOMEM, "dataset: out of memory");
                    else {
                        items[n_items].id = k;
                        memset(&items[n_items].e, 0, sizeof items[n_items].e);
                        n_items++, id_files[k]++;
                    }
                }
                names_free(&s);
            }
            fh_free(dir);
        }
    }
    if (rc) goto out;
    d->n_files = n_items;

    // detect + align (or read the cache) on all threads, one engine each
    if (n_items > 0) {
        char version[256];
        train_data_version(m, &o->det, version, sizeof version);
        if (o->cache_dir && (rc = mkdirs(o->cache_dir))) goto out;
        if (!(d->crops = fh_malloc((size_t)n_items * TRAIN_PADDED_BYTES))) {
            rc = fh_fail(FH_E_NOMEM, "dataset: out of memory for %d crops", n_items);
            goto out;
        }
        n_threads = o->n_threads > 0 ? o->n_threads : fh_cpu_count();
        if (n_threads > n_items) n_threads = n_items;
        if (!(eng = fh_calloc((size_t)n_threads, sizeof *eng)) || !(pool = fh_pool_new(n_threads))) {
            rc = fh_fail(FH_E_NOMEM, "dataset: out of memory");
            goto out;
        }
        for (int t = 0; t < n_threads && !rc; t++) rc = fh_engine_new(m, 1, &eng[t]);
        if (rc) goto out;
        struct job j = {.o = o, .eng = eng, .items = items, .n_items = n_items, .crops = d->crops,
                        .version = version};
        fh_pool_run(pool, worker, &j);
        if ((rc = atomic_load(&j.fatal))) {
            rc = fh_fail(rc, "dataset: out of memory while aligning");
            goto out;
        }
        if (o->progress) o->progress(o->progress_arg, n_items, n_items);
        d->cache_hits = j.hits, d->cache_misses = j.misses, d->cache_corrupt = j.corrupt;
        d->cache_write_errors = j.write_errors;
    }

    // labels, compaction of the usable crops (in place, order kept), skip list in scan order
    if (!(d->images = fh_calloc((size_t)(n_items ? n_items : 1), sizeof *d->images)) ||
        !(d->id_names = fh_calloc((size_t)n_kept, sizeof *d->id_names)) ||
        !(d->id_start = fh_calloc((size_t)n_kept + 1, sizeof *d->id_start))) {
        rc = fh_fail(FH_E_NOMEM, "dataset: out of memory");
        goto out;
    }
    for (int k = 0, i = 0; k < n_kept && !rc; k++) {
        const char *name = ids.v[first + k];
        int usable = 0;
        if (id_files[k] == 0) {
            char *dir = join3(o->roots[0], name, NULL);
            rc = dir ? add_skip(d, &skip_cap, dir, TRAIN_SKIP_EMPTY_FOLDER, "no file in any root")
                     : fh_fail(FH_E_NOMEM, "dataset: out of memory");
            fh_free(dir);
            continue;
        }
        d->id_start[d->n_ids] = d->n;
        for (int e = i + id_files[k]; i < e && !rc; i++) {
            struct item *it = &items[i];
            if (it->e.reason) {
                rc = add_skip(d, &skip_cap, it->path, it->e.reason, it->e.msg);
                continue;
            }
            struct train_image *im = &d->images[d->n];
            im->path = it->path, it->path = NULL;
            im->label = d->n_ids;
            im->n_faces = it->e.n_faces, im->score = it->e.score;
            memcpy(im->box, it->e.box, sizeof im->box);
            memcpy(im->landmarks, it->e.landmarks, sizeof im->landmarks);
            if (d->n != i)
                memmove(d->crops + (size_t)d->n * TRAIN_PADDED_BYTES,
                        d->crops + (size_t)i * TRAIN_PADDED_BYTES, TRAIN_PADDED_BYTES);
            d->n++, usable++;
        }
        if (rc) break;
        if (!usable) {
            char msg[160], *dir = join3(o->roots[0], name, NULL);
            snprintf(msg, sizeof msg, "all %d files unusable", id_files[k]);
            rc = dir ? add_skip(d, &skip_cap, dir, TRAIN_SKIP_NO_USABLE, msg)
                     : fh_fail(FH_E_NOMEM, "dataset: out of memory");
            fh_free(dir);
            continue;
        }
        size_t len = strlen(name) + 1;
        if (!(d->id_names[d->n_ids] = fh_malloc(len))) rc = fh_fail(FH_E_NOMEM, "dataset: out of memory");
        else memcpy(d->id_names[d->n_ids++], name, len);
    }
    if (rc) goto out;
    d->id_start[d->n_ids] = d->n;
    if (d->n > 0 && d->n < n_items) {    // give back the unused tail
        uint8_t *p = fh_realloc(d->crops, (size_t)d->n * TRAIN_PADDED_BYTES);
        if (p) d->crops = p;
    }
    if (d->n == 0) {
        int cnt[TRAIN_SKIP_COUNT] = {0};
        for (int s = 0; s < d->n_skipped; s++) cnt[d->skipped[s].reason]++;
        rc = fh_fail(FH_E_NOTFOUND, "dataset: no usable image in %d files of %d identity folders "
                     "(%d not images, %d without a face, %d unreadable, %d too large, %d empty folders)",
                     n_items, n_kept, cnt[TRAIN_SKIP_NOT_IMAGE], cnt[TRAIN_SKIP_NO_FACE],
                     cnt[TRAIN_SKIP_UNREADABLE], cnt[TRAIN_SKIP_TOO_LARGE], cnt[TRAIN_SKIP_EMPTY_FOLDER]);
    }
out:
    for (int t = 0; eng && t < n_threads; t++) fh_engine_free(eng[t]);
    fh_free(eng);
    fh_pool_free(pool);
    for (int i = 0; i < n_items; i++) fh_free(items[i].path);
    fh_free(items);
    fh_free(id_files);
    names_free(&ids);
    if (rc) {   // keep the skip list for the caller, drop the rest
        for (int i = 0; i < d->n; i++) fh_free(d->images[i].path);
        for (int i = 0; i < d->n_ids; i++) fh_free(d->id_names[i]);
        fh_free(d->images), fh_free(d->id_names), fh_free(d->id_start), fh_free(d->crops);
        d->images = NULL, d->id_names = NULL, d->id_start = NULL, d->crops = NULL;
        d->n = 0, d->n_ids = 0;
    }
    d->load_ms = fh_now_ms() - t0;
    return rc;
}

void train_dataset_free(struct train_dataset *d) {
    if (!d) return;
    for (int i = 0; i < d->n; i++) fh_free(d->images[i].path);
    for (int i = 0; i < d->n_ids; i++) fh_free(d->id_names[i]);
    for (int i = 0; i < d->n_skipped; i++) fh_free(d->skipped[i].path);
    fh_free(d->images), fh_free(d->id_names), fh_free(d->id_start), fh_free(d->crops);
    fh_free(d->skipped);
    memset(d, 0, sizeof *d);
}

void train_dataset_crop112(const struct train_dataset *d, int i, struct img *dst) {
    FH_ASSERT(i >= 0 && i < d->n && dst->w == TRAIN_CROP && dst->h == TRAIN_CROP && dst->c == 3);
    const uint8_t *src = train_dataset_crop(d, i);
    for (int y = 0; y < TRAIN_CROP; y++)
        memcpy(dst->data + (size_t)y * dst->stride,
               src + ((size_t)(y + TRAIN_PAD) * TRAIN_PADDED + TRAIN_PAD) * 3, TRAIN_CROP * 3);
}
