// SPDX-License-Identifier: MIT
// Our model file (.fhm): a net's graph, weights and metadata in one checked file.
//
// Layout (little-endian; offsets from the start of the file):
//
//   header   64 bytes: "FHMODEL\0", u32 version (1), u32 flags (0),
//            u64 meta_off, u64 meta_len, u64 graph_off, u64 graph_len,
//            u64 weights_off, u64 weights_len
//   meta     text, "key=value\n" lines
//   graph    u32 n_values, n_nodes, n_inputs, n_outputs; i32 inputs[], outputs[];
//            values: u16 name_len, name, u8 dtype (0 f32, 1 i32), u8 flags (NN_VF_*: 1 trained,
//                    2 buffer, 4 decay), u8 rank,
//                    u8 0, i32 dims[rank], u64 data_off (into weights), u64 data_bytes
//                    (0: no data, an activation or input)
//            nodes:  u8 op_len, op name ("CONV_2D", as nn_op_name), u8 n_in,
//                    i32 in[n_in] (-1: omitted), i32 out, u32 n_words, then n_words
//                    4-byte params in this order: i32 KH KW SH SW same act alpha axis
//                    keep_dims, f32 alpha_scale eps (a reader takes the words it knows,
//                    defaults the rest, skips the others)
//   weights  64-byte aligned; each value's data at a 64-byte aligned data_off
//   sha256   32 bytes over everything before it
//
// Sections follow each other in this order; every count, length, offset and index is
// checked against the bytes there before anything is allocated from it.
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nn/passes.h"

#define MAGIC "FHMODEL"
#define VERSION 1
#define HEADER 64
#define SUM 32
#define N_WORDS 11
#define MAX_NAME 1024
#define MAX_META_BYTES 65536

// on-disk op names: fixed here so renaming an op's display name never breaks a file
static const char *const OP_NAMES[NN_OP_COUNT] = {
    [NN_OP_CONV2D] = "CONV_2D", [NN_OP_DWCONV2D] = "DEPTHWISE_CONV_2D",
    [NN_OP_FC] = "FULLY_CONNECTED", [NN_OP_MAXPOOL2D] = "MAX_POOL_2D", [NN_OP_PRELU] = "PRELU",
    [NN_OP_SOFTMAX] = "SOFTMAX", [NN_OP_ADD] = "ADD", [NN_OP_SUB] = "SUB", [NN_OP_MUL] = "MUL",
    [NN_OP_DIV] = "DIV", [NN_OP_NEG] = "NEG", [NN_OP_ABS] = "ABS", [NN_OP_RELU] = "RELU",
    [NN_OP_EXP] = "EXP", [NN_OP_REDUCE_MAX] = "REDUCE_MAX", [NN_OP_SUM] = "SUM",
    [NN_OP_RESHAPE] = "RESHAPE", [NN_OP_FLATTEN] = "FLATTEN", [NN_OP_BATCHNORM] = "BATCHNORM",
    [NN_OP_L2NORM] = "L2NORM",
};

// ---- writing ------------------------------------------------------------------------------
struct wbuf {
    uint8_t *b;
    size_t n, cap;
    int bad;
};

