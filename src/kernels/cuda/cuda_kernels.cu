/* CUDA kernels: GELU, LayerNorm forward, AdamW. See cuda_kernels.h.
 * One thread per element for the elementwise ops; one warp per row for LayerNorm (rows of a few
 * thousand floats fit comfortably: each lane strides the row, then a shuffle reduction). */
#include "kernels/cuda/cuda_kernels.h"

#include <cuda_runtime.h>
#include <math.h>
#include <stdio.h>

#define GELU_SCALE 0.7978845608028654f /* sqrt(2/pi) */

__global__ static void gelu_fwd_kernel(float *out, const float *x, size_t n) {
    size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x;
    if (i >= n) return;
    float v = x[i], cube = 0.044715f * v * v * v;
    out[i] = 0.5f * v * (1.0f + tanhf(GELU_SCALE * (v + cube)));
}

__global__ static void gelu_bwd_kernel(float *dx, const float *x, const float *dout, size_t n) {
    size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x;
    if (i >= n) return;
    float v = x[i], cube = 0.044715f * v * v * v;
    float t = tanhf(GELU_SCALE * (v + cube));
    float sech2 = 1.0f - t * t;
    float local = 0.5f * (1.0f + t) + 0.5f * v * sech2 * GELU_SCALE * (1.0f + 3.0f * 0.044715f * v * v);
    dx[i] += local * dout[i];
}

__global__ static void layernorm_fwd_kernel(float *out, float *mean, float *rstd, const float *x,
                                            const float *w, const float *b, size_t rows, size_t C) {
    size_t row = blockIdx.x * (size_t)(blockDim.x / 32) + threadIdx.x / 32;
    int lane = threadIdx.x % 32;
    if (row >= rows) return;
    const float *xr = x + row * C;
    float s = 0.0f;
    for (size_t i = lane; i < C; i += 32) s += xr[i];
    for (int o = 16; o > 0; o /= 2) s += __shfl_xor_sync(0xffffffffu, s, o);
    float m = s / (float)C, q = 0.0f;
    for (size_t i = lane; i < C; i += 32) { float d = xr[i] - m; q += d * d; }
    for (int o = 16; o > 0; o /= 2) q += __shfl_xor_sync(0xffffffffu, q, o);
    float r = rsqrtf(q / (float)C + 1e-5f);
    float *orow = out + row * C;
    for (size_t i = lane; i < C; i += 32) orow[i] = (xr[i] - m) * r * w[i] + b[i];
    if (lane == 0) { mean[row] = m; rstd[row] = r; }
}

__global__ static void adamw_kernel(float *p, const float *g, float *m, float *v, size_t n, float lr, float b1,
                                    float b2, float eps, float wd, float bc1, float bc2) {
    size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x;
    if (i >= n) return;
    float gi = g[i];
    float mi = b1 * m[i] + (1.0f - b1) * gi, vi = b2 * v[i] + (1.0f - b2) * gi * gi;
    m[i] = mi;
    v[i] = vi;
    float pi = p[i] * (1.0f - lr * wd);
    p[i] = pi - lr * (mi / bc1) / (sqrtf(vi / bc2) + eps);
}

static int check(cudaError_t e, const char *what, lmc_err *err) {
    if (e == cudaSuccess) return 0;
    return lmc_errf(err, LMC_EIO, "CUDA %s failed: %s", what, cudaGetErrorString(e));
}

#define TRY(call, what) do { if (check((call), (what), err)) goto fail; } while (0)

extern "C" int lmc_cuda_available(char *name, size_t name_len, lmc_err *err) {
    int n = 0;
    cudaError_t e = cudaGetDeviceCount(&n);
    if (e != cudaSuccess || n == 0) {
        lmc_errf(err, LMC_ENOTFOUND, "no CUDA device: %s", e != cudaSuccess ? cudaGetErrorString(e) : "count is 0");
        return 0;
    }
    cudaDeviceProp prop;
    if (cudaGetDeviceProperties(&prop, 0) != cudaSuccess) return 0;
    if (name && name_len) snprintf(name, name_len, "%s (sm_%d%d)", prop.name, prop.major, prop.minor);
    return 1;
}

static unsigned blocks_for(size_t n, unsigned threads) { return (unsigned)((n + threads - 1) / threads); }

extern "C" int lmc_cuda_gelu_forward(float *out, const float *x, size_t n, lmc_err *err) {
    float *dx = NULL, *dout = NULL;
    int rc = LMC_EIO;
    TRY(cudaMalloc(&dx, n * sizeof(float)), "cudaMalloc");
    TRY(cudaMalloc(&dout, n * sizeof(float)), "cudaMalloc");
    TRY(cudaMemcpy(dx, x, n * sizeof(float), cudaMemcpyHostToDevice), "copy in");
    gelu_fwd_kernel<<<blocks_for(n, 256), 256>>>(dout, dx, n);
    TRY(cudaGetLastError(), "gelu_forward launch");
    TRY(cudaMemcpy(out, dout, n * sizeof(float), cudaMemcpyDeviceToHost), "copy out");
    rc = 0;
fail:
    cudaFree(dx);
    cudaFree(dout);
    return rc;
}

