// SPDX-License-Identifier: MIT
// Parity with an independent framework (llm.c style): tools/torch_parity.py built a small
// net in PyTorch 1.13 (conv-bn-prelu, dw-bn-prelu-conv-bn + residual, global dw-bn,
// flatten, fc, l2norm; cross-entropy on 4 * the normalised output), ran one batch and 3
// SGD steps (momentum 0.9, weight decay 5e-4 on conv/fc weights), and wrote everything
// to build/golden/torch_parity.bin (`make test` runs it). Here our builder makes the same net, loads torch's
// initial weights by name, and must match: every activation of step 0, the loss of each
// step, every parameter gradient and the input gradient of step 0, and every weight and
// BN running statistic after 3 steps — with the reference kernels and with the best
// kernels, on 1 and 2 threads. Torch is not needed here; the file is committed.
//
// Tolerances (max |ours - torch| / max(|torch|, 1e-3) over a tensor): activations and
// loss 1e-4, gradients 1e-3, weights after 3 steps 1e-4. float32 on both sides; the gap
// is summation order, which is why they are not bit-exact.
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "harness.h"
#include "nn/nn_int.h"
#include "nn/nn_train.h"
#include "train/optim.h"

#define REF_FILE FH_GOLDEN "/torch_parity.bin"
#define MAX_REC 128

struct rec {
    char name[64];
    int rank, dims[FH_MAX_DIMS];
    size_t n;
    float *v;
};
static struct rec recs[MAX_REC];
static int n_recs;

static int read_u32(FILE *f, uint32_t *v) {
    uint8_t b[4];
    if (fread(b, 1, 4, f) != 4) return -1;
    *v = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
    return 0;
}

static int load_refs(void) {
    FILE *f = fopen(REF_FILE, "rb");
    if (!f) return -1;
    char magic[6];
    if (fread(magic, 1, 6, f) != 6 || memcmp(magic, "FHPR1\n", 6)) return fclose(f), -1;
    uint32_t len;
    while (n_recs < MAX_REC && !read_u32(f, &len)) {
        struct rec *r = &recs[n_recs];
        uint32_t rank;
        if (len >= sizeof r->name || fread(r->name, 1, len, f) != len) break;
        r->name[len] = 0;
        if (read_u32(f, &rank) || rank > FH_MAX_DIMS) break;
        r->rank = (int)rank, r->n = 1;
        for (uint32_t i = 0; i < rank; i++) {
            uint32_t d;
            if (read_u32(f, &d) || d > 4096) return fclose(f), -1;
            r->dims[i] = (int)d, r->n *= d;
        }
        if (r->n > (1u << 20) || !(r->v = malloc(r->n * sizeof(float)))) break;
        if (fread(r->v, sizeof(float), r->n, f) != r->n) break; // little-endian host
        n_recs++;
    }
    fclose(f);
    return n_recs > 0 ? 0 : -1;
}

static const struct rec *ref(const char *name) {
    for (int i = 0; i < n_recs; i++)
        if (!strcmp(recs[i].name, name)) return &recs[i];
    return NULL;
}

// max |a - b| / max(max |b|, 1e-3)
static double rel_err(const float *a, const float *b, size_t n) {
    double e = 0, m = 1e-3;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - b[i]);
        if (d > e || d != d) e = d != d ? INFINITY : d;
        if (fabs(b[i]) > m) m = fabs(b[i]);
    }
    return e / m;
}

static struct nn_net *build(int force_ref) {
    struct nn_builder *b;
    if (nn_builder_new(1, &b)) return NULL;
    int x = nn_b_input(b, "input", 12, 12, 3);
    int a = nn_b_prelu(b, nn_b_bn(b, nn_b_conv(b, x, 8, 3, 2, 1, 0)));
    int t = nn_b_prelu(b, nn_b_bn(b, nn_b_dwconv(b, a, 3, 1, 1, 0)));
    t = nn_b_bn(b, nn_b_conv(b, t, 8, 1, 1, 1, 0));
    t = nn_b_add(b, t, a);
    t = nn_b_bn(b, nn_b_dwconv(b, t, 6, 1, 0, 0));
    t = nn_b_l2norm(b, nn_b_fc(b, nn_b_flatten(b, t), 6, 1));
    nn_b_output(b, t);
    struct nn_options opt = {.force_ref = force_ref};
    struct nn_net *net;
    if (nn_b_finish(b, &opt, &net)) {
        printf("# builder: %s\n", fh_errmsg());
        return NULL;
    }
    return net;
}

