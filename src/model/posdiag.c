/* Positional-information diagnostic: see posdiag.h. */
#include "model/posdiag.h"
#include "kernels/cpu/kernels.h"
#include "base/mem.h"
#include <math.h>
#include <string.h>

typedef struct { double n, st, st2, sc, sc2, s4[4], s42[4]; } acc;

typedef struct {
    gpt2_model *m;
    posdiag *d;
    const int32_t *inputs;
    acc *a;            /* [L * H] */
    float *buf;        /* rotated copy of qkv (RoPE) */
    float *cx, *px, *cq, *pq; /* learned: content / position parts of the normed input and of qkv */
    int fail;
} probe_ctx;

static double dot(const float *a, const float *b, int n) {
    double s = 0;
    for (int e = 0; e < n; e++) s += (double)a[e] * b[e];
    return s;
}

static void add(acc *a, double t, double c) { a->n += 1; a->st += t; a->st2 += t * t; a->sc += c; a->sc2 += c * c; }
static double var(double n, double s, double s2) { double mu = s / n, v = s2 / n - mu * mu; return v > 0 ? v : 0; }

/* learned positions, layer 0: split the normed input into content and position parts and project both */
static void split_learned(probe_ctx *p, const float *x, const float *qkv, int B, int T) {
    gpt2_model *m = p->m;
    const gpt2_config *c = &m->cfg;
    const int C = c->d_model, hd = C / c->n_head, Q = (c->n_head + 2 * c->n_kv_head) * hd;
    const size_t N = (size_t)B * T;
    gpt2_layer L = gpt2_layer_ptrs(m, m->params, 0);
    for (size_t n = 0; n < N; n++) {
        const float *xr = x + n * C, *cr = m->wte + (size_t)p->inputs[n] * C, *pr = m->wpe + (n % (size_t)T) * C;
        float *co = p->cx + n * C, *po = p->px + n * C;
        double mx = 0, mc = 0, mp = 0, v = 0;
        if (c->norm == GPT2_NORM_LAYERNORM) {
            for (int e = 0; e < C; e++) { mx += xr[e]; mc += cr[e]; mp += pr[e]; }
            mx /= C; mc /= C; mp /= C;
            for (int e = 0; e < C; e++) v += (xr[e] - mx) * (xr[e] - mx);
        } else {
            for (int e = 0; e < C; e++) v += (double)xr[e] * xr[e];
        }
        float r = (float)(1.0 / sqrt(v / C + c->ln_eps));
        for (int e = 0; e < C; e++) {
            co[e] = (float)(cr[e] - mc) * r * L.ln1_w[e] + (L.ln1_b ? L.ln1_b[e] : 0.0f);
            po[e] = (float)(pr[e] - mp) * r * L.ln1_w[e];
        }
    }
    k_matmul_fwd(p->cq, p->cx, L.qkv_w, L.qkv_b, N, C, Q);
    k_matmul_fwd(p->pq, p->px, L.qkv_w, NULL, N, C, Q);
    /* self-check: the parts add up to the model's own q and k */
    double e = 0, mxq = 0;
    for (size_t n = 0; n < N; n++)
        for (int k = 0; k < (c->n_head + c->n_kv_head) * hd; k++) {
            size_t o = n * Q + k;
            e = fmax(e, fabs((double)p->cq[o] + p->pq[o] - qkv[o]));
            mxq = fmax(mxq, fabs(qkv[o]));
        }
    p->d->recon_err = fmax(p->d->recon_err, mxq > 0 ? e / mxq : e);
}

static void probe(void *ctx, int l, const float *x, const float *qkv, int B, int T) {
    probe_ctx *p = (probe_ctx *)ctx;
    gpt2_model *m = p->m;
    const gpt2_config *c = &m->cfg;
    const int NH = c->n_head, KV = c->n_kv_head, G = NH / KV, C = c->d_model, hd = C / NH;
    const int Q = (NH + 2 * KV) * hd;
    const double sc = 1.0 / sqrt((double)hd);
    const size_t N = (size_t)B * T;
    if (c->position == GPT2_POS_NONE) return;
    if (c->position == GPT2_POS_LEARNED && (l > 0 || c->qk_norm)) return;
    if (c->position == GPT2_POS_ROPE) {
        memcpy(p->buf, qkv, N * Q * sizeof(float));
        k_rope_apply(p->buf, (size_t)Q, B, T, 0, 0, NH + KV, hd, m->rope_cos, m->rope_sin, 0);
    }
    if (c->position == GPT2_POS_LEARNED) split_learned(p, x, qkv, B, T);
#pragma omp parallel for schedule(dynamic, 1)
    for (int h = 0; h < NH; h++) {
        acc *a = p->a + (size_t)l * NH + h;
        const int qo = h * hd, ko = NH * hd + (h / G) * hd;
        for (int b = 0; b < B; b++)
            for (int i = 0; i < T; i++) {
                const size_t ri = ((size_t)b * T + i) * Q;
                for (int j = 0; j <= i; j++) {
                    const size_t rj = ((size_t)b * T + j) * Q;
                    if (c->position == GPT2_POS_ROPE) {
                        double lr = sc * dot(p->buf + ri + qo, p->buf + rj + ko, hd);
                        double ln = sc * dot(qkv + ri + qo, qkv + rj + ko, hd);
                        add(a, lr, lr - ln);
                    } else if (c->position == GPT2_POS_ALIBI) {
                        double bias = (double)m->alibi[h] * (j - i);
                        add(a, sc * dot(qkv + ri + qo, qkv + rj + ko, hd) + bias, bias);
                    } else {
                        double t4[4] = {sc * dot(p->cq + ri + qo, p->cq + rj + ko, hd),
                                        sc * dot(p->cq + ri + qo, p->pq + rj + ko, hd),
                                        sc * dot(p->pq + ri + qo, p->cq + rj + ko, hd),
                                        sc * dot(p->pq + ri + qo, p->pq + rj + ko, hd)};
                        for (int k = 0; k < 4; k++) { a->s4[k] += t4[k]; a->s42[k] += t4[k] * t4[k]; }
                        add(a, t4[0] + t4[1] + t4[2] + t4[3], t4[1] + t4[2] + t4[3]);
                    }
                }
            }
    }
}

