// SPDX-License-Identifier: MIT
// bench_kern: per-kernel timings, reference vs the AVX2, AVX-512 and int8 kernels, on the real layer shapes of
// MobileFaceNet (and a few MTCNN ones). After llm.c dev/cpu: every shape is verified
// against the reference first (a failure exits 1 before any timing), then each
// variant is timed with clock_gettime, min and median of RUNS runs after WARMUP
// warm-up runs, one thread (ith=0, nth=1). Weights and inputs are seeded random. The
// roofline columns divide each kernel's GFLOP/s (int8: GOP/s) by the ceiling an FMA-only
// (vpdpbusd-only) loop reaches on this core.
// Then the backward (training) kernels on MobileFaceNet layers at batch 16, verified
// the same way; the reference is timed on BWD_REF_RUNS runs only (it is slow).
//   usage: bench_kern [runs] [bwd]   (bwd: the backward rows only)
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/base.h"
#include "nn/kern/kern.h"

#include <immintrin.h>

#include "bench_time.h"

#define WARMUP 3
#define RUNS_DEFAULT 20
#define TOL_REL 1e-5f // as tests/ops/test_kern.c: FMA vs plain rounding over K-long sums
#define TOL_ABS 1e-6f

static uint32_t rng_state = 0x9E3779B9u;
static float rng_uniform(float lo, float hi) {
    uint32_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    rng_state = x;
    return lo + (hi - lo) * (float)(x >> 8) * (1.0f / 16777216.0f);
}
static float *falloc(size_t n, float lo, float hi) {
    float *p = fh_malloc_aligned((n ? n : 1) * sizeof(float));
    if (!p) {
        fprintf(stderr, "bench_kern: out of memory\n");
        exit(2);
    }
    for (size_t i = 0; i < n; i++) p[i] = rng_uniform(lo, hi);
    return p;
}

enum { K_CONV, K_DW, K_POOL };
struct shape {
    const char *name;
    int kind;
    int N, H, W, C, OC, KH, KW, S, P, act; // P: padding before (TF SAME-style below)
};

// one layer instance for a given table
struct layer {
    struct nn_conv_args conv;
    struct nn_dw_args dw;
    struct nn_pool_args pool;
    float *wp, *scratch, *y;
    size_t ny;
};

static const struct shape shapes[] = {
    {"1x1 64->128 28x28 (M=784)", K_CONV, 1, 28, 28, 64, 128, 1, 1, 1, 0, 2},
    {"1x1 128->64 28x28 (M=784)", K_CONV, 1, 28, 28, 128, 64, 1, 1, 1, 0, 0},
    {"1x1 256->128 14x14 (M=196)", K_CONV, 1, 14, 14, 256, 128, 1, 1, 1, 0, 2},
    {"1x1 128->512 7x7 (M=49)", K_CONV, 1, 7, 7, 128, 512, 1, 1, 1, 0, 2},
    {"1x1 64->64 56x56 (M=3136)", K_CONV, 1, 56, 56, 64, 64, 1, 1, 1, 0, 2},
    {"conv3x3 s2 3->64 112x112", K_CONV, 1, 112, 112, 3, 64, 3, 3, 2, 0, 2},
    {"conv3x3 10->16 PNet 71x71", K_CONV, 1, 71, 71, 10, 16, 3, 3, 1, 0, 2},
    {"conv3x3 28->48 RNet x16", K_CONV, 16, 11, 11, 28, 48, 3, 3, 1, 0, 2},
    {"conv2x2 64->128 ONet x16", K_CONV, 16, 3, 3, 64, 128, 2, 2, 1, 0, 2},
    {"FC 1152->256 batch 1", K_CONV, 1, 1, 1, 1152, 256, 1, 1, 1, 0, 2},
    {"FC 576->128 batch 64", K_CONV, 64, 1, 1, 576, 128, 1, 1, 1, 0, 2},
    {"dw3x3 C=128 28x28", K_DW, 1, 28, 28, 128, 128, 3, 3, 1, 1, 2},
    {"dw3x3 s2 C=64 56x56", K_DW, 1, 56, 56, 64, 64, 3, 3, 2, 1, 2},
    {"dw7x7 GDConv C=512 7x7", K_DW, 1, 7, 7, 512, 512, 7, 7, 1, 0, 0},
    {"maxpool3x3 s2 C=28 22x22 x16", K_POOL, 16, 22, 22, 28, 28, 3, 3, 2, 0, 0},
    {"maxpool2x2 s2 C=10 69x69", K_POOL, 1, 69, 69, 10, 10, 2, 2, 2, 0, 0},
};

