// SPDX-License-Identifier: MIT
// Detection metrics: the official WIDER FACE computation and a whole-set VOC protocol
// (AP, ROC). See eval_det.h for the definitions each function follows.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "eval/eval_det.h"

double eval_iou(const struct eval_box *a, const struct eval_box *b) {
    double w = fmin(a->x2, b->x2) - fmax(a->x1, b->x1) + 1;
    double h = fmin(a->y2, b->y2) - fmax(a->y1, b->y1) + 1;
    if (w <= 0 || h <= 0) return 0;
    double inter = w * h;
    double area_a = (a->x2 - a->x1 + 1) * (a->y2 - a->y1 + 1);
    double area_b = (b->x2 - b->x1 + 1) * (b->y2 - b->y1 + 1);
    return inter / (area_a + area_b - inter);
}

struct eval_box eval_box_xywh(double x, double y, double w, double h, double score) {
    return (struct eval_box){x, y, x + w, y + h, score, 0};
}

// ---- WIDER FACE --------------------------------------------------------------------------

int eval_wider_match(const struct eval_box *det, int nd, const struct eval_box *gt, int ng,
                     const char *counted, double thresh, char *proposal, int *recall) {
    // state per face: 0 unmatched, 1 matched counted face, -1 matched ignore region
    signed char *state = fh_calloc((size_t)(ng > 0 ? ng : 1), 1);
    if (!state) return fh_fail(FH_E_NOMEM, "wider: out of memory");
    int matched = 0;
    for (int h = 0; h < nd; h++) {
        proposal[h] = 1;
        double best = -1;
        int idx = -1;
        for (int g = 0; g < ng; g++) {
            double o = eval_iou(&gt[g], &det[h]);
            if (o > best) best = o, idx = g; // MATLAB max: first index on ties
        }
        if (idx >= 0 && best >= thresh) {
            if (!counted[idx]) {
                state[idx] = -1;
                proposal[h] = 0;
            } else if (state[idx] == 0) {
                state[idx] = 1;
                matched++;
            }
        }
        recall[h] = matched;
    }
    fh_free(state);
    return FH_OK;
}

int eval_wider_image_pr(const double *score, int nd, const char *proposal, const int *recall,
                        int n_thresh, double *props, double *tps) {
    if (nd <= 0) return FH_OK;
    // r(thr) = the last index with score >= thr = the last index whose suffix maximum
    // is >= thr; suffix maxima fall with the index and thr falls with t, so one pointer.
    double *suf = fh_malloc(sizeof(double) * (size_t)nd);
    int *nprop = fh_malloc(sizeof(int) * (size_t)nd);
    if (!suf || !nprop) {
        fh_free(suf), fh_free(nprop);
        return fh_fail(FH_E_NOMEM, "wider: out of memory");
    }
    suf[nd - 1] = score[nd - 1];
    for (int i = nd - 2; i >= 0; i--) suf[i] = fmax(score[i], suf[i + 1]);
    for (int i = 0, c = 0; i < nd; i++) nprop[i] = c += proposal[i] == 1;
    int r = -1; // last index with suf >= thr
    for (int t = 1; t <= n_thresh; t++) {
        double thr = 1.0 - (double)t / n_thresh;
        while (r + 1 < nd && suf[r + 1] >= thr) r++;
        if (r >= 0) props[t - 1] += nprop[r], tps[t - 1] += recall[r];
    }
    fh_free(suf), fh_free(nprop);
    return FH_OK;
}

double eval_voc_ap(const double *rec, const double *prec, int n) {
    // one backward pass over mrec = [0 rec 1], mpre = [0 prec 0]: env is the envelope
    // max(mpre[i..n+1]) (fmax drops a NaN as MATLAB's max does)
    double ap = 0, env = 0;
    for (int i = n + 1; i >= 1; i--) {
        double r = i <= n ? rec[i - 1] : 1, r_prev = i >= 2 ? rec[i - 2] : 0;
        env = fmax(i <= n ? prec[i - 1] : 0, env);
        if (r != r_prev) ap += (r - r_prev) * env;
    }
    return ap;
}

// stable sort of indices by score, descending (merge sort: qsort is not stable)
static void sort_desc(const double *s, int *idx, int *tmp, int n) {
    if (n < 2) return;
    int h = n / 2;
    sort_desc(s, idx, tmp, h);
    sort_desc(s, idx + h, tmp, n - h);
    int i = 0, j = h, k = 0;
    while (i < h && j < n) tmp[k++] = s[idx[j]] > s[idx[i]] ? idx[j++] : idx[i++];
    while (i < h) tmp[k++] = idx[i++];
    while (j < n) tmp[k++] = idx[j++];
    memcpy(idx, tmp, sizeof(int) * (size_t)n);
}

