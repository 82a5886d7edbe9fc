/* GGUF files (ggml's format, the one llama.cpp runs; spec: ggml docs/gguf.md, version 3).
 *
 * Layout: u32 magic "GGUF", u32 version (3), u64 tensor count, u64 KV count; the KV pairs (string key,
 * u32 value type, value); the tensor infos (string name, u32 n_dims, u64 ne[n_dims] innermost first,
 * u32 ggml type, u64 offset relative to the data section); zero padding to the alignment
 * (general.alignment, u32, default 32); the tensor data, each tensor starting at a multiple of the
 * alignment, in the order of the infos. Strings are u64 length + bytes (no NUL). All little-endian.
 *
 * The reader (gguf_parse / gguf_open) is a parser of untrusted input and enforces, with checked 64-bit
 * arithmetic everywhere (the GGUF CVE classes: ../shared/reference/formats-and-reliability.md §2.3):
 *   - magic, version 2 or 3; tensor and KV counts bounded by the bytes left (each entry's minimum size)
 *     and by GGUF_MAX_TENSORS / GGUF_MAX_KV;
 *   - every string length <= bytes left and <= GGUF_MAX_STRING; keys non-empty and unique; tensor names
 *     non-empty, < GGUF_MAX_NAME bytes and unique;
 *   - value types known; bool is 0 or 1; arrays: element type known, not an array (no nesting), count
 *     bounded by bytes left / element size before anything is read;
 *   - general.alignment, when present, of type u32, a power of two in [1, GGUF_MAX_ALIGNMENT];
 *   - n_dims in [1, 4]; every ne in [1, INT64_MAX]; the element count and byte size computed with
 *     overflow checks; type one of F32, F16, BF16, Q8_0 (others: an error naming the type); the
 *     innermost dimension a multiple of the type's block size;
 *   - each tensor's offset equal to the running padded size of the tensors before it (what ggml
 *     requires) and its data inside the file.
 * Typed getters check the declared type of a key, arrays their element type, before reading.
 *
 * The writer collects KV pairs and tensors and writes the file atomically (temp + rename). */
#ifndef LMC_INTEROP_GGUF_H
#define LMC_INTEROP_GGUF_H

#include <stddef.h>
#include <stdint.h>
#include "base/error.h"
#include "base/io.h"
#include "base/mem.h"

#define GGUF_MAGIC 0x46554747u /* "GGUF" little-endian */
#define GGUF_VERSION 3u
#define GGUF_DEFAULT_ALIGNMENT 32u
#define GGUF_MAX_ALIGNMENT (1u << 20)
#define GGUF_MAX_NAME 64          /* tensor names: strictly shorter (ggml's GGML_MAX_NAME) */
#define GGUF_MAX_STRING (1ull << 30)
#define GGUF_MAX_TENSORS (1u << 20)
#define GGUF_MAX_KV (1u << 20)
#define GGUF_MAX_DIMS 4

/* Value types. */
enum {
    GGUF_T_UINT8 = 0, GGUF_T_INT8 = 1, GGUF_T_UINT16 = 2, GGUF_T_INT16 = 3, GGUF_T_UINT32 = 4, GGUF_T_INT32 = 5,
    GGUF_T_FLOAT32 = 6, GGUF_T_BOOL = 7, GGUF_T_STRING = 8, GGUF_T_ARRAY = 9, GGUF_T_UINT64 = 10, GGUF_T_INT64 = 11,
    GGUF_T_FLOAT64 = 12, GGUF_T_COUNT
};
/* ggml tensor types lmc reads and writes (ggml's numbering). */
enum { GGML_T_F32 = 0, GGML_T_F16 = 1, GGML_T_Q8_0 = 8, GGML_T_BF16 = 30 };
/* general.file_type values (llama.cpp's LlamaFileType). */
enum { GGUF_FT_ALL_F32 = 0, GGUF_FT_MOSTLY_F16 = 1, GGUF_FT_MOSTLY_Q8_0 = 7, GGUF_FT_MOSTLY_BF16 = 32 };

#define GGUF_Q8_0_BLOCK 32   /* values per block */
#define GGUF_Q8_0_BYTES 34   /* fp16 scale + 32 int8 */

/* "f32", "f16", "bf16", "q8_0" (NULL for others). */
const char *ggml_type_name(uint32_t type);
/* Bytes of n elements of a supported type (n a multiple of the block size); 0 for an unknown type. */
uint64_t ggml_type_bytes(uint32_t type, uint64_t n);

/* Q8_0 as ggml's quantize_row_q8_0_ref: per block of 32, d = max|x| / 127, q = round-half-away(x / d)
 * (computed as x * (1/d)), d stored as fp16. n must be a multiple of 32; out gets n / 32 * 34 bytes. */
void gguf_quantize_q8_0(const float *x, uint64_t n, uint8_t *out);
void gguf_dequantize_q8_0(const uint8_t *in, uint64_t n, float *out);

