/* Learnable activations (src/kernels/cpu/activations.c): finite differences of the backward in x and
 * in every coefficient (central differences in double on the float kernel, relative to the scale of
 * the gradient), the paper's init identities (Hermite E[F^2] = E[F'^2] at x ~ N(0,1); tropical at init
 * = sqrt2 relu(x) + sqrt2/n), and bitwise determinism of the coefficient reduction across threads. */
#include "test.h"
#include "kernels/cpu/activations.h"
#include "kernels/cpu/kernels.h"
#include "base/rng.h"

#include <math.h>

static double objective(int kind, int deg, const float *x, const float *coef, const float *w, size_t n) {
    float *y = malloc(n * sizeof(float));
    k_act_fwd(kind, deg, y, x, coef, n);
    double s = 0;
    for (size_t i = 0; i < n; i++) s += (double)w[i] * y[i];
    free(y);
    return s;
}

/* tropical in double (piecewise linear: a float objective is too coarse for small coefficient steps) */
static double tropical_obj_d(int deg, const float *x, const double *c, const float *w, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; i++) {
        double best = c[0];
        for (int k = 1; k <= deg; k++) if (k * (double)x[i] + c[k] > best) best = k * (double)x[i] + c[k];
        s += (double)w[i] * sqrt(2.0) / deg * best;
    }
    return s;
}

static void fd_check(int kind, int deg, const char *name) {
    const size_t n = 257;
    lmc_rng r;
    lmc_rng_init(&r, 7 + kind * 31 + deg);
    float x[257], w[257], dx[257], coef[64], dcoef[64] = {0};
    int nc = k_act_ncoef(kind, deg);
    k_act_init(kind, deg, coef);
    for (int j = 0; j < nc; j++) coef[j] += 0.2f * lmc_rng_normal(&r);
    for (size_t i = 0; i < n; i++) { x[i] = 1.5f * lmc_rng_normal(&r); w[i] = lmc_rng_normal(&r); }
    memcpy(dx, w, sizeof w);
    k_act_bwd(kind, deg, dx, dcoef, dx, x, coef, n);  /* in place, as gpt2.c calls it */
    const float h = 1e-2f;
    double worst = 0;
    for (size_t i = 0; i < n; i++) {
        /* one element's derivative: perturb x[i] only (other terms cancel in the difference) */
        float xi = x[i], yp, ym;
        float xp = xi + h, xm = xi - h;
        k_act_fwd(kind, deg, &yp, &xp, coef, 1);
        k_act_fwd(kind, deg, &ym, &xm, coef, 1);
        double fd = w[i] * ((double)yp - ym) / (2.0 * h);
        if (kind == K_ACT_TROPICAL) {  /* piecewise linear: skip elements within h of a kink */
            float y0;
            k_act_fwd(kind, deg, &y0, &xi, coef, 1);
            if (fabs(((double)yp - y0) - ((double)y0 - ym)) > 1e-4) continue;
        }
        double e = fabs(fd - dx[i]) / (1.0 + fabs(fd));
        if (e > worst) worst = e;
    }
    CHECK_MSG(worst < 2e-3, "%s deg %d: dx vs finite differences %.3g", name, deg, worst);
    double worst_c = 0;
    for (int j = 0; j < nc; j++) {
        float cp[64], cm[64];
        memcpy(cp, coef, sizeof cp);
        memcpy(cm, coef, sizeof cm);
        cp[j] += h;
        cm[j] -= h;
        double fd = (objective(kind, deg, x, cp, w, n) - objective(kind, deg, x, cm, w, n)) / (2.0 * h);
        if (kind == K_ACT_TROPICAL) {
            double dp[64], dm[64], hd = 1e-6;
            for (int q = 0; q < nc; q++) dp[q] = dm[q] = coef[q];
            dp[j] += hd;
            dm[j] -= hd;
            fd = (tropical_obj_d(deg, x, dp, w, n) - tropical_obj_d(deg, x, dm, w, n)) / (2.0 * hd);
        }
        double e = fabs(fd - dcoef[j]) / (1.0 + fabs(fd));
        if (e > worst_c) worst_c = e;
    }
    CHECK_MSG(worst_c < 2e-3, "%s deg %d: dcoef vs finite differences %.3g", name, deg, worst_c);
    printf("%-8s deg %d: dx fd err %.2g, dcoef fd err %.2g (%d coefficients)\n", name, deg, worst, worst_c, nc);
}

