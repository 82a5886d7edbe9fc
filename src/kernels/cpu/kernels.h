/* CPU compute kernels behind the GPT-2 layers (fp32). Each layer has a forward and a backward;
 * backward kernels ACCUMULATE (+=) into parameter gradients and into the gradient of their input
 * unless the comment says "overwrites". Shapes: N = rows (B*T), C = channels.
 * Weights use HF Conv1D layout [in, out]: out = inp @ w + b.
 *
 * Parallelism: OpenMP inside each kernel, GEMMs through cblas_sgemm. For a fixed thread count every
 * kernel is bitwise deterministic (reductions have a fixed order; no atomics on floats).
 *
 * A bf16 path slots in beside these: same signatures with bf16 activations/weights (suffix _bf16),
 * fp32 accumulation and fp32 master weights; the model picks the table of kernels at create time.
 *
 * Plain reference versions of the fused/optimised kernels live in kernels/cpu/ref.h (tests only). */
#ifndef LMC_KERNELS_CPU_KERNELS_H
#define LMC_KERNELS_CPU_KERNELS_H

#include <stddef.h>
#include <stdint.h>
#include "base/error.h"

/* Threads for both OpenMP kernels and BLAS (n <= 0: all cores). */
void lmc_kernels_set_threads(int n);
int lmc_kernels_get_threads(void);
/* What idle OpenMP threads do, for logs: lmc sets GOMP_SPINCOUNT=1000 before libgomp starts unless
 * OMP_WAIT_POLICY or GOMP_SPINCOUNT is set (threads.c says why). */
const char *lmc_kernels_omp_wait(void);
/* How the loaded BLAS library threads (read from the library at run time), for logs. */
const char *lmc_kernels_blas_threading(void);
/* Functional thread check (tests, logs): how many distinct OpenMP threads ran GEMM parts and other
 * kernels' parallel regions since the last reset. */
void lmc_kernels_thread_stats_reset(void);
void lmc_kernels_thread_stats(int *gemm_threads, int *kernel_threads);

/* CPU features that decide the GEMM precision and the vector kernels' width (CPUID + what the OS
 * saves). LMC_CPU_DISABLE=avx2,avx512f,avx512_bf16,amx_bf16 hides any of them. */
typedef struct lmc_cpu_features {
    int avx2, fma, avx512f, avx512_bf16, amx_bf16, amx_tile;
} lmc_cpu_features;
lmc_cpu_features lmc_cpu_detect(void);
int lmc_cpu_has_bf16(const lmc_cpu_features *f);   /* AVX512_BF16, or AMX-BF16 with tiles */
void lmc_cpu_describe(const lmc_cpu_features *f, char *buf, size_t n);   /* "avx2 avx512f ..." */

/* The width of the hand-vectorised kernels (the exp and softmax rows of attention and the loss, GELU,
 * SwiGLU's sigmoid, AdamW, schedule-free AdamW). Chosen at run time from the CPU, never from the build
 * flags, so a portable build (-DLMC_PORTABLE=ON) runs them at full width too. Results are identical
 * across runs of one machine; between forms they differ by float rounding (AdamW: bitwise equal). */
typedef enum { LMC_ISA_SCALAR = 0, LMC_ISA_AVX2 = 1, LMC_ISA_AVX512 = 2 } lmc_isa;
int lmc_isa_best(void);       /* the widest this CPU runs: AVX-512F, else AVX2 with FMA, else scalar */
int lmc_isa_active(void);     /* what the kernels use: lmc_isa_best() unless forced */
int lmc_isa_force(int isa);   /* tests and comparisons: clamps to best, -1 = best; returns the level set */
const char *lmc_isa_name(int isa);   /* "avx512" | "avx2" | "scalar" */
/* One line for --version and run logs: the active width and what the build's flags assume
 * ("avx2 (chosen at run time); build assumes avx avx2 fma ..." or "...; build portable (x86-64)"). */
