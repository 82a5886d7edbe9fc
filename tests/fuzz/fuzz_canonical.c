/* Fuzz target (issue 20): the canonicality check (bigram test inside pre-tokenizer pieces) agrees
 * with re-encoding on arbitrary token sequences, for a small tokenizer per named pattern trained
 * in-process: the input as ids (two bytes each, some beyond the vocabulary: an error, never a crash),
 * the input's own encoding (canonical, and every prefix passes the prefix check), and the input
 * encoded in two halves (same bytes, often non-canonical). */
#include <stdlib.h>
#include <string.h>
#include "tokenizer/tokenizer.h"
#include "tokenizer/tokres.h"

static tok_tokenizer *tok[3];
static tok_encoder *enc[3];
static tok_canon *can[3];

static void setup(void) {
    static const char *pats[3] = {"gpt2", "cl100k_base", "o200k_base"};
    static const char corpus[] =
        "The quick brown fox jumps over the lazy dog. It's 2024, isn't it? DON'T PANIC!\n"
        "  def f(x):\n\treturn x ** 2  # square\r\n\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E \xD0\x9F\xD1\x80\xD0\xB8 "
        "\xF0\x9F\x91\x8D\xF0\x9F\x8F\xBD caf\xC3\xA9 na\xC3\xAFve <|endoftext|>\n\n\n    indented  text\n";
    const char *sp[] = {"<|endoftext|>"};
    for (int k = 0; k < 3; k++) {
        tok_train_opts o = {400, pats[k], sp, 1, 0, 1, NULL};
        tok_trainer *tr;
        lmc_err err = {0};
        const char *seqs[1] = {corpus};
        size_t lens[1] = {sizeof corpus - 1};
        if (tok_trainer_new(&tr, &o, &err) || tok_trainer_feed(tr, seqs, lens, 1, &err) ||
            tok_trainer_finish(tr, &tok[k], &err) || tok_encoder_new(&enc[k], tok[k], &err) ||
            tok_canon_new(&can[k], tok[k], &err))
            abort();
        tok_trainer_free(tr);
    }
}

static void agree(tok_canon *c, const uint32_t *v, size_t n) {
    lmc_err err = {0};
    int a, b;
    size_t p, q;
    int r1 = tok_canon_check(c, v, n, 0, &a, &p, &err), r2 = tok_canon_oracle(c, v, n, &b, &q, &err);
    if (r1 != r2 || (!r1 && a != b)) abort();
    if (!r1 && b)
        for (size_t m = 1; m <= n; m++) {
            if (tok_canon_check(c, v, m, 1, &a, &p, &err) || !a) abort();
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!tok[0]) setup();
    lmc_err err = {0};
    for (int k = 0; k < 3; k++) {
        size_t n = size / 2;
        uint32_t *v = malloc((n ? n : 1) * sizeof *v);
        for (size_t i = 0; i < n; i++) v[i] = (uint32_t)data[2 * i] | (uint32_t)(data[2 * i + 1] & 0x01) << 8;
        agree(can[k], v, n);
        free(v);
        tok_ids ids = {0};
        if (tok_encode(enc[k], data, size, 0, &ids, &err)) abort();
        int ok;
        size_t pos;
        if (tok_canon_check(can[k], ids.v, ids.n, 0, &ok, &pos, &err) || !ok) abort();
        agree(can[k], ids.v, ids.n);
        size_t cut = size ? data[0] % (size + 1) : 0;
        ids.n = 0;
        if (tok_encode(enc[k], data, cut, 0, &ids, &err) || tok_encode(enc[k], data + cut, size - cut, 0, &ids, &err))
            abort();
        agree(can[k], ids.v, ids.n);
        tok_ids_free(&ids);
    }
    return 0;
}
