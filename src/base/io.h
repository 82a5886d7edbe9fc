/* File io: read a whole file, map it, and write files atomically.
 *
 * Atomic write protocol (so no reader ever sees a half-written output):
 *   1. write to "<path>.tmp.<pid>.<n>" in the same directory,
 *   2. fflush + fsync the file,
 *   3. rename over <path>,
 *   4. fsync the directory so the rename itself is durable.
 * If anything fails, or the writer is aborted, the temp file is removed and <path> is untouched. */
#ifndef LMC_BASE_IO_H
#define LMC_BASE_IO_H

#include <stdio.h>
#include <stddef.h>
#include <stdint.h>
#include "base/error.h"

/* Read the whole file into a malloc'd buffer (NUL-terminated for convenience; *len excludes it). */
int lmc_read_file(const char *path, char **data, size_t *len, lmc_err *err);

/* Read-only memory map. An empty file maps to data == NULL, len == 0. */
typedef struct lmc_map {
    void *data;
    size_t len;
} lmc_map;
int lmc_map_file(const char *path, lmc_map *m, lmc_err *err);
void lmc_unmap(lmc_map *m);

/* Atomic writer. Write through `fp`, then commit (or abort). */
typedef struct lmc_atomic {
    FILE *fp;
    char *path;      /* final path */
    char *tmp_path;  /* temporary sibling */
} lmc_atomic;
int lmc_atomic_open(lmc_atomic *w, const char *path, lmc_err *err);
int lmc_atomic_commit(lmc_atomic *w, lmc_err *err);
void lmc_atomic_abort(lmc_atomic *w);
/* Unlink the temporary file of every writer still open (up to 64). Async-signal-safe: a command's
 * SIGINT/SIGTERM handler calls it, so an interrupted write leaves no OUT.tmp.PID.N behind. */
void lmc_atomic_unlink_all(void);
/* One-shot: write `len` bytes to `path` atomically. */
int lmc_write_file_atomic(const char *path, const void *data, size_t len, lmc_err *err);

/* fsync a directory (after a rename inside it). */
int lmc_fsync_dir(const char *dir, lmc_err *err);
/* mkdir -p. */
int lmc_mkdirs(const char *path, lmc_err *err);
/* rm -rf of a directory tree (used for checkpoint rotation). */
int lmc_remove_tree(const char *path, lmc_err *err);
int lmc_file_exists(const char *path);
int lmc_is_dir(const char *path);
/* Join two path parts into a malloc'd string. */
char *lmc_path_join(const char *a, const char *b);
/* Expand a glob into a sorted, malloc'd list of paths (free with lmc_free_strv). No match = error. */
int lmc_glob(const char *pattern, char ***paths, size_t *n, lmc_err *err);
void lmc_free_strv(char **v, size_t n);

#endif
