/* Causal multi-head attention, tiled over query blocks so that no T x T matrix is ever stored.
 *
 * For one (batch, head) and a block of QB queries [i0, i0+QB) only keys [0, i0+QB) can be attended
 * (causality), so each block does a (QB x kv) score GEMM, an exact row softmax (the whole row is in
 * the block, so no online rescaling is needed), and a (QB x kv) @ (kv x hd) GEMM. Only the per-row
 * log-sum-exp is kept for backward, which recomputes the probabilities block by block:
 *   P = exp(S - lse);  dV += P^T dO;  dP = dO V^T;  dS = P * (dP - rowsum(dO * O));
 *   dQ = scale * dS K;  dK += scale * dS^T Q.
 * Work is about half of full attention (causal skipping); scratch is 2 * QB * T floats per thread.
 * Parallel over (batch, head) forward and (batch, kv head) backward (the query heads sharing a kv head
 * run in order, so their dK/dV sums have a fixed order); each unit is done by one thread with
 * single-threaded BLAS, so the result does not depend on the thread count.
 *
 * Grouped-query attention: NKV key/value heads, query head h reads kv head h / (NH / NKV); multi-head
 * is NKV = NH, multi-query NKV = 1. ALiBi adds slope_h * (j - i) to the scaled score of query i and
 * key j (only j <= i exist), before the softmax; backward recomputes it with the probabilities.
 *
 * Document masking (packed windows, model.doc_mask): an optional per-row document start ds [B*T]
 * (0 <= ds[t] <= t) limits query t to keys [ds[t], t]. A query block then only multiplies the keys
 * from the smallest start of its rows (key blocks before it are skipped), and each row's softmax runs
 * over its own span; the masked columns are exact zeros in P, so backward needs no other change.
 * ds = NULL is plain causal attention, with the very same calls (j0 = lo = 0): bitwise unchanged. */
#include "kernels/cpu/kernels.h"
#include "kernels/cpu/blas_threads.h"
#include "kernels/cpu/gemm.h"
#include "kernels/cpu/attention_rows.h"
#include "kernels/cpu/attention_bf16.h"
#include "base/error.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define QB 64

/* One single-threaded row-major GEMM of an attention block (ta/tb: 1 = transposed): the one place
 * that names the BLAS call, so a GEMM backend change touches only this function. */
static inline void att_gemm(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda,
                            const float *B, int ldb, float beta, float *C, int ldc) {
    k_sgemm_1t(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);   /* oneDNN's JIT sgemm when built in */
}

/* bf16 mode runs attention_bf16.c (AMX tiles or AVX512_BF16 dot products); emulated bf16 keeps attention
 * in fp32, as CPUs without bf16 instructions do. */
static int use_bf16(int T, int hd) {
    return k_bf16_active() && !lmc_kernels_bf16_emulated() && k_attention_bf16_usable(T, hd);
}

/* Add the ALiBi bias of query row i (keys 0..n-1) to s. */
static inline void alibi_row(float *s, int n, int i, float slope) {
    for (int j = 0; j < n; j++) s[j] += slope * (float)(j - i);
}

int k_attention_fwd_doc(float *out, float *lse, const float *qkv, int B, int T, int NH, int NKV, int hd,
                        const float *slopes, const int32_t *docstart) {
    const int G = NH / NKV;
    const size_t W = (size_t)(NH + 2 * NKV) * hd, OC = (size_t)NH * hd;
    const int KOFF = NH * hd, VOFF = (NH + NKV) * hd;
    if (use_bf16(T, hd))
        return k_attention_bf16_fwd(out, lse, qkv, B, T, NH, NKV, hd, slopes, docstart);
    const float scale = 1.0f / sqrtf((float)hd);
    int prev = k_blas_single_begin();
    int fail = 0;
#pragma omp parallel reduction(|:fail)
    {
        float *S = (float *)malloc((size_t)QB * T * sizeof(float));
#pragma omp for schedule(dynamic, 1)
        for (int bh = 0; bh < B * NH; bh++) {
            if (!S) { fail = 1; continue; }
            int b = bh / NH, h = bh % NH, kh = h / G;
            const float *base = qkv + (size_t)b * T * W;
            const float *k = base + KOFF + kh * hd, *v = base + VOFF + kh * hd;
            const int32_t *dst = docstart ? docstart + (size_t)b * T : NULL;
            for (int i0 = 0; i0 < T; i0 += QB) {
                int rows = T - i0 < QB ? T - i0 : QB;
                int j0 = block_lo(dst, i0, rows), kv = i0 + rows - j0;  /* keys [j0, i0 + rows) */
                const float *q = base + (size_t)i0 * W + h * hd;
                att_gemm(0, 1, rows, kv, hd, scale, q, (int)W, k + (size_t)j0 * W,
                            (int)W, 0.0f, S, kv);
                for (int r = 0; r < rows; r++) {
                    int lo = dst ? dst[i0 + r] - j0 : 0, n = i0 + r + 1 - j0 - lo;  /* row's keys: [lo, lo + n) */
                    lse[(size_t)bh * T + i0 + r] =
                        att_row_softmax(S + (size_t)r * kv, kv, lo, n, 1.0f, slopes ? slopes + h : NULL);
                }
                att_gemm(0, 0, rows, hd, kv, 1.0f, S, kv, v + (size_t)j0 * W, (int)W,
                            0.0f, out + ((size_t)b * T + i0) * OC + h * hd, (int)OC);
            }
        }
        free(S);
    }
    k_blas_single_end(prev);
    return fail ? LMC_ENOMEM : 0;
}

