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

/* Rewrite a galore optimizer.safetensors into the older layout (each projected view's low-rank m, v
 * in the first floats of a zero tensor of the view's full size, as lmc wrote before the moments got
 * their own allocation); the model file gives the views' shapes. */
static void galore_to_legacy(const char *ckdir) {
    char p[4300], mp[4300];
    snprintf(p, sizeof p, "%s/optimizer.safetensors", ckdir);
    snprintf(mp, sizeof mp, "%s/model.safetensors", ckdir);
    st_file f, mf;
    lmc_err err;
    CHECK_EQ_INT(st_open(&f, p, &err), 0);
    CHECK_EQ_INT(st_open(&mf, mp, &err), 0);
    st_out *outs = calloc(f.n_tensors, sizeof *outs);
    float **pad = calloc(f.n_tensors, sizeof *pad);
    int padded = 0;
    for (size_t i = 0; i < f.n_tensors; i++) {
        const st_tensor *t = &f.tensors[i];
        outs[i].name = t->name;
        outs[i].dtype = t->dtype;
        outs[i].ndim = t->ndim;
        for (int d = 0; d < t->ndim; d++) outs[i].shape[d] = t->shape[d];
        outs[i].data = t->data;
        char pn[200], wn[200];
        if ((t->name[0] != 'm' && t->name[0] != 'v') || t->name[1] != '.') continue;
        snprintf(pn, sizeof pn, "P.%s", t->name + 2);
        snprintf(wn, sizeof wn, "transformer.%s", t->name + 2);
        const st_tensor *w = st_find(&mf, wn);
        if (!st_find(&f, pn) || !w) continue;
        CHECK(w->numel > t->numel);
        pad[i] = calloc(w->numel, sizeof(float));
        memcpy(pad[i], t->data, t->numel * sizeof(float));
        outs[i].ndim = w->ndim;
        for (int d = 0; d < w->ndim; d++) outs[i].shape[d] = w->shape[d];
        outs[i].data = pad[i];
        padded++;
    }
    CHECK(padded >= 8); /* m and v of the 4 block matrices of each of the 2 layers */
    const char *meta[] = {"optimizer", st_meta(&f, "optimizer"), "adam_step", st_meta(&f, "adam_step"), NULL};
    CHECK_MSG(st_write(p, outs, f.n_tensors, meta, &err) == 0, "%s", err.msg);
    for (size_t i = 0; i < f.n_tensors; i++) free(pad[i]);
    free(pad);
    free(outs);
    st_close(&f);
    st_close(&mf);
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
        } else if (k == 5) { /* kl-shampoo: no second moment on the matrices, AdamW's v on the 1-D views */
            CHECK(st_find(&f, "m.h.0.attn.c_attn.weight") && !st_find(&f, "v.wte.weight") &&
                  !st_find(&f, "v.h.0.attn.c_attn.weight") && st_find(&f, "v.ln_f.weight"));
        } else {
            CHECK(st_find(&f, "m.h.0.attn.c_attn.weight") && st_find(&f, "v.wte.weight"));
        }
        if (k == 2) /* the eigenbases travel with the checkpoint */
            CHECK(st_find(&f, "QL.h.0.attn.c_attn.weight") && st_find(&f, "R.h.0.mlp.c_proj.weight"));
        if (k == 3) { /* the projectors too, and the moments at their real (rank-8) sizes */
            CHECK(st_find(&f, "P.h.0.attn.c_attn.weight") && st_find(&f, "P.h.0.mlp.c_proj.weight"));
            const st_tensor *gm = st_find(&f, "m.h.0.attn.c_attn.weight"), *gv = st_find(&f, "v.wte.weight");
            CHECK(gm && gm->numel == 8 * 96 && gv && gv->numel == 64 * 32);
        }
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
        if (k == 3) { /* a checkpoint of the older galore layout resumes to the same bits */
            train_config cc;
            setup(&cc, dir, "galore-legacy", "galore");
            CHECK_MSG(run(&cc, 0, 7, &res, &err) == 0, "%s", err.msg);
            snprintf(db, sizeof db, "%s/runs/galore-legacy/checkpoints/step_00000007", dir);
            galore_to_legacy(db);
            CHECK_MSG(run(&cc, 1, 0, &res, &err) == 0, "legacy galore checkpoint: %s", err.msg);
            snprintf(db, sizeof db, "%s/runs/galore-legacy/checkpoints/step_00000012", dir);
            same_files(da, db, "model.safetensors");
            same_files(da, db, "optimizer.safetensors");
        }
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
