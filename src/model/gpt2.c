/* GPT-2 model: parameter layout, activations, forward, backward, gradient utilities, AdamW. */
#include "model/gpt2.h"
#include "kernels/cpu/kernels.h"
#include "kernels/cpu/attn_switch.h"
#include "kernels/cpu/activations.h"
#include "model/switches.h"
#include "model/docmask.h"
#include "optim/optim.h"
#include "base/mem.h"
#include "base/rng.h"
#include "base/progress.h"
#include <math.h>
#include <stdio.h>
#include <string.h>

#define ALIGN_FLOATS 16 /* 64 bytes */

struct gpt2_acts {
    size_t cap_N;            /* rows (B*T) the buffer was sized for */
    int kept;                /* layers whose activations are kept: n_layer (training) or 1 (inference:
                              * every layer reuses slot 0, the residual stream alternates two slots) */
    float *buf;
    int32_t *inputs, *targets;
    int has_targets;
    /* per-layer stacks, layer l at offset l * (per-layer size) */
    float *res;              /* (L+1) x N x C: res[0] = embeddings, res[l+1] = output of layer l */
    float *ln1, *ln1_mean, *ln1_rstd, *qkv, *atty, *lse, *res_mid, *ln2, *ln2_mean, *ln2_rstd, *fch, *fchg;
    float *lnf, *lnf_mean, *lnf_rstd, *logits, *ce_lse, *losses;
    float *d_res, *d_small, *d_big;   /* backward scratch (d_big: N x max(qkv width, c_fc width)) */
    float *d_mid;            /* SwiGLU backward: gradient of the activation output, N x d_ff */
    float *qk_raw, *qk_rstd; /* qk_norm: q|k before the norm (L x N x (H+KV) hd) and 1/rms (L x N x (H+KV)) */
    int32_t *docstart, *docpos; /* doc_mask: each row's document start and restarted position (N each) */
    /* bf16 mode: activations read only by GEMMs (forward, and dW in backward) are kept as the bf16 copies
     * those GEMMs read, and their fp32 stacks are not allocated: the two norm outputs (ln1_16, ln2_16,
     * L x N x C; the norms write one layer's fp32 into ln_tmp first) and, with the plain GELU MLP, the
     * activation output (fchg16, L x N x d_ff): results are bitwise those of rounding the fp32 arrays in
     * each GEMM. With the plain GELU MLP the GELU input is kept in bf16 too (fch16; the fc GEMM writes
     * one layer's fp32 into d_big, free during forward): GELU's backward then evaluates the derivative
     * at the rounded input, as autocast's saved bf16 activations do. Half the bytes of those stacks and
     * no rounding pass in backward. */
    uint16_t *ln1_16, *ln2_16, *fchg16, *fch16;
    float *ln_tmp;
    int bf16, mlp16;
    /* Output head. A forward that must hand out logits writes all N x Vp of them into head_chunk when
     * one chunk holds every row, else into `logits` (its own allocation, made on first use). A loss-only
     * training forward (gpt2_set_loss_only) runs the head and the loss over row chunks of `chunk_rows`
     * through `head_chunk` instead, and backward recomputes each chunk's logits (unless
     * gpt2_forward_backward ran the head's backward in the forward): the N x Vp fp32 logits never exist
     * at once. */
    float *head_chunk;       /* chunk_rows x Vp (training mode only) */
    size_t chunk_rows;
    int head_chunked;        /* the last forward ran chunked; backward has not consumed it yet */
    int head_done;           /* gpt2_forward_backward: the forward already ran the head's backward */
};

static float *grad_of(gpt2_model *m, int view) { return view >= 0 ? m->grads + m->views[view].offset : NULL; }
/* The output head's gradient: its own (untied head) or the token embedding's (tied). */
static float *head_grad(gpt2_model *m) { return m->head_view >= 0 ? grad_of(m, m->head_view) : grad_of(m, m->wte_view); }

/* Rows per head chunk: a quarter of the N x Vp fp32 logits, but at least 64 MiB and at most 256 MiB of them
 * (multiples of 64 rows, at least 256 rows, at most N). Up to 64 MiB the logits stay one chunk and backward
 * needs no recomputation (config S: 2,048 x 8,192 is exactly that). Beyond it each chunk costs one more
 * head GEMM (a third of the head's FLOPs) and one pass of its dW GEMM over the whole head gradient, whose
 * inner dimension is the chunk's rows: so not too many chunks (config M: 4 of 1,024 rows, 206 MB held,
 * against 13 passes of K = 320 with a flat 64 MiB). */
static size_t head_chunk_rows(const gpt2_config *c, size_t N) {
    const size_t Vp = (size_t)c->padded_vocab, lo = ((size_t)1 << 24) / Vp, hi = ((size_t)1 << 26) / Vp;
    size_t r = N / 4;
    r = r < lo ? lo : r > hi ? hi : r;
    r = r / 64 * 64;
    if (r < 256) r = 256;
    return r < N ? r : N;
}

int gpt2_set_loss_only(gpt2_model *m, int on) {
    int was = m->loss_only;
    m->loss_only = on != 0;
    return was;
}

const char *gpt2_prof_name(int i) {
    static const char *names[GPT2_PROF_N] = {"encoder", "layernorm", "matmul", "attention", "gelu",
                                             "residual", "lm_head", "softmax_xent", "adamw",
                                             "zero_grad+clip"};
    return i >= 0 && i < GPT2_PROF_N ? names[i] : "?";
}

void gpt2_config_preset(gpt2_config *c, int arch) {
    memset(c, 0, sizeof *c);
    c->arch = arch;
    if (arch == GPT2_ARCH_LLAMA) {
        c->norm = GPT2_NORM_RMSNORM;
        c->position = GPT2_POS_ROPE;
        c->rope_theta = 10000.0f;
        c->mlp = GPT2_MLP_SWIGLU;
        c->no_bias = 1;
        c->untied = 1;
    }
}

int gpt2_default_d_ff(int d_model, int mlp) {
    if (mlp != GPT2_MLP_SWIGLU) return 4 * d_model;
    int h = (int)(8.0 * d_model / 3.0);  /* Llama: int(2 * 4d / 3), then up to a multiple of 256 */
    return (h + 255) / 256 * 256;
}

