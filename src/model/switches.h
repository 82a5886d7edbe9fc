/* The research switches of the model family (issue 13): LayerNorm Scaling, learnable activations,
 * multi-token prediction heads and their curriculum. gpt2.c calls these at small dispatch points; the
 * sublayer code lives in src/model/switches.c, src/model/mtp.c and src/kernels/cpu/activations.c. */
#ifndef LMC_MODEL_SWITCHES_H
#define LMC_MODEL_SWITCHES_H

#include <stdint.h>
#include "model/gpt2.h"

/* Validate and default the research fields of c (act_degree 0 -> 3; act needs the non-gated MLP). */
int gpt2_switches_check(gpt2_config *c, lmc_err *err);
/* Parameters the switches add (activation coefficients, extra heads). */
size_t gpt2_switches_param_count(const gpt2_config *c);
/* LNS factor of block l (0-based): 1/sqrt(l+1), exactly 1 for l = 0 and without LNS. */
float gpt2_lns_scale(const gpt2_config *c, int l);
/* Layer l's activation coefficients inside buf (params, grads, m or v); NULL without a learnable activation. */
float *gpt2_act_coef(const gpt2_model *m, float *buf, int l);
/* 1 if view i is an extra head the curriculum has switched off (no gradient, no optimizer update). */
int gpt2_view_frozen(const gpt2_model *m, int i);

/* Multi-token heads (src/model/mtp.c). Extra head i (1..K) reads the final-norm output and predicts the
 * token i positions after the next-token target (targets[b, t+i]; -1 past the row's end). The training
 * loss is the SUM over active heads of each head's mean cross-entropy (Gloeckle et al. 2024); m->loss
 * stays the next-token loss. Heads run one after another through one logits scratch (only one head's
 * N x Vp logits exist at a time); backward recomputes each head's logits. */
int gpt2_mtp_forward(gpt2_model *m, const float *lnf, const int32_t *targets, int B, int T, lmc_err *err);
/* Adds the active heads' gradient into dlnf [N, d] and their weight gradients. */
int gpt2_mtp_backward(gpt2_model *m, const float *lnf, float loss_scale, float *dlnf, lmc_err *err);
void gpt2_mtp_free(gpt2_model *m);

/* The residual stream after block l (l = 0: the embeddings; l = n_layer: before the final norm) of the
 * last forward, (B, T, d); NULL unless the forward kept every layer (after gpt2_enable_training). */
const float *gpt2_residual(const gpt2_model *m, int l);
/* Depth diagnostics of one forward over inputs (B, T) (needs gpt2_enable_training): var[l], l = 0..L,
 * the variance of all entries of the residual stream after block l; ang[l], l = 0..L-1, the mean over
 * tokens of arccos(cos(h_l, h_{l+1})) / pi, the angular distance between block l+1's input and output
 * (Gromov et al. 2024, as the LNS paper uses it). Both are ADDED to (accumulate over batches). */
int gpt2_depth_stats(gpt2_model *m, const int32_t *inputs, int B, int T, double *var, double *ang, lmc_err *err);

/* nGPT (src/model/ngpt.c; docs/model.md): forward/backward of the normalized transformer, the
 * projection of every matrix back onto the unit sphere (call after each optimizer step; gpt2_adamw_step
 * and gpt2_init_random do), the init of its scalars, and the effective value of a stored scalar. */
int gpt2_ngpt_forward(gpt2_model *m, const int32_t *inputs, const int32_t *targets, int B, int T, lmc_err *err);
int gpt2_ngpt_backward(gpt2_model *m, float loss_scale, lmc_err *err);
void gpt2_ngpt_project(gpt2_model *m);
void gpt2_ngpt_init(gpt2_model *m);
void gpt2_ngpt_free(gpt2_model *m);
/* One token at position t through nGPT with a KV cache (src/gen/gen.c): caches [n_layer, max_len, d]
 * hold the normalised, scaled, rotated keys and the values; scratch x, h, att [d], qkv [3d], fc [2 d_ff],
 * act [d_ff], scores [t+1]; logits [padded_vocab]. */
