/* Fuzz target: the training-run config (`lmc train CONFIG.yaml`). Any bytes must give a config or an
 * error naming the file, never a crash; a config that loads must print (--print-config) as YAML that
 * loads back to the same text, and one "section.key=value" override (--set) must apply or fail cleanly. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "fuzz_util.h"
#include "train/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    lmc_err err = {0};
    train_config *c = malloc(sizeof *c), *d = malloc(sizeof *d);
    if (!c || !d) abort();
    train_config_defaults(c);
    if (train_config_load_buf(c, (const char *)data, size, "fuzz.yaml", &err)) {
        if (!strstr(err.msg, "fuzz.yaml")) fuzz_fail("the error does not name the file", err.msg);
    } else {
        (void)train_config_validate(c, 0, &err);
        lmc_buf y = {0}, y2 = {0};
        if (train_config_to_yaml(c, &y, &err) == 0) {
            train_config_defaults(d);
            if (train_config_load_buf(d, y.data, y.len, "printed.yaml", &err)) {
                fprintf(stderr, "%.*s", (int)y.len, y.data);
                fuzz_fail("the printed config does not load", err.msg);
            }
            if (train_config_to_yaml(d, &y2, &err) || y.len != y2.len || memcmp(y.data, y2.data, y.len))
                fuzz_fail("printing the reloaded config differs", y.data);
        }
        lmc_buf_free(&y);
        lmc_buf_free(&y2);
    }
    /* A short input is also tried as one --set override. */
    if (size < 256) {
        char s[256];
        memcpy(s, data, size);
        s[size] = 0;
        train_config_defaults(c);
        if (train_config_set(c, s, &err) && !err.msg[0]) fuzz_fail("--set failed without a message", s);
    }
    free(c);
    free(d);
    return 0;
}
