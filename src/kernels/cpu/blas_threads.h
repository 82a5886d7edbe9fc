/* Internal: run BLAS single-threaded while an OpenMP region calls it from every thread. */
#ifndef LMC_KERNELS_CPU_BLAS_THREADS_H
#define LMC_KERNELS_CPU_BLAS_THREADS_H
int k_blas_single_begin(void);   /* returns the previous BLAS thread count */
void k_blas_single_end(int prev);
void k_threads_init_once(void);   /* BLAS single-threaded unless lmc_kernels_set_threads ran */
#endif
