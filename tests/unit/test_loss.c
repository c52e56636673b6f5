// SPDX-License-Identifier: MIT
// Loss heads (src/train/loss.h): every loss's dL/dE and parameter gradients against central
// finite differences of the loss value, the PyTorch reference file tests/unit/loss_ref.txt
// (written by tools/torch_losses.py), hand-computed triplet mining, Wen center updates,
// k-means on separable points, the two-level cost report, and bad input.
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "base/base.h"
#include "harness.h"
#include "train/loss.h"

static uint64_t rng = 0x243f6a8885a308d3ull;
static double uni(void) {
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return (rng >> 11) * (1.0 / 9007199254740992.0);
}
static double gauss(void) {
    double u = uni() + 1e-12, v = uni();
    return sqrt(-2 * log(u)) * cos(6.283185307179586 * v);
}
static int irand(int n) { return (int)(uni() * n); }

static double loss_of(struct train_loss *l, const float *E, const int *y, int N, int D) {
    struct train_loss_stats st;
    int rc = train_loss_compute(l, E, y, N, D, NULL, &st);
    return rc ? NAN : st.loss;
}

// Central differences of the loss w.r.t. every entry of x (n floats, perturbed in place and
// restored) against the analytic gradient g. The loss is accumulated in double from float
// inputs, so a small step is exact up to the truncation error; the step actually taken is
// the difference of the two rounded floats. Returns the worst |g - fd| / (atol + |fd|),
// atol = 1e-3 * max |fd| (so <= ~1e-2 means agreement to a few parts per thousand).
static double fd_check(struct train_loss *l, const float *E, const int *y, int N, int D,
                       float *x, const float *g, size_t n, double h) {
    double worst = 0, big = 0;
    static double fd[8192];
    FH_ASSERT(n <= 8192);
    for (size_t i = 0; i < n; i++) {
        float x0 = x[i], xp = (float)(x0 + h), xm = (float)(x0 - h);
        x[i] = xp;
        double lp = loss_of(l, E, y, N, D);
        x[i] = xm;
        double lm = loss_of(l, E, y, N, D);
        x[i] = x0;
        fd[i] = (lp - lm) / ((double)xp - xm);
        if (fabs(fd[i]) > big) big = fabs(fd[i]);
    }
    double atol = 1e-3 * big + 1e-9;
    for (size_t i = 0; i < n; i++) {
        double r = fabs(g[i] - fd[i]) / (atol + fabs(fd[i]));
        if (!(r <= worst)) worst = r; // NaN propagates as a failure
    }
    return worst;
}

// Analytic gradients of E and of every trainable param against finite differences.
// Returns the worst ratio over all arrays; *what names the worst.
static double grad_check(struct train_loss *l, float *E, const int *y, int N, int D, double h,
                         char *what) {
    static float dE[8192];
    train_loss_zero_grad(l);
    if (train_loss_compute(l, E, y, N, D, dE, NULL)) return INFINITY;
    double worst = fd_check(l, E, y, N, D, E, dE, (size_t)N * D, h);
    strcpy(what, "dE");
    for (int i = 0; i < train_loss_n_params(l); i++) {
        struct train_loss_param p;
        train_loss_param(l, i, &p);
        if (!p.g) continue;
        double r = fd_check(l, E, y, N, D, p.w, p.g, p.n, h);
        if (r > worst) worst = r, strcpy(what, p.name);
    }
    return worst;
}

static void fill(float *x, size_t n, double sd) {
    for (size_t i = 0; i < n; i++) x[i] = (float)(sd * gauss());
}

