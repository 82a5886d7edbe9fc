/* KV-cache decoding and sampling for the model family. The per-token pass mirrors gpt2_forward's math
 * one row at a time with the model's own kernels (norms, matmul, RoPE at the row's position, GQA
 * decode over n_kv_head cached heads, GELU/SwiGLU), so the two agree to rounding;
 * tests/gen/test_gen checks it against full recomputation for GPT-2 and the Llama variants. */
#include "gen/gen.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "base/mem.h"
#include "kernels/cpu/kernels.h"
#include "kernels/cpu/attn_switch.h"
#include "kernels/cpu/activations.h"
#include "model/switches.h"

int gen_kv_init(gen_kv *kv, const gpt2_model *m, int max_len, lmc_err *err) {
    lmc_kernels_weights_changed();   /* a new generation reads the current weights (bf16 copies re-rounded) */
    memset(kv, 0, sizeof *kv);
    const gpt2_config *c = &m->cfg;
    if (max_len < 1 || max_len > c->max_seq) max_len = c->max_seq;
    kv->n_layer = c->n_layer;
    kv->C = c->d_model;
    kv->max_len = max_len;
    const size_t C = (size_t)c->d_model, hd = C / (size_t)c->n_head;
    kv->kvw = (int)((size_t)c->n_kv_head * hd);
    const size_t Q = (size_t)(c->n_head + 2 * c->n_kv_head) * hd;
    const size_t FC = (size_t)c->d_ff * (c->mlp == GPT2_MLP_SWIGLU ? 2 : 1);
    size_t cache = (size_t)c->n_layer * (size_t)max_len * (size_t)kv->kvw;
    kv->k = lmc_alloc_array(cache, sizeof(float), err);
    kv->v = lmc_alloc_array(cache, sizeof(float), err);
    kv->x = lmc_alloc_array(C, sizeof(float), err);
    kv->h = lmc_alloc_array(C, sizeof(float), err);
    kv->qkv = lmc_alloc_array(Q, sizeof(float), err);
    kv->att = lmc_alloc_array(C, sizeof(float), err);
    kv->fc = lmc_alloc_array(FC, sizeof(float), err);
    kv->act = lmc_alloc_array((size_t)c->d_ff, sizeof(float), err);
    kv->logits = lmc_alloc_array((size_t)c->padded_vocab, sizeof(float), err);
    kv->scores = lmc_alloc_array(2 * (size_t)max_len, sizeof(float), err);  /* LSSA decode: 2 rows */
    if (!kv->k || !kv->v || !kv->x || !kv->h || !kv->qkv || !kv->att || !kv->fc || !kv->act || !kv->logits || !kv->scores) {
        gen_kv_free(kv);
        return -1;
    }
    return 0;
}

void gen_kv_free(gen_kv *kv) {
    lmc_free(kv->k);
    lmc_free(kv->v);
    lmc_free(kv->x);
    lmc_free(kv->h);
    lmc_free(kv->qkv);
    lmc_free(kv->att);
    lmc_free(kv->fc);
    lmc_free(kv->act);
    lmc_free(kv->logits);
    lmc_free(kv->scores);
    memset(kv, 0, sizeof *kv);
}

static void norm_row(const gpt2_config *c, float *out, const float *x, const float *w, const float *b) {
    if (c->norm == GPT2_NORM_RMSNORM) k_rmsnorm_fwd(out, NULL, x, w, 1, c->d_model, c->ln_eps);
    else k_layernorm_fwd(out, NULL, NULL, x, w, b, 1, c->d_model, c->ln_eps);
}

