/* Softplus attention with the length-scale factor (LSSA) and the re-weighting step (LSSAR), causal,
 * fp32. Formula in attn_switch.h. Tiled like attention.c: for a block of QB queries [i0, i0+QB) the
 * keys are [0, i0+QB), so every row of the block is complete and both L1 normalisations are exact
 * inside the block (no online rescaling). Forward keeps nothing but the output; backward recomputes
 * the weights block by block:
 *   dV += A'^T dO;  dA' = dO V^T;
 *   LSSAR: du = p u~^(p-1) / (umax sum2) * (dA' - rowsum(A' dA')),  dA = n_i du   (u~ = u / umax)
 *   dS = (dA - rowsum(A dA)) / sum1;  dz = dS * sigmoid(z);  dcos = c_i dz   (z = c_i cos, c_i = log hd log n_i)
 *   dq^ = dcos K^;  dk^ += dcos^T Q^;  dq = (dq^ - q^ (q^.dq^)) / |q|  (same for k).
 * Parallel over (batch, head) forward and (batch, kv head) backward, single-threaded BLAS per unit:
 * bitwise the same for any thread count.
 * Document masking (docstart, as attention.c): row t of a window sees keys [ds_t, t] and is computed
 * exactly as row t - ds_t of its document alone (n_i, c_i and o_i count from the document's start), so
 * a packed window equals its documents one by one. docstart = NULL is the unmasked kernel, same calls. */
#include "kernels/cpu/attn_switch.h"
#include "kernels/cpu/blas_threads.h"
#include "kernels/cpu/gemm.h"
#include "kernels/cpu/vmath.h"
#include "base/error.h"
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define QB 64
#define NORM_EPS 1e-12f /* F.normalize's default */

/* Branch-free elementwise math, so the row loops vectorise under `omp simd` (libm's expf/log1pf do
 * not): exp is vmath.h's vm_exp_core on a clamped argument, log1p(y) for
 * y in [0, 1] as 2 atanh(y / (2 + y)) (odd series to s^17, s <= 1/3: < 1e-9 relative). */
static inline float fmx(float a, float b) { return a > b ? a : b; }  /* fmaxf is a libm call here */
static inline float fexp(float x) { return vm_exp_core(x < -87.0f ? -87.0f : x > 88.0f ? 88.0f : x); }
static inline float log1p01(float y) {
    float s = y / (2.0f + y), s2 = s * s;
    float q = 1.0f / 17;
    q = q * s2 + 1.0f / 15;
    q = q * s2 + 1.0f / 13;
    q = q * s2 + 1.0f / 11;
    q = q * s2 + 1.0f / 9;
    q = q * s2 + 1.0f / 7;
    q = q * s2 + 1.0f / 5;
    q = q * s2 + 1.0f / 3;
    q = q * s2 + 1.0f;
    return 2.0f * s * q;
}
static inline float softplus(float x) { return fmx(x, 0.0f) + log1p01(fexp(-fabsf(x))); }
static inline float sigm(float x) { return 1.0f / (1.0f + fexp(-x)); }
/* x^p for 0 <= p < 128, branch-free */
static inline float powi(float x, int p) {
    float r = 1.0f;
    for (int b = 0; b < 7; b++) {
        r *= (p >> b) & 1 ? x : 1.0f;
        x *= x;
    }
    return r;
}

typedef struct { float c, sum1, umax, sum2; int reweighted; } rowstat;

/* cos -> A, Ap for query row i over n = i + 1 keys. */
static void row_fwd(const float *cos, float *A, float *Ap, int n, int i, float logd, int power, rowstat *st) {
    const float c = logd * logf((float)(i + 1));
    float sum = 0.0f;
#pragma omp simd reduction(+:sum)
    for (int j = 0; j < n; j++) {
        A[j] = softplus(c * cos[j]);
        sum += A[j];
    }
    const float inv = 1.0f / sum;
    for (int j = 0; j < n; j++) A[j] *= inv;
    st->c = c;
    st->sum1 = sum;
    st->reweighted = 0;
    if (power <= 0) {
        if (Ap != A) memcpy(Ap, A, (size_t)n * sizeof(float));
        return;
    }
    const float nn = (float)(i + 1), o = i < 3 ? 0.0f : 1.0f;
    float umax = -INFINITY;
#pragma omp simd reduction(max:umax)
    for (int j = 0; j < n; j++) umax = fmx(umax, nn * A[j] - o);
    if (!(umax > 0.0f)) { /* an exactly uniform row: nothing is above 1/n; keep stage 1 */
        memcpy(Ap, A, (size_t)n * sizeof(float));
        return;
    }
    const float iu = 1.0f / umax;
    float s2 = 0.0f;
#pragma omp simd reduction(+:s2)
    for (int j = 0; j < n; j++) {
        float u = nn * A[j] - o;
        Ap[j] = u > 0.0f ? powi(u * iu, power) : 0.0f;
        s2 += Ap[j];
    }
    const float i2 = 1.0f / s2;
    for (int j = 0; j < n; j++) Ap[j] *= i2;
    st->umax = umax;
    st->sum2 = s2;
    st->reweighted = 1;
}

