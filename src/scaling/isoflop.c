/* Approach 2 (Hoffmann et al. 2022): for each FLOP budget shared by several runs, fit a parabola of
 * loss against ln N (and, separately, against ln D); its vertex is that budget's optimum. Then
 * N_opt ∝ C^a and D_opt ∝ C^b by least squares in log-log space. Because both vertices are fitted
 * independently, a + b ≈ 1 is a real consistency check (TECHNIQUES §8a: keep grids within ±2–4x). */
#include "scaling/scaling.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct idx_flops {
    double c;
    size_t i;
} idx_flops;

static int cmp_flops(const void *a, const void *b) {
    const idx_flops *x = a, *y = b;
    if (x->c != y->c) return x->c < y->c ? -1 : 1;
    return (x->i > y->i) - (x->i < y->i);
}

/* Least-squares y = p0 + p1 t + p2 t² with t = x - mean(x) (centred for conditioning).
 * Returns 0 and the vertex x_v = mean - p1/(2 p2), the value there; -1 if not convex/singular. */
static int parabola_vertex(const double *x, const double *y, int n, double *xv, double *yv) {
    double mx = 0;
    for (int i = 0; i < n; i++) mx += x[i];
    mx /= n;
    double s[5] = {0}, r[3] = {0};
    for (int i = 0; i < n; i++) {
        double t = x[i] - mx, tp = 1;
        for (int k = 0; k < 5; k++) { s[k] += tp; tp *= t; }
        r[0] += y[i]; r[1] += y[i] * t; r[2] += y[i] * t * t;
    }
    /* Normal equations M p = r, M[j][k] = s[j+k]; Cramer's rule on a 3x3. */
    double M[3][3] = {{s[0], s[1], s[2]}, {s[1], s[2], s[3]}, {s[2], s[3], s[4]}};
    double det = M[0][0] * (M[1][1] * M[2][2] - M[1][2] * M[2][1]) - M[0][1] * (M[1][0] * M[2][2] - M[1][2] * M[2][0])
               + M[0][2] * (M[1][0] * M[2][1] - M[1][1] * M[2][0]);
    double scale = s[0] * s[2] * s[4];
    if (!(fabs(det) > 1e-12 * scale)) return -1;
    double p[3];
    for (int c = 0; c < 3; c++) {
        double T[3][3];
        memcpy(T, M, sizeof T);
        for (int j = 0; j < 3; j++) T[j][c] = r[j];
        p[c] = (T[0][0] * (T[1][1] * T[2][2] - T[1][2] * T[2][1]) - T[0][1] * (T[1][0] * T[2][2] - T[1][2] * T[2][0])
                + T[0][2] * (T[1][0] * T[2][1] - T[1][1] * T[2][0])) / det;
    }
    if (!(p[2] > 0)) return -1;
    double tv = -p[1] / (2 * p[2]);
    *xv = mx + tv;
    *yv = p[0] + p[1] * tv + p[2] * tv * tv;
    return 0;
}

/* Least squares y = k + m x; returns slope m and intercept k. */
static void linfit(const double *x, const double *y, int n, double *m, double *k) {
    double mx = 0, my = 0;
    for (int i = 0; i < n; i++) { mx += x[i]; my += y[i]; }
    mx /= n; my /= n;
    double sxx = 0, sxy = 0;
    for (int i = 0; i < n; i++) { sxx += (x[i] - mx) * (x[i] - mx); sxy += (x[i] - mx) * (y[i] - my); }
    *m = sxy / sxx;
    *k = my - *m * mx;
}

void scaling_isoflop_free(scaling_isoflop *f) {
    if (!f) return;
    free(f->budgets);
    memset(f, 0, sizeof *f);
}

