// SPDX-License-Identifier: MIT
// TensorFlow.js graph-model reader for the subset our detectors use, producing an nn_net: a
// third front door to the same graph, passes and kernels as the TFLite and ONNX readers.
// JSON is parsed with cJSON, which stays inside this file.
//
// What it reads: model.json with format "graph-model": modelTopology.node[] (name, op,
// input[], attr{}) and weightsManifest[] groups (paths[]: shards read back to back;
// weights[]: name, shape, dtype float32 / int32 / bool, optional quantization float16, or
// uint8 / uint16 with value = q * scale + min). Const nodes take their data from the
// manifest by name; float weights are read as float32 with denormals set to zero.
//
// Only what the outputs need is imported: a walk back from the outputs (opt->outputs, or the
// signature's, else the nodes nothing reads) stops at Placeholders and at a cut input
// (opt->inputs), so a graph whose head does shape arithmetic and whose tail holds control
// flow (FaceBoxes: padding to a multiple of 128 before the net, a while loop of NMS after
// it) runs as its plain middle.
//
// Ops: Placeholder, Const, Identity, Conv2D / _FusedConv2D (fused BiasAdd, optional Relu),
// DepthwiseConv2dNative / FusedDepthwiseConv2dNative (multiplier 1), BiasAdd, Relu, Neg, Exp,
// Add / AddV2 / Sub / Mul / RealDiv, ConcatV2, MaxPool, Softmax (last axis), Reshape to a
// constant shape. Data format NHWC only (ours); SAME, VALID and EXPLICIT padding. Anything
// else is refused with FH_E_UNSUPPORTED naming the node and op, never run wrong.
//
// Layout: TF is NHWC like the engine; conv weights (KH, KW, C, OC) are permuted to ours
// (OC, KH, KW, C); depthwise (KH, KW, C, 1) is (1, KH, KW, C) already in memory order.
#include <cjson/cJSON.h> // defines: cJSON_ParseWithLength, the cJSON tree walkers
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/passes.h"

#define TJ_MAX_JSON_BYTES (64u * 1024u * 1024u) // a topology far above any we read
#define TJ_MAX_SHARDS 4096

// ---- the importer's state -------------------------------------------------------------------
struct tj_weight {
    const char *name;      // borrowed from the JSON tree
    int rank, d[FH_MAX_DIMS];
    size_t count;
    int kind;              // TJW_*
    float scale, min;      // uint8 / uint16
    int group;             // manifest group
    size_t offset;         // bytes into the group's concatenated shards
};
enum { TJW_F32, TJW_I32, TJW_BOOL, TJW_F16, TJW_U8, TJW_U16 };
static const size_t tjw_size[] = {4, 4, 1, 2, 1, 2};

struct tj {
    const char *path;      // model.json (for shard paths)
    cJSON *root;
    int n_nodes;
    cJSON **node;          // node[i]: the JSON node
    const char **name;     // node[i]'s name
    char *state;           // per node: 0 not needed, 1 visiting, 2 ordered
    int *order, n_order;   // needed nodes, inputs before readers
    int *value;            // per node: value index + 1 once emitted
    size_t map_cap;
    int *map;              // name hash -> node index + 1
    struct tj_weight *w;
    int n_w;
    int n_groups;
    uint8_t **group;       // per group: its shards' bytes back to back, loaded when needed
    size_t *group_len;
    struct nn_net *net;
    int max_values, max_nodes;
    float *next;           // next free float in the blob
    size_t flushed;
    const struct nn_options *opt;
    char *converted;       // per value: conv weights already permuted
};

static size_t name_hash(const char *s, size_t n) {
    size_t h = 1469598103934665603u;
    for (size_t i = 0; i < n; i++) h = (h ^ (uint8_t)s[i]) * 1099511628211u;
    return h;
}

// node index of a name (its first n bytes), or -1
static int tj_find(const struct tj *t, const char *s, size_t n) {
    for (size_t h = name_hash(s, n) & (t->map_cap - 1);; h = (h + 1) & (t->map_cap - 1)) {
        int i = t->map[h] - 1;
        if (i < 0) return -1;
        if (strlen(t->name[i]) == n && !memcmp(t->name[i], s, n)) return i;
    }
}

// node i's data input k as a node index *j: "^ctrl" inputs are skipped (k counts data
// inputs); "name:0" is name; another output index is refused. *j = -1 past the end.
// FH_OK, FH_E_FORMAT, FH_E_UNSUPPORTED.
static int tj_input(const struct tj *t, int i, int k, int *j) {
    *j = -1;
    cJSON *in = cJSON_GetObjectItemCaseSensitive(t->node[i], "input"), *e;
    int n = 0;
    cJSON_ArrayForEach(e, in) {
        if (!cJSON_IsString(e)) return fh_fail(FH_E_FORMAT, "tfjs: node '%s': an input is not a string", t->name[i]);
        const char *s = e->valuestring;
        if (s[0] == '^') continue;
        if (n++ != k) continue;
        size_t len = strlen(s);
        const char *colon = strrchr(s, ':');
        if (colon && colon[1] && strspn(colon + 1, "0123456789") == strlen(colon + 1)) {
            if (strcmp(colon + 1, "0"))
                return fh_fail(FH_E_UNSUPPORTED, "tfjs: node '%s' reads output %s of a multi-output op", t->name[i], s);
            len = (size_t)(colon - s);
        }
        if ((*j = tj_find(t, s, len)) < 0) return fh_fail(FH_E_FORMAT, "tfjs: node '%s': input '%s' is not a node", t->name[i], s);
        return FH_OK;
    }
    return FH_OK;
}

static int tj_n_inputs(const struct tj *t, int i) {
    cJSON *in = cJSON_GetObjectItemCaseSensitive(t->node[i], "input"), *e;
    int n = 0;
    cJSON_ArrayForEach(e, in) n += cJSON_IsString(e) && e->valuestring[0] != '^';
    return n;
}

