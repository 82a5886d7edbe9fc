/* Canonicality (issue 20): the spine bigram test equals BPE on the concatenated bytes, and the full
 * sequence check (pre-tokenizer pieces + bigram test) equals re-encoding, on random bigrams, on real
 * text and on perturbed real text (a window re-encoded in two halves: same bytes, usually another
 * token sequence). Uses the committed small tokenizer.json and, when present, the shared rank files
 * and text. LMC_CANON_ITERS (default 20000) sets the random bigrams per tokenizer; the perturbations
 * are a tenth of it. A large run: LMC_CANON_ITERS=2000000. */
#include "test.h"
#include "tok_test_util.h"
#include "base/io.h"
#include "base/progress.h"
#include "base/reader.h"
#include "tokenizer/tokres.h"

static uint64_t rng = 0x243F6A8885A308D3ull;
static uint32_t next_u32(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 11);
}

static uint32_t random_ordinary(const tok_tokenizer *t) {
    for (;;) {
        uint32_t id = next_u32() % tok_n_vocab(t);
        size_t len;
        if (tok_token_bytes(t, id, &len)) {
            int special = 0;
            for (size_t i = 0; i < tok_n_special(t); i++) {
                uint32_t sid;
                tok_special(t, i, NULL, &sid);
                special |= sid == id;
            }
            if (!special) return id;
        }
    }
}

static char *text_sample(size_t *len) {
    char path[4096];
    snprintf(path, sizeof path, "%s/data/wikitext-2/valid.txt", test_shared_dir());
    char *data = NULL;
    lmc_err err = {0};
    if (lmc_read_all(path, &data, len, &err) == 0) {
        if (*len > 400000) *len = 400000;
        return data;
    }
    /* no shared data: a fixed mixed text */
    const char *s = "Hello world! It's 2026, and we're testing: \"canonical\" BPE.\n\n  Tabs\tand   spaces, "
                    "numbers 1234567 and 3.14159; caf\xC3\xA9 na\xC3\xAFve \xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E.\n"
                    "int main(void) { return 0; }\n\n\n    indented\r\nWindows line\n";
    size_t n = strlen(s), reps = 200;
    data = malloc(n * reps + 1);
    for (size_t i = 0; i < reps; i++) memcpy(data + i * n, s, n);
    *len = n * reps;
    return data;
}

typedef struct stats {
    long pairs, pair_self, spine_vs_bpe_bad, check_vs_oracle_bad, bigram_only_diff, canon_pairs;
    long perturbed, perturbed_noncanon, perturb_bad, prefix_bad, exc_allow, exc_forbid;
} stats;

