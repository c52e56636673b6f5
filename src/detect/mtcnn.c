// SPDX-License-Identifier: MIT
// MTCNN cascade, following MTCNN.kt / Box.kt (models.md 3.5) step by step:
//
//   image --pyramid(scale 12/min_face, x0.709 ...)--> P-Net per level (or one packed run)
//         --> cells with p > 0.6 -> boxes; NMS 0.5 per level; NMS 0.7 over all; regress
//         --> square + shift inside
//         --> R-Net on 24x24 crops (batched); keep p >= 0.7; NMS 0.7; regress; square
//         --> O-Net on 48x48 crops (batched); landmarks; keep p >= 0.7; regress; NMS 0.7 "Min"
//
// Boxes are inclusive integer pixels and the box maths is float32 like the Kotlin code,
// so this reproduces the reference pipeline's integer boxes (see the golden tests).
// Network inputs are (v - 127.5)/128 and transposed ([n][x][y][c]): the Caffe MTCNN was
// trained on MATLAB's column-major images, so the transpose is part of the model.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "detect/detect.h"

struct boxes {
    struct det_box *b;
    int n, cap;
};

// one P-Net strip of one pyramid level (pnet_strips) and the boxes it found
struct pnet_item {
    int level, x0, w, cx0, ncell, thread;
    struct boxes out;
    int rc;
};

// a reusable image buffer (see ensure_img)
struct buf_img {
    struct img im;
    size_t cap; // bytes allocated
};

struct det_mtcnn {
    const struct nn_net *pnet, *rnet, *onet;
    struct nn_session *sp, *sr, *so;
    struct det_box *all, *lvl;   // candidates: running list, current level
    int n_all, cap_all, n_lvl, cap_lvl;
    struct det_face *faces;
    int cap_faces;
    struct buf_img level;        // reused buffers: the pyramid level,
    int n_threads;               // the pool's threads (1 without a pool)
    struct buf_img *crop;        // one R/O-Net crop per thread
    struct fh_pool *pool;        // borrowed (may be NULL): the sessions' and the pyramid's
    struct nn_session **spt;     // one single-threaded P-Net session per thread
    long *load;                  // pixels of P-Net strips given to each thread (pnet_strips)
    uint8_t *pyr;                // every pyramid level, one after another
    size_t cap_pyr;
    struct pnet_item *items;     // P-Net strips of the current photo
    int n_items, cap_items, init_items; // items [0, init_items) hold valid box buffers
};

// R/O-Net crops per run: small enough that a batch's activations stay in L2 (R-Net's first
// conv writes 54 KB a crop; at 128 crops the pooling after it waits on memory and the stage
// runs 1.6x slower than at 48), large enough to fill the kernels' 12-row blocks
#define STAGE_BATCH(S) ((S) == 24 ? 48 : 16)

struct det_options det_options_default(void) {
    return (struct det_options){.min_face = 20, .thresh = {0.6f, 0.7f, 0.7f}, .factor = 0.709f};
}

int det_mtcnn_new(const struct nn_net *pnet, const struct nn_net *rnet,
                  const struct nn_net *onet, struct fh_pool *pool, struct det_mtcnn **out) {
    *out = NULL;
    if (nn_net_n_outputs(pnet) != 2 || nn_net_n_outputs(rnet) != 2 || nn_net_n_outputs(onet) != 3)
        return fh_fail(FH_E_ARG, "mtcnn: nets have the wrong outputs");
    struct det_mtcnn *d = fh_calloc(1, sizeof *d);
    if (!d) return fh_fail(FH_E_NOMEM, "mtcnn: out of memory");
    d->pnet = pnet, d->rnet = rnet, d->onet = onet, d->pool = pool;
    d->n_threads = fh_pool_size(pool);
    d->crop = fh_calloc((size_t)d->n_threads, sizeof *d->crop);
    d->spt = fh_calloc((size_t)d->n_threads, sizeof *d->spt);
    d->load = fh_calloc((size_t)d->n_threads, sizeof *d->load);
    for (int t = 0; d->spt && t < d->n_threads; t++)
        if (nn_session_new(pnet, NULL, &d->spt[t])) {
            det_mtcnn_free(d);
            return fh_fail(FH_E_NOMEM, "mtcnn: out of memory");
        }
    if (!d->crop || !d->spt || !d->load) {
        det_mtcnn_free(d);
        return fh_fail(FH_E_NOMEM, "mtcnn: out of memory");
    }
    if (nn_session_new(pnet, pool, &d->sp) || nn_session_new(rnet, pool, &d->sr) ||
        nn_session_new(onet, pool, &d->so)) {
        det_mtcnn_free(d);
        return fh_fail(FH_E_NOMEM, "mtcnn: out of memory");
    }
    *out = d;
    return FH_OK;
}

