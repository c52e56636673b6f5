// SPDX-License-Identifier: MIT
// store: the photo library's database. ALL SQL lives in this module, on one of two engines
// behind the same API: SQLite (a file path; the embedded default) or PostgreSQL 15 (a
// postgres:// or postgresql:// URL; a service with many worker processes, issue 10). It knows
// photos, faces (box, landmarks, scores, embedding, thumbnail), persons, the user's
// corrections, and the embedding model that produced each vector. Every row belongs to
// an owner (user id; the CLI uses user 1, "local"), ready for the multi-user service.
// No clustering, no image decoding here: callers pass plain data.
//
//   struct store *s;
//   if (store_open("lib.db", &s)) puts(fh_errmsg());      // creates / migrates
//   store_begin(s);
//   int64_t pid; store_photo_upsert(s, 1, &photo, &pid);   // one photo = one transaction
//   store_face_insert(s, 1, pid, &face, &fid);
//   store_commit(s);
//   store_close(s);
//
// Errors: FH_OK or FH_E_DB (message from SQLite, copied), FH_E_BUSY (locked longer than
// the busy timeout), FH_E_NOTFOUND, FH_E_ARG, FH_E_NOMEM. A failed statement inside a
// transaction leaves it open: the caller rolls back. Nothing is ever half-written: the
// database runs in WAL mode with synchronous=FULL, so a kill -9 at any moment leaves the
// last committed state.
// Thread safety: one struct store per thread (SQLite connection); several processes or
// threads may open the same file (WAL: readers never block the writer).
//
// Returned strings and blobs: store_*_find / store_*_get fill structs whose pointers point
// into buffers owned by s, valid until the next store call on s.
//
// Callbacks (store_*_each, store_faces_of_photo): the row passed to fn (strings, embedding,
// thumbnail included) is valid only during that call of fn. While fn runs it MAY call the
// reading functions on the same handle (store_*_get, store_*_find, store_*_each,
// store_face_is_rejected, store_meta_get, store_check); it must NOT write through it
// (insert, update, delete, begin/commit/rollback): such a call fails with FH_E_ARG. Collect
// ids in fn and write after the iteration returns (or use a second handle). If fn returns
// non-zero the iteration stops and that value is returned (a callback can stop with an
// FH_E_* code, or with a positive value meaning "found"); otherwise FH_OK or a store error.
//
// Memory: SQLite's own allocations are routed through fh_malloc (installed by the first
// store_open, before SQLite initialises), so fh_alloc_fail_after reaches them too.
#ifndef FH_STORE_H
#define FH_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "base/base.h"


#define STORE_EMB_MAX 512        // largest embedding dimension accepted
#define STORE_SCHEMA_VERSION 6
// Limits on inputs, checked (FH_E_ARG) before the database is touched.
// TODO(base): move to base/limits.h beside the other limits on outside input.
#define STORE_PATH_MAX 4096            // photo path bytes: PATH_MAX on Linux
#define STORE_THUMB_MAX (1u << 20)     // face thumbnail bytes: a small JPEG is ~5-20 KB
#define STORE_NAME_MAX 256             // user, person and model names, meta keys (bytes)
#define STORE_TEXT_MAX 65536           // meta values and photo error texts (bytes)
#define STORE_BUSY_TIMEOUT_MS 5000     // default wait for another connection's write lock

struct store;

