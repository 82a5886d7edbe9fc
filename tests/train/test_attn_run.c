/* The issue-13 attention switches end to end (model.attention lssa|lssar, model.qk_norm): a tiny run
 * trains (loss falls), the checkpoint keeps the switches in config.json's lmc_switches (HF cannot
 * express them) and the q_norm/k_norm tensors, reloads to the same config and the same logits, and a
 * run stopped at step 4 and resumed gives metrics identical to the uninterrupted run. For arch llama
 * (Qwen3 tensor names) and arch gpt2 (lmc names). */
#include "test.h"
#include "tiny_run.h"
#include "train/train.h"
#include "model/gpt2.h"
#include "base/json.h"

static int run_opts(train_config *c, int resume, int64_t stop_at, train_result *res, lmc_err *err) {
    train_opts o;
    memset(&o, 0, sizeof o);
    o.resume = resume;
    o.stop_at = stop_at;
    return train_run(c, &o, res, err);
}

static void one(const char *dir, const char *name, const char *arch, const char *attention, int qk) {
    lmc_err err = {0};
    train_config c;
    train_result res;
    tiny_config(&c, dir, name);
    snprintf(c.arch, sizeof c.arch, "%s", arch);
    snprintf(c.attention, sizeof c.attention, "%s", attention);
    snprintf(c.qk_norm, sizeof c.qk_norm, "%s", qk ? "true" : "false");
    c.lssar_power = 3;
    c.n_head = 2;
    c.steps = 10;
    c.checkpoint_every = 0;
    CHECK_MSG(run_opts(&c, 0, 0, &res, &err) == 0, "%s: %s", name, err.msg);
    CHECK_EQ_INT(res.step, 10);
    printf("%-22s last loss %.4f, val %.4f\n", name, res.last_loss, res.last_val_loss);
    CHECK(res.last_loss < 4.0);  /* ln 64 = 4.16 at the start */
    char p[4400];
    snprintf(p, sizeof p, "%s/config.json", res.last_ckpt);
    json_t *j = lmc_json_load_file(p, &err);
    json_t *s = j ? json_object_get(j, "lmc_switches") : NULL;
    CHECK_MSG(s != NULL, "%s: no lmc_switches in %s", name, p);
    if (s) {
        CHECK(!strcmp(json_string_value(json_object_get(s, "attention")), attention));
        CHECK(json_is_true(json_object_get(s, "qk_norm")) == qk);
        CHECK_EQ_INT(json_integer_value(json_object_get(s, "lssar_power")), 3);
    }
    json_decref(j);
    gpt2_model *m = NULL;
    CHECK_MSG(gpt2_load_hf(res.last_ckpt, &m, &err) == 0, "%s", err.msg);
    if (m) {
        int want = !strcmp(attention, "lssa") ? GPT2_ATTN_LSSA : !strcmp(attention, "lssar") ? GPT2_ATTN_LSSAR : 0;
        CHECK_EQ_INT(m->cfg.attention, want);
        CHECK_EQ_INT(m->cfg.qk_norm, qk);
        CHECK_EQ_INT(m->cfg.lssar_power, 3);
        CHECK((gpt2_find_view(m, "h.1.attn.q_norm.weight") != NULL) == qk);
        /* the gains trained (they start at 1) */
        const gpt2_view *v = gpt2_find_view(m, "h.0.attn.k_norm.weight");
        if (v) CHECK(m->params[v->offset] != 1.0f);
        /* save again and reload: identical parameters */
        snprintf(p, sizeof p, "%s/resaved", dir);
        CHECK_MSG(gpt2_save_hf(m, p, &err) == 0, "%s", err.msg);
        gpt2_model *m2 = NULL;
        CHECK_MSG(gpt2_load_hf(p, &m2, &err) == 0, "%s", err.msg);
        CHECK(m2 && m2->n_floats == m->n_floats && !memcmp(m2->params, m->params, m->n_floats * sizeof(float)));
        gpt2_free(m2);
        gpt2_free(m);
    }
    /* stop at 4 + resume = uninterrupted, bit for bit */
    char *ma = tiny_metrics(&c);
    train_config r = c;
    snprintf(r.run_name, sizeof r.run_name, "%s_resumed", name);
    r.checkpoint_every = 4;
    CHECK_MSG(run_opts(&r, 0, 4, &res, &err) == 0, "%s", err.msg);
    CHECK_MSG(run_opts(&r, 1, 0, &res, &err) == 0, "%s", err.msg);
    CHECK_EQ_INT(res.step, 10);
    char *mr = tiny_metrics(&r);
    CHECK_MSG(ma && mr && !strcmp(ma, mr), "%s resume differs:\n%s---\n%s", name, ma, mr);
    free(ma);
    free(mr);
}

int main(void) {
    char *dir = test_tmpdir();
    one(dir, "llama_lssar_qknorm", "llama", "lssar", 1);
    one(dir, "gpt2_lssa_qknorm", "gpt2", "lssa", 1);
    one(dir, "gpt2_lssar", "gpt2", "lssar", 0);
    one(dir, "llama_qknorm", "llama", "softmax", 1);
    free(dir);
    return test_summary("train/attn_run");
}
