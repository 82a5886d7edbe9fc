/* Fuzz target: an HF GPT-2 folder's config.json (`lmc eval/sample --model DIR`, run.init_from). Any
 * bytes must give a config that passes the model's own checks, or an error naming the file; never a
 * crash. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "fuzz_util.h"
#include "model/gpt2.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    (void)fuzz_file("config.json", data, size);
    gpt2_config c;
    lmc_err err = {0};
    if (gpt2_config_load_hf(fuzz_dir(), &c, &err)) {
        if (!strstr(err.msg, "config.json")) abort();
        return 0;
    }
    (void)gpt2_config_check(&c, &err);
    return 0;
}
