/* The decoder-only transformer family on CPU (GPT-2 and Llama are presets of one set of switches):
 * config, parameter layout, forward, backward, loss, AdamW, checkpoints. The gpt2_ prefix is
 * historical: every variant is a gpt2_model with different switches.
 *
 * Block (pre-norm): x + attn(norm1(x)), then + mlp(norm2(.)); final norm; output head.
 * Switches (gpt2_config; all zero = GPT-2 exactly, so HF GPT-2 checkpoints load):
 *   norm      LayerNorm | RMSNorm            position  learned (wpe) | RoPE (HF rotate-half) | ALiBi | none
 *   mlp       GELU-tanh | SwiGLU             n_kv_head multi-head | grouped-query | multi-query
 *   no_bias   biases in linears and norms    untied    output head tied to wte | separate lm_head
 * research switches (issue 13, src/model/switches.h): LayerNorm Scaling, learnable activations,
 *   multi-token heads, nGPT (depth_scaling, act, mtp_heads, normalized)
 * arch only picks the HF names and config.json on save/load (GPT2LMHeadModel or LlamaForCausalLM);
 * gpt2_config_preset() gives each arch's defaults.
 *
 * Internal layout for every variant: Conv1D [in, out] weights; attn.c_attn fuses q | k | v
 * ([d, (n_head + 2 n_kv_head) hd]); mlp.c_fc is [d, d_ff] (GELU) or gate | up ([d, 2 d_ff], SwiGLU).
 * For arch gpt2 a view is byte-for-byte the HF tensor; for arch llama src/interop/hf_llama.c splits
 * and transposes into HF's q_proj/k_proj/v_proj/gate_proj/up_proj [out, in].
 *
 * Memory: parameters, gradients, AdamW m and v are each ONE contiguous float buffer with the same
 * layout, described by a table of named views (HF GPT-2 names, HF shapes). Weights are stored in
 * HF's Conv1D layout [in, out], so a view is byte-for-byte the tensor HF saves (except wte, whose
 * buffer holds padded_vocab rows; the view covers the first vocab_size rows, and the padding rows
 * are zero and stay zero). Activations live in one more buffer, sized for (B, T) on first use.
 *
 * Threads: kernels use OpenMP's default thread count (omp_set_num_threads / OMP_NUM_THREADS);
 * lmc_kernels_set_threads() in kernels/cpu/kernels.h sets it and BLAS together. Results are
 * bitwise deterministic for a fixed thread count. */
#ifndef LMC_MODEL_GPT2_H
#define LMC_MODEL_GPT2_H

#include <stddef.h>
#include <stdint.h>
#include "base/error.h"

enum { GPT2_ARCH_GPT2 = 0, GPT2_ARCH_LLAMA = 1 };
enum { GPT2_NORM_LAYERNORM = 0, GPT2_NORM_RMSNORM = 1 };
enum { GPT2_POS_LEARNED = 0, GPT2_POS_ROPE = 1, GPT2_POS_ALIBI = 2, GPT2_POS_NONE = 3 };
enum { GPT2_MLP_GELU = 0, GPT2_MLP_SWIGLU = 1 };
/* research switches (issue 13; docs/model.md "Research switches") */
enum { GPT2_DEPTH_NONE = 0, GPT2_DEPTH_LNS = 1 };
enum { GPT2_ACT_MLP = 0, GPT2_ACT_HERMITE = 1, GPT2_ACT_FOURIER = 2, GPT2_ACT_TROPICAL = 3 };
enum { GPT2_MTP_MAX = 8 };
enum { GPT2_NORMALIZED_NONE = 0, GPT2_NORMALIZED_NGPT = 1, GPT2_NORMALIZED_ANGPT = 2 };

