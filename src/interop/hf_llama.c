/* HF LlamaForCausalLM (and Qwen2ForCausalLM: Llama with q/k/v biases) folders <-> lmc's family layout.
 *
 * HF keeps nn.Linear weights [out, in] and q/k/v, gate/up as separate tensors; lmc keeps Conv1D
 * [in, out] with q | k | v and gate | up fused (one GEMM each). A table of HF tensors, each naming the
 * lmc view, the column block it fills and whether it is transposed, drives both load and save, so the
 * two directions cannot disagree. RoPE is HF's rotate-half convention in lmc too: no permutation. */
#include "interop/hf_family.h"
#include "interop/safetensors.h"
#include "base/json.h"
#include "base/io.h"
#include "base/mem.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct hf_entry {
    char name[96];
    int view;           /* lmc view index */
    int64_t rows, cols; /* HF shape (cols = 0: 1-D) */
    int64_t col0;       /* first lmc column (2-D transposed) or element (1-D) this tensor fills */
    int transpose;      /* HF [out, in] -> lmc [in, out] */
} hf_entry;

static int get_int(json_t *j, const char *key, int64_t lo, int64_t hi, int64_t *out, const char *path, lmc_err *err) {
    int rc = lmc_json_get_int(j, key, out, path, err);
    if (rc == LMC_ENOTFOUND) return lmc_errf(err, LMC_EFORMAT, "%s: missing key '%s'", path, key);
    if (rc) return rc;
    if (*out < lo || *out > hi)
        return lmc_errf(err, LMC_EFORMAT, "%s: \"%s\" = %lld is out of range [%lld, %lld]", path, key,
                        (long long)*out, (long long)lo, (long long)hi);
    return 0;
}

/* A present, non-null field lmc does not implement is an error naming it. */
static int refuse_if_set(json_t *j, const char *key, const char *why, const char *path, lmc_err *err) {
    json_t *v = json_object_get(j, key);
    if (!v || json_is_null(v) || json_is_false(v)) return 0;
    if (json_is_integer(v) && json_integer_value(v) <= 1 && strstr(key, "expert")) return 0; /* 0/1 experts = dense */
    return lmc_errf(err, LMC_EFORMAT, "%s: \"%s\" is set: %s is not supported by lmc", path, key, why);
}

static int check_rope_type(json_t *r, const char *field, const char *path, lmc_err *err) {
    if (!r || json_is_null(r)) return 0;
    if (!json_is_object(r)) return lmc_errf(err, LMC_EFORMAT, "%s: \"%s\" is not an object", path, field);
    json_t *t = json_object_get(r, "rope_type");
    if (!t) t = json_object_get(r, "type");
    const char *s = json_string_value(t);
    if (s && strcmp(s, "default") && strcmp(s, "none"))
        return lmc_errf(err, LMC_EFORMAT, "%s: \"%s\" has rope type \"%s\": only default RoPE (no scaling) is supported",
                        path, field, s);
    return 0;
}

