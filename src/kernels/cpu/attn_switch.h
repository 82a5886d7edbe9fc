/* Attention switches of the model family (issue 13): softplus attention LSSA / LSSAR
 * (attention_lssa.c) and per-head QK-norm (qknorm.c). Layouts as k_attention_fwd_gqa: qkv rows
 * [NH*hd q | NKV*hd k | NKV*hd v] with row stride ld, out [B, T, NH*hd]. */
#ifndef LMC_KERNELS_CPU_ATTN_SWITCH_H
#define LMC_KERNELS_CPU_ATTN_SWITCH_H

#include <stddef.h>
#include <stdint.h>

/* Softplus attention (Gao, Spratling, Gionfrida, arXiv 2501.13428, ICML 2026), causal, per head:
 *   cos_ij = q_i.k_j / (|q_i| |k_j|)                     (L2 normalisation as F.normalize, eps 1e-12)
 *   A_ij   = softplus(log(hd) log(n_i) cos_ij) / sum_j'  (n_i = i + 1 keys, j <= i)       -- LSSA
 *   power p > 0 adds the re-weighting (LSSAR):
 *   u_ij = n_i A_ij - o_i (o_i = 0 for the first 3 rows, else 1);  A'_ij = relu(u_ij)^p / sum_j' relu(u_ij')^p
 *   (computed as (u/max_j u)^p, so x^p cannot underflow; a row with max u <= 0, i.e. exactly uniform,
 *   keeps A'_i = A_i).   out_i = sum_j A'_ij v_j.
 * power = 0 is LSSA. Tiled over query blocks like the softmax kernel: no T x T buffer, scratch
 * O(QB * T + T * hd) per thread; backward recomputes everything from qkv. Return 0 or LMC_ENOMEM. */
int k_attention_lssa_fwd(float *out, const float *qkv, int B, int T, int NH, int NKV, int hd, int power);
/* Writes dqkv (every q, k, v column of the attention heads); dout [B, T, NH*hd]. */
int k_attention_lssa_bwd(float *dqkv, const float *dout, const float *qkv, int B, int T, int NH, int NKV, int hd,
                         int power);
/* With document masking (docstart [B*T] as k_attention_fwd_doc; NULL = the two above, bitwise): row t
 * is computed as row t - docstart[t] of its document alone (n_i, the length scale and o_i restart). */
int k_attention_lssa_fwd_doc(float *out, const float *qkv, int B, int T, int NH, int NKV, int hd, int power,
                             const int32_t *docstart);
int k_attention_lssa_bwd_doc(float *dqkv, const float *dout, const float *qkv, int B, int T, int NH, int NKV, int hd,
                             int power, const int32_t *docstart);
/* One new query at position t_len - 1 over t_len cached keys/values (rows of stride ldkv);
 * scratch: 2 * t_len floats. */
void k_attention_lssa_decode(float *out, const float *q, const float *kcache, const float *vcache, int t_len,
                             size_t ldkv, int NH, int NKV, int hd, int power, float *scratch);
/* One row of the weights (exposed for the identity tests): cos[0..n) of query row i (0-based, n = i + 1)
 * -> A (stage 1) and Ap (stage 2; Ap = A when power = 0). A may not alias cos; Ap may alias cos, and A
 * only when power = 0. */
void k_lssa_row(const float *cos, float *A, float *Ap, int n, int i, int hd, int power);

/* QK-norm, variant A (Qwen3 / Gemma 3 placement): RMSNorm over the hd channels of every q head
 * (gain gq [hd]) and every k head (gain gk [hd]), in place in qkv (rows of stride ld); v untouched.
 * raw (N x (NH+NKV)*hd, may be NULL) receives the q|k values before the norm and rstd
 * (N x (NH+NKV), may be NULL) the per-head 1/rms; backward needs both. */
void k_qknorm_fwd(float *qkv, float *raw, float *rstd, const float *gq, const float *gk, size_t N, size_t ld,
                  int NH, int NKV, int hd, float eps);
/* In place in dqkv's q|k columns: gradient w.r.t. the normed output -> w.r.t. the raw input;
 * dgq / dgk [hd] are accumulated (+=). Deterministic for any thread count. */
void k_qknorm_bwd(float *dqkv, float *dgq, float *dgk, const float *raw, const float *rstd, const float *gq,
                  const float *gk, size_t N, size_t ld, int NH, int NKV, int hd);

#endif
