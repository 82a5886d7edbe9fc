/* The data module: streaming corpus cleaning.
 *
 *   documents in (JSONL / plain text, plain/.gz/.zst)  ->  filters, dedup, decontamination  ->  JSONL out
 *
 * Every stage keeps a document byte-for-byte (its original JSONL line, all fields as they were) unless
 * the stage itself changes the text (decontamination cutting out contaminated windows). Every removed
 * document is counted per reason, and can be written with its reason to a rejected file.
 * Same input + same parameters -> byte-identical output for any thread count: documents are processed
 * in batches in parallel and always written in input order. */
#ifndef LMC_DATA_H
#define LMC_DATA_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <jansson.h>
#include "base/base.h"

/* ------------------------------------------------------------------------------------------------
 * Document input */

typedef enum { DATA_FMT_AUTO = 0, DATA_FMT_JSONL, DATA_FMT_TEXT } data_format;

typedef struct data_read_opts {
    const char *field;          /* JSONL text field ("text") */
    const char *doc_separator;  /* plain text: PCRE2 regex splitting a file into documents; NULL = one doc/file */
    data_format format;         /* AUTO: *.jsonl / *.json / *.ndjson (also .gz/.zst) are JSONL, else text */
    int strict;                 /* invalid JSON line / invalid UTF-8 / missing field = hard error */
    size_t max_doc_bytes;       /* longer lines/documents are skipped and counted (0 = no limit) */
    int threads;                /* JSONL lines are decoded in parallel (0 = OpenMP default) */
} data_read_opts;

void data_read_opts_default(data_read_opts *o);

typedef struct data_doc {
    uint64_t index;     /* 0-based position among the documents read, in input order */
    const char *text;   /* UTF-8 text (not NUL-terminated in general) */
    size_t text_len;
    const char *raw;    /* the original JSONL line (without '\n'); NULL for plain-text input */
    size_t raw_len;
    uint32_t file_id;   /* index into the reader's input list */
    uint64_t line;      /* 1-based line of the document's start in its file */
} data_doc;

/* Why a line of input did not become a document. */
typedef struct data_skip {
    uint32_t file_id;
    uint64_t line;
    char reason[96];
} data_skip;

#define DATA_SKIPS_KEPT 1000  /* skips listed in reports; all are counted */

typedef struct data_reader data_reader;

int data_reader_open(data_reader **r, const char *const *paths, size_t npaths, const data_read_opts *o,
                     lmc_err *err);
/* Read up to `max_docs` documents (and at most about `max_bytes` of text) into the reader's batch.
 * *docs points into storage that stays valid until the next call. Returns the count (0 = end), <0 on error. */
long data_reader_batch(data_reader *r, size_t max_docs, size_t max_bytes, data_doc **docs, lmc_err *err);
uint64_t data_reader_nskipped(const data_reader *r);
const data_skip *data_reader_skips(const data_reader *r, size_t *n);   /* first DATA_SKIPS_KEPT */
uint64_t data_reader_bytes(const data_reader *r);      /* text bytes of the documents returned */
uint64_t data_reader_docs(const data_reader *r);
const char *data_reader_path(const data_reader *r, uint32_t file_id);
/* Start over from the first input (used by two-pass stages). Counters restart too. */
int data_reader_rewind(data_reader *r, lmc_err *err);
void data_reader_close(data_reader *r);

/* Validate one JSONL line as a JSON object and decode its top-level string `field` into out (reset
 * first). Returns 0 (an object; *found says whether the field is a string), 1 (valid JSON, not an object),
 * -1 (invalid: *msg and the 1-based byte column *col say where). */
int data_json_line_field(const char *s, size_t n, const char *field, lmc_buf *out, int *found, const char **msg,
                         size_t *col);

/* Byte range [*start, *end) of the (last) string value of top-level `field` in a JSONL line, quotes
 * included. Returns 0, or -1 when the line is not an object with that string field. */
int data_json_field_span(const char *s, size_t n, const char *field, size_t *start, size_t *end);

/* Is the file JSONL by its name (.jsonl/.json/.ndjson, optionally + .gz/.zst)? */
int data_path_is_jsonl(const char *path);

/* ------------------------------------------------------------------------------------------------
 * Document output: JSONL, zstd-compressed when the name ends in .zst; atomic (temp + rename). */

