/* bf16 for the GEMMs: conversion, the weight cache and the precision switch.
 *
 * Mixed precision as autocast does it: the optimizer keeps fp32 master weights; the GEMMs read a bf16
 * copy of each weight, made on first use after an update (lmc_kernels_weights_changed bumps a
 * generation; a stale copy is re-rounded), so each weight is converted once per step although forward
 * and backward both read it. Activations and gradients are rounded on the way into each GEMM. */
#include "kernels/cpu/kernels.h"
#include "kernels/cpu/gemm.h"
#include "base/error.h"
#include "base/mem.h"
#include <omp.h>
#include <stdlib.h>
#include <string.h>

static inline uint16_t f2bf(float x) {
    uint32_t u;
    memcpy(&u, &x, 4);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40);   /* quiet NaN stays NaN */
    u += 0x7fffu + ((u >> 16) & 1u);                                             /* round to nearest even */
    return (uint16_t)(u >> 16);
}

static void f32_to_bf16_scalar(uint16_t *dst, const float *src, size_t n) {
#pragma omp simd
    for (size_t i = 0; i < n; i++) dst[i] = f2bf(src[i]);
}

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#include <immintrin.h>
/* vcvtneps2bf16 rounds to nearest even as f2bf does (infinities and overflow to infinity included) but
 * flushes subnormal inputs to zero, and its NaN results are not relied on: a block of 16 holding a
 * nonzero subnormal or a NaN takes f2bf, so every result is bitwise f2bf's. */
__attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16")))
static void f32_to_bf16_avx512bf16(uint16_t *dst, const float *src, size_t n) {
    const __m512i absmask = _mm512_set1_epi32(0x7fffffff), minnorm = _mm512_set1_epi32(0x00800000),
                  inf = _mm512_set1_epi32(0x7f800000);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512 x = _mm512_loadu_ps(src + i);
        __m512i a = _mm512_and_si512(_mm512_castps_si512(x), absmask);
        /* 0 < |x| < 2^-126 (subnormal) or |x| > inf (NaN) */
        __mmask16 odd = _mm512_mask_cmplt_epu32_mask(_mm512_test_epi32_mask(a, a), a, minnorm) |
                        _mm512_cmpgt_epu32_mask(a, inf);
        if (odd) { f32_to_bf16_scalar(dst + i, src + i, 16); continue; }
        _mm256_storeu_si256((__m256i *)(dst + i), (__m256i)_mm512_cvtneps_pbh(x));
    }
    f32_to_bf16_scalar(dst + i, src + i, n - i);
}

static int cvt_isa = -1;   /* 1: vcvtneps2bf16 available (and not hidden by LMC_CPU_DISABLE) */
#endif

void k_f32_to_bf16(uint16_t *dst, const float *src, size_t n) {
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
    int isa = __atomic_load_n(&cvt_isa, __ATOMIC_RELAXED);
    if (isa < 0) {   /* threads may race here: each computes the same value */
        isa = lmc_cpu_detect().avx512_bf16;
        __atomic_store_n(&cvt_isa, isa, __ATOMIC_RELAXED);
    }
    if (isa) { f32_to_bf16_avx512bf16(dst, src, n); return; }
#endif
    f32_to_bf16_scalar(dst, src, n);
}

void k_bf16_to_f32(float *dst, const uint16_t *src, size_t n) {
#pragma omp simd
    for (size_t i = 0; i < n; i++) {
        uint32_t u = (uint32_t)src[i] << 16;
        memcpy(dst + i, &u, 4);
    }
}

void k_f32_to_bf16_rows(uint16_t *dst, const float *src, int rows, int cols, int ld) {
    size_t work = (size_t)rows * cols;
#pragma omp parallel for schedule(static) if (work > 65536 && !omp_in_parallel())
    for (int r = 0; r < rows; r++) k_f32_to_bf16(dst + (size_t)r * cols, src + (size_t)r * ld, (size_t)cols);
}

/* ---- precision switch ---- */
static lmc_precision cur_prec = LMC_PREC_FP32;
static unsigned long weights_gen = 1;

const char *lmc_precision_name(lmc_precision p) {
    return p == LMC_PREC_BF16 ? "bf16" : p == LMC_PREC_FP32 ? "fp32" : "auto";
}

int lmc_precision_parse(const char *s) {
    if (!strcmp(s, "auto")) return LMC_PREC_AUTO;
    if (!strcmp(s, "fp32")) return LMC_PREC_FP32;
    if (!strcmp(s, "bf16")) return LMC_PREC_BF16;
    return -1;
}

