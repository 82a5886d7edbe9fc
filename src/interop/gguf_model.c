/* gpt2_model <-> GGUF (see gguf_model.h). One table of tensors, built from the model's config, drives
 * both export and load, so the two directions cannot disagree. */
#include "interop/gguf_model.h"
#include "interop/gguf.h"
#include "interop/hf_family.h"
#include "base/io.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct ent {
    char name[GGUF_MAX_NAME];
    int view;            /* lmc view index */
    int64_t rows, cols;  /* GGUF tensor as row-major [rows][cols] (ne0 = cols); cols = 0: 1-D of rows */
    int64_t col0;        /* transposed: first lmc column */
    int transpose;       /* lmc Conv1D [in, out_total] -> [out][in] */
    int perm;            /* q/k: heads to permute (0 = none) */
} ent;

typedef struct table {
    int n;
    ent *e;
} table;

static int add(table *t, const gpt2_model *m, const char *name, const char *view, int64_t rows, int64_t cols,
               int64_t col0, int transpose, int perm, lmc_err *err) {
    const gpt2_view *v = gpt2_find_view(m, view);
    if (!v) return lmc_errf(err, LMC_EINVAL, "gguf: model has no tensor %s", view);
    ent *e = &t->e[t->n++];
    snprintf(e->name, sizeof e->name, "%s", name);
    e->view = (int)(v - m->views);
    e->rows = rows;
    e->cols = cols;
    e->col0 = col0;
    e->transpose = transpose;
    e->perm = perm;
    return 0;
}

static int build_table(const gpt2_model *m, table *t, lmc_err *err) {
    const gpt2_config *c = &m->cfg;
    int L = c->n_layer;
    t->n = 0;
    t->e = calloc((size_t)(16 * L + 8), sizeof *t->e);
    if (!t->e) return lmc_errf(err, LMC_ENOMEM, "out of memory");
    int64_t d = c->d_model, V = c->vocab_size, F = c->d_ff, H = c->n_head, KV = c->n_kv_head, hd = d / H;
    int llama = c->arch == GPT2_ARCH_LLAMA;
    int rc = 0;
    char g[GGUF_MAX_NAME], h[48];
#define ADD(gn, hn, r, cc, c0, tr, pm) (rc = rc ? rc : add(t, m, gn, hn, r, cc, c0, tr, pm, err))
    ADD("token_embd.weight", "wte.weight", V, d, 0, 0, 0);
    if (!llama) ADD("position_embd.weight", "wpe.weight", c->max_seq, d, 0, 0, 0);
    ADD("output_norm.weight", "ln_f.weight", d, 0, 0, 0, 0);
    if (!c->no_bias && c->norm == GPT2_NORM_LAYERNORM) ADD("output_norm.bias", "ln_f.bias", d, 0, 0, 0, 0);
    if (c->untied) ADD("output.weight", "lm_head.weight", V, d, 0, 0, 0);
    for (int l = 0; l < L && !rc; l++) {
#define B(gs, hs, r, cc, c0, tr, pm) do { snprintf(g, sizeof g, "blk.%d." gs, l); snprintf(h, sizeof h, "h.%d." hs, l); \
        ADD(g, h, r, cc, c0, tr, pm); } while (0)
        B("attn_norm.weight", "ln_1.weight", d, 0, 0, 0, 0);
        if (llama) {
            B("attn_q.weight", "attn.c_attn.weight", H * hd, d, 0, 1, (int)H);
            B("attn_k.weight", "attn.c_attn.weight", KV * hd, d, H * hd, 1, (int)KV);
            B("attn_v.weight", "attn.c_attn.weight", KV * hd, d, (H + KV) * hd, 1, 0);
            B("attn_output.weight", "attn.c_proj.weight", d, H * hd, 0, 1, 0);
            B("ffn_norm.weight", "ln_2.weight", d, 0, 0, 0, 0);
            B("ffn_gate.weight", "mlp.c_fc.weight", F, d, 0, 1, 0);
            B("ffn_up.weight", "mlp.c_fc.weight", F, d, F, 1, 0);
            B("ffn_down.weight", "mlp.c_proj.weight", d, F, 0, 1, 0);
        } else {
            B("attn_norm.bias", "ln_1.bias", d, 0, 0, 0, 0);
            B("attn_qkv.weight", "attn.c_attn.weight", 3 * d, d, 0, 1, 0);
            B("attn_qkv.bias", "attn.c_attn.bias", 3 * d, 0, 0, 0, 0);
            B("attn_output.weight", "attn.c_proj.weight", d, d, 0, 1, 0);
            B("attn_output.bias", "attn.c_proj.bias", d, 0, 0, 0, 0);
            B("ffn_norm.weight", "ln_2.weight", d, 0, 0, 0, 0);
            B("ffn_norm.bias", "ln_2.bias", d, 0, 0, 0, 0);
            B("ffn_up.weight", "mlp.c_fc.weight", F, d, 0, 1, 0);
            B("ffn_up.bias", "mlp.c_fc.bias", F, 0, 0, 0, 0);
            B("ffn_down.weight", "mlp.c_proj.weight", d, F, 0, 1, 0);
            B("ffn_down.bias", "mlp.c_proj.bias", d, 0, 0, 0, 0);
        }
#undef B
    }
