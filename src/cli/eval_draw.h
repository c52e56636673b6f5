// SPDX-License-Identifier: MIT
// cli-private: the LFW libraries of `eval persons` (eval_persons.c), shared with `eval reembed`
// and `eval review` (eval_review.c). A draw: --known identities with 4..9 LFW images and
// EVP_STRANGERS with one, copied into a temporary photo folder and indexed by the real
// library; scored on each image's most central face (the subject).
#ifndef FH_CLI_EVAL_DRAW_H
#define FH_CLI_EVAL_DRAW_H

#include "cli/cli.h"
#include "eval/eval.h"
#include "library/library.h"

#define STRANGERS 150
#define EVP_STRANGERS STRANGERS

struct named {
    const char *name;
    int images;        // the identity's images in LFW (1: a stranger)
};

struct draw_result {
    struct eval_cluster c;
    int subjects, unknown, persons, impure, known_ids;
    int unknown_known, unknown_gated; // unknown subjects of the known identities; of them gated
    double seconds;
};

// one scored subject (the central face of an image of the draw)
struct subject {
    int64_t face, person;      // person 0: unknown
    int truth;                 // index into the draw's sorted names
};

// LFW's identities by image count: 4..9 images (few) and one image (one)
struct draws {
    struct cli_lfw l;
    int *count, *few, *one, *ids;
    int nf, n1;
};

// LFW's lists and the identities with 4..9 / 1 images; FH_E_ARG when too few for n_known.
int evp_draws_open(const struct cli_opts *o, int n_known, struct draws *d);
void evp_draws_free(struct draws *d);
// seed's draw: d->ids[0..n_known) known identities, then STRANGERS strangers; *rng seeded.
int evp_draws_pick(struct draws *d, int seed, int n_known, uint64_t *rng);
// The draw's library, indexed in `batches` parts (the pinned model): dir (>= 32 bytes) gets
// the temporary folder (its database is dir/lib.db; remove with evp_rm_tree), *L stays open.
int evp_build(const struct cli_opts *o, const struct cli_lfw *l, const int *ids, int n_ids, int batches,
              uint64_t *rng, char *dir, struct lib **L, double *seconds);
// Scores L's persons on the subjects; *subj / *names (may be NULL) get them (fh_malloc'd).
int evp_score(struct lib *L, const int *count, const int *ids, int n_ids, const struct cli_lfw *l, int quiet,
              struct draw_result *r, struct subject **subj, struct named **names);
void evp_rm_tree(const char *dir);

#endif
