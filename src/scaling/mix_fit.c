/* MDE's regression (src/scaling/mix.h): per domain j, least squares of the true proxy-run losses on
 * the features [α_1..α_k, L_MDE,j(α)], the paper's "linear + MDE" predictor. No intercept column: the
 * α's sum to 1, so an intercept would make the design rank-deficient. */
#include "scaling/mix.h"

#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void mde_regression_free(mde_regression *g) {
    free(g->coef);
    free(g->rmse);
    memset(g, 0, sizeof *g);
}

void mde_regression_predict(const mde_regression *g, const double *alpha, const double *lmde, double *out) {
    int k = g->k;
    for (int j = 0; j < k; j++) {
        const double *b = g->coef + (size_t)j * (k + 1);
        double y = b[k] * lmde[j];
        for (int i = 0; i < k; i++) y += b[i] * alpha[i];
        out[j] = y;
    }
}

int mde_regression_fit(mde_regression *g, const mde_cache *c, const double *alpha, const double *loss, int n,
                       lmc_err *err) {
    memset(g, 0, sizeof *g);
    int k = c->k, p = k + 1;
    if (n < p)
        return lmc_errf(err, LMC_EINVAL, "the linear + MDE regression has %d coefficients per domain and needs at least %d runs, got %d",
                        p, p, n);
    for (int r = 0; r < n; r++) {
        double s = 0;
        for (int i = 0; i < k; i++) {
            double v = alpha[(size_t)r * k + i];
            if (!(v >= 0) || !isfinite(v))
                return lmc_errf(err, LMC_EINVAL, "run %d: weight %d is %g; expected >= 0", r + 1, i + 1, v);
            s += v;
        }
        if (fabs(s - 1) > 1e-9) return lmc_errf(err, LMC_EINVAL, "run %d: the weights sum to %.12g, not 1", r + 1, s);
        for (int j = 0; j < k; j++)
            if (!isfinite(loss[(size_t)r * k + j]))
                return lmc_errf(err, LMC_EINVAL, "run %d: the loss of domain %d is not finite", r + 1, j + 1);
    }
    g->k = k;
    g->n_runs = n;
    g->coef = calloc((size_t)k * p, sizeof *g->coef);
    g->rmse = calloc((size_t)k, sizeof *g->rmse);
    double *X = malloc((size_t)n * p * sizeof *X), *y = malloc((size_t)n * sizeof *y);
    double *lm = malloc((size_t)n * k * sizeof *lm);
    lapack_int *jpvt = malloc((size_t)p * sizeof *jpvt);
    int rc = 0;
    if (!g->coef || !g->rmse || !X || !y || !lm || !jpvt) {
        rc = lmc_errf(err, LMC_ENOMEM, "out of memory");
        goto done;
    }
    for (int r = 0; r < n; r++) mde_loss(c, alpha + (size_t)r * k, lm + (size_t)r * k);
    for (int j = 0; j < k && !rc; j++) {
        for (int r = 0; r < n; r++) {
            memcpy(X + (size_t)r * p, alpha + (size_t)r * k, (size_t)k * sizeof *X);
            X[(size_t)r * p + k] = lm[(size_t)r * k + j];
            y[r] = loss[(size_t)r * k + j];
        }
        memset(jpvt, 0, (size_t)p * sizeof *jpvt);
        lapack_int rank = 0;
        /* complete orthogonal factorisation with a rank decision at rcond 1e-10: a design that does
         * not determine the coefficients is refused rather than fitted with arbitrary null-space parts */
        lapack_int info = LAPACKE_dgelsy(LAPACK_ROW_MAJOR, n, p, 1, X, p, y, 1, jpvt, 1e-10, &rank);
        if (info != 0) {
            rc = lmc_errf(err, LMC_ENUMERIC, "domain %d: the least-squares solve failed (LAPACK dgelsy info %d)", j + 1, (int)info);
        } else if (rank < p) {
            rc = lmc_errf(err, LMC_EINVAL,
                          "domain %d: the runs determine only %d of the %d coefficients; use more runs with distinct mixtures",
                          j + 1, (int)rank, p);
        } else {
            memcpy(g->coef + (size_t)j * p, y, (size_t)p * sizeof *y);
        }
    }
    if (!rc) {
        double pred[MDE_MAX_DOMAINS];
        for (int r = 0; r < n; r++) {
            mde_regression_predict(g, alpha + (size_t)r * k, lm + (size_t)r * k, pred);
            for (int j = 0; j < k; j++) {
                double e = pred[j] - loss[(size_t)r * k + j];
                g->rmse[j] += e * e;
            }
        }
        for (int j = 0; j < k; j++) g->rmse[j] = sqrt(g->rmse[j] / n);
    }
done:
    free(X);
    free(y);
    free(lm);
    free(jpvt);
    if (rc) mde_regression_free(g);
    return rc;
}
