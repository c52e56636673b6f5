// SPDX-License-Identifier: MIT
// bench_train: training speed of the C engine, one full step at a time:
//   forward (training mode) -> ArcFace head (C classes, D 192: loss and dL/dE) ->
//   zero_grad + backward -> SGD (momentum 0.9, weight decay 5e-4) -> weights_changed.
// Per architecture (MobileFaceNet with BN, mfn-s with BN), batch 64 of 112x112x3 seeded
// random images with random labels, on an fh_pool of THREADS threads: WARMUP steps, then
// the median (and min, max) of RUNS timed steps, images/s. Then one more step walked node
// by node (the same op functions nn_session_forward/backward call) for a per-op-type time
// breakdown of forward and backward: conv 1x1, conv kxk, dw (incl. the 7x7 GDConv), bn,
// prelu, other (add, flatten), plus the head, the SGD step and the weight repack.
//   usage: bench_train [runs] [threads] [params_dir] [arch]   (arch: only that one)
// Prints a human table, then one machine line per architecture for bench/train_table.sh:
//   RESULT ours <arch> <median_s> <min_s> <max_s> <images_per_s> <n_trainable_params>
// With params_dir, writes <params_dir>/params_<arch>.txt: one line per trainable param
// (name, count), which bench/torch_train.py compares layer by layer with its own net.
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/base.h"
#include "base/pool.h"
#include "nn/nn_int.h"
#include "nn/nn_train.h"
#include "train/arch.h"
#include "train/loss.h"
#include "train/optim.h"

#include "bench_time.h"

#define BATCH 64
#define CLASSES 160
#define DIM 192
#define WARMUP 2
#define RUNS_DEFAULT 7
#define LR 0.01f

enum { T_C1, T_CK, T_DW, T_BN, T_PRELU, T_OTHER, T_NKIND };
static const char *const kind_name[T_NKIND] = {"conv 1x1", "conv kxk", "dw", "bn", "prelu", "other"};

static void die(const char *what) {
    fprintf(stderr, "bench_train: %s: %s\n", what, fh_errmsg());
    exit(2);
}

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint32_t rnd(void) {
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return (uint32_t)(rng >> 32);
}

static int node_kind(const struct nn_net *net, const struct nn_node *nd) {
    switch (nd->op) {
    case NN_OP_CONV2D: {
        const struct nn_shape *w = &net->values[nd->in[1]].shape;
        return w->d[1] == 1 && w->d[2] == 1 ? T_C1 : T_CK;
    }
    case NN_OP_FC: return T_C1;
    case NN_OP_DWCONV2D: return T_DW;
    case NN_OP_BATCHNORM: return T_BN;
    case NN_OP_PRELU: return T_PRELU;
    default: return T_OTHER;
    }
}

struct bench {
    struct nn_net *net;
    struct nn_session *s;
    struct train_loss *head;
    struct train_sgd *sgd;
    int *labels;
    long n_train;      // trainable floats of the net
};

