// SPDX-License-Identifier: MIT
// ONNX reader for the subset our detectors use, producing an nn_net: a second front door
// to the same graph, passes and kernels as the TFLite reader (no protobuf library: a
// small wire-format reader of our own, every length and index checked).
//
// What it reads: ModelProto (opset of the default domain 7..12), GraphProto with one
// NCHW rank-4 float input, float32 initializers / Constant tensors (raw_data or
// float_data), int64/int32 constants (shapes, axes). Ops: Conv (group 1, or depthwise
// with group = channels; explicit pads, strides, dilations), Relu, Add, Sub, Mul, Div, Exp,
// Concat, Slice (one axis), Softmax (last axis), Transpose (NCHW -> NHWC only), Reshape,
// Identity, and the shape arithmetic exporters emit (Shape, Gather, Unsqueeze, Concat of
// int constants), which is folded here into constants.
//
// Layout: the engine is NHWC. Every rank-4 activation that ONNX sees as (N, C, H, W) is
// stored as (N, H, W, C) and marked "nchw"; conv weights (OC, C, KH, KW) are permuted to
// (OC, KH, KW, C) (depthwise (C, 1, KH, KW) to (1, KH, KW, C)); a Concat / Slice axis on an
// nchw value is mapped to ours; Transpose(0, 2, 3, 1) of an nchw value is then the identity
// and its output is plain (ONNX and we agree on the order from there on). An op that would
// need a real transpose is refused (FH_E_UNSUPPORTED), never run wrong. A net output that
// is an nchw activation comes back NHWC.
//
// Shape arithmetic is folded at the stored input shape, so a Reshape target such as
// [N, -1, 2] becomes the constant [1, -1, 2]: nets of that form (ULFD) run at any spatial
// size, batch 1. Denormal weights are flushed to zero at load (they are noise left by
// training, and make every multiply with them slow). After reading, the import passes run
// (passes.h: conv + RELU fuse), then shapes are checked at the stored input shape.
#include <stdio.h>
#include <string.h>

#include "nn/passes.h"

// ---- protobuf wire format ----------------------------------------------------------------
struct pb {
    const uint8_t *p, *end;
    int bad; // a malformed field was met (truncated varint / length past the end / group)
};
struct pb_field {
    int num, wire;
    uint64_t v;          // wire 0: the varint; 1 / 5: the little-endian bits
    const uint8_t *data; // wire 2: the bytes (len), 1 / 5: the 8 / 4 bytes
    size_t len;
};

static int pb_varint(struct pb *m, uint64_t *v) {
    *v = 0;
    for (int s = 0; s < 64; s += 7) {
        if (m->p >= m->end) return m->bad = 1, 0;
        uint8_t c = *m->p++;
        *v |= (uint64_t)(c & 0x7f) << s;
        if (!(c & 0x80)) return 1;
    }
    return m->bad = 1, 0;
}

// next field of message m; 0 at the end (or on damage: m->bad)
static int pb_next(struct pb *m, struct pb_field *f) {
    uint64_t key;
    if (m->bad || m->p >= m->end || !pb_varint(m, &key)) return 0;
    f->num = (int)(key >> 3), f->wire = (int)(key & 7), f->v = 0, f->data = m->p, f->len = 0;
    size_t left = (size_t)(m->end - m->p);
    switch (f->wire) {
    case 0: return pb_varint(m, &f->v);
    case 1:
    case 5: {
        size_t n = f->wire == 1 ? 8 : 4;
        if (left < n) return m->bad = 1, 0;
        for (size_t i = 0; i < n; i++) f->v |= (uint64_t)m->p[i] << (8 * i);
        f->len = n, m->p += n;
        return 1;
    }
    case 2: {
        uint64_t n;
        if (!pb_varint(m, &n)) return 0;
        if (n > (uint64_t)(m->end - m->p)) return m->bad = 1, 0;
        f->data = m->p, f->len = (size_t)n, m->p += n;
        return 1;
    }
    }
    return m->bad = 1, 0; // groups (3, 4) and unknown wire types
}

static struct pb pb_sub(const struct pb_field *f) { return (struct pb){f->data, f->data + f->len, 0}; }
static int pb_streq(const struct pb_field *f, const char *s) {
    return f->wire == 2 && f->len == strlen(s) && !memcmp(f->data, s, f->len);
}

// repeated int64 field number num of message m (packed or not) into out[0..max); count
// in *n; 0 if damaged or more than max
static int pb_ints(struct pb m, int num, int64_t *out, int max, int *n) {
    struct pb_field f;
    *n = 0;
    while (pb_next(&m, &f)) {
        if (f.num != num) continue;
        if (f.wire == 0) {
            if (*n >= max) return 0;
            out[(*n)++] = (int64_t)f.v;
        } else if (f.wire == 2) {
            struct pb s = pb_sub(&f);
            uint64_t v;
            while (s.p < s.end) {
                if (!pb_varint(&s, &v) || *n >= max) return 0;
                out[(*n)++] = (int64_t)v;
            }
        } else {
            return 0;
        }
    }
    return !m.bad;
}

// ---- ONNX messages (field numbers from onnx.proto) -------------------------------------------
enum { OX_FLOAT = 1, OX_INT32 = 6, OX_INT64 = 7 };

// a TensorProto, located (data stays in the file)
struct ox_tensor {
    const uint8_t *name;
    size_t name_len;
    int dtype, rank;
    int d[FH_MAX_DIMS];
    size_t count;
    const uint8_t *raw;  // raw_data or NULL
    size_t raw_len;
    struct pb msg;       // the whole message (typed data fields are re-read from it)
};