// ---- opening, transactions ----------------------------------------------------------------
// Opens (creating if needed) and migrates the schema to STORE_SCHEMA_VERSION. A file that
// is not a facehatch database (or is newer than this program) is refused with FH_E_DB
// naming the problem; the file is not modified then.
// path ":memory:" gives a private in-memory database (no WAL there). *out is NULL on error.
// Settings: WAL, synchronous=FULL, foreign_keys=ON, busy timeout STORE_BUSY_TIMEOUT_MS.
int store_open(const char *path, struct store **out);
// The same with flags. STORE_OPEN_EXISTING: a database without a facehatch library in it
// (a new file, an empty PostgreSQL database) is FH_E_NOTFOUND and nothing is created
// (workers use it: they never create a library, so a wrong URL cannot make a new one).
// PostgreSQL: path is a libpq URL; an unreachable server or refused login is FH_E_DB
// "store: cannot connect to URL: reason" (the password in the URL shown as ***). Every
// transaction there takes one advisory lock first (one writer at a time, like SQLite's
// BEGIN IMMEDIATE); reads never wait. A failed statement aborts the open transaction.
#define STORE_OPEN_EXISTING 1
int store_open_ex(const char *path, int flags, struct store **out);
// 1 if path names a PostgreSQL database (postgres:// or postgresql://), else 0.
int store_is_url(const char *path);
// path for messages: a password in a URL ("user:secret@", "password=secret") shown as ***
void store_redact_url(const char *path, char *out, size_t n);
enum store_backend_kind { STORE_SQLITE = 0, STORE_POSTGRES = 1 };
int store_backend(const struct store *s); // enum store_backend_kind
void store_close(struct store *s);   // accepts NULL; rolls back an open transaction
// How long a call waits for another connection's lock before failing with FH_E_BUSY.
int store_set_busy_timeout(struct store *s, int ms);
int store_begin(struct store *s);     // BEGIN IMMEDIATE (takes the write lock)
int store_commit(struct store *s);
int store_rollback(struct store *s);  // safe to call when no transaction is open
// PRAGMA integrity_check == "ok" -> FH_OK, else FH_E_DB with the first problem. Also runs
// PRAGMA foreign_key_check: a dangling reference is FH_E_DB naming the table and row.
int store_check(struct store *s);

// ---- users and models ------------------------------------------------------------------------
// The id of a user by name, creating it if absent ("local" is user 1, created at open).
// name: 1..STORE_NAME_MAX bytes, else FH_E_ARG.
int store_user_get(struct store *s, const char *name, int64_t *id);
// The id of an existing user by name; FH_E_NOTFOUND ("no user named ...") if absent. Creates
// nothing (the CLI's --user uses this one; store_user_find gives the whole row). name: 1..STORE_NAME_MAX bytes.
int store_user_id(struct store *s, const char *name, int64_t *id);
// The id of an embedding model (name, version, sha256 of its file, dimension), created if
// absent. Every stored embedding refers to one. sha256: 64 hex digits; dim 1..STORE_EMB_MAX;
// the same (name, version, sha256) registered with another dim is FH_E_ARG.
int store_model_get(struct store *s, const char *name, const char *version, const char *sha256,
                    int dim, int64_t *id);

// A registered embedding model and how many faces it made.
struct store_model {
    int64_t id;
    char name[STORE_NAME_MAX + 1], version[STORE_NAME_MAX + 1], sha256[65];
    int dim;
    int64_t faces;
};
// The first model (by id), other than (name, version, sha256), that made some stored face's
// embedding, in *other (any owner's faces count): FH_OK; none (an empty library, or all its
// faces by that model): FH_E_NOTFOUND. Reads only; the arguments need not be registered.
int store_model_other(struct store *s, const char *name, const char *version, const char *sha256,
                      struct store_model *other);

// The model that made most of the stored faces (any owner's): the library's model. FH_E_NOTFOUND
// when no face has one (an empty library).
int store_model_in_use(struct store *s, struct store_model *out);
// A registered model by id (faces: how many it made). FH_E_NOTFOUND if absent.
int store_model_by_id(struct store *s, int64_t id, struct store_model *out);

// ---- re-embedding (store_reembed.c) ------------------------------------------------------------
// Switching the library's model (issue 12): the faces' vectors from the target model are staged
// (table face_next) while every face keeps its own, so an interrupted re-embed leaves the
// library working on the old model and a re-run resumes with what is staged. The library is
// per database, not per owner: these functions see every owner's faces.
struct store_reembed_face {
    int64_t face_id, photo_id, owner;
    const char *path;            // the photo's stored path (valid during the callback)
    int box[4];
    float landmarks[10];
};
// Faces still to re-embed for target: made by another model (or none) and not staged for
// it. At most `limit` (>= 1) photos' worth, ordered by photo then face, so a photo's faces
// come together. The callback rules of the *_each functions (top of this file).
int store_reembed_pending(struct store *s, int64_t target, int limit,
                          int (*fn)(void *ctx, const struct store_reembed_face *f), void *ctx);
