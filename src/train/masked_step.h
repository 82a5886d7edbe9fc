/* One optimizer step's forward/backward over micro-batches whose targets may be masked (-1, loss masks:
 * src/train/loader_mask.h). "Masked targets do not count in the loss": the step's loss is the mean over the
 * unmasked targets of the WHOLE step, not the mean of the per-micro-batch means. gpt2_backward accumulates
 * the gradient of loss_scale * (mean over the micro-batch's n_k targets), so micro-batch k gets
 * loss_scale = n_k / N with N = sum_k n_k, and the reported loss is sum_k n_k * loss_k / N.
 *
 * The unmasked path of the trainer (no mask anywhere) does not come here: it keeps its 1/accum arithmetic
 * bit for bit. */
#ifndef LMC_TRAIN_MASKED_STEP_H
#define LMC_TRAIN_MASKED_STEP_H

#include <stdint.h>
#include "base/error.h"
#include "model/gpt2.h"

/* in/tg hold accum * mb * T ids (micro-batch k at k*mb*T). The caller zeroes the gradients first.
 * *loss = the step's masked mean, *n_targets = N. A step with no unmasked target at all is an error (its
 * loss is undefined, and an update from it would be weight decay alone). */
int train_masked_accum(gpt2_model *m, const int32_t *in, const int32_t *tg, int64_t accum, int mb, int T,
                       double *loss, uint64_t *n_targets, lmc_err *err);
/* Validation over nb micro-batches of mb x T (the fixed batches): the mean over their unmasked targets.
 * `fill` loads batch b into in/tg. */
typedef int (*train_fill_fn)(void *ctx, int64_t b, int32_t *in, int32_t *tg, lmc_err *err);
int train_masked_eval(gpt2_model *m, train_fill_fn fill, void *ctx, int64_t nb, int mb, int T, int32_t *in,
                      int32_t *tg, double *loss, lmc_err *err);

#endif
