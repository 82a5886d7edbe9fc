/* data.sources (src/train/mixture.c, mix_config.c, mix_update.c):
 *   - the sampler is a pure function of (seed, step, j, weights) and its per-source counts over many
 *     steps lie within 4 binomial standard deviations of the weights;
 *   - config errors name the source and the file:line:col; the list is written back to config.yaml;
 *   - a 3-source run stopped and resumed is bitwise the uninterrupted one (losses, weights, per-source
 *     metrics, final weights), statically and under each dynamic rule (doremi against a reference
 *     checkpoint, velocitune, chameleon);
 *   - per-source tokens add up to the run's tokens; epochs of a small source are counted and logged;
 *   - the one-rank data-parallel path (grad_accum tree, which skips other ranks' sequences) draws the
 *     same sources. */
#include <jansson.h>
#include <math.h>
#include "test.h"
#include "data/mask.h"
#include "tiny_run.h"
#include "train/checkpoint.h"
#include "train/config.h"
#include "train/mixture.h"
#include "train/train.h"

static int run(const train_config *c, int resume, int64_t stop_at, train_result *res, lmc_err *err) {
    train_opts o;
    memset(&o, 0, sizeof o);
    o.resume = resume;
    o.stop_at = stop_at;
    return train_run(c, &o, res, err);
}

/* metrics.jsonl without the wall-clock fields, one canonical line per record */
static char *metrics(const train_config *c) {
    char p[4200];
    snprintf(p, sizeof p, "%s/%s/metrics.jsonl", c->run_dir, c->run_name);
    char *data = NULL;
    size_t len;
    lmc_err err;
    if (lmc_read_file(p, &data, &len, &err)) return NULL;
    lmc_buf out = {0};
    for (char *line = data; *line;) {
        char *nl = strchr(line, '\n');
        size_t n = nl ? (size_t)(nl - line) : strlen(line);
        json_t *j = json_loadb(line, n, 0, NULL);
        if (j) {
            json_object_del(j, "tokens_per_s");
            json_object_del(j, "mfu");
            json_object_del(j, "elapsed_s");
            char *s = json_dumps(j, JSON_SORT_KEYS | JSON_REAL_PRECISION(17) | JSON_COMPACT);
            lmc_buf_printf(&out, &err, "%s\n", s);
            free(s);
            json_decref(j);
        }
        if (!nl) break;
        line = nl + 1;
    }
    free(data);
    return out.data;
}

/* The numeric value of `key` in the record of `step` (NAN when absent). */
static double metric(const char *all, int64_t step, const char *key) {
    double v = NAN;
    for (const char *line = all; line && *line;) {
        const char *nl = strchr(line, '\n');
        json_t *j = json_loadb(line, nl ? (size_t)(nl - line) : strlen(line), 0, NULL);
        json_t *s = j ? json_object_get(j, "step") : NULL;
        if (s && json_integer_value(s) == step && json_object_get(j, key)) v = json_number_value(json_object_get(j, key));
        json_decref(j);
        if (!nl) break;
        line = nl + 1;
    }
    return v;
}

static void mix_config(train_config *c, const char *dir, const char *name) {
    tiny_config(c, dir, name);
    memset(c->data_train, 0, sizeof c->data_train); /* configs compare with memcmp */
    memset(c->data_val, 0, sizeof c->data_val);
    static const char *const names[] = {"wiki", "poems", "code"};
    static const size_t sizes[] = {600, 300, 120}; /* 37, 18, 7 sequences: code wraps */
    static const double weights[] = {0.5, 0.3, 0.2};
    c->n_sources = 3;
    for (int i = 0; i < 3; i++) {
        struct train_source *s = &c->sources[i];
        memset(s, 0, sizeof *s);
        snprintf(s->name, sizeof s->name, "%s", names[i]);
        snprintf(s->train, sizeof s->train, "%s/%s_train.bin", dir, names[i]);
        snprintf(s->val, sizeof s->val, "%s/%s_val.bin", dir, names[i]);
        if (!lmc_file_exists(s->train)) tiny_shard(s->train, sizes[i], 10 + (uint64_t)i);
        if (!lmc_file_exists(s->val)) tiny_shard(s->val, 100, 20 + (uint64_t)i);
        s->weight = weights[i];
        s->target_loss = 2.0 + 0.5 * i;
        s->has_target = 1;
    }
}

