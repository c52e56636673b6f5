// SPDX-License-Identifier: MIT
// XMP face regions (library.h "XMP face regions"): the named faces of a library written into
// the photos' XMP as MWG regions, and regions other programs wrote read back as the user's
// decisions. The XMP itself is meta/xmp.c's; here: which faces, which names, which boxes.
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "img/img.h"
#include "library/library_int.h"
#include "meta/xmp.h"

// ---- the photos and faces worked on (copied out of the store's callbacks) ----------------------
struct photo {
    int64_t id;
    char *path;
    int w, h;                   // upright size
};
struct photos {
    struct photo *v;
    int n, cap;
    char **roots;               // realpath'd roots (NULL: every photo)
    int n_roots;
};

static void photos_free(struct photos *p) {
    for (int i = 0; i < p->n; i++) fh_free(p->v[i].path);
    fh_free(p->v);
    for (int i = 0; i < p->n_roots; i++) free(p->roots[i]);   // realpath's malloc
    fh_free(p->roots);
}

static char *dup(const char *s) {
    size_t n = strlen(s) + 1;
    char *d = fh_malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

static int photo_cb(void *ctx, const struct store_photo *p) {
    struct photos *ps = ctx;
    if (p->status || p->width < 1 || p->height < 1) return 0;   // unreadable: no faces, no size
    int under = !ps->roots;
    for (int i = 0; !under && i < ps->n_roots; i++) {
        size_t l = strlen(ps->roots[i]);
        under = !strncmp(p->path, ps->roots[i], l) && (p->path[l] == '/' || p->path[l] == 0 || l == 1);
    }
    if (!under) return 0;
    if (fh_grow((void **)&ps->v, &ps->cap, ps->n + 1, sizeof *ps->v)) return FH_E_NOMEM;
    struct photo *x = &ps->v[ps->n];
    if (!(x->path = dup(p->path))) return FH_E_NOMEM;
    x->id = p->id, x->w = p->width, x->h = p->height;
    ps->n++;
    return 0;
}

static int photos_list(struct lib *L, int64_t owner, const char *const *roots, int n_roots, struct photos *ps) {
    memset(ps, 0, sizeof *ps);
    if (roots && n_roots > 0) {
        if (!(ps->roots = fh_calloc((size_t)n_roots, sizeof *ps->roots))) return fh_fail(FH_E_NOMEM, "xmp: out of memory");
        for (; ps->n_roots < n_roots; ps->n_roots++)
            if (!(ps->roots[ps->n_roots] = realpath(roots[ps->n_roots], NULL)))
                return fh_fail(FH_E_IO, "%s: %s", roots[ps->n_roots], strerror(errno));
    }
    int rc = lib_photos_each(L, owner, photo_cb, ps);
    return rc == FH_E_NOMEM ? fh_fail(FH_E_NOMEM, "xmp: out of memory") : rc;
}

struct face {
    int64_t id, person;
    int box[4];
    int by_user;                // assigned by the user (STORE_USER)
};
struct faces {
    struct face *v;
    int n, cap;
};

static int face_cb(void *ctx, const struct store_face *f) {
    struct faces *fs = ctx;
    if (fh_grow((void **)&fs->v, &fs->cap, fs->n + 1, sizeof *fs->v)) return FH_E_NOMEM;
    fs->v[fs->n++] = (struct face){f->id, f->person_id, {f->box[0], f->box[1], f->box[2], f->box[3]}, f->assigned == STORE_USER};
    return 0;
}

static int faces_of(struct lib *L, int64_t owner, int64_t photo, struct faces *fs) {
    fs->n = 0;
    int rc = lib_faces_of_photo(L, owner, photo, face_cb, fs);
    return rc == FH_E_NOMEM ? fh_fail(FH_E_NOMEM, "xmp: out of memory") : rc;
}

// the EXIF orientation a decode applies to the file (1 when it cannot be read: the caller's
// next step, reading or writing the XMP, reports a missing file)
static int file_orientation(const char *path, int *o) {
    uint8_t *buf;
    size_t n;
    int rc = fh_read_file(path, FH_MAX_IMAGE_FILE_BYTES, &buf, &n);
    if (rc) return rc;
    *o = img_orientation_mem(buf, n);
    fh_free(buf);
    return FH_OK;
}

static void say(const struct lib_xmp_options *o, const char *path, const char *what) {
    if (o && o->report) o->report(o->report_ctx, path, what);
}

// ---- export ------------------------------------------------------------------------------------
int lib_xmp_export(struct lib *L, int64_t owner, const struct lib_xmp_options *o, struct lib_xmp_stats *st) {
    memset(st, 0, sizeof *st);
    struct photos ps;
    struct faces fs = {0};
    struct meta_region *reg = NULL;
    int *which = NULL, cap = 0, wcap = 0;
    int rc = photos_list(L, owner, NULL, 0, &ps);
    for (int i = 0; !rc && i < ps.n; i++) {
        const struct photo *p = &ps.v[i];
        st->photos++;
        if ((rc = faces_of(L, owner, p->id, &fs))) break;
        if (fs.n && (fh_grow((void **)&reg, &cap, fs.n, sizeof *reg) || fh_grow((void **)&which, &wcap, fs.n, sizeof *which))) {
            rc = fh_fail(FH_E_NOMEM, "xmp: out of memory");
            break;
        }
        int n = 0, orientation = 1;
        for (int k = 0; k < fs.n; k++) {   // the named faces, in face id order
            struct store_person pe;
            if (!fs.v[k].person || lib_person_get(L, owner, fs.v[k].person, &pe) || !pe.name || !pe.name[0] || pe.hidden)
                continue;
            if (!meta_name_ok(pe.name)) {   // a control character in a name: not XML text
                st->skipped++;
                continue;
            }
            memset(&reg[n], 0, sizeof reg[n]);
            snprintf(reg[n].name, sizeof reg[n].name, "%s", pe.name);
            reg[n].face = 1;
            which[n++] = k;
        }
        if (n && file_orientation(p->path, &orientation)) {
            st->failed++, say(o, p->path, fh_errmsg());
            continue;
        }
        for (int j = 0; j < n; j++) meta_area_from_box(orientation, p->w, p->h, fs.v[which[j]].box, &reg[j]);
        // AppliedToDimensions: the stored size (the upright one turned back)
        int tr = orientation >= 5, sw = tr ? p->h : p->w, sh = tr ? p->w : p->h, changed = 0, e;
        char path[STORE_PATH_MAX + 8];
        if (o && o->in_file) {
            snprintf(path, sizeof path, "%s.bak", p->path);
            e = meta_regions_write_embedded(p->path, path, sw, sh, reg, n, &changed);
        } else {
            e = meta_sidecar_path(p->path, 1, path, sizeof path);
            if (!e) e = meta_regions_write_sidecar(path, sw, sh, reg, n, &changed);
        }
        if (e == FH_E_NOMEM) rc = e;
        else if (e) st->failed++, say(o, p->path, fh_errmsg());
        else if (changed) st->written++, st->regions += n;
        else if (n) st->unchanged++, st->regions += n;
    }
    fh_free(reg);
    fh_free(which);
    fh_free(fs.v);
    photos_free(&ps);
    return rc;
}

// ---- import ------------------------------------------------------------------------------------
struct named {
    int64_t id;
    char *name;
};
struct names {
    struct named *v;
    int n, cap;
};

static int named_cb(void *ctx, const struct store_person *p) {
    struct names *ns = ctx;
    if (!p->name || !p->name[0]) return 0;
    if (fh_grow((void **)&ns->v, &ns->cap, ns->n + 1, sizeof *ns->v)) return FH_E_NOMEM;
    if (!(ns->v[ns->n].name = dup(p->name))) return FH_E_NOMEM;
    ns->v[ns->n++].id = p->id;
    return 0;
}

// the person called name: the first in lib_persons_each's order (most faces); 0 none
static int64_t person_named(const struct names *ns, const char *name) {
    for (int i = 0; i < ns->n; i++)
        if (!strcmp(ns->v[i].name, name)) return ns->v[i].id;
    return 0;
}

// a face the import gives a name to
struct plan {
    int64_t face;
    char *name;
};

static int by_name(const void *a, const void *b) {
    const struct plan *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : (x->face > y->face) - (x->face < y->face);
}

// regions of a photo: the first of photo.jpg.xmp, photo.xmp and the photo's own XMP that has any
static int read_regions(const char *path, struct meta_regions *r) {
    char side[STORE_PATH_MAX + 8];
    for (int k = 0; k < 2; k++) {
        int rc = meta_sidecar_path(path, k == 0, side, sizeof side);
        if (!rc) rc = meta_regions_read_sidecar(side, r);
        if (rc == FH_E_NOTFOUND) continue;
        if (rc || r->n || r->skipped) return rc;
        meta_regions_free(r);
    }
    return meta_regions_read_embedded(path, r);
}

static double box_iou(const double a[4], const double b[4]) {
    double iw = fmin(a[2], b[2]) - fmax(a[0], b[0]), ih = fmin(a[3], b[3]) - fmax(a[1], b[1]);
    if (iw <= 0 || ih <= 0) return 0;
    double in = iw * ih;
    return in / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - in);
}

