// SPDX-License-Identifier: MIT
// store schema, as migration steps (see store_int.h). Design:
// - every row a user sees carries `owner` (photos, faces, persons) so each query filters on
//   it; face_rejects hang off a face, so they follow its owner.
// - ids are INTEGER PRIMARY KEY (the rowid); 0 in the API means NULL in a reference column.
// - faces: small mutable columns first, the BLOBs last (landmarks 40 B, embedding dim*4 B,
//   thumbnail), so listings without blobs never walk the overflow pages.
// - foreign keys: a photo's faces go with it; a person's deletion makes its faces unknown;
//   an avatar face's deletion clears the avatar; rejects go with their face or person.
// - indexes: UNIQUE (owner, path) serves store_photo_find and ordered listing; faces by
//   (owner, id), photo_id, person_id; persons by (owner, name) and avatar_face (the latter
//   so deleting a face does not scan persons for the SET NULL); rejects by person.
// - portable SQL where it costs nothing (PostgreSQL later): no STRICT/WITHOUT ROWID,
//   ON CONFLICT ... DO, RETURNING; application_id / user_version are SQLite-only pragmas and
//   live in store.c.
#include "store/store_int.h"

static const char schema_v1[] =
    "CREATE TABLE users ("
    "  id INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL UNIQUE"
    ");"
    "INSERT INTO users (id, name) VALUES (1, 'local');"
    "CREATE TABLE models ("
    "  id INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL,"
    "  version TEXT NOT NULL,"
    "  sha256 TEXT NOT NULL,"
    "  dim INTEGER NOT NULL CHECK (dim > 0),"
    "  UNIQUE (name, version, sha256)"
    ");"
    "CREATE TABLE meta ("
    "  key TEXT PRIMARY KEY,"
    "  value TEXT NOT NULL"
    ");"
    "CREATE TABLE photos ("
    "  id INTEGER PRIMARY KEY,"
    "  owner INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,"
    "  path TEXT NOT NULL,"
    "  size INTEGER NOT NULL,"
    "  mtime INTEGER NOT NULL,"
    "  sha256 TEXT NOT NULL,"
    "  width INTEGER NOT NULL,"
    "  height INTEGER NOT NULL,"
    "  status INTEGER NOT NULL CHECK (status IN (0, 1)),"
    "  error TEXT,"
    "  UNIQUE (owner, path)"
    ");"
    "CREATE TABLE persons ("
    "  id INTEGER PRIMARY KEY,"
    "  owner INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,"
    "  name TEXT,"
    "  hidden INTEGER NOT NULL DEFAULT 0 CHECK (hidden IN (0, 1)),"
    "  avatar_face INTEGER REFERENCES faces (id) ON DELETE SET NULL,"
    "  avatar_by_user INTEGER NOT NULL DEFAULT 0 CHECK (avatar_by_user IN (0, 1))"
    ");"
    "CREATE TABLE faces ("
    "  id INTEGER PRIMARY KEY,"
    "  owner INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,"
    "  photo_id INTEGER NOT NULL REFERENCES photos (id) ON DELETE CASCADE,"
    "  person_id INTEGER REFERENCES persons (id) ON DELETE SET NULL,"
    "  assigned INTEGER NOT NULL DEFAULT 0 CHECK (assigned IN (0, 1)),"
    "  x1 INTEGER NOT NULL, y1 INTEGER NOT NULL, x2 INTEGER NOT NULL, y2 INTEGER NOT NULL,"
    "  det_score REAL NOT NULL,"
    "  blur REAL NOT NULL,"
    "  quality REAL NOT NULL,"
    "  blurry INTEGER NOT NULL DEFAULT 0 CHECK (blurry IN (0, 1)),"
    "  trash INTEGER NOT NULL DEFAULT 0 CHECK (trash IN (0, 1)),"
    "  model_id INTEGER REFERENCES models (id),"
    "  dim INTEGER NOT NULL CHECK (dim >= 0),"
    "  landmarks BLOB NOT NULL,"
    "  embedding BLOB,"
    "  thumb BLOB"
    ");"
    "CREATE TABLE face_rejects ("
    "  face_id INTEGER NOT NULL REFERENCES faces (id) ON DELETE CASCADE,"
    "  person_id INTEGER NOT NULL REFERENCES persons (id) ON DELETE CASCADE,"
    "  PRIMARY KEY (face_id, person_id)"
    ");"
    "CREATE INDEX faces_owner ON faces (owner, id);"
    "CREATE INDEX faces_photo ON faces (photo_id);"
    "CREATE INDEX faces_person ON faces (person_id);"
    "CREATE INDEX persons_owner_name ON persons (owner, name);"
    "CREATE INDEX persons_avatar ON persons (avatar_face);"
    "CREATE INDEX face_rejects_person ON face_rejects (person_id);";

