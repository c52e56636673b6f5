// SPDX-License-Identifier: MIT
// facehatch eval ident: MegaFace-style identification with distractors, on LFW.
//
// Protocol (seeded with --seed, default 1; deterministic):
//   * mated identities: the 1,680 with >= 2 images. One image of each (chosen by the
//     seeded generator) goes into the gallery; the others are probes (7,484).
//   * single-image identities (4,069) are shuffled by the same generator: the first
//     1,000 are held out as non-mated probes (for the open-set measure), the rest form
//     the distractor pool ("all" = 3,069 distractors).
//   * rank-1 identification rate with the first 10, 100, 1,000 and all distractors of
//     the pool added to the gallery: a probe is correct when its nearest gallery face is
//     its identity's gallery image.
//   * open-set DIR at FAR = 1 % (all distractors): the threshold t lets 1 % of the
//     non-mated probes match anything (distance < t); DIR = share of mated probes whose
//     nearest gallery face is correct and closer than t.
// A probe without a face counts as a miss; a gallery image without a face leaves its
// identity unmatchable (its probes miss); distractors without a face are left out.
// --quick: the first 150 mated identities (by name), 500 distractors, 150 non-mated probes.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static uint64_t rng_state;
static uint64_t rnd(void) {
    rng_state ^= rng_state << 13, rng_state ^= rng_state >> 7, rng_state ^= rng_state << 17;
    return rng_state;
}
static void shuffle(int *a, int n) {
    for (int i = n - 1; i > 0; i--) {
        int j = (int)(rnd() % (uint64_t)(i + 1)), t = a[i];
        a[i] = a[j], a[j] = t;
    }
}

static float dot(const float *a, const float *b) {
    float s = 0;
    for (int k = 0; k < FH_EMB_DIM; k++) s += a[k] * b[k];
    return s;
}

