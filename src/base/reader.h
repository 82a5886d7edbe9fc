/* Streaming readers over plain, gzip (.gz) and zstd (.zst) files, picked by magic bytes (not by name),
 * and a line reader on top that returns lines of any length (a 100 MB line is fine).
 *
 * Truncated or corrupt compressed input is an error naming the file and the byte offset,
 * never a silent short read. */
#ifndef LMC_BASE_READER_H
#define LMC_BASE_READER_H

#include <stddef.h>
#include <stdint.h>
#include "base/error.h"

typedef enum { LMC_COMP_NONE = 0, LMC_COMP_GZIP, LMC_COMP_ZSTD } lmc_compression;

typedef struct lmc_reader lmc_reader;

/* Open `path` ("-" = stdin) for streaming decompressed reads. */
int lmc_reader_open(lmc_reader **r, const char *path, lmc_err *err);
/* Read up to n decompressed bytes. Returns bytes read (>0), 0 at a clean end, <0 on error. */
long lmc_reader_read(lmc_reader *r, void *buf, size_t n, lmc_err *err);
lmc_compression lmc_reader_compression(const lmc_reader *r);
const char *lmc_reader_path(const lmc_reader *r);
/* Compressed bytes consumed so far (for progress). */
uint64_t lmc_reader_raw_offset(const lmc_reader *r);
void lmc_reader_close(lmc_reader *r);

/* Read a whole (possibly compressed) file into memory. */
int lmc_read_all(const char *path, char **data, size_t *len, lmc_err *err);

/* Line reader: lines split on '\n'; the '\n' is not included; a final line without '\n' is returned. */
typedef struct lmc_lines lmc_lines;
int lmc_lines_open(lmc_lines **lr, const char *path, lmc_err *err);
/* Returns 1 with *line and *len set (valid until the next call), 0 at end, <0 on error. */
int lmc_lines_next(lmc_lines *lr, const char **line, size_t *len, lmc_err *err);
/* 1-based number of the line last returned. */
uint64_t lmc_lines_lineno(const lmc_lines *lr);
uint64_t lmc_lines_raw_offset(const lmc_lines *lr);
const char *lmc_lines_path(const lmc_lines *lr);
void lmc_lines_close(lmc_lines *lr);

#endif
