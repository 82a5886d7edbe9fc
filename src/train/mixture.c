/* The mixture sampler and the per-source bookkeeping (see mixture.h). */
#include "train/mixture.h"
#include "train/mixing.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/mem.h"
#include "base/rng.h"

_Static_assert(TRAIN_MAX_SOURCES == TRAIN_STATE_MIX_MAX, "checkpoint state holds every source");

/* Stream ids: the sampler's uniforms and the sources' data orders, independent of the other streams. */
#define MIX_STREAM 0x6d697873ull      /* "mixs" */
#define MIX_DATA_STREAM 0x6d697864ull /* "mixd" */

int train_mix_source(uint64_t seed, int64_t step, uint64_t j, const double *w, int k) {
    uint32_t b[4];
    lmc_philox4x32(j, lmc_rng_derive(lmc_rng_derive(seed, MIX_STREAM), (uint64_t)step), b);
    double u = (double)(((uint64_t)b[0] << 21) | (b[1] >> 11)) * 0x1p-53; /* 53 bits in [0, 1) */
    double tot = 0;
    for (int i = 0; i < k; i++) tot += w[i];
    double x = u * tot, cum = 0;
    for (int i = 0; i < k - 1; i++) {
        cum += w[i];
        if (x < cum) return i;
    }
    return k - 1;
}

int train_mix_open(train_mixture *mx, const train_config *c, uint64_t vocab_size, lmc_shard_kind kind, lmc_err *err) {
    memset(mx, 0, sizeof *mx);
    mx->k = (int)c->n_sources;
    mx->seed = (uint64_t)c->seed;
    mx->batch = c->batch_size;
    mx->T = c->seq_len;
    mx->rule = !strcmp(c->mixing, "doremi") ? MIX_DOREMI : !strcmp(c->mixing, "velocitune") ? MIX_VELOCITUNE
             : !strcmp(c->mixing, "chameleon") ? MIX_CHAMELEON : MIX_STATIC;
    double tot = 0;
    for (int i = 0; i < mx->k; i++) tot += c->sources[i].weight;
    for (int i = 0; i < mx->k; i++) {
        const struct train_source *s = &c->sources[i];
        snprintf(mx->name[i], sizeof mx->name[i], "%s", s->name);
        mx->w[i] = s->weight / tot;
        mx->val_loss[i] = NAN;
        mx->train_loss[i] = NAN;
        uint64_t seed = lmc_rng_derive(lmc_rng_derive((uint64_t)c->seed, MIX_DATA_STREAM), (uint64_t)i);
        if (train_loader_open(&mx->train[i], s->train, c->seq_len, seed, 1, vocab_size, kind, err)) {
            lmc_err_wrap(err, "data.sources '%s': train", s->name);
            goto fail;
        }
        if (s->val[0] && c->eval_batches > 0) {
            if (train_loader_open(&mx->val[i], s->val, c->seq_len, seed, 0, vocab_size, kind, err)) {
                lmc_err_wrap(err, "data.sources '%s': val", s->name);
                goto fail;
            }
            mx->has_val[i] = 1;
            mx->n_val++;
        }
    }
    mx->src = lmc_alloc_array((size_t)mx->batch, sizeof *mx->src, err);
    mx->seq_loss = lmc_alloc_array((size_t)mx->batch, sizeof *mx->seq_loss, err);
    mx->seq_excess = lmc_alloc_array((size_t)mx->batch, sizeof *mx->seq_excess, err);
    if (!mx->src || !mx->seq_loss || !mx->seq_excess) goto fail;
    memset(mx->seq_loss, 0, (size_t)mx->batch * sizeof *mx->seq_loss);
    memset(mx->seq_excess, 0, (size_t)mx->batch * sizeof *mx->seq_excess);
    memcpy(mx->w_step, mx->w, sizeof mx->w);
    return 0;
fail:
    train_mix_close(mx);
    return -1;
}

void train_mix_close(train_mixture *mx) {
    for (int i = 0; i < TRAIN_MAX_SOURCES; i++) {
        if (mx->train[i].shards) train_loader_close(&mx->train[i]);
        if (mx->has_val[i]) train_loader_close(&mx->val[i]);
    }
    lmc_free(mx->src);
    lmc_free(mx->seq_loss);
    lmc_free(mx->seq_excess);
    memset(mx, 0, sizeof *mx);
}

