/* Shared helpers for the tokenizer tests. */
#ifndef LMC_TOK_TEST_UTIL_H
#define LMC_TOK_TEST_UTIL_H
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "tokenizer/tokenizer.h"

static inline json_t *tt_load_fixture(const char *name) {
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/tokenizer/fixtures/%s", test_source_dir(), name);
    json_error_t je;
    json_t *j = json_load_file(path, 0, &je);
    if (!j) {
        fprintf(stderr, "%s:%d: %s\n", path, je.line, je.text);
        exit(1);
    }
    return j;
}

/* The generated long inputs of make_tokenizer_fixtures.py (same generators, byte for byte). */
static inline char *tt_generate(const json_t *g, size_t *len) {
    const char *kind = json_string_value(json_object_get(g, "kind"));
    size_t n = (size_t)json_integer_value(json_object_get(g, "n"));
    if (!strcmp(kind, "lcg")) {
        char *s = malloc(n + 1);
        uint64_t x = 12345;
        for (size_t i = 0; i < n; i++) {
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            s[i] = "abcdefghijklmnopqrstuvwxyz"[(x >> 33) % 26];
        }
        s[n] = 0;
        *len = n;
        return s;
    }
    const char *unit = json_string_value(json_object_get(g, "unit"));
    const char *then = json_string_value(json_object_get(g, "then"));
    size_t ul = strlen(unit), tl = then ? strlen(then) : 0;
    char *s = malloc(ul * n + tl + 1);
    for (size_t i = 0; i < n; i++) memcpy(s + i * ul, unit, ul);
    if (tl) memcpy(s + ul * n, then, tl);
    *len = ul * n + tl;
    s[*len] = 0;
    return s;
}

static inline uint64_t tt_fnv64(const uint32_t *ids, size_t n) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++)
        for (int k = 0; k < 4; k++) {
            h ^= (ids[i] >> (8 * k)) & 0xFF;
            h *= 0x100000001b3ull;
        }
    return h;
}

/* Compare ids with a JSON array; report the first difference. */
static inline int tt_ids_equal(const tok_ids *got, const json_t *want, const char *what, size_t idx) {
    size_t n = json_array_size(want);
    size_t m = got->n < n ? got->n : n;
    for (size_t i = 0; i < m; i++)
        if ((json_int_t)got->v[i] != json_integer_value(json_array_get(want, i))) {
            fprintf(stderr, "%s text %zu: id %zu differs: got %u want %lld\n", what, idx, i, got->v[i],
                    (long long)json_integer_value(json_array_get(want, i)));
            return 0;
        }
    if (got->n != n) {
        fprintf(stderr, "%s text %zu: %zu ids, want %zu\n", what, idx, got->n, n);
        return 0;
    }
    return 1;
}
#endif
