/* anGPT: the approximately normalized Transformer (Franke, Spiegelhalter, Nezhurina, Jitsev, Hutter,
 * Hefenbrock, "Learning in Compact Spaces with Approximately Normalized Transformer", NeurIPS 2025;
 * TECHNIQUES.md §3b; docs/model.md "anGPT").
 *
 * nGPT divides every hidden vector by its norm. anGPT multiplies by CONSTANT factors nu instead, chosen so
 * that the expected norm after each op is 1 when its input has norm 1 and the matrices have unit
 * d_model-axis vectors (norms of high-dimensional random vectors concentrate). Block, lmc layout:
 *   q, k, v = nu_qkv W_qkv h                       nu_qkv = sqrt(d / hd): each head ~ unit norm
 *   q, k <- RMSNorm_head(q, k) * gains, RoPE        QK-norm is kept (model.qk_norm: true)
 *   y_t = nu_att(t) * softmax(q k^T / sqrt(hd)) v   nu_att(t) = 1 / sqrt(E sum_j a_tj^2), see below
 *   x_A = nu_p W_o y                                 nu_p = sqrt(hd / d): y has H unit heads
 *   h <- nu(aA) (h + aA (x_A - h))                   nu(a) = 1 / sqrt(a^2 + (1 - a)^2), per channel
 *   gate = nu_uz sqrt(d) W_gate h,  up = nu_uz W_up h      nu_uz = sqrt(d / d_ff)
 *   x_M = nu_d W_down (nu_act silu(gate) * up)       nu_d = 1, nu_act = 1 / sqrt(E silu(g)^2), g ~ N(0, d/d_ff)
 *   h <- nu(aM) (h + aM (x_M - h))
 *   logits = sz (W_out h)                            no final norm
 * Why each factor (d-long unit vectors w of the matrices, unit random input h): an output coordinate
 * w . h has variance 1/d, so hd coordinates of a head have squared norm hd/d (nu_qkv) and d_ff of the MLP
 * d_ff/d (nu_uz). W_o and W_down have unit OUTPUT vectors (the d_model axis), so they preserve the squared
 * norm of their input: H for the concatenated unit heads (nu_p), 1 for the unit-norm activation (nu_d = 1;
 * the paper's nu_d = sqrt(d_ff/d) = 2 belongs to a bound along W_down's d_ff axis instead). The gate keeps
 * nGPT's sqrt(d) so that SiLU sees inputs of std sqrt(d/d_ff) (0.5 at d_ff = 4d), not ~0: with it the
 * paper's nu_act = 3.74 is reproduced (3.72 here, by quadrature). u and silu(g) are independent, so
 * E||u * silu(g)||^2 = E silu(g)^2 when u has unit norm.
 * nu_att: the values of different positions are nearly independent random vectors at init, so
 * E||sum_j a_j v_j||^2 = sum_j a_j^2 for unit v; the attention weights are a softmax of n = t+1 logits
 * sqrt(hd) cos(q, k) (QK-norm, gains 1) or cos(q, k) / sqrt(hd) (no QK-norm) of random directions. No
 * closed form for finite n: a deterministic Monte Carlo (angpt_setup: 256 draws of one query and max_seq
 * keys, Gaussian directions in hd dimensions, fixed seed) estimates E sum_j a_j^2 for every prefix n. For
 * large n it tends to e/n (logits ~ N(0, 1)): nu_att ~ sqrt(n/e). ALiBi's slopes are not modelled.
 * Learned scalars as nGPT (stored p, effective p * init / base, base = 1/sqrt(d)): aA, aM = |p| 0.05/base,
 * init base; sz = p / base, init base. After every optimizer step every matrix's d-long vectors are put
 * back into the unit ball, w <- w / max(1, ||w||) (gpt2_angpt_project: the same vectors nGPT
 * normalises); the init normalises them to exactly 1. The layout's norm gains (ln_1, ln_2, ln_f) are
 * unused (they stay 1, their gradient is 0). All layers' activations are kept (small research models). */
