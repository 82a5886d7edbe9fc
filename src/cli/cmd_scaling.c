/* lmc scaling: fit, predict, plan, collect, powerlines. The work is in src/scaling/. */
#include "cli/cli.h"

#include <errno.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "scaling/scaling.h"

static void set_threads(const lmc_args *a) {
    int64_t t = lmc_arg_int(a, "threads");
    if (t > 0) omp_set_num_threads((int)t);
}

/* ------------------------------------------------------------------ fit */

static const lmc_opt fit_opts[] = {
    {"json", 0, OPT_FLAG, NULL, NULL, "print exactly one JSON line (keys E, A, B, alpha, beta, ...)"},
    {"huber-delta", 0, OPT_FLOAT, "1e-3", "DELTA", "Huber threshold on log-loss residuals"},
    {"bootstrap", 0, OPT_INT, "0", "K", "K bootstrap resamples over runs for 95% intervals"},
    {"seed", 0, OPT_INT, "0", "S", "seed of the bootstrap resampling"},
    {"plot", 0, OPT_STR, NULL, "OUT.svg", "draw the runs and the fitted iso-FLOP curves as SVG"},
    {"approach", 0, OPT_INT, "0", "K", "0 = Approach 3, plus Approach 2 when runs share budgets; 3 or 2 = only that"},
    {"budget-tol", 0, OPT_FLOAT, "0.01", "TOL", "Approach 2: runs whose FLOPs agree within this relative tolerance share a budget"},
    {"holdout", 0, OPT_FLOAT, "0", "FRAC", "fit without the FRAC of runs with the largest FLOPs; report the extrapolation error on them"},
    {"threads", 0, OPT_INT, "0", "N", "worker threads (0 = all cores)"},
    LMC_OPTS_END};

static const char *const law_keys[5] = {"E", "A", "B", "alpha", "beta"};

static void print_isoflop(const scaling_isoflop *f, double tol) {
    printf("Approach 2 (IsoFLOP parabolas; %d budgets, FLOPs within %g relative; %d with the optimum inside the\n"
           "  sampled sizes enter the exponent fit):\n", f->n_budgets, tol, f->n_used);
    printf("  %12s %5s %12s %12s %8s %8s\n", "C", "runs", "N_opt", "D_opt", "L_opt", "D/N");
    for (int i = 0; i < f->n_budgets; i++) {
        const scaling_isoflop_budget *b = &f->budgets[i];
        printf("  %12.4g %5d %12.4g %12.4g %8.4f %8.2f%s\n", b->C, b->n, b->N_opt, b->D_opt, b->L_opt,
               b->D_opt / b->N_opt, b->inside ? "" : "  (vertex outside the sampled sizes: not used)");
    }
    printf("  N_opt(C) = %.6g * C^%.4f\n  D_opt(C) = %.6g * C^%.4f\n  a + b = %.4f (1 when consistent)\n",
           f->n_coef, f->n_exp, f->d_coef, f->d_exp, f->n_exp + f->d_exp);
}

static char *isoflop_json(const scaling_isoflop *f, double tol) {
    lmc_buf b = {0};
    lmc_buf_printf(&b, NULL, "{\"n_budgets\":%d,\"n_used\":%d,\"budget_tol\":%.17g,\"N_opt_exp\":%.17g,\"N_opt_coef\":%.17g,"
                   "\"D_opt_exp\":%.17g,\"D_opt_coef\":%.17g,\"budgets\":[", f->n_budgets, f->n_used, tol, f->n_exp, f->n_coef,
                   f->d_exp, f->d_coef);
    for (int i = 0; i < f->n_budgets; i++) {
        const scaling_isoflop_budget *q = &f->budgets[i];
        lmc_buf_printf(&b, NULL, "%s{\"C\":%.17g,\"runs\":%d,\"N_opt\":%.17g,\"D_opt\":%.17g,\"L_opt\":%.17g,\"inside\":%s}",
                       i ? "," : "", q->C, q->n, q->N_opt, q->D_opt, q->L_opt, q->inside ? "true" : "false");
    }
    lmc_buf_printf(&b, NULL, "]}");
    return b.data;
}

/* The fitted set aliases `all` unless a holdout split made copies. */
static void free_sets(scaling_runs *r, scaling_runs *all, scaling_runs *hold, int split) {
    if (split) {
        scaling_runs_free(r);
        scaling_runs_free(hold);
    }
    scaling_runs_free(all);
}

