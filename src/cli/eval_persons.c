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
#include "cli/eval_draw.h"


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
    int64_t *best_person, *best_face;
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
        s->best_d[i] = d, s->best_person[i] = f->person_id, s->best_face[i] = f->id,
        s->best_gated[i] = (char)(f->blurry || f->trash);
    return 0;
}


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

// A draw's library: the chosen identities' images copied into a temporary photo folder
// (one folder per identity) in `batches` parts, the library (L's default model) indexing the
// folder after each part (a library that grows: batch k's photos arrive after the persons of
// batches < k formed). dir (>= 32 bytes) gets the temporary folder (remove with evp_rm_tree), db
// its database; *L stays open.
int evp_build(const struct cli_opts *o, const struct cli_lfw *l, const int *ids, int n_ids, int batches,
                      uint64_t *rng, char *dir, struct lib **L, double *seconds) {
    strcpy(dir, "/tmp/facehatch-persons-XXXXXX");
    *L = NULL;
    if (!mkdtemp(dir)) return fh_fail(FH_E_IO, "eval persons: cannot make a temporary folder");
    char db[64], photos[64];
    snprintf(db, sizeof db, "%s/lib.db", dir);
    snprintf(photos, sizeof photos, "%s/photos", dir);
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
    if (!rc) rc = lib_open(db, o->models, L);
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
        if (!rc) rc = lib_index(*L, LIB_OWNER_LOCAL, &root, 1, &lo, &st);
    }
    *seconds = (fh_now_ms() - t0) / 1e3;
    fh_free(is_chosen), fh_free(batch);
    return rc;
}

void evp_rm_tree(const char *dir) {
    if (nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS)) fprintf(stderr, "facehatch: could not remove %s\n", dir);
}


// Scores the library's persons on the draw's subjects (see the top of the file). *subj
// (may be NULL; fh_malloc'd, r->subjects of them) gets each subject; names (may be NULL)
// gets the draw's identities sorted by name (fh_malloc'd, n_ids; truth indexes it).
int evp_score(struct lib *L, const int *count, const int *ids, int n_ids, const struct cli_lfw *l,
                      int quiet, struct draw_result *r, struct subject **subj, struct named **names) {
    struct scan sc = {0};
    int rc = FH_OK;
    if (!(sc.names = fh_malloc((size_t)n_ids * sizeof *sc.names))) rc = fh_fail(FH_E_NOMEM, "out of memory");
    for (int i = 0; !rc && i < n_ids; i++) sc.names[i] = (struct named){l->names[ids[i]], count[ids[i]]};
    sc.n_names = n_ids;
    if (!rc) qsort(sc.names, (size_t)n_ids, sizeof *sc.names, cmp_name);
    if (!rc) rc = store_photos_each(lib_store(L), LIB_OWNER_LOCAL, photo_cb, &sc);
    if (!rc) qsort(sc.p, (size_t)sc.n, sizeof *sc.p, cmp_row);
    if (!rc && sc.n) {
        sc.best_person = fh_calloc((size_t)sc.n, sizeof *sc.best_person);
        sc.best_face = fh_calloc((size_t)sc.n, sizeof *sc.best_face);
        sc.best_d = fh_malloc((size_t)sc.n * sizeof *sc.best_d);
        sc.best_gated = fh_calloc((size_t)sc.n, 1);
        if (!sc.best_person || !sc.best_face || !sc.best_d || !sc.best_gated)
            rc = fh_fail(FH_E_NOMEM, "eval persons: out of memory");
        for (int i = 0; !rc && i < sc.n; i++) sc.best_d[i] = -1;
    }
    if (!rc) rc = store_faces_each(lib_store(L), LIB_OWNER_LOCAL, 0, face_cb, &sc);
    // score the subjects (photos with a face): persons -> labels, unknowns -> singletons
    int *pred = NULL, *truth = NULL, n = 0;
    struct subject *sj = NULL;
    if (!rc && sc.n) {
        pred = fh_malloc((size_t)sc.n * sizeof *pred), truth = fh_malloc((size_t)sc.n * sizeof *truth);
        sj = fh_malloc((size_t)sc.n * sizeof *sj);
        if (!pred || !truth || !sj) rc = fh_fail(FH_E_NOMEM, "eval persons: out of memory");
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
        sj[n] = (struct subject){sc.best_face[i], p, sc.p[i].label};
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
        if (mixed && !quiet) { // which identities it mixes, for the record
            printf("# an impure person holds");
            for (int a = 0; a < sc.n_names; a++) {
                int cnt = 0;
                for (int i = 0; i < n; i++) cnt += pred[i] == k && truth[i] == a;
                if (cnt) printf(" %s x%d", sc.names[a].name, cnt);
            }
            printf("\n");
        }
    }
    if (!rc && subj) *subj = sj, sj = NULL;
    if (!rc && names) *names = sc.names, sc.names = NULL;
    fh_free(sj), fh_free(pids), fh_free(pred), fh_free(truth);
    fh_free(sc.p), fh_free(sc.names), fh_free(sc.best_person), fh_free(sc.best_face), fh_free(sc.best_d),
        fh_free(sc.best_gated);
    return rc;
}