static const char *tj_op(const struct tj *t, int i) {
    cJSON *op = cJSON_GetObjectItemCaseSensitive(t->node[i], "op");
    return cJSON_IsString(op) ? op->valuestring : "";
}

static int is_cut(const struct tj *t, int i) {
    const struct nn_options *o = t->opt;
    for (int k = 0; o && k < o->n_inputs; k++)
        if (o->inputs[k] && !strcmp(o->inputs[k], t->name[i])) return 1;
    return 0;
}

// ---- attributes ------------------------------------------------------------------------------
static cJSON *tj_attr(const struct tj *t, int i, const char *name) {
    return cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(t->node[i], "attr"), name);
}

// a JSON integer written as a string ("4") or a number; 0 if neither
static int json_int(const cJSON *v, int64_t *out) {
    char *end;
    if (cJSON_IsNumber(v)) return fabs(v->valuedouble) < 1e15 ? (*out = (int64_t)v->valuedouble, 1) : 0;
    if (!cJSON_IsString(v) || !v->valuestring[0]) return 0;
    long long x = strtoll(v->valuestring, &end, 10);
    return *end ? 0 : (*out = x, 1);
}

// list-of-ints attribute into v[0..max): its count; -1 absent; -2 damaged or longer
static int attr_ints(const struct tj *t, int i, const char *name, int64_t *v, int max) {
    cJSON *a = tj_attr(t, i, name), *e;
    if (!a) return -1;
    cJSON *l = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(a, "list"), "i");
    int n = 0;
    if (!l) return cJSON_GetObjectItemCaseSensitive(a, "list") ? 0 : -2;
    cJSON_ArrayForEach(e, l) if (n >= max || !json_int(e, &v[n++])) return -2;
    return n;
}

// standard base64 s decoded into buf (NUL-terminated, at most cap - 1 bytes); 0 if damaged
static int b64_decode(const char *s, char *buf, size_t cap) {
    static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t n = 0;
    unsigned acc = 0;
    int bits = 0;
    for (; s && *s && *s != '='; s++) {
        const char *c = strchr(al, *s);
        if (!c) return 0;
        acc = acc << 6 | (unsigned)(c - al), bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (n + 1 >= cap) return 0;
            buf[n++] = (char)(acc >> bits & 0xff);
        }
    }
    buf[n] = 0;
    return s != NULL;
}

// string attribute (GraphDef JSON keeps bytes as base64) into buf; 1 if present and sound
static int attr_str(const struct tj *t, int i, const char *name, char *buf, size_t cap) {
    return b64_decode(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(tj_attr(t, i, name), "s")), buf, cap);
}

// ---- weights -----------------------------------------------------------------------------------
static int parse_dtype(const char *s, int *kind) {
    static const char *const names[] = {"float32", "int32", "bool", "float16", "uint8", "uint16"};
    for (int k = 0; k < 6; k++)
        if (s && !strcmp(s, names[k])) return *kind = k, 1;
    return 0;
}

static int by_name(const void *a, const void *b) {
    return strcmp(((const struct tj_weight *)a)->name, ((const struct tj_weight *)b)->name);
}

// reads the manifest: every weight's place in its group, checked against its shape
static int tj_manifest(struct tj *t) {
    cJSON *man = cJSON_GetObjectItemCaseSensitive(t->root, "weightsManifest"), *g, *w;
    if (!cJSON_IsArray(man)) return fh_fail(FH_E_FORMAT, "tfjs: no weightsManifest");
    int nw = 0, ng = cJSON_GetArraySize(man);
    cJSON_ArrayForEach(g, man) nw += cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(g, "weights"));
    if (nw > FH_MAX_MODEL_TENSORS || ng > TJ_MAX_SHARDS)
        return fh_fail(FH_E_LIMIT, "tfjs: %d weights in %d groups (at most %d)", nw, ng, FH_MAX_MODEL_TENSORS);
    t->w = fh_calloc((size_t)nw + 1, sizeof *t->w);
    t->group = fh_calloc((size_t)ng + 1, sizeof *t->group);
    t->group_len = fh_calloc((size_t)ng + 1, sizeof *t->group_len);
    if (!t->w || !t->group || !t->group_len) return fh_fail(FH_E_NOMEM, "tfjs: out of memory");
    t->n_groups = ng;
    int gi = 0;
    size_t total = 0;
    cJSON_ArrayForEach(g, man) {
        size_t off = 0;
        cJSON_ArrayForEach(w, cJSON_GetObjectItemCaseSensitive(g, "weights")) {
            struct tj_weight *x = &t->w[t->n_w];
            cJSON *nm = cJSON_GetObjectItemCaseSensitive(w, "name"), *sh = cJSON_GetObjectItemCaseSensitive(w, "shape"), *d;
            cJSON *dt = cJSON_GetObjectItemCaseSensitive(w, "dtype"), *q = cJSON_GetObjectItemCaseSensitive(w, "quantization");
            if (!cJSON_IsString(nm) || !cJSON_IsArray(sh)) return fh_fail(FH_E_FORMAT, "tfjs: weight %d has no name or shape", t->n_w);
            x->name = nm->valuestring;
            if (!parse_dtype(cJSON_GetStringValue(dt), &x->kind) || x->kind == TJW_F16 || x->kind == TJW_U8 || x->kind == TJW_U16)
                return fh_fail(FH_E_UNSUPPORTED, "tfjs: weight '%s' of dtype %s", x->name, cJSON_GetStringValue(dt) ? cJSON_GetStringValue(dt) : "?");
            if (q) {
                int qk;
                if (!parse_dtype(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(q, "dtype")), &qk) || qk < TJW_F16 || x->kind != TJW_F32)
                    return fh_fail(FH_E_UNSUPPORTED, "tfjs: weight '%s': quantization other than float16 / uint8 / uint16 of float32", x->name);
                x->kind = qk;
                if (qk != TJW_F16) {
                    cJSON *sc = cJSON_GetObjectItemCaseSensitive(q, "scale"), *mn = cJSON_GetObjectItemCaseSensitive(q, "min");
                    if (!cJSON_IsNumber(sc) || !cJSON_IsNumber(mn)) return fh_fail(FH_E_FORMAT, "tfjs: weight '%s': quantization without scale and min", x->name);
                    x->scale = (float)sc->valuedouble, x->min = (float)mn->valuedouble;
                }
            }
            x->count = 1;
            cJSON_ArrayForEach(d, sh) {
                int64_t v;
                if (x->rank >= FH_MAX_DIMS) return fh_fail(FH_E_UNSUPPORTED, "tfjs: weight '%s' of rank > %d", x->name, FH_MAX_DIMS);
                if (!json_int(d, &v) || v < 0 || v > (1 << 24)) return fh_fail(FH_E_FORMAT, "tfjs: weight '%s': a bad dimension", x->name);
                x->d[x->rank++] = (int)v;
                if ((x->count *= (size_t)v) > ((size_t)1 << 28)) return fh_fail(FH_E_LIMIT, "tfjs: weight '%s' of more than 2^28 elements", x->name);
            }
            x->group = gi, x->offset = off;
            off += x->count * tjw_size[x->kind];
            t->n_w++;
        }
        t->group_len[gi++] = off;
        if ((total += off) > FH_MAX_MODEL_BYTES)
            return fh_fail(FH_E_LIMIT, "tfjs: the manifest lists more than %u bytes of weights", FH_MAX_MODEL_BYTES);
    }
    qsort(t->w, (size_t)t->n_w, sizeof *t->w, by_name);
    for (int i = 1; i < t->n_w; i++)
        if (!by_name(&t->w[i - 1], &t->w[i])) return fh_fail(FH_E_FORMAT, "tfjs: weight '%s' is listed twice", t->w[i].name);
    return FH_OK;
}

