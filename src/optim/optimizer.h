/* The optimizer interface of the training loop: one object per run, created from the config's
 * hyperparameters and the model's view table, stepped once per optimizer step, and saved with the
 * checkpoint as a list of named flat buffers (each with the model's parameter layout) plus a few
 * exact scalars.
 *
 *   adamw      torch.optim.AdamW (gpt2_adamw_step; state m, v = the model's m / v buffers)
 *   sf-adamw   Schedule-Free AdamW, schedulefree.AdamWScheduleFree (state z, v; sf_adamw.c)
 *   sf-adamw-refined  the same with the averaging weight of "Through the River" (Song et al. 2025):
 *              c_t = min(1, (1 - beta1) C / t) instead of w_t / sum w (sf_adamw.c)
 *   muon       torch.optim.Muon on the 2-D hidden weights, AdamW on the rest (state m, v; muon.c)
 *   soap       SOAP (Vyas et al. 2024, the authors' soap.py): Adam in the eigenbasis of Shampoo's
 *              factors (state m, v + per-matrix L, R, QL, QR; soap.c)
 *   galore     GaLore (galore-torch's GaLoreAdamW): Adam on a rank-k SVD projection of each block
 *              weight's gradient (state: low-rank m, v + per-matrix projector P, all per-view
 *              tensors; galore.c)
 *   kl-shampoo KL-Shampoo (Lin et al., ICLR 2026): Kronecker factors fitted by KL minimisation, update
 *              S_a^-1/2 m S_b^-1/2 from EMA eigenvalues in a QR-refreshed eigenbasis, every 2-D view;
 *              AdamW on 1-D views (state m + per-matrix S, Q, lambda^-1/2; kl.c)
 *   kl-soap    the same factors with SOAP's Adam in the eigenbasis (state m, v + the same; kl.c)
 *
 * Parameters during training are the optimizer's *training point* (for sf-adamw: y, the gradient
 * point). optim_to_eval() puts the *evaluation point* into m->params (sf-adamw: x; every other
 * optimizer: no change) and optim_to_train() restores the training point bitwise; checkpoints, val
 * loss and samples are taken in eval mode.
 *
 * Sharding (ZeRO-1): adamw and sf-adamw are elementwise: any flat slice of the parameter buffer can
 * be updated on its own with its slice of every state buffer (the scalars are replicated). muon needs
 * whole matrices (Newton-Schulz mixes all entries of a view): shard it by whole views; so does soap
 * (its rotations mix whole rows and columns; L, R, QL, QR belong to one view), so do kl-shampoo and
 * kl-soap, and galore (the SVD
 * of the whole gradient matrix picks the subspace). */
#ifndef LMC_OPTIM_OPTIMIZER_H
#define LMC_OPTIM_OPTIMIZER_H

#include <stddef.h>
#include <stdint.h>
#include "base/error.h"
#include "model/gpt2.h"

enum { OPTIM_ADAMW = 0, OPTIM_SF_ADAMW = 1, OPTIM_MUON = 2, OPTIM_SOAP = 3, OPTIM_GALORE = 4, OPTIM_SF_REFINED = 5,
       OPTIM_KL_SHAMPOO = 6, OPTIM_KL_SOAP = 7, OPTIM_N_KINDS = 8 };
/* the KL-minimisation kinds (kl.c) */
#define OPTIM_IS_KL(kind) ((kind) == OPTIM_KL_SHAMPOO || (kind) == OPTIM_KL_SOAP)
/* the schedule-free kinds (y / z / x sequences, eval at x) */
#define OPTIM_IS_SF(kind) ((kind) == OPTIM_SF_ADAMW || (kind) == OPTIM_SF_REFINED)
enum { OPTIM_MUON_LR_ORIGINAL = 0, OPTIM_MUON_LR_MATCH_RMS_ADAMW = 1 };

