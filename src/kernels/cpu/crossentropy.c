/* Softmax + cross-entropy over the first V columns of rows of Vp logits (the padded columns never
 * enter the max, the sum or the gradient). Forward keeps only lse per row; backward turns the logits
 * buffer into dlogits in place, recomputing the probabilities from lse. */
#include "kernels/cpu/kernels.h"
#include "kernels/cpu/vmath.h"
#include <string.h>

void k_crossentropy_fwd(float *losses, float *lse, const float *logits, const int32_t *targets,
                        size_t N, int V, int Vp, double *sum, int64_t *count) {
#pragma omp parallel for schedule(static)
    for (size_t n = 0; n < N; n++) {
        const float *l = logits + n * (size_t)Vp;
        float mx = vm_max(l, V);
        float s = vm_exp_sum(l, mx, V);
        float ls = mx + logf(s);
        lse[n] = ls;
        if (losses) {
            int32_t t = targets ? targets[n] : -1;
            losses[n] = t >= 0 ? ls - l[t] : 0.0f;
        }
    }
    if (sum && losses) {
        double s = 0.0;
        int64_t c = 0;
        for (size_t n = 0; n < N; n++)
            if (targets && targets[n] >= 0) { s += losses[n]; c++; }
        *sum = s;
        if (count) *count = c;
    }
}

void k_crossentropy_bwd_inplace(float *logits, const float *lse, const int32_t *targets, float scale,
                                size_t N, int V, int Vp) {
#pragma omp parallel for schedule(static)
    for (size_t n = 0; n < N; n++) {
        float *l = logits + n * (size_t)Vp;
        int32_t t = targets[n];
        if (t < 0) { memset(l, 0, (size_t)Vp * sizeof(float)); continue; }
        vm_exp_sub_sum(l, l, lse[n], V);  /* l = softmax */
#pragma omp simd
        for (int j = 0; j < V; j++) l[j] *= scale;
        l[t] -= scale;
        for (int j = V; j < Vp; j++) l[j] = 0.0f;
    }
}
