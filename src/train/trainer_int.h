// SPDX-License-Identifier: MIT
// train/trainer private: the state of one run, shared by trainer.c (the loop) and
// trainer_io.c (net set-up, checkpoints, export).
#ifndef FH_TRAIN_TRAINER_INT_H
#define FH_TRAIN_TRAINER_INT_H

#include "nn/nn_train.h"
#include "train/ckpt.h"
#include "train/data.h"
#include "train/trainer.h"

struct trainer {
    const struct trainer_opts *o;
    struct trainer_result *res;
    struct fh_pool *pool;
    struct train_dataset data, heldout;
    const char *arch;         // the architecture built
    int bn;                   // 1: from scratch with batch norm; 0: --init (folded form)
    struct nn_net *net;
    struct nn_session *sess;  // the training session
    struct train_loss_opts lo;
    struct train_loss *head;
    struct train_sgd *sgd;
    struct train_param *params; // the optimizer's list (net trainable + head with g)
    int n_params;
    struct train_tensor *t;   // checkpoint list: net params, head params, momentum
    int n_t;
    struct train_sched sched;
    struct train_aug aug;
    int B, P, K, pk;          // batch; P x K (pk = 1: triplet sampling)
    long spe, total, target;  // steps per epoch, schedule length, last step + 1 of this run
    long step;                // updates done
    float *dE;                // (B, D)
    int *y, *items, *order;
    int order_epoch;          // the epoch `order` holds (-1 none)
    // the current epoch's sums (restored from a checkpoint mid-epoch)
    double ep_loss, ep_acc, ep_aux;
    long ep_n;
};

// trainer_io.c
// Builds t->net: arch_build(arch, bn = 1) from scratch, or bn = 0 with --init's weights.
int trainer_build_net(struct trainer *t);
// The optimizer and the checkpoint tensor list (after the net and the head exist).
int trainer_make_lists(struct trainer *t);
// Writes the checkpoint o->ckpt (no-op without one).
int trainer_save_ckpt(struct trainer *t);
// Restores o->resume: checks the settings, copies every tensor, sets step and sums.
int trainer_restore(struct trainer *t);
// Folds the net for inference (the training session must be freed) and writes o->out.
int trainer_export(struct trainer *t);

#endif
