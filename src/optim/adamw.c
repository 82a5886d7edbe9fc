/* AdamW update, written in the same operation order as torch.optim.AdamW (single-tensor path) so the
 * trajectory matches PyTorch to float rounding. */
#include "optim/optim.h"
#include <math.h>

#define ADAMW_BODY                                                  \
    {                                                               \
        float gi = g[i];                                            \
        float pi = p[i] * decay;                                    \
        float mi = m[i] * beta1 + a1 * gi;                          \
        float vi = v[i] * beta2 + a2 * gi * gi;                     \
        m[i] = mi;                                                  \
        v[i] = vi;                                                  \
        float denom = sqrtf(vi) / bc2_sqrt + eps;                   \
        p[i] = pi - step_size * (mi / denom);                       \
    }

void optim_adamw_team(float *p, const float *g, float *m, float *v, size_t n, float lr, float beta1,
                      float beta2, float eps, float wd, double bc1, double bc2) {
    const float decay = 1.0f - lr * wd;
    const float step_size = (float)(lr / bc1);
    const float bc2_sqrt = (float)sqrt(bc2);
    const float a1 = 1.0f - beta1, a2 = 1.0f - beta2;
#pragma omp for simd schedule(static) nowait
    for (size_t i = 0; i < n; i++) ADAMW_BODY
}

void optim_adamw(float *p, const float *g, float *m, float *v, size_t n, float lr, float beta1,
                 float beta2, float eps, float wd, double bc1, double bc2) {
    const float decay = 1.0f - lr * wd;
    const float step_size = (float)(lr / bc1);
    const float bc2_sqrt = (float)sqrt(bc2);
    const float a1 = 1.0f - beta1, a2 = 1.0f - beta2;
#pragma omp parallel for simd schedule(static)
    for (size_t i = 0; i < n; i++) ADAMW_BODY
}
