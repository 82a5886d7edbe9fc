/* Plain double-precision reference kernels (tests only): the obvious loops, no tiling, no fusion.
 * Each forward has its backward; test_kernels.c checks the backward against central finite
 * differences of the forward, then checks the optimised float kernels against these. */
#ifndef LMC_TEST_REF_KERNELS_H
#define LMC_TEST_REF_KERNELS_H
#include <math.h>
#include <stdlib.h>
#include <string.h>

static void ref_matmul_fwd(double *out, const double *inp, const double *w, const double *b, int N, int C, int OC) {
    for (int n = 0; n < N; n++)
        for (int o = 0; o < OC; o++) {
            double s = b ? b[o] : 0.0;
            for (int c = 0; c < C; c++) s += inp[n * C + c] * w[c * OC + o];
            out[n * OC + o] = s;
        }
}
static void ref_matmul_bwd(double *dinp, double *dw, double *db, const double *dout, const double *inp,
                           const double *w, int N, int C, int OC) {
    for (int n = 0; n < N; n++)
        for (int c = 0; c < C; c++) {
            double s = 0;
            for (int o = 0; o < OC; o++) s += dout[n * OC + o] * w[c * OC + o];
            dinp[n * C + c] += s;
        }
    for (int c = 0; c < C; c++)
        for (int o = 0; o < OC; o++) {
            double s = 0;
            for (int n = 0; n < N; n++) s += inp[n * C + c] * dout[n * OC + o];
            dw[c * OC + o] += s;
        }
    for (int o = 0; o < OC; o++) {
        double s = 0;
        for (int n = 0; n < N; n++) s += dout[n * OC + o];
        db[o] += s;
    }
}

static void ref_layernorm_fwd(double *out, const double *x, const double *w, const double *b, int N, int C, double eps) {
    for (int n = 0; n < N; n++) {
        double m = 0, v = 0;
        for (int i = 0; i < C; i++) m += x[n * C + i];
        m /= C;
        for (int i = 0; i < C; i++) v += (x[n * C + i] - m) * (x[n * C + i] - m);
        double rs = 1.0 / sqrt(v / C + eps);
        for (int i = 0; i < C; i++) out[n * C + i] = (x[n * C + i] - m) * rs * w[i] + b[i];
    }
}
static void ref_layernorm_bwd(double *dx, double *dw, double *db, const double *dout, const double *x,
                              const double *w, int N, int C, double eps) {
    for (int n = 0; n < N; n++) {
        const double *xr = x + n * C, *d = dout + n * C;
        double m = 0, v = 0;
        for (int i = 0; i < C; i++) m += xr[i];
        m /= C;
        for (int i = 0; i < C; i++) v += (xr[i] - m) * (xr[i] - m);
        double rs = 1.0 / sqrt(v / C + eps), s1 = 0, s2 = 0;
        for (int i = 0; i < C; i++) {
            double xh = (xr[i] - m) * rs;
            s1 += d[i] * w[i];
            s2 += d[i] * w[i] * xh;
            dw[i] += d[i] * xh;
            db[i] += d[i];
        }
        for (int i = 0; i < C; i++) {
            double xh = (xr[i] - m) * rs;
            dx[n * C + i] += rs * (d[i] * w[i] - s1 / C - xh * s2 / C);
        }
    }
}

static double ref_gelu(double x) { return 0.5 * x * (1.0 + tanh(sqrt(2.0 / M_PI) * (x + 0.044715 * x * x * x))); }
static double ref_gelu_grad(double x) {
    double s = sqrt(2.0 / M_PI), u = s * (x + 0.044715 * x * x * x), t = tanh(u);
    return 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * s * (1.0 + 3.0 * 0.044715 * x * x);
}

