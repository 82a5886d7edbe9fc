/* What the CPU (and the OS, which must save the wider registers) offers, read with CPUID / XGETBV.
 * Used to resolve train.precision: auto, to name the missing features when bf16 is asked for, to pick
 * the vector kernels' width, and -- before main -- to check that a -march=native build runs on a CPU
 * that has what it was compiled for. This file is compiled for plain x86-64 (CMakeLists.txt), since it
 * runs before anything has checked the CPU. */
#include "kernels/cpu/isa_guard.h"
#include "kernels/cpu/kernels.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#define CPU_X86 1

static unsigned long long xgetbv0(void) {
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((unsigned long long)hi << 32) | lo;
}
#endif

/* CPUID + XGETBV in one pass: the LMC_X_* bits, and AMX (tile state is its own XCR0 pair). */
static unsigned cpu_bits(int *amx_bf16, int *amx_tile) {
    unsigned bits = 0;
    *amx_bf16 = *amx_tile = 0;
#ifdef CPU_X86
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    int osxsave = (c >> 27) & 1;
    unsigned long long xcr0 = osxsave ? xgetbv0() : 0;
    int os_avx = (xcr0 & 0x6) == 0x6;                  /* XMM + YMM state */
    int os_avx512 = os_avx && (xcr0 & 0xe0) == 0xe0;   /* opmask, ZMM_Hi256, Hi16_ZMM */
    int os_amx = (xcr0 & 0x60000) == 0x60000;          /* XTILECFG + XTILEDATA */
    if ((c >> 20) & 1) bits |= LMC_X_SSE42;
    if ((c >> 23) & 1) bits |= LMC_X_POPCNT;
    if ((c >> 22) & 1) bits |= LMC_X_MOVBE;
    if (os_avx) {
        if ((c >> 28) & 1) bits |= LMC_X_AVX;
        if ((c >> 12) & 1) bits |= LMC_X_FMA;
        if ((c >> 29) & 1) bits |= LMC_X_F16C;
    }
    if (__get_cpuid_max(0, NULL) >= 7) {
        __cpuid_count(7, 0, a, b, c, d);
        if ((b >> 3) & 1) bits |= LMC_X_BMI1;
        if ((b >> 8) & 1) bits |= LMC_X_BMI2;
        if (os_avx && ((b >> 5) & 1)) bits |= LMC_X_AVX2;
        if (os_avx512) {
            static const struct { int reg, bit; unsigned flag; } f7[] = {
                {1, 16, LMC_X_AVX512F}, {1, 17, LMC_X_AVX512DQ}, {1, 28, LMC_X_AVX512CD},
                {1, 30, LMC_X_AVX512BW}, {1, 31, LMC_X_AVX512VL}, {2, 11, LMC_X_AVX512VNNI},
                {2, 1, LMC_X_AVX512VBMI}, {1, 21, LMC_X_AVX512IFMA}, {2, 6, LMC_X_AVX512VBMI2},
                {2, 12, LMC_X_AVX512BITALG}, {2, 14, LMC_X_AVX512VPOPCNTDQ}, {3, 23, LMC_X_AVX512FP16}};
            for (size_t i = 0; i < sizeof f7 / sizeof f7[0]; i++)
                if (((f7[i].reg == 1 ? b : f7[i].reg == 2 ? c : d) >> f7[i].bit) & 1) bits |= f7[i].flag;
        }
        *amx_bf16 = os_amx && ((d >> 22) & 1);
        *amx_tile = os_amx && ((d >> 24) & 1);
        __cpuid_count(7, 1, a, b, c, d);
        if (os_avx512 && ((a >> 5) & 1)) bits |= LMC_X_AVX512BF16;
        if (os_avx && ((a >> 4) & 1)) bits |= LMC_X_AVXVNNI;
    }
    if (__get_cpuid(0x80000001, &a, &b, &c, &d) && ((c >> 5) & 1)) bits |= LMC_X_LZCNT;   /* ABM */
#endif
    return bits;
}

unsigned lmc_cpu_isa_bits(void) {
    int amx_bf16, amx_tile;
    return cpu_bits(&amx_bf16, &amx_tile);
}

static const char *const isa_bit_names[] = {
    "avx", "avx2", "fma", "f16c", "bmi1", "bmi2", "avx512f", "avx512dq", "avx512cd", "avx512bw",
    "avx512vl", "avx512vnni", "avx512vbmi", "avx512_bf16", "avxvnni", "avx512ifma", "avx512vbmi2",
    "avx512bitalg", "avx512vpopcntdq", "avx512fp16", "sse4.2", "popcnt", "lzcnt", "movbe"};
_Static_assert(sizeof isa_bit_names / sizeof isa_bit_names[0] == LMC_X_NBITS, "a name for every LMC_X_ bit");

