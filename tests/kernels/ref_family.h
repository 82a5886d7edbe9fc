/* Plain double-precision reference kernels for the transformer-family layers (tests only): RMSNorm,
 * RoPE (rotate-half), SwiGLU, grouped-query attention with optional ALiBi. Same pattern as
 * ref_kernels.h: obvious loops, each forward with its backward. */
#ifndef LMC_TEST_REF_FAMILY_H
#define LMC_TEST_REF_FAMILY_H
#include <math.h>
#include <stdlib.h>

static void ref_rmsnorm_fwd(double *out, const double *x, const double *w, int N, int C, double eps) {
    for (int n = 0; n < N; n++) {
        double s = 0;
        for (int i = 0; i < C; i++) s += x[n * C + i] * x[n * C + i];
        double rs = 1.0 / sqrt(s / C + eps);
        for (int i = 0; i < C; i++) out[n * C + i] = x[n * C + i] * rs * w[i];
    }
}
static void ref_rmsnorm_bwd(double *dx, double *dw, const double *dout, const double *x, const double *w,
                            int N, int C, double eps) {
    for (int n = 0; n < N; n++) {
        const double *xr = x + n * C, *d = dout + n * C;
        double s = 0;
        for (int i = 0; i < C; i++) s += xr[i] * xr[i];
        double ms = s / C + eps, rs = 1.0 / sqrt(ms), g = 0;
        for (int i = 0; i < C; i++) g += d[i] * w[i] * xr[i];
        /* d/dx_i of x_i rs w_i: rs w_i d_i - x_i rs^3 / C * sum_j d_j w_j x_j */
        for (int i = 0; i < C; i++) {
            dx[n * C + i] += rs * d[i] * w[i] - xr[i] * rs * rs * rs * g / C;
            dw[i] += d[i] * xr[i] * rs;
        }
    }
}

/* RoPE on rows (B*T) of width ld: nh heads of hd from col0; angle t * theta^(-2i/hd). */
static void ref_rope(double *x, int ld, int B, int T, int col0, int nh, int hd, double theta, int inverse) {
    int h2 = hd / 2;
    for (int n = 0; n < B * T; n++) {
        int t = n % T;
        for (int h = 0; h < nh; h++) {
            double *a = x + (size_t)n * ld + col0 + h * hd, *b = a + h2;
            for (int i = 0; i < h2; i++) {
                double ang = t * pow(theta, -2.0 * i / hd), c = cos(ang), s = inverse ? -sin(ang) : sin(ang);
                double u = a[i], v = b[i];
                a[i] = u * c - v * s;
                b[i] = v * c + u * s;
            }
        }
    }
}

static void ref_swiglu_fwd(double *out, const double *h, int N, int F) {
    for (int n = 0; n < N; n++)
        for (int i = 0; i < F; i++) {
            double g = h[n * 2 * F + i], u = h[n * 2 * F + F + i];
            out[n * F + i] = g / (1 + exp(-g)) * u;
        }
}
static void ref_swiglu_bwd(double *dh, const double *h, const double *dout, int N, int F) {
    for (int n = 0; n < N; n++)
        for (int i = 0; i < F; i++) {
            double g = h[n * 2 * F + i], u = h[n * 2 * F + F + i], s = 1 / (1 + exp(-g)), d = dout[n * F + i];
            dh[n * 2 * F + i] += d * u * (s + g * s * (1 - s));
            dh[n * 2 * F + F + i] += d * g * s;
        }
}

/* GQA attention: qkv rows [NH*hd | NKV*hd | NKV*hd], out [B,T,NH*hd]; slopes (NH) or NULL. */
static void ref_gqa_fwd(double *out, const double *qkv, int B, int T, int NH, int NKV, int hd, const double *slopes) {
    int W = (NH + 2 * NKV) * hd, G = NH / NKV;
    double sc = 1.0 / sqrt((double)hd);
    double *p = (double *)malloc(sizeof(double) * T);
    for (int b = 0; b < B; b++)
        for (int h = 0; h < NH; h++)
            for (int i = 0; i < T; i++) {
                int kh = h / G;
                const double *q = qkv + ((size_t)b * T + i) * W + h * hd;
                double mx = -INFINITY, s = 0;
                for (int j = 0; j <= i; j++) {
                    const double *k = qkv + ((size_t)b * T + j) * W + NH * hd + kh * hd;
                    double d = 0;
                    for (int e = 0; e < hd; e++) d += q[e] * k[e];
                    p[j] = d * sc + (slopes ? slopes[h] * (j - i) : 0.0);
                    if (p[j] > mx) mx = p[j];
                }
                for (int j = 0; j <= i; j++) { p[j] = exp(p[j] - mx); s += p[j]; }
                double *o = out + ((size_t)b * T + i) * NH * hd + h * hd;
                for (int e = 0; e < hd; e++) o[e] = 0;
                for (int j = 0; j <= i; j++) {
                    const double *v = qkv + ((size_t)b * T + j) * W + (NH + NKV) * hd + kh * hd;
                    for (int e = 0; e < hd; e++) o[e] += p[j] / s * v[e];
                }
            }
    free(p);
}
static void ref_gqa_bwd(double *dqkv, const double *dout, const double *qkv, int B, int T, int NH, int NKV, int hd,
                        const double *slopes) {
    int W = (NH + 2 * NKV) * hd, G = NH / NKV;
    double sc = 1.0 / sqrt((double)hd);
    double *p = (double *)malloc(sizeof(double) * T), *dp = (double *)malloc(sizeof(double) * T);
    for (int b = 0; b < B; b++)
        for (int h = 0; h < NH; h++)
            for (int i = 0; i < T; i++) {
                int kh = h / G;
                const double *q = qkv + ((size_t)b * T + i) * W + h * hd;
                double mx = -INFINITY, s = 0;
                for (int j = 0; j <= i; j++) {
                    const double *k = qkv + ((size_t)b * T + j) * W + NH * hd + kh * hd;
                    double d = 0;
                    for (int e = 0; e < hd; e++) d += q[e] * k[e];
                    p[j] = d * sc + (slopes ? slopes[h] * (j - i) : 0.0);
                    if (p[j] > mx) mx = p[j];
                }
                for (int j = 0; j <= i; j++) { p[j] = exp(p[j] - mx); s += p[j]; }
                for (int j = 0; j <= i; j++) p[j] /= s;
                const double *d_o = dout + ((size_t)b * T + i) * NH * hd + h * hd;
                double dsum = 0;
                for (int j = 0; j <= i; j++) {
                    const double *v = qkv + ((size_t)b * T + j) * W + (NH + NKV) * hd + kh * hd;
                    double *dv = dqkv + ((size_t)b * T + j) * W + (NH + NKV) * hd + kh * hd;
                    double d = 0;
                    for (int e = 0; e < hd; e++) { d += d_o[e] * v[e]; dv[e] += p[j] * d_o[e]; }
                    dp[j] = d;
                    dsum += p[j] * d;
                }
                double *dq = dqkv + ((size_t)b * T + i) * W + h * hd;
                for (int j = 0; j <= i; j++) {
                    double ds = p[j] * (dp[j] - dsum) * sc;
                    const double *k = qkv + ((size_t)b * T + j) * W + NH * hd + kh * hd;
                    double *dk = dqkv + ((size_t)b * T + j) * W + NH * hd + kh * hd;
                    for (int e = 0; e < hd; e++) { dq[e] += ds * k[e]; dk[e] += ds * q[e]; }
                }
            }
    free(p);
    free(dp);
}
#endif
