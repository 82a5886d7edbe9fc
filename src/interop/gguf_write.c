/* GGUF writer and the Q8_0 quantiser (see gguf.h). */
#include "interop/gguf.h"
#include "interop/safetensors.h"
#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

const char *ggml_type_name(uint32_t type) {
    switch (type) {
    case GGML_T_F32: return "f32";
    case GGML_T_F16: return "f16";
    case GGML_T_BF16: return "bf16";
    case GGML_T_Q8_0: return "q8_0";
    default: return NULL;
    }
}

uint64_t ggml_type_bytes(uint32_t type, uint64_t n) {
    switch (type) {
    case GGML_T_F32: return n * 4;
    case GGML_T_F16:
    case GGML_T_BF16: return n * 2;
    case GGML_T_Q8_0: return n / GGUF_Q8_0_BLOCK * GGUF_Q8_0_BYTES;
    default: return 0;
    }
}

void gguf_quantize_q8_0(const float *x, uint64_t n, uint8_t *out) {
    for (uint64_t b = 0; b < n / GGUF_Q8_0_BLOCK; b++) {
        const float *v = x + b * GGUF_Q8_0_BLOCK;
        uint8_t *o = out + b * GGUF_Q8_0_BYTES;
        float amax = 0.0f;
        for (int i = 0; i < GGUF_Q8_0_BLOCK; i++) {
            float a = fabsf(v[i]);
            if (a > amax) amax = a;
        }
        float d = amax / 127.0f;
        float id = d != 0.0f ? 1.0f / d : 0.0f;
        uint16_t dh = st_f32_to_f16(d);
        memcpy(o, &dh, 2);
        for (int i = 0; i < GGUF_Q8_0_BLOCK; i++) {
            float q = roundf(v[i] * id); /* half away from zero, as ggml's roundf */
            o[2 + i] = (uint8_t)(int8_t)q;
        }
    }
}

void gguf_dequantize_q8_0(const uint8_t *in, uint64_t n, float *out) {
    for (uint64_t b = 0; b < n / GGUF_Q8_0_BLOCK; b++) {
        const uint8_t *p = in + b * GGUF_Q8_0_BYTES;
        uint16_t dh;
        memcpy(&dh, p, 2);
        float d = st_f16_to_f32(dh);
        for (int i = 0; i < GGUF_Q8_0_BLOCK; i++) out[b * GGUF_Q8_0_BLOCK + i] = d * (float)(int8_t)p[2 + i];
    }
}

void gguf_writer_init(gguf_writer *w, uint32_t alignment) {
    memset(w, 0, sizeof *w);
    w->alignment = alignment ? alignment : GGUF_DEFAULT_ALIGNMENT;
}

void gguf_writer_free(gguf_writer *w) {
    for (size_t i = 0; i < w->n_t; i++) free(w->t[i].data);
    free(w->t);
    lmc_buf_free(&w->kv);
    memset(w, 0, sizeof *w);
}

static int put_u32(lmc_buf *b, uint32_t v, lmc_err *err) { return lmc_buf_append(b, &v, 4, err); }
static int put_u64(lmc_buf *b, uint64_t v, lmc_err *err) { return lmc_buf_append(b, &v, 8, err); }
static int put_str(lmc_buf *b, const char *s, size_t n, lmc_err *err) {
    int rc = put_u64(b, n, err);
    return rc ? rc : lmc_buf_append(b, s, n, err);
}
static int key_head(gguf_writer *w, const char *key, uint32_t type, lmc_err *err) {
    if (!*key) return lmc_errf(err, LMC_EINVAL, "gguf: empty key");
    int rc;
    if ((rc = put_str(&w->kv, key, strlen(key), err)) || (rc = put_u32(&w->kv, type, err))) return rc;
    w->n_kv++;
    return 0;
}

int gguf_w_str(gguf_writer *w, const char *key, const char *val, lmc_err *err) {
    int rc = key_head(w, key, GGUF_T_STRING, err);
    return rc ? rc : put_str(&w->kv, val, strlen(val), err);
}
int gguf_w_u32(gguf_writer *w, const char *key, uint32_t val, lmc_err *err) {
    int rc = key_head(w, key, GGUF_T_UINT32, err);
    return rc ? rc : put_u32(&w->kv, val, err);
}
int gguf_w_f32(gguf_writer *w, const char *key, float val, lmc_err *err) {
    int rc = key_head(w, key, GGUF_T_FLOAT32, err);
    return rc ? rc : lmc_buf_append(&w->kv, &val, 4, err);
}
int gguf_w_bool(gguf_writer *w, const char *key, int val, lmc_err *err) {
    int rc = key_head(w, key, GGUF_T_BOOL, err);
    uint8_t b = val ? 1 : 0;
    return rc ? rc : lmc_buf_append(&w->kv, &b, 1, err);
}
int gguf_w_arr_str(gguf_writer *w, const char *key, const char *const *vals, const size_t *lens, size_t n,
                   lmc_err *err) {
    int rc;
    if ((rc = key_head(w, key, GGUF_T_ARRAY, err)) || (rc = put_u32(&w->kv, GGUF_T_STRING, err)) ||
        (rc = put_u64(&w->kv, n, err)))
        return rc;
    for (size_t i = 0; i < n; i++)
        if ((rc = put_str(&w->kv, vals[i], lens ? lens[i] : strlen(vals[i]), err))) return rc;
    return 0;
}
int gguf_w_arr_i32(gguf_writer *w, const char *key, const int32_t *vals, size_t n, lmc_err *err) {
    int rc;
    if ((rc = key_head(w, key, GGUF_T_ARRAY, err)) || (rc = put_u32(&w->kv, GGUF_T_INT32, err)) ||
        (rc = put_u64(&w->kv, n, err)))
        return rc;
    return lmc_buf_append(&w->kv, vals, n * 4, err);
}