// reads a TensorProto's header and checks that its data holds exactly count elements
static int ox_tensor_parse(struct pb m, struct ox_tensor *t) {
    memset(t, 0, sizeof *t);
    t->msg = m;
    int64_t dims[FH_MAX_DIMS + 1];
    int nd;
    if (!pb_ints(m, 1, dims, FH_MAX_DIMS + 1, &nd)) return fh_fail(FH_E_FORMAT, "onnx: a tensor's dims are damaged");
    if (nd > FH_MAX_DIMS) return fh_fail(FH_E_UNSUPPORTED, "onnx: a tensor of rank %d", nd);
    t->rank = nd, t->count = 1;
    for (int i = 0; i < nd; i++) {
        if (dims[i] < 0 || dims[i] > (1 << 24)) return fh_fail(FH_E_FORMAT, "onnx: tensor dimension %lld", (long long)dims[i]);
        t->d[i] = (int)dims[i];
        t->count *= (size_t)dims[i];
        if (t->count > ((size_t)1 << 30)) return fh_fail(FH_E_LIMIT, "onnx: tensor of more than 2^30 elements");
    }
    size_t n_typed = 0; // elements in float_data / int32_data / int64_data
    struct pb_field f;
    while (pb_next(&m, &f)) {
        if (f.num == 2 && f.wire == 0) t->dtype = (int)f.v;
        else if (f.num == 8 && f.wire == 2) t->name = f.data, t->name_len = f.len;
        else if (f.num == 9 && f.wire == 2) t->raw = f.data, t->raw_len = f.len;
        else if (f.num == 14 && f.wire == 0 && f.v == 1) return fh_fail(FH_E_UNSUPPORTED, "onnx: tensor '%.*s' keeps its data in an external file", (int)t->name_len, (const char *)t->name);
        else if (f.num == 4 || f.num == 5 || f.num == 7) {
            if (f.wire == 2) {
                if (f.num == 4 && f.len % 4) return fh_fail(FH_E_FORMAT, "onnx: tensor '%.*s' float data of %zu bytes", (int)t->name_len, (const char *)t->name, f.len);
                if (f.num == 4) n_typed += f.len / 4;
                else for (size_t i = 0; i < f.len; i++) n_typed += !(f.data[i] & 0x80);
            } else {
                n_typed++;
            }
        }
    }
    if (m.bad) return fh_fail(FH_E_FORMAT, "onnx: tensor '%.*s' is damaged", (int)t->name_len, (const char *)t->name);
    size_t es = t->dtype == OX_INT64 ? 8 : 4;
    if (t->dtype != OX_FLOAT && t->dtype != OX_INT64 && t->dtype != OX_INT32)
        return fh_fail(FH_E_UNSUPPORTED, "onnx: tensor '%.*s' has data type %d (float, int32, int64 only)", (int)t->name_len, (const char *)t->name, t->dtype);
    if (t->raw ? t->raw_len != t->count * es : n_typed != t->count)
        return fh_fail(FH_E_FORMAT, "onnx: tensor '%.*s' holds %zu %s, its shape needs %zu", (int)t->name_len,
                       (const char *)t->name, t->raw ? t->raw_len : n_typed, t->raw ? "bytes" : "values",
                       t->raw ? t->count * es : t->count);
    return FH_OK;
}

// copies a float tensor's data to dst (count floats), flushing denormals to zero; returns
// how many were flushed
static size_t ox_tensor_floats(const struct ox_tensor *t, float *dst) {
    size_t k = 0;
    if (t->raw) {
        memcpy(dst, t->raw, t->count * 4); // little-endian, like the engine
        k = t->count;
    } else {
        struct pb m = t->msg;
        struct pb_field f;
        while (pb_next(&m, &f) && k < t->count) {
            if (f.num != 4) continue;
            if (f.wire == 5) {
                uint32_t u = (uint32_t)f.v;
                memcpy(dst + k++, &u, 4);
            } else if (f.wire == 2) {
                size_t n = f.len / 4;
                if (n > t->count - k) n = t->count - k;
                memcpy(dst + k, f.data, n * 4), k += n;
            }
        }
    }
    return nn_flush_denormals(dst, t->count);
}

static int32_t sat32(int64_t v) { return v > INT32_MAX ? INT32_MAX : v < INT32_MIN ? INT32_MIN : (int32_t)v; }

// an int tensor's data (int64 saturated to int32) into dst (count)
static void ox_tensor_ints(const struct ox_tensor *t, int32_t *dst) {
    if (t->raw) {
        for (size_t i = 0; i < t->count; i++) {
            const uint8_t *p = t->raw + i * (t->dtype == OX_INT64 ? 8 : 4);
            uint64_t u = 0;
            for (int b = 0; b < (t->dtype == OX_INT64 ? 8 : 4); b++) u |= (uint64_t)p[b] << (8 * b);
            dst[i] = t->dtype == OX_INT64 ? sat32((int64_t)u) : (int32_t)(uint32_t)u;
        }
        return;
    }
    int64_t *tmp = fh_malloc(t->count * sizeof *tmp);
    int n = 0;
    if (tmp && pb_ints(t->msg, t->dtype == OX_INT64 ? 7 : 5, tmp, (int)t->count, &n))
        for (int i = 0; i < n; i++) dst[i] = sat32(tmp[i]);
    fh_free(tmp);
}

// ---- the importer's state -------------------------------------------------------------------
enum { LAYOUT_PLAIN, LAYOUT_NCHW };

struct ox {
    struct nn_net *net;
    int max_values, max_nodes;
    char *layout;          // per value: LAYOUT_*
    char *converted;       // per value: conv weights already permuted (1 conv, 2 depthwise)
    int *map;              // name hash -> value index + 1 (open addressing), map_cap slots
    const uint8_t **map_name;
    size_t *map_len;
    size_t map_cap;
    float *next;           // next free float in the blob
    size_t flushed;        // denormal weights set to zero
    int node;              // current ONNX node (messages)
};

static size_t name_hash(const uint8_t *s, size_t n) {
    size_t h = 1469598103934665603u;
    for (size_t i = 0; i < n; i++) h = (h ^ s[i]) * 1099511628211u;
    return h;
}

// value index of an ONNX name, or -1
static int ox_find(const struct ox *o, const uint8_t *s, size_t n) {
    for (size_t h = name_hash(s, n) & (o->map_cap - 1);; h = (h + 1) & (o->map_cap - 1)) {
        if (!o->map[h]) return -1;
        if (o->map_len[h] == n && !memcmp(o->map_name[h], s, n)) return o->map[h] - 1;
    }
}

// binds an ONNX name to value v (a name is defined once)
static int ox_bind(struct ox *o, const uint8_t *s, size_t n, int v) {
    if (!n) return fh_fail(FH_E_FORMAT, "onnx: node %d: an empty output name", o->node);
    if (ox_find(o, s, n) >= 0) return fh_fail(FH_E_FORMAT, "onnx: '%.*s' is defined twice", (int)n, (const char *)s);
    size_t h = name_hash(s, n) & (o->map_cap - 1);
    while (o->map[h]) h = (h + 1) & (o->map_cap - 1);
    o->map[h] = v + 1, o->map_name[h] = s, o->map_len[h] = n;
    return FH_OK;
}

