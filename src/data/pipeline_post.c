/* Post stages of a YAML pipeline: `classify` (src/data/classify_run.c), `score` (src/data/lmscore.c) and a
 * `filter` with score rules after them. Each reads the pipeline's output and writes it again (the writer
 * renames its temp file into place only at commit, after the reading is done). */
#include "data/classify_run.h"
#include "data/data.h"
#include "data/lmscore.h"

#include <stdlib.h>
#include <string.h>

static const char *post_name(int k) {
    return k == DATA_POST_CLASSIFY ? "classify" : k == DATA_POST_LMSCORE ? "score" : "filter";
}

int data_pipeline_post_run(const data_pipeline_cfg *c, json_t *post, uint64_t *docs_out, lmc_err *err) {
    const char *in[1] = {c->output};
    for (int i = 0; i < c->npost; i++) {
        json_t *r = NULL;
        int rc;
        data_read_opts ro;
        data_read_opts_default(&ro);
        ro.field = c->read.field;
        ro.format = DATA_FMT_JSONL;
        ro.max_doc_bytes = 0;
        ro.threads = c->threads;
        if (c->post[i].kind == DATA_POST_CLASSIFY) {
            data_classify_score_cfg sc = *(const data_classify_score_cfg *)c->post[i].cfg;
            sc.inputs = in;
            sc.ninputs = 1;
            sc.output = c->output;
            sc.read = ro;
            sc.threads = c->threads;
            rc = data_classify_score_run(&sc, &r, err);
            if (!rc) *docs_out = (uint64_t)json_integer_value(json_object_get(r, "documents"));
        } else if (c->post[i].kind == DATA_POST_LMSCORE) {
            data_lmscore_cfg sc = *(const data_lmscore_cfg *)c->post[i].cfg;
            sc.inputs = in;
            sc.ninputs = 1;
            sc.output = c->output;
            sc.read = ro;
            rc = data_lmscore_run(&sc, &r, err);
            if (!rc) *docs_out = (uint64_t)json_integer_value(json_object_get(r, "documents"));
        } else {
            data_pipeline_cfg pc;
            data_pipeline_cfg_default(&pc);
            pc.inputs = in;
            pc.ninputs = 1;
            pc.read = ro;
            pc.output = c->output;
            pc.threads = c->threads;
            pc.nstages = 1;
            pc.stages[0].kind = DATA_STAGE_FILTER;
            pc.stages[0].filter = *(const data_filter_cfg *)c->post[i].cfg;
            rc = data_pipeline_run(&pc, &r, err);
            if (!rc) *docs_out = (uint64_t)json_integer_value(json_object_get(r, "documents_out"));
        }
        if (rc < 0) {
            json_decref(r);
            return lmc_err_wrap(err, "%s stage", post_name(c->post[i].kind));
        }
        json_array_append_new(post, json_pack("{s:s,s:o}", "stage", post_name(c->post[i].kind), "report", r));
    }
    return 0;
}

static int num(json_t *o, const char *k, double *v, const char *ctx, lmc_err *err) {
    json_t *x = json_object_get(o, k);
    if (!x) return 0;
    if (!json_is_number(x)) return lmc_errf(err, LMC_EINVAL, "%s: '%s' must be a number", ctx, k);
    *v = json_number_value(x);
    return 0;
}

static int str(json_t *o, const char *k, const char **v, const char *ctx, lmc_err *err) {
    json_t *x = json_object_get(o, k);
    if (!x) return 0;
    if (!json_is_string(x)) return lmc_errf(err, LMC_EINVAL, "%s: '%s' must be a string", ctx, k);
    *v = json_string_value(x);
    return 0;
}

/* A string or a list of strings into out[max]; returns the count or -1. */
static int strs(json_t *o, const char *k, const char **out, int max, const char *ctx, lmc_err *err) {
    json_t *x = json_object_get(o, k);
    if (!x) return 0;
    if (json_is_string(x)) { out[0] = json_string_value(x); return 1; }
    if (!json_is_array(x) || json_array_size(x) == 0 || json_array_size(x) > (size_t)max)
        return lmc_errf(err, LMC_EINVAL, "%s: '%s' must be a string or a list of 1..%d strings", ctx, k, max), -1;
    for (size_t i = 0; i < json_array_size(x); i++) {
        if (!json_is_string(json_array_get(x, i))) return lmc_errf(err, LMC_EINVAL, "%s: '%s' item %zu must be a string", ctx, k, i + 1), -1;
        out[i] = json_string_value(json_array_get(x, i));
    }
    return (int)json_array_size(x);
}

static int nums(json_t *o, const char *k, double *out, int max, const char *ctx, lmc_err *err) {
    json_t *x = json_object_get(o, k);
    if (!x) return 0;
    if (!json_is_array(x) || json_array_size(x) > (size_t)max)
        return lmc_errf(err, LMC_EINVAL, "%s: '%s' must be a list of at most %d numbers", ctx, k, max), -1;
    for (size_t i = 0; i < json_array_size(x); i++) {
        if (!json_is_number(json_array_get(x, i))) return lmc_errf(err, LMC_EINVAL, "%s: '%s' item %zu must be a number", ctx, k, i + 1), -1;
        out[i] = json_number_value(json_array_get(x, i));
    }
    return (int)json_array_size(x);
}

