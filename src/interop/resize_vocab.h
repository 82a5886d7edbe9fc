/* Resize a checkpoint's vocabulary to an extended tokenizer (issue 20; Herold et al. 2025): ids below
 * the old vocabulary size keep their embedding (and untied head) rows; each new id k = merge (a, b)
 * gets the mean of the rows of the base tokens it is made of (new parts expanded until base ids remain:
 * the base tokenizer's encoding of the new token), the paper's initialisation. */
#ifndef LMC_RESIZE_VOCAB_H
#define LMC_RESIZE_VOCAB_H
#include "base/error.h"
#include "model/gpt2.h"
#include "tokenizer/tokenizer.h"

/* New model with vocab_size = tok_n_vocab(t); every other tensor copied. Fails when the tokenizer has
 * fewer ids than the model, or a new id is not the product of a merge of lower ids. */
int resize_vocab(const gpt2_model *m, const tok_tokenizer *t, gpt2_model **out, lmc_err *err);
#endif
