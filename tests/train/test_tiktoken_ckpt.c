/* A run trained with a tiktoken rank file (data.tokenizer: gpt2.tiktoken, the README's pattern) writes
 * a real tokenizer.json into its checkpoints, converted with its special tokens, so that lmc eval
 * (and HF's loaders) can read the checkpoint folder (issue 11, D13: the rank file's bytes were copied).
 * Skips when ../shared/vocab/gpt2.tiktoken is absent. */
#include <stdio.h>
#include <sys/wait.h>
#include "base/base.h"
#include "test.h"
#include "tokenizer/tokenizer.h"

int main(void) {
    const char *bin = getenv("LMC_BIN");
    if (!bin) TEST_SKIP("LMC_BIN not set");
    char rank[4096];
    snprintf(rank, sizeof rank, "%s/vocab/gpt2.tiktoken", test_shared_dir());
    if (!lmc_file_exists(rank)) TEST_SKIP("%s is absent", rank);
    char *dir = test_tmpdir();
    char path[9000], cmd[40000];
    lmc_err err = {0};

    FILE *f;
    snprintf(path, sizeof path, "%s/text.txt", dir);
    f = fopen(path, "w");
    for (int i = 0; i < 200; i++) fprintf(f, "The cat sat on the mat number %d, and the dog ran home.\n", i);
    fclose(f);
    snprintf(cmd, sizeof cmd, "cd %s && %s -q tokenizer encode -t %s -o train.bin text.txt && cp train.bin val.bin",
             dir, bin, rank);
    CHECK_EQ_INT(system(cmd), 0);
    snprintf(path, sizeof path, "%s/run.yaml", dir);
    f = fopen(path, "w");
    fprintf(f, "run: {name: tk, dir: %s/runs, sample_tokens: 0, peak_tflops: 1}\n"
               "data: {train: %s/train.bin, val: %s/val.bin, tokenizer: %s}\n"
               "model: {n_layer: 1, n_head: 2, d_model: 16, seq_len: 16}\n"
               "train: {steps: 2, batch_size: 2, micro_batch: 2, warmup_steps: 1, eval_every: 0, eval_batches: 1,\n"
               "        checkpoint_every: 0}\n",
            dir, dir, dir, rank);
    fclose(f);
    snprintf(cmd, sizeof cmd, "%s -q train %s", bin, path);
    CHECK_EQ_INT(system(cmd), 0);

    /* the checkpoint's tokenizer.json is JSON, with the rank file's vocabulary and <|endoftext|> */
    char ck[8400];
    snprintf(ck, sizeof ck, "%s/runs/tk/checkpoints/step_00000002", dir);
    snprintf(path, sizeof path, "%s/tokenizer.json", ck);
    char *data = NULL;
    size_t len = 0;
    CHECK(lmc_read_file(path, &data, &len, &err) == 0);
    CHECK(data && len > 0 && data[0] == '{');
    free(data);
    tok_tokenizer *a = NULL, *b = NULL;
    CHECK_MSG(tok_load(&a, path, NULL, &err) == 0, "%s", err.msg);
    CHECK_MSG(tok_load(&b, rank, NULL, &err) == 0, "%s", err.msg);
    if (a && b) {
        CHECK_EQ_INT(tok_n_vocab(a), tok_n_vocab(b));
        CHECK_EQ_INT(tok_special_id(a, "<|endoftext|>"), 50256);
        tok_encoder *ea, *eb;
        tok_ids ia = {0}, ib = {0};
        const char *s = "Hello world, the tokenizer.json of a tiktoken run!";
        CHECK(tok_encoder_new(&ea, a, &err) == 0 && tok_encoder_new(&eb, b, &err) == 0);
        CHECK(tok_encode(ea, s, strlen(s), 0, &ia, &err) == 0 && tok_encode(eb, s, strlen(s), 0, &ib, &err) == 0);
        CHECK(ia.n == ib.n && ia.n > 0 && !memcmp(ia.v, ib.v, ia.n * sizeof *ia.v));
        tok_ids_free(&ia);
        tok_ids_free(&ib);
        tok_encoder_free(ea);
        tok_encoder_free(eb);
    }
    tok_free(a);
    tok_free(b);

    /* lmc eval reads the folder, tokenizer.json included (bits per byte) */
    snprintf(cmd, sizeof cmd, "%s -q eval --model %s --data %s/val.bin --seq-len 16 --max-tokens 64 > %s/eval.json",
             bin, ck, dir, dir);
    CHECK_EQ_INT(system(cmd), 0);
    snprintf(path, sizeof path, "%s/eval.json", dir);
    data = NULL;
    CHECK(lmc_read_file(path, &data, &len, &err) == 0);
    CHECK_STR_CONTAINS(data, "\"bpb\"");
    free(data);

    if (!lmc_test_failures) lmc_remove_tree(dir, &err);
    free(dir);
    return test_summary("train/tiktoken_ckpt");
}
