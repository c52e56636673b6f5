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
// The same gallery also goes into the int8 index of search/ (what "who is this" uses at
// scale): rank-1 through it (the best 32 re-ranked with the float vectors, and without),
// and how often its top 1 is the float scan's. --synthetic N adds N generated distractors
// to that index only: each a real distractor's embedding plus Gaussian noise (0.9 / sqrt(192)
// per dimension), renormalised — a new face at cosine ~0.74 to a real stranger, so the
// gallery grows in the region real faces occupy; the probes and their mates stay real.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/pool.h"
#include "cli/cli.h"
#include "eval/eval.h"
#include "search/search.h"

static uint64_t rng_state;
static uint64_t rnd(void) {
    rng_state ^= rng_state << 13, rng_state ^= rng_state >> 7, rng_state ^= rng_state << 17;
    return rng_state;
}
static float gauss(void) {
    double u = ((rnd() >> 11) + 0.5) / 9007199254740992.0, v = ((rnd() >> 11) + 0.5) / 9007199254740992.0;
    return (float)(sqrt(-2 * log(u)) * cos(6.283185307179586 * v));
}

static const float *g_rows; // the float gallery rows (search_rerank's fetch), ids = row
static int fetch_row(void *ctx, int64_t id, float *out) {
    (void)ctx;
    memcpy(out, g_rows + (size_t)id * FH_EMB_DIM, sizeof(float) * FH_EMB_DIM);
    return FH_OK;
}

// rank-1 through the int8 gallery over rows [0, ng) of G (labels GL; ids = rows) plus
// n_syn generated distractors (ids >= ng, label -1); agree = share of probes whose int8
// top 1 (re-ranked) is the float scan's. Returns -1 on error (printed).
struct int8_rank1 {
    double rank1, rank1_raw, agree, ms_per_probe, mb;
};
static int int8_ident(const float *G, const int *GL, int ng, int n_dis, int n_syn, const float *P, const int *PL, int np,
                      int threads, struct int8_rank1 *r) {
    struct search_gallery *g;
    struct fh_pool *pool = fh_pool_new(threads);
    int64_t *ids = fh_malloc(sizeof *ids * (size_t)(ng > 4096 ? ng : 4096));
    float *syn = fh_malloc(sizeof(float) * FH_EMB_DIM * 4096);
    if (!pool || !ids || !syn || search_gallery_new(FH_EMB_DIM, &g)) {
        fprintf(stderr, "facehatch: %s\n", fh_errmsg());
        fh_pool_free(pool), fh_free(ids), fh_free(syn);
        return -1;
    }
    for (int i = 0; i < ng; i++) ids[i] = i;
    int rc = search_gallery_add(g, G, ids, ng);
    for (int done = 0; !rc && done < n_syn;) { // generated distractors, 4096 at a time
        int b = n_syn - done < 4096 ? n_syn - done : 4096;
        for (int i = 0; i < b; i++) {
            const float *base = G + (size_t)(ng - n_dis + (int)(rnd() % (uint64_t)(n_dis ? n_dis : 1))) * FH_EMB_DIM;
            float *x = syn + (size_t)i * FH_EMB_DIM;
            double nn = 0;
            for (int k = 0; k < FH_EMB_DIM; k++) x[k] = base[k] + 0.9f / sqrtf(FH_EMB_DIM) * gauss(), nn += (double)x[k] * x[k];
            for (int k = 0; k < FH_EMB_DIM; k++) x[k] = (float)(x[k] / sqrt(nn));
            ids[i] = -1 - done - i; // not a row of G: never re-ranked from it
        }
        rc = search_gallery_add(g, syn, ids, b);
        done += b;
    }
    fh_free(syn), fh_free(ids);
    if (rc) {
        fprintf(stderr, "facehatch: %s\n", fh_errmsg());
        search_gallery_free(g), fh_pool_free(pool);
        return -1;
    }
    *r = (struct int8_rank1){.mb = search_gallery_bytes(g) / 1e6};
    int ok = 0, ok_raw = 0, agree = 0;
    double t0 = fh_now_ms();
    g_rows = G;
    for (int i = 0; i < np && !rc; i++) {
        struct search_hit h[32];
        int nh;
        const float *q = P + (size_t)i * FH_EMB_DIM;
        if ((rc = search_gallery_query(g, q, 32, pool, 0, h, &nh))) break;
        int raw = nh && h[0].id >= 0 && GL[h[0].id] >= 0 && GL[h[0].id] == PL[i];
        // re-rank the real rows among them with their float vectors (generated ones keep
        // their int8 scores: they exist only in the index)
        float best_syn = -2;
        int nr = 0;
        for (int j = 0; j < nh; j++) {
            if (h[j].id < 0) best_syn = fmaxf(best_syn, h[j].score);
            else h[nr++] = h[j];
        }
        search_rerank(FH_EMB_DIM, q, h, nr, fetch_row, NULL);
        int top_real = nr && h[0].score >= best_syn;
        ok += top_real && GL[h[0].id] >= 0 && GL[h[0].id] == PL[i];
        ok_raw += raw;
        if (!n_syn) { // agreement with the float scan over the same rows
            int b = 0;
            double bs = -2;
            for (int j = 0; j < ng; j++) {
                double s = 0;
                for (int k = 0; k < FH_EMB_DIM; k++) s += (double)G[(size_t)j * FH_EMB_DIM + k] * q[k];
                if (s > bs) bs = s, b = j;
            }
            agree += nr && h[0].id == b;
        }
    }
    r->ms_per_probe = np ? (fh_now_ms() - t0) / np : 0;
    r->rank1 = np ? (double)ok / np : 0, r->rank1_raw = np ? (double)ok_raw / np : 0;
    r->agree = np && !n_syn ? (double)agree / np : -1;
    search_gallery_free(g), fh_pool_free(pool);
    if (rc) fprintf(stderr, "facehatch: %s\n", fh_errmsg());
    return rc ? -1 : 0;
}

