/* YAML post stages: `- classify: {...}` then `- filter: {rule: [...]}` after the other stages give the same
 * bytes as `lmc data classify score` followed by `lmc data filter --rule` on the pipeline's output; stages
 * other than classify/score/filter-with-rule after them are an error naming the stage. */
#include "test.h"
#include "base/io.h"
#include "data/classify_run.h"

#include <string.h>

static char *tmp;

static char *pathf(const char *name) {
    static char b[8][4096];
    static int k;
    k = (k + 1) % 8;
    snprintf(b[k], sizeof b[k], "%s/%s", tmp, name);
    return b[k];
}

static char *slurp(const char *p, size_t *n) {
    char *d = NULL;
    lmc_err err = {0};
    CHECK_MSG(lmc_read_file(p, &d, n, &err) == 0, "%s", err.msg);
    return d;
}

int main(void) {
    tmp = test_tmpdir();
    char fix[4096];
    snprintf(fix, sizeof fix, "%s/tests/data/fixtures/classify_train.jsonl", test_source_dir());
    FILE *f = fopen(fix, "r");
    if (!f) TEST_SKIP("%s missing", fix);
    static data_clf_example ex[600];
    static char texts[600][256], labels[600][32];
    FILE *in = fopen(pathf("in.jsonl"), "w");
    char line[1024];
    for (int i = 0; i < 600 && fgets(line, sizeof line, f); i++) {
        json_t *o = json_loads(line, 0, NULL);
        snprintf(texts[i], sizeof texts[i], "%s", json_string_value(json_object_get(o, "text")));
        snprintf(labels[i], sizeof labels[i], "%s", json_string_value(json_object_get(o, "label")));
        ex[i] = (data_clf_example){texts[i], strlen(texts[i]), labels[i], strlen(labels[i])};
        if (i >= 300) fprintf(in, "{\"n\": %d, \"text\": \"%s\"}\n", i, texts[i]);
        json_decref(o);
    }
    fclose(f);
    fclose(in);
    data_clf_params p;
    data_clf_params_default(&p);
    p.dim = 8;
    p.bucket = 3000;
    data_clf *m = NULL;
    lmc_err err = {0};
    CHECK_EQ_INT(data_clf_train(&p, ex, 300, &m, NULL, &err), 0);
    CHECK_EQ_INT(data_clf_save(m, pathf("m.lmcft"), &err), 0);
    data_clf_free(m);

    /* the two commands */
    data_classify_score_cfg sc;
    data_classify_score_cfg_default(&sc);
    const char *ins[] = {pathf("in.jsonl")};
    sc.inputs = ins;
    sc.ninputs = 1;
    sc.output = pathf("s.jsonl");
    sc.nmodels = 1;
    sc.models[0] = pathf("m.lmcft");
    sc.names[0] = "q";
    sc.positive[0] = "wiki";
    sc.buckets = 5;
    json_t *rep = NULL;
    CHECK_EQ_INT(data_classify_score_run(&sc, &rep, &err), 0);
    json_decref(rep);
    data_pipeline_cfg c;
    data_pipeline_cfg_default(&c);
    const char *ins2[] = {pathf("s.jsonl")};
    c.inputs = ins2;
    c.ninputs = 1;
    c.output = pathf("f.jsonl");
    c.nstages = 1;
    c.stages[0].kind = DATA_STAGE_FILTER;
    data_filter_cfg_default(&c.stages[0].filter, 0);
    CHECK_EQ_INT(data_score_rule_add(&c.stages[0].filter, "score:quality_bucket>=3", &err), 0);
    CHECK_EQ_INT(data_pipeline_run(&c, &rep, &err), 0);
    uint64_t kept = (uint64_t)json_integer_value(json_object_get(rep, "documents_out"));
    CHECK(kept > 60 && kept < 240);
    json_decref(rep);

    /* the pipeline */
    FILE *y = fopen(pathf("p.yaml"), "w");
    fprintf(y, "inputs: [%s]\noutput: %s\nstages:\n  - stats: {}\n"
               "  - classify: {model: %s, name: q, positive: wiki, buckets: 5}\n"
               "  - filter: {rule: [\"score:quality_bucket>=3\"]}\n",
            pathf("in.jsonl"), pathf("y.jsonl"), pathf("m.lmcft"));
    fclose(y);
    data_pipeline_cfg yc;
    json_t *holder = NULL;
    CHECK_MSG(data_pipeline_load(pathf("p.yaml"), &yc, &holder, &err) == 0, "%s", err.msg);
    CHECK_EQ_INT(yc.npost, 2);
    CHECK_MSG(data_pipeline_run(&yc, &rep, &err) == 0, "%s", err.msg);
    CHECK_EQ_INT(json_integer_value(json_object_get(rep, "documents_out")), kept);
    CHECK_EQ_INT(json_array_size(json_object_get(rep, "post_stages")), 2);
    json_decref(rep);
    data_pipeline_cfg_release(&yc);
    json_decref(holder);
    size_t n1, n2;
    char *a = slurp(pathf("f.jsonl"), &n1), *b = slurp(pathf("y.jsonl"), &n2);
    CHECK(n1 == n2 && !memcmp(a, b, n1));
    free(a);
    free(b);

    /* a score stage's options */
    y = fopen(pathf("score.yaml"), "w");
    fprintf(y, "inputs: [%s]\noutput: %s\nstages:\n  - score: {model: mdir, buckets: [0.33, 0.66], context: 64, column: lp}\n"
               "  - filter: {rule: [\"score:lp<=100\"]}\n", pathf("in.jsonl"), pathf("z.jsonl"));
    fclose(y);
    CHECK_MSG(data_pipeline_load(pathf("score.yaml"), &yc, &holder, &err) == 0, "%s", err.msg);
    CHECK_EQ_INT(yc.npost, 2);
    CHECK_EQ_INT(yc.post[0].kind, DATA_POST_LMSCORE);
    CHECK_EQ_INT(yc.post[1].kind, DATA_POST_SELECT);
    data_pipeline_cfg_release(&yc);
    json_decref(holder);
    y = fopen(pathf("score2.yaml"), "w");
    fprintf(y, "inputs: [%s]\noutput: %s\nstages:\n  - score: {model: mdir, window: 3}\n", pathf("in.jsonl"), pathf("z.jsonl"));
    fclose(y);
    CHECK(data_pipeline_load(pathf("score2.yaml"), &yc, &holder, &err) < 0);
    CHECK_STR_CONTAINS(err.msg, "unknown key 'window'");
    data_pipeline_cfg_release(&yc);
    json_decref(holder);
    /* a dedup after classify is an error */
    y = fopen(pathf("bad.yaml"), "w");
    fprintf(y, "inputs: [%s]\noutput: %s\nstages:\n  - classify: {model: %s, name: q}\n  - dedup: {}\n",
            pathf("in.jsonl"), pathf("z.jsonl"), pathf("m.lmcft"));
    fclose(y);
    CHECK(data_pipeline_load(pathf("bad.yaml"), &yc, &holder, &err) < 0);
    CHECK_STR_CONTAINS(err.msg, "stage 2");
    CHECK_STR_CONTAINS(err.msg, "'dedup'");
    data_pipeline_cfg_release(&yc);
    json_decref(holder);
    lmc_remove_tree(tmp, NULL);
    free(tmp);
    return test_summary("test_data_post");
}