// a new value named s (bound in the map), shape sh; *v = its index
static int ox_value(struct ox *o, const uint8_t *s, size_t n, const struct nn_shape *sh, int layout, int *v) {
    struct nn_net *net = o->net;
    if (net->n_values >= o->max_values) return fh_fail(FH_E_FORMAT, "onnx: more values than the graph declares");
    int i = net->n_values;
    struct nn_value *x = &net->values[i];
    if (!(x->name = fh_malloc(n + 1))) return fh_fail(FH_E_NOMEM, "onnx: out of memory");
    memcpy(x->name, s, n), x->name[n] = 0;
    x->shape = *sh, x->producer = -1, x->param = -1, x->last_use = -1;
    o->layout[i] = (char)layout;
    net->n_values++;
    *v = i;
    return ox_bind(o, s, n, i);
}

// a constant value from tensor t (float into the blob, ints as idata)
static int ox_const(struct ox *o, const uint8_t *s, size_t n, const struct ox_tensor *t, int *v) {
    struct nn_shape sh = {t->rank, {0}};
    for (int i = 0; i < t->rank; i++) sh.d[i] = t->d[i];
    int rc = ox_value(o, s, n, &sh, LAYOUT_PLAIN, v);
    if (rc) return rc;
    struct nn_value *x = &o->net->values[*v];
    if (t->dtype == OX_FLOAT) {
        x->data = o->next;
        o->flushed += ox_tensor_floats(t, x->data);
        o->next += (t->count + 15) & ~(size_t)15;
    } else {
        x->dtype = NN_I32;
        if (!(x->idata = fh_malloc(t->count * sizeof *x->idata + 4))) return fh_fail(FH_E_NOMEM, "onnx: out of memory");
        ox_tensor_ints(t, x->idata);
    }
    return FH_OK;
}

// an int constant computed here (folded shape arithmetic), dims sh
static int ox_int_value(struct ox *o, const uint8_t *s, size_t n, const struct nn_shape *sh, const int32_t *vals, int *v) {
    int rc = ox_value(o, s, n, sh, LAYOUT_PLAIN, v);
    if (rc) return rc;
    struct nn_value *x = &o->net->values[*v];
    size_t c = nn_shape_count(sh);
    x->dtype = NN_I32;
    if (!(x->idata = fh_malloc(c * sizeof *x->idata + 4))) return fh_fail(FH_E_NOMEM, "onnx: out of memory");
    memcpy(x->idata, vals, c * sizeof *vals);
    return FH_OK;
}

// ONNX-order dims of value v (nchw values are stored NHWC)
static struct nn_shape onnx_shape(const struct ox *o, int v) {
    struct nn_shape s = o->net->values[v].shape;
    if (o->layout[v] == LAYOUT_NCHW) s = (struct nn_shape){4, {s.d[0], s.d[3], s.d[1], s.d[2]}};
    return s;
}

// our axis for ONNX axis a of value v (negative counts from the end); -1 if out of range
static int map_axis(const struct ox *o, int v, int64_t a) {
    int r = o->net->values[v].shape.rank;
    if (a < 0) a += r;
    if (a < 0 || a >= r) return -1;
    static const int nchw_to_nhwc[4] = {0, 3, 1, 2};
    return o->layout[v] == LAYOUT_NCHW ? nchw_to_nhwc[a] : (int)a;
}

// permutes a 4-D float tensor in place: out dim i = in dim perm[i]
static int permute4(float *x, const int d[4], const int perm[4]) {
    size_t n = (size_t)d[0] * d[1] * d[2] * d[3], st[4] = {(size_t)d[1] * d[2] * d[3], (size_t)d[2] * d[3], (size_t)d[3], 1};
    float *t = fh_malloc(n * sizeof *t + 4);
    if (!t) return fh_fail(FH_E_NOMEM, "onnx: out of memory");
    int od[4] = {d[perm[0]], d[perm[1]], d[perm[2]], d[perm[3]]};
    size_t k = 0;
    for (int a = 0; a < od[0]; a++)
        for (int b = 0; b < od[1]; b++)
            for (int c = 0; c < od[2]; c++)
                for (int e = 0; e < od[3]; e++)
                    t[k++] = x[a * st[perm[0]] + b * st[perm[1]] + c * st[perm[2]] + e * st[perm[3]]];
    memcpy(x, t, n * sizeof *t);
    fh_free(t);
    return FH_OK;
}

// ---- nodes ---------------------------------------------------------------------------------
#define OX_MAX_IO 8

struct ox_node {
    struct pb msg;
    const uint8_t *op;
    size_t op_len;
    int n_in, n_out;
    int in[OX_MAX_IO];           // value indices, -1 = omitted ("")
    const uint8_t *out_name;
    size_t out_len;
};

// attribute `name` of node nd, 1 if present
static int ox_attr(const struct ox_node *nd, const char *name, struct pb *attr) {
    struct pb m = nd->msg;
    struct pb_field f;
    while (pb_next(&m, &f)) {
        if (f.num != 5 || f.wire != 2) continue;
        struct pb a = pb_sub(&f);
        struct pb_field g;
        while (pb_next(&a, &g))
            if (g.num == 1 && pb_streq(&g, name)) return *attr = pb_sub(&f), 1;
    }
    return 0;
}
static int64_t attr_int(const struct ox_node *nd, const char *name, int64_t def) {
    struct pb a;
    int64_t v[1];
    int n;
    if (!ox_attr(nd, name, &a) || !pb_ints(a, 3, v, 1, &n) || n != 1) return def;
    return v[0];
}
// ints attribute into v[0..max); its count, -1 when absent, -2 when damaged or longer
static int attr_ints(const struct ox_node *nd, const char *name, int64_t *v, int max) {
    struct pb a;
    int n;
    if (!ox_attr(nd, name, &a)) return -1;
    return pb_ints(a, 8, v, max, &n) ? n : -2;
}

static int is_op(const struct ox_node *nd, const char *s) {
    return nd->op_len == strlen(s) && !memcmp(nd->op, s, nd->op_len);
}

// appends an engine node; infers its output's shape (a file whose parts disagree fails here)
static int ox_emit(struct ox *o, const struct ox_node *on, enum nn_op op, const int *in, int n_in,
                   const struct nn_params *p, int layout) {
    struct nn_net *net = o->net;
    if (net->n_nodes >= o->max_nodes) return fh_fail(FH_E_FORMAT, "onnx: more operators than nodes");
    struct nn_node *nd = &net->nodes[net->n_nodes];
    *nd = (struct nn_node){.op = op, .n_in = n_in, .p = *p};
    const struct nn_shape *ins[NN_MAX_IN];
    for (int k = 0; k < n_in; k++) nd->in[k] = in[k], ins[k] = in[k] >= 0 ? &net->values[in[k]].shape : NULL;
    struct nn_shape sh;
    if (nn_op_defs[op]->shape(net, nd, ins, &sh)) {
        char msg[256];
        snprintf(msg, sizeof msg, "%s", fh_errmsg());
        return fh_fail(FH_E_FORMAT, "onnx: node %d (%.*s -> %.*s) does not fit its inputs: %s", o->node,
                       (int)on->op_len, (const char *)on->op, (int)on->out_len, (const char *)on->out_name, msg);
    }
    int v, rc = ox_value(o, on->out_name, on->out_len, &sh, layout, &v);
    if (rc) return rc;
    nd->out = v;
    net->n_nodes++;
    return FH_OK;
}