static void same_weights(const char *a, const char *b) {
    size_t la = 0, lb = 0;
    char *x = tiny_file(a, "model.safetensors", &la), *y = tiny_file(b, "model.safetensors", &lb);
    CHECK_MSG(x && y && la == lb && !memcmp(x, y, la), "model.safetensors differs between %s and %s", a, b);
    free(x);
    free(y);
}

/* Run c uninterrupted (name) and stopped at `stop` + resumed (name_r); compare everything. */
static void resume_case(const char *dir, train_config *c, const char *name, int64_t stop) {
    lmc_err err;
    train_result res;
    train_config r = *c;
    snprintf(c->run_name, sizeof c->run_name, "%s", name);
    snprintf(r.run_name, sizeof r.run_name, "%s_r", name);
    CHECK_MSG(run(c, 0, 0, &res, &err) == 0, "%s: %s", name, err.msg);
    CHECK_EQ_INT(res.step, c->steps);
    CHECK_MSG(run(&r, 0, stop, &res, &err) == 0, "%s stop: %s", name, err.msg);
    CHECK_EQ_INT(res.step, stop);
    CHECK_MSG(run(&r, 1, 0, &res, &err) == 0, "%s resume: %s", name, err.msg);
    CHECK_EQ_INT(res.step, c->steps);
    char *ma = metrics(c), *mb = metrics(&r);
    CHECK_MSG(ma && mb && !strcmp(ma, mb), "%s: metrics differ after resume\n%s\n---\n%s", name, ma ? ma : "",
              mb ? mb : "");
    char pa[4400], pb[4400];
    snprintf(pa, sizeof pa, "%s/runs/%s/checkpoints/step_%08lld", dir, name, (long long)c->steps);
    snprintf(pb, sizeof pb, "%s/runs/%s_r/checkpoints/step_%08lld", dir, name, (long long)c->steps);
    same_weights(pa, pb);
    /* the per-source state is in the checkpoint and equal */
    size_t la = 0, lb = 0;
    char *sa = tiny_file(pa, "trainer_state.json", &la), *sb = tiny_file(pb, "trainer_state.json", &lb);
    CHECK(sa && strstr(sa, "\"mixture\""));
    json_t *ja = sa ? json_loadb(sa, la, 0, NULL) : NULL, *jb = sb ? json_loadb(sb, lb, 0, NULL) : NULL;
    CHECK(ja && jb && json_equal(json_object_get(ja, "mixture"), json_object_get(jb, "mixture")));
    json_decref(ja);
    json_decref(jb);
    free(sa);
    free(sb);
    free(ma);
    free(mb);
}

static void sampler_tests(void) {
    double w[3] = {0.5, 0.3, 0.2};
    /* pure: same inputs, same source; a different step gives a different plan */
    int diff = 0;
    for (uint64_t j = 0; j < 64; j++) {
        CHECK_EQ_INT(train_mix_source(7, 3, j, w, 3), train_mix_source(7, 3, j, w, 3));
        diff += train_mix_source(7, 3, j, w, 3) != train_mix_source(7, 4, j, w, 3);
        diff += train_mix_source(7, 3, j, w, 3) != train_mix_source(8, 3, j, w, 3);
    }
    CHECK(diff > 20);
    /* the weights need not be normalised */
    double w10[3] = {5, 3, 2};
    for (uint64_t j = 0; j < 64; j++) CHECK_EQ_INT(train_mix_source(7, 3, j, w, 3), train_mix_source(7, 3, j, w10, 3));
    /* counts within 4 sigma of the binomial; a source of weight ~0 is (almost) never drawn */
    int64_t n = 200000, cnt[3] = {0};
    for (int64_t s = 1; s <= n / 100; s++)
        for (uint64_t j = 0; j < 100; j++) cnt[train_mix_source(1337, s, j, w, 3)]++;
    for (int i = 0; i < 3; i++) {
        double mu = (double)n * w[i], sd = sqrt((double)n * w[i] * (1 - w[i]));
        CHECK_MSG(fabs((double)cnt[i] - mu) < 4 * sd, "source %d: %lld draws, expected %.0f +- %.0f", i,
                  (long long)cnt[i], mu, 4 * sd);
    }
    double skew[2] = {1e-12, 1};
    int64_t rare = 0;
    for (uint64_t j = 0; j < 10000; j++) rare += train_mix_source(3, 1, j, skew, 2) == 0;
    CHECK(rare <= 1);
}

