/* Learnable Hermite / Fourier / tropical activations: forward, backward, init (see activations.h). */
#include "kernels/cpu/activations.h"

#include <math.h>
#include <string.h>

#define ACT_BLOCK 4096  /* elements per reduction block: fixed, so sums do not depend on the thread count */
#define MAXC (3 * K_ACT_MAX_DEGREE + 1)

int k_act_ncoef(int kind, int n) {
    if (n < 1 || n > K_ACT_MAX_DEGREE) return 0;
    switch (kind) {
    case K_ACT_HERMITE: return n + 1;
    case K_ACT_FOURIER: return 3 * n + 1;
    case K_ACT_TROPICAL: return n + 1;
    default: return 0;
    }
}

static double factorial(int n) {
    double f = 1.0;
    for (int k = 2; k <= n; k++) f *= k;
    return f;
}

void k_act_init(int kind, int n, float *coef) {
    if (kind == K_ACT_HERMITE) {
        const double a = exp(-0.5);
        for (int k = 1; k <= n; k++) coef[k] = (float)a;
        coef[0] = (float)(a * sqrt(1.0 - 1.0 / factorial(n)));
    } else if (kind == K_ACT_FOURIER) {
        const double a = 0.66232645879;  /* 1 / sqrt(I_0(2)), I_0(2) = sum_k 1/(k!)^2 */
        const double fn = factorial(n);
        coef[0] = (float)(a * sqrt(1.0 - 1.0 / (fn * fn)));
        for (int k = 1; k <= n; k++) {
            coef[k] = (float)a;
            coef[n + k] = (float)k;
            coef[2 * n + k] = 0.78539816339744831f /* pi/4 */;
        }
    } else if (kind == K_ACT_TROPICAL) {
        for (int k = 0; k <= n; k++) coef[k] = 1.0f;
    }
}

/* F(x) and F'(x) for one element; if g is not NULL also g[j] = dF/dcoef_j. */
static inline float act_one(int kind, int n, const float *c, const float *invfact, float x, float *dfdx, float *g) {
    if (kind == K_ACT_HERMITE) {
        float hm1 = 1.0f, h = x;           /* h_0, h_1 */
        float f = c[0] + c[1] * x, d = c[1];
        if (g) { g[0] = 1.0f; g[1] = x; }
        for (int k = 1; k < n; k++) {      /* h_{k+1} = (x h_k - h_{k-1}) / (k+1); dF += a_{k+1} h_k */
            float hn = (x * h - hm1) / (float)(k + 1);
            d += c[k + 1] * h;
            f += c[k + 1] * hn;
            if (g) g[k + 1] = hn;
            hm1 = h;
            h = hn;
        }
        *dfdx = d;
        return f;
    }
    if (kind == K_ACT_FOURIER) {
        float f = c[0], d = 0.0f;
        if (g) g[0] = 1.0f;
        for (int k = 1; k <= n; k++) {
            const float a = c[k], fr = c[n + k], ph = c[2 * n + k], w = invfact[k];
            const float arg = fr * x - ph, cs = cosf(arg), sn = sinf(arg);
            f += a * cs * w;
            d -= a * fr * sn * w;
            if (g) {
                g[k] = cs * w;
                g[n + k] = -a * x * sn * w;
                g[2 * n + k] = a * sn * w;
            }
        }
        *dfdx = d;
        return f;
    }
    /* tropical */
    const float s = sqrtf(2.0f) / (float)n;
    int best = 0;
    float bv = c[0];
    for (int k = 1; k <= n; k++) {
        float v = (float)k * x + c[k];
        if (v > bv) { bv = v; best = k; }
    }
    *dfdx = s * (float)best;
    if (g) {
        for (int k = 0; k <= n; k++) g[k] = 0.0f;
        g[best] = s;
    }
    return s * bv;
}

static void inv_factorials(int n, float *w) {
    for (int k = 0; k <= n; k++) w[k] = (float)(1.0 / factorial(k));
}

void k_act_fwd(int kind, int deg, float *out, const float *x, const float *coef, size_t n) {
    float invf[K_ACT_MAX_DEGREE + 1];
    inv_factorials(deg, invf);
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < n; i++) {
        float d;
        out[i] = act_one(kind, deg, coef, invf, x[i], &d, NULL);
    }
}

void k_act_bwd(int kind, int deg, float *dx, float *dcoef, const float *dout, const float *x, const float *coef,
               size_t n) {
    float invf[K_ACT_MAX_DEGREE + 1];
    inv_factorials(deg, invf);
    const int nc = k_act_ncoef(kind, deg);
    const size_t nb = (n + ACT_BLOCK - 1) / ACT_BLOCK;
    double total[MAXC];
    memset(total, 0, sizeof total);
    /* blocks in order, partial sums per block folded into `total` in block order (ordered reduction) */
#pragma omp parallel
    {
        double part[MAXC];
#pragma omp for schedule(static) ordered
        for (size_t b = 0; b < nb; b++) {
            memset(part, 0, sizeof part);
            const size_t i1 = (b + 1) * ACT_BLOCK < n ? (b + 1) * ACT_BLOCK : n;
            if (kind == K_ACT_TROPICAL) {  /* one coefficient per element gets the gradient: no g array */
                const float sc = sqrtf(2.0f) / (float)deg;
                for (size_t i = b * ACT_BLOCK; i < i1; i++) {
                    const float xi = x[i];
                    int best = 0;
                    float bv = coef[0];
                    for (int k = 1; k <= deg; k++) {
                        float v = (float)k * xi + coef[k];
                        if (v > bv) { bv = v; best = k; }
                    }
                    part[best] += (double)(dout[i] * sc);
                    dx[i] = dout[i] * (sc * (float)best);
                }
            } else
            for (size_t i = b * ACT_BLOCK; i < i1; i++) {
                float d, g[MAXC];
                const float go = dout[i];
                (void)act_one(kind, deg, coef, invf, x[i], &d, g);
                for (int j = 0; j < nc; j++) part[j] += (double)(go * g[j]);
                dx[i] = go * d;
            }
#pragma omp ordered
            for (int j = 0; j < nc; j++) total[j] += part[j];
        }
    }
    for (int j = 0; j < nc; j++) dcoef[j] += (float)total[j];
}