int k_attention_bwd_doc(float *dqkv, const float *dout, const float *qkv, const float *out, const float *lse,
                        int B, int T, int NH, int NKV, int hd, const float *slopes, const int32_t *docstart) {
    const int G = NH / NKV;
    const size_t W = (size_t)(NH + 2 * NKV) * hd, OC = (size_t)NH * hd;
    const int KOFF = NH * hd, VOFF = (NH + NKV) * hd;
    if (use_bf16(T, hd))
        return k_attention_bf16_bwd(dqkv, dout, qkv, out, lse, B, T, NH, NKV, hd, slopes, docstart);
    const float scale = 1.0f / sqrtf((float)hd);
    int prev = k_blas_single_begin();
    int fail = 0;
#pragma omp parallel reduction(|:fail)
    {
        float *P = (float *)malloc((size_t)QB * T * sizeof(float));
        float *dS = (float *)malloc((size_t)QB * T * sizeof(float));
        float D[QB];
#pragma omp for schedule(dynamic, 1)
        for (int bk = 0; bk < B * NKV; bk++) {
            if (!P || !dS) { fail = 1; continue; }
            int b = bk / NKV, kh = bk % NKV;
            const float *base = qkv + (size_t)b * T * W;
            const float *k = base + KOFF + kh * hd, *v = base + VOFF + kh * hd;
            float *dbase = dqkv + (size_t)b * T * W;
            float *dk = dbase + KOFF + kh * hd, *dv = dbase + VOFF + kh * hd;
            const int32_t *dst = docstart ? docstart + (size_t)b * T : NULL;
            for (int t = 0; t < T; t++) {
                memset(dk + (size_t)t * W, 0, (size_t)hd * sizeof(float));
                memset(dv + (size_t)t * W, 0, (size_t)hd * sizeof(float));
            }
            for (int h = kh * G; h < (kh + 1) * G; h++) {
                int bh = b * NH + h;
                for (int i0 = 0; i0 < T; i0 += QB) {
                    int rows = T - i0 < QB ? T - i0 : QB;
                    int j0 = block_lo(dst, i0, rows), kv = i0 + rows - j0;  /* keys [j0, i0 + rows) */
                    const float *q = base + (size_t)i0 * W + h * hd;
                    const float *dO = dout + ((size_t)b * T + i0) * OC + h * hd;
                    const float *O = out + ((size_t)b * T + i0) * OC + h * hd;
                    float *dq = dbase + (size_t)i0 * W + h * hd;
                    const float *kj = k + (size_t)j0 * W, *vj = v + (size_t)j0 * W;
                    float *dkj = dk + (size_t)j0 * W, *dvj = dv + (size_t)j0 * W;
                    att_gemm(0, 1, rows, kv, hd, scale, q, (int)W, kj,
                                (int)W, 0.0f, P, kv);
                    for (int r = 0; r < rows; r++) {
                        int lo = dst ? dst[i0 + r] - j0 : 0, n = i0 + r + 1 - j0 - lo;
                        att_row_probs(P + (size_t)r * kv, kv, lo, n, 1.0f, slopes ? slopes + h : NULL,
                                      lse[(size_t)bh * T + i0 + r]);
                        float d = 0.0f;
                        const float *dor = dO + (size_t)r * OC, *orow = O + (size_t)r * OC;
                        for (int e = 0; e < hd; e++) d += dor[e] * orow[e];
                        D[r] = d;
                    }
                    /* dV[0:kv] += P^T dO */
                    att_gemm(1, 0, kv, hd, rows, 1.0f, P, kv, dO, (int)OC,
                                1.0f, dvj, (int)W);
                    /* dP = dO V^T */
                    att_gemm(0, 1, rows, kv, hd, 1.0f, dO, (int)OC, vj,
                                (int)W, 0.0f, dS, kv);
                    for (int r = 0; r < rows; r++) {
                        float *ds = dS + (size_t)r * kv;
                        const float *p = P + (size_t)r * kv;
                        float d = D[r];
#pragma omp simd
                        for (int j = 0; j < kv; j++) ds[j] = p[j] * (ds[j] - d);
                    }
                    /* dQ = scale dS K;  dK[0:kv] += scale dS^T Q */
                    att_gemm(0, 0, rows, hd, kv, scale, dS, kv, kj, (int)W,
                                0.0f, dq, (int)W);
                    att_gemm(1, 0, kv, hd, rows, scale, dS, kv, q, (int)W,
                                1.0f, dkj, (int)W);
                }
            }
        }
        free(P);
        free(dS);
    }
    k_blas_single_end(prev);
    return fail ? LMC_ENOMEM : 0;
}

