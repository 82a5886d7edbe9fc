/* lmc merge: Task Arithmetic, TIES, DARE and contrastive weight steering of checkpoints. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/io.h"
#include "cli/cli.h"
#include "merge/merge.h"
#include "model/gpt2.h"

static const lmc_opt merge_opts_tbl[] = {
    {"output", 'o', OPT_STR, NULL, "OUT", "output checkpoint folder"},
    {"base", 0, OPT_STR, NULL, "DIR", "the base checkpoint theta_0 the models were fine-tuned from"},
    {"method", 0, OPT_STR, "ta", "ta|ties|dare|steer", "merge method (steer: MODEL... = positive negative)"},
    {"weights", 0, OPT_LIST, NULL, "W[,W...]", "per-model weights (default 1 each; repeat or comma-separate)"},
    {"scale", 0, OPT_FLOAT, "1", "S", "lambda (ta, ties, dare) or the steering coefficient k (steer)"},
    {"density", 0, OPT_FLOAT, "0.2", "D", "ties: fraction of each task vector kept; dare: keep probability"},
    {"seed", 0, OPT_INT, "0", "S", "dare: seed of the drop masks (lmc's Philox; see docs/merge.md)"},
    LMC_OPTS_END};

static int run_merge(lmc_args *a) {
    lmc_err err = {0};
    const char *out = lmc_arg_str(a, "output"), *base = lmc_arg_str(a, "base");
    if (!out) return lmc_usage_error(a, "-o OUT is required");
    if (!base) return lmc_usage_error(a, "--base DIR is required");
    int method = merge_method_parse(lmc_arg_str(a, "method"));
    if (method < 0) return lmc_usage_error(a, "--method must be ta, ties, dare or steer");
    int n = lmc_arg_npos(a);
    if (method == MERGE_STEER && n != 2) return lmc_usage_error(a, "--method steer takes two models: POSITIVE NEGATIVE");
    merge_opts o = {(merge_method)method, NULL, (float)lmc_arg_float(a, "scale"), (float)lmc_arg_float(a, "density"),
                    (uint64_t)lmc_arg_int(a, "seed")};
    if ((method == MERGE_TIES || method == MERGE_DARE) && !(o.density > 0 && o.density <= 1))
        return lmc_usage_error(a, "--density must be in (0, 1]");
    int nw;
    const char *const *ws = lmc_arg_list(a, "weights", &nw);
    float *w = NULL;
    if (nw > 0) {
        w = calloc((size_t)n, sizeof *w);
        int k = 0;
        for (int i = 0; i < nw; i++) {
            const char *s = ws[i];
            while (*s) {
                char *end;
                double x = strtod(s, &end);
                if (end == s || (*end && *end != ',')) { free(w); return lmc_usage_error(a, "--weights: bad number in '%s'", ws[i]); }
                if (k >= n) { free(w); return lmc_usage_error(a, "--weights: more weights than models (%d)", n); }
                w[k++] = (float)x;
                s = *end ? end + 1 : end;
            }
        }
        if (k != n) { free(w); return lmc_usage_error(a, "--weights: %d weights for %d models", k, n); }
        o.weights = w;
    }
    gpt2_model *b = NULL, *res = NULL, **ms = calloc((size_t)n, sizeof *ms);
    int rc = 0;
    if (!ms) { free(w); return lmc_fail(a, "out of memory"); }
    if (gpt2_load_hf(base, &b, &err)) { rc = lmc_fail(a, "%s", err.msg); goto done; }
    for (int i = 0; i < n; i++)
        if (gpt2_load_hf(lmc_arg_pos(a, i), &ms[i], &err)) { rc = lmc_fail(a, "%s", err.msg); goto done; }
    if (gpt2_create(&res, &b->cfg, &err) || merge_models(&o, b, ms, n, res, &err)) { rc = lmc_fail(a, "%s", err.msg); goto done; }
    if (lmc_mkdirs(out, &err) || gpt2_save_hf(res, out, &err)) { rc = lmc_fail(a, "%s", err.msg); goto done; }
    /* the base's tokenizer files go with the merged model */
    static const char *const extra[] = {"tokenizer.json", "tokenizer_config.json"};
    for (int i = 0; i < 2; i++) {
        char *s = lmc_path_join(base, extra[i]), *d = lmc_path_join(out, extra[i]), *data = NULL;
        size_t len;
        if (s && d && lmc_file_exists(s) && (lmc_read_file(s, &data, &len, &err) || lmc_write_file_atomic(d, data, len, &err)))
            rc = lmc_fail(a, "%s", err.msg);
        free(data); free(s); free(d);
        if (rc) goto done;
    }
    fprintf(stderr, "merged %d model%s into %s (%s)\n", n, n == 1 ? "" : "s", out, lmc_arg_str(a, "method"));
done:
    for (int i = 0; i < n; i++) gpt2_free(ms[i]);
    free(ms);
    gpt2_free(b);
    gpt2_free(res);
    free(w);
    return rc;
}

static const lmc_command merge_cmd = {
    "merge", "merge fine-tuned checkpoints of one base (task arithmetic, TIES, DARE, steering)",
    "-o OUT --base DIR MODEL... [options]",
    "Task vectors tau_t = MODEL_t - base, per tensor. ta: base + scale * sum w_t tau_t. ties: trim each\n"
    "tau_t to its top --density fraction by magnitude, elect the sign of sum w_t tau_t, average the\n"
    "agreeing entries. dare: keep each entry with probability --density and divide by it (seeded\n"
    "masks, --seed), then ta. steer: base + scale * (POSITIVE - NEGATIVE). See docs/merge.md.",
    merge_opts_tbl, 1, -1, run_merge, NULL, 56};
LMC_COMMAND(merge_cmd)
