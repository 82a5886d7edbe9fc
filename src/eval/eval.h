/* Task evaluation the way lm-evaluation-harness (lm_eval 0.4, HF backend) does it: BLiMP minimal pairs,
 * multiple choice (acc / acc_norm), rolling log-likelihood perplexity (word / byte perplexity, bits per
 * byte; WikiText as the harness's wikitext task), lambada-style last-word accuracy. Every task turns
 * its examples into log-likelihood requests (context tokens, continuation tokens), scores them in
 * batched full forwards of the model, and aggregates exactly as the harness does.
 *
 * Requests (the harness's LM.loglikelihood):
 *   - empty context: the continuation is encoded alone and conditioned on the prefix token
 *     (tokenizer_config.json's bos_token, else its eos_token, else config.json's bos/eos id, else
 *     <|endoftext|>); when the continuation's first token is the prefix token itself, that token is the
 *     context instead;
 *   - otherwise trailing whitespace of the context moves to the continuation, whole = encode(ctx+cont),
 *     ctx_enc = encode(ctx), continuation = whole[len(ctx_enc):];
 *   - the model input is (ctx + cont)[-(max_len+1):][:-1], the last len(cont) positions are scored;
 *     ll = sum of log-softmax at the continuation tokens, greedy = every argmax equals its token.
 * Rolling (loglikelihood_rolling): the document's tokens are cut into windows of max_len predictions
 * with the prefix token before the first, each later window taking max_len tokens of context (disjoint
 * predictions, maximal context); ll of a document = sum over its windows.
 * Encoding is HF tokenizer.encode with the default add_special_tokens of lmc's tokenizer.json (no
 * post-processor: nothing is added) and special-token strings in the text matched as their ids.
 *
 * Threads: the forwards use the kernels' OpenMP pool (lmc_kernels_set_threads). The library never
 * prints; progress goes through lm->progress (may be NULL). */
#ifndef LMC_EVAL_EVAL_H
#define LMC_EVAL_EVAL_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "base/error.h"
#include "base/progress.h"
#include "model/gpt2.h"
#include "tokenizer/tokenizer.h"

typedef struct lmc_eval_lm {
    gpt2_model *m;
    tok_tokenizer *tok;
    tok_encoder *enc;
    int own_model;        /* 1 = lmc_eval_lm_close frees m */
    int32_t prefix_id;    /* the token an empty context conditions on */
    int max_len;          /* the harness's max_length: the model's n_positions unless set */
    int batch_tokens;     /* rows per forward are chosen so rows x longest row <= this (at least 1 row) */
    lmc_progress *progress; /* advanced by one per scored request; NULL = none */
} lmc_eval_lm;

/* Open a checkpoint folder (config.json + model.safetensors + tokenizer.json [+ tokenizer_config.json]).
 * max_len 0 = the model's n_positions; prefix_id < 0 = the rule above; batch_tokens 0 = 4096. */
int lmc_eval_lm_open(lmc_eval_lm *lm, const char *dir, int max_len, int32_t prefix_id, int batch_tokens,
                     lmc_err *err);
/* Wrap a model already in memory (not freed by close) with a tokenizer file (in-training eval). */
int lmc_eval_lm_wrap(lmc_eval_lm *lm, gpt2_model *m, const char *tokenizer_path, int batch_tokens, lmc_err *err);
void lmc_eval_lm_close(lmc_eval_lm *lm);

/* One log-likelihood request: tokens = model context then continuation (both already cut to what is
 * scored); the last n_cont are scored. Results: ll (nats, natural log) and greedy. */
typedef struct lmc_eval_req {
    int32_t *tok;
    int n, n_cont;
    double ll;
    int greedy;
} lmc_eval_req;

/* Build a request as the harness's loglikelihood((ctx, cont)) does (see above). */
int lmc_eval_req_pair(lmc_eval_lm *lm, const char *ctx, size_t ctx_len, const char *cont, size_t cont_len,
                      lmc_eval_req *r, lmc_err *err);
