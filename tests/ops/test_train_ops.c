// SPDX-License-Identifier: MIT
// Training ops (nn_train.h): every backward against central finite differences, on odd
// shapes (N=3, H=7, W=9, C=5, stride 2 SAME and VALID), then a small MobileFaceNet-like
// net built with the builder; inference forward == training forward(0); gradients
// bit-identical for 1 and 2 threads; reference kernels vs the best kernels; BN running
// statistics; builder names, init and errors.
//
// Finite differences: loss L = sum(out * R), R fixed random; dL/dp ~ (L(p+e) - L(p-e)) / 2e
// with L summed in double. Compared per tensor on up to 48 sampled entries by
// rel = |a - n|_2 / max(|a|_2, |n|_2, 5e-3 sqrt(k)) (k samples: a noise floor of 5e-3
// per entry, for gradients that are exactly 0, like a BN beta whose shift a later BN
// removes); tolerance stated per check (a wrong gradient gives rel ~ 1).
#include <math.h>
#include <string.h>

#include "harness.h"
#include "nn/nn_int.h"
#include "nn/nn_train.h"

#define SAMPLES 48

static uint64_t rng_state = 0x12345678;
static float frand(void) { // uniform in [-1, 1)
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((rng_state >> 40) * (1.0 / (1 << 24))) * 2 - 1;
}

typedef int (*build_fn)(struct nn_builder *b, int x);

static struct nn_net *build(build_fn f, int h, int w, int c, int force_ref, uint64_t seed) {
    struct nn_builder *b;
    if (nn_builder_new(seed, &b)) return NULL;
    int x = nn_b_input(b, "input", h, w, c);
    nn_b_output(b, f(b, x));
    struct nn_options opt = {.force_ref = force_ref};
    struct nn_net *net;
    if (nn_b_finish(b, &opt, &net)) {
        printf("build failed: %s\n", fh_errmsg());
        return NULL;
    }
    return net;
}

struct run {
    struct nn_net *net;
    struct nn_session *s;
    int dims[4];
    size_t nin, nout;
    float *x, *R;
};

static int run_open(struct run *r, struct nn_net *net, struct fh_pool *pool, int N, int h, int w, int c) {
    memset(r, 0, sizeof *r);
    r->net = net;
    if (!net || nn_session_new_train(net, pool, &r->s)) return -1;
    r->dims[0] = N, r->dims[1] = h, r->dims[2] = w, r->dims[3] = c;
    if (nn_session_reshape(r->s, r->dims, 4)) return -1;
    int od[FH_MAX_DIMS], orank;
    nn_session_output(r->s, 0, od, &orank);
    r->nout = 1;
    for (int i = 0; i < orank; i++) r->nout *= (size_t)od[i];
    r->nin = (size_t)N * h * w * c;
    r->x = fh_malloc(r->nin * sizeof(float));
    r->R = fh_malloc(r->nout * sizeof(float));
    uint64_t keep = rng_state;
    rng_state = 99;
    for (size_t i = 0; i < r->nin; i++) r->x[i] = frand();
    for (size_t i = 0; i < r->nout; i++) r->R[i] = frand();
    rng_state = keep;
    return 0;
}

static void run_close(struct run *r) {
    nn_session_free(r->s);
    fh_free(r->x), fh_free(r->R);
}

static double loss(struct run *r) {
    memcpy(nn_session_input(r->s, 0), r->x, r->nin * sizeof(float));
    nn_session_forward(r->s, 1);
    const float *o = nn_session_output(r->s, 0, NULL, NULL);
    double L = 0;
    for (size_t i = 0; i < r->nout; i++) L += (double)o[i] * r->R[i];
    return L;
}

static int grads(struct run *r) {
    loss(r);
    memcpy(nn_session_output_grad(r->s, 0), r->R, r->nout * sizeof(float));
    nn_session_zero_grad(r->s);
    return nn_session_backward(r->s);
}