#include "model/switches.h"
#include "kernels/cpu/kernels.h"
#include "kernels/cpu/attn_switch.h"
#include "base/mem.h"
#include "base/rng.h"

#include <math.h>
#include <string.h>

struct gpt2_angpt {
    size_t cap_N;
    float *buf;
    float *h;                 /* (L+1) N d: block inputs / outputs */
    float *qkv;               /* L N 3d: the attention's input (scaled, QK-normed, rotated) */
    float *qk_raw, *qk_rstd;  /* L N 2d, L N 2H: QK-norm's input and 1/rms */
    float *atty, *atts;       /* L N d: attention output, and times nu_att */
    float *lse;               /* L N H */
    float *ho, *mid, *hm;     /* L N d: x_A, the block middle, x_M */
    float *uvs;               /* L N 2F: gate | up after their factors */
    float *act;               /* L N F: nu_act silu(gate) up */
    float *raw, *logits;      /* N Vp */
    float *lse_ce, *losses;   /* N */
    float *dh, *dmid, *dt;    /* N d */
    float *dQ;                /* N 3d */
    float *d2F;               /* N 2F */
    float *dF;                /* N F */
    float *da;                /* d */
    int32_t *inputs, *targets;
    int has_targets;
};

static const float ALPHA_INIT = 0.05f;
enum { MC_DRAWS = 256 };

/* The constant factors of one model. */
typedef struct { float qkv, p, gate, up, act, d; const float *att; } angpt_nu;

static angpt_nu factors(const gpt2_model *m) {
    const gpt2_config *c = &m->cfg;
    const double C = c->d_model, hd = (double)c->d_model / c->n_head, F = c->d_ff;
    angpt_nu n;
    n.qkv = (float)sqrt(C / hd);
    n.p = (float)sqrt(hd / C);
    n.up = (float)sqrt(C / F);
    n.gate = (float)(sqrt(C / F) * sqrt(C));
    n.act = m->angpt_nu[c->max_seq];
    n.d = 1.0f;
    n.att = m->angpt_nu;
    return n;
}

double gpt2_angpt_nu_act(int d_model, int d_ff) {
    /* E silu(g)^2, g ~ N(0, s^2), s^2 = d/d_ff: composite Simpson on [-12 s, 12 s] (the tails beyond are
     * below 1e-30 of the integral), 8000 intervals: exact to float precision */
    const double s = sqrt((double)d_model / d_ff), a = -12.0 * s, hstep = 24.0 * s / 8000;
    double acc = 0;
    for (int i = 0; i <= 8000; i++) {
        const double g = a + i * hstep, si = g / (1.0 + exp(-g));
        const double f = si * si * exp(-0.5 * g * g / (s * s)) / (s * sqrt(2.0 * M_PI));
        acc += f * (i == 0 || i == 8000 ? 1.0 : i % 2 ? 4.0 : 2.0);
    }
    return 1.0 / sqrt(acc * hstep / 3.0);
}

int gpt2_angpt_setup(gpt2_model *m, lmc_err *err) {
    const gpt2_config *c = &m->cfg;
    const int T = c->max_seq, hd = c->d_model / c->n_head;
    float *nu = (float *)lmc_alloc_array((size_t)T + 1, sizeof(float), err);
    double *acc = (double *)lmc_alloc_array((size_t)T, sizeof(double), err);
    float *q = (float *)lmc_alloc_array((size_t)hd, sizeof(float), err);
    if (!nu || !acc || !q) { lmc_free(nu); lmc_free(acc); lmc_free(q); return LMC_ENOMEM; }
    memset(acc, 0, (size_t)T * sizeof(double));
    /* logit = scale * cos(q, k): QK-norm makes |q| = |k| = sqrt(hd), the kernel divides by sqrt(hd) */
    const double scale = c->qk_norm ? sqrt((double)hd) : 1.0 / sqrt((double)hd);
    for (int s = 0; s < MC_DRAWS; s++) {
        /* one stream per draw ("anGPT" + s): the same table for every model of this head size, and a
         * longer context (gpt2_set_context) extends it without changing the first positions */
        lmc_rng rng;
        lmc_rng_init(&rng, 0x616e475054ull + (uint64_t)s);
        double qq = 0;
        for (int e = 0; e < hd; e++) { q[e] = lmc_rng_normal(&rng); qq += (double)q[e] * q[e]; }
        const double qi = 1.0 / sqrt(qq);
        double z = 0, z2 = 0;  /* running sum of exp(logit) and exp(2 logit) over the prefix */
        for (int t = 0; t < T; t++) {
            double dot = 0, kk = 0;
            for (int e = 0; e < hd; e++) { const double k = lmc_rng_normal(&rng); dot += k * q[e]; kk += k * k; }
            const double w = exp(scale * dot * qi / sqrt(kk));
            z += w;
            z2 += w * w;
            acc[t] += z2 / (z * z);
        }
    }
    for (int t = 0; t < T; t++) nu[t] = (float)(1.0 / sqrt(acc[t] / MC_DRAWS));
    nu[T] = (float)gpt2_angpt_nu_act(c->d_model, c->d_ff);
    lmc_free(m->angpt_nu);
    m->angpt_nu = nu;
    lmc_free(acc);
    lmc_free(q);
    return 0;
}