// Stages face_id's vector from target (dim finite floats; emb NULL with dim 0: the face could
// not be re-embedded and keeps no vector under target). Replaces an earlier row of the face.
int store_reembed_put(struct store *s, int64_t face_id, int64_t target, const float *emb, int dim);
// Staged rows for target, and faces still to re-embed for it.
int store_reembed_count(struct store *s, int64_t target, int64_t *staged, int64_t *pending);
// The model of a re-embed in progress (staged rows exist); FH_E_NOTFOUND if none.
int store_reembed_target(struct store *s, int64_t *target);
// Drops staged rows of any model other than target (a re-embed to another model abandoned).
int store_reembed_discard(struct store *s, int64_t target);
// Once nothing is pending for target: in one transaction (its own unless the caller's), every
// staged face takes its new vector and target as its model, undo's before-images of deleted
// faces lose their old vectors (an undo never brings back another model's vector), and the
// staged rows go. *faces (may be NULL) gets the faces switched. FH_E_ARG, nothing changed,
// while faces are pending.
int store_reembed_swap(struct store *s, int64_t target, int64_t *faces);

// A stamp that changes whenever the database may have changed: another connection committed
// (PRAGMA data_version) or this one wrote (total changes). Equal stamps: nothing changed, a
// cache built from the data is still good.
int store_change_stamp(struct store *s, int64_t stamp[2]);

// ---- key/value settings (calibration constants, clustering parameters) ----------------------
// key: 1..STORE_NAME_MAX bytes; value: at most STORE_TEXT_MAX bytes. Global (not per owner).
int store_meta_set(struct store *s, const char *key, const char *value);
// Copies the value into buf (NUL-terminated, truncated to n >= 1); FH_E_NOTFOUND if absent.
int store_meta_get(struct store *s, const char *key, char *buf, size_t n);

// ---- photos ----------------------------------------------------------------------------------
struct store_photo {
    int64_t id;
    const char *path;            // as given by the caller (absolute or library-relative)
    int64_t size, mtime;         // bytes, seconds since the epoch
    char sha256[65];             // content hash, 64 hex digits ("" if the file was unreadable)
    int width, height;           // upright size (after EXIF orientation); 0 if unreadable
    int n_faces;                 // faces stored for the photo: counted on read, ignored by upsert
    int status;                  // 0 indexed, 1 could not be read (error holds why)
    const char *error;           // may be NULL; at most STORE_TEXT_MAX bytes
    const char *orig_name;       // an upload's original file name (NULL: none, e.g. indexed
                                 // folders); at most STORE_PATH_MAX bytes. Upsert of an existing
                                 // row with NULL keeps the stored name.
};
// Looks a photo up by owner and path. FH_E_NOTFOUND if absent. Strings in *out point into
// a buffer owned by s, valid until the next store call.
int store_photo_find(struct store *s, int64_t owner, const char *path, struct store_photo *out);
// The same by id. FH_E_NOTFOUND if absent or not owned.
int store_photo_get(struct store *s, int64_t owner, int64_t photo_id, struct store_photo *out);
// Inserts or replaces the photo row (by owner+path); *id gets its id. Replacing a row
// whose sha256 changed deletes its faces (the caller re-inserts them in the same
// transaction and may carry user corrections over first, see store_faces_of_photo). The id
// stays the same on replace. p->id and p->n_faces are ignored. path: 1..STORE_PATH_MAX bytes.
int store_photo_upsert(struct store *s, int64_t owner, const struct store_photo *p, int64_t *id);
// Deletes a photo and its faces (persons keep existing; empty ones are removed by
// store_persons_prune). An avatar that was one of these faces is cleared.
// FH_E_NOTFOUND if absent or not owned.
int store_photo_delete(struct store *s, int64_t owner, int64_t photo_id);
// Calls fn for every photo of the owner (ordered by path); fn returns non-zero to stop.
int store_photos_each(struct store *s, int64_t owner,
                      int (*fn)(void *ctx, const struct store_photo *p), void *ctx);