typedef struct data_writer data_writer;

int data_writer_open(data_writer **w, const char *path, lmc_err *err);
/* The document as it came in: the raw line for JSONL, {"<field>": text} for plain text. */
int data_writer_doc(data_writer *w, const data_doc *d, const char *field, lmc_err *err);
/* The document with a replaced text (JSONL: field replaced, other fields kept in order). */
int data_writer_doc_text(data_writer *w, const data_doc *d, const char *field, const char *text, size_t len,
                         lmc_err *err);
/* The document with one extra string field added (for --rejected): "<key>": value. */
int data_writer_doc_tagged(data_writer *w, const data_doc *d, const char *field, const char *key,
                           const char *value, lmc_err *err);
int data_writer_write(data_writer *w, const void *p, size_t n, lmc_err *err);  /* raw bytes */
uint64_t data_writer_count(const data_writer *w);
int data_writer_commit(data_writer *w, lmc_err *err);  /* flushes, renames into place, frees */
void data_writer_abort(data_writer *w);                /* removes the temp file, frees */

/* ------------------------------------------------------------------------------------------------
 * Text analysis shared by the stages (text.c). Code-point semantics follow Python's str, as datatrove. */

int data_utf8_valid(const char *s, size_t n, size_t *bad_off);
/* Decode one code point at s[*i] (valid UTF-8 assumed; invalid bytes decode as U+FFFD, 1 byte). */
uint32_t data_utf8_next(const char *s, size_t n, size_t *i);
size_t data_utf8_count(const char *s, size_t n);
int data_is_space(uint32_t c);         /* Python str.isspace */
int data_is_punct(uint32_t c);         /* datatrove PUNCTUATION_SET */
int data_is_terminal(uint32_t c);      /* datatrove TERMINAL_PUNCTUATION */
int data_is_alpha(uint32_t c);         /* letters (approximate str.isalpha, see text.c) */
uint32_t data_lower(uint32_t c);       /* simple case folding for Latin, Greek, Cyrillic */

/* A word: a byte range of the text plus its length in code points. */
typedef struct data_word {
    uint32_t off, len;    /* bytes */
    uint32_t nchars;      /* code points */
} data_word;

typedef struct data_words {
    data_word *w;
    size_t n, cap;
} data_words;

/* Split like NLTK's Treebank word tokenizer (the tokenizer datatrove's English filters use),
 * approximately: whitespace split, then opening/closing punctuation, "...", and English contractions
 * ('s 'm 'd 'll 're 've n't) split off as their own tokens. */
int data_split_words(const char *s, size_t n, data_words *out, lmc_err *err);
void data_words_free(data_words *w);

/* datatrove's simplify_text: lowercase, numbers -> "0", punctuation -> space, whitespace collapsed,
 * diacritics removed. Writes UTF-8 into out (reset first). With keep_numbers, numbers stay. */
int data_simplify(const char *s, size_t n, int keep_numbers, lmc_buf *out, lmc_err *err);

/* ------------------------------------------------------------------------------------------------
 * Quality filters (filter.c) */

enum { DATA_RULESET_GOPHER_QUALITY = 1, DATA_RULESET_GOPHER_REP = 2, DATA_RULESET_C4 = 4,
       DATA_RULESET_FINEWEB = 8 };

/* A rule on a number column a previous stage added (`lmc data classify score`, `lmc data score`):
 * "score:FIELD>=X" (also >, <=, <, ==). A document whose line lacks the number field is removed as
 * "score/missing:FIELD". */
#define DATA_MAX_SCORE_RULES 8
typedef struct data_score_rule {
    char field[64];
    int op;            /* 0 >=, 1 >, 2 <=, 3 <, 4 == */
    double value;
    char reason[128], missing[96];   /* "score/FIELD<X" (what failed), "score/missing:FIELD" */
} data_score_rule;

