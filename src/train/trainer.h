// SPDX-License-Identifier: MIT
// train/trainer: the training loop of `facehatch train`, as a library call. It loads the
// identity folders (train/data.h: detect, align, cache), builds the architecture
// (train/arch.h) or starts from a model (--init), makes the loss head (train/loss.h,
// C = identities in the training range, D = 192), runs SGD (train/optim.h) with a
// warm-up + cosine (or step) schedule, checkpoints atomically (train/ckpt.h), and at the
// end exports the net in inference form (BN folded, activations fused: NN_PASSES_EXPORT)
// to our model file (.fhm) and, when asked, scores held-out identities
// (train/evalpairs.h). It never prints: progress goes to a callback, results to a struct.
//
//   struct trainer_opts o = trainer_opts_default();
//   const char *roots[] = {"celeba200/train"};
//   o.roots = roots, o.n_roots = 1, o.id_first = 0, o.id_last = 9;
//   o.loss = TRAIN_LOSS_ARCFACE, o.arch = "mfn-s", o.out = "run/model.fhm";
//   o.eval_first = 160, o.eval_last = 199;
//   struct trainer_result r;
//   if (trainer_run(models, &o, &r)) puts(fh_errmsg());
//   trainer_result_free(&r);
//
// One step (step = updates done so far, from 0): the batch is a pure function of
// (seed, epoch, position): epoch = step / steps_per_epoch, b = step % steps_per_epoch;
// classifier losses take positions b*B .. b*B+B-1 of train_order_epoch (steps_per_epoch =
// floor(n / B): the tail of each epoch's order is dropped); triplet losses take P x K batch
// b of train_batch_pk (K = pk_k, P = min(B / K, identities), steps_per_epoch =
// max(1, floor(n / (P K)))). Then train_batch_fill with augmentation, forward in training
// mode, train_loss_compute, dE into the net's output gradient, backward, one SGD step over
// the net's trainable params and the head's params with a gradient, nn_net_weights_changed.
// SphereFace: lambda = train_loss_sphere_lambda(step), set before every step.
// Two-level softmax: epoch 0 uses the head's default assignment (class i -> cluster i % K);
// at the start of every later epoch the identity centres of the current model (every
// training image, centre crop, inference mode, no flip) are grouped by k-means
// (seed ^ epoch) into K clusters and the head's assignment replaced (weights kept).
//
// Checkpoints (train/ckpt.h, written atomically to o->ckpt) every ckpt_every steps and at
// every epoch end: every net param (BN running stats included), every head param
// (two-level assignment and Wen centres included), every momentum buffer, step, epoch, the
// seeded RNG state and metadata (arch, bn, loss, seed, batch, classes, per-epoch history).
// Resume (o->resume) checks the metadata against the options (arch, bn, loss, seed, batch,
// identities, K) and restores every tensor by name and shape; since nothing else carries
// state, the resumed run performs exactly the updates the uninterrupted one would: for a
// fixed thread count, the final weights are bit-identical.
//
// Output (o->out): written only at the end, atomically (nn_net_save): either the complete
// file or none. Metadata: arch, embedding_size 192, input 112x112x3 RGB, input_mean 127.5,
// input_scale 0.0078125, producer, training (loss, hyper-parameters, data, steps) and loss.
// The file depends only on the weights and the options: two runs that end with the same
// weights write byte-identical files.
//
// Errors (FH_E_*, fh_errmsg() names the problem): FH_E_ARG (bad option, an --init model or
// checkpoint of another shape, a checkpoint of other settings, batch larger than the data),
// FH_E_NOTFOUND (no identity folder or no usable image: train_dataset_load), FH_E_IO,
// FH_E_FORMAT (corrupt checkpoint or model), FH_E_LIMIT, FH_E_NOMEM, and FH_E_ARG when the
// loss becomes NaN/inf (then no output file is written; the last checkpoint stays).
// Thread safety: one run at a time per trainer_opts; runs on o->threads threads of its own.
#ifndef FH_TRAIN_TRAINER_H
#define FH_TRAIN_TRAINER_H

#include <stdint.h>

#include "pipeline/facehatch.h"
#include "train/evalpairs.h"
#include "train/loss.h"
#include "train/optim.h"

#define TRAINER_DIM 192
#define TRAINER_MAX_EPOCHS 100000

enum trainer_phase {
    TRAINER_LOAD,    // loading the data: done / total files in step / total_steps
    TRAINER_STEP,    // after a training step
    TRAINER_EPOCH,   // after an epoch (its mean loss/acc; held-out accuracy when measured)
    TRAINER_EVAL,    // evaluating held-out pairs (before the numbers exist)
    TRAINER_EXPORT,  // writing the model
};

// What the progress callback sees (all on the caller's thread).
struct trainer_progress {
    int phase;                // enum trainer_phase
    long step, total_steps;   // updates done, updates the run will have done at the end
    int epoch, epochs;        // current epoch (from 0), epochs planned
    double loss, acc;         // STEP: this step's; EPOCH: the epoch's means
    double heldout_acc;       // EPOCH: 10-fold held-out accuracy, or -1 when not measured
    double lr;                // the learning rate of the step
    double images_per_s;      // training throughput so far in this process
    double eta_s;             // estimated seconds to the end of training (no eval/export)
    double elapsed_s;         // training seconds in this process
};

