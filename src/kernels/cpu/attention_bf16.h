/* Internal: causal attention with bf16 GEMM inputs and fp32 accumulation (attention_bf16.c), used by
 * attention.c when the GEMM precision is bf16. Same arguments and results as k_attention_fwd_doc /
 * k_attention_bwd_doc. Two engines run the block GEMMs: AMX tiles (tdpbf16ps) where the CPU and the
 * OS allow them, otherwise AVX512_BF16 dot products (vdpbf16ps, e.g. AMD Zen 4). */
#ifndef LMC_KERNELS_CPU_ATTENTION_BF16_H
#define LMC_KERNELS_CPU_ATTENTION_BF16_H
#include <stdint.h>

enum { K_ATT_BF16_NONE = 0, K_ATT_BF16_AMX = 1, K_ATT_BF16_DP = 2 };

/* The engine the bf16 kernels would use on this CPU (K_ATT_BF16_NONE: neither AMX-BF16 with tile data
 * enabled by the OS nor AVX512_BF16; LMC_CPU_DISABLE hides either). Call outside parallel regions: the
 * first call asks Linux for AMX state. */
int k_attention_bf16_engine(void);
/* For tests and benchmarks: run this engine from now on (K_ATT_BF16_NONE: back to the CPU's choice).
 * Returns 0, or -1 (and changes nothing) when this CPU cannot run it. */
int k_attention_bf16_force(int engine);
/* 1 when an engine can run these shapes (T and hd multiples of 32, hd <= 256). */
int k_attention_bf16_usable(int T, int hd);
int k_attention_bf16_fwd(float *out, float *lse, const float *qkv, int B, int T, int NH, int NKV, int hd,
                         const float *slopes, const int32_t *docstart);
int k_attention_bf16_bwd(float *dqkv, const float *dout, const float *qkv, const float *out, const float *lse,
                         int B, int T, int NH, int NKV, int hd, const float *slopes, const int32_t *docstart);
#endif
