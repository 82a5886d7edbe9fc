/* Fuzz the runs-CSV reader of `lmc scaling fit`: any bytes must give runs or a clean error, never a
 * crash. The reader takes a path (it streams plain/.gz/.zst), so each input goes through a temp file.
 * A parsed file with >= 5 runs is also pushed through the objective once. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "base/base.h"
#include "scaling/scaling.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static char path[256];
    if (!path[0]) snprintf(path, sizeof path, "/tmp/fuzz_scaling_csv.%d.csv", (int)getpid());
    FILE *f = fopen(path, "wb");
    if (!f) return 0;
    if (size) fwrite(data, 1, size, f);
    fclose(f);
    scaling_runs r;
    lmc_err err;
    if (scaling_runs_load_csv(path, 1, &r, &err) == 0) {
        if (r.n >= 5) {
            double x[5] = {6, 7, 0.5, 0.3, 0.3}, g[5];
            (void)scaling_objective(&r, x, 1e-3, g);
        }
        scaling_runs_free(&r);
    }
    unlink(path);
    return 0;
}
