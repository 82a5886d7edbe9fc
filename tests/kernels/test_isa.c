/* The run-time choice of vector width (lmc_isa_*) and the build guard (isa_guard.h): every form this
 * CPU runs -- forced with lmc_isa_force -- against the scalar form, on sizes that leave every tail
 * length; the guard's bookkeeping on synthetic feature sets; LMC_CPU_DISABLE lowering the choice.
 * Tolerances: the exp rows use one polynomial in every form, the vector ones with FMA, so elements
 * agree to a few ulp (rel 1e-6) and the sums to the reordering of a float sum (rel 1e-5); the max is
 * exact. GELU's vector tanh is a rational approximation, the scalar form libm's tanhf: abs 2e-6 (fwd)
 * and 1e-5 (bwd) times (1+|x|). AdamW's forms use the same correctly rounded operations: bitwise. */
#include "test.h"
#include "kernels/cpu/kernels.h"
#include "kernels/cpu/vmath.h"
#include "kernels/cpu/isa_guard.h"
#include "optim/optim.h"
#include "base/rng.h"

static void fill(float *x, size_t n, float scale, uint64_t seed) {
    lmc_rng r;
    lmc_rng_init(&r, seed);
    for (size_t i = 0; i < n; i++) x[i] = scale * lmc_rng_normal(&r);
}

static double max_rel(const float *a, const float *b, size_t n) {
    double m = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - b[i]) / (fabs((double)b[i]) + 1e-30);
        if (b[i] == 0 && a[i] == 0) d = 0;
        if (d > m) m = d;
    }
    return m;
}

static void test_guard_bits(void) {
    char buf[256];
    CHECK_EQ_INT(lmc_isa_missing(LMC_X_AVX2 | LMC_X_FMA, LMC_X_AVX2 | LMC_X_FMA | LMC_X_AVX, buf, sizeof buf), 0);
    CHECK(buf[0] == 0);
    CHECK_EQ_INT(lmc_isa_missing(LMC_X_AVX2 | LMC_X_AVX512F | LMC_X_AVX512BW, LMC_X_AVX2, buf, sizeof buf), 2);
    CHECK_STR_CONTAINS(buf, "avx512f");
    CHECK_STR_CONTAINS(buf, "avx512bw");
    CHECK(strstr(buf, "avx2") == NULL);
    for (int i = 0; i < LMC_X_NBITS; i++) {   /* every bit has a name */
        CHECK_EQ_INT(lmc_isa_missing(1u << i, 0, buf, sizeof buf), 1);
        CHECK_MSG(buf[0] && !strchr(buf, ' '), "bit %d named '%s'", i, buf);
    }
    lmc_isa_missing(LMC_X_AVX512FP16 | LMC_X_LZCNT, LMC_X_LZCNT, buf, sizeof buf);
    CHECK(strcmp(buf, "avx512fp16") == 0);
    /* a buffer too small truncates, never overflows */
    char small[6];
    CHECK_EQ_INT(lmc_isa_missing(LMC_X_AVX512F | LMC_X_AVX512VL, 0, small, sizeof small), 2);
    CHECK(strlen(small) < sizeof small);
    /* this very process runs, so the CPU has everything the build assumed */
    CHECK_EQ_INT(lmc_isa_missing(lmc_build_isa_bits, lmc_cpu_isa_bits(), buf, sizeof buf), 0);
    /* and the run-time choice agrees with the CPU bits */
    unsigned have = lmc_cpu_isa_bits();
    int best = lmc_isa_best();
    if (best >= LMC_ISA_AVX2) CHECK((have & LMC_X_AVX2) && (have & LMC_X_FMA));
    if (best == LMC_ISA_AVX512) CHECK(have & LMC_X_AVX512F);
    printf("cpu bits %#x, build bits %#x, best %s\n", have, lmc_build_isa_bits, lmc_isa_name(best));
}

