/* KV-cache decoding for the family's variants (RoPE + GQA, MQA + ALiBi, NoPE + RMSNorm, learned +
 * SwiGLU): the cache holds n_kv_head heads only, and cached logits equal full recomputation at every
 * position (to rounding) and generated tokens equal it exactly. */
#include <math.h>
#include <string.h>
#include "test.h"
#include "gen/gen.h"
#include "model/gpt2.h"

static void variant(const char *name, gpt2_config c) {
    lmc_err err;
    gpt2_model *m;
    c.n_layer = 2; c.n_head = 4; c.d_model = 32; c.max_seq = 40; c.vocab_size = 70;
    if (gpt2_create(&m, &c, &err)) { fprintf(stderr, "%s\n", err.msg); exit(1); }
    gpt2_init_random(m, 3);
    for (size_t i = 0; i < m->n_floats; i++) m->params[i] *= 6.0f;  /* away from uniform outputs */
    int V = m->cfg.vocab_size, Vp = m->cfg.padded_vocab, T = 33;
    int32_t seq[40];
    for (int i = 0; i < T; i++) seq[i] = (i * 11 + 5) % V;
    CHECK(gpt2_forward(m, seq, NULL, 1, T, NULL, &err) == 0);
    gen_kv kv;
    CHECK(gen_kv_init(&kv, m, T, &err) == 0);
    CHECK_EQ_INT(kv.kvw, m->cfg.n_kv_head * (32 / 4));
    double maxdiff = 0, maxabs = 0;
    for (int t = 0; t < T; t++) {
        CHECK(gen_kv_step(&kv, m, seq[t], &err) == 0);
        for (int v = 0; v < V; v++) {
            double d = fabs((double)kv.logits[v] - m->logits[(size_t)t * Vp + v]);
            if (d > maxdiff) maxdiff = d;
            if (fabs(kv.logits[v]) > maxabs) maxabs = fabs(kv.logits[v]);
        }
    }
    printf("%-14s KV vs full: max |diff| %.3g (max |logit| %.3g), cached row %d floats\n", name, maxdiff, maxabs, kv.kvw);
    CHECK_MSG(maxdiff <= 1e-5 * (1 + maxabs), "%s: KV logits differ by %g", name, maxdiff);
    gen_kv_free(&kv);
    gen_params ps[] = {{30, 0.0f, 0, 1.0f, -1}, {30, 1.0f, 0, 1.0f, -1}, {30, 0.8f, 10, 0.95f, -1}};
    int32_t prompt[2] = {4, 9};
    for (size_t k = 0; k < sizeof ps / sizeof ps[0]; k++) {
        int32_t a[40], b[40];
        int na, nb;
        lmc_rng r1, r2;
        lmc_rng_init(&r1, 50 + k);
        lmc_rng_init(&r2, 50 + k);
        CHECK(gen_generate(m, prompt, 2, &ps[k], &r1, a, &na, NULL, NULL, &err) == 0);
        CHECK(gen_generate_full(m, prompt, 2, &ps[k], &r2, b, &nb, &err) == 0);
        CHECK_MSG(na == nb && !memcmp(a, b, (size_t)na * sizeof *a), "%s setting %zu: KV and full disagree", name, k);
    }
    gpt2_free(m);
}

int main(void) {
    gpt2_config c;
    gpt2_config_preset(&c, GPT2_ARCH_LLAMA);
    c.n_kv_head = 2;
    variant("llama GQA", c);
    gpt2_config_preset(&c, GPT2_ARCH_LLAMA);
    c.n_kv_head = 1; c.position = GPT2_POS_ALIBI; c.untied = 0;
    variant("MQA ALiBi", c);
    gpt2_config_preset(&c, GPT2_ARCH_GPT2);
    c.position = GPT2_POS_NONE; c.norm = GPT2_NORM_RMSNORM; c.no_bias = 1;
    variant("NoPE RMSNorm", c);
    gpt2_config_preset(&c, GPT2_ARCH_GPT2);
    c.mlp = GPT2_MLP_SWIGLU; c.n_kv_head = 2; c.position = GPT2_POS_ROPE;
    variant("LN RoPE SwiGLU", c);
    /* issue 13: QK-norm and softplus attention in the KV-cache path */
    gpt2_config_preset(&c, GPT2_ARCH_LLAMA);
    c.n_kv_head = 2; c.qk_norm = 1; c.attention = GPT2_ATTN_LSSAR; c.lssar_power = 15;
    variant("GQA qk LSSAR15", c);
    gpt2_config_preset(&c, GPT2_ARCH_GPT2);
    c.attention = GPT2_ATTN_LSSA;
    variant("learned LSSA", c);
    gpt2_config_preset(&c, GPT2_ARCH_LLAMA);
    c.qk_norm = 1;
    variant("llama qk_norm", c);
    return test_summary("gen/gen_family");
}
