// SPDX-License-Identifier: MIT
// The trained heads of `facehatch calibrate` (see calib_int.h).
//
// Protocol (calibrate's held-out protocol, one level deeper): images alternate between the
// fitting half and the held-out half (test); inside the fitting half they alternate again
// between two folds, A (split 0) and B (split 2). Every choice is made on the fitting
// half by 2-fold cross-validation: each setting (logistic regression vs MLP, epochs,
// weight decay) is trained on A and scored on B, and trained on B and scored on A; the
// setting with the best out-of-fold ROC AUC wins, and the operating threshold is the one
// that loses at most 2.5 % of the out-of-fold faces. The head that is kept is then
// trained on the whole fitting half with that setting. Every reported number is on the
// held-out half, never seen by training or by a choice. Training may use the fitting
// half's detections of every size (down to calibrate's 20 px) and score (down to its
// lowered 0.4); scoring (out-of-fold and held-out) only uses what the library keeps and
// sees: >= min_width, detector score >= min_score (the library's O-Net threshold; below it
// a detection never reaches the library, so it must not count as junk caught). The
// "not a face" heads see the embedding and the face's context: the blur head's features
// (sharpness at two scales, box width, detector score; lib_junk_vector). The sphere gets the same
// treatment: its centre is the mean of the fitting half's false detections (the shipped
// sphere), its radius for the 2.5 % point chosen out-of-fold, so that both are compared on
// identical data.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "cli/calib_int.h"
#include "library/head.h"
#include "train/head.h"

#define FACE_LOSS 0.025 // the issue's operating point: at most 2.5 % of real faces lost
#define SHIP_LOSS 0.01  // the shipped threshold: 1 % of the fitting faces, as the sphere's radius
#define BLUR_DIM LIB_BLUR_FEATURES
#define JUNK_DIM LIB_JUNK_FEATURES

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

// The threshold (positive when score >= t) flagging at most `loss` of the negatives
// (real faces): just above the (k+1)-th highest negative score, k = floor(loss * n_neg).
static float pick_threshold(const float *sc, const int *y, int n, double loss) {
    float *neg = fh_malloc(sizeof(float) * (size_t)(n ? n : 1));
    int nn = 0;
    if (!neg) return INFINITY;
    for (int i = 0; i < n; i++)
        if (!y[i]) neg[nn++] = sc[i];
    qsort(neg, (size_t)nn, sizeof *neg, cmp_desc);
    int k = (int)floor(loss * nn);
    float t = k < nn ? nextafterf(neg[k], INFINITY) : -INFINITY;
    fh_free(neg);
    return t;
}

