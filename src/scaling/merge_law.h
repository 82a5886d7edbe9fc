/* The model-merging scaling law (ICML 2026; ../shared/TECHNIQUES.md §8e) at one base size N:
 *   E[L | k] = C + A / (k + b),   C = L* + B N^-beta,  A = A0 N^-gamma
 * (k = number of merged experts, equal weights). Fit by weighted least squares with weights
 * proportional to k, as the paper does: for a fixed b the law is linear in (C, A), so b is searched
 * (a grid over [0, 64], then golden-section refinement) with the weighted linear solve inside. */
#ifndef LMC_SCALING_MERGE_LAW_H
#define LMC_SCALING_MERGE_LAW_H

#include <stddef.h>
#include "base/error.h"

typedef struct merge_law {
    double C, A, b;
    double wsse;     /* weighted sum of squared residuals */
} merge_law;

static inline double merge_law_loss(const merge_law *m, double k) { return m->C + m->A / (k + m->b); }
/* Fraction of the k -> infinity gain reached at k (relative to k = 1): 1 - (1 + b) / (k + b). */
static inline double merge_law_gain(const merge_law *m, double k) { return 1.0 - (1.0 + m->b) / (k + m->b); }

/* Fit n points (k[i] >= 1, loss[i]); needs at least 3 distinct k. */
int merge_law_fit(const double *k, const double *loss, size_t n, merge_law *out, lmc_err *err);

#endif