static int run_fit(lmc_args *a) {
    set_threads(a);
    const char *path = lmc_arg_pos(a, 0);
    int json = lmc_arg_flag(a, "json");
    int approach = (int)lmc_arg_int(a, "approach");
    int K = (int)lmc_arg_int(a, "bootstrap");
    double tol = lmc_arg_float(a, "budget-tol");
    const char *plot = lmc_arg_str(a, "plot");
    if (approach != 0 && approach != 2 && approach != 3) return lmc_usage_error(a, "--approach must be 0, 2 or 3");
    if (K < 0) return lmc_usage_error(a, "--bootstrap must be >= 0");
    if (approach == 2 && (K || plot)) return lmc_usage_error(a, "--bootstrap and --plot need Approach 3");
    scaling_fit_opts o;
    scaling_fit_opts_default(&o);
    o.huber_delta = lmc_arg_float(a, "huber-delta");
    if (!(o.huber_delta > 0) || !isfinite(o.huber_delta)) return lmc_usage_error(a, "--huber-delta must be > 0");
    lmc_err err = {0};
    scaling_runs all, r, hold = {0};
    if (scaling_runs_load_csv(path, approach == 2 ? 6 : 5, &all, &err) < 0) return lmc_fail(a, "%s", err.msg);
    double hfrac = lmc_arg_float(a, "holdout");
    int split = hfrac > 0;
    if (split) {
        if (scaling_runs_split_top_flops(&all, hfrac, &r, &hold, &err) < 0) {
            scaling_runs_free(&all);
            return lmc_fail(a, "%s: %s", path, err.msg);
        }
        if (r.n < (size_t)(approach == 2 ? 6 : 5)) {
            free_sets(&r, &all, &hold, split);
            return lmc_fail(a, "%s: --holdout %g leaves too few runs to fit", path, hfrac);
        }
    } else {
        r = all;
    }
    scaling_eval ev_fit = {0}, ev_hold = {0};
    double hold_cmin = INFINITY;
    for (size_t i = 0; i < hold.n; i++) hold_cmin = fmin(hold_cmin, hold.flops[i]);

    scaling_isoflop iso = {0};
    lmc_err iso_err = {0};
    int have_iso = 0;
    if (approach != 3) {
        have_iso = scaling_isoflop_fit(&r, tol, &iso, &iso_err) == 0;
        if (approach == 2 && !have_iso) {
            free_sets(&r, &all, &hold, split);
            return lmc_fail(a, "%s: %s", path, iso_err.msg);
        }
    }
    if (approach == 2) {
        if (json) {
            char *s = isoflop_json(&iso, tol);
            printf("%s\n", s);
            free(s);
        } else {
            printf("runs: %zu from %s\n", r.n, path);
            print_isoflop(&iso, tol);
        }
        scaling_isoflop_free(&iso);
        free_sets(&r, &all, &hold, split);
        return 0;
    }

    scaling_fit fit;
    if (scaling_fit_grid(&r, &o, &fit, &err) < 0) {
        free_sets(&r, &all, &hold, split);
        scaling_isoflop_free(&iso);
        return lmc_fail(a, "%s: %s", path, err.msg);
    }
    scaling_alloc al;
    int have_alloc = scaling_law_alloc(&fit.law, &al, &err) == 0;
    if (split) {
        scaling_law_eval(&fit.law, &r, &ev_fit);
        scaling_law_eval(&fit.law, &hold, &ev_hold);
    }
    double *boot = NULL, lo[5] = {0}, hi[5] = {0}, se[5] = {0};
    if (K > 0) {
        boot = malloc((size_t)K * 5 * sizeof *boot);
        if (!boot || scaling_bootstrap(&r, &o, fit.x, K, (uint64_t)lmc_arg_int(a, "seed"), boot, &err) < 0) {
            free(boot);
            free_sets(&r, &all, &hold, split);
            scaling_isoflop_free(&iso);
            return lmc_fail(a, "%s", boot ? err.msg : "out of memory");
        }
        for (int j = 0; j < 5; j++) {
            lo[j] = scaling_quantile(boot + j, (size_t)K, 5, 0.025);
            hi[j] = scaling_quantile(boot + j, (size_t)K, 5, 0.975);
            double m = 0, v = 0;
            for (int k = 0; k < K; k++) m += boot[k * 5 + j];
            m /= K;
            for (int k = 0; k < K; k++) v += (boot[k * 5 + j] - m) * (boot[k * 5 + j] - m);
            se[j] = K > 1 ? sqrt(v / (K - 1)) : 0; /* bootstrap standard error */
        }
    }
    double v[5] = {fit.law.E, fit.law.A, fit.law.B, fit.law.alpha, fit.law.beta};
    static const double ref_c[3] = {1e21, 1e23, 1e25};
    if (json) {
        lmc_jsonl w;
        lmc_jsonl_wrap(&w, stdout);
        lmc_jsonl_begin(&w);
        for (int j = 0; j < 5; j++) lmc_jsonl_num(&w, law_keys[j], v[j]);
        lmc_jsonl_num(&w, "a", fit.x[0]);
        lmc_jsonl_num(&w, "b", fit.x[1]);
        lmc_jsonl_num(&w, "e", fit.x[2]);
        lmc_jsonl_num(&w, "objective", fit.objective);
        lmc_jsonl_num(&w, "huber_delta", o.huber_delta);
        lmc_jsonl_int(&w, "n_runs", (int64_t)r.n);
        lmc_jsonl_int(&w, "n_starts", fit.n_starts);
        lmc_jsonl_int(&w, "n_converged", fit.n_converged);
        if (have_alloc) {
            lmc_jsonl_num(&w, "G", al.G);
            lmc_jsonl_num(&w, "N_opt_exp", al.n_exp);
            lmc_jsonl_num(&w, "N_opt_coef", al.n_coef);
            lmc_jsonl_num(&w, "D_opt_exp", al.d_exp);
            lmc_jsonl_num(&w, "D_opt_coef", al.d_coef);
            char buf[64];
            for (int c = 0; c < 3; c++) {
                double N, D;
                scaling_optimal(&al, ref_c[c], &N, &D);
                snprintf(buf, sizeof buf, "tokens_per_param_%.0e", ref_c[c]);
                lmc_jsonl_num(&w, buf, D / N);
            }
        }
        if (K > 0) {
            lmc_buf b = {0};
            lmc_buf_printf(&b, NULL, "{\"K\":%d,\"level\":0.95", K);
            for (int j = 0; j < 5; j++) lmc_buf_printf(&b, NULL, ",\"%s\":[%.17g,%.17g]", law_keys[j], lo[j], hi[j]);
            lmc_buf_printf(&b, NULL, ",\"se\":{");
            for (int j = 0; j < 5; j++) lmc_buf_printf(&b, NULL, "%s\"%s\":%.17g", j ? "," : "", law_keys[j], se[j]);
            lmc_buf_printf(&b, NULL, "}");
            lmc_buf_printf(&b, NULL, "}");
            lmc_jsonl_raw(&w, "bootstrap", b.data);
            lmc_buf_free(&b);
        }
        if (split) {
            lmc_buf b = {0};
            lmc_buf_printf(&b, NULL, "{\"n\":%zu,\"min_flops\":%.17g,\"mean_abs_rel\":%.17g,\"mean_rel\":%.17g,"
                           "\"max_rel\":%.17g,\"rms_log\":%.17g,\"fit_mean_abs_rel\":%.17g,\"fit_rms_log\":%.17g}",
                           hold.n, hold_cmin, ev_hold.mean_abs_rel, ev_hold.mean_rel, ev_hold.max_rel, ev_hold.rms_log,
                           ev_fit.mean_abs_rel, ev_fit.rms_log);
            lmc_jsonl_raw(&w, "holdout", b.data);
            lmc_buf_free(&b);
        }
        if (have_iso) {
            char *s = isoflop_json(&iso, tol);
            lmc_jsonl_raw(&w, "approach2", s);
            free(s);
        }
        int jrc = lmc_jsonl_end(&w, &err);
        lmc_jsonl_close(&w, NULL);
        if (jrc < 0) {
            free(boot);
            free_sets(&r, &all, &hold, split);
            scaling_isoflop_free(&iso);
            return lmc_fail(a, "%s", err.msg);
        }
    } else {
        printf("runs: %zu from %s\n", all.n, path);
        if (split)
            printf("fitting %zu; holding out the %zu with the largest FLOPs (C >= %.4g) to measure extrapolation\n",
                   r.n, hold.n, hold_cmin);
        printf("Approach 3: L(N, D) = E + A/N^alpha + B/D^beta\n");
        printf("  Huber delta %g on log L, summed; L-BFGS (liblbfgs) from %d starts, %d ended converged; "
               "best objective %.10g\n", o.huber_delta, fit.n_starts, fit.n_converged, fit.objective);
        for (int j = 0; j < 5; j++) {
            printf("  %-5s = %-12.6g", law_keys[j], v[j]);
            if (K > 0) printf("  95%% bootstrap interval [%.6g, %.6g], SE %.3g  (K = %d)", lo[j], hi[j], se[j], K);
            printf("\n");
        }
        if (have_alloc) {
            printf("compute-optimal allocation (C = 6 N D):\n");
            printf("  N*(C) = %.6g * C^%.4f\n  D*(C) = %.6g * C^%.4f\n  G = %.6g\n", al.n_coef, al.n_exp, al.d_coef,
                   al.d_exp, al.G);
            printf("  %10s %12s %12s %10s %8s\n", "C", "N*", "D*", "tokens/N", "L");
            for (int c = 0; c < 3; c++) {
                double N, D;
                scaling_optimal(&al, ref_c[c], &N, &D);
                printf("  %10.3g %12.4g %12.4g %10.2f %8.4f\n", ref_c[c], N, D, D / N, scaling_law_loss(&fit.law, N, D));
            }
        } else {
            printf("compute-optimal allocation: %s\n", err.msg);
        }
        if (split)
            printf("extrapolation to the %zu held-out runs: mean |pred/L - 1| = %.4f (fitted runs: %.4f), mean "
                   "pred/L - 1 = %+.4f, worst %+.4f, RMS log error %.4f (fitted runs: %.4f)\n",
                   hold.n, ev_hold.mean_abs_rel, ev_fit.mean_abs_rel, ev_hold.mean_rel, ev_hold.max_rel, ev_hold.rms_log,
                   ev_fit.rms_log);
        if (have_iso) print_isoflop(&iso, tol);
        else if (approach == 0) printf("Approach 2: not applicable (%s)\n", iso_err.msg);
    }
    int rc = 0;
    if (plot && scaling_plot_svg(plot, &all, &fit.law, 6, &err) < 0) rc = lmc_fail(a, "%s", err.msg);
    free(boot);
    scaling_isoflop_free(&iso);
    free_sets(&r, &all, &hold, split);
    return rc;
}

