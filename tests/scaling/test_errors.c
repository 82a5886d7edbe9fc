/* Degenerate runs files: each gives a clear error naming file:line (and column where it applies),
 * from the library and from `lmc scaling fit` (non-zero exit, message on stderr). */
#include <stdio.h>
#include <sys/wait.h>

#include "base/base.h"
#include "scaling/scaling.h"
#include "test.h"

static char *dir;

static char *write_tmp(const char *name, const char *text) {
    char *p = lmc_path_join(dir, name);
    lmc_err err;
    CHECK(lmc_write_file_atomic(p, text, strlen(text), &err) == 0);
    return p;
}

/* Load must fail with code `code` and a message containing "<path>:<where>" and `what`. */
static void expect_fail(const char *name, const char *text, int code, const char *where, const char *what) {
    char *p = write_tmp(name, text);
    scaling_runs r;
    lmc_err err = {0};
    int rc = scaling_runs_load_csv(p, 5, &r, &err);
    CHECK_MSG(rc == code, "%s: rc %d, expected %d (%s)", name, rc, code, err.msg);
    char pos[4300];
    snprintf(pos, sizeof pos, "%s:%s", p, where);
    CHECK_STR_CONTAINS(err.msg, pos);
    CHECK_STR_CONTAINS(err.msg, what);
    if (rc == 0) scaling_runs_free(&r);
    /* The CLI: exit status 1, the same message on stderr. */
    const char *bin = getenv("LMC_BIN");
    if (bin) {
        char cmd[9000], out[4300];
        snprintf(out, sizeof out, "%s/stderr.txt", dir);
        snprintf(cmd, sizeof cmd, "%s scaling fit '%s' > /dev/null 2> '%s'", bin, p, out);
        int st = system(cmd);
        CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 1, "%s: exit status %d", name, st);
        char *txt = NULL;
        size_t len;
        CHECK(lmc_read_file(out, &txt, &len, &err) == 0);
        CHECK_STR_CONTAINS(txt, pos);
        CHECK_STR_CONTAINS(txt, "lmc scaling fit");
        free(txt);
    }
    free(p);
}

static const char *good_rows =
    "1e8,2e9,3.1\n2e8,2e9,3.0\n4e8,4e9,2.8\n8e8,8e9,2.6\n1.6e9,1.6e10,2.45\n3.2e9,3.2e10,2.3\n";

