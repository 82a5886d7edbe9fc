/* lmc scaling mix: propose data-mixture weights by Mixture of Data Experts (src/scaling/mix.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/json.h"
#include "cli/cli.h"
#include "kernels/cpu/kernels.h"
#include "scaling/mix.h"

static const lmc_opt mix_opts[] = {
    {"expert", 'e', OPT_LIST, NULL, "DIR", "expert i: a checkpoint folder (or HF folder / .gguf) trained on domain i alone; repeat, one per domain"},
    {"val", 'v', OPT_LIST, NULL, "SHARD", "domain i's validation shard (llm.c .bin); repeat, in the order of --expert"},
    {"names", 0, OPT_STR, NULL, "A,B,..", "domain names (default d1,d2,...)"},
    {"seq-len", 't', OPT_INT, NULL, "T", "window length, as for lmc eval"},
    {"max-tokens", 'n', OPT_INT, "0", "N", "predicted tokens per domain (0 = every window that fits)"},
    {"batch", 'b', OPT_INT, "0", "B", "windows per forward pass (0 = lmc eval's default, about 2048 tokens)"},
    {"samples", 0, OPT_INT, "256", "N", "Dirichlet draws on the simplex"},
    {"concentration", 0, OPT_FLOAT, "1", "C", "Dirichlet concentration (1 = uniform on the simplex)"},
    {"refine", 0, OPT_INT, "256", "N", "local-refinement proposals around the best draw"},
    {"seed", 0, OPT_INT, "1", "S", "search seed"},
    {"domain-weights", 0, OPT_STR, NULL, "W1,W2,..", "weights of the domains in the objective (default equal)"},
    {"runs", 0, OPT_STR, NULL, "FILE.csv", "true proxy runs (columns w_<name>, loss_<name>): fit linear + MDE and minimise its prediction"},
    {"eval", 0, OPT_LIST, NULL, "W1,W2,..", "also score this mixture (normalised; repeatable), e.g. a run's weights"},
    {"top", 0, OPT_INT, "10", "N", "distinct candidates shown in the table (closer than 1e-3 in every weight counts as one)"},
    {"output", 'o', OPT_STR, NULL, "FILE.json", "write every candidate, the expert losses and the proposal as JSON"},
    {"threads", 0, OPT_INT, "0", "N", "worker threads (0 = all cores)"},
    LMC_OPTS_END};

/* "a,b,c" -> n malloc'd strings in one block (caller frees *out). */
static int split_list(const char *s, char ***out, int max) {
    int n = 1;
    for (const char *p = s; *p; p++) n += *p == ',';
    if (n > max) return -1;
    size_t len = strlen(s) + 1;
    char **v = malloc((size_t)n * sizeof *v + len);
    if (!v) return -1;
    char *buf = (char *)(v + n);
    memcpy(buf, s, len);
    int i = 0;
    for (char *p = buf;; i++) {
        v[i] = p;
        char *c = strchr(p, ',');
        if (!c) break;
        *c = 0;
        p = c + 1;
    }
    *out = v;
    return n;
}

static json_t *jvec(const double *x, int k) {
    json_t *a = json_array();
    for (int i = 0; i < k; i++) json_array_append_new(a, isfinite(x[i]) ? json_real(x[i]) : json_null());
    return a;
}

static void print_row(const char *lead, const mde_candidate *c, int k, int pred) {
    printf("%-14s", lead);
    for (int i = 0; i < k; i++) printf(" %7.4f", c->alpha[i]);
    printf("  |");
    for (int j = 0; j < k; j++) printf(" %8.5f", c->lmde[j]);
    if (pred) {
        printf("  |");
        for (int j = 0; j < k; j++) printf(" %8.5f", c->pred[j]);
    }
    printf("  | %8.5f\n", c->objective);
}

