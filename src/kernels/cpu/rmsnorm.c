/* RMSNorm forward/backward (HF LlamaRMSNorm: x * rsqrt(mean(x^2) + eps) * w, statistics in float).
 * Backward recomputes xhat from x and the kept rstd. */
#include "kernels/cpu/kernels.h"
#include <math.h>

void k_rmsnorm_fwd(float *out, float *rstd, const float *x, const float *w, size_t N, int C, float eps) {
#pragma omp parallel for schedule(static)
    for (size_t n = 0; n < N; n++) {
        const float *xr = x + n * (size_t)C;
        float *o = out + n * (size_t)C;
        float s = 0.0f;
#pragma omp simd reduction(+:s)
        for (int i = 0; i < C; i++) s += xr[i] * xr[i];
        float rs = 1.0f / sqrtf(s / (float)C + eps);
#pragma omp simd
        for (int i = 0; i < C; i++) o[i] = xr[i] * rs * w[i];
        if (rstd) rstd[n] = rs;
    }
}

void k_rmsnorm_bwd(float *dx, float *dw, const float *dout, const float *x, const float *w,
                   const float *rstd, size_t N, int C) {
    /* dx = rs * (dn - xhat * mean(dn * xhat)) with dn = dout * w; dw = sum_n dout * xhat.
     * Rows for dx and column blocks (rows in order) for dw: deterministic for any thread count. */
    const int CB = 64;
    int nblk = (C + CB - 1) / CB;
#pragma omp parallel
    {
#pragma omp for schedule(static) nowait
        for (size_t n = 0; n < N; n++) {
            const float *xr = x + n * (size_t)C, *d = dout + n * (size_t)C;
            float *dxr = dx + n * (size_t)C;
            float rs = rstd[n], s = 0.0f;
#pragma omp simd reduction(+:s)
            for (int i = 0; i < C; i++) s += d[i] * w[i] * xr[i] * rs;
            s /= (float)C;
#pragma omp simd
            for (int i = 0; i < C; i++) dxr[i] += (d[i] * w[i] - xr[i] * rs * s) * rs;
        }
#pragma omp for schedule(static) nowait
        for (int blk = 0; blk < nblk; blk++) {
            int j0 = blk * CB, j1 = j0 + CB < C ? j0 + CB : C;
            float aw[64];
            for (int j = 0; j < CB; j++) aw[j] = 0.0f;
            for (size_t n = 0; n < N; n++) {
                const float *xr = x + n * (size_t)C, *d = dout + n * (size_t)C;
                float rs = rstd[n];
#pragma omp simd
                for (int j = j0; j < j1; j++) aw[j - j0] += d[j] * xr[j] * rs;
            }
            for (int j = j0; j < j1; j++) dw[j] += aw[j - j0];
        }
    }
}