typedef struct optim_hparams {
    int kind;                       /* OPTIM_* */
    double beta1, beta2, eps, weight_decay;   /* AdamW (and sf-adamw, and muon's AdamW part) */
    /* sf-adamw */
    int64_t sf_warmup_steps;        /* the reference's linear warmup: lr * (k+1)/warmup for k < warmup */
    double sf_r;                    /* polynomial weighting power r of the average */
    double sf_weight_lr_power;      /* weight of step k in the average: (k+1)^r * lr_max^power */
    double sf_c;                    /* sf-adamw-refined: the constant C of c_t = min(1, (1-beta1) C / t) */
    /* muon */
    double lr;                      /* the run's peak lr (train.lr): muon scales its own lr by lr(t)/lr */
    double muon_lr;                 /* muon's peak lr (0 = train.lr) */
    double muon_momentum, muon_weight_decay, muon_eps;
    int muon_nesterov, muon_ns_steps, muon_adjust_lr;   /* OPTIM_MUON_LR_* */
    /* soap, kl-shampoo, kl-soap (betas, eps, weight decay from above) */
    int soap_precondition_frequency;   /* eigenbasis refresh (one power iteration + QR) every N steps */
    int soap_max_precond_dim;          /* a side longer than this is not rotated (identity) */
    double soap_shampoo_beta;          /* EMA of L, R (< 0: beta2) */
    /* kl-shampoo, kl-soap */
    double kl_init_factor;             /* initial eigenvalue estimate of both Kronecker factors */
    double kl_clamp;                   /* lambda^-1/2 <= max(10, min(side, kl_clamp)); 0 = no clamping */
    /* galore */
    int galore_rank, galore_update_proj_gap;
    double galore_scale;
    int galore_importance;          /* 0: top-k singular vectors (GaLore); 1: sampled ~ sigma (SARA) */
    uint64_t galore_seed;           /* importance sampling's seed (run.seed) */
} optim_hparams;

/* "adamw" | "sf-adamw" | "muon" -> OPTIM_*, -1 when unknown; and back. */
int optim_kind_parse(const char *s);
const char *optim_kind_name(int kind);
/* 1 when view v is optimized by Muon (2-D weights inside the blocks); 0: AdamW. */
int optim_muon_view(const gpt2_model *m, int v);

/* A state buffer: n_floats floats with the parameter layout; saved per view as "<name>.<view>". */
typedef struct optim_buffer {
    const char *name;
    float *data;
} optim_buffer;
/* A state scalar, saved exactly (hex float) in the checkpoint's metadata under its name. */
typedef struct optim_scalar {
    const char *name;
    double *value;
} optim_scalar;

/* A state matrix of one view (SOAP's factors and eigenbases): rows x cols floats, saved as
 * "<name>" (e.g. "QL.h.0.attn.c_attn.weight"). */
typedef struct optim_tensor {
    char name[80];
    float *data;
    int64_t rows, cols;
    /* > rows * cols: an older layout stored this state as a tensor of legacy_numel floats whose first
     * rows * cols floats are the data (galore's moments inside full-size m / v slots); loading accepts
     * that too. 0: no older layout. */
    int64_t legacy_numel;
} optim_tensor;

typedef struct lmc_optim lmc_optim;

/* Create for a training-enabled model (gpt2_enable_training); uses m->m / m->v as state buffers,
 * except galore, which keeps its moments at their real (low-rank) sizes and frees m->m and m->v (set
 * to NULL; gpt2_enable_training allocates them again for a later optimizer), and kl-shampoo, which
 * has no second moment on the matrices and frees m->v. */
int optim_create(lmc_optim **out, const optim_hparams *hp, gpt2_model *m, lmc_err *err);
void optim_free(lmc_optim *o);
int optim_kind(const lmc_optim *o);
/* 1 when the run's lr schedule (train.schedule, train.warmup_steps) applies; sf-adamw: 0 (constant
 * lr; its own warmup). */
int optim_uses_schedule(const lmc_optim *o);
/* One step with the gradients in m->grads; lr = the step's (scheduled) learning rate. *lr_used (may
 * be NULL) gets the lr actually applied (sf-adamw: after its warmup). Model must be in train mode. */
int optim_step(lmc_optim *o, gpt2_model *m, double lr, double *lr_used, lmc_err *err);
/* Evaluation point in and out of m->params (no-ops except for sf-adamw); idempotent. */
void optim_to_eval(lmc_optim *o, gpt2_model *m);
void optim_to_train(lmc_optim *o, gpt2_model *m);
int optim_in_eval(const lmc_optim *o);
/* State to checkpoint; valid in eval mode (sf-adamw's "y" buffer holds the training point then). */
int optim_buffers(lmc_optim *o, gpt2_model *m, optim_buffer *out, int cap);
int optim_scalars(lmc_optim *o, optim_scalar *out, int cap);
/* Per-view state matrices: fills up to cap entries (out may be NULL), returns how many there are. */
int optim_tensors(lmc_optim *o, const gpt2_model *m, optim_tensor *out, int cap);
/* After loading buffers and scalars into what optim_buffers/optim_scalars gave, with the model
 * holding the checkpoint's weights (the evaluation point): mark the optimizer as in eval mode. */
void optim_loaded(lmc_optim *o);
/* Bytes of optimizer state (buffers the optimizer needs, not counting parameters and gradients). */
size_t optim_state_bytes(const lmc_optim *o, const gpt2_model *m);

#endif
