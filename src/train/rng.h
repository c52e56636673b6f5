// SPDX-License-Identifier: MIT
// train/rng: the trainer's deterministic random numbers (never rand()): xoshiro256**
// (Blackman & Vigna) seeded through splitmix64. The whole state is the four words of
// struct train_rng: copy it to save it (checkpoints store it), copy it back to resume
// the exact same sequence. Header-only, no global state: one generator per user (the
// data loader, each augmentation thread via train_rng_stream), so results depend only
// on the seed and never on thread timing.
//
//   struct train_rng r;
//   train_rng_seed(&r, 42);
//   uint32_t i = train_rng_below(&r, n);        // shuffle index in [0, n)
//   float s = train_rng_uniformf(&r, 0.9f, 1.1f); // jitter
//   double z = train_rng_normal(&r);            // N(0, 1)
//
// Values are the same on every platform for uniform/below; normal uses libm's log,
// sqrt and cos (same results for the same libm).
#ifndef FH_TRAIN_RNG_H
#define FH_TRAIN_RNG_H

#include <math.h>
#include <stdint.h>

struct train_rng {
    uint64_t s[4]; // never all zero (seeding guarantees it)
};

static inline uint64_t train_splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

// Any seed (0 included) gives a valid, distinct state.
static inline void train_rng_seed(struct train_rng *r, uint64_t seed) {
    for (int i = 0; i < 4; i++) r->s[i] = train_splitmix64(&seed);
    if (!(r->s[0] | r->s[1] | r->s[2] | r->s[3])) r->s[0] = 1; // unreachable in practice
}

// An independent generator for stream k of the given seed (e.g. k = worker thread or
// epoch): seeding from a mix of both, so streams never share a state sequence.
static inline void train_rng_stream(struct train_rng *r, uint64_t seed, uint64_t k) {
    uint64_t x = seed ^ (k * 0xD1B54A32D192ED03ull + 0x8CB92BA72F3D8DD7ull);
    train_rng_seed(r, train_splitmix64(&x));
}

static inline uint64_t train_rng_rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

// Next 64 random bits.
static inline uint64_t train_rng_u64(struct train_rng *r) {
    uint64_t *s = r->s, out = train_rng_rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = train_rng_rotl(s[3], 45);
    return out;
}

static inline uint32_t train_rng_u32(struct train_rng *r) { return (uint32_t)(train_rng_u64(r) >> 32); }

// Uniform in [0, 1) with 53 random bits.
static inline double train_rng_uniform(struct train_rng *r) {
    return (double)(train_rng_u64(r) >> 11) * (1.0 / 9007199254740992.0);
}

// Uniform in [lo, hi) (float; 24 random bits).
static inline float train_rng_uniformf(struct train_rng *r, float lo, float hi) {
    return lo + (hi - lo) * ((float)(train_rng_u64(r) >> 40) * (1.0f / 16777216.0f));
}

// Uniform integer in [0, n), unbiased (Lemire's multiply-shift with rejection); n >= 1.
static inline uint32_t train_rng_below(struct train_rng *r, uint32_t n) {
    uint64_t m = (uint64_t)train_rng_u32(r) * n;
    if ((uint32_t)m < n) {
        uint32_t t = (uint32_t)(-n) % n;
        while ((uint32_t)m < t) m = (uint64_t)train_rng_u32(r) * n;
    }
    return (uint32_t)(m >> 32);
}

// Standard normal (Box-Muller; two uniforms per value, no cached spare, so the state
// stays the four words).
static inline double train_rng_normal(struct train_rng *r) {
    double u1 = 1.0 - train_rng_uniform(r); // (0, 1]: log is finite
    double u2 = train_rng_uniform(r);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

#endif