void train_mix_plan(train_mixture *mx, int64_t step) {
    for (int64_t j = 0; j < mx->batch; j++) mx->src[j] = train_mix_source(mx->seed, step, (uint64_t)j, mx->w, mx->k);
    memcpy(mx->w_step, mx->w, sizeof mx->w);
    mx->next_j = 0;
    mx->logged_val = mx->logged_update = 0;
}

static int in_order(train_mixture *mx, int64_t j0, int64_t n, lmc_err *err) {
    if (j0 != mx->next_j || j0 < 0 || n < 0 || j0 + n > mx->batch)
        return lmc_errf(err, LMC_EINVAL, "mixture: sequences [%lld, %lld) requested, %lld expected next (internal)",
                        (long long)j0, (long long)(j0 + n), (long long)mx->next_j);
    mx->next_j = j0 + n;
    return 0;
}

int train_mix_next(train_mixture *mx, int64_t j0, int64_t n, int32_t *inputs, int32_t *targets, lmc_err *err) {
    if (in_order(mx, j0, n, err)) return -1;
    for (int64_t i = 0; i < n; i++) {
        int s = mx->src[j0 + i];
        if (train_loader_next(&mx->train[s], 1, inputs + i * mx->T, targets + i * mx->T, err))
            return lmc_err_wrap(err, "data.sources '%s'", mx->name[s]);
    }
    return 0;
}

int train_mix_skip(train_mixture *mx, int64_t j0, int64_t n, lmc_err *err) {
    if (in_order(mx, j0, n, err)) return -1;
    uint64_t cnt[TRAIN_MAX_SOURCES] = {0};
    for (int64_t i = 0; i < n; i++) cnt[mx->src[j0 + i]]++;
    for (int s = 0; s < mx->k; s++)
        if (cnt[s] && train_loader_skip(&mx->train[s], cnt[s], err)) return lmc_err_wrap(err, "data.sources '%s'", mx->name[s]);
    return 0;
}

void train_mix_record(train_mixture *mx, int64_t j0, int64_t n, const float *losses) {
    for (int64_t i = 0; i < n; i++) {
        double s = 0;
        for (int64_t t = 0; t < mx->T; t++) s += losses[i * mx->T + t];
        mx->seq_loss[j0 + i] = s / (double)mx->T;
    }
}

void train_mix_record_excess(train_mixture *mx, int64_t j0, int64_t n, const float *model_losses,
                             const float *ref_losses) {
    for (int64_t i = 0; i < n; i++) {
        double s = 0;
        for (int64_t t = 0; t < mx->T; t++) {
            double e = (double)model_losses[i * mx->T + t] - (double)ref_losses[i * mx->T + t];
            s += e > 0 ? e : 0;
        }
        mx->seq_excess[j0 + i] = s / (double)mx->T;
    }
}

int train_mix_end_step(train_mixture *mx, train_mix_combine combine, void *ctx, int doremi, lmc_err *err) {
    int n = (int)mx->batch;
    if (combine && (combine(ctx, mx->seq_loss, n, err) || (doremi && combine(ctx, mx->seq_excess, n, err)))) return -1;
    double sum[TRAIN_MAX_SOURCES] = {0}, ex[TRAIN_MAX_SOURCES] = {0};
    memset(mx->count, 0, sizeof mx->count);
    for (int j = 0; j < n; j++) { /* in order of j: the same sums on every rank and for every rank count */
        sum[mx->src[j]] += mx->seq_loss[j];
        ex[mx->src[j]] += mx->seq_excess[j];
        mx->count[mx->src[j]]++;
    }
    for (int s = 0; s < mx->k; s++) {
        mx->train_loss[s] = mx->count[s] ? sum[s] / (double)mx->count[s] : NAN;
        /* every sequence has T targets, so the mean of the sequences' means is the mean over tokens */
        mx->excess[s] = mx->count[s] ? ex[s] / (double)mx->count[s] : 0;
        mx->tokens[s] += (uint64_t)mx->count[s] * (uint64_t)mx->T;
    }
    /* the other ranks' entries must be 0 again before the next step's combine */
    memset(mx->seq_loss, 0, (size_t)n * sizeof *mx->seq_loss);
    memset(mx->seq_excess, 0, (size_t)n * sizeof *mx->seq_excess);
    return 0;
}

