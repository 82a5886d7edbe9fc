/* The training loop: one call runs (or resumes) a whole run described by a train_config.
 *
 * Run directory run.dir/run.name/:
 *   config.yaml      the resolved config (every key)
 *   metrics.jsonl    one record per step: step, loss, lr, grad_norm, tokens, tokens_per_s, mfu,
 *                    elapsed_s; val_loss on evaluation steps; skipped=true on non-finite steps; with loss
 *                    masks tokens counts unmasked targets and tokens_all all; cooldown=true in MeCo's cooldown
 *   train.log        human-readable events (start, evals, checkpoints, skips, stop)
 *   samples.txt      text sampled from the model (needs data.tokenizer)
 *   checkpoints/     see train/checkpoint.h
 *
 * Determinism: for a fixed thread count every step is a pure function of (config, step, state),
 * and a checkpoint holds the whole state, so a resumed run reproduces the uninterrupted run's losses
 * and weights bit for bit. Stopping (--stop-at, or *stop_flag set by SIGINT/SIGTERM) happens at a
 * step boundary and writes a checkpoint first. */
#ifndef LMC_TRAIN_TRAIN_H
#define LMC_TRAIN_TRAIN_H

#include <signal.h>
#include <stdint.h>
#include "base/error.h"
#include "base/progress.h"
#include "model/gpt2.h"
#include "train/config.h"

enum { TRAIN_EV_EVENT = 0, TRAIN_EV_STATUS = 1 };

typedef struct train_opts {
    int resume;                        /* continue from the newest complete checkpoint (if any) */
    int64_t stop_at;                   /* > 0: finish this step, checkpoint, return (as on preemption) */
    volatile sig_atomic_t *stop_flag;  /* nonzero: stop at the next step boundary (may be NULL) */
    lmc_progress *progress;            /* live status (may be NULL) */
    /* Text lines for the user (also written to train.log); may be NULL. kind TRAIN_EV_EVENT: evals,
     * checkpoints, skips, start/stop; TRAIN_EV_STATUS: the periodic step line (every run.log_every
     * steps; sent only when `progress` is NULL, i.e. when no live status line is shown). */
    void (*on_event)(void *ctx, int kind, const char *line);
    void *event_ctx;
    /* Test hook: runs after the backward pass of every step, before the gradient norm is taken,
     * and may poison the gradients or the loss (the non-finite test). NULL in real runs. */
    void (*after_backward)(void *ctx, int64_t step, gpt2_model *m, float *loss);
    void *hook_ctx;
    /* Data parallel (src/dist/dist.h): the MPI context this process belongs to, or NULL for one process
     * (then train.grad_accum: tree still works, as one rank). Rank 0 writes the run folder. */
    struct dist_ctx *dist;
} train_opts;

typedef struct train_result {
    int64_t step;          /* steps completed */
    double last_loss;      /* loss of the last completed step */
    double last_val_loss;  /* NaN when never evaluated */
    int stopped;           /* 1: stopped early (stop_at or signal) with a checkpoint written */
    int64_t skipped;       /* non-finite steps skipped */
    char run_path[2048];
    char last_ckpt[2048];  /* newest checkpoint written or resumed from ("" if none) */
} train_result;

/* Run training. Returns 0 when the run completed or stopped cleanly, <0 on error (including the
 * run diverging: max_nonfinite non-finite steps in a row, which leaves the last good checkpoint). */
int train_run(const train_config *cfg, const train_opts *o, train_result *res, lmc_err *err);

/* Resolved model config (vocab_size from the tokenizer when 0). */
int train_model_config(const train_config *cfg, gpt2_config *mc, lmc_err *err);

/* Peak FLOP/s estimate: time an sgemm of the size the model uses (for MFU when run.peak_tflops = 0). */
double train_measure_peak_flops(int d_model);

#endif
