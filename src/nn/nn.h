// SPDX-License-Identifier: MIT
// nn: our CNN inference engine. A net is a list of nodes (ops) over float32 NHWC
// tensors, imported from a TFLite flatbuffer (the subset our models use; composite
// PReLU and softmax sub-graphs are fused into single ops by graph passes), loaded from
// an ONNX protobuf (import_onnx.c; NCHW graphs mapped to our layout), a TensorFlow.js graph
// model (import_tfjs.c), our own .fhm model file, or built in code and trained (nn_train.h), and run by a session that owns every activation and scratch buffer.
// It knows nothing about images or faces.
//
//   struct nn_net *net;
//   if (nn_net_load_tflite("models/rnet.tflite", NULL, &net)) puts(fh_errmsg());
//   struct nn_session *s;
//   nn_session_new(net, pool, &s);               // pool may be NULL (1 thread)
//   int dims[4] = {n, 24, 24, 3};
//   nn_session_reshape(s, dims, 4);              // plans memory; grows only if needed
//   memcpy(nn_session_input(s, 0), x, ...);      // fill the input
//   nn_session_run(s);                           // no allocation in here
//   const float *prob = nn_session_output(s, 0, odims, &orank);
//   nn_session_free(s); nn_net_free(net);
//
// Layout: NHWC, row-major, float32; see docs/architecture.md for why.
// Thread safety: a net nobody trains (nn_train.h) is immutable and may be shared by any
// number of threads; each thread uses its own nn_session (a session is one thread at a time, and
// may use a thread pool it is given for intra-op parallelism). Forward results are
// bit-identical for any thread count.
#ifndef FH_NN_H
#define FH_NN_H

#include <stddef.h>
#include <stdint.h>

#include "base/base.h"
#include "base/limits.h"
#include "base/pool.h"

// Ops after import. On-disk order never matters: .fhm files name ops by string.
enum nn_op {
    NN_OP_CONV2D,     // y = act(conv(x, w[OC,KH,KW,C]) + b)
    NN_OP_DWCONV2D,   // y = act(depthwise(x, w[1,KH,KW,C]) + b), depth multiplier 1
    NN_OP_FC,         // y[n,:] = act(W[OC,K] . flatten(x[n]) + b)
    NN_OP_MAXPOOL2D,  // y = max over window; padded cells ignored
    NN_OP_PRELU,      // y = x > 0 ? x : alpha[c] * x            (fused pattern)
    NN_OP_SOFTMAX,    // y = exp(x - max) / sum(exp(x - max)), last axis (fused pattern)
    NN_OP_ADD, NN_OP_SUB, NN_OP_MUL, NN_OP_DIV, // numpy broadcasting
    NN_OP_NEG, NN_OP_ABS, NN_OP_RELU, NN_OP_EXP,
    NN_OP_REDUCE_MAX, NN_OP_SUM, // over one axis, keep_dims
    NN_OP_RESHAPE,    // to a fixed shape (-1 allowed)
    NN_OP_FLATTEN,    // [N, ...] -> [N, prod(...)] (per-image flatten)
    NN_OP_BATCHNORM,  // in: x, gamma, beta, mean, var (C each), over the last axis;
                      // inference: gamma (x - mean) / sqrt(var + eps) + beta; training:
                      // batch statistics (nn_train.h). Folded into the conv before it at export.
    NN_OP_L2NORM,     // rows of [N, D]: x / max(|x|, eps)
    NN_OP_CONCAT,     // inputs joined along one axis (all other dims equal)
    NN_OP_SLICE,      // x[..., start:stop, ...] along one axis, step 1
    NN_OP_COUNT
};

enum nn_act { NN_ACT_NONE, NN_ACT_RELU, NN_ACT_PRELU };

// Element type of a tensor. Activations and weights are NN_F32 today; NN_I32 holds
// constant shapes and axes; NN_I8 and NN_F16 are declared for quantised / half weights
// (no op reads them yet).
enum nn_dtype { NN_F32, NN_I32, NN_I8, NN_F16 };

// An activation scale for int8 inference: the float value of one int8 step of a tensor
// (by value name), as nn_calib_scales chooses them.
struct nn_qscale {
    const char *name;
    float scale;    // > 0
};

struct nn_options {
    int no_fuse;    // 1: keep composite PReLU/softmax sub-graphs as separate ops
    int force_ref;  // 1: scalar reference kernels only (also env FH_FORCE_REF=1)
    // ONNX only: when n_outputs > 0, the net's outputs are these values (by name, at most
    // 8; borrowed for the load) instead of the file's: cuts off a tail such as a decode
    // baked in for one input size. FH_E_NOTFOUND names a value the file does not have.
    // (tfjs too: node names.)
    const char *const *outputs;
    int n_outputs;
    // tfjs only: when n_inputs > 0 (at most 1 today), the net's input is this node's output
    // (by name; borrowed for the load) instead of the file's Placeholder, with the stored
    // shape input_shape: cuts off a head such as preprocessing done with dynamic shapes.
    // input_shape also fills a Placeholder's open (-1) dimensions; NULL reads them as 1.
    const char *const *inputs;
    int n_inputs;
    const int *input_shape;
    int input_rank;
    // int8: every CONV2D and FC whose input value is listed here (borrowed for the load)
    // runs in int8 — the input quantised per tensor with that scale, the weights per
    // output channel (symmetric, [-127, 127]), int32 sums, float out (kern.h:
    // nn_qconv_args). Depthwise convs and everything else stay float. Names the net does
    // not have are ignored; n_int8 = 0: a float net.
    const struct nn_qscale *int8;
    int n_int8;
};

