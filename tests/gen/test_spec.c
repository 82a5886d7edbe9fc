/* Speculative sampling (src/gen/spec.h): exact in distribution and greedy-identical.
 * Target: the lmc-trained tiny Llama fixture. Drafts: the tiny GPT-2 fixture (same vocabulary size,
 * other tokenizer: mostly rejections, so the residual path is exercised) and the target with noisy
 * weights (mostly acceptances), each also with an FR-Spec vocabulary of 128 ids.
 *  - the first and second generated tokens over many fixed seeds follow the exact target marginals
 *    (p(x1 | prompt); sum over x1 of p(x1) p(x2 | prompt x1), computed with one batched forward) within
 *    a chi-square bound (p = 0.0005), at temperature 1 and at temperature 0.8 with top-k 40; plain
 *    sampling is put through the same test;
 *  - temperature 0 gives gen_generate's tokens exactly;
 *  - acceptance falls as FR-Spec's K shrinks. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "test.h"
#include "gen/gen.h"
#include "gen/spec.h"
#include "model/gpt2.h"

/* samples per distribution test: fewer under the sanitizers (about 10x slower), same bound */
#if defined(__SANITIZE_ADDRESS__)
enum { NSAMP = 300 };
#else
enum { NSAMP = 3000 };
#endif

static gpt2_model *load(const char *arch) {
    char p[4200];
    snprintf(p, sizeof p, "%s/tests/interop/fixtures/gguf/tiny_%s", test_source_dir(), arch);
    gpt2_model *m;
    lmc_err err;
    if (gpt2_load_hf(p, &m, &err)) { fprintf(stderr, "%s\n", err.msg); exit(1); }
    return m;
}

static const int32_t prompt[] = {30, 31, 27, 12};
enum { NP = 4 };

/* exact marginals of positions 1 and 2 under the sampling distribution of gp */
static void exact(gpt2_model *t, const gen_params *gp, double *p1, double *p2) {
    int V = t->cfg.vocab_size, Vp = t->cfg.padded_vocab;
    void *scr = malloc(gen_sample_scratch_bytes(V));
    lmc_err err;
    int32_t *x = malloc((size_t)V * (NP + 1) * sizeof *x);
    for (int v = 0; v < V; v++) {
        memcpy(x + (size_t)v * (NP + 1), prompt, sizeof prompt);
        x[(size_t)v * (NP + 1) + NP] = v;
    }
    CHECK(gpt2_forward(t, x, NULL, V, NP + 1, NULL, &err) == 0);
    spec_distribution(t->logits + (size_t)(NP - 1) * Vp, V, gp, p1, scr);
    double *q = malloc((size_t)V * sizeof *q);
    for (int v = 0; v < V; v++) p2[v] = 0;
    for (int v = 0; v < V; v++) {
        if (p1[v] == 0) continue;
        spec_distribution(t->logits + ((size_t)v * (NP + 1) + NP) * Vp, V, gp, q, scr);
        for (int u = 0; u < V; u++) p2[u] += p1[v] * q[u];
    }
    free(q); free(x); free(scr);
}

/* chi-square of counts against probabilities: bins with expectation >= 5, the rest pooled */
static int chi2_ok(const char *what, const int *cnt, const double *p, int V, int N) {
    double chi = 0, rest_e = 0, rest_o = 0;
    int bins = 0;
    for (int v = 0; v < V; v++) {
        double e = p[v] * N;
        if (e >= 5) { chi += (cnt[v] - e) * (cnt[v] - e) / e; bins++; }
        else { rest_e += e; rest_o += cnt[v]; if (p[v] == 0 && cnt[v]) { printf("%s: token %d has probability 0 but was drawn\n", what, v); return 0; } }
    }
    if (rest_e >= 5) { chi += (rest_o - rest_e) * (rest_o - rest_e) / rest_e; bins++; }
    double df = bins - 1, z = 3.29;
    double crit = df * pow(1 - 2 / (9 * df) + z * sqrt(2 / (9 * df)), 3);
    printf("%s: chi2 %.1f on %g dof (bound %.1f at p = 0.0005)\n", what, chi, df, crit);
    return chi <= crit;
}

