/* model.doc_mask (issue 15): the loss of a packed window equals the token-weighted sum of each
 * document's loss computed alone (to 1e-5 relative), and so do the gradients (every parameter, error
 * max |packed - alone| / max |alone| < 1e-5; fp32 with the same kernels on both sides, the sums differ
 * only in order). Presets gpt2 (learned positions), llama (RoPE, GQA), and ALiBi and LSSAR variants.
 * A window without any separator is bitwise the unmasked model, and masking changes a packed window. */
#include "test.h"
#include "model/gpt2.h"
#include "kernels/cpu/kernels.h"
#include "base/rng.h"

enum { V = 64, SEP = 5, T = 70 };  /* T > 64: a document crosses the kernels' query-block edge */

static double max_rel(const float *a, const float *b, size_t n) {
    double md = 0, mb = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - (double)b[i]);
        md = d > md || d != d ? (d != d ? INFINITY : d) : md;
        mb = fabs((double)b[i]) > mb ? fabs((double)b[i]) : mb;
    }
    return md / (mb > 0 ? mb : 1);
}

static gpt2_model *make(const gpt2_config *base, int doc_mask, const float *params) {
    gpt2_config c = *base;
    c.doc_mask = doc_mask;
    c.doc_sep_id = SEP;
    lmc_err err = {0};
    gpt2_model *m = NULL;
    int rc = gpt2_create(&m, &c, &err);
    CHECK_MSG(rc == 0, "%s", err.msg);
    if (rc) return NULL;
    CHECK(gpt2_enable_training(m, &err) == 0);
    if (params) memcpy(m->params, params, m->n_floats * sizeof(float));
    else gpt2_init_random(m, 77);
    return m;
}

static void variant(const char *name, int arch, int position, int attention, int kv) {
    gpt2_config c;
    gpt2_config_preset(&c, arch);
    c.n_layer = 2; c.n_head = 4; c.n_kv_head = kv; c.d_model = 32; c.max_seq = T; c.vocab_size = V;
    if (position >= 0) c.position = position;
    c.attention = attention;
    lmc_err err = {0};
    CHECK(gpt2_config_check(&c, &err) == 0);
    gpt2_model *mp = make(&c, 1, NULL);
    if (!mp) return;
    gpt2_model *ma = make(&c, 0, mp->params);
    /* documents start at these positions (each with the separator, as lmc's shards write them), except the
     * first: the window starts mid-document; a one-token document at 30 */
    const int starts[] = {0, 9, 30, 31, 52, T};
    const int nd = (int)(sizeof starts / sizeof starts[0]) - 1;
    int32_t in[T], tg[T];
    lmc_rng r;
    lmc_rng_init(&r, 15);
    for (int t = 0; t < T; t++) {
        int v;
        do v = (int)lmc_rng_below(&r, V); while (v == SEP);
        in[t] = v;
    }
    for (int k = 1; k < nd; k++) in[starts[k]] = SEP;
    for (int t = 0; t < T; t++) tg[t] = t + 1 < T ? in[t + 1] : 3;
    tg[40] = -1;  /* an ignored target counts in neither side */
    int n_valid = T - 1;
    /* packed, masked */
    float lp;
    gpt2_zero_grad(mp);
    CHECK(gpt2_forward(mp, in, tg, 1, T, &lp, &err) == 0);
    CHECK(gpt2_backward(mp, 1.0f, &err) == 0);
    /* each document alone, weighted by its share of the window's targets */
    double sum = 0;
    gpt2_zero_grad(ma);
    for (int k = 0; k < nd; k++) {
        int s = starts[k], n = starts[k + 1] - s, nv = 0;
        for (int t = s; t < s + n; t++) nv += tg[t] >= 0;
        float lk;
        CHECK(gpt2_forward(ma, in + s, tg + s, 1, n, &lk, &err) == 0);
        sum += (double)lk * nv;
        CHECK(gpt2_backward(ma, (float)nv / (float)n_valid, &err) == 0);
    }
    double alone = sum / n_valid, el = fabs(lp - alone) / fabs(alone);
    double eg = max_rel(mp->grads, ma->grads, mp->n_floats);
    printf("doc_mask %-8s packed loss %.7f, documents alone %.7f: rel %.2g; gradients %.2g\n", name, lp, alone, el, eg);
    CHECK_MSG(el < 1e-5, "%s: loss rel error %.3g", name, el);
    CHECK_MSG(eg < 1e-5, "%s: gradient rel error %.3g", name, eg);
    /* the mask matters: the unmasked model sees across documents */
    float lu;
    CHECK(gpt2_forward(ma, in, tg, 1, T, &lu, &err) == 0);
    CHECK(fabs(lu - alone) / alone > 1e-4);
    /* no separator in the window: doc_mask changes nothing, bit for bit (logits and gradients) */
    int32_t in2[2 * T], tg2[2 * T];
    for (int t = 0; t < 2 * T; t++) { in2[t] = in[t % T] == SEP ? 7 : in[t % T]; tg2[t] = tg[t % T] == SEP ? 7 : tg[t % T]; }
    gpt2_zero_grad(mp); gpt2_zero_grad(ma);
    CHECK(gpt2_forward(mp, in2, tg2, 2, T, &lp, &err) == 0);
    CHECK(gpt2_forward(ma, in2, tg2, 2, T, &lu, &err) == 0);
    CHECK(memcmp(mp->logits, ma->logits, (size_t)2 * T * c.padded_vocab * sizeof(float)) == 0);
    CHECK(gpt2_backward(mp, 1.0f, &err) == 0 && gpt2_backward(ma, 1.0f, &err) == 0);
    CHECK(memcmp(mp->grads, ma->grads, mp->n_floats * sizeof(float)) == 0);
    gpt2_free(mp);
    gpt2_free(ma);
}

static void test_config_errors(void) {
    gpt2_config c;
    gpt2_config_preset(&c, GPT2_ARCH_GPT2);
    c.n_layer = 1; c.n_head = 2; c.d_model = 16; c.max_seq = 8; c.vocab_size = V;
    c.doc_mask = 1;
    c.doc_sep_id = V;  /* not a token */
    lmc_err err = {0};
    CHECK(gpt2_config_check(&c, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "separator");
    c.doc_sep_id = -1;
    CHECK(gpt2_config_check(&c, &err) != 0);
    c.doc_sep_id = SEP;
    CHECK(gpt2_config_check(&c, &err) == 0);
}

int main(void) {
    lmc_kernels_set_threads(2);
    variant("gpt2", GPT2_ARCH_GPT2, -1, GPT2_ATTN_SOFTMAX, 0);
    variant("llama", GPT2_ARCH_LLAMA, -1, GPT2_ATTN_SOFTMAX, 2);
    variant("alibi", GPT2_ARCH_LLAMA, GPT2_POS_ALIBI, GPT2_ATTN_SOFTMAX, 4);
    variant("lssar", GPT2_ARCH_LLAMA, -1, GPT2_ATTN_LSSAR, 2);
    test_config_errors();
    return test_summary("test_docmask_model");
}
