/* TREC (training re-evaluation curves) over a run directory: src/eval/trec.c. */
#ifndef LMC_EVAL_TREC_H
#define LMC_EVAL_TREC_H
#include <jansson.h>
#include "base/error.h"
#include "train/config.h"

/* Re-evaluate model_dir (NULL = the run's newest finished checkpoint) on the training batch of every
 * `every`-th step (1, 1+every, ...; 0 = steps/50). Summary: argmin step, min loss; per point:
 * {step, loss, c}. Uses the run's precision. Runs branched from another run (run.init_from) are refused. */
int lmc_eval_trec(const char *run_dir, const char *model_dir, int64_t every, json_t **summary, json_t **examples,
                  lmc_err *err);
/* c_t = eta_t prod_{s>t} (1 - eta_s lambda) for t = 1..steps into w[0..steps), normalised to max 1. */
int lmc_trec_weights(const train_config *c, double *w);
#endif
