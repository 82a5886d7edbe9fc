/* Internal layout of a tokenizer (not part of the public contract). */
#ifndef LMC_TOK_INTERNAL_H
#define LMC_TOK_INTERNAL_H
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include "tokenizer/tokenizer.h"

#define TOK_NO_ID UINT32_MAX
/* Ids must be below this (16M; real vocabularies are under 1M): bounds memory on hostile files. */
#define TOK_MAX_ID (1u << 24)

/* One entry of the pair table: key = left << 32 | right; empty = UINT64_MAX. */
typedef struct tok_pair {
    uint64_t key;
    uint32_t rank, id;
} tok_pair;

typedef struct tok_special_tok {
    char *text;
    size_t len;
    uint32_t id;
    int special; /* 1 = special, 0 = a non-special added token (tokenizer.json) */
} tok_special_tok;

typedef enum { TOK_SRC_TIKTOKEN = 1, TOK_SRC_HF = 2, TOK_SRC_TRAINED = 3 } tok_source;

struct tok_tokenizer {
    uint32_t n_vocab;        /* 1 + largest id */
    uint32_t ids_cap;        /* allocated length of off[] and len[] */
    uint32_t n_tokens;       /* ordinary tokens */
    uint8_t *blob;           /* token bytes, concatenated */
    size_t blob_len, blob_cap;
    uint64_t *off;           /* per id: offset into blob, UINT64_MAX = no ordinary token */
    uint32_t *len;           /* per id: byte length */
    uint64_t *bmap;          /* bytes -> id hash (open addressing; hash tag << 32 | id+1, 0 = empty) */
    uint64_t *byte_pairs;    /* [a_byte * 256 + b_byte]: rank << 32 | id of the pair of two byte tokens, or UINT64_MAX */
    uint64_t bmap_mask;
    tok_pair *pmap;          /* pair table */
    uint64_t pmap_mask, n_pairs;
    uint32_t *merge_a, *merge_b, *merge_id; /* explicit merge list in rank order */
    uint32_t n_merges, merges_cap;
    uint32_t byte_id[256];   /* token of each single byte (TOK_NO_ID if none) */
    tok_special_tok *specials;
    size_t n_specials;
    int rank_by_bytes;       /* rank file: rank of a pair = id of the concatenated bytes (no pair table) */
    int whole_piece_first;   /* look the whole piece up before merging (tiktoken, ignore_merges) */
    int add_prefix_space;    /* HF ByteLevel add_prefix_space */
    tok_source source;
    tok_pattern_kind pat_kind;
    char *pattern;
    pcre2_code *re;
};

/* vocab.c */
tok_tokenizer *tok_alloc(lmc_err *err);
/* Reserve ids [0, n_vocab) and hash tables for about n tokens and m pairs. */
int tok_reserve(tok_tokenizer *t, uint32_t n_vocab, size_t n_tokens, size_t n_pairs, lmc_err *err);
/* Add an ordinary token. Fails (LMC_EFORMAT, message without position) on a duplicate id or bytes. */
int tok_add_token(tok_tokenizer *t, uint32_t id, const uint8_t *p, size_t n, lmc_err *err);
uint32_t tok_lookup(const tok_tokenizer *t, const uint8_t *p, size_t n);
uint32_t tok_lookup_h(const tok_tokenizer *t, const uint8_t *p, size_t n, uint64_t hash);
/* Last step of every loader: byte tables used by the encoder. */
int tok_finalize(tok_tokenizer *t, lmc_err *err);
/* Set pair (a, b) -> (rank, id); an existing pair is overwritten. */
int tok_pair_set(tok_tokenizer *t, uint32_t a, uint32_t b, uint32_t rank, uint32_t id, lmc_err *err);
static inline const tok_pair *tok_pair_get(const tok_tokenizer *t, uint32_t a, uint32_t b) {
    if (!t->pmap) return NULL;
    uint64_t key = (uint64_t)a << 32 | b;
    uint64_t h = key * 0x9E3779B97F4A7C15ull;
    h ^= h >> 29;
    for (uint64_t i = h & t->pmap_mask;; i = (i + 1) & t->pmap_mask) {
        const tok_pair *e = &t->pmap[i];
        if (e->key == key) return e;
        if (e->key == UINT64_MAX) return NULL;
    }
}
int tok_merge_append(tok_tokenizer *t, uint32_t a, uint32_t b, uint32_t id, lmc_err *err);
int tok_add_special(tok_tokenizer *t, const char *text, size_t len, uint32_t id, int special, lmc_err *err);
/* After tokens are added: fill byte_id. */
void tok_finish_bytes(tok_tokenizer *t);
/* Build the pair table from the explicit merge list (rank = index). */
int tok_pairs_from_merges(tok_tokenizer *t, lmc_err *err);
/* Derive the explicit merge list from ranks (for saving a rank file as tokenizer.json). */
int tok_derive_merges(tok_tokenizer *t, lmc_err *err);

/* pretok.c */
int tok_set_pattern(tok_tokenizer *t, const char *pattern, lmc_err *err);

/* Length of the valid UTF-8 prefix of p[0..n) (strict: no overlongs, surrogates, > U+10FFFF). */
size_t tok_utf8_valid_prefix(const uint8_t *p, size_t n);

uint64_t tok_hash_bytes(const uint8_t *p, size_t n);

/* fastpre.c: end of the match of a named pattern at p[i], or 0 if PCRE2 must decide. */
size_t tok_fast_match(int kind, const uint8_t *p, size_t n, size_t i);
/* Build the byte class table (once per process; tok_encoder_new calls it). */
void tok_fast_init(void);
#endif
