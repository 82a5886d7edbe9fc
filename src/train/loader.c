#include "train/loader.h"

#include <stdlib.h>
#include <string.h>
#include "base/mem.h"
#include "base/rng.h"
#include "train/packing.h"

/* Stream id for the data-order RNG (independent of init and sampling streams). */
#define DATA_STREAM 0x64617461ull /* "data" */

int train_loader_open(train_loader *l, const char *glob, int64_t T, uint64_t seed, int shuffle,
                      uint64_t vocab_size, lmc_shard_kind kind, lmc_err *err) {
    memset(l, 0, sizeof *l);
    l->T = T;
    l->seed = seed;
    l->shuffle = shuffle;
    l->max_token = vocab_size;
    char **paths = NULL;
    size_t n = 0;
    if (lmc_glob(glob, &paths, &n, err)) return -1;
    l->shards = lmc_alloc_array(n, sizeof *l->shards, err);
    if (!l->shards) {
        lmc_free_strv(paths, n);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        train_shard *s = &l->shards[i];
        if (lmc_shard_open_kind(&s->s, paths[i], kind, err)) goto fail;
        l->nshards = i + 1;
        /* Every id is checked here, once, so a bad shard fails at the start of a run, not at the
         * step that happens to draw the bad sequence. */
        if (vocab_size) {
            for (uint64_t k = 0; k < s->s.ntok; k++) {
                uint32_t v = lmc_shard_get(&s->s, k);
                if (v < vocab_size) continue;
                lmc_errf(err, LMC_EFORMAT, "%s: token %u at index %llu is not below the vocabulary size %llu",
                         s->s.path, v, (unsigned long long)k, (unsigned long long)vocab_size);
                goto fail;
            }
        }
        s->first_seq = l->nseq;
        s->nseq = s->s.ntok > 0 ? (s->s.ntok - 1) / (uint64_t)T : 0;
        l->nseq += s->nseq;
    }
    lmc_free_strv(paths, n);
    paths = NULL;
    if (l->nseq == 0) {
        lmc_errf(err, LMC_EINVAL, "%s: the shards hold fewer than seq_len+1 = %lld tokens each", glob,
                 (long long)T + 1);
        goto fail;
    }
    if (shuffle && train_loader_seek(l, 0, 0, err)) goto fail;
    return 0;
fail:
    if (paths) lmc_free_strv(paths, n);
    train_loader_close(l);
    return -1;
}

void train_loader_close(train_loader *l) {
    for (size_t i = 0; i < l->nshards; i++) {
        lmc_shard_close(&l->shards[i].s);
        lmc_mask_close(&l->shards[i].mask);
    }
    lmc_free(l->shards);
    lmc_free(l->perm);
    train_packing_free(l->pack);
    memset(l, 0, sizeof *l);
}

static int make_perm(train_loader *l, uint64_t epoch, lmc_err *err) {
    if (!l->perm) {
        l->perm = lmc_alloc_array(l->nseq, sizeof *l->perm, err);
        if (!l->perm) return -1;
    }
    for (uint64_t i = 0; i < l->nseq; i++) l->perm[i] = i;
    lmc_rng r;
    lmc_rng_init(&r, lmc_rng_derive(lmc_rng_derive(l->seed, DATA_STREAM), epoch));
    lmc_rng_shuffle_u64(&r, l->perm, l->nseq);
    l->perm_epoch = epoch;
    return 0;
}

int train_loader_seek(train_loader *l, uint64_t epoch, uint64_t pos, lmc_err *err) {
    if (pos > l->nseq) return lmc_errf(err, LMC_EINVAL, "data position %llu is past the %llu sequences",
                                       (unsigned long long)pos, (unsigned long long)l->nseq);
    l->epoch = epoch;
    l->pos = pos;
    if (l->shuffle && (!l->perm || l->perm_epoch != epoch)) return make_perm(l, epoch, err);
    return 0;
}

/* Copy global sequence g into in/tg (T each). */
static int copy_seq(train_loader *l, uint64_t g, int32_t *in, int32_t *tg, lmc_err *err) {
    if (l->pack) return train_packing_copy(l->pack, l, g, in, tg, err);  /* seamless: window g of the table */
    size_t lo = 0, hi = l->nshards; /* binary search: last shard with first_seq <= g */
    while (hi - lo > 1) {
        size_t mid = (lo + hi) / 2;
        if (l->shards[mid].first_seq <= g) lo = mid;
        else hi = mid;
    }
    while (l->shards[lo].nseq == 0 || g >= l->shards[lo].first_seq + l->shards[lo].nseq) lo++;
    const train_shard *s = &l->shards[lo];
    uint64_t start = (g - s->first_seq) * (uint64_t)l->T;
    int64_t T = l->T;
    for (int64_t t = 0; t <= T; t++) {
        uint64_t idx = start + (uint64_t)t;
        uint32_t v = lmc_shard_get(&s->s, idx);
        if (l->max_token && v >= l->max_token)
            return lmc_errf(err, LMC_EFORMAT, "%s: token %u at index %llu is not below the vocabulary size %llu",
                            s->s.path, v, (unsigned long long)idx, (unsigned long long)l->max_token);
        if (t < T) in[t] = (int32_t)v;
        /* a masked target is -1: the model's loss ignores it (loss mask, src/train/loader_mask.h) */
        if (t > 0) tg[t - 1] = lmc_mask_get(&s->mask, idx) ? (int32_t)v : -1;
    }
    return 0;
}

int train_loader_next(train_loader *l, int64_t n, int32_t *inputs, int32_t *targets, lmc_err *err) {
    for (int64_t i = 0; i < n; i++) {
        if (l->pos >= l->nseq && train_loader_seek(l, l->epoch + 1, 0, err)) return -1;
        uint64_t g = l->shuffle ? l->perm[l->pos] : l->pos;
        if (copy_seq(l, g, inputs + i * l->T, targets + i * l->T, err)) return -1;
        l->pos++;
    }
    return 0;
}

int train_loader_skip(train_loader *l, uint64_t n, lmc_err *err) {
    while (n > 0) {
        if (l->pos >= l->nseq && train_loader_seek(l, l->epoch + 1, 0, err)) return -1;
        uint64_t step = l->nseq - l->pos < n ? l->nseq - l->pos : n;
        l->pos += step;
        n -= step;
    }
    return 0;
}

int train_loader_fixed(train_loader *l, uint64_t start, int64_t n, int32_t *inputs, int32_t *targets,
                       lmc_err *err) {
    for (int64_t i = 0; i < n; i++)
        if (copy_seq(l, (start + (uint64_t)i) % l->nseq, inputs + i * l->T, targets + i * l->T, err)) return -1;
    return 0;
}