typedef struct gpt2_config {
    int n_layer;
    int n_head;
    int d_model;       /* n_embd; must be divisible by n_head */
    int max_seq;       /* n_positions: the longest sequence (rows of wpe) */
    int vocab_size;    /* V: real tokens */
    int padded_vocab;  /* Vp: V rounded up to a multiple of 128 (0 = let gpt2_config_check fill it) */
    float ln_eps;      /* norm epsilon (0 = 1e-5, the GPT-2 value) */
    /* family switches (0 = GPT-2's choice) */
    int arch;          /* GPT2_ARCH_*: HF names / config.json on save and load */
    int n_kv_head;     /* key/value heads, divides n_head (0 = n_head) */
    int d_ff;          /* MLP width (0 = gpt2_default_d_ff: 4d for GELU, Llama's rounding of 8d/3 for SwiGLU) */
    int norm;          /* GPT2_NORM_* */
    int position;      /* GPT2_POS_* */
    float rope_theta;  /* RoPE base (0 = 10000) */
    int mlp;           /* GPT2_MLP_* */
    int no_bias;       /* 1 = no biases anywhere (linears and LayerNorm) */
    int untied;        /* 1 = output head lm_head.weight separate from wte */
    int qkv_bias;      /* with no_bias: 1 = biases on q/k/v only (Qwen2) */
    /* attention switches (issue 13; kernels in kernels/cpu/attention_lssa.c and qknorm.c) */
    int attention;     /* GPT2_ATTN_*: softmax | LSSA (softplus, length scale) | LSSAR (LSSA + re-weighting) */
    int lssar_power;   /* LSSAR's integer power p (0 = 15, the paper's extrapolation setting) */
    int qk_norm;       /* 1 = RMSNorm of each q and k head before RoPE, learnable gains [hd] (Qwen3 style) */
    /* research switches (0 = off; HF cannot express any of them: config.json "lmc_switches") */
    int depth_scaling; /* GPT2_DEPTH_*: LNS multiplies both pre-norm outputs of block l (1-based) by 1/sqrt(l) */
    int act;           /* GPT2_ACT_*: MLP = the mlp switch's GELU/SwiGLU; the others replace GELU in the
                        * non-gated MLP by a learnable activation (src/kernels/cpu/activations.h) */
    int act_degree;    /* degree n of the learnable activation (0 = 3) */
    int mtp_heads;     /* K extra multi-token heads (0..GPT2_MTP_MAX-1): head i predicts token t+1+i */
    int normalized;    /* GPT2_NORMALIZED_*: nGPT (Loshchilov et al. 2025), src/model/ngpt.c; anGPT (Franke et al.
                        * 2025), src/model/angpt.c */
    /* packed windows (issue 15, src/model/docmask.h): 1 = attention and position ids restart at every
     * doc_sep_id token inside a window (training and full-window inference; not the KV-cache decode) */
    int doc_mask;
    int doc_sep_id;    /* the end-of-text id that begins every document (used only with doc_mask) */
} gpt2_config;

enum { GPT2_ATTN_SOFTMAX = 0, GPT2_ATTN_LSSA = 1, GPT2_ATTN_LSSAR = 2 };

/* A config with arch's defaults: gpt2 = all switches 0; llama = RMSNorm, RoPE theta 10000, SwiGLU,
 * no biases, untied head. Sizes are left 0 (the caller sets them). */
void gpt2_config_preset(gpt2_config *c, int arch);
/* d_ff rule: 4d for GELU; SwiGLU as Llama: 256 * ceil(floor(8d/3) / 256). */
int gpt2_default_d_ff(int d_model, int mlp);

/* Validate a config (positive sizes, d_model % n_head == 0, n_head % n_kv_head == 0, even head size for
 * RoPE, limits that keep sizes in range) and fill padded_vocab / ln_eps / n_kv_head / d_ff /
 * rope_theta when 0. */
int gpt2_config_check(gpt2_config *c, lmc_err *err);
/* Parameters as HF counts them (wte V rows, no padding). */
size_t gpt2_param_count(const gpt2_config *c);
/* Model FLOPs per trained token (forward + backward): 6 * (matmul weights per token) + attention
 *   6 * (L * (d * (H + 2 KV) hd + H hd * d + k * d * d_ff) + d * V) + 12 * L * H * hd * T,
 * k = 2 (GELU) or 3 (SwiGLU); for GPT-2 this is 6*(12*L*d^2 + d*V) + 12*L*d*T (the BENCHMARKS.md
 * convention; attention counted as full T x T; norms, RoPE and activations not counted). */
double gpt2_flops_per_token(const gpt2_config *c, int T);

/* A named view into the param / grad / m / v buffers (all four share the layout). */
typedef struct gpt2_view {
    char name[48];      /* HF GPT-2 name without the "transformer." prefix, e.g. "h.3.attn.c_attn.weight" */
    int ndim;           /* 1 or 2 */
    int64_t shape[2];   /* HF shape: Conv1D weights are [in, out]; wte is [V, d] */
    size_t offset;      /* in floats from the start of the buffer (64-byte aligned) */
    size_t numel;       /* shape product */
    int decay;          /* 1 = AdamW weight decay applies (the 2-D tensors) */
} gpt2_view;

