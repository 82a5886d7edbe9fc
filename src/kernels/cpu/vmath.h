/* Internal: vectorised exp for the kernels, in AVX-512, AVX2+FMA and scalar forms. The form is chosen
 * at run time (lmc_isa_active(), from CPUID), not by the build flags: the vector primitives carry
 * their own target attributes, so a portable build (-DLMC_PORTABLE=ON, no -march=native) has them
 * too, and a -march=native build still compiles and tests every form its CPU can run.
 * exp: range reduction x = n*ln2 + r, |r| <= ln2/2, degree-6 polynomial; max relative error ~2e-7
 * over the range used (inputs above 88.3 are clamped to it; below -87.3 the result flushes to 0). */
#ifndef LMC_KERNELS_CPU_VMATH_H
#define LMC_KERNELS_CPU_VMATH_H

#include <math.h>
#include <stdint.h>
#include <string.h>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define VM_X86 1
#define VM_T512 __attribute__((target("avx512f")))
#define VM_T256 __attribute__((target("avx2,fma")))
#endif

/* exp(x) for x already inside the float range (about [-87.3, 88.3]): range reduction + degree-6
 * polynomial, ~2e-7 relative. Branch-free, so loops of it vectorise under `omp simd`. */
static inline float vm_exp_core(float x) {
    float n = rintf(x * 1.44269504088896341f);
    float r = x - n * 0.693145751953125f;
    r = r - n * 1.428606765330187045e-06f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    int32_t e = ((int32_t)n + 127) << 23;
    float s;
    memcpy(&s, &e, 4);
    return p * s;
}

static inline float vm_exp_scalar(float x) {
    if (x < -87.33654f) return 0.0f;
    if (x > 88.3f) x = 88.3f;
    return vm_exp_core(x);
}

#ifdef VM_X86
VM_T512 static inline __m512 vm_exp512(__m512 x) {
    const __m512 lo = _mm512_set1_ps(-87.33654f), hi = _mm512_set1_ps(88.3f);
    __mmask16 under = _mm512_cmp_ps_mask(x, lo, _CMP_LT_OQ);
    x = _mm512_min_ps(_mm512_max_ps(x, lo), hi);
    __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693145751953125f), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(1.428606765330187045e-06f), r);
    __m512 p = _mm512_set1_ps(1.9875691500e-4f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
    p = _mm512_fmadd_ps(_mm512_mul_ps(p, r), r, _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
    __m512i e = _mm512_slli_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127)), 23);
    __m512 res = _mm512_mul_ps(p, _mm512_castsi512_ps(e));
    return _mm512_maskz_mov_ps((__mmask16)~under, res);
}

/* The AVX2 twin of vm_exp512: the same reduction and polynomial, lane for lane. */
VM_T256 static inline __m256 vm_exp256(__m256 x) {
    const __m256 lo = _mm256_set1_ps(-87.33654f), hi = _mm256_set1_ps(88.3f);
    __m256 under = _mm256_cmp_ps(x, lo, _CMP_LT_OQ);
    x = _mm256_min_ps(_mm256_max_ps(x, lo), hi);
    __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                               _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693145751953125f), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(1.428606765330187045e-06f), r);
    __m256 p = _mm256_set1_ps(1.9875691500e-4f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
    p = _mm256_fmadd_ps(_mm256_mul_ps(p, r), r, _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
    __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    __m256 res = _mm256_mul_ps(p, _mm256_castsi256_ps(e));
    return _mm256_andnot_ps(under, res);
}

VM_T256 static inline float vm_hsum256(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

VM_T256 static inline float vm_hmax256(__m256 v) {
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    s = _mm_max_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* Lane mask for the first k (1..7) lanes of a tail: vm_tail256(k) = load of vm_mask_tab + 8 - k. */
static const int32_t vm_mask_tab[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
VM_T256 static inline __m256i vm_tail256(int k) { return _mm256_loadu_si256((const __m256i *)(vm_mask_tab + 8 - k)); }
#endif

/* Row primitives (vmath.c), each dispatched on lmc_isa_active() per call; a row is long enough
 * (>= 64 elements where it matters) that the switch costs nothing measurable. The AVX-512 and AVX2
 * forms run the same polynomial lane for lane; sums differ from the scalar form only in the order of
 * the float additions (8 or 16 partial sums). */
/* y[i] = exp(x[i] - shift), returns the sum of y (float accumulation in a fixed order). y may be x. */
float vm_exp_sub_sum(float *y, const float *x, float shift, int n);
/* Same without storing: sum of exp(x[i] - shift). */
float vm_exp_sum(const float *x, float shift, int n);
/* y[i] = exp(-x[i]) (the sigmoid's exp; y may be x). */
void vm_exp_neg(float *y, const float *x, int n);
/* max of x[0..n) (-inf for n = 0). */
float vm_max(const float *x, int n);

#endif