void gpt2_angpt_free(gpt2_model *m) {
    if (!m->angpt) return;
    lmc_free(m->angpt->buf);
    lmc_free(m->angpt);
    m->angpt = NULL;
}

float *gpt2_angpt_param(const gpt2_model *m, float *buf, int l, int which) {
    int v = m->ngpt_view0 + (l < m->cfg.n_layer ? 2 * l + which : 2 * m->cfg.n_layer);
    return buf + m->views[v].offset;
}

static int ensure(gpt2_model *m, size_t N, lmc_err *err) {
    if (m->angpt && m->angpt->cap_N >= N) return 0;
    gpt2_angpt_free(m);
    struct gpt2_angpt *s = (struct gpt2_angpt *)lmc_alloc(sizeof *s, err);
    if (!s) return LMC_ENOMEM;
    memset(s, 0, sizeof *s);
    const gpt2_config *c = &m->cfg;
    const size_t L = (size_t)c->n_layer, C = (size_t)c->d_model, H = (size_t)c->n_head, F = (size_t)c->d_ff;
    const size_t Q = 3 * C, Vp = (size_t)c->padded_vocab;
    struct { float **p; size_t n; } parts[] = {
        {&s->h, (L + 1) * N * C}, {&s->qkv, L * N * Q}, {&s->qk_raw, L * N * 2 * C}, {&s->qk_rstd, L * N * 2 * H},
        {&s->atty, L * N * C}, {&s->atts, L * N * C}, {&s->lse, L * N * H}, {&s->ho, L * N * C},
        {&s->mid, L * N * C}, {&s->hm, L * N * C}, {&s->uvs, L * N * 2 * F}, {&s->act, L * N * F},
        {&s->raw, N * Vp}, {&s->logits, N * Vp}, {&s->lse_ce, N}, {&s->losses, N},
        {&s->dh, N * C}, {&s->dmid, N * C}, {&s->dt, N * C}, {&s->dQ, N * Q}, {&s->d2F, N * 2 * F},
        {&s->dF, N * F}, {&s->da, C}, {(float **)&s->inputs, N}, {(float **)&s->targets, N},
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
    m->angpt = s;
    return 0;
}

/* Effective alpha of layer l (which 0 = attention, 1 = MLP) into a [d], and nu(alpha) into nu [d]. */
static void alpha_eff(const gpt2_model *m, int l, int which, float *a, float *nu) {
    const int C = m->cfg.d_model;
    const float f = ALPHA_INIT * sqrtf((float)C);  /* init_value / base */
    const float *p = gpt2_angpt_param(m, m->params, l, which);
    for (int c = 0; c < C; c++) {
        a[c] = fabsf(p[c] * f);
        nu[c] = 1.0f / sqrtf(a[c] * a[c] + (1.0f - a[c]) * (1.0f - a[c]));
    }
}

/* out = nu * (h + a (u - h)) for N rows (out may alias h). */
static void lerp_fwd(float *out, const float *h, const float *u, const float *a, const float *nu, size_t N, int C) {
#pragma omp parallel for schedule(static)
    for (size_t r = 0; r < N; r++)
        for (int c = 0; c < C; c++) out[r * C + c] = nu[c] * (h[r * C + c] + a[c] * (u[r * C + c] - h[r * C + c]));
}

/* Backward of y = nu(a) ((1 - a) h + a u): dh = dy nu (1 - a), du = dy nu a (both overwrite; dh may
 * alias dy), and dp (the stored parameter's gradient) += sum_r dy (nu (u - h) - (2a - 1) nu^2 y) * da/dp. */
static void lerp_bwd(float *dh, float *du, float *dp, float *da, const float *dy, const float *y, const float *h,
                     const float *u, const float *a, const float *nu, const float *p, size_t N, int C) {
#pragma omp parallel for schedule(static)
    for (int c = 0; c < C; c++) {  /* columns in parallel, rows in order: deterministic */
        double acc = 0;
        const float k2 = (2.0f * a[c] - 1.0f) * nu[c] * nu[c];
        for (size_t r = 0; r < N; r++) {
            const size_t i = r * C + c;
            acc += (double)dy[i] * (nu[c] * (u[i] - h[i]) - k2 * y[i]);
        }
        da[c] = (float)acc;
    }
    const float f = ALPHA_INIT * sqrtf((float)C);
    for (int c = 0; c < C; c++) {  /* a = |p f| */
        const float v = p[c] * f;
        dp[c] += da[c] * f * (v > 0 ? 1.0f : v < 0 ? -1.0f : 0.0f);
    }
#pragma omp parallel for schedule(static)
    for (size_t r = 0; r < N; r++)
        for (int c = 0; c < C; c++) {
            const float g = dy[r * C + c] * nu[c];
            du[r * C + c] = g * a[c];
            dh[r * C + c] = g * (1.0f - a[c]);
        }
}

/* Scale gate | up columns of N rows of 2F. */
static void scale_uv(float *x, size_t N, int F, float g, float u) {
#pragma omp parallel for schedule(static)
    for (size_t r = 0; r < N; r++) {
        float *row = x + r * 2 * (size_t)F;
        for (int j = 0; j < F; j++) row[j] *= g;
        for (int j = F; j < 2 * F; j++) row[j] *= u;
    }
}

/* Rows (B, T, d): row (b, t) times nu[t]. */
static void scale_pos(float *out, const float *in, const float *nu, int B, int T, int C) {
#pragma omp parallel for schedule(static)
    for (long r = 0; r < (long)B * T; r++) {
        const float s = nu[r % T];
        for (int c = 0; c < C; c++) out[(size_t)r * C + c] = in[(size_t)r * C + c] * s;
    }
}

int gpt2_angpt_forward(gpt2_model *m, const int32_t *inputs, const int32_t *targets, int B, int T, lmc_err *err) {
    const gpt2_config *c = &m->cfg;
    const size_t N = (size_t)B * (size_t)T;
    int rc = ensure(m, N, err);
    if (rc) return rc;
    struct gpt2_angpt *s = m->angpt;
    const int L = c->n_layer, H = c->n_head, C = c->d_model, hd = C / H, F = c->d_ff, Q = 3 * C;
    const size_t NC = N * (size_t)C, NQ = N * (size_t)Q;
    const angpt_nu nu = factors(m);
    float *sc = (float *)lmc_alloc_array(4 * (size_t)C, sizeof(float), err);
    if (!sc) return LMC_ENOMEM;
    float *aA = sc, *nA = sc + C, *aM = sc + 2 * C, *nM = sc + 3 * C;
    memcpy(s->inputs, inputs, N * sizeof(int32_t));
    s->has_targets = targets != NULL;
    if (targets) memcpy(s->targets, targets, N * sizeof(int32_t));
    m->B = B;
    m->T = T;
    k_embed_fwd(s->h, inputs, m->wte, N, C);
    for (int l = 0; l < L; l++) {
        gpt2_layer p = gpt2_layer_ptrs(m, m->params, l);
        alpha_eff(m, l, 0, aA, nA);
        alpha_eff(m, l, 1, aM, nM);
        const float *x = s->h + (size_t)l * NC;
        float *qkv = s->qkv + (size_t)l * NQ, *atty = s->atty + (size_t)l * NC, *atts = s->atts + (size_t)l * NC;
        float *ho = s->ho + (size_t)l * NC, *mid = s->mid + (size_t)l * NC, *hm = s->hm + (size_t)l * NC;
        float *uvs = s->uvs + (size_t)l * N * 2 * F, *act = s->act + (size_t)l * N * F, *y = s->h + (size_t)(l + 1) * NC;
        k_matmul_fwd(qkv, x, p.qkv_w, NULL, N, C, Q);
        k_scale(qkv, nu.qkv, NQ);
        if (c->qk_norm)
            k_qknorm_fwd(qkv, s->qk_raw + (size_t)l * N * 2 * C, s->qk_rstd + (size_t)l * N * 2 * H, p.qn_w, p.kn_w, N,
                         (size_t)Q, H, H, hd, c->ln_eps);
        if (m->rope_cos) k_rope_apply(qkv, (size_t)Q, B, T, 0, 0, 2 * H, hd, m->rope_cos, m->rope_sin, 0);
        if ((rc = k_attention_fwd_gqa(atty, s->lse + (size_t)l * N * H, qkv, B, T, H, H, hd, m->alibi))) {
            lmc_free(sc);
            return lmc_errf(err, rc, "forward: out of memory in attention");
        }
        scale_pos(atts, atty, nu.att, B, T, C);
        k_matmul_fwd(ho, atts, p.proj_w, NULL, N, C, C);
        k_scale(ho, nu.p, NC);
        lerp_fwd(mid, x, ho, aA, nA, N, C);
        k_matmul_fwd(uvs, mid, p.fc_w, NULL, N, C, 2 * F);
        scale_uv(uvs, N, F, nu.gate, nu.up);
        k_swiglu_fwd(act, uvs, N, F);
        k_scale(act, nu.act, N * (size_t)F);
        k_matmul_fwd(hm, act, p.fcproj_w, NULL, N, F, C);
        if (nu.d != 1.0f) k_scale(hm, nu.d, NC);
        lerp_fwd(y, mid, hm, aM, nM, N, C);
    }
    lmc_free(sc);
    gpt2_ngpt_head_fwd(m, s->h + (size_t)L * NC, gpt2_angpt_param(m, m->params, L, 0), s->raw, s->logits, s->losses,
                       s->lse_ce, targets);
    return 0;
}

int gpt2_angpt_backward(gpt2_model *m, float loss_scale, lmc_err *err) {
    struct gpt2_angpt *s = m->angpt;
    if (!s || !s->has_targets || !m->logits)
        return lmc_errf(err, LMC_EINVAL, "backward: needs a forward pass with targets first");
    const gpt2_config *c = &m->cfg;
    const int B = m->B, T = m->T, L = c->n_layer, H = c->n_head, C = c->d_model, hd = C / H, F = c->d_ff, Q = 3 * C;
    const size_t N = (size_t)B * T, NC = N * (size_t)C, NQ = N * (size_t)Q;
    const angpt_nu nu = factors(m);
    float *sc = (float *)lmc_alloc_array(4 * (size_t)C, sizeof(float), err);
    if (!sc) return LMC_ENOMEM;
    float *aA = sc, *nA = sc + C, *aM = sc + 2 * C, *nM = sc + 3 * C;
    gpt2_ngpt_head_bwd(m, s->h + (size_t)L * NC, gpt2_angpt_param(m, m->params, L, 0),
                       gpt2_angpt_param(m, m->grads, L, 0), s->raw, s->logits, s->lse_ce, s->targets, loss_scale, s->dh);
    for (int l = L - 1; l >= 0; l--) {
        gpt2_layer p = gpt2_layer_ptrs(m, m->params, l), dp = gpt2_layer_ptrs(m, m->grads, l);
        alpha_eff(m, l, 0, aA, nA);
        alpha_eff(m, l, 1, aM, nM);
        const float *x = s->h + (size_t)l * NC, *y = s->h + (size_t)(l + 1) * NC;
        const float *qkv = s->qkv + (size_t)l * NQ, *atty = s->atty + (size_t)l * NC, *atts = s->atts + (size_t)l * NC;
        const float *ho = s->ho + (size_t)l * NC, *mid = s->mid + (size_t)l * NC, *hm = s->hm + (size_t)l * NC;
        const float *uvs = s->uvs + (size_t)l * N * 2 * F, *act = s->act + (size_t)l * N * F;
        /* MLP residual: y = nuM ((1 - aM) mid + aM hm) */
        lerp_bwd(s->dmid, s->dt, gpt2_angpt_param(m, m->grads, l, 1), s->da, s->dh, y, mid, hm, aM, nM,
                 gpt2_angpt_param(m, m->params, l, 1), N, C);
        if (nu.d != 1.0f) k_scale(s->dt, nu.d, NC);
        k_matmul_bwd(s->dF, dp.fcproj_w, NULL, s->dt, act, p.fcproj_w, N, F, C);
        k_scale(s->dF, nu.act, N * (size_t)F);
        k_swiglu_bwd(s->d2F, uvs, s->dF, N, F);
        scale_uv(s->d2F, N, F, nu.gate, nu.up);
        k_matmul_bwd_acc(s->dmid, dp.fc_w, NULL, s->d2F, mid, p.fc_w, N, C, 2 * F);
        /* attention residual: mid = nuA ((1 - aA) x + aA ho) */
        lerp_bwd(s->dh, s->dt, gpt2_angpt_param(m, m->grads, l, 0), s->da, s->dmid, mid, x, ho, aA, nA,
                 gpt2_angpt_param(m, m->params, l, 0), N, C);
        k_scale(s->dt, nu.p, NC);
        k_matmul_bwd(s->dmid /* d atts */, dp.proj_w, NULL, s->dt, atts, p.proj_w, N, C, C);
        scale_pos(s->dmid, s->dmid, nu.att, B, T, C);
        int rc = k_attention_bwd_gqa(s->dQ, s->dmid, qkv, atty, s->lse + (size_t)l * N * H, B, T, H, H, hd, m->alibi);
        if (rc) { lmc_free(sc); return lmc_errf(err, rc, "backward: out of memory in attention"); }
        if (m->rope_cos) k_rope_apply(s->dQ, (size_t)Q, B, T, 0, 0, 2 * H, hd, m->rope_cos, m->rope_sin, 1);
        if (c->qk_norm)
            k_qknorm_bwd(s->dQ, dp.qn_w, dp.kn_w, s->qk_raw + (size_t)l * N * 2 * C, s->qk_rstd + (size_t)l * N * 2 * H,
                         p.qn_w, p.kn_w, N, (size_t)Q, H, H, hd);
        k_scale(s->dQ, nu.qkv, NQ);
        k_matmul_bwd_acc(s->dh, dp.qkv_w, NULL, s->dQ, x, p.qkv_w, N, C, Q);
    }
    k_embed_bwd(m->grads + m->views[m->wte_view].offset, s->dh, s->inputs, N, C);
    s->has_targets = 0;
    lmc_free(sc);
    return 0;
}

/* Rows of a [rows, cols] matrix into the unit ball (exact = 1: onto the sphere; zero rows stay zero). */
static void bound_rows(float *w, size_t rows, size_t cols, int exact) {
#pragma omp parallel for schedule(static)
    for (size_t r = 0; r < rows; r++) {
        double ss = 0;
        for (size_t j = 0; j < cols; j++) ss += (double)w[r * cols + j] * w[r * cols + j];
        const double n = sqrt(ss);
        if (n == 0 || (!exact && n <= 1.0)) continue;
        const float inv = (float)(1.0 / n);
        for (size_t j = 0; j < cols; j++) w[r * cols + j] *= inv;
    }
}

static void bound_cols(float *w, size_t rows, size_t cols, int exact) {
#pragma omp parallel for schedule(static)
    for (size_t j = 0; j < cols; j++) {
        double ss = 0;
        for (size_t r = 0; r < rows; r++) ss += (double)w[r * cols + j] * w[r * cols + j];
        const double n = sqrt(ss);
        if (n == 0 || (!exact && n <= 1.0)) continue;
        const float inv = (float)(1.0 / n);
        for (size_t r = 0; r < rows; r++) w[r * cols + j] *= inv;
    }
}

static void project(gpt2_model *m, int exact) {
    const gpt2_config *c = &m->cfg;
    const size_t C = (size_t)c->d_model, F = (size_t)c->d_ff, V = (size_t)c->vocab_size;
    bound_rows(m->wte, V, C, exact);
    bound_rows(m->lm_head, V, C, exact);
    for (int l = 0; l < c->n_layer; l++) {
        gpt2_layer p = gpt2_layer_ptrs(m, m->params, l);
        bound_cols(p.qkv_w, C, 3 * C, exact);  /* input vectors of W_q, W_k, W_v */
        bound_rows(p.proj_w, C, C, exact);     /* output vectors of W_o */
        bound_cols(p.fc_w, C, 2 * F, exact);   /* input vectors of W_gate, W_up */
        bound_rows(p.fcproj_w, F, C, exact);   /* output vectors of W_down */
    }
}

void gpt2_angpt_project(gpt2_model *m) { project(m, 0); }

void gpt2_angpt_init(gpt2_model *m) {
    const gpt2_config *c = &m->cfg;
    const float base = 1.0f / sqrtf((float)c->d_model);
    for (int l = 0; l < c->n_layer; l++) {
        float *pa = gpt2_angpt_param(m, m->params, l, 0), *pm = gpt2_angpt_param(m, m->params, l, 1);
        for (int k = 0; k < c->d_model; k++) pa[k] = pm[k] = base;
    }
    float *sz = gpt2_angpt_param(m, m->params, c->n_layer, 0);
    for (int v = 0; v < c->vocab_size; v++) sz[v] = base;
    project(m, 1);  /* normalised init: every d-long vector of every matrix on the unit sphere */
}

int gpt2_angpt_decode_step(const gpt2_model *m, int32_t token, int t, float *kcache, float *vcache, int max_len,
                           float *x, float *h, float *qkv, float *att, float *fc, float *act, float *scores,
                           float *logits, lmc_err *err) {
    const gpt2_config *c = &m->cfg;
    const int L = c->n_layer, H = c->n_head, C = c->d_model, hd = C / H, F = c->d_ff, Q = 3 * C;
    const angpt_nu nu = factors(m);
    float *sc = (float *)lmc_alloc_array(4 * (size_t)C, sizeof(float), err);
    if (!sc) return LMC_ENOMEM;
    float *aA = sc, *nA = sc + C, *aM = sc + 2 * C, *nM = sc + 3 * C;
    k_embed_fwd(x, &token, m->wte, 1, C);
    for (int l = 0; l < L; l++) {
        gpt2_layer p = gpt2_layer_ptrs(m, m->params, l);
        alpha_eff(m, l, 0, aA, nA);
        alpha_eff(m, l, 1, aM, nM);
        float *kc = kcache + (size_t)l * (size_t)max_len * C, *vc = vcache + (size_t)l * (size_t)max_len * C;
        k_matmul_fwd(qkv, x, p.qkv_w, NULL, 1, C, Q);
        k_scale(qkv, nu.qkv, (size_t)Q);
        if (c->qk_norm) k_qknorm_fwd(qkv, NULL, NULL, p.qn_w, p.kn_w, 1, (size_t)Q, H, H, hd, c->ln_eps);
        if (m->rope_cos) k_rope_apply(qkv, (size_t)Q, 1, 1, t, 0, 2 * H, hd, m->rope_cos, m->rope_sin, 0);
        memcpy(kc + (size_t)t * C, qkv + C, (size_t)C * sizeof(float));
        memcpy(vc + (size_t)t * C, qkv + 2 * C, (size_t)C * sizeof(float));
        k_attention_decode_gqa(att, qkv, kc, vc, t + 1, (size_t)C, H, H, hd, m->alibi, scores);
        k_scale(att, nu.att[t], (size_t)C);
        k_matmul_fwd(h, att, p.proj_w, NULL, 1, C, C);
        k_scale(h, nu.p, (size_t)C);
        lerp_fwd(x, x, h, aA, nA, 1, C);
        k_matmul_fwd(fc, x, p.fc_w, NULL, 1, C, 2 * F);
        scale_uv(fc, 1, F, nu.gate, nu.up);
        k_swiglu_fwd(act, fc, 1, F);
        k_scale(act, nu.act, (size_t)F);
        k_matmul_fwd(h, act, p.fcproj_w, NULL, 1, F, C);
        if (nu.d != 1.0f) k_scale(h, nu.d, (size_t)C);
        lerp_fwd(x, x, h, aM, nM, 1, C);
    }
    const float *sz = gpt2_angpt_param(m, m->params, L, 0);
    const float szf = sqrtf((float)C);
    k_lmhead_fwd(logits, x, m->lm_head, 1, C, c->padded_vocab);
    for (int v = 0; v < c->padded_vocab; v++) logits[v] = v < c->vocab_size ? logits[v] * sz[v] * szf : 0.0f;
    lmc_free(sc);
    return 0;
}

const float *gpt2_angpt_hidden(const gpt2_model *m, int l) {
    if (!m->angpt || l < 0 || l > m->cfg.n_layer || m->B <= 0) return NULL;
    return m->angpt->h + (size_t)l * (size_t)m->B * (size_t)m->T * (size_t)m->cfg.d_model;
}

/* Mean over rows of the norm of n-float vectors at stride ld (ld = n: contiguous rows), `per` of them a row. */
static double mean_norm(const float *x, size_t rows, int per, int n, size_t ld) {
    double acc = 0;
    for (size_t r = 0; r < rows; r++)
        for (int k = 0; k < per; k++) {
            double ss = 0;
            for (int e = 0; e < n; e++) ss += (double)x[r * ld + (size_t)k * n + e] * x[r * ld + (size_t)k * n + e];
            acc += sqrt(ss);
        }
    return acc / ((double)rows * per);
}

int gpt2_angpt_stats(const gpt2_model *m, double *st, double *hn) {
    const struct gpt2_angpt *s = m->angpt;
    if (!s || m->B <= 0) return -1;
    const gpt2_config *c = &m->cfg;
    const int L = c->n_layer, H = c->n_head, C = c->d_model, hd = C / H, F = c->d_ff;
    const size_t N = (size_t)m->B * (size_t)m->T, NC = N * (size_t)C;
    memset(st, 0, GPT2_ANGPT_STATS * sizeof(double));
    for (int l = 0; l < L; l++) {
        /* q and k before QK-norm (needs it: qk_raw), v as the attention read it */
        if (c->qk_norm) {
            st[0] += mean_norm(s->qk_raw + (size_t)l * N * 2 * C, N, H, hd, 2 * (size_t)C) / L;
            st[1] += mean_norm(s->qk_raw + (size_t)l * N * 2 * C + C, N, H, hd, 2 * (size_t)C) / L;
        }
        st[2] += mean_norm(s->qkv + (size_t)l * N * 3 * C + 2 * C, N, H, hd, 3 * (size_t)C) / L;
        st[3] += mean_norm(s->atts + (size_t)l * NC, N, H, hd, (size_t)C) / L;
        st[4] += mean_norm(s->ho + (size_t)l * NC, N, 1, C, (size_t)C) / L;
        st[5] += mean_norm(s->uvs + (size_t)l * N * 2 * F + F, N, 1, F, 2 * (size_t)F) / L;
        st[6] += mean_norm(s->act + (size_t)l * N * F, N, 1, F, (size_t)F) / L;
        st[7] += mean_norm(s->hm + (size_t)l * NC, N, 1, C, (size_t)C) / L;
    }
    for (int l = 0; hn && l <= L; l++) hn[l] = mean_norm(s->h + (size_t)l * NC, N, 1, C, (size_t)C);
    return 0;
}
