// SPDX-License-Identifier: MIT
// The trained heads of `facehatch calibrate` (see calib_int.h).
//
// Protocol (calibrate's held-out protocol, one level deeper): images alternate between the
// fitting half and the held-out half (test); inside the fitting half they alternate again
// between training (split 0) and validation (split 2). Models are trained on the training
// part only; the model (logistic regression vs MLP, epochs, weight decay) and the
// operating threshold (the one that loses at most LIB_HEAD_FACE_LOSS of the validation
// faces) are chosen on the validation part only; every reported number is on the
// held-out part, never seen by training or by a choice. The sphere is recomputed on the
// same split (centre from the training part's false detections, radius chosen on
// validation) so that it is compared with the heads on identical data.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "cli/calib_int.h"
#include "library/head.h"
#include "train/head.h"

#define FACE_LOSS 0.025 // at most 2.5 % of real faces lost
#define BLUR_DIM 4

struct set {
    float *x; // n x dim
    int *y;   // 1 = positive (junk / heavy blur)
    int n, dim;
};

static void set_free(struct set *s) { fh_free(s->x), fh_free(s->y); }

// ROC AUC of "positive if score large" (ties count half)
static double auc(const float *sc, const int *y, int n) {
    double num = 0, den = 0;
    for (int i = 0; i < n; i++)
        if (y[i])
            for (int j = 0; j < n; j++)
                if (!y[j]) num += sc[i] > sc[j] ? 1 : sc[i] == sc[j] ? 0.5 : 0, den++;
    return den ? num / den : 0;
}

static int cmp_desc(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return x < y ? 1 : x > y ? -1 : 0;
}

// The threshold (positive when score >= t) flagging at most FACE_LOSS of the negatives
// (real faces): just above the (k+1)-th highest negative score, k = floor(loss * n_neg).
static float pick_threshold(const float *sc, const int *y, int n) {
    float *neg = fh_malloc(sizeof(float) * (size_t)(n ? n : 1));
    int nn = 0;
    if (!neg) return INFINITY;
    for (int i = 0; i < n; i++)
        if (!y[i]) neg[nn++] = sc[i];
    qsort(neg, (size_t)nn, sizeof *neg, cmp_desc);
    int k = (int)floor(FACE_LOSS * nn);
    float t = k < nn ? nextafterf(neg[k], INFINITY) : -INFINITY;
    fh_free(neg);
    return t;
}

struct rates {
    double auc, caught, lost; // caught: share of positives >= t; lost: share of negatives >= t
    int np, nn;
};

static struct rates rates_at(const float *sc, const int *y, int n, float t) {
    struct rates r = {auc(sc, y, n), 0, 0, 0, 0};
    int tp = 0, fp = 0;
    for (int i = 0; i < n; i++)
        if (y[i]) r.np++, tp += sc[i] >= t;
        else r.nn++, fp += sc[i] >= t;
    r.caught = r.np ? (double)tp / r.np : 0, r.lost = r.nn ? (double)fp / r.nn : 0;
    return r;
}

// samples with the given role, as features (embedding, or the blur features)
static int gather(const struct calib_sample *s, int n, int min_width, int blur, int (*role)(const struct calib_sample *),
                  struct set *out) {
    out->dim = blur ? BLUR_DIM : FH_EMB_DIM, out->n = 0;
    out->x = fh_malloc(sizeof(float) * (size_t)(n ? n : 1) * (size_t)out->dim);
    out->y = fh_malloc(sizeof(int) * (size_t)(n ? n : 1));
    if (!out->x || !out->y) return -1;
    for (int i = 0; i < n; i++) {
        const struct calib_sample *c = &s[i];
        if (!role(c)) continue;
        float *x = out->x + (size_t)out->n * (size_t)out->dim;
        if (blur) {
            if (c->trash || (c->label != 0 && c->label != 2)) continue;
            x[0] = (float)log1p(c->blur), x[1] = (float)log1p(c->blur2), x[2] = (float)log((double)c->width), x[3] = c->score;
            out->y[out->n++] = c->label == 2;
        } else {
            if (c->width < min_width) continue;
            memcpy(x, c->emb, sizeof(float) * FH_EMB_DIM);
            out->y[out->n++] = c->trash;
        }
    }
    return 0;
}

static int is_held(const struct calib_sample *c) { return calib_held(c); }
static int is_train(const struct calib_sample *c) { return calib_train(c); }
static int is_val(const struct calib_sample *c) { return calib_val(c); }

static void scores(const struct lib_head *h, const struct set *s, float *sc) {
    for (int i = 0; i < s->n; i++) sc[i] = lib_head_logit(h, s->x + (size_t)i * (size_t)s->dim);
}

