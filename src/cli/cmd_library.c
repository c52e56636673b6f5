// SPDX-License-Identifier: MIT
// The photo-library commands: index, persons, person, rename, merge, face, search,
// recluster. All go through library/ (which goes through store/ for every SQL).
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "library/library.h"

// Opens the library and resolves --user (default "local") to its id without creating it:
// an unknown user is an error (exit 1). need_models: the command runs the models (index,
// search), so missing ones are an error now, listing where they were looked for. --embedder
// FILE: the library's model (lib_open_embedder); index, search and recluster refuse a library
// whose faces another model embedded.
static int open_lib(const struct cli_opts *o, const char *usage, int need_models, struct lib **L,
                    int64_t *owner) {
    if (!o->db) {
        fprintf(stderr, "facehatch: --db LIB.db is required\nusage: facehatch %s\n", usage);
        return EXIT_USAGE;
    }
    if (need_models && cli_models_need(o)) return EXIT_FAIL;
    if (lib_open_ex(o->db, o->models, o->embedder, 0, o->int8 ? FH_LOAD_INT8 : 0, L)) {
        fprintf(stderr, "facehatch: %s\n", fh_errmsg());
        return EXIT_FAIL;
    }
    if (store_user_id(lib_store(*L), o->user, owner)) {
        fprintf(stderr, "facehatch: %s\n", fh_errmsg());
        lib_close(*L);
        return EXIT_FAIL;
    }
    return EXIT_OK;
}

int cli_lib_open(const struct cli_opts *o, const char *usage, int need_models, struct lib **L, int64_t *owner) {
    return open_lib(o, usage, need_models, L, owner);
}

static struct lib_options lib_opts(const struct cli_opts *o) {
    struct lib_options lo = lib_options_default();
    lo.threads = o->threads, lo.flip = o->flip;
    if (o->min_face_given) lo.min_face = o->min_face;
    lo.detector = cli_config(o).detector;
    return lo;
}

// ---- index -------------------------------------------------------------------------------------
struct bar {
    int tty;
    double last;
};
static void progress(void *ctx, const struct lib_progress *p) {
    struct bar *b = ctx;
    double rate = p->seconds > 0 ? p->done / p->seconds : 0, eta = rate > 0 ? (p->total - p->done) / rate : 0;
    if (b->tty) {
        int w = 30, fill = p->total ? (int)((double)w * p->done / p->total) : w;
        fprintf(stderr, "\r[%.*s%*s] %d/%d photos  %.1f photos/s  %d faces  ETA %d:%02d ", fill,
                "==============================", w - fill, "", p->done, p->total, rate, p->faces, (int)eta / 60,
                (int)eta % 60);
        if (p->done == p->total) fputc('\n', stderr);
    } else if (p->done == p->total || p->seconds - b->last >= 10 || p->done % 500 == 0) {
        fprintf(stderr, "index: %d/%d photos, %.1f photos/s, %d faces, ETA %.0f s\n", p->done, p->total, rate, p->faces, eta);
        b->last = p->seconds;
    }
}

