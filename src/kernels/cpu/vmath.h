/* Internal: vectorised exp / tanh for the kernels (AVX-512, else AVX2+FMA, else scalar; chosen by the
 * compiler flags of the build, which is -march=native unless LMC_PORTABLE).
 * exp: range reduction x = n*ln2 + r, |r| <= ln2/2, degree-6 polynomial; max relative error ~2e-7
 * over the range used (inputs above 88.3 are clamped to it; below -87.3 the result flushes to 0). */
#ifndef LMC_KERNELS_CPU_VMATH_H
#define LMC_KERNELS_CPU_VMATH_H

#include <math.h>
#include <stdint.h>
#include <string.h>
#if defined(__AVX512F__)
#include <immintrin.h>
#elif defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#define VM_AVX2 1
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

#ifdef VM_AVX2
/* The AVX2 twin of vm_exp512: the same reduction and polynomial, lane for lane. */
static inline __m256 vm_exp256(__m256 x) {
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

static inline float vm_hsum256(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

static inline float vm_hmax256(__m256 v) {
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    s = _mm_max_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* Lane mask for the first k (1..7) lanes of a tail: vm_tail256(k) = load of vm_mask_tab + 8 - k. */
static const int32_t vm_mask_tab[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
static inline __m256i vm_tail256(int k) { return _mm256_loadu_si256((const __m256i *)(vm_mask_tab + 8 - k)); }
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
#elif defined(VM_AVX2)
    __m256 acc = _mm256_setzero_ps(), sh = _mm256_set1_ps(shift);
    for (; i + 8 <= n; i += 8) {
        __m256 e = vm_exp256(_mm256_sub_ps(_mm256_loadu_ps(x + i), sh));
        _mm256_storeu_ps(y + i, e);
        acc = _mm256_add_ps(acc, e);
    }
    if (i < n) {
        __m256i mk = vm_tail256(n - i);
        __m256 e = vm_exp256(_mm256_sub_ps(_mm256_maskload_ps(x + i, mk), sh));
        e = _mm256_and_ps(e, _mm256_castsi256_ps(mk));
        _mm256_maskstore_ps(y + i, mk, e);
        acc = _mm256_add_ps(acc, e);
        i = n;
    }
    sum = vm_hsum256(acc);
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
#elif defined(VM_AVX2)
    __m256 acc = _mm256_setzero_ps(), sh = _mm256_set1_ps(shift);
    for (; i + 8 <= n; i += 8) acc = _mm256_add_ps(acc, vm_exp256(_mm256_sub_ps(_mm256_loadu_ps(x + i), sh)));
    if (i < n) {
        __m256i mk = vm_tail256(n - i);
        __m256 e = vm_exp256(_mm256_sub_ps(_mm256_maskload_ps(x + i, mk), sh));
        acc = _mm256_add_ps(acc, _mm256_and_ps(e, _mm256_castsi256_ps(mk)));
        i = n;
    }
    sum = vm_hsum256(acc);
#endif
    for (; i < n; i++) sum += vm_exp_scalar(x[i] - shift);
    return sum;
}

/* y[i] = exp(-x[i]) (the sigmoid's exp; y may be x): the vector exp at the build's width. */
static inline void vm_exp_neg(float *y, const float *x, int n) {
    int i = 0;
#ifdef __AVX512F__
    for (; i + 16 <= n; i += 16)
        _mm512_storeu_ps(y + i, vm_exp512(_mm512_sub_ps(_mm512_setzero_ps(), _mm512_loadu_ps(x + i))));
#elif defined(VM_AVX2)
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(y + i, vm_exp256(_mm256_sub_ps(_mm256_setzero_ps(), _mm256_loadu_ps(x + i))));
#endif
    for (; i < n; i++) y[i] = vm_exp_scalar(-x[i]);
}

static inline float vm_max(const float *x, int n) {
    int i = 0;
    float m = -INFINITY;
#ifdef __AVX512F__
    __m512 acc = _mm512_set1_ps(-INFINITY);
    for (; i + 16 <= n; i += 16) acc = _mm512_max_ps(acc, _mm512_loadu_ps(x + i));
    m = _mm512_reduce_max_ps(acc);
#elif defined(VM_AVX2)
    if (n >= 8) {
        __m256 acc = _mm256_loadu_ps(x);
        for (i = 8; i + 8 <= n; i += 8) acc = _mm256_max_ps(acc, _mm256_loadu_ps(x + i));
        m = vm_hmax256(acc);
    }
#endif
    for (; i < n; i++) m = x[i] > m ? x[i] : m;
    return m;
}

#endif
