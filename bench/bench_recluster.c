// SPDX-License-Identifier: MIT
// The library's clustering at scale (issue 10, part 6), through the store: a library of N
// faces (one photo each, generated embeddings) on SQLite or PostgreSQL, then
//   1. lib_recluster: a full recluster (read every embedding, near graph, average linkage
//      under the user's constraints, write every assignment), timed, peak RSS;
//   2. NEW more faces committed, then lib_promote_unknowns: the incremental path (the new
//      faces' persons), timed.
// Generated faces: identities with a random unit centre, each face = centre + Gaussian noise
// of 0.055 per dimension, renormalised (two faces of one identity ~1.0 apart, of two
// identities ~1.4), 1..40 faces an identity (mean ~9). The NEW faces are inserted unknown and
// clustered as a cluster job does (lib_cluster_unknowns). Quality is measured on real faces
// elsewhere (`eval cluster --synthetic`, docs/RESULTS.md); this measures time and memory.
//
//   bench_recluster DB|postgres://URL [N=100000] [NEW=1000] [THREADS=2] [similar]
// "similar": only fill and time lib_similar (no recluster: for 10^6 faces); a 6th argument
// "nofill" reuses a library an earlier run with the same N filled.
// The database must not exist / be empty. Models are read from ./models (the pinned
// MobileFaceNet's identity tags the embeddings).
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "base/base.h"
#include "library/library.h"
#include "pipeline/facehatch.h"
#include "store/store.h"