int scaling_isoflop_fit(const scaling_runs *r, double tol, scaling_isoflop *out, lmc_err *err) {
    memset(out, 0, sizeof *out);
    if (!(tol >= 0)) return lmc_errf(err, LMC_EINVAL, "budget tolerance must be >= 0, got %g", tol);
    size_t n = r->n;
    idx_flops *ord = malloc((n ? n : 1) * sizeof *ord);
    double *x = malloc((n ? n : 1) * sizeof *x), *xd = malloc((n ? n : 1) * sizeof *xd);
    double *y = malloc((n ? n : 1) * sizeof *y);
    scaling_isoflop_budget *b = malloc((n ? n : 1) * sizeof *b);
    if (!ord || !x || !xd || !y || !b) {
        free(ord); free(x); free(xd); free(y); free(b);
        return lmc_errf(err, LMC_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++) { ord[i].c = r->flops[i]; ord[i].i = i; }
    qsort(ord, n, sizeof *ord, cmp_flops);
    int nb = 0, groups = 0, small = 0, concave = 0;
    for (size_t g0 = 0; g0 < n;) {
        size_t g1 = g0 + 1;
        while (g1 < n && ord[g1].c <= ord[g0].c * (1 + tol)) g1++;
        groups++;
        int m = (int)(g1 - g0);
        double lc = 0, xmin = INFINITY, xmax = -INFINITY, dmin = INFINITY, dmax = -INFINITY;
        int distinct = 0;
        for (int k = 0; k < m; k++) {
            size_t i = ord[g0 + (size_t)k].i;
            x[k] = log(r->params[i]);
            xd[k] = log(r->tokens[i]);
            y[k] = r->loss[i];
            lc += log(r->flops[i]);
            int dup = 0;
            for (int j = 0; j < k; j++) dup |= x[j] == x[k];
            distinct += !dup;
            if (x[k] < xmin) xmin = x[k];
            if (x[k] > xmax) xmax = x[k];
            if (xd[k] < dmin) dmin = xd[k];
            if (xd[k] > dmax) dmax = xd[k];
        }
        g0 = g1;
        if (distinct < 3) { small++; continue; }
        double vN, lN, vD, lD;
        if (parabola_vertex(x, y, m, &vN, &lN) < 0 || parabola_vertex(xd, y, m, &vD, &lD) < 0) {
            concave++;
            continue;
        }
        scaling_isoflop_budget *bb = &b[nb++];
        bb->C = exp(lc / m);
        bb->n = m;
        bb->N_opt = exp(vN);
        bb->D_opt = exp(vD);
        bb->L_opt = lN;
        bb->inside = vN >= xmin && vN <= xmax && vD >= dmin && vD <= dmax;
    }
    free(ord); free(x); free(xd); free(y);
    if (nb < 2) {
        free(b);
        return lmc_errf(err, LMC_EINVAL,
                        "IsoFLOP (Approach 2) needs >= 2 budgets each shared by >= 3 runs of distinct size with a "
                        "convex loss curve; found %d usable of %d budget groups (%d with < 3 sizes, %d not convex) "
                        "at relative FLOP tolerance %g",
                        nb, groups, small, concave, tol);
    }
    /* Vertices outside the sampled sizes are extrapolations of a local quadratic: they do not enter
     * the exponent fit (they are still listed). */
    int ni = 0;
    for (int i = 0; i < nb; i++) ni += b[i].inside;
    if (ni < 2) {
        free(b);
        return lmc_errf(err, LMC_EINVAL,
                        "IsoFLOP (Approach 2): only %d of %d budgets have their optimum inside the sampled model "
                        "sizes; need >= 2 (sample sizes on both sides of the optimum)", ni, nb);
    }
    double *lc = malloc((size_t)ni * sizeof *lc), *ln = malloc((size_t)ni * sizeof *ln);
    double *ld = malloc((size_t)ni * sizeof *ld);
    if (!lc || !ln || !ld) {
        free(lc); free(ln); free(ld); free(b);
        return lmc_errf(err, LMC_ENOMEM, "out of memory");
    }
    for (int i = 0, j = 0; i < nb; i++) {
        if (!b[i].inside) continue;
        lc[j] = log(b[i].C); ln[j] = log(b[i].N_opt); ld[j] = log(b[i].D_opt);
        j++;
    }
    out->n_used = ni;
    double k;
    linfit(lc, ln, ni, &out->n_exp, &k);
    out->n_coef = exp(k);
    linfit(lc, ld, ni, &out->d_exp, &k);
    out->d_coef = exp(k);
    free(lc); free(ln); free(ld);
    out->budgets = b;
    out->n_budgets = nb;
    if (!isfinite(out->n_exp) || !isfinite(out->d_exp)) {
        scaling_isoflop_free(out);
        return lmc_errf(err, LMC_ENUMERIC, "IsoFLOP fit: the budgets do not span a range of FLOPs");
    }
    return 0;
}
