/* Linear layers through cblas_sgemm. Weights are HF Conv1D [in, out]: out = inp @ w + b.
 * The bias is written first and the GEMM accumulates onto it (beta = 1), so bias costs one pass over
 * the output and no extra buffer; the residual variant accumulates onto the residual stream, fusing
 * the residual add into the GEMM. */
#include "kernels/cpu/kernels.h"
#include "kernels/cpu/blas_threads.h"
#include <cblas.h>
#include <omp.h>
#include <string.h>

enum { INIT_NONE, INIT_SET, INIT_ADD };

/* Initialise C[r0:r1, c0:c1]: SET -> x0 (or 0) + bias (or 0); ADD -> C += bias. */
static void init_block(float *C, int ldc, int r0, int r1, int c0, int c1, const float *x0, int ldx,
                       const float *bias, int mode) {
    for (int r = r0; r < r1; r++) {
        float *c = C + (size_t)r * ldc;
        const float *x = x0 ? x0 + (size_t)r * ldx : NULL;
        if (mode == INIT_ADD) {
#pragma omp simd
            for (int j = c0; j < c1; j++) c[j] += bias[j];
        } else if (x && bias) {
#pragma omp simd
            for (int j = c0; j < c1; j++) c[j] = x[j] + bias[j];
        } else if (x) {
            memcpy(c + c0, x + c0, (size_t)(c1 - c0) * sizeof(float));
        } else if (bias) {
            memcpy(c + c0, bias + c0, (size_t)(c1 - c0) * sizeof(float));
        } else {
            memset(c + c0, 0, (size_t)(c1 - c0) * sizeof(float));
        }
    }
}

/* Row-major C[M,N] = alpha op(A)[M,K] op(B)[K,N] + beta C, split across the OpenMP threads by rows or
 * columns (whichever is larger, in multiples of 64), each part a single-threaded BLAS call. One thread
 * pool (OpenMP) serves both the GEMMs and our own kernels: a second pool (OpenBLAS's pthreads) spinning
 * after each GEMM would steal the cores our kernels run on. With an init mode each thread first
 * initialises its own part of C (bias / residual), in the same parallel region and while it is hot. */
static void gemm_split(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda, const float *B,
                       int ldb, float beta, float *C, int ldc, const float *x0, int ldx, const float *bias, int mode) {
    k_threads_init_once();
    if (mode != INIT_NONE) beta = 1.0f;
    const enum CBLAS_TRANSPOSE TA = ta ? CblasTrans : CblasNoTrans, TB = tb ? CblasTrans : CblasNoTrans;
    int nt = omp_get_max_threads();
    double work = (double)M * N * K;
    if (nt <= 1 || work < 4e6 || omp_in_parallel()) {
        if (mode != INIT_NONE) init_block(C, ldc, 0, M, 0, N, x0, ldx, bias, mode);
        cblas_sgemm(CblasRowMajor, TA, TB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
        return;
    }
    /* Up to 4 parts per thread (each at least 256 rows/columns), handed out dynamically: on a shared
     * machine a thread whose core is busy with another process does fewer parts instead of stalling the
     * whole GEMM. Each part is one fixed BLAS call, so results do not depend on who computes it. */
    int split_m = M >= N;
    int len = split_m ? M : N;
    int want = len / 256;
    if (want > 4 * nt) want = 4 * nt;
    if (want < nt) want = nt;
    int chunk = (len + want - 1) / want;
    chunk = (chunk + 63) / 64 * 64;
    int nparts = (len + chunk - 1) / chunk;
    int nthr = nparts < nt ? nparts : nt;
#pragma omp parallel for schedule(dynamic, 1) num_threads(nthr)
    for (int p = 0; p < nparts; p++) {
        int s0 = p * chunk, n = len - s0 < chunk ? len - s0 : chunk;
        if (split_m) {
            if (mode != INIT_NONE) init_block(C, ldc, s0, s0 + n, 0, N, x0, ldx, bias, mode);
            const float *a = ta ? A + s0 : A + (size_t)s0 * lda;
            cblas_sgemm(CblasRowMajor, TA, TB, n, N, K, alpha, a, lda, B, ldb, beta, C + (size_t)s0 * ldc, ldc);
        } else {
            if (mode != INIT_NONE) init_block(C, ldc, 0, M, s0, s0 + n, x0, ldx, bias, mode);
            const float *b = tb ? B + (size_t)s0 * ldb : B + s0;
            cblas_sgemm(CblasRowMajor, TA, TB, M, n, K, alpha, A, lda, b, ldb, beta, C + s0, ldc);
        }
    }
}

void k_gemm(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda, const float *B, int ldb,
            float beta, float *C, int ldc) {
    gemm_split(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, NULL, 0, NULL, INIT_NONE);
}

void k_matmul_fwd(float *out, const float *inp, const float *w, const float *bias, size_t N, int C, int OC) {
    gemm_split(0, 0, (int)N, OC, C, 1.0f, inp, C, w, OC, 0.0f, out, OC, NULL, 0, bias, bias ? INIT_SET : INIT_NONE);
}

void k_matmul_fwd_acc(float *out, const float *inp, const float *w, const float *bias, size_t N, int C, int OC) {
    gemm_split(0, 0, (int)N, OC, C, 1.0f, inp, C, w, OC, 1.0f, out, OC, NULL, 0, bias, bias ? INIT_ADD : INIT_NONE);
}

void k_matmul_fwd_res(float *out, const float *resid, const float *inp, const float *w, const float *bias,
                      size_t N, int C, int OC) {
    gemm_split(0, 0, (int)N, OC, C, 1.0f, inp, C, w, OC, 1.0f, out, OC, resid, OC, bias, INIT_SET);
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
        k_gemm(0, 1, (int)N, C, OC, 1.0f, dout, OC, w, OC, beta_in, dinp, C);
    if (dw)    /* dw[C,OC] += inp[N,C]^T @ dout[N,OC] */
        k_gemm(1, 0, C, OC, (int)N, 1.0f, inp, C, dout, OC, 1.0f, dw, OC);
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
    k_gemm(0, 1, (int)N, Vp, C, 1.0f, x, C, wte, C, 0.0f, logits, Vp);
}

void k_lmhead_bwd(float *dx, float *dwte, const float *dlogits, const float *x, const float *wte,
                  size_t N, int C, int Vp) {
    if (dx)
        k_gemm(0, 0, (int)N, C, Vp, 1.0f, dlogits, Vp, wte, C, 0.0f, dx, C);
    if (dwte)
        k_gemm(1, 0, Vp, C, (int)N, 1.0f, dlogits, Vp, x, C, 1.0f, dwte, C);
}
