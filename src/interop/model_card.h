/* lmc export --format hf: the HF folder (config.json, generation_config.json, model.safetensors,
 * tokenizer.json, tokenizer_config.json) and a README.md model card: HF model-card front matter
 * (library, tags, licence), the architecture and sizes, the training data, steps and tokens (from the
 * checkpoint's trainer_state.json and lmc_config.yaml) and the last validation loss at or before the
 * checkpoint's step (from the run's metrics.jsonl), each only where the checkpoint records it. */
#ifndef LMC_INTEROP_MODEL_CARD_H
#define LMC_INTEROP_MODEL_CARD_H

#include "base/error.h"
#include "model/gpt2.h"
#include "tokenizer/tokenizer.h"

typedef struct model_card_opts {
    const char *name;      /* title */
    const char *license;   /* NULL = "unknown" */
    const char *tok_path;  /* the tokenizer file the model was loaded with (copied when it is a tokenizer.json) */
} model_card_opts;

int model_card_export_hf(const gpt2_model *m, const tok_tokenizer *tok, const char *src_dir, const model_card_opts *o,
                         const char *out_dir, lmc_err *err);

#endif
