// SPDX-License-Identifier: MIT
// SGD with momentum + weight decay, global-norm clipping, LR schedules (optim.h).
#include "train/optim.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"

struct train_sgd {
    int n;
    struct train_param *p;     // copies; p[i].name points into names
    float **buf;               // momentum per param (n floats, zeroed)
    char **mom_names;          // "<name>.mom"
    struct train_sgd_opts o;
};

void train_sgd_free(struct train_sgd *s) {
    if (!s) return;
    for (int i = 0; i < s->n; i++) {
        if (s->buf) fh_free(s->buf[i]);
        if (s->mom_names) fh_free(s->mom_names[i]);
    }
    fh_free(s->buf);
    fh_free(s->mom_names);
    fh_free(s->p);
    fh_free(s);
}

static int cmp_names(const void *a, const void *b) {
    return strcmp(**(const char *const *const *)a, **(const char *const *const *)b);
}

static int check_params(const struct train_param *p, int n) {
    for (int i = 0; i < n; i++) {
        if (!p[i].name || !p[i].name[0])
            return fh_fail(FH_E_ARG, "optim: param %d has no name", i);
        if (strlen(p[i].name) + 4 > TRAIN_CKPT_MAX_NAME)
            return fh_fail(FH_E_ARG, "optim: param name '%.40s...' too long", p[i].name);
        if (p[i].n && (!p[i].w || !p[i].g))
            return fh_fail(FH_E_ARG, "optim: param '%s' has no values or no gradient", p[i].name);
    }
    if (n < 2) return FH_OK;
    const char **idx = fh_malloc((size_t)n * sizeof *idx);
    const char ***pp = fh_malloc((size_t)n * sizeof *pp);
    if (!idx || !pp) {
        fh_free(idx), fh_free(pp);
        return fh_fail(FH_E_NOMEM, "optim: out of memory");
    }
    for (int i = 0; i < n; i++) idx[i] = p[i].name, pp[i] = &idx[i];
    qsort(pp, (size_t)n, sizeof *pp, cmp_names);
    int rc = FH_OK;
    for (int i = 1; i < n && !rc; i++)
        if (!strcmp(*pp[i], *pp[i - 1]))
            rc = fh_fail(FH_E_ARG, "optim: param name '%s' appears twice", *pp[i]);
    fh_free(idx), fh_free(pp);
    return rc;
}

int train_sgd_new(const struct train_param *p, int n, const struct train_sgd_opts *o,
                  struct train_sgd **out) {
    *out = NULL;
    if (n < 0 || (n > 0 && !p) || !o) return fh_fail(FH_E_ARG, "optim: bad parameter list");
    if (!(o->momentum >= 0 && o->momentum < 1))
        return fh_fail(FH_E_ARG, "optim: momentum %g not in [0, 1)", o->momentum);
    if (!(o->weight_decay >= 0 && isfinite(o->weight_decay)))
        return fh_fail(FH_E_ARG, "optim: weight decay %g not >= 0", o->weight_decay);
    if (!(o->clip_norm >= 0 && isfinite(o->clip_norm)))
        return fh_fail(FH_E_ARG, "optim: clip norm %g not >= 0", o->clip_norm);
    int rc = check_params(p, n);
    if (rc) return rc;
    struct train_sgd *s = fh_calloc(1, sizeof *s);
    if (!s) return fh_fail(FH_E_NOMEM, "optim: out of memory");
    s->o = *o;
    s->p = fh_calloc(n ? (size_t)n : 1, sizeof *s->p);
    s->buf = fh_calloc(n ? (size_t)n : 1, sizeof *s->buf);
    s->mom_names = fh_calloc(n ? (size_t)n : 1, sizeof *s->mom_names);
    if (!s->p || !s->buf || !s->mom_names) goto nomem;
    s->n = n;
    for (int i = 0; i < n; i++) {
        size_t len = strlen(p[i].name);
        s->p[i] = p[i];
        s->buf[i] = fh_calloc(p[i].n ? p[i].n : 1, sizeof(float));
        s->mom_names[i] = fh_malloc(len + 5);
        if (!s->buf[i] || !s->mom_names[i]) goto nomem;
        memcpy(s->mom_names[i], p[i].name, len);
        memcpy(s->mom_names[i] + len, ".mom", 5);
        s->p[i].name = s->mom_names[i]; // "<name>" is the prefix of "<name>.mom"
    }
    *out = s;
    return FH_OK;
nomem:
    train_sgd_free(s);
    return fh_fail(FH_E_NOMEM, "optim: out of memory for %d momentum buffers", n);
}

int train_sgd_n_params(const struct train_sgd *s) { return s->n; }

