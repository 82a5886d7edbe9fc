/* GaLore (Zhao et al. 2024), in the operation order of galore-torch's GaLoreAdamW with
 * GaLoreProjector(proj_type "std"): each 2-D weight inside the blocks gets Adam on a rank-k
 * projection of its gradient; every other tensor runs the same Adam unprojected. Per view, at
 * step t (0-based):
 *
 *   every update_proj_gap steps (t % gap == 0): P = the top-k singular vectors of the shorter side
 *     of the gradient (LAPACK sgesdd); subspace "importance" (SARA, Zhang et al. NeurIPS 2025): k of
 *     them drawn without replacement with probability proportional to sigma_i (Efraimidis-Spirakis
 *     keys log(u)/sigma with u a splitmix64 hash of (run seed, view, refresh count, index), kept in
 *     ascending index order; no RNG state to checkpoint)
 *   R = P^T G (or G P);  m = b1 m + (1-b1) R;  v = b2 v + (1-b2) R^2
 *   W -= lr sqrt(1-b2^(t+1))/(1-b1^(t+1)) * scale * P (m / (sqrt(v) + eps));   W -= lr wd W (after)
 *
 * m and v keep their coordinates when P changes (as in galore-torch). torch's weight is [out, in],
 * the transpose of lmc's [in, out]; galore-torch projects the shorter side of [out, in] (right when
 * out >= in). The SVD here is taken of that same matrix (lmc's row-major [in, out] buffer read as
 * column-major [out, in]) with the same LAPACK driver (gesdd) torch uses, so the singular vectors are
 * the ones torch sees. Their signs are not: LAPACK builds differ (MKL, torch's, and OpenBLAS flip
 * different vectors of the same 8x8 matrix), and because m and v keep their coordinates when P
 * changes, the trajectory after the first subspace switch depends on those signs. So each kept
 * singular vector is sign-normalised (its largest-magnitude entry positive): deterministic across
 * LAPACK builds; the fixture applies the same normalisation inside galore-torch's projector.
 * The moments are allocated at their real sizes (k x out or in x k for the projected views, full for
 * the rest) in gal_m / gal_v, and the model's full-size m / v buffers are freed: the process holds
 * 2 k max(in, out) instead of 2 in out floats per projected matrix. In the checkpoint every view's
 * moments are tensors "m.<view>", "v.<view>" of those sizes and the projectors "P.<view>"; checkpoints
 * of the older layout (moments in the first k*max(in, out) floats of full-size m / v slots, same
 * tensor names) still load (optim_tensor.legacy_numel). */
#include "optim/optim_internal.h"

#include <lapacke.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "base/mem.h"
#include "kernels/cpu/kernels.h"

int optim_galore_view(const gpt2_model *m, int v) { return optim_muon_view(m, v); }

/* rank of view i (0 = not projected) and whether lmc's left side (rows, in) is projected */
static int view_rank(const lmc_optim *o, const gpt2_model *m, int i, int *left) {
    if (!optim_galore_view(m, i)) return 0;
    int r = (int)m->views[i].shape[0], c = (int)m->views[i].shape[1];
    *left = c >= r; /* torch [out=c, in=r]: out >= in -> its right side = lmc's rows */
    int s = r < c ? r : c, k = o->hp.galore_rank;
    return k < s ? k : s;
}

