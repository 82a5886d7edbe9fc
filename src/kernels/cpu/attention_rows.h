/* Internal: the per-row softmax work of the tiled attention kernels (attention.c, attention_bf16.c).
 *
 * A query block's score rows are kv wide and start at key j0. Row r may see the keys [lo, lo + n) of
 * its row (lo > 0 only with document starts, or where j0 was rounded down); every other column is set
 * to exactly 0, so the following GEMMs need no masks. diag is the row's own position within [lo, lo + n)
 * (= n - 1): ALiBi adds slope * (key - query). scale multiplies the raw scores first (1: already
 * scaled by the GEMM, and then not touched, so the fp32 path's results do not change). */
#ifndef LMC_KERNELS_CPU_ATTENTION_ROWS_H
#define LMC_KERNELS_CPU_ATTENTION_ROWS_H
#include "kernels/cpu/vmath.h"
#include <math.h>
#include <stdint.h>

/* The first key any row of the query block [i0, i0 + rows) may see (0 without document starts). */
static inline int block_lo(const int32_t *ds, int i0, int rows) {
    if (!ds) return 0;
    int lo = ds[i0];
    for (int r = 1; r < rows; r++) lo = ds[i0 + r] < lo ? ds[i0 + r] : lo;
    return lo;
}

static inline void att_row_prepare(float *row, int kv, int lo, int n, float scale, const float *slope) {
    float *s = row + lo;
    if (scale != 1.0f)
        for (int j = 0; j < n; j++) s[j] *= scale;
    if (slope)
        for (int j = 0; j < n; j++) s[j] += *slope * (float)(j - (n - 1));
    for (int j = 0; j < lo; j++) row[j] = 0.0f;
    for (int j = lo + n; j < kv; j++) row[j] = 0.0f;
}

/* Scores -> probabilities in place; returns the row's log-sum-exp. */
static inline float att_row_softmax(float *row, int kv, int lo, int n, float scale, const float *slope) {
    att_row_prepare(row, kv, lo, n, scale, slope);
    float *s = row + lo;
    float mx = vm_max(s, n);
    float sum = vm_exp_sub_sum(s, s, mx, n);
    float inv = 1.0f / sum;
    for (int j = 0; j < n; j++) s[j] *= inv;
    return mx + logf(sum);
}

/* Scores -> the probabilities forward made, from its log-sum-exp (backward's recomputation). */
static inline void att_row_probs(float *row, int kv, int lo, int n, float scale, const float *slope, float lse) {
    att_row_prepare(row, kv, lo, n, scale, slope);
    vm_exp_sub_sum(row + lo, row + lo, lse, n);
}
#endif