static int finite_differences(void) {
    const char *names[] = {"softmax", "triplet", "center", "sphereface", "cosface", "arcface",
                           "two-level"};
    int ok_all = 1;
    for (int kind = 0; kind < TRAIN_LOSS_COUNT; kind++)
        for (int rep = 0; rep < 3; rep++) {
            int N = 6 + irand(7), D = 5 + irand(12), C = 4 + irand(6);
            struct train_loss_opts o;
            train_loss_opts_default(&o, kind, C, D);
            o.seed = 100 + rep, o.s = 8, o.center_alpha = 0, o.center_lambda = 0.5f;
            o.m = kind == TRAIN_LOSS_SPHEREFACE ? (float)(2 + rep) : kind == TRAIN_LOSS_COSFACE ? 0.35f : 0.5f;
            o.sphere_lambda = rep == 1 ? 5 : 0;
            o.triplet_hardest = rep == 2;
            o.n_clusters = 2 + rep % 2;
            o.two_level_margin = rep == 0 ? TRAIN_LOSS_SOFTMAX : rep == 1 ? TRAIN_LOSS_ARCFACE : TRAIN_LOSS_COSFACE;
            o.arc_easy_margin = kind == TRAIN_LOSS_ARCFACE && rep == 2;
            struct train_loss *l;
            if (train_loss_new(&o, &l)) {
                printf("new %s: %s\n", names[kind], fh_errmsg());
                ok_all = 0;
                continue;
            }
            float E[16 * 12];
            int y[12];
            fill(E, (size_t)N * D, 1);
            // labels: classes 0..C-2 only (class C-1 absent from the batch), each used twice
            for (int i = 0; i < N; i++) y[i] = (i / 2) % (C - 1);
            if (kind == TRAIN_LOSS_CENTER) { // centers away from 0
                int ci = train_loss_find_param(l, "center.c");
                struct train_loss_param p;
                train_loss_param(l, ci, &p);
                fill(p.w, p.n, 0.5);
            }
            if (kind == TRAIN_LOSS_ARCFACE || kind == TRAIN_LOSS_SPHEREFACE) {
                // row 0 close to its class row (theta ~ 0.02), row 1 nearly opposite (theta ~ pi)
                struct train_loss_param p;
                train_loss_param(l, 0, &p);
                for (int d = 0; d < D; d++) {
                    E[d] = 2 * p.w[y[0] * D + d] + (float)(0.004 * gauss());
                    E[D + d] = -1.5f * p.w[y[1] * D + d] + (float)(0.004 * gauss());
                }
            }
            char what[32];
            double r = grad_check(l, E, y, N, D, 2e-5, what);
            char msg[160];
            snprintf(msg, sizeof msg, "%s N %d D %d C %d case %d: gradients = finite differences "
                     "(worst %.2g in %s)", names[kind], N, D, C, rep, r, what);
            TEST_COND(msg, r < 2e-2);
            ok_all &= r < 2e-2;
            train_loss_free(l);
        }
    return ok_all;
}

// ---- the torch reference file --------------------------------------------------------------
#define REF_MAX 4096
struct ref_arr {
    char name[32];
    int n;
    double v[REF_MAX / 4];
};
static struct ref_arr arrs[16];
static int n_arrs;

static struct ref_arr *arr(const char *name) {
    for (int i = 0; i < n_arrs; i++)
        if (!strcmp(arrs[i].name, name)) return &arrs[i];
    return NULL;
}

static int set_param(struct train_loss *l, const char *pname, const char *aname) {
    struct ref_arr *a = arr(aname);
    int i = train_loss_find_param(l, pname);
    struct train_loss_param p;
    if (!a || i < 0 || train_loss_param(l, i, &p) || (size_t)a->n != p.n) return 0;
    for (int j = 0; j < a->n; j++) p.w[j] = (float)a->v[j];
    return 1;
}

// max |got - ref| / (1e-6 + max |ref|)
static double cmp(const float *got, const char *aname, int *ok) {
    struct ref_arr *a = arr(aname);
    if (!a) return *ok = 0, INFINITY;
    double big = 0, worst = 0;
    for (int j = 0; j < a->n; j++) big = fmax(big, fabs(a->v[j]));
    for (int j = 0; j < a->n; j++) worst = fmax(worst, fabs(got[j] - a->v[j]));
    return worst / (1e-6 + big);
}

static double cmp_param(struct train_loss *l, const char *pname, const char *aname, int *ok) {
    int i = train_loss_find_param(l, pname);
    struct train_loss_param p;
    if (i < 0 || train_loss_param(l, i, &p) || !p.g) return *ok = 0, INFINITY;
    return cmp(p.g, aname, ok);
}

