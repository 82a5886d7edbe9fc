/* `lmc data ...`: corpus cleaning. Each subcommand builds a one-stage pipeline (src/data/pipeline.c);
 * `lmc data pipeline FILE.yaml` chains several so the corpus is read once. */
#include "cli/cli.h"
#include "base/io.h"
#include "cli/cmd_data_extra.h"
#include "data/data.h"

#include <stdlib.h>
#include <string.h>
#if LMC_HAVE_MPI
#include <mpi.h>
#endif

#define INPUT_OPTS                                                                                         \
    {"field", 0, OPT_STR, "text", "NAME", "JSONL field holding the text (every other field is kept as is)"}, \
    {"doc-separator", 0, OPT_STR, NULL, "REGEX", "plain text: split each file into documents at this PCRE2 regex"}, \
    {"format", 0, OPT_STR, "auto", "FMT", "input format: auto (by name: .jsonl/.json/.ndjson = JSONL), jsonl, text"}, \
    {"strict", 0, OPT_FLAG, NULL, NULL, "an invalid input line is an error (default: skipped, counted, listed)"}, \
    {"max-doc-bytes", 0, OPT_INT, "268435456", "N", "skip (and count) documents longer than N bytes (0 = no limit)"}, \
    {"threads", 0, OPT_INT, "0", "N", "worker threads (0 = all cores); output is the same for any N"}, \
    {"provenance", 0, OPT_FLAG, NULL, NULL, "count the licence and source fields in and out (in the report)"}, \
    {"licence-field", 0, OPT_STR, "license", "NAME", "JSONL field naming each document's licence"}, \
    {"source-field", 0, OPT_STR, "source", "NAME", "JSONL field naming each document's source"}, \
    {"licence-allow", 0, OPT_LIST, NULL, "LIST", "keep only these licences, e.g. CC-BY,CC0,PD (implies --provenance)"}

/* The MPI rank of this process (0 when not under MPI). */
static int mpi_rank_now(void) {
#if LMC_HAVE_MPI
    int init = 0, fin = 0, r = 0;
    MPI_Initialized(&init);
    MPI_Finalized(&fin);
    if (init && !fin) MPI_Comm_rank(MPI_COMM_WORLD, &r);
    return r;
#else
    return 0;
#endif
}

/* Split "a,b" values of a repeatable option into one list. */
static int collect_list(const lmc_args *a, const char *name, const char ***out, int *n) {
    int k;
    const char *const *v = lmc_arg_list(a, name, &k);
    *out = NULL;
    *n = 0;
    int cap = 0;
    for (int i = 0; i < k; i++) {
        const char *p = v[i];
        while (*p) {
            const char *e = strchr(p, ',');
            size_t len = e ? (size_t)(e - p) : strlen(p);
            if (len) {
                if (*n == cap) {
                    cap = cap ? cap * 2 : 8;
                    const char **q = realloc(*out, (size_t)cap * sizeof *q);
                    if (!q) return -1;
                    *out = q;
                }
                (*out)[(*n)++] = strndup(p, len);
            }
            p += len;
            if (*p == ',') p++;
        }
    }
    return 0;
}

static void free_list(const char **l, int n) {
    for (int i = 0; i < n; i++) free((void *)l[i]);
    free(l);
}

/* A config with the defaults, then the input options every data command shares. */
static int read_opts(const lmc_args *a, data_pipeline_cfg *c) {
    data_pipeline_cfg_default(c);
    c->read.field = lmc_arg_str(a, "field");
    c->read.doc_separator = lmc_arg_str(a, "doc-separator");
    const char *f = lmc_arg_str(a, "format");
    if (!strcmp(f, "jsonl")) c->read.format = DATA_FMT_JSONL;
    else if (!strcmp(f, "text")) c->read.format = DATA_FMT_TEXT;
    else if (strcmp(f, "auto")) return lmc_usage_error(a, "--format must be auto, jsonl or text, got '%s'", f);
    c->read.strict = lmc_arg_flag(a, "strict");
    int64_t m = lmc_arg_int(a, "max-doc-bytes");
    if (m < 0) return lmc_usage_error(a, "--max-doc-bytes must be >= 0");
    c->read.max_doc_bytes = (size_t)m;
    int64_t t = lmc_arg_int(a, "threads");
    if (t < 0 || t > 4096) return lmc_usage_error(a, "--threads must be 0..4096");
    c->threads = (int)t;
    c->inputs = lmc_arg_positionals(a);
    c->ninputs = (size_t)lmc_arg_npos(a);
    c->provenance = lmc_arg_flag(a, "provenance");
    c->licence_field = lmc_arg_str(a, "licence-field");
    c->source_field = lmc_arg_str(a, "source-field");
    c->licence_allow = lmc_arg_list(a, "licence-allow", &c->nlicence_allow);  /* entries split on ',' when used */
    return 0;
}

