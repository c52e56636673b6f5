// SPDX-License-Identifier: MIT
// Our model file (.fhm) and the graph passes:
//   - the four pinned nets saved and loaded again give bit-identical outputs (fused and
//     unfused), metadata comes back, saving is atomic;
//   - damaged files (byte flips and truncations with the checksum made valid again, so
//     the field checks are reached) give an error code or a net that plans and runs;
//   - BN folding on a net built here (conv without bias, depthwise with bias, FC without
//     bias, each followed by BATCHNORM): the folded net matches the same net with batch
//     norm written as SUB/MUL/ADD within 1e-5, and survives a save/load.
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "nn/nn_train.h"
#include "nn/passes.h"

static uint64_t rng = 0x2545F4914F6CDD1Dull;
static uint64_t next(void) {
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return rng;
}
static float frand(float lo, float hi) { return lo + (hi - lo) * (float)(next() >> 40) / (float)(1 << 24); }

// plans dims (batch 1, spatial over 112 cut to 48), runs on a fixed input; copies up to cap
// output floats into y. Returns the output count, or -1 if it could not run.
static long run(const struct nn_net *net, float *y, size_t cap) {
    int dims[FH_MAX_DIMS], r = nn_net_input_shape(net, 0, dims);
    if (r == 4) dims[0] = 1, dims[1] = dims[1] > 112 ? 48 : dims[1], dims[2] = dims[2] > 112 ? 48 : dims[2];
    size_t cnt = 1;
    for (int i = 0; i < r; i++) cnt *= (size_t)(dims[i] > 0 ? dims[i] : 0);
    if (r < 1 || !cnt || cnt > (1u << 20)) return -1;
    struct nn_session *s;
    long n = -1;
    if (nn_session_new(net, NULL, &s)) return -1;
    if (!nn_session_reshape(s, dims, r)) {
        float *in = nn_session_input(s, 0);
        for (size_t i = 0; i < cnt; i++) in[i] = (float)((i * 7919) % 255) / 128.0f - 1.0f;
        if (!nn_session_run(s)) {
            int od[FH_MAX_DIMS], orank;
            const float *o = nn_session_output(s, 0, od, &orank);
            size_t m = 1;
            for (int i = 0; i < orank; i++) m *= (size_t)od[i];
            if (y) memcpy(y, o, (m < cap ? m : cap) * sizeof(float));
            n = (long)m;
        }
    }
    nn_session_free(s);
    return n;
}

static void fix_sum(uint8_t *b, size_t n) {
    if (n >= 32) fh_sha256(b, n - 32, b + n - 32);
}

// ---- round trips of the pinned nets --------------------------------------------------------
static char dir[64];

static void roundtrip(const char *file, int no_fuse) {
    char path[256], out[300];
    snprintf(path, sizeof path, FH_MODELS "/%s", file);
    snprintf(out, sizeof out, "%s/%s%s.fhm", dir, file, no_fuse ? ".nofuse" : "");
    struct nn_options o = {.no_fuse = no_fuse};
    struct nn_net *a = NULL, *b = NULL;
    if (nn_net_load_tflite(path, &o, &a)) {
        printf("%s\n", fh_errmsg());
        TEST_COND("pinned model loads (run make models)", 0);
        return;
    }
    struct nn_meta meta = {2, {"arch", "note"}, {file, "a = b = c"}};
    int rc = nn_net_save(a, out, &meta);
    if (!rc) rc = nn_net_load(out, &o, &b);
    if (rc) printf("%s\n", fh_errmsg());
    static float ya[1 << 16], yb[1 << 16];
    long na = run(a, ya, 1 << 16), nb = b ? run(b, yb, 1 << 16) : -2;
    char d[200];
    snprintf(d, sizeof d, "%s%s: saved and loaded, %d nodes, output bit-identical (%ld floats)", file,
             no_fuse ? " unfused" : "", nn_net_n_nodes(a), na);
    TEST_COND(d, !rc && na > 0 && na == nb && !memcmp(ya, yb, (size_t)(na < (1 << 16) ? na : (1 << 16)) * 4) &&
                     nn_net_n_nodes(a) == nn_net_n_nodes(b));
    const char *v = b ? nn_net_meta(b, "note") : NULL;
    TEST_COND("metadata back (a value holding '=' too), missing key NULL",
              b && v && !strcmp(v, "a = b = c") && !strcmp(nn_net_meta(b, "arch"), file) && !nn_net_meta(b, "x"));
    nn_net_free(a), nn_net_free(b);
}

