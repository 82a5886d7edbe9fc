/* Data loader: epoch coverage, determinism from the seed, exact seek (the resume path) across an
 * epoch boundary, nanoGPT headerless shards, out-of-vocabulary tokens. */
#include <string.h>
#include "test.h"
#include "base/base.h"
#include "data/shard.h"
#include "train/loader.h"

static void write_shard(const char *path, uint32_t start, size_t n, uint32_t vocab) {
    lmc_shard_writer w;
    lmc_err err;
    uint32_t *t = malloc(n * sizeof *t);
    for (size_t i = 0; i < n; i++) t[i] = (start + (uint32_t)i) % vocab;
    if (lmc_shard_writer_open(&w, path, vocab, &err) || lmc_shard_writer_put(&w, t, n, &err) ||
        lmc_shard_writer_commit(&w, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        exit(1);
    }
    free(t);
}

int main(void) {
    char *dir = test_tmpdir();
    char p[4200], glob[4200];
    lmc_err err;
    const int64_t T = 4;
    /* shard a: 21 tokens -> 5 sequences; shard b: 13 tokens -> 3; total 8 */
    snprintf(p, sizeof p, "%s/a_000.bin", dir);
    write_shard(p, 0, 21, 60000);
    snprintf(p, sizeof p, "%s/a_001.bin", dir);
    write_shard(p, 1000, 13, 60000);
    snprintf(glob, sizeof glob, "%s/a_*.bin", dir);

    train_loader l;
    CHECK_EQ_INT(train_loader_open(&l, glob, T, 42, 1, 60000, LMC_SHARD_LLMC, &err), 0);
    CHECK_EQ_INT(l.nseq, 8);
    int32_t in[8 * 4], tg[8 * 4];
    CHECK_EQ_INT(train_loader_next(&l, 8, in, tg, &err), 0);
    /* each epoch visits every sequence once; targets are inputs shifted by one */
    int seen[8] = {0};
    for (int i = 0; i < 8; i++) {
        int32_t first = in[i * T];
        int g = first < 1000 ? first / 4 : 5 + (first - 1000) / 4;
        CHECK(g >= 0 && g < 8);
        if (g >= 0 && g < 8) seen[g]++;
        for (int t = 0; t < T; t++) CHECK_EQ_INT(tg[i * T + t], in[i * T + t] + 1);
    }
    for (int g = 0; g < 8; g++) CHECK_EQ_INT(seen[g], 1);
    CHECK_EQ_INT(l.epoch, 0);
    CHECK_EQ_INT(l.pos, 8);

    /* Reference stream of 30 sequences (crosses 3 epoch boundaries, mid-batch). */
    int32_t ref[30 * 4], rtg[30 * 4];
    train_loader_seek(&l, 0, 0, &err);
    CHECK_EQ_INT(train_loader_next(&l, 30, ref, rtg, &err), 0);
    CHECK_EQ_INT(l.epoch, 3);
    CHECK_EQ_INT(l.pos, 6);
    /* epochs are shuffled differently */
    CHECK(memcmp(ref, ref + 8 * T, 8 * T * sizeof *ref) != 0);
    /* Same seed -> same stream; a fresh loader seeked to (1, 3) continues exactly from sequence 11. */
    train_loader l2;
    CHECK_EQ_INT(train_loader_open(&l2, glob, T, 42, 1, 60000, LMC_SHARD_LLMC, &err), 0);
    CHECK_EQ_INT(train_loader_seek(&l2, 1, 3, &err), 0);
    int32_t got[19 * 4], gtg[19 * 4];
    CHECK_EQ_INT(train_loader_next(&l2, 19, got, gtg, &err), 0);
    CHECK(!memcmp(got, ref + 11 * T, sizeof got));
    CHECK(!memcmp(gtg, rtg + 11 * T, sizeof gtg));
    train_loader_close(&l2);
    /* A different seed gives a different order. */
    CHECK_EQ_INT(train_loader_open(&l2, glob, T, 43, 1, 60000, LMC_SHARD_LLMC, &err), 0);
    CHECK_EQ_INT(train_loader_next(&l2, 8, got, gtg, &err), 0);
    CHECK(memcmp(got, ref, 8 * T * sizeof *ref) != 0);
    train_loader_close(&l2);
    CHECK(train_loader_seek(&l, 0, 9, &err) < 0);
    train_loader_close(&l);

    /* Validation order: natural order, fixed windows, wrapping. */
    CHECK_EQ_INT(train_loader_open(&l, glob, T, 42, 0, 60000, LMC_SHARD_LLMC, &err), 0);
    CHECK_EQ_INT(train_loader_fixed(&l, 6, 3, got, gtg, &err), 0);
    CHECK_EQ_INT(got[0], 1004);
    CHECK_EQ_INT(got[4], 1008);
    CHECK_EQ_INT(got[8], 0);
    train_loader_close(&l);

    /* Token ids must fit the vocabulary: checked when the shards are opened, not when drawn. */
    CHECK(train_loader_open(&l, glob, T, 42, 1, 1000, LMC_SHARD_LLMC, &err) < 0);
    CHECK_STR_CONTAINS(err.msg, "vocabulary");
    CHECK_STR_CONTAINS(err.msg, "at index");

    /* nanoGPT headerless uint16 */
    snprintf(p, sizeof p, "%s/nano.bin", dir);
    uint16_t raw[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    CHECK_EQ_INT(lmc_write_file_atomic(p, raw, sizeof raw, &err), 0);
    CHECK(train_loader_open(&l, p, T, 1, 0, 100, LMC_SHARD_LLMC, &err) < 0); /* never guessed */
    CHECK_STR_CONTAINS(err.msg, "nanogpt");
    CHECK_EQ_INT(train_loader_open(&l, p, T, 1, 0, 100, LMC_SHARD_NANOGPT, &err), 0);
    CHECK_EQ_INT(l.nseq, 2);
    CHECK_EQ_INT(train_loader_fixed(&l, 1, 1, got, gtg, &err), 0);
    CHECK_EQ_INT(got[0], 5);
    CHECK_EQ_INT(gtg[3], 9);
    train_loader_close(&l);

    /* too short for one sequence */
    CHECK(train_loader_open(&l, p, 16, 1, 1, 100, LMC_SHARD_NANOGPT, &err) < 0);
    CHECK_STR_CONTAINS(err.msg, "seq_len");
    snprintf(glob, sizeof glob, "%s/none_*.bin", dir);
    CHECK(train_loader_open(&l, glob, T, 1, 1, 100, LMC_SHARD_LLMC, &err) < 0);

    lmc_remove_tree(dir, &err);
    free(dir);
    return test_summary("train/loader");
}
