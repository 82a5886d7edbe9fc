/* Causal multi-head attention, tiled over query blocks so that no T x T matrix is ever stored.
 *
 * For one (batch, head) and a block of QB queries [i0, i0+QB) only keys [0, i0+QB) can be attended
 * (causality), so each block does a (QB x kv) score GEMM, an exact row softmax (the whole row is in
 * the block, so no online rescaling is needed), and a (QB x kv) @ (kv x hd) GEMM. Only the per-row
 * log-sum-exp is kept for backward, which recomputes the probabilities block by block:
 *   P = exp(S - lse);  dV += P^T dO;  dP = dO V^T;  dS = P * (dP - rowsum(dO * O));
 *   dQ = scale * dS K;  dK += scale * dS^T Q.
 * Work is about half of full attention (causal skipping); scratch is 2 * QB * T floats per thread.
 * Parallel over (batch, head); each pair is done by one thread with single-threaded BLAS, so the
 * result does not depend on the thread count. */
#include "kernels/cpu/kernels.h"
#include "kernels/cpu/blas_threads.h"
#include "kernels/cpu/gemm.h"
#include "kernels/cpu/vmath.h"
#include "base/error.h"
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define QB 64

int k_attention_fwd(float *out, float *lse, const float *qkv, int B, int T, int C, int NH) {
    const int hd = C / NH;
    const size_t C3 = 3 * (size_t)C;
    const float scale = 1.0f / sqrtf((float)hd);
    int prev = k_blas_single_begin();
    int fail = 0;
#pragma omp parallel reduction(|:fail)
    {
        float *S = (float *)malloc((size_t)QB * T * sizeof(float));
#pragma omp for schedule(dynamic, 1)
        for (int bh = 0; bh < B * NH; bh++) {
            if (!S) { fail = 1; continue; }
            int b = bh / NH, h = bh % NH;
            const float *base = qkv + (size_t)b * T * C3;
            const float *k = base + C + h * hd, *v = base + 2 * C + h * hd;
            for (int i0 = 0; i0 < T; i0 += QB) {
                int rows = T - i0 < QB ? T - i0 : QB;
                int kv = i0 + rows;
                const float *q = base + (size_t)i0 * C3 + h * hd;
                k_sgemm_1t(0, 1, rows, kv, hd, scale, q, (int)C3, k,
                            (int)C3, 0.0f, S, kv);
                for (int r = 0; r < rows; r++) {
                    float *s = S + (size_t)r * kv;
                    int n = i0 + r + 1;
                    float mx = vm_max(s, n);
                    float sum = vm_exp_sub_sum(s, s, mx, n);
                    float inv = 1.0f / sum;
                    for (int j = 0; j < n; j++) s[j] *= inv;
                    for (int j = n; j < kv; j++) s[j] = 0.0f;
                    lse[(size_t)bh * T + i0 + r] = mx + logf(sum);
                }
                k_sgemm_1t(0, 0, rows, hd, kv, 1.0f, S, kv, v, (int)C3,
                            0.0f, out + ((size_t)b * T + i0) * C + h * hd, C);
            }
        }
        free(S);
    }
    k_blas_single_end(prev);
    return fail ? LMC_ENOMEM : 0;
}