static struct nn_params params0(void) {
    return (struct nn_params){.KH = 1, .KW = 1, .SH = 1, .SW = 1, .alpha = -1, .axis = -1, .alpha_scale = 1};
}

static const char *vname(const struct ox *o, int v) { return v >= 0 ? o->net->values[v].name : "(none)"; }

static int ox_conv(struct ox *o, const struct ox_node *on) {
    struct nn_net *net = o->net;
    int x = on->in[0], w = on->n_in > 1 ? on->in[1] : -1, b = on->n_in > 2 ? on->in[2] : -1;
    if (x < 0 || o->layout[x] != LAYOUT_NCHW)
        return fh_fail(FH_E_UNSUPPORTED, "onnx: node %d (Conv): input %s is not a 4-D NCHW activation", o->node, vname(o, x));
    if (w < 0 || !net->values[w].data || net->values[w].shape.rank != 4)
        return fh_fail(FH_E_UNSUPPORTED, "onnx: node %d (Conv): weights %s must be a constant 4-D tensor", o->node, vname(o, w));
    struct nn_value *wv = &net->values[w];
    int C = net->values[x].shape.d[3];
    int64_t group = attr_int(on, "group", 1), ks[2], st[2] = {1, 1}, dl[2] = {1, 1}, pads[4] = {0, 0, 0, 0};
    int nk = attr_ints(on, "kernel_shape", ks, 2), ns = attr_ints(on, "strides", st, 2);
    int ndl = attr_ints(on, "dilations", dl, 2), np = attr_ints(on, "pads", pads, 4);
    struct pb ap;
    if (ox_attr(on, "auto_pad", &ap)) {
        struct pb_field f;
        while (pb_next(&ap, &f))
            if (f.num == 4 && !pb_streq(&f, "NOTSET"))
                return fh_fail(FH_E_UNSUPPORTED, "onnx: node %d (Conv): auto_pad '%.*s'", o->node, (int)f.len, (const char *)f.data);
    }
    int OC, dw;
    // the 4-D weights as stored, before any permutation (a second reader of the same
    // weights sees them converted)
    int d[4] = {wv->shape.d[0], wv->shape.d[1], wv->shape.d[2], wv->shape.d[3]};
    if (o->converted[w] == 1) d[0] = wv->shape.d[0], d[1] = wv->shape.d[3], d[2] = wv->shape.d[1], d[3] = wv->shape.d[2];
    if (o->converted[w] == 2) d[0] = wv->shape.d[3], d[1] = 1, d[2] = wv->shape.d[1], d[3] = wv->shape.d[2];
    OC = d[0];
    if (group == 1) dw = 0;
    else if (group == C && d[1] == 1 && OC == C) dw = 1;
    else return fh_fail(FH_E_UNSUPPORTED, "onnx: node %d (Conv): group %lld of %d channels (1 or depthwise only)", o->node, (long long)group, C);
    if (!dw && d[1] != C)
        return fh_fail(FH_E_FORMAT, "onnx: node %d (Conv): weights %s want %d input channels, the input has %d", o->node, wv->name, d[1], C);
    if (nk < -1 || ns < -1 || ndl < -1 || np < -1 || (nk >= 0 && (nk != 2 || ks[0] != d[2] || ks[1] != d[3])) || (ns >= 0 && ns != 2) || (ndl >= 0 && ndl != 2) || (np >= 0 && np != 4))
        return fh_fail(FH_E_FORMAT, "onnx: node %d (Conv): kernel_shape/strides/dilations/pads do not fit 2-D weights %dx%d", o->node, d[2], d[3]);
    for (int i = 0; i < 2; i++)
        if (st[i] < 1 || st[i] > 16 || dl[i] < 1 || dl[i] > 64)
            return fh_fail(FH_E_FORMAT, "onnx: node %d (Conv): stride or dilation out of range", o->node);
    for (int i = 0; i < 4; i++)
        if (pads[i] < 0 || pads[i] > 64) return fh_fail(FH_E_FORMAT, "onnx: node %d (Conv): pads out of range", o->node);
    if (dw && (dl[0] > 1 || dl[1] > 1))
        return fh_fail(FH_E_UNSUPPORTED, "onnx: node %d (Conv): dilated depthwise convolution", o->node);
    if (b >= 0 && (!net->values[b].data || nn_shape_count(&net->values[b].shape) != (size_t)OC))
        return fh_fail(FH_E_FORMAT, "onnx: node %d (Conv): bias %s must be a constant [%d]", o->node, vname(o, b), OC);
    if (!o->converted[w]) {
        static const int conv_perm[4] = {0, 2, 3, 1}, dw_perm[4] = {1, 2, 3, 0};
        int rc = permute4(wv->data, d, dw ? dw_perm : conv_perm);
        if (rc) return rc;
        wv->shape = dw ? (struct nn_shape){4, {1, d[2], d[3], d[0]}} : (struct nn_shape){4, {d[0], d[2], d[3], d[1]}};
        o->converted[w] = (char)(dw ? 2 : 1);
    } else if (o->converted[w] != (dw ? 2 : 1)) {
        return fh_fail(FH_E_UNSUPPORTED, "onnx: node %d (Conv): weights %s shared by a depthwise and a full conv", o->node, wv->name);
    }
    struct nn_params p = params0();
    p.KH = d[2], p.KW = d[3], p.SH = (int)st[0], p.SW = (int)st[1], p.DH = (int)dl[0], p.DW = (int)dl[1];
    p.same = NN_PAD_EXPLICIT, p.PT = (int)pads[0], p.PL = (int)pads[1], p.PB = (int)pads[2], p.PR = (int)pads[3];
    int in[3] = {x, w, b};
    return ox_emit(o, on, dw ? NN_OP_DWCONV2D : NN_OP_CONV2D, in, b >= 0 ? 3 : 2, &p, LAYOUT_NCHW);
}