void det_mtcnn_free(struct det_mtcnn *d) {
    if (!d) return;
    nn_session_free(d->sp), nn_session_free(d->sr), nn_session_free(d->so);
    fh_free(d->all), fh_free(d->lvl), fh_free(d->faces);
    img_free(&d->level.im);
    for (int i = 0; d->crop && i < d->n_threads; i++) img_free(&d->crop[i].im);
    for (int i = 0; d->spt && i < d->n_threads; i++) nn_session_free(d->spt[i]);
    for (int i = 0; i < d->init_items; i++) fh_free(d->items[i].out.b);
    fh_free(d->crop), fh_free(d->spt), fh_free(d->load), fh_free(d->pyr), fh_free(d->items);
    fh_free(d);
}

static int grow(void **p, int *cap, int need, size_t elem) {
    if (need > FH_MAX_CANDIDATES)
        return fh_fail(FH_E_LIMIT, "mtcnn: more than %d candidate boxes", FH_MAX_CANDIDATES);
    return fh_grow(p, cap, need, elem);
}

// ---- box helpers (Box.kt) -----------------------------------------------------------
static int bw(const int *b) { return b[2] - b[0] + 1; }
static int bh(const int *b) { return b[3] - b[1] + 1; }

void det_nms(struct det_box *b, int n, float th, int use_min) {
    for (int i = 0; i < n; i++) {
        if (b[i].deleted) continue;
        for (int j = i + 1; j < n; j++) {
            if (b[j].deleted) continue;
            int x1 = b[i].box[0] > b[j].box[0] ? b[i].box[0] : b[j].box[0];
            int y1 = b[i].box[1] > b[j].box[1] ? b[i].box[1] : b[j].box[1];
            int x2 = b[i].box[2] < b[j].box[2] ? b[i].box[2] : b[j].box[2];
            int y2 = b[i].box[3] < b[j].box[3] ? b[i].box[3] : b[j].box[3];
            if (x2 < x1 || y2 < y1) continue;
            int inter = (x2 - x1 + 1) * (y2 - y1 + 1);
            int ai = bw(b[i].box) * bh(b[i].box), aj = bw(b[j].box) * bh(b[j].box);
            float iou = use_min ? (float)inter / (float)(ai < aj ? ai : aj)
                                : (float)inter / (float)(ai + aj - inter);
            if (iou >= th) {
                if (b[i].score > b[j].score) b[j].deleted = 1;
                else b[i].deleted = 1;
            }
        }
    }
}

// x1 += w*dx1 ... in float32, truncated toward zero
static void calibrate(struct det_box *b) {
    int w = bw(b->box), h = bh(b->box);
    b->box[0] = (int)((float)b->box[0] + (float)w * b->bbr[0]);
    b->box[1] = (int)((float)b->box[1] + (float)h * b->bbr[1]);
    b->box[2] = (int)((float)b->box[2] + (float)w * b->bbr[2]);
    b->box[3] = (int)((float)b->box[3] + (float)h * b->bbr[3]);
    memset(b->bbr, 0, sizeof b->bbr);
}