// cross-entropy of 4 * out (N x D) against labels, mean over N; writes dL/dout
static double ce_loss(const float *out, const float *labels, int N, int D, float *g) {
    double loss = 0;
    for (int n = 0; n < N; n++) {
        const float *o = out + (size_t)n * D;
        int y = (int)labels[n];
        double mx = -1e30, s = 0;
        for (int d = 0; d < D; d++) mx = fmax(mx, 4.0 * o[d]);
        for (int d = 0; d < D; d++) s += exp(4.0 * o[d] - mx);
        loss += -(4.0 * o[y] - mx - log(s));
        for (int d = 0; d < D; d++)
            g[(size_t)n * D + d] = (float)(4.0 * (exp(4.0 * o[d] - mx) / s - (d == y)) / N);
    }
    return loss / N;
}

static void run(int force_ref, int threads) {
    char tag[64];
    snprintf(tag, sizeof tag, "%s kernels, %d thread%s", force_ref ? "ref" : "best", threads,
             threads > 1 ? "s" : "");
    struct nn_net *net = build(force_ref);
    TEST_COND("parity: the builder makes the net", net != NULL);
    if (!net) return;
    // torch's initial weights, by name, into every param (buffers included)
    int np = nn_net_n_params(net), loaded = 0;
    for (int i = 0; i < np; i++) {
        struct nn_param p;
        nn_net_param(net, i, &p);
        char key[80];
        snprintf(key, sizeof key, "param0.%s", p.name);
        const struct rec *r = ref(key);
        if (r && r->n == p.n) memcpy(p.w, r->v, p.n * sizeof(float)), loaded++;
        else printf("# no torch value of the right size for %s\n", p.name);
    }
    nn_net_weights_changed(net);
    TEST_COND("parity: every param has a torch initial value", loaded == np && np == 24);

    struct fh_pool *pool = threads > 1 ? fh_pool_new(threads) : NULL;
    struct nn_session *s;
    int rc = nn_session_new_train(net, pool, &s);
    rc = rc ? rc : nn_session_reshape(s, (int[]){4, 12, 12, 3}, 4);
    TEST_COND("parity: training session", rc == FH_OK);
    if (rc) goto out;

    // the optimizer over the trainable params, as torch's param groups
    struct train_param tp[32];
    int nt = 0;
    for (int i = 0; i < np; i++) {
        struct nn_param p;
        nn_net_param(net, i, &p);
        if (!p.trainable) continue;
        tp[nt++] = (struct train_param){p.name, p.w, nn_session_param_grad(s, i), p.n, p.decay};
    }
    struct train_sgd_opts so = {.momentum = 0.9f, .weight_decay = 5e-4f};
    struct train_sgd *sgd;
    if (train_sgd_new(tp, nt, &so, &sgd)) {
        TEST_COND("parity: optimizer", 0);
        goto out;
    }
    const struct rec *in = ref("input"), *lab = ref("labels");
    double worst_act = 0, worst_grad = 0, worst_loss = 0;
    for (int step = 0; step < 3; step++) {
        memcpy(nn_session_input(s, 0), in->v, in->n * sizeof(float));
        nn_session_forward(s, 1);
        int od[FH_MAX_DIMS], orank;
        const float *out = nn_session_output(s, 0, od, &orank);
        float g[4 * 6];
        double loss = ce_loss(out, lab->v, 4, 6, g);
        char key[64];
        snprintf(key, sizeof key, "loss.%d", step);
        const struct rec *lr = ref(key);
        double le = fabs(loss - lr->v[0]) / fmax(fabs(lr->v[0]), 1e-3);
        if (le > worst_loss) worst_loss = le;
        if (step == 0) {
            for (int k = 0; k < net->n_nodes; k++) {
                snprintf(key, sizeof key, "act.%d", k);
                const struct rec *r = ref(key);
                const struct nn_slot *sl = &s->slots[net->nodes[k].out];
                if (!r || r->n != nn_shape_count(&sl->shape)) {
                    printf("# act.%d: shape differs\n", k);
                    worst_act = INFINITY;
                    continue;
                }
                double e = rel_err(sl->ptr, r->v, r->n);
                if (e > 1e-4) printf("# act.%d (%s): rel err %.3g\n", k, nn_op_name(net->nodes[k].op), e);
                if (e > worst_act) worst_act = e;
            }
        }
        memcpy(nn_session_output_grad(s, 0), g, sizeof g);
        nn_session_zero_grad(s);
        nn_session_backward(s);
        if (step == 0) {
            for (int i = 0; i < np; i++) {
                struct nn_param p;
                nn_net_param(net, i, &p);
                if (!p.trainable) continue;
                snprintf(key, sizeof key, "grad.%s", p.name);
                const struct rec *r = ref(key);
                double e = r && r->n == p.n ? rel_err(nn_session_param_grad(s, i), r->v, p.n) : INFINITY;
                if (e > 1e-3) printf("# grad %s: rel err %.3g\n", p.name, e);
                if (e > worst_grad) worst_grad = e;
            }
            const struct rec *r = ref("grad.input");
            double e = rel_err(nn_session_input_grad(s, 0), r->v, r->n);
            if (e > 1e-3) printf("# grad input: rel err %.3g\n", e);
            if (e > worst_grad) worst_grad = e;
        }
        train_sgd_step(sgd, 0.1f, NULL);
        nn_net_weights_changed(net);
    }
    double worst_w = 0;
    for (int i = 0; i < np; i++) {
        struct nn_param p;
        nn_net_param(net, i, &p);
        char key[80];
        snprintf(key, sizeof key, "param3.%s", p.name);
        const struct rec *r = ref(key);
        double e = r && r->n == p.n ? rel_err(p.w, r->v, p.n) : INFINITY;
        if (e > 1e-4) printf("# %s after 3 steps: rel err %.3g\n", p.name, e);
        if (e > worst_w) worst_w = e;
    }
    char msg[160];
    printf("# %s: worst rel err: activations %.2g, loss %.2g, gradients %.2g, weights %.2g\n",
           tag, worst_act, worst_loss, worst_grad, worst_w);
    snprintf(msg, sizeof msg, "parity (%s): 14 activations of step 0 within 1e-4", tag);
    TEST_COND(msg, worst_act <= 1e-4);
    snprintf(msg, sizeof msg, "parity (%s): loss of steps 0..2 within 1e-4", tag);
    TEST_COND(msg, worst_loss <= 1e-4);
    snprintf(msg, sizeof msg, "parity (%s): every gradient of step 0 within 1e-3", tag);
    TEST_COND(msg, worst_grad <= 1e-3);
    snprintf(msg, sizeof msg, "parity (%s): weights and BN stats after 3 steps within 1e-4", tag);
    TEST_COND(msg, worst_w <= 1e-4);
    train_sgd_free(sgd);
out:
    nn_session_free(s);
    fh_pool_free(pool);
    nn_net_free(net);
}

int main(void) {
    if (load_refs()) {
        printf("# cannot read %s (run from the repository root)\n", REF_FILE);
        TEST_COND("parity: reference file readable", 0);
        return TEST_REPORT();
    }
    TEST_COND("parity: reference file has the 84 records", n_recs == 84);
    run(1, 1);
    run(0, 1);
    run(0, 2);
    for (int i = 0; i < n_recs; i++) free(recs[i].v);
    return TEST_REPORT();
}
