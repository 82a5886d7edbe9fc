/* Muon (Jordan et al. 2024) on the 2-D weights inside the blocks, AdamW on everything else, in the
 * operation order of torch.optim.Muon (PyTorch 2.9+, single-tensor path):
 *
 *   B = lerp(B, g, 1 - mu);   U = nesterov ? lerp(g, B, mu) : B
 *   O = NS5(U): X = U / max(||U||_F, eps) on the wide orientation (rows <= cols), then 5 times
 *       A = X X^T;  X = a X + (b A + c A A) X      (a, b, c) = (3.4445, -4.7750, 2.0315)
 *   W = W (1 - lr wd);   W -= adjust(lr, shape) O
 *
 * torch's weights are [out, in]; lmc's Conv1D views are [in, out], the transpose. Newton-Schulz is
 * transpose-equivariant (an odd matrix polynomial), and the orientation torch picks (it transposes
 * when out > in) is reproduced so the roundings match: on lmc's layout the iteration runs directly
 * when in < out and on the transpose otherwise. adjust: "original" sqrt(max(1, out/in)) or
 * "match_rms_adamw" (Moonlight) 0.2 sqrt(max(out, in)). All products go through k_gemm, so under
 * train.precision bf16 they take bf16 inputs with fp32 accumulation (torch does the iteration in
 * bf16 throughout). */
#include "optim/optim_internal.h"

#include <math.h>
#include <string.h>
#include "base/mem.h"
#include "kernels/cpu/kernels.h"
#include "optim/optim.h"

int optim_muon_create(lmc_optim *o, gpt2_model *m, lmc_err *err) {
    size_t xmax = 0, smax = 0;
    for (int i = 0; i < m->n_views; i++) {
        if (!optim_muon_view(m, i)) continue;
        size_t r = (size_t)m->views[i].shape[0], c = (size_t)m->views[i].shape[1], s = r < c ? r : c;
        if (r * c > xmax) xmax = r * c;
        if (s * s > smax) smax = s * s;
    }
    if (!xmax) return 0;
    o->ns_x = lmc_alloc_array(xmax, sizeof(float), err);
    o->ns_y = lmc_alloc_array(xmax, sizeof(float), err);
    o->ns_g = lmc_alloc_array(smax, sizeof(float), err);
    o->ns_b = lmc_alloc_array(smax, sizeof(float), err);
    return o->ns_x && o->ns_y && o->ns_g && o->ns_b ? 0 : LMC_ENOMEM;
}

/* X (r x c, row major) <- NS_steps(X / max(||X||, eps)); returns the buffer holding the result. */
static float *newton_schulz(lmc_optim *o, int r, int c) {
    const float a = 3.4445f, b = -4.7750f, cc = 2.0315f;
    float *X = o->ns_x, *Y = o->ns_y, *G = o->ns_g, *P = o->ns_b;
    const size_t n = (size_t)r * (size_t)c;
    double ss = 0;
    for (size_t j = 0; j < n; j++) ss += (double)X[j] * (double)X[j];
    float nrm = (float)sqrt(ss);
    if (nrm < (float)o->hp.muon_eps) nrm = (float)o->hp.muon_eps;
    for (size_t j = 0; j < n; j++) X[j] = X[j] / nrm;
    const int direct = r < c;   /* else iterate on X^T (torch's orientation) */
    const int s = direct ? r : c;
    for (int it = 0; it < o->hp.muon_ns_steps; it++) {
        if (direct) k_gemm(0, 1, s, s, c, 1.0f, X, c, X, c, 0.0f, G, s);       /* G = X X^T */
        else k_gemm(1, 0, s, s, r, 1.0f, X, c, X, c, 0.0f, G, s);              /* G = X^T X */
        memcpy(P, G, (size_t)s * (size_t)s * sizeof(float));
        k_gemm(0, 0, s, s, s, cc, G, s, G, s, b, P, s);                         /* P = b G + c G G */
        memcpy(Y, X, n * sizeof(float));
        if (direct) k_gemm(0, 0, r, c, r, 1.0f, P, s, X, c, a, Y, c);          /* Y = a X + P X */
        else k_gemm(0, 1, r, c, c, 1.0f, X, c, P, s, a, Y, c);                 /* Y = a X + X P^T */
        float *t = X;
        X = Y;
        Y = t;
    }
    return X;
}

int optim_muon_step(lmc_optim *o, gpt2_model *m, double lr, lmc_err *err) {
    (void)err;
    const optim_hparams *h = &o->hp;
    m->step++;
    double bc1 = 1.0 - pow(h->beta1, (double)m->step), bc2 = 1.0 - pow(h->beta2, (double)m->step);
    /* AdamW part: same kernel and arithmetic as gpt2_adamw_step */
#pragma omp parallel
    for (int i = 0; i < m->n_views; i++) {
        if (optim_muon_view(m, i)) continue;
        const gpt2_view *v = &m->views[i];
        size_t off = v->offset;
        optim_adamw_team(m->params + off, m->grads + off, m->m + off, m->v + off, v->numel, (float)lr,
                         (float)h->beta1, (float)h->beta2, (float)h->eps,
                         v->decay ? (float)h->weight_decay : 0.0f, bc1, bc2);
    }
    const double mlr = h->muon_lr > 0 ? (h->lr > 0 ? h->muon_lr * (lr / h->lr) : 0.0) : lr;
    const float mu = (float)h->muon_momentum, one_mu = (float)(1.0 - h->muon_momentum);
    for (int i = 0; i < m->n_views; i++) {
        if (!optim_muon_view(m, i)) continue;
        const gpt2_view *v = &m->views[i];
        const int r = (int)v->shape[0], c = (int)v->shape[1];   /* lmc [in, out] */
        float *p = m->params + v->offset, *buf = m->m + v->offset, *X = o->ns_x;
        const float *g = m->grads + v->offset;
        const long n = (long)v->numel;
#pragma omp parallel for schedule(static)
        for (long j = 0; j < n; j++) {
            float bj = lerpf_torch(buf[j], g[j], one_mu);
            buf[j] = bj;
            X[j] = h->muon_nesterov ? lerpf_torch(g[j], bj, mu) : bj;
        }
        const float *O = newton_schulz(o, r, c);
        const double A = c, B = r;   /* torch's [out, in] */
        double ratio = h->muon_adjust_lr == OPTIM_MUON_LR_MATCH_RMS_ADAMW ? 0.2 * sqrt(A > B ? A : B)
                                                                           : sqrt(A / B > 1 ? A / B : 1);
        const float decay = (float)(1.0 - mlr * h->muon_weight_decay), alpha = (float)(-(mlr * ratio));
#pragma omp parallel for schedule(static)
        for (long j = 0; j < n; j++) p[j] = p[j] * decay + alpha * O[j];
    }
    lmc_kernels_weights_changed();
    return 0;
}