static int inside(const double a[4], const double b[4]) {   // a's centre inside b
    double cx = (a[0] + a[2]) / 2, cy = (a[1] + a[3]) / 2;
    return cx >= b[0] && cx <= b[2] && cy >= b[1] && cy <= b[3];
}

// matches named face regions (upright boxes rb) to the photo's faces; appends the faces to name
// to *pl, reports the regions without face
static int match_faces(struct lib *L, const struct photo *p, const struct lib_xmp_options *o, const struct names *ns,
                       const struct meta_regions *r, const double (*rb)[4], const struct faces *fs, struct plan **pl,
                       int *npl, int *plcap, struct lib_xmp_stats *st) {
    double(*fb)[4] = fh_malloc((size_t)(fs->n + 1) * sizeof *fb);
    char *used = fh_calloc((size_t)(r->n + fs->n + 1), 1);
    int rc = !fb || !used ? fh_fail(FH_E_NOMEM, "xmp: out of memory") : FH_OK;
    for (int k = 0; !rc && k < fs->n; k++)   // inclusive pixels -> [x1, x2 + 1)
        for (int c = 0; c < 4; c++) fb[k][c] = fs->v[k].box[c] + (c >= 2);
    // greedy: the best overlapping (region, face) pair first; a pair counts when its IoU reaches
    // LIB_XMP_MATCH_IOU or each box's centre lies inside the other (a hand-drawn box around a
    // detector's square)
    for (;;) {
        int bi = -1, bk = -1;
        double best = -1;
        for (int i = 0; !rc && i < r->n; i++) {
            if (used[i] || !r->v[i].face || !r->v[i].name[0]) continue;
            for (int k = 0; k < fs->n; k++) {
                if (used[r->n + k]) continue;
                double v = box_iou(rb[i], fb[k]);
                if ((v >= LIB_XMP_MATCH_IOU || (inside(rb[i], fb[k]) && inside(fb[k], rb[i]))) && v > best)
                    best = v, bi = i, bk = k;
            }
        }
        if (bi < 0) break;
        used[bi] = used[r->n + bk] = 1;
        st->matched++;
        const struct face *f = &fs->v[bk];
        int64_t pid = person_named(ns, r->v[bi].name);
        if (f->by_user) {   // the user placed it in facehatch: that decision stands
            st->kept += !(pid && f->person == pid);
            continue;
        }
        int rej = pid ? store_face_is_rejected(L->s, f->id, pid) : 0;
        if (rej) {          // "not this person" said in facehatch (or an error)
            if (rej < 0) rc = rej;
            else st->kept++;
            continue;
        }
        if (fh_grow((void **)pl, plcap, *npl + 1, sizeof **pl) || !((*pl)[*npl].name = dup(r->v[bi].name))) {
            rc = fh_fail(FH_E_NOMEM, "xmp: out of memory");
            break;
        }
        (*pl)[(*npl)++].face = f->id;
    }
    for (int i = 0; !rc && i < r->n; i++) {
        if (used[i] || !r->v[i].face || !r->v[i].name[0]) continue;
        char m[STORE_NAME_MAX + 120];
        snprintf(m, sizeof m, "no detected face where '%s' is (%.0f,%.0f)-(%.0f,%.0f)", r->v[i].name, rb[i][0],
                 rb[i][1], rb[i][2], rb[i][3]);
        st->unmatched++, say(o, p->path, m);
    }
    fh_free(fb), fh_free(used);
    return rc;
}

