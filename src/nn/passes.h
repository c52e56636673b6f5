// SPDX-License-Identifier: MIT
// Graph passes: rewrites of an nn_net that any reader or the builder may run, kept out of
// the file readers (engine-private; the public entry is nn_net_optimize in nn.h).
//
//   nn_pass_flatten_batch  RESHAPE to the constant [B, K], B = the stored input batch (a
//                          converter baking the batch in) -> per-image FLATTEN
//   nn_pass_fuse_prelu     ADD(RELU(x), MUL(a, NEG(RELU(NEG(x)))))  -> PRELU(x; a)    (MTCNN)
//                          ADD(RELU(x), MUL(SUB(x, ABS(x)), m))     -> PRELU(x; 2m)   (MobileFaceNet)
//   nn_pass_fuse_softmax   DIV(e, SUM(e)), e = EXP(SUB(x, REDUCE_MAX(x))), last axis -> SOFTMAX(x)
//   nn_pass_fold_bn        CONV/DWCONV/FC whose only reader is a BATCHNORM -> the conv with
//                          w' = w g/sqrt(v+eps) per output channel, b' = (b-m) g/sqrt(v+eps) + beta
//   nn_pass_fuse_act       CONV/DWCONV/FC whose only reader is a PRELU or RELU -> fused activation
//
// A pattern is rewritten only when no value inside it has a reader outside it. Passes run
// on an unfinished net (as a reader leaves it before nn_net_finish: no packed weights,
// producer unset); they drop dead nodes and keep the node order otherwise. Each returns
// FH_OK or FH_E_NOMEM.
#ifndef FH_NN_PASSES_H
#define FH_NN_PASSES_H

#include "nn/nn_int.h"

int nn_pass_flatten_batch(struct nn_net *net);
int nn_pass_fuse_prelu(struct nn_net *net);
int nn_pass_fuse_softmax(struct nn_net *net);
int nn_pass_fold_bn(struct nn_net *net);
int nn_pass_fuse_act(struct nn_net *net);

// The list a reader runs after parsing: flatten_batch, then (unless opt->no_fuse)
// fuse_prelu, fuse_softmax, fuse_act.
int nn_passes_import(struct nn_net *net, const struct nn_options *opt);
// The list run when saving a trained model: fold_bn, fuse_act.
int nn_passes_export(struct nn_net *net);

// Shape inference at the stored input shape: every operator must fit the shapes its
// inputs get; FH_E_FORMAT naming the operator otherwise. Readers call it after finish.
int nn_net_check_shapes(const struct nn_net *net);
// The end of every reader: when rc is FH_OK, nn_net_finish and nn_net_check_shapes (a
// file whose parts disagree is refused here); then *out = net on success, else frees net
// (may be NULL). Returns the first error.
int nn_net_seal(struct nn_net *net, int rc, const struct nn_options *opt, struct nn_net **out);
// Undoes nn_net_finish (packed weights, slopes, producers) so passes can run again.
void nn_net_unfinish(struct nn_net *net);

#endif
