// SPDX-License-Identifier: MIT
// The scalar-only ops (element-wise with broadcasting, reductions, softmax, PReLU,
// reshape/flatten) on tiny hand-made nets with hand-computed answers, plus shape errors.
// (conv/depthwise/pool/FC are covered by test_kern.c against the reference and by the
// golden nets.)
#include <math.h>
#include <string.h>

#include "harness.h"
#include "nn/nn_int.h"

// one-node net: value 0 = input (shape xs), value 1 = constant (shape cs, data cd) or
// absent, value 2 = output
static struct nn_net *one(enum nn_op op, struct nn_shape xs, struct nn_shape cs, const float *cd,
                          struct nn_params p, int n_in) {
    struct nn_net *net = nn_net_alloc(3, 1);
    net->values[0].shape = xs;
    net->values[1].shape = cs;
    size_t nc = nn_shape_count(&cs);
    net->blob = fh_malloc_aligned(64 + nc * sizeof(float));
    if (cd) memcpy(net->blob, cd, nc * sizeof(float)), net->values[1].data = net->blob;
    net->n_inputs = 1, net->inputs[0] = 0, net->n_outputs = 1, net->outputs[0] = 2;
    struct nn_node *nd = &net->nodes[0];
    nd->op = op, nd->n_in = n_in, nd->in[0] = 0, nd->in[1] = 1, nd->out = 2, nd->p = p;
    FH_ASSERT(nn_net_finish(net, NULL) == FH_OK);
    return net;
}

static int run(struct nn_net *net, const int *dims, int rank, const float *x, float *y, int *od, int *orank) {
    struct nn_session *s;
    nn_session_new(net, NULL, &s);
    int rc = nn_session_reshape(s, dims, rank);
    if (!rc) {
        size_t n = 1;
        for (int i = 0; i < rank; i++) n *= (size_t)dims[i];
        memcpy(nn_session_input(s, 0), x, n * sizeof *x);
        nn_session_run(s);
        const float *o = nn_session_output(s, 0, od, orank);
        size_t m = 1;
        for (int i = 0; i < *orank; i++) m *= (size_t)od[i];
        memcpy(y, o, m * sizeof *y);
    }
    nn_session_free(s);
    nn_net_free(net);
    return rc;
}

static int near(const float *a, const float *b, int n) {
    for (int i = 0; i < n; i++)
        if (!(fabsf(a[i] - b[i]) <= 1e-6f * (1 + fabsf(b[i])))) return 0;
    return 1;
}