/* Fail before any work when an output cannot be created (a missing folder, no permission, a
 * directory): checked only at the end, a bad --report cost the whole run and left the output behind. */
static int check_output(const lmc_args *a, const char *path) {
    if (!path || !strcmp(path, "-")) return 0;
    if (lmc_is_dir(path)) return lmc_fail(a, "%s: is a directory, expected a file to write", path);
    lmc_atomic w;
    lmc_err err = {0};
    if (lmc_atomic_open(&w, path, &err)) return lmc_fail(a, "%s", err.msg);
    lmc_atomic_abort(&w);
    return 0;
}

/* No documents in: not an error (an empty shard of a sharded corpus is normal), but worth a line,
 * since it usually means a wrong --field, --format or file. */
static void warn_if_empty(const lmc_args *a, const json_t *rep) {
    if (json_integer_value(json_object_get(rep, "documents_in")) == 0)
        fprintf(stderr, "%s: warning: the input holds no documents (%lld input lines skipped)\n", lmc_arg_cmdpath(a),
                (long long)json_integer_value(json_object_get(rep, "skipped_input_lines")));
}

/* Run, write the report, print a summary line per stage. */
static int run_pipeline(const lmc_args *a, data_pipeline_cfg *c, const char *report_path) {
    int rc = check_output(a, c->output);
    if (!rc) rc = check_output(a, c->rejected);
    if (!rc) rc = check_output(a, report_path);
    if (rc) return rc;
    lmc_progress prog;
    memset(&prog, 0, sizeof prog);
    c->progress = mpi_rank_now() == 0 ? &prog : NULL;
    json_t *rep = NULL;
    lmc_err err = {0};
    rc = data_pipeline_run(c, &rep, &err);
    if (rc < 0) {
        json_decref(rep);
        return lmc_fail(a, "%s", err.msg);
    }
    if (mpi_rank_now() != 0) {  /* rank 0 writes the output, the report and the summary */
        json_decref(rep);
        return 0;
    }
    if (report_path && lmc_json_save_file(rep, report_path, &err) < 0) {
        json_decref(rep);
        return lmc_fail(a, "%s", err.msg);
    }
    warn_if_empty(a, rep);
    fprintf(stderr, "%s: %lld documents in, %lld out, %lld input lines skipped\n", lmc_arg_cmdpath(a),
            (long long)json_integer_value(json_object_get(rep, "documents_in")),
            (long long)json_integer_value(json_object_get(rep, "documents_out")),
            (long long)json_integer_value(json_object_get(rep, "skipped_input_lines")));
    json_t *stages = json_object_get(rep, "stages");
    for (size_t i = 0; i < json_array_size(stages); i++) {
        json_t *s = json_array_get(stages, i);
        json_t *by = json_object_get(s, "removed_by_rule");
        const char *k;
        json_t *v;
        json_object_foreach(by, k, v) fprintf(stderr, "  removed %-45s %lld\n", k, (long long)json_integer_value(v));
        if (json_object_get(s, "contaminated_documents"))
            fprintf(stderr, "  contaminated documents %lld\n",
                    (long long)json_integer_value(json_object_get(s, "contaminated_documents")));
    }
    json_t *sd = json_object_get(rep, "substring_dedup");
    if (sd)
        fprintf(stderr, "  substring: %lld spans, %lld bytes removed, %lld documents changed, %lld emptied\n",
                (long long)json_integer_value(json_object_get(sd, "spans")),
                (long long)json_integer_value(json_object_get(sd, "bytes_removed")),
                (long long)json_integer_value(json_object_get(sd, "documents_changed")),
                (long long)json_integer_value(json_object_get(sd, "documents_emptied")));
    json_t *pv = json_object_get(rep, "provenance");
    if (pv) {
        const char *k;
        json_t *v;
        json_object_foreach(json_object_get(pv, "removed_by_rule"), k, v)
            fprintf(stderr, "  removed %-45s %lld\n", k, (long long)json_integer_value(v));
    }
    json_t *dd = json_object_get(rep, "dedup");
    if (dd) {
        char b[32];
        fprintf(stderr, "  dedup: %lld exact + %lld near duplicates removed, %lld clusters, index %s\n",
                (long long)json_integer_value(json_object_get(dd, "removed_exact")),
                (long long)json_integer_value(json_object_get(dd, "removed_near")),
                (long long)json_integer_value(json_object_get(dd, "clusters_count")),
                lmc_fmt_bytes(b, sizeof b, (double)json_integer_value(json_object_get(dd, "index_bytes"))));
    }
    json_decref(rep);
    return 0;
}