int gpt2_config_check(gpt2_config *c, lmc_err *err) {
    if (c->n_layer <= 0 || c->n_layer > 1024) return lmc_errf(err, LMC_EINVAL, "n_layer %d out of range (1..1024)", c->n_layer);
    if (c->n_head <= 0 || c->n_head > 1024) return lmc_errf(err, LMC_EINVAL, "n_head %d out of range (1..1024)", c->n_head);
    if (c->d_model <= 0 || c->d_model > 65536) return lmc_errf(err, LMC_EINVAL, "d_model %d out of range (1..65536)", c->d_model);
    if (c->d_model % c->n_head) return lmc_errf(err, LMC_EINVAL, "d_model %d is not divisible by n_head %d", c->d_model, c->n_head);
    if (c->max_seq <= 0 || c->max_seq > 1 << 20) return lmc_errf(err, LMC_EINVAL, "max_seq %d out of range (1..1048576)", c->max_seq);
    if (c->vocab_size <= 0 || c->vocab_size > 1 << 24) return lmc_errf(err, LMC_EINVAL, "vocab_size %d out of range (1..16777216)", c->vocab_size);
    if (c->arch < GPT2_ARCH_GPT2 || c->arch > GPT2_ARCH_LLAMA) return lmc_errf(err, LMC_EINVAL, "arch %d unknown", c->arch);
    if (c->norm < 0 || c->norm > GPT2_NORM_RMSNORM) return lmc_errf(err, LMC_EINVAL, "norm %d unknown", c->norm);
    if (c->position < 0 || c->position > GPT2_POS_NONE) return lmc_errf(err, LMC_EINVAL, "position %d unknown", c->position);
    if (c->mlp < 0 || c->mlp > GPT2_MLP_SWIGLU) return lmc_errf(err, LMC_EINVAL, "mlp %d unknown", c->mlp);
    if (c->attention < 0 || c->attention > GPT2_ATTN_LSSAR) return lmc_errf(err, LMC_EINVAL, "attention %d unknown", c->attention);
    if (c->qk_norm < 0 || c->qk_norm > 1) return lmc_errf(err, LMC_EINVAL, "qk_norm %d must be 0 or 1", c->qk_norm);
    if (c->lssar_power == 0) c->lssar_power = 15;
    if (c->lssar_power < 1 || c->lssar_power > 64) return lmc_errf(err, LMC_EINVAL, "lssar_power %d out of range (1..64)", c->lssar_power);
    if (c->attention != GPT2_ATTN_SOFTMAX && c->position == GPT2_POS_ALIBI)
        return lmc_errf(err, LMC_EINVAL, "ALiBi adds to softmax logits; it is not defined for LSSA/LSSAR attention");
    if (c->n_kv_head == 0) c->n_kv_head = c->n_head;
    if (c->n_kv_head < 0 || c->n_kv_head > c->n_head || c->n_head % c->n_kv_head)
        return lmc_errf(err, LMC_EINVAL, "n_kv_head %d must divide n_head %d", c->n_kv_head, c->n_head);
    if (c->position == GPT2_POS_ROPE && (c->d_model / c->n_head) % 2)
        return lmc_errf(err, LMC_EINVAL, "RoPE needs an even head size (d_model / n_head = %d)", c->d_model / c->n_head);
    if (c->d_ff == 0) c->d_ff = gpt2_default_d_ff(c->d_model, c->mlp);
    if (c->d_ff < 0 || c->d_ff > 1 << 20) return lmc_errf(err, LMC_EINVAL, "d_ff %d out of range (1..1048576)", c->d_ff);
    if (c->rope_theta == 0.0f) c->rope_theta = 10000.0f;
    if (!(c->rope_theta > 1.0f) || !isfinite(c->rope_theta)) return lmc_errf(err, LMC_EINVAL, "rope_theta %g must be > 1", c->rope_theta);
    int vp = (c->vocab_size + 127) / 128 * 128;
    if (c->padded_vocab == 0) c->padded_vocab = vp;
    if (c->padded_vocab < c->vocab_size) return lmc_errf(err, LMC_EINVAL, "padded_vocab %d < vocab_size %d", c->padded_vocab, c->vocab_size);
    if (c->ln_eps == 0.0f) c->ln_eps = 1e-5f;
    int rc_sw = gpt2_switches_check(c, err);
    if (rc_sw) return rc_sw;
    if ((rc_sw = gpt2_docmask_check(c, err))) return rc_sw;
    if (!(c->ln_eps > 0.0f) || !isfinite(c->ln_eps)) return lmc_errf(err, LMC_EINVAL, "layer_norm_epsilon must be positive");
    /* keep every element count of one tensor and of the activations well inside size_t and int */
    double d = c->d_model, ff = (double)c->d_ff * (c->mlp == GPT2_MLP_SWIGLU ? 3 : 2);
    double total = (double)c->padded_vocab * d * (c->untied ? 2 : 1) + (double)c->max_seq * d
                 + (double)c->n_layer * (4.0 * d * d + ff * d + 13.0 * d + 3.0 * c->d_ff);
    if (total > 4e10) return lmc_errf(err, LMC_EINVAL, "model too large (%.3g parameters)", total);
    if (d * 2 * c->d_ff > 2e9 || (double)c->padded_vocab * c->d_model > 2e9)
        return lmc_errf(err, LMC_EINVAL, "a single tensor would exceed 2^31 elements");
    return 0;
}

/* Which optional tensors a variant has. */
static int lin_bias(const gpt2_config *c) { return !c->no_bias; }
static int qkv_bias(const gpt2_config *c) { return !c->no_bias || c->qkv_bias; }
static int norm_bias(const gpt2_config *c) { return c->norm == GPT2_NORM_LAYERNORM && !c->no_bias; }
static int qkv_width(const gpt2_config *c) { return (c->n_head + 2 * c->n_kv_head) * (c->d_model / c->n_head); }
static int fc_width(const gpt2_config *c) { return c->mlp == GPT2_MLP_SWIGLU ? 2 * c->d_ff : c->d_ff; }

size_t gpt2_param_count(const gpt2_config *c_in) {
    gpt2_config c = *c_in;
    if (!c.n_kv_head) c.n_kv_head = c.n_head;
    if (!c.d_ff) c.d_ff = gpt2_default_d_ff(c.d_model, c.mlp);
    size_t d = (size_t)c.d_model, Q = (size_t)qkv_width(&c), FC = (size_t)fc_width(&c), F = (size_t)c.d_ff;
    size_t nb = norm_bias(&c) ? d : 0, lb = lin_bias(&c) ? 1 : 0;
    size_t layer = (c.qk_norm ? 2 * (d / (size_t)c.n_head) : 0) + 2 * (d + nb) + d * Q + (qkv_bias(&c) ? Q : 0) + d * d + lb * d + d * FC + lb * FC + F * d + lb * d;
    return (size_t)c.vocab_size * d * (c.untied ? 2 : 1) + (c.position == GPT2_POS_LEARNED ? (size_t)c.max_seq * d : 0)
         + d + nb + (size_t)c.n_layer * layer + gpt2_switches_param_count(&c);
}

double gpt2_flops_per_token(const gpt2_config *c_in, int T) {
    gpt2_config c = *c_in;
    if (!c.n_kv_head) c.n_kv_head = c.n_head;
    if (!c.d_ff) c.d_ff = gpt2_default_d_ff(c.d_model, c.mlp);
    double d = c.d_model, L = c.n_layer, hd = (double)c.d_model / c.n_head;
    double mlp = (c.mlp == GPT2_MLP_SWIGLU ? 3.0 : 2.0) * d * c.d_ff;
    double per_layer = d * qkv_width(&c) + c.n_head * hd * d + mlp;
    return 6.0 * (L * per_layer + d * c.vocab_size * (1.0 + c.mtp_heads)) + 12.0 * L * c.n_head * hd * T;
}

static void add_view(gpt2_model *m, size_t *off, const char *name, int ndim, int64_t s0, int64_t s1,
                     size_t alloc_numel, int decay) {
    gpt2_view *v = &m->views[m->n_views++];
    snprintf(v->name, sizeof v->name, "%s", name);
    v->ndim = ndim;
    v->shape[0] = s0;
    v->shape[1] = ndim == 2 ? s1 : 0;
    v->numel = (size_t)s0 * (size_t)(ndim == 2 ? s1 : 1);
    v->offset = *off;
    v->decay = decay;
    size_t n = alloc_numel ? alloc_numel : v->numel;
    *off += (n + ALIGN_FLOATS - 1) / ALIGN_FLOATS * ALIGN_FLOATS;
}

