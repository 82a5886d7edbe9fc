/* The ASCII fast path of pre-tokenization (fastpre.c) gives exactly PCRE2's pieces: random text of
 * ASCII of every class mixed with non-ASCII letters, marks, digits and spaces, for gpt2, cl100k_base
 * and o200k_base, split with the fast path on and off. And cutting the text at every tok_safe_split
 * position gives the same pieces as splitting it whole. */
#include "test.h"
#include "tok_test_util.h"

typedef struct pieces {
    size_t off[4096], len[4096], n;
    const uint8_t *base;
} pieces;

static int collect(void *ctx, const uint8_t *p, size_t n, lmc_err *err) {
    pieces *ps = ctx;
    (void)err;
    if (ps->n < 4096) {
        ps->off[ps->n] = (size_t)(p - ps->base);
        ps->len[ps->n] = n;
    }
    ps->n++;
    return 0;
}

static uint64_t rng = 88172645463325252ull;
static uint32_t rnd(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 20);
}

int main(void) {
    static const char *frags[] = {
        "a", "b", "z", "A", "Q", "Z", "hello", "World", "HTTP", "camelCase", "0", "7", "42", "12345", " ", " ", "  ",
        "\t", "\n", "\n", "\n/", ".\n", "\r", "\r\n", "\v", "\f", "'", "'s", "'S", "'t", "'LL", "'ll", "'ve", "'Re", "'d", "'m", "'x", ".",
        ",", "!", "?", "/", "//", "-", "_", "\"", "(", ")", "#", "\x01", "\x1f", "\x7f", "~", "é", "É", "ſ", "\xE2\x84\xAA",
        "\xC2\xA0", "\xC2\x85", "\xE2\x80\xA8", "\xE3\x80\x80", "日本", "\xCC\x81", "٣", "²", "👍", "🏽", "ǅ", "ʰ", "…",
        "—", "«", "ß", "İ", "ﬁ"};
    const size_t nf = sizeof frags / sizeof frags[0];
    const char *names[] = {"gpt2", "cl100k_base", "o200k_base"};
    /* A rank file of the 256 single bytes: only the pattern matters here. */
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char ranks[256 * 16];
    size_t o = 0;
    for (int b = 0; b < 256; b++) o += (size_t)sprintf(ranks + o, "%c%c== %d\n", b64[b >> 2], b64[(b & 3) << 4], b);
    for (int k = 0; k < 3; k++) {
        tok_tokenizer *t;
        lmc_err err = {0};
        CHECK_MSG(tok_load_tiktoken_mem(&t, ranks, o, "bytes.tiktoken", names[k], &err) == 0, "%s", err.msg);
        tok_encoder *fast, *slow;
        CHECK(tok_encoder_new(&fast, t, &err) == 0 && tok_encoder_new(&slow, t, &err) == 0);
        tok_encoder_set_fast(slow, 0);
        int bad = 0, bad_parts = 0;
        for (int it = 0; it < 20000; it++) {
            uint8_t buf[600];
            size_t n = 0, want = rnd() % 40;
            for (size_t f = 0; f < want; f++) {
                const char *s = frags[rnd() % nf];
                size_t l = strlen(s);
                if (n + l > sizeof buf) break;
                memcpy(buf + n, s, l);
                n += l;
            }
            static pieces a, b;
            a.n = b.n = 0;
            a.base = b.base = buf;
            CHECK(tok_pretokenize(fast, buf, n, collect, &a, &err) == 0);
            CHECK(tok_pretokenize(slow, buf, n, collect, &b, &err) == 0);
            int same = a.n == b.n && !memcmp(a.off, b.off, a.n * sizeof a.off[0]) &&
                       !memcmp(a.len, b.len, a.n * sizeof a.len[0]);
            if (!same && bad++ < 3) {
                fprintf(stderr, "%s: pieces differ for \"", names[k]);
                for (size_t i = 0; i < n; i++) fprintf(stderr, buf[i] >= 32 && buf[i] < 127 ? "%c" : "\\x%02x", buf[i]);
                fprintf(stderr, "\"\n  fast:");
                for (size_t i = 0; i < a.n; i++) fprintf(stderr, " [%zu,%zu)", a.off[i], a.off[i] + a.len[i]);
                fprintf(stderr, "\n  pcre:");
                for (size_t i = 0; i < b.n; i++) fprintf(stderr, " [%zu,%zu)", b.off[i], b.off[i] + b.len[i]);
                fprintf(stderr, "\n");
            }
            CHECK(same);
            /* Cutting at every safe split gives the same pieces (what -o does to long documents). */
            static pieces c;
            c.n = 0;
            c.base = buf;
            size_t from = 0;
            while (from < n) {
                size_t cut = tok_safe_split(t, buf, n, from + 1);
                CHECK(tok_pretokenize_part(fast, buf, n, from, cut, collect, &c, &err) == 0);
                from = cut;
            }
            int same_parts = a.n == c.n && !memcmp(a.off, c.off, a.n * sizeof a.off[0]) &&
                             !memcmp(a.len, c.len, a.n * sizeof a.len[0]);
            if (!same_parts && bad_parts++ < 3) {
                fprintf(stderr, "%s: pieces differ when cut at safe splits: \"", names[k]);
                for (size_t i = 0; i < n; i++) fprintf(stderr, buf[i] >= 32 && buf[i] < 127 ? "%c" : "\\x%02x", buf[i]);
                fprintf(stderr, "\"\n");
            }
            CHECK(same_parts);
        }
        printf("%s: %d of 20000 random texts differ (fast path), %d (safe splits)\n", names[k], bad, bad_parts);
        tok_encoder_free(fast);
        tok_encoder_free(slow);
        tok_free(t);
    }
    return test_summary("tokenizer/pretok_fast");
}
