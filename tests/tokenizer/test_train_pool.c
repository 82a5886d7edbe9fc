/* Regression test for a use-after-free in the BPE trainer (issue 11, D1): the merge loop kept a
 * pointer into the pool of word lists across merge_word, which can grow (realloc) that pool. It
 * takes more than 16,384 live lists during the merges, which ~55 kB of random words reach at a
 * vocabulary of 1000 (English text needs ~1 MB and 2000). Under ASan the old code fails here;
 * the checks below also make sure training went all the way. */
#include "base/base.h"
#include "test.h"
#include "tokenizer/tokenizer.h"

int main(void) {
    lmc_rng r;
    lmc_rng_init(&r, 1);
    lmc_buf text = {0};
    lmc_err err = {0};
    for (int w = 0; w < 12000; w++) {
        char word[9];
        int n = 2 + (int)lmc_rng_below(&r, 6);
        for (int i = 0; i < n; i++) word[i] = (char)('a' + lmc_rng_below(&r, 26));
        if (w) CHECK(lmc_buf_append(&text, " ", 1, &err) == 0);
        CHECK(lmc_buf_append(&text, word, (size_t)n, &err) == 0);
    }
    for (int threads = 1; threads <= 2; threads++) {
        const char *sp[] = {"<|endoftext|>"};
        tok_train_opts o = {1000, "gpt2", sp, 1, 0, threads, NULL};
        tok_trainer *tr;
        CHECK(tok_trainer_new(&tr, &o, &err) == 0);
        const char *seq = text.data;
        size_t len = text.len;
        CHECK(tok_trainer_feed(tr, &seq, &len, 1, &err) == 0);
        tok_tokenizer *t = NULL;
        CHECK_MSG(tok_trainer_finish(tr, &t, &err) == 0, "%s", err.msg);
        tok_trainer_free(tr);
        if (!t) continue;
        CHECK_EQ_INT(tok_n_vocab(t), 1000);
        CHECK(tok_n_merges(t) >= 1000 - 257);
        tok_free(t);
    }
    lmc_buf_free(&text);
    return test_summary("tokenizer/train_pool");
}
