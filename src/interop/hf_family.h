/* Private to src/interop: the HF folder formats of the model family beside GPT-2 (hf_gpt2.c holds
 * the public gpt2_*_hf entry points and dispatches here by config.json's model_type / cfg.arch). */
#ifndef LMC_INTEROP_HF_FAMILY_H
#define LMC_INTEROP_HF_FAMILY_H

#include <jansson.h>
#include "model/gpt2.h"

/* LlamaForCausalLM (model_type llama, or mistral without a sliding window). j is config.json. */
int hf_llama_config(json_t *j, const char *path, gpt2_config *cfg, lmc_err *err);
int hf_llama_load_into(gpt2_model *m, const char *dir, lmc_err *err);
int hf_llama_save(const gpt2_model *m, const char *dir, lmc_err *err);

/* Shared by both formats. */
/* bos_token_id / eos_token_id of config.json (an int or a list: the first) into *bos / *eos (-1 = absent). */
void hf_read_special_ids(json_t *j, int *bos, int *eos);
/* Add bos/eos ids (when known) to config.json and write generation_config.json beside it. */
int hf_write_special_ids(json_t *config, const gpt2_model *m, const char *dir, lmc_err *err);
/* lmc's switches that the HF architecture cannot express go into config.json as "lmc_switches" so lmc
 * reloads its own checkpoints exactly (HF itself cannot load such a model). */
void hf_write_switches(json_t *config, const gpt2_config *c);
int hf_read_switches(json_t *config, const char *path, gpt2_config *c, lmc_err *err);
/* Research switches (src/interop/hf_switches.c): the name of the first one c has on that no HF
 * architecture expresses (NULL if none); their lmc_switches fields. */
const char *hf_research_switch(const gpt2_config *c);
/* For a config hf_expressible rejects: the switch to name in the error (never NULL). */
const char *hf_unexpressible_switch(const gpt2_config *c);
void hf_write_research_switches(json_t *s, const gpt2_config *c);
int hf_read_research_switches(json_t *s, const char *path, gpt2_config *c, lmc_err *err);
/* 1 if c is expressible as arch's HF model (then no lmc_switches are written). */
int hf_expressible(const gpt2_config *c);

/* Open the weights of a folder: model.safetensors, or the shards model.safetensors.index.json names. */
typedef struct hf_weights {
    int n_files;
    struct st_file *files;
} hf_weights;
int hf_weights_open(hf_weights *w, const char *dir, lmc_err *err);
void hf_weights_close(hf_weights *w);

#endif