static void run_ref_case(const char *name, int kind, int N, int D, int C, char *kv) {
    struct train_loss_opts o;
    train_loss_opts_default(&o, kind, C, D);
    o.center_alpha = 0; // gradient mode: the centers' gradient is compared too
    for (char *t = strtok(kv, " \n"); t; t = strtok(NULL, " \n")) {
        char key[32];
        double v;
        if (sscanf(t, "%31[^=]=%lf", key, &v) != 2) continue;
        if (!strcmp(key, "s")) o.s = (float)v;
        else if (!strcmp(key, "m")) o.m = (float)v;
        else if (!strcmp(key, "easy")) o.arc_easy_margin = (int)v;
        else if (!strcmp(key, "lam")) o.sphere_lambda = (float)v;
        else if (!strcmp(key, "center_lambda")) o.center_lambda = (float)v;
        else if (!strcmp(key, "triplet_margin")) o.triplet_margin = (float)v;
        else if (!strcmp(key, "triplet_hardest")) o.triplet_hardest = (int)v;
        else if (!strcmp(key, "n_clusters")) o.n_clusters = (int)v;
    }
    int ok = 1, y[64], assign[64];
    static float E[4096], dE[4096];
    struct ref_arr *ae = arr("E"), *ay = arr("y"), *aa = arr("assign");
    if (!ae || !ay || ae->n != N * D || ay->n != N) ok = 0;
    for (int i = 0; ok && i < N * D; i++) E[i] = (float)ae->v[i];
    for (int i = 0; ok && i < N; i++) y[i] = (int)ay->v[i];
    for (int i = 0; aa && i < aa->n; i++) assign[i] = (int)aa->v[i];
    if (aa) o.cluster_of = assign;
    struct train_loss *l = NULL;
    if (ok && train_loss_new(&o, &l)) ok = 0, printf("%s: %s\n", name, fh_errmsg());
    char msg[200];
    if (!ok) {
        snprintf(msg, sizeof msg, "torch reference %s: case readable", name);
        TEST_COND(msg, 0);
        return;
    }
    const char *wname = kind == TRAIN_LOSS_TWO_LEVEL ? "ident.w" : "head.w";
    const char *bname = kind == TRAIN_LOSS_TWO_LEVEL ? "ident.b" : "head.b";
    if (arr("W")) ok &= set_param(l, wname, "W");
    if (arr("b")) ok &= set_param(l, bname, "b");
    if (arr("centers")) ok &= set_param(l, "center.c", "centers");
    if (arr("W1")) ok &= set_param(l, "cluster.w", "W1");
    if (arr("b1")) ok &= set_param(l, "cluster.b", "b1");
    struct train_loss_stats st;
    train_loss_zero_grad(l);
    if (train_loss_compute(l, E, y, N, D, dE, &st)) ok = 0, printf("%s: %s\n", name, fh_errmsg());
    double rl = arr("ref.loss") ? arr("ref.loss")->v[0] : NAN;
    double el = fabs(st.loss - rl) / (1e-6 + fabs(rl)), worst = cmp(dE, "ref.dE", &ok);
    if (arr("ref.dW")) worst = fmax(worst, cmp_param(l, wname, "ref.dW", &ok));
    if (arr("ref.db")) worst = fmax(worst, cmp_param(l, bname, "ref.db", &ok));
    if (arr("ref.dcenters")) worst = fmax(worst, cmp_param(l, "center.c", "ref.dcenters", &ok));
    if (arr("ref.dW1")) worst = fmax(worst, cmp_param(l, "cluster.w", "ref.dW1", &ok));
    if (arr("ref.db1")) worst = fmax(worst, cmp_param(l, "cluster.b", "ref.db1", &ok));
    // tolerances: both sides compute in double from the same float inputs; ours are stored
    // as float (relative 6e-8 per value), accumulated gradients as float sums
    snprintf(msg, sizeof msg, "torch reference %s: loss (rel err %.2g) and gradients (worst "
             "rel err %.2g) match within 1e-5", name, el, worst);
    TEST_COND(msg, ok && el < 1e-5 && worst < 1e-5);
    train_loss_free(l);
}

static void torch_reference(void) {
    FILE *f = fopen("tests/unit/loss_ref.txt", "r");
    TEST_COND("tests/unit/loss_ref.txt opens (run from the repository root)", f != NULL);
    if (!f) return;
    static char line[65536];
    char name[64] = "", kv[256] = "";
    int kind = 0, N = 0, D = 0, C = 0, cases = 0;
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#') continue;
        if (!strncmp(line, "case ", 5)) {
            n_arrs = 0, kv[0] = 0;
            int off = 0;
            sscanf(line, "case %63s %d %d %d %d %n", name, &kind, &N, &D, &C, &off);
            snprintf(kv, sizeof kv, "%s", line + off);
        } else if (!strncmp(line, "end", 3)) {
            run_ref_case(name, kind, N, D, C, kv);
            cases++;
        } else if (n_arrs < 16) {
            struct ref_arr *a = &arrs[n_arrs++];
            char *p = line, *q;
            int k = 0;
            sscanf(p, "%31s%n", a->name, &k);
            p += k, a->n = 0;
            for (double v = strtod(p, &q); q != p && a->n < REF_MAX / 4; v = strtod(p, &q))
                a->v[a->n++] = v, p = q;
        }
    }
    fclose(f);
    TEST_COND("torch reference: 11 cases read", cases == 11);
}

