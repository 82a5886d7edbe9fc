/* Multi-source data mixtures (data.sources; docs/train.md, TECHNIQUES.md §11).
 *
 * Every source has its own train_loader (its own shuffled epochs, seeded by (run.seed, source index))
 * and optionally a validation loader. The source of global sequence j of step s is
 *     u = Philox(counter j, key derive(derive(seed, "mix"), s)) in [0, 1),   source = inverse CDF of w at u
 * a pure function of (seed, s, j, the current weights): every MPI rank computes the same plan for the
 * whole global batch, takes its own sequences from their sources and advances the sources of the other
 * ranks' sequences with train_loader_skip; a resumed run recomputes the same plan. Within a source the
 * sequences are drawn in order of j, so a source's loader sees exactly the same stream whatever the
 * number of ranks.
 *
 * The state that influences the numbers (each loader's (epoch, pos), the weights, the tokens counted, the
 * rules' running state) goes into the checkpoint (train_state.mix; src/train/checkpoint.h). */
#ifndef LMC_TRAIN_MIXTURE_H
#define LMC_TRAIN_MIXTURE_H

#include <stdint.h>
#include "base/error.h"
#include "base/jsonl.h"
#include "data/shard.h"
#include "train/checkpoint.h"
#include "train/config.h"
#include "train/loader.h"
#include "train/mix_config.h"

typedef struct train_mixture {
    int k;                         /* sources */
    int rule;                      /* mix_rule (src/train/mixing.h) */
    uint64_t seed;
    int64_t batch, T;              /* sequences per step, tokens per sequence */
    char name[TRAIN_MAX_SOURCES][64];
    train_loader train[TRAIN_MAX_SOURCES], val[TRAIN_MAX_SOURCES];
    int has_val[TRAIN_MAX_SOURCES], n_val;
    double w[TRAIN_MAX_SOURCES];       /* current weights (sum 1) */
    double w_step[TRAIN_MAX_SOURCES];  /* the weights the current step was planned with (what is logged) */
    uint64_t tokens[TRAIN_MAX_SOURCES];
    uint64_t epoch_logged[TRAIN_MAX_SOURCES]; /* the last epoch train.log announced */
    /* rule state (checkpointed) */
    double avg_sum[TRAIN_MAX_SOURCES], loss_init[TRAIN_MAX_SOURCES];
    int have_init;
    int64_t updates;
    /* the step being trained */
    int *src;                      /* [batch] source of each global sequence */
    int64_t next_j;                /* the next sequence the fetches expect */
    double *seq_loss, *seq_excess; /* [batch] per-sequence mean loss / DoReMi excess (0 where not this rank's) */
    double train_loss[TRAIN_MAX_SOURCES]; /* per-source mean loss of the step (NAN: no sequence) */
    int64_t count[TRAIN_MAX_SOURCES];     /* sequences per source in the step */
    double val_loss[TRAIN_MAX_SOURCES];   /* latest per-source validation loss (NAN: none yet) */
    double velocity[TRAIN_MAX_SOURCES];
    double excess[TRAIN_MAX_SOURCES];     /* DoReMi: per-source mean clipped excess of the step (0: none) */
    int logged_val, logged_update;        /* this step's record gets val/<name>/loss, the rule's outputs */
} train_mixture;

/* The sampler: the source of global sequence j of step s (1-based) under weights w[k] (any positive
 * scale). Pure. */
int train_mix_source(uint64_t seed, int64_t step, uint64_t j, const double *w, int k);

/* Open every source's loaders (vocab_size > 0: ids checked); weights from the config, normalised. */
int train_mix_open(train_mixture *mx, const train_config *c, uint64_t vocab_size, lmc_shard_kind kind, lmc_err *err);
void train_mix_close(train_mixture *mx);
/* Plan step s: the source of each of the batch's sequences under the current weights. */
void train_mix_plan(train_mixture *mx, int64_t step);
/* Sequences [j0, j0 + n) of the plan into inputs / targets ([n*T] each); j0 must be where the last fetch
 * or skip ended (the sources are consumed in order of j). */
int train_mix_next(train_mixture *mx, int64_t j0, int64_t n, int32_t *inputs, int32_t *targets, lmc_err *err);
/* Advance the sources of sequences [j0, j0 + n) without reading them (another rank's share). */
int train_mix_skip(train_mixture *mx, int64_t j0, int64_t n, lmc_err *err);
/* Record the per-position losses (n x T, gpt2_model.losses) of sequences [j0, j0 + n). */
void train_mix_record(train_mixture *mx, int64_t j0, int64_t n, const float *losses);
/* DoReMi: per-token excess max(model - ref, 0) of sequences [j0, j0 + n). */
void train_mix_record_excess(train_mixture *mx, int64_t j0, int64_t n, const float *model_losses,
                             const float *ref_losses);
/* After the step's sequences: the per-sequence values of all ranks combined (combine: dist_combine_disjoint
 * or NULL in one process), per-source train losses, tokens. Clears the per-sequence buffers. */
typedef int (*train_mix_combine)(void *ctx, double *v, int n, lmc_err *err);
int train_mix_end_step(train_mixture *mx, train_mix_combine combine, void *ctx, int doremi, lmc_err *err);
/* Sources that started a new epoch since the last call: names and epochs into *msg ("" when none). */
void train_mix_epoch_news(train_mixture *mx, char *msg, size_t len);

/* Checkpoint state to / from train_state.mix. restore: a state without a mixture (n_mix 0: a branch from a
 * run that had none) keeps the fresh state; names must match the config's sources otherwise. */
void train_mix_save(const train_mixture *mx, train_state *st);
int train_mix_restore(train_mixture *mx, const train_state *st, lmc_err *err);

/* The metrics of the step (mix/<name>/tokens, weight, epoch, train/<name>/loss, and on eval steps
 * val/<name>/loss; the dynamic rules' outputs on update steps). */
void train_mix_log(const train_mixture *mx, lmc_jsonl *w);

#endif
