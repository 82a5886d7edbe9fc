/* lmc eval --task: parse, open the model, run the task, print the results, write per-example scores. */
#include "cli/cmd_eval_task.h"
#include "eval/eval.h"
#include "eval/trec.h"
#include "kernels/cpu/kernels.h"
#include "base/io.h"
#include "base/progress.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void print_human(json_t *s) {
    const char *k;
    json_t *v;
    json_object_foreach(s, k, v) {
        if (json_is_object(v)) {
            printf("%s:\n", k);
            const char *k2;
            json_t *v2;
            json_object_foreach(v, k2, v2) printf("  %-48s %.4f\n", k2, json_number_value(v2));
        } else if (json_is_array(v)) {
            char *d = json_dumps(v, JSON_COMPACT);
            printf("%-20s %s\n", k, d ? d : "");
            free(d);
        } else if (json_is_string(v)) printf("%-20s %s\n", k, json_string_value(v));
        else if (json_is_integer(v)) printf("%-20s %lld\n", k, (long long)json_integer_value(v));
        else printf("%-20s %.6f\n", k, json_number_value(v));
    }
}

static int write_examples(const char *path, json_t *ex, lmc_err *err) {
    lmc_atomic w;
    if (lmc_atomic_open(&w, path, err)) return -1;
    size_t i;
    json_t *e;
    json_array_foreach(ex, i, e) {
        if (json_dumpf(e, w.fp, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17)) || fputc('\n', w.fp) == EOF) {
            lmc_atomic_abort(&w);
            return lmc_errf(err, LMC_EIO, "%s: write failed", path);
        }
    }
    return lmc_atomic_commit(&w, err);
}

static void print_json_or_human(lmc_args *a, json_t *summary) {
    if (lmc_arg_flag(a, "json")) {
        char *s = json_dumps(summary, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
        if (s) printf("%s\n", s);
        free(s);
    } else
        print_human(summary);
}

static int run_trec(lmc_args *a) {
    const char *run = lmc_arg_str(a, "run"), *out = lmc_arg_str(a, "output");
    if (!run) return lmc_usage_error(a, "--task trec needs --run RUN_DIR");
    int64_t every = lmc_arg_int(a, "every"), threads = lmc_arg_int(a, "threads");
    if (every < 0) return lmc_usage_error(a, "--every must be >= 0");
    if (threads < 0) return lmc_usage_error(a, "--threads must be >= 0");
    lmc_kernels_set_threads((int)threads);
    lmc_err err = {0};
    json_t *summary = NULL, *ex = NULL;
    int rc = lmc_eval_trec(run, lmc_arg_str(a, "model"), every, &summary, out ? &ex : NULL, &err);
    if (!rc && out) rc = write_examples(out, ex, &err);
    if (!rc) print_json_or_human(a, summary);
    json_decref(summary);
    json_decref(ex);
    return rc ? lmc_fail(a, "%s", err.msg) : 0;
}

int lmc_cmd_eval_task(lmc_args *a) {
    const char *task = lmc_arg_str(a, "task"), *dir = lmc_arg_str(a, "model"), *out = lmc_arg_str(a, "output");
    static const char *const known[] = {"blimp", "mc", "perplexity", "wikitext", "lambada", "heads", "trec", NULL};
    int ok = 0;
    for (int i = 0; known[i]; i++) ok |= !strcmp(task, known[i]);
    if (!ok) return lmc_usage_error(a, "--task must be blimp, mc, perplexity, wikitext, lambada, heads or trec");
    if (!strcmp(task, "trec")) return run_trec(a);
    if (!dir) return lmc_usage_error(a, "--model DIR is required");
    if (lmc_arg_is_set(a, "seq-len") || lmc_arg_is_set(a, "max-tokens"))
        return lmc_usage_error(a, "--seq-len/--max-tokens are for token shards; with --task use --max-length/--limit");
    int nd = 0;
    const char *const *dl = lmc_arg_list(a, "data", &nd);
    int np = lmc_arg_npos(a), n = nd + np;
    if (n == 0) return lmc_usage_error(a, "--task %s needs --data FILE...", task);
    int64_t limit = lmc_arg_int(a, "limit"), threads = lmc_arg_int(a, "threads"), maxlen = lmc_arg_int(a, "max-length");
    int64_t prefix = lmc_arg_int(a, "prefix-token"), bt = lmc_arg_int(a, "batch-tokens");
    if (limit < 0) return lmc_usage_error(a, "--limit must be >= 0");
    if (!(lmc_arg_float(a, "threshold") > 0)) return lmc_usage_error(a, "--threshold must be > 0");
    if (threads < 0) return lmc_usage_error(a, "--threads must be >= 0");
    if (maxlen < 0 || maxlen > 1 << 20) return lmc_usage_error(a, "--max-length must be >= 0");
    if (bt < 1 || bt > 1 << 24) return lmc_usage_error(a, "--batch-tokens must be in [1, 16777216]");
    if (prefix < -1 || prefix > INT32_MAX) return lmc_usage_error(a, "--prefix-token must be a token id or -1");
    int prec = lmc_precision_parse(lmc_arg_str(a, "precision"));
    if (prec < 0) return lmc_usage_error(a, "--precision must be auto, fp32 or bf16");
    const char **files = malloc((size_t)n * sizeof *files);
    if (!files) return lmc_fail(a, "out of memory");
    for (int i = 0; i < nd; i++) files[i] = dl[i];
    for (int i = 0; i < np; i++) files[nd + i] = lmc_arg_pos(a, i);
    for (int i = 0; i < n; i++)
        if (!lmc_file_exists(files[i])) {
            int r = lmc_fail(a, "%s: no such file", files[i]);
            free(files);
            return r;
        }
    lmc_kernels_set_threads((int)threads);
    lmc_err err = {0};
    if (lmc_kernels_set_precision((lmc_precision)prec, &err)) { free(files); return lmc_fail(a, "--precision: %s", err.msg); }
    lmc_eval_lm lm;
    if (lmc_eval_lm_open(&lm, dir, (int)maxlen, (int32_t)prefix, (int)bt, &err)) {
        free(files);
        return lmc_fail(a, "%s", err.msg);
    }
    lmc_progress prog;
    lmc_progress_start(&prog, task, 0, "req");
    lm.progress = &prog;
    double tau = lmc_arg_float(a, "threshold");
    lmc_eval_opts o = {files, n, limit, lmc_arg_str(a, "field"), tau};
    json_t *summary = NULL, *examples = NULL;
    double t0 = lmc_now();
    int rc = lmc_eval_task(&lm, task, &o, &summary, out ? &examples : NULL, &err);
    double secs = lmc_now() - t0;
    lmc_progress_finish(&prog);
    if (!rc && out) rc = write_examples(out, examples, &err);
    if (!rc) {
        json_object_set_new(summary, "max_length", json_integer(lm.max_len));
        json_object_set_new(summary, "prefix_token", json_integer(lm.prefix_id));
        json_object_set_new(summary, "precision", json_string(lmc_precision_name(lmc_kernels_get_precision())));
        json_object_set_new(summary, "seconds", json_real(secs));
        if (lmc_arg_flag(a, "json")) {
            char *s = json_dumps(summary, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
            if (s) printf("%s\n", s);
            free(s);
        } else
            print_human(summary);
    }
    json_decref(summary);
    json_decref(examples);
    lmc_eval_lm_close(&lm);
    free(files);
    if (rc) return lmc_fail(a, "%s", err.msg);
    return 0;
}