// ---- triplet mining by hand -----------------------------------------------------------------
static void triplet_by_hand(void) {
    // unit vectors a (1,0), p (-1,0) of class 0; n1 (0,1), n2 (0.6,0.8) of class 1; scaled by
    // 3 (the head normalises). Squared distances: ap 4, a-n1 2, a-n2 0.8, p-n1 2, p-n2 3.2,
    // n1-n2 0.4. No negative is farther than the positive for (a,p) or (p,a).
    float E[8] = {3, 0, -3, 0, 0, 3, 1.8f, 2.4f};
    int y[4] = {0, 0, 1, 1};
    struct train_loss_opts o;
    train_loss_opts_default(&o, TRAIN_LOSS_TRIPLET, 2, 2);
    struct train_loss *l;
    train_loss_new(&o, &l);
    struct train_loss_stats st;
    // semi-hard: (a,p) farthest negative n1: 4-2+.2 = 2.2; (p,a) farthest n2: 4-3.2+.2 = 1.0;
    // (n1,n2) nearest farther negative a (tie with p: lowest index): 0; (n2,n1) a: 0.
    int rc = train_loss_compute(l, E, y, 4, 2, NULL, &st);
    TEST_COND("triplet semi-hard, no semi-hard negative: farthest negative used, loss 0.8",
              rc == 0 && fabs(st.loss - 0.8) < 1e-6 && st.n_terms == 4);
    TEST_COND("triplet: accuracy 0.5 (2 of 4 pairs nearer than every negative), 2 active",
              fabs(st.acc - 0.5) < 1e-12 && fabs(st.aux - 0.5) < 1e-12);
    train_loss_free(l);
    o.triplet_hardest = 1;
    train_loss_new(&o, &l);
    // hardest: (a,p) n2: 4-0.8+.2 = 3.4; (p,a) n1: 2.2; others 0 -> 1.4
    rc = train_loss_compute(l, E, y, 4, 2, NULL, &st);
    TEST_COND("triplet hardest negative: loss 1.4", rc == 0 && fabs(st.loss - 1.4) < 1e-6);
    // a batch of one class has no negative: no term, zero loss and gradient
    int y1[4] = {1, 1, 1, 1};
    float dE[8];
    rc = train_loss_compute(l, E, y1, 4, 2, dE, &st);
    int zero = 1;
    for (int i = 0; i < 8; i++) zero &= dE[i] == 0;
    TEST_COND("triplet: one-class batch gives no pair, loss 0, dE 0",
              rc == 0 && st.n_terms == 0 && st.loss == 0 && zero);
    train_loss_free(l);
}

// ---- center loss: Wen et al. update -----------------------------------------------------------
static void center_wen(void) {
    struct train_loss_opts o;
    train_loss_opts_default(&o, TRAIN_LOSS_CENTER, 3, 2);
    o.center_alpha = 0.5f, o.center_lambda = 0.1f;
    struct train_loss *l;
    train_loss_new(&o, &l);
    int ci = train_loss_find_param(l, "center.c");
    struct train_loss_param p;
    train_loss_param(l, ci, &p);
    TEST_COND("center (Wen mode): centers listed without gradient, zero at start",
              ci >= 0 && p.g == NULL && p.w[0] == 0 && p.w[5] == 0);
    float E[6] = {1, 2, 3, 4, -1, 0}, dE[6];
    int y[3] = {0, 0, 1};
    struct train_loss_stats st;
    train_loss_compute(l, E, y, 3, 2, dE, &st);
    // class 0: delta = ((0-1)+(0-3), (0-2)+(0-4)) / 3 = (-4/3, -2): c0 = 0.5 * (4/3, 2)
    // class 1: delta = (1, 0)/2: c1 = (-0.25, 0); class 2 absent: stays 0
    TEST_COND("center (Wen mode): c_j -= alpha sum (c_j - e_i) / (1 + n_j), absent class kept",
              fabsf(p.w[0] - 2 / 3.0f) < 1e-6f && fabsf(p.w[1] - 1) < 1e-6f &&
                  fabsf(p.w[2] + 0.25f) < 1e-6f && p.w[3] == 0 && p.w[4] == 0 && p.w[5] == 0);
    // center term before the update: (|(1,2)|^2 + |(3,4)|^2 + |(-1,0)|^2) / 2 / 3 = 31 / 6
    TEST_COND("center: aux is the mean 1/2 |e - c_y|^2 with the old centers",
              fabs(st.aux - 31 / 6.0) < 1e-9);
    train_loss_free(l);
}

