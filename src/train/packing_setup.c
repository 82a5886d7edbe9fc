/* Config keys of packing and document masking to the loader and model (packing_setup.h). */
#include "train/packing_setup.h"
#include "train/packing.h"

#include <string.h>
#include "tokenizer/tokenizer.h"

int train_doc_sep(const train_config *c, int64_t *sep, lmc_err *err) {
    *sep = c->doc_sep_id;
    if (*sep >= 0 || !c->data_tokenizer[0]) return 0;
    tok_tokenizer *tk;
    if (tok_load(&tk, c->data_tokenizer, NULL, err)) return lmc_err_wrap(err, "data.tokenizer");
    *sep = tok_eot_id(tk);
    tok_free(tk);
    return 0;
}

int train_model_doc_fields(const train_config *c, gpt2_config *mc, lmc_err *err) {
    mc->doc_mask = !strcmp(c->doc_mask, "true");
    mc->doc_sep_id = -1;
    if (!mc->doc_mask) return 0;
    int64_t sep;
    if (train_doc_sep(c, &sep, err)) return -1;
    if (sep < 0)
        return lmc_errf(err, LMC_EINVAL, "model.doc_mask: no document separator (set model.doc_sep_id, or "
                                         "data.tokenizer to a tokenizer with an end-of-text token)");
    mc->doc_sep_id = (int)(sep > 1 << 24 ? -1 : sep);
    return 0;
}

int train_packing_open(train_loader *l, const train_config *c, char *line, size_t n, lmc_err *err) {
    if (n) line[0] = 0;
    if (strcmp(c->data_packing, "seamless")) return 0;
    int64_t sep;
    if (train_doc_sep(c, &sep, err)) return -1;
    if (sep < 0 || sep > INT32_MAX)
        return lmc_errf(err, LMC_EINVAL, "data.packing: seamless needs the end-of-text id that begins every document "
                                         "(set model.doc_sep_id, or data.tokenizer to a tokenizer with one)");
    train_packing_params pp = {c->packing_overlap, c->packing_extra, !strcmp(c->packing_pad, "true"), (int32_t)sep};
    if (train_loader_set_packing(l, &pp, err)) return lmc_err_wrap(err, "data.packing");
    if (n) train_packing_describe(l->pack, line, n);
    return 0;
}
