/* What this build was made with, for `lmc --version` and run directories. */
#ifndef LMC_BASE_BUILD_INFO_H
#define LMC_BASE_BUILD_INFO_H

const char *lmc_version(void);     /* "0.1.0" */
const char *lmc_git_commit(void);  /* short hash, or "unknown" */
/* "openblas 0.3.21 (OpenMP, core SkylakeX)" — read from the BLAS library at run time. */
const char *lmc_blas_info(void);
/* "OpenMP (2 threads), MPI, CUDA" — the backends compiled in. */
const char *lmc_backends(void);

#endif
