// SPDX-License-Identifier: MIT
// train/evalpairs: 10-fold balanced accuracy and TAR at FAR 1e-3 on hand-made distances
// (expected values worked out in the comments), all pairs of synthetic embeddings against
// a brute-force re-implementation of the protocol, and bad input.
#include <math.h>
#include <string.h>

#include "base/base.h"
#include "harness.h"
#include "train/evalpairs.h"
#include "train/rng.h"

static int near(double a, double b, double tol) { return fabs(a - b) <= tol; }

// 20 pairs: k = 0..9 same (fold k), distance 0.10 + 0.01 k; k = 10..19 different (fold
// k - 10), distance 1.00 + 0.01 (k - 10).
//   fold f < 9: the lowest best threshold on the other folds is their largest same distance,
//   0.19 (balanced accuracy 1 there); test fold: same 0.1+0.01f <= 0.19, different > 0.19:
//   accuracy 1.
//   fold 9: training max same is 0.18 -> t = 0.18; the test same pair (0.19) is rejected:
//   balanced 0.5 (0 + 1) / 2, plain 1/2.
//   mean (9 + 0.5) / 10 = 0.95; std sqrt((9 * 0.05^2 + 0.45^2) / 10) = 0.15.
//   threshold on all pairs: 0.19. TAR@FAR: 10 different pairs, k = floor(0.01) = 0, t = the
//   smallest different distance 1.00; same pairs < 1.00: all, TAR 1, FAR 0.
static void test_hand_folds(void) {
    double d[20];
    unsigned char s[20];
    for (int k = 0; k < 10; k++) d[k] = 0.10 + 0.01 * k, s[k] = 1;
    for (int k = 10; k < 20; k++) d[k] = 1.00 + 0.01 * (k - 10), s[k] = 0;
    struct evalpairs_result r;
    TEST_COND("hand folds: scored", evalpairs_score(d, s, 20, &r) == FH_OK);
    TEST_COND("hand folds: 10-fold balanced accuracy 0.95", near(r.acc, 0.95, 1e-12));
    TEST_COND("hand folds: std 0.15", near(r.acc_std, 0.15, 1e-12));
    TEST_COND("hand folds: plain accuracy 0.95", near(r.acc_plain, 0.95, 1e-12));
    TEST_COND("hand folds: threshold 0.19", near(r.threshold, 0.19, 1e-12));
    TEST_COND("hand folds: TAR 1 at FAR 0, t 1.00", r.tar == 1 && r.far == 0 && near(r.far_threshold, 1.0, 1e-12));
    TEST_COND("hand folds: 10 same, 10 different", r.n_same == 10 && r.n_diff == 10);
}

// 10 same pairs (fold k) at 0.1 (k + 1); 2000 different pairs, three of them small: 0.35,
// 0.55, 0.75, the rest 2.0. k = floor(1e-3 * 2000) = 2: t = the 3rd smallest different
// distance, 0.75; accepted (d < 0.75): same 0.1 .. 0.7 = 7 of 10 -> TAR 0.7; different
// 0.35, 0.55 -> FAR 2 / 2000 = 0.001.
static void test_hand_tar(void) {
    enum { N = 2010 };
    static double d[N];
    static unsigned char s[N];
    for (int k = 0; k < 10; k++) d[k] = 0.1 * (k + 1), s[k] = 1;
    for (int k = 10; k < N; k++) d[k] = 2.0, s[k] = 0;
    d[10] = 0.55, d[11] = 0.75, d[12] = 0.35;
    struct evalpairs_result r;
    TEST_COND("hand TAR: scored", evalpairs_score(d, s, N, &r) == FH_OK);
    TEST_COND("hand TAR: t = 0.75", near(r.far_threshold, 0.75, 1e-12));
    TEST_COND("hand TAR: TAR 0.7", near(r.tar, 0.7, 1e-12));
    TEST_COND("hand TAR: FAR 0.001", near(r.far, 0.001, 1e-12));
}

