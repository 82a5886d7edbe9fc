/* Fuzz target: JSON and YAML loading (configs, tokenizer.json headers). Any input must give a
 * tree or a clean error with a position; never a crash. */
#include <stdint.h>
#include "base/base.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    lmc_err err;
    json_t *j = lmc_json_loadb((const char *)data, size, "fuzz.json", &err);
    if (j) json_decref(j);
    else if (!err.msg[0]) __builtin_trap();
    j = lmc_yaml_loadb((const char *)data, size, "fuzz.yaml", &err);
    if (j) json_decref(j);
    else if (!err.msg[0]) __builtin_trap();
    return 0;
}
