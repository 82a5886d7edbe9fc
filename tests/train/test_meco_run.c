/* Loss masks and MeCo's cooldown in lmc train: with a masked data.train, metrics' tokens counts the unmasked
 * targets (checked against an independent count through the loader) and tokens_all every target; with
 * train.meco_cooldown_fraction 0.25 of 12 steps the last 3 steps (10..12) read the plain data.cooldown_train
 * (logged in train.log, "cooldown" in metrics, and every target counts again); runs stopped before the
 * switch, right at it and after it resume bitwise (metrics, final weights and optimizer state); bad
 * combinations are errors naming the key. */
#include "test.h"
#include "tiny_run.h"
#include "data/mask.h"
#include "train/checkpoint.h"
#include "train/loader.h"
#include "train/loader_mask.h"
#include "train/train.h"

static void write_mask(const char *path, size_t n, uint64_t seed) {
    lmc_rng r;
    lmc_rng_init(&r, seed);
    uint8_t *b = malloc(n);
    for (size_t i = 0; i < n; i++) b[i] = lmc_rng_below(&r, 10) >= 3; /* 30% masked */
    lmc_mask_writer w;
    lmc_err err;
    if (lmc_mask_writer_open(&w, path, &err) || lmc_mask_writer_put(&w, b, n, &err) || lmc_mask_writer_commit(&w, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        exit(1);
    }
    free(b);
}

static void meco_config(train_config *c, const char *dir, const char *name) {
    tiny_config(c, dir, name);
    snprintf(c->data_cooldown_train, sizeof c->data_cooldown_train, "%s/cool.bin", dir);
    c->meco_cooldown_fraction = 0.25;
}

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

/* The value of integer field `key` in the record of `step` (-1 when absent). */
static long long field(const char *metrics, int step, const char *key) {
    char pat[64], kp[64];
    snprintf(pat, sizeof pat, "{\"step\":%d,", step);
    snprintf(kp, sizeof kp, "\"%s\":", key);
    const char *r = strstr(metrics, pat);
    if (!r) return -1;
    const char *e = strchr(r, '\n'), *k = strstr(r, kp);
    if (!k || (e && k > e)) return -1;
    if (!strncmp(k + strlen(kp), "true", 4)) return 1;
    return atoll(k + strlen(kp));
}

int main(void) {
    char *dir = test_tmpdir();
    char p[4200];
    lmc_err err;
    train_result res;
    train_config a, b;
    tiny_config(&a, dir, "plain"); /* writes train.bin (600 tokens) and val.bin */
    snprintf(p, sizeof p, "%s/train.mask", dir);
    write_mask(p, 600, 5);
    snprintf(p, sizeof p, "%s/cool.bin", dir);
    tiny_shard(p, 400, 3);

    meco_config(&a, dir, "a");
    CHECK_MSG(run(&a, 0, 0, &res, &err) == 0, "%s", err.msg);
    CHECK_EQ_INT(res.step, 12);
    char *ma = tiny_metrics(&a);
    CHECK(ma != NULL);
    if (!ma) { free(dir); return test_summary("meco_run"); }
    /* step 1's unmasked targets, counted independently through the loader (same seed, same order) */
    train_loader l;
    snprintf(p, sizeof p, "%s/train.bin", dir);
    CHECK_EQ_INT(train_loader_open(&l, p, a.seq_len, (uint64_t)a.seed, 1, 64, LMC_SHARD_LLMC, &err), 0);
    CHECK_EQ_INT(train_loader_attach_masks(&l, TRAIN_MASK_AUTO, "data.train", &err), 0);
    int32_t in[4 * 16], tg[4 * 16];
    CHECK_EQ_INT(train_loader_next(&l, 4, in, tg, &err), 0);
    long long n1 = (long long)train_count_targets(tg, 64);
    train_loader_close(&l);
    CHECK(n1 < 64);
    CHECK_EQ_INT(field(ma, 1, "tokens"), n1);
    CHECK_EQ_INT(field(ma, 1, "tokens_all"), 64);
    CHECK_EQ_INT(field(ma, 9, "tokens_all"), 9 * 64);
    CHECK(field(ma, 9, "tokens") < 9 * 64 - 9 * 5);
    /* the switch: steps 10..12 on the plain pool, every target counts */
    CHECK_EQ_INT(field(ma, 9, "cooldown"), -1);
    CHECK_EQ_INT(field(ma, 10, "cooldown"), 1);
    CHECK_EQ_INT(field(ma, 12, "cooldown"), 1);
    CHECK_EQ_INT(field(ma, 10, "tokens") - field(ma, 9, "tokens"), 64);
    CHECK_EQ_INT(field(ma, 12, "tokens") - field(ma, 9, "tokens"), 3 * 64);
    size_t ll;
    snprintf(p, sizeof p, "%s/runs/a", dir);
    char *log = tiny_file(p, "train.log", &ll);
    CHECK(log && strstr(log, "step 10: MeCo cooldown: data switches to data.cooldown_train"));
    free(log);

    /* resume before the switch (7), right at it (the checkpoint of step 9 holds the cooldown loader's
     * position) and after it (11): bitwise the uninterrupted run */
    const int stops[] = {7, 9, 11};
    char da[4200];
    snprintf(da, sizeof da, "%s/runs/a/checkpoints/step_00000012", dir);
    for (int i = 0; i < 3; i++) {
        char name[32];
        snprintf(name, sizeof name, "stop%d", stops[i]);
        meco_config(&b, dir, name);
        CHECK_MSG(run(&b, 0, stops[i], &res, &err) == 0, "%s", err.msg);
        CHECK_EQ_INT(res.step, stops[i]);
        CHECK_MSG(run(&b, 1, 0, &res, &err) == 0, "%s", err.msg);
        CHECK_EQ_INT(res.step, 12);
        char *mb = tiny_metrics(&b);
        CHECK_MSG(mb && !strcmp(ma, mb), "metrics differ after a stop at %d:\n--- uninterrupted\n%s--- resumed\n%s",
                  stops[i], ma, mb ? mb : "");
        free(mb);
        char db[4200];
        snprintf(db, sizeof db, "%s/runs/%s/checkpoints/step_00000012", dir, name);
        same_files(da, db, "model.safetensors");
        same_files(da, db, "optimizer.safetensors");
    }

    /* the masked run differs from the same run with data.loss_mask: off (the mask is used) */
    meco_config(&b, dir, "off");
    snprintf(b.data_loss_mask, sizeof b.data_loss_mask, "off");
    CHECK_MSG(run(&b, 0, 0, &res, &err) == 0, "%s", err.msg);
    char *mo = tiny_metrics(&b);
    CHECK(mo && strcmp(ma, mo) && field(mo, 1, "tokens") == 64 && field(mo, 1, "tokens_all") == -1);
    free(mo);

    /* bad combinations */
    meco_config(&b, dir, "e1");
    b.data_cooldown_train[0] = 0;
    CHECK(run(&b, 0, 0, &res, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "data.cooldown_train");
    meco_config(&b, dir, "e2");
    snprintf(b.grad_accum, sizeof b.grad_accum, "tree");
    CHECK(run(&b, 0, 0, &res, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "data.loss_mask");
    CHECK_STR_CONTAINS(err.msg, "train.grad_accum inplace");
    meco_config(&b, dir, "e3");
    snprintf(b.data_loss_mask, sizeof b.data_loss_mask, "require");
    CHECK(run(&b, 0, 0, &res, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "data.val"); /* val.bin has no mask */
    free(ma);
    free(dir);
    return test_summary("meco_run");
}
