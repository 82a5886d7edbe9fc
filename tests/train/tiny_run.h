/* Shared by the training tests: a tiny random-token dataset and a 2-layer d=32 config. */
#ifndef LMC_TEST_TINY_RUN_H
#define LMC_TEST_TINY_RUN_H

#include <stdio.h>
#include <string.h>
#include "base/base.h"
#include "data/shard.h"
#include "train/config.h"

/* Tokens with some structure (a noisy counter) so the loss actually falls. */
static inline void tiny_shard(const char *path, size_t n, uint64_t seed) {
    lmc_rng r;
    lmc_rng_init(&r, seed);
    uint32_t *t = malloc(n * sizeof *t);
    for (size_t i = 0; i < n; i++) t[i] = lmc_rng_below(&r, 4) == 0 ? (uint32_t)lmc_rng_below(&r, 64) : (uint32_t)(i % 64);
    lmc_shard_writer w;
    lmc_err err;
    if (lmc_shard_writer_open(&w, path, 64, &err) || lmc_shard_writer_put(&w, t, n, &err) ||
        lmc_shard_writer_commit(&w, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        exit(1);
    }
    free(t);
}

/* Writes dir/train.bin (600 tokens: 37 sequences of 16, so 12 steps x 4 cross an epoch) and dir/val.bin. */
static inline void tiny_config(train_config *c, const char *dir, const char *name) {
    char p[4200];
    snprintf(p, sizeof p, "%s/train.bin", dir);
    if (!lmc_file_exists(p)) tiny_shard(p, 600, 1);
    snprintf(p, sizeof p, "%s/val.bin", dir);
    if (!lmc_file_exists(p)) tiny_shard(p, 200, 2);
    train_config_defaults(c);
    snprintf(c->run_name, sizeof c->run_name, "%s", name);
    snprintf(c->run_dir, sizeof c->run_dir, "%s/runs", dir);
    snprintf(c->data_train, sizeof c->data_train, "%s/train.bin", dir);
    snprintf(c->data_val, sizeof c->data_val, "%s/val.bin", dir);
    c->vocab_size = 64;
    c->n_layer = 2;
    c->n_head = 2;
    c->d_model = 32;
    c->seq_len = 16;
    c->steps = 12;
    c->batch_size = 4;
    c->micro_batch = 2;
    c->lr = 3e-3;
    c->warmup_steps = 2;
    c->eval_every = 4;
    c->eval_batches = 2;
    c->checkpoint_every = 5;
    c->keep_checkpoints = 2;
    c->sample_tokens = 8;
    c->peak_tflops = 1;
    /* LMC_TEST_PRECISION runs a test in fp32 or bf16 (ctest registers both where it matters) */
    const char *prec = getenv("LMC_TEST_PRECISION");
    if (prec) snprintf(c->precision, sizeof c->precision, "%s", prec);
}

/* The metrics records of a run as one string (exact: numbers are printed with 17 digits). */
static inline char *tiny_metrics(const train_config *c) {
    char p[4200];
    snprintf(p, sizeof p, "%s/%s/metrics.jsonl", c->run_dir, c->run_name);
    char *data = NULL;
    size_t len;
    lmc_err err;
    if (lmc_read_file(p, &data, &len, &err)) return NULL;
    /* drop the timing fields, which legitimately differ between runs */
    char *out = malloc(len + 1), *o = out;
    for (char *line = data; *line;) {
        char *nl = strchr(line, '\n');
        size_t n = nl ? (size_t)(nl - line) : strlen(line);
        char *tps = strstr(line, ",\"tokens_per_s\"");
        char *val = strstr(line, ",\"val_loss\"");
        size_t keep = tps && tps < line + n ? (size_t)(tps - line) : n;
        memcpy(o, line, keep);
        o += keep;
        if (val && val < line + n) {
            char *e = val + 1;
            while (e < line + n && *e != ',' && *e != '}') e++;
            memcpy(o, val, (size_t)(e - val));
            o += e - val;
        }
        *o++ = '\n';
        if (!nl) break;
        line = nl + 1;
    }
    *o = 0;
    free(data);
    return out;
}

static inline char *tiny_file(const char *dir, const char *name, size_t *len) {
    char p[4200];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    char *data = NULL;
    lmc_err err;
    if (lmc_read_file(p, &data, len, &err)) return NULL;
    return data;
}

#endif
