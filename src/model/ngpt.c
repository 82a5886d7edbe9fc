/* nGPT: the normalized Transformer (Loshchilov, Hsieh, Sun, Ginsburg, "nGPT: Normalized Transformer
 * with Representation Learning on the Hypersphere", ICLR 2025; official code NVIDIA/ngpt model.py).
 *
 * Every hidden state is a unit vector (norm(x) = x / ||x||, over d):
 *   h_0 = wte[x]                                  (rows of wte are unit vectors)
 *   q, k, v = W_qkv h;  q, k = RoPE(q, k)
 *   q <- sqrt(hd) * sqk * norm_head(q);  k <- sqk * norm_head(k)    (softmax scale sqrt(hd): the kernel's
 *                                          1/sqrt(hd) times the hd folded into q)
 *   h <- norm(h + aA * (norm(W_o attn(q, k, v)) - h))
 *   uv = suv * sqrt(d) * (W_fc h);  h_M = W_down(silu(gate) * up)    (uv = gate | up, lmc's layout)
 *   h <- norm(h + aM * (norm(h_M) - h))
 *   logits = sz * (W_out h)                       (no final norm; W_out = lm_head, untied)
 * Learned scalars are stored rescaled (p_eff = p * init_value / init_scaling, base = 1/sqrt(d)):
 * aA, aM: |p| * 0.05 / base, stored init base; sqk: p / base, init base; suv: p, init 1 (times sqrt(d));
 * sz: p / base, init base. After every optimizer step every matrix is renormalised along its d axis
 * (gpt2_ngpt_project): rows of wte and lm_head; the d-long input vectors of W_qkv and W_fc (columns of
 * lmc's [in, out] layout); the d-long output vectors of W_o and W_down (rows). The norm gains of the
 * layout (ln_1, ln_2, ln_f) are unused (they stay 1, their gradient is 0).
 * All layers' activations are kept (also without training state): nGPT is for small research models. */
#include "model/switches.h"
#include "kernels/cpu/kernels.h"
#include "base/mem.h"

#include <math.h>
#include <string.h>

struct gpt2_ngpt {
    size_t cap_N;
    float *buf;
    float *h;                 /* (L+1) N d: block inputs / outputs (unit rows) */
    float *qkvr, *qkva;       /* L N Q: after RoPE (raw) | the attention's input (normalised, scaled) */
    float *qinv;              /* L N 2H: 1 / ||q head||, 1 / ||k head|| */
    float *atty, *ho, *mid;   /* L N d */
    float *lse;               /* L N H */
    float *hoinv, *t1inv, *hminv, *t2inv; /* L N */
    float *uv, *uvs;          /* L N 2F: W_fc h, scaled */
    float *act;               /* L N F */
    float *hm;                /* L N d */
    float *raw, *logits;      /* N Vp: W_out h, scaled by sz */
    float *lse_ce, *losses;   /* N */
    float *dh, *dmid, *dt, *ds; /* N d backward scratch */
    float *dQ;                /* N Q */
    float *d2F;               /* N 2F */
    float *dF;                /* N F */
    int32_t *inputs, *targets;
    int has_targets;
};

static const float ALPHA_INIT = 0.05f;

void gpt2_ngpt_free(gpt2_model *m) {
    gpt2_angpt_free(m);
    if (!m->ngpt) return;
    lmc_free(m->ngpt->buf);
    lmc_free(m->ngpt);
    m->ngpt = NULL;
}

float *gpt2_ngpt_param(const gpt2_model *m, float *buf, int l, int which) {
    int v = m->ngpt_view0 + (l < m->cfg.n_layer ? 4 * l + which : 4 * m->cfg.n_layer);
    return buf + m->views[v].offset;
}