// one photo: its regions, in which frame, then match_faces
static int import_photo(struct lib *L, int64_t owner, const struct photo *p, const struct lib_xmp_options *o,
                        const struct names *ns, struct faces *fs, struct plan **pl, int *npl, int *plcap,
                        struct lib_xmp_stats *st) {
    struct meta_regions r;
    int rc = read_regions(p->path, &r), orientation = 1, named = 0;
    if (rc) {
        if (rc != FH_E_NOMEM) st->failed++, say(o, p->path, fh_errmsg()), rc = FH_OK;
        return rc;
    }
    for (int i = 0; i < r.n; i++) named += r.v[i].face && r.v[i].name[0];
    st->skipped += r.skipped + r.n - named;
    st->regions += named;
    if (named && (rc = file_orientation(p->path, &orientation))) {
        if (rc != FH_E_NOMEM) st->failed++, say(o, p->path, fh_errmsg()), rc = FH_OK;
        named = 0;
    }
    // the frame the areas are in: the stored image (MWG); a writer that used the upright one
    // gives AppliedToDimensions of the upright aspect and is read so; another aspect is refused
    int tr = orientation >= 5, sw = tr ? p->h : p->w, sh = tr ? p->w : p->h, frame = orientation;
    if (named && r.dim_w && r.dim_h && fabs((double)r.dim_w * sh - (double)r.dim_h * sw) > 0.01 * r.dim_w * sh) {
        if (tr && fabs((double)r.dim_w * sw - (double)r.dim_h * sh) <= 0.01 * r.dim_w * sw) frame = 1;
        else {
            char m[200];
            snprintf(m, sizeof m, "its regions apply to a %dx%d image, this one is %dx%d (cropped or turned since?)",
                     r.dim_w, r.dim_h, sw, sh);
            st->failed++, say(o, p->path, m);
            named = 0;
        }
    }
    double(*rb)[4] = named ? fh_malloc((size_t)r.n * sizeof *rb) : NULL;
    if (named && !rb) rc = fh_fail(FH_E_NOMEM, "xmp: out of memory");
    for (int i = 0; !rc && named && i < r.n; i++) meta_area_to_box(frame, p->w, p->h, &r.v[i], rb[i]);
    if (!rc && named && !(rc = faces_of(L, owner, p->id, fs)))
        rc = match_faces(L, p, o, ns, &r, (const double(*)[4])rb, fs, pl, npl, plcap, st);
    fh_free(rb);
    meta_regions_free(&r);
    return rc;
}

