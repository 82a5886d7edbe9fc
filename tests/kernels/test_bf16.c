/* bf16 mixed precision: rounding, the GEMMs against fp32 with a derived bound, the linear-layer kernels,
 * the weight cache, and the precision switch (auto fallback, the error on a CPU without bf16).
 *
 * The bound. bf16 keeps 8 significant bits, so round-to-nearest has unit roundoff u = 2^-8:
 * bf16(x) = x(1 + d), |d| <= u. A product of two rounded inputs is exact in fp32 (8 x 8 bits), so
 * |bf16(a) bf16(b) - ab| <= (2u + u^2)|ab|, and K fp32 additions in any order add at most
 * gamma_K = K 2^-24 / (1 - K 2^-24) of the sum of the |terms|. Per output element, with S = sum_k |a_k b_k|:
 *     |C_bf16 - C_exact| <= (2u + u^2) S + gamma_K (1 + 2u + u^2) S.
 * The test checks every element against this bound (computed in double from the fp32 inputs) and also
 * that the error is not far below it on average (the GEMM really ran in bf16). With LMC_BF16_EMULATE=1
 * (ctest kernels/test_bf16_bf16emu) the same checks run on the emulated GEMMs on any CPU, and the
 * emulation is checked to be bitwise the fp32 GEMM of the rounded inputs. */
#include "test.h"
#include "kernels/cpu/kernels.h"
#include "kernels/cpu/gemm.h"
#include "base/rng.h"

static lmc_rng rng;

static float *frand(size_t n, float scale) {
    float *a = malloc(n * sizeof(float));
    for (size_t i = 0; i < n; i++) a[i] = scale * (float)(2.0 * lmc_rng_uniform_double(&rng) - 1.0);
    return a;
}

static float bf16_to_f(uint16_t h) {
    uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static void test_rounding(void) {
    /* ties go to even; NaN stays NaN; values that round up carry into the exponent */
    float in[] = {1.0f, 1.00390625f /* 1 + 2^-8: tie, even is 1 */, 1.01171875f /* 1 + 3*2^-8: tie -> 1+2^-6 */,
                  -2.5f, 65504.0f, 3.40282347e38f /* FLT_MAX: past the largest bf16 */, 0x1p-130f, 0.0f};
    float want[] = {1.0f, 1.0f, 1.015625f, -2.5f, 65536.0f, INFINITY, 0x1p-130f, 0.0f};
    uint16_t h[8];
    k_f32_to_bf16(h, in, 8);
    for (int i = 0; i < 8; i++) CHECK_MSG(bf16_to_f(h[i]) == want[i], "bf16(%g) = %g, want %g", in[i], bf16_to_f(h[i]), want[i]);
    float nan = NAN;
    k_f32_to_bf16(h, &nan, 1);
    CHECK(isnan(bf16_to_f(h[0])));
}

/* Long arrays take the vector conversion where the CPU has it: bitwise the scalar rounding for random
 * values, ties, subnormals, infinities, overflow and NaNs at every position of a 16-lane block. */
static uint16_t ref_bf16(float x) {
    uint32_t u;
    memcpy(&u, &x, 4);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40);
    return (uint16_t)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}

static void test_rounding_long(void) {
    enum { L = 4099 };
    float *x = malloc(L * sizeof(float));
    uint16_t *h = malloc(L * 2);
    const float special[] = {0x1p-130f, -0x1p-149f, 0x1.fffffcp-127f, INFINITY, -INFINITY, 3.40282347e38f, NAN,
                             1.00390625f, -1.01171875f, 0.0f, -0.0f, 0x1p-126f};
    for (int i = 0; i < L; i++) {
        uint32_t u = (uint32_t)(lmc_rng_uniform_double(&rng) * 4294967296.0);
        memcpy(&x[i], &u, 4);   /* any bit pattern: all exponents, signs, NaN payloads */
        if (i % 97 == 3) x[i] = special[(i / 97) % (sizeof special / sizeof special[0])];
    }
    k_f32_to_bf16(h, x, L);
    int bad = 0;
    for (int i = 0; i < L; i++) bad += h[i] != ref_bf16(x[i]);
    CHECK_MSG(bad == 0, "%d of %d conversions differ from round-to-nearest-even", bad, L);
    free(x);
    free(h);
}

