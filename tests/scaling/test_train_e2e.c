/* The sweep loop with the real trainer: `lmc scaling plan` writes configs, `lmc train` runs each one
 * (tiny shapes, a synthetic token stream), `lmc scaling collect` reads the run directories that the
 * trainer wrote (its resolved config.yaml and metrics.jsonl), and `lmc scaling fit --approach 2`
 * accepts the result. Skips when the binary has no `train` command. */
#include <stdio.h>
#include <sys/wait.h>

#include "base/base.h"
#include "data/shard.h"
#include "scaling/scaling.h"
#include "test.h"

int main(void) {
    const char *bin = getenv("LMC_BIN");
    if (!bin) TEST_SKIP("LMC_BIN not set");
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "%s train --help > /dev/null 2>&1", bin);
    if (system(cmd) != 0) TEST_SKIP("this lmc has no train command");
    char *dir = test_tmpdir();
    lmc_err err = {0};

    /* A learnable token stream (a cycle plus noise), written as llm.c uint16 shards. */
    lmc_rng rng;
    lmc_rng_init(&rng, 3);
    size_t n = 60000;
    uint32_t *tok = malloc(n * sizeof *tok);
    for (size_t i = 0; i < n; i++) tok[i] = (uint32_t)((i * 7) % 64 + lmc_rng_below(&rng, 4));
    char *tr = lmc_path_join(dir, "train.bin"), *va = lmc_path_join(dir, "val.bin");
    lmc_shard_writer w;
    CHECK(lmc_shard_writer_open(&w, tr, 128, &err) == 0 && lmc_shard_writer_put(&w, tok, 50000, &err) == 0 &&
          lmc_shard_writer_commit(&w, &err) == 0);
    CHECK(lmc_shard_writer_open(&w, va, 128, &err) == 0 && lmc_shard_writer_put(&w, tok + 50000, 10000, &err) == 0 &&
          lmc_shard_writer_commit(&w, &err) == 0);
    free(tok);
    char *shapes = lmc_path_join(dir, "shapes.csv");
    const char *sh = "n_layer,n_head,d_model\n1,1,16\n1,2,32\n2,2,32\n2,2,48\n";
    CHECK(lmc_write_file_atomic(shapes, sh, strlen(sh), &err) == 0);

    snprintf(cmd, sizeof cmd,
             "cd %s && %s scaling plan --flops 4e8,8e8 --shapes shapes.csv --span 100 --batch-size 4 --seq-len 32 "
             "--vocab-size 128 --train train.bin --val val.bin --tokenizer '' --runs-dir runs -o sweep > plan.txt",
             dir, bin);
    CHECK_EQ_INT(system(cmd), 0);
    snprintf(cmd, sizeof cmd, "cd %s && for c in sweep/*.yaml; do %s train -q $c > /dev/null 2>> train_err.txt || exit 1; done",
             dir, bin);
    int st = system(cmd);
    CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 0, "lmc train failed on a planned config (see %s/train_err.txt)", dir);
    snprintf(cmd, sizeof cmd, "cd %s && %s scaling collect runs/* -o runs.csv > /dev/null", dir, bin);
    CHECK_EQ_INT(system(cmd), 0);
    char *csv = lmc_path_join(dir, "runs.csv");
    scaling_runs r;
    int rc = scaling_runs_load_csv(csv, 1, &r, &err);
    CHECK_MSG(rc == 0, "%s", err.msg);
    if (rc == 0) {
        CHECK_EQ_INT(r.n, 8); /* 4 shapes x 2 budgets */
        for (size_t i = 0; i < r.n; i++) {
            CHECK(r.loss[i] > 0 && r.loss[i] < 10);
            CHECK_CLOSE(fmod(r.tokens[i], 4 * 32), 0, 0, 0);
            CHECK(fabs(r.flops[i] / 4e8 - 1) < 0.1 || fabs(r.flops[i] / 8e8 - 1) < 0.1);
        }
        scaling_runs_free(&r);
    }
    snprintf(cmd, sizeof cmd, "%s scaling fit %s --approach 2 --budget-tol 0.1 > /dev/null 2>&1", bin, csv);
    st = system(cmd);
    /* Tiny runs need not have an interior optimum; the command must still end cleanly (0 or 1). */
    CHECK(WIFEXITED(st) && (WEXITSTATUS(st) == 0 || WEXITSTATUS(st) == 1));
    free(csv);
    free(tr);
    free(va);
    free(shapes);
    if (!lmc_test_failures) lmc_remove_tree(dir, &err);
    free(dir);
    return test_summary("scaling/train_e2e");
}