// toSquareShape + limitSquare
void det_square_box(int *b, int W, int H) {
    int w = bw(b), h = bh(b);
    if (w > h) b[1] -= (w - h) / 2, b[3] += (w - h + 1) / 2;
    else b[0] -= (h - w) / 2, b[2] += (h - w + 1) / 2;
    if (b[0] < 0 || b[1] < 0) {
        int len = -b[0] > -b[1] ? -b[0] : -b[1];
        b[0] += len, b[1] += len;
    }
    if (b[2] >= W || b[3] >= H) {
        int len = b[2] - W + 1 > b[3] - H + 1 ? b[2] - W + 1 : b[3] - H + 1;
        b[2] -= len, b[3] -= len;
    }
}

// drop deleted boxes (and degenerate ones the crop could not take), keep order
static int compact(struct det_box *b, int n) {
    int k = 0;
    for (int i = 0; i < n; i++)
        if (!b[i].deleted && bw(b[i].box) >= 1 && bh(b[i].box) >= 1) b[k++] = b[i];
    return k;
}

// normalised, transposed copy of an RGB image into dst [w][h][3]
static void to_input(const struct img *im, float *dst) {
    for (int x = 0; x < im->w; x++)
        for (int y = 0; y < im->h; y++) {
            const uint8_t *p = im->data + (size_t)y * im->stride + (size_t)x * 3;
            float *q = dst + ((size_t)x * im->h + y) * 3;
            q[0] = (p[0] - 127.5f) * 0.0078125f;
            q[1] = (p[1] - 127.5f) * 0.0078125f;
            q[2] = (p[2] - 127.5f) * 0.0078125f;
        }
}

// (Re)shapes a reusable buffer to w x h RGB, reallocating only when it must grow, so
// detection on a stream of photos stops allocating after the largest one.
static int ensure_img(struct buf_img *b, int w, int h) {
    size_t need = (size_t)w * h * 3;
    if (need > b->cap) {
        img_free(&b->im);
        int rc = img_alloc(&b->im, w, h, 3);
        if (rc) {
            b->cap = 0;
            return rc;
        }
        b->cap = need;
    }
    b->im.w = w, b->im.h = h, b->im.stride = (size_t)w * 3;
    return FH_OK;
}

// ---- stage 1: P-Net ---------------------------------------------------------------------
struct level {
    float scale;
    int w, h;      // level image size
    int x0, y0;    // placement in the packed canvas (even), 0 when run alone
    size_t off;    // bytes into the pyramid buffer (strips)
};

// P-Net output cells [xa, xb) x [0, oh) of one level -> appended to d->lvl. Cell (x, y)
// is read at tensor cell (x + cx_off, y + cy_off) of the run's [cw][ch] outputs (the run
// may be a packed canvas or a strip of the level). Boxes carry their cell index so the
// level list can be put back in MTCNN.kt's order (rows y outer, columns x inner).
static int gen_boxes(struct boxes *out, const struct level *L, const float *prob,
                     const float *reg, int cw, int ch, float th, int xa, int xb, int cx_off,
                     int cy_off) {
    int ow = (L->w - 2 + 1) / 2 - 4, oh = (L->h - 2 + 1) / 2 - 4;
    for (int y = 0; y < oh; y++)
        for (int x = xa; x < xb; x++) {
            if (x + cx_off >= cw || y + cy_off >= ch) continue;
            size_t cell = (size_t)(x + cx_off) * ch + (size_t)(y + cy_off); // tensor [x][y]
            float score = prob[cell * 2 + 1];
            if (!(score > th)) continue;
            int rc = grow((void **)&out->b, &out->cap, out->n + 1, sizeof *out->b);
            if (rc) return rc;
            struct det_box *b = &out->b[out->n++];
            memset(b, 0, sizeof *b);
            b->score = score;
            b->cell = y * ow + x;
            b->box[0] = (int)rintf((float)(x * 2) / L->scale);
            b->box[1] = (int)rintf((float)(y * 2) / L->scale);
            b->box[2] = (int)rintf((float)(x * 2 + 11) / L->scale);
            b->box[3] = (int)rintf((float)(y * 2 + 11) / L->scale);
            memcpy(b->bbr, reg + cell * 4, 4 * sizeof(float));
        }
    return FH_OK;
}

