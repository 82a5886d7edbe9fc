/* Vocabulary extension (issue 20, Herold et al. 2025): extended encodings are never longer than the
 * base's on random and real text, decode back to the text, keep every base id; the saved
 * tokenizer.json encodes exactly like the in-memory one; appended merges combine existing ids; a base
 * whose merges conflict (the same pair twice) is refused with a clear error. The domain tokenizer is
 * trained here on lmc's own C sources. */
#include "test.h"
#include "tok_test_util.h"
#include "base/io.h"
#include "base/reader.h"
#include "tokenizer/tokres.h"

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint32_t next_u32(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 11);
}

static size_t random_text(uint8_t *p, size_t cap) {
    static const char *frags[] = {"int ", "return", " (", "){\n", "    ", "tok_", "_t *", "->", "err", "static ",
                                  "hello", " world", "'s", "\n\n", "\t", "123", "\xC3\xA9", "\xE6\x97\xA5", "\xFF",
                                  "/* ", " */", "lmc_", "if (", "; i++)", "uint32_t"};
    size_t n = 0, want = next_u32() % 300;
    while (n < want && n + 16 < cap) {
        uint32_t r = next_u32() % 10;
        if (r < 2) p[n++] = (uint8_t)next_u32();
        else if (r < 3) p[n++] = (uint8_t)(' ' + next_u32() % 95);
        else {
            const char *f = frags[next_u32() % (sizeof frags / sizeof frags[0])];
            size_t l = strlen(f);
            memcpy(p + n, f, l);
            n += l;
        }
    }
    return n;
}

static char *read_src(const char *rel, size_t *len) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", test_source_dir(), rel);
    char *d = NULL;
    lmc_err err = {0};
    if (lmc_read_all(path, &d, len, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        exit(1);
    }
    return d;
}

static size_t enc_len(tok_encoder *e, const void *p, size_t n, tok_ids *ids) {
    ids->n = 0;
    lmc_err err = {0};
    CHECK_MSG(tok_encode(e, p, n, 0, ids, &err) == 0, "%s", err.msg);
    return ids->n;
}

static tok_tokenizer *train_domain(uint32_t vocab) {
    /* the domain: lmc's C sources (different files from the held-out text below) */
    const char *files[] = {"src/tokenizer/encode.c", "src/tokenizer/vocab.c", "src/tokenizer/train.c",
                           "src/tokenizer/load_hf.c", "src/cli/cmd_tokenizer.c", "src/base/io.c"};
    tok_train_opts o = {vocab, "gpt2", NULL, 0, 2, 1, NULL};
    tok_trainer *tr;
    lmc_err err = {0};
    CHECK(tok_trainer_new(&tr, &o, &err) == 0);
    for (int i = 0; i < 6; i++) {
        size_t len;
        char *d = read_src(files[i], &len);
        const char *s = d;
        CHECK(tok_trainer_feed(tr, &s, &len, 1, &err) == 0);
        free(d);
    }
    tok_tokenizer *t = NULL;
    CHECK_MSG(tok_trainer_finish(tr, &t, &err) == 0, "%s", err.msg);
    tok_trainer_free(tr);
    return t;
}