static uint64_t rng = 0x2545F4914F6CDD1Dull;
static double uni(void) {
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return ((rng >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}
static double gauss(void) { return sqrt(-2 * log(uni())) * cos(6.283185307179586 * uni()); }

static double rss_mb(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss / 1024.0;
}

// faces [from, to) of the generated population into the store, one photo each, one transaction
static int add_faces(struct store *s, int64_t model, int dim, int from, int to, const float *centre, const int *who) {
    int rc = store_begin(s);
    float e[512];
    for (int i = from; !rc && i < to; i++) {
        char path[64];
        snprintf(path, sizeof path, "/gen/%08d.jpg", i);
        struct store_photo p = {.path = path, .size = 1000 + i, .mtime = 1, .width = 640, .height = 480};
        snprintf(p.sha256, sizeof p.sha256, "%064x", i);
        int64_t pid, fid;
        if ((rc = store_photo_upsert(s, 1, &p, &pid))) break;
        double s2 = 0;
        for (int k = 0; k < dim; k++) {
            e[k] = centre[(size_t)who[i] * dim + k] + 0.055f * (float)gauss();
            s2 += (double)e[k] * e[k];
        }
        for (int k = 0; k < dim; k++) e[k] /= (float)sqrt(s2);
        struct store_face f = {.photo_id = pid, .box = {10, 10, 110, 110}, .det_score = 0.99f, .blur = 500,
                               .quality = 1, .model_id = model, .dim = dim, .embedding = e};
        rc = store_face_insert(s, 1, &f, &fid);
    }
    if (!rc) rc = store_commit(s);
    if (rc) store_rollback(s);
    return rc;
}

// "Who is this" at scale (with "similar"): every generated identity with >= 3 faces becomes a
// person holding exactly its faces (as a perfect clustering would leave the library: faces
// 1..n were inserted in order, so face id = index + 1), then lib_match for a fresh face of a
// random identity, 51 times: the first call builds the person index from the store, the
// other 50 are timed; how often the answer is the identity's person.
static int who_is_this(struct lib *L, int n, int ids, const int *who, const float *centre, int dim) {
    int *count = calloc((size_t)ids, sizeof *count);
    int64_t *pid = calloc((size_t)ids, sizeof *pid), *af = malloc(sizeof *af * (size_t)n), *ap = malloc(sizeof *ap * (size_t)n);
    int rc = !count || !pid || !af || !ap ? fh_fail(FH_E_NOMEM, "out of memory") : FH_OK, na = 0;
    for (int i = 0; !rc && i < n; i++) count[who[i]]++;
    double t0 = fh_now_ms();
    if (!rc) rc = store_begin(lib_store(L));
    for (int c = 0; !rc && c < ids; c++)
        if (count[c] >= 3) rc = store_person_create(lib_store(L), 1, NULL, &pid[c]);
    for (int i = 0; !rc && i < n; i++)
        if (pid[who[i]]) af[na] = i + 1, ap[na++] = pid[who[i]];
    if (!rc) rc = store_faces_assign_auto(lib_store(L), 1, af, ap, na, NULL);
    if (!rc) rc = store_commit(lib_store(L));
    else store_rollback(lib_store(L));
    double t_assign = (fh_now_ms() - t0) / 1e3;
    struct lib_options o = lib_options_default();
    struct fh_face q;
    double ms[51];
    int right = 0, asked = 0;
    for (int r = 0; !rc && r < 51; r++) {
        int c;
        do c = who[(int)(uni() * n)]; while (!pid[c]);
        memset(&q, 0, sizeof q);
        double s2 = 0;
        for (int k = 0; k < dim; k++) q.embedding[k] = centre[(size_t)c * dim + k] + 0.055f * (float)gauss(), s2 += q.embedding[k] * q.embedding[k];
        for (int k = 0; k < dim; k++) q.embedding[k] /= (float)sqrt(s2);
        q.has_embedding = 1;
        struct lib_match *m = NULL;
        double t = fh_now_ms();
        rc = lib_match(L, 1, &q, 1, &o, &m);
        ms[r] = fh_now_ms() - t;
        if (!rc && r > 0) asked++, right += m[0].person_id == pid[c];
        fh_free(m);
    }
    if (!rc) {
        double build = ms[0];
        int np = 0;
        for (int c = 0; c < ids; c++) np += pid[c] != 0;
        for (int i = 1; i < 51; i++)
            for (int j = i; j > 1 && ms[j] < ms[j - 1]; j--) { double t = ms[j]; ms[j] = ms[j - 1], ms[j - 1] = t; }
        printf("who is this: %d persons over %d faces (assigned in %.1f s); person index built in %.2f s, median query "
               "%.2f ms, %d of %d answered with the right person, peak RSS %.0f MB\n",
               np, n, t_assign, build / 1e3, ms[25], right, asked, rss_mb());
    }
    free(count), free(pid), free(af), free(ap);
    return rc;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: bench_recluster DB|postgres://URL [N=100000] [NEW=1000] [THREADS=2]\n");
        return 2;
    }
    const char *db = argv[1];
    int n = argc > 2 ? atoi(argv[2]) : 100000, add = argc > 3 ? atoi(argv[3]) : 1000;
    int threads = argc > 4 ? atoi(argv[4]) : 2;
    struct lib *L;
    struct fh_embedder_id id;
    int64_t model = 0;
    int rc = fh_embedder_identify(NULL, &id);
    if (!rc) rc = lib_open(db, "models", &L);
    if (!rc) rc = lib_model_check(L);
    if (!rc) rc = store_model_get(lib_store(L), id.name, id.version, id.sha256, id.dim, &model);
    if (rc) {
        fprintf(stderr, "bench_recluster: %s\n", fh_errmsg());
        return 1;
    }
    int dim = id.dim, total = n + add;
    // identities: sizes 1..40 with mean ~10 (a geometric-ish draw), random unit centres
    int *who = malloc(sizeof(int) * (size_t)total), ids = 0;
    for (int i = 0; i < total;) {
        int size = 1 + (int)(-log(uni()) * 9.0);
        if (size > 40) size = 40;
        for (int k = 0; k < size && i < total; k++) who[i++] = ids;
        ids++;
    }
    for (int i = total - 1; i > 0; i--) { // the new faces are a random draw of the population
        int j = (int)(uni() * (i + 1));
        int t = who[i];
        who[i] = who[j], who[j] = t;
    }
    float *centre = malloc(sizeof(float) * (size_t)ids * dim);
    for (int c = 0; c < ids; c++) {
        double s2 = 0;
        for (int k = 0; k < dim; k++) centre[(size_t)c * dim + k] = (float)gauss(), s2 += centre[(size_t)c * dim + k] * centre[(size_t)c * dim + k];
        for (int k = 0; k < dim; k++) centre[(size_t)c * dim + k] /= (float)sqrt(s2);
    }
    double t0 = fh_now_ms();
    // "nofill" (6th argument): the library was filled by an earlier run with the same N
    int nofill = argc > 6 && !strcmp(argv[6], "nofill");
    rc = nofill ? FH_OK : add_faces(lib_store(L), model, dim, 0, n, centre, who);
    double t_fill = (fh_now_ms() - t0) / 1e3;
    if (rc) {
        fprintf(stderr, "bench_recluster: %s\n", fh_errmsg());
        return 1;
    }
    struct lib_options o = lib_options_default();
    o.threads = threads;
    struct lib_stats st = {0};
    int only_similar = argc > 5 && !strcmp(argv[5], "similar");
    double rss0 = rss_mb();
    t0 = fh_now_ms();
    rc = only_similar ? FH_OK : lib_recluster(L, 1, &o, &st);
    double t_full = (fh_now_ms() - t0) / 1e3, rss1 = rss_mb();
    if (rc) {
        fprintf(stderr, "bench_recluster: recluster: %s\n", fh_errmsg());
        return 1;
    }
    if (!only_similar) rc = add_faces(lib_store(L), model, dim, n, total, centre, who);
    struct lib_stats st2 = {0};
    t0 = fh_now_ms();
    if (!rc && !only_similar) rc = lib_cluster_unknowns(L, 1, &o, &st2);
    double t_inc = (fh_now_ms() - t0) / 1e3;
    if (rc) {
        fprintf(stderr, "bench_recluster: incremental: %s\n", fh_errmsg());
        return 1;
    }
    // "photos of this person": the first lib_similar builds the owner's int8 index from the
    // store, later ones query it (k 20, a fresh face of a random identity each time)
    struct lib_similar sim[20];
    int ns = 0;
    float q[512];
    double tb = fh_now_ms(), ms[51];
    for (int r = 0; r < 51 && !rc; r++) {
        int c = who[(int)(uni() * total)];
        double s2 = 0;
        for (int k = 0; k < dim; k++) q[k] = centre[(size_t)c * dim + k] + 0.055f * (float)gauss(), s2 += q[k] * q[k];
        for (int k = 0; k < dim; k++) q[k] /= (float)sqrt(s2);
        double t = fh_now_ms();
        rc = lib_similar(L, 1, q, 20, sim, &ns);
        ms[r] = fh_now_ms() - t;
        if (r == 0) tb = ms[0];
    }
    double rss2 = rss_mb();
    if (rc) {
        fprintf(stderr, "bench_recluster: similar: %s\n", fh_errmsg());
        return 1;
    }
    for (int i = 1; i < 51; i++) // sort the 50 warm ones
        for (int j = i; j > 1 && ms[j] < ms[j - 1]; j--) { double t = ms[j]; ms[j] = ms[j - 1], ms[j - 1] = t; }
    printf("| %s | %d | %d | %.1f | %.1f | %d | %.0f | %.0f | %d | %.2f | %d | %.2f | %.2f |\n",
           store_is_url(db) ? "PostgreSQL" : "SQLite", n, ids, t_fill, t_full, st.persons_new, rss0, rss1, add, t_inc,
           st2.persons_new, tb / 1e3, ms[25]);
    if (only_similar) printf("similar: %d faces, index built in %.2f s, median query %.2f ms (k 20), peak RSS %.0f MB\n",
                             n, tb / 1e3, ms[25], rss2);
    if (only_similar && !rc) rc = who_is_this(L, n, ids, who, centre, dim);
    if (rc) {
        fprintf(stderr, "bench_recluster: who is this: %s\n", fh_errmsg());
        return 1;
    }
    lib_close(L);
    free(who), free(centre);
    return 0;
}
