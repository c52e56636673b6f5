// SPDX-License-Identifier: MIT
// facehatch eval persons: the photo library's persons for people with few photos (issue 12,
// part 0). A family library is mostly people who appear in a handful of photos; this builds
// such libraries from LFW and scores the persons the library forms by itself.
//
// A draw (seeded): --known N (default 100) identities with 4..9 images and 150 identities
// with exactly one image (strangers). Each draw's images are copied into a temporary photo
// folder (a folder per identity) and indexed into a fresh SQLite library by the real
// library code (lib_index, the library's defaults, --threads); with --batches B the images
// arrive in B random parts, the library indexing after each (a library that grows). Then each image's most central stored face (the LFW
// subject; the other faces stay in the library, as in life) is scored: predicted label = its
// person (a face in no person is a singleton), truth = the folder. BCubed P/R/F over those
// faces (eval_cluster_scores), persons, impure persons (holding faces of two identities or
// more), the share of subjects left unknown. --draws K (default 5) runs seeds seed ..
// seed+K-1 and prints each, then mean and standard deviation.
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "eval/eval.h"
#include "library/library.h"

#define STRANGERS 150

static uint64_t rng_next(uint64_t *s) { // splitmix64
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

// k of the n ints in v chosen at random (a partial Fisher-Yates; v is permuted)
static void pick(int *v, int n, int k, uint64_t *rng) {
    for (int i = 0; i < k && i < n; i++) {
        int j = i + (int)(rng_next(rng) % (uint64_t)(n - i)), t = v[i];
        v[i] = v[j], v[j] = t;
    }
}

struct named {
    const char *name;
    int images;        // the identity's images in LFW (1: a stranger)
};

struct photo_row {
    int64_t id;
    int label, w, h;
};
struct scan {
    struct photo_row *p;
    int n, cap;
    struct named *names; // the draw's identities sorted by name (folder -> label lookup)
    int n_names;
    // faces: per photo, the most central so far
    int64_t *best_person;
    double *best_d;
    char *best_gated;  // the central face is blurry or "not a face" (never clustered)
};

static int cmp_name(const void *a, const void *b) {
    return strcmp(((const struct named *)a)->name, ((const struct named *)b)->name);
}

static int photo_cb(void *ctx, const struct store_photo *p) {
    struct scan *s = ctx;
    char folder[512];
    const char *end = strrchr(p->path, '/'), *start = end;
    if (!end) return 0;
    while (start > p->path && start[-1] != '/') start--;
    snprintf(folder, sizeof folder, "%.*s", (int)(end - start), start);
    struct named key = {folder, 0};
    struct named *hit = bsearch(&key, s->names, (size_t)s->n_names, sizeof *s->names, cmp_name);
    if (!hit) return 0;
    if (fh_grow((void **)&s->p, &s->cap, s->n + 1, sizeof *s->p)) return 1;
    s->p[s->n++] = (struct photo_row){p->id, (int)(hit - s->names), p->width, p->height};
    return 0;
}

static int cmp_row(const void *a, const void *b) {
    int64_t x = ((const struct photo_row *)a)->id, y = ((const struct photo_row *)b)->id;
    return (x > y) - (x < y);
}

// the row of photo id (rows sorted by id), or -1
static int find_photo(const struct scan *s, int64_t id) {
    struct photo_row key = {.id = id};
    const struct photo_row *r = bsearch(&key, s->p, (size_t)s->n, sizeof *s->p, cmp_row);
    return r ? (int)(r - s->p) : -1;
}

static int face_cb(void *ctx, const struct store_face *f) {
    struct scan *s = ctx;
    int i = find_photo(s, f->photo_id);
    if (i < 0) return 0;
    double cx = (f->box[0] + f->box[2]) / 2.0 - s->p[i].w / 2.0, cy = (f->box[1] + f->box[3]) / 2.0 - s->p[i].h / 2.0;
    double d = cx * cx + cy * cy;
    if (s->best_d[i] < 0 || d < s->best_d[i])
        s->best_d[i] = d, s->best_person[i] = f->person_id, s->best_gated[i] = (char)(f->blurry || f->trash);
    return 0;
}

struct draw_result {
    struct eval_cluster c;
    int subjects, unknown, persons, impure, known_ids;
    int unknown_known, unknown_gated; // unknown subjects of the known identities; of them gated
    double seconds;
};

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *f) {
    (void)st, (void)flag, (void)f;
    return remove(path);
}