int hf_llama_config(json_t *j, const char *path, gpt2_config *cfg, lmc_err *err) {
    gpt2_config_preset(cfg, GPT2_ARCH_LLAMA);
    int rc;
    const char *s = NULL, *mt = NULL;
    /* Qwen2 = Llama with biases on q/k/v only; its configs always carry sliding_window, which only
     * applies when use_sliding_window is true */
    int qwen2 = lmc_json_get_str(j, "model_type", &mt, path, err) == 0 && !strcmp(mt, "qwen2");
    if (lmc_json_get_str(j, "hidden_act", &s, path, err) == 0 && strcmp(s, "silu"))
        return lmc_errf(err, LMC_EFORMAT, "%s: \"hidden_act\" is \"%s\": only silu (SwiGLU) is supported", path, s);
    if (qwen2) {
        if ((rc = refuse_if_set(j, "use_sliding_window", "sliding-window attention", path, err))) return rc;
    } else if ((rc = refuse_if_set(j, "sliding_window", "sliding-window attention", path, err))) {
        return rc;
    }
    if ((rc = refuse_if_set(j, "num_local_experts", "mixture of experts", path, err))) return rc;
    if ((rc = refuse_if_set(j, "num_experts", "mixture of experts", path, err))) return rc;
    /* transformers 4.x: rope_scaling; 5.x: rope_parameters {rope_type, rope_theta} */
    if ((rc = check_rope_type(json_object_get(j, "rope_scaling"), "rope_scaling", path, err))) return rc;
    json_t *rp = json_object_get(j, "rope_parameters");
    if ((rc = check_rope_type(rp, "rope_parameters", path, err))) return rc;
    int64_t L, H, KV, D, F, P, V, hd;
    if ((rc = get_int(j, "num_hidden_layers", 1, 1024, &L, path, err))) return rc;
    if ((rc = get_int(j, "num_attention_heads", 1, 1024, &H, path, err))) return rc;
    if ((rc = get_int(j, "hidden_size", 1, 65536, &D, path, err))) return rc;
    if ((rc = get_int(j, "intermediate_size", 1, 1 << 20, &F, path, err))) return rc;
    if ((rc = get_int(j, "vocab_size", 1, 1 << 24, &V, path, err))) return rc;
    if ((rc = get_int(j, "max_position_embeddings", 1, 1 << 20, &P, path, err))) return rc;
    KV = H;
    json_t *kv = json_object_get(j, "num_key_value_heads");
    if (kv && !json_is_null(kv) && (rc = get_int(j, "num_key_value_heads", 1, H, &KV, path, err))) return rc;
    json_t *jhd = json_object_get(j, "head_dim");
    if (jhd && !json_is_null(jhd)) {
        if ((rc = get_int(j, "head_dim", 1, 65536, &hd, path, err))) return rc;
        if (hd * H != D)
            return lmc_errf(err, LMC_EFORMAT, "%s: \"head_dim\" %lld != hidden_size / num_attention_heads (%lld): not supported",
                            path, (long long)hd, (long long)(D / H));
    }
    double eps = 1e-6, theta = 10000.0;
    if (lmc_json_get_num(j, "rms_norm_eps", &eps, path, err) == LMC_EFORMAT) return LMC_EFORMAT;
    if (lmc_json_get_num(j, "rope_theta", &theta, path, err) == LMC_EFORMAT) return LMC_EFORMAT;
    if (rp && json_is_object(rp) && lmc_json_get_num(rp, "rope_theta", &theta, path, err) == LMC_EFORMAT) return LMC_EFORMAT;
    int tie = 0, ab = 0, mb = 0;
    if (lmc_json_get_bool(j, "tie_word_embeddings", &tie, path, err) == LMC_EFORMAT) return LMC_EFORMAT;
    if (lmc_json_get_bool(j, "attention_bias", &ab, path, err) == LMC_EFORMAT) return LMC_EFORMAT;
    if (lmc_json_get_bool(j, "mlp_bias", &mb, path, err) == LMC_EFORMAT) return LMC_EFORMAT;
    lmc_err_clear(err);
    if (qwen2) { ab = 0; mb = 0; }  /* Qwen2: no o_proj / MLP biases; q/k/v biases below */
    if (ab != mb)
        return lmc_errf(err, LMC_EFORMAT, "%s: \"attention_bias\" (%s) and \"mlp_bias\" (%s) differ: lmc has one bias switch",
                        path, ab ? "true" : "false", mb ? "true" : "false");
    cfg->n_layer = (int)L; cfg->n_head = (int)H; cfg->n_kv_head = (int)KV; cfg->d_model = (int)D;
    cfg->d_ff = (int)F; cfg->max_seq = (int)P; cfg->vocab_size = (int)V;
    cfg->ln_eps = (float)eps; cfg->rope_theta = (float)theta;
    cfg->untied = !tie; cfg->no_bias = !ab;
    cfg->qkv_bias = qwen2;
    if ((rc = hf_read_switches(j, path, cfg, err))) return rc;
    return 0;
}

