/* KL-Shampoo and KL-SOAP (Lin, Lowe, Dangel, Eschenhagen, Xu, Grosse, "Understanding and Improving
 * Shampoo and SOAP via Kullback-Leibler Minimization", ICLR 2026), in the operation order of the
 * paper's algorithm (the authors' KL-Methods optim/kl_opt.py, fp32; TECHNIQUES.md section 6c). The
 * Kronecker covariance S_a (x) S_b of the gradient is fitted by KL minimisation, whose optimum couples
 * the factors: S_a = E[G S_b^-1 G^T] / d_b, S_b = E[G^T S_a^-1 G] / d_a. Per 2-D view G (r x c; lmc's
 * [in, out] layout: the algorithm is symmetric in its two sides, so the transpose of torch's [out, in]
 * only swaps which side is called a and which b):
 *
 *   first call:  S_a = (1-b) G G^T / c, S_b = (1-b) G^T G / r; Q_a, Q_b = eigenvectors (LAPACK ssyevd,
 *                descending eigenvalues); lambda_a = lambda_b = init_factor; no parameter update
 *   then, t = 1, 2, ...:
 *     kl-shampoo: m = lerp(m, G, 1-b1);  N = Q_a ((Q_a^T m Q_b) * s) Q_b^T,
 *                 s_ij = u_ij / (1 + eps u_ij),  u_ij = lambda_a[i]^-1/2 lambda_b[j]^-1/2
 *     kl-soap:    G' = Q_a^T G Q_b; m = lerp(m, G', 1-b1); v = lerp(v, G'^2, 1-b2);
 *                 N = Q_a (m / (sqrt(v) + eps)) Q_b^T   (no bias correction, as the paper's code)
 *     W -= lr N;  W -= lr wd W
 *     S_a = b S_a + (1-b)/c  G S_b^-1 G^T   with S_b^-1 = Q_b diag(1/lambda_b) Q_b^T (the old lambdas)
 *     S_b = b S_b + (1-b)/r  G^T S_a^-1 G
 *     H = Q_a^T G Q_b;  lambda_a[i] = lerp(lambda_a[i], mean_j H_ij^2 / lambda_b[j], 1-b), lambda_b
 *     likewise (every step, in the possibly stale basis: the EMA eigenvalues the paper finds essential);
 *     lambda^-1/2 is clamped to <= max(10, min(d, clamp)) and that clamped value is the state
 *     every precondition_frequency steps: Q = qr(S Q).Q per side (one power iteration, no re-sorting);
 *     kl-soap rotates m from the old basis into the new one (v keeps its coordinates)
 *
 * b = shampoo_beta (< 0: beta2). KL-Shampoo needs no grafting and no second moment: it keeps v for the
 * 1-D views only (gal_v; checkpoint tensors "v.<view>") and frees the model's full-size v buffer. A side longer than max_precond_dim keeps Q = I (a diagonal Kronecker factor: lambda is
 * still estimated by the rule above; S and the QR are skipped), as SOAP's max_precond_dim; the
 * paper's code has no such limit (it preconditions every side). 1-D views run torch.optim.AdamW
 * (the paper's code handles matrices only).
 *
 * Eigenvector signs: flipping a column of Q_a or Q_b flips the matching row / column of the projected
 * m and G' and leaves every lambda, S^-1 and v unchanged, and Householder QR maps S Q D to qr(S Q) D,
 * so LAPACK's sign choice does not change the trajectory; order is fixed by the first eigenvalues, and
 * the initial lambdas are all equal. Only a degenerate first factor (c > r: G^T G has a null space)
 * leaves the basis undetermined; different LAPACKs then follow different (equally valid) paths. */
#include "optim/optim_internal.h"

#include <lapacke.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "base/mem.h"
#include "kernels/cpu/kernels.h"
#include "optim/optim.h"

static int rotated_side(const lmc_optim *o, const gpt2_view *v, int k) {
    return v->shape[k] <= o->hp.soap_max_precond_dim;
}

