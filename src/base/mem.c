/* Aligned allocation, arenas and growable buffers. See mem.h. */
#include "base/mem.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int lmc_mul_size(size_t a, size_t b, size_t *out) {
    if (a && b > SIZE_MAX / a) return -1;
    *out = a * b;
    return 0;
}

int lmc_add_size(size_t a, size_t b, size_t *out) {
    if (b > SIZE_MAX - a) return -1;
    *out = a + b;
    return 0;
}

void *lmc_alloc(size_t size, lmc_err *err) {
    size_t rounded;
    if (lmc_add_size(size ? size : 1, LMC_ALIGN - 1, &rounded)) {
        lmc_errf(err, LMC_ENOMEM, "allocation of %zu bytes overflows", size);
        return NULL;
    }
    rounded &= ~(size_t)(LMC_ALIGN - 1);
    void *p = aligned_alloc(LMC_ALIGN, rounded);
    if (!p) {
        lmc_errf(err, LMC_ENOMEM, "out of memory allocating %zu bytes", size);
        return NULL;
    }
    memset(p, 0, rounded);
    return p;
}

void *lmc_alloc_array(size_t n, size_t size, lmc_err *err) {
    size_t total;
    if (lmc_mul_size(n, size, &total)) {
        lmc_errf(err, LMC_ENOMEM, "allocation of %zu x %zu bytes overflows", n, size);
        return NULL;
    }
    return lmc_alloc(total, err);
}

void lmc_free(void *p) { free(p); }

struct lmc_arena_block {
    struct lmc_arena_block *next;
    size_t used, cap;
    _Alignas(16) unsigned char data[];
};

void lmc_arena_init(lmc_arena *a, size_t block_size) {
    a->head = NULL;
    a->block_size = block_size ? block_size : (1u << 20);
}

void *lmc_arena_alloc(lmc_arena *a, size_t size, lmc_err *err) {
    size = (size + 15) & ~(size_t)15;
    struct lmc_arena_block *b = a->head;
    if (!b || b->cap - b->used < size) {
        size_t cap = size > a->block_size ? size : a->block_size;
        b = malloc(sizeof *b + cap);
        if (!b) {
            lmc_errf(err, LMC_ENOMEM, "out of memory (arena block of %zu bytes)", cap);
            return NULL;
        }
        b->used = 0;
        b->cap = cap;
        b->next = a->head;
        a->head = b;
    }
    void *p = b->data + b->used;
    b->used += size;
    return p;
}

char *lmc_arena_strndup(lmc_arena *a, const char *s, size_t n, lmc_err *err) {
    char *p = lmc_arena_alloc(a, n + 1, err);
    if (!p) return NULL;
    memcpy(p, s, n);
    p[n] = 0;
    return p;
}

void lmc_arena_free(lmc_arena *a) {
    struct lmc_arena_block *b = a->head;
    while (b) {
        struct lmc_arena_block *next = b->next;
        free(b);
        b = next;
    }
    a->head = NULL;
}

int lmc_buf_reserve(lmc_buf *b, size_t extra, lmc_err *err) {
    size_t need;
    if (lmc_add_size(b->len, extra + 1, &need))
        return lmc_errf(err, LMC_ENOMEM, "buffer size overflows");
    if (need <= b->cap) return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need) {
        if (cap > SIZE_MAX / 2) { cap = need; break; }
        cap *= 2;
    }
    char *p = realloc(b->data, cap);
    if (!p) return lmc_errf(err, LMC_ENOMEM, "out of memory growing a buffer to %zu bytes", cap);
    b->data = p;
    b->cap = cap;
    return 0;
}

int lmc_buf_append(lmc_buf *b, const void *p, size_t n, lmc_err *err) {
    if (lmc_buf_reserve(b, n, err)) return LMC_ENOMEM;
    if (n) memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = 0;
    return 0;
}

int lmc_buf_printf(lmc_buf *b, lmc_err *err, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) return lmc_errf(err, LMC_EINVAL, "bad format");
    if (lmc_buf_reserve(b, (size_t)n, err)) return LMC_ENOMEM;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

int lmc_buf_put_utf8(lmc_buf *b, uint32_t c, lmc_err *err) {
    if (b->len + 5 > b->cap && lmc_buf_reserve(b, 4, err)) return LMC_ENOMEM;
    unsigned char *t = (unsigned char *)b->data + b->len;
    size_t k;
    if (c < 0x80) { t[0] = (unsigned char)c; k = 1; }
    else if (c < 0x800) { t[0] = (unsigned char)(0xC0 | (c >> 6)); t[1] = (unsigned char)(0x80 | (c & 0x3F)); k = 2; }
    else if (c < 0x10000) {
        t[0] = (unsigned char)(0xE0 | (c >> 12));
        t[1] = (unsigned char)(0x80 | ((c >> 6) & 0x3F));
        t[2] = (unsigned char)(0x80 | (c & 0x3F));
        k = 3;
    } else {
        t[0] = (unsigned char)(0xF0 | (c >> 18));
        t[1] = (unsigned char)(0x80 | ((c >> 12) & 0x3F));
        t[2] = (unsigned char)(0x80 | ((c >> 6) & 0x3F));
        t[3] = (unsigned char)(0x80 | (c & 0x3F));
        k = 4;
    }
    b->len += k;
    b->data[b->len] = 0;
    return 0;
}

void lmc_buf_free(lmc_buf *b) {
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}