/* The HF tensors of a model (n <= 18 per layer + 4); *n gets the count. */
static hf_entry *build_map(const gpt2_model *m, int *n, lmc_err *err) {
    const gpt2_config *c = &m->cfg;
    const int L = c->n_layer, H = c->n_head, KV = c->n_kv_head, D = c->d_model, hd = D / H, F = c->d_ff;
    /* capacity: 16 per layer, + 2 QK-norm gains (attn switches), + 5 research-switch tensors, + globals */
    hf_entry *e = (hf_entry *)lmc_alloc_array((size_t)L * 24 + 10 + GPT2_MTP_MAX, sizeof(hf_entry), err);
    if (!e) return NULL;
    int k = 0;
    /* ADD(name format, its int argument, view, HF rows, HF cols (0 = 1-D), first lmc column, transpose);
     * names without a layer index use "%.0d" with 0, which prints nothing; absent views add nothing */
#define ADD(nm_fmt, idx, vw, r, cl, c0, tr) do { if ((vw) >= 0) { \
        snprintf(e[k].name, sizeof e[k].name, nm_fmt, idx); e[k].view = (vw); e[k].rows = (r); e[k].cols = (cl); \
        e[k].col0 = (c0); e[k].transpose = (tr); k++; } } while (0)
    ADD("model.embed_tokens.weight%.0d", 0, m->wte_view, c->vocab_size, D, 0, 0);
    ADD("model.embed_positions.weight%.0d", 0, m->wpe_view, c->max_seq, D, 0, 0);  /* lmc_switches only */
    for (int l = 0; l < L; l++) {
        const int *lv = m->layer_views + (size_t)l * GPT2_LAYER_VIEWS;
        ADD("model.layers.%d.input_layernorm.weight", l, lv[0], D, 0, 0, 0);
        ADD("model.layers.%d.input_layernorm.bias", l, lv[1], D, 0, 0, 0);
        ADD("model.layers.%d.self_attn.q_proj.weight", l, lv[2], H * hd, D, 0, 1);
        ADD("model.layers.%d.self_attn.k_proj.weight", l, lv[2], KV * hd, D, H * hd, 1);
        ADD("model.layers.%d.self_attn.v_proj.weight", l, lv[2], KV * hd, D, (H + KV) * hd, 1);
        ADD("model.layers.%d.self_attn.q_proj.bias", l, lv[3], H * hd, 0, 0, 0);
        ADD("model.layers.%d.self_attn.k_proj.bias", l, lv[3], KV * hd, 0, H * hd, 0);
        ADD("model.layers.%d.self_attn.v_proj.bias", l, lv[3], KV * hd, 0, (H + KV) * hd, 0);
        ADD("model.layers.%d.self_attn.o_proj.weight", l, lv[4], D, D, 0, 1);
        ADD("model.layers.%d.self_attn.o_proj.bias", l, lv[5], D, 0, 0, 0);
        ADD("model.layers.%d.post_attention_layernorm.weight", l, lv[6], D, 0, 0, 0);
        ADD("model.layers.%d.post_attention_layernorm.bias", l, lv[7], D, 0, 0, 0);
        if (c->mlp == GPT2_MLP_SWIGLU) {
            ADD("model.layers.%d.mlp.gate_proj.weight", l, lv[8], F, D, 0, 1);
            ADD("model.layers.%d.mlp.up_proj.weight", l, lv[8], F, D, F, 1);
            ADD("model.layers.%d.mlp.gate_proj.bias", l, lv[9], F, 0, 0, 0);
            ADD("model.layers.%d.mlp.up_proj.bias", l, lv[9], F, 0, F, 0);
        } else {  /* GELU MLP under Llama names (lmc_switches only) */
            ADD("model.layers.%d.mlp.up_proj.weight", l, lv[8], F, D, 0, 1);
            ADD("model.layers.%d.mlp.up_proj.bias", l, lv[9], F, 0, 0, 0);
        }
        ADD("model.layers.%d.mlp.down_proj.weight", l, lv[10], D, F, 0, 1);
        ADD("model.layers.%d.mlp.down_proj.bias", l, lv[11], D, 0, 0, 0);
        ADD("model.layers.%d.self_attn.q_norm.weight", l, lv[12], hd, 0, 0, 0);  /* Qwen3's names (lmc_switches only) */
        ADD("model.layers.%d.self_attn.k_norm.weight", l, lv[13], hd, 0, 0, 0);
    }
    ADD("model.norm.weight%.0d", 0, m->lnf_w_view, D, 0, 0, 0);
    ADD("model.norm.bias%.0d", 0, m->lnf_b_view, D, 0, 0, 0);
    ADD("lm_head.weight%.0d", 0, m->head_view, c->vocab_size, D, 0, 0);
    /* research switches (lmc_switches only): learnable activation coefficients, extra MTP heads */
    for (int l = 0; l < L; l++)
        if (m->act_views[l] >= 0) ADD("model.layers.%d.mlp.act_fn.coef", l, m->act_views[l], (int)m->views[m->act_views[l]].numel, 0, 0, 0);
    for (int i = 1; i <= c->mtp_heads; i++) ADD("lmc_mtp_heads.%d.weight", i, m->mtp_view0 + i - 1, c->vocab_size, D, 0, 0);
    for (int l = 0; c->normalized == GPT2_NORMALIZED_ANGPT && l < L; l++) {  /* anGPT's scalars */
        ADD("model.layers.%d.angpt.alpha_attn", l, m->ngpt_view0 + 2 * l, D, 0, 0, 0);
        ADD("model.layers.%d.angpt.alpha_mlp", l, m->ngpt_view0 + 2 * l + 1, D, 0, 0, 0);
    }
    if (c->normalized == GPT2_NORMALIZED_ANGPT) ADD("lmc_angpt.sz%.0d", 0, m->ngpt_view0 + 2 * L, c->vocab_size, 0, 0, 0);
    for (int l = 0; c->normalized == GPT2_NORMALIZED_NGPT && l < L; l++) {  /* nGPT's scalars */
        ADD("model.layers.%d.ngpt.alpha_attn", l, m->ngpt_view0 + 4 * l, D, 0, 0, 0);
        ADD("model.layers.%d.ngpt.alpha_mlp", l, m->ngpt_view0 + 4 * l + 1, D, 0, 0, 0);
        ADD("model.layers.%d.ngpt.sqk", l, m->ngpt_view0 + 4 * l + 2, D, 0, 0, 0);
        ADD("model.layers.%d.ngpt.suv", l, m->ngpt_view0 + 4 * l + 3, 2 * F, 0, 0, 0);
    }
    if (c->normalized == GPT2_NORMALIZED_NGPT) ADD("lmc_ngpt.sz%.0d", 0, m->ngpt_view0 + 4 * L, c->vocab_size, 0, 0, 0);
