/* `lmc eval` end to end: the fixture model on the fixture shard must reproduce PyTorch's loss
 * (tests/model/fixtures/gpt2_tiny_eval.json) to fp32 precision, print exactly one JSON line, and
 * fail with a message (exit 1) on bad input; --precision bf16 lands near it. */
#include "test.h"
#include "base/json.h"
#include "kernels/cpu/kernels.h"

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

/* rel: the loss's relative tolerance against PyTorch's fp32 loss (ppl gets 10x: exp amplifies it). */
static double check_case_tol(const char *fix, const char *key, const char *extra, double rel) {
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
    if (!got || !ref) return NAN;
    json_t *r = json_object_get(ref, key);
    double gl, rl, gp, rp;
    int64_t gt, rt;
    CHECK(lmc_json_get_num(got, "loss", &gl, "out", &err) == 0 && lmc_json_get_num(r, "loss", &rl, "ref", &err) == 0);
    CHECK(lmc_json_get_num(got, "ppl", &gp, "out", &err) == 0 && lmc_json_get_num(r, "ppl", &rp, "ref", &err) == 0);
    CHECK(lmc_json_get_int(got, "tokens", &gt, "out", &err) == 0 && lmc_json_get_int(r, "tokens", &rt, "ref", &err) == 0);
    printf("%s: loss %.9f vs PyTorch %.9f (rel %.2g), tokens %lld\n", key, gl, rl, fabs(gl - rl) / rl, (long long)gt);
    CHECK_CLOSE(gl, rl, 0, rel);
    CHECK_CLOSE(gp, rp, 0, 10 * rel);
    CHECK_EQ_INT(gt, rt);
    json_decref(got);
    json_decref(ref);
    return gl;
}

static void check_case(const char *fix, const char *key, const char *extra) { check_case_tol(fix, key, extra, 1e-6); }

/* --precision bf16: the GEMM inputs rounded to bf16 (hardware, or LMC_BF16_EMULATE=1 where the CPU has
 * none), so the loss moves off PyTorch's fp32 value but stays close. Tolerance: each GEMM's output is off
 * by at most ~2u = 2^-7 of the sum of |terms| (tests/kernels/test_bf16.c derives it); these errors are
 * random in sign and partly cancel over the 2 layers and the mean over tokens, so 1e-2 of the loss is a
 * loose bound (measured: 1.4e-5, emulated on Zen 3). The JSON line names the precision. */
static void check_bf16(const char *fix) {
    int hw = lmc_precision_resolve(LMC_PREC_AUTO) == LMC_PREC_BF16;
    if (!hw) setenv("LMC_BF16_EMULATE", "1", 1);
    double l16 = check_case_tol(fix, "all", "--threads 2 --precision bf16", 1e-2);
    double l32 = check_case_tol(fix, "all", "--threads 2 --precision fp32", 1e-6);
    printf("bf16%s: loss %.9f, fp32 %.9f\n", hw ? "" : " (emulated)", l16, l32);
    CHECK(l16 != l32);   /* it really ran in bf16 */
    char args[9000], out[4096];
    int status = -1;
    snprintf(args, sizeof args, "--model %s/gpt2_tiny --data %s/gpt2_tiny_eval.bin --seq-len 32 --precision bf16", fix, fix);
    CHECK(run(args, out, sizeof out, &status) == 0);
    CHECK_STR_CONTAINS(out, "\"precision\": \"bf16\"");
    /* no bf16 hardware and no emulation: an error, exit 1 */
    unsetenv("LMC_BF16_EMULATE");
    setenv("LMC_CPU_DISABLE", "avx512_bf16,amx_bf16", 1);
    run(args, out, sizeof out, &status);
    CHECK_EQ_INT(status, 1);
    unsetenv("LMC_CPU_DISABLE");
}

int main(void) {
    if (!getenv("LMC_BIN")) TEST_SKIP("LMC_BIN not set");
    char fix[4096];
    snprintf(fix, sizeof fix, "%s/tests/model/fixtures", test_source_dir());
    check_case(fix, "all", "--threads 2");
    check_case(fix, "all", "--batch 3 --threads 1");   /* batching does not change the result */
    check_case(fix, "max200", "--max-tokens 200");
    check_bf16(fix);

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
