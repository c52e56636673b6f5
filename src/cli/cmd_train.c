// SPDX-License-Identifier: MIT
// facehatch train: trains an embedder on identity folders (train/trainer.h) and writes it
// as our model file; facehatch eval pairs: held-out pair verification of any embedder on
// identity folders (train/evalpairs.h). Progress on stderr, JSON on stdout.
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "train/trainer.h"

static const char *USAGE =
    "train --data DIR [--data DIR2] --loss L --out MODEL [--init MODEL|TFLITE] [--arch A]\n"
    "    [--epochs N] [--batch B] [--lr X] [--wd X] [--momentum X] [--clip X] [--warmup N]\n"
    "    [--sched cosine|step] [--seed S] [--threads N] [--ids A-B] [--eval-ids A-B]\n"
    "    [--eval-every-epoch] [--no-flip] [--resume CKPT] [--ckpt FILE] [--ckpt-every N]\n"
    "    [--cache DIR|none] [--no-augment] [--[no-]imprint] [--max-steps N] [--json]\n"
    "    [--s X] [--m X] [--lambda X] [--alpha X] [--margin X] [--k K] [--clusters K]\n"
    "    [--two-level-margin softmax|cosface|arcface]\n"
    "  L: softmax|triplet|triplet-hard|center|sphereface|cosface|arcface|two-level\n"
    "  A: mobilefacenet (default; the pretrained shape) or mfn-s (small, for 2 cores)\n"
    "  --init: start from a MobileFaceNet-shaped .tflite or .fhm (no batch norm then); the\n"
    "    classifier rows then start at the class centres of its embeddings (--no-imprint: random)\n"
    "  --ids / --eval-ids: identity folders by position in natural order (celeb_2 < celeb_10),\n"
    "    inclusive; --eval-ids scores all same/different pairs of those at the end\n"
    "  --ckpt: checkpoint file (default MODEL.ckpt), written every --ckpt-every steps (default\n"
    "    500) and at every epoch end; --resume CKPT continues it exactly (same options)\n"
    "  --cache: aligned-crop cache (default $XDG_CACHE_HOME/facehatch/crops)";

static const char *EVAL_USAGE =
    "eval pairs --data DIR [--data DIR2] --ids A-B [--embedder MODEL] [--no-flip]\n"
    "    [--cache DIR|none] [--threads N]\n"
    "  all same/different pairs of the identities A-B: 10-fold (balanced) accuracy and TAR at\n"
    "  FAR 1e-3; MODEL: a .fhm or .tflite embedder (default the pretrained MobileFaceNet)";

static const char *LOSSES[] = {"softmax", "triplet", "center", "sphereface", "cosface", "arcface", "two-level"};

static int parse_range(const char *s, int *a, int *b) {
    char *end;
    long x = strtol(s, &end, 10);
    if (end == s || *end != '-') return -1;
    const char *s2 = end + 1;
    long y = strtol(s2, &end, 10);
    if (end == s2 || *end || x < 0 || y < x || y > 100000000) return -1;
    *a = (int)x, *b = (int)y;
    return 0;
}

static int parse_num(const char *s, double lo, double hi, double *out) {
    char *end;
    double v = s ? strtod(s, &end) : 0;
    if (!s || end == s || *end || !(v >= lo && v <= hi)) return -1;
    *out = v;
    return 0;
}

static char cache_buf[4096];
static const char *default_cache(void) {
    const char *x = getenv("XDG_CACHE_HOME"), *h = getenv("HOME");
    if (x && x[0] == '/') snprintf(cache_buf, sizeof cache_buf, "%s/facehatch/crops", x);
    else if (h && *h) snprintf(cache_buf, sizeof cache_buf, "%s/.cache/facehatch/crops", h);
    else return NULL;
    return cache_buf;
}

// ---- progress on stderr ---------------------------------------------------------------------
struct prog {
    int tty, json;
    double last;
    const struct trainer_opts *o;
};