int optim_kl_create(lmc_optim *o, gpt2_model *m, lmc_err *err) {
    const optim_hparams *h = &o->hp;
    if (h->soap_precondition_frequency < 1 || h->soap_max_precond_dim < 1)
        return lmc_errf(err, LMC_EINVAL, "%s: precondition_frequency and max_precond_dim must be >= 1",
                        optim_kind_name(h->kind));
    if (!(h->kl_init_factor > 0) || !(h->kl_clamp >= 0))
        return lmc_errf(err, LMC_EINVAL, "%s: init_factor must be > 0 and clamp >= 0", optim_kind_name(h->kind));
    o->kl_off = lmc_alloc_array((size_t)m->n_views, sizeof *o->kl_off, err);
    if (!o->kl_off) return LMC_ENOMEM;
    size_t total = 0, rc_max = 1, d_max = 1, vec = 0;
    for (int i = 0; i < m->n_views; i++) {
        const gpt2_view *v = &m->views[i];
        for (int k = 0; k < 7; k++) o->kl_off[i][k] = -1;
        if (v->ndim != 2) {
            o->kl_off[i][6] = (int64_t)vec;
            vec += v->numel;
            continue;
        }
        for (int k = 0; k < 2; k++) {
            size_t d = (size_t)v->shape[k];
            o->kl_off[i][4 + k] = (int64_t)total;
            total += d;
            if (d > d_max) d_max = d;
            if (!rotated_side(o, v, k)) continue;
            o->kl_off[i][2 * k] = (int64_t)total;
            o->kl_off[i][2 * k + 1] = (int64_t)(total + d * d);
            total += 2 * d * d;
        }
        if (v->numel > rc_max) rc_max = v->numel;
    }
    o->soap_n = total;
    o->soap_mats = lmc_alloc_array(total ? total : 1, sizeof(float), err);
    /* sw[0]: project's intermediate; sw[1], sw[2]: r x c work; sw[3]: d x d; ns_x: r x c (m in the
     * parameter basis across a kl-soap refresh) */
    for (int k = 0; k < 4; k++) o->sw[k] = lmc_alloc_array(k < 3 ? rc_max : d_max * d_max, sizeof(float), err);
    o->ns_x = lmc_alloc_array(rc_max, sizeof(float), err);
    o->sw_tau = lmc_alloc_array(d_max, sizeof(float), err);
    o->sw_est = lmc_alloc_array(2 * d_max, sizeof(float), err);
    if (!o->soap_mats || !o->sw[0] || !o->sw[1] || !o->sw[2] || !o->sw[3] || !o->ns_x || !o->sw_tau || !o->sw_est)
        return LMC_ENOMEM;
    if (h->kind == OPTIM_KL_SHAMPOO) {
        /* no second moment on the matrices: keep v for the 1-D views only and free the model's */
        o->gal_n = vec;
        o->gal_v = lmc_alloc_array(vec ? vec : 1, sizeof(float), err);
        if (!o->gal_v) return LMC_ENOMEM;
        lmc_free(m->v);
        m->v = NULL;
    }
    return 0;
}

/* Q = qr(S Q).Q (one power iteration); uses sw[3], sw_tau */
static int refresh(lmc_optim *o, const float *S, float *Q, int d, lmc_err *err) {
    float *MQ = o->sw[3];
    k_gemm(0, 0, d, d, d, 1.0f, S, d, Q, d, 0.0f, MQ, d);
    lapack_int info = LAPACKE_sgeqrf(LAPACK_ROW_MAJOR, d, d, MQ, d, o->sw_tau);
    if (!info) info = LAPACKE_sorgqr(LAPACK_ROW_MAJOR, d, d, d, MQ, d, o->sw_tau);
    if (info)
        return lmc_errf(err, LMC_ENUMERIC, "%s: QR (LAPACK sgeqrf/sorgqr) of a %dx%d matrix failed (info %d)",
                        optim_kind_name(o->hp.kind), d, d, (int)info);
    memcpy(Q, MQ, (size_t)d * (size_t)d * sizeof(float));
    return 0;
}

/* S = S b + (A A^T) w (side 0: A is r x c, S r x r) or S b + (A^T A) w (side 1: S c x c); uses sw[3] */
static void update_factor(lmc_optim *o, float *S, const float *A, int r, int c, int side, float b, float w) {
    float *O = o->sw[3];
    int d = side ? c : r;
    if (side) k_gemm(1, 0, c, c, r, 1.0f, A, c, A, c, 0.0f, O, c);
    else k_gemm(0, 1, r, r, c, 1.0f, A, c, A, c, 0.0f, O, r);
    for (size_t j = 0; j < (size_t)d * (size_t)d; j++) S[j] = S[j] * b + O[j] * w;
}

