/* train.optimizer and its train.<name>.* keys -> the optimizer's hyperparameters. */
#ifndef LMC_TRAIN_OPTIM_CONFIG_H
#define LMC_TRAIN_OPTIM_CONFIG_H

#include "base/error.h"
#include "optim/optimizer.h"
#include "train/config.h"

int train_optim_hparams(const train_config *c, optim_hparams *hp, lmc_err *err);

#endif
