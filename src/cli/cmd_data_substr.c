/* `lmc data dedup --substring --min-len N`: exact-substring dedup (src/data/substr.c). */
#include "cli/cmd_data_extra.h"

#include <string.h>

int lmc_data_substring(const lmc_args *a, const data_pipeline_cfg *in) {
    static const char *const near_only[] = {"exact", "minhash", "rejected", "threshold", "verify", "ngram", "bands",
                                            "rows", "seed", "licence-allow", "provenance", NULL};
    for (const char *const *o = near_only; *o; o++)
        if (lmc_arg_is_set(a, *o)) return lmc_usage_error(a, "--%s does not apply to --substring", *o);
    data_substr_cfg c;
    data_substr_cfg_default(&c);
    c.inputs = in->inputs;
    c.ninputs = in->ninputs;
    c.read = in->read;
    c.threads = in->threads;
    c.output = lmc_arg_str(a, "output");
    c.report_only = lmc_arg_flag(a, "report-only");
    if (c.report_only) c.output = NULL;
    else if (!c.output) return lmc_usage_error(a, "-o OUT is required (or --report-only)");
    int64_t ml = lmc_arg_int(a, "min-len");
    if (ml < 1 || ml > 1 << 30) return lmc_usage_error(a, "--min-len must be 1..2^30 bytes");
    c.min_len = (int)ml;
    const char *keep = lmc_arg_str(a, "keep");
    if (!strcmp(keep, "first")) c.keep_first = 1;
    else if (!strcmp(keep, "none")) c.keep_first = 0;
    else return lmc_usage_error(a, "--keep must be first or none, got '%s'", keep);
    json_t *rep = NULL;
    lmc_err err = {0};
    if (data_substr_run(&c, &rep, &err) < 0) {
        json_decref(rep);
        return lmc_fail(a, "%s", err.msg);
    }
    const char *rp = lmc_arg_str(a, "report");
    if (rp && lmc_json_save_file(rep, rp, &err) < 0) {
        json_decref(rep);
        return lmc_fail(a, "%s", err.msg);
    }
    json_t *sd = json_object_get(rep, "substring_dedup");
    fprintf(stderr, "%s --substring: %lld documents in, %lld out; %lld spans, %lld of %lld bytes %s (%.2f%%), "
            "%lld documents changed, %lld emptied\n",
            lmc_arg_cmdpath(a), (long long)json_integer_value(json_object_get(rep, "documents_in")),
            (long long)json_integer_value(json_object_get(rep, "documents_out")),
            (long long)json_integer_value(json_object_get(sd, "spans")),
            (long long)json_integer_value(json_object_get(sd, "bytes_removed")),
            (long long)json_integer_value(json_object_get(rep, "bytes_in")), c.report_only ? "repeated" : "removed",
            100.0 * json_real_value(json_object_get(sd, "removed_share")),
            (long long)json_integer_value(json_object_get(sd, "documents_changed")),
            (long long)json_integer_value(json_object_get(sd, "documents_emptied")));
    json_decref(rep);
    return 0;
}
