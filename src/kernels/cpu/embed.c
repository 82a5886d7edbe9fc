/* Token embedding without a position table (RoPE, ALiBi and NoPE models). */
#include "kernels/cpu/kernels.h"
#include <string.h>

void k_embed_fwd(float *out, const int32_t *inp, const float *wte, size_t N, int C) {
#pragma omp parallel for schedule(static)
    for (size_t n = 0; n < N; n++)
        memcpy(out + n * (size_t)C, wte + (size_t)inp[n] * (size_t)C, (size_t)C * sizeof(float));
}

void k_embed_bwd(float *dwte, const float *dout, const int32_t *inp, size_t N, int C) {
    /* Each thread owns a block of channels and walks the rows in order: no two threads touch the
     * same float, and each sum has a fixed order. */
    const int CB = 64;
    int nblk = (C + CB - 1) / CB;
#pragma omp parallel for schedule(static)
    for (int blk = 0; blk < nblk; blk++) {
        int j0 = blk * CB, j1 = j0 + CB < C ? j0 + CB : C;
        for (size_t n = 0; n < N; n++) {
            float *dw = dwte + (size_t)inp[n] * (size_t)C;
            const float *d = dout + n * (size_t)C;
            for (int j = j0; j < j1; j++) dw[j] += d[j];
        }
    }
}
