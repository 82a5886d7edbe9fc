/* Token storage, the bytes -> id map and the pair (merge) table. */
#include <stdlib.h>
#include <string.h>
#define XXH_INLINE_ALL
#include <xxhash.h>
#include "tokenizer/tok_internal.h"

uint64_t tok_hash_bytes(const uint8_t *p, size_t n) { return XXH3_64bits(p, n); }

int tok_ids_push(tok_ids *ids, uint32_t id, lmc_err *err) {
    if (ids->n == ids->cap) {
        size_t cap = ids->cap ? ids->cap * 2 : 1024;
        uint32_t *v = realloc(ids->v, cap * sizeof *v);
        if (!v) return lmc_errf(err, LMC_ENOMEM, "out of memory growing an id vector to %zu ids", cap);
        ids->v = v;
        ids->cap = cap;
    }
    ids->v[ids->n++] = id;
    return 0;
}

void tok_ids_free(tok_ids *ids) {
    free(ids->v);
    ids->v = NULL;
    ids->n = ids->cap = 0;
}

tok_tokenizer *tok_alloc(lmc_err *err) {
    tok_tokenizer *t = calloc(1, sizeof *t);
    if (!t) {
        lmc_errf(err, LMC_ENOMEM, "out of memory allocating a tokenizer");
        return NULL;
    }
    for (int i = 0; i < 256; i++) t->byte_id[i] = TOK_NO_ID;
    return t;
}

static uint64_t pow2_at_least(uint64_t n) {
    uint64_t c = 1024;
    while (c < n) c <<= 1;
    return c;
}

/* Make ids [0, n_vocab) valid (capacity grows geometrically; n_vocab is exact). */
static int grow_ids(tok_tokenizer *t, uint32_t n_vocab, lmc_err *err) {
    if (n_vocab <= t->n_vocab) return 0;
    if (n_vocab > t->ids_cap) {
        uint32_t cap = t->ids_cap ? t->ids_cap : 1024;
        while (cap < n_vocab) cap = cap > UINT32_MAX / 2 ? n_vocab : cap * 2;
        uint64_t *off = realloc(t->off, (size_t)cap * sizeof *off);
        if (!off) return lmc_errf(err, LMC_ENOMEM, "out of memory for %u token ids", cap);
        t->off = off;
        uint32_t *len = realloc(t->len, (size_t)cap * sizeof *len);
        if (!len) return lmc_errf(err, LMC_ENOMEM, "out of memory for %u token ids", cap);
        t->len = len;
        for (uint32_t i = t->ids_cap; i < cap; i++) {
            t->off[i] = UINT64_MAX;
            t->len[i] = 0;
        }
        t->ids_cap = cap;
    }
    t->n_vocab = n_vocab;
    return 0;
}

static int rehash_bmap(tok_tokenizer *t, uint64_t cap, lmc_err *err) {
    uint64_t *m = calloc(cap, sizeof *m);
    if (!m) return lmc_errf(err, LMC_ENOMEM, "out of memory for the token map");
    uint64_t mask = cap - 1;
    for (uint32_t id = 0; id < t->n_vocab; id++) {
        if (t->off[id] == UINT64_MAX) continue;
        uint64_t h = tok_hash_bytes(t->blob + t->off[id], t->len[id]);
        uint64_t i = h & mask;
        while (m[i]) i = (i + 1) & mask;
        m[i] = (h & 0xFFFFFFFF00000000ull) | (id + 1);
    }
    free(t->bmap);
    t->bmap = m;
    t->bmap_mask = mask;
    return 0;
}

static int rehash_pmap(tok_tokenizer *t, uint64_t cap, lmc_err *err) {
    tok_pair *m = malloc(cap * sizeof *m);
    if (!m) return lmc_errf(err, LMC_ENOMEM, "out of memory for the merge table");
    for (uint64_t i = 0; i < cap; i++) m[i].key = UINT64_MAX;
    tok_pair *old = t->pmap;
    uint64_t old_cap = old ? t->pmap_mask + 1 : 0;
    t->pmap = m;
    t->pmap_mask = cap - 1;
    for (uint64_t j = 0; j < old_cap; j++) {
        if (old[j].key == UINT64_MAX) continue;
        uint64_t h = old[j].key * 0x9E3779B97F4A7C15ull;
        h ^= h >> 29;
        uint64_t i = h & t->pmap_mask;
        while (m[i].key != UINT64_MAX) i = (i + 1) & t->pmap_mask;
        m[i] = old[j];
    }
    free(old);
    return 0;
}

