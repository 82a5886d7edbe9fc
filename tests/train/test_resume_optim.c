/* Bitwise resume for every train.optimizer: a run stopped with --stop-at 7 and resumed gives exactly
 * the metrics, weights and optimizer state of the uninterrupted run. sf-adamw checkpoints hold the
 * evaluation point x in model.safetensors and the training point y in optimizer.safetensors; a
 * checkpoint of one optimizer is refused by a run configured with another. */
#include "test.h"
#include "tiny_run.h"
#include "interop/safetensors.h"
#include "train/checkpoint.h"
#include "train/train.h"

static int run(const train_config *c, int resume, int64_t stop_at, train_result *res, lmc_err *err) {
    train_opts o;
    memset(&o, 0, sizeof o);
    o.resume = resume;
    o.stop_at = stop_at;
    return train_run(c, &o, res, err);
}

static void same_files(const char *a, const char *b, const char *name) {
    size_t la = 0, lb = 0;
    char *x = tiny_file(a, name, &la), *y = tiny_file(b, name, &lb);
    CHECK_MSG(x && y && la == lb && !memcmp(x, y, la), "%s differs between %s and %s", name, a, b);
    free(x);
    free(y);
}

static void setup(train_config *c, const char *dir, const char *name, const char *opt) {
    tiny_config(c, dir, name);
    snprintf(c->optimizer, sizeof c->optimizer, "%s", opt);
    if (!strcmp(opt, "muon")) c->muon_lr = 0.01;
    /* C = 200 would clip c_t to 1 (x = y = z) for all 12 steps; C = 2 averages from step 1 */
    if (!strcmp(opt, "sf-adamw-refined")) c->sf_c = 2;
    /* refreshes before and after the stop */
    if (!strcmp(opt, "soap") || !strcmp(opt, "kl-shampoo") || !strcmp(opt, "kl-soap")) c->soap_precondition_frequency = 3;
    if (!strcmp(opt, "galore")) {
        c->galore_rank = 8;
        c->galore_update_proj_gap = 3;
    }
}

int main(void) {
    char *dir = test_tmpdir();
    lmc_err err;
    train_result res;
    const char *opts[] = {"sf-adamw", "muon", "soap", "galore", "sf-adamw-refined", "kl-shampoo", "kl-soap"};
    for (int k = 0; k < 7; k++) {
        train_config a, b;
        char na[64], nb[64];
        snprintf(na, sizeof na, "%s-a", opts[k]);
        snprintf(nb, sizeof nb, "%s-b", opts[k]);
        setup(&a, dir, na, opts[k]);
        setup(&b, dir, nb, opts[k]);
        CHECK_MSG(run(&a, 0, 0, &res, &err) == 0, "%s: %s", opts[k], err.msg);
        CHECK_EQ_INT(res.step, 12);
        CHECK(res.last_val_loss == res.last_val_loss && res.last_val_loss < 4.2); /* learned something */
        CHECK_MSG(run(&b, 0, 7, &res, &err) == 0, "%s: %s", opts[k], err.msg);
        CHECK_EQ_INT(res.step, 7);
        CHECK_MSG(run(&b, 1, 0, &res, &err) == 0, "%s: %s", opts[k], err.msg);
        CHECK_EQ_INT(res.step, 12);
        char *ma = tiny_metrics(&a), *mb = tiny_metrics(&b);
        CHECK_MSG(ma && mb && !strcmp(ma, mb), "%s metrics differ:\n--- uninterrupted\n%s--- resumed\n%s", opts[k], ma,
                  mb);
        char da[4200], db[4200];
        snprintf(da, sizeof da, "%s/runs/%s/checkpoints/step_00000012", dir, na);
        snprintf(db, sizeof db, "%s/runs/%s/checkpoints/step_00000012", dir, nb);
        same_files(da, db, "model.safetensors");
        same_files(da, db, "optimizer.safetensors");
        char p[4300];
        snprintf(p, sizeof p, "%s/optimizer.safetensors", da);
        st_file f;
        CHECK_EQ_INT(st_open(&f, p, &err), 0);
        CHECK(st_meta(&f, "optimizer") && !strcmp(st_meta(&f, "optimizer"), opts[k]));
        if (k == 0 || k == 4) {
            /* model.safetensors is x, optimizer.safetensors' y differs from it */
            st_file mf;
            snprintf(p, sizeof p, "%s/model.safetensors", da);
            CHECK_EQ_INT(st_open(&mf, p, &err), 0);
            const st_tensor *x = st_find(&mf, "transformer.h.0.attn.c_attn.weight"), *y = st_find(&f, "y.h.0.attn.c_attn.weight");
            const st_tensor *z = st_find(&f, "z.h.0.attn.c_attn.weight");
            CHECK(x && y && z && x->numel == y->numel && memcmp(x->data, y->data, x->numel * 4) != 0);
            CHECK(st_meta(&f, "sf_weight_sum") && st_meta(&f, "sf_lr_max"));
            st_close(&mf);
        } else {
            CHECK(st_find(&f, "m.h.0.attn.c_attn.weight") && st_find(&f, "v.wte.weight"));
        }
        if (k == 2) /* the eigenbases travel with the checkpoint */
            CHECK(st_find(&f, "QL.h.0.attn.c_attn.weight") && st_find(&f, "R.h.0.mlp.c_proj.weight"));
        if (k == 3) /* the projectors too */
            CHECK(st_find(&f, "P.h.0.attn.c_attn.weight") && st_find(&f, "P.h.0.mlp.c_proj.weight"));
        if (k >= 5) /* the KL factors, eigenbases and eigenvalues */
            CHECK(st_find(&f, "KL_SA.h.0.attn.c_attn.weight") && st_find(&f, "KL_QB.h.0.mlp.c_proj.weight") &&
                  st_find(&f, "KL_rsqrt_lambda_a.wte.weight"));
        st_close(&f);
        /* a branch of this checkpoint into an adamw run is refused, naming both optimizers */
        train_config br;
        char bn[32];
        snprintf(bn, sizeof bn, "br-%s", opts[k]);
        tiny_config(&br, dir, bn);
        snprintf(br.init_from, sizeof br.init_from, "%s/runs/%s/checkpoints/step_00000010", dir, na);
        CHECK(run(&br, 0, 0, &res, &err) != 0);
        CHECK_STR_CONTAINS(err.msg, opts[k]);
        CHECK_STR_CONTAINS(err.msg, "adamw");
        if (k == 6) { /* kl-soap shares soap's keys, not its checkpoints */
            snprintf(bn, sizeof bn, "br2-%s", opts[k]);
            setup(&br, dir, bn, "soap");
            snprintf(br.init_from, sizeof br.init_from, "%s/runs/%s/checkpoints/step_00000010", dir, na);
            CHECK(run(&br, 0, 0, &res, &err) != 0);
            CHECK_STR_CONTAINS(err.msg, "kl-soap");
            CHECK_STR_CONTAINS(err.msg, "is soap");
        }
        free(ma);
        free(mb);
    }
    /* sf-adamw and adamw really differ (the optimizer key is not ignored) */
    train_config x;
    tiny_config(&x, dir, "adamw");
    CHECK_MSG(run(&x, 0, 0, &res, &err) == 0, "%s", err.msg);
    char *m0 = tiny_metrics(&x);
    setup(&x, dir, "sf-adamw-a", "sf-adamw");
    char *m1 = tiny_metrics(&x);
    CHECK(m0 && m1 && strcmp(m0, m1));
    free(m0);
    free(m1);
    lmc_remove_tree(dir, &err);
    free(dir);
    return test_summary("train/resume_optim");
}