static int ensure(gpt2_model *m, size_t N, lmc_err *err) {
    if (m->ngpt && m->ngpt->cap_N >= N) return 0;
    gpt2_ngpt_free(m);
    struct gpt2_ngpt *s = (struct gpt2_ngpt *)lmc_alloc(sizeof *s, err);
    if (!s) return LMC_ENOMEM;
    memset(s, 0, sizeof *s);
    const gpt2_config *c = &m->cfg;
    const size_t L = (size_t)c->n_layer, C = (size_t)c->d_model, H = (size_t)c->n_head, F = (size_t)c->d_ff;
    const size_t Q = 3 * C, Vp = (size_t)c->padded_vocab;
    struct { float **p; size_t n; } parts[] = {
        {&s->h, (L + 1) * N * C}, {&s->qkvr, L * N * Q}, {&s->qkva, L * N * Q}, {&s->qinv, L * N * 2 * H},
        {&s->atty, L * N * C}, {&s->ho, L * N * C}, {&s->mid, L * N * C}, {&s->lse, L * N * H},
        {&s->hoinv, L * N}, {&s->t1inv, L * N}, {&s->hminv, L * N}, {&s->t2inv, L * N},
        {&s->uv, L * N * 2 * F}, {&s->uvs, L * N * 2 * F}, {&s->act, L * N * F}, {&s->hm, L * N * C},
        {&s->raw, N * Vp}, {&s->logits, N * Vp}, {&s->lse_ce, N}, {&s->losses, N},
        {&s->dh, N * C}, {&s->dmid, N * C}, {&s->dt, N * C}, {&s->ds, N * C}, {&s->dQ, N * Q},
        {&s->d2F, N * 2 * F}, {&s->dF, N * F}, {(float **)&s->inputs, N}, {(float **)&s->targets, N},
    };
    size_t np = sizeof parts / sizeof parts[0], total = 0;
    for (size_t i = 0; i < np; i++) total += (parts[i].n + 15) / 16 * 16;
    s->buf = (float *)lmc_alloc_array(total, sizeof(float), err);
    if (!s->buf) { lmc_free(s); return LMC_ENOMEM; }
    size_t off = 0;
    for (size_t i = 0; i < np; i++) {
        *parts[i].p = s->buf + off;
        off += (parts[i].n + 15) / 16 * 16;
    }
    s->cap_N = N;
    m->ngpt = s;
    return 0;
}

/* 1 / ||x|| over n floats (double accumulation); 0 for a zero vector. */
static float inv_norm(const float *x, int n) {
    double ss = 0;
    for (int i = 0; i < n; i++) ss += (double)x[i] * x[i];
    return ss > 0 ? (float)(1.0 / sqrt(ss)) : 0.0f;
}

/* Backward of y = t / ||t|| given y, dy, 1/||t||: dt = (dy - y (y . dy)) / ||t||. dt may alias dy. */
static void norm_bwd_row(float *dt, const float *y, const float *dy, float inv, int n) {
    double dot = 0;
    for (int i = 0; i < n; i++) dot += (double)y[i] * dy[i];
    for (int i = 0; i < n; i++) dt[i] = (float)((dy[i] - y[i] * dot) * inv);
}

/* The residual update h <- norm(h + a * (norm(u) - h)) for N rows: un = u / ||u|| (uinv kept), out and tinv. */
static void lerp_norm(float *out, float *uinv, float *tinv, const float *h, const float *u, const float *a, size_t N, int C) {
#pragma omp parallel for schedule(static)
    for (size_t r = 0; r < N; r++) {
        const float *hr = h + r * C, *ur = u + r * C;
        float *o = out + r * C;
        float ui = inv_norm(ur, C);
        uinv[r] = ui;
        for (int c = 0; c < C; c++) o[c] = hr[c] + a[c] * (ur[c] * ui - hr[c]);
        float ti = inv_norm(o, C);
        tinv[r] = ti;
        for (int c = 0; c < C; c++) o[c] *= ti;
    }
}

/* Backward of the residual update: given y (output), dy, returns dh (the input h's gradient, overwrites),
 * du (u's gradient, overwrites) and adds da_eff[c] += sum_r dt * (un - h). dt is scratch. */