// one draw of eval persons: built, scored, removed
static int run_draw(const struct cli_opts *o, const struct cli_lfw *l, const int *count, const int *ids, int n_ids,
                    int batches, uint64_t *rng, struct draw_result *r) {
    char dir[32];
    struct lib *L;
    double seconds = 0;
    int rc = evp_build(o, l, ids, n_ids, batches, rng, dir, &L, &seconds);
    if (!rc) rc = evp_score(L, count, ids, n_ids, l, 0, r, NULL, NULL);
    r->seconds = seconds;
    lib_close(L);
    evp_rm_tree(dir);
    return rc;
}

void evp_draws_free(struct draws *d) {
    fh_free(d->count), fh_free(d->few), fh_free(d->one), fh_free(d->ids);
    cli_lfw_free(&d->l);
}
int evp_draws_open(const struct cli_opts *o, int n_known, struct draws *d) {
    memset(d, 0, sizeof *d);
    if (cli_lfw_list(o->data, &d->l)) return FH_E_IO;
    int n = d->l.n_ids;
    d->count = fh_calloc((size_t)n, sizeof *d->count), d->few = fh_malloc((size_t)n * sizeof *d->few);
    d->one = fh_malloc((size_t)n * sizeof *d->one), d->ids = fh_malloc((size_t)n * sizeof *d->ids);
    if (!d->count || !d->few || !d->one || !d->ids) return fh_fail(FH_E_NOMEM, "eval: out of memory");
    for (int i = 0; i < d->l.n; i++) d->count[d->l.label[i]]++;
    for (int i = 0; i < n; i++) {
        if (d->count[i] >= 4 && d->count[i] <= 9) d->few[d->nf++] = i;
        if (d->count[i] == 1) d->one[d->n1++] = i;
    }
    if (d->nf < n_known || d->n1 < STRANGERS)
        return fh_fail(FH_E_ARG, "LFW has %d identities with 4..9 images and %d with one; need %d and %d", d->nf,
                       d->n1, n_known, STRANGERS);
    return FH_OK;
}
// seed's draw: d->ids[0..n_known) known identities, then STRANGERS strangers; *rng seeded
int evp_draws_pick(struct draws *d, int seed, int n_known, uint64_t *rng) {
    *rng = (uint64_t)seed * 0x2545F4914F6CDD1Dull + 1;
    int *fv = fh_malloc((size_t)d->nf * sizeof *fv), *ov = fh_malloc((size_t)d->n1 * sizeof *ov);
    if (!fv || !ov) {
        fh_free(fv), fh_free(ov);
        return fh_fail(FH_E_NOMEM, "eval: out of memory");
    }
    memcpy(fv, d->few, (size_t)d->nf * sizeof *fv), memcpy(ov, d->one, (size_t)d->n1 * sizeof *ov);
    pick(fv, d->nf, n_known, rng), pick(ov, d->n1, STRANGERS, rng);
    memcpy(d->ids, fv, (size_t)n_known * sizeof *d->ids), memcpy(d->ids + n_known, ov, STRANGERS * sizeof *d->ids);
    fh_free(fv), fh_free(ov);
    return FH_OK;
}