static double rel(const double *a, const double *n, int k) {
    double d = 0, na = 0, nn = 0;
    for (int i = 0; i < k; i++) d += (a[i] - n[i]) * (a[i] - n[i]), na += a[i] * a[i], nn += n[i] * n[i];
    double m = sqrt(na > nn ? na : nn), floor = 5e-3 * sqrt((double)k);
    return sqrt(d) / (m > floor ? m : floor);
}

// finite differences on `n` floats at p (a param's values or the input), analytic grad g
static double fd_tensor(struct run *r, float *p, size_t n, const float *g, float eps, int is_param) {
    double a[SAMPLES], num[SAMPLES];
    int k = 0;
    for (int t = 0; t < SAMPLES && (size_t)t < n; t++) {
        size_t i = n <= SAMPLES ? (size_t)t : (size_t)((frand() + 1) * 0.5f * (float)n) % n;
        float keep = p[i];
        p[i] = keep + eps;
        if (is_param) nn_net_weights_changed(r->net);
        double lp = loss(r);
        p[i] = keep - eps;
        if (is_param) nn_net_weights_changed(r->net);
        double lm = loss(r);
        p[i] = keep;
        if (is_param) nn_net_weights_changed(r->net);
        num[k] = (lp - lm) / (2.0 * eps), a[k++] = g[i];
    }
    return rel(a, num, k);
}

// worst relative error over the input and every trainable param; names the worst
static double fd_check(struct run *r, float eps, char *worst, size_t wn) {
    if (grads(r)) return 1e9;
    int np = nn_net_n_params(r->net);
    float **g = fh_calloc((size_t)np + 1, sizeof *g);
    float *gin = fh_malloc(r->nin * sizeof(float));
    memcpy(gin, nn_session_input_grad(r->s, 0), r->nin * sizeof(float));
    for (int i = 0; i < np; i++) {
        struct nn_param pr;
        nn_net_param(r->net, i, &pr);
        const float *pg = nn_session_param_grad(r->s, i);
        if (!pg) continue;
        g[i] = fh_malloc(pr.n * sizeof(float));
        memcpy(g[i], pg, pr.n * sizeof(float));
    }
    double w = fd_tensor(r, r->x, r->nin, gin, eps, 0);
    snprintf(worst, wn, "input %.2e", w);
    for (int i = 0; i < np; i++) {
        struct nn_param pr;
        nn_net_param(r->net, i, &pr);
        if (!g[i]) continue;
        double e = fd_tensor(r, pr.w, pr.n, g[i], eps, 1);
        if (getenv("FD_VERBOSE")) printf("   %s %.2e\n", pr.name, e);
        if (e > w) w = e, snprintf(worst, wn, "%s %.2e", pr.name, e);
        fh_free(g[i]);
    }
    fh_free(g), fh_free(gin);
    return w;
}

// ---- the nets under test ------------------------------------------------------------------
static int b_conv_same(struct nn_builder *b, int x) { return nn_b_conv(b, x, 4, 3, 1, 1, 1); }
static int b_conv_s2_same(struct nn_builder *b, int x) { return nn_b_conv(b, x, 3, 2, 2, 1, 1); }
static int b_conv_s2_valid(struct nn_builder *b, int x) { return nn_b_conv(b, x, 6, 3, 2, 0, 0); }
static int b_conv_1x1(struct nn_builder *b, int x) { return nn_b_conv(b, x, 7, 1, 1, 0, 0); }
static int b_dw_same(struct nn_builder *b, int x) { return nn_b_dwconv(b, x, 3, 1, 1, 1); }
static int b_dw_s2_same(struct nn_builder *b, int x) { return nn_b_dwconv(b, x, 3, 2, 1, 0); }
static int b_dw_s2_valid(struct nn_builder *b, int x) { return nn_b_dwconv(b, x, 3, 2, 0, 1); }
static int b_dw_global(struct nn_builder *b, int x) { return nn_b_dwconv(b, x, 7, 1, 0, 0); }
static int b_fc(struct nn_builder *b, int x) { return nn_b_fc(b, nn_b_flatten(b, x), 6, 1); }
static int b_bn4(struct nn_builder *b, int x) { return nn_b_bn(b, x); }
static int b_bn2(struct nn_builder *b, int x) { return nn_b_bn(b, nn_b_flatten(b, x)); }
static int b_prelu(struct nn_builder *b, int x) { return nn_b_prelu(b, x); }
static int b_relu(struct nn_builder *b, int x) { return nn_b_relu(b, x); }
static int b_add(struct nn_builder *b, int x) { return nn_b_add(b, nn_b_conv(b, x, 5, 1, 1, 0, 1), x); }
static int b_l2(struct nn_builder *b, int x) { return nn_b_l2norm(b, nn_b_flatten(b, x)); }

