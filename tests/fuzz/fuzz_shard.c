/* Fuzz target: token shard headers. The bytes are written to a file and opened as a shard:
 * it must open with a token count consistent with the size, or fail with a message. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "base/base.h"
#include "data/shard.h"

static char path[64];

/* The scratch file goes when the process exits (the ctest driver returns from main; libFuzzer calls
 * exit), so test runs leave no /tmp/lmc-fuzz-shard-PID.bin behind. */
static void remove_scratch(void) {
    if (path[0]) unlink(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!path[0]) {
        snprintf(path, sizeof path, "/tmp/lmc-fuzz-shard-%ld.bin", (long)getpid());
        atexit(remove_scratch);
    }
    /* a plain write: the atomic writer's fsyncs would dominate a fuzzing loop */
    FILE *f = fopen(path, "wb");
    if (!f) return 0;
    fwrite(data, 1, size, f);
    fclose(f);
    lmc_err err;
    lmc_shard s;
    if (lmc_shard_open(&s, path, &err) == 0) {
        if ((uint64_t)s.token_bytes * s.ntok > s.map.len) __builtin_trap();
        if (s.ntok) (void)lmc_shard_get(&s, s.ntok - 1);
        lmc_shard_close(&s);
    } else if (!err.msg[0]) {
        __builtin_trap();
    }
    return 0;
}
