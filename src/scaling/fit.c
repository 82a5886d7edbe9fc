/* Approach 3: Huber loss on log L against the log-sum-exp form, SUMMED over runs (Besiroglu et al.
 * 2024 found that averaging shrinks the objective ~400x and makes L-BFGS stop early), minimized by
 * liblbfgs from every point of an init grid; the lowest objective wins.
 *
 *   r_i = LSE(a - alpha ln N_i, b - beta ln D_i, e) - ln L_i
 *   f   = sum_i h(r_i),  h(r) = r²/2 (|r| <= delta), delta (|r| - delta/2) otherwise
 *   df/du_k = h'(r) w_k with w = softmax(u): the LSE gradient, so the gradient is exact. */
#include "scaling/scaling.h"

#include <lbfgs.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"

static const double def_alpha[] = {0, 0.5, 1.0, 1.5, 2.0};
static const double def_e[] = {-1, -0.5, 0, 0.5, 1};
static const double def_ab[] = {0, 5, 10, 15, 20, 25};

void scaling_fit_opts_default(scaling_fit_opts *o) {
    memset(o, 0, sizeof *o);
    o->huber_delta = 1e-3;
}

/* Log-space data of one fit (precomputed once: the objective runs millions of times). */
typedef struct fit_data {
    size_t n;
    const double *lnN, *lnD, *lnL;
    double delta;
    int evals;
} fit_data;

static double objective_logs(const fit_data *d, const double *x, double *g) {
    const double a = x[0], b = x[1], e = x[2], al = x[3], be = x[4], delta = d->delta;
    double f = 0, ga = 0, gb = 0, ge = 0, gal = 0, gbe = 0;
    for (size_t i = 0; i < d->n; i++) {
        double u1 = a - al * d->lnN[i], u2 = b - be * d->lnD[i], u3 = e;
        double m = u1 > u2 ? u1 : u2;
        if (u3 > m) m = u3;
        double e1 = exp(u1 - m), e2 = exp(u2 - m), e3 = exp(u3 - m);
        double s = e1 + e2 + e3;
        double r = m + log(s) - d->lnL[i];
        double ar = fabs(r), h, dh;
        if (ar <= delta) { h = 0.5 * r * r; dh = r; }
        else { h = delta * (ar - 0.5 * delta); dh = r > 0 ? delta : -delta; }
        f += h;
        if (g) {
            double c = dh / s;
            double w1 = c * e1, w2 = c * e2;
            ga += w1;
            gb += w2;
            ge += c * e3;
            gal -= w1 * d->lnN[i];
            gbe -= w2 * d->lnD[i];
        }
    }
    if (g) { g[0] = ga; g[1] = gb; g[2] = ge; g[3] = gal; g[4] = gbe; }
    return f;
}

typedef struct logs_buf {
    double *lnN, *lnD, *lnL;
} logs_buf;

static int logs_make(const scaling_runs *r, const size_t *pick, size_t n, logs_buf *lb, fit_data *d,
                     double delta, lmc_err *err) {
    size_t m = n ? n : 1;
    lb->lnN = lmc_alloc_array(m, sizeof(double), err);
    lb->lnD = lmc_alloc_array(m, sizeof(double), err);
    lb->lnL = lmc_alloc_array(m, sizeof(double), err);
    if (!lb->lnN || !lb->lnD || !lb->lnL) {
        lmc_free(lb->lnN); lmc_free(lb->lnD); lmc_free(lb->lnL);
        return LMC_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        size_t j = pick ? pick[i] : i;
        lb->lnN[i] = log(r->params[j]);
        lb->lnD[i] = log(r->tokens[j]);
        lb->lnL[i] = log(r->loss[j]);
    }
    d->n = n;
    d->lnN = lb->lnN; d->lnD = lb->lnD; d->lnL = lb->lnL;
    d->delta = delta;
    d->evals = 0;
    return 0;
}

static void logs_free(logs_buf *lb) {
    lmc_free(lb->lnN); lmc_free(lb->lnD); lmc_free(lb->lnL);
}

