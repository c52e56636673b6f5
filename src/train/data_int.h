// SPDX-License-Identifier: MIT
// train/data private: the counter-based PRNG of the data module and the crop cache.
#ifndef FH_TRAIN_DATA_INT_H
#define FH_TRAIN_DATA_INT_H

#include <stdint.h>

#include "train/data.h"

// splitmix64 (Steele, Lea, Flood 2014): a stream per key, keyed by hashing the key parts
// together, so any sample's draws are computed without the ones before it.
static inline uint64_t train_mix64(uint64_t z) {
    z += 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}
struct train_rng {
    uint64_t s;
};
// tag separates the streams of different users of the same (seed, epoch, pos)
static inline struct train_rng train_rng_key(uint64_t seed, uint64_t tag, int64_t epoch, int64_t pos) {
    uint64_t h = train_mix64(seed ^ train_mix64(tag));
    h = train_mix64(h ^ (uint64_t)epoch);
    h = train_mix64(h ^ (uint64_t)pos);
    return (struct train_rng){h};
}
static inline uint64_t train_rng_next(struct train_rng *r) {
    r->s += 0x9e3779b97f4a7c15ull;
    uint64_t z = r->s;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}
// uniform in [0, 1) with 24 bits
static inline float train_rng_unit(struct train_rng *r) {
    return (float)(train_rng_next(r) >> 40) * (1.0f / 16777216.0f);
}
// uniform integer in [0, n), n >= 1 (multiply-shift; bias below 2^-32 for n < 2^31)
static inline int train_rng_below(struct train_rng *r, int n) {
    return (int)(((train_rng_next(r) >> 32) * (uint64_t)n) >> 32);
}

// ---- the crop cache (cache.c) ---------------------------------------------------------
// One file per image: <cache_dir>/<sha256(key) hex>.fhcrop; key = version "\n" real path
// "\n" size "\n" mtime ns. Layout in host byte order (little-endian on x86):
//   0 magic "FHCROP01" | 8 sha256(key) [32] | 40 u32 reason | 44 u32 n_faces
//   48 u32 side (TRAIN_PADDED, or 0 for a cached skip) | 52 u32 msg_len (< 160)
//   56 f32 score | 60 i32 box[4] | 76 f32 landmarks[10] | 116 u32 0 | 120 u64 checksum
//   128 msg (msg_len bytes, no NUL) | then side*side*3 RGB bytes
// checksum: FNV-1a-64 over 8-byte words of bytes 0..119, then of msg + pixels.
struct train_cache_entry {
    int reason;                 // enum train_skip (NONE = a crop)
    int n_faces;
    float score;
    int box[4];
    float landmarks[10];
    char msg[160];
};
#define TRAIN_CACHE_HEADER 128
// The entry file's path for a key: writes "<dir>/<64 hex>.fhcrop" into path (n bytes).
void train_cache_path(const char *dir, const char *key, char *path, size_t n);
// Reads an entry. 1 = hit (e and, for a crop, pixels (TRAIN_PADDED_BYTES) filled), 0 = no
// file, -1 = a file that is damaged or of another key (treated as a miss by the caller).
int train_cache_read(const char *path, const char *key, struct train_cache_entry *e, uint8_t *pixels);
// Writes an entry atomically (a temp file in the same folder, fsync-free, then rename).
// pixels is NULL for a skip. FH_OK or FH_E_IO.
int train_cache_write(const char *path, const char *key, const struct train_cache_entry *e,
                      const uint8_t *pixels);

#endif
