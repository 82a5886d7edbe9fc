/* Config parsing: defaults, overrides, and errors that name the key and the file:line. */
#include <string.h>
#include "test.h"
#include "base/base.h"
#include "train/config.h"

static int load(train_config *c, const char *yaml, lmc_err *err) {
    train_config_defaults(c);
    return train_config_load_buf(c, yaml, strlen(yaml), "cfg.yaml", err);
}

int main(void) {
    train_config c;
    lmc_err err;

    /* Defaults: every table default parses, and the documented ones hold. */
    train_config_defaults(&c);
    CHECK(!strcmp(c.run_dir, "runs"));
    CHECK_EQ_INT(c.seed, 1337);
    CHECK_EQ_INT(c.vocab_size, 0);
    CHECK(!strcmp(c.schedule, "cosine"));
    CHECK(!strcmp(c.arch, "gpt2"));
    CHECK_CLOSE(c.lr, 6e-4, 0, 0);

    /* A full file. */
    const char *good =
        "run: {name: tiny, seed: 7}\n"
        "data:\n  train: \"data/*.bin\"\n  tokenizer: tok.json\n"
        "model:\n  n_layer: 2\n  d_model: 32\n  n_head: 2\n"
        "train:\n  lr: 3e-4\n  schedule: wsd\n  decay_shape: linear\n  steps: 50\n  warmup_steps: 5\n";
    CHECK_EQ_INT(load(&c, good, &err), 0);
    CHECK(!strcmp(c.run_name, "tiny"));
    CHECK_EQ_INT(c.seed, 7);
    CHECK(!strcmp(c.data_train, "data/*.bin"));
    CHECK_EQ_INT(c.n_layer, 2);
    CHECK_CLOSE(c.lr, 3e-4, 0, 0);
    CHECK(!strcmp(c.schedule, "wsd"));
    CHECK_EQ_INT(train_config_validate(&c, 1, &err), 0);

    /* Unknown key: the message names the key and the line. */
    CHECK(load(&c, "train:\n  lr: 1e-3\n  lrr: 2\n", &err) < 0);
    CHECK_STR_CONTAINS(err.msg, "train.lrr");
    CHECK_STR_CONTAINS(err.msg, "cfg.yaml:3:");
    /* Unknown section. */
    CHECK(load(&c, "optim:\n  lr: 1\n", &err) < 0);
    CHECK_STR_CONTAINS(err.msg, "optim");
    /* Wrong types: the key's name (and position) in the message. */
    CHECK(load(&c, "train:\n  steps: many\n", &err) < 0);
    CHECK_STR_CONTAINS(err.msg, "train.steps");
    CHECK_STR_CONTAINS(err.msg, "cfg.yaml:2:");
    CHECK(load(&c, "train:\n  lr: \"3e-4\"\n", &err) < 0); /* quoted = a string, not a number */
    CHECK_STR_CONTAINS(err.msg, "train.lr");
    CHECK(load(&c, "model:\n  n_layer: 2.5\n", &err) < 0);
    CHECK_STR_CONTAINS(err.msg, "model.n_layer");
    CHECK(load(&c, "train:\n  schedule: linear\n", &err) < 0);
    CHECK_STR_CONTAINS(err.msg, "train.schedule");
    CHECK(load(&c, "data:\n  train: [a, b]\n", &err) < 0);
    CHECK_STR_CONTAINS(err.msg, "data.train");
    CHECK(load(&c, "train:\n  lr: -1\n", &err) < 0);
    CHECK_STR_CONTAINS(err.msg, "out of range");
    CHECK(load(&c, "train:\n  lr: .nan\n", &err) < 0);
    CHECK(load(&c, "train: [1]\n", &err) < 0);
    CHECK(load(&c, "- a\n- b\n", &err) < 0);
    CHECK(load(&c, "train:\n  lr: [\n", &err) < 0); /* YAML syntax error with a position */
    CHECK_STR_CONTAINS(err.msg, "cfg.yaml:");
    /* Empty documents and empty sections are fine. */
    CHECK_EQ_INT(load(&c, "", &err), 0);
    CHECK_EQ_INT(load(&c, "train:\n", &err), 0);

    /* --set overrides. */
    train_config_defaults(&c);
    CHECK_EQ_INT(train_config_set(&c, "train.lr=0.01", &err), 0);
    CHECK_CLOSE(c.lr, 0.01, 0, 0);
    CHECK_EQ_INT(train_config_set(&c, "run.name=abc", &err), 0);
    CHECK(!strcmp(c.run_name, "abc"));
    CHECK(train_config_set(&c, "train.nope=1", &err) < 0);
    CHECK_STR_CONTAINS(err.msg, "train.nope");
    CHECK(train_config_set(&c, "train.steps=1.5", &err) < 0);
    CHECK_STR_CONTAINS(err.msg, "train.steps");
    CHECK(train_config_set(&c, "lr", &err) < 0);

    /* Cross-key validation. */
    train_config_defaults(&c);
    c.batch_size = 10;
    c.micro_batch = 4;
    CHECK(train_config_validate(&c, 0, &err) < 0);
    CHECK_STR_CONTAINS(err.msg, "micro_batch");
    train_config_defaults(&c);
    CHECK(train_config_validate(&c, 1, &err) < 0); /* training needs data.train */
    CHECK_STR_CONTAINS(err.msg, "data.train");

    /* The resolved YAML reads back to the same config, for every key. */
    CHECK_EQ_INT(load(&c, good, &err), 0);
    strcpy(c.sample_prompt, "He said: \"hi\" # not a comment");
    c.min_lr_ratio = 0.1 + 0.2; /* needs 17 digits */
    lmc_buf y = {0};
    CHECK_EQ_INT(train_config_to_yaml(&c, &y, &err), 0);
    train_config back;
    train_config_defaults(&back);
    back.seed = 99;
    CHECK_EQ_INT(train_config_load_buf(&back, y.data, y.len, "resolved", &err), 0);
    CHECK_MSG(!memcmp(&c, &back, sizeof c), "round trip differs; yaml:\n%s", y.data);
    CHECK_STR_CONTAINS(y.data, "# peak learning rate");
    lmc_buf_free(&y);
    /* Duplicate keys and sections are errors naming file:line, not "last wins" (issue 11, D7). */
    CHECK(load(&c, "train:\n  lr: 0.001\n  steps: 10\n  lr: 0.002\n", &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "cfg.yaml:4:");
    CHECK_STR_CONTAINS(err.msg, "duplicate key 'train.lr' (first given at 2:3)");
    CHECK(load(&c, "train: {steps: 10}\nmodel: {n_layer: 2}\ntrain: {lr: 0.002}\n", &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "cfg.yaml:3:");
    CHECK_STR_CONTAINS(err.msg, "duplicate section 'train' (first given at 1:1)");
    CHECK(load(&c, "train: {steps: 10, steps: 10}\n", &err) != 0); /* even the same value */
    CHECK_STR_CONTAINS(err.msg, "cfg.yaml:1:20: duplicate key 'train.steps' (first given at 1:9)");
    CHECK_EQ_INT(load(&c, "train: {steps: 10}\nmodel: {steps_x: 1}\n", &err) != 0, 1); /* unknown still wins */
    CHECK_EQ_INT(load(&c, "run: {seed: 1}\ntrain: {steps: 10, lr: 0.1}\nmodel: {n_layer: 2}\n", &err), 0);
    /* Strings YAML would not read back plain (found by fuzz_train_config): a newline, a trailing ':',
     * a C1 control (U+0080), YAML's line breaks NEL/LS/PS and the non-character U+FFFF. */
    static const char *const odd[] = {"a\nb: c", "x:", "\xc2\x80" "002", "p\xc2\x85q\xe2\x80\xa8r\xe2\x80\xa9s", "z\xef\xbf\xbf"};
    for (size_t i = 0; i < sizeof odd / sizeof *odd; i++) {
        train_config_defaults(&c);
        strcpy(c.run_name, odd[i]);
        lmc_buf o = {0};
        CHECK_EQ_INT(train_config_to_yaml(&c, &o, &err), 0);
        train_config_defaults(&back);
        CHECK_MSG(train_config_load_buf(&back, o.data, o.len, "printed", &err) == 0, "string %zu: %s", i, err.msg);
        CHECK_MSG(!strcmp(back.run_name, odd[i]), "string %zu does not round-trip", i);
        lmc_buf_free(&o);
    }
    lmc_buf md = {0};
    CHECK_EQ_INT(train_config_keys_markdown(&md, &err), 0);
    CHECK_STR_CONTAINS(md.data, "`train.decay_fraction`");
    lmc_buf_free(&md);
    return test_summary("train/config");
}
