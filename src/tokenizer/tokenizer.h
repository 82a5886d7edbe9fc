/* Byte-level BPE tokenizers: load (tiktoken rank files, HF tokenizer.json), encode, decode, save
 * (tokenizer.json) and train.
 *
 * Exactness: encoding is token-for-token equal to tiktoken for its rank files and to HF tokenizers for
 * byte-level BPE tokenizer.json files (see docs/tokenizer.md for the rules and what is checked).
 *
 * Merge rule: repeatedly merge the adjacent pair of lowest rank (leftmost on ties).
 *   - tokenizer.json: a hash map from the pair (left id, right id) to (rank, merged id); rank = index
 *     of the merge in model.merges.
 *   - .tiktoken: rank of a pair = rank (= id) of the token equal to the concatenated bytes, looked up
 *     by bytes: exactly tiktoken's rule, and nothing to build at load time.
 * The explicit merge list (merge_a/merge_b/merge_id in rank order; derived for a rank file when it is
 * saved) is the one structure canonicality checks and vocabulary extension (merges appended with
 * ranks above all others) build on.
 *
 * Invalid UTF-8: the input is split into maximal valid UTF-8 runs and single invalid bytes; each run is
 * pre-tokenized by the regex on its own, each invalid byte is a piece of its own. decode(encode(x)) == x
 * for every byte string x.
 *
 * Thread safety: a loaded tok_tokenizer is read-only; encode through one tok_encoder per thread. */
#ifndef LMC_TOKENIZER_H
#define LMC_TOKENIZER_H
#include <stddef.h>
#include <stdint.h>
#include "base/error.h"
#include "base/mem.h"
#include "base/progress.h"

typedef struct tok_tokenizer tok_tokenizer;
typedef struct tok_encoder tok_encoder;

/* Named pre-tokenization patterns (the exact tiktoken v0.14 patterns). */
typedef enum { TOK_PAT_NONE = 0, TOK_PAT_GPT2, TOK_PAT_CL100K, TOK_PAT_O200K, TOK_PAT_CUSTOM } tok_pattern_kind;

/* Growable id vector. */
typedef struct tok_ids {
    uint32_t *v;
    size_t n, cap;
} tok_ids;
int tok_ids_push(tok_ids *ids, uint32_t id, lmc_err *err);
void tok_ids_free(tok_ids *ids);

/* Look up a pattern by name ("gpt2", "r50k_base", "cl100k_base", "o200k_base"); NULL if unknown. */
const char *tok_pattern_by_name(const char *name, tok_pattern_kind *kind);

/* Load a tokenizer from `path`: "*.json" = HF tokenizer.json, anything else = tiktoken rank file.
 * `pattern` (NULL = infer) is a name (see tok_pattern_by_name) or a regex; for rank files it is
 * inferred from the file name (gpt2, r50k_base, cl100k_base, o200k_base: pattern and special tokens). */
int tok_load(tok_tokenizer **t, const char *path, const char *pattern, lmc_err *err);
/* The same from memory (`name` is used in messages); used by the fuzz targets. */
int tok_load_tiktoken_mem(tok_tokenizer **t, const char *data, size_t len, const char *name,
                          const char *pattern, lmc_err *err);
int tok_load_hf_json_mem(tok_tokenizer **t, const char *data, size_t len, const char *name,
                         lmc_err *err);
void tok_free(tok_tokenizer *t);

/* 1 + the largest id (ordinary or special). */
uint32_t tok_n_vocab(const tok_tokenizer *t);
/* Number of ordinary (mergeable) tokens and of merges in the explicit merge list. */
uint32_t tok_n_tokens(const tok_tokenizer *t);
uint32_t tok_n_merges(const tok_tokenizer *t);
size_t tok_n_special(const tok_tokenizer *t);
/* The i-th special token: its text and id. */
const char *tok_special(const tok_tokenizer *t, size_t i, size_t *len, uint32_t *id);
/* Id of a special token by its text, or -1. */
int64_t tok_special_id(const tok_tokenizer *t, const char *text);
/* End-of-text id ("<|endoftext|>"), or -1. */
int64_t tok_eot_id(const tok_tokenizer *t);
/* The bytes of token `id` (NULL if the id has no token). */
const uint8_t *tok_token_bytes(const tok_tokenizer *t, uint32_t id, size_t *len);
/* The pre-tokenization regex in use and its kind. */
const char *tok_pattern(const tok_tokenizer *t, tok_pattern_kind *kind);
/* "tiktoken" or "tokenizer.json". */
const char *tok_source_format(const tok_tokenizer *t);

/* Encoders hold the per-thread scratch state (regex match data, BPE buffers). */
int tok_encoder_new(tok_encoder **e, const tok_tokenizer *t, lmc_err *err);
void tok_encoder_free(tok_encoder *e);
/* Turn the exact ASCII fast path of pre-tokenization off (1 = on, the default); for tests. */
void tok_encoder_set_fast(tok_encoder *e, int on);

/* Encode `len` bytes, appending ids to `out`. allow_special = 0: special-token strings are plain
 * text (tiktoken's encode_ordinary); 1: every special/added token string is its id. */
int tok_encode(tok_encoder *e, const void *text, size_t len, int allow_special, tok_ids *out,
               lmc_err *err);
/* Encode the part [from, to) of a document text[0..len): the pieces that start in it, with the
 * look-ahead past `to` the patterns need. from and to must be 0, len, or tok_safe_split positions;
 * encoding consecutive parts then gives exactly the ids of encoding the whole (special tokens as
 * text). Used to split long documents over threads. */
int tok_encode_part(tok_encoder *e, const void *text, size_t len, size_t from, size_t to, tok_ids *out,
                    lmc_err *err);
