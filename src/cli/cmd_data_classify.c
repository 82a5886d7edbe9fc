/* `lmc data classify train|score`: fastText-style quality classifiers (src/data/classify*.c). */
#include "cli/cmd_data_extra.h"
#include "data/classify_run.h"

#include <stdlib.h>
#include <string.h>

#define READ_OPTS                                                                                                  \
    {"field", 0, OPT_STR, "text", "NAME", "JSONL field holding the text"},                                          \
    {"format", 0, OPT_STR, "auto", "FMT", "input format: auto, jsonl, text"},                                       \
    {"strict", 0, OPT_FLAG, NULL, NULL, "an invalid input line is an error"},                                       \
    {"max-doc-bytes", 0, OPT_INT, "268435456", "N", "skip (and count) documents longer than N bytes (0 = no limit)"}

static int read_opts(lmc_args *a, data_read_opts *r) {
    r->field = lmc_arg_str(a, "field");
    const char *f = lmc_arg_str(a, "format");
    if (!strcmp(f, "jsonl")) r->format = DATA_FMT_JSONL;
    else if (!strcmp(f, "text")) r->format = DATA_FMT_TEXT;
    else if (strcmp(f, "auto")) return lmc_usage_error(a, "--format must be auto, jsonl or text, got '%s'", f);
    r->strict = lmc_arg_flag(a, "strict");
    int64_t m = lmc_arg_int(a, "max-doc-bytes");
    if (m < 0) return lmc_usage_error(a, "--max-doc-bytes must be >= 0");
    r->max_doc_bytes = (size_t)m;
    return 0;
}

static int save_report(lmc_args *a, json_t *rep) {
    const char *rp = lmc_arg_str(a, "report");
    lmc_err err = {0};
    if (rp && lmc_json_save_file(rep, rp, &err) < 0) return lmc_fail(a, "%s", err.msg);
    return 0;
}

/* ---- train ---- */

static const lmc_opt train_opts[] = {
    {"output", 'o', OPT_STR, NULL, "MODEL.lmcft", "model file (written atomically)"},
    {"text-field", 0, OPT_STR, "text", "NAME", "JSONL field holding the text"},
    {"label-field", 0, OPT_STR, "label", "NAME", "JSONL field holding the label (a string)"},
    {"test", 0, OPT_STR, NULL, "FILE", "labelled file whose accuracy is reported after training"},
    {"dim", 0, OPT_INT, "100", "D", "embedding size (fastText -dim)"},
    {"epoch", 0, OPT_INT, "5", "N", "passes over the data (-epoch)"},
    {"lr", 0, OPT_FLOAT, "0.1", "LR", "initial learning rate, decayed linearly to 0 (-lr)"},
    {"word-ngrams", 0, OPT_INT, "2", "N", "word n-grams up to N, hashed into buckets (-wordNgrams)"},
    {"min-count", 0, OPT_INT, "1", "N", "words seen fewer times are not in the vocabulary (-minCount)"},
    {"bucket", 0, OPT_INT, "2000000", "N", "hash buckets for the n-grams (-bucket); the model holds (words + N) x D floats"},
    {"lr-update-rate", 0, OPT_INT, "100", "T", "tokens between learning-rate updates (-lrUpdateRate)"},
    {"seed", 0, OPT_INT, "0", "S", "seed of the initial embeddings"},
    {"report", 0, OPT_STR, NULL, "FILE.json", "training report"},
    {"format", 0, OPT_STR, "auto", "FMT", "input format: auto, jsonl"},
    {"strict", 0, OPT_FLAG, NULL, NULL, "an invalid input line is an error"},
    {"max-doc-bytes", 0, OPT_INT, "268435456", "N", "skip (and count) documents longer than N bytes (0 = no limit)"},
    LMC_OPTS_END};