static void property(const char *name, const char *base_path, const tok_tokenizer *dom, uint32_t n_add) {
    lmc_err err = {0};
    tok_tokenizer *base, *ext;
    CHECK_MSG(tok_load(&base, base_path, NULL, &err) == 0, "%s", err.msg);
    CHECK_MSG(tok_load(&ext, base_path, NULL, &err) == 0, "%s", err.msg);
    uint32_t nb = tok_n_vocab(base);
    tok_extend_stats st;
    CHECK_MSG(tok_extend(ext, dom, n_add, &st, &err) == 0, "%s", err.msg);
    CHECK_MSG(st.added > 0, "%s: nothing added", name);
    CHECK_EQ_INT(tok_n_vocab(ext), nb + st.added);
    /* base ids keep their bytes; new merges combine ids that exist before them */
    for (uint32_t id = 0; id < nb; id++) {
        size_t l1 = 0, l2 = 0;
        const uint8_t *b1 = tok_token_bytes(base, id, &l1), *b2 = tok_token_bytes(ext, id, &l2);
        CHECK(!b1 == !b2 && l1 == l2 && (!b1 || !memcmp(b1, b2, l1)));
    }
    for (uint32_t id = nb; id < tok_n_vocab(ext); id++) {
        uint32_t a, b;
        CHECK(tok_merge_parts(ext, id, &a, &b) && a < id && b < id);
    }
    /* saved and reloaded: the same encodings as in memory */
    char *dir = test_tmpdir();
    char *out = lmc_path_join(dir, "ext.json");
    CHECK_MSG(tok_save_hf_json(ext, out, &err) == 0, "%s", err.msg);
    tok_tokenizer *rel;
    CHECK_MSG(tok_load(&rel, out, NULL, &err) == 0, "%s", err.msg);
    tok_encoder *eb, *ee, *er;
    CHECK(tok_encoder_new(&eb, base, &err) == 0 && tok_encoder_new(&ee, ext, &err) == 0 &&
          tok_encoder_new(&er, rel, &err) == 0);
    tok_ids ib = {0}, ie = {0}, ir = {0};
    uint8_t buf[1024];
    long longer = 0, saved_diff = 0, rt_bad = 0, shorter = 0;
    for (int it = 0; it < 3000; it++) {
        size_t n = random_text(buf, sizeof buf);
        size_t lb = enc_len(eb, buf, n, &ib), le = enc_len(ee, buf, n, &ie);
        enc_len(er, buf, n, &ir);
        longer += le > lb;
        shorter += le < lb;
        saved_diff += ie.n != ir.n || memcmp(ie.v, ir.v, ie.n * sizeof *ie.v);
        lmc_buf d = {0};
        CHECK(tok_decode(ext, ie.v, ie.n, &d, &err) == 0);
        rt_bad += d.len != n || (n && memcmp(d.data, buf, n));
        lmc_buf_free(&d);
    }
    /* real text: held-out sources (domain) and English (general) */
    const char *held[] = {"src/tokenizer/canonical.c", "src/cli/cmd_sample.c", "docs/tokenizer.md", "README.md"};
    for (int k = 0; k < 4; k++) {
        size_t len;
        char *d = read_src(held[k], &len);
        /* every line and the whole file */
        size_t s = 0;
        for (size_t i = 0; i <= len; i++)
            if (i == len || d[i] == '\n') {
                size_t lb = enc_len(eb, d + s, i - s, &ib), le = enc_len(ee, d + s, i - s, &ie);
                longer += le > lb;
                s = i + 1;
            }
        size_t lb = enc_len(eb, d, len, &ib), le = enc_len(ee, d, len, &ie);
        enc_len(er, d, len, &ir);
        longer += le > lb;
        saved_diff += ie.n != ir.n || memcmp(ie.v, ir.v, ie.n * sizeof *ie.v);
        fprintf(stderr, "%s: %s: %zu -> %zu tokens (%.1f%% shorter)\n", name, held[k], lb, le,
                100.0 * (double)(lb - le) / (double)lb);
        if (k < 2) CHECK(le < lb); /* domain text does get shorter */
        free(d);
    }
    fprintf(stderr, "%s: +%u merges (%u candidates: %u in base, %u multi-piece, %u not two tokens); random texts "
            "shorter %ld, longer %ld; saved != memory %ld; round trip failures %ld\n",
            name, st.added, st.candidates, st.in_base, st.multi_piece, st.not_two, shorter, longer, saved_diff, rt_bad);
    CHECK_EQ_INT(longer, 0);
    CHECK_EQ_INT(saved_diff, 0);
    CHECK_EQ_INT(rt_bad, 0);
    tok_ids_free(&ib);
    tok_ids_free(&ie);
    tok_ids_free(&ir);
    tok_encoder_free(eb);
    tok_encoder_free(ee);
    tok_encoder_free(er);
    tok_free(rel);
    tok_free(base);
    tok_free(ext);
    free(out);
    free(dir);
}

static void conflict(void) {
    /* hf_small.json with its first merge repeated at the end: the pair's rank is no longer one merge */
    json_t *j = tt_load_fixture("hf_small.json");
    json_t *merges = json_object_get(json_object_get(j, "model"), "merges");
    json_array_append(merges, json_array_get(merges, 0));
    char *dir = test_tmpdir();
    char *p = lmc_path_join(dir, "conflict.json");
    CHECK(json_dump_file(j, p, 0) == 0);
    json_decref(j);
    lmc_err err = {0};
    tok_tokenizer *t, *d;
    CHECK_MSG(tok_load(&t, p, NULL, &err) == 0, "%s", err.msg);
    CHECK_MSG(tok_load(&d, p, NULL, &err) == 0, "%s", err.msg);
    tok_extend_stats st;
    CHECK(tok_extend(t, d, 10, &st, &err) == LMC_EFORMAT);
    CHECK_STR_CONTAINS(err.msg, "merges conflict: merge 0");
    tok_free(t);
    tok_free(d);
    free(p);
    free(dir);
}

int main(void) {
    tok_tokenizer *dom = train_domain(3000);
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/tokenizer/fixtures/hf_small.json", test_source_dir());
    property("hf_small", path, dom, 300);
    snprintf(path, sizeof path, "%s/vocab/gpt2.tiktoken", test_shared_dir());
    if (lmc_file_exists(path)) property("gpt2", path, dom, 300);
    else fprintf(stderr, "(%s absent: skipped)\n", path);
    conflict();
    tok_free(dom);
    return test_summary("tokenizer/extend");
}