int cmd_index(int argc, char **argv) {
    const char *usage = "index DIR... --db LIB.db|postgres://URL [--enqueue-only] [--user NAME] [--detector mtcnn|haar|ulfd|faceboxes|fused] [--embedder FILE] [--threads N] [--min-face N] [--thresh P,R,O] [--no-flip] [--import-xmp]";
    struct cli_opts o;
    struct lib *L;
    int64_t owner;
    int rc = cli_parse(&argc, argv, &o, usage);
    if (rc) return rc;
    if (argc < 1 || (o.import_xmp && o.enqueue_only)) {
        fprintf(stderr, "facehatch: index needs a folder%s\nusage: facehatch %s\n",
                argc < 1 ? "" : " (and --import-xmp needs the faces: not with --enqueue-only)", usage);
        return EXIT_USAGE;
    }
    if ((rc = open_lib(&o, usage, !o.enqueue_only, &L, &owner))) return rc;
    struct lib_options lo = lib_opts(&o);
    struct bar b = {isatty(2), 0};
    lo.progress = progress, lo.progress_ctx = &b;
    struct lib_stats st;
    if (o.enqueue_only) { // the work goes to `facehatch worker` processes
        int queued = 0;
        rc = lib_enqueue(L, owner, (const char *const *)argv, argc, &st, &queued);
        if (rc) fprintf(stderr, "facehatch: %s\n", fh_errmsg());
        printf("{\"files\":%d,\"queued\":%d,\"unchanged\":%d,\"deleted\":%d,\"seconds\":%.2f}\n", st.files,
               queued, st.unchanged, st.deleted, st.seconds);
        lib_close(L);
        return rc ? EXIT_FAIL : EXIT_OK;
    }
    rc = lib_index(L, owner, (const char *const *)argv, argc, &lo, &st);
    if (rc) fprintf(stderr, "facehatch: %s\n", fh_errmsg());
    printf("{\"files\":%d,\"indexed\":%d,\"unchanged\":%d,\"failed\":%d,\"deleted\":%d,\"faces\":%d,"
           "\"persons_new\":%d,\"seconds\":%.2f,\"photos_per_s\":%.2f,\"faces_per_s\":%.2f,\"stage_ms\":{",
           st.files, st.indexed, st.unchanged, st.failed, st.deleted, st.faces, st.persons_new, st.seconds,
           st.seconds > 0 ? st.indexed / st.seconds : 0, st.seconds > 0 ? st.faces / st.seconds : 0);
    for (int s = 0; s < LIB_T_N; s++) printf("%s\"%s\":%.1f", s ? "," : "", lib_stage_names[s], st.stage_ms[s]);
    printf("}}\n");
    if (!rc && o.import_xmp) rc = cli_xmp_import(L, owner, argv, argc);
    lib_close(L);
    return rc ? EXIT_FAIL : EXIT_OK;
}

// ---- worker --------------------------------------------------------------------------------------
static volatile int worker_stop;
static void on_signal(int sig) {
    (void)sig;
    worker_stop = 1;
}
static void worker_report(void *ctx, int64_t job, const char *kind, const char *path, const char *what, int faces) {
    (void)ctx;
    printf("{\"job\":%lld,\"kind\":\"%s\",\"path\":", (long long)job, kind);
    json_str(stdout, path ? path : "");
    printf(",\"result\":\"%s\",\"%s\":%d}\n", what, strcmp(kind, "cluster") ? "faces" : "persons_new", faces);
    fflush(stdout);
}

int cmd_worker(int argc, char **argv) {
    const char *usage = "worker --db postgres://URL|LIB.db [--threads N] [--exit-when-idle] [--lease S] [--detector D] [--embedder FILE] [--min-face N] [--no-flip]";
    struct cli_opts o;
    int rc = cli_parse(&argc, argv, &o, usage);
    if (rc) return rc;
    if (argc > 0) {
        fprintf(stderr, "facehatch: worker takes no arguments\nusage: facehatch %s\n", usage);
        return EXIT_USAGE;
    }
    if (!o.db) {
        fprintf(stderr, "facehatch: --db URL (or $FACEHATCH_DB) is required\nusage: facehatch %s\n", usage);
        return EXIT_USAGE;
    }
    if (cli_models_need(&o)) return EXIT_FAIL;
    struct lib *L;
    // a worker never creates a library: a wrong URL or an empty database is an error
    if (lib_open_ex(o.db, o.models, o.embedder, STORE_OPEN_EXISTING, o.int8 ? FH_LOAD_INT8 : 0, &L)) {
        fprintf(stderr, "facehatch: %s\n", fh_errmsg());
        return EXIT_FAIL;
    }
    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    struct lib_options lo = lib_opts(&o);
    if (!o.threads) lo.threads = 1; // one engine thread: scale out with more workers
    struct lib_worker_options w = {.lease_s = o.lease, .exit_when_idle = o.exit_when_idle, .stop = &worker_stop,
                                   .report = worker_report};
    struct lib_worker_stats st;
    rc = lib_worker_run(L, &lo, &w, &st);
    if (rc) fprintf(stderr, "facehatch: %s\n", fh_errmsg());
    printf("{\"jobs\":%d,\"indexed\":%d,\"unchanged\":%d,\"failed\":%d,\"clustered\":%d,\"lease_lost\":%d,"
           "\"faces\":%d,\"persons_new\":%d,\"seconds\":%.2f,\"photos_per_s\":%.2f,\"time\":{\"start\":%.3f,"
           "\"analyse\":%.3f,\"commit\":%.3f,\"cluster\":%.3f,\"idle\":%.3f}}\n",
           st.jobs, st.indexed, st.unchanged, st.failed, st.clustered, st.lost, st.faces, st.persons_new, st.seconds,
           st.seconds > 0 ? st.indexed / st.seconds : 0, st.t_start, st.t_analyse, st.t_commit, st.t_cluster, st.t_idle);
    lib_close(L);
    return rc ? EXIT_FAIL : EXIT_OK;
}

