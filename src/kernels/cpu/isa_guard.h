/* Internal: the instruction-set extensions a -march=native build may use, and the check that the CPU
 * running it has them (cpu_features.c runs it before main). Without it a build directory carried to
 * an older CPU -- a login node's build run on a compute node, a shared home on mixed machines -- dies
 * on SIGILL somewhere in the first kernel, with no word of why. */
#ifndef LMC_KERNELS_CPU_ISA_GUARD_H
#define LMC_KERNELS_CPU_ISA_GUARD_H

#include <stddef.h>

enum {
    LMC_X_AVX = 1u << 0, LMC_X_AVX2 = 1u << 1, LMC_X_FMA = 1u << 2, LMC_X_F16C = 1u << 3,
    LMC_X_BMI1 = 1u << 4, LMC_X_BMI2 = 1u << 5, LMC_X_AVX512F = 1u << 6, LMC_X_AVX512DQ = 1u << 7,
    LMC_X_AVX512CD = 1u << 8, LMC_X_AVX512BW = 1u << 9, LMC_X_AVX512VL = 1u << 10,
    LMC_X_AVX512VNNI = 1u << 11, LMC_X_AVX512VBMI = 1u << 12, LMC_X_AVX512BF16 = 1u << 13,
    LMC_X_AVXVNNI = 1u << 14, LMC_X_AVX512IFMA = 1u << 15, LMC_X_AVX512VBMI2 = 1u << 16,
    LMC_X_AVX512BITALG = 1u << 17, LMC_X_AVX512VPOPCNTDQ = 1u << 18, LMC_X_AVX512FP16 = 1u << 19,
    /* scalar extensions the compiler emits on its own (popcount, bit scans, byte-swapping loads) */
    LMC_X_SSE42 = 1u << 20, LMC_X_POPCNT = 1u << 21, LMC_X_LZCNT = 1u << 22, LMC_X_MOVBE = 1u << 23,
    LMC_X_NBITS = 24
};

/* What the compiler was allowed to use everywhere (build_isa.c, compiled with the library's flags). */
extern const unsigned lmc_build_isa_bits;
/* What this CPU and OS offer, from CPUID and XGETBV (LMC_CPU_DISABLE does not apply: it is a switch
 * for the run-time dispatch, not a claim about the hardware). */
unsigned lmc_cpu_isa_bits(void);
/* Writes the names of the bits of `want` that `have` lacks into buf ("avx512f avx512bw"; "" if none)
 * and returns how many there are. */
int lmc_isa_missing(unsigned want, unsigned have, char *buf, size_t n);

#endif
