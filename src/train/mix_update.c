/* The dynamic data.mixing rules' plumbing (see mix_update.h); the rules themselves are src/train/mixing.c. */
#include "train/mix_update.h"
#include "train/mixing.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/io.h"
#include "base/mem.h"

int train_mix_update_open(train_mix_updater *u, const train_config *c, const gpt2_model *m, const char *tokenizer_json,
                          lmc_err *err) {
    memset(u, 0, sizeof *u);
    u->cfg = c;
    if (strcmp(c->mixing, "doremi") || !c->n_sources) return 0;
    const char *dir = c->mixing_reference;
    if (gpt2_load_hf(dir, &u->ref, err)) return lmc_err_wrap(err, "data.mixing_reference");
    if (u->ref->cfg.vocab_size != m->cfg.vocab_size)
        return lmc_errf(err, LMC_EINVAL, "data.mixing_reference %s: vocabulary of %d tokens, the run's model has %d "
                                         "(DoReMi compares per-token losses: the same tokenizer is required)",
                        dir, u->ref->cfg.vocab_size, m->cfg.vocab_size);
    if (u->ref->cfg.position == GPT2_POS_LEARNED && u->ref->cfg.max_seq < (int)c->seq_len)
        return lmc_errf(err, LMC_EINVAL, "data.mixing_reference %s: %d positions, model.seq_len is %lld", dir,
                        u->ref->cfg.max_seq, (long long)c->seq_len);
    /* a tokenizer.json beside the reference must be the run's, byte for byte */
    char *p = lmc_path_join(dir, "tokenizer.json");
    int rc = 0;
    if (p && tokenizer_json && tokenizer_json[0] && lmc_file_exists(p)) {
        char *a = NULL, *b = NULL;
        size_t la = 0, lb = 0;
        rc = lmc_read_file(p, &a, &la, err) || lmc_read_file(tokenizer_json, &b, &lb, err) ? -1 : 0;
        if (!rc && (la != lb || memcmp(a, b, la)))
            rc = lmc_errf(err, LMC_EINVAL, "data.mixing_reference %s: its tokenizer.json differs from the run's %s "
                                           "(DoReMi compares per-token losses: the same tokenizer is required)",
                          dir, tokenizer_json);
        free(a);
        free(b);
    }
    free(p);
    return rc;
}

void train_mix_update_close(train_mix_updater *u) {
    if (u->ref) gpt2_free(u->ref);
    memset(u, 0, sizeof *u);
}

int train_mix_update_due(const train_mix_updater *u, const train_mixture *mx, int64_t step) {
    return u->cfg && mx->rule != MIX_STATIC && step % u->cfg->mixing_every == 0;
}

int train_mix_update_forward(train_mix_updater *u, train_mixture *mx, int64_t step, int64_t j0, int64_t n,
                             const int32_t *in, const int32_t *tg, const float *model_losses, lmc_err *err) {
    if (mx->rule != MIX_DOREMI || !u->ref || !train_mix_update_due(u, mx, step)) return 0;
    if (gpt2_forward(u->ref, in, tg, (int)n, (int)mx->T, NULL, err)) return lmc_err_wrap(err, "data.mixing_reference");
    train_mix_record_excess(mx, j0, n, model_losses, u->ref->losses);
    return 0;
}

int train_mix_update_begin(train_mix_updater *u, train_mixture *mx, train_mix_eval_fn eval, void *ctx, lmc_err *err) {
    (void)u;
    if (mx->rule != MIX_VELOCITUNE || mx->have_init) return 0;
    if (eval(ctx, err)) return -1;
    memcpy(mx->loss_init, mx->val_loss, sizeof mx->loss_init);
    mx->have_init = 1;
    mx->logged_val = 0; /* measured before step 1: not a metrics record of its own */
    return 0;
}

/* Chameleon's probe: the sum over tokens of layer `want`'s input. */
typedef struct {
    int want, d;
    double *sum;
    int64_t rows;
} emb_probe;

static void probe(void *ctx, int layer, const float *x, const float *qkv, int B, int T) {
    emb_probe *p = ctx;
    (void)qkv;
    if (layer != p->want) return;
    for (int64_t r = 0; r < (int64_t)B * T; r++)
        for (int i = 0; i < p->d; i++) p->sum[i] += x[r * p->d + i];
    p->rows += (int64_t)B * T;
}

static int chameleon(train_mix_updater *u, train_mixture *mx, gpt2_model *m, int32_t *in, int32_t *tg, lmc_err *err) {
    const train_config *c = u->cfg;
    int k = mx->k, d = m->cfg.d_model;
    double *emb = calloc((size_t)k * (size_t)d, sizeof *emb);
    if (!emb) return lmc_errf(err, LMC_ENOMEM, "out of memory");
    emb_probe p = {m->cfg.n_layer / 2, d, NULL, 0};
    m->attn_probe = probe;
    m->attn_probe_ctx = &p;
    int rc = 0;
    for (int s = 0; s < k && !rc; s++) {
        train_loader *l = mx->has_val[s] ? &mx->val[s] : &mx->train[s];
        p.sum = emb + (size_t)s * (size_t)d;
        p.rows = 0;
        for (int64_t w = 0; w < c->chameleon_windows && !rc; w += c->micro_batch) {
            int64_t n = c->chameleon_windows - w < c->micro_batch ? c->chameleon_windows - w : c->micro_batch;
            rc = train_loader_fixed(l, (uint64_t)w, n, in, tg, err);
            if (!rc) rc = gpt2_forward(m, in, NULL, (int)n, (int)c->seq_len, NULL, err);
        }
        for (int i = 0; i < d && p.rows; i++) p.sum[i] /= (double)p.rows;
    }
    m->attn_probe = NULL;
    m->attn_probe_ctx = NULL;
    if (!rc) rc = mix_chameleon_weights(mx->w, emb, k, d, c->chameleon_lambda, c->chameleon_tau, 0, NULL, err);
    free(emb);
    return rc ? lmc_err_wrap(err, "data.mixing chameleon") : 0;
}

int train_mix_update_step(train_mix_updater *u, train_mixture *mx, int64_t step, gpt2_model *m, int32_t *in,
                          int32_t *tg, train_mix_eval_fn eval, void *ctx, lmc_err *err) {
    if (!train_mix_update_due(u, mx, step)) return 0;
    const train_config *c = u->cfg;
    double target[TRAIN_MAX_SOURCES] = {0};
    switch ((mix_rule)mx->rule) {
    case MIX_DOREMI:
        mix_doremi_update(mx->w, mx->excess, mx->k, c->mixing_eta, c->mixing_smoothing, mx->avg_sum);
        break;
    case MIX_VELOCITUNE:
        if (!mx->logged_val && eval(ctx, err)) return -1;
        for (int s = 0; s < mx->k; s++) target[s] = c->sources[s].target_loss;
        mix_velocitune_update(mx->w, mx->val_loss, mx->loss_init, target, mx->k, mx->velocity);
        break;
    case MIX_CHAMELEON:
        if (chameleon(u, mx, m, in, tg, err)) return -1;
        break;
    case MIX_STATIC:
        return 0;
    }
    mx->updates++;
    mx->logged_update = 1;
    return 0;
}
