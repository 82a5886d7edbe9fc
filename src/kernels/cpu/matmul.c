/* Linear layers on top of the GEMM layer. Weights are HF Conv1D [in, out]: out = inp @ w + b.
 * The bias is written first and the GEMM accumulates onto it (beta = 1), so bias costs one pass over
 * the output and no extra buffer; the residual variant accumulates onto the residual stream, fusing
 * the residual add into the GEMM.
 *
 * Backends (chosen per call): oneDNN's matmul primitive when lmc is built with it (the default; fp32 or,
 * in bf16 mode, bf16 inputs), otherwise BLAS split over lmc's OpenMP threads. LMC_GEMM=blas in the
 * environment forces the BLAS path in fp32 (for benchmarks). */
#include "kernels/cpu/kernels.h"
#include "kernels/cpu/blas_threads.h"
#include "kernels/cpu/gemm.h"
#include "base/progress.h"
#include <cblas.h>
#include <omp.h>
#ifdef LMC_HAVE_DNNL
#include <oneapi/dnnl/dnnl.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Initialise C[r0:r1, c0:c1]: SET -> x0 (or 0) + bias (or 0); ADD -> C += bias. */
static void init_block(float *C, int ldc, int r0, int r1, int c0, int c1, const k_init *in) {
    const float *bias = in->bias;
    for (int r = r0; r < r1; r++) {
        float *c = C + (size_t)r * ldc;
        const float *x = in->x0 ? in->x0 + (size_t)r * in->ldx : NULL;
        if (in->mode == K_INIT_ADD) {
            if (!bias) continue;
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
                       int ldb, float beta, float *C, int ldc, const k_init *in) {
    k_threads_init_once();
    int mode = in ? in->mode : K_INIT_NONE;
    if (mode != K_INIT_NONE) beta = 1.0f;
    const enum CBLAS_TRANSPOSE TA = ta ? CblasTrans : CblasNoTrans, TB = tb ? CblasTrans : CblasNoTrans;
    int nt = omp_get_max_threads();
    double work = (double)M * N * K;
    if (nt <= 1 || work < 4e6 || omp_in_parallel()) {
        if (mode != K_INIT_NONE) init_block(C, ldc, 0, M, 0, N, in);
        if (!omp_in_parallel()) k_note_thread(1);
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
#pragma omp parallel num_threads(nthr)
    {
        k_note_thread(1);
#pragma omp for schedule(dynamic, 1)
        for (int p = 0; p < nparts; p++) {
            int s0 = p * chunk, n = len - s0 < chunk ? len - s0 : chunk;
            if (split_m) {
                if (mode != K_INIT_NONE) init_block(C, ldc, s0, s0 + n, 0, N, in);
                const float *a = ta ? A + s0 : A + (size_t)s0 * lda;
                cblas_sgemm(CblasRowMajor, TA, TB, n, N, K, alpha, a, lda, B, ldb, beta, C + (size_t)s0 * ldc, ldc);
            } else {
                if (mode != K_INIT_NONE) init_block(C, ldc, 0, M, s0, s0 + n, in);
                const float *b = tb ? B + (size_t)s0 * ldb : B + s0;
                cblas_sgemm(CblasRowMajor, TA, TB, M, n, K, alpha, A, lda, b, ldb, beta, C + s0, ldc);
            }
        }
    }
}

static int force_blas_v = -1;
static int force_blas(void) {
    if (force_blas_v < 0) {
        const char *e = getenv("LMC_GEMM");
        force_blas_v = e && !strcmp(e, "blas");
    }
    return force_blas_v;
}
void k_gemm_force_blas(int on) { force_blas_v = on; }

/* bf16 weights packed in oneDNN's preferred layout (default on; LMC_GEMM_PACKED=0 turns it off, for
 * comparisons). */
static int packed_v = -1;
static int packed_weights(void) {
    if (packed_v < 0) {
        const char *e = getenv("LMC_GEMM_PACKED");
        packed_v = !(e && !strcmp(e, "0"));
    }
    return packed_v;
}
void k_gemm_packed_weights(int on) { packed_v = on; }

/* bf16 copy of an operand: stored rows x cols (rows = K or M/N depending on the transpose). */
static const uint16_t *to_bf16(k_opnd o, int rows, int cols, int slot, int *ld16) {
    *ld16 = cols;
    if (o.h) return o.h;
    if (o.weight) return k_bf16_weight(o.f, rows, cols, o.ld);
    uint16_t *s = k_bf16_scratch(slot, (size_t)rows * cols);
    if (s) k_f32_to_bf16_rows(s, o.f, rows, cols, o.ld);
    return s;
}

/* An operand given only as its bf16 copy, for the fp32 routes (BLAS, or oneDNN when bf16 is off):
 * widened into a temporary fp32 array (NULL when there was nothing to widen). */
static float *widen(k_opnd *o, int rows, int cols) {
    if (o->f || !o->h) return NULL;
    float *f = (float *)malloc((size_t)rows * cols * sizeof(float));
    if (!f) {
        fprintf(stderr, "lmc: out of memory widening a %d x %d bf16 GEMM operand to fp32\n", rows, cols);
        abort();   /* a GEMM has no error return; this route only runs when bf16 GEMMs are unavailable */
    }
    k_bf16_to_f32(f, o->h, (size_t)rows * cols);
    o->f = f;
    o->ld = cols;
    return f;
}

static void gemm_fp32(int ta, int tb, int M, int N, int K, float alpha, k_opnd A, k_opnd B, float beta, float *C,
                      int ldc, const k_init *in) {
    float *wa = widen(&A, ta ? K : M, ta ? M : K), *wb = widen(&B, tb ? N : K, tb ? K : N);
    gemm_split(ta, tb, M, N, K, alpha, A.f, A.ld, B.f, B.ld, beta, C, ldc, in);
    free(wa);
    free(wb);
}

#ifdef LMC_HAVE_DNNL
static void init_rows(float *C, int ldc, int M, int N, const k_init *in) {
#pragma omp parallel for schedule(static) if ((size_t)M * N > 16384)
    for (int r = 0; r < M; r++) init_block(C, ldc, r, r + 1, 0, N, in);
}
#endif

/* bf16: 1 = bf16 GEMMs in oneDNN (hardware bf16 mode), 0 = fp32 GEMMs. */
static void gemm_run(int bf16, int ta, int tb, int M, int N, int K, float alpha, k_opnd A, k_opnd B, float beta,
                     float *C, int ldc, const k_init *in) {
#ifdef LMC_HAVE_DNNL
    int inpar = omp_in_parallel();
    if (!inpar && (bf16 || !force_blas())) {
        k_threads_init_once();
        /* A bias / residual init goes into oneDNN's epilogue (C written once) when alpha is 1; otherwise
         * C is initialised first and the GEMM accumulates onto it (beta 1). */
        const int init = in && in->mode != K_INIT_NONE, fused = init && alpha == 1.0f;
        const float beta_acc = init ? 1.0f : beta;
        k_epilogue ep = {NULL, NULL, 0};
        if (fused) {
            ep.bias = in->bias;
            if (in->mode == K_INIT_SET) { ep.x0 = in->x0; ep.ldx = in->ldx; }
        }
        const k_epilogue *epp = fused ? &ep : NULL;
        const float beta_d = fused ? (in->mode == K_INIT_SET ? 0.0f : 1.0f) : beta_acc;
        if (init && !fused) init_rows(C, ldc, M, N, in);
        int rc = -1;
        if (bf16) {
            int la, lb;
            const uint16_t *a16 = to_bf16(A, ta ? K : M, ta ? M : K, 0, &la);
            if (a16 && B.weight && !B.h && packed_weights())
                rc = k_dnnl_gemm_wpacked(ta, tb, M, N, K, alpha, a16, la, B.f, B.ld, beta_d, C, ldc, epp);
            if (rc && a16) {
                const uint16_t *b16 = to_bf16(B, tb ? N : K, tb ? K : N, 1, &lb);
                if (b16) rc = k_dnnl_gemm(ta, tb, M, N, K, alpha, NULL, a16, la, NULL, b16, lb, beta_d, C, ldc, epp);
            }
        } else if (A.f && B.f) {
            rc = k_dnnl_gemm(ta, tb, M, N, K, alpha, A.f, NULL, A.ld, B.f, NULL, B.ld, beta_d, C, ldc, epp);
        }
        if (rc == 0) {
            /* oneDNN's OpenMP runtime runs a GEMM on omp_get_max_threads() threads when called outside a
             * parallel region: exactly the count the thread bug used to break. */
            k_note_gemm_team(omp_get_max_threads());
            return;
        }
        /* oneDNN could not run this shape (or is out of memory): BLAS in fp32 gives the same result up
         * to rounding, on C initialised here (unless it already was). */
        if (fused) init_rows(C, ldc, M, N, in);
        gemm_fp32(ta, tb, M, N, K, alpha, A, B, beta_acc, C, ldc, NULL);
        return;
    }
#else
    (void)bf16;
#endif
    gemm_fp32(ta, tb, M, N, K, alpha, A, B, beta, C, ldc, in);
}

void k_gemm_run(int ta, int tb, int M, int N, int K, float alpha, k_opnd A, k_opnd B, float beta, float *C,
                int ldc, const k_init *in) {
    float *wa = NULL, *wb = NULL;
    int bf16 = k_bf16_active();
    /* (inside a parallel region gemm_run takes the fp32 path in either mode: the bf16 scratch is shared) */
    if (bf16 && lmc_kernels_bf16_emulated() && !omp_in_parallel()) {
        /* emulated bf16 (LMC_BF16_EMULATE): the operands' bf16 copies, made exactly as for a hardware bf16
         * GEMM (weight cache, shared gradients, scratch rounding), widened back to fp32 for an fp32 GEMM */
        int la, lb;
        const uint16_t *a16 = to_bf16(A, ta ? K : M, ta ? M : K, 0, &la);
        const uint16_t *b16 = to_bf16(B, tb ? N : K, tb ? K : N, 1, &lb);
        if (a16 && b16) {
            A = (k_opnd){NULL, a16, la, 0};
            B = (k_opnd){NULL, b16, lb, 0};
        }
        bf16 = 0;
    }
    /* fp32 GEMMs: a bf16-only operand is widened up front, so it takes the same backend as any other */
    if (!bf16) {
        wa = widen(&A, ta ? K : M, ta ? M : K);
        wb = widen(&B, tb ? N : K, tb ? K : N);
    }
    gemm_run(bf16, ta, tb, M, N, K, alpha, A, B, beta, C, ldc, in);
    free(wa);
    free(wb);
}

void k_sgemm_1t(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda, const float *B, int ldb,
                float beta, float *C, int ldc) {
#ifdef LMC_HAVE_DNNL
    if (!force_blas() &&
        dnnl_sgemm(ta ? 'T' : 'N', tb ? 'T' : 'N', M, N, K, alpha, A, lda, B, ldb, beta, C, ldc) == dnnl_success)
        return;
#endif
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, M, N, K, alpha, A, lda,
                B, ldb, beta, C, ldc);
}

const char *lmc_kernels_gemm_backend(void) {
    if (lmc_kernels_bf16_emulated()) {
        static char buf[160];
#ifdef LMC_HAVE_DNNL
        const char *fp = force_blas() ? "BLAS sgemm" : k_dnnl_describe();
#else
        const char *fp = "BLAS sgemm";
#endif
        snprintf(buf, sizeof buf, "bf16 emulated (LMC_BF16_EMULATE: inputs rounded to bf16, fp32 GEMMs in %s)", fp);
        return buf;
    }
#ifdef LMC_HAVE_DNNL
    if (!force_blas() || k_bf16_active()) return k_dnnl_describe();
#endif
#ifdef LMC_BLAS_BLIS
    return "BLIS sgemm, split over lmc's OpenMP threads";
#else
    return "OpenBLAS sgemm, split over lmc's OpenMP threads";
#endif
}

static k_opnd act(const float *p, int ld) { return (k_opnd){p, NULL, ld, 0}; }
static k_opnd wgt(const float *p, int ld) { return (k_opnd){p, NULL, ld, 1}; }

void k_gemm(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda, const float *B, int ldb,
            float beta, float *C, int ldc) {
    k_gemm_run(ta, tb, M, N, K, alpha, act(A, lda), act(B, ldb), beta, C, ldc, NULL);
}

void k_matmul_fwd(float *out, const float *inp, const float *w, const float *bias, size_t N, int C, int OC) {
    k_init in = {K_INIT_SET, NULL, 0, bias};
    k_gemm_run(0, 0, (int)N, OC, C, 1.0f, act(inp, C), wgt(w, OC), 0.0f, out, OC, bias ? &in : NULL);
}

void k_matmul_fwd_acc(float *out, const float *inp, const float *w, const float *bias, size_t N, int C, int OC) {
    k_init in = {K_INIT_ADD, NULL, 0, bias};
    k_gemm_run(0, 0, (int)N, OC, C, 1.0f, act(inp, C), wgt(w, OC), 1.0f, out, OC, bias ? &in : NULL);
}

void k_matmul_fwd_res(float *out, const float *resid, const float *inp, const float *w, const float *bias,
                      size_t N, int C, int OC) {
    k_init in = {K_INIT_SET, resid, OC, bias};
    k_gemm_run(0, 0, (int)N, OC, C, 1.0f, act(inp, C), wgt(w, OC), 1.0f, out, OC, &in);
}

void k_matmul_fwd_bf16in(float *out, const float *resid, const uint16_t *inp16, const float *w, const float *bias,
                         size_t N, int C, int OC) {
    k_init in = {K_INIT_SET, resid, OC, bias};
    k_gemm_run(0, 0, (int)N, OC, C, 1.0f, (k_opnd){NULL, inp16, C, 0}, wgt(w, OC), resid ? 1.0f : 0.0f, out, OC,
               resid || bias ? &in : NULL);
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

/* In bf16 mode the gradient dout feeds two GEMMs (dinp and dw): it is rounded once and shared. */
static k_opnd shared_grad(const float *dout, size_t N, int OC) {
    k_opnd g = act(dout, OC);
    if (k_bf16_active() && !omp_in_parallel()) {
        uint16_t *h = k_bf16_scratch(2, N * (size_t)OC);
        if (h) { k_f32_to_bf16_rows(h, dout, (int)N, OC, OC); g.h = h; }
    }
    return g;
}

static void matmul_bwd(float *dinp, float *dw, float *dbias, const float *dout, k_opnd inp,
                       const float *w, size_t N, int C, int OC, float beta_in) {
    k_opnd g = shared_grad(dout, N, OC);
    if (dinp)  /* dinp[N,C] = dout[N,OC] @ w[C,OC]^T */
        k_gemm_run(0, 1, (int)N, C, OC, 1.0f, g, wgt(w, OC), beta_in, dinp, C, NULL);
    if (dw)    /* dw[C,OC] += inp[N,C]^T @ dout[N,OC] */
        k_gemm_run(1, 0, C, OC, (int)N, 1.0f, inp, g, 1.0f, dw, OC, NULL);
    if (dbias) bias_grad(dbias, dout, N, OC);
}

void k_matmul_bwd(float *dinp, float *dw, float *dbias, const float *dout, const float *inp,
                  const float *w, size_t N, int C, int OC) {
    matmul_bwd(dinp, dw, dbias, dout, act(inp, C), w, N, C, OC, 0.0f);
}

void k_matmul_bwd_bf16in(float *dinp, float *dw, float *dbias, const float *dout, const uint16_t *inp16,
                         const float *w, size_t N, int C, int OC) {
    matmul_bwd(dinp, dw, dbias, dout, (k_opnd){NULL, inp16, C, 0}, w, N, C, OC, 0.0f);
}

void k_matmul_bwd_acc(float *dinp, float *dw, float *dbias, const float *dout, const float *inp,
                      const float *w, size_t N, int C, int OC) {
    matmul_bwd(dinp, dw, dbias, dout, act(inp, C), w, N, C, OC, 1.0f);
}

void k_lmhead_fwd(float *logits, const float *x, const float *wte, size_t N, int C, int Vp) {
    k_gemm_run(0, 1, (int)N, Vp, C, 1.0f, act(x, C), wgt(wte, C), 0.0f, logits, Vp, NULL);
}

void k_lmhead_bwd(float *dx, float *dwte, const float *dlogits, const float *x, const float *wte,
                  size_t N, int C, int Vp) {
    k_opnd g = shared_grad(dlogits, N, Vp);
    if (dx)
        k_gemm_run(0, 0, (int)N, C, Vp, 1.0f, g, wgt(wte, C), 0.0f, dx, C, NULL);
    if (dwte)
        k_gemm_run(1, 0, Vp, C, (int)N, 1.0f, g, act(x, C), 1.0f, dwte, C, NULL);
}

double lmc_kernels_gemm_peak(int n, double seconds) {
    size_t nn = (size_t)n * (size_t)n;
    float *a = malloc(nn * sizeof(float)), *b = malloc(nn * sizeof(float)), *c = malloc(nn * sizeof(float));
    uint16_t *a16 = malloc(nn * 2), *b16 = malloc(nn * 2);
    double flops = 0;
    if (a && b && c && a16 && b16) {
        for (size_t i = 0; i < nn; i++) a[i] = b[i] = (float)(i % 7) * 0.01f;
        k_f32_to_bf16(a16, a, nn);
        k_f32_to_bf16(b16, b, nn);
        int h = k_bf16_active();
        k_opnd A = {a, h ? a16 : NULL, n, 0}, B = {b, h ? b16 : NULL, n, 0};
        k_gemm_run(0, 0, n, n, n, 1.0f, A, B, 0.0f, c, n, NULL);   /* warm-up: threads, primitive creation */
        /* Best single call: a burst of load from other processes slows some calls, but the fastest one
         * is still close to what the machine can do. */
        double best = 1e30, t0 = lmc_now();
        do {
            double t1 = lmc_now();
            k_gemm_run(0, 0, n, n, n, 1.0f, A, B, 0.0f, c, n, NULL);
            double dt = lmc_now() - t1;
            if (dt < best) best = dt;
        } while (lmc_now() - t0 < seconds);
        flops = 2.0 * n * (double)n * n / best;
    }
    free(a); free(b); free(c); free(a16); free(b16);
    return flops;
}
