/* Document masking for packed windows (model.doc_mask, issue 15). lmc's shards put the end-of-text
 * token (doc_sep_id) BEFORE every document, so a new document starts AT each separator inside a
 * window: with doc_mask, query t attends only to keys [doc_start(t), t] and its position id restarts,
 * pos(t) = t - doc_start(t) (learned wpe and RoPE; ALiBi is relative already). The window's first
 * token starts a document whatever it is (the window may begin mid-document). */
#ifndef LMC_MODEL_DOCMASK_H
#define LMC_MODEL_DOCMASK_H

#include <stdint.h>
#include "model/gpt2.h"

/* Validate the doc-mask fields of c: doc_mask 0 or 1; with it, doc_sep_id in [0, vocab_size) and a
 * variant whose forward honours it (not nGPT, which has its own forward). */
int gpt2_docmask_check(const gpt2_config *c, lmc_err *err);
/* Per row of the (B, T) inputs: ds = the window position of its document's first token, pos = t - ds.
 * Computed once per forward (O(B T)); both [B*T]. */
void gpt2_doc_starts(const int32_t *inputs, int B, int T, int sep, int32_t *ds, int32_t *pos);

#endif
