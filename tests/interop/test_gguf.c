/* GGUF: the reader on gguf-py's own file and on one corrupt file per GGUF parser bug class
 * (tests/fuzz/corpus/gguf/, tests/reference/make_gguf_fixtures.py), every truncation of a valid file,
 * Q8_0 block for block against gguf.quants, the Q/K row permutation, the round trip of lmc-trained
 * GPT-2 and Llama checkpoints (tests/interop/fixtures/gguf/tiny_*) through lmc export and the reader
 * (f32 bit-exact; f16/bf16/q8_0 within stated tolerances), model-level bad inputs, and llama.cpp's own
 * next-token log-probabilities and greedy tokens on the exported files (fixture written by
 * tests/reference/verify_gguf_llamacpp.py with llama-cpp-python). */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "test.h"
#include "base/io.h"
#include "base/json.h"
#include "gen/gen.h"
#include "interop/gguf.h"
#include "interop/gguf_model.h"
#include "interop/safetensors.h"
#include "model/gpt2.h"
#include "tokenizer/tokenizer.h"

static char path_buf[4096];
static const char *src(const char *rel) {
    snprintf(path_buf, sizeof path_buf, "%s/%s", test_source_dir(), rel);
    return path_buf;
}

static void test_valid_file(void) {
    gguf_file f;
    lmc_err err = {0};
    int rc = gguf_open(&f, src("tests/fuzz/corpus/gguf/valid.gguf"), &err);
    CHECK_MSG(rc == 0, "%s", err.msg);
    if (rc) return;
    uint64_t u;
    double x;
    int b;
    const char *s;
    size_t sl;
    CHECK(gguf_get_uint(&f, "test.count", 100, &u, &err) == 0 && u == 7);
    CHECK(gguf_get_uint(&f, "test.count", 6, &u, &err) == LMC_EFORMAT); /* above the caller's bound */
    CHECK(gguf_get_float(&f, "test.eps", &x, &err) == 0 && fabs(x - 1e-5) < 1e-10);
    CHECK(gguf_get_bool(&f, "test.flag", &b, &err) == 0 && b == 1);
    CHECK(gguf_get_str(&f, "test.name", &s, &sl, &err) == 0 && sl == 4 && !memcmp(s, "seed", 4));
    CHECK(gguf_get_str(&f, "test.count", &s, &sl, &err) == LMC_EFORMAT);
    CHECK_STR_CONTAINS(err.msg, "has type uint32, expected string");
    CHECK(gguf_get_uint(&f, "no.such.key", 1, &u, &err) == LMC_ENOTFOUND);
    const uint8_t *p;
    uint64_t n;
    CHECK(gguf_get_arr(&f, "test.ints", GGUF_T_INT32, &p, &n, &err) == 0 && n == 3);
    /* element-type confusion (the tokenizer.ggml.scores class): the declared type is checked */
    CHECK(gguf_get_arr(&f, "test.ints", GGUF_T_FLOAT32, &p, &n, &err) == LMC_EFORMAT);
    CHECK_STR_CONTAINS(err.msg, "expected an array of float32");
    const char **ss;
    uint64_t *ls;
    CHECK(gguf_arr_strings(&f, "test.strs", &ss, &ls, &n, &err) == 0 && n == 3);
    if (n == 3) {
        CHECK(ls[0] == 1 && !memcmp(ss[0], "a", 1) && ls[1] == 2 && !memcmp(ss[1], "bc", 2) && ls[2] == 0);
        free(ss);
        free(ls);
    }
    CHECK_EQ_INT(f.n_tensors, 3);
    const gguf_tensor *t = gguf_find_tensor(&f, "a.weight");
    float v[64];
    CHECK(t && t->ne[0] == 32 && t->ne[1] == 2 && gguf_tensor_f32(&f, t, v, 64, &err) == 0);
    int ok = 1;
    for (int i = 0; i < 64; i++) ok &= v[i] == (float)i;
    CHECK(ok);
    t = gguf_find_tensor(&f, "b.weight");
    CHECK(t && t->type == GGML_T_F16 && gguf_tensor_f32(&f, t, v, 40, &err) == 0 && v[39] == 1.0f);
    t = gguf_find_tensor(&f, "c.weight");
    CHECK(t && t->type == GGML_T_Q8_0 && gguf_tensor_f32(&f, t, v, 64, &err) == 0);
    for (int i = 0; i < 64; i++) CHECK_CLOSE(v[i], -1.0 + 2.0 * i / 63, 0.01, 0);
    for (size_t i = 0; i < f.n_tensors; i++) CHECK((f.data_offset + f.tensors[i].offset) % 32 == 0);

    /* every prefix that cuts into the data is refused with a message, never read past (the last tensor's
     * trailing padding is not required) */
    const gguf_tensor *last = &f.tensors[f.n_tensors - 1];
    size_t len = (size_t)(f.data_offset + last->offset + last->nbytes);
    uint8_t *copy = malloc(len);
    memcpy(copy, f.buf, len);
    int all = 1;
    for (size_t k = 0; k < len; k++) {
        uint8_t *pre = malloc(k ? k : 1);
        memcpy(pre, copy, k);
        gguf_file g;
        lmc_err e2 = {0};
        if (gguf_parse(&g, pre, k, "prefix", &e2) == 0) { all = 0; gguf_close(&g); fprintf(stderr, "prefix %zu accepted\n", k); }
        else if (!e2.msg[0]) all = 0;
        free(pre);
    }
    CHECK(all);
    free(copy);
    gguf_close(&f);
}

