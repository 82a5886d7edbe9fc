/* Canonical sampling (Vieira et al., ICML 2025, "canonicality by conditioning", locally): each step
 * samples from p(y | prefix) restricted to the tokens y after which the sequence can still be
 * canonical (tok_canon_check with open_end), renormalised. Drawn lazily: a sampled token that fails
 * the check gets probability 0 and the step draws again, which gives exactly the masked and
 * renormalised distribution (top-k / top-p then act on the masked distribution) without testing every
 * token of the vocabulary. The end-of-text token is allowed only when what it ends is canonical.
 *
 * This is not the conditional p(x | x canonical) of the whole sequence: the local mask renormalises
 * per step, so a prefix that leaves little canonical mass keeps its full prefix probability (the
 * paper's "locally canonical" approximation, which it contrasts with exact but slow rejection of
 * whole sequences). */
#ifndef LMC_GEN_CANON_H
#define LMC_GEN_CANON_H
#include "gen/gen.h"
#include "tokenizer/tokres.h"

typedef struct gen_canon_stats {
    long rejected;   /* draws that failed the check and were masked */
    long dead_ends;  /* steps where every token was masked (generation stops) */
} gen_canon_stats;

int gen_generate_canonical(const gpt2_model *m, tok_canon *c, const int32_t *prompt, int n_prompt, const gen_params *p,
                           lmc_rng *rng, int32_t *out, int *n_out, void (*on_token)(void *ctx, int32_t tok), void *ctx,
                           gen_canon_stats *st, lmc_err *err);
#endif