#undef ADD
    if (rc) { free(t->e); t->e = NULL; }
    return rc;
}

void gguf_permute_qk(const float *in, float *out, int n_head, int hd, int64_t cols, int inverse) {
    int half = hd / 2;
    for (int hh = 0; hh < n_head; hh++)
        for (int s = 0; s < 2; s++)
            for (int j = 0; j < half; j++) {
                int64_t nr = (int64_t)hh * hd + 2 * j + s, orow = (int64_t)hh * hd + s * half + j;
                const float *src = in + (inverse ? nr : orow) * cols;
                float *dst = out + (inverse ? orow : nr) * cols;
                memcpy(dst, src, (size_t)cols * sizeof *dst);
            }
}

/* lmc params -> GGUF row-major tensor (buf: rows * max(cols, 1) floats; tmp same size for perm). */
static void gather(const gpt2_model *m, const ent *e, float *buf, float *tmp) {
    const gpt2_view *v = &m->views[e->view];
    const float *p = m->params + v->offset;
    int64_t cols = e->cols ? e->cols : 1;
    if (!e->transpose) {
        memcpy(buf, p, (size_t)(e->rows * cols) * sizeof *buf);
    } else {
        int64_t out_total = v->shape[1];
        for (int64_t r = 0; r < e->rows; r++)
            for (int64_t c = 0; c < e->cols; c++) buf[r * cols + c] = p[c * out_total + e->col0 + r];
    }
    if (e->perm) {
        memcpy(tmp, buf, (size_t)(e->rows * cols) * sizeof *buf);
        gguf_permute_qk(tmp, buf, e->perm, (int)(e->rows / e->perm), cols, 0);
    }
}

static void scatter(gpt2_model *m, const ent *e, float *buf, float *tmp) {
    const gpt2_view *v = &m->views[e->view];
    float *p = m->params + v->offset;
    int64_t cols = e->cols ? e->cols : 1;
    if (e->perm) {
        memcpy(tmp, buf, (size_t)(e->rows * cols) * sizeof *buf);
        gguf_permute_qk(tmp, buf, e->perm, (int)(e->rows / e->perm), cols, 1);
    }
    if (!e->transpose) {
        memcpy(p, buf, (size_t)(e->rows * cols) * sizeof *buf);
    } else {
        int64_t out_total = v->shape[1];
        for (int64_t r = 0; r < e->rows; r++)
            for (int64_t c = 0; c < e->cols; c++) p[c * out_total + e->col0 + r] = buf[r * cols + c];
    }
}