static int run_mix(lmc_args *a) {
    int k = 0, nv = 0;
    const char *const *experts = lmc_arg_list(a, "expert", &k);
    const char *const *val = lmc_arg_list(a, "val", &nv);
    if (k < 2) return lmc_usage_error(a, "give at least two --expert DIR (one per domain)");
    if (k > MDE_MAX_DOMAINS) return lmc_usage_error(a, "at most %d domains", MDE_MAX_DOMAINS);
    if (nv != k) return lmc_usage_error(a, "%d --expert but %d --val: give one validation shard per expert", k, nv);
    if (!lmc_arg_is_set(a, "seq-len")) return lmc_usage_error(a, "--seq-len T is required");
    int64_t T = lmc_arg_int(a, "seq-len"), maxtok = lmc_arg_int(a, "max-tokens"), B = lmc_arg_int(a, "batch");
    int64_t samples = lmc_arg_int(a, "samples"), refine = lmc_arg_int(a, "refine"), top = lmc_arg_int(a, "top");
    int64_t threads = lmc_arg_int(a, "threads");
    if (T <= 0 || T > 1 << 20) return lmc_usage_error(a, "--seq-len must be in 1..%d", 1 << 20);
    if (maxtok < 0) return lmc_usage_error(a, "--max-tokens must be >= 0");
    if (B < 0 || B > 1 << 20) return lmc_usage_error(a, "--batch must be in 0..%d", 1 << 20);
    if (samples < 0 || samples > 10000000) return lmc_usage_error(a, "--samples must be in 0..10000000");
    if (refine < 0 || refine > 10000000) return lmc_usage_error(a, "--refine must be in 0..10000000");
    if (top < 0) return lmc_usage_error(a, "--top must be >= 0");
    if (threads < 0) return lmc_usage_error(a, "--threads must be >= 0");
    double conc = lmc_arg_float(a, "concentration");
    if (!(conc > 0)) return lmc_usage_error(a, "--concentration must be > 0");

    char **names = NULL, **dw_s = NULL;
    char defnames[MDE_MAX_DOMAINS][16];
    const char *nm[MDE_MAX_DOMAINS];
    for (int i = 0; i < k; i++) {
        snprintf(defnames[i], sizeof defnames[i], "d%d", i + 1);
        nm[i] = defnames[i];
    }
    if (lmc_arg_str(a, "names")) {
        int n = split_list(lmc_arg_str(a, "names"), &names, MDE_MAX_DOMAINS);
        if (n != k) {
            free(names);
            return lmc_usage_error(a, "--names gives %d names for %d domains", n, k);
        }
        for (int i = 0; i < k; i++) {
            if (!names[i][0] || strchr(names[i], ' ')) {
                int rc = lmc_usage_error(a, "--names: name %d is empty or has a space", i + 1);
                free(names);
                return rc;
            }
            nm[i] = names[i];
        }
    }
    double dw[MDE_MAX_DOMAINS];
    int have_dw = 0;
    if (lmc_arg_str(a, "domain-weights")) {
        int n = split_list(lmc_arg_str(a, "domain-weights"), &dw_s, MDE_MAX_DOMAINS);
        int bad = n != k;
        for (int i = 0; !bad && i < k; i++) {
            char *e;
            dw[i] = strtod(dw_s[i], &e);
            bad = e == dw_s[i] || *e || !(dw[i] >= 0) || !isfinite(dw[i]);
        }
        free(dw_s);
        if (bad) {
            free(names);
            return lmc_usage_error(a, "--domain-weights: expected %d numbers >= 0, comma-separated", k);
        }
        have_dw = 1;
    }

    lmc_kernels_set_threads((int)threads);
    lmc_err err = {0};
    mde_cache c;
    fprintf(stderr, "lmc scaling mix: caching %d experts x %d domains (window %lld)\n", k, k, (long long)T);
    if (mde_cache_build(&c, experts, val, k, (int)T, maxtok, (int)B, &err)) {
        free(names);
        return lmc_fail(a, "%s", err.msg);
    }
    int rc = 0;
    mde_regression reg = {0};
    int have_reg = 0;
    double *ra = NULL, *rl = NULL;
    int nr = 0;
    const char *runs = lmc_arg_str(a, "runs");
    if (runs) {
        if (mde_runs_load_csv(runs, nm, k, &ra, &rl, &nr, &err) || mde_regression_fit(&reg, &c, ra, rl, nr, &err))
            rc = lmc_fail(a, "--runs %s: %s", runs, err.msg);
        else
            have_reg = 1;
    }
    /* given mixtures: every --eval, then the runs' own weights (to set the fit beside L_MDE) */
    int ne = 0;
    const char *const *ev = lmc_arg_list(a, "eval", &ne);
    double *given = rc ? NULL : malloc(((size_t)ne + (size_t)nr + 1) * (size_t)k * sizeof *given);
    if (!rc && !given) rc = lmc_fail(a, "out of memory");
    for (int g = 0; !rc && g < ne; g++) {
        char **f = NULL;
        int n = split_list(ev[g], &f, MDE_MAX_DOMAINS);
        double sum = 0;
        int bad = n != k;
        for (int i = 0; !bad && i < k; i++) {
            char *e;
            double v = strtod(f[i], &e);
            bad = e == f[i] || *e || !(v >= 0) || !isfinite(v);
            given[(size_t)g * k + i] = v;
            sum += v;
        }
        free(f);
        if (bad || !(sum > 0)) {
            rc = lmc_usage_error(a, "--eval '%s': expected %d numbers >= 0, comma-separated, not all 0", ev[g], k);
            break;
        }
        for (int i = 0; i < k; i++) given[(size_t)g * k + i] /= sum;
    }
    if (!rc && nr) memcpy(given + (size_t)ne * k, ra, (size_t)nr * k * sizeof *given);
    mde_candidate *cand = NULL;
    int nc = 0;
    mde_search_opts so = {have_dw ? dw : NULL, (int)samples, conc, (int)refine, (uint64_t)lmc_arg_int(a, "seed"),
                          have_reg ? &reg : NULL, given, ne + nr};
    if (!rc && mde_search(&c, &so, &cand, &nc, &err)) rc = lmc_fail(a, "%s", err.msg);
    if (!rc) {
        /* expert matrix: L_MDE,j(e_i) = expert i's own loss on domain j */
        double *ex = malloc((size_t)k * k * sizeof *ex);
        for (int q = 0; ex && q < nc; q++)
            if (cand[q].origin == MDE_CAND_VERTEX)
                for (int i = 0; i < k; i++)
                    if (cand[q].alpha[i] == 1)
                        memcpy(ex + (size_t)i * k, cand[q].lmde, (size_t)k * sizeof *ex);
        printf("expert val loss (row: expert trained on; column: validation domain)\n%-14s", "");
        for (int j = 0; j < k; j++) printf(" %12s", nm[j]);
        printf("\n");
        for (int i = 0; ex && i < k; i++) {
            printf("%-14s", nm[i]);
            for (int j = 0; j < k; j++) printf(" %12.5f", ex[(size_t)i * k + j]);
            printf("\n");
        }
        if (have_reg) {
            printf("linear + MDE fit on %d runs, in-sample RMSE per domain:", nr);
            for (int j = 0; j < k; j++) printf(" %s %.4g", nm[j], reg.rmse[j]);
            printf("\n");
        }
        printf("\n%d candidates (%lld Dirichlet, %lld refinement); best %d by %s:\n", nc, (long long)samples,
               (long long)refine, (int)(top < nc ? top : nc), have_reg ? "predicted mean loss" : "mean L_MDE");
        printf("%-14s %-*s  | %-*s", "", 8 * k - 1, "alpha", 9 * k - 1, "L_MDE per domain");
        if (have_reg) printf("  | %-*s", 9 * k - 1, "predicted loss");
        printf("  |\n%-14s", "origin");
        for (int i = 0; i < k; i++) printf(" %7.7s", nm[i]);
        printf("  |");
        for (int j = 0; j < k; j++) printf(" %8.8s", nm[j]);
        if (have_reg) {
            printf("  |");
            for (int j = 0; j < k; j++) printf(" %8.8s", nm[j]);
        }
        printf("  | objective\n");
        /* distinct rows only: refinement leaves many near-copies of the optimum */
        for (int q = 0, shown = 0; q < nc && shown < top; q++) {
            int dup = 0;
            for (int p = 0; p < q && !dup; p++) {
                double dmax = 0;
                for (int i = 0; i < k; i++) dmax = fmax(dmax, fabs(cand[q].alpha[i] - cand[p].alpha[i]));
                dup = dmax < 1e-3;
            }
            if (dup) continue;
            print_row(mde_origin_name(cand[q].origin), &cand[q], k, have_reg);
            shown++;
        }
        printf("for reference:\n");
        for (int q = 0; q < nc; q++)
            if (cand[q].origin == MDE_CAND_UNIFORM || cand[q].origin == MDE_CAND_VERTEX || cand[q].origin == MDE_CAND_GIVEN)
                print_row(mde_origin_name(cand[q].origin), &cand[q], k, have_reg);
        printf("\nproposed mixture:");
        for (int i = 0; i < k; i++) printf(" %s %.4f", nm[i], cand[0].alpha[i]);
        printf("\n");

        const char *out = lmc_arg_str(a, "output");
        if (out) {
            json_t *j = json_object(), *dom = json_array(), *jex = json_array(), *tok = json_array();
            for (int i = 0; i < k; i++) {
                json_array_append_new(dom, json_string(nm[i]));
                json_array_append_new(tok, json_integer((json_int_t)c.ntok[i]));
                if (ex) json_array_append_new(jex, jvec(ex + (size_t)i * k, k));
            }
            json_object_set_new(j, "method", json_string(have_reg ? "mde+linear" : "mde"));
            json_object_set_new(j, "domains", dom);
            json_t *je = json_array(), *jv = json_array();
            for (int i = 0; i < k; i++) {
                json_array_append_new(je, json_string(experts[i]));
                json_array_append_new(jv, json_string(val[i]));
            }
            json_object_set_new(j, "experts", je);
            json_object_set_new(j, "val", jv);
            json_object_set_new(j, "seq_len", json_integer(T));
            json_object_set_new(j, "tokens", tok);
            json_object_set_new(j, "expert_loss", jex);
            if (have_dw) json_object_set_new(j, "domain_weights", jvec(dw, k));
            json_object_set_new(j, "seed", json_integer(lmc_arg_int(a, "seed")));
            if (have_reg) {
                json_t *jr = json_object(), *co = json_array();
                for (int q = 0; q < k; q++) json_array_append_new(co, jvec(reg.coef + (size_t)q * (k + 1), k + 1));
                json_object_set_new(jr, "runs", json_integer(nr));
                json_object_set_new(jr, "coef", co);
                json_object_set_new(jr, "rmse", jvec(reg.rmse, k));
                json_object_set_new(j, "regression", jr);
            }
            json_t *best = json_object();
            json_object_set_new(best, "alpha", jvec(cand[0].alpha, k));
            json_object_set_new(best, "l_mde", jvec(cand[0].lmde, k));
            if (have_reg) json_object_set_new(best, "predicted", jvec(cand[0].pred, k));
            json_object_set_new(best, "objective", json_real(cand[0].objective));
            json_object_set_new(j, "proposal", best);
            json_t *all = json_array();
            for (int q = 0; q < nc; q++) {
                json_t *o = json_object();
                json_object_set_new(o, "origin", json_string(mde_origin_name(cand[q].origin)));
                json_object_set_new(o, "alpha", jvec(cand[q].alpha, k));
                json_object_set_new(o, "l_mde", jvec(cand[q].lmde, k));
                if (have_reg) json_object_set_new(o, "predicted", jvec(cand[q].pred, k));
                json_object_set_new(o, "objective", json_real(cand[q].objective));
                json_array_append_new(all, o);
            }
            json_object_set_new(j, "candidates", all);
            if (lmc_json_save_file(j, out, &err) < 0) rc = lmc_fail(a, "%s", err.msg);
            json_decref(j);
        }
        free(ex);
    }
    mde_candidates_free(cand, nc);
    free(given);
    mde_regression_free(&reg);
    free(ra);
    free(rl);
    mde_cache_free(&c);
    free(names);
    return rc;
}

const lmc_command scaling_mix_cmd = {"mix", "propose data-mixture weights by Mixture of Data Experts (MDE, ACL 2025)",
    "--expert DIR --val SHARD [--expert DIR --val SHARD ...] --seq-len T [options]",
    "Expert i is a model trained on domain i alone. Each expert's next-token probabilities on every\n"
    "domain's validation shard are cached (one pass per expert per domain, windows as lmc eval cuts\n"
    "them); a mixture alpha is then scored without any forward pass as L_MDE,j(alpha) = mean cross-entropy\n"
    "of sum_i alpha_i P_i on domain j, and the simplex is searched (the vertices, uniform, Dirichlet draws,\n"
    "then local refinement; deterministic for --seed) for the alpha minimising the mean over domains\n"
    "(weighted by --domain-weights); --eval scores given mixtures beside them. With --runs, a few true proxy runs fit the paper's linear regression on\n"
    "[alpha, L_MDE] per domain and its prediction is minimised instead. See docs/scaling.md.",
    mix_opts, 0, 0, run_mix, NULL, 0};
