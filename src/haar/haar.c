// SPDX-License-Identifier: MIT
// Viola-Jones detection as OpenCV 4.6's CascadeClassifier::detectMultiScale does it
// (the CPU path of cascadedetect.cpp): the image, not the window, shrinks by
// scale_factor^k (cv::resize INTER_LINEAR_EXACT, see haar_resize.c); on each level the
// cascade-sized window slides with step 2 (1 once the scale reaches 2), skipping one
// extra step after a window that fails the very first stage; each window is normalised
// by the standard deviation of its inner (w-2)x(h-2) area and run through the stages;
// hits map back to the image by rounding, and are grouped (haar_group.c) and clipped.
//
// Arithmetic follows OpenCV's types exactly, since hits near a stage threshold decide
// whole groups: integral images in 32-bit wrapping integers; a feature is
// float(w0*S0 + w1*S1 [+ w2*S2]) times a float 1/sqrt(area*sqsum - sum^2); a stage sums
// float leaves in a double; stage thresholds are the file's minus 1e-5 (haar_load.c).
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "base/pool.h"
#include "haar/haar_int.h"

struct haar_params haar_params_default(void) { return (struct haar_params){1.1, 3, 0, 0, NULL}; }

// ---- integral images --------------------------------------------------------------------

void haar_integral(const uint8_t *g, int w, int h, size_t stride, size_t istride, uint32_t *sum,
                   uint32_t *sqsum, uint32_t *tilted, uint32_t *scratch) {
    // sum(X, Y) = sum of g over x < X, y < Y; sqsum the same of g^2 (both mod 2^32, as
    // OpenCV's CV_32S integrals wrap). Row 0 and column 0 are zero.
    memset(sum, 0, ((size_t)w + 1) * sizeof *sum);
    memset(sqsum, 0, ((size_t)w + 1) * sizeof *sqsum);
    for (int y = 0; y < h; y++) {
        const uint8_t *s = g + (size_t)y * stride;
        uint32_t *S = sum + (size_t)(y + 1) * istride, *Q = sqsum + (size_t)(y + 1) * istride;
        const uint32_t *Sp = S - istride, *Qp = Q - istride;
        uint32_t rs = 0, rq = 0;
        S[0] = Q[0] = 0;
        for (int x = 0; x < w; x++) {
            rs += s[x], rq += (uint32_t)s[x] * s[x];
            S[x + 1] = Sp[x + 1] + rs;
            Q[x + 1] = Qp[x + 1] + rq;
        }
    }
    if (!tilted) return;
    // tilted(X, Y) = sum of g(x, y) over y < Y, |x - X + 1| <= Y - 1 - y: the triangle with
    // its apex at (X-1, Y-1), opening upwards (OpenCV's definition). With P_y(k) the sum of
    // row y left of k (k clamped to 0..w) it is A(X,Y) - B(X,Y), where A sums
    // P_y(min(X + Y-1-y, w)) and B sums P_y(max(X-1 - (Y-1-y), 0)) over y < Y; each follows
    // the row above along a diagonal: A(X,Y) = A(X+1,Y-1) + P_{Y-1}(min(X,w)) (A(w+1,Y-1)
    // being sum(w,Y-1)), B(X,Y) = B(X-1,Y-1) + P_{Y-1}(max(X-1,0)) (B(-1,.) = 0).
    // scratch: 4 rows of w+1 (A and B of the previous and the current row).
    size_t W = (size_t)w + 1;
    uint32_t *A0 = scratch, *B0 = scratch + W, *A1 = scratch + 2 * W, *B1 = scratch + 3 * W;
    memset(A0, 0, 2 * W * sizeof *A0);
    memset(tilted, 0, W * sizeof *tilted);
    for (int Y = 1; Y <= h; Y++) {
        const uint32_t *S = sum + (size_t)Y * istride, *Sp = S - istride;
        uint32_t *T = tilted + (size_t)Y * istride;
        for (int X = 0; X <= w; X++) {
            uint32_t a_prev = X + 1 <= w ? A0[X + 1] : Sp[w];
            uint32_t b_prev = X >= 1 ? B0[X - 1] : 0;
            int k = X - 1 > 0 ? X - 1 : 0;
            A1[X] = a_prev + (S[X] - Sp[X]);
            B1[X] = b_prev + (S[k] - Sp[k]);
            T[X] = A1[X] - B1[X];
        }
        uint32_t *t = A0;
        A0 = A1, A1 = t;
        t = B0, B0 = B1, B1 = t;
    }
}

