/* Probe-batch diagnostics (src/eval/diag.h) on constructed cases:
 *   zero-sum learning: identical loss changes give D = 0, (+a, -a) gives D = 1, M = mean |dl|, and the
 *     identity |mean dl| = M (1 - D);
 *   GWA: the closed-form last-layer alignment equals cos(-g, W) with g the head gradient from
 *     gpt2_backward for a single-target batch (Llama fixture, untied head), at several positions; GWA is
 *     invariant to the order of the sequences in the batch. */
#include "test.h"
#include "eval/diag.h"
#include "eval/eval.h"

int main(void) {
    float a0[4] = {1, 2, 3, 4}, a1[4] = {0.5f, 1.5f, 2.5f, 3.5f}, b1[4] = {1.25f, 1.75f, 3.25f, 3.75f};
    double M, D = lmc_zsl_D(a0, a1, 4, &M);
    CHECK_CLOSE(D, 0, 1e-12, 0);
    CHECK_CLOSE(M, 0.5, 1e-12, 0);
    D = lmc_zsl_D(a0, b1, 4, &M);
    CHECK_CLOSE(D, 1, 1e-12, 0);
    float c1[4] = {0.0f, 2.5f, 2.0f, 4.0f}; /* dl = -1, +0.5, -1, 0: sum -1.5, sum|.| 2.5 */
    D = lmc_zsl_D(a0, c1, 4, &M);
    CHECK_CLOSE(D, 1 - 1.5 / 2.5, 1e-12, 0);
    CHECK_CLOSE(fabs(-1.5 / 4), M * (1 - D), 1e-12, 0);

    char dir[4096];
    snprintf(dir, sizeof dir, "%s/tests/eval/fixtures/llama", test_source_dir());
    lmc_eval_lm lm;
    lmc_err err = {0};
    if (lmc_eval_lm_open(&lm, dir, 0, -1, 0, &err)) { CHECK_MSG(0, "%s", err.msg); return 1; }
    gpt2_model *m = lm.m;
    CHECK(gpt2_enable_training(m, &err) == 0);
    const char *text = "The cat sat on the mat, and then the dog came in and sat on the cat's mat too.";
    tok_ids ids = {0};
    CHECK(tok_encode(lm.enc, text, strlen(text), 0, &ids, &err) == 0);
    enum { T = 16, B = 3 };
    CHECK(ids.n > T);
    int32_t in[B * T], tg[B * T];
    const gpt2_view *hv = gpt2_find_view(m, "lm_head.weight");
    CHECK(hv != NULL);
    size_t VC = (size_t)m->cfg.vocab_size * (size_t)m->cfg.d_model;
    for (int r = 0; r < T && hv; r += 5) {
        for (int t = 0; t < T; t++) { in[t] = (int32_t)ids.v[t]; tg[t] = t == r ? (int32_t)ids.v[t + 1] : -1; }
        CHECK(gpt2_forward(m, in, tg, 1, T, NULL, &err) == 0);
        double closed = lmc_gwa_gamma(m, (size_t)r, tg[r]);
        gpt2_zero_grad(m);
        CHECK(gpt2_backward(m, 1.0f, &err) == 0);
        const float *g = m->grads + hv->offset, *w = m->params + hv->offset;
        double gw = 0, gg = 0, ww = 0;
        for (size_t i = 0; i < VC; i++) { gw += (double)g[i] * w[i]; gg += (double)g[i] * g[i]; ww += (double)w[i] * w[i]; }
        double autograd = -gw / sqrt(gg * ww);
        CHECK_CLOSE(closed, autograd, 1e-7, 1e-4);
        printf("position %2d: gamma closed form %.9f, from the backward pass %.9f\n", r, closed, autograd);
    }
    /* order invariance: three sequences, all positions scored, in two orders */
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++) {
            size_t s = (size_t)(b * 3 + t) % (ids.n - 1);
            in[b * T + t] = (int32_t)ids.v[s];
            tg[b * T + t] = (int32_t)ids.v[s + 1];
        }
    double g1, m1, g2, m2;
    CHECK(lmc_gwa(m, in, tg, B, T, &g1, &m1, &err) == 0);
    int32_t in2[B * T], tg2[B * T];
    for (int b = 0; b < B; b++) {
        memcpy(in2 + b * T, in + (B - 1 - b) * T, T * sizeof(int32_t));
        memcpy(tg2 + b * T, tg + (B - 1 - b) * T, T * sizeof(int32_t));
    }
    CHECK(lmc_gwa(m, in2, tg2, B, T, &g2, &m2, &err) == 0);
    CHECK_CLOSE(g1, g2, 0, 1e-6);
    CHECK_CLOSE(m1, m2, 0, 1e-6);
    printf("GWA %.6f (mean gamma %.6f), reversed order %.6f\n", g1, m1, g2);
    tok_ids_free(&ids);
    lmc_eval_lm_close(&lm);
    printf("%d checks, %d failures\n", lmc_test_checks, lmc_test_failures);
    return lmc_test_failures != 0;
}