static void setup(struct bench *b, const char *arch, struct fh_pool *pool, const char *params_dir) {
    memset(b, 0, sizeof *b);
    if (arch_build(arch, 1, 1, &b->net)) die("arch_build");
    if (nn_session_new_train(b->net, pool, &b->s)) die("nn_session_new_train");
    if (nn_session_reshape(b->s, (int[]){BATCH, 112, 112, 3}, 4)) die("reshape");
    float *in = nn_session_input(b->s, 0);
    for (size_t i = 0; i < (size_t)BATCH * 112 * 112 * 3; i++) in[i] = (float)(rnd() >> 8) * (2.0f / 16777216.0f) - 1.0f;
    b->labels = malloc(BATCH * sizeof *b->labels);
    if (!b->labels) die("malloc");
    for (int i = 0; i < BATCH; i++) b->labels[i] = (int)(rnd() % CLASSES);

    struct train_loss_opts lo;
    train_loss_opts_default(&lo, TRAIN_LOSS_ARCFACE, CLASSES, DIM);
    if (train_loss_new(&lo, &b->head)) die("train_loss_new");

    int np = nn_net_n_params(b->net), nh = train_loss_n_params(b->head), n = 0;
    struct train_param *p = calloc((size_t)(np + nh), sizeof *p);
    if (!p) die("calloc");
    FILE *pf = NULL;
    if (params_dir) {
        char path[1024];
        snprintf(path, sizeof path, "%s/params_%s.txt", params_dir, arch);
        if (!(pf = fopen(path, "w"))) fprintf(stderr, "bench_train: cannot write %s\n", path);
    }
    for (int i = 0; i < np; i++) {
        struct nn_param q;
        nn_net_param(b->net, i, &q);
        if (!q.trainable) continue;
        p[n++] = (struct train_param){q.name, q.w, nn_session_param_grad(b->s, i), q.n, q.decay};
        b->n_train += (long)q.n;
        if (pf) fprintf(pf, "%s %zu\n", q.name, q.n);
    }
    if (pf) fclose(pf);
    for (int i = 0; i < nh; i++) {
        struct train_loss_param q;
        train_loss_param(b->head, i, &q);
        if (q.g) p[n++] = (struct train_param){q.name, q.w, q.g, q.n, q.decay};
    }
    struct train_sgd_opts so = {.momentum = 0.9f, .weight_decay = 5e-4f, .clip_norm = 0};
    if (train_sgd_new(p, n, &so, &b->sgd)) die("train_sgd_new");
    free(p);
}

static void teardown(struct bench *b) {
    train_sgd_free(b->sgd);
    train_loss_free(b->head);
    nn_session_free(b->s);
    nn_net_free(b->net);
    free(b->labels);
}

// one training step (forward in training mode, head, backward, SGD, repack)
static double step(struct bench *b) {
    double t0 = now_s();
    if (nn_session_forward(b->s, 1)) die("forward");
    int dims[FH_MAX_DIMS], rank;
    const float *E = nn_session_output(b->s, 0, dims, &rank);
    train_loss_zero_grad(b->head);
    if (train_loss_compute(b->head, E, b->labels, BATCH, DIM, nn_session_output_grad(b->s, 0), NULL))
        die("train_loss_compute");
    nn_session_zero_grad(b->s);
    if (nn_session_backward(b->s)) die("backward");
    if (train_sgd_step(b->sgd, LR, NULL)) die("train_sgd_step");
    nn_net_weights_changed(b->net);
    return now_s() - t0;
}

// one step walked node by node, as nn_session_forward / nn_session_backward do
// (train_session.c); fwd/bwd: seconds per kind; other[3]: head, sgd, repack
static void profile_step(struct bench *b, double fwd[T_NKIND], double bwd[T_NKIND], double other[3]) {
    struct nn_session *s = b->s;
    const struct nn_net *net = b->net;
    memset(fwd, 0, T_NKIND * sizeof *fwd), memset(bwd, 0, T_NKIND * sizeof *bwd);
    s->training = 1;
    for (int i = 0; i < net->n_nodes; i++) {
        double t0 = now_s();
        nn_op_defs[net->nodes[i].op]->forward(s, &net->nodes[i]);
        fwd[node_kind(net, &net->nodes[i])] += now_s() - t0;
    }
    int dims[FH_MAX_DIMS], rank;
    const float *E = nn_session_output(s, 0, dims, &rank);
    double t0 = now_s();
    train_loss_zero_grad(b->head);
    if (train_loss_compute(b->head, E, b->labels, BATCH, DIM, nn_session_output_grad(s, 0), NULL))
        die("train_loss_compute");
    other[0] = now_s() - t0;
    nn_session_zero_grad(s);
    t0 = now_s();
    memset(s->garena, 0, (size_t)(s->ograd[0] - s->garena) * sizeof(float));
    for (int i = 0; i < net->n_outputs; i++) {
        float *g = s->grad[net->outputs[i]];
        size_t n = nn_shape_count(&s->slots[net->outputs[i]].shape);
        for (size_t k = 0; k < n; k++) g[k] += s->ograd[i][k];
    }
    bwd[T_OTHER] += now_s() - t0;
    for (int i = net->n_nodes - 1; i >= 0; i--) {
        t0 = now_s();
        nn_op_defs[net->nodes[i].op]->backward(s, &net->nodes[i]);
        bwd[node_kind(net, &net->nodes[i])] += now_s() - t0;
    }
    t0 = now_s();
    if (train_sgd_step(b->sgd, LR, NULL)) die("train_sgd_step");
    other[1] = now_s() - t0;
    t0 = now_s();
    nn_net_weights_changed(b->net);
    other[2] = now_s() - t0;
}

