/* GELU with the tanh approximation (HF "gelu_new"):
 *   gelu(x) = 0.5 x (1 + tanh(s (x + 0.044715 x^3))),  s = sqrt(2/pi).
 * tanh(u) = 1 - 2 / (exp(2u) + 1) through the vector exp (absolute error ~1e-7); AVX-512, AVX2+FMA or
 * scalar (libm tanhf) as lmc_isa_active() says. */
#include "kernels/cpu/kernels.h"
#include "kernels/cpu/vmath.h"
#include "kernels/cpu/gemm.h"

#define GELU_S 0.7978845608028654f
#define GELU_K 0.044715f

static inline float gelu_tanh_scalar(float u) { return tanhf(u); }

#ifdef VM_X86
VM_T512 static inline __m512 tanh512(__m512 u) {
    __m512 e = vm_exp512(_mm512_add_ps(u, u));
    __m512 one = _mm512_set1_ps(1.0f);
    return _mm512_sub_ps(one, _mm512_div_ps(_mm512_set1_ps(2.0f), _mm512_add_ps(e, one)));
}

VM_T256 static inline __m256 tanh256(__m256 u) {
    __m256 e = vm_exp256(_mm256_add_ps(u, u));
    __m256 one = _mm256_set1_ps(1.0f);
    return _mm256_sub_ps(one, _mm256_div_ps(_mm256_set1_ps(2.0f), _mm256_add_ps(e, one)));
}
#endif

/* out[i] = gelu(x[i]) for i in [i, n): the scalar form, and the tail after the vector forms, which
 * return where they stopped. */
static void gelu_tail(float *out, const float *x, size_t i, size_t n) {
    for (; i < n; i++) {
        float xi = x[i];
        float u = GELU_S * (xi + GELU_K * xi * xi * xi);
        out[i] = 0.5f * xi * (1.0f + gelu_tanh_scalar(u));
    }
}

#ifdef VM_X86
VM_T512 static size_t gelu_512(float *out, const float *x, size_t n) {
    size_t i = 0;
    const __m512 s = _mm512_set1_ps(GELU_S), k = _mm512_set1_ps(GELU_K), half = _mm512_set1_ps(0.5f),
                 one = _mm512_set1_ps(1.0f);
    for (; i + 16 <= n; i += 16) {
        __m512 xv = _mm512_loadu_ps(x + i);
        __m512 x3 = _mm512_mul_ps(_mm512_mul_ps(xv, xv), xv);
        __m512 u = _mm512_mul_ps(s, _mm512_fmadd_ps(k, x3, xv));
        __m512 t = tanh512(u);
        _mm512_storeu_ps(out + i, _mm512_mul_ps(_mm512_mul_ps(half, xv), _mm512_add_ps(one, t)));
    }
    return i;
}

VM_T256 static size_t gelu_256(float *out, const float *x, size_t n) {
    size_t i = 0;
    const __m256 s = _mm256_set1_ps(GELU_S), k = _mm256_set1_ps(GELU_K), half = _mm256_set1_ps(0.5f),
                 one = _mm256_set1_ps(1.0f);
    for (; i + 8 <= n; i += 8) {
        __m256 xv = _mm256_loadu_ps(x + i);
        __m256 x3 = _mm256_mul_ps(_mm256_mul_ps(xv, xv), xv);
        __m256 u = _mm256_mul_ps(s, _mm256_fmadd_ps(k, x3, xv));
        __m256 t = tanh256(u);
        _mm256_storeu_ps(out + i, _mm256_mul_ps(_mm256_mul_ps(half, xv), _mm256_add_ps(one, t)));
    }
    return i;
}
#endif

/* out[0..n) = gelu(x[0..n)) in the form `isa` (lmc_isa_active(), read once per call) */
static void gelu_span(float *out, const float *x, size_t n, int isa) {
    size_t i = 0;
#ifdef VM_X86
    if (isa == LMC_ISA_AVX512) i = gelu_512(out, x, n);
    else if (isa == LMC_ISA_AVX2) i = gelu_256(out, x, n);
#endif
    (void)isa;
    gelu_tail(out, x, i, n);
}

#define GELU_CH 4096

