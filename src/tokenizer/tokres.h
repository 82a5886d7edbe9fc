/* Tokenizer research tools (issue 20): canonicality of token sequences (Vieira et al., ICML 2025),
 * vocabulary extension that never lengthens (Herold et al., 2025) and tokenizer evaluation metrics.
 * See docs/tokenizer.md ("Canonicality", "Extension", "Evaluation").
 *
 * Canonical: a token sequence d is canonical iff encode(decode(d)) == d (special tokens split the
 * sequence into segments that are checked on their own, as a shard's documents are encoded). */
#ifndef LMC_TOKRES_H
#define LMC_TOKRES_H
#include <stddef.h>
#include <stdint.h>
#include "base/error.h"
#include "tokenizer/tokenizer.h"

/* ---- canonicality ---- */
typedef struct tok_canon tok_canon;

/* Build the per-vocabulary tables once: for every token whether BPE on its own bytes gives it back
 * ("self-canonical"), and its derivation (left child, right child, rank of the merge that builds it)
 * from which the right and left spines of the bigram test are walked. Fails on add_prefix_space
 * tokenizers (decoded text would need the space removed: not supported). */
int tok_canon_new(tok_canon **c, const tok_tokenizer *t, lmc_err *err);
void tok_canon_free(tok_canon *c);

/* 1 when BPE on bytes(id) alone gives [id]. */
int tok_canon_self(const tok_canon *c, uint32_t id);
/* 1 + the largest id of the tokenizer the tables were built for. */
uint32_t tok_canon_n_vocab(const tok_canon *c);
/* The paper's bigram test for BPE without pre-tokenization, by the spines: 1 when BPE of
 * bytes(a) bytes(b) gives [a, b]. Both must be self-canonical (else 0). */
int tok_canon_pair(const tok_canon *c, uint32_t a, uint32_t b);
/* The same by running BPE on the concatenated bytes (the reference the spine test is checked
 * against). */
int tok_canon_pair_bpe(tok_canon *c, uint32_t a, uint32_t b, lmc_err *err);

/* Exact check of a whole sequence with the pre-tokenizer: decode, split the bytes with the pattern
 * (linear), require every piece boundary to be a token boundary, and inside each piece require the
 * piece's tokens to be its BPE encoding, which the bigram test decides pair by pair (plus the
 * whole-piece rule of tiktoken / ignore_merges). *canonical = 1 or 0; when 0, *pos is the index of
 * the first token of the first offending pair (pair pos, pos+1; pos+1 may be n when the sequence has
 * one token). open_end = 1 treats the sequence as a prefix that text may still follow: the last piece
 * is not held to the whole-piece rule, and its whitespace-whitespace junctions are not judged (the
 * look-ahead of \s+(?!\S) may still split them). Ids that are not tokens are an error naming the
 * position. */
int tok_canon_check(tok_canon *c, const uint32_t *ids, size_t n, int open_end, int *canonical, size_t *pos,
                    lmc_err *err);
/* The global test (the oracle): encode(decode(segment)) == segment for each segment. *pos = the first
 * index where the re-encoding differs. */
int tok_canon_oracle(tok_canon *c, const uint32_t *ids, size_t n, int *canonical, size_t *pos, lmc_err *err);

/* ---- vocabulary extension (extend.c) ---- */
typedef struct tok_extend_stats {
    uint32_t candidates;   /* domain tokens looked at */
    uint32_t in_base;      /* already in the base vocabulary */
    uint32_t multi_piece;  /* not one pre-tokenizer piece */
    uint32_t not_two;      /* encode with the current (extended) tokenizer is not exactly two tokens */
    uint32_t added;
} tok_extend_stats;
/* Append up to n_add merges to *t (which is modified: a rank file is turned into the equivalent
 * merge-list tokenizer first). Candidates: the tokens of `domain` in its merge order (the domain
 * tokenizer's merges are not used); a candidate is added when it is not in *t, is one piece for the
 * pre-tokenizer, and the current tokenizer encodes it as exactly two tokens (a, b): merge (a, b) gets
 * the next id and a rank after every existing merge. Fails (LMC_EFORMAT) when *t's merge list is not
 * consistent (a merge whose result's bytes are not its parts' bytes, or whose result is not built by
 * it), since appended ranks then cannot be guaranteed to fire last. */
int tok_extend(tok_tokenizer *t, const tok_tokenizer *domain, uint32_t n_add, tok_extend_stats *st, lmc_err *err);
/* For an extended tokenizer: the first new id and, for new id k, its two parts (the paper's init of a
 * new embedding row is the mean of its parts' rows, applied recursively to new parts). */
int tok_merge_parts(const tok_tokenizer *t, uint32_t id, uint32_t *a, uint32_t *b);

/* ---- evaluation (tokeval.c) ---- */
typedef struct tok_eval_acc {
    uint64_t bytes, tokens, words, chars;
    uint64_t *count;   /* per id */
    uint32_t n_vocab;
} tok_eval_acc;
int tok_eval_init(tok_eval_acc *a, uint32_t n_vocab, lmc_err *err);
void tok_eval_free(tok_eval_acc *a);
/* Count one encoded text: words are maximal runs of non-whitespace bytes (ASCII space, \t\n\r\v\f). */
void tok_eval_add(tok_eval_acc *a, const uint8_t *text, size_t len, const uint32_t *ids, size_t n);
typedef struct tok_eval_res {
    double bytes_per_token, tokens_per_word, chars_per_token;
    double utilisation;    /* share of the ordinary vocabulary used at least once */
    double shannon_eff;    /* H(p) / log|V| */
    double renyi_eff;      /* H_alpha(p) / log|V| (Zouhar et al. 2023) */
    double alpha;
    uint64_t types;        /* distinct ids used */
} tok_eval_res;
/* vocab_size: |V| in the efficiency denominators (the ordinary tokens). */
void tok_eval_result(const tok_eval_acc *a, uint32_t vocab_size, double alpha, tok_eval_res *r);

#endif
