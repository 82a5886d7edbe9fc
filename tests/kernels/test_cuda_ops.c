/* CUDA kernels against the plain CPU formulas they implement. Skipped (exit 77) when lmc was built
 * without CUDA or the machine has no GPU. Tolerances: GELU and LayerNorm differ from the CPU only by
 * tanhf/rsqrtf ulp differences and summation order (rel 1e-5 + abs 1e-6); AdamW is elementwise with
 * the same operation order (rel 1e-6 + abs 1e-7). */
/* Only error.h and rng.h: the test also builds standalone with nvcc on a GPU machine. */
#include "base/error.h"
#include "base/rng.h"
#include "test.h"

#if LMC_HAVE_CUDA
#include "kernels/cuda/cuda_kernels.h"

static float gelu(float x) { return 0.5f * x * (1.0f + tanhf(0.7978845608028654f * (x + 0.044715f * x * x * x))); }

int main(void) {
    lmc_err err = {0};
    char name[256];
    if (!lmc_cuda_available(name, sizeof name, &err)) TEST_SKIP("%s", err.msg);
    printf("device: %s\n", name);
    lmc_rng r;
    lmc_rng_init(&r, 7);
    size_t n = 1u << 20;
    float *x = malloc(n * 4), *y = malloc(n * 4), *dx = calloc(n, 4), *dout = malloc(n * 4);
    for (size_t i = 0; i < n; i++) { x[i] = 4.0f * lmc_rng_normal(&r); dout[i] = lmc_rng_normal(&r); }
    CHECK(lmc_cuda_gelu_forward(y, x, n, &err) == 0);
    double worst = 0;
    for (size_t i = 0; i < n; i++) {
        double e = fabs(y[i] - gelu(x[i])) / (1e-6 + 1e-5 * fabs(gelu(x[i])));
        if (e > worst) worst = e;
    }
    CHECK_MSG(worst <= 1.0, "gelu forward error ratio %g", worst);
    CHECK(lmc_cuda_gelu_backward(dx, x, dout, n, &err) == 0);
    worst = 0;
    for (size_t i = 0; i < n; i += 97) { /* central difference in double as the reference */
        double h = 1e-3, xd = x[i];
        double g1 = 0.5 * (xd + h) * (1 + tanh(0.7978845608028654 * ((xd + h) + 0.044715 * pow(xd + h, 3))));
        double g0 = 0.5 * (xd - h) * (1 + tanh(0.7978845608028654 * ((xd - h) + 0.044715 * pow(xd - h, 3))));
        double want = (g1 - g0) / (2 * h) * dout[i];
        double e = fabs(dx[i] - want) / (1e-4 + 1e-4 * fabs(want));
        if (e > worst) worst = e;
    }
    CHECK_MSG(worst <= 1.0, "gelu backward error ratio %g", worst);

    size_t rows = 1024, C = 768; /* rows * C must fit in the n-element buffers */
    float *w = malloc(C * 4), *b = malloc(C * 4), *mean = malloc(rows * 4), *rstd = malloc(rows * 4);
    for (size_t i = 0; i < C; i++) { w[i] = 1 + 0.1f * lmc_rng_normal(&r); b[i] = 0.1f * lmc_rng_normal(&r); }
    CHECK(lmc_cuda_layernorm_forward(y, mean, rstd, x, w, b, rows, C, &err) == 0);
    worst = 0;
    for (size_t row = 0; row < rows; row += 13) {
        double m = 0, q = 0;
        for (size_t i = 0; i < C; i++) m += x[row * C + i];
        m /= C;
        for (size_t i = 0; i < C; i++) q += (x[row * C + i] - m) * (x[row * C + i] - m);
        double rs = 1.0 / sqrt(q / C + 1e-5);
        for (size_t i = 0; i < C; i++) {
            double want = (x[row * C + i] - m) * rs * w[i] + b[i];
            double e = fabs(y[row * C + i] - want) / (1e-5 + 1e-5 * fabs(want));
            if (e > worst) worst = e;
        }
    }
    CHECK_MSG(worst <= 1.0, "layernorm error ratio %g", worst);

    float *p = malloc(n * 4), *m = calloc(n, 4), *v = calloc(n, 4), *p2 = malloc(n * 4), *m2 = calloc(n, 4), *v2 = calloc(n, 4);
    for (size_t i = 0; i < n; i++) p[i] = p2[i] = lmc_rng_normal(&r);
    for (int step = 1; step <= 3; step++) {
        CHECK(lmc_cuda_adamw(p, dout, m, v, n, 1e-3f, 0.9f, 0.95f, 1e-8f, 0.1f, step, &err) == 0);
        float bc1 = 1 - powf(0.9f, step), bc2 = 1 - powf(0.95f, step);
        for (size_t i = 0; i < n; i++) {
            m2[i] = 0.9f * m2[i] + 0.1f * dout[i];
            v2[i] = 0.95f * v2[i] + 0.05f * dout[i] * dout[i];
            p2[i] = p2[i] * (1 - 1e-3f * 0.1f);
            p2[i] -= 1e-3f * (m2[i] / bc1) / (sqrtf(v2[i] / bc2) + 1e-8f);
        }
    }
    worst = 0;
    for (size_t i = 0; i < n; i++) {
        double e = fabs(p[i] - p2[i]) / (1e-7 + 1e-6 * fabs(p2[i]));
        if (e > worst) worst = e;
    }
    CHECK_MSG(worst <= 1.0, "adamw error ratio %g", worst);
    free(x); free(y); free(dx); free(dout); free(w); free(b); free(mean); free(rstd);
    free(p); free(m); free(v); free(p2); free(m2); free(v2);
    return test_summary("kernels/cuda_ops");
}
#else
int main(void) { TEST_SKIP("lmc was built without CUDA (no nvcc at configure time)"); }
#endif
