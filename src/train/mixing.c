/* Domain-weight update rules (TECHNIQUES.md §11a-c); the contract is in mixing.h.
 * All arithmetic is in double: the weights live in the checkpoint and must not drift between a run and
 * its resume, and k is tiny (a handful of domains), so precision costs nothing. */
#include "train/mixing.h"

#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const rule_names[] = {"static", "doremi", "velocitune", "chameleon"};

int mix_rule_parse(const char *name, mix_rule *rule) {
    if (!name) return -1;
    for (int i = 0; i < (int)(sizeof rule_names / sizeof rule_names[0]); i++)
        if (strcmp(name, rule_names[i]) == 0) {
            if (rule) *rule = (mix_rule)i;
            return 0;
        }
    return -1;
}

const char *mix_rule_name(mix_rule rule) {
    if ((int)rule < 0 || (int)rule >= (int)(sizeof rule_names / sizeof rule_names[0])) return "unknown";
    return rule_names[rule];
}

/* w[i] <- w[i] exp(z[i]) / sum_j w[j] exp(z[j]), with max(z) subtracted first: the common factor
 * cancels in the ratio, and without it an excess loss of ~800 nats (a diverged proxy) overflows.
 * z[i] = scale * x[i]. */
static void reweight_exp(double *w, const double *x, double scale, int k) {
    double zmax = -INFINITY;
    for (int i = 0; i < k; i++)
        if (scale * x[i] > zmax) zmax = scale * x[i];
    double sum = 0;
    for (int i = 0; i < k; i++) {
        w[i] *= exp(scale * x[i] - zmax);
        sum += w[i];
    }
    for (int i = 0; i < k; i++) w[i] /= sum;
}

void mix_doremi_update(double *w, const double *excess, int k, double eta, double smoothing, double *avg) {
    reweight_exp(w, excess, eta, k); /* α' / Σα' */
    for (int i = 0; i < k; i++) w[i] = (1.0 - smoothing) * w[i] + smoothing / k;
    if (avg)
        for (int i = 0; i < k; i++) avg[i] += w[i];
}

/* Share of the gap to the target still left, clamped to [0, 1]. init <= target: the domain starts at
 * or below its target and nothing is left to learn. The negated comparisons also send NaN losses (a
 * domain never evaluated) to V = 0. */
static double velocity(double now, double init, double target) {
    double gap = init - target;
    if (!(gap > 0)) return 0;
    double x = (now - target) / gap;
    if (!(x > 0)) return 0;
    return x > 1 ? 1 : x;
}

void mix_velocitune_update(double *w, const double *loss_now, const double *loss_init, const double *loss_target,
                           int k, double *velocity_out) {
    /* no scratch array (k is the caller's): V is recomputed in each pass, it is three flops */
    double vmax = 0; /* V >= 0 always */
    for (int i = 0; i < k; i++) {
        double v = velocity(loss_now[i], loss_init[i], loss_target[i]);
        if (v > vmax) vmax = v;
    }
    double sum = 0;
    for (int i = 0; i < k; i++) {
        double v = velocity(loss_now[i], loss_init[i], loss_target[i]);
        w[i] *= exp(v - vmax);
        sum += w[i];
        if (velocity_out) velocity_out[i] = v;
    }
    for (int i = 0; i < k; i++) w[i] /= sum;
}

/* w = softmax(z / tau), max-shifted. */
static void softmax_tau(double *w, const double *z, int k, double tau) {
    double zmax = -INFINITY;
    for (int i = 0; i < k; i++)
        if (z[i] / tau > zmax) zmax = z[i] / tau;
    double sum = 0;
    for (int i = 0; i < k; i++) {
        w[i] = exp(z[i] / tau - zmax);
        sum += w[i];
    }
    for (int i = 0; i < k; i++) w[i] /= sum;
}