// ---- per-call evaluation tables -----------------------------------------------------------

// A feature as offsets from the window's top-left in the integral buffer (OpenCV's
// OptFeature). Tilted rects point into the tilted integral, which follows the sum.
struct opt_feature {
    int ofs[3][4];
    float weight[3];
};
// Stump cascades are flattened in evaluation order, so the scan streams through memory.
struct opt_stump {
    struct opt_feature f;
    float threshold, left, right;
};

static void set_offsets(const struct haar_feature *f, int step, int tofs, struct opt_feature *o) {
    memset(o, 0, sizeof *o);
    for (int k = 0; k < 3; k++) {
        int x = f->r[k].x, y = f->r[k].y, w = f->r[k].w, h = f->r[k].h;
        o->weight[k] = f->r[k].weight;
        if (f->r[k].weight == 0.0f) continue;
        if (f->tilted) {   // corners (x,y), (x-h,y+h), (x+w,y+w), (x+w-h,y+w+h)
            o->ofs[k][0] = tofs + x + step * y;
            o->ofs[k][1] = tofs + x - h + step * (y + h);
            o->ofs[k][2] = tofs + x + w + step * (y + w);
            o->ofs[k][3] = tofs + x + w - h + step * (y + w + h);
        } else {   // corners (x,y), (x+w,y), (x,y+h), (x+w,y+h)
            o->ofs[k][0] = x + step * y;
            o->ofs[k][1] = x + w + step * y;
            o->ofs[k][2] = x + step * (y + h);
            o->ofs[k][3] = x + w + step * (y + h);
        }
    }
}

static inline int32_t rect_sum(const uint32_t *p, const int *o) {
    return (int32_t)(p[o[0]] - p[o[1]] - p[o[2]] + p[o[3]]);
}

// OpenCV's OptFeature::calc: products and sum in float, third rect only if weighted
static inline float feature_value(const struct opt_feature *f, const uint32_t *p) {
    float r = f->weight[0] * (float)rect_sum(p, f->ofs[0]) + f->weight[1] * (float)rect_sum(p, f->ofs[1]);
    if (f->weight[2] != 0.0f) r += f->weight[2] * (float)rect_sum(p, f->ofs[2]);
    return r;
}

struct scan {
    const struct haar_cascade *c;
    struct opt_stump *stumps;     // stump cascades
    struct opt_feature *feats;    // tree cascades
    int nofs[4];                  // the normalisation rectangle (1, 1, w-2, h-2)
    double area;
};

