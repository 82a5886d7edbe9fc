/* Data-parallel training step (internal to the train module; used by train.c).
 *
 * One optimizer step over A = batch_size / micro_batch micro-batches, split over N ranks (N a power of
 * two dividing A): rank r computes micro-batches [r A/N, (r+1) A/N), each into a zeroed gradient
 * buffer, and sums them in the binary tree  T(lo, hi) = T(lo, mid) + T(mid, hi),  mid = lo + (hi-lo)/2.
 * The ranks' subtree sums are then combined by dist_reduce_scatter_tree, whose pairing is the top of
 * the same tree. Float addition is commutative, so every element of the step's gradient is the same
 * expression whatever N is: training with 1, 2 or 4 ranks (or one process with train.grad_accum: tree)
 * gives the same losses and weights bit for bit, given the same per-rank thread count (the kernels'
 * own sums depend on it).
 *
 * After the reduce-scatter each rank holds the summed gradient of its slice only (ZeRO-1): the gradient
 * norm is assembled from per-chunk partial sums (the chunks k_sumsq adds, in its order), clipping
 * scales the slice, AdamW updates the slice with the rank's slice of m and v, and the weights are
 * all-gathered. With shard_optimizer off, the gradient is all-gathered instead and every rank runs the
 * full update (what an optimizer that needs whole matrices requires).
 *
 * Memory per rank: the tree needs ceil(log2(A/N)) gradient-sized buffers beside the model's own; ZeRO-1
 * keeps 2 * n_floats / N floats of AdamW state instead of 2 * n_floats. */
#ifndef LMC_TRAIN_DP_H
#define LMC_TRAIN_DP_H

#include <stdint.h>
#include "base/error.h"
#include "dist/dist.h"
#include "model/gpt2.h"

typedef struct train_dp {
    dist_ctx *d;
    int shard;             /* ZeRO-1: AdamW state of [lo, hi) only */
    int64_t accum, local;  /* micro-batches per step, per rank */
    size_t lo, hi;         /* this rank's slice of the flat buffers */
    float *m, *v;          /* slice-local AdamW moments (shard) */
    float **tmp;           /* tree buffers, one per depth */
    int ntmp;
    float *grads;          /* the model's own gradient buffer */
    double *mb_loss;       /* [accum] */
    double *parts;         /* gradient-norm chunk partials [nchunks] */
    int *pcounts, *pdispls;/* chunks per rank */
    double comm_step_s;    /* communication time of the last step */
} train_dp;

/* Computes micro-batch k (global index) into the model's zeroed gradient buffer and returns its loss. */
typedef int (*train_dp_leaf)(void *ctx, int64_t k, float *loss, lmc_err *err);

/* Set up for a model whose m->m / m->v hold the full AdamW state (fresh or just loaded); with shard,
 * the rank's slice is copied out and the full buffers are freed. */
int train_dp_init(train_dp *p, dist_ctx *d, gpt2_model *m, int64_t accum, int shard, lmc_err *err);
void train_dp_free(train_dp *p, gpt2_model *m);

/* Forward/backward of this rank's micro-batches and the tree reduction. *loss = mean micro-batch loss
 * (the same value on every rank). The rank's loader must already stand at its first micro-batch. */
int train_dp_gradients(train_dp *p, gpt2_model *m, train_dp_leaf leaf, void *ctx, float *loss, lmc_err *err);
/* Global gradient norm before clipping (the same value on every rank); clips with PyTorch's rule. */
int train_dp_clip(train_dp *p, gpt2_model *m, double max_norm, double *norm, lmc_err *err);
/* AdamW on this rank's slice (or all of it without shard), then the weights to every rank. */
int train_dp_adamw(train_dp *p, gpt2_model *m, const gpt2_adamw *hp, lmc_err *err);

/* Around a checkpoint save: rank 0 gets the full m / v in m->m / m->v (gathered); release frees them. */
int train_dp_state_gather(train_dp *p, gpt2_model *m, lmc_err *err);
void train_dp_state_release(train_dp *p, gpt2_model *m);

/* The mean of per-batch values where rank r computed the batches b with b % N == r: vals[n] holds this
 * rank's entries (others 0); on return the mean over all n in index order, on every rank. */
int train_dp_mean(train_dp *p, double *vals, int n, double *mean, lmc_err *err);

#endif