// the manifest's weight of that name (t->w sorted by name once its places are known)
static const struct tj_weight *tj_weight(const struct tj *t, const char *name) {
    struct tj_weight key = {.name = name};
    return t->n_w ? bsearch(&key, t->w, (size_t)t->n_w, sizeof *t->w, by_name) : NULL;
}

// reads group g's shards (beside model.json) back to back; they must hold exactly its weights
static int tj_load_group(struct tj *t, int g) {
    if (t->group[g]) return FH_OK;
    cJSON *grp = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(t->root, "weightsManifest"), g), *p;
    cJSON *paths = cJSON_GetObjectItemCaseSensitive(grp, "paths");
    if (!cJSON_IsArray(paths) || cJSON_GetArraySize(paths) > TJ_MAX_SHARDS) return fh_fail(FH_E_FORMAT, "tfjs: weight group %d has no paths", g);
    if (t->group_len[g] > FH_MAX_MODEL_BYTES) return fh_fail(FH_E_LIMIT, "tfjs: weight group %d of %zu bytes", g, t->group_len[g]);
    if (!(t->group[g] = fh_malloc(t->group_len[g] + 1))) return fh_fail(FH_E_NOMEM, "tfjs: out of memory");
    const char *slash = strrchr(t->path, '/');
    int dir = slash ? (int)(slash - t->path + 1) : 0;
    size_t have = 0;
    cJSON_ArrayForEach(p, paths) {
        const char *s = cJSON_GetStringValue(p);
        // a shard is a file name beside model.json: no folders, nothing to climb out with
        if (!s || !*s || strchr(s, '/') || strchr(s, '\\') || !strcmp(s, "..") || strlen(s) > 255)
            return fh_fail(FH_E_FORMAT, "tfjs: weight group %d: shard path '%s' is not a plain file name", g, s ? s : "?");
        char full[4096];
        if (snprintf(full, sizeof full, "%.*s%s", dir, t->path, s) >= (int)sizeof full) return fh_fail(FH_E_LIMIT, "tfjs: shard path too long");
        uint8_t *buf;
        size_t n;
        int rc = fh_read_file(full, FH_MAX_MODEL_BYTES, &buf, &n);
        if (rc) {
            char msg[512];
            snprintf(msg, sizeof msg, "%s", fh_errmsg());
            return fh_fail(rc, "tfjs: shard '%s': %s", s, msg);
        }
        if (n > t->group_len[g] - have) {
            fh_free(buf);
            return fh_fail(FH_E_FORMAT, "tfjs: shard '%s' is longer than the weights the manifest lists (%zu bytes)", s, t->group_len[g]);
        }
        memcpy(t->group[g] + have, buf, n), have += n;
        fh_free(buf);
    }
    if (have != t->group_len[g])
        return fh_fail(FH_E_FORMAT, "tfjs: weight group %d: shards hold %zu bytes, the manifest's weights need %zu (truncated?)", g, have, t->group_len[g]);
    return FH_OK;
}

static float half_to_float(uint16_t h) {
    int e = h >> 10 & 31, m = h & 1023;
    float v = e == 0 ? ldexpf((float)m, -24) : e == 31 ? (m ? NAN : INFINITY) : ldexpf((float)(m | 1024), e - 25);
    return h & 0x8000 ? -v : v;
}

// ---- values and nodes ----------------------------------------------------------------------
static struct nn_params params0(void) {
    return (struct nn_params){.KH = 1, .KW = 1, .SH = 1, .SW = 1, .alpha = -1, .axis = -1, .alpha_scale = 1};
}

// a new value named like node i (or `name`), shape sh; *v = its index
static int tj_value(struct tj *t, const char *name, const struct nn_shape *sh, int *v) {
    struct nn_net *net = t->net;
    if (net->n_values >= t->max_values) return fh_fail(FH_E_FORMAT, "tfjs: more values than counted");
    struct nn_value *x = &net->values[net->n_values];
    if (!(x->name = fh_malloc(strlen(name) + 1))) return fh_fail(FH_E_NOMEM, "tfjs: out of memory");
    strcpy(x->name, name);
    x->shape = *sh, x->producer = -1, x->param = -1, x->last_use = -1;
    *v = net->n_values++;
    return FH_OK;
}