static void config_error(const char *yaml, const char *want1, const char *want2) {
    train_config c;
    train_config_defaults(&c);
    lmc_err err;
    memset(&err, 0, sizeof err);
    int rc = train_config_load_buf(&c, yaml, strlen(yaml), "mix.yaml", &err);
    if (!rc) rc = train_config_validate(&c, 1, &err);
    CHECK_MSG(rc != 0, "accepted: %s", yaml);
    CHECK_STR_CONTAINS(err.msg, want1);
    if (want2) CHECK_STR_CONTAINS(err.msg, want2);
}

static void config_tests(const char *dir) {
    config_error("data:\n  sources:\n    - {name: a, train: x.bin, weight: 0}\n", "mix.yaml:3:", "'a': weight must be a positive");
    config_error("data:\n  sources:\n    - {name: a, train: x.bin, weight: -1}\n", "mix.yaml:3:", "'a': weight");
    config_error("data:\n  sources:\n    - {name: a, train: x.bin, weight: .inf}\n", "'a': weight", NULL);
    config_error("data:\n  sources:\n    - {name: a, train: x.bin, weight: nan}\n", "'a': weight", NULL);
    config_error("data:\n  sources:\n    - {name: a, train: x.bin, weight: 1}\n    - {name: a, train: y.bin, weight: 1}\n",
                 "mix.yaml:4:", "'a': duplicate name");
    config_error("data:\n  sources:\n    - {name: a, val: x.bin, weight: 1}\n", "mix.yaml:3:", "'a': missing train");
    config_error("data:\n  sources:\n    - {name: a, train: x.bin}\n", "'a': missing weight", NULL);
    config_error("data:\n  sources:\n    - {train: x.bin, weight: 1}\n", "has no name", NULL);
    config_error("data:\n  sources:\n    - {name: 'a b', train: x.bin, weight: 1}\n", "mix.yaml:3:", "name 'a b'");
    config_error("data:\n  sources:\n    - {name: a, train: x.bin, weight: 1, colour: red}\n", "'a': unknown field 'colour'", NULL);
    config_error("data:\n  train: t.bin\n  sources:\n    - {name: a, train: x.bin, weight: 1}\n", "mix.yaml:3:",
                 "data.sources and data.train are both set");
    config_error("data:\n  mixing: velocitune\n  sources:\n    - {name: a, train: x.bin, val: v.bin, weight: 1}\n",
                 "'a'", "target_loss");
    config_error("data:\n  mixing: velocitune\n  sources:\n    - {name: a, train: x.bin, val: v.bin, weight: 1, target_loss: 2}\n"
                 "train:\n  eval_batches: 0\n", "eval_batches", NULL);
    config_error("data:\n  mixing: doremi\n  sources:\n    - {name: a, train: x.bin, weight: 1}\n", "mixing_reference", NULL);
    config_error("data:\n  mixing: doremi\n", "needs data.sources", NULL);
    config_error("data:\n  mixing: chameleon\n  sources:\n    - {name: a, train: x.bin, weight: 1}\n", "at least 2", NULL);

    /* written back: config.yaml of a mixture re-loads to the same config */
    train_config c, d;
    mix_config(&c, dir, "cfg");
    c.sources[1].has_target = 0;
    c.sources[1].target_loss = 0;
    memset(c.sources[2].val, 0, sizeof c.sources[2].val);
    snprintf(c.mixing, sizeof c.mixing, "velocitune");
    lmc_buf y = {0};
    lmc_err err;
    CHECK_EQ_INT(train_config_to_yaml(&c, &y, &err), 0);
    CHECK(y.data && strstr(y.data, "  sources:"));
    train_config_defaults(&d);
    CHECK_MSG(train_config_load_buf(&d, y.data, y.len, "back.yaml", &err) == 0, "%s", err.msg);
    CHECK(!memcmp(&c, &d, sizeof c));
    lmc_buf_free(&y);

    /* a source whose shards hold no sequence: the error names it */
    train_config e;
    mix_config(&e, dir, "empty");
    snprintf(e.sources[1].train, sizeof e.sources[1].train, "%.900s/short.bin", dir);
    tiny_shard(e.sources[1].train, 10, 5);
    train_result res;
    CHECK(run(&e, 0, 0, &res, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "data.sources 'poems'");
    CHECK_STR_CONTAINS(err.msg, "seq_len+1");
}

int main(void) {
    char *dir = test_tmpdir();
    lmc_err err;
    train_result res;
    sampler_tests();
    config_tests(dir);

    /* static: tokens add up, the small source wraps (logged), bitwise resume */
    train_config c;
    mix_config(&c, dir, "static");
    resume_case(dir, &c, "static", 7);
    char *m = metrics(&c);
    double tot = 0;
    static const char *const names[] = {"wiki", "poems", "code"};
    for (int i = 0; i < 3; i++) {
        char key[64];
        snprintf(key, sizeof key, "mix/%s/tokens", names[i]);
        tot += metric(m, 12, key);
        snprintf(key, sizeof key, "val/%s/loss", names[i]);
        CHECK(isfinite(metric(m, 4, key)) && isnan(metric(m, 5, key)));
        snprintf(key, sizeof key, "mix/%s/weight", names[i]);
        CHECK(metric(m, 12, key) == c.sources[i].weight); /* 0.5 + 0.3 + 0.2 is 1 */
    }
    CHECK(tot == metric(m, 12, "tokens"));
    CHECK(metric(m, 12, "mix/code/epoch") >= 1); /* 7 sequences at ~20% of 48 draws: wrapped */
    CHECK(isfinite(metric(m, 12, "train/wiki/loss")));
    char *log = tiny_file(dir, "runs/static/train.log", &(size_t){0});
    CHECK(log && strstr(log, "source code starts epoch 1"));
    free(log);
    free(m);

    /* the one-rank data-parallel path draws the same stream (tokens per source, epochs) */
    train_config t = c;
    snprintf(t.run_name, sizeof t.run_name, "tree");
    snprintf(t.grad_accum, sizeof t.grad_accum, "tree");
    CHECK_MSG(run(&t, 0, 0, &res, &err) == 0, "%s", err.msg);
    char *ms = metrics(&c), *mt = metrics(&t);
    for (int i = 0; i < 3; i++) {
        char key[64];
        snprintf(key, sizeof key, "mix/%s/tokens", names[i]);
        for (int64_t s = 1; s <= 12; s++) CHECK(metric(ms, s, key) == metric(mt, s, key));
    }
    free(ms);
    free(mt);

    /* velocitune: weights move, resume is bitwise (l_init in the checkpoint) */
    train_config v;
    mix_config(&v, dir, "velo");
    snprintf(v.mixing, sizeof v.mixing, "velocitune");
    v.mixing_every = 3;
    resume_case(dir, &v, "velo", 7);
    m = metrics(&v);
    CHECK(isfinite(metric(m, 3, "mix/wiki/velocity")));
    CHECK(metric(m, 4, "mix/wiki/weight") != 0.5);
    free(m);

    /* doremi against the static run's final checkpoint as the reference */
    train_config d;
    mix_config(&d, dir, "doremi");
    snprintf(d.mixing, sizeof d.mixing, "doremi");
    snprintf(d.mixing_reference, sizeof d.mixing_reference, "%s/runs/static/checkpoints/step_00000012", dir);
    d.mixing_every = 2;
    resume_case(dir, &d, "doremi", 5);
    m = metrics(&d);
    CHECK(isfinite(metric(m, 2, "mix/wiki/avg_weight")));
    CHECK(metric(m, 3, "mix/wiki/weight") != 0.5);
    free(m);
    /* a reference with another vocabulary is refused, naming the key */
    train_config bad = d;
    snprintf(bad.run_name, sizeof bad.run_name, "doremi_bad");
    bad.vocab_size = 65;
    CHECK(run(&bad, 0, 0, &res, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "data.mixing_reference");
    CHECK_STR_CONTAINS(err.msg, "vocabulary");

    /* chameleon */
    train_config ch;
    mix_config(&ch, dir, "cham");
    snprintf(ch.mixing, sizeof ch.mixing, "chameleon");
    ch.mixing_every = 4;
    ch.chameleon_windows = 3;
    resume_case(dir, &ch, "cham", 6);
    m = metrics(&ch);
    CHECK(metric(m, 5, "mix/wiki/weight") != 0.5);
    free(m);

    /* without data.sources nothing of the mixture appears; its checkpoint (no "mixture" state, like every
     * checkpoint written before mixtures existed) starts a mixture branch with the configured weights */
    train_config plain;
    tiny_config(&plain, dir, "plain");
    CHECK_MSG(run(&plain, 0, 0, &res, &err) == 0, "%s", err.msg);
    m = metrics(&plain);
    CHECK(m && !strstr(m, "mix/") && !strstr(m, "/loss\""));
    free(m);
    char *st = tiny_file(dir, "runs/plain/checkpoints/step_00000012/trainer_state.json", &(size_t){0});
    CHECK(st && !strstr(st, "mixture"));
    free(st);
    train_config br;
    mix_config(&br, dir, "branch");
    br.steps = 16;
    snprintf(br.init_from, sizeof br.init_from, "%.900s/runs/plain/checkpoints/step_00000012", dir);
    CHECK_MSG(run(&br, 0, 0, &res, &err) == 0, "%s", err.msg);
    m = metrics(&br);
    CHECK(metric(m, 13, "mix/wiki/weight") == 0.5 && metric(m, 16, "mix/code/tokens") > 0 && isnan(metric(m, 12, "loss")));
    free(m);

    /* a resume whose data.sources renamed a source is refused */
    train_config rn = c;
    snprintf(rn.run_name, sizeof rn.run_name, "static_r");
    snprintf(rn.sources[2].name, sizeof rn.sources[2].name, "src");
    rn.steps = 14;
    CHECK(run(&rn, 1, 0, &res, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "'code'");

    /* data.packing applies to every source's stream (each gets its own window table and log line) */
    train_config pk;
    mix_config(&pk, dir, "packed");
    snprintf(pk.data_packing, sizeof pk.data_packing, "seamless");
    pk.doc_sep_id = 1;
    pk.steps = 3;
    CHECK_MSG(run(&pk, 0, 0, &res, &err) == 0, "%s", err.msg);
    log = tiny_file(dir, "runs/packed/train.log", &(size_t){0});
    for (int i = 0; i < 3; i++) {
        char want[64];
        snprintf(want, sizeof want, "%s: seamless packing:", names[i]);
        CHECK_MSG(log && strstr(log, want), "train.log lacks '%s'", want);
    }
    free(log);

    /* loss-mask sidecars in a source are refused by name, not ignored (last: the mask stays next to the shard) */
    {
        char mp[4200];
        snprintf(mp, sizeof mp, "%s/code_train.mask", dir);
        lmc_mask_writer mw;
        uint8_t bits[120];
        for (int i = 0; i < 120; i++) bits[i] = i % 2;
        CHECK(!lmc_mask_writer_open(&mw, mp, &err) && !lmc_mask_writer_put(&mw, bits, 120, &err) &&
              !lmc_mask_writer_commit(&mw, &err));
        train_config mk;
        mix_config(&mk, dir, "masked");
        CHECK(run(&mk, 0, 0, &res, &err) != 0);
        CHECK_STR_CONTAINS(err.msg, "data.sources[code].train");
        snprintf(mk.data_loss_mask, sizeof mk.data_loss_mask, "off");
        CHECK_MSG(run(&mk, 0, 0, &res, &err) == 0, "%s", err.msg);
    }

    lmc_err e2;
    lmc_remove_tree(dir, &e2);
    free(dir);
    return test_summary("test_mixture");
}