static void put(struct wbuf *w, const void *p, size_t n) {
    if (w->bad) return;
    if (w->n + n > w->cap) {
        size_t cap = w->cap ? w->cap : 4096;
        while (cap < w->n + n) cap *= 2;
        uint8_t *b = fh_realloc(w->b, cap);
        if (!b) {
            w->bad = 1;
            return;
        }
        w->b = b, w->cap = cap;
    }
    if (n) memcpy(w->b + w->n, p, n);
    w->n += n;
}
static void put_u8(struct wbuf *w, unsigned v) {
    uint8_t b = (uint8_t)v;
    put(w, &b, 1);
}
static void put_u16(struct wbuf *w, unsigned v) {
    uint8_t b[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
    put(w, b, 2);
}
static void put_u32(struct wbuf *w, uint32_t v) {
    uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    put(w, b, 4);
}
static void put_u64(struct wbuf *w, uint64_t v) {
    put_u32(w, (uint32_t)v), put_u32(w, (uint32_t)(v >> 32));
}
static void put_f32(struct wbuf *w, float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    put_u32(w, u);
}
static void set_u64(struct wbuf *w, size_t at, uint64_t v) {
    for (int i = 0; i < 8; i++) w->b[at + (size_t)i] = (uint8_t)(v >> (8 * i));
}
static void pad_to(struct wbuf *w, size_t align) {
    static const uint8_t zero[64];
    while (!w->bad && w->n % align) put(w, zero, align - w->n % align < 64 ? align - w->n % align : 64);
}

static int key_ok(const char *k) {
    if (!*k) return 0;
    for (; *k; k++)
        if (!((*k >= 'a' && *k <= 'z') || (*k >= 'A' && *k <= 'Z') || (*k >= '0' && *k <= '9') ||
              *k == '_' || *k == '.' || *k == '-'))
            return 0;
    return 1;
}

static size_t data_bytes(const struct nn_value *v) {
    return v->data || v->idata ? nn_shape_count(&v->shape) * 4 : 0;
}

// the whole file in memory
static int serialize(const struct nn_net *net, const struct nn_meta *meta, struct wbuf *w) {
    if (meta && (meta->n < 0 || meta->n > 64)) return fh_fail(FH_E_ARG, "model file: %d metadata lines (at most 64)", meta->n);
    for (int i = 0; meta && i < meta->n; i++)
        if (!meta->key[i] || !meta->value[i] || !key_ok(meta->key[i]) || strchr(meta->value[i], '\n'))
            return fh_fail(FH_E_ARG, "model file: metadata line %d: a key of [A-Za-z0-9_.-] and a one-line value", i);
    for (int i = 0; i < net->n_nodes; i++) {
        const struct nn_params *np = &net->nodes[i].p;
        if (!OP_NAMES[net->nodes[i].op]) return fh_fail(FH_E_ARG, "model file: operator %d has no file name", i);
        if (np->same == NN_PAD_EXPLICIT || np->DH > 1 || np->DW > 1)
            return fh_fail(FH_E_ARG, "model file: operator %d: explicit padding or dilation (the format holds neither)", i);
    }
    uint8_t head[HEADER] = MAGIC;
    put(w, head, HEADER);
    size_t meta_off = w->n;
    for (int i = 0; meta && i < meta->n; i++) {
        put(w, meta->key[i], strlen(meta->key[i]));
        put(w, "=", 1);
        put(w, meta->value[i], strlen(meta->value[i]));
        put(w, "\n", 1);
    }
    size_t graph_off = w->n;
    put_u32(w, (uint32_t)net->n_values), put_u32(w, (uint32_t)net->n_nodes);
    put_u32(w, (uint32_t)net->n_inputs), put_u32(w, (uint32_t)net->n_outputs);
    for (int i = 0; i < net->n_inputs; i++) put_u32(w, (uint32_t)net->inputs[i]);
    for (int i = 0; i < net->n_outputs; i++) put_u32(w, (uint32_t)net->outputs[i]);
    uint64_t off = 0;
    for (int i = 0; i < net->n_values; i++) {
        const struct nn_value *v = &net->values[i];
        size_t len = v->name ? strlen(v->name) : 0;
        if (len > MAX_NAME) len = MAX_NAME;
        put_u16(w, (unsigned)len), put(w, v->name, len);
        put_u8(w, v->idata ? 1 : 0), put_u8(w, (unsigned)v->flags), put_u8(w, (unsigned)v->shape.rank), put_u8(w, 0);
        for (int d = 0; d < v->shape.rank; d++) put_u32(w, (uint32_t)v->shape.d[d]);
        size_t nb = data_bytes(v);
        put_u64(w, nb ? off : 0), put_u64(w, nb);
        off += (nb + 63) & ~(uint64_t)63;
    }
    for (int i = 0; i < net->n_nodes; i++) {
        const struct nn_node *nd = &net->nodes[i];
        const char *name = OP_NAMES[nd->op];
        put_u8(w, (unsigned)strlen(name)), put(w, name, strlen(name));
        put_u8(w, (unsigned)nd->n_in);
        for (int k = 0; k < nd->n_in; k++) put_u32(w, (uint32_t)nd->in[k]);
        put_u32(w, (uint32_t)nd->out);
        const struct nn_params *p = &nd->p;
        put_u32(w, N_WORDS);
        int32_t iw[9] = {p->KH, p->KW, p->SH, p->SW, p->same, p->act, p->alpha, p->axis, p->keep_dims};
        for (int k = 0; k < 9; k++) put_u32(w, (uint32_t)iw[k]);
        put_f32(w, p->alpha_scale), put_f32(w, p->eps);
    }
    size_t graph_end = w->n;
    pad_to(w, 64);
    size_t weights_off = w->n;
    for (int i = 0; i < net->n_values; i++) {
        const struct nn_value *v = &net->values[i];
        size_t nb = data_bytes(v);
        if (!nb) continue;
        // little-endian on disk; the engine runs on little-endian machines only
        put(w, v->data ? (const void *)v->data : (const void *)v->idata, nb);
        pad_to(w, 64);
    }
    size_t weights_end = w->n;
    uint8_t sum[SUM] = {0};
    put(w, sum, SUM);
    if (w->bad) return fh_fail(FH_E_NOMEM, "model file: out of memory");
    w->b[8] = VERSION;
    set_u64(w, 16, meta_off), set_u64(w, 24, graph_off - meta_off);
    set_u64(w, 32, graph_off), set_u64(w, 40, graph_end - graph_off);
    set_u64(w, 48, weights_off), set_u64(w, 56, weights_end - weights_off);
    fh_sha256(w->b, w->n - SUM, w->b + w->n - SUM);
    return FH_OK;
}

static int write_all(int fd, const uint8_t *b, size_t n) {
    while (n) {
        ssize_t k = write(fd, b, n);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) return -1;
        b += k, n -= (size_t)k;
    }
    return 0;
}