// node i's Const: its weight from the manifest (floats into the blob, ints as idata)
static int tj_const(struct tj *t, int i) {
    const struct tj_weight *w = tj_weight(t, t->name[i]);
    if (!w) return fh_fail(FH_E_FORMAT, "tfjs: Const '%s' has no weight in the manifest", t->name[i]);
    int rc = tj_load_group(t, w->group), v;
    if (rc) return rc;
    struct nn_shape sh = {w->rank, {0}};
    for (int k = 0; k < w->rank; k++) sh.d[k] = w->d[k];
    if ((rc = tj_value(t, t->name[i], &sh, &v))) return rc;
    struct nn_value *x = &t->net->values[v];
    const uint8_t *p = t->group[w->group] + w->offset;
    if (w->kind == TJW_I32 || w->kind == TJW_BOOL) {
        x->dtype = NN_I32;
        if (!(x->idata = fh_malloc(w->count * sizeof *x->idata + 4))) return fh_fail(FH_E_NOMEM, "tfjs: out of memory");
        for (size_t k = 0; k < w->count; k++)
            x->idata[k] = w->kind == TJW_BOOL ? p[k] : (int32_t)((uint32_t)p[4 * k] | (uint32_t)p[4 * k + 1] << 8 | (uint32_t)p[4 * k + 2] << 16 | (uint32_t)p[4 * k + 3] << 24);
    } else {
        x->data = t->next;
        t->next += (w->count + 15) & ~(size_t)15;
        for (size_t k = 0; k < w->count; k++) {
            switch (w->kind) {
            case TJW_F32: memcpy(&x->data[k], p + 4 * k, 4); break; // little-endian, like the engine
            case TJW_F16: x->data[k] = half_to_float((uint16_t)(p[2 * k] | p[2 * k + 1] << 8)); break;
            case TJW_U8: x->data[k] = p[k] * w->scale + w->min; break;
            default: x->data[k] = (uint16_t)(p[2 * k] | p[2 * k + 1] << 8) * w->scale + w->min; break;
            }
        }
        t->flushed += nn_flush_denormals(x->data, w->count);
    }
    t->value[i] = v + 1;
    return FH_OK;
}

// appends an engine node for tfjs node i; infers its output's shape
static int tj_emit(struct tj *t, int i, enum nn_op op, const int *in, int n_in, const struct nn_params *p) {
    struct nn_net *net = t->net;
    if (net->n_nodes >= t->max_nodes) return fh_fail(FH_E_FORMAT, "tfjs: more operators than counted");
    struct nn_node *nd = &net->nodes[net->n_nodes];
    *nd = (struct nn_node){.op = op, .n_in = n_in, .p = *p};
    const struct nn_shape *ins[NN_MAX_IN];
    for (int k = 0; k < n_in; k++) nd->in[k] = in[k], ins[k] = &net->values[in[k]].shape;
    struct nn_shape sh;
    if (nn_op_defs[op]->shape(net, nd, ins, &sh)) {
        char msg[256];
        snprintf(msg, sizeof msg, "%s", fh_errmsg());
        return fh_fail(FH_E_FORMAT, "tfjs: node '%s' (%s) does not fit its inputs: %s", t->name[i], tj_op(t, i), msg);
    }
    int v, rc = tj_value(t, t->name[i], &sh, &v);
    if (rc) return rc;
    nd->out = v;
    net->n_nodes++;
    t->value[i] = v + 1;
    return FH_OK;
}

// padding, strides and dilations of a conv / pool node into p; window kh x kw
static int tj_window(struct tj *t, int i, struct nn_params *p, int kh, int kw) {
    char s[32];
    int64_t st[4] = {1, 1, 1, 1}, dl[4] = {1, 1, 1, 1}, ep[8] = {0};
    if (attr_str(t, i, "data_format", s, sizeof s) && strcmp(s, "NHWC"))
        return fh_fail(FH_E_UNSUPPORTED, "tfjs: node '%s' (%s): data format %s (NHWC only)", t->name[i], tj_op(t, i), s);
    int ns = attr_ints(t, i, "strides", st, 4), nd = attr_ints(t, i, "dilations", dl, 4);
    if ((ns != 4 && ns != -1) || (nd != 4 && nd != -1) || st[0] != 1 || st[3] != 1 || dl[0] != 1 || dl[3] != 1)
        return fh_fail(FH_E_UNSUPPORTED, "tfjs: node '%s' (%s): strides / dilations not of the form [1, h, w, 1]", t->name[i], tj_op(t, i));
    for (int k = 1; k < 3; k++)
        if (st[k] < 1 || st[k] > 16 || dl[k] < 1 || dl[k] > 64) return fh_fail(FH_E_FORMAT, "tfjs: node '%s': stride or dilation out of range", t->name[i]);
    *p = params0();
    p->KH = kh, p->KW = kw, p->SH = (int)st[1], p->SW = (int)st[2], p->DH = (int)dl[1], p->DW = (int)dl[2];
    if (!attr_str(t, i, "padding", s, sizeof s)) return fh_fail(FH_E_FORMAT, "tfjs: node '%s' (%s) has no padding", t->name[i], tj_op(t, i));
    if (!strcmp(s, "SAME")) {
        p->same = 1;
    } else if (!strcmp(s, "VALID")) {
        p->same = 0;
    } else if (!strcmp(s, "EXPLICIT") && attr_ints(t, i, "explicit_paddings", ep, 8) == 8) {
        for (int k = 0; k < 8; k++)
            if (ep[k] < 0 || ep[k] > 64 || (k < 2 || k > 5 ? ep[k] != 0 : 0)) return fh_fail(FH_E_FORMAT, "tfjs: node '%s': explicit paddings out of range", t->name[i]);
        p->same = NN_PAD_EXPLICIT, p->PT = (int)ep[2], p->PB = (int)ep[3], p->PL = (int)ep[4], p->PR = (int)ep[5];
    } else {
        return fh_fail(FH_E_UNSUPPORTED, "tfjs: node '%s' (%s): padding '%s'", t->name[i], tj_op(t, i), s);
    }
    return FH_OK;
}

