/* HF folder + model card (see model_card.h). */
#include "interop/model_card.h"
#include "interop/hf_family.h"
#include "base/io.h"
#include "base/json.h"
#include "base/mem.h"
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int copy_file(const char *from, const char *to, lmc_err *err) {
    char *d;
    size_t n;
    int rc = lmc_read_file(from, &d, &n, err);
    if (rc) return rc;
    rc = lmc_write_file_atomic(to, d, n, err);
    free(d);
    return rc;
}

/* Last val_loss in dir/../../metrics.jsonl at a step <= step (a checkpoint inside a run directory). */
static int last_val_loss(const char *dir, int64_t step, double *loss, int64_t *at) {
    char path[4096];
    snprintf(path, sizeof path, "%s/../../metrics.jsonl", dir);
    char *d;
    size_t n;
    lmc_err e;
    if (lmc_read_file(path, &d, &n, &e)) return 0;
    int found = 0;
    for (char *line = d, *nl; line && *line; line = nl ? nl + 1 : NULL) {
        nl = strchr(line, '\n');
        if (nl) *nl = 0;
        json_t *j = json_loads(line, 0, NULL);
        json_t *s = j ? json_object_get(j, "step") : NULL, *v = j ? json_object_get(j, "val_loss") : NULL;
        if (json_is_integer(s) && json_is_number(v) && json_integer_value(s) <= step) {
            *loss = json_number_value(v);
            *at = json_integer_value(s);
            found = 1;
        }
        json_decref(j);
    }
    free(d);
    return found;
}

