/* Linear layers through cblas_sgemm. Weights are HF Conv1D [in, out]: out = inp @ w + b.
 * The bias is written first and the GEMM accumulates onto it (beta = 1), so bias costs one pass over
 * the output and no extra buffer; the residual variant accumulates onto the residual stream, fusing
 * the residual add into the GEMM. */
#include "kernels/cpu/kernels.h"
#include <cblas.h>
#include <string.h>

static void bias_bcast(float *out, const float *bias, size_t N, int OC, int add) {
#pragma omp parallel for schedule(static)
    for (size_t n = 0; n < N; n++) {
        float *o = out + n * (size_t)OC;
        if (add) {
            if (bias) for (int j = 0; j < OC; j++) o[j] += bias[j];
        } else if (bias) {
            memcpy(o, bias, (size_t)OC * sizeof(float));
        } else {
            memset(o, 0, (size_t)OC * sizeof(float));
        }
    }
}

void k_matmul_fwd(float *out, const float *inp, const float *w, const float *bias, size_t N, int C, int OC) {
    float beta = 0.0f;
    if (bias) { bias_bcast(out, bias, N, OC, 0); beta = 1.0f; }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)N, OC, C, 1.0f, inp, C, w, OC, beta, out, OC);
}

void k_matmul_fwd_acc(float *out, const float *inp, const float *w, const float *bias, size_t N, int C, int OC) {
    if (bias) bias_bcast(out, bias, N, OC, 1);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)N, OC, C, 1.0f, inp, C, w, OC, 1.0f, out, OC);
}

/* dbias[j] += sum_n dout[n, j]: parallel over column blocks, rows in order -> deterministic for any
 * thread count. */
static void bias_grad(float *dbias, const float *dout, size_t N, int OC) {
    const int CB = 64;
    int nblk = (OC + CB - 1) / CB;
#pragma omp parallel for schedule(static)
    for (int blk = 0; blk < nblk; blk++) {
        int j0 = blk * CB, j1 = j0 + CB < OC ? j0 + CB : OC;
        float acc[64];
        for (int j = j0; j < j1; j++) acc[j - j0] = 0.0f;
        for (size_t n = 0; n < N; n++) {
            const float *d = dout + n * (size_t)OC;
#pragma omp simd
            for (int j = j0; j < j1; j++) acc[j - j0] += d[j];
        }
        for (int j = j0; j < j1; j++) dbias[j] += acc[j - j0];
    }
}

static void matmul_bwd(float *dinp, float *dw, float *dbias, const float *dout, const float *inp,
                       const float *w, size_t N, int C, int OC, float beta_in) {
    if (dinp)  /* dinp[N,C] = dout[N,OC] @ w[C,OC]^T */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)N, C, OC, 1.0f, dout, OC, w, OC, beta_in, dinp, C);
    if (dw)    /* dw[C,OC] += inp[N,C]^T @ dout[N,OC] */
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, C, OC, (int)N, 1.0f, inp, C, dout, OC, 1.0f, dw, OC);
    if (dbias) bias_grad(dbias, dout, N, OC);
}

void k_matmul_bwd(float *dinp, float *dw, float *dbias, const float *dout, const float *inp,
                  const float *w, size_t N, int C, int OC) {
    matmul_bwd(dinp, dw, dbias, dout, inp, w, N, C, OC, 0.0f);
}

void k_matmul_bwd_acc(float *dinp, float *dw, float *dbias, const float *dout, const float *inp,
                      const float *w, size_t N, int C, int OC) {
    matmul_bwd(dinp, dw, dbias, dout, inp, w, N, C, OC, 1.0f);
}

void k_lmhead_fwd(float *logits, const float *x, const float *wte, size_t N, int C, int Vp) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)N, Vp, C, 1.0f, x, C, wte, C, 0.0f, logits, Vp);
}

void k_lmhead_bwd(float *dx, float *dwte, const float *dlogits, const float *x, const float *wte,
                  size_t N, int C, int Vp) {
    if (dx)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)N, C, Vp, 1.0f, dlogits, Vp, wte, C, 0.0f, dx, C);
    if (dwte)
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Vp, C, (int)N, 1.0f, dlogits, Vp, x, C, 1.0f, dwte, C);
}
