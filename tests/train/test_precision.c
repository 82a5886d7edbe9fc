/* train.precision end to end: auto resolves once and the resolved value is what config.yaml and
 * train.log say; bf16 training is deterministic (two runs give the same metrics, bit for bit) and lands
 * near fp32 (the tiny run's final val loss within 2%: bf16 rounding of 12 steps' GEMM inputs moves it
 * by ~0.1% here); bf16 asked for on a CPU without bf16 is an error naming the missing features, and
 * leaves no run folder behind. (Bitwise resume in each precision: train/test_resume and
 * train/test_resume_fp32.) */
#include "test.h"
#include "tiny_run.h"
#include "train/train.h"
#include "kernels/cpu/kernels.h"

static int run(const train_config *c, train_result *res, lmc_err *err) {
    train_opts o;
    memset(&o, 0, sizeof o);
    return train_run(c, &o, res, err);
}

static char *file_of(const train_config *c, const char *name) {
    char p[2048];
    snprintf(p, sizeof p, "%.1000s/%.1000s", c->run_dir, c->run_name);
    size_t n;
    return tiny_file(p, name, &n);
}

int main(void) {
    unsetenv("LMC_TEST_PRECISION");
    char *dir = test_tmpdir();
    lmc_err err;
    train_result res;
    train_config f, b1, b2, bad;
    int bf16 = lmc_precision_resolve(LMC_PREC_AUTO) == LMC_PREC_BF16;
    /* LMC_BF16_EMULATE=1 (ctest train/test_precision_bf16emu): the bf16 runs below are explicit bf16,
     * emulated, so determinism and closeness to fp32 are checked on a CPU without bf16 too */
    int emu = lmc_bf16_emulation_requested();

    tiny_config(&f, dir, "fp32");
    snprintf(f.precision, sizeof f.precision, "fp32");
    CHECK_MSG(run(&f, &res, &err) == 0, "%s", err.msg);
    double loss32 = res.last_val_loss;
    char *y = file_of(&f, "config.yaml");
    CHECK_STR_CONTAINS(y, "precision: fp32");
    free(y);

    tiny_config(&b1, dir, "auto");   /* the default: auto */
    CHECK(!strcmp(b1.precision, "auto"));
    if (emu) { snprintf(b1.precision, sizeof b1.precision, "bf16"); bf16 = 1; }
    CHECK_MSG(run(&b1, &res, &err) == 0, "%s", err.msg);
    double loss16 = res.last_val_loss;
    y = file_of(&b1, "config.yaml");
    CHECK_STR_CONTAINS(y, bf16 ? "precision: bf16" : "precision: fp32");
    free(y);
    char *log = file_of(&b1, "train.log");
    if (emu) {
        CHECK_STR_CONTAINS(log, "precision bf16");
        CHECK_STR_CONTAINS(log, "GEMMs bf16 emulated");
    } else {
        CHECK_STR_CONTAINS(log, bf16 ? "precision bf16 (auto)" : "precision fp32 (auto)");
        CHECK_STR_CONTAINS(log, "GEMMs ");
    }
    free(log);
    fprintf(stderr, "final val loss: fp32 %.6f, %s (%s%s) %.6f, relative difference %.2e\n", loss32,
            b1.precision, bf16 ? "bf16" : "fp32", emu ? ", emulated" : "", loss16, fabs(loss16 - loss32) / loss32);
    CHECK(fabs(loss16 - loss32) <= 0.02 * loss32);
    if (bf16) CHECK(loss16 != loss32);   /* the run really was in bf16 */

    tiny_config(&b2, dir, "auto2");
    if (emu) snprintf(b2.precision, sizeof b2.precision, "bf16");
    CHECK_MSG(run(&b2, &res, &err) == 0, "%s", err.msg);
    char *m1 = tiny_metrics(&b1), *m2 = tiny_metrics(&b2);
    /* the same records, losses printed with 17 digits, but for the wall-clock fields */
    CHECK(m1 && m2 && !strcmp(m1, m2));
    free(m1); free(m2);

    /* bf16 on a CPU without bf16 instructions (and no emulation): a clear error, no run folder left */
    unsetenv("LMC_BF16_EMULATE");
    setenv("LMC_CPU_DISABLE", "avx512_bf16,amx_bf16", 1);
    tiny_config(&bad, dir, "nobf16");
    snprintf(bad.precision, sizeof bad.precision, "bf16");
    CHECK(run(&bad, &res, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "train.precision");
    CHECK_STR_CONTAINS(err.msg, "AVX512_BF16");
    char p[4400];
    snprintf(p, sizeof p, "%s/nobf16", bad.run_dir);
    CHECK(!lmc_is_dir(p));
    unsetenv("LMC_CPU_DISABLE");

    lmc_remove_tree(dir, &err);
    free(dir);
    return test_summary("train/precision");
}
