// SPDX-License-Identifier: MIT
// search: "who is this" and "photos of this person" over a large gallery of face
// embeddings (issue 10, part 5): an exact scan of every stored vector, kept as int8 with
// one float scale per vector (192 bytes + 4 + the 8-byte id per face: 10^6 faces in 204
// MB), scored against an int16 copy of the query by the engine's int8 row-dot kernel
// (nn/kern: scalar reference and AVX2 twin), the best k kept per thread and merged.
//
//   struct search_gallery *g;
//   search_gallery_new(192, &g);
//   search_gallery_add(g, emb, ids, n);                  // n x 192 floats, n ids
//   struct search_hit hits[10]; int nh;
//   search_gallery_query(g, query, 10, pool, 0, hits, &nh); // best first
//   search_gallery_free(g);
//
// Scores approximate the dot product of the stored float vectors (for L2-normalised
// embeddings: the cosine; distance = sqrt(2 - 2 score)); the int8 rounding moves a score
// by about 0.002 for a unit 192-D vector. Ties are broken by insertion order, so results
// never depend on the thread count. Vectors are stored in chunks of SEARCH_CHUNK (no
// reallocation of the whole gallery as it grows).
// Thread safety: queries may run concurrently on one gallery; add must not run with them.
// Errors: FH_OK or FH_E_* with fh_errmsg() set; nothing prints.
#ifndef FH_SEARCH_H
#define FH_SEARCH_H

#include <stddef.h>
#include <stdint.h>

#include "base/pool.h"

#define SEARCH_MAX_DIM 512          // = NN_I8DOT_MAX_D
#define SEARCH_MAX_VECTORS (1 << 27) // 134 M vectors (27 GB at 192-D): checked before allocating
#define SEARCH_MAX_K 1000
#define SEARCH_CHUNK (1 << 16)       // vectors per storage chunk

struct search_gallery;
struct search_hit {
    int64_t id;    // the id given to search_gallery_add
    float score;   // approximate dot product with the query
    int64_t row;   // insertion index (0-based)
};

// dim in 1..SEARCH_MAX_DIM. FH_E_ARG, FH_E_NOMEM.
int search_gallery_new(int dim, struct search_gallery **out);
void search_gallery_free(struct search_gallery *g);
// Appends n vectors (n x dim floats, finite) with their ids. On any error nothing is added.
// FH_E_ARG (n < 0, a NaN/Inf value: names the vector), FH_E_LIMIT (past SEARCH_MAX_VECTORS),
// FH_E_NOMEM.
int search_gallery_add(struct search_gallery *g, const float *v, const int64_t *ids, int n);
int64_t search_gallery_size(const struct search_gallery *g);
int search_gallery_dim(const struct search_gallery *g);
// Bytes the gallery holds (codes, scales, ids, chunk tables).
size_t search_gallery_bytes(const struct search_gallery *g);
// The k best vectors for q (dim floats, finite), best first, into hits (room for k);
// *n_hits = min(k, size). pool: NULL = the caller's thread; force_ref: the scalar kernel.
// FH_E_ARG (k outside 1..SEARCH_MAX_K, a non-finite query), FH_E_NOMEM.
int search_gallery_query(const struct search_gallery *g, const float *q, int k, struct fh_pool *pool,
                         int force_ref, struct search_hit *hits, int *n_hits);

// Re-ranking with the exact vectors (which the store keeps as floats; the gallery does
// not): fetch(ctx, id, out) writes the dim floats of a vector (FH_OK) or fails (the hit
// keeps its approximate score). The n hits get the exact dot products with q and are
// sorted again (best first; ties by row). Query the gallery for a few more hits than
// needed (say 32 for the best 10): int8 rounding moves scores by ~0.001, so the exact best
// is always among them in practice. FH_OK or fetch's first error code.
typedef int (*search_fetch_fn)(void *ctx, int64_t id, float *out);
int search_rerank(int dim, const float *q, struct search_hit *hits, int n, search_fetch_fn fetch, void *ctx);

#endif
