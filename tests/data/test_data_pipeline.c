/* Stats on a crafted corpus, and the YAML pipeline: filter -> decontaminate -> dedup in one pass gives
 * the same bytes as the three commands run one after the other. */
#include "test.h"
#include "data/data.h"

static char *tmp;

static char *pathf(const char *name) {
    static char b[8][4096];
    static int k;
    k = (k + 1) % 8;
    snprintf(b[k], sizeof b[k], "%s/%s", tmp, name);
    return b[k];
}

static void test_stats(void) {
    lmc_err err = {0};
    data_stats *s = data_stats_new(&err);
    const char *a = "hello world\nhello world\n\nbye";         /* 28 bytes, 5 words, 4 lines, 1 dup */
    const char *b = "\xD0\xBF\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82 1";  /* "привет 1": 14 bytes, 8 chars */
    CHECK_EQ_INT(data_stats_add(s, a, strlen(a), &err), 0);
    CHECK_EQ_INT(data_stats_add(s, b, strlen(b), &err), 0);
    CHECK_EQ_INT(data_stats_add(s, "bye", 3, &err), 0);
    json_t *j = data_stats_json(s);
    CHECK_EQ_INT(json_integer_value(json_object_get(j, "documents")), 3);
    CHECK_EQ_INT(json_integer_value(json_object_get(j, "bytes")), 28 + 14 + 3);
    CHECK_EQ_INT(json_integer_value(json_object_get(j, "characters")), 28 + 8 + 3);
    CHECK_EQ_INT(json_integer_value(json_object_get(j, "words")), 5 + 2 + 1);
    CHECK_EQ_INT(json_integer_value(json_object_get(j, "nonempty_lines")), 5);
    CHECK_EQ_INT(json_integer_value(json_object_get(j, "duplicate_lines")), 2);  /* "hello world", "bye" */
    CHECK_CLOSE(json_real_value(json_object_get(j, "duplicate_line_rate")), 0.4, 1e-12, 0);
    json_t *sm = json_object_get(j, "script_mix");
    CHECK_CLOSE(json_real_value(json_object_get(sm, "cyrillic")), 6.0 / 39.0, 1e-12, 0);
    CHECK_CLOSE(json_real_value(json_object_get(sm, "digits")), 1.0 / 39.0, 1e-12, 0);
    json_t *h = json_object_get(j, "length_histogram");
    CHECK_EQ_INT(json_array_size(h), 3);  /* 2-3, 8-15, 16-31 */
    CHECK_EQ_INT(json_integer_value(json_object_get(json_array_get(h, 0), "min_bytes")), 2);
    json_decref(j);
    /* many lines: the duplicate-line set grows */
    for (int i = 0; i < 5000; i++) {
        char l[32];
        int n = snprintf(l, sizeof l, "line %d", i % 2500);
        data_stats_add(s, l, (size_t)n, &err);
    }
    j = data_stats_json(s);
    CHECK_EQ_INT(json_integer_value(json_object_get(j, "duplicate_lines")), 2 + 2500);
    json_decref(j);
    data_stats_free(s);
}

static void write_corpus(void) {
    FILE *f = fopen(pathf("corpus.jsonl"), "w");
    const char *para =
        "The history of the town goes back to the twelfth century, when a small group of farmers settled near the river. "
        "Over the following centuries the settlement grew into a market town with a church, a mill and a bridge.\\n"
        "In the nineteenth century the railway arrived, and with it new industries that changed the character of the place. "
        "Today the town is known for its old houses, its annual fair and the walks that lead along the river banks.\\n"
        "Visitors come from all over the region to see the church and to enjoy the food that is served in the square.";
    for (int i = 0; i < 40; i++) {
        if (i % 5 == 4) fprintf(f, "{\"id\": %d, \"text\": \"short %d\"}\n", i, i);  /* filtered */
        else if (i % 7 == 3)
            fprintf(f, "{\"id\": %d, \"text\": \"%s Number %d.\"}\n", i, para, i % 3);  /* near/exact dups */
        else
            fprintf(f, "{\"id\": %d, \"text\": \"Document %d of the set, written for a test. %s %s\"}\n", i, i,
                    i % 2 ? "It is an odd one and it has its own words here." : "It is an even one with different words.",
                    para);
        if (i == 20) fprintf(f, "{broken\n");
    }
    fclose(f);
    f = fopen(pathf("eval.txt"), "w");
    fprintf(f, "Today the town is known for its old houses, its annual fair and the walks that lead along the river banks.\n");
    fclose(f);
}

static char *slurp(const char *p) {
    char *d = NULL;
    size_t n;
    lmc_err err = {0};
    if (lmc_read_all(p, &d, &n, &err) < 0) return NULL;
    return d;
}