static const lmc_command fit_cmd = {
    "fit", "fit L(N, D) = E + A/N^alpha + B/D^beta to runs (Chinchilla Approach 3; Approach 2 when budgets are shared)",
    "[options] RUNS.csv",
    "RUNS.csv has a header with params, loss, and tokens or flops (tokens = flops/(6*params) when only flops is\n"
    "given). params counts non-embedding parameters (the convention `lmc scaling plan/collect` use).\n"
    "The fit minimizes the SUM over runs of Huber(LSE(a - alpha ln N, b - beta ln D, e) - ln L) with liblbfgs\n"
    "from every point of the Besiroglu et al. grid (4,500 starts) and keeps the lowest objective.\n"
    "Bootstrap resamples are refitted from the full-data optimum.",
    fit_opts, 1, 1, run_fit, NULL, 0};

/* ------------------------------------------------------------------ predict */

static const lmc_opt predict_opts[] = {
    {"fit", 0, OPT_STR, NULL, "FIT.json", "the `lmc scaling fit --json` output saved to a file"},
    {"params", 0, OPT_FLOAT, NULL, "N", "non-embedding parameters"},
    {"tokens", 0, OPT_FLOAT, NULL, "D", "training tokens"},
    {"flops", 0, OPT_FLOAT, NULL, "C", "training FLOPs (alone: the compute-optimal allocation)"},
    {"json", 0, OPT_FLAG, NULL, NULL, "print one JSON line"},
    LMC_OPTS_END};