int gpt2_create(gpt2_model **out, const gpt2_config *cfg_in, lmc_err *err) {
    *out = NULL;
    gpt2_config cfg = *cfg_in;
    if (gpt2_config_check(&cfg, err)) return err ? err->code : LMC_EINVAL;
    gpt2_model *m = (gpt2_model *)lmc_alloc(sizeof *m, err);
    if (!m) return LMC_ENOMEM;
    m->cfg = cfg;
    m->loss = -1.0f;
    m->bos_id = m->eos_id = -1;
    int L = cfg.n_layer;
    int64_t C = cfg.d_model, Q = qkv_width(&cfg), FC = fc_width(&cfg), F = cfg.d_ff;
    m->views = (gpt2_view *)lmc_alloc_array((size_t)L * GPT2_LAYER_VIEWS + 7 + (size_t)L * 5 + GPT2_MTP_MAX, sizeof(gpt2_view), err);
    m->layer_views = (int *)lmc_alloc_array((size_t)L * GPT2_LAYER_VIEWS, sizeof(int), err);
    if (!m->views || !m->layer_views) { gpt2_free(m); return LMC_ENOMEM; }
    size_t off = 0;
    char nm[40];
    const int lb = lin_bias(&cfg), nb = norm_bias(&cfg), qb = qkv_bias(&cfg);
    m->wte_view = m->n_views;
    add_view(m, &off, "wte.weight", 2, cfg.vocab_size, C, (size_t)cfg.padded_vocab * C, 1);
    m->wpe_view = -1;
    if (cfg.position == GPT2_POS_LEARNED) {
        m->wpe_view = m->n_views;
        add_view(m, &off, "wpe.weight", 2, cfg.max_seq, C, 0, 1);
    }
    /* GPT-2's view order (the RNG stream of gpt2_init_random follows it); absent tensors are skipped */
    for (int l = 0; l < L; l++) {
        int *lv = m->layer_views + (size_t)l * GPT2_LAYER_VIEWS;
        int slot = 0;
#define V1(on, suffix, n) do { lv[slot++] = (on) ? m->n_views : -1; if (on) { \
        snprintf(nm, sizeof nm, "h.%d." suffix, l & 0xfffff); add_view(m, &off, nm, 1, n, 0, 0, 0); } } while (0)
#define V2(suffix, a, b) do { lv[slot++] = m->n_views; \
        snprintf(nm, sizeof nm, "h.%d." suffix, l & 0xfffff); add_view(m, &off, nm, 2, a, b, 0, 1); } while (0)
        V1(1, "ln_1.weight", C); V1(nb, "ln_1.bias", C);
        V2("attn.c_attn.weight", C, Q); V1(qb, "attn.c_attn.bias", Q);
        V2("attn.c_proj.weight", C, C); V1(lb, "attn.c_proj.bias", C);
        V1(1, "ln_2.weight", C); V1(nb, "ln_2.bias", C);
        V2("mlp.c_fc.weight", C, FC); V1(lb, "mlp.c_fc.bias", FC);
        V2("mlp.c_proj.weight", F, C); V1(lb, "mlp.c_proj.bias", C);
        V1(cfg.qk_norm, "attn.q_norm.weight", C / cfg.n_head); V1(cfg.qk_norm, "attn.k_norm.weight", C / cfg.n_head);
#undef V1
#undef V2
    }
    m->lnf_w_view = m->n_views;
    add_view(m, &off, "ln_f.weight", 1, C, 0, 0, 0);
    m->lnf_b_view = -1;
    if (nb) {
        m->lnf_b_view = m->n_views;
        add_view(m, &off, "ln_f.bias", 1, C, 0, 0, 0);
    }
    m->head_view = -1;
    if (cfg.untied) {
        m->head_view = m->n_views;
        add_view(m, &off, "lm_head.weight", 2, cfg.vocab_size, C, (size_t)cfg.padded_vocab * C, 1);
    }
    /* research switches: the learnable activation's coefficients per layer (no weight decay), then the
     * extra multi-token heads [V, d] (padded rows like wte) */
    m->act_views = (int *)lmc_alloc_array((size_t)L, sizeof(int), err);
    if (!m->act_views) { gpt2_free(m); return LMC_ENOMEM; }
    for (int l = 0; l < L; l++) {
        m->act_views[l] = -1;
        if (!cfg.act) continue;
        m->act_views[l] = m->n_views;
        snprintf(nm, sizeof nm, "h.%d.mlp.act.coef", l & 0xfffff);
        add_view(m, &off, nm, 1, k_act_ncoef(cfg.act, cfg.act_degree), 0, 0, 0);
    }
    m->mtp_view0 = cfg.mtp_heads ? m->n_views : -1;
    for (int i = 1; i <= cfg.mtp_heads; i++) {
        snprintf(nm, sizeof nm, "mtp.%d.weight", i);
        add_view(m, &off, nm, 2, cfg.vocab_size, C, (size_t)cfg.padded_vocab * C, 1);
    }
    m->mtp_active = cfg.mtp_heads;
    m->ngpt_view0 = cfg.normalized ? m->n_views : -1;  /* nGPT's / anGPT's scalars (no weight decay) */
    const int an = cfg.normalized == GPT2_NORMALIZED_ANGPT;
    for (int l = 0; cfg.normalized && l <= L; l++) {
        static const char *const nn[4] = {"alpha_attn", "alpha_mlp", "sqk", "suv"};
        for (int k = 0; k < (l < L ? (an ? 2 : 4) : 0); k++) {
            snprintf(nm, sizeof nm, "h.%d.%s.%s", l & 0xfffff, an ? "angpt" : "ngpt", nn[k]);
            add_view(m, &off, nm, 1, k == 3 ? 2 * F : C, 0, 0, 0);
        }
        if (l == L) add_view(m, &off, an ? "angpt.sz" : "ngpt.sz", 1, cfg.vocab_size, 0, (size_t)cfg.padded_vocab, 0);
    }
    m->n_floats = off;
    m->params = (float *)lmc_alloc_array(off, sizeof(float), err);
    if (!m->params) { gpt2_free(m); return LMC_ENOMEM; }
    m->wte = m->params + m->views[m->wte_view].offset;
    m->wpe = m->wpe_view >= 0 ? m->params + m->views[m->wpe_view].offset : NULL;
    m->lnf_w = m->params + m->views[m->lnf_w_view].offset;
    m->lnf_b = m->lnf_b_view >= 0 ? m->params + m->views[m->lnf_b_view].offset : NULL;
    m->lm_head = m->head_view >= 0 ? m->params + m->views[m->head_view].offset : m->wte;
    if (cfg.position == GPT2_POS_ROPE) {
        int hd = cfg.d_model / cfg.n_head;
        size_t n = (size_t)cfg.max_seq * (size_t)(hd / 2);
        m->rope_cos = (float *)lmc_alloc_array(n, sizeof(float), err);
        m->rope_sin = (float *)lmc_alloc_array(n, sizeof(float), err);
        if (!m->rope_cos || !m->rope_sin) { gpt2_free(m); return LMC_ENOMEM; }
        k_rope_table(m->rope_cos, m->rope_sin, cfg.max_seq, hd, cfg.rope_theta);
    }
    if (cfg.position == GPT2_POS_ALIBI) {
        m->alibi = (float *)lmc_alloc_array((size_t)cfg.n_head, sizeof(float), err);
        if (!m->alibi) { gpt2_free(m); return LMC_ENOMEM; }
        k_alibi_slopes(m->alibi, cfg.n_head);
    }
    if (cfg.normalized == GPT2_NORMALIZED_ANGPT && gpt2_angpt_setup(m, err)) { gpt2_free(m); return LMC_ENOMEM; }
    *out = m;
    return 0;
}

