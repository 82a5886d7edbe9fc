/* HF GPT-2 checkpoint folders: config.json + model.safetensors. */
#include "model/gpt2.h"
#include "interop/hf_family.h"
#include "interop/safetensors.h"
#include "base/json.h"
#include "base/io.h"
#include "base/mem.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

static int get_int_field(json_t *j, const char *key, const char *alt, int64_t lo, int64_t hi, int64_t *out,
                         const char *path, lmc_err *err) {
    int rc = lmc_json_get_int(j, key, out, path, err);
    if (rc == LMC_ENOTFOUND && alt) {
        rc = lmc_json_get_int(j, alt, out, path, err);
        if (rc == LMC_ENOTFOUND) return lmc_errf(err, LMC_EFORMAT, "%s: missing key '%s' (or '%s')", path, key, alt);
    }
    if (rc) return rc;
    if (*out < lo || *out > hi)
        return lmc_errf(err, LMC_EFORMAT, "%s: \"%s\" = %lld is out of range [%lld, %lld]", path, key,
                        (long long)*out, (long long)lo, (long long)hi);
    return 0;
}

int gpt2_config_load_hf(const char *dir, gpt2_config *cfg, lmc_err *err) {
    memset(cfg, 0, sizeof *cfg);
    char *path = lmc_path_join(dir, "config.json");
    if (!path) return lmc_errf(err, LMC_ENOMEM, "out of memory");
    int rc = 0;
    json_t *j = lmc_json_load_file(path, err);
    if (!j) { rc = err ? err->code : LMC_EFORMAT; goto out; }
    if (!json_is_object(j)) { rc = lmc_errf(err, LMC_EFORMAT, "%s: not a JSON object", path); goto out; }
    const char *s = NULL;
    if (lmc_json_get_str(j, "model_type", &s, path, err) == 0 && (!strcmp(s, "llama") || !strcmp(s, "mistral") || !strcmp(s, "qwen2"))) {
        if ((rc = hf_llama_config(j, path, cfg, err))) goto out;
        lmc_err_clear(err);
        if ((rc = gpt2_config_check(cfg, err))) lmc_err_wrap(err, "%s", path);
        goto out;
    }
    if (lmc_json_get_str(j, "model_type", &s, path, err) == 0 && strcmp(s, "gpt2") != 0) {
        rc = lmc_errf(err, LMC_EFORMAT, "%s: model_type is \"%s\", expected \"gpt2\", \"llama\", \"mistral\" or \"qwen2\"", path, s);
        goto out;
    }
    if (lmc_json_get_str(j, "activation_function", &s, path, err) == 0 && strcmp(s, "gelu_new") != 0 &&
        strcmp(s, "gelu_pytorch_tanh") != 0) {
        rc = lmc_errf(err, LMC_EFORMAT, "%s: activation_function \"%s\" is not supported (gelu_new only)", path, s);
        goto out;
    }
    int64_t L, H, D, P, V, inner;
    if ((rc = get_int_field(j, "n_layer", "num_hidden_layers", 1, 1024, &L, path, err))) goto out;
    if ((rc = get_int_field(j, "n_head", "num_attention_heads", 1, 1024, &H, path, err))) goto out;
    if ((rc = get_int_field(j, "n_embd", "hidden_size", 1, 65536, &D, path, err))) goto out;
    if ((rc = get_int_field(j, "n_positions", "n_ctx", 1, 1 << 20, &P, path, err))) goto out;
    if ((rc = get_int_field(j, "vocab_size", NULL, 1, 1 << 24, &V, path, err))) goto out;
    json_t *ji = json_object_get(j, "n_inner");
    if (ji && !json_is_null(ji)) {
        if ((rc = get_int_field(j, "n_inner", NULL, 1, 1 << 30, &inner, path, err))) goto out;
        if (inner != 4 * D) { rc = lmc_errf(err, LMC_EFORMAT, "%s: n_inner %lld != 4 * n_embd is not supported", path, (long long)inner); goto out; }
    }
    int b = 0;
    if (lmc_json_get_bool(j, "scale_attn_by_inverse_layer_idx", &b, path, err) == 0 && b) {
        rc = lmc_errf(err, LMC_EFORMAT, "%s: scale_attn_by_inverse_layer_idx is not supported", path);
        goto out;
    }
    double eps = 1e-5;
    if (lmc_json_get_num(j, "layer_norm_epsilon", &eps, path, err) == LMC_EFORMAT) { rc = LMC_EFORMAT; goto out; }
    cfg->n_layer = (int)L; cfg->n_head = (int)H; cfg->d_model = (int)D; cfg->max_seq = (int)P;
    cfg->vocab_size = (int)V; cfg->ln_eps = (float)eps;
    lmc_err_clear(err);
    if ((rc = hf_read_switches(j, path, cfg, err))) goto out;
    if ((rc = gpt2_config_check(cfg, err))) lmc_err_wrap(err, "%s", path);
out:
    json_decref(j);
    free(path);
    return rc;
}

