// SPDX-License-Identifier: MIT
// Routes on photos: one photo with its faces, its image (downscaled JPEG), delete (undoable:
// the file stays while an op can bring the photo back, see lib_photo_delete).
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "base/base.h"
#include "img/img.h"
#include "server/handlers_int.h"

#define PHOTO_JPEG_QUALITY 85

static int faces_cb(void *ctx, const struct store_face *f) {
    srv_face_json(ctx, f);
    return 0;
}

void srv_h_photo_get(struct srv *S, const struct srv_req *rq, int64_t id, struct srv_resp *rs) {
    struct srv_json w;
    struct store_photo p;
    jw_init(&w, &rs->body);
    jw_obj(&w);
    pthread_mutex_lock(&S->mu);
    int rc = lib_photo_get(S->L, rq->owner, id, &p);
    if (!rc) {
        jw_key(&w, "photo");
        srv_photo_json(&w, &p);
        jw_key(&w, "faces"), jw_arr(&w);
        rc = lib_faces_of_photo(S->L, rq->owner, id, faces_cb, &w);
        jw_arr_end(&w);
    }
    pthread_mutex_unlock(&S->mu);
    if (rc) return srv_fail(rs, rc);
    jw_obj_end(&w);
    srv_json_ok(rs, 200);
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

void srv_h_photo_image(struct srv *S, const struct srv_req *rq, int64_t id, struct srv_resp *rs) {
    int max_side = srv_arg_int(rq, "max", SRV_PHOTO_MAX_SIDE, 32, SRV_PHOTO_MAX_SIDE);
    struct store_photo p;
    char *path = NULL;
    pthread_mutex_lock(&S->mu);
    int rc = lib_photo_get(S->L, rq->owner, id, &p);
    if (!rc && !(path = fh_malloc(strlen(p.path) + 1))) rc = fh_fail(FH_E_NOMEM, "out of memory");
    if (!rc) strcpy(path, p.path);
    pthread_mutex_unlock(&S->mu);
    uint8_t *data = NULL, *jpg = NULL;
    size_t n = 0, nj = 0;
    struct img im = {0}, small;
    // the path is one the library indexed (an upload, or a file under an indexed folder)
    if (!rc) rc = fh_read_file(path, FH_MAX_IMAGE_FILE_BYTES, &data, &n);
    if (rc == FH_E_IO) rc = fh_fail(FH_E_NOTFOUND, "photo %lld: its file is gone", (long long)id);
    if (!rc) rc = img_decode_mem(data, n, &im);
    fh_free(data);
    if (!rc) {
        int owned = shrink(&im, max_side, &small, &rc);
        if (!rc) rc = img_encode_jpeg(&small, PHOTO_JPEG_QUALITY, &jpg, &nj);
        if (owned) img_free(&small);
    }
    img_free(&im);
    fh_free(path);
    if (rc) {
        if (rc == FH_E_FORMAT || rc == FH_E_UNSUPPORTED) rc = FH_E_IO; // our stored file: a 500
        return srv_fail(rs, rc);
    }
    srv_buf_put(&rs->body, jpg, nj);
    fh_free(jpg);
    rs->status = 200;
    rs->content_type = "image/jpeg";
    rs->cache = "private, max-age=3600";
}

// POST /api/photos/{id}/delete: the row and its faces go (one op); the file stays for undo
void srv_h_photo_delete(struct srv *S, const struct srv_req *rq, int64_t id, struct srv_resp *rs) {
    pthread_mutex_lock(&S->mu);
    int rc = lib_photo_delete(S->L, rq->owner, id);
    if (rc) srv_fail(rs, rc);
    else srv_op_reply(S, rq, rs);
    pthread_mutex_unlock(&S->mu);
}
