// SPDX-License-Identifier: MIT
// train/arch: the architectures build with the documented shapes and parameter counts;
// MobileFaceNet without BN, given the pretrained TFLite weights, computes the TFLite
// net's embedding (within 1e-4) on a face crop.
#include <math.h>
#include <string.h>

#include "harness.h"
#include "img/img.h"
#include "nn/nn_int.h"
#include "train/arch.h"

static size_t param_floats(struct nn_net *net, int trainable_only) {
    size_t n = 0;
    for (int i = 0; i < nn_net_n_params(net); i++) {
        struct nn_param p;
        nn_net_param(net, i, &p);
        if (p.trainable || !trainable_only) n += p.n;
    }
    return n;
}

// runs net on x (N, 112, 112, 3); returns the output (fh_malloc) and its width
static float *embed(const struct nn_net *net, const float *x, int N, int *width) {
    struct nn_session *s;
    int dims[4] = {N, 112, 112, 3}, od[FH_MAX_DIMS], r;
    if (nn_session_new(net, NULL, &s)) return NULL;
    float *out = NULL;
    if (!nn_session_reshape(s, dims, 4)) {
        memcpy(nn_session_input(s, 0), x, (size_t)N * 112 * 112 * 3 * sizeof(float));
        nn_session_run(s);
        const float *o = nn_session_output(s, 0, od, &r);
        *width = od[1];
        out = fh_malloc((size_t)N * od[1] * sizeof(float));
        memcpy(out, o, (size_t)N * od[1] * sizeof(float));
    }
    nn_session_free(s);
    return out;
}

// one gradient step on mfn-s (bn 1) at batch 4 (the face, its mirror, two noise images):
// L = sum(out * R) drops by lr |g|^2 to first order (lr chosen so that is 0.1). Checks
// the whole training path at full size (every op's backward and the big-shape kernel
// paths, param grads, weights_changed) against the net's own forward.
static void check_step(struct nn_net *net, const float *face2) {
    enum { N = 4, IMG = 112 * 112 * 3 };
    struct nn_session *s = NULL;
    int dims[4] = {N, 112, 112, 3};
    int ok = !nn_session_new_train(net, NULL, &s) && !nn_session_reshape(s, dims, 4);
    float *x = fh_malloc(N * IMG * sizeof(float)), R[N * 192];
    memcpy(x, face2, 2 * IMG * sizeof(float));
    uint32_t h = 1;
    for (int i = 2 * IMG; i < N * IMG; i++) h = h * 1664525u + 1013904223u, x[i] = (float)(h >> 8) / (1 << 23) - 1;
    for (int i = 0; i < N * 192; i++) R[i] = (float)((i * 37) % 19) / 9.0f - 1.0f;
    double L[2] = {0, 0}, g2 = 0;
    int finite = ok;
    for (int step = 0; ok && step < 2; step++) {
        memcpy(nn_session_input(s, 0), x, N * IMG * sizeof(float));
        ok = !nn_session_forward(s, 1);
        const float *o = nn_session_output(s, 0, NULL, NULL);
        for (int i = 0; i < N * 192; i++) L[step] += (double)o[i] * R[i];
        if (step) break;
        memcpy(nn_session_output_grad(s, 0), R, sizeof R);
        nn_session_zero_grad(s);
        ok = ok && !nn_session_backward(s);
        for (int i = 0; ok && i < nn_net_n_params(net); i++) {
            const float *g = nn_session_param_grad(s, i);
            struct nn_param p;
            nn_net_param(net, i, &p);
            for (size_t k = 0; g && k < p.n; k++) finite &= isfinite(g[k]), g2 += (double)g[k] * g[k];
        }
        double lr = 0.1 / (g2 > 0 ? g2 : 1);
        for (int i = 0; ok && i < nn_net_n_params(net); i++) {
            const float *g = nn_session_param_grad(s, i);
            struct nn_param p;
            nn_net_param(net, i, &p);
            for (size_t k = 0; g && k < p.n; k++) p.w[k] -= (float)(lr * g[k]);
        }
        nn_net_weights_changed(net);
    }
    char msg[200];
    snprintf(msg, sizeof msg, "mfn-s (bn 1), batch 4: a gradient step lowers the loss by lr |g|^2 = 0.1 to first order (%.4f -> %.4f)",
             L[0], L[1]);
    TEST_COND(msg, ok && finite && g2 > 0 && L[0] - L[1] > 0.08 && L[0] - L[1] < 0.12);
    nn_session_free(s);
    fh_free(x);
}

