/* JSON Lines writer (escaping, non-finite numbers, parseable output) and the progress reporter
 * (plain lines when not a TTY, nothing when quiet). */
#include "base/base.h"
#include "test.h"

int main(void) {
    lmc_err err = {0};
    char *dir = test_tmpdir();
    char *p = lmc_path_join(dir, "m.jsonl");
    lmc_jsonl w;
    CHECK(lmc_jsonl_open(&w, p, 0, &err) == 0);
    for (int step = 0; step < 3; step++) {
        lmc_jsonl_begin(&w);
        lmc_jsonl_int(&w, "step", step);
        lmc_jsonl_num(&w, "loss", 1.0 / 3.0 + step);
        lmc_jsonl_num(&w, "bad", step == 1 ? NAN : 1.5);
        lmc_jsonl_str(&w, "note", "quote \" backslash \\ newline \n tab \t bell \a bad \xff utf8 \xc3\xa9");
        lmc_jsonl_bool(&w, "ok", 1);
        CHECK(lmc_jsonl_end(&w, &err) == 0);
    }
    CHECK(lmc_jsonl_close(&w, &err) == 0);
    lmc_lines *lr;
    CHECK(lmc_lines_open(&lr, p, &err) == 0);
    const char *line;
    size_t len;
    int n = 0;
    while (lmc_lines_next(lr, &line, &len, &err) == 1) {
        json_t *j = lmc_json_loadb(line, len, "m.jsonl", &err);
        CHECK_MSG(j != NULL, "%s", err.msg);
        if (!j) continue;
        CHECK(json_integer_value(json_object_get(j, "step")) == n);
        CHECK(json_real_value(json_object_get(j, "loss")) == 1.0 / 3.0 + n); /* exact round trip */
        if (n == 1) CHECK(json_is_null(json_object_get(j, "bad")));
        const char *note = json_string_value(json_object_get(j, "note"));
        CHECK(note && strstr(note, "quote \" backslash \\ newline \n") && strstr(note, "\xef\xbf\xbd") &&
              strstr(note, "\xc3\xa9"));
        json_decref(j);
        n++;
    }
    CHECK_EQ_INT(n, 3);
    lmc_lines_close(lr);

    /* progress: plain mode writes lines with rate; quiet writes nothing */
    char *pp = lmc_path_join(dir, "progress.txt");
    FILE *f = fopen(pp, "w");
    lmc_progress pr;
    lmc_progress_start(&pr, "encode", 1000, "B");
    pr.mode = LMC_PROGRESS_PLAIN;
    pr.out = f;
    pr.interval = 0; /* print on every update */
    lmc_progress_set(&pr, 500);
    lmc_progress_finish(&pr);
    lmc_progress q;
    lmc_progress_start(&q, "quiet", 10, "docs");
    q.mode = LMC_PROGRESS_QUIET;
    q.out = f;
    lmc_progress_add(&q, 5);
    lmc_progress_finish(&q);
    fclose(f);
    char *txt;
    size_t tl;
    CHECK(lmc_read_file(pp, &txt, &tl, &err) == 0);
    CHECK_STR_CONTAINS(txt, "encode: 500 B / 1.00 kB (50.0%)");
    CHECK_STR_CONTAINS(txt, "ETA");
    CHECK_STR_CONTAINS(txt, "(done)");
    CHECK(!strstr(txt, "quiet"));
    free(txt);
    char buf[32];
    CHECK(!strcmp(lmc_fmt_duration(buf, sizeof buf, 3725), "1h02m05s"));
    CHECK(!strcmp(lmc_fmt_bytes(buf, sizeof buf, 2.5e6), "2.50 MB"));
    lmc_remove_tree(dir, NULL);
    free(pp);
    free(p);
    free(dir);
    return test_summary("base/jsonl_progress");
}
