/* `lmc data filter --rule score:FIELD>=X`: rule parsing (and its errors), the decision on number columns
 * (missing or non-number field removed), and a pipeline run where only the selected documents are kept,
 * byte-for-byte, with the failed condition as the reason; the YAML `rule:` key builds the same stage. */
#include "test.h"
#include "base/io.h"
#include "data/data.h"

#include <string.h>

static void test_parse(void) {
    data_filter_cfg c;
    data_filter_cfg_default(&c, 0);
    lmc_err err = {0};
    CHECK_EQ_INT(data_score_rule_add(&c, "score:quality_bucket>=12", &err), 0);
    CHECK(!strcmp(c.score[0].field, "quality_bucket") && c.score[0].op == 0 && c.score[0].value == 12);
    CHECK_EQ_INT(data_score_rule_add(&c, "score:p<0.5", &err), 0);
    CHECK(c.score[1].op == 3 && c.score[1].value == 0.5);
    CHECK(!strcmp(c.score[1].reason, "score/p>=0.5"));
    CHECK_EQ_INT(data_score_rule_add(&c, "score:x>1e-3", &err), 0);
    CHECK(c.score[2].op == 1);
    CHECK_EQ_INT(data_score_rule_add(&c, "score:y==2", &err), 0);
    CHECK(c.score[3].op == 4);
    CHECK(data_score_rule_add(&c, "quality>=1", &err) < 0);
    CHECK_STR_CONTAINS(err.msg, "score:FIELD");
    CHECK(data_score_rule_add(&c, "score:>=1", &err) < 0);
    CHECK(data_score_rule_add(&c, "score:a=1", &err) < 0);
    CHECK(data_score_rule_add(&c, "score:a>=", &err) < 0);
    CHECK(data_score_rule_add(&c, "score:a>=1x", &err) < 0);
    CHECK(data_score_rule_add(&c, "score:a>=nan", &err) < 0);
    const char *l1 = "{\"text\":\"t\",\"quality_bucket\":12,\"p\":0.25,\"x\":0.01,\"y\":2}";
    CHECK(data_score_rules_check(&c, l1, strlen(l1)) == NULL);
    const char *l2 = "{\"text\":\"t\",\"quality_bucket\":11,\"p\":0.25,\"x\":0.01,\"y\":2}";
    CHECK(!strcmp(data_score_rules_check(&c, l2, strlen(l2)), "score/quality_bucket<12"));
    const char *l3 = "{\"text\":\"t\",\"quality_bucket\":\"12\",\"p\":0.25}";
    CHECK(!strcmp(data_score_rules_check(&c, l3, strlen(l3)), "score/missing:quality_bucket"));
    const char *l4 = "{\"text\":\"t\",\"quality_bucket\":13,\"p\":0.5,\"x\":0.01,\"y\":2}";
    CHECK(!strcmp(data_score_rules_check(&c, l4, strlen(l4)), "score/p>=0.5"));
}

static void test_pipeline(const char *tmp) {
    char in[4200], out[4200], yaml[4200], out2[4200];
    snprintf(in, sizeof in, "%s/in.jsonl", tmp);
    snprintf(out, sizeof out, "%s/out.jsonl", tmp);
    snprintf(out2, sizeof out2, "%s/out2.jsonl", tmp);
    snprintf(yaml, sizeof yaml, "%s/p.yaml", tmp);
    FILE *f = fopen(in, "w");
    int want = 0;
    for (int i = 0; i < 100; i++) {
        if (i % 10 == 9) fprintf(f, "{\"text\": \"doc %d\"}\n", i);   /* no score: removed */
        else {
            fprintf(f, "{\"text\": \"doc %d\",  \"q\" : %d.5}\n", i, i % 20);
            want += i % 20 >= 10;
        }
    }
    fclose(f);
    data_pipeline_cfg c;
    data_pipeline_cfg_default(&c);
    const char *ins[] = {in};
    c.inputs = ins;
    c.ninputs = 1;
    c.output = out;
    c.nstages = 1;
    c.stages[0].kind = DATA_STAGE_FILTER;
    data_filter_cfg_default(&c.stages[0].filter, 0);
    lmc_err err = {0};
    CHECK_EQ_INT(data_score_rule_add(&c.stages[0].filter, "score:q>=10", &err), 0);
    json_t *rep = NULL;
    CHECK_EQ_INT(data_pipeline_run(&c, &rep, &err), 0);
    CHECK_EQ_INT(json_integer_value(json_object_get(rep, "documents_out")), want);
    json_t *by = json_object_get(json_array_get(json_object_get(rep, "stages"), 0), "removed_by_rule");
    CHECK_EQ_INT(json_integer_value(json_object_get(by, "score/missing:q")), 10);
    CHECK_EQ_INT(json_integer_value(json_object_get(by, "score/q<10")), 90 - want);
    json_decref(rep);
    char *d, *din;
    size_t l, lin;
    CHECK_EQ_INT(lmc_read_file(out, &d, &l, &err), 0);
    CHECK_EQ_INT(lmc_read_file(in, &din, &lin, &err), 0);
    /* every kept line is an input line, unchanged */
    int ok = 1, n = 0;
    for (char *p = d; *p;) {
        char *e = strchr(p, '\n');
        *e = 0;
        ok &= strstr(din, p) != NULL && strstr(p, "\"q\" : 1") != NULL;
        n++;
        p = e + 1;
    }
    CHECK(ok);
    CHECK_EQ_INT(n, want);
    /* YAML */
    f = fopen(yaml, "w");
    fprintf(f, "inputs: [%s]\noutput: %s\nstages:\n  - filter: {rule: [\"score:q>=10\"]}\n", in, out2);
    fclose(f);
    data_pipeline_cfg y;
    json_t *holder = NULL;
    CHECK_EQ_INT(data_pipeline_load(yaml, &y, &holder, &err), 0);
    CHECK_EQ_INT(y.stages[0].filter.nscore, 1);
    CHECK_EQ_INT(y.stages[0].filter.rulesets, 0);
    CHECK_EQ_INT(data_pipeline_run(&y, &rep, &err), 0);
    json_decref(rep);
    data_pipeline_cfg_release(&y);
    json_decref(holder);
    char *d2;
    size_t l2;
    CHECK_EQ_INT(lmc_read_file(out2, &d2, &l2, &err), 0);
    free(d);   /* (its newlines were overwritten above) */
    CHECK_EQ_INT(lmc_read_file(out, &d, &l, &err), 0);
    CHECK(l2 == l && !memcmp(d, d2, l));
    free(d2);
    free(d);
    free(din);
}

int main(void) {
    char *tmp = test_tmpdir();
    test_parse();
    test_pipeline(tmp);
    lmc_remove_tree(tmp, NULL);
    free(tmp);
    return test_summary("test_data_score_rule");
}
