/* Speculative sampling with an optional FR-Spec draft vocabulary (see spec.h). The batched KV step
 * mirrors gen_kv_step's math for n consecutive rows with the same kernels. */
#include "gen/spec.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/mem.h"
#include "kernels/cpu/kernels.h"

typedef struct bkv {
    int max_len, nmax, kvw, len;
    int head_rows;            /* logits per row */
    const float *head;        /* [head_rows, C] output head (lm_head or the FR-Spec rows) */
    float *k, *v;             /* [n_layer, max_len, kvw] */
    float *x, *h, *qkv, *att, *fc, *act, *logits, *scores;
} bkv;

static void bkv_free(bkv *b) {
    lmc_free(b->k); lmc_free(b->v); lmc_free(b->x); lmc_free(b->h); lmc_free(b->qkv); lmc_free(b->att);
    lmc_free(b->fc); lmc_free(b->act); lmc_free(b->logits); lmc_free(b->scores);
    memset(b, 0, sizeof *b);
}

static int bkv_init(bkv *b, const gpt2_model *m, int max_len, int nmax, const float *head, int head_rows, lmc_err *err) {
    memset(b, 0, sizeof *b);
    const gpt2_config *c = &m->cfg;
    const size_t C = (size_t)c->d_model, hd = C / (size_t)c->n_head, N = (size_t)nmax;
    b->max_len = max_len;
    b->nmax = nmax;
    b->kvw = (int)((size_t)c->n_kv_head * hd);
    b->head = head;
    b->head_rows = head_rows;
    const size_t Q = (size_t)(c->n_head + 2 * c->n_kv_head) * hd;
    const size_t FC = (size_t)c->d_ff * (c->mlp == GPT2_MLP_SWIGLU ? 2 : 1);
    size_t cache = (size_t)c->n_layer * (size_t)max_len * (size_t)b->kvw;
    b->k = lmc_alloc_array(cache, sizeof(float), err);
    b->v = lmc_alloc_array(cache, sizeof(float), err);
    b->x = lmc_alloc_array(N * C, sizeof(float), err);
    b->h = lmc_alloc_array(N * C, sizeof(float), err);
    b->qkv = lmc_alloc_array(N * Q, sizeof(float), err);
    b->att = lmc_alloc_array(N * C, sizeof(float), err);
    b->fc = lmc_alloc_array(N * FC, sizeof(float), err);
    b->act = lmc_alloc_array(N * (size_t)c->d_ff, sizeof(float), err);
    b->logits = lmc_alloc_array(N * (size_t)head_rows, sizeof(float), err);
    b->scores = lmc_alloc_array((size_t)max_len, sizeof(float), err);
    if (!b->k || !b->v || !b->x || !b->h || !b->qkv || !b->att || !b->fc || !b->act || !b->logits || !b->scores) {
        bkv_free(b);
        return lmc_errf(err, LMC_ENOMEM, "out of memory for the speculative KV cache");
    }
    return 0;
}

static void norm_rows(const gpt2_config *c, float *out, const float *x, const float *w, const float *bb, size_t n) {
    if (c->norm == GPT2_NORM_RMSNORM) k_rmsnorm_fwd(out, NULL, x, w, n, c->d_model, c->ln_eps);
    else k_layernorm_fwd(out, NULL, NULL, x, w, bb, n, c->d_model, c->ln_eps);
}