struct trainer_opts {
    // data
    const char *const *roots; // identity folders' parents (train_data_options.roots)
    int n_roots;
    int id_first, id_last;    // training identities (natural order over the roots); -1 -1 all
    int eval_first, eval_last;// held-out identities for evalpairs at the end; -1 -1: none
    int eval_every_epoch;     // 1: also after every epoch (the curves in the history)
    int eval_flip;            // flip TTA in the held-out evaluation (default 1)
    const char *cache_dir;    // crop cache (NULL: none)
    int augment;              // 1: train_aug_default (default); 0: train_aug_none
    int imprint;              // classifier rows from the class centres of the starting net's
                              // embeddings ("weight imprinting", Qi et al. 2018) instead of
                              // random: -1 (default) when init is set, 1 always, 0 never.
                              // A random margin head on a pretrained net sends large wrong
                              // gradients into it for the first epoch and wrecks it.
    // model
    const char *arch;         // "mobilefacenet" or "mfn-s"; NULL: the --init .fhm's metadata
                              // arch when it names one of them, else "mobilefacenet"
    const char *init;         // NULL, or a .tflite/.fhm MobileFaceNet-shaped model: the net
                              // is then arch `arch` with bn = 0 and its weights copied
                              // (arch_load_tflite_weights); from scratch: bn = 1
    // loss (enum train_loss_kind) and its settings; <= 0 / -1 values mean the default of
    // train_loss_opts_default
    int loss;
    float s, m;               // cosface/arcface/two-level scale and margin; sphereface m
    float center_lambda;      // center loss weight
    float center_alpha;       // center update rate (-1 default)
    float triplet_margin;
    int triplet_hardest;      // 1: hardest-negative mining
    int clusters;             // two-level K
    int two_level_margin;     // TRAIN_LOSS_SOFTMAX, _COSFACE or _ARCFACE
    int pk_k;                 // triplet: images per identity in a P x K batch (default 4)
    // optimisation
    int epochs;               // default 10
    int batch;                // default 64
    float lr;                 // peak learning rate (default 0.1)
    float momentum;           // 0.9
    float wd;                 // weight decay on conv/fc/class weights (5e-4)
    float clip;               // global gradient-norm clip (0: none; default 10)
    long warmup;              // warm-up steps (-1: min(500, total / 10))
    int sched;                // TRAIN_SCHED_COSINE (default) or TRAIN_SCHED_STEP
    float lr_floor;           // cosine floor (default lr / 1000)
    float gamma;              // step: factor (0.1) at 50 % and 75 % of the steps
    long max_steps;           // stop after this many updates in all (0: the full run);
                              // the schedule still spans every epoch
    uint64_t seed;            // everything random (init, order, augmentation, head)
    int threads;              // threads (<= 0: all cores); results depend only on the seed
                              // and this count
    int force_ref;            // 1: scalar reference kernels
    // files
    const char *out;          // the model (.fhm); required
    const char *ckpt;         // the checkpoint (NULL: none written)
    long ckpt_every;          // also every this many steps (0: only at epoch ends)
    const char *resume;       // a checkpoint to continue from (NULL: a fresh run)
    // progress (NULL: none), called on the caller's thread
    void (*progress)(void *arg, const struct trainer_progress *p);
    void *progress_arg;
};
struct trainer_opts trainer_opts_default(void);

struct trainer_epoch {
    int epoch;
    long step;                // updates done at its end
    double loss, acc;         // means over its steps (in this process or restored)
    double heldout_acc;       // -1 when not measured
};

struct trainer_result {
    const char *arch;         // the architecture trained (o->arch, or the --init file's)
    int n_images, n_ids;      // training images and identities used
    int n_skipped;            // files and folders the data loader could not use
    long steps;               // updates done in all (resumed ones included)
    long steps_run;           // updates done by this process
    int epochs_done;          // complete epochs
    double final_loss, final_acc; // means over the last epoch's steps (over the steps of
                                  // the unfinished epoch when the run stopped mid-epoch)
    double images_per_s;      // training throughput of this process
    double train_s, total_s;  // seconds training; seconds in all (load, eval, export)
    long resumed_from;        // the checkpoint's step, or -1
    int n_epochs;             // history entries
    struct trainer_epoch *history; // (n_epochs), owned
    int has_heldout;          // 1: heldout is filled
    struct evalpairs_result heldout;
    double two_level_cluster_acc; // two-level: cluster accuracy over the last epoch, else -1
    size_t head_bytes;        // bytes of the head's parameters
};
void trainer_result_free(struct trainer_result *r);

// Runs the training described by o (see above). m: detector models for the data loader,
// borrowed. OUT: *res (free with trainer_result_free, also on failure).
int trainer_run(const struct fh_models *m, const struct trainer_opts *o, struct trainer_result *res);

#endif