void lmc_isa_describe(char *buf, size_t n);

/* GEMM precision. FP32: fp32 everywhere. BF16 (mixed precision, as autocast does it): the linear layers'
 * and the lm head's GEMMs take bf16 inputs (weights from a bf16 copy of the fp32 master weights,
 * activations and gradients rounded to bf16 on the way in) and accumulate and write fp32. Everything
 * outside the GEMMs stays fp32. */
typedef enum { LMC_PREC_AUTO = 0, LMC_PREC_FP32 = 1, LMC_PREC_BF16 = 2 } lmc_precision;
const char *lmc_precision_name(lmc_precision p);
/* "auto" | "fp32" | "bf16" -> value; -1 when unknown. */
int lmc_precision_parse(const char *s);
/* AUTO -> BF16 when the CPU has bf16 instructions and the GEMM backend can use them, else FP32. */
lmc_precision lmc_precision_resolve(lmc_precision p);
/* Select the precision of all following GEMMs (p may be AUTO). BF16 on a CPU or build without bf16
 * support is an error (LMC_EINVAL) that names the missing CPU features. With LMC_BF16_EMULATE=1 in the
 * environment bf16 runs emulated on any CPU (GEMM inputs rounded to bf16 as in hardware, products and sums
 * in fp32 on the widened copies: equal to a hardware bf16 GEMM up to the order of the fp32 additions, and
 * slower than fp32). For testing the mixed-precision path anywhere; auto follows the hardware only. */

int lmc_kernels_set_precision(lmc_precision p, lmc_err *err);
lmc_precision lmc_kernels_get_precision(void);
/* 1 when the current precision is bf16 and it runs emulated (LMC_BF16_EMULATE=1, bf16 hardware or not). */
int lmc_kernels_bf16_emulated(void);
/* 1 when LMC_BF16_EMULATE=1 is in the environment (bf16 asked for will run emulated). */
int lmc_bf16_emulation_requested(void);
/* The fp32 weights changed (optimizer step, load): the bf16 copies are refreshed on their next use. */
void lmc_kernels_weights_changed(void);
/* GEMM backend and the instruction set it runs, e.g. "oneDNN 2.6.3 (avx512_core_amx)", for logs. */
const char *lmc_kernels_gemm_backend(void);

/* Best FLOP/s of an n x n x n GEMM over about `seconds` in the current precision, inputs already in that
 * precision (bf16 rounding of the operands is not counted): the MFU denominator. 0 when out of memory. */
double lmc_kernels_gemm_peak(int n, double seconds);

/* Row-major sgemm C = alpha op(A) op(B) + beta C (ta/tb: 1 = transposed), parallel over the OpenMP
 * threads with single-threaded BLAS calls (runs single-threaded when called inside a parallel region). */
void k_gemm(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda, const float *B, int ldb,
            float beta, float *C, int ldc);

/* out[N,OC] = inp[N,C] @ w[C,OC] + bias[OC] (bias may be NULL). */
void k_matmul_fwd(float *out, const float *inp, const float *w, const float *bias, size_t N, int C, int OC);
/* out[N,OC] += inp[N,C] @ w[C,OC] (+ bias): for residual streams (out holds the residual). */
void k_matmul_fwd_acc(float *out, const float *inp, const float *w, const float *bias, size_t N, int C, int OC);
/* out[N,OC] = resid[N,OC] + inp[N,C] @ w[C,OC] + bias (bias may be NULL): residual add fused into the
 * GEMM (each thread initialises its part of out, then the GEMM accumulates onto it). out != resid. */
void k_matmul_fwd_res(float *out, const float *resid, const float *inp, const float *w, const float *bias,
                      size_t N, int C, int OC);
/* dinp[N,C] (overwrites; NULL = skip) = dout @ w^T; dw[C,OC] += inp^T @ dout; dbias[OC] += colsum(dout). */
void k_matmul_bwd(float *dinp, float *dw, float *dbias, const float *dout, const float *inp,
                  const float *w, size_t N, int C, int OC);
