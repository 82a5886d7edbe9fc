/* Text generation from any model of the family with a KV cache (RoPE, ALiBi, GQA included).
 *
 * The cache holds each layer's keys and values for every position seen so far, so a new token costs
 * one pass of a single row through the network plus attention over the cached rows: linear in the
 * context length, where re-running the whole prefix (what llm.c's CPU sampler does) is quadratic.
 *
 * Sampling: logits / temperature -> softmax, then top-k (keep the k most likely), then top-p (keep the
 * smallest most-likely set whose mass reaches p), renormalise, draw one uniform from an lmc_rng.
 * temperature 0 = greedy. The only randomness is that one uniform per token, so the same seed gives
 * the same text. */
#ifndef LMC_GEN_GEN_H
#define LMC_GEN_GEN_H

#include <stdint.h>
#include "base/error.h"
#include "base/rng.h"
#include "model/gpt2.h"

typedef struct gen_kv {
    int n_layer, C, max_len;
    int kvw;              /* floats per cached row: n_kv_head * head size (GQA/MQA cache fewer heads) */
    int len;              /* positions cached */
    float *k, *v;         /* [n_layer, max_len, kvw]; keys after RoPE */
    /* scratch for one row */
    float *x, *h, *qkv, *att, *fc, *act, *logits, *scores;
} gen_kv;

int gen_kv_init(gen_kv *kv, const gpt2_model *m, int max_len, lmc_err *err);
void gen_kv_free(gen_kv *kv);
static inline void gen_kv_reset(gen_kv *kv) { kv->len = 0; }
/* Feed one token at position kv->len; on return kv->logits holds the next-token logits
 * (padded_vocab floats, the first vocab_size are real). */
int gen_kv_step(gen_kv *kv, const gpt2_model *m, int32_t token, lmc_err *err);

typedef struct gen_params {
    int max_tokens;       /* new tokens to generate */
    float temperature;    /* 0 = greedy */
    int top_k;            /* 0 = off */
    float top_p;          /* 1 = off */
    int64_t stop_token;   /* stop after emitting this id (-1 = never) */
} gen_params;

/* Pick the next token from V logits. scratch: 2*V floats + V ints (gen_sample_scratch_bytes). */
size_t gen_sample_scratch_bytes(int V);
int32_t gen_sample(const float *logits, int V, const gen_params *p, lmc_rng *rng, void *scratch);

/* Generate after `prompt` (n_prompt >= 1 tokens). The output (new tokens only) is appended to out
 * (capacity >= p->max_tokens); *n_out gets the count. Generation also stops at the model's context
 * length. on_token (may be NULL) sees each new token as it is produced (for streaming). */
int gen_generate(const gpt2_model *m, const int32_t *prompt, int n_prompt, const gen_params *p, lmc_rng *rng,
                 int32_t *out, int *n_out, void (*on_token)(void *ctx, int32_t tok), void *ctx, lmc_err *err);

/* The same by full recomputation (gpt2_forward over the whole prefix per token): the reference the
 * KV-cache path is tested against. m must not be shared with a concurrent forward. */
int gen_generate_full(gpt2_model *m, const int32_t *prompt, int n_prompt, const gen_params *p, lmc_rng *rng,
                      int32_t *out, int *n_out, lmc_err *err);

#endif