static void shuffle(int *a, int n) {
    for (int i = n - 1; i > 0; i--) {
        int j = (int)(rnd() % (uint64_t)(i + 1)), t = a[i];
        a[i] = a[j], a[j] = t;
    }
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
    int *idx = NULL;
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
    if (cli_models_load(o, &m)) goto out;
    double t0 = fh_now_ms();
    int missing = cli_embed_central(o, m, paths, n, emb, found);
    double t_embed = (fh_now_ms() - t0) / 1e3;
    // gallery: mated gallery images, then the distractor pool in shuffled order; probes:
    // mated probes with a face (missing ones count as misses); non-mated probes with a face
    int n_gal_m = 0, n_dis = 0, n_probe = 0, n_probe_lost = 0, np_found = 0, n_nm = 0;
    float *G = fh_malloc(sizeof(float) * FH_EMB_DIM * (size_t)(l.n_ids + pool_n + 1));
    float *P = fh_malloc(sizeof(float) * FH_EMB_DIM * (size_t)(n + 1));
    float *NM = fh_malloc(sizeof(float) * FH_EMB_DIM * (size_t)(n_nonmated + 1));
    int *GL = fh_malloc(sizeof(int) * (size_t)(l.n_ids + pool_n + 1)), *PL = fh_malloc(sizeof(int) * (size_t)(n + 1));
    if (!G || !P || !NM || !GL || !PL) {
        fh_free(G), fh_free(P), fh_free(NM), fh_free(GL), fh_free(PL);
        goto oom;
    }
#define ROW(M, i) ((M) + (size_t)(i) * FH_EMB_DIM)
#define EMB(r) (emb + (size_t)(r) * FH_EMB_DIM)
    for (int k = 0; k < l.n_ids; k++)
        if (gal_of[k] >= 0 && found[idx[gal_of[k]]])
            memcpy(ROW(G, n_gal_m), EMB(idx[gal_of[k]]), sizeof(float) * FH_EMB_DIM), GL[n_gal_m++] = k;
    for (int i = 0; i < pool_n; i++) {
        int r = idx[singles[n_nonmated + i]];
        if (found[r]) memcpy(ROW(G, n_gal_m + n_dis), EMB(r), sizeof(float) * FH_EMB_DIM), GL[n_gal_m + n_dis++] = -1;
    }
    for (int i = 0; i < l.n; i++) {
        if (role[i] != 2) continue;
        n_probe++;
        if (!found[idx[i]]) { n_probe_lost++; continue; }
        memcpy(ROW(P, np_found), EMB(idx[i]), sizeof(float) * FH_EMB_DIM), PL[np_found++] = l.label[i];
    }
    for (int i = 0; i < n_nonmated; i++)
        if (found[idx[singles[i]]]) memcpy(ROW(NM, n_nm++), EMB(idx[singles[i]]), sizeof(float) * FH_EMB_DIM);
#undef ROW
#undef EMB
    static const int DS[4] = {10, 100, 1000, -1};
    double rank1[4], scale = n_probe ? (double)np_found / n_probe : 0;
    for (int q = 0; q < 4; q++) {
        int size = DS[q] < 0 || DS[q] > n_dis ? n_dis : DS[q];
        rank1[q] = eval_rank1(G, GL, n_gal_m + size, P, PL, np_found, FH_EMB_DIM) * scale;
    }
    float thr;
    double dir = eval_dir_at_far(G, GL, n_gal_m + n_dis, P, PL, np_found, NM, n_nm, FH_EMB_DIM, 0.01, &thr) * scale;
    struct int8_rank1 i8 = {0}, i8s = {0};
    int threads = o->threads > 0 ? o->threads : fh_cpu_count();
    int i8_rc = int8_ident(G, GL, n_gal_m + n_dis, n_dis, 0, P, PL, np_found, threads, &i8);
    if (!i8_rc && o->synthetic) i8_rc = int8_ident(G, GL, n_gal_m + n_dis, n_dis, o->synthetic, P, PL, np_found, threads, &i8s);
    fh_free(G), fh_free(P), fh_free(NM), fh_free(GL), fh_free(PL);
    if (i8_rc) goto out;
    i8.rank1 *= scale, i8.rank1_raw *= scale, i8s.rank1 *= scale, i8s.rank1_raw *= scale;
    printf("LFW identification with distractors (deep-funneled%s), seed %d\n", o->quick ? ", quick subset" : "", o->seed);
    printf("  gallery: %d identities (one image each)%s; probes: %d (%d without a face); distractor pool: %d; "
           "non-mated probes: %d\n", n_mated, n_gal_m < n_mated ? " (some gallery images without a face)" : "",
           n_probe, n_probe_lost, n_dis, n_nm);
    printf("  images embedded: %d (%d without a face) in %.1f s\n\n", n, missing, t_embed);
    printf("  %-12s %s\n", "distractors", "rank-1");
    for (int q = 0; q < 4; q++) printf("  %-12d %.2f %%\n", DS[q] < 0 || DS[q] > n_dis ? n_dis : DS[q], 100 * rank1[q]);
    printf("  open-set DIR at FAR 1 %% (all distractors): %.2f %% (distance threshold %.3f)\n", 100 * dir,
           sqrt(fmax(0, 2 - 2 * (double)thr)));
    printf("  int8 index (search/, all distractors): rank-1 %.2f %% re-ranked, %.2f %% raw; top 1 = the float "
           "scan's for %.2f %% of probes; %.1f MB, %.2f ms a probe\n", 100 * i8.rank1, 100 * i8.rank1_raw, 100 * i8.agree,
           i8.mb, i8.ms_per_probe);
    if (o->synthetic)
        printf("  int8 index + %d generated distractors: rank-1 %.2f %% re-ranked, %.2f %% raw; %.1f MB, %.2f ms a probe\n",
               o->synthetic, 100 * i8s.rank1, 100 * i8s.rank1_raw, i8s.mb, i8s.ms_per_probe);
    printf("{\"eval\":\"ident\",\"seed\":%d,\"probes\":%d,\"rank1\":{\"10\":%.4f,\"100\":%.4f,\"1000\":%.4f,\"all\":%.4f},"
           "\"distractors_all\":%d,\"dir_at_far_1e-2\":%.4f,\"not_detected\":%d,"
           "\"int8\":{\"rank1\":%.4f,\"rank1_raw\":%.4f,\"agree_float\":%.4f,\"mb\":%.1f,\"ms_per_probe\":%.3f}",
           o->seed, n_probe, rank1[0], rank1[1], rank1[2], rank1[3], n_dis, dir, missing, i8.rank1, i8.rank1_raw, i8.agree,
           i8.mb, i8.ms_per_probe);
    if (o->synthetic)
        printf(",\"synthetic\":{\"n\":%d,\"rank1\":%.4f,\"rank1_raw\":%.4f,\"mb\":%.1f,\"ms_per_probe\":%.3f}", o->synthetic,
               i8s.rank1, i8s.rank1_raw, i8s.mb, i8s.ms_per_probe);
    printf("}\n");
    rc = EXIT_OK;
    goto out;
oom:
    fprintf(stderr, "facehatch: out of memory\n");
out:
    fh_models_free(m);
    fh_free(first), fh_free(count), fh_free(gal_of), fh_free(singles), fh_free(role), fh_free(idx);
    fh_free(paths), fh_free(emb), fh_free(found);
    cli_lfw_free(&l);
    return rc;
}
