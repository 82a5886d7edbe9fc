/* Private to src/optim/: the optimizer object and the per-optimizer entry points. */
#ifndef LMC_OPTIM_INTERNAL_H
#define LMC_OPTIM_INTERNAL_H

#include <math.h>
#include "optim/optimizer.h"

struct lmc_optim {
    optim_hparams hp;
    int eval;                /* 1: m->params holds the evaluation point */
    /* sf-adamw: z = m->m, v = m->v; ybak holds the training point y while in eval mode */
    float *ybak;
    double weight_sum, lr_max;
    /* muon: Newton-Schulz scratch (two iterates, the Gram matrix and its polynomial) */
    float *ns_x, *ns_y, *ns_g, *ns_b;
    /* soap: per view the offsets of L, QL (r x r) and R, QR (c x c) in soap_mats, -1 = identity side */
    float *soap_mats;
    size_t soap_n;
    int64_t (*soap_off)[4];
    float *sw[4];            /* scratch: two r x c, two n x n */
    float *sw_tau, *sw_est;
    int *sw_idx;
    double *sw_key;          /* galore importance sampling keys */
    /* kl-shampoo / kl-soap: per view the offsets in soap_mats of S_a, Q_a (r x r), S_b, Q_b (c x c)
     * (-1 = a diagonal side: Q = I) and of lambda_a^-1/2 (r), lambda_b^-1/2 (c) (-1: not a KL view);
     * [6]: kl-shampoo, a 1-D view's offset of its AdamW v in gal_v (the matrices have no v) */
    int64_t (*kl_off)[7];
    /* galore (kl-shampoo: gal_v only, the 1-D views' v): the Adam moments at their real sizes (rank-k for the projected views, full for the
     * rest), packed view after view; the model's full-size m / v are released */
    float *gal_m, *gal_v;
    size_t gal_n;
};

int optim_sf_create(lmc_optim *o, gpt2_model *m, lmc_err *err);
int optim_sf_step(lmc_optim *o, gpt2_model *m, double lr, double *lr_used, lmc_err *err);
void optim_sf_to_eval(lmc_optim *o, gpt2_model *m);

int optim_muon_create(lmc_optim *o, gpt2_model *m, lmc_err *err);
int optim_muon_step(lmc_optim *o, gpt2_model *m, double lr, lmc_err *err);

int optim_soap_create(lmc_optim *o, gpt2_model *m, lmc_err *err);
int optim_soap_step(lmc_optim *o, gpt2_model *m, double lr, lmc_err *err);
void optim_soap_free(lmc_optim *o);

int optim_kl_create(lmc_optim *o, gpt2_model *m, lmc_err *err);
int optim_kl_step(lmc_optim *o, gpt2_model *m, double lr, lmc_err *err);
int optim_kl_tensors(lmc_optim *o, const gpt2_model *m, optim_tensor *out, int cap);

/* galore reuses soap_off (per view: P's offset in soap_mats, rank, left side, offset of the view's
 * moments in gal_m / gal_v) and the scratch */
int optim_galore_create(lmc_optim *o, gpt2_model *m, lmc_err *err);
int optim_galore_step(lmc_optim *o, gpt2_model *m, double lr, lmc_err *err);
int optim_galore_view(const gpt2_model *m, int v);
int optim_galore_tensors(lmc_optim *o, const gpt2_model *m, optim_tensor *out, int cap);

/* torch.lerp's two-sided formula (what the references compute), so the moments match bit for bit */
static inline float lerpf_torch(float a, float b, float w) {
    return fabsf(w) < 0.5f ? a + w * (b - a) : b - (b - a) * (1.0f - w);
}

/* eigenbasis.c, shared by soap.c and kl.c. out = QL^T X QR / QL X QR^T (NULL = identity side); out and
 * X distinct; use o->sw[0]. */
void optim_project(lmc_optim *o, const float *X, int r, int c, const float *QL, const float *QR, float *out);
void optim_project_back(lmc_optim *o, const float *X, int r, int c, const float *QL, const float *QR, float *out);
/* Q = eigenvectors of F (+1e-30 I), descending eigenvalues; uses o->sw[3] and o->sw_est. */
int optim_eig_basis(lmc_optim *o, const float *F, float *Q, int d, lmc_err *err);

#endif
