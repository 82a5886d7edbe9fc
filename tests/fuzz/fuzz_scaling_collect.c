/* Fuzz target: collecting a finished run for `lmc scaling collect` (its config.yaml and metrics.jsonl).
 * The input is both files, split at the first "\n%%\n". Any bytes must give a point or an error naming
 * the file; never a crash. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "fuzz_util.h"
#include "scaling/scaling.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    size_t second, first = fuzz_split(data, size, &second);
    (void)fuzz_file("config.yaml", data, first);
    (void)fuzz_file("metrics.jsonl", data + second, size - second);
    scaling_collected c;
    lmc_err err = {0};
    if (scaling_collect_run(fuzz_dir(), &c, &err) == 0) free(c.run);
    else if (!strstr(err.msg, fuzz_dir())) abort();
    return 0;
}
