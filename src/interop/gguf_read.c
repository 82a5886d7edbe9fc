/* GGUF reader: a validating parser of untrusted bytes (the rules are listed in gguf.h). Every count
 * and length read from the file is checked against the bytes left before anything is allocated or
 * read, and all size arithmetic is checked 64-bit (multiplications and padding additions alike). */
#include "interop/gguf.h"
#include "interop/safetensors.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct cur {
    const uint8_t *p;
    uint64_t len, pos;
    const char *path;
    lmc_err *err;
} cur;

static int bad(cur *c, const char *fmt, const char *a, unsigned long long b) {
    char m[400];
    snprintf(m, sizeof m, fmt, a, b);
    return lmc_err_off(c->err, LMC_EFORMAT, c->path, c->pos, "%s", m);
}

static uint64_t left(const cur *c) { return c->len - c->pos; }

static int rd(cur *c, void *out, uint64_t n, const char *what) {
    if (left(c) < n) return bad(c, "truncated file: %s needs %llu bytes", what, (unsigned long long)n);
    memcpy(out, c->p + c->pos, (size_t)n);
    c->pos += n;
    return 0;
}

/* A string: u64 length (<= bytes left, <= GGUF_MAX_STRING) then bytes; *s points into the buffer. */
static int rd_str(cur *c, const uint8_t **s, uint64_t *n, const char *what) {
    int rc;
    if ((rc = rd(c, n, 8, what))) return rc;
    if (*n > GGUF_MAX_STRING || *n > left(c)) {
        c->pos -= 8;
        return bad(c, "%s: string length %llu exceeds the bytes left", what, (unsigned long long)*n);
    }
    *s = c->p + c->pos;
    c->pos += *n;
    return 0;
}

static const uint8_t scalar_size[GGUF_T_COUNT] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};

static int rd_value(cur *c, gguf_kv *kv, uint32_t type, int in_array) {
    int rc;
    if (type >= GGUF_T_COUNT) return bad(c, "key '%s': unknown value type %llu", kv->key, type);
    if (type == GGUF_T_STRING) {
        const uint8_t *s = NULL;
        uint64_t n = 0;
        if ((rc = rd_str(c, &s, &n, kv->key))) return rc;
        if (!in_array) { kv->val = s; kv->val_len = n; }
        return 0;
    }
    if (type == GGUF_T_ARRAY) {
        if (in_array) return bad(c, "key '%s': nested arrays are not supported%.0llu", kv->key, 0);
        uint32_t et = 0;
        uint64_t n = 0;
        if ((rc = rd(c, &et, 4, kv->key)) || (rc = rd(c, &n, 8, kv->key))) return rc;
        if (et >= GGUF_T_COUNT) return bad(c, "key '%s': unknown array element type %llu", kv->key, et);
        if (et == GGUF_T_ARRAY) return bad(c, "key '%s': nested arrays are not supported%.0llu", kv->key, 0);
        kv->arr_type = et;
        kv->arr_n = n;
        kv->val = c->p + c->pos;
        if (et != GGUF_T_STRING) {
            /* n * size <= bytes left, checked without forming the product */
            if (n > left(c) / scalar_size[et])
                return bad(c, "key '%s': array of %llu elements exceeds the bytes left", kv->key, n);
            if (et == GGUF_T_BOOL)
                for (uint64_t i = 0; i < n; i++)
                    if (c->p[c->pos + i] > 1) return bad(c, "key '%s': bool array element %llu is not 0 or 1", kv->key, i);
            c->pos += n * scalar_size[et];
        } else {
            if (n > left(c) / 8) return bad(c, "key '%s': array of %llu strings exceeds the bytes left", kv->key, n);
            for (uint64_t i = 0; i < n; i++) {
                const uint8_t *s = NULL;
                uint64_t l = 0;
                if ((rc = rd_str(c, &s, &l, kv->key))) return rc;
            }
        }
        kv->val_len = (uint64_t)(c->p + c->pos - kv->val);
        return 0;
    }
    uint64_t sz = scalar_size[type];
    if (left(c) < sz) return bad(c, "key '%s': truncated value (%llu bytes needed)", kv->key, sz);
    if (type == GGUF_T_BOOL && c->p[c->pos] > 1) return bad(c, "key '%s': bool value %llu is not 0 or 1", kv->key, c->p[c->pos]);
    kv->val = c->p + c->pos;
    kv->val_len = sz;
    c->pos += sz;
    return 0;
}

