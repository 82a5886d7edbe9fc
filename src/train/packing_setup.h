/* The config side of packing and document masking (issue 15): data.packing* and model.doc_mask /
 * doc_sep_id to the loader's sequence table and the model config. train.c calls these at two points. */
#ifndef LMC_TRAIN_PACKING_SETUP_H
#define LMC_TRAIN_PACKING_SETUP_H

#include <stddef.h>
#include "model/gpt2.h"
#include "train/config.h"
#include "train/loader.h"

/* The document separator: model.doc_sep_id when >= 0, else data.tokenizer's end-of-text id; -1 when
 * neither gives one. */
int train_doc_sep(const train_config *c, int64_t *sep, lmc_err *err);
/* model.doc_mask -> mc->doc_mask and mc->doc_sep_id (before gpt2_config_check, which validates them). */
int train_model_doc_fields(const train_config *c, gpt2_config *mc, lmc_err *err);
/* data.packing seamless: build the training loader's window table (train_loader_set_packing) and
 * write its statistics line to `line` (empty for concat). */
int train_packing_open(train_loader *l, const train_config *c, char *line, size_t n, lmc_err *err);

#endif
