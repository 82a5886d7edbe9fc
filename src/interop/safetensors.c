/* safetensors reader and writer. Every check the reference parser makes (see safetensors.h), with
 * checked 64-bit arithmetic, so a hostile file gives an error naming the file and the tensor. */
#include "interop/safetensors.h"
#include "base/mem.h"
#include <jansson.h>
#include <math.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const struct { const char *name; size_t size; } dtypes[ST_DTYPE_COUNT] = {
    [ST_BOOL] = {"BOOL", 1}, [ST_U8] = {"U8", 1},   [ST_I8] = {"I8", 1},     [ST_I16] = {"I16", 2},
    [ST_U16] = {"U16", 2},   [ST_F16] = {"F16", 2}, [ST_BF16] = {"BF16", 2}, [ST_I32] = {"I32", 4},
    [ST_U32] = {"U32", 4},   [ST_F32] = {"F32", 4}, [ST_F64] = {"F64", 8},   [ST_I64] = {"I64", 8},
    [ST_U64] = {"U64", 8},   [ST_F8_E5M2] = {"F8_E5M2", 1}, [ST_F8_E4M3] = {"F8_E4M3", 1}, [ST_C64] = {"C64", 8},
};

const char *st_dtype_name(st_dtype d) { return d < ST_DTYPE_COUNT ? dtypes[d].name : "?"; }
size_t st_dtype_size(st_dtype d) { return d < ST_DTYPE_COUNT ? dtypes[d].size : 0; }
int st_dtype_parse(const char *s) {
    for (int i = 0; i < ST_DTYPE_COUNT; i++)
        if (strcmp(s, dtypes[i].name) == 0) return i;
    return -1;
}