static int cmp_kv(const void *a, const void *b) {
    return strcmp((*(const gguf_kv *const *)a)->key, (*(const gguf_kv *const *)b)->key);
}
static int cmp_tensor(const void *a, const void *b) {
    return strcmp((*(const gguf_tensor *const *)a)->name, (*(const gguf_tensor *const *)b)->name);
}

/* Duplicate check by sorting pointers (linear-log, so a fuzzer's million keys stay fast). */
static int find_dup(void *base, size_t n, size_t stride, int (*cmp)(const void *, const void *), int inline_name,
                    const char **dup, lmc_err *err) {
    *dup = NULL;
    if (n < 2) return 0;
    const void **v = malloc(n * sizeof *v);
    if (!v) return lmc_errf(err, LMC_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) v[i] = (const char *)base + i * stride;
    qsort(v, n, sizeof *v, cmp);
    for (size_t i = 1; i < n && !*dup; i++)
        if (!cmp(&v[i - 1], &v[i])) {
            const char *p = (const char *)v[i];
            *dup = inline_name ? ((const gguf_tensor *)p)->name : ((const gguf_kv *)p)->key;
        }
    free(v);
    return 0;
}

void gguf_close(gguf_file *f) {
    if (!f) return;
    for (size_t i = 0; f->kv && i < f->n_kv; i++) free(f->kv[i].key);
    free(f->kv);
    free(f->tensors);
    free(f->path);
    if (f->map.data) lmc_unmap(&f->map);
    memset(f, 0, sizeof *f);
}

