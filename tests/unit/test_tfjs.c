// SPDX-License-Identifier: MIT
// The TensorFlow.js graph-model importer on a tiny model.json + shard written here into a
// temporary folder: x -> _FusedConv2D(1x1, float16 weights, uint8-quantised bias, BiasAdd +
// Relu) -> CReLU (Neg + ConcatV2) -> MaxPool 2x2 SAME, checked against values computed here;
// a float32 denormal weight flushed to zero; and damaged inputs (bad JSON at every length,
// a missing / short / long shard, a shard path leaving the folder, an unknown op, weights
// that do not fit, a cycle, a cut naming no node): each a clear FH_E_* naming the file or
// node, never a crash. Then the real FaceBoxes model (models/faceboxes/) cut to its heads.
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "nn/nn_int.h"

static char dir[64], json_path[128];

static void write_file(const char *name, const void *p, size_t n) {
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (f) fwrite(p, 1, n, f), fclose(f);
}

// float16 bits of a few exact values
static uint16_t f16(float v) {
    if (v == 0) return 0;
    int e;
    float m = frexpf(fabsf(v), &e); // v = m * 2^e, m in [0.5, 1)
    uint16_t h = (uint16_t)((e + 14) << 10 | ((int)(m * 2048) & 1023));
    return v < 0 ? h | 0x8000 : h;
}

// the tiny model: conv op `op`, weight shape "[1,1,CIN,3]", shard file `shard`, the conv
// reading `xin`, w as float16 (0) or float32 with w[0] = wf32 (1)
static void model(const char *op, int cin, const char *shard, const char *xin, int w_f32, float wf32) {
    char j[4096];
    snprintf(j, sizeof j,
        "{\"format\":\"graph-model\",\"signature\":{\"outputs\":{\"y\":{\"name\":\"y:0\"}}},"
        "\"modelTopology\":{\"node\":["
        "{\"name\":\"x\",\"op\":\"Placeholder\",\"attr\":{\"dtype\":{\"type\":\"DT_FLOAT\"},\"shape\":{\"shape\":{\"dim\":[{\"size\":\"-1\"},{\"size\":\"-1\"},{\"size\":\"-1\"},{\"size\":\"2\"}]}}}},"
        "{\"name\":\"w\",\"op\":\"Const\",\"attr\":{\"dtype\":{\"type\":\"DT_FLOAT\"}}},"
        "{\"name\":\"b\",\"op\":\"Const\",\"attr\":{\"dtype\":{\"type\":\"DT_FLOAT\"}}},"
        "{\"name\":\"axis\",\"op\":\"Const\",\"attr\":{\"dtype\":{\"type\":\"DT_INT32\"}}},"
        "{\"name\":\"conv\",\"op\":\"%s\",\"input\":[\"%s\",\"w\",\"b\",\"^x\"],\"attr\":{\"padding\":{\"s\":\"U0FNRQ==\"},"
        "\"strides\":{\"list\":{\"i\":[\"1\",\"1\",\"1\",\"1\"]}},\"data_format\":{\"s\":\"TkhXQw==\"},"
        "\"fused_ops\":{\"list\":{\"s\":[\"Qmlhc0FkZA==\",\"UmVsdQ==\"]}},\"num_args\":{\"i\":\"1\"}}},"
        "{\"name\":\"neg\",\"op\":\"Neg\",\"input\":[\"conv\"]},"
        "{\"name\":\"crelu\",\"op\":\"ConcatV2\",\"input\":[\"conv:0\",\"neg\",\"axis\"]},"
        "{\"name\":\"pool\",\"op\":\"MaxPool\",\"input\":[\"crelu\"],\"attr\":{\"padding\":{\"s\":\"U0FNRQ==\"},"
        "\"ksize\":{\"list\":{\"i\":[\"1\",\"2\",\"2\",\"1\"]}},\"strides\":{\"list\":{\"i\":[\"1\",\"2\",\"2\",\"1\"]}}}},"
        "{\"name\":\"y\",\"op\":\"Identity\",\"input\":[\"pool\"]}]},"
        "\"weightsManifest\":[{\"paths\":[\"%s\"],\"weights\":["
        "{\"name\":\"w\",\"shape\":[1,1,%d,3],\"dtype\":\"float32\"%s},"
        "{\"name\":\"b\",\"shape\":[3],\"dtype\":\"float32\",\"quantization\":{\"dtype\":\"uint8\",\"scale\":0.5,\"min\":-1}},"
        "{\"name\":\"axis\",\"shape\":[],\"dtype\":\"int32\"}]}]}",
        op, xin, shard, cin, w_f32 ? "" : ",\"quantization\":{\"dtype\":\"float16\"}");
    write_file("model.json", j, strlen(j));
    // shard: w (6 values: float16 or float32), b (3 uint8), axis (int32 -1)
    uint8_t s[96];
    size_t n = 0;
    const float wv[9] = {1, -2, 0.5f, 0.25f, 1, -1, 2, 2, 2}; // (C=2, OC=3): w[c][oc]
    for (int k = 0; k < cin * 3; k++) {
        if (w_f32) {
            float v = k ? wv[k] : wf32;
            memcpy(s + n, &v, 4), n += 4;
        } else {
            uint16_t h = f16(wv[k]);
            s[n++] = (uint8_t)h, s[n++] = (uint8_t)(h >> 8);
        }
    }
    s[n++] = 2, s[n++] = 3, s[n++] = 0; // b = q * 0.5 - 1 = {0, 0.5, -1}
    int32_t ax = -1;
    memcpy(s + n, &ax, 4), n += 4;
    write_file("shard.bin", s, n);
}