/* ---- filter ---- */

static const lmc_opt filter_opts[] = {
    {"output", 'o', OPT_STR, NULL, "OUT", "kept documents (JSONL; .zst compresses)"},
    {"rules", 0, OPT_STR, "gopher-repetition,gopher-quality,c4,fineweb", "LIST", "rule sets, comma-separated"},
    {"set", 0, OPT_LIST, NULL, "RULE.PARAM=V", "change a threshold, e.g. gopher-quality.min_doc_words=40 (0 disables)"},
    {"rule", 0, OPT_LIST, NULL, "score:FIELD>=X", "keep by a number column (>, >=, <, <=, ==); alone, no rule set runs"},
    {"rejected", 0, OPT_STR, NULL, "FILE", "removed documents, each with \"lmc_reason\""},
    {"report", 0, OPT_STR, NULL, "FILE.json", "counts per rule, parameters, skipped input lines"},
    INPUT_OPTS,
    LMC_OPTS_END};

static int run_filter(lmc_args *a) {
    data_pipeline_cfg c;
    int rc = read_opts(a, &c);
    if (rc) return rc;
    c.output = lmc_arg_str(a, "output");
    if (!c.output) return lmc_usage_error(a, "-o OUT is required");
    c.rejected = lmc_arg_str(a, "rejected");
    lmc_err err = {0};
    unsigned rs;
    if (data_filter_parse_rulesets(lmc_arg_str(a, "rules"), &rs, &err) < 0) return lmc_usage_error(a, "%s", err.msg);
    int nrule;
    const char *const *rules = lmc_arg_list(a, "rule", &nrule);
    if (nrule && !lmc_arg_is_set(a, "rules")) rs = 0;  /* --rule alone: only the score rules */
    c.nstages = 1;
    c.stages[0].kind = DATA_STAGE_FILTER;
    data_filter_cfg_default(&c.stages[0].filter, rs);
    for (int i = 0; i < nrule; i++)
        if (data_score_rule_add(&c.stages[0].filter, rules[i], &err) < 0) return lmc_usage_error(a, "%s", err.msg);
    int n;
    const char *const *sets = lmc_arg_list(a, "set", &n);
    for (int i = 0; i < n; i++)
        if (data_filter_set(&c.stages[0].filter, sets[i], &err) < 0) return lmc_usage_error(a, "%s", err.msg);
    return run_pipeline(a, &c, lmc_arg_str(a, "report"));
}