int gguf_parse(gguf_file *f, const uint8_t *buf, size_t len, const char *name, lmc_err *err) {
    memset(f, 0, sizeof *f);
    f->path = strdup(name ? name : "gguf");
    if (!f->path) return lmc_errf(err, LMC_ENOMEM, "out of memory");
    f->buf = buf;
    f->len = len;
    cur c = {buf, len, 0, f->path, err};
    int rc;
    uint32_t magic = 0;
    uint64_t n_t = 0, n_kv = 0;
    if ((rc = rd(&c, &magic, 4, "magic"))) goto fail;
    if (magic != GGUF_MAGIC) { c.pos = 0; rc = bad(&c, "not a GGUF file (magic %s0x%08llx)", "", magic); goto fail; }
    if ((rc = rd(&c, &f->version, 4, "version"))) goto fail;
    if (f->version != 2 && f->version != 3) {
        rc = bad(&c, "GGUF version %s%llu is not supported (2 or 3)", "", f->version);
        goto fail;
    }
    if ((rc = rd(&c, &n_t, 8, "tensor count")) || (rc = rd(&c, &n_kv, 8, "KV count"))) goto fail;
    /* each KV takes at least 8 (key length) + 1 (key) + 4 (type) + 1 bytes; each tensor info 8 + 1 + 4 + 8 + 4 + 8 */
    if (n_kv > GGUF_MAX_KV || n_kv > left(&c) / 14) { rc = bad(&c, "KV count %s%llu exceeds the bytes left", "", n_kv); goto fail; }
    if (n_t > GGUF_MAX_TENSORS || n_t > left(&c) / 33) {
        rc = bad(&c, "tensor count %s%llu exceeds the bytes left", "", n_t);
        goto fail;
    }
    f->kv = calloc(n_kv ? n_kv : 1, sizeof *f->kv);
    f->tensors = calloc(n_t ? n_t : 1, sizeof *f->tensors);
    if (!f->kv || !f->tensors) { rc = lmc_errf(err, LMC_ENOMEM, "out of memory"); goto fail; }
    f->alignment = GGUF_DEFAULT_ALIGNMENT;
    for (uint64_t i = 0; i < n_kv; i++) {
        gguf_kv *kv = &f->kv[i];
        const uint8_t *k = NULL;
        uint64_t kl = 0;
        uint32_t type = 0;
        if ((rc = rd_str(&c, &k, &kl, "key"))) goto fail;
        if (kl == 0) { rc = bad(&c, "empty key%s%.0llu", "", 0); goto fail; }
        if (memchr(k, 0, kl)) { rc = bad(&c, "key contains a NUL byte%s%.0llu", "", 0); goto fail; }
        if (!(kv->key = malloc(kl + 1))) { rc = lmc_errf(err, LMC_ENOMEM, "out of memory"); goto fail; }
        memcpy(kv->key, k, kl);
        kv->key[kl] = 0;
        f->n_kv = i + 1;
        if ((rc = rd(&c, &type, 4, kv->key))) goto fail;
        kv->type = type;
        if ((rc = rd_value(&c, kv, type, 0))) goto fail;
        if (!strcmp(kv->key, "general.alignment")) {
            uint32_t a;
            if (type != GGUF_T_UINT32) { rc = bad(&c, "general.alignment has type %s%llu, expected uint32 (4)", "", type); goto fail; }
            memcpy(&a, kv->val, 4);
            if (a == 0 || (a & (a - 1)) || a > GGUF_MAX_ALIGNMENT) {
                rc = bad(&c, "general.alignment %s%llu is not a power of two in [1, 1048576]", "", a);
                goto fail;
            }
            f->alignment = a;
        }
    }
    const char *dup;
    if ((rc = find_dup(f->kv, f->n_kv, sizeof *f->kv, cmp_kv, 0, &dup, err))) goto fail;
    if (dup) { rc = lmc_errf(err, LMC_EFORMAT, "%s: duplicate key '%s'", f->path, dup); goto fail; }
    for (uint64_t i = 0; i < n_t; i++) {
        gguf_tensor *t = &f->tensors[i];
        const uint8_t *s = NULL;
        uint64_t sl = 0;
        if ((rc = rd_str(&c, &s, &sl, "tensor name"))) goto fail;
        if (sl == 0 || sl >= GGUF_MAX_NAME || memchr(s, 0, sl)) {
            rc = bad(&c, "tensor %s%llu: name empty, with a NUL byte or 64 bytes or longer", "", i);
            goto fail;
        }
        memcpy(t->name, s, sl);
        t->name[sl] = 0;
        f->n_tensors = i + 1;
        if ((rc = rd(&c, &t->n_dims, 4, t->name))) goto fail;
        if (t->n_dims < 1 || t->n_dims > GGUF_MAX_DIMS) { rc = bad(&c, "tensor '%s': n_dims %llu is not in [1, 4]", t->name, t->n_dims); goto fail; }
        uint64_t numel = 1;
        for (int d = 0; d < GGUF_MAX_DIMS; d++) t->ne[d] = 1;
        for (uint32_t d = 0; d < t->n_dims; d++) {
            uint64_t ne = 0;
            if ((rc = rd(&c, &ne, 8, t->name))) goto fail;
            if (ne < 1 || ne > (uint64_t)INT64_MAX) { rc = bad(&c, "tensor '%s': dimension %llu is 0 or above INT64_MAX", t->name, d); goto fail; }
            if (numel > (uint64_t)INT64_MAX / ne) { rc = bad(&c, "tensor '%s': element count overflows%.0llu", t->name, 0); goto fail; }
            numel *= ne;
            t->ne[d] = (int64_t)ne;
        }
        t->numel = numel;
        if ((rc = rd(&c, &t->type, 4, t->name))) goto fail;
        if (!ggml_type_name(t->type)) { rc = bad(&c, "tensor '%s': ggml type %llu is not supported (f32, f16, bf16, q8_0)", t->name, t->type); goto fail; }
        if (t->type == GGML_T_Q8_0 && t->ne[0] % GGUF_Q8_0_BLOCK) { rc = bad(&c, "tensor '%s': q8_0 row of %llu values is not a multiple of 32", t->name, (unsigned long long)t->ne[0]); goto fail; }
        if (numel > (UINT64_MAX / 8)) { rc = bad(&c, "tensor '%s': byte size overflows%.0llu", t->name, 0); goto fail; }
        t->nbytes = ggml_type_bytes(t->type, numel);
        if ((rc = rd(&c, &t->offset, 8, t->name))) goto fail;
    }
    if ((rc = find_dup(f->tensors, f->n_tensors, sizeof *f->tensors, cmp_tensor, 1, &dup, err))) goto fail;
    if (dup) { rc = lmc_errf(err, LMC_EFORMAT, "%s: duplicate tensor name '%s'", f->path, dup); goto fail; }
    /* data section: padded start, then each tensor at the running padded offset */
    uint64_t a = f->alignment;
    uint64_t start = c.pos;
    if (start > UINT64_MAX - (a - 1)) { rc = bad(&c, "data offset overflows%s%.0llu", "", 0); goto fail; }
    start = (start + a - 1) / a * a;
    f->data_offset = start;
    uint64_t avail = len > start ? len - start : 0;
    uint64_t run = 0;
    for (size_t i = 0; i < f->n_tensors; i++) {
        gguf_tensor *t = &f->tensors[i];
        if (t->offset != run) {
            rc = lmc_errf(err, LMC_EFORMAT, "%s: tensor '%s' has offset %llu, expected %llu", f->path, t->name,
                          (unsigned long long)t->offset, (unsigned long long)run);
            goto fail;
        }
        if (t->nbytes > avail || run > avail - t->nbytes) {
            rc = lmc_errf(err, LMC_EFORMAT, "%s: tensor '%s' (%llu bytes at data offset %llu) runs past the end of the file (%llu bytes of data)",
                          f->path, t->name, (unsigned long long)t->nbytes, (unsigned long long)run, (unsigned long long)avail);
            goto fail;
        }
        t->data = buf + start + run;
        run += t->nbytes;
        /* pad (run <= avail <= SIZE_MAX, so no wrap) */
        run = run % a ? run + (a - run % a) : run;
    }
    return 0;
fail:
    gguf_close(f);
    return rc;
}

