/* HF GPT-2 folders: the committed fixture (prefixed F32 names), hub-style variants (no prefix,
 * F16/BF16, attn.bias buffers, lm_head.weight), and bad checkpoints -> clear errors. */
#include "test.h"
#include "model/gpt2.h"
#include "interop/safetensors.h"
#include "base/io.h"

static char src_dir[4200];
static gpt2_model *ref;

/* Write dir/config.json (copied from the fixture, optionally patched) and dir/model.safetensors from
 * the reference model's views: prefix, dtype, and one optional fault. */
enum { F_NONE, F_DROP, F_SHAPE, F_NAN, F_DUP, F_EXTRA };
static void write_variant(const char *dir, const char *prefix, st_dtype dt, int fault, int buffers) {
    lmc_err err;
    lmc_mkdirs(dir, &err);
    char p[4300], q[4300];
    snprintf(p, sizeof p, "%s/config.json", src_dir);
    snprintf(q, sizeof q, "%s/config.json", dir);
    char *cfg;
    size_t cl;
    lmc_read_file(p, &cfg, &cl, &err);
    lmc_write_file_atomic(q, cfg, cl, &err);
    free(cfg);
    int n = ref->n_views;
    st_out *o = (st_out *)calloc((size_t)n + 8, sizeof(st_out));
    char (*names)[96] = calloc((size_t)n + 8, 96);
    void **bufs = (void **)calloc((size_t)n + 8, sizeof(void *));
    int k = 0;
    for (int i = 0; i < n; i++) {
        const gpt2_view *v = &ref->views[i];
        if (fault == F_DROP && i == 5) continue;
        snprintf(names[k], 96, "%s%s", prefix, v->name);
        o[k].name = names[k];
        o[k].dtype = dt;
        o[k].ndim = v->ndim;
        o[k].shape[0] = v->shape[0];
        o[k].shape[1] = v->shape[1];
        if (fault == F_SHAPE && i == 4) o[k].shape[1] = v->shape[1] - 1;
        size_t numel = (size_t)o[k].shape[0] * (size_t)(v->ndim == 2 ? o[k].shape[1] : 1);
        const float *src = ref->params + v->offset;
        if (dt == ST_F32) {
            float *b = (float *)malloc(numel * 4 + 4);
            memcpy(b, src, numel * 4);
            if (fault == F_NAN && i == 3) b[1] = NAN;
            bufs[k] = b;
        } else {
            uint16_t *b = (uint16_t *)malloc(numel * 2 + 2);
            for (size_t j = 0; j < numel; j++) b[j] = dt == ST_BF16 ? st_f32_to_bf16(src[j]) : st_f32_to_f16(src[j]);
            bufs[k] = b;
        }
        o[k].data = bufs[k];
        k++;
    }
    static float mask[64 * 64], one[1] = {1.0f};
    if (buffers) {
        for (int l = 0; l < ref->cfg.n_layer; l++) {
            snprintf(names[k], 96, "%sh.%d.attn.bias", prefix, l);
            o[k] = (st_out){names[k], ST_F32, 4, {1, 1, 64, 64}, mask};
            k++;
        }
        snprintf(names[k], 96, "%sh.0.attn.masked_bias", prefix);
        o[k] = (st_out){names[k], ST_F32, 0, {0}, one};
        k++;
        snprintf(names[k], 96, "lm_head.weight");
        o[k] = (st_out){names[k], ST_F32, 2, {ref->views[0].shape[0], ref->views[0].shape[1]}, ref->params};
        k++;
    }
    if (fault == F_DUP) {
        snprintf(names[k], 96, "h.0.ln_1.bias");  /* also present as transformer.h.0.ln_1.bias */
        o[k] = (st_out){names[k], ST_F32, 1, {ref->views[3].shape[0]}, ref->params + ref->views[3].offset};
        k++;
    }
    if (fault == F_EXTRA) {
        snprintf(names[k], 96, "h.9.mlp.c_fc.weight");
        o[k] = (st_out){names[k], ST_F32, 1, {1}, one};
        k++;
    }
    snprintf(q, sizeof q, "%s/model.safetensors", dir);
    static const char *const meta[] = {"format", "pt", NULL};
    CHECK_MSG(st_write(q, o, (size_t)k, meta, &err) == 0, "%s", err.msg);
    for (int i = 0; i < k; i++) if (i < n && bufs[i]) free(bufs[i]);
    free(bufs);
    free(o);
    free(names);
}

static void expect_load_error(const char *dir, const char *needle) {
    gpt2_model *m = NULL;
    lmc_err err = {0};
    int rc = gpt2_load_hf(dir, &m, &err);
    CHECK_MSG(rc != 0, "loaded %s", dir);
    CHECK(m == NULL);
    if (rc) CHECK_STR_CONTAINS(err.msg, needle);
    gpt2_free(m);
}