// The protocol again, naively: every candidate threshold (each distance, and -1) tried on
// the 9 folds, the lowest best kept, tested on the 10th.
static double brute_acc(const double *d, const unsigned char *s, long n) {
    double sum = 0;
    for (int f = 0; f < 10; f++) {
        double best = -1, bt = -1;
        for (long c = -1; c < n; c++) {
            double t = c < 0 ? -1 : d[c];
            long S = 0, Dn = 0, sa = 0, dr = 0;
            for (long k = 0; k < n; k++) {
                if (k % 10 == f) continue;
                if (s[k]) S++, sa += d[k] <= t;
                else Dn++, dr += d[k] > t;
            }
            double acc = 0.5 * ((double)sa / S + (double)dr / Dn);
            if (acc > best + 1e-15 || (fabs(acc - best) <= 1e-15 && t < bt)) best = acc, bt = t;
        }
        long S = 0, Dn = 0, sa = 0, dr = 0;
        for (long k = f; k < n; k += 10) {
            if (s[k]) S++, sa += d[k] <= bt;
            else Dn++, dr += d[k] > bt;
        }
        sum += 0.5 * ((double)sa / S + (double)dr / Dn);
    }
    return sum / 10;
}

static void test_embeddings_vs_brute(void) {
    enum { IDS = 6, PER = 5, N = IDS * PER, D = 8 };
    float emb[N * D];
    int lab[N];
    struct train_rng g;
    train_rng_seed(&g, 7);
    float centre[IDS][D];
    for (int i = 0; i < IDS; i++)
        for (int c = 0; c < D; c++) centre[i][c] = (float)train_rng_normal(&g);
    for (int i = 0; i < N; i++) {
        lab[i] = i % IDS;   // identities interleaved, so every fold gets same pairs
        double s = 0;
        for (int c = 0; c < D; c++) {
            emb[i * D + c] = centre[lab[i]][c] + 0.9f * (float)train_rng_normal(&g);
            s += (double)emb[i * D + c] * emb[i * D + c];
        }
        for (int c = 0; c < D; c++) emb[i * D + c] /= (float)sqrt(s);
    }
    struct evalpairs_result r;
    int rc = evalpairs_score_embeddings(emb, lab, N, D, &r);
    TEST_COND("embeddings: scored", rc == FH_OK);
    if (rc) return;
    static double d[N * (N - 1) / 2];
    static unsigned char s[N * (N - 1) / 2];
    long k = 0;
    for (int i = 0; i < N; i++)
        for (int j = i + 1; j < N; j++, k++) {
            double x = 0;
            for (int c = 0; c < D; c++) x += ((double)emb[i * D + c] - emb[j * D + c]) * ((double)emb[i * D + c] - emb[j * D + c]);
            d[k] = sqrt(x), s[k] = lab[i] == lab[j];
        }
    double b = brute_acc(d, s, k);
    printf("# embeddings: acc %.6f (brute %.6f), TAR %.4f at FAR %.4g\n", r.acc, b, r.tar, r.far);
    TEST_COND("embeddings: 435 pairs, 60 same", r.n_same + r.n_diff == 435 && r.n_same == 60);
    TEST_COND("embeddings: 30 images, 6 identities", r.n_images == 30 && r.n_ids == 6);
    TEST_COND("embeddings: accuracy equals the brute-force protocol", near(r.acc, b, 1e-12));
    TEST_COND("embeddings: separable enough to beat chance", r.acc > 0.6);
}

static void test_bad(void) {
    double d[20];
    unsigned char s[20];
    for (int k = 0; k < 20; k++) d[k] = k, s[k] = k < 10;
    struct evalpairs_result r;
    s[3] = 0; // fold 3 has no same pair left
    TEST_COND("bad: a fold without a same pair -> FH_E_ARG", evalpairs_score(d, s, 20, &r) == FH_E_ARG);
    s[3] = 1, d[5] = NAN;
    TEST_COND("bad: NaN distance -> FH_E_ARG", evalpairs_score(d, s, 20, &r) == FH_E_ARG);
    float e[4] = {1, 0, 0, 1};
    int l[2] = {0, 1};
    TEST_COND("bad: 1 image -> FH_E_ARG", evalpairs_score_embeddings(e, l, 1, 2, &r) == FH_E_ARG);
    TEST_COND("bad: too many images -> FH_E_LIMIT",
              evalpairs_score_embeddings(e, l, EVALPAIRS_MAX_IMAGES + 1, 2, &r) == FH_E_LIMIT);
    struct nn_net *net;
    struct emb_prep p;
    TEST_COND("bad: missing model file -> FH_E_IO", evalpairs_load_model("/nonexistent.fhm", 0, &net, &p) == FH_E_IO);
}

int main(void) {
    test_hand_folds();
    test_hand_tar();
    test_embeddings_vs_brute();
    test_bad();
    return TEST_REPORT();
}
