/* lmc export --format hf is for transformers: a model whose switches transformers cannot represent
 * (issue 13's research switches, softplus attention, QK-norm) is refused with the switch named, and
 * nothing is written; a plain GPT-2 / Llama exports. */
#include <stdlib.h>
#include <string.h>
#include "test.h"
#include "base/io.h"
#include "interop/model_card.h"
#include "model/gpt2.h"
#include "tokenizer/tokenizer.h"

static int try_export(const gpt2_config *base, void (*set)(gpt2_config *), const char *out, lmc_err *err) {
    gpt2_config c = *base;
    if (set) set(&c);
    gpt2_model *m = NULL;
    if (gpt2_create(&m, &c, err)) return -100;
    model_card_opts o = {"t", NULL, NULL};
    int rc = model_card_export_hf(m, NULL, "SRC", &o, out, err);
    gpt2_free(m);
    return rc;
}

static void lns(gpt2_config *c) { c->depth_scaling = GPT2_DEPTH_LNS; }
static void lssar(gpt2_config *c) { c->attention = GPT2_ATTN_LSSAR; }
static void qkn(gpt2_config *c) { c->qk_norm = 1; }
static void mtp(gpt2_config *c) { c->mtp_heads = 2; }

int main(void) {
    char *dir = test_tmpdir();
    gpt2_config g = {0};
    g.n_layer = 1; g.n_head = 2; g.d_model = 16; g.max_seq = 8; g.vocab_size = 40;
    struct { void (*set)(gpt2_config *); const char *name; } cases[] = {
        {lns, "model.depth_scaling"}, {lssar, "model.attention"}, {qkn, "model.qk_norm"}, {mtp, "model.mtp_heads"}};
    for (int arch = 0; arch < 2; arch++) {
        gpt2_config c = g;
        if (arch) {
            gpt2_config_preset(&c, GPT2_ARCH_LLAMA);
            c.n_layer = g.n_layer; c.n_head = g.n_head; c.d_model = g.d_model; c.max_seq = g.max_seq;
            c.vocab_size = g.vocab_size;
        }
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            char out[4200];
            snprintf(out, sizeof out, "%s/out_%d_%zu", dir, arch, i);
            lmc_err err = {0};
            int rc = try_export(&c, cases[i].set, out, &err);
            CHECK_MSG(rc == LMC_EINVAL && strstr(err.msg, cases[i].name) && strstr(err.msg, "--format hf"),
                      "arch %d, %s: rc %d, '%s'", arch, cases[i].name, rc, err.msg);
            CHECK_MSG(!lmc_is_dir(out), "%s: a refused export left %s", cases[i].name, out);
        }
    }
    /* a plain GPT-2 is written, config.json and all (the eval fixture's tokenizer.json rides along) */
    const char *src = getenv("LMC_SOURCE_DIR");
    if (src) {
        char tp[4200], out[4200], cj[4300];
        snprintf(tp, sizeof tp, "%s/tests/eval/fixtures/gpt2/tokenizer.json", src);
        snprintf(out, sizeof out, "%s/plain", dir);
        gpt2_model *m = NULL;
        lmc_err err = {0};
        CHECK(gpt2_create(&m, &g, &err) == 0);
        tok_tokenizer *tok = NULL;
        CHECK_MSG(tok_load(&tok, tp, NULL, &err) == 0, "%s", err.msg);
        model_card_opts o = {"t", NULL, tp};
        int rc = tok ? model_card_export_hf(m, tok, "SRC", &o, out, &err) : -1;
        if (tok) tok_free(tok);
        CHECK_MSG(rc == 0, "plain GPT-2 not exported: %s", err.msg);
        snprintf(cj, sizeof cj, "%s/config.json", out);
        CHECK(lmc_file_exists(cj));
        gpt2_free(m);
    }
    free(dir);
    return test_summary("interop/export_refuse");
}