const char *gguf_pre_name(tok_pattern_kind k) {
    switch (k) {
    case TOK_PAT_GPT2: return "gpt-2";
    case TOK_PAT_CL100K: return "llama-bpe";
    case TOK_PAT_O200K: return "gpt-4o";
    default: return NULL;
    }
}

int gguf_dtype_parse(const char *s) {
    if (!strcmp(s, "f32")) return GGML_T_F32;
    if (!strcmp(s, "f16")) return GGML_T_F16;
    if (!strcmp(s, "bf16")) return GGML_T_BF16;
    if (!strcmp(s, "q8_0")) return GGML_T_Q8_0;
    return -1;
}

/* Token bytes in the byte-to-unicode alphabet (at most 2 UTF-8 bytes per byte). */
static char *bytelevel(const uint8_t *p, size_t n, size_t *out_len) {
    char *s = malloc(2 * n + 1);
    if (!s) return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t cp = tok_byte_to_unicode(p[i]);
        if (cp < 0x80) s[o++] = (char)cp;
        else { s[o++] = (char)(0xC0 | (cp >> 6)); s[o++] = (char)(0x80 | (cp & 0x3F)); }
    }
    s[o] = 0;
    *out_len = o;
    return s;
}

static void free_strs(char **v, size_t n) {
    for (size_t i = 0; v && i < n; i++) free(v[i]);
    free(v);
}

static int write_tokenizer(gguf_writer *w, const gpt2_model *m, const tok_tokenizer *tok, const char *pre,
                           const char *path, lmc_err *err) {
    uint32_t V = (uint32_t)m->cfg.vocab_size;
    if (tok_n_vocab(tok) > V)
        return lmc_errf(err, LMC_EINVAL, "%s: the tokenizer has %u ids but the model only %u", path, tok_n_vocab(tok), V);
    int rc = LMC_ENOMEM;
    char **toks = calloc(V, sizeof *toks);
    size_t *lens = calloc(V, sizeof *lens);
    int32_t *types = calloc(V, sizeof *types);
    char **mer = NULL;
    uint32_t nm = 0;
    if (!toks || !lens || !types) goto oom;
    for (uint32_t id = 0; id < V; id++) {
        size_t n;
        const uint8_t *b = id < tok_n_vocab(tok) ? tok_token_bytes(tok, id, &n) : NULL;
        if (b && tok_is_ordinary(tok, id)) {
            toks[id] = bytelevel(b, n, &lens[id]);
            types[id] = 1;
        } else {
            char pad[32];
            snprintf(pad, sizeof pad, "[PAD%u]", id);
            toks[id] = strdup(pad);
            lens[id] = strlen(pad);
            types[id] = 5;
        }
        if (!toks[id]) goto oom;
    }
    for (size_t i = 0; i < tok_n_special(tok); i++) {
        size_t n;
        uint32_t id;
        const char *s = tok_special(tok, i, &n, &id);
        if (id >= V) continue;
        free(toks[id]);
        if (!(toks[id] = malloc(n + 1))) goto oom;
        memcpy(toks[id], s, n);
        toks[id][n] = 0;
        lens[id] = n;
        types[id] = tok_special_is_special(tok, i) ? 3 : 4;
    }
    const uint32_t *ma, *mb;
    if ((rc = tok_merge_list(tok, &nm, &ma, &mb, err))) goto out;
    rc = LMC_ENOMEM;
    if (!(mer = calloc(nm ? nm : 1, sizeof *mer))) goto oom;
    for (uint32_t r = 0; r < nm; r++) {
        size_t la, lb, n1, n2;
        const uint8_t *a = tok_token_bytes(tok, ma[r], &n1), *b = tok_token_bytes(tok, mb[r], &n2);
        if (!a || !b) { rc = lmc_errf(err, LMC_EINVAL, "%s: merge %u names a missing token", path, r); goto out; }
        char *sa = bytelevel(a, n1, &la), *sb = bytelevel(b, n2, &lb);
        if (sa && sb && (mer[r] = malloc(la + lb + 2))) {
            memcpy(mer[r], sa, la);
            mer[r][la] = ' ';
            memcpy(mer[r] + la + 1, sb, lb + 1);
        }
        free(sa);
        free(sb);
        if (!mer[r]) goto oom;
    }
    int64_t eot = tok_eot_id(tok);
    int64_t bos = m->bos_id >= 0 ? m->bos_id : eot, eos = m->eos_id >= 0 ? m->eos_id : eot;
    if ((rc = gguf_w_str(w, "tokenizer.ggml.model", "gpt2", err)) || (rc = gguf_w_str(w, "tokenizer.ggml.pre", pre, err)) ||
        (rc = gguf_w_arr_str(w, "tokenizer.ggml.tokens", (const char *const *)toks, lens, V, err)) ||
        (rc = gguf_w_arr_i32(w, "tokenizer.ggml.token_type", types, V, err)) ||
        (rc = gguf_w_arr_str(w, "tokenizer.ggml.merges", (const char *const *)mer, NULL, nm, err)))
        goto out;
    if (bos >= 0 && bos < V && (rc = gguf_w_u32(w, "tokenizer.ggml.bos_token_id", (uint32_t)bos, err))) goto out;
    if (eos >= 0 && eos < V && (rc = gguf_w_u32(w, "tokenizer.ggml.eos_token_id", (uint32_t)eos, err))) goto out;
    if ((rc = gguf_w_bool(w, "tokenizer.ggml.add_bos_token", 0, err)) ||
        (rc = gguf_w_bool(w, "tokenizer.ggml.add_eos_token", 0, err)))
        goto out;
    rc = 0;
    goto out;
oom:
    rc = lmc_errf(err, LMC_ENOMEM, "out of memory building the tokenizer of %s", path);
out:
    free_strs(toks, V);
    free(lens);
    free(types);
    free_strs(mer, nm);
    return rc;
}