// ---- persons ------------------------------------------------------------------------------------
struct row {
    int64_t id, photo, person;
    int box[4], blurry, trash;
    float quality;
    char detector[16];
};
struct rows {
    struct row *v;
    int n, cap;
};
static int face_cb(void *ctx, const struct store_face *f) {
    struct rows *r = ctx;
    if (fh_grow((void **)&r->v, &r->cap, r->n + 1, sizeof *r->v)) return 1;
    struct row *x = &r->v[r->n++];
    x->id = f->id, x->photo = f->photo_id, x->person = f->person_id, x->blurry = f->blurry, x->trash = f->trash;
    x->quality = f->quality;
    memcpy(x->box, f->box, sizeof x->box);
    memcpy(x->detector, f->detector, sizeof x->detector);
    return 0;
}
struct prow {
    int64_t id, avatar;
    char *name;
    int hidden, n_faces, n_photos;
};
struct prows {
    struct prow *v;
    int n, cap;
};
static int person_cb(void *ctx, const struct store_person *p) {
    struct prows *r = ctx;
    if (fh_grow((void **)&r->v, &r->cap, r->n + 1, sizeof *r->v)) return 1;
    r->v[r->n++] = (struct prow){p->id, p->avatar_face, p->name ? strdup(p->name) : NULL, p->hidden, p->n_faces, p->n_photos};
    return 0;
}
struct paths {
    int64_t *id;
    char **path;
    int n, cap;
};
static int photo_cb(void *ctx, const struct store_photo *p) {
    struct paths *s = ctx;
    if (s->n == s->cap) {
        int nc = s->cap ? 2 * s->cap : 256;
        int64_t *a = fh_realloc(s->id, (size_t)nc * sizeof *a);
        if (a) s->id = a;
        char **b = fh_realloc(s->path, (size_t)nc * sizeof *b);
        if (b) s->path = b;
        if (!a || !b) return 1;
        s->cap = nc;
    }
    s->id[s->n] = p->id, s->path[s->n++] = strdup(p->path);
    return 0;
}
static const char *path_of(const struct paths *p, int64_t id) {
    for (int i = 0; i < p->n; i++) // photos come ordered by path, not id: linear scan
        if (p->id[i] == id) return p->path[i];
    return "?";
}

static void json_face_row(const struct row *f, const struct paths *ph, int first) {
    printf("%s{\"id\":%lld,\"photo\":", first ? "" : ",", (long long)f->id);
    json_str(stdout, path_of(ph, f->photo));
    printf(",\"box\":[%d,%d,%d,%d],\"blurry\":%s,\"trash\":%s,\"detector\":", f->box[0], f->box[1], f->box[2],
           f->box[3], f->blurry ? "true" : "false", f->trash ? "true" : "false");
    json_str(stdout, f->detector);
    putchar('}');
}

