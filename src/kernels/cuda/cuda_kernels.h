/* The CUDA backend's kernel interface (built only when nvcc is found; see CMakeLists.txt).
 *
 * Host-callable C functions over host arrays: each copies in, runs the kernel, copies out. They are
 * the per-op building blocks, each checked against the CPU reference by tests/kernels/test_cuda_ops.c
 * (skipped on machines without a GPU). A device-resident training step builds on the same kernels.
 *
 * All functions return 0 on success, or an lmc error code with err filled (no device, launch error). */
#ifndef LMC_KERNELS_CUDA_H
#define LMC_KERNELS_CUDA_H

#include <stddef.h>
#include "base/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* 1 if a CUDA device is usable, 0 otherwise (with the reason in err). Writes the device name. */
int lmc_cuda_available(char *name, size_t name_len, lmc_err *err);

/* GELU, tanh approximation (GPT-2's "gelu_new"): out[i] = gelu(x[i]). */
int lmc_cuda_gelu_forward(float *out, const float *x, size_t n, lmc_err *err);
/* dx[i] += dout[i] * gelu'(x[i]). */
int lmc_cuda_gelu_backward(float *dx, const float *x, const float *dout, size_t n, lmc_err *err);

/* LayerNorm over rows of width C (eps 1e-5): out = (x - mean) * rstd * w + b; mean/rstd saved per row. */
int lmc_cuda_layernorm_forward(float *out, float *mean, float *rstd, const float *x, const float *w,
                               const float *b, size_t rows, size_t C, lmc_err *err);

/* AdamW step in place (PyTorch semantics: decoupled decay p -= lr*wd*p, bias-corrected moments). */
int lmc_cuda_adamw(float *param, const float *grad, float *m, float *v, size_t n, float lr, float beta1,
                   float beta2, float eps, float weight_decay, int step, lmc_err *err);

#ifdef __cplusplus
}
#endif
#endif
