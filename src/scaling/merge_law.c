/* Fit of the merging scaling law (see merge_law.h). */
#include "scaling/merge_law.h"
#include <math.h>

/* weighted linear LS of loss ~ C + A x, x = 1/(k+b), w = k; returns wsse */
static double solve(const double *k, const double *y, size_t n, double b, double *C, double *A) {
    double sw = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
    for (size_t i = 0; i < n; i++) {
        double w = k[i], x = 1.0 / (k[i] + b);
        sw += w; sx += w * x; sy += w * y[i]; sxx += w * x * x; sxy += w * x * y[i];
    }
    double det = sw * sxx - sx * sx;
    if (!(fabs(det) > 1e-300)) { *C = sy / sw; *A = 0; }
    else { *A = (sw * sxy - sx * sy) / det; *C = (sy - *A * sx) / sw; }
    double e = 0;
    for (size_t i = 0; i < n; i++) {
        double r = y[i] - (*C + *A / (k[i] + b));
        e += k[i] * r * r;
    }
    return e;
}

int merge_law_fit(const double *k, const double *loss, size_t n, merge_law *out, lmc_err *err) {
    size_t distinct = 0;
    for (size_t i = 0; i < n; i++) {
        if (!(k[i] >= 1) || !isfinite(loss[i]))
            return lmc_errf(err, LMC_EINVAL, "merge law: point %zu has k = %g, loss = %g (need k >= 1, finite loss)", i + 1,
                            k[i], loss[i]);
        int seen = 0;
        for (size_t j = 0; j < i && !seen; j++) seen = k[j] == k[i];
        distinct += !seen;
    }
    if (distinct < 3) return lmc_errf(err, LMC_EINVAL, "merge law: %zu distinct k; the 3-parameter law needs at least 3", distinct);
    double best_b = 0, best = INFINITY, C, A;
    for (int g = 0; g <= 640; g++) {
        double b = g * 0.1, e = solve(k, loss, n, b, &C, &A);
        if (e < best) { best = e; best_b = b; }
    }
    /* golden section on [b - 0.1, b + 0.1] (b >= 0) */
    double lo = best_b > 0.1 ? best_b - 0.1 : 0, hi = best_b + 0.1, phi = (sqrt(5.0) - 1) / 2;
    for (int it = 0; it < 80; it++) {
        double m1 = hi - phi * (hi - lo), m2 = lo + phi * (hi - lo);
        if (solve(k, loss, n, m1, &C, &A) < solve(k, loss, n, m2, &C, &A)) hi = m2;
        else lo = m1;
    }
    double b = (lo + hi) / 2, e = solve(k, loss, n, b, &C, &A);
    if (e > best) { b = best_b; e = solve(k, loss, n, b, &C, &A); }
    out->C = C;
    out->A = A;
    out->b = b;
    out->wsse = e;
    return 0;
}
