/* Helpers for fuzz targets whose parser takes a path, not a buffer: each input is written to a
 * file inside one private temporary folder per process (removed at exit), with a plain write
 * (the atomic writer's fsyncs would dominate a fuzzing loop). */
#ifndef LMC_FUZZ_UTIL_H
#define LMC_FUZZ_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/base.h"

static char fuzz_dir_path[256];

static void fuzz_dir_cleanup(void) {
    lmc_err err;
    if (fuzz_dir_path[0]) lmc_remove_tree(fuzz_dir_path, &err);
}

/* The per-process folder (created on first use). */
static inline const char *fuzz_dir(void) {
    if (!fuzz_dir_path[0]) {
        const char *t = getenv("TMPDIR");
        snprintf(fuzz_dir_path, sizeof fuzz_dir_path, "%s/lmc-fuzz-XXXXXX", t && *t ? t : "/tmp");
        if (!mkdtemp(fuzz_dir_path)) abort();
        atexit(fuzz_dir_cleanup);
    }
    return fuzz_dir_path;
}

/* Write data to fuzz_dir()/name; returns the path (static storage, valid until the next call). */
static inline const char *fuzz_file(const char *name, const uint8_t *data, size_t size) {
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", fuzz_dir(), name);
    FILE *f = fopen(path, "wb");
    if (!f) abort();
    if (size && fwrite(data, 1, size, f) != size) abort();
    if (fclose(f)) abort();
    return path;
}

/* Stop with the reason and the library's message, so a crash report says what was wrong. */
static inline void fuzz_fail(const char *why, const char *msg) {
    fprintf(stderr, "fuzz: %s: \"%s\"\n", why, msg ? msg : "");
    abort();
}

/* Split an input into two files' contents at the first "\n%%\n" (the second part empty when absent),
 * so one input can fill a folder with two files (config + metrics). */
static inline size_t fuzz_split(const uint8_t *data, size_t size, size_t *second) {
    for (size_t i = 0; i + 4 <= size; i++)
        if (!memcmp(data + i, "\n%%\n", 4)) {
            *second = i + 4;
            return i + 1;
        }
    *second = size;
    return size;
}

#endif
