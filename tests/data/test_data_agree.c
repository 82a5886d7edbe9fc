/* Agreement with datatrove 0.10.1 on 399 synthetic documents (tests/data/fixtures/datatrove_filters.jsonl,
 * made by tests/reference/datatrove_filter_fixture.py): for each rule set, the share of documents where
 * lmc and datatrove make the same keep/drop decision. lmc's word splitter follows spaCy's English rules
 * rather than running spaCy, so agreement could differ on unusual text; on this fixture it is total, and
 * the floor catches regressions. */
#include "test.h"
#include "data/data.h"

int main(void) {
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/data/fixtures/datatrove_filters.jsonl", test_source_dir());
    data_read_opts o;
    data_read_opts_default(&o);
    const char *p[] = {path};
    data_reader *r;
    lmc_err err = {0};
    if (data_reader_open(&r, p, 1, &o, &err) < 0) { fprintf(stderr, "%s\n", err.msg); return 1; }
    static const char *const names[] = {"gopher-repetition", "gopher-quality", "c4", "fineweb"};
    unsigned bits[] = {DATA_RULESET_GOPHER_REP, DATA_RULESET_GOPHER_QUALITY, DATA_RULESET_C4, DATA_RULESET_FINEWEB};
    data_filter_cfg cfg[4];
    for (int k = 0; k < 4; k++) data_filter_cfg_default(&cfg[k], bits[k]);
    data_filter_scratch *sc = data_filter_scratch_new();
    int agree[4] = {0}, total = 0;
    data_doc *d;
    long n;
    while ((n = data_reader_batch(r, 64, 1 << 20, &d, &err)) > 0) {
        for (long i = 0; i < n; i++) {
            json_t *j = json_loadb(d[i].raw, d[i].raw_len, 0, NULL);
            total++;
            for (int k = 0; k < 4; k++) {
                const char *want = json_string_value(json_object_get(j, names[k]));
                int dt_keep = want && !strcmp(want, "keep");
                int lmc_keep = data_filter_doc(&cfg[k], d[i].text, d[i].text_len, sc) == NULL;
                if (dt_keep == lmc_keep) agree[k]++;
                else if (getenv("LMC_VERBOSE"))
                    fprintf(stderr, "%s line %llu: datatrove %s, lmc %s\n", names[k], (unsigned long long)d[i].line,
                            want, lmc_keep ? "keep" : data_filter_doc(&cfg[k], d[i].text, d[i].text_len, sc));
            }
            json_decref(j);
        }
    }
    CHECK(n == 0);
    CHECK_EQ_INT(total, 399);
    static const double floor_[] = {0.99, 0.99, 0.99, 0.99};  /* measured: 1.0 for each */
    for (int k = 0; k < 4; k++) {
        double a = (double)agree[k] / (double)total;
        printf("%-18s agreement with datatrove %.4f (%d/%d)\n", names[k], a, agree[k], total);
        CHECK_MSG(a >= floor_[k], "%s agreement %.4f below %.2f", names[k], a, floor_[k]);
    }
    data_filter_scratch_free(sc);
    data_reader_close(r);
    return test_summary("data_agree");
}