int k_attention_bwd(float *dqkv, const float *dout, const float *qkv, const float *out,
                     const float *lse, int B, int T, int C, int NH) {
    const int hd = C / NH;
    const size_t C3 = 3 * (size_t)C;
    const float scale = 1.0f / sqrtf((float)hd);
    int prev = k_blas_single_begin();
    int fail = 0;
#pragma omp parallel reduction(|:fail)
    {
        float *P = (float *)malloc((size_t)QB * T * sizeof(float));
        float *dS = (float *)malloc((size_t)QB * T * sizeof(float));
        float D[QB];
#pragma omp for schedule(dynamic, 1)
        for (int bh = 0; bh < B * NH; bh++) {
            if (!P || !dS) { fail = 1; continue; }
            int b = bh / NH, h = bh % NH;
            const float *base = qkv + (size_t)b * T * C3;
            const float *k = base + C + h * hd, *v = base + 2 * C + h * hd;
            float *dbase = dqkv + (size_t)b * T * C3;
            float *dk = dbase + C + h * hd, *dv = dbase + 2 * C + h * hd;
            for (int t = 0; t < T; t++) {
                memset(dk + (size_t)t * C3, 0, (size_t)hd * sizeof(float));
                memset(dv + (size_t)t * C3, 0, (size_t)hd * sizeof(float));
            }
            for (int i0 = 0; i0 < T; i0 += QB) {
                int rows = T - i0 < QB ? T - i0 : QB;
                int kv = i0 + rows;
                const float *q = base + (size_t)i0 * C3 + h * hd;
                const float *dO = dout + ((size_t)b * T + i0) * C + h * hd;
                const float *O = out + ((size_t)b * T + i0) * C + h * hd;
                float *dq = dbase + (size_t)i0 * C3 + h * hd;
                k_sgemm_1t(0, 1, rows, kv, hd, scale, q, (int)C3, k,
                            (int)C3, 0.0f, P, kv);
                for (int r = 0; r < rows; r++) {
                    float *p = P + (size_t)r * kv;
                    int n = i0 + r + 1;
                    vm_exp_sub_sum(p, p, lse[(size_t)bh * T + i0 + r], n);
                    for (int j = n; j < kv; j++) p[j] = 0.0f;
                    float d = 0.0f;
                    const float *dor = dO + (size_t)r * C, *orow = O + (size_t)r * C;
                    for (int e = 0; e < hd; e++) d += dor[e] * orow[e];
                    D[r] = d;
                }
                /* dV[0:kv] += P^T dO */
                k_sgemm_1t(1, 0, kv, hd, rows, 1.0f, P, kv, dO, C, 1.0f,
                            dv, (int)C3);
                /* dP = dO V^T */
                k_sgemm_1t(0, 1, rows, kv, hd, 1.0f, dO, C, v, (int)C3,
                            0.0f, dS, kv);
                for (int r = 0; r < rows; r++) {
                    float *ds = dS + (size_t)r * kv;
                    const float *p = P + (size_t)r * kv;
                    float d = D[r];
#pragma omp simd
                    for (int j = 0; j < kv; j++) ds[j] = p[j] * (ds[j] - d);
                }
                /* dQ = scale dS K;  dK[0:kv] += scale dS^T Q */
                k_sgemm_1t(0, 0, rows, hd, kv, scale, dS, kv, k, (int)C3,
                            0.0f, dq, (int)C3);
                k_sgemm_1t(1, 0, kv, hd, rows, scale, dS, kv, q, (int)C3,
                            1.0f, dk, (int)C3);
            }
        }
        free(P);
        free(dS);
    }
    k_blas_single_end(prev);
    return fail ? LMC_ENOMEM : 0;
}

void k_attention_decode(float *out, const float *q, const float *kcache, const float *vcache,
                        int t_len, size_t ldkv, int C, int NH, float *scratch) {
    const int hd = C / NH;
    const float scale = 1.0f / sqrtf((float)hd);
    for (int h = 0; h < NH; h++) {
        const float *qh = q + h * hd;
        for (int j = 0; j < t_len; j++) {
            const float *kj = kcache + (size_t)j * ldkv + h * hd;
            float s = 0.0f;
            for (int e = 0; e < hd; e++) s += qh[e] * kj[e];
            scratch[j] = s * scale;
        }
        float mx = vm_max(scratch, t_len);
        float sum = vm_exp_sub_sum(scratch, scratch, mx, t_len);
        float inv = 1.0f / sum;
        float *oh = out + h * hd;
        for (int e = 0; e < hd; e++) oh[e] = 0.0f;
        for (int j = 0; j < t_len; j++) {
            const float *vj = vcache + (size_t)j * ldkv + h * hd;
            float p = scratch[j] * inv;
            for (int e = 0; e < hd; e++) oh[e] += p * vj[e];
        }
    }
}
