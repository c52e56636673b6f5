// SPDX-License-Identifier: MIT
// facehatch eval review: the review queue measured by simulation (issue 12, part 2). A draw's
// library (eval_draw.h: LFW identities with 4..9 images + strangers) is built once; then for
// each order a copy of it is reviewed by a simulated user who knows the LFW labels of the
// subjects (each image's central face) and nobody else, answering --answers questions:
//   gain:   lib_review's questions, most expected gain first. "Are these two persons one?":
//           merged when most subjects of both are one identity, else set apart
//           (lib_persons_apart); a skip when the user knows neither. "Are these P?": the faces of
//           P's identity (the one most of P's subjects are) are moved into P, then
//           lib_review_pull lets P's new neighbours follow; the others get "not P". "Who
//           is this?": the faces of the group's main identity go into that identity's person
//           (or a new one), then pulled along likewise.
//   gain-nopull: the same without the pull (what the pull adds).
//   today:  lib_unknown_faces' order (faces with a suggestion first, nearest first, then by
//           id), one face per answer: yes (move) / no (reject) to its suggestion; without one,
//           into its identity's person (or a new person of one face). No pull.
//   random: the same answers, faces in random order.
// Faces that are no subject (people in the background) are unknown to the user: an answer
// about only such faces is a skip (they are not asked again). BCubed F over the subjects is
// taken every 10 answers; --plot writes the curves (SVG).
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/eval_draw.h"

enum { ORDER_GAIN, ORDER_GAIN_NOPULL, ORDER_TODAY, ORDER_RANDOM, N_ORDERS };
static const char *const order_name[N_ORDERS] = {"gain", "gain-nopull", "today", "random"};
#define STEP 10 // answers between two scores
// answers to "is this P?" by the distance of the suggestion (0.80..1.20 in bins of 0.05):
// what p_yes(distance) of the review queue is checked against (printed at the end)
#define CAL_BINS 8
static int cal_yes[CAL_BINS], cal_all[CAL_BINS];
static int mcal_yes[CAL_BINS], mcal_all[CAL_BINS]; // the same for "are these two persons one?"
static int bin_of(float d) {
    int b = (int)((d - 0.80f) / 0.05f);
    return b < 0 ? 0 : b >= CAL_BINS ? CAL_BINS - 1 : b;
}
static void cal_add(float d, int yes) { cal_all[bin_of(d)]++, cal_yes[bin_of(d)] += yes; }
static void merge_cal_add(float d, int yes) { mcal_all[bin_of(d)]++, mcal_yes[bin_of(d)] += yes; }

// the simulated user's knowledge and the library's current state
struct sim {
    struct lib *L;
    struct lib_options lo;
    struct subject *sj;         // the subjects (face id -> truth), sorted by face id
    int n;
    int64_t *skip;              // faces the user does not know and was asked about
    int n_skip, cap_skip;
    int64_t *mskip;             // persons of "same person?" questions the user could not answer
    int n_mskip, cap_mskip;
    int64_t *fid, *fperson;     // every face and its person now (sorted by face id)
    int nf, capf;
};

static int cmp_subject(const void *a, const void *b) {
    int64_t x = ((const struct subject *)a)->face, y = ((const struct subject *)b)->face;
    return (x > y) - (x < y);
}
// the truth of a face: its identity, or -1 (no subject: unknown to the user)
static int truth_of(const struct sim *s, int64_t face) {
    struct subject key = {.face = face};
    const struct subject *r = bsearch(&key, s->sj, (size_t)s->n, sizeof *s->sj, cmp_subject);
    return r ? r->truth : -1;
}
static int skipped(const struct sim *s, int64_t face) {
    for (int i = 0; i < s->n_skip; i++)
        if (s->skip[i] == face) return 1;
    return 0;
}
static int skip_add(struct sim *s, int64_t face) {
    if (fh_grow((void **)&s->skip, &s->cap_skip, s->n_skip + 1, sizeof *s->skip)) return FH_E_NOMEM;
    s->skip[s->n_skip++] = face;
    return FH_OK;
}

