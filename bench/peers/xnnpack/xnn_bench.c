// SPDX-License-Identifier: MIT
// xnn_bench: facehatch's nets side by side with native XNNPACK (Debian libxnnpack-dev
// 0.0~git20220216, its subgraph API, f32) for bench/peers (`make bench-peers`; ONLY=native).
//
// Each net is read by facehatch's own TFLite loader (nn_net_load_tflite, default options:
// composite PReLU and softmax fused, PReLU/ReLU folded into the convs), and the very same
// fused node list is rebuilt with XNNPACK's subgraph API over the very same weight arrays
// (no copy, no re-derivation): CONV_2D -> convolution_2d (filters are OHWI in both),
// DEPTHWISE_CONV_2D -> depthwise_convolution_2d ([1,KH,KW,C] in both), a fused ReLU -> the
// node's output_min 0, a fused PReLU -> prelu over the conv's output with the slopes
// facehatch multiplied by alpha_scale (MobileFaceNet stores alpha/2), FULLY_CONNECTED ->
// fully_connected, MAX_POOL_2D -> max_pooling_2d, ADD/SUB/MUL/DIV -> the binary ops,
// SOFTMAX -> softmax (last axis), FLATTEN/RESHAPE -> static_reshape. TensorFlow SAME padding
// is given to XNNPACK as explicit pads (before = total/2, extra after), computed with the
// engine's own nn_conv_out; every output shape is checked against facehatch's session plan.
//
// Cases (real inputs, NHWC float, the goldens' (u8 - 127.5) / 128):
//   mfn_b1, mfn_b16     MobileFaceNet on ArcFace-aligned faces 0 / 0..15 of
//                       GOLDEN/tflite/mfn_faces112.u8 (per = faces per run)
//   pnet_576x384        P-Net on sample1 resized to 576x384 (level 0 of the pyramid at min
//                       face 40), transposed as the MTCNN feeds it: input [1, 576, 384, 3]
//   pnet_320x240        the same photo resized to 320x240: input [1, 320, 240, 3]
// First every output is checked: facehatch at 1 thread is the reference; XNNPACK at 1 and 2
// threads and facehatch at 2 threads must agree with it to max|diff| <= tol * max|ref|
// (--tol, default 1e-4); MobileFaceNet's distance to the golden embeddings (TFLite wasm) is
// printed too. Any mismatch exits 1 before anything is timed. Then, per case and thread count, facehatch's
// nn_session_run and XNNPACK's xnn_invoke_runtime are timed, 2 warm-ups, median of --runs runs:
// at 1 thread interleaved run by run, at 2 threads one engine after the other (time_case).
// Threads: facehatch a pool of 2 (NULL for 1), XNNPACK a pthreadpool of 2 (NULL for 1).
// --export DIR writes what the ONNX Runtime peer needs (onnx_from_facehatch.py,
// ort_native_bench.js): DIR/<net>.graph.json + DIR/<net>.weights.f32 (the fused graph and
// its constants, NHWC, as facehatch holds them), DIR/<case>.in.f32, DIR/<case>.out<k>.f32
// (facehatch's outputs) and DIR/cases.txt (one line per case).
//
//   xnn_bench [--models models] [--golden ../shared/golden] [--runs 9] [--tol 1e-4] [--export DIR]
//
// stdout, one record per line, `type key=value ...` (bench/peers/report.py parses it):
//   net name=mfn nodes=65 xnn_nodes=.. kernels=avx2
//   check case=mfn_b1 engine=xnnpack threads=1 out=0 n=192 max_abs=.. max_ref=.. rel=.. cos_min=.. status=ok
//   golden case=mfn_b1 engine=facehatch max_abs=.. max_ref=.. cos_min=..
//   time case=mfn_b1 threads=1 per=1 runs=9 facehatch_ms=.. xnnpack_ms=..   (per run, not per face)
//   time case=mfn_b1_int8 ... cos_min=..   facehatch's int8 MobileFaceNet vs the same f32 XNNPACK
// Exit: 0 ok, 1 a failure or a mismatch (named on stderr), 2 usage.
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pthreadpool.h>
#include <xnnpack.h>

#include "base/base.h"
#include "base/pool.h"
#include "img/img.h"
#include "nn/nn.h"
#include "pipeline/int8_calib.h" // the int8 scales --precision int8 uses
#include "nn/nn_int.h" // read-only: the fused node list, the weights, a session's planned shapes

#include "../../bench_time.h"

#define MAX_RUNS 101
#define WARM 2
#define N_FACES 19   // faces in mfn_faces112.u8
#define MAX_CASES 8
#define N_THREADS 2  // thread counts 1 .. N_THREADS

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("xnn_bench: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return -1;
}

static const char *xnn_status_name(enum xnn_status st) {
    switch (st) {
    case xnn_status_success: return "success";
    case xnn_status_uninitialized: return "uninitialized";
    case xnn_status_invalid_parameter: return "invalid parameter";
    case xnn_status_invalid_state: return "invalid state";
    case xnn_status_unsupported_parameter: return "unsupported parameter";
    case xnn_status_unsupported_hardware: return "unsupported hardware";
    case xnn_status_out_of_memory: return "out of memory";
    }
    return "unknown status";
}

// 0 if st is success, else -1 with a message naming what failed
static int xcheck(enum xnn_status st, const char *what, int node) {
    if (st == xnn_status_success) return 0;
    return fail("XNNPACK %s (facehatch node %d): %s", what, node, xnn_status_name(st));
}

// ---- files ---------------------------------------------------------------------------------
// reads exactly n bytes of path into a fresh buffer (caller frees)
static void *read_exact(const char *path, size_t n) {
    FILE *f = fopen(path, "rb");
    if (!f) return fail("%s: %s", path, strerror(errno)), NULL;
    void *buf = malloc(n ? n : 1);
    int extra = 0;
    size_t got = buf ? fread(buf, 1, n, f) : 0;
    if (buf && got == n) extra = fgetc(f) != EOF;
    fclose(f);
    if (!buf) return fail("out of memory"), NULL;
    if (got != n || extra) {
        free(buf);
        return fail("%s: expected exactly %zu bytes", path, n), NULL;
    }
    return buf;
}

