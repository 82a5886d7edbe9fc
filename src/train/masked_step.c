/* Masked-target gradient accumulation. See masked_step.h. */
#include "train/masked_step.h"

#include "train/loader_mask.h"

int train_masked_accum(gpt2_model *m, const int32_t *in, const int32_t *tg, int64_t accum, int mb, int T,
                       double *loss, uint64_t *n_targets, lmc_err *err) {
    size_t per = (size_t)mb * (size_t)T;
    uint64_t total = train_count_targets(tg, per * (size_t)accum);
    *n_targets = total;
    if (total == 0)
        return lmc_errf(err, LMC_EINVAL, "every target of the step's %lld x %d x %d tokens is masked (loss mask): "
                        "the loss is undefined", (long long)accum, mb, T);
    double sum = 0;
    for (int64_t k = 0; k < accum; k++) {
        const int32_t *tk = tg + (size_t)k * per;
        uint64_t nk = train_count_targets(tk, per);
        if (nk == 0) continue; /* contributes nothing to loss or gradient */
        float l;
        if (gpt2_forward(m, in + (size_t)k * per, tk, mb, T, &l, err)) return -1;
        /* scale n_k / N: together with gpt2_backward's 1/n_k, every unmasked target of the step weighs 1/N */
        if (gpt2_backward(m, (float)((double)nk / (double)total), err)) return -1;
        sum += (double)l * (double)nk;
    }
    *loss = sum / (double)total;
    return 0;
}

int train_masked_eval(gpt2_model *m, train_fill_fn fill, void *ctx, int64_t nb, int mb, int T, int32_t *in,
                      int32_t *tg, double *loss, lmc_err *err) {
    double sum = 0;
    uint64_t total = 0;
    size_t per = (size_t)mb * (size_t)T;
    for (int64_t b = 0; b < nb; b++) {
        if (fill(ctx, b, in, tg, err)) return -1;
        uint64_t nk = train_count_targets(tg, per);
        if (nk == 0) continue;
        float l;
        if (gpt2_forward(m, in, tg, mb, T, &l, err)) return -1;
        sum += (double)l * (double)nk;
        total += nk;
    }
    if (total == 0)
        return lmc_errf(err, LMC_EINVAL, "every target of the %lld validation batches is masked (loss mask)",
                        (long long)nb);
    *loss = sum / (double)total;
    return 0;
}