static int state_cb(void *ctx, const struct store_face *f) {
    struct sim *s = ctx;
    int cap = s->capf;
    if (fh_grow((void **)&s->fid, &cap, s->nf + 1, sizeof *s->fid) ||
        fh_grow((void **)&s->fperson, &s->capf, s->nf + 1, sizeof *s->fperson))
        return 1;
    s->fid[s->nf] = f->id, s->fperson[s->nf++] = f->person_id;
    return 0;
}
static int refresh(struct sim *s) {
    s->nf = 0;
    return store_faces_each(lib_store(s->L), LIB_OWNER_LOCAL, 0, state_cb, s);
}
// the identity the user sees in a person: the one most of its subjects are (-1: none)
static int identity_of(const struct sim *s, int64_t person, int n_ids) {
    int *votes = fh_calloc((size_t)n_ids, sizeof *votes), best = -1;
    if (!votes) return -1;
    for (int i = 0; i < s->nf; i++) {
        if (s->fperson[i] != person) continue;
        int t = truth_of(s, s->fid[i]);
        if (t >= 0) votes[t]++;
    }
    for (int a = 0; a < n_ids; a++)
        if (votes[a] && (best < 0 || votes[a] > votes[best])) best = a;
    fh_free(votes);
    return best;
}
// the person the user sees as identity t (the largest holding most of t's subjects), or 0
static int64_t person_of(const struct sim *s, int t, int n_ids) {
    int64_t best = 0;
    int best_n = 0;
    for (int i = 0; i < s->nf; i++) {
        int64_t p = s->fperson[i];
        if (!p || truth_of(s, s->fid[i]) != t) continue;
        int cnt = 0;
        for (int j = 0; j < s->nf; j++) cnt += s->fperson[j] == p && truth_of(s, s->fid[j]) == t;
        if (cnt > best_n && identity_of(s, p, n_ids) == t) best = p, best_n = cnt;
    }
    return best;
}

// files `faces` (of identity t) where the user knows t is: its person, or a new one; then pull
static int file_under(struct sim *s, const int64_t *faces, int n, int t, int n_ids, int pull) {
    int64_t p = person_of(s, t, n_ids);
    int rc = p ? lib_move_faces(s->L, LIB_OWNER_LOCAL, faces, n, p) : lib_person_new(s->L, LIB_OWNER_LOCAL, NULL, faces, n, &p);
    int pulled = 0;
    if (!rc && pull) rc = lib_review_pull(s->L, LIB_OWNER_LOCAL, p, &s->lo, &pulled);
    return rc;
}