static int run_predict(lmc_args *a) {
    const char *fit = lmc_arg_str(a, "fit");
    if (!fit) return lmc_usage_error(a, "--fit FIT.json is required");
    int hN = lmc_arg_is_set(a, "params"), hD = lmc_arg_is_set(a, "tokens"), hC = lmc_arg_is_set(a, "flops");
    double N = lmc_arg_float(a, "params"), D = lmc_arg_float(a, "tokens"), C = lmc_arg_float(a, "flops");
    if ((hN && !(N > 0)) || (hD && !(D > 0)) || (hC && !(C > 0)))
        return lmc_usage_error(a, "--params, --tokens and --flops must be positive");
    if (hN + hD + hC != 2 && !(hC && !hN && !hD))
        return lmc_usage_error(a, "give --params and --tokens, --flops alone, or --flops with one of --params/--tokens");
    lmc_err err = {0};
    scaling_law law;
    if (scaling_law_load_json(fit, &law, &err) < 0) return lmc_fail(a, "%s", err.msg);
    const char *mode = "given";
    if (hC && !hN && !hD) {
        scaling_alloc al;
        if (scaling_law_alloc(&law, &al, &err) < 0) return lmc_fail(a, "%s", err.msg);
        scaling_optimal(&al, C, &N, &D);
        mode = "compute-optimal";
    } else if (hC && hN) {
        D = C / (6 * N);
    } else if (hC && hD) {
        N = C / (6 * D);
    } else {
        C = 6 * N * D;
    }
    double L = scaling_law_loss(&law, N, D);
    if (lmc_arg_flag(a, "json")) {
        printf("{\"params\":%.17g,\"tokens\":%.17g,\"flops\":%.17g,\"loss\":%.17g,\"tokens_per_param\":%.17g,"
               "\"allocation\":\"%s\"}\n", N, D, C, L, D / N, mode);
    } else {
        printf("allocation: %s\n  params N  = %.6g\n  tokens D  = %.6g\n  flops 6ND = %.6g\n  tokens/N  = %.3f\n"
               "  loss      = %.6f\n", mode, N, D, C, D / N, L);
    }
    return 0;
}

