/* QK-norm: per-head RMSNorm of q and k with learnable gains shared by the heads (variant A of
 * TECHNIQUES §18, as Qwen3Attention: statistic over head_dim, gain [head_dim], applied before RoPE).
 * Backward per head row: dx = rs * (g*dy - xhat * mean(g*dy*xhat)), dg = sum_rows dy * xhat. */
#include "kernels/cpu/attn_switch.h"
#include <math.h>
#include <string.h>

void k_qknorm_fwd(float *qkv, float *raw, float *rstd, const float *gq, const float *gk, size_t N, size_t ld,
                  int NH, int NKV, int hd, float eps) {
    const int nh = NH + NKV;
#pragma omp parallel for schedule(static)
    for (size_t n = 0; n < N; n++) {
        for (int h = 0; h < nh; h++) {
            float *x = qkv + n * ld + (size_t)h * hd;
            const float *g = h < NH ? gq : gk;
            if (raw) memcpy(raw + (n * nh + h) * (size_t)hd, x, (size_t)hd * sizeof(float));
            float s = 0.0f;
            for (int e = 0; e < hd; e++) s += x[e] * x[e];
            float rs = 1.0f / sqrtf(s / (float)hd + eps);
            for (int e = 0; e < hd; e++) x[e] = x[e] * rs * g[e];
            if (rstd) rstd[n * nh + h] = rs;
        }
    }
}

void k_qknorm_bwd(float *dqkv, float *dgq, float *dgk, const float *raw, const float *rstd, const float *gq,
                  const float *gk, size_t N, size_t ld, int NH, int NKV, int hd) {
    const int nh = NH + NKV;
    /* gains first (they need dy before it is overwritten): one channel per iteration, rows in order */
#pragma omp parallel for schedule(static)
    for (int c = 0; c < 2 * hd; c++) {
        int e = c % hd, isk = c >= hd;
        double acc = 0.0;
        for (size_t n = 0; n < N; n++)
            for (int h = isk ? NH : 0; h < (isk ? nh : NH); h++)
                acc += (double)dqkv[n * ld + (size_t)h * hd + e] * raw[(n * nh + h) * (size_t)hd + e] * rstd[n * nh + h];
        (isk ? dgk : dgq)[e] += (float)acc;
    }
#pragma omp parallel for schedule(static)
    for (size_t n = 0; n < N; n++) {
        for (int h = 0; h < nh; h++) {
            float *d = dqkv + n * ld + (size_t)h * hd;
            const float *x = raw + (n * nh + h) * (size_t)hd, *g = h < NH ? gq : gk;
            float rs = rstd[n * nh + h], s = 0.0f;
            for (int e = 0; e < hd; e++) s += d[e] * g[e] * x[e] * rs;
            s /= (float)hd;
            for (int e = 0; e < hd; e++) d[e] = (d[e] * g[e] - x[e] * rs * s) * rs;
        }
    }
}