/* Reference in double + per-element bound; returns 0 if every element is within it. */
static int check_gemm(const char *what, int ta, int tb, int M, int N, int K, const float *A, const float *B,
                      const float *C0, const float *C, float beta) {
    const double u = 1.0 / 256, g = K * 0x1p-24 / (1 - K * 0x1p-24);
    int lda = ta ? M : K, ldb = tb ? K : N, bad = 0;
    double worst = 0, sum_ratio = 0;
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            double c = 0, S = 0;
            for (int k = 0; k < K; k++) {
                double a = ta ? A[(size_t)k * lda + i] : A[(size_t)i * lda + k];
                double b = tb ? B[(size_t)j * ldb + k] : B[(size_t)k * ldb + j];
                c += a * b;
                S += fabs(a * b);
            }
            c += beta * C0[(size_t)i * N + j];
            double bound = (2 * u + u * u) * S + g * (1 + 2 * u + u * u) * S + 0x1p-24 * fabs(c) + 1e-30;
            double e = fabs(C[(size_t)i * N + j] - c);
            if (e > bound) bad++;
            if (e / bound > worst) worst = e / bound;
            sum_ratio += e / bound;
        }
    double mean = sum_ratio / ((double)M * N);
    fprintf(stderr, "%s %dx%dx%d ta=%d tb=%d: worst error %.3f of the bound, mean %.4f\n", what, M, N, K, ta, tb, worst, mean);
    CHECK_MSG(bad == 0, "%s: %d elements outside the bf16 bound", what, bad);
    /* fp32 would be ~2^-16 of the bound: a mean this large shows the inputs were really rounded */
    CHECK_MSG(mean > 1e-3, "%s: error %.2e of the bound is too small for bf16 inputs", what, mean);
    return bad;
}

static void test_gemm_shapes(void) {
    int shapes[][5] = {{0, 0, 200, 96, 64}, {0, 1, 130, 70, 96}, {1, 0, 64, 96, 300}, {0, 1, 256, 512, 64},
                       {0, 0, 256, 64, 512}, {1, 0, 512, 64, 256}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        int ta = shapes[s][0], tb = shapes[s][1], M = shapes[s][2], N = shapes[s][3], K = shapes[s][4];
        float *A = frand((size_t)M * K, 1.0f), *B = frand((size_t)K * N, 0.5f), *C0 = frand((size_t)M * N, 1.0f);
        float *C = malloc((size_t)M * N * sizeof(float));
        for (int beta = 0; beta <= 1; beta++) {
            memcpy(C, C0, (size_t)M * N * sizeof(float));
            k_gemm(ta, tb, M, N, K, 1.0f, A, ta ? M : K, B, tb ? K : N, (float)beta, C, N);
            check_gemm(beta ? "k_gemm beta=1" : "k_gemm", ta, tb, M, N, K, A, B, C0, C, (float)beta);
        }
        free(A); free(B); free(C0); free(C);
    }
}