/* d (in: dAp, out: dcos) for one row, given cos, A, Ap and the row's stats. */
static void row_bwd(float *d, const float *cos, const float *A, const float *Ap, int n, int i, int power,
                    const rowstat *st) {
    if (st->reweighted) {
        const float nn = (float)(i + 1), o = i < 3 ? 0.0f : 1.0f, iu = 1.0f / st->umax;
        const float k = (float)power / (st->umax * st->sum2);
        float D2 = 0.0f;
#pragma omp simd reduction(+:D2)
        for (int j = 0; j < n; j++) D2 += Ap[j] * d[j];
#pragma omp simd
        for (int j = 0; j < n; j++) {
            float u = nn * A[j] - o;
            d[j] = u > 0.0f ? nn * k * powi(u * iu, power - 1) * (d[j] - D2) : 0.0f;
        }
    }
    float D1 = 0.0f;
#pragma omp simd reduction(+:D1)
    for (int j = 0; j < n; j++) D1 += A[j] * d[j];
    const float is = 1.0f / st->sum1, c = st->c;
#pragma omp simd
    for (int j = 0; j < n; j++) d[j] = c * (d[j] - D1) * is * sigm(c * cos[j]);
}

void k_lssa_row(const float *cos, float *A, float *Ap, int n, int i, int hd, int power) {
    rowstat st;
    row_fwd(cos, A, Ap, n, i, logf((float)hd), power, &st);
}

/* rows of x (stride ld) -> unit rows xn [T, hd] and the inverse norms inv [T] */
static void normalize_rows(float *xn, float *inv, const float *x, size_t ld, int T, int hd) {
    for (int t = 0; t < T; t++) {
        const float *r = x + (size_t)t * ld;
        float s = 0.0f;
        for (int e = 0; e < hd; e++) s += r[e] * r[e];
        float iv = 1.0f / fmaxf(sqrtf(s), NORM_EPS);
        inv[t] = iv;
        for (int e = 0; e < hd; e++) xn[(size_t)t * hd + e] = r[e] * iv;
    }
}

/* dxn -> dx for x = xn * |x| (|x| > eps), and dx = dxn * inv when the norm was clamped */
static void normalize_bwd_row(float *dx, const float *dxn, const float *xn, float inv, int hd) {
    float dot = 0.0f;
    for (int e = 0; e < hd; e++) dot += xn[e] * dxn[e];
    if (inv >= 1.0f / NORM_EPS) dot = 0.0f; /* clamped: xn = x / eps is linear in x */
    for (int e = 0; e < hd; e++) dx[e] = (dxn[e] - xn[e] * dot) * inv;
}

/* The first key any row of the query block [i0, i0 + rows) may see (0 without document starts). */
static inline int block_lo(const int32_t *ds, int i0, int rows) {
    if (!ds) return 0;
    int lo = ds[i0];
    for (int r = 1; r < rows; r++) lo = ds[i0 + r] < lo ? ds[i0 + r] : lo;
    return lo;
}