static struct lib_head as_lib(const struct train_head *t) {
    return (struct lib_head){LIB_HEAD_VERSION, t->dim, t->hidden, t->w1, t->b1, t->alpha, t->w2, t->b2, 0};
}

struct choice {
    struct train_head h;
    struct train_head_opts o;
    double val_auc;
    float t; // threshold from validation
};

// trains the grid for one family (hidden fixed) and keeps the best validation AUC
static int choose(const struct set *tr, const struct set *va, int hidden, float *sc, struct choice *best) {
    static const int epochs[] = {30, 100, 300};
    static const float wd[] = {0, 1e-3f, 1e-2f};
    best->val_auc = -1;
    for (size_t e = 0; e < sizeof epochs / sizeof *epochs; e++)
        for (size_t d = 0; d < sizeof wd / sizeof *wd; d++) {
            struct train_head_opts o = {.hidden = hidden, .epochs = epochs[e], .batch = 64, .lr = 0.02f,
                                        .momentum = 0.9f, .weight_decay = wd[d], .seed = 1};
            struct train_head h;
            double loss;
            if (train_head_fit(tr->x, tr->y, tr->n, tr->dim, &o, &h, &loss)) {
                fprintf(stderr, "facehatch: calibrate: training a head: %s\n", fh_errmsg());
                return -1;
            }
            struct lib_head lh = as_lib(&h);
            scores(&lh, va, sc);
            double a = auc(sc, va->y, va->n);
            printf("    %-4s %3d epochs, wd %-6g: training loss %.4f, validation AUC %.4f\n", hidden ? "MLP" : "LR",
                   o.epochs, (double)o.weight_decay, loss, a);
            if (a > best->val_auc) {
                train_head_free(&best->h);
                best->h = h, best->o = o, best->val_auc = a;
                best->t = pick_threshold(sc, va->y, va->n);
            } else {
                train_head_free(&h);
            }
        }
    return 0;
}

static void print_rates(const char *name, struct rates r) {
    printf("  %-34s held-out AUC %.4f; %5.1f %% of %d false detections caught, %.2f %% of %d faces lost\n", name, r.auc,
           100 * r.caught, r.np, 100 * r.lost, r.nn);
}

// the sphere on the same split: centre from the training part's junk, score = -distance
static struct rates sphere(const struct set *tr, const struct set *va, const struct set *te, float *sc) {
    double c[FH_EMB_DIM] = {0};
    int nj = 0;
    for (int i = 0; i < tr->n; i++)
        if (tr->y[i]) {
            for (int d = 0; d < FH_EMB_DIM; d++) c[d] += tr->x[(size_t)i * FH_EMB_DIM + (size_t)d];
            nj++;
        }
    for (int d = 0; d < FH_EMB_DIM; d++) c[d] /= nj ? nj : 1;
    const struct set *parts[2] = {va, te};
    float t = 0;
    for (int p = 0; p < 2; p++) {
        const struct set *s = parts[p];
        for (int i = 0; i < s->n; i++) {
            double d2 = 0;
            for (int d = 0; d < FH_EMB_DIM; d++) {
                double v = s->x[(size_t)i * FH_EMB_DIM + (size_t)d] - c[d];
                d2 += v * v;
            }
            sc[i] = (float)-sqrt(d2);
        }
        if (p == 0) t = pick_threshold(sc, s->y, s->n);
    }
    return rates_at(sc, te->y, te->n, t);
}

static int count_pos(const struct set *s) {
    int k = 0;
    for (int i = 0; i < s->n; i++) k += s->y[i];
    return k;
}

static int enough(const struct set *tr, const struct set *va, const struct set *te, const char *what) {
    int ok = 1;
    const struct set *p[3] = {tr, va, te};
    for (int i = 0; i < 3; i++) ok &= count_pos(p[i]) >= 2 && p[i]->n - count_pos(p[i]) >= 2;
    if (!ok) fprintf(stderr, "facehatch: calibrate: too few %s examples for a trained head\n", what);
    return ok;
}

