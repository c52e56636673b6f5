// SPDX-License-Identifier: MIT
// Engine-private structures (SQLite xInt.h style). See nn.h for the public contract.
//
// A net is a topologically ordered node list over values (tensors):
//
//   values[]: name, stored shape, const data (weights, into net->blob) or NULL
//   nodes[]:  op, inputs[] -> output, params, packed weights
//
// A session plans, for one input shape, the shape of every value and an offset into
// one arena (values whose lifetimes do not overlap share memory), plus per-thread
// scratch; nn_session_run walks the nodes calling each op's forward function.
#ifndef FH_NN_INT_H
#define FH_NN_INT_H

#include "nn/kern/kern.h"
#include "nn/nn.h"

#define NN_MAX_IN 5 // BATCHNORM: x, gamma, beta, mean, var

struct nn_shape {
    int rank;
    int d[FH_MAX_DIMS];
};

static inline size_t nn_shape_count(const struct nn_shape *s) {
    size_t n = 1;
    for (int i = 0; i < s->rank; i++) n *= (size_t)s->d[i];
    return n;
}

// value flags
#define NN_VF_TRAIN 1  // a trainable param (weights, biases, BN gamma/beta, PReLU slopes)
#define NN_VF_BUFFER 2 // a param that is state, not trained (BN running mean/var)
#define NN_VF_DECAY 4  // weight decay applies (conv/fc weights)

struct nn_value {
    char *name;            // owned
    struct nn_shape shape; // stored shape (from the file / the builder, batch 1)
    enum nn_dtype dtype;   // NN_F32 (data) or NN_I32 (idata)
    int flags;             // NN_VF_*
    int param;             // index in net->params, or -1 (not a param)
    float *data;           // float data (into net->blob; params are mutable) or NULL
    int32_t *idata;        // const int32 data (axes, shapes; owned) or NULL
    int producer;          // node index or -1 (input / const)
    int last_use;          // last node index reading it (planning)
};

#define NN_PAD_EXPLICIT 2 // nn_params.same: padding given per side

struct nn_params {
    int KH, KW, SH, SW;    // conv / pool window and strides
    int same;              // 1 = SAME padding, 0 = VALID, NN_PAD_EXPLICIT: PT, PL, PB, PR
    int PT, PL, PB, PR;    // explicit padding (conv, same == NN_PAD_EXPLICIT; ONNX pads)
    int DH, DW;            // conv dilation; 0 reads as 1 (none; depthwise takes none)
    int act;               // fused activation (enum nn_act)
    int alpha;             // value index of PReLU slopes (for act == PRELU), else -1
    float alpha_scale;     // slopes multiplier (MobileFaceNet pattern stores alpha/2)
    int axis;              // reduce / concat / slice axis (normalised, >= 0) or -1
    int start, stop;       // SLICE: [start, stop) along axis (negative counts from the end;
                           // clamped to the dimension as ONNX does)
    int keep_dims;
    float eps;             // BATCHNORM, L2NORM
};

struct nn_node {
    enum nn_op op;
    int n_in;
    int in[NN_MAX_IN];     // value indices
    int out;               // value index
    struct nn_params p;
    float *wpacked;        // conv/fc weights packed for net->kern (owned, aligned)
    float *alpha;          // PReLU slopes * alpha_scale, (n_alpha) (owned) or NULL
    int n_alpha;
    // int8 (CONV2D / FC of a net loaded with nn_options.int8 listing its input; quant.c):
    float xscale;          // the input's activation scale, or 0: this node runs in float
    void *wq8;             // weights quantised per output channel, packed by net->kern's
                           // qconv_pack (owned, aligned) or NULL
    float *dq;             // (OC) xscale * the channel's weight scale (owned) or NULL
};

// int8 (quant.c): sets nd->xscale for every CONV2D / FC whose input opt->int8 lists (and
// that the int8 kernels take), before nn_net_finish allocates; then quantises and packs
// the weights of such a node (nn_net_finish / derive). FH_OK, FH_E_NOMEM.
void nn_quant_mark(struct nn_net *net, const struct nn_options *opt);
int nn_quant_alloc(struct nn_net *net, struct nn_node *nd);
void nn_quant_derive(const struct nn_net *net, struct nn_node *nd);
// K and OC of a CONV2D / FC node's weights
void nn_conv_dims(const struct nn_net *net, const struct nn_node *nd, int *OC, int *K);

// FH_OK if a fused/standalone PReLU has one slope per output channel C
int nn_check_alpha(const struct nn_node *nd, int C);

