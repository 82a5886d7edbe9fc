/* Standalone driver for the libFuzzer targets (tests/fuzz/fuzz_*.c), used when the build is not a
 * -DLMC_FUZZ=ON clang build. It replays every file of tests/fuzz/corpus/<target>/ and then a fixed
 * number of seeded random mutations of them (byte flips, truncations, insertions, splices), so the
 * bad-input corpus and a cheap fuzz pass run in every ctest run, under ASan/UBSan too.
 * Usage: fuzz_<target> CORPUS_DIR [ITERATIONS] */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct { uint8_t *d; size_t n; } blob;

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s CORPUS_DIR [ITERATIONS]\n", argv[0]);
        return 2;
    }
    long iters = argc > 2 ? atol(argv[2]) : 2000;
    blob *seeds = NULL;
    size_t nseeds = 0;
    DIR *d = opendir(argv[1]);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            if (e->d_name[0] == '.') continue;
            char *p = lmc_path_join(argv[1], e->d_name);
            char *data;
            size_t len;
            if (!lmc_is_dir(p) && lmc_read_file(p, &data, &len, NULL) == 0) {
                seeds = realloc(seeds, sizeof *seeds * (nseeds + 1));
                seeds[nseeds].d = (uint8_t *)data;
                seeds[nseeds].n = len;
                nseeds++;
                LLVMFuzzerTestOneInput((const uint8_t *)data, len);
            }
            free(p);
        }
        closedir(d);
    }
    printf("replayed %zu corpus files\n", nseeds);
    if (!nseeds) {
        seeds = calloc(1, sizeof *seeds);
        seeds[0].d = calloc(1, 1);
        nseeds = 1;
    }
    lmc_rng r;
    lmc_rng_init(&r, 20261126);
    for (long it = 0; it < iters; it++) {
        const blob *s = &seeds[lmc_rng_below(&r, nseeds)];
        size_t cap = s->n * 2 + 64, n = s->n;
        uint8_t *buf = malloc(cap);
        memcpy(buf, s->d, s->n);
        int muts = 1 + (int)lmc_rng_below(&r, 8);
        for (int m = 0; m < muts; m++) {
            switch (lmc_rng_below(&r, 5)) {
            case 0: if (n) buf[lmc_rng_below(&r, n)] ^= (uint8_t)(1u << lmc_rng_below(&r, 8)); break;
            case 1: if (n) buf[lmc_rng_below(&r, n)] = (uint8_t)lmc_rng_u32(&r); break;
            case 2: n = n ? lmc_rng_below(&r, n + 1) : 0; break; /* truncate */
            case 3: if (n + 1 < cap) { size_t at = lmc_rng_below(&r, n + 1); memmove(buf + at + 1, buf + at, n - at);
                        buf[at] = (uint8_t)"{}[]\",:0123456789 \n\\"[lmc_rng_below(&r, 21)]; n++; } break;
            default: { /* splice the tail of another seed in */
                const blob *o = &seeds[lmc_rng_below(&r, nseeds)];
                if (o->n && n) {
                    size_t at = lmc_rng_below(&r, n), k = lmc_rng_below(&r, o->n) + 1;
                    if (at + k > cap) k = cap - at;
                    memcpy(buf + at, o->d + (o->n - k), k);
                    if (at + k > n) n = at + k;
                }
            }
            }
        }
        LLVMFuzzerTestOneInput(buf, n);
        free(buf);
    }
    printf("ran %ld mutated inputs without a crash\n", iters);
    for (size_t i = 0; i < nseeds; i++) free(seeds[i].d);
    free(seeds);
    return 0;
}
