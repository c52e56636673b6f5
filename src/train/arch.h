// SPDX-License-Identifier: MIT
// arch: the embedding architectures `facehatch train` builds (nn_train.h builder).
//
//   "mobilefacenet": the exact shape of the pretrained MobileFaceNet (docs/models.md
//       section 4): 112x112x3 input, conv 3x3/2 64, dw 3x3 64, conv 1x1 64, bottleneck
//       stages (expansion, blocks, first stride) (2, 5, 2) 64 -> (4, 7, 2) 128 ->
//       (4, 1, 2) 128 -> (2, 2, 1) 128, conv 1x1 512, GDConv 7x7 VALID, conv 1x1 512,
//       conv 1x1 192, flatten: output the raw (N, 192) embedding (not normalised).
//       PReLU after every layer that has one in the pretrained net (not after the linear
//       bottleneck projections nor the head). A residual ADD on every block whose input
//       and output shapes agree (all but the first of a stride-2 stage).
//   "mfn-s": the same structure at about a sixth of the cost, for from-scratch runs on 2
//       cores: half width (32 stem, stages 32/64/64/64, head 256), one block per stage,
//       still 112x112 in and 192 out.
// bn = 1: every conv / dw has no bias and is followed by batch norm (training); bn = 0:
// convs carry a bias and no BN (the pretrained net's folded form).
// Layer and param names are the builder's ("conv0.w", "bn1.gamma", ...), so two builds
// of one (name, bn) pair name their params identically.
#ifndef FH_TRAIN_ARCH_H
#define FH_TRAIN_ARCH_H

#include <stdint.h>

#include "nn/nn_train.h"

// Builds architecture `name` with weights initialised from seed (nn_train.h init).
// Best kernels (FH_FORCE_REF=1 for the reference). FH_OK, FH_E_ARG (unknown name,
// lists the known ones), FH_E_NOMEM.
int arch_build(const char *name, int bn, uint64_t seed, struct nn_net **out);

// Copies the weights of a TFLite MobileFaceNet (nn_net_load_tflite, fused or not) into
// net, built by arch_build("mobilefacenet", 0, ...): conv/dw weights and biases and the
// PReLU slopes, layer by layer in order, each shape checked. Then
// nn_net_weights_changed. FH_OK or FH_E_ARG (names the first layer that does not fit).
int arch_load_tflite_weights(struct nn_net *net, const struct nn_net *tflite);

#endif