int optim_galore_create(lmc_optim *o, gpt2_model *m, lmc_err *err) {
    if (o->hp.galore_rank < 1 || o->hp.galore_update_proj_gap < 1)
        return lmc_errf(err, LMC_EINVAL, "galore: rank and update_proj_gap must be >= 1");
    o->soap_off = lmc_alloc_array((size_t)m->n_views, sizeof *o->soap_off, err);
    if (!o->soap_off) return LMC_ENOMEM;
    size_t total = 0, moments = 0, rc_max = 1, low_max = 1, s_max = 1;
    for (int i = 0; i < m->n_views; i++) {
        int left, k = view_rank(o, m, i, &left);
        o->soap_off[i][0] = o->soap_off[i][1] = o->soap_off[i][2] = -1;
        o->soap_off[i][3] = (int64_t)moments;
        if (!k) {
            moments += m->views[i].numel;
            continue;
        }
        size_t r = (size_t)m->views[i].shape[0], c = (size_t)m->views[i].shape[1];
        o->soap_off[i][0] = (int64_t)total;
        o->soap_off[i][1] = k;
        o->soap_off[i][2] = left;
        total += (size_t)k * (left ? r : c);
        moments += (size_t)k * (left ? c : r);
        if ((size_t)k * (left ? c : r) > low_max) low_max = (size_t)k * (left ? c : r);
        if (m->views[i].numel > rc_max) rc_max = m->views[i].numel; /* the scratch serves the projected views */
        if ((r < c ? r : c) > s_max) s_max = r < c ? r : c;
    }
    o->soap_n = total;
    o->gal_n = moments;
    o->soap_mats = lmc_alloc_array(total ? total : 1, sizeof(float), err);
    o->gal_m = lmc_alloc_array(moments ? moments : 1, sizeof(float), err);
    o->gal_v = lmc_alloc_array(moments ? moments : 1, sizeof(float), err);
    o->sw[0] = lmc_alloc_array(low_max, sizeof(float), err);             /* the projected gradient */
    o->sw[1] = lmc_alloc_array(low_max, sizeof(float), err);             /* the normalised low-rank step */
    for (int k = 2; k < 4; k++) o->sw[k] = lmc_alloc_array(rc_max, sizeof(float), err); /* full, svd A */
    o->sw_tau = lmc_alloc_array(s_max, sizeof(float), err);                                /* singular values */
    o->sw_idx = lmc_alloc_array(s_max, sizeof(int), err);                                  /* chosen vectors */
    o->sw_key = lmc_alloc_array(s_max, sizeof(double), err);
    o->ns_x = lmc_alloc_array(rc_max, sizeof(float), err); /* U */
    o->ns_y = lmc_alloc_array(rc_max, sizeof(float), err); /* VT */
    if (!o->soap_mats || !o->gal_m || !o->gal_v || !o->sw[0] || !o->sw[1] || !o->sw[2] || !o->sw[3] || !o->sw_tau ||
        !o->sw_idx || !o->sw_key || !o->ns_x || !o->ns_y)
        return LMC_ENOMEM;
    /* the model's full-size moment buffers are not used: give their memory back */
    lmc_free(m->m);
    lmc_free(m->v);
    m->m = m->v = NULL;
    return 0;
}

int optim_galore_tensors(lmc_optim *o, const gpt2_model *m, optim_tensor *out, int cap) {
    int n = 0;
    for (int i = 0; i < m->n_views; i++) {
        const gpt2_view *vw = &m->views[i];
        const int64_t k = o->soap_off[i][1], left = o->soap_off[i][2];
        const int proj = o->soap_off[i][0] >= 0;
        /* the moments: k x c (left), r x k (right), or the view's own shape */
        int64_t rows = vw->ndim == 2 ? vw->shape[0] : 1, cols = vw->ndim == 2 ? vw->shape[1] : (int64_t)vw->numel;
        if (proj) {
            if (left) rows = k;
            else cols = k;
        }
        for (int b = 0; b < 2; b++) {
            if (out && n < cap) {
                snprintf(out[n].name, sizeof out[n].name, "%s.%s", b ? "v" : "m", vw->name);
                out[n].data = (b ? o->gal_v : o->gal_m) + o->soap_off[i][3];
                out[n].rows = rows;
                out[n].cols = cols;
                out[n].legacy_numel = proj ? (int64_t)vw->numel : 0;
            }
            n++;
        }
        if (!proj) continue;
        if (out && n < cap) {
            snprintf(out[n].name, sizeof out[n].name, "P.%s", vw->name);
            out[n].data = o->soap_mats + o->soap_off[i][0];
            out[n].rows = left ? vw->shape[0] : k;
            out[n].cols = left ? k : vw->shape[1];
            out[n].legacy_numel = 0;
        }
        n++;
    }
    return n;
}

/* splitmix64 step (the importance sampler's counter-based random numbers; tests/reference has the
 * same few lines in Python) */
