/* Evaluating past the training context (length extrapolation): a model whose positions are not a
 * learned table (RoPE, ALiBi, NoPE) has no parameter that depends on the context length, so its
 * n_positions can be raised after loading; RoPE tables are recomputed for the new length. */
#ifndef LMC_MODEL_GPT2_CONTEXT_H
#define LMC_MODEL_GPT2_CONTEXT_H

#include "model/gpt2.h"

/* Set m->cfg.max_seq to max_seq (>= 1). Refused for learned positions (wpe has max_seq rows). */
int gpt2_set_context(gpt2_model *m, int max_seq, lmc_err *err);

#endif