int gen_kv_step(gen_kv *kv, const gpt2_model *m, int32_t token, lmc_err *err) {
    const gpt2_config *c = &m->cfg;
    const int C = c->d_model, t = kv->len, NH = c->n_head, KV = c->n_kv_head, hd = C / NH, F = c->d_ff;
    const int Q = (NH + 2 * KV) * hd, FC = c->mlp == GPT2_MLP_SWIGLU ? 2 * F : F;
    const size_t W = (size_t)kv->kvw;
    if (t >= kv->max_len) return lmc_errf(err, LMC_EINVAL, "KV cache is full (%d positions)", kv->max_len);
    if (token < 0 || token >= c->vocab_size)
        return lmc_errf(err, LMC_EINVAL, "token id %d is outside the vocabulary (%d)", token, c->vocab_size);
    if (c->normalized) {  /* nGPT's own block (src/model/ngpt.c) */
        int rn = gpt2_ngpt_decode_step(m, token, t, kv->k, kv->v, kv->max_len, kv->x, kv->h, kv->qkv, kv->att, kv->fc,
                                       kv->act, kv->scores, kv->logits, err);
        if (!rn) kv->len = t + 1;
        return rn;
    }
    if (m->wpe) k_encoder_fwd(kv->x, &token, m->wte, m->wpe + (size_t)t * (size_t)C, 1, 1, C);
    else k_embed_fwd(kv->x, &token, m->wte, 1, C);
    for (int l = 0; l < c->n_layer; l++) {
        gpt2_layer L = gpt2_layer_ptrs(m, m->params, l);
        float *kc = kv->k + (size_t)l * (size_t)kv->max_len * W;
        float *vc = kv->v + (size_t)l * (size_t)kv->max_len * W;
        norm_row(c, kv->h, kv->x, L.ln1_w, L.ln1_b);
        if (gpt2_lns_scale(c, l) != 1.0f) k_scale(kv->h, gpt2_lns_scale(c, l), (size_t)C);
        k_matmul_fwd(kv->qkv, kv->h, L.qkv_w, L.qkv_b, 1, C, Q);
        if (c->qk_norm) k_qknorm_fwd(kv->qkv, NULL, NULL, L.qn_w, L.kn_w, 1, (size_t)Q, NH, KV, hd, c->ln_eps);
        /* rotate q and k at position t; the cache holds rotated keys, as the full forward attends to */
        if (m->rope_cos) k_rope_apply(kv->qkv, (size_t)Q, 1, 1, t, 0, NH + KV, hd, m->rope_cos, m->rope_sin, 0);
        memcpy(kc + (size_t)t * W, kv->qkv + (size_t)NH * hd, W * sizeof(float));
        memcpy(vc + (size_t)t * W, kv->qkv + (size_t)(NH + KV) * hd, W * sizeof(float));
        if (c->attention == GPT2_ATTN_SOFTMAX)
            k_attention_decode_gqa(kv->att, kv->qkv, kc, vc, t + 1, W, NH, KV, hd, m->alibi, kv->scores);
        else
            k_attention_lssa_decode(kv->att, kv->qkv, kc, vc, t + 1, W, NH, KV, hd,
                                    c->attention == GPT2_ATTN_LSSAR ? c->lssar_power : 0, kv->scores);
        k_matmul_fwd_acc(kv->x, kv->att, L.proj_w, L.proj_b, 1, C, C);
        norm_row(c, kv->h, kv->x, L.ln2_w, L.ln2_b);
        if (gpt2_lns_scale(c, l) != 1.0f) k_scale(kv->h, gpt2_lns_scale(c, l), (size_t)C);
        k_matmul_fwd(kv->fc, kv->h, L.fc_w, L.fc_b, 1, C, FC);
        if (c->mlp == GPT2_MLP_SWIGLU) k_swiglu_fwd(kv->act, kv->fc, 1, F);
        else if (c->act) k_act_fwd(c->act, c->act_degree, kv->act, kv->fc, gpt2_act_coef(m, m->params, l), (size_t)F);
        else k_gelu_fwd(kv->act, kv->fc, (size_t)F);
        k_matmul_fwd_acc(kv->x, kv->act, L.fcproj_w, L.fcproj_b, 1, F, C);
    }
    norm_row(c, kv->h, kv->x, m->lnf_w, m->lnf_b);
    /* logits = h @ head^T, the same kernel as the full forward (padded rows are zero). */
    k_lmhead_fwd(kv->logits, kv->h, m->lm_head, 1, C, c->padded_vocab);
    kv->len = t + 1;
    return 0;
}

/* ---- sampling ---- */

size_t gen_sample_scratch_bytes(int V) { return (size_t)V * (sizeof(float) + sizeof(int32_t)); }

static int cmp_prob_desc(const void *a, const void *b, void *ctx) {
    const float *p = ctx;
    int32_t i = *(const int32_t *)a, j = *(const int32_t *)b;
    if (p[i] != p[j]) return p[i] > p[j] ? -1 : 1;
    return i < j ? -1 : i > j; /* ties: lower id first, so the order is total and reproducible */
}

