/* What the GPT-2 and Llama HF folder formats share: special token ids (config.json and
 * generation_config.json), lmc's switches HF cannot express, and opening single-file or sharded
 * safetensors weights. */
#include "interop/hf_family.h"
#include "interop/safetensors.h"
#include "base/json.h"
#include "base/io.h"
#include <stdlib.h>
#include <string.h>

static int json_id(json_t *v) {
    if (json_is_array(v)) v = json_array_get(v, 0);
    if (json_is_integer(v) && json_integer_value(v) >= 0 && json_integer_value(v) < (1 << 24))
        return (int)json_integer_value(v);
    return -1;
}

void hf_read_special_ids(json_t *j, int *bos, int *eos) {
    *bos = json_id(json_object_get(j, "bos_token_id"));
    *eos = json_id(json_object_get(j, "eos_token_id"));
}

int hf_write_special_ids(json_t *config, const gpt2_model *m, const char *dir, lmc_err *err) {
    if (m->bos_id >= 0) json_object_set_new(config, "bos_token_id", json_integer(m->bos_id));
    if (m->eos_id >= 0) json_object_set_new(config, "eos_token_id", json_integer(m->eos_id));
    if (m->bos_id < 0 && m->eos_id < 0) return 0;
    /* generate() reads its stopping ids from here */
    json_t *g = json_object();
    if (!g) return lmc_errf(err, LMC_ENOMEM, "out of memory");
    if (m->bos_id >= 0) json_object_set_new(g, "bos_token_id", json_integer(m->bos_id));
    if (m->eos_id >= 0) json_object_set_new(g, "eos_token_id", json_integer(m->eos_id));
    if (m->eos_id >= 0) json_object_set_new(g, "pad_token_id", json_integer(m->eos_id));
    char *p = lmc_path_join(dir, "generation_config.json");
    int rc = p ? lmc_json_save_file(g, p, err) : lmc_errf(err, LMC_ENOMEM, "out of memory");
    free(p);
    json_decref(g);
    return rc;
}

int hf_expressible(const gpt2_config *c) {
    if (c->attention != GPT2_ATTN_SOFTMAX || c->qk_norm) return 0;  /* issue 13 switches: lmc_switches only */
    if (hf_research_switch(c)) return 0;
    if (c->arch == GPT2_ARCH_LLAMA)  /* qkv_bias with no_bias is Qwen2 */
        return c->norm == GPT2_NORM_RMSNORM && c->position == GPT2_POS_ROPE && c->mlp == GPT2_MLP_SWIGLU;
    if (c->qkv_bias && c->no_bias) return 0;
    return c->norm == GPT2_NORM_LAYERNORM && c->position == GPT2_POS_LEARNED && c->mlp == GPT2_MLP_GELU &&
           c->n_kv_head == c->n_head && c->d_ff == 4 * c->d_model && !c->no_bias && !c->untied;
}

static const char *const norm_names[] = {"layernorm", "rmsnorm"};
static const char *const pos_names[] = {"learned", "rope", "alibi", "none"};
static const char *const mlp_names[] = {"gelu", "swiglu"};
static const char *const attn_names[] = {"softmax", "lssa", "lssar"};

void hf_write_switches(json_t *config, const gpt2_config *c) {
    /* doc_mask is a training-time switch (packed windows): an exported model is still the HF class, so it
     * does not make a config unexpressible; it is kept here so lmc's own eval/sample honour it */
    if (hf_expressible(c) && !c->doc_mask) return;
    json_t *s = json_object();
    if (!s) return;
    json_object_set_new(s, "norm", json_string(norm_names[c->norm]));
    json_object_set_new(s, "position", json_string(pos_names[c->position]));
    json_object_set_new(s, "mlp", json_string(mlp_names[c->mlp]));
    json_object_set_new(s, "n_kv_head", json_integer(c->n_kv_head));
    json_object_set_new(s, "d_ff", json_integer(c->d_ff));
    json_object_set_new(s, "bias", json_boolean(!c->no_bias));
    json_object_set_new(s, "qkv_bias", json_boolean(c->qkv_bias));
    json_object_set_new(s, "tie_embeddings", json_boolean(!c->untied));
    json_object_set_new(s, "rope_theta", json_real(c->rope_theta));
    json_object_set_new(s, "norm_eps", json_real(c->ln_eps));
    json_object_set_new(s, "attention", json_string(attn_names[c->attention]));
    json_object_set_new(s, "lssar_power", json_integer(c->lssar_power));
    json_object_set_new(s, "qk_norm", json_boolean(c->qk_norm));
    if (c->doc_mask) {
        json_object_set_new(s, "doc_mask", json_true());
        json_object_set_new(s, "doc_sep_id", json_integer(c->doc_sep_id));
    }
    hf_write_research_switches(s, c);
    json_object_set_new(config, "lmc_switches", s);
}

static int pick(json_t *s, const char *key, const char *const *names, int n, int *out, const char *path, lmc_err *err) {
    const char *v;
    int rc = lmc_json_get_str(s, key, &v, path, err);
    if (rc == LMC_ENOTFOUND) return 0;
    if (rc) return rc;
    for (int i = 0; i < n; i++)
        if (!strcmp(v, names[i])) { *out = i; return 0; }
    return lmc_errf(err, LMC_EFORMAT, "%s: lmc_switches.%s = \"%s\" is not a known value", path, key, v);
}

