/* A small open-addressing hash table of 64-bit keys -> (count, first position), internal to the data
 * module. A slot is in use when its generation equals the table's, so emptying the table is one
 * increment, not a memset (the filters empty it several times per document). */
#ifndef LMC_DATA_HASHTAB_H
#define LMC_DATA_HASHTAB_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct data_ht_slot {
    uint64_t key;
    uint32_t count, first;
    uint32_t gen;    /* in use when == the table's gen */
} data_ht_slot;

typedef struct data_ht {
    data_ht_slot *s;
    size_t cap, n;   /* cap is a power of two */
    uint32_t gen;
} data_ht;

static inline int data_ht_used(const data_ht *h, const data_ht_slot *s) { return s->gen == h->gen; }

/* Empty the table and make room for up to `expect` keys. Returns 0 or -1 (out of memory). */
static inline int data_ht_reset(data_ht *h, size_t expect) {
    size_t want = 16;
    while (want < expect * 2) want <<= 1;
    if (want > h->cap) {
        free(h->s);
        h->s = calloc(want, sizeof *h->s);
        if (!h->s) { h->cap = h->n = 0; return -1; }
        h->cap = want;
        h->gen = 0;
    }
    if (++h->gen == 0) {  /* wrapped: clear for real */
        memset(h->s, 0, h->cap * sizeof *h->s);
        h->gen = 1;
    }
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
    size_t m = h->cap - 1, i = (size_t)(key ^ (key >> 29)) & m;
    for (;;) {
        data_ht_slot *s = &h->s[i];
        if (s->gen != h->gen) {
            s->gen = h->gen;
            s->key = key;
            s->count = 1;
            s->first = pos;
            h->n++;
            return s;
        }
        if (s->key == key) { s->count++; return s; }
        i = (i + 1) & m;
    }
}

/* The slot of key, or NULL. */
static inline const data_ht_slot *data_ht_find(const data_ht *h, uint64_t key) {
    if (!h->cap) return NULL;
    size_t m = h->cap - 1, i = (size_t)(key ^ (key >> 29)) & m;
    for (;;) {
        const data_ht_slot *s = &h->s[i];
        if (s->gen != h->gen) return NULL;
        if (s->key == key) return s;
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
