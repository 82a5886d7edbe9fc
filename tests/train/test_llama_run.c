/* arch: llama end to end: trains (loss falls), its checkpoint is a LlamaForCausalLM folder that
 * reloads exactly; run.init_from takes a plain HF folder (weights only, fresh optimizer, step 0);
 * a start that fails leaves no run folder behind. */
#include "test.h"
#include "tiny_run.h"
#include "train/train.h"
#include "base/json.h"

static int run_opts(train_config *c, int resume, int64_t stop_at, train_result *res, lmc_err *err) {
    train_opts o;
    memset(&o, 0, sizeof o);
    o.resume = resume;
    o.stop_at = stop_at;
    return train_run(c, &o, res, err);
}
static int run(train_config *c, train_result *res, lmc_err *err) { return run_opts(c, 0, 0, res, err); }

int main(void) {
    char *dir = test_tmpdir();
    lmc_err err = {0};
    train_config c;
    train_result res;
    tiny_config(&c, dir, "llama");
    snprintf(c.arch, sizeof c.arch, "llama");
    c.n_head = 4;
    c.n_kv_head = 2;
    c.steps = 10;
    c.checkpoint_every = 0;
    CHECK_MSG(run(&c, &res, &err) == 0, "%s", err.msg);
    CHECK_EQ_INT(res.step, 10);
    printf("llama tiny run: last loss %.4f, val %.4f\n", res.last_loss, res.last_val_loss);
    CHECK(res.last_loss < 4.0);  /* ln 64 = 4.16 at the start */
    char p[4400];
    snprintf(p, sizeof p, "%s/config.json", res.last_ckpt);
    json_t *j = lmc_json_load_file(p, &err);
    CHECK(j && !strcmp(json_string_value(json_object_get(j, "model_type")), "llama"));
    CHECK(j && json_integer_value(json_object_get(j, "num_key_value_heads")) == 2);
    json_decref(j);
    gpt2_model *m = NULL;
    CHECK_MSG(gpt2_load_hf(res.last_ckpt, &m, &err) == 0, "%s", err.msg);
    CHECK(m && m->cfg.arch == GPT2_ARCH_LLAMA && m->cfg.untied && m->cfg.n_kv_head == 2);

    /* resume from a Llama checkpoint (weights from the Llama folder, AdamW state by view name): the
     * metrics equal the uninterrupted run's */
    {
        char *ma = tiny_metrics(&c);
        train_config r = c;
        snprintf(r.run_name, sizeof r.run_name, "llama_resumed");
        r.checkpoint_every = 4;
        CHECK_MSG(run_opts(&r, 0, 4, &res, &err) == 0, "%s", err.msg);
        CHECK_EQ_INT(res.step, 4);
        CHECK_MSG(run_opts(&r, 1, 0, &res, &err) == 0, "%s", err.msg);
        CHECK_EQ_INT(res.step, 10);
        char *mr = tiny_metrics(&r);
        CHECK_MSG(ma && mr && !strcmp(ma, mr), "llama resume differs:\n%s---\n%s", ma, mr);
        free(ma);
        free(mr);
    }

    /* a plain HF folder (no optimizer, no trainer state) as run.init_from */
    char hf[900];
    snprintf(hf, sizeof hf, "%s/hf_plain", dir);
    CHECK(m && gpt2_save_hf(m, hf, &err) == 0);
    train_config b = c;
    snprintf(b.run_name, sizeof b.run_name, "from_hf");
    snprintf(b.init_from, sizeof b.init_from, "%s", hf);
    b.steps = 2;
    b.eval_batches = 0;
    CHECK_MSG(run(&b, &res, &err) == 0, "%s", err.msg);
    CHECK_EQ_INT(res.step, 2);  /* step 0 + 2, not the source's 10 */
    printf("from HF folder: first losses start near the trained model's: %.4f\n", res.last_loss);
    CHECK(res.last_loss < 4.0);

    /* a mismatched config fails naming the field, and leaves no run folder */
    train_config bad = b;
    snprintf(bad.run_name, sizeof bad.run_name, "bad");
    bad.n_kv_head = 4;
    CHECK(run(&bad, &res, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "n_kv_head");
    snprintf(p, sizeof p, "%s/runs/bad", dir);
    CHECK(!lmc_is_dir(p));
    snprintf(bad.init_from, sizeof bad.init_from, "%s/nonexistent", hf);
    bad.n_kv_head = 2;
    CHECK(run(&bad, &res, &err) != 0);
    CHECK(!lmc_is_dir(p));
    gpt2_free(m);
    lmc_remove_tree(dir, &err);
    free(dir);
    return test_summary("train/llama_run");
}