// ---- damaged files ---------------------------------------------------------------------------
static void damage(const char *fhm) {
    uint8_t *orig, *b;
    size_t n;
    if (fh_read_file(fhm, 1 << 24, &orig, &n)) {
        TEST_COND("saved .fhm readable", 0);
        return;
    }
    b = fh_malloc(n);
    int errors = 0, loads = 0, runs = 0, bad_code = 0, sum_refused = 0;
    struct nn_net *net;
    // a flip without fixing the checksum: refused as a checksum mismatch
    memcpy(b, orig, n), b[n / 3] ^= 1;
    sum_refused = nn_net_load_mem(b, n, NULL, &net) == FH_E_FORMAT && strstr(fh_errmsg(), "checksum");
    TEST_COND("one flipped bit: FH_E_FORMAT, checksum mismatch", sum_refused);
    for (int t = 0; t < 1500; t++) {
        size_t len = n;
        memcpy(b, orig, n);
        if (t % 5 == 4) {
            len = 64 + next() % (n - 64); // truncation (checksum recomputed)
        } else {
            int k = 1 + (int)(next() % 4);
            for (int j = 0; j < k; j++) {
                size_t at = next() % (n - 32);
                // mostly the header and graph, where the counts and indices are
                if (t & 1) at = next() % (n < 4096 ? n - 32 : 4096);
                b[at] = (uint8_t)next();
            }
        }
        fix_sum(b, len);
        int rc = nn_net_load_mem(b, len, NULL, &net);
        errors += rc != 0, loads += rc == 0;
        bad_code += rc > 0 || rc < FH_E_INTEGRITY;
        if (!rc) {
            runs += run(net, NULL, 0) >= 0;
            nn_net_free(net);
        }
    }
    char d[400];
    snprintf(d, sizeof d, "%s: 1500 damaged copies, no crash (%d refused, %d loaded, %d ran), codes valid",
             fhm, errors, loads, runs);
    TEST_COND(d, errors > 0 && !bad_code);
    TEST_COND("8 bytes / no magic: FH_E_FORMAT", nn_net_load_mem(orig, 8, NULL, &net) == FH_E_FORMAT &&
                                                     nn_net_load_mem((const uint8_t *)"TFL3TFL3xxxx", 12, NULL, &net) == FH_E_FORMAT);
    fh_free(b), fh_free(orig);
}

// ---- BN folding on a built net ------------------------------------------------------------------
struct tb {
    struct nn_net *net;
    size_t bo;
};

static int val(struct tb *t, const char *name, struct nn_shape sh, const float *data) {
    struct nn_net *net = t->net;
    int i = net->n_values++;
    struct nn_value *v = &net->values[i];
    v->name = fh_malloc(strlen(name) + 1);
    strcpy(v->name, name);
    v->shape = sh;
    v->producer = -1;
    if (data) {
        size_t c = nn_shape_count(&sh);
        v->data = net->blob + t->bo;
        memcpy(v->data, data, c * sizeof(float));
        t->bo += (c + 15) & ~(size_t)15;
    }
    return i;
}
static int rnd_val(struct tb *t, const char *name, struct nn_shape sh, float lo, float hi) {
    float d[4096];
    size_t c = nn_shape_count(&sh);
    for (size_t i = 0; i < c && i < 4096; i++) d[i] = frand(lo, hi);
    return val(t, name, sh, d);
}
static int node(struct tb *t, enum nn_op op, int n_in, const int *in, struct nn_shape out_shape) {
    struct nn_net *net = t->net;
    struct nn_node *nd = &net->nodes[net->n_nodes++];
    char name[32];
    snprintf(name, sizeof name, "t%d", net->n_nodes);
    nd->op = op, nd->n_in = n_in;
    memcpy(nd->in, in, (size_t)n_in * sizeof(int));
    nd->p = (struct nn_params){.KH = 1, .KW = 1, .SH = 1, .SW = 1, .same = 1, .alpha = -1, .axis = -1,
                               .alpha_scale = 1, .eps = 1e-3f};
    nd->out = val(t, name, out_shape, NULL);
    return nd->out;
}

