/* .tiktoken rank files: a small valid file loads and encodes; malformed lines give file:line:col. */
#include "test.h"
#include "tok_test_util.h"

static void expect_error(const char *data, const char *pattern, const char *substr) {
    tok_tokenizer *t = NULL;
    lmc_err err = {0};
    int rc = tok_load_tiktoken_mem(&t, data, strlen(data), "bad.tiktoken", pattern, &err);
    CHECK_MSG(rc != 0 && t == NULL, "accepted: %s", data);
    CHECK_STR_CONTAINS(err.msg, substr);
    tok_free(t);
}

int main(void) {
    /* All 256 bytes, then "ab" (256) and "abc" (257): base64 of each byte. */
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char *good = malloc(256 * 16 + 64);
    size_t o = 0;
    for (int b = 0; b < 256; b++)
        o += (size_t)sprintf(good + o, "%c%c== %d\n", b64[b >> 2], b64[(b & 3) << 4], b);
    o += (size_t)sprintf(good + o, "YWI= 256\n\nYWJj 257\n"); /* "ab", blank line, "abc" */
    tok_tokenizer *t;
    lmc_err err = {0};
    CHECK_MSG(tok_load_tiktoken_mem(&t, good, o, "good.tiktoken", "gpt2", &err) == 0, "%s", err.msg);
    if (!err.code) {
        CHECK_EQ_INT(tok_n_tokens(t), 258);
        tok_encoder *e;
        CHECK(tok_encoder_new(&e, t, &err) == 0);
        tok_ids ids = {0};
        CHECK(tok_encode(e, "abc abx", 7, 0, &ids, &err) == 0);
        CHECK_EQ_INT(ids.n, 4);
        if (ids.n == 4) {
            CHECK_EQ_INT(ids.v[0], 257);
            CHECK_EQ_INT(ids.v[1], ' ');
            CHECK_EQ_INT(ids.v[2], 256);
            CHECK_EQ_INT(ids.v[3], 'x');
        }
        tok_ids_free(&ids);
        tok_encoder_free(e);
        tok_free(t);
    }
    /* No pattern and no inferable name. */
    CHECK(tok_load_tiktoken_mem(&t, good, o, "mine.tiktoken", NULL, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "--pattern");
    free(good);

    expect_error("YQ== 0\nYg== 1\nYWI=\n", "gpt2", "bad.tiktoken:3:1");          /* truncated: no rank */
    expect_error("YQ== 0\nYg== 1\nYWI= \n", "gpt2", "bad.tiktoken:3:6: missing rank");
    expect_error("YQ== 0\nY!== 1\n", "gpt2", "bad.tiktoken:2:2: invalid base64 character '!'");
    expect_error("YQ== 0\nYWJ 1\n", "gpt2", "bad.tiktoken:2:1: base64 token of 3 characters");
    expect_error("YQ== 0\nYg== x1\n", "gpt2", "bad.tiktoken:2:6: rank must be a decimal");
    expect_error("YQ== 0\nYg== 0\n", "gpt2", "bad.tiktoken:2: duplicate id 0");
    expect_error("YQ== 0\nYQ== 1\n", "gpt2", "duplicate token");
    expect_error("YQ== 99999999999\n", "gpt2", "below 2^24");
    expect_error("", "gpt2", "no tokens");
    expect_error("YQ== 0\n", "(unclosed", "pattern");
    /* Missing file. */
    CHECK(tok_load(&t, "/nonexistent/x.tiktoken", NULL, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "/nonexistent/x.tiktoken");
    return test_summary("tokenizer/tiktoken_load");
}