static void run_arch(const char *arch, int runs, struct fh_pool *pool, const char *params_dir) {
    struct bench b;
    setup(&b, arch, pool, params_dir);
    for (int i = 0; i < WARMUP; i++) step(&b);
    double *t = malloc((size_t)runs * sizeof *t);
    if (!t) die("malloc");
    for (int i = 0; i < runs; i++) t[i] = step(&b);
    qsort(t, (size_t)runs, sizeof *t, cmp_double);
    double med = runs % 2 ? t[runs / 2] : 0.5 * (t[runs / 2 - 1] + t[runs / 2]);
    double fwd[T_NKIND], bwd[T_NKIND], other[3], sf = 0, sb = 0;
    profile_step(&b, fwd, bwd, other);
    for (int k = 0; k < T_NKIND; k++) sf += fwd[k], sb += bwd[k];
    printf("\n%s (BN, batch %d, %s kernels, %d threads): %ld trainable params, step median %.1f ms "
           "(min %.1f, max %.1f, %d runs), %.1f images/s\n",
           arch, BATCH, nn_net_kernels(b.net), fh_pool_size(pool), b.n_train, 1e3 * med, 1e3 * t[0],
           1e3 * t[runs - 1], runs, BATCH / med);
    printf("  breakdown of one step (ms):   forward  backward\n");
    for (int k = 0; k < T_NKIND; k++)
        printf("    %-26s %8.1f  %8.1f\n", kind_name[k], 1e3 * fwd[k], 1e3 * bwd[k]);
    printf("    %-26s %8.1f  %8.1f\n", "total", 1e3 * sf, 1e3 * sb);
    printf("    ArcFace head %.1f, SGD step %.1f, weight repack %.1f; profiled step %.1f ms\n",
           1e3 * other[0], 1e3 * other[1], 1e3 * other[2], 1e3 * (sf + sb + other[0] + other[1] + other[2]));
    printf("RESULT ours %s %.6f %.6f %.6f %.2f %ld\n", arch, med, t[0], t[runs - 1], BATCH / med, b.n_train);
    fflush(stdout);
    free(t);
    teardown(&b);
}

int main(int argc, char **argv) {
    int runs = argc > 1 ? atoi(argv[1]) : RUNS_DEFAULT;
    int threads = argc > 2 ? atoi(argv[2]) : 2;
    const char *params_dir = argc > 3 ? argv[3] : NULL;
    if (runs < 1 || runs > 1000 || threads < 1 || threads > 64) {
        fprintf(stderr, "usage: bench_train [runs 1..1000] [threads 1..64] [params_dir] [arch]\n");
        return 2;
    }
    struct fh_pool *pool = fh_pool_new(threads);
    if (!pool) die("fh_pool_new");
    const char *only = argc > 4 ? argv[4] : NULL;
    if (!only || !strcmp(only, "mobilefacenet")) run_arch("mobilefacenet", runs, pool, params_dir);
    if (!only || !strcmp(only, "mfn-s")) run_arch("mfn-s", runs, pool, params_dir);
    fh_pool_free(pool);
    return 0;
}
