/* Token-for-token equality with tiktoken (gpt2, cl100k_base, o200k_base) on the committed fixture
 * (tests/reference/make_tokenizer_fixtures.py): a varied corpus, and generated long inputs (a 1 MB
 * word, 200k of one letter, 100k spaces, 50k emoji, 100k digits) checked by count and FNV-1a hash.
 * Also: decode(encode(x)) == x, and encoding in parts at tok_safe_split cuts equals encoding whole. */
#include "test.h"
#include "tok_test_util.h"

/* Piece boundaries as absolute offsets (pieces point into the text). */
typedef struct spans {
    const uint8_t *base;
    size_t *v, n, cap;
} spans;

static int add_span(void *ctx, const uint8_t *p, size_t n, lmc_err *err) {
    spans *s = ctx;
    (void)err;
    if (s->n + 2 > s->cap) {
        s->cap = s->cap ? s->cap * 2 : 1024;
        s->v = realloc(s->v, s->cap * sizeof *s->v);
    }
    s->v[s->n++] = (size_t)(p - s->base);
    s->v[s->n++] = (size_t)(p - s->base) + n;
    return 0;
}

static void check_parts(tok_tokenizer *t, tok_encoder *e, const char *s, size_t len, const tok_ids *whole,
                        const char *what) {
    tok_ids parts = {0};
    lmc_err err = {0};
    size_t from = 0;
    int ok = 1;
    while (from < len && ok) {
        size_t cut = tok_safe_split(t, s, len, from + 1);
        ok = tok_encode_part(e, s, len, from, cut, &parts, &err) == 0;
        from = cut;
    }
    CHECK_MSG(ok && parts.n == whole->n && (!parts.n || !memcmp(parts.v, whole->v, parts.n * 4)),
              "%s: encoding in parts differs from encoding whole", what);
    tok_ids_free(&parts);
    /* The pieces too (different pieces can merge to the same ids, hiding a wrong cut). */
    spans a = {(const uint8_t *)s, NULL, 0, 0}, b = {(const uint8_t *)s, NULL, 0, 0};
    CHECK(tok_pretokenize_part(e, s, len, 0, len, add_span, &a, &err) == 0);
    from = 0;
    while (from < len) {
        size_t cut = tok_safe_split(t, s, len, from + 1);
        CHECK(tok_pretokenize_part(e, s, len, from, cut, add_span, &b, &err) == 0);
        from = cut;
    }
    CHECK_MSG(a.n == b.n && (!a.n || !memcmp(a.v, b.v, a.n * sizeof *a.v)), "%s: pieces in parts differ from whole",
              what);
    free(a.v);
    free(b.v);
}

