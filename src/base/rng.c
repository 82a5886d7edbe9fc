/* Philox4x32-10 counter-based RNG. See rng.h. */
#include "base/rng.h"

#include <math.h>

#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u
#define PHILOX_W1 0xBB67AE85u

void lmc_philox4x32(uint64_t counter, uint64_t key, uint32_t out[4]) {
    uint32_t c0 = (uint32_t)counter, c1 = (uint32_t)(counter >> 32), c2 = 0, c3 = 0;
    uint32_t k0 = (uint32_t)key, k1 = (uint32_t)(key >> 32);
    for (int round = 0; round < 10; round++) {
        uint64_t p0 = (uint64_t)PHILOX_M0 * c0, p1 = (uint64_t)PHILOX_M1 * c2;
        uint32_t n0 = (uint32_t)(p1 >> 32) ^ c1 ^ k0, n1 = (uint32_t)p1;
        uint32_t n2 = (uint32_t)(p0 >> 32) ^ c3 ^ k1, n3 = (uint32_t)p0;
        c0 = n0; c1 = n1; c2 = n2; c3 = n3;
        k0 += PHILOX_W0;
        k1 += PHILOX_W1;
    }
    out[0] = c0; out[1] = c1; out[2] = c2; out[3] = c3;
}

void lmc_rng_init(lmc_rng *r, uint64_t seed) {
    r->seed = seed;
    r->counter = 0;
    r->used = 4;
}

uint64_t lmc_rng_derive(uint64_t seed, uint64_t stream) {
    uint64_t z = seed + 0x9E3779B97F4A7C15ull * (stream + 1);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

uint32_t lmc_rng_u32(lmc_rng *r) {
    if (r->used >= 4) {
        lmc_philox4x32(r->counter++, r->seed, r->buf);
        r->used = 0;
    }
    return r->buf[r->used++];
}

uint64_t lmc_rng_u64(lmc_rng *r) {
    uint64_t hi = lmc_rng_u32(r);
    return (hi << 32) | lmc_rng_u32(r);
}

float lmc_rng_uniform(lmc_rng *r) { return (float)(lmc_rng_u32(r) >> 8) * (1.0f / 16777216.0f); }

double lmc_rng_uniform_double(lmc_rng *r) { return (double)(lmc_rng_u64(r) >> 11) * (1.0 / 9007199254740992.0); }

uint64_t lmc_rng_below(lmc_rng *r, uint64_t n) {
    if (n <= 1) return 0;
    uint64_t limit = UINT64_MAX - UINT64_MAX % n; /* reject the biased tail */
    uint64_t x;
    do x = lmc_rng_u64(r); while (x >= limit);
    return x % n;
}

float lmc_rng_normal(lmc_rng *r) {
    double u1 = lmc_rng_uniform_double(r), u2 = lmc_rng_uniform_double(r);
    if (u1 < 1e-300) u1 = 1e-300;
    return (float)(sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2));
}

void lmc_rng_shuffle_u64(lmc_rng *r, uint64_t *a, uint64_t n) {
    for (uint64_t i = n; i > 1; i--) {
        uint64_t j = lmc_rng_below(r, i), t = a[i - 1];
        a[i - 1] = a[j];
        a[j] = t;
    }
}

void lmc_rng_shuffle_u32(lmc_rng *r, uint32_t *a, uint64_t n) {
    for (uint64_t i = n; i > 1; i--) {
        uint64_t j = lmc_rng_below(r, i);
        uint32_t t = a[i - 1];
        a[i - 1] = a[j];
        a[j] = t;
    }
}

lmc_rng_state lmc_rng_save(const lmc_rng *r) {
    lmc_rng_state s = {r->seed, r->counter, r->used};
    return s;
}

void lmc_rng_restore(lmc_rng *r, lmc_rng_state s) {
    r->seed = s.seed;
    r->counter = s.counter;
    r->used = s.used > 4 ? 4 : s.used;
    if (r->used < 4 && r->counter > 0) lmc_philox4x32(r->counter - 1, r->seed, r->buf); /* re-create the block */
    else r->used = 4;
}