static int write_all(const char *path, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) return fail("%s: %s", path, strerror(errno));
    size_t put = fwrite(data, 1, n, f);
    if (fclose(f) || put != n) return fail("%s: write failed", path);
    return 0;
}

// ---- cases -----------------------------------------------------------------------------------
struct bcase {
    char name[32];             // "mfn_b1"
    const char *net_name;      // "mfn" / "pnet"
    const struct nn_net *net;  // borrowed
    int dims[4];               // input, NHWC
    int per;                   // items (faces) per run
    float *x;                  // input (owned)
    const float *golden;       // rows of golden outputs for output 0, or NULL (borrowed)
    int n_out;
    float *ref[8];             // facehatch 1-thread outputs (owned)
    struct nn_shape oshape[8];
    struct nn_shape *shapes;   // every value's shape as facehatch plans it (owned)
};

static size_t dims_count(const int *d) { return (size_t)d[0] * d[1] * d[2] * d[3]; }

static void case_free(struct bcase *c) {
    free(c->x);
    for (int i = 0; i < c->n_out; i++) free(c->ref[i]);
    free(c->shapes);
    memset(c, 0, sizeof *c);
}

// facehatch at 1 thread: the reference outputs and the planned shape of every value
static int case_prepare(struct bcase *c) {
    struct nn_session *s;
    if (nn_session_new(c->net, NULL, &s)) return fail("%s: %s", c->name, fh_errmsg());
    int rc = 0;
    if (nn_session_reshape(s, c->dims, 4)) {
        rc = fail("%s: facehatch: %s", c->name, fh_errmsg());
        goto out;
    }
    memcpy(nn_session_input(s, 0), c->x, dims_count(c->dims) * sizeof(float));
    if (nn_session_run(s)) {
        rc = fail("%s: facehatch: %s", c->name, fh_errmsg());
        goto out;
    }
    c->n_out = 0;
    for (int i = 0; i < nn_net_n_outputs(c->net) && !rc; i++) {
        struct nn_shape *os = &c->oshape[i];
        const float *y = nn_session_output(s, i, os->d, &os->rank);
        size_t n = nn_shape_count(os);
        if (!(c->ref[i] = malloc(n * sizeof(float)))) rc = fail("out of memory");
        else memcpy(c->ref[i], y, n * sizeof(float)), c->n_out++;
    }
    int nv = c->net->n_values;
    if (!rc && !(c->shapes = malloc((size_t)nv * sizeof *c->shapes))) rc = fail("out of memory");
    for (int v = 0; !rc && v < nv; v++) c->shapes[v] = s->slots[v].shape;
out:
    nn_session_free(s);
    return rc;
}

// (u8 - 127.5) / 128
static float px(uint8_t v) { return ((float)v - 127.5f) / 128.0f; }

static int case_mfn(struct bcase *c, const struct nn_net *net, const uint8_t *faces, const float *golden, int n) {
    snprintf(c->name, sizeof c->name, "mfn_b%d", n);
    c->net_name = "mfn", c->net = net, c->per = n, c->golden = golden;
    c->dims[0] = n, c->dims[1] = 112, c->dims[2] = 112, c->dims[3] = 3;
    size_t count = dims_count(c->dims);
    if (!(c->x = malloc(count * sizeof(float)))) return fail("out of memory");
    for (size_t i = 0; i < count; i++) c->x[i] = px(faces[i]);
    return case_prepare(c);
}

// P-Net on the photo resized to w x h, transposed: input [1][x][y][c] = image[y][x][c]
static int case_pnet(struct bcase *c, const struct nn_net *net, const struct img *photo, int w, int h) {
    snprintf(c->name, sizeof c->name, "pnet_%dx%d", w, h);
    c->net_name = "pnet", c->net = net, c->per = 1;
    c->dims[0] = 1, c->dims[1] = w, c->dims[2] = h, c->dims[3] = 3;
    struct img small;
    if (img_alloc(&small, w, h, 3)) return fail("%s: %s", c->name, fh_errmsg());
    img_resize_region(photo, 0, 0, photo->w, photo->h, &small);
    if (!(c->x = malloc(dims_count(c->dims) * sizeof(float)))) {
        img_free(&small);
        return fail("out of memory");
    }
    for (int x = 0; x < w; x++)
        for (int y = 0; y < h; y++)
            for (int k = 0; k < 3; k++) c->x[((size_t)x * h + y) * 3 + k] = px(small.data[(size_t)y * small.stride + (size_t)x * 3 + k]);
    img_free(&small);
    return case_prepare(c);
}

// ---- comparison ---------------------------------------------------------------------------------
struct diff {
    double max_abs, max_ref, cos_min;
    int finite;
};

// ref vs got over n floats in `rows` equal rows (cosine per row)
static struct diff diff_of(const float *ref, const float *got, size_t n, int rows) {
    struct diff d = {0, 0, 1, 1};
    size_t m = n / (size_t)rows;
    for (int r = 0; r < rows; r++) {
        double dot = 0, na = 0, nb = 0;
        for (size_t i = (size_t)r * m; i < (size_t)(r + 1) * m; i++) {
            double a = ref[i], b = got[i];
            if (!isfinite(b)) d.finite = 0;
            if (fabs(a - b) > d.max_abs) d.max_abs = fabs(a - b);
            if (fabs(a) > d.max_ref) d.max_ref = fabs(a);
            dot += a * b, na += a * a, nb += b * b;
        }
        double cs = na > 0 && nb > 0 ? dot / sqrt(na * nb) : 1;
        if (cs < d.cos_min) d.cos_min = cs;
    }
    return d;
}