int nn_net_save(const struct nn_net *net, const char *path, const struct nn_meta *meta) {
    struct wbuf w = {0};
    int rc = serialize(net, meta, &w);
    if (rc) {
        fh_free(w.b);
        return rc;
    }
    size_t plen = strlen(path);
    char *tmp = fh_malloc(plen + 16);
    if (!tmp) {
        fh_free(w.b);
        return fh_fail(FH_E_NOMEM, "model file: out of memory");
    }
    snprintf(tmp, plen + 16, "%s.tmp.XXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        rc = fh_fail(FH_E_IO, "%s: cannot create a temporary file: %s", path, strerror(errno));
    } else {
        (void)fchmod(fd, 0644); // mkstemp made it 0600
        int bad = write_all(fd, w.b, w.n) || fsync(fd);
        int err = errno;
        bad |= close(fd) != 0;
        if (bad || rename(tmp, path)) {
            if (!bad) err = errno;
            unlink(tmp);
            rc = fh_fail(FH_E_IO, "%s: cannot write: %s", path, strerror(err));
        }
    }
    fh_free(tmp);
    fh_free(w.b);
    return rc;
}

// ---- reading ------------------------------------------------------------------------------
struct rd {
    const uint8_t *b;
    size_t pos, end;
    int bad;
};

static const uint8_t *take(struct rd *r, size_t n) {
    if (r->bad || r->end - r->pos < n) return r->bad = 1, NULL;
    const uint8_t *p = r->b + r->pos;
    r->pos += n;
    return p;
}
static uint32_t get_u32(struct rd *r) {
    const uint8_t *p = take(r, 4);
    return p ? (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24 : 0;
}
static unsigned get_u8(struct rd *r) {
    const uint8_t *p = take(r, 1);
    return p ? *p : 0;
}
static unsigned get_u16(struct rd *r) {
    const uint8_t *p = take(r, 2);
    return p ? (unsigned)(p[0] | p[1] << 8) : 0;
}
static uint64_t get_u64(struct rd *r) {
    uint64_t lo = get_u32(r);
    return lo | (uint64_t)get_u32(r) << 32;
}
static uint64_t u64_at(const uint8_t *b) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = v << 8 | b[i];
    return v;
}

#define BAD(...) fh_fail(FH_E_FORMAT, "model file: " __VA_ARGS__)

int nn_is_fhm(const uint8_t *buf, size_t n) { return n >= 8 && !memcmp(buf, MAGIC, 8); }

