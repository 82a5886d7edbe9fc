/* JSON and YAML loading: positions in errors, YAML scalar typing, typed getters. */
#include "base/base.h"
#include "test.h"

int main(void) {
    lmc_err err = {0};
    /* malformed JSON: the message has name:line:col */
    const char *bad = "{\n  \"a\": 1,\n  \"b\": [1, 2,,]\n}";
    CHECK(lmc_json_loadb(bad, strlen(bad), "cfg.json", &err) == NULL);
    CHECK_STR_CONTAINS(err.msg, "cfg.json:3:");
    CHECK(err.code == LMC_EFORMAT);
    /* duplicate keys are rejected */
    const char *dup = "{\"a\": 1, \"a\": 2}";
    CHECK(lmc_json_loadb(dup, strlen(dup), "dup.json", &err) == NULL);
    CHECK_STR_CONTAINS(err.msg, "dup.json:1:");

    /* a file that does not exist */
    CHECK(lmc_json_load_file("/nonexistent/x.json", &err) == NULL);
    CHECK_STR_CONTAINS(err.msg, "/nonexistent/x.json");

    /* malformed YAML: line and column */
    const char *ybad = "run:\n  name: x\n  dir: [a, b\nmodel: {}\n";
    CHECK(lmc_yaml_loadb(ybad, strlen(ybad), "run.yaml", &err) == NULL);
    CHECK_STR_CONTAINS(err.msg, "run.yaml:");
    CHECK_STR_CONTAINS(err.msg, "invalid YAML");
    const char *ybad2 = "a: 1\n  b: 2\n";
    CHECK(lmc_yaml_loadb(ybad2, strlen(ybad2), "t.yaml", &err) == NULL);
    CHECK_STR_CONTAINS(err.msg, "t.yaml:2:");
    const char *ydup = "a: 1\na: 2\n";
    CHECK(lmc_yaml_loadb(ydup, strlen(ydup), "d.yaml", &err) == NULL);
    CHECK_STR_CONTAINS(err.msg, "d.yaml:2:1: duplicate key 'a' (first given at 1:1)");
    const char *ydup2 = "steps:\n  - {name: a, lr: 1, lr: 2}\n";
    CHECK(lmc_yaml_loadb(ydup2, strlen(ydup2), "p.yaml", &err) == NULL);
    CHECK_STR_CONTAINS(err.msg, "p.yaml:2:22: duplicate key 'lr' (first given at 2:15)");
    /* .inf has no JSON value: an error with the position, not NULL with an empty message */
    const char *yinf = "train:\n  lr: .inf\n";
    err.msg[0] = 0;
    CHECK(lmc_yaml_loadb(yinf, strlen(yinf), "i.yaml", &err) == NULL);
    CHECK_STR_CONTAINS(err.msg, "i.yaml:2:7");
    CHECK_STR_CONTAINS(err.msg, "infinite");

    /* YAML typing (core schema) */
    const char *y = "i: 42\nneg: -7\nf: 3.0e-4\nt: true\nn: null\ns: hello\nq: \"42\"\nhex: 0x10\n"
                    "list: [1, two]\nnested: {k: v}\nempty:\n";
    json_t *j = lmc_yaml_loadb(y, strlen(y), "ok.yaml", &err);
    CHECK_MSG(j != NULL, "%s", err.msg);
    if (j) {
        int64_t i;
        double f;
        int b;
        const char *s;
        CHECK(lmc_json_get_int(j, "i", &i, "ok.yaml", &err) == 0 && i == 42);
        CHECK(lmc_json_get_int(j, "neg", &i, "ok.yaml", &err) == 0 && i == -7);
        CHECK(lmc_json_get_int(j, "hex", &i, "ok.yaml", &err) == 0 && i == 16);
        CHECK(lmc_json_get_num(j, "f", &f, "ok.yaml", &err) == 0 && f == 3.0e-4);
        CHECK(lmc_json_get_num(j, "i", &f, "ok.yaml", &err) == 0 && f == 42.0);
        CHECK(lmc_json_get_bool(j, "t", &b, "ok.yaml", &err) == 0 && b == 1);
        CHECK(json_is_null(json_object_get(j, "n")) && json_is_null(json_object_get(j, "empty")));
        CHECK(lmc_json_get_str(j, "s", &s, "ok.yaml", &err) == 0 && !strcmp(s, "hello"));
        CHECK(lmc_json_get_str(j, "q", &s, "ok.yaml", &err) == 0 && !strcmp(s, "42"));
        CHECK(json_array_size(json_object_get(j, "list")) == 2);
        /* wrong types name the key and the expected type */
        CHECK(lmc_json_get_int(j, "s", &i, "ok.yaml", &err) == LMC_EFORMAT);
        CHECK_STR_CONTAINS(err.msg, "key 's' must be an integer, got a string");
        CHECK(lmc_json_get_str(j, "i", &s, "ok.yaml", &err) == LMC_EFORMAT);
        CHECK_STR_CONTAINS(err.msg, "'i' must be a string");
        CHECK(lmc_json_get_int(j, "f", &i, "ok.yaml", &err) == LMC_EFORMAT);
        CHECK(lmc_json_get_int(j, "absent", &i, "ok.yaml", &err) == LMC_ENOTFOUND);
        CHECK_STR_CONTAINS(err.msg, "missing key 'absent'");
        json_decref(j);
    }
    /* an empty YAML file is an empty mapping */
    j = lmc_yaml_loadb("", 0, "e.yaml", &err);
    CHECK(j && json_is_object(j) && json_object_size(j) == 0);
    json_decref(j);

    /* save + reload round trip */
    char *dir = test_tmpdir();
    char *p = lmc_path_join(dir, "o.json");
    j = json_pack("{s:i, s:f, s:s}", "a", 1, "b", 0.1, "c", "x");
    CHECK(lmc_json_save_file(j, p, &err) == 0);
    json_t *k = lmc_json_load_file(p, &err);
    CHECK(k && json_equal(j, k));
    json_decref(j);
    json_decref(k);
    lmc_remove_tree(dir, NULL);
    free(p);
    free(dir);
    return test_summary("base/json");
}