// a second tiny model: x [1,H,W,2] -> FusedDepthwiseConv2dNative 3x3 (uint16-quantised
// weights, float32 bias, EXPLICIT padding 1) -> Reshape [1,-1,2] -> Softmax
static void model_dw(void) {
    static const char j[] =
        "{\"format\":\"graph-model\",\"modelTopology\":{\"node\":["
        "{\"name\":\"x\",\"op\":\"Placeholder\",\"attr\":{\"shape\":{\"shape\":{\"dim\":[{\"size\":\"1\"},{\"size\":\"-1\"},{\"size\":\"-1\"},{\"size\":\"2\"}]}}}},"
        "{\"name\":\"w\",\"op\":\"Const\"},{\"name\":\"b\",\"op\":\"Const\"},{\"name\":\"shape\",\"op\":\"Const\"},"
        "{\"name\":\"dw\",\"op\":\"FusedDepthwiseConv2dNative\",\"input\":[\"x\",\"w\",\"b\"],\"attr\":{"
        "\"padding\":{\"s\":\"RVhQTElDSVQ=\"},\"explicit_paddings\":{\"list\":{\"i\":[\"0\",\"0\",\"1\",\"1\",\"1\",\"1\",\"0\",\"0\"]}},"
        "\"strides\":{\"list\":{\"i\":[\"1\",\"1\",\"1\",\"1\"]}},\"fused_ops\":{\"list\":{\"s\":[\"Qmlhc0FkZA==\"]}}}},"
        "{\"name\":\"r\",\"op\":\"Reshape\",\"input\":[\"dw\",\"shape\"]},"
        "{\"name\":\"y\",\"op\":\"Softmax\",\"input\":[\"r\"]}]},"
        "\"weightsManifest\":[{\"paths\":[\"a.bin\",\"b.bin\"],\"weights\":["
        "{\"name\":\"w\",\"shape\":[3,3,2,1],\"dtype\":\"float32\",\"quantization\":{\"dtype\":\"uint16\",\"scale\":0.25,\"min\":-2}},"
        "{\"name\":\"b\",\"shape\":[2],\"dtype\":\"float32\"},"
        "{\"name\":\"shape\",\"shape\":[3],\"dtype\":\"int32\"}]}]}";
    write_file("model.json", j, strlen(j));
    uint8_t sh[64];
    size_t n = 0;
    for (int k = 0; k < 18; k++) sh[n++] = (uint8_t)(k * 3 % 17), sh[n++] = 0; // w = q / 4 - 2
    const float b[2] = {0.5f, -0.25f};
    memcpy(sh + n, b, 8), n += 8;
    const int32_t t[3] = {1, -1, 2};
    memcpy(sh + n, t, 12), n += 12;
    write_file("a.bin", sh, 20); // two shards, read back to back
    write_file("b.bin", sh + 20, n - 20);
}