// prints one check line; -1 (and a message) when got is not equal to the reference within tol
static int check(const struct bcase *c, const char *engine, int threads, int o, const float *got, double tol) {
    size_t n = nn_shape_count(&c->oshape[o]);
    struct diff d = diff_of(c->ref[o], got, n, c->dims[0]);
    double rel = d.max_ref > 0 ? d.max_abs / d.max_ref : d.max_abs;
    int ok = d.finite && rel <= tol;
    printf("check case=%s engine=%s threads=%d out=%d n=%zu max_abs=%.3g max_ref=%.4g rel=%.3g cos_min=%.9f status=%s\n",
           c->name, engine, threads, o, n, d.max_abs, d.max_ref, rel, d.cos_min, ok ? "ok" : "MISMATCH");
    fflush(stdout);
    if (!ok)
        return fail("%s: %s at %d thread(s), output %d differs from facehatch's: max |diff| %.3g, max |ref| %.4g "
                    "(relative %.3g > tol %.3g)%s", c->name, engine, threads, o, d.max_abs, d.max_ref, rel, tol,
                    d.finite ? "" : ", non-finite values");
    return 0;
}

// output 0 against the golden embeddings (same rows)
static void golden_line(const struct bcase *c, const char *engine, const float *got) {
    if (!c->golden) return;
    struct diff d = diff_of(c->golden, got, nn_shape_count(&c->oshape[0]), c->dims[0]);
    printf("golden case=%s engine=%s max_abs=%.3g max_ref=%.4g cos_min=%.9f\n", c->name, engine, d.max_abs, d.max_ref,
           d.cos_min);
}

// ---- the XNNPACK graph ------------------------------------------------------------------------------
struct xnn {
    xnn_subgraph_t sg;
    xnn_runtime_t rt;
    pthreadpool_t tp;
    uint32_t *id;           // per facehatch value: XNNPACK value id, or XNN_INVALID_VALUE_ID
    int n_nodes;            // XNNPACK nodes defined
    float *in, *out[8];     // external buffers (XNN_EXTRA_BYTES of slack)
    const struct bcase *c;  // borrowed
};

static void xnn_done(struct xnn *x) {
    if (x->rt) xnn_delete_runtime(x->rt);
    if (x->sg) xnn_delete_subgraph(x->sg);
    if (x->tp) pthreadpool_destroy(x->tp);
    free(x->id);
    free(x->in);
    for (int i = 0; i < 8; i++) free(x->out[i]);
    memset(x, 0, sizeof *x);
}

static void to_dims(const struct nn_shape *s, size_t *d) {
    for (int i = 0; i < s->rank; i++) d[i] = (size_t)s->d[i];
}

// a static f32 tensor over facehatch's own array (borrowed: the net outlives the runtime)
static int define_const(struct xnn *x, const float *data, const struct nn_shape *s, uint32_t *id, int node) {
    size_t d[FH_MAX_DIMS];
    to_dims(s, d);
    return xcheck(xnn_define_tensor_value(x->sg, xnn_datatype_fp32, (size_t)s->rank, d, data, XNN_INVALID_VALUE_ID, 0, id),
                  "define constant", node);
}

// XNNPACK id of the value node `node` reads: constants are defined on first use
static int input_id(struct xnn *x, int v, uint32_t *id, int node) {
    const struct nn_net *net = x->c->net;
    if (v < 0 || v >= net->n_values) return fail("%s: node %d reads value %d", x->c->name, node, v);
    if (x->id[v] == XNN_INVALID_VALUE_ID) {
        const struct nn_value *val = &net->values[v];
        if (!val->data || val->dtype != NN_F32)
            return fail("%s: node %d reads value %d (%s) before it is computed", x->c->name, node, v, val->name);
        if (define_const(x, val->data, &val->shape, &x->id[v], node)) return -1;
    }
    *id = x->id[v];
    return 0;
}

// an activation tensor of shape s: the net's output k gets external id 1 + k
static int define_act(struct xnn *x, const struct nn_shape *s, int v, uint32_t *id, int node) {
    const struct nn_net *net = x->c->net;
    uint32_t ext = XNN_INVALID_VALUE_ID, flags = 0;
    for (int k = 0; v >= 0 && k < net->n_outputs; k++)
        if (net->outputs[k] == v) ext = 1 + (uint32_t)k, flags = XNN_VALUE_FLAG_EXTERNAL_OUTPUT;
    size_t d[FH_MAX_DIMS];
    to_dims(s, d);
    if (xcheck(xnn_define_tensor_value(x->sg, xnn_datatype_fp32, (size_t)s->rank, d, NULL, ext, flags, id),
               "define tensor", node))
        return -1;
    if (v >= 0) x->id[v] = *id;
    return 0;
}

// padding of one axis: facehatch's rule (nn_conv_out: TensorFlow SAME puts the extra
// padding after; or the node's explicit pads), as the explicit pads XNNPACK takes
static int axis_pads(const struct nn_params *p, int in, int k, int s, int d, int pb, int pa, int *out, int *before,
                     int *after) {
    int ke = (k - 1) * d + 1;
    if (p->same == NN_PAD_EXPLICIT) {
        if (in + pb + pa < ke || s < 1) return -1;
        *before = pb, *after = pa, *out = (in + pb + pa - ke) / s + 1;
        return 0;
    }
    if (nn_conv_out(in, ke, s, p->same, out, before)) return -1;
    *after = (*out - 1) * s + ke - in - *before;
    if (*after < 0) *after = 0;
    return 0;
}

static int shape_is(const struct nn_shape *s, int n, int h, int w, int c) {
    return s->rank == 4 && s->d[0] == n && s->d[1] == h && s->d[2] == w && s->d[3] == c;
}

// the output of node i, through a fused PReLU when the node has one
static int conv_like_out(struct xnn *x, const struct nn_node *nd, int i, const struct nn_shape *ys, uint32_t *conv_out,
                         float *lo) {
    *lo = nd->p.act == NN_ACT_RELU ? 0.0f : -INFINITY;
    if (nd->p.act != NN_ACT_PRELU) return define_act(x, ys, nd->out, conv_out, i);
    return define_act(x, ys, -1, conv_out, i); // internal; the PReLU writes the node's value
}

