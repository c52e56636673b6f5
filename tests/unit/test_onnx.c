// SPDX-License-Identifier: MIT
// The ONNX importer on tiny models written here with a minimal protobuf writer: a 1x1
// conv whose weight is a denormal (flushed to zero at load), and damaged files (every
// truncation, a tensor whose data does not fit its dims, an unknown op, an undefined
// input, an output cut naming no value); plus truncations of the real models/ulfd.onnx.
#include <string.h>

#include "harness.h"
#include "nn/nn_int.h"

struct wb {
    uint8_t b[4096];
    size_t n;
};
static void varint(struct wb *w, uint64_t v) {
    do {
        w->b[w->n++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        v >>= 7;
    } while (v);
}
static void fint(struct wb *w, int num, uint64_t v) { varint(w, (uint64_t)num << 3), varint(w, v); }
static void fbytes(struct wb *w, int num, const void *p, size_t n) {
    varint(w, (uint64_t)num << 3 | 2), varint(w, n);
    memcpy(w->b + w->n, p, n), w->n += n;
}
static void fstr(struct wb *w, int num, const char *s) { fbytes(w, num, s, strlen(s)); }
static void fmsg(struct wb *w, int num, const struct wb *m) { fbytes(w, num, m->b, m->n); }

// TensorProto: float, dims d[0..rank), raw data of nbytes
static void tensor(struct wb *w, int num, const char *name, const int *d, int rank, const void *raw, size_t nbytes) {
    struct wb t = {.n = 0};
    for (int i = 0; i < rank; i++) fint(&t, 1, (uint64_t)d[i]);
    fint(&t, 2, 1);
    fstr(&t, 8, name);
    fbytes(&t, 9, raw, nbytes);
    fmsg(w, num, &t);
}

// ValueInfoProto name with a float tensor type of dims d
static void value_info(struct wb *w, int num, const char *name, const int *d, int rank) {
    struct wb shape = {.n = 0}, tt = {.n = 0}, tp = {.n = 0}, vi = {.n = 0};
    for (int i = 0; i < rank; i++) {
        struct wb dim = {.n = 0};
        fint(&dim, 1, (uint64_t)d[i]);
        fmsg(&shape, 1, &dim);
    }
    fint(&tt, 1, 1);
    fmsg(&tt, 2, &shape);
    fmsg(&tp, 1, &tt);
    fstr(&vi, 1, name);
    fmsg(&vi, 2, &tp);
    fmsg(w, num, &vi);
}

// y = Conv(x [1,1,2,2], w [1,1,1,1] = {wval}, b = {0.5}), with op_type `op`, the weight's
// raw data `wbytes` long, the conv reading input `xin`
static size_t model(uint8_t *out, const char *op, float wval, size_t wbytes, const char *xin) {
    struct wb g = {.n = 0}, node = {.n = 0}, m = {.n = 0}, os = {.n = 0};
    float wv[2] = {wval, wval}, bv = 0.5f;
    int wd[4] = {1, 1, 1, 1}, xd[4] = {1, 1, 2, 2}, bd[1] = {1};
    fstr(&node, 1, xin), fstr(&node, 1, "w"), fstr(&node, 1, "b"), fstr(&node, 2, "y");
    fstr(&node, 4, op);
    fmsg(&g, 1, &node);
    fstr(&g, 2, "tiny");
    tensor(&g, 5, "w", wd, 4, wv, wbytes);
    tensor(&g, 5, "b", bd, 1, &bv, 4);
    value_info(&g, 11, "x", xd, 4);
    value_info(&g, 12, "y", xd, 4);
    fint(&m, 1, 6);            // ir_version
    fint(&os, 2, 9);           // opset 9, default domain
    fmsg(&m, 8, &os);
    fmsg(&m, 7, &g);           // the graph last: any truncation damages it or drops it
    memcpy(out, m.b, m.n);
    return m.n;
}

static int has(const char *needle) { return strstr(fh_errmsg(), needle) != NULL; }

int main(void) {
    uint8_t buf[4096];
    struct nn_net *net;
    const float denormal = 1e-40f; // below FLT_MIN (1.18e-38): subnormal
    size_t n = model(buf, "Conv", denormal, 4, "x");
    int rc = nn_net_load_onnx_mem(buf, n, NULL, &net);
    TEST_COND("a tiny Conv model loads", rc == FH_OK);
    if (rc) printf("# %s\n", fh_errmsg());
    if (!rc) {
        const struct nn_value *w = NULL;
        for (int i = 0; i < net->n_values; i++)
            if (!strcmp(net->values[i].name, "w")) w = &net->values[i];
        TEST_COND("a denormal weight is zero after load", w && w->data && w->data[0] == 0.0f);
        struct nn_session *s;
        nn_session_new(net, NULL, &s);
        int d[4] = {1, 2, 2, 1}, od[FH_MAX_DIMS], r;
        nn_session_reshape(s, d, 4);
        float *x = nn_session_input(s, 0);
        for (int i = 0; i < 4; i++) x[i] = 1e38f; // 1e38 * 1e-40 = 0.01 if it were kept
        nn_session_run(s);
        const float *y = nn_session_output(s, 0, od, &r);
        TEST_COND("so the conv gives exactly the bias (0.5) on a 1e38 input", r == 4 && y[0] == 0.5f && y[3] == 0.5f);
        nn_session_free(s);
        nn_net_free(net);
    }
    n = model(buf, "Conv", 0.25f, 4, "x");
    rc = nn_net_load_onnx_mem(buf, n, NULL, &net);
    TEST_COND("a normal weight is kept", rc == FH_OK && net->values[0].data && net->values[0].data[0] == 0.25f);
    nn_net_free(rc ? NULL : net);

    int bad = 0, crashed_ok = 1;
    for (size_t k = 0; k < n; k++) {
        rc = nn_net_load_onnx_mem(buf, k, NULL, &net);
        if (rc == FH_OK) crashed_ok = 0, nn_net_free(net);
        else bad += rc == FH_E_FORMAT;
    }
    TEST_COND("every truncation of the tiny model is refused", crashed_ok);
    printf("# %d of %zu truncations give FH_E_FORMAT (the rest: no graph / no opset)\n", bad, n);

    n = model(buf, "Conv", 0.25f, 8, "x");
    rc = nn_net_load_onnx_mem(buf, n, NULL, &net);
    TEST_COND("a tensor holding 8 bytes for 1 float: FH_E_FORMAT naming it", rc == FH_E_FORMAT && has("'w'") && has("8 bytes"));
    printf("# %s\n", fh_errmsg());
    n = model(buf, "Frobnicate", 0.25f, 4, "x");
    rc = nn_net_load_onnx_mem(buf, n, NULL, &net);
    TEST_COND("an unknown op: FH_E_UNSUPPORTED naming it", rc == FH_E_UNSUPPORTED && has("Frobnicate"));
    printf("# %s\n", fh_errmsg());
    n = model(buf, "Conv", 0.25f, 4, "nowhere");
    rc = nn_net_load_onnx_mem(buf, n, NULL, &net);
    TEST_COND("an input no one defines: FH_E_FORMAT naming it", rc == FH_E_FORMAT && has("nowhere"));
    n = model(buf, "Conv", 0.25f, 4, "x");
    const char *cut[1] = {"nothing"};
    struct nn_options opt = {.outputs = cut, .n_outputs = 1};
    rc = nn_net_load_onnx_mem(buf, n, &opt, &net);
    TEST_COND("an output cut naming no value: FH_E_NOTFOUND", rc == FH_E_NOTFOUND && has("nothing"));
    rc = nn_net_load_onnx_mem((const uint8_t *)"\xff\xff\xff", 3, NULL, &net);
    TEST_COND("garbage bytes: FH_E_FORMAT", rc == FH_E_FORMAT);

    // the real file, cut at 64 places: never loads, never crashes
    FILE *f = fopen(FH_MODELS "/ulfd.onnx", "rb");
    static uint8_t big[1 << 21];
    size_t nb = f ? fread(big, 1, sizeof big, f) : 0;
    if (f) fclose(f);
    TEST_COND("models/ulfd.onnx is there (make models)", nb > 1000000);
    int refused = 0;
    for (int i = 1; i <= 64 && nb; i++) {
        rc = nn_net_load_onnx_mem(big, nb * (size_t)i / 65, NULL, &net);
        if (rc) refused++;
        else nn_net_free(net);
    }
    TEST_COND("64 truncations of ulfd.onnx are all refused", refused == 64);
    rc = nn_net_load_onnx(FH_MODELS "/ulfd.onnx.missing", NULL, &net);
    TEST_COND("a missing file: FH_E_IO naming the path", rc == FH_E_IO && has("ulfd.onnx.missing"));
    return TEST_REPORT();
}