// Runs the stages on the window at p (sum/tilted buffer) / q (sqsum). Returns 1 (face;
// *margin = last stage sum - threshold), -1 (flat window, not evaluated) or -k (failed
// stage k; 0 for the first stage).
static int run_window(const struct scan *s, const uint32_t *p, const uint32_t *q, double *margin) {
    const int *n = s->nofs;
    int32_t vs = (int32_t)(p[n[0]] - p[n[1]] - p[n[2]] + p[n[3]]);
    uint32_t vq = q[n[0]] - q[n[1]] - q[n[2]] + q[n[3]];
    double nf = s->area * (double)vq - (double)vs * vs;
    if (!(nf > 0.)) return -1;
    float norm = (float)(1. / sqrt(nf));
    if (!(s->area * norm < 1e-1)) return -1;   // OpenCV skips (near) flat windows

    const struct haar_cascade *c = s->c;
    double sum = 0;
    if (s->stumps) {
        const struct opt_stump *st = s->stumps;
        for (int si = 0; si < c->nstages; si++) {
            int nt = c->stages[si].ntrees;
            sum = 0;
            for (int i = 0; i < nt; i++, st++) {
                float v = feature_value(&st->f, p) * norm;
                sum += v < st->threshold ? st->left : st->right;
            }
            if (sum < c->stages[si].threshold) return -si;
        }
    } else {
        for (int si = 0; si < c->nstages; si++) {
            const struct haar_stage *stg = &c->stages[si];
            sum = 0;
            for (int t = stg->tree0; t < stg->tree0 + stg->ntrees; t++) {
                const struct haar_tree *tr = &c->trees[t];
                int idx = 0;
                do {
                    const struct haar_node *nd = &c->nodes[tr->node0 + idx];
                    float v = feature_value(&s->feats[nd->feature], p) * norm;
                    idx = v < nd->threshold ? nd->left : nd->right;
                } while (idx > 0);
                sum += c->leaves[tr->leaf0 - idx];
            }
            if (sum < stg->threshold) return -si;
        }
    }
    *margin = sum - c->stages[c->nstages - 1].threshold;
    return 1;
}

// ---- detection ------------------------------------------------------------------------------

struct hits {
    struct haar_det *d;
    int n, cap;
};

static int add_hit(struct hits *h, int x, int y, int w, int hh, double margin) {
    if (h->n == h->cap) {
        if (h->cap >= HAAR_MAX_HITS)
            return fh_fail(FH_E_LIMIT, "haar: more than %d raw window hits", HAAR_MAX_HITS);
        int cap = h->cap ? 2 * h->cap : 256;
        if (cap > HAAR_MAX_HITS) cap = HAAR_MAX_HITS;
        struct haar_det *d = fh_realloc(h->d, (size_t)cap * sizeof *d);
        if (!d) return fh_fail(FH_E_NOMEM, "haar: out of memory storing hits");
        h->d = d, h->cap = cap;
    }
    struct haar_det *e = &h->d[h->n++];
    memset(e, 0, sizeof *e);   // padding too: hit arrays compare equal byte for byte
    e->x = x, e->y = y, e->w = w, e->h = hh, e->neighbors = 1, e->score = margin;
    return FH_OK;
}

// The scales OpenCV visits: factor = scale_factor^k while the window (rounded) fits the
// image and max_size; those below min_size are skipped. Stored as float, as OpenCV does.
static int make_scales(const struct haar_cascade *c, const struct haar_params *p, int W, int H,
                       float *scales, int *n) {
    int maxw = p->max_size > 0 ? p->max_size : W, maxh = p->max_size > 0 ? p->max_size : H;
    int minw = p->min_size > 0 ? p->min_size : 0, minh = minw;
    *n = 0;
    double factor = 1;
    for (int it = 0;; it++, factor *= p->scale_factor) {
        int ww = (int)lrint(c->win_w * factor), wh = (int)lrint(c->win_h * factor);
        if (ww > maxw || wh > maxh || ww > W || wh > H) break;
        if (ww < minw || wh < minh) continue;
        if (*n == HAAR_MAX_SCALES)
            return fh_fail(FH_E_LIMIT, "haar: more than %d scales (scale_factor %g too close to 1)",
                           HAAR_MAX_SCALES, p->scale_factor);
        scales[(*n)++] = (float)factor;
    }
    return FH_OK;
}

// level size: OpenCV divides in float and rounds half to even
static void level_size(int W, int H, float sc, int *lw, int *lh) {
    *lw = (int)lrintf((float)W / sc), *lh = (int)lrintf((float)H / sc);
    if (*lw > W) *lw = W;
    if (*lh > H) *lh = H;
}