static void test_bad_corpus(void) {
    static const struct { const char *file, *msg; } cases[] = {
        {"bad_magic.gguf", "not a GGUF file"},
        {"version1.gguf", "version 1 is not supported"},
        {"n_tensors_huge.gguf", "tensor count"},
        {"n_kv_huge.gguf", "KV count"},
        {"key_len_huge.gguf", "exceeds the bytes left"},
        {"truncated.gguf", "runs past the end"},
        {"header_only.gguf", "KV count 8 exceeds the bytes left"},
        {"array_count_wrap.gguf", "exceeds the bytes left"},
        {"array_elem_type_bad.gguf", "unknown array element type 99"},
        {"array_nested.gguf", "nested arrays"},
        {"string_array_count_huge.gguf", "exceeds the bytes left"},
        {"bool_2.gguf", "is not 0 or 1"},
        {"kv_type_bad.gguf", "unknown value type 13"},
        {"n_dims_5.gguf", "n_dims 5"},
        {"n_dims_0.gguf", "n_dims 0"},
        {"ne_zero.gguf", "dimension 0 is 0"},
        {"ne_overflow.gguf", ""},
        {"ne_wrap_bytes.gguf", "overflows"},
        {"type_unknown.gguf", "ggml type 2 is not supported"},
        {"type_huge.gguf", "ggml type 4294967295"},
        {"offset_bad.gguf", "has offset 64, expected"},
        {"offset_past_end.gguf", "has offset"},
        {"q8_0_row_not_32.gguf", "not a multiple of 32"},
        {"duplicate_tensor.gguf", "duplicate tensor name 'b.weight'"},
        {"duplicate_key.gguf", "duplicate key 'test.ints'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char rel[256];
        snprintf(rel, sizeof rel, "tests/fuzz/corpus/gguf/%s", cases[i].file);
        gguf_file f;
        lmc_err err = {0};
        int rc = gguf_open(&f, src(rel), &err);
        CHECK_MSG(rc == LMC_EFORMAT, "%s: rc %d", cases[i].file, rc);
        if (rc == 0) gguf_close(&f);
        CHECK_STR_CONTAINS(err.msg, cases[i].msg);
        CHECK_STR_CONTAINS(err.msg, cases[i].file);
    }
    /* alignment rules, on a file written by lmc's writer */
    static const uint32_t aligns[] = {0, 3, 1u << 31};
    char *dir = test_tmpdir();
    for (int i = 0; i < 3; i++) {
        char p[4200];
        snprintf(p, sizeof p, "%s/align.gguf", dir);
        gguf_writer w;
        gguf_writer_init(&w, 64);
        lmc_err err = {0};
        float x[32] = {1};
        int64_t ne[1] = {32};
        CHECK(gguf_w_tensor_f32(&w, "x", GGML_T_F32, 1, ne, x, &err) == 0);
        CHECK(gguf_write(&w, p, &err) == 0);
        gguf_writer_free(&w);
        char *d;
        size_t n;
        CHECK(lmc_read_file(p, &d, &n, &err) == 0);
        gguf_file f;
        CHECK(gguf_parse(&f, (uint8_t *)d, n, "align.gguf", &err) == 0 && f.alignment == 64 &&
              f.data_offset % 64 == 0);
        gguf_close(&f);
        char *k = memmem(d, n, "general.alignment", 17);
        CHECK(k != NULL);
        if (k) {
            memcpy(k + 17 + 4, &aligns[i], 4);
            CHECK(gguf_parse(&f, (uint8_t *)d, n, "align.gguf", &err) == LMC_EFORMAT);
            CHECK_STR_CONTAINS(err.msg, "not a power of two");
            uint32_t ty = GGUF_T_INT32; /* right value, wrong type */
            uint32_t a = 64;
            memcpy(k + 17, &ty, 4);
            memcpy(k + 17 + 4, &a, 4);
            CHECK(gguf_parse(&f, (uint8_t *)d, n, "align.gguf", &err) == LMC_EFORMAT);
            CHECK_STR_CONTAINS(err.msg, "expected uint32");
        }
        free(d);
    }
    lmc_err e;
    lmc_remove_tree(dir, &e);
    free(dir);
}

static void test_q8_0(void) {
    st_file f;
    lmc_err err;
    int rc = st_open(&f, src("tests/interop/fixtures/gguf/q8_0.safetensors"), &err);
    CHECK_MSG(rc == 0, "%s", err.msg);
    if (rc) return;
    const st_tensor *x = st_find(&f, "x"), *q = st_find(&f, "q");
    uint64_t n = x->numel;
    float *xv = malloc(n * 4);
    memcpy(xv, x->data, n * 4);
    uint8_t *out = malloc(n / 32 * 34);
    gguf_quantize_q8_0(xv, n, out);
    CHECK_EQ_INT(q->numel, n / 32 * 34);
    uint64_t bad = 0, first = UINT64_MAX;
    for (uint64_t b = 0; b < n / 32; b++)
        if (memcmp(out + b * 34, q->data + b * 34, 34)) { bad++; if (first == UINT64_MAX) first = b; }
    printf("q8_0: %llu blocks, %llu differ from gguf.quants (first %lld)\n", (unsigned long long)(n / 32),
           (unsigned long long)bad, first == UINT64_MAX ? -1LL : (long long)first);
    CHECK(bad == 0);
    /* dequantised error within half a step of each block, plus the fp16 rounding of the step */
    float *back = malloc(n * 4);
    gguf_dequantize_q8_0(out, n, back);
    int ok = 1;
    for (uint64_t b = 0; b < n / 32; b++) {
        float amax = 0;
        for (int i = 0; i < 32; i++) amax = fmaxf(amax, fabsf(xv[b * 32 + i]));
        uint16_t dh;
        memcpy(&dh, out + b * 34, 2);
        double d = amax / 127.0, dq = st_f16_to_f32(dh);
        for (int i = 0; i < 32; i++) ok &= fabs(back[b * 32 + i] - xv[b * 32 + i]) <= d * 0.5 * 1.001 + 127 * fabs(d - dq) + 1e-30;
    }
    CHECK(ok);
    free(xv); free(out); free(back);
    st_close(&f);
}

static void test_permute(void) {
    /* 2 heads of hd 8, one column holding the row index */
    float in[16], out[16], back[16];
    for (int i = 0; i < 16; i++) in[i] = (float)i;
    gguf_permute_qk(in, out, 2, 8, 1, 0);
    for (int h = 0; h < 2; h++)
        for (int j = 0; j < 4; j++)
            for (int s = 0; s < 2; s++) CHECK(out[h * 8 + 2 * j + s] == in[h * 8 + s * 4 + j]);
    CHECK(out[1] == 4 && out[2] == 1 && out[9] == 12);
    gguf_permute_qk(out, back, 2, 8, 1, 1);
    CHECK(!memcmp(back, in, sizeof in));
    gguf_permute_qk(out, back, 2, 8, 1, 0); /* applied twice: not the identity */
    CHECK(memcmp(back, in, sizeof in) != 0);
}

/* per-position log-probability of the next token, in double */
static void logprobs(gpt2_model *m, const int32_t *tok, int n, double *lp) {
    lmc_err err;
    int rc = gpt2_forward(m, tok, NULL, 1, n - 1, NULL, &err);
    CHECK_MSG(rc == 0, "%s", err.msg);
    int V = m->cfg.vocab_size, Vp = m->cfg.padded_vocab;
    for (int t = 0; t < n - 1; t++) {
        const float *l = m->logits + (size_t)t * Vp;
        double mx = -INFINITY, s = 0;
        for (int v = 0; v < V; v++) mx = fmax(mx, l[v]);
        for (int v = 0; v < V; v++) s += exp(l[v] - mx);
        lp[t] = l[tok[t + 1]] - mx - log(s);
    }
}

static double max_rel(const double *a, const double *b, int n) {
    double md = 0, mb = 0;
    for (int i = 0; i < n; i++) { md = fmax(md, fabs(a[i] - b[i])); mb = fmax(mb, fabs(b[i])); }
    return md / mb;
}

static const char *dtypes[] = {"f32", "f16", "bf16", "q8_0"};

static void test_model(const char *arch, json_t *ref, const char *tmp) {
    char dir[4200], out[4400];
    snprintf(dir, sizeof dir, "%s/tests/interop/fixtures/gguf/tiny_%s", test_source_dir(), arch);
    lmc_err err = {0};
    gpt2_model *m;
    int rc = gpt2_load_hf(dir, &m, &err);
    CHECK_MSG(rc == 0, "%s", err.msg);
    if (rc) return;
    tok_tokenizer *tok;
    snprintf(out, sizeof out, "%s/tokenizer.json", dir);
    CHECK(tok_load(&tok, out, NULL, &err) == 0);
    json_t *r = json_object_get(ref, arch);
    json_t *jt = json_object_get(r, "tokens");
    int n = (int)json_array_size(jt);
    CHECK(n > 8);
    int32_t *toks = malloc((size_t)n * 4);
    for (int i = 0; i < n; i++) toks[i] = (int32_t)json_integer_value(json_array_get(jt, (size_t)i));
    double *lp_ref = malloc((size_t)n * 8), *lp = malloc((size_t)n * 8), *lp_cpp = malloc((size_t)n * 8);
    logprobs(m, toks, n, lp_ref);
    for (int di = 0; di < 4; di++) {
        snprintf(out, sizeof out, "%s/%s-%s.gguf", tmp, arch, dtypes[di]);
        gguf_export_opts o = {(uint32_t)gguf_dtype_parse(dtypes[di]), "tiny", NULL};
        rc = gguf_export_model(m, tok, &o, out, &err);
        CHECK_MSG(rc == 0, "%s", err.msg);
        gguf_file f;
        CHECK(gguf_open(&f, out, &err) == 0);
        const char *s;
        size_t sl;
        uint64_t u;
        CHECK(gguf_get_str(&f, "tokenizer.ggml.pre", &s, &sl, &err) == 0 &&
              !strncmp(s, strcmp(arch, "gpt2") ? "llama-bpe" : "gpt-2", sl));
        CHECK(gguf_get_uint(&f, "tokenizer.ggml.eos_token_id", 1000, &u, &err) == 0 && u == 0);
        const uint8_t *p;
        CHECK(gguf_get_arr(&f, "tokenizer.ggml.token_type", GGUF_T_INT32, &p, &u, &err) == 0 && u == 512);
        int32_t ty0;
        memcpy(&ty0, p, 4);
        CHECK(ty0 == 3); /* <|endoftext|> is a control token */
        CHECK(gguf_get_arr(&f, "tokenizer.ggml.merges", GGUF_T_STRING, &p, &u, &err) == 0 && u == tok_n_merges(tok));
        gguf_close(&f);
        gpt2_model *g;
        rc = gpt2_load_gguf(out, &g, &err);
        CHECK_MSG(rc == 0, "%s", err.msg);
        if (rc) continue;
        if (di == 0) { /* f32: every parameter bit for bit */
            int same = g->n_floats == m->n_floats;
            for (int v = 0; same && v < m->n_views; v++)
                same = !memcmp(g->params + g->views[v].offset, m->params + m->views[v].offset, m->views[v].numel * 4);
            CHECK(same);
        }
        logprobs(g, toks, n, lp);
        double e = max_rel(lp, lp_ref, n - 1);
        /* tolerances: f32 exact; f16 / bf16 / q8_0 rounding of the weights */
        static const double tol[] = {0, 2e-3, 2e-2, 1e-2};
        printf("%s %s: lmc GGUF reader vs checkpoint: max rel err of log-probs %.3g (tol %g)\n", arch, dtypes[di], e, tol[di]);
        CHECK(e <= tol[di]);
        json_t *c = json_object_get(json_object_get(r, "llamacpp"), dtypes[di]);
        json_t *cl = json_object_get(c, "logprobs");
        CHECK_MSG(json_array_size(cl) == (size_t)(n - 1), "no llama.cpp log-probs for %s %s", arch, dtypes[di]);
        if (json_array_size(cl) == (size_t)(n - 1)) {
            for (int i = 0; i < n - 1; i++) lp_cpp[i] = json_real_value(json_array_get(cl, (size_t)i));
            double ec = max_rel(lp, lp_cpp, n - 1), tc = json_real_value(json_object_get(c, "tolerance"));
            printf("%s %s: llama.cpp vs lmc on the same file: max rel err %.3g (tol %g)\n", arch, dtypes[di], ec, tc);
            CHECK(tc > 0 && ec <= tc);
        }
        /* greedy: lmc's sampler from the file gives llama.cpp's tokens */
        /* llama.cpp's greedy tokens where it agreed with lmc sample when the fixture was made; where it did
         * not (llama bf16: llama.cpp rounds activations to bf16), lmc must still give its recorded tokens */
        json_t *gp = json_object_get(r, "prompt"), *gt = json_object_get(c, "greedy"), *lg = json_object_get(c, "lmc_greedy");
        if (!json_equal(gt, lg)) {
            size_t k = 0;
            while (k < json_array_size(gt) && json_equal(json_array_get(gt, k), json_array_get(lg, k))) k++;
            printf("%s %s: llama.cpp's greedy tokens leave lmc's at token %zu of %zu; checking lmc's recorded tokens\n", arch,
                   dtypes[di], k, json_array_size(gt));
            gt = lg;
        }
        int np = (int)json_array_size(gp), ng = (int)json_array_size(gt);
        if (np > 0 && ng > 0) {
            int32_t *pr = malloc((size_t)np * 4), *go = malloc((size_t)ng * 4);
            for (int i = 0; i < np; i++) pr[i] = (int32_t)json_integer_value(json_array_get(gp, (size_t)i));
            gen_params gpp = {ng, 0.0f, 0, 1.0f, -1};
            lmc_rng rng;
            lmc_rng_init(&rng, 1);
            int no = 0;
            CHECK(gen_generate(g, pr, np, &gpp, &rng, go, &no, NULL, NULL, &err) == 0);
            int same = no == ng;
            for (int i = 0; same && i < ng; i++) same = go[i] == json_integer_value(json_array_get(gt, (size_t)i));
            CHECK_MSG(same, "%s %s: greedy tokens differ from llama.cpp's", arch, dtypes[di]);
            free(pr);
            free(go);
        } else {
            CHECK_MSG(0, "no greedy fixture for %s %s", arch, dtypes[di]);
        }
        gpt2_free(g);
    }
    free(toks); free(lp_ref); free(lp); free(lp_cpp);
    tok_free(tok);
    gpt2_free(m);
}

/* corrupt a valid exported model at the model level */
static void test_model_bad(const char *tmp) {
    char p[4200], q[4400];
    snprintf(p, sizeof p, "%s/llama-f32.gguf", tmp);
    snprintf(q, sizeof q, "%s/bad.gguf", tmp);
    char *d;
    size_t n;
    lmc_err err;
    if (lmc_read_file(p, &d, &n, &err)) { CHECK_MSG(0, "%s", err.msg); return; }
    static const struct { const char *find, *repl; int type_patch; const char *msg; } cases[] = {
        {"blk.1.ffn_down.weight", "blk.1.ffn_dowX.weight", 0, "unexpected tensor 'blk.1.ffn_dowX.weight'"},
        {"llama.block_count", "llama.block_counX", 0, "missing key 'llama.block_count'"},
        {"llama.block_count", NULL, GGUF_T_FLOAT32, "has type float32, expected an integer"},
        {"general.architecture", NULL, GGUF_T_UINT32, ""},
        {"llama.attention.head_count_kv", NULL, -1, "head"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char *c = malloc(n);
        memcpy(c, d, n);
        char *k = memmem(c, n, cases[i].find, strlen(cases[i].find));
        CHECK(k != NULL);
        if (!k) { free(c); continue; }
        if (cases[i].repl) memcpy(k, cases[i].repl, strlen(cases[i].repl));
        else if (cases[i].type_patch > 0) { uint32_t t = (uint32_t)cases[i].type_patch; memcpy(k + strlen(cases[i].find), &t, 4); }
        else { uint32_t v = 3; memcpy(k + strlen(cases[i].find) + 4, &v, 4); } /* 3 kv heads do not divide 4 */
        CHECK(lmc_write_file_atomic(q, c, n, &err) == 0);
        gpt2_model *m;
        int rc = gpt2_load_gguf(q, &m, &err);
        CHECK_MSG(rc != 0, "case %zu accepted", i);
        if (!rc) gpt2_free(m);
        else { CHECK_STR_CONTAINS(err.msg, cases[i].msg); CHECK_STR_CONTAINS(err.msg, "bad.gguf"); }
        free(c);
    }
    /* a NaN weight */
    {
        gguf_file f;
        CHECK(gguf_parse(&f, (uint8_t *)d, n, "x", &err) == 0);
        const gguf_tensor *t = gguf_find_tensor(&f, "blk.0.attn_q.weight");
        size_t off = (size_t)(t->data - f.buf) + 40;
        gguf_close(&f);
        char *c = malloc(n);
        memcpy(c, d, n);
        float nan = NAN;
        memcpy(c + off, &nan, 4);
        CHECK(lmc_write_file_atomic(q, c, n, &err) == 0);
        gpt2_model *m;
        int rc = gpt2_load_gguf(q, &m, &err);
        CHECK(rc == LMC_ENUMERIC);
        if (!rc) gpt2_free(m);
        CHECK_STR_CONTAINS(err.msg, "non-finite value");
        free(c);
    }
    free(d);
}

int main(void) {
    test_valid_file();
    test_bad_corpus();
    test_q8_0();
    test_permute();
    lmc_err err;
    json_t *ref = lmc_json_load_file(src("tests/interop/fixtures/gguf/llamacpp_ref.json"), &err);
    CHECK_MSG(ref != NULL, "%s", err.msg);
    if (ref) {
        char *tmp = test_tmpdir();
        test_model("gpt2", ref, tmp);
        test_model("llama", ref, tmp);
        test_model_bad(tmp);
        lmc_remove_tree(tmp, &err);
        free(tmp);
        json_decref(ref);
    }
    return test_summary("test_gguf");
}