// shared inputs of one shape (so ref and avx2 see the same data)
struct inputs {
    float *x, *w, *bias, *alpha;
};

static int out_dim(int in, int k, int s, int p) { return (in + 2 * p - k) / s + 1; }

static void layer_init(struct layer *l, const struct shape *s, const struct inputs *in,
                       const struct nn_kern *t) {
    memset(l, 0, sizeof *l);
    int OH = out_dim(s->H, s->KH, s->S, s->P), OW = out_dim(s->W, s->KW, s->S, s->P);
    if (s->kind == K_CONV && s->S == 2 && s->KH == 3) { // TF SAME: out = ceil(in/2)
        OH = (s->H + 1) / 2, OW = (s->W + 1) / 2;
    }
    int OC = s->kind == K_CONV ? s->OC : s->C;
    l->ny = (size_t)s->N * OH * OW * OC;
    l->y = falloc(l->ny, 0, 0);
    if (s->kind == K_CONV) {
        struct nn_conv_args *a = &l->conv;
        int K = s->KH * s->KW * s->C, pt = 0;
        if (s->S == 2 && s->KH == 3) { // TF SAME padding before
            int tot = (OH - 1) * 2 + 3 - s->H;
            pt = tot > 0 ? tot / 2 : 0;
        }
        *a = (struct nn_conv_args){.x = in->x, .N = s->N, .H = s->H, .W = s->W, .C = s->C,
                                   .w = in->w, .bias = in->bias, .OC = s->OC, .KH = s->KH,
                                   .KW = s->KW, .SH = s->S, .SW = s->S, .PT = pt, .PL = pt,
                                   .OH = OH, .OW = OW, .act = s->act, .alpha = in->alpha,
                                   .y = l->y};
        l->wp = falloc(t->conv_pack_size(s->OC, K), 0, 0);
        t->conv_pack(s->OC, K, in->w, l->wp);
        a->wp = l->wp;
        l->scratch = falloc(t->conv_scratch(a), 0, 0);
        a->scratch = l->scratch;
    } else if (s->kind == K_DW) {
        l->dw = (struct nn_dw_args){.x = in->x, .N = s->N, .H = s->H, .W = s->W, .C = s->C,
                                    .w = in->w, .bias = in->bias, .KH = s->KH, .KW = s->KW,
                                    .SH = s->S, .SW = s->S, .PT = s->P, .PL = s->P, .OH = OH,
                                    .OW = OW, .act = s->act, .alpha = in->alpha, .y = l->y};
    } else {
        l->pool = (struct nn_pool_args){.x = in->x, .N = s->N, .H = s->H, .W = s->W, .C = s->C,
                                        .KH = s->KH, .KW = s->KW, .SH = s->S, .SW = s->S,
                                        .PT = s->P, .PL = s->P, .OH = OH, .OW = OW, .y = l->y};
    }
}

static void layer_free(struct layer *l) {
    fh_free_aligned(l->y);
    fh_free_aligned(l->wp);
    fh_free_aligned(l->scratch);
}

static void layer_run(const struct layer *l, const struct shape *s, const struct nn_kern *t) {
    if (s->kind == K_CONV) t->conv2d(&l->conv, 0, 1);
    else if (s->kind == K_DW) t->dwconv2d(&l->dw, 0, 1);
    else t->maxpool2d(&l->pool, 0, 1);
}

static double layer_flops(const struct layer *l, const struct shape *s) {
    if (s->kind == K_CONV) return 2.0 * (double)l->ny * s->KH * s->KW * s->C;
    if (s->kind == K_DW) return 2.0 * (double)l->ny * s->KH * s->KW;
    return (double)l->ny * s->KH * s->KW; // compares
}