struct nn_net {
    int n_values, n_nodes;
    struct nn_value *values;
    struct nn_node *nodes;
    int n_inputs, n_outputs;
    int inputs[4], outputs[8];
    float *blob;                 // all const floats, 64-byte aligned, owned
    char *meta;                  // .fhm metadata, "key\0value\0" n_meta times (owned) or NULL
    int n_meta;
    const struct nn_kern *kern;
    int n_params;                // params (NN_VF_TRAIN or NN_VF_BUFFER values), in
    int *params;                 // creation order: value indices (owned) or NULL
    struct nn_calib *calib;      // int8 calibration in progress (quant.c), or NULL: every
                                 // session run on the net feeds it (calibration only)
};

// quant.c: before node `node` of a run of s, adds its input to the calibration
void nn_calib_observe(struct nn_calib *c, const struct nn_session *s, int node);

// one planned tensor in a session
struct nn_slot {
    struct nn_shape shape;
    size_t offset;   // floats into arena
    float *ptr;      // arena + offset, or const data
};

struct nn_session {
    const struct nn_net *net;
    struct fh_pool *pool;
    struct nn_slot *slots;   // per value
    float *arena;            // activations, then scratch
    size_t arena_cap;        // floats allocated
    size_t arena_used;
    float *scratch;          // per-thread conv scratch
    size_t scratch_per_thread;
    char *live;              // planning scratch, one flag per value
    int planned;
    // training sessions (nn_session_new_train); all NULL / 0 for inference sessions
    int train;               // 1: no memory reuse, gradients
    int training;            // the current forward runs in training mode
    float **grad;            // per value: gradient (activations, trainable params) or NULL
    float *garena;           // activation gradients (their own first-fit plan) and
    size_t garena_cap;       // the output gradients after them
    float **ograd;           // per output: the caller's dL/dout (into garena)
    float *pgrad;            // all param gradients (owned; persists across reshapes)
    float **state;           // per node: op state saved by forward for backward, or NULL
    float *state_mem;        // (owned) BN: mean, invstd, var per channel
};

// gradient of value v in a training session, or NULL (no gradient needed / kept)
static inline float *nn_grad(const struct nn_session *s, int v) {
    return s->grad && v >= 0 ? s->grad[v] : NULL;
}

// ---- op table (ops/*.c): shape inference and forward ----------------------------------
struct nn_op_def {
    const char *name;
    // infers the output shape from the input shapes; FH_OK or FH_E_ARG (names the op)
    int (*shape)(const struct nn_net *net, const struct nn_node *nd,
                 const struct nn_shape *in[], struct nn_shape *out);
    // per-thread conv scratch in floats (NULL = none)
    size_t (*scratch)(const struct nn_session *s, const struct nn_node *nd);
    void (*forward)(struct nn_session *s, const struct nn_node *nd);
    // training: ACCUMULATES the gradients of the node's inputs and params (nn_grad,
    // NULL = not needed) from the gradient of its output, after a forward in training
    // mode. NULL: the op cannot be trained (nn_session_new_train refuses the net).
    void (*backward)(struct nn_session *s, const struct nn_node *nd);
    // floats of state per node a training session keeps between forward and backward
    size_t (*state)(const struct nn_net *net, const struct nn_node *nd);
};
extern const struct nn_op_def *const nn_op_defs[NN_OP_COUNT];

// helpers shared by ops
int nn_conv_out(int in, int k, int stride, int same, int *out, int *pad_before);
void nn_session_parallel(struct nn_session *s, void (*fn)(void *, int, int), void *ctx);

// sets denormal floats of x[0..n) to zero (noise left by training that makes every multiply
// with them slow); returns how many were
size_t nn_flush_denormals(float *x, size_t n);

// net construction (used by importers; tests build tiny nets with them)
struct nn_net *nn_net_alloc(int n_values, int n_nodes);
// reads path (at most FH_MAX_MODEL_BYTES) and loads it with load_mem; errors name the path
int nn_load_path(const char *path, const struct nn_options *opt, struct nn_net **out,
                 int (*load_mem)(const uint8_t *, size_t, const struct nn_options *, struct nn_net **));
// finalises: packs conv/fc weights for the kernel table, resolves PReLU slopes,
// lists the params (values flagged NN_VF_TRAIN / NN_VF_BUFFER, in value order)
int nn_net_finish(struct nn_net *net, const struct nn_options *opt);

// training sessions (train_session.c): after the activation plan (`used` floats),
// places the gradients; frees what a training session holds beyond an inference one
int nn_train_plan(struct nn_session *s, size_t used);
void nn_train_free(struct nn_session *s);

// per-channel count of the last axis, rows = count / C (BATCHNORM, PRELU)
static inline void nn_rows(const struct nn_shape *x, int *M, int *C) {
    *C = x->rank ? x->d[x->rank - 1] : 1;
    *M = (int)(nn_shape_count(x) / (size_t)(*C ? *C : 1));
}

#endif
