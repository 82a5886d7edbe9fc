/* `lmc eval` end to end: the fixture model on the fixture shard must reproduce PyTorch's loss
 * (tests/model/fixtures/gpt2_tiny_eval.json) to fp32 precision, print exactly one JSON line, and
 * fail with a message (exit 1) on bad input. */
#include "test.h"
#include "base/json.h"

static int run(const char *args, char *out, size_t cap, int *status) {
    const char *bin = getenv("LMC_BIN");
    char cmd[10000];
    snprintf(cmd, sizeof cmd, "%s eval %s 2>/dev/null", bin, args);
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    size_t n = fread(out, 1, cap - 1, p);
    out[n] = 0;
    int st = pclose(p);
    *status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    return 0;
}

static void check_case(const char *fix, const char *key, const char *extra) {
    char args[9000], out[4096];
    snprintf(args, sizeof args, "--model %s/gpt2_tiny --data %s/gpt2_tiny_eval.bin --seq-len 32 %s", fix, fix, extra);
    int status = -1;
    CHECK(run(args, out, sizeof out, &status) == 0);
    CHECK_EQ_INT(status, 0);
    /* exactly one line */
    char *nl = strchr(out, '\n');
    CHECK(nl && nl[1] == 0);
    lmc_err err;
    json_t *got = lmc_json_loadb(out, strlen(out), "stdout", &err);
    char jp[4200];
    snprintf(jp, sizeof jp, "%s/gpt2_tiny_eval.json", fix);
    json_t *ref = lmc_json_load_file(jp, &err);
    CHECK(got && ref);
    if (!got || !ref) return;
    json_t *r = json_object_get(ref, key);
    double gl, rl, gp, rp;
    int64_t gt, rt;
    CHECK(lmc_json_get_num(got, "loss", &gl, "out", &err) == 0 && lmc_json_get_num(r, "loss", &rl, "ref", &err) == 0);
    CHECK(lmc_json_get_num(got, "ppl", &gp, "out", &err) == 0 && lmc_json_get_num(r, "ppl", &rp, "ref", &err) == 0);
    CHECK(lmc_json_get_int(got, "tokens", &gt, "out", &err) == 0 && lmc_json_get_int(r, "tokens", &rt, "ref", &err) == 0);
    printf("%s: loss %.9f vs PyTorch %.9f (rel %.2g), tokens %lld\n", key, gl, rl, fabs(gl - rl) / rl, (long long)gt);
    CHECK_CLOSE(gl, rl, 0, 1e-6);
    CHECK_CLOSE(gp, rp, 0, 1e-5);
    CHECK_EQ_INT(gt, rt);
    json_decref(got);
    json_decref(ref);
}

int main(void) {
    if (!getenv("LMC_BIN")) TEST_SKIP("LMC_BIN not set");
    char fix[4096];
    snprintf(fix, sizeof fix, "%s/tests/model/fixtures", test_source_dir());
    check_case(fix, "all", "--threads 2");
    check_case(fix, "all", "--batch 3 --threads 1");   /* batching does not change the result */
    check_case(fix, "max200", "--max-tokens 200");

    char args[9000], out[4096];
    int status = 0;
    snprintf(args, sizeof args, "--model %s/gpt2_tiny --data %s/gpt2_tiny_eval.bin --seq-len 65", fix, fix);
    run(args, out, sizeof out, &status);
    CHECK_EQ_INT(status, 1);   /* longer than n_positions */
    snprintf(args, sizeof args, "--model %s/gpt2_tiny --data %s/gpt2_tiny_eval.bin --seq-len 65 --extrapolate", fix, fix);
    run(args, out, sizeof out, &status);
    CHECK_EQ_INT(status, 1);   /* learned positions cannot extrapolate */
    /* --diag: the loss line unchanged, then one {"diag": ...} line with a record per layer */
    snprintf(args, sizeof args, "--model %s/gpt2_tiny --data %s/gpt2_tiny_eval.bin --seq-len 32 --diag --diag-windows 2",
             fix, fix);
    CHECK(run(args, out, sizeof out, &status) == 0);
    CHECK_EQ_INT(status, 0);
    char *l2 = strchr(out, '\n');
    CHECK(l2 && strncmp(out, "{\"loss\"", 7) == 0);
    if (l2) {
        lmc_err e2;
        json_t *dj = lmc_json_loadb(l2 + 1, strlen(l2 + 1), "diag line", &e2);
        json_t *dd = dj ? json_object_get(dj, "diag") : NULL;
        CHECK(dd && !strcmp(json_string_value(json_object_get(dd, "position")), "learned"));
        CHECK(dd && json_array_size(json_object_get(dd, "layers")) > 0);
        CHECK(dd && json_object_get(dd, "layer0_terms") != NULL);
        json_decref(dj);
    }
    snprintf(args, sizeof args, "--model %s/nope --data %s/gpt2_tiny_eval.bin --seq-len 8", fix, fix);
    run(args, out, sizeof out, &status);
    CHECK_EQ_INT(status, 1);
    snprintf(args, sizeof args, "--model %s/gpt2_tiny --data %s/gpt2_tiny_eval.json --seq-len 8", fix, fix);
    run(args, out, sizeof out, &status);
    CHECK_EQ_INT(status, 1);   /* not a shard (odd size) or tokens out of range */
    snprintf(args, sizeof args, "--model %s/gpt2_tiny --seq-len 8", fix);
    run(args, out, sizeof out, &status);
    CHECK_EQ_INT(status, 2);   /* usage error */
    return test_summary("eval_cli");
}