void posdiag_free(posdiag *d) {
    lmc_free(d->pos_share);
    lmc_free(d->terms);
    lmc_free(d->ablate);
    memset(d, 0, sizeof *d);
}

int posdiag_run(gpt2_model *m, const int32_t *x, const int32_t *y, int B, int T, posdiag *d, lmc_err *err) {
    memset(d, 0, sizeof *d);
    const gpt2_config *c = &m->cfg;
    const int L = c->n_layer, H = c->n_head, hd = c->d_model / H, Q = (H + 2 * c->n_kv_head) * hd;
    const size_t N = (size_t)B * T, LH = (size_t)L * H;
    d->n_layer = L;
    d->n_head = H;
    d->position = c->position;
    d->pairs = (int64_t)B * T * (T + 1) / 2;
    probe_ctx p = {0};
    p.m = m;
    p.d = d;
    p.inputs = x;
    d->pos_share = (double *)lmc_alloc_array(LH, sizeof(double), err);
    d->ablate = (double *)lmc_alloc_array(LH, sizeof(double), err);
    p.a = (acc *)lmc_alloc_array(LH, sizeof(acc), err);
    unsigned char *mask = (unsigned char *)lmc_alloc(LH, err);
    int rc = d->pos_share && d->ablate && p.a && mask ? 0 : LMC_ENOMEM;
    if (!rc && c->position == GPT2_POS_ROPE && !(p.buf = (float *)lmc_alloc_array(N * Q, sizeof(float), err))) rc = LMC_ENOMEM;
    if (!rc && c->position == GPT2_POS_LEARNED) {
        d->terms = (double *)lmc_alloc_array((size_t)H * 4, sizeof(double), err);
        p.cx = (float *)lmc_alloc_array(N * c->d_model, sizeof(float), err);
        p.px = (float *)lmc_alloc_array(N * c->d_model, sizeof(float), err);
        p.cq = (float *)lmc_alloc_array(N * Q, sizeof(float), err);
        p.pq = (float *)lmc_alloc_array(N * Q, sizeof(float), err);
        if (!d->terms || !p.cx || !p.px || !p.cq || !p.pq) rc = LMC_ENOMEM;
    }
    if (!rc) {
        m->attn_probe = probe;
        m->attn_probe_ctx = &p;
        rc = gpt2_forward(m, x, y, B, T, NULL, err);
        m->attn_probe = NULL;
        m->attn_probe_ctx = NULL;
        d->base_loss = m->loss;
    }
    for (size_t k = 0; !rc && k < LH; k++) {
        const acc *a = &p.a[k];
        double vt = a->n > 0 ? var(a->n, a->st, a->st2) : 0;
        d->pos_share[k] = a->n > 0 && vt > 0 ? var(a->n, a->sc, a->sc2) / vt : NAN;
        if (d->terms && k < (size_t)H)
            for (int t = 0; t < 4; t++) d->terms[k * 4 + t] = vt > 0 ? var(a->n, a->s4[t], a->s42[t]) / vt : NAN;
    }
    /* per-head ablation */
    m->head_mask = mask;
    for (size_t k = 0; !rc && k < LH; k++) {
        memset(mask, 0, LH);
        mask[k] = 1;
        rc = gpt2_forward(m, x, y, B, T, NULL, err);
        d->ablate[k] = (double)m->loss - d->base_loss;
    }
    m->head_mask = NULL;
    lmc_free(mask);
    lmc_free(p.a);
    lmc_free(p.buf);
    lmc_free(p.cx);
    lmc_free(p.px);
    lmc_free(p.cq);
    lmc_free(p.pq);
    if (rc) posdiag_free(d);
    return rc;
}