struct nn_net;
struct nn_session;

// ---- nets ----------------------------------------------------------------------------
// Loads a TFLite flatbuffer (file or memory; the buffer is borrowed for the call only).
// opt may be NULL (defaults: fuse, best kernels). Every offset, count and size in the
// file is checked; returns FH_OK, FH_E_IO, FH_E_LIMIT, FH_E_FORMAT (names the bad
// field), FH_E_UNSUPPORTED (names the op or type), FH_E_NOMEM.
int nn_net_load_tflite(const char *path, const struct nn_options *opt, struct nn_net **out);
int nn_net_load_tflite_mem(const uint8_t *buf, size_t n, const struct nn_options *opt,
                           struct nn_net **out);
void nn_net_free(struct nn_net *net);
// Loads an ONNX model (import_onnx.c: opset 7..12, one float NCHW input; the ops and the
// layout mapping are listed there). Rank-4 activations run NHWC: input 0 is (N, H, W, C)
// and an output that ONNX sees as NCHW comes back NHWC. Shape arithmetic is folded at the
// stored input shape (batch 1). Denormal weights are set to zero. Every length, index and
// size in the file is checked before use: FH_OK, FH_E_IO, FH_E_LIMIT, FH_E_FORMAT (names
// the node or tensor), FH_E_UNSUPPORTED (names the op or attribute), FH_E_NOTFOUND (an
// opt->outputs name), FH_E_NOMEM; errors from the path form start with the path.
int nn_net_load_onnx(const char *path, const struct nn_options *opt, struct nn_net **out);
int nn_net_load_onnx_mem(const uint8_t *buf, size_t n, const struct nn_options *opt,
                         struct nn_net **out);

// Loads a TensorFlow.js graph model (import_tfjs.c): path is its model.json (format
// "graph-model": a GraphDef as JSON plus a weights manifest); the weight shards it names are
// read from the same folder. float32, int32 and quantised weights (float16, uint8 / uint16
// with scale and min) are read as float32, denormals set to zero. Only the nodes the outputs
// need are imported (opt->outputs; default the signature's, else the nodes nothing reads);
// the ops are listed in import_tfjs.c. Activations are NHWC like TensorFlow's. Every count, size and name in the
// files is checked before use: FH_OK, FH_E_IO (a shard missing or unreadable), FH_E_LIMIT,
// FH_E_FORMAT (bad JSON, a shard of the wrong size, a node that does not fit its inputs: names
// the file or node), FH_E_UNSUPPORTED (names the op or attribute), FH_E_NOTFOUND (an
// opt->outputs / opt->inputs name), FH_E_ARG, FH_E_NOMEM; every message starts with path.
int nn_net_load_tfjs(const char *path, const struct nn_options *opt, struct nn_net **out);

// ---- our model file (.fhm, model_file.c; layout in docs/architecture.md) ---------------
// Metadata: key=value text lines saved with the net. Keys the pipeline reads: arch,
// embedding_size, input_height, input_width, input_channels, color_order ("RGB"),
// input_mean, input_scale (the net sees (pixel - mean) * scale), producer, training.
// Keys are [A-Za-z0-9_.-]+, values any text without a newline; at most 64 lines.
struct nn_meta {
    int n;
    const char *key[64], *value[64];
};
// Writes net (values, nodes, params, weights) and meta (may be NULL) to path atomically
// (a temporary file in the same folder, fsync, rename): on failure nothing is left
// behind and an existing file is untouched. FH_OK, FH_E_ARG (a bad key/value, an op the
// format cannot hold), FH_E_IO, FH_E_NOMEM.
int nn_net_save(const struct nn_net *net, const char *path, const struct nn_meta *meta);
// Reads a .fhm file (or buffer; borrowed for the call only). Every length, offset and
// index is checked before use: FH_OK, FH_E_IO, FH_E_LIMIT, FH_E_FORMAT (names the bad
// field; also a checksum mismatch), FH_E_UNSUPPORTED (an op name this build does not
// know, or a newer version), FH_E_NOMEM. The graph is loaded as saved (no passes run).
int nn_net_load(const char *path, const struct nn_options *opt, struct nn_net **out);
int nn_net_load_mem(const uint8_t *buf, size_t n, const struct nn_options *opt,
                    struct nn_net **out);