static int load_all(struct lib *L, int64_t owner, struct rows *fr, struct prows *pr, struct paths *ph) {
    struct store *s = lib_store(L);
    int rc = store_faces_each(s, owner, 0, face_cb, fr);
    if (!rc) rc = store_persons_each(s, owner, person_cb, pr);
    if (!rc) rc = store_photos_each(s, owner, photo_cb, ph);
    return rc;
}
static void free_all(struct rows *fr, struct prows *pr, struct paths *ph) {
    for (int i = 0; i < pr->n; i++) free(pr->v[i].name);
    for (int i = 0; i < ph->n; i++) free(ph->path[i]);
    fh_free(fr->v), fh_free(pr->v), fh_free(ph->id), fh_free(ph->path);
}

static void print_person_json(const struct prow *p, const struct rows *fr, const struct paths *ph) {
    printf("{\"id\":%lld,\"name\":", (long long)p->id);
    if (p->name) json_str(stdout, p->name);
    else fputs("null", stdout);
    printf(",\"hidden\":%s,\"avatar\":", p->hidden ? "true" : "false");
    const struct row *av = NULL;
    for (int i = 0; i < fr->n; i++)
        if (fr->v[i].id == p->avatar) av = &fr->v[i];
    if (av) {
        fputs("{\"photo\":", stdout);
        json_str(stdout, path_of(ph, av->photo));
        printf(",\"box\":[%d,%d,%d,%d]}", av->box[0], av->box[1], av->box[2], av->box[3]);
    } else {
        fputs("null", stdout);
    }
    fputs(",\"faces\":[", stdout);
    int first = 1;
    for (int i = 0; i < fr->n; i++)
        if (fr->v[i].person == p->id) json_face_row(&fr->v[i], ph, first), first = 0;
    fputs("]}", stdout);
}

int cmd_persons(int argc, char **argv) {
    const char *usage = "persons --db LIB.db [--user NAME] [--json]";
    struct cli_opts o;
    struct lib *L;
    int64_t owner;
    int rc = cli_parse(&argc, argv, &o, usage);
    if (rc || (rc = open_lib(&o, usage, 0, &L, &owner))) return rc;
    struct rows fr = {0};
    struct prows pr = {0};
    struct paths ph = {0};
    if ((rc = load_all(L, owner, &fr, &pr, &ph))) {
        fprintf(stderr, "facehatch: %s\n", fh_errmsg());
    } else if (o.json) {
        putchar('[');
        for (int i = 0; i < pr.n; i++) {
            if (i) putchar(',');
            print_person_json(&pr.v[i], &fr, &ph);
        }
        printf("%s{\"id\":null,\"name\":null,\"hidden\":false,\"avatar\":null,\"faces\":[", pr.n ? "," : "");
        int first = 1;
        for (int i = 0; i < fr.n; i++)
            if (!fr.v[i].person) json_face_row(&fr.v[i], &ph, first), first = 0;
        puts("]}]");
    } else {
        int unknown = 0;
        for (int i = 0; i < fr.n; i++) unknown += !fr.v[i].person;
        printf("%6s  %-28s %6s %7s  %s\n", "id", "name", "faces", "photos", "avatar");
        for (int i = 0; i < pr.n; i++) {
            const char *av = "-";
            for (int j = 0; j < fr.n; j++)
                if (fr.v[j].id == pr.v[i].avatar) av = path_of(&ph, fr.v[j].photo);
            printf("%6lld  %-28s %6d %7d  %s%s\n", (long long)pr.v[i].id, pr.v[i].name ? pr.v[i].name : "(unnamed)",
                   pr.v[i].n_faces, pr.v[i].n_photos, av, pr.v[i].hidden ? "  [hidden]" : "");
        }
        printf("%6s  %-28s %6d\n", "-", "(unknown faces)", unknown);
    }
    free_all(&fr, &pr, &ph);
    lib_close(L);
    return rc ? EXIT_FAIL : EXIT_OK;
}