// ---- faces -------------------------------------------------------------------------------------
enum store_assign { STORE_AUTO = 0, STORE_USER = 1 };

struct store_face {
    int64_t id, photo_id;
    int box[4];                  // x1, y1, x2, y2 inclusive, upright photo pixels
    float landmarks[10];
    float det_score;             // detector confidence
    float blur;                  // variance of the Laplacian of the aligned grey crop
    float quality;               // avatar quality score (higher is better)
    int blurry, trash;           // quality gates: kept but never clustered
    int64_t model_id;
    int dim;                     // embedding dimension (<= STORE_EMB_MAX)
    const float *embedding;      // dim floats (borrowed on insert; points into s on read)
    const uint8_t *thumb;        // small JPEG (borrowed on insert; into s on read)
    size_t thumb_size;
    int64_t person_id;           // 0 = unknown
    int assigned;                // enum store_assign: who put it in person_id
    char detector[16];           // the detector that found it ("mtcnn", "haar"; fh_detector_name);
                                 // "" on insert stores "mtcnn" (faces of schema < 4 read "mtcnn")
};
// Inserts a face of photo f->photo_id (owned by owner, else FH_E_NOTFOUND); f->id is ignored.
// dim 0 stores no embedding (model_id may be 0 then); dim 1..STORE_EMB_MAX needs a finite
// embedding and a model registered with that dim (FH_E_ARG otherwise). thumb_size at most
// STORE_THUMB_MAX. person_id, if not 0, must be a person of the owner.
// Stored as float32 little-endian BLOBs (embedding: dim*4 bytes, landmarks: 40 bytes).
int store_face_insert(struct store *s, int64_t owner, const struct store_face *f, int64_t *id);
// Reads one face (embedding and thumbnail included). FH_E_NOTFOUND if absent or not owned.
int store_face_get(struct store *s, int64_t owner, int64_t face_id, struct store_face *out);
// Calls fn for every face of the owner, ordered by id. with_blobs=0 skips embedding and
// thumbnail (faster listing), STORE_FACES_EMB reads the embedding but not the thumbnail
// (clustering: a tenth of the bytes), STORE_FACES_UNKNOWN the same for the faces in no person
// that the user did not make unknown (STORE_AUTO): new persons form from these (only they
// leave the database). fn returns non-zero to stop.
#define STORE_FACES_EMB 2
#define STORE_FACES_UNKNOWN 3
int store_faces_each(struct store *s, int64_t owner, int with_blobs,
                     int (*fn)(void *ctx, const struct store_face *f), void *ctx);
// The owner's faces with id > after_id, ordered by id, with embeddings (no thumbnails): what
// was added since a cache was built (ids only grow).
int store_faces_after(struct store *s, int64_t owner, int64_t after_id,
                      int (*fn)(void *ctx, const struct store_face *f), void *ctx);
int store_faces_of_photo(struct store *s, int64_t owner, int64_t photo_id,
                         int (*fn)(void *ctx, const struct store_face *f), void *ctx);
// Sets a face's person (0 = unknown) and who decided it. FH_E_NOTFOUND if the face or the
// person is not the owner's. STORE_AUTO into a person the user rejected for that face is
// FH_E_ARG (clustering must skip it, see store_face_is_rejected); STORE_USER there means the
// user changed their mind: the reject is removed. A face that leaves a person stops being its
// avatar.
int store_face_assign(struct store *s, int64_t owner, int64_t face_id, int64_t person_id,
                      enum store_assign by);