int gpt2_ngpt_decode_step(const gpt2_model *m, int32_t token, int t, float *kcache, float *vcache, int max_len,
                          float *x, float *h, float *qkv, float *att, float *fc, float *act, float *scores,
                          float *logits, lmc_err *err);
/* Layer l's nGPT scalars in buf: alpha_attn [d], alpha_mlp [d], sqk [d], suv [2 d_ff]; l = n_layer: sz [V]. */
float *gpt2_ngpt_param(const gpt2_model *m, float *buf, int l, int which);

/* anGPT (src/model/angpt.c; docs/model.md): the same entry points as nGPT's (the gpt2_ngpt_* functions
 * dispatch to these), the norm bound w <- w / max(1, ||w||) after each step, and the constant factors:
 * gpt2_angpt_setup (gpt2_create and gpt2_set_context call it) fills m->angpt_nu with the attention-sum
 * factor of every position (deterministic Monte Carlo) and nu_act (quadrature, gpt2_angpt_nu_act). */
int gpt2_angpt_setup(gpt2_model *m, lmc_err *err);
double gpt2_angpt_nu_act(int d_model, int d_ff);
/* nGPT's output head and loss (src/model/ngpt.c), shared with anGPT: logits = s_z ⊙ (W_out h). */
void gpt2_ngpt_head_fwd(gpt2_model *m, const float *h, const float *sz, float *raw, float *logits, float *losses,
                        float *lse, const int32_t *targets);
void gpt2_ngpt_head_bwd(gpt2_model *m, const float *h, const float *sz, float *dsz, const float *raw, float *logits,
                        const float *lse, const int32_t *targets, float loss_scale, float *dh);
int gpt2_angpt_forward(gpt2_model *m, const int32_t *inputs, const int32_t *targets, int B, int T, lmc_err *err);
int gpt2_angpt_backward(gpt2_model *m, float loss_scale, lmc_err *err);
void gpt2_angpt_project(gpt2_model *m);
void gpt2_angpt_init(gpt2_model *m);
void gpt2_angpt_free(gpt2_model *m);
int gpt2_angpt_decode_step(const gpt2_model *m, int32_t token, int t, float *kcache, float *vcache, int max_len,
                           float *x, float *h, float *qkv, float *att, float *fc, float *act, float *scores,
                           float *logits, lmc_err *err);
/* Layer l's anGPT scalars in buf: alpha_attn [d] (which 0), alpha_mlp [d] (1); l = n_layer: sz [V]. */
float *gpt2_angpt_param(const gpt2_model *m, float *buf, int l, int which);
/* The block input of layer l (l = n_layer: the final hidden state) of the last anGPT forward, (B, T, d). */
const float *gpt2_angpt_hidden(const gpt2_model *m, int l);
/* What each constant factor normalises, measured on the last anGPT forward (mean over tokens and layers of
 * the vector norm after the factor; each should be ~1 at init): st[0..7] = q head, k head (before
 * QK-norm; 0 without it), v head, attention output head (after nu_att), x_A (after nu_p), up (after
 * nu_uz), activation (after nu_act), x_M (after nu_d); hn[l], l = 0..n_layer (may be NULL), the mean
 * norm of the hidden state entering block l. Returns -1 without a forward. */
enum { GPT2_ANGPT_STATS = 8 };
int gpt2_angpt_stats(const gpt2_model *m, double *st, double *hn);

enum { GPT2_MTP_CURRICULUM_NONE = 0, GPT2_MTP_CURRICULUM_FORWARD = 1, GPT2_MTP_CURRICULUM_REVERSE = 2 };
/* Active extra heads at step e (0-based) of E under the ACL 2025 curriculum with k_max = K + 1 heads
 * in E/k_max equal stages: forward k = min(k_max, floor(e k_max / E) + 1), reverse
 * k = max(1, k_max - floor(e k_max / E)); returns k - 1. none: K. */
int gpt2_mtp_active_at(int curriculum, int K, int64_t e, int64_t E);

#endif