typedef struct data_filter_cfg {
    unsigned rulesets;
    data_score_rule score[DATA_MAX_SCORE_RULES];   /* score_rule.c */
    int nscore;
    /* gopher-quality */
    double gq_min_doc_words, gq_max_doc_words, gq_min_avg_word_length, gq_max_avg_word_length;
    double gq_max_symbol_word_ratio, gq_max_bullet_lines_ratio, gq_max_ellipsis_lines_ratio;
    double gq_min_alpha_words_ratio, gq_min_stop_words;
    /* gopher-repetition */
    double gr_dup_line_frac, gr_dup_para_frac, gr_dup_line_char_frac, gr_dup_para_char_frac;
    double gr_top_ngram_frac[5];   /* index n = 2..4 */
    double gr_dup_ngram_frac[11];  /* index n = 5..10 */
    /* c4 */
    double c4_min_num_sentences, c4_min_words_per_line, c4_max_word_length;
    int c4_filter_no_terminal_punct, c4_remove_citations, c4_filter_lorem_ipsum, c4_filter_javascript,
        c4_filter_curly_bracket, c4_filter_policy;
    /* fineweb */
    double fw_line_punct_thr, fw_short_line_thr, fw_short_line_length, fw_char_duplicates_ratio,
        fw_new_line_ratio;
    int fw_line_punct_exclude_zero;
} data_filter_cfg;

/* The published defaults (datatrove 0.10 = FineWeb's settings) for the given rule sets. */
void data_filter_cfg_default(data_filter_cfg *c, unsigned rulesets);
/* "gopher-quality,c4" -> bit set. */
int data_filter_parse_rulesets(const char *list, unsigned *out, lmc_err *err);
/* "gopher-quality.min_doc_words=40" (also "gopher-repetition.top_2_gram=0.25",
 * "gopher-repetition.dup_5_gram=0.2"). */
int data_filter_set(data_filter_cfg *c, const char *assignment, lmc_err *err);
/* All parameters as a JSON object (for reports). */
json_t *data_filter_cfg_json(const data_filter_cfg *c);
/* Add a rule "score:FIELD>=X" (score_rule.c). */
int data_score_rule_add(data_filter_cfg *c, const char *spec, lmc_err *err);
/* NULL when the JSONL line passes every score rule, else the reason (a string inside c). */
const char *data_score_rules_check(const data_filter_cfg *c, const char *raw, size_t len);

/* Per-thread scratch for filtering. */
typedef struct data_filter_scratch data_filter_scratch;
data_filter_scratch *data_filter_scratch_new(void);
void data_filter_scratch_free(data_filter_scratch *s);

/* Returns NULL when the document passes, else the name of the rule that fired, as
 * "<ruleset>/<reason>" (e.g. "gopher-quality/short_doc"); a static string. <0-style errors cannot
 * happen except out of memory, reported as "oom". Rule sets run in FineWeb's order:
 * gopher-repetition, gopher-quality, c4, fineweb. */
const char *data_filter_doc(const data_filter_cfg *c, const char *text, size_t len, data_filter_scratch *s);

/* ------------------------------------------------------------------------------------------------
 * Dedup (minhash.c: signatures and shingle sets; dedup_plan.c: verified near-dedup) */

typedef struct data_minhash_cfg {
    int ngram;        /* word n-gram shingles (5) */
    int bands, rows;  /* 14 x 8 = 112 permutations */
    uint64_t seed;    /* permutation parameters come from lmc_rng seeded with this */
} data_minhash_cfg;

typedef struct data_minhash {
    data_minhash_cfg cfg;
    uint64_t *a, *b;   /* bands*rows permutation parameters, h(x) = ((a*x + b) mod 2^64) mod (2^61-1) */
} data_minhash;

int data_minhash_init(data_minhash *m, const data_minhash_cfg *cfg, lmc_err *err);
void data_minhash_free(data_minhash *m);
/* Signature of a document: bands*rows values into sig. Returns the number of shingles (0 = the document
 * has fewer than ngram words; sig is then all UINT64_MAX and the document takes no part in near-dedup).
 * `tmp` is scratch (reset inside). */
long data_minhash_signature(const data_minhash *m, const char *text, size_t len, uint64_t *sig, lmc_buf *tmp,
                            lmc_err *err);
/* Band keys: one 64-bit hash per band of the signature. */
void data_minhash_band_keys(const data_minhash *m, const uint64_t *sig, uint64_t *keys);
/* Signature, then bands + 2 keys: the band keys and the XXH3-128 of simplify_text (documents equal after
 * simplification have the same shingle set). Returns the number of shingles as data_minhash_signature;
 * keys are set only when it is > 0. */
long data_minhash_keys(const data_minhash *m, const char *text, size_t len, uint64_t *sig, uint64_t *keys,
                       lmc_buf *tmp, lmc_err *err);