static void run_tok(const char *name, tok_tokenizer *t, long iters, const char *text, size_t tlen) {
    lmc_err err = {0};
    tok_canon *c = NULL;
    double t0 = lmc_now();
    CHECK_MSG(tok_canon_new(&c, t, &err) == 0, "%s: %s", name, err.msg);
    if (!c) return;
    double t_build = lmc_now() - t0;
    stats s = {0};
    long n_ord = 0, n_self = 0;
    for (uint32_t id = 0; id < tok_n_vocab(t); id++) {
        size_t l;
        if (!tok_token_bytes(t, id, &l)) continue;
        int special = 0;
        for (size_t i = 0; i < tok_n_special(t); i++) {
            uint32_t sid;
            tok_special(t, i, NULL, &sid);
            special |= sid == id;
        }
        if (special) continue;
        n_ord++;
        n_self += tok_canon_self(c, id);
    }
    fprintf(stderr, "%s: %ld of %ld ordinary tokens are BPE-self-canonical\n", name, n_self, n_ord);
    uint32_t ab[2];
    for (long it = 0; it < iters; it++) {
        ab[0] = random_ordinary(t);
        ab[1] = random_ordinary(t);
        s.pairs++;
        int sp = tok_canon_pair(c, ab[0], ab[1]);
        if (tok_canon_self(c, ab[0]) && tok_canon_self(c, ab[1])) {
            s.pair_self++;
            int bp = tok_canon_pair_bpe(c, ab[0], ab[1], &err);
            if (sp != bp) {
                if (s.spine_vs_bpe_bad++ < 5) fprintf(stderr, "%s: spine %d bpe %d for %u %u\n", name, sp, bp, ab[0], ab[1]);
            }
        }
        int ok1, ok2;
        size_t p1, p2;
        CHECK(tok_canon_check(c, ab, 2, 0, &ok1, &p1, &err) == 0);
        CHECK(tok_canon_oracle(c, ab, 2, &ok2, &p2, &err) == 0);
        s.canon_pairs += ok2;
        if (ok1 != ok2 && s.check_vs_oracle_bad++ < 5)
            fprintf(stderr, "%s: check %d oracle %d for pair %u %u\n", name, ok1, ok2, ab[0], ab[1]);
        if (sp != ok2) {
            s.bigram_only_diff++;
            if (ok2) s.exc_allow++;
            else s.exc_forbid++;
            if ((ok2 ? s.exc_allow : s.exc_forbid) <= 3) {
                size_t la, lb;
                const uint8_t *pa = tok_token_bytes(t, ab[0], &la), *pb = tok_token_bytes(t, ab[1], &lb);
                fprintf(stderr, "%s: pre-tokenizer %s: %u [", name, ok2 ? "allows" : "forbids", ab[0]);
                for (size_t k = 0; k < la; k++) fprintf(stderr, pa[k] >= 32 && pa[k] < 127 ? "%c" : "\\x%02x", pa[k]);
                fprintf(stderr, "] + %u [", ab[1]);
                for (size_t k = 0; k < lb; k++) fprintf(stderr, pb[k] >= 32 && pb[k] < 127 ? "%c" : "\\x%02x", pb[k]);
                fprintf(stderr, "]\n");
            }
        }
    }
    /* real text: canonical as a whole and in every prefix */
    tok_encoder *e;
    CHECK(tok_encoder_new(&e, t, &err) == 0);
    tok_ids ids = {0}, alt = {0};
    CHECK(tok_encode(e, text, tlen, 0, &ids, &err) == 0);
    int ok;
    size_t pos;
    CHECK(tok_canon_check(c, ids.v, ids.n, 0, &ok, &pos, &err) == 0);
    CHECK_MSG(ok, "%s: the encoding of real text is judged non-canonical at %zu", name, pos);
    /* perturbations: re-encode a window's bytes in two halves */
    long np = iters / 10 + 100;
    lmc_buf win = {0};
    for (long it = 0; it < np && ids.n > 40; it++) {
        size_t i = 8 + next_u32() % (ids.n - 40), w = 1 + next_u32() % 4;
        win.len = 0;
        CHECK(tok_decode(t, ids.v + i, w, &win, &err) == 0);
        size_t cut = win.len > 1 ? 1 + next_u32() % (win.len - 1) : 0;
        alt.n = 0;
        for (size_t k = i - 8; k < i; k++) tok_ids_push(&alt, ids.v[k], &err);
        CHECK(tok_encode(e, win.data, cut, 0, &alt, &err) == 0);
        CHECK(tok_encode(e, win.data + cut, win.len - cut, 0, &alt, &err) == 0);
        for (size_t k = i + w; k < i + w + 8; k++) tok_ids_push(&alt, ids.v[k], &err);
        int a1, a2;
        size_t q1, q2;
        CHECK(tok_canon_check(c, alt.v, alt.n, 0, &a1, &q1, &err) == 0);
        CHECK(tok_canon_oracle(c, alt.v, alt.n, &a2, &q2, &err) == 0);
        s.perturbed++;
        s.perturbed_noncanon += !a2;
        if (a1 != a2 && s.perturb_bad++ < 5) {
            fprintf(stderr, "%s: perturbed window: check %d oracle %d; ids", name, a1, a2);
            for (size_t k = 0; k < alt.n; k++) fprintf(stderr, " %u", alt.v[k]);
            fprintf(stderr, "\n");
        }
        /* a canonical sequence's every prefix passes the prefix (open-end) check */
        if (a2) {
            for (size_t m = 1; m <= alt.n; m++) {
                int a3;
                size_t q3;
                CHECK(tok_canon_check(c, alt.v, m, 1, &a3, &q3, &err) == 0);
                if (!a3 && s.prefix_bad++ < 3) {
                    lmc_buf pb = {0};
                    tok_decode(t, alt.v, m, &pb, &err);
                    fprintf(stderr, "%s: prefix of %zu of a canonical sequence fails at %zu (ids %u %u): [%.*s]\n", name,
                            m, q3, alt.v[q3], q3 + 1 < m ? alt.v[q3 + 1] : 0, (int)pb.len, pb.data);
                    lmc_buf_free(&pb);
                }
            }
        }
    }
    lmc_buf_free(&win);
    fprintf(stderr,
            "%s: tables %.2f s; %ld random bigrams (%ld of self-canonical tokens): spine != BPE %ld, check != "
            "re-encoding %ld; %ld canonical by re-encoding; pure bigram test != re-encoding (pre-tokenizer "
            "effects) %ld (%ld canonical only thanks to a piece boundary at the junction, %ld non-canonical because a token crosses a piece boundary); %ld perturbed windows (%ld non-canonical): check != re-encoding %ld; prefix check "
            "rejects canonical %ld\n",
            name, t_build, s.pairs, s.pair_self, s.spine_vs_bpe_bad, s.check_vs_oracle_bad, s.canon_pairs,
            s.bigram_only_diff, s.exc_allow, s.exc_forbid, s.perturbed, s.perturbed_noncanon, s.perturb_bad, s.prefix_bad);
    CHECK_EQ_INT(s.spine_vs_bpe_bad, 0);
    CHECK_EQ_INT(s.check_vs_oracle_bad, 0);
    CHECK_EQ_INT(s.perturb_bad, 0);
    CHECK_EQ_INT(s.prefix_bad, 0);
    CHECK(s.perturbed_noncanon > 0); /* the perturbations do exercise non-canonical input */
    /* an id outside the vocabulary is an error naming its position */
    uint32_t badv[3] = {ab[0], tok_n_vocab(t) + 5, ab[1]};
    CHECK(tok_canon_check(c, badv, 3, 0, &ok, &pos, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "token 1: id");
    tok_ids_free(&ids);
    tok_ids_free(&alt);
    tok_encoder_free(e);
    tok_canon_free(c);
}

int main(void) {
    long iters = 20000;
    const char *env = getenv("LMC_CANON_ITERS");
    if (env) iters = atol(env);
    size_t tlen;
    char *text = text_sample(&tlen);
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/tokenizer/fixtures/hf_small.json", test_source_dir());
    lmc_err err = {0};
    tok_tokenizer *t;
    CHECK_MSG(tok_load(&t, path, NULL, &err) == 0, "%s", err.msg);
    run_tok("hf_small.json", t, iters, text, tlen);
    tok_free(t);
    const char *ranks[] = {"gpt2", "cl100k_base", "o200k_base"};
    for (int k = 0; k < 3; k++) {
        snprintf(path, sizeof path, "%s/vocab/%s.tiktoken", test_shared_dir(), ranks[k]);
        if (!lmc_file_exists(path)) {
            fprintf(stderr, "(%s absent: skipped)\n", path);
            continue;
        }
        CHECK_MSG(tok_load(&t, path, NULL, &err) == 0, "%s", err.msg);
        run_tok(ranks[k], t, iters, text, tlen);
        tok_free(t);
    }
    free(text);
    return test_summary("tokenizer/canonical");
}
