/* The extensions this build's compiler flags allow (all of them with -march=native, none beyond
 * x86-64 with -DLMC_PORTABLE=ON). Compiled with the library's flags on purpose: the macros are the
 * compiler's own account of what it may emit. */
#include "kernels/cpu/isa_guard.h"

const unsigned lmc_build_isa_bits = 0u
#ifdef __AVX__
    | LMC_X_AVX
#endif
#ifdef __AVX2__
    | LMC_X_AVX2
#endif
#ifdef __FMA__
    | LMC_X_FMA
#endif
#ifdef __F16C__
    | LMC_X_F16C
#endif
#ifdef __BMI__
    | LMC_X_BMI1
#endif
#ifdef __BMI2__
    | LMC_X_BMI2
#endif
#ifdef __AVX512F__
    | LMC_X_AVX512F
#endif
#ifdef __AVX512DQ__
    | LMC_X_AVX512DQ
#endif
#ifdef __AVX512CD__
    | LMC_X_AVX512CD
#endif
#ifdef __AVX512BW__
    | LMC_X_AVX512BW
#endif
#ifdef __AVX512VL__
    | LMC_X_AVX512VL
#endif
#ifdef __AVX512VNNI__
    | LMC_X_AVX512VNNI
#endif
#ifdef __AVX512VBMI__
    | LMC_X_AVX512VBMI
#endif
#ifdef __AVX512BF16__
    | LMC_X_AVX512BF16
#endif
#ifdef __AVXVNNI__
    | LMC_X_AVXVNNI
#endif
#ifdef __AVX512IFMA__
    | LMC_X_AVX512IFMA
#endif
#ifdef __AVX512VBMI2__
    | LMC_X_AVX512VBMI2
#endif
#ifdef __AVX512BITALG__
    | LMC_X_AVX512BITALG
#endif
#ifdef __AVX512VPOPCNTDQ__
    | LMC_X_AVX512VPOPCNTDQ
#endif
#ifdef __AVX512FP16__
    | LMC_X_AVX512FP16
#endif
#ifdef __SSE4_2__
    | LMC_X_SSE42
#endif
#ifdef __POPCNT__
    | LMC_X_POPCNT
#endif
#ifdef __LZCNT__
    | LMC_X_LZCNT
#endif
#ifdef __MOVBE__
    | LMC_X_MOVBE
#endif
    ;
