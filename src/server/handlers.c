// SPDX-License-Identifier: MIT
// The routes: a table {method, pattern, handler}; each handler is a plain function from
// the request view to a status and a body (JSON, JPEG or an embedded web asset). Every
// library/store call runs under the server's one mutex (the handle is not thread-safe);
// decoding and encoding images happen outside it. Shapes and limits: docs/http-api.md.
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/base.h"
#include "img/img.h"
#include "library/library.h"
#include "server/server_int.h"
#include "store/store.h"

#define UNKNOWN_LIMIT_DEFAULT 100
#define UNKNOWN_LIMIT_MAX 1000
#define PHOTO_JPEG_QUALITY 85

// ---- errors -------------------------------------------------------------------------------------
void srv_error(struct srv_resp *rs, int status, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    srv_buf_free(&rs->body);
    rs->status = status;
    rs->content_type = "application/json";
    rs->cache = NULL;
    struct srv_json w;
    jw_init(&w, &rs->body);
    jw_obj(&w);
    jw_key(&w, "error"), jw_obj(&w);
    jw_key(&w, "code"), jw_int(&w, status);
    jw_key(&w, "message"), jw_str(&w, msg);
    jw_obj_end(&w);
    jw_obj_end(&w);
}

static int status_of(int rc) {
    switch (rc) {
    case FH_E_NOTFOUND: return 404;
    case FH_E_ARG: return 400;
    case FH_E_FORMAT:
    case FH_E_UNSUPPORTED: return 415;
    case FH_E_LIMIT: return 413;
    case FH_E_BUSY: return 503;
    default: return 500;
    }
}

// an FH_E_* failure: the status from the code, the message from fh_errmsg()
static void fail(struct srv_resp *rs, int rc) {
    const char *m = fh_errmsg();
    srv_error(rs, status_of(rc), "%s", m && *m ? m : fh_strerror(rc));
}

static void json_ok(struct srv_resp *rs, int status) {
    rs->status = status;
    rs->content_type = "application/json";
}

// ---- request helpers ----------------------------------------------------------------------------
static const char *arg(const struct srv_req *rq, const char *key) {
    for (int i = 0; i < rq->n_args; i++)
        if (!strcmp(rq->arg_key[i], key)) return rq->arg_val[i];
    return NULL;
}

static int arg_int(const struct srv_req *rq, const char *key, int def, int lo, int hi) {
    const char *v = arg(rq, key);
    if (!v || !*v) return def;
    char *e;
    long x = strtol(v, &e, 10);
    if (*e) return def;
    return x < lo ? lo : x > hi ? hi : (int)x;
}

// parses the JSON body; on failure fills rs (400) and returns non-zero
static int body_json(const struct srv_req *rq, struct srv_resp *rs, struct srv_jdoc *d) {
    if (!rq->body_len) {
        srv_error(rs, 400, "a JSON object body is required");
        return 1;
    }
    int rc = srv_json_parse((const char *)rq->body, rq->body_len, d);
    if (rc) {
        srv_error(rs, 400, "%s", fh_errmsg());
        return 1;
    }
    return 0;
}

// an id member: a positive integer; null (or 0) allowed only when nullable (*id = 0)
static int json_id(const struct srv_jdoc *d, const char *key, int nullable, int64_t *id, struct srv_resp *rs) {
    const struct srv_jmember *m = srv_json_get(d, key);
    *id = 0;
    if (m && m->type == SRV_J_NULL && nullable) return 0;
    if (m && m->type == SRV_J_NUM && m->num == floor(m->num) && m->num >= (nullable ? 0 : 1) && m->num < 9007199254740992.0) {
        *id = (int64_t)m->num;
        return 0;
    }
    srv_error(rs, 400, "\"%s\" must be %s", key, nullable ? "a person id or null" : "a positive integer id");
    return 1;
}

// ---- JSON shapes ------------------------------------------------------------------------------------
static void person_json(struct srv_json *w, const struct store_person *p) {
    jw_obj(w);
    jw_key(w, "id"), jw_int(w, p->id);
    jw_key(w, "name"), jw_str(w, p->name && *p->name ? p->name : NULL);
    jw_key(w, "hidden"), jw_bool(w, p->hidden);
    jw_key(w, "n_faces"), jw_int(w, p->n_faces);
    jw_key(w, "n_photos"), jw_int(w, p->n_photos);
    jw_key(w, "avatar"), jw_id(w, p->avatar_face);
    jw_key(w, "avatar_by_user"), jw_bool(w, p->avatar_by_user);
    jw_obj_end(w);
}

