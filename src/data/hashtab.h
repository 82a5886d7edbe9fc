/* A small open-addressing hash table of 64-bit keys -> (count, first position), internal to the data
 * module. Key 0 is reserved as "empty" (callers' keys are hashes; 0 is remapped to 1). */
#ifndef LMC_DATA_HASHTAB_H
#define LMC_DATA_HASHTAB_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct data_ht_slot {
    uint64_t key;
    uint32_t count, first;
} data_ht_slot;

typedef struct data_ht {
    data_ht_slot *s;
    size_t cap, n;   /* cap is a power of two */
} data_ht;

/* Empty the table and make room for up to `expect` keys. Returns 0 or -1 (out of memory). */
static inline int data_ht_reset(data_ht *h, size_t expect) {
    size_t want = 16;
    while (want < expect * 2) want <<= 1;
    if (want > h->cap) {
        free(h->s);
        h->s = malloc(want * sizeof *h->s);
        if (!h->s) { h->cap = h->n = 0; return -1; }
        h->cap = want;
    }
    memset(h->s, 0, h->cap * sizeof *h->s);
    h->n = 0;
    return 0;
}

static inline void data_ht_free(data_ht *h) {
    free(h->s);
    h->s = NULL;
    h->cap = h->n = 0;
}

/* Insert or bump; returns the slot. The table must have been reset for enough keys. */
static inline data_ht_slot *data_ht_add(data_ht *h, uint64_t key, uint32_t pos) {
    if (!key) key = 1;
    size_t m = h->cap - 1, i = (size_t)(key ^ (key >> 29)) & m;
    for (;;) {
        data_ht_slot *s = &h->s[i];
        if (s->key == key) { s->count++; return s; }
        if (!s->key) {
            s->key = key;
            s->count = 1;
            s->first = pos;
            h->n++;
            return s;
        }
        i = (i + 1) & m;
    }
}

static inline uint64_t data_mix64(uint64_t x) {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

#endif
