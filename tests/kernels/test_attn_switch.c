/* The issue-13 attention kernels (kernels/cpu/attention_lssa.c, qknorm.c) against the formula:
 * a naive double-precision implementation that materialises T x T (the paper's Eq. for LSSA / LSSAR,
 * Qwen3's q_norm), its central finite differences for every backward (double, h = 1e-6, error norm
 * max_i |ours_i - fd_i| / max_i |fd_i| < 1e-4), the identities of TECHNIQUES §2 (rows sum to 1,
 * A' = 0 above the diagonal, p = 1 leaves the first 3 rows = A, large p tends to one-hot, a uniform
 * row and the n = 1 row are the degenerate settings where LSSA is exactly 1/n), KV-cache decode = the
 * last row of the batched forward, and bitwise equality across thread counts. */
#include "test.h"
#include "kernels/cpu/attn_switch.h"
#include "kernels/cpu/kernels.h"
#include "base/rng.h"

/* ---- naive double reference ---- */

/* out [B,T,NH*hd] from qkv [B,T,(NH+2NKV)hd] (double) */
static void ref_lssa(double *out, const double *qkv, int B, int T, int NH, int NKV, int hd, int power) {
    const int G = NH / NKV, W = (NH + 2 * NKV) * hd;
    double *cosm = malloc(sizeof(double) * T * T), *A = malloc(sizeof(double) * T * T);
    for (int b = 0; b < B; b++)
        for (int h = 0; h < NH; h++) {
            int kh = h / G;
            for (int i = 0; i < T; i++) {
                const double *q = qkv + ((size_t)b * T + i) * W + h * hd;
                double qn = 0;
                for (int e = 0; e < hd; e++) qn += q[e] * q[e];
                qn = fmax(sqrt(qn), 1e-12);
                double sum = 0, c = log((double)hd) * log((double)(i + 1));
                for (int j = 0; j <= i; j++) {
                    const double *k = qkv + ((size_t)b * T + j) * W + NH * hd + kh * hd;
                    double kn = 0, d = 0;
                    for (int e = 0; e < hd; e++) { kn += k[e] * k[e]; d += q[e] * k[e]; }
                    cosm[i * T + j] = d / (qn * fmax(sqrt(kn), 1e-12));
                    double z = c * cosm[i * T + j];
                    A[i * T + j] = z > 30 ? z : log1p(exp(z));
                    sum += A[i * T + j];
                }
                for (int j = 0; j <= i; j++) A[i * T + j] /= sum;
                if (power > 0) {
                    double s2 = 0, o = i < 3 ? 0 : 1;
                    for (int j = 0; j <= i; j++) {
                        double u = (i + 1) * A[i * T + j] - o;
                        A[i * T + j] = u > 0 ? pow(u, power) : 0;
                        s2 += A[i * T + j];
                    }
                    for (int j = 0; j <= i; j++) A[i * T + j] /= s2;
                }
                double *o = out + ((size_t)b * T + i) * NH * hd + h * hd;
                for (int e = 0; e < hd; e++) o[e] = 0;
                for (int j = 0; j <= i; j++) {
                    const double *v = qkv + ((size_t)b * T + j) * W + (NH + NKV) * hd + kh * hd;
                    for (int e = 0; e < hd; e++) o[e] += A[i * T + j] * v[e];
                }
            }
        }
    free(cosm);
    free(A);
}

static void ref_qknorm(double *x, const double *g_q, const double *g_k, int N, int NH, int NKV, int hd) {
    const int W = (NH + 2 * NKV) * hd;
    for (int n = 0; n < N; n++)
        for (int h = 0; h < NH + NKV; h++) {
            double *r = x + (size_t)n * W + h * hd, s = 0;
            for (int e = 0; e < hd; e++) s += r[e] * r[e];
            double rs = 1.0 / sqrt(s / hd + 1e-5);
            for (int e = 0; e < hd; e++) r[e] = r[e] * rs * (h < NH ? g_q : g_k)[e];
        }
}

static double maxabs(const float *a, size_t n) { double m = 0; for (size_t i = 0; i < n; i++) m = fmax(m, fabs(a[i])); return m; }
static void fill(float *x, size_t n, lmc_rng *r, float sd) { for (size_t i = 0; i < n; i++) x[i] = sd * lmc_rng_normal(r); }

