/* AdamW update, written in the same operation order as torch.optim.AdamW (single-tensor path) so the
 * trajectory matches PyTorch to float rounding. */
#include "optim/optim.h"
#include "kernels/cpu/kernels.h"
#include <math.h>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define ADAMW_X86 1
#endif

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

/* 16 (AVX-512) or 8 (AVX2) lanes at a time with the same operations in the same order as ADAMW_BODY
 * (sqrt and division are correctly rounded in both), so results are bitwise those of the scalar loop.
 * GCC does not vectorise sqrtf without -fno-math-errno, hence the intrinsics. The form is chosen at
 * run time (lmc_isa_active()); each returns the index where the scalar tail starts. */
#define ADAMW_ARGS                                                                                         \
    float *p, const float *g, float *m, float *v, size_t i0, size_t i1, float decay, float beta1, float beta2, \
        float a1, float a2, float bc2_sqrt, float eps, float step_size
#ifdef ADAMW_X86
__attribute__((target("avx512f"))) static size_t adamw_512(ADAMW_ARGS) {
    size_t i = i0;
    const __m512 vdecay = _mm512_set1_ps(decay), vb1 = _mm512_set1_ps(beta1), vb2 = _mm512_set1_ps(beta2),
                 va1 = _mm512_set1_ps(a1), va2 = _mm512_set1_ps(a2), vbc = _mm512_set1_ps(bc2_sqrt),
                 veps = _mm512_set1_ps(eps), vss = _mm512_set1_ps(step_size);
    for (; i + 16 <= i1; i += 16) {
        __m512 gi = _mm512_loadu_ps(g + i);
        __m512 pi = _mm512_mul_ps(_mm512_loadu_ps(p + i), vdecay);
        __m512 mi = _mm512_add_ps(_mm512_mul_ps(_mm512_loadu_ps(m + i), vb1), _mm512_mul_ps(va1, gi));
        __m512 vi = _mm512_add_ps(_mm512_mul_ps(_mm512_loadu_ps(v + i), vb2), _mm512_mul_ps(_mm512_mul_ps(va2, gi), gi));
        _mm512_storeu_ps(m + i, mi);
        _mm512_storeu_ps(v + i, vi);
        __m512 denom = _mm512_add_ps(_mm512_div_ps(_mm512_sqrt_ps(vi), vbc), veps);
        _mm512_storeu_ps(p + i, _mm512_sub_ps(pi, _mm512_mul_ps(vss, _mm512_div_ps(mi, denom))));
    }
    return i;
}

__attribute__((target("avx2"))) static size_t adamw_256(ADAMW_ARGS) {
    size_t i = i0;
    const __m256 vdecay = _mm256_set1_ps(decay), vb1 = _mm256_set1_ps(beta1), vb2 = _mm256_set1_ps(beta2),
                 va1 = _mm256_set1_ps(a1), va2 = _mm256_set1_ps(a2), vbc = _mm256_set1_ps(bc2_sqrt),
                 veps = _mm256_set1_ps(eps), vss = _mm256_set1_ps(step_size);
    for (; i + 8 <= i1; i += 8) {  /* no FMA: each product rounds, as in ADAMW_BODY */
        __m256 gi = _mm256_loadu_ps(g + i);
        __m256 pi = _mm256_mul_ps(_mm256_loadu_ps(p + i), vdecay);
        __m256 mi = _mm256_add_ps(_mm256_mul_ps(_mm256_loadu_ps(m + i), vb1), _mm256_mul_ps(va1, gi));
        __m256 vi = _mm256_add_ps(_mm256_mul_ps(_mm256_loadu_ps(v + i), vb2), _mm256_mul_ps(_mm256_mul_ps(va2, gi), gi));
        _mm256_storeu_ps(m + i, mi);
        _mm256_storeu_ps(v + i, vi);
        __m256 denom = _mm256_add_ps(_mm256_div_ps(_mm256_sqrt_ps(vi), vbc), veps);
        _mm256_storeu_ps(p + i, _mm256_sub_ps(pi, _mm256_mul_ps(vss, _mm256_div_ps(mi, denom))));
    }
    return i;
}
#endif

void optim_adamw_team(float *p, const float *g, float *m, float *v, size_t n, float lr, float beta1,
                      float beta2, float eps, float wd, double bc1, double bc2) {
    const float decay = 1.0f - lr * wd;
    const float step_size = (float)(lr / bc1);
    const float bc2_sqrt = (float)sqrt(bc2);
    const float a1 = 1.0f - beta1, a2 = 1.0f - beta2;
    const int isa = lmc_isa_active();
    /* static split of 1024-element blocks (the update is elementwise, so the split does not change a
     * bit); each block runs vectorised, then its tail */
    size_t nblk = (n + 1023) / 1024;
#pragma omp for schedule(static) nowait
    for (size_t b = 0; b < nblk; b++) {
        size_t i0 = b * 1024, i1 = i0 + 1024 < n ? i0 + 1024 : n, i = i0;
#ifdef ADAMW_X86
        if (isa == LMC_ISA_AVX512)
            i = adamw_512(p, g, m, v, i0, i1, decay, beta1, beta2, a1, a2, bc2_sqrt, eps, step_size);
        else if (isa == LMC_ISA_AVX2)
            i = adamw_256(p, g, m, v, i0, i1, decay, beta1, beta2, a1, a2, bc2_sqrt, eps, step_size);
#endif
        (void)isa;
        for (; i < i1; i++) ADAMW_BODY
    }
}

void optim_adamw(float *p, const float *g, float *m, float *v, size_t n, float lr, float beta1,
                 float beta2, float eps, float wd, double bc1, double bc2) {
#pragma omp parallel
    optim_adamw_team(p, g, m, v, n, lr, beta1, beta2, eps, wd, bc1, bc2);
}