static const lmc_command filter_cmd = {"filter", "heuristic quality filters (Gopher, C4, FineWeb)",
    "[options] IN... -o OUT",
    "Rule sets and their published defaults (datatrove 0.10 / FineWeb), run in FineWeb's order:\n"
    "  gopher-repetition: dup_line_frac 0.3, dup_para_frac 0.3, dup_line_char_frac 0.2, dup_para_char_frac 0.2,\n"
    "    top_2_gram 0.2, top_3_gram 0.18, top_4_gram 0.16, dup_5_gram 0.15 ... dup_10_gram 0.10\n"
    "  gopher-quality: min_doc_words 50, max_doc_words 100000, min/max_avg_word_length 3/10,\n"
    "    max_symbol_word_ratio 0.1, max_bullet_lines_ratio 0.9, max_ellipsis_lines_ratio 0.3,\n"
    "    min_alpha_words_ratio 0.8, min_stop_words 2\n"
    "  c4: min_num_sentences 5, min_words_per_line 3, max_word_length 1000, filter_no_terminal_punct 1,\n"
    "    remove_citations 1, filter_lorem_ipsum 1, filter_javascript 1, filter_curly_bracket 1, filter_policy 1\n"
    "    (decides keep/drop only: kept documents are not rewritten)\n"
    "  fineweb: line_punct_thr 0.12, line_punct_exclude_zero 0, short_line_thr 0.67, short_line_length 30,\n"
    "    char_duplicates_ratio 0.01, new_line_ratio 0.3\n"
    "Kept documents are written byte-for-byte as they came (the original JSONL line).",
    filter_opts, 1, -1, run_filter, NULL, 0};

/* ---- dedup ---- */

static const lmc_opt dedup_opts[] = {
    {"output", 'o', OPT_STR, NULL, "OUT", "kept documents (the first of each cluster, byte-for-byte)"},
    {"exact", 0, OPT_FLAG, NULL, NULL, "exact dedup (hash of white-space-normalized text)"},
    {"minhash", 0, OPT_FLAG, NULL, NULL, "MinHash-LSH near dedup (default: both exact and MinHash)"},
    {"ngram", 0, OPT_INT, "5", "N", "word n-gram shingles"},
    {"bands", 0, OPT_INT, "14", "B", "LSH bands"},
    {"rows", 0, OPT_INT, "8", "R", "hashes per band"},
    {"seed", 0, OPT_INT, "1", "S", "seed of the permutation parameters"},
    {"threshold", 0, OPT_FLOAT, "0.8", "J", "near duplicate: similarity to a kept document >= J (FineWeb/NeMo 0.8)"},
    {"verify", 0, OPT_STR, "jaccard", "HOW", "candidate similarity: jaccard (exact, shingle sets), signature, both"},
    {"rejected", 0, OPT_STR, NULL, "FILE", "removed documents, each with \"lmc_reason\" naming the kept one"},
    {"report", 0, OPT_STR, NULL, "FILE.json", "clusters (kept + removed members), counts, index memory"},
    {"substring", 0, OPT_FLAG, NULL, NULL, "exact-substring dedup instead (suffix array, Lee et al. 2022)"},
    {"min-len", 0, OPT_INT, "50", "BYTES", "--substring: shortest repeated span removed"},
    {"keep", 0, OPT_STR, "first", "WHICH", "--substring: first (keep the first occurrence) or none (Lee et al.)"},
    {"report-only", 0, OPT_FLAG, NULL, NULL, "--substring: change nothing, list the repeated spans"},
    INPUT_OPTS,
    LMC_OPTS_END};

/* Under mpirun (Open MPI / PMI environment), dedup runs distributed: initialize MPI around it. */
static int launched_by_mpi(void) {
    return getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMI_SIZE") || getenv("PMIX_RANK");
}

static int run_dedup_inner(lmc_args *a);

static int run_dedup(lmc_args *a) {
#if LMC_HAVE_MPI
    if (launched_by_mpi()) {
        int prov;
        MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &prov);
        int rc = run_dedup_inner(a);
        MPI_Finalize();
        return rc;
    }
#endif
    return run_dedup_inner(a);
}

