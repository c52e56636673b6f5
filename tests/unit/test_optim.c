// SPDX-License-Identifier: MIT
// train/optim and train/rng: SGD with momentum and weight decay against values computed
// by hand (below, in the comments), clipping, bad input, LR schedules at chosen steps,
// and the RNG against known answers (splitmix64's published first value; xoshiro256**
// values from an independent Python transcription of the reference algorithm).
#include <math.h>
#include <string.h>

#include "base/base.h"
#include "harness.h"
#include "train/optim.h"
#include "train/rng.h"

static int near(double a, double b, double tol) { return fabs(a - b) <= tol; }

// Loss 0.5 (w0^2 + w1^2): g = w. lr 0.1, momentum 0.9, weight decay 0.01 on w0 only.
//   w0 (decay): step 1: d = 1 + 0.01 = 1.01, buf = 1.01, w = 1 - 0.101 = 0.899
//               step 2: d = 0.899 * 1.01 = 0.90799, buf = 0.909 + 0.90799 = 1.81699,
//                       w = 0.899 - 0.181699 = 0.717301
//               step 3: d = 0.717301 * 1.01 = 0.72447401, buf = 1.635291 + 0.72447401 =
//                       2.35976501, w = 0.717301 - 0.235976501 = 0.481324499
//   w1 (no decay): buf 2, 3.6, 4.68; w 1.8, 1.44, 0.972
static void test_sgd_hand(void) {
    float w[2] = {1, 2}, g[2];
    struct train_param p[2] = {{"a.w", &w[0], &g[0], 1, 1}, {"a.b", &w[1], &g[1], 1, 0}};
    struct train_sgd_opts o = {.momentum = 0.9f, .weight_decay = 0.01f};
    struct train_sgd *s;
    TEST_COND("sgd: new", train_sgd_new(p, 2, &o, &s) == FH_OK);
    const double w0[3] = {0.899, 0.717301, 0.481324499}, w1[3] = {1.8, 1.44, 0.972};
    const double b0[3] = {1.01, 1.81699, 2.35976501}, b1[3] = {2, 3.6, 4.68};
    int ok = 1, gok = 1;
    for (int step = 0; step < 3; step++) {
        g[0] = w[0], g[1] = w[1];
        float g0 = g[0], g1 = g[1];
        struct train_sgd_report rep;
        if (train_sgd_step(s, 0.1f, &rep)) ok = 0;
        if (g[0] != g0 || g[1] != g1) gok = 0;
        if (!near(rep.grad_norm, sqrt((double)g0 * g0 + (double)g1 * g1), 1e-9) || rep.clip != 1)
            ok = 0;
        struct train_tensor m0, m1;
        train_sgd_state(s, 0, &m0), train_sgd_state(s, 1, &m1);
        if (!near(w[0], w0[step], 2e-6) || !near(w[1], w1[step], 2e-6)) ok = 0;
        if (!near(m0.data[0], b0[step], 2e-6) || !near(m1.data[0], b1[step], 2e-6)) ok = 0;
        printf("# step %d: w = %.9f %.9f (want %.9f %.9f)\n", step + 1, w[0], w[1], w0[step],
               w1[step]);
    }
    TEST_COND("sgd: 3 steps of momentum + decay match the hand-computed values", ok);
    TEST_COND("sgd: gradients are not modified", gok);
    struct train_tensor m;
    TEST_COND("sgd: momentum tensor named '<name>.mom', rank 1",
              train_sgd_state(s, 0, &m) == FH_OK && !strcmp(m.name, "a.w.mom") && m.rank == 1 &&
                  m.dims[0] == 1 && m.n == 1);
    TEST_COND("sgd: state index out of range is FH_E_ARG", train_sgd_state(s, 2, &m) == FH_E_ARG);
    train_sgd_reset(s);
    train_sgd_state(s, 1, &m);
    TEST_COND("sgd: reset zeroes momentum", m.data[0] == 0);
    train_sgd_free(s);
}

