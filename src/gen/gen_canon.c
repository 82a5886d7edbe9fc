/* Canonical sampling: see gen_canon.h. */
#include "gen/gen_canon.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "base/mem.h"

int gen_generate_canonical(const gpt2_model *m, tok_canon *c, const int32_t *prompt, int n_prompt, const gen_params *p,
                           lmc_rng *rng, int32_t *out, int *n_out, void (*on_token)(void *ctx, int32_t tok), void *ctx,
                           gen_canon_stats *st, lmc_err *err) {
    *n_out = 0;
    memset(st, 0, sizeof *st);
    if (n_prompt < 1) return lmc_errf(err, LMC_EINVAL, "generation needs at least one prompt token");
    if (n_prompt > m->cfg.max_seq)
        return lmc_errf(err, LMC_EINVAL, "the prompt has %d tokens, more than the model's context of %d", n_prompt,
                        m->cfg.max_seq);
    int V = m->cfg.vocab_size;
    gen_kv kv;
    if (gen_kv_init(&kv, m, n_prompt + p->max_tokens, err)) return -1;
    void *scratch = lmc_alloc(gen_sample_scratch_bytes(V), err);
    float *lg = lmc_alloc_array((size_t)V, sizeof *lg, err);
    uint32_t *seq = lmc_alloc_array((size_t)n_prompt + (size_t)p->max_tokens + 1, sizeof *seq, err);
    int rc = scratch && lg && seq ? 0 : -1;
    for (int i = 0; i < n_prompt && !rc; i++) {
        seq[i] = (uint32_t)prompt[i];
        rc = gen_kv_step(&kv, m, prompt[i], err);
    }
    size_t len = (size_t)n_prompt;
    while (!rc && *n_out < p->max_tokens) {
        memcpy(lg, kv.logits, (size_t)V * sizeof *lg);
        int32_t tok = -1;
        for (int tries = 0; tries < V; tries++) {
            int32_t y = gen_sample(lg, V, p, rng, scratch);
            if (!isfinite(lg[y])) break; /* everything left is masked */
            if ((uint32_t)y >= tok_canon_n_vocab(c)) { /* a padded model row without a token */
                lg[y] = -INFINITY;
                continue;
            }
            seq[len] = (uint32_t)y;
            int ok;
            size_t pos;
            if (tok_canon_check(c, seq, len + 1, 1, &ok, &pos, err)) {
                rc = -1;
                break;
            }
            if (ok) {
                tok = y;
                break;
            }
            st->rejected++;
            lg[y] = -INFINITY;
        }
        if (rc) break;
        if (tok < 0) {
            st->dead_ends++;
            break;
        }
        seq[len++] = (uint32_t)tok;
        out[(*n_out)++] = tok;
        if (on_token) on_token(ctx, tok);
        if (tok == p->stop_token || kv.len >= kv.max_len) break;
        rc = gen_kv_step(&kv, m, tok, err);
    }
    lmc_free(scratch);
    lmc_free(lg);
    lmc_free(seq);
    gen_kv_free(&kv);
    return rc;
}