static int emit_prelu(struct xnn *x, const struct nn_node *nd, int i, uint32_t in, const struct nn_shape *ys) {
    int C = ys->d[ys->rank - 1];
    if (ys->rank != 4) return fail("%s: node %d: XNNPACK's PReLU takes 4-D tensors only", x->c->name, i);
    if (!nd->alpha || nd->n_alpha != C) return fail("%s: node %d: %d PReLU slopes for %d channels", x->c->name, i, nd->n_alpha, C);
    struct nn_shape as = {1, {C}};
    uint32_t slope, y;
    if (define_const(x, nd->alpha, &as, &slope, i) || define_act(x, ys, nd->out, &y, i)) return -1;
    x->n_nodes++;
    return xcheck(xnn_define_prelu(x->sg, in, slope, y, 0), "define prelu", i);
}

static int emit_conv(struct xnn *x, const struct nn_node *nd, int i) {
    const struct nn_net *net = x->c->net;
    const struct nn_shape *sh = x->c->shapes, *xs = &sh[nd->in[0]], *ys = &sh[nd->out];
    const struct nn_shape *ws = &net->values[nd->in[1]].shape;
    int dw = nd->op == NN_OP_DWCONV2D;
    if (xs->rank != 4 || ws->rank != 4) return fail("%s: node %d: conv needs 4-D input and filter", x->c->name, i);
    int N = xs->d[0], H = xs->d[1], W = xs->d[2], C = xs->d[3], KH = ws->d[1], KW = ws->d[2];
    int OC = dw ? ws->d[3] : ws->d[0];
    int DH = nd->p.DH > 1 ? nd->p.DH : 1, DW = nd->p.DW > 1 ? nd->p.DW : 1;
    int OH, OW, pt, pb, pl, pr;
    if (axis_pads(&nd->p, H, KH, nd->p.SH, DH, nd->p.PT, nd->p.PB, &OH, &pt, &pb) ||
        axis_pads(&nd->p, W, KW, nd->p.SW, DW, nd->p.PL, nd->p.PR, &OW, &pl, &pr) || !shape_is(ys, N, OH, OW, OC) ||
        (dw && OC != C))
        return fail("%s: node %d (%s): geometry disagrees with facehatch's plan", x->c->name, i, nn_op_name(nd->op));
    uint32_t xi, wi, bi = XNN_INVALID_VALUE_ID, yi;
    float lo;
    if (input_id(x, nd->in[0], &xi, i) || input_id(x, nd->in[1], &wi, i) ||
        (nd->n_in > 2 && nd->in[2] >= 0 && input_id(x, nd->in[2], &bi, i)) || conv_like_out(x, nd, i, ys, &yi, &lo))
        return -1;
    enum xnn_status st;
    if (dw)
        st = xnn_define_depthwise_convolution_2d(x->sg, (uint32_t)pt, (uint32_t)pr, (uint32_t)pb, (uint32_t)pl,
                                                 (uint32_t)KH, (uint32_t)KW, (uint32_t)nd->p.SH, (uint32_t)nd->p.SW,
                                                 (uint32_t)DH, (uint32_t)DW, 1, (size_t)C, lo, INFINITY, xi, wi, bi, yi, 0);
    else
        st = xnn_define_convolution_2d(x->sg, (uint32_t)pt, (uint32_t)pr, (uint32_t)pb, (uint32_t)pl, (uint32_t)KH,
                                       (uint32_t)KW, (uint32_t)nd->p.SH, (uint32_t)nd->p.SW, (uint32_t)DH, (uint32_t)DW, 1,
                                       (size_t)C, (size_t)OC, lo, INFINITY, xi, wi, bi, yi, 0);
    x->n_nodes++;
    if (xcheck(st, dw ? "define depthwise_convolution_2d" : "define convolution_2d", i)) return -1;
    return nd->p.act == NN_ACT_PRELU ? emit_prelu(x, nd, i, yi, ys) : 0;
}

static int emit_fc(struct xnn *x, const struct nn_node *nd, int i) {
    const struct nn_net *net = x->c->net;
    const struct nn_shape *xs = &x->c->shapes[nd->in[0]], *ys = &x->c->shapes[nd->out];
    const struct nn_shape *ws = &net->values[nd->in[1]].shape;
    if (ws->rank != 2 || nd->p.act == NN_ACT_PRELU) return fail("%s: node %d: FC with PReLU or non-2-D weights", x->c->name, i);
    int N = xs->d[0], K = ws->d[1], OC = ws->d[0];
    if (nn_shape_count(xs) != (size_t)N * K || nn_shape_count(ys) != (size_t)N * OC)
        return fail("%s: node %d (FC): shapes disagree with facehatch's plan", x->c->name, i);
    uint32_t xi, wi, bi = XNN_INVALID_VALUE_ID, yi;
    if (input_id(x, nd->in[0], &xi, i) || input_id(x, nd->in[1], &wi, i) ||
        (nd->n_in > 2 && nd->in[2] >= 0 && input_id(x, nd->in[2], &bi, i)))
        return -1;
    struct nn_shape s2 = {2, {N, K}}, o2 = {2, {N, OC}};
    if (xs->rank != 2) { // flatten each image first (facehatch's FC reads x[n] as one row)
        uint32_t r;
        size_t d[2] = {(size_t)N, (size_t)K};
        if (define_act(x, &s2, -1, &r, i) || xcheck(xnn_define_static_reshape(x->sg, 2, d, xi, r, 0), "define reshape", i))
            return -1;
        x->n_nodes++, xi = r;
    }
    int direct = ys->rank == 2;
    if (define_act(x, direct ? ys : &o2, direct ? nd->out : -1, &yi, i)) return -1;
    x->n_nodes++;
    if (xcheck(xnn_define_fully_connected(x->sg, nd->p.act == NN_ACT_RELU ? 0.0f : -INFINITY, INFINITY, xi, wi, bi, yi, 0),
               "define fully_connected", i))
        return -1;
    if (direct) return 0;
    uint32_t y;
    size_t d[FH_MAX_DIMS];
    to_dims(ys, d);
    x->n_nodes++;
    return define_act(x, ys, nd->out, &y, i) ||
           xcheck(xnn_define_static_reshape(x->sg, (size_t)ys->rank, d, yi, y, 0), "define reshape", i);
}