int main(void) {
    struct nn_params P = {.alpha = -1, .axis = -1, .alpha_scale = 1};
    float x[12] = {1, -2, 3, -4, 5, -6, 7, -8, 9, -10, 11, -12}, y[12];
    int d4[4] = {1, 2, 2, 3}, od[FH_MAX_DIMS], r;
    struct nn_shape s4 = {4, {1, 2, 2, 3}}, c3 = {1, {3}};
    float c[3] = {10, 20, 30};

    run(one(NN_OP_ADD, s4, c3, c, P, 2), d4, 4, x, y, od, &r);
    float add[12] = {11, 18, 33, 6, 25, 24, 17, 12, 39, 0, 31, 18};
    TEST_COND("ADD broadcasts a per-channel vector", r == 4 && near(y, add, 12));
    run(one(NN_OP_DIV, s4, c3, c, P, 2), d4, 4, x, y, od, &r);
    TEST_COND("DIV by a per-channel vector", fabsf(y[4] - 0.25f) < 1e-7f && fabsf(y[11] + 0.4f) < 1e-7f);
    struct nn_shape c1 = {4, {1, 2, 2, 1}};
    float cc[4] = {1, 2, 3, 4};
    run(one(NN_OP_SUB, s4, c1, cc, P, 2), d4, 4, x, y, od, &r);
    float sub[12] = {0, -3, 2, -6, 3, -8, 4, -11, 6, -14, 7, -16};
    TEST_COND("SUB broadcasts a size-1 last axis", near(y, sub, 12));
    struct nn_shape bad = {1, {4}};
    float b4[4] = {1, 2, 3, 4};
    TEST_COND("MUL of shapes that do not broadcast is refused at plan time",
              run(one(NN_OP_MUL, s4, bad, b4, P, 2), d4, 4, x, y, od, &r) == FH_E_ARG);

    run(one(NN_OP_NEG, s4, (struct nn_shape){0}, NULL, P, 1), d4, 4, x, y, od, &r);
    TEST_COND("NEG", y[0] == -1 && y[1] == 2);
    run(one(NN_OP_ABS, s4, (struct nn_shape){0}, NULL, P, 1), d4, 4, x, y, od, &r);
    TEST_COND("ABS", y[1] == 2 && y[11] == 12);
    run(one(NN_OP_RELU, s4, (struct nn_shape){0}, NULL, P, 1), d4, 4, x, y, od, &r);
    TEST_COND("RELU", y[0] == 1 && y[1] == 0 && y[10] == 11);
    run(one(NN_OP_EXP, s4, (struct nn_shape){0}, NULL, P, 1), d4, 4, x, y, od, &r);
    TEST_COND("EXP", fabsf(y[0] - expf(1)) < 1e-6f && fabsf(y[3] - expf(-4)) < 1e-9f);

    struct nn_params pr = P;
    pr.axis = 3, pr.keep_dims = 1;
    run(one(NN_OP_REDUCE_MAX, s4, (struct nn_shape){0}, NULL, pr, 1), d4, 4, x, y, od, &r);
    TEST_COND("REDUCE_MAX over the last axis keeps dims", r == 4 && od[3] == 1 && y[0] == 3 && y[1] == 5 && y[3] == 11);
    pr.axis = 1, pr.keep_dims = 0;
    run(one(NN_OP_SUM, s4, (struct nn_shape){0}, NULL, pr, 1), d4, 4, x, y, od, &r);
    // sum over H: [0,0,w,c] + [0,1,w,c]
    float sum[6] = {8, -10, 12, -14, 16, -18};
    TEST_COND("SUM over axis 1 without keep_dims", r == 3 && od[1] == 2 && od[2] == 3 && near(y, sum, 6));

    run(one(NN_OP_SOFTMAX, s4, (struct nn_shape){0}, NULL, P, 1), d4, 4, x, y, od, &r);
    float e0 = expf(1 - 3), e1 = expf(-2 - 3), e2 = 1, z = e0 + e1 + e2;
    TEST_COND("SOFTMAX over the last axis", fabsf(y[0] - e0 / z) < 1e-7f && fabsf(y[2] - e2 / z) < 1e-7f &&
                                                fabsf(y[3] + y[4] + y[5] - 1) < 1e-6f);

    struct nn_params pp = P;
    pp.alpha = 1, pp.alpha_scale = 2; // slopes c*2 = 20, 40, 60
    run(one(NN_OP_PRELU, s4, c3, c, pp, 1), d4, 4, x, y, od, &r);
    TEST_COND("PRELU: x or alpha*x per channel (slope scale applied)", y[0] == 1 && y[1] == -80 && y[3] == -80 && y[4] == 5);

    run(one(NN_OP_FLATTEN, s4, (struct nn_shape){0}, NULL, P, 1), (int[]){3, 2, 2, 1}, 4, x, y, od, &r);
    TEST_COND("FLATTEN keeps the batch: [3,2,2,1] -> [3,4]", r == 2 && od[0] == 3 && od[1] == 4 && near(y, x, 12));

    // CONCAT of x [1,2,2,3] and a constant [1,2,2,1] along channels, then along H
    float cat_c[4] = {100, 200, 300, 400}, yc[16];
    struct nn_params pc = P;
    pc.axis = 3;
    run(one(NN_OP_CONCAT, s4, (struct nn_shape){4, {1, 2, 2, 1}}, cat_c, pc, 2), d4, 4, x, yc, od, &r);
    float cat3[16] = {1, -2, 3, 100, -4, 5, -6, 200, 7, -8, 9, 300, -10, 11, -12, 400};
    TEST_COND("CONCAT along the last axis interleaves per pixel", r == 4 && od[3] == 4 && near(yc, cat3, 16));
    pc.axis = 1;
    float c6[6] = {21, 22, 23, 24, 25, 26};
    float cat1[18];
    memcpy(cat1, x, sizeof x), memcpy(cat1 + 12, c6, sizeof c6);
    float y18[18];
    run(one(NN_OP_CONCAT, s4, (struct nn_shape){4, {1, 1, 2, 3}}, c6, pc, 2), d4, 4, x, y18, od, &r);
    TEST_COND("CONCAT along H appends rows", r == 4 && od[1] == 3 && near(y18, cat1, 18));
    TEST_COND("CONCAT of inputs that differ off the axis is refused at plan time",
              run(one(NN_OP_CONCAT, s4, (struct nn_shape){4, {1, 2, 1, 3}}, c6, pc, 2), d4, 4, x, y, od, &r) == FH_E_ARG);

    // SLICE: channels [1, 3) and, ONNX style, [-1, INT_MAX) of H; an empty range is refused
    struct nn_params ps = P;
    ps.axis = 3, ps.start = 1, ps.stop = 3;
    run(one(NN_OP_SLICE, s4, (struct nn_shape){0}, NULL, ps, 1), d4, 4, x, y, od, &r);
    float sl[8] = {-2, 3, 5, -6, -8, 9, 11, -12};
    TEST_COND("SLICE [1, 3) of the last axis", r == 4 && od[3] == 2 && near(y, sl, 8));
    ps.axis = 1, ps.start = -1, ps.stop = 0x7fffffff;
    run(one(NN_OP_SLICE, s4, (struct nn_shape){0}, NULL, ps, 1), d4, 4, x, y, od, &r);
    TEST_COND("SLICE [-1, end) of H: the last row", r == 4 && od[1] == 1 && near(y, x + 6, 6));
    ps.start = 2, ps.stop = 5;
    TEST_COND("SLICE to an empty range is refused at plan time",
              run(one(NN_OP_SLICE, s4, (struct nn_shape){0}, NULL, ps, 1), d4, 4, x, y, od, &r) == FH_E_ARG);
    return TEST_REPORT();
}