int tok_reserve(tok_tokenizer *t, uint32_t n_vocab, size_t n_tokens, size_t n_pairs, lmc_err *err) {
    if (grow_ids(t, n_vocab, err)) return err ? err->code : LMC_ENOMEM;
    uint64_t bc = pow2_at_least((uint64_t)n_tokens * 2 + 16);
    if (!t->bmap || bc > t->bmap_mask + 1)
        if (rehash_bmap(t, bc, err)) return err ? err->code : LMC_ENOMEM;
    uint64_t pc = pow2_at_least((uint64_t)n_pairs * 2 + 16);
    if (!t->pmap || pc > t->pmap_mask + 1)
        if (rehash_pmap(t, pc, err)) return err ? err->code : LMC_ENOMEM;
    return 0;
}

uint32_t tok_lookup(const tok_tokenizer *t, const uint8_t *p, size_t n) {
    return tok_lookup_h(t, p, n, tok_hash_bytes(p, n));
}

uint32_t tok_lookup_h(const tok_tokenizer *t, const uint8_t *p, size_t n, uint64_t h) {
    if (!t->bmap) return TOK_NO_ID;
    uint64_t tag = h & 0xFFFFFFFF00000000ull;
    for (uint64_t i = h & t->bmap_mask;; i = (i + 1) & t->bmap_mask) {
        uint64_t v = t->bmap[i];
        if (!v) return TOK_NO_ID;
        if ((v & 0xFFFFFFFF00000000ull) != tag) continue;
        uint32_t id = (uint32_t)v - 1;
        if (t->len[id] == n && memcmp(t->blob + t->off[id], p, n) == 0) return id;
    }
}

int tok_add_token(tok_tokenizer *t, uint32_t id, const uint8_t *p, size_t n, lmc_err *err) {
    if (id == TOK_NO_ID) return lmc_errf(err, LMC_EFORMAT, "token id %u is too large", id);
    if (n == 0) return lmc_errf(err, LMC_EFORMAT, "empty token (id %u)", id);
    if (n > UINT32_MAX) return lmc_errf(err, LMC_EFORMAT, "token %u is too long", id);
    if (id >= t->n_vocab && grow_ids(t, id + 1, err)) return err ? err->code : LMC_ENOMEM;
    if (t->off[id] != UINT64_MAX)
        return lmc_errf(err, LMC_EFORMAT, "duplicate id %u", id);
    uint32_t other = tok_lookup(t, p, n);
    if (other != TOK_NO_ID)
        return lmc_errf(err, LMC_EFORMAT, "duplicate token: ids %u and %u have the same bytes", other, id);
    if (t->blob_len + n > t->blob_cap) {
        size_t cap = t->blob_cap ? t->blob_cap : 1 << 16;
        while (cap < t->blob_len + n) cap *= 2;
        uint8_t *b = realloc(t->blob, cap);
        if (!b) return lmc_errf(err, LMC_ENOMEM, "out of memory for token bytes");
        t->blob = b;
        t->blob_cap = cap;
    }
    memcpy(t->blob + t->blob_len, p, n);
    t->off[id] = t->blob_len;
    t->len[id] = (uint32_t)n;
    t->blob_len += n;
    t->n_tokens++;
    if (!t->bmap || (uint64_t)t->n_tokens * 2 > t->bmap_mask + 1) {
        if (rehash_bmap(t, pow2_at_least((uint64_t)t->n_tokens * 4), err)) return err ? err->code : LMC_ENOMEM;
    } else {
        uint64_t h = tok_hash_bytes(p, n);
        uint64_t i = h & t->bmap_mask;
        while (t->bmap[i]) i = (i + 1) & t->bmap_mask;
        t->bmap[i] = (h & 0xFFFFFFFF00000000ull) | (id + 1);
    }
    return 0;
}

