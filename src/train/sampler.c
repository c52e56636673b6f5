// SPDX-License-Identifier: MIT
// train/sampler: shuffled epochs and P x K batches, pure functions of (seed, epoch, batch).
#include "base/base.h"
#include "train/data_int.h"

#define EPOCH_TAG 0x65706f6368ull   // "epoch"
#define PK_TAG 0x706bull            // "pk"

void train_order_epoch(int n, uint64_t seed, int epoch, int *order) {
    struct train_rng r = train_rng_key(seed, EPOCH_TAG, epoch, 0);
    for (int i = 0; i < n; i++) order[i] = i;
    for (int i = n - 1; i > 0; i--) {
        int j = train_rng_below(&r, i + 1), t = order[i];
        order[i] = order[j], order[j] = t;
    }
}

// k distinct values of 0..n-1 (k <= n) into out, Floyd's algorithm (no scratch of size n),
// then shuffled so the order carries no pattern
static void distinct(struct train_rng *r, int n, int k, int *out) {
    int m = 0;
    for (int j = n - k; j < n; j++) {
        int t = train_rng_below(r, j + 1), seen = 0;
        for (int i = 0; i < m && !seen; i++) seen = out[i] == t;
        out[m++] = seen ? j : t;
    }
    for (int i = k - 1; i > 0; i--) {
        int j = train_rng_below(r, i + 1), t = out[i];
        out[i] = out[j], out[j] = t;
    }
}

int train_batch_pk(const struct train_dataset *d, int P, int K, uint64_t seed, int epoch,
                   int batch, int *items) {
    if (P < 1 || P > d->n_ids || K < 1 || (long)P * K > TRAIN_MAX_BATCH)
        return fh_fail(FH_E_ARG, "pk: P=%d K=%d with %d identities (need 1 <= P <= identities, "
                       "P*K <= %d)", P, K, d->n_ids, TRAIN_MAX_BATCH);
    struct train_rng r = train_rng_key(seed, PK_TAG, epoch, batch);
    // the P identities go into the last P slots' first entries, then expand in place
    int *ids = items + (size_t)P * K - P;
    distinct(&r, d->n_ids, P, ids);
    for (int p = 0; p < P; p++) {
        int id = ids[p], s = d->id_start[id], cnt = d->id_start[id + 1] - s;
        int *o = items + (size_t)p * K;
        // o may overwrite ids[p] (read above) but never ids[p+1..]: the last slot of o,
        // p*K + K - 1, is below P*K - P + p + 1 since (K-1)(P-p-1) >= 0
        if (cnt >= K) {
            distinct(&r, cnt, K, o);
        } else {
            for (int i = 0; i < cnt; i++) o[i] = i;
            for (int i = cnt; i < K; i++) o[i] = train_rng_below(&r, cnt);
        }
        for (int i = 0; i < K; i++) o[i] += s;
    }
    return FH_OK;
}