static void face_json(struct srv_json *w, const struct store_face *f) {
    jw_obj(w);
    jw_key(w, "id"), jw_int(w, f->id);
    jw_key(w, "photo"), jw_int(w, f->photo_id);
    jw_key(w, "person"), jw_id(w, f->person_id);
    jw_key(w, "box"), jw_arr(w);
    for (int k = 0; k < 4; k++) jw_int(w, f->box[k]);
    jw_arr_end(w);
    jw_key(w, "score"), jw_num(w, f->det_score);
    jw_key(w, "quality"), jw_num(w, f->quality);
    jw_key(w, "blurry"), jw_bool(w, f->blurry);
    jw_key(w, "trash"), jw_bool(w, f->trash);
    jw_key(w, "assigned"), jw_str(w, f->assigned == STORE_USER ? "user" : "auto");
    jw_obj_end(w);
}

static const char *base_name(const char *p) {
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

static void photo_json(struct srv_json *w, const struct store_photo *p) {
    jw_obj(w);
    jw_key(w, "id"), jw_int(w, p->id);
    jw_key(w, "name"), jw_str(w, base_name(p->path)); // never the server-side folder
    jw_key(w, "width"), jw_int(w, p->width);
    jw_key(w, "height"), jw_int(w, p->height);
    jw_key(w, "n_faces"), jw_int(w, p->n_faces);
    jw_key(w, "status"), jw_str(w, p->status ? "failed" : "indexed");
    jw_key(w, "error"), jw_str(w, p->status ? p->error : NULL);
    jw_obj_end(w);
}

// ---- persons ------------------------------------------------------------------------------------------
struct list_ctx {
    struct srv_json *w;
    int64_t person;            // filter (faces of one person)
    int count;
    int64_t *ids;              // collected photo ids
    int n_ids, cap_ids;
};

static int person_cb(void *ctx, const struct store_person *p) {
    struct list_ctx *c = ctx;
    person_json(c->w, p);
    return 0;
}

static int count_unknown_cb(void *ctx, const struct store_face *f) {
    struct list_ctx *c = ctx;
    c->count += !f->person_id && !f->trash;
    return 0;
}

static void persons_list(struct srv *S, const struct srv_req *rq, int64_t id, struct srv_resp *rs) {
    struct srv_json w;
    struct list_ctx c = {.w = &w};
    jw_init(&w, &rs->body);
    jw_obj(&w);
    jw_key(&w, "persons"), jw_arr(&w);
    pthread_mutex_lock(&S->mu);
    struct store *s = lib_store(S->L);
    int rc = store_persons_each(s, rq->owner, person_cb, &c);
    if (!rc) rc = store_faces_each(s, rq->owner, 0, count_unknown_cb, &c);
    pthread_mutex_unlock(&S->mu);
    if (rc) return fail(rs, rc);
    jw_arr_end(&w);
    jw_key(&w, "unknown_faces"), jw_int(&w, c.count);
    jw_obj_end(&w);
    json_ok(rs, 200);
}

static int add_id(struct list_ctx *c, int64_t id) {
    for (int i = c->n_ids - 1; i >= 0 && i >= c->n_ids - 4; i--)
        if (c->ids[i] == id) return 0; // faces of a photo come in a run: cheap dedupe
    if (c->n_ids == c->cap_ids) {
        int nc = c->cap_ids ? 2 * c->cap_ids : 64;
        int64_t *v = fh_realloc(c->ids, (size_t)nc * sizeof *v);
        if (!v) return fh_fail(FH_E_NOMEM, "out of memory");
        c->ids = v, c->cap_ids = nc;
    }
    c->ids[c->n_ids++] = id;
    return 0;
}

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static int faces_of_person_cb(void *ctx, const struct store_face *f) {
    struct list_ctx *c = ctx;
    if (f->person_id != c->person) return 0;
    face_json(c->w, f);
    return add_id(c, f->photo_id);
}

static int photos_in_set_cb(void *ctx, const struct store_photo *p) {
    struct list_ctx *c = ctx;
    if (bsearch(&p->id, c->ids, (size_t)c->n_ids, sizeof *c->ids, cmp_i64)) photo_json(c->w, p);
    return 0;
}

static int write_person(struct srv *S, int64_t owner, int64_t id, struct srv_json *w) {
    struct store_person p;
    int rc = store_person_get(lib_store(S->L), owner, id, &p);
    if (!rc) person_json(w, &p);
    return rc;
}

static void person_get(struct srv *S, const struct srv_req *rq, int64_t id, struct srv_resp *rs) {
    struct srv_json w;
    struct list_ctx c = {.w = &w, .person = id};
    jw_init(&w, &rs->body);
    jw_obj(&w);
    pthread_mutex_lock(&S->mu);
    struct store *s = lib_store(S->L);
    jw_key(&w, "person");
    int rc = write_person(S, rq->owner, id, &w);
    if (!rc) {
        jw_key(&w, "faces"), jw_arr(&w);
        rc = store_faces_each(s, rq->owner, 0, faces_of_person_cb, &c);
        jw_arr_end(&w);
    }
    if (!rc) {
        qsort(c.ids, (size_t)c.n_ids, sizeof *c.ids, cmp_i64);
        int k = 0; // unique
        for (int i = 0; i < c.n_ids; i++)
            if (!k || c.ids[k - 1] != c.ids[i]) c.ids[k++] = c.ids[i];
        c.n_ids = k;
        jw_key(&w, "photos"), jw_arr(&w);
        // TODO(store): a store_photo_get(owner, id) would avoid scanning every photo here
        if (c.n_ids) rc = store_photos_each(s, rq->owner, photos_in_set_cb, &c);
        jw_arr_end(&w);
    }
    pthread_mutex_unlock(&S->mu);
    fh_free(c.ids);
    if (rc) return fail(rs, rc);
    jw_obj_end(&w);
    json_ok(rs, 200);
}

// answers {"person": {...}} for person id after a change
static void person_reply(struct srv *S, const struct srv_req *rq, int64_t id, struct srv_resp *rs) {
    struct srv_json w;
    jw_init(&w, &rs->body);
    jw_obj(&w);
    jw_key(&w, "person");
    int rc = write_person(S, rq->owner, id, &w);
    if (rc) return fail(rs, rc);
    jw_obj_end(&w);
    json_ok(rs, 200);
}

static void person_rename(struct srv *S, const struct srv_req *rq, int64_t id, struct srv_resp *rs) {
    struct srv_jdoc d;
    if (body_json(rq, rs, &d)) return;
    const struct srv_jmember *m = srv_json_get(&d, "name");
    char name[STORE_NAME_MAX + 1] = "";
    if (!m || (m->type != SRV_J_STR && m->type != SRV_J_NULL)) {
        srv_json_free(&d);
        return srv_error(rs, 400, "\"name\" must be a string or null");
    }
    if (m->type == SRV_J_STR) {
        const char *s = m->str, *e = s + strlen(s);
        while (*s == ' ' || *s == '\t') s++;
        while (e > s && (e[-1] == ' ' || e[-1] == '\t')) e--;
        if ((size_t)(e - s) > STORE_NAME_MAX) {
            srv_json_free(&d);
            return srv_error(rs, 400, "name longer than %d bytes", STORE_NAME_MAX);
        }
        for (const char *p = s; p < e; p++)
            if ((unsigned char)*p < 0x20 || *p == 0x7f) {
                srv_json_free(&d);
                return srv_error(rs, 400, "name contains control characters");
            }
        memcpy(name, s, (size_t)(e - s));
        name[e - s] = 0;
    }
    srv_json_free(&d);
    pthread_mutex_lock(&S->mu);
    int rc = lib_rename(S->L, rq->owner, id, name[0] ? name : NULL);
    if (rc) fail(rs, rc);
    else person_reply(S, rq, id, rs);
    pthread_mutex_unlock(&S->mu);
}

static void person_merge(struct srv *S, const struct srv_req *rq, int64_t id, struct srv_resp *rs) {
    struct srv_jdoc d;
    int64_t from;
    if (body_json(rq, rs, &d)) return;
    int bad = json_id(&d, "from", 0, &from, rs);
    srv_json_free(&d);
    if (bad) return;
    if (from == id) return srv_error(rs, 400, "a person cannot be merged into itself");
    pthread_mutex_lock(&S->mu);
    struct store_person p;
    // both must exist: 404 names the missing one
    int rc = store_person_get(lib_store(S->L), rq->owner, id, &p);
    if (!rc) rc = store_person_get(lib_store(S->L), rq->owner, from, &p);
    if (!rc) rc = lib_merge(S->L, rq->owner, id, from);
    if (rc) fail(rs, rc);
    else person_reply(S, rq, id, rs);
    pthread_mutex_unlock(&S->mu);
}

static void person_hide(struct srv *S, const struct srv_req *rq, int64_t id, struct srv_resp *rs) {
    struct srv_jdoc d;
    if (body_json(rq, rs, &d)) return;
    const struct srv_jmember *m = srv_json_get(&d, "hidden");
    int hidden = m && m->type == SRV_J_BOOL ? (int)m->num : -1;
    srv_json_free(&d);
    if (hidden < 0) return srv_error(rs, 400, "\"hidden\" must be true or false");
    pthread_mutex_lock(&S->mu);
    int rc = lib_hide(S->L, rq->owner, id, hidden);
    if (rc) fail(rs, rc);
    else person_reply(S, rq, id, rs);
    pthread_mutex_unlock(&S->mu);
}

static void person_avatar(struct srv *S, const struct srv_req *rq, int64_t id, struct srv_resp *rs) {
    struct srv_jdoc d;
    int64_t face;
    if (body_json(rq, rs, &d)) return;
    int bad = json_id(&d, "face", 0, &face, rs);
    srv_json_free(&d);
    if (bad) return;
    pthread_mutex_lock(&S->mu);
    struct store_face f;
    int rc = store_face_get(lib_store(S->L), rq->owner, face, &f);
    if (!rc && f.person_id != id) rc = fh_fail(FH_E_ARG, "face %lld is not a face of person %lld", (long long)face, (long long)id);
    if (!rc) rc = lib_set_avatar(S->L, rq->owner, id, face);
    if (rc) fail(rs, rc);
    else person_reply(S, rq, id, rs);
    pthread_mutex_unlock(&S->mu);
}

// ---- unknown faces with suggestions ------------------------------------------------------------------
// the person-centroid logic lives in the library (lib_unknown_faces)
static void unknown_list(struct srv *S, const struct srv_req *rq, int64_t id, struct srv_resp *rs) {
    int limit = arg_int(rq, "limit", UNKNOWN_LIMIT_DEFAULT, 1, UNKNOWN_LIMIT_MAX);
    const char *t = arg(rq, "trash");
    struct lib_unknown *u = NULL;
    int n = 0, total = 0;
    pthread_mutex_lock(&S->mu);
    int rc = lib_unknown_faces(S->L, rq->owner, limit, t && !strcmp(t, "1"), &u, &n, &total);
    pthread_mutex_unlock(&S->mu);
    if (rc) {
        fail(rs, rc);
        return;
    }
    struct srv_json w;
    jw_init(&w, &rs->body);
    jw_obj(&w);
    jw_key(&w, "total"), jw_int(&w, total);
    jw_key(&w, "faces"), jw_arr(&w);
    for (int i = 0; i < n; i++) {
        jw_obj(&w);
        jw_key(&w, "face");
        face_json(&w, &u[i].face);
        jw_key(&w, "suggestion");
        if (u[i].person) {
            jw_obj(&w);
            jw_key(&w, "person"), jw_int(&w, u[i].person);
            jw_key(&w, "name"), jw_str(&w, u[i].name[0] ? u[i].name : NULL);
            jw_key(&w, "distance"), jw_num(&w, u[i].distance);
            jw_obj_end(&w);
        } else jw_null(&w);
        jw_obj_end(&w);
    }
    jw_arr_end(&w);
    jw_obj_end(&w);
    json_ok(rs, 200);
    fh_free(u);
}

// ---- faces -----------------------------------------------------------------------------------------
static void face_reply(struct srv *S, const struct srv_req *rq, int64_t id, struct srv_resp *rs) {
    struct store_face f;
    int rc = store_face_get(lib_store(S->L), rq->owner, id, &f);
    if (rc) return fail(rs, rc);
    struct srv_json w;
    jw_init(&w, &rs->body);
    jw_obj(&w);
    jw_key(&w, "face");
    face_json(&w, &f);
    jw_obj_end(&w);
    json_ok(rs, 200);
}

static void face_get(struct srv *S, const struct srv_req *rq, int64_t id, struct srv_resp *rs) {
    pthread_mutex_lock(&S->mu);
    face_reply(S, rq, id, rs);
    pthread_mutex_unlock(&S->mu);
}

static void face_move(struct srv *S, const struct srv_req *rq, int64_t id, struct srv_resp *rs) {
    struct srv_jdoc d;
    int64_t person;
    if (body_json(rq, rs, &d)) return;
    int bad = json_id(&d, "person", 1, &person, rs);
    srv_json_free(&d);
    if (bad) return;
    pthread_mutex_lock(&S->mu);
    int rc = lib_move_face(S->L, rq->owner, id, person);
    if (rc) fail(rs, rc);
    else face_reply(S, rq, id, rs);
    pthread_mutex_unlock(&S->mu);
}

static void face_reject(struct srv *S, const struct srv_req *rq, int64_t id, struct srv_resp *rs) {
    struct srv_jdoc d;
    int64_t person;
    if (body_json(rq, rs, &d)) return;
    int bad = json_id(&d, "person", 0, &person, rs);
    srv_json_free(&d);
    if (bad) return;
    pthread_mutex_lock(&S->mu);
    int rc = lib_reject_face(S->L, rq->owner, id, person);
    if (rc) fail(rs, rc);
    else face_reply(S, rq, id, rs);
    pthread_mutex_unlock(&S->mu);
}

static void face_thumb(struct srv *S, const struct srv_req *rq, int64_t id, struct srv_resp *rs) {
    pthread_mutex_lock(&S->mu);
    struct store_face f;
    int rc = store_face_get(lib_store(S->L), rq->owner, id, &f);
    if (!rc && (!f.thumb || !f.thumb_size)) rc = fh_fail(FH_E_NOTFOUND, "face %lld has no thumbnail", (long long)id);
    if (!rc) srv_buf_put(&rs->body, f.thumb, f.thumb_size);
    pthread_mutex_unlock(&S->mu);
    if (rc) return fail(rs, rc);
    rs->status = 200;
    rs->content_type = "image/jpeg";
    rs->cache = "private, max-age=86400"; // a face id never gets other pixels
}

// ---- photos --------------------------------------------------------------------------------------
struct photo_find {
    int64_t id;
    char *path;
    struct srv_json *w;        // if set, writes the photo JSON
};

static int photo_find_cb(void *ctx, const struct store_photo *p) {
    struct photo_find *c = ctx;
    if (p->id != c->id) return 0;
    if (c->w) photo_json(c->w, p);
    if (!(c->path = fh_malloc(strlen(p->path) + 1))) return fh_fail(FH_E_NOMEM, "out of memory");
    strcpy(c->path, p->path);
    return 1;
}

static int faces_cb(void *ctx, const struct store_face *f) {
    face_json(ctx, f);
    return 0;
}

static void photo_get(struct srv *S, const struct srv_req *rq, int64_t id, struct srv_resp *rs) {
    struct srv_json w;
    jw_init(&w, &rs->body);
    jw_obj(&w);
    jw_key(&w, "photo");
    struct photo_find c = {.id = id, .w = &w};
    pthread_mutex_lock(&S->mu);
    struct store *s = lib_store(S->L);
    int rc = store_photos_each(s, rq->owner, photo_find_cb, &c);
    rc = rc == 1 ? FH_OK : rc ? rc : fh_fail(FH_E_NOTFOUND, "no photo %lld", (long long)id);
    if (!rc) {
        jw_key(&w, "faces"), jw_arr(&w);
        rc = store_faces_of_photo(s, rq->owner, id, faces_cb, &w);
        jw_arr_end(&w);
    }
    pthread_mutex_unlock(&S->mu);
    fh_free(c.path);
    if (rc) return fail(rs, rc);
    jw_obj_end(&w);
    json_ok(rs, 200);
}

// Downscales so the longest side is at most max_side: halving steps (bilinear at exact
// half-pixel centres averages 2x2 blocks, so no aliasing) then one bilinear resize.
// OUT: *out (a new image, or a copy of nothing: *out = *im and the caller must not free it
// twice; returns 1 when out is a new image).
static int shrink(const struct img *im, int max_side, struct img *out, int *rc) {
    struct img cur = *im;
    int owned = 0;
    *rc = FH_OK;
    while ((cur.w > cur.h ? cur.w : cur.h) > 2 * max_side) {
        struct img half;
        if ((*rc = img_alloc(&half, cur.w / 2, cur.h / 2, cur.c))) break;
        img_resize_region(&cur, 0, 0, cur.w, cur.h, &half);
        if (owned) img_free(&cur);
        cur = half, owned = 1;
    }
    int side = cur.w > cur.h ? cur.w : cur.h;
    if (!*rc && side > max_side) {
        double f = (double)max_side / side;
        int w = (int)lround(cur.w * f), h = (int)lround(cur.h * f);
        struct img dst;
        if (!(*rc = img_alloc(&dst, w < 1 ? 1 : w, h < 1 ? 1 : h, cur.c))) {
            img_resize_region(&cur, 0, 0, cur.w, cur.h, &dst);
            if (owned) img_free(&cur);
            cur = dst, owned = 1;
        }
    }
    if (*rc && owned) img_free(&cur), owned = 0;
    *out = cur;
    return owned;
}

static void photo_image(struct srv *S, const struct srv_req *rq, int64_t id, struct srv_resp *rs) {
    int max_side = arg_int(rq, "max", SRV_PHOTO_MAX_SIDE, 32, SRV_PHOTO_MAX_SIDE);
    struct photo_find c = {.id = id};
    pthread_mutex_lock(&S->mu);
    int rc = store_photos_each(lib_store(S->L), rq->owner, photo_find_cb, &c);
    pthread_mutex_unlock(&S->mu);
    rc = rc == 1 ? FH_OK : rc ? rc : fh_fail(FH_E_NOTFOUND, "no photo %lld", (long long)id);
    uint8_t *data = NULL, *jpg = NULL;
    size_t n = 0, nj = 0;
    struct img im = {0}, small;
    // the path is one the library indexed (an upload, or a file under an indexed folder)
    if (!rc) rc = fh_read_file(c.path, FH_MAX_IMAGE_FILE_BYTES, &data, &n);
    if (rc == FH_E_IO) rc = fh_fail(FH_E_NOTFOUND, "photo %lld: its file is gone", (long long)id);
    if (!rc) rc = img_decode_mem(data, n, &im);
    fh_free(data);
    if (!rc) {
        int owned = shrink(&im, max_side, &small, &rc);
        if (!rc) rc = img_encode_jpeg(&small, PHOTO_JPEG_QUALITY, &jpg, &nj);
        if (owned) img_free(&small);
    }
    img_free(&im);
    fh_free(c.path);
    if (rc) {
        if (rc == FH_E_FORMAT || rc == FH_E_UNSUPPORTED) rc = FH_E_IO; // our stored file: a 500
        return fail(rs, rc);
    }
    srv_buf_put(&rs->body, jpg, nj);
    fh_free(jpg);
    rs->status = 200;
    rs->content_type = "image/jpeg";
    rs->cache = "private, max-age=3600";
}

// ---- uploads ------------------------------------------------------------------------------------------
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

// Moves a received file (its temporary file, named by its sha256) to uploads/<sha256>.<ext>
// and queues it. The same bytes already stored for this owner, or waiting in the queue,
// are not queued again: *state says "duplicate" (and *photo the stored photo, if indexed).
static int take_upload(struct srv *S, int64_t owner, struct srv_upfile *f, const char *ext, char *file, size_t nf,
                       const char **state, int64_t *photo) {
    char path[4200], tmp[4200];
    snprintf(file, nf, "%s.%s", f->sha, ext);
    if ((size_t)snprintf(path, sizeof path, "%s/%s", S->uploads, file) >= sizeof path ||
        (size_t)snprintf(tmp, sizeof tmp, "%s/%s", S->uploads, f->tmp) >= sizeof tmp)
        return fh_fail(FH_E_LIMIT, "upload path too long");
    *state = "queued", *photo = 0;
    if (!access(path, F_OK)) { // the same content is stored already
        struct store_photo p;
        pthread_mutex_lock(&S->mu);
        int found = !store_photo_find(lib_store(S->L), owner, path, &p);
        pthread_mutex_unlock(&S->mu);
        if (found || srv_indexer_pending(S->ix, path)) {
            *state = "duplicate", *photo = found ? p.id : 0;
            return FH_OK;      // the temporary copy is removed with the request
        }
    } else if (rename(tmp, path)) {
        return fh_fail(FH_E_IO, "cannot store the upload: %s", strerror(errno));
    } else
        f->tmp[0] = 0;         // taken
    // TODO(store): pass f->name on as photos.orig_name once the store has that column
    // (added by the library/store work of issue 7); today the indexer shows it in /api/status.
    return srv_indexer_push(S->ix, path, f->name);
}

static void upload(struct srv *S, const struct srv_req *rq, int64_t id, struct srv_resp *rs) {
    if (!rq->n_files) return srv_error(rs, 400, "no file in the upload (multipart parts with a filename)");
    struct srv_json w;
    jw_init(&w, &rs->body);
    jw_obj(&w);
    jw_key(&w, "files"), jw_arr(&w);
    int queued = 0, dups = 0, first_err = 0;
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
        if (!status && take_upload(S, rq->owner, f, ext, file, sizeof file, &state, &photo))
            status = 500, state = "rejected", snprintf(msg, sizeof msg, "%s: %s", f->name, fh_errmsg());
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
    json_ok(rs, queued ? 202 : dups ? 200 : first_err);
}

static void status(struct srv *S, const struct srv_req *rq, int64_t id, struct srv_resp *rs) {
    struct srv_json w;
    jw_init(&w, &rs->body);
    jw_obj(&w);
    jw_key(&w, "indexing");
    srv_indexer_status(S->ix, &w, arg_int(rq, "recent", 20, 0, SRV_RECENT_MAX));
    jw_obj_end(&w);
    json_ok(rs, 200);
}

// ---- search, recluster ------------------------------------------------------------------------------
static void search(struct srv *S, const struct srv_req *rq, int64_t id, struct srv_resp *rs) {
    // the first file part, kept in memory by the spool (http.c), its size checked on arrival
    const struct srv_upfile *f = rq->n_files ? &rq->files[0] : NULL;
    if (!f) return srv_error(rs, 400, "no image in the request (a multipart part with a filename)");
    if (f->status) return srv_error(rs, f->status, "%s", f->msg);
    if (!srv_sniff_image(rq->body, rq->body_len))
        return srv_error(rs, 415, "%s: not a JPEG, PNG, HEIC or WebP image", f->name);
    struct img im;
    int rc = img_decode_mem(rq->body, rq->body_len, &im);
    if (rc) return fail(rs, rc);
    struct lib_options o = lib_options_default();
    o.threads = S->cfg.threads;
    struct lib_match *m = NULL;
    int n = 0;
    struct srv_json w;
    jw_init(&w, &rs->body);
    jw_obj(&w);
    jw_key(&w, "width"), jw_int(&w, im.w);
    jw_key(&w, "height"), jw_int(&w, im.h);
    jw_key(&w, "faces"), jw_arr(&w);
    struct fh_face *faces = NULL;
    rc = lib_embed(S->L, &im, &o, &faces, &n); // the models run outside the global lock
    pthread_mutex_lock(&S->mu);
    if (!rc) rc = lib_match(S->L, rq->owner, faces, n, &o, &m);
    fh_free(faces);
    for (int i = 0; !rc && i < n; i++) {
        jw_obj(&w);
        jw_key(&w, "box"), jw_arr(&w);
        for (int k = 0; k < 4; k++) jw_int(&w, m[i].face.box[k]);
        jw_arr_end(&w);
        jw_key(&w, "score"), jw_num(&w, m[i].face.score);
        jw_key(&w, "distance"), jw_num(&w, m[i].distance < 1e8f ? m[i].distance : NAN);
        jw_key(&w, "person");
        struct store_person sp;
        if (m[i].person_id && !store_person_get(lib_store(S->L), rq->owner, m[i].person_id, &sp)) person_json(&w, &sp);
        else jw_null(&w);
        jw_obj_end(&w);
    }
    pthread_mutex_unlock(&S->mu);
    fh_free(m);
    img_free(&im);
    if (rc) return fail(rs, rc);
    jw_arr_end(&w);
    jw_obj_end(&w);
    json_ok(rs, 200);
}

static void recluster(struct srv *S, const struct srv_req *rq, int64_t id, struct srv_resp *rs) {
    struct lib_options o = lib_options_default();
    o.threads = S->cfg.threads;
    struct lib_stats st;
    pthread_mutex_lock(&S->mu);
    int rc = lib_recluster(S->L, rq->owner, &o, &st);
    pthread_mutex_unlock(&S->mu);
    if (rc) return fail(rs, rc);
    struct srv_json w;
    jw_init(&w, &rs->body);
    jw_obj(&w);
    jw_key(&w, "faces"), jw_int(&w, st.faces);
    jw_key(&w, "persons_new"), jw_int(&w, st.persons_new);
    jw_key(&w, "seconds"), jw_num(&w, st.seconds);
    jw_obj_end(&w);
    json_ok(rs, 200);
}

// ---- routing -------------------------------------------------------------------------------------------
typedef void (*handler_fn)(struct srv *S, const struct srv_req *rq, int64_t id, struct srv_resp *rs);
static const struct route {
    const char *method, *pattern; // '#' in a pattern: one positive integer segment
    handler_fn fn;
} ROUTES[] = {
    {"GET", "/api/persons", persons_list},
    {"GET", "/api/persons/#", person_get},
    {"POST", "/api/persons/#/rename", person_rename},
    {"POST", "/api/persons/#/merge", person_merge},
    {"POST", "/api/persons/#/hide", person_hide},
    {"POST", "/api/persons/#/avatar", person_avatar},
    {"GET", "/api/unknown", unknown_list},
    {"GET", "/api/faces/#", face_get},
    {"POST", "/api/faces/#/move", face_move},
    {"POST", "/api/faces/#/reject", face_reject},
    {"GET", "/api/faces/#/thumb", face_thumb},
    {"GET", "/api/photos/#", photo_get},
    {"GET", "/api/photos/#/image", photo_image},
    {"POST", "/api/upload", upload},
    {"GET", "/api/status", status},
    {"POST", "/api/search", search},
    {"POST", "/api/recluster", recluster},
    {"GET", "/api/me", srv_h_me},
    {"POST", "/api/login", srv_h_login},
    {"POST", "/api/logout", srv_h_logout},
    {"POST", "/api/account/recognition", srv_h_recognition},
    {"POST", "/api/account/delete", srv_h_account_delete},
};

// 1 if path matches pattern (*id gets the '#' segment)
static int match(const char *pattern, const char *path, int64_t *id) {
    const char *p = pattern, *s = path;
    *id = 0;
    while (*p && *s) {
        if (*p == '#') {
            int64_t v = 0;
            int digits = 0;
            while (*s >= '0' && *s <= '9' && digits < 18) v = v * 10 + (*s++ - '0'), digits++;
            if (!digits || v <= 0 || (*s >= '0' && *s <= '9')) return 0;
            *id = v;
            p++;
            continue;
        }
        if (*p++ != *s++) return 0;
    }
    return !*p && !*s;
}

static void asset(const struct srv_req *rq, struct srv_resp *rs) {
    const char *path = !strcmp(rq->path, "/") ? "/index.html" : rq->path;
    for (size_t i = 0; i < srv_n_assets; i++)
        if (!strcmp(srv_assets[i].path, path)) {
            srv_buf_put(&rs->body, srv_assets[i].data, srv_assets[i].len);
            rs->status = 200;
            rs->content_type = srv_assets[i].mime;
            rs->cache = "no-cache"; // revalidated: a new binary brings new assets
            return;
        }
    srv_error(rs, 404, "no such page: %s", rq->path);
}

void srv_handle(struct srv *S, const struct srv_req *rq, struct srv_resp *rs) {
    int wrong_method = 0;
    int64_t id;
    for (size_t i = 0; i < sizeof ROUTES / sizeof *ROUTES; i++) {
        if (!match(ROUTES[i].pattern, rq->path, &id)) continue;
        if (strcmp(ROUTES[i].method, rq->method)) {
            wrong_method = 1;
            continue;
        }
        ROUTES[i].fn(S, rq, id, rs);
        return;
    }
    if (wrong_method) return srv_error(rs, 405, "%s not allowed on %s", rq->method, rq->path);
    if (!strncmp(rq->path, "/api/", 5) || !strcmp(rq->path, "/api"))
        return srv_error(rs, 404, "no such route: %s", rq->path);
    if (strcmp(rq->method, "GET") && strcmp(rq->method, "HEAD"))
        return srv_error(rs, 405, "%s not allowed on %s", rq->method, rq->path);
    asset(rq, rs);
}
