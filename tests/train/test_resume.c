/* Exact resume: a run stopped with --stop-at (and one stopped by the signal flag) and resumed gives
 * bitwise the same losses, grad norms, val losses and final weights + optimizer state as an
 * uninterrupted run; incomplete checkpoints are never picked; old ones are rotated away. */
#include "test.h"
#include "tiny_run.h"
#include "train/checkpoint.h"
#include "train/train.h"

static volatile sig_atomic_t flag;

static void set_flag_at_3(void *ctx, int64_t step, gpt2_model *m, float *loss) {
    (void)ctx, (void)m, (void)loss;
    if (step == 3) flag = 1;
}

static int run(const train_config *c, int resume, int64_t stop_at, train_result *res, lmc_err *err) {
    train_opts o;
    memset(&o, 0, sizeof o);
    o.resume = resume;
    o.stop_at = stop_at;
    o.stop_flag = &flag;
    flag = 0;
    return train_run(c, &o, res, err);
}

static void same_files(const char *a, const char *b, const char *name) {
    size_t la = 0, lb = 0;
    char *x = tiny_file(a, name, &la), *y = tiny_file(b, name, &lb);
    CHECK_MSG(x && y && la == lb && !memcmp(x, y, la), "%s differs between %s and %s", name, a, b);
    free(x);
    free(y);
}

