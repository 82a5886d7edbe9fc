/* SwiGLU (Llama's MLP activation): out = silu(gate) * up, with gate | up side by side in one GEMM
 * output so the up-projection is a single matmul. The sigmoid's exp is vmath.h's vector exp (~2e-7
 * relative) on chunks of a row, the rest plain loops that vectorise; libm's expf kept the whole loop
 * scalar. */
#include "kernels/cpu/kernels.h"
#include "kernels/cpu/vmath.h"

#define CH 512   /* columns per chunk: exp(-g) of a chunk stays in L1 */

static void fwd_chunk(float *restrict o, const float *restrict g, const float *restrict u, int n) {
    float e[CH];
    vm_exp_neg(e, g, n);
#pragma omp simd
    for (int i = 0; i < n; i++) o[i] = g[i] / (1.0f + e[i]) * u[i];
}

static void bwd_chunk(float *restrict dg, float *restrict du, const float *restrict g, const float *restrict u,
                      const float *restrict d, int n) {
    float e[CH];
    vm_exp_neg(e, g, n);
#pragma omp simd
    for (int i = 0; i < n; i++) {
        float s = 1.0f / (1.0f + e[i]);
        float silu = g[i] * s;
        du[i] = d[i] * silu;
        dg[i] = d[i] * u[i] * s * (1.0f + g[i] * (1.0f - s));  /* silu' = s (1 + g (1 - s)) */
    }
}

void k_swiglu_fwd(float *out, const float *h, size_t N, int F) {
#pragma omp parallel for schedule(static)
    for (size_t n = 0; n < N; n++) {
        const float *g = h + n * 2 * (size_t)F, *u = g + F;
        float *o = out + n * (size_t)F;
        for (int c = 0; c < F; c += CH) fwd_chunk(o + c, g + c, u + c, F - c < CH ? F - c : CH);
    }
}

void k_swiglu_bwd(float *dh, const float *h, const float *dout, size_t N, int F) {
#pragma omp parallel for schedule(static)
    for (size_t n = 0; n < N; n++) {
        const float *g = h + n * 2 * (size_t)F, *u = g + F, *d = dout + n * (size_t)F;
        float *dg = dh + n * 2 * (size_t)F, *du = dg + F;
        for (int c = 0; c < F; c += CH)
            bwd_chunk(dg + c, du + c, g + c, u + c, d + c, F - c < CH ? F - c : CH);
    }
}
