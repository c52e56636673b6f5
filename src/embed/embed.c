// SPDX-License-Identifier: MIT
// MobileFaceNet embedder: input (v - mean) * scale NHWC RGB, not transposed (models.md 4);
// the pretrained net's mean 127.5, scale 1/128 (EMB_PREP_MFN).
#include <math.h>
#include <string.h>

#include "embed/embed.h"

struct emb {
    const struct nn_net *net;
    struct emb_prep prep;
    struct nn_session *s;
    float raw[2 * EMB_BATCH * EMB_DIM];
};

int emb_new(const struct nn_net *mfn, struct fh_pool *pool, struct emb **out) {
    return emb_new_prep(mfn, EMB_PREP_MFN, pool, out);
}

int emb_new_prep(const struct nn_net *mfn, struct emb_prep prep, struct fh_pool *pool,
                 struct emb **out) {
    *out = NULL;
    if (!(prep.scale > 0) || !(prep.mean >= -1e6f && prep.mean <= 1e6f) || prep.scale > 1e6f)
        return fh_fail(FH_E_ARG, "embed: preprocessing mean %g scale %g", prep.mean, prep.scale);
    struct emb *e = fh_calloc(1, sizeof *e);
    if (!e) return fh_fail(FH_E_NOMEM, "embed: out of memory");
    e->net = mfn;
    e->prep = prep;
    int rc = nn_session_new(mfn, pool, &e->s);
    int dims[4] = {1, EMB_SIZE, EMB_SIZE, 3}, od[FH_MAX_DIMS], r;
    if (!rc) rc = nn_session_reshape(e->s, dims, 4);
    if (!rc) {
        nn_session_output(e->s, 0, od, &r);
        if (r != 2 || od[1] != EMB_DIM)
            rc = fh_fail(FH_E_ARG, "embed: the net outputs rank %d width %d, expected [N,%d]", r,
                         od[1], EMB_DIM);
    }
    if (rc) {
        emb_free(e);
        return rc;
    }
    *out = e;
    return FH_OK;
}

void emb_free(struct emb *e) {
    if (!e) return;
    nn_session_free(e->s);
    fh_free(e);
}

void emb_normalize(float *v, int d) {
    double s = 0;
    for (int i = 0; i < d; i++) s += (double)v[i] * v[i];
    float inv = (float)(1.0 / sqrt(s > 1e-10 ? s : 1e-10));
    for (int i = 0; i < d; i++) v[i] *= inv;
}

float emb_distance(const float *a, const float *b, int d) {
    double s = 0;
    for (int i = 0; i < d; i++) s += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
    return (float)sqrt(s);
}

// crop -> normalised tensor slice; mirrored when flip
static void put(const struct img *c, int flip, struct emb_prep pp, float *dst) {
    for (int y = 0; y < EMB_SIZE; y++)
        for (int x = 0; x < EMB_SIZE; x++) {
            const uint8_t *p = c->data + (size_t)y * c->stride + (size_t)(flip ? EMB_SIZE - 1 - x : x) * 3;
            float *q = dst + ((size_t)y * EMB_SIZE + x) * 3;
            for (int k = 0; k < 3; k++) q[k] = (p[k] - pp.mean) * pp.scale;
        }
}

int emb_run(struct emb *e, const struct img *crops, int n, int flip, float *out, float *raw) {
    const size_t img_floats = (size_t)EMB_SIZE * EMB_SIZE * 3;
    for (int i = 0; i < n; i++)
        if (crops[i].w != EMB_SIZE || crops[i].h != EMB_SIZE || crops[i].c != 3)
            return fh_fail(FH_E_ARG, "embed: crop %d is %dx%dx%d, need 112x112x3", i, crops[i].w,
                           crops[i].h, crops[i].c);
    for (int b0 = 0; b0 < n; b0 += EMB_BATCH) {
        int nb = n - b0 < EMB_BATCH ? n - b0 : EMB_BATCH, per = flip ? 2 : 1;
        int dims[4] = {nb * per, EMB_SIZE, EMB_SIZE, 3};
        int rc = nn_session_reshape(e->s, dims, 4);
        if (rc) return rc;
        float *in = nn_session_input(e->s, 0);
        // batch layout: [crop 0 .. nb-1][mirrored crop 0 .. nb-1]
        for (int i = 0; i < nb; i++) {
            put(&crops[b0 + i], 0, e->prep, in + (size_t)i * img_floats);
            if (flip) put(&crops[b0 + i], 1, e->prep, in + (size_t)(nb + i) * img_floats);
        }
        if ((rc = nn_session_run(e->s))) return rc;
        const float *y = nn_session_output(e->s, 0, NULL, NULL);
        memcpy(e->raw, y, (size_t)nb * per * EMB_DIM * sizeof(float));
        for (int i = 0; i < nb; i++) {
            float *o = out + (size_t)(b0 + i) * EMB_DIM;
            if (raw) memcpy(raw + (size_t)(b0 + i) * EMB_DIM, e->raw + (size_t)i * EMB_DIM, EMB_DIM * sizeof(float));
            memcpy(o, e->raw + (size_t)i * EMB_DIM, EMB_DIM * sizeof(float));
            emb_normalize(o, EMB_DIM);
            if (flip) {
                float *m = e->raw + (size_t)(nb + i) * EMB_DIM;
                emb_normalize(m, EMB_DIM);
                for (int k = 0; k < EMB_DIM; k++) o[k] = 0.5f * (o[k] + m[k]);
                emb_normalize(o, EMB_DIM);
            }
        }
    }
    return FH_OK;
}