static int cmp_cell_boxes(const void *a, const void *b) {
    return ((const struct det_box *)a)->cell - ((const struct det_box *)b)->cell;
}

// the pyramid's image work split over the pool: a level's resize by rows, P-Net's input by
// columns (each thread's share is the same bytes one thread would write)
struct prep_job {
    const struct img *src, *canvas;
    struct img *dst;
    float *in;
};
static void resize_task(void *ctx, int ith, int nth) {
    struct prep_job *j = ctx;
    int y0 = (int)((long)j->dst->h * ith / nth), y1 = (int)((long)j->dst->h * (ith + 1) / nth);
    if (y0 < y1) img_resize_region_rows(j->src, 0, 0, j->src->w, j->src->h, j->dst, y0, y1);
}
static void input_task(void *ctx, int ith, int nth) {
    struct prep_job *j = ctx;
    const struct img *c = j->canvas;
    int x0 = (int)((long)c->w * ith / nth), x1 = (int)((long)c->w * (ith + 1) / nth);
    struct img part = {x1 - x0, c->h, 3, c->stride, c->data + (size_t)x0 * 3};
    if (x0 < x1) to_input(&part, j->in + (size_t)x0 * c->h * 3);
}
static void resize_level(struct det_mtcnn *d, const struct img *im, struct img *dst) {
    struct prep_job j = {.src = im, .dst = dst};
    fh_pool_run(d->pool, resize_task, &j);
}

static int run_pnet(struct det_mtcnn *d, const struct img *canvas) {
    int dims[4] = {1, canvas->w, canvas->h, 3};
    int rc = nn_session_reshape(d->sp, dims, 4);
    if (rc) return rc;
    struct prep_job j = {.canvas = canvas, .in = nn_session_input(d->sp, 0)};
    fh_pool_run(d->pool, input_task, &j);
    return nn_session_run(d->sp);
}

// P-Net on the levels in strips of image columns, the strips of every level spread over the
// pool's threads, each running its own single-threaded session (no barrier per layer, and
// a thread's activations stay in its cache). A strip starts at an even column, so its
// stride-2 grid is the level's; it contributes the cells whose 12x12 window lies inside
// it, and the last strip runs to the level's edge, so every cell is computed exactly as in
// one run over the whole level. No strip exceeds tile_pixels (bounding activation memory
// on big photos). Each strip's boxes go to its own list; the caller joins them in level
// and strip order, so the result does not depend on the threads.
struct pnet_job {
    struct det_mtcnn *d;
    const struct level *L;
    float th;
};

static void pnet_task(void *ctx, int ith, int nth) {
    struct pnet_job *j = ctx;
    struct det_mtcnn *d = j->d;
    struct nn_session *s = d->spt[ith];
    for (int k = 0; k < d->n_items; k++) {
        struct pnet_item *it = &d->items[k];
        if (it->thread != ith) continue;
        const struct level *L = &j->L[it->level];
        struct img strip = {it->w, L->h, 3, (size_t)L->w * 3, d->pyr + L->off + (size_t)it->x0 * 3};
        int dims[4] = {1, it->w, L->h, 3}, od[FH_MAX_DIMS], r;
        it->out.n = 0;
        if ((it->rc = nn_session_reshape(s, dims, 4))) continue;
        to_input(&strip, nn_session_input(s, 0));
        if ((it->rc = nn_session_run(s))) continue;
        const float *prob = nn_session_output(s, 0, od, &r), *reg = nn_session_output(s, 1, NULL, NULL);
        it->rc = gen_boxes(&it->out, L, prob, reg, od[1], od[2], j->th, it->cx0, it->cx0 + it->ncell, -it->cx0, 0);
    }
}