static int ends_with(const char *s, const char *suf) {
    size_t n = strlen(s), k = strlen(suf);
    return n >= k && strcmp(s + n - k, suf) == 0;
}

/* bos/eos ids of the folder's config.json (kept so that a re-save writes them again). */
static void load_special_ids(gpt2_model *m, const char *dir) {
    char *path = lmc_path_join(dir, "config.json");
    lmc_err e;
    json_t *j = path ? lmc_json_load_file(path, &e) : NULL;
    if (j) {
        int bos, eos;
        hf_read_special_ids(j, &bos, &eos);
        if (bos >= 0) m->bos_id = bos;
        if (eos >= 0) m->eos_id = eos;
    }
    json_decref(j);
    free(path);
}

static int gpt2_weights_into(gpt2_model *m, const char *dir, lmc_err *err);

int gpt2_load_hf_into(gpt2_model *m, const char *dir, lmc_err *err) {
    int rc = m->cfg.arch == GPT2_ARCH_LLAMA ? hf_llama_load_into(m, dir, err) : gpt2_weights_into(m, dir, err);
    if (rc == 0) load_special_ids(m, dir);
    return rc;
}

static int gpt2_weights_into(gpt2_model *m, const char *dir, lmc_err *err) {
    char *path = lmc_path_join(dir, "model.safetensors");
    if (!path) return lmc_errf(err, LMC_ENOMEM, "out of memory");
    st_file f;
    int rc = st_open(&f, path, err);
    if (rc) { free(path); return rc; }
    char *seen = (char *)calloc((size_t)m->n_views, 1);
    if (!seen) { rc = lmc_errf(err, LMC_ENOMEM, "out of memory"); goto out; }
    for (size_t i = 0; i < f.n_tensors; i++) {
        const st_tensor *t = &f.tensors[i];
        const char *name = t->name;
        if (strncmp(name, "transformer.", 12) == 0) name += 12;
        if (ends_with(name, ".attn.bias") && !gpt2_find_view(m, name)) continue;  /* causal-mask buffer */
        if (ends_with(name, ".attn.masked_bias") || (strcmp(name, "lm_head.weight") == 0 && m->head_view < 0))
            continue;  /* causal-mask buffer and the tied head */
        const gpt2_view *v = gpt2_find_view(m, name);
        if (!v) { rc = lmc_errf(err, LMC_EFORMAT, "%s: unexpected tensor '%s' for a GPT-2 model", path, t->name); goto out; }
        size_t vi = (size_t)(v - m->views);
        if (seen[vi]) { rc = lmc_errf(err, LMC_EFORMAT, "%s: tensor '%s' appears twice (with and without the transformer. prefix)", path, name); goto out; }
        seen[vi] = 1;
        int ok = t->ndim == v->ndim;
        for (int d = 0; ok && d < v->ndim; d++) ok = t->shape[d] == v->shape[d];
        if (!ok) {
            char got[128] = "", want[64];
            size_t o = 0;
            for (int d = 0; d < t->ndim && o < sizeof got - 24; d++)
                o += (size_t)snprintf(got + o, sizeof got - o, "%s%lld", d ? ", " : "", (long long)t->shape[d]);
            if (v->ndim == 2) snprintf(want, sizeof want, "%lld, %lld", (long long)v->shape[0], (long long)v->shape[1]);
            else snprintf(want, sizeof want, "%lld", (long long)v->shape[0]);
            rc = lmc_errf(err, LMC_EFORMAT, "%s: tensor '%s' has shape [%s] but config.json implies [%s]", path, t->name, got, want);
            goto out;
        }
        float *dst = m->params + v->offset;
        if ((rc = st_read_f32(&f, t, dst, v->numel, err))) goto out;
        for (size_t k = 0; k < v->numel; k++)
            if (!isfinite(dst[k])) {
                rc = lmc_errf(err, LMC_ENUMERIC, "%s: tensor '%s' has a non-finite value at element %zu", path, t->name, k);
                goto out;
            }
    }
    for (int i = 0; i < m->n_views; i++)
        if (!seen[i]) { rc = lmc_errf(err, LMC_EFORMAT, "%s: tensor '%s' is missing", path, m->views[i].name); goto out; }
    /* the padding rows of wte (and of an untied head) stay zero */
    size_t pad = (size_t)(m->cfg.padded_vocab - m->cfg.vocab_size) * m->cfg.d_model * sizeof(float);
    memset(m->wte + (size_t)m->cfg.vocab_size * m->cfg.d_model, 0, pad);
    if (m->head_view >= 0) memset(m->lm_head + (size_t)m->cfg.vocab_size * m->cfg.d_model, 0, pad);
out:
    free(seen);
    st_close(&f);
    free(path);
    return rc;
}

