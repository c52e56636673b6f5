// SPDX-License-Identifier: MIT
// Identification metrics (MegaFace style): closed-set rank-1 and open-set DIR at FAR.
// Similarity = dot product of L2-normalised embeddings (monotonic in distance).
#include <math.h>
#include <stdlib.h>

#include "base/base.h"
#include "eval/eval.h"

static float dotp(const float *a, const float *b, int dim) {
    float s = 0;
    for (int k = 0; k < dim; k++) s += a[k] * b[k];
    return s;
}

// best gallery index for one probe (ties: the lower index)
static int nearest(const float *g, int ng, const float *p, int dim, float *best) {
    int bi = -1;
    float bs = -INFINITY;
    for (int i = 0; i < ng; i++) {
        float s = dotp(g + (size_t)i * dim, p, dim);
        if (s > bs) bs = s, bi = i;
    }
    if (best) *best = bs;
    return bi;
}

double eval_rank1(const float *g, const int *gl, int ng, const float *p, const int *pl, int np, int dim) {
    int ok = 0;
    for (int i = 0; i < np; i++) {
        int b = nearest(g, ng, p + (size_t)i * dim, dim, NULL);
        ok += b >= 0 && gl[b] >= 0 && gl[b] == pl[i];
    }
    return np ? (double)ok / np : 0;
}

static int cmp_desc(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return (x < y) - (x > y);
}

double eval_dir_at_far(const float *g, const int *gl, int ng, const float *p, const int *pl, int np,
                       const float *nm, int nnm, int dim, double far, float *thr_out) {
    float *top = fh_malloc(sizeof(float) * (size_t)(nnm ? nnm : 1));
    if (!top) return 0;
    for (int i = 0; i < nnm; i++) nearest(g, ng, nm + (size_t)i * dim, dim, &top[i]);
    qsort(top, (size_t)nnm, sizeof *top, cmp_desc);
    // accept when similarity > thr: at most floor(far * nnm) non-mated probes pass
    int allowed = (int)floor(far * nnm + 1e-9);
    float thr = nnm ? (allowed < nnm ? top[allowed] : -INFINITY) : INFINITY;
    fh_free(top);
    int hits = 0;
    for (int i = 0; i < np; i++) {
        float s;
        int b = nearest(g, ng, p + (size_t)i * dim, dim, &s);
        hits += b >= 0 && gl[b] >= 0 && gl[b] == pl[i] && s > thr;
    }
    if (thr_out) *thr_out = thr;
    return np ? (double)hits / np : 0;
}