int eval_persons_cmd(const struct cli_opts *o) {
    int n_known = o->known > 0 ? o->known : 100, draws = o->draws > 0 ? o->draws : 5;
    int batches = o->batches > 0 ? o->batches : 1;
    if (cli_models_need(o)) return EXIT_FAIL;
    struct draws dw = {0};
    int rc = EXIT_FAIL;
    struct draw_result *res = fh_calloc((size_t)draws, sizeof *res);
    if (!res || evp_draws_open(o, n_known, &dw)) {
        fprintf(stderr, "facehatch: %s\n", fh_errmsg());
        goto out;
    }
    printf("eval persons: %d LFW identities with 4..9 images + %d strangers (1 image), %d draws from seed %d, "
           "indexed in %d batch%s\n", n_known, STRANGERS, draws, o->seed, batches, batches > 1 ? "es" : "");
    printf("%-6s %6s %8s %7s %7s %9s | %7s %7s %7s | %7s %6s %7s\n", "seed", "faces", "persons", "impure", "unknown",
           "known unk", "B P", "B R", "B F", "pair F", "ids", "seconds");
    for (int d = 0; d < draws; d++) {
        uint64_t rng;
        struct draw_result *r = &res[d];
        if (evp_draws_pick(&dw, o->seed + d, n_known, &rng) ||
            run_draw(o, &dw.l, dw.count, dw.ids, n_known + STRANGERS, batches, &rng, r)) {
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
    fh_free(res);
    evp_draws_free(&dw);
    return rc;
}

// ---- eval reembed: names kept across a model switch (issue 12, part 1) --------------------------
// A draw's library is built with the pinned model and scored; the user names the `named`
// largest persons after the identity most of their subjects are (as a user who knows them
// would), and moves up to 10 of those identities' unknown subjects into them (user
// decisions). Then the library is re-embedded with the target (--embedder / --precision)
// by lib_reembed and scored again. Kept: faces (all, not only subjects) under a named person
// before that are under a person of the same name after. Right: named identities' subjects
// under the person of their own name, before and after.
struct named_face {
    int64_t face;
    const char *name;
};
struct named_faces {
    struct named_face *v;
    int n, cap;
    const int64_t *pid;      // the named persons
    const char *const *pname; // and their names
    int np;
};
static int named_face_cb(void *ctx, const struct store_face *f) {
    struct named_faces *nf = ctx;
    for (int k = 0; k < nf->np; k++)
        if (f->person_id == nf->pid[k]) {
            if (fh_grow((void **)&nf->v, &nf->cap, nf->n + 1, sizeof *nf->v)) return 1;
            nf->v[nf->n++] = (struct named_face){f->id, nf->pname[k]};
        }
    return 0;
}

// 1 when face's person is named `name` now
static int under_name(struct lib *L, int64_t face, const char *name) {
    struct store_face f;
    struct store_person p;
    if (lib_face_get(L, LIB_OWNER_LOCAL, face, &f) || !f.person_id) return 0;
    if (lib_person_get(L, LIB_OWNER_LOCAL, f.person_id, &p)) return 0;
    return p.name && !strcmp(p.name, name);
}

struct rdraw {
    struct draw_result before, after;
    int named, moved, faces_named, kept, subj_named, right_before, right_after;
    struct lib_reembed_stats st;
};

static int reembed_draw(const struct cli_opts *o, struct draws *dw, int n_ids, int n_named, uint64_t *rng,
                        struct rdraw *x) {
    char dir[32], db[64];
    struct lib *L;
    double seconds;
    struct subject *sj = NULL;
    struct named *names = NULL;
    int rc = evp_build(o, &dw->l, dw->ids, n_ids, 1, rng, dir, &L, &seconds);
    snprintf(db, sizeof db, "%s/lib.db", dir);
    if (!rc) rc = evp_score(L, dw->count, dw->ids, n_ids, &dw->l, 1, &x->before, &sj, &names);
    int n = x->before.subjects; // (scored again below, after the user's decisions)
    // persons by subjects held, largest first; each named after its majority identity
    int64_t *pid = fh_calloc((size_t)(n + 1), sizeof *pid);
    int *size = fh_calloc((size_t)(n + 1), sizeof *size), *ident = fh_calloc((size_t)(n + 1), sizeof *ident);
    const char **pname = fh_calloc((size_t)(n + 1), sizeof *pname);
    char *used = fh_calloc((size_t)n_ids + 1, 1);
    if (!rc && (!pid || !size || !ident || !pname || !used)) rc = fh_fail(FH_E_NOMEM, "eval: out of memory");
    int np = 0;
    for (int i = 0; !rc && i < n; i++) {
        if (!sj[i].person) continue;
        int k = 0;
        while (k < np && pid[k] != sj[i].person) k++;
        if (k == np) pid[np++] = sj[i].person;
        size[k]++;
    }
    int *votes = rc ? NULL : fh_calloc((size_t)n_ids, sizeof *votes);
    if (!rc && !votes) rc = fh_fail(FH_E_NOMEM, "eval: out of memory");
    for (int done = 0; !rc && done < n_named; done++) {
        int best = -1;
        for (int k = 0; k < np; k++)
            if (!pname[k] && size[k] > 0 && (best < 0 || size[k] > size[best])) best = k;
        if (best < 0) break;
        memset(votes, 0, (size_t)n_ids * sizeof *votes);
        for (int i = 0; i < n; i++)
            if (sj[i].person == pid[best]) votes[sj[i].truth]++;
        int top = 0;
        for (int a = 1; a < n_ids; a++)
            if (votes[a] > votes[top]) top = a;
        size[best] = -1; // taken (named or skipped)
        if (used[top] || names[top].images < 2) { done--; continue; } // a stranger or a twin: not named
        used[top] = 1, ident[best] = top, pname[best] = names[top].name;
        rc = lib_rename(L, LIB_OWNER_LOCAL, pid[best], names[top].name);
        x->named++;
    }
    fh_free(votes);
    // keep only the named persons (in pid/pname order)
    int nn = 0;
    for (int k = 0; k < np; k++)
        if (pname[k]) pid[nn] = pid[k], pname[nn] = pname[k], ident[nn] = ident[k], nn++;
    // the user files up to 10 unknown subjects of named identities under their person
    for (int i = 0; !rc && i < n && x->moved < 10; i++) {
        if (sj[i].person) continue;
        for (int k = 0; k < nn; k++)
            if (ident[k] == sj[i].truth) {
                rc = lib_move_face(L, LIB_OWNER_LOCAL, sj[i].face, pid[k]);
                x->moved++;
                break;
            }
    }
    struct named_faces nf = {.pid = pid, .pname = pname, .np = nn};
    if (!rc) rc = store_faces_each(lib_store(L), LIB_OWNER_LOCAL, 0, named_face_cb, &nf);
    x->faces_named = nf.n;
    // subjects of named identities, right before
    for (int i = 0; !rc && i < n; i++)
        for (int k = 0; k < nn; k++)
            if (ident[k] == sj[i].truth) {
                x->subj_named++;
                x->right_before += under_name(L, sj[i].face, pname[k]);
            }
    // the library as the user leaves it (named, moved), before the switch
    struct subject *sj1 = NULL;
    if (!rc) rc = evp_score(L, dw->count, dw->ids, n_ids, &dw->l, 1, &x->before, &sj1, NULL);
    fh_free(sj1);
    lib_close(L);
    L = NULL;
    // the switch
    struct lib_options lo = lib_options_default();
    lo.threads = o->threads;
    if (!rc) rc = lib_open_ex(db, o->models, o->embedder, STORE_OPEN_EXISTING, o->int8 ? FH_LOAD_INT8 : 0, &L);
    if (!rc) rc = lib_reembed(L, &lo, &x->st);
    for (int i = 0; !rc && i < nf.n; i++) x->kept += under_name(L, nf.v[i].face, nf.v[i].name);
    for (int i = 0; !rc && i < n; i++)
        for (int k = 0; k < nn; k++)
            if (ident[k] == sj[i].truth) x->right_after += under_name(L, sj[i].face, pname[k]);
    struct subject *sj2 = NULL;
    if (!rc) rc = evp_score(L, dw->count, dw->ids, n_ids, &dw->l, 1, &x->after, &sj2, NULL);
    fh_free(sj2), fh_free(nf.v);
    fh_free(pid), fh_free(size), fh_free(ident), fh_free(pname), fh_free(used);
    fh_free(sj), fh_free(names);
    lib_close(L);
    evp_rm_tree(dir);
    return rc;
}

int eval_reembed_cmd(const struct cli_opts *o) {
    int n_known = o->known > 0 ? o->known : 100, draws = o->draws > 0 ? o->draws : 1, n_named = 30;
    if (!o->embedder && !o->int8) {
        fprintf(stderr, "facehatch: eval reembed needs the model to switch to: --embedder FILE or --precision int8\n");
        return EXIT_USAGE;
    }
    if (cli_models_need(o)) return EXIT_FAIL;
    struct fh_embedder_id to;
    struct draws dw = {0};
    if (fh_embedder_identify_flags(o->embedder, o->int8 ? FH_LOAD_INT8 : 0, &to) || evp_draws_open(o, n_known, &dw)) {
        fprintf(stderr, "facehatch: %s\n", fh_errmsg());
        evp_draws_free(&dw);
        return EXIT_FAIL;
    }
    printf("eval reembed: %d LFW identities with 4..9 images + %d strangers, the %d largest persons named, "
           "switched to %s %s; %d draws from seed %d\n", n_known, STRANGERS, n_named, to.name, to.version, draws,
           o->seed);
    printf("%-5s %6s %5s %5s | %11s %7s | %13s %13s | %15s %15s %7s\n", "seed", "faces", "named", "moved", "named faces",
           "kept", "subjects right", "(after)", "B F before", "B F after", "seconds");
    int rc = EXIT_OK;
    double kept = 0, right = 0, fb = 0, fa = 0, worst = 1;
    int impure = 0;
    for (int d = 0; d < draws && rc == EXIT_OK; d++) {
        uint64_t rng;
        struct rdraw x = {0};
        if (evp_draws_pick(&dw, o->seed + d, n_known, &rng) || reembed_draw(o, &dw, n_known + STRANGERS, n_named, &rng, &x)) {
            fprintf(stderr, "facehatch: %s\n", fh_errmsg());
            rc = EXIT_FAIL;
            break;
        }
        double k = x.faces_named ? (double)x.kept / x.faces_named : 1;
        printf("%-5d %6d %5d %5d | %11d %6.2f%% | %6d / %-6d %6d / %-6d | %7.4f (%d imp) %7.4f (%d imp) %7.1f\n",
               o->seed + d, x.before.subjects, x.named, x.moved, x.faces_named, 100 * k, x.right_before, x.subj_named,
               x.right_after, x.subj_named, x.before.c.bcubed_f, x.before.impure, x.after.c.bcubed_f, x.after.impure,
               x.st.seconds);
        fflush(stdout);
        kept += k / draws, fb += x.before.c.bcubed_f / draws, fa += x.after.c.bcubed_f / draws;
        right += (x.subj_named ? (double)x.right_after / x.subj_named : 1) / draws;
        if (k < worst) worst = k;
        impure += x.after.impure;
    }
    if (rc == EXIT_OK)
        printf("{\"eval\":\"reembed\",\"to\":\"%s %s\",\"ids\":%d,\"draws\":%d,\"seed\":%d,\"named\":%d,"
               "\"names_kept\":%.4f,\"names_kept_worst\":%.4f,\"subjects_right_after\":%.4f,\"bcubed_f_before\":%.4f,"
               "\"bcubed_f_after\":%.4f,\"impure_after\":%d}\n", to.name, to.version, n_known, draws, o->seed, n_named,
               kept, worst, right, fb, fa, impure);
    evp_draws_free(&dw);
    return rc;
}