static int emit_maxpool(struct xnn *x, const struct nn_node *nd, int i) {
    const struct nn_shape *xs = &x->c->shapes[nd->in[0]], *ys = &x->c->shapes[nd->out];
    int OH, OW, pt, pb, pl, pr;
    if (xs->rank != 4 || axis_pads(&nd->p, xs->d[1], nd->p.KH, nd->p.SH, 1, nd->p.PT, nd->p.PB, &OH, &pt, &pb) ||
        axis_pads(&nd->p, xs->d[2], nd->p.KW, nd->p.SW, 1, nd->p.PL, nd->p.PR, &OW, &pl, &pr) ||
        !shape_is(ys, xs->d[0], OH, OW, xs->d[3]))
        return fail("%s: node %d (MAX_POOL_2D): geometry disagrees with facehatch's plan", x->c->name, i);
    uint32_t xi, yi;
    if (input_id(x, nd->in[0], &xi, i) || define_act(x, ys, nd->out, &yi, i)) return -1;
    x->n_nodes++;
    return xcheck(xnn_define_max_pooling_2d(x->sg, (uint32_t)pt, (uint32_t)pr, (uint32_t)pb, (uint32_t)pl,
                                            (uint32_t)nd->p.KH, (uint32_t)nd->p.KW, (uint32_t)nd->p.SH, (uint32_t)nd->p.SW,
                                            1, 1, -INFINITY, INFINITY, xi, yi, 0),
                  "define max_pooling_2d", i);
}

static int emit_node(struct xnn *x, const struct nn_node *nd, int i) {
    const struct nn_shape *ys = &x->c->shapes[nd->out];
    uint32_t a, b, y;
    enum xnn_status st;
    switch (nd->op) {
    case NN_OP_CONV2D:
    case NN_OP_DWCONV2D: return emit_conv(x, nd, i);
    case NN_OP_FC: return emit_fc(x, nd, i);
    case NN_OP_MAXPOOL2D: return emit_maxpool(x, nd, i);
    case NN_OP_PRELU:
        return input_id(x, nd->in[0], &a, i) || emit_prelu(x, nd, i, a, ys);
    case NN_OP_ADD: case NN_OP_SUB: case NN_OP_MUL: case NN_OP_DIV:
        if (input_id(x, nd->in[0], &a, i) || input_id(x, nd->in[1], &b, i) || define_act(x, ys, nd->out, &y, i)) return -1;
        st = nd->op == NN_OP_ADD ? xnn_define_add2(x->sg, -INFINITY, INFINITY, a, b, y, 0)
           : nd->op == NN_OP_SUB ? xnn_define_subtract(x->sg, -INFINITY, INFINITY, a, b, y, 0)
           : nd->op == NN_OP_MUL ? xnn_define_multiply2(x->sg, -INFINITY, INFINITY, a, b, y, 0)
                                 : xnn_define_divide(x->sg, -INFINITY, INFINITY, a, b, y, 0);
        break;
    case NN_OP_RELU: case NN_OP_NEG: case NN_OP_ABS: case NN_OP_SOFTMAX:
        if (input_id(x, nd->in[0], &a, i) || define_act(x, ys, nd->out, &y, i)) return -1;
        st = nd->op == NN_OP_RELU ? xnn_define_clamp(x->sg, 0.0f, INFINITY, a, y, 0)
           : nd->op == NN_OP_NEG  ? xnn_define_negate(x->sg, a, y, 0)
           : nd->op == NN_OP_ABS  ? xnn_define_abs(x->sg, a, y, 0)
                                  : xnn_define_softmax(x->sg, a, y, 0); // last axis, as facehatch's
        break;
    case NN_OP_FLATTEN:
    case NN_OP_RESHAPE: {
        size_t d[FH_MAX_DIMS];
        to_dims(ys, d);
        if (input_id(x, nd->in[0], &a, i) || define_act(x, ys, nd->out, &y, i)) return -1;
        st = xnn_define_static_reshape(x->sg, (size_t)ys->rank, d, a, y, 0);
        break;
    }
    default:
        return fail("%s: node %d: no XNNPACK mapping for facehatch op %s", x->c->name, i, nn_op_name(nd->op));
    }
    x->n_nodes++;
    return xcheck(st, nn_op_name(nd->op), i);
}

