/* MeCo / annotation encoding (src/tokenizer/encode_meta.c): the shard holds exactly
 * tok("URL: host\n\n") tok(doc) <|endoftext|> per document (tok(doc) equal to the plain encoder's), the mask
 * marks exactly the metadata tokens as not-targets, and the mask survives shard -> loader: the loader's
 * targets are -1 at exactly those tokens (the first document token is a target). Annotations: the
 * <annotation>TAGS</annotation>\n layout, masked only with annotation_mask. Bad inputs name file:line. */
#include <string.h>
#include "test.h"
#include "base/base.h"
#include "data/mask.h"
#include "data/shard.h"
#include "tokenizer/encode_meta.h"
#include "tokenizer/tokenizer.h"
#include "train/loader.h"
#include "train/loader_mask.h"

static tok_encoder *enc;

/* Append the encoding of s with mask bit `bit` to the expected stream. */
static void expect(tok_ids *ids, tok_ids *bits, const char *s, int bit) {
    lmc_err err;
    size_t n0 = ids->n;
    if (tok_encode(enc, s, strlen(s), 0, ids, &err)) { fprintf(stderr, "%s\n", err.msg); exit(1); }
    for (size_t i = n0; i < ids->n; i++) tok_ids_push(bits, (uint32_t)bit, &err);
}