// value index of node i's data input k (emitted before i), or -1 with the error set
static int tj_in(struct tj *t, int i, int k) {
    int j;
    if (tj_input(t, i, k, &j)) return -1;
    if (j < 0) return fh_fail(FH_E_FORMAT, "tfjs: node '%s' (%s) lacks input %d", t->name[i], tj_op(t, i), k), -1;
    return t->value[j] - 1; // emitted: inputs come first in the order
}

static int is_act(const struct tj *t, int v) { return !t->net->values[v].data && !t->net->values[v].idata; }

static int tj_conv(struct tj *t, int i, int dw) {
    struct nn_net *net = t->net;
    int x = tj_in(t, i, 0), w = x < 0 ? -1 : tj_in(t, i, 1), b = -1;
    if (x < 0 || w < 0) return FH_E_FORMAT;
    struct nn_value *wv = &net->values[w];
    if (!is_act(t, x) || net->values[x].shape.rank != 4 || !wv->data || wv->shape.rank != 4)
        return fh_fail(FH_E_UNSUPPORTED, "tfjs: node '%s' (%s): needs a 4-D activation and constant 4-D weights", t->name[i], tj_op(t, i));
    // fused ops: none, BiasAdd, BiasAdd + Relu (input 2 is the bias)
    char f1[32] = "", f2[32] = "";
    cJSON *fl = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(tj_attr(t, i, "fused_ops"), "list"), "s");
    int nf = cJSON_GetArraySize(fl), act = NN_ACT_NONE;
    if (nf > 2) return fh_fail(FH_E_UNSUPPORTED, "tfjs: node '%s': %d fused ops", t->name[i], nf);
    if (nf >= 1) {
        if (!b64_decode(cJSON_GetStringValue(cJSON_GetArrayItem(fl, 0)), f1, sizeof f1) ||
            (nf == 2 && !b64_decode(cJSON_GetStringValue(cJSON_GetArrayItem(fl, 1)), f2, sizeof f2)))
            return fh_fail(FH_E_FORMAT, "tfjs: node '%s': damaged fused_ops", t->name[i]);
        if (strcmp(f1, "BiasAdd") || (nf == 2 && strcmp(f2, "Relu")))
            return fh_fail(FH_E_UNSUPPORTED, "tfjs: node '%s' (%s): fused ops %s%s%s (BiasAdd [+ Relu] only)", t->name[i], tj_op(t, i), f1, nf == 2 ? " + " : "", f2);
        if ((b = tj_in(t, i, 2)) < 0) return FH_E_FORMAT;
        act = nf == 2 ? NN_ACT_RELU : NN_ACT_NONE;
    }
    int KH = wv->shape.d[0], KW = wv->shape.d[1], C = net->values[x].shape.d[3], OC;
    if (t->converted[w]) { // a second reader of the same weights sees them permuted
        KH = wv->shape.d[1], KW = wv->shape.d[2];
        if (t->converted[w] != 1 + dw) return fh_fail(FH_E_UNSUPPORTED, "tfjs: node '%s': weights shared by a depthwise and a full conv", t->name[i]);
    }
    int wc = t->converted[w] ? wv->shape.d[3] : wv->shape.d[2];
    OC = dw ? wc : t->converted[w] ? wv->shape.d[0] : wv->shape.d[3];
    if (wc != C || (dw && !t->converted[w] && wv->shape.d[3] != 1))
        return fh_fail(FH_E_FORMAT, "tfjs: node '%s' (%s): weights %s do not fit %d input channels%s", t->name[i], tj_op(t, i), wv->name, C, dw ? " (depth multiplier 1 only)" : "");
    if (b >= 0 && (!net->values[b].data || nn_shape_count(&net->values[b].shape) != (size_t)OC))
        return fh_fail(FH_E_FORMAT, "tfjs: node '%s' (%s): bias must be a constant [%d]", t->name[i], tj_op(t, i), OC);
    struct nn_params p;
    int rc = tj_window(t, i, &p, KH, KW);
    if (rc) return rc;
    if (dw && (p.DH > 1 || p.DW > 1)) return fh_fail(FH_E_UNSUPPORTED, "tfjs: node '%s': dilated depthwise convolution", t->name[i]);
    p.act = act;
    if (!t->converted[w]) {
        if (dw) {
            wv->shape = (struct nn_shape){4, {1, KH, KW, C}}; // (KH, KW, C, 1): the same bytes
        } else { // (KH, KW, C, OC) -> (OC, KH, KW, C)
            size_t n = nn_shape_count(&wv->shape), khwc = (size_t)KH * KW * C;
            float *tmp = fh_malloc(n * sizeof *tmp + 4);
            if (!tmp) return fh_fail(FH_E_NOMEM, "tfjs: out of memory");
            for (size_t q = 0; q < khwc; q++)
                for (int o = 0; o < OC; o++) tmp[(size_t)o * khwc + q] = wv->data[q * (size_t)OC + o];
            memcpy(wv->data, tmp, n * sizeof *tmp);
            fh_free(tmp);
            wv->shape = (struct nn_shape){4, {OC, KH, KW, C}};
        }
        t->converted[w] = (char)(1 + dw);
    }
    int in[3] = {x, w, b};
    return tj_emit(t, i, dw ? NN_OP_DWCONV2D : NN_OP_CONV2D, in, b >= 0 ? 3 : 2, &p);
}