// Work buffers for scanning one level at a time, sized for level 0 (the image) and reused
// by every smaller level with the same row step, as OpenCV's sbuf: [sum | tilted] as one
// block so tilted offsets are sum + tofs. One set per thread.
struct level_bufs {
    uint8_t *level;
    uint32_t *sums, *sq, *scratch;
};

static int bufs_alloc(struct level_bufs *b, const struct haar_cascade *c, size_t npix, size_t plane, size_t step) {
    b->level = fh_malloc(npix);
    b->sums = fh_malloc(plane * (c->tilted ? 2 : 1) * sizeof *b->sums);
    b->sq = fh_malloc(plane * sizeof *b->sq);
    b->scratch = c->tilted ? fh_malloc(4 * step * sizeof *b->scratch) : NULL;
    return b->level && b->sums && b->sq && (!c->tilted || b->scratch) ? FH_OK : FH_E_NOMEM;
}

static void bufs_free(struct level_bufs *b) {
    fh_free(b->level), fh_free(b->sums), fh_free(b->sq), fh_free(b->scratch);
}

// What every level's scan shares (read-only during the scan).
struct pyramid {
    struct scan s;
    const uint8_t *g;    // the grey image, W x H, row stride gstride
    size_t gstride, step, plane;
    int W, H;
};

// Scans the level of scale sc with buffers b, appending its hits to h (scale, then row,
// then column). FH_OK, or the error of haar_resize / add_hit (message set on this thread).
static int scan_level(const struct pyramid *py, float sc, struct level_bufs *b, struct hits *hits) {
    const struct haar_cascade *c = py->s.c;
    int W = py->W, H = py->H, lw, lh, rc;
    size_t step = py->step;
    level_size(W, H, sc, &lw, &lh);
    if (lw < 1 || lh < 1) return FH_OK;
    const uint8_t *src = py->g;
    size_t sstride = py->gstride;
    if (lw != W || lh != H) {
        if ((rc = haar_resize(py->g, W, H, py->gstride, b->level, lw, lh))) return rc;
        src = b->level, sstride = (size_t)lw;
    }
    uint32_t *sums = b->sums, *sq = b->sq;
    haar_integral(src, lw, lh, sstride, step, sums, sq, c->tilted ? sums + py->plane : NULL, b->scratch);

    int ystep = sc >= 2.f ? 1 : 2;
    int ww = lw + 1 - c->win_w, wh = lh + 1 - c->win_h;   // window origins x < ww, y < wh
    int winw = (int)lrintf((float)c->win_w * sc), winh = (int)lrintf((float)c->win_h * sc);
    for (int y = 0; y < wh; y += ystep) {
        const uint32_t *prow = sums + (size_t)y * step, *qrow = sq + (size_t)y * step;
        for (int x = 0; x < ww; x += ystep) {
            double margin;
            int r = run_window(&py->s, prow + x, qrow + x, &margin);
            if (r == 1) {
                if ((rc = add_hit(hits, (int)lrintf((float)x * sc), (int)lrintf((float)y * sc), winw, winh,
                                  margin)))
                    return rc;
            } else if (r == 0) {
                x += ystep;   // failed the first stage: OpenCV skips the next position
            }
        }
    }
    return FH_OK;
}

// ---- the threaded scan ----------------------------------------------------------------------
// Threads take whole levels from a shared counter, the most windows first (level 0, then
// the first level at scale >= 2, where the step drops to 1, ...), each level's hits into
// its own buffer; the buffers are joined in scale order afterwards, so the hits (and so
// the groups) are the serial scan's whatever the thread count or timing.
struct par_err {
    int rc, scale;       // the first failure this thread saw (rc 0: none), at which scale
    char msg[256];
};

struct par_job {
    const struct pyramid *py;
    const float *scales;
    const int *order;            // scale indices, most windows first
    int nscales, nused;          // threads with ith >= nused sit out
    struct level_bufs *bufs;     // [nused]
    struct hits *hits;           // [nscales]
    struct par_err *err;         // [nused]
    atomic_int next;             // next position in order
    atomic_int total;            // raw hits so far, all levels together
    atomic_int failed;
};

