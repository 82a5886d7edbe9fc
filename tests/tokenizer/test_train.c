/* Training reproduces HF BpeTrainer: on the same text (the first 300,000 bytes of tinyshakespeare,
 * whole lines), vocab 1000 and special <|endoftext|>, lmc's vocabulary and merges equal the committed
 * hf_small.json made by HF (tests/reference/make_tokenizer_fixtures.py), for 1 and 2 threads. Also:
 * a trained tokenizer saves and reloads with the same encoding, and the trainer's argument checks. */
#include "test.h"
#include "tok_test_util.h"

static void same_tokenizer(const tok_tokenizer *a, const tok_tokenizer *b) {
    CHECK_EQ_INT(tok_n_vocab(a), tok_n_vocab(b));
    int diff = 0;
    for (uint32_t id = 0; id < tok_n_vocab(a) && id < tok_n_vocab(b); id++) {
        size_t la = 0, lb = 0;
        const uint8_t *pa = tok_token_bytes(a, id, &la), *pb = tok_token_bytes(b, id, &lb);
        if (!pa || !pb || la != lb || memcmp(pa, pb, la)) {
            if (diff++ < 3) fprintf(stderr, "id %u differs\n", id);
        }
    }
    CHECK_EQ_INT(diff, 0);
    CHECK_EQ_INT(tok_n_merges(a), tok_n_merges(b));
}

int main(void) {
    char path[4096];
    snprintf(path, sizeof path, "%s/data/tinyshakespeare.txt", test_shared_dir());
    FILE *f = fopen(path, "rb");
    if (!f) TEST_SKIP("%s not found", path);
    char *buf = malloc(400000);
    size_t n = fread(buf, 1, 400000, f);
    fclose(f);
    json_t *meta = tt_load_fixture("hf_small_ids.json");
    size_t want = (size_t)json_integer_value(json_object_get(meta, "train_bytes"));
    CHECK(n >= want);
    /* Same lines, each with its '\n', as HF's train(files) feeds them. */
    const char *seqs[20000];
    size_t lens[20000], ns = 0;
    for (size_t i = 0; i < want && ns < 20000;) {
        const char *nl = memchr(buf + i, '\n', want - i);
        size_t e = nl ? (size_t)(nl - buf) + 1 : want;
        seqs[ns] = buf + i;
        lens[ns++] = e - i;
        i = e;
    }
    CHECK_EQ_INT(ns, json_integer_value(json_object_get(meta, "train_lines")));

    snprintf(path, sizeof path, "%s/tests/tokenizer/fixtures/hf_small.json", test_source_dir());
    tok_tokenizer *hf;
    lmc_err err = {0};
    CHECK_MSG(tok_load(&hf, path, NULL, &err) == 0, "%s", err.msg);
    const char *sp[] = {"<|endoftext|>"};
    for (int threads = 1; threads <= 2; threads++) {
        tok_train_opts o = {1000, "gpt2", sp, 1, 0, threads, NULL};
        tok_trainer *tr;
        CHECK(tok_trainer_new(&tr, &o, &err) == 0);
        /* Fed in two batches: counts must add up across feeds. */
        CHECK(tok_trainer_feed(tr, seqs, lens, ns / 2, &err) == 0);
        CHECK(tok_trainer_feed(tr, seqs + ns / 2, lens + ns / 2, ns - ns / 2, &err) == 0);
        tok_tokenizer *t;
        CHECK_MSG(tok_trainer_finish(tr, &t, &err) == 0, "%s", err.msg);
        tok_trainer_free(tr);
        same_tokenizer(t, hf);
        /* Same encodings of a text. */
        tok_encoder *e1, *e2;
        CHECK(tok_encoder_new(&e1, t, &err) == 0 && tok_encoder_new(&e2, hf, &err) == 0);
        tok_ids a = {0}, b = {0};
        CHECK(tok_encode(e1, buf + want, n - want, 1, &a, &err) == 0);
        CHECK(tok_encode(e2, buf + want, n - want, 1, &b, &err) == 0);
        CHECK(a.n == b.n && !memcmp(a.v, b.v, 4 * a.n));
        if (threads == 1) printf("held-out: %zu bytes -> %zu tokens (%.4f bytes/token)\n", n - want, a.n,
                                 (double)(n - want) / (double)a.n);
        tok_ids_free(&a);
        tok_ids_free(&b);
        tok_encoder_free(e1);
        tok_encoder_free(e2);
        /* Save and reload. */
        char *tmp = test_tmpdir();
        char out[4200];
        snprintf(out, sizeof out, "%s/t.json", tmp);
        CHECK_MSG(tok_save_hf_json(t, out, &err) == 0, "%s", err.msg);
        tok_tokenizer *r;
        CHECK_MSG(tok_load(&r, out, NULL, &err) == 0, "%s", err.msg);
        same_tokenizer(r, hf);
        tok_free(r);
        remove(out);
        remove(tmp);
        free(tmp);
        tok_free(t);
    }
    tok_free(hf);
    json_decref(meta);

    /* Argument checks. */
    tok_trainer *tr;
    tok_train_opts bad = {100, "gpt2", NULL, 0, 0, 1, NULL};
    CHECK(tok_trainer_new(&tr, &bad, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "vocab size");
    const char *dup[] = {"<a>", "<a>"};
    tok_train_opts bad2 = {1000, "gpt2", dup, 2, 0, 1, NULL};
    CHECK(tok_trainer_new(&tr, &bad2, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "twice");
    tok_train_opts bad3 = {1000, "(oops", NULL, 0, 0, 1, NULL};
    CHECK(tok_trainer_new(&tr, &bad3, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "pattern");
    /* min_frequency stops early; a tiny corpus stops when no pair is left. */
    tok_train_opts mf = {100000, "gpt2", NULL, 0, 3, 1, NULL};
    CHECK(tok_trainer_new(&tr, &mf, &err) == 0);
    const char *tiny[] = {"aaa bbb aaa\n", "abab\n"};
    size_t tl[] = {12, 5};
    CHECK(tok_trainer_feed(tr, tiny, tl, 2, &err) == 0);
    tok_tokenizer *t;
    CHECK(tok_trainer_finish(tr, &t, &err) == 0);
    CHECK(tok_n_vocab(t) > 256 && tok_n_vocab(t) < 270);
    tok_free(t);
    tok_trainer_free(tr);
    free(buf);
    return test_summary("tokenizer/train");
}
