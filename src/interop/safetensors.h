/* safetensors reading and writing (https://github.com/huggingface/safetensors, README "Format").
 *
 * Layout: u64 little-endian N; N bytes of UTF-8 JSON header {"name": {"dtype","shape","data_offsets"},
 * "__metadata__": {str: str}}; then the byte buffer. The reader enforces every rule of the reference
 * parser: N <= 100,000,000; 8 + N <= file length; header UTF-8 JSON object starting with '{' (leading and
 * trailing whitespace tolerated); no duplicate names; known dtype; shape entries non-negative integers;
 * shape product * dtype size computed with checked arithmetic and equal to end - begin; offsets sorted
 * are contiguous from 0 with no gap or overlap; the last end + 8 + N == file length exactly;
 * __metadata__ is a string->string map. Errors name the file and what was wrong.
 *
 * The writer sorts tensors by dtype alignment (descending) then name, packs them from offset 0, pads the
 * header with spaces to a multiple of 8 and writes the file atomically (temp + rename). */
#ifndef LMC_INTEROP_SAFETENSORS_H
#define LMC_INTEROP_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>
#include "base/error.h"
#include "base/io.h"

#define ST_MAX_HEADER 100000000ull
#define ST_MAX_DIMS 8

typedef enum {
    ST_BOOL, ST_U8, ST_I8, ST_I16, ST_U16, ST_F16, ST_BF16, ST_I32, ST_U32, ST_F32,
    ST_F64, ST_I64, ST_U64, ST_F8_E5M2, ST_F8_E4M3, ST_C64, ST_DTYPE_COUNT
} st_dtype;

const char *st_dtype_name(st_dtype d);
/* Bytes per element. */
size_t st_dtype_size(st_dtype d);
/* Parse a dtype name; -1 if unknown. */
int st_dtype_parse(const char *s);

typedef struct st_tensor {
    char *name;
    st_dtype dtype;
    int ndim;
    int64_t shape[ST_MAX_DIMS];
    uint64_t numel;
    uint64_t begin, end;     /* byte offsets within the data section */
    const uint8_t *data;     /* points into the mapped/parsed buffer (may be unaligned) */
} st_tensor;

typedef struct st_file {
    char *path;              /* for messages */
    lmc_map map;             /* when opened from a file */
    const uint8_t *buf;      /* whole file bytes */
    size_t len;
    size_t n_tensors;
    st_tensor *tensors;      /* in header order */
    size_t n_meta;
    char **meta_keys, **meta_vals;
} st_file;

/* Map and validate a file. On error nothing needs freeing. */
int st_open(st_file *f, const char *path, lmc_err *err);
/* Validate a buffer already in memory (kept by reference; `name` is used in messages). */
int st_parse(st_file *f, const uint8_t *buf, size_t len, const char *name, lmc_err *err);
void st_close(st_file *f);

const st_tensor *st_find(const st_file *f, const char *name);
const char *st_meta(const st_file *f, const char *key);
/* Convert a tensor of F32/F16/BF16/F64 into floats; n must equal t->numel. */
int st_read_f32(const st_file *f, const st_tensor *t, float *out, uint64_t n, lmc_err *err);

typedef struct st_out {
    const char *name;
    st_dtype dtype;
    int ndim;
    int64_t shape[ST_MAX_DIMS];
    const void *data;        /* numel * dtype size bytes, little-endian */
} st_out;

/* Write tensors + metadata (meta: key, value, key, value, ..., NULL; may be NULL) atomically. */
int st_write(const char *path, const st_out *tensors, size_t n, const char *const *meta, lmc_err *err);

/* fp16 / bf16 <-> fp32 scalar conversions (bf16 from f32 rounds to nearest even). */
float st_f16_to_f32(uint16_t h);
float st_bf16_to_f32(uint16_t h);
uint16_t st_f32_to_bf16(float f);
uint16_t st_f32_to_f16(float f);

#endif