/* lambda^-1/2 <- (lerp(lambda, diag, w))^-1/2, clamped; sinv = 0 stands for lambda = 0 */
static void update_eigen(float *sinv, const float *diag, int d, float w, double clamp) {
    const float cap = (float)fmax(10.0, fmin((double)d, clamp));
    for (int i = 0; i < d; i++) {
        float s2 = sinv[i] * sinv[i];
        float D = 1.0f / s2;
        if (!isfinite(D)) D = 0.0f;
        D = lerpf_torch(D, diag[i], w);
        float s = 1.0f / sqrtf(D);
        if (!isfinite(s)) s = 0.0f; /* as the reference's nan_to_num: D = 0 gives 0, not inf */
        if (clamp > 0 && s > cap) s = cap;
        sinv[i] = s;
    }
}

int optim_kl_step(lmc_optim *o, gpt2_model *m, double lr, lmc_err *err) {
    const optim_hparams *h = &o->hp;
    const int soap = h->kind == OPTIM_KL_SOAP;
    const double sb = h->soap_shampoo_beta >= 0 ? h->soap_shampoo_beta : h->beta2;
    const float b = (float)sb;
    const int first = m->step == 0;
    const int64_t t = m->step; /* the paper's step counter: calls after the first */
    const int do_refresh = !first && t % h->soap_precondition_frequency == 0;
    const float w1 = (float)(1.0 - h->beta1), w2 = (float)(1.0 - h->beta2), wb = (float)(1.0 - sb);
    const float eps = (float)h->eps, alpha = (float)(-lr), dec = (float)(-(lr * h->weight_decay));
    /* the 1-D views: torch.optim.AdamW, step t + 1 */
    const double bc1 = 1.0 - pow(h->beta1, (double)(t + 1)), bc2 = 1.0 - pow(h->beta2, (double)(t + 1));
    for (int i = 0; i < m->n_views; i++) {
        const gpt2_view *vw = &m->views[i];
        float *p = m->params + vw->offset, *mm = m->m + vw->offset;
        float *vv = soap ? m->v + vw->offset : vw->ndim != 2 ? o->gal_v + o->kl_off[i][6] : NULL;
        const float *G = m->grads + vw->offset;
        if (vw->ndim != 2) {
            optim_adamw(p, G, mm, vv, vw->numel, (float)lr, (float)h->beta1, (float)h->beta2, eps,
                        vw->decay ? (float)h->weight_decay : 0.0f, bc1, bc2);
            continue;
        }
        const int r = (int)vw->shape[0], c = (int)vw->shape[1];
        const size_t n = vw->numel;
        const int64_t *off = o->kl_off[i];
        float *SA = off[0] >= 0 ? o->soap_mats + off[0] : NULL, *QA = off[1] >= 0 ? o->soap_mats + off[1] : NULL;
        float *SB = off[2] >= 0 ? o->soap_mats + off[2] : NULL, *QB = off[3] >= 0 ? o->soap_mats + off[3] : NULL;
        float *la = o->soap_mats + off[4], *lb = o->soap_mats + off[5];
        if (first) {
            float *O = o->sw[3];
            if (SA) {
                k_gemm(0, 1, r, r, c, 1.0f, G, c, G, c, 0.0f, O, r);
                for (size_t j = 0; j < (size_t)r * (size_t)r; j++) SA[j] = wb * (O[j] / (float)c);
                if (optim_eig_basis(o, SA, QA, r, err)) return -1;
            }
            if (SB) {
                k_gemm(1, 0, c, c, r, 1.0f, G, c, G, c, 0.0f, O, c);
                for (size_t j = 0; j < (size_t)c * (size_t)c; j++) SB[j] = wb * (O[j] / (float)r);
                if (optim_eig_basis(o, SB, QB, c, err)) return -1;
            }
            const float s0 = 1.0f / sqrtf((float)h->kl_init_factor);
            for (int j = 0; j < r; j++) la[j] = s0;
            for (int j = 0; j < c; j++) lb[j] = s0;
            continue;
        }
        /* the step direction N (into sw[2]) */
        float *X = o->sw[1], *N = o->sw[2];
        if (soap) {
            optim_project(o, G, r, c, QA, QB, X);
            for (size_t j = 0; j < n; j++) {
                float g = X[j];
                mm[j] = lerpf_torch(mm[j], g, w1);
                vv[j] = lerpf_torch(vv[j], g * g, w2);
                X[j] = mm[j] / (sqrtf(vv[j]) + eps);
            }
        } else {
            for (size_t j = 0; j < n; j++) mm[j] = lerpf_torch(mm[j], G[j], w1);
            optim_project(o, mm, r, c, QA, QB, X);
            for (int a = 0; a < r; a++)
                for (int e = 0; e < c; e++) {
                    float u = la[a] * lb[e];
                    X[(size_t)a * c + e] *= u / (1.0f + u * eps);
                }
        }
        optim_project_back(o, X, r, c, QA, QB, N);
        const int wd = vw->decay && h->weight_decay > 0;
        for (size_t j = 0; j < n; j++) {
            float pj = p[j] + alpha * N[j];
            p[j] = wd ? pj + dec * pj : pj;
        }
        /* the factors and eigenvalues, from the old lambdas */
        if (soap && do_refresh) optim_project_back(o, mm, r, c, QA, QB, o->ns_x); /* m to the parameter basis */
        if (SA) { /* A = (G Q_b) diag(lambda_b^-1/2) */
            if (QB) k_gemm(0, 0, r, c, c, 1.0f, G, c, QB, c, 0.0f, X, c);
            else memcpy(X, G, n * sizeof(float));
            for (int a = 0; a < r; a++)
                for (int e = 0; e < c; e++) X[(size_t)a * c + e] *= lb[e];
            update_factor(o, SA, X, r, c, 0, b, (float)((1.0 - sb) / c));
        }
        if (SB) { /* B = diag(lambda_a^-1/2) (Q_a^T G) */
            if (QA) k_gemm(1, 0, r, c, r, 1.0f, QA, r, G, c, 0.0f, X, c);
            else memcpy(X, G, n * sizeof(float));
            for (int a = 0; a < r; a++)
                for (int e = 0; e < c; e++) X[(size_t)a * c + e] *= la[a];
            update_factor(o, SB, X, r, c, 1, b, (float)((1.0 - sb) / r));
        }
        optim_project(o, G, r, c, QA, QB, X); /* H */
        float *dl = o->sw_est, *dr = o->sw_est + r;
        for (int a = 0; a < r; a++) {
            double s = 0;
            for (int e = 0; e < c; e++) {
                float q = X[(size_t)a * c + e] * lb[e];
                s += (double)(q * q);
            }
            dl[a] = (float)(s / c);
        }
        for (int e = 0; e < c; e++) {
            double s = 0;
            for (int a = 0; a < r; a++) {
                float q = X[(size_t)a * c + e] * la[a];
                s += (double)(q * q);
            }
            dr[e] = (float)(s / r);
        }
        update_eigen(la, dl, r, wb, h->kl_clamp);
        update_eigen(lb, dr, c, wb, h->kl_clamp);
        if (do_refresh) {
            if (SA && refresh(o, SA, QA, r, err)) return -1;
            if (SB && refresh(o, SB, QB, c, err)) return -1;
            if (soap) optim_project(o, o->ns_x, r, c, QA, QB, mm);
        }
    }
    m->step++;
    lmc_kernels_weights_changed();
    return 0;
}

