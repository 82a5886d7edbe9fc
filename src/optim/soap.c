/* SOAP (Vyas et al. 2024, "SOAP: Improving and Stabilizing Shampoo using Adam"), in the operation
 * order of the authors' soap.py (github.com/nikhilvyas/SOAP; merge_dims off, precondition_1d off,
 * normalize_grads off, correct_bias on). For a 2-D view G (r x c) with left factor L (r x r) and
 * right factor R (c x c), each side kept only when its length <= max_precond_dim:
 *
 *   first call:  L = lerp(0, G G^T, 1-sb), R likewise with G^T G; QL, QR = eigenvectors (LAPACK
 *                ssyevd), columns in descending eigenvalue order; no parameter update
 *   then, t = 1, 2, ...:
 *     G' = QL^T G QR;  m = b1 m + (1-b1) G';  v = b2 v + (1-b2) G'^2
 *     W -= lr sqrt(1-b2^t)/(1-b1^t) * QL (m / (sqrt(v) + eps)) QR^T;   W -= lr wd W  (after the update)
 *     L = lerp(L, G G^T, 1-sb), R = lerp(R, G^T G, 1-sb)
 *     every precondition_frequency steps: per side, order Q's columns by diag(Q^T L Q) (descending,
 *     v's rows/columns with them), Q = qr(L Q) (one power iteration; LAPACK sgeqrf + sorgqr); m is
 *     rotated from the old basis into the new one.
 *   1-D views and unrotated sides: the same with identity rotations (so 1-D views run Adam with the
 *   bias correction on the step size and eps outside it, as soap.py does).
 *
 * m (exp_avg) is stored in the rotated basis, as in soap.py. The reference rotates m back and forth
 * every step; here only when the basis changes (a no-op otherwise, up to rounding).
 * Eigenvector signs: the update is invariant under flipping any column of QL or QR (m and G' flip
 * with it, v is squared), and Householder QR maps Q D to the same Q, so LAPACK's sign choice (which
 * may differ from torch's) does not change the trajectory. Order is fixed by the eigenvalues; only a
 * degenerate eigenvalue (e.g. the null space of the first gradient's G^T G when c > r) leaves the
 * basis undetermined, and then different LAPACKs legitimately follow different trajectories. */
#include "optim/optim_internal.h"

#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "base/mem.h"
#include "kernels/cpu/kernels.h"

static int rotated_side(const lmc_optim *o, const gpt2_view *v, int k) {
    return v->ndim == 2 && v->shape[k] <= o->hp.soap_max_precond_dim;
}

int optim_soap_create(lmc_optim *o, gpt2_model *m, lmc_err *err) {
    if (o->hp.soap_precondition_frequency < 1 || o->hp.soap_max_precond_dim < 1)
        return lmc_errf(err, LMC_EINVAL, "soap: precondition_frequency and max_precond_dim must be >= 1");
    o->soap_off = lmc_alloc_array((size_t)m->n_views, sizeof *o->soap_off, err);
    if (!o->soap_off) return LMC_ENOMEM;
    size_t total = 0, rc_max = 1, d_max = 1;
    for (int i = 0; i < m->n_views; i++) {
        const gpt2_view *v = &m->views[i];
        for (int k = 0; k < 2; k++) {
            o->soap_off[i][2 * k] = o->soap_off[i][2 * k + 1] = -1;
            if (!rotated_side(o, v, k)) continue;
            size_t d = (size_t)v->shape[k];
            o->soap_off[i][2 * k] = (int64_t)total;
            o->soap_off[i][2 * k + 1] = (int64_t)(total + d * d);
            total += 2 * d * d;
            if (d > d_max) d_max = d;
        }
        if (v->numel > rc_max) rc_max = v->numel; /* scratch serves every view, rotated or not */
    }
    o->soap_n = total;
    o->soap_mats = lmc_alloc_array(total ? total : 1, sizeof(float), err);
    for (int k = 0; k < 4; k++) o->sw[k] = lmc_alloc_array(k < 3 ? rc_max : d_max * d_max, sizeof(float), err);
    o->sw_tau = lmc_alloc_array(d_max, sizeof(float), err);
    o->sw_est = lmc_alloc_array(d_max, sizeof(float), err);
    o->sw_idx = lmc_alloc_array(d_max, sizeof(int), err);
    if (!o->soap_mats || !o->sw[0] || !o->sw[1] || !o->sw[2] || !o->sw[3] || !o->sw_tau || !o->sw_est || !o->sw_idx)
        return LMC_ENOMEM;
    return 0;
}