// ---- a head learns: a few hundred SGD steps on fixed separable embeddings ----------------------
static void learns(void) {
    enum { C = 6, D = 8, N = 36 };
    float mu[C * D], E[N * D], dE[N * D];
    int y[N];
    fill(mu, C * D, 1);
    for (int i = 0; i < N; i++) {
        y[i] = i % C;
        for (int d = 0; d < D; d++) E[i * D + d] = mu[y[i] * D + d] + (float)(0.15 * gauss());
    }
    int kinds[] = {TRAIN_LOSS_SOFTMAX, TRAIN_LOSS_CENTER, TRAIN_LOSS_SPHEREFACE,
                   TRAIN_LOSS_COSFACE, TRAIN_LOSS_ARCFACE, TRAIN_LOSS_TWO_LEVEL};
    for (size_t k = 0; k < sizeof kinds / sizeof *kinds; k++) {
        struct train_loss_opts o;
        train_loss_opts_default(&o, kinds[k], C, D);
        o.s = 16, o.m = kinds[k] == TRAIN_LOSS_SPHEREFACE ? 2 : 0.2f, o.n_clusters = 2;
        o.sphere_lambda = 1;
        struct train_loss *l;
        train_loss_new(&o, &l);
        struct train_loss_stats s0, st;
        train_loss_compute(l, E, y, N, D, NULL, &s0);
        for (int step = 0; step < 300; step++) {
            train_loss_zero_grad(l);
            train_loss_compute(l, E, y, N, D, dE, &st);
            for (int i = 0; i < train_loss_n_params(l); i++) {
                struct train_loss_param p;
                train_loss_param(l, i, &p);
                for (size_t j = 0; p.g && j < p.n; j++) p.w[j] -= 0.5f * p.g[j];
            }
        }
        train_loss_compute(l, E, y, N, D, NULL, &st);
        int pred[N], hit = 0;
        train_loss_predict(l, E, N, D, pred);
        for (int i = 0; i < N; i++) hit += pred[i] == y[i];
        char msg[160];
        snprintf(msg, sizeof msg, "kind %d learns: loss %.3g -> %.3g, accuracy %.2f, predict "
                 "agrees", kinds[k], s0.loss, st.loss, st.acc);
        TEST_COND(msg, st.loss < 0.5 * s0.loss && st.acc == 1 && hit == N);
        train_loss_free(l);
    }
}