int main(void) {
    json_t *fx = tt_load_fixture("tiktoken_ids.json");
    const json_t *texts = json_object_get(fx, "texts");
    const char *names[] = {"gpt2", "cl100k_base", "o200k_base"};
    int loaded = 0;
    for (int k = 0; k < 3; k++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/vocab/%s.tiktoken", test_shared_dir(), names[k]);
        FILE *f = fopen(path, "rb");
        if (!f) continue;
        fclose(f);
        tok_tokenizer *t;
        lmc_err err = {0};
        CHECK_MSG(tok_load(&t, path, NULL, &err) == 0, "%s", err.msg);
        if (err.code) continue;
        loaded++;
        tok_encoder *e;
        CHECK(tok_encoder_new(&e, t, &err) == 0);
        const json_t *want = json_object_get(json_object_get(fx, "ids"), names[k]);
        int equal = 0;
        for (size_t i = 0; i < json_array_size(texts); i++) {
            const json_t *tx = json_array_get(texts, i);
            const char *s = json_string_value(tx);
            size_t len = json_string_length(tx);
            tok_ids ids = {0};
            CHECK(tok_encode(e, s, len, 0, &ids, &err) == 0);
            int eq = tt_ids_equal(&ids, json_array_get(want, i), names[k], i);
            CHECK_MSG(eq, "%s text %zu", names[k], i);
            equal += eq;
            lmc_buf out = {0};
            CHECK(tok_decode(t, ids.v, ids.n, &out, &err) == 0);
            CHECK(out.len == len && (!len || !memcmp(out.data, s, len)));
            lmc_buf_free(&out);
            check_parts(t, e, s, len, &ids, names[k]);
            tok_ids_free(&ids);
        }
        printf("%s: %d/%zu corpus texts equal to tiktoken\n", names[k], equal, json_array_size(texts));
        {
            /* All texts joined by newlines (plus spaces before newlines before non-ASCII letters), cut at
             * every safe split: the parts must encode to the ids of the whole. */
            lmc_buf all = {0};
            static const char *extra[] = {"x  \n\xE6\x97\xA5\xE6\x9C\xAC", "a \t\n\n \xD0\x9F\xD1\x80\xD0\xB8",
                                          "end.\n\xC3\xA9" "t\xC3\xA9", "q\r\n\xF0\x9F\x91\x8D ok", "z \n\xE2\x80\x83" "em", "x.\n/y", "!!\n//c", "a;\n\r\n/"};
            for (size_t i = 0; i < json_array_size(texts); i++) {
                lmc_buf_append(&all, json_string_value(json_array_get(texts, i)),
                               json_string_length(json_array_get(texts, i)), &err);
                lmc_buf_append(&all, i % 3 ? "\n" : "  \n", i % 3 ? 1 : 3, &err);
                const char *x = extra[i % 8];
                lmc_buf_append(&all, x, strlen(x), &err);
            }
            tok_ids whole = {0};
            CHECK(tok_encode(e, all.data, all.len, 0, &whole, &err) == 0);
            check_parts(t, e, all.data, all.len, &whole, names[k]);
            tok_ids_free(&whole);
            lmc_buf_free(&all);
        }
        const json_t *gens = json_object_get(fx, "generated");
        const json_t *gw = json_object_get(json_object_get(fx, "generated_ids"), names[k]);
        for (size_t g = 0; g < json_array_size(gens); g++) {
            size_t len;
            char *s = tt_generate(json_array_get(gens, g), &len);
            tok_ids ids = {0};
            CHECK(tok_encode(e, s, len, 0, &ids, &err) == 0);
            const json_t *w = json_array_get(gw, g);
            char hex[17];
            snprintf(hex, sizeof hex, "%016llx", (unsigned long long)tt_fnv64(ids.v, ids.n));
            const char *gname = json_string_value(json_object_get(json_array_get(gens, g), "name"));
            CHECK_MSG((json_int_t)ids.n == json_integer_value(json_object_get(w, "n")), "%s %s: %zu ids, want %lld",
                      names[k], gname, ids.n, (long long)json_integer_value(json_object_get(w, "n")));
            CHECK_MSG(!strcmp(hex, json_string_value(json_object_get(w, "fnv64"))), "%s %s: ids differ", names[k],
                      gname);
            lmc_buf out = {0};
            CHECK(tok_decode(t, ids.v, ids.n, &out, &err) == 0);
            CHECK(out.len == len && !memcmp(out.data, s, len));
            lmc_buf_free(&out);
            tok_ids_free(&ids);
            free(s);
        }
        /* convert: saved as tokenizer.json (derived merges, ignore_merges) and reloaded, the merge-list
         * encoder gives tiktoken's ids too. */
        char *tmp = test_tmpdir();
        char out[4200];
        snprintf(out, sizeof out, "%s/%s.json", tmp, names[k]);
        CHECK_MSG(tok_save_hf_json(t, out, &err) == 0, "%s", err.msg);
        tok_tokenizer *c;
        CHECK_MSG(tok_load(&c, out, NULL, &err) == 0, "%s", err.msg);
        if (!err.code) {
            tok_encoder *ec;
            CHECK(tok_encoder_new(&ec, c, &err) == 0);
            int eqc = 0;
            for (size_t i = 0; i < json_array_size(texts); i++) {
                const json_t *tx = json_array_get(texts, i);
                tok_ids ids = {0};
                CHECK(tok_encode(ec, json_string_value(tx), json_string_length(tx), 0, &ids, &err) == 0);
                eqc += tt_ids_equal(&ids, json_array_get(want, i), names[k], i);
                tok_ids_free(&ids);
            }
            CHECK_EQ_INT(eqc, json_array_size(texts));
            printf("%s converted to tokenizer.json: %d/%zu corpus texts equal to tiktoken\n", names[k], eqc,
                   json_array_size(texts));
            tok_encoder_free(ec);
            tok_free(c);
        }
        remove(out);
        remove(tmp);
        free(tmp);
        tok_encoder_free(e);
        tok_free(t);
    }
    json_decref(fx);
    if (!loaded) TEST_SKIP("no rank files under %s/vocab", test_shared_dir());
    return test_summary("tokenizer/exact_tiktoken");
}
