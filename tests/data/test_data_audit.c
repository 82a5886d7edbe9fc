/* Filter-bias audit: Wilson intervals against known values; on a planted corpus where gopher-quality
 * removes 25% of source A, 75% of source B and every document without the field, the audit reports those
 * counts, rates and intervals, names B and A as the extremes with disjoint intervals, and gives the same
 * report for 1 and 2 threads. */
#include "test.h"
#include "data/data.h"

static char *tmp;

static void test_wilson(void) {
    double lo, hi;
    data_wilson(0, 10, 1.959964, &lo, &hi);
    CHECK(fabs(lo - 0.0) < 1e-9 && fabs(hi - 0.277533) < 1e-5);
    data_wilson(5, 10, 1.959964, &lo, &hi);
    CHECK(fabs(lo - 0.236590) < 1e-5 && fabs(hi - 0.763410) < 1e-5);
    data_wilson(10, 10, 1.959964, &lo, &hi);
    CHECK(fabs(lo - 0.722467) < 1e-5 && fabs(hi - 1.0) < 1e-9);
    data_wilson(0, 0, 1.959964, &lo, &hi);
    CHECK(lo == 0 && hi == 1);
}

static const char *LONG_DOC = "the quick brown fox jumps over the lazy dog and then it runs back to the old farm where "
                              "the farmer keeps his sheep and the dog sleeps in the warm barn until the morning comes "
                              "again with the sun over the hills and the river that flows past the mill to the sea "
                              "where the boats wait for the tide to turn";
static const char *SHORT_DOC = "the fox and the dog";

static json_t *run(const char *path, int threads) {
    data_audit_cfg c;
    data_audit_cfg_default(&c);
    const char *in[] = {path};
    c.inputs = in;
    c.ninputs = 1;
    c.threads = threads;
    data_filter_cfg_default(&c.filter, DATA_RULESET_GOPHER_QUALITY);
    json_t *rep = NULL;
    lmc_err err = {0};
    CHECK_EQ_INT(data_audit_run(&c, &rep, &err), 0);
    return rep;
}

static void test_planted(void) {
    char path[4096];
    snprintf(path, sizeof path, "%s/audit.jsonl", tmp);
    FILE *f = fopen(path, "w");
    /* A: 30 long + 10 short; B: 5 long + 15 short; 5 without a source (short); interleaved */
    for (int i = 0; i < 40; i++) fprintf(f, "{\"text\": \"%s\", \"source\": \"A\"}\n", i % 4 == 3 ? SHORT_DOC : LONG_DOC);
    for (int i = 0; i < 20; i++) fprintf(f, "{\"source\": \"B\", \"text\": \"%s\"}\n", i % 4 == 0 ? LONG_DOC : SHORT_DOC);
    for (int i = 0; i < 5; i++) fprintf(f, "{\"text\": \"%s\", \"source\": %d}\n", SHORT_DOC, i);
    fclose(f);
    json_t *r1 = run(path, 1), *r2 = run(path, 2);
    json_t *cats = json_object_get(r1, "categories");
    CHECK_EQ_INT(json_array_size(cats), 3);
    const char *want_name[] = {"A", "B", "(missing)"};
    long long want_docs[] = {40, 20, 5}, want_rem[] = {10, 15, 5};
    for (int i = 0; i < 3; i++) {
        json_t *o = json_array_get(cats, (size_t)i);
        CHECK(!strcmp(json_string_value(json_object_get(o, "category")), want_name[i]));
        CHECK_EQ_INT(json_integer_value(json_object_get(o, "documents")), want_docs[i]);
        json_t *g = json_object_get(json_object_get(o, "filters"), "gopher-quality");
        CHECK_EQ_INT(json_integer_value(json_object_get(g, "removed")), want_rem[i]);
        double lo, hi;
        data_wilson((uint64_t)want_rem[i], (uint64_t)want_docs[i], 1.959964, &lo, &hi);
        CHECK(fabs(json_real_value(json_array_get(json_object_get(g, "ci95"), 0)) - lo) < 1e-12);
        CHECK(fabs(json_real_value(json_array_get(json_object_get(g, "ci95"), 1)) - hi) < 1e-12);
        json_t *any = json_object_get(json_object_get(o, "filters"), "any");
        CHECK_EQ_INT(json_integer_value(json_object_get(any, "removed")), want_rem[i]);
        CHECK_EQ_INT(json_integer_value(json_object_get(json_object_get(o, "removed_by_rule"), "gopher-quality/short_doc")),
                     want_rem[i]);
    }
    json_t *ov = json_object_get(r1, "overall");
    CHECK_EQ_INT(json_integer_value(json_object_get(ov, "documents")), 65);
    json_t *d = json_object_get(json_object_get(r1, "disparity"), "gopher-quality");
    CHECK(!strcmp(json_string_value(json_object_get(d, "highest")), "(missing)"));
    CHECK(!strcmp(json_string_value(json_object_get(d, "lowest")), "A"));
    CHECK(json_is_true(json_object_get(d, "intervals_disjoint")));
    json_object_del(r1, "seconds");
    json_object_del(r2, "seconds");
    CHECK(json_equal(r1, r2));
    json_decref(r1);
    json_decref(r2);
    const char *bin = getenv("LMC_BIN");
    if (bin) {
        char cmd[16384];
        snprintf(cmd, sizeof cmd, "%s --quiet data audit %s --by source --rules gopher-quality --report %s/a.json > %s/a.txt 2>&1",
                 bin, path, tmp, tmp);
        CHECK_EQ_INT(system(cmd), 0);
        snprintf(cmd, sizeof cmd, "grep -q '^B  *20  *75.0%%' %s/a.txt", tmp);
        CHECK_EQ_INT(system(cmd), 0);
        snprintf(cmd, sizeof cmd, "%s --quiet data audit %s --rules nope 2>/dev/null", bin, path);
        CHECK(system(cmd) != 0);
    }
}

int main(void) {
    tmp = test_tmpdir();
    test_wilson();
    test_planted();
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmp);
    if (system(cmd)) {}
    free(tmp);
    return test_summary("data_audit");
}