/* ---- reading ---- */
typedef struct gguf_kv {
    char *key;             /* NUL-terminated copy */
    uint32_t type;         /* GGUF_T_* */
    uint32_t arr_type;     /* arrays: element type */
    uint64_t arr_n;        /* arrays: element count */
    const uint8_t *val;    /* scalars: the value bytes; strings: the bytes after the length; arrays: the first element */
    uint64_t val_len;      /* bytes at val (strings: the length) */
} gguf_kv;

typedef struct gguf_tensor {
    char name[GGUF_MAX_NAME];
    uint32_t n_dims;
    int64_t ne[GGUF_MAX_DIMS]; /* ne[0] innermost; unused dims are 1 */
    uint32_t type;             /* GGML_T_* */
    uint64_t offset;           /* relative to the data section */
    uint64_t numel, nbytes;
    const uint8_t *data;
} gguf_tensor;

typedef struct gguf_file {
    char *path;
    lmc_map map;
    const uint8_t *buf;
    size_t len;
    uint32_t version, alignment;
    size_t n_kv, n_tensors;
    gguf_kv *kv;
    gguf_tensor *tensors;
    uint64_t data_offset;      /* start of the data section in the file */
} gguf_file;

int gguf_open(gguf_file *f, const char *path, lmc_err *err);
/* Validate a buffer in memory (kept by reference; name is used in messages). */
int gguf_parse(gguf_file *f, const uint8_t *buf, size_t len, const char *name, lmc_err *err);
void gguf_close(gguf_file *f);

const gguf_kv *gguf_find_kv(const gguf_file *f, const char *key);
const gguf_tensor *gguf_find_tensor(const gguf_file *f, const char *name);
/* Typed getters: LMC_ENOTFOUND when absent, LMC_EFORMAT naming the key when the type is wrong or the
 * value out of range. Integers accept any integer type whose value fits. */
int gguf_get_uint(const gguf_file *f, const char *key, uint64_t max, uint64_t *out, lmc_err *err);
int gguf_get_float(const gguf_file *f, const char *key, double *out, lmc_err *err);
int gguf_get_bool(const gguf_file *f, const char *key, int *out, lmc_err *err);
/* The string (not NUL-terminated) and its length. */
int gguf_get_str(const gguf_file *f, const char *key, const char **s, size_t *len, lmc_err *err);
/* An array of elem_type (checked): *n elements at *data (strings: use gguf_arr_strings). */
int gguf_get_arr(const gguf_file *f, const char *key, uint32_t elem_type, const uint8_t **data, uint64_t *n,
                 lmc_err *err);
/* The strings of a string array: malloc'd arrays of pointers and lengths (free both). */
int gguf_arr_strings(const gguf_file *f, const char *key, const char ***s, uint64_t **lens, uint64_t *n,
                     lmc_err *err);
/* A tensor's values as floats (F32, F16, BF16, Q8_0); n must equal numel. */
int gguf_tensor_f32(const gguf_file *f, const gguf_tensor *t, float *out, uint64_t n, lmc_err *err);

/* ---- writing ---- */
typedef struct gguf_wtensor {
    char name[GGUF_MAX_NAME];
    uint32_t n_dims, type;
    int64_t ne[GGUF_MAX_DIMS];
    void *data;            /* owned */
    uint64_t nbytes;
} gguf_wtensor;

typedef struct gguf_writer {
    lmc_buf kv;            /* serialised KV pairs */
    uint64_t n_kv;
    uint32_t alignment;
    size_t n_t, cap_t;
    gguf_wtensor *t;
} gguf_writer;

void gguf_writer_init(gguf_writer *w, uint32_t alignment); /* 0 = 32; other values are written as general.alignment */
void gguf_writer_free(gguf_writer *w);
int gguf_w_str(gguf_writer *w, const char *key, const char *val, lmc_err *err);
int gguf_w_u32(gguf_writer *w, const char *key, uint32_t val, lmc_err *err);
int gguf_w_f32(gguf_writer *w, const char *key, float val, lmc_err *err);
int gguf_w_bool(gguf_writer *w, const char *key, int val, lmc_err *err);
/* Strings with explicit lengths (lens NULL: NUL-terminated). */
int gguf_w_arr_str(gguf_writer *w, const char *key, const char *const *vals, const size_t *lens, size_t n,
                   lmc_err *err);
int gguf_w_arr_i32(gguf_writer *w, const char *key, const int32_t *vals, size_t n, lmc_err *err);
/* Add a tensor of `type` from n = prod(ne) floats, converted (F32/F16/BF16/Q8_0); ne innermost first. */
int gguf_w_tensor_f32(gguf_writer *w, const char *name, uint32_t type, uint32_t n_dims, const int64_t *ne,
                      const float *x, lmc_err *err);
/* Write the file atomically. */
int gguf_write(const gguf_writer *w, const char *path, lmc_err *err);

#endif