static void par_scan(void *ctx, int ith, int nth) {
    struct par_job *j = ctx;
    (void)nth;
    if (ith >= j->nused) return;
    for (;;) {
        if (atomic_load_explicit(&j->failed, memory_order_relaxed)) return;
        int i = atomic_fetch_add_explicit(&j->next, 1, memory_order_relaxed);
        if (i >= j->nscales) return;
        int k = j->order[i];
        struct hits *h = &j->hits[k];
        int rc = scan_level(j->py, j->scales[k], &j->bufs[ith], h);
        // the serial scan fails once all levels together pass HAAR_MAX_HITS
        if (!rc && atomic_fetch_add_explicit(&j->total, h->n, memory_order_relaxed) + h->n > HAAR_MAX_HITS)
            rc = fh_fail(FH_E_LIMIT, "haar: more than %d raw window hits", HAAR_MAX_HITS);
        if (rc) {
            struct par_err *e = &j->err[ith];
            if (!e->rc || k < e->scale) {
                e->rc = rc, e->scale = k;
                snprintf(e->msg, sizeof e->msg, "%s", fh_errmsg());
            }
            atomic_store(&j->failed, 1);
            return;
        }
    }
}

// windows a level scans, before the first-stage skips: the cost estimate for ordering
static double level_windows(const struct pyramid *py, float sc) {
    int lw, lh;
    level_size(py->W, py->H, sc, &lw, &lh);
    int ww = lw + 1 - py->s.c->win_w, wh = lh + 1 - py->s.c->win_h, st = sc >= 2.f ? 1 : 2;
    if (lw < 1 || lh < 1 || ww < 1 || wh < 1) return 0;
    return (double)((ww + st - 1) / st) * ((wh + st - 1) / st);
}

struct level_cost {
    double windows;
    int k;
};
static int by_cost(const void *a, const void *b) {   // most windows first, then scale order
    const struct level_cost *x = a, *y = b;
    if (x->windows != y->windows) return x->windows > y->windows ? -1 : 1;
    return (x->k > y->k) - (x->k < y->k);
}

// Scans all levels on the pool's threads into *out, in the serial scan's order.
static int scan_parallel(struct fh_pool *pool, const struct pyramid *py, const float *scales, int nscales,
                         struct hits *out) {
    int nused = fh_pool_size(pool) < nscales ? fh_pool_size(pool) : nscales, rc = FH_OK;
    size_t npix = (size_t)py->W * py->H;
    struct level_cost *cost = fh_malloc((size_t)nscales * sizeof *cost);
    int *order = fh_malloc((size_t)nscales * sizeof *order);
    struct hits *hits = fh_calloc((size_t)nscales, sizeof *hits);
    struct level_bufs *bufs = fh_calloc((size_t)nused, sizeof *bufs);
    struct par_err *err = fh_calloc((size_t)nused, sizeof *err);
    if (!cost || !order || !hits || !bufs || !err) {
        rc = fh_fail(FH_E_NOMEM, "haar: out of memory");
        goto done;
    }
    for (int t = 0; t < nused; t++)
        if (bufs_alloc(&bufs[t], py->s.c, npix, py->plane, py->step)) {
            rc = fh_fail(FH_E_NOMEM, "haar: out of memory for a %dx%d image on %d threads", py->W, py->H, nused);
            goto done;
        }
    for (int k = 0; k < nscales; k++) cost[k] = (struct level_cost){level_windows(py, scales[k]), k};
    qsort(cost, (size_t)nscales, sizeof *cost, by_cost);
    for (int i = 0; i < nscales; i++) order[i] = cost[i].k;

    struct par_job j = {.py = py, .scales = scales, .order = order, .nscales = nscales, .nused = nused,
                        .bufs = bufs, .hits = hits, .err = err};
    atomic_init(&j.next, 0), atomic_init(&j.total, 0), atomic_init(&j.failed, 0);
    fh_pool_run(pool, par_scan, &j);

    if (atomic_load(&j.failed)) {   // the failure at the smallest scale, as the serial scan meets it
        const struct par_err *e = NULL;
        for (int t = 0; t < nused; t++)
            if (err[t].rc && (!e || err[t].scale < e->scale)) e = &err[t];
        rc = fh_fail(e->rc, "%s", e->msg);
        goto done;
    }
    int total = 0;
    for (int k = 0; k < nscales; k++) total += hits[k].n;   // <= HAAR_MAX_HITS, checked above
    if (total > 0) {
        if (!(out->d = fh_malloc((size_t)total * sizeof *out->d))) {
            rc = fh_fail(FH_E_NOMEM, "haar: out of memory storing hits");
            goto done;
        }
        for (int k = 0; k < nscales; k++) {
            if (hits[k].n) memcpy(out->d + out->n, hits[k].d, (size_t)hits[k].n * sizeof *out->d);
            out->n += hits[k].n;
        }
        out->cap = total;
    }
done:
    if (hits)
        for (int k = 0; k < nscales; k++) fh_free(hits[k].d);
    if (bufs)
        for (int t = 0; t < nused; t++) bufs_free(&bufs[t]);
    fh_free(cost), fh_free(order), fh_free(hits), fh_free(bufs), fh_free(err);
    return rc;
}

