// SPDX-License-Identifier: MIT
// train/data: the training data of `facehatch train`. Scans identity folders, detects and
// aligns every image with our own pipeline (MTCNN + the 5-point ArcFace warp of align/, never
// a second implementation) into a padded 128x128 crop around the 112x112 template, caches
// the crops on disk, and turns them into augmented, normalised float batches (NHWC RGB,
// (v - 127.5) / 128, as the MobileFaceNet embedder expects). Samplers give shuffled epochs
// and P x K batches. Everything random is a pure function of (seed, epoch, position), so a
// run is reproducible for a seed whatever the thread count. It does not train, embed or
// clean (that is the trainer's and `clean`'s work), and it reads no environment variable:
// the caller picks the cache folder (the CLI's default: $XDG_CACHE_HOME/facehatch/crops).
//
//   struct train_data_options o = train_data_options_default();
//   const char *roots[] = {"celeba200/train", "celeba200/test"};
//   o.roots = roots, o.n_roots = 2, o.id_first = 0, o.id_last = 159, o.cache_dir = "build/crops";
//   struct train_dataset d;
//   int rc = train_dataset_load(models, &o, &d);   // d.skipped lists every unusable file
//   if (rc) { puts(fh_errmsg()); train_dataset_free(&d); return rc; }
//   int *order = malloc(d.n * sizeof *order);
//   train_order_epoch(d.n, seed, epoch, order);
//   struct train_aug aug = train_aug_default();
//   train_batch_fill(&d, &aug, seed, epoch, order, 64, 0, pool, x, y);  // x: 64*112*112*3
//   train_dataset_free(&d);
//
// Thread safety: a loaded dataset is immutable; train_batch_fill and the samplers may run
// on any number of threads at once. train_dataset_load uses its own threads.
#ifndef FH_TRAIN_DATA_H
#define FH_TRAIN_DATA_H

#include <stddef.h>
#include <stdint.h>

#include "base/pool.h"
#include "img/img.h"
#include "pipeline/facehatch.h"

// ---- geometry --------------------------------------------------------------------------
// The cached crop: the ArcFace 112x112 canvas (same similarity transform as fh_align) with
// TRAIN_PAD pixels more on every side, so scale/shift jitter re-warps real image content
// instead of black. Its centre 112x112 is the aligned crop fh_align gives (equal up to a
// 1e-14 rounding of the warp's inverse matrix: at most 1 level on rare pixels).
#define TRAIN_CROP 112
#define TRAIN_PAD 8
#define TRAIN_PADDED (TRAIN_CROP + 2 * TRAIN_PAD)               // 128
#define TRAIN_PADDED_BYTES ((size_t)TRAIN_PADDED * TRAIN_PADDED * 3)
#define TRAIN_SAMPLE_FLOATS ((size_t)TRAIN_CROP * TRAIN_CROP * 3) // one sample of a batch

// ---- limits (checked before allocating) -------------------------------------------------
// Files scanned in all: CelebA has 200k images; 1M padded crops would take 49 GB of RAM, so
// a bigger set is not trainable in memory here anyway.
#define TRAIN_MAX_IMAGES 1000000
// Identity folders: CelebA has 10,177, MS-Celeb-1M about 100k.
#define TRAIN_MAX_IDS 200000
// Samples in one batch (train_batch_fill) and P*K of a P x K batch.
#define TRAIN_MAX_BATCH 65536

// ---- why a file or folder is not used ---------------------------------------------------
// On-disk values (cache entries): only ever appended to.
enum train_skip {
    TRAIN_SKIP_NONE = 0,          // usable
    TRAIN_SKIP_UNREADABLE = 1,    // stat/open/read failed (permissions, vanished); not cached
    TRAIN_SKIP_NOT_IMAGE = 2,     // not an image, or a corrupt/truncated one (img_decode)
    TRAIN_SKIP_TOO_LARGE = 3,     // over the image limits of base/limits.h
    TRAIN_SKIP_NO_FACE = 4,       // decoded, but the detector finds no face
    TRAIN_SKIP_EMPTY_FOLDER = 5,  // an identity folder with no file at all (path = the folder)
    TRAIN_SKIP_NO_USABLE = 6,     // an identity folder whose files are all unusable: the
                                  // identity gets no label (path = the folder)
    TRAIN_SKIP_ALIGN = 7,         // degenerate landmarks: the warp failed
    TRAIN_SKIP_COUNT
};
// "unreadable", "not an image", "too large", "no face", "empty folder", "no usable image",
// "alignment failed"; "?" for other values. Static storage.
const char *train_skip_name(int reason);

