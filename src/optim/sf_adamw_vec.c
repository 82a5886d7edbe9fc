/* The elementwise Schedule-Free AdamW update (sf_adamw.c) as a scalar loop and as AVX2 / AVX-512
 * loops chosen at run time (lmc_cpu_detect: the binary may be built for a baseline and run on a
 * machine with AVX-512, or the reverse under LMC_CPU_DISABLE=avx512f). Every lane does the scalar
 * loop's operations in the same order, with separate multiplies and adds (C11 mode: GCC does not
 * contract the scalar loop into FMAs either) and correctly rounded sqrt and division, so all three
 * give the same bits (tests/optim/test_sf_vec.c checks it). torch.lerp's two formulas depend only on
 * the weight c, which is the same for every element: the branch is taken once per call. */
#include "optim/optim.h"

#include <math.h>
#include "kernels/cpu/kernels.h"
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define SF_X86 1
#endif

static inline float lerpf_torch(float a, float b, float w) {
    return fabsf(w) < 0.5f ? a + w * (b - a) : b - (b - a) * (1.0f - w);
}

static void sf_scalar(float *y, float *z, float *v, const float *g, size_t i0, size_t i1, const optim_sf_args *a) {
    for (size_t j = i0; j < i1; j++) {
        float gj = g[j];
        float vj = v[j] * a->b2 + a->a2 * gj * gj;
        v[j] = vj;
        float d = gj / (sqrtf(vj / a->bc2) + a->eps);
        if (a->wd != 0.0f) d = d + a->wd * y[j];
        float yj = lerpf_torch(y[j], z[j], a->c);
        y[j] = yj + a->ay * d;
        z[j] = z[j] - a->lr * d;
    }
}

#ifdef SF_X86
/* one macro body for both widths: V = vector type, P = intrinsic prefix */
#define SF_VEC_LOOP(V, P, W)                                                                              \
    const V b2 = P##_set1_ps(a->b2), a2 = P##_set1_ps(a->a2), bc2 = P##_set1_ps(a->bc2),                   \
            eps = P##_set1_ps(a->eps), wd = P##_set1_ps(a->wd), c = P##_set1_ps(a->c),                     \
            c1 = P##_set1_ps(1.0f - a->c), ay = P##_set1_ps(a->ay), lr = P##_set1_ps(a->lr);               \
    const int lo = fabsf(a->c) < 0.5f, decay = a->wd != 0.0f;                                              \
    size_t j = i0;                                                                                        \
    for (; j + W <= i1; j += W) {                                                                         \
        V gj = P##_loadu_ps(g + j), yj = P##_loadu_ps(y + j), zj = P##_loadu_ps(z + j);                    \
        V vj = P##_add_ps(P##_mul_ps(P##_loadu_ps(v + j), b2), P##_mul_ps(P##_mul_ps(a2, gj), gj));        \
        P##_storeu_ps(v + j, vj);                                                                         \
        V d = P##_div_ps(gj, P##_add_ps(P##_sqrt_ps(P##_div_ps(vj, bc2)), eps));                          \
        if (decay) d = P##_add_ps(d, P##_mul_ps(wd, yj));                                                 \
        V zy = P##_sub_ps(zj, yj);                                                                        \
        V yl = lo ? P##_add_ps(yj, P##_mul_ps(c, zy)) : P##_sub_ps(zj, P##_mul_ps(zy, c1));               \
        P##_storeu_ps(y + j, P##_add_ps(yl, P##_mul_ps(ay, d)));                                          \
        P##_storeu_ps(z + j, P##_sub_ps(zj, P##_mul_ps(lr, d)));                                          \
    }                                                                                                     \
    sf_scalar(y, z, v, g, j, i1, a);

__attribute__((target("avx2"))) static void sf_avx2(float *y, float *z, float *v, const float *g, size_t i0,
                                                    size_t i1, const optim_sf_args *a) {
    SF_VEC_LOOP(__m256, _mm256, 8)
}

__attribute__((target("avx512f"))) static void sf_avx512(float *y, float *z, float *v, const float *g, size_t i0,
                                                         size_t i1, const optim_sf_args *a) {
    SF_VEC_LOOP(__m512, _mm512, 16)
}
#endif

void optim_sf_update(float *y, float *z, float *v, const float *g, size_t n, const optim_sf_args *a, int isa) {
    /* blocks of 64 elements split statically over the threads: deterministic for any thread count */
    const long nblk = (long)((n + 63) / 64);
#pragma omp parallel for schedule(static)
    for (long b = 0; b < nblk; b++) {
        size_t i0 = (size_t)b * 64, i1 = i0 + 64 < n ? i0 + 64 : n;
#ifdef SF_X86
        if (isa == LMC_ISA_AVX512) { sf_avx512(y, z, v, g, i0, i1, a); continue; }
        if (isa == LMC_ISA_AVX2) { sf_avx2(y, z, v, g, i0, i1, a); continue; }
#endif
        sf_scalar(y, z, v, g, i0, i1, a);
    }
}