/* The exact-dedup key: 128-bit hash of the whitespace-normalized text (runs of white space -> one
 * space, trimmed). */
void data_exact_key(const char *text, size_t len, uint64_t key[2], lmc_buf *tmp);

/* The distinct shingle hashes of a document (the set the signature describes), sorted ascending, in a
 * malloc'd array *set (NULL when empty; free() it). Returns their number, or -1. */
long data_minhash_shingle_set(const data_minhash *m, const char *text, size_t len, uint64_t **set, lmc_buf *tmp,
                              lmc_err *err);
/* Exact Jaccard |A n B| / |A u B| of two sorted sets of distinct hashes (1 when both are empty). */
double data_jaccard_sorted(const uint64_t *a, size_t na, const uint64_t *b, size_t nb);
/* The signature estimate of the Jaccard: the share of equal signature values. Its standard error is
 * sqrt(J (1 - J) / (bands * rows)): 0.038 at J = 0.8 with 112 permutations. */
double data_minhash_estimate(const data_minhash *m, const uint64_t *sa, const uint64_t *sb);

/* ------------------------------------------------------------------------------------------------
 * Exact-substring dedup (substr.c, substr_run.c; Lee et al. 2022): byte spans of at least min_len bytes
 * repeated anywhere in the corpus, found with a suffix array (libdivsufsort), are cut out. */

typedef struct data_span { uint32_t start, end; } data_span;   /* [start, end) byte offsets */

/* Spans of s[0..n) (documents joined by 0xFF bytes) to remove: with keep_first, bytes of a repeat of at
 * least min_len bytes that occurred earlier (the first occurrence stays); else every occurrence (Lee et
 * al.'s tool). Sorted, disjoint, never crossing a 0xFF. *out is malloc'd. Needs 8 bytes per input byte
 * on top of s. */
int data_substr_spans(const uint8_t *s, int32_t n, int32_t min_len, int keep_first, data_span **out, size_t *nout,
                      lmc_err *err);

typedef struct data_substr_cfg {
    const char *const *inputs;
    size_t ninputs;
    data_read_opts read;
    const char *output;       /* NULL with report_only */
    int min_len;              /* bytes (50) */
    int keep_first;           /* 1: keep the first occurrence (default); 0: remove every occurrence */
    int report_only;          /* change nothing; list the spans */
    size_t max_listed;        /* spans listed in the report */
    int threads;
} data_substr_cfg;

void data_substr_cfg_default(data_substr_cfg *c);
/* Two passes over the inputs: gather the text, find the spans, then write each document with its spans
 * cut out (byte-for-byte when nothing is cut; dropped when nothing but white space is left). */
int data_substr_run(const data_substr_cfg *c, json_t **report, lmc_err *err);

/* ------------------------------------------------------------------------------------------------
 * Filter-bias audit (audit.c): removal rate of each rule set per category of a JSONL field. */

typedef struct data_audit_cfg {
    const char *const *inputs;
    size_t ninputs;
    data_read_opts read;
    const char *by;               /* category field ("source") */
    data_filter_cfg filter;       /* rule sets audited, with their thresholds */
    int threads;
    size_t max_categories;        /* more distinct values are counted together as "(other)" (10000) */
} data_audit_cfg;

void data_audit_cfg_default(data_audit_cfg *c);
/* Report: per category (and overall) documents, per rule set and "any" the removed count, rate and Wilson
 * 95% interval, counts per rule; per filter the highest- and lowest-rate categories. */
int data_audit_run(const data_audit_cfg *c, json_t **report, lmc_err *err);
/* Wilson score interval of x successes in n trials at z (1.96 for 95%). */
void data_wilson(uint64_t x, uint64_t n, double z, double *lo, double *hi);

/* ------------------------------------------------------------------------------------------------
 * N-gram contamination index (decont.c): hashes of word n-grams (normalized as GPT-3: lowercase,
 * punctuation removed, split on white space) of evaluation examples. */

typedef struct data_ngram_index data_ngram_index;

typedef struct data_eval_set {
    char *name;            /* file name */
    size_t nexamples;
    char **examples;       /* example text (pairs joined with " ||| ") */
    uint64_t *example_line;
} data_eval_set;