int gguf_export_model(const gpt2_model *m, const tok_tokenizer *tok, const gguf_export_opts *o, const char *path,
                      lmc_err *err) {
    const gpt2_config *c = &m->cfg;
    int llama = c->arch == GPT2_ARCH_LLAMA;
    if (!hf_expressible(c) || (llama && (!c->no_bias || c->qkv_bias)))
        return lmc_errf(err, LMC_EINVAL, "%s: this model's switches (lmc_switches) have no llama.cpp architecture; only "
                        "plain GPT-2 and Llama export to GGUF", path);
    const char *pre = o->pre;
    tok_pattern_kind pk = TOK_PAT_NONE;
    tok_pattern(tok, &pk);
    if (!pre && !(pre = gguf_pre_name(pk)))
        return lmc_errf(err, LMC_EINVAL, "%s: the tokenizer's pre-tokenizer pattern is not GPT-2's, cl100k's or o200k's, "
                        "so llama.cpp has no name for it (give one with --pre NAME)", path);
    const char *arch = llama ? "llama" : "gpt2";
    uint32_t ft = o->dtype == GGML_T_F32 ? GGUF_FT_ALL_F32 : o->dtype == GGML_T_F16 ? GGUF_FT_MOSTLY_F16
                : o->dtype == GGML_T_BF16 ? GGUF_FT_MOSTLY_BF16 : GGUF_FT_MOSTLY_Q8_0;
    gguf_writer w;
    gguf_writer_init(&w, 0);
    table t = {0};
    float *buf = NULL, *tmp = NULL;
    int rc;
    char k[96];
#define KEY(s) (snprintf(k, sizeof k, "%s." s, arch), k)
    if ((rc = gguf_w_str(&w, "general.architecture", arch, err)) || (rc = gguf_w_str(&w, "general.type", "model", err)) ||
        (rc = gguf_w_str(&w, "general.name", o->name ? o->name : "lmc", err)) ||
        (rc = gguf_w_u32(&w, "general.file_type", ft, err)) ||
        (rc = gguf_w_u32(&w, "general.quantization_version", 2, err)) ||
        (rc = gguf_w_u32(&w, KEY("block_count"), (uint32_t)c->n_layer, err)) ||
        (rc = gguf_w_u32(&w, KEY("context_length"), (uint32_t)c->max_seq, err)) ||
        (rc = gguf_w_u32(&w, KEY("embedding_length"), (uint32_t)c->d_model, err)) ||
        (rc = gguf_w_u32(&w, KEY("feed_forward_length"), (uint32_t)c->d_ff, err)) ||
        (rc = gguf_w_u32(&w, KEY("attention.head_count"), (uint32_t)c->n_head, err)))
        goto out;
    if (llama) {
        if ((rc = gguf_w_u32(&w, KEY("attention.head_count_kv"), (uint32_t)c->n_kv_head, err)) ||
            (rc = gguf_w_f32(&w, KEY("rope.freq_base"), c->rope_theta, err)) ||
            (rc = gguf_w_f32(&w, KEY("attention.layer_norm_rms_epsilon"), c->ln_eps, err)) ||
            (rc = gguf_w_u32(&w, KEY("rope.dimension_count"), (uint32_t)(c->d_model / c->n_head), err)) ||
            (rc = gguf_w_u32(&w, KEY("vocab_size"), (uint32_t)c->vocab_size, err)))
            goto out;
    } else if ((rc = gguf_w_f32(&w, KEY("attention.layer_norm_epsilon"), c->ln_eps, err))) {
        goto out;
    }
#undef KEY
    if ((rc = write_tokenizer(&w, m, tok, pre, path, err))) goto out;
    if ((rc = build_table(m, &t, err))) goto out;
    size_t maxn = 0;
    for (int i = 0; i < t.n; i++) {
        size_t n = (size_t)(t.e[i].rows * (t.e[i].cols ? t.e[i].cols : 1));
        if (n > maxn) maxn = n;
    }
    buf = malloc(maxn * sizeof *buf);
    tmp = malloc(maxn * sizeof *tmp);
    if (!buf || !tmp) { rc = lmc_errf(err, LMC_ENOMEM, "out of memory"); goto out; }
    for (int i = 0; i < t.n; i++) {
        const ent *e = &t.e[i];
        gather(m, e, buf, tmp);
        int64_t ne[2] = {e->cols ? e->cols : e->rows, e->rows};
        uint32_t ty = e->cols ? o->dtype : GGML_T_F32;
        if (ty == GGML_T_Q8_0 && e->cols % GGUF_Q8_0_BLOCK) ty = GGML_T_F16;
        if ((rc = gguf_w_tensor_f32(&w, e->name, ty, e->cols ? 2 : 1, ne, buf, err))) goto out;
    }
    rc = gguf_write(&w, path, err);
out:
    free(buf);
    free(tmp);
    free(t.e);
    gguf_writer_free(&w);
    return rc;
}