int main(void) {
    dir = test_tmpdir();
    char buf[1024];

    /* A good file, with CRLF, comments, blank lines, quotes and an extra text column. */
    char *p = write_tmp("good.csv", "# runs\r\nparams,tokens,loss,run\r\n\r\n1e8,2e9,3.1,\"a,b\"\r\n"
                                    "2e8,2e9,3.0,x\n4e8,4e9,2.8,y\n8e8,8e9,2.6,z\n1.6e9,1.6e10,2.45,w\n");
    scaling_runs r;
    lmc_err err = {0};
    CHECK_MSG(scaling_runs_load_csv(p, 5, &r, &err) == 0, "%s", err.msg);
    CHECK_EQ_INT(r.n, 5);
    CHECK_EQ_INT(r.line[0], 4);
    CHECK_CLOSE(r.flops[1], 6 * 2e8 * 2e9, 0, 1e-15);
    scaling_runs_free(&r);
    free(p);
    /* flops only: tokens = flops / (6 params) */
    p = write_tmp("flops.csv", "params,flops,loss\n1e8,1.2e18,3.1\n2e8,2.4e18,3\n3e8,3e18,2.9\n4e8,5e18,2.8\n5e8,6e18,2.7\n");
    CHECK_MSG(scaling_runs_load_csv(p, 5, &r, &err) == 0, "%s", err.msg);
    CHECK_CLOSE(r.tokens[0], 1.2e18 / 6e8, 0, 1e-15);
    scaling_runs_free(&r);
    free(p);

    expect_fail("missing_loss.csv", "params,tokens\n1,2\n", LMC_EFORMAT, "1:", "no 'loss' column");
    expect_fail("missing_d.csv", "params,loss\n1,2\n", LMC_EFORMAT, "1:", "'tokens' or 'flops'");
    expect_fail("missing_params.csv", "N,tokens,loss\n1,2,3\n", LMC_EFORMAT, "1:", "no 'params' column");
    expect_fail("empty.csv", "", LMC_EFORMAT, "1:", "no header");
    snprintf(buf, sizeof buf, "params,tokens,loss\n%s", "1e8,2e9,3.1\n2e8,2e9,3.0\n4e8,4e9,2.8\n8e8,8e9,2.6\n");
    expect_fail("few.csv", buf, LMC_EINVAL, "5:", "only 4 runs");
    snprintf(buf, sizeof buf, "params,tokens,loss\n%s1e9,-5e9,2.5\n", good_rows);
    expect_fail("negative.csv", buf, LMC_EINVAL, "8:5:", "tokens: -5e9 is not positive");
    snprintf(buf, sizeof buf, "params,tokens,loss\n%s1e9,5e9,0\n", good_rows);
    expect_fail("zero.csv", buf, LMC_EINVAL, "8:", "loss: 0 is not positive");
    snprintf(buf, sizeof buf, "params,tokens,loss\n1e8,2e9,nan\n%s", good_rows);
    expect_fail("nan.csv", buf, LMC_ENUMERIC, "2:", "not finite");
    snprintf(buf, sizeof buf, "params,tokens,loss\n%s1e9,inf,2\n", good_rows);
    expect_fail("inf.csv", buf, LMC_ENUMERIC, "8:", "not finite");
    snprintf(buf, sizeof buf, "params,tokens,loss\n%s1e9,5e9\n", good_rows);
    expect_fail("ragged.csv", buf, LMC_EFORMAT, "8:", "row has 2 fields, the header has 3");
    snprintf(buf, sizeof buf, "params,tokens,loss\n%s1e9,5e9,2.5,7\n", good_rows);
    expect_fail("ragged2.csv", buf, LMC_EFORMAT, "8:", "row has 4 fields");
    snprintf(buf, sizeof buf, "params,tokens,loss\n%s1e9,5e9x,2.5\n", good_rows);
    expect_fail("garbage.csv", buf, LMC_EFORMAT, "8:5:", "expected a number, got '5e9x'");
    snprintf(buf, sizeof buf, "params,tokens,loss\n%s1e9,,2.5\n", good_rows);
    expect_fail("blank.csv", buf, LMC_EFORMAT, "8:5:", "expected a number");
    snprintf(buf, sizeof buf, "params,tokens,loss\n%s1e9,\"5e9,2.5\n", good_rows);
    expect_fail("quote.csv", buf, LMC_EFORMAT, "8:5:", "quote");
    expect_fail("dup.csv", "params,tokens,loss,loss\n", LMC_EFORMAT, "1:", "appears twice");

    /* A UTF-8 byte-order mark before the header is accepted (issue 11, D12). */
    snprintf(buf, sizeof buf, "\xEF\xBB\xBFparams,tokens,loss\r\n%s", good_rows);
    p = write_tmp("bom.csv", buf);
    CHECK_MSG(scaling_runs_load_csv(p, 5, &r, &err) == 0, "%s", err.msg);
    if (!lmc_test_failures) scaling_runs_free(&r);
    free(p);
    /* Five identical rows (or too few distinct N or D) cannot identify the law: a clear error, exit 1
     * (issue 11, D8: it used to "fit" beta = 2.48 with 0 tokens per parameter). */
    {
        const char *same = "params,tokens,loss\n1e8,2e9,3.1\n1e8,2e9,3.1\n1e8,2e9,3.1\n1e8,2e9,3.1\n1e8,2e9,3.1\n";
        const char *two_d = "params,tokens,loss\n1e8,2e9,3.1\n2e8,2e9,3.0\n4e8,2e9,2.9\n1e8,4e9,3.0\n2e8,4e9,2.9\n"
                            "4e8,4e9,2.8\n";
        const char *cases[2][2] = {{"same.csv", same}, {"two_d.csv", two_d}};
        for (int i = 0; i < 2; i++) {
            p = write_tmp(cases[i][0], cases[i][1]);
            CHECK_MSG(scaling_runs_load_csv(p, 5, &r, &err) == 0, "%s", err.msg);
            scaling_fit fit;
            scaling_fit_opts o;
            scaling_fit_opts_default(&o);
            CHECK(scaling_fit_grid(&r, &o, &fit, &err) == LMC_EINVAL);
            CHECK_STR_CONTAINS(err.msg, "distinct");
            scaling_runs_free(&r);
            const char *bin = getenv("LMC_BIN");
            if (bin) {
                char cmd[9000];
                snprintf(cmd, sizeof cmd, "%s scaling fit '%s' > /dev/null 2>&1", bin, p);
                int st = system(cmd);
                CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 1, "%s: exit status %d", cases[i][0], st);
            }
            free(p);
        }
    }

    /* A missing file: the OS error, exit 1. */
    CHECK(scaling_runs_load_csv("/nonexistent/runs.csv", 5, &r, &err) < 0);
    CHECK_STR_CONTAINS(err.msg, "/nonexistent/runs.csv");
    const char *bin = getenv("LMC_BIN");
    if (bin) {
        char cmd[4500];
        snprintf(cmd, sizeof cmd, "%s scaling fit /nonexistent/runs.csv 2>/dev/null", bin);
        int st = system(cmd);
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 1);
        /* usage errors exit 2 */
        snprintf(cmd, sizeof cmd, "%s scaling fit x.csv --huber-delta 0 2>/dev/null", bin);
        st = system(cmd);
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 2);
    }
    lmc_err e2;
    lmc_remove_tree(dir, &e2);
    free(dir);
    return test_summary("scaling/errors");
}
