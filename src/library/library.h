// SPDX-License-Identifier: MIT
// library: the photo library. Indexes folders of photos into a store (incremental,
// crash-safe: one transaction per photo), applies the quality gates (blur, "not a face"),
// groups faces into persons (constrained average linkage; the user's corrections always
// win and persist), picks avatars, and answers "who is this". Uses pipeline (faces and
// embeddings), store (all SQL), cluster (grouping). Prints nothing: progress goes to a
// callback.
//
//   struct lib *L;
//   lib_open("lib.db", "models", &L);
//   struct lib_options o = lib_options_default();
//   const char *roots[] = {"/photos"};
//   struct lib_stats st;
//   lib_index(L, LIB_OWNER_LOCAL, roots, 1, &o, &st);   // new / changed / deleted files
//   lib_close(L);
//
// Thread safety: a struct lib is used by one thread at a time (lib_index starts its own
// worker threads inside): callers sharing one L hold their own lock around every call,
// EXCEPT lib_embed, which needs no lock (it uses only the models and L's engine, serialised
// by a mutex inside L), so the slow model work of a search runs outside the caller's lock.
#ifndef FH_LIBRARY_H
#define FH_LIBRARY_H

#include <stdint.h>

#include "img/img.h"
#include "pipeline/facehatch.h"
#include "store/store.h"

// Owners: every function that reads or changes a user's data takes the owner (a user id of
// the store, see store_user_id) explicitly; nothing in a struct lib fixes it. A row of
// another owner is FH_E_NOTFOUND, exactly like a missing one.
#define LIB_OWNER_LOCAL 1 // the CLI's default user ("local", created with the database)
#define LIB_MIN_FACE 40   // default smallest face indexed (px): smaller ones are too poor to recognise

struct lib_progress {
    int done, total;            // photos processed / to process in this run
    int faces;                  // faces found so far
    double seconds;             // since the start of the run
    const char *path;           // the photo just finished
};

struct lib_options {
    int threads;                // worker threads (0 = all cores)
    int min_face;               // detector min face (default 40 px: faces worth a person)
    int flip;                   // flip TTA (default 1)
    float cluster_t;            // average-linkage distance threshold for persons
    int min_person_faces;       // a new person needs this many faces (default 3)
    int thumb_size;             // face thumbnail side in pixels (default 96)
    int detector;               // FH_DETECTOR_* (default MTCNN); each face records its own
    // progress callback (may be NULL), called from the calling thread after each photo
    void (*progress)(void *ctx, const struct lib_progress *p);
    void *progress_ctx;
};

// where lib_index's time goes (lib_stats.stage_ms): per photo on the worker threads (summed
// over photos, so with 2 workers their sum is about twice the wall time), then the
// committing thread's database work and the clustering at the end
enum { LIB_T_READ, LIB_T_HASH, LIB_T_DECODE, LIB_T_DETECT, LIB_T_EMBED, LIB_T_GATES, LIB_T_COMMIT,
       LIB_T_CLUSTER, LIB_T_N };
extern const char *const lib_stage_names[LIB_T_N]; // "read", "sha256", "decode", ...

struct lib_stats {
    int files;                  // image files found under the roots
    int indexed;                // (re)indexed now
    int unchanged;              // skipped: same size+mtime, or same content
    int failed;                 // unreadable / not an image (recorded with the error)
    int deleted;                // photos whose file disappeared
    int faces;                  // faces stored now
    int persons_new;            // persons created by clustering now
    double seconds;
    double stage_ms[LIB_T_N];   // lib_index only: the profile above
};

struct lib_options lib_options_default(void);