int gguf_w_tensor_f32(gguf_writer *w, const char *name, uint32_t type, uint32_t n_dims, const int64_t *ne,
                      const float *x, lmc_err *err) {
    if (strlen(name) >= GGUF_MAX_NAME || !*name) return lmc_errf(err, LMC_EINVAL, "gguf: bad tensor name '%s'", name);
    if (n_dims < 1 || n_dims > GGUF_MAX_DIMS) return lmc_errf(err, LMC_EINVAL, "gguf: %s: %u dims", name, n_dims);
    uint64_t n = 1;
    for (uint32_t i = 0; i < n_dims; i++) {
        if (ne[i] < 1) return lmc_errf(err, LMC_EINVAL, "gguf: %s: dim %u is %lld", name, i, (long long)ne[i]);
        n *= (uint64_t)ne[i];
    }
    if (type == GGML_T_Q8_0 && ne[0] % GGUF_Q8_0_BLOCK)
        return lmc_errf(err, LMC_EINVAL, "gguf: %s: q8_0 needs rows of a multiple of 32 values, not %lld", name,
                        (long long)ne[0]);
    uint64_t nbytes = ggml_type_bytes(type, n);
    if (!nbytes) return lmc_errf(err, LMC_EINVAL, "gguf: %s: unsupported type %u", name, type);
    if (w->n_t == w->cap_t) {
        size_t cap = w->cap_t ? 2 * w->cap_t : 64;
        gguf_wtensor *t = realloc(w->t, cap * sizeof *t);
        if (!t) return lmc_errf(err, LMC_ENOMEM, "out of memory");
        w->t = t;
        w->cap_t = cap;
    }
    uint8_t *d = malloc(nbytes ? nbytes : 1);
    if (!d) return lmc_errf(err, LMC_ENOMEM, "out of memory for tensor %s", name);
    switch (type) {
    case GGML_T_F32: memcpy(d, x, nbytes); break;
    case GGML_T_F16:
        for (uint64_t i = 0; i < n; i++) { uint16_t h = st_f32_to_f16(x[i]); memcpy(d + 2 * i, &h, 2); }
        break;
    case GGML_T_BF16:
        for (uint64_t i = 0; i < n; i++) { uint16_t h = st_f32_to_bf16(x[i]); memcpy(d + 2 * i, &h, 2); }
        break;
    case GGML_T_Q8_0: gguf_quantize_q8_0(x, n, d); break;
    }
    gguf_wtensor *t = &w->t[w->n_t++];
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "%s", name);
    t->n_dims = n_dims;
    t->type = type;
    for (uint32_t i = 0; i < GGUF_MAX_DIMS; i++) t->ne[i] = i < n_dims ? ne[i] : 1;
    t->data = d;
    t->nbytes = nbytes;
    return 0;
}

static uint64_t pad_to(uint64_t x, uint64_t a) { return (x + a - 1) / a * a; }

int gguf_write(const gguf_writer *w, const char *path, lmc_err *err) {
    lmc_buf h = {0};
    int rc = LMC_ENOMEM;
    uint64_t n_kv = w->n_kv + (w->alignment != GGUF_DEFAULT_ALIGNMENT);
    if (put_u32(&h, GGUF_MAGIC, err) || put_u32(&h, GGUF_VERSION, err) || put_u64(&h, w->n_t, err) ||
        put_u64(&h, n_kv, err) || lmc_buf_append(&h, w->kv.data, w->kv.len, err))
        goto out;
    if (w->alignment != GGUF_DEFAULT_ALIGNMENT) {
        const char *k = "general.alignment";
        if (put_str(&h, k, strlen(k), err) || put_u32(&h, GGUF_T_UINT32, err) || put_u32(&h, w->alignment, err))
            goto out;
    }
    uint64_t off = 0;
    for (size_t i = 0; i < w->n_t; i++) {
        const gguf_wtensor *t = &w->t[i];
        if (put_str(&h, t->name, strlen(t->name), err) || put_u32(&h, t->n_dims, err)) goto out;
        for (uint32_t d = 0; d < t->n_dims; d++)
            if (put_u64(&h, (uint64_t)t->ne[d], err)) goto out;
        if (put_u32(&h, t->type, err) || put_u64(&h, off, err)) goto out;
        off = pad_to(off + t->nbytes, w->alignment);
    }
    static const uint8_t zeros[64];
    lmc_atomic a;
    if ((rc = lmc_atomic_open(&a, path, err))) goto out;
    int bad = fwrite(h.data, 1, h.len, a.fp) != h.len;
    uint64_t pos = h.len;
    for (size_t i = 0; !bad && i <= w->n_t; i++) {
        uint64_t want = pad_to(pos, w->alignment);
        while (!bad && pos < want) {
            size_t k = want - pos < sizeof zeros ? (size_t)(want - pos) : sizeof zeros;
            bad = fwrite(zeros, 1, k, a.fp) != k;
            pos += k;
        }
        if (i == w->n_t) break;
        /* the last tensor is padded too, as gguf-py does, so the file length is a multiple of the alignment */
        bad = bad || fwrite(w->t[i].data, 1, w->t[i].nbytes, a.fp) != w->t[i].nbytes;
        pos += w->t[i].nbytes;
    }
    if (bad) {
        rc = lmc_err_sys(err, path, "write");
        lmc_atomic_abort(&a);
        goto out;
    }
    rc = lmc_atomic_commit(&a, err);
out:
    if (rc == LMC_ENOMEM && err && !err->msg[0]) lmc_errf(err, LMC_ENOMEM, "%s: out of memory", path);
    lmc_buf_free(&h);
    return rc;
}
