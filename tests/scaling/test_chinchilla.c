/* The replication's data (../shared/data/chinchilla/runs_240.csv): the full 4,500-start fit reproduces
 * Besiroglu et al. 2024 (E = 1.8172, alpha = 0.3478, beta = 0.3658; E within 0.01, exponents within
 * 0.005); about 20 tokens per parameter at the optimum. (The CLI is tested in test_cli.) */
#include <stdio.h>

#include "base/base.h"
#include "scaling/scaling.h"
#include "test.h"

int main(void) {
    char path[4096];
    snprintf(path, sizeof path, "%s/data/chinchilla/runs_240.csv", test_shared_dir());
    if (!lmc_file_exists(path)) TEST_SKIP("%s absent", path);
    lmc_err err = {0};
    scaling_runs r;
    CHECK_MSG(scaling_runs_load_csv(path, 5, &r, &err) == 0, "%s", err.msg);
    CHECK_EQ_INT(r.n, 240);
    CHECK_CLOSE(r.tokens[0], r.flops[0] / (6 * r.params[0]), 0, 1e-15);
    scaling_fit_opts o;
    scaling_fit_opts_default(&o);
    scaling_fit fit;
    CHECK_MSG(scaling_fit_grid(&r, &o, &fit, &err) == 0, "%s", err.msg);
    printf("E %.5f A %.2f B %.2f alpha %.5f beta %.5f objective %.12g (start %d, %d/%d converged)\n", fit.law.E,
           fit.law.A, fit.law.B, fit.law.alpha, fit.law.beta, fit.objective, fit.best_start, fit.n_converged,
           fit.n_starts);
    CHECK_CLOSE(fit.law.E, 1.8172, 0.01, 0);
    CHECK_CLOSE(fit.law.alpha, 0.3478, 0.005, 0);
    CHECK_CLOSE(fit.law.beta, 0.3658, 0.005, 0);
    scaling_alloc al;
    CHECK(scaling_law_alloc(&fit.law, &al, &err) == 0);
    double N, D;
    scaling_optimal(&al, 1e21, &N, &D);
    CHECK(D / N > 15 && D / N < 30); /* about 20 tokens per parameter */

    scaling_runs_free(&r);
    return test_summary("scaling/chinchilla");
}