static int run_train(lmc_args *a) {
    data_classify_train_cfg c;
    data_classify_train_cfg_default(&c);
    c.read.field = lmc_arg_str(a, "text-field");
    const char *f = lmc_arg_str(a, "format");
    if (!strcmp(f, "jsonl")) c.read.format = DATA_FMT_JSONL;
    else if (strcmp(f, "auto")) return lmc_usage_error(a, "--format must be auto or jsonl, got '%s'", f);
    else c.read.format = DATA_FMT_JSONL;
    c.read.strict = lmc_arg_flag(a, "strict");
    int64_t mdb = lmc_arg_int(a, "max-doc-bytes");
    if (mdb < 0) return lmc_usage_error(a, "--max-doc-bytes must be >= 0");
    c.read.max_doc_bytes = (size_t)mdb;
    c.inputs = lmc_arg_positionals(a);
    c.ninputs = (size_t)lmc_arg_npos(a);
    c.label_field = lmc_arg_str(a, "label-field");
    c.test = lmc_arg_str(a, "test");
    c.output = lmc_arg_str(a, "output");
    if (!c.output) return lmc_usage_error(a, "-o MODEL is required");
    int64_t dim = lmc_arg_int(a, "dim"), ep = lmc_arg_int(a, "epoch"), ng = lmc_arg_int(a, "word-ngrams"),
            mc = lmc_arg_int(a, "min-count"), bk = lmc_arg_int(a, "bucket"), lu = lmc_arg_int(a, "lr-update-rate"),
            seed = lmc_arg_int(a, "seed");
    if (dim < 1 || dim > 4096) return lmc_usage_error(a, "--dim must be 1..4096");
    if (ep < 1 || ep > 100000) return lmc_usage_error(a, "--epoch must be 1..100000");
    if (ng < 1 || ng > 8) return lmc_usage_error(a, "--word-ngrams must be 1..8");
    if (mc < 1 || mc > 1000000000) return lmc_usage_error(a, "--min-count must be >= 1");
    if (bk < 1 || bk > 1000000000) return lmc_usage_error(a, "--bucket must be 1..1e9");
    if (lu < 1 || lu > 1000000000) return lmc_usage_error(a, "--lr-update-rate must be >= 1");
    if (seed < 0) return lmc_usage_error(a, "--seed must be >= 0");
    double lr = lmc_arg_float(a, "lr");
    if (!(lr > 0 && lr < 100)) return lmc_usage_error(a, "--lr must be in (0, 100)");
    c.params.dim = (int)dim;
    c.params.epoch = (int)ep;
    c.params.word_ngrams = (int)ng;
    c.params.min_count = (int)mc;
    c.params.bucket = (uint32_t)bk;
    c.params.lr_update_rate = (int)lu;
    c.params.seed = (uint64_t)seed;
    c.params.lr = lr;
    json_t *rep = NULL;
    lmc_err err = {0};
    if (data_classify_train_run(&c, &rep, &err) < 0) return lmc_fail(a, "%s", err.msg);
    fprintf(stderr, "%s: %lld examples, %lld labels, %lld words, loss %.4f, train accuracy %.4f", lmc_arg_cmdpath(a),
            (long long)json_integer_value(json_object_get(rep, "examples")),
            (long long)json_array_size(json_object_get(rep, "labels")),
            (long long)json_integer_value(json_object_get(rep, "vocabulary")),
            json_real_value(json_object_get(rep, "train_loss")), json_real_value(json_object_get(rep, "train_accuracy")));
    if (c.test) fprintf(stderr, ", test accuracy %.4f (%lld)", json_real_value(json_object_get(rep, "test_accuracy")),
                        (long long)json_integer_value(json_object_get(rep, "test_examples")));
    fprintf(stderr, ", %.2f s\n", json_real_value(json_object_get(rep, "train_seconds")));
    int rc = save_report(a, rep);
    json_decref(rep);
    return rc;
}

static const lmc_command train_cmd = {"train", "train a fastText-style classifier on labelled JSONL",
    "[options] IN.jsonl... -o MODEL.lmcft",
    "fastText's supervised model (hashed word n-grams, averaged embedding, softmax, SGD with linear learning-\n"
    "rate decay), single-threaded, so the model depends only on the data, the options and --seed. Examples are\n"
    "used in file order (fastText does not shuffle: shuffle the file). A document without the label field is an\n"
    "error naming its file:line.",
    train_opts, 1, -1, run_train, NULL, 0};

/* ---- score ---- */

static const lmc_opt score_opts[] = {
    {"output", 'o', OPT_STR, NULL, "OUT", "every document with its score columns added (JSONL; .zst compresses)"},
    {"model", 0, OPT_LIST, NULL, "MODEL.lmcft", "classifier (repeat for an ensemble)"},
    {"name", 0, OPT_LIST, NULL, "COLUMN", "column name per model (default: the model's file name without extension)"},
    {"positive", 0, OPT_LIST, NULL, "LABEL", "score = P(LABEL) (once for all models, or once per model); "
                                             "default: one column per label"},
    {"buckets", 0, OPT_INT, "0", "K", "Nemotron-CC ensemble: integer bucket 0..K-1 (20 in the paper), max over models"},
    {"bucket-column", 0, OPT_STR, "quality_bucket", "NAME", "column of the ensemble bucket"},
    {"weights", 0, OPT_STR, NULL, "W1,W2,...", "Meta-rater-style combination sum_j w_j score_j, one weight per model"},
    {"weighted-column", 0, OPT_STR, "quality_weighted", "NAME", "column of the weighted combination"},
    {"report", 0, OPT_STR, NULL, "FILE.json", "counts, column means, bucket thresholds and sizes, docs/s"},
    {"threads", 0, OPT_INT, "0", "N", "worker threads (0 = all cores); output is the same for any N"},
    READ_OPTS,
    LMC_OPTS_END};