static int keep_level(struct det_mtcnn *d);

static int pnet_strips(struct det_mtcnn *d, const struct level *L, int n, float th, long tile_pixels) {
    d->n_items = 0;
    long *load = d->load;
    memset(load, 0, (size_t)d->n_threads * sizeof *load);
    for (int i = 0; i < n; i++) {
        int ow = (L[i].w - 2 + 1) / 2 - 4;
        int sw = (int)(tile_pixels / L[i].h) & ~1;
        if (sw < 64) sw = 64;
        for (int cx0 = 0; cx0 < ow;) {
            int x0 = 2 * cx0, w = L[i].w - x0 <= sw ? L[i].w - x0 : sw;
            int ncell = x0 + w == L[i].w ? ow - cx0 : (w - 12) / 2 + 1;
            int rc = grow((void **)&d->items, &d->cap_items, d->n_items + 1, sizeof *d->items);
            if (rc) return rc;
            if (d->n_items == d->init_items) memset(&d->items[d->init_items++], 0, sizeof *d->items);
            struct pnet_item *it = &d->items[d->n_items++];
            struct boxes keep = it->out; // reuse the item's box buffer across photos
            int t = 0; // the least loaded thread (ties: the lowest), by pixels
            for (int k = 1; k < d->n_threads; k++)
                if (load[k] < load[t]) t = k;
            load[t] += (long)w * L[i].h;
            *it = (struct pnet_item){i, x0, w, cx0, ncell, t, keep, FH_OK};
            cx0 += ncell;
        }
    }
    struct pnet_job j = {d, L, th};
    fh_pool_run(d->pool, pnet_task, &j);
    for (int k = 0; k < d->n_items; k++)
        if (d->items[k].rc) return d->items[k].rc;
    for (int i = 0, k = 0; i < n; i++) { // join each level's strips in order, then as before
        d->n_lvl = 0;
        int strips = 0;
        for (; k < d->n_items && d->items[k].level == i; k++, strips++) {
            const struct boxes *b = &d->items[k].out;
            int rc = grow((void **)&d->lvl, &d->cap_lvl, d->n_lvl + b->n, sizeof *d->lvl);
            if (rc) return rc;
            if (b->n) memcpy(d->lvl + d->n_lvl, b->b, (size_t)b->n * sizeof *b->b);
            d->n_lvl += b->n;
        }
        if (strips > 1) qsort(d->lvl, (size_t)d->n_lvl, sizeof *d->lvl, cmp_cell_boxes);
        int rc = keep_level(d);
        if (rc) return rc;
    }
    return FH_OK;
}

static int keep_level(struct det_mtcnn *d) {
    det_nms(d->lvl, d->n_lvl, 0.5f, 0);
    int k = compact(d->lvl, d->n_lvl);
    int rc = grow((void **)&d->all, &d->cap_all, d->n_all + k, sizeof *d->all);
    if (rc) return rc;
    if (k) memcpy(d->all + d->n_all, d->lvl, (size_t)k * sizeof *d->lvl);
    d->n_all += k;
    return FH_OK;
}


// Packs levels into shelves of a canvas whose width fits the two largest side by side.
// Placements are even so P-Net's stride-2 grid lines up with each level's own grid;
// a 2-px gap keeps a level's cells (whose 12x12 windows lie inside it) clear of others,
// except the cells at the far edge of odd-sized levels, which see the gap instead of
// the max-pool padding (the reason packed results may differ slightly there).
static void pack_levels(struct level *L, int n, int *cw, int *ch) {
    int W = L[0].w + (n > 1 ? L[1].w + 2 : 0);
    W = (W + 1) & ~1;
    int x = 0, y = 0, shelf = 0;
    for (int i = 0; i < n; i++) {
        if (x > 0 && x + L[i].w > W) y += shelf + 2, y = (y + 1) & ~1, x = 0, shelf = 0;
        L[i].x0 = x, L[i].y0 = y;
        x += L[i].w + 2, x = (x + 1) & ~1;
        if (L[i].h > shelf) shelf = L[i].h;
    }
    *cw = W, *ch = y + shelf;
}

