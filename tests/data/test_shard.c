/* Token shards: llm.c uint16/uint32 layouts, nanoGPT headerless files, and bad files. */
#include "base/base.h"
#include "data/shard.h"
#include "test.h"

int main(void) {
    lmc_err err = {0};
    char *dir = test_tmpdir();
    char *p16 = lmc_path_join(dir, "a.bin"), *p32 = lmc_path_join(dir, "b.bin");
    uint32_t toks[1000];
    for (int i = 0; i < 1000; i++) toks[i] = (uint32_t)(i * 61) % 50257;

    lmc_shard_writer w;
    CHECK(lmc_shard_writer_open(&w, p16, 50257, &err) == 0);
    CHECK(lmc_shard_writer_put(&w, toks, 600, &err) == 0);
    CHECK(lmc_shard_writer_put(&w, toks + 600, 400, &err) == 0);
    uint32_t big = 70000;
    CHECK(lmc_shard_writer_put(&w, &big, 1, &err) == LMC_EINVAL); /* does not fit uint16 */
    CHECK_STR_CONTAINS(err.msg, "70000");
    CHECK(lmc_shard_writer_commit(&w, &err) == 0);
    lmc_shard s;
    CHECK(lmc_shard_open(&s, p16, &err) == 0);
    CHECK(s.ntok == 1000 && s.token_bytes == 2 && s.kind == LMC_SHARD_LLMC);
    int32_t back[1000];
    lmc_shard_read(&s, 0, 1000, back);
    int same = 1;
    for (int i = 0; i < 1000; i++) same &= (uint32_t)back[i] == toks[i];
    CHECK(same);
    CHECK(lmc_shard_max_token(&s) == 50256 || lmc_shard_max_token(&s) <= 50256);
    lmc_shard_close(&s);

    /* uint32 variant for big vocabularies */
    CHECK(lmc_shard_writer_open(&w, p32, 200019, &err) == 0);
    uint32_t t2[3] = {0, 199999, 200018};
    CHECK(lmc_shard_writer_put(&w, t2, 3, &err) == 0);
    CHECK(lmc_shard_writer_commit(&w, &err) == 0);
    CHECK(lmc_shard_open(&s, p32, &err) == 0);
    CHECK(s.ntok == 3 && s.token_bytes == 4 && lmc_shard_get(&s, 1) == 199999 && lmc_shard_get(&s, 2) == 200018);
    lmc_shard_close(&s);

    /* abort leaves nothing */
    char *p3 = lmc_path_join(dir, "c.bin");
    CHECK(lmc_shard_writer_open(&w, p3, 100, &err) == 0);
    lmc_shard_writer_put(&w, toks, 10, &err);
    lmc_shard_writer_abort(&w);
    CHECK(!lmc_file_exists(p3));

    /* truncated: header count disagrees with the size */
    char *d;
    size_t n;
    lmc_read_file(p16, &d, &n, NULL);
    lmc_write_file_atomic(p3, d, n - 10, NULL);
    CHECK(lmc_shard_open(&s, p3, &err) == LMC_EFORMAT);
    CHECK_STR_CONTAINS(err.msg, "c.bin");
    CHECK_STR_CONTAINS(err.msg, "truncated");
    CHECK_STR_CONTAINS(err.msg, "header says 1000 tokens"); /* the count read, not the zeroed struct's */
    /* truncated header */
    lmc_write_file_atomic(p3, d, 100, NULL);
    CHECK(lmc_shard_open(&s, p3, &err) == LMC_EFORMAT);
    CHECK_STR_CONTAINS(err.msg, "header");
    /* wrong version */
    d[4] = 9;
    lmc_write_file_atomic(p3, d, n, NULL);
    CHECK(lmc_shard_open(&s, p3, &err) == LMC_EFORMAT);
    CHECK_STR_CONTAINS(err.msg, "version");
    free(d);

    /* nanoGPT headerless uint16, only when asked for; odd size is rejected */
    uint16_t raw[5] = {1, 2, 3, 65535, 0};
    lmc_write_file_atomic(p3, raw, sizeof raw, NULL);
    CHECK(lmc_shard_open(&s, p3, &err) == LMC_EFORMAT); /* a failed magic is an error, not a guess */
    CHECK_STR_CONTAINS(err.msg, "c.bin");
    CHECK_STR_CONTAINS(err.msg, "magic");
    CHECK(lmc_shard_open_kind(&s, p3, LMC_SHARD_NANOGPT, &err) == 0);
    CHECK(s.kind == LMC_SHARD_NANOGPT && s.ntok == 5 && lmc_shard_get(&s, 3) == 65535);
    lmc_shard_close(&s);
    lmc_write_file_atomic(p3, raw, 9, NULL);
    CHECK(lmc_shard_open_kind(&s, p3, LMC_SHARD_NANOGPT, &err) == LMC_EFORMAT);
    CHECK_STR_CONTAINS(err.msg, "odd size");
    /* an llm.c file read as headerless would train on its header: refused */
    CHECK(lmc_shard_open_kind(&s, p16, LMC_SHARD_NANOGPT, &err) == LMC_EFORMAT);
    CHECK_STR_CONTAINS(err.msg, "llm.c shard header");
    /* a damaged magic in an llm.c file (the D6 case) */
    lmc_read_file(p16, &d, &n, NULL);
    d[0] ^= 1;
    lmc_write_file_atomic(p3, d, n, NULL);
    free(d);
    CHECK(lmc_shard_open(&s, p3, &err) == LMC_EFORMAT);
    CHECK_STR_CONTAINS(err.msg, "not an llm.c token shard");
    CHECK(lmc_shard_kind_parse("nanogpt", &s.kind) == 0 && s.kind == LMC_SHARD_NANOGPT);
    CHECK(lmc_shard_kind_parse("raw", &s.kind) < 0);

    lmc_remove_tree(dir, NULL);
    free(p3); free(p32); free(p16); free(dir);
    return test_summary("data/shard");
}
