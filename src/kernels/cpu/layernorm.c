/* LayerNorm forward/backward. Statistics in float with a two-pass variance (as PyTorch's CPU kernel
 * does in effect); backward recomputes xhat from x, mean, rstd instead of storing it. */
#include "kernels/cpu/kernels.h"
#include "kernels/cpu/blas_threads.h"
#include <math.h>

void k_layernorm_fwd(float *out, float *mean, float *rstd, const float *x, const float *w,
                     const float *b, size_t N, int C, float eps) {
#pragma omp parallel for schedule(static)
    for (size_t n = 0; n < N; n++) {
        const float *xr = x + n * (size_t)C;
        float *o = out + n * (size_t)C;
        float s = 0.0f;
#pragma omp simd reduction(+:s)
        for (int i = 0; i < C; i++) s += xr[i];
        float m = s / (float)C;
        float v = 0.0f;
#pragma omp simd reduction(+:v)
        for (int i = 0; i < C; i++) { float d = xr[i] - m; v += d * d; }
        float rs = 1.0f / sqrtf(v / (float)C + eps);
        if (b) {
#pragma omp simd
            for (int i = 0; i < C; i++) o[i] = (xr[i] - m) * rs * w[i] + b[i];
        } else {  /* bias-free LayerNorm (model switch no_bias) */
#pragma omp simd
            for (int i = 0; i < C; i++) o[i] = (xr[i] - m) * rs * w[i];
        }
        if (mean) mean[n] = m;
        if (rstd) rstd[n] = rs;
    }
}

void k_layernorm_bwd(float *dx, float *dw, float *db, const float *dout, const float *x,
                     const float *w, const float *mean, const float *rstd, size_t N, int C) {
    /* One parallel region: dx (rows are independent) and dw/db (column blocks, rows in order, so
     * deterministic for any thread count) read the same inputs and write disjoint outputs. */
    const int CB = 64;
    int nblk = (C + CB - 1) / CB;
#pragma omp parallel
    {
    k_note_thread(0);
#pragma omp for schedule(static) nowait
    for (size_t n = 0; n < N; n++) {
        const float *xr = x + n * (size_t)C, *d = dout + n * (size_t)C;
        float *dxr = dx + n * (size_t)C;
        float m = mean[n], rs = rstd[n];
        float s1 = 0.0f, s2 = 0.0f;  /* mean(dnorm), mean(dnorm * xhat) */
#pragma omp simd reduction(+:s1, s2)
        for (int i = 0; i < C; i++) {
            float dn = d[i] * w[i];
            s1 += dn;
            s2 += dn * (xr[i] - m) * rs;
        }
        s1 /= (float)C;
        s2 /= (float)C;
#pragma omp simd
        for (int i = 0; i < C; i++) {
            float xh = (xr[i] - m) * rs;
            dxr[i] += (d[i] * w[i] - s1 - xh * s2) * rs;
        }
    }
#pragma omp for schedule(static) nowait
    for (int blk = 0; blk < nblk; blk++) {
        int j0 = blk * CB, j1 = j0 + CB < C ? j0 + CB : C;
        float aw[64], ab[64];
        for (int j = 0; j < CB; j++) { aw[j] = 0.0f; ab[j] = 0.0f; }
        for (size_t n = 0; n < N; n++) {
            const float *xr = x + n * (size_t)C, *d = dout + n * (size_t)C;
            float m = mean[n], rs = rstd[n];
#pragma omp simd
            for (int j = j0; j < j1; j++) {
                aw[j - j0] += d[j] * (xr[j] - m) * rs;
                ab[j - j0] += d[j];
            }
        }
        for (int j = j0; j < j1; j++) dw[j] += aw[j - j0];
        if (db)
            for (int j = j0; j < j1; j++) db[j] += ab[j - j0];
    }
    }
}
