// SPDX-License-Identifier: MIT
// train/optim: SGD with momentum and weight decay (torch.optim.SGD semantics, no
// dampening, no Nesterov), global-norm gradient clipping (torch clip_grad_norm_), and
// learning-rate schedules (linear warm-up, then cosine to a floor or step decay).
//
// The optimizer updates a list of parameters given by the caller — the net's trainable
// params (nn_net_param / nn_session_param_grad) plus a loss head's — so it knows
// nothing about nets:
//
//   struct train_param p[] = {{"conv0.w", w0, g0, n0, 1}, {"bn1.gamma", w1, g1, n1, 0}};
//   struct train_sgd_opts o = {.momentum = 0.9f, .weight_decay = 5e-4f, .clip_norm = 0};
//   struct train_sgd *sgd;
//   train_sgd_new(p, 2, &o, &sgd);
//   struct train_sched sc = {.kind = TRAIN_SCHED_COSINE, .lr = 0.1f, .warmup = 500,
//                            .total = 20000, .floor = 1e-4f};
//   for (long step = 0; ...; step++) {
//       ... forward, backward (fills g0, g1) ...
//       if (train_sgd_step(sgd, train_sched_lr(&sc, step), &rep)) skip / stop (NaN)
//   }
//
// One step, per parameter element, in this order (as torch):
//   g' = g * clip                      clip = 1, or max_norm / (norm + 1e-6) when the
//                                      global norm of all g exceeds clip_norm
//   d  = g' + weight_decay * w         only for params with decay = 1
//   buf = momentum * buf + d           buf starts at 0 (torch's first buf = d, same)
//   w  -= lr * buf
// The gradients are read, never modified (the clip factor is applied on the fly).
// Single-threaded, sums in double in list order: deterministic.
// Thread safety: one optimizer per thread; it writes its params' w.
#ifndef FH_TRAIN_OPTIM_H
#define FH_TRAIN_OPTIM_H

#include <stddef.h>

#include "train/ckpt.h"

// One parameter tensor, borrowed (must outlive the optimizer).
struct train_param {
    const char *name;  // unique; momentum is saved as "<name>.mom"; copied by train_sgd_new
    float *w;          // n values, updated in place by train_sgd_step
    const float *g;    // n gradients, read by train_sgd_step
    size_t n;          // may be 0
    int decay;         // 1: weight decay applies (conv/fc weights), 0: not (bias, BN, slopes)
};

struct train_sgd_opts {
    float momentum;     // [0, 1); 0: plain SGD
    float weight_decay; // >= 0, L2 coefficient, only on decay = 1 params
    float clip_norm;    // > 0: clip the global gradient norm to it; 0: no clipping
};

// What one step did.
struct train_sgd_report {
    double grad_norm;   // global L2 norm of all gradients, before clipping
    double clip;        // factor applied to the gradients (1 when not clipped)
};

struct train_sgd;

// Copies the list (names included) and allocates zeroed momentum buffers.
// FH_OK; FH_E_ARG (n < 0, a NULL w/g/name with n > 0, an empty or duplicate name, an
// option out of range, naming it); FH_E_NOMEM.
int train_sgd_new(const struct train_param *p, int n, const struct train_sgd_opts *o,
                  struct train_sgd **out);
void train_sgd_free(struct train_sgd *s);

// One update at learning rate lr (>= 0). FH_OK; FH_E_ARG when lr is not finite or
// negative, or the gradient norm is NaN/inf (naming the first param with a non-finite
// gradient): then nothing is changed. rep may be NULL.
int train_sgd_step(struct train_sgd *s, float lr, struct train_sgd_report *rep);

int train_sgd_n_params(const struct train_sgd *s);
// The momentum buffer of param i as a checkpoint tensor ("<name>.mom", rank 1, n
// values; data points at the live buffer, so train_ckpt_restore writes it back).
// FH_OK or FH_E_ARG (i out of range).
int train_sgd_state(struct train_sgd *s, int i, struct train_tensor *out);
// Sets every momentum buffer to 0 (a fresh optimizer).
void train_sgd_reset(struct train_sgd *s);

// ---- learning-rate schedules ------------------------------------------------------------
enum train_sched_kind {
    TRAIN_SCHED_CONST,  // lr (after warm-up)
    TRAIN_SCHED_COSINE, // warm-up, then floor + (lr - floor)(1 + cos(pi t)) / 2, t from 0
                        // at step = warmup to 1 at step = total, floor after total
    TRAIN_SCHED_STEP,   // warm-up, then lr * gamma^(number of milestones <= step)
};
#define TRAIN_SCHED_MAX_MILESTONES 16

// Steps count from 0 (the first update is step 0). Epoch-based schedules convert
// epochs to steps (epoch * steps_per_epoch) before filling this.
struct train_sched {
    int kind;              // enum train_sched_kind
    float lr;              // peak learning rate (> 0)
    long warmup;           // steps of linear warm-up: lr (step + 1) / warmup for step < warmup
    long total;            // COSINE: the step where the floor is reached (> warmup)
    float floor;           // COSINE: final lr, in [0, lr]
    float gamma;           // STEP: factor per milestone, in (0, 1]
    int n_milestones;      // STEP: 0..TRAIN_SCHED_MAX_MILESTONES
    long milestones[TRAIN_SCHED_MAX_MILESTONES]; // STEP: increasing steps
};

// FH_OK or FH_E_ARG naming the first bad field.
int train_sched_check(const struct train_sched *s);
// Learning rate for update `step` (>= 0; negative counts as 0). Assumes a checked schedule.
float train_sched_lr(const struct train_sched *s, long step);

#endif
