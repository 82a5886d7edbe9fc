/* model.* switches: arch presets, each key overriding its preset, and the errors. */
#include <string.h>
#include "test.h"
#include "base/base.h"
#include "train/config.h"
#include "train/train.h"

static int mc_of(const char *yaml, gpt2_config *mc, lmc_err *err) {
    train_config c;
    train_config_defaults(&c);
    if (train_config_load_buf(&c, yaml, strlen(yaml), "cfg.yaml", err)) return -1;
    if (train_config_validate(&c, 0, err)) return -1;
    return train_model_config(&c, mc, err);
}

int main(void) {
    lmc_err err;
    gpt2_config mc;
    /* gpt2 (default): all switches 0 */
    CHECK(mc_of("model: {vocab_size: 300}\n", &mc, &err) == 0);
    CHECK(mc.arch == GPT2_ARCH_GPT2 && mc.norm == GPT2_NORM_LAYERNORM && mc.position == GPT2_POS_LEARNED &&
          mc.mlp == GPT2_MLP_GELU && !mc.no_bias && !mc.untied && mc.n_kv_head == mc.n_head && mc.d_ff == 4 * mc.d_model);
    /* llama preset */
    CHECK(mc_of("model: {arch: llama, vocab_size: 300, d_model: 384, n_head: 6, n_kv_head: 2}\n", &mc, &err) == 0);
    CHECK(mc.arch == GPT2_ARCH_LLAMA && mc.norm == GPT2_NORM_RMSNORM && mc.position == GPT2_POS_ROPE &&
          mc.mlp == GPT2_MLP_SWIGLU && mc.no_bias && mc.untied && mc.n_kv_head == 2 && mc.rope_theta == 10000.0f);
    CHECK_EQ_INT(mc.d_ff, 1024);  /* 8*384/3 = 1024, a multiple of 256 */
    CHECK_EQ_INT(gpt2_default_d_ff(128, GPT2_MLP_SWIGLU), 512);  /* 341 -> 512 */
    CHECK_EQ_INT(gpt2_default_d_ff(4096, GPT2_MLP_SWIGLU), 11008);  /* Llama-7B */
    /* every key overrides the preset */
    CHECK(mc_of("model: {arch: llama, vocab_size: 300, norm: layernorm, position: alibi, mlp: gelu, bias: true,\n"
                "        tie_embeddings: true, d_ff: 100, norm_eps: 1e-6, rope_theta: 500000}\n", &mc, &err) == 0);
    CHECK(mc.arch == GPT2_ARCH_LLAMA && mc.norm == GPT2_NORM_LAYERNORM && mc.position == GPT2_POS_ALIBI &&
          mc.mlp == GPT2_MLP_GELU && !mc.no_bias && !mc.untied && mc.d_ff == 100);
    CHECK_CLOSE(mc.ln_eps, 1e-6, 0, 1e-6);
    CHECK_CLOSE(mc.rope_theta, 500000, 0, 0);
    /* errors name the key */
    CHECK(mc_of("model: {norm: batchnorm}\n", &mc, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "model.norm");
    CHECK(mc_of("model: {arch: mamba}\n", &mc, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "model.arch");
    CHECK(mc_of("model: {n_head: 4, n_kv_head: 3, vocab_size: 10}\n", &mc, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "n_kv_head");
    CHECK(mc_of("model: {bias: maybe}\n", &mc, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "model.bias");
    return test_summary("train/model_switches");
}
