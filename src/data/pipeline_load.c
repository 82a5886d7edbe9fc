/* Loading a pipeline from YAML (or JSON): one file names the inputs, the stages in order and the
 * outputs, so `lmc data pipeline FILE` reads the corpus once for all stages. */
#include "data/data.h"

#include <stdlib.h>
#include <string.h>

static const char **str_list(json_t *v, int *n, const char *ctx, const char *key, lmc_err *err) {
    *n = 0;
    if (json_is_string(v)) {
        const char **a = malloc(sizeof *a);
        if (!a) { lmc_errf(err, LMC_ENOMEM, "out of memory"); return NULL; }
        a[0] = json_string_value(v);
        *n = 1;
        return a;
    }
    if (!json_is_array(v) || json_array_size(v) == 0) {
        lmc_errf(err, LMC_EINVAL, "%s: '%s' must be a file name or a non-empty list of them", ctx, key);
        return NULL;
    }
    const char **a = calloc(json_array_size(v), sizeof *a);
    if (!a) { lmc_errf(err, LMC_ENOMEM, "out of memory"); return NULL; }
    for (size_t i = 0; i < json_array_size(v); i++) {
        json_t *e = json_array_get(v, i);
        if (!json_is_string(e)) {
            free(a);
            lmc_errf(err, LMC_EINVAL, "%s: '%s' item %zu must be a string", ctx, key, i + 1);
            return NULL;
        }
        a[i] = json_string_value(e);
    }
    *n = (int)json_array_size(v);
    return a;
}

static int get_int_opt(json_t *o, const char *key, int *out, const char *ctx, lmc_err *err) {
    int64_t v;
    int rc = lmc_json_get_int(o, key, &v, ctx, err);
    if (rc == LMC_ENOTFOUND) { lmc_err_clear(err); return 0; }
    if (rc < 0) return rc;
    if (v < 0 || v > 1000000000) return lmc_errf(err, LMC_EINVAL, "%s: '%s' out of range", ctx, key);
    *out = (int)v;
    return 0;
}

static int get_bool_opt(json_t *o, const char *key, int *out, const char *ctx, lmc_err *err) {
    int rc = lmc_json_get_bool(o, key, out, ctx, err);
    if (rc == LMC_ENOTFOUND) { lmc_err_clear(err); return 0; }
    return rc;
}

static int check_keys(json_t *o, const char *const *allowed, const char *ctx, lmc_err *err) {
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v) {
        int ok = 0;
        for (const char *const *a = allowed; *a; a++) ok |= !strcmp(*a, k);
        if (!ok) return lmc_errf(err, LMC_EINVAL, "%s: unknown key '%s'", ctx, k);
    }
    return 0;
}