double scaling_objective(const scaling_runs *r, const double x[5], double delta, double grad[5]) {
    fit_data d;
    logs_buf lb;
    lmc_err err;
    if (logs_make(r, NULL, r->n, &lb, &d, delta, &err) < 0) return NAN;
    double f = objective_logs(&d, x, grad);
    logs_free(&lb);
    return f;
}

static lbfgsfloatval_t lbfgs_eval(void *inst, const lbfgsfloatval_t *x, lbfgsfloatval_t *g, const int n,
                                  const lbfgsfloatval_t step) {
    fit_data *d = inst;
    d->evals++;
    double f = objective_logs(d, x, g);
    /* A non-finite value makes the line search back off instead of accepting garbage. */
    if (!isfinite(f)) return INFINITY;
    return f;
}

static int lbfgs_iter_count(void *inst, const lbfgsfloatval_t *x, const lbfgsfloatval_t *g,
                            const lbfgsfloatval_t fx, const lbfgsfloatval_t xnorm, const lbfgsfloatval_t gnorm,
                            const lbfgsfloatval_t step, int n, int k, int ls) {
    (void)inst; (void)x; (void)g; (void)fx; (void)xnorm; (void)gnorm; (void)step; (void)n; (void)k; (void)ls;
    return 0;
}

/* One minimization on prepared logs. Returns the liblbfgs status of the last pass.
 *
 * The Huber kink (second derivative jumps at |r| = delta) often makes liblbfgs's line search give up
 * (LBFGSERR_ROUNDING_ERROR and friends) far from the optimum, with a stale curvature model. Restarting
 * from the point it reached, with a fresh model, is what it needs: passes repeat while the objective
 * still falls (relative 1e-15) and at most 50 times. */
static int minimize(fit_data *d, const scaling_fit_opts *o, const double x0[5], double x_out[5], double *fx,
                    int *iters) {
    lbfgs_parameter_t p;
    lbfgs_parameter_init(&p);
    p.epsilon = o->epsilon > 0 ? o->epsilon : 1e-10;
    p.max_iterations = o->max_iterations > 0 ? o->max_iterations : 10000;
    p.past = 0;
    p.max_linesearch = 60;
    lbfgsfloatval_t *x = lbfgs_malloc(5);
    if (!x) return LBFGSERR_OUTOFMEMORY;
    for (int j = 0; j < 5; j++) x[j] = x0[j];
    d->evals = 0;
    double prev = objective_logs(d, x, NULL);
    int st = LBFGS_SUCCESS;
    for (int pass = 0; pass < 50; pass++) {
        lbfgsfloatval_t f = 0;
        double keep[5];
        for (int j = 0; j < 5; j++) keep[j] = x[j];
        st = lbfgs(5, x, &f, lbfgs_eval, lbfgs_iter_count, d, &p);
        /* liblbfgs may leave fx at a trial point when the line search fails; re-evaluate at x. */
        double cur = objective_logs(d, x, NULL);
        if (!(cur <= prev)) { /* never accept a worse or non-finite point */
            for (int j = 0; j < 5; j++) x[j] = keep[j];
            break;
        }
        int progressed = prev - cur > 1e-15 * fabs(prev);
        prev = cur;
        if (st >= 0 || st == LBFGSERR_MAXIMUMITERATION || st == LBFGSERR_OUTOFMEMORY || !progressed) break;
    }
    for (int j = 0; j < 5; j++) x_out[j] = x[j];
    lbfgs_free(x);
    *fx = prev;
    if (iters) *iters = d->evals;
    return st;
}

int scaling_fit_from(const scaling_runs *r, const scaling_fit_opts *o, const double x0[5], double x_out[5],
                     double *fx, int *status, int *iters, lmc_err *err) {
    fit_data d;
    logs_buf lb;
    int rc = logs_make(r, NULL, r->n, &lb, &d, o->huber_delta, err);
    if (rc < 0) return rc;
    int st = minimize(&d, o, x0, x_out, fx, iters);
    logs_free(&lb);
    if (status) *status = st;
    if (st == LBFGSERR_OUTOFMEMORY) return lmc_errf(err, LMC_ENOMEM, "L-BFGS: out of memory");
    if (!isfinite(*fx)) return lmc_errf(err, LMC_ENUMERIC, "L-BFGS ended at a non-finite objective");
    return 0;
}