int main(void) {
    lmc_err err = {0};
    snprintf(src_dir, sizeof src_dir, "%s/tests/model/fixtures/gpt2_tiny", test_source_dir());
    CHECK_MSG(gpt2_load_hf(src_dir, &ref, &err) == 0, "%s", err.msg);
    if (!ref) return test_summary("hf_gpt2");
    CHECK(ref->cfg.n_layer == 2 && ref->cfg.n_head == 4 && ref->cfg.d_model == 64 && ref->cfg.max_seq == 64 &&
          ref->cfg.vocab_size == 1000 && ref->cfg.padded_vocab == 1024);
    char *tmp = test_tmpdir();
    char d[4300];

    /* hub layout: no prefix, buffers and lm_head present, F32 -> identical weights */
    snprintf(d, sizeof d, "%s/hub", tmp);
    write_variant(d, "", ST_F32, F_NONE, 1);
    gpt2_model *m = NULL;
    CHECK_MSG(gpt2_load_hf(d, &m, &err) == 0, "%s", err.msg);
    if (m) CHECK(memcmp(m->params, ref->params, ref->n_floats * 4) == 0);
    gpt2_free(m);
    m = NULL;

    /* BF16 and F16: equal to the rounded values */
    for (int pass = 0; pass < 2; pass++) {
        st_dtype dt = pass ? ST_F16 : ST_BF16;
        snprintf(d, sizeof d, "%s/half%d", tmp, pass);
        write_variant(d, pass ? "transformer." : "", dt, F_NONE, 0);
        CHECK_MSG(gpt2_load_hf(d, &m, &err) == 0, "%s", err.msg);
        int same = m != NULL;
        for (size_t i = 0; m && i < ref->n_floats; i++) {
            float r = ref->params[i];
            float want = dt == ST_BF16 ? st_bf16_to_f32(st_f32_to_bf16(r)) : st_f16_to_f32(st_f32_to_f16(r));
            if (m->params[i] != want) { same = 0; break; }
        }
        CHECK_MSG(same, "%s weights differ from the rounded reference", st_dtype_name(dt));
        gpt2_free(m);
        m = NULL;
    }

    /* bad checkpoints */
    snprintf(d, sizeof d, "%s/drop", tmp);   write_variant(d, "transformer.", ST_F32, F_DROP, 0);  expect_load_error(d, "missing");
    snprintf(d, sizeof d, "%s/shape", tmp);  write_variant(d, "transformer.", ST_F32, F_SHAPE, 0); expect_load_error(d, "config.json implies");
    snprintf(d, sizeof d, "%s/nan", tmp);    write_variant(d, "transformer.", ST_F32, F_NAN, 0);   expect_load_error(d, "non-finite");
    snprintf(d, sizeof d, "%s/dup", tmp);    write_variant(d, "transformer.", ST_F32, F_DUP, 0);   expect_load_error(d, "twice");
    snprintf(d, sizeof d, "%s/extra", tmp);  write_variant(d, "", ST_F32, F_EXTRA, 0);             expect_load_error(d, "unexpected tensor");

    /* truncated file, header length past the end */
    snprintf(d, sizeof d, "%s/trunc", tmp);
    write_variant(d, "", ST_F32, F_NONE, 0);
    char p[4400];
    snprintf(p, sizeof p, "%s/model.safetensors", d);
    char *data;
    size_t len;
    CHECK(lmc_read_file(p, &data, &len, &err) == 0);
    CHECK(lmc_write_file_atomic(p, data, len - 100, &err) == 0);
    expect_load_error(d, "after the header");
    for (int i = 0; i < 8; i++) data[i] = (char)((uint64_t)len >> (8 * i));  /* header length = file length */
    CHECK(lmc_write_file_atomic(p, data, len, &err) == 0);
    expect_load_error(d, "past the end");
    CHECK(lmc_write_file_atomic(p, data, 5, &err) == 0);
    expect_load_error(d, "too small");
    free(data);

    /* config.json problems */
    snprintf(d, sizeof d, "%s/cfg", tmp);
    write_variant(d, "", ST_F32, F_NONE, 0);
    snprintf(p, sizeof p, "%s/config.json", d);
    const char *c1 = "{\"n_layer\": 2, \"n_head\": 4, \"n_embd\": 64, \"vocab_size\": 1000}";
    CHECK(lmc_write_file_atomic(p, c1, strlen(c1), &err) == 0);
    expect_load_error(d, "n_positions");
    const char *c2 = "{\"n_layer\": 2, \"n_head\": 3, \"n_embd\": 64, \"n_positions\": 64, \"vocab_size\": 1000}";
    CHECK(lmc_write_file_atomic(p, c2, strlen(c2), &err) == 0);
    expect_load_error(d, "divisible");
    const char *c3 = "{\"n_layer\": 2, \"n_head\": 4, \"n_embd\": 64, \"n_positions\": 64, \"vocab_size\": 1000,\n \"activation_function\": \"relu\"}";
    CHECK(lmc_write_file_atomic(p, c3, strlen(c3), &err) == 0);
    expect_load_error(d, "activation_function");
    const char *c4 = "{\"n_layer\": 2, \"n_head\": 4,\n \"n_embd\": }";
    CHECK(lmc_write_file_atomic(p, c4, strlen(c4), &err) == 0);
    expect_load_error(d, "config.json:2");
    const char *c5 = "{\"n_layer\": 3, \"n_head\": 4, \"n_embd\": 64, \"n_positions\": 64, \"vocab_size\": 1000}";
    CHECK(lmc_write_file_atomic(p, c5, strlen(c5), &err) == 0);
    expect_load_error(d, "missing");   /* h.2.* not in the file */
    snprintf(d, sizeof d, "%s/nothing", tmp);
    expect_load_error(d, "config.json");

    lmc_remove_tree(tmp, &err);
    free(tmp);
    gpt2_free(ref);
    return test_summary("hf_gpt2");
}
