// SPDX-License-Identifier: MIT
// Which model made the library's embeddings: one per library, never mixed (lib_model_check).
#include <stdio.h>

#include "library/library_int.h"

// "NAME VERSION (sha256 0123456789ab...)"
static void describe(char *buf, size_t n, const char *name, const char *version, const char *sha256) {
    snprintf(buf, n, "%s %s (sha256 %.12s...)", name, version, sha256);
}

int lib_model_check(struct lib *L) {
    const struct fh_embedder_id *id = &L->emb_id;
    struct store_model other;
    int rc = store_model_other(L->s, id->name, id->version, id->sha256, &other);
    if (rc == FH_OK) {
        char have[700], want[700];
        describe(have, sizeof have, other.name, other.version, other.sha256);
        describe(want, sizeof want, id->name, id->version, id->sha256);
        return fh_fail(FH_E_UNSUPPORTED, "the library's %lld faces were embedded by %s, not by this embedder %s: "
                       "embeddings of different models are never mixed; use the library's own embedder, or "
                       "re-embed the library with the new one (a re-embed is needed: facehatch reembed)",
                       (long long)other.faces, have, want);
    }
    if (rc != FH_E_NOTFOUND) return rc;
    if (L->model_id) return FH_OK;
    return store_model_get(L->s, id->name, id->version, id->sha256, id->dim, &L->model_id);
}
