/* Fuzz target: `lmc report RUN` reads a run's metrics.jsonl (any numbers: NaN, inf, huge, negative,
 * out of order) and draws SVG charts from it. Any bytes must give a report or an error naming
 * file:line; never a crash or undefined behaviour in the chart arithmetic. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "fuzz_util.h"
#include "train/report.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    (void)fuzz_file("metrics.jsonl", data, size);
    char out[512];
    snprintf(out, sizeof out, "%s/report.html", fuzz_dir());
    const char *runs[1] = {fuzz_dir()};
    lmc_err err = {0};
    if (train_report_write(runs, 1, out, &err) && !strstr(err.msg, "metrics.jsonl"))
        fuzz_fail("the error does not name the file", err.msg);
    return 0;
}