static void dist_test(gpt2_model *t, gpt2_model *d, const spec_opts *so, const gen_params *gp0, int N, const char *name) {
    int V = t->cfg.vocab_size;
    double *p1 = malloc((size_t)V * 8), *p2 = malloc((size_t)V * 8);
    exact(t, gp0, p1, p2);
    int *c1 = calloc((size_t)V, sizeof *c1), *c2 = calloc((size_t)V, sizeof *c2);
    int *e1 = calloc((size_t)V, sizeof *e1), *e2 = calloc((size_t)V, sizeof *e2);
    gen_params gp = *gp0;
    gp.max_tokens = 3;
    lmc_err err;
    spec_stats tot = {0};
    for (int s = 0; s < N; s++) {
        lmc_rng r;
        lmc_rng_init(&r, 1000 + (uint64_t)s);
        int32_t out[8];
        int n;
        spec_stats st;
        int rc = spec_generate(t, d, prompt, NP, &gp, so, &r, out, &n, &st, NULL, NULL, &err);
        if (rc || n != 3) { CHECK_MSG(0, "%s", err.msg); break; }
        c1[out[0]]++;
        c2[out[1]]++;
        tot.drafted += st.drafted;
        tot.accepted += st.accepted;
    }
    for (int s = 0; s < N; s++) { /* plain sampling through the same test */
        lmc_rng r;
        lmc_rng_init(&r, 5000000 + (uint64_t)s);
        int32_t out[8];
        int n;
        CHECK(gen_generate(t, prompt, NP, &gp, &r, out, &n, NULL, NULL, &err) == 0);
        e1[out[0]]++;
        e2[out[1]]++;
    }
    char w[128];
    printf("%s: acceptance %.3f\n", name, (double)tot.accepted / (double)(tot.drafted ? tot.drafted : 1));
    snprintf(w, sizeof w, "%s speculative pos 1", name); CHECK(chi2_ok(w, c1, p1, V, N));
    snprintf(w, sizeof w, "%s speculative pos 2", name); CHECK(chi2_ok(w, c2, p2, V, N));
    snprintf(w, sizeof w, "%s plain pos 1", name); CHECK(chi2_ok(w, e1, p1, V, N));
    snprintf(w, sizeof w, "%s plain pos 2", name); CHECK(chi2_ok(w, e2, p2, V, N));
    free(p1); free(p2); free(c1); free(c2); free(e1); free(e2);
}

static double acceptance(gpt2_model *t, gpt2_model *d, const spec_opts *so, int runs) {
    gen_params gp = {24, 1.0f, 0, 1.0f, -1};
    lmc_err err;
    int64_t a = 0, dr = 0;
    for (int s = 0; s < runs; s++) {
        lmc_rng r;
        lmc_rng_init(&r, 77 + (uint64_t)s);
        int32_t out[32];
        int n;
        spec_stats st;
        CHECK(spec_generate(t, d, prompt, NP, &gp, so, &r, out, &n, &st, NULL, NULL, &err) == 0);
        a += st.accepted;
        dr += st.drafted;
    }
    return (double)a / (double)dr;
}

int main(void) {
    gpt2_model *t = load("llama"), *g = load("gpt2"), *noisy = load("llama");
    lmc_rng r;
    lmc_rng_init(&r, 3);
    for (size_t i = 0; i < noisy->n_floats; i++) noisy->params[i] *= 1.0f + 0.15f * lmc_rng_normal(&r);
    int V = t->cfg.vocab_size;
    /* FR-Spec vocabulary: ids 0..127 of a fixed ranking (any set is exact; rank by the target's unigram use) */
    int32_t vh[128];
    for (int i = 0; i < 128; i++) vh[i] = (i * 37) % V;
    spec_opts full = {3, NULL, 0}, fr = {3, vh, 128};

    /* greedy: token for token */
    gen_params gg = {48, 0.0f, 0, 1.0f, -1};
    lmc_err err;
    int32_t ref[64], out[64];
    int nr, n;
    lmc_rng_init(&r, 1);
    CHECK(gen_generate(t, prompt, NP, &gg, &r, ref, &nr, NULL, NULL, &err) == 0);
    gpt2_model *drafts[2] = {g, noisy};
    const spec_opts *sos[2] = {&full, &fr};
    for (int di = 0; di < 2; di++)
        for (int k = 0; k < 2; k++) {
            spec_stats st;
            CHECK(spec_generate(t, drafts[di], prompt, NP, &gg, sos[k], &r, out, &n, &st, NULL, NULL, &err) == 0);
            CHECK_MSG(n == nr && !memcmp(out, ref, (size_t)n * sizeof *out), "greedy differs (draft %d, frspec %d)", di, k);
            printf("greedy draft %d frspec %d: identical %d tokens, %lld target passes\n", di, k, n, (long long)st.rounds);
        }

    gen_params t1 = {3, 1.0f, 0, 1.0f, -1}, t08 = {3, 0.8f, 40, 1.0f, -1};
    dist_test(t, g, &full, &t1, NSAMP, "gpt2-draft T=1");
    dist_test(t, noisy, &fr, &t1, NSAMP, "noisy-draft frspec-128 T=1");
    dist_test(t, noisy, &full, &t08, NSAMP, "noisy-draft T=0.8 top-k 40");

    /* FR-Spec: acceptance falls as K shrinks (the noisy draft, the target's own most likely ids first) */
    double *p1 = malloc((size_t)V * 8), *p2 = malloc((size_t)V * 8);
    exact(t, &t1, p1, p2);
    int32_t rank[512];
    for (int i = 0; i < V; i++) rank[i] = i;
    for (int i = 0; i < V; i++) /* selection sort by the position-2 marginal: a proxy for corpus frequency */
        for (int j = i + 1; j < V; j++)
            if (p2[rank[j]] > p2[rank[i]]) { int32_t x = rank[i]; rank[i] = rank[j]; rank[j] = x; }
    double acc[3];
    int Ks[3] = {512, 128, 16};
    for (int i = 0; i < 3; i++) {
        spec_opts so = {3, Ks[i] < V ? rank : NULL, Ks[i]};
        acc[i] = acceptance(t, noisy, &so, NSAMP / 40);
        printf("frspec K=%d: acceptance %.3f\n", Ks[i], acc[i]);
    }
    CHECK(acc[0] > acc[2] && acc[1] > acc[2]);
    free(p1); free(p2);
    gpt2_free(t); gpt2_free(g); gpt2_free(noisy);
    return test_summary("test_spec");
}
