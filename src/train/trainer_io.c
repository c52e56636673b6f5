// SPDX-License-Identifier: MIT
// The trainer's set-up and files (trainer.h): the net (from scratch or --init), the
// optimizer and checkpoint lists, checkpoints, resume, and the exported model.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "train/arch.h"
#include "train/trainer_int.h"

int trainer_build_net(struct trainer *t) {
    const struct trainer_opts *o = t->o;
    t->bn = !o->init;
    if (!o->init) {
        t->arch = o->arch ? o->arch : "mobilefacenet";
        return arch_build(t->arch, 1, o->seed, &t->net);
    }
    struct nn_net *src;
    struct emb_prep prep;
    int rc = evalpairs_load_model(o->init, o->force_ref, &src, &prep);
    if (rc) return rc;
    const char *march = nn_net_meta(src, "arch");
    t->arch = o->arch ? o->arch : march && !strcmp(march, "mfn-s") ? "mfn-s" : "mobilefacenet";
    if (prep.mean != 127.5f || prep.scale != 0.0078125f)
        rc = fh_fail(FH_E_ARG, "--init %s: input preprocessing (v - %g) * %g, the trainer feeds "
                     "(v - 127.5) / 128", o->init, prep.mean, prep.scale);
    if (!rc) rc = arch_build(t->arch, 0, o->seed, &t->net);
    if (!rc && (rc = arch_load_tflite_weights(t->net, src))) {
        char msg[400];
        snprintf(msg, sizeof msg, "%s", fh_errmsg());
        rc = fh_fail(rc, "--init %s is not a %s model: %s", o->init, t->arch, msg);
    }
    nn_net_free(src);
    return rc;
}

int trainer_make_lists(struct trainer *t) {
    int nn = nn_net_n_params(t->net), nh = train_loss_n_params(t->head);
    t->params = fh_calloc((size_t)(nn + nh), sizeof *t->params);
    t->t = fh_calloc((size_t)(2 * (nn + nh)), sizeof *t->t);
    if (!t->params || !t->t) return fh_fail(FH_E_NOMEM, "trainer: no memory for the lists");
    for (int i = 0; i < nn; i++) {
        struct nn_param p;
        nn_net_param(t->net, i, &p);
        struct train_tensor *x = &t->t[t->n_t++];
        x->name = p.name, x->rank = p.rank, x->n = p.n, x->data = p.w;
        memcpy(x->dims, p.dims, sizeof p.dims);
        if (p.trainable)
            t->params[t->n_params++] = (struct train_param){p.name, p.w, nn_session_param_grad(t->sess, i), p.n, p.decay};
    }
    for (int i = 0; i < nh; i++) {
        struct train_loss_param p;
        train_loss_param(t->head, i, &p);
        struct train_tensor *x = &t->t[t->n_t++];
        x->name = p.name, x->rank = 2, x->dims[0] = p.rows, x->dims[1] = p.cols, x->n = p.n, x->data = p.w;
        if (p.g) t->params[t->n_params++] = (struct train_param){p.name, p.w, p.g, p.n, p.decay};
    }
    struct train_sgd_opts so = {.momentum = t->o->momentum, .weight_decay = t->o->wd, .clip_norm = t->o->clip};
    int rc = train_sgd_new(t->params, t->n_params, &so, &t->sgd);
    for (int i = 0; !rc && i < t->n_params; i++) rc = train_sgd_state(t->sgd, i, &t->t[t->n_t++]);
    return rc;
}

static const char *loss_name(int k) {
    static const char *names[] = {"softmax", "triplet", "center", "sphereface", "cosface", "arcface", "two-level"};
    return k >= 0 && k < TRAIN_LOSS_COUNT ? names[k] : "?";
}

// the settings a checkpoint must share with the run that resumes it
static void settings(const struct trainer *t, char *buf, size_t n) {
    const struct trainer_opts *o = t->o;
    snprintf(buf, n, "arch=%s\nbn=%d\nloss=%s\nseed=%llu\nbatch=%d\nclasses=%d\nids=%d-%d\nclusters=%d\npk_k=%d\n",
             t->arch, t->bn, loss_name(o->loss), (unsigned long long)o->seed, t->B, t->lo.n_classes,
             o->id_first, o->id_last, t->lo.kind == TRAIN_LOSS_TWO_LEVEL ? t->lo.n_clusters : 0,
             t->pk ? t->K : 0);
}

