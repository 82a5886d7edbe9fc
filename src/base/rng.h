/* Counter-based RNG (Philox4x32-10, Salmon et al. 2011). The whole state is (seed, counter):
 * saving those two numbers and restoring them continues the stream exactly, which is what bitwise
 * resume needs. Independent streams come from different seeds (e.g. hash of (run seed, purpose)). */
#ifndef LMC_BASE_RNG_H
#define LMC_BASE_RNG_H

#include <stdint.h>

typedef struct lmc_rng {
    uint64_t seed;     /* the Philox key */
    uint64_t counter;  /* number of 128-bit blocks consumed */
    uint32_t buf[4];   /* the current block */
    uint32_t used;     /* words of buf already handed out (4 = empty) */
} lmc_rng;

/* Saved position: restore gives exactly the same future outputs. */
typedef struct lmc_rng_state {
    uint64_t seed, counter;
    uint32_t used;
} lmc_rng_state;

void lmc_rng_init(lmc_rng *r, uint64_t seed);
/* Derive an independent stream seed from a base seed and a stream id (splitmix64 mixing). */
uint64_t lmc_rng_derive(uint64_t seed, uint64_t stream);
uint32_t lmc_rng_u32(lmc_rng *r);
uint64_t lmc_rng_u64(lmc_rng *r);
/* Uniform in [0, 1) with 24 (float) or 53 (double) random bits. */
float lmc_rng_uniform(lmc_rng *r);
double lmc_rng_uniform_double(lmc_rng *r);
/* Uniform integer in [0, n), unbiased (rejection). */
uint64_t lmc_rng_below(lmc_rng *r, uint64_t n);
/* Standard normal (Box-Muller, uses two uniforms per call; no cached spare so state stays simple). */
float lmc_rng_normal(lmc_rng *r);
/* Fisher-Yates shuffle of n uint64 / uint32 values. */
void lmc_rng_shuffle_u64(lmc_rng *r, uint64_t *a, uint64_t n);
void lmc_rng_shuffle_u32(lmc_rng *r, uint32_t *a, uint64_t n);

lmc_rng_state lmc_rng_save(const lmc_rng *r);
void lmc_rng_restore(lmc_rng *r, lmc_rng_state s);

/* The raw block function: Philox4x32-10 of (counter, key). Exposed for tests and for parallel
 * generators that need random access (element i of a stream = block i/4, word i%4). */
void lmc_philox4x32(uint64_t counter, uint64_t key, uint32_t out[4]);

#endif