static const lmc_command predict_cmd = {
    "predict", "predicted loss for (N, D), or the compute-optimal allocation for a FLOP budget",
    "--fit FIT.json (--params N --tokens D | --flops C [--params N | --tokens D])", NULL, predict_opts, 0, 0,
    run_predict, NULL, 0};

/* ------------------------------------------------------------------ plan */

static const lmc_opt plan_opts[] = {
    {"flops", 0, OPT_STR, NULL, "C1,C2,...", "FLOP budgets (comma-separated)"},
    {"shapes", 0, OPT_STR, NULL, "FILE", "width/depth list: YAML list of {n_layer, n_head, d_model} or CSV"},
    {"out", 'o', OPT_STR, "sweep", "DIR", "where to write the configs and plan.csv"},
    {"fit", 0, OPT_STR, NULL, "FIT.json", "centre each budget on N*(C) of this fit (default: 20 tokens/param)"},
    {"tpp", 0, OPT_FLOAT, "20", "R", "centre at N = sqrt(C / (6 R)) when no --fit"},
    {"span", 0, OPT_FLOAT, "4", "X", "shapes with N within [centre/X, centre*X]"},
    {"max-per-budget", 0, OPT_INT, "7", "K", "at most K shapes per budget"},
    {"name", 0, OPT_STR, "isoflop", "PREFIX", "run name prefix"},
    {"runs-dir", 0, OPT_STR, "runs", "DIR", "run.dir in the configs"},
    {"train", 0, OPT_STR, "data/train_*.bin", "GLOB", "data.train"},
    {"val", 0, OPT_STR, "data/val_*.bin", "GLOB", "data.val"},
    {"tokenizer", 0, OPT_STR, "tokenizer.json", "PATH", "data.tokenizer"},
    {"seed", 0, OPT_INT, "1337", "S", "run.seed"},
    {"seq-len", 0, OPT_INT, "1024", "T", "model.seq_len"},
    {"vocab-size", 0, OPT_INT, "0", "V", "model.vocab_size (0 = from the tokenizer)"},
    {"batch-size", 0, OPT_INT, "32", "B", "train.batch_size (sequences per step)"},
    {"micro-batch", 0, OPT_INT, "0", "M", "train.micro_batch (0 = the largest divisor of B up to 16)"},
    {"lr", 0, OPT_FLOAT, "6e-4", "LR", "train.lr (peak)"},
    {"warmup-frac", 0, OPT_FLOAT, "0.05", "F", "train.warmup_steps = F * steps"},
    {"wd-from-tau", 0, OPT_FLAG, NULL, NULL, "write train.weight_decay = B/(lr*D*tau_opt(D/N)) (Power Lines)"},
    LMC_OPTS_END};