int hf_read_switches(json_t *config, const char *path, gpt2_config *c, lmc_err *err) {
    json_t *s = json_object_get(config, "lmc_switches");
    if (!s) return 0;
    if (!json_is_object(s)) return lmc_errf(err, LMC_EFORMAT, "%s: lmc_switches is not an object", path);
    int rc;
    if ((rc = pick(s, "norm", norm_names, 2, &c->norm, path, err))) return rc;
    if ((rc = pick(s, "position", pos_names, 4, &c->position, path, err))) return rc;
    if ((rc = pick(s, "mlp", mlp_names, 2, &c->mlp, path, err))) return rc;
    if ((rc = pick(s, "attention", attn_names, 3, &c->attention, path, err))) return rc;
    int64_t v;
    if (lmc_json_get_int(s, "n_kv_head", &v, path, err) == 0) c->n_kv_head = (int)v;
    if (lmc_json_get_int(s, "d_ff", &v, path, err) == 0) c->d_ff = (int)v;
    int b;
    if (lmc_json_get_bool(s, "bias", &b, path, err) == 0) c->no_bias = !b;
    if (lmc_json_get_bool(s, "qkv_bias", &b, path, err) == 0) c->qkv_bias = b;
    if (lmc_json_get_bool(s, "tie_embeddings", &b, path, err) == 0) c->untied = !b;
    if (lmc_json_get_bool(s, "qk_norm", &b, path, err) == 0) c->qk_norm = b;
    if (lmc_json_get_int(s, "lssar_power", &v, path, err) == 0) c->lssar_power = (int)v;
    if (lmc_json_get_bool(s, "doc_mask", &b, path, err) == 0) c->doc_mask = b;
    if (lmc_json_get_int(s, "doc_sep_id", &v, path, err) == 0) c->doc_sep_id = (int)v;
    double d;
    if (lmc_json_get_num(s, "rope_theta", &d, path, err) == 0) c->rope_theta = (float)d;
    if (lmc_json_get_num(s, "norm_eps", &d, path, err) == 0) c->ln_eps = (float)d;
    lmc_err_clear(err);
    if ((rc = hf_read_research_switches(s, path, c, err))) return rc;
    return 0;
}

int hf_weights_open(hf_weights *w, const char *dir, lmc_err *err) {
    memset(w, 0, sizeof *w);
    char *single = lmc_path_join(dir, "model.safetensors");
    char *index = lmc_path_join(dir, "model.safetensors.index.json");
    int rc = 0;
    json_t *j = NULL;
    if (!single || !index) { rc = lmc_errf(err, LMC_ENOMEM, "out of memory"); goto out; }
    if (lmc_file_exists(single) || !lmc_file_exists(index)) {
        w->files = (st_file *)calloc(1, sizeof(st_file));
        if (!w->files) { rc = lmc_errf(err, LMC_ENOMEM, "out of memory"); goto out; }
        if ((rc = st_open(&w->files[0], single, err))) goto out;
        w->n_files = 1;
        goto out;
    }
    /* sharded: the distinct files of weight_map, in order of first appearance */
    j = lmc_json_load_file(index, err);
    if (!j) { rc = err ? err->code : LMC_EFORMAT; goto out; }
    json_t *map = json_object_get(j, "weight_map");
    if (!json_is_object(map) || json_object_size(map) == 0) {
        rc = lmc_errf(err, LMC_EFORMAT, "%s: expected a non-empty \"weight_map\" object", index);
        goto out;
    }
    w->files = (st_file *)calloc(json_object_size(map), sizeof(st_file));
    const char **names = (const char **)calloc(json_object_size(map), sizeof(char *));
    if (!w->files || !names) { free(names); rc = lmc_errf(err, LMC_ENOMEM, "out of memory"); goto out; }
    const char *key;
    json_t *val;
    int nn = 0;
    json_object_foreach(map, key, val) {
        const char *f = json_string_value(val);
        if (!f || strchr(f, '/') || !strcmp(f, "..")) {
            free(names);
            rc = lmc_errf(err, LMC_EFORMAT, "%s: weight_map[\"%s\"] is not a file name in the folder", index, key);
            goto out;
        }
        int seen = 0;
        for (int i = 0; i < nn && !seen; i++) seen = !strcmp(names[i], f);
        if (seen) continue;
        names[nn++] = f;
        char *p = lmc_path_join(dir, f);
        rc = p ? st_open(&w->files[w->n_files], p, err) : lmc_errf(err, LMC_ENOMEM, "out of memory");
        free(p);
        if (rc) { free(names); goto out; }
        w->n_files++;
    }
    free(names);
out:
    if (rc) hf_weights_close(w);
    json_decref(j);
    free(single);
    free(index);
    return rc;
}

void hf_weights_close(hf_weights *w) {
    for (int i = 0; i < w->n_files; i++) st_close(&w->files[i]);
    free(w->files);
    memset(w, 0, sizeof *w);
}