// one answer in the gain order; *asked 0 when no question is left
static int answer_gain(struct sim *s, int n_ids, int pull, int *asked) {
    struct lib_question *q = NULL;
    int nq = 0, rc = lib_review(s->L, LIB_OWNER_LOCAL, &s->lo, LIB_UNKNOWN_SCAN_MAX, &q, &nq);
    *asked = 0;
    for (int i = 0; !rc && i < nq && !*asked; i++) {
        int64_t yes[LIB_REVIEW_GROUP_MAX], no[LIB_REVIEW_GROUP_MAX];
        int ny = 0, nn = 0, fresh = 0;
        if (q[i].kind == LIB_Q_MERGE) { // "are these two persons one?"
            int ia = identity_of(s, q[i].person, n_ids), ib = identity_of(s, q[i].other, n_ids), seen = 0;
            for (int k = 0; k < s->n_mskip && !seen; k++) seen = s->mskip[k] == q[i].other;
            if (seen) continue;
            *asked = 1;
            merge_cal_add(q[i].distance, ia >= 0 && ia == ib);
            if (ia < 0 && ib < 0) { // two the user does not know: a skip
                if (fh_grow((void **)&s->mskip, &s->cap_mskip, s->n_mskip + 1, sizeof *s->mskip)) rc = FH_E_NOMEM;
                else s->mskip[s->n_mskip++] = q[i].other;
            } else if (ia == ib) {
                rc = lib_merge(s->L, LIB_OWNER_LOCAL, q[i].person, q[i].other);
            } else {
                rc = lib_persons_apart(s->L, LIB_OWNER_LOCAL, q[i].person, q[i].other);
            }
            continue;
        }
        for (int f = 0; f < q[i].n; f++) fresh += !skipped(s, q[i].face[f]);
        if (!fresh) continue;
        *asked = 1;
        if (q[i].person) { // "are these P?"
            int ip = identity_of(s, q[i].person, n_ids);
            for (int f = 0; f < q[i].n; f++) {
                int t = truth_of(s, q[i].face[f]);
                if (t >= 0 && t == ip) yes[ny++] = q[i].face[f];
                else no[nn++] = q[i].face[f];
            }
            cal_add(q[i].distance, ny > 0);
            if (ny && !(rc = lib_move_faces(s->L, LIB_OWNER_LOCAL, yes, ny, q[i].person)) && pull) {
                int pulled;
                rc = lib_review_pull(s->L, LIB_OWNER_LOCAL, q[i].person, &s->lo, &pulled);
            }
            if (!rc && nn) rc = lib_reject_faces(s->L, LIB_OWNER_LOCAL, no, nn, q[i].person);
        } else { // "who is this?": the group's main identity
            int *votes = fh_calloc((size_t)n_ids, sizeof *votes), top = -1;
            if (!votes) rc = FH_E_NOMEM;
            for (int f = 0; !rc && f < q[i].n; f++) {
                int t = truth_of(s, q[i].face[f]);
                if (t >= 0 && ++votes[t] > (top >= 0 ? votes[top] : 0)) top = t;
            }
            fh_free(votes);
            for (int f = 0; !rc && f < q[i].n; f++) {
                int t = truth_of(s, q[i].face[f]);
                if (t >= 0 && t == top) yes[ny++] = q[i].face[f];
                else if (t < 0) rc = skip_add(s, q[i].face[f]); // others stay for a later question
            }
            if (!rc && ny) rc = file_under(s, yes, ny, top, n_ids, pull);
        }
    }
    fh_free(q);
    return rc;
}

// one answer in today's order or a random one
static int answer_face(struct sim *s, int n_ids, int random_order, uint64_t *rng, int *asked) {
    struct lib_unknown *u = NULL;
    int n = 0, total = 0, rc = lib_unknown_faces(s->L, LIB_OWNER_LOCAL, LIB_UNKNOWN_SCAN_MAX, 0, &u, &n, &total);
    *asked = 0;
    int m = 0; // the faces still to ask about, in order
    for (int i = 0; !rc && i < n; i++)
        if (u[i].has_emb && !skipped(s, u[i].face.id) && !(u[i].face.assigned == STORE_USER)) u[m++] = u[i];
    if (!rc && m) {
        int pick = 0;
        if (random_order) {
            *rng ^= *rng << 13, *rng ^= *rng >> 7, *rng ^= *rng << 17; // xorshift64
            pick = (int)(*rng % (uint64_t)m);
        }
        const struct lib_unknown *x = &u[pick];
        int t = truth_of(s, x->face.id);
        *asked = 1;
        if (x->person) {
            int yes = t >= 0 && t == identity_of(s, x->person, n_ids);
            if (t >= 0) cal_add(x->distance, yes); // (a face unknown to the user tells nothing)
            if (yes) rc = lib_move_face(s->L, LIB_OWNER_LOCAL, x->face.id, x->person);
            else rc = lib_reject_face(s->L, LIB_OWNER_LOCAL, x->face.id, x->person);
        } else if (t >= 0) {
            rc = file_under(s, &x->face.id, 1, t, n_ids, 0);
        } else {
            rc = skip_add(s, x->face.id);
        }
    }
    fh_free(u);
    return rc;
}