#undef ADD
    *n = k;
    return e;
}

/* HF tensor (row-major rows x cols, or 1-D rows) <-> its place in the lmc view. */
static void place(const gpt2_model *m, float *buf, const hf_entry *e, float *hf, int to_lmc) {
    const gpt2_view *v = &m->views[e->view];
    float *dst = buf + v->offset;
    if (e->cols == 0 || !e->transpose) {
        size_t n = (size_t)e->rows * (size_t)(e->cols ? e->cols : 1);
        if (to_lmc) memcpy(dst + e->col0, hf, n * sizeof(float));
        else memcpy(hf, dst + e->col0, n * sizeof(float));
        return;
    }
    const int64_t ld = v->shape[1];  /* lmc [in, out] */
    for (int64_t o = 0; o < e->rows; o++)
        for (int64_t i = 0; i < e->cols; i++) {
            float *p = dst + (size_t)i * (size_t)ld + (size_t)(e->col0 + o);
            if (to_lmc) *p = hf[(size_t)o * (size_t)e->cols + (size_t)i];
            else hf[(size_t)o * (size_t)e->cols + (size_t)i] = *p;
        }
}

static int ignorable(const char *name, const gpt2_model *m) {
    size_t n = strlen(name);
    if (n > 23 && !strcmp(name + n - 23, "rotary_emb.inv_freq")) return 1;  /* old checkpoints' buffer */
    return m->head_view < 0 && !strcmp(name, "lm_head.weight");          /* a tied head saved anyway */
}

