/* Training diagnostics of TECHNIQUES.md 12 computed on a probe batch (src/eval/diag.c):
 *   zero-sum learning (Mircea et al., ACL 2025): per-token loss changes dl_i over one update,
 *     D = 1 - |sum dl| / sum |dl|  (0 = every token moves the same way, 1 = gains and losses cancel),
 *     M = mean |dl|;
 *   gradient-weight alignment (Hoelzl et al., NeurIPS 2025), cheap last-layer estimator: per token,
 *     gamma_i = cos(-dL_i/dW, W) for the output head W, in closed form from the logits and features:
 *     dL_i/dW = (p_i - e_{y_i}) z_i^T, so gamma_i = (logit_{y_i} - E_{p_i}[logit]) / (||p_i - e_{y_i}|| ||z_i|| ||W||);
 *     GWA = M1 / (M4 / M2^2 - 3 + 1.2) over the batch (M1 mean, M2/M4 central moments). */
#ifndef LMC_EVAL_DIAG_H
#define LMC_EVAL_DIAG_H
#include <stddef.h>
#include "base/error.h"
#include "model/gpt2.h"

/* D(dl) of loss vectors before (l0) and after (l1); *mean_abs gets M. Positions where either is
 * not finite are skipped. Returns 0 when no loss moved. */
double lmc_zsl_D(const float *l0, const float *l1, size_t n, double *mean_abs);
/* Forward inputs/targets (B, T) and compute GWA and the mean alignment over targets >= 0. Leaves the
 * forward's per-position losses in m->losses. */
int lmc_gwa(gpt2_model *m, const int32_t *in, const int32_t *tg, int B, int T, double *gwa, double *mean_gamma,
            lmc_err *err);
/* gamma_i for one position of the last forward (row r = b*T + t), target y. */
double lmc_gwa_gamma(const gpt2_model *m, size_t r, int y);
#endif
