/* Fuzz target: loading an HF GPT-2 folder (`lmc eval/sample --model DIR`, run.init_from): config.json
 * and model.safetensors together, so tensor names, shapes, dtypes and values are checked against the
 * config. The input is both files, split at the first "\n%%\n". Any bytes must give a model or an
 * error naming the file; never a crash. Configs above 1M parameters are skipped (memory, not
 * parsing, would be tested). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "fuzz_util.h"
#include "model/gpt2.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    size_t second, first = fuzz_split(data, size, &second);
    (void)fuzz_file("config.json", data, first);
    (void)fuzz_file("model.safetensors", data + second, size - second);
    gpt2_config c;
    lmc_err err = {0};
    if (gpt2_config_load_hf(fuzz_dir(), &c, &err) || gpt2_config_check(&c, &err)) return 0;
    if (gpt2_param_count(&c) > (1u << 20) || c.max_seq > 4096) return 0;
    gpt2_model *m;
    if (gpt2_load_hf(fuzz_dir(), &m, &err)) {
        if (!strstr(err.msg, fuzz_dir())) fuzz_fail("the error does not name the file", err.msg);
        return 0;
    }
    gpt2_free(m);
    return 0;
}