int gpt2_load_hf(const char *dir, gpt2_model **out, lmc_err *err) {
    *out = NULL;
    gpt2_config cfg;
    int rc = gpt2_config_load_hf(dir, &cfg, err);
    if (rc) return rc;
    gpt2_model *m;
    if ((rc = gpt2_create(&m, &cfg, err))) return rc;
    if ((rc = gpt2_load_hf_into(m, dir, err))) { gpt2_free(m); return rc; }
    *out = m;
    return 0;
}

int gpt2_save_hf(const gpt2_model *m, const char *dir, lmc_err *err) {
    if (m->cfg.arch == GPT2_ARCH_LLAMA) return hf_llama_save(m, dir, err);
    int rc = lmc_mkdirs(dir, err);
    if (rc) return rc;
    const gpt2_config *c = &m->cfg;
    json_t *j = json_object();
    json_t *arch = json_array();
    if (!j || !arch) { json_decref(j); json_decref(arch); return lmc_errf(err, LMC_ENOMEM, "out of memory"); }
    json_array_append_new(arch, json_string("GPT2LMHeadModel"));
    json_object_set_new(j, "architectures", arch);
    json_object_set_new(j, "model_type", json_string("gpt2"));
    json_object_set_new(j, "activation_function", json_string("gelu_new"));
    json_object_set_new(j, "n_layer", json_integer(c->n_layer));
    json_object_set_new(j, "n_head", json_integer(c->n_head));
    json_object_set_new(j, "n_embd", json_integer(c->d_model));
    json_object_set_new(j, "n_positions", json_integer(c->max_seq));
    json_object_set_new(j, "n_ctx", json_integer(c->max_seq));
    json_object_set_new(j, "n_inner", json_null());
    json_object_set_new(j, "vocab_size", json_integer(c->vocab_size));
    json_object_set_new(j, "layer_norm_epsilon", json_real(c->ln_eps));
    json_object_set_new(j, "initializer_range", json_real(0.02));
    json_object_set_new(j, "resid_pdrop", json_real(0.0));
    json_object_set_new(j, "embd_pdrop", json_real(0.0));
    json_object_set_new(j, "attn_pdrop", json_real(0.0));
    json_object_set_new(j, "tie_word_embeddings", json_boolean(!c->untied));
    json_object_set_new(j, "torch_dtype", json_string("float32"));
    hf_write_switches(j, c);
    char *cpath = lmc_path_join(dir, "config.json");
    char *spath = lmc_path_join(dir, "model.safetensors");
    st_out *ts = (st_out *)calloc((size_t)m->n_views, sizeof(st_out));
    char (*names)[64] = calloc((size_t)m->n_views, 64);
    if (!cpath || !spath || !ts || !names) { rc = lmc_errf(err, LMC_ENOMEM, "out of memory"); goto out; }
    for (int i = 0; i < m->n_views; i++) {
        const gpt2_view *v = &m->views[i];
        snprintf(names[i], 64, "%s%s", (int)i == m->head_view ? "" : "transformer.", v->name);
        ts[i].name = names[i];
        ts[i].dtype = ST_F32;
        ts[i].ndim = v->ndim;
        ts[i].shape[0] = v->shape[0];
        ts[i].shape[1] = v->shape[1];
        ts[i].data = m->params + v->offset;
    }
    static const char *const meta[] = {"format", "pt", NULL};
    if ((rc = st_write(spath, ts, (size_t)m->n_views, meta, err))) goto out;
    if ((rc = hf_write_special_ids(j, m, dir, err))) goto out;
    rc = lmc_json_save_file(j, cpath, err);
out:
    json_decref(j);
    free(cpath);
    free(spath);
    free(ts);
    free(names);
    return rc;
}