int tok_pair_set(tok_tokenizer *t, uint32_t a, uint32_t b, uint32_t rank, uint32_t id, lmc_err *err) {
    if (!t->pmap || (t->n_pairs + 1) * 2 > t->pmap_mask + 1)
        if (rehash_pmap(t, pow2_at_least((t->n_pairs + 1) * 4), err)) return err ? err->code : LMC_ENOMEM;
    uint64_t key = (uint64_t)a << 32 | b;
    uint64_t h = key * 0x9E3779B97F4A7C15ull;
    h ^= h >> 29;
    uint64_t i = h & t->pmap_mask;
    while (t->pmap[i].key != UINT64_MAX && t->pmap[i].key != key) i = (i + 1) & t->pmap_mask;
    if (t->pmap[i].key == UINT64_MAX) t->n_pairs++;
    t->pmap[i].key = key;
    t->pmap[i].rank = rank;
    t->pmap[i].id = id;
    return 0;
}

int tok_merge_append(tok_tokenizer *t, uint32_t a, uint32_t b, uint32_t id, lmc_err *err) {
    if (t->n_merges == t->merges_cap) {
        uint32_t cap = t->merges_cap ? t->merges_cap * 2 : 1024;
        uint32_t *na = realloc(t->merge_a, cap * sizeof *na);
        if (!na) return lmc_errf(err, LMC_ENOMEM, "out of memory for merges");
        t->merge_a = na;
        uint32_t *nb = realloc(t->merge_b, cap * sizeof *nb);
        if (!nb) return lmc_errf(err, LMC_ENOMEM, "out of memory for merges");
        t->merge_b = nb;
        uint32_t *ni = realloc(t->merge_id, cap * sizeof *ni);
        if (!ni) return lmc_errf(err, LMC_ENOMEM, "out of memory for merges");
        t->merge_id = ni;
        t->merges_cap = cap;
    }
    t->merge_a[t->n_merges] = a;
    t->merge_b[t->n_merges] = b;
    t->merge_id[t->n_merges] = id;
    t->n_merges++;
    return 0;
}

int tok_add_special(tok_tokenizer *t, const char *text, size_t len, uint32_t id, int special, lmc_err *err) {
    if (len == 0) return lmc_errf(err, LMC_EFORMAT, "empty special token (id %u)", id);
    for (size_t i = 0; i < t->n_specials; i++) {
        if (t->specials[i].id == id)
            return lmc_errf(err, LMC_EFORMAT, "duplicate id %u for special tokens \"%s\" and \"%.*s\"", id,
                            t->specials[i].text, (int)len, text);
        if (t->specials[i].len == len && memcmp(t->specials[i].text, text, len) == 0)
            return lmc_errf(err, LMC_EFORMAT, "special token \"%.*s\" appears twice", (int)len, text);
    }
    tok_special_tok *s = realloc(t->specials, (t->n_specials + 1) * sizeof *s);
    if (!s) return lmc_errf(err, LMC_ENOMEM, "out of memory for special tokens");
    t->specials = s;
    char *c = malloc(len + 1);
    if (!c) return lmc_errf(err, LMC_ENOMEM, "out of memory for special tokens");
    memcpy(c, text, len);
    c[len] = 0;
    s[t->n_specials].text = c;
    s[t->n_specials].len = len;
    s[t->n_specials].id = id;
    s[t->n_specials].special = special;
    t->n_specials++;
    if (id >= t->n_vocab && grow_ids(t, id + 1, err)) return err ? err->code : LMC_ENOMEM;
    return 0;
}

int tok_finalize(tok_tokenizer *t, lmc_err *err) {
    tok_finish_bytes(t);
    free(t->byte_pairs);
    t->byte_pairs = malloc(65536 * sizeof *t->byte_pairs);
    if (!t->byte_pairs) return lmc_errf(err, LMC_ENOMEM, "out of memory");
    for (int a = 0; a < 256; a++)
        for (int b = 0; b < 256; b++) {
            uint64_t v = UINT64_MAX;
            if (t->byte_id[a] != TOK_NO_ID && t->byte_id[b] != TOK_NO_ID) {
                if (t->rank_by_bytes) {
                    uint8_t two[2] = {(uint8_t)a, (uint8_t)b};
                    uint32_t x = tok_lookup(t, two, 2);
                    if (x != TOK_NO_ID) v = (uint64_t)x << 32 | x;
                } else {
                    const tok_pair *p = tok_pair_get(t, t->byte_id[a], t->byte_id[b]);
                    if (p) v = (uint64_t)p->rank << 32 | p->id;
                }
            }
            t->byte_pairs[a * 256 + b] = v;
        }
    return 0;
}

