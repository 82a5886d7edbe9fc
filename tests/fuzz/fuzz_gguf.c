/* Fuzz target: the GGUF reader (`lmc eval/sample --model FILE.gguf`) on arbitrary bytes: gguf_parse
 * must accept the buffer with every tensor inside it, contiguous at the running aligned offsets, or
 * refuse it with a message; never read out of bounds or crash. Accepted files have every KV read
 * through the typed getters and every tensor converted; then the same bytes go through the model
 * loader (gpt2_load_gguf), which must give a model or an error naming the file. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "fuzz_util.h"
#include "interop/gguf.h"
#include "interop/gguf_model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    uint8_t *buf = (uint8_t *)malloc(size ? size : 1);
    if (!buf) return 0;
    if (size) memcpy(buf, data, size);
    gguf_file f;
    lmc_err err;
    err.msg[0] = 0;
    if (gguf_parse(&f, buf, size, "fuzz.gguf", &err) == 0) {
        uint64_t run = 0;
        for (size_t i = 0; i < f.n_tensors; i++) {
            const gguf_tensor *t = &f.tensors[i];
            if (t->data < buf || t->nbytes > size || t->data + t->nbytes > buf + size) __builtin_trap();
            if (t->offset != run) __builtin_trap();
            run = (t->offset + t->nbytes + f.alignment - 1) / f.alignment * f.alignment;
            if (t->numel <= (1u << 20)) {
                float *out = (float *)malloc(t->numel * sizeof(float) + 4);
                if (out) {
                    if (gguf_tensor_f32(&f, t, out, t->numel, &err) != 0) __builtin_trap();
                    free(out);
                }
            }
        }
        for (size_t i = 0; i < f.n_kv; i++) {
            const char *k = f.kv[i].key, *s;
            size_t sl;
            uint64_t u, n;
            double d;
            int b;
            const uint8_t *p;
            (void)gguf_get_uint(&f, k, UINT64_MAX, &u, &err);
            (void)gguf_get_float(&f, k, &d, &err);
            (void)gguf_get_bool(&f, k, &b, &err);
            if (gguf_get_str(&f, k, &s, &sl, &err) == 0 && s + sl > (const char *)buf + size) __builtin_trap();
            (void)gguf_get_arr(&f, k, GGUF_T_INT32, &p, &n, &err);
            const char **ss;
            uint64_t *ls;
            if (gguf_arr_strings(&f, k, &ss, &ls, &n, &err) == 0) {
                for (uint64_t j = 0; j < n; j++)
                    if (ss[j] + ls[j] > (const char *)buf + size) __builtin_trap();
                free(ss);
                free(ls);
            }
        }
        gguf_close(&f);
        if (size < (4u << 20)) {
            const char *path = fuzz_file("model.gguf", data, size);
            gpt2_model *m;
            err.msg[0] = 0;
            if (gpt2_load_gguf(path, &m, &err) == 0) gpt2_free(m);
            else if (!strstr(err.msg, "model.gguf")) fuzz_fail("the error does not name the file", err.msg);
        }
    } else if (!err.msg[0]) {
        __builtin_trap();
    }
    free(buf);
    return 0;
}