// 1 if buf starts with the .fhm magic (to pick a reader by content)
int nn_is_fhm(const uint8_t *buf, size_t n);
// The value of metadata key (loaded from a .fhm), or NULL. Valid while the net lives.
const char *nn_net_meta(const struct nn_net *net, const char *key);
// Metadata line i (0..) as key and value; 0 past the end.
int nn_net_meta_at(const struct nn_net *net, int i, const char **key, const char **value);
// Number of constant floats (weights, biases, slopes, BN stats) the net holds.
size_t nn_net_n_weights(const struct nn_net *net);

// ---- graph passes (passes.c) -------------------------------------------------------------
enum {
    NN_PASS_FOLD_BN = 1,        // CONV/DWCONV/FC + its only reader BATCHNORM -> the conv
    NN_PASS_FUSE_PATTERNS = 2,  // composite PReLU and softmax sub-graphs -> PRELU, SOFTMAX
    NN_PASS_FUSE_ACT = 4,       // CONV/DWCONV/FC + its only reader PRELU or RELU -> fused act
    NN_PASSES_EXPORT = NN_PASS_FOLD_BN | NN_PASS_FUSE_ACT, // before saving a trained model
};
// Rewrites a loaded net in place (FOLD_BN changes the weights) and re-packs it for the
// kernels (float: int8 nodes go back to float); sessions on the net must be freed first.
// FH_OK, FH_E_NOMEM.
int nn_net_optimize(struct nn_net *net, int passes);

int nn_net_n_inputs(const struct nn_net *net);
int nn_net_n_outputs(const struct nn_net *net);
// Stored shape of input i (as in the file). Returns the rank.
int nn_net_input_shape(const struct nn_net *net, int i, int dims[FH_MAX_DIMS]);
int nn_net_n_nodes(const struct nn_net *net);
int nn_net_count_op(const struct nn_net *net, enum nn_op op);
const char *nn_op_name(enum nn_op op);
const char *nn_net_kernels(const struct nn_net *net); // "ref", "avx2", "avx512", "avx512vnni"
// Nodes that run in int8 (0 for a float net).
int nn_net_n_int8(const struct nn_net *net);

// ---- int8 calibration (quant.c) ---------------------------------------------------------
// Histograms of |x| of the input of every CONV2D / FC over runs of a float net, then per
// input the clipping threshold that minimises the expected squared quantisation error
// (rounding noise inside, clipping error outside), scale = threshold / 127.
//   struct nn_calib *c;  nn_calib_new(net, &c);    // attaches to net
//   ... run sessions on net (any code that runs it: a detector, an embedder) ...
//   nn_calib_scales(c, &scales, &n);                // -> nn_options.int8 of the int8 load
//   nn_calib_free(c);                               // detaches
// While attached, every run of any session on net feeds c: calibrate with one thread
// running the net (the net stops being shareable across threads until nn_calib_free).
struct nn_calib;
// FH_OK, FH_E_ARG (net already has a calibration attached), FH_E_NOMEM.
int nn_calib_new(struct nn_net *net, struct nn_calib **out);
// The scales (one per conv input seen with a non-zero value; names valid while the net
// lives, the array while c does, until the next call). clip_mult (>= 1) widens every
// threshold (up to the largest value seen): 1 = the least-squared-error thresholds.
// FH_OK, FH_E_ARG (nothing calibrated yet).
int nn_calib_scales(struct nn_calib *c, double clip_mult, const struct nn_qscale **out, int *n);
// Detaches from the net and frees.
void nn_calib_free(struct nn_calib *c);

// ---- sessions -------------------------------------------------------------------------
// pool (borrowed, may be NULL) must outlive the session. Returns FH_OK or FH_E_NOMEM.
int nn_session_new(const struct nn_net *net, struct fh_pool *pool, struct nn_session **out);
void nn_session_free(struct nn_session *s);
// Sets the shape of input 0 and plans every tensor. Rank must equal the stored rank;
// any batch and (for fully convolutional nets) any spatial size. Allocates only when
// the plan needs more memory than the session has. FH_E_ARG on a shape the net cannot
// take (names the op), FH_E_LIMIT, FH_E_NOMEM.
int nn_session_reshape(struct nn_session *s, const int *dims, int rank);
// Input buffer i of the current plan, to fill (NHWC, planned size). Valid until the
// next reshape.
float *nn_session_input(struct nn_session *s, int i);
// Runs the net. No allocation. Returns FH_OK (or FH_E_ARG if never reshaped).
int nn_session_run(struct nn_session *s);
// Output i of the last run and its shape (dims may be NULL). Valid until the next
// run or reshape.
const float *nn_session_output(struct nn_session *s, int i, int dims[FH_MAX_DIMS], int *rank);
// Bytes of activation + scratch (+ gradient, training sessions) memory the session holds.
size_t nn_session_bytes(const struct nn_session *s);

#endif