static int tj_node(struct tj *t, int i) {
    struct nn_net *net = t->net;
    const char *op = tj_op(t, i);
    struct nn_params p = params0();
    if (is_cut(t, i) || !strcmp(op, "Placeholder")) {
        struct nn_shape sh = {0, {0}};
        const struct nn_options *o = t->opt;
        if (is_cut(t, i)) {
            if (!o->input_shape || o->input_rank < 1 || o->input_rank > FH_MAX_DIMS)
                return fh_fail(FH_E_ARG, "tfjs: input '%s' is a cut: opt->input_shape must give its shape", t->name[i]);
            sh.rank = o->input_rank;
            for (int k = 0; k < sh.rank; k++) sh.d[k] = o->input_shape[k];
        } else {
            cJSON *dt = cJSON_GetObjectItemCaseSensitive(tj_attr(t, i, "dtype"), "type"), *d;
            if (dt && strcmp(cJSON_GetStringValue(dt) ? cJSON_GetStringValue(dt) : "", "DT_FLOAT"))
                return fh_fail(FH_E_UNSUPPORTED, "tfjs: input '%s' of type %s (float only; cut the net after its conversion)", t->name[i], cJSON_GetStringValue(dt) ? cJSON_GetStringValue(dt) : "?");
            cJSON *dims = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(tj_attr(t, i, "shape"), "shape"), "dim");
            cJSON_ArrayForEach(d, dims) {
                int64_t v = -1;
                if (sh.rank >= FH_MAX_DIMS) return fh_fail(FH_E_UNSUPPORTED, "tfjs: input '%s' of rank > %d", t->name[i], FH_MAX_DIMS);
                if (!json_int(cJSON_GetObjectItemCaseSensitive(d, "size"), &v) || v < 0)
                    v = o && o->input_shape && o->input_rank > sh.rank ? o->input_shape[sh.rank] : 1;
                sh.d[sh.rank++] = (int)v;
            }
        }
        for (int k = 0; k < sh.rank; k++)
            if (sh.d[k] < 1 || sh.d[k] > (1 << 20)) return fh_fail(FH_E_ARG, "tfjs: input '%s': dimension %d is %d", t->name[i], k, sh.d[k]);
        if (net->n_inputs >= 1) return fh_fail(FH_E_UNSUPPORTED, "tfjs: more than one input ('%s')", t->name[i]);
        int v, rc = tj_value(t, t->name[i], &sh, &v);
        if (rc) return rc;
        net->inputs[net->n_inputs++] = v;
        t->value[i] = v + 1;
        return FH_OK;
    }
    if (!strcmp(op, "Const")) return tj_const(t, i);
    int x = tj_in(t, i, 0);
    if (x < 0) return FH_E_FORMAT;
    if (!strcmp(op, "Identity")) return t->value[i] = x + 1, FH_OK;
    if (!strcmp(op, "Conv2D") || !strcmp(op, "_FusedConv2D")) return tj_conv(t, i, 0);
    if (!strcmp(op, "DepthwiseConv2dNative") || !strcmp(op, "FusedDepthwiseConv2dNative")) return tj_conv(t, i, 1);
    static const struct { const char *name; enum nn_op op; } binary[] = {
        {"Add", NN_OP_ADD}, {"AddV2", NN_OP_ADD}, {"BiasAdd", NN_OP_ADD}, {"Sub", NN_OP_SUB}, {"Mul", NN_OP_MUL}, {"RealDiv", NN_OP_DIV}};
    for (size_t k = 0; k < sizeof binary / sizeof *binary; k++) {
        if (strcmp(op, binary[k].name)) continue;
        int in[2] = {x, tj_in(t, i, 1)};
        char fmt[16];
        if (in[1] < 0) return FH_E_FORMAT;
        if (!strcmp(op, "BiasAdd") && attr_str(t, i, "data_format", fmt, sizeof fmt) && strcmp(fmt, "NHWC"))
            return fh_fail(FH_E_UNSUPPORTED, "tfjs: node '%s' (BiasAdd): data format %s (NHWC only)", t->name[i], fmt);
        if (net->values[in[0]].idata || net->values[in[1]].idata || (!is_act(t, in[0]) && !is_act(t, in[1])))
            return fh_fail(FH_E_UNSUPPORTED, "tfjs: node '%s' (%s): arithmetic on constants only (no constant folding)", t->name[i], op);
        return tj_emit(t, i, binary[k].op, in, 2, &p);
    }
    if (!is_act(t, x)) return fh_fail(FH_E_UNSUPPORTED, "tfjs: node '%s' (%s) of a constant (no constant folding)", t->name[i], op);
    if (!strcmp(op, "Relu")) return tj_emit(t, i, NN_OP_RELU, &x, 1, &p);
    if (!strcmp(op, "Neg")) return tj_emit(t, i, NN_OP_NEG, &x, 1, &p);
    if (!strcmp(op, "Exp")) return tj_emit(t, i, NN_OP_EXP, &x, 1, &p);
    if (!strcmp(op, "Softmax")) return tj_emit(t, i, NN_OP_SOFTMAX, &x, 1, &p);
    if (!strcmp(op, "MaxPool")) {
        int64_t ks[4];
        if (attr_ints(t, i, "ksize", ks, 4) != 4 || ks[0] != 1 || ks[3] != 1 || ks[1] < 1 || ks[1] > 64 || ks[2] < 1 || ks[2] > 64)
            return fh_fail(FH_E_UNSUPPORTED, "tfjs: node '%s' (MaxPool): ksize not of the form [1, h, w, 1]", t->name[i]);
        int rc = tj_window(t, i, &p, (int)ks[1], (int)ks[2]);
        if (!rc && (p.same == NN_PAD_EXPLICIT || p.DH > 1 || p.DW > 1)) rc = fh_fail(FH_E_UNSUPPORTED, "tfjs: node '%s' (MaxPool): explicit padding or dilation", t->name[i]);
        return rc ? rc : tj_emit(t, i, NN_OP_MAXPOOL2D, &x, 1, &p);
    }
    if (!strcmp(op, "ConcatV2")) { // inputs..., axis (an int constant, last)
        int n = tj_n_inputs(t, i) - 1, in[NN_MAX_IN], ax = n >= 1 ? tj_in(t, i, n) : -1;
        if (n < 1 || n > NN_MAX_IN) return fh_fail(FH_E_UNSUPPORTED, "tfjs: node '%s' (ConcatV2) of %d inputs (1..%d)", t->name[i], n, NN_MAX_IN);
        if (ax < 0 || !net->values[ax].idata || nn_shape_count(&net->values[ax].shape) != 1)
            return fh_fail(FH_E_FORMAT, "tfjs: node '%s' (ConcatV2): the axis must be an int constant", t->name[i]);
        for (int k = 0; k < n; k++)
            if ((in[k] = tj_in(t, i, k)) < 0 || !is_act(t, in[k])) return fh_fail(FH_E_UNSUPPORTED, "tfjs: node '%s' (ConcatV2): inputs must be activations", t->name[i]);
        int r = net->values[x].shape.rank;
        p.axis = net->values[ax].idata[0] < 0 ? net->values[ax].idata[0] + r : net->values[ax].idata[0];
        if (p.axis < 0 || p.axis >= r) return fh_fail(FH_E_FORMAT, "tfjs: node '%s' (ConcatV2): axis out of range", t->name[i]);
        return tj_emit(t, i, NN_OP_CONCAT, in, n, &p);
    }
    if (!strcmp(op, "Reshape")) {
        int in[2] = {x, tj_in(t, i, 1)};
        if (in[1] < 0 || !net->values[in[1]].idata || net->values[in[1]].shape.rank != 1 || net->values[in[1]].shape.d[0] > FH_MAX_DIMS)
            return fh_fail(FH_E_UNSUPPORTED, "tfjs: node '%s' (Reshape): the target shape must be an int constant", t->name[i]);
        return tj_emit(t, i, NN_OP_RESHAPE, in, 2, &p);
    }
    return fh_fail(FH_E_UNSUPPORTED, "tfjs: node '%s': op '%s' is not supported", t->name[i], op);
}

