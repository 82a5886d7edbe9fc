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