// copies src to dst (whole file)
static int copy_file(const char *src, const char *dst) {
    uint8_t *buf;
    size_t n;
    int rc = fh_read_file(src, FH_MAX_IMAGE_FILE_BYTES, &buf, &n);
    if (rc) return rc;
    FILE *f = fopen(dst, "wb");
    if (!f || fwrite(buf, 1, n, f) != n) rc = fh_fail(FH_E_IO, "%s: cannot write", dst);
    if (f && fclose(f) && !rc) rc = fh_fail(FH_E_IO, "%s: cannot write", dst);
    fh_free(buf);
    return rc;
}

// one draw: the chosen identities' images copied into a temporary photo folder (one folder
// per identity) in `batches` parts, the library indexing the folder after each part (a
// library that grows: batch k's photos arrive after the persons of batches < k formed),
// then scored
static int run_draw(const struct cli_opts *o, const struct cli_lfw *l, const int *count, const int *ids, int n_ids,
                    int batches, uint64_t *rng, struct draw_result *r) {
    char dir[] = "/tmp/facehatch-persons-XXXXXX", db[64], photos[64];
    if (!mkdtemp(dir)) return fh_fail(FH_E_IO, "eval persons: cannot make a temporary folder");
    snprintf(db, sizeof db, "%s/lib.db", dir);
    snprintf(photos, sizeof photos, "%s/photos", dir);
    struct lib *L = NULL;
    struct scan sc = {0};
    char *is_chosen = fh_calloc((size_t)l->n_ids, 1);
    int *batch = fh_malloc((size_t)(l->n ? l->n : 1) * sizeof *batch);
    int rc = is_chosen && batch ? FH_OK : fh_fail(FH_E_NOMEM, "eval persons: out of memory");
    for (int i = 0; !rc && i < n_ids; i++) is_chosen[ids[i]] = 1;
    for (int i = 0; !rc && i < l->n; i++) batch[i] = (int)(rng_next(rng) % (uint64_t)batches);
    if (!rc && mkdir(photos, 0700)) rc = fh_fail(FH_E_IO, "%s: cannot make it", photos);
    for (int i = 0; !rc && i < n_ids; i++) {
        char p[1024];
        snprintf(p, sizeof p, "%s/%s", photos, l->names[ids[i]]);
        if (mkdir(p, 0700)) rc = fh_fail(FH_E_IO, "%s: cannot make it", p);
    }
    struct lib_options lo = lib_options_default();
    lo.threads = o->threads;
    struct lib_stats st;
    double t0 = fh_now_ms();
    if (!rc) rc = lib_open(db, o->models, &L);
    for (int b = 0; !rc && b < batches; b++) {
        for (int i = 0; !rc && i < l->n; i++) {
            if (!is_chosen[l->label[i]] || batch[i] != b) continue;
            char src[2048], dst[2048];
            const char *base = strrchr(l->paths[i], '/');
            snprintf(src, sizeof src, "%s/lfw/%s", o->data, l->paths[i]);
            snprintf(dst, sizeof dst, "%s/%s/%s", photos, l->names[l->label[i]], base ? base + 1 : l->paths[i]);
            rc = copy_file(src, dst);
        }
        const char *root = photos;
        if (!rc) rc = lib_index(L, LIB_OWNER_LOCAL, &root, 1, &lo, &st);
    }
    r->seconds = (fh_now_ms() - t0) / 1e3;
    // the chosen identities' names, sorted, for the folder lookup
    if (!rc && !(sc.names = fh_malloc((size_t)n_ids * sizeof *sc.names))) rc = fh_fail(FH_E_NOMEM, "out of memory");
    for (int i = 0; !rc && i < n_ids; i++) sc.names[i] = (struct named){l->names[ids[i]], count[ids[i]]};
    sc.n_names = n_ids;
    if (!rc) qsort(sc.names, (size_t)n_ids, sizeof *sc.names, cmp_name);
    if (!rc) rc = store_photos_each(lib_store(L), LIB_OWNER_LOCAL, photo_cb, &sc);
    if (!rc) qsort(sc.p, (size_t)sc.n, sizeof *sc.p, cmp_row);
    if (!rc && sc.n) {
        sc.best_person = fh_calloc((size_t)sc.n, sizeof *sc.best_person);
        sc.best_d = fh_malloc((size_t)sc.n * sizeof *sc.best_d);
        sc.best_gated = fh_calloc((size_t)sc.n, 1);
        if (!sc.best_person || !sc.best_d || !sc.best_gated) rc = fh_fail(FH_E_NOMEM, "eval persons: out of memory");
        for (int i = 0; !rc && i < sc.n; i++) sc.best_d[i] = -1;
    }
    if (!rc) rc = store_faces_each(lib_store(L), LIB_OWNER_LOCAL, 0, face_cb, &sc);
    // score the subjects (photos with a face): persons -> labels, unknowns -> singletons
    int *pred = NULL, *truth = NULL, n = 0;
    if (!rc && sc.n) {
        pred = fh_malloc((size_t)sc.n * sizeof *pred), truth = fh_malloc((size_t)sc.n * sizeof *truth);
        if (!pred || !truth) rc = fh_fail(FH_E_NOMEM, "eval persons: out of memory");
    }
    memset(r, 0, offsetof(struct draw_result, seconds));
    int64_t *pids = NULL;
    int np = 0;
    if (!rc && sc.n && !(pids = fh_malloc((size_t)sc.n * sizeof *pids))) rc = fh_fail(FH_E_NOMEM, "out of memory");
    for (int i = 0; !rc && i < sc.n; i++) {
        if (sc.best_d[i] < 0) continue; // no face found in the image
        int64_t p = sc.best_person[i];
        int lab;
        if (!p) {
            lab = 1000000 + n, r->unknown++;
            if (sc.names[sc.p[i].label].images > 1) r->unknown_known++, r->unknown_gated += sc.best_gated[i];
        }
        else {
            int k = 0;
            while (k < np && pids[k] != p) k++;
            if (k == np) pids[np++] = p;
            lab = k;
        }
        pred[n] = lab, truth[n] = sc.p[i].label, n++;
    }
    r->subjects = n, r->persons = np;
    if (!rc && n) rc = eval_cluster_scores(pred, truth, n, &r->c);
    for (int k = 0; !rc && k < np; k++) { // impure: faces of two identities or more
        int first = -1, mixed = 0;
        for (int i = 0; i < n; i++)
            if (pred[i] == k) {
                if (first < 0) first = truth[i];
                else if (truth[i] != first) mixed = 1;
            }
        r->impure += mixed;
        if (mixed) { // which identities it mixes, for the record
            printf("# an impure person holds");
            for (int a = 0; a < sc.n_names; a++) {
                int cnt = 0;
                for (int i = 0; i < n; i++) cnt += pred[i] == k && truth[i] == a;
                if (cnt) printf(" %s x%d", sc.names[a].name, cnt);
            }
            printf("\n");
        }
    }
    fh_free(pids), fh_free(pred), fh_free(truth);
    fh_free(sc.p), fh_free(sc.names), fh_free(sc.best_person), fh_free(sc.best_d), fh_free(sc.best_gated);
    lib_close(L);
    fh_free(is_chosen), fh_free(batch);
    if (nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS)) fprintf(stderr, "facehatch: could not remove %s\n", dir);
    return rc;
}