/* k_matmul_fwd(_res) and k_matmul_bwd with the input given only as its bf16 copy (dense [N, C]): an
 * activation the model keeps in bf16 because only GEMMs read it (LayerNorm and GELU outputs in bf16 mode). Results equal passing the fp32 input
 * in bf16 mode (the GEMMs round it to this very copy); without bf16 GEMMs it is widened to fp32 first. */
void k_matmul_fwd_bf16in(float *out, const float *resid, const uint16_t *inp16, const float *w, const float *bias,
                         size_t N, int C, int OC);   /* resid NULL: as k_matmul_fwd */
void k_matmul_bwd_bf16in(float *dinp, float *dw, float *dbias, const float *dout, const uint16_t *inp16,
                         const float *w, size_t N, int C, int OC);
/* Same but dinp += dout @ w^T. */
void k_matmul_bwd_acc(float *dinp, float *dw, float *dbias, const float *dout, const float *inp,
                      const float *w, size_t N, int C, int OC);

/* Tied output head: logits[N,Vp] = x[N,C] @ wte[Vp,C]^T. */
void k_lmhead_fwd(float *logits, const float *x, const float *wte, size_t N, int C, int Vp);
/* dx[N,C] = dlogits @ wte (overwrites); dwte[Vp,C] += dlogits^T @ x. */
void k_lmhead_bwd(float *dx, float *dwte, const float *dlogits, const float *x, const float *wte,
                  size_t N, int C, int Vp);

/* LayerNorm over rows of C: out = (x - mean) * rstd * w + b. mean/rstd [N] may be NULL (inference);
 * b may be NULL (no bias; then backward takes db = NULL). */
void k_layernorm_fwd(float *out, float *mean, float *rstd, const float *x, const float *w,
                     const float *b, size_t N, int C, float eps);
/* dx += ..., dw += ..., db += ... */
void k_layernorm_bwd(float *dx, float *dw, float *db, const float *dout, const float *x,
                     const float *w, const float *mean, const float *rstd, size_t N, int C);

/* Token + position embedding: out[b,t,:] = wte[inp[b,t],:] + wpe[t,:]. */
void k_encoder_fwd(float *out, const int32_t *inp, const float *wte, const float *wpe, int B, int T, int C);
/* dwte[inp] += dout, dwpe[t] += sum over b of dout. Deterministic (no races). */
void k_encoder_bwd(float *dwte, float *dwpe, const float *dout, const int32_t *inp, int B, int T, int C);
/* The same with a position per row (N rows; document masking restarts positions): wpe[pos[n]]. */
void k_encoder_fwd_pos(float *out, const int32_t *inp, const int32_t *pos, const float *wte, const float *wpe,
                       size_t N, int C);
void k_encoder_bwd_pos(float *dwte, float *dwpe, const float *dout, const int32_t *inp, const int32_t *pos,
                       size_t N, int C);

/* GELU, tanh approximation (HF gelu_new). */
void k_gelu_fwd(float *out, const float *x, size_t n);
/* rows x cols block with leading dimension ld -> dense bf16 [rows, cols], round to nearest even (parallel
 * outside parallel regions): the rounding every bf16 GEMM input gets. */
void k_f32_to_bf16_rows(uint16_t *dst, const float *src, int rows, int cols, int ld);
/* GELU with its output rounded to bf16: bitwise k_f32_to_bf16 of k_gelu_fwd's output, without the fp32
 * array in between; x16 (may be NULL) receives the input rounded to bf16, for k_gelu_bwd_bf16x. */