// Automatic assignment of many faces at once (clustering): face faces[i] goes to person
// persons[i] (> 0) as STORE_AUTO. Pairs the user rejected, and faces or persons that are not
// the owner's, are skipped silently; *changed (may be NULL) counts the faces set. Avatars
// whose face left its person are cleared. Inside the caller's transaction or its own.
// PostgreSQL: one statement per 5,000 faces.
int store_faces_assign_auto(struct store *s, int64_t owner, const int64_t *faces, const int64_t *persons, int n,
                            int *changed);
// Clears every automatic assignment of the owner (user assignments stay). Avatars whose face
// left its person are cleared.
int store_faces_clear_auto(struct store *s, int64_t owner);
// The user said "this face is not that person": recorded for good; the face becomes
// unknown (STORE_AUTO, so clustering may place it elsewhere) if it was in that person, and
// stops being its avatar. Automatic clustering must never put it back there.
// FH_E_NOTFOUND if the face or the person is not the owner's. Rejecting twice is FH_OK.
int store_face_reject(struct store *s, int64_t owner, int64_t face_id, int64_t person_id);
// 1 if (face, person) was rejected by the user, else 0 (negative on error).
int store_face_is_rejected(struct store *s, int64_t face_id, int64_t person_id);
// Deletes a face (its rejects too; an avatar that was this face is cleared).
// FH_E_NOTFOUND if absent or not owned.
int store_face_delete(struct store *s, int64_t owner, int64_t face_id);
// Calls fn(ctx, face_id, person_id) for every "not this person" of the owner (ordered by
// face id); fn returns non-zero to stop.
int store_rejects_each(struct store *s, int64_t owner,
                       int (*fn)(void *ctx, int64_t face_id, int64_t person_id), void *ctx);

// ---- persons -----------------------------------------------------------------------------------
struct store_person {
    int64_t id;
    const char *name;            // NULL when unnamed (into s, valid until the next call)
    int hidden;
    int64_t avatar_face;         // 0 = none
    int avatar_by_user;          // the user picked the avatar: keep it
    int n_faces, n_photos;
};
// Names: NULL or "" means unnamed; at most STORE_NAME_MAX bytes (FH_E_ARG); several persons
// may share a name. Functions taking a person id return FH_E_NOTFOUND if it is not the owner's.
int store_person_create(struct store *s, int64_t owner, const char *name, int64_t *id);
int store_person_get(struct store *s, int64_t owner, int64_t id, struct store_person *out);
// By exact name; FH_E_NOTFOUND if none; FH_E_ARG if several persons share it.
int store_person_find(struct store *s, int64_t owner, const char *name, struct store_person *out);
int store_person_rename(struct store *s, int64_t owner, int64_t id, const char *name);
int store_person_hide(struct store *s, int64_t owner, int64_t id, int hidden);
// face_id must be a face of that person (FH_E_ARG otherwise); 0 clears the avatar. An
// automatic pick (by_user 0) never replaces the user's pick: FH_OK, nothing changes.
int store_person_set_avatar(struct store *s, int64_t owner, int64_t id, int64_t face_id, int by_user);
// Moves every face of `from` into `into` (user-assigned), carries rejects over, keeps
// into's name (or takes from's if into has none) and deletes `from`. Also: into keeps its
// hidden flag and avatar (takes from's if it has none); a reject wins over the merge: a face
// rejected for into (directly or carried over from from) ends up unknown. into == from is
// FH_E_ARG. Atomic (its own transaction unless the caller has one open).
int store_person_merge(struct store *s, int64_t owner, int64_t into, int64_t from);
// Persons of the owner ordered by face count (desc), then id; n_faces counts faces,
// n_photos distinct photos with a face of the person (store_person_get fills them too).
int store_persons_each(struct store *s, int64_t owner,
                       int (*fn)(void *ctx, const struct store_person *p), void *ctx);
// Deletes a person; its faces become unknown by the user's word (STORE_USER, so clustering
// leaves them unknown until the user moves them); its rejects go with it. FH_E_NOTFOUND if
// not the owner's.
int store_person_dissolve(struct store *s, int64_t owner, int64_t id);
// Deletes persons with no faces that the user never named. Returns FH_OK.
int store_persons_prune(struct store *s, int64_t owner);

