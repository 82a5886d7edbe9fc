/* Loss-mask sidecars: an optional file X.mask next to a token shard X.bin (the shard itself stays a plain
 * llm.c file, byte for byte), one bit per token: 1 = the token counts as a TARGET in the loss.
 *
 * Layout (docs/train.md, "Loss masks, MeCo and annotation anchoring"), all little-endian:
 *   bytes  0..7   magic "LMCMASK\0"
 *   bytes  8..11  uint32 version = 1
 *   bytes 12..15  uint32 0 (reserved)
 *   bytes 16..23  uint64 token count (must equal the shard's)
 *   bytes 24..31  0 (reserved)
 *   bytes 32..    ceil(count / 8) bytes: token i is bit (i % 8) of byte 32 + i / 8 (LSB first);
 *                 the unused high bits of the last byte are 0
 * Readers map the file; the writer writes atomically (temp file, header patched at the end, rename). */
#ifndef LMC_DATA_MASK_H
#define LMC_DATA_MASK_H

#include <stdint.h>
#include "base/error.h"
#include "base/io.h"

#define LMC_MASK_MAGIC "LMCMASK"  /* 8 bytes with its NUL */
#define LMC_MASK_VERSION 1
#define LMC_MASK_HEADER_BYTES 32

typedef struct lmc_mask {
    lmc_map map;
    const unsigned char *bits;  /* NULL = no mask (every token is a target) */
    uint64_t ntok;
} lmc_mask;

/* The sidecar path of a shard: "X.bin" -> "X.mask", any other name -> name + ".mask". Caller frees. */
char *lmc_mask_path(const char *shard_path);
/* Open `path` and check it against the shard's token count: a bad magic/version/size, or a count other than
 * `want_ntok`, is an error naming the file, the expected and the found count. */
int lmc_mask_open(lmc_mask *m, const char *path, uint64_t want_ntok, lmc_err *err);
void lmc_mask_close(lmc_mask *m);
static inline int lmc_mask_get(const lmc_mask *m, uint64_t i) {
    return !m->bits || ((m->bits[i >> 3] >> (i & 7)) & 1);
}

typedef struct lmc_mask_writer {
    lmc_atomic file;
    uint64_t ntok;
    unsigned char cur;  /* bits of the byte being filled */
} lmc_mask_writer;

int lmc_mask_writer_open(lmc_mask_writer *w, const char *path, lmc_err *err);
/* Append n bits (bits[i] != 0 -> 1). */
int lmc_mask_writer_put(lmc_mask_writer *w, const uint8_t *bits, size_t n, lmc_err *err);
int lmc_mask_writer_commit(lmc_mask_writer *w, lmc_err *err);
void lmc_mask_writer_abort(lmc_mask_writer *w);

#endif