int gguf_is_file(const char *path) {
    if (lmc_is_dir(path)) return 0;
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    uint32_t magic = 0;
    int ok = fread(&magic, 4, 1, f) == 1 && magic == GGUF_MAGIC;
    fclose(f);
    return ok;
}

static int hp(const gguf_file *f, const char *arch, const char *key, uint64_t max, int *out, lmc_err *err) {
    char k[96];
    snprintf(k, sizeof k, "%s.%s", arch, key);
    uint64_t v;
    int rc = gguf_get_uint(f, k, max, &v, err);
    if (!rc) *out = (int)v;
    return rc;
}

static int hpf(const gguf_file *f, const char *arch, const char *key, float *out, lmc_err *err) {
    char k[96];
    snprintf(k, sizeof k, "%s.%s", arch, key);
    double v;
    int rc = gguf_get_float(f, k, &v, err);
    if (!rc) {
        if (!(v > 0 && v < 1e30)) return lmc_errf(err, LMC_EFORMAT, "%s: key '%s' = %g is out of range", f->path, k, v);
        *out = (float)v;
    }
    return rc;
}

int gpt2_load_gguf(const char *path, gpt2_model **out, lmc_err *err) {
    *out = NULL;
    gguf_file f;
    int rc = gguf_open(&f, path, err);
    if (rc) return rc;
    gpt2_model *m = NULL;
    table t = {0};
    float *buf = NULL, *tmp = NULL;
    const char *as;
    size_t al;
    if ((rc = gguf_get_str(&f, "general.architecture", &as, &al, err))) goto out;
    char arch[16];
    int llama;
    if (al == 4 && !memcmp(as, "gpt2", 4)) llama = 0;
    else if (al == 5 && !memcmp(as, "llama", 5)) llama = 1;
    else {
        rc = lmc_errf(err, LMC_EFORMAT, "%s: general.architecture '%.*s' is not supported (gpt2, llama)", path,
                      (int)(al > 64 ? 64 : al), as);
        goto out;
    }
    snprintf(arch, sizeof arch, "%s", llama ? "llama" : "gpt2");
    gpt2_config c;
    gpt2_config_preset(&c, llama ? GPT2_ARCH_LLAMA : GPT2_ARCH_GPT2);
    const gguf_tensor *te = gguf_find_tensor(&f, "token_embd.weight");
    if (!te || te->n_dims != 2) { rc = lmc_errf(err, LMC_EFORMAT, "%s: no 2-D tensor token_embd.weight", path); goto out; }
    if ((rc = hp(&f, arch, "block_count", 1024, &c.n_layer, err)) || (rc = hp(&f, arch, "context_length", 1 << 20, &c.max_seq, err)) ||
        (rc = hp(&f, arch, "embedding_length", 1 << 16, &c.d_model, err)) ||
        (rc = hp(&f, arch, "feed_forward_length", 1 << 20, &c.d_ff, err)) ||
        (rc = hp(&f, arch, "attention.head_count", 1024, &c.n_head, err)))
        goto out;
    if (te->ne[0] != c.d_model || te->ne[1] > (1 << 24)) {
        rc = lmc_errf(err, LMC_EFORMAT, "%s: token_embd.weight is [%lld, %lld], expected ne0 = embedding_length %d", path,
                      (long long)te->ne[0], (long long)te->ne[1], c.d_model);
        goto out;
    }
    c.vocab_size = (int)te->ne[1];
    c.untied = gguf_find_tensor(&f, "output.weight") != NULL;
    if (llama) {
        int hd;
        c.n_kv_head = c.n_head;
        rc = hp(&f, arch, "attention.head_count_kv", 1024, &c.n_kv_head, err);
        if (rc && rc != LMC_ENOTFOUND) goto out;
        c.rope_theta = 10000.0f;
        rc = hpf(&f, arch, "rope.freq_base", &c.rope_theta, err);
        if (rc && rc != LMC_ENOTFOUND) goto out;
        if ((rc = hpf(&f, arch, "attention.layer_norm_rms_epsilon", &c.ln_eps, err))) goto out;
        if (c.n_head <= 0 || c.d_model % c.n_head) { rc = lmc_errf(err, LMC_EFORMAT, "%s: embedding_length %d is not a multiple of head_count %d", path, c.d_model, c.n_head); goto out; }
        hd = c.d_model / c.n_head;
        rc = hp(&f, arch, "rope.dimension_count", 1 << 16, &hd, err);
        if (rc && rc != LMC_ENOTFOUND) goto out;
        if (hd != c.d_model / c.n_head) {
            rc = lmc_errf(err, LMC_EFORMAT, "%s: rope.dimension_count %d != head size %d: partial RoPE is not supported", path, hd,
                          c.d_model / c.n_head);
            goto out;
        }
        const gguf_kv *rs = gguf_find_kv(&f, "llama.rope.scaling.type");
        if (rs) { rc = lmc_errf(err, LMC_EFORMAT, "%s: RoPE scaling is not supported", path); goto out; }
    } else if ((rc = hpf(&f, arch, "attention.layer_norm_epsilon", &c.ln_eps, err))) {
        goto out;
    }
    rc = 0;
    if ((rc = gpt2_config_check(&c, err))) { lmc_err_wrap(err, "%s", path); goto out; }
    /* the weights must be in the file: bound the allocation by the file's size before allocating */
    if (gpt2_param_count(&c) > f.len) {
        rc = lmc_errf(err, LMC_EFORMAT, "%s: the header describes %zu parameters but the file has %zu bytes", path,
                      gpt2_param_count(&c), f.len);
        goto out;
    }
    if ((rc = gpt2_create(&m, &c, err))) goto out;
    if ((rc = build_table(m, &t, err))) goto out;
    int missing = 0;
    for (int i = 0; i < t.n && !missing; i++) missing = !gguf_find_tensor(&f, t.e[i].name);
    if ((size_t)t.n != f.n_tensors || missing) { /* name the tensor lmc does not know, if there is one */
        for (size_t i = 0; i < f.n_tensors; i++) {
            int known = 0;
            for (int j = 0; j < t.n && !known; j++) known = !strcmp(t.e[j].name, f.tensors[i].name);
            if (!known) { rc = lmc_errf(err, LMC_EFORMAT, "%s: unexpected tensor '%s'", path, f.tensors[i].name); goto out; }
        }
    }
    size_t maxn = 0;
    for (int i = 0; i < t.n; i++) {
        size_t n = (size_t)(t.e[i].rows * (t.e[i].cols ? t.e[i].cols : 1));
        if (n > maxn) maxn = n;
    }
    buf = malloc(maxn * sizeof *buf);
    tmp = malloc(maxn * sizeof *tmp);
    if (!buf || !tmp) { rc = lmc_errf(err, LMC_ENOMEM, "out of memory"); goto out; }
    for (int i = 0; i < t.n; i++) {
        const ent *e = &t.e[i];
        const gguf_tensor *g = gguf_find_tensor(&f, e->name);
        if (!g) { rc = lmc_errf(err, LMC_EFORMAT, "%s: missing tensor '%s'", path, e->name); goto out; }
        int64_t ne0 = e->cols ? e->cols : e->rows, ne1 = e->cols ? e->rows : 1;
        if (g->n_dims != (e->cols ? 2u : 1u) || g->ne[0] != ne0 || g->ne[1] != ne1) {
            rc = lmc_errf(err, LMC_EFORMAT, "%s: tensor '%s' has %u dims [%lld, %lld], expected [%lld, %lld]", path, e->name,
                          g->n_dims, (long long)g->ne[0], (long long)g->ne[1], (long long)ne0, (long long)ne1);
            goto out;
        }
        uint64_t n = (uint64_t)(ne0 * ne1);
        if ((rc = gguf_tensor_f32(&f, g, buf, n, err))) goto out;
        for (uint64_t j = 0; j < n; j++)
            if (!isfinite(buf[j])) {
                rc = lmc_errf(err, LMC_ENUMERIC, "%s: tensor '%s' has a non-finite value at element %llu", path, e->name,
                              (unsigned long long)j);
                goto out;
            }
        scatter(m, e, buf, tmp);
    }
    uint64_t id;
    if (!gguf_get_uint(&f, "tokenizer.ggml.bos_token_id", (uint64_t)c.vocab_size - 1, &id, err)) m->bos_id = (int)id;
    if (!gguf_get_uint(&f, "tokenizer.ggml.eos_token_id", (uint64_t)c.vocab_size - 1, &id, err)) m->eos_id = (int)id;
    lmc_err_clear(err);
    rc = 0;
out:
    free(buf);
    free(tmp);
    free(t.e);
    gguf_close(&f);
    if (rc) gpt2_free(m);
    else *out = m;
    return rc;
}

int gpt2_load_any(const char *path, gpt2_model **out, lmc_err *err) {
    if (gguf_is_file(path)) return gpt2_load_gguf(path, out, err);
    return gpt2_load_hf(path, out, err);
}
