// SPDX-License-Identifier: MIT
// train/ckpt: training checkpoints. One file holds named float tensors (weights, BN
// running stats, momentum buffers, loss-head weights — whatever the trainer lists), the
// step and epoch, the trainer's RNG state and a small text metadata blob (key=value
// lines: arch, loss, hyper-parameters).
//
//   struct train_tensor t[] = {{"conv0.w", 4, {16, 3, 3, 3}, 432, w0}, ...};
//   struct train_ckpt_info in = {.step = step, .epoch = ep, .rng = rng,
//                                .meta = "arch=mfn\nloss=arcface\nlr=0.1\n"};
//   if (train_ckpt_save("run/ckpt.fhck", t, n, &in)) report fh_errmsg();
//
//   struct train_ckpt *ck;
//   if (train_ckpt_read("run/ckpt.fhck", &ck)) ...;          // FH_E_FORMAT: corrupt
//   if (train_ckpt_restore(ck, t, n, 1)) ...;                // FH_E_ARG: other net
//   train_ckpt_get_info(ck, &in); step = in.step; rng = in.rng;
//   train_ckpt_free(ck);
//
// Writing is atomic: a temporary file in the same directory, fsync, rename over the
// target, fsync of the directory. A crash (kill -9) at any point leaves either the old
// file or the new one, never a mix; on error the temporary file is removed. The file is
// created with mode 0600 (mkstemp): checkpoints stay private to the user who trains.
//
// File layout (all integers little-endian; this build requires a little-endian host):
//   0   8  magic "FHCKPT\r\n"
//   8   4  u32 version (1)
//   12  4  u32 n_tensors
//   16  8  u64 step
//   24  8  u64 epoch
//   32 32  u64 rng state s[0..3]
//   64  4  u32 meta_len, then meta_len bytes of text (no NUL)
//   then n_tensors records: u32 name_len, name (1..255 bytes, no NUL), u32 rank (0..6),
//        rank x u32 dims, u64 count (= product of dims), zero padding to the next
//        multiple of 64 bytes from the file start, count x f32
//   last 4: u32 CRC-32 (IEEE 802.3, as zlib's crc32) of every byte before it
// Names are unique. The reader checks the magic, the size, the checksum, the version,
// then every length against what is left of the file before allocating anything.
#ifndef FH_TRAIN_CKPT_H
#define FH_TRAIN_CKPT_H

#include <stddef.h>
#include <stdint.h>

#include "base/limits.h"
#include "train/rng.h"

// Limits on checkpoint files (outside input on read). 2 GiB: MobileFaceNet's weights
// and momentum are ~8 MB; a 100k-identity 512-d softmax head with momentum is 400 MB.
#define TRAIN_CKPT_MAX_BYTES ((size_t)2 << 30)
#define TRAIN_CKPT_MAX_TENSORS 100000   // MobileFaceNet with momentum: ~900
#define TRAIN_CKPT_MAX_NAME 255
#define TRAIN_CKPT_MAX_META (1u << 20)  // key=value lines; ours are a few hundred bytes
#define TRAIN_CKPT_VERSION 1

// A named tensor: a view of floats owned by the caller (save reads data, restore
// writes it). rank 0 is a scalar (n = 1).
struct train_tensor {
    const char *name;
    int rank;
    int dims[FH_MAX_DIMS];
    size_t n;              // product of dims
    float *data;
};

struct train_ckpt_info {
    uint64_t step, epoch;
    struct train_rng rng;
    const char *meta;      // NUL-terminated text; NULL = empty. From a read: owned by it.
};

// Writes path atomically. FH_OK; FH_E_ARG (a bad tensor: empty/long/duplicate name,
// rank, n != product of dims, NULL data; meta too long — naming it); FH_E_LIMIT (file
// over TRAIN_CKPT_MAX_BYTES or too many tensors); FH_E_IO (naming the file and errno);
// FH_E_NOMEM. On error the target file is untouched.
int train_ckpt_save(const char *path, const struct train_tensor *t, int n,
                    const struct train_ckpt_info *info);

// A checkpoint read into memory (read-only views into one buffer).
struct train_ckpt;

// FH_OK; FH_E_IO (missing/unreadable); FH_E_LIMIT (file too large); FH_E_FORMAT (not a
// checkpoint, truncated, checksum mismatch, bad field — the message names which);
// FH_E_UNSUPPORTED (a valid file of another version); FH_E_NOMEM.
int train_ckpt_read(const char *path, struct train_ckpt **out);
void train_ckpt_free(struct train_ckpt *ck);

void train_ckpt_get_info(const struct train_ckpt *ck, struct train_ckpt_info *out);
int train_ckpt_n_tensors(const struct train_ckpt *ck);
// Tensor i in file order (data read-only, 16-byte aligned). FH_OK or FH_E_ARG.
int train_ckpt_tensor(const struct train_ckpt *ck, int i, struct train_tensor *out);
// Index of the tensor named name, or -1.
int train_ckpt_find(const struct train_ckpt *ck, const char *name);

// Copies the checkpoint's values into t[0..n) by name. Every target must exist with the
// same rank and dims; with exact = 1 every checkpoint tensor must also be a target.
// All are checked before anything is copied: on error no target is changed.
// FH_OK or FH_E_ARG naming the tensor and both shapes ("conv0.w: checkpoint [16,3,3,3],
// net [32,3,3,3]"), or the missing / extra name.
int train_ckpt_restore(const struct train_ckpt *ck, const struct train_tensor *t, int n,
                       int exact);

// The value of key in key=value metadata text (one per line; the first match wins)
// copied into out (cap bytes with the NUL). FH_OK, FH_E_NOTFOUND, FH_E_LIMIT (does not fit).
int train_meta_get(const char *meta, const char *key, char *out, size_t cap);

#endif
