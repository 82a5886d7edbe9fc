/* lmc scaling merge-fit: the merging scaling law L(k) = C + A / (k + b) from (k, loss) points. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/io.h"
#include "cli/cli.h"
#include "scaling/merge_law.h"

static const lmc_opt mfit_opts[] = {
    {"holdout", 0, OPT_INT, "0", "K", "fit on points with k < K only and report the error at k >= K (0 = fit all)"},
    {"json", 0, OPT_FLAG, NULL, NULL, "print the fit as one JSON object"},
    LMC_OPTS_END};

static int run_mfit(lmc_args *a) {
    lmc_err err = {0};
    const char *path = lmc_arg_pos(a, 0);
    char *d;
    size_t len;
    if (lmc_read_file(path, &d, &len, &err)) return lmc_fail(a, "%s", err.msg);
    size_t cap = 64, n = 0;
    double *k = malloc(cap * sizeof *k), *y = malloc(cap * sizeof *y);
    int64_t hold = lmc_arg_int(a, "holdout");
    size_t line = 0;
    int rc = 0;
    for (char *s = d, *nl; s && *s && !rc; s = nl ? nl + 1 : NULL) {
        nl = strchr(s, '\n');
        if (nl) *nl = 0;
        line++;
        if (!*s || *s == '#' || (line == 1 && (s[0] < '0' || s[0] > '9'))) continue; /* header / comments */
        char *e;
        double kv = strtod(s, &e);
        if (e == s || *e != ',') { rc = lmc_fail(a, "%s:%zu: expected \"k,loss\"", path, line); break; }
        char *e2;
        double lv = strtod(e + 1, &e2);
        if (e2 == e + 1 || (*e2 && *e2 != ',' && *e2 != '\r')) { rc = lmc_fail(a, "%s:%zu: expected \"k,loss\"", path, line); break; }
        if (n == cap) { cap *= 2; k = realloc(k, cap * sizeof *k); y = realloc(y, cap * sizeof *y); }
        k[n] = kv;
        y[n] = lv;
        n++;
    }
    free(d);
    if (!rc) {
        double *fk = malloc((n + 1) * sizeof *fk), *fy = malloc((n + 1) * sizeof *fy);
        size_t m = 0;
        for (size_t i = 0; i < n; i++)
            if (hold <= 0 || k[i] < (double)hold) { fk[m] = k[i]; fy[m] = y[i]; m++; }
        merge_law law;
        if (merge_law_fit(fk, fy, m, &law, &err)) rc = lmc_fail(a, "%s: %s", path, err.msg);
        else {
            double kstar = 10 + 9 * law.b; /* 90% of the gain */
            if (lmc_arg_flag(a, "json")) {
                printf("{\"C\": %.9g, \"A\": %.9g, \"b\": %.9g, \"wsse\": %.6g, \"k90\": %.4g, \"points\": %zu", law.C, law.A, law.b,
                       law.wsse, kstar, m);
                if (hold > 0) {
                    printf(", \"holdout\": [");
                    int first = 1;
                    for (size_t i = 0; i < n; i++)
                        if (k[i] >= (double)hold) {
                            printf("%s{\"k\": %g, \"loss\": %.9g, \"predicted\": %.9g}", first ? "" : ", ", k[i], y[i], merge_law_loss(&law, k[i]));
                            first = 0;
                        }
                    printf("]");
                }
                printf("}\n");
            } else {
                printf("L(k) = %.6f + %.6f / (k + %.4f)   (%zu points, weighted SSE %.3g)\n", law.C, law.A, law.b, m, law.wsse);
                printf("limit k -> inf: %.6f; 90%% of the gain over k = 1 at k = %.1f\n", law.C, kstar);
                for (size_t i = 0; i < n; i++)
                    printf("  k %-4g loss %.6f  fit %.6f%s\n", k[i], y[i], merge_law_loss(&law, k[i]),
                           hold > 0 && k[i] >= (double)hold ? "  (held out)" : "");
            }
        }
        free(fk);
        free(fy);
    }
    free(k);
    free(y);
    return rc;
}

const lmc_command scaling_merge_fit_cmd = {"merge-fit", "fit the merging scaling law L(k) = C + A/(k+b) (ICML 2026)",
    "[options] POINTS.csv",
    "POINTS.csv holds \"k,loss\" lines (an optional header line): the loss of the merge of k experts (equal\n"
    "weights) fine-tuned from one base. Weighted least squares, weights proportional to k (see docs/merge.md).",
    mfit_opts, 1, 1, run_mfit, NULL, 0};
