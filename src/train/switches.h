/* The research switches' config keys (issue 13): mapping onto gpt2_config and the MTP curriculum. */
#ifndef LMC_TRAIN_SWITCHES_H
#define LMC_TRAIN_SWITCHES_H

#include "train/config.h"
#include "model/gpt2.h"

/* model.depth_scaling / activation / activation_degree / mtp_heads onto mc (after model.mlp). */
int train_model_switches(const train_config *cfg, gpt2_config *mc, lmc_err *err);
/* Before optimizer step `step` (0-based): set m->mtp_active from train.mtp_curriculum. */
void train_mtp_schedule(const train_config *cfg, gpt2_model *m, int64_t step);

#endif
