/* Property: decode(encode(x)) == x for random byte strings, invalid UTF-8 included, for every
 * pattern; also with --special all. Uses the committed small tokenizer.json (always present) and
 * the shared rank files when present. */
#include "test.h"
#include "tok_test_util.h"

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint32_t next_u32(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 11);
}

/* Random bytes biased toward the interesting: ASCII words and spaces, multi-byte UTF-8, truncated
 * sequences, stray continuation bytes, surrogates, overlongs, specials. */
static size_t random_text(uint8_t *p, size_t cap) {
    static const char *frags[] = {"hello", " world", "'s", "'LL", "\r\n", "\n\n", "   ", "\t", "123456", "é",
                                  "日本", "👍🏽", "\xE2\x82", "\x80", "\xC0\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80",
                                  "\xFF", "<|endoftext|>", "\xC2\x85", " !?", "\xF0\x9F", "a\xCC\x81"};
    size_t n = 0, want = next_u32() % 200;
    while (n < want && n + 16 < cap) {
        uint32_t r = next_u32() % 10;
        if (r < 4) p[n++] = (uint8_t)next_u32();
        else {
            const char *f = frags[next_u32() % (sizeof frags / sizeof frags[0])];
            size_t l = strlen(f);
            memcpy(p + n, f, l);
            n += l;
        }
    }
    return n;
}

static void property(tok_tokenizer *t, const char *name, int iters) {
    tok_encoder *e;
    lmc_err err = {0};
    CHECK(tok_encoder_new(&e, t, &err) == 0);
    uint8_t buf[512];
    int bad = 0;
    for (int it = 0; it < iters; it++) {
        size_t n = random_text(buf, sizeof buf);
        for (int sp = 0; sp < 2; sp++) {
            tok_ids ids = {0};
            lmc_buf out = {0};
            int ok = tok_encode(e, buf, n, sp, &ids, &err) == 0 && tok_decode(t, ids.v, ids.n, &out, &err) == 0 &&
                     out.len == n && (!n || !memcmp(out.data, buf, n));
            if (!ok && bad++ < 3) fprintf(stderr, "%s: round trip failed (iteration %d, special %d)\n", name, it, sp);
            CHECK(ok);
            tok_ids_free(&ids);
            lmc_buf_free(&out);
        }
    }
    /* Every single byte value alone. */
    for (int b = 0; b < 256; b++) {
        uint8_t c = (uint8_t)b;
        tok_ids ids = {0};
        CHECK(tok_encode(e, &c, 1, 0, &ids, &err) == 0 && ids.n == 1);
        tok_ids_free(&ids);
    }
    tok_encoder_free(e);
}

int main(void) {
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/tokenizer/fixtures/hf_small.json", test_source_dir());
    tok_tokenizer *t;
    lmc_err err = {0};
    CHECK_MSG(tok_load(&t, path, NULL, &err) == 0, "%s", err.msg);
    property(t, "hf_small", 3000);
    tok_free(t);
    const char *names[] = {"gpt2", "cl100k_base", "o200k_base"};
    for (int k = 0; k < 3; k++) {
        snprintf(path, sizeof path, "%s/vocab/%s.tiktoken", test_shared_dir(), names[k]);
        if (tok_load(&t, path, NULL, &err)) continue;
        property(t, names[k], 1000);
        tok_free(t);
    }
    /* The documented invalid-UTF-8 rule: each invalid byte is its own piece; the valid runs around it
     * are pre-tokenized on their own. */
    snprintf(path, sizeof path, "%s/tests/tokenizer/fixtures/hf_small.json", test_source_dir());
    CHECK_MSG(tok_load(&t, path, NULL, &err) == 0, "%s", err.msg);
    tok_encoder *e;
    CHECK(tok_encoder_new(&e, t, &err) == 0);
    tok_ids a = {0}, b = {0};
    CHECK(tok_encode(e, "the\xFFthe\xE2\x82 the", 13, 0, &a, &err) == 0);
    CHECK(tok_encode(e, "the", 3, 0, &b, &err) == 0);
    CHECK(tok_encode(e, "\xFF", 1, 0, &b, &err) == 0);
    CHECK(tok_encode(e, "the", 3, 0, &b, &err) == 0);
    CHECK(tok_encode(e, "\xE2", 1, 0, &b, &err) == 0);
    CHECK(tok_encode(e, "\x82", 1, 0, &b, &err) == 0);
    CHECK(tok_encode(e, " the", 4, 0, &b, &err) == 0);
    CHECK(a.n == b.n && !memcmp(a.v, b.v, 4 * a.n));
    tok_ids_free(&a);
    tok_ids_free(&b);
    tok_encoder_free(e);
    tok_free(t);
    return test_summary("tokenizer/roundtrip");
}
