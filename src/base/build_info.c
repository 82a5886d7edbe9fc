/* Build information. See build_info.h. */
#include "base/build_info.h"

#include <cblas.h>
#include <omp.h>
#include <stdio.h>
#include <string.h>

#include "lmc_build_info.h"

#ifdef LMC_BLAS_BLIS
#include <blis.h>
#endif

const char *lmc_version(void) { return LMC_VERSION; }
const char *lmc_git_commit(void) { return LMC_GIT_COMMIT; }

const char *lmc_blas_info(void) {
    static char buf[256];
#ifdef LMC_BLAS_BLIS
    snprintf(buf, sizeof buf, "BLIS %s (OpenMP)", bli_info_get_version_str());
#else
    snprintf(buf, sizeof buf, "OpenBLAS (%s; core %s)", openblas_get_config(), openblas_get_corename());
#endif
    return buf;
}

const char *lmc_backends(void) {
    static char buf[256];
    snprintf(buf, sizeof buf, "cpu (OpenMP %d, up to %d threads)%s%s", _OPENMP, omp_get_max_threads(),
             LMC_HAVE_MPI ? ", mpi" : "", LMC_HAVE_CUDA ? ", cuda" : "");
    return buf;
}