int main(void) {
    lmc_kernels_set_threads(2);
    for (int deg = 1; deg <= 6; deg += (deg < 3 ? 1 : 2)) {
        fd_check(K_ACT_HERMITE, deg, "hermite");
        fd_check(K_ACT_FOURIER, deg, "fourier");
        fd_check(K_ACT_TROPICAL, deg, "tropical");
    }
    CHECK_EQ_INT(k_act_ncoef(K_ACT_HERMITE, 3), 4);
    CHECK_EQ_INT(k_act_ncoef(K_ACT_FOURIER, 3), 10);
    CHECK_EQ_INT(k_act_ncoef(K_ACT_TROPICAL, 0), 0);
    CHECK_EQ_INT(k_act_ncoef(99, 3), 0);

    /* Hermite at the paper's init: E[F^2] = E[F'^2] = 2.5/e for n = 3 (x ~ N(0,1), Monte Carlo) */
    {
        const size_t n = 1 << 20;
        float *x = malloc(n * sizeof(float)), *y = malloc(n * sizeof(float)), *d = malloc(n * sizeof(float));
        float coef[4], dc[4] = {0};
        lmc_rng r;
        lmc_rng_init(&r, 3);
        for (size_t i = 0; i < n; i++) { x[i] = lmc_rng_normal(&r); d[i] = 1.0f; }
        k_act_init(K_ACT_HERMITE, 3, coef);
        k_act_fwd(K_ACT_HERMITE, 3, y, x, coef, n);
        k_act_bwd(K_ACT_HERMITE, 3, d, dc, d, x, coef, n);
        double f2 = 0, d2 = 0;
        for (size_t i = 0; i < n; i++) { f2 += (double)y[i] * y[i]; d2 += (double)d[i] * d[i]; }
        f2 /= (double)n;
        d2 /= (double)n;
        printf("hermite3 init: E[F^2] %.4f  E[F'^2] %.4f  (2.5/e = %.4f)\n", f2, d2, 2.5 / exp(1.0));
        CHECK_CLOSE(f2, 2.5 / exp(1.0), 0, 0.02);
        CHECK_CLOSE(d2, 2.5 / exp(1.0), 0, 0.02);
        /* the coefficient gradient is bitwise the same with 1 thread */
        float dc1[4] = {0};
        for (size_t i = 0; i < n; i++) d[i] = 1.0f;
        lmc_kernels_set_threads(1);
        k_act_bwd(K_ACT_HERMITE, 3, d, dc1, d, x, coef, n);
        lmc_kernels_set_threads(2);
        CHECK(!memcmp(dc, dc1, sizeof dc));
        free(x); free(y); free(d);
    }
    /* tropical at init = sqrt2 relu(x) + sqrt2/n */
    {
        float coef[5], x[7] = {-3.0f, -1.0f, -0.25f, 0.0f, 0.3f, 1.0f, 5.0f}, y[7];
        k_act_init(K_ACT_TROPICAL, 4, coef);
        k_act_fwd(K_ACT_TROPICAL, 4, y, x, coef, 7);
        for (int i = 0; i < 7; i++) {
            /* max_k(k x + 1) = 4x + 1 for x > 0, 1 otherwise; times sqrt2/4 */
            float want = sqrtf(2.0f) / 4.0f * ((x[i] > 0 ? 4.0f * x[i] : 0.0f) + 1.0f);
            CHECK_CLOSE(y[i], want, 1e-6, 1e-6);
        }
    }
    /* Fourier init: f_k = k, p_k = pi/4, a_k = 1/sqrt(I0(2)) */
    {
        float c[10];
        k_act_init(K_ACT_FOURIER, 3, c);
        CHECK_CLOSE(c[1], 0.66232645879, 0, 1e-7);
        CHECK_CLOSE(c[4 + 2], 3.0, 0, 0);
        CHECK_CLOSE(c[7 + 1], 0.7853981634, 0, 1e-7);
        CHECK_CLOSE(c[0], 0.66232645879 * sqrt(1 - 1.0 / 36), 0, 1e-6);
    }
    return test_summary("activations");
}