struct lib;
// Opens (creating) the database; the models are loaded from models_dir on first need.
// lib_open = lib_open_embedder with embedder NULL (the pinned MobileFaceNet.tflite).
int lib_open(const char *db_path, const char *models_dir, struct lib **out);
// lib_open with the embedder taken from a file (.fhm or .tflite, see
// fh_models_load_embedder) instead of models_dir's MobileFaceNet.tflite. The file is
// identified at once (fh_embedder_identify: its errors, before the database is opened);
// its embeddings are recorded under that identity (name, version, sha256 of the file).
int lib_open_embedder(const char *db_path, const char *models_dir, const char *embedder, struct lib **out);
// Never mix models: FH_E_UNSUPPORTED, naming both models and saying a re-embed is needed,
// when the library holds faces (any owner's) embedded by another model than L's; nothing in
// the store changes then. Otherwise registers L's model in the store (once) and FH_OK. An
// empty library accepts any model. lib_index, lib_index_bytes/upload (with recognition on),
// lib_recognition_set (on), lib_recluster and lib_search call it first; lib_embed and
// lib_match do not (a server checks once at start).
int lib_model_check(struct lib *L);
// lib_open_embedder with store_open_ex's flags (STORE_OPEN_EXISTING: never create a library)
// and fh_models_load's flags for the models it loads: FH_LOAD_INT8 records the embeddings
// under the embedder's identity + "+int8" (fh_embedder_identify_flags: another model to
// lib_model_check, so a library never mixes fp32 and int8 faces; an embedder without int8
// scales is refused before the database is opened).
int lib_open_ex(const char *db_path, const char *models_dir, const char *embedder, int store_flags,
                int load_flags, struct lib **out);

// ---- many processes over one database (issue 10; worker.c) ------------------------------------
// lib_enqueue: lib_index's walk, but each new or changed photo becomes a job (store_job_*)
// for `facehatch worker` processes instead of being analysed here; photos whose file is
// gone are deleted at once. st: files found, unchanged, deleted; *queued the jobs added.
int lib_enqueue(struct lib *L, int64_t owner, const char *const *roots, int n_roots,
                struct lib_stats *st, int *queued);
// Uploads on a server whose indexing is done by workers: the bytes go into the job.
int lib_enqueue_upload(struct lib *L, int64_t owner, const char *path, const char *orig_name,
                       const uint8_t *data, size_t n);

struct lib_worker_options {
    const char *name;           // recorded with each claim (default "host:pid")
    int lease_s;                // lease per job, renewed every lease_s / 3 (default 60)
    int exit_when_idle;         // return once no job is claimable
    int idle_ms;                // wait between polls of an empty queue (default 100)
    volatile int *stop;         // non-zero: finish the current job and return (a signal handler's flag)
    // after each job (may be NULL): its id, kind, path, "indexed" / "unchanged" / "failed" /
    // "clustered" / "lease lost" / "gave up", the faces stored
    void (*report)(void *ctx, int64_t job, const char *kind, const char *path, const char *what, int faces);
    void *report_ctx;
};
struct lib_worker_stats {
    int jobs, indexed, unchanged, failed, clustered, lost, faces, persons_new;
    double seconds;
    // where the time went (seconds): start (models, engine, connections), reading and
    // analysing photos, their commits (incl. the claim), cluster jobs, waiting on an empty queue
    double t_start, t_analyse, t_commit, t_cluster, t_idle;
};
// Claims and runs jobs until stopped (or, with exit_when_idle, until none is claimable).
// Each index job is analysed on this process's engine (o->threads threads) while a second
// connection renews the lease; its photo, faces and the job's finish are one transaction,
// so a worker killed at any moment leaves either nothing or everything of a photo, and a
// job it held is claimed again when the lease runs out. An index job also queues a cluster
// job for its owner (in that transaction); a cluster job forms persons (lib_promote_unknowns)
// and picks avatars. A job claimed for the 5th time is failed without running ("gave up":
// it killed its worker each time). An owner's face recognition is checked again inside the
// photo's transaction: turned off meanwhile, nothing is written and the job comes back
// after its lease (then without faces). Returns FH_OK when stopped or idle, else a store error
// (the lease of the job in hand then runs out and another worker takes it).
#define LIB_JOB_MAX_ATTEMPTS 5
int lib_worker_run(struct lib *L, const struct lib_options *o, const struct lib_worker_options *w,
                   struct lib_worker_stats *st);
void lib_close(struct lib *L);
struct store *lib_store(struct lib *L);

// Indexes every image (JPEG, PNG, HEIC/HEIF, WebP; by extension) under the roots,
// recursively. Unchanged files are skipped; changed ones re-indexed (user corrections
// of faces that are still there are kept); files gone from disk are removed; new faces
// join persons or wait among the unknowns, which form new persons when enough are alike.
int lib_index(struct lib *L, int64_t owner, const char *const *roots, int n_roots, const struct lib_options *o,
              struct lib_stats *st);