int gpt2_enable_training(gpt2_model *m, lmc_err *err) {
    if (!m->grads) m->grads = (float *)lmc_alloc_array(m->n_floats, sizeof(float), err);
    if (!m->m) m->m = (float *)lmc_alloc_array(m->n_floats, sizeof(float), err);
    if (!m->v) m->v = (float *)lmc_alloc_array(m->n_floats, sizeof(float), err);
    return m->grads && m->m && m->v ? 0 : LMC_ENOMEM;
}

static void acts_free(gpt2_acts *a) {
    if (!a) return;
    lmc_free(a->logits);
    lmc_free(a->buf);
    lmc_free(a);
}

void gpt2_free(gpt2_model *m) {
    if (!m) return;
    lmc_free(m->params);
    lmc_free(m->grads);
    lmc_free(m->m);
    lmc_free(m->v);
    lmc_free(m->views);
    lmc_free(m->layer_views);
    lmc_free(m->rope_cos);
    lmc_free(m->rope_sin);
    lmc_free(m->alibi);
    lmc_free(m->act_views);
    gpt2_mtp_free(m);
    gpt2_ngpt_free(m);
    lmc_free(m->angpt_nu);
    acts_free(m->acts);
    lmc_free(m);
}

gpt2_layer gpt2_layer_ptrs(const gpt2_model *m, float *buf, int l) {
    const int *lv = m->layer_views + (size_t)l * GPT2_LAYER_VIEWS;
    float *p[GPT2_LAYER_VIEWS];
    for (int i = 0; i < GPT2_LAYER_VIEWS; i++) p[i] = lv[i] >= 0 ? buf + m->views[lv[i]].offset : NULL;
    gpt2_layer r;
    r.ln1_w = p[0];    r.ln1_b = p[1];
    r.qkv_w = p[2];    r.qkv_b = p[3];
    r.proj_w = p[4];   r.proj_b = p[5];
    r.ln2_w = p[6];    r.ln2_b = p[7];
    r.fc_w = p[8];     r.fc_b = p[9];
    r.fcproj_w = p[10]; r.fcproj_b = p[11];
    r.qn_w = p[12];    r.kn_w = p[13];
    return r;
}

const float *gpt2_attn_out(const gpt2_model *m, int l) {
    const gpt2_acts *a = m->acts;
    if (!a || l < 0 || l >= m->cfg.n_layer || (a->kept != m->cfg.n_layer && l > 0) || !m->grads) return NULL;
    return a->atty + (size_t)l * (size_t)m->B * (size_t)m->T * (size_t)m->cfg.d_model;
}

const float *gpt2_final_features(const gpt2_model *m) { return m->acts ? m->acts->lnf : NULL; }

const gpt2_view *gpt2_find_view(const gpt2_model *m, const char *name) {
    if (strncmp(name, "transformer.", 12) == 0) name += 12;
    for (int i = 0; i < m->n_views; i++)
        if (strcmp(m->views[i].name, name) == 0) return &m->views[i];
    return NULL;
}

static int ends_with(const char *s, const char *suf) {
    size_t n = strlen(s), k = strlen(suf);
    return n >= k && strcmp(s + n - k, suf) == 0;
}

void gpt2_init_random(gpt2_model *m, uint64_t seed) {
    lmc_rng rng;
    lmc_rng_init(&rng, seed);
    memset(m->params, 0, m->n_floats * sizeof(float));
    lmc_kernels_weights_changed();
    float resid_std = 0.02f / sqrtf(2.0f * (float)m->cfg.n_layer);
    for (int i = 0; i < m->n_views; i++) {
        const gpt2_view *v = &m->views[i];
        float *p = m->params + v->offset;
        if (v->ndim == 2) {
            /* LNS: no depth-scaled init (the paper: LNS with scaled init trains worse) */
            float sd = m->cfg.arch == GPT2_ARCH_GPT2 && m->cfg.depth_scaling != GPT2_DEPTH_LNS &&
                       (ends_with(v->name, "attn.c_proj.weight") || ends_with(v->name, "mlp.c_proj.weight"))
                       ? resid_std : 0.02f;
            for (size_t j = 0; j < v->numel; j++) p[j] = sd * lmc_rng_normal(&rng);
        } else if (ends_with(v->name, ".weight")) {
            for (size_t j = 0; j < v->numel; j++) p[j] = 1.0f;
        }
    }
    for (int l = 0; l < m->cfg.n_layer; l++)  /* the activation's variance-preserving init */
        if (m->act_views[l] >= 0) k_act_init(m->cfg.act, m->cfg.act_degree, m->params + m->views[m->act_views[l]].offset);
    if (m->cfg.normalized) gpt2_ngpt_init(m);  /* scalars, and every matrix onto the unit sphere */
    m->step = 0;
}

/* ---- activations ---- */

static int acts_ensure(gpt2_model *m, size_t N, int kept, lmc_err *err) {
    gpt2_acts *a = m->acts;
    const int bf16 = lmc_kernels_get_precision() == LMC_PREC_BF16;
    const int mlp16 = bf16 && m->cfg.mlp == GPT2_MLP_GELU && !m->cfg.act;
    if (a && a->cap_N >= N && a->kept == kept && a->bf16 == bf16 && (a->chunk_rows || !m->grads)) return 0;
    if (a) { acts_free(a); m->acts = NULL; }
    a = (gpt2_acts *)lmc_alloc(sizeof *a, err);
    if (!a) return LMC_ENOMEM;
    a->kept = kept;
    const size_t L = (size_t)kept, C = (size_t)m->cfg.d_model, NH = (size_t)m->cfg.n_head;
    const size_t Vp = (size_t)m->cfg.padded_vocab, Q = (size_t)qkv_width(&m->cfg);
    const size_t FC = (size_t)fc_width(&m->cfg), F = (size_t)m->cfg.d_ff, BIG = Q > FC ? Q : FC;
    const size_t MID = m->cfg.mlp == GPT2_MLP_SWIGLU ? N * F : 0;
    /* sizes in floats, each rounded to 16 floats */
    struct { float **p; size_t n; } parts[] = {
        {&a->res, (L + 1) * N * C},  /* inference: L = 1 -> two alternating residual slots */ {&a->ln1, bf16 ? 0 : L * N * C},
        {(float **)&a->ln1_16, bf16 ? (L * N * C + 1) / 2 : 0}, {(float **)&a->ln2_16, bf16 ? (L * N * C + 1) / 2 : 0},
        {&a->ln_tmp, bf16 ? N * C : 0}, {&a->ln1_mean, L * N}, {&a->ln1_rstd, L * N},
        {&a->qkv, L * N * Q}, {&a->atty, L * N * C}, {&a->lse, L * N * NH}, {&a->res_mid, L * N * C},
        {&a->ln2, bf16 ? 0 : L * N * C}, {&a->ln2_mean, L * N}, {&a->ln2_rstd, L * N}, {&a->fch, mlp16 ? 0 : L * N * FC}, {(float **)&a->fch16, mlp16 ? (L * N * FC + 1) / 2 : 0},
        {&a->fchg, mlp16 ? 0 : L * N * F}, {(float **)&a->fchg16, mlp16 ? (L * N * F + 1) / 2 : 0}, {&a->lnf, N * C}, {&a->lnf_mean, N}, {&a->lnf_rstd, N},
        {&a->head_chunk, m->grads ? head_chunk_rows(&m->cfg, N) * Vp : 0}, {&a->ce_lse, N}, {&a->losses, N},
        {&a->d_res, N * C}, {&a->d_small, N * C}, {&a->d_big, N * BIG}, {&a->d_mid, MID},
        {&a->qk_raw, m->cfg.qk_norm ? L * N * (Q - C / NH * m->cfg.n_kv_head) : 0},
        {&a->qk_rstd, m->cfg.qk_norm ? L * N * (NH + m->cfg.n_kv_head) : 0},
        {(float **)&a->inputs, N}, {(float **)&a->targets, N},
        {(float **)&a->docstart, m->cfg.doc_mask ? N : 0}, {(float **)&a->docpos, m->cfg.doc_mask ? N : 0},
    };
    size_t np = sizeof parts / sizeof parts[0], total = 0;
    for (size_t i = 0; i < np; i++) total += (parts[i].n + ALIGN_FLOATS - 1) / ALIGN_FLOATS * ALIGN_FLOATS;
    /* overflow guard: every part is < 2^62 for the sizes gpt2_config_check admits and N < 2^31 */
    a->buf = (float *)lmc_alloc_array(total, sizeof(float), err);
    if (!a->buf) { lmc_free(a); return LMC_ENOMEM; }
    size_t off = 0;
    for (size_t i = 0; i < np; i++) {
        *parts[i].p = a->buf + off;
        off += (parts[i].n + ALIGN_FLOATS - 1) / ALIGN_FLOATS * ALIGN_FLOATS;
    }
    a->cap_N = N;
    a->bf16 = bf16;
    a->mlp16 = mlp16;
    a->chunk_rows = m->grads ? head_chunk_rows(&m->cfg, N) : 0;   /* 0: no head_chunk */
    m->acts = a;
    return 0;
}

