/* Fuzz target: evaluation sets for decontamination and overlap (`--eval FILE`): plain text, one example
 * per line, and JSONL (a text field or BLiMP sentence pairs). Any bytes must load or give an error
 * naming file:line; loaded sets are indexed and scanned against their own bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "data/data.h"
#include "fuzz_util.h"

static void one(const char *name, const uint8_t *data, size_t size) {
    const char *path = fuzz_file(name, data, size);
    data_eval_set s;
    lmc_err err = {0};
    if (data_eval_load(path, NULL, &s, &err)) {
        if (!strstr(err.msg, name)) abort();
        return;
    }
    data_ngram_index *ix = data_ngram_index_new(3, 1, &err);
    if (ix && data_ngram_index_add(ix, &s, &err) == 0) {
        data_match *m = NULL;
        size_t nm = 0, cap = 0;
        data_nwords tmp = {0};
        (void)data_ngram_scan(ix, (const char *)data, size, &m, &nm, &cap, &tmp, &err);
        free(m);
        data_nwords_free(&tmp);
    }
    data_ngram_index_free(ix);
    data_eval_free(&s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    one("eval.txt", data, size);
    one("eval.jsonl", data, size);
    return 0;
}