// Add / Sub / Mul / Div: activations in one layout; a constant operand must be a scalar or
// already in the activation's order (plain layout)
static int ox_binary(struct ox *o, const struct ox_node *on, enum nn_op op) {
    if (on->n_in != 2 || on->in[0] < 0 || on->in[1] < 0)
        return fh_fail(FH_E_FORMAT, "onnx: node %d (%.*s) needs 2 inputs", o->node, (int)on->op_len, (const char *)on->op);
    int layout = LAYOUT_PLAIN, n_act = 0;
    for (int k = 0; k < 2; k++) {
        const struct nn_value *v = &o->net->values[on->in[k]];
        if (v->idata) return fh_fail(FH_E_UNSUPPORTED, "onnx: node %d (%.*s): arithmetic on int constant %s", o->node, (int)on->op_len, (const char *)on->op, v->name);
        if (!v->data) n_act++, layout = o->layout[on->in[k]] == LAYOUT_NCHW ? LAYOUT_NCHW : layout;
    }
    if (!n_act) return fh_fail(FH_E_UNSUPPORTED, "onnx: node %d (%.*s): both inputs are constants", o->node, (int)on->op_len, (const char *)on->op);
    for (int k = 0; k < 2; k++) {
        const struct nn_value *v = &o->net->values[on->in[k]];
        int scalar = v->data && nn_shape_count(&v->shape) == 1;
        if (layout == LAYOUT_NCHW && !scalar && o->layout[on->in[k]] != LAYOUT_NCHW)
            return fh_fail(FH_E_UNSUPPORTED, "onnx: node %d (%.*s): %s would broadcast against NCHW data", o->node, (int)on->op_len, (const char *)on->op, v->name);
    }
    struct nn_params p = params0();
    return ox_emit(o, on, op, on->in, 2, &p, layout);
}

// Shape / Gather / Unsqueeze / Concat over int constants: folded into a new constant
static int ox_fold(struct ox *o, const struct ox_node *on) {
    struct nn_net *net = o->net;
    int32_t vals[FH_MAX_DIMS * 2];
    struct nn_shape sh = {1, {0}};
    if (is_op(on, "Shape")) {
        struct nn_shape s = onnx_shape(o, on->in[0]);
        for (int i = 0; i < s.rank; i++) vals[i] = s.d[i];
        sh.d[0] = s.rank;
    } else if (is_op(on, "Gather")) {
        const struct nn_value *x = &net->values[on->in[0]], *ix = on->n_in > 1 && on->in[1] >= 0 ? &net->values[on->in[1]] : NULL;
        if (!x->idata || !ix || !ix->idata || x->shape.rank != 1 || ix->shape.rank > 1 || nn_shape_count(&ix->shape) > FH_MAX_DIMS || attr_int(on, "axis", 0) != 0)
            return fh_fail(FH_E_UNSUPPORTED, "onnx: node %d (Gather): only indexing of a 1-D int constant", o->node);
        size_t n = nn_shape_count(&ix->shape);
        for (size_t i = 0; i < n; i++) {
            int32_t k = ix->idata[i] < 0 ? ix->idata[i] + x->shape.d[0] : ix->idata[i];
            if (k < 0 || k >= x->shape.d[0]) return fh_fail(FH_E_FORMAT, "onnx: node %d (Gather): index %d out of range", o->node, ix->idata[i]);
            vals[i] = x->idata[k];
        }
        sh = ix->shape;
    } else if (is_op(on, "Unsqueeze")) {
        const struct nn_value *x = &net->values[on->in[0]];
        int64_t axes[FH_MAX_DIMS];
        int na = attr_ints(on, "axes", axes, FH_MAX_DIMS);
        size_t n = nn_shape_count(&x->shape);
        if (!x->idata || na < 1 || x->shape.rank + na > 1 || n > FH_MAX_DIMS)
            return fh_fail(FH_E_UNSUPPORTED, "onnx: node %d (Unsqueeze): only of a scalar int constant", o->node);
        memcpy(vals, x->idata, n * sizeof *vals);
        sh = (struct nn_shape){1, {(int)n}};
    } else { // Concat of int vectors
        int n = 0;
        for (int k = 0; k < on->n_in; k++) {
            const struct nn_value *x = on->in[k] >= 0 ? &net->values[on->in[k]] : NULL;
            if (!x || !x->idata || x->shape.rank != 1 || n + x->shape.d[0] > FH_MAX_DIMS * 2)
                return fh_fail(FH_E_UNSUPPORTED, "onnx: node %d (Concat): mixes int constants with other values", o->node);
            memcpy(vals + n, x->idata, (size_t)x->shape.d[0] * sizeof *vals), n += x->shape.d[0];
        }
        sh.d[0] = n;
    }
    int v;
    return ox_int_value(o, on->out_name, on->out_len, &sh, vals, &v);
}

static int ox_reshape(struct ox *o, const struct ox_node *on) {
    struct nn_net *net = o->net;
    int x = on->in[0], s = on->n_in > 1 ? on->in[1] : -1;
    if (o->layout[x] == LAYOUT_NCHW)
        return fh_fail(FH_E_UNSUPPORTED, "onnx: node %d (Reshape) of NCHW data %s (needs a transpose)", o->node, vname(o, x));
    if (s < 0 || !net->values[s].idata || net->values[s].shape.rank != 1 || net->values[s].shape.d[0] < 1 || net->values[s].shape.d[0] > FH_MAX_DIMS)
        return fh_fail(FH_E_UNSUPPORTED, "onnx: node %d (Reshape): the target shape must fold to a constant", o->node);
    // ONNX: 0 copies the input's dimension; ours does not, so resolve it here
    struct nn_value *sv = &net->values[s];
    int32_t t[FH_MAX_DIMS];
    struct nn_shape xs = net->values[x].shape;
    for (int i = 0; i < sv->shape.d[0]; i++) {
        t[i] = sv->idata[i];
        if (t[i] == 0) {
            if (i >= xs.rank) return fh_fail(FH_E_FORMAT, "onnx: node %d (Reshape): 0 past the input's rank", o->node);
            t[i] = xs.d[i];
        }
    }
    char tname[64];
    int tv, rc;
    snprintf(tname, sizeof tname, "onnx.reshape%d", o->node);
    if ((rc = ox_int_value(o, (const uint8_t *)tname, strlen(tname), &sv->shape, t, &tv))) return rc;
    struct nn_params p = params0();
    int in[2] = {x, tv};
    return ox_emit(o, on, NN_OP_RESHAPE, in, 2, &p, LAYOUT_PLAIN);
}

