/* Scaling laws: fit L(N, D) = E + A/N^alpha + B/D^beta to training runs (Chinchilla Approach 3 as
 * replicated by Besiroglu et al. 2024), IsoFLOP parabolas (Approach 2), compute-optimal allocation,
 * IsoFLOP sweep planning as `lmc train` configs, collecting finished runs, and the Power Lines
 * weight-decay helper (Bergsma et al. 2025). See ../shared/TECHNIQUES.md §7 and §8a.
 *
 * Conventions:
 *  - N is the NON-EMBEDDING parameter count (token and position embeddings excluded; for GPT-2 shapes
 *    N = n_layer·(12·d² + 13·d) + 2·d: attention, MLP, their biases and the LayerNorms).
 *  - D is training tokens, C = 6·N·D training FLOPs.
 *  - All fits work in natural logs. The Approach-3 parameter vector is x = (a, b, e, alpha, beta)
 *    with A = exp(a), B = exp(b), E = exp(e). */
#ifndef LMC_SCALING_H
#define LMC_SCALING_H

#include <stddef.h>
#include <stdint.h>
#include "base/error.h"

/* ---------------------------------------------------------------- runs */

typedef struct scaling_runs {
    size_t n;
    double *params;   /* N > 0 */
    double *tokens;   /* D > 0 (flops / (6 N) when the file gives only flops) */
    double *flops;    /* C > 0 (6 N D when the file gives only tokens) */
    double *loss;     /* L > 0 */
    uint64_t *line;   /* source line of each run (for messages); may be NULL for built runs */
} scaling_runs;

/* Read a CSV with a header naming `params`, `loss` and `tokens` and/or `flops` (other columns are
 * ignored). Errors name path:line:col: missing column, ragged row, unparsable / non-finite /
 * non-positive value, fewer runs than `min_runs`. */
int scaling_runs_load_csv(const char *path, size_t min_runs, scaling_runs *out, lmc_err *err);
/* Allocate n runs (zeroed). */
int scaling_runs_alloc(scaling_runs *r, size_t n, lmc_err *err);
void scaling_runs_free(scaling_runs *r);

/* Hold out the ceil(frac·n) runs with the largest FLOPs (ties by file order): `fit` gets the rest.
 * Both keep the file order. For extrapolation checks (TECHNIQUES §8: report the error at the
 * largest scale, not R²). */
int scaling_runs_split_top_flops(const scaling_runs *r, double frac, scaling_runs *fit, scaling_runs *hold,
                                 lmc_err *err);

/* ---------------------------------------------------------------- the law */

typedef struct scaling_law {
    double E, A, B, alpha, beta;
} scaling_law;

/* x = (a, b, e, alpha, beta) <-> law. */
void scaling_law_from_x(const double x[5], scaling_law *law);
void scaling_law_to_x(const scaling_law *law, double x[5]);

/* Read E, A, B, alpha, beta from a JSON object (the `lmc scaling fit --json` line saved to a file). */
int scaling_law_load_json(const char *path, scaling_law *law, lmc_err *err);

/* Predicted loss E + A/N^alpha + B/D^beta. */
double scaling_law_loss(const scaling_law *law, double N, double D);

/* How well a law predicts runs: relative error pred/L - 1 (mean, mean absolute, the largest in
 * magnitude, signed) and the RMS of ln pred - ln L. */
typedef struct scaling_eval {
    size_t n;
    double mean_rel, mean_abs_rel, max_rel, rms_log;
} scaling_eval;
int scaling_law_eval(const scaling_law *law, const scaling_runs *r, scaling_eval *out);

/* Compute-optimal allocation under C = 6 N D (E does not enter):
 *   G = (alpha A / (beta B))^(1/(alpha+beta)),  N* = G (C/6)^(beta/(alpha+beta)),
 *   D* = (C/6) / N*  (so N*·D* = C/6 to rounding; equal to G^-1 (C/6)^(alpha/(alpha+beta))). */
typedef struct scaling_alloc {
    double G;        /* coefficient */
    double n_exp;    /* beta/(alpha+beta): N* ∝ C^n_exp */
    double d_exp;    /* alpha/(alpha+beta): D* ∝ C^d_exp */
    double n_coef;   /* N* = n_coef · C^n_exp   (= G · 6^-n_exp) */
    double d_coef;   /* D* = d_coef · C^d_exp   (= G^-1 · 6^-d_exp) */
} scaling_alloc;
int scaling_law_alloc(const scaling_law *law, scaling_alloc *out, lmc_err *err);
/* N*, D* for a budget C (FLOPs). */
void scaling_optimal(const scaling_alloc *al, double C, double *N, double *D);