/* forward vs the formula, for one shape */
static void check_forward(int B, int T, int NH, int NKV, int hd, int power) {
    const int W = (NH + 2 * NKV) * hd;
    size_t nq = (size_t)B * T * W, no = (size_t)B * T * NH * hd;
    lmc_rng r;
    lmc_rng_init(&r, 7 + power + T);
    float *qkv = malloc(nq * 4), *out = malloc(no * 4);
    double *dq = malloc(nq * 8), *dout = malloc(no * 8);
    fill(qkv, nq, &r, 1.0f);
    for (size_t i = 0; i < nq; i++) dq[i] = qkv[i];
    CHECK(k_attention_lssa_fwd(out, qkv, B, T, NH, NKV, hd, power) == 0);
    ref_lssa(dout, dq, B, T, NH, NKV, hd, power);
    double e = 0, m = 0;
    for (size_t i = 0; i < no; i++) { e = fmax(e, fabs(out[i] - dout[i])); m = fmax(m, fabs(dout[i])); }
    CHECK_MSG(e / m < 1e-5, "forward T=%d p=%d: rel err %.3g", T, power, e / m);
    printf("forward  B=%d T=%d H=%d KV=%d hd=%d p=%2d: max rel err vs double formula %.2g\n", B, T, NH, NKV, hd, power, e / m);
    free(qkv); free(out); free(dq); free(dout);
}

/* backward vs central differences of the double formula of L = sum(out * R); with qk=1 the input
 * goes through the QK-norm first (the composed backward: lssa or softmax-free bwd, then qknorm bwd) */
static void check_backward(int B, int T, int NH, int NKV, int hd, int power, int qk) {
    const int W = (NH + 2 * NKV) * hd;
    const size_t N = (size_t)B * T, nq = N * W, no = N * NH * hd;
    lmc_rng r;
    lmc_rng_init(&r, 99 + power + qk);
    float *qkv = malloc(nq * 4), *x = malloc(nq * 4), *out = malloc(no * 4), *R = malloc(no * 4), *dqkv = calloc(nq, 4);
    float gq[64], gk[64], dgq[64] = {0}, dgk[64] = {0};
    float *raw = malloc(N * (NH + NKV) * hd * 4), *rstd = malloc(N * (NH + NKV) * 4);
    fill(qkv, nq, &r, 1.0f);
    fill(R, no, &r, 1.0f);
    for (int e = 0; e < hd; e++) { gq[e] = 1.0f + 0.3f * lmc_rng_normal(&r); gk[e] = 1.0f + 0.3f * lmc_rng_normal(&r); }
    memcpy(x, qkv, nq * 4);
    if (qk) k_qknorm_fwd(x, raw, rstd, gq, gk, N, (size_t)W, NH, NKV, hd, 1e-5f);
    CHECK(k_attention_lssa_fwd(out, x, B, T, NH, NKV, hd, power) == 0);
    CHECK(k_attention_lssa_bwd(dqkv, R, x, B, T, NH, NKV, hd, power) == 0);
    if (qk) k_qknorm_bwd(dqkv, dgq, dgk, raw, rstd, gq, gk, N, (size_t)W, NH, NKV, hd);
    /* finite differences in double */
    double *d = malloc(nq * 8), *dx = malloc(nq * 8), *o = malloc(no * 8), gqd[64], gkd[64];
    for (size_t i = 0; i < nq; i++) d[i] = qkv[i];
    for (int e = 0; e < hd; e++) { gqd[e] = gq[e]; gkd[e] = gk[e]; }
    const double h = 1e-6;
#define LOSS(res) do { memcpy(dx, d, nq * 8); if (qk) ref_qknorm(dx, gqd, gkd, (int)N, NH, NKV, hd); \
        ref_lssa(o, dx, B, T, NH, NKV, hd, power); double s_ = 0; for (size_t k_ = 0; k_ < no; k_++) s_ += o[k_] * R[k_]; \
        res = s_; } while (0)
    double e = 0, m = 0;
    for (size_t i = 0; i < nq; i++) {
        double lp, lm, keep = d[i];
        d[i] = keep + h; LOSS(lp);
        d[i] = keep - h; LOSS(lm);
        d[i] = keep;
        double fd = (lp - lm) / (2 * h);
        e = fmax(e, fabs(fd - dqkv[i]));
        m = fmax(m, fabs(fd));
    }
    CHECK_MSG(e / m < 1e-4, "backward p=%d qk=%d: rel err %.3g", power, qk, e / m);
    printf("backward B=%d T=%d H=%d KV=%d hd=%d p=%2d qk_norm=%d: dqkv max rel err vs finite differences %.2g",
           B, T, NH, NKV, hd, power, qk, e / m);
    if (qk) {
        double eg = 0, mg = 0;
        for (int which = 0; which < 2; which++)
            for (int c = 0; c < hd; c++) {
                double *gp = which ? gkd : gqd, keep = gp[c], lp, lm;
                gp[c] = keep + h; LOSS(lp);
                gp[c] = keep - h; LOSS(lm);
                gp[c] = keep;
                double fd = (lp - lm) / (2 * h);
                eg = fmax(eg, fabs(fd - (which ? dgk : dgq)[c]));
                mg = fmax(mg, fabs(fd));
            }
        CHECK_MSG(eg / mg < 1e-4, "qk gains: rel err %.3g", eg / mg);
        printf(", gains %.2g", eg / mg);
    }
    printf("\n");
