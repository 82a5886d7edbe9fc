/* Fuzz target: decode(encode(x)) == x for arbitrary bytes x (invalid UTF-8 included), with special
 * tokens as text and as ids, for a small tokenizer trained in-process (GPT-2 pattern) and for each
 * named pattern's fast path; and decoding arbitrary ids gives ids or an error, never a crash. */
#include <stdlib.h>
#include <string.h>
#include "tokenizer/tokenizer.h"

static tok_tokenizer *tok[3];
static tok_encoder *enc[3];

static void setup(void) {
    static const char *pats[3] = {"gpt2", "cl100k_base", "o200k_base"};
    static const char corpus[] =
        "The quick brown fox jumps over the lazy dog. It's 2024, isn't it? DON'T PANIC!\n"
        "  def f(x):\n\treturn x ** 2  # square\r\n\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E \xD0\x9F\xD1\x80\xD0\xB8 "
        "\xF0\x9F\x91\x8D\xF0\x9F\x8F\xBD caf\xC3\xA9 na\xC3\xAFve <|endoftext|>\n";
    const char *sp[] = {"<|endoftext|>"};
    for (int k = 0; k < 3; k++) {
        tok_train_opts o = {400, pats[k], sp, 1, 0, 1, NULL};
        tok_trainer *tr;
        lmc_err err = {0};
        const char *seqs[1] = {corpus};
        size_t lens[1] = {sizeof corpus - 1};
        if (tok_trainer_new(&tr, &o, &err) || tok_trainer_feed(tr, seqs, lens, 1, &err) ||
            tok_trainer_finish(tr, &tok[k], &err) || tok_encoder_new(&enc[k], tok[k], &err))
            abort();
        tok_trainer_free(tr);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!tok[0]) setup();
    lmc_err err = {0};
    for (int k = 0; k < 3; k++) {
        for (int sp = 0; sp < 2; sp++) {
            tok_ids ids = {0};
            lmc_buf out = {0};
            if (tok_encode(enc[k], data, size, sp, &ids, &err) || tok_decode(tok[k], ids.v, ids.n, &out, &err) ||
                out.len != size || (size && memcmp(out.data, data, size)))
                abort();
            tok_ids_free(&ids);
            lmc_buf_free(&out);
        }
    }
    /* Arbitrary ids: 16-bit values, some beyond the vocabulary. */
    size_t n = size / 2;
    uint32_t *v = malloc((n ? n : 1) * sizeof *v);
    for (size_t i = 0; i < n; i++) v[i] = (uint32_t)data[2 * i] | (uint32_t)(data[2 * i + 1] & 0x03) << 8;
    lmc_buf out = {0};
    (void)tok_decode(tok[0], v, n, &out, &err);
    lmc_buf_free(&out);
    free(v);
    return 0;
}