// ---- accounts: users, sessions, API tokens (store_auth.c) -------------------------------------
// Rows only; the policy (name and password rules, hashing, expiry, rate limits) is auth/'s.
// Secrets never reach the store: a password arrives as its hash string (opaque here;
// libsodium's crypto_pwhash_str), sessions and tokens are kept and looked up by the
// SHA-256 of the secret (64 hex digits, checked: FH_E_ARG). Times are seconds since the epoch,
// given by the caller (so tests can move the clock). User ids come from AUTOINCREMENT: a
// deleted user's id is never handed out again. User names: 1..STORE_NAME_MAX bytes (FH_E_ARG).
#define STORE_HASH_MAX 256             // password hash string bytes (crypto_pwhash_STRBYTES: 128)

struct store_user {
    int64_t id;
    const char *name;            // into s (find/get) or the row (each)
    const char *pass_hash;       // NULL: no password, cannot log in (each: always NULL)
    int has_password;            // pass_hash IS NOT NULL (set by each too)
    int64_t created;             // 0 for users from before accounts existed
    int recognition;             // face recognition on (1, the default) or off (0)
    int64_t quota_bytes;         // upload quota in bytes; 0 = unlimited
    int n_photos;                // photos owned: counted by store_users_each (0 from find/by_id)
};
// Creates a user; pass_hash may be NULL (no login). FH_E_EXISTS if the name is taken.
int store_user_create(struct store *s, const char *name, const char *pass_hash, int64_t created,
                      int64_t *id);
// By name, never creating (unlike store_user_get). FH_E_NOTFOUND if absent. Strings in *out
// point into s, valid until the next store call.
int store_user_find(struct store *s, const char *name, struct store_user *out);
// By id. FH_E_NOTFOUND if absent.
int store_user_by_id(struct store *s, int64_t id, struct store_user *out);
// Every user ordered by id; the callback rules of the *_each functions (top of this file).
int store_users_each(struct store *s, int (*fn)(void *ctx, const struct store_user *u), void *ctx);
// Replaces the password hash (NULL: no password). FH_E_NOTFOUND if no such user.
int store_user_set_password(struct store *s, int64_t id, const char *pass_hash);
// What deleting a user removed (counted inside the deleting transaction).
struct store_user_counts {
    int64_t photos, faces, persons, rejects, sessions, tokens;
};
// Deletes a user and, in the same transaction, every row of theirs: photos, faces (with their
// embeddings and thumbnails), persons, rejects, sessions, tokens (foreign-key cascades). out
// may be NULL. FH_E_NOTFOUND if no such user. Files on disk (uploads) are the caller's.
int store_user_delete(struct store *s, int64_t id, struct store_user_counts *out);
// Per-user settings; FH_E_NOTFOUND if no such user. on: 0 or 1; bytes >= 0 (else FH_E_ARG).
int store_user_set_recognition(struct store *s, int64_t id, int on);
int store_user_get_recognition(struct store *s, int64_t id, int *on);
int store_user_set_quota(struct store *s, int64_t id, int64_t bytes);
int store_user_get_quota(struct store *s, int64_t id, int64_t *bytes);
// How many users have a password ("accounts exist" when > 0).
int store_users_with_password(struct store *s, int *n);

struct store_session {
    char hash[65];               // SHA-256 of the session id, 64 hex digits
    int64_t user_id;
    int64_t created, expires;    // expires: the first second it is no longer valid
    int64_t last_seen;
};
// Inserts a session (FH_E_EXISTS if the hash is there already; user must exist, else
// FH_E_NOTFOUND). expires must be > created (FH_E_ARG).
int store_session_insert(struct store *s, const struct store_session *x);
// The session with that hash if it is still valid at now (expires > now); FH_E_NOTFOUND if
// absent or expired (an expired row is left for store_sessions_purge).
int store_session_get(struct store *s, const char *hash, int64_t now, struct store_session *out);
// Sets last_seen and expires. FH_E_NOTFOUND if absent.
int store_session_touch(struct store *s, const char *hash, int64_t last_seen, int64_t expires);
// Deletes one session. FH_E_NOTFOUND if absent.
int store_session_delete(struct store *s, const char *hash);
// Deletes every session of a user / every session expired at now; *n (may be NULL) gets
// how many went.
int store_sessions_delete_user(struct store *s, int64_t user_id, int *n);
int store_sessions_purge(struct store *s, int64_t now, int *n);