static int parse_budgets(const char *s, double **out, int *n) {
    int cap = 8, k = 0;
    double *v = malloc((size_t)cap * sizeof *v);
    if (!v) return -1;
    const char *p = s;
    for (;;) {
        char *end;
        errno = 0;
        double x = strtod(p, &end);
        if (end == p || errno || !isfinite(x) || !(x > 0)) { free(v); return -1; }
        if (k == cap) {
            cap *= 2;
            double *nv = realloc(v, (size_t)cap * sizeof *nv);
            if (!nv) { free(v); return -1; }
            v = nv;
        }
        v[k++] = x;
        while (*end == ' ') end++;
        if (*end == '\0') break;
        if (*end != ',') { free(v); return -1; }
        p = end + 1;
    }
    *out = v;
    *n = k;
    return 0;
}

static int run_plan(lmc_args *a) {
    const char *fl = lmc_arg_str(a, "flops");
    if (!fl) return lmc_usage_error(a, "--flops C1,C2,... is required");
    double *budgets;
    int nb;
    if (parse_budgets(fl, &budgets, &nb) < 0)
        return lmc_usage_error(a, "--flops: expected comma-separated positive numbers, got '%s'", fl);
    scaling_plan_opts o;
    scaling_plan_opts_default(&o);
    o.out_dir = lmc_arg_str(a, "out");
    o.name_prefix = lmc_arg_str(a, "name");
    o.runs_dir = lmc_arg_str(a, "runs-dir");
    o.train_glob = lmc_arg_str(a, "train");
    o.val_glob = lmc_arg_str(a, "val");
    o.tokenizer = lmc_arg_str(a, "tokenizer");
    o.seed = (int)lmc_arg_int(a, "seed");
    o.seq_len = (int)lmc_arg_int(a, "seq-len");
    o.vocab_size = (int)lmc_arg_int(a, "vocab-size");
    o.batch_size = (int)lmc_arg_int(a, "batch-size");
    o.micro_batch = (int)lmc_arg_int(a, "micro-batch");
    o.lr = lmc_arg_float(a, "lr");
    o.warmup_frac = lmc_arg_float(a, "warmup-frac");
    o.tpp = lmc_arg_float(a, "tpp");
    o.span = lmc_arg_float(a, "span");
    o.max_per_budget = (int)lmc_arg_int(a, "max-per-budget");
    o.wd_from_tau = lmc_arg_flag(a, "wd-from-tau");
    lmc_err err = {0};
    scaling_law law;
    const char *fitp = lmc_arg_str(a, "fit");
    if (fitp) {
        if (scaling_law_load_json(fitp, &law, &err) < 0) { free(budgets); return lmc_fail(a, "%s", err.msg); }
        o.law = &law;
    }
    scaling_shape *shapes = NULL;
    int ns;
    const scaling_shape *sh;
    const char *sp = lmc_arg_str(a, "shapes");
    if (sp) {
        if (scaling_shapes_load(sp, &shapes, &ns, &err) < 0) { free(budgets); return lmc_fail(a, "%s", err.msg); }
        sh = shapes;
    } else {
        sh = scaling_default_shapes(&ns);
    }
    scaling_plan_entry *e;
    int ne;
    int rc = scaling_plan(budgets, nb, sh, ns, &o, &e, &ne, &err);
    free(budgets);
    free(shapes);
    if (rc < 0) return lmc_fail(a, "%s", err.msg);
    printf("%d configs in %s/ (N = non-embedding params; D = steps * batch_size * seq_len; list in %s/plan.csv)\n",
           ne, o.out_dir, o.out_dir);
    printf("  %-36s %10s %4s %6s %11s %11s %8s %7s %7s\n", "name", "C", "L", "d", "N", "D", "steps", "D/N", "6ND/C");
    for (int i = 0; i < ne; i++)
        printf("  %-36s %10.3g %4d %6d %11.4g %11.4g %8lld %7.2f %7.4f\n", e[i].name, e[i].C, e[i].shape.n_layer,
               e[i].shape.d_model, e[i].params, e[i].tokens, (long long)e[i].steps, e[i].tokens / e[i].params,
               6 * e[i].params * e[i].tokens / e[i].C);
    printf("run each with: lmc train %s/<name>.yaml; then: lmc scaling collect %s/%s_* -o runs.csv\n", o.out_dir,
           o.runs_dir, o.name_prefix);
    free(e);
    return 0;
}