/* ---------------------------------------------------------------- Approach 3 fit */

typedef struct scaling_fit_opts {
    double huber_delta;       /* 1e-3 */
    /* The init grid (Besiroglu et al.): alpha, beta in {0,.5,1,1.5,2}; e in {-1,-.5,0,.5,1};
     * a, b in {0,5,...,25}. NULL/0 = that default. */
    const double *grid_alpha, *grid_beta, *grid_e, *grid_a, *grid_b;
    int n_alpha, n_beta, n_e, n_a, n_b;
    /* L-BFGS stopping (0 = defaults: epsilon 1e-10, max_iterations 10000). */
    double epsilon;
    int max_iterations;
} scaling_fit_opts;

void scaling_fit_opts_default(scaling_fit_opts *o);

/* The objective: SUM over runs of Huber_delta(LSE(a - alpha ln N, b - beta ln D, e) - ln L).
 * Writes the analytic gradient into grad when non-NULL. Runs are summed in order (deterministic). */
double scaling_objective(const scaling_runs *r, const double x[5], double delta, double grad[5]);

/* One L-BFGS run (liblbfgs) from x0. x_out gets the final point, *fx its objective (re-evaluated at
 * x_out), *status the liblbfgs return code, *iters the number of iterations (both may be NULL). */
int scaling_fit_from(const scaling_runs *r, const scaling_fit_opts *o, const double x0[5],
                     double x_out[5], double *fx, int *status, int *iters, lmc_err *err);

typedef struct scaling_fit {
    scaling_law law;
    double x[5];          /* (a, b, e, alpha, beta) */
    double objective;     /* best summed Huber objective */
    double x0[5];         /* the grid start that gave it */
    int best_start;       /* its index in the grid (row-major: alpha, beta, e, a, b) */
    int n_starts;         /* grid size */
    int n_converged;      /* starts whose L-BFGS ended with success status */
    int status;           /* liblbfgs status of the best start */
} scaling_fit;

/* Run L-BFGS from every grid point (OpenMP over starts) and keep the lowest objective; ties go to
 * the lowest grid index, so the result does not depend on the thread count. */
int scaling_fit_grid(const scaling_runs *r, const scaling_fit_opts *o, scaling_fit *out, lmc_err *err);

/* Bootstrap over runs: K resamples (with replacement, base RNG stream k of `seed`), each fitted by
 * L-BFGS from the full-data optimum `from`. samples[k*5 + j] = (E, A, B, alpha, beta)[j] of resample k
 * (caller allocates 5*K). Deterministic for a given seed regardless of threads. */
int scaling_bootstrap(const scaling_runs *r, const scaling_fit_opts *o, const double from[5], int K,
                      uint64_t seed, double *samples, lmc_err *err);

/* q-quantile (0..1, linear interpolation) of n values with stride; sorts a copy. */
double scaling_quantile(const double *v, size_t n, size_t stride, double q);

/* ---------------------------------------------------------------- Approach 2 (IsoFLOP parabolas) */

typedef struct scaling_isoflop_budget {
    double C;            /* geometric mean of the group's FLOPs */
    int n;               /* runs in the group */
    double N_opt, D_opt; /* vertices of the parabolas of L against ln N and against ln D */
    double L_opt;        /* parabola minimum (in ln N) */
    int inside;          /* 1 when both vertices lie within the sampled range */
} scaling_isoflop_budget;

typedef struct scaling_isoflop {
    int n_budgets;
    scaling_isoflop_budget *budgets;
    int n_used;             /* budgets with inside = 1: only those enter the exponent fit */
    double n_exp, n_coef;   /* N_opt = n_coef · C^n_exp (least squares in log-log) */
    double d_exp, d_coef;   /* D_opt = d_coef · C^d_exp */
} scaling_isoflop;

/* Group runs whose FLOPs agree within relative tolerance `tol` (sorted, chained to the group's first
 * run), keep groups with >= 3 distinct N and a convex parabola, and fit the exponents on the
 * budgets whose vertices lie inside the sampled sizes. Needs >= 2 such budgets: otherwise LMC_EINVAL with a message saying why. */
int scaling_isoflop_fit(const scaling_runs *r, double tol, scaling_isoflop *out, lmc_err *err);
void scaling_isoflop_free(scaling_isoflop *f);