/* Load evaluation files: plain text (one example per non-empty line), JSONL with `field` (when NULL:
 * "text", or BLiMP pairs sentence_good/sentence_bad when those keys exist). */
int data_eval_load(const char *path, const char *field, data_eval_set *set, lmc_err *err);
void data_eval_free(data_eval_set *set);

data_ngram_index *data_ngram_index_new(int n, int min_n, lmc_err *err);
/* Index every example of a set; returns the set's id. Examples with fewer than n words are indexed by
 * their whole word sequence when they have at least min_n words, else counted as too short. */
int data_ngram_index_add(data_ngram_index *ix, const data_eval_set *set, lmc_err *err);
void data_ngram_index_free(data_ngram_index *ix);
size_t data_ngram_index_size(const data_ngram_index *ix);      /* distinct n-grams */
size_t data_ngram_index_memory(const data_ngram_index *ix);    /* bytes */

/* A match of an indexed n-gram inside a text: the byte range of the matched words. */
typedef struct data_match {
    uint32_t start, end;
    uint32_t entry;      /* index entry (for marking examples) */
} data_match;

/* Scratch for data_ngram_scan (zero-initialize; free with data_nwords_free). */
typedef struct data_nwords { void *w; size_t cap; } data_nwords;
void data_nwords_free(data_nwords *s);

/* Find all matches of indexed n-grams in text (*m grows as needed; *cap is its capacity). */
int data_ngram_scan(const data_ngram_index *ix, const char *text, size_t len, data_match **m, size_t *nm,
                    size_t *cap, data_nwords *tmp, lmc_err *err);

/* Decontamination of one document (GPT-3 rules): cut out each matched n-gram plus `window` chars on
 * both sides, drop pieces shorter than min_slice chars; the document is dropped when it was split into
 * more than too_dirty pieces. Returns the number of pieces kept (pieces are [starts[i], ends[i]) byte
 * ranges of text); -1 = too dirty. */
typedef struct data_decont_cfg {
    int ngram, min_ngram;
    int window, min_slice, too_dirty;
} data_decont_cfg;
long data_decont_pieces(const data_decont_cfg *c, const char *text, size_t len, const data_match *m, size_t nm,
                        size_t **starts, size_t **ends, size_t *cap, size_t *npieces_before);

/* Overlap accounting: mark which examples of which sets have an n-gram found in training text. */
typedef struct data_overlap data_overlap;
data_overlap *data_overlap_new(const data_ngram_index *ix, lmc_err *err);
void data_overlap_add_matches(data_overlap *o, const data_match *m, size_t nm);
/* The report: per set, examples, testable, overlapping, share, listed examples, n-gram frequencies. */
json_t *data_overlap_report(const data_overlap *o, const data_eval_set *sets, size_t nsets, size_t max_list);
void data_overlap_free(data_overlap *o);

/* ------------------------------------------------------------------------------------------------
 * Corpus statistics (stats.c) */

typedef struct data_stats data_stats;
data_stats *data_stats_new(lmc_err *err);
int data_stats_add(data_stats *s, const char *text, size_t len, lmc_err *err);
json_t *data_stats_json(const data_stats *s);
void data_stats_print(const data_stats *s, FILE *out);
void data_stats_free(data_stats *s);

/* ------------------------------------------------------------------------------------------------
 * The pipeline (pipeline.c): streaming stages run per document in input order, then (optionally)
 * dedup over what survives. The input is read once; when dedup follows stages that drop or change
 * documents, the survivors go to a compressed spool file next to the output that dedup's second pass
 * reads (then removes). Every command (`filter`, `dedup`, `decontaminate`, `overlap`, `stats`) is a
 * pipeline with one stage. */

typedef enum { DATA_STAGE_FILTER = 1, DATA_STAGE_DECONT, DATA_STAGE_OVERLAP, DATA_STAGE_STATS } data_stage_kind;

#define DATA_MAX_STAGES 16

typedef struct data_stage_cfg {
    data_stage_kind kind;
    data_filter_cfg filter;           /* FILTER */
    data_decont_cfg decont;           /* DECONT, OVERLAP (ngram, min_ngram) */
    int report_only;                  /* DECONT: only report contaminated documents */
    const char *const *eval;          /* DECONT, OVERLAP: evaluation files */
    int neval;
    const char *eval_field;           /* NULL = "text" or BLiMP pairs */
} data_stage_cfg;