int eval_persons_cmd(const struct cli_opts *o) {
    int n_known = o->known > 0 ? o->known : 100, draws = o->draws > 0 ? o->draws : 5;
    int batches = o->batches > 0 ? o->batches : 1;
    if (cli_models_need(o)) return EXIT_FAIL;
    struct cli_lfw l;
    if (cli_lfw_list(o->data, &l)) {
        fprintf(stderr, "facehatch: %s\n", fh_errmsg());
        return EXIT_FAIL;
    }
    int *count = fh_calloc((size_t)l.n_ids, sizeof *count), *few = fh_malloc((size_t)l.n_ids * sizeof *few);
    int *one = fh_malloc((size_t)l.n_ids * sizeof *one), *ids = fh_malloc((size_t)l.n_ids * sizeof *ids);
    int rc = EXIT_FAIL, nf = 0, n1 = 0;
    struct draw_result *res = fh_calloc((size_t)draws, sizeof *res);
    if (!count || !few || !one || !ids || !res) goto out;
    for (int i = 0; i < l.n; i++) count[l.label[i]]++;
    for (int i = 0; i < l.n_ids; i++) {
        if (count[i] >= 4 && count[i] <= 9) few[nf++] = i;
        if (count[i] == 1) one[n1++] = i;
    }
    if (nf < n_known || n1 < STRANGERS) {
        fprintf(stderr, "facehatch: LFW has %d identities with 4..9 images and %d with one; need %d and %d\n", nf,
                n1, n_known, STRANGERS);
        goto out;
    }
    printf("eval persons: %d LFW identities with 4..9 images + %d strangers (1 image), %d draws from seed %d, "
           "indexed in %d batch%s\n", n_known, STRANGERS, draws, o->seed, batches, batches > 1 ? "es" : "");
    printf("%-6s %6s %8s %7s %7s %9s | %7s %7s %7s | %7s %6s %7s\n", "seed", "faces", "persons", "impure", "unknown",
           "known unk", "B P", "B R", "B F", "pair F", "ids", "seconds");
    for (int d = 0; d < draws; d++) {
        uint64_t rng = (uint64_t)(o->seed + d) * 0x2545F4914F6CDD1Dull + 1;
        int *fv = fh_malloc((size_t)nf * sizeof *fv), *ov = fh_malloc((size_t)n1 * sizeof *ov);
        if (!fv || !ov) {
            fh_free(fv), fh_free(ov);
            goto out;
        }
        memcpy(fv, few, (size_t)nf * sizeof *fv), memcpy(ov, one, (size_t)n1 * sizeof *ov);
        pick(fv, nf, n_known, &rng), pick(ov, n1, STRANGERS, &rng);
        memcpy(ids, fv, (size_t)n_known * sizeof *ids), memcpy(ids + n_known, ov, STRANGERS * sizeof *ids);
        fh_free(fv), fh_free(ov);
        struct draw_result *r = &res[d];
        if (run_draw(o, &l, count, ids, n_known + STRANGERS, batches, &rng, r)) {
            fprintf(stderr, "facehatch: %s\n", fh_errmsg());
            goto out;
        }
        printf("%-6d %6d %8d %7d %6.1f%% %4d (%2d g) | %7.4f %7.4f %7.4f | %7.4f %6d %7.1f\n", o->seed + d,
               r->subjects, r->persons, r->impure, 100.0 * r->unknown / (r->subjects ? r->subjects : 1),
               r->unknown_known, r->unknown_gated, r->c.bcubed_p,
               r->c.bcubed_r, r->c.bcubed_f, r->c.pair_f, n_known + STRANGERS, r->seconds);
        fflush(stdout);
    }
    double m[4] = {0}, v[4] = {0};
    int impure = 0;
    for (int d = 0; d < draws; d++) {
        double x[4] = {res[d].c.bcubed_p, res[d].c.bcubed_r, res[d].c.bcubed_f,
                       (double)res[d].unknown / (res[d].subjects ? res[d].subjects : 1)};
        for (int k = 0; k < 4; k++) m[k] += x[k] / draws;
        impure += res[d].impure;
    }
    for (int d = 0; d < draws; d++) {
        double x[4] = {res[d].c.bcubed_p, res[d].c.bcubed_r, res[d].c.bcubed_f,
                       (double)res[d].unknown / (res[d].subjects ? res[d].subjects : 1)};
        for (int k = 0; k < 4; k++) v[k] += (x[k] - m[k]) * (x[k] - m[k]) / (draws > 1 ? draws - 1 : 1);
    }
    printf("mean +- std over %d draws: BCubed P %.4f +- %.4f, R %.4f +- %.4f, F %.4f +- %.4f; unknown %.1f%% "
           "+- %.1f; impure persons %d in all\n", draws, m[0], sqrt(v[0]), m[1], sqrt(v[1]), m[2], sqrt(v[2]),
           100 * m[3], 100 * sqrt(v[3]), impure);
    printf("{\"eval\":\"persons\",\"ids\":%d,\"strangers\":%d,\"draws\":%d,\"seed\":%d,\"batches\":%d,"
           "\"bcubed\":{\"p\":%.4f,\"r\":%.4f,\"f\":%.4f},\"f_std\":%.4f,\"unknown\":%.4f,\"impure\":%d}\n",
           n_known, STRANGERS, draws, o->seed, batches, m[0], m[1], m[2], sqrt(v[2]), m[3], impure);
    rc = EXIT_OK;
out:
    fh_free(count), fh_free(few), fh_free(one), fh_free(ids), fh_free(res);
    cli_lfw_free(&l);
    return rc;
}
