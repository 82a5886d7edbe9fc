/* Research switches: config validation, parameter count, LNS factor, views (see switches.h). */
#include "model/switches.h"
#include "kernels/cpu/activations.h"

#include <math.h>

int gpt2_switches_check(gpt2_config *c, lmc_err *err) {
    if (c->depth_scaling < GPT2_DEPTH_NONE || c->depth_scaling > GPT2_DEPTH_LNS)
        return lmc_errf(err, LMC_EINVAL, "depth_scaling %d unknown", c->depth_scaling);
    if (c->act < GPT2_ACT_MLP || c->act > GPT2_ACT_TROPICAL) return lmc_errf(err, LMC_EINVAL, "activation %d unknown", c->act);
    if (c->act_degree == 0) c->act_degree = 3;
    if (c->act && (c->act_degree < 1 || c->act_degree > K_ACT_MAX_DEGREE))
        return lmc_errf(err, LMC_EINVAL, "activation degree %d out of range (1..%d)", c->act_degree, K_ACT_MAX_DEGREE);
    if (c->act && c->mlp != GPT2_MLP_GELU)
        return lmc_errf(err, LMC_EINVAL, "a learnable activation (hermite, fourier, tropical) replaces GELU in the "
                                         "non-gated MLP: it needs mlp gelu, not swiglu");
    if (c->mtp_heads < 0 || c->mtp_heads >= GPT2_MTP_MAX)
        return lmc_errf(err, LMC_EINVAL, "mtp_heads %d out of range (0..%d)", c->mtp_heads, GPT2_MTP_MAX - 1);
    if (c->normalized < GPT2_NORMALIZED_NONE || c->normalized > GPT2_NORMALIZED_ANGPT)
        return lmc_errf(err, LMC_EINVAL, "normalized %d unknown", c->normalized);
    const char *nn = c->normalized == GPT2_NORMALIZED_ANGPT ? "angpt" : "ngpt";
    if (c->normalized && (c->mlp != GPT2_MLP_SWIGLU || !c->no_bias || !c->untied || c->n_kv_head != c->n_head ||
                          c->position == GPT2_POS_LEARNED || c->act || c->mtp_heads || c->depth_scaling))
        return lmc_errf(err, LMC_EINVAL, "normalized: %s is the paper's Llama-style model: it needs mlp swiglu, no biases, "
                                         "an untied head, n_kv_head = n_head, rope/alibi/none positions, and no activation, "
                                         "mtp_heads or depth_scaling switch (use arch: llama)", nn);
    if (c->normalized && c->attention != GPT2_ATTN_SOFTMAX)
        return lmc_errf(err, LMC_EINVAL, "normalized: %s has its own attention block (softmax); model.attention lssa/lssar "
                                         "is not combined with it", nn);
    if (c->normalized == GPT2_NORMALIZED_NGPT && c->qk_norm)
        return lmc_errf(err, LMC_EINVAL, "normalized: ngpt normalises q and k itself (s_qk); model.qk_norm is for the "
                                         "other models (anGPT keeps it)");
    return 0;
}

size_t gpt2_switches_param_count(const gpt2_config *c) {
    int deg = c->act_degree ? c->act_degree : 3;
    size_t n = c->act ? (size_t)c->n_layer * (size_t)k_act_ncoef(c->act, deg) : 0;
    size_t ff = c->d_ff ? (size_t)c->d_ff : (size_t)gpt2_default_d_ff(c->d_model, c->mlp);
    size_t ng = c->normalized == GPT2_NORMALIZED_NGPT ? (size_t)c->n_layer * (3 * (size_t)c->d_model + 2 * ff) + (size_t)c->vocab_size
              : c->normalized == GPT2_NORMALIZED_ANGPT ? (size_t)c->n_layer * 2 * (size_t)c->d_model + (size_t)c->vocab_size : 0;
    return n + ng + (size_t)c->mtp_heads * (size_t)c->vocab_size * (size_t)c->d_model;
}

float gpt2_lns_scale(const gpt2_config *c, int l) {
    if (c->depth_scaling != GPT2_DEPTH_LNS || l <= 0) return 1.0f;
    return (float)(1.0 / sqrt((double)l + 1.0));
}

float *gpt2_act_coef(const gpt2_model *m, float *buf, int l) {
    if (!m->act_views || m->act_views[l] < 0) return NULL;
    return buf + m->views[m->act_views[l]].offset;
}

int gpt2_view_frozen(const gpt2_model *m, int i) {
    return m->mtp_view0 >= 0 && i >= m->mtp_view0 + m->mtp_active && i < m->mtp_view0 + m->cfg.mtp_heads;
}

int gpt2_depth_stats(gpt2_model *m, const int32_t *inputs, int B, int T, double *var, double *ang, lmc_err *err) {
    if (!m->grads) return lmc_errf(err, LMC_EINVAL, "depth stats: call gpt2_enable_training first (every layer's activations are needed)");
    int rc = gpt2_forward(m, inputs, NULL, B, T, NULL, err);
    if (rc) return rc;
    const int L = m->cfg.n_layer, C = m->cfg.d_model;
    const size_t N = (size_t)B * (size_t)T;
    for (int l = 0; l <= L; l++) {
        const float *h = gpt2_residual(m, l);
        double s = 0, s2 = 0;
        for (size_t i = 0; i < N * (size_t)C; i++) { s += h[i]; s2 += (double)h[i] * h[i]; }
        const double n = (double)N * C, mean = s / n;
        var[l] += s2 / n - mean * mean;
        if (l == L) break;
        const float *g = gpt2_residual(m, l + 1);
        double acc = 0;
        for (size_t t = 0; t < N; t++) {
            double dot = 0, na = 0, nb = 0;
            for (int c = 0; c < C; c++) {
                const double x = h[t * C + c], y = g[t * C + c];
                dot += x * y; na += x * x; nb += y * y;
            }
            double cs = na > 0 && nb > 0 ? dot / sqrt(na * nb) : 1.0;
            if (cs > 1) cs = 1;
            if (cs < -1) cs = -1;
            acc += acos(cs) / M_PI;
        }
        ang[l] += acc / (double)N;
    }
    return 0;
}
