/* `lmc data score IN... --model DIR -o OUT`: per-document perplexity column and CCNet buckets. */
#include "cli/cmd_data_extra.h"
#include "data/lmscore.h"

#include <stdlib.h>
#include <string.h>

static const lmc_opt lmscore_opts[] = {
    {"output", 'o', OPT_STR, NULL, "OUT", "every document with its perplexity column added (JSONL; .zst compresses)"},
    {"model", 0, OPT_STR, NULL, "DIR", "checkpoint folder (config.json + model.safetensors, as `lmc train` writes)"},
    {"tokenizer", 0, OPT_STR, NULL, "FILE", "tokenizer (default: DIR/tokenizer.json)"},
    {"column", 0, OPT_STR, "ppl", "NAME", "perplexity column"},
    {"buckets", 0, OPT_STR, NULL, "Q1,Q2,...", "quantiles of the input's perplexity splitting it into buckets; "
                                                "0.33,0.66 = CCNet's head/middle/tail"},
    {"bucket-column", 0, OPT_STR, "ppl_bucket", "NAME", "bucket column"},
    {"context", 0, OPT_INT, "0", "T", "tokens per forward window (0 = the model's n_positions)"},
    {"ref-model", 0, OPT_STR, NULL, "DIR", "DavIR: reference model; adds <davir-column> = 1 - L_ref / L_model"},
    {"davir-column", 0, OPT_STR, "davir", "NAME", "column of the DavIR score"},
    {"max-tokens", 0, OPT_INT, "0", "N", "score only each document's first N tokens (0 = all)"},
    {"report", 0, OPT_STR, NULL, "FILE.json", "counts, thresholds, bucket sizes, docs/s and tokens/s"},
    {"field", 0, OPT_STR, "text", "NAME", "JSONL field holding the text"},
    {"format", 0, OPT_STR, "auto", "FMT", "input format: auto, jsonl, text"},
    {"strict", 0, OPT_FLAG, NULL, NULL, "an invalid input line is an error"},
    {"max-doc-bytes", 0, OPT_INT, "268435456", "N", "skip (and count) documents longer than N bytes (0 = no limit)"},
    LMC_OPTS_END};

static int run_lmscore(lmc_args *a) {
    data_lmscore_cfg c;
    data_lmscore_cfg_default(&c);
    c.inputs = lmc_arg_positionals(a);
    c.ninputs = (size_t)lmc_arg_npos(a);
    c.read.field = lmc_arg_str(a, "field");
    const char *f = lmc_arg_str(a, "format");
    if (!strcmp(f, "jsonl")) c.read.format = DATA_FMT_JSONL;
    else if (!strcmp(f, "text")) c.read.format = DATA_FMT_TEXT;
    else if (strcmp(f, "auto")) return lmc_usage_error(a, "--format must be auto, jsonl or text, got '%s'", f);
    c.read.strict = lmc_arg_flag(a, "strict");
    int64_t mdb = lmc_arg_int(a, "max-doc-bytes"), ctx = lmc_arg_int(a, "context"), mt = lmc_arg_int(a, "max-tokens");
    if (mdb < 0) return lmc_usage_error(a, "--max-doc-bytes must be >= 0");
    if (ctx < 0 || ctx > 1 << 20) return lmc_usage_error(a, "--context must be 0..1048576");
    if (mt < 0) return lmc_usage_error(a, "--max-tokens must be >= 0");
    c.read.max_doc_bytes = (size_t)mdb;
    c.context = (int)ctx;
    c.max_tokens = (size_t)mt;
    c.output = lmc_arg_str(a, "output");
    c.model_dir = lmc_arg_str(a, "model");
    c.tokenizer = lmc_arg_str(a, "tokenizer");
    c.column = lmc_arg_str(a, "column");
    c.bucket_column = lmc_arg_str(a, "bucket-column");
    c.ref_model_dir = lmc_arg_str(a, "ref-model");
    c.davir_column = lmc_arg_str(a, "davir-column");
    if (!c.model_dir) return lmc_usage_error(a, "--model DIR is required");
    if (!c.output && !lmc_arg_str(a, "report")) return lmc_usage_error(a, "give -o OUT or --report");
    const char *q = lmc_arg_str(a, "buckets");
    if (q) {
        const char *p = q;
        while (*p) {
            char *e;
            double v = strtod(p, &e);
            if (e == p || (*e && *e != ',') || c.nquantiles >= DATA_LMSCORE_MAX_Q)
                return lmc_usage_error(a, "--buckets: expected up to %d comma-separated quantiles, got '%s'", DATA_LMSCORE_MAX_Q, q);
            c.quantiles[c.nquantiles++] = v;
            p = *e ? e + 1 : e;
        }
    }
    json_t *rep = NULL;
    lmc_err err = {0};
    if (data_lmscore_run(&c, &rep, &err) < 0) return lmc_fail(a, "%s", err.msg);
    fprintf(stderr, "%s: %lld documents, %lld tokens scored, %.1f docs/s, %.0f tokens/s\n", lmc_arg_cmdpath(a),
            (long long)json_integer_value(json_object_get(rep, "documents")),
            (long long)json_integer_value(json_object_get(rep, "tokens_scored")),
            json_real_value(json_object_get(rep, "docs_per_second")), json_real_value(json_object_get(rep, "tokens_per_second")));
    const char *rp = lmc_arg_str(a, "report");
    int rc = 0;
    if (rp && lmc_json_save_file(rep, rp, &err) < 0) rc = lmc_fail(a, "%s", err.msg);
    json_decref(rep);
    return rc;
}

const lmc_command lmc_data_lmscore_cmd = {"score", "per-document perplexity under a checkpoint (CCNet buckets)",
    "[options] IN... --model DIR -o OUT",
    "Adds <column> = exp(mean next-token loss) of each document under the model (the first token predicted\n"
    "from <|endoftext|> when the tokenizer has it; windows of --context tokens without overlap) and, with\n"
    "--buckets, <bucket-column> by quantiles of the input's perplexities (two quantiles: head / middle / tail,\n"
    "head = lowest perplexity, as CCNet). Every original byte of a line is kept. One document at a time;\n"
    "the kernels' threads follow OMP_NUM_THREADS.",
    lmscore_opts, 1, -1, run_lmscore, NULL, 0};