int lmc_isa_missing(unsigned want, unsigned have, char *buf, size_t n) {
    int count = 0;
    size_t len = 0;
    if (n) buf[0] = 0;
    for (int i = 0; i < LMC_X_NBITS; i++) {
        if (!(want & (1u << i)) || (have & (1u << i))) continue;
        if (n && len < n) len += (size_t)snprintf(buf + len, n - len, "%s%s", count ? " " : "", isa_bit_names[i]);
        count++;
    }
    return count;
}

/* Before main: a -march=native build on a CPU without what it was compiled for stops here with a
 * message instead of SIGILL later. */
__attribute__((constructor)) static void isa_guard(void) {
    char miss[256], built[256];
    if (!lmc_isa_missing(lmc_build_isa_bits, lmc_cpu_isa_bits(), miss, sizeof miss)) return;
    lmc_isa_missing(lmc_build_isa_bits, 0, built, sizeof built);
    fprintf(stderr,
            "lmc: this binary was compiled for a CPU with %s (-march=native on the machine that built it);\n"
            "this CPU lacks %s, so it would stop on an illegal instruction.\n"
            "Rebuild on this machine (rm -rf build && scripts/build.sh release), or build once with\n"
            "-DLMC_PORTABLE=ON: that binary runs on any x86-64 CPU and picks its vector kernels\n"
            "(AVX-512, AVX2 or scalar) and oneDNN's GEMMs at run time.\n",
            built, miss);
    fflush(stderr);
    _exit(1);
}

lmc_cpu_features lmc_cpu_detect(void) {
    lmc_cpu_features f;
    memset(&f, 0, sizeof f);
    unsigned bits = cpu_bits(&f.amx_bf16, &f.amx_tile);
    f.avx2 = (bits & LMC_X_AVX2) != 0;
    f.fma = (bits & LMC_X_FMA) != 0;
    f.avx512f = (bits & LMC_X_AVX512F) != 0;
    f.avx512_bf16 = (bits & LMC_X_AVX512BF16) != 0;
    /* LMC_CPU_DISABLE=avx2,avx512f,avx512_bf16,amx_bf16 hides features (tests of the fallbacks and of
     * the error on a CPU without bf16; comparisons of one machine's paths), as oneDNN's
     * ONEDNN_MAX_CPU_ISA does. Hiding a width hides the wider ones too. */
    const char *off = getenv("LMC_CPU_DISABLE");
    if (off) {
        if (strstr(off, "avx512_bf16")) f.avx512_bf16 = 0;
        if (strstr(off, "amx_bf16")) f.amx_bf16 = 0;
        if (strstr(off, "avx512f")) f.avx512f = f.avx512_bf16 = 0;
        if (strstr(off, "avx2")) f.avx2 = f.avx512f = f.avx512_bf16 = 0;
    }
    return f;
}

int lmc_cpu_has_bf16(const lmc_cpu_features *f) { return f->avx512_bf16 || (f->amx_bf16 && f->amx_tile); }

void lmc_cpu_describe(const lmc_cpu_features *f, char *buf, size_t n) {
    snprintf(buf, n, "%s%s%s%s", f->avx2 ? "avx2 " : "", f->avx512f ? "avx512f " : "",
             f->avx512_bf16 ? "avx512_bf16 " : "", f->amx_bf16 && f->amx_tile ? "amx_bf16 " : "");
    size_t l = strlen(buf);
    if (l && buf[l - 1] == ' ') buf[l - 1] = 0;
    if (!buf[0]) snprintf(buf, n, "none of avx2/avx512f/avx512_bf16/amx_bf16");
}

int lmc_isa_best(void) {
    lmc_cpu_features f = lmc_cpu_detect();
    if (f.avx512f) return LMC_ISA_AVX512;
    if (f.avx2 && f.fma) return LMC_ISA_AVX2;
    return LMC_ISA_SCALAR;
}

/* -1 until first asked; relaxed atomics, since OpenMP threads may be the first to ask */
static int g_isa = -1;

int lmc_isa_active(void) {
    int l = __atomic_load_n(&g_isa, __ATOMIC_RELAXED);
    if (l < 0) {
        l = lmc_isa_best();
        __atomic_store_n(&g_isa, l, __ATOMIC_RELAXED);
    }
    return l;
}

int lmc_isa_force(int isa) {
    int best = lmc_isa_best();
    int l = isa < 0 || isa > best ? best : isa;
    __atomic_store_n(&g_isa, l, __ATOMIC_RELAXED);
    return l;
}

const char *lmc_isa_name(int isa) {
    return isa == LMC_ISA_AVX512 ? "avx512" : isa == LMC_ISA_AVX2 ? "avx2" : "scalar";
}

void lmc_isa_describe(char *buf, size_t n) {
    char built[256];
    lmc_isa_missing(lmc_build_isa_bits, 0, built, sizeof built);
    snprintf(buf, n, "%s (chosen at run time); build %s%s", lmc_isa_name(lmc_isa_active()),
             built[0] ? "assumes " : "portable (no extension beyond the baseline)", built);
}