/* The linear layer: forward with bias and residual, backward dinp/dw/dbias; the same bound per GEMM. */
static void test_linear(void) {
    int N = 192, C = 96, OC = 160;
    float *x = frand((size_t)N * C, 1.0f), *w = frand((size_t)C * OC, 0.2f), *bias = frand(OC, 0.1f);
    float *res = frand((size_t)N * OC, 1.0f), *out = malloc((size_t)N * OC * 4), *zero = calloc((size_t)N * OC, 4);
    /* new weights, possibly at the address of an earlier call's freed ones: the bf16 copies are keyed by
     * address and refreshed per generation, so say so (the model does this at every forward) */
    lmc_kernels_weights_changed();
    k_matmul_fwd_res(out, res, x, w, bias, N, C, OC);
    float *exp0 = malloc((size_t)N * OC * 4);   /* what the GEMM accumulates onto: resid + bias */
    for (int i = 0; i < N; i++)
        for (int j = 0; j < OC; j++) exp0[(size_t)i * OC + j] = res[(size_t)i * OC + j] + bias[j];
    check_gemm("matmul_fwd_res", 0, 0, N, OC, C, x, w, exp0, out, 1.0f);
    float *dout = frand((size_t)N * OC, 1.0f), *dinp = malloc((size_t)N * C * 4), *dw = calloc((size_t)C * OC, 4);
    float *db = calloc(OC, 4);
    k_matmul_bwd(dinp, dw, db, dout, x, w, N, C, OC);
    check_gemm("matmul_bwd dinp", 0, 1, N, C, OC, dout, w, zero, dinp, 0.0f);
    check_gemm("matmul_bwd dw", 1, 0, C, OC, N, x, dout, zero, dw, 0.0f);
    for (int j = 0; j < OC; j++) {   /* the bias gradient is an fp32 sum, not a GEMM */
        double s = 0;
        for (int i = 0; i < N; i++) s += dout[(size_t)i * OC + j];
        CHECK_CLOSE(db[j], s, 1e-4, 1e-5);
    }
    /* the weight cache: after the weights change (and lmc_kernels_weights_changed), the new values are used */
    for (size_t i = 0; i < (size_t)C * OC; i++) w[i] = -w[i];
    lmc_kernels_weights_changed();
    k_matmul_fwd(out, x, w, NULL, N, C, OC);
    check_gemm("matmul_fwd after a weight update", 0, 0, N, OC, C, x, w, zero, out, 0.0f);
    free(x); free(w); free(bias); free(res); free(out); free(zero); free(exp0); free(dout); free(dinp); free(dw); free(db);
}

/* Inputs kept only as bf16 (the model's saved LayerNorm/GELU outputs in bf16 mode): bitwise what the fp32
 * input gives in bf16 mode, where each GEMM rounds it to this same copy; in fp32 mode the copy is widened,
 * so the result is the fp32 GEMM of the rounded input. GELU straight to bf16 = rounding its fp32 output. */