static void test_pipeline(void) {
    const char *bin = getenv("LMC_BIN");
    if (!bin) return;
    write_corpus();
    FILE *f = fopen(pathf("p.yaml"), "w");
    fprintf(f,
            "inputs: [%s]\n"  /* a glob pattern */
            "output: %s\n"
            "rejected: %s\n"
            "report: %s\n"
            "stages:\n"
            "  - stats: {}\n"
            "  - filter:\n"
            "      rules: [gopher-repetition, gopher-quality]\n"
            "      set: {gopher-quality.min_doc_words: 30}\n"
            "  - decontaminate: {eval: [%s], window: 50, min_slice: 20}\n"
            "  - stats:\n"
            "  - dedup: {ngram: 5}\n",
            pathf("corpu?.jsonl"), pathf("p_out.jsonl.zst"), pathf("p_rej.jsonl"), pathf("p_rep.json"), pathf("eval.txt"));
    fclose(f);
    char cmd[16384];
    snprintf(cmd, sizeof cmd, "%s --quiet data pipeline %s 2>/dev/null", bin, pathf("p.yaml"));
    CHECK_EQ_INT(system(cmd), 0);
    /* the same three stages one after the other */
    snprintf(cmd, sizeof cmd,
             "%s --quiet data filter --rules gopher-repetition,gopher-quality --set gopher-quality.min_doc_words=30 %s -o %s 2>/dev/null && "
             "%s --quiet data decontaminate --eval %s --window 50 --min-slice 20 %s -o %s 2>/dev/null && "
             "%s --quiet data dedup %s -o %s 2>/dev/null",
             bin, pathf("corpus.jsonl"), pathf("s1.jsonl"), bin, pathf("eval.txt"), pathf("s1.jsonl"), pathf("s2.jsonl"), bin,
             pathf("s2.jsonl"), pathf("s3.jsonl"));
    CHECK_EQ_INT(system(cmd), 0);
    char *a = slurp(pathf("p_out.jsonl.zst")), *b = slurp(pathf("s3.jsonl"));
    CHECK(a && b && strcmp(a, b) == 0);
    CHECK(a && strstr(a, "river banks") == NULL);
    free(a);
    free(b);
    lmc_err err = {0};
    json_t *r = lmc_json_load_file(pathf("p_rep.json"), &err);
    CHECK(r != NULL);
    json_t *st = json_object_get(r, "stages");
    CHECK_EQ_INT(json_array_size(st), 4);
    CHECK_EQ_INT(json_integer_value(json_object_get(json_object_get(json_array_get(st, 0), "stats"), "documents")), 40);
    CHECK_EQ_INT(json_integer_value(json_object_get(r, "skipped_input_lines")), 1);
    json_t *dd = json_object_get(r, "dedup");
    CHECK(json_integer_value(json_object_get(dd, "removed_exact")) + json_integer_value(json_object_get(dd, "removed_near")) > 0);
    int64_t out = json_integer_value(json_object_get(r, "documents_out"));
    int64_t filtered = json_integer_value(json_object_get(json_array_get(st, 1), "removed"));
    CHECK(filtered >= 8);
    /* the stats after the filter saw what the filter kept (decontamination splits no document here
     * into more pieces than it had) */
    int64_t after = json_integer_value(json_object_get(json_object_get(json_array_get(st, 3), "stats"), "documents"));
    CHECK(after >= 40 - filtered);
    CHECK(out < after);
    json_decref(r);
    /* rejected file: every removed document with its reason */
    char *rj = slurp(pathf("p_rej.jsonl"));
    CHECK_STR_CONTAINS(rj, "\"lmc_reason\":\"gopher-");
    CHECK_STR_CONTAINS(rj, "\"lmc_reason\":\"dedup/");
    free(rj);
    /* same bytes with 1 and 2 threads */
    snprintf(cmd, sizeof cmd, "%s --quiet data pipeline --threads 1 %s 2>/dev/null && cp %s %s && "
             "%s --quiet data pipeline --threads 2 %s 2>/dev/null && cmp -s %s %s",
             bin, pathf("p.yaml"), pathf("p_out.jsonl.zst"), pathf("t1.jsonl.zst"), bin, pathf("p.yaml"),
             pathf("p_out.jsonl.zst"), pathf("t1.jsonl.zst"));
    CHECK_EQ_INT(system(cmd), 0);
    /* a bad pipeline file: a clear error naming the problem */
    f = fopen(pathf("bad.yaml"), "w");
    fprintf(f, "inputs: [x.jsonl]\noutput: y.jsonl\nstages:\n  - dedup: {}\n  - filter: {}\n");
    fclose(f);
    snprintf(cmd, sizeof cmd, "%s --quiet data pipeline %s 2>%s", bin, pathf("bad.yaml"), pathf("bad.txt"));
    int rc = system(cmd);
    CHECK(WIFEXITED(rc) && WEXITSTATUS(rc) == 1);
    char *e = slurp(pathf("bad.txt"));
    CHECK_STR_CONTAINS(e, "dedup must be the last stage");
    free(e);
}

int main(void) {
    tmp = test_tmpdir();
    test_stats();
    test_pipeline();
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmp);
    if (system(cmd)) {}
    free(tmp);
    return test_summary("data_pipeline");
}