/* Pointers to one layer's tensors inside a buffer (params, grads, m or v); NULL when the variant has
 * no such tensor (biases with no_bias, norm biases with RMSNorm). */
typedef struct gpt2_layer {
    float *ln1_w, *ln1_b;       /* [d] */
    float *qkv_w, *qkv_b;       /* attn.c_attn: [d, (H + 2 KV) hd]; q | k | v along the output */
    float *proj_w, *proj_b;     /* attn.c_proj: [d, d], [d] */
    float *ln2_w, *ln2_b;       /* [d] */
    float *fc_w, *fc_b;         /* mlp.c_fc: [d, d_ff] or, SwiGLU, [d, 2 d_ff] (gate | up) */
    float *fcproj_w, *fcproj_b; /* mlp.c_proj: [d_ff, d], [d] */
    float *qn_w, *kn_w;         /* qk_norm gains attn.q_norm / attn.k_norm: [hd] each (NULL without qk_norm) */
} gpt2_layer;

enum { GPT2_LAYER_VIEWS = 14 }; /* slots per layer in gpt2_model.layer_views (order of gpt2_layer) */

typedef struct gpt2_acts gpt2_acts; /* private: activation buffer and its views */

typedef struct gpt2_model {
    gpt2_config cfg;
    size_t n_floats;        /* floats in each of params / grads / m / v (views + alignment gaps) */
    float *params;          /* always allocated */
    float *grads, *m, *v;   /* NULL until gpt2_enable_training() */
    int n_views;
    gpt2_view *views;       /* wte, [wpe], h.0.* ... h.{L-1}.*, ln_f.weight, [ln_f.bias], [lm_head.weight] */
    int *layer_views;       /* [n_layer][GPT2_LAYER_VIEWS]: view index of each layer tensor, -1 = absent */
    int wte_view, wpe_view, lnf_w_view, lnf_b_view, head_view; /* view indices (-1 = absent) */
    float *wte, *wpe, *lnf_w, *lnf_b; /* shortcuts into params; wte has padded_vocab rows; wpe/lnf_b may be NULL */
    float *lm_head;         /* output head [padded_vocab, d]: wte when tied */
    float *rope_cos, *rope_sin; /* RoPE tables [max_seq, hd/2] (NULL without RoPE) */
    float *alibi;           /* ALiBi slopes [n_head] (NULL without ALiBi) */
    int bos_id, eos_id;     /* special token ids for HF's generate (config.json); -1 = unknown (gpt2_create) */
    int64_t step;           /* AdamW steps taken (bias correction uses step after increment) */

    /* Results of the last gpt2_forward (valid until the next forward/backward): */
    int B, T;               /* shape of the last forward */
    float *logits;          /* (B, T, padded_vocab); columns >= vocab_size are not logits of any token.
                             * gpt2_backward overwrites this buffer with dlogits. */
    float *losses;          /* (B, T) per-position loss (0 where the target is < 0), or NULL without targets */
    float loss;             /* mean over positions with target >= 0; -1 when forward had no targets */
    int64_t n_targets;      /* positions that counted in `loss` */
    gpt2_acts *acts;
    int loss_only;          /* gpt2_set_loss_only: training forwards with targets keep no logits */
    float head_fuse_scale;  /* > 0 inside gpt2_forward_backward: the head's backward runs in the forward */

    /* Optional per-kernel wall-clock accounting (bench): set profile = 1, read prof_s[i] (seconds,
     * accumulated) with names from gpt2_prof_name(i), i < GPT2_PROF_N. */
    int profile;
    double prof_s[16];

    /* Diagnostics (lmc eval --diag, src/model/posdiag.c); NULL = off. attn_probe is called by
     * gpt2_forward for every layer with the layer input x (N x d) and qkv (N x (H + 2 KV) hd) after
     * QK-norm, before RoPE. head_mask [n_layer * n_head]: 1 zeroes that head's attention output (ablation). */
    void (*attn_probe)(void *ctx, int layer, const float *x, const float *qkv, int B, int T);
    void *attn_probe_ctx;
    const unsigned char *head_mask;
    /* research switches (src/model/mtp.c): views of the per-layer activation coefficients
     * ("h.L.mlp.act.coef", -1 without a learnable activation) and of the extra heads ("mtp.I.weight") */
    int *act_views;         /* [n_layer] */
    int mtp_view0;          /* view index of mtp.1.weight; heads are consecutive views (-1 = none) */
    int mtp_active;         /* extra heads that get a loss now (0..mtp_heads; gpt2_create sets mtp_heads);
                             * inactive heads get no gradient and no optimizer update */
    float mtp_losses[GPT2_MTP_MAX]; /* per head mean loss of the last training forward (0 = next token) */
    float mtp_loss;         /* sum of the active heads' mean losses (what backward differentiates) */
    struct gpt2_mtp *mtp;   /* private scratch of the extra heads */
    int ngpt_view0;         /* nGPT: first of its scalar views (4 per layer, then ngpt.sz; anGPT: 2 per layer,
                             * then angpt.sz); -1 = none */
    struct gpt2_ngpt *ngpt; /* nGPT's private activations */
    struct gpt2_angpt *angpt; /* anGPT's private activations */
    float *angpt_nu;        /* anGPT: [max_seq] attention-sum factors, then nu_act (gpt2_angpt_setup) */
    int32_t *mtp_argmax;    /* caller-owned [mtp_heads][B*T] or NULL: a forward with targets writes each
                             * active extra head's most likely token per position (self-speculative drafts) */
} gpt2_model;