static int run_dedup_inner(lmc_args *a) {
    data_pipeline_cfg c;
    int rc = read_opts(a, &c);
    if (rc) return rc;
    if (lmc_arg_flag(a, "substring")) return lmc_data_substring(a, &c);
    if (lmc_arg_is_set(a, "min-len") || lmc_arg_is_set(a, "keep") || lmc_arg_is_set(a, "report-only"))
        return lmc_usage_error(a, "--min-len, --keep and --report-only go with --substring");
    c.output = lmc_arg_str(a, "output");
    if (!c.output) return lmc_usage_error(a, "-o OUT is required");
    c.rejected = lmc_arg_str(a, "rejected");
    c.dedup = 1;
    int ex = lmc_arg_flag(a, "exact"), mh = lmc_arg_flag(a, "minhash");
    c.dedup_exact = ex || !mh;
    c.dedup_minhash = mh || !ex;
    int64_t ng = lmc_arg_int(a, "ngram"), b = lmc_arg_int(a, "bands"), r = lmc_arg_int(a, "rows");
    if (ng < 1 || ng > 64) return lmc_usage_error(a, "--ngram must be 1..64");
    if (b < 1 || r < 1 || b * r > 4096) return lmc_usage_error(a, "--bands x --rows must be 1..4096");
    c.minhash.ngram = (int)ng;
    c.minhash.bands = (int)b;
    c.minhash.rows = (int)r;
    c.minhash.seed = (uint64_t)lmc_arg_int(a, "seed");
    c.dedup_threshold = lmc_arg_float(a, "threshold");
    if (!(c.dedup_threshold > 0 && c.dedup_threshold <= 1)) return lmc_usage_error(a, "--threshold must be in (0, 1]");
    if (data_verify_parse(lmc_arg_str(a, "verify"), &c.dedup_verify) < 0)
        return lmc_usage_error(a, "--verify must be jaccard, signature or both");
    return run_pipeline(a, &c, lmc_arg_str(a, "report"));
}

static const lmc_command dedup_cmd = {"dedup", "exact and MinHash-LSH near-duplicate removal",
    "[options] IN... -o OUT",
    "Defaults are FineWeb's: word 5-grams of simplify_text, 14 bands x 8 rows = 112 permutations\n"
    "(LSH threshold about (1/14)^(1/8) = 0.72; P(candidate | J=0.8) = 0.92). Every candidate pair is verified:\n"
    "in input order, a document is removed only when a kept candidate has Jaccard >= --threshold (0.8) with\n"
    "it, so every removed document names a kept partner at or above the threshold (no chained clusters).\n"
    "The index needs about 181 bytes per document (stated in the report); documents are streamed twice\n"
    "(keys, then verification and output).\n"
    "Under mpirun (lmc built with MPI) the key computation is split over the ranks and the keys are\n"
    "exchanged by owner; rank 0 writes the same output a single process would.\n"
    "--substring: byte spans of >= --min-len bytes repeated anywhere in the corpus (suffix array of all\n"
    "text, libdivsufsort) are cut out; 9 bytes of memory per input byte, at most 2 GB of text per run.",
    dedup_opts, 1, -1, run_dedup, NULL, 0};

/* ---- decontaminate / overlap ---- */

#define EVAL_OPTS                                                                                          \
    {"eval", 0, OPT_LIST, NULL, "FILES", "evaluation files (repeat or comma-separate): text lines, JSONL, BLiMP pairs"}, \
    {"eval-field", 0, OPT_STR, NULL, "NAME", "JSONL eval field (default: text, or sentence_good/sentence_bad)"}, \
    {"ngram", 0, OPT_INT, "13", "N", "n-gram length in words"},                                             \
    {"min-ngram", 0, OPT_INT, "8", "N", "examples shorter than --ngram are matched whole if they have >= N words"}

static int eval_stage(const lmc_args *a, data_stage_cfg *s, const char ***ev) {
    data_decont_cfg_default(&s->decont);
    int n;
    if (collect_list(a, "eval", ev, &n) < 0) return lmc_fail(a, "out of memory");
    if (n == 0) return lmc_usage_error(a, "--eval FILES is required");
    s->eval = *ev;
    s->neval = n;
    s->eval_field = lmc_arg_str(a, "eval-field");
    int64_t ng = lmc_arg_int(a, "ngram"), mn = lmc_arg_int(a, "min-ngram");
    if (ng < 1 || ng > 64) return lmc_usage_error(a, "--ngram must be 1..64");
    if (mn < 1) return lmc_usage_error(a, "--min-ngram must be >= 1");
    s->decont.ngram = (int)ng;
    s->decont.min_ngram = (int)(mn > ng ? ng : mn);
    return 0;
}

