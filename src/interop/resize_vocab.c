/* Vocabulary resize with mean-of-parts rows: see resize_vocab.h. */
#include "interop/resize_vocab.h"
#include <stdlib.h>
#include <string.h>
#include "tokenizer/tokres.h"

/* Add the rows of the base tokens id expands to (new ids are merges of lower ids) to acc. */
static int add_base_rows(const float *w, int C, int V0, const tok_tokenizer *t, uint32_t id, double *acc) {
    if (id < (uint32_t)V0) {
        const float *r = w + (size_t)id * C;
        for (int j = 0; j < C; j++) acc[j] += r[j];
        return 1;
    }
    uint32_t a, b;
    tok_merge_parts(t, id, &a, &b); /* checked by the caller */
    return add_base_rows(w, C, V0, t, a, acc) + add_base_rows(w, C, V0, t, b, acc);
}

static void fill_rows(float *w, int C, int V0, int V1, const tok_tokenizer *t, double *acc) {
    for (int k = V0; k < V1; k++) {
        memset(acc, 0, (size_t)C * sizeof *acc);
        int n = add_base_rows(w, C, V0, t, (uint32_t)k, acc);
        float *r = w + (size_t)k * C;
        for (int j = 0; j < C; j++) r[j] = (float)(acc[j] / n);
    }
}

int resize_vocab(const gpt2_model *m, const tok_tokenizer *t, gpt2_model **out, lmc_err *err) {
    *out = NULL;
    int V0 = m->cfg.vocab_size, V1 = (int)tok_n_vocab(t), C = m->cfg.d_model;
    if (V1 < V0)
        return lmc_errf(err, LMC_EINVAL, "the tokenizer has %d ids, fewer than the model's vocabulary of %d", V1, V0);
    for (int k = V0; k < V1; k++) {
        uint32_t a, b;
        if (!tok_merge_parts(t, (uint32_t)k, &a, &b) || a >= (uint32_t)k || b >= (uint32_t)k)
            return lmc_errf(err, LMC_EINVAL,
                            "id %d (beyond the model's %d) is not a merge of two lower ids: not an extension made by "
                            "lmc tokenizer extend?",
                            k, V0);
    }
    gpt2_config cfg = m->cfg;
    cfg.vocab_size = V1;
    cfg.padded_vocab = 0;
    gpt2_model *n;
    if (gpt2_create(&n, &cfg, err)) return err ? err->code : LMC_ENOMEM;
    if (n->n_views != m->n_views) {
        gpt2_free(n);
        return lmc_errf(err, LMC_EINVAL, "resize: the new model has %d tensors, the old %d", n->n_views, m->n_views);
    }
    for (int i = 0; i < m->n_views; i++) {
        const gpt2_view *a = &m->views[i], *b = &n->views[i];
        if (i == m->wte_view || i == m->head_view) continue;
        if (strcmp(a->name, b->name) || a->numel != b->numel) {
            gpt2_free(n);
            return lmc_errf(err, LMC_EINVAL, "resize: tensor %d is %s in one model and %s in the other", i, a->name,
                            b->name);
        }
        memcpy(n->params + b->offset, m->params + a->offset, a->numel * sizeof(float));
    }
    double *acc = malloc((size_t)C * sizeof *acc);
    if (!acc) {
        gpt2_free(n);
        return lmc_errf(err, LMC_ENOMEM, "out of memory");
    }
    memcpy(n->wte, m->wte, (size_t)V0 * C * sizeof(float));
    fill_rows(n->wte, C, V0, V1, t, acc);
    if (m->cfg.untied) {
        memcpy(n->lm_head, m->lm_head, (size_t)V0 * C * sizeof(float));
        fill_rows(n->lm_head, C, V0, V1, t, acc);
    }
    free(acc);
    n->bos_id = m->bos_id;
    n->eos_id = m->eos_id;
    *out = n;
    return 0;
}
