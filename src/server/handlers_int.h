// SPDX-License-Identifier: MIT
// server-internal: what the route handlers share. handlers.c holds the router (the ROUTES
// table: one line per route), errors and the request helpers below; one file per resource
// holds its handlers (handlers_persons.c, handlers_faces.c, handlers_photos.c,
// handlers_uploads.c, handlers_search.c). Every handler reaches the photo library only
// through lib_* (never the store), under the server's one mutex S->mu; decoding and encoding
// images happen outside it.
#ifndef FH_HANDLERS_INT_H
#define FH_HANDLERS_INT_H

#include <stdint.h>

#include "library/library.h"
#include "server/server_int.h"

#define SRV_BULK_MAX 1000 // ids one bulk request may name (POST /api/persons, /api/faces/move|reject)

// A route handler: id is the '#' segment of its pattern (0 when none). Always fills rs.
typedef void (*srv_handler_fn)(struct srv *S, const struct srv_req *rq, int64_t id, struct srv_resp *rs);

// ---- replies (handlers.c) -------------------------------------------------------------------------
// An FH_E_* failure: the status from the code (404 NOTFOUND, 400 ARG, 413 LIMIT, 415
// FORMAT/UNSUPPORTED, 503 BUSY, else 500), the message from fh_errmsg().
void srv_fail(struct srv_resp *rs, int rc);
// A JSON reply written into rs->body: status and content type.
void srv_json_ok(struct srv_resp *rs, int status);

// ---- request helpers (handlers.c) -----------------------------------------------------------------
// A query-string argument (NULL if absent); as an int clamped to lo..hi (def if absent or not a number).
const char *srv_arg(const struct srv_req *rq, const char *key);
int srv_arg_int(const struct srv_req *rq, const char *key, int def, int lo, int hi);
// Parses the JSON body into d; on failure fills rs (400) and returns non-zero (d is then empty).
int srv_body_json(const struct srv_req *rq, struct srv_resp *rs, struct srv_jdoc *d);
// Like srv_body_json, but an empty body is an empty object (routes whose body is optional).
int srv_body_json_opt(const struct srv_req *rq, struct srv_resp *rs, struct srv_jdoc *d);
// An id member: a positive integer; null (or 0) allowed only when nullable (*id = 0). On a bad
// value fills rs (400) and returns non-zero.
int srv_json_id(const struct srv_jdoc *d, const char *key, int nullable, int64_t *id, struct srv_resp *rs);
// An array of 1..max positive integer ids: *ids (fh_malloc'd, caller frees) and *n. On a
// missing, empty, too long or mistyped array fills rs (400) and returns non-zero.
int srv_json_ids(const struct srv_jdoc *d, const char *key, int max, int64_t **ids, int *n, struct srv_resp *rs);

// ---- JSON shapes (handlers.c; docs/http-api.md "Shapes") -----------------------------------------
void srv_person_json(struct srv_json *w, const struct store_person *p);
void srv_face_json(struct srv_json *w, const struct store_face *f);
void srv_photo_json(struct srv_json *w, const struct store_photo *p);
// Writes the member "op": {"id", "summary"} of the owner's latest op (the action just done on
// S->L; call under S->mu right after it), or "op": null if the log has none.
void srv_op_member(struct srv *S, int64_t owner, struct srv_json *w);
// Answers {"person": person, "op": {...}} (with_op) for a person after a change. Under S->mu.
void srv_person_reply(struct srv *S, const struct srv_req *rq, int64_t id, int with_op, struct srv_resp *rs);

// Answers {"op": {...}} for an action that leaves nothing to show (a delete). Under S->mu.
void srv_op_reply(struct srv *S, const struct srv_req *rq, struct srv_resp *rs);

// ---- the handlers, by resource ------------------------------------------------------------------
// handlers.c
void srv_h_undo(struct srv *S, const struct srv_req *rq, int64_t id, struct srv_resp *rs);
// handlers_persons.c
void srv_h_persons_list(struct srv *S, const struct srv_req *rq, int64_t id, struct srv_resp *rs);
void srv_h_person_new(struct srv *S, const struct srv_req *rq, int64_t id, struct srv_resp *rs);
void srv_h_person_get(struct srv *S, const struct srv_req *rq, int64_t id, struct srv_resp *rs);
void srv_h_person_rename(struct srv *S, const struct srv_req *rq, int64_t id, struct srv_resp *rs);
void srv_h_person_merge(struct srv *S, const struct srv_req *rq, int64_t id, struct srv_resp *rs);
void srv_h_person_apart(struct srv *S, const struct srv_req *rq, int64_t id, struct srv_resp *rs);
void srv_h_review_merges(struct srv *S, const struct srv_req *rq, int64_t id, struct srv_resp *rs);
void srv_h_person_hide(struct srv *S, const struct srv_req *rq, int64_t id, struct srv_resp *rs);
void srv_h_person_avatar(struct srv *S, const struct srv_req *rq, int64_t id, struct srv_resp *rs);
void srv_h_person_avatars(struct srv *S, const struct srv_req *rq, int64_t id, struct srv_resp *rs);
void srv_h_person_delete(struct srv *S, const struct srv_req *rq, int64_t id, struct srv_resp *rs);
// handlers_faces.c
void srv_h_unknown_list(struct srv *S, const struct srv_req *rq, int64_t id, struct srv_resp *rs);
void srv_h_face_get(struct srv *S, const struct srv_req *rq, int64_t id, struct srv_resp *rs);
void srv_h_face_move(struct srv *S, const struct srv_req *rq, int64_t id, struct srv_resp *rs);
void srv_h_face_reject(struct srv *S, const struct srv_req *rq, int64_t id, struct srv_resp *rs);
void srv_h_face_thumb(struct srv *S, const struct srv_req *rq, int64_t id, struct srv_resp *rs);
void srv_h_faces_move(struct srv *S, const struct srv_req *rq, int64_t id, struct srv_resp *rs);
void srv_h_faces_reject(struct srv *S, const struct srv_req *rq, int64_t id, struct srv_resp *rs);
// handlers_photos.c
void srv_h_photo_get(struct srv *S, const struct srv_req *rq, int64_t id, struct srv_resp *rs);
void srv_h_photo_image(struct srv *S, const struct srv_req *rq, int64_t id, struct srv_resp *rs);
void srv_h_photo_delete(struct srv *S, const struct srv_req *rq, int64_t id, struct srv_resp *rs);
// handlers_uploads.c
void srv_h_upload(struct srv *S, const struct srv_req *rq, int64_t id, struct srv_resp *rs);
// handlers_search.c
void srv_h_status(struct srv *S, const struct srv_req *rq, int64_t id, struct srv_resp *rs);
void srv_h_search(struct srv *S, const struct srv_req *rq, int64_t id, struct srv_resp *rs);
void srv_h_recluster(struct srv *S, const struct srv_req *rq, int64_t id, struct srv_resp *rs);

#endif
