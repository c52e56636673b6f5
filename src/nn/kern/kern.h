// SPDX-License-Identifier: MIT
// kern: raw kernels on float* NHWC data. No allocation, no state. Each slot of
// struct nn_kern is filled by the scalar reference table (kern/ref, always built)
// and overwritten by faster variants (kern/x86/*_avx2.c) when the CPU has them.
// A kernel computes the slice ith of nth of its output so a pool can split work;
// slices never share a reduction, so results do not depend on nth.
#ifndef FH_KERN_H
#define FH_KERN_H

#include <stddef.h>
#include <stdint.h>

// conv2d over NHWC, filter (OC, KH, KW, C), also used for FC (H=W=KH=KW=1).
// Output pixel m = (n*OH + oy)*OW + ox; k index = (kh*KW + kw)*C + c.
// Tap (kh, kw) of output (oy, ox) reads input (oy*SH - PT + kh*DH, ox*SW - PL + kw*DW).
struct nn_conv_args {
    const float *x;        // (N, H, W, C)
    int N, H, W, C;
    const float *w;        // (OC, KH, KW, C) as stored in the model
    const float *wp;       // w packed by this table's conv_pack (the same table!)
    const float *bias;     // (OC) or NULL
    int OC, KH, KW, SH, SW;
    int PT, PL;            // padding before (top, left); after is implied by OH, OW
    int OH, OW;
    int DH, DW;            // dilation; 0 reads as 1 (none). Backward kernels take none.
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


// ---- backward (training) kernels --------------------------------------------------------
// Every backward kernel ACCUMULATES (+=) into its outputs: a value read by several nodes
// (a residual input) sums the gradients of all its readers; the caller zeroes first.
// Work is split so that no two slices write the same output element and every sum is
// taken in a fixed order: results do not depend on nth (bit-identical for any nth).

// conv / FC backward. Geometry as in nn_conv_args (FC: H = W = KH = KW = OH = OW = 1).
//   dx[n,iy,ix,c]  += sum_{oy,ox,oc,kh,kw: iy = oy*SH-PT+kh, ix = ox*SW-PL+kw} dy[n,oy,ox,oc] w[oc,kh,kw,c]
//   dw[oc,kh,kw,c] += sum_{n,oy,ox} dy[n,oy,ox,oc] x[n, oy*SH-PT+kh, ox*SW-PL+kw, c]
//   db[oc]         += sum_{n,oy,ox} dy[n,oy,ox,oc]
// dy is the gradient of the conv's output before any activation (the training graph
// keeps activations as separate ops).
struct nn_conv_bwd_args {
    const float *x;        // (N, H, W, C) the forward input
    int N, H, W, C;
    const float *w;        // (OC, KH, KW, C) as stored (not packed)
    int OC, KH, KW, SH, SW, PT, PL, OH, OW;
    const float *dy;       // (N, OH, OW, OC)
    float *dx;             // (N, H, W, C) or NULL (input needs no gradient)
    float *dw;             // (OC, KH, KW, C) or NULL
    float *db;             // (OC) or NULL
    float *scratch;        // conv_bwd_scratch() floats per thread, thread ith at ith*that
};

// depthwise conv backward, depth multiplier 1, w (KH, KW, C):
//   dx[n,iy,ix,c] += sum dy[n,oy,ox,c] w[kh,kw,c];  dw[kh,kw,c] += sum_{n,oy,ox} dy x;  db[c] += sum dy
struct nn_dw_bwd_args {
    const float *x;        // (N, H, W, C)
    int N, H, W, C;
    const float *w;        // (KH, KW, C)
    int KH, KW, SH, SW, PT, PL, OH, OW;
    const float *dy;       // (N, OH, OW, C)
    float *dx;             // (N, H, W, C) or NULL
    float *dw;             // (KH, KW, C) or NULL
    float *db;             // (C) or NULL
};

// Per-channel ops over x viewed as rows (M, C), M = N*H*W (or N for [N, C]).
// Batch norm (training mode; torch conventions: biased variance for normalising):
//   bn_fwd_train: mean[c] = sum_m x / M, var[c] = sum_m (x - mean)^2 / M,
//                 invstd[c] = 1/sqrt(var + eps), y = gamma (x - mean) invstd + beta
//   bn_bwd:       xhat = (x - mean) invstd; dgamma[c] += sum dy xhat; dbeta[c] += sum dy;
//                 dx += gamma invstd / M (M dy - sum dy - xhat sum(dy xhat))
//   (inference mode needs no kernel: it is folded into a per-channel scale and shift)
// PReLU:   prelu_fwd: y = (x > 0 ? x : 0) + alpha[c] (x < 0 ? x : 0)  (slices split the rows)
//          prelu_bwd: dx += dy (x > 0 ? 1 : alpha[c]);  dalpha[c] += sum_m dy x [x <= 0]
// Other slices split the channels, so each channel's sums are taken over all M rows in order.
struct nn_chan_args {
    int M, C;
    const float *x;        // (M, C) forward input
    const float *dy;       // (M, C) gradient of the output (backward only)
    float *y;              // (M, C) forward output (bn_fwd_train, prelu_fwd)
    float *dx;             // (M, C) or NULL
    const float *gamma, *beta; // (C) batch norm
    float *mean, *invstd;  // (C) written by bn_fwd_train, read by bn_bwd
    float *var;            // (C) biased batch variance, written by bn_fwd_train
    float eps;
    const float *alpha;    // (C) PReLU slopes
    float *dgamma, *dbeta, *dalpha; // (C) accumulated, each may be NULL
};

// L2 normalisation of rows (N, D): y = x / max(|x|, eps);
//   l2norm_bwd: dx += (dy - y (y . dy)) / max(|x|, eps)  (for |x| >= eps; else dy / eps)
// Slices split the rows.
struct nn_rows_args {
    int N, D;
    const float *x;        // (N, D)
    float *y;              // (N, D)
    const float *dy;       // (N, D)
    float *dx;             // (N, D) or NULL
    float eps;
};

// int8 rows against an int16 query (the gallery scan of search/): for r in [0, N)
//   out[r] = sum_k rows[r * stride + k] * q[k]   (k < D), exact in int32
// D <= NN_I8DOT_MAX_D keeps every sum inside int32 (512 * 127 * 32767 < 2^31; rows may hold
// -128 only if the query stays within +-32767, which the caller guarantees). Slices split
// the rows; results do not depend on nth and equal the reference exactly.
#define NN_I8DOT_MAX_D 512
struct nn_i8dot_args {
    int N, D;
    const int8_t *rows;    // (N, stride) bytes
    size_t stride;         // >= D
    const int16_t *q;      // (D)
    int32_t *out;          // (N)
};

// int8 convolution (CONV2D / FC of a net loaded with NN_PREC_INT8; geometry as in
// nn_conv_args, no dilation). The float input is quantised per tensor on the fly,
//   q = clamp(nearbyint(x * xinv), -127, 127)   (x * xinv NaN -> -127)
// the weights were quantised per output channel to qw in [-127, 127], and
//   y[m, oc] = act((float)acc * dq[oc] + bias[oc]),  acc = sum_k q[m, k] qw[oc, k]
// with acc exact in int32 (K <= NN_QCONV_MAX_K; padding cells are q = 0) and the float
// step done as a multiply then an add (no FMA), so every table gives the reference's
// results bit for bit. dq[oc] = the input's scale times the channel's weight scale.
#define NN_QCONV_MAX_K 65536 // 65536 * 255 * 127 < 2^31 (the VNNI kernel's u8 sums)
struct nn_qconv_args {
    const float *x;        // (N, H, W, C) float
    int N, H, W, C;
    const void *wp;        // the int8 weights (OC, KH, KW, C) packed by this table's qconv_pack
    const float *dq;       // (OC) dequantisation multipliers
    const float *bias;     // (OC) or NULL
    float xinv;            // 1 / the input's scale
    int OC, KH, KW, SH, SW, PT, PL, OH, OW;
    int act;               // enum nn_act
    const float *alpha;    // (OC) PReLU slopes when act == NN_ACT_PRELU
    float *y;              // (N, OH, OW, OC) float
    void *scratch;         // qconv_scratch() bytes per thread, thread ith at ith*that
};

// q of one float, as every int8 kernel quantises (the scalar definition)
static inline int nn_quant8(float x, float xinv) {
    float v = x * xinv;
    if (!(v >= -127.0f)) v = -127.0f;
    if (v > 127.0f) v = 127.0f;
    return (int)__builtin_nearbyintf(v);
}

struct nn_kern {
    const char *name;
    size_t (*conv_pack_size)(int OC, int K);               // floats
    void (*conv_pack)(int OC, int K, const float *w, float *wp);
    size_t (*conv_scratch)(const struct nn_conv_args *a);  // floats per thread
    void (*conv2d)(const struct nn_conv_args *a, int ith, int nth);
    void (*dwconv2d)(const struct nn_dw_args *a, int ith, int nth);
    void (*maxpool2d)(const struct nn_pool_args *a, int ith, int nth);
    // training (see above); scratch in floats per thread
    size_t (*conv_bwd_scratch)(const struct nn_conv_bwd_args *a);
    void (*conv2d_bwd_data)(const struct nn_conv_bwd_args *a, int ith, int nth);   // dx
    void (*conv2d_bwd_filter)(const struct nn_conv_bwd_args *a, int ith, int nth); // dw, db
    void (*dwconv2d_bwd_data)(const struct nn_dw_bwd_args *a, int ith, int nth);
    void (*dwconv2d_bwd_filter)(const struct nn_dw_bwd_args *a, int ith, int nth);
    void (*bn_fwd_train)(const struct nn_chan_args *a, int ith, int nth);
    void (*bn_bwd)(const struct nn_chan_args *a, int ith, int nth);
    void (*prelu_fwd)(const struct nn_chan_args *a, int ith, int nth);
    void (*prelu_bwd)(const struct nn_chan_args *a, int ith, int nth);
    void (*l2norm_fwd)(const struct nn_rows_args *a, int ith, int nth);
    void (*l2norm_bwd)(const struct nn_rows_args *a, int ith, int nth);
    void (*i8_dot_rows)(const struct nn_i8dot_args *a, int ith, int nth);
    // int8 conv (above): packed size in bytes (64-byte multiple), pack, scratch in bytes per
    // thread (a multiple of 64), and the kernel
    size_t (*qconv_pack_size)(int OC, int K);
    void (*qconv_pack)(int OC, int K, const int8_t *wq, void *wp);
    size_t (*qconv_scratch)(const struct nn_qconv_args *a);
    void (*qconv2d)(const struct nn_qconv_args *a, int ith, int nth);
};

// The scalar reference table.
const struct nn_kern *nn_kern_ref(void);
// The fastest table this CPU supports (AVX-512 with VNNI, AVX-512, AVX2+FMA, in that
// order), unless force_ref or the environment variable FH_FORCE_REF=1 asks for the
// reference; FH_KERN=ref|avx2|avx512|avx512vnni picks one (falling back to the best this
// CPU has when it lacks the one named).
const struct nn_kern *nn_kern_best(int force_ref);
// AVX2 table or NULL when not compiled in / not supported (for tests and bench).
const struct nn_kern *nn_kern_avx2(void);
// AVX-512 (F, BW, VL, DQ) tables or NULL when not compiled in / not supported. They share
// the AVX2 table's slots except conv2d, dwconv2d and the int8 conv; vnni differs from the
// plain one only in the int8 conv (vpdpbusd instead of vpmaddwd).
const struct nn_kern *nn_kern_avx512(void);
const struct nn_kern *nn_kern_avx512vnni(void);

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