// MobileFaceNet in miniature: conv-bn-prelu, dw-bn-prelu, conv-bn + residual, global
// depthwise VALID, flatten, fc, bn, l2norm
static int b_net(struct nn_builder *b, int x) {
    x = nn_b_prelu(b, nn_b_bn(b, nn_b_conv(b, x, 6, 3, 2, 1, 0)));        // 7x7x6
    int y = nn_b_prelu(b, nn_b_bn(b, nn_b_dwconv(b, x, 3, 1, 1, 0)));
    y = nn_b_bn(b, nn_b_conv(b, y, 6, 1, 1, 0, 0));
    x = nn_b_add(b, x, y);
    x = nn_b_bn(b, nn_b_dwconv(b, x, 7, 1, 0, 0));                        // 1x1x6
    x = nn_b_fc(b, nn_b_flatten(b, x), 5, 0);
    return nn_b_l2norm(b, nn_b_bn(b, x));
}

struct op_case {
    const char *name;
    build_fn f;
    int h, w, c;
    float eps, tol;
};

static void check_ops(void) {
    const struct op_case cases[] = {
        {"CONV 3x3 s1 SAME + bias", b_conv_same, 7, 9, 5, 1e-2f, 1e-2f},
        {"CONV 2x2 s2 SAME (padding after) + bias", b_conv_s2_same, 7, 9, 5, 1e-2f, 1e-2f},
        {"CONV 3x3 s2 VALID", b_conv_s2_valid, 7, 9, 5, 1e-2f, 1e-2f},
        {"CONV 1x1", b_conv_1x1, 7, 9, 5, 1e-2f, 1e-2f},
        {"DWCONV 3x3 s1 SAME + bias", b_dw_same, 7, 9, 5, 1e-2f, 1e-2f},
        {"DWCONV 3x3 s2 SAME", b_dw_s2_same, 7, 9, 5, 1e-2f, 1e-2f},
        {"DWCONV 3x3 s2 VALID + bias", b_dw_s2_valid, 7, 9, 5, 1e-2f, 1e-2f},
        {"DWCONV 7x7 global VALID", b_dw_global, 7, 7, 5, 1e-2f, 1e-2f},
        {"FLATTEN + FC + bias", b_fc, 7, 9, 5, 1e-2f, 1e-2f},
        {"BATCHNORM (training) over NHWC", b_bn4, 7, 9, 5, 1e-2f, 2e-2f},
        {"FLATTEN + BATCHNORM (training) over (N, D)", b_bn2, 2, 3, 5, 1e-2f, 2e-2f},
        {"PRELU", b_prelu, 7, 9, 5, 1e-3f, 2e-2f},
        {"RELU", b_relu, 7, 9, 5, 1e-3f, 2e-2f},
        {"ADD (residual over a 1x1 conv)", b_add, 7, 9, 5, 1e-2f, 1e-2f},
        {"FLATTEN + L2NORM", b_l2, 7, 9, 5, 1e-3f, 2e-2f},
        {"small net: conv-bn-prelu, dw-bn-prelu, conv-bn + add, global dw, fc, bn, l2norm", b_net, 14, 14, 3, 1e-3f, 3e-2f},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const struct op_case *c = &cases[i];
        struct run r;
        char worst[128] = "?", d[320];
        double e = 1e9;
        if (!run_open(&r, build(c->f, c->h, c->w, c->c, 0, 7 + i), NULL, 3, c->h, c->w, c->c))
            e = fd_check(&r, c->eps, worst, sizeof worst);
        else
            snprintf(worst, sizeof worst, "%s", fh_errmsg());
        snprintf(d, sizeof d, "%s: backward = finite differences (worst %s, tol %.0e)", c->name, worst, c->tol);
        TEST_COND(d, e < c->tol);
        run_close(&r);
        nn_net_free(r.net);
    }
}

