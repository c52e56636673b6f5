// SPDX-License-Identifier: MIT
// nn training: build a net in code, run it forward keeping every activation, run it
// backward, read and write its parameters. The same nn_net, op table and kernel tables
// as inference (nn.h); a training session is an nn_session that keeps every activation
// (no memory reuse) and holds a gradient for every activation (sharing memory between
// gradients whose backward lifetimes do not overlap) and every trainable param.
//
//   struct nn_builder *b;
//   nn_builder_new(seed, &b);
//   int x = nn_b_input(b, "input", 112, 112, 3);            // NHWC, batch free
//   x = nn_b_prelu(b, nn_b_bn(b, nn_b_conv(b, x, 64, 3, 2, 1, 0)));
//   ...
//   nn_b_output(b, nn_b_fc(b, nn_b_flatten(b, x), 128, 1));
//   struct nn_net *net;
//   if (nn_b_finish(b, NULL, &net)) puts(fh_errmsg());    // frees b either way
//
//   struct nn_session *s;
//   nn_session_new_train(net, pool, &s);
//   nn_session_reshape(s, (int[]){64, 112, 112, 3}, 4);
//   fill nn_session_input(s, 0);
//   nn_session_forward(s, 1);                                // training mode
//   out = nn_session_output(s, 0, dims, &rank); compute loss and dL/dout
//   memcpy(nn_session_output_grad(s, 0), dl, ...);
//   nn_session_zero_grad(s); nn_session_backward(s);
//   for each trainable param i: update nn_net_param(net, i).w from nn_session_param_grad(s, i)
//   nn_net_weights_changed(net);                             // repack for the kernels
//
// Parameters: every weight, bias, BN gamma/beta and PReLU slope is a trainable param;
// BN running mean/var are buffers (params with trainable = 0: saved, never updated by an
// optimizer, updated by forward in training mode with torch's momentum 0.1).
// Names: "<layer>.<w|b|gamma|beta|mean|var|alpha>", layers named by kind and a running
// number in creation order ("conv0", "bn1", "prelu2", "dw3", "fc4"; every layer takes a
// number, also relu, add, flatten and l2norm: the number is the node's index), so two
// builds of the same architecture name their params identically; params are listed in
// creation order (conv/fc: w, b; bn: gamma, beta, mean, var; prelu: alpha). A layer's
// output tensor carries the layer's name.
// Weight layouts (NHWC engine): conv w (OC, KH, KW, C); depthwise w (1, KH, KW, C);
// fc w (OC, K) with K in the NHWC flatten order; all others (C).
// Init (from the builder's seed, deterministic): conv/dw/fc weights He-normal
// (std = sqrt(2 / fan_in); fan_in KH*KW*C for conv, KH*KW for depthwise, K for fc),
// biases 0, gamma 1, beta 0, mean 0, var 1, PReLU 0.25. The generator (xoshiro256**
// + Box-Muller) is described in builder.c; another framework should load the weights by
// name rather than reproduce it.
//
// Thread safety: a training session mutates its net's buffers (BN running stats) in
// forward(training) and the caller mutates weights: one training session per net, and
// no inference session may run on that net while it trains.
#ifndef FH_NN_TRAIN_H
#define FH_NN_TRAIN_H

#include "nn/nn.h"

// ---- builder ----------------------------------------------------------------------------
// Every nn_b_* returns the new value's index (>= 0) or -1; the first error is kept and
// returned by nn_b_finish (later calls on a failed builder return -1 and do nothing).
struct nn_builder;
int nn_builder_new(uint64_t seed, struct nn_builder **out);
void nn_builder_free(struct nn_builder *b);
int nn_b_input(struct nn_builder *b, const char *name, int h, int w, int c);
// k x k window, stride s; pad = 1: TensorFlow SAME (extra padding after), 0: VALID.
// bias = 0 adds no bias (the usual conv before batch norm).
int nn_b_conv(struct nn_builder *b, int x, int oc, int k, int s, int pad, int bias);
int nn_b_dwconv(struct nn_builder *b, int x, int k, int s, int pad, int bias);
int nn_b_fc(struct nn_builder *b, int x, int oc, int bias);   // x rank 2 (N, K)
int nn_b_bn(struct nn_builder *b, int x);                    // over the last axis, eps 1e-5
int nn_b_prelu(struct nn_builder *b, int x);                 // one slope per channel
int nn_b_relu(struct nn_builder *b, int x);
int nn_b_add(struct nn_builder *b, int x, int y);            // same shapes (residual)
int nn_b_flatten(struct nn_builder *b, int x);               // (N, ...) -> (N, prod)
int nn_b_l2norm(struct nn_builder *b, int x);                // rows of (N, D), eps 1e-10
int nn_b_output(struct nn_builder *b, int x);
// Finishes the net (checks, packs weights for the kernels); frees b. FH_OK or the first
// builder error (FH_E_ARG naming the layer), FH_E_NOMEM.
int nn_b_finish(struct nn_builder *b, const struct nn_options *opt, struct nn_net **out);

// ---- parameters -------------------------------------------------------------------------
struct nn_param {
    const char *name;      // owned by the net
    int rank, dims[FH_MAX_DIMS];
    size_t n;              // element count
    float *w;              // the values, mutable; call nn_net_weights_changed after writing
    int trainable;         // 0: a buffer (BN running stats)
    int decay;             // 1: weight decay applies (conv/fc weights), 0: biases, BN, slopes
};
int nn_net_n_params(const struct nn_net *net);
// i in [0, nn_net_n_params). FH_OK or FH_E_ARG.
int nn_net_param(struct nn_net *net, int i, struct nn_param *out);
int nn_net_find_param(const struct nn_net *net, const char *name); // index or -1
// Re-derives what kernels keep from the weights (packed conv panels, slopes). Call after
// changing any param value, before the next forward.
void nn_net_weights_changed(struct nn_net *net);

// ---- training sessions --------------------------------------------------------------------
// Like nn_session_new, but keeps every activation for backward and holds a gradient per
// value and per param. The net is borrowed (mutable: BN running stats). FH_OK,
// FH_E_NOMEM, FH_E_UNSUPPORTED (names the op: no backward, a fused activation, or a
// kernel table without the backward kernels), FH_E_ARG (no output).
int nn_session_new_train(struct nn_net *net, struct fh_pool *pool, struct nn_session **out);
// Forward. training = 1: batch norm uses batch statistics and updates running stats
// (training sessions only); 0: inference behaviour (as nn_session_run).
int nn_session_forward(struct nn_session *s, int training);
// Gradient of the loss w.r.t. output i (same shape as the output), for the caller to fill
// before nn_session_backward (kept until the next reshape; backward does not change it).
// Training sessions only, after a reshape (NULL otherwise).
float *nn_session_output_grad(struct nn_session *s, int i);
// Backward from the output gradients through every node in reverse order, after a
// forward(training = 1) at the same shape. Param gradients ACCUMULATE (+=) until
// nn_session_zero_grad; activation and input gradients are recomputed from zero each
// time. Deterministic for a given thread count (bit-identical for any thread count
// with the kernels' guarantee, kern.h). FH_OK or FH_E_ARG.
int nn_session_backward(struct nn_session *s);
void nn_session_zero_grad(struct nn_session *s);
// Gradient of param i (n floats, same layout as nn_param.w); NULL for buffers or
// inference sessions.
float *nn_session_param_grad(struct nn_session *s, int i);
// Gradient of input i after backward (for tests: finite differences w.r.t. the input).
const float *nn_session_input_grad(struct nn_session *s, int i);

#endif