// metadata: printable "key=value" lines
static int read_meta(const uint8_t *b, size_t n, struct nn_net *net) {
    if (n > MAX_META_BYTES) return fh_fail(FH_E_LIMIT, "model file: metadata of %zu bytes", n);
    if (n && b[n - 1] != '\n') return BAD("metadata does not end with a newline");
    int lines = 0;
    for (size_t i = 0, start = 0; i < n; i++) {
        if (!b[i]) return BAD("metadata holds a NUL byte");
        if (b[i] != '\n') continue;
        const uint8_t *eq = memchr(b + start, '=', i - start);
        if (!eq || eq == b + start) return BAD("metadata line %d is not key=value", lines + 1);
        lines++, start = i + 1;
    }
    if (lines > 64) return BAD("%d metadata lines (at most 64)", lines);
    if (!(net->meta = fh_malloc(n + 1))) return fh_fail(FH_E_NOMEM, "model file: out of memory");
    memcpy(net->meta, b, n);
    net->meta[n] = 0;
    for (char *p = net->meta; *p; p++) {  // "k=v\n" -> "k\0v\0" (the first '=' splits)
        char *nl = strchr(p, '\n');
        *strchr(p, '=') = 0, *nl = 0;
        p = nl;
    }
    net->n_meta = lines;
    return FH_OK;
}

static int value_index(const struct nn_net *net, int32_t v, int optional) {
    return (v >= 0 && v < net->n_values) || (optional && v == -1);
}

static int read_values(struct rd *r, struct nn_net *net, const uint8_t *wts, size_t wlen) {
    // pass 0: sizes (nothing allocated from file numbers yet); pass 1: names and data
    struct rd r0 = *r;
    size_t blob = 0;
    for (int pass = 0; pass < 2; pass++) {
        *r = r0;
        size_t bo = 0;
        for (int i = 0; i < net->n_values; i++) {
            struct nn_value *v = &net->values[i];
            unsigned nlen = get_u16(r);
            const uint8_t *name = take(r, nlen);
            unsigned dtype = get_u8(r), flags = get_u8(r), rank = get_u8(r);
            get_u8(r);
            if (r->bad) return BAD("value %d is cut short", i);
            if (nlen > MAX_NAME) return BAD("value %d name length %u", i, nlen);
            if (dtype > 1 || (flags & ~(unsigned)(NN_VF_TRAIN | NN_VF_BUFFER | NN_VF_DECAY)))
                return fh_fail(FH_E_UNSUPPORTED, "model file: value %d dtype %u flags %u", i, dtype, flags);
            if (rank > FH_MAX_DIMS) return BAD("value %d rank %u", i, rank);
            struct nn_shape sh = {(int)rank, {0}};
            uint64_t count = 1;
            for (unsigned d = 0; d < rank; d++) {
                int32_t x = (int32_t)get_u32(r);
                if (x < 0 || x > (1 << 24)) return BAD("value %d dimension %u is %d", i, d, x);
                sh.d[d] = x, count *= (uint64_t)x;
                if (count > ((uint64_t)1 << 40)) return BAD("value %d shape too large", i);
            }
            uint64_t off = get_u64(r), nb = get_u64(r);
            if (r->bad) return BAD("value %d is cut short", i);
            if (flags && (dtype != 0 || !nb)) return BAD("value %d: only float data can be a param", i);

            if (nb && (nb != count * 4 || off % 64 || off > wlen || nb > wlen - off))
                return BAD("value %d data range [%llu, +%llu) (shape needs %llu bytes of %zu)", i,
                           (unsigned long long)off, (unsigned long long)nb,
                           (unsigned long long)(count * 4), wlen);
            if (pass == 0) {
                if (nb && dtype == 0) blob += (size_t)((count + 15) & ~(uint64_t)15);
                continue;
            }
            v->shape = sh;
            v->dtype = dtype ? NN_I32 : NN_F32;
            v->flags = (int)flags;
            if (!(v->name = fh_malloc(nlen + 1))) return fh_fail(FH_E_NOMEM, "model file: out of memory");
            memcpy(v->name, name, nlen);
            v->name[nlen] = 0;
            if (!nb) continue;
            if (dtype == 1) {
                if (!(v->idata = fh_malloc((size_t)nb))) return fh_fail(FH_E_NOMEM, "model file: out of memory");
                memcpy(v->idata, wts + off, (size_t)nb);
            } else {
                v->data = net->blob + bo;
                memcpy(v->data, wts + off, (size_t)nb);
                bo += (size_t)((count + 15) & ~(uint64_t)15);
            }
        }
        if (pass == 0 && blob > (size_t)FH_MAX_MODEL_BYTES) return fh_fail(FH_E_LIMIT, "model file: %zu weights", blob);
        if (pass == 0 && !(net->blob = fh_malloc_aligned(blob * sizeof(float) + 64)))
            return fh_fail(FH_E_NOMEM, "model file: out of memory for %zu weights", blob);
    }
    return FH_OK;
}

