// SPDX-License-Identifier: MIT
// int8 inference on a small built net (nn.h: nn_options.int8, nn_calib_*): calibration picks
// one scale per conv/FC input, near the least-squared-error threshold of what it saw; the
// int8 net runs every conv/FC in int8 and stays within a few percent of the float net, on
// the reference kernels and the best this CPU has; names it does not have and bad scales are ignored; a net
// being calibrated refuses a second calibration; an int8 net refuses training.
#include <math.h>
#include <string.h>

#include "harness.h"
#include "nn/nn.h"
#include "nn/nn_train.h"

static uint32_t rng = 12345;
static float urand(void) { // [-1, 1)
    rng ^= rng << 13, rng ^= rng >> 17, rng ^= rng << 5;
    return (float)(rng >> 8) / 8388608.0f - 1.0f;
}

// 9x9x5 -> conv3x3 13 -> prelu -> conv1x1 7 -> flatten -> fc 4
static struct nn_net *build(const struct nn_options *opt) {
    struct nn_builder *b;
    if (nn_builder_new(7, &b)) return NULL;
    int x = nn_b_input(b, "input", 9, 9, 5);
    x = nn_b_prelu(b, nn_b_conv(b, x, 13, 3, 1, 1, 1));
    x = nn_b_flatten(b, nn_b_conv(b, x, 7, 1, 1, 0, 1));
    nn_b_output(b, nn_b_fc(b, x, 4, 1));
    struct nn_net *net;
    return nn_b_finish(b, opt, &net) ? NULL : net;
}

static void fill(struct nn_session *s, int n) {
    float *in = nn_session_input(s, 0);
    for (int i = 0; i < n * 9 * 9 * 5; i++) in[i] = urand();
}

int main(void) {
    struct nn_net *f32 = build(NULL);
    TEST_COND("float net builds", f32 != NULL);
    if (!f32) return TEST_REPORT();
    struct nn_session *s;
    int dims[4] = {3, 9, 9, 5};
    nn_session_new(f32, NULL, &s);
    nn_session_reshape(s, dims, 4);

    struct nn_calib *c, *c2;
    const struct nn_qscale *sc;
    int n = 0;
    TEST_COND("calibration attaches", nn_calib_new(f32, &c) == FH_OK);
    TEST_COND("a second calibration on the same net is refused", nn_calib_new(f32, &c2) == FH_E_ARG);
    TEST_COND("scales before any run: FH_E_ARG", nn_calib_scales(c, 1, &sc, &n) == FH_E_ARG);
    for (int r = 0; r < 20; r++) {
        fill(s, 3);
        nn_session_run(s);
    }
    int rc = nn_calib_scales(c, 1, &sc, &n);
    TEST_COND("three conv/FC inputs calibrated", rc == FH_OK && n == 3);
    // the input is uniform on [-1, 1): clipping at t costs (1-t)^3/3 per unit, rounding
    // (t/127)^2/12 t; the optimum sits just under 1
    float in_scale = 0;
    for (int i = 0; i < n; i++)
        if (!strcmp(sc[i].name, "input")) in_scale = sc[i].scale;
    char msg[200];
    snprintf(msg, sizeof msg, "input scale %.6f within [0.9, 1.0] / 127", (double)in_scale);
    TEST_COND(msg, in_scale >= 0.9f / 127 && in_scale <= 1.0f / 127 + 1e-7f);
    const struct nn_qscale *wide;
    int n2;
    float kept[8];
    for (int i = 0; i < n; i++) kept[i] = sc[i].scale;
    nn_calib_scales(c, 1.5, &wide, &n2);
    int ok = n2 == n;
    for (int i = 0; i < n && ok; i++) ok = wide[i].scale >= kept[i] * (1 - 1e-6f);
    TEST_COND("clip x1.5 never narrows a scale (capped at the largest value seen)", ok);
    nn_calib_scales(c, 1, &sc, &n);

    // the int8 net, with a junk entry and a bad scale that must be ignored
    struct nn_qscale tab[8];
    memcpy(tab, sc, (size_t)n * sizeof *tab);
    tab[n] = (struct nn_qscale){"no such value", 1.0f};
    tab[n + 1] = (struct nn_qscale){sc[0].name, -1.0f};
    for (int ref = 0; ref < 2; ref++) {
        struct nn_options o = {.force_ref = ref, .int8 = tab, .n_int8 = n + 2};
        struct nn_net *q8 = build(&o);
        snprintf(msg, sizeof msg, "int8 net [%s]: 3 nodes in int8", ref ? "ref" : nn_net_kernels(q8));
        TEST_COND(msg, q8 && nn_net_n_int8(q8) == 3);
        if (!q8) continue;
        struct nn_session *t;
        nn_session_new(q8, NULL, &t);
        nn_session_reshape(t, dims, 4);
        double err = 0, mx = 0;
        for (int r = 0; r < 5; r++) {
            fill(s, 3);
            memcpy(nn_session_input(t, 0), nn_session_input(s, 0), 3 * 9 * 9 * 5 * sizeof(float));
            nn_calib_free(c), c = NULL; // detach before comparing (runs no longer feed it)
            nn_session_run(s);
            nn_session_run(t);
            const float *a = nn_session_output(s, 0, NULL, NULL), *b = nn_session_output(t, 0, NULL, NULL);
            for (int i = 0; i < 12; i++) err = fmax(err, fabs(a[i] - b[i])), mx = fmax(mx, fabs(a[i]));
        }
        snprintf(msg, sizeof msg, "int8 net [%s] within 3%% of the float net (max |diff| %.4f of max %.3f)",
                 ref ? "ref" : nn_net_kernels(q8), err, mx);
        TEST_COND(msg, err <= 0.03 * mx && mx > 0);
        struct nn_session *tr;
        TEST_COND("an int8 net refuses a training session", nn_session_new_train(q8, NULL, &tr) == FH_E_UNSUPPORTED);
        nn_session_free(t);
        nn_net_free(q8);
    }
    nn_calib_free(c);
    nn_session_free(s);
    nn_net_free(f32);
    return TEST_REPORT();
}
