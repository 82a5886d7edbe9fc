/* MDE's loss of a mixture and the simplex search (src/scaling/mix.h). */
#include "scaling/mix.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "base/rng.h"

void mde_loss(const mde_cache *c, const double *alpha, double *out) {
    int k = c->k;
    double la[MDE_MAX_DOMAINS];
    for (int i = 0; i < k; i++) la[i] = alpha[i] > 0 ? log(alpha[i]) : -INFINITY;
    for (int j = 0; j < k; j++) {
        uint64_t n = c->ntok[j];
        const float *nll = c->nll[j];
        double sum = 0;
        for (uint64_t t = 0; t < n; t++) {
            /* -log Σ_i α_i exp(-ℓ_i) as a max-shifted log-sum-exp: experts with α_i = 0 drop out, and a
             * single expert with α_i = 1 gives back ℓ_i exactly (log 1 = 0, exp 0 = 1). */
            double mx = -INFINITY;
            for (int i = 0; i < k; i++) {
                double v = la[i] - (double)nll[(size_t)i * n + t];
                if (v > mx) mx = v;
            }
            double s = 0;
            for (int i = 0; i < k; i++)
                if (alpha[i] > 0) s += exp(la[i] - (double)nll[(size_t)i * n + t] - mx);
            sum += -(mx + log(s));
        }
        out[j] = sum / (double)n;
    }
}

const char *mde_origin_name(mde_origin o) {
    static const char *const names[] = {"vertex", "uniform", "dirichlet", "refine", "given"};
    return (int)o >= 0 && (int)o <= MDE_CAND_GIVEN ? names[o] : "?";
}

void mde_candidates_free(mde_candidate *c, int n) {
    if (!c) return;
    for (int i = 0; i < n; i++) {
        free(c[i].alpha);
        free(c[i].lmde);
        free(c[i].pred);
    }
    free(c);
}

/* A standard normal in double precision (Box-Muller; lmc_rng_normal is float). */
static double normal_double(lmc_rng *r) {
    double u1 = lmc_rng_uniform_double(r), u2 = lmc_rng_uniform_double(r);
    return sqrt(-2.0 * log(1.0 - u1)) * cos(2.0 * M_PI * u2);
}

/* Gamma(a, 1) by Marsaglia and Tsang (2000); a < 1 through Gamma(a + 1) · U^(1/a). */
static double gamma_draw(lmc_rng *r, double a) {
    if (a < 1) {
        double u = lmc_rng_uniform_double(r);
        return gamma_draw(r, a + 1) * pow(1.0 - u, 1.0 / a);
    }
    double d = a - 1.0 / 3, c = 1.0 / sqrt(9 * d);
    for (;;) {
        double x = normal_double(r), v = 1 + c * x;
        if (v <= 0) continue;
        v = v * v * v;
        double u = 1.0 - lmc_rng_uniform_double(r); /* (0, 1] */
        if (log(u) < 0.5 * x * x + d - d * v + d * log(v)) return d * v;
    }
}

static void dirichlet(lmc_rng *r, double conc, int k, double *out) {
    double s = 0;
    for (int i = 0; i < k; i++) s += out[i] = gamma_draw(r, conc);
    if (!(s > 0)) { /* every draw underflowed (tiny concentration): fall back to a random vertex */
        for (int i = 0; i < k; i++) out[i] = 0;
        out[lmc_rng_below(r, (uint64_t)k)] = 1;
        return;
    }
    for (int i = 0; i < k; i++) out[i] /= s;
}

typedef struct search {
    const mde_cache *c;
    const mde_search_opts *o;
    mde_candidate *cand;
    int n, cap;
} search;

/* Evaluate α and append it as a candidate (into *obj); -1 when out of memory. */
static int add(search *s, const double *alpha, mde_origin origin, double *obj) {
    int k = s->c->k;
    if (s->n == s->cap) {
        int cap = s->cap ? 2 * s->cap : 64;
        mde_candidate *nc = realloc(s->cand, (size_t)cap * sizeof *nc);
        if (!nc) return -1;
        s->cand = nc;
        s->cap = cap;
    }
    mde_candidate *m = &s->cand[s->n];
    memset(m, 0, sizeof *m);
    m->alpha = malloc((size_t)k * sizeof(double));
    m->lmde = malloc((size_t)k * sizeof(double));
    if (s->o->reg) m->pred = malloc((size_t)k * sizeof(double));
    if (!m->alpha || !m->lmde || (s->o->reg && !m->pred)) {
        free(m->alpha);
        free(m->lmde);
        free(m->pred);
        return -1;
    }
    m->index = s->n++;
    memcpy(m->alpha, alpha, (size_t)k * sizeof(double));
    m->origin = origin;
    mde_loss(s->c, alpha, m->lmde);
    const double *y = m->lmde;
    if (s->o->reg) {
        mde_regression_predict(s->o->reg, alpha, m->lmde, m->pred);
        y = m->pred;
    }
    double num = 0, den = 0;
    for (int j = 0; j < k; j++) {
        double w = s->o->domain_weight ? s->o->domain_weight[j] : 1.0;
        num += w * y[j];
        den += w;
    }
    *obj = m->objective = num / den;
    return 0;
}