int data_pipeline_load(const char *path, data_pipeline_cfg *c, json_t **holder, lmc_err *err) {
    data_pipeline_cfg_default(c);
    json_t *j = lmc_yaml_load_file(path, err);
    *holder = j;
    if (!j) return -1;
    if (!json_is_object(j)) return lmc_errf(err, LMC_EFORMAT, "%s: expected a mapping at the top", path);
    static const char *const top[] = {"inputs", "output", "rejected", "report", "field", "doc_separator", "format",
                                      "strict", "threads", "stages", "provenance", "licence_field", "source_field",
                                      "licence_allow", NULL};
    if (check_keys(j, top, path, err) < 0) return -1;
    int n;
    const char **in = str_list(json_object_get(j, "inputs"), &n, path, "inputs", err);
    if (!in) return -1;
    /* inputs with * ? [ are glob patterns; the matches (sorted) are kept in the holder as strings */
    json_t *expanded = json_array();
    for (int i = 0; i < n; i++) {
        if (!strpbrk(in[i], "*?[")) {
            json_array_append_new(expanded, json_string(in[i]));
            continue;
        }
        char **m;
        size_t nm;
        if (lmc_glob(in[i], &m, &nm, err) < 0) {
            free(in);
            json_decref(expanded);
            return lmc_err_wrap(err, "%s: inputs", path);
        }
        for (size_t k = 0; k < nm; k++) json_array_append_new(expanded, json_string(m[k]));
        lmc_free_strv(m, nm);
    }
    free(in);
    json_object_set_new(j, "inputs_expanded", expanded);
    in = calloc(json_array_size(expanded) + 1, sizeof *in);
    if (!in) return lmc_errf(err, LMC_ENOMEM, "out of memory");
    for (size_t k = 0; k < json_array_size(expanded); k++) in[k] = json_string_value(json_array_get(expanded, k));
    n = (int)json_array_size(expanded);
    c->inputs = in;
    c->ninputs = (size_t)n;
    const char *s;
    if (lmc_json_get_str(j, "output", &s, path, err) == 0) c->output = s;
    if (lmc_json_get_str(j, "rejected", &s, path, err) == 0) c->rejected = s;
    if (lmc_json_get_str(j, "field", &s, path, err) == 0) c->read.field = s;
    if (lmc_json_get_str(j, "doc_separator", &s, path, err) == 0) c->read.doc_separator = s;
    if (lmc_json_get_str(j, "format", &s, path, err) == 0) {
        if (!strcmp(s, "jsonl")) c->read.format = DATA_FMT_JSONL;
        else if (!strcmp(s, "text")) c->read.format = DATA_FMT_TEXT;
        else if (strcmp(s, "auto")) return lmc_errf(err, LMC_EINVAL, "%s: format must be auto, jsonl or text", path);
    }
    lmc_err_clear(err);
    if (get_bool_opt(j, "strict", &c->read.strict, path, err) < 0) return -1;
    if (get_int_opt(j, "threads", &c->threads, path, err) < 0) return -1;
    if (get_bool_opt(j, "provenance", &c->provenance, path, err) < 0) return -1;
    if (lmc_json_get_str(j, "licence_field", &s, path, err) == 0) c->licence_field = s;
    if (lmc_json_get_str(j, "source_field", &s, path, err) == 0) c->source_field = s;
    lmc_err_clear(err);
    json_t *la = json_object_get(j, "licence_allow");
    if (la) {
        int nl;
        const char **l = str_list(la, &nl, path, "licence_allow", err);
        if (!l) return -1;
        c->licence_allow = l;
        c->nlicence_allow = nl;
    }
    json_t *stages = json_object_get(j, "stages");
    if (!json_is_array(stages) || json_array_size(stages) == 0)
        return lmc_errf(err, LMC_EINVAL, "%s: 'stages' must be a non-empty list", path);
    for (size_t i = 0; i < json_array_size(stages); i++) {
        json_t *e = json_array_get(stages, i);
        char ctx[600];
        snprintf(ctx, sizeof ctx, "%s: stage %zu", path, i + 1);
        if (!json_is_object(e) || json_object_size(e) != 1)
            return lmc_errf(err, LMC_EINVAL, "%s: expected a mapping with one key (filter, decontaminate, overlap, "
                            "stats or dedup)", ctx);
        const char *kind = json_object_iter_key(json_object_iter(e));
        json_t *o = json_object_iter_value(json_object_iter(e));
        if (json_is_null(o)) o = NULL;
        else if (!json_is_object(o)) return lmc_errf(err, LMC_EINVAL, "%s: options of '%s' must be a mapping", ctx, kind);
        json_t *empty = json_object();
        if (!o) o = empty;
        int rc = 0;
        if (c->npost || !strcmp(kind, "classify") || !strcmp(kind, "score")) {  /* post stages (pipeline_post.c) */
            rc = data_pipeline_post_load(c, kind, o, ctx, err);
            goto next;
        }
        if (c->substring) { rc = lmc_errf(err, LMC_EINVAL, "%s: substring must be the last stage", ctx); goto next; }
        if (!strcmp(kind, "substring")) {  /* exact-substring dedup of the output, after everything else */
            static const char *const keys[] = {"min_len", "keep", NULL};
            if ((rc = check_keys(o, keys, ctx, err)) < 0) goto next;
            c->substring = 1;
            if ((rc = get_int_opt(o, "min_len", &c->substring_min_len, ctx, err)) < 0) goto next;
            if (c->substring_min_len < 1) { rc = lmc_errf(err, LMC_EINVAL, "%s: 'min_len' must be >= 1", ctx); goto next; }
            json_t *kp = json_object_get(o, "keep");
            if (kp) {
                const char *k = json_string_value(kp);
                if (k && !strcmp(k, "first")) c->substring_keep_first = 1;
                else if (k && !strcmp(k, "none")) c->substring_keep_first = 0;
                else { rc = lmc_errf(err, LMC_EINVAL, "%s: 'keep' must be first or none", ctx); goto next; }
            }
            goto next;
        }
        if (c->dedup) { rc = lmc_errf(err, LMC_EINVAL, "%s: dedup must be the last stage (or followed by substring)", ctx); goto next; }
        if (!strcmp(kind, "dedup")) {
            static const char *const keys[] = {"exact", "minhash", "ngram", "bands", "rows", "seed", "threshold",
                                               "verify", NULL};
            if ((rc = check_keys(o, keys, ctx, err)) < 0) goto next;
            c->dedup = 1;
            int seed = 1;
            if ((rc = get_bool_opt(o, "exact", &c->dedup_exact, ctx, err)) < 0 ||
                (rc = get_bool_opt(o, "minhash", &c->dedup_minhash, ctx, err)) < 0 ||
                (rc = get_int_opt(o, "ngram", &c->minhash.ngram, ctx, err)) < 0 ||
                (rc = get_int_opt(o, "bands", &c->minhash.bands, ctx, err)) < 0 ||
                (rc = get_int_opt(o, "rows", &c->minhash.rows, ctx, err)) < 0 ||
                (rc = get_int_opt(o, "seed", &seed, ctx, err)) < 0)
                goto next;
            c->minhash.seed = (uint64_t)seed;
            json_t *th = json_object_get(o, "threshold");
            if (th) {
                if (!json_is_number(th)) { rc = lmc_errf(err, LMC_EINVAL, "%s: 'threshold' must be a number", ctx); goto next; }
                c->dedup_threshold = json_number_value(th);
            }
            json_t *vf = json_object_get(o, "verify");
            if (vf && (!json_is_string(vf) || data_verify_parse(json_string_value(vf), &c->dedup_verify) < 0)) {
                rc = lmc_errf(err, LMC_EINVAL, "%s: 'verify' must be jaccard, signature or both", ctx);
                goto next;
            }
            goto next;
        }
        if (c->nstages >= DATA_MAX_STAGES) { rc = lmc_errf(err, LMC_EINVAL, "%s: too many stages", ctx); goto next; }
        data_stage_cfg *sc = &c->stages[c->nstages];
        memset(sc, 0, sizeof *sc);
        data_decont_cfg_default(&sc->decont);
        if (!strcmp(kind, "filter")) {
            static const char *const keys[] = {"rules", "set", "rule", NULL};
            if ((rc = check_keys(o, keys, ctx, err)) < 0) goto next;
            sc->kind = DATA_STAGE_FILTER;
            unsigned rs = DATA_RULESET_GOPHER_QUALITY | DATA_RULESET_GOPHER_REP | DATA_RULESET_C4 | DATA_RULESET_FINEWEB;
            json_t *rules = json_object_get(o, "rules");
            if (rules) {
                int nr;
                const char **rl = str_list(rules, &nr, ctx, "rules", err);
                if (!rl) { rc = -1; goto next; }
                char buf[512] = "";
                for (int k = 0; k < nr; k++) {
                    strncat(buf, rl[k], sizeof buf - strlen(buf) - 2);
                    strcat(buf, ",");
                }
                free(rl);
                /* the rule parser's messages do not know the file: add it */
                if ((rc = data_filter_parse_rulesets(buf, &rs, err)) < 0) { lmc_err_wrap(err, "%s", ctx); goto next; }
            }
            json_t *srules = json_object_get(o, "rule");
            if (srules && !rules) rs = 0;  /* only score rules, as on the command line */
            data_filter_cfg_default(&sc->filter, rs);
            if (srules) {  /* rule: ["score:quality_bucket>=12"] */
                int nr;
                const char **rl = str_list(srules, &nr, ctx, "rule", err);
                if (!rl) { rc = -1; goto next; }
                for (int k = 0; k < nr && !rc; k++)
                    if ((rc = data_score_rule_add(&sc->filter, rl[k], err)) < 0) lmc_err_wrap(err, "%s", ctx);
                free(rl);
                if (rc) goto next;
            }
            json_t *set = json_object_get(o, "set");
            if (set) {
                if (!json_is_object(set)) { rc = lmc_errf(err, LMC_EINVAL, "%s: 'set' must be a mapping", ctx); goto next; }
                const char *k;
                json_t *v;
                json_object_foreach(set, k, v) {
                    char a[300];
                    if (json_is_number(v)) snprintf(a, sizeof a, "%s=%.17g", k, json_number_value(v));
                    else if (json_is_boolean(v)) snprintf(a, sizeof a, "%s=%d", k, json_is_true(v));
                    else { rc = lmc_errf(err, LMC_EINVAL, "%s: set.%s must be a number", ctx, k); goto next; }
                    if ((rc = data_filter_set(&sc->filter, a, err)) < 0) { lmc_err_wrap(err, "%s", ctx); goto next; }
                }
            }
        } else if (!strcmp(kind, "decontaminate") || !strcmp(kind, "overlap")) {
            static const char *const keys[] = {"eval", "eval_field", "ngram", "min_ngram", "window", "min_slice",
                                               "too_dirty", "report_only", NULL};
            if ((rc = check_keys(o, keys, ctx, err)) < 0) goto next;
            sc->kind = !strcmp(kind, "overlap") ? DATA_STAGE_OVERLAP : DATA_STAGE_DECONT;
            int ne;
            const char **ev = str_list(json_object_get(o, "eval"), &ne, ctx, "eval", err);
            if (!ev) { rc = -1; goto next; }
            sc->eval = ev;
            sc->neval = ne;
            if (lmc_json_get_str(o, "eval_field", &s, ctx, err) == 0) sc->eval_field = s;
            lmc_err_clear(err);
            if ((rc = get_int_opt(o, "ngram", &sc->decont.ngram, ctx, err)) < 0 ||
                (rc = get_int_opt(o, "min_ngram", &sc->decont.min_ngram, ctx, err)) < 0 ||
                (rc = get_int_opt(o, "window", &sc->decont.window, ctx, err)) < 0 ||
                (rc = get_int_opt(o, "min_slice", &sc->decont.min_slice, ctx, err)) < 0 ||
                (rc = get_int_opt(o, "too_dirty", &sc->decont.too_dirty, ctx, err)) < 0 ||
                (rc = get_bool_opt(o, "report_only", &sc->report_only, ctx, err)) < 0)
                goto next;
            if (sc->decont.min_ngram > sc->decont.ngram) sc->decont.min_ngram = sc->decont.ngram;
        } else if (!strcmp(kind, "stats")) {
            static const char *const keys[] = {NULL};
            if ((rc = check_keys(o, keys, ctx, err)) < 0) goto next;
            sc->kind = DATA_STAGE_STATS;
        } else {
            rc = lmc_errf(err, LMC_EINVAL, "%s: unknown stage '%s' (filter, decontaminate, overlap, stats, dedup)", ctx, kind);
            goto next;
        }
        c->nstages++;
    next:
        json_decref(empty);
        /* a stage that failed after its eval list was made is not counted, so release would not free it */
        if (rc < 0 && c->nstages < DATA_MAX_STAGES && c->stages[c->nstages].eval) {
            free((void *)c->stages[c->nstages].eval);
            c->stages[c->nstages].eval = NULL;
        }
        if (rc < 0) return rc;
    }
    if (!c->output && (c->dedup || c->rejected))
        for (int k = 0; k < c->nstages; k++)
            if (c->stages[k].kind == DATA_STAGE_FILTER || c->stages[k].kind == DATA_STAGE_DECONT)
                return lmc_errf(err, LMC_EINVAL, "%s: 'output' is required with filter/decontaminate/dedup stages", path);
    if (!c->output && c->dedup) return lmc_errf(err, LMC_EINVAL, "%s: 'output' is required with a dedup stage", path);
    if (!c->output && c->substring) return lmc_errf(err, LMC_EINVAL, "%s: 'output' is required with a substring stage", path);
    if (!c->output && c->npost) return lmc_errf(err, LMC_EINVAL, "%s: 'output' is required with classify/score stages", path);
    return 0;
}

void data_pipeline_cfg_release(data_pipeline_cfg *c) {
    free((void *)c->inputs);
    c->inputs = NULL;
    free((void *)c->licence_allow);
    c->licence_allow = NULL;
    c->nlicence_allow = 0;
    for (int s = 0; s < c->nstages; s++) {
        free((void *)c->stages[s].eval);
        c->stages[s].eval = NULL;
    }
    for (int s = 0; s < c->npost; s++) {
        free(c->post[s].cfg);
        c->post[s].cfg = NULL;
    }
    c->npost = 0;
}