// ---- graph -----------------------------------------------------------------------------------
// orders the nodes the outputs need, inputs first (iterative depth-first walk; a cycle is
// control flow, which this reader does not run)
static int tj_order(struct tj *t, const int *outs, int n_outs) {
    int *stack = fh_malloc(((size_t)t->n_nodes + 1) * sizeof *stack), *next = fh_calloc((size_t)t->n_nodes + 1, sizeof *next);
    if (!stack || !next) {
        fh_free(stack), fh_free(next);
        return fh_fail(FH_E_NOMEM, "tfjs: out of memory");
    }
    int rc = FH_OK;
    for (int o = 0; o < n_outs && !rc; o++) {
        if (t->state[outs[o]]) continue;
        int sp = 0;
        stack[sp++] = outs[o], t->state[outs[o]] = 1;
        while (sp && !rc) {
            int i = stack[sp - 1];
            int leaf = is_cut(t, i) || !strcmp(tj_op(t, i), "Placeholder") || !strcmp(tj_op(t, i), "Const");
            int j = -1;
            if (!leaf && (rc = tj_input(t, i, next[i], &j))) break;
            if (j < 0) { // all inputs ordered
                t->state[i] = 2, t->order[t->n_order++] = i, sp--;
                continue;
            }
            next[i]++;
            if (t->state[j] == 1) rc = fh_fail(FH_E_UNSUPPORTED, "tfjs: node '%s' (%s) is in a cycle (control flow)", t->name[j], tj_op(t, j));
            else if (!t->state[j]) t->state[j] = 1, stack[sp++] = j;
        }
    }
    fh_free(stack), fh_free(next);
    return rc;
}