static int st_ok(int st) {
    return st == LBFGS_SUCCESS || st == LBFGS_ALREADY_MINIMIZED || st == LBFGS_STOP;
}

static int same_value(double a, double b) { return fabs(a - b) <= 1e-9 * fmax(fabs(a), fabs(b)); }

/* Distinct values of x[0..n) (up to a 1e-9 relative tolerance; O(n^2), runs files are small). */
static size_t n_distinct(const double *x, size_t n) {
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        size_t j = 0;
        while (j < i && !same_value(x[i], x[j])) j++;
        k += j == i;
    }
    return k;
}

/* Can the design pin down L = E + A/N^alpha + B/D^beta? Repeated runs add no information: the fit
 * needs 5 distinct (N, D) points, and each power law needs 3 distinct values of its variable (two
 * would fit its coefficient and exponent exactly with E, leaving them undetermined). Without this a
 * file of identical rows "fits" with any exponent. */
static int identifiable(const scaling_runs *r, lmc_err *err) {
    size_t pts = 0;
    for (size_t i = 0; i < r->n; i++) {
        size_t j = 0;
        while (j < i && !(same_value(r->params[i], r->params[j]) && same_value(r->tokens[i], r->tokens[j]))) j++;
        pts += j == i;
    }
    size_t nn = n_distinct(r->params, r->n), nd = n_distinct(r->tokens, r->n);
    if (pts >= 5 && nn >= 3 && nd >= 3) return 0;
    return lmc_errf(err, LMC_EINVAL,
                    "%zu runs but %zu distinct (params, tokens) points, %zu distinct params and %zu distinct tokens: "
                    "fitting E + A/N^alpha + B/D^beta needs at least 5 points with 3 distinct values of each",
                    r->n, pts, nn, nd);
}

int scaling_fit_grid(const scaling_runs *r, const scaling_fit_opts *o, scaling_fit *out, lmc_err *err) {
    memset(out, 0, sizeof *out);
    if (!(o->huber_delta > 0) || !isfinite(o->huber_delta))
        return lmc_errf(err, LMC_EINVAL, "huber delta must be positive, got %g", o->huber_delta);
    if (r->n < 5) return lmc_errf(err, LMC_EINVAL, "%zu runs: fitting 5 parameters needs at least 5", r->n);
    if (identifiable(r, err)) return LMC_EINVAL;
    const double *ga = o->grid_alpha ? o->grid_alpha : def_alpha, *gb = o->grid_beta ? o->grid_beta : def_alpha;
    const double *ge = o->grid_e ? o->grid_e : def_e, *gA = o->grid_a ? o->grid_a : def_ab;
    const double *gB = o->grid_b ? o->grid_b : def_ab;
    int na = o->grid_alpha ? o->n_alpha : 5, nb = o->grid_beta ? o->n_beta : 5, ne = o->grid_e ? o->n_e : 5;
    int nA = o->grid_a ? o->n_a : 6, nB = o->grid_b ? o->n_b : 6;
    int total = na * nb * ne * nA * nB;
    if (total <= 0) return lmc_errf(err, LMC_EINVAL, "empty init grid");
    fit_data base;
    logs_buf lb;
    int rc = logs_make(r, NULL, r->n, &lb, &base, o->huber_delta, err);
    if (rc < 0) return rc;
    double *fx = lmc_alloc_array((size_t)total, sizeof(double), err);
    double *xs = lmc_alloc_array((size_t)total * 5, sizeof(double), err);
    int *sts = lmc_alloc_array((size_t)total, sizeof(int), err);
    if (!fx || !xs || !sts) {
        lmc_free(fx); lmc_free(xs); lmc_free(sts); logs_free(&lb);
        return LMC_ENOMEM;
    }
    /* Each start is independent and deterministic; the reduction below is in index order. */
    #pragma omp parallel for schedule(dynamic, 4)
    for (int s = 0; s < total; s++) {
        int k = s;
        int ib = k % nB; k /= nB;
        int iA = k % nA; k /= nA;
        int ie = k % ne; k /= ne;
        int ibe = k % nb; k /= nb;
        int ial = k;
        double x0[5] = {gA[iA], gB[ib], ge[ie], ga[ial], gb[ibe]};
        fit_data d = base;
        sts[s] = minimize(&d, o, x0, xs + (size_t)s * 5, &fx[s], NULL);
    }
    int best = -1, conv = 0;
    for (int s = 0; s < total; s++) {
        if (st_ok(sts[s])) conv++;
        if (!isfinite(fx[s])) continue;
        if (best < 0 || fx[s] < fx[best]) best = s;
    }
    if (best < 0) {
        rc = lmc_errf(err, LMC_ENUMERIC, "no start of the %d-point grid reached a finite objective", total);
    } else {
        out->objective = fx[best];
        memcpy(out->x, xs + (size_t)best * 5, sizeof out->x);
        int k = best;
        int ib = k % nB; k /= nB;
        int iA = k % nA; k /= nA;
        int ie = k % ne; k /= ne;
        int ibe = k % nb; k /= nb;
        double x0[5] = {gA[iA], gB[ib], ge[ie], ga[k], gb[ibe]};
        memcpy(out->x0, x0, sizeof x0);
        out->best_start = best;
        out->n_starts = total;
        out->n_converged = conv;
        out->status = sts[best];
        scaling_law_from_x(out->x, &out->law);
        if (!isfinite(out->law.A) || !isfinite(out->law.B) || !isfinite(out->law.E))
            rc = lmc_errf(err, LMC_ENUMERIC, "the best fit has non-finite parameters (a=%g b=%g e=%g)",
                          out->x[0], out->x[1], out->x[2]);
    }
    lmc_free(fx); lmc_free(xs); lmc_free(sts);
    logs_free(&lb);
    return rc;
}