enum { GPT2_PROF_ENCODER, GPT2_PROF_LAYERNORM, GPT2_PROF_MATMUL, GPT2_PROF_ATTENTION, GPT2_PROF_GELU,
       GPT2_PROF_RESIDUAL, GPT2_PROF_LMHEAD, GPT2_PROF_XENT, GPT2_PROF_OPTIM, GPT2_PROF_GRADS, GPT2_PROF_N };
/* Kernel family name of a profile slot ("matmul", "attention", ...; forward and backward together).
 * Bias and residual adds are fused into the GEMMs, so "residual" stays 0 and counts under "matmul". */
const char *gpt2_prof_name(int i);

/* Allocate a model with zeroed parameters (gradients and optimizer state not yet allocated). */
int gpt2_create(gpt2_model **out, const gpt2_config *cfg, lmc_err *err);
void gpt2_free(gpt2_model *m);
/* Allocate grads, m and v (zeroed). Idempotent. */
int gpt2_enable_training(gpt2_model *m, lmc_err *err);

/* Initialisation from a seed (base RNG lmc_rng, stream in view order): 2-D weights ~ N(0, 0.02);
 * arch gpt2 only: residual projections (attn.c_proj.weight, mlp.c_proj.weight) ~ N(0, 0.02/sqrt(2*n_layer))
 * (arch llama keeps N(0, 0.02) there, as HF's LlamaPreTrainedModel._init_weights does);
 * LayerNorm weights 1, all biases 0; wte padding rows 0. Same seed -> same weights on any machine. */
void gpt2_init_random(gpt2_model *m, uint64_t seed);

/* Forward pass over inputs (B, T) of token ids in [0, vocab_size). targets (B, T) may be NULL (logits
 * only); a target < 0 is ignored by the loss (and its gradient is 0). T <= max_seq. On success
 * m->logits / m->loss are set and *loss_out (may be NULL) receives m->loss.
 * The activation buffer is (re)allocated when B*T grows. Before gpt2_enable_training the forward runs in
 * inference mode: one layer's activations are reused for every layer (memory independent of n_layer). */
int gpt2_forward(gpt2_model *m, const int32_t *inputs, const int32_t *targets, int B, int T,
                 float *loss_out, lmc_err *err);

/* Backward of the last forward (which must have had targets), ACCUMULATING into m->grads the gradient
 * of loss_scale * mean_loss. For gradient accumulation over k micro-batches call zero_grad once, then
 * forward/backward with loss_scale = 1/k for each. Needs gpt2_enable_training. Destroys m->logits. */
int gpt2_backward(gpt2_model *m, float loss_scale, lmc_err *err);

/* Loss-only training forwards (the trainer turns this on): after gpt2_enable_training, a forward with
 * targets computes the head and the loss in row chunks (a quarter of the fp32 logits, between 64 and 256
 * MiB, >= 256 rows) and sets m->logits = NULL; backward recomputes each chunk's logits (one more head GEMM
 * when there is more than one chunk) unless gpt2_forward_backward ran the head's backward in the forward. The (B*T) x padded_vocab fp32 logits never exist at once. Forwards without targets,
 * inference-mode models and nGPT/anGPT keep full logits. Returns the previous setting (callers that need
 * m->logits from a training model turn it off around their forward and restore it). */
