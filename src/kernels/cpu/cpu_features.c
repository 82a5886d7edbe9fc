/* What the CPU (and the OS, which must save the wider registers) offers, read with CPUID / XGETBV.
 * Used to resolve train.precision: auto and to name the missing features when bf16 is asked for. */
#include "kernels/cpu/kernels.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

static unsigned long long xgetbv0(void) {
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((unsigned long long)hi << 32) | lo;
}
#endif

lmc_cpu_features lmc_cpu_detect(void) {
    lmc_cpu_features f;
    memset(&f, 0, sizeof f);
#if defined(__x86_64__) || defined(__i386__)
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return f;
    int osxsave = (c >> 27) & 1;
    unsigned long long xcr0 = osxsave ? xgetbv0() : 0;
    int os_avx = (xcr0 & 0x6) == 0x6;                  /* XMM + YMM state */
    int os_avx512 = os_avx && (xcr0 & 0xe0) == 0xe0;   /* opmask, ZMM_Hi256, Hi16_ZMM */
    int os_amx = (xcr0 & 0x60000) == 0x60000;          /* XTILECFG + XTILEDATA */
    f.avx2 = 0;
    if (__get_cpuid_max(0, NULL) >= 7) {
        __cpuid_count(7, 0, a, b, c, d);
        f.avx2 = os_avx && ((b >> 5) & 1);
        f.avx512f = os_avx512 && ((b >> 16) & 1);
        f.amx_bf16 = os_amx && ((d >> 22) & 1);
        f.amx_tile = os_amx && ((d >> 24) & 1);
        __cpuid_count(7, 1, a, b, c, d);
        f.avx512_bf16 = os_avx512 && ((a >> 5) & 1);
    }
#endif
    /* LMC_CPU_DISABLE=avx512_bf16,amx_bf16 hides features (tests of the fallback and of the error on a
     * CPU without bf16; comparisons of one machine's paths), as oneDNN's ONEDNN_MAX_CPU_ISA does. */
    const char *off = getenv("LMC_CPU_DISABLE");
    if (off) {
        if (strstr(off, "avx512_bf16")) f.avx512_bf16 = 0;
        if (strstr(off, "amx_bf16")) f.amx_bf16 = 0;
        if (strstr(off, "avx512f")) f.avx512f = f.avx512_bf16 = 0;
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