// ---- k-means and the two-level head -------------------------------------------------------------
static void kmeans_and_two_level(void) {
    enum { K = 4, PER = 12, NP = K * PER, D = 8 };
    float X[NP * D], mu[K * D];
    fill(mu, K * D, 3);
    for (int i = 0; i < NP; i++)
        for (int d = 0; d < D; d++) X[i * D + d] = mu[(i / PER) * D + d] + (float)(0.2 * gauss());
    int a1[NP], a2[NP], a3[NP];
    double in1, in2;
    int rc = train_kmeans(X, NP, D, K, 7, 100, a1, NULL, &in1);
    train_kmeans(X, NP, D, K, 7, 100, a2, NULL, &in2);
    TEST_COND("kmeans: deterministic for a seed", rc == 0 && !memcmp(a1, a2, sizeof a1) &&
                                                      in1 == in2);
    int pure = 1;
    for (int s = 0; s < 5; s++) {
        train_kmeans(X, NP, D, K, 100 + s, 100, a3, NULL, NULL);
        for (int i = 0; i < NP; i++) // same blob <=> same cluster
            for (int j = 0; j < NP; j++) pure &= (i / PER == j / PER) == (a3[i] == a3[j]);
    }
    TEST_COND("kmeans: separable blobs recovered exactly for 5 seeds", pure);
    int same[6] = {0}, a4[6];
    float dup[6 * 2] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
    rc = train_kmeans(dup, 6, 2, 3, 1, 10, a4, NULL, NULL);
    for (int i = 0; i < 6; i++) same[a4[i]]++;
    TEST_COND("kmeans: identical points still give k non-empty clusters",
              rc == 0 && same[0] && same[1] && same[2]);
    TEST_COND("kmeans: k > n is FH_E_ARG", train_kmeans(X, 3, D, 4, 1, 10, a4, NULL, NULL) == FH_E_ARG);

    // relabel: the same partition under other seeds comes back with a1's labels exactly; a
    // partition that moved one point keeps the labels of the rest
    int exact = 1, moved[NP];
    for (int s = 0; s < 5; s++) {
        train_kmeans(X, NP, D, K, 200 + s, 100, a3, NULL, NULL);
        exact &= train_cluster_relabel(a1, a3, NP, K) == 0 && !memcmp(a1, a3, sizeof a1);
    }
    TEST_COND("kmeans relabel: a permuted partition gets the old labels back", exact);
    for (int i = 0; i < NP; i++) moved[i] = (a1[i] + 1) % K; // rename every cluster...
    moved[0] = (a1[0] + 2) % K;                           // ...and move one point
    rc = train_cluster_relabel(a1, moved, NP, K);
    int agree = 0;
    for (int i = 0; i < NP; i++) agree += moved[i] == a1[i];
    TEST_COND("kmeans relabel: one moved point, the other points keep their labels",
              rc == 0 && agree == NP - 1 && moved[0] != a1[0]);
    moved[3] = K;
    TEST_COND("kmeans relabel: a label out of range is FH_E_ARG",
              train_cluster_relabel(a1, moved, NP, K) == FH_E_ARG);

    // refine: a converged partition is a fixed point; a start with a few points in wrong
    // clusters goes back to the blobs under the start's labels
    memcpy(a3, a1, sizeof a1);
    rc = train_kmeans_refine(X, NP, D, K, 50, a3, NULL, &in2);
    TEST_COND("kmeans refine: a converged partition comes back unchanged",
              rc == 0 && !memcmp(a1, a3, sizeof a1) && fabs(in2 - in1) < 1e-9 * in1);
    for (int i = 0; i < NP; i++) a3[i] = a1[i];
    for (int i = 0; i < NP; i += PER) a3[i] = (a1[i] + 1) % K, a3[i + 1] = (a1[i] + 2) % K;
    rc = train_kmeans_refine(X, NP, D, K, 50, a3, NULL, NULL);
    TEST_COND("kmeans refine: misplaced points return, labels kept", rc == 0 && !memcmp(a1, a3, sizeof a1));
    a3[5] = -1;
    TEST_COND("kmeans refine: a start label out of range is FH_E_ARG",
              train_kmeans_refine(X, NP, D, K, 50, a3, NULL, NULL) == FH_E_ARG);

    // identity centres: class c = blob c / 2 (two blobs per class would mix; use one each)
    int yc[NP];
    for (int i = 0; i < NP; i++) yc[i] = i / PER;
    float cen[6 * D];
    int cnt[6];
    rc = train_class_centres(X, yc, NP, D, 6, cen, cnt);
    double n0 = 0;
    for (int d = 0; d < D; d++) n0 += (double)cen[d] * cen[d];
    TEST_COND("class centres: unit rows, absent classes zero with count 0",
              rc == 0 && fabs(n0 - 1) < 1e-5 && cnt[0] == PER && cnt[5] == 0 && cen[5 * D] == 0);

    // two-level cost, C = 10000, K = 100 balanced, D = 128
    static int asg[10000];
    for (int c = 0; c < 10000; c++) asg[c] = c % 100;
    struct train_two_level_cost tc;
    rc = train_two_level_cost(10000, 100, 128, asg, 0, &tc);
    TEST_COND("two-level cost: flat 5.12 MB, two-level 5.17 MB stored, 102 kB active, 200 logits",
              rc == 0 && tc.flat_weight_bytes == 10000u * 128 * 4 &&
                  tc.two_level_weight_bytes == 10100u * 128 * 4 &&
                  tc.two_level_active_bytes == 200u * 128 * 4 && tc.flat_logits == 10000 &&
                  fabs(tc.two_level_logits_train - 200) < 1e-9 && tc.two_level_logits_max == 200);
    asg[0] = 100;
    TEST_COND("two-level cost: assignment out of range is FH_E_ARG",
              train_two_level_cost(10000, 100, 128, asg, 0, &tc) == FH_E_ARG);

    // a two-level head on the k-means assignment of the class centres
    struct train_loss_opts o;
    train_loss_opts_default(&o, TRAIN_LOSS_TWO_LEVEL, 6, D);
    o.n_clusters = 2;
    int ca[6];
    rc = train_kmeans(cen, 4, D, 2, 3, 50, ca, NULL, NULL); // the 4 present classes
    ca[4] = 0, ca[5] = 1;
    o.cluster_of = ca;
    struct train_loss *l;
    rc = rc || train_loss_new(&o, &l);
    TEST_COND("two-level head made from a k-means assignment", rc == 0);
    if (rc) return;
    int ai = train_loss_find_param(l, "cluster.assign");
    struct train_loss_param p;
    train_loss_param(l, ai, &p);
    int same_assign = p.g == NULL;
    for (int c = 0; c < 6; c++) same_assign &= p.w[c] == (float)ca[c];
    TEST_COND("two-level: assignment listed as a buffer param, values = clusters", same_assign);
    p.w[3] = 7;
    TEST_COND("two-level: a bad assignment loaded into the param is FH_E_FORMAT",
              train_loss_params_changed(l) == FH_E_FORMAT && strstr(fh_errmsg(), "class 3"));
    TEST_COND("two-level: unusable until fixed", train_loss_compute(l, X, yc, NP, D, NULL, NULL) == FH_E_ARG);
    p.w[3] = (float)ca[3];
    TEST_COND("two-level: fixed assignment accepted", train_loss_params_changed(l) == 0 &&
                                                          train_loss_compute(l, X, yc, NP, D, NULL, NULL) == 0);
    int empty[6] = {0, 0, 0, 0, 0, 0};
    TEST_COND("two-level: an empty cluster is FH_E_ARG", train_loss_set_clusters(l, empty) == FH_E_ARG);
    train_loss_free(l);
}