int main(void) {
    char *dir = test_tmpdir();
    lmc_err err;
    train_result res;
    train_config a, b, c;

    tiny_config(&a, dir, "a");
    CHECK_MSG(run(&a, 0, 0, &res, &err) == 0, "%s", err.msg);
    CHECK_EQ_INT(res.step, 12);
    CHECK(!res.stopped);
    CHECK(res.last_val_loss == res.last_val_loss);
    char *ma = tiny_metrics(&a);
    CHECK(ma && strstr(ma, "\"step\":12,"));
    CHECK(ma && strstr(ma, "val_loss"));

    /* rotation: checkpoints at 5, 10, 12 with keep 2 -> 10 and 12 */
    char p[8400];
    snprintf(p, sizeof p, "%s/runs/a/checkpoints/step_00000005", dir);
    CHECK(!lmc_is_dir(p));
    snprintf(p, sizeof p, "%s/runs/a/checkpoints/step_00000010/DONE", dir);
    CHECK(lmc_file_exists(p));
    /* the checkpoint is an HF folder */
    snprintf(p, sizeof p, "%s/runs/a/checkpoints/step_00000012/config.json", dir);
    CHECK(lmc_file_exists(p));
    /* a second run into the same directory without --resume is refused */
    CHECK(run(&a, 0, 0, &res, &err) < 0);
    CHECK_STR_CONTAINS(err.msg, "--resume");

    /* b: stop after step 7 (as on preemption), plant an incomplete newer checkpoint, resume. */
    tiny_config(&b, dir, "b");
    CHECK_MSG(run(&b, 0, 7, &res, &err) == 0, "%s", err.msg);
    CHECK_EQ_INT(res.step, 7);
    CHECK(res.stopped);
    snprintf(p, sizeof p, "%s/runs/b/checkpoints/step_00000009", dir);
    CHECK_EQ_INT(lmc_mkdirs(p, &err), 0); /* no DONE marker: must be ignored */
    char *latest = NULL;
    int64_t step = 0;
    snprintf(p, sizeof p, "%s/runs/b/checkpoints", dir);
    CHECK_EQ_INT(train_ckpt_latest(p, &latest, &step, &err), 0);
    CHECK_EQ_INT(step, 7);
    free(latest);
    /* --stop-at at or below the checkpoint: nothing to do, nothing written */
    CHECK_MSG(run(&b, 1, 5, &res, &err) == 0, "%s", err.msg);
    CHECK_EQ_INT(res.step, 7);
    CHECK(res.stopped);
    CHECK_MSG(run(&b, 1, 0, &res, &err) == 0, "%s", err.msg);
    CHECK_EQ_INT(res.step, 12);
    char *mb = tiny_metrics(&b);
    CHECK_MSG(ma && mb && !strcmp(ma, mb), "metrics differ:\n--- uninterrupted\n%s--- resumed\n%s", ma, mb);

    /* c: stopped by the signal flag after step 3, resumed with --stop-at 9, resumed again. */
    tiny_config(&c, dir, "c");
    train_opts o;
    memset(&o, 0, sizeof o);
    o.stop_flag = &flag;
    o.after_backward = set_flag_at_3;
    flag = 0;
    CHECK_MSG(train_run(&c, &o, &res, &err) == 0, "%s", err.msg);
    CHECK_EQ_INT(res.step, 3);
    CHECK(res.stopped);
    CHECK_MSG(run(&c, 1, 9, &res, &err) == 0, "%s", err.msg);
    CHECK_EQ_INT(res.step, 9);
    CHECK_MSG(run(&c, 1, 0, &res, &err) == 0, "%s", err.msg);
    CHECK_EQ_INT(res.step, 12);
    char *mc = tiny_metrics(&c);
    CHECK_MSG(ma && mc && !strcmp(ma, mc), "metrics differ:\n--- uninterrupted\n%s--- resumed twice\n%s", ma, mc);

    /* final weights and optimizer state, byte for byte */
    char da[4200], db[4200], dc[4200];
    snprintf(da, sizeof da, "%s/runs/a/checkpoints/step_00000012", dir);
    snprintf(db, sizeof db, "%s/runs/b/checkpoints/step_00000012", dir);
    snprintf(dc, sizeof dc, "%s/runs/c/checkpoints/step_00000012", dir);
    same_files(da, db, "model.safetensors");
    same_files(da, db, "optimizer.safetensors");
    same_files(da, dc, "model.safetensors");
    same_files(da, dc, "optimizer.safetensors");
    train_state sa, sb;
    snprintf(p, sizeof p, "%s/trainer_state.json", da);
    CHECK_EQ_INT(train_state_load(p, &sa, &err), 0);
    snprintf(p, sizeof p, "%s/trainer_state.json", db);
    CHECK_EQ_INT(train_state_load(p, &sb, &err), 0);
    CHECK_EQ_INT(sa.data_epoch, sb.data_epoch);
    CHECK_EQ_INT(sa.data_pos, sb.data_pos);
    CHECK_EQ_INT(sa.data_epoch, 1); /* 48 sequences from 37 per epoch: crossed the boundary */
    CHECK_EQ_INT(sa.adam_step, 12);
    CHECK(sa.sample_rng.counter == sb.sample_rng.counter && sa.sample_rng.used == sb.sample_rng.used);

    /* A branch from a's step-10 checkpoint (run.init_from) continues exactly like a itself. */
    train_config br;
    tiny_config(&br, dir, "branch");
    snprintf(br.init_from, sizeof br.init_from, "%s/runs/a/checkpoints/step_00000010", dir);
    CHECK_MSG(run(&br, 0, 0, &res, &err) == 0, "%s", err.msg);
    CHECK_EQ_INT(res.step, 12);
    char dbr[4200];
    snprintf(dbr, sizeof dbr, "%s/runs/branch/checkpoints/step_00000012", dir);
    same_files(da, dbr, "model.safetensors");
    char *mbr = tiny_metrics(&br);
    /* its metrics are steps 11 and 12 only, and exactly a's records for them */
    CHECK(mbr && strstr(mbr, "\"step\":11,") && !strstr(mbr, "\"step\":10,"));
    CHECK(mbr && ma && strstr(ma, mbr) != NULL);
    free(mbr);

    /* resuming a finished run is a no-op */
    CHECK_MSG(run(&b, 1, 0, &res, &err) == 0, "%s", err.msg);
    CHECK_EQ_INT(res.step, 12);
    free(ma);
    free(mb);
    free(mc);
    lmc_remove_tree(dir, &err);
    free(dir);
    return test_summary("train/resume");
}