static const lmc_command plan_cmd = {
    "plan", "write an IsoFLOP sweep as `lmc train` configs (6*N*D = C per budget)", "--flops C1,C2,... [options]",
    "For each budget C, shapes from the width/depth list whose non-embedding parameter count N lies within\n"
    "--span of the centre (sqrt(C/(6*tpp)), or N*(C) of --fit) are given D = C/(6N) tokens, rounded to whole\n"
    "steps of batch_size*seq_len tokens. N counts attention, MLP, biases and LayerNorms, not embeddings:\n"
    "N = n_layer*(12 d^2 + 13 d) + 2 d.",
    plan_opts, 0, 0, run_plan, NULL, 0};

/* ------------------------------------------------------------------ collect */

static const lmc_opt collect_opts[] = {
    {"out", 'o', OPT_STR, NULL, "RUNS.csv", "where to write params,tokens,flops,loss,run"},
    LMC_OPTS_END};

static int run_collect(lmc_args *a) {
    const char *out = lmc_arg_str(a, "out");
    if (!out) return lmc_usage_error(a, "-o RUNS.csv is required");
    lmc_err err = {0};
    if (scaling_collect(lmc_arg_positionals(a), lmc_arg_npos(a), out, &err) < 0) return lmc_fail(a, "%s", err.msg);
    printf("%d runs -> %s\n", lmc_arg_npos(a), out);
    return 0;
}

static const lmc_command collect_cmd = {
    "collect", "gather params, tokens, flops and final val loss from finished run directories",
    "RUN_DIR... -o RUNS.csv",
    "Reads RUN_DIR/config.yaml (model.n_layer, model.d_model, model.seq_len, train.steps, train.batch_size)\n"
    "and RUN_DIR/metrics.jsonl (the last val_loss). params = non-embedding parameters,\n"
    "tokens = steps * batch_size * seq_len, flops = 6 * params * tokens.",
    collect_opts, 1, -1, run_collect, NULL, 0};

/* ------------------------------------------------------------------ powerlines */

static const lmc_opt pl_opts[] = {
    {"batch", 0, OPT_FLOAT, NULL, "B", "batch size (same unit as --tokens: tokens, or sequences)"},
    {"tokens", 0, OPT_FLOAT, NULL, "D", "training set size"},
    {"lr", 0, OPT_FLOAT, NULL, "ETA", "peak learning rate"},
    {"params", 0, OPT_FLOAT, NULL, "N", "parameters: target tau_opt(D/N) = c_tau*(D/N)^m_tau"},
    {"tau", 0, OPT_FLOAT, NULL, "T", "target normalized timescale (instead of tau_opt)"},
    {"wd", 0, OPT_FLOAT, NULL, "LAMBDA", "a weight decay: report its tau = B/(eta*lambda*D)"},
    {"c-tau", 0, OPT_FLOAT, "1.0", "C", "tau_opt coefficient (derived from the paper's 0.21 at 20 TPP; unverified)"},
    {"m-tau", 0, OPT_FLOAT, "-0.52", "M", "tau_opt exponent (Bergsma et al. 2025)"},
    {"json", 0, OPT_FLAG, NULL, NULL, "print one JSON line"},
    LMC_OPTS_END};

