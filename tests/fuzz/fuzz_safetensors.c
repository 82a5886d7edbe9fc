/* Fuzz target: the safetensors parser on arbitrary bytes. It must either accept the buffer with every
 * tensor inside it, contiguous and sized by its shape, or refuse it with a message; never read out of
 * bounds (ASan) or crash. Accepted float tensors are converted to touch every byte. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "interop/safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    /* copy into an exact-size heap block so ASan sees any read past the end */
    uint8_t *buf = (uint8_t *)malloc(size ? size : 1);
    if (!buf) return 0;
    if (size) memcpy(buf, data, size);
    st_file f;
    lmc_err err;
    err.msg[0] = 0;
    if (st_parse(&f, buf, size, "fuzz.safetensors", &err) == 0) {
        uint64_t covered = 0;
        for (size_t i = 0; i < f.n_tensors; i++) {
            const st_tensor *t = &f.tensors[i];
            if (t->end < t->begin || t->data < buf || t->data + (t->end - t->begin) > buf + size) __builtin_trap();
            if (t->end - t->begin != t->numel * st_dtype_size(t->dtype)) __builtin_trap();
            covered += t->end - t->begin;
            if (t->numel <= (1u << 20) &&
                (t->dtype == ST_F32 || t->dtype == ST_F16 || t->dtype == ST_BF16 || t->dtype == ST_F64)) {
                float *out = (float *)malloc(t->numel * sizeof(float) + 4);
                if (out) {
                    if (st_read_f32(&f, t, out, t->numel, &err) != 0) __builtin_trap();
                    free(out);
                }
            }
        }
        if (covered > size) __builtin_trap();
        st_close(&f);
    } else if (!err.msg[0]) {
        __builtin_trap();
    }
    free(buf);
    return 0;
}
