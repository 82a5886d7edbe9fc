/* The fitted law, its compute-optimal allocation, and the Power Lines arithmetic (TECHNIQUES §7). */
#include "scaling/scaling.h"

#include <math.h>
#include <string.h>

#include "base/base.h"

void scaling_law_from_x(const double x[5], scaling_law *law) {
    law->A = exp(x[0]);
    law->B = exp(x[1]);
    law->E = exp(x[2]);
    law->alpha = x[3];
    law->beta = x[4];
}

void scaling_law_to_x(const scaling_law *law, double x[5]) {
    x[0] = log(law->A);
    x[1] = log(law->B);
    x[2] = log(law->E);
    x[3] = law->alpha;
    x[4] = law->beta;
}

double scaling_law_loss(const scaling_law *law, double N, double D) {
    return law->E + law->A / pow(N, law->alpha) + law->B / pow(D, law->beta);
}

int scaling_law_alloc(const scaling_law *law, scaling_alloc *out, lmc_err *err) {
    double s = law->alpha + law->beta;
    if (!(law->alpha > 0) || !(law->beta > 0) || !(law->A > 0) || !(law->B > 0) || !isfinite(s))
        return lmc_errf(err, LMC_EINVAL,
                        "compute-optimal allocation needs alpha, beta, A, B > 0 (alpha=%g beta=%g A=%g B=%g)",
                        law->alpha, law->beta, law->A, law->B);
    /* In logs: ln G = (ln(alpha) + ln A - ln(beta) - ln B) / (alpha + beta); A, B can be huge. */
    double lnG = (log(law->alpha) + log(law->A) - log(law->beta) - log(law->B)) / s;
    out->G = exp(lnG);
    out->n_exp = law->beta / s;
    out->d_exp = law->alpha / s;
    out->n_coef = exp(lnG - out->n_exp * log(6.0));
    out->d_coef = exp(-lnG - out->d_exp * log(6.0));
    if (!isfinite(out->G) || !(out->G > 0))
        return lmc_errf(err, LMC_ENUMERIC, "compute-optimal coefficient G overflows (ln G = %g)", lnG);
    return 0;
}

void scaling_optimal(const scaling_alloc *al, double C, double *N, double *D) {
    double c6 = C / 6.0;
    double n = al->G * pow(c6, al->n_exp);
    *N = n;
    /* D* = G^-1 (C/6)^(alpha/(alpha+beta)) = (C/6) / N* exactly; dividing keeps N*·D* = C/6. */
    *D = c6 / n;
}

double scaling_tau_opt(double tpp, double c_tau, double m_tau) {
    return c_tau * pow(tpp, m_tau);
}

double scaling_tau(double B, double lr, double wd, double D) {
    return B / (lr * wd * D);
}

double scaling_wd_for_tau(double B, double lr, double D, double tau) {
    return B / (lr * D * tau);
}

int scaling_law_load_json(const char *path, scaling_law *law, lmc_err *err) {
    json_t *j = lmc_json_load_file(path, err);
    if (!j) return err && err->code ? err->code : LMC_EFORMAT;
    int rc = 0;
    if (!json_is_object(j)) rc = lmc_errf(err, LMC_EFORMAT, "%s: expected a JSON object (the `lmc scaling fit --json` line)", path);
    static const char *const keys[5] = {"E", "A", "B", "alpha", "beta"};
    double v[5] = {0};
    for (int k = 0; k < 5 && rc == 0; k++) {
        rc = lmc_json_get_num(j, keys[k], &v[k], path, err);
        if (rc == LMC_ENOTFOUND) rc = lmc_errf(err, LMC_EFORMAT, "%s: key '%s' is missing (expected the `lmc scaling fit --json` output)", path, keys[k]);
        else if (rc == 0 && (!isfinite(v[k]) || !(v[k] > 0)))
            rc = lmc_errf(err, LMC_EINVAL, "%s: '%s' must be a positive finite number, got %g", path, keys[k], v[k]);
    }
    json_decref(j);
    if (rc < 0) return rc;
    law->E = v[0]; law->A = v[1]; law->B = v[2]; law->alpha = v[3]; law->beta = v[4];
    return 0;
}

int scaling_law_eval(const scaling_law *law, const scaling_runs *r, scaling_eval *out) {
    memset(out, 0, sizeof *out);
    if (r->n == 0) return LMC_EINVAL;
    double sa = 0, sl = 0;
    for (size_t i = 0; i < r->n; i++) {
        double pred = scaling_law_loss(law, r->params[i], r->tokens[i]);
        double rel = pred / r->loss[i] - 1, lr = log(pred) - log(r->loss[i]);
        sa += fabs(rel);
        sl += lr * lr;
        if (fabs(rel) > fabs(out->max_rel)) out->max_rel = rel;
        out->mean_rel += rel;
    }
    out->n = r->n;
    out->mean_abs_rel = sa / (double)r->n;
    out->mean_rel /= (double)r->n;
    out->rms_log = sqrt(sl / (double)r->n);
    return 0;
}