// min and median seconds over runs
static void time_layer(const struct layer *l, const struct shape *s, const struct nn_kern *t,
                       int runs, double *tmin, double *tmed) {
    double *ts = malloc((size_t)runs * sizeof *ts);
    if (!ts) exit(2);
    for (int i = 0; i < WARMUP; i++) layer_run(l, s, t);
    for (int i = 0; i < runs; i++) {
        double t0 = now_s();
        layer_run(l, s, t);
        ts[i] = now_s() - t0;
    }
    qsort(ts, (size_t)runs, sizeof *ts, cmp_double);
    *tmin = ts[0];
    *tmed = ts[runs / 2];
    free(ts);
}

// ---- backward kernels (training) ---------------------------------------------------------
#define BWD_REF_RUNS 2

struct bwd_shape {
    const char *name;
    int dw, N, H, W, C, OC, K, S, P; // square kernel K, stride S, padding P before and after
};
static const struct bwd_shape bwd_shapes[] = {
    {"conv3x3 s2 3->64 112x112 x16", 0, 16, 112, 112, 3, 64, 3, 2, 1},
    {"conv3x3 s2 64->64 56x56 x16", 0, 16, 56, 56, 64, 64, 3, 2, 1},
    {"1x1 64->128 28x28 x16", 0, 16, 28, 28, 64, 128, 1, 1, 0},
    {"1x1 128->64 28x28 x16", 0, 16, 28, 28, 128, 64, 1, 1, 0},
    {"FC 512->128 batch 16", 0, 16, 1, 1, 512, 128, 1, 1, 0},
    {"dw3x3 C=128 28x28 x16", 1, 16, 28, 28, 128, 128, 3, 1, 1},
    {"dw3x3 s2 C=64 56x56 x16", 1, 16, 56, 56, 64, 64, 3, 2, 1},
};

struct bwd_layer {
    struct nn_conv_bwd_args c;
    struct nn_dw_bwd_args d;
    float *scratch;
    size_t n[2]; // floats of the output of part 0 (dx) and part 1 (dw, db follows dw)
};

static void bwd_init(struct bwd_layer *l, const struct bwd_shape *s, const struct nn_kern *t,
                     const float *x, const float *w, const float *dy, float *out0, float *out1) {
    memset(l, 0, sizeof *l);
    int OH = out_dim(s->H, s->K, s->S, s->P), OW = out_dim(s->W, s->K, s->S, s->P);
    size_t nw = (size_t)(s->dw ? 1 : s->OC) * s->K * s->K * s->C;
    l->n[0] = (size_t)s->N * s->H * s->W * s->C, l->n[1] = nw + (size_t)s->OC;
    l->c = (struct nn_conv_bwd_args){.x = x, .N = s->N, .H = s->H, .W = s->W, .C = s->C, .w = w,
                                     .OC = s->OC, .KH = s->K, .KW = s->K, .SH = s->S, .SW = s->S,
                                     .PT = s->P, .PL = s->P, .OH = OH, .OW = OW, .dy = dy,
                                     .dx = out0, .dw = out1, .db = out1 + nw};
    l->d = (struct nn_dw_bwd_args){.x = x, .N = s->N, .H = s->H, .W = s->W, .C = s->C, .w = w,
                                   .KH = s->K, .KW = s->K, .SH = s->S, .SW = s->S, .PT = s->P,
                                   .PL = s->P, .OH = OH, .OW = OW, .dy = dy, .dx = out0,
                                   .dw = out1, .db = out1 + nw};
    l->scratch = falloc(s->dw ? 0 : 2 * t->conv_bwd_scratch(&l->c), 0, 0); // 2 threads
    l->c.scratch = l->scratch;
}

// one slice of part 0: bwd_data (dx), or part 1: bwd_filter (dw, db)
struct bwd_job {
    const struct bwd_layer *l;
    const struct bwd_shape *s;
    const struct nn_kern *t;
    int part, ith, nth;
};
static void *bwd_slice(void *p) {
    const struct bwd_job *j = p;
    if (j->s->dw) (j->part ? j->t->dwconv2d_bwd_filter : j->t->dwconv2d_bwd_data)(&j->l->d, j->ith, j->nth);
    else (j->part ? j->t->conv2d_bwd_filter : j->t->conv2d_bwd_data)(&j->l->c, j->ith, j->nth);
    return NULL;
}