static int stage_pnet(struct det_mtcnn *d, const struct img *im, const struct det_options *o,
                      struct det_stats *st) {
    struct level L[64];
    int n = 0;
    float cur = (float)o->min_face;
    int wh_min = im->w < im->h ? im->w : im->h;
    while (cur <= (float)wh_min && n < 64) {
        float scale = 12.0f / cur;
        int w = (int)floorf((float)im->w * scale + 0.5f), h = (int)floorf((float)im->h * scale + 0.5f);
        if (w >= 12 && h >= 12) L[n++] = (struct level){scale, w, h, 0, 0, 0};
        cur /= o->factor;
    }
    st->n_levels = n;
    d->n_all = 0;
    int rc = FH_OK;
    if (o->packed && n > 0) {
        int cw, ch;
        pack_levels(L, n, &cw, &ch);
        if ((rc = ensure_img(&d->level, cw, ch))) return rc;
        struct img *cv = &d->level.im;
        memset(cv->data, 0, cv->stride * (size_t)ch);
        for (int i = 0; i < n; i++) {
            // resize straight into the canvas through a sub-image view
            struct img view = {L[i].w, L[i].h, 3, cv->stride,
                               cv->data + (size_t)L[i].y0 * cv->stride + (size_t)L[i].x0 * 3};
            resize_level(d, im, &view);
        }
        if ((rc = run_pnet(d, cv))) return rc;
        int od[FH_MAX_DIMS], r;
        const float *prob = nn_session_output(d->sp, 0, od, &r);
        const float *reg = nn_session_output(d->sp, 1, NULL, NULL);
        for (int i = 0; i < n && !rc; i++) {
            int ow = (L[i].w - 2 + 1) / 2 - 4;
            struct boxes lv = {d->lvl, 0, d->cap_lvl};
            rc = gen_boxes(&lv, &L[i], prob, reg, od[1], od[2], o->thresh[0], 0, ow, L[i].x0 / 2, L[i].y0 / 2);
            d->lvl = lv.b, d->cap_lvl = lv.cap, d->n_lvl = lv.n;
            if (!rc) rc = keep_level(d);
        }
    } else if (n > 0) { // every level into one buffer, then the strips of all levels
        size_t total = 0;
        for (int i = 0; i < n; i++) L[i].off = total, total += (size_t)L[i].w * L[i].h * 3;
        if (total > d->cap_pyr) {
            fh_free(d->pyr);
            if (!(d->pyr = fh_malloc(total))) {
                d->cap_pyr = 0;
                return fh_fail(FH_E_NOMEM, "mtcnn: out of memory");
            }
            d->cap_pyr = total;
        }
        for (int i = 0; i < n; i++) {
            struct img view = {L[i].w, L[i].h, 3, (size_t)L[i].w * 3, d->pyr + L[i].off};
            resize_level(d, im, &view);
        }
        rc = pnet_strips(d, L, n, o->thresh[0], o->tile_pixels > 0 ? o->tile_pixels : DET_TILE_PIXELS);
    }
    if (rc) return rc;
    det_nms(d->all, d->n_all, 0.7f, 0);
    for (int i = 0; i < d->n_all; i++) calibrate(&d->all[i]);
    d->n_all = compact(d->all, d->n_all);
    for (int i = 0; i < d->n_all; i++) det_square_box(d->all[i].box, im->w, im->h);
    d->n_all = compact(d->all, d->n_all);
    return FH_OK;
}