int gguf_open(gguf_file *f, const char *path, lmc_err *err) {
    lmc_map m;
    int rc = lmc_map_file(path, &m, err);
    if (rc) return rc;
    if ((rc = gguf_parse(f, m.data, m.len, path, err))) {
        lmc_unmap(&m);
        return rc;
    }
    f->map = m;
    return 0;
}

const gguf_kv *gguf_find_kv(const gguf_file *f, const char *key) {
    for (size_t i = 0; i < f->n_kv; i++)
        if (!strcmp(f->kv[i].key, key)) return &f->kv[i];
    return NULL;
}

const gguf_tensor *gguf_find_tensor(const gguf_file *f, const char *name) {
    for (size_t i = 0; i < f->n_tensors; i++)
        if (!strcmp(f->tensors[i].name, name)) return &f->tensors[i];
    return NULL;
}

static const char *type_names[GGUF_T_COUNT] = {"uint8", "int8", "uint16", "int16", "uint32", "int32", "float32",
                                               "bool", "string", "array", "uint64", "int64", "float64"};

static int get_kv(const gguf_file *f, const char *key, const gguf_kv **kv, lmc_err *err) {
    *kv = gguf_find_kv(f, key);
    if (!*kv) return lmc_errf(err, LMC_ENOTFOUND, "%s: missing key '%s'", f->path, key);
    return 0;
}
static int wrong_type(const gguf_file *f, const gguf_kv *kv, const char *want, lmc_err *err) {
    return lmc_errf(err, LMC_EFORMAT, "%s: key '%s' has type %s, expected %s", f->path, kv->key,
                    type_names[kv->type], want);
}

int gguf_get_uint(const gguf_file *f, const char *key, uint64_t max, uint64_t *out, lmc_err *err) {
    const gguf_kv *kv;
    int rc = get_kv(f, key, &kv, err);
    if (rc) return rc;
    int64_t s = 0;
    uint64_t u = 0;
    int is_signed = 0;
    switch (kv->type) {
    case GGUF_T_UINT8: u = kv->val[0]; break;
    case GGUF_T_UINT16: { uint16_t v; memcpy(&v, kv->val, 2); u = v; } break;
    case GGUF_T_UINT32: { uint32_t v; memcpy(&v, kv->val, 4); u = v; } break;
    case GGUF_T_UINT64: memcpy(&u, kv->val, 8); break;
    case GGUF_T_INT8: s = (int8_t)kv->val[0]; is_signed = 1; break;
    case GGUF_T_INT16: { int16_t v; memcpy(&v, kv->val, 2); s = v; is_signed = 1; } break;
    case GGUF_T_INT32: { int32_t v; memcpy(&v, kv->val, 4); s = v; is_signed = 1; } break;
    case GGUF_T_INT64: memcpy(&s, kv->val, 8); is_signed = 1; break;
    default: return wrong_type(f, kv, "an integer", err);
    }
    if (is_signed) {
        if (s < 0) return lmc_errf(err, LMC_EFORMAT, "%s: key '%s' = %lld is negative", f->path, key, (long long)s);
        u = (uint64_t)s;
    }
    if (u > max)
        return lmc_errf(err, LMC_EFORMAT, "%s: key '%s' = %llu exceeds %llu", f->path, key, (unsigned long long)u,
                        (unsigned long long)max);
    *out = u;
    return 0;
}

