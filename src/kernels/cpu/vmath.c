/* The row primitives of vmath.h in three forms (AVX-512, AVX2+FMA, scalar), picked per call from
 * lmc_isa_active(). The vector forms differ only in width: 16 or 8 lanes, masked tails. */
#include "kernels/cpu/vmath.h"
#include "kernels/cpu/kernels.h"

static float exp_sub_sum_scalar(float *y, const float *x, float shift, int n) {
    float sum = 0.0f;
    for (int i = 0; i < n; i++) { y[i] = vm_exp_scalar(x[i] - shift); sum += y[i]; }
    return sum;
}

static float exp_sum_scalar(const float *x, float shift, int n) {
    float sum = 0.0f;
    for (int i = 0; i < n; i++) sum += vm_exp_scalar(x[i] - shift);
    return sum;
}

static void exp_neg_scalar(float *y, const float *x, int n) {
    for (int i = 0; i < n; i++) y[i] = vm_exp_scalar(-x[i]);
}

static float max_scalar(const float *x, int n) {
    float m = -INFINITY;
    for (int i = 0; i < n; i++) m = x[i] > m ? x[i] : m;
    return m;
}

#ifdef VM_X86
VM_T512 static float exp_sub_sum_512(float *y, const float *x, float shift, int n) {
    int i = 0;
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
    }
    return _mm512_reduce_add_ps(acc);
}

VM_T256 static float exp_sub_sum_256(float *y, const float *x, float shift, int n) {
    int i = 0;
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
    }
    return vm_hsum256(acc);
}

VM_T512 static float exp_sum_512(const float *x, float shift, int n) {
    int i = 0;
    __m512 acc = _mm512_setzero_ps(), sh = _mm512_set1_ps(shift);
    for (; i + 16 <= n; i += 16) acc = _mm512_add_ps(acc, vm_exp512(_mm512_sub_ps(_mm512_loadu_ps(x + i), sh)));
    if (i < n) {
        __mmask16 mk = (__mmask16)((1u << (n - i)) - 1);
        __m512 e = vm_exp512(_mm512_sub_ps(_mm512_maskz_loadu_ps(mk, x + i), sh));
        acc = _mm512_add_ps(acc, _mm512_maskz_mov_ps(mk, e));
    }
    return _mm512_reduce_add_ps(acc);
}

VM_T256 static float exp_sum_256(const float *x, float shift, int n) {
    int i = 0;
    __m256 acc = _mm256_setzero_ps(), sh = _mm256_set1_ps(shift);
    for (; i + 8 <= n; i += 8) acc = _mm256_add_ps(acc, vm_exp256(_mm256_sub_ps(_mm256_loadu_ps(x + i), sh)));
    if (i < n) {
        __m256i mk = vm_tail256(n - i);
        __m256 e = vm_exp256(_mm256_sub_ps(_mm256_maskload_ps(x + i, mk), sh));
        acc = _mm256_add_ps(acc, _mm256_and_ps(e, _mm256_castsi256_ps(mk)));
    }
    return vm_hsum256(acc);
}

VM_T512 static void exp_neg_512(float *y, const float *x, int n) {
    int i = 0;
    for (; i + 16 <= n; i += 16)
        _mm512_storeu_ps(y + i, vm_exp512(_mm512_sub_ps(_mm512_setzero_ps(), _mm512_loadu_ps(x + i))));
    for (; i < n; i++) y[i] = vm_exp_scalar(-x[i]);
}

VM_T256 static void exp_neg_256(float *y, const float *x, int n) {
    int i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(y + i, vm_exp256(_mm256_sub_ps(_mm256_setzero_ps(), _mm256_loadu_ps(x + i))));
    for (; i < n; i++) y[i] = vm_exp_scalar(-x[i]);
}

VM_T512 static float max_512(const float *x, int n) {
    int i = 0;
    __m512 acc = _mm512_set1_ps(-INFINITY);
    for (; i + 16 <= n; i += 16) acc = _mm512_max_ps(acc, _mm512_loadu_ps(x + i));
    float m = _mm512_reduce_max_ps(acc);
    for (; i < n; i++) m = x[i] > m ? x[i] : m;
    return m;
}

VM_T256 static float max_256(const float *x, int n) {
    if (n < 8) return max_scalar(x, n);
    __m256 acc = _mm256_loadu_ps(x);
    int i = 8;
    for (; i + 8 <= n; i += 8) acc = _mm256_max_ps(acc, _mm256_loadu_ps(x + i));
    float m = vm_hmax256(acc);
    for (; i < n; i++) m = x[i] > m ? x[i] : m;
    return m;
}
#endif

float vm_exp_sub_sum(float *y, const float *x, float shift, int n) {
#ifdef VM_X86
    switch (lmc_isa_active()) {
    case LMC_ISA_AVX512: return exp_sub_sum_512(y, x, shift, n);
    case LMC_ISA_AVX2: return exp_sub_sum_256(y, x, shift, n);
    default: break;
    }
#endif
    return exp_sub_sum_scalar(y, x, shift, n);
}

float vm_exp_sum(const float *x, float shift, int n) {
#ifdef VM_X86
    switch (lmc_isa_active()) {
    case LMC_ISA_AVX512: return exp_sum_512(x, shift, n);
    case LMC_ISA_AVX2: return exp_sum_256(x, shift, n);
    default: break;
    }
#endif
    return exp_sum_scalar(x, shift, n);
}

void vm_exp_neg(float *y, const float *x, int n) {
#ifdef VM_X86
    switch (lmc_isa_active()) {
    case LMC_ISA_AVX512: exp_neg_512(y, x, n); return;
    case LMC_ISA_AVX2: exp_neg_256(y, x, n); return;
    default: break;
    }
#endif
    exp_neg_scalar(y, x, n);
}

float vm_max(const float *x, int n) {
#ifdef VM_X86
    switch (lmc_isa_active()) {
    case LMC_ISA_AVX512: return max_512(x, n);
    case LMC_ISA_AVX2: return max_256(x, n);
    default: break;
    }
#endif
    return max_scalar(x, n);
}
