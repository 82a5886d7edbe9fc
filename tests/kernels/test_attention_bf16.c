/* bf16 attention (attention_bf16.c) against an exact reference in double, every element within a bound
 * derived from bf16 rounding, on each engine this CPU has (AMX tiles; AVX512_BF16 dot products, which
 * an AMX CPU also has); and the dispatch (bf16 mode runs it, fp32 mode and shapes it cannot run keep
 * attention.c's fp32 kernels, bitwise). Both engines form each bf16 product exactly and accumulate in
 * fp32, so the same bound holds for both.
 *
 * The bound. u = 2^-8 (bf16 keeps 8 significant bits, round to nearest), gamma_K = K 2^-24 / (1 - K 2^-24)
 * for a K-term fp32 sum. Only the GEMM inputs are rounded: q, k, v, P, dO, dS.
 *  - score s_ij = scale q_i.k_j:  |ds_ij| <= e_ij = scale ((2u + u^2) + gamma_hd (1 + u)^2) sum_d |q_id k_jd|;
 *    E_i = max_j e_ij. lse moves by at most E_i.
 *  - softmax: p^_ij / p_ij = exp(ds_ij) / sum_k p_ik exp(ds_ik) lies in [exp(-2 E_i), exp(2 E_i)]; backward
 *    recomputes P from its own scores and forward's lse, which also stays within exp(+-2 E_i).
 *  - a sum C = sum_j a_j b_j whose factors carry relative errors alpha_j (P: exp(2E) (1 + u) - 1; an input:
 *    u) is off by at most sum_j |a_j b_j| ((1 + alpha_a)(1 + alpha_b)(1 + gamma) - 1): out, dV.
 *  - dS_ij = p_ij (dP_ij - D_i): dP from bf16 dO and v (a sum as above: f_ij), D_i = rowsum(dO O) in fp32
 *    from the bf16 path's O (g_i = sum_d |dO_id| err(O_id) + gamma_hd sum_d |dO_id O_id|);
 *    |dS^ - dS| <= p eps_i (|dP - D| + f + g) + p (f + g), eps_i = exp(2 E_i) - 1; then scaled and rounded
 *    (u). dQ = dS K, dK = dS^T Q: sum_j (err(dS_ij) (1 + u) + u |dS_ij|) |k_jd| + gamma sum_j |dS_ij k_jd| (1 + ..).
 * A small absolute slack (2^-20 of the terms' magnitude) covers the fp32 exp polynomial, divisions and the
 * scale multiply. The test also checks that the mean error is a sizeable part of the bound (the bf16 path
 * really ran: it must be well above fp32 mode's, which is printed too). */
#include "test.h"
#include "kernels/cpu/kernels.h"
#include "kernels/cpu/attention_bf16.h"
#include "base/rng.h"

static lmc_rng rng;

static double gam(int K) { return K * 0x1p-24 / (1 - K * 0x1p-24); }

/* Checks one tensor's elements against their bounds; returns the mean error / bound. */
static double check(const char *what, const float *got, const double *want, const double *bound, size_t n,
                    size_t stride, size_t off, int cols) {
    size_t bad = 0, cnt = 0;
    double worst = 0, sum = 0;
    for (size_t r = 0; r < n; r++)
        for (int c = 0; c < cols; c++) {
            double g = got[r * stride + off + (size_t)c], w = want[r * cols + c], b = bound[r * cols + c];
            double e = fabs(g - w);
            if (!(e <= b)) {
                if (bad < 5) fprintf(stderr, "  %s[%zu,%d] = %.7g, want %.7g, error %.3g > bound %.3g\n", what, r, c, g, w, e, b);
                bad++;
            }
            if (e / b > worst) worst = e / b;
            sum += e / b;
            cnt++;
        }
    fprintf(stderr, "%s: worst error %.3f of the bound, mean %.4f\n", what, worst, sum / (double)cnt);
    CHECK_MSG(bad == 0, "%s: %zu elements outside the bf16 bound", what, bad);
    return sum / (double)cnt;
}