static void lerp_norm_bwd(float *dh, float *du, float *da, float *dt, const float *y, const float *dy, const float *tinv,
                          const float *h, const float *u, const float *uinv, const float *a, size_t N, int C) {
#pragma omp parallel for schedule(static)
    for (size_t r = 0; r < N; r++) norm_bwd_row(dt + r * C, y + r * C, dy + r * C, tinv[r], C);
    /* da: columns in parallel, rows in order (deterministic) */
#pragma omp parallel for schedule(static)
    for (int c = 0; c < C; c++) {
        double acc = 0;
        for (size_t r = 0; r < N; r++) acc += (double)dt[r * C + c] * (u[r * C + c] * uinv[r] - h[r * C + c]);
        da[c] += (float)acc;
    }
#pragma omp parallel for schedule(static)
    for (size_t r = 0; r < N; r++) {
        const float *dtr = dt + r * C, *ur = u + r * C, *hr = h + r * C;
        float *dhr = dh + r * C, *dur = du + r * C;
        const float ui = uinv[r];
        double dot = 0;
        for (int c = 0; c < C; c++) {
            dur[c] = dtr[c] * a[c];  /* d(un) */
            dot += (double)(ur[c] * ui) * dur[c];
        }
        for (int c = 0; c < C; c++) {
            dur[c] = (float)((dur[c] - ur[c] * ui * dot) * ui);
            dhr[c] = dtr[c] * (1.0f - a[c]);
        }
        (void)hr;
    }
}

/* Effective scalars of layer l (alpha_attn, alpha_mlp, sqk, suv) into e (C, C, C, 2F floats). */
static void eff_scalars(const gpt2_model *m, int l, float *aA, float *aM, float *sqk, float *suv) {
    const int C = m->cfg.d_model, F = m->cfg.d_ff;
    const float base = 1.0f / sqrtf((float)C), sq = sqrtf((float)C);
    const float *pa = gpt2_ngpt_param(m, m->params, l, 0), *pm = gpt2_ngpt_param(m, m->params, l, 1);
    const float *pq = gpt2_ngpt_param(m, m->params, l, 2), *pu = gpt2_ngpt_param(m, m->params, l, 3);
    for (int c = 0; c < C; c++) {
        aA[c] = fabsf(pa[c] * (ALPHA_INIT / base));
        aM[c] = fabsf(pm[c] * (ALPHA_INIT / base));
        sqk[c] = pq[c] * (1.0f / base);
    }
    for (int j = 0; j < 2 * F; j++) suv[j] = pu[j] * sq;
}

/* The output of nGPT and anGPT: logits = s_z ⊙ (W_out h), s_z stored reparameterised (effective =
 * stored · sqrt(d)), and the loss from them; m->logits / losses / loss / n_targets are set. */
void gpt2_ngpt_head_fwd(gpt2_model *m, const float *h, const float *sz, float *raw, float *logits, float *losses,
                        float *lse, const int32_t *targets) {
    const int C = m->cfg.d_model, V = m->cfg.vocab_size, Vp = m->cfg.padded_vocab;
    const size_t N = (size_t)m->B * (size_t)m->T;
    const float szf = 1.0f / (1.0f / sqrtf((float)C)); /* 1 / base, as nGPT's scalars are stored */
    k_lmhead_fwd(raw, h, m->lm_head, N, C, Vp);
#pragma omp parallel for schedule(static)
    for (size_t r = 0; r < N; r++)
        for (int v = 0; v < Vp; v++) logits[r * Vp + v] = v < V ? raw[r * Vp + v] * (sz[v] * szf) : 0.0f;
    m->logits = logits;
    if (targets) {
        double sum = 0.0;
        int64_t cnt = 0;
        k_crossentropy_fwd(losses, lse, logits, targets, N, V, Vp, &sum, &cnt);
        m->losses = losses;
        m->n_targets = cnt;
        m->loss = cnt ? (float)(sum / (double)cnt) : 0.0f;
        m->mtp_losses[0] = m->mtp_loss = m->loss;
    } else {
        m->losses = NULL;
        m->n_targets = 0;
        m->loss = -1.0f;
    }
}