// ---- bad input and init -------------------------------------------------------------------------
static void bad_input(void) {
    struct train_loss_opts o;
    train_loss_opts_default(&o, TRAIN_LOSS_ARCFACE, 5, 4);
    struct train_loss *l, *l2;
    train_loss_new(&o, &l);
    train_loss_new(&o, &l2);
    struct train_loss_param p, p2;
    train_loss_param(l, 0, &p), train_loss_param(l2, 0, &p2);
    TEST_COND("init: same seed, same weights", !memcmp(p.w, p2.w, p.n * sizeof(float)));
    train_loss_free(l2);
    o.seed = 2;
    train_loss_new(&o, &l2);
    train_loss_param(l2, 0, &p2);
    TEST_COND("init: another seed, other weights", memcmp(p.w, p2.w, p.n * sizeof(float)) != 0);
    train_loss_free(l2);

    float E[8] = {1, 2, 3, 4, 5, 6, 7, 8}, dE[8];
    int y[2] = {0, 5};
    train_loss_zero_grad(l);
    int rc = train_loss_compute(l, E, y, 2, 4, dE, NULL);
    int zero = 1;
    for (size_t i = 0; i < p.n; i++) zero &= p.g[i] == 0;
    TEST_COND("label out of range: FH_E_ARG naming it, gradients untouched",
              rc == FH_E_ARG && strstr(fh_errmsg(), "label 5 of row 1") && zero);
    y[1] = -1;
    TEST_COND("negative label: FH_E_ARG", train_loss_compute(l, E, y, 2, 4, dE, NULL) == FH_E_ARG);
    y[1] = 1;
    TEST_COND("N = 0: FH_E_ARG", train_loss_compute(l, E, y, 0, 4, dE, NULL) == FH_E_ARG &&
                                     strstr(fh_errmsg(), "empty"));
    TEST_COND("D mismatch: FH_E_ARG", train_loss_compute(l, E, y, 2, 3, dE, NULL) == FH_E_ARG &&
                                          strstr(fh_errmsg(), "width 3"));
    TEST_COND("NULL E / y: FH_E_ARG", train_loss_compute(l, NULL, y, 2, 4, dE, NULL) == FH_E_ARG &&
                                          train_loss_compute(l, E, NULL, 2, 4, dE, NULL) == FH_E_ARG);
    TEST_COND("N above the limit: FH_E_LIMIT",
              train_loss_compute(l, E, y, TRAIN_LOSS_MAX_BATCH + 1, 4, dE, NULL) == FH_E_LIMIT);
    TEST_COND("param index out of range: FH_E_ARG", train_loss_param(l, 9, &p) == FH_E_ARG);
    train_loss_free(l);
    train_loss_free(NULL);

    struct { int kind, C, D; float m, s; int K; const char *msg; } bad[] = {
        {TRAIN_LOSS_SOFTMAX, 1, 4, 0, 1, 2, "C >= 2"},
        {TRAIN_LOSS_SOFTMAX, 4, 0, 0, 1, 2, "D >= 1"},
        {TRAIN_LOSS_COUNT, 4, 4, 0, 1, 2, "unknown kind"},
        {TRAIN_LOSS_SPHEREFACE, 4, 4, 2.5f, 1, 2, "integer"},
        {TRAIN_LOSS_ARCFACE, 4, 4, 0.5f, 0, 2, "scale"},
        {TRAIN_LOSS_COSFACE, 4, 4, -1, 64, 2, "margin"},
        {TRAIN_LOSS_TWO_LEVEL, 4, 4, 0, 1, 5, "K <= C"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        train_loss_opts_default(&o, bad[i].kind, bad[i].C, bad[i].D);
        o.m = bad[i].m, o.s = bad[i].s, o.n_clusters = bad[i].K;
        l = (struct train_loss *)&o;
        rc = train_loss_new(&o, &l);
        char msg[120];
        snprintf(msg, sizeof msg, "bad option (%s): FH_E_ARG with a message, no head", bad[i].msg);
        TEST_COND(msg, rc == FH_E_ARG && l == NULL && strstr(fh_errmsg(), bad[i].msg));
    }
    train_loss_opts_default(&o, TRAIN_LOSS_SOFTMAX, TRAIN_LOSS_MAX_CLASSES + 1, 4);
    TEST_COND("C above the limit: FH_E_LIMIT before allocating", train_loss_new(&o, &l) == FH_E_LIMIT);
    train_loss_opts_default(&o, TRAIN_LOSS_TRIPLET, 4, 4);
    train_loss_new(&o, &l);
    int pred[2];
    TEST_COND("triplet: predict is FH_E_UNSUPPORTED, no params",
              train_loss_predict(l, E, 2, 4, pred) == FH_E_UNSUPPORTED && train_loss_n_params(l) == 0);
    train_loss_free(l);
    TEST_COND("SphereFace lambda schedule: 1000 at 0, floor 5",
              train_loss_sphere_lambda(0) == 1000 && train_loss_sphere_lambda(1000000) == 5);
}

// theta exactly 0 and exactly pi (e = +-2 W_y, W_y with exact power-of-two entries so the
// cosine rounds to +-1): finite loss and gradients for every cosine head.
static void exact_angles(void) {
    int kinds[] = {TRAIN_LOSS_SPHEREFACE, TRAIN_LOSS_COSFACE, TRAIN_LOSS_ARCFACE,
                   TRAIN_LOSS_ARCFACE};
    for (int k = 0; k < 4; k++) {
        struct train_loss_opts o;
        train_loss_opts_default(&o, kinds[k], 3, 4);
        o.arc_easy_margin = k == 3;
        struct train_loss *l;
        train_loss_new(&o, &l);
        struct train_loss_param p;
        train_loss_param(l, 0, &p);
        for (int d = 0; d < 4; d++) p.w[d] = 0.5f; // row 0 = (.5,.5,.5,.5), unit length
        float E[8] = {1, 1, 1, 1, -1, -1, -1, -1}, dE[8];
        int y[2] = {0, 0};
        struct train_loss_stats st;
        train_loss_zero_grad(l);
        int rc = train_loss_compute(l, E, y, 2, 4, dE, &st), fin = isfinite(st.loss);
        for (int i = 0; i < 8; i++) fin &= isfinite(dE[i]);
        for (size_t i = 0; i < p.n; i++) fin &= isfinite(p.g[i]);
        char msg[120];
        snprintf(msg, sizeof msg, "kind %d%s at theta = 0 and pi exactly: finite loss and "
                 "gradients", kinds[k], k == 3 ? " (easy margin)" : "");
        TEST_COND(msg, rc == 0 && fin);
        train_loss_free(l);
    }
}

int main(void) {
    exact_angles();
    finite_differences();
    torch_reference();
    triplet_by_hand();
    center_wen();
    learns();
    kmeans_and_two_level();
    bad_input();
    return TEST_REPORT();
}
