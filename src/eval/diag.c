/* Zero-sum learning D(dl) and gradient-weight alignment on a probe batch (see diag.h). */
#include "eval/diag.h"
#include <math.h>
#include <stdlib.h>

double lmc_zsl_D(const float *l0, const float *l1, size_t n, double *mean_abs) {
    double s = 0, a = 0;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        double d = (double)l1[i] - (double)l0[i];
        if (!isfinite(d)) continue;
        s += d;
        a += fabs(d);
        k++;
    }
    if (mean_abs) *mean_abs = k ? a / (double)k : 0;
    return a > 0 ? 1 - fabs(s) / a : 0;
}

static double head_norm2(const gpt2_model *m) {
    double ww = 0;
    for (size_t i = 0; i < (size_t)m->cfg.vocab_size * (size_t)m->cfg.d_model; i++) ww += (double)m->lm_head[i] * m->lm_head[i];
    return ww;
}

static double gamma_at(const gpt2_model *m, size_t r, int y, double ww) {
    const int V = m->cfg.vocab_size, Vp = m->cfg.padded_vocab, C = m->cfg.d_model;
    const float *lg = m->logits + r * (size_t)Vp, *z = gpt2_final_features(m) + r * (size_t)C;
    double mx = lg[0];
    for (int v = 1; v < V; v++) if (lg[v] > mx) mx = lg[v];
    double se = 0;
    for (int v = 0; v < V; v++) se += exp(lg[v] - mx);
    double ep = 0, pp = 0; /* E_p[logit], ||p - e_y||^2 */
    for (int v = 0; v < V; v++) {
        double p = exp(lg[v] - mx) / se;
        ep += p * lg[v];
        double d = p - (v == y);
        pp += d * d;
    }
    double zz = 0;
    for (int c = 0; c < C; c++) zz += (double)z[c] * z[c];
    double den = sqrt(pp * zz * ww);
    return den > 0 ? ((double)lg[y] - ep) / den : 0;
}

double lmc_gwa_gamma(const gpt2_model *m, size_t r, int y) { return gamma_at(m, r, y, head_norm2(m)); }

int lmc_gwa(gpt2_model *m, const int32_t *in, const int32_t *tg, int B, int T, double *gwa, double *mean_gamma,
            lmc_err *err) {
    int lo = gpt2_set_loss_only(m, 0);   /* gamma needs every row's logits */
    int rc = gpt2_forward(m, in, tg, B, T, NULL, err);
    gpt2_set_loss_only(m, lo);
    if (rc) return -1;
    size_t N = (size_t)B * (size_t)T, n = 0;
    double *g = malloc(N * sizeof *g);
    if (!g) return lmc_errf(err, LMC_ENOMEM, "out of memory");
    double s1 = 0, ww = head_norm2(m);
    for (size_t r = 0; r < N; r++) {
        if (tg[r] < 0) continue;
        g[n] = gamma_at(m, r, tg[r], ww);
        s1 += g[n++];
    }
    double m1 = n ? s1 / (double)n : 0, m2 = 0, m4 = 0;
    for (size_t i = 0; i < n; i++) {
        double d = g[i] - m1;
        m2 += d * d;
        m4 += d * d * d * d;
    }
    free(g);
    if (n) { m2 /= (double)n; m4 /= (double)n; }
    *mean_gamma = m1;
    *gwa = m2 > 0 ? m1 / (m4 / (m2 * m2) - 3 + 1.2) : 0;
    return 0;
}