static int resolve_person(struct lib *L, int64_t owner, const char *arg, int64_t *id) {
    char *end;
    long long v = strtoll(arg, &end, 10);
    struct store_person p;
    if (*arg && !*end && v > 0) {
        if (store_person_get(lib_store(L), owner, v, &p)) return fh_fail(FH_E_NOTFOUND, "no person with id %lld", v);
        *id = v;
        return FH_OK;
    }
    int rc = store_person_find(lib_store(L), owner, arg, &p);
    if (rc == FH_E_NOTFOUND) return fh_fail(rc, "no person named '%s'", arg);
    if (!rc) *id = p.id;
    return rc;
}

static int parse_id(const char *arg, const char *what, int64_t *id) {
    char *end;
    long long v = strtoll(arg, &end, 10);
    if (!*arg || *end || v <= 0) {
        fprintf(stderr, "facehatch: bad %s id '%s'\n", what, arg);
        return EXIT_USAGE;
    }
    *id = v;
    return EXIT_OK;
}

// person new NAME FACE... | person delete ID|NAME
static int person_edit(struct cli_opts *o, int argc, char **argv, const char *usage) {
    int isnew = !strcmp(argv[0], "new");
    if (isnew ? argc < 3 : argc != 2) {
        fprintf(stderr, "facehatch: person new NAME FACE_ID... | person delete ID|NAME\nusage: facehatch %s\n", usage);
        return EXIT_USAGE;
    }
    int n = isnew ? argc - 2 : 0, rc = EXIT_OK;
    if (n > LIB_FACES_MAX) {
        fprintf(stderr, "facehatch: at most %d faces\n", LIB_FACES_MAX);
        return EXIT_USAGE;
    }
    int64_t *faces = fh_calloc((size_t)(n ? n : 1), sizeof *faces);
    if (!faces) return EXIT_FAIL;
    for (int i = 0; !rc && i < n; i++) rc = parse_id(argv[2 + i], "face", &faces[i]);
    struct lib *L;
    int64_t owner, id = 0;
    if (rc || (rc = open_lib(o, usage, 0, &L, &owner))) {
        fh_free(faces);
        return rc;
    }
    int e = isnew ? lib_person_new(L, owner, argv[1], faces, n, &id)
                  : resolve_person(L, owner, argv[1], &id) ? FH_E_NOTFOUND : lib_person_delete(L, owner, id);
    if (e) fprintf(stderr, "facehatch: %s\n", fh_errmsg());
    else if (isnew) printf("{\"id\":%lld,\"name\":", (long long)id), json_str(stdout, argv[1]), printf(",\"faces\":%d}\n", n);
    else printf("{\"deleted\":%lld}\n", (long long)id);
    fh_free(faces);
    lib_close(L);
    return e ? EXIT_FAIL : EXIT_OK;
}

int cmd_person(int argc, char **argv) {
    const char *usage = "person NAME|ID --db LIB.db [--user NAME]  |  person new NAME FACE_ID...  |  person delete ID|NAME";
    struct cli_opts o;
    struct lib *L;
    int64_t owner;
    int rc = cli_parse(&argc, argv, &o, usage);
    if (rc) return rc;
    if (argc >= 1 && (!strcmp(argv[0], "new") || !strcmp(argv[0], "delete"))) return person_edit(&o, argc, argv, usage);
    if (argc != 1) {
        fprintf(stderr, "facehatch: person takes one name or id\nusage: facehatch %s\n", usage);
        return EXIT_USAGE;
    }
    if ((rc = open_lib(&o, usage, 0, &L, &owner))) return rc;
    int64_t id;
    struct rows fr = {0};
    struct prows pr = {0};
    struct paths ph = {0};
    if ((rc = resolve_person(L, owner, argv[0], &id)) || (rc = load_all(L, owner, &fr, &pr, &ph))) {
        fprintf(stderr, "facehatch: %s\n", fh_errmsg());
    } else {
        for (int i = 0; i < pr.n; i++)
            if (pr.v[i].id == id) print_person_json(&pr.v[i], &fr, &ph), putchar('\n');
    }
    free_all(&fr, &pr, &ph);
    lib_close(L);
    return rc ? EXIT_FAIL : EXIT_OK;
}

