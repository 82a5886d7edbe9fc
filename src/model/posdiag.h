/* Positional-information diagnostic (Gu et al., "Deconstructing Positional Information", ICLR 2026;
 * TECHNIQUES §17), computed by `lmc eval --diag` on a probe batch:
 * 1. Logit decomposition per (layer, head) over all causal pairs (i, j <= i) of the pre-softmax
 *    logit l_ij = q_i.k_j / sqrt(hd) (+ the ALiBi bias), after QK-norm:
 *    - RoPE: position share = Var(l_rope - l_norope) / Var(l_rope) (the same q, k without the rotation);
 *    - ALiBi: Var(b) / Var(S + b), b_ij = -slope_h (i - j);
 *    - learned (layer 0, where x = wte[tok] + wpe[pos] exactly): the four terms content-content,
 *      content-position, position-content, position-position, through the layer's norm with the row's
 *      own statistics (linear in c and p for fixed statistics; the norm bias counts as content), as
 *      variance shares Var(term) / Var(l); position share = Var(cp + pc + pp) / Var(l). Deeper layers
 *      have no exact split: NaN;
 *    - NoPE: NaN (position reaches attention only through the causal mask).
 *    For LSSA/LSSAR attention the same q.k is reported (the product before the L2 normalisation).
 * 2. Per-head ablation: the loss with head h's attention output zeroed (gpt2_model.head_mask) minus
 *    the loss of the intact model. The paper's "single-head deposit" shows as one shallow head whose
 *    ablation costs far more than its layer's other heads. */
#ifndef LMC_MODEL_POSDIAG_H
#define LMC_MODEL_POSDIAG_H

#include "model/gpt2.h"

typedef struct posdiag {
    int n_layer, n_head, position;
    int64_t pairs;       /* causal pairs per (layer, head) */
    double *pos_share;   /* [n_layer * n_head]; NaN where not defined */
    double *terms;       /* learned positions: [n_head * 4] shares cc, cp, pc, pp of layer 0; else NULL */
    double recon_err;    /* learned: max |q_c + q_p - q| / max |q| of the split (a self-check; 0 otherwise) */
    double base_loss;    /* mean loss of the probe batch */
    double *ablate;      /* [n_layer * n_head]: loss with the head zeroed - base_loss */
} posdiag;

/* x, y: (B, T) inputs and targets (targets >= 0 count). Runs 1 + n_layer * n_head forwards. */
int posdiag_run(gpt2_model *m, const int32_t *x, const int32_t *y, int B, int T, posdiag *d, lmc_err *err);
void posdiag_free(posdiag *d);

#endif
