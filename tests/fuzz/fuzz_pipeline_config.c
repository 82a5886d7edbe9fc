/* Fuzz target: the data pipeline file (`lmc data pipeline PIPELINE.yaml`): stages, rules, thresholds.
 * Any bytes must give a pipeline or an error naming the file; never a crash. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "data/data.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *path = fuzz_file("pipeline.yaml", data, size);
    data_pipeline_cfg c;
    json_t *holder = NULL;
    lmc_err err = {0};
    if (data_pipeline_load(path, &c, &holder, &err) && !strstr(err.msg, "pipeline.yaml"))
        fuzz_fail("the error does not name the file", err.msg);
    data_pipeline_cfg_release(&c);
    if (holder) json_decref(holder);
    return 0;
}