// outputs cleared first; nth > 1: slices 1.. on threads started for the call (the
// start costs tens of microseconds, small against these layers)
static void bwd_run(const struct bwd_layer *l, const struct bwd_shape *s, const struct nn_kern *t,
                    int part, int nth) {
    memset(part ? l->c.dw : l->c.dx, 0, l->n[part] * sizeof(float));
    struct bwd_job j[2];
    pthread_t th;
    for (int i = 0; i < nth; i++) j[i] = (struct bwd_job){l, s, t, part, i, nth};
    int started = nth > 1 && pthread_create(&th, NULL, bwd_slice, &j[1]) == 0;
    bwd_slice(&j[0]);
    if (nth > 1 && !started) bwd_slice(&j[1]);
    if (started) pthread_join(th, NULL);
}

static double bwd_time(const struct bwd_layer *l, const struct bwd_shape *s,
                       const struct nn_kern *t, int part, int runs, int nth) {
    double best = 1e30;
    bwd_run(l, s, t, part, nth); // warm-up
    for (int i = 0; i < runs; i++) {
        double t0 = now_s();
        bwd_run(l, s, t, part, nth);
        double dt = now_s() - t0;
        best = dt < best ? dt : best;
    }
    return best;
}

static int bench_bwd(const struct nn_kern *ref, const struct nn_kern *fast, int runs) {
    printf("# backward: ms (min of %d ref runs / %d avx2 runs), GFLOP/s at min; ref and avx2"
           " on 1 thread, avx2x2 on 2 (verified bit-identical to 1)\n", BWD_REF_RUNS, runs);
    printf("%-30s %-6s %9s %8s | %9s %8s | %7s | %9s %8s\n", "shape", "kernel", "ref ms",
           "GFLOP/s", "avx2 ms", "GFLOP/s", "speedup", "avx2x2 ms", "GFLOP/s");
    int bad = 0;
    for (size_t i = 0; i < sizeof bwd_shapes / sizeof *bwd_shapes; i++) {
        const struct bwd_shape *s = &bwd_shapes[i];
        int OH = out_dim(s->H, s->K, s->S, s->P), OW = out_dim(s->W, s->K, s->S, s->P);
        size_t nx = (size_t)s->N * s->H * s->W * s->C, ny = (size_t)s->N * OH * OW * s->OC;
        size_t nw = (size_t)(s->dw ? 1 : s->OC) * s->K * s->K * s->C, no = nw + s->OC;
        float *x = falloc(nx, -1, 1), *w = falloc(nw, -1, 1), *dy = falloc(ny, -1, 1);
        float *r0 = falloc(nx, 0, 0), *r1 = falloc(no, 0, 0), *f0 = falloc(nx, 0, 0),
              *f1 = falloc(no, 0, 0);
        // multiply-adds per output pixel and output channel: K*K*C (conv), K*K (dw)
        double fl = 2.0 * ny * s->K * s->K * (s->dw ? 1 : s->C);
        struct bwd_layer lr, lf;
        bwd_init(&lr, s, ref, x, w, dy, r0, r1);
        if (fast) bwd_init(&lf, s, fast, x, w, dy, f0, f1);
        for (int part = 0; part < 2; part++) {
            double tr = bwd_time(&lr, s, ref, part, BWD_REF_RUNS, 1);
            printf("%-30s %-6s %9.2f %8.2f |", s->name, part ? "filter" : "data", tr * 1e3,
                   fl / tr * 1e-9);
            if (!fast) {
                printf("\n");
                continue;
            }
            double tf = bwd_time(&lf, s, fast, part, runs, 1);
            const float *a = part ? r1 : r0, *b = part ? f1 : f0;
            float *one = falloc(lr.n[part], 0, 0);
            memcpy(one, b, lr.n[part] * sizeof(float));
            double t2 = bwd_time(&lf, s, fast, part, runs, 2);
            int same = !memcmp(one, b, lr.n[part] * sizeof(float));
            fh_free_aligned(one);
            float mx = 0, md = 0;
            for (size_t j = 0; j < lr.n[part]; j++) {
                mx = fmaxf(mx, fabsf(a[j]));
                float d = fabsf(a[j] - b[j]);
                md = d > md || d != d ? d : md;
            }
            int ok = md <= TOL_REL * mx + TOL_ABS;
            bad |= !ok || !same;
            printf(" %9.2f %8.2f | %6.1fx | %9.2f %8.2f%s%s\n", tf * 1e3, fl / tf * 1e-9, tr / tf,
                   t2 * 1e3, fl / t2 * 1e-9, ok ? "" : "  VERIFY FAILED",
                   same ? "" : "  2 THREADS DIFFER");
        }
        fh_free_aligned(lr.scratch);
        if (fast) fh_free_aligned(lf.scratch);
        fh_free_aligned(x), fh_free_aligned(w), fh_free_aligned(dy), fh_free_aligned(r0);
        fh_free_aligned(r1), fh_free_aligned(f0), fh_free_aligned(f1);
    }
    return bad;
}