int model_card_export_hf(const gpt2_model *m, const tok_tokenizer *tok, const char *src_dir, const model_card_opts *o,
                         const char *out_dir, lmc_err *err) {
    int rc;
    /* The export is for transformers: a model it would load as something else (or not at all) is refused
     * rather than written with lmc's own "lmc_switches" (what lmc's checkpoints keep, for lmc). */
    if (!hf_expressible(&m->cfg))
        return lmc_errf(err, LMC_EINVAL, "%s: --format hf: transformers has no class for %s; the checkpoint keeps it in "
                                         "config.json's lmc_switches, which lmc eval / sample / train read",
                        src_dir, hf_unexpressible_switch(&m->cfg));
    if ((rc = lmc_mkdirs(out_dir, err))) return rc;
    if ((rc = gpt2_save_hf(m, out_dir, err))) return rc;
    char *tj = lmc_path_join(out_dir, "tokenizer.json");
    size_t tl = o->tok_path ? strlen(o->tok_path) : 0;
    if (!tj) return lmc_errf(err, LMC_ENOMEM, "out of memory");
    rc = tl > 5 && !strcmp(o->tok_path + tl - 5, ".json") ? copy_file(o->tok_path, tj, err) : tok_save_hf_json(tok, tj, err);
    free(tj);
    if (rc) return rc;
    char *tc = lmc_path_join(src_dir, "tokenizer_config.json"), *tco = lmc_path_join(out_dir, "tokenizer_config.json");
    if (tc && tco && lmc_file_exists(tc)) rc = copy_file(tc, tco, err);
    free(tc);
    free(tco);
    if (rc) return rc;

    const gpt2_config *c = &m->cfg;
    int llama = c->arch == GPT2_ARCH_LLAMA;
    lmc_buf b = {0};
    lmc_err e;
    int64_t step = -1, tokens = -1;
    char *ts = lmc_path_join(src_dir, "trainer_state.json");
    json_t *st = ts && lmc_file_exists(ts) ? lmc_json_load_file(ts, &e) : NULL;
    free(ts);
    if (st) {
        json_t *s = json_object_get(st, "step"), *t = json_object_get(st, "tokens");
        if (json_is_integer(s)) step = json_integer_value(s);
        if (json_is_string(t)) tokens = strtoll(json_string_value(t), NULL, 10);
        else if (json_is_integer(t)) tokens = json_integer_value(t);
        json_decref(st);
    }
    double vl = 0;
    int64_t vat = -1;
    int have_loss = step >= 0 && last_val_loss(src_dir, step, &vl, &vat);
    char *yp = lmc_path_join(src_dir, "lmc_config.yaml");
    char *yaml = NULL;
    size_t yn = 0;
    if (yp && lmc_file_exists(yp) && lmc_read_file(yp, &yaml, &yn, &e)) yaml = NULL;
    free(yp);
    const char *lic = o->license ? o->license : "unknown";
    rc = lmc_buf_printf(&b, err,
                        "---\nlibrary_name: transformers\npipeline_tag: text-generation\nlicense: %s\ntags:\n- lmc\n- %s\n---\n\n"
                        "# %s\n\nA %s language model trained from scratch with lmc "
                        "(language-model pretraining in C). The folder loads in transformers with "
                        "`AutoModelForCausalLM.from_pretrained(\".\")` and `AutoTokenizer.from_pretrained(\".\")`.\n\n"
                        "## Model\n\n| field | value |\n|---|---|\n| architecture | %s |\n| parameters | %zu |\n"
                        "| layers | %d |\n| d_model | %d |\n| heads | %d |\n| kv heads | %d |\n| MLP width | %d |\n"
                        "| context | %d |\n| vocabulary | %d (tokenizer: %u ids, %u merges) |\n| norm epsilon | %g |\n",
                        lic, llama ? "llama" : "gpt2", o->name ? o->name : "lmc model", llama ? "Llama-style" : "GPT-2",
                        llama ? "LlamaForCausalLM (RMSNorm, RoPE, SwiGLU)" : "GPT2LMHeadModel (LayerNorm, learned positions, GELU)",
                        gpt2_param_count(c), c->n_layer, c->d_model, c->n_head, c->n_kv_head, c->d_ff, c->max_seq,
                        c->vocab_size, tok_n_vocab(tok), tok_n_merges(tok), (double)c->ln_eps);
    if (!rc && llama) rc = lmc_buf_printf(&b, err, "| RoPE theta | %g |\n| tied head | %s |\n", (double)c->rope_theta, c->untied ? "no" : "yes");
    if (!rc) rc = lmc_buf_printf(&b, err, "\n## Training\n\n");
    if (!rc && step >= 0) rc = lmc_buf_printf(&b, err, "- optimizer steps: %lld\n", (long long)step);
    if (!rc && tokens >= 0) rc = lmc_buf_printf(&b, err, "- training tokens: %lld\n", (long long)tokens);
    if (!rc && have_loss)
        rc = lmc_buf_printf(&b, err, "- validation loss: %.4f nats/token (perplexity %.1f) at step %lld (the run's metrics.jsonl)\n",
                            vl, exp(vl), (long long)vat);
    if (!rc && step < 0) rc = lmc_buf_printf(&b, err, "- not recorded (the checkpoint has no trainer_state.json)\n");
    if (!rc && o->license == NULL)
        rc = lmc_buf_printf(&b, err, "- licence: unknown (pass `--license` to lmc export; it must follow the training data's licences)\n");
    if (!rc && yaml)
        rc = lmc_buf_printf(&b, err, "\n## Configuration (data, model, schedule)\n\nThe run's `lmc train` configuration:\n\n```yaml\n%s%s```\n",
                            yaml, yn && yaml[yn - 1] == '\n' ? "" : "\n");
    if (!rc)
        rc = lmc_buf_printf(&b, err, "\n## Use\n\n```python\nfrom transformers import AutoModelForCausalLM, AutoTokenizer\n"
                            "tok = AutoTokenizer.from_pretrained(\".\")\nmodel = AutoModelForCausalLM.from_pretrained(\".\")\n```\n\n"
                            "or with lmc: `lmc sample --model . --prompt \"...\"`; for llama.cpp: `lmc export --model . --format gguf -o model.gguf`.\n");
    free(yaml);
    if (!rc) {
        char *rp = lmc_path_join(out_dir, "README.md");
        rc = rp ? lmc_write_file_atomic(rp, b.data, b.len, err) : lmc_errf(err, LMC_ENOMEM, "out of memory");
        free(rp);
    }
    lmc_buf_free(&b);
    return rc;
}
