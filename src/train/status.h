/* The training status line: every number on it comes from one window, the last `window` steps
 * (run.log_every), so the rates and the ETA agree with each other:
 *   step 120/300 | loss 4.5312 | val 4.6021 @100 | lr 2.94e-04 | 3.71k tok/s | MFU 81.9% | ETA 2m41s | last 10 steps
 * loss: mean over the window's applied steps (skipped, non-finite ones left out); tok/s: the window's
 * tokens over the window's step time (forward, backward, optimizer); MFU: that tok/s x FLOPs/token over
 * the GEMM peak; ETA: steps left x the window's mean wall time per step (evals, samples and checkpoints
 * included, so it is what the clock will show). val: the last validation loss and its step. */
#ifndef LMC_TRAIN_STATUS_H
#define LMC_TRAIN_STATUS_H

#include <stddef.h>
#include <stdint.h>
#include "base/error.h"

typedef struct train_status {
    int window, n, head;
    double *step_s, *wall_s, *loss; /* rings of `window` entries; loss NAN for a skipped step */
    double val_loss;
    int64_t val_step;               /* 0 = no validation loss yet */
} train_status;

int train_status_init(train_status *s, int window, lmc_err *err);
void train_status_free(train_status *s);
/* One finished step: its compute time, its wall time since the previous step ended, its loss. */
void train_status_push(train_status *s, double step_seconds, double wall_seconds, double loss);
void train_status_val(train_status *s, int64_t step, double val_loss);

/* The window's numbers (NAN where the window is empty). */
typedef struct train_status_rates {
    int steps;
    double loss, tok_per_s, mfu, wall_per_step;
} train_status_rates;
train_status_rates train_status_get(const train_status *s, double tok_per_step, double flops_per_token,
                                    double peak_flops);

/* The line above into buf (always NUL-terminated). */
void train_status_format(const train_status *s, char *buf, size_t n, int64_t step, int64_t total, double lr,
                         double tok_per_step, double flops_per_token, double peak_flops);

#endif
