// SPDX-License-Identifier: MIT
// The training loop (trainer.h): data, head, schedule, steps, epochs, evaluation.
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/base.h"
#include "embed/embed.h"
#include "train/trainer_int.h"

struct trainer_opts trainer_opts_default(void) {
    return (struct trainer_opts){
        .id_first = -1, .id_last = -1, .eval_first = -1, .eval_last = -1, .eval_flip = 1,
        .augment = 1, .loss = TRAIN_LOSS_SOFTMAX, .center_lambda = -1, .center_alpha = -1,
        .triplet_margin = -1, .clusters = 0, .pk_k = 4, .epochs = 10, .batch = 64, .lr = 0.1f,
        .momentum = 0.9f, .wd = 5e-4f, .clip = 10, .warmup = -1, .sched = TRAIN_SCHED_COSINE,
        .lr_floor = -1, .gamma = 0.1f, .seed = 1, .imprint = -1};
}

void trainer_result_free(struct trainer_result *r) {
    if (!r) return;
    fh_free(r->history);
    memset(r, 0, sizeof *r);
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void report(const struct trainer *t, struct trainer_progress *p) {
    if (t->o->progress) t->o->progress(t->o->progress_arg, p);
}

static void load_progress(void *arg, int done, int total) {
    const struct trainer *t = arg;
    struct trainer_progress p = {.phase = TRAINER_LOAD, .step = done, .total_steps = total,
                                 .epochs = t->o->epochs, .heldout_acc = -1};
    report(t, &p);
}

static int check_opts(const struct trainer_opts *o) {
    if (!o->out || !*o->out) return fh_fail(FH_E_ARG, "trainer: no output model file");
    if (!o->roots || o->n_roots < 1) return fh_fail(FH_E_ARG, "trainer: no data folder");
    if (o->loss < 0 || o->loss >= TRAIN_LOSS_COUNT) return fh_fail(FH_E_ARG, "trainer: unknown loss %d", o->loss);
    if (o->epochs < 1 || o->epochs > TRAINER_MAX_EPOCHS)
        return fh_fail(FH_E_ARG, "trainer: epochs %d not in 1..%d", o->epochs, TRAINER_MAX_EPOCHS);
    if (o->batch < 2 || o->batch > TRAIN_MAX_BATCH)
        return fh_fail(FH_E_ARG, "trainer: batch %d not in 2..%d", o->batch, TRAIN_MAX_BATCH);
    if (!(o->lr > 0 && o->lr < 100)) return fh_fail(FH_E_ARG, "trainer: learning rate %g not in (0, 100)", o->lr);
    if (o->max_steps < 0 || o->ckpt_every < 0) return fh_fail(FH_E_ARG, "trainer: negative step count");
    if (o->loss == TRAIN_LOSS_TRIPLET && (o->pk_k < 2 || o->pk_k > o->batch / 2))
        return fh_fail(FH_E_ARG, "trainer: triplet K %d not in 2..batch/2", o->pk_k);
    if (o->eval_first >= 0 && o->id_first >= 0 && o->eval_first <= o->id_last && o->id_first <= o->eval_last)
        return fh_fail(FH_E_ARG, "trainer: held-out identities %d-%d overlap the training ones %d-%d",
                       o->eval_first, o->eval_last, o->id_first, o->id_last);
    if (o->eval_first >= 0 && o->id_first < 0)
        return fh_fail(FH_E_ARG, "trainer: held-out identities need a training range (--ids) apart from them");
    return FH_OK;
}

static int load_data(struct trainer *t, const struct fh_models *m, int first, int last,
                     struct train_dataset *d, const char *what) {
    struct train_data_options d_o = train_data_options_default();
    d_o.roots = t->o->roots, d_o.n_roots = t->o->n_roots, d_o.id_first = first, d_o.id_last = last;
    d_o.cache_dir = t->o->cache_dir, d_o.n_threads = t->o->threads;
    d_o.progress = load_progress, d_o.progress_arg = t;
    int rc = train_dataset_load(m, &d_o, d);
    if (rc) {
        char msg[600];
        snprintf(msg, sizeof msg, "%s", fh_errmsg());
        rc = fh_fail(rc, "%s data: %s", what, msg);
    }
    return rc;
}

static int make_head(struct trainer *t) {
    const struct trainer_opts *o = t->o;
    int C = t->data.n_ids;
    if (C < 2) return fh_fail(FH_E_ARG, "trainer: %d identity with usable images, need at least 2", C);
    train_loss_opts_default(&t->lo, o->loss, C, TRAINER_DIM);
    t->lo.seed = o->seed * 0x9E3779B97F4A7C15ull + 1;
    if (o->s > 0) t->lo.s = o->s;
    if (o->m > 0) t->lo.m = o->m;
    if (o->center_lambda >= 0) t->lo.center_lambda = o->center_lambda;
    if (o->center_alpha >= 0) t->lo.center_alpha = o->center_alpha;
    if (o->triplet_margin >= 0) t->lo.triplet_margin = o->triplet_margin;
    t->lo.triplet_hardest = o->triplet_hardest;
    if (o->clusters > 0) t->lo.n_clusters = o->clusters;
    t->lo.two_level_margin = o->two_level_margin;
    if (o->loss == TRAIN_LOSS_SPHEREFACE) t->lo.sphere_lambda = (float)train_loss_sphere_lambda(0);
    int rc = train_loss_new(&t->lo, &t->head);
    for (int i = 0; !rc && i < train_loss_n_params(t->head); i++) {
        struct train_loss_param p;
        train_loss_param(t->head, i, &p);
        t->res->head_bytes += p.n * sizeof(float);
    }
    return rc;
}

static int plan(struct trainer *t) {
    const struct trainer_opts *o = t->o;
    int n = t->data.n;
    t->B = o->batch;
    if (o->loss == TRAIN_LOSS_TRIPLET) {
        t->pk = 1, t->K = o->pk_k;
        t->P = o->batch / t->K < t->data.n_ids ? o->batch / t->K : t->data.n_ids;
        t->B = t->P * t->K;
        t->spe = n / t->B > 0 ? n / t->B : 1;
    } else {
        if (t->B > n)
            return fh_fail(FH_E_ARG, "trainer: batch %d is larger than the %d usable images", t->B, n);
        t->spe = n / t->B;
    }
    t->total = t->spe * o->epochs;
    t->target = o->max_steps > 0 && o->max_steps < t->total ? o->max_steps : t->total;
    struct train_sched *s = &t->sched;
    s->kind = o->sched, s->lr = o->lr, s->total = t->total;
    s->warmup = o->warmup >= 0 ? o->warmup : (t->total / 10 < 500 ? t->total / 10 : 500);
    s->floor = o->lr_floor >= 0 ? o->lr_floor : o->lr / 1000;
    s->gamma = o->gamma;
    if (o->sched == TRAIN_SCHED_STEP) {
        s->n_milestones = 2, s->milestones[0] = t->total / 2, s->milestones[1] = t->total * 3 / 4;
        if (s->milestones[1] <= s->milestones[0]) s->n_milestones = 1;
    }
    int rc = train_sched_check(s);
    if (rc) return rc;
    t->aug = o->augment ? train_aug_default() : train_aug_none();
    size_t B = (size_t)t->B;
    t->dE = fh_malloc(B * TRAINER_DIM * sizeof *t->dE);
    t->y = fh_malloc(B * sizeof *t->y);
    t->items = fh_malloc(B * sizeof *t->items);
    t->order = fh_malloc((size_t)n * sizeof *t->order);
    t->order_epoch = -1;
    if (!t->dE || !t->y || !t->items || !t->order) return fh_fail(FH_E_NOMEM, "trainer: no memory for batch %zu", B);
    rc = nn_session_reshape(t->sess, (int[]){t->B, TRAIN_CROP, TRAIN_CROP, 3}, 4);
    int dims[FH_MAX_DIMS], rank;
    if (!rc && (!nn_session_output(t->sess, 0, dims, &rank) || rank != 2 || dims[1] != TRAINER_DIM))
        rc = fh_fail(FH_E_ARG, "trainer: the net does not output (N, %d)", TRAINER_DIM);
    return rc;
}

// The unit centre of every training identity's embeddings under the current net (flip TTA
// when flip = 1). cen: OUT (C, EMB_DIM); cnt: OUT (C) images per identity, may be NULL.
static int class_centres_now(struct trainer *t, int flip, float *cen, int *cnt) {
    const struct train_dataset *d = &t->data;
    float *emb = fh_malloc((size_t)d->n * EMB_DIM * sizeof *emb);
    int *lab = fh_malloc((size_t)d->n * sizeof *lab);
    int rc = !emb || !lab ? fh_fail(FH_E_NOMEM, "trainer: no memory for %d embeddings", d->n) : FH_OK;
    for (int i = 0; !rc && i < d->n; i++) lab[i] = d->images[i].label;
    if (!rc) rc = evalpairs_embed(t->net, EMB_PREP_MFN, d, flip, t->pool, emb);
    if (!rc) rc = train_class_centres(emb, lab, d->n, EMB_DIM, d->n_ids, cen, cnt);
    fh_free(emb), fh_free(lab);
    return rc;
}

// two-level: identity centres of the current model, k-means, new assignment
static int recluster(struct trainer *t, int epoch) {
    int C = t->data.n_ids, K = t->lo.n_clusters;
    float *cen = fh_malloc((size_t)C * EMB_DIM * sizeof *cen);
    int *assign = fh_malloc((size_t)C * sizeof *assign);
    int rc = !cen || !assign ? fh_fail(FH_E_NOMEM, "trainer: no memory to recluster") : FH_OK;
    if (!rc) rc = class_centres_now(t, 0, cen, NULL);
    // After the first epoch: a fresh k-means (the starting assignment is class % K). Later:
    // Lloyd from the current assignment, so clusters move only as much as the embedding,
    // and keep their labels. A fresh k-means every epoch found another partition each time,
    // under arbitrary labels: the cluster head's rows then belonged to other clusters, and
    // once the learning rate had decayed it could not relearn them (the first loss table:
    // cluster accuracy 0.04 at the end).
    const int *prev = train_loss_clusters(t->head);
    if (!rc && (epoch == 1 || !prev)) {
        rc = train_kmeans(cen, C, EMB_DIM, K, t->o->seed ^ (uint64_t)epoch, 50, assign, NULL, NULL);
        if (!rc && prev) rc = train_cluster_relabel(prev, assign, C, K);
    } else if (!rc) {
        memcpy(assign, prev, (size_t)C * sizeof *assign);
        rc = train_kmeans_refine(cen, C, EMB_DIM, K, 50, assign, NULL, NULL);
    }
    if (!rc) rc = train_loss_set_clusters(t->head, assign);
    fh_free(cen), fh_free(assign);
    return rc;
}

// Weight imprinting: row c of the classifier ("head.w", or the two-level "ident.w") becomes
// the unit centre of class c's embeddings under the current net, scaled to the mean norm of
// the rows it replaces (cosine heads ignore the norm; a plain softmax keeps its logit
// scale); a two-level head's cluster rows become the mean of their members' rows.
static int imprint(struct trainer *t) {
    int C = t->data.n_ids, wi = train_loss_find_param(t->head, "head.w");
    if (wi < 0) wi = train_loss_find_param(t->head, "ident.w");
    if (wi < 0) return FH_OK; // triplet: no classifier
    struct train_loss_param p;
    train_loss_param(t->head, wi, &p);
    if (p.rows != C || p.cols != EMB_DIM) return fh_fail(FH_E_ARG, "trainer: head %s is %dx%d, not %dx%d", p.name, p.rows, p.cols, C, EMB_DIM);
    float *cen = fh_malloc((size_t)C * EMB_DIM * sizeof *cen);
    int *cnt = fh_malloc((size_t)C * sizeof *cnt);
    int rc = !cen || !cnt ? fh_fail(FH_E_NOMEM, "trainer: no memory to imprint the head") : FH_OK;
    if (!rc) rc = class_centres_now(t, 1, cen, cnt);
    if (!rc) {
        double norm = 0;
        for (size_t i = 0; i < p.n; i++) norm += (double)p.w[i] * p.w[i];
        norm = sqrt(norm / C);
        for (int c = 0; c < C; c++)
            if (cnt[c]) // every class has images; a defensive skip keeps the random row
                for (int j = 0; j < EMB_DIM; j++) p.w[(size_t)c * EMB_DIM + j] = (float)(norm * cen[(size_t)c * EMB_DIM + j]);
        int ki = train_loss_find_param(t->head, "cluster.w");
        const int *cl = train_loss_clusters(t->head);
        if (ki >= 0 && cl) {
            struct train_loss_param q;
            train_loss_param(t->head, ki, &q);
            memset(q.w, 0, q.n * sizeof *q.w);
            for (int c = 0; c < C; c++)
                for (int j = 0; j < EMB_DIM; j++) q.w[(size_t)cl[c] * EMB_DIM + j] += p.w[(size_t)c * EMB_DIM + j];
            for (int k = 0; k < q.rows; k++) {
                double n2 = 0;
                float *r = q.w + (size_t)k * EMB_DIM;
                for (int j = 0; j < EMB_DIM; j++) n2 += (double)r[j] * r[j];
                for (int j = 0; n2 > 0 && j < EMB_DIM; j++) r[j] = (float)(r[j] * norm / sqrt(n2));
            }
        }
        rc = train_loss_params_changed(t->head);
    }
    fh_free(cen), fh_free(cnt);
    return rc;
}

static int one_step(struct trainer *t, double *loss, double *acc, double *aux) {
    const struct trainer_opts *o = t->o;
    int epoch = (int)(t->step / t->spe), b = (int)(t->step % t->spe), rc;
    int64_t pos0 = (int64_t)b * t->B;
    if (t->pk) {
        rc = train_batch_pk(&t->data, t->P, t->K, o->seed, epoch, b, t->items);
        if (rc) return rc;
    } else {
        if (t->order_epoch != epoch) train_order_epoch(t->data.n, o->seed, epoch, t->order), t->order_epoch = epoch;
        memcpy(t->items, t->order + pos0, (size_t)t->B * sizeof *t->items);
    }
    rc = train_batch_fill(&t->data, &t->aug, o->seed, epoch, t->items, t->B, pos0, t->pool,
                          nn_session_input(t->sess, 0), t->y);
    if (!rc && o->loss == TRAIN_LOSS_SPHEREFACE)
        rc = train_loss_set_sphere_lambda(t->head, (float)train_loss_sphere_lambda(t->step));
    if (!rc) rc = nn_session_forward(t->sess, 1);
    if (rc) return rc;
    const float *E = nn_session_output(t->sess, 0, NULL, NULL);
    struct train_loss_stats st;
    train_loss_zero_grad(t->head);
    if ((rc = train_loss_compute(t->head, E, t->y, t->B, TRAINER_DIM, t->dE, &st))) return rc;
    if (!isfinite(st.loss))
        return fh_fail(FH_E_ARG, "trainer: the loss is %g at step %ld (lower --lr?)", st.loss, t->step);
    memcpy(nn_session_output_grad(t->sess, 0), t->dE, (size_t)t->B * TRAINER_DIM * sizeof *t->dE);
    nn_session_zero_grad(t->sess);
    if ((rc = nn_session_backward(t->sess))) return rc;
    float lr = train_sched_lr(&t->sched, t->step);
    if ((rc = train_sgd_step(t->sgd, lr, NULL))) {
        char msg[400];
        snprintf(msg, sizeof msg, "%s", fh_errmsg());
        return fh_fail(rc, "trainer: step %ld: %s (lower --lr?)", t->step, msg);
    }
    nn_net_weights_changed(t->net);
    *loss = st.loss, *acc = st.acc, *aux = st.aux;
    return FH_OK;
}

static int add_epoch(struct trainer *t, int epoch, double heldout) {
    struct trainer_result *r = t->res;
    struct trainer_epoch *h = fh_realloc(r->history, (size_t)(r->n_epochs + 1) * sizeof *h);
    if (!h) return fh_fail(FH_E_NOMEM, "trainer: no memory for the history");
    r->history = h;
    h[r->n_epochs++] = (struct trainer_epoch){epoch, t->step, t->ep_n ? t->ep_loss / (double)t->ep_n : 0,
                                              t->ep_n ? t->ep_acc / (double)t->ep_n : 0, heldout};
    return FH_OK;
}

static int train_loop(struct trainer *t) {
    const struct trainer_opts *o = t->o;
    struct trainer_result *r = t->res;
    double train_s = 0;
    int rc = FH_OK;
    while (!rc && t->step < t->target) {
        int epoch = (int)(t->step / t->spe);
        if (t->step % t->spe == 0) {
            t->ep_loss = t->ep_acc = t->ep_aux = 0, t->ep_n = 0;
            if (t->lo.kind == TRAIN_LOSS_TWO_LEVEL && epoch > 0 && (rc = recluster(t, epoch))) break;
        }
        double s0 = now_s(), loss = 0, acc = 0, aux = 0;
        if ((rc = one_step(t, &loss, &acc, &aux))) break;
        train_s += now_s() - s0;
        t->step++, r->steps_run++;
        t->ep_loss += loss, t->ep_acc += acc, t->ep_aux += aux, t->ep_n++;
        double ips = (double)r->steps_run * t->B / (train_s > 0 ? train_s : 1e-9);
        struct trainer_progress p = {.phase = TRAINER_STEP, .step = t->step, .total_steps = t->target,
                                     .epoch = epoch, .epochs = o->epochs, .loss = loss, .acc = acc,
                                     .heldout_acc = -1, .lr = train_sched_lr(&t->sched, t->step - 1),
                                     .images_per_s = ips, .elapsed_s = train_s,
                                     .eta_s = (double)(t->target - t->step) * t->B / ips};
        report(t, &p);
        int epoch_end = t->step % t->spe == 0;
        if (epoch_end) {
            double held = -1;
            if (o->eval_every_epoch && t->heldout.n) {
                p.phase = TRAINER_EVAL, report(t, &p);
                struct evalpairs_result er;
                if ((rc = evalpairs_run(t->net, EMB_PREP_MFN, &t->heldout, o->eval_flip, t->pool, &er))) break;
                held = er.acc;
            }
            if (t->lo.kind == TRAIN_LOSS_TWO_LEVEL) r->two_level_cluster_acc = t->ep_aux / (double)t->ep_n;
            if ((rc = add_epoch(t, epoch, held))) break;
            p.phase = TRAINER_EPOCH, p.loss = r->history[r->n_epochs - 1].loss;
            p.acc = r->history[r->n_epochs - 1].acc, p.heldout_acc = held;
            report(t, &p);
        }
        if (epoch_end || (o->ckpt_every && t->step % o->ckpt_every == 0) || t->step == t->target)
            rc = trainer_save_ckpt(t);
    }
    r->train_s = train_s;
    r->images_per_s = train_s > 0 ? (double)r->steps_run * t->B / train_s : 0;
    return rc;
}

static void finish_result(struct trainer *t) {
    struct trainer_result *r = t->res;
    r->steps = t->step, r->epochs_done = (int)(t->step / t->spe);
    if (t->step % t->spe == 0 && r->n_epochs) {
        r->final_loss = r->history[r->n_epochs - 1].loss, r->final_acc = r->history[r->n_epochs - 1].acc;
    } else if (t->ep_n) {
        r->final_loss = t->ep_loss / (double)t->ep_n, r->final_acc = t->ep_acc / (double)t->ep_n;
    }
}

static void trainer_free(struct trainer *t) {
    nn_session_free(t->sess);
    nn_net_free(t->net);
    train_loss_free(t->head);
    train_sgd_free(t->sgd);
    fh_free(t->params), fh_free(t->t);
    fh_free(t->dE), fh_free(t->y), fh_free(t->items), fh_free(t->order);
    train_dataset_free(&t->data), train_dataset_free(&t->heldout);
    if (t->pool) fh_pool_free(t->pool);
}

int trainer_run(const struct fh_models *m, const struct trainer_opts *o, struct trainer_result *res) {
    memset(res, 0, sizeof *res);
    res->resumed_from = -1, res->two_level_cluster_acc = -1;
    double t0 = now_s();
    int rc = check_opts(o);
    if (rc) return rc;
    struct trainer t = {.o = o, .res = res};
    // cheap checks first: the resume file and the --init model, before loading data
    if (o->resume) {
        struct train_ckpt *ck;
        if ((rc = train_ckpt_read(o->resume, &ck))) {
            char msg[400];
            snprintf(msg, sizeof msg, "%s", fh_errmsg());
            return fh_fail(rc, "--resume %s: %s", o->resume, msg);
        }
        train_ckpt_free(ck);
    }
    if (!(t.pool = fh_pool_new(o->threads))) rc = FH_E_NOMEM;
    if (!rc) rc = trainer_build_net(&t);
    res->arch = t.arch;
    if (!rc) rc = nn_session_new_train(t.net, t.pool, &t.sess);
    if (!rc) rc = load_data(&t, m, o->id_first, o->id_last, &t.data, "training");
    if (!rc && o->eval_first >= 0) rc = load_data(&t, m, o->eval_first, o->eval_last, &t.heldout, "held-out");
    if (!rc) {
        res->n_images = t.data.n, res->n_ids = t.data.n_ids, res->n_skipped = t.data.n_skipped;
        rc = make_head(&t);
    }
    if (!rc) rc = plan(&t);
    if (!rc) rc = trainer_make_lists(&t);
    if (!rc && !o->resume && (o->imprint > 0 || (o->imprint < 0 && o->init))) rc = imprint(&t);
    if (!rc && o->resume) rc = trainer_restore(&t);
    if (!rc) rc = train_loop(&t);
    if (!rc) {
        finish_result(&t);
        nn_session_free(t.sess), t.sess = NULL;
        struct trainer_progress p = {.phase = TRAINER_EXPORT, .step = t.step, .total_steps = t.target,
                                     .epochs = o->epochs, .heldout_acc = -1};
        report(&t, &p);
        rc = trainer_export(&t);
    }
    if (!rc && t.heldout.n) {
        struct trainer_progress p = {.phase = TRAINER_EVAL, .step = t.step, .total_steps = t.target,
                                     .epochs = o->epochs, .heldout_acc = -1};
        report(&t, &p);
        if (!(rc = evalpairs_run(t.net, EMB_PREP_MFN, &t.heldout, o->eval_flip, t.pool, &res->heldout)))
            res->has_heldout = 1;
    }
    trainer_free(&t);
    res->total_s = now_s() - t0;
    return rc;
}
