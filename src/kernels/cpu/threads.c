/* Thread count for OpenMP kernels and BLAS together. */
#include "kernels/cpu/kernels.h"
#include <omp.h>
#include <cblas.h>
#include <stdint.h>

#ifdef LMC_BLAS_BLIS
/* blis.h does not compile warning-free under -Wextra; these two are all we need (dim_t is int64). */
void bli_thread_set_num_threads(int64_t n_threads);
int64_t bli_thread_get_num_threads(void);
#endif

static _Atomic int blas_configured;

/* Called by the GEMM paths: a caller that never set the threads still gets single-threaded BLAS. */
void k_threads_init_once(void) {
    if (!blas_configured) {
        blas_configured = 1;
#ifdef LMC_BLAS_BLIS
        bli_thread_set_num_threads(1);
#else
        openblas_set_num_threads(1);
#endif
    }
}

void lmc_kernels_set_threads(int n) {
    blas_configured = 1;
    if (n <= 0) n = omp_get_num_procs();
    omp_set_num_threads(n);
    /* BLAS always runs single-threaded: k_gemm splits GEMMs over the OpenMP threads itself. */
#ifdef LMC_BLAS_BLIS
    bli_thread_set_num_threads(1);
#else
    openblas_set_num_threads(1);
#endif
}

int lmc_kernels_get_threads(void) { return omp_get_max_threads(); }

#include "kernels/cpu/blas_threads.h"

int k_blas_single_begin(void) {
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
#ifdef LMC_BLAS_BLIS
    bli_thread_set_num_threads(prev);
#else
    openblas_set_num_threads(prev);
#endif
}