/* The full cap_N x Vp logits buffer, allocated the first time a forward has to hand logits out (a
 * larger N reallocates the whole activation struct, this buffer with it). */
static float *acts_logits(gpt2_model *m, lmc_err *err) {
    gpt2_acts *a = m->acts;
    if (!a->logits) a->logits = (float *)lmc_alloc_array(a->cap_N * (size_t)m->cfg.padded_vocab, sizeof(float), err);
    return a->logits;
}

#ifdef LMC_PROF_CPU_TIME
/* bench-only build option: process CPU time instead of wall time (robust on a loaded machine, 1 thread) */
#include <time.h>
static double prof_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
#define lmc_now prof_now
#endif
#define PROF_BEGIN double t0_ = m->profile ? lmc_now() : 0.0
#define PROF(k) do { if (m->profile) { double t1_ = lmc_now(); m->prof_s[k] += t1_ - t0_; t0_ = t1_; } } while (0)

/* The norm switch: LayerNorm keeps mean and rstd, RMSNorm only rstd. */
static void norm_fwd(const gpt2_config *c, float *out, float *mean, float *rstd, const float *x, const float *w,
                     const float *b, size_t N) {
    if (c->norm == GPT2_NORM_RMSNORM) k_rmsnorm_fwd(out, rstd, x, w, N, c->d_model, c->ln_eps);
    else k_layernorm_fwd(out, mean, rstd, x, w, b, N, c->d_model, c->ln_eps);
}
static void norm_bwd(const gpt2_config *c, float *dx, float *dw, float *db, const float *dout, const float *x,
                     const float *w, const float *mean, const float *rstd, size_t N) {
    if (c->norm == GPT2_NORM_RMSNORM) k_rmsnorm_bwd(dx, dw, dout, x, w, rstd, N, c->d_model);
    else k_layernorm_bwd(dx, dw, db, dout, x, w, mean, rstd, N, c->d_model);
}