int main(void) {
    struct nn_net *net = NULL, *tfl = NULL, *bn = NULL, *small = NULL;
    int rc = arch_build("mobilefacenet", 0, 1, &net);
    TEST_COND("mobilefacenet (bn 0) builds", rc == FH_OK);
    TEST_COND("mobilefacenet (bn 0): 52 conv/dw layers, 33 PReLUs, 1,292,992 params",
              net && nn_net_count_op(net, NN_OP_CONV2D) + nn_net_count_op(net, NN_OP_DWCONV2D) == 52 &&
                  nn_net_count_op(net, NN_OP_PRELU) == 33 && param_floats(net, 0) == 1292992);
    rc = arch_build("mobilefacenet", 1, 1, &bn);
    TEST_COND("mobilefacenet (bn 1): a BN after each of the 52 conv/dw layers",
              rc == FH_OK && nn_net_count_op(bn, NN_OP_BATCHNORM) == 52 && nn_net_find_param(bn, "conv0.b") < 0 &&
                  nn_net_find_param(bn, "bn1.gamma") >= 0);
    rc = arch_build("mfn-s", 1, 1, &small);
    size_t ps = small ? param_floats(small, 1) : 0;
    TEST_COND("mfn-s builds, far fewer params than mobilefacenet", rc == FH_OK && ps > 0 && ps < 1292992 / 3);
    struct nn_net *none;
    TEST_COND("unknown architecture -> FH_E_ARG", arch_build("resnet", 0, 1, &none) == FH_E_ARG && !none);

    rc = nn_net_load_tflite(FH_MODELS "/MobileFaceNet.tflite", NULL, &tfl);
    TEST_COND("MobileFaceNet.tflite loads", rc == FH_OK);
    TEST_COND("wrong net -> FH_E_ARG", tfl && small && arch_load_tflite_weights(small, tfl) == FH_E_ARG);
    rc = net && tfl ? arch_load_tflite_weights(net, tfl) : -1;
    TEST_COND("pretrained weights copy into the bn 0 arch", rc == FH_OK);

    struct img im = {0}, crop = {0};
    float *x = fh_malloc(2 * 112 * 112 * 3 * sizeof(float));
    int ok = !img_decode_file(FH_SHARED "/data/celeba200/train/celeb_0/005840.jpg", &im) &&
             !img_crop_resize(&im, 0, 20, im.w, 20 + im.w, 112, &crop);
    for (int y = 0; ok && y < 112; y++)
        for (int i = 0; i < 112 * 3; i++) {
            float v = (crop.data[(size_t)y * crop.stride + i] - 127.5f) * 0.0078125f;
            x[y * 112 * 3 + i] = v, x[112 * 112 * 3 + y * 112 * 3 + (111 - i / 3) * 3 + i % 3] = v; // + mirror
        }
    int wa = 0, wb = 0;
    float *ea = ok && !rc ? embed(net, x, 2, &wa) : NULL, *eb = ok && !rc ? embed(tfl, x, 2, &wb) : NULL;
    double d = 0, m = 0;
    for (int i = 0; ea && eb && wa == 192 && wb == 192 && i < 2 * 192; i++)
        d = fmax(d, fabs((double)ea[i] - eb[i])), m = fmax(m, fabs(eb[i]));
    char msg[160];
    snprintf(msg, sizeof msg, "bn 0 arch == TFLite embedding on a face crop (max diff %.1e, max |e| %.1f)", d, m);
    TEST_COND(msg, ea && eb && wa == 192 && m > 1 && d < 1e-4);
    if (ok && small) check_step(small, x);
    fh_free(ea), fh_free(eb), fh_free(x);
    img_free(&im), img_free(&crop);
    nn_net_free(net), nn_net_free(tfl), nn_net_free(bn), nn_net_free(small);
    return TEST_REPORT();
}
