/* Philox RNG: known-answer vectors, exact save/restore, distribution sanity. */
#include "base/base.h"
#include "test.h"

int main(void) {
    /* Random123 known-answer test for philox4x32_10: counter 0, key 0. */
    uint32_t out[4];
    lmc_philox4x32(0, 0, out);
    CHECK(out[0] == 0x6627e8d5u && out[1] == 0xe169c58du && out[2] == 0xbc57ac4cu && out[3] == 0x9b00dbd8u);
    /* counter all ones (low 64 bits) and key all ones is another published vector:
     * ctr {ffffffff, ffffffff, 0, 0} isn't in the KAT set, so check the pi vector instead:
     * ctr {243f6a88 85a308d3 13198a2e 03707344} key {a4093822 299f31d0} -> d16cfe09 94fdcceb 5001e420 24126ea1 */
    {
        /* our block function uses counter words 2,3 = 0, so compute this vector through a local copy */
        uint32_t c[4] = {0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u}, k[2] = {0xa4093822u, 0x299f31d0u};
        for (int r = 0; r < 10; r++) {
            uint64_t p0 = (uint64_t)0xD2511F53u * c[0], p1 = (uint64_t)0xCD9E8D57u * c[2];
            uint32_t n0 = (uint32_t)(p1 >> 32) ^ c[1] ^ k[0], n1 = (uint32_t)p1;
            uint32_t n2 = (uint32_t)(p0 >> 32) ^ c[3] ^ k[1], n3 = (uint32_t)p0;
            c[0] = n0; c[1] = n1; c[2] = n2; c[3] = n3;
            k[0] += 0x9E3779B9u; k[1] += 0xBB67AE85u;
        }
        CHECK(c[0] == 0xd16cfe09u && c[1] == 0x94fdccebu && c[2] == 0x5001e420u && c[3] == 0x24126ea1u);
    }

    /* save/restore mid-block continues the exact stream */
    lmc_rng r, r2;
    lmc_rng_init(&r, 1337);
    for (int i = 0; i < 7; i++) lmc_rng_u32(&r);
    lmc_rng_state s = lmc_rng_save(&r);
    uint32_t want[100];
    for (int i = 0; i < 100; i++) want[i] = lmc_rng_u32(&r);
    lmc_rng_init(&r2, 999);
    lmc_rng_restore(&r2, s);
    int same = 1;
    for (int i = 0; i < 100; i++) same &= lmc_rng_u32(&r2) == want[i];
    CHECK(same);
    /* and from a fresh state */
    lmc_rng_init(&r, 5);
    s = lmc_rng_save(&r);
    float a = lmc_rng_normal(&r);
    lmc_rng_restore(&r2, s);
    CHECK(lmc_rng_normal(&r2) == a);

    /* distributions: mean/variance of uniform and normal, unbiased below() */
    lmc_rng_init(&r, 42);
    double su = 0, sn = 0, sn2 = 0;
    int n = 200000, counts[7] = {0};
    for (int i = 0; i < n; i++) {
        su += lmc_rng_uniform(&r);
        double z = lmc_rng_normal(&r);
        sn += z;
        sn2 += z * z;
        counts[lmc_rng_below(&r, 7)]++;
    }
    CHECK_CLOSE(su / n, 0.5, 0.005, 0);
    CHECK_CLOSE(sn / n, 0.0, 0.01, 0);
    CHECK_CLOSE(sn2 / n, 1.0, 0.02, 0);
    for (int i = 0; i < 7; i++) CHECK_CLOSE(counts[i], n / 7.0, n / 7.0 * 0.03, 0);
    /* derived streams differ */
    CHECK(lmc_rng_derive(1, 0) != lmc_rng_derive(1, 1) && lmc_rng_derive(1, 0) != lmc_rng_derive(2, 0));
    /* shuffle is a permutation */
    uint32_t perm[1000];
    for (uint32_t i = 0; i < 1000; i++) perm[i] = i;
    lmc_rng_shuffle_u32(&r, perm, 1000);
    int seen[1000] = {0}, moved = 0;
    for (int i = 0; i < 1000; i++) { seen[perm[i]]++; moved += perm[i] != (uint32_t)i; }
    int ok = 1;
    for (int i = 0; i < 1000; i++) ok &= seen[i] == 1;
    CHECK(ok && moved > 900);
    return test_summary("base/rng");
}