static int const_f32(const struct nn_net *net, int v) { return v >= 0 && net->values[v].data; }

// what an op needs of its inputs and params before the engine may touch it
static int check_node(const struct nn_net *net, int i) {
    const struct nn_node *nd = &net->nodes[i];
    const struct nn_params *p = &nd->p;
    const char *name = OP_NAMES[nd->op];
    int n = nd->n_in;
    if (n < 1 || nd->in[0] < 0) return BAD("operator %d (%s) has no data input", i, name);
    if (p->act < NN_ACT_NONE || p->act > NN_ACT_PRELU) return BAD("operator %d (%s) activation %d", i, name, p->act);
    int conv = nd->op == NN_OP_CONV2D || nd->op == NN_OP_DWCONV2D || nd->op == NN_OP_FC;
    if (p->act != NN_ACT_NONE && !conv) return BAD("operator %d (%s) with a fused activation", i, name);
    if (p->act == NN_ACT_PRELU || nd->op == NN_OP_PRELU) {
        if (!value_index(net, p->alpha, 0) || !const_f32(net, p->alpha))
            return BAD("operator %d (%s) slopes %d are not a constant", i, name, p->alpha);
    }
    switch (nd->op) {
    case NN_OP_CONV2D:
    case NN_OP_DWCONV2D:
    case NN_OP_FC: {
        int dw = nd->op == NN_OP_DWCONV2D, fc = nd->op == NN_OP_FC;
        if (n < 2 || n > 3 || !const_f32(net, nd->in[1])) return BAD("operator %d (%s) weights must be a constant", i, name);
        const struct nn_shape *w = &net->values[nd->in[1]].shape;
        if (w->rank != (fc ? 2 : 4) || w->d[0] < 1 || (dw && w->d[0] != 1) || nn_shape_count(w) == 0)
            return BAD("operator %d (%s) weights have the wrong shape", i, name);
        int OC = w->d[dw ? 3 : 0];
        if (n == 3 && nd->in[2] >= 0 && (!const_f32(net, nd->in[2]) || nn_shape_count(&net->values[nd->in[2]].shape) != (size_t)OC))
            return BAD("operator %d (%s) bias must be a constant [%d]", i, name, OC);
        if (!fc && (p->SH < 1 || p->SW < 1 || p->SH > 16 || p->SW > 16 || (p->same != 0 && p->same != 1)))
            return BAD("operator %d (%s) stride or padding out of range", i, name);
        break;
    }
    case NN_OP_MAXPOOL2D:
        if (n != 1 || p->SH < 1 || p->SW < 1 || p->KH < 1 || p->KW < 1 || p->KH > 64 || p->KW > 64 ||
            p->SH > 64 || p->SW > 64 || (p->same != 0 && p->same != 1))
            return BAD("operator %d (%s) window/stride out of range", i, name);
        break;
    case NN_OP_ADD: case NN_OP_SUB: case NN_OP_MUL: case NN_OP_DIV:
        if (n != 2 || nd->in[1] < 0) return BAD("operator %d (%s) needs 2 inputs", i, name);
        break;
    case NN_OP_RESHAPE:
        if (n != 2 || nd->in[1] < 0 || !net->values[nd->in[1]].idata) return BAD("operator %d (RESHAPE) needs a constant shape", i);
        break;
    case NN_OP_BATCHNORM:
        if (n != 5) return BAD("operator %d (BATCHNORM) needs 5 inputs", i);
        break;
    default:
        if (n != 1) return BAD("operator %d (%s) needs 1 input", i, name);
        break;
    }
    if (nd->op == NN_OP_SUM || nd->op == NN_OP_REDUCE_MAX) {
        if (p->axis < -FH_MAX_DIMS || p->axis >= FH_MAX_DIMS) return BAD("operator %d (%s) axis %d", i, name, p->axis);
    }
    if (nd->op == NN_OP_BATCHNORM || nd->op == NN_OP_L2NORM) {
        if (!(p->eps >= 0 && p->eps < 1)) return BAD("operator %d (%s) eps", i, name);
    }
    for (int k = 1; nd->op == NN_OP_BATCHNORM && k < 5; k++)
        if (!const_f32(net, nd->in[k])) return BAD("operator %d (BATCHNORM) input %d must be a constant", i, k);
    return FH_OK;
}

