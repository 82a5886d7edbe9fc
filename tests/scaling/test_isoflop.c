/* Approach 2 (IsoFLOP parabolas) on synthetic runs from a known law: the per-budget optima and the
 * exponent N_opt ∝ C^(beta/(alpha+beta)) are recovered; FLOPs that differ by a little jitter still
 * group; too few shared budgets is a clear error; `lmc scaling fit --approach 2 --json` works. */
#include <stdio.h>
#include <sys/wait.h>

#include "base/base.h"
#include "scaling/scaling.h"
#include "test.h"

static const scaling_law truth = {1.8172, 482.01, 2085.43, 0.3478, 0.3658};

/* nb budgets 1e18 * 10^(k/2); per budget 9 sizes N*(C) * 2^(j/2), j = -4..4 (a +-4x grid). */
static void synth(scaling_runs *r, int nb, double jitter, double noise) {
    lmc_err err;
    scaling_alloc al;
    CHECK(scaling_law_alloc(&truth, &al, &err) == 0);
    CHECK(scaling_runs_alloc(r, (size_t)nb * 9, &err) == 0);
    lmc_rng rng;
    lmc_rng_init(&rng, 5);
    size_t k = 0;
    for (int b = 0; b < nb; b++) {
        double C = 1e18 * pow(10, b / 2.0), Nopt, Dopt;
        scaling_optimal(&al, C, &Nopt, &Dopt);
        for (int j = -4; j <= 4; j++, k++) {
            double N = Nopt * pow(2, j / 2.0);
            double c = C * (1 + jitter * (2 * lmc_rng_uniform_double(&rng) - 1));
            double D = c / (6 * N);
            r->params[k] = N;
            r->tokens[k] = D;
            r->flops[k] = c;
            r->loss[k] = scaling_law_loss(&truth, N, D) * exp(noise * lmc_rng_normal(&rng));
        }
    }
}

int main(void) {
    lmc_err err = {0};
    scaling_alloc al;
    CHECK(scaling_law_alloc(&truth, &al, &err) == 0);
    scaling_runs r;
    scaling_isoflop f;

    synth(&r, 7, 0, 0);
    CHECK_MSG(scaling_isoflop_fit(&r, 1e-9, &f, &err) == 0, "%s", err.msg);
    CHECK_EQ_INT(f.n_budgets, 7);
    CHECK_EQ_INT(f.n_used, 7);
    printf("noiseless: N_opt exp %.5f (law %.5f), D_opt exp %.5f (law %.5f)\n", f.n_exp, al.n_exp, f.d_exp, al.d_exp);
    /* the vertex bias is the same fraction at every budget, so the slope is exact up to rounding */
    CHECK_CLOSE(f.n_exp, al.n_exp, 2e-3, 0);
    CHECK_CLOSE(f.d_exp, al.d_exp, 2e-3, 0);
    CHECK_CLOSE(f.n_exp + f.d_exp, 1.0, 2e-3, 0);
    for (int b = 0; b < f.n_budgets; b++) {
        double N, D;
        scaling_optimal(&al, f.budgets[b].C, &N, &D);
        CHECK_CLOSE(f.budgets[b].C, 1e18 * pow(10, b / 2.0), 0, 1e-12);
        CHECK_EQ_INT(f.budgets[b].n, 9);
        CHECK(f.budgets[b].inside);
        CHECK_CLOSE(f.budgets[b].N_opt, N, 0, 0.1); /* the parabola's vertex bias at +-4x is a few % */
        CHECK_CLOSE(f.budgets[b].L_opt, scaling_law_loss(&truth, N, D), 0, 1e-3);
    }
    scaling_isoflop_free(&f);
    scaling_runs_free(&r);

    /* 0.5% FLOP jitter and 0.5% loss noise: grouped with a 2% tolerance, exponent within 0.05. */
    synth(&r, 7, 0.005, 0.005);
    CHECK_MSG(scaling_isoflop_fit(&r, 0.02, &f, &err) == 0, "%s", err.msg);
    CHECK_EQ_INT(f.n_budgets, 7);
    printf("noisy: N_opt exp %.5f, D_opt exp %.5f\n", f.n_exp, f.d_exp);
    CHECK_CLOSE(f.n_exp, al.n_exp, 0.05, 0);
    CHECK_CLOSE(f.n_exp + f.d_exp, 1.0, 0.05, 0);
    scaling_isoflop_free(&f);
    /* With a tolerance below the jitter nothing is shared: a clear error. */
    CHECK(scaling_isoflop_fit(&r, 1e-9, &f, &err) == LMC_EINVAL);
    CHECK_STR_CONTAINS(err.msg, "needs >= 2 budgets");

    /* The CLI on a file. */
    const char *bin = getenv("LMC_BIN");
    if (bin) {
        char *dir = test_tmpdir();
        lmc_buf b = {0};
        lmc_buf_printf(&b, NULL, "params,tokens,flops,loss\n");
        for (size_t i = 0; i < r.n; i++)
            lmc_buf_printf(&b, NULL, "%.17g,%.17g,%.17g,%.17g\n", r.params[i], r.tokens[i], r.flops[i], r.loss[i]);
        char *csv = lmc_path_join(dir, "iso.csv"), *js = lmc_path_join(dir, "iso.json");
        CHECK(lmc_write_file_atomic(csv, b.data, b.len, &err) == 0);
        char cmd[9000];
        snprintf(cmd, sizeof cmd, "%s scaling fit %s --approach 2 --budget-tol 0.02 --json > %s", bin, csv, js);
        CHECK_EQ_INT(system(cmd), 0);
        json_t *j = lmc_json_load_file(js, &err);
        CHECK_MSG(j != NULL, "%s", err.msg);
        if (j) {
            CHECK_EQ_INT(json_integer_value(json_object_get(j, "n_budgets")), 7);
            CHECK_CLOSE(json_number_value(json_object_get(j, "N_opt_exp")), al.n_exp, 0.05, 0);
            json_decref(j);
        }
        /* The default output shows both approaches. */
        snprintf(cmd, sizeof cmd, "%s scaling fit %s --budget-tol 0.02 > %s", bin, csv, js);
        CHECK_EQ_INT(system(cmd), 0);
        char *txt;
        size_t len;
        CHECK(lmc_read_file(js, &txt, &len, &err) == 0);
        CHECK_STR_CONTAINS(txt, "Approach 3");
        CHECK_STR_CONTAINS(txt, "Approach 2 (IsoFLOP parabolas; 7 budgets");
        free(txt);
        /* No shared budgets: --approach 2 fails with the reason. */
        snprintf(cmd, sizeof cmd, "%s scaling fit %s --approach 2 --budget-tol 0 2> %s", bin, csv, js);
        int st = system(cmd);
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 1);
        CHECK(lmc_read_file(js, &txt, &len, &err) == 0);
        CHECK_STR_CONTAINS(txt, "needs >= 2 budgets");
        free(txt);
        lmc_buf_free(&b);
        free(csv);
        free(js);
        lmc_remove_tree(dir, &err);
        free(dir);
    }
    scaling_runs_free(&r);
    return test_summary("scaling/isoflop");
}