/* ---------------------------------------------------------------- plotting */

/* SVG: runs as points (loss against N, coloured by FLOPs), fitted iso-FLOP curves L(N, C/(6N)) for
 * `n_curves` log-spaced budgets across the runs' range, and the compute-optimal points. Atomic write. */
int scaling_plot_svg(const char *path, const scaling_runs *r, const scaling_law *law, int n_curves,
                     lmc_err *err);

/* ---------------------------------------------------------------- shapes, plan, collect */

typedef struct scaling_shape {
    int n_layer, n_head, d_model;
} scaling_shape;

/* Non-embedding parameters of a GPT-2 shape: n_layer·(12 d² + 13 d) + 2 d. */
double scaling_shape_params(const scaling_shape *s);
/* The built-in width/depth list (head size 64 where possible). */
const scaling_shape *scaling_default_shapes(int *n);
/* Load shapes from YAML (a list of {n_layer, n_head, d_model}, or {shapes: [...]}) or CSV (header
 * n_layer,n_head,d_model), chosen by extension (.csv = CSV). Caller frees *shapes with free(). */
int scaling_shapes_load(const char *path, scaling_shape **shapes, int *n, lmc_err *err);

typedef struct scaling_plan_opts {
    const char *out_dir;         /* where the configs go */
    const char *name_prefix;     /* "isoflop" */
    const char *runs_dir;        /* run.dir in the configs ("runs") */
    const char *train_glob, *val_glob, *tokenizer;
    int seed;
    int seq_len, batch_size, micro_batch, vocab_size;
    double lr;
    double warmup_frac;          /* train.warmup_steps = round(warmup_frac · steps) (0.05) */
    double tpp;                  /* centre of the sweep: N_c = sqrt(C / (6 tpp)) unless law given */
    const scaling_law *law;      /* optional: centre at N*(C) from this fit */
    double span;                 /* shapes with N in [N_c/span, N_c·span] */
    int max_per_budget;          /* at most this many shapes per budget (log-spread) */
    int wd_from_tau;             /* write train.weight_decay from the Power Lines τ_opt */
    double c_tau, m_tau;
} scaling_plan_opts;

typedef struct scaling_plan_entry {
    char name[128];
    double C;                    /* target budget */
    scaling_shape shape;
    double params, tokens;       /* N (non-embedding) and actual tokens = steps·batch·seq_len */
    int64_t steps, warmup_steps;
    double weight_decay;         /* 0 when not written */
} scaling_plan_entry;

void scaling_plan_opts_default(scaling_plan_opts *o);
/* Choose shapes per budget, write <out_dir>/<name>.yaml for each and <out_dir>/plan.csv.
 * *entries (malloc'd, caller frees) lists them. */
int scaling_plan(const double *budgets, int n_budgets, const scaling_shape *shapes, int n_shapes,
                 const scaling_plan_opts *o, scaling_plan_entry **entries, int *n_entries, lmc_err *err);
/* The YAML text of one config (for tests and printing); malloc'd, caller frees. */
char *scaling_plan_config_yaml(const scaling_plan_entry *e, const scaling_plan_opts *o);

typedef struct scaling_collected {
    char *run;          /* the run directory as given */
    double params, tokens, flops, val_loss;
    int64_t steps, last_step;
} scaling_collected;

/* Read <dir>/config.yaml and <dir>/metrics.jsonl of one finished run. Errors name file:line. */
int scaling_collect_run(const char *dir, scaling_collected *out, lmc_err *err);
/* Collect several and write a runs CSV (params,tokens,flops,loss,run) atomically. */
int scaling_collect(const char *const *dirs, int n, const char *out_csv, lmc_err *err);

/* ---------------------------------------------------------------- Power Lines (TECHNIQUES §7) */

/* τ_opt(TPP) = c_tau · TPP^m_tau. Defaults: m_tau = -0.52 (paper), c_tau = 1.0 (derived from the
 * paper's anchor τ_opt ≈ 0.21 at 20 TPP; unverified against the paper's fit). */
#define SCALING_C_TAU 1.0
#define SCALING_M_TAU (-0.52)
double scaling_tau_opt(double tpp, double c_tau, double m_tau);
/* τ = B / (η λ D)   (B and D in the same unit: tokens, or sequences). */
double scaling_tau(double B, double lr, double wd, double D);
/* λ = B / (η D τ). */
double scaling_wd_for_tau(double B, double lr, double D, double tau);

#endif