// batch norm of x over C channels: BATCHNORM (as_op) or SUB/MUL/ADD with s = g/sqrt(v+eps)
static int bn(struct tb *t, int x, int C, struct nn_shape xs, uint64_t seed, int as_op) {
    uint64_t keep = rng;
    rng = seed;
    float g[64], be[64], m[64], v[64], s[64];
    for (int c = 0; c < C; c++)
        g[c] = frand(0.5f, 1.5f), be[c] = frand(-0.5f, 0.5f), m[c] = frand(-0.3f, 0.3f), v[c] = frand(0.2f, 2.0f);
    rng = keep;
    struct nn_shape cs = {1, {C}};
    if (as_op) {
        int in[5] = {x, val(t, "g", cs, g), val(t, "b", cs, be), val(t, "m", cs, m), val(t, "v", cs, v)};
        return node(t, NN_OP_BATCHNORM, 5, in, xs);
    }
    for (int c = 0; c < C; c++) s[c] = (float)(g[c] / sqrt((double)v[c] + 1e-3));
    int a[2] = {x, val(t, "m", cs, m)};
    a[0] = node(t, NN_OP_SUB, 2, a, xs);
    a[1] = val(t, "s", cs, s);
    a[0] = node(t, NN_OP_MUL, 2, a, xs);
    a[1] = val(t, "b", cs, be);
    return node(t, NN_OP_ADD, 2, a, xs);
}

// x [1,6,6,3] -> conv 3x3 (4, no bias) -> BN -> dw 3x3 (bias) -> BN -> FC (5, no bias) -> BN
static struct nn_net *bn_net(int as_op) {
    struct tb t = {nn_net_alloc(64, 32), 0};
    struct nn_net *net = t.net;
    net->n_values = net->n_nodes = 0;
    net->blob = fh_malloc_aligned(16384 * sizeof(float));
    rng = 42;
    struct nn_shape xs = {4, {1, 6, 6, 3}}, ys = {4, {1, 6, 6, 4}}, fs = {2, {1, 5}};
    int x = val(&t, "x", xs, NULL);
    net->n_inputs = 1, net->inputs[0] = x;
    int in[3] = {x, rnd_val(&t, "conv.w", (struct nn_shape){4, {4, 3, 3, 3}}, -0.4f, 0.4f)};
    int y = bn(&t, node(&t, NN_OP_CONV2D, 2, in, ys), 4, ys, 1, as_op);
    int in2[3] = {y, rnd_val(&t, "dw.w", (struct nn_shape){4, {1, 3, 3, 4}}, -0.5f, 0.5f),
                  rnd_val(&t, "dw.b", (struct nn_shape){1, {4}}, -0.2f, 0.2f)};
    y = bn(&t, node(&t, NN_OP_DWCONV2D, 3, in2, ys), 4, ys, 2, as_op);
    int in3[2] = {y, rnd_val(&t, "fc.w", (struct nn_shape){2, {5, 144}}, -0.1f, 0.1f)};
    y = bn(&t, node(&t, NN_OP_FC, 2, in3, fs), 5, fs, 3, as_op);
    net->n_outputs = 1, net->outputs[0] = y;
    if (nn_net_finish(net, NULL)) {
        printf("%s\n", fh_errmsg());
        nn_net_free(net);
        return NULL;
    }
    return net;
}