int gpt2_set_loss_only(gpt2_model *m, int on);

/* forward then backward(loss_scale), as one call. With loss-only training forwards on and the head split
 * into more than one row chunk, each chunk's dlogits, dx rows and head-gradient share are made while its
 * logits are still there, so backward recomputes nothing (one head GEMM fewer per chunk); results are
 * bitwise those of the two calls. Other cases are exactly the two calls. */
int gpt2_forward_backward(gpt2_model *m, const int32_t *inputs, const int32_t *targets, int B, int T,
                          float loss_scale, float *loss_out, lmc_err *err);

void gpt2_zero_grad(gpt2_model *m);
/* Global L2 norm of all gradients (double accumulation, deterministic order). */
double gpt2_grad_norm(const gpt2_model *m);
/* PyTorch clip_grad_norm_: coef = max_norm / (norm + 1e-6); if coef < 1, grads *= coef.
 * Returns the norm before clipping. max_norm <= 0 disables clipping (still returns the norm). */
double gpt2_clip_grad(gpt2_model *m, double max_norm);

typedef struct gpt2_adamw {
    float lr, beta1, beta2, eps;
    float weight_decay;   /* decoupled (p -= lr*wd*p), applied to views with decay=1 only */
} gpt2_adamw;

/* One AdamW step (PyTorch semantics: bias correction with step t = ++m->step). */
int gpt2_adamw_step(gpt2_model *m, const gpt2_adamw *hp, lmc_err *err);

/* Layer l's attention output of the last forward, per head before the output projection: (B*T, n_head
 * * head size), head h in columns [h*hs, (h+1)*hs). Kept only in training mode (gpt2_enable_training);
 * NULL otherwise or for l out of range. Valid until the next forward/backward (diagnostics: AHON). */
const float *gpt2_attn_out(const gpt2_model *m, int l);
/* The final norm's output of the last forward (B*T, d_model): the features the output head multiplies
 * (logits = features x lm_head^T). Valid until the next forward/backward; NULL before any forward. */
const float *gpt2_final_features(const gpt2_model *m);

/* Views by name (prefix "transformer." accepted), NULL if absent. */
const gpt2_view *gpt2_find_view(const gpt2_model *m, const char *name);
/* Layer l's tensors inside `buf` (m->params, m->grads, m->m or m->v). */
gpt2_layer gpt2_layer_ptrs(const gpt2_model *m, float *buf, int l);

/* HF folders (src/interop/hf_gpt2.c, dispatching by config.json's model_type / cfg.arch): model_type
 * llama, mistral (no sliding window) and qwen2 go to src/interop/hf_llama.c (LlamaForCausalLM /
 * Qwen2ForCausalLM names, [out, in] weights, sharded index, tied heads, 4.x and 5.x config fields;
 * unsupported fields are errors naming them), and save writes arch llama as such a folder. Both
 * formats read bos/eos ids into m->bos_id / eos_id and write them back (config.json and
 * generation_config.json); switches HF cannot express are kept in config.json's "lmc_switches".
 * GPT-2 folder:
 * load: config.json (GPT2Config fields: n_layer, n_head, n_embd, n_positions, vocab_size,
 *   layer_norm_epsilon; activation must be gelu_new/gelu_pytorch_tanh) + model.safetensors with
 *   names with or without "transformer.", Conv1D [in,out] weights, F32/F16/BF16, attn.bias /
 *   attn.masked_bias / lm_head.weight ignored. Shapes are checked against config.json, every tensor
 *   must be present, values must be finite.
 * save: config.json + model.safetensors (F32, "transformer." prefix, no lm_head, {"format":"pt"}),
 *   each written atomically. */
int gpt2_config_load_hf(const char *dir, gpt2_config *cfg, lmc_err *err);
int gpt2_load_hf(const char *dir, gpt2_model **out, lmc_err *err);
/* Load weights into an existing model whose config matches the folder's. */
int gpt2_load_hf_into(gpt2_model *m, const char *dir, lmc_err *err);
int gpt2_save_hf(const gpt2_model *m, const char *dir, lmc_err *err);

#endif
