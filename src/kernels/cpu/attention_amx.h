/* Internal: causal attention with bf16 inputs on AMX tiles (attention_amx.c), used by attention.c when
 * the GEMM precision is bf16. Same arguments and results as k_attention_fwd_doc / k_attention_bwd_doc. */
#ifndef LMC_KERNELS_CPU_ATTENTION_AMX_H
#define LMC_KERNELS_CPU_ATTENTION_AMX_H
#include <stdint.h>

/* 1 when the AMX kernels can run these shapes on this CPU (AMX-BF16 with tile data enabled by the OS,
 * T and hd multiples of 32). Call outside parallel regions: the first call asks Linux for AMX state. */
int k_attention_amx_usable(int T, int hd);
int k_attention_amx_fwd(float *out, float *lse, const float *qkv, int B, int T, int NH, int NKV, int hd,
                        const float *slopes, const int32_t *docstart);
int k_attention_amx_bwd(float *dqkv, const float *dout, const float *qkv, const float *out, const float *lse,
                        int B, int T, int NH, int NKV, int hd, const float *slopes, const int32_t *docstart);
#endif