static void test_force(void) {
    int best = lmc_isa_best();
    CHECK_EQ_INT(lmc_isa_force(-1), best);
    CHECK_EQ_INT(lmc_isa_active(), best);
    CHECK_EQ_INT(lmc_isa_force(LMC_ISA_SCALAR), LMC_ISA_SCALAR);
    CHECK_EQ_INT(lmc_isa_active(), LMC_ISA_SCALAR);
    CHECK_EQ_INT(lmc_isa_force(LMC_ISA_AVX512 + 5), best);   /* clamps to what the CPU runs */
    CHECK(strcmp(lmc_isa_name(LMC_ISA_AVX2), "avx2") == 0);
    /* LMC_CPU_DISABLE=avx2 hides every vector width */
    const char *old = getenv("LMC_CPU_DISABLE");
    char *saved = old ? strdup(old) : NULL;
    setenv("LMC_CPU_DISABLE", "avx2", 1);
    CHECK_EQ_INT(lmc_isa_best(), LMC_ISA_SCALAR);
    CHECK_EQ_INT(lmc_isa_force(-1), LMC_ISA_SCALAR);
    setenv("LMC_CPU_DISABLE", "avx512f", 1);
    CHECK(lmc_isa_best() <= LMC_ISA_AVX2);
    if (saved) setenv("LMC_CPU_DISABLE", saved, 1); else unsetenv("LMC_CPU_DISABLE");
    free(saved);
    CHECK_EQ_INT(lmc_isa_force(-1), best);
}

