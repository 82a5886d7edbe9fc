/* Checkpoints: one folder per step under RUN/checkpoints/, each a GPT-2 folder HF transformers loads
 * plus what an exact resume needs:
 *
 *   step_00000100/
 *     config.json, model.safetensors     HF GPT-2 (gpt2_save_hf)
 *     tokenizer.json                     copied from data.tokenizer (when set)
 *     optimizer.safetensors              optimizer state, F32, named "<buffer>.<view>": AdamW and muon
 *                                        m, v; sf-adamw z, v, y (the training point; model.safetensors
 *                                        holds the evaluation point x); metadata "optimizer" (its
 *                                        train.optimizer), "adam_step" and exact scalars (hex floats)
 *     trainer_state.json                 step, AdamW step, data position, RNG state, counters
 *     lmc_config.yaml                    the resolved run config
 *     DONE                               completion marker, written last
 *
 * The folder is assembled as ".tmp_step_N", the marker written inside it, then renamed into place
 * and the parent directory fsync'ed: a crash at any point leaves either no step_N or a complete
 * one. Only folders named step_N that contain DONE count for resume. The newest `keep` complete
 * checkpoints are kept; older ones (and stale temporaries) are removed after each save.
 *
 * For crash tests (tests/train/test_crash.c), LMC_CRASH_AT=POINT:N makes the process SIGKILL itself
 * the N-th time it reaches POINT: save-model, save-optimizer, save-done (marker written, before the
 * rename), save-renamed (before rotation), rotate-undone (an old DONE removed, its folder not yet),
 * rotate-removed. Unset in normal runs. */
#ifndef LMC_TRAIN_CHECKPOINT_H
#define LMC_TRAIN_CHECKPOINT_H

#include <stdint.h>
#include "base/error.h"
#include "base/rng.h"
#include "model/gpt2.h"
#include "optim/optimizer.h"

#define TRAIN_STATE_MIX_MAX 8

typedef struct train_state {
    int64_t step;            /* optimizer steps completed (including skipped ones) */
    int64_t adam_step;       /* model->step (AdamW bias-correction counter) */
    uint64_t data_epoch, data_pos;
    lmc_rng_state sample_rng;
    uint64_t tokens;         /* training tokens consumed */
    int64_t nonfinite_run;   /* consecutive skipped steps at the time of the save */
    int64_t nonfinite_total;
    double elapsed_s;        /* training wall time so far */
    /* data.sources (src/train/mixture.h): trainer_state.json's "mixture" object; n_mix = 0 without a
     * mixture (and for checkpoints written before it existed, which load unchanged) */
    int n_mix;
    int mix_have_init;       /* velocitune: loss_init measured */
    int64_t mix_updates;     /* weight updates so far (DoReMi's average divides by it) */
    struct train_mix_src {
        char name[64];
        uint64_t epoch, pos, tokens;   /* the source loader's position; training tokens drawn from it */
        double weight, avg_sum, loss_init; /* current weight; DoReMi's running sum; Velocitune's l_init */
    } mix[TRAIN_STATE_MIX_MAX];
} train_state;

/* Save a checkpoint for st->step into root (RUN/checkpoints). tokenizer_path / config_yaml may be NULL. */
int train_ckpt_save(const char *root, const gpt2_model *m, const train_state *st, const char *tokenizer_path,
                    const char *config_yaml, int keep, lmc_err *err);
/* The same with an optimizer object (src/optim/optimizer.h), which must be in eval mode: its state
 * buffers and scalars are saved, and m->params (the evaluation point) is model.safetensors. */
int train_ckpt_save_opt(const char *root, const gpt2_model *m, lmc_optim *opt, const train_state *st,
                        const char *tokenizer_path, const char *config_yaml, int keep, lmc_err *err);
/* Newest complete checkpoint: *path (malloc'd) and *step. LMC_ENOTFOUND when there is none. */
int train_ckpt_latest(const char *root, char **path, int64_t *step, lmc_err *err);
/* Load weights, optimizer state and trainer state from a checkpoint folder into an existing
 * training-enabled model with the same config. */
int train_ckpt_load(const char *dir, gpt2_model *m, train_state *st, lmc_err *err);
/* The same into an optimizer's state; the checkpoint's optimizer must be opt's kind. Leaves opt in
 * eval mode (m->params = the evaluation point): call optim_to_train before the next step. */
int train_ckpt_load_opt(const char *dir, gpt2_model *m, lmc_optim *opt, train_state *st, lmc_err *err);
/* 1 if dir is an lmc checkpoint (has trainer_state.json), 0 for a plain HF folder. */
int train_ckpt_is_lmc(const char *dir);
/* tokenizer_config.json for AutoTokenizer (PreTrainedTokenizerFast over tokenizer.json) with the
 * model's bos/eos ids spelled as the tokenizer's special tokens. */
int train_write_tokenizer_config(const char *dir, const char *tokenizer_path, const gpt2_model *m, lmc_err *err);
/* Remove all but the newest `keep` complete checkpoints, leftover temporaries, and step_N folders
 * without DONE (left by a kill during a rotation or a re-save). */
int train_ckpt_rotate(const char *root, int keep, lmc_err *err);

int train_state_save(const char *path, const train_state *st, lmc_err *err);
int train_state_load(const char *path, train_state *st, lmc_err *err);

#endif