/* By objective, ties by creation order (qsort alone is not stable). */
static int cmp_obj(const void *pa, const void *pb) {
    const mde_candidate *a = pa, *b = pb;
    if (a->objective < b->objective) return -1;
    if (a->objective > b->objective) return 1;
    return (a->index > b->index) - (a->index < b->index);
}

int mde_search(const mde_cache *c, const mde_search_opts *o, mde_candidate **out, int *n_out, lmc_err *err) {
    *out = NULL;
    *n_out = 0;
    int k = c->k;
    if (o->samples < 0 || o->refine < 0)
        return lmc_errf(err, LMC_EINVAL, "samples and refinement steps must be >= 0 (got %d, %d)", o->samples, o->refine);
    if (!(o->concentration > 0))
        return lmc_errf(err, LMC_EINVAL, "the Dirichlet concentration must be > 0, got %g", o->concentration);
    if (o->domain_weight) {
        double s = 0;
        for (int j = 0; j < k; j++) {
            if (!(o->domain_weight[j] >= 0))
                return lmc_errf(err, LMC_EINVAL, "domain weight %d is %g; expected >= 0", j + 1, o->domain_weight[j]);
            s += o->domain_weight[j];
        }
        if (!(s > 0)) return lmc_errf(err, LMC_EINVAL, "the domain weights sum to 0");
    }
    search s = {c, o, NULL, 0, 0};
    double a[MDE_MAX_DOMAINS], best[MDE_MAX_DOMAINS], d[MDE_MAX_DOMAINS];
    double best_obj = INFINITY, obj = 0;
    int rc = 0;
    for (int i = 0; i < k && !rc; i++) {
        for (int j = 0; j < k; j++) a[j] = i == j;
        if (!(rc = add(&s, a, MDE_CAND_VERTEX, &obj)) && obj < best_obj) {
            best_obj = obj;
            memcpy(best, a, (size_t)k * sizeof *a);
        }
    }
    for (int j = 0; j < k; j++) a[j] = 1.0 / k;
    if (!rc && !(rc = add(&s, a, MDE_CAND_UNIFORM, &obj)) && obj < best_obj) {
        best_obj = obj;
        memcpy(best, a, (size_t)k * sizeof *a);
    }
    for (int g = 0; g < o->n_given && !rc; g++) {
        const double *ga = o->given + (size_t)g * k;
        double sum = 0;
        for (int j = 0; j < k; j++) sum += ga[j];
        for (int j = 0; j < k; j++)
            if (!(ga[j] >= 0) || fabs(sum - 1) > 1e-9) {
                mde_candidates_free(s.cand, s.n);
                return lmc_errf(err, LMC_EINVAL, "given mixture %d: expected k = %d weights >= 0 summing to 1", g + 1, k);
            }
        if (!(rc = add(&s, ga, MDE_CAND_GIVEN, &obj)) && obj < best_obj) {
            best_obj = obj;
            memcpy(best, ga, (size_t)k * sizeof *ga);
        }
    }
    lmc_rng r;
    lmc_rng_init(&r, lmc_rng_derive(o->seed, 0x6d6465 /* "mde" */));
    for (int t = 0; t < o->samples && !rc; t++) {
        dirichlet(&r, o->concentration, k, a);
        if (!(rc = add(&s, a, MDE_CAND_DIRICHLET, &obj)) && obj < best_obj) {
            best_obj = obj;
            memcpy(best, a, (size_t)k * sizeof *a);
        }
    }
    double step = 0.5;
    int fails = 0;
    for (int t = 0; t < o->refine && !rc; t++) {
        dirichlet(&r, 1.0, k, d);
        for (int j = 0; j < k; j++) a[j] = (1 - step) * best[j] + step * d[j];
        if ((rc = add(&s, a, MDE_CAND_REFINE, &obj))) break;
        if (obj < best_obj) {
            best_obj = obj;
            memcpy(best, a, (size_t)k * sizeof *a);
            fails = 0;
        } else if (++fails == 8) {
            fails = 0;
            step *= 0.5;
        }
    }
    if (rc) {
        mde_candidates_free(s.cand, s.n);
        return lmc_errf(err, LMC_ENOMEM, "out of memory after %d candidates", s.n);
    }
    qsort(s.cand, (size_t)s.n, sizeof *s.cand, cmp_obj);
    *out = s.cand;
    *n_out = s.n;
    return 0;
}
