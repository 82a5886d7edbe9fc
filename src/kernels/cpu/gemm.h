/* Internal: the GEMM layer behind k_gemm / k_matmul_* / k_lmhead_*.
 *
 * One call shape for every backend: C[M,N] = alpha op(A) op(B) + beta C, row major, where each operand
 * is described by a k_opnd. In bf16 mode an operand is used through a bf16 copy: a weight's copy comes
 * from the weight cache (converted once per optimizer step), any other operand is rounded into scratch
 * (or a caller passes an already converted copy in `h` to share it between two GEMMs). */
#ifndef LMC_KERNELS_CPU_GEMM_H
#define LMC_KERNELS_CPU_GEMM_H
#include <stddef.h>
#include <stdint.h>

typedef struct k_opnd {
    const float *f;      /* fp32 data, row major with leading dimension ld */
    const uint16_t *h;   /* optional bf16 copy of the same rows (dense, leading dimension = columns) */
    int ld;
    int weight;          /* 1: a parameter (its bf16 copy may be cached until lmc_kernels_weights_changed) */
} k_opnd;

/* Initialise C before the GEMM accumulates onto it (fuses bias and residual adds). */
enum { K_INIT_NONE, K_INIT_SET, K_INIT_ADD };
typedef struct k_init {
    int mode;            /* SET: C = x0 (or 0) + bias (or 0); ADD: C += bias */
    const float *x0;     /* residual [M, ldx] or NULL */
    int ldx;
    const float *bias;   /* [N] or NULL */
} k_init;

void k_gemm_run(int ta, int tb, int M, int N, int K, float alpha, k_opnd A, k_opnd B, float beta, float *C,
                int ldc, const k_init *init);

/* A single-threaded row-major sgemm for use inside our parallel regions (attention's per-head blocks):
 * oneDNN's JIT sgemm when built with it (it runs sequentially inside an OpenMP region), else BLAS. */
void k_sgemm_1t(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda, const float *B, int ldb,
                float beta, float *C, int ldc);

/* Benchmarks: 1 = fp32 GEMMs through BLAS even when oneDNN is built in (as LMC_GEMM=blas does). */
void k_gemm_force_blas(int on);
/* Benchmarks/tests: 0 = bf16 weights passed in plain layout instead of oneDNN's packed one. */
void k_gemm_packed_weights(int on);

/* bf16 helpers (bf16.c). Round to nearest even, as vcvtneps2bf16 does. */
void k_f32_to_bf16(uint16_t *dst, const float *src, size_t n);
/* bf16 -> fp32 (exact). */
void k_bf16_to_f32(float *dst, const uint16_t *src, size_t n);
/* k_f32_to_bf16_rows: in kernels.h */
/* The bf16 copy of a weight block (rows x cols, leading dimension ld), cached until the weights change. */
const uint16_t *k_bf16_weight(const float *w, int rows, int cols, int ld);
/* Scratch for converted activations: slot 0..2, grown as needed; NULL when out of memory. */
uint16_t *k_bf16_scratch(int slot, size_t n);
int k_bf16_active(void);
unsigned long k_weights_generation(void);   /* bumped by lmc_kernels_weights_changed */

/* Added to the GEMM's result in its epilogue (oneDNN): C = op(A) op(B) + bias [+ beta C] + x0. */
typedef struct k_epilogue {
    const float *bias;   /* [N] or NULL */
    const float *x0;     /* [M, ldx] or NULL */
    int ldx;
} k_epilogue;

/* oneDNN backend (gemm_onednn.c; only with LMC_HAVE_DNNL). Returns 0 on success; nonzero means the
 * caller must fall back to BLAS (fp32 only). Inputs in bf16 when a16/b16 are given. ep may be NULL. */
int k_dnnl_gemm(int ta, int tb, int M, int N, int K, float alpha, const float *A, const uint16_t *A16, int lda,
                const float *B, const uint16_t *B16, int ldb, float beta, float *C, int ldc, const k_epilogue *ep);
/* bf16 with B a weight (fp32 W, K x N, or N x K when tb): W is kept packed in the primitive's preferred
 * layout, repacked once per weight generation. */
int k_dnnl_gemm_wpacked(int ta, int tb, int M, int N, int K, float alpha, const uint16_t *A16, int lda,
                        const float *W, int ldw, float beta, float *C, int ldc, const k_epilogue *ep);
const char *k_dnnl_describe(void);
int k_dnnl_bf16_fast(void);   /* oneDNN runs bf16 with AVX512_BF16 or AMX on this CPU */
#endif