static const lmc_opt decont_opts[] = {
    {"output", 'o', OPT_STR, NULL, "OUT", "decontaminated documents"},
    EVAL_OPTS,
    {"window", 0, OPT_INT, "200", "CHARS", "characters removed on each side of a matched n-gram"},
    {"min-slice", 0, OPT_INT, "200", "CHARS", "drop remaining pieces shorter than this"},
    {"too-dirty", 0, OPT_INT, "10", "N", "drop the document when it is split into more than N pieces"},
    {"report-only", 0, OPT_FLAG, NULL, NULL, "change nothing; list contaminated documents in the report"},
    {"rejected", 0, OPT_STR, NULL, "FILE", "dropped documents, each with \"lmc_reason\""},
    {"report", 0, OPT_STR, NULL, "FILE.json", "contaminated documents, counts, method"},
    INPUT_OPTS,
    LMC_OPTS_END};

static int run_decont(lmc_args *a) {
    data_pipeline_cfg c;
    int rc = read_opts(a, &c);
    if (rc) return rc;
    c.output = lmc_arg_str(a, "output");
    data_stage_cfg *s = &c.stages[0];
    s->kind = DATA_STAGE_DECONT;
    s->report_only = lmc_arg_flag(a, "report-only");
    if (!c.output && !s->report_only) return lmc_usage_error(a, "-o OUT is required (or --report-only)");
    c.rejected = lmc_arg_str(a, "rejected");
    const char **ev = NULL;
    if ((rc = eval_stage(a, s, &ev))) { free_list(ev, s->neval); return rc; }
    int64_t w = lmc_arg_int(a, "window"), ms = lmc_arg_int(a, "min-slice"), td = lmc_arg_int(a, "too-dirty");
    if (w < 0 || ms < 0 || td < 0) { free_list(ev, s->neval); return lmc_usage_error(a, "--window, --min-slice, --too-dirty must be >= 0"); }
    s->decont.window = (int)w;
    s->decont.min_slice = (int)ms;
    s->decont.too_dirty = (int)td;
    c.nstages = 1;
    rc = run_pipeline(a, &c, lmc_arg_str(a, "report"));
    free_list(ev, s->neval);
    return rc;
}

static const lmc_command decont_cmd = {"decontaminate", "remove training text that overlaps evaluation sets (GPT-3 13-gram rules)",
    "[options] IN... --eval FILES -o OUT",
    "GPT-3's rules as given by EleutherAI's janitor: on a matching 13-gram, cut it plus 200 characters on\n"
    "each side; drop pieces shorter than 200 characters; drop the document when it is split into more\n"
    "than 10 pieces. The surviving pieces are written as separate documents (other JSONL fields kept).",
    decont_opts, 1, -1, run_decont, NULL, 0};

static const lmc_opt overlap_opts[] = {
    {"train", 0, OPT_LIST, NULL, "FILES", "training corpus files (repeat or comma-separate; also positional)"},
    EVAL_OPTS,
    {"report", 0, OPT_STR, NULL, "FILE.json", "full report (default: print a table only)"},
    {"list", 0, OPT_INT, "20", "N", "overlapping examples listed per evaluation set in the report"},
    INPUT_OPTS,
    LMC_OPTS_END};

