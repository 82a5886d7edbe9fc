/* Internal: vectorised exp / tanh for the kernels (AVX-512 with a scalar fallback).
 * exp: range reduction x = n*ln2 + r, |r| <= ln2/2, degree-6 polynomial; max relative error ~2e-7
 * over the range used (inputs above 88.3 are clamped to it; below -87.3 the result flushes to 0). */
#ifndef LMC_KERNELS_CPU_VMATH_H
#define LMC_KERNELS_CPU_VMATH_H

#include <math.h>
#include <stdint.h>
#include <string.h>
#ifdef __AVX512F__
#include <immintrin.h>
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

#ifdef __AVX512F__
static inline __m512 vm_exp512(__m512 x) {
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
#endif

/* y[i] = exp(x[i] - shift), returns the sum of y (float accumulation in a fixed order). */
static inline float vm_exp_sub_sum(float *y, const float *x, float shift, int n) {
    int i = 0;
    float sum = 0.0f;
#ifdef __AVX512F__
    __m512 acc = _mm512_setzero_ps(), sh = _mm512_set1_ps(shift);
    for (; i + 16 <= n; i += 16) {
        __m512 e = vm_exp512(_mm512_sub_ps(_mm512_loadu_ps(x + i), sh));
        _mm512_storeu_ps(y + i, e);
        acc = _mm512_add_ps(acc, e);
    }
    if (i < n) {
        __mmask16 mk = (__mmask16)((1u << (n - i)) - 1);
        __m512 e = vm_exp512(_mm512_sub_ps(_mm512_maskz_loadu_ps(mk, x + i), sh));
        e = _mm512_maskz_mov_ps(mk, e);
        _mm512_mask_storeu_ps(y + i, mk, e);
        acc = _mm512_add_ps(acc, e);
        i = n;
    }
    sum = _mm512_reduce_add_ps(acc);
#endif
    for (; i < n; i++) { y[i] = vm_exp_scalar(x[i] - shift); sum += y[i]; }
    return sum;
}

/* Same without storing: sum of exp(x[i] - shift). */
static inline float vm_exp_sum(const float *x, float shift, int n) {
    int i = 0;
    float sum = 0.0f;
#ifdef __AVX512F__
    __m512 acc = _mm512_setzero_ps(), sh = _mm512_set1_ps(shift);
    for (; i + 16 <= n; i += 16)
        acc = _mm512_add_ps(acc, vm_exp512(_mm512_sub_ps(_mm512_loadu_ps(x + i), sh)));
    if (i < n) {
        __mmask16 mk = (__mmask16)((1u << (n - i)) - 1);
        __m512 e = vm_exp512(_mm512_sub_ps(_mm512_maskz_loadu_ps(mk, x + i), sh));
        acc = _mm512_add_ps(acc, _mm512_maskz_mov_ps(mk, e));
        i = n;
    }
    sum = _mm512_reduce_add_ps(acc);
#endif
    for (; i < n; i++) sum += vm_exp_scalar(x[i] - shift);
    return sum;
}

static inline float vm_max(const float *x, int n) {
    int i = 0;
    float m = -INFINITY;
#ifdef __AVX512F__
    __m512 acc = _mm512_set1_ps(-INFINITY);
    for (; i + 16 <= n; i += 16) acc = _mm512_max_ps(acc, _mm512_loadu_ps(x + i));
    m = _mm512_reduce_max_ps(acc);
#endif
    for (; i < n; i++) m = x[i] > m ? x[i] : m;
    return m;
}

#endif