void optim_soap_free(lmc_optim *o) {
    lmc_free(o->soap_off);
    lmc_free(o->soap_mats);
    for (int k = 0; k < 4; k++) lmc_free(o->sw[k]);
    lmc_free(o->sw_tau);
    lmc_free(o->sw_est);
    lmc_free(o->sw_idx);
    lmc_free(o->sw_key);
}

/* F = lerp(F, G G^T (side 0) or G^T G (side 1), w); uses sw[3] */
static void update_factor(lmc_optim *o, float *F, const float *G, int r, int c, int side, float w) {
    float *O = o->sw[3];
    int d = side ? c : r;
    if (side) k_gemm(1, 0, c, c, r, 1.0f, G, c, G, c, 0.0f, O, c);
    else k_gemm(0, 1, r, r, c, 1.0f, G, c, G, c, 0.0f, O, r);
    for (size_t j = 0; j < (size_t)d * (size_t)d; j++) F[j] = lerpf_torch(F[j], O[j], w);
}

static const float *cmp_est;
static int cmp_desc(const void *a, const void *b) {
    float x = cmp_est[*(const int *)a], y = cmp_est[*(const int *)b];
    if (x != y) return x > y ? -1 : 1;
    return *(const int *)a - *(const int *)b;
}

/* One power iteration + QR for side `side` (0: rows of v, 1: columns); uses sw[2], sw[3] */
static int refresh(lmc_optim *o, const float *F, float *Q, float *v, int r, int c, int side, lmc_err *err) {
    const int d = side ? c : r;
    const size_t dd = (size_t)d * (size_t)d;
    float *MQ = o->sw[3];
    k_gemm(0, 0, d, d, d, 1.0f, F, d, Q, d, 0.0f, MQ, d);
    for (int i = 0; i < d; i++) {
        float s = 0;
        for (int k = 0; k < d; k++) s += Q[(size_t)k * d + i] * MQ[(size_t)k * d + i];
        o->sw_est[i] = s;
        o->sw_idx[i] = i;
    }
    cmp_est = o->sw_est;
    qsort(o->sw_idx, (size_t)d, sizeof(int), cmp_desc);
    /* Q's columns in that order (into MQ, then back into Q) */
    for (int k = 0; k < d; k++)
        for (int j = 0; j < d; j++) MQ[(size_t)k * d + j] = Q[(size_t)k * d + o->sw_idx[j]];
    memcpy(Q, MQ, dd * sizeof(float));
    /* v's rows / columns with them */
    float *tmp = o->sw[2];
    const size_t n = (size_t)r * (size_t)c;
    memcpy(tmp, v, n * sizeof(float));
    for (int i = 0; i < r; i++)
        for (int j = 0; j < c; j++)
            v[(size_t)i * c + j] = side ? tmp[(size_t)i * c + o->sw_idx[j]] : tmp[(size_t)o->sw_idx[i] * c + j];
    k_gemm(0, 0, d, d, d, 1.0f, F, d, Q, d, 0.0f, MQ, d); /* power iteration L Q */
    lapack_int info = LAPACKE_sgeqrf(LAPACK_ROW_MAJOR, d, d, MQ, d, o->sw_tau);
    if (!info) info = LAPACKE_sorgqr(LAPACK_ROW_MAJOR, d, d, d, MQ, d, o->sw_tau);
    if (info) return lmc_errf(err, LMC_ENUMERIC, "soap: QR (LAPACK sgeqrf/sorgqr) of a %dx%d matrix failed (info %d)", d,
                              d, (int)info);
    memcpy(Q, MQ, dd * sizeof(float));
    return 0;
}

