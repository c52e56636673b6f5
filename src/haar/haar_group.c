// SPDX-License-Identifier: MIT
// Grouping of raw window hits, OpenCV's groupRectangles(rects, min_neighbors, eps):
// partition into classes of "similar" rectangles (transitively), average each class,
// keep classes with more than min_neighbors members, then drop a kept rectangle that
// lies inside another kept one (grown by eps) when the other has more support.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "haar/haar_int.h"

// Two rectangles are similar when every edge moves by at most
// delta = eps * (min(w1,w2) + min(h1,h2)) / 2 (OpenCV's SimilarRects).
static int similar(const struct haar_det *a, const struct haar_det *b, double eps) {
    double delta = eps * (double)((a->w < b->w ? a->w : b->w) + (a->h < b->h ? a->h : b->h)) * 0.5;
    return abs(a->x - b->x) <= delta && abs(a->y - b->y) <= delta &&
           abs(a->x + a->w - b->x - b->w) <= delta && abs(a->y + a->h - b->y - b->h) <= delta;
}

static int find(int *parent, int i) {
    while (parent[i] != i) i = parent[i] = parent[parent[i]];
    return i;
}

// Maps a mean last-stage margin m >= 0 into the tie-breaker (0, 1): 0.5 + 0.5 m/(1+m).
static double tie(double m) {
    if (!(m > 0)) m = 0;
    return 0.5 + 0.5 * m / (1.0 + m);
}

int haar_group(const struct haar_det *hits, int n, int min_neighbors, double eps,
               struct haar_det **out, int *n_out) {
    if (!out || !n_out || n < 0 || (n > 0 && !hits)) return fh_fail(FH_E_ARG, "haar_group: bad arguments");
    *out = NULL, *n_out = 0;
    if (n == 0) return FH_OK;
    if (min_neighbors <= 0) {   // OpenCV returns the raw hits, each its own group of one
        struct haar_det *d = fh_malloc((size_t)n * sizeof *d);
        if (!d) return fh_fail(FH_E_NOMEM, "haar: out of memory grouping %d hits", n);
        for (int i = 0; i < n; i++) {
            d[i] = hits[i];
            d[i].neighbors = 1;
            d[i].score = 1 + tie(hits[i].score);
        }
        *out = d, *n_out = n;
        return FH_OK;
    }
    int *parent = fh_malloc((size_t)n * sizeof *parent), *label = fh_malloc((size_t)n * sizeof *label);
    // per class: summed box, member count, summed margin
    struct cls { long long x, y, w, h; int count; double margin; int x1, y1, w1, h1; } *cl =
        fh_calloc((size_t)n, sizeof *cl);
    if (!parent || !label || !cl) {
        fh_free(parent), fh_free(label), fh_free(cl);
        return fh_fail(FH_E_NOMEM, "haar: out of memory grouping %d hits", n);
    }
    // classes = connected components of the similarity graph (cv::partition); O(n^2)
    for (int i = 0; i < n; i++) parent[i] = i;
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++)
            if (similar(&hits[i], &hits[j], eps)) {
                int a = find(parent, i), b = find(parent, j);
                if (a != b) parent[a < b ? b : a] = a < b ? a : b;
            }
    // classes numbered in order of their first member, as cv::partition does
    int ncls = 0;
    for (int i = 0; i < n; i++) label[i] = -1;
    for (int i = 0; i < n; i++) {
        int r = find(parent, i);
        if (label[r] < 0) label[r] = ncls++;
        int k = label[r];
        cl[k].x += hits[i].x, cl[k].y += hits[i].y, cl[k].w += hits[i].w, cl[k].h += hits[i].h;
        cl[k].count++;
        cl[k].margin += hits[i].score;
    }
    // the average box: OpenCV multiplies the int sums by the float 1/count and rounds
    for (int k = 0; k < ncls; k++) {
        float s = 1.f / (float)cl[k].count;
        cl[k].x1 = (int)lrintf((float)cl[k].x * s), cl[k].y1 = (int)lrintf((float)cl[k].y * s);
        cl[k].w1 = (int)lrintf((float)cl[k].w * s), cl[k].h1 = (int)lrintf((float)cl[k].h * s);
    }
    struct haar_det *d = fh_calloc((size_t)ncls, sizeof *d);   // zeroed padding: comparable by memcmp
    if (!d) {
        fh_free(parent), fh_free(label), fh_free(cl);
        return fh_fail(FH_E_NOMEM, "haar: out of memory grouping %d hits", n);
    }
    int m = 0;
    for (int i = 0; i < ncls; i++) {
        int n1 = cl[i].count;
        if (n1 <= min_neighbors) continue;
        int j;
        for (j = 0; j < ncls; j++) {   // a small box inside a better-supported big one goes
            int n2 = cl[j].count;
            if (j == i || n2 <= min_neighbors) continue;
            int dx = (int)lrint(cl[j].w1 * eps), dy = (int)lrint(cl[j].h1 * eps);
            if (cl[i].x1 >= cl[j].x1 - dx && cl[i].y1 >= cl[j].y1 - dy &&
                cl[i].x1 + cl[i].w1 <= cl[j].x1 + cl[j].w1 + dx &&
                cl[i].y1 + cl[i].h1 <= cl[j].y1 + cl[j].h1 + dy &&
                (n2 > (n1 > 3 ? n1 : 3) || n1 < 3))
                break;
        }
        if (j < ncls) continue;
        d[m].x = cl[i].x1, d[m].y = cl[i].y1, d[m].w = cl[i].w1, d[m].h = cl[i].h1;
        d[m].neighbors = n1;
        d[m].score = n1 + tie(cl[i].margin / n1);
        m++;
    }
    fh_free(parent), fh_free(label), fh_free(cl);
    if (!m) fh_free(d), d = NULL;
    *out = d, *n_out = m;
    return FH_OK;
}
