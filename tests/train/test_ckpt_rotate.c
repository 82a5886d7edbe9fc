/* Checkpoint rotation after a kill: a step_N folder whose DONE was unlinked but which was not yet
 * removed (a kill inside rotation) must not stay forever; resume never picks it; complete ones are
 * kept newest-first and the newest is never touched. */
#include "base/base.h"
#include "test.h"
#include "train/checkpoint.h"

static void make_ckpt(const char *root, const char *name, int done) {
    char p[4400];
    lmc_err err;
    snprintf(p, sizeof p, "%s/%s", root, name);
    CHECK(lmc_mkdirs(p, &err) == 0);
    snprintf(p, sizeof p, "%s/%s/model.safetensors", root, name);
    CHECK(lmc_write_file_atomic(p, "weights", 7, &err) == 0);
    if (done) {
        snprintf(p, sizeof p, "%s/%s/DONE", root, name);
        CHECK(lmc_write_file_atomic(p, "1\n", 2, &err) == 0);
    }
}

static int exists(const char *root, const char *name) {
    char p[4400];
    snprintf(p, sizeof p, "%s/%s", root, name);
    return lmc_is_dir(p);
}

int main(void) {
    char *root = test_tmpdir();
    lmc_err err = {0};
    make_ckpt(root, "step_00000005", 0);  /* the orphan: killed after unlink(DONE) */
    make_ckpt(root, "step_00000010", 1);
    make_ckpt(root, "step_00000015", 1);
    make_ckpt(root, "step_00000020", 1);
    make_ckpt(root, "step_00000025", 0);  /* a re-save killed between un-marking and removal */
    make_ckpt(root, ".tmp_step_00000030", 0);

    char *latest = NULL;
    int64_t step = 0;
    CHECK(train_ckpt_latest(root, &latest, &step, &err) == 0);
    CHECK_EQ_INT(step, 20); /* incomplete folders are never resumed from */
    free(latest);

    CHECK_MSG(train_ckpt_rotate(root, 2, &err) == 0, "%s", err.msg);
    CHECK(!exists(root, "step_00000005"));
    CHECK(!exists(root, "step_00000010"));
    CHECK(exists(root, "step_00000015"));
    CHECK(exists(root, "step_00000020"));
    CHECK(!exists(root, "step_00000025"));
    CHECK(!exists(root, ".tmp_step_00000030"));
    /* a second rotation is a no-op */
    CHECK(train_ckpt_rotate(root, 2, &err) == 0);
    CHECK(exists(root, "step_00000015") && exists(root, "step_00000020"));
    /* keep 1: only the newest complete one is left */
    CHECK(train_ckpt_rotate(root, 1, &err) == 0);
    CHECK(!exists(root, "step_00000015") && exists(root, "step_00000020"));

    lmc_remove_tree(root, &err);
    free(root);
    return test_summary("train/ckpt_rotate");
}