// Indexes one photo given as bytes (uploads): stored under `name` (a library-relative
// name chosen by the caller). Same semantics as one file of lib_index.
int lib_index_bytes(struct lib *L, int64_t owner, const char *name, const uint8_t *data, size_t n,
                    const struct lib_options *o, struct lib_stats *st);

// Re-groups all automatic assignments from scratch under the user's constraints (user
// assignments, merges and "not this person" stay; faces the user made unknown stay
// unknown). Persons keep their ids and names when their faces mostly stay together; a
// person the user holds (named, or with user-assigned faces) keeps the cluster that overlaps
// it most even when the user's own faces cluster apart. Not a user action: not in the op log.
int lib_recluster(struct lib *L, int64_t owner, const struct lib_options *o, struct lib_stats *st);
// What a cluster job runs after new faces came (the incremental path): the owner's unknown
// faces (not blurry, not junk, not made unknown by the user) form new persons where at least
// o->min_person_faces of them cluster; avatars are updated. Existing persons are not touched.
int lib_cluster_unknowns(struct lib *L, int64_t owner, const struct lib_options *o, struct lib_stats *st);

// ---- questions (library/query.c) --------------------------------------------------------------
// "Who is this?": for each face in the image, the nearest person and the distance
// (person 0 when nobody is within the threshold). In two steps so the slow one needs no lock:
//   lib_embed: detection + embeddings on L's warm engine. Touches no store and no owner data:
//     may run in any thread WITHOUT the caller's lock, concurrently with any other lib call on
//     L (the engine and the model loading are serialised inside L). *out fh_malloc'd.
//   lib_match: the owner's nearest persons (the person index stays warm in L, rebuilt when
//     the store changed). Needs the store: under the caller's lock like every other call.
// lib_search = lib_embed + lib_match. match array fh_malloc'd.
struct lib_match {
    struct fh_face face;
    int64_t person_id;          // 0 = unknown
    float distance;             // to the person (root mean square distance to its faces)
};
int lib_embed(struct lib *L, const struct img *im, const struct lib_options *o, struct fh_face **out, int *n);
int lib_match(struct lib *L, int64_t owner, const struct fh_face *faces, int n, const struct lib_options *o,
              struct lib_match **out);
int lib_search(struct lib *L, int64_t owner, const struct img *im, const struct lib_options *o,
               struct lib_match **out, int *n);
// "Photos of this person": the owner's k (1..LIB_SIMILAR_MAX) stored faces nearest to an
// embedding, nearest first, each with its photo and current person (0: unknown) — known or
// not, named or not. Through an int8 index of the owner's faces kept warm in L (similar.c:
// built on first use, then only the faces added since are appended; exact distances from
// the stored vectors). Fewer than k when the owner has fewer faces.
#define LIB_SIMILAR_MAX 100
struct lib_similar {
    int64_t face_id, photo_id, person_id;
    float distance;             // Euclidean between unit vectors (the clustering threshold's scale)
};
int lib_similar(struct lib *L, int64_t owner, const float *emb, int k, struct lib_similar *out, int *n);

// Unknown faces (not "not a face" unless with_trash), each with a suggested person: the
// nearest visible person the user did not reject for it, by root mean square distance to the
// person's faces, up to LIB_SUGGEST_FACTOR x the clustering threshold (unknown faces are by
// construction a little beyond it, so the question "is this Anna?" is worth asking a bit
// further out; the user's answer decides). Ordered: faces with a
// suggestion first (nearest first), then by id. At most LIB_UNKNOWN_SCAN_MAX faces are
// considered; *out (fh_malloc'd) gets the first `limit` (1..LIB_UNKNOWN_SCAN_MAX, else
// FH_E_ARG), *total all unknown faces. face.embedding/thumb are NULL in the results.
#define LIB_SUGGEST_FACTOR 1.3f
#define LIB_UNKNOWN_SCAN_MAX 5000
struct lib_unknown {
    struct store_face face;
    int has_emb;                // has an embedding a suggestion can be made from
    int64_t person;             // suggested person (0 none)
    char name[STORE_NAME_MAX + 1]; // its name ("" unnamed)
    float distance;
};
int lib_unknown_faces(struct lib *L, int64_t owner, int limit, int with_trash, struct lib_unknown **out, int *n,
                      int *total);