int k_attention_lssa_fwd_doc(float *out, const float *qkv, int B, int T, int NH, int NKV, int hd, int power,
                             const int32_t *docstart) {
    const int G = NH / NKV;
    const size_t W = (size_t)(NH + 2 * NKV) * hd, OC = (size_t)NH * hd;
    const int KOFF = NH * hd, VOFF = (NH + NKV) * hd;
    const float logd = logf((float)hd);
    int prev = k_blas_single_begin();
    int fail = 0;
#pragma omp parallel reduction(|:fail)
    {
        float *S = (float *)malloc((size_t)QB * T * sizeof(float));
        float *Ab = (float *)malloc((size_t)QB * T * sizeof(float));
        float *Kn = (float *)malloc((size_t)T * hd * sizeof(float));
        float *Qn = (float *)malloc((size_t)T * hd * sizeof(float));
        float *inv = (float *)malloc((size_t)T * sizeof(float));
#pragma omp for schedule(dynamic, 1)
        for (int bh = 0; bh < B * NH; bh++) {
            if (!S || !Ab || !Kn || !Qn || !inv) { fail = 1; continue; }
            int b = bh / NH, h = bh % NH, kh = h / G;
            const float *base = qkv + (size_t)b * T * W;
            const float *v = base + VOFF + kh * hd;
            normalize_rows(Kn, inv, base + KOFF + kh * hd, W, T, hd);
            normalize_rows(Qn, inv, base + h * hd, W, T, hd);
            const int32_t *ds = docstart ? docstart + (size_t)b * T : NULL;
            for (int i0 = 0; i0 < T; i0 += QB) {
                int rows = T - i0 < QB ? T - i0 : QB;
                int j0 = block_lo(ds, i0, rows), kv = i0 + rows - j0;  /* keys [j0, i0 + rows) */
                k_sgemm_1t(0, 1, rows, kv, hd, 1.0f, Qn + (size_t)i0 * hd, hd, Kn + (size_t)j0 * hd, hd, 0.0f, S, kv);
                for (int r = 0; r < rows; r++) {
                    int lo = ds ? ds[i0 + r] - j0 : 0, n = i0 + r + 1 - j0 - lo;  /* row's keys: [lo, lo + n) */
                    float *s = S + (size_t)r * kv + lo, *a = Ab + (size_t)r * kv + lo;
                    rowstat st;
                    row_fwd(s, a, s, n, n - 1, logd, power, &st);  /* A' overwrites cos (read first) */
                    for (int j = -lo; j < 0; j++) s[j] = 0.0f;
                    for (int j = n; j < kv - lo; j++) s[j] = 0.0f;
                }
                k_sgemm_1t(0, 0, rows, hd, kv, 1.0f, S, kv, v + (size_t)j0 * W, (int)W, 0.0f,
                           out + ((size_t)b * T + i0) * OC + h * hd, (int)OC);
            }
        }
        free(S); free(Ab); free(Kn); free(Qn); free(inv);
    }
    k_blas_single_end(prev);
    return fail ? LMC_ENOMEM : 0;
}

int k_attention_lssa_bwd_doc(float *dqkv, const float *dout, const float *qkv, int B, int T, int NH, int NKV, int hd,
                             int power, const int32_t *docstart) {
    const int G = NH / NKV;
    const size_t W = (size_t)(NH + 2 * NKV) * hd, OC = (size_t)NH * hd;
    const int KOFF = NH * hd, VOFF = (NH + NKV) * hd;
    const float logd = logf((float)hd);
    int prev = k_blas_single_begin();
    int fail = 0;
#pragma omp parallel reduction(|:fail)
    {
        const size_t blk = (size_t)QB * T, th = (size_t)T * hd;
        float *buf = (float *)malloc((4 * blk + 3 * th + (size_t)QB * hd + 2 * (size_t)T) * sizeof(float));
        rowstat st[QB];
#pragma omp for schedule(dynamic, 1)
        for (int bk = 0; bk < B * NKV; bk++) {
            if (!buf) { fail = 1; continue; }
            float *Sc = buf, *Ab = Sc + blk, *P = Ab + blk, *dS = P + blk;
            float *Kn = dS + blk, *Qn = Kn + th, *dKn = Qn + th, *dQn = dKn + th;
            float *kinv = dQn + (size_t)QB * hd, *qinv = kinv + T;
            int b = bk / NKV, kh = bk % NKV;
            const float *base = qkv + (size_t)b * T * W;
            const float *v = base + VOFF + kh * hd;
            float *dbase = dqkv + (size_t)b * T * W;
            float *dk = dbase + KOFF + kh * hd, *dv = dbase + VOFF + kh * hd;
            const int32_t *ds = docstart ? docstart + (size_t)b * T : NULL;
            normalize_rows(Kn, kinv, base + KOFF + kh * hd, W, T, hd);
            memset(dKn, 0, th * sizeof(float));
            for (int t = 0; t < T; t++) memset(dv + (size_t)t * W, 0, (size_t)hd * sizeof(float));
            for (int h = kh * G; h < (kh + 1) * G; h++) {
                normalize_rows(Qn, qinv, base + h * hd, W, T, hd);
                for (int i0 = 0; i0 < T; i0 += QB) {
                    int rows = T - i0 < QB ? T - i0 : QB;
                    int j0 = block_lo(ds, i0, rows), kv = i0 + rows - j0;  /* keys [j0, i0 + rows) */
                    const float *dO = dout + ((size_t)b * T + i0) * OC + h * hd;
                    k_sgemm_1t(0, 1, rows, kv, hd, 1.0f, Qn + (size_t)i0 * hd, hd, Kn + (size_t)j0 * hd, hd, 0.0f, Sc, kv);
                    for (int r = 0; r < rows; r++) {
                        int lo = ds ? ds[i0 + r] - j0 : 0, n = i0 + r + 1 - j0 - lo;
                        size_t o = (size_t)r * kv + (size_t)lo;
                        float *p = P + o;
                        row_fwd(Sc + o, Ab + o, p, n, n - 1, logd, power, &st[r]);
                        for (int j = -lo; j < 0; j++) p[j] = 0.0f;
                        for (int j = n; j < kv - lo; j++) p[j] = 0.0f;
                    }
                    /* dV[j0:] += A'^T dO;  dA' = dO V^T */
                    k_sgemm_1t(1, 0, kv, hd, rows, 1.0f, P, kv, dO, (int)OC, 1.0f, dv + (size_t)j0 * W, (int)W);
                    k_sgemm_1t(0, 1, rows, kv, hd, 1.0f, dO, (int)OC, v + (size_t)j0 * W, (int)W, 0.0f, dS, kv);
                    for (int r = 0; r < rows; r++) {
                        int lo = ds ? ds[i0 + r] - j0 : 0, n = i0 + r + 1 - j0 - lo;
                        size_t o = (size_t)r * kv + (size_t)lo;
                        float *d = dS + o;
                        row_bwd(d, Sc + o, Ab + o, P + o, n, n - 1, power, &st[r]);
                        for (int j = -lo; j < 0; j++) d[j] = 0.0f;
                        for (int j = n; j < kv - lo; j++) d[j] = 0.0f;
                    }
                    /* dQ^ = dcos K^;  dK^[j0:] += dcos^T Q^ */
                    k_sgemm_1t(0, 0, rows, hd, kv, 1.0f, dS, kv, Kn + (size_t)j0 * hd, hd, 0.0f, dQn, hd);
                    k_sgemm_1t(1, 0, kv, hd, rows, 1.0f, dS, kv, Qn + (size_t)i0 * hd, hd, 1.0f, dKn + (size_t)j0 * hd, hd);
                    for (int r = 0; r < rows; r++)
                        normalize_bwd_row(dbase + (size_t)(i0 + r) * W + h * hd, dQn + (size_t)r * hd,
                                          Qn + (size_t)(i0 + r) * hd, qinv[i0 + r], hd);
                }
            }
            for (int t = 0; t < T; t++)
                normalize_bwd_row(dk + (size_t)t * W, dKn + (size_t)t * hd, Kn + (size_t)t * hd, kinv[t], hd);
        }
        free(buf);
    }
    k_blas_single_end(prev);
    return fail ? LMC_ENOMEM : 0;
}