// ---- sessions ----------------------------------------------------------------------------
static void check_inference_equals_train(void) {
    struct nn_net *net = build(b_net, 14, 14, 3, 0, 5);
    struct run r;
    int ok = !run_open(&r, net, NULL, 3, 14, 14, 3);
    for (int i = 0; ok && i < 3; i++) loss(&r); // running stats move off their init
    struct nn_session *inf = NULL;
    ok = ok && !nn_session_new(net, NULL, &inf) && !nn_session_reshape(inf, r.dims, 4);
    if (ok) {
        memcpy(nn_session_input(inf, 0), r.x, r.nin * sizeof(float));
        memcpy(nn_session_input(r.s, 0), r.x, r.nin * sizeof(float));
        nn_session_run(inf);
        nn_session_forward(r.s, 0);
        ok = !memcmp(nn_session_output(inf, 0, NULL, NULL), nn_session_output(r.s, 0, NULL, NULL),
                     r.nout * sizeof(float));
        nn_session_forward(r.s, 1);
        ok = ok && memcmp(nn_session_output(inf, 0, NULL, NULL), nn_session_output(r.s, 0, NULL, NULL),
                          r.nout * sizeof(float)); // batch statistics differ from running ones
    }
    TEST_COND("inference session == training session forward(0), != forward(1)", ok);
    TEST_COND("inference sessions refuse forward(1) and have no gradients",
              inf && nn_session_forward(inf, 1) == FH_E_ARG && !nn_session_output_grad(inf, 0) &&
                  !nn_session_param_grad(inf, 0) && nn_session_backward(inf) == FH_E_ARG);
    nn_session_free(inf);
    run_close(&r);
    nn_net_free(net);
}

// all param grads and the input grad of a run, concatenated
static float *all_grads(struct run *r, size_t *n) {
    int np = nn_net_n_params(r->net);
    size_t tot = r->nin;
    for (int i = 0; i < np; i++) {
        struct nn_param p;
        nn_net_param(r->net, i, &p);
        if (p.trainable) tot += p.n;
    }
    float *g = fh_malloc(tot * sizeof(float));
    memcpy(g, nn_session_input_grad(r->s, 0), r->nin * sizeof(float));
    size_t at = r->nin;
    for (int i = 0; i < np; i++) {
        struct nn_param p;
        nn_net_param(r->net, i, &p);
        if (!p.trainable) continue;
        memcpy(g + at, nn_session_param_grad(r->s, i), p.n * sizeof(float));
        at += p.n;
    }
    *n = tot;
    return g;
}

static float *net_grads(int force_ref, struct fh_pool *pool, int N, size_t *n) {
    struct run r;
    float *g = NULL;
    struct nn_net *net = build(b_net, 14, 14, 3, force_ref, 11);
    if (!run_open(&r, net, pool, N, 14, 14, 3) && !grads(&r)) g = all_grads(&r, n);
    run_close(&r);
    nn_net_free(net);
    return g;
}