static int two_args(int argc, char **argv, const char *usage, struct cli_opts *o, int want) {
    int rc = cli_parse(&argc, argv, o, usage);
    if (rc) return rc;
    if (argc != want) {
        fprintf(stderr, "facehatch: wrong number of arguments\nusage: facehatch %s\n", usage);
        return EXIT_USAGE;
    }
    return EXIT_OK;
}

int cmd_rename(int argc, char **argv) {
    const char *usage = "rename ID|NAME NEW_NAME --db LIB.db [--user NAME]";
    struct cli_opts o;
    struct lib *L;
    int64_t owner;
    int rc = two_args(argc, argv, usage, &o, 2);
    if (rc || (rc = open_lib(&o, usage, 0, &L, &owner))) return rc;
    int64_t id;
    if ((rc = resolve_person(L, owner, argv[0], &id)) || (rc = lib_rename(L, owner, id, argv[1])))
        fprintf(stderr, "facehatch: %s\n", fh_errmsg());
    else
        printf("{\"id\":%lld,\"name\":", (long long)id), json_str(stdout, argv[1]), puts("}");
    lib_close(L);
    return rc ? EXIT_FAIL : EXIT_OK;
}

int cmd_merge(int argc, char **argv) {
    const char *usage = "merge INTO FROM --db LIB.db [--user NAME]   (ids or names; FROM's faces join INTO)";
    struct cli_opts o;
    struct lib *L;
    int64_t owner;
    int rc = two_args(argc, argv, usage, &o, 2);
    if (rc || (rc = open_lib(&o, usage, 0, &L, &owner))) return rc;
    int64_t a, b;
    if ((rc = resolve_person(L, owner, argv[0], &a)) || (rc = resolve_person(L, owner, argv[1], &b)) || (rc = lib_merge(L, owner, a, b)))
        fprintf(stderr, "facehatch: %s\n", fh_errmsg());
    else
        printf("{\"merged\":%lld,\"into\":%lld}\n", (long long)b, (long long)a);
    lib_close(L);
    return rc ? EXIT_FAIL : EXIT_OK;
}

int cmd_face(int argc, char **argv) {
    const char *usage = "face move FACE_ID PERSON|unknown --db LIB.db [--user NAME]  |  face reject FACE_ID PERSON --db LIB.db [--user NAME]";
    struct cli_opts o;
    struct lib *L;
    int64_t owner;
    int rc = two_args(argc, argv, usage, &o, 3);
    if (rc) return rc;
    int move = !strcmp(argv[0], "move");
    if (!move && strcmp(argv[0], "reject")) {
        fprintf(stderr, "facehatch: face move|reject\nusage: facehatch %s\n", usage);
        return EXIT_USAGE;
    }
    char *end;
    long long fid = strtoll(argv[1], &end, 10);
    if (*end || fid <= 0) {
        fprintf(stderr, "facehatch: bad face id '%s'\n", argv[1]);
        return EXIT_USAGE;
    }
    if ((rc = open_lib(&o, usage, 0, &L, &owner))) return rc;
    int64_t pid = 0;
    if (!(move && !strcmp(argv[2], "unknown"))) rc = resolve_person(L, owner, argv[2], &pid);
    if (!rc) rc = move ? lib_move_face(L, owner, fid, pid) : lib_reject_face(L, owner, fid, pid);
    if (rc) fprintf(stderr, "facehatch: %s\n", fh_errmsg());
    else printf("{\"face\":%lld,\"%s\":%lld}\n", fid, move ? "person" : "rejected", (long long)pid);
    lib_close(L);
    return rc ? EXIT_FAIL : EXIT_OK;
}