static void run_case(int B, int T, int NH, int NKV, int hd, int alibi, int docs) {
    const int G = NH / NKV;
    const size_t W = (size_t)(NH + 2 * NKV) * hd, OC = (size_t)NH * hd, N = (size_t)B * T;
    const int KOFF = NH * hd, VOFF = (NH + NKV) * hd;
    const double u = 1.0 / 256, scale = 1.0 / sqrt((double)hd), slack = 0x1p-20;
    float *qkv = malloc(N * W * 4), *out = malloc(N * OC * 4), *lse = malloc(N * NH * 4), *dout = malloc(N * OC * 4);
    float *dqkv = malloc(N * W * 4), slopes[16];
    int32_t *ds = docs ? malloc(N * 4) : NULL;
    for (size_t i = 0; i < N * W; i++) qkv[i] = (float)(2.0 * lmc_rng_uniform_double(&rng) - 1.0) * 1.5f;
    for (size_t i = 0; i < N * OC; i++) dout[i] = (float)(2.0 * lmc_rng_uniform_double(&rng) - 1.0);
    if (alibi) k_alibi_slopes(slopes, NH);
    if (docs)   /* documents of lengths 37, 50, ... : starts that are not multiples of 32 */
        for (int b = 0; b < B; b++) {
            int start = 0;
            for (int t = 0; t < T; t++) {
                if (t - start == 37 + 13 * b) start = t;
                ds[(size_t)b * T + t] = start;
            }
        }
    lmc_err err;
    CHECK(lmc_kernels_set_precision(LMC_PREC_BF16, &err) == 0);
    CHECK(k_attention_fwd_doc(out, lse, qkv, B, T, NH, NKV, hd, alibi ? slopes : NULL, ds) == 0);
    CHECK(k_attention_bwd_doc(dqkv, dout, qkv, out, lse, B, T, NH, NKV, hd, alibi ? slopes : NULL, ds) == 0);

    /* exact reference and bounds, per (b, h) */
    double *o = calloc(N * OC, 8), *ob = calloc(N * OC, 8), *l = calloc(N * NH, 8), *lb = calloc(N * NH, 8);
    double *dq = calloc(N * W, 8), *dqb = calloc(N * W, 8);
    double *s = malloc((size_t)T * T * 8), *p = malloc((size_t)T * T * 8), *dsx = malloc((size_t)T * T * 8);
    double *dse = malloc((size_t)T * T * 8), *E = malloc((size_t)T * 8), *sab = malloc((size_t)T * T * 8);
    for (int b = 0; b < B; b++)
        for (int h = 0; h < NH; h++) {
            int kh = h / G;
            const float *q = qkv + (size_t)b * T * W + h * hd, *k = qkv + (size_t)b * T * W + KOFF + kh * hd;
            const float *v = qkv + (size_t)b * T * W + VOFF + kh * hd, *dO = dout + (size_t)b * T * OC + h * hd;
            const double gh = gam(hd), gt = gam(T);
            for (int i = 0; i < T; i++) {
                int lo = ds ? ds[(size_t)b * T + i] : 0;
                double mx = -1e300, Ei = 0;
                for (int j = 0; j < T; j++) {
                    if (j < lo || j > i) { s[(size_t)i * T + j] = -INFINITY; continue; }
                    double a = 0, ab = 0;
                    for (int d = 0; d < hd; d++) {
                        a += (double)q[(size_t)i * W + d] * k[(size_t)j * W + d];
                        ab += fabs((double)q[(size_t)i * W + d] * k[(size_t)j * W + d]);
                    }
                    a = a * scale + (alibi ? (double)slopes[h] * (j - i) : 0);
                    double e = scale * ((2 * u + u * u) + gh * (1 + u) * (1 + u)) * ab + slack * (fabs(a) + 1);
                    s[(size_t)i * T + j] = a;
                    if (e > Ei) Ei = e;
                    if (a > mx) mx = a;
                }
                double sum = 0;
                for (int j = 0; j < T; j++) sum += s[(size_t)i * T + j] == -INFINITY ? 0 : exp(s[(size_t)i * T + j] - mx);
                double L = mx + log(sum);
                l[(size_t)(b * NH + h) * T + i] = L;
                lb[(size_t)(b * NH + h) * T + i] = Ei + slack * (fabs(L) + 1);
                E[i] = Ei;
                for (int j = 0; j < T; j++) p[(size_t)i * T + j] = s[(size_t)i * T + j] == -INFINITY ? 0 : exp(s[(size_t)i * T + j] - L);
            }
            /* out and its bound */
            for (int i = 0; i < T; i++) {
                double ap = exp(2 * E[i]) * (1 + u) - 1 + slack;
                for (int d = 0; d < hd; d++) {
                    double a = 0, ab = 0;
                    for (int j = 0; j < T; j++) {
                        a += p[(size_t)i * T + j] * v[(size_t)j * W + d];
                        ab += p[(size_t)i * T + j] * fabs(v[(size_t)j * W + d]);
                    }
                    size_t at = ((size_t)b * T + i) * OC + h * hd + d;
                    o[at] = a;
                    ob[at] = ab * ((1 + ap) * (1 + u) * (1 + gt) - 1) + slack * ab;
                }
            }
            /* dP, D, dS and the error of dS as computed (after scale and rounding) */
            for (int i = 0; i < T; i++) {
                double D = 0, g = 0, eps = exp(2 * E[i]) - 1 + slack;
                for (int d = 0; d < hd; d++) {
                    size_t at = ((size_t)b * T + i) * OC + h * hd + d;
                    D += (double)dO[(size_t)i * OC + d] * o[at];
                    g += fabs((double)dO[(size_t)i * OC + d]) * (ob[at] + gh * fabs(o[at]));
                }
                for (int j = 0; j < T; j++) {
                    double pij = p[(size_t)i * T + j], dp = 0, f = 0;
                    for (int d = 0; d < hd; d++) {
                        dp += (double)dO[(size_t)i * OC + d] * v[(size_t)j * W + d];
                        f += fabs((double)dO[(size_t)i * OC + d] * v[(size_t)j * W + d]);
                    }
                    f *= (2 * u + u * u) + gh * (1 + u) * (1 + u);
                    double dS = pij * (dp - D);
                    double e = pij * eps * (fabs(dp - D) + f + g) + pij * (f + g);
                    dsx[(size_t)i * T + j] = scale * dS;
                    dse[(size_t)i * T + j] = scale * (e * (1 + u) + u * fabs(dS)) + slack * scale * fabs(dS);
                    sab[(size_t)i * T + j] = scale * (fabs(dS) + e) * (1 + u);
                }
            }
            /* dQ (per head), dK and dV (summed over the heads of the kv group) with their bounds */
            for (int i = 0; i < T; i++)
                for (int d = 0; d < hd; d++) {
                    double a = 0, e = 0, ab = 0;
                    for (int j = 0; j < T; j++) {
                        double kk = k[(size_t)j * W + d];
                        a += dsx[(size_t)i * T + j] * kk;
                        e += dse[(size_t)i * T + j] * (1 + u) * fabs(kk) + fabs(dsx[(size_t)i * T + j]) * u * fabs(kk);
                        ab += sab[(size_t)i * T + j] * fabs(kk) * (1 + u);
                    }
                    size_t at = ((size_t)b * T + i) * W + h * hd + d;
                    dq[at] = a;
                    dqb[at] = e + gt * ab + slack * ab;
                }
            for (int j = 0; j < T; j++)
                for (int d = 0; d < hd; d++) {
                    double ak = 0, ek = 0, abk = 0, av = 0, abv = 0, ev = 0;
                    for (int i = 0; i < T; i++) {
                        double qq = q[(size_t)i * W + d], dd = dO[(size_t)i * OC + d], pij = p[(size_t)i * T + j];
                        ak += dsx[(size_t)i * T + j] * qq;
                        ek += dse[(size_t)i * T + j] * (1 + u) * fabs(qq) + fabs(dsx[(size_t)i * T + j]) * u * fabs(qq);
                        abk += sab[(size_t)i * T + j] * fabs(qq) * (1 + u);
                        av += pij * dd;
                        double ap = exp(2 * E[i]) * (1 + u) - 1 + slack;
                        abv += pij * fabs(dd);
                        ev += pij * fabs(dd) * ((1 + ap) * (1 + u) * (1 + gt) - 1);
                    }
                    size_t atk = ((size_t)b * T + j) * W + KOFF + kh * hd + d, atv = atk - KOFF + VOFF;
                    dq[atk] += ak;
                    dqb[atk] += ek + gt * abk + slack * abk;
                    dq[atv] += av;
                    dqb[atv] += ev + slack * abv;
                }
        }
    char name[160];
    snprintf(name, sizeof name, "B%d T%d H%d/%d hd%d%s%s", B, T, NH, NKV, hd, alibi ? " alibi" : "", docs ? " docs" : "");
    fprintf(stderr, "case %s\n", name);
    double m = 0;
    check("lse", lse, l, lb, N * NH / T, T, 0, T);   /* lse is [B*NH, T] */
    m += check("out", out, o, ob, N, OC, 0, (int)OC);
    double md = check("dq/dk/dv", dqkv, dq, dqb, N, W, 0, (int)W);
    CHECK_MSG(m > 5e-4 && md > 5e-4, "%s: mean errors %.2e / %.2e of the bound are too small for bf16 inputs", name, m, md);

    /* fp32 mode: attention.c's fp32 kernels, unchanged */
    float *out32 = malloc(N * OC * 4), *lse32 = malloc(N * NH * 4);
    CHECK(lmc_kernels_set_precision(LMC_PREC_FP32, &err) == 0);
    CHECK(k_attention_fwd_doc(out32, lse32, qkv, B, T, NH, NKV, hd, alibi ? slopes : NULL, ds) == 0);
    double e32 = 0, m32 = 0;
    for (size_t i = 0; i < N * OC; i++) {
        double r = fabs(out32[i] - o[i]) / (ob[i] + 1e-30);
        e32 = fmax(e32, r);
        m32 += r / (double)(N * OC);
    }
    fprintf(stderr, "fp32 mode out: worst error %.2e of the bf16 bound, mean %.2e\n", e32, m32);
    CHECK_MSG(e32 < 0.01, "%s: fp32 mode error %.3g of the bf16 bound: not the fp32 kernel", name, e32);
    CHECK_MSG(m > 30 * m32, "%s: bf16 mean error %.2e is not clearly above fp32's %.2e", name, m, m32);
    free(out32); free(lse32);
    free(o); free(ob); free(l); free(lb); free(dq); free(dqb); free(s); free(p); free(dsx); free(dse); free(E); free(sab);
    free(qkv); free(out); free(lse); free(dout); free(dqkv); free(ds);
}