extern "C" int lmc_cuda_gelu_backward(float *dxh, const float *x, const float *dout, size_t n, lmc_err *err) {
    float *d_dx = NULL, *d_x = NULL, *d_dout = NULL;
    int rc = LMC_EIO;
    size_t bytes = n * sizeof(float);
    TRY(cudaMalloc(&d_dx, bytes), "cudaMalloc");
    TRY(cudaMalloc(&d_x, bytes), "cudaMalloc");
    TRY(cudaMalloc(&d_dout, bytes), "cudaMalloc");
    TRY(cudaMemcpy(d_dx, dxh, bytes, cudaMemcpyHostToDevice), "copy in");
    TRY(cudaMemcpy(d_x, x, bytes, cudaMemcpyHostToDevice), "copy in");
    TRY(cudaMemcpy(d_dout, dout, bytes, cudaMemcpyHostToDevice), "copy in");
    gelu_bwd_kernel<<<blocks_for(n, 256), 256>>>(d_dx, d_x, d_dout, n);
    TRY(cudaGetLastError(), "gelu_backward launch");
    TRY(cudaMemcpy(dxh, d_dx, bytes, cudaMemcpyDeviceToHost), "copy out");
    rc = 0;
fail:
    cudaFree(d_dx);
    cudaFree(d_x);
    cudaFree(d_dout);
    return rc;
}

extern "C" int lmc_cuda_layernorm_forward(float *out, float *mean, float *rstd, const float *x, const float *w,
                                          const float *b, size_t rows, size_t C, lmc_err *err) {
    float *d_out = NULL, *d_mean = NULL, *d_rstd = NULL, *d_x = NULL, *d_w = NULL, *d_b = NULL;
    int rc = LMC_EIO;
    size_t bytes = rows * C * sizeof(float);
    TRY(cudaMalloc(&d_out, bytes), "cudaMalloc");
    TRY(cudaMalloc(&d_x, bytes), "cudaMalloc");
    TRY(cudaMalloc(&d_mean, rows * sizeof(float)), "cudaMalloc");
    TRY(cudaMalloc(&d_rstd, rows * sizeof(float)), "cudaMalloc");
    TRY(cudaMalloc(&d_w, C * sizeof(float)), "cudaMalloc");
    TRY(cudaMalloc(&d_b, C * sizeof(float)), "cudaMalloc");
    TRY(cudaMemcpy(d_x, x, bytes, cudaMemcpyHostToDevice), "copy in");
    TRY(cudaMemcpy(d_w, w, C * sizeof(float), cudaMemcpyHostToDevice), "copy in");
    TRY(cudaMemcpy(d_b, b, C * sizeof(float), cudaMemcpyHostToDevice), "copy in");
    layernorm_fwd_kernel<<<blocks_for(rows, 8), 256>>>(d_out, d_mean, d_rstd, d_x, d_w, d_b, rows, C);
    TRY(cudaGetLastError(), "layernorm_forward launch");
    TRY(cudaMemcpy(out, d_out, bytes, cudaMemcpyDeviceToHost), "copy out");
    TRY(cudaMemcpy(mean, d_mean, rows * sizeof(float), cudaMemcpyDeviceToHost), "copy out");
    TRY(cudaMemcpy(rstd, d_rstd, rows * sizeof(float), cudaMemcpyDeviceToHost), "copy out");
    rc = 0;
fail:
    cudaFree(d_out); cudaFree(d_x); cudaFree(d_mean); cudaFree(d_rstd); cudaFree(d_w); cudaFree(d_b);
    return rc;
}

extern "C" int lmc_cuda_adamw(float *param, const float *grad, float *m, float *v, size_t n, float lr, float beta1,
                              float beta2, float eps, float weight_decay, int step, lmc_err *err) {
    float *d_p = NULL, *d_g = NULL, *d_m = NULL, *d_v = NULL;
    int rc = LMC_EIO;
    size_t bytes = n * sizeof(float);
    float bc1 = 1.0f - powf(beta1, (float)step), bc2 = 1.0f - powf(beta2, (float)step);
    TRY(cudaMalloc(&d_p, bytes), "cudaMalloc");
    TRY(cudaMalloc(&d_g, bytes), "cudaMalloc");
    TRY(cudaMalloc(&d_m, bytes), "cudaMalloc");
    TRY(cudaMalloc(&d_v, bytes), "cudaMalloc");
    TRY(cudaMemcpy(d_p, param, bytes, cudaMemcpyHostToDevice), "copy in");
    TRY(cudaMemcpy(d_g, grad, bytes, cudaMemcpyHostToDevice), "copy in");
    TRY(cudaMemcpy(d_m, m, bytes, cudaMemcpyHostToDevice), "copy in");
    TRY(cudaMemcpy(d_v, v, bytes, cudaMemcpyHostToDevice), "copy in");
    adamw_kernel<<<blocks_for(n, 256), 256>>>(d_p, d_g, d_m, d_v, n, lr, beta1, beta2, eps, weight_decay, bc1, bc2);
    TRY(cudaGetLastError(), "adamw launch");
    TRY(cudaMemcpy(param, d_p, bytes, cudaMemcpyDeviceToHost), "copy out");
    TRY(cudaMemcpy(m, d_m, bytes, cudaMemcpyDeviceToHost), "copy out");
    TRY(cudaMemcpy(v, d_v, bytes, cudaMemcpyDeviceToHost), "copy out");
    rc = 0;
fail:
    cudaFree(d_p); cudaFree(d_g); cudaFree(d_m); cudaFree(d_v);
    return rc;
}
