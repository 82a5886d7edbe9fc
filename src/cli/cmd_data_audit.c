/* `lmc data audit IN... --by FIELD`: removal rates of each quality filter per category (src/data/audit.c). */
#include "cli/cmd_data_extra.h"

#include <string.h>

static const lmc_opt audit_opts[] = {
    {"by", 0, OPT_STR, "source", "FIELD", "JSONL field whose values are the categories (source, language, dialect)"},
    {"rules", 0, OPT_STR, "gopher-repetition,gopher-quality,c4,fineweb", "LIST", "rule sets audited"},
    {"set", 0, OPT_LIST, NULL, "RULE.PARAM=V", "change a threshold, as for `lmc data filter`"},
    {"report", 0, OPT_STR, NULL, "FILE.json", "the full audit (default: print the table only)"},
    {"field", 0, OPT_STR, "text", "NAME", "JSONL field holding the text"},
    {"format", 0, OPT_STR, "auto", "FMT", "input format: auto, jsonl, text"},
    {"strict", 0, OPT_FLAG, NULL, NULL, "an invalid input line is an error"},
    {"max-doc-bytes", 0, OPT_INT, "268435456", "N", "skip (and count) documents longer than N bytes (0 = no limit)"},
    {"threads", 0, OPT_INT, "0", "N", "worker threads (0 = all cores); the report is the same for any N"},
    LMC_OPTS_END};

static int run_audit(lmc_args *a) {
    data_audit_cfg c;
    data_audit_cfg_default(&c);
    c.inputs = lmc_arg_positionals(a);
    c.ninputs = (size_t)lmc_arg_npos(a);
    c.by = lmc_arg_str(a, "by");
    c.read.field = lmc_arg_str(a, "field");
    const char *f = lmc_arg_str(a, "format");
    if (!strcmp(f, "jsonl")) c.read.format = DATA_FMT_JSONL;
    else if (!strcmp(f, "text")) c.read.format = DATA_FMT_TEXT;
    else if (strcmp(f, "auto")) return lmc_usage_error(a, "--format must be auto, jsonl or text, got '%s'", f);
    c.read.strict = lmc_arg_flag(a, "strict");
    int64_t m = lmc_arg_int(a, "max-doc-bytes"), t = lmc_arg_int(a, "threads");
    if (m < 0) return lmc_usage_error(a, "--max-doc-bytes must be >= 0");
    if (t < 0 || t > 4096) return lmc_usage_error(a, "--threads must be 0..4096");
    c.read.max_doc_bytes = (size_t)m;
    c.threads = (int)t;
    lmc_err err = {0};
    unsigned rs;
    if (data_filter_parse_rulesets(lmc_arg_str(a, "rules"), &rs, &err) < 0) return lmc_usage_error(a, "%s", err.msg);
    data_filter_cfg_default(&c.filter, rs);
    int n;
    const char *const *sets = lmc_arg_list(a, "set", &n);
    for (int i = 0; i < n; i++)
        if (data_filter_set(&c.filter, sets[i], &err) < 0) return lmc_usage_error(a, "%s", err.msg);
    json_t *rep = NULL;
    if (data_audit_run(&c, &rep, &err) < 0) {
        json_decref(rep);
        return lmc_fail(a, "%s", err.msg);
    }
    /* the table, printed from the JSON so the two never disagree */
    json_t *cats = json_object_get(rep, "categories"), *ov = json_object_get(rep, "overall");
    json_t *fl0 = json_object_get(ov, "filters");
    printf("%-24s %9s", c.by, "documents");
    const char *k;
    json_t *v;
    json_object_foreach(fl0, k, v) printf("  %-24s", k);
    printf("\n");
    for (size_t i = 0; i <= json_array_size(cats); i++) {
        json_t *o = i == 0 ? ov : json_array_get(cats, i - 1);
        printf("%-24.24s %9lld", json_string_value(json_object_get(o, "category")),
               (long long)json_integer_value(json_object_get(o, "documents")));
        json_object_foreach(json_object_get(o, "filters"), k, v) {
            json_t *ci = json_object_get(v, "ci95");
            char cell[64];
            snprintf(cell, sizeof cell, "%5.1f%% [%.1f-%.1f]", 100 * json_real_value(json_object_get(v, "rate")),
                     100 * json_real_value(json_array_get(ci, 0)), 100 * json_real_value(json_array_get(ci, 1)));
            printf("  %-24s", cell);
        }
        printf("\n");
    }
    const char *rp = lmc_arg_str(a, "report");
    int rc = 0;
    if (rp && lmc_json_save_file(rep, rp, &err) < 0) rc = lmc_fail(a, "%s", err.msg);
    json_decref(rep);
    return rc;
}

const lmc_command lmc_data_audit_cmd = {"audit", "filter-bias audit: removal rate of each filter per category",
    "[options] IN... --by FIELD",
    "Each rule set is evaluated on its own (would it alone remove the document?) and as the whole chain\n"
    "('any', what `lmc data filter` removes). Per category of --by: documents, removed, rate and its Wilson\n"
    "95% interval; the report adds counts per rule and, per filter, the categories with the highest and\n"
    "lowest rate and whether their intervals are disjoint (Data Caricatures, ACL 2025).",
    audit_opts, 1, -1, run_audit, NULL, 0};