/* bf16 GEMMs in hardware: AVX512_BF16 or AMX-BF16, through oneDNN. */
static int bf16_hw_available(void) {
    lmc_cpu_features f = lmc_cpu_detect();
#ifdef LMC_HAVE_DNNL
    return lmc_cpu_has_bf16(&f) && k_dnnl_bf16_fast();
#else
    (void)f;
    return 0;
#endif
}

/* LMC_BF16_EMULATE=1: precision bf16 runs emulated, on any CPU or build (and also where bf16 hardware
 * exists, to compare the two): every GEMM input is rounded to bf16 exactly as for a hardware bf16 GEMM and
 * the GEMM runs in fp32 on the widened copies. A product of two bf16 values is exact in fp32, so this
 * differs from a hardware bf16 GEMM only in the order of the fp32 additions: the whole mixed-precision
 * path (weight copies, bf16 activations, bitwise resume) can be tested on a CPU without bf16. Slower
 * than fp32; auto never resolves to it on a CPU without bf16. */
int lmc_bf16_emulation_requested(void) {
    const char *e = getenv("LMC_BF16_EMULATE");
    return e && !strcmp(e, "1");
}

static int cur_emulated;

lmc_precision lmc_precision_resolve(lmc_precision p) {
    if (p != LMC_PREC_AUTO) return p;
    return bf16_hw_available() ? LMC_PREC_BF16 : LMC_PREC_FP32;
}

int lmc_kernels_set_precision(lmc_precision p, lmc_err *err) {
    p = lmc_precision_resolve(p);
    int emulated = 0;
    if (p == LMC_PREC_BF16) {
        if (lmc_bf16_emulation_requested()) {
            emulated = 1;
        } else if (!bf16_hw_available()) {
            lmc_cpu_features f = lmc_cpu_detect();
            char have[128];
            lmc_cpu_describe(&f, have, sizeof have);
#ifdef LMC_HAVE_DNNL
            return lmc_errf(err, LMC_EINVAL, "precision bf16: this CPU has no bf16 instructions (needs AVX512_BF16 "
                            "or AMX-BF16; it has %s); use fp32 or auto", have);
#else
            return lmc_errf(err, LMC_EINVAL, "precision bf16: this lmc was built without oneDNN (-DLMC_BLAS=%s), "
                            "the only backend with bf16 GEMMs (CPU has %s); use fp32 or auto", "openblas/blis", have);
#endif
        }
    }
    if (p != cur_prec || emulated != cur_emulated) weights_gen++;
    cur_prec = p;
    cur_emulated = emulated;
    return 0;
}

int lmc_kernels_bf16_emulated(void) { return cur_emulated; }   /* only ever set with cur_prec BF16 */
lmc_precision lmc_kernels_get_precision(void) { return cur_prec; }
int k_bf16_active(void) { return cur_prec == LMC_PREC_BF16; }
void lmc_kernels_weights_changed(void) { weights_gen++; }
unsigned long k_weights_generation(void) { return weights_gen; }

/* ---- weight cache: one entry per weight tensor (a model has 4 per layer + the embedding) ---- */
typedef struct wentry {
    const float *w;
    int rows, cols, ld;
    unsigned long gen;
    uint16_t *h;
} wentry;
static wentry *wcache;
static int wcache_n, wcache_cap;

const uint16_t *k_bf16_weight(const float *w, int rows, int cols, int ld) {
    wentry *e = NULL;
    for (int i = 0; i < wcache_n; i++)
        if (wcache[i].w == w && wcache[i].rows == rows && wcache[i].cols == cols && wcache[i].ld == ld) {
            e = &wcache[i];
            break;
        }
    if (!e) {
        if (wcache_n == wcache_cap) {
            int cap = wcache_cap ? 2 * wcache_cap : 64;
            wentry *n = realloc(wcache, (size_t)cap * sizeof *n);
            if (!n) return NULL;
            wcache = n;
            wcache_cap = cap;
        }
        uint16_t *h = lmc_alloc((size_t)rows * cols * sizeof(uint16_t), NULL);
        if (!h) return NULL;
        e = &wcache[wcache_n++];
        *e = (wentry){w, rows, cols, ld, 0, h};
    }
    if (e->gen != weights_gen) {
        k_f32_to_bf16_rows(e->h, w, rows, cols, ld);
        e->gen = weights_gen;
    }
    return e->h;
}

static uint16_t *scratch[3];
static size_t scratch_n[3];

uint16_t *k_bf16_scratch(int slot, size_t n) {
    if (n > scratch_n[slot]) {
        lmc_free(scratch[slot]);
        scratch[slot] = lmc_alloc(n * sizeof(uint16_t), NULL);
        scratch_n[slot] = scratch[slot] ? n : 0;
    }
    return scratch[slot];
}