int mix_chameleon_weights(double *w, const double *emb, int k, int d, double lambda, double tau, int finetune,
                          double *scores_out, lmc_err *err) {
    if (k < 2) return lmc_errf(err, LMC_EINVAL, "chameleon: needs at least 2 domains, got %d", k);
    if (d < 1) return lmc_errf(err, LMC_EINVAL, "chameleon: embedding dimension must be >= 1, got %d", d);
    if (!(tau > 0)) return lmc_errf(err, LMC_EINVAL, "chameleon: temperature must be > 0, got %g", tau);
    for (long i = 0; i < (long)k * d; i++)
        if (!isfinite(emb[i]))
            return lmc_errf(err, LMC_ENUMERIC, "chameleon: embedding of domain %ld, component %ld is not finite",
                            i / d, i % d);
    size_t kk = (size_t)k * (size_t)k;
    double *om = malloc(kk * sizeof *om);   /* Ω, centred */
    double *a = malloc(kk * sizeof *a);     /* Ω + λkI, overwritten by its Cholesky factor */
    double *x = malloc(kk * sizeof *x);     /* (Ω + λkI)^-1 Ω */
    double *rmean = malloc((size_t)k * sizeof *rmean);
    double *s = malloc((size_t)k * sizeof *s);
    int rc = 0;
    if (!om || !a || !x || !rmean || !s) {
        rc = lmc_errf(err, LMC_ENOMEM, "chameleon: out of memory for a %d x %d kernel", k, k);
        goto done;
    }
    /* linear kernel Ω = X Xᵀ */
    for (int i = 0; i < k; i++)
        for (int j = 0; j <= i; j++) {
            double dot = 0;
            for (int c = 0; c < d; c++) dot += emb[(size_t)i * d + c] * emb[(size_t)j * d + c];
            om[(size_t)i * k + j] = om[(size_t)j * k + i] = dot;
        }
    /* double centring HΩH, H = I - 11ᵀ/k, written as sklearn's KernelCenterer does it:
     * Ω_ij - rowmean_i - colmean_j + grandmean (Ω is symmetric, so row and column means agree) */
    double grand = 0, raw_trace = 0, centred_trace = 0;
    for (int i = 0; i < k; i++) raw_trace += om[(size_t)i * k + i];
    for (int i = 0; i < k; i++) {
        double m = 0;
        for (int j = 0; j < k; j++) m += om[(size_t)i * k + j];
        rmean[i] = m / k;
        grand += rmean[i];
    }
    grand /= k;
    for (int i = 0; i < k; i++)
        for (int j = 0; j < k; j++) om[(size_t)i * k + j] += grand - rmean[i] - rmean[j];
    for (int i = 0; i < k; i++) centred_trace += om[(size_t)i * k + i];
    /* The centred trace is Σ_i |x_i - mean|^2. When it is rounding noise against the raw Σ_i |x_i|^2
     * (identical embeddings; the means above are not exact in floating point), S/ΣS below would be
     * noise divided by noise: the domains are indistinguishable, so each gets the same score. */
    int indistinct = !(centred_trace > 1e-12 * raw_trace);
    /* S = diag(Ω (Ω + λkI)^-1). Ω and (Ω + λkI)^-1 commute (both are functions of the symmetric Ω), so
     * the diagonal equals that of A^-1 Ω, which one Cholesky solve with Ω as right-hand side gives. */
    memcpy(a, om, kk * sizeof *a);
    for (int i = 0; i < k; i++) a[(size_t)i * k + i] += lambda * k;
    memcpy(x, om, kk * sizeof *x);
    lapack_int info = LAPACKE_dposv(LAPACK_ROW_MAJOR, 'L', k, k, a, k, x, k);
    if (info != 0) {
        rc = lmc_errf(err, LMC_ENUMERIC,
                      "chameleon: Ω + λkI is singular or not positive definite (λ = %g, LAPACK dposv info %d); "
                      "λ must be > 0", lambda, (int)info);
        goto done;
    }
    double ssum = 0;
    for (int i = 0; i < k; i++) {
        s[i] = x[(size_t)i * k + i];
        ssum += s[i];
    }
    if (indistinct || !(ssum > 0)) {
        for (int i = 0; i < k; i++) s[i] = 1.0 / k;
    } else {
        for (int i = 0; i < k; i++) s[i] /= ssum;
    }
    if (scores_out) memcpy(scores_out, s, (size_t)k * sizeof *s);
    if (finetune) {
        softmax_tau(w, s, k, tau); /* unique domains up */
    } else {
        for (int i = 0; i < k; i++) x[i] = 1.0 / (s[i] + 1e-12); /* x reused as k scratch doubles */
        softmax_tau(w, x, k, tau); /* common domains up */
    }
done:
    free(om);
    free(a);
    free(x);
    free(rmean);
    free(s);
    return rc;
}