/* A shape the tiles cannot take (T not a multiple of 32): bf16 mode keeps the fp32 kernel, bitwise. */
static void test_fallback_shape(void) {
    int B = 1, T = 40, NH = 2, hd = 32;
    size_t W = (size_t)3 * NH * hd, N = (size_t)B * T, OC = (size_t)NH * hd;
    float *qkv = malloc(N * W * 4), *a = malloc(N * OC * 4), *b = malloc(N * OC * 4), *la = malloc(N * NH * 4), *lb = malloc(N * NH * 4);
    for (size_t i = 0; i < N * W; i++) qkv[i] = (float)(2.0 * lmc_rng_uniform_double(&rng) - 1.0);
    lmc_err err;
    CHECK(lmc_kernels_set_precision(LMC_PREC_FP32, &err) == 0);
    CHECK(k_attention_fwd_gqa(a, la, qkv, B, T, NH, NH, hd, NULL) == 0);
    CHECK(lmc_kernels_set_precision(LMC_PREC_BF16, &err) == 0);
    CHECK(k_attention_fwd_gqa(b, lb, qkv, B, T, NH, NH, hd, NULL) == 0);
    CHECK(!k_attention_bf16_usable(T, hd));
    CHECK(memcmp(a, b, N * OC * 4) == 0 && memcmp(la, lb, N * NH * 4) == 0);
    CHECK(lmc_kernels_set_precision(LMC_PREC_FP32, &err) == 0);
    free(qkv); free(a); free(b); free(la); free(lb);
}

