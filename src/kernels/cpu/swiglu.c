/* SwiGLU (Llama's MLP activation): out = silu(gate) * up, with gate | up side by side in one GEMM
 * output so the up-projection is a single matmul. */
#include "kernels/cpu/kernels.h"
#include <math.h>

void k_swiglu_fwd(float *out, const float *h, size_t N, int F) {
#pragma omp parallel for schedule(static)
    for (size_t n = 0; n < N; n++) {
        const float *g = h + n * 2 * (size_t)F, *u = g + F;
        float *o = out + n * (size_t)F;
        for (int i = 0; i < F; i++) o[i] = g[i] / (1.0f + expf(-g[i])) * u[i];
    }
}

void k_swiglu_bwd(float *dh, const float *h, const float *dout, size_t N, int F) {
#pragma omp parallel for schedule(static)
    for (size_t n = 0; n < N; n++) {
        const float *g = h + n * 2 * (size_t)F, *u = g + F, *d = dout + n * (size_t)F;
        float *dg = dh + n * 2 * (size_t)F, *du = dg + F;
        for (int i = 0; i < F; i++) {
            float s = 1.0f / (1.0f + expf(-g[i]));
            float silu = g[i] * s;
            du[i] = d[i] * silu;
            dg[i] = d[i] * u[i] * s * (1.0f + g[i] * (1.0f - s));  /* silu' = s (1 + g (1 - s)) */
        }
    }
}
