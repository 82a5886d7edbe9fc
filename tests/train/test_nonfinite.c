/* Non-finite handling: a NaN gradient or loss skips the update before the optimizer runs (the
 * weights do not move and stay finite), is logged, and max_nonfinite in a row stop the run with a
 * clear message while the last checkpoint stays loadable. Injected through the after_backward hook. */
#include "test.h"
#include "tiny_run.h"
#include "train/checkpoint.h"
#include "train/train.h"

typedef struct {
    int64_t from, to;   /* poison steps [from, to] */
    int loss_only;      /* poison the loss instead of a gradient */
    float *snapshot;    /* params at the start of the first poisoned step */
    size_t n;
    int unchanged;      /* params after the poisoned steps equal the snapshot */
} poison;

static void hook(void *ctx, int64_t step, gpt2_model *m, float *loss) {
    poison *p = ctx;
    if (step == p->from) {
        p->n = m->n_floats;
        p->snapshot = malloc(p->n * sizeof(float));
        memcpy(p->snapshot, m->params, p->n * sizeof(float));
    }
    if (step == p->to + 1 && p->snapshot) p->unchanged = !memcmp(p->snapshot, m->params, p->n * sizeof(float));
    if (step >= p->from && step <= p->to) {
        if (p->loss_only) *loss = NAN;
        else m->grads[m->views[3].offset + 1] = INFINITY;
    }
}

int main(void) {
    char *dir = test_tmpdir();
    lmc_err err;
    train_result res;
    train_config c;
    train_opts o;

    /* Two poisoned steps (3 and 4): skipped, weights untouched by them, the run completes. */
    tiny_config(&c, dir, "skip");
    poison p = {3, 4, 0, NULL, 0, 0};
    memset(&o, 0, sizeof o);
    o.after_backward = hook;
    o.hook_ctx = &p;
    CHECK_MSG(train_run(&c, &o, &res, &err) == 0, "%s", err.msg);
    CHECK_EQ_INT(res.step, 12);
    CHECK_EQ_INT(res.skipped, 2);
    CHECK(p.unchanged);
    CHECK(isfinite(res.last_loss));
    free(p.snapshot);
    char *m = tiny_metrics(&c);
    CHECK(m && strstr(m, "\"step\":3,"));
    char logp[8400];
    snprintf(logp, sizeof logp, "%s/runs/skip", dir);
    size_t len;
    char *log = tiny_file(logp, "train.log", &len);
    CHECK_STR_CONTAINS(log, "step 3: non-finite gradient norm");
    CHECK_STR_CONTAINS(log, "update skipped (2 in a row)");
    char *mj = tiny_file(logp, "metrics.jsonl", &len);
    CHECK_STR_CONTAINS(mj, "\"skipped\":true");
    free(m);
    free(log);
    free(mj);

    /* A NaN loss takes the same path. */
    tiny_config(&c, dir, "nanloss");
    poison q = {2, 2, 1, NULL, 0, 0};
    o.hook_ctx = &q;
    CHECK_MSG(train_run(&c, &o, &res, &err) == 0, "%s", err.msg);
    CHECK_EQ_INT(res.skipped, 1);
    CHECK(q.unchanged);
    free(q.snapshot);

    /* Five in a row from step 6: the run stops with a clear error; checkpoint 5 stays intact. */
    tiny_config(&c, dir, "diverge");
    poison r = {6, 100, 0, NULL, 0, 0};
    o.hook_ctx = &r;
    int rc = train_run(&c, &o, &res, &err);
    CHECK_EQ_INT(rc, LMC_ENUMERIC);
    CHECK_STR_CONTAINS(err.msg, "5 non-finite steps in a row");
    CHECK_STR_CONTAINS(err.msg, "step_00000005");
    CHECK_EQ_INT(res.step, 10);
    free(r.snapshot);
    char root[8400], *latest = NULL;
    int64_t step = 0;
    snprintf(root, sizeof root, "%s/runs/diverge/checkpoints", dir);
    CHECK_EQ_INT(train_ckpt_latest(root, &latest, &step, &err), 0);
    /* step 10 fell on checkpoint_every, but its updates were all skipped, so it is as good as 5 */
    CHECK(step == 5 || step == 10);
    gpt2_model *g = NULL;
    CHECK_MSG(latest && gpt2_load_hf(latest, &g, &err) == 0, "%s", err.msg); /* loader rejects non-finite */
    gpt2_free(g);
    free(latest);

    lmc_remove_tree(dir, &err);
    free(dir);
    return test_summary("train/nonfinite");
}
