/* Model merging (../shared/TECHNIQUES.md §13): Task Arithmetic, TIES, DARE and contrastive weight
 * steering, on checkpoints of one architecture (every tensor elementwise; TIES's trim is a per-tensor
 * top-k). Task vectors tau_t = theta_t - theta_0 are taken per tensor. All arithmetic is float32 in the
 * order written below, so a PyTorch reference that does the same operations reproduces the result
 * bit for bit (tests/reference/merge_reference.py).
 *
 *   ta     theta = theta_0 + scale * sum_t w_t tau_t                           (Ilharco et al. 2023)
 *   ties   trim: keep the floor(density * numel) entries of each tau_t largest in |value| (ties: lower
 *          index first), zero the rest -> tau^_t; elect: g = sign(sum_t w_t tau^_t) (0 counts as +);
 *          disjoint merge: tau_m = sum_{t in A} w_t tau^_t / sum_{t in A} w_t over A = {t : tau^_t != 0,
 *          sign(tau^_t) = g} (0 when A is empty); theta = theta_0 + scale * tau_m   (Yadav et al. 2023)
 *   dare   drop and rescale: keep each entry with probability density, tau~ = keep ? tau / density : 0,
 *          then ta                                                               (Yu et al. 2024)
 *          The mask is lmc's Philox RNG: entry i of tensor v of model t is kept iff
 *          (philox4x32(i / 4, key)[i % 4] >> 8) * 2^-24 < density, key = derive(derive(seed, t), v)
 *          (lmc_rng_derive), so any implementation can reproduce it.
 *   steer  two models (positive, negative): theta = theta_0 + scale * (theta_+ - theta_-)
 *          (contrastive weight steering, Fierro & Roger, ICLR 2026)
 * sum_t accumulates in float32 from t = 0 upward: acc = 0; acc = acc + w_t * x_t. */
#ifndef LMC_MERGE_MERGE_H
#define LMC_MERGE_MERGE_H

#include <stddef.h>
#include <stdint.h>
#include "base/error.h"
#include "model/gpt2.h"

typedef enum { MERGE_TA, MERGE_TIES, MERGE_DARE, MERGE_STEER } merge_method;

typedef struct merge_opts {
    merge_method method;
    const float *weights; /* n weights (NULL = all 1) */
    float scale;          /* lambda / steering k */
    float density;        /* ties: fraction kept by the trim; dare: keep probability (in (0, 1]) */
    uint64_t seed;        /* dare */
} merge_opts;

/* Parse "ta" / "ties" / "dare" / "steer"; -1 if unknown. */
int merge_method_parse(const char *s);

/* One tensor: out[numel] from base and n models (tensor index v keys DARE's mask). */
int merge_tensor(const merge_opts *o, const float *base, const float *const *models, int n, size_t numel, uint64_t v,
                 float *out, lmc_err *err);

/* Whole models with identical configs: out (a model of the same config) gets the merge of every
 * view, in view order (v = view index). */
int merge_models(const merge_opts *o, const gpt2_model *base, gpt2_model *const *models, int n, gpt2_model *out,
                 lmc_err *err);

#endif