/* Feed n tokens at positions len..len+n-1; logits of row i in b->logits + i * head_rows. */
static int bkv_step(bkv *b, const gpt2_model *m, const int32_t *tok, int n, lmc_err *err) {
    const gpt2_config *c = &m->cfg;
    const int C = c->d_model, t = b->len, NH = c->n_head, KV = c->n_kv_head, hd = C / NH, F = c->d_ff;
    const int Q = (NH + 2 * KV) * hd, FC = c->mlp == GPT2_MLP_SWIGLU ? 2 * F : F;
    const size_t W = (size_t)b->kvw;
    if (n < 1 || n > b->nmax || t + n > b->max_len)
        return lmc_errf(err, LMC_EINVAL, "speculative step of %d rows at %d does not fit (%d positions)", n, t, b->max_len);
    for (int i = 0; i < n; i++)
        if (tok[i] < 0 || tok[i] >= c->vocab_size)
            return lmc_errf(err, LMC_EINVAL, "token id %d is outside the vocabulary (%d)", tok[i], c->vocab_size);
    if (m->wpe) k_encoder_fwd(b->x, tok, m->wte, m->wpe + (size_t)t * (size_t)C, 1, n, C);
    else k_embed_fwd(b->x, tok, m->wte, (size_t)n, C);
    for (int l = 0; l < c->n_layer; l++) {
        gpt2_layer L = gpt2_layer_ptrs(m, m->params, l);
        float *kc = b->k + (size_t)l * (size_t)b->max_len * W;
        float *vc = b->v + (size_t)l * (size_t)b->max_len * W;
        norm_rows(c, b->h, b->x, L.ln1_w, L.ln1_b, (size_t)n);
        k_matmul_fwd(b->qkv, b->h, L.qkv_w, L.qkv_b, (size_t)n, C, Q);
        if (m->rope_cos) k_rope_apply(b->qkv, (size_t)Q, 1, n, t, 0, NH + KV, hd, m->rope_cos, m->rope_sin, 0);
        for (int i = 0; i < n; i++) {
            memcpy(kc + (size_t)(t + i) * W, b->qkv + (size_t)i * Q + (size_t)NH * hd, W * sizeof(float));
            memcpy(vc + (size_t)(t + i) * W, b->qkv + (size_t)i * Q + (size_t)(NH + KV) * hd, W * sizeof(float));
        }
        for (int i = 0; i < n; i++) /* row i attends to positions 0..t+i (causal inside the block) */
            k_attention_decode_gqa(b->att + (size_t)i * C, b->qkv + (size_t)i * Q, kc, vc, t + i + 1, W, NH, KV, hd,
                                   m->alibi, b->scores);
        k_matmul_fwd_acc(b->x, b->att, L.proj_w, L.proj_b, (size_t)n, C, C);
        norm_rows(c, b->h, b->x, L.ln2_w, L.ln2_b, (size_t)n);
        k_matmul_fwd(b->fc, b->h, L.fc_w, L.fc_b, (size_t)n, C, FC);
        if (c->mlp == GPT2_MLP_SWIGLU) k_swiglu_fwd(b->act, b->fc, (size_t)n, F);
        else k_gelu_fwd(b->act, b->fc, (size_t)n * (size_t)F);
        k_matmul_fwd_acc(b->x, b->act, L.fcproj_w, L.fcproj_b, (size_t)n, F, C);
    }
    norm_rows(c, b->h, b->x, m->lnf_w, m->lnf_b, (size_t)n);
    k_lmhead_fwd(b->logits, b->h, b->head, (size_t)n, C, b->head_rows);
    b->len = t + n;
    return 0;
}

static int cmp_desc(const void *a, const void *b, void *ctx) {
    const float *p = ctx;
    int32_t i = *(const int32_t *)a, j = *(const int32_t *)b;
    if (p[i] != p[j]) return p[i] > p[j] ? -1 : 1;
    return i < j ? -1 : i > j;
}

void spec_distribution(const float *logits, int V, const gen_params *p, double *prob, void *scratch) {
    /* gen_sample's arithmetic: float exp((l - max) / T), then top-k / top-p on the sorted order */
    float *pf = scratch;
    int32_t *idx = (int32_t *)(pf + V);
    int32_t best = 0;
    for (int i = 1; i < V; i++)
        if (logits[i] > logits[best]) best = i;
    double inv_t = 1.0 / p->temperature;
    for (int i = 0; i < V; i++) pf[i] = (float)exp(((double)logits[i] - logits[best]) * inv_t);
    int filter = (p->top_k > 0 && p->top_k < V) || (p->top_p > 0 && p->top_p < 1);
    if (!filter) {
        double total = 0;
        for (int i = 0; i < V; i++) total += pf[i];
        for (int i = 0; i < V; i++) prob[i] = pf[i] / total;
        return;
    }
    for (int i = 0; i < V; i++) idx[i] = i;
    qsort_r(idx, (size_t)V, sizeof *idx, cmp_desc, pf);
    int keep = p->top_k > 0 && p->top_k < V ? p->top_k : V;
    double mass = 0;
    for (int i = 0; i < keep; i++) mass += pf[idx[i]];
    if (p->top_p > 0 && p->top_p < 1) {
        double acc = 0, want = p->top_p * mass;
        for (int i = 0; i < keep; i++) {
            acc += pf[idx[i]];
            if (acc >= want) { keep = i + 1; mass = acc; break; }
        }
    }
    for (int i = 0; i < V; i++) prob[i] = 0;
    for (int i = 0; i < keep; i++) prob[idx[i]] = pf[idx[i]] / mass;
}

static int32_t draw(const double *prob, int V, double u) {
    double acc = 0;
    int32_t last = 0;
    for (int i = 0; i < V; i++) {
        if (prob[i] <= 0) continue;
        acc += prob[i];
        last = i;
        if (acc > u) return i;
    }
    return last;
}

static int32_t argmax(const float *l, int V) {
    int32_t b = 0;
    for (int i = 1; i < V; i++)
        if (l[i] > l[b]) b = i;
    return b;
}