static void check_threads_and_kernels(void) {
    struct fh_pool *p2 = fh_pool_new(2);
    size_t n1 = 0, n2 = 0, nr = 0;
    float *g1 = net_grads(0, NULL, 4, &n1), *g2 = net_grads(0, p2, 4, &n2);
    TEST_COND("gradients bit-identical for 1 and 2 threads", g1 && g2 && n1 == n2 && !memcmp(g1, g2, n1 * sizeof(float)));
    float *gr = net_grads(1, p2, 4, &nr);
    double d = 0, m = 0;
    for (size_t i = 0; gr && g1 && nr == n1 && i < n1; i++) {
        double e = fabs((double)gr[i] - g1[i]);
        d = e > d ? e : d, m = fabs(gr[i]) > m ? fabs(gr[i]) : m;
    }
    char msg[160];
    snprintf(msg, sizeof msg, "reference kernels vs %s kernels: gradients within 1e-4 of the largest (max diff %.1e of %.1e)",
             nn_kern_best(0)->name, d, m);
    TEST_COND(msg, gr && g1 && nr == n1 && d <= 1e-4 * (m > 1 ? m : 1));
    fh_free(g1), fh_free(g2), fh_free(gr);
    fh_pool_free(p2);
}

static void check_accumulate(void) {
    struct run r;
    struct nn_net *net = build(b_net, 14, 14, 3, 0, 3);
    int ok = !run_open(&r, net, NULL, 2, 14, 14, 3) && !grads(&r);
    size_t n = 0;
    float *g = ok ? all_grads(&r, &n) : NULL;
    ok = ok && nn_session_backward(r.s) == FH_OK; // again, without zero_grad
    size_t nin = r.nin;
    int twice = ok, zero = ok;
    for (int i = 0; ok && i < nn_net_n_params(net); i++) {
        struct nn_param p;
        nn_net_param(net, i, &p);
        if (!p.trainable) continue;
        const float *pg = nn_session_param_grad(r.s, i);
        for (size_t k = 0; k < p.n; k++) twice &= fabsf(pg[k] - 2 * g[nin]) <= 1e-6f * (1 + fabsf(pg[k])), nin++;
    }
    const float *gi = ok ? nn_session_input_grad(r.s, 0) : NULL;
    for (size_t k = 0; ok && k < r.nin; k++) twice &= gi[k] == g[k]; // activations restart at 0
    if (ok) nn_session_zero_grad(r.s);
    for (int i = 0; ok && i < nn_net_n_params(net); i++) {
        const float *pg = nn_session_param_grad(r.s, i);
        struct nn_param p;
        nn_net_param(net, i, &p);
        for (size_t k = 0; pg && k < p.n; k++) zero &= pg[k] == 0;
    }
    TEST_COND("param gradients accumulate over two backwards, input gradient does not", twice);
    TEST_COND("zero_grad zeroes every param gradient", zero);
    fh_free(g);
    run_close(&r);
    nn_net_free(net);
}

// ---- batch norm running statistics -------------------------------------------------------
static void check_bn_running(void) {
    struct run r;
    struct nn_net *net = build(b_bn4, 3, 4, 5, 0, 1);
    int ok = !run_open(&r, net, NULL, 2, 3, 4, 5);
    if (ok) loss(&r);
    int im = nn_net_find_param(net, "bn0.mean"), iv = nn_net_find_param(net, "bn0.var");
    struct nn_param pm, pv;
    ok = ok && im >= 0 && iv >= 0 && !nn_net_param(net, im, &pm) && !nn_net_param(net, iv, &pv);
    int M = 2 * 3 * 4;
    for (int c = 0; ok && c < 5; c++) {
        double s = 0, ss = 0;
        for (int m = 0; m < M; m++) s += r.x[m * 5 + c];
        double mean = s / M;
        for (int m = 0; m < M; m++) ss += (r.x[m * 5 + c] - mean) * (r.x[m * 5 + c] - mean);
        ok &= fabs(pm.w[c] - 0.1 * mean) < 1e-6 && fabs(pv.w[c] - (0.9 + 0.1 * ss / (M - 1))) < 1e-6;
    }
    TEST_COND("BN training forward: running mean/var move by momentum 0.1, var unbiased", ok);
    TEST_COND("BN running stats are buffers (not trainable), no gradient",
              ok && !pm.trainable && !pv.trainable && !nn_session_param_grad(r.s, im));
    run_close(&r);
    nn_net_free(net);
}