static uint64_t rd_u64le(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

void st_close(st_file *f) {
    if (!f) return;
    for (size_t i = 0; i < f->n_tensors; i++) free(f->tensors[i].name);
    free(f->tensors);
    for (size_t i = 0; i < f->n_meta; i++) { free(f->meta_keys[i]); free(f->meta_vals[i]); }
    free(f->meta_keys);
    free(f->meta_vals);
    if (f->map.data) lmc_unmap(&f->map);
    free(f->path);
    memset(f, 0, sizeof *f);
}

static int cmp_begin(const void *a, const void *b) {
    const st_tensor *x = *(const st_tensor *const *)a, *y = *(const st_tensor *const *)b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    if (x->end != y->end) return x->end < y->end ? -1 : 1;
    return 0;
}

static int parse_tensor(st_file *f, const char *name, json_t *e, st_tensor *t, lmc_err *err) {
    const char *P = f->path;
    if (!json_is_object(e)) return lmc_errf(err, LMC_EFORMAT, "%s: tensor '%s': entry is not a JSON object", P, name);
    json_t *jd = NULL, *js = NULL, *jo = NULL;
    const char *key;
    json_t *val;
    json_object_foreach(e, key, val) {
        if (strcmp(key, "dtype") == 0) jd = val;
        else if (strcmp(key, "shape") == 0) js = val;
        else if (strcmp(key, "data_offsets") == 0) jo = val;
        else return lmc_errf(err, LMC_EFORMAT, "%s: tensor '%s': unknown field '%s'", P, name, key);
    }
    if (!jd || !json_is_string(jd)) return lmc_errf(err, LMC_EFORMAT, "%s: tensor '%s': missing or non-string \"dtype\"", P, name);
    int dt = st_dtype_parse(json_string_value(jd));
    if (dt < 0) return lmc_errf(err, LMC_EFORMAT, "%s: tensor '%s': unknown dtype '%s'", P, name, json_string_value(jd));
    t->dtype = (st_dtype)dt;
    if (!js || !json_is_array(js)) return lmc_errf(err, LMC_EFORMAT, "%s: tensor '%s': missing or non-array \"shape\"", P, name);
    size_t nd = json_array_size(js);
    if (nd > ST_MAX_DIMS) return lmc_errf(err, LMC_EFORMAT, "%s: tensor '%s': %zu dimensions (at most %d supported)", P, name, nd, ST_MAX_DIMS);
    t->ndim = (int)nd;
    uint64_t numel = 1;
    int overflow = 0;
    for (size_t i = 0; i < nd; i++) {
        json_t *d = json_array_get(js, i);
        if (!json_is_integer(d) || json_integer_value(d) < 0)
            return lmc_errf(err, LMC_EFORMAT, "%s: tensor '%s': shape[%zu] is not a non-negative integer", P, name, i);
        uint64_t v = (uint64_t)json_integer_value(d);
        t->shape[i] = (int64_t)v;
        if (v && numel > UINT64_MAX / v) overflow = 1;
        else numel *= v;
    }
    uint64_t es = st_dtype_size(t->dtype);
    if (overflow || numel > UINT64_MAX / es)
        return lmc_errf(err, LMC_EFORMAT, "%s: tensor '%s': shape product overflows", P, name);
    t->numel = numel;
    if (!jo || !json_is_array(jo) || json_array_size(jo) != 2)
        return lmc_errf(err, LMC_EFORMAT, "%s: tensor '%s': \"data_offsets\" must be [begin, end]", P, name);
    json_t *b = json_array_get(jo, 0), *en = json_array_get(jo, 1);
    if (!json_is_integer(b) || !json_is_integer(en) || json_integer_value(b) < 0 || json_integer_value(en) < 0)
        return lmc_errf(err, LMC_EFORMAT, "%s: tensor '%s': data_offsets must be non-negative integers", P, name);
    t->begin = (uint64_t)json_integer_value(b);
    t->end = (uint64_t)json_integer_value(en);
    if (t->end < t->begin)
        return lmc_errf(err, LMC_EFORMAT, "%s: tensor '%s': data_offsets end %llu < begin %llu", P, name,
                        (unsigned long long)t->end, (unsigned long long)t->begin);
    if (t->end - t->begin != numel * es)
        return lmc_errf(err, LMC_EFORMAT, "%s: tensor '%s': %s shape needs %llu bytes but data_offsets span %llu",
                        P, name, st_dtype_name(t->dtype), (unsigned long long)(numel * es),
                        (unsigned long long)(t->end - t->begin));
    return 0;
}

/* Parse into f; f->map is set to `map` only on success (the caller unmaps on failure). */
static int parse_impl(st_file *f, const uint8_t *buf, size_t len, const char *name, const lmc_map *map, lmc_err *err) {
    memset(f, 0, sizeof *f);
    f->path = strdup(name ? name : "<memory>");
    if (!f->path) return lmc_errf(err, LMC_ENOMEM, "out of memory");
    const char *P = f->path;
    int rc = LMC_EFORMAT;
    json_t *root = NULL;
    st_tensor **order = NULL;
    f->buf = buf;
    f->len = len;
    if (len < 8) { lmc_errf(err, LMC_EFORMAT, "%s: file is %zu bytes, too small for the 8-byte header length", P, len); goto fail; }
    uint64_t n = rd_u64le(buf);
    if (n > ST_MAX_HEADER) { lmc_errf(err, LMC_EFORMAT, "%s: header length %llu exceeds the 100,000,000-byte limit", P, (unsigned long long)n); goto fail; }
    if (n > (uint64_t)len - 8) {
        lmc_errf(err, LMC_EFORMAT, "%s: header length %llu runs past the end of the file (%zu bytes)", P, (unsigned long long)n, len);
        goto fail;
    }
    const char *h = (const char *)buf + 8;
    size_t i0 = 0;
    while (i0 < n && (h[i0] == ' ' || h[i0] == '\t' || h[i0] == '\n' || h[i0] == '\r')) i0++;
    if (i0 >= n || h[i0] != '{') { lmc_errf(err, LMC_EFORMAT, "%s: header does not start with '{'", P); goto fail; }
    json_error_t je;
    root = json_loadb(h, (size_t)n, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        lmc_errf(err, LMC_EFORMAT, "%s: header is not valid UTF-8 JSON at byte %d: %s", P, je.position + 8, je.text);
        goto fail;
    }
    if (!json_is_object(root)) { lmc_errf(err, LMC_EFORMAT, "%s: header is not a JSON object", P); goto fail; }
    size_t cnt = json_object_size(root);
    f->tensors = (st_tensor *)calloc(cnt ? cnt : 1, sizeof(st_tensor));
    if (!f->tensors) { rc = lmc_errf(err, LMC_ENOMEM, "out of memory"); goto fail; }
    const char *key;
    json_t *val;
    json_object_foreach(root, key, val) {
        if (strcmp(key, "__metadata__") == 0) {
            if (!json_is_object(val)) { lmc_errf(err, LMC_EFORMAT, "%s: __metadata__ is not an object", P); goto fail; }
            size_t mc = json_object_size(val);
            f->meta_keys = (char **)calloc(mc ? mc : 1, sizeof(char *));
            f->meta_vals = (char **)calloc(mc ? mc : 1, sizeof(char *));
            if (!f->meta_keys || !f->meta_vals) { rc = lmc_errf(err, LMC_ENOMEM, "out of memory"); goto fail; }
            const char *mk;
            json_t *mv;
            json_object_foreach(val, mk, mv) {
                if (!json_is_string(mv)) {
                    lmc_errf(err, LMC_EFORMAT, "%s: __metadata__ value of '%s' is not a string", P, mk);
                    goto fail;
                }
                f->meta_keys[f->n_meta] = strdup(mk);
                f->meta_vals[f->n_meta] = strdup(json_string_value(mv));
                f->n_meta++;
                if (!f->meta_keys[f->n_meta - 1] || !f->meta_vals[f->n_meta - 1]) { rc = lmc_errf(err, LMC_ENOMEM, "out of memory"); goto fail; }
            }
            continue;
        }
        st_tensor *t = &f->tensors[f->n_tensors];
        t->name = strdup(key);
        if (!t->name) { rc = lmc_errf(err, LMC_ENOMEM, "out of memory"); goto fail; }
        f->n_tensors++;
        if (parse_tensor(f, key, val, t, err)) goto fail;
    }
    /* offsets: contiguous from 0, no gap, no overlap, and the buffer ends exactly at the file end */
    order = (st_tensor **)malloc((f->n_tensors ? f->n_tensors : 1) * sizeof *order);
    if (!order) { rc = lmc_errf(err, LMC_ENOMEM, "out of memory"); goto fail; }
    for (size_t i = 0; i < f->n_tensors; i++) order[i] = &f->tensors[i];
    qsort(order, f->n_tensors, sizeof *order, cmp_begin);
    uint64_t pos = 0;
    for (size_t i = 0; i < f->n_tensors; i++) {
        if (order[i]->begin != pos) {
            lmc_errf(err, LMC_EFORMAT, "%s: tensor '%s' starts at byte %llu of the data but the previous tensor ends at %llu (%s)",
                     P, order[i]->name, (unsigned long long)order[i]->begin, (unsigned long long)pos,
                     order[i]->begin > pos ? "gap" : "overlap");
            goto fail;
        }
        pos = order[i]->end;
    }
    uint64_t data_len = (uint64_t)len - 8 - n;
    if (pos != data_len) {
        lmc_errf(err, LMC_EFORMAT, "%s: tensors cover %llu bytes of data but the file has %llu bytes after the header",
                 P, (unsigned long long)pos, (unsigned long long)data_len);
        goto fail;
    }
    for (size_t i = 0; i < f->n_tensors; i++) f->tensors[i].data = buf + 8 + n + f->tensors[i].begin;
    free(order);
    json_decref(root);
    if (map) f->map = *map;
    return 0;
fail:
    free(order);
    json_decref(root);
    st_close(f);  /* f->map is still empty here: nothing is unmapped */
    return rc;
}

int st_parse(st_file *f, const uint8_t *buf, size_t len, const char *name, lmc_err *err) {
    return parse_impl(f, buf, len, name, NULL, err);
}

int st_open(st_file *f, const char *path, lmc_err *err) {
    memset(f, 0, sizeof *f);
    lmc_map m;
    int rc = lmc_map_file(path, &m, err);
    if (rc) return rc;
    rc = parse_impl(f, (const uint8_t *)m.data, m.len, path, &m, err);
    if (rc) {
        lmc_unmap(&m);
        memset(f, 0, sizeof *f);
    }
    return rc;
}

const st_tensor *st_find(const st_file *f, const char *name) {
    for (size_t i = 0; i < f->n_tensors; i++)
        if (strcmp(f->tensors[i].name, name) == 0) return &f->tensors[i];
    return NULL;
}

const char *st_meta(const st_file *f, const char *key) {
    for (size_t i = 0; i < f->n_meta; i++)
        if (strcmp(f->meta_keys[i], key) == 0) return f->meta_vals[i];
    return NULL;
}

float st_f16_to_f32(uint16_t h) {
    uint32_t s = (uint32_t)(h >> 15) << 31, e = (h >> 10) & 0x1f, mnt = h & 0x3ff, bits;
    if (e == 0) {
        if (mnt == 0) bits = s;
        else {  /* subnormal: normalise */
            int sh = 0;
            while (!(mnt & 0x400)) { mnt <<= 1; sh++; }
            mnt &= 0x3ff;
            bits = s | ((uint32_t)(127 - 15 + 1 - sh) << 23) | (mnt << 13);
        }
    } else if (e == 31) {
        bits = s | 0x7f800000u | (mnt << 13);
    } else {
        bits = s | ((e - 15 + 127) << 23) | (mnt << 13);
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

float st_bf16_to_f32(uint16_t h) {
    uint32_t bits = (uint32_t)h << 16;
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

uint16_t st_f32_to_bf16(float f) {
    uint32_t b;
    memcpy(&b, &f, 4);
    if ((b & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((b >> 16) | 0x40); /* quiet NaN */
    b += 0x7fffu + ((b >> 16) & 1);
    return (uint16_t)(b >> 16);
}

uint16_t st_f32_to_f16(float f) {
    uint32_t b;
    memcpy(&b, &f, 4);
    uint32_t s = (b >> 16) & 0x8000u;
    uint32_t a = b & 0x7fffffffu;
    if (a > 0x7f800000u) return (uint16_t)(s | 0x7e00u);
    if (a >= 0x477ff000u) return (uint16_t)(s | 0x7c00u);          /* overflow -> inf */
    if (a < 0x38800000u) {                                          /* subnormal or zero */
        if (a < 0x33000000u) return (uint16_t)s;
        float av;
        memcpy(&av, &a, 4);
        uint32_t q = (uint32_t)nearbyintf(av * 16777216.0f);        /* units of 2^-24 */
        return (uint16_t)(s | q);
    }
    uint32_t r = a + 0xc8000fffu + ((a >> 13) & 1);                 /* rebias and round to nearest even */
    return (uint16_t)(s | (r >> 13));
}

int st_read_f32(const st_file *f, const st_tensor *t, float *out, uint64_t n, lmc_err *err) {
    if (n != t->numel)
        return lmc_errf(err, LMC_EINVAL, "%s: tensor '%s' has %llu elements, expected %llu", f->path, t->name,
                        (unsigned long long)t->numel, (unsigned long long)n);
    const uint8_t *p = t->data;
    switch (t->dtype) {
    case ST_F32:
        memcpy(out, p, n * 4);
        break;
    case ST_F64:
        for (uint64_t i = 0; i < n; i++) { double d; memcpy(&d, p + 8 * i, 8); out[i] = (float)d; }
        break;
    case ST_F16:
        for (uint64_t i = 0; i < n; i++) out[i] = st_f16_to_f32((uint16_t)(p[2 * i] | (p[2 * i + 1] << 8)));
        break;
    case ST_BF16:
        for (uint64_t i = 0; i < n; i++) out[i] = st_bf16_to_f32((uint16_t)(p[2 * i] | (p[2 * i + 1] << 8)));
        break;
    default:
        return lmc_errf(err, LMC_EFORMAT, "%s: tensor '%s' has dtype %s; expected F32, F16, BF16 or F64", f->path,
                        t->name, st_dtype_name(t->dtype));
    }
    return 0;
}

/* ---- writer ---- */

static int cmp_out(const void *a, const void *b, void *ctx) {
    const st_out *base = (const st_out *)ctx;
    const st_out *x = &base[*(const size_t *)a], *y = &base[*(const size_t *)b];
    size_t ax = st_dtype_size(x->dtype), ay = st_dtype_size(y->dtype);
    if (ax != ay) return ax > ay ? -1 : 1;
    return strcmp(x->name, y->name);
}

int st_write(const char *path, const st_out *ts, size_t n, const char *const *meta, lmc_err *err) {
    int rc = 0;
    size_t *idx = (size_t *)malloc((n ? n : 1) * sizeof(size_t));
    uint64_t *nbytes = (uint64_t *)malloc((n ? n : 1) * sizeof(uint64_t));
    json_t *root = json_object();
    char *hdr = NULL;
    if (!idx || !nbytes || !root) { rc = lmc_errf(err, LMC_ENOMEM, "out of memory"); goto out; }
    for (size_t i = 0; i < n; i++) {
        idx[i] = i;
        if (ts[i].dtype >= ST_DTYPE_COUNT || ts[i].ndim < 0 || ts[i].ndim > ST_MAX_DIMS || !ts[i].name ||
            strcmp(ts[i].name, "__metadata__") == 0) {
            rc = lmc_errf(err, LMC_EINVAL, "%s: tensor %zu has a bad name, dtype or rank", path, i);
            goto out;
        }
        uint64_t b = st_dtype_size(ts[i].dtype);
        for (int d = 0; d < ts[i].ndim; d++) {
            if (ts[i].shape[d] < 0 || (ts[i].shape[d] && b > UINT64_MAX / (uint64_t)ts[i].shape[d])) {
                rc = lmc_errf(err, LMC_EINVAL, "%s: tensor '%s' has a bad shape", path, ts[i].name);
                goto out;
            }
            b *= (uint64_t)ts[i].shape[d];
        }
        nbytes[i] = b;
    }
    qsort_r(idx, n, sizeof *idx, cmp_out, (void *)ts);
    if (meta) {
        json_t *m = json_object();
        if (!m) { rc = lmc_errf(err, LMC_ENOMEM, "out of memory"); goto out; }
        for (size_t i = 0; meta[i] && meta[i + 1]; i += 2) json_object_set_new(m, meta[i], json_string(meta[i + 1]));
        json_object_set_new(root, "__metadata__", m);
    }
    uint64_t off = 0;
    for (size_t k = 0; k < n; k++) {
        const st_out *t = &ts[idx[k]];
        json_t *e = json_object(), *shape = json_array(), *offs = json_array();
        if (!e || !shape || !offs) { json_decref(e); json_decref(shape); json_decref(offs); rc = lmc_errf(err, LMC_ENOMEM, "out of memory"); goto out; }
        for (int d = 0; d < t->ndim; d++) json_array_append_new(shape, json_integer(t->shape[d]));
        json_array_append_new(offs, json_integer((json_int_t)off));
        json_array_append_new(offs, json_integer((json_int_t)(off + nbytes[idx[k]])));
        json_object_set_new(e, "dtype", json_string(st_dtype_name(t->dtype)));
        json_object_set_new(e, "shape", shape);
        json_object_set_new(e, "data_offsets", offs);
        if (json_object_get(root, t->name)) {
            json_decref(e);
            rc = lmc_errf(err, LMC_EINVAL, "%s: duplicate tensor name '%s'", path, t->name);
            goto out;
        }
        json_object_set_new(root, t->name, e);
        off += nbytes[idx[k]];
    }
    hdr = json_dumps(root, JSON_COMPACT);
    if (!hdr) { rc = lmc_errf(err, LMC_ENOMEM, "out of memory"); goto out; }
    size_t hl = strlen(hdr), padded = (hl + 7) / 8 * 8;
    if (padded > ST_MAX_HEADER) { rc = lmc_errf(err, LMC_EINVAL, "%s: header would exceed 100 MB", path); goto out; }
    lmc_atomic w;
    if ((rc = lmc_atomic_open(&w, path, err))) goto out;
    uint8_t len8[8];
    for (int i = 0; i < 8; i++) len8[i] = (uint8_t)((uint64_t)padded >> (8 * i));
    errno = 0;
    int bad = fwrite(len8, 1, 8, w.fp) != 8 || fwrite(hdr, 1, hl, w.fp) != hl;
    for (size_t i = hl; i < padded && !bad; i++) bad = fputc(' ', w.fp) == EOF;
    for (size_t k = 0; k < n && !bad; k++)
        if (nbytes[idx[k]] && fwrite(ts[idx[k]].data, 1, nbytes[idx[k]], w.fp) != nbytes[idx[k]]) bad = 1;
    if (bad) {
        int e = errno; /* before the abort's unlink/fclose can change it */
        lmc_atomic_abort(&w);
        rc = lmc_errf(err, LMC_EIO, "%s: write failed: %s", path, e ? strerror(e) : "I/O error");
        goto out;
    }
    rc = lmc_atomic_commit(&w, err);
out:
    free(hdr);
    json_decref(root);
    free(idx);
    free(nbytes);
    return rc;
}