int gpt2_forward(gpt2_model *m, const int32_t *inputs, const int32_t *targets, int B, int T,
                 float *loss_out, lmc_err *err) {
    const gpt2_config *c = &m->cfg;
    if (B <= 0 || T <= 0) return lmc_errf(err, LMC_EINVAL, "forward: B=%d and T=%d must be positive", B, T);
    if (T > c->max_seq) return lmc_errf(err, LMC_EINVAL, "forward: sequence length %d exceeds the model's n_positions %d", T, c->max_seq);
    const int Q = qkv_width(c), FC = fc_width(c), F = c->d_ff;
    const int widest = c->padded_vocab > Q && c->padded_vocab > FC ? c->padded_vocab : (Q > FC ? Q : FC);
    if ((double)B * T * widest > 9e15 || (double)B * T > 2e9)
        return lmc_errf(err, LMC_EINVAL, "forward: batch %d x %d too large", B, T);
    const size_t N = (size_t)B * T;
    /* bf16 mode: the GEMMs' bf16 weight copies are re-rounded from the fp32 weights once per forward
     * (forward and backward share them), whoever changed the weights since. */
    lmc_kernels_weights_changed();
    for (size_t i = 0; i < N; i++)
        if (inputs[i] < 0 || inputs[i] >= c->vocab_size)
            return lmc_errf(err, LMC_EINVAL, "forward: input token %d at position %zu is outside [0, %d)", inputs[i], i, c->vocab_size);
    if (targets)
        for (size_t i = 0; i < N; i++)
            if (targets[i] >= c->vocab_size)
                return lmc_errf(err, LMC_EINVAL, "forward: target token %d at position %zu is outside [0, %d)", targets[i], i, c->vocab_size);
    if (c->normalized) {  /* nGPT has its own forward (src/model/ngpt.c) */
        int rn = gpt2_ngpt_forward(m, inputs, targets, B, T, err);
        if (!rn && loss_out) *loss_out = m->loss;
        return rn;
    }
    /* Without training state nothing will run backward: keep one layer's activations, not all. */
    int rc = acts_ensure(m, N, m->grads ? c->n_layer : 1, err);
    if (rc) return rc;
    gpt2_acts *a = m->acts;
    const int L = c->n_layer, NH = c->n_head, KV = c->n_kv_head, C = c->d_model, Vp = c->padded_vocab;
    const int hd = C / NH;
    memcpy(a->inputs, inputs, N * sizeof(int32_t));
    a->has_targets = targets != NULL;
    if (targets) memcpy(a->targets, targets, N * sizeof(int32_t));
    m->B = B;
    m->T = T;

    PROF_BEGIN;
    /* doc_mask: document starts and restarted positions, once per forward (backward reuses them) */
    const int32_t *ds = c->doc_mask ? a->docstart : NULL, *dpos = c->doc_mask ? a->docpos : NULL;
    if (ds) gpt2_doc_starts(inputs, B, T, c->doc_sep_id, a->docstart, a->docpos);
    if (m->wpe && dpos) k_encoder_fwd_pos(a->res, inputs, dpos, m->wte, m->wpe, N, C);
    else if (m->wpe) k_encoder_fwd(a->res, inputs, m->wte, m->wpe, B, T, C);
    else k_embed_fwd(a->res, inputs, m->wte, N, C);
    PROF(GPT2_PROF_ENCODER);
    for (int l = 0; l < L; l++) {
        gpt2_layer p = gpt2_layer_ptrs(m, m->params, l);
        const size_t s = a->kept == 1 ? 0 : (size_t)l;  /* activation slot */
        const size_t r0 = a->kept == 1 ? (size_t)(l & 1) : (size_t)l, r1 = a->kept == 1 ? (size_t)((l + 1) & 1) : (size_t)l + 1;
        const float *x = a->res + r0 * N * C;
        float *ln1 = a->bf16 ? a->ln_tmp : a->ln1 + s * N * C, *qkv = a->qkv + s * N * Q;
        float *atty = a->atty + s * N * C, *lse = a->lse + s * N * NH;
        float *mid = a->res_mid + s * N * C, *ln2 = a->bf16 ? a->ln_tmp : a->ln2 + s * N * C;
        float *fch = a->mlp16 ? a->d_big : a->fch + s * N * FC, *fchg = a->mlp16 ? NULL : a->fchg + s * N * F;
        float *y = a->res + r1 * N * C;
        norm_fwd(c, ln1, a->ln1_mean + s * N, a->ln1_rstd + s * N, x, p.ln1_w, p.ln1_b, N);
        if (gpt2_lns_scale(c, l) != 1.0f) k_scale(ln1, gpt2_lns_scale(c, l), N * (size_t)C);
        PROF(GPT2_PROF_LAYERNORM);
        if (a->bf16) {
            k_f32_to_bf16_rows(a->ln1_16 + s * N * C, ln1, (int)N, C, C);
            k_matmul_fwd_bf16in(qkv, NULL, a->ln1_16 + s * N * C, p.qkv_w, p.qkv_b, N, C, Q);
        } else k_matmul_fwd(qkv, ln1, p.qkv_w, p.qkv_b, N, C, Q);
        PROF(GPT2_PROF_MATMUL);
        if (c->qk_norm)
            k_qknorm_fwd(qkv, a->qk_raw + s * N * (NH + KV) * hd, a->qk_rstd + s * N * (NH + KV), p.qn_w, p.kn_w, N,
                         (size_t)Q, NH, KV, hd, c->ln_eps);
        if (m->attn_probe) m->attn_probe(m->attn_probe_ctx, l, x, qkv, B, T);
        /* RoPE rotates the q and k heads (adjacent columns) in place; attention sees rotated q, k */
        if (m->rope_cos && dpos) k_rope_apply_pos(qkv, (size_t)Q, N, dpos, 0, NH + KV, hd, m->rope_cos, m->rope_sin, 0);
        else if (m->rope_cos) k_rope_apply(qkv, (size_t)Q, B, T, 0, 0, NH + KV, hd, m->rope_cos, m->rope_sin, 0);
        if ((rc = c->attention == GPT2_ATTN_SOFTMAX ? k_attention_fwd_doc(atty, lse, qkv, B, T, NH, KV, hd, m->alibi, ds)
                  : k_attention_lssa_fwd_doc(atty, qkv, B, T, NH, KV, hd,
                                             c->attention == GPT2_ATTN_LSSAR ? c->lssar_power : 0, ds)))
            return lmc_errf(err, rc, "forward: out of memory in attention");
        if (m->head_mask)
            for (int h = 0; h < NH; h++)
                if (m->head_mask[(size_t)l * NH + h])
                    for (size_t n = 0; n < N; n++) memset(atty + n * C + (size_t)h * hd, 0, (size_t)hd * sizeof(float));
        PROF(GPT2_PROF_ATTENTION);
        k_matmul_fwd_res(mid, x, atty, p.proj_w, p.proj_b, N, C, C);
        PROF(GPT2_PROF_MATMUL);
        norm_fwd(c, ln2, a->ln2_mean + s * N, a->ln2_rstd + s * N, mid, p.ln2_w, p.ln2_b, N);
        if (gpt2_lns_scale(c, l) != 1.0f) k_scale(ln2, gpt2_lns_scale(c, l), N * (size_t)C);
        PROF(GPT2_PROF_LAYERNORM);
        if (a->bf16) {
            k_f32_to_bf16_rows(a->ln2_16 + s * N * C, ln2, (int)N, C, C);
            k_matmul_fwd_bf16in(fch, NULL, a->ln2_16 + s * N * C, p.fc_w, p.fc_b, N, C, FC);
        } else k_matmul_fwd(fch, ln2, p.fc_w, p.fc_b, N, C, FC);
        PROF(GPT2_PROF_MATMUL);
        if (c->mlp == GPT2_MLP_SWIGLU) k_swiglu_fwd(fchg, fch, N, F);
        else if (c->act) k_act_fwd(c->act, c->act_degree, fchg, fch, gpt2_act_coef(m, m->params, l), N * (size_t)F);
        else if (a->mlp16) k_gelu_fwd_bf16(a->fchg16 + s * N * F, a->fch16 + s * N * F, fch, N * (size_t)F);
        else k_gelu_fwd(fchg, fch, N * (size_t)F);
        PROF(GPT2_PROF_GELU);
        if (a->mlp16) k_matmul_fwd_bf16in(y, mid, a->fchg16 + s * N * F, p.fcproj_w, p.fcproj_b, N, F, C);
        else k_matmul_fwd_res(y, mid, fchg, p.fcproj_w, p.fcproj_b, N, F, C);
        PROF(GPT2_PROF_MATMUL);
    }
    const size_t rL = a->kept == 1 ? (size_t)(L & 1) : (size_t)L;
    norm_fwd(c, a->lnf, a->lnf_mean, a->lnf_rstd, a->res + rL * N * C, m->lnf_w, m->lnf_b, N);
    PROF(GPT2_PROF_LAYERNORM);
    /* The head (and, with targets, the loss rows) over row chunks: all N rows at once when logits are
     * handed out, chunk_rows at a time through head_chunk in a loss-only training forward. */
    a->head_chunked = targets && m->loss_only && a->chunk_rows;
    size_t R = a->head_chunked ? a->chunk_rows : N;
    float *lg = a->head_chunked || a->chunk_rows >= N ? a->head_chunk : acts_logits(m, err);
    if (!lg) return LMC_ENOMEM;
    m->logits = a->head_chunked ? NULL : lg;
    int64_t cnt = 0;   /* positions with a real target: the loss's denominator */
    if (targets)
        for (size_t n = 0; n < N; n++) cnt += targets[n] >= 0;
    /* inside gpt2_forward_backward with several chunks: the head's backward too, while each chunk's
     * logits are there */
    a->head_done = a->head_chunked && R < N && m->head_fuse_scale > 0.0f && !c->mtp_heads;
    const float fuse_scale = cnt ? m->head_fuse_scale / (float)cnt : 0.0f;   /* as backward's loss_scale / n_targets */
    float *dhead = a->head_done ? head_grad(m) : NULL;
    for (size_t r0 = 0; r0 < N; r0 += R) {
        size_t n = N - r0 < R ? N - r0 : R;
        k_lmhead_fwd(lg, a->lnf + r0 * C, m->lm_head, n, C, Vp);
        PROF(GPT2_PROF_LMHEAD);
        if (targets)
            k_crossentropy_fwd(a->losses + r0, a->ce_lse + r0, lg, targets + r0, n, c->vocab_size, Vp, NULL, NULL);
        PROF(GPT2_PROF_XENT);
        if (a->head_done) {
            k_crossentropy_bwd_inplace(lg, a->ce_lse + r0, targets + r0, fuse_scale, n, c->vocab_size, Vp);
            PROF(GPT2_PROF_XENT);
            k_lmhead_bwd(a->d_small + r0 * C, dhead, lg, a->lnf + r0 * C, m->lm_head, n, C, Vp);
            PROF(GPT2_PROF_LMHEAD);
        }
    }
    if (targets) {
        double sum = 0.0;
        for (size_t n = 0; n < N; n++)  /* in row order, as k_crossentropy_fwd sums */
            if (targets[n] >= 0) sum += a->losses[n];
        PROF(GPT2_PROF_XENT);
        m->losses = a->losses;
        m->n_targets = cnt;
        m->loss = cnt ? (float)(sum / (double)cnt) : 0.0f;
        if ((rc = gpt2_mtp_forward(m, a->lnf, targets, B, T, err))) return rc;
    } else {
        m->losses = NULL;
        m->n_targets = 0;
        m->loss = -1.0f;
    }
    if (loss_out) *loss_out = m->loss;
    return 0;
}