int lib_xmp_import(struct lib *L, int64_t owner, const char *const *roots, int n_roots, const struct lib_xmp_options *o,
                   struct lib_xmp_stats *st) {
    memset(st, 0, sizeof *st);
    struct photos ps;
    struct names ns = {0};
    struct faces fs = {0};
    struct plan *pl = NULL;
    int npl = 0, plcap = 0;
    int rc = photos_list(L, owner, roots, n_roots, &ps);
    if (!rc && (rc = lib_persons_each(L, owner, named_cb, &ns)) == FH_E_NOMEM) rc = fh_fail(FH_E_NOMEM, "xmp: out of memory");
    for (int i = 0; !rc && i < ps.n; i++, st->photos++) rc = import_photo(L, owner, &ps.v[i], o, &ns, &fs, &pl, &npl, &plcap, st);
    // one user action per name (one undo takes an import's naming of a person back)
    if (!rc && npl) qsort(pl, (size_t)npl, sizeof *pl, by_name);
    int64_t *ids = npl ? fh_malloc((size_t)npl * sizeof *ids) : NULL;
    if (!rc && npl && !ids) rc = fh_fail(FH_E_NOMEM, "xmp: out of memory");
    for (int a = 0, b; !rc && a < npl; a = b) {
        for (b = a; b < npl && !strcmp(pl[a].name, pl[b].name); b++) ids[b - a] = pl[b].face;
        int64_t pid = person_named(&ns, pl[a].name);
        for (int from = 0; !rc && from < b - a; from += LIB_FACES_MAX) {
            int k = b - a - from < LIB_FACES_MAX ? b - a - from : LIB_FACES_MAX;
            if (pid) rc = lib_move_faces(L, owner, ids + from, k, pid);
            else if (!(rc = lib_person_new(L, owner, pl[a].name, ids + from, k, &pid))) st->persons_new++;
        }
        if (!rc) st->assigned += b - a;
    }
    fh_free(ids);
    for (int i = 0; i < npl; i++) fh_free(pl[i].name);
    fh_free(pl);
    for (int i = 0; i < ns.n; i++) fh_free(ns.v[i].name);
    fh_free(ns.v);
    fh_free(fs.v);
    photos_free(&ps);
    return rc;
}