int cmd_search(int argc, char **argv) {
    const char *usage = "search --db LIB.db [--user NAME] [--embedder FILE] IMAGE";
    struct cli_opts o;
    struct lib *L;
    int64_t owner;
    int rc = two_args(argc, argv, usage, &o, 1);
    if (rc || (rc = open_lib(&o, usage, 1, &L, &owner))) return rc;
    struct img im;
    struct lib_match *m = NULL;
    int n = 0;
    struct lib_options lo = lib_opts(&o);
    struct rows fr = {0};
    struct prows pr = {0};
    struct paths ph = {0};
    if ((rc = fh_image_load(argv[0], &im)) || (rc = lib_search(L, owner, &im, &lo, &m, &n)) || (rc = load_all(L, owner, &fr, &pr, &ph))) {
        fprintf(stderr, "facehatch: %s\n", fh_errmsg());
    } else {
        fputs("{\"image\":", stdout);
        json_str(stdout, argv[0]);
        fputs(",\"faces\":[", stdout);
        for (int i = 0; i < n; i++) {
            printf("%s{\"box\":[%d,%d,%d,%d],\"person\":", i ? "," : "", m[i].face.box[0], m[i].face.box[1],
                   m[i].face.box[2], m[i].face.box[3]);
            const struct prow *p = NULL;
            for (int j = 0; j < pr.n; j++)
                if (pr.v[j].id == m[i].person_id) p = &pr.v[j];
            if (!p) {
                printf("null,\"distance\":%.4f,\"photos\":[]", m[i].distance);
            } else {
                printf("{\"id\":%lld,\"name\":", (long long)p->id);
                if (p->name) json_str(stdout, p->name);
                else fputs("null", stdout);
                printf("},\"distance\":%.4f,\"photos\":[", m[i].distance);
                int first = 1;
                for (int k = 0; k < fr.n; k++)
                    if (fr.v[k].person == p->id) {
                        if (!first) putchar(',');
                        json_str(stdout, path_of(&ph, fr.v[k].photo));
                        first = 0;
                    }
                putchar(']');
            }
            // the stored faces nearest to this one, in a person or not (within the threshold)
            struct lib_similar sim[20];
            int ns = 0;
            if (lib_similar(L, owner, m[i].face.embedding, 20, sim, &ns)) {
                fprintf(stderr, "facehatch: %s\n", fh_errmsg());
                ns = 0, rc = FH_E_DB;
            }
            fputs(",\"similar\":[", stdout);
            for (int k = 0, first = 1; k < ns; k++) {
                if (sim[k].distance >= lo.cluster_t) break;
                printf("%s{\"face\":%lld,\"photo\":", first ? "" : ",", (long long)sim[k].face_id);
                json_str(stdout, path_of(&ph, sim[k].photo_id));
                if (sim[k].person_id) printf(",\"person\":%lld", (long long)sim[k].person_id);
                else fputs(",\"person\":null", stdout);
                printf(",\"distance\":%.4f}", sim[k].distance);
                first = 0;
            }
            fputs("]}", stdout);
        }
        puts("]}");
    }
    if (!rc || m) img_free(&im);
    fh_free(m);
    free_all(&fr, &pr, &ph);
    lib_close(L);
    return rc ? EXIT_FAIL : EXIT_OK;
}

int cmd_recluster(int argc, char **argv) {
    const char *usage = "recluster --db LIB.db [--user NAME] [--embedder FILE]";
    struct cli_opts o;
    struct lib *L;
    int64_t owner;
    int rc = two_args(argc, argv, usage, &o, 0);
    if (rc || (rc = open_lib(&o, usage, 0, &L, &owner))) return rc;
    struct lib_options lo = lib_opts(&o);
    struct lib_stats st;
    if ((rc = lib_recluster(L, owner, &lo, &st))) fprintf(stderr, "facehatch: %s\n", fh_errmsg());
    else printf("{\"faces\":%d,\"persons_new\":%d,\"seconds\":%.2f}\n", st.faces, st.persons_new, st.seconds);
    lib_close(L);
    return rc ? EXIT_FAIL : EXIT_OK;
}

