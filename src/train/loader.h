/* The training data loader: fixed-length sequences cut from token shards, in a deterministic
 * shuffled order.
 *
 * Every shard of n tokens holds floor((n-1)/T) sequences; sequence i covers tokens [iT, iT+T]
 * (T+1 tokens: inputs are the first T, targets the last T). All sequences of all shards are
 * numbered globally; epoch e visits them in a permutation drawn from (seed, e), so the order is a
 * pure function of the seed and the position (epoch, index). That position is all a checkpoint has
 * to store to resume the exact token stream, and crossing an epoch boundary mid-batch just starts
 * the next permutation. */
#ifndef LMC_TRAIN_LOADER_H
#define LMC_TRAIN_LOADER_H

#include <stdint.h>
#include "base/error.h"
#include "base/io.h"
#include "data/mask.h"
#include "data/shard.h"

typedef struct train_shard {
    lmc_shard s;            /* the mapped shard (data/shard.h) */
    uint64_t first_seq;     /* global index of this shard's first sequence */
    uint64_t nseq;
    lmc_mask mask;          /* X.mask sidecar (src/train/loader_mask.h); bits NULL = every target counts */
} train_shard;

typedef struct train_loader {
    train_shard *shards;
    size_t nshards;
    int64_t T;
    uint64_t nseq;          /* sequences in all shards */
    uint64_t seed;
    int shuffle;            /* 0: natural order (validation) */
    uint64_t epoch, pos;    /* next sequence: perm_epoch[pos] */
    uint64_t *perm;         /* permutation of the current epoch (NULL when !shuffle) */
    uint64_t perm_epoch;
    uint64_t max_token;     /* tokens must be < this (0 = no check) */
    struct train_packing *pack; /* data.packing seamless: the window table (packing.h); NULL = concat */
    size_t masked;          /* shards with a loss mask: their masked targets are -1 (ignored by the loss) */
} train_loader;

/* Open every shard matching `glob` (read as `kind`). T = sequence length. With vocab_size > 0 every
 * token is checked against it here, up front. */
int train_loader_open(train_loader *l, const char *glob, int64_t T, uint64_t seed, int shuffle,
                      uint64_t vocab_size, lmc_shard_kind kind, lmc_err *err);
void train_loader_close(train_loader *l);
/* Fill n sequences: inputs[n*T] and targets[n*T] (int32, as the model takes them); advances. */
int train_loader_next(train_loader *l, int64_t n, int32_t *inputs, int32_t *targets, lmc_err *err);
/* Advance past n sequences without reading them, exactly as train_loader_next would (epochs included):
 * a data-parallel rank skips the other ranks' part of each global batch. */
int train_loader_skip(train_loader *l, uint64_t n, lmc_err *err);
/* Fill n sequences starting at global natural-order index `start` (wrapping); does not advance.
 * Used for the fixed validation batches. */
int train_loader_fixed(train_loader *l, uint64_t start, int64_t n, int32_t *inputs, int32_t *targets, lmc_err *err);
/* Position save/restore (exact). */
int train_loader_seek(train_loader *l, uint64_t epoch, uint64_t pos, lmc_err *err);

#endif