/* Its backward: logits becomes dlogits and then d raw in place; d s_z (stored) += sqrt(d) Σ_r dlogits raw;
 * the head's weight gradient accumulates and dh = d loss / d h. */
void gpt2_ngpt_head_bwd(gpt2_model *m, const float *h, const float *sz, float *dsz, const float *raw, float *logits,
                        const float *lse, const int32_t *targets, float loss_scale, float *dh) {
    const int C = m->cfg.d_model, V = m->cfg.vocab_size, Vp = m->cfg.padded_vocab;
    const size_t N = (size_t)m->B * (size_t)m->T;
    const float szf = 1.0f / (1.0f / sqrtf((float)C));
    float scale = m->n_targets ? loss_scale / (float)m->n_targets : 0.0f;
    k_crossentropy_bwd_inplace(logits, lse, targets, scale, N, V, Vp);
    m->logits = NULL;
#pragma omp parallel for schedule(static)
    for (int v = 0; v < V; v++) {
        double a = 0;
        for (size_t r = 0; r < N; r++) a += (double)logits[r * Vp + v] * raw[r * Vp + v];
        dsz[v] += (float)(a * szf);
    }
#pragma omp parallel for schedule(static)
    for (size_t r = 0; r < N; r++)
        for (int v = 0; v < V; v++) logits[r * Vp + v] *= sz[v] * szf;
    k_lmhead_bwd(dh, m->grads + m->views[m->head_view].offset, logits, h, m->lm_head, N, C, Vp);
}

int gpt2_ngpt_forward(gpt2_model *m, const int32_t *inputs, const int32_t *targets, int B, int T, lmc_err *err) {
    if (m->cfg.normalized == GPT2_NORMALIZED_ANGPT) return gpt2_angpt_forward(m, inputs, targets, B, T, err);
    const gpt2_config *c = &m->cfg;
    const size_t N = (size_t)B * (size_t)T;
    int rc = ensure(m, N, err);
    if (rc) return rc;
    struct gpt2_ngpt *s = m->ngpt;
    const int L = c->n_layer, H = c->n_head, C = c->d_model, hd = C / H, F = c->d_ff, Q = 3 * C;
    const size_t NC = N * (size_t)C, NQ = N * (size_t)Q;
    float *sc = (float *)lmc_alloc_array((size_t)(3 * C + 2 * F), sizeof(float), err);
    if (!sc) return LMC_ENOMEM;
    float *aA = sc, *aM = sc + C, *sqk = sc + 2 * C, *suv = sc + 3 * C;
    memcpy(s->inputs, inputs, N * sizeof(int32_t));
    s->has_targets = targets != NULL;
    if (targets) memcpy(s->targets, targets, N * sizeof(int32_t));
    m->B = B;
    m->T = T;
    k_embed_fwd(s->h, inputs, m->wte, N, C);
    for (int l = 0; l < L; l++) {
        gpt2_layer p = gpt2_layer_ptrs(m, m->params, l);
        eff_scalars(m, l, aA, aM, sqk, suv);
        const float *x = s->h + (size_t)l * NC;
        float *qkvr = s->qkvr + (size_t)l * NQ, *qkva = s->qkva + (size_t)l * NQ, *qinv = s->qinv + (size_t)l * N * 2 * H;
        float *atty = s->atty + (size_t)l * NC, *ho = s->ho + (size_t)l * NC, *mid = s->mid + (size_t)l * NC;
        float *uv = s->uv + (size_t)l * N * 2 * F, *uvs = s->uvs + (size_t)l * N * 2 * F, *act = s->act + (size_t)l * N * F;
        float *hm = s->hm + (size_t)l * NC, *y = s->h + (size_t)(l + 1) * NC;
        k_matmul_fwd(qkvr, x, p.qkv_w, NULL, N, C, Q);
        if (m->rope_cos) k_rope_apply(qkvr, (size_t)Q, B, T, 0, 0, 2 * H, hd, m->rope_cos, m->rope_sin, 0);
#pragma omp parallel for schedule(static)
        for (size_t r = 0; r < N; r++) {
            const float *in = qkvr + r * Q;
            float *o = qkva + r * Q;
            for (int hh = 0; hh < 2 * H; hh++) {  /* q heads then k heads */
                float inv = inv_norm(in + hh * hd, hd);
                qinv[r * 2 * H + hh] = inv;
                const float gain = hh < H ? (float)hd : 1.0f;
                const float *g = sqk + (hh % H) * hd;
                for (int e = 0; e < hd; e++) o[hh * hd + e] = gain * g[e] * in[hh * hd + e] * inv;
            }
            memcpy(o + 2 * C, in + 2 * C, (size_t)C * sizeof(float));
        }
        if ((rc = k_attention_fwd_gqa(atty, s->lse + (size_t)l * N * H, qkva, B, T, H, H, hd, m->alibi))) {
            lmc_free(sc);
            return lmc_errf(err, rc, "forward: out of memory in attention");
        }
        k_matmul_fwd(ho, atty, p.proj_w, NULL, N, C, C);
        lerp_norm(mid, s->hoinv + (size_t)l * N, s->t1inv + (size_t)l * N, x, ho, aA, N, C);
        k_matmul_fwd(uv, mid, p.fc_w, NULL, N, C, 2 * F);
#pragma omp parallel for schedule(static)
        for (size_t r = 0; r < N; r++)
            for (int j = 0; j < 2 * F; j++) uvs[r * 2 * F + j] = uv[r * 2 * F + j] * suv[j];
        k_swiglu_fwd(act, uvs, N, F);
        k_matmul_fwd(hm, act, p.fcproj_w, NULL, N, F, C);
        lerp_norm(y, s->hminv + (size_t)l * N, s->t2inv + (size_t)l * N, mid, hm, aM, N, C);
    }
    /* logits = sz * (W_out h_L) */
    lmc_free(sc);
    gpt2_ngpt_head_fwd(m, s->h + (size_t)L * NC, gpt2_ngpt_param(m, m->params, L, 0), s->raw, s->logits, s->losses,
                       s->lse_ce, targets);
    return 0;
}

