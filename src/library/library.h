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

// ---- switching the embedding model (library/reembed.c) -----------------------------------------
// Re-embeds every face of the library (all owners: one model per library) with L's
// embedder (lib_open_ex's embedder and load flags), e.g. a new model file, a trained model,
// or int8. The new vectors are staged while every face keeps its old one: an interrupted run
// leaves the library working on the old model, and a re-run (with the same target) resumes
// from what it staged; staged rows of another target are dropped. Each photo's file is read
// again and its faces aligned from their stored landmarks; a face whose photo is gone keeps
// no vector under the new model (counted in missing; it stays with its person, is never
// clustered). When every face is staged one transaction switches them all; then each owner's
// persons are rebuilt by lib_recluster_anchored, which carries every user decision over
// (names with the faces the named persons held, user-assigned faces from moves, merges and new
// persons, "not this person", unknown by the user's word). Blur and "not a face" flags are kept as they were (they are not the
// embedder's). A library already on L's model with nothing staged: nothing is done, FH_OK.
// Runs with no other writer expected to index meanwhile (faces added meanwhile under the old
// model are re-embedded too, as long as they come before the switch). o: threads, flip;
// o->progress after each batch (done/total in faces, faces = vectors computed this run).
struct lib_reembed_stats {
    int64_t total;              // faces to switch (staged before + pending at the start)
    int64_t staged_before;      // already staged when this run started (a resumed re-embed)
    int64_t switched;           // faces switched to the new model (0: nothing to switch)
    int photos, embedded, missing; // this run: photos read, faces embedded, faces without a photo
    int rebuilt;                // persons were rebuilt by this run
    int persons_before, persons_after; // over all owners, around the rebuild
    double seconds;
};
int lib_reembed(struct lib *L, const struct lib_options *o, struct lib_reembed_stats *st);
// The library's model (the one that made most faces; in_use.id 0: no face yet) and a re-embed
// in progress (running 1: faces are staged for target, pending still to do).
struct lib_reembed_status {
    struct store_model in_use, target;
    int running;
    int64_t staged, pending;
};
int lib_reembed_status(struct lib *L, struct lib_reembed_status *out);
// The embedder L embeds with (lib_open_ex's; valid while L is open).
const struct fh_embedder_id *lib_embedder(struct lib *L);

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
// lib_recluster where the faces of named persons count as the user's: they stay together in
// their person (other faces may join it) while they stay automatic in the store. What a model
// switch rebuilds persons with (lib_reembed): the user named the person looking at those faces.
int lib_recluster_anchored(struct lib *L, int64_t owner, const struct lib_options *o, struct lib_stats *st);
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

// Unknown faces (not "not a face" unless flags has LIB_UNKNOWN_TRASH), each with a suggested
// person: the nearest visible person the user did not reject for it, by root mean square
// distance to the person's faces, up to LIB_SUGGEST_FACTOR x the clustering threshold (unknown
// faces are by construction a little beyond it, so the question "is this Anna?" is worth
// asking a bit further out; the user's answer decides). Ordered: faces with a suggestion
// first (nearest first), then by id; with LIB_UNKNOWN_BY_GAIN in the review queue's order
// (lib_review: question by question, most expected gain first; faces in no question last).
// At most LIB_UNKNOWN_SCAN_MAX faces are considered; *out (fh_malloc'd) gets the first
// `limit` (1..LIB_UNKNOWN_SCAN_MAX, else FH_E_ARG), *total all unknown faces.
// face.embedding/thumb are NULL in the results.
#define LIB_SUGGEST_FACTOR 1.3f
#define LIB_UNKNOWN_SCAN_MAX 5000
#define LIB_UNKNOWN_TRASH 1   // "not a face" too
#define LIB_UNKNOWN_BY_GAIN 2 // the review queue's order
struct lib_unknown {
    struct store_face face;
    int has_emb;                // has an embedding a suggestion can be made from
    int64_t person;             // suggested person (0 none)
    char name[STORE_NAME_MAX + 1]; // its name ("" unnamed)
    float distance;
    int rank, group;            // LIB_UNKNOWN_BY_GAIN: place in the queue (-1 none), faces of its question
};
int lib_unknown_faces(struct lib *L, int64_t owner, int limit, int flags, struct lib_unknown **out, int *n,
                      int *total);

