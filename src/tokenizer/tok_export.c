/* Accessors for exporters (GGUF): the merge list, which ids are ordinary tokens, which added tokens
 * are special. */
#include "tokenizer/tok_internal.h"

int tok_merge_list(const tok_tokenizer *tc, uint32_t *n, const uint32_t **a, const uint32_t **b, lmc_err *err) {
    tok_tokenizer *t = (tok_tokenizer *)tc; /* a rank file derives its merge list once, as tok_save_hf_json does */
    if (t->source == TOK_SRC_TIKTOKEN && !t->n_merges) {
        int rc = tok_derive_merges(t, err);
        if (rc) return rc;
    }
    *n = t->n_merges;
    *a = t->merge_a;
    *b = t->merge_b;
    return 0;
}

int tok_is_ordinary(const tok_tokenizer *t, uint32_t id) {
    return id < t->n_vocab && t->off[id] != UINT64_MAX;
}

int tok_special_is_special(const tok_tokenizer *t, size_t i) {
    return i < t->n_specials && t->specials[i].special;
}