// ---- builder --------------------------------------------------------------------------------
static void check_builder(void) {
    struct nn_net *a = build(b_net, 14, 14, 3, 0, 42), *b = build(b_net, 14, 14, 3, 0, 42);
    struct nn_net *c = build(b_net, 14, 14, 3, 0, 43);
    int same = a && b && nn_net_n_params(a) == nn_net_n_params(b), differ = 0;
    for (int i = 0; same && i < nn_net_n_params(a); i++) {
        struct nn_param pa, pb, pc;
        nn_net_param(a, i, &pa), nn_net_param(b, i, &pb), nn_net_param(c, i, &pc);
        same &= !strcmp(pa.name, pb.name) && pa.n == pb.n && !memcmp(pa.w, pb.w, pa.n * sizeof(float));
        differ |= memcmp(pa.w, pc.w, pa.n * sizeof(float)) != 0;
    }
    TEST_COND("same seed, same params; another seed, other weights", same && differ);
    struct nn_param p0, p1, pb;
    int i1 = a ? nn_net_find_param(a, "bn1.gamma") : -1, ib = a ? nn_net_find_param(a, "prelu2.alpha") : -1;
    TEST_COND("params named <kind><n>.<w|gamma|...>, in creation order, flags",
              a && nn_net_find_param(a, "conv0.w") == 0 && i1 == 1 && nn_net_find_param(a, "bn1.beta") == 2 &&
                  nn_net_find_param(a, "bn1.var") == 4 && ib == 5 && nn_net_find_param(a, "dw3.w") == 6 &&
                  nn_net_find_param(a, "nope") == -1 && !nn_net_param(a, 0, &p0) && !nn_net_param(a, i1, &p1) &&
                  !nn_net_param(a, ib, &pb) && p0.trainable && p0.decay && p1.trainable && !p1.decay &&
                  p0.rank == 4 && p0.dims[0] == 6 && p0.dims[1] == 3 && p0.dims[3] == 3 && p1.w[0] == 1 &&
                  pb.w[3] == 0.25f && nn_net_param(a, 999, &p0) == FH_E_ARG);
    // He-normal: the 8*... conv weights have std near sqrt(2 / fan_in)
    double s2 = 0;
    nn_net_param(a, 0, &p0);
    for (size_t i = 0; i < p0.n; i++) s2 += (double)p0.w[i] * p0.w[i];
    double sd = sqrt(s2 / (double)p0.n), want = sqrt(2.0 / 27);
    TEST_COND("conv weights He-normal (std within 20%)", fabs(sd - want) < 0.2 * want);
    // weights_changed: zero a conv's weights -> its output is 0
    struct nn_net *z = build(b_conv_1x1, 7, 9, 5, 0, 1);
    struct run r;
    int ok = !run_open(&r, z, NULL, 2, 7, 9, 5);
    if (ok) {
        nn_net_param(z, 0, &p0);
        memset(p0.w, 0, p0.n * sizeof(float));
        nn_net_weights_changed(z);
        ok = loss(&r) == 0;
    }
    TEST_COND("weights_changed re-packs: zeroed conv weights give 0", ok);
    run_close(&r);
    nn_net_free(z);
    nn_net_free(a), nn_net_free(b), nn_net_free(c);

    struct nn_builder *bb;
    struct nn_net *n;
    nn_builder_new(1, &bb);
    int x = nn_b_input(bb, "input", 8, 8, 3);
    int y = nn_b_conv(bb, x, 4, 3, 2, 1, 0);
    int bad = nn_b_add(bb, x, y), after = nn_b_relu(bb, y);
    int rc = nn_b_finish(bb, NULL, &n);
    TEST_COND("builder: add of different shapes -> FH_E_ARG naming the layer; later calls -1",
              bad == -1 && after == -1 && rc == FH_E_ARG && !n && strstr(fh_errmsg(), "add1"));
    nn_builder_new(1, &bb);
    x = nn_b_input(bb, "input", 5, 5, 3);
    nn_b_conv(bb, x, 4, 7, 1, 0, 0);
    rc = nn_b_finish(bb, NULL, &n);
    TEST_COND("builder: VALID window larger than the input -> FH_E_ARG", rc == FH_E_ARG && !n);
    nn_builder_new(1, &bb);
    x = nn_b_input(bb, "input", 5, 5, 3);
    nn_b_fc(bb, x, 4, 1);
    nn_b_relu(bb, 1234);
    rc = nn_b_finish(bb, NULL, &n);
    TEST_COND("builder: fc on rank 4 -> FH_E_ARG (first error kept)", rc == FH_E_ARG && strstr(fh_errmsg(), "fc0"));
    nn_builder_new(1, &bb);
    nn_b_input(bb, "input", 5, 5, 3);
    TEST_COND("builder: no output -> FH_E_ARG", nn_b_finish(bb, NULL, &n) == FH_E_ARG);
}