static int run_powerlines(lmc_args *a) {
    if (!lmc_arg_is_set(a, "batch") || !lmc_arg_is_set(a, "tokens") || !lmc_arg_is_set(a, "lr"))
        return lmc_usage_error(a, "--batch, --tokens and --lr are required");
    double B = lmc_arg_float(a, "batch"), D = lmc_arg_float(a, "tokens"), lr = lmc_arg_float(a, "lr");
    if (!(B > 0) || !(D > 0) || !(lr > 0)) return lmc_usage_error(a, "--batch, --tokens and --lr must be positive");
    int hN = lmc_arg_is_set(a, "params"), hT = lmc_arg_is_set(a, "tau"), hW = lmc_arg_is_set(a, "wd");
    if (!hN && !hT && !hW) return lmc_usage_error(a, "give --params (tau_opt), --tau, or --wd");
    double N = lmc_arg_float(a, "params"), T = lmc_arg_float(a, "tau"), wd = lmc_arg_float(a, "wd");
    double ct = lmc_arg_float(a, "c-tau"), mt = lmc_arg_float(a, "m-tau");
    if ((hN && !(N > 0)) || (hT && !(T > 0)) || (hW && !(wd > 0)) || !(ct > 0))
        return lmc_usage_error(a, "--params, --tau, --wd and --c-tau must be positive");
    double tpp = hN ? D / N : NAN, tau_opt = hN ? scaling_tau_opt(tpp, ct, mt) : NAN;
    double target = hT ? T : tau_opt;
    double lam = (hT || hN) ? scaling_wd_for_tau(B, lr, D, target) : NAN;
    double tau_given = hW ? scaling_tau(B, lr, wd, D) : NAN;
    if (lmc_arg_flag(a, "json")) {
        lmc_jsonl w;
        lmc_err err;
        lmc_jsonl_wrap(&w, stdout);
        lmc_jsonl_begin(&w);
        lmc_jsonl_num(&w, "batch", B);
        lmc_jsonl_num(&w, "tokens", D);
        lmc_jsonl_num(&w, "lr", lr);
        lmc_jsonl_num(&w, "steps", D / B);
        if (hN) { lmc_jsonl_num(&w, "tokens_per_param", tpp); lmc_jsonl_num(&w, "tau_opt", tau_opt); }
        lmc_jsonl_num(&w, "c_tau", ct);
        lmc_jsonl_num(&w, "m_tau", mt);
        if (hT || hN) { lmc_jsonl_num(&w, "tau_target", target); lmc_jsonl_num(&w, "weight_decay", lam); }
        if (hW) { lmc_jsonl_num(&w, "wd", wd); lmc_jsonl_num(&w, "tau", tau_given); }
        int jrc = lmc_jsonl_end(&w, &err);
        lmc_jsonl_close(&w, NULL);
        return jrc < 0 ? lmc_fail(a, "%s", err.msg) : 0;
    }
    printf("Power Lines (Bergsma et al. 2025): tau = B/(eta*lambda*D), steps S = D/B = %.6g\n", D / B);
    if (hN)
        printf("  tokens/param = %.4g, tau_opt = %.4g * TPP^%.3f = %.6g\n", tpp, ct, mt, tau_opt);
    if (hT || hN)
        printf("  weight decay for tau = %.6g: lambda = %.6g  (timescale 1/(eta*lambda) = %.6g steps)\n", target, lam,
               1.0 / (lr * lam));
    if (hW) printf("  given lambda = %.6g: tau = %.6g  (timescale %.6g steps)\n", wd, tau_given, 1.0 / (lr * wd));
    return 0;
}

static const lmc_command pl_cmd = {
    "powerlines", "AdamW timescale tau = B/(eta*lambda*D) and the weight decay that hits tau_opt",
    "--batch B --tokens D --lr ETA [--params N] [--tau T] [--wd LAMBDA]",
    "tau_opt(TPP) = c_tau * TPP^m_tau with m_tau = -0.52 (Bergsma et al., NeurIPS 2025) and c_tau = 1.0, derived\n"
    "from the paper's anchor tau_opt ~ 0.21 at 20 tokens/param (not checked against the paper's fit; override\n"
    "with --c-tau). B and D must be in the same unit.",
    pl_opts, 0, 0, run_powerlines, NULL, 0};

extern const lmc_command scaling_merge_fit_cmd; /* cmd_scaling_merge.c */
extern const lmc_command scaling_mix_cmd;       /* cmd_scaling_mix.c */
static const lmc_command *const scaling_subs[] = {&fit_cmd, &predict_cmd, &plan_cmd, &collect_cmd, &pl_cmd,
                                                  &scaling_merge_fit_cmd, &scaling_mix_cmd, NULL};
static const lmc_command scaling_cmd = {"scaling", "fit scaling laws from runs and plan compute-optimal training",
                                        "SUBCOMMAND [options]", NULL, NULL, 0, 0, NULL, scaling_subs, 70};
LMC_COMMAND(scaling_cmd)