// Accounts (src/auth/): users rebuilt with AUTOINCREMENT (an id is never handed out twice,
// so old links and logs never point at a later user), a password hash (NULL: cannot log in,
// like the built-in "local"), the per-user settings; sessions and API tokens, both stored
// only as the SHA-256 of the secret, going with their user. Rows and ids of v1 are kept.
static const char schema_v2[] =
    "CREATE TABLE users_v2 ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  name TEXT NOT NULL UNIQUE,"
    "  pass_hash TEXT,"
    "  created INTEGER NOT NULL DEFAULT 0,"
    "  recognition INTEGER NOT NULL DEFAULT 1 CHECK (recognition IN (0, 1)),"
    "  quota_bytes INTEGER NOT NULL DEFAULT 0 CHECK (quota_bytes >= 0)"
    ");"
    "INSERT INTO users_v2 (id, name) SELECT id, name FROM users;"
    "DROP TABLE users;"
    "ALTER TABLE users_v2 RENAME TO users;"
    "CREATE TABLE sessions ("
    "  hash TEXT PRIMARY KEY,"
    "  user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,"
    "  created INTEGER NOT NULL,"
    "  expires INTEGER NOT NULL,"
    "  last_seen INTEGER NOT NULL"
    ");"
    "CREATE INDEX sessions_user ON sessions (user_id);"
    "CREATE INDEX sessions_expires ON sessions (expires);"
    "CREATE TABLE tokens ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,"
    "  hash TEXT NOT NULL UNIQUE,"
    "  name TEXT NOT NULL,"
    "  created INTEGER NOT NULL,"
    "  last_used INTEGER NOT NULL DEFAULT 0"
    ");"
    "CREATE INDEX tokens_user ON tokens (user_id);";

// 3 -> 4: which detector found each face (issue 9); older faces were all MTCNN's
static const char schema_v4[] =
    "ALTER TABLE faces ADD COLUMN detector TEXT NOT NULL DEFAULT 'mtcnn';"
    "ALTER TABLE op_faces ADD COLUMN detector TEXT;";

// 4 -> 5: the job queue (issue 10; table in store_int.h, shared with PostgreSQL's schema)
static const char schema_v5[] = STORE_JOBS_TABLE("INTEGER PRIMARY KEY AUTOINCREMENT", "INTEGER", "BLOB");

// 5 -> 6: re-embedding (issue 12; table in store_int.h, shared with PostgreSQL's schema)
static const char schema_v6[] = STORE_FACE_NEXT_TABLE("INTEGER", "BLOB");

const char *const store_migrations[] = {
    schema_v1,           // 0 -> 1
    schema_v2,           // 1 -> 2: accounts
    store_schema_domain, // 2 -> 3 (schema_domain.c: AUTOINCREMENT ids, orig_name, ops log)
    schema_v4,           // 3 -> 4: faces.detector
    schema_v5,           // 4 -> 5: jobs
    schema_v6,           // 5 -> 6: face_next (re-embedding)
};
_Static_assert(sizeof store_migrations / sizeof store_migrations[0] == STORE_SCHEMA_VERSION,
               "one migration step per schema version");