void k_gelu_fwd(float *out, const float *x, size_t n) {
    size_t nch = (n + GELU_CH - 1) / GELU_CH;
    const int isa = lmc_isa_active();
#pragma omp parallel for schedule(static)
    for (size_t c = 0; c < nch; c++) {
        size_t i = c * GELU_CH, e = i + GELU_CH < n ? i + GELU_CH : n;
        gelu_span(out + i, x + i, e - i, isa);
    }
}

void k_gelu_fwd_bf16(uint16_t *out, uint16_t *x16, const float *x, size_t n) {
    size_t nch = (n + GELU_CH - 1) / GELU_CH;
    const int isa = lmc_isa_active();
#pragma omp parallel for schedule(static)
    for (size_t c = 0; c < nch; c++) {
        size_t i = c * GELU_CH, e = i + GELU_CH < n ? i + GELU_CH : n;
        float tmp[GELU_CH];   /* one chunk in L1, rounded from there: the fp32 output never reaches memory */
        gelu_span(tmp, x + i, e - i, isa);
        k_f32_to_bf16(out + i, tmp, e - i);
        if (x16) k_f32_to_bf16(x16 + i, x + i, e - i);
    }
}

/* dx[i] = gelu'(x[i]) * dout[i] for i in [i, n) */
static void gelu_bwd_tail(float *dx, const float *x, const float *dout, size_t i, size_t n) {
    for (; i < n; i++) {
        float xi = x[i];
        float u = GELU_S * (xi + GELU_K * xi * xi * xi);
        float t = gelu_tanh_scalar(u);
        float sech2 = 1.0f - t * t;
        float du = GELU_S * (1.0f + 3.0f * GELU_K * xi * xi);
        /* past |u| = 40 the curvature term is 0 (and 0 * inf would be NaN) */
        dx[i] = (fabsf(u) > 40.0f ? 0.5f * (1.0f + t) : 0.5f * (1.0f + t) + 0.5f * xi * sech2 * du) * dout[i];
    }
}

#ifdef VM_X86
VM_T512 static size_t gelu_bwd_512(float *dx, const float *x, const float *dout, size_t n) {
    size_t i = 0;
    const __m512 s = _mm512_set1_ps(GELU_S), k = _mm512_set1_ps(GELU_K), half = _mm512_set1_ps(0.5f),
                 one = _mm512_set1_ps(1.0f), k3 = _mm512_set1_ps(3.0f * GELU_K);
    for (; i + 16 <= n; i += 16) {
        __m512 xv = _mm512_loadu_ps(x + i);
        __m512 x2 = _mm512_mul_ps(xv, xv);
        __m512 u = _mm512_mul_ps(s, _mm512_fmadd_ps(_mm512_mul_ps(k, x2), xv, xv));
        /* with e = exp(2u): tanh = 1 - 2/(e+1), sech^2 = 4e/(e+1)^2 (relative-accurate for large |u|).
         * Where |2u| > 80 (|x| > ~11) the curvature term x sech^2 du (< 1e-30) is set to 0 and e is
         * computed from the clamped 2u: exp(2u) overflowed to inf for x > ~10, and 4 inf * 0 made
         * the gradient NaN while the forward stayed finite (a training run at lr 5e-3 stopped on
         * NaN gradient norms). Inside the range the arithmetic is unchanged, bit for bit. A NaN
         * input still gives NaN. */
        __m512 u2 = _mm512_add_ps(u, u);
        __m512 lim = _mm512_set1_ps(80.0f);
        __mmask16 flat = _mm512_cmp_ps_mask(_mm512_abs_ps(u2), lim, _CMP_GT_OQ);
        __m512 e2 = vm_exp512(_mm512_max_ps(_mm512_min_ps(u2, lim), _mm512_set1_ps(-80.0f)));
        __m512 inv = _mm512_div_ps(one, _mm512_add_ps(e2, one));
        __m512 t = _mm512_fnmadd_ps(_mm512_set1_ps(2.0f), inv, one);
        __m512 sech2 = _mm512_mul_ps(_mm512_mul_ps(_mm512_set1_ps(4.0f), e2), _mm512_mul_ps(inv, inv));
        __m512 du = _mm512_mul_ps(s, _mm512_fmadd_ps(k3, x2, one));
        /* 0.5 (1 + t) + 0.5 x sech2 du */
        __m512 g = _mm512_mul_ps(half, _mm512_mask3_fmadd_ps(_mm512_mul_ps(xv, sech2), du, _mm512_add_ps(one, t),
                                                             (__mmask16)~flat));
        _mm512_storeu_ps(dx + i, _mm512_mul_ps(g, _mm512_loadu_ps(dout + i)));
    }
    return i;
}

