/* Research switches' config keys -> gpt2_config, and the MTP curriculum per step. */
#include "train/switches.h"
#include "model/switches.h"

#include <string.h>

int train_model_switches(const train_config *cfg, gpt2_config *mc, lmc_err *err) {
    (void)err;
    mc->depth_scaling = !strcmp(cfg->depth_scaling, "lns") ? GPT2_DEPTH_LNS : GPT2_DEPTH_NONE;
    const char *a = cfg->activation;
    mc->act = GPT2_ACT_MLP;
    if (!strcmp(a, "gelu")) mc->mlp = GPT2_MLP_GELU;
    else if (!strcmp(a, "swiglu")) mc->mlp = GPT2_MLP_SWIGLU;
    else if (!strcmp(a, "hermite")) mc->act = GPT2_ACT_HERMITE;
    else if (!strcmp(a, "fourier")) mc->act = GPT2_ACT_FOURIER;
    else if (!strcmp(a, "tropical")) mc->act = GPT2_ACT_TROPICAL;
    if (mc->act) mc->mlp = GPT2_MLP_GELU;  /* the learnable activation replaces GELU in the non-gated MLP */
    mc->act_degree = mc->act ? (int)cfg->activation_degree : 0;
    mc->mtp_heads = (int)cfg->mtp_heads;
    mc->normalized = !strcmp(cfg->normalized, "ngpt") ? GPT2_NORMALIZED_NGPT
                   : !strcmp(cfg->normalized, "angpt") ? GPT2_NORMALIZED_ANGPT : GPT2_NORMALIZED_NONE;
    return 0;
}

void train_mtp_schedule(const train_config *cfg, gpt2_model *m, int64_t step) {
    int cur = !strcmp(cfg->mtp_curriculum, "forward") ? GPT2_MTP_CURRICULUM_FORWARD
            : !strcmp(cfg->mtp_curriculum, "reverse") ? GPT2_MTP_CURRICULUM_REVERSE : GPT2_MTP_CURRICULUM_NONE;
    m->mtp_active = gpt2_mtp_active_at(cur, m->cfg.mtp_heads, step, cfg->steps);
}
