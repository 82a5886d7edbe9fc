/* Optimizer update kernels over flat float buffers (the model applies them per named view). */
#ifndef LMC_OPTIM_OPTIM_H
#define LMC_OPTIM_OPTIM_H

#include <stddef.h>

/* AdamW on n contiguous parameters, PyTorch semantics (torch.optim.AdamW, amsgrad off):
 *   p -= lr*wd*p;  m = b1*m + (1-b1)*g;  v = b2*v + (1-b2)*g^2;
 *   p -= lr/bc1 * m / (sqrt(v)/sqrt(bc2) + eps),   bc1 = 1 - b1^t, bc2 = 1 - b2^t.
 * OpenMP-parallel, elementwise, so deterministic for any thread count. */
void optim_adamw(float *p, const float *g, float *m, float *v, size_t n, float lr, float beta1,
                 float beta2, float eps, float wd, double bc1, double bc2);

/* Same update as an orphaned worksharing loop (`omp for nowait`): every thread of an enclosing parallel
 * region must call it with the same arguments. Lets a caller update many tensors in one parallel region. */
void optim_adamw_team(float *p, const float *g, float *m, float *v, size_t n, float lr, float beta1,
                      float beta2, float eps, float wd, double bc1, double bc2);

/* The Schedule-Free AdamW elementwise update (sf_adamw.c gives the formulas), per element j:
 *   v = b2 v + a2 g^2;  d = g / (sqrt(v / bc2) + eps) + wd y;  y = lerp(y, z, c) + ay d;  z = z - lr d
 * (wd = 0: no decay term; lerp is torch.lerp's two-branch formula). isa: LMC_ISA_* (kernels.h; the
 * optimizer passes lmc_isa_active(), tests force each form); AVX2 and AVX-512
 * give bitwise the scalar loop's results. OpenMP over 64-element blocks (deterministic). */
typedef struct optim_sf_args {
    float b2, a2, bc2, eps, wd, c, ay, lr;
} optim_sf_args;
void optim_sf_update(float *y, float *z, float *v, const float *g, size_t n, const optim_sf_args *a, int isa);

#endif