struct store_token {
    int64_t id, user_id;
    char hash[65];               // SHA-256 of the token, 64 hex digits
    const char *name;            // the user's label (into s, or the row in each)
    int64_t created, last_used;  // last_used 0 = never
};
// Inserts a token for a user; name 1..STORE_NAME_MAX bytes. FH_E_NOTFOUND if no such user,
// FH_E_EXISTS if the hash is there already. *id gets its id (AUTOINCREMENT, never reused).
int store_token_insert(struct store *s, int64_t user_id, const char *hash, const char *name,
                       int64_t created, int64_t *id);
// By hash. FH_E_NOTFOUND if absent.
int store_token_get(struct store *s, const char *hash, struct store_token *out);
int store_token_touch(struct store *s, int64_t id, int64_t last_used);  // FH_E_NOTFOUND if absent
// A user's tokens ordered by id (callback rules as above).
int store_tokens_each(struct store *s, int64_t user_id,
                      int (*fn)(void *ctx, const struct store_token *t), void *ctx);
// Deletes a token of that user; FH_E_NOTFOUND if it is absent or another user's.
int store_token_delete(struct store *s, int64_t user_id, int64_t token_id);
// Face recognition off for an owner: deletes all their faces (boxes, embeddings,
// thumbnails), persons, rejects and their operation log (its before-images hold embeddings);
// their photos stay, with sha256 cleared so the next analysis of each stores faces again.
// Call inside a transaction (store_begin) for atomicity.
int store_owner_forget_faces(struct store *s, int64_t owner);

// ---- operation log and undo (store_ops.c) ---------------------------------------------------
// A user action is recorded as one op (owner, kind, a short human summary) plus before-images
// of the rows it is about to change. The library calls, inside the action's transaction and
// BEFORE changing anything: store_op_begin, then the save functions for every row the action
// touches (saving a row twice keeps the first image). store_op_undo restores the owner's most
// recent op: photos and faces it deleted come back (ids kept), persons get their name,
// hidden flag, avatar and faces' assignments back, persons it created are deleted, the "not
// this person" rows of everything in scope are as before. Rows whose parent vanished since
// (a face whose photo was deleted later, a reject of a deleted person) are skipped. Undo
// removes the op (undo is a stack; there is no redo). Only the owner's ops are seen.
#define STORE_OP_SUMMARY_MAX 200 // bytes of an op's summary kept (longer is truncated)
int store_op_begin(struct store *s, int64_t owner, const char *kind, const char *summary, int64_t *op);
// The person row (name, hidden, avatar) and the rejects of it; with_faces: also the
// assignment and rejects of every face now in it (merge, delete person).
int store_op_save_person(struct store *s, int64_t op, int64_t owner, int64_t person_id, int with_faces);
// A person the op creates: undo deletes it.
int store_op_new_person(struct store *s, int64_t op, int64_t person_id);
// One face's assignment (person, who decided) and all its rejects.
int store_op_save_face(struct store *s, int64_t op, int64_t owner, int64_t face_id);
// A photo about to be deleted: its row, its faces in full (embedding, thumbnail), their
// rejects, and the rows of the persons they are in.
int store_op_save_photo(struct store *s, int64_t op, int64_t owner, int64_t photo_id);
// Undoes the owner's most recent op (own transaction); summary gets its text (may be NULL
// when n is 0). FH_E_NOTFOUND "nothing to undo" when the owner has no op.
int store_op_undo(struct store *s, int64_t owner, char *summary, size_t n);
// Keeps the owner's `keep` newest ops, deletes the older ones. *paths (fh_malloc'd array of
// fh_malloc'd strings, *n_paths of them) gets the paths of photos deleted by the pruned ops
// that no photo row and no kept op refers to: their files may go now. Inside the caller's
// transaction or its own statement.
int store_ops_prune(struct store *s, int64_t owner, int keep, char ***paths, int *n_paths);
int store_ops_count(struct store *s, int64_t owner, int *n);
// The owner's most recent op: *id and its summary (n bytes, may be NULL when n is 0).
// FH_E_NOTFOUND "nothing to undo" when the owner has none.
int store_op_last(struct store *s, int64_t owner, int64_t *id, char *summary, size_t n);
// *yes = 1 when a photo row of the owner or one of the owner's ops refers to path, else 0.
int store_path_in_use(struct store *s, int64_t owner, const char *path, int *yes);
// Gives the owner's photo rows and op before-images at old_path the path new_path (its own
// transaction unless one is open). FH_E_ARG for paths over STORE_PATH_MAX or empty.
int store_photo_repath(struct store *s, int64_t owner, const char *old_path, const char *new_path);