static int has(const char *needle) { return strstr(fh_errmsg(), needle) != NULL; }

static int load(const struct nn_options *o, struct nn_net **net) { return nn_net_load_tfjs(json_path, o, net); }

int main(void) {
    snprintf(dir, sizeof dir, "/tmp/fh_tfjs_XXXXXX");
    if (!mkdtemp(dir)) return 1;
    snprintf(json_path, sizeof json_path, "%s/model.json", dir);
    struct nn_net *net;
    char sp[256];

    model("_FusedConv2D", 2, "shard.bin", "x", 0, 0);
    int rc = load(NULL, &net);
    TEST_COND("a tiny graph model (float16 / uint8 weights) loads", rc == FH_OK);
    if (rc) printf("# %s\n", fh_errmsg());
    if (!rc) {
        TEST_COND("conv + CReLU + pool: 4 operators", nn_net_n_nodes(net) == 4 && nn_net_count_op(net, NN_OP_CONCAT) == 1);
        struct nn_session *s;
        nn_session_new(net, NULL, &s);
        int d[4] = {1, 3, 3, 2}, od[FH_MAX_DIMS], r;
        TEST_COND("runs at 3x3 (the file leaves H, W open)", nn_session_reshape(s, d, 4) == FH_OK);
        float *x = nn_session_input(s, 0);
        float xs[18];
        for (int i = 0; i < 18; i++) x[i] = xs[i] = (float)((i * 7) % 5) - 2;
        nn_session_run(s);
        x = xs; // the input buffer may hold later activations after the run
        const float *y = nn_session_output(s, 0, od, &r);
        // reference: conv[p][oc] = relu(b[oc] + sum_c x[p][c] w[c][oc]); CReLU; 2x2 max, SAME
        const float wv[2][3] = {{1, -2, 0.5f}, {0.25f, 1, -1}}, b[3] = {0, 0.5f, -1};
        float cr[9][6], err = 0;
        for (int p = 0; p < 9; p++)
            for (int o = 0; o < 3; o++) {
                float v = b[o] + x[p * 2] * wv[0][o] + x[p * 2 + 1] * wv[1][o];
                v = v > 0 ? v : 0;
                cr[p][o] = v, cr[p][o + 3] = -v;
            }
        for (int oy = 0; oy < 2; oy++)
            for (int ox = 0; ox < 2; ox++)
                for (int c = 0; c < 6; c++) {
                    float m = -INFINITY;
                    for (int ky = 0; ky < 2; ky++)
                        for (int kx = 0; kx < 2; kx++) {
                            int iy = oy * 2 + ky, ix = ox * 2 + kx;
                            if (iy < 3 && ix < 3 && cr[iy * 3 + ix][c] > m) m = cr[iy * 3 + ix][c];
                        }
                    err = fmaxf(err, fabsf(m - y[(oy * 2 + ox) * 6 + c]));
                }
        TEST_COND("output [1,2,2,6] equals the values computed here (max error 0)", r == 4 && od[1] == 2 && od[2] == 2 && od[3] == 6 && err == 0);
        nn_session_free(s);
        nn_net_free(net);
    }

    model_dw();
    rc = load(NULL, &net);
    TEST_COND("depthwise (uint16 weights, EXPLICIT padding, 2 shards) + Reshape + Softmax loads", rc == FH_OK);
    if (rc) printf("# %s\n", fh_errmsg());
    if (!rc) {
        struct nn_session *s;
        nn_session_new(net, NULL, &s);
        int d[4] = {1, 2, 3, 2}, od[FH_MAX_DIMS], r;
        nn_session_reshape(s, d, 4);
        float xs[12], *x = nn_session_input(s, 0), err = 0;
        for (int i = 0; i < 12; i++) x[i] = xs[i] = (float)(i % 5) * 0.5f - 1;
        nn_session_run(s);
        const float *y = nn_session_output(s, 0, od, &r);
        // reference: dw[p][c] = b[c] + sum_{ky,kx} x[p + (ky-1, kx-1)][c] w[ky][kx][c]; softmax over c
        for (int py = 0; py < 2; py++)
            for (int px = 0; px < 3; px++) {
                float v[2];
                for (int c = 0; c < 2; c++) {
                    v[c] = c ? -0.25f : 0.5f;
                    for (int ky = 0; ky < 3; ky++)
                        for (int kx = 0; kx < 3; kx++) {
                            int iy = py + ky - 1, ix = px + kx - 1, k = (ky * 3 + kx) * 2 + c;
                            if (iy >= 0 && iy < 2 && ix >= 0 && ix < 3) v[c] += xs[(iy * 3 + ix) * 2 + c] * ((float)(k * 3 % 17) / 4 - 2);
                        }
                }
                float e1 = 1 / (1 + expf(v[0] - v[1]));
                err = fmaxf(err, fabsf(y[(py * 3 + px) * 2 + 1] - e1));
            }
        char msg[160];
        snprintf(msg, sizeof msg, "its output [1,6,2] equals the values computed here (max error %.2g)", err);
        TEST_COND(msg, r == 3 && od[1] == 6 && od[2] == 2 && err < 1e-6f);
        nn_session_free(s);
        nn_net_free(net);
    }
    // every allocation failing in turn: FH_E_NOMEM or FH_OK, never a crash or a leak
    int oom_ok = 1, n_nomem = 0;
    for (long k = 1; k < 400; k++) {
        fh_alloc_fail_after(k);
        rc = load(NULL, &net);
        fh_alloc_fail_after(0);
        if (!rc) nn_net_free(net);
        else if (rc == FH_E_NOMEM) n_nomem++;
        else oom_ok = 0;
    }
    TEST_COND("every allocation failing in turn: FH_E_NOMEM or a net, nothing else", oom_ok && n_nomem > 10);
    snprintf(sp, sizeof sp, "%s/a.bin", dir);
    unlink(sp);
    snprintf(sp, sizeof sp, "%s/b.bin", dir);
    unlink(sp);

    model("_FusedConv2D", 2, "shard.bin", "x", 1, 1e-40f);
    rc = load(NULL, &net);
    const struct nn_value *w = NULL;
    for (int i = 0; !rc && i < net->n_values; i++)
        if (!strcmp(net->values[i].name, "w")) w = &net->values[i];
    TEST_COND("a float32 denormal weight is zero after load", !rc && w && w->data && w->data[0] == 0.0f && w->data[3] == 1.0f);
    nn_net_free(rc ? NULL : net);

    // damaged inputs
    model("_FusedConv2D", 2, "shard.bin", "x", 0, 0);
    char j[4096];
    FILE *f = fopen(json_path, "rb");
    size_t jn = f ? fread(j, 1, sizeof j, f) : 0;
    if (f) fclose(f);
    int ok = jn > 0, nfmt = 0;
    for (size_t k = 0; k < jn; k += 7) {
        write_file("model.json", j, k);
        rc = load(NULL, &net);
        if (rc == FH_OK) ok = 0, nn_net_free(net);
        nfmt += rc == FH_E_FORMAT;
    }
    TEST_COND("model.json cut at every 7th byte: refused, never loads", ok);
    printf("# %d of %zu cuts give FH_E_FORMAT\n", nfmt, (jn + 6) / 7);

    model("_FusedConv2D", 2, "shard.bin", "x", 0, 0);
    snprintf(sp, sizeof sp, "%s/shard.bin", dir);
    unlink(sp);
    rc = load(NULL, &net);
    TEST_COND("a missing shard: FH_E_IO naming it and model.json", rc == FH_E_IO && has("shard.bin") && has("model.json"));
    printf("# %s\n", fh_errmsg());
    model("_FusedConv2D", 2, "shard.bin", "x", 0, 0);
    write_file("shard.bin", "\1\2\3\4\5", 5);
    rc = load(NULL, &net);
    TEST_COND("a truncated shard: FH_E_FORMAT", rc == FH_E_FORMAT && has("truncated"));
    printf("# %s\n", fh_errmsg());
    static const uint8_t zeros[96];
    write_file("shard.bin", zeros, sizeof zeros);
    rc = load(NULL, &net);
    TEST_COND("a shard longer than its weights: FH_E_FORMAT naming it", rc == FH_E_FORMAT && has("shard.bin"));
    static const struct {
        const char *op, *shard, *xin;
        int cin, rc;
        const char *needle, *descr;
    } bad[] = {
        {"_FusedConv2D", "../shard.bin", "x", 2, FH_E_FORMAT, "plain file name", "a shard path leaving the folder: FH_E_FORMAT"},
        {"Frobnicate", "shard.bin", "x", 2, FH_E_UNSUPPORTED, "'conv': op 'Frobnicate'", "an unknown op: FH_E_UNSUPPORTED naming op and node"},
        {"_FusedConv2D", "shard.bin", "x", 3, FH_E_FORMAT, "'conv'", "weights for 3 channels on a 2-channel input: FH_E_FORMAT naming the node"},
        {"_FusedConv2D", "shard.bin", "pool", 2, FH_E_UNSUPPORTED, "cycle", "a cycle (control flow): FH_E_UNSUPPORTED"},
        {"_FusedConv2D", "shard.bin", "nowhere", 2, FH_E_FORMAT, "nowhere", "an input that is no node: FH_E_FORMAT naming it"},
    };
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        model(bad[k].op, bad[k].cin, bad[k].shard, bad[k].xin, 0, 0);
        rc = load(NULL, &net);
        TEST_COND(bad[k].descr, rc == bad[k].rc && has(bad[k].needle));
        printf("# %s\n", fh_errmsg());
    }
    model("_FusedConv2D", 2, "shard.bin", "x", 0, 0);
    const char *cut[1] = {"nothing"};
    struct nn_options opt = {.outputs = cut, .n_outputs = 1};
    rc = load(&opt, &net);
    TEST_COND("an output cut naming no node: FH_E_NOTFOUND", rc == FH_E_NOTFOUND && has("nothing"));
    static const char huge[] = "{\"modelTopology\":{\"node\":[{\"name\":\"x\",\"op\":\"Placeholder\"}]},"
                               "\"weightsManifest\":[{\"paths\":[\"shard.bin\"],\"weights\":[{\"name\":\"w\","
                               "\"shape\":[65536,65536,16],\"dtype\":\"float32\"}]}]}";
    write_file("model.json", huge, strlen(huge));
    rc = load(NULL, &net);
    TEST_COND("a weight of 2^36 elements: FH_E_LIMIT before any allocation for it", rc == FH_E_LIMIT && has("'w'"));
    write_file("model.json", "[1,2", 4);
    rc = load(NULL, &net);
    TEST_COND("bad JSON: FH_E_FORMAT", rc == FH_E_FORMAT && has("JSON"));
    snprintf(sp, sizeof sp, "%s/shard.bin", dir);
    unlink(sp), unlink(json_path), rmdir(dir);

    // the real model: its stride-32 heads, from the padded image on (the detector's full
    // cut is tested in tests/golden/test_faceboxes)
    static const char *const heads[2] = {"prediction_layers/class_predictor_0/BiasAdd", "prediction_layers/box_encoding_predictor_0/BiasAdd"};
    static const char *const in[1] = {"image_padding/pad_to_bounding_box/Pad"};
    static const int shape[4] = {1, 128, 128, 3};
    struct nn_options fo = {.outputs = heads, .n_outputs = 2, .inputs = in, .n_inputs = 1, .input_shape = shape, .input_rank = 4};
    rc = nn_net_load_tfjs(FH_MODELS "/faceboxes/model.json", &fo, &net);
    TEST_COND("FaceBoxes cut to its stride-32 heads loads (needs `make models`)", rc == FH_OK);
    if (rc) printf("# %s\n", fh_errmsg());
    if (!rc) {
        printf("# %d operators, %zu weights\n", nn_net_n_nodes(net), nn_net_n_weights(net));
        nn_net_free(net);
    }
    rc = nn_net_load_tfjs(FH_MODELS "/faceboxes/model.json", NULL, &net);
    TEST_COND("FaceBoxes uncut: refused (its NMS is a while loop), naming a node", rc == FH_E_UNSUPPORTED && has("node '"));
    printf("# %s\n", fh_errmsg());
    return TEST_REPORT();
}