static uint64_t mix64(uint64_t x) {
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

/* u in (0, 1) for (seed, view, refresh, i): a pure function, so nothing to checkpoint */
static double uniform_key(uint64_t seed, uint64_t view, uint64_t refresh, uint64_t i) {
    uint64_t x = mix64(mix64(mix64(mix64(seed) ^ view) ^ refresh) ^ i);
    return ((double)(x >> 11) + 0.5) / 9007199254740992.0;
}

/* Which k of the mn singular vectors (descending sigma) to keep, ascending: the top k (svd), or k
 * drawn without replacement with probability proportional to sigma_i (importance, SARA), by
 * Efraimidis-Spirakis: the k largest keys log(u_i) / sigma_i. */
static void choose(lmc_optim *o, const float *sigma, int mn, int k, int view, int64_t refresh, int *sel) {
    if (!o->hp.galore_importance) {
        for (int j = 0; j < k; j++) sel[j] = j;
        return;
    }
    double *key = o->sw_key;
    int n = 0;
    for (int i = 0; i < mn; i++) {
        double ki = sigma[i] > 0 ? log(uniform_key(o->hp.galore_seed, (uint64_t)view, (uint64_t)refresh, (uint64_t)i)) /
                                       (double)sigma[i]
                                 : -INFINITY;
        /* insert into the top-k list (descending key; ties keep the lower index) */
        int pos = n < k ? n : k;
        while (pos > 0 && key[pos - 1] < ki) pos--;
        if (pos >= k) continue;
        int last = n < k ? n : k - 1;
        for (int j = last; j > pos; j--) { key[j] = key[j - 1]; sel[j] = sel[j - 1]; }
        key[pos] = ki;
        sel[pos] = i;
        if (n < k) n++;
    }
    for (int a = 1; a < k; a++) /* ascending index = descending sigma */
        for (int b = a; b > 0 && sel[b - 1] > sel[b]; b--) { int t = sel[b]; sel[b] = sel[b - 1]; sel[b - 1] = t; }
}

/* P of view (r x c lmc layout) from the SVD of torch's [c, r] = lmc's buffer read column-major */
static int projector(lmc_optim *o, const float *G, int r, int c, int k, int left, float *P, int view, int64_t refresh,
                     lmc_err *err) {
    const int mn = r < c ? r : c;
    float *A = o->sw[3], *U = o->ns_x, *VT = o->ns_y;
    memcpy(A, G, (size_t)r * (size_t)c * sizeof(float));
    /* torch's G_t (c x r) column-major with lda = c is exactly lmc's row-major r x c buffer */
    lapack_int info = LAPACKE_sgesdd(LAPACK_COL_MAJOR, 'S', c, r, A, c, o->sw_tau, U, c, VT, mn);
    if (info)
        return lmc_errf(err, LMC_ENUMERIC, "galore: SVD (LAPACK sgesdd) of a %dx%d gradient failed (info %d)", c, r,
                        (int)info);
    int *sel = o->sw_idx;
    choose(o, o->sw_tau, mn, k, view, refresh, sel);
    if (left) {
        /* torch: right projector B_t = Vh_t[:k, :] (k x r); lmc's left projector A = B_t^T (r x k) */
        for (int i = 0; i < r; i++)
            for (int j = 0; j < k; j++) P[(size_t)i * k + j] = VT[(size_t)sel[j] + (size_t)i * mn];
        /* sign convention: each kept singular vector's largest-magnitude entry is positive */
        for (int j = 0; j < k; j++) {
            int am = 0;
            for (int i = 1; i < r; i++)
                if (fabsf(P[(size_t)i * k + j]) > fabsf(P[(size_t)am * k + j])) am = i;
            if (P[(size_t)am * k + j] < 0)
                for (int i = 0; i < r; i++) P[(size_t)i * k + j] = -P[(size_t)i * k + j];
        }
    } else {
        /* torch: left projector A_t = U_t[:, :k] (c x k); lmc's right projector B = A_t^T (k x c) */
        for (int j = 0; j < k; j++)
            for (int i = 0; i < c; i++) P[(size_t)j * c + i] = U[(size_t)i + (size_t)sel[j] * c];
        for (int j = 0; j < k; j++) {
            float *row = P + (size_t)j * c;
            int am = 0;
            for (int i = 1; i < c; i++)
                if (fabsf(row[i]) > fabsf(row[am])) am = i;
            if (row[am] < 0)
                for (int i = 0; i < c; i++) row[i] = -row[i];
        }
    }
    return 0;
}

int optim_galore_step(lmc_optim *o, gpt2_model *m, double lr, lmc_err *err) {
    const optim_hparams *h = &o->hp;
    const int64_t t = m->step;
    const double bc1 = 1.0 - pow(h->beta1, (double)(t + 1)), bc2 = 1.0 - pow(h->beta2, (double)(t + 1));
    const float b1 = (float)h->beta1, a1 = (float)(1.0 - h->beta1), b2 = (float)h->beta2, a2 = (float)(1.0 - h->beta2);
    const float eps = (float)h->eps, alpha = (float)(-(lr * sqrt(bc2) / bc1)), scale = (float)h->galore_scale;
    const float dec = (float)(-(lr * h->weight_decay));
    for (int i = 0; i < m->n_views; i++) {
        const gpt2_view *vw = &m->views[i];
        float *p = m->params + vw->offset, *mm = o->gal_m + o->soap_off[i][3], *vv = o->gal_v + o->soap_off[i][3];
        const float *G = m->grads + vw->offset;
        const int k = o->soap_off[i][0] >= 0 ? (int)o->soap_off[i][1] : 0, left = (int)o->soap_off[i][2];
        const int r = vw->ndim == 2 ? (int)vw->shape[0] : (int)vw->numel, c = vw->ndim == 2 ? (int)vw->shape[1] : 1;
        float *P = k ? o->soap_mats + o->soap_off[i][0] : NULL;
        const float *gp = G;
        size_t n = vw->numel;
        if (k) {
            if (t % h->galore_update_proj_gap == 0 &&
                projector(o, G, r, c, k, left, P, i, t / h->galore_update_proj_gap, err))
                return -1;
            float *low = o->sw[0];
            if (left) k_gemm(1, 0, k, c, r, 1.0f, P, k, G, c, 0.0f, low, c); /* P^T G: k x c */
            else k_gemm(0, 1, r, k, c, 1.0f, G, c, P, c, 0.0f, low, k);      /* G P^T: r x k */
            gp = low;
            n = (size_t)k * (size_t)(left ? c : r);
        }
        const int wd = vw->decay && h->weight_decay > 0;
        if (!k) { /* plain Adam, in one pass (no scratch of the view's size) */
            for (size_t j = 0; j < n; j++) {
                float g = gp[j];
                float mj = mm[j] * b1 + a1 * g;
                float vj = vv[j] * b2 + (a2 * g) * g;
                mm[j] = mj;
                vv[j] = vj;
                float pj = p[j] + alpha * (mj / (sqrtf(vj) + eps));
                p[j] = wd ? pj + dec * pj : pj;
            }
            continue;
        }
        float *X = o->sw[1];
        for (size_t j = 0; j < n; j++) {
            float g = gp[j];
            float mj = mm[j] * b1 + a1 * g;
            float vj = vv[j] * b2 + (a2 * g) * g;
            mm[j] = mj;
            vv[j] = vj;
            X[j] = mj / (sqrtf(vj) + eps);
        }
        float *full = o->sw[2];
        if (left) k_gemm(0, 0, r, c, k, 1.0f, P, k, X, c, 0.0f, full, c);
        else k_gemm(0, 0, r, c, k, 1.0f, X, k, P, c, 0.0f, full, c);
        for (size_t j = 0; j < vw->numel; j++) full[j] = full[j] * scale;
        for (size_t j = 0; j < vw->numel; j++) {
            float pj = p[j] + alpha * full[j];
            p[j] = wd ? pj + dec * pj : pj;
        }
    }
    m->step++;
    lmc_kernels_weights_changed();
    return 0;
}