// The review queue (issue 12): questions about the unknown faces, the most useful first. The
// unknown faces (not "not a face", not made unknown by the user) are grouped like persons
// (average linkage at o->cluster_t, never two faces of one photo); each group is one
// question: "are these P?" when a visible person P that none of them was rejected for is
// within LIB_SUGGEST_FACTOR x the threshold of the group (root mean square distance), else
// "who is this?". Ordered by expected gain: the recall the answer adds as BCubed counts it
// (p_yes(distance) x g (2s + g - 1) / (s + g) for a group of g faces joining a person of s;
// g - 1 for a new person of g), so confident suggestions and large groups come first,
// single faces without a suggestion last (by id). Also "are these two persons one?" (LIB_Q_MERGE) for two visible persons
// within 1.00 of each other (root mean square over their face pairs; a person split in two is
// what no question about unknown faces repairs), unless they
// share a photo or the user said one is not the other (a reject of a face of one for the
// other); gain p_yes x 2ab / (a + b) for persons of a and b faces; among the LIB_REVIEW_MERGE_PERSONS largest
// persons. *out (fh_malloc'd) gets at most limit (1..LIB_UNKNOWN_SCAN_MAX) questions.
// Answers are the user actions below (lib_move_faces / lib_reject_faces / lib_person_new;
// lib_merge / lib_persons_apart); after a yes, lib_review_pull lets the person's new
// neighbours follow.
#define LIB_REVIEW_GROUP_MAX 32
#define LIB_REVIEW_MERGE_PERSONS 2000 // "same person?" pairs among at most this many largest persons
enum { LIB_Q_FACES = 0, LIB_Q_MERGE = 1 };
struct lib_question {
    int kind;                   // LIB_Q_FACES: about faces[]; LIB_Q_MERGE: are person and other one?
    int64_t other;              // LIB_Q_MERGE: the smaller person (merged into `person` on a yes)
    int n;                      // faces listed (the first LIB_REVIEW_GROUP_MAX of the group)
    int size;                   // faces in the group
    int64_t face[LIB_REVIEW_GROUP_MAX];
    int64_t person;             // suggested person (0: "who is this?")
    char name[STORE_NAME_MAX + 1]; // its name ("" unnamed)
    float distance;             // group to person (root mean square)
    float p_yes;                // estimated chance the answer is yes (0 without a person)
    float gain;                 // expected same-person pairs made known
};
int lib_review(struct lib *L, int64_t owner, const struct lib_options *o, int limit, struct lib_question **out,
               int *n);
// After the user put faces into `person`: the unknown faces (not blurry, not "not a face",
// not made unknown by the user, not rejected for it, none of a photo the person holds a face
// of) whose nearest person is now `person` within o->cluster_t - LIB_PULL_MARGIN join it,
// automatically (the index-time rule with a margin, applied to the grown person; at the
// threshold itself it made impure persons in the review simulation). *pulled gets how many.
// Not a user action (no op; a later recluster may move them).
#define LIB_PULL_MARGIN 0.1f
int lib_review_pull(struct lib *L, int64_t owner, int64_t person, const struct lib_options *o, int *pulled);

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
// "other is not person": every face of other is rejected for person (one op: undo takes it
// back), so clustering never joins them and the review queue never asks again. At most
// LIB_FACES_MAX faces in other (FH_E_LIMIT beyond); person == other is FH_E_ARG.
int lib_persons_apart(struct lib *L, int64_t owner, int64_t person, int64_t other);
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
// A person's best avatar candidates: up to max (>= 0) of its faces into face_ids (and their
// stored quality into quality, which may be NULL), best first in the order lib_update_avatars
// picks by (quality, then the lowest id), so the first is the automatic avatar; *n gets the
// count. FH_E_NOTFOUND for a person that is not the owner's; FH_E_ARG for a bad id or max.
int lib_avatar_candidates(struct lib *L, int64_t owner, int64_t person_id, int max, int64_t *face_ids,
                          float *quality, int *n);

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

// ---- XMP face regions (library/xmp.c; the XMP itself: meta/xmp.h) --------------------------------
// The faces of named persons as MWG face regions (mwg-rs:Regions, what digiKam, Lightroom,
// PhotoPrism and ExifTool read) in the photos' XMP, and such regions read back as the user's
// word. Areas are relative to the photo as stored (before its EXIF orientation), so the boxes
// (upright) are turned back on export and forward on import.
#define LIB_XMP_MATCH_IOU 0.3   // import: a region names the face it overlaps at least this much
                                // (or whose centre it holds while holding its centre)
