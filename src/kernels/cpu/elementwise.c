/* Small elementwise kernels and reductions. */
#include "kernels/cpu/kernels.h"
#include <stdlib.h>
#include <string.h>

void k_add_inplace(float *y, const float *x, size_t n) {
#pragma omp parallel for simd schedule(static)
    for (size_t i = 0; i < n; i++) y[i] += x[i];
}

void k_copy_bias(float *out, const float *x, const float *bias, size_t N, int C) {
#pragma omp parallel for schedule(static)
    for (size_t n = 0; n < N; n++) {
        const float *xr = x + n * (size_t)C;
        float *o = out + n * (size_t)C;
        if (bias) {
#pragma omp simd
            for (int i = 0; i < C; i++) o[i] = xr[i] + bias[i];
        } else {
            memcpy(o, xr, (size_t)C * sizeof(float));
        }
    }
}

/* Fixed 64K-element chunks, each summed in double, chunk sums added in order: the result does not
 * depend on the thread count. One out-of-line routine sums a chunk wherever it is called from, so the
 * data-parallel trainer (which sums its own chunks, src/train/dp.c) gets the same partial sums. */
__attribute__((noinline)) static double sumsq_chunk(const float *x, size_t n, size_t c) {
    double s = 0.0;
    size_t b = c * K_SUMSQ_CHUNK, e = (c + 1) * K_SUMSQ_CHUNK < n ? (c + 1) * K_SUMSQ_CHUNK : n;
#pragma omp simd reduction(+:s)
    for (size_t i = b; i < e; i++) s += (double)x[i] * x[i];
    return s;
}

void k_sumsq_parts(const float *x, size_t n, size_t c0, size_t c1, double *part) {
#pragma omp parallel for schedule(static)
    for (size_t c = c0; c < c1; c++) part[c - c0] = sumsq_chunk(x, n, c);
}

double k_sumsq(const float *x, size_t n) {
    size_t nch = (n + K_SUMSQ_CHUNK - 1) / K_SUMSQ_CHUNK;
    if (nch == 0) return 0.0;
    double *part = (double *)malloc(nch * sizeof(double));
    double tot = 0.0;
    if (!part) { /* serial fallback, same chunks, same order */
        for (size_t c = 0; c < nch; c++) tot += sumsq_chunk(x, n, c);
        return tot;
    }
    k_sumsq_parts(x, n, 0, nch, part);
    for (size_t c = 0; c < nch; c++) tot += part[c];
    free(part);
    return tot;
}

void k_scale(float *x, float s, size_t n) {
#pragma omp parallel for simd schedule(static)
    for (size_t i = 0; i < n; i++) x[i] *= s;
}
