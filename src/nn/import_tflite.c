// SPDX-License-Identifier: MIT
// TFLite flatbuffer reader for the subset our models use, producing an nn_net.
//
// What it handles (see ../shared/docs/models.md section 2): schema-3 files with one
// subgraph; operator codes in the old int8 field `deprecated_builtin_code` (we take
// max(deprecated, builtin_code)); constant data inline in Model.buffers, only 4-byte
// aligned (copied into one 64-byte aligned blob); float32 tensors plus int32 constants
// for axes and shapes. Every offset, length and index is bounds-checked: a damaged
// file gives FH_E_FORMAT naming the field, never a crash.
//
// After reading, the import passes run (passes.h: the batch-baked RESHAPE becomes a
// per-image FLATTEN; unless nn_options.no_fuse, the composite PReLU and softmax
// sub-graphs are fused and conv + PReLU become one op). Shapes are then inferred once at
// the file's input shape.
#include <stdio.h>
#include <string.h>

#include "nn/passes.h"

// ---- flatbuffer access with bounds checks ---------------------------------------------
struct fb {
    const uint8_t *b;
    size_t n;
    int bad; // set on the first out-of-bounds access; every read after returns 0
};

static uint32_t rd32(struct fb *f, size_t off) {
    if (f->bad || off > f->n || f->n - off < 4) return f->bad = 1, 0;
    const uint8_t *p = f->b + off;
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint16_t rd16(struct fb *f, size_t off) {
    if (f->bad || off > f->n || f->n - off < 2) return f->bad = 1, 0;
    return (uint16_t)(f->b[off] | f->b[off + 1] << 8);
}
static uint8_t rd8(struct fb *f, size_t off) {
    if (f->bad || off >= f->n) return f->bad = 1, 0;
    return f->b[off];
}

// position of field `id` in table `t`, or 0 when absent
static size_t fb_field(struct fb *f, size_t t, int id) {
    if (!t) return 0;
    int64_t vt = (int64_t)t - (int32_t)rd32(f, t);
    if (vt < 0 || (size_t)vt >= f->n) return f->bad = 1, 0;
    uint16_t vsize = rd16(f, (size_t)vt);
    if ((size_t)4 + 2 * id + 2 > vsize) return 0;
    uint16_t o = rd16(f, (size_t)vt + 4 + 2 * (size_t)id);
    return o ? t + o : 0;
}
static int64_t fb_int(struct fb *f, size_t t, int id, int size, int64_t def) {
    size_t p = fb_field(f, t, id);
    if (!p) return def;
    if (size == 1) return (int8_t)rd8(f, p);
    return (int32_t)rd32(f, p);
}
static uint8_t fb_u8(struct fb *f, size_t t, int id, uint8_t def) {
    size_t p = fb_field(f, t, id);
    return p ? rd8(f, p) : def;
}
// target of an offset field (table, vector or string), 0 when absent
static size_t fb_ref(struct fb *f, size_t t, int id) {
    size_t p = fb_field(f, t, id);
    if (!p) return 0;
    size_t r = p + rd32(f, p);
    if (r >= f->n) return f->bad = 1, 0;
    return r;
}
// vector at field id: returns element count, *at = first element position
static uint32_t fb_vec(struct fb *f, size_t t, int id, size_t *at) {
    size_t v = fb_ref(f, t, id);
    *at = 0;
    if (!v) return 0;
    uint32_t len = rd32(f, v);
    *at = v + 4;
    if (f->bad || len > (f->n - *at)) return f->bad = 1, 0;
    return len;
}
// element i of a vector of tables
static size_t fb_vec_table(struct fb *f, size_t at, uint32_t i) {
    size_t p = at + 4 * (size_t)i;
    size_t r = p + rd32(f, p);
    if (r >= f->n) return f->bad = 1, 0;
    return r;
}

// ---- TFLite schema constants we use ------------------------------------------------------
enum {
    TFL_ADD = 0, TFL_CONV_2D = 3, TFL_DEPTHWISE_CONV_2D = 4, TFL_FULLY_CONNECTED = 9,
    TFL_MAX_POOL_2D = 17, TFL_MUL = 18, TFL_RELU = 19, TFL_RESHAPE = 22, TFL_SOFTMAX = 25,
    TFL_SUB = 41, TFL_DIV = 42, TFL_EXP = 47, TFL_NEG = 59, TFL_SUM = 74, TFL_REDUCE_MAX = 82,
    TFL_ABS = 101,
};
enum { TFL_FLOAT32 = 0, TFL_INT32 = 2 };

#define FAIL(...) (rc = fh_fail(__VA_ARGS__), (void)0)

static int map_op(int code, enum nn_op *op) {
    switch (code) {
    case TFL_ADD: *op = NN_OP_ADD; return 1;
    case TFL_SUB: *op = NN_OP_SUB; return 1;
    case TFL_MUL: *op = NN_OP_MUL; return 1;
    case TFL_DIV: *op = NN_OP_DIV; return 1;
    case TFL_CONV_2D: *op = NN_OP_CONV2D; return 1;
    case TFL_DEPTHWISE_CONV_2D: *op = NN_OP_DWCONV2D; return 1;
    case TFL_FULLY_CONNECTED: *op = NN_OP_FC; return 1;
    case TFL_MAX_POOL_2D: *op = NN_OP_MAXPOOL2D; return 1;
    case TFL_RELU: *op = NN_OP_RELU; return 1;
    case TFL_RESHAPE: *op = NN_OP_RESHAPE; return 1;
    case TFL_SOFTMAX: *op = NN_OP_SOFTMAX; return 1;
    case TFL_EXP: *op = NN_OP_EXP; return 1;
    case TFL_NEG: *op = NN_OP_NEG; return 1;
    case TFL_ABS: *op = NN_OP_ABS; return 1;
    case TFL_SUM: *op = NN_OP_SUM; return 1;
    case TFL_REDUCE_MAX: *op = NN_OP_REDUCE_MAX; return 1;
    }
    return 0;
}

// ---- the reader ---------------------------------------------------------------------------
static int read_tensors(struct fb *f, size_t sg, size_t bufs_at, uint32_t n_bufs,
                        struct nn_net *net) {
    size_t tens_at;
    uint32_t nt = fb_vec(f, sg, 0, &tens_at);
    size_t blob_floats = 0;
    // pass 1: shapes, names, sizes; pass 2: copy data into the blob
    for (int pass = 0; pass < 2; pass++) {
        size_t bo = 0;
        for (uint32_t i = 0; i < nt; i++) {
            size_t t = fb_vec_table(f, tens_at, i), sh_at, name_at;
            struct nn_value *v = &net->values[i];
            uint32_t rank = fb_vec(f, t, 0, &sh_at);
            int type = (int)fb_int(f, t, 1, 1, 0);
            uint32_t buf = (uint32_t)fb_int(f, t, 2, 4, 0);
            uint32_t nlen = fb_vec(f, t, 3, &name_at);
            if (f->bad) return fh_fail(FH_E_FORMAT, "model: tensor %u is damaged", i);
            if (rank > FH_MAX_DIMS) return fh_fail(FH_E_UNSUPPORTED, "model: tensor %u has rank %u", i, rank);
            if (pass == 0) {
                v->shape.rank = (int)rank;
                for (uint32_t d = 0; d < rank; d++) {
                    int32_t x = (int32_t)rd32(f, sh_at + 4 * d);
                    if (x < 0 || x > (1 << 24))
                        return fh_fail(FH_E_FORMAT, "model: tensor %u dimension %d", i, x);
                    v->shape.d[d] = x;
                }
                if (!(v->name = fh_malloc(nlen + 1))) return fh_fail(FH_E_NOMEM, "model: out of memory");
                memcpy(v->name, f->b + name_at, nlen);
                v->name[nlen] = 0;
            }
            if (buf >= n_bufs) return fh_fail(FH_E_FORMAT, "model: tensor %s buffer %u out of range", v->name, buf);
            size_t data_at;
            uint32_t dlen = fb_vec(f, fb_vec_table(f, bufs_at, buf), 0, &data_at);
            if (f->bad) return fh_fail(FH_E_FORMAT, "model: buffer %u is damaged", buf);
            if (!dlen) continue; // an activation
            size_t count = nn_shape_count(&v->shape);
            size_t esize = type == TFL_FLOAT32 || type == TFL_INT32 ? 4 : 0;
            if (!esize) return fh_fail(FH_E_UNSUPPORTED, "model: tensor %s has type %d (only float32/int32)", v->name, type);
            if ((size_t)dlen != count * esize)
                return fh_fail(FH_E_FORMAT, "model: tensor %s holds %u bytes, its shape needs %zu", v->name, dlen, count * esize);
            if (type == TFL_INT32) {
                if (pass == 1) continue;
                v->dtype = NN_I32;
                if (!(v->idata = fh_malloc(dlen))) return fh_fail(FH_E_NOMEM, "model: out of memory");
                memcpy(v->idata, f->b + data_at, dlen);
            } else if (pass == 0) {
                blob_floats += (count + 15) & ~(size_t)15;
            } else {
                v->data = net->blob + bo;
                memcpy(v->data, f->b + data_at, dlen); // the file is only 4-byte aligned
                bo += (count + 15) & ~(size_t)15;
            }
        }
        if (pass == 0 && !(net->blob = fh_malloc_aligned(blob_floats * sizeof(float) + 64)))
            return fh_fail(FH_E_NOMEM, "model: out of memory for %zu weights", blob_floats);
    }
    return FH_OK;
}

static int read_ops(struct fb *f, size_t model, size_t sg, struct nn_net *net) {
    size_t codes_at, ops_at;
    uint32_t n_codes = fb_vec(f, model, 1, &codes_at);
    uint32_t n_ops = fb_vec(f, sg, 3, &ops_at);
    char *have = fh_calloc((size_t)net->n_values, 1); // value is available (topological check)
    if (!have) return fh_fail(FH_E_NOMEM, "model: out of memory");
    int rc = FH_OK;
    for (int v = 0; v < net->n_values; v++) have[v] = net->values[v].data || net->values[v].idata;
    for (int i = 0; i < net->n_inputs; i++) have[net->inputs[i]] = 1;
    for (uint32_t i = 0; i < n_ops && !rc; i++) {
        size_t op = fb_vec_table(f, ops_at, i), in_at, out_at;
        uint32_t ci = (uint32_t)fb_int(f, op, 0, 4, 0);
        if (ci >= n_codes) { FAIL(FH_E_FORMAT, "model: operator %u opcode %u out of range", i, ci); break; }
        size_t code = fb_vec_table(f, codes_at, ci);
        int dep = (int)fb_int(f, code, 0, 1, 0), bc = (int)fb_int(f, code, 3, 4, 0);
        int builtin = dep > bc ? dep : bc;
        uint32_t n_in = fb_vec(f, op, 1, &in_at), n_out = fb_vec(f, op, 2, &out_at);
        size_t opt = fb_ref(f, op, 4);
        if (f->bad) { FAIL(FH_E_FORMAT, "model: operator %u is damaged", i); break; }
        struct nn_node *nd = &net->nodes[i];
        if (!map_op(builtin, &nd->op)) { FAIL(FH_E_UNSUPPORTED, "model: operator %u: builtin op %d is not supported", i, builtin); break; }
        if (n_in < 1 || n_in > NN_MAX_IN || n_out != 1) { FAIL(FH_E_UNSUPPORTED, "model: operator %u (%s) has %u inputs, %u outputs", i, nn_op_name(nd->op), n_in, n_out); break; }
        nd->n_in = (int)n_in;
        for (uint32_t k = 0; k < n_in; k++) {
            int32_t v = (int32_t)rd32(f, in_at + 4 * k);
            if (v < -1 || v >= net->n_values || (v >= 0 && !have[v])) { FAIL(FH_E_FORMAT, "model: operator %u input %d invalid or not yet computed", i, v); break; }
            nd->in[k] = v;
        }
        int32_t o = (int32_t)rd32(f, out_at);
        if (rc) break;
        // -1 marks an omitted optional input (a bias); the data input never is one
        if (nd->in[0] < 0) { FAIL(FH_E_FORMAT, "model: operator %u (%s) has no data input", i, nn_op_name(nd->op)); break; }
        if (o < 0 || o >= net->n_values || have[o]) { FAIL(FH_E_FORMAT, "model: operator %u output %d invalid", i, o); break; }
        have[o] = 1;
        nd->out = o;
        nd->p = (struct nn_params){.SH = 1, .SW = 1, .KH = 1, .KW = 1, .alpha = -1, .axis = -1, .alpha_scale = 1};
        int fused_act = 0;
        const char *name = nn_op_name(nd->op);
        switch (nd->op) {
        case NN_OP_CONV2D:
        case NN_OP_DWCONV2D: {
            int dw = nd->op == NN_OP_DWCONV2D;
            nd->p.same = fb_int(f, opt, 0, 1, 0) == 0;
            nd->p.SW = (int)fb_int(f, opt, 1, 4, 1), nd->p.SH = (int)fb_int(f, opt, 2, 4, 1);
            if (dw && fb_int(f, opt, 3, 4, 1) != 1) FAIL(FH_E_UNSUPPORTED, "model: %s depth multiplier != 1", name);
            fused_act = (int)fb_int(f, opt, dw ? 4 : 3, 1, 0);
            if (fb_int(f, opt, dw ? 5 : 4, 4, 1) != 1 || fb_int(f, opt, dw ? 6 : 5, 4, 1) != 1)
                FAIL(FH_E_UNSUPPORTED, "model: operator %u: dilated convolution", i);
            const struct nn_value *w = n_in >= 2 && nd->in[1] >= 0 ? &net->values[nd->in[1]] : NULL;
            if (!w || !w->data || w->shape.rank != 4 || (dw && w->shape.d[0] != 1))
                FAIL(FH_E_FORMAT, "model: operator %u (%s) filter must be a constant 4-D tensor", i, name);
            else if (n_in > 2 && nd->in[2] >= 0 && (!net->values[nd->in[2]].data || nn_shape_count(&net->values[nd->in[2]].shape) != (size_t)w->shape.d[dw ? 3 : 0]))
                FAIL(FH_E_FORMAT, "model: operator %u (%s) bias must be constant [%d]", i, name, w->shape.d[dw ? 3 : 0]);
            else if (nd->p.SH < 1 || nd->p.SW < 1 || nd->p.SH > 16 || nd->p.SW > 16)
                FAIL(FH_E_FORMAT, "model: operator %u stride out of range", i);
            break;
        }
        case NN_OP_FC: {
            fused_act = (int)fb_int(f, opt, 0, 1, 0);
            const struct nn_value *w = n_in >= 2 && nd->in[1] >= 0 ? &net->values[nd->in[1]] : NULL;
            if (!w || !w->data || w->shape.rank != 2 || w->shape.d[0] < 1)
                FAIL(FH_E_FORMAT, "model: operator %u (FC) weights must be a constant 2-D tensor", i);
            else if (n_in > 2 && nd->in[2] >= 0 && (!net->values[nd->in[2]].data || nn_shape_count(&net->values[nd->in[2]].shape) != (size_t)w->shape.d[0]))
                FAIL(FH_E_FORMAT, "model: operator %u (FC) bias must be constant [%d]", i, w->shape.d[0]);
            break;
        }
        case NN_OP_MAXPOOL2D:
            nd->p.same = fb_int(f, opt, 0, 1, 0) == 0;
            nd->p.SW = (int)fb_int(f, opt, 1, 4, 1), nd->p.SH = (int)fb_int(f, opt, 2, 4, 1);
            nd->p.KW = (int)fb_int(f, opt, 3, 4, 1), nd->p.KH = (int)fb_int(f, opt, 4, 4, 1);
            fused_act = (int)fb_int(f, opt, 5, 1, 0);
            if (nd->p.SH < 1 || nd->p.SW < 1 || nd->p.KH < 1 || nd->p.KW < 1 || nd->p.KH > 64 || nd->p.KW > 64 || nd->p.SH > 64 || nd->p.SW > 64)
                FAIL(FH_E_FORMAT, "model: operator %u pool window/stride out of range", i);
            break;
        case NN_OP_ADD: case NN_OP_SUB: case NN_OP_MUL: case NN_OP_DIV:
            fused_act = (int)fb_int(f, opt, 0, 1, 0);
            if (n_in != 2 || nd->in[0] < 0 || nd->in[1] < 0) FAIL(FH_E_FORMAT, "model: operator %u (%s) needs 2 inputs", i, name);
            break;
        case NN_OP_SUM: case NN_OP_REDUCE_MAX: {
            const struct nn_value *ax = n_in == 2 && nd->in[1] >= 0 ? &net->values[nd->in[1]] : NULL;
            if (!ax || !ax->idata || nn_shape_count(&ax->shape) != 1) { FAIL(FH_E_UNSUPPORTED, "model: operator %u (%s) must reduce one constant axis", i, name); break; }
            nd->p.axis = ax->idata[0];
            nd->p.keep_dims = fb_u8(f, opt, 0, 0);
            nd->n_in = 1;
            break;
        }
        case NN_OP_RESHAPE: {
            const struct nn_value *sv = n_in == 2 && nd->in[1] >= 0 ? &net->values[nd->in[1]] : NULL;
            if (!sv || !sv->idata) FAIL(FH_E_UNSUPPORTED, "model: operator %u RESHAPE needs a constant shape", i);
            break;
        }
        case NN_OP_SOFTMAX:
            FAIL(FH_E_UNSUPPORTED, "model: builtin SOFTMAX is not supported (beta option)");
            break;
        default:
            if (n_in != 1 || nd->in[0] < 0) FAIL(FH_E_FORMAT, "model: operator %u (%s) needs 1 input", i, name);
            break;
        }
        if (!rc && fused_act == 1) nd->p.act = NN_ACT_RELU;
        else if (!rc && fused_act != 0) FAIL(FH_E_UNSUPPORTED, "model: operator %u fused activation %d", i, fused_act);
        if (!rc && f->bad) FAIL(FH_E_FORMAT, "model: operator %u options are damaged", i);
        if (!rc && nd->p.act == NN_ACT_RELU && nd->op != NN_OP_CONV2D && nd->op != NN_OP_DWCONV2D && nd->op != NN_OP_FC)
            FAIL(FH_E_UNSUPPORTED, "model: operator %u (%s) with fused RELU", i, name);
    }
    for (int i = 0; !rc && i < net->n_outputs; i++)
        if (!have[net->outputs[i]]) FAIL(FH_E_FORMAT, "model: output %d is never computed", i);
    fh_free(have);
    return rc;
}

int nn_net_load_tflite_mem(const uint8_t *buf, size_t n, const struct nn_options *opt,
                           struct nn_net **out) {
    *out = NULL;
    struct fb f = {buf, n, 0};
    if (n < 8 || memcmp(buf + 4, "TFL3", 4) != 0)
        return fh_fail(FH_E_FORMAT, "model: not a TFLite file (no TFL3 identifier)");
    size_t model = rd32(&f, 0), subs_at, bufs_at, in_at, out_at;
    if (model >= n) return fh_fail(FH_E_FORMAT, "model: root offset out of range");
    uint32_t n_subs = fb_vec(&f, model, 2, &subs_at);
    uint32_t n_bufs = fb_vec(&f, model, 4, &bufs_at);
    if (f.bad || n_subs != 1) return fh_fail(FH_E_UNSUPPORTED, "model: %u subgraphs (need exactly 1)", n_subs);
    size_t sg = fb_vec_table(&f, subs_at, 0), tmp;
    uint32_t nt = fb_vec(&f, sg, 0, &tmp), nops = fb_vec(&f, sg, 3, &tmp);
    uint32_t nin = fb_vec(&f, sg, 1, &in_at), nout = fb_vec(&f, sg, 2, &out_at);
    if (f.bad) return fh_fail(FH_E_FORMAT, "model: subgraph is damaged");
    if (nt == 0 || nt > FH_MAX_MODEL_TENSORS || nops == 0 || nops > FH_MAX_MODEL_OPS)
        return fh_fail(FH_E_LIMIT, "model: %u tensors / %u operators out of range", nt, nops);
    if (nin != 1 || nout < 1 || nout > 8)
        return fh_fail(FH_E_UNSUPPORTED, "model: %u inputs / %u outputs (need 1 / 1..8)", nin, nout);
    struct nn_net *net = nn_net_alloc((int)nt, (int)nops);
    if (!net) return fh_fail(FH_E_NOMEM, "model: out of memory");
    int rc = read_tensors(&f, sg, bufs_at, n_bufs, net);
    net->n_inputs = 1, net->n_outputs = (int)nout;
    for (uint32_t i = 0; !rc && i < nin + nout; i++) {
        int32_t v = (int32_t)rd32(&f, i < nin ? in_at + 4 * i : out_at + 4 * (i - nin));
        if (v < 0 || v >= (int32_t)nt) FAIL(FH_E_FORMAT, "model: graph input/output index %d", v);
        else if (i < nin) net->inputs[i] = v;
        else net->outputs[i - nin] = v;
    }
    if (!rc && net->values[net->inputs[0]].data) FAIL(FH_E_FORMAT, "model: input is a constant");
    if (!rc) rc = read_ops(&f, model, sg, net);
    if (!rc) rc = nn_passes_import(net, opt);
    return nn_net_seal(net, rc, opt, out);
}

int nn_net_load_tflite(const char *path, const struct nn_options *opt, struct nn_net **out) {
    return nn_load_path(path, opt, out, nn_net_load_tflite_mem);
}