static double mono(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void fmt_eta(double s, char *buf, size_t n) {
    long x = s > 0 && s < 1e8 ? (long)(s + 0.5) : 0;
    if (x >= 3600) snprintf(buf, n, "%ldh%02ldm", x / 3600, x / 60 % 60);
    else snprintf(buf, n, "%ldm%02lds", x / 60, x % 60);
}

static void on_progress(void *arg, const struct trainer_progress *p) {
    struct prog *g = arg;
    double now = mono();
    char eta[32];
    switch (p->phase) {
    case TRAINER_LOAD:
        if (g->tty && (now - g->last > 0.2 || p->step == p->total_steps))
            fprintf(stderr, "\rloading faces %ld/%ld\033[K", p->step, p->total_steps), g->last = now;
        if (p->step == p->total_steps && g->tty) fputc('\n', stderr);
        break;
    case TRAINER_STEP:
        if ((g->tty && now - g->last < 0.25 && p->step != p->total_steps) || (!g->tty && now - g->last < 10)) break;
        g->last = now;
        fmt_eta(p->eta_s, eta, sizeof eta);
        fprintf(stderr, "%sstep %ld/%ld epoch %d/%d loss %.4f acc %.3f lr %.4g %.1f img/s ETA %s%s",
                g->tty ? "\r" : "", p->step, p->total_steps, p->epoch + 1, p->epochs, p->loss, p->acc,
                p->lr, p->images_per_s, eta, g->tty ? "\033[K" : "\n");
        break;
    case TRAINER_EPOCH:
        fprintf(stderr, "%sepoch %d: loss %.4f acc %.3f", g->tty ? "\r" : "", p->epoch + 1, p->loss, p->acc);
        if (p->heldout_acc >= 0) fprintf(stderr, " held-out acc %.4f", p->heldout_acc);
        fprintf(stderr, " (%.1f img/s)%s\n", p->images_per_s, g->tty ? "\033[K" : "");
        if (g->json) { // one line per epoch on stdout too (curves)
            printf("{\"epoch\":%d,\"step\":%ld,\"loss\":%.6f,\"acc\":%.6f", p->epoch + 1, p->step, p->loss, p->acc);
            if (p->heldout_acc >= 0) printf(",\"heldout_acc\":%.6f", p->heldout_acc);
            printf(",\"images_per_s\":%.2f}\n", p->images_per_s);
            fflush(stdout);
        }
        break;
    case TRAINER_EVAL:
        if (g->tty) fprintf(stderr, "\revaluating held-out pairs\033[K");
        break;
    case TRAINER_EXPORT:
        if (g->tty) fprintf(stderr, "\rwriting %s\033[K\n", g->o->out);
        break;
    }
}

// ---- JSON ----------------------------------------------------------------------------------
static void json_heldout(const struct evalpairs_result *h, const char *ids) {
    printf("{\"ids\":\"%s\",\"images\":%d,\"identities\":%d,\"same_pairs\":%ld,\"diff_pairs\":%ld,"
           "\"acc\":%.6f,\"acc_std\":%.6f,\"acc_plain\":%.6f,\"threshold\":%.6f,\"tar\":%.6f,\"far\":%.3g,"
           "\"far_threshold\":%.6f}", ids, h->n_images, h->n_ids, h->n_same, h->n_diff, h->acc, h->acc_std,
           h->acc_plain, h->threshold, h->tar, h->far, h->far_threshold);
}

static void json_summary(const struct trainer_opts *o, const char *loss, const struct trainer_result *r,
                         const char *eval_ids) {
    printf("{\"model\":");
    json_str(stdout, o->out);
    printf(",\"arch\":\"%s\",\"loss\":\"%s\",\"init\":", r->arch ? r->arch : "?", loss);
    if (o->init) json_str(stdout, o->init);
    else printf("null");
    printf(",\"images\":%d,\"identities\":%d,\"skipped\":%d,\"batch\":%d,\"epochs\":%d,\"steps\":%ld,"
           "\"steps_run\":%ld,\"resumed_from\":%ld,\"final_loss\":%.6f,\"train_acc\":%.6f,"
           "\"images_per_s\":%.2f,\"train_s\":%.2f,\"total_s\":%.2f,\"threads\":%d,\"head_bytes\":%zu",
           r->n_images, r->n_ids, r->n_skipped, o->batch, o->epochs, r->steps, r->steps_run, r->resumed_from,
           r->final_loss, r->final_acc, r->images_per_s, r->train_s, r->total_s, o->threads, r->head_bytes);
    if (r->two_level_cluster_acc >= 0) printf(",\"cluster_acc\":%.6f", r->two_level_cluster_acc);
    printf(",\"history\":[");
    for (int i = 0; i < r->n_epochs; i++) {
        const struct trainer_epoch *e = &r->history[i];
        printf("%s{\"epoch\":%d,\"step\":%ld,\"loss\":%.6f,\"acc\":%.6f", i ? "," : "", e->epoch + 1, e->step,
               e->loss, e->acc);
        if (e->heldout_acc >= 0) printf(",\"heldout_acc\":%.6f", e->heldout_acc);
        printf("}");
    }
    printf("]");
    if (r->has_heldout) printf(",\"heldout\":"), json_heldout(&r->heldout, eval_ids);
    printf("}\n");
}

// ---- shared option parsing ------------------------------------------------------------------
#define MAX_ROOTS 16
struct targs {
    const char *roots[MAX_ROOTS];
    int n_roots;
    const char *cache;
    int no_cache;
    char ids[64], eval_ids[64];
    const char *loss;
};

// Takes the options cli_parse does not know out of argv (into o and a), leaving the rest.
// Returns 0, or EXIT_USAGE after printing the problem.
static int take(int *argc, char **argv, struct trainer_opts *o, struct targs *a, const char *usage) {
    int k = 0;
    for (int i = 0; i < *argc; i++) {
        const char *x = argv[i], *v = i + 1 < *argc ? argv[i + 1] : NULL;
        double d;
        int bad = 0, used = 1;
        if (!strcmp(x, "--data")) {
            if (!v || a->n_roots == MAX_ROOTS) bad = 1;
            else a->roots[a->n_roots++] = v;
        } else if (!strcmp(x, "--ids") || !strcmp(x, "--eval-ids")) {
            int e = x[2] == 'e';
            if (!v || parse_range(v, e ? &o->eval_first : &o->id_first, e ? &o->eval_last : &o->id_last)) bad = 1;
            else snprintf(e ? a->eval_ids : a->ids, sizeof a->ids, "%s", v);
        } else if (!strcmp(x, "--cache")) {
            if (!v) bad = 1;
            else if (!strcmp(v, "none")) a->no_cache = 1;
            else a->cache = v;
        } else if (!strcmp(x, "--loss")) {
            if (!v) bad = 1;
            else a->loss = v;
        } else if (!strcmp(x, "--out") || !strcmp(x, "--init") || !strcmp(x, "--arch") ||
                   !strcmp(x, "--resume") || !strcmp(x, "--ckpt")) {
            const char **dst = x[2] == 'o' ? &o->out : x[2] == 'i' ? &o->init : x[2] == 'a' ? &o->arch
                             : x[2] == 'r' ? &o->resume : &o->ckpt;
            if (!v) bad = 1;
            else *dst = v;
        } else if (!strcmp(x, "--sched")) {
            if (v && !strcmp(v, "cosine")) o->sched = TRAIN_SCHED_COSINE;
            else if (v && !strcmp(v, "step")) o->sched = TRAIN_SCHED_STEP;
            else bad = 1;
        } else if (!strcmp(x, "--two-level-margin")) {
            if (v && !strcmp(v, "softmax")) o->two_level_margin = TRAIN_LOSS_SOFTMAX;
            else if (v && !strcmp(v, "cosface")) o->two_level_margin = TRAIN_LOSS_COSFACE;
            else if (v && !strcmp(v, "arcface")) o->two_level_margin = TRAIN_LOSS_ARCFACE;
            else bad = 1;
        } else if (!strcmp(x, "--epochs") || !strcmp(x, "--batch") || !strcmp(x, "--k") || !strcmp(x, "--clusters")) {
            int *dst = x[2] == 'e' ? &o->epochs : x[2] == 'b' ? &o->batch : x[2] == 'k' ? &o->pk_k : &o->clusters;
            if (parse_num(v, 1, 1e6, &d) || d != (int)d) bad = 1;
            else *dst = (int)d;
        } else if (!strcmp(x, "--max-steps") || !strcmp(x, "--ckpt-every") || !strcmp(x, "--warmup")) {
            long *dst = x[3] == 'a' ? &o->max_steps : x[2] == 'c' ? &o->ckpt_every : &o->warmup;
            if (parse_num(v, 0, 1e12, &d) || d != (long)d) bad = 1;
            else *dst = (long)d;
        } else if (!strcmp(x, "--seed")) {
            if (parse_num(v, 0, 1e15, &d) || d != (double)(uint64_t)d) bad = 1;
            else o->seed = (uint64_t)d;
        } else if (!strcmp(x, "--lr") || !strcmp(x, "--wd") || !strcmp(x, "--momentum") || !strcmp(x, "--clip") ||
                   !strcmp(x, "--s") || !strcmp(x, "--m") || !strcmp(x, "--lambda") || !strcmp(x, "--alpha") ||
                   !strcmp(x, "--margin")) {
            float *dst = !strcmp(x, "--lr") ? &o->lr : !strcmp(x, "--wd") ? &o->wd : !strcmp(x, "--momentum") ? &o->momentum
                       : !strcmp(x, "--clip") ? &o->clip : !strcmp(x, "--s") ? &o->s : !strcmp(x, "--m") ? &o->m
                       : !strcmp(x, "--lambda") ? &o->center_lambda : !strcmp(x, "--alpha") ? &o->center_alpha
                       : &o->triplet_margin;
            if (parse_num(v, 0, 1e4, &d)) bad = 1;
            else *dst = (float)d;
        } else if (!strcmp(x, "--eval-every-epoch")) {
            o->eval_every_epoch = 1, used = 0;
        } else if (!strcmp(x, "--no-augment")) {
            o->augment = 0, used = 0;
        } else if (!strcmp(x, "--imprint") || !strcmp(x, "--no-imprint")) {
            o->imprint = x[2] == 'i', used = 0;
        } else {
            argv[k++] = argv[i];
            continue;
        }
        if (bad) {
            fprintf(stderr, "facehatch: option '%s' needs a valid value\nusage: facehatch %s\n", x, usage);
            return EXIT_USAGE;
        }
        i += used;
    }
    *argc = k;
    return 0;
}

static int need_data(const struct targs *a, const char *usage) {
    if (a->n_roots) return 0;
    fprintf(stderr, "facehatch: --data DIR is required\nusage: facehatch %s\n", usage);
    return EXIT_USAGE;
}

int cmd_train(int argc, char **argv) {
    struct trainer_opts o = trainer_opts_default();
    struct targs a = {0};
    o.ckpt_every = 500;
    int rc = take(&argc, argv, &o, &a, USAGE);
    struct cli_opts c;
    if (!rc) rc = cli_parse(&argc, argv, &c, USAGE);
    if (rc) return rc;
    if (argc) {
        fprintf(stderr, "facehatch: train takes no positional argument ('%s')\nusage: facehatch %s\n", argv[0], USAGE);
        return EXIT_USAGE;
    }
    if ((rc = need_data(&a, USAGE))) return rc;
    if (!o.out || !a.loss) {
        fprintf(stderr, "facehatch: train needs --loss and --out\nusage: facehatch %s\n", USAGE);
        return EXIT_USAGE;
    }
    o.loss = -1;
    for (int i = 0; i < TRAIN_LOSS_COUNT; i++)
        if (!strcmp(a.loss, LOSSES[i])) o.loss = i;
    if (!strcmp(a.loss, "triplet-hard")) o.loss = TRAIN_LOSS_TRIPLET, o.triplet_hardest = 1;
    if (o.loss < 0) {
        fprintf(stderr, "facehatch: unknown loss '%s'\nusage: facehatch %s\n", a.loss, USAGE);
        return EXIT_USAGE;
    }
    if (o.arch && strcmp(o.arch, "mobilefacenet") && strcmp(o.arch, "mfn-s")) {
        fprintf(stderr, "facehatch: unknown --arch '%s' (mobilefacenet, mfn-s)\n", o.arch);
        return EXIT_USAGE;
    }
    o.roots = a.roots, o.n_roots = a.n_roots;
    o.cache_dir = a.no_cache ? NULL : a.cache ? a.cache : default_cache();
    o.threads = c.threads, o.force_ref = c.ref, o.eval_flip = c.flip;
    char ckpt[4200];
    if (!o.ckpt) snprintf(ckpt, sizeof ckpt, "%s.ckpt", o.out), o.ckpt = ckpt;
    struct prog g = {.tty = isatty(2), .json = c.json, .o = &o};
    o.progress = on_progress, o.progress_arg = &g;
    struct fh_models *m;
    if ((rc = cli_models_load(&c, &m))) return rc;
    struct trainer_result r;
    int err = trainer_run(m, &o, &r);
    if (g.tty) fprintf(stderr, "\r\033[K");
    if (err) fprintf(stderr, "facehatch: train: %s\n", fh_errmsg());
    else json_summary(&o, a.loss, &r, a.eval_ids);
    trainer_result_free(&r);
    fh_models_free(m);
    return err ? EXIT_FAIL : EXIT_OK;
}

int cmd_eval_pairs(int argc, char **argv) {
    struct trainer_opts o = trainer_opts_default();
    struct targs a = {0};
    int rc = take(&argc, argv, &o, &a, EVAL_USAGE);
    struct cli_opts c;
    if (!rc) rc = cli_parse(&argc, argv, &c, EVAL_USAGE);
    if (rc) return rc;
    if ((rc = need_data(&a, EVAL_USAGE))) return rc;
    if (argc || o.id_first < 0) {
        fprintf(stderr, "facehatch: eval pairs needs --ids A-B and no positional argument\nusage: facehatch %s\n", EVAL_USAGE);
        return EXIT_USAGE;
    }
    struct fh_models *m;
    if ((rc = cli_models_load(&c, &m))) return rc;
    char mfn[4200];
    snprintf(mfn, sizeof mfn, "%s/MobileFaceNet.tflite", c.models);
    const char *model = c.embedder ? c.embedder : mfn;
    struct nn_net *net;
    struct emb_prep prep;
    if (evalpairs_load_model(model, c.ref, &net, &prep)) {
        fprintf(stderr, "facehatch: %s\n", fh_errmsg());
        fh_models_free(m);
        return EXIT_FAIL;
    }
    struct train_data_options d_o = train_data_options_default();
    d_o.roots = a.roots, d_o.n_roots = a.n_roots, d_o.id_first = o.id_first, d_o.id_last = o.id_last;
    d_o.cache_dir = a.no_cache ? NULL : a.cache ? a.cache : default_cache();
    d_o.n_threads = c.threads;
    struct train_dataset d;
    struct evalpairs_result r;
    struct fh_pool *pool = NULL;
    int err = train_dataset_load(m, &d_o, &d);
    if (!err && !(pool = fh_pool_new(c.threads))) err = FH_E_NOMEM;
    if (!err) err = evalpairs_run(net, prep, &d, c.flip, pool, &r);
    if (err) {
        fprintf(stderr, "facehatch: eval pairs: %s\n", fh_errmsg());
    } else {
        printf("{\"model\":");
        json_str(stdout, model);
        printf(",\"flip\":%d,\"skipped\":%d,\"heldout\":", c.flip, d.n_skipped);
        json_heldout(&r, a.ids);
        printf("}\n");
    }
    if (pool) fh_pool_free(pool);
    train_dataset_free(&d);
    nn_net_free(net);
    fh_models_free(m);
    return err ? EXIT_FAIL : EXIT_OK;
}