/* The first position p >= max(from, 1) where every named pattern always has a piece boundary: p
 * follows "\n" and starts a printable ASCII character other than '/' or a non-space UTF-8 character
 * (lead byte C3-DF, E4-EF or F0-F4, complete and valid). Returns len when there is none, or when the pattern is
 * not one of gpt2 / cl100k_base / o200k_base. */
size_t tok_safe_split(const tok_tokenizer *t, const void *text, size_t len, size_t from);

/* Documents of an input file: a plain-text file is one document; "*.jsonl" / "*.ndjson" (also .gz,
 * .zst) give one document per non-empty line, the string field `field`. */
typedef struct tok_docs tok_docs;
int tok_docs_open(tok_docs **d, const char *path, const char *field, lmc_err *err);
/* 1 with the next document (valid until the next call), 0 at the end, <0 on error. */
int tok_docs_next(tok_docs *d, const char **text, size_t *len, lmc_err *err);
/* 1 when returned documents stay valid until tok_docs_close (plain text), 0 when only until the
 * next call (JSONL). */
int tok_docs_stable(const tok_docs *d);
/* Bytes of the (decompressed) input consumed so far. */
uint64_t tok_docs_bytes(const tok_docs *d);
void tok_docs_close(tok_docs *d);
int tok_path_is_jsonl(const char *path);

/* Encode documents into a token shard (src/data/shard.h): each document's ordinary encoding followed
 * by the end-of-text token. Parallel over `threads` (0 = all cores); documents over 2 MB are cut at
 * piece boundaries (tok_safe_split) so one big document uses every thread too. The output is
 * byte-identical for any thread count. Written atomically. */
typedef struct tok_shard_stats {
    uint64_t docs, tokens, bytes;
} tok_shard_stats;
int tok_encode_to_shard(const tok_tokenizer *t, const char *const *inputs, int n_inputs, const char *field,
                        const char *out_path, int threads, lmc_progress *progress, tok_shard_stats *stats,
                        lmc_err *err);

/* Pre-tokenize only: call fn for each piece (same pieces tok_encode merges, in order). */
typedef int (*tok_piece_fn)(void *ctx, const uint8_t *piece, size_t len, lmc_err *err);
int tok_pretokenize(tok_encoder *e, const void *text, size_t len, tok_piece_fn fn, void *ctx, lmc_err *err);
/* The pieces tok_encode_part would merge. */
int tok_pretokenize_part(tok_encoder *e, const void *text, size_t len, size_t from, size_t to, tok_piece_fn fn,
                         void *ctx, lmc_err *err);

/* Append the bytes of `n` ids to `out`. An id without a token is an error naming its index. */
int tok_decode(const tok_tokenizer *t, const uint32_t *ids, size_t n, lmc_buf *out, lmc_err *err);

/* BPE-merge one piece of bytes (no pre-tokenization) using only merges of rank < max_rank
 * (UINT32_MAX = all). Used for deriving merges and for canonicality checks. */
int tok_bpe_piece(tok_encoder *e, const uint8_t *p, size_t n, uint32_t max_rank, tok_ids *out,
                  lmc_err *err);

/* Write an HF tokenizer.json (byte-level BPE; merges as [a, b] pairs). For a rank file the merge
 * list is derived: token of rank r ends BPE on its own bytes with ranks < r in exactly two parts. */
int tok_save_hf_json(const tok_tokenizer *t, const char *path, lmc_err *err);

/* Training (HF BpeTrainer's algorithm; see docs/tokenizer.md for the tie-break). */
typedef struct tok_train_opts {
    uint32_t vocab_size;          /* total: specials + 256 bytes + merges */
    const char *pattern;          /* name or regex; NULL = gpt2 */
    const char *const *specials;  /* special tokens, ids 0..n_specials-1 */
    int n_specials;
    uint64_t min_frequency;       /* stop when the best pair is rarer (0 and 1 are the same) */
    int threads;                  /* 0 = all cores */
    lmc_progress *progress;       /* may be NULL */
} tok_train_opts;
/* A trainer: feed text, then train. Plain text files are fed one line (with its '\n') per sequence, as
 * HF's train(files) does; JSONL documents one document per sequence. */
typedef struct tok_trainer tok_trainer;
int tok_trainer_new(tok_trainer **tr, const tok_train_opts *o, lmc_err *err);
/* Feed `n` sequences (pre-tokenized and counted in parallel). */
int tok_trainer_feed(tok_trainer *tr, const char *const *seqs, const size_t *lens, size_t n,
                     lmc_err *err);
/* Run the merges; on success *t is a tokenizer that can be saved or used. */
int tok_trainer_finish(tok_trainer *tr, tok_tokenizer **t, lmc_err *err);
void tok_trainer_free(tok_trainer *tr);
/* Train on files: plain text = one sequence per line ('\n' kept), JSONL = one per document. */
int tok_train_files(const tok_train_opts *o, const char *const *inputs, int n_inputs, const char *field,
                    tok_tokenizer **t, lmc_err *err);

/* For exporters (tok_export.c): the merge list in rank order (*n pairs of token ids a[r] b[r]; derived
 * on first use for a rank file); 1 if id is an ordinary (byte) token; 1 if the i-th added token is
 * special (0 = a non-special added token). */
int tok_merge_list(const tok_tokenizer *t, uint32_t *n, const uint32_t **a, const uint32_t **b, lmc_err *err);
int tok_is_ordinary(const tok_tokenizer *t, uint32_t id);
int tok_special_is_special(const tok_tokenizer *t, size_t i);

/* The GPT-2 byte <-> unicode map used by byte-level tokenizer.json files. */
uint32_t tok_byte_to_unicode(uint8_t b);
int tok_unicode_to_byte(uint32_t cp); /* -1 if not in the map */

#endif
