// SPDX-License-Identifier: MIT
// The op table: one line per op (adding an op touches its file, this table, a test).
#include "nn/nn_int.h"

extern const struct nn_op_def nn_op_conv2d, nn_op_dwconv2d, nn_op_fc, nn_op_maxpool2d,
    nn_op_prelu, nn_op_softmax, nn_op_add, nn_op_sub, nn_op_mul, nn_op_div, nn_op_neg,
    nn_op_abs, nn_op_relu, nn_op_exp, nn_op_reduce_max, nn_op_sum, nn_op_reshape,
    nn_op_flatten, nn_op_batchnorm, nn_op_l2norm, nn_op_concat, nn_op_slice;

const struct nn_op_def *const nn_op_defs[NN_OP_COUNT] = {
    [NN_OP_CONV2D] = &nn_op_conv2d,
    [NN_OP_DWCONV2D] = &nn_op_dwconv2d,
    [NN_OP_FC] = &nn_op_fc,
    [NN_OP_MAXPOOL2D] = &nn_op_maxpool2d,
    [NN_OP_PRELU] = &nn_op_prelu,
    [NN_OP_SOFTMAX] = &nn_op_softmax,
    [NN_OP_ADD] = &nn_op_add,
    [NN_OP_SUB] = &nn_op_sub,
    [NN_OP_MUL] = &nn_op_mul,
    [NN_OP_DIV] = &nn_op_div,
    [NN_OP_NEG] = &nn_op_neg,
    [NN_OP_ABS] = &nn_op_abs,
    [NN_OP_RELU] = &nn_op_relu,
    [NN_OP_EXP] = &nn_op_exp,
    [NN_OP_REDUCE_MAX] = &nn_op_reduce_max,
    [NN_OP_SUM] = &nn_op_sum,
    [NN_OP_RESHAPE] = &nn_op_reshape,
    [NN_OP_FLATTEN] = &nn_op_flatten,
    [NN_OP_BATCHNORM] = &nn_op_batchnorm,
    [NN_OP_L2NORM] = &nn_op_l2norm,
    [NN_OP_CONCAT] = &nn_op_concat,
    [NN_OP_SLICE] = &nn_op_slice,
};

const char *nn_op_name(enum nn_op op) {
    return op >= 0 && op < NN_OP_COUNT && nn_op_defs[op] ? nn_op_defs[op]->name : "?";
}