// ---- the job queue (store_jobs.c) -------------------------------------------------------------
// Work for `facehatch worker` processes (issue 10). A job is claimed under a lease (seconds,
// by the database's clock); the worker renews it while it works (heartbeat) and finishes
// the job inside the same transaction as its results, with the claim's token: a worker
// whose lease ran out (it stalled, or was killed and its job re-claimed) gets FH_E_NOTFOUND
// there and must roll back, so a photo's faces are written exactly once. A job whose lease
// expires is claimed again (attempts counts the claims).
#define STORE_JOB_INDEX "index"        // a photo: path (read by the worker) or data (an upload)
#define STORE_JOB_CLUSTER "cluster"    // form persons from the owner's unknown faces
#define STORE_JOB_DATA_MAX (1u << 30)  // bytes of an upload kept in a job (PostgreSQL: 1 GB)
enum store_job_state { STORE_JOB_QUEUED = 0, STORE_JOB_RUNNING, STORE_JOB_DONE, STORE_JOB_FAILED };
struct store_job {
    int64_t id, owner;
    char kind[16];
    const char *path;            // into s, valid until the next store call
    const char *orig_name;       // NULL: none
    const uint8_t *data;         // NULL: read path; else data_size bytes (into s)
    size_t data_size;
    int attempts;                // claims so far, this one included
    int64_t token;               // the claim's fencing token
};
// Queues a job; *added (may be NULL) 0 when the same (owner, kind, path) is queued already
// (not yet claimed): nothing is added then. kind STORE_JOB_INDEX needs a path (1..
// STORE_PATH_MAX bytes); a cluster job's path is "". data: NULL or n <= STORE_JOB_DATA_MAX.
int store_job_enqueue(struct store *s, int64_t owner, const char *kind, const char *path,
                      const char *orig_name, const uint8_t *data, size_t n, int *added);
// Claims the oldest claimable job for lease_s (1..86400) seconds: index jobs first; a
// cluster job once its owner has no index job queued or running and no other cluster job
// running. FH_E_NOTFOUND: none.
int store_job_claim(struct store *s, const char *worker, int lease_s, struct store_job *out);
// Renews the lease; FH_E_NOTFOUND when it was lost.
int store_job_heartbeat(struct store *s, int64_t id, int64_t token, int lease_s);
// Marks the job done (ok) or failed (error: NULL or a message); call inside the transaction
// that writes the job's results. FH_E_NOTFOUND when the lease was lost: roll back.
int store_job_finish(struct store *s, int64_t id, int64_t token, int ok, const char *error);
struct store_job_counts {
    int64_t queued, running, done, failed;
};
// Jobs by state, of one owner (or all: owner 0), of one kind (or all: NULL).
int store_jobs_count(struct store *s, int64_t owner, const char *kind, struct store_job_counts *out);
// Deletes done and failed jobs finished before `before` (seconds since the epoch); *n (may
// be NULL) gets how many.
int store_jobs_purge(struct store *s, int64_t before, int *n);

#endif
