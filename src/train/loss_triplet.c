// SPDX-License-Identifier: MIT
// Triplet loss on unit embeddings (FaceNet), negatives mined inside the batch: semi-hard
// (tf.contrib triplet_semihard_loss rule) or hardest. The rule is stated in loss.h.
#include <math.h>
#include <string.h>

#include "base/base.h"
#include "train/loss_int.h"

int loss_triplet_compute(const struct train_loss_opts *o, const float *E, const int *y, int N,
                         int D, float *dE, struct train_loss_stats *st) {
    if (N > TRAIN_LOSS_MAX_TRIPLET_BATCH)
        return fh_fail(FH_E_LIMIT, "loss: triplet batch of %d rows above the limit %d", N,
                       TRAIN_LOSS_MAX_TRIPLET_BATCH);
    size_t nd = (size_t)N * D, nn = (size_t)N * N;
    double *u = fh_malloc((2 * nd + nn + N + D) * sizeof *u);
    if (!u) return fh_fail(FH_E_NOMEM, "loss: no memory for a %d-row triplet batch", N);
    double *du = u + nd, *dist = du + nd, *enorm = dist + nn;
    memset(du, 0, nd * sizeof *du);
    for (int i = 0; i < N; i++) enorm[i] = loss_unit(E + (size_t)i * D, D, u + (size_t)i * D);
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) {
            const double *a = u + (size_t)i * D, *b = u + (size_t)j * D;
            double s = 0;
            for (int d = 0; d < D; d++) s += (a[d] - b[d]) * (a[d] - b[d]);
            dist[(size_t)i * N + j] = s;
        }
    double margin = o->triplet_margin, loss = 0;
    int pairs = 0, active = 0, correct = 0;
    for (int a = 0; a < N; a++) {
        const double *da = dist + (size_t)a * N;
        int hardest = -1; // nearest negative, for both modes and the accuracy
        for (int n = 0; n < N; n++)
            if (y[n] != y[a] && (hardest < 0 || da[n] < da[hardest])) hardest = n;
        if (hardest < 0) continue; // no negative for this anchor in the batch
        for (int p = 0; p < N; p++) {
            if (p == a || y[p] != y[a]) continue;
            int neg = hardest;
            if (!o->triplet_hardest) {
                int outside = -1, farthest = -1;
                for (int n = 0; n < N; n++) {
                    if (y[n] == y[a]) continue;
                    if (da[n] > da[p] && (outside < 0 || da[n] < da[outside])) outside = n;
                    if (farthest < 0 || da[n] > da[farthest]) farthest = n;
                }
                neg = outside >= 0 ? outside : farthest;
            }
            pairs++;
            correct += da[p] < da[hardest];
            double t = da[p] - da[neg] + margin;
            if (t <= 0) continue;
            active++;
            loss += t;
            // d(a,b) = |u_a - u_b|^2: dd/du_a = 2 (u_a - u_b), dd/du_b = -2 (u_a - u_b)
            double *ga = du + (size_t)a * D, *gp = du + (size_t)p * D, *gn = du + (size_t)neg * D;
            const double *ua = u + (size_t)a * D, *up = u + (size_t)p * D,
                         *un = u + (size_t)neg * D;
            for (int d = 0; d < D; d++) {
                ga[d] += 2 * (un[d] - up[d]);
                gp[d] -= 2 * (ua[d] - up[d]);
                gn[d] += 2 * (ua[d] - un[d]);
            }
        }
    }
    if (dE) {
        double scale = pairs ? 1.0 / pairs : 0, *de = enorm + N;
        for (int i = 0; i < N; i++) {
            double *g = du + (size_t)i * D;
            for (int d = 0; d < D; d++) g[d] *= scale;
            memset(de, 0, (size_t)D * sizeof *de);
            loss_unit_backward(u + (size_t)i * D, g, enorm[i], D, de);
            for (int d = 0; d < D; d++) dE[(size_t)i * D + d] = (float)de[d];
        }
    }
    fh_free(u);
    st->loss = pairs ? loss / pairs : 0;
    st->acc = pairs ? (double)correct / pairs : 0;
    st->aux = pairs ? (double)active / pairs : 0;
    st->n_terms = pairs;
    return FH_OK;
}
