/* Loss-mask sidecars (src/data/mask.h, src/train/loader_mask.h): the file round-trips bit for bit; the
 * loader writes -1 at exactly the masked targets; a mask of the wrong length, a bad magic, a shard without
 * its mask under auto/require are errors naming the file and the counts; off ignores masks. */
#include <string.h>
#include <unistd.h>
#include "test.h"
#include "base/base.h"
#include "data/mask.h"
#include "data/shard.h"
#include "train/loader.h"
#include "train/loader_mask.h"
#include "train/packing.h"

static void write_shard(const char *path, uint32_t start, size_t n) {
    lmc_shard_writer w;
    lmc_err err;
    uint32_t *t = malloc(n * sizeof *t);
    for (size_t i = 0; i < n; i++) t[i] = start + (uint32_t)i;
    if (lmc_shard_writer_open(&w, path, 60000, &err) || lmc_shard_writer_put(&w, t, n, &err) ||
        lmc_shard_writer_commit(&w, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        exit(1);
    }
    free(t);
}

/* Token i of a shard starting at `start` is masked when (start + i) % 3 == 0. */
static void write_mask(const char *path, uint32_t start, size_t n) {
    lmc_mask_writer w;
    lmc_err err;
    uint8_t *b = malloc(n);
    for (size_t i = 0; i < n; i++) b[i] = (start + i) % 3 != 0;
    /* in two pieces, so a put that ends mid-byte is exercised */
    if (lmc_mask_writer_open(&w, path, &err) || lmc_mask_writer_put(&w, b, n / 2, &err) ||
        lmc_mask_writer_put(&w, b + n / 2, n - n / 2, &err) || lmc_mask_writer_commit(&w, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        exit(1);
    }
    free(b);
}

int main(void) {
    char *dir = test_tmpdir();
    char p[4200], q[4200], glob[4200];
    lmc_err err;

    /* sidecar naming */
    char *mp = lmc_mask_path("/x/a_000.bin");
    CHECK(!strcmp(mp, "/x/a_000.mask"));
    free(mp);
    mp = lmc_mask_path("/x/tokens");
    CHECK(!strcmp(mp, "/x/tokens.mask"));
    free(mp);

    /* the exact bytes: 21 tokens -> 32-byte header + 3 bytes */
    snprintf(p, sizeof p, "%s/a_000.bin", dir);
    write_shard(p, 0, 21);
    snprintf(q, sizeof q, "%s/a_000.mask", dir);
    write_mask(q, 0, 21);
    char *data;
    size_t len;
    CHECK_EQ_INT(lmc_read_file(q, &data, &len, &err), 0);
    CHECK_EQ_INT(len, 32 + 3);
    CHECK(!memcmp(data, "LMCMASK\0", 8) && data[8] == 1 && data[16] == 21 && data[17] == 0);
    /* tokens 0..7: masked 0, 3, 6 -> bits 1,2,4,5,7 = 0b10110110 */
    CHECK_EQ_INT((unsigned char)data[32], 0xB6);
    CHECK_EQ_INT((unsigned char)data[34] >> 5, 0); /* unused high bits of the last byte are 0 */
    free(data);
    lmc_mask m;
    CHECK_EQ_INT(lmc_mask_open(&m, q, 21, &err), 0);
    for (uint64_t i = 0; i < 21; i++) CHECK_EQ_INT(lmc_mask_get(&m, i), i % 3 != 0);
    lmc_mask_close(&m);
    /* the count must be the shard's */
    CHECK(lmc_mask_open(&m, q, 22, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, q);
    CHECK_STR_CONTAINS(err.msg, "holds 21 tokens");
    CHECK_STR_CONTAINS(err.msg, "expected 22");

    /* the loader: shard b (13 tokens from 1000) with its mask too */
    snprintf(p, sizeof p, "%s/a_001.bin", dir);
    write_shard(p, 1000, 13);
    snprintf(q, sizeof q, "%s/a_001.mask", dir);
    write_mask(q, 1000, 13);
    snprintf(glob, sizeof glob, "%s/a_*.bin", dir);
    train_loader l;
    const int64_t T = 4;
    CHECK_EQ_INT(train_loader_open(&l, glob, T, 42, 1, 60000, LMC_SHARD_LLMC, &err), 0);
    CHECK_EQ_INT(train_loader_attach_masks(&l, TRAIN_MASK_AUTO, "data.train", &err), 0);
    CHECK_EQ_INT(l.masked, 2);
    int32_t in[8 * 4], tg[8 * 4];
    CHECK_EQ_INT(train_loader_next(&l, 8, in, tg, &err), 0);
    size_t masked = 0;
    for (int i = 0; i < 8 * 4; i++) {
        int32_t want = in[i] + 1; /* the target token; masked when its id % 3 == 0 */
        CHECK_EQ_INT(tg[i], want % 3 == 0 ? -1 : want);
        masked += tg[i] < 0;
    }
    CHECK(masked > 5);
    CHECK_EQ_INT(train_count_targets(tg, 32), 32 - masked);
    /* the fixed (validation) path applies it too */
    CHECK_EQ_INT(train_loader_fixed(&l, 0, 1, in, tg, &err), 0);
    CHECK_EQ_INT(tg[2], -1); /* target token 3 */
    CHECK_EQ_INT(tg[0], 1);
    train_loader_close(&l);

    /* seamless packing reads the same masks (its windows are pieces of documents, token 5 separates) */
    CHECK_EQ_INT(train_loader_open(&l, glob, T, 42, 1, 60000, LMC_SHARD_LLMC, &err), 0);
    train_packing_params pp = {0.3, 2, 0, 5};
    CHECK_MSG(train_loader_set_packing(&l, &pp, &err) == 0, "%s", err.msg);
    CHECK_EQ_INT(train_loader_attach_masks(&l, TRAIN_MASK_AUTO, "data.train", &err), 0);
    CHECK_EQ_INT(train_loader_next(&l, 4, in, tg, &err), 0);
    masked = 0;
    for (int w = 0; w < 4; w++)
        for (int i = 0; i + 1 < T; i++) {
            int32_t next = in[w * T + i + 1];
            CHECK_EQ_INT(tg[w * T + i], next % 3 == 0 ? -1 : next);
            masked += next % 3 == 0;
        }
    CHECK(masked > 0);
    train_loader_close(&l);

    /* off: not read */
    CHECK_EQ_INT(train_loader_open(&l, glob, T, 42, 1, 60000, LMC_SHARD_LLMC, &err), 0);
    CHECK_EQ_INT(train_loader_attach_masks(&l, TRAIN_MASK_OFF, "data.train", &err), 0);
    CHECK_EQ_INT(l.masked, 0);
    CHECK_EQ_INT(train_loader_next(&l, 8, in, tg, &err), 0);
    CHECK_EQ_INT(train_count_targets(tg, 32), 32);
    train_loader_close(&l);

    /* a mask of the wrong length: names the mask file and both counts */
    write_mask(q, 1000, 12);
    CHECK_EQ_INT(train_loader_open(&l, glob, T, 42, 1, 60000, LMC_SHARD_LLMC, &err), 0);
    CHECK(train_loader_attach_masks(&l, TRAIN_MASK_AUTO, "data.train", &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "data.train");
    CHECK_STR_CONTAINS(err.msg, "a_001.mask");
    CHECK_STR_CONTAINS(err.msg, "holds 12 tokens");
    CHECK_STR_CONTAINS(err.msg, "expected 13");
    train_loader_close(&l);

    /* a bad magic */
    CHECK_EQ_INT(lmc_write_file_atomic(q, "LMCMASX\0xxxxxxxxxxxxxxxxxxxxxxxxxxxxx", 36, &err), 0);
    CHECK_EQ_INT(train_loader_open(&l, glob, T, 42, 1, 60000, LMC_SHARD_LLMC, &err), 0);
    CHECK(train_loader_attach_masks(&l, TRAIN_MASK_AUTO, "data.train", &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "a_001.mask");
    CHECK_STR_CONTAINS(err.msg, "not a loss-mask file");
    train_loader_close(&l);

    /* auto with one shard's mask missing: names the shard without one */
    unlink(q);
    CHECK_EQ_INT(train_loader_open(&l, glob, T, 42, 1, 60000, LMC_SHARD_LLMC, &err), 0);
    CHECK(train_loader_attach_masks(&l, TRAIN_MASK_AUTO, "data.train", &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "a_001.bin has none");
    train_loader_close(&l);

    /* require with no mask at all; auto with none is the plain path */
    snprintf(q, sizeof q, "%s/a_000.mask", dir);
    unlink(q);
    CHECK_EQ_INT(train_loader_open(&l, glob, T, 42, 1, 60000, LMC_SHARD_LLMC, &err), 0);
    CHECK(train_loader_attach_masks(&l, TRAIN_MASK_REQUIRE, "data.train", &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "a_000.bin has no loss mask");
    CHECK_EQ_INT(train_loader_attach_masks(&l, TRAIN_MASK_AUTO, "data.train", &err), 0);
    CHECK_EQ_INT(l.masked, 0);
    train_loader_close(&l);
    train_mask_mode mode;
    CHECK(train_mask_mode_parse("require", &mode) == 0 && mode == TRAIN_MASK_REQUIRE);
    CHECK(train_mask_mode_parse("sometimes", &mode) != 0);
    free(dir);
    return test_summary("lossmask");
}
