/* HF LlamaForCausalLM folders made by transformers (tests/reference/make_llama_hf_fixtures.py): F32
 * single file and BF16 sharded with a tied head load and give transformers' logits; lmc's save writes
 * back exactly transformers' tensors; transformers 5.x config fields; unsupported fields are errors
 * naming the field; special token ids survive a re-save. */
#include <jansson.h>
#include <limits.h>
#include <stdlib.h>
#include <unistd.h>
#include "test.h"
#include "model/gpt2.h"
#include "kernels/cpu/kernels.h"
#include "interop/safetensors.h"
#include "base/io.h"
#include "base/json.h"

static char fix[4200];

static double rel_err(const float *a, const float *b, size_t rows, size_t n, size_t lda) {
    double md = 0, mb = 0;
    for (size_t r = 0; r < rows; r++)
        for (size_t i = 0; i < n; i++) {
            double d = fabs((double)a[r * lda + i] - b[r * n + i]);
            if (d > md || d != d) md = d != d ? INFINITY : d;
            if (fabs(b[r * n + i]) > mb) mb = fabs(b[r * n + i]);
        }
    return md / (mb > 0 ? mb : 1);
}

static float *tensor(const st_file *f, const char *name) {
    const st_tensor *t = st_find(f, name);
    if (!t) { fprintf(stderr, "missing %s\n", name); exit(1); }
    float *o = (float *)malloc(t->numel * 4 + 4);
    lmc_err e;
    if (t->dtype == ST_I32) memcpy(o, t->data, t->numel * 4);
    else if (st_read_f32(f, t, o, t->numel, &e)) exit(1);
    return o;
}

static double f64(const st_file *f, const char *name) {
    double d;
    memcpy(&d, st_find(f, name)->data, 8);
    return d;
}

/* forward the fixture batch and compare with transformers */
static void check_logits(gpt2_model *m, const st_file *ref, const char *lname, const char *lossname, double tol) {
    lmc_err err;
    const st_tensor *ti = st_find(ref, "inputs");
    int B = (int)ti->shape[0], T = (int)ti->shape[1];
    int32_t *x = (int32_t *)tensor(ref, "inputs"), *y = (int32_t *)tensor(ref, "targets");
    float *lg = tensor(ref, lname);
    float loss = 0;
    int rc = gpt2_forward(m, x, y, B, T, &loss, &err);
    CHECK_MSG(rc == 0, "%s", err.msg);
    double e = rel_err(m->logits, lg, (size_t)B * T, (size_t)m->cfg.vocab_size, (size_t)m->cfg.padded_vocab);
    printf("%s: logits rel err %.3g, loss %.7f vs transformers %.7f\n", lname, e, loss, f64(ref, lossname));
    CHECK(e < tol);
    CHECK_CLOSE(loss, f64(ref, lossname), 0, 1e-5);
    free(x); free(y); free(lg);
}

/* write dir/config.json = the fixture's config patched by `patch` (JSON object merged; null deletes) */
static void patched_folder(const char *dir, const char *patch) {
    lmc_err err;
    lmc_mkdirs(dir, &err);
    char p[4400], q[4400];
    snprintf(p, sizeof p, "%s/llama_tiny/config.json", fix);
    json_t *j = lmc_json_load_file(p, &err);
    json_t *pj = json_loads(patch, 0, NULL);
    const char *k;
    json_t *v;
    json_object_foreach(pj, k, v) {
        if (json_is_null(v) && strcmp(k, "rope_scaling") && strcmp(k, "sliding_window")) json_object_del(j, k);
        else json_object_set(j, k, v);
    }
    snprintf(q, sizeof q, "%s/config.json", dir);
    lmc_json_save_file(j, q, &err);
    json_decref(j);
    json_decref(pj);
    snprintf(p, sizeof p, "%s/llama_tiny/model.safetensors", fix);
    snprintf(q, sizeof q, "%s/model.safetensors", dir);
    unlink(q);
    char *abs = realpath(p, NULL);
    CHECK(abs && symlink(abs, q) == 0);
    free(abs);
}

static void expect_refused(const char *tmp, const char *patch, const char *field) {
    char dir[4400];
    snprintf(dir, sizeof dir, "%s/bad", tmp);
    patched_folder(dir, patch);
    gpt2_model *m = NULL;
    lmc_err err = {0};
    CHECK(gpt2_load_hf(dir, &m, &err) != 0 && m == NULL);
    CHECK_STR_CONTAINS(err.msg, field);
}

