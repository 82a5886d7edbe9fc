/* Fuzz target: TensorBoard event files (TFRecord framing, Event / Summary / Value / TensorProto
 * decoding in src/train/tb_events.c). Any bytes must give scalars or an error with a message, never
 * a crash or a read past the input. */
#include <math.h>
#include <stdint.h>
#include <string.h>
#include "base/base.h"
#include "train/tb_events.h"

static int on_scalar(void *ctx, double wall, int64_t step, const char *tag, double value) {
    size_t *n = ctx;
    (void)wall;
    (void)step;
    (void)value;
    if (!tag) __builtin_trap();
    *n += strlen(tag) + 1;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    lmc_err err;
    err.msg[0] = 0;
    size_t n = 0;
    int rc = tb_events_parse(data, size, "fuzz", on_scalar, &n, &err);
    if (rc && !err.msg[0]) __builtin_trap();
    return 0;
}