// User actions (they win over clustering and persist; library/ops.c)
int lib_move_face(struct lib *L, int64_t owner, int64_t face_id, int64_t person_id); // 0 = unknown
int lib_reject_face(struct lib *L, int64_t owner, int64_t face_id, int64_t person_id);
int lib_merge(struct lib *L, int64_t owner, int64_t into, int64_t from);
int lib_rename(struct lib *L, int64_t owner, int64_t person_id, const char *name);
// Every user action below is recorded as one op of the owner's operation log (a short
// human summary, e.g. "Merged 'Bob' into 'Anna'") so lib_undo can take it back; the log
// keeps the LIB_OPS_KEEP newest ops per owner. FH_E_NOTFOUND for ids that are not the
// owner's (nothing is recorded then).
#define LIB_OPS_KEEP 50
#define LIB_FACES_MAX 10000 // faces one call may name (lib_person_new)
int lib_hide(struct lib *L, int64_t owner, int64_t person_id, int hidden);
// The user's pick of a person's picture: face_id must be one of its faces (FH_E_ARG).
int lib_set_avatar(struct lib *L, int64_t owner, int64_t person_id, int64_t face_id);
// "New person" from 1..LIB_FACES_MAX faces (unknown or in other persons): a new person
// (name may be NULL) holding them as the user's decision; *id gets its id (may be NULL).
int lib_person_new(struct lib *L, int64_t owner, const char *name, const int64_t *face_ids, int n, int64_t *id);
// Deletes a person. Its faces become unknown by the user's word: no clustering (index,
// recluster) puts them into any person again until the user moves them; the id is never
// given to another person (AUTOINCREMENT).
int lib_person_delete(struct lib *L, int64_t owner, int64_t person_id);
// Deletes a photo's row and faces (persons left empty and unnamed go too). The photo's file
// is NOT touched: undo may bring the photo back, so the file must stay while an op can
// restore it. When the op leaves the log (pruned past LIB_OPS_KEEP) and no photo row refers
// to the path any more, the callback set with lib_on_forget is called with the path: the
// server deletes uploaded files there; the CLI sets none (indexed folders are the user's).
int lib_photo_delete(struct lib *L, int64_t owner, int64_t photo_id);
void lib_on_forget(struct lib *L, void (*fn)(void *ctx, int64_t owner, const char *path), void *ctx);
// Undoes the owner's most recent op (see store_op_undo for what comes back); summary (n
// bytes, may be NULL if n is 0) gets its text. FH_E_NOTFOUND "nothing to undo".
int lib_undo(struct lib *L, int64_t owner, char *summary, size_t n);
// One op of the log, as a reply shows it ("op": {"id", "summary"}).
struct lib_op {
    int64_t id;
    char summary[STORE_OP_SUMMARY_MAX + 1];
};
// The owner's most recent op (the one lib_undo would take back): after a user action on L, the
// op that action recorded. FH_E_NOTFOUND "nothing to undo" when the log is empty.
int lib_last_op(struct lib *L, int64_t owner, struct lib_op *op);
// lib_undo that also says which op it undid (*undone: its id and summary).
int lib_undo_op(struct lib *L, int64_t owner, struct lib_op *undone);
// Bulk actions: 1..LIB_FACES_MAX faces (FH_E_ARG otherwise; FH_E_NOTFOUND, nothing done, if any
// face or the person is not the owner's), recorded as ONE op, so one undo takes all back.
// lib_move_faces: person 0 = unknown. lib_reject_faces: "not this person" for each.
int lib_move_faces(struct lib *L, int64_t owner, const int64_t *face_ids, int n, int64_t person_id);
int lib_reject_faces(struct lib *L, int64_t owner, const int64_t *face_ids, int n, int64_t person_id);
// Recomputes avatars of persons whose avatar the user did not pick.
int lib_update_avatars(struct lib *L, int64_t owner);

// Face recognition for one owner (library/recognition.c). Off: every face of the owner
// (box, embedding, thumbnail), person, "not this person" and the owner's operation log are
// deleted (the log's before-images hold embeddings; nothing can be undone past this); the
// photos stay. Faces rows are removed rather than kept without embeddings: a box and
// landmarks are still face data. On: the same, then every photo of the owner is analysed
// again from its stored path (files that are gone count in st->failed and keep no faces) and
// persons are formed anew; names and corrections from before are not restored. The flag is
// stored (users.recognition) in the transaction that forgets the faces; lib_index refuses an
// owner whose recognition is off and lib_index_upload stores such photos without faces.
int lib_recognition_set(struct lib *L, int64_t owner, int on, const struct lib_options *o, struct lib_stats *st);

