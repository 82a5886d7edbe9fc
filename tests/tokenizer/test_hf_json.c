/* tokenizer.json loading: HF's ids on the corpus for a BpeTrainer-made tokenizer (hf_small.json),
 * save -> load gives the same encoding, and malformed files give clear errors. */
#include "test.h"
#include "tok_test_util.h"

static void expect_error(const char *json, const char *substr) {
    tok_tokenizer *t = NULL;
    lmc_err err = {0};
    int rc = tok_load_hf_json_mem(&t, json, strlen(json), "bad.json", &err);
    CHECK_MSG(rc != 0 && t == NULL, "accepted: %s", json);
    CHECK_STR_CONTAINS(err.msg, substr);
    CHECK_STR_CONTAINS(err.msg, "bad.json");
    tok_free(t);
}

#define PRE "\"pre_tokenizer\":{\"type\":\"ByteLevel\",\"add_prefix_space\":false,\"trim_offsets\":true,\"use_regex\":true}"

int main(void) {
    json_t *fx = tt_load_fixture("tiktoken_ids.json");
    json_t *hf = tt_load_fixture("hf_small_ids.json");
    const json_t *texts = json_object_get(fx, "texts");
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/tokenizer/fixtures/hf_small.json", test_source_dir());
    tok_tokenizer *t;
    lmc_err err = {0};
    CHECK_MSG(tok_load(&t, path, NULL, &err) == 0, "%s", err.msg);
    tok_encoder *e;
    CHECK(tok_encoder_new(&e, t, &err) == 0);
    CHECK_EQ_INT(tok_n_vocab(t), 1000);
    CHECK_EQ_INT(tok_eot_id(t), 0);
    int equal = 0;
    char *tmp = test_tmpdir();
    char saved[4200];
    snprintf(saved, sizeof saved, "%s/saved.json", tmp);
    CHECK_MSG(tok_save_hf_json(t, saved, &err) == 0, "%s", err.msg);
    tok_tokenizer *t2;
    CHECK_MSG(tok_load(&t2, saved, NULL, &err) == 0, "%s", err.msg);
    tok_encoder *e2;
    CHECK(tok_encoder_new(&e2, t2, &err) == 0);
    for (size_t i = 0; i < json_array_size(texts); i++) {
        const json_t *tx = json_array_get(texts, i);
        tok_ids ids = {0}, ids2 = {0};
        /* HF always splits added tokens out of the input: that is --special all. */
        CHECK(tok_encode(e, json_string_value(tx), json_string_length(tx), 1, &ids, &err) == 0);
        int eq = tt_ids_equal(&ids, json_array_get(json_object_get(hf, "ids"), i), "hf_small", i);
        CHECK_MSG(eq, "hf_small text %zu", i);
        equal += eq;
        CHECK(tok_encode(e2, json_string_value(tx), json_string_length(tx), 1, &ids2, &err) == 0);
        CHECK(ids2.n == ids.n && (!ids.n || !memcmp(ids.v, ids2.v, 4 * ids.n)));
        tok_ids_free(&ids);
        tok_ids_free(&ids2);
    }
    printf("hf_small: %d/%zu corpus texts equal to HF tokenizers\n", equal, json_array_size(texts));
    tok_encoder_free(e2);
    tok_free(t2);
    remove(saved);
    remove(tmp);
    free(tmp);
    tok_encoder_free(e);
    tok_free(t);
    json_decref(fx);
    json_decref(hf);

    /* Malformed files: each error names the file and the place. */
    expect_error("[1,2]", "top level");
    expect_error("{\"model\":{\"type\":\"BPE\",\"merges\":[]}," PRE "}", "model.vocab");
    expect_error("{\"model\":{\"type\":\"BPE\",\"vocab\":{}}," PRE "}", "model.merges");
    expect_error("{\"model\":{\"type\":\"BPE\",\"vocab\":[],\"merges\":[]}," PRE "}", "model.vocab: expected an object");
    expect_error("{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":\"1\"},\"merges\":[]}," PRE "}", "integer id");
    expect_error("{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":1,\"b\":1},\"merges\":[]}," PRE "}", "duplicate id");
    expect_error("{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0,\"b\":1,\"ab\":2},\"merges\":[\"a c\"]}," PRE "}",
                 "merges[0]: token \"c\" is not in model.vocab");
    expect_error("{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0,\"b\":1},\"merges\":[[\"a\",\"b\"]]}," PRE "}",
                 "merged token \"ab\"");
    expect_error("{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0,\"b\":1,\"ab\":2},\"merges\":[\"ab\"]}," PRE "}",
                 "merges[0]");
    expect_error("{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0,\"b\":1,\"ab\":2},\"merges\":[7]}," PRE "}",
                 "merges[0]");
    expect_error("{\"model\":{\"type\":\"WordPiece\",\"vocab\":{},\"merges\":[]}," PRE "}", "model.type");
    expect_error("{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a b\":0},\"merges\":[]}," PRE "}", "not a byte-level token");
    expect_error("{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[]}}", "pre_tokenizer");
    expect_error("{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[]},\"added_tokens\":[{\"id\":0,\"content\":\"x\"}]," PRE "}",
                 "duplicate id 0");
    expect_error("{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[]},\"added_tokens\":[{\"content\":\"x\"}]," PRE "}",
                 "added_tokens[0]");
    expect_error("{\"model\":", "bad.json");
    return test_summary("tokenizer/hf_json");
}