static int tj_graph(struct tj *t) {
    cJSON *fmt = cJSON_GetObjectItemCaseSensitive(t->root, "format");
    if (fmt && (!cJSON_IsString(fmt) || strcmp(fmt->valuestring, "graph-model")))
        return fh_fail(FH_E_UNSUPPORTED, "tfjs: format '%s' (graph-model only)", cJSON_GetStringValue(fmt) ? cJSON_GetStringValue(fmt) : "?");
    cJSON *nodes = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(t->root, "modelTopology"), "node"), *e;
    if (!cJSON_IsArray(nodes) || !cJSON_GetArraySize(nodes)) return fh_fail(FH_E_FORMAT, "tfjs: no modelTopology.node list");
    t->n_nodes = cJSON_GetArraySize(nodes);
    if (t->n_nodes > FH_MAX_MODEL_OPS) return fh_fail(FH_E_LIMIT, "tfjs: %d nodes (at most %d)", t->n_nodes, FH_MAX_MODEL_OPS);
    size_t n = (size_t)t->n_nodes;
    t->map_cap = 16;
    while (t->map_cap < n * 2) t->map_cap *= 2;
    t->node = fh_calloc(n, sizeof *t->node), t->name = fh_calloc(n, sizeof *t->name);
    t->state = fh_calloc(n, 1), t->order = fh_calloc(n, sizeof *t->order), t->value = fh_calloc(n, sizeof *t->value);
    t->map = fh_calloc(t->map_cap, sizeof *t->map);
    if (!t->node || !t->name || !t->state || !t->order || !t->value || !t->map) return fh_fail(FH_E_NOMEM, "tfjs: out of memory");
    int i = 0;
    cJSON_ArrayForEach(e, nodes) {
        const char *nm = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "name"));
        if (!nm || !*nm || !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(e, "op"))) return fh_fail(FH_E_FORMAT, "tfjs: node %d has no name or op", i);
        if (tj_find(t, nm, strlen(nm)) >= 0) return fh_fail(FH_E_FORMAT, "tfjs: node '%s' is defined twice", nm);
        t->node[i] = e, t->name[i] = nm;
        size_t h = name_hash(nm, strlen(nm)) & (t->map_cap - 1);
        while (t->map[h]) h = (h + 1) & (t->map_cap - 1);
        t->map[h] = ++i;
    }
    // outputs: the caller's cut, or the signature's
    int outs[8], n_outs = 0;
    const struct nn_options *o = t->opt;
    if (o && o->n_inputs > 1) return fh_fail(FH_E_ARG, "tfjs: at most 1 cut input");
    for (int k = 0; o && k < o->n_inputs; k++)
        if (!o->inputs[k] || tj_find(t, o->inputs[k], strlen(o->inputs[k])) < 0) return fh_fail(FH_E_NOTFOUND, "tfjs: no node named '%s' to cut the input at", o->inputs[k] ? o->inputs[k] : "(null)");
    if (o && o->n_outputs > 0) {
        if (o->n_outputs > 8) return fh_fail(FH_E_ARG, "tfjs: at most 8 outputs");
        for (int k = 0; k < o->n_outputs; k++) {
            int j = o->outputs[k] ? tj_find(t, o->outputs[k], strlen(o->outputs[k])) : -1;
            if (j < 0) return fh_fail(FH_E_NOTFOUND, "tfjs: no node named '%s' to output", o->outputs[k] ? o->outputs[k] : "(null)");
            outs[n_outs++] = j;
        }
    } else {
        cJSON *so = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(t->root, "signature"), "outputs");
        cJSON_ArrayForEach(e, so) {
            const char *nm = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "name"));
            size_t len = nm ? strcspn(nm, ":") : 0;
            int j = nm ? tj_find(t, nm, len) : -1;
            if (j < 0) return fh_fail(FH_E_FORMAT, "tfjs: signature output '%s' is not a node", nm ? nm : "?");
            if (n_outs >= 8) return fh_fail(FH_E_UNSUPPORTED, "tfjs: more than 8 outputs");
            outs[n_outs++] = j;
        }
        if (!n_outs) { // no signature: the nodes no node reads (constants and inputs aside)
            char *read = fh_calloc(n, 1);
            if (!read) return fh_fail(FH_E_NOMEM, "tfjs: out of memory");
            int rc = FH_OK;
            for (int k = 0; k < t->n_nodes && !rc; k++)
                for (int q = 0, j; !rc && !(rc = tj_input(t, k, q, &j)) && j >= 0; q++) read[j] = 1;
            for (int k = 0; k < t->n_nodes && !rc; k++) {
                if (read[k] || !strcmp(tj_op(t, k), "Const") || !strcmp(tj_op(t, k), "Placeholder")) continue;
                if (n_outs >= 8) rc = fh_fail(FH_E_UNSUPPORTED, "tfjs: more than 8 outputs; name them in opt->outputs");
                else outs[n_outs++] = k;
            }
            fh_free(read);
            if (rc) return rc;
        }
        if (!n_outs) return fh_fail(FH_E_FORMAT, "tfjs: no outputs");
    }
    int rc = tj_order(t, outs, n_outs);
    if (rc) return rc;
    // size the net: a value per needed node, floats for the needed float constants
    size_t floats = 0;
    for (int k = 0; k < t->n_order; k++) {
        if (strcmp(tj_op(t, t->order[k]), "Const") || is_cut(t, t->order[k])) continue;
        const struct tj_weight *w = tj_weight(t, t->name[t->order[k]]);
        if (w && w->kind != TJW_I32 && w->kind != TJW_BOOL) floats += (w->count + 15) & ~(size_t)15;
    }
    t->max_values = t->max_nodes = t->n_order + 1;
    if (!(t->net = nn_net_alloc(t->max_values, t->max_nodes))) return fh_fail(FH_E_NOMEM, "tfjs: out of memory");
    t->net->n_values = t->net->n_nodes = 0;
    t->net->blob = fh_malloc_aligned(floats * sizeof(float) + 64);
    t->converted = fh_calloc((size_t)t->max_values, 1);
    if (!t->net->blob || !t->converted) return fh_fail(FH_E_NOMEM, "tfjs: out of memory");
    t->next = t->net->blob;
    for (int k = 0; k < t->n_order && !rc; k++) rc = tj_node(t, t->order[k]);
    if (rc) return rc;
    if (!t->net->n_inputs) return fh_fail(FH_E_FORMAT, "tfjs: the outputs need no input");
    for (int k = 0; k < n_outs; k++) {
        int v = t->value[outs[k]] - 1;
        if (!is_act(t, v)) return fh_fail(FH_E_UNSUPPORTED, "tfjs: output '%s' is a constant", t->name[outs[k]]);
        t->net->outputs[t->net->n_outputs++] = v;
    }
    if (t->flushed) fh_log(FH_LOG_DEBUG, "tfjs: %zu denormal weights set to zero", t->flushed);
    return FH_OK;
}

static int tj_load(const char *path, const struct nn_options *opt, struct nn_net **out) {
    uint8_t *buf;
    size_t n;
    int rc = fh_read_file(path, TJ_MAX_JSON_BYTES, &buf, &n);
    if (rc) return rc;
    struct tj t = {.path = path, .opt = opt};
    t.root = cJSON_ParseWithLength((const char *)buf, n);
    fh_free(buf);
    if (!t.root || !cJSON_IsObject(t.root)) rc = fh_fail(FH_E_FORMAT, "tfjs: not JSON (or not an object): damaged model.json");
    if (!rc) rc = tj_manifest(&t);
    if (!rc) rc = tj_graph(&t);
    for (int g = 0; g < t.n_groups; g++) fh_free(t.group[g]);
    fh_free(t.group), fh_free(t.group_len), fh_free(t.w), fh_free(t.node), fh_free(t.name), fh_free(t.state);
    fh_free(t.order), fh_free(t.value), fh_free(t.map), fh_free(t.converted);
    cJSON_Delete(t.root);
    struct nn_net *net = t.net;
    if (!rc) rc = nn_passes_import(net, opt);
    if (!net) return rc;
    return nn_net_seal(net, rc, opt, out);
}

int nn_net_load_tfjs(const char *path, const struct nn_options *opt, struct nn_net **out) {
    *out = NULL;
    int rc = tj_load(path, opt, out);
    if (rc) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s", fh_errmsg());
        return fh_fail(rc, "%s: %s", path, msg);
    }
    return FH_OK;
}