static int ranks(const double *s, int n, int *idx) {
    int *tmp = fh_malloc(sizeof(int) * (size_t)(n > 0 ? n : 1));
    if (!tmp) return fh_fail(FH_E_NOMEM, "eval: out of memory");
    for (int i = 0; i < n; i++) idx[i] = i;
    sort_desc(s, idx, tmp, n);
    fh_free(tmp);
    return FH_OK;
}

int eval_wider_ap(const struct eval_wider_image *im, int n, double *ap, double *pr_rec,
                  double *pr_prec) {
    const int T = EVAL_WIDER_THRESHOLDS;
    *ap = 0;
    double lo = INFINITY, hi = -INFINITY;
    int max_det = 1, max_gt = 1;
    for (int i = 0; i < n; i++) {
        for (int k = 0; k < im[i].n_det; k++)
            lo = fmin(lo, im[i].det[k].score), hi = fmax(hi, im[i].det[k].score);
        if (im[i].n_det > max_det) max_det = im[i].n_det;
        if (im[i].n_gt > max_gt) max_gt = im[i].n_gt;
        for (int k = 0; k < im[i].n_keep; k++)
            if (im[i].keep[k] < 1 || im[i].keep[k] > im[i].n_gt)
                return fh_fail(FH_E_ARG, "wider: image %d: keep index %d of %d faces", i,
                               im[i].keep[k], im[i].n_gt);
    }
    double *props = fh_calloc((size_t)T, sizeof(double)), *tps = fh_calloc((size_t)T, sizeof(double));
    double *rec = fh_malloc(sizeof(double) * (size_t)T), *prec = fh_malloc(sizeof(double) * (size_t)T);
    struct eval_box *det = fh_malloc(sizeof *det * (size_t)max_det);
    double *score = fh_malloc(sizeof(double) * (size_t)max_det);
    double *raw = fh_malloc(sizeof(double) * (size_t)max_det);
    int *idx = fh_malloc(sizeof(int) * (size_t)max_det), *recall = fh_malloc(sizeof(int) * (size_t)max_det);
    char *proposal = fh_malloc((size_t)max_det), *counted = fh_malloc((size_t)max_gt);
    int rc = FH_OK;
    if (!props || !tps || !rec || !prec || !det || !score || !raw || !idx || !recall || !proposal ||
        !counted) {
        rc = fh_fail(FH_E_NOMEM, "wider: out of memory");
        goto out;
    }
    double count_face = 0;
    for (int i = 0; i < n; i++) {
        const struct eval_wider_image *m = &im[i];
        count_face += m->n_keep;
        if (m->n_gt == 0 || m->n_det == 0) continue;
        // read_pred.m: sort by score, descending; norm_score.m: global min-max
        for (int k = 0; k < m->n_det; k++) raw[k] = m->det[k].score;
        if ((rc = ranks(raw, m->n_det, idx))) goto out;
        for (int k = 0; k < m->n_det; k++) {
            det[k] = m->det[idx[k]];
            score[k] = hi > lo ? (det[k].score - lo) / (hi - lo) : 1.0;
        }
        memset(counted, 0, (size_t)m->n_gt);
        for (int k = 0; k < m->n_keep; k++) counted[m->keep[k] - 1] = 1;
        if ((rc = eval_wider_match(det, m->n_det, m->gt, m->n_gt, counted, EVAL_WIDER_IOU,
                                   proposal, recall)) ||
            (rc = eval_wider_image_pr(score, m->n_det, proposal, recall, T, props, tps)))
            goto out;
    }
    for (int t = 0; t < T; t++) {
        prec[t] = tps[t] / props[t]; // NaN (0/0) where no detection passes: as MATLAB
        rec[t] = tps[t] / count_face;
    }
    *ap = eval_voc_ap(rec, prec, T);
    if (pr_rec) memcpy(pr_rec, rec, sizeof(double) * (size_t)T);
    if (pr_prec) memcpy(pr_prec, prec, sizeof(double) * (size_t)T);
out:
    fh_free(props), fh_free(tps), fh_free(rec), fh_free(prec), fh_free(det), fh_free(score);
    fh_free(raw), fh_free(idx), fh_free(recall), fh_free(proposal), fh_free(counted);
    return rc;
}

// ---- whole-set protocols ------------------------------------------------------------------

// The ranking and the greedy matching both whole-set criteria share: detections in score
// order (stable), each given to the face pick() names (-1: a false positive); taken[ng]
// marks the faces already matched, which pick() must not return.
static int set_match(const struct eval_box *det, int nd, int ng,
                     int (*pick)(const void *ctx, const struct eval_box *d, const char *taken),
                     const void *ctx, int *order, char *tp) {
    double *s = fh_malloc(sizeof(double) * (size_t)(nd > 0 ? nd : 1));
    char *taken = fh_calloc((size_t)(ng > 0 ? ng : 1), 1);
    int rc = s && taken ? FH_OK : fh_fail(FH_E_NOMEM, "eval: out of memory");
    if (rc) goto out;
    for (int i = 0; i < nd; i++) s[i] = det[i].score;
    if ((rc = ranks(s, nd, order))) goto out;
    for (int k = 0; k < nd; k++) {
        int g = pick(ctx, &det[order[k]], taken);
        tp[k] = g >= 0;
        if (g >= 0) taken[g] = 1;
    }
out:
    fh_free(s), fh_free(taken);
    return rc;
}