#undef LOSS
    free(qkv); free(x); free(out); free(R); free(dqkv); free(raw); free(rstd); free(d); free(dx); free(o);
}

static void identities(void) {
    enum { n = 40 };
    float cos[n], A[n], Ap[n];
    lmc_rng r;
    lmc_rng_init(&r, 5);
    for (int i = 0; i < n; i++) {  /* every row sums to 1, for LSSA and LSSAR */
        for (int j = 0; j <= i; j++) cos[j] = 2.0f * lmc_rng_uniform(&r) - 1.0f;
        k_lssa_row(cos, A, Ap, i + 1, i, 16, 15);
        double s1 = 0, s2 = 0;
        for (int j = 0; j <= i; j++) { s1 += A[j]; s2 += Ap[j]; CHECK(A[j] > 0 && Ap[j] >= 0); }
        CHECK_CLOSE(s1, 1.0, 1e-6, 0);
        CHECK_CLOSE(s2, 1.0, 1e-6, 0);
    }
    /* p = 1: the first 3 rows (offset 0) are stage 1 unchanged */
    for (int i = 0; i < 3; i++) {
        for (int j = 0; j <= i; j++) cos[j] = 2.0f * lmc_rng_uniform(&r) - 1.0f;
        k_lssa_row(cos, A, Ap, i + 1, i, 16, 1);
        for (int j = 0; j <= i; j++) CHECK_CLOSE(Ap[j], A[j], 1e-7, 1e-6);
    }
    /* large p -> one-hot at the argmax */
    for (int j = 0; j < n; j++) cos[j] = 0.5f * (2.0f * lmc_rng_uniform(&r) - 1.0f);
    cos[17] = 0.9f;
    k_lssa_row(cos, A, Ap, n, n - 1, 16, 64);
    CHECK(Ap[17] > 0.999f);
    /* degenerate settings: n = 1 (log 1 = 0) gives weight 1; a row of equal cosines (here all 0:
     * softplus(0) = log 2 everywhere) is exactly uniform 1/n in stage 1, and re-weighting keeps it */
    cos[0] = 0.7f;
    k_lssa_row(cos, A, Ap, 1, 0, 16, 15);
    CHECK(A[0] == 1.0f && Ap[0] == 1.0f);
    for (int j = 0; j < n; j++) cos[j] = 0.0f;
    k_lssa_row(cos, A, Ap, n, n - 1, 16, 15);
    for (int j = 0; j < n; j++) { CHECK_CLOSE(A[j], 1.0 / n, 1e-7, 0); CHECK_CLOSE(Ap[j], 1.0 / n, 1e-7, 0); }
    /* the formula by hand for one row: i = 4 (n = 5, offset 1), hd = 16, p = 2 */
    const float c5[5] = {0.9f, -0.2f, 0.1f, 0.4f, -0.7f};
    double s[5], sum = 0, b[5], sb = 0, sc = log(16.0) * log(5.0);
    for (int j = 0; j < 5; j++) { s[j] = log1p(exp(sc * c5[j])); sum += s[j]; }
    for (int j = 0; j < 5; j++) { double u = 5 * s[j] / sum - 1; b[j] = u > 0 ? u * u : 0; sb += b[j]; }
    k_lssa_row(c5, A, Ap, 5, 4, 16, 2);
    for (int j = 0; j < 5; j++) { CHECK_CLOSE(A[j], s[j] / sum, 1e-7, 1e-6); CHECK_CLOSE(Ap[j], b[j] / sb, 1e-7, 1e-6); }
}