// ---- reading the owner's rows (library/rows.c) -------------------------------------------------
// Thin, owner-scoped views of the store for callers that must not reach the store themselves
// (the server). The rows' strings and blobs point into L, valid until the next lib call on L
// (store.h "Returned strings"); in the *_each callbacks only during that call, and fn may call
// only reading lib functions. FH_E_NOTFOUND for a row that is not the owner's.
int lib_person_get(struct lib *L, int64_t owner, int64_t person_id, struct store_person *out);
// Persons ordered by face count (desc), then id. fn returns non-zero to stop (that value is returned).
int lib_persons_each(struct lib *L, int64_t owner, int (*fn)(void *ctx, const struct store_person *p), void *ctx);
int lib_face_get(struct lib *L, int64_t owner, int64_t face_id, struct store_face *out);
// The faces of one person (person_id 0: the unknown faces), ordered by id, without embedding
// and thumbnail. FH_E_NOTFOUND for a person that is not the owner's.
int lib_faces_of_person(struct lib *L, int64_t owner, int64_t person_id,
                        int (*fn)(void *ctx, const struct store_face *f), void *ctx);
// The faces of one photo, ordered by id (embedding and thumbnail included).
int lib_faces_of_photo(struct lib *L, int64_t owner, int64_t photo_id,
                       int (*fn)(void *ctx, const struct store_face *f), void *ctx);
// How many faces are in no person (trash faces not counted).
int lib_unknown_count(struct lib *L, int64_t owner, int *n);
int lib_photo_get(struct lib *L, int64_t owner, int64_t photo_id, struct store_photo *out);
// By the stored path (uploads: the server's file name).
int lib_photo_find(struct lib *L, int64_t owner, const char *path, struct store_photo *out);
// Photos ordered by path.
int lib_photos_each(struct lib *L, int64_t owner, int (*fn)(void *ctx, const struct store_photo *p), void *ctx);
// 1 in *yes when a photo row or an op of the log (a deleted photo undo may bring back) refers
// to the path: the file is still needed.
int lib_path_in_use(struct lib *L, int64_t owner, const char *path, int *yes);
// Gives the owner's photos and ops stored under old_path the path new_path (a file moved by
// its keeper, e.g. uploads moved into a folder per user). FH_OK also when none refers to it.
int lib_photo_repath(struct lib *L, int64_t owner, const char *old_path, const char *new_path);
// The owner's settings (users table): face recognition on (1) or off (0); upload quota in
// bytes (0 = unlimited). FH_E_NOTFOUND for no such user.
int lib_user_recognition(struct lib *L, int64_t owner, int *on);
int lib_user_quota(struct lib *L, int64_t owner, int64_t *bytes);

// Indexes one uploaded photo given as bytes, stored at `path` (chosen by the caller):
// lib_index_bytes, and the photo row keeps orig_name (the file name it was uploaded with; NULL
// none; shown instead of the stored name). For an owner whose face recognition is off
// (lib_user_recognition) the photo is stored (size, sha256, width and height) and no face is
// computed: no detection runs, nothing is clustered; turning recognition on analyses it.
int lib_index_upload(struct lib *L, int64_t owner, const char *path, const char *orig_name, const uint8_t *data,
                     size_t n, const struct lib_options *o, struct lib_stats *st);

// ---- quality gates (library/quality.c) --------------------------------------------------
// Variance of the Laplacian of the aligned 112x112 grey crop; below LIB_BLUR_THRESHOLD the
// face is "blurry" (kept, shown, never clustered).
double lib_blur(const struct img *aligned112);
int lib_is_blurry(double blur);
// "Not a face" (kept, never clustered): by the trained head stored in calib.h when there is
// one (library/head.h, lib_junk_head) on x = lib_junk_vector (embedding + context, 196
// values), otherwise inside the calibrated sphere: the distance of the embedding (x's first
// 192 values) from the trash centre below the calibrated radius.
float lib_trash_distance(const float *emb);
int lib_is_trash(const float *x);
// Avatar quality in [0, 1]: sharpness, size, frontalness (landmarks), detection score,
// alone in the photo.
float lib_quality(const struct fh_face *f, double blur, int faces_in_photo);

#endif