static void test_bf16_inputs(int bf16_mode) {
    const int N = 200, C = 96, OC = 160;
    float *x = frand((size_t)N * C, 2.0f), *w = frand((size_t)C * OC, 0.3f), *b = frand(OC, 0.1f);
    float *res = frand((size_t)N * OC, 1.0f), *dout = frand((size_t)N * OC, 1.0f);
    float *xr = malloc((size_t)N * C * 4);
    uint16_t *x16 = malloc((size_t)N * C * 2), *g16 = malloc((size_t)N * C * 2), *g16b = malloc((size_t)N * C * 2);
    k_f32_to_bf16_rows(x16, x, N, C, C);
    k_bf16_to_f32(xr, x16, (size_t)N * C);
    const float *ref_in = bf16_mode ? x : xr;   /* fp32 mode: the widened copy is what the GEMM reads */
    float *y1 = malloc((size_t)N * OC * 4), *y2 = malloc((size_t)N * OC * 4);
    k_matmul_fwd(y1, ref_in, w, b, N, C, OC);
    k_matmul_fwd_bf16in(y2, NULL, x16, w, b, N, C, OC);
    CHECK_MSG(!memcmp(y1, y2, (size_t)N * OC * 4), "fwd from a bf16 input differs (bf16 mode %d)", bf16_mode);
    k_matmul_fwd_res(y1, res, ref_in, w, b, N, C, OC);
    k_matmul_fwd_bf16in(y2, res, x16, w, b, N, C, OC);
    CHECK_MSG(!memcmp(y1, y2, (size_t)N * OC * 4), "fwd + residual from a bf16 input differs (bf16 mode %d)", bf16_mode);
    float *di1 = malloc((size_t)N * C * 4), *di2 = malloc((size_t)N * C * 4);
    float *dw1 = calloc((size_t)C * OC, 4), *dw2 = calloc((size_t)C * OC, 4), *db1 = calloc(OC, 4), *db2 = calloc(OC, 4);
    k_matmul_bwd(di1, dw1, db1, dout, ref_in, w, N, C, OC);
    k_matmul_bwd_bf16in(di2, dw2, db2, dout, x16, w, N, C, OC);
    CHECK_MSG(!memcmp(di1, di2, (size_t)N * C * 4) && !memcmp(dw1, dw2, (size_t)C * OC * 4) && !memcmp(db1, db2, OC * 4),
              "bwd from a bf16 input differs (bf16 mode %d)", bf16_mode);
    float *g = malloc((size_t)N * C * 4);
    x[5] = -30.0f;   /* deep in the tail: a tiny (subnormal-range) output */
    k_gelu_fwd(g, x, (size_t)N * C);
    k_f32_to_bf16(g16, g, (size_t)N * C);
    k_gelu_fwd_bf16(g16b, x16, x, (size_t)N * C);
    CHECK_MSG(!memcmp(g16, g16b, (size_t)N * C * 2), "GELU to bf16 differs from rounding its fp32 output");
    k_f32_to_bf16(g16, x, (size_t)N * C);
    CHECK_MSG(!memcmp(g16, x16, (size_t)N * C * 2), "GELU's bf16 copy of its input differs from rounding it");
    /* backward from the bf16 input = backward from the widened input */
    k_bf16_to_f32(xr, x16, (size_t)N * C);
    k_gelu_bwd(di1, xr, dout, (size_t)N * C);
    memcpy(di2, dout, (size_t)N * C * 4);
    k_gelu_bwd_bf16x(di2, x16, di2, (size_t)N * C);   /* in place, as the model calls it */
    CHECK_MSG(!memcmp(di1, di2, (size_t)N * C * 4), "GELU backward from a bf16 input differs");
    free(x); free(w); free(b); free(res); free(dout); free(xr); free(x16); free(g16); free(g16b); free(y1); free(y2);
    free(di1); free(di2); free(dw1); free(dw2); free(db1); free(db2); free(g);
}

/* Emulated bf16 (LMC_BF16_EMULATE=1) is, by construction, the fp32 GEMM of the bf16-rounded inputs: the
 * same backend on the same widened values, so bitwise equal, including the weight cache's refresh. */
static void test_emulated_exact(void) {
    lmc_err err;
    const int N = 130, C = 96, OC = 72;
    float *x = frand((size_t)N * C, 1.0f), *w = frand((size_t)C * OC, 0.3f), *b = frand(OC, 0.1f);
    float *xr = malloc((size_t)N * C * 4), *wr = malloc((size_t)C * OC * 4);
    float *y1 = malloc((size_t)N * OC * 4), *y2 = malloc((size_t)N * OC * 4);
    uint16_t *h = malloc((size_t)N * C * 2);   /* N * C > C * OC: holds either */
    for (int pass = 0; pass < 2; pass++) {
        k_f32_to_bf16(h, x, (size_t)N * C);
        k_bf16_to_f32(xr, h, (size_t)N * C);
        k_f32_to_bf16(h, w, (size_t)C * OC);
        k_bf16_to_f32(wr, h, (size_t)C * OC);
        CHECK(lmc_kernels_set_precision(LMC_PREC_BF16, &err) == 0);
        CHECK(lmc_kernels_bf16_emulated());
        k_matmul_fwd(y1, x, w, b, N, C, OC);
        CHECK(lmc_kernels_set_precision(LMC_PREC_FP32, &err) == 0);
        CHECK(!lmc_kernels_bf16_emulated());
        k_matmul_fwd(y2, xr, wr, b, N, C, OC);
        CHECK_MSG(!memcmp(y1, y2, (size_t)N * OC * 4), "emulated bf16 differs from fp32 on rounded inputs (pass %d)", pass);
        for (size_t i = 0; i < (size_t)C * OC; i++) w[i] *= -1.5f;   /* an update: the bf16 copy must follow */
        lmc_kernels_weights_changed();
    }
    free(x); free(w); free(b); free(xr); free(wr); free(y1); free(y2); free(h);
}

