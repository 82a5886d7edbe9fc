#include "train/optim_config.h"

#include <string.h>

int train_optim_hparams(const train_config *c, optim_hparams *hp, lmc_err *err) {
    memset(hp, 0, sizeof *hp);
    hp->kind = optim_kind_parse(c->optimizer);
    if (hp->kind < 0) return lmc_errf(err, LMC_EINVAL, "train.optimizer: unknown optimizer '%s'", c->optimizer);
    hp->lr = c->lr;
    hp->beta1 = c->beta1;
    hp->beta2 = c->beta2;
    hp->eps = c->eps;
    hp->weight_decay = c->weight_decay;
    hp->sf_warmup_steps = c->warmup_steps;
    hp->sf_r = c->sf_r;
    hp->sf_weight_lr_power = c->sf_weight_lr_power;
    hp->sf_c = c->sf_c;
    hp->muon_lr = c->muon_lr;
    hp->muon_momentum = c->muon_momentum;
    hp->muon_weight_decay = c->muon_weight_decay;
    hp->muon_eps = c->muon_eps;
    hp->muon_nesterov = strcmp(c->muon_nesterov, "false") != 0;
    hp->muon_ns_steps = (int)c->muon_ns_steps;
    hp->muon_adjust_lr = strcmp(c->muon_adjust_lr, "original") ? OPTIM_MUON_LR_MATCH_RMS_ADAMW : OPTIM_MUON_LR_ORIGINAL;
    hp->soap_precondition_frequency = (int)c->soap_precondition_frequency;
    hp->soap_max_precond_dim = (int)c->soap_max_precond_dim;
    hp->soap_shampoo_beta = c->soap_shampoo_beta;
    hp->kl_init_factor = c->kl_init_factor;
    hp->kl_clamp = c->kl_clamp;
    hp->galore_rank = (int)c->galore_rank;
    hp->galore_update_proj_gap = (int)c->galore_update_proj_gap;
    hp->galore_scale = c->galore_scale;
    hp->galore_importance = !strcmp(c->galore_subspace, "importance");
    hp->galore_seed = (uint64_t)c->seed;
    if (OPTIM_IS_SF(hp->kind) && !(c->beta1 > 0))
        return lmc_errf(err, LMC_EINVAL, "train.beta1 must be > 0 for sf-adamw (x = lerp(y, z, 1 - 1/beta1))");
    return 0;
}
