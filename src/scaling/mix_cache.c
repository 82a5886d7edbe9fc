/* MDE's cache: every expert's per-token loss on every domain's validation shard (src/scaling/mix.h).
 * The windows and batches are those of `lmc eval` (src/cli/cmd_eval.c), so the per-token losses, and
 * hence L_MDE at a vertex, are the numbers `lmc eval` prints. */
#include "scaling/mix.h"

#include <stdlib.h>
#include <string.h>
#include "data/shard.h"
#include "interop/gguf_model.h" /* gpt2_load_any: HF folders, lmc checkpoints, .gguf */
#include "model/gpt2.h"

void mde_cache_free(mde_cache *c) {
    if (c->nll)
        for (int j = 0; j < c->k; j++) free(c->nll[j]);
    free(c->nll);
    free(c->ntok);
    memset(c, 0, sizeof *c);
}

static int cache_alloc(mde_cache *c, int k, lmc_err *err) {
    memset(c, 0, sizeof *c);
    if (k < 2 || k > MDE_MAX_DOMAINS)
        return lmc_errf(err, LMC_EINVAL, "mixture of data experts: needs 2 to %d domains, got %d", MDE_MAX_DOMAINS, k);
    c->k = k;
    c->ntok = calloc((size_t)k, sizeof *c->ntok);
    c->nll = calloc((size_t)k, sizeof *c->nll);
    if (!c->ntok || !c->nll) {
        mde_cache_free(c);
        return lmc_errf(err, LMC_ENOMEM, "out of memory");
    }
    return 0;
}

int mde_cache_from(mde_cache *c, int k, const uint64_t *ntok, const float *const *nll, lmc_err *err) {
    if (cache_alloc(c, k, err)) return -1;
    for (int j = 0; j < k; j++) {
        if (ntok[j] == 0) {
            mde_cache_free(c);
            return lmc_errf(err, LMC_EINVAL, "domain %d has no validation tokens", j + 1);
        }
        c->ntok[j] = ntok[j];
        size_t n = (size_t)k * ntok[j];
        c->nll[j] = malloc(n * sizeof(float));
        if (!c->nll[j]) {
            mde_cache_free(c);
            return lmc_errf(err, LMC_ENOMEM, "out of memory");
        }
        memcpy(c->nll[j], nll[j], n * sizeof(float));
    }
    return 0;
}

/* One expert on one shard: the shard's predicted-token losses in lmc eval's order into out (`want`). */
static int eval_shard(gpt2_model *m, const lmc_shard *sh, int T, int64_t B, uint64_t want, float *out,
                      lmc_err *err) {
    uint64_t need_win = (want + (uint64_t)T - 1) / (uint64_t)T;
    if ((uint64_t)B > need_win) B = (int64_t)need_win;
    int32_t *x = malloc((size_t)(B * T) * sizeof *x), *y = malloc((size_t)(B * T) * sizeof *y);
    if (!x || !y) {
        free(x);
        free(y);
        return lmc_errf(err, LMC_ENOMEM, "out of memory");
    }
    uint64_t done = 0;
    int rc = 0;
    for (uint64_t win = 0; win < need_win && !rc;) {
        int64_t b = 0;
        for (; b < B && win < need_win; b++, win++) {
            uint64_t start = win * (uint64_t)T;
            lmc_shard_read(sh, start, (uint64_t)T, x + b * T);
            lmc_shard_read(sh, start + 1, (uint64_t)T, y + b * T);
            for (int t = 0; t < T; t++)
                if (start + (uint64_t)t >= want) y[b * T + t] = -1; /* past max_tokens: not counted */
        }
        if ((rc = gpt2_forward(m, x, y, (int)b, T, NULL, err))) break;
        for (int64_t i = 0; i < b * T; i++)
            if (y[i] >= 0) out[done++] = m->losses[i];
    }
    free(x);
    free(y);
    return rc;
}

int mde_cache_build(mde_cache *c, const char *const *experts, const char *const *val, int k, int seq_len,
                    int64_t max_tokens, int batch, lmc_err *err) {
    if (cache_alloc(c, k, err)) return -1;
    if (seq_len <= 0) {
        mde_cache_free(c);
        return lmc_errf(err, LMC_EINVAL, "the window length must be positive, got %d", seq_len);
    }
    int64_t B = batch > 0 ? batch : (2048 / seq_len > 0 ? 2048 / seq_len : 1); /* lmc eval's default */
    int vocab = 0;
    int rc = 0;
    for (int i = 0; i < k && !rc; i++) {
        gpt2_model *m = NULL;
        if (gpt2_load_any(experts[i], &m, err)) {
            rc = -1;
            break;
        }
        if (i == 0) vocab = m->cfg.vocab_size;
        if (m->cfg.vocab_size != vocab) {
            rc = lmc_errf(err, LMC_EINVAL, "%s: vocabulary of %d tokens, but expert 1 (%s) has %d: the experts must share one tokenizer",
                          experts[i], m->cfg.vocab_size, experts[0], vocab);
        } else if (seq_len > m->cfg.max_seq) {
            rc = lmc_errf(err, LMC_EINVAL, "%s: window length %d exceeds the model's n_positions %d", experts[i], seq_len,
                          m->cfg.max_seq);
        }
        for (int j = 0; j < k && !rc; j++) {
            lmc_shard sh;
            if (lmc_shard_open(&sh, val[j], err)) {
                rc = -1;
                break;
            }
            uint64_t nwin = sh.ntok > 0 ? (sh.ntok - 1) / (uint64_t)seq_len : 0;
            uint64_t want = nwin * (uint64_t)seq_len;
            if (max_tokens > 0 && (uint64_t)max_tokens < want) want = (uint64_t)max_tokens;
            uint32_t mx = sh.ntok ? lmc_shard_max_token(&sh) : 0;
            if (want == 0) {
                rc = lmc_errf(err, LMC_EINVAL, "%s: %llu tokens is not enough for one window of %d + 1", val[j],
                              (unsigned long long)sh.ntok, seq_len);
            } else if (mx >= (uint32_t)vocab) {
                rc = lmc_errf(err, LMC_EINVAL, "%s: token id %u is outside the experts' vocabulary of %d", val[j], mx, vocab);
            } else if (i == 0) {
                c->ntok[j] = want;
                c->nll[j] = malloc((size_t)k * want * sizeof(float));
                if (!c->nll[j]) rc = lmc_errf(err, LMC_ENOMEM, "out of memory for %llu cached losses",
                                              (unsigned long long)((uint64_t)k * want));
            }
            if (!rc && eval_shard(m, &sh, seq_len, B, want, c->nll[j] + (size_t)i * want, err))
                rc = lmc_err_wrap(err, "expert %s on %s", experts[i], val[j]);
            lmc_shard_close(&sh);
        }
        gpt2_free(m);
    }
    if (rc) mde_cache_free(c);
    return rc;
}
