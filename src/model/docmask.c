/* Document starts and restarted positions of packed windows (docmask.h). */
#include "model/docmask.h"

int gpt2_docmask_check(const gpt2_config *c, lmc_err *err) {
    if (c->doc_mask < 0 || c->doc_mask > 1) return lmc_errf(err, LMC_EINVAL, "doc_mask %d must be 0 or 1", c->doc_mask);
    if (!c->doc_mask) return 0;
    if (c->doc_sep_id < 0 || c->doc_sep_id >= c->vocab_size)
        return lmc_errf(err, LMC_EINVAL, "doc_mask: the document separator id %d is not a token of the %d-token "
                                         "vocabulary (set model.doc_sep_id, or use a tokenizer with an end-of-text token)",
                        c->doc_sep_id, c->vocab_size);
    if (c->normalized)
        return lmc_errf(err, LMC_EINVAL, "doc_mask: model.normalized: ngpt has its own forward, which does not "
                                         "mask documents (turn one of them off)");
    return 0;
}

void gpt2_doc_starts(const int32_t *inputs, int B, int T, int sep, int32_t *ds, int32_t *pos) {
    for (int b = 0; b < B; b++) {
        const int32_t *in = inputs + (size_t)b * T;
        int32_t start = 0;
        for (int t = 0; t < T; t++) {
            if (in[t] == sep) start = t;  /* the separator opens the next document */
            ds[(size_t)b * T + t] = start;
            pos[(size_t)b * T + t] = t - start;
        }
    }
}