int trainer_save_ckpt(struct trainer *t) {
    if (!t->o->ckpt) return FH_OK;
    const struct trainer_result *r = t->res;
    size_t cap = 1024 + (size_t)r->n_epochs * 128;
    char *meta = fh_malloc(cap);
    if (!meta) return fh_fail(FH_E_NOMEM, "trainer: no memory for checkpoint metadata");
    settings(t, meta, cap);
    size_t len = strlen(meta);
    len += (size_t)snprintf(meta + len, cap - len, "ep_loss=%.17g\nep_acc=%.17g\nep_aux=%.17g\nep_n=%ld\nhistory=",
                            t->ep_loss, t->ep_acc, t->ep_aux, t->ep_n);
    for (int i = 0; i < r->n_epochs; i++) {
        const struct trainer_epoch *e = &r->history[i];
        len += (size_t)snprintf(meta + len, cap - len, "%s%d:%ld:%.17g:%.17g:%.17g", i ? ";" : "",
                                e->epoch, e->step, e->loss, e->acc, e->heldout_acc);
    }
    snprintf(meta + len, cap - len, "\n");
    struct train_ckpt_info info = {.step = (uint64_t)t->step, .epoch = (uint64_t)(t->step / t->spe), .meta = meta};
    train_rng_seed(&info.rng, t->o->seed);
    int rc = train_ckpt_save(t->o->ckpt, t->t, t->n_t, &info);
    fh_free(meta);
    return rc;
}

static int restore_history(struct trainer *t, const char *meta) {
    char v[64];
    double *dst[3] = {&t->ep_loss, &t->ep_acc, &t->ep_aux};
    const char *keys[3] = {"ep_loss", "ep_acc", "ep_aux"};
    for (int i = 0; i < 3; i++) {
        if (train_meta_get(meta, keys[i], v, sizeof v)) return fh_fail(FH_E_FORMAT, "checkpoint: no %s", keys[i]);
        *dst[i] = strtod(v, NULL);
    }
    if (train_meta_get(meta, "ep_n", v, sizeof v)) return fh_fail(FH_E_FORMAT, "checkpoint: no ep_n");
    t->ep_n = strtol(v, NULL, 10);
    const char *h = strstr(meta, "\nhistory=");
    if (!h) return fh_fail(FH_E_FORMAT, "checkpoint: no history");
    h += 9;
    int n = *h && *h != '\n';
    for (const char *p = h; *p && *p != '\n'; p++) n += *p == ';';
    if (n > TRAINER_MAX_EPOCHS) return fh_fail(FH_E_FORMAT, "checkpoint: %d history entries", n);
    struct trainer_result *r = t->res;
    if (n && !(r->history = fh_calloc((size_t)n, sizeof *r->history)))
        return fh_fail(FH_E_NOMEM, "trainer: no memory for the history");
    for (int i = 0; i < n; i++) {
        struct trainer_epoch *e = &r->history[i];
        char *end;
        e->epoch = (int)strtol(h, &end, 10);
        if (*end != ':') return fh_fail(FH_E_FORMAT, "checkpoint: bad history entry %d", i);
        e->step = strtol(end + 1, &end, 10);
        if (*end != ':') return fh_fail(FH_E_FORMAT, "checkpoint: bad history entry %d", i);
        e->loss = strtod(end + 1, &end);
        if (*end != ':') return fh_fail(FH_E_FORMAT, "checkpoint: bad history entry %d", i);
        e->acc = strtod(end + 1, &end);
        if (*end != ':') return fh_fail(FH_E_FORMAT, "checkpoint: bad history entry %d", i);
        e->heldout_acc = strtod(end + 1, &end);
        h = end + (*end == ';');
        r->n_epochs = i + 1;
    }
    return FH_OK;
}