int k_attention_fwd_gqa(float *out, float *lse, const float *qkv, int B, int T, int NH, int NKV, int hd,
                        const float *slopes) {
    return k_attention_fwd_doc(out, lse, qkv, B, T, NH, NKV, hd, slopes, NULL);
}

int k_attention_bwd_gqa(float *dqkv, const float *dout, const float *qkv, const float *out, const float *lse,
                        int B, int T, int NH, int NKV, int hd, const float *slopes) {
    return k_attention_bwd_doc(dqkv, dout, qkv, out, lse, B, T, NH, NKV, hd, slopes, NULL);
}

void k_attention_decode_gqa(float *out, const float *q, const float *kcache, const float *vcache, int t_len,
                            size_t ldkv, int NH, int NKV, int hd, const float *slopes, float *scratch) {
    const int G = NH / NKV;
    const float scale = 1.0f / sqrtf((float)hd);
    for (int h = 0; h < NH; h++) {
        const float *qh = q + h * hd;
        const int kh = h / G;
        for (int j = 0; j < t_len; j++) {
            const float *kj = kcache + (size_t)j * ldkv + kh * hd;
            float s = 0.0f;
            for (int e = 0; e < hd; e++) s += qh[e] * kj[e];
            scratch[j] = s * scale;
        }
        if (slopes) alibi_row(scratch, t_len, t_len - 1, slopes[h]);
        float mx = vm_max(scratch, t_len);
        float sum = vm_exp_sub_sum(scratch, scratch, mx, t_len);
        float inv = 1.0f / sum;
        float *oh = out + h * hd;
        for (int e = 0; e < hd; e++) oh[e] = 0.0f;
        for (int j = 0; j < t_len; j++) {
            const float *vj = vcache + (size_t)j * ldkv + kh * hd;
            float p = scratch[j] * inv;
            for (int e = 0; e < hd; e++) oh[e] += p * vj[e];
        }
    }
}

int k_attention_fwd(float *out, float *lse, const float *qkv, int B, int T, int C, int NH) {
    return k_attention_fwd_gqa(out, lse, qkv, B, T, NH, NH, C / NH, NULL);
}

int k_attention_bwd(float *dqkv, const float *dout, const float *qkv, const float *out,
                    const float *lse, int B, int T, int C, int NH) {
    return k_attention_bwd_gqa(dqkv, dout, qkv, out, lse, B, T, NH, NH, C / NH, NULL);
}

void k_attention_decode(float *out, const float *q, const float *kcache, const float *vcache,
                        int t_len, size_t ldkv, int C, int NH, float *scratch) {
    k_attention_decode_gqa(out, q, kcache, vcache, t_len, ldkv, NH, NH, C / NH, NULL, scratch);
}

void k_alibi_slopes(float *slopes, int NH) {
    int p = 1;
    while (p * 2 <= NH) p *= 2;  /* closest power of two <= NH */
    double base = pow(2.0, -8.0 / p);
    for (int h = 0; h < p; h++) slopes[h] = (float)pow(base, h + 1);
    if (p < NH) {
        /* the remaining heads take the odd powers of the next power of two's base */
        double extra = pow(2.0, -4.0 / p);
        for (int h = 0; h < NH - p; h++) slopes[p + h] = (float)pow(extra, 2 * h + 1);
    }
}