int hf_llama_load_into(gpt2_model *m, const char *dir, lmc_err *err) {
    hf_weights w;
    int rc = hf_weights_open(&w, dir, err);
    if (rc) return rc;
    int n = 0;
    hf_entry *map = build_map(m, &n, err);
    char *seen = (char *)calloc((size_t)n + 1, 1);
    float *tmp = NULL;
    size_t tmp_cap = 0;
    if (!map || !seen) { rc = lmc_errf(err, LMC_ENOMEM, "out of memory"); goto out; }
    for (int fi = 0; fi < w.n_files; fi++) {
        const st_file *f = &w.files[fi];
        for (size_t ti = 0; ti < f->n_tensors; ti++) {
            const st_tensor *t = &f->tensors[ti];
            int k = 0;
            while (k < n && strcmp(map[k].name, t->name)) k++;
            if (k == n) {
                if (ignorable(t->name, m)) continue;
                rc = lmc_errf(err, LMC_EFORMAT, "%s: unexpected tensor '%s' for this Llama config", f->path, t->name);
                goto out;
            }
            if (seen[k]) { rc = lmc_errf(err, LMC_EFORMAT, "%s: tensor '%s' appears twice", f->path, t->name); goto out; }
            seen[k] = 1;
            const hf_entry *e = &map[k];
            int nd = e->cols ? 2 : 1;
            if (t->ndim != nd || t->shape[0] != e->rows || (nd == 2 && t->shape[1] != e->cols)) {
                if (nd == 2)
                    rc = lmc_errf(err, LMC_EFORMAT, "%s: tensor '%s' has the wrong shape (config.json implies [%lld, %lld])",
                                  f->path, t->name, (long long)e->rows, (long long)e->cols);
                else
                    rc = lmc_errf(err, LMC_EFORMAT, "%s: tensor '%s' has the wrong shape (config.json implies [%lld])",
                                  f->path, t->name, (long long)e->rows);
                goto out;
            }
            size_t cnt = (size_t)t->numel;
            if (cnt > tmp_cap) {
                lmc_free(tmp);
                tmp = (float *)lmc_alloc_array(cnt, sizeof(float), err);
                tmp_cap = tmp ? cnt : 0;
                if (!tmp) { rc = LMC_ENOMEM; goto out; }
            }
            if ((rc = st_read_f32(f, t, tmp, cnt, err))) goto out;
            for (size_t q = 0; q < cnt; q++)
                if (!isfinite(tmp[q])) {
                    rc = lmc_errf(err, LMC_ENUMERIC, "%s: tensor '%s' has a non-finite value at element %zu", f->path, t->name, q);
                    goto out;
                }
            place(m, m->params, e, tmp, 1);
        }
    }
    for (int k = 0; k < n; k++)
        if (!seen[k]) { rc = lmc_errf(err, LMC_EFORMAT, "%s: tensor '%s' is missing", dir, map[k].name); goto out; }
    /* padding rows of the vocabulary stay zero */
    size_t pad = (size_t)(m->cfg.padded_vocab - m->cfg.vocab_size) * (size_t)m->cfg.d_model * sizeof(float);
    memset(m->wte + (size_t)m->cfg.vocab_size * m->cfg.d_model, 0, pad);
    if (m->head_view >= 0) memset(m->lm_head + (size_t)m->cfg.vocab_size * m->cfg.d_model, 0, pad);
out:
    lmc_free(tmp);
    free(seen);
    lmc_free(map);
    hf_weights_close(&w);
    return rc;
}