int haar_detect_raw(const struct haar_cascade *c, const struct img *im, const struct haar_params *p,
                    struct haar_det **out, int *n) {
    if (!out || !n) return fh_fail(FH_E_ARG, "haar_detect: out/n is NULL");
    *out = NULL, *n = 0;
    if (!c || !im || !p || !im->data) return fh_fail(FH_E_ARG, "haar_detect: NULL cascade, image or params");
    if (im->c != 1 && im->c != 3 && im->c != 4)
        return fh_fail(FH_E_ARG, "haar_detect: %d channels (1, 3 or 4 expected)", im->c);
    if (!(p->scale_factor > 1.0) || !isfinite(p->scale_factor) || p->min_size < 0 || p->max_size < 0)
        return fh_fail(FH_E_ARG, "haar_detect: scale_factor %g must be > 1, sizes >= 0", p->scale_factor);
    int W = im->w, H = im->h;
    if (W < 1 || H < 1 || im->stride < (size_t)W * im->c)
        return fh_fail(FH_E_ARG, "haar_detect: bad image geometry %dx%d", W, H);
    if (W > FH_MAX_IMAGE_SIDE || H > FH_MAX_IMAGE_SIDE || (uint64_t)W * H > HAAR_MAX_IMAGE_PIXELS)
        return fh_fail(FH_E_LIMIT, "haar: image %dx%d exceeds the detector's limit (%d px a side, "
                       "%u pixels)", W, H, FH_MAX_IMAGE_SIDE, (unsigned)HAAR_MAX_IMAGE_PIXELS);

    float *scales = fh_malloc(HAAR_MAX_SCALES * sizeof *scales);
    if (!scales) return fh_fail(FH_E_NOMEM, "haar: out of memory");
    int nscales, rc = make_scales(c, p, W, H, scales, &nscales);
    if (rc || nscales == 0) {
        fh_free(scales);
        return rc;
    }

    size_t step = (size_t)W + 1, plane = step * ((size_t)H + 1), npix = (size_t)W * H;
    int serial = fh_pool_size(p->pool) <= 1 || nscales == 1;
    uint8_t *grey = im->c == 1 ? NULL : fh_malloc(npix);
    struct level_bufs b = {0};
    int nopt = c->stumps ? c->ntrees : c->nfeatures;
    void *opt = fh_malloc((size_t)nopt * (c->stumps ? sizeof(struct opt_stump) : sizeof(struct opt_feature)));
    struct hits hits = {0};
    if ((im->c != 1 && !grey) || !opt || (serial && bufs_alloc(&b, c, npix, plane, step))) {
        rc = fh_fail(FH_E_NOMEM, "haar: out of memory for a %dx%d image", W, H);
        goto done;
    }
    struct pyramid py = {.g = im->data, .gstride = im->stride, .step = step, .plane = plane, .W = W, .H = H};
    if (im->c != 1) {
        haar_grey(im, grey);
        py.g = grey, py.gstride = (size_t)W;
    }

    // feature offsets depend only on the row step, so once per call
    struct scan *s = &py.s;
    *s = (struct scan){.c = c, .area = (double)(c->win_w - 2) * (c->win_h - 2)};
    int istep = (int)step, tofs = (int)plane;
    s->nofs[0] = 1 + istep, s->nofs[1] = c->win_w - 1 + istep;
    s->nofs[2] = 1 + istep * (c->win_h - 1), s->nofs[3] = c->win_w - 1 + istep * (c->win_h - 1);
    if (c->stumps) {
        s->stumps = opt;
        for (int t = 0; t < c->ntrees; t++) {
            const struct haar_node *nd = &c->nodes[c->trees[t].node0];
            set_offsets(&c->features[nd->feature], istep, tofs, &s->stumps[t].f);
            s->stumps[t].threshold = nd->threshold;
            s->stumps[t].left = c->leaves[c->trees[t].leaf0 - nd->left];
            s->stumps[t].right = c->leaves[c->trees[t].leaf0 - nd->right];
        }
    } else {
        s->feats = opt;
        for (int f = 0; f < c->nfeatures; f++) set_offsets(&c->features[f], istep, tofs, &s->feats[f]);
    }

    if (serial) {
        for (int k = 0; k < nscales; k++)
            if ((rc = scan_level(&py, scales[k], &b, &hits))) goto done;
    } else if ((rc = scan_parallel(p->pool, &py, scales, nscales, &hits))) {
        goto done;
    }
    *out = hits.d, *n = hits.n;
    hits.d = NULL;
done:
    fh_free(hits.d);
    bufs_free(&b);
    fh_free(scales), fh_free(grey), fh_free(opt);
    return rc;
}