// one order on a copy of the draw's library: F after every STEP answers into f[0..answers/STEP]
static int run_order(const struct cli_opts *o, struct draws *dw, int n_ids, const char *db, int order, int answers,
                     uint64_t seed, double *f, int *impure) {
    char copy[96];
    snprintf(copy, sizeof copy, "%s.%s", db, order_name[order]);
    uint8_t *buf;
    size_t nb;
    int rc = fh_read_file(db, (size_t)1 << 31, &buf, &nb);
    FILE *out = rc ? NULL : fopen(copy, "wb");
    if (!rc && (!out || fwrite(buf, 1, nb, out) != nb)) rc = fh_fail(FH_E_IO, "%s: cannot write", copy);
    if (out && fclose(out) && !rc) rc = fh_fail(FH_E_IO, "%s: cannot write", copy);
    if (!rc) fh_free(buf);
    struct sim s = {.lo = lib_options_default()};
    s.lo.threads = o->threads;
    struct draw_result r;
    uint64_t rng = seed | 1;
    if (!rc) rc = lib_open(copy, o->models, &s.L);
    if (!rc) rc = evp_score(s.L, dw->count, dw->ids, n_ids, &dw->l, 1, &r, &s.sj, NULL);
    s.n = rc ? 0 : r.subjects;
    if (!rc) qsort(s.sj, (size_t)s.n, sizeof *s.sj, cmp_subject);
    if (!rc) f[0] = r.c.bcubed_f;
    int left = 1;
    for (int a = 1; !rc && a <= answers; a++) {
        int asked = 0;
        if (left && !(rc = refresh(&s)))
            rc = order <= ORDER_GAIN_NOPULL ? answer_gain(&s, n_ids, order == ORDER_GAIN, &asked)
                                            : answer_face(&s, n_ids, order == ORDER_RANDOM, &rng, &asked);
        left = left && asked;
        if (!rc && a % STEP == 0) {
            // the last score names the identities an impure person mixes
            if (!(rc = evp_score(s.L, dw->count, dw->ids, n_ids, &dw->l, a + STEP <= answers, &r, NULL, NULL)))
                f[a / STEP] = r.c.bcubed_f;
            *impure = r.impure;
        }
    }
    fh_free(s.sj), fh_free(s.skip), fh_free(s.mskip), fh_free(s.fid), fh_free(s.fperson);
    lib_close(s.L);
    unlink(copy);
    return rc;
}