void k_gelu_fwd_bf16(uint16_t *out, uint16_t *x16, const float *x, size_t n);
/* dx (overwrites) = dout * gelu'(x). dx may alias dout. */
void k_gelu_bwd(float *dx, const float *x, const float *dout, size_t n);
/* The same with the input kept in bf16: bitwise k_gelu_bwd of the widened input. */
void k_gelu_bwd_bf16x(float *dx, const uint16_t *x16, const float *dout, size_t n);

/* Causal multi-head self-attention, flash style: never materialises T x T per layer.
 * qkv [B,T,3C] (q | k | v, head h at columns h*hd), out [B,T,C], lse [B,NH,T] = log-sum-exp of each
 * softmax row (scaled scores), all that backward needs besides qkv and out.
 * Returns 0, or LMC_ENOMEM when the per-thread scratch (2 * 64 * T floats) cannot be allocated. */
int k_attention_fwd(float *out, float *lse, const float *qkv, int B, int T, int C, int NH);
/* dqkv [B,T,3C] (overwrites) from dout [B,T,C], recomputing the probabilities from qkv and lse. */
int k_attention_bwd(float *dqkv, const float *dout, const float *qkv, const float *out,
                    const float *lse, int B, int T, int C, int NH);
/* One query row per head against a KV cache (incremental decoding): q [C], kcache/vcache [t_len, C]
 * row-major with row stride ldkv floats; out [C]. scratch >= t_len floats. */
void k_attention_decode(float *out, const float *q, const float *kcache, const float *vcache,
                        int t_len, size_t ldkv, int C, int NH, float *scratch);

/* Softmax cross-entropy over the first V of Vp columns (padded columns never enter the loss).
 * losses[N] (0 where target < 0), lse[N]. Returns the sum of losses over valid targets in *sum and the
 * count in *count. */
void k_crossentropy_fwd(float *losses, float *lse, const float *logits, const int32_t *targets,
                        size_t N, int V, int Vp, double *sum, int64_t *count);
/* In place: logits -> dlogits = scale * (softmax - onehot(target)) for columns < V, 0 for padded
 * columns and for rows with target < 0. */
void k_crossentropy_bwd_inplace(float *logits, const float *lse, const int32_t *targets, float scale,
                                size_t N, int V, int Vp);

/* y += x (n floats). */
void k_add_inplace(float *y, const float *x, size_t n);
/* out[N,C] = x[N,C] + bias[C] broadcast (bias may be NULL: copy). */
void k_copy_bias(float *out, const float *x, const float *bias, size_t N, int C);
/* sum of squares of n floats in double (fixed-order blocked reduction). */
double k_sumsq(const float *x, size_t n);
/* The chunks k_sumsq adds: part[c - c0] = sum of squares of chunk c (K_SUMSQ_CHUNK floats), c0 <= c < c1.
 * k_sumsq(x, n) is the in-order double sum of all n's chunks. */
#define K_SUMSQ_CHUNK ((size_t)65536)
void k_sumsq_parts(const float *x, size_t n, size_t c0, size_t c1, double *part);
void k_scale(float *x, float s, size_t n);

/* ---- transformer-family kernels (RMSNorm, RoPE, SwiGLU, token-only embedding, GQA/ALiBi attention) ----
 * Same conventions as above: backward kernels accumulate into parameter gradients; "overwrites" says
 * when an input gradient is written instead. */

/* RMSNorm over rows of C: out = x * rstd * w, rstd = 1/sqrt(mean(x^2) + eps) (HF LlamaRMSNorm).
 * rstd [N] may be NULL (inference). */
void k_rmsnorm_fwd(float *out, float *rstd, const float *x, const float *w, size_t N, int C, float eps);
/* dx += ..., dw += ... (dw: column blocks, rows in order: deterministic). */
void k_rmsnorm_bwd(float *dx, float *dw, const float *dout, const float *x, const float *w,
                   const float *rstd, size_t N, int C);

/* RoPE tables, HF rotate-half convention: for pair i < hd/2 at position t the angle is
 * t * theta^(-2i/hd) (float arithmetic as HF computes it); cos/sin [max_seq, hd/2]. */