VM_T256 static size_t gelu_bwd_256(float *dx, const float *x, const float *dout, size_t n) {
    size_t i = 0;
    /* the AVX-512 loop above, 8 lanes wide (the blend stands for the masked fmadd) */
    const __m256 s = _mm256_set1_ps(GELU_S), k = _mm256_set1_ps(GELU_K), half = _mm256_set1_ps(0.5f),
                 one = _mm256_set1_ps(1.0f), k3 = _mm256_set1_ps(3.0f * GELU_K), lim = _mm256_set1_ps(80.0f),
                 nlim = _mm256_set1_ps(-80.0f), sign = _mm256_set1_ps(-0.0f);
    for (; i + 8 <= n; i += 8) {
        __m256 xv = _mm256_loadu_ps(x + i);
        __m256 x2 = _mm256_mul_ps(xv, xv);
        __m256 u = _mm256_mul_ps(s, _mm256_fmadd_ps(_mm256_mul_ps(k, x2), xv, xv));
        __m256 u2 = _mm256_add_ps(u, u);
        __m256 flat = _mm256_cmp_ps(_mm256_andnot_ps(sign, u2), lim, _CMP_GT_OQ);
        __m256 e2 = vm_exp256(_mm256_max_ps(_mm256_min_ps(u2, lim), nlim));
        __m256 inv = _mm256_div_ps(one, _mm256_add_ps(e2, one));
        __m256 t = _mm256_fnmadd_ps(_mm256_set1_ps(2.0f), inv, one);
        __m256 sech2 = _mm256_mul_ps(_mm256_mul_ps(_mm256_set1_ps(4.0f), e2), _mm256_mul_ps(inv, inv));
        __m256 du = _mm256_mul_ps(s, _mm256_fmadd_ps(k3, x2, one));
        __m256 onet = _mm256_add_ps(one, t);
        __m256 full = _mm256_fmadd_ps(_mm256_mul_ps(xv, sech2), du, onet);
        __m256 g = _mm256_mul_ps(half, _mm256_blendv_ps(full, onet, flat));
        _mm256_storeu_ps(dx + i, _mm256_mul_ps(g, _mm256_loadu_ps(dout + i)));
    }
    return i;
}
#endif

/* dx[0..n) = gelu'(x) * dout (dx may be dout), in the form `isa` */
static void gelu_bwd_span(float *dx, const float *x, const float *dout, size_t n, int isa) {
    size_t i = 0;
#ifdef VM_X86
    if (isa == LMC_ISA_AVX512) i = gelu_bwd_512(dx, x, dout, n);
    else if (isa == LMC_ISA_AVX2) i = gelu_bwd_256(dx, x, dout, n);
#endif
    (void)isa;
    gelu_bwd_tail(dx, x, dout, i, n);
}

void k_gelu_bwd(float *dx, const float *x, const float *dout, size_t n) {
    size_t nch = (n + GELU_CH - 1) / GELU_CH;
    const int isa = lmc_isa_active();
#pragma omp parallel for schedule(static)
    for (size_t c = 0; c < nch; c++) {
        size_t i = c * GELU_CH, e = i + GELU_CH < n ? i + GELU_CH : n;
        gelu_bwd_span(dx + i, x + i, dout + i, e - i, isa);
    }
}

void k_gelu_bwd_bf16x(float *dx, const uint16_t *x16, const float *dout, size_t n) {
    size_t nch = (n + GELU_CH - 1) / GELU_CH;
    const int isa = lmc_isa_active();
#pragma omp parallel for schedule(static)
    for (size_t c = 0; c < nch; c++) {
        size_t i = c * GELU_CH, e = i + GELU_CH < n ? i + GELU_CH : n;
        float tmp[GELU_CH];
        k_bf16_to_f32(tmp, x16 + i, e - i);
        gelu_bwd_span(dx + i, tmp, dout + i, e - i, isa);
    }
}