int gpt2_ngpt_backward(gpt2_model *m, float loss_scale, lmc_err *err) {
    if (m->cfg.normalized == GPT2_NORMALIZED_ANGPT) return gpt2_angpt_backward(m, loss_scale, err);
    struct gpt2_ngpt *s = m->ngpt;
    if (!s || !s->has_targets || !m->logits)
        return lmc_errf(err, LMC_EINVAL, "backward: needs a forward pass with targets first");
    const gpt2_config *c = &m->cfg;
    const int B = m->B, T = m->T, L = c->n_layer, H = c->n_head, C = c->d_model, hd = C / H, F = c->d_ff, Q = 3 * C;
    const size_t N = (size_t)B * T, NC = N * (size_t)C, NQ = N * (size_t)Q;
    const float base = 1.0f / sqrtf((float)C), sq = sqrtf((float)C);
    float *sc = (float *)lmc_alloc_array((size_t)(3 * C + 2 * F), sizeof(float), err);
    if (!sc) return LMC_ENOMEM;
    float *aA = sc, *aM = sc + C, *sqk = sc + 2 * C, *suv = sc + 3 * C;
    gpt2_ngpt_head_bwd(m, s->h + (size_t)L * NC, gpt2_ngpt_param(m, m->params, L, 0), gpt2_ngpt_param(m, m->grads, L, 0),
                       s->raw, s->logits, s->lse_ce, s->targets, loss_scale, s->dh);
    for (int l = L - 1; l >= 0; l--) {
        gpt2_layer p = gpt2_layer_ptrs(m, m->params, l), dp = gpt2_layer_ptrs(m, m->grads, l);
        eff_scalars(m, l, aA, aM, sqk, suv);
        const float *x = s->h + (size_t)l * NC, *y = s->h + (size_t)(l + 1) * NC;
        const float *qkvr = s->qkvr + (size_t)l * NQ, *qkva = s->qkva + (size_t)l * NQ, *qinv = s->qinv + (size_t)l * N * 2 * H;
        const float *atty = s->atty + (size_t)l * NC, *ho = s->ho + (size_t)l * NC, *mid = s->mid + (size_t)l * NC;
        const float *uv = s->uv + (size_t)l * N * 2 * F, *uvs = s->uvs + (size_t)l * N * 2 * F, *act = s->act + (size_t)l * N * F;
        const float *hm = s->hm + (size_t)l * NC;
        float *pa = gpt2_ngpt_param(m, m->params, l, 0), *pm = gpt2_ngpt_param(m, m->params, l, 1);
        float *ga = gpt2_ngpt_param(m, m->grads, l, 0), *gm = gpt2_ngpt_param(m, m->grads, l, 1);
        float *gq = gpt2_ngpt_param(m, m->grads, l, 2), *gu = gpt2_ngpt_param(m, m->grads, l, 3);
        /* MLP residual: y = norm(mid + aM (norm(hm) - mid)) */
        float *daM = s->ds;  /* C floats of scratch for the effective alpha's gradient */
        memset(daM, 0, (size_t)C * sizeof(float));
        lerp_norm_bwd(s->dmid, s->dQ /* dhm, N x C */, daM, s->dt, y, s->dh, s->t2inv + (size_t)l * N, mid, hm,
                      s->hminv + (size_t)l * N, aM, N, C);
        for (int k = 0; k < C; k++) {  /* aM = |pm * f|: d pm = d aM * f * sign */
            const float f = ALPHA_INIT / base, v = pm[k] * f;
            gm[k] += daM[k] * f * (v > 0 ? 1.0f : v < 0 ? -1.0f : 0.0f);
        }
        k_matmul_bwd(s->dF, dp.fcproj_w, NULL, s->dQ, act, p.fcproj_w, N, F, C);
        k_swiglu_bwd(s->d2F, uvs, s->dF, N, F);
#pragma omp parallel for schedule(static)
        for (int j = 0; j < 2 * F; j++) {
            double a = 0;
            for (size_t r = 0; r < N; r++) a += (double)s->d2F[r * 2 * F + j] * uv[r * 2 * F + j];
            gu[j] += (float)(a * sq);
        }
#pragma omp parallel for schedule(static)
        for (size_t r = 0; r < N; r++)
            for (int j = 0; j < 2 * F; j++) s->d2F[r * 2 * F + j] *= suv[j];
        k_matmul_bwd_acc(s->dmid, dp.fc_w, NULL, s->d2F, mid, p.fc_w, N, C, 2 * F);
        /* attention residual: mid = norm(x + aA (norm(ho) - x)) */
        float *daA = s->ds;
        memset(daA, 0, (size_t)C * sizeof(float));
        lerp_norm_bwd(s->dh, s->dQ /* dho */, daA, s->dt, mid, s->dmid, s->t1inv + (size_t)l * N, x, ho,
                      s->hoinv + (size_t)l * N, aA, N, C);
        for (int k = 0; k < C; k++) {
            const float f = ALPHA_INIT / base, v = pa[k] * f;
            ga[k] += daA[k] * f * (v > 0 ? 1.0f : v < 0 ? -1.0f : 0.0f);
        }
        k_matmul_bwd(s->dmid /* d atty */, dp.proj_w, NULL, s->dQ, atty, p.proj_w, N, C, C);
        int rc = k_attention_bwd_gqa(s->dQ, s->dmid, qkva, atty, s->lse + (size_t)l * N * H, B, T, H, H, hd, m->alibi);
        if (rc) { lmc_free(sc); return lmc_errf(err, rc, "backward: out of memory in attention"); }
        /* sqk: d sqk_eff[j] = sum_r (hd dq_eff[j] qn[j] + dk_eff[j] kn[j]); d stored = d eff / base */
#pragma omp parallel for schedule(static)
        for (int j = 0; j < C; j++) {
            const int hh = j / hd;
            double a = 0;
            for (size_t r = 0; r < N; r++) {
                const float qn = qkvr[r * Q + j] * qinv[r * 2 * H + hh], kn = qkvr[r * Q + C + j] * qinv[r * 2 * H + H + hh];
                a += (double)s->dQ[r * Q + j] * hd * qn + (double)s->dQ[r * Q + C + j] * kn;
            }
            gq[j] += (float)(a / base);
        }
        /* through the per-head normalisation: d qn = d q_eff * gain * sqk, then the norm backward */
#pragma omp parallel for schedule(static)
        for (size_t r = 0; r < N; r++) {
            float *d = s->dQ + r * Q;
            const float *in = qkvr + r * Q;
            for (int hh = 0; hh < 2 * H; hh++) {
                const float inv = qinv[r * 2 * H + hh], gain = hh < H ? (float)hd : 1.0f;
                const float *g = sqk + (hh % H) * hd;
                float *dh_ = d + hh * hd;
                double dot = 0;
                for (int e = 0; e < hd; e++) {
                    dh_[e] *= gain * g[e];
                    dot += (double)(in[hh * hd + e] * inv) * dh_[e];
                }
                for (int e = 0; e < hd; e++) dh_[e] = (float)((dh_[e] - in[hh * hd + e] * inv * dot) * inv);
            }
        }
        if (m->rope_cos) k_rope_apply(s->dQ, (size_t)Q, B, T, 0, 0, 2 * H, hd, m->rope_cos, m->rope_sin, 1);
        k_matmul_bwd_acc(s->dh, dp.qkv_w, NULL, s->dQ, x, p.qkv_w, N, C, Q);
    }
    k_embed_bwd(m->grads + m->views[m->wte_view].offset, s->dh, s->inputs, N, C);
    s->has_targets = 0;
    lmc_free(sc);
    return 0;
}