static int read_nodes(struct rd *r, struct nn_net *net) {
    for (int i = 0; i < net->n_nodes; i++) {
        struct nn_node *nd = &net->nodes[i];
        unsigned olen = get_u8(r);
        const uint8_t *oname = take(r, olen);
        unsigned n_in = get_u8(r);
        if (r->bad) return BAD("operator %d is cut short", i);
        int op = -1;
        for (int k = 0; k < NN_OP_COUNT && op < 0; k++)
            if (OP_NAMES[k] && strlen(OP_NAMES[k]) == olen && !memcmp(OP_NAMES[k], oname, olen)) op = k;
        if (op < 0 || !nn_op_defs[op])
            return fh_fail(FH_E_UNSUPPORTED, "model file: operator %d: op '%.*s' is not supported", i,
                           (int)olen, (const char *)oname);
        if (n_in < 1 || n_in > NN_MAX_IN) return BAD("operator %d has %u inputs", i, n_in);
        nd->op = (enum nn_op)op, nd->n_in = (int)n_in;
        for (unsigned k = 0; k < n_in; k++) {
            int32_t v = (int32_t)get_u32(r);
            if (!r->bad && !value_index(net, v, 1)) return BAD("operator %d input %u is %d", i, k, v);
            nd->in[k] = v;
        }
        int32_t o = (int32_t)get_u32(r);
        uint32_t nw = get_u32(r);
        if (r->bad) return BAD("operator %d is cut short", i);
        if (!value_index(net, o, 0)) return BAD("operator %d output is %d", i, o);
        if (nw > 1024) return BAD("operator %d has %u param words", i, nw);
        nd->out = o;
        int32_t wv[N_WORDS] = {1, 1, 1, 1, 0, 0, -1, -1, 0, 0, 0};
        float f1 = 1, eps = 0;
        for (uint32_t k = 0; k < nw; k++) {
            uint32_t u = get_u32(r);
            if (k < 9) wv[k] = (int32_t)u;
            else if (k == 9) memcpy(&f1, &u, 4);
            else if (k == 10) memcpy(&eps, &u, 4);
        }
        if (r->bad) return BAD("operator %d params are cut short", i);
        nd->p = (struct nn_params){.KH = wv[0], .KW = wv[1], .SH = wv[2], .SW = wv[3], .same = wv[4],
                                   .act = wv[5], .alpha = wv[6], .axis = wv[7], .keep_dims = wv[8],
                                   .alpha_scale = f1, .eps = eps};
        int rc = check_node(net, i);
        if (rc) return rc;
    }
    return FH_OK;
}

static int read_graph(const uint8_t *b, size_t n, const uint8_t *wts, size_t wlen, struct nn_net **out) {
    struct rd r = {b, 0, n, 0};
    uint32_t nv = get_u32(&r), nn = get_u32(&r), ni = get_u32(&r), no = get_u32(&r);
    if (r.bad) return BAD("graph is cut short");
    if (nv == 0 || nv > FH_MAX_MODEL_TENSORS || nn == 0 || nn > FH_MAX_MODEL_OPS)
        return fh_fail(FH_E_LIMIT, "model file: %u values / %u operators out of range", nv, nn);
    // every value takes at least 24 bytes and every node 14: refuse counts the bytes cannot hold
    if ((uint64_t)nv * 24 + (uint64_t)nn * 14 > n) return BAD("graph of %zu bytes cannot hold %u values and %u operators", n, nv, nn);
    if (ni != 1 || no < 1 || no > 8) return fh_fail(FH_E_UNSUPPORTED, "model file: %u inputs / %u outputs (need 1 / 1..8)", ni, no);
    struct nn_net *net = nn_net_alloc((int)nv, (int)nn);
    if (!net) return fh_fail(FH_E_NOMEM, "model file: out of memory");
    net->n_inputs = (int)ni, net->n_outputs = (int)no;
    int rc = FH_OK;
    for (uint32_t i = 0; i < ni + no && !rc; i++) {
        int32_t v = (int32_t)get_u32(&r);
        if (r.bad || !value_index(net, v, 0)) rc = BAD("graph %s %u is %d", i < ni ? "input" : "output", i < ni ? i : i - ni, v);
        else if (i < ni) net->inputs[i] = v;
        else net->outputs[i - ni] = v;
    }
    if (!rc) rc = read_values(&r, net, wts, wlen);
    if (!rc && net->values[net->inputs[0]].data) rc = BAD("the input is a constant");
    if (!rc) rc = read_nodes(&r, net);
    if (!rc && r.pos != r.end) rc = BAD("%zu bytes after the last operator", r.end - r.pos);
    if (rc) {
        nn_net_free(net);
        return rc;
    }
    *out = net;
    return FH_OK;
}