/* exp rows, max, GELU, SwiGLU and AdamW of form `isa` against the scalar form */
static void compare_form(int isa) {
    enum { NMAX = 1031 };
    float x[NMAX], y0[NMAX], y1[NMAX], d[NMAX];
    fill(x, NMAX, 3.0f, 11);
    fill(d, NMAX, 1.0f, 12);
    x[5] = -100.0f;   /* below the float range of exp: 0 in every form */
    double worst_e = 0, worst_s = 0;
    for (int n = 1; n <= 40; n++) {   /* every tail length of 8 and 16 lanes, and n < one vector */
        for (int len = n; len <= NMAX; len += len < 64 ? 1000 : NMAX) {
            lmc_isa_force(LMC_ISA_SCALAR);
            float s0 = vm_exp_sub_sum(y0, x, 1.5f, len), t0 = vm_exp_sum(x, 1.5f, len), m0 = vm_max(x, len);
            lmc_isa_force(isa);
            CHECK_EQ_INT(lmc_isa_active(), isa);
            float s1 = vm_exp_sub_sum(y1, x, 1.5f, len), t1 = vm_exp_sum(x, 1.5f, len), m1 = vm_max(x, len);
            double e = max_rel(y1, y0, (size_t)len);
            if (e > worst_e) worst_e = e;
            double s = fabs((double)s1 - s0) / s0, t = fabs((double)t1 - t0) / t0;
            if (s > worst_s) worst_s = s;
            if (t > worst_s) worst_s = t;
            CHECK_MSG(e <= 1e-6, "%s exp_sub_sum n=%d: rel %.3g", lmc_isa_name(isa), len, e);
            CHECK_MSG(s <= 1e-5 && t <= 1e-5, "%s sums n=%d: %.3g %.3g", lmc_isa_name(isa), len, s, t);
            CHECK_MSG(m1 == m0, "%s max n=%d: %g vs %g", lmc_isa_name(isa), len, m1, m0);
            if (len == NMAX) break;
        }
        lmc_isa_force(LMC_ISA_SCALAR);
        vm_exp_neg(y0, x, n);
        lmc_isa_force(isa);
        vm_exp_neg(y1, x, n);
        CHECK_MSG(max_rel(y1, y0, (size_t)n) <= 1e-6, "%s exp_neg n=%d", lmc_isa_name(isa), n);
    }
    vm_exp_sub_sum(y1, x, 1.5f, NMAX);
    CHECK_MSG(y1[5] == 0.0f, "%s exp(-101.5) = %g, not 0", lmc_isa_name(isa), y1[5]);

    /* GELU, forward and backward, over sizes with tails */
    double gf = 0, gb = 0;
    for (size_t n = 1; n <= NMAX; n += n < 40 ? 1 : 991) {
        lmc_isa_force(LMC_ISA_SCALAR);
        k_gelu_fwd(y0, x, n);
        lmc_isa_force(isa);
        k_gelu_fwd(y1, x, n);
        for (size_t i = 0; i < n; i++) {
            double e = fabs((double)y1[i] - y0[i]) / (1 + fabs((double)x[i]));
            if (e > gf) gf = e;
        }
        lmc_isa_force(LMC_ISA_SCALAR);
        k_gelu_bwd(y0, x, d, n);
        lmc_isa_force(isa);
        k_gelu_bwd(y1, x, d, n);
        for (size_t i = 0; i < n; i++) {
            double e = fabs((double)y1[i] - y0[i]) / (1 + fabs((double)x[i]));
            if (e > gb) gb = e;
        }
    }
    CHECK_MSG(gf <= 2e-6, "%s gelu fwd: %.3g", lmc_isa_name(isa), gf);
    CHECK_MSG(gb <= 1e-5, "%s gelu bwd: %.3g", lmc_isa_name(isa), gb);

    /* SwiGLU, F with a tail (the exp runs on chunks of a row) */
    {
        const int F = 515, N = 2;
        float *h = malloc(sizeof(float) * 2 * F * N), *o0 = malloc(sizeof(float) * 2 * F * N),
              *o1 = malloc(sizeof(float) * 2 * F * N), *dd = malloc(sizeof(float) * F * N);
        fill(h, 2 * (size_t)F * N, 2.0f, 21);
        fill(dd, (size_t)F * N, 1.0f, 22);
        lmc_isa_force(LMC_ISA_SCALAR);
        k_swiglu_fwd(o0, h, N, F);
        lmc_isa_force(isa);
        k_swiglu_fwd(o1, h, N, F);
        double ef = 0;
        for (int i = 0; i < F * N; i++) ef = fmax(ef, fabs((double)o1[i] - o0[i]) / (1 + fabs((double)o0[i])));
        lmc_isa_force(LMC_ISA_SCALAR);
        k_swiglu_bwd(o0, h, dd, N, F);
        lmc_isa_force(isa);
        k_swiglu_bwd(o1, h, dd, N, F);
        double eb = 0;
        for (int i = 0; i < 2 * F * N; i++) eb = fmax(eb, fabs((double)o1[i] - o0[i]) / (1 + fabs((double)o0[i])));
        CHECK_MSG(ef <= 2e-6 && eb <= 2e-6, "%s swiglu: fwd %.3g bwd %.3g", lmc_isa_name(isa), ef, eb);
        free(h); free(o0); free(o1); free(dd);
    }

    /* AdamW: bitwise, over a size that leaves a partial block and a scalar tail */
    {
        const size_t n = 3 * 1024 + 37;
        float *p[2], *m[2], *v[2], *g = malloc(n * sizeof(float));
        fill(g, n, 0.1f, 31);
        for (int k = 0; k < 2; k++) {
            p[k] = malloc(n * sizeof(float)); m[k] = malloc(n * sizeof(float)); v[k] = malloc(n * sizeof(float));
            fill(p[k], n, 1.0f, 32);
            memset(m[k], 0, n * sizeof(float));
            memset(v[k], 0, n * sizeof(float));
        }
        for (int t = 1; t <= 3; t++) {
            double bc1 = 1 - pow(0.9, t), bc2 = 1 - pow(0.95, t);
            lmc_isa_force(LMC_ISA_SCALAR);
            optim_adamw(p[0], g, m[0], v[0], n, 1e-3f, 0.9f, 0.95f, 1e-8f, 0.1f, bc1, bc2);
            lmc_isa_force(isa);
            optim_adamw(p[1], g, m[1], v[1], n, 1e-3f, 0.9f, 0.95f, 1e-8f, 0.1f, bc1, bc2);
        }
        CHECK_MSG(memcmp(p[0], p[1], n * sizeof(float)) == 0 && memcmp(m[0], m[1], n * sizeof(float)) == 0 &&
                      memcmp(v[0], v[1], n * sizeof(float)) == 0,
                  "%s adamw differs from the scalar form", lmc_isa_name(isa));
        for (int k = 0; k < 2; k++) { free(p[k]); free(m[k]); free(v[k]); }
        free(g);
    }
    printf("%s vs scalar: exp rel %.3g, sums rel %.3g, gelu fwd %.3g bwd %.3g\n", lmc_isa_name(isa), worst_e,
           worst_s, gf, gb);
}

int main(void) {
    test_guard_bits();
    test_force();
    int best = lmc_isa_best();
    if (best == LMC_ISA_SCALAR) printf("SKIP part: this CPU runs no vector form (only scalar is checked)\n");
    for (int isa = LMC_ISA_SCALAR; isa <= best; isa++) compare_form(isa);
    for (int isa = best + 1; isa <= LMC_ISA_AVX512; isa++)
        printf("not exercised here: the %s form (this CPU lacks it)\n", lmc_isa_name(isa));
    lmc_isa_force(-1);
    return test_summary("test_isa");
}