static void run_engine(int engine, const char *name) {
    if (k_attention_bf16_force(engine)) {
        fprintf(stderr, "not exercised here: the %s engine (this CPU lacks it)\n", name);
        return;
    }
    fprintf(stderr, "engine: %s\n", name);
    CHECK(k_attention_bf16_engine() == engine);
    run_case(2, 96, 4, 2, 64, 0, 0);    /* GQA; the last query block has 32 rows */
    run_case(1, 128, 2, 2, 32, 1, 1);   /* ALiBi and document starts that are not multiples of 32 */
    run_case(1, 64, 1, 1, 128, 0, 0);
    run_case(1, 160, 3, 1, 96, 0, 1);   /* hd 96, three heads sharing one kv head, documents */
    test_fallback_shape();
    CHECK(k_attention_bf16_force(K_ATT_BF16_NONE) == 0);
}

int main(void) {
    lmc_rng_init(&rng, 7);
    lmc_kernels_set_threads(2);
    lmc_err err;
    if (!k_attention_bf16_usable(64, 64) || lmc_kernels_set_precision(LMC_PREC_BF16, &err))
        TEST_SKIP("no AMX-BF16 tiles or AVX512_BF16 on this CPU (or no bf16 GEMMs): bf16 attention runs "
                  "attention.c's fp32 kernels");
    CHECK(lmc_kernels_set_precision(LMC_PREC_FP32, &err) == 0);
    run_engine(K_ATT_BF16_AMX, "AMX tiles");
    run_engine(K_ATT_BF16_DP, "AVX512_BF16 dot products");
    CHECK(k_attention_bf16_force(99) == -1);
    return test_summary("kernels/test_attention_bf16");
}