int optim_soap_step(lmc_optim *o, gpt2_model *m, double lr, lmc_err *err) {
    const optim_hparams *h = &o->hp;
    const double sb = h->soap_shampoo_beta >= 0 ? h->soap_shampoo_beta : h->beta2;
    const float w = (float)(1.0 - sb);
    const int first = m->step == 0;
    const int64_t t = m->step; /* SOAP's step counter: calls after the first */
    const int do_refresh = !first && t % h->soap_precondition_frequency == 0;
    const double bc1 = 1.0 - pow(h->beta1, (double)t), bc2 = 1.0 - pow(h->beta2, (double)t);
    const float b1 = (float)h->beta1, a1 = (float)(1.0 - h->beta1), b2 = (float)h->beta2, a2 = (float)(1.0 - h->beta2);
    const float eps = (float)h->eps, alpha = first ? 0.0f : (float)(-(lr * sqrt(bc2) / bc1));
    for (int i = 0; i < m->n_views; i++) {
        const gpt2_view *vw = &m->views[i];
        const int r = vw->ndim == 2 ? (int)vw->shape[0] : (int)vw->numel, c = vw->ndim == 2 ? (int)vw->shape[1] : 1;
        const size_t n = vw->numel;
        float *p = m->params + vw->offset, *mm = m->m + vw->offset, *vv = m->v + vw->offset;
        const float *G = m->grads + vw->offset;
        float *L = o->soap_off[i][0] >= 0 ? o->soap_mats + o->soap_off[i][0] : NULL;
        float *QL = o->soap_off[i][1] >= 0 ? o->soap_mats + o->soap_off[i][1] : NULL;
        float *R = o->soap_off[i][2] >= 0 ? o->soap_mats + o->soap_off[i][2] : NULL;
        float *QR = o->soap_off[i][3] >= 0 ? o->soap_mats + o->soap_off[i][3] : NULL;
        const int rot = QL || QR;
        if (!first) {
            float *X = o->sw[1];
            const float *gp = G;
            if (rot) {
                optim_project(o, G, r, c, QL, QR, X);
                gp = X;
            }
            for (size_t j = 0; j < n; j++) {
                float g = gp[j];
                float mj = mm[j] * b1 + a1 * g;
                float vj = vv[j] * b2 + a2 * (g * g);
                mm[j] = mj;
                vv[j] = vj;
                X[j] = mj / (sqrtf(vj) + eps);
            }
            const float *upd = X;
            if (rot) {
                optim_project_back(o, X, r, c, QL, QR, o->sw[2]);
                upd = o->sw[2];
            }
            const float dec = (float)(-(lr * h->weight_decay));
            const int wd = vw->decay && h->weight_decay > 0;
            for (size_t j = 0; j < n; j++) {
                float pj = p[j] + alpha * upd[j];
                p[j] = wd ? pj + dec * pj : pj;
            }
        }
        if (!rot) continue;
        /* update_preconditioner */
        if (do_refresh) optim_project_back(o, mm, r, c, QL, QR, o->sw[1]); /* m back to the parameter basis */
        if (L) update_factor(o, L, G, r, c, 0, w);
        if (R) update_factor(o, R, G, r, c, 1, w);
        if (first) {
            if (L && optim_eig_basis(o, L, QL, r, err)) return -1;
            if (R && optim_eig_basis(o, R, QR, c, err)) return -1;
        } else if (do_refresh) {
            if (L && refresh(o, L, QL, vv, r, c, 0, err)) return -1;
            if (R && refresh(o, R, QR, vv, r, c, 1, err)) return -1;
            optim_project(o, o->sw[1], r, c, QL, QR, mm);
        }
    }
    m->step++;
    lmc_kernels_weights_changed();
    return 0;
}