static void fold_test(void) {
    struct nn_net *ref = bn_net(0), *net = bn_net(1), *back = NULL;
    TEST_COND("BN test nets build", ref && net);
    if (!ref || !net) return;
    float yr[5], yb[5], yf[5], yl[5];
    long nr = run(ref, yr, 5);
    int have_bn = nn_op_defs[NN_OP_BATCHNORM] != NULL;
    if (have_bn) {
        long nb = run(net, yb, 5);
        double e = 0;
        for (int i = 0; i < 5; i++) e = fmax(e, fabs(yb[i] - yr[i]));
        TEST_COND("BATCHNORM op forward = SUB/MUL/ADD within 1e-5", nb == 5 && e <= 1e-5);
        memcpy(yr, yb, sizeof yr); // the fold is then checked against the BN net's own forward
    } else {
        printf("SKIP: BATCHNORM has no forward in this build (the engine branch adds it): the "
               "before-fold forward of the BN net itself is not run; the fold is checked against "
               "the same net with batch norm written as SUB/MUL/ADD\n");
    }
    int rc = nn_net_optimize(net, NN_PASSES_EXPORT);
    long nf = rc ? -1 : run(net, yf, 5);
    double e = 0;
    for (int i = 0; i < 5; i++) e = fmax(e, fabs(yf[i] - yr[i]));
    char d[200];
    snprintf(d, sizeof d, "BN folded into conv/dw/fc (3 BN -> %d, %d nodes), forward max |diff| %.2e <= 1e-5",
             nn_net_count_op(net, NN_OP_BATCHNORM), nn_net_n_nodes(net), e);
    TEST_COND(d, !rc && nr == 5 && nf == 5 && e <= 1e-5 && nn_net_count_op(net, NN_OP_BATCHNORM) == 0 &&
                     nn_net_n_nodes(net) == 3);
    int biased = 1;
    for (int i = 0; i < net->n_nodes; i++) biased &= net->nodes[i].n_in == 3 && net->nodes[i].in[2] >= 0;
    TEST_COND("each folded conv has a bias (new ones for conv and fc)", biased);
    char path[128];
    snprintf(path, sizeof path, "%s/folded.fhm", dir);
    rc = nn_net_save(net, path, NULL);
    if (!rc) rc = nn_net_load(path, NULL, &back);
    long nl = rc ? -1 : run(back, yl, 5);
    TEST_COND("the folded net saves and loads bit-identically", nl == 5 && !memcmp(yl, yf, sizeof yf));
    nn_net_free(back), back = NULL;
    // a net still holding BATCHNORM: saved by name; loads once the op exists
    struct nn_net *raw = bn_net(1);
    rc = raw ? nn_net_save(raw, path, NULL) : -1;
    int lrc = rc ? rc : nn_net_load(path, NULL, &back);
    if (have_bn) TEST_COND("a BATCHNORM net round-trips", !lrc && back);
    else TEST_COND("a BATCHNORM net loads as FH_E_UNSUPPORTED naming the op (no forward yet)",
                   lrc == FH_E_UNSUPPORTED && strstr(fh_errmsg(), "BATCHNORM"));
    nn_net_free(back), nn_net_free(raw), nn_net_free(ref), nn_net_free(net);
}