/* Rows of a [rows, cols] matrix to unit norm (zero rows stay zero). */
static void unit_rows(float *w, size_t rows, size_t cols) {
#pragma omp parallel for schedule(static)
    for (size_t r = 0; r < rows; r++) {
        float inv = inv_norm(w + r * cols, (int)cols);
        for (size_t j = 0; j < cols; j++) w[r * cols + j] *= inv;
    }
}

/* Columns of a [rows, cols] matrix to unit norm. */
static void unit_cols(float *w, size_t rows, size_t cols) {
#pragma omp parallel for schedule(static)
    for (size_t j = 0; j < cols; j++) {
        double ss = 0;
        for (size_t r = 0; r < rows; r++) ss += (double)w[r * cols + j] * w[r * cols + j];
        float inv = ss > 0 ? (float)(1.0 / sqrt(ss)) : 0.0f;
        for (size_t r = 0; r < rows; r++) w[r * cols + j] *= inv;
    }
}

void gpt2_ngpt_project(gpt2_model *m) {
    if (m->cfg.normalized == GPT2_NORMALIZED_ANGPT) { gpt2_angpt_project(m); return; }
    const gpt2_config *c = &m->cfg;
    const size_t C = (size_t)c->d_model, F = (size_t)c->d_ff, V = (size_t)c->vocab_size;
    unit_rows(m->wte, V, C);
    unit_rows(m->lm_head, V, C);
    for (int l = 0; l < c->n_layer; l++) {
        gpt2_layer p = gpt2_layer_ptrs(m, m->params, l);
        unit_cols(p.qkv_w, C, 3 * C);     /* input vectors of W_q, W_k, W_v */
        unit_rows(p.proj_w, C, C);        /* output vectors of W_o */
        unit_cols(p.fc_w, C, 2 * F);      /* input vectors of W_gate, W_up */
        unit_rows(p.fcproj_w, F, C);      /* output vectors of W_down */
    }
}

