/* Fuzz the true-runs CSV reader of `lmc scaling mix --runs`: any bytes must give runs or a clean error,
 * never a crash. Parsed runs are also fitted once against a tiny fixed MDE cache (rank-deficient or
 * too-few-runs inputs must be refused cleanly too). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "base/base.h"
#include "scaling/mix.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static char path[256];
    if (!path[0]) snprintf(path, sizeof path, "/tmp/fuzz_mde_runs.%d.csv", (int)getpid());
    FILE *f = fopen(path, "wb");
    if (!f) return 0;
    if (size) fwrite(data, 1, size, f);
    fclose(f);
    static const char *const names[2] = {"a", "b"};
    double *alpha, *loss;
    int n;
    lmc_err err;
    if (mde_runs_load_csv(path, names, 2, &alpha, &loss, &n, &err) == 0) {
        static const float d0[6] = {0.5f, 1.0f, 2.0f, 3.0f, 2.5f, 0.25f}, d1[4] = {2.0f, 1.5f, 0.5f, 0.75f};
        const float *nll[2] = {d0, d1};
        const uint64_t ntok[2] = {3, 2};
        mde_cache c;
        if (mde_cache_from(&c, 2, ntok, nll, &err) == 0) {
            mde_regression g;
            if (mde_regression_fit(&g, &c, alpha, loss, n, &err) == 0) mde_regression_free(&g);
            mde_cache_free(&c);
        }
        free(alpha);
        free(loss);
    }
    unlink(path);
    return 0;
}
