/* Offline mixture proposal by Mixture of Data Experts (MDE, ACL 2025; TECHNIQUES.md §11e).
 *
 * k experts (one small model per domain, each trained on that domain alone) and k validation shards.
 * Each expert's per-token loss ℓ_i,t = -log P_i(x_t | x_<t) on every domain's validation tokens is
 * cached once; then for any mixture α on the simplex
 *     P_MDE(x_t) = Σ_i α_i P_i(x_t),   L_MDE,j(α) = mean_t -log P_MDE(x_t)  over domain j's tokens,
 * which costs O(k) per token and no forward pass. The search minimises a weighted mean of L_MDE,j over
 * domains. Windows are cut exactly as `lmc eval` cuts them (consecutive non-overlapping windows of
 * seq_len from the start of the shard), so L_MDE,j(e_i) is expert i's `lmc eval` loss on shard j.
 *
 * Optionally a few true proxy runs (their weights α_r and per-domain val losses y_r,j) fit the paper's
 * linear regression on [α, L_MDE,j(α)] per domain j (no intercept: Σα = 1 already spans it):
 *     y_j(α) ≈ Σ_i b_j,i α_i + g_j L_MDE,j(α)
 * and the search then minimises the predicted losses instead of the raw L_MDE. */
#ifndef LMC_SCALING_MIX_H
#define LMC_SCALING_MIX_H

#include <stdint.h>
#include "base/error.h"

#define MDE_MAX_DOMAINS 64

typedef struct mde_cache {
    int k;            /* experts = domains */
    uint64_t *ntok;   /* [k] predicted tokens of domain j's validation shard */
    float **nll;      /* [k] domain j: k x ntok[j], nll[j][i * ntok[j] + t] = expert i's loss on token t */
} mde_cache;

/* Evaluate every expert on every shard (one pass per expert per domain). seq_len: window length
 * (<= each expert's n_positions); max_tokens 0 = every window that fits; batch 0 = lmc eval's default
 * (about 2048 tokens per forward). The experts must share one vocabulary size. */
int mde_cache_build(mde_cache *c, const char *const *experts, const char *const *val, int k, int seq_len,
                    int64_t max_tokens, int batch, lmc_err *err);
/* A cache from given per-token losses (tests, and callers with their own forwards): nll[j] as above,
 * copied. */
int mde_cache_from(mde_cache *c, int k, const uint64_t *ntok, const float *const *nll, lmc_err *err);
void mde_cache_free(mde_cache *c);

/* L_MDE,j(α) for every domain j into out[k]. α: k non-negative values summing to 1 (entries that are
 * exactly 0 drop out, so α = e_i returns the expert's own mean loss bit for bit). */
void mde_loss(const mde_cache *c, const double *alpha, double *out);

/* The linear regression of true proxy-run losses on [α, L_MDE,j(α)]. */
typedef struct mde_regression {
    int k, n_runs;
    double *coef;     /* [k][k + 1]: domain j: b_j,1..b_j,k, g_j */
    double *rmse;     /* [k] in-sample root mean squared error per domain */
} mde_regression;

/* Fit from n runs: alpha[r * k + i], loss[r * k + j]. Needs n >= k + 1 runs with distinct mixtures. */
int mde_regression_fit(mde_regression *g, const mde_cache *c, const double *alpha, const double *loss, int n,
                       lmc_err *err);
/* Predicted per-domain losses at α (lmde: L_MDE(α) already computed, [k]). */
void mde_regression_predict(const mde_regression *g, const double *alpha, const double *lmde, double *out);
void mde_regression_free(mde_regression *g);

/* True proxy runs from a CSV file: a header line naming the columns, then one run per line. Columns
 * "w_<name>" hold a run's mixture weights (normalised to sum 1 here, so config weights such as 1,2,1
 * are fine) and "loss_<name>" its final validation loss on that domain, for every domain name; other
 * columns (a run name, ...) are ignored. *alpha and *loss: n x k, malloc'd. */
int mde_runs_load_csv(const char *path, const char *const *names, int k, double **alpha, double **loss, int *n,
                      lmc_err *err);

/* MDE_CAND_GIVEN: a mixture the caller asked to score (mde_search_opts.given), e.g. a run's weights */
typedef enum { MDE_CAND_VERTEX = 0, MDE_CAND_UNIFORM, MDE_CAND_DIRICHLET, MDE_CAND_REFINE, MDE_CAND_GIVEN } mde_origin;
const char *mde_origin_name(mde_origin o);

typedef struct mde_candidate {
    double *alpha;    /* [k] */
    double *lmde;     /* [k] L_MDE,j(α) */
    double *pred;     /* [k] regression prediction, or NULL without one */
    double objective; /* weighted mean over domains of pred (when fitted) or lmde */
    mde_origin origin;
    int index;        /* creation order (0 = the first vertex) */
} mde_candidate;

typedef struct mde_search_opts {
    const double *domain_weight; /* [k] weights of the domains in the objective; NULL = equal */
    int samples;                 /* Dirichlet(concentration) draws; 0 allowed */
    double concentration;        /* Dirichlet parameter, > 0 (1 = uniform on the simplex) */
    int refine;                  /* local-refinement proposals after the draws */
    uint64_t seed;
    const mde_regression *reg;   /* NULL = minimise raw L_MDE */
    const double *given;         /* n_given x k mixtures scored as candidates too (each summing to 1), or NULL */
    int n_given;
} mde_search_opts;

/* Candidates: the k vertices e_i, the uniform mixture, the given mixtures, the Dirichlet draws, then
 * local refinement from the best so far: α' = (1 - s) α_best + s d with d ~ Dirichlet(1), s = 0.5 at
 * first and halved after 8 proposals in a row that did not improve (the move stays on the simplex, can
 * leave a vertex, and shrinks to a local search). Deterministic for a seed. *out is sorted by objective
 * (best first; ties keep the order they were made in); free with mde_candidates_free. */
int mde_search(const mde_cache *c, const mde_search_opts *o, mde_candidate **out, int *n_out, lmc_err *err);
void mde_candidates_free(mde_candidate *c, int n);

#endif