/* QK-norm: per-head RMS is 1 with unit gains; norm-then-RoPE = RoPE-then-norm with unit gains */
static void qknorm_identities(void) {
    const int N = 5, NH = 4, NKV = 2, hd = 8, W = (NH + 2 * NKV) * hd;
    float x[5 * 64], y[5 * 64], g[8];
    lmc_rng r;
    lmc_rng_init(&r, 3);
    fill(x, (size_t)N * W, &r, 3.0f);
    for (int e = 0; e < hd; e++) g[e] = 1.0f;
    memcpy(y, x, sizeof x);
    k_qknorm_fwd(y, NULL, NULL, g, g, N, (size_t)W, NH, NKV, hd, 0.0f);
    for (int n = 0; n < N; n++)
        for (int h = 0; h < NH + 2 * NKV; h++) {
            double s = 0;
            for (int e = 0; e < hd; e++) s += (double)y[n * W + h * hd + e] * y[n * W + h * hd + e];
            if (h < NH + NKV) CHECK_CLOSE(s / hd, 1.0, 1e-5, 0);
            else CHECK(memcmp(y + n * W + h * hd, x + n * W + h * hd, hd * 4) == 0);  /* v untouched */
        }
    float ct[5 * 4], st[5 * 4], z[5 * 64];
    k_rope_table(ct, st, N, hd, 10000.0f);
    memcpy(z, x, sizeof x);
    k_rope_apply(y, (size_t)W, 1, N, 0, 0, NH + NKV, hd, ct, st, 0);
    k_rope_apply(z, (size_t)W, 1, N, 0, 0, NH + NKV, hd, ct, st, 0);
    k_qknorm_fwd(z, NULL, NULL, g, g, N, (size_t)W, NH, NKV, hd, 0.0f);
    double e = 0;
    for (int i = 0; i < N * W; i++) e = fmax(e, fabs(y[i] - z[i]));
    CHECK_MSG(e < 1e-5, "norm/RoPE order with unit gains: %.3g", e);
}

static void decode_and_threads(void) {
    const int B = 2, T = 70, NH = 4, NKV = 2, hd = 16, W = (NH + 2 * NKV) * hd;
    const size_t nq = (size_t)B * T * W, no = (size_t)B * T * NH * hd;
    lmc_rng r;
    lmc_rng_init(&r, 11);
    float *qkv = malloc(nq * 4), *o1 = malloc(no * 4), *o2 = malloc(no * 4), *R = malloc(no * 4);
    float *d1 = calloc(nq, 4), *d2 = calloc(nq, 4), out[64], scratch[2 * 70];
    fill(qkv, nq, &r, 1.0f);
    fill(R, no, &r, 1.0f);
    for (int power = 0; power <= 15; power += 15) {
        lmc_kernels_set_threads(1);
        CHECK(k_attention_lssa_fwd(o1, qkv, B, T, NH, NKV, hd, power) == 0);
        CHECK(k_attention_lssa_bwd(d1, R, qkv, B, T, NH, NKV, hd, power) == 0);
        lmc_kernels_set_threads(2);
        CHECK(k_attention_lssa_fwd(o2, qkv, B, T, NH, NKV, hd, power) == 0);
        CHECK(k_attention_lssa_bwd(d2, R, qkv, B, T, NH, NKV, hd, power) == 0);
        CHECK(memcmp(o1, o2, no * 4) == 0);
        CHECK(memcmp(d1, d2, nq * 4) == 0);
        /* decode: query T-1 of batch 1 over the cached (raw) keys/values */
        const float *b1 = qkv + (size_t)T * W;
        k_attention_lssa_decode(out, b1 + (size_t)(T - 1) * W, b1 + NH * hd, b1 + (NH + NKV) * hd, T, (size_t)W, NH, NKV,
                                hd, power, scratch);
        const float *ref = o1 + ((size_t)T + T - 1) * NH * hd;
        double e = 0;
        for (int i = 0; i < NH * hd; i++) e = fmax(e, fabs(out[i] - ref[i]));
        CHECK_MSG(e / maxabs(ref, (size_t)NH * hd) < 1e-5, "decode p=%d: %.3g", power, e);
    }
    free(qkv); free(o1); free(o2); free(R); free(d1); free(d2);
}

int main(void) {
    lmc_kernels_set_threads(2);
    identities();
    qknorm_identities();
    check_forward(2, 150, 4, 2, 16, 0);   /* three query blocks, GQA */
    check_forward(2, 150, 4, 2, 16, 15);
    check_forward(1, 70, 2, 1, 8, 3);     /* MQA */
    check_backward(1, 9, 2, 1, 4, 0, 0);
    check_backward(1, 9, 2, 1, 4, 3, 0);
    check_backward(2, 7, 2, 2, 4, 15, 0);
    check_backward(1, 9, 2, 1, 4, 15, 1);
    check_backward(1, 70, 2, 1, 4, 15, 0);  /* two query blocks */
    decode_and_threads();
    return test_summary("attn_switch");
}
