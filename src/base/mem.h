/* Memory: aligned allocation (64 bytes = one cache line / one zmm register) and a bump arena. */
#ifndef LMC_BASE_MEM_H
#define LMC_BASE_MEM_H

#include <stddef.h>
#include <stdint.h>
#include "base/error.h"

#define LMC_ALIGN 64

/* Aligned, zeroed allocation. Returns NULL and fills err on failure (or size overflow). */
void *lmc_alloc(size_t size, lmc_err *err);
/* Aligned allocation of n elements of `size` bytes, overflow-checked, zeroed. */
void *lmc_alloc_array(size_t n, size_t size, lmc_err *err);
void lmc_free(void *p);

/* Checked arithmetic: return 0 and set *out, or -1 on overflow. */
int lmc_mul_size(size_t a, size_t b, size_t *out);
int lmc_add_size(size_t a, size_t b, size_t *out);

/* A bump arena: many small allocations freed at once. */
typedef struct lmc_arena {
    struct lmc_arena_block *head;
    size_t block_size;
} lmc_arena;

void lmc_arena_init(lmc_arena *a, size_t block_size);
void *lmc_arena_alloc(lmc_arena *a, size_t size, lmc_err *err); /* 16-byte aligned */
char *lmc_arena_strndup(lmc_arena *a, const char *s, size_t n, lmc_err *err);
void lmc_arena_free(lmc_arena *a);

/* A growable byte buffer. */
typedef struct lmc_buf {
    char *data;
    size_t len, cap;
} lmc_buf;

int lmc_buf_reserve(lmc_buf *b, size_t extra, lmc_err *err);
int lmc_buf_append(lmc_buf *b, const void *p, size_t n, lmc_err *err);
int lmc_buf_printf(lmc_buf *b, lmc_err *err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Append one Unicode code point as UTF-8 (1-4 bytes; the caller passes a valid scalar value). */
int lmc_buf_put_utf8(lmc_buf *b, uint32_t cp, lmc_err *err);
void lmc_buf_free(lmc_buf *b);

#endif
