/* Token shards, in llm.c's .bin layout (the de-facto interchange format for pretokenized data):
 *   header: 256 x int32 little-endian: [0] magic, [1] version, [2] token count, rest 0
 *   magic 20240520 version 1 -> uint16 tokens (vocabularies up to 65,536)
 *   magic 20240801 version 7 -> uint32 tokens (larger vocabularies)
 * Also read: nanoGPT's headerless uint16 .bin, only when asked for (LMC_SHARD_NANOGPT): a file without
 * the magic is otherwise an error, so a damaged header is never read as tokens.
 *
 * Readers map the file; writers write atomically (temp file, header patched at the end, rename). */
#ifndef LMC_DATA_SHARD_H
#define LMC_DATA_SHARD_H

#include <stdint.h>
#include <stdio.h>
#include "base/error.h"
#include "base/io.h"

#define LMC_SHARD_MAGIC_U16 20240520
#define LMC_SHARD_MAGIC_U32 20240801
#define LMC_SHARD_HEADER_BYTES 1024

typedef enum { LMC_SHARD_LLMC = 0, LMC_SHARD_NANOGPT } lmc_shard_kind;

typedef struct lmc_shard {
    lmc_map map;
    const unsigned char *tokens; /* start of the token array */
    uint64_t ntok;
    int token_bytes;             /* 2 or 4 */
    lmc_shard_kind kind;
    char *path;
} lmc_shard;

/* Open an llm.c shard (the magic is required). */
int lmc_shard_open(lmc_shard *s, const char *path, lmc_err *err);
/* Open as `kind`: LMC_SHARD_LLMC as above; LMC_SHARD_NANOGPT reads the whole file as uint16 tokens
 * (even size; a file that starts with an llm.c header is refused). */
int lmc_shard_open_kind(lmc_shard *s, const char *path, lmc_shard_kind kind, lmc_err *err);
/* "llmc" (or empty) / "nanogpt" -> kind; -1 for anything else. */
int lmc_shard_kind_parse(const char *name, lmc_shard_kind *kind);
void lmc_shard_close(lmc_shard *s);
static inline uint32_t lmc_shard_get(const lmc_shard *s, uint64_t i) {
    if (s->token_bytes == 2) {
        const unsigned char *p = s->tokens + 2 * i;
        return (uint32_t)p[0] | ((uint32_t)p[1] << 8);
    }
    const unsigned char *p = s->tokens + 4 * i;
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
/* Copy tokens [start, start+n) into out as int32. Caller checks the range. */
void lmc_shard_read(const lmc_shard *s, uint64_t start, uint64_t n, int32_t *out);
/* Largest token id in the shard (a full scan; for validating against a vocabulary). */
uint32_t lmc_shard_max_token(const lmc_shard *s);

typedef struct lmc_shard_writer {
    lmc_atomic file;
    uint64_t ntok;
    int token_bytes;
    unsigned char *buf;
    size_t buf_len;
} lmc_shard_writer;

/* vocab_size picks the token width: <= 65536 -> uint16, else uint32. */
int lmc_shard_writer_open(lmc_shard_writer *w, const char *path, uint32_t vocab_size, lmc_err *err);
int lmc_shard_writer_put(lmc_shard_writer *w, const uint32_t *tokens, size_t n, lmc_err *err);
int lmc_shard_writer_commit(lmc_shard_writer *w, lmc_err *err);
void lmc_shard_writer_abort(lmc_shard_writer *w);

#endif