// ---- stages 2 and 3: R-Net / O-Net on batched crops -----------------------------------
// crops [b0, b0 + nb) into the batch input, split over the pool (thread ith uses crop[ith])
struct crop_job {
    struct det_mtcnn *d;
    const struct img *im;
    int b0, nb, S;
    float *in;
};
static void crop_task(void *ctx, int ith, int nth) {
    struct crop_job *j = ctx;
    struct img *c = &j->d->crop[ith].im;
    int i0 = (int)((long)j->nb * ith / nth), i1 = (int)((long)j->nb * (ith + 1) / nth);
    for (int i = i0; i < i1; i++) {
        const int *b = j->d->all[j->b0 + i].box;
        img_resize_region(j->im, b[0], b[1], bw(b), bh(b), c);
        to_input(c, j->in + (size_t)i * j->S * j->S * 3);
    }
}

static int run_crops(struct det_mtcnn *d, struct nn_session *s, const struct img *im, int S,
                     int onet) {
    int rc = FH_OK;
    for (int t = 0; t < d->n_threads && !rc; t++) rc = ensure_img(&d->crop[t], S, S);
    for (int b0 = 0; !rc && b0 < d->n_all; b0 += STAGE_BATCH(S)) {
        int nb = d->n_all - b0 < STAGE_BATCH(S) ? d->n_all - b0 : STAGE_BATCH(S);
        int dims[4] = {nb, S, S, 3};
        if ((rc = nn_session_reshape(s, dims, 4))) break;
        struct crop_job cj = {d, im, b0, nb, S, nn_session_input(s, 0)};
        fh_pool_run(d->pool, crop_task, &cj);
        if ((rc = nn_session_run(s))) break;
        const float *prob = nn_session_output(s, 0, NULL, NULL);
        const float *reg = nn_session_output(s, 1, NULL, NULL);
        const float *lm = onet ? nn_session_output(s, 2, NULL, NULL) : NULL;
        for (int i = 0; i < nb; i++) {
            struct det_box *b = &d->all[b0 + i];
            b->score = prob[i * 2 + 1];
            memcpy(b->bbr, reg + i * 4, 4 * sizeof(float));
            // landmarks relative to the box the crop came from (before regression)
            for (int j = 0; lm && j < 5; j++) {
                b->lm[2 * j] = (float)(b->box[0] + (double)lm[i * 10 + j] * bw(b->box));
                b->lm[2 * j + 1] = (float)(b->box[1] + (double)lm[i * 10 + j + 5] * bh(b->box));
            }
        }
    }
    return rc;
}

int det_mtcnn_detect(struct det_mtcnn *d, const struct img *im, const struct det_options *o,
                     struct det_face **faces, int *n, struct det_stats *stats) {
    struct det_stats dummy;
    struct det_stats *st = stats ? stats : &dummy;
    memset(st, 0, sizeof *st);
    *faces = NULL, *n = 0;
    if (!im || !im->data || im->c != 3 || im->w < 1 || im->h < 1)
        return fh_fail(FH_E_ARG, "mtcnn: need a non-empty RGB image");
    if (o->min_face < 12 || !(o->factor > 0.1f && o->factor < 0.95f))
        return fh_fail(FH_E_ARG, "mtcnn: min face must be >= 12 px and factor in (0.1, 0.95)");
    double t0 = fh_now_ms();
    int rc = stage_pnet(d, im, o, st);
    st->after[0] = d->n_all;
    double t1 = fh_now_ms();
    if (!rc && d->n_all) rc = run_crops(d, d->sr, im, 24, 0);
    if (!rc && d->n_all) {
        for (int i = 0; i < d->n_all; i++) d->all[i].deleted = d->all[i].score < o->thresh[1];
        det_nms(d->all, d->n_all, 0.7f, 0);
        for (int i = 0; i < d->n_all; i++) calibrate(&d->all[i]);
        d->n_all = compact(d->all, d->n_all);
        for (int i = 0; i < d->n_all; i++) det_square_box(d->all[i].box, im->w, im->h);
        d->n_all = compact(d->all, d->n_all);
    }
    st->after[1] = d->n_all;
    double t2 = fh_now_ms();
    if (!rc && d->n_all) rc = run_crops(d, d->so, im, 48, 1);
    if (!rc && d->n_all) {
        for (int i = 0; i < d->n_all; i++) d->all[i].deleted = d->all[i].score < o->thresh[2];
        for (int i = 0; i < d->n_all; i++) calibrate(&d->all[i]);
        det_nms(d->all, d->n_all, 0.7f, 1);
        d->n_all = compact(d->all, d->n_all);
    }
    st->after[2] = d->n_all;
    st->ms[0] = t1 - t0, st->ms[1] = t2 - t1, st->ms[2] = fh_now_ms() - t2;
    if (rc) return rc;
    int k = d->n_all < FH_MAX_FACES ? d->n_all : FH_MAX_FACES;
    if ((rc = grow((void **)&d->faces, &d->cap_faces, k ? k : 1, sizeof *d->faces))) return rc;
    for (int i = 0; i < k; i++) {
        struct det_face *f = &d->faces[i];
        memcpy(f->box, d->all[i].box, sizeof f->box);
        memcpy(f->square_box, f->box, sizeof f->box);
        det_square_box(f->square_box, im->w, im->h);
        f->score = f->raw_score = f->lm_score = d->all[i].score;
        f->kind = 0;
        memcpy(f->landmarks, d->all[i].lm, sizeof f->landmarks);
    }
    *faces = d->faces, *n = k;
    return FH_OK;
}