int main(void) {
    char *dir = test_tmpdir();
    char tp[4200], in[4200], out[4200], bad[4200];
    lmc_err err;
    snprintf(tp, sizeof tp, "%s/tests/tokenizer/fixtures/hf_small.json", test_source_dir());
    tok_tokenizer *t;
    int lrc = tok_load(&t, tp, NULL, &err);
    CHECK_MSG(lrc == 0, "%s", err.msg);
    if (lrc) { free(dir); return test_summary("encode_meta"); }
    CHECK_EQ_INT(tok_encoder_new(&enc, t, &err), 0);
    uint32_t eot = (uint32_t)tok_eot_id(t);

    const char *h;
    size_t hl;
    tok_meco_host("https://en.wikipedia.org/wiki/Cat?x=1", 37, &h, &hl);
    CHECK(hl == 16 && !strncmp(h, "en.wikipedia.org", hl));
    tok_meco_host("www.example.com/a/b", 19, &h, &hl);
    CHECK(hl == 15 && !strncmp(h, "www.example.com", hl));
    tok_meco_host("ftp://host", 10, &h, &hl);
    CHECK(hl == 4 && !strncmp(h, "host", hl));

    snprintf(in, sizeof in, "%s/docs.jsonl", dir);
    const char *jsonl =
        "{\"text\": \"The cat sat on the mat.\\n\\nIt was warm.\", \"url\": \"https://en.wikipedia.org/wiki/Cat\", "
        "\"tags\": [\"topic:cats\", \"topic:weather\"]}\n"
        "\n"
        "{\"text\": \"No address here.\", \"url\": null}\n"
        "{\"text\": \"Third one\", \"url\": \"http://www.example.com/x\"}\n";
    CHECK_EQ_INT(lmc_write_file_atomic(in, jsonl, strlen(jsonl), &err), 0);

    /* MeCo */
    snprintf(out, sizeof out, "%s/meco.bin", dir);
    const char *const inputs[] = {in};
    tok_meta_opts mo = {"text", "url", NULL, 0};
    tok_meta_stats st;
    CHECK_MSG(tok_encode_meta_shard(t, inputs, 1, &mo, out, &st, &err) == 0, "%s", err.msg);
    CHECK_EQ_INT(st.docs, 3);
    CHECK_EQ_INT(st.no_meta, 1);
    CHECK(st.wrote_mask);
    tok_ids want = {0}, wbits = {0};
    expect(&want, &wbits, "URL: en.wikipedia.org\n\n", 0);
    expect(&want, &wbits, "The cat sat on the mat.\n\nIt was warm.", 1);
    tok_ids_push(&want, eot, &err), tok_ids_push(&wbits, 1, &err);
    expect(&want, &wbits, "No address here.", 1);
    tok_ids_push(&want, eot, &err), tok_ids_push(&wbits, 1, &err);
    expect(&want, &wbits, "URL: www.example.com\n\n", 0);
    expect(&want, &wbits, "Third one", 1);
    tok_ids_push(&want, eot, &err), tok_ids_push(&wbits, 1, &err);
    lmc_shard s;
    CHECK_EQ_INT(lmc_shard_open(&s, out, &err), 0);
    CHECK_EQ_INT(s.ntok, want.n);
    CHECK_EQ_INT(st.tokens, want.n);
    char mp[4200];
    snprintf(mp, sizeof mp, "%s/meco.mask", dir);
    lmc_mask m;
    CHECK_MSG(lmc_mask_open(&m, mp, s.ntok, &err) == 0, "%s", err.msg);
    size_t nmasked = 0;
    for (size_t i = 0; i < want.n && i < s.ntok; i++) {
        CHECK_EQ_INT(lmc_shard_get(&s, i), want.v[i]);
        CHECK_EQ_INT(lmc_mask_get(&m, i), (int)wbits.v[i]);
        nmasked += !wbits.v[i];
    }
    CHECK(nmasked > 6);
    CHECK_EQ_INT(st.masked, nmasked);
    lmc_mask_close(&m);

    /* -> the loader, in natural order with T = the whole shard minus one: target i is token i+1 */
    train_loader l;
    int64_t T = (int64_t)s.ntok - 1;
    CHECK_EQ_INT(train_loader_open(&l, out, T, 1, 0, tok_n_vocab(t), LMC_SHARD_LLMC, &err), 0);
    CHECK_EQ_INT(train_loader_attach_masks(&l, TRAIN_MASK_AUTO, "data.train", &err), 0);
    int32_t *x = malloc((size_t)T * sizeof *x), *y = malloc((size_t)T * sizeof *y);
    CHECK_EQ_INT(train_loader_fixed(&l, 0, 1, x, y, &err), 0);
    for (int64_t i = 0; i < T; i++) CHECK_EQ_INT(y[i], wbits.v[i + 1] ? (int32_t)want.v[i + 1] : -1);
    /* the first document token after a metadata prefix is a target, predicted from its "\n\n" */
    size_t first_doc = 0;
    while (!wbits.v[first_doc]) first_doc++;
    CHECK(first_doc > 0 && y[first_doc - 1] == (int32_t)want.v[first_doc]);
    train_loader_close(&l);
    lmc_shard_close(&s);
    free(x);
    free(y);

    /* annotations: trained on by default (no mask file), masked with annotation_mask */
    want.n = wbits.n = 0;
    expect(&want, &wbits, "<annotation>topic:cats</annotation>\n", 0);
    expect(&want, &wbits, "The cat sat on the mat.\n\n", 1);
    expect(&want, &wbits, "<annotation>topic:weather</annotation>\n", 0);
    expect(&want, &wbits, "It was warm.", 1);
    tok_ids_push(&want, eot, &err), tok_ids_push(&wbits, 1, &err);
    snprintf(out, sizeof out, "%s/ann.bin", dir);
    snprintf(mp, sizeof mp, "%s/ann.mask", dir);
    tok_meta_opts ao = {"text", NULL, "tags", 0};
    CHECK_MSG(tok_encode_meta_shard(t, inputs, 1, &ao, out, &st, &err) == 0, "%s", err.msg);
    CHECK(!st.wrote_mask && !lmc_file_exists(mp));
    CHECK_EQ_INT(st.no_annotation, 2);
    CHECK_EQ_INT(lmc_shard_open(&s, out, &err), 0);
    for (size_t i = 0; i < want.n; i++) CHECK_EQ_INT(lmc_shard_get(&s, i), want.v[i]);
    lmc_shard_close(&s);
    ao.annotation_mask = 1;
    CHECK_MSG(tok_encode_meta_shard(t, inputs, 1, &ao, out, &st, &err) == 0, "%s", err.msg);
    CHECK_EQ_INT(lmc_shard_open(&s, out, &err), 0);
    CHECK_MSG(lmc_mask_open(&m, mp, s.ntok, &err) == 0, "%s", err.msg);
    for (size_t i = 0; i < want.n; i++) CHECK_EQ_INT(lmc_mask_get(&m, i), (int)wbits.v[i]);
    lmc_mask_close(&m);
    lmc_shard_close(&s);

    /* errors name the file and line; nothing is left behind */
    snprintf(bad, sizeof bad, "%s/bad.jsonl", dir);
    const char *b1 = "{\"text\": \"a\"}\n{\"text\": \"one\\n\\ntwo\", \"tags\": [\"x\"]}\n";
    CHECK_EQ_INT(lmc_write_file_atomic(bad, b1, strlen(b1), &err), 0);
    const char *const binputs[] = {bad};
    snprintf(out, sizeof out, "%s/bad.bin", dir);
    CHECK(tok_encode_meta_shard(t, binputs, 1, &ao, out, &st, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "bad.jsonl:2");
    CHECK_STR_CONTAINS(err.msg, "1 tags but the text has 2 chunks");
    CHECK(!lmc_file_exists(out));
    const char *b2 = "{\"text\": \"a\", \"url\": 7}\n";
    CHECK_EQ_INT(lmc_write_file_atomic(bad, b2, strlen(b2), &err), 0);
    CHECK(tok_encode_meta_shard(t, binputs, 1, &mo, out, &st, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "bad.jsonl:1");
    CHECK_STR_CONTAINS(err.msg, "--meco-field");
    snprintf(mp, sizeof mp, "%s/bad.mask", dir);
    CHECK(!lmc_file_exists(out) && !lmc_file_exists(mp));

    tok_ids_free(&want);
    tok_ids_free(&wbits);
    tok_encoder_free(enc);
    tok_free(t);
    free(dir);
    return test_summary("encode_meta");
}
