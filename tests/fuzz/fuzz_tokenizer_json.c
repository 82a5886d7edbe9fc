/* Fuzz target: loading an HF tokenizer.json from arbitrary bytes must give a tokenizer or a clear
 * error, never a crash; a tokenizer that loads must round-trip a fixed text. */
#include <stdlib.h>
#include <string.h>
#include "tokenizer/tokenizer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    tok_tokenizer *t;
    lmc_err err = {0};
    if (tok_load_hf_json_mem(&t, (const char *)data, size, "fuzz.json", &err)) {
        if (!err.msg[0]) abort(); /* an error must say what was wrong */
        return 0;
    }
    tok_encoder *e;
    if (tok_encoder_new(&e, t, &err) == 0) {
        static const char text[] = "Hello world! It's 12345 \xE6\x97\xA5\xE6\x9C\xAC  \n\xFF ok";
        tok_ids ids = {0};
        /* A vocabulary without every byte cannot encode everything: an error, not a crash. */
        if (tok_encode(e, text, sizeof text - 1, 1, &ids, &err) == 0) {
            lmc_buf out = {0};
            if (tok_decode(t, ids.v, ids.n, &out, &err) != 0) abort();
            lmc_buf_free(&out);
        }
        tok_ids_free(&ids);
        tok_encoder_free(e);
    }
    tok_free(t);
    return 0;
}