int gguf_get_float(const gguf_file *f, const char *key, double *out, lmc_err *err) {
    const gguf_kv *kv;
    int rc = get_kv(f, key, &kv, err);
    if (rc) return rc;
    if (kv->type == GGUF_T_FLOAT32) { float v; memcpy(&v, kv->val, 4); *out = v; }
    else if (kv->type == GGUF_T_FLOAT64) memcpy(out, kv->val, 8);
    else return wrong_type(f, kv, "float32", err);
    return 0;
}

int gguf_get_bool(const gguf_file *f, const char *key, int *out, lmc_err *err) {
    const gguf_kv *kv;
    int rc = get_kv(f, key, &kv, err);
    if (rc) return rc;
    if (kv->type != GGUF_T_BOOL) return wrong_type(f, kv, "bool", err);
    *out = kv->val[0];
    return 0;
}

int gguf_get_str(const gguf_file *f, const char *key, const char **s, size_t *len, lmc_err *err) {
    const gguf_kv *kv;
    int rc = get_kv(f, key, &kv, err);
    if (rc) return rc;
    if (kv->type != GGUF_T_STRING) return wrong_type(f, kv, "string", err);
    *s = (const char *)kv->val;
    *len = (size_t)kv->val_len;
    return 0;
}

int gguf_get_arr(const gguf_file *f, const char *key, uint32_t elem_type, const uint8_t **data, uint64_t *n,
                 lmc_err *err) {
    const gguf_kv *kv;
    int rc = get_kv(f, key, &kv, err);
    if (rc) return rc;
    if (kv->type != GGUF_T_ARRAY) return wrong_type(f, kv, "array", err);
    if (kv->arr_type != elem_type)
        return lmc_errf(err, LMC_EFORMAT, "%s: key '%s' is an array of %s, expected an array of %s", f->path, key,
                        type_names[kv->arr_type], type_names[elem_type]);
    *data = kv->val;
    *n = kv->arr_n;
    return 0;
}

int gguf_arr_strings(const gguf_file *f, const char *key, const char ***s, uint64_t **lens, uint64_t *n,
                     lmc_err *err) {
    const uint8_t *p;
    int rc = gguf_get_arr(f, key, GGUF_T_STRING, &p, n, err);
    if (rc) return rc;
    *s = malloc((*n ? *n : 1) * sizeof **s);
    *lens = malloc((*n ? *n : 1) * sizeof **lens);
    if (!*s || !*lens) {
        free(*s);
        free(*lens);
        return lmc_errf(err, LMC_ENOMEM, "out of memory");
    }
    for (uint64_t i = 0; i < *n; i++) { /* lengths were validated by the parser */
        uint64_t l;
        memcpy(&l, p, 8);
        (*s)[i] = (const char *)p + 8;
        (*lens)[i] = l;
        p += 8 + l;
    }
    return 0;
}

int gguf_tensor_f32(const gguf_file *f, const gguf_tensor *t, float *out, uint64_t n, lmc_err *err) {
    if (n != t->numel)
        return lmc_errf(err, LMC_EINVAL, "%s: tensor '%s' has %llu elements, expected %llu", f->path, t->name,
                        (unsigned long long)t->numel, (unsigned long long)n);
    const uint8_t *p = t->data;
    switch (t->type) {
    case GGML_T_F32: memcpy(out, p, n * 4); break;
    case GGML_T_F16:
        for (uint64_t i = 0; i < n; i++) { uint16_t h; memcpy(&h, p + 2 * i, 2); out[i] = st_f16_to_f32(h); }
        break;
    case GGML_T_BF16:
        for (uint64_t i = 0; i < n; i++) { uint16_t h; memcpy(&h, p + 2 * i, 2); out[i] = st_bf16_to_f32(h); }
        break;
    case GGML_T_Q8_0: gguf_dequantize_q8_0(p, n, out); break;
    default: return lmc_errf(err, LMC_EFORMAT, "%s: tensor '%s': unsupported type %u", f->path, t->name, t->type);
    }
    return 0;
}