// ---- peaks: FMA-only (and vpdpbusd-only) loops, the roofline's ceiling -------------------
// 2 * 12 independent accumulators hide the latency; each loop iteration does 24 FMAs.
#define PEAK_ITERS 2000000
__attribute__((target("avx2,fma"))) static double peak_avx2(void) {
    __m256 a[12], b = _mm256_set1_ps(1.0000001f), c = _mm256_set1_ps(1e-7f);
    for (int i = 0; i < 12; i++) a[i] = _mm256_set1_ps((float)i);
    double t0 = now_s();
    for (int it = 0; it < PEAK_ITERS; it++)
#pragma GCC unroll 12
        for (int i = 0; i < 12; i++) a[i] = _mm256_fmadd_ps(a[i], b, c);
    double t = now_s() - t0;
    float sink = 0;
    for (int i = 0; i < 12; i++) sink += _mm256_cvtss_f32(a[i]);
    if (sink == 12345.0f) printf(" ");
    return 2.0 * 8 * 12 * PEAK_ITERS / t * 1e-9;
}
__attribute__((target("avx512f"))) static double peak_avx512(void) {
    __m512 a[12], b = _mm512_set1_ps(1.0000001f), c = _mm512_set1_ps(1e-7f);
    for (int i = 0; i < 12; i++) a[i] = _mm512_set1_ps((float)i);
    double t0 = now_s();
    for (int it = 0; it < PEAK_ITERS; it++)
#pragma GCC unroll 12
        for (int i = 0; i < 12; i++) a[i] = _mm512_fmadd_ps(a[i], b, c);
    double t = now_s() - t0;
    float sink = 0;
    for (int i = 0; i < 12; i++) sink += _mm512_reduce_add_ps(a[i]);
    if (sink == 12345.0f) printf(" ");
    return 2.0 * 16 * 12 * PEAK_ITERS / t * 1e-9;
}
// int8 ops (a multiply and an add each) per second of vpdpbusd on zmm: 64 MACs an instruction
__attribute__((target("avx512f,avx512vnni"))) static double peak_vnni(void) {
    __m512i a[12], b = _mm512_set1_epi8(1), c = _mm512_set1_epi8(2);
    for (int i = 0; i < 12; i++) a[i] = _mm512_set1_epi32(i);
    double t0 = now_s();
    for (int it = 0; it < PEAK_ITERS; it++)
#pragma GCC unroll 12
        for (int i = 0; i < 12; i++) a[i] = _mm512_dpbusd_epi32(a[i], b, c);
    double t = now_s() - t0;
    int sink = 0;
    for (int i = 0; i < 12; i++) sink += _mm512_reduce_add_epi32(a[i]);
    if (sink == 12345) printf(" ");
    return 2.0 * 64 * 12 * PEAK_ITERS / t * 1e-9;
}