int spec_generate(const gpt2_model *target, const gpt2_model *draft, const int32_t *prompt, int n_prompt,
                  const gen_params *p, const spec_opts *so, lmc_rng *rng, int32_t *out, int *n_out, spec_stats *st,
                  void (*on_token)(void *ctx, int32_t tok), void *ctx, lmc_err *err) {
    *n_out = 0;
    memset(st, 0, sizeof *st);
    const int V = target->cfg.vocab_size;
    if (draft->cfg.vocab_size != V)
        return lmc_errf(err, LMC_EINVAL, "the draft's vocabulary (%d) differs from the target's (%d)", draft->cfg.vocab_size, V);
    if (so->gamma < 1 || so->gamma > 63) return lmc_errf(err, LMC_EINVAL, "speculative: gamma must be in [1, 63]");
    if (n_prompt < 1 || n_prompt > target->cfg.max_seq)
        return lmc_errf(err, LMC_EINVAL, "the prompt has %d tokens; the model's context is %d", n_prompt, target->cfg.max_seq);
    int max_len = n_prompt + p->max_tokens;
    if (max_len > target->cfg.max_seq) max_len = target->cfg.max_seq;
    if (max_len > draft->cfg.max_seq) max_len = draft->cfg.max_seq;
    if (n_prompt > max_len) return lmc_errf(err, LMC_EINVAL, "the prompt does not fit the draft's context (%d)", draft->cfg.max_seq);
    lmc_kernels_weights_changed();
    const int G = so->gamma, K = so->vhigh ? so->n_vhigh : V, C = draft->cfg.d_model;
    bkv tk = {0}, dk = {0};
    float *dhead = NULL;
    double *pd = NULL, *qd = NULL, *res = NULL;
    int32_t *seq = NULL;
    void *scratch = NULL;
    int rc = 0;
    if (so->vhigh) { /* gather the K head rows once */
        dhead = lmc_alloc_array((size_t)K * (size_t)C, sizeof(float), err);
        if (!dhead) return err->code;
        for (int j = 0; j < K; j++) {
            if (so->vhigh[j] < 0 || so->vhigh[j] >= V) { lmc_free(dhead); return lmc_errf(err, LMC_EINVAL, "FR-Spec id %d is outside the vocabulary", so->vhigh[j]); }
            memcpy(dhead + (size_t)j * C, draft->lm_head + (size_t)so->vhigh[j] * C, (size_t)C * sizeof(float));
        }
    }
    if ((rc = bkv_init(&tk, target, max_len, G + 1, target->lm_head, target->cfg.padded_vocab, err)) ||
        (rc = bkv_init(&dk, draft, max_len, n_prompt > G ? n_prompt : G, dhead ? dhead : draft->lm_head,
                       dhead ? K : draft->cfg.padded_vocab, err)))
        goto out;
    pd = malloc((size_t)(G + 1) * V * sizeof *pd);
    qd = malloc((size_t)G * V * sizeof *qd);
    res = malloc((size_t)V * sizeof *res);
    seq = malloc(((size_t)max_len + 2) * sizeof *seq);
    scratch = malloc(gen_sample_scratch_bytes(V > K ? V : K) + 64);
    float *ql = malloc((size_t)V * sizeof *ql);
    if (!pd || !qd || !res || !seq || !scratch || !ql) { free(ql); rc = lmc_errf(err, LMC_ENOMEM, "out of memory"); goto out; }
    memcpy(seq, prompt, (size_t)n_prompt * sizeof *seq);
    int L = n_prompt;
    /* both caches hold every token but the last one of seq */
    if (n_prompt > 1) {
        for (int i = 0; i < n_prompt - 1 && !rc; i += G + 1) {
            int k = n_prompt - 1 - i < G + 1 ? n_prompt - 1 - i : G + 1;
            rc = bkv_step(&tk, target, seq + i, k, err);
        }
        if (!rc) rc = bkv_step(&dk, draft, seq, n_prompt - 1, err);
    }
    int greedy = p->temperature <= 0;
    int32_t x[64];
    while (!rc && *n_out < p->max_tokens && L <= max_len) {
        int g = G;
        if (g > p->max_tokens - *n_out - 1) g = p->max_tokens - *n_out - 1;
        if (g > max_len - L) g = max_len - L;
        if (g < 0) g = 0;
        /* draft: catch up, then propose g tokens */
        while (!rc && dk.len < L - 1) rc = bkv_step(&dk, draft, seq + dk.len, 1, err);
        int32_t last = seq[L - 1];
        for (int i = 0; i < g && !rc; i++) {
            if ((rc = bkv_step(&dk, draft, i ? &x[i - 1] : &last, 1, err))) break;
            /* the draft's logits over its support, scattered into V (others -inf) */
            const float *dl = dk.logits;
            if (dhead) {
                for (int v = 0; v < V; v++) ql[v] = -INFINITY;
                for (int j = 0; j < K; j++) ql[so->vhigh[j]] = dl[j];
            } else {
                memcpy(ql, dl, (size_t)V * sizeof *ql);
            }
            if (greedy) {
                x[i] = argmax(ql, V);
            } else {
                spec_distribution(ql, V, p, qd + (size_t)i * V, scratch);
                x[i] = draw(qd + (size_t)i * V, V, lmc_rng_uniform_double(rng));
            }
        }
        if (rc) break;
        /* target: last + g proposals in one pass */
        int32_t rows[65];
        rows[0] = last;
        memcpy(rows + 1, x, (size_t)g * sizeof *x);
        int t0 = tk.len;
        if ((rc = bkv_step(&tk, target, rows, g + 1, err))) break;
        st->rounds++;
        st->drafted += g;
        int j = 0, emitted = -1;
        for (; j < g; j++) {
            const float *tl = tk.logits + (size_t)j * tk.head_rows;
            if (greedy) {
                int32_t a = argmax(tl, V);
                if (a == x[j]) continue;
                emitted = a;
                break;
            }
            double *pj = pd + (size_t)j * V, *qj = qd + (size_t)j * V;
            spec_distribution(tl, V, p, pj, scratch);
            double u = lmc_rng_uniform_double(rng);
            if (u * qj[x[j]] < pj[x[j]]) continue; /* accept with probability min(1, p/q) */
            double tot = 0;
            for (int v = 0; v < V; v++) { res[v] = pj[v] > qj[v] ? pj[v] - qj[v] : 0; tot += res[v]; }
            if (!(tot > 0)) { memcpy(res, pj, (size_t)V * sizeof *res); tot = 1; }
            for (int v = 0; v < V; v++) res[v] /= tot;
            emitted = draw(res, V, lmc_rng_uniform_double(rng));
            break;
        }
        st->accepted += j;
        if (emitted < 0) { /* all accepted: the bonus token from p_{g+1} */
            const float *tl = tk.logits + (size_t)g * tk.head_rows;
            if (greedy) emitted = argmax(tl, V);
            else {
                spec_distribution(tl, V, p, pd, scratch);
                emitted = draw(pd, V, lmc_rng_uniform_double(rng));
            }
        }
        /* emit the j accepted proposals and the final token, stopping where plain sampling stops */
        int stop = 0;
        for (int i = 0; i <= j && !stop; i++) {
            int32_t tok = i < j ? x[i] : emitted;
            out[(*n_out)++] = tok;
            seq[L++] = tok;
            st->emitted++;
            if (on_token) on_token(ctx, tok);
            if (tok == p->stop_token || *n_out >= p->max_tokens || L > max_len) stop = 1;
        }
        if (stop) break;
        tk.len = t0 + j + 1;                   /* = L - 1 */
        if (dk.len > L - 1) dk.len = L - 1;
    }
    free(ql);
out:
    bkv_free(&tk);
    bkv_free(&dk);
    lmc_free(dhead);
    free(pd); free(qd); free(res); free(seq); free(scratch);
    return rc;
}