// blur: logistic regression on the features vs the variance of the Laplacian
static int blur_head(const struct calib_sample *s, int n, float *sc, struct rates *lap, struct rates *lr) {
    struct set tr = {0}, va = {0}, te = {0};
    int rc = -1;
    if (gather(s, n, 0, 1, is_train, &tr) || gather(s, n, 0, 1, is_val, &va) || gather(s, n, 0, 1, is_held, &te)) goto out;
    if (!enough(&tr, &va, &te, "blur")) goto out;
    printf("blur head: heavy vs clear WIDER faces; %d training, %d validation, %d held-out (features: log variance of\n"
           "  the Laplacian at 112 and 56 px, log box width, detector score)\n", tr.n, va.n, te.n);
    for (int i = 0; i < te.n; i++) sc[i] = -te.x[(size_t)i * BLUR_DIM]; // blurry when the variance is small
    float t = 0;
    for (int i = 0; i < va.n; i++) sc[te.n + i] = -va.x[(size_t)i * BLUR_DIM];
    t = pick_threshold(sc + te.n, va.y, va.n);
    *lap = rates_at(sc, te.y, te.n, t);
    struct choice c = {0};
    if (choose(&tr, &va, 0, sc, &c)) goto out;
    struct lib_head lh = as_lib(&c.h);
    scores(&lh, &te, sc);
    *lr = rates_at(sc, te.y, te.n, c.t);
    printf("  variance of the Laplacian:         held-out AUC %.4f\n", lap->auc);
    printf("  logistic regression (%3d ep, wd %g): held-out AUC %.4f\n", c.o.epochs, (double)c.o.weight_decay, lr->auc);
    train_head_free(&c.h);
    rc = 0;
out:
    set_free(&tr), set_free(&va), set_free(&te);
    return rc;
}

int calib_heads(const struct calib_sample *s, int n, int min_width, FILE *w) {
    struct set tr = {0}, va = {0}, te = {0};
    struct choice lr = {0}, mlp = {0};
    int rc = -1;
    float *sc = fh_malloc(sizeof(float) * (size_t)(2 * n + 1));
    if (!sc || gather(s, n, min_width, 0, is_train, &tr) || gather(s, n, min_width, 0, is_val, &va) ||
        gather(s, n, min_width, 0, is_held, &te)) {
        fprintf(stderr, "facehatch: calibrate: out of memory\n");
        goto out;
    }
    if (!enough(&tr, &va, &te, "\"not a face\"")) goto out;
    printf("\"not a face\" heads: training %d (%d false detections), validation %d (%d), held-out %d (%d)\n", tr.n,
           count_pos(&tr), va.n, count_pos(&va), te.n, count_pos(&te));
    if (choose(&tr, &va, 0, sc, &lr) || choose(&tr, &va, 32, sc, &mlp)) goto out;
    struct rates rs = sphere(&tr, &va, &te, sc), rl, rm;
    struct lib_head hl = as_lib(&lr.h), hm = as_lib(&mlp.h);
    hl.threshold = lr.t, hm.threshold = mlp.t;
    scores(&hl, &te, sc);
    rl = rates_at(sc, te.y, te.n, lr.t);
    scores(&hm, &te, sc);
    rm = rates_at(sc, te.y, te.n, mlp.t);
    int use_mlp = mlp.val_auc > lr.val_auc;
    printf("  (thresholds chosen on validation to lose at most %.1f %% of its faces)\n", 100 * FACE_LOSS);
    print_rates("sphere (same split)", rs);
    char name[64];
    snprintf(name, sizeof name, "LR (%d ep, wd %g, val AUC %.4f)", lr.o.epochs, (double)lr.o.weight_decay, lr.val_auc);
    print_rates(name, rl);
    snprintf(name, sizeof name, "MLP 32 (%d ep, wd %g, val AUC %.4f)", mlp.o.epochs, (double)mlp.o.weight_decay, mlp.val_auc);
    print_rates(name, rm);
    printf("  chosen on validation: %s\n", use_mlp ? "MLP" : "logistic regression");
    struct rates bl = {0}, bh = {0};
    printf("\n");
    int blur_ok = !blur_head(s, n, sc, &bl, &bh);
    printf("{\"heads\":{\"sphere\":{\"auc\":%.4f,\"caught\":%.4f,\"lost\":%.4f},\"lr\":{\"auc\":%.4f,\"caught\":%.4f,"
           "\"lost\":%.4f},\"mlp\":{\"auc\":%.4f,\"caught\":%.4f,\"lost\":%.4f},\"chosen\":\"%s\",\"junk_test\":%d,"
           "\"faces_test\":%d",
           rs.auc, rs.caught, rs.lost, rl.auc, rl.caught, rl.lost, rm.auc, rm.caught, rm.lost, use_mlp ? "mlp" : "lr",
           rs.np, rs.nn);
    if (blur_ok) printf(",\"blur\":{\"laplacian_auc\":%.4f,\"lr_auc\":%.4f}", bl.auc, bh.auc);
    printf("}}\n");
    rc = 0;
    if (w && lib_head_write_calib(w, use_mlp ? &hm : &hl)) {
        fprintf(stderr, "facehatch: calibrate: %s\n", fh_errmsg());
        rc = -1;
    }
out:
    train_head_free(&lr.h), train_head_free(&mlp.h);
    set_free(&tr), set_free(&va), set_free(&te);
    fh_free(sc);
    return rc;
}