void train_mix_epoch_news(train_mixture *mx, char *msg, size_t len) {
    size_t o = 0;
    msg[0] = 0;
    for (int s = 0; s < mx->k; s++) {
        if (mx->train[s].epoch == mx->epoch_logged[s]) continue;
        mx->epoch_logged[s] = mx->train[s].epoch;
        int w = snprintf(msg + o, len - o, "%ssource %s starts epoch %llu (%llu sequences each)", o ? "; " : "",
                         mx->name[s], (unsigned long long)mx->train[s].epoch, (unsigned long long)mx->train[s].nseq);
        if (w < 0 || (size_t)w >= len - o) break;
        o += (size_t)w;
    }
}

void train_mix_save(const train_mixture *mx, train_state *st) {
    memset(st->mix, 0, sizeof st->mix);
    st->n_mix = mx->k;
    st->mix_have_init = mx->have_init;
    st->mix_updates = mx->updates;
    for (int s = 0; s < mx->k; s++) {
        struct train_mix_src *d = &st->mix[s];
        snprintf(d->name, sizeof d->name, "%s", mx->name[s]);
        d->epoch = mx->train[s].epoch;
        d->pos = mx->train[s].pos;
        d->tokens = mx->tokens[s];
        d->weight = mx->w[s];
        d->avg_sum = mx->avg_sum[s];
        d->loss_init = mx->loss_init[s];
    }
}

int train_mix_restore(train_mixture *mx, const train_state *st, lmc_err *err) {
    if (st->n_mix == 0) return 0;
    if (st->n_mix != mx->k)
        return lmc_errf(err, LMC_EINVAL, "the checkpoint's mixture has %d sources, data.sources lists %d", st->n_mix, mx->k);
    for (int s = 0; s < mx->k; s++) {
        const struct train_mix_src *d = &st->mix[s];
        if (strcmp(d->name, mx->name[s]))
            return lmc_errf(err, LMC_EINVAL, "the checkpoint's mixture source %d is '%s', data.sources has '%s' there", s + 1,
                            d->name, mx->name[s]);
        if (!(d->weight > 0) || !isfinite(d->weight))
            return lmc_errf(err, LMC_EFORMAT, "the checkpoint's weight of source '%s' is not positive", d->name);
        if (train_loader_seek(&mx->train[s], d->epoch, d->pos, err)) return lmc_err_wrap(err, "data.sources '%s'", d->name);
        mx->epoch_logged[s] = d->epoch;
        mx->tokens[s] = d->tokens;
        mx->w[s] = d->weight;
        mx->avg_sum[s] = d->avg_sum;
        mx->loss_init[s] = d->loss_init;
    }
    mx->have_init = st->mix_have_init;
    mx->updates = st->mix_updates;
    memcpy(mx->w_step, mx->w, sizeof mx->w);
    return 0;
}

void train_mix_log(const train_mixture *mx, lmc_jsonl *w) {
    char key[96];
    for (int s = 0; s < mx->k; s++) {
        const char *n = mx->name[s];
        snprintf(key, sizeof key, "mix/%s/tokens", n);
        lmc_jsonl_int(w, key, (int64_t)mx->tokens[s]);
        snprintf(key, sizeof key, "mix/%s/weight", n);
        lmc_jsonl_num(w, key, mx->w_step[s]);
        snprintf(key, sizeof key, "mix/%s/epoch", n);
        lmc_jsonl_int(w, key, (int64_t)mx->train[s].epoch);
        if (mx->count[s]) {
            snprintf(key, sizeof key, "train/%s/loss", n);
            lmc_jsonl_num(w, key, mx->train_loss[s]);
        }
        if (mx->logged_val && mx->has_val[s]) {
            snprintf(key, sizeof key, "val/%s/loss", n);
            lmc_jsonl_num(w, key, mx->val_loss[s]);
        }
        if (mx->logged_update && mx->rule == MIX_DOREMI && mx->updates > 0) {
            snprintf(key, sizeof key, "mix/%s/avg_weight", n);
            lmc_jsonl_num(w, key, mx->avg_sum[s] / (double)mx->updates);
        }
        if (mx->logged_update && mx->rule == MIX_VELOCITUNE) {
            snprintf(key, sizeof key, "mix/%s/velocity", n);
            lmc_jsonl_num(w, key, mx->velocity[s]);
        }
    }
}