int gpt2_backward(gpt2_model *m, float loss_scale, lmc_err *err) {
    gpt2_acts *a = m->acts;
    if (!m->grads) return lmc_errf(err, LMC_EINVAL, "backward: call gpt2_enable_training first");
    if (m->cfg.normalized) return gpt2_ngpt_backward(m, loss_scale, err);
    if (!a || !a->has_targets || !(m->logits || a->head_chunked))
        return lmc_errf(err, LMC_EINVAL, "backward: needs a forward pass with targets first");
    if (a->kept != m->cfg.n_layer)
        return lmc_errf(err, LMC_EINVAL, "backward: the last forward ran before gpt2_enable_training (no activations kept)");
    if (m->head_mask) return lmc_errf(err, LMC_EINVAL, "backward: head_mask (an ablation diagnostic) is forward-only");
    const gpt2_config *c = &m->cfg;
    const int B = m->B, T = m->T, L = c->n_layer, NH = c->n_head, KV = c->n_kv_head, C = c->d_model, Vp = c->padded_vocab;
    const int hd = C / NH, Q = qkv_width(c), FC = fc_width(c), F = c->d_ff;
    const size_t N = (size_t)B * T;
    float *g = m->grads;
    float *dwte = grad_of(m, m->wte_view), *dwpe = grad_of(m, m->wpe_view);
    float *dlnf_w = grad_of(m, m->lnf_w_view), *dlnf_b = grad_of(m, m->lnf_b_view);
    float *dhead = head_grad(m);
    float scale = m->n_targets ? loss_scale / (float)m->n_targets : 0.0f;
    const int32_t *ds = c->doc_mask ? a->docstart : NULL, *dpos = c->doc_mask ? a->docpos : NULL;
    int rc;

    PROF_BEGIN;
    {
        /* chunk by chunk (one chunk of all N rows after a forward that kept the logits): the chunk's
         * logits again unless they are still there, dlogits in place, then dx for the chunk's rows and
         * the chunk's share of the head gradient */
        const size_t R = a->head_chunked ? a->chunk_rows : N;
        float *lg = a->head_chunked ? a->head_chunk : m->logits;
        for (size_t r0 = a->head_done ? N : 0; r0 < N; r0 += R) {   /* head_done: the forward did it */
            size_t n = N - r0 < R ? N - r0 : R;
            if (R < N) k_lmhead_fwd(lg, a->lnf + r0 * C, m->lm_head, n, C, Vp);
            PROF(GPT2_PROF_LMHEAD);
            k_crossentropy_bwd_inplace(lg, a->ce_lse + r0, a->targets + r0, scale, n, c->vocab_size, Vp);
            PROF(GPT2_PROF_XENT);
            k_lmhead_bwd(a->d_small + r0 * C, dhead, lg, a->lnf + r0 * C, m->lm_head, n, C, Vp);
        }
        m->logits = NULL; /* now dlogits */
        a->head_chunked = 0;
        a->head_done = 0;
    }
    if ((rc = gpt2_mtp_backward(m, a->lnf, loss_scale, a->d_small, err))) return rc;
    PROF(GPT2_PROF_LMHEAD);
    memset(a->d_res, 0, N * C * sizeof(float));
    norm_bwd(c, a->d_res, dlnf_w, dlnf_b, a->d_small, a->res + (size_t)L * N * C, m->lnf_w,
             a->lnf_mean, a->lnf_rstd, N);
    PROF(GPT2_PROF_LAYERNORM);
    for (int l = L - 1; l >= 0; l--) {
        gpt2_layer p = gpt2_layer_ptrs(m, m->params, l);
        gpt2_layer dp = gpt2_layer_ptrs(m, g, l);
        const float *x = a->res + (size_t)l * N * C;
        const float *ln1 = a->bf16 ? NULL : a->ln1 + (size_t)l * N * C, *qkv = a->qkv + (size_t)l * N * Q;
        const float *atty = a->atty + (size_t)l * N * C, *lse = a->lse + (size_t)l * N * NH;
        const float *mid = a->res_mid + (size_t)l * N * C, *ln2 = a->bf16 ? NULL : a->ln2 + (size_t)l * N * C;
        const float *fch = a->mlp16 ? NULL : a->fch + (size_t)l * N * FC, *fchg = a->mlp16 ? NULL : a->fchg + (size_t)l * N * F;
        /* MLP: y = mid + fcproj(act(fc(ln2(mid)))) */
        float *dact = c->mlp == GPT2_MLP_SWIGLU ? a->d_mid : a->d_big;
        if (a->mlp16)
            k_matmul_bwd_bf16in(dact, dp.fcproj_w, dp.fcproj_b, a->d_res, a->fchg16 + (size_t)l * N * F, p.fcproj_w, N, F, C);
        else k_matmul_bwd(dact, dp.fcproj_w, dp.fcproj_b, a->d_res, fchg, p.fcproj_w, N, F, C);
        PROF(GPT2_PROF_MATMUL);
        if (c->mlp == GPT2_MLP_SWIGLU) k_swiglu_bwd(a->d_big, fch, a->d_mid, N, F);
        else if (c->act) k_act_bwd(c->act, c->act_degree, a->d_big, gpt2_act_coef(m, g, l), a->d_big, fch,
                                   gpt2_act_coef(m, m->params, l), N * (size_t)F);
        else if (a->mlp16) k_gelu_bwd_bf16x(a->d_big, a->fch16 + (size_t)l * N * F, a->d_big, N * (size_t)F);
        else k_gelu_bwd(a->d_big, fch, a->d_big, N * (size_t)F);
        PROF(GPT2_PROF_GELU);
        if (a->bf16) k_matmul_bwd_bf16in(a->d_small, dp.fc_w, dp.fc_b, a->d_big, a->ln2_16 + (size_t)l * N * C, p.fc_w, N, C, FC);
        else k_matmul_bwd(a->d_small, dp.fc_w, dp.fc_b, a->d_big, ln2, p.fc_w, N, C, FC);
        if (gpt2_lns_scale(c, l) != 1.0f) k_scale(a->d_small, gpt2_lns_scale(c, l), N * (size_t)C);
        PROF(GPT2_PROF_MATMUL);
        norm_bwd(c, a->d_res, dp.ln2_w, dp.ln2_b, a->d_small, mid, p.ln2_w,
                 a->ln2_mean + (size_t)l * N, a->ln2_rstd + (size_t)l * N, N);
        PROF(GPT2_PROF_LAYERNORM);
        /* attention: mid = x + proj(attn(rope(qkv(ln1(x))))) */
        k_matmul_bwd(a->d_small, dp.proj_w, dp.proj_b, a->d_res, atty, p.proj_w, N, C, C);
        PROF(GPT2_PROF_MATMUL);
        if ((rc = c->attention == GPT2_ATTN_SOFTMAX
                  ? k_attention_bwd_doc(a->d_big, a->d_small, qkv, atty, lse, B, T, NH, KV, hd, m->alibi, ds)
                  : k_attention_lssa_bwd_doc(a->d_big, a->d_small, qkv, B, T, NH, KV, hd,
                                             c->attention == GPT2_ATTN_LSSAR ? c->lssar_power : 0, ds)))
            return lmc_errf(err, rc, "backward: out of memory in attention");
        /* the rotation is orthogonal: its backward rotates the gradient back */
        if (m->rope_cos && dpos) k_rope_apply_pos(a->d_big, (size_t)Q, N, dpos, 0, NH + KV, hd, m->rope_cos, m->rope_sin, 1);
        else if (m->rope_cos) k_rope_apply(a->d_big, (size_t)Q, B, T, 0, 0, NH + KV, hd, m->rope_cos, m->rope_sin, 1);
        if (c->qk_norm)
            k_qknorm_bwd(a->d_big, dp.qn_w, dp.kn_w, a->qk_raw + (size_t)l * N * (NH + KV) * hd,
                         a->qk_rstd + (size_t)l * N * (NH + KV), p.qn_w, p.kn_w, N, (size_t)Q, NH, KV, hd);
        PROF(GPT2_PROF_ATTENTION);
        if (a->bf16) k_matmul_bwd_bf16in(a->d_small, dp.qkv_w, dp.qkv_b, a->d_big, a->ln1_16 + (size_t)l * N * C, p.qkv_w, N, C, Q);
        else k_matmul_bwd(a->d_small, dp.qkv_w, dp.qkv_b, a->d_big, ln1, p.qkv_w, N, C, Q);
        if (gpt2_lns_scale(c, l) != 1.0f) k_scale(a->d_small, gpt2_lns_scale(c, l), N * (size_t)C);
        PROF(GPT2_PROF_MATMUL);
        norm_bwd(c, a->d_res, dp.ln1_w, dp.ln1_b, a->d_small, x, p.ln1_w,
                 a->ln1_mean + (size_t)l * N, a->ln1_rstd + (size_t)l * N, N);
        PROF(GPT2_PROF_LAYERNORM);
    }
    if (dwpe && dpos) k_encoder_bwd_pos(dwte, dwpe, a->d_res, a->inputs, dpos, N, C);
    else if (dwpe) k_encoder_bwd(dwte, dwpe, a->d_res, a->inputs, B, T, C);
    else k_embed_bwd(dwte, a->d_res, a->inputs, N, C);
    PROF(GPT2_PROF_ENCODER);
    a->has_targets = 0; /* logits are gone: a second backward needs a new forward */
    return 0;
}

