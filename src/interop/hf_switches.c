/* The research switches in config.json's "lmc_switches" (HF transformers has no field for any of them:
 * such a folder is lmc's own checkpoint, and hf_research_switch names what makes it so). */
#include "interop/hf_family.h"
#include "base/json.h"

#include <string.h>

static const char *const act_names[] = {"mlp", "hermite", "fourier", "tropical"};

const char *hf_research_switch(const gpt2_config *c) {
    if (c->depth_scaling == GPT2_DEPTH_LNS) return "model.depth_scaling: lns (LayerNorm Scaling)";
    if (c->act) return "model.activation (a learnable hermite/fourier/tropical activation)";
    if (c->mtp_heads) return "model.mtp_heads (extra multi-token prediction heads)";
    if (c->normalized == GPT2_NORMALIZED_ANGPT) return "model.normalized: angpt (the approximately normalized transformer)";
    if (c->normalized) return "model.normalized: ngpt (the normalized transformer)";
    return NULL;
}

const char *hf_unexpressible_switch(const gpt2_config *c) {
    const char *r = hf_research_switch(c);
    if (r) return r;
    if (c->attention != GPT2_ATTN_SOFTMAX) return "model.attention (softplus attention, LSSA/LSSAR)";
    if (c->qk_norm && c->arch != GPT2_ARCH_LLAMA) return "model.qk_norm on arch gpt2";
    if (c->qk_norm) return "model.qk_norm (Qwen3's q_norm/k_norm; LlamaForCausalLM has none)";
    return "a family switch outside the arch's HF class (norm, position, mlp, biases or head tying)";
}

void hf_write_research_switches(json_t *s, const gpt2_config *c) {
    if (!hf_research_switch(c)) return;
    json_object_set_new(s, "depth_scaling", json_string(c->depth_scaling == GPT2_DEPTH_LNS ? "lns" : "none"));
    json_object_set_new(s, "activation", json_string(act_names[c->act]));
    json_object_set_new(s, "activation_degree", json_integer(c->act_degree));
    json_object_set_new(s, "mtp_heads", json_integer(c->mtp_heads));
    json_object_set_new(s, "normalized", json_string(c->normalized == GPT2_NORMALIZED_ANGPT ? "angpt" : c->normalized ? "ngpt" : "none"));
}

int hf_read_research_switches(json_t *s, const char *path, gpt2_config *c, lmc_err *err) {
    json_t *v = json_object_get(s, "depth_scaling");
    if (v) {
        const char *x = json_string_value(v);
        if (!x || (strcmp(x, "lns") && strcmp(x, "none")))
            return lmc_errf(err, LMC_EFORMAT, "%s: lmc_switches.depth_scaling must be \"none\" or \"lns\"", path);
        c->depth_scaling = !strcmp(x, "lns") ? GPT2_DEPTH_LNS : GPT2_DEPTH_NONE;
    }
    if ((v = json_object_get(s, "activation"))) {
        const char *x = json_string_value(v);
        int found = -1;
        for (int i = 0; x && i < 4; i++)
            if (!strcmp(x, act_names[i])) found = i;
        if (found < 0) return lmc_errf(err, LMC_EFORMAT, "%s: lmc_switches.activation is not one of mlp|hermite|fourier|tropical", path);
        c->act = found;
    }
    if ((v = json_object_get(s, "activation_degree"))) {
        if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 16)
            return lmc_errf(err, LMC_EFORMAT, "%s: lmc_switches.activation_degree must be an integer in 0..16", path);
        c->act_degree = (int)json_integer_value(v);
    }
    if ((v = json_object_get(s, "normalized"))) {
        const char *x = json_string_value(v);
        if (!x || (strcmp(x, "ngpt") && strcmp(x, "angpt") && strcmp(x, "none")))
            return lmc_errf(err, LMC_EFORMAT, "%s: lmc_switches.normalized must be \"none\", \"ngpt\" or \"angpt\"", path);
        c->normalized = !strcmp(x, "ngpt") ? GPT2_NORMALIZED_NGPT : !strcmp(x, "angpt") ? GPT2_NORMALIZED_ANGPT
                      : GPT2_NORMALIZED_NONE;
    }
    if ((v = json_object_get(s, "mtp_heads"))) {
        if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) >= GPT2_MTP_MAX)
            return lmc_errf(err, LMC_EFORMAT, "%s: lmc_switches.mtp_heads must be an integer in 0..%d", path, GPT2_MTP_MAX - 1);
        c->mtp_heads = (int)json_integer_value(v);
    }
    return 0;
}
