/* lmc eval --diag's computation (src/model/posdiag.c) on constructed models where the answer is known:
 * ALiBi with zero q/k weights has all logit variance in the bias (share 1); RoPE on 1-token windows
 * rotates nothing (share 0); learned positions split exactly (the parts add up to q, k) and a zero
 * position table leaves only content-content (cc = 1), a zero token table only position-position;
 * NoPE has no positional logit term (NaN); ablating a head whose output projection is zero costs
 * exactly 0, ablating a live head does not; the mask is removed afterwards. */
#include "test.h"
#include "model/posdiag.h"

static gpt2_model *make(gpt2_config c, uint64_t seed) {
    c.n_layer = 2; c.n_head = 4; c.d_model = 32; c.max_seq = 16; c.vocab_size = 50;
    gpt2_model *m = NULL;
    lmc_err err;
    if (gpt2_create(&m, &c, &err)) { fprintf(stderr, "%s\n", err.msg); exit(1); }
    gpt2_init_random(m, seed);
    for (size_t i = 0; i < m->n_floats; i++) m->params[i] *= 10.0f;
    return m;
}

static void batch(int32_t *x, int32_t *y, int n) { for (int i = 0; i < n; i++) { x[i] = (i * 7 + 3) % 50; y[i] = (i * 5 + 1) % 50; } }

int main(void) {
    lmc_err err;
    int32_t x[64], y[64];
    batch(x, y, 64);
    posdiag d;
    gpt2_config c;

    /* ALiBi, q and k columns of c_attn zero (and no biases): the logit is the bias alone */
    gpt2_config_preset(&c, GPT2_ARCH_GPT2);
    c.position = GPT2_POS_ALIBI; c.no_bias = 1;
    gpt2_model *m = make(c, 1);
    for (int l = 0; l < 2; l++) {
        gpt2_layer L = gpt2_layer_ptrs(m, m->params, l);
        int Q = 3 * 32;
        for (int i = 0; i < 32; i++) memset(L.qkv_w + (size_t)i * Q, 0, 64 * sizeof(float));
    }
    CHECK(posdiag_run(m, x, y, 4, 16, &d, &err) == 0);
    for (int k = 0; k < 8; k++) CHECK_CLOSE(d.pos_share[k], 1.0, 1e-9, 0);
    CHECK_EQ_INT(d.pairs, 4 * 16 * 17 / 2);
    posdiag_free(&d);
    gpt2_free(m);

    /* RoPE on windows of one token: position 0 is the identity rotation */
    gpt2_config_preset(&c, GPT2_ARCH_LLAMA);
    m = make(c, 2);
    CHECK(posdiag_run(m, x, y, 16, 1, &d, &err) == 0);
    for (int k = 0; k < 8; k++) CHECK_CLOSE(d.pos_share[k], 0.0, 1e-12, 0);
    posdiag_free(&d);
    /* and on real windows a share in (0, 2): RoPE moves the logits */
    CHECK(posdiag_run(m, x, y, 4, 16, &d, &err) == 0);
    for (int k = 0; k < 8; k++) CHECK(d.pos_share[k] > 0.01 && d.pos_share[k] < 2);
    /* ablation: zero head 1's rows of layer 0's output projection -> its ablation is free */
    posdiag_free(&d);
    gpt2_layer L0 = gpt2_layer_ptrs(m, m->params, 0);
    memset(L0.proj_w + 8 * 32, 0, 8 * 32 * sizeof(float));  /* Conv1D [in, out]: in rows 8..15 = head 1 */
    CHECK(posdiag_run(m, x, y, 4, 16, &d, &err) == 0);
    CHECK(d.ablate[1] == 0.0);
    CHECK(fabs(d.ablate[0]) > 1e-4 && fabs(d.ablate[2]) > 1e-4);
    CHECK(m->head_mask == NULL && m->attn_probe == NULL);
    float loss;
    CHECK(gpt2_forward(m, x, y, 4, 16, &loss, &err) == 0);
    CHECK_CLOSE(loss, d.base_loss, 0, 1e-7);
    posdiag_free(&d);
    gpt2_free(m);

    /* learned positions: exact split; zero wpe -> content only; zero wte -> position only */
    for (int zero = 0; zero < 3; zero++) {
        gpt2_config_preset(&c, GPT2_ARCH_GPT2);
        if (zero) c.no_bias = 1;  /* the norm bias counts as content */
        m = make(c, 3);
        if (zero == 1) memset(m->wpe, 0, (size_t)16 * 32 * sizeof(float));
        if (zero == 2) memset(m->wte, 0, (size_t)50 * 32 * sizeof(float));
        CHECK(posdiag_run(m, x, y, 4, 16, &d, &err) == 0);
        CHECK(d.terms != NULL);
        CHECK_MSG(d.recon_err < 1e-5, "split error %.3g", d.recon_err);
        for (int h = 0; h < 4 && d.terms; h++) {
            const double *t = d.terms + h * 4;
            if (zero == 1) { CHECK_CLOSE(t[0], 1.0, 1e-6, 0); CHECK_CLOSE(d.pos_share[h], 0.0, 1e-6, 0); }
            if (zero == 2) { CHECK_CLOSE(t[3], 1.0, 1e-6, 0); CHECK_CLOSE(d.pos_share[h], 1.0, 1e-6, 0); }
            if (zero == 0) CHECK(t[0] > 0 && t[1] > 0 && t[2] > 0 && t[3] > 0);
        }
        for (int h = 4; h < 8; h++) CHECK(isnan(d.pos_share[h]));  /* layer 1: no exact split */
        posdiag_free(&d);
        gpt2_free(m);
    }

    /* NoPE: nothing positional in the logits */
    gpt2_config_preset(&c, GPT2_ARCH_GPT2);
    c.position = GPT2_POS_NONE;
    m = make(c, 4);
    CHECK(posdiag_run(m, x, y, 4, 16, &d, &err) == 0);
    for (int k = 0; k < 8; k++) CHECK(isnan(d.pos_share[k]));
    posdiag_free(&d);
    gpt2_free(m);
    return test_summary("model/posdiag");
}