int eval_review_cmd(const struct cli_opts *o) {
    int n_known = o->known > 0 ? o->known : 100, draws = o->draws > 0 ? o->draws : 1;
    int answers = o->answers > 0 ? (o->answers + STEP - 1) / STEP * STEP : 200, np = answers / STEP + 1;
    if (cli_models_need(o)) return EXIT_FAIL;
    struct draws dw = {0};
    double *f = fh_calloc((size_t)(N_ORDERS * np * draws), sizeof *f);
    if (!f || evp_draws_open(o, n_known, &dw)) {
        fprintf(stderr, "facehatch: %s\n", f ? fh_errmsg() : "out of memory");
        evp_draws_free(&dw), fh_free(f);
        return EXIT_FAIL;
    }
    printf("eval review: %d LFW identities with 4..9 images + %d strangers, %d answers by a simulated user, %d "
           "draws from seed %d; BCubed F of the subjects after 0/10/50/200 answers\n", n_known, STRANGERS, answers,
           draws, o->seed);
    printf("%-5s %-11s %8s %8s %8s %8s %7s\n", "seed", "order", "F@0", "F@10", "F@50", "F@200", "impure");
    int rc = EXIT_OK;
    for (int d = 0; d < draws && rc == EXIT_OK; d++) {
        uint64_t rng;
        char dir[32], db[64];
        struct lib *L = NULL;
        double seconds;
        if (evp_draws_pick(&dw, o->seed + d, n_known, &rng) ||
            evp_build(o, &dw.l, dw.ids, n_known + STRANGERS, 1, &rng, dir, &L, &seconds)) {
            fprintf(stderr, "facehatch: %s\n", fh_errmsg());
            lib_close(L);
            rc = EXIT_FAIL;
            break;
        }
        lib_close(L);
        snprintf(db, sizeof db, "%s/lib.db", dir);
        for (int k = 0; k < N_ORDERS && rc == EXIT_OK; k++) {
            double *fk = f + ((size_t)k * draws + d) * np;
            int impure = 0;
            if (run_order(o, &dw, n_known + STRANGERS, db, k, answers, rng + (uint64_t)k, fk, &impure)) {
                fprintf(stderr, "facehatch: %s\n", fh_errmsg());
                rc = EXIT_FAIL;
                break;
            }
            double at[4];
            int pts[4] = {0, 10, 50, 200};
            for (int i = 0; i < 4; i++) at[i] = pts[i] <= answers ? fk[pts[i] / STEP] : fk[np - 1];
            printf("%-5d %-11s %8.4f %8.4f %8.4f %8.4f %7d\n", o->seed + d, order_name[k], at[0], at[1], at[2], at[3],
                   impure);
            fflush(stdout);
        }
        evp_rm_tree(dir);
    }
    if (rc == EXIT_OK) {
        // mean curves over the draws
        double *x = fh_malloc((size_t)np * sizeof *x), *mean = fh_calloc((size_t)(N_ORDERS * np), sizeof *mean);
        struct cli_curve c[N_ORDERS];
        if (!x || !mean) rc = EXIT_FAIL;
        for (int i = 0; rc == EXIT_OK && i < np; i++) x[i] = i * STEP;
        for (int k = 0; rc == EXIT_OK && k < N_ORDERS; k++) {
            for (int d = 0; d < draws; d++)
                for (int i = 0; i < np; i++) mean[k * np + i] += f[((size_t)k * draws + d) * np + i] / draws;
            c[k] = (struct cli_curve){x, mean + k * np, np, order_name[k]};
        }
        printf("{\"eval\":\"review\",\"ids\":%d,\"draws\":%d,\"seed\":%d,\"answers\":%d", n_known, draws, o->seed,
               answers);
        for (int k = 0; rc == EXIT_OK && k < N_ORDERS; k++) {
            printf(",\"%s\":[", order_name[k]);
            for (int i = 0; i < np; i++) printf("%s%.4f", i ? "," : "", mean[k * np + i]);
            printf("]");
        }
        printf("}\n");
        printf("# answers to \"is this P?\" by distance (all orders):");
        for (int b = 0; b < CAL_BINS; b++)
            if (cal_all[b]) printf(" %.2f-%.2f %d/%d", 0.80 + 0.05 * b, 0.85 + 0.05 * b, cal_yes[b], cal_all[b]);
        printf("\n# answers to \"are these two persons one?\" by distance (gain orders):");
        for (int b = 0; b < CAL_BINS; b++)
            if (mcal_all[b]) printf(" %.2f-%.2f %d/%d", 0.80 + 0.05 * b, 0.85 + 0.05 * b, mcal_yes[b], mcal_all[b]);
        printf("\n");
        double lo = 1;
        for (int i = 0; rc == EXIT_OK && i < N_ORDERS * np; i++) lo = mean[i] < lo ? mean[i] : lo;
        lo = floor(lo * 100 - 0.5) / 100; // the axis from a round value below the lowest point
        if (rc == EXIT_OK && o->plot &&
            cli_svg_curves(o->plot, "Review queue: BCubed F after each answer (simulated user, LFW)", "answers",
                           "BCubed F", c, N_ORDERS, 0, 0, answers, lo, 1.0)) {
            fprintf(stderr, "facehatch: %s\n", fh_errmsg());
            rc = EXIT_FAIL;
        }
        fh_free(x), fh_free(mean);
    }
    evp_draws_free(&dw), fh_free(f);
    return rc;
}
