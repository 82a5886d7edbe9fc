/* lmc report: charts from metrics.jsonl, several runs overlaid; the CLI's config errors and
 * --print-config end to end. */
#include "test.h"
#include "tiny_run.h"
#include "train/report.h"
#include "train/train.h"

static int count(const char *s, const char *sub) {
    int n = 0;
    for (const char *p = s; (p = strstr(p, sub)); p++) n++;
    return n;
}

int main(void) {
    char *dir = test_tmpdir();
    lmc_err err;
    train_result res;
    train_config a, b;
    train_opts o;
    memset(&o, 0, sizeof o);
    tiny_config(&a, dir, "one");
    a.sample_tokens = 0;
    CHECK_MSG(train_run(&a, &o, &res, &err) == 0, "%s", err.msg);
    tiny_config(&b, dir, "two");
    b.sample_tokens = 0;
    b.lr = 1e-3;
    CHECK_MSG(train_run(&b, &o, &res, &err) == 0, "%s", err.msg);

    char r1[8400], r2[8400], out[8400];
    snprintf(r1, sizeof r1, "%s/runs/one", dir);
    snprintf(r2, sizeof r2, "%s/runs/two", dir);
    snprintf(out, sizeof out, "%s/report.html", dir);
    const char *runs[2] = {r1, r2};
    CHECK_MSG(train_report_write(runs, 2, out, &err) == 0, "%s", err.msg);
    size_t len;
    char *html = tiny_file(dir, "report.html", &len);
    CHECK(html != NULL);
    if (html) {
        CHECK_STR_CONTAINS(html, "<svg");
        CHECK_STR_CONTAINS(html, "loss vs step");
        CHECK_STR_CONTAINS(html, "loss vs tokens");
        CHECK_STR_CONTAINS(html, "learning rate");
        CHECK_STR_CONTAINS(html, "gradient norm");
        CHECK_STR_CONTAINS(html, "throughput");
        CHECK_STR_CONTAINS(html, "runs/two");
        /* 2 loss charts x (2 runs x (train + val)) + 4 charts x 2 runs */
        CHECK_EQ_INT(count(html, "<polyline"), 2 * 4 + 4 * 2);
        CHECK_EQ_INT(count(html, "<svg"), 6);
        CHECK(!strstr(html, "<script"));
    }
    free(html);
    /* a run directory without metrics is an error naming the file */
    const char *bad[1] = {dir};
    CHECK(train_report_write(bad, 1, out, &err) < 0);
    CHECK_STR_CONTAINS(err.msg, "metrics.jsonl");

    const char *bin = getenv("LMC_BIN");
    if (bin) {
        char cmd[20000];
        snprintf(cmd, sizeof cmd, "%s report %s %s -o %s/two.html 2>/dev/null", bin, r1, r2, dir);
        CHECK_EQ_INT(system(cmd), 0);
        /* config errors through the CLI: exit 1 and the key's name */
        snprintf(cmd, sizeof cmd, "%s/bad.yaml", dir);
        FILE *f = fopen(cmd, "w");
        fputs("model:\n  n_layer: 2\n  n_heads: 2\n", f);
        fclose(f);
        snprintf(cmd, sizeof cmd, "%s train %s/bad.yaml 2>&1", bin, dir);
        FILE *p = popen(cmd, "r");
        char msg[16384] = {0};
        size_t n = fread(msg, 1, sizeof msg - 1, p);
        (void)n;
        int st = pclose(p);
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 1);
        CHECK_STR_CONTAINS(msg, "model.n_heads");
        CHECK_STR_CONTAINS(msg, "bad.yaml:3:");
        snprintf(cmd, sizeof cmd, "%s train --print-config --set train.schedule=wsd --set train.lr=2e-4 2>&1", bin);
        p = popen(cmd, "r");
        memset(msg, 0, sizeof msg);
        n = fread(msg, 1, sizeof msg - 1, p);
        st = pclose(p);
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
        CHECK_STR_CONTAINS(msg, "schedule: wsd");
        CHECK_STR_CONTAINS(msg, "lr: 0.0002 ");
        snprintf(cmd, sizeof cmd, "%s train --print-config --set train.lr=fast >/dev/null 2>&1", bin);
        st = system(cmd);
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 1);
    }
    lmc_remove_tree(dir, &err);
    free(dir);
    return test_summary("train/report");
}