// the threshold (positive when score >= t) with the best balanced accuracy (the blur rule)
static float bacc_threshold(const float *sc, const int *y, int n) {
    int np = 0;
    for (int i = 0; i < n; i++) np += y[i];
    double best = -1;
    float t = 0;
    for (int i = 0; i < n; i++) {
        int tp = 0, tn = 0;
        for (int j = 0; j < n; j++) tp += y[j] && sc[j] >= sc[i], tn += !y[j] && sc[j] < sc[i];
        double b = 0.5 * ((np ? (double)tp / np : 0) + (n - np ? (double)tn / (n - np) : 0));
        if (b > best) best = b, t = sc[i];
    }
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

// samples of one split (0, 2; -1: both), as features (embedding + context, or the blur
// features); min_width > 0: only what the library keeps (>= min_width and >= min_score)
static int gather(const struct calib_sample *s, int n, int min_width, float min_score, int blur, int split,
                  struct set *out) {
    out->dim = blur ? BLUR_DIM : JUNK_DIM, out->n = 0;
    out->x = fh_malloc(sizeof(float) * (size_t)(n ? n : 1) * (size_t)out->dim);
    out->y = fh_malloc(sizeof(int) * (size_t)(n ? n : 1));
    if (!out->x || !out->y) return -1;
    for (int i = 0; i < n; i++) {
        const struct calib_sample *c = &s[i];
        if (split >= 0 ? c->split != split : calib_held(c)) continue; // split < 0: the fitting half
        float *x = out->x + (size_t)out->n * (size_t)out->dim;
        if (blur) {
            if (c->trash || (c->label != 0 && c->label != 2)) continue;
            lib_blur_vector(c->blur, c->blur2, c->width, c->score, x);
            out->y[out->n++] = c->label == 2;
        } else {
            if (min_width > 0 && (c->width < min_width || c->score < min_score)) continue;
            lib_junk_vector(c->emb, c->blur, c->blur2, c->width, c->score, x);
            out->y[out->n++] = c->trash;
        }
    }
    return 0;
}

static void scores(const struct lib_head *h, const struct set *s, float *sc) {
    for (int i = 0; i < s->n; i++) sc[i] = lib_head_logit(h, s->x + (size_t)i * (size_t)s->dim);
}

static struct lib_head as_lib(const struct train_head *t) {
    return (struct lib_head){LIB_HEAD_VERSION, t->dim, t->hidden, t->w1, t->b1, t->alpha, t->w2, t->b2, 0};
}

static int count_pos(const struct set *s) {
    int k = 0;
    for (int i = 0; i < s->n; i++) k += s->y[i];
    return k;
}

// a ++ b
static int concat(const struct set *a, const struct set *b, struct set *out) {
    out->dim = a->dim, out->n = a->n + b->n;
    out->x = fh_malloc(sizeof(float) * (size_t)(out->n ? out->n : 1) * (size_t)out->dim);
    out->y = fh_malloc(sizeof(int) * (size_t)(out->n ? out->n : 1));
    if (!out->x || !out->y) return -1;
    memcpy(out->x, a->x, sizeof(float) * (size_t)a->n * (size_t)a->dim);
    memcpy(out->x + (size_t)a->n * (size_t)a->dim, b->x, sizeof(float) * (size_t)b->n * (size_t)b->dim);
    memcpy(out->y, a->y, sizeof(int) * (size_t)a->n);
    memcpy(out->y + a->n, b->y, sizeof(int) * (size_t)b->n);
    return 0;
}

// The data of one head: the two folds (for training: every size; for scoring: what the
// library keeps), their union, the out-of-fold scoring set (B40 ++ A40), the held-out set.
struct data {
    struct set fa, fb, fit, a_sc, b_sc, oof, te;
};

static void data_free(struct data *d) {
    struct set *p[7] = {&d->fa, &d->fb, &d->fit, &d->a_sc, &d->b_sc, &d->oof, &d->te};
    for (int i = 0; i < 7; i++) set_free(p[i]);
}

static int data_get(const struct calib_sample *s, int n, int min_width, float min_score, int blur, struct data *d) {
    if (gather(s, n, 0, 0, blur, 0, &d->fa) || gather(s, n, 0, 0, blur, 2, &d->fb) || concat(&d->fa, &d->fb, &d->fit) ||
        gather(s, n, min_width, min_score, blur, 0, &d->a_sc) || gather(s, n, min_width, min_score, blur, 2, &d->b_sc) ||
        concat(&d->b_sc, &d->a_sc, &d->oof) || gather(s, n, min_width, min_score, blur, 1, &d->te))
        return -1;
    // held-out: splits 1 and 3
    struct set t3 = {0}, all = {0};
    if (gather(s, n, min_width, min_score, blur, 3, &t3) || concat(&d->te, &t3, &all)) {
        set_free(&t3), set_free(&all);
        return -1;
    }
    set_free(&t3), set_free(&d->te);
    d->te = all;
    return 0;
}

static int enough(const struct data *d, const char *what) {
    int ok = 1;
    const struct set *p[3] = {&d->a_sc, &d->b_sc, &d->te};
    for (int i = 0; i < 3; i++) ok &= count_pos(p[i]) >= 2 && p[i]->n - count_pos(p[i]) >= 2;
    if (!ok) fprintf(stderr, "facehatch: calibrate: too few %s examples for a trained head\n", what);
    return ok;
}

struct choice {
    struct train_head h; // trained on the whole fitting half
    struct train_head_opts o;
    double cv_auc;       // out-of-fold ROC AUC
    float t, t_ship;     // thresholds from the out-of-fold scores (FACE_LOSS, SHIP_LOSS)
};

static int fit(const struct set *tr, const struct train_head_opts *o, struct train_head *h, double *loss) {
    if (!train_head_fit(tr->x, tr->y, tr->n, tr->dim, o, h, loss)) return 0;
    fprintf(stderr, "facehatch: calibrate: training a head: %s\n", fh_errmsg());
    return -1;
}

// out-of-fold scores of one setting: trained on A scores B, trained on B scores A
static int cross_val(const struct data *d, const struct train_head_opts *o, float *sc) {
    const struct set *tr[2] = {&d->fa, &d->fb}, *ev[2] = {&d->b_sc, &d->a_sc};
    for (int k = 0, off = 0; k < 2; off += ev[k]->n, k++) {
        struct train_head h;
        if (fit(tr[k], o, &h, NULL)) return -1;
        struct lib_head lh = as_lib(&h);
        scores(&lh, ev[k], sc + off);
        train_head_free(&h);
    }
    return 0;
}

// the grid for one family (hidden fixed): best out-of-fold AUC (the first of equals:
// fewer epochs, less decay), then trained on the whole fitting half
static int choose(const struct data *d, int hidden, float *sc, struct choice *best) {
    static const int epochs[] = {10, 30, 100};
    static const float wd[] = {1e-3f, 1e-2f, 1e-1f};
    best->cv_auc = -1;
    for (size_t e = 0; e < sizeof epochs / sizeof *epochs; e++)
        for (size_t k = 0; k < sizeof wd / sizeof *wd; k++) {
            struct train_head_opts o = {.hidden = hidden, .epochs = epochs[e], .batch = 64, .lr = 0.02f,
                                        .momentum = 0.9f, .weight_decay = wd[k], .seed = 1};
            if (cross_val(d, &o, sc)) return -1;
            double a = auc(sc, d->oof.y, d->oof.n);
            printf("    %-4s %3d epochs, wd %-6g: out-of-fold AUC %.4f\n", hidden ? "MLP" : "LR", o.epochs,
                   (double)o.weight_decay, a);
            if (a > best->cv_auc) {
                best->o = o, best->cv_auc = a;
                best->t = pick_threshold(sc, d->oof.y, d->oof.n, FACE_LOSS);
                best->t_ship = pick_threshold(sc, d->oof.y, d->oof.n, SHIP_LOSS);
            }
        }
    double loss;
    if (fit(&d->fit, &best->o, &best->h, &loss)) return -1;
    printf("    %s kept: %d epochs, wd %g, trained on the fitting half (%d examples, loss %.4f)\n", hidden ? "MLP" : "LR",
           best->o.epochs, (double)best->o.weight_decay, d->fit.n, loss);
    return 0;
}

// share of positives caught at <= 2.5 % of negatives lost, on the set itself (a point of
// its ROC curve, like the AUC; not an operating point)
static double roc_point(const float *sc, const int *y, int n) {
    return rates_at(sc, y, n, pick_threshold(sc, y, n, FACE_LOSS)).caught;
}

// one row: held-out AUC, the ROC point, and both out-of-fold operating points
struct row {
    struct rates r, ship; // at the FACE_LOSS and SHIP_LOSS out-of-fold thresholds
    double roc;
};

static struct row row_at(const float *sc, const int *y, int n, float t, float t_ship) {
    return (struct row){rates_at(sc, y, n, t), rates_at(sc, y, n, t_ship), roc_point(sc, y, n)};
}

static void print_row(const char *name, struct row w) {
    printf("  %-26s %.4f   %5.1f %%      %5.1f %% / %4.2f %%      %5.1f %% / %4.2f %%\n", name, w.r.auc, 100 * w.roc,
           100 * w.r.caught, 100 * w.r.lost, 100 * w.ship.caught, 100 * w.ship.lost);
}

static void json_row(const char *name, struct row w) {
    printf("\"%s\":{\"auc\":%.4f,\"roc_caught_2_5\":%.4f,\"caught_2_5\":%.4f,\"lost_2_5\":%.4f,\"caught_1\":%.4f,"
           "\"lost_1\":%.4f},", name, w.r.auc, w.roc, w.r.caught, w.r.lost, w.ship.caught, w.ship.lost);
}

// the sphere: on the embedding (the first FH_EMB_DIM features) alone; centre from the
// fitting half's false detections (what the library keeps), score =
// -distance; its 2.5 % radius chosen out-of-fold (centre from one fold, scored on the other)
static void sphere_scores(const struct set *from, const struct set *s, float *sc) {
    double c[FH_EMB_DIM] = {0};
    int nj = 0;
    for (int i = 0; i < from->n; i++)
        if (from->y[i]) {
            for (int d = 0; d < FH_EMB_DIM; d++) c[d] += from->x[(size_t)i * JUNK_DIM + (size_t)d];
            nj++;
        }
    for (int d = 0; d < FH_EMB_DIM; d++) c[d] /= nj ? nj : 1;
    for (int i = 0; i < s->n; i++) {
        double d2 = 0;
        for (int d = 0; d < FH_EMB_DIM; d++) {
            double v = s->x[(size_t)i * JUNK_DIM + (size_t)d] - c[d];
            d2 += v * v;
        }
        sc[i] = (float)-sqrt(d2);
    }
}

static struct row sphere(const struct data *d, float *sc) {
    struct set fit40 = {0};
    struct row r = {0};
    sphere_scores(&d->a_sc, &d->b_sc, sc);
    sphere_scores(&d->b_sc, &d->a_sc, sc + d->b_sc.n);
    float t = pick_threshold(sc, d->oof.y, d->oof.n, FACE_LOSS), ts = pick_threshold(sc, d->oof.y, d->oof.n, SHIP_LOSS);
    if (concat(&d->a_sc, &d->b_sc, &fit40)) return r;
    sphere_scores(&fit40, &d->te, sc);
    set_free(&fit40);
    return row_at(sc, d->te.y, d->te.n, t, ts);
}

// blur: logistic regression on the features vs the variance of the Laplacian; *use = 1
// when the head wins out-of-fold (then *out is the head to store, threshold by balanced
// accuracy out-of-fold, the Laplacian threshold's rule)
static int blur_head(const struct calib_sample *s, int n, float *sc, struct rates *lap, struct rates *lr,
                     struct choice *c, int *use) {
    struct data d = {0};
    int rc = -1;
    if (data_get(s, n, 0, 0, 1, &d)) goto out;
    if (!enough(&d, "blur")) goto out;
    printf("blur head: heavy vs clear WIDER faces; fitting half %d, held-out %d (features: log variance of the\n"
           "  Laplacian at 112 and 56 px, log box width, detector score)\n", d.fit.n, d.te.n);
    for (int i = 0; i < d.oof.n; i++) sc[i] = -d.oof.x[(size_t)i * BLUR_DIM]; // blurry when the variance is small
    double lap_cv = auc(sc, d.oof.y, d.oof.n);
    float t = bacc_threshold(sc, d.oof.y, d.oof.n);
    for (int i = 0; i < d.te.n; i++) sc[i] = -d.te.x[(size_t)i * BLUR_DIM];
    *lap = rates_at(sc, d.te.y, d.te.n, t);
    if (choose(&d, 0, sc, c)) goto out;
    if (cross_val(&d, &c->o, sc)) goto out; // the chosen setting's out-of-fold scores again
    c->t = bacc_threshold(sc, d.oof.y, d.oof.n);
    struct lib_head lh = as_lib(&c->h);
    scores(&lh, &d.te, sc);
    *lr = rates_at(sc, d.te.y, d.te.n, c->t);
    *use = c->cv_auc > lap_cv;
    printf("  out-of-fold AUC: variance of the Laplacian %.4f, logistic regression %.4f: %s\n", lap_cv, c->cv_auc,
           *use ? "the head is kept" : "the Laplacian stays");
    printf("  held-out AUC:    variance of the Laplacian %.4f, logistic regression %.4f\n"
           "  held-out at the balanced-accuracy thresholds (out-of-fold): Laplacian %.1f %% of heavy caught, %.1f %% of clear\n"
           "  flagged; head %.1f %% / %.1f %%\n", lap->auc, lr->auc, 100 * lap->caught, 100 * lap->lost, 100 * lr->caught,
           100 * lr->lost);
    rc = 0;
out:
    data_free(&d);
    return rc;
}

int calib_heads(const struct calib_sample *s, int n, int min_width, float min_score, FILE *w) {
    struct data d = {0};
    struct choice lr = {0}, mlp = {0};
    int rc = -1;
    float *sc = fh_malloc(sizeof(float) * (size_t)(n + 1));
    if (!sc || data_get(s, n, min_width, min_score, 0, &d)) {
        fprintf(stderr, "facehatch: calibrate: out of memory\n");
        goto out;
    }
    if (!enough(&d, "\"not a face\"")) goto out;
    printf("\"not a face\" heads on the embedding + 4 context features (log sharpness at 112 and 56 px, log box\n"
           "  width, detector score): fitting half %d (%d false detections) of every size and score for training,\n"
           "  %d (%d) of at least %d px and score %.2f (what the library sees) for choosing; held-out %d (%d)\n",
           d.fit.n, count_pos(&d.fit), d.oof.n, count_pos(&d.oof), min_width, (double)min_score, d.te.n, count_pos(&d.te));
    if (choose(&d, 0, sc, &lr) || choose(&d, 32, sc, &mlp)) goto out;
    struct row rs = sphere(&d, sc), rl, rm;
    struct lib_head hl = as_lib(&lr.h), hm = as_lib(&mlp.h);
    hl.threshold = lr.t_ship, hm.threshold = mlp.t_ship;
    scores(&hl, &d.te, sc);
    rl = row_at(sc, d.te.y, d.te.n, lr.t, lr.t_ship);
    scores(&hm, &d.te, sc);
    rm = row_at(sc, d.te.y, d.te.n, mlp.t, mlp.t_ship);
    int use_mlp = mlp.cv_auc > lr.cv_auc;
    printf("  held-out (%d false detections, %d faces); thresholds chosen out-of-fold to lose 2.5 %% / 1 %% of the faces:\n"
           "  %-26s AUC      caught at     caught / lost at      caught / lost at\n"
           "  %-26s          2.5 %% lost   the 2.5 %% threshold   the 1 %% threshold (shipped)\n",
           rs.r.np, rs.r.nn, "", "");
    print_row("sphere (shipped centre)", rs);
    print_row("logistic regression", rl);
    print_row("MLP 196-32-1", rm);
    printf("  chosen out-of-fold: %s (out-of-fold AUC %.4f vs %.4f)\n", use_mlp ? "MLP" : "logistic regression",
           use_mlp ? mlp.cv_auc : lr.cv_auc, use_mlp ? lr.cv_auc : mlp.cv_auc);
    struct rates bl = {0}, bh = {0};
    struct choice blur = {0};
    int use_blur = 0;
    printf("\n");
    int blur_ok = !blur_head(s, n, sc, &bl, &bh, &blur, &use_blur);
    printf("{\"heads\":{");
    json_row("sphere", rs), json_row("lr", rl), json_row("mlp", rm);
    printf("\"chosen\":\"%s\",\"junk_test\":%d,\"faces_test\":%d", use_mlp ? "mlp" : "lr", rs.r.np, rs.r.nn);
    if (blur_ok)
        printf(",\"blur\":{\"laplacian_auc\":%.4f,\"lr_auc\":%.4f,\"used\":%s}", bl.auc, bh.auc, use_blur ? "true" : "false");
    printf("}}\n");
    rc = 0;
    struct lib_head hb = as_lib(&blur.h);
    hb.threshold = blur.t;
    if (w && (lib_head_write_calib(w, "junk", use_mlp ? &hm : &hl) ||
              (blur_ok && use_blur && lib_head_write_calib(w, "blur", &hb)))) {
        fprintf(stderr, "facehatch: calibrate: %s\n", fh_errmsg());
        rc = -1;
    }
out:
    train_head_free(&lr.h), train_head_free(&mlp.h), train_head_free(&blur.h);
    data_free(&d);
    fh_free(sc);
    return rc;
}