void k_rope_table(float *cos_t, float *sin_t, int max_seq, int hd, float theta);
/* In place on rows of width ld (B*T rows, position t = row % T + pos0): heads [0, nh) of hd columns
 * starting at column col0 are rotated: x1' = x1 cos - x2 sin, x2' = x2 cos + x1 sin (x1 = first half
 * of the head, x2 = second half). inverse = 1 rotates by -angle (the backward of the forward). */
void k_rope_apply(float *x, size_t ld, int B, int T, int pos0, int col0, int nh, int hd,
                  const float *cos_t, const float *sin_t, int inverse);
/* The same with an explicit position per row (N rows; document masking): row n at position pos[n]. */
void k_rope_apply_pos(float *x, size_t ld, size_t N, const int32_t *pos, int col0, int nh, int hd,
                      const float *cos_t, const float *sin_t, int inverse);

/* SwiGLU: h [N, 2F] = gate | up, out [N, F] = silu(gate) * up. */
void k_swiglu_fwd(float *out, const float *h, size_t N, int F);
/* dh [N, 2F] (overwrites) from dout [N, F]. */
void k_swiglu_bwd(float *dh, const float *h, const float *dout, size_t N, int F);

/* Token embedding without positions: out[n,:] = wte[inp[n],:]. */
void k_embed_fwd(float *out, const int32_t *inp, const float *wte, size_t N, int C);
/* dwte[inp[n]] += dout[n] (channel blocks per thread, rows in order: deterministic). */
void k_embed_bwd(float *dwte, const float *dout, const int32_t *inp, size_t N, int C);

/* ALiBi head slopes (Press et al.; HF build_alibi_tensor): 2^(-8(h+1)/n) for n a power of two, the
 * interleaved completion otherwise. */
void k_alibi_slopes(float *slopes, int NH);

/* Causal attention with NKV key/value heads (NKV divides NH; query head h reads kv head h / (NH/NKV)),
 * head size hd, optional ALiBi (slopes [NH] or NULL: score(i, j) += slope * (j - i)).
 * qkv rows [NH*hd q | NKV*hd k | NKV*hd v]; out [B,T,NH*hd]; lse [B,NH,T]. The k_attention_* above are
 * these with NKV = NH and no ALiBi. Backward is parallel over (batch, kv head), the heads of a group in
 * order, so dK/dV sums are deterministic. */
int k_attention_fwd_gqa(float *out, float *lse, const float *qkv, int B, int T, int NH, int NKV, int hd,
                        const float *slopes);
int k_attention_bwd_gqa(float *dqkv, const float *dout, const float *qkv, const float *out, const float *lse,
                        int B, int T, int NH, int NKV, int hd, const float *slopes);
/* The same with document masking (packed windows): docstart [B*T] (NULL = plain causal) gives each
 * query row t of a window its document's first position, 0 <= docstart[t] <= t; row t attends to
 * keys [docstart[t], t] only. Key blocks before a query block's first start are skipped (no T x T
 * mask); with NULL both are bitwise the _gqa kernels. */
int k_attention_fwd_doc(float *out, float *lse, const float *qkv, int B, int T, int NH, int NKV, int hd,
                        const float *slopes, const int32_t *docstart);
int k_attention_bwd_doc(float *dqkv, const float *dout, const float *qkv, const float *out, const float *lse,
                        int B, int T, int NH, int NKV, int hd, const float *slopes, const int32_t *docstart);
/* One query row (position t_len - 1) against a cache of NKV heads: q [NH*hd]; kcache/vcache rows of
 * NKV*hd at stride ldkv; out [NH*hd]; scratch >= t_len floats. */
void k_attention_decode_gqa(float *out, const float *q, const float *kcache, const float *vcache, int t_len,
                            size_t ldkv, int NH, int NKV, int hd, const float *slopes, float *scratch);

#endif