int det_mtcnn_landmarks(struct det_mtcnn *d, const struct img *im, const float *boxes, int n,
                        float scale, struct det_face *out) {
    if (!im || !im->data || im->c != 3 || im->w < 1 || im->h < 1 || n < 0 || (n && (!boxes || !out)))
        return fh_fail(FH_E_ARG, "mtcnn landmarks: need an RGB image and boxes");
    if (n > FH_MAX_FACES) return fh_fail(FH_E_LIMIT, "mtcnn landmarks: more than %d boxes", FH_MAX_FACES);
    if (!(scale >= 0.5f && scale <= 3.0f)) return fh_fail(FH_E_ARG, "mtcnn landmarks: scale %g not in [0.5, 3]", scale);
    int rc = grow((void **)&d->all, &d->cap_all, n ? n : 1, sizeof *d->all);
    if (rc) return rc;
    float lim = (float)FH_MAX_IMAGE_SIDE * 4;
    for (int i = 0; i < n; i++) {
        const float *b = boxes + 4 * i;
        for (int j = 0; j < 4; j++)
            if (!(b[j] > -lim && b[j] < lim)) return fh_fail(FH_E_ARG, "mtcnn landmarks: box %d is not finite or too far out", i);
        if (!(b[2] > b[0] && b[3] > b[1])) return fh_fail(FH_E_ARG, "mtcnn landmarks: box %d is empty", i);
        float w = b[2] - b[0], h = b[3] - b[1], side = scale * (w > h ? w : h);
        float cx = 0.5f * (b[0] + b[2]), cy = 0.5f * (b[1] + b[3]);
        struct det_box *q = &d->all[i];
        memset(q, 0, sizeof *q);
        q->box[0] = (int)lrintf(cx - 0.5f * side), q->box[1] = (int)lrintf(cy - 0.5f * side);
        int s = (int)lrintf(side);
        q->box[2] = q->box[0] + (s > 1 ? s : 1) - 1, q->box[3] = q->box[1] + (s > 1 ? s : 1) - 1;
    }
    d->n_all = n;
    if (n && (rc = run_crops(d, d->so, im, 48, 1))) return rc;
    for (int i = 0; i < n; i++) {
        const float *b = boxes + 4 * i;
        struct det_face *f = &out[i];
        memset(f, 0, sizeof *f);
        for (int j = 0; j < 4; j++) f->box[j] = (int)lrintf(b[j]);
        memcpy(f->square_box, f->box, sizeof f->box);
        det_square_box(f->square_box, im->w, im->h);
        f->score = f->raw_score = f->lm_score = d->all[i].score;
        memcpy(f->landmarks, d->all[i].lm, sizeof f->landmarks);
    }
    return FH_OK;
}
