/* GPT-2 training-state behaviour: seeded init statistics, bitwise determinism (same seed and thread
 * count -> identical weights after N steps), loss goes down when overfitting one batch, HF save/load
 * round trip is exact, and bad inputs are refused with a message. */
#include "test.h"
#include "model/gpt2.h"
#include "kernels/cpu/kernels.h"
#include "base/rng.h"
#include "base/io.h"

static gpt2_config small_cfg(void) {
    gpt2_config c = {.n_layer = 2, .n_head = 2, .d_model = 32, .max_seq = 32, .vocab_size = 300};
    return c;
}

static void run_steps(gpt2_model *m, int steps, uint64_t data_seed, float *last_loss) {
    lmc_err err;
    lmc_rng r;
    lmc_rng_init(&r, data_seed);
    int B = 2, T = 16;
    int32_t x[32], y[32];
    gpt2_adamw hp = {3e-3f, 0.9f, 0.95f, 1e-8f, 0.1f};
    for (int s = 0; s < steps; s++) {
        for (int i = 0; i < B * T; i++) { x[i] = (int32_t)lmc_rng_below(&r, 300); y[i] = (int32_t)lmc_rng_below(&r, 300); }
        gpt2_zero_grad(m);
        for (int micro = 0; micro < 2; micro++) {
            CHECK(gpt2_forward(m, x, y, B, T, last_loss, &err) == 0);
            CHECK(gpt2_backward(m, 0.5f, &err) == 0);
        }
        gpt2_clip_grad(m, 1.0);
        CHECK(gpt2_adamw_step(m, &hp, &err) == 0);
    }
}

int main(void) {
    lmc_kernels_set_threads(2);
    lmc_err err;
    gpt2_config c = small_cfg();
    gpt2_model *a = NULL, *b = NULL;
    CHECK(gpt2_create(&a, &c, &err) == 0);
    CHECK(gpt2_create(&b, &c, &err) == 0);
    CHECK_EQ_INT(a->cfg.padded_vocab, 384);
    CHECK_EQ_INT(gpt2_param_count(&a->cfg), 300 * 32 + 32 * 32 + 2 * 32 + 2 * (12 * 32 * 32 + 13 * 32));

    /* init: seeded, reproducible, GPT-2 statistics */
    gpt2_init_random(a, 7);
    gpt2_init_random(b, 7);
    CHECK(memcmp(a->params, b->params, a->n_floats * sizeof(float)) == 0);
    gpt2_init_random(b, 8);
    CHECK(memcmp(a->params, b->params, a->n_floats * sizeof(float)) != 0);
    const gpt2_view *wte = gpt2_find_view(a, "transformer.wte.weight");
    const gpt2_view *cp = gpt2_find_view(a, "h.1.mlp.c_proj.weight");
    const gpt2_view *lnw = gpt2_find_view(a, "h.0.ln_1.weight");
    const gpt2_view *lnb = gpt2_find_view(a, "h.0.ln_2.bias");
    CHECK(wte && cp && lnw && lnb && !gpt2_find_view(a, "h.2.ln_1.weight"));
    double s2 = 0;
    for (size_t i = 0; i < wte->numel; i++) s2 += (double)a->params[wte->offset + i] * a->params[wte->offset + i];
    CHECK_CLOSE(sqrt(s2 / wte->numel), 0.02, 0, 0.05);
    s2 = 0;
    for (size_t i = 0; i < cp->numel; i++) s2 += (double)a->params[cp->offset + i] * a->params[cp->offset + i];
    CHECK_CLOSE(sqrt(s2 / cp->numel), 0.02 / sqrt(4.0), 0, 0.1);
    CHECK(a->params[lnw->offset] == 1.0f && a->params[lnb->offset] == 0.0f);
    CHECK(wte->decay == 1 && lnw->decay == 0 && cp->decay == 1);
    for (size_t i = wte->numel; i < (size_t)384 * 32; i++) CHECK(a->params[wte->offset + i] == 0.0f);

    /* determinism: same seed, same threads -> bitwise-equal weights and optimizer state */
    gpt2_init_random(b, 7);
    CHECK(gpt2_enable_training(a, &err) == 0 && gpt2_enable_training(b, &err) == 0);
    float la = 0, lb = 0;
    run_steps(a, 6, 99, &la);
    run_steps(b, 6, 99, &lb);
    CHECK(la == lb);
    CHECK(memcmp(a->params, b->params, a->n_floats * sizeof(float)) == 0);
    CHECK(memcmp(a->m, b->m, a->n_floats * sizeof(float)) == 0);
    CHECK(memcmp(a->v, b->v, a->n_floats * sizeof(float)) == 0);
    CHECK_EQ_INT(a->step, 6);

    /* overfitting one batch drives the loss down */
    int32_t x[32], y[32];
    for (int i = 0; i < 32; i++) { x[i] = (i * 7) % 300; y[i] = (i * 13 + 5) % 300; }
    gpt2_adamw hp = {1e-2f, 0.9f, 0.95f, 1e-8f, 0.0f};
    float first = 0, last = 0;
    for (int s = 0; s < 30; s++) {
        gpt2_zero_grad(a);
        CHECK(gpt2_forward(a, x, y, 2, 16, s == 0 ? &first : &last, &err) == 0);
        CHECK(gpt2_backward(a, 1.0f, &err) == 0);
        CHECK(gpt2_adamw_step(a, &hp, &err) == 0);
    }
    printf("overfit: %.4f -> %.4f\n", first, last);
    CHECK(last < 0.3f * first);

    /* HF save -> load round trip is exact */
    char *dir = test_tmpdir();
    char sub[4200];
    snprintf(sub, sizeof sub, "%s/ckpt", dir);
    CHECK_MSG(gpt2_save_hf(a, sub, &err) == 0, "%s", err.msg);
    gpt2_model *c2 = NULL;
    CHECK_MSG(gpt2_load_hf(sub, &c2, &err) == 0, "%s", err.msg);
    if (c2) {
        CHECK(c2->cfg.n_layer == 2 && c2->cfg.vocab_size == 300 && c2->cfg.max_seq == 32);
        CHECK(memcmp(a->params, c2->params, a->n_floats * sizeof(float)) == 0);
        /* load into a model of another shape is refused with a shape message */
        gpt2_config o = small_cfg();
        o.d_model = 64;
        gpt2_model *bad = NULL;
        CHECK(gpt2_create(&bad, &o, &err) == 0);
        CHECK(gpt2_load_hf_into(bad, sub, &err) != 0);
        CHECK_STR_CONTAINS(err.msg, "shape");
        gpt2_free(bad);
        gpt2_free(c2);
    }

    /* bad arguments */
    int32_t bad_tok[2] = {0, 300};
    CHECK(gpt2_forward(a, bad_tok, NULL, 1, 2, NULL, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "outside");
    CHECK(gpt2_forward(a, x, NULL, 1, 33, NULL, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "n_positions");
    gpt2_config badc = {.n_layer = 2, .n_head = 3, .d_model = 32, .max_seq = 32, .vocab_size = 300};
    gpt2_model *nm = NULL;
    CHECK(gpt2_create(&nm, &badc, &err) != 0 && nm == NULL);
    CHECK_STR_CONTAINS(err.msg, "divisible");
    gpt2_adamw badhp = {1e-3f, 1.0f, 0.95f, 1e-8f, 0.0f};
    CHECK(gpt2_adamw_step(a, &badhp, &err) != 0);

    gpt2_free(a);
    gpt2_free(b);
    lmc_remove_tree(dir, &err);
    free(dir);
    return test_summary("gpt2_train");
}
