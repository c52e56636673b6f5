// SPDX-License-Identifier: MIT
// cluster: grouping face embeddings into persons. Pure functions on n x dim float
// arrays of L2-normalised embeddings (Euclidean distance 0..2); no images, no storage.
// Every method works on the sparse "near" graph (all pairs closer than a cutoff), so
// memory grows with the number of near pairs, not n^2.
//
//   struct clus_edge *e; size_t ne;
//   clus_graph(emb, n, 192, 1.2f, pool, &e, &ne);   // near pairs, sorted by (a, b)
//   int *label = malloc(n * sizeof *label);
//   int k = clus_average(n, e, ne, 1.2f, 0.95f, label);  // k persons, label[i] in 0..k-1
//   fh_free(e);
//
// Labels are numbered in order of first appearance (item 0 is in cluster 0), so
// results are deterministic. Thread safety: reentrant; the pool is used only by
// clus_graph.
#ifndef FH_CLUSTER_H
#define FH_CLUSTER_H

#include <stddef.h>
#include <stdint.h>

#include "base/pool.h"

struct clus_edge {
    int a, b;   // a < b
    float d;    // Euclidean distance
};

// All pairs (a < b) with distance < cutoff, sorted by (a, b). *edges is fh_malloc'd.
// pool may be NULL. FH_OK, FH_E_ARG, FH_E_NOMEM, FH_E_LIMIT (more than 2^31 edges).
int clus_graph(const float *x, int n, int dim, float cutoff, struct fh_pool *pool,
               struct clus_edge **edges, size_t *n_edges);

// The same edges as clus_graph, bit for bit, much faster: every pair is screened with int8
// codes (nn's i8_dot_rows kernel; force_ref: the scalar reference kernel) and only pairs
// whose int8 score plus a proven bound on its error can reach the cutoff get the exact
// float check. dim <= CLUS_GRAPH_MAX_DIM; vectors must be finite (FH_E_ARG otherwise).
// Extra memory: n x (dim + 8) bytes.
#define CLUS_GRAPH_MAX_DIM 1024
int clus_graph_i8(const float *x, int n, int dim, float cutoff, struct fh_pool *pool, int force_ref,
                  struct clus_edge **edges, size_t *n_edges);
// Only the pairs (a < b) with b >= from: the edges new items [from, n) add to a graph of
// items [0, from) (an incremental update; cost ~ n x (n - from) pair screens).
int clus_graph_i8_from(const float *x, int n, int from, int dim, float cutoff, struct fh_pool *pool,
                       int force_ref, struct clus_edge **edges, size_t *n_edges);

// Single linkage: connected components of the edges with d < t. Returns clusters or <0.
int clus_components(int n, const struct clus_edge *e, size_t ne, float t, int *label);
// Average linkage (UPGMA) until no two clusters are closer than t on average. Pairs not
// in the graph count as `cutoff` (a lower bound of their distance), so with t well
// below the cutoff this equals exact average linkage in practice. Returns clusters or <0.
int clus_average(int n, const struct clus_edge *e, size_t ne, float cutoff, float t, int *label);
// Constraints for clustering a photo library (all arrays optional, n entries):
struct clus_constraints {
    const int *group;          // initial groups: items with the same id >= 0 start merged
                               // (the faces a user put in one person); -1 = alone
    const int64_t *photo;      // items of the same photo never end in one cluster
    const int64_t *tag;        // user person id (0 = none): clusters with different tags
                               // never merge
    const int *reject_item;    // n_reject pairs: item reject_item[r] said "not person
    const int64_t *reject_tag; //   reject_tag[r]": its cluster never merges with that tag
    int n_reject;
};
// Average linkage under constraints (cannot-link by photo, user persons, rejections);
// forced groups merge first whatever their distance. Merges that would break a
// constraint are skipped. Returns clusters or <0 (FH_E_ARG for bad indices).
int clus_average_c(int n, const struct clus_edge *e, size_t ne, float cutoff, float t,
                   const struct clus_constraints *c, int *label);
// Chinese whispers (as in dlib) on the edges with d < t: `iters` rounds over the nodes in
// a seeded random order, each node taking the label with the largest summed weight
// (1 - d/t) among its neighbours. Returns clusters or <0.
int clus_chinese_whispers(int n, const struct clus_edge *e, size_t ne, float t, int iters,
                          uint64_t seed, int *label);
// DBSCAN with radius eps (d < eps) and min_pts (counting the point itself); noise points
// become singleton clusters. Returns clusters or <0.
int clus_dbscan(int n, const struct clus_edge *e, size_t ne, float eps, int min_pts, int *label);

#endif
