/* End to end through the lmc binary: encode -o shards are byte-identical for 1 and 2 threads (with a
 * 3 MB document cut into parts), decode --shard gives the documents back, --ids matches the library,
 * and bad input exits non-zero with a message naming the file and leaves no output behind. */
#include <sys/stat.h>
#include "test.h"
#include "tok_test_util.h"

static char tmp[4096], tokp[4096];

static int run(const char *fmt, const char *a1, const char *a2) {
    char cmd[16384], args[8192];
    snprintf(args, sizeof args, fmt, a1, a2);
    snprintf(cmd, sizeof cmd, "cd %s && %s --quiet tokenizer %s", tmp, getenv("LMC_BIN"), args);
    int rc = system(cmd);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static char *slurp(const char *name, size_t *len) {
    char p[8192];
    snprintf(p, sizeof p, "%s/%s", tmp, name);
    FILE *f = fopen(p, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    *len = fread(s, 1, (size_t)n, f);
    s[*len] = 0;
    fclose(f);
    return s;
}

static void spit(const char *name, const char *data, size_t len) {
    char p[8192];
    snprintf(p, sizeof p, "%s/%s", tmp, name);
    FILE *f = fopen(p, "wb");
    fwrite(data, 1, len, f);
    fclose(f);
}

int main(void) {
    if (!getenv("LMC_BIN")) TEST_SKIP("LMC_BIN not set");
    char *t = test_tmpdir();
    snprintf(tmp, sizeof tmp, "%s", t);
    free(t);
    snprintf(tokp, sizeof tokp, "%s/tests/tokenizer/fixtures/hf_small.json", test_source_dir());

    /* doc1: 3 MB of varied lines (cut into parts by the encoder); docs.jsonl: three documents. */
    size_t cap = 3300000, n = 0;
    char *big = malloc(cap);
    static const char *lines[] = {"First Citizen:\n", "Before we proceed any further, hear me speak.\n", "\n",
                                  "  indented  line with   spaces \n", "Zürich ünïcödé 日本語 👍🏽\n", "x\n", "\r\n",
                                  "1234567 numbers 89\n", "'tis 'TIS don't\n", "\xFF invalid \xE2\x82 bytes\n"};
    for (unsigned i = 0; n + 100 < cap && n < 3000000; i = i * 7 + 3)
        for (const char *s = lines[i % 10]; *s; s++) big[n++] = *s;
    spit("doc1.txt", big, n);
    const char *jl = "{\"text\": \"Hello there.\\nSecond line\"}\n\n{\"text\": \"\", \"id\": 2}\n{\"body\": 1, \"text\": \"caf\\u00e9 <|endoftext|>\"}\n";
    spit("docs.jsonl", jl, strlen(jl));

    CHECK_EQ_INT(run("encode -t %s -o one.bin --threads 1 doc1.txt docs.jsonl", tokp, NULL), 0);
    CHECK_EQ_INT(run("encode -t %s -o two.bin --threads 2 doc1.txt docs.jsonl", tokp, NULL), 0);
    size_t l1 = 0, l2 = 0;
    char *b1 = slurp("one.bin", &l1), *b2 = slurp("two.bin", &l2);
    CHECK(b1 && b2 && l1 == l2 && l1 > 1024 && !memcmp(b1, b2, l1));
    free(b1);
    free(b2);

    /* The shard decodes to the documents, each followed by <|endoftext|>. */
    CHECK_EQ_INT(run("decode -t %s --shard one.bin > back.txt", tokp, NULL), 0);
    size_t lb;
    char *back = slurp("back.txt", &lb);
    const char *rest = "<|endoftext|>Hello there.\nSecond line<|endoftext|><|endoftext|>caf\xC3\xA9 <|endoftext|><|endoftext|>";
    CHECK(back && lb == n + strlen(rest) && !memcmp(back, big, n) && !memcmp(back + n, rest, strlen(rest)));
    free(back);

    /* The shard's tokens equal the library's encoding of the whole document. */
    tok_tokenizer *tk;
    lmc_err err = {0};
    CHECK(tok_load(&tk, tokp, NULL, &err) == 0);
    tok_encoder *e;
    CHECK(tok_encoder_new(&e, tk, &err) == 0);
    tok_ids ids = {0};
    CHECK(tok_encode(e, big, n, 0, &ids, &err) == 0);
    size_t ls;
    unsigned char *sh = (unsigned char *)slurp("one.bin", &ls);
    int same = sh && ls >= 1024 + 2 * ids.n;
    for (size_t i = 0; same && i < ids.n; i++)
        same = (uint32_t)(sh[1024 + 2 * i] | sh[1024 + 2 * i + 1] << 8) == ids.v[i];
    CHECK_MSG(same, "shard tokens differ from encoding the document whole");
    free(sh);

    /* --ids prints the same ids. */
    spit("small.txt", "Hello world, it's 3 o'clock.\n", 29);
    CHECK_EQ_INT(run("encode -t %s --ids small.txt > ids.txt", tokp, NULL), 0);
    CHECK_EQ_INT(run("decode -t %s ids.txt > small.back", tokp, NULL), 0);
    size_t lsb;
    char *sb = slurp("small.back", &lsb);
    CHECK(sb && lsb == 29 && !memcmp(sb, "Hello world, it's 3 o'clock.\n", 29));
    free(sb);

    /* Bad input: clear message, non-zero exit, no output file. */
    CHECK_EQ_INT(run("encode -t %s -o bad.bin doc1.txt missing.txt 2> err.txt", tokp, NULL), 1);
    char p[8192];
    snprintf(p, sizeof p, "%s/bad.bin", tmp);
    struct stat st;
    CHECK(stat(p, &st) != 0);
    size_t le;
    char *es = slurp("err.txt", &le);
    CHECK_STR_CONTAINS(es, "missing.txt");
    free(es);
    spit("ids_bad.txt", "1 2\n3 99999\n", 12);
    CHECK_EQ_INT(run("decode -t %s ids_bad.txt > /dev/null 2> err.txt", tokp, NULL), 1);
    es = slurp("err.txt", &le);
    CHECK_STR_CONTAINS(es, "ids_bad.txt:2:3: id 99999 is out of range");
    free(es);
    spit("bad.jsonl", "{\"text\": \"ok\"}\n{\"txt\": 1}\n", 26);
    CHECK_EQ_INT(run("encode -t %s -o bad.bin bad.jsonl 2> err.txt", tokp, NULL), 1);
    es = slurp("err.txt", &le);
    CHECK_STR_CONTAINS(es, "bad.jsonl:2");
    free(es);
    CHECK(stat(p, &st) != 0);
    CHECK_EQ_INT(run("encode -t %s/nope.json small.txt 2> err.txt", tmp, NULL), 1);
    es = slurp("err.txt", &le);
    CHECK_STR_CONTAINS(es, "nope.json");
    free(es);
    CHECK_EQ_INT(run("encode -t %s --special maybe small.txt 2> /dev/null", tokp, NULL), 2);

    /* Compressed inputs (.gz, .zst) decode to the same documents. */
    if (system("command -v gzip > /dev/null && command -v zstd > /dev/null") == 0) {
        char cmd2[8192];
        snprintf(cmd2, sizeof cmd2, "cd %s && gzip -c small.txt > small.txt.gz && zstd -q -c docs.jsonl > docs.jsonl.zst", tmp);
        CHECK(system(cmd2) == 0);
        CHECK_EQ_INT(run("encode -t %s -o z.bin small.txt.gz docs.jsonl.zst%s", tokp, ""), 0);
        CHECK_EQ_INT(run("encode -t %s -o p.bin small.txt docs.jsonl%s", tokp, ""), 0);
        size_t lz, lp;
        char *bz = slurp("z.bin", &lz), *bp = slurp("p.bin", &lp);
        CHECK(bz && bp && lz == lp && !memcmp(bz, bp, lz));
        free(bz);
        free(bp);
    }

    /* train: two JSONL inputs and a plain-text file; the result loads, encodes and round-trips. */
    CHECK_EQ_INT(run("train -o trained.json --vocab-size 300 --special '<|endoftext|>' --threads 2 docs.jsonl docs.jsonl small.txt%s%s", "", ""), 0);
    CHECK_EQ_INT(run("info -t trained.json > info.txt%s%s", "", ""), 0);
    char *info = slurp("info.txt", &le);
    CHECK_STR_CONTAINS(info, "tokenizer.json");
    CHECK_STR_CONTAINS(info, "<|endoftext|>");
    free(info);
    CHECK_EQ_INT(run("encode -t trained.json --ids small.txt > ids2.txt%s%s", "", ""), 0);
    CHECK_EQ_INT(run("decode -t trained.json ids2.txt > small2.back%s%s", "", ""), 0);
    sb = slurp("small2.back", &lsb);
    CHECK(sb && lsb == 29 && !memcmp(sb, "Hello world, it's 3 o'clock.\n", 29));
    free(sb);
    CHECK_EQ_INT(run("train -o t2.json --vocab-size 257 --special a --special b small.txt 2> err.txt%s%s", "", ""), 1);
    es = slurp("err.txt", &le);
    CHECK_STR_CONTAINS(es, "vocab size");
    free(es);
    CHECK_EQ_INT(run("decode -t %s --shard missing.bin 2> err.txt%s", tokp, ""), 1);

    tok_ids_free(&ids);
    tok_encoder_free(e);
    tok_free(tk);
    free(big);
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmp);
    CHECK(system(cmd) == 0);
    return test_summary("tokenizer/cli");
}
