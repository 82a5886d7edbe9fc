/* Fuzz target: loading a .tiktoken rank file from arbitrary bytes (pattern gpt2) must give a
 * tokenizer or an error naming file:line, never a crash; a loaded one must round-trip a text made
 * of its own bytes when it has all 256 single-byte tokens. */
#include <stdlib.h>
#include <string.h>
#include "tokenizer/tokenizer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    tok_tokenizer *t;
    lmc_err err = {0};
    if (tok_load_tiktoken_mem(&t, (const char *)data, size, "fuzz.tiktoken", "gpt2", &err)) {
        if (!strstr(err.msg, "fuzz.tiktoken")) abort(); /* errors name the file */
        return 0;
    }
    tok_encoder *e;
    if (tok_encoder_new(&e, t, &err) == 0) {
        tok_ids ids = {0};
        int rc = tok_encode(e, data, size, 0, &ids, &err);
        int all_bytes = 1;
        for (int b = 0; b < 256 && all_bytes; b++) {
            uint8_t c = (uint8_t)b;
            tok_ids one = {0};
            all_bytes = tok_encode(e, &c, 1, 0, &one, &err) == 0;
            tok_ids_free(&one);
        }
        if (all_bytes && rc) abort();
        if (rc == 0) {
            lmc_buf out = {0};
            if (tok_decode(t, ids.v, ids.n, &out, &err) || out.len != size || (size && memcmp(out.data, data, size)))
                abort();
            lmc_buf_free(&out);
        }
        tok_ids_free(&ids);
        tok_encoder_free(e);
    }
    tok_free(t);
    return 0;
}
