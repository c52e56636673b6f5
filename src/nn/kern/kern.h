// SPDX-License-Identifier: MIT
// kern: raw kernels on float* NHWC data. No allocation, no state. Each slot of
// struct nn_kern is filled by the scalar reference table (kern/ref, always built)
// and overwritten by faster variants (kern/x86/*_avx2.c) when the CPU has them.
// A kernel computes the slice ith of nth of its output so a pool can split work;
// slices never share a reduction, so results do not depend on nth.
#ifndef FH_KERN_H
#define FH_KERN_H

#include <stddef.h>

// conv2d over NHWC, filter (OC, KH, KW, C), also used for FC (H=W=KH=KW=1).
// Output pixel m = (n*OH + oy)*OW + ox; k index = (kh*KW + kw)*C + c.
struct nn_conv_args {
    const float *x;        // (N, H, W, C)
    int N, H, W, C;
    const float *w;        // (OC, KH, KW, C) as stored in the model
    const float *wp;       // w packed by this table's conv_pack (the same table!)
    const float *bias;     // (OC) or NULL
    int OC, KH, KW, SH, SW;
    int PT, PL;            // padding before (top, left); after is implied by OH, OW
    int OH, OW;
    int act;               // enum nn_act
    const float *alpha;    // (OC) PReLU slopes when act == NN_ACT_PRELU
    float *y;              // (N, OH, OW, OC)
    float *scratch;        // conv_scratch() floats per thread, thread ith at ith*that
};

// depthwise conv, depth multiplier 1: y[n,oy,ox,c] = sum_kh,kw x[..,c] * w[kh,kw,c]
struct nn_dw_args {
    const float *x;        // (N, H, W, C)
    int N, H, W, C;
    const float *w;        // (KH, KW, C)
    const float *bias;     // (C) or NULL
    int KH, KW, SH, SW, PT, PL, OH, OW;
    int act;
    const float *alpha;    // (C)
    float *y;              // (N, OH, OW, C)
};

// max pool; window cells outside the input are ignored (act as -inf)
struct nn_pool_args {
    const float *x;        // (N, H, W, C)
    int N, H, W, C;
    int KH, KW, SH, SW, PT, PL, OH, OW;
    float *y;              // (N, OH, OW, C)
};

struct nn_kern {
    const char *name;
    size_t (*conv_pack_size)(int OC, int K);               // floats
    void (*conv_pack)(int OC, int K, const float *w, float *wp);
    size_t (*conv_scratch)(const struct nn_conv_args *a);  // floats per thread
    void (*conv2d)(const struct nn_conv_args *a, int ith, int nth);
    void (*dwconv2d)(const struct nn_dw_args *a, int ith, int nth);
    void (*maxpool2d)(const struct nn_pool_args *a, int ith, int nth);
};

// The scalar reference table.
const struct nn_kern *nn_kern_ref(void);
// The fastest table this CPU supports (AVX2+FMA when present), unless force_ref or
// the environment variable FH_FORCE_REF=1 asks for the reference.
const struct nn_kern *nn_kern_best(int force_ref);
// AVX2 table or NULL when not compiled in / not supported (for tests and bench).
const struct nn_kern *nn_kern_avx2(void);

// rows [*m0, *m1) of M split into nth near-equal parts (aligned to `align` rows)
static inline void nn_split(int M, int ith, int nth, int align, int *m0, int *m1) {
    int blocks = (M + align - 1) / align;
    int b0 = (int)((long)blocks * ith / nth), b1 = (int)((long)blocks * (ith + 1) / nth);
    *m0 = b0 * align < M ? b0 * align : M;
    *m1 = b1 * align < M ? b1 * align : M;
}

static inline float nn_act_apply(float v, int act, const float *alpha, int c) {
    if (act == 1) return v > 0 ? v : 0;                 // NN_ACT_RELU
    if (act == 2) return v > 0 ? v : alpha[c] * v;      // NN_ACT_PRELU
    return v;
}

#endif
