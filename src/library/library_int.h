// SPDX-License-Identifier: MIT
// library internals shared by index.c and persons.c.
#ifndef FH_LIBRARY_INT_H
#define FH_LIBRARY_INT_H

#include <pthread.h>

#include "library/calib.h"
#include "library/library.h"

struct lib {
    struct store *s;
    struct fh_models *m;       // NULL until lib_models() (listing and editing need none)
    char *models_dir;
    char *db_path;             // as opened (a worker's heartbeat opens a second connection)
    char *embedder;            // the embedder file, or NULL: models_dir's pinned MobileFaceNet
    struct fh_embedder_id emb_id; // what the embeddings are recorded as made by
    int load_flags;            // fh_models_load flags (FH_LOAD_INT8; lib_open_ex)
    int64_t model_id;          // emb_id's row in the store; 0 until lib_model_check registers it
    void (*forget)(void *ctx, int64_t owner, const char *path); // lib_on_forget
    void *forget_ctx;
    // the warm parts (query.c): one engine, models loaded once, and the person index of the
    // last owner asked, rebuilt when the store's change stamp moves
    pthread_mutex_t engine_mu; // guards m (loading), e, e_threads: lib_embed runs unlocked
    struct fh_engine *e;
    int e_threads;
    struct lib_px_cache *pxc;
    struct lib_gallery *gal;   // the owner's faces as an int8 index (similar.c), or NULL
    // called by lib_commit_photo inside the photo's transaction, before its commit (the
    // worker finishes its job there, fenced by the lease); non-zero rolls the photo back
    int (*in_tx)(void *ctx, struct store *s);
    void *in_tx_ctx;
};

// Loads the models on first use (indexing, search); FH_OK or the loader's error. Thread-safe
// (engine_mu).
int lib_models(struct lib *L);
struct persons_index;
// The owner's person index, kept warm in L (query.c); valid until the next lib call on L.
int lib_persons_cached(struct lib *L, int64_t owner, const struct persons_index **px);
void lib_query_free(struct lib *L);
struct lib_gallery;
void lib_gallery_free(struct lib_gallery *c);
// lib_analyse on L's warm engine (models loaded on first need; thread-safe like lib_embed)
struct lib_result;
int lib_analyse_warm(struct lib *L, const struct lib_options *o, const uint8_t *data, size_t n,
                     struct lib_result **out);

// one analysed face, before it is stored
struct lib_face {
    struct fh_face f;
    double blur;
    float quality;
    int blurry, trash;
    uint8_t *thumb;            // JPEG, fh_malloc'd
    size_t thumb_size;
};

// the result of analysing one photo on a worker
struct lib_result {
    int failed;
    char error[256];
    char sha256[65];
    int width, height;
    int n;
    struct lib_face *faces;
    const char *orig_name;     // an upload's file name for the photo row (borrowed; NULL none)
    double ms[LIB_T_N];        // lib_analyse's stages (LIB_T_HASH .. LIB_T_GATES; READ by the caller)
};
struct lib_result *lib_analyse(struct fh_engine *e, const struct lib_options *o, const uint8_t *data, size_t n);
// the photo without faces (recognition off): content hash and upright size only
struct lib_result *lib_analyse_no_faces(const uint8_t *data, size_t n);
void lib_result_free(struct lib_result *r);

// per-person running sums of the (normalised) embeddings of its clusterable faces
struct persons_index {
    int n, cap;
    int64_t *id;
    double *sum;               // n x FH_EMB_DIM
    int *count;
};
int lib_persons_load(struct lib *L, int64_t owner, struct persons_index *px);
void lib_persons_free(struct persons_index *px);
// nearest person by root-mean-square distance to its faces; skips ids in `exclude`
int64_t lib_persons_nearest(const struct persons_index *px, const float *emb, const int64_t *exclude,
                            int n_exclude, float *dist);

// commits one analysed photo in one transaction (see index.c)
int lib_commit_photo(struct lib *L, int64_t owner, struct persons_index *px, const struct lib_options *o,
                     const char *path, int64_t size, int64_t mtime, const struct lib_result *r,
                     struct lib_stats *st);
// FH_OK unless a re-embed switched the library to another model than L's (the meta key the
// switch writes, read inside the caller's transaction): then FH_E_UNSUPPORTED, naming it.
int lib_reembed_model_guard(struct lib *L);
// unknown clusterable faces that group into >= min_person_faces become new persons
int lib_promote_unknowns(struct lib *L, int64_t owner, const struct lib_options *o, struct lib_stats *st);

#endif