struct train_skipped {
    char *path;           // the file (or folder) as scanned: root/identity/file; owned
    int reason;           // enum train_skip
    char msg[160];        // the detail (decoder message, "0 faces at min_face 20", ...)
};

struct train_image {
    char *path;           // root/identity/file; owned by the dataset
    int label;            // 0..n_ids-1
    int n_faces;          // faces the detector found (>= 1; > 1 = the rule below chose one)
    float score;          // O-Net score of the chosen face
    int box[4];           // chosen face, x1 y1 x2 y2 in the original image
    float landmarks[10];  // its 5 landmarks (x, y), original image pixels
};

struct train_dataset {
    int n_ids;            // identities with >= 1 usable image (labels 0..n_ids-1)
    char **id_names;      // (n_ids) folder names, in label order; owned
    int *id_start;        // (n_ids + 1): the images of label l are id_start[l] .. id_start[l+1]-1
    int n;                // usable images, sorted by label, then root order, then file name
    struct train_image *images;  // (n)
    uint8_t *crops;       // (n, TRAIN_PADDED, TRAIN_PADDED, 3) RGB; owned
    int n_skipped;
    struct train_skipped *skipped; // (n_skipped) in scan order
    // what the load did
    int n_files;          // files scanned (usable + skipped files)
    int cache_hits;       // entries read from the cache (usable or a cached skip)
    int cache_misses;     // files detected + aligned now
    int cache_corrupt;    // entries present but damaged (bad size/magic/key/checksum): recomputed
    int cache_write_errors; // entries that could not be written (the load still succeeds)
    double load_ms;       // wall time of train_dataset_load
};

struct train_data_options {
    const char *const *roots; // (n_roots) folders each holding one folder per identity;
                              // identity folders of the same name in several roots merge
    int n_roots;              // 1..16
    int id_first, id_last;    // keep identities id_first..id_last (inclusive) of the union of
                              // folder names in natural order (strverscmp: celeb_2 < celeb_10);
                              // -1, -1 = all. Labels are renumbered 0.. over the kept ones.
    const char *cache_dir;    // crop cache folder (created, parents too); NULL = no cache
    int n_threads;            // detection/alignment threads, one engine each (<= 0: all cores)
    struct fh_config det;     // detector settings (default fh_config_default(): min face 20)
    // Optional progress report (NULL: none), always on the calling thread: after each file
    // that thread finishes, and once more with done == total at the end. done counts
    // files finished by all threads (cache hits included); total = files scanned.
    void (*progress)(void *arg, int done, int total);
    void *progress_arg;
};
struct train_data_options train_data_options_default(void);

// ---- loading ---------------------------------------------------------------------------
// Scans o->roots, then for every regular file (hidden names starting with '.' are ignored;
// no extension filter: the decoder sniffs the bytes) decodes it, detects faces and aligns the
// chosen face into a padded crop. Face rule: among the detected faces whose box area is at
// least half the largest one's, the one whose box centre is nearest the image centre (the
// biggest face wins unless another of similar size is more central). Files already in the
// cache (same real path, size, mtime in ns and the same detector/aligner version) are read
// from it, unusable files too (their reason is cached, except "unreadable"). Every unusable
// file and folder is listed in out->skipped with its reason; nothing is dropped silently.
// m: borrowed, shared by the worker threads (one fh_engine each).
// OUT: *out, which the caller frees with train_dataset_free in every case, also on failure
// (then it holds the skip list gathered so far, n = 0).
// Returns FH_OK; FH_E_ARG (bad options), FH_E_IO (a root not readable, or the cache folder
// cannot be created: pass cache_dir NULL to run without a cache), FH_E_NOTFOUND
// (no identity folder, or no usable image left: the message gives the skip counts),
// FH_E_LIMIT (over TRAIN_MAX_IMAGES / TRAIN_MAX_IDS), FH_E_NOMEM.
int train_dataset_load(const struct fh_models *m, const struct train_data_options *o,
                       struct train_dataset *out);
