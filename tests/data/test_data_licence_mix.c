/* Licence mix of a token shard (src/data/licence_mix.c): on a JSONL corpus with three licence values and
 * documents without one, the tokens per value add up to the shard's token count (tok_encode_to_shard), each
 * value's count equals the tokens of its documents encoded here plus one <|endoftext|> each, and 1 and 2
 * threads agree. */
#include "test.h"
#include "data/licence_mix.h"

#include <string.h>

int main(void) {
    char tp[4096];
    snprintf(tp, sizeof tp, "%s/vocab/gpt2.tiktoken", test_shared_dir());
    tok_tokenizer *t = NULL;
    lmc_err err = {0};
    if (tok_load(&t, tp, NULL, &err)) TEST_SKIP("%s: %s", tp, err.msg);
    char *tmp = test_tmpdir(), in[4200], shard[4200];
    snprintf(in, sizeof in, "%s/in.jsonl", tmp);
    snprintf(shard, sizeof shard, "%s/out.bin", tmp);
    static const char *lic[] = {"CC-BY", "CC0", "PD", NULL};
    uint64_t want[4] = {0}, wdocs[4] = {0};
    tok_encoder *e;
    CHECK_EQ_INT(tok_encoder_new(&e, t, &err), 0);
    tok_ids ids = {0};
    FILE *f = fopen(in, "w");
    for (int i = 0; i < 200; i++) {
        char text[256];
        snprintf(text, sizeof text, "Document %d says %s things about licences %d times.", i, i % 3 ? "many" : "few", i * 7);
        int k = i % 4;
        if (lic[k]) fprintf(f, "{\"text\": \"%s\", \"license\": \"%s\"}\n", text, lic[k]);
        else fprintf(f, "{\"text\": \"%s\"}\n", text);
        ids.n = 0;
        tok_encode(e, text, strlen(text), 0, &ids, &err);
        want[k] += ids.n + 1;
        wdocs[k]++;
    }
    fclose(f);
    const char *ins[] = {in};
    tok_shard_stats st;
    CHECK_EQ_INT(tok_encode_to_shard(t, ins, 1, "text", shard, 1, NULL, &st, &err), 0);
    json_t *m1 = NULL, *m2 = NULL;
    CHECK_EQ_INT(data_licence_mix(t, ins, 1, "text", "license", 1, &m1, &err), 0);
    CHECK_EQ_INT(data_licence_mix(t, ins, 1, "text", "license", 2, &m2, &err), 0);
    CHECK(json_equal(m1, m2));
    CHECK_EQ_INT(json_integer_value(json_object_get(m1, "tokens")), st.tokens);
    CHECK_EQ_INT(json_integer_value(json_object_get(m1, "documents")), 200);
    json_t *l = json_object_get(m1, "licences");
    for (int k = 0; k < 4; k++) {
        json_t *v = json_object_get(l, lic[k] ? lic[k] : "(missing)");
        CHECK_EQ_INT(json_integer_value(json_object_get(v, "tokens")), want[k]);
        CHECK_EQ_INT(json_integer_value(json_object_get(v, "documents")), wdocs[k]);
    }
    json_decref(m1);
    json_decref(m2);
    tok_ids_free(&ids);
    tok_encoder_free(e);
    tok_free(t);
    lmc_remove_tree(tmp, NULL);
    free(tmp);
    return test_summary("test_data_licence_mix");
}