// cv::CascadeClassifier::detectMultiScale clips its output to the image and drops empty boxes
static int clip(struct haar_det *d, int n, int W, int H) {
    int m = 0;
    for (int i = 0; i < n; i++) {
        int x1 = d[i].x > 0 ? d[i].x : 0, y1 = d[i].y > 0 ? d[i].y : 0;
        int x2 = d[i].x + d[i].w < W ? d[i].x + d[i].w : W, y2 = d[i].y + d[i].h < H ? d[i].y + d[i].h : H;
        if (x2 <= x1 || y2 <= y1) continue;
        d[m] = d[i];
        d[m].x = x1, d[m].y = y1, d[m].w = x2 - x1, d[m].h = y2 - y1;
        m++;
    }
    return m;
}

int haar_detect(const struct haar_cascade *c, const struct img *im, const struct haar_params *p,
                struct haar_det **out, int *n) {
    if (!out || !n) return fh_fail(FH_E_ARG, "haar_detect: out/n is NULL");
    *out = NULL, *n = 0;
    struct haar_det *raw;
    int nraw, rc = haar_detect_raw(c, im, p, &raw, &nraw);
    if (rc) return rc;
    rc = haar_group(raw, nraw, p->min_neighbors, HAAR_GROUP_EPS, out, n);
    fh_free(raw);
    if (rc) return rc;
    *n = clip(*out, *n, im->w, im->h);
    if (*n > FH_MAX_FACES) *n = FH_MAX_FACES;
    if (*n == 0) {
        fh_free(*out);
        *out = NULL;
    }
    return FH_OK;
}