// builds case c's graph in XNNPACK, a runtime on `threads` threads, and its external buffers
// (input filled); x is cleared first and must be released with xnn_done either way
static int xnn_build(struct xnn *x, const struct bcase *c, int threads) {
    const struct nn_net *net = c->net;
    memset(x, 0, sizeof *x);
    x->c = c;
    if (net->n_inputs != 1 || net->n_outputs > 8) return fail("%s: need 1 input and at most 8 outputs", c->name);
    if (!(x->id = malloc((size_t)net->n_values * sizeof *x->id))) return fail("out of memory");
    for (int v = 0; v < net->n_values; v++) x->id[v] = XNN_INVALID_VALUE_ID;
    if (xcheck(xnn_create_subgraph(1 + (uint32_t)net->n_outputs, 0, &x->sg), "create subgraph", -1)) return -1;
    size_t d[4] = {(size_t)c->dims[0], (size_t)c->dims[1], (size_t)c->dims[2], (size_t)c->dims[3]};
    if (xcheck(xnn_define_tensor_value(x->sg, xnn_datatype_fp32, 4, d, NULL, 0, XNN_VALUE_FLAG_EXTERNAL_INPUT,
                                       &x->id[net->inputs[0]]),
               "define input", -1))
        return -1;
    for (int i = 0; i < net->n_nodes; i++)
        if (emit_node(x, &net->nodes[i], i)) return -1;
    for (int k = 0; k < net->n_outputs; k++)
        if (x->id[net->outputs[k]] != 1 + (uint32_t)k) return fail("%s: output %d is never computed", c->name, k);
    if (threads > 1 && !(x->tp = pthreadpool_create((size_t)threads))) return fail("pthreadpool_create(%d) failed", threads);
    if (xcheck(xnn_create_runtime_v2(x->sg, x->tp, 0, &x->rt), "create runtime", -1)) return -1;
    struct xnn_external_value ext[9];
    size_t nin = dims_count(c->dims);
    if (!(x->in = malloc(nin * sizeof(float) + XNN_EXTRA_BYTES))) return fail("out of memory");
    memcpy(x->in, c->x, nin * sizeof(float));
    ext[0] = (struct xnn_external_value){0, x->in};
    for (int k = 0; k < c->n_out; k++) {
        if (!(x->out[k] = malloc(nn_shape_count(&c->oshape[k]) * sizeof(float) + XNN_EXTRA_BYTES)))
            return fail("out of memory");
        ext[1 + k] = (struct xnn_external_value){1 + (uint32_t)k, x->out[k]};
    }
    return xcheck(xnn_setup_runtime(x->rt, 1 + (size_t)c->n_out, ext), "setup runtime", -1);
}

// ---- facehatch sessions ------------------------------------------------------------------------------
static int fh_open(const struct bcase *c, struct fh_pool *pool, struct nn_session **out) {
    if (nn_session_new(c->net, pool, out)) return fail("%s: %s", c->name, fh_errmsg());
    if (nn_session_reshape(*out, c->dims, 4)) {
        nn_session_free(*out), *out = NULL;
        return fail("%s: %s", c->name, fh_errmsg());
    }
    memcpy(nn_session_input(*out, 0), c->x, dims_count(c->dims) * sizeof(float));
    return 0;
}

// ---- graph export for the ONNX peer --------------------------------------------------------------------
static void put_shape(FILE *f, const struct nn_shape *s) {
    fputc('[', f);
    for (int i = 0; i < s->rank; i++) fprintf(f, "%s%d", i ? "," : "", s->d[i]);
    fputc(']', f);
}

// DIR/<net>.graph.json and DIR/<net>.weights.f32: c's net (nodes, params, the shapes of c's plan)
static int export_graph(const char *dir, const struct bcase *c) {
    const struct nn_net *net = c->net;
    char path[4096], wpath[4096];
    snprintf(path, sizeof path, "%s/%s.graph.json", dir, c->net_name);
    snprintf(wpath, sizeof wpath, "%s/%s.weights.f32", dir, c->net_name);
    FILE *f = fopen(path, "w"), *w = fopen(wpath, "wb");
    if (!f || !w) {
        if (f) fclose(f);
        if (w) fclose(w);
        return fail("%s: %s", f ? wpath : path, strerror(errno));
    }
    size_t off = 0;
    int bad = 0;
    fprintf(f, "{\"net\": \"%s\", \"input\": {\"id\": %d, \"shape\": ", c->net_name, net->inputs[0]);
    put_shape(f, &c->shapes[net->inputs[0]]);
    fprintf(f, "},\n \"outputs\": [");
    for (int k = 0; k < net->n_outputs; k++) fprintf(f, "%s%d", k ? ", " : "", net->outputs[k]);
    fprintf(f, "],\n \"consts\": [");
    int first = 1;
    for (int v = 0; v < net->n_values; v++) {
        const struct nn_value *val = &net->values[v];
        int used = 0;
        for (int i = 0; i < net->n_nodes && !used; i++)
            for (int k = 0; k < net->nodes[i].n_in; k++) used |= net->nodes[i].in[k] == v;
        if (!used || !val->data || val->dtype != NN_F32) continue;
        size_t n = nn_shape_count(&val->shape);
        fprintf(f, "%s\n  {\"id\": %d, \"offset\": %zu, \"shape\": ", first ? "" : ",", v, off);
        put_shape(f, &val->shape);
        fputc('}', f);
        bad |= fwrite(val->data, sizeof(float), n, w) != n;
        off += n, first = 0;
    }
    fprintf(f, "],\n \"nodes\": [");
    for (int i = 0; i < net->n_nodes; i++) {
        const struct nn_node *nd = &net->nodes[i];
        const struct nn_params *p = &nd->p;
        fprintf(f, "%s\n  {\"op\": \"%s\", \"in\": [", i ? "," : "", nn_op_name(nd->op));
        for (int k = 0; k < nd->n_in; k++) fprintf(f, "%s%d", k ? ", " : "", nd->in[k]);
        fprintf(f, "], \"out\": %d, \"shape\": ", nd->out);
        put_shape(f, &c->shapes[nd->out]);
        int conv = nd->op == NN_OP_CONV2D || nd->op == NN_OP_DWCONV2D; // kernel size: the filter's
        const struct nn_shape *ws = conv ? &net->values[nd->in[1]].shape : NULL;
        fprintf(f, ", \"K\": [%d, %d], \"S\": [%d, %d], \"same\": %d, \"pads\": [%d, %d, %d, %d], \"dil\": [%d, %d], "
                   "\"act\": \"%s\", \"axis\": %d",
                conv ? ws->d[1] : p->KH, conv ? ws->d[2] : p->KW, p->SH, p->SW, p->same, p->PT, p->PL, p->PB, p->PR, p->DH > 1 ? p->DH : 1,
                p->DW > 1 ? p->DW : 1, p->act == NN_ACT_RELU ? "relu" : p->act == NN_ACT_PRELU ? "prelu" : "none", p->axis);
        if (nd->alpha && nd->n_alpha > 0) { // slopes as facehatch applies them (alpha_scale included)
            fprintf(f, ", \"alpha\": {\"offset\": %zu, \"n\": %d}", off, nd->n_alpha);
            bad |= fwrite(nd->alpha, sizeof(float), (size_t)nd->n_alpha, w) != (size_t)nd->n_alpha;
            off += (size_t)nd->n_alpha;
        }
        fputc('}', f);
    }
    fprintf(f, "]}\n");
    bad |= ferror(f) != 0;
    bad |= fclose(f) != 0;
    bad |= fclose(w) != 0;
    return bad ? fail("%s: write failed", path) : 0;
}

