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
 * depend on the thread count. */
double k_sumsq(const float *x, size_t n) {
    const size_t CH = 65536;
    size_t nch = (n + CH - 1) / CH;
    if (nch == 0) return 0.0;
    double *part = (double *)malloc(nch * sizeof(double));
    if (!part) {  /* serial fallback, same chunking */
        double tot = 0.0;
        for (size_t c = 0; c < nch; c++) {
            double s = 0.0;
            size_t e = (c + 1) * CH < n ? (c + 1) * CH : n;
            for (size_t i = c * CH; i < e; i++) s += (double)x[i] * x[i];
            tot += s;
        }
        return tot;
    }
#pragma omp parallel for schedule(static)
    for (size_t c = 0; c < nch; c++) {
        double s = 0.0;
        size_t e = (c + 1) * CH < n ? (c + 1) * CH : n;
#pragma omp simd reduction(+:s)
        for (size_t i = c * CH; i < e; i++) s += (double)x[i] * x[i];
        part[c] = s;
    }
    double tot = 0.0;
    for (size_t c = 0; c < nch; c++) tot += part[c];
    free(part);
    return tot;
}

void k_scale(float *x, float s, size_t n) {
#pragma omp parallel for simd schedule(static)
    for (size_t i = 0; i < n; i++) x[i] *= s;
}