int eval_ident_cmd(const struct cli_opts *in) {
    struct cli_opts opts = *in, *o = &opts;
    if (!o->min_face_given) o->min_face = 40;
    rng_state = 0x9E3779B97F4A7C15ull ^ ((uint64_t)o->seed * 0xD1B54A32D192ED03ull);
    if (!rng_state) rng_state = 1;
    struct cli_lfw l;
    if (cli_lfw_list(o->data, &l)) {
        fprintf(stderr, "facehatch: %s\n", fh_errmsg());
        return EXIT_FAIL;
    }
    int *first = fh_malloc((size_t)l.n_ids * sizeof(int)), *count = fh_calloc((size_t)l.n_ids, sizeof(int));
    int *gal_of = fh_malloc((size_t)l.n_ids * sizeof(int)), *singles = fh_malloc((size_t)l.n_ids * sizeof(int));
    int *role = fh_malloc((size_t)l.n * sizeof(int)); // 0 unused, 1 gallery, 2 probe, 3 distractor, 4 non-mated
    int rc = EXIT_FAIL;
    struct fh_models *m = NULL;
    char **paths = NULL, *found = NULL;
    float *emb = NULL;
    int *idx = NULL, *ord = NULL;
    if (!first || !count || !gal_of || !singles || !role) goto oom;
    for (int k = 0; k < l.n_ids; k++) first[k] = -1;
    for (int i = 0; i < l.n; i++) {
        if (first[l.label[i]] < 0) first[l.label[i]] = i;
        count[l.label[i]]++;
        role[i] = 0;
    }
    int n_mated = 0, n_single = 0, quick_ids = 150;
    for (int k = 0; k < l.n_ids; k++) {
        gal_of[k] = -1;
        if (count[k] >= 2 && (!o->quick || n_mated < quick_ids)) {
            int g = first[k] + (int)(rnd() % (uint64_t)count[k]);
            gal_of[k] = g;
            for (int i = first[k]; i < first[k] + count[k]; i++) role[i] = i == g ? 1 : 2;
            n_mated++;
        } else if (count[k] == 1) {
            singles[n_single++] = first[k];
        }
    }
    shuffle(singles, n_single);
    int n_nonmated = o->quick ? 150 : 1000;
    if (n_nonmated > n_single / 2) n_nonmated = n_single / 2;
    int pool_n = o->quick ? 500 : n_single - n_nonmated;
    if (pool_n > n_single - n_nonmated) pool_n = n_single - n_nonmated;
    for (int i = 0; i < n_nonmated; i++) role[singles[i]] = 4;
    for (int i = 0; i < pool_n; i++) role[singles[n_nonmated + i]] = 3;
    // embed every image with a role
    int n = 0;
    idx = fh_malloc((size_t)l.n * sizeof(int)); // image -> row in emb, or -1
    for (int i = 0; i < l.n; i++) idx[i] = role[i] ? n++ : -1;
    paths = fh_malloc((size_t)n * sizeof *paths);
    emb = fh_calloc((size_t)n * FH_EMB_DIM, sizeof *emb);
    found = fh_calloc((size_t)n, 1);
    if (!idx || !paths || !emb || !found) goto oom;
    for (int i = 0; i < l.n; i++)
        if (idx[i] >= 0) paths[idx[i]] = l.paths[i];
    if (fh_models_load(o->models, o->ref ? FH_LOAD_REF : 0, &m)) {
        fprintf(stderr, "facehatch: %s\n", fh_errmsg());
        goto out;
    }
    double t0 = fh_now_ms();
    int missing = cli_embed_central(o, m, paths, n, emb, found);
    double t_embed = (fh_now_ms() - t0) / 1e3;
    // gallery order: mated gallery images, then the distractor pool in shuffled order
    int n_gal_m = 0, n_dis = 0, n_probe = 0, n_probe_lost = 0;
    ord = fh_malloc((size_t)(l.n_ids + pool_n) * sizeof(int)); // rows of emb
    int *gal_label = fh_malloc((size_t)(l.n_ids + pool_n) * sizeof(int));
    if (!ord || !gal_label) { fh_free(gal_label); goto oom; }
    for (int k = 0; k < l.n_ids; k++)
        if (gal_of[k] >= 0 && found[idx[gal_of[k]]]) gal_label[n_gal_m] = k, ord[n_gal_m++] = idx[gal_of[k]];
    for (int i = 0; i < pool_n; i++) {
        int r = idx[singles[n_nonmated + i]];
        if (found[r]) gal_label[n_gal_m + n_dis] = -1, ord[n_gal_m + n_dis++] = r;
    }
    // for each mated probe: best mated-gallery similarity and whether it is its own,
    // and the rank of the best distractor position that beats the correct match
    static const int DS[4] = {10, 100, 1000, -1};
    int correct[4] = {0, 0, 0, 0};
    float *best_score = fh_malloc((size_t)n * sizeof(float));
    int *best_ok = fh_malloc((size_t)n * sizeof(int)), n_scored = 0;
    for (int i = 0; best_score && best_ok && i < l.n; i++) {
        if (role[i] != 2) continue;
        n_probe++;
        int r = idx[i];
        if (!found[r]) { n_probe_lost++; continue; }
        const float *p = emb + (size_t)r * FH_EMB_DIM;
        float bm = -2, own = -2;
        int bm_label = -1;
        for (int g = 0; g < n_gal_m; g++) {
            float s = dot(p, emb + (size_t)ord[g] * FH_EMB_DIM);
            if (s > bm) bm = s, bm_label = gal_label[g];
            if (gal_label[g] == l.label[i]) own = s;
        }
        int mated_ok = bm_label == l.label[i];
        // the first distractor (in pool order) that beats bm decides which sizes fail
        int first_beat = n_dis;
        for (int dd = 0; dd < n_dis; dd++)
            if (dot(p, emb + (size_t)ord[n_gal_m + dd] * FH_EMB_DIM) > bm) { first_beat = dd; break; }
        for (int q = 0; q < 4; q++) {
            int size = DS[q] < 0 || DS[q] > n_dis ? n_dis : DS[q];
            correct[q] += mated_ok && first_beat >= size;
        }
        // open set (all distractors): best overall score and whether it is the right one
        float ball = bm;
        for (int dd = first_beat; dd < n_dis; dd++) {
            float s = dot(p, emb + (size_t)ord[n_gal_m + dd] * FH_EMB_DIM);
            if (s > ball) ball = s;
        }
        best_score[n_scored] = ball;
        best_ok[n_scored++] = mated_ok && first_beat >= n_dis && own == ball;
    }
    // non-mated probes: their best similarity to the full gallery
    float *nm = fh_malloc((size_t)(n_nonmated ? n_nonmated : 1) * sizeof(float));
    int n_nm = 0;
    for (int i = 0; nm && i < n_nonmated; i++) {
        int r = idx[singles[i]];
        if (!found[r]) continue;
        float b = -2;
        for (int g = 0; g < n_gal_m + n_dis; g++) {
            float s = dot(emb + (size_t)r * FH_EMB_DIM, emb + (size_t)ord[g] * FH_EMB_DIM);
            if (s > b) b = s;
        }
        nm[n_nm++] = b;
    }
    // threshold: the similarity exceeded by 1 % of non-mated probes
    for (int a = 1; a < n_nm; a++) { // insertion sort, descending
        float v = nm[a];
        int b = a - 1;
        while (b >= 0 && nm[b] < v) nm[b + 1] = nm[b], b--;
        nm[b + 1] = v;
    }
    int allowed = (int)floor(0.01 * n_nm);
    float thr = n_nm ? nm[allowed < n_nm ? allowed : n_nm - 1] : 1; // accept if s > thr
    int dir_hits = 0;
    for (int i = 0; i < n_scored; i++) dir_hits += best_ok[i] && best_score[i] > thr;
    double dir = n_probe ? (double)dir_hits / n_probe : 0;
    printf("LFW identification with distractors (deep-funneled%s), seed %d\n", o->quick ? ", quick subset" : "", o->seed);
    printf("  gallery: %d identities (one image each)%s; probes: %d (%d without a face); distractor pool: %d; "
           "non-mated probes: %d\n", n_mated, n_gal_m < n_mated ? " (some gallery images without a face)" : "",
           n_probe, n_probe_lost, n_dis, n_nm);
    printf("  images embedded: %d (%d without a face) in %.1f s\n\n", n, missing, t_embed);
    printf("  %-12s %s\n", "distractors", "rank-1");
    for (int q = 0; q < 4; q++) {
        int size = DS[q] < 0 || DS[q] > n_dis ? n_dis : DS[q];
        printf("  %-12d %.2f %%\n", size, 100.0 * correct[q] / (n_probe ? n_probe : 1));
    }
    printf("  open-set DIR at FAR 1 %% (all distractors): %.2f %% (distance threshold %.3f)\n", 100 * dir,
           sqrt(fmax(0, 2 - 2 * thr)));
    printf("{\"eval\":\"ident\",\"seed\":%d,\"probes\":%d,\"rank1\":{\"10\":%.4f,\"100\":%.4f,\"1000\":%.4f,\"all\":%.4f},"
           "\"distractors_all\":%d,\"dir_at_far_1e-2\":%.4f,\"not_detected\":%d}\n", o->seed, n_probe,
           (double)correct[0] / (n_probe ? n_probe : 1), (double)correct[1] / (n_probe ? n_probe : 1),
           (double)correct[2] / (n_probe ? n_probe : 1), (double)correct[3] / (n_probe ? n_probe : 1), n_dis, dir,
           missing);
    fh_free(best_score), fh_free(best_ok), fh_free(nm), fh_free(gal_label);
    rc = EXIT_OK;
    goto out;
oom:
    fprintf(stderr, "facehatch: out of memory\n");
out:
    fh_models_free(m);
    fh_free(first), fh_free(count), fh_free(gal_of), fh_free(singles), fh_free(role), fh_free(idx), fh_free(ord);
    fh_free(paths), fh_free(emb), fh_free(found);
    cli_lfw_free(&l);
    return rc;
}