struct iou_ctx {
    const struct eval_box *gt;
    int ng;
    double thresh;
};

// VOC: the best-IoU face of the image (first on ties); a false positive when that face
// is below the threshold or already taken, even if another face would qualify
static int pick_iou(const void *ctx, const struct eval_box *d, const char *taken) {
    const struct iou_ctx *c = ctx;
    double best = -1;
    int idx = -1;
    for (int g = 0; g < c->ng; g++) {
        if (c->gt[g].image != d->image) continue;
        double o = eval_iou(d, &c->gt[g]);
        if (o > best) best = o, idx = g;
    }
    return idx >= 0 && best >= c->thresh && !taken[idx] ? idx : -1;
}

int eval_set_match(const struct eval_box *det, int nd, const struct eval_box *gt, int ng,
                   double thresh, int *order, char *tp) {
    struct iou_ctx c = {gt, ng, thresh};
    return set_match(det, nd, ng, pick_iou, &c, order, tp);
}

double eval_pts_scale(const struct eval_face_pts *f) {
    double eye = hypot(f->eye_r[0] - f->eye_l[0], f->eye_r[1] - f->eye_l[1]);
    double mx = (f->eye_l[0] + f->eye_r[0]) / 2, my = (f->eye_l[1] + f->eye_r[1]) / 2;
    return fmax(eye, hypot(f->mouth[0] - mx, f->mouth[1] - my));
}

static int box_has(const struct eval_box *d, const double p[2]) {
    return p[0] >= d->x1 && p[0] <= d->x2 && p[1] >= d->y1 && p[1] <= d->y2;
}

int eval_pts_hit(const struct eval_box *d, const struct eval_face_pts *f) {
    if (!box_has(d, f->eye_l) || !box_has(d, f->eye_r) || !box_has(d, f->mouth)) return 0;
    double side = sqrt((d->x2 - d->x1 + 1) * (d->y2 - d->y1 + 1)), s = eval_pts_scale(f);
    return side >= EVAL_PTS_SIZE_MIN * s && side <= EVAL_PTS_SIZE_MAX * s;
}

struct pts_ctx {
    const struct eval_face_pts *gt;
    int ng;
};

// the untaken face of the image the box is correct for whose landmark centre is nearest
// to the box centre (first on ties)
static int pick_pts(const void *ctx, const struct eval_box *d, const char *taken) {
    const struct pts_ctx *c = ctx;
    double cx = (d->x1 + d->x2) / 2, cy = (d->y1 + d->y2) / 2, best = INFINITY;
    int idx = -1;
    for (int g = 0; g < c->ng; g++) {
        const struct eval_face_pts *f = &c->gt[g];
        if (f->image != d->image || taken[g] || !eval_pts_hit(d, f)) continue;
        double fx = (f->eye_l[0] + f->eye_r[0] + f->mouth[0]) / 3;
        double fy = (f->eye_l[1] + f->eye_r[1] + f->mouth[1]) / 3;
        double dist = hypot(fx - cx, fy - cy);
        if (dist < best) best = dist, idx = g;
    }
    return idx;
}

int eval_pts_match(const struct eval_box *det, int nd, const struct eval_face_pts *gt, int ng, int *order,
                   char *tp) {
    struct pts_ctx c = {gt, ng};
    return set_match(det, nd, ng, pick_pts, &c, order, tp);
}

double eval_set_ap(const char *tp, int nd, int n_gt) {
    if (n_gt <= 0) return 0;
    // VOCap with rec_k = c_k/n_gt and prec_k = c_k/k, in one backward pass: the recall
    // changes exactly at the true positives
    int c = 0;
    for (int k = 0; k < nd; k++) c += tp[k] != 0;
    double ap = 0, env = 0;
    for (int k = nd; k >= 1; k--) {
        env = fmax((double)c / k, env);
        if (tp[k - 1]) {
            ap += ((double)c / n_gt - (double)(c - 1) / n_gt) * env;
            c--;
        }
    }
    return ap;
}

int eval_roc(const double *score, const char *tp, int nd, int n_gt, int *fp, double *rate) {
    int n = 0, t = 0, f = 0;
    fp[n] = 0, rate[n++] = 0;
    for (int k = 0; k < nd; k++) {
        if (tp[k]) t++;
        else f++;
        if (k + 1 < nd && score[k + 1] == score[k]) continue; // inside a tie
        fp[n] = f, rate[n++] = n_gt > 0 ? (double)t / n_gt : 0;
    }
    return n;
}

double eval_roc_rate_at(const int *fp, const double *rate, int n, int max_fp) {
    double r = 0;
    for (int i = 0; i < n && fp[i] <= max_fp; i++) r = rate[i];
    return r;
}