int nn_net_load_mem(const uint8_t *buf, size_t n, const struct nn_options *opt, struct nn_net **out) {
    *out = NULL;
    if (!nn_is_fhm(buf, n)) return BAD("not a facehatch model (no FHMODEL magic)");
    if (n < HEADER + SUM) return BAD("%zu bytes, shorter than a header", n);
    if (n > FH_MAX_MODEL_BYTES) return fh_fail(FH_E_LIMIT, "model file: %zu bytes", n);
    uint32_t version = (uint32_t)buf[8] | (uint32_t)buf[9] << 8 | (uint32_t)buf[10] << 16 | (uint32_t)buf[11] << 24;
    if (version != VERSION) return fh_fail(FH_E_UNSUPPORTED, "model file: version %u (this build reads %d)", version, VERSION);
    uint8_t sum[SUM];
    fh_sha256(buf, n - SUM, sum);
    if (memcmp(sum, buf + n - SUM, SUM)) return BAD("checksum mismatch (the file is damaged)");
    if (buf[12] | buf[13] | buf[14] | buf[15]) return fh_fail(FH_E_UNSUPPORTED, "model file: header flags");
    static const char *const field[3] = {"metadata", "graph", "weights"};
    uint64_t off[3], len[3], at = HEADER;
    for (int s = 0; s < 3; s++) {
        off[s] = u64_at(buf + 16 + 16 * s), len[s] = u64_at(buf + 24 + 16 * s);
        // in order, within the file, weights 64-byte aligned
        if (off[s] < at || off[s] > n - SUM || len[s] > n - SUM - off[s] || (s == 2 && off[s] % 64))
            return BAD("%s section [%llu, +%llu) out of range", field[s], (unsigned long long)off[s],
                       (unsigned long long)len[s]);
        at = off[s] + len[s];
    }
    struct nn_net *net = NULL;
    int rc = read_graph(buf + off[1], (size_t)len[1], buf + off[2], (size_t)len[2], &net);
    if (!rc) rc = read_meta(buf + off[0], (size_t)len[0], net);
    return nn_net_seal(net, rc, opt, out);
}

int nn_load_path(const char *path, const struct nn_options *opt, struct nn_net **out,
                 int (*load_mem)(const uint8_t *, size_t, const struct nn_options *, struct nn_net **)) {
    uint8_t *buf;
    size_t n;
    *out = NULL;
    int rc = fh_read_file(path, FH_MAX_MODEL_BYTES, &buf, &n);
    if (rc) return rc;
    rc = load_mem(buf, n, opt, out);
    fh_free(buf);
    if (rc) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s", fh_errmsg());
        return fh_fail(rc, "%s: %s", path, msg);
    }
    return FH_OK;
}

int nn_net_load(const char *path, const struct nn_options *opt, struct nn_net **out) {
    return nn_load_path(path, opt, out, nn_net_load_mem);
}

// ---- metadata and counts ------------------------------------------------------------------------
int nn_net_meta_at(const struct nn_net *net, int i, const char **key, const char **value) {
    if (i < 0 || i >= net->n_meta) return 0;
    const char *s = net->meta; // "key\0value\0" pairs
    for (int k = 0; k < i; k++) s += strlen(s) + 1, s += strlen(s) + 1;
    *key = s, *value = s + strlen(s) + 1;
    return 1;
}

const char *nn_net_meta(const struct nn_net *net, const char *key) {
    const char *k, *v;
    for (int i = 0; nn_net_meta_at(net, i, &k, &v); i++)
        if (!strcmp(k, key)) return v;
    return NULL;
}

size_t nn_net_n_weights(const struct nn_net *net) {
    size_t n = 0;
    for (int i = 0; i < net->n_values; i++)
        if (net->values[i].data) n += nn_shape_count(&net->values[i].shape);
    return n;
}