static int check(json_t *o, const char *const *keys, const char *ctx, lmc_err *err) {
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v) {
        int ok = 0;
        for (const char *const *p = keys; *p; p++) ok |= !strcmp(*p, k);
        if (!ok) return lmc_errf(err, LMC_EINVAL, "%s: unknown key '%s'", ctx, k);
    }
    return 0;
}

int data_pipeline_post_load(data_pipeline_cfg *c, const char *kind, json_t *o, const char *ctx, lmc_err *err) {
    if (c->npost >= DATA_MAX_STAGES) return lmc_errf(err, LMC_EINVAL, "%s: too many stages", ctx);
    if (!strcmp(kind, "classify")) {
        static const char *const keys[] = {"model", "name", "positive", "buckets", "bucket_column", "weights",
                                           "weighted_column", NULL};
        if (check(o, keys, ctx, err) < 0) return -1;
        data_classify_score_cfg *s = calloc(1, sizeof *s);
        if (!s) return lmc_errf(err, LMC_ENOMEM, "out of memory");
        data_classify_score_cfg_default(s);
        c->post[c->npost].kind = DATA_POST_CLASSIFY;
        c->post[c->npost++].cfg = s;
        int nm = strs(o, "model", s->models, DATA_CLASSIFY_MAX_MODELS, ctx, err);
        if (nm < 0) return -1;
        if (nm == 0) return lmc_errf(err, LMC_EINVAL, "%s: 'model' is required", ctx);
        s->nmodels = nm;
        int nn = strs(o, "name", s->names, DATA_CLASSIFY_MAX_MODELS, ctx, err);
        if (nn < 0) return -1;
        if (nn != nm) return lmc_errf(err, LMC_EINVAL, "%s: 'name' must give one column name per model (%d)", ctx, nm);
        int np = strs(o, "positive", s->positive, DATA_CLASSIFY_MAX_MODELS, ctx, err);
        if (np < 0) return -1;
        if (np > 1 && np != nm) return lmc_errf(err, LMC_EINVAL, "%s: 'positive': one label, or one per model", ctx);
        double b = 0;
        if (num(o, "buckets", &b, ctx, err) < 0) return -1;
        s->buckets = (int)b;
        int nw = nums(o, "weights", s->weights, DATA_CLASSIFY_MAX_MODELS, ctx, err);
        if (nw < 0) return -1;
        s->nweights = nw;
        if (str(o, "bucket_column", &s->bucket_column, ctx, err) < 0 || str(o, "weighted_column", &s->weighted_column, ctx, err) < 0)
            return -1;
        return 0;
    }
    if (!strcmp(kind, "score")) {
        static const char *const keys[] = {"model", "tokenizer", "column", "buckets", "bucket_column", "context",
                                           "max_tokens", "ref_model", "davir_column", NULL};
        if (check(o, keys, ctx, err) < 0) return -1;
        data_lmscore_cfg *s = calloc(1, sizeof *s);
        if (!s) return lmc_errf(err, LMC_ENOMEM, "out of memory");
        data_lmscore_cfg_default(s);
        c->post[c->npost].kind = DATA_POST_LMSCORE;
        c->post[c->npost++].cfg = s;
        if (str(o, "model", &s->model_dir, ctx, err) < 0 || str(o, "tokenizer", &s->tokenizer, ctx, err) < 0 ||
            str(o, "column", &s->column, ctx, err) < 0 || str(o, "bucket_column", &s->bucket_column, ctx, err) < 0 ||
            str(o, "ref_model", &s->ref_model_dir, ctx, err) < 0 || str(o, "davir_column", &s->davir_column, ctx, err) < 0)
            return -1;
        if (!s->model_dir) return lmc_errf(err, LMC_EINVAL, "%s: 'model' is required", ctx);
        int nq = nums(o, "buckets", s->quantiles, DATA_LMSCORE_MAX_Q, ctx, err);
        if (nq < 0) return -1;
        s->nquantiles = nq;
        double ctxn = 0, mt = 0;
        if (num(o, "context", &ctxn, ctx, err) < 0 || num(o, "max_tokens", &mt, ctx, err) < 0) return -1;
        if (ctxn < 0 || mt < 0) return lmc_errf(err, LMC_EINVAL, "%s: 'context' and 'max_tokens' must be >= 0", ctx);
        s->context = (int)ctxn;
        s->max_tokens = (size_t)mt;
        return 0;
    }
    if (!strcmp(kind, "filter")) {
        static const char *const keys[] = {"rule", NULL};
        if (check(o, keys, ctx, err) < 0) return lmc_err_wrap(err, "(after classify/score, a filter takes only 'rule')");
        data_filter_cfg *f = calloc(1, sizeof *f);
        if (!f) return lmc_errf(err, LMC_ENOMEM, "out of memory");
        data_filter_cfg_default(f, 0);
        c->post[c->npost].kind = DATA_POST_SELECT;
        c->post[c->npost++].cfg = f;
        const char *rl[DATA_MAX_SCORE_RULES];
        int nr = strs(o, "rule", rl, DATA_MAX_SCORE_RULES, ctx, err);
        if (nr < 0) return -1;
        if (nr == 0) return lmc_errf(err, LMC_EINVAL, "%s: 'rule' is required", ctx);
        for (int k = 0; k < nr; k++)
            if (data_score_rule_add(f, rl[k], err) < 0) return lmc_err_wrap(err, "%s", ctx);
        return 0;
    }
    return lmc_errf(err, LMC_EINVAL, "%s: after classify/score only classify, score and filter {rule: ...} may follow, not '%s'", ctx, kind);
}