static int ox_node(struct ox *o, const struct ox_node *on) {
    struct nn_net *net = o->net;
    struct nn_params p = params0();
    int x = on->in[0];
    if (is_op(on, "Constant")) {
        struct pb a;
        struct pb_field f;
        if (!ox_attr(on, "value", &a)) return fh_fail(FH_E_UNSUPPORTED, "onnx: node %d (Constant) without a 'value' tensor", o->node);
        while (pb_next(&a, &f))
            if (f.num == 5 && f.wire == 2) {
                struct ox_tensor t;
                int rc = ox_tensor_parse(pb_sub(&f), &t), v;
                return rc ? rc : ox_const(o, on->out_name, on->out_len, &t, &v);
            }
        return fh_fail(FH_E_FORMAT, "onnx: node %d (Constant): damaged 'value'", o->node);
    }
    if (on->n_in < 1 || x < 0) return fh_fail(FH_E_FORMAT, "onnx: node %d (%.*s) has no input", o->node, (int)on->op_len, (const char *)on->op);
    int is_int = net->values[x].idata != NULL;
    if (is_op(on, "Shape") || is_op(on, "Gather") || is_op(on, "Unsqueeze") || (is_op(on, "Concat") && is_int))
        return ox_fold(o, on);
    if (is_int) return fh_fail(FH_E_UNSUPPORTED, "onnx: node %d (%.*s) on int constant %s", o->node, (int)on->op_len, (const char *)on->op, vname(o, x));
    if (net->values[x].data && !is_op(on, "Add") && !is_op(on, "Sub") && !is_op(on, "Mul") && !is_op(on, "Div"))
        return fh_fail(FH_E_UNSUPPORTED, "onnx: node %d (%.*s) on constant %s (no constant folding of floats)", o->node, (int)on->op_len, (const char *)on->op, vname(o, x));
    int layout = o->layout[x];
    if (is_op(on, "Conv")) return ox_conv(o, on);
    if (is_op(on, "Add")) return ox_binary(o, on, NN_OP_ADD);
    if (is_op(on, "Sub")) return ox_binary(o, on, NN_OP_SUB);
    if (is_op(on, "Mul")) return ox_binary(o, on, NN_OP_MUL);
    if (is_op(on, "Div")) return ox_binary(o, on, NN_OP_DIV);
    if (is_op(on, "Relu")) return ox_emit(o, on, NN_OP_RELU, &x, 1, &p, layout);
    if (is_op(on, "Exp")) return ox_emit(o, on, NN_OP_EXP, &x, 1, &p, layout);
    if (is_op(on, "Reshape")) return ox_reshape(o, on);
    if (is_op(on, "Identity")) return ox_bind(o, on->out_name, on->out_len, x);
    if (is_op(on, "Transpose")) {
        int64_t perm[FH_MAX_DIMS];
        int n = attr_ints(on, "perm", perm, FH_MAX_DIMS);
        if (layout == LAYOUT_NCHW && n == 4 && perm[0] == 0 && perm[1] == 2 && perm[2] == 3 && perm[3] == 1) {
            // NCHW -> NHWC: the order we already store; from here ONNX and we agree. The
            // output is a new value (its layout differs from the input's), filled by a
            // whole-range SLICE: a copy that works at any input size
            struct nn_params q = params0();
            q.axis = 0, q.start = 0, q.stop = INT32_MAX;
            return ox_emit(o, on, NN_OP_SLICE, &x, 1, &q, LAYOUT_PLAIN);
        }
        return fh_fail(FH_E_UNSUPPORTED, "onnx: node %d (Transpose) of %s: only NCHW -> NHWC (0,2,3,1)", o->node, vname(o, x));
    }
    if (is_op(on, "Concat")) {
        if (on->n_in > NN_MAX_IN) return fh_fail(FH_E_UNSUPPORTED, "onnx: node %d (Concat) of %d inputs (at most %d)", o->node, on->n_in, NN_MAX_IN);
        for (int k = 0; k < on->n_in; k++)
            if (on->in[k] < 0 || net->values[on->in[k]].data || net->values[on->in[k]].idata || o->layout[on->in[k]] != layout)
                return fh_fail(FH_E_UNSUPPORTED, "onnx: node %d (Concat): inputs must be activations of one layout", o->node);
        if ((p.axis = map_axis(o, x, attr_int(on, "axis", 1))) < 0) return fh_fail(FH_E_FORMAT, "onnx: node %d (Concat): axis out of range", o->node);
        return ox_emit(o, on, NN_OP_CONCAT, on->in, on->n_in, &p, layout);
    }
    if (is_op(on, "Softmax")) {
        int r = net->values[x].shape.rank;
        if (layout == LAYOUT_NCHW || map_axis(o, x, attr_int(on, "axis", 1)) != r - 1)
            return fh_fail(FH_E_UNSUPPORTED, "onnx: node %d (Softmax): only over the last axis of plain data", o->node);
        return ox_emit(o, on, NN_OP_SOFTMAX, &x, 1, &p, layout);
    }
    if (is_op(on, "Slice")) {
        int64_t st[2], en[2], ax[2] = {0};
        int ns = attr_ints(on, "starts", st, 2), ne = attr_ints(on, "ends", en, 2), na = attr_ints(on, "axes", ax, 2);
        if (on->n_in != 1 || ns != 1 || ne != 1 || na > 1)
            return fh_fail(FH_E_UNSUPPORTED, "onnx: node %d (Slice): only the opset-9 form over one axis", o->node);
        if ((p.axis = map_axis(o, x, ax[0])) < 0) return fh_fail(FH_E_FORMAT, "onnx: node %d (Slice): axis out of range", o->node);
        p.start = sat32(st[0]), p.stop = sat32(en[0]);
        return ox_emit(o, on, NN_OP_SLICE, &x, 1, &p, layout);
    }
    return fh_fail(FH_E_UNSUPPORTED, "onnx: node %d: op '%.*s' is not supported", o->node, (int)on->op_len, (const char *)on->op);
}