// the case's input, facehatch's outputs and one line in cases.txt
static int export_case(const char *dir, const struct bcase *c, FILE *list) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.in.f32", dir, c->name);
    if (write_all(path, c->x, dims_count(c->dims) * sizeof(float))) return -1;
    fprintf(list, "case name=%s net=%s per=%d dims=%d,%d,%d,%d input=%s.in.f32", c->name, c->net_name, c->per,
            c->dims[0], c->dims[1], c->dims[2], c->dims[3], c->name);
    for (int k = 0; k < c->n_out; k++) {
        snprintf(path, sizeof path, "%s/%s.out%d.f32", dir, c->name, k);
        if (write_all(path, c->ref[k], nn_shape_count(&c->oshape[k]) * sizeof(float))) return -1;
        fprintf(list, " out=%s.out%d.f32:", c->name, k);
        for (int i = 0; i < c->oshape[k].rank; i++) fprintf(list, "%s%d", i ? "," : "", c->oshape[k].d[i]);
    }
    fputc('\n', list);
    return 0;
}

static int export_all(const char *dir, struct bcase *cs, int n) {
    char path[4096];
    snprintf(path, sizeof path, "%s/cases.txt", dir);
    FILE *list = fopen(path, "w");
    if (!list) return fail("%s: %s", path, strerror(errno));
    int rc = 0;
    for (int i = 0; i < n && !rc; i++) {
        int first_of_net = 1;
        for (int j = 0; j < i; j++) first_of_net &= cs[j].net != cs[i].net;
        if (first_of_net) rc = export_graph(dir, &cs[i]);
        if (!rc) rc = export_case(dir, &cs[i], list);
    }
    if (ferror(list)) rc = fail("%s: write failed", path);
    if (fclose(list) && !rc) rc = fail("%s: write failed", path);
    return rc;
}

// ---- main ------------------------------------------------------------------------------------------
static double median(double *t, int n) {
    qsort(t, (size_t)n, sizeof *t, cmp_double);
    return n % 2 ? t[n / 2] : 0.5 * (t[n / 2 - 1] + t[n / 2]);
}

// one run of facehatch (fh) or XNNPACK; seconds, or -1 on failure
static double run_once(struct nn_session *s, struct xnn *x, int fh) {
    double t0 = now_s();
    if (fh ? nn_session_run(s) != FH_OK : xnn_invoke_runtime(x->rt) != xnn_status_success) return -1;
    return now_s() - t0;
}

// median ms of facehatch and of XNNPACK on one case at one thread count, WARM warm-ups each.
// One thread: the two interleaved run by run (even runs facehatch first), so load on a shared
// machine hits both alike. More threads: one engine's runs, then the other's: both thread
// pools spin a while between jobs, and on a 2-core machine one pool's spinning workers would
// take the cores the other pool's workers need.
static int time_case(struct nn_session *s, struct xnn *x, int threads, int runs, double *fh_ms, double *xnn_ms) {
    double t[2][MAX_RUNS];
    if (threads == 1) {
        for (int r = -WARM; r < runs; r++)
            for (int k = 0; k < 2; k++) {
                int fh = (k == 0) == ((r & 1) == 0);
                double dt = run_once(s, x, fh);
                if (dt < 0) return fail("%s: run failed", x->c->name);
                if (r >= 0) t[!fh][r] = dt * 1e3;
            }
    } else {
        for (int fh = 1; fh >= 0; fh--)
            for (int r = -WARM; r < runs; r++) {
                double dt = run_once(s, x, fh);
                if (dt < 0) return fail("%s: run failed", x->c->name);
                if (r >= 0) t[!fh][r] = dt * 1e3;
            }
    }
    *fh_ms = median(t[0], runs), *xnn_ms = median(t[1], runs);
    return 0;
}

static int usage(void) {
    fprintf(stderr, "usage: xnn_bench [--models DIR] [--golden DIR] [--runs 1..%d] [--tol X] [--export DIR]\n", MAX_RUNS);
    return 2;
}