static int run_overlap(lmc_args *a) {
    data_pipeline_cfg c;
    int rc = read_opts(a, &c);
    if (rc) return rc;
    const char **train = NULL;
    int ntrain;
    if (collect_list(a, "train", &train, &ntrain) < 0) return lmc_fail(a, "out of memory");
    int npos = lmc_arg_npos(a);
    const char **all = calloc((size_t)(ntrain + npos + 1), sizeof *all);
    if (!all) { free_list(train, ntrain); return lmc_fail(a, "out of memory"); }
    for (int i = 0; i < ntrain; i++) all[i] = train[i];
    for (int i = 0; i < npos; i++) all[ntrain + i] = lmc_arg_pos(a, i);
    c.inputs = all;
    c.ninputs = (size_t)(ntrain + npos);
    const char **ev = NULL;
    data_stage_cfg *s = &c.stages[0];
    s->kind = DATA_STAGE_OVERLAP;
    c.nstages = 1;
    int64_t lst = lmc_arg_int(a, "list");
    c.max_listed = lst < 0 ? 0 : (size_t)lst;
    if (c.ninputs == 0) rc = lmc_usage_error(a, "--train FILES is required");
    if (!rc) rc = eval_stage(a, s, &ev);
    if (!rc) rc = check_output(a, lmc_arg_str(a, "report"));
    if (!rc) {
        lmc_progress prog;
        c.progress = &prog;
        json_t *rep = NULL;
        lmc_err err = {0};
        if (data_pipeline_run(&c, &rep, &err) < 0) {
            rc = lmc_fail(a, "%s", err.msg);
        } else {
            const char *rp = lmc_arg_str(a, "report");
            json_t *st = json_array_get(json_object_get(rep, "stages"), 0);
            json_t *sets = json_object_get(st, "eval_sets");
            printf("train-test overlap: %s\n", json_string_value(json_object_get(st, "method")));
            printf("training: %lld documents, %lld bytes\n",
                   (long long)json_integer_value(json_object_get(rep, "documents_in")),
                   (long long)json_integer_value(json_object_get(rep, "bytes_in")));
            printf("%-50s %9s %9s %11s %8s\n", "eval set", "examples", "testable", "overlapping", "share");
            for (size_t i = 0; i < json_array_size(sets); i++) {
                json_t *e = json_array_get(sets, i);
                printf("%-50s %9lld %9lld %11lld %7.2f%%\n", json_string_value(json_object_get(e, "eval_set")),
                       (long long)json_integer_value(json_object_get(e, "examples")),
                       (long long)json_integer_value(json_object_get(e, "testable_examples")),
                       (long long)json_integer_value(json_object_get(e, "overlapping_examples")),
                       100.0 * json_real_value(json_object_get(e, "overlap_share")));
            }
            if (rp && lmc_json_save_file(rep, rp, &err) < 0) rc = lmc_fail(a, "%s", err.msg);
        }
        json_decref(rep);
    }
    free_list(ev, s->neval);
    free(all);
    free_list(train, ntrain);
    return rc;
}

static const lmc_command overlap_cmd = {"overlap", "train-test overlap report (ICML 2025 position paper)",
    "[options] --train FILES --eval FILES",
    "Per evaluation set: the number and share of examples with at least one n-gram found in the training\n"
    "corpus, the examples listed with their match counts, and the method (n, normalization, tokenization).",
    overlap_opts, 0, -1, run_overlap, NULL, 0};

/* ---- stats ---- */

static const lmc_opt stats_opts[] = {
    {"report", 0, OPT_STR, NULL, "FILE.json", "write the statistics as JSON"},
    INPUT_OPTS,
    LMC_OPTS_END};