/* naive causal attention with the full T x T matrix */
static void ref_attention_fwd(double *out, const double *qkv, int B, int T, int C, int NH) {
    int hd = C / NH;
    double sc = 1.0 / sqrt((double)hd);
    double *p = (double *)malloc(sizeof(double) * T);
    for (int b = 0; b < B; b++)
        for (int h = 0; h < NH; h++)
            for (int i = 0; i < T; i++) {
                const double *q = qkv + ((size_t)b * T + i) * 3 * C + h * hd;
                double mx = -INFINITY, s = 0;
                for (int j = 0; j <= i; j++) {
                    const double *k = qkv + ((size_t)b * T + j) * 3 * C + C + h * hd;
                    double d = 0;
                    for (int e = 0; e < hd; e++) d += q[e] * k[e];
                    p[j] = d * sc;
                    if (p[j] > mx) mx = p[j];
                }
                for (int j = 0; j <= i; j++) { p[j] = exp(p[j] - mx); s += p[j]; }
                double *o = out + ((size_t)b * T + i) * C + h * hd;
                for (int e = 0; e < hd; e++) o[e] = 0;
                for (int j = 0; j <= i; j++) {
                    const double *v = qkv + ((size_t)b * T + j) * 3 * C + 2 * C + h * hd;
                    for (int e = 0; e < hd; e++) o[e] += p[j] / s * v[e];
                }
            }
    free(p);
}
static void ref_attention_bwd(double *dqkv, const double *dout, const double *qkv, int B, int T, int C, int NH) {
    int hd = C / NH;
    double sc = 1.0 / sqrt((double)hd);
    double *p = (double *)malloc(sizeof(double) * T), *dp = (double *)malloc(sizeof(double) * T);
    for (int b = 0; b < B; b++)
        for (int h = 0; h < NH; h++)
            for (int i = 0; i < T; i++) {
                const double *q = qkv + ((size_t)b * T + i) * 3 * C + h * hd;
                double mx = -INFINITY, s = 0;
                for (int j = 0; j <= i; j++) {
                    const double *k = qkv + ((size_t)b * T + j) * 3 * C + C + h * hd;
                    double d = 0;
                    for (int e = 0; e < hd; e++) d += q[e] * k[e];
                    p[j] = d * sc;
                    if (p[j] > mx) mx = p[j];
                }
                for (int j = 0; j <= i; j++) { p[j] = exp(p[j] - mx); s += p[j]; }
                for (int j = 0; j <= i; j++) p[j] /= s;
                const double *d_o = dout + ((size_t)b * T + i) * C + h * hd;
                double dsum = 0;
                for (int j = 0; j <= i; j++) {
                    const double *v = qkv + ((size_t)b * T + j) * 3 * C + 2 * C + h * hd;
                    double *dv = dqkv + ((size_t)b * T + j) * 3 * C + 2 * C + h * hd;
                    double d = 0;
                    for (int e = 0; e < hd; e++) { d += d_o[e] * v[e]; dv[e] += p[j] * d_o[e]; }
                    dp[j] = d;
                    dsum += p[j] * d;
                }
                double *dq = dqkv + ((size_t)b * T + i) * 3 * C + h * hd;
                for (int j = 0; j <= i; j++) {
                    double ds = p[j] * (dp[j] - dsum) * sc;
                    const double *k = qkv + ((size_t)b * T + j) * 3 * C + C + h * hd;
                    double *dk = dqkv + ((size_t)b * T + j) * 3 * C + C + h * hd;
                    for (int e = 0; e < hd; e++) { dq[e] += ds * k[e]; dk[e] += ds * q[e]; }
                }
            }
    free(p);
    free(dp);
}

/* mean cross-entropy over rows with target >= 0, over the first V of Vp columns */
static double ref_xent_fwd(const double *logits, const int *tg, int N, int V, int Vp) {
    double tot = 0;
    int cnt = 0;
    for (int n = 0; n < N; n++) {
        if (tg[n] < 0) continue;
        double mx = -INFINITY, s = 0;
        for (int j = 0; j < V; j++) if (logits[n * Vp + j] > mx) mx = logits[n * Vp + j];
        for (int j = 0; j < V; j++) s += exp(logits[n * Vp + j] - mx);
        tot += mx + log(s) - logits[n * Vp + tg[n]];
        cnt++;
    }
    return cnt ? tot / cnt : 0.0;
}
static void ref_xent_bwd(double *dlogits, const double *logits, const int *tg, int N, int V, int Vp) {
    int cnt = 0;
    for (int n = 0; n < N; n++) cnt += tg[n] >= 0;
    for (int n = 0; n < N; n++) {
        for (int j = 0; j < Vp; j++) dlogits[n * Vp + j] = 0;
        if (tg[n] < 0) continue;
        double mx = -INFINITY, s = 0;
        for (int j = 0; j < V; j++) if (logits[n * Vp + j] > mx) mx = logits[n * Vp + j];
        for (int j = 0; j < V; j++) s += exp(logits[n * Vp + j] - mx);
        for (int j = 0; j < V; j++) dlogits[n * Vp + j] = exp(logits[n * Vp + j] - mx) / s / cnt;
        dlogits[n * Vp + tg[n]] -= 1.0 / cnt;
    }
}
#endif