static void test_clip(void) {
    // g = (3, 4): norm 5; clip to 1 -> g' = (0.6, 0.8) (torch: 1 / (5 + 1e-6))
    float w[2] = {0, 0}, g[2] = {3, 4};
    struct train_param p = {"x", w, g, 2, 1};
    struct train_sgd_opts o = {.clip_norm = 1};
    struct train_sgd *s;
    struct train_sgd_report rep;
    train_sgd_new(&p, 1, &o, &s);
    int rc = train_sgd_step(s, 1, &rep);
    TEST_COND("clip: norm 5 reported, factor 1/(5+1e-6)",
              rc == FH_OK && near(rep.grad_norm, 5, 1e-9) && near(rep.clip, 1 / (5 + 1e-6), 1e-12));
    TEST_COND("clip: update is the clipped gradient", near(w[0], -0.6, 1e-6) && near(w[1], -0.8, 1e-6));
    train_sgd_free(s);
    // under the threshold: no clipping
    w[0] = w[1] = 0;
    o.clip_norm = 10;
    train_sgd_new(&p, 1, &o, &s);
    train_sgd_step(s, 1, &rep);
    TEST_COND("clip: norm under the limit leaves the gradient", rep.clip == 1 && w[0] == -3 && w[1] == -4);
    train_sgd_free(s);
    // clipping applies to the gradient before weight decay is added:
    // w = 1, g = 2, clip 1 -> g' ~ 1; d = 1 + 0.5 * 1 = 1.5; w = 1 - 1.5 = -0.5
    float w1 = 1, g1 = 2;
    struct train_param q = {"y", &w1, &g1, 1, 1};
    o = (struct train_sgd_opts){.weight_decay = 0.5f, .clip_norm = 1};
    train_sgd_new(&q, 1, &o, &s);
    train_sgd_step(s, 1, &rep);
    TEST_COND("clip: before weight decay (decay term not clipped)", near(w1, -0.5, 1e-6));
    train_sgd_free(s);
}

static void test_bad(void) {
    float w[3] = {1, 2, 3}, g[3] = {1, NAN, 1};
    struct train_param p[2] = {{"ok", w, g, 1, 1}, {"bad", w + 1, g + 1, 2, 0}};
    struct train_sgd_opts o = {.momentum = 0.5f};
    struct train_sgd *s;
    train_sgd_new(p, 2, &o, &s);
    int rc = train_sgd_step(s, 0.1f, NULL);
    TEST_COND("sgd: NaN gradient is FH_E_ARG naming the param",
              rc == FH_E_ARG && strstr(fh_errmsg(), "'bad'") != NULL);
    struct train_tensor m;
    train_sgd_state(s, 0, &m);
    TEST_COND("sgd: NaN step changes nothing", w[0] == 1 && w[1] == 2 && w[2] == 3 && m.data[0] == 0);
    TEST_COND("sgd: negative lr is FH_E_ARG", train_sgd_step(s, -1, NULL) == FH_E_ARG);
    train_sgd_free(s);
    o.momentum = 1;
    TEST_COND("sgd: momentum 1 refused", train_sgd_new(p, 1, &o, &s) == FH_E_ARG && !s);
    o.momentum = 0;
    struct train_param d[2] = {{"same", w, g, 1, 1}, {"same", w + 2, g + 2, 1, 1}};
    TEST_COND("sgd: duplicate names refused",
              train_sgd_new(d, 2, &o, &s) == FH_E_ARG && strstr(fh_errmsg(), "same"));
    struct train_param e = {"", w, g, 1, 1};
    TEST_COND("sgd: empty name refused", train_sgd_new(&e, 1, &o, &s) == FH_E_ARG);
    struct train_param z = {"z", NULL, NULL, 0, 0};
    int ok = train_sgd_new(&z, 1, &o, &s) == FH_OK && train_sgd_step(s, 1, NULL) == FH_OK;
    TEST_COND("sgd: an empty param is fine", ok);
    train_sgd_free(s);
}