int main(void) {
    lmc_kernels_set_threads(2);
    snprintf(fix, sizeof fix, "%s/tests/interop/fixtures", test_source_dir());
    char dir[4300], rp[4400];
    lmc_err err = {0};
    snprintf(rp, sizeof rp, "%s/llama_tiny_ref.safetensors", fix);
    st_file ref;
    CHECK(st_open(&ref, rp, &err) == 0);

    /* F32, single file, untied head, GQA */
    snprintf(dir, sizeof dir, "%s/llama_tiny", fix);
    gpt2_model *m = NULL;
    int rc = gpt2_load_hf(dir, &m, &err);
    CHECK_MSG(rc == 0, "%s", err.msg);
    if (rc) return test_summary("hf_llama");
    CHECK(m->cfg.arch == GPT2_ARCH_LLAMA && m->cfg.n_kv_head == 2 && m->cfg.untied && m->cfg.no_bias &&
          m->cfg.norm == GPT2_NORM_RMSNORM && m->cfg.position == GPT2_POS_ROPE && m->cfg.mlp == GPT2_MLP_SWIGLU);
    CHECK_EQ_INT(m->cfg.d_ff, 96);
    CHECK_EQ_INT(m->bos_id, 1);
    CHECK_EQ_INT(m->eos_id, 2);
    check_logits(m, &ref, "logits", "loss", 1e-4);

    /* eval windows as lmc eval takes them, against transformers' loss */
    {
        char bp[4400], jp[4400];
        snprintf(bp, sizeof bp, "%s/llama_tiny_eval.bin", fix);
        snprintf(jp, sizeof jp, "%s/llama_tiny_eval.json", fix);
        char *raw;
        size_t len;
        CHECK(lmc_read_file(bp, &raw, &len, &err) == 0);
        json_t *j = lmc_json_load_file(jp, &err);
        int T = (int)json_integer_value(json_object_get(j, "seq_len"));
        double want = json_number_value(json_object_get(j, "loss"));
        int n = (int)((len - 1024) / 2), nwin = (n - 1) / T;
        const uint16_t *tk = (const uint16_t *)(raw + 1024);
        int32_t *x = (int32_t *)malloc(sizeof(int32_t) * (size_t)nwin * T), *y = (int32_t *)malloc(sizeof(int32_t) * (size_t)nwin * T);
        for (int w = 0; w < nwin; w++)
            for (int t = 0; t < T; t++) { x[w * T + t] = tk[w * T + t]; y[w * T + t] = tk[w * T + t + 1]; }
        float loss = 0;
        CHECK(gpt2_forward(m, x, y, nwin, T, &loss, &err) == 0);
        printf("eval windows: loss %.7f vs transformers %.7f (rel %.2g)\n", loss, want, fabs(loss - want) / want);
        CHECK_CLOSE(loss, want, 0, 1e-5);
        /* the same through `lmc eval` on the unchanged HF folder */
        const char *bin = getenv("LMC_BIN");
        if (bin) {
            char cmd[9000], out[512] = {0};
            snprintf(cmd, sizeof cmd, "%s eval --quiet --model %s/llama_tiny --data %s --seq-len %d", bin, fix, bp, T);
            FILE *f = popen(cmd, "r");
            size_t got = f ? fread(out, 1, sizeof out - 1, f) : 0;
            CHECK(f && pclose(f) == 0 && got > 0);
            const char *lp = strstr(out, "\"loss\": ");
            CHECK(lp != NULL);
            if (lp) CHECK_CLOSE(atof(lp + 8), want, 0, 1e-5);
        }
        free(x); free(y); free(raw);
        json_decref(j);
    }

    /* save: exactly transformers' tensors and config; reload is exact; ids kept */
    char *tmp = test_tmpdir();
    snprintf(dir, sizeof dir, "%s/saved", tmp);
    CHECK(gpt2_save_hf(m, dir, &err) == 0);
    {
        char a[4400], b[4600];
        snprintf(a, sizeof a, "%s/llama_tiny/model.safetensors", fix);
        snprintf(b, sizeof b, "%s/model.safetensors", dir);
        st_file fa, fb;
        CHECK(st_open(&fa, a, &err) == 0 && st_open(&fb, b, &err) == 0);
        CHECK_EQ_INT(fa.n_tensors, fb.n_tensors);
        int same = 1;
        for (size_t i = 0; i < fa.n_tensors; i++) {
            const st_tensor *ta = &fa.tensors[i], *tb = st_find(&fb, ta->name);
            if (!tb || tb->numel != ta->numel || tb->dtype != ta->dtype || memcmp(ta->data, tb->data, ta->end - ta->begin)) {
                same = 0;
                fprintf(stderr, "saved tensor %s differs\n", ta->name);
            }
        }
        CHECK(same);
        st_close(&fa);
        st_close(&fb);
        snprintf(b, sizeof b, "%s/config.json", dir);
        json_t *j = lmc_json_load_file(b, &err);
        CHECK(j && !strcmp(json_string_value(json_object_get(j, "model_type")), "llama"));
        CHECK(json_integer_value(json_object_get(j, "num_key_value_heads")) == 2);
        CHECK(json_integer_value(json_object_get(j, "eos_token_id")) == 2);
        CHECK(json_is_false(json_object_get(j, "tie_word_embeddings")));
        CHECK(!json_object_get(j, "lmc_switches"));
        json_decref(j);
        snprintf(b, sizeof b, "%s/generation_config.json", dir);
        j = lmc_json_load_file(b, &err);
        CHECK(j && json_integer_value(json_object_get(j, "eos_token_id")) == 2);
        json_decref(j);
        gpt2_model *m2 = NULL;
        CHECK(gpt2_load_hf(dir, &m2, &err) == 0);
        CHECK(m2 && m2->n_floats == m->n_floats && !memcmp(m2->params, m->params, m->n_floats * 4));
        CHECK(m2 && m2->bos_id == 1 && m2->eos_id == 2);
        gpt2_free(m2);
    }

    /* transformers 5.x fields: rope_parameters, dtype */
    snprintf(dir, sizeof dir, "%s/v5", tmp);
    patched_folder(dir, "{\"rope_theta\": null, \"torch_dtype\": null, \"dtype\": \"float32\","
                        " \"rope_parameters\": {\"rope_type\": \"default\", \"rope_theta\": 10000.0}}");
    gpt2_model *m5 = NULL;
    rc = gpt2_load_hf(dir, &m5, &err);
    CHECK_MSG(rc == 0, "%s", err.msg);
    if (m5) check_logits(m5, &ref, "logits", "loss", 1e-4);
    gpt2_free(m5);
    gpt2_free(m);

    /* BF16, sharded, tied head */
    snprintf(dir, sizeof dir, "%s/llama_tiny_bf16", fix);
    m = NULL;
    rc = gpt2_load_hf(dir, &m, &err);
    CHECK_MSG(rc == 0, "%s", err.msg);
    if (m) {
        CHECK(!m->cfg.untied && m->lm_head == m->wte);
        check_logits(m, &ref, "logits_bf16", "loss_bf16", 1e-4);
    }
    gpt2_free(m);

    /* Qwen2: q/k/v biases only, tied head; saves back as Qwen2 with transformers' exact tensors */
    snprintf(dir, sizeof dir, "%s/qwen2_tiny", fix);
    m = NULL;
    rc = gpt2_load_hf(dir, &m, &err);
    CHECK_MSG(rc == 0, "%s", err.msg);
    if (m) {
        CHECK(m->cfg.qkv_bias && m->cfg.no_bias && !m->cfg.untied);
        check_logits(m, &ref, "logits_qwen2", "loss_qwen2", 1e-4);
        char out[4400], a[4400], b[4600];
        snprintf(out, sizeof out, "%s/qwen2_saved", tmp);
        CHECK(gpt2_save_hf(m, out, &err) == 0);
        snprintf(a, sizeof a, "%s/model.safetensors", dir);
        snprintf(b, sizeof b, "%s/model.safetensors", out);
        st_file fa, fb;
        CHECK(st_open(&fa, a, &err) == 0 && st_open(&fb, b, &err) == 0);
        int same = fa.n_tensors == fb.n_tensors;
        for (size_t i = 0; same && i < fa.n_tensors; i++) {
            const st_tensor *ta = &fa.tensors[i], *tb = st_find(&fb, ta->name);
            same = tb && tb->numel == ta->numel && !memcmp(ta->data, tb->data, ta->end - ta->begin);
        }
        CHECK(same);
        st_close(&fa);
        st_close(&fb);
        snprintf(b, sizeof b, "%s/config.json", out);
        json_t *j = lmc_json_load_file(b, &err);
        CHECK(j && !strcmp(json_string_value(json_object_get(j, "model_type")), "qwen2"));
        json_decref(j);
    }
    gpt2_free(m);

    /* fields lmc does not implement: errors that name them */
    expect_refused(tmp, "{\"rope_scaling\": {\"type\": \"linear\", \"factor\": 2.0}}", "rope_scaling");
    expect_refused(tmp, "{\"rope_parameters\": {\"rope_type\": \"llama3\", \"rope_theta\": 500000.0}}", "rope_parameters");
    expect_refused(tmp, "{\"sliding_window\": 4096}", "sliding_window");
    expect_refused(tmp, "{\"hidden_act\": \"gelu\"}", "hidden_act");
    expect_refused(tmp, "{\"num_local_experts\": 8}", "num_local_experts");
    expect_refused(tmp, "{\"head_dim\": 32}", "head_dim");
    expect_refused(tmp, "{\"num_key_value_heads\": 3}", "n_kv_head");
    expect_refused(tmp, "{\"intermediate_size\": 97}", "has the wrong shape");
    /* sliding_window: null (Mistral without a window) is fine */
    snprintf(dir, sizeof dir, "%s/mistral", tmp);
    patched_folder(dir, "{\"model_type\": \"mistral\", \"sliding_window\": null}");
    m = NULL;
    CHECK_MSG(gpt2_load_hf(dir, &m, &err) == 0, "%s", err.msg);
    gpt2_free(m);

    st_close(&ref);
    lmc_remove_tree(tmp, &err);
    free(tmp);
    return test_summary("hf_llama");
}