int spec_read_vhigh(const char *path, int k, int V, int32_t **ids, int *n, lmc_err *err) {
    FILE *f = fopen(path, "r");
    if (!f) return lmc_err_sys(err, path, "open");
    *ids = malloc((size_t)(k > 0 ? k : 1) * sizeof **ids);
    if (!*ids) { fclose(f); return lmc_errf(err, LMC_ENOMEM, "out of memory"); }
    char line[256];
    int cnt = 0;
    uint64_t ln = 0;
    unsigned char *seen = calloc((size_t)V, 1);
    while (cnt < k && fgets(line, sizeof line, f)) {
        ln++;
        char *e;
        errno = 0;
        long id = strtol(line, &e, 10);
        if (e == line || errno || id < 0 || id >= V || (*e != ' ' && *e != '\t' && *e != '\n' && *e)) {
            free(*ids); free(seen); fclose(f);
            return lmc_err_at(err, LMC_EFORMAT, path, ln, 1, "expected \"id count\" with 0 <= id < %d", V);
        }
        if (seen && seen[id]) { free(*ids); free(seen); fclose(f); return lmc_err_at(err, LMC_EFORMAT, path, ln, 1, "id %ld repeated", id); }
        if (seen) seen[id] = 1;
        (*ids)[cnt++] = (int32_t)id;
    }
    free(seen);
    fclose(f);
    if (cnt == 0) { free(*ids); return lmc_errf(err, LMC_EFORMAT, "%s: no ids", path); }
    *n = cnt;
    return 0;
}