void tok_finish_bytes(tok_tokenizer *t) {
    for (int b = 0; b < 256; b++) {
        uint8_t c = (uint8_t)b;
        t->byte_id[b] = tok_lookup(t, &c, 1);
    }
}

int tok_pairs_from_merges(tok_tokenizer *t, lmc_err *err) {
    if (tok_reserve(t, t->n_vocab, t->n_tokens, t->n_merges, err)) return err ? err->code : LMC_ENOMEM;
    for (uint32_t r = 0; r < t->n_merges; r++)
        if (tok_pair_set(t, t->merge_a[r], t->merge_b[r], r, t->merge_id[r], err)) return err ? err->code : LMC_ENOMEM;
    return 0;
}

const char *tok_source_format(const tok_tokenizer *t) {
    return t->source == TOK_SRC_TIKTOKEN ? "tiktoken" : "tokenizer.json";
}
uint32_t tok_n_vocab(const tok_tokenizer *t) { return t->n_vocab; }
uint32_t tok_n_tokens(const tok_tokenizer *t) { return t->n_tokens; }
uint32_t tok_n_merges(const tok_tokenizer *t) { return t->n_merges; }
size_t tok_n_special(const tok_tokenizer *t) { return t->n_specials; }

const char *tok_special(const tok_tokenizer *t, size_t i, size_t *len, uint32_t *id) {
    if (i >= t->n_specials) return NULL;
    if (len) *len = t->specials[i].len;
    if (id) *id = t->specials[i].id;
    return t->specials[i].text;
}

int64_t tok_special_id(const tok_tokenizer *t, const char *text) {
    size_t n = strlen(text);
    for (size_t i = 0; i < t->n_specials; i++)
        if (t->specials[i].len == n && memcmp(t->specials[i].text, text, n) == 0) return t->specials[i].id;
    return -1;
}

int64_t tok_eot_id(const tok_tokenizer *t) { return tok_special_id(t, "<|endoftext|>"); }

const uint8_t *tok_token_bytes(const tok_tokenizer *t, uint32_t id, size_t *len) {
    if (id >= t->n_vocab) return NULL;
    if (t->off[id] != UINT64_MAX) {
        if (len) *len = t->len[id];
        return t->blob + t->off[id];
    }
    for (size_t i = 0; i < t->n_specials; i++)
        if (t->specials[i].id == id) {
            if (len) *len = t->specials[i].len;
            return (const uint8_t *)t->specials[i].text;
        }
    return NULL;
}

const char *tok_pattern(const tok_tokenizer *t, tok_pattern_kind *kind) {
    if (kind) *kind = t->pat_kind;
    return t->pattern;
}

void tok_free(tok_tokenizer *t) {
    if (!t) return;
    free(t->blob);
    free(t->off);
    free(t->len);
    free(t->bmap);
    free(t->pmap);
    free(t->byte_pairs);
    free(t->merge_a);
    free(t->merge_b);
    free(t->merge_id);
    for (size_t i = 0; i < t->n_specials; i++) free(t->specials[i].text);
    free(t->specials);
    free(t->pattern);
    if (t->re) pcre2_code_free(t->re);
    free(t);
}

/* GPT-2's byte <-> unicode map: printable Latin-1 bytes map to themselves, the other 68 bytes to
 * U+0100 upward in byte order. */
static int printable_byte(int b) { return (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255); }

uint32_t tok_byte_to_unicode(uint8_t b) {
    if (printable_byte(b)) return b;
    uint32_t n = 0;
    for (int i = 0; i < b; i++)
        if (!printable_byte(i)) n++;
    return 256 + n;
}

int tok_unicode_to_byte(uint32_t cp) {
    if (cp < 256) return printable_byte((int)cp) ? (int)cp : -1;
    if (cp >= 256 + 68) return -1;
    uint32_t n = 0;
    for (int i = 0; i < 256; i++)
        if (!printable_byte(i)) {
            if (n == cp - 256) return i;
            n++;
        }
    return -1;
}