// ---- photo delete, hide, undo --------------------------------------------------------------------
int cmd_photo(int argc, char **argv) {
    const char *usage = "photo delete PHOTO_ID --db LIB.db [--user NAME]   (undo brings it back; the file is kept)";
    struct cli_opts o;
    struct lib *L;
    int64_t owner, id;
    int rc = two_args(argc, argv, usage, &o, 2);
    if (rc) return rc;
    if (strcmp(argv[0], "delete")) {
        fprintf(stderr, "facehatch: photo delete PHOTO_ID\nusage: facehatch %s\n", usage);
        return EXIT_USAGE;
    }
    if ((rc = parse_id(argv[1], "photo", &id)) || (rc = open_lib(&o, usage, 0, &L, &owner))) return rc;
    if ((rc = lib_photo_delete(L, owner, id))) fprintf(stderr, "facehatch: %s\n", fh_errmsg());
    else printf("{\"deleted_photo\":%lld}\n", (long long)id);
    lib_close(L);
    return rc ? EXIT_FAIL : EXIT_OK;
}

int cmd_hide(int argc, char **argv) {
    const char *usage = "hide ID|NAME --db LIB.db [--user NAME] [--show]";
    struct cli_opts o;
    struct lib *L;
    int64_t owner, id;
    int show = 0, k = 0;
    for (int i = 0; i < argc; i++) // --show is hide's own option
        if (!strcmp(argv[i], "--show")) show = 1;
        else argv[k++] = argv[i];
    int rc = two_args(k, argv, usage, &o, 1);
    if (rc || (rc = open_lib(&o, usage, 0, &L, &owner))) return rc;
    if ((rc = resolve_person(L, owner, argv[0], &id)) || (rc = lib_hide(L, owner, id, !show)))
        fprintf(stderr, "facehatch: %s\n", fh_errmsg());
    else printf("{\"id\":%lld,\"hidden\":%s}\n", (long long)id, show ? "false" : "true");
    lib_close(L);
    return rc ? EXIT_FAIL : EXIT_OK;
}

int cmd_undo(int argc, char **argv) {
    const char *usage = "undo --db LIB.db [--user NAME]   (takes back your last change)";
    struct cli_opts o;
    struct lib *L;
    int64_t owner;
    char sum[256];
    int rc = two_args(argc, argv, usage, &o, 0);
    if (rc || (rc = open_lib(&o, usage, 0, &L, &owner))) return rc;
    if ((rc = lib_undo(L, owner, sum, sizeof sum))) fprintf(stderr, "facehatch: %s\n", fh_errmsg());
    else fputs("{\"undone\":", stdout), json_str(stdout, sum), puts("}");
    lib_close(L);
    return rc ? EXIT_FAIL : EXIT_OK;
}

int cmd_recognition(int argc, char **argv) {
    const char *usage = "recognition off|on --db LIB.db [--user NAME]   (off deletes the user's faces and persons)";
    struct cli_opts o;
    struct lib *L;
    int64_t owner;
    int rc = two_args(argc, argv, usage, &o, 1);
    if (rc) return rc;
    int on = !strcmp(argv[0], "on");
    if (!on && strcmp(argv[0], "off")) {
        fprintf(stderr, "facehatch: recognition off|on\nusage: facehatch %s\n", usage);
        return EXIT_USAGE;
    }
    if ((rc = open_lib(&o, usage, 1, &L, &owner))) return rc;
    struct lib_options lo = lib_opts(&o);
    struct lib_stats st;
    if ((rc = lib_recognition_set(L, owner, on, &lo, &st))) fprintf(stderr, "facehatch: %s\n", fh_errmsg());
    else
        printf("{\"recognition\":%s,\"photos\":%d,\"indexed\":%d,\"failed\":%d,\"faces\":%d,\"persons_new\":%d}\n",
               on ? "true" : "false", st.files, st.indexed, st.failed, st.faces, st.persons_new);
    lib_close(L);
    return rc ? EXIT_FAIL : EXIT_OK;
}
