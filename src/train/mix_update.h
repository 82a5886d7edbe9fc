/* The dynamic data.mixing rules inside training: every data.mixing_every steps the signal of the rule is
 * gathered here and handed to the weight-update functions of src/train/mixing.h.
 *
 *   doremi      per-token excess max(loss_model - loss_ref, 0) on the update step's training sequences
 *               (the reference model, data.mixing_reference, runs forward on the same micro-batches),
 *               averaged per source -> mix_doremi_update. The paper trains its proxy on the w-weighted
 *               loss under uniform sampling; here w is the sampling distribution of the mixture itself
 *               (online "resampling" DoReMi), and the running average of w (what DoReMi outputs) is
 *               logged as mix/<name>/avg_weight.
 *   velocitune  each source's val loss now, l_init (measured before the first step, checkpointed) and the
 *               source's target_loss -> mix_velocitune_update; mix/<name>/velocity.
 *   chameleon   the mean over tokens of the middle layer's input hidden state (layer n_layer/2) over
 *               data.chameleon_windows fixed windows per source (val shards, else train) ->
 *               mix_chameleon_weights (pretraining form).
 * Every rank computes the same update from the same (combined) numbers, so MPI ranks keep equal weights. */
#ifndef LMC_TRAIN_MIX_UPDATE_H
#define LMC_TRAIN_MIX_UPDATE_H

#include "base/error.h"
#include "model/gpt2.h"
#include "train/config.h"
#include "train/mixture.h"

typedef struct train_mix_updater {
    const train_config *cfg;
    gpt2_model *ref;       /* doremi: the reference model (read-only, inference mode) */
} train_mix_updater;

/* Evaluate every source's val shards into mx->val_loss (the trainer's eval; sets mx->logged_val). */
typedef int (*train_mix_eval_fn)(void *ctx, lmc_err *err);

/* Load what the rule needs (DoReMi's reference model; its vocabulary and tokenizer must be the run's:
 * tokenizer_json is the run's tokenizer.json or NULL). */
int train_mix_update_open(train_mix_updater *u, const train_config *c, const gpt2_model *m, const char *tokenizer_json,
                          lmc_err *err);
void train_mix_update_close(train_mix_updater *u);
/* Is step an update step of a dynamic rule? */
int train_mix_update_due(const train_mix_updater *u, const train_mixture *mx, int64_t step);
/* After the model's forward of sequences [j0, j0+n) of step `step` (model_losses = m->losses): DoReMi's
 * reference forward on the same tokens on update steps; nothing otherwise. */
int train_mix_update_forward(train_mix_updater *u, train_mixture *mx, int64_t step, int64_t j0, int64_t n,
                             const int32_t *in, const int32_t *tg, const float *model_losses, lmc_err *err);
/* Before the first step of a fresh run: Velocitune's l_init (one evaluation). */
int train_mix_update_begin(train_mix_updater *u, train_mixture *mx, train_mix_eval_fn eval, void *ctx, lmc_err *err);
/* After step `step` (and its evaluation, if any): the rule's update when due. m: the model (Chameleon's
 * embeddings); in/tg: scratch of micro_batch x seq_len. */
int train_mix_update_step(train_mix_updater *u, train_mixture *mx, int64_t step, gpt2_model *m, int32_t *in,
                          int32_t *tg, train_mix_eval_fn eval, void *ctx, lmc_err *err);
#endif