void gpt2_ngpt_init(gpt2_model *m) {
    if (m->cfg.normalized == GPT2_NORMALIZED_ANGPT) { gpt2_angpt_init(m); return; }
    const gpt2_config *c = &m->cfg;
    const float base = 1.0f / sqrtf((float)c->d_model);
    for (int l = 0; l <= c->n_layer; l++) {
        if (l == c->n_layer) {
            float *sz = gpt2_ngpt_param(m, m->params, l, 0);
            for (int v = 0; v < c->vocab_size; v++) sz[v] = base;
            break;
        }
        float *pa = gpt2_ngpt_param(m, m->params, l, 0), *pm = gpt2_ngpt_param(m, m->params, l, 1);
        float *pq = gpt2_ngpt_param(m, m->params, l, 2), *pu = gpt2_ngpt_param(m, m->params, l, 3);
        for (int k = 0; k < c->d_model; k++) pa[k] = pm[k] = pq[k] = base;
        for (int j = 0; j < 2 * c->d_ff; j++) pu[j] = 1.0f;
    }
    gpt2_ngpt_project(m);
}

int gpt2_ngpt_decode_step(const gpt2_model *m, int32_t token, int t, float *kcache, float *vcache, int max_len,
                          float *x, float *h, float *qkv, float *att, float *fc, float *act, float *scores,
                          float *logits, lmc_err *err) {
    if (m->cfg.normalized == GPT2_NORMALIZED_ANGPT)
        return gpt2_angpt_decode_step(m, token, t, kcache, vcache, max_len, x, h, qkv, att, fc, act, scores, logits, err);
    const gpt2_config *c = &m->cfg;
    const int L = c->n_layer, H = c->n_head, C = c->d_model, hd = C / H, F = c->d_ff, Q = 3 * C;
    float *sc = (float *)lmc_alloc_array((size_t)(3 * C + 2 * F), sizeof(float), err);
    if (!sc) return LMC_ENOMEM;
    float *aA = sc, *aM = sc + C, *sqk = sc + 2 * C, *suv = sc + 3 * C;
    float ui, ti;
    k_embed_fwd(x, &token, m->wte, 1, C);
    for (int l = 0; l < L; l++) {
        gpt2_layer p = gpt2_layer_ptrs(m, m->params, l);
        eff_scalars(m, l, aA, aM, sqk, suv);
        float *kc = kcache + (size_t)l * (size_t)max_len * C, *vc = vcache + (size_t)l * (size_t)max_len * C;
        k_matmul_fwd(qkv, x, p.qkv_w, NULL, 1, C, Q);
        if (m->rope_cos) k_rope_apply(qkv, (size_t)Q, 1, 1, t, 0, 2 * H, hd, m->rope_cos, m->rope_sin, 0);
        for (int hh = 0; hh < 2 * H; hh++) {
            const float inv = inv_norm(qkv + hh * hd, hd), gain = hh < H ? (float)hd : 1.0f;
            for (int e = 0; e < hd; e++) qkv[hh * hd + e] *= gain * sqk[(hh % H) * hd + e] * inv;
        }
        memcpy(kc + (size_t)t * C, qkv + C, (size_t)C * sizeof(float));
        memcpy(vc + (size_t)t * C, qkv + 2 * C, (size_t)C * sizeof(float));
        k_attention_decode_gqa(att, qkv, kc, vc, t + 1, (size_t)C, H, H, hd, m->alibi, scores);
        k_matmul_fwd(h, att, p.proj_w, NULL, 1, C, C);
        lerp_norm(x, &ui, &ti, x, h, aA, 1, C);
        k_matmul_fwd(fc, x, p.fc_w, NULL, 1, C, 2 * F);
        for (int j = 0; j < 2 * F; j++) fc[j] *= suv[j];
        k_swiglu_fwd(act, fc, 1, F);
        k_matmul_fwd(h, act, p.fcproj_w, NULL, 1, F, C);
        lerp_norm(x, &ui, &ti, x, h, aM, 1, C);
    }
    const float *sz = gpt2_ngpt_param(m, m->params, L, 0);
    const float szf = sqrtf((float)C);
    k_lmhead_fwd(logits, x, m->lm_head, 1, C, c->padded_vocab);
    for (int v = 0; v < c->padded_vocab; v++) logits[v] = v < c->vocab_size ? logits[v] * sz[v] * szf : 0.0f;
    lmc_free(sc);
    return 0;
}
