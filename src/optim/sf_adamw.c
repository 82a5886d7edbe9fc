/* Schedule-Free AdamW (Defazio et al. 2024), written in the operation order of the schedulefree
 * package's AdamWScheduleFree (schedulefree 1.4, the memory-light form that keeps only z and v):
 *
 *   sched  = (k+1)/warmup for k < warmup, else 1;   lr_k = lr * sched;   lr_max = max(lr_max, lr_k)
 *   weight = (k+1)^r * lr_max^weight_lr_power;      weight_sum += weight;  c = weight / weight_sum
 *   v      = b2 v + (1-b2) g^2;     d = g / (sqrt(v / (1 - b2^(k+1))) + eps) + wd * y   (decay at y)
 *   y      = lerp(y, z, c) + lr_k (b1 (1-c) - 1) d;     z = z - lr_k d
 *
 * The parameters hold y (the gradient point); the evaluation point is x = lerp(y, z, 1 - 1/b1),
 * which is what the reference's optimizer.eval() writes. Weight decay applies to the views with
 * decay = 1 (the 2-D tensors) as for AdamW. torch.lerp's two-branch formula is reproduced.
 *
 * sf-adamw-refined ("Through the River", Song, Baek, Ahn, Yun 2025): the same sequences with the
 * averaging weight c_t = min(1, (1 - b1) C / t), t = k + 1, so the window of the average is set by C
 * alone and b1 only sets the interpolation of y. The clip at 1 and t = k + 1 are my reading of the
 * paper (there is no reference code); the reference in tests/reference is written from the paper as
 * explicit x, y, z sequences. The elementwise loop is optim_sf_update (sf_adamw_vec.c: scalar, AVX2 or
 * AVX-512 by the CPU, bitwise the same). */
#include "optim/optim_internal.h"

#include <math.h>
#include <string.h>
#include "base/mem.h"
#include "kernels/cpu/kernels.h"
#include "optim/optim.h"

int optim_sf_create(lmc_optim *o, gpt2_model *m, lmc_err *err) {
    o->ybak = lmc_alloc_array(m->n_floats, sizeof(float), err);
    if (!o->ybak) return LMC_ENOMEM;
    o->weight_sum = 0.0;
    o->lr_max = -1.0;
    return 0;
}

int optim_sf_step(lmc_optim *o, gpt2_model *m, double lr, double *lr_used, lmc_err *err) {
    (void)err;
    const optim_hparams *h = &o->hp;
    double k = (double)m->step;
    if (m->step == 0) memcpy(m->m, m->params, m->n_floats * sizeof(float)); /* z starts at the weights */
    double sched = k < (double)h->sf_warmup_steps ? (k + 1) / (double)h->sf_warmup_steps : 1.0;
    double bc2 = 1.0 - pow(h->beta2, k + 1);
    double lr_k = lr * sched;
    if (lr_k > o->lr_max) o->lr_max = lr_k;
    double weight = pow(k + 1, h->sf_r) * pow(o->lr_max, h->sf_weight_lr_power);
    o->weight_sum += weight;
    double ckp1 = o->weight_sum != 0.0 ? weight / o->weight_sum : 0.0;
    if (h->kind == OPTIM_SF_REFINED) { /* "Through the River": averaging decoupled from beta1 */
        ckp1 = (1.0 - h->beta1) * h->sf_c / (k + 1);
        if (ckp1 > 1.0) ckp1 = 1.0;
    }
    if (lr_used) *lr_used = lr_k;
    optim_sf_args a = {(float)h->beta2, (float)(1.0 - h->beta2), (float)bc2, (float)h->eps, 0.0f, (float)ckp1,
                       (float)(lr_k * (h->beta1 * (1.0 - ckp1) - 1.0)), (float)lr_k};
    const int isa = lmc_isa_active();
    for (int i = 0; i < m->n_views; i++) {
        const gpt2_view *vw = &m->views[i];
        a.wd = vw->decay ? (float)h->weight_decay : 0.0f;
        optim_sf_update(m->params + vw->offset, m->m + vw->offset, m->v + vw->offset, m->grads + vw->offset, vw->numel,
                        &a, isa);
    }
    m->step++;
    lmc_kernels_weights_changed();
    return 0;
}

void optim_sf_to_eval(lmc_optim *o, gpt2_model *m) {
    memcpy(o->ybak, m->params, m->n_floats * sizeof(float));
    if (m->step == 0) return; /* no step yet: z = y = x */
    const float w = (float)(1.0 - 1.0 / o->hp.beta1);
    float *p = m->params;
    const float *z = m->m;
    const long n = (long)m->n_floats;
#pragma omp parallel for schedule(static)
    for (long j = 0; j < n; j++) p[j] = lerpf_torch(p[j], z[j], w);
    lmc_kernels_weights_changed();
}