int32_t gen_sample(const float *logits, int V, const gen_params *p, lmc_rng *rng, void *scratch) {
    int32_t best = 0;
    for (int i = 1; i < V; i++)
        if (logits[i] > logits[best]) best = i;
    if (p->temperature <= 0) return best;
    float *prob = scratch;
    int32_t *idx = (int32_t *)(prob + V);
    double inv_t = 1.0 / p->temperature, total = 0;
    for (int i = 0; i < V; i++) {
        prob[i] = (float)exp(((double)logits[i] - logits[best]) * inv_t);
        total += prob[i];
    }
    int filter = (p->top_k > 0 && p->top_k < V) || (p->top_p > 0 && p->top_p < 1);
    double u = lmc_rng_uniform_double(rng);
    if (!filter) {
        double target = u * total, acc = 0;
        for (int i = 0; i < V; i++) {
            acc += prob[i];
            if (acc > target) return i;
        }
        return best;
    }
    for (int i = 0; i < V; i++) idx[i] = i;
    qsort_r(idx, (size_t)V, sizeof *idx, cmp_prob_desc, prob);
    int keep = p->top_k > 0 && p->top_k < V ? p->top_k : V;
    double mass = 0;
    for (int i = 0; i < keep; i++) mass += prob[idx[i]];
    if (p->top_p > 0 && p->top_p < 1) {
        double acc = 0, want = p->top_p * mass;
        for (int i = 0; i < keep; i++) {
            acc += prob[idx[i]];
            if (acc >= want) {
                keep = i + 1;
                mass = acc;
                break;
            }
        }
    }
    double target = u * mass, acc = 0;
    for (int i = 0; i < keep; i++) {
        acc += prob[idx[i]];
        if (acc > target) return idx[i];
    }
    return idx[keep - 1];
}

/* ---- generation ---- */

static int check_prompt(const gpt2_model *m, int n_prompt, lmc_err *err) {
    if (n_prompt < 1) return lmc_errf(err, LMC_EINVAL, "generation needs at least one prompt token");
    if (n_prompt > m->cfg.max_seq)
        return lmc_errf(err, LMC_EINVAL, "the prompt has %d tokens, more than the model's context of %d", n_prompt,
                        m->cfg.max_seq);
    return 0;
}

int gen_generate(const gpt2_model *m, const int32_t *prompt, int n_prompt, const gen_params *p, lmc_rng *rng,
                 int32_t *out, int *n_out, void (*on_token)(void *ctx, int32_t tok), void *ctx, lmc_err *err) {
    *n_out = 0;
    if (check_prompt(m, n_prompt, err)) return -1;
    int V = m->cfg.vocab_size;
    gen_kv kv;
    if (gen_kv_init(&kv, m, n_prompt + p->max_tokens, err)) return -1;
    void *scratch = lmc_alloc(gen_sample_scratch_bytes(V), err);
    int rc = scratch ? 0 : -1;
    for (int i = 0; i < n_prompt && !rc; i++) rc = gen_kv_step(&kv, m, prompt[i], err);
    while (!rc && *n_out < p->max_tokens) {
        int32_t tok = gen_sample(kv.logits, V, p, rng, scratch);
        out[(*n_out)++] = tok;
        if (on_token) on_token(ctx, tok);
        if (tok == p->stop_token || kv.len >= kv.max_len) break;
        rc = gen_kv_step(&kv, m, tok, err);
    }
    lmc_free(scratch);
    gen_kv_free(&kv);
    return rc;
}

int gen_generate_full(gpt2_model *m, const int32_t *prompt, int n_prompt, const gen_params *p, lmc_rng *rng,
                      int32_t *out, int *n_out, lmc_err *err) {
    *n_out = 0;
    if (check_prompt(m, n_prompt, err)) return -1;
    int V = m->cfg.vocab_size, Vp = m->cfg.padded_vocab;
    /* Same stopping rule as the KV path: stop once the fed context reaches min(context, prompt+max). */
    int max_len = n_prompt + p->max_tokens;
    if (max_len > m->cfg.max_seq) max_len = m->cfg.max_seq;
    int32_t *seq = lmc_alloc_array((size_t)n_prompt + (size_t)p->max_tokens, sizeof *seq, err);
    void *scratch = lmc_alloc(gen_sample_scratch_bytes(V), err);
    int rc = seq && scratch ? 0 : -1;
    if (!rc) memcpy(seq, prompt, (size_t)n_prompt * sizeof *seq);
    int len = n_prompt;
    while (!rc && *n_out < p->max_tokens) {
        rc = gpt2_forward(m, seq, NULL, 1, len, NULL, err);
        if (rc) break;
        int32_t tok = gen_sample(m->logits + (size_t)(len - 1) * (size_t)Vp, V, p, rng, scratch);
        out[(*n_out)++] = tok;
        if (tok == p->stop_token || len >= max_len) break;
        seq[len++] = tok;
    }
    lmc_free(seq);
    lmc_free(scratch);
    return rc;
}