// the int8 conv of a conv shape: random int8 weights, the layer's float input
struct qlayer {
    struct nn_qconv_args a;
    void *wp, *scratch;
    float *dq, *y;
    int8_t *wq;
};
static void qlayer_init(struct qlayer *q, const struct layer *l, const struct nn_kern *t) {
    const struct nn_conv_args *c = &l->conv;
    int K = c->KH * c->KW * c->C;
    q->wq = fh_malloc_aligned((size_t)c->OC * K);
    q->dq = falloc((size_t)c->OC, 1e-4f, 1e-3f);
    q->y = falloc(l->ny, 0, 0);
    if (!q->wq) exit(2);
    for (size_t i = 0; i < (size_t)c->OC * K; i++) q->wq[i] = (int8_t)(rng_uniform(-127, 127));
    q->wp = fh_malloc_aligned(t->qconv_pack_size(c->OC, K));
    if (!q->wp) exit(2);
    t->qconv_pack(c->OC, K, q->wq, q->wp);
    q->a = (struct nn_qconv_args){.x = c->x, .N = c->N, .H = c->H, .W = c->W, .C = c->C, .wp = q->wp, .dq = q->dq,
                                  .bias = c->bias, .xinv = 100.0f, .OC = c->OC, .KH = c->KH, .KW = c->KW,
                                  .SH = c->SH, .SW = c->SW, .PT = c->PT, .PL = c->PL, .OH = c->OH, .OW = c->OW,
                                  .act = c->act, .alpha = c->alpha, .y = q->y};
    q->scratch = fh_malloc_aligned(t->qconv_scratch(&q->a));
    if (!q->scratch) exit(2);
    q->a.scratch = q->scratch;
}
static void qlayer_free(struct qlayer *q) {
    fh_free_aligned(q->wq), fh_free_aligned(q->dq), fh_free_aligned(q->y), fh_free_aligned(q->wp),
        fh_free_aligned(q->scratch);
}
static double time_q(const struct qlayer *q, const struct nn_kern *t, int runs) {
    double *ts = malloc((size_t)runs * sizeof *ts);
    if (!ts) exit(2);
    for (int i = 0; i < WARMUP; i++) t->qconv2d(&q->a, 0, 1);
    for (int i = 0; i < runs; i++) {
        double t0 = now_s();
        t->qconv2d(&q->a, 0, 1);
        ts[i] = now_s() - t0;
    }
    qsort(ts, (size_t)runs, sizeof *ts, cmp_double);
    double m = ts[runs / 2];
    free(ts);
    return m;
}