static int run_stats(lmc_args *a) {
    data_pipeline_cfg c;
    int rc = read_opts(a, &c);
    if (rc) return rc;
    c.nstages = 1;
    c.stages[0].kind = DATA_STAGE_STATS;
    if ((rc = check_output(a, lmc_arg_str(a, "report")))) return rc;
    lmc_progress prog;
    c.progress = &prog;
    json_t *rep = NULL;
    lmc_err err = {0};
    if (data_pipeline_run(&c, &rep, &err) < 0) {
        json_decref(rep);
        return lmc_fail(a, "%s", err.msg);
    }
    warn_if_empty(a, rep);
    json_t *st = json_object_get(json_array_get(json_object_get(rep, "stages"), 0), "stats");
    /* the table is printed from the JSON so the two never disagree */
    printf("documents           %lld\n", (long long)json_integer_value(json_object_get(st, "documents")));
    printf("bytes               %lld\n", (long long)json_integer_value(json_object_get(st, "bytes")));
    printf("characters          %lld\n", (long long)json_integer_value(json_object_get(st, "characters")));
    printf("words               %lld\n", (long long)json_integer_value(json_object_get(st, "words")));
    printf("lines               %lld (%lld non-empty)\n", (long long)json_integer_value(json_object_get(st, "lines")),
           (long long)json_integer_value(json_object_get(st, "nonempty_lines")));
    printf("duplicate lines     %lld (%.2f%% of non-empty lines)\n",
           (long long)json_integer_value(json_object_get(st, "duplicate_lines")),
           100.0 * json_real_value(json_object_get(st, "duplicate_line_rate")));
    printf("doc bytes           min %lld, mean %.1f, max %lld\n",
           (long long)json_integer_value(json_object_get(st, "min_doc_bytes")),
           json_real_value(json_object_get(st, "mean_doc_bytes")),
           (long long)json_integer_value(json_object_get(st, "max_doc_bytes")));
    printf("skipped input lines %lld\n", (long long)json_integer_value(json_object_get(rep, "skipped_input_lines")));
    printf("length histogram (bytes):\n");
    json_t *h = json_object_get(st, "length_histogram");
    for (size_t i = 0; i < json_array_size(h); i++) {
        json_t *e = json_array_get(h, i);
        printf("  %10lld-%-10lld %10lld\n", (long long)json_integer_value(json_object_get(e, "min_bytes")),
               (long long)json_integer_value(json_object_get(e, "max_bytes")),
               (long long)json_integer_value(json_object_get(e, "documents")));
    }
    printf("script mix (share of characters):\n");
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(st, "script_mix"), k, v)
        if (json_real_value(v) > 0) printf("  %-14s %7.3f%%\n", k, 100.0 * json_real_value(v));
    const char *rp = lmc_arg_str(a, "report");
    if (rp && lmc_json_save_file(rep, rp, &err) < 0) rc = lmc_fail(a, "%s", err.msg);
    json_decref(rep);
    return rc;
}

static const lmc_command stats_cmd = {"stats", "corpus statistics (size, length histogram, scripts, duplicate lines)",
    "[options] IN...", NULL, stats_opts, 1, -1, run_stats, NULL, 0};

/* ---- pipeline ---- */

static const lmc_opt pipeline_opts[] = {
    {"threads", 0, OPT_INT, "-1", "N", "worker threads (overrides the file; 0 = all cores)"},
    LMC_OPTS_END};

static int run_pipe(lmc_args *a) {
    data_pipeline_cfg c;
    json_t *holder = NULL;
    lmc_err err = {0};
    if (data_pipeline_load(lmc_arg_pos(a, 0), &c, &holder, &err) < 0) {
        data_pipeline_cfg_release(&c);
        json_decref(holder);
        return lmc_fail(a, "%s", err.msg);
    }
    int64_t t = lmc_arg_int(a, "threads");
    if (t >= 0) c.threads = (int)t;
    const char *rp = json_string_value(json_object_get(holder, "report"));
    int rc = run_pipeline(a, &c, rp);
    data_pipeline_cfg_release(&c);
    json_decref(holder);
    return rc;
}

static const lmc_command pipeline_cmd = {"pipeline", "run several stages from one YAML file, reading the corpus once",
    "[options] PIPELINE.yaml",
    "Example:\n"
    "  inputs: [crawl.jsonl.zst]\n"
    "  output: clean.jsonl.zst\n"
    "  rejected: rejected.jsonl\n"
    "  report: report.json\n"
    "  stages:\n"
    "    - stats: {}\n"
    "    - filter: {rules: [gopher-repetition, gopher-quality], set: {gopher-quality.min_doc_words: 40}}\n"
    "    - decontaminate: {eval: [test.txt], ngram: 13}\n"
    "    - dedup: {ngram: 5, bands: 14, rows: 8}     # always last\n",
    pipeline_opts, 1, 1, run_pipe, NULL, 0};

static const lmc_command *const data_subs[] = {&filter_cmd, &dedup_cmd, &decont_cmd, &overlap_cmd, &stats_cmd,
                                               &pipeline_cmd, &lmc_data_audit_cmd,
                                               &lmc_data_classify_cmd, &lmc_data_lmscore_cmd, NULL};
static const lmc_command data_cmd = {"data", "clean a corpus: filters, dedup, decontamination, overlap, stats",
    "SUBCOMMAND [options]", NULL, NULL, 0, 0, NULL, data_subs, 10};
LMC_COMMAND(data_cmd)
