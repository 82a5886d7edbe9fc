/* Thread count for OpenMP kernels and GEMMs together, whatever BLAS build is installed.
 *
 * lmc owns the thread count: one OpenMP pool runs our kernels and splits the GEMMs; a BLAS library
 * never does. The trap this file avoids: Debian's OpenMP OpenBLAS implements
 * openblas_set_num_threads(n) as omp_set_num_threads(n), so "OpenBLAS to 1 thread" silently puts every
 * later OpenMP region of lmc on one thread too. Which libopenblas.so.0 is loaded is decided at run time
 * by Debian's alternatives (the pthread build wins when both are installed), so the build is asked at
 * run time (openblas_get_parallel) and the OpenMP thread count is always set last. */
#include "kernels/cpu/kernels.h"
#include "kernels/cpu/blas_threads.h"
#include <omp.h>
#include <cblas.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef LMC_BLAS_BLIS
/* blis.h does not compile warning-free under -Wextra; these two are all we need (dim_t is int64). */
void bli_thread_set_num_threads(int64_t n_threads);
int64_t bli_thread_get_num_threads(void);
#endif

static atomic_int blas_configured;

/* An OpenMP BLAS needs nothing: called inside one of our parallel regions it runs single-threaded by
 * itself (it checks omp_in_parallel), and its "set threads" would change ours. A pthread OpenBLAS or BLIS
 * has its own pool, which is put to one thread. */
static int blas_is_openmp(void) {
#ifdef LMC_BLAS_BLIS
    return 0;
#else
    return openblas_get_parallel() == 2;
#endif
}

static void blas_to_one_thread(void) {
#ifdef LMC_BLAS_BLIS
    bli_thread_set_num_threads(1);
#else
    if (!blas_is_openmp()) openblas_set_num_threads(1);
#endif
}

/* Called by the GEMM paths: a caller that never set the threads still gets single-threaded BLAS pools. */
void k_threads_init_once(void) {
    if (!atomic_exchange(&blas_configured, 1)) {
        int n = omp_get_max_threads();
        blas_to_one_thread();
        omp_set_num_threads(n);
    }
}

void lmc_kernels_set_threads(int n) {
    atomic_store(&blas_configured, 1);
    if (n <= 0) n = omp_get_num_procs();
    blas_to_one_thread();
    omp_set_num_threads(n);   /* last: nothing after this may touch the OpenMP thread count */
}

int lmc_kernels_get_threads(void) { return omp_get_max_threads(); }

const char *lmc_kernels_blas_threading(void) {
#ifdef LMC_BLAS_BLIS
    return "BLIS (own pool, 1 thread)";
#else
    switch (openblas_get_parallel()) {
    case 0: return "OpenBLAS sequential";
    case 1: return "OpenBLAS pthreads (own pool, 1 thread)";
    case 2: return "OpenBLAS OpenMP (lmc's pool)";
    default: return "OpenBLAS (unknown threading)";
    }
#endif
}

int k_blas_single_begin(void) {
    if (blas_is_openmp()) return 0;   /* nothing to do, and touching it would change our own count */
#ifdef LMC_BLAS_BLIS
    int prev = (int)bli_thread_get_num_threads();
    bli_thread_set_num_threads(1);
#else
    int prev = openblas_get_num_threads();
    openblas_set_num_threads(1);
#endif
    return prev;
}

void k_blas_single_end(int prev) {
    if (prev <= 0) return;
#ifdef LMC_BLAS_BLIS
    bli_thread_set_num_threads(prev);
#else
    openblas_set_num_threads(prev);
#endif
}

/* Thread-use accounting (tests): every thread of a kernel's team sets its bit on entering the region. */
static atomic_ullong seen_gemm, seen_kernel;
static atomic_int gemm_team;

void k_note_gemm_team(int n) {
    int cur = atomic_load(&gemm_team);
    while (n > cur && !atomic_compare_exchange_weak(&gemm_team, &cur, n)) {}
}

void k_note_thread(int gemm) {
    int t = omp_get_thread_num();
    unsigned long long bit = 1ull << (t < 63 ? t : 63);
    atomic_fetch_or(gemm ? &seen_gemm : &seen_kernel, bit);
}

void lmc_kernels_thread_stats_reset(void) {
    atomic_store(&seen_gemm, 0);
    atomic_store(&seen_kernel, 0);
    atomic_store(&gemm_team, 0);
}