int train_sgd_state(struct train_sgd *s, int i, struct train_tensor *out) {
    if (i < 0 || i >= s->n) return fh_fail(FH_E_ARG, "optim: param %d out of range", i);
    memset(out, 0, sizeof *out);
    out->name = s->mom_names[i];
    out->rank = 1;
    out->dims[0] = (int)s->p[i].n;
    out->n = s->p[i].n;
    out->data = s->buf[i];
    return FH_OK;
}

void train_sgd_reset(struct train_sgd *s) {
    for (int i = 0; i < s->n; i++) memset(s->buf[i], 0, s->p[i].n * sizeof(float));
}

int train_sgd_step(struct train_sgd *s, float lr, struct train_sgd_report *rep) {
    if (!(lr >= 0 && isfinite(lr))) return fh_fail(FH_E_ARG, "optim: learning rate %g", lr);
    double ss = 0;
    for (int i = 0; i < s->n; i++) {
        const float *g = s->p[i].g;
        double si = 0;
        for (size_t k = 0; k < s->p[i].n; k++) si += (double)g[k] * g[k];
        if (!isfinite(si)) {
            size_t len = strlen(s->mom_names[i]) - 4;
            return fh_fail(FH_E_ARG, "optim: gradient of '%.*s' is not finite: step skipped",
                           (int)len, s->mom_names[i]);
        }
        ss += si;
    }
    double norm = sqrt(ss), clip = 1;
    if (s->o.clip_norm > 0) {
        double c = s->o.clip_norm / (norm + 1e-6); // torch clip_grad_norm_
        if (c < 1) clip = c;
    }
    if (rep) rep->grad_norm = norm, rep->clip = clip;
    float cf = (float)clip, mu = s->o.momentum, wd = s->o.weight_decay;
    for (int i = 0; i < s->n; i++) {
        float *w = s->p[i].w, *b = s->buf[i];
        const float *g = s->p[i].g;
        int decay = s->p[i].decay && wd != 0;
        for (size_t k = 0; k < s->p[i].n; k++) {
            float d = clip < 1 ? g[k] * cf : g[k];
            if (decay) d += wd * w[k];
            b[k] = mu * b[k] + d;
            w[k] -= lr * b[k];
        }
    }
    return FH_OK;
}

// ---- schedules ---------------------------------------------------------------------------

int train_sched_check(const struct train_sched *s) {
    if (!(s->lr > 0 && isfinite(s->lr))) return fh_fail(FH_E_ARG, "schedule: lr %g not > 0", s->lr);
    if (s->warmup < 0) return fh_fail(FH_E_ARG, "schedule: warm-up %ld < 0", s->warmup);
    switch (s->kind) {
    case TRAIN_SCHED_CONST:
        return FH_OK;
    case TRAIN_SCHED_COSINE:
        if (s->total <= s->warmup)
            return fh_fail(FH_E_ARG, "schedule: total steps %ld not > warm-up %ld", s->total,
                           s->warmup);
        if (!(s->floor >= 0 && s->floor <= s->lr))
            return fh_fail(FH_E_ARG, "schedule: floor %g not in [0, lr %g]", s->floor, s->lr);
        return FH_OK;
    case TRAIN_SCHED_STEP:
        if (!(s->gamma > 0 && s->gamma <= 1))
            return fh_fail(FH_E_ARG, "schedule: gamma %g not in (0, 1]", s->gamma);
        if (s->n_milestones < 0 || s->n_milestones > TRAIN_SCHED_MAX_MILESTONES)
            return fh_fail(FH_E_ARG, "schedule: %d milestones (0..%d)", s->n_milestones,
                           TRAIN_SCHED_MAX_MILESTONES);
        for (int i = 0; i < s->n_milestones; i++)
            if (s->milestones[i] < 0 || (i && s->milestones[i] <= s->milestones[i - 1]))
                return fh_fail(FH_E_ARG, "schedule: milestone %d (%ld) not increasing", i,
                               s->milestones[i]);
        return FH_OK;
    }
    return fh_fail(FH_E_ARG, "schedule: unknown kind %d", s->kind);
}

float train_sched_lr(const struct train_sched *s, long step) {
    if (step < 0) step = 0;
    if (step < s->warmup) return (float)((double)s->lr * (double)(step + 1) / (double)s->warmup);
    if (s->kind == TRAIN_SCHED_COSINE) {
        if (step >= s->total) return s->floor;
        double t = (double)(step - s->warmup) / (double)(s->total - s->warmup);
        return (float)(s->floor + (s->lr - (double)s->floor) * 0.5 * (1 + cos(M_PI * t)));
    }
    if (s->kind == TRAIN_SCHED_STEP) {
        double lr = s->lr;
        for (int i = 0; i < s->n_milestones; i++)
            if (step >= s->milestones[i]) lr *= s->gamma;
        return (float)lr;
    }
    return s->lr;
}