int main(int argc, char **argv) {
    int runs = argc > 1 ? atoi(argv[1]) : RUNS_DEFAULT;
    if (runs < 1) runs = RUNS_DEFAULT;
    const struct nn_kern *ref = nn_kern_ref(), *fast = nn_kern_avx2();
    const struct nn_kern *wide = nn_kern_avx512(), *q8 = nn_kern_avx512vnni();
    if (!q8) q8 = wide ? wide : fast;
    if (argc > 2 && !strcmp(argv[2], "bwd")) return bench_bwd(ref, fast, runs);
    if (!fast) printf("# no AVX2+FMA table on this CPU/build: timing the reference only\n");
    if (!wide) printf("# this CPU (or build) has no AVX-512 F/BW/VL/DQ: the avx512 columns say n/a\n");
    size_t ns = sizeof shapes / sizeof *shapes;

    // 1. verify every shape (avx2 and avx512 against ref; the int8 kernels have their exact
    // test in tests/ops/test_kern_q8.c) before timing anything
    int bad = 0;
    const struct nn_kern *checks[2] = {fast, wide};
    for (size_t i = 0; fast && i < ns; i++)
        for (int v = 0; v < 2; v++) {
            const struct nn_kern *t = checks[v];
            if (!t) continue;
            const struct shape *s = &shapes[i];
            struct inputs in = {falloc((size_t)s->N * s->H * s->W * s->C, -1, 1),
                                falloc((size_t)s->OC * s->KH * s->KW * s->C, -1, 1),
                                falloc((size_t)s->OC, -1, 1), falloc((size_t)s->OC, 0, 0.5f)};
            struct layer lr, lf;
            layer_init(&lr, s, &in, ref);
            layer_init(&lf, s, &in, t);
            layer_run(&lr, s, ref);
            layer_run(&lf, s, t);
            float mx = 0, md = 0;
            for (size_t j = 0; j < lr.ny; j++) {
                mx = fmaxf(mx, fabsf(lr.y[j]));
                float d = fabsf(lr.y[j] - lf.y[j]);
                md = d > md || d != d ? d : md;
            }
            if (!(md <= TOL_REL * mx + TOL_ABS)) {
                printf("VERIFY FAILED: %s: max |%s-ref| = %g, max |ref| = %g\n", s->name, t->name, md, mx);
                bad = 1;
            }
            layer_free(&lr), layer_free(&lf);
            fh_free_aligned(in.x), fh_free_aligned(in.w), fh_free_aligned(in.bias),
                fh_free_aligned(in.alpha);
        }
    if (bad) return 1;
    if (fast) printf("# verified avx2%s against ref on all %zu shapes\n", wide ? " and avx512" : "", ns);

    // 2. the ceilings
    double p2 = fast ? peak_avx2() : 0, p5 = wide ? peak_avx512() : 0;
    double pq = nn_kern_avx512vnni() ? peak_vnni() : 0;
    printf("# peak, 1 core (FMA-only loops): avx2 %.1f GFLOP/s, avx512 %.1f GFLOP/s, "
           "vpdpbusd %.1f int8 GOP/s (0: not on this CPU)\n", p2, p5, pq);
    double peak_f = p5 > 0 ? p5 : p2, peak_q = pq > 0 ? pq : peak_f;

    // 3. time: medians; GFLOP/s (int8: GOP/s) at the median; %% of the best table's peak
    printf("# 1 thread, %d runs after %d warm-up; ms = median; G/s at the median; %%pk = of the peak above\n",
           runs, WARMUP);
    printf("%-30s %8s | %8s %6s | %8s %6s %5s | %8s %6s %5s | %6s\n", "shape", "ref ms", "avx2 ms", "G/s",
           "avx512", "G/s", "%pk", "int8 ms", "GOP/s", "%pk", "best x");
    for (size_t i = 0; i < ns; i++) {
        const struct shape *s = &shapes[i];
        struct inputs in = {falloc((size_t)s->N * s->H * s->W * s->C, -1, 1),
                            falloc((size_t)s->OC * s->KH * s->KW * s->C, -1, 1),
                            falloc((size_t)s->OC, -1, 1), falloc((size_t)s->OC, 0, 0.5f)};
        struct layer lr, lf;
        double rmin, rmed, t2 = 0, t5 = 0, tq = 0, dummy;
        layer_init(&lr, s, &in, ref);
        time_layer(&lr, s, ref, runs, &rmin, &rmed);
        double fl = layer_flops(&lr, s);
        if (fast) {
            layer_init(&lf, s, &in, fast);
            time_layer(&lf, s, fast, runs, &dummy, &t2);
            layer_free(&lf);
        }
        if (wide) {
            layer_init(&lf, s, &in, wide);
            time_layer(&lf, s, wide, runs, &dummy, &t5);
            if (s->kind == K_CONV && q8) {
                struct qlayer q;
                qlayer_init(&q, &lf, q8);
                tq = time_q(&q, q8, runs);
                qlayer_free(&q);
            }
            layer_free(&lf);
        }
        double best = rmed;
        if (t2 > 0 && t2 < best) best = t2;
        if (t5 > 0 && t5 < best) best = t5;
        if (tq > 0 && tq < best) best = tq;
        printf("%-30s %8.3f | %8.3f %6.1f |", s->name, rmed * 1e3, t2 * 1e3, t2 > 0 ? fl / t2 * 1e-9 : 0);
        if (t5 > 0) printf(" %8.3f %6.1f %4.0f%% |", t5 * 1e3, fl / t5 * 1e-9, 100 * fl / t5 * 1e-9 / peak_f);
        else printf(" %8s %6s %5s |", "n/a", "", "");
        if (tq > 0) printf(" %8.3f %6.1f %4.0f%% |", tq * 1e3, fl / tq * 1e-9, 100 * fl / tq * 1e-9 / peak_q);
        else printf(" %8s %6s %5s |", "-", "", "");
        printf(" %5.0fx\n", rmed / best);
        layer_free(&lr);
        fh_free_aligned(in.x), fh_free_aligned(in.w), fh_free_aligned(in.bias),
            fh_free_aligned(in.alpha);
    }
    return bench_bwd(ref, fast, runs);
}