int gpt2_forward_backward(gpt2_model *m, const int32_t *inputs, const int32_t *targets, int B, int T,
                          float loss_scale, float *loss_out, lmc_err *err) {
    if (!m->grads) return lmc_errf(err, LMC_EINVAL, "forward_backward: call gpt2_enable_training first");
    if (!targets) return lmc_errf(err, LMC_EINVAL, "forward_backward: needs targets");
    m->head_fuse_scale = loss_scale > 0.0f ? loss_scale : 0.0f;
    int rc = gpt2_forward(m, inputs, targets, B, T, loss_out, err);
    m->head_fuse_scale = 0.0f;
    if (rc) {
        if (m->acts) m->acts->head_done = 0;
        return rc;
    }
    return gpt2_backward(m, loss_scale, err);
}

void gpt2_zero_grad(gpt2_model *m) {
    double t0 = m->profile ? lmc_now() : 0.0;
    if (m->grads) memset(m->grads, 0, m->n_floats * sizeof(float));
    if (m->profile) m->prof_s[GPT2_PROF_GRADS] += lmc_now() - t0;
}

double gpt2_grad_norm(const gpt2_model *m) {
    if (!m->grads) return 0.0;
    return sqrt(k_sumsq(m->grads, m->n_floats));
}

double gpt2_clip_grad(gpt2_model *m, double max_norm) {
    double t0 = m->profile ? lmc_now() : 0.0;
    double norm = gpt2_grad_norm(m);
    if (max_norm > 0.0) {
        double coef = max_norm / (norm + 1e-6);
        if (coef < 1.0) k_scale(m->grads, (float)coef, m->n_floats);
    }
    if (m->profile) m->prof_s[GPT2_PROF_GRADS] += lmc_now() - t0;
    return norm;
}

int gpt2_adamw_step(gpt2_model *m, const gpt2_adamw *hp, lmc_err *err) {
    if (!m->grads || !m->m || !m->v) return lmc_errf(err, LMC_EINVAL, "adamw: call gpt2_enable_training first");
    if (!(hp->lr >= 0.0f) || !(hp->beta1 >= 0.0f && hp->beta1 < 1.0f) || !(hp->beta2 >= 0.0f && hp->beta2 < 1.0f) ||
        !(hp->eps >= 0.0f) || !(hp->weight_decay >= 0.0f))
        return lmc_errf(err, LMC_EINVAL, "adamw: hyperparameters out of range (lr %g, betas %g %g, eps %g, wd %g)",
                        hp->lr, hp->beta1, hp->beta2, hp->eps, hp->weight_decay);
    double t0_ = m->profile ? lmc_now() : 0.0;
    m->step++;
    double bc1 = 1.0 - pow((double)hp->beta1, (double)m->step);
    double bc2 = 1.0 - pow((double)hp->beta2, (double)m->step);
    /* one parallel region for all tensors (no barrier between them): fewer thread wake-ups */
#pragma omp parallel
    for (int i = 0; i < m->n_views; i++) {
        if (gpt2_view_frozen(m, i)) continue;  /* an inactive MTP head: no loss, so no update (as grad None) */
        const gpt2_view *v = &m->views[i];
        size_t o = v->offset;
        optim_adamw_team(m->params + o, m->grads + o, m->m + o, m->v + o, v->numel, hp->lr, hp->beta1, hp->beta2,
                         hp->eps, v->decay ? hp->weight_decay : 0.0f, bc1, bc2);
    }
    if (m->cfg.normalized) gpt2_ngpt_project(m);  /* nGPT: matrices back onto the unit sphere */
    lmc_kernels_weights_changed();
    if (m->profile) m->prof_s[GPT2_PROF_OPTIM] += lmc_now() - t0_;
    return 0;
}

const float *gpt2_residual(const gpt2_model *m, int l) {
    if (m->cfg.normalized == GPT2_NORMALIZED_ANGPT) return m->grads ? gpt2_angpt_hidden(m, l) : NULL;
    const gpt2_acts *a = m->acts;
    if (!a || a->kept != m->cfg.n_layer || l < 0 || l > m->cfg.n_layer || m->B <= 0) return NULL;
    return a->res + (size_t)l * (size_t)m->B * (size_t)m->T * (size_t)m->cfg.d_model;
}
