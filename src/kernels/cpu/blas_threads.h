/* Internal: run BLAS single-threaded while an OpenMP region calls it from every thread. */
#ifndef LMC_KERNELS_CPU_BLAS_THREADS_H
#define LMC_KERNELS_CPU_BLAS_THREADS_H
int k_blas_single_begin(void);   /* returns the previous BLAS thread count */
void k_blas_single_end(int prev);
void k_threads_init_once(void);   /* BLAS single-threaded unless lmc_kernels_set_threads ran */
/* Thread-use accounting: the calling OpenMP thread marks itself as having run a GEMM part (gemm = 1)
 * or another kernel's region (gemm = 0). Read with lmc_kernels_thread_stats(). */
void k_note_thread(int gemm);
/* A GEMM library that threads internally ran one GEMM on a team of n threads. */
void k_note_gemm_team(int n);
#endif