struct lib_xmp_options {
    int in_file;                // export: write into the photo (atomically, a .bak kept) instead
                                // of the sidecar photo.jpg.xmp
    // each photo that failed (its path, why) and, import, each named region no face was found
    // for; may be NULL
    void (*report)(void *ctx, const char *path, const char *what);
    void *report_ctx;
};
struct lib_xmp_stats {
    int photos;                 // photos looked at
    int written;                // export: files written now (sidecars, or photos with --in-file)
    int unchanged;              // export: files that already held these regions (not touched)
    int regions;                // export: regions in the files; import: named face regions read
    int matched;                // import: regions matched to a detected face
    int assigned;               // import: faces given to the region's person now (user decisions)
    int kept;                   // import: matched faces the user had placed otherwise in facehatch
                                // (or said "not this person" for): left as they are
    int unmatched;              // import: named regions with no face detected there (reported;
                                // no face is invented)
    int skipped;                // regions not used: unnamed, not a face, unusable (meta/xmp.h)
    int failed;                 // photos whose XMP could not be read or written (reported)
    int persons_new;            // import: persons created for names the library did not have
};
// Export: for every indexed photo of the owner, the faces of named, visible persons become
// regions named after their person (face id order) in the sidecar "photo.jpg.xmp" (default) or,
// with o->in_file, in the photo itself (meta_regions_write_embedded; backup "photo.jpg.bak",
// written once). Our earlier regions are replaced, everything else in the XMP is kept (Face
// regions where one of ours lies are replaced too: meta/xmp.h); a photo with nothing to change
// is not touched, so exporting twice writes nothing the second time. A photo whose file is gone
// or whose XMP cannot be read or written counts in failed and is reported; the others go on.
// Returns FH_OK, or a store error / FH_E_NOMEM (stops there).
int lib_xmp_export(struct lib *L, int64_t owner, const struct lib_xmp_options *o, struct lib_xmp_stats *st);
// Import: for every indexed photo of the owner under one of the roots (all of them when n_roots
// is 0), the first of the sidecars "photo.jpg.xmp", "photo.xmp" and the photo's own XMP that has
// regions is read; each named Face region is matched to one detected face (greedy by IoU, see
// LIB_XMP_MATCH_IOU) and that face is moved to the person of that name (the first of that name
// in lib_persons_each order; a new person when there is none) as a user action: one op per name,
// so it wins over clustering and one undo takes it back. Faces the user already placed in
// facehatch (or said "not this person" for) are left alone (kept), so re-importing the same
// files changes nothing. Errors as lib_xmp_export.
int lib_xmp_import(struct lib *L, int64_t owner, const char *const *roots, int n_roots, const struct lib_xmp_options *o,
                   struct lib_xmp_stats *st);

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
// Avatar quality in [0, 1] (higher is a better avatar; stored in faces.quality at index
// time, so a library indexed before keeps its old values until a photo is analysed again:
// a changed file, recognition off and on; unchanged photos are not re-analysed by index):
// the parts below, each in [0, 1], combined by lib_quality_combine ((0.40 frontal + 0.30
// sharp + 0.10 size + 0.05 eyes + 0.15 exposure) x (0.5 + 0.5 det) x alone). aligned112 is the
// 112x112 crop of align_face (NULL: exposure counts 0.5); blur is lib_blur of it.
//   frontal   from the 5 landmarks: yaw (nose off the eyes-mouth axis), foreshortening (eye
//             distance over the axis length), roll (eye line; 0 at 30 degrees) and, only
//             when extreme, pitch (nose along the axis)
//   sharp     log10 of the variance of the Laplacian (1 from ~1000)
//   size      box width (1 from 160 px)
//   eyes      landmarks only (no eye-state model): both eyes inside the box and a plausible
//             eye distance for the box; it cannot tell open eyes from closed ones
//   exposure  mean grey of the aligned face in 70..190 (any skin tone), little clipped,
//             some contrast
//   det       detector score (0 at 0.8, 1 at 1.0)
//   alone     1 alone in the photo, 0.97 with other faces (a tie-breaker: the avatar is a crop)
// docs/RESULTS.md ("A better avatar") measures it against tests/data/avatar_ranking.tsv.
struct lib_quality_parts {
    float frontal, sharp, size, eyes, exposure, det, alone;
};
void lib_quality_parts(const struct fh_face *f, const struct img *aligned112, double blur, int faces_in_photo,
                       struct lib_quality_parts *q);
float lib_quality_combine(const struct lib_quality_parts *q);
float lib_quality(const struct fh_face *f, const struct img *aligned112, double blur, int faces_in_photo);

#endif