int trainer_restore(struct trainer *t) {
    const char *path = t->o->resume;
    struct train_ckpt *ck;
    int rc = train_ckpt_read(path, &ck);
    if (rc) {
        char msg[400];
        snprintf(msg, sizeof msg, "%s", fh_errmsg());
        return fh_fail(rc, "--resume %s: %s", path, msg);
    }
    struct train_ckpt_info info;
    train_ckpt_get_info(ck, &info);
    char want[512], got[256];
    settings(t, want, sizeof want);
    // every settings line must be in the checkpoint with the same value
    for (const char *p = want; !rc && *p;) {
        const char *eq = strchr(p, '='), *eol = strchr(p, '\n');
        char key[32], val[200];
        snprintf(key, sizeof key, "%.*s", (int)(eq - p), p);
        snprintf(val, sizeof val, "%.*s", (int)(eol - eq - 1), eq + 1);
        if (train_meta_get(info.meta, key, got, sizeof got) || strcmp(got, val))
            rc = fh_fail(FH_E_ARG, "--resume %s: the checkpoint was made with %s=%s, this run has %s=%s",
                         path, key, train_meta_get(info.meta, key, got, sizeof got) ? "(none)" : got, key, val);
        p = eol + 1;
    }
    if (!rc && info.step > (uint64_t)t->total)
        rc = fh_fail(FH_E_ARG, "--resume %s: step %llu is past the %ld steps of this run", path,
                     (unsigned long long)info.step, t->total);
    if (!rc && (rc = train_ckpt_restore(ck, t->t, t->n_t, 1))) {
        char msg[400];
        snprintf(msg, sizeof msg, "%s", fh_errmsg());
        rc = fh_fail(rc, "--resume %s does not fit this net: %s", path, msg);
    }
    if (!rc) rc = restore_history(t, info.meta);
    if (!rc) rc = train_loss_params_changed(t->head);
    if (!rc) {
        nn_net_weights_changed(t->net);
        t->step = (long)info.step;
        t->res->resumed_from = t->step;
    }
    train_ckpt_free(ck);
    return rc;
}

int trainer_export(struct trainer *t) {
    const struct trainer_opts *o = t->o;
    int rc = nn_net_optimize(t->net, NN_PASSES_EXPORT);
    if (rc) return rc;
    char training[1024], data[600] = "", loss[64], steps[32];
    size_t dl = 0;
    for (int i = 0; i < o->n_roots; i++)
        dl += (size_t)snprintf(data + dl, sizeof data - dl > 1 ? sizeof data - dl : 1, "%s%s", i ? "," : "", o->roots[i]);
    snprintf(loss, sizeof loss, "%s%s", loss_name(o->loss), o->loss == TRAIN_LOSS_TRIPLET && o->triplet_hardest ? "-hard" : "");
    snprintf(steps, sizeof steps, "%ld", t->step);
    snprintf(training, sizeof training,
             "loss=%s s=%g m=%g lambda=%g margin=%g clusters=%d batch=%d epochs=%d steps=%ld lr=%g "
             "momentum=%g wd=%g clip=%g warmup=%ld sched=%s seed=%llu bn=%d init=%s data=%s ids=%d-%d "
             "images=%d identities=%d augment=%d",
             loss, t->lo.s, t->lo.m, t->lo.center_lambda, t->lo.triplet_margin,
             t->lo.kind == TRAIN_LOSS_TWO_LEVEL ? t->lo.n_clusters : 0, t->B, o->epochs, t->step, o->lr,
             o->momentum, o->wd, o->clip, t->sched.warmup, o->sched == TRAIN_SCHED_STEP ? "step" : "cosine",
             (unsigned long long)o->seed, t->bn, o->init ? o->init : "none", data, o->id_first, o->id_last,
             t->data.n, t->data.n_ids, o->augment);
    struct nn_meta meta = {0};
    const char *kv[][2] = {{"arch", t->arch}, {"embedding_size", "192"}, {"input_height", "112"},
                           {"input_width", "112"}, {"input_channels", "3"}, {"color_order", "RGB"},
                           {"input_mean", "127.5"}, {"input_scale", "0.0078125"},
                           {"producer", "facehatch train"}, {"training", training},
                           {"loss", loss}, {"steps", steps}};
    for (size_t i = 0; i < sizeof kv / sizeof *kv; i++) meta.key[meta.n] = kv[i][0], meta.value[meta.n++] = kv[i][1];
    return nn_net_save(t->net, o->out, &meta);
}