// a builder net (conv -> BN -> PReLU -> dw -> BN -> flatten -> fc -> BN) with moved BN
// statistics: the export passes fold every BN and fuse the PReLU; inference output within
// 1e-5 before and after, and after a save/load
static void export_test(void) {
    struct nn_builder *b;
    struct nn_net *net = NULL, *back = NULL;
    if (nn_builder_new(7, &b)) return;
    int x = nn_b_input(b, "x", 8, 8, 3);
    x = nn_b_prelu(b, nn_b_bn(b, nn_b_conv(b, x, 6, 3, 2, 1, 0)));
    x = nn_b_bn(b, nn_b_dwconv(b, x, 3, 1, 1, 0));
    x = nn_b_bn(b, nn_b_fc(b, nn_b_flatten(b, x), 4, 1));
    nn_b_output(b, x);
    int rc = nn_b_finish(b, NULL, &net);
    TEST_COND("builder net", !rc);
    if (rc) return;
    for (int i = 0; i < nn_net_n_params(net); i++) { // BN stats and gammas away from 0/1
        struct nn_param p;
        nn_net_param(net, i, &p);
        const char *k = strrchr(p.name, '.');
        for (size_t j = 0; k && j < p.n; j++)
            if (!strcmp(k, ".mean") || !strcmp(k, ".beta")) p.w[j] = frand(-0.3f, 0.3f);
            else if (!strcmp(k, ".var") || !strcmp(k, ".gamma")) p.w[j] = frand(0.3f, 1.7f);
    }
    nn_net_weights_changed(net);
    float y0[4], y1[4], y2[4];
    long n0 = run(net, y0, 4);
    int nbn = nn_net_count_op(net, NN_OP_BATCHNORM), np = nn_net_n_params(net);
    rc = nn_net_optimize(net, NN_PASSES_EXPORT);
    long n1 = rc ? -1 : run(net, y1, 4);
    double e = 0;
    for (int i = 0; i < 4; i++) e = fmax(e, fabs(y1[i] - y0[i]));
    char d[200];
    snprintf(d, sizeof d, "builder net: export passes fold %d BN (params %d -> %d), PReLU fused; max |diff| %.2e <= 1e-5",
             nbn, np, nn_net_n_params(net), e);
    TEST_COND(d, !rc && n0 == 4 && n1 == 4 && e <= 1e-5 && nbn == 3 && !nn_net_count_op(net, NN_OP_BATCHNORM) &&
                     !nn_net_count_op(net, NN_OP_PRELU) && nn_net_n_nodes(net) == 4);
    char path[128];
    snprintf(path, sizeof path, "%s/export.fhm", dir);
    struct nn_meta meta = {2, {"arch", "training"}, {"tiny", "test"}};
    rc = nn_net_save(net, path, &meta);
    if (!rc) rc = nn_net_load(path, NULL, &back);
    long n2 = rc ? -1 : run(back, y2, 4);
    TEST_COND("the exported net loads with its params and the same output",
              n2 == 4 && !memcmp(y1, y2, sizeof y1) && nn_net_n_params(back) == nn_net_n_params(net));
    nn_net_free(back), nn_net_free(net);
}

int main(void) {
    snprintf(dir, sizeof dir, "/tmp/fh_fhm_XXXXXX");
    if (!mkdtemp(dir)) return 1;
    const char *files[4] = {"pnet.tflite", "rnet.tflite", "onet.tflite", "MobileFaceNet.tflite"};
    for (int i = 0; i < 4; i++) roundtrip(files[i], 0);
    roundtrip("pnet.tflite", 1);
    roundtrip("MobileFaceNet.tflite", 1);
    char p[128];
    snprintf(p, sizeof p, "%s/pnet.tflite.fhm", dir);
    damage(p);
    // atomic save: a missing folder fails with FH_E_IO and leaves nothing; an existing file
    // is replaced whole
    struct nn_net *net = NULL;
    if (!nn_net_load_tflite(FH_MODELS "/pnet.tflite", NULL, &net)) {
        TEST_COND("save into a missing folder: FH_E_IO", nn_net_save(net, "/nonexistent_fh/x.fhm", NULL) == FH_E_IO);
        struct nn_meta bad = {1, {"bad key"}, {"v"}};
        snprintf(p, sizeof p, "%s/pnet.tflite.fhm", dir);
        TEST_COND("a bad metadata key: FH_E_ARG, the file untouched",
                  nn_net_save(net, p, &bad) == FH_E_ARG && access(p, F_OK) == 0);
        TEST_COND("save over an existing file", nn_net_save(net, p, NULL) == FH_OK);
    }
    nn_net_free(net);
    fold_test();
    export_test();
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    TEST_COND("no temporary files left behind", system(cmd) == 0);
    return TEST_REPORT();
}