/* Rolling windows of a document: appends its requests to *reqs (grown with realloc; *n, *cap). */
int lmc_eval_req_rolling(lmc_eval_lm *lm, const char *text, size_t len, lmc_eval_req **reqs, size_t *n,
                         size_t *cap, lmc_err *err);
/* The same from tokens: the harness's get_rolling_token_windows(context_len=1) + make_disjoint_window. */
int lmc_eval_rolling_windows(const uint32_t *tok, size_t N, int32_t prefix, int max_len, lmc_eval_req **reqs,
                            size_t *n, size_t *cap, lmc_err *err);
void lmc_eval_req_free(lmc_eval_req *r, size_t n);
/* Score requests in batched forwards, longest first (fills ll, greedy). */
int lmc_eval_score(lmc_eval_lm *lm, lmc_eval_req *reqs, size_t n, lmc_err *err);

/* Tasks. Each reads its files, scores, and returns a summary object (the results line) and an array
 * of per-example objects (may be NULL when not wanted). limit 0 = every example; BLiMP applies limit
 * per file. Formats and fields: docs/eval.md. */
typedef struct lmc_eval_opts {
    const char *const *data; /* input files */
    int n_data;
    int64_t limit;
    const char *field;      /* perplexity/lambada/heads: JSONL text field (NULL = "text") */
    double threshold;       /* heads: AHON_LN below this is inactive (0 = 0.3) */
} lmc_eval_opts;

int lmc_eval_blimp(lmc_eval_lm *lm, const lmc_eval_opts *o, json_t **summary, json_t **examples, lmc_err *err);
int lmc_eval_mc(lmc_eval_lm *lm, const lmc_eval_opts *o, json_t **summary, json_t **examples, lmc_err *err);
/* perplexity: JSONL documents (field) or a plain-text file as one document; wikitext: plain-text
 * WikiText files split into articles and detokenized as the harness's wikitext task. */
int lmc_eval_perplexity(lmc_eval_lm *lm, const lmc_eval_opts *o, int wikitext, json_t **summary,
                        json_t **examples, lmc_err *err);
int lmc_eval_lambada(lmc_eval_lm *lm, const lmc_eval_opts *o, json_t **summary, json_t **examples, lmc_err *err);
/* Inactive attention heads (AHON / AHON_LN of TECHNIQUES.md 12d) on a probe set; puts lm->m in
 * training mode (gpt2_enable_training) to keep every layer's attention output. Per-example = per head. */
int lmc_eval_heads(lmc_eval_lm *lm, const lmc_eval_opts *o, json_t **summary, json_t **examples, lmc_err *err);
/* Run a task by name ("blimp", "mc", "perplexity", "wikitext", "lambada", "heads"). */
int lmc_eval_task(lmc_eval_lm *lm, const char *task, const lmc_eval_opts *o, json_t **summary, json_t **examples,
                  lmc_err *err);

/* Text helpers (exposed for tests). */
/* WikiText articles of a file's text, split as EleutherAI/wikitext_document_level does; returns
 * (start, len) pairs into text (malloc'd, 2 * *n entries). */
int lmc_wikitext_split(const char *text, size_t len, size_t **spans, size_t *n, lmc_err *err);
/* The harness's wikitext_detokenizer (malloc'd, NUL-terminated). */
int lmc_wikitext_detok(const char *text, size_t len, char **out, size_t *out_len, lmc_err *err);
/* len(re.split(r"\s+", text)) with Python's Unicode whitespace. */
uint64_t lmc_eval_count_words(const char *text, size_t len);
/* Unicode code points (Python len(str)) of UTF-8 text (invalid bytes count one each). */
uint64_t lmc_eval_count_chars(const char *text, size_t len);

/* JSONL input: every non-empty line parsed (errors name file:line). Calls fn per object. */
typedef int (*lmc_eval_line_fn)(void *ctx, json_t *obj, const char *path, uint64_t line, lmc_err *err);
int lmc_eval_read_jsonl(const char *path, int64_t limit, lmc_eval_line_fn fn, void *ctx, lmc_err *err);

#endif