int hf_llama_save(const gpt2_model *m, const char *dir, lmc_err *err) {
    int rc = lmc_mkdirs(dir, err);
    if (rc) return rc;
    const gpt2_config *c = &m->cfg;
    int n = 0;
    hf_entry *map = build_map(m, &n, err);
    if (!map) return LMC_ENOMEM;
    st_out *ts = (st_out *)calloc((size_t)n, sizeof(st_out));
    float **bufs = (float **)calloc((size_t)n, sizeof(float *));
    json_t *j = json_object(), *arch = json_array();
    char *cpath = lmc_path_join(dir, "config.json"), *spath = lmc_path_join(dir, "model.safetensors");
    if (!ts || !bufs || !j || !arch || !cpath || !spath) { rc = lmc_errf(err, LMC_ENOMEM, "out of memory"); goto out; }
    for (int k = 0; k < n; k++) {
        size_t cnt = (size_t)map[k].rows * (size_t)(map[k].cols ? map[k].cols : 1);
        if (!(bufs[k] = (float *)lmc_alloc_array(cnt, sizeof(float), err))) { rc = LMC_ENOMEM; goto out; }
        place(m, m->params, &map[k], bufs[k], 0);
        ts[k].name = map[k].name;
        ts[k].dtype = ST_F32;
        ts[k].ndim = map[k].cols ? 2 : 1;
        ts[k].shape[0] = map[k].rows;
        ts[k].shape[1] = map[k].cols;
        ts[k].data = bufs[k];
    }
    static const char *const meta[] = {"format", "pt", NULL};
    if ((rc = st_write(spath, ts, (size_t)n, meta, err))) goto out;
    const int qwen2 = c->qkv_bias && c->no_bias;  /* biases on q/k/v only: HF's Qwen2 */
    json_array_append_new(arch, json_string(qwen2 ? "Qwen2ForCausalLM" : "LlamaForCausalLM"));
    json_object_set_new(j, "architectures", arch);
    arch = NULL;
    json_object_set_new(j, "model_type", json_string(qwen2 ? "qwen2" : "llama"));
    if (qwen2) {
        json_object_set_new(j, "use_sliding_window", json_false());
        json_object_set_new(j, "sliding_window", json_null());
        json_object_set_new(j, "max_window_layers", json_integer(c->n_layer));
    }
    json_object_set_new(j, "hidden_act", json_string("silu"));
    json_object_set_new(j, "num_hidden_layers", json_integer(c->n_layer));
    json_object_set_new(j, "num_attention_heads", json_integer(c->n_head));
    json_object_set_new(j, "num_key_value_heads", json_integer(c->n_kv_head));
    json_object_set_new(j, "hidden_size", json_integer(c->d_model));
    json_object_set_new(j, "head_dim", json_integer(c->d_model / c->n_head));
    json_object_set_new(j, "intermediate_size", json_integer(c->d_ff));
    json_object_set_new(j, "max_position_embeddings", json_integer(c->max_seq));
    json_object_set_new(j, "vocab_size", json_integer(c->vocab_size));
    json_object_set_new(j, "rms_norm_eps", json_real(c->ln_eps));
    json_object_set_new(j, "rope_theta", json_real(c->rope_theta));
    json_object_set_new(j, "rope_scaling", json_null());
    json_object_set_new(j, "attention_bias", json_boolean(!c->no_bias));
    json_object_set_new(j, "mlp_bias", json_boolean(!c->no_bias));
    json_object_set_new(j, "attention_dropout", json_real(0.0));
    json_object_set_new(j, "initializer_range", json_real(0.02));
    json_object_set_new(j, "pretraining_tp", json_integer(1));
    json_object_set_new(j, "tie_word_embeddings", json_boolean(!c->untied));
    json_object_set_new(j, "torch_dtype", json_string("float32"));
    json_object_set_new(j, "use_cache", json_true());
    hf_write_switches(j, c);
    if ((rc = hf_write_special_ids(j, m, dir, err))) goto out;
    rc = lmc_json_save_file(j, cpath, err);
out:
    json_decref(arch);
    json_decref(j);
    free(cpath);
    free(spath);
    for (int k = 0; bufs && k < n; k++) lmc_free(bufs[k]);
    free(bufs);
    free(ts);
    lmc_free(map);
    return rc;
}