int main(int argc, char **argv) {
    const char *models = "models", *golden = "../shared/golden", *export_dir = NULL;
    int runs = 9;
    double tol = 1e-4;
    for (int i = 1; i < argc; i += 2) { // every option takes a value
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) return usage();
        if (!strcmp(a, "--models")) models = v;
        else if (!strcmp(a, "--golden")) golden = v;
        else if (!strcmp(a, "--export")) export_dir = v;
        else if (!strcmp(a, "--runs")) runs = atoi(v);
        else if (!strcmp(a, "--tol")) tol = atof(v);
        else return usage();
    }
    if (runs < 1 || runs > MAX_RUNS || !(tol > 0)) return usage();

    int rc = 1;
    struct nn_net *mfn = NULL, *pnet = NULL, *mfn8 = NULL;
    uint8_t *faces = NULL;
    float *gold = NULL;
    struct img photo = {0};
    struct bcase cs[MAX_CASES];
    struct xnn xs[MAX_CASES][N_THREADS];
    struct nn_session *ss[MAX_CASES][N_THREADS];
    memset(cs, 0, sizeof cs), memset(xs, 0, sizeof xs), memset(ss, 0, sizeof ss);
    int n_cases = 0, xnn_up = 0;
    struct fh_pool *pool = fh_pool_new(N_THREADS);
    char path[4096];
    if (!pool) {
        fail("thread pool: %s", fh_errmsg());
        goto done;
    }
    if (xcheck(xnn_initialize(NULL), "initialize", -1)) goto done;
    xnn_up = 1;

    snprintf(path, sizeof path, "%s/MobileFaceNet.tflite", models);
    if (nn_net_load_tflite(path, NULL, &mfn)) { fail("%s", fh_errmsg()); goto done; }
    snprintf(path, sizeof path, "%s/pnet.tflite", models);
    if (nn_net_load_tflite(path, NULL, &pnet)) { fail("%s", fh_errmsg()); goto done; }
    snprintf(path, sizeof path, "%s/tflite/mfn_faces112.u8", golden);
    if (!(faces = read_exact(path, (size_t)N_FACES * 112 * 112 * 3))) goto done;
    snprintf(path, sizeof path, "%s/tflite/mfn_faces_emb.f32", golden);
    if (!(gold = read_exact(path, (size_t)N_FACES * 192 * sizeof(float)))) goto done;
    snprintf(path, sizeof path, "%s/samples/sample1.jpg", models);
    if (img_decode_file(path, &photo)) { fail("%s", fh_errmsg()); goto done; }

    if (case_mfn(&cs[n_cases++], mfn, faces, gold, 1) || case_mfn(&cs[n_cases++], mfn, faces, gold, 16) ||
        case_pnet(&cs[n_cases++], pnet, &photo, 576, 384) || case_pnet(&cs[n_cases++], pnet, &photo, 320, 240))
        goto done;
    printf("# xnn_bench: facehatch (kernels %s) vs XNNPACK native (subgraph API, f32), %d runs per row (median, "
           "%d warm-ups), tol %.3g\n", nn_net_kernels(mfn), runs, WARM, tol);

    // 1. every output checked before anything is timed
    for (int i = 0; i < n_cases; i++) {
        struct bcase *c = &cs[i];
        golden_line(c, "facehatch", c->ref[0]);
        for (int t = 0; t < N_THREADS; t++) {
            struct xnn *x = &xs[i][t];
            if (xnn_build(x, c, t + 1)) goto done;
            if (t == 0 && (i == 0 || c->net != cs[i - 1].net))
                printf("net name=%s nodes=%d xnn_nodes=%d kernels=%s\n", c->net_name, c->net->n_nodes, x->n_nodes,
                       nn_net_kernels(c->net));
            if (xcheck(xnn_invoke_runtime(x->rt), "invoke runtime", -1)) goto done;
            for (int k = 0; k < c->n_out; k++)
                if (check(c, "xnnpack", t + 1, k, x->out[k], tol)) goto done;
            if (t == 0) golden_line(c, "xnnpack", x->out[0]);
            if (fh_open(c, t ? pool : NULL, &ss[i][t])) goto done;
            if (nn_session_run(ss[i][t])) { fail("%s: %s", c->name, fh_errmsg()); goto done; }
            for (int k = 0; k < c->n_out; k++)
                if (check(c, "facehatch", t + 1, k, nn_session_output(ss[i][t], k, NULL, NULL), tol)) goto done;
        }
    }
    // 2. the files the ONNX Runtime peer reads
    if (export_dir && export_all(export_dir, cs, n_cases)) goto done;
    // 3. timing
    for (int i = 0; i < n_cases; i++)
        for (int t = 0; t < N_THREADS; t++) {
            double f = 0, x = 0;
            if (time_case(ss[i][t], &xs[i][t], t + 1, runs, &f, &x)) goto done;
            printf("time case=%s threads=%d per=%d runs=%d facehatch_ms=%.4f xnnpack_ms=%.4f\n", cs[i].name, t + 1,
                   cs[i].per, runs, f, x);
            fflush(stdout);
        }
    // 4. facehatch's int8 MobileFaceNet (--precision int8: the scales compiled into the
    // pipeline) against the same XNNPACK f32 runtime, on the same faces: its embeddings are
    // checked by cosine to the f32 reference (int8 changes them: >= 0.98, as the golden test)
    snprintf(path, sizeof path, "%s/MobileFaceNet.tflite", models);
    struct nn_options q8 = {.int8 = fh_int8_mfn, .n_int8 = FH_INT8_MFN_N};
    if (FH_INT8_MFN_N && nn_net_load_tflite(path, &q8, &mfn8)) { fail("int8: %s", fh_errmsg()); goto done; }
    for (int i = 0; mfn8 && i < n_cases; i++) {
        if (cs[i].net != mfn) continue;
        struct bcase c8 = cs[i];
        c8.net = mfn8;
        for (int t = 0; t < N_THREADS; t++) {
            struct nn_session *s8;
            if (fh_open(&c8, t ? pool : NULL, &s8)) goto done;
            double f = 0, x = 0, mn = 0;
            int bad = nn_session_run(s8) != FH_OK;
            if (!bad) {
                struct diff dd = diff_of(c8.ref[0], nn_session_output(s8, 0, NULL, NULL),
                                         (size_t)c8.dims[0] * 192, c8.dims[0]);
                mn = dd.finite ? dd.cos_min : 0;
            }
            if (bad || !(mn >= 0.98)) {
                nn_session_free(s8);
                fail("%s int8: cosine to f32 %.4f < 0.98", c8.name, mn);
                goto done;
            }
            int trc = time_case(s8, &xs[i][t], t + 1, runs, &f, &x);
            nn_session_free(s8);
            if (trc) goto done;
            printf("time case=%s_int8 threads=%d per=%d runs=%d facehatch_ms=%.4f xnnpack_ms=%.4f cos_min=%.5f\n",
                   c8.name, t + 1, c8.per, runs, f, x, mn);
            fflush(stdout);
        }
    }
    rc = 0;
done:
    for (int i = 0; i < MAX_CASES; i++)
        for (int t = 0; t < N_THREADS; t++) xnn_done(&xs[i][t]), nn_session_free(ss[i][t]);
    for (int i = 0; i < n_cases; i++) case_free(&cs[i]);
    if (xnn_up) xnn_deinitialize();
    fh_pool_free(pool);
    img_free(&photo);
    free(faces), free(gold);
    nn_net_free(mfn), nn_net_free(pnet), nn_net_free(mfn8);
    return rc;
}