static int run_score(lmc_args *a) {
    data_classify_score_cfg c;
    data_classify_score_cfg_default(&c);
    int rc = read_opts(a, &c.read);
    if (rc) return rc;
    c.inputs = lmc_arg_positionals(a);
    c.ninputs = (size_t)lmc_arg_npos(a);
    c.output = lmc_arg_str(a, "output");
    int nm, nn, np;
    const char *const *models = lmc_arg_list(a, "model", &nm);
    const char *const *names = lmc_arg_list(a, "name", &nn);
    const char *const *pos = lmc_arg_list(a, "positive", &np);
    if (nm < 1) return lmc_usage_error(a, "--model is required");
    if (nm > DATA_CLASSIFY_MAX_MODELS) return lmc_usage_error(a, "at most %d models", DATA_CLASSIFY_MAX_MODELS);
    if (nn && nn != nm) return lmc_usage_error(a, "%d --name for %d --model", nn, nm);
    if (np > 1 && np != nm) return lmc_usage_error(a, "give --positive once, or once per --model (%d)", nm);
    char *defnames[DATA_CLASSIFY_MAX_MODELS] = {0};
    c.nmodels = nm;
    for (int j = 0; j < nm; j++) {
        c.models[j] = models[j];
        if (nn) {
            c.names[j] = names[j];
        } else {
            const char *b = strrchr(models[j], '/');
            b = b ? b + 1 : models[j];
            const char *dot = strrchr(b, '.');
            defnames[j] = strndup(b, dot && dot != b ? (size_t)(dot - b) : strlen(b));
            c.names[j] = defnames[j];
        }
        c.positive[j] = np ? pos[np == 1 ? 0 : j] : NULL;
    }
    for (int j = 0; j < nm; j++)
        for (int k = 0; k < j; k++)
            if (!strcmp(c.names[j], c.names[k])) {
                rc = lmc_usage_error(a, "two models have the column name '%s' (use --name)", c.names[j]);
                goto out;
            }
    int64_t b = lmc_arg_int(a, "buckets"), t = lmc_arg_int(a, "threads");
    if (b != 0 && (b < 2 || b > 1000)) { rc = lmc_usage_error(a, "--buckets must be 0 or 2..1000"); goto out; }
    if (t < 0 || t > 4096) { rc = lmc_usage_error(a, "--threads must be 0..4096"); goto out; }
    c.buckets = (int)b;
    c.threads = (int)t;
    c.bucket_column = lmc_arg_str(a, "bucket-column");
    c.weighted_column = lmc_arg_str(a, "weighted-column");
    const char *ws = lmc_arg_str(a, "weights");
    if (ws) {
        const char *p = ws;
        while (*p) {
            char *e;
            double v = strtod(p, &e);
            if (e == p || (*e && *e != ',') || c.nweights >= DATA_CLASSIFY_MAX_MODELS || v != v) {
                rc = lmc_usage_error(a, "--weights: expected comma-separated numbers, got '%s'", ws);
                goto out;
            }
            c.weights[c.nweights++] = v;
            p = *e ? e + 1 : e;
        }
        if (c.nweights != nm) { rc = lmc_usage_error(a, "--weights has %d values for %d models", c.nweights, nm); goto out; }
    }
    if ((c.buckets || c.nweights) && !np) { rc = lmc_usage_error(a, "--buckets and --weights need --positive"); goto out; }
    if (!c.output && !lmc_arg_str(a, "report")) { rc = lmc_usage_error(a, "give -o OUT or --report"); goto out; }
    json_t *rep = NULL;
    lmc_err err = {0};
    if (data_classify_score_run(&c, &rep, &err) < 0) {
        rc = lmc_fail(a, "%s", err.msg);
        goto out;
    }
    fprintf(stderr, "%s: %lld documents scored, %.0f docs/s\n", lmc_arg_cmdpath(a),
            (long long)json_integer_value(json_object_get(rep, "documents")),
            json_real_value(json_object_get(rep, "docs_per_second")));
    rc = save_report(a, rep);
    json_decref(rep);
out:
    for (int j = 0; j < nm; j++) free(defnames[j]);
    return rc;
}

static const lmc_command score_cmd = {"score", "add classifier score columns to every document",
    "[options] IN... --model MODEL.lmcft [--model ...] -o OUT",
    "Each document's line gets number fields before its closing brace (every original byte kept):\n"
    "  <name> = P(--positive label), or <name>_<label> for every label;\n"
    "  --buckets K: <bucket-column> = max over models of np.digitize(score, thresholds), the thresholds being\n"
    "    the K-1 byte-weighted percentiles of that model's score over the input (Nemotron-CC, 2 passes);\n"
    "  --weights: <weighted-column> = sum_j w_j score_j (Meta-rater's combination; scores are probabilities).\n"
    "Select with `lmc data filter --rule 'score:quality_bucket>=12'`.",
    score_opts, 1, -1, run_score, NULL, 0};

static const lmc_command *const classify_subs[] = {&train_cmd, &score_cmd, NULL};
const lmc_command lmc_data_classify_cmd = {"classify", "fastText-style quality classifiers: train, score",
    "SUBCOMMAND [options]", NULL, NULL, 0, 0, NULL, classify_subs, 0};
