/* Token + position embeddings. */
#include "kernels/cpu/kernels.h"

void k_encoder_fwd(float *out, const int32_t *inp, const float *wte, const float *wpe, int B, int T, int C) {
#pragma omp parallel for schedule(static)
    for (int64_t n = 0; n < (int64_t)B * T; n++) {
        int t = (int)(n % T);
        const float *e = wte + (size_t)inp[n] * C, *p = wpe + (size_t)t * C;
        float *o = out + (size_t)n * C;
#pragma omp simd
        for (int i = 0; i < C; i++) o[i] = e[i] + p[i];
    }
}

void k_encoder_bwd(float *dwte, float *dwpe, const float *dout, const int32_t *inp, int B, int T, int C) {
    /* dwte: the same token may appear many times; split the channels across threads and walk the
     * positions in order, so there are no races and the sum order is fixed. */
    const int CB = 32;
    int nblk = (C + CB - 1) / CB;
#pragma omp parallel for schedule(static)
    for (int blk = 0; blk < nblk; blk++) {
        int j0 = blk * CB, j1 = j0 + CB < C ? j0 + CB : C;
        for (int64_t n = 0; n < (int64_t)B * T; n++) {
            float *g = dwte + (size_t)inp[n] * C;
            const float *d = dout + (size_t)n * C;
            for (int j = j0; j < j1; j++) g[j] += d[j];
        }
    }
#pragma omp parallel for schedule(static)
    for (int t = 0; t < T; t++) {
        float *g = dwpe + (size_t)t * C;
        for (int b = 0; b < B; b++) {
            const float *d = dout + ((size_t)b * T + t) * C;
#pragma omp simd
            for (int j = 0; j < C; j++) g[j] += d[j];
        }
    }
}

/* Per-row positions (document masking restarts them at every document start): out[n] = wte[inp[n]] +
 * wpe[pos[n]]. */
void k_encoder_fwd_pos(float *out, const int32_t *inp, const int32_t *pos, const float *wte, const float *wpe,
                       size_t N, int C) {
#pragma omp parallel for schedule(static)
    for (int64_t n = 0; n < (int64_t)N; n++) {
        const float *e = wte + (size_t)inp[n] * C, *p = wpe + (size_t)pos[n] * C;
        float *o = out + (size_t)n * C;
#pragma omp simd
        for (int i = 0; i < C; i++) o[i] = e[i] + p[i];
    }
}

void k_encoder_bwd_pos(float *dwte, float *dwpe, const float *dout, const int32_t *inp, const int32_t *pos,
                       size_t N, int C) {
    /* both tables can repeat rows: channel blocks per thread, rows in order (fixed sum order) */
    const int CB = 32;
    int nblk = (C + CB - 1) / CB;
#pragma omp parallel for schedule(static)
    for (int blk = 0; blk < nblk; blk++) {
        int j0 = blk * CB, j1 = j0 + CB < C ? j0 + CB : C;
        for (int64_t n = 0; n < (int64_t)N; n++) {
            float *g = dwte + (size_t)inp[n] * C, *gp = dwpe + (size_t)pos[n] * C;
            const float *d = dout + (size_t)n * C;
            for (int j = j0; j < j1; j++) g[j] += d[j];
            for (int j = j0; j < j1; j++) gp[j] += d[j];
        }
    }
}