// Frees everything the dataset owns and zeroes it; accepts a zeroed dataset.
void train_dataset_free(struct train_dataset *d);
// The padded crop of image i (TRAIN_PADDED^2 x 3 bytes, RGB, row stride TRAIN_PADDED*3).
static inline const uint8_t *train_dataset_crop(const struct train_dataset *d, int i) {
    return d->crops + (size_t)i * TRAIN_PADDED_BYTES;
}
// Copies the aligned 112x112 centre of image i's crop into dst (caller-allocated,
// 112x112x3, any stride): the input the embedder takes.
void train_dataset_crop112(const struct train_dataset *d, int i, struct img *dst);

// The cache key version: detector model checksums, kernels, detector settings, crop
// geometry and face rule. A change of any makes old entries misses. Writes at most n bytes
// (NUL-terminated) into buf.
void train_data_version(const struct fh_models *m, const struct fh_config *det, char *buf, size_t n);

// ---- augmentation ----------------------------------------------------------------------
// Each switch off at 0. Order: re-warp (scale + shift jitter, bilinear from the padded
// crop, through align_warp), brightness/contrast, blur, then the mirror (last, so a flipped
// sample is the exact mirror of the unflipped one with the same draws). The draws for a
// sample depend only on (seed, epoch, position) and are all made whatever the switches.
struct train_aug {
    float p_flip;         // probability of a left-right mirror (default 0.5)
    float scale;          // zoom s uniform in [1-scale, 1+scale] about the centre (0.05)
    float shift;          // dx, dy uniform in [-shift, +shift] pixels (4)
    float contrast;       // c uniform in [1-contrast, 1+contrast] about the crop mean (0.2)
    float brightness;     // b uniform in [-brightness, +brightness] levels of 0..255 (20)
    float p_blur;         // probability of a Gaussian blur (0.1)
    float blur_sigma;     // its sigma uniform in [0.5, blur_sigma] pixels (1.2; >= 0.5)
};
struct train_aug train_aug_default(void);
struct train_aug train_aug_none(void);  // all off: the centre crop, normalised
// FH_OK, or FH_E_ARG naming the field out of range (probabilities 0..1; contrast 0..1;
// brightness 0..255; blur_sigma 0.5..4; scale and shift such that the jittered window stays
// inside the padded crop: 56/(1-scale) + shift <= 64).
int train_aug_check(const struct train_aug *a);

// One augmented sample: padded (TRAIN_PADDED^2 x 3 RGB bytes) -> out (112x112x3 floats,
// NHWC, (v - 127.5) / 128). a must pass train_aug_check. No allocation, never fails.
void train_aug_sample(const struct train_aug *a, uint64_t seed, int epoch, int64_t pos,
                      const uint8_t *padded, float *out);

// Fills a batch: sample k is image items[k] augmented with key (seed, epoch, pos0 + k)
// (pos0 = the position of items[0] in the epoch's order, so an image drawn twice differs).
// x: (n, 112, 112, 3) floats; y: (n) labels (may be NULL). pool: borrowed, may be NULL (the
// caller's thread); the result does not depend on it. FH_OK or FH_E_ARG (n out of
// 1..TRAIN_MAX_BATCH, an item out of range, a bad aug).
int train_batch_fill(const struct train_dataset *d, const struct train_aug *a, uint64_t seed,
                     int epoch, const int *items, int n, int64_t pos0, struct fh_pool *pool,
                     float *x, int *y);

// ---- samplers --------------------------------------------------------------------------
// A shuffled epoch: order (n) becomes a permutation of 0..n-1 that depends on (seed, epoch)
// only (Fisher-Yates). n >= 0.
void train_order_epoch(int n, uint64_t seed, int epoch, int *order);
// P x K batch number `batch` of an epoch: P distinct identities, K images of each, written
// identity by identity into items (P*K). An identity with >= K images gives K distinct
// ones; one with fewer gives all of them, then repeats drawn at random (the augmentation
// still differs by position). Depends on (seed, epoch, batch) only.
// FH_OK or FH_E_ARG (P < 1 or P > n_ids, K < 1, P*K > TRAIN_MAX_BATCH).
int train_batch_pk(const struct train_dataset *d, int P, int K, uint64_t seed, int epoch,
                   int batch, int *items);

// ---- inspection ------------------------------------------------------------------------
// A grid of n normalised samples (x as train_batch_fill writes them), cols per row, 2 px
// black gutters, un-normalised back to bytes. OUT: *out allocated here (free with img_free;
// write it with img_encode_jpeg or img_write_pnm). FH_OK, FH_E_ARG, FH_E_LIMIT, FH_E_NOMEM.
int train_batch_grid(const float *x, int n, int cols, struct img *out);

#endif