void lmc_kernels_thread_stats(int *gemm_threads, int *kernel_threads) {
    int split = __builtin_popcountll(atomic_load(&seen_gemm)), team = atomic_load(&gemm_team);
    *gemm_threads = split > team ? split : team;
    *kernel_threads = __builtin_popcountll(atomic_load(&seen_kernel));
}

/* How long an idle OpenMP thread spins before it sleeps. libgomp's default (OMP_WAIT_POLICY unset) is
 * 300,000 spins at every barrier and at the end of every parallel region. On a core of its own that is
 * harmless, but when the cores are shared -- two runs of a sweep on one machine, ctest -j, a neighbour's
 * job -- a waiting thread burns the time slice its partner needs, and both slow down far more than the
 * sharing explains. Measured on a 2-core Zen 3 (bench_train_step config S fp32, 2 threads each):
 * alone 740-764 tok/s with either setting; two at once 293 + 303 tok/s with libgomp's default against
 * 355 + 363 with 1,000 spins (passive: 374 + 376). A tiny model (train/test_resume_optim), two at once:
 * 16.7 s each by default, 4.5 s with 1,000 spins (alone: 1.3 s either way; passive would cost 60% alone).
 * So lmc asks for 1,000 spins unless the user chose (OMP_WAIT_POLICY or GOMP_SPINCOUNT).
 *
 * How: libgomp reads the environment once, in its constructor, and has no API for it. The executable's
 * .preinit_array runs before every shared library's constructor, but also before libc's, so setenv there
 * is undone when libc sets environ. Instead the preinit function, given the original environment,
 * re-executes the program (/proc/self/exe, same arguments) with GOMP_SPINCOUNT=1000 added -- once: the new
 * image finds the variable and goes on. If the exec fails the program runs with libgomp's default, as it
 * does under valgrind or when started through the dynamic loader by name. Every executable that links this
 * file (the static library's threads.c: lmc and the tests) does this. */
#define LMC_OMP_SPINS "1000"

/* getenv on an environment array (libc's own environ is not set up yet in a preinit function). */
static const char *env_value(char **envp, const char *name) {
    size_t n = strlen(name);
    for (char **e = envp; e && *e; e++)
        if (!strncmp(*e, name, n) && (*e)[n] == '=') return *e + n + 1;
    return NULL;
}

static void omp_wait_default(int argc, char **argv, char **envp) {
    (void)argc;
    if (!argv || !argv[0] || env_value(envp, "OMP_WAIT_POLICY") || env_value(envp, "GOMP_SPINCOUNT")) return;
    /* Under valgrind an exec would leave the tool (it follows children only when asked): stay. */
    const char *preload = env_value(envp, "LD_PRELOAD");
    if (preload && strstr(preload, "vgpreload")) return;
    char self[4096];
    ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    if (len <= 0) return;
    self[len] = 0;
    /* Started through the dynamic loader (ld-linux-x86-64.so.2 ./lmc): /proc/self/exe is the loader. */
    const char *base = strrchr(self, '/');
    base = base ? base + 1 : self;
    if (!strncmp(base, "ld-", 3) || !strncmp(base, "ld.so", 5)) return;
    size_t n = 0;
    while (envp && envp[n]) n++;
    char **env2 = malloc((n + 2) * sizeof *env2);
    if (!env2) return;
    for (size_t i = 0; i < n; i++) env2[i] = envp[i];
    env2[n] = (char *)"GOMP_SPINCOUNT=" LMC_OMP_SPINS;
    env2[n + 1] = NULL;
    execve(self, argv, env2);
    free(env2);   /* exec failed: run on with libgomp's default */
}
__attribute__((section(".preinit_array"), used)) static void (*const omp_wait_preinit)(int, char **, char **) =
    omp_wait_default;

const char *lmc_kernels_omp_wait(void) {
    const char *p = getenv("OMP_WAIT_POLICY"), *c = getenv("GOMP_SPINCOUNT");
    static char buf[200];
    if (!p && c && !strcmp(c, LMC_OMP_SPINS))
        return "idle threads spin " LMC_OMP_SPINS " times, then sleep (GOMP_SPINCOUNT=" LMC_OMP_SPINS
               ", lmc's default; OMP_WAIT_POLICY or GOMP_SPINCOUNT overrides)";
    if (!p && !c) return "libgomp's default (lmc could not set GOMP_SPINCOUNT)";
    snprintf(buf, sizeof buf, "%s%s%s%s%s (from the environment)", p ? "OMP_WAIT_POLICY=" : "", p ? p : "",
             p && c ? ", " : "", c ? "GOMP_SPINCOUNT=" : "", c ? c : "");
    return buf;
}