// reads NodeProto m: op type, inputs (value indices), the one output name
static int ox_node_parse(struct ox *o, struct pb m, struct ox_node *on) {
    memset(on, 0, sizeof *on);
    on->msg = m;
    struct pb_field f;
    while (pb_next(&m, &f)) {
        if (f.wire != 2) continue;
        if (f.num == 4) on->op = f.data, on->op_len = f.len;
        else if (f.num == 7 && f.len && !pb_streq(&f, "ai.onnx"))
            return fh_fail(FH_E_UNSUPPORTED, "onnx: node %d: domain '%.*s'", o->node, (int)f.len, (const char *)f.data);
        else if (f.num == 1) {
            if (on->n_in >= OX_MAX_IO) return fh_fail(FH_E_UNSUPPORTED, "onnx: node %d has more than %d inputs", o->node, OX_MAX_IO);
            int v = f.len ? ox_find(o, f.data, f.len) : -1;
            if (f.len && v < 0)
                return fh_fail(FH_E_FORMAT, "onnx: node %d: input '%.*s' is not defined before it", o->node, (int)f.len, (const char *)f.data);
            on->in[on->n_in++] = v;
        } else if (f.num == 2) {
            if (on->n_out++ == 0) on->out_name = f.data, on->out_len = f.len;
            else if (f.len) return fh_fail(FH_E_UNSUPPORTED, "onnx: node %d has more than one output", o->node);
        }
    }
    if (m.bad) return fh_fail(FH_E_FORMAT, "onnx: node %d is damaged", o->node);
    if (!on->op_len || on->n_out < 1) return fh_fail(FH_E_FORMAT, "onnx: node %d has no op type or no output", o->node);
    return FH_OK;
}

// ---- graph --------------------------------------------------------------------------------
// the input's dims from a ValueInfoProto (type.tensor_type.shape.dim[].dim_value); a
// symbolic batch reads as 1
static int ox_input_shape(struct pb vi, struct nn_shape *s, int *elem) {
    struct pb_field f, g, h, k, e;
    s->rank = 0, *elem = 0;
    while (pb_next(&vi, &f)) {
        if (f.num != 2 || f.wire != 2) continue;
        struct pb tp = pb_sub(&f);
        while (pb_next(&tp, &g)) {
            if (g.num != 1 || g.wire != 2) continue;
            struct pb tt = pb_sub(&g);
            while (pb_next(&tt, &h)) {
                if (h.num == 1 && h.wire == 0) *elem = (int)h.v;
                if (h.num != 2 || h.wire != 2) continue;
                struct pb sh = pb_sub(&h);
                while (pb_next(&sh, &k)) {
                    if (k.num != 1 || k.wire != 2) continue;
                    if (s->rank >= FH_MAX_DIMS) return fh_fail(FH_E_UNSUPPORTED, "onnx: input of rank > %d", FH_MAX_DIMS);
                    int64_t d = -1;
                    struct pb dm = pb_sub(&k);
                    while (pb_next(&dm, &e))
                        if (e.num == 1 && e.wire == 0) d = (int64_t)e.v;
                    if (d < 0 && s->rank == 0) d = 1;
                    if (d < 1 || d > (1 << 20)) return fh_fail(FH_E_UNSUPPORTED, "onnx: input dimension %d is not a fixed size", s->rank);
                    s->d[s->rank++] = (int)d;
                }
            }
        }
    }
    return vi.bad ? fh_fail(FH_E_FORMAT, "onnx: the input's type is damaged") : FH_OK;
}

// name field (1) of a ValueInfoProto
static int vi_name(struct pb m, const uint8_t **s, size_t *n) {
    struct pb_field f;
    while (pb_next(&m, &f))
        if (f.num == 1 && f.wire == 2) return *s = f.data, *n = f.len, 1;
    return 0;
}

static int ox_graph(struct ox *o, struct pb g, const struct nn_options *opt) {
    struct nn_net *net = o->net;
    struct pb m = g;
    struct pb_field f;
    int rc = FH_OK;
    // initializers first: inputs may repeat them (IR < 4) and nodes read them
    while (!rc && pb_next(&m, &f))
        if (f.num == 5 && f.wire == 2) {
            struct ox_tensor t;
            int v;
            if (!(rc = ox_tensor_parse(pb_sub(&f), &t)))
                rc = ox_const(o, t.name, t.name_len, &t, &v);
        }
    for (m = g; !rc && pb_next(&m, &f);) {
        const uint8_t *s;
        size_t n;
        if (f.num != 11 || f.wire != 2 || !vi_name(pb_sub(&f), &s, &n) || ox_find(o, s, n) >= 0) continue;
        if (net->n_inputs) { rc = fh_fail(FH_E_UNSUPPORTED, "onnx: more than one graph input"); break; }
        struct nn_shape sh;
        int elem, v;
        if ((rc = ox_input_shape(pb_sub(&f), &sh, &elem))) break;
        if (elem != OX_FLOAT || sh.rank != 4) { rc = fh_fail(FH_E_UNSUPPORTED, "onnx: input '%.*s' must be float NCHW (type %d, rank %d)", (int)n, (const char *)s, elem, sh.rank); break; }
        struct nn_shape nhwc = {4, {sh.d[0], sh.d[2], sh.d[3], sh.d[1]}};
        if ((rc = ox_value(o, s, n, &nhwc, LAYOUT_NCHW, &v))) break;
        net->inputs[net->n_inputs++] = v;
    }
    if (!rc && !net->n_inputs) rc = fh_fail(FH_E_FORMAT, "onnx: the graph has no input");
    for (m = g; !rc && pb_next(&m, &f);)
        if (f.num == 1 && f.wire == 2) {
            struct ox_node on;
            if (!(rc = ox_node_parse(o, pb_sub(&f), &on))) rc = ox_node(o, &on);
            o->node++;
        }
    if (!rc && m.bad) rc = fh_fail(FH_E_FORMAT, "onnx: the graph is damaged");
    // outputs: the file's, or the caller's cut
    int n_out = 0;
    if (!rc && opt && opt->n_outputs > 0) {
        if (opt->n_outputs > 8) return fh_fail(FH_E_ARG, "onnx: at most 8 outputs");
        for (int i = 0; i < opt->n_outputs && !rc; i++) {
            int v = opt->outputs[i] ? ox_find(o, (const uint8_t *)opt->outputs[i], strlen(opt->outputs[i])) : -1;
            if (v < 0) rc = fh_fail(FH_E_NOTFOUND, "onnx: no value named '%s' to output", opt->outputs[i] ? opt->outputs[i] : "(null)");
            else net->outputs[n_out++] = v;
        }
    }
    for (m = g; !rc && !n_out && pb_next(&m, &f);) {
        const uint8_t *s;
        size_t n;
        if (f.num != 12 || f.wire != 2 || !vi_name(pb_sub(&f), &s, &n)) continue;
        int v = ox_find(o, s, n);
        if (v < 0) return fh_fail(FH_E_FORMAT, "onnx: output '%.*s' is never computed", (int)n, (const char *)s);
        if (net->n_outputs >= 8) return fh_fail(FH_E_UNSUPPORTED, "onnx: more than 8 outputs");
        net->outputs[net->n_outputs++] = v;
    }
    if (n_out) net->n_outputs = n_out;
    if (!rc && !net->n_outputs) rc = fh_fail(FH_E_FORMAT, "onnx: the graph has no output");
    if (!rc && o->flushed) fh_log(FH_LOG_DEBUG, "onnx: %zu denormal weights set to zero", o->flushed);
    return rc;
}