/* How near-dedup measures a candidate pair: the exact Jaccard of the shingle sets (default), the MinHash
 * signature estimate, or both (decide by the exact one, report the estimate's error). */
enum { DATA_VERIFY_JACCARD = 0, DATA_VERIFY_SIGNATURE = 1, DATA_VERIFY_BOTH = 2 };
int data_verify_parse(const char *s, int *out);

typedef struct data_pipeline_cfg {
    const char *const *inputs;
    size_t ninputs;
    data_read_opts read;
    const char *output;               /* NULL: no document output (stats, overlap, report-only) */
    const char *rejected;             /* NULL: none; removed documents + "lmc_reason" */
    int threads;                      /* 0 = OpenMP default */
    data_stage_cfg stages[DATA_MAX_STAGES];
    int nstages;
    int dedup, dedup_exact, dedup_minhash;
    data_minhash_cfg minhash;
    double dedup_threshold;           /* near duplicate when similarity to a kept document >= this (0.8) */
    /* exact-substring dedup of the output, after every other stage (YAML `- substring: {...}`) */
    int substring, substring_min_len, substring_keep_first;
    /* provenance: count licence and source values in and out; keep only allowed licences */
    int provenance;                   /* count (implied by licence_allow) */
    const char *licence_field;        /* "license" */
    const char *source_field;         /* "source" */
    const char *const *licence_allow; /* NULL: every licence (and none) */
    int nlicence_allow;
    int dedup_verify;                 /* DATA_VERIFY_*: how a candidate pair's similarity is measured */
    /* stages after every other one (YAML: classify, score, and a filter with score rules after them), each
     * rewriting the output in turn (pipeline_post.c); cfg is a data_classify_score_cfg, data_lmscore_cfg or
     * data_filter_cfg, malloc'd by data_pipeline_load */
    int npost;
    struct { int kind; void *cfg; } post[DATA_MAX_STAGES];
    size_t max_listed;                /* cap on listed items per report section (clusters are all listed) */
    lmc_progress *progress;           /* may be NULL */
} data_pipeline_cfg;

void data_pipeline_cfg_default(data_pipeline_cfg *c);

/* Provenance (provenance.c). A counter of string values (at most max_values distinct, the rest counted
 * together), most frequent first in JSON. */
typedef struct data_counter data_counter;
data_counter *data_counter_new(size_t max_values);
int data_counter_add(data_counter *c, const char *s, size_t len, uint64_t k);
json_t *data_counter_json(const data_counter *c);
void data_counter_free(data_counter *c);
/* A top-level string field of a JSONL document into out; 0 when absent (or plain-text input). */
int data_doc_field(const data_doc *d, const char *field, lmc_buf *out);
/* NULL when the licence (NULL = the document has none) is allowed, else the removal reason. */
const char *data_licence_check(const data_pipeline_cfg *c, const char *licence, size_t len);
void data_decont_cfg_default(data_decont_cfg *c);
enum { DATA_POST_CLASSIFY = 1, DATA_POST_LMSCORE, DATA_POST_SELECT };
/* Run the post stages on c->output (pipeline_post.c); each one's report goes into the array *post. */
int data_pipeline_post_run(const data_pipeline_cfg *c, json_t *post, uint64_t *docs_out, lmc_err *err);
/* Parse a YAML post stage (classify / score / filter after them) into c->post[c->npost++]. */
int data_pipeline_post_load(data_pipeline_cfg *c, const char *kind, json_t *o, const char *ctx, lmc_err *err);
/* Run; *report gets a JSON object describing every stage (new reference, also on error when possible). */
int data_pipeline_run(const data_pipeline_cfg *c, json_t **report, lmc_err *err);
/* Build a pipeline from a YAML/JSON file (see docs/data.md). Strings in cfg point into *holder,
 * which the caller keeps alive (json_decref) while cfg is used; free the arrays with
 * data_pipeline_cfg_release. Keys the file may set: inputs, output, rejected, report, field,
 * doc_separator, format, strict, threads, stages (list of {filter|decontaminate|overlap|stats|dedup: {...}}). */
int data_pipeline_load(const char *path, data_pipeline_cfg *cfg, json_t **holder, lmc_err *err);
void data_pipeline_cfg_release(data_pipeline_cfg *cfg);

#endif