static void test_sched(void) {
    // warm-up 5 steps to 0.1, cosine to 0.001 at step 105
    struct train_sched c = {.kind = TRAIN_SCHED_COSINE, .lr = 0.1f, .warmup = 5, .total = 105,
                            .floor = 0.001f};
    TEST_COND("sched: cosine checks", train_sched_check(&c) == FH_OK);
    TEST_COND("sched: warm-up step 0 = lr/5", near(train_sched_lr(&c, 0), 0.02, 1e-7));
    TEST_COND("sched: warm-up step 2 = 3 lr/5", near(train_sched_lr(&c, 2), 0.06, 1e-7));
    TEST_COND("sched: step 4 (last warm-up) = lr", near(train_sched_lr(&c, 4), 0.1, 1e-7));
    TEST_COND("sched: cosine start = lr", near(train_sched_lr(&c, 5), 0.1, 1e-7));
    // t = 0.5: floor + (lr - floor)/2 = 0.0505; t = 0.25: 0.001 + 0.099 (1 + cos(pi/4))/2
    TEST_COND("sched: cosine middle", near(train_sched_lr(&c, 55), 0.0505, 1e-7));
    TEST_COND("sched: cosine quarter",
              near(train_sched_lr(&c, 30), 0.001 + 0.099 * (1 + sqrt(0.5)) / 2, 1e-7));
    TEST_COND("sched: cosine end and after = floor",
              near(train_sched_lr(&c, 105), 0.001, 1e-9) && near(train_sched_lr(&c, 1000), 0.001, 1e-9));
    int mono = 1;
    for (long s = 5; s < 110; s++)
        if (train_sched_lr(&c, s + 1) > train_sched_lr(&c, s)) mono = 0;
    TEST_COND("sched: cosine never rises after warm-up", mono);

    struct train_sched st = {.kind = TRAIN_SCHED_STEP, .lr = 0.1f, .gamma = 0.1f,
                             .n_milestones = 2, .milestones = {10, 20}};
    TEST_COND("sched: step checks", train_sched_check(&st) == FH_OK);
    TEST_COND("sched: step before/at/after milestones",
              near(train_sched_lr(&st, 9), 0.1, 1e-8) && near(train_sched_lr(&st, 10), 0.01, 1e-8) &&
                  near(train_sched_lr(&st, 19), 0.01, 1e-8) && near(train_sched_lr(&st, 25), 0.001, 1e-9));
    struct train_sched k = {.kind = TRAIN_SCHED_CONST, .lr = 0.5f, .warmup = 2};
    TEST_COND("sched: constant with warm-up",
              near(train_sched_lr(&k, 0), 0.25, 1e-8) && near(train_sched_lr(&k, 7), 0.5, 1e-8));

    struct train_sched bad = c;
    bad.total = 5;
    TEST_COND("sched: total <= warm-up refused", train_sched_check(&bad) == FH_E_ARG);
    bad = c, bad.floor = 0.2f;
    TEST_COND("sched: floor > lr refused", train_sched_check(&bad) == FH_E_ARG);
    bad = st, bad.milestones[1] = 10;
    TEST_COND("sched: milestones not increasing refused", train_sched_check(&bad) == FH_E_ARG);
    bad = st, bad.gamma = 0;
    TEST_COND("sched: gamma 0 refused", train_sched_check(&bad) == FH_E_ARG);
    bad = c, bad.lr = 0;
    TEST_COND("sched: lr 0 refused", train_sched_check(&bad) == FH_E_ARG);
}

static void test_rng(void) {
    uint64_t x = 0;
    TEST_COND("rng: splitmix64(0) first value", train_splitmix64(&x) == 0xe220a8397b1dcdafull);
    struct train_rng r;
    train_rng_seed(&r, 42);
    int ka = r.s[0] == 0xbdd732262feb6e95ull && r.s[3] == 0x581ce1ff0e4ae394ull;
    ka &= train_rng_u64(&r) == 0x15780b2e0c2ec716ull;
    ka &= train_rng_u64(&r) == 0x6104d9866d113a7eull;
    ka &= train_rng_u64(&r) == 0xae17533239e499a1ull;
    TEST_COND("rng: xoshiro256** known answers (seed 42)", ka);
    train_rng_seed(&r, 0);
    TEST_COND("rng: seed 0 works", train_rng_u64(&r) == 0x99ec5f36cb75f2b4ull);

    struct train_rng saved = r;
    uint64_t a[50], b[50];
    for (int i = 0; i < 50; i++) a[i] = train_rng_u64(&r);
    r = saved;
    for (int i = 0; i < 50; i++) b[i] = train_rng_u64(&r);
    TEST_COND("rng: a saved state replays the same sequence", !memcmp(a, b, sizeof a));

    struct train_rng s0, s1;
    train_rng_stream(&s0, 7, 0), train_rng_stream(&s1, 7, 1);
    TEST_COND("rng: streams differ", train_rng_u64(&s0) != train_rng_u64(&s1));

    int inr = 1, cnt[7] = {0};
    double sum = 0, sq = 0, usum = 0;
    const int N = 200000;
    for (int i = 0; i < N; i++) {
        uint32_t k = train_rng_below(&r, 7);
        if (k >= 7) inr = 0;
        else cnt[k]++;
        float f = train_rng_uniformf(&r, -2, 3);
        if (!(f >= -2 && f < 3)) inr = 0;
        double u = train_rng_uniform(&r);
        if (!(u >= 0 && u < 1)) inr = 0;
        usum += u;
        double z = train_rng_normal(&r);
        sum += z, sq += z * z;
    }
    int flat = 1;
    for (int k = 0; k < 7; k++)
        if (fabs(cnt[k] - N / 7.0) > 5 * sqrt(N / 7.0)) flat = 0;
    TEST_COND("rng: below/uniform/uniformf stay in range", inr);
    TEST_COND("rng: below(7) is flat (5 sigma)", flat);
    TEST_COND("rng: uniform mean 1/2", near(usum / N, 0.5, 0.005));
    printf("# normal: mean %.4f var %.4f\n", sum / N, sq / N - (sum / N) * (sum / N));
    TEST_COND("rng: normal mean 0, variance 1",
              near(sum / N, 0, 0.01) && near(sq / N - (sum / N) * (sum / N), 1, 0.02));
}

int main(void) {
    test_sgd_hand();
    test_clip();
    test_bad();
    test_sched();
    test_rng();
    return TEST_REPORT();
}