// drops the nodes no output needs (the tail an nn_options.outputs cut leaves behind)
static int ox_prune(struct nn_net *net) {
    char *need = fh_calloc((size_t)net->n_values, 1);
    if (!need) return fh_fail(FH_E_NOMEM, "onnx: out of memory");
    for (int i = 0; i < net->n_outputs; i++) need[net->outputs[i]] = 1;
    for (int i = net->n_nodes - 1; i >= 0; i--)
        if (need[net->nodes[i].out])
            for (int k = 0; k < net->nodes[i].n_in; k++)
                if (net->nodes[i].in[k] >= 0) need[net->nodes[i].in[k]] = 1;
    int n = 0;
    for (int i = 0; i < net->n_nodes; i++)
        if (need[net->nodes[i].out]) net->nodes[n++] = net->nodes[i];
    net->n_nodes = n;
    fh_free(need);
    return n ? FH_OK : fh_fail(FH_E_FORMAT, "onnx: no operator computes the outputs");
}

// counts what the graph holds (nodes, initializers, inputs) and the floats its constants
// need, so every allocation is sized and limited before it is made
static int ox_count(struct pb g, int *n_nodes, int *n_vals, size_t *floats) {
    struct pb_field f;
    *n_nodes = *n_vals = 0, *floats = 0;
    while (pb_next(&g, &f)) {
        if (f.wire != 2) continue;
        struct ox_tensor t;
        if (f.num == 5) {
            int rc = ox_tensor_parse(pb_sub(&f), &t);
            if (rc) return rc;
            if (t.dtype == OX_FLOAT) *floats += (t.count + 15) & ~(size_t)15;
            ++*n_vals;
        } else if (f.num == 11) {
            ++*n_vals;
        } else if (f.num == 1) {
            ++*n_nodes;
            // a Constant's tensor, and the reshape target a node may add
            struct pb nm = pb_sub(&f), a;
            struct pb_field h, k;
            *n_vals += 2;
            while (pb_next(&nm, &h)) {
                if (h.num != 5 || h.wire != 2) continue;
                a = pb_sub(&h);
                while (pb_next(&a, &k))
                    if (k.num == 5 && k.wire == 2) {
                        int rc = ox_tensor_parse(pb_sub(&k), &t);
                        if (rc) return rc;
                        if (t.dtype == OX_FLOAT) *floats += (t.count + 15) & ~(size_t)15;
                    }
            }
        }
        if (*n_nodes > FH_MAX_MODEL_OPS || *n_vals > FH_MAX_MODEL_TENSORS)
            return fh_fail(FH_E_LIMIT, "onnx: more than %d operators / %d tensors", FH_MAX_MODEL_OPS, FH_MAX_MODEL_TENSORS);
    }
    if (g.bad) return fh_fail(FH_E_FORMAT, "onnx: the graph is damaged (truncated?)");
    if (!*n_nodes) return fh_fail(FH_E_FORMAT, "onnx: the graph has no nodes");
    return FH_OK;
}

int nn_net_load_onnx_mem(const uint8_t *buf, size_t n, const struct nn_options *opt, struct nn_net **out) {
    *out = NULL;
    struct pb m = {buf, buf + n, 0}, g = {0};
    struct pb_field f;
    int have_graph = 0, opset = -1;
    while (pb_next(&m, &f)) {
        if (f.num == 7 && f.wire == 2) g = pb_sub(&f), have_graph = 1;
        if (f.num == 8 && f.wire == 2) { // OperatorSetIdProto: domain 1, version 2
            struct pb os = pb_sub(&f);
            struct pb_field h;
            int64_t ver = -1;
            int def = 1;
            while (pb_next(&os, &h)) {
                if (h.num == 1 && h.wire == 2 && h.len && !pb_streq(&h, "ai.onnx")) def = 0;
                if (h.num == 2 && h.wire == 0) ver = (int64_t)h.v;
            }
            if (def) opset = (int)(ver > 1000 ? 1000 : ver);
        }
    }
    if (m.bad) return fh_fail(FH_E_FORMAT, "onnx: not an ONNX model, or truncated (damaged protobuf)");
    if (!have_graph) return fh_fail(FH_E_FORMAT, "onnx: no graph (not an ONNX model?)");
    // Slice reads starts/ends from attributes up to opset 9, Softmax flattens from its axis
    // up to 12, Unsqueeze takes axes as an attribute up to 12: the forms this reader knows
    if (opset < 7 || opset > 12) return fh_fail(FH_E_UNSUPPORTED, "onnx: opset %d (this reader knows 7..12)", opset);
    int n_nodes, n_vals;
    size_t floats;
    int rc = ox_count(g, &n_nodes, &n_vals, &floats);
    if (rc) return rc;
    struct ox o = {.max_values = n_vals + 1, .max_nodes = n_nodes};
    struct nn_net *net = nn_net_alloc(o.max_values, o.max_nodes);
    if (!net) return fh_fail(FH_E_NOMEM, "onnx: out of memory");
    net->n_values = net->n_nodes = 0;
    o.net = net;
    o.map_cap = 16;
    while (o.map_cap < (size_t)o.max_values * 2) o.map_cap *= 2;
    o.layout = fh_calloc((size_t)o.max_values, 1);
    o.converted = fh_calloc((size_t)o.max_values, 1);
    o.map = fh_calloc(o.map_cap, sizeof *o.map);
    o.map_name = fh_calloc(o.map_cap, sizeof *o.map_name);
    o.map_len = fh_calloc(o.map_cap, sizeof *o.map_len);
    net->blob = fh_malloc_aligned(floats * sizeof(float) + 64);
    if (!o.layout || !o.converted || !o.map || !o.map_name || !o.map_len || !net->blob)
        rc = fh_fail(FH_E_NOMEM, "onnx: out of memory");
    o.next = net->blob;
    if (!rc) rc = ox_graph(&o, g, opt);
    if (!rc) rc = ox_prune(net);
    fh_free(o.layout), fh_free(o.converted), fh_free(o.map), fh_free(o.map_name), fh_free(o.map_len);
    if (!rc) rc = nn_passes_import(net, opt);
    return nn_net_seal(net, rc, opt, out);
}

int nn_net_load_onnx(const char *path, const struct nn_options *opt, struct nn_net **out) {
    return nn_load_path(path, opt, out, nn_net_load_onnx_mem);
}
