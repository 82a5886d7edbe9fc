/* `lmc data score --model DIR`: per-document perplexity under an lmc/HF checkpoint (src/data/lmscore.c),
 * with CCNet-style perplexity buckets (Wenzek et al. 2020: head / middle / tail by quantiles). */
#ifndef LMC_DATA_LMSCORE_H
#define LMC_DATA_LMSCORE_H

#include "data/data.h"

#define DATA_LMSCORE_MAX_Q 16

typedef struct data_lmscore_cfg {
    const char *const *inputs;
    size_t ninputs;
    data_read_opts read;
    const char *output;              /* NULL: report only */
    const char *model_dir;           /* config.json + model.safetensors (gpt2_load_hf) */
    const char *tokenizer;           /* NULL: MODEL_DIR/tokenizer.json */
    const char *column;              /* "ppl" */
    const char *bucket_column;       /* "ppl_bucket" */
    double quantiles[DATA_LMSCORE_MAX_Q];   /* increasing, in (0, 1); none: no bucket column */
    int nquantiles;
    int context;                     /* tokens per forward window (0 = the model's max_seq) */
    size_t max_tokens;               /* score only the first N tokens of a document (0 = all) */
    const char *ref_model_dir;       /* DavIR (TECHNIQUES §15): a second model; NULL = none */
    const char *davir_column;        /* "davir" = 1 - L_ref / L_model (mean losses, same tokens) */
} data_lmscore_cfg;

void data_lmscore_cfg_default(data_lmscore_cfg *c);
/* Columns: <column> = exp(mean next-token loss) over the document's tokens, the first one predicted from
 * the end-of-text token when the tokenizer has one (else the first token is context only), in
 * non-overlapping windows of `context` tokens; null for a document with nothing to predict. With
 * quantiles: <bucket_column> = "head" / "middle" / "tail" for two quantiles (CCNet's names; head = lowest
 * perplexity), else "0".."k"; thresholds = the quantiles of the input's perplexities (two passes: the
 * first keeps 8 bytes per document). Report: documents, tokens, thresholds, bucket sizes, docs/s. */
/* With ref_model_dir, also <davir_column> = 1 - L_ref / L_base, L the mean next-token loss of the same tokens
 * (the tokenizer is the base model's) under the reference and the base (--model) model (DavIR's
 * length-normalised score: higher = the reference model gained more on the document). */
int data_lmscore_run(const data_lmscore_cfg *c, json_t **report, lmc_err *err);

#endif