// a conv with a fused activation cannot be trained (the importer's fused nets)
static void check_fused_refused(void) {
    struct nn_builder *b;
    nn_builder_new(1, &b);
    int x = nn_b_input(b, "input", 5, 5, 3);
    nn_b_output(b, nn_b_conv(b, x, 4, 3, 1, 1, 1));
    struct nn_net *net;
    int ok = !nn_b_finish(b, NULL, &net);
    if (ok) {
        net->nodes[0].p.act = NN_ACT_RELU;
        struct nn_session *s = NULL;
        int rc = nn_session_new_train(net, NULL, &s);
        ok = rc == FH_E_UNSUPPORTED && !s && strstr(fh_errmsg(), "fused activation");
        nn_net_free(net);
    }
    TEST_COND("training session refuses a fused activation, clearly", ok);
}

// a layer that does not lead to the output (its gradient is zero, nothing crashes) and a
// value read twice by one node (add(x, x): both readers' gradients add up)
static int b_dead_end(struct nn_builder *b, int x) {
    nn_b_conv(b, x, 4, 3, 1, 1, 1);
    return nn_b_add(b, nn_b_relu(b, x), nn_b_relu(b, x));
}

static void check_dead_end(void) {
    struct run r;
    struct nn_net *net = build(b_dead_end, 3, 4, 5, 0, 1);
    int ok = !run_open(&r, net, NULL, 2, 3, 4, 5) && !grads(&r);
    const float *gi = ok ? nn_session_input_grad(r.s, 0) : NULL;
    for (size_t i = 0; ok && i < r.nin; i++) ok &= gi[i] == (r.x[i] > 0 ? 2 * r.R[i] : 0);
    const float *gw = ok ? nn_session_param_grad(r.s, 0) : NULL;
    for (int i = 0; ok && i < 4 * 3 * 3 * 5; i++) ok &= gw[i] == 0;
    TEST_COND("a dead-end layer gets zero gradients; add(relu(x), relu(x)) gives 2 R [x > 0]", ok);
    run_close(&r);
    nn_net_free(net);
}

int main(void) {
    check_ops();
    check_inference_equals_train();
    check_threads_and_kernels();
    check_accumulate();
    check_bn_running();
    check_builder();
    check_fused_refused();
    check_dead_end();
    return TEST_REPORT();
}