int main(void) {
    lmc_rng_init(&rng, 7);
    lmc_kernels_set_threads(2);
    test_rounding();
    test_rounding_long();
    CHECK_EQ_INT(lmc_precision_parse("bf16"), LMC_PREC_BF16);
    CHECK_EQ_INT(lmc_precision_parse("fp16"), -1);
    lmc_err err;
    lmc_cpu_features f = lmc_cpu_detect();
    char have[128];
    lmc_cpu_describe(&f, have, sizeof have);
    int emu = lmc_bf16_emulation_requested();
    int can = lmc_precision_resolve(LMC_PREC_AUTO) == LMC_PREC_BF16 || emu;
    fprintf(stderr, "CPU: %s; GEMMs: %s; auto -> %s%s\n", have, lmc_kernels_gemm_backend(),
            lmc_precision_resolve(LMC_PREC_AUTO) == LMC_PREC_BF16 ? "bf16" : "fp32",
            emu ? "; bf16 emulated (LMC_BF16_EMULATE=1)" : "");
    if (can) {
        CHECK(lmc_kernels_set_precision(LMC_PREC_BF16, &err) == 0);
        CHECK_EQ_INT(lmc_kernels_get_precision(), LMC_PREC_BF16);
        CHECK_EQ_INT(lmc_kernels_bf16_emulated(), emu);
        if (emu) CHECK_STR_CONTAINS(lmc_kernels_gemm_backend(), "bf16 emulated");
        test_gemm_shapes();
        test_linear();                  /* weights packed in oneDNN's layout (the default) */
        k_gemm_packed_weights(0);
        test_linear();                  /* weights in plain layout */
        k_gemm_packed_weights(1);
        CHECK(lmc_kernels_gemm_peak(256, 0.01) > 0);
        test_bf16_inputs(1);
        CHECK(lmc_kernels_set_precision(LMC_PREC_FP32, &err) == 0);
        if (emu) test_emulated_exact();
    } else {
        fprintf(stderr, "no bf16 GEMMs on this CPU/build: the bf16 kernel checks are skipped, the fallback is tested\n");
        CHECK(lmc_kernels_set_precision(LMC_PREC_BF16, &err) != 0);
    }
    test_bf16_inputs(0);
    /* A CPU without bf16 (features hidden, no emulation): auto falls back to fp32, bf16 is an error naming
     * them. */
    unsetenv("LMC_BF16_EMULATE");
    setenv("LMC_CPU_DISABLE", "avx512_bf16,amx_bf16", 1);
    CHECK_EQ_INT(lmc_precision_resolve(LMC_PREC_AUTO), LMC_PREC_FP32);
    CHECK(lmc_kernels_set_precision(LMC_PREC_AUTO, &err) == 0);
    CHECK_EQ_INT(lmc_kernels_get_precision(), LMC_PREC_FP32);
    CHECK(lmc_kernels_set_precision(LMC_PREC_BF16, &err) == LMC_EINVAL);
    CHECK_STR_CONTAINS(err.msg, "AVX512_BF16");
    CHECK_STR_CONTAINS(err.msg, "AMX-BF16");
    unsetenv("LMC_CPU_DISABLE");
    return test_summary("kernels/test_bf16");
}