int k_attention_lssa_fwd(float *out, const float *qkv, int B, int T, int NH, int NKV, int hd, int power) {
    return k_attention_lssa_fwd_doc(out, qkv, B, T, NH, NKV, hd, power, NULL);
}

int k_attention_lssa_bwd(float *dqkv, const float *dout, const float *qkv, int B, int T, int NH, int NKV, int hd,
                         int power) {
    return k_attention_lssa_bwd_doc(dqkv, dout, qkv, B, T, NH, NKV, hd, power, NULL);
}

void k_attention_lssa_decode(float *out, const float *q, const float *kcache, const float *vcache, int t_len,
                             size_t ldkv, int NH, int NKV, int hd, int power, float *scratch) {
    const int G = NH / NKV;
    const float logd = logf((float)hd);
    float *cos = scratch, *A = scratch + t_len;
    for (int h = 0; h < NH; h++) {
        const float *qh = q + h * hd;
        const int kh = h / G;
        float qs = 0.0f;
        for (int e = 0; e < hd; e++) qs += qh[e] * qh[e];
        const float qi = 1.0f / fmaxf(sqrtf(qs), NORM_EPS);
        for (int j = 0; j < t_len; j++) {
            const float *kj = kcache + (size_t)j * ldkv + kh * hd;
            float s = 0.0f, ks = 0.0f;
            for (int e = 0; e < hd; e++) {
                s += qh[e] * kj[e];
                ks += kj[e] * kj[e];
            }
            cos[j] = s * qi / fmaxf(sqrtf(ks), NORM_EPS);
        }
        rowstat st;
        row_fwd(cos, A, cos, t_len, t_len - 1, logd, power, &st);
        float *oh = out + h * hd;
        for (int e = 0; e < hd; e++) oh[e] = 0.0f;
        for (int j = 0; j < t_len; j++) {
            const float *vj = vcache + (size_t)j * ldkv + kh * hd;
            for (int e = 0; e < hd; e++) oh[e] += cos[j] * vj[e];
        }
    }
}
