// SPDX-License-Identifier: MIT
// facehatch model convert IN.tflite OUT.fhm: a TFLite embedder as our model file, with
// its metadata (input preprocessing, shape, producer); facehatch model info FILE: a
// model's metadata, ops and parameter count (.fhm or .tflite), one JSON line.
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "nn/nn.h"

static const char *USAGE =
    "model convert IN.tflite OUT.fhm [--arch NAME] [--mean M] [--scale S] | model info FILE\n"
    "  convert: the net as imported (fused ops), the export passes run; --mean/--scale: the\n"
    "  input preprocessing (pixel - M) * S (default 127.5 and 0.0078125, MobileFaceNet's)";

// a .fhm or a TFLite file, by content
static int load_any(const char *path, struct nn_net **net, const char **format) {
    uint8_t *buf;
    size_t n;
    int rc = fh_read_file(path, FH_MAX_MODEL_BYTES, &buf, &n);
    if (!rc) {
        int fhm = nn_is_fhm(buf, n);
        *format = fhm ? "fhm" : "tflite";
        rc = fhm ? nn_net_load_mem(buf, n, NULL, net) : nn_net_load_tflite_mem(buf, n, NULL, net);
        fh_free(buf);
    }
    if (rc) {
        fprintf(stderr, "facehatch: %s: %s\n", path, fh_errmsg());
        return EXIT_FAIL;
    }
    return EXIT_OK;
}

static int parse_float(const char *s, float *out) {
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end || !(v > -1e6 && v < 1e6)) return -1;
    *out = (float)v;
    return 0;
}

static int convert(int argc, char **argv) {
    const char *arch = "MobileFaceNet";
    float mean = 127.5f, scale = 0.0078125f;
    const char *pos[2];
    int np = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--arch") && val) arch = val, i++;
        else if (!strcmp(a, "--mean") && val && !parse_float(val, &mean)) i++;
        else if (!strcmp(a, "--scale") && val && !parse_float(val, &scale) && scale > 0) i++;
        else if (a[0] == '-' && a[1] == '-') {
            fprintf(stderr, "facehatch: bad option '%s'\nusage: facehatch %s\n", a, USAGE);
            return EXIT_USAGE;
        } else if (np < 2) pos[np++] = a;
        else np = 3;
    }
    if (np != 2) {
        fprintf(stderr, "facehatch: model convert takes IN.tflite OUT.fhm\nusage: facehatch %s\n", USAGE);
        return EXIT_USAGE;
    }
    struct nn_net *net;
    const char *format;
    int rc = load_any(pos[0], &net, &format);
    if (rc) return rc;
    int dims[FH_MAX_DIMS], r = nn_net_input_shape(net, 0, dims);
    char h[16] = "", w[16] = "", c[16] = "", m[32], s[32], emb[16] = "", src[600];
    if (r == 4) snprintf(h, sizeof h, "%d", dims[1]), snprintf(w, sizeof w, "%d", dims[2]), snprintf(c, sizeof c, "%d", dims[3]);
    snprintf(m, sizeof m, "%.9g", mean), snprintf(s, sizeof s, "%.9g", scale);
    const char *base = strrchr(pos[0], '/');
    snprintf(src, sizeof src, "none: converted from the %s file %s", format, base ? base + 1 : pos[0]);
    // the embedding width: the output's last dimension at the stored input shape
    struct nn_session *ses;
    if (!nn_session_new(net, NULL, &ses)) {
        int od[FH_MAX_DIMS], orank;
        if (!nn_session_reshape(ses, dims, r)) {
            nn_session_output(ses, 0, od, &orank);
            if (orank >= 1) snprintf(emb, sizeof emb, "%d", od[orank - 1]);
        }
        nn_session_free(ses);
    }
    struct nn_meta meta = {0};
    const char *kv[][2] = {{"arch", arch}, {"embedding_size", emb}, {"input_height", h},
                           {"input_width", w}, {"input_channels", c}, {"color_order", "RGB"},
                           {"input_mean", m}, {"input_scale", s},
                           {"producer", "facehatch model convert"}, {"training", src}};
    for (size_t i = 0; i < sizeof kv / sizeof *kv; i++)
        if (kv[i][1][0]) meta.key[meta.n] = kv[i][0], meta.value[meta.n++] = kv[i][1];
    rc = nn_net_optimize(net, NN_PASSES_EXPORT);
    if (!rc) rc = nn_net_save(net, pos[1], &meta);
    if (rc) fprintf(stderr, "facehatch: %s\n", fh_errmsg());
    else printf("{\"converted\":\"%s\",\"nodes\":%d,\"params\":%zu}\n", pos[1], nn_net_n_nodes(net), nn_net_n_weights(net));
    nn_net_free(net);
    return rc ? EXIT_FAIL : EXIT_OK;
}

static int info(int argc, char **argv) {
    if (argc != 1 || argv[0][0] == '-') {
        fprintf(stderr, "facehatch: model info takes one FILE\nusage: facehatch %s\n", USAGE);
        return EXIT_USAGE;
    }
    struct nn_net *net;
    const char *format;
    int rc = load_any(argv[0], &net, &format);
    if (rc) return rc;
    printf("{\"file\":");
    json_str(stdout, argv[0]);
    printf(",\"format\":\"%s\",\"meta\":{", format);
    const char *k, *v;
    for (int i = 0; nn_net_meta_at(net, i, &k, &v); i++) {
        if (i) putchar(',');
        json_str(stdout, k), putchar(':'), json_str(stdout, v);
    }
    int dims[FH_MAX_DIMS], r = nn_net_input_shape(net, 0, dims);
    printf("},\"input\":[");
    for (int i = 0; i < r; i++) printf("%s%d", i ? "," : "", dims[i]);
    printf("],\"nodes\":%d,\"params\":%zu,\"ops\":{", nn_net_n_nodes(net), nn_net_n_weights(net));
    int first = 1;
    for (int op = 0; op < NN_OP_COUNT; op++) {
        int n = nn_net_count_op(net, (enum nn_op)op);
        if (n) printf("%s\"%s\":%d", first ? "" : ",", nn_op_name((enum nn_op)op), n), first = 0;
    }
    printf("}}\n");
    nn_net_free(net);
    return EXIT_OK;
}

int cmd_model(int argc, char **argv) {
    if (argc >= 1 && (!strcmp(argv[0], "--help") || !strcmp(argv[0], "-h"))) {
        printf("usage: facehatch %s\n", USAGE);
        return EXIT_OK;
    }
    if (argc >= 1 && !strcmp(argv[0], "convert")) return convert(argc - 1, argv + 1);
    if (argc >= 1 && !strcmp(argv[0], "info")) return info(argc - 1, argv + 1);
    fprintf(stderr, "facehatch: model convert|info\nusage: facehatch %s\n", USAGE);
    return EXIT_USAGE;
}
