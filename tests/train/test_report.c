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
    a.sample_tokens = 8;
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
        /* the data for the script: every metric key of metrics.jsonl, per run */
        CHECK_STR_CONTAINS(html, "<script type=\"application/json\" id=\"lmc-data\">{\"runs\":[{\"name\":\"one\"");
        static const char *const keys[] = {"\"loss\":{", "\"val_loss\":{", "\"lr\":{", "\"grad_norm\":{",
                                           "\"tokens_per_s\":{", "\"mfu\":{"};
        for (size_t k = 0; k < sizeof keys / sizeof *keys; k++) CHECK_EQ_INT(count(html, keys[k]), 2);
        CHECK_EQ_INT(count(html, "\"step\":[1,2,3,4,5,6,7,8,9,10,11,12]"), 2 * 5); /* 5 per-step series x 2 runs */
        CHECK_EQ_INT(count(html, "\"step\":[4,8,12]"), 2);                       /* val_loss at eval_every 4 */
        CHECK_STR_CONTAINS(html, "\"tokens\":[64,128,");                         /* 4 x 16 tokens a step */
        CHECK(!strstr(html, "\"elapsed_s\":{") && !strstr(html, "\"skipped\":{")); /* axes and flags are no charts */
        CHECK_EQ_INT(count(html, "<script"), 2);
        CHECK(!strstr(html, "http://") || strstr(html, "http://www.w3.org/2000/svg")); /* no network */
        CHECK(!strstr(html, "https://") && !strstr(html, "src=\""));
        /* config: run.name, run.sample_tokens and train.lr differ */
        CHECK_EQ_INT(count(html, "<tr class=\"diff\">"), 3);
        CHECK_STR_CONTAINS(html, "<tr class=\"diff\"><td>train.lr</td><td>0.003</td><td>0.001</td></tr>");
        /* final sample of run one only, checkpoints 10 and 12 of both (keep 2), the compute line */
        CHECK_EQ_INT(count(html, "<pre class=\"sample\">"), 1);
        CHECK_STR_CONTAINS(html, ", step 12 (samples.txt)");
        CHECK_EQ_INT(count(html, "checkpoints/step_000000"), 4);
        CHECK_EQ_INT(count(html, "<td>yes</td>"), 4);
        CHECK_EQ_INT(count(html, " threads, GEMMs "), 2);
        CHECK_STR_CONTAINS(html, "runs/two");
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
        /* --set's help says "(repeatable)" once (the generator adds it) */
        snprintf(cmd, sizeof cmd, "%s train --help 2>&1", bin);
        FILE *h = popen(cmd, "r");
        char help[16384] = {0};
        size_t hn = fread(help, 1, sizeof help - 1, h);
        (void)hn;
        pclose(h);
        CHECK_EQ_INT(count(help, "(repeatable)"), 1);
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