int optim_kl_tensors(lmc_optim *o, const gpt2_model *m, optim_tensor *out, int cap) {
    static const char *const nm[6] = {"KL_SA", "KL_QA", "KL_SB", "KL_QB", "KL_rsqrt_lambda_a", "KL_rsqrt_lambda_b"};
    int n = 0;
    for (int i = 0; i < m->n_views; i++) {
        if (o->hp.kind == OPTIM_KL_SHAMPOO && o->kl_off[i][6] >= 0) { /* a 1-D view's AdamW v */
            if (out && n < cap) {
                snprintf(out[n].name, sizeof out[n].name, "v.%s", m->views[i].name);
                out[n].data = o->gal_v + o->kl_off[i][6];
                out[n].rows = 1;
                out[n].cols = (int64_t)m->views[i].numel;
                out[n].legacy_numel = 0;
            }
            n++;
        }
        for (int k = 0; k < 6; k++) {
            if (o->kl_off[i][k] < 0) continue;
            if (out && n < cap) {
                int64_t d = m->views[i].shape[k < 4 ? k / 2 : k - 4];
                snprintf(out[n].name, sizeof out[n].name, "%s.%s", nm[k], m->views[i].name);
                out[n].data = o->soap_mats + o->kl_off[i][k];
                out[n].rows = k < 4 ? d : 1;
                out[n].cols = d;
                out[n].legacy_numel = 0;
            }
            n++;
        }
    }
    return n;
}