int scaling_bootstrap(const scaling_runs *r, const scaling_fit_opts *o, const double from[5], int K,
                      uint64_t seed, double *samples, lmc_err *err) {
    if (K <= 0) return lmc_errf(err, LMC_EINVAL, "bootstrap needs K >= 1, got %d", K);
    size_t n = r->n;
    int fail = 0;
    #pragma omp parallel
    {
        size_t *pick = malloc((n ? n : 1) * sizeof *pick);
        if (!pick) {
            #pragma omp atomic write
            fail = LMC_ENOMEM;
        }
        #pragma omp for schedule(dynamic, 1)
        for (int k = 0; k < K; k++) {
            if (!pick) continue;
            lmc_rng rng;
            lmc_rng_init(&rng, lmc_rng_derive(seed, (uint64_t)k));
            for (size_t i = 0; i < n; i++) pick[i] = (size_t)lmc_rng_below(&rng, n);
            fit_data d;
            logs_buf lb;
            lmc_err e2;
            double *row = samples + (size_t)k * 5;
            if (logs_make(r, pick, n, &lb, &d, o->huber_delta, &e2) < 0) {
                #pragma omp atomic write
                fail = LMC_ENOMEM;
                continue;
            }
            double x[5], fx;
            minimize(&d, o, from, x, &fx, NULL);
            logs_free(&lb);
            scaling_law law;
            scaling_law_from_x(x, &law);
            row[0] = law.E; row[1] = law.A; row[2] = law.B; row[3] = law.alpha; row[4] = law.beta;
        }
        free(pick);
    }
    if (fail) return lmc_errf(err, fail, "bootstrap: out of memory");
    return 0;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double scaling_quantile(const double *v, size_t n, size_t stride, double q) {
    if (n == 0) return NAN;
    double *t = malloc(n * sizeof *t);
    if (!t) return NAN;
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (!isnan(v[i * stride])) t[m++] = v[i * stride];
    if (m == 0) { free(t); return NAN; }
    qsort(t, m, sizeof *t, cmp_double);
    double pos = q * (double)(m - 1);
    size_t lo = (size_t)floor(pos);
    size_t hi = lo + 1 < m ? lo + 1 : lo;
    double fr = pos - (double)lo;
    double res = t[lo] + fr * (t[hi] - t[lo]);
    free(t);
    return res;
}
