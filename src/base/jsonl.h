/* A JSON Lines writer for metrics: one object per line, flushed per line so `tail -f` and a crash
 * both see whole records. Built field by field (no tree), numbers printed exactly (%.17g for doubles
 * unless a float precision is asked), non-finite numbers written as null (JSON has no NaN). */
#ifndef LMC_BASE_JSONL_H
#define LMC_BASE_JSONL_H

#include <stdio.h>
#include <stdint.h>
#include "base/error.h"
#include "base/mem.h"

typedef struct lmc_jsonl {
    FILE *fp;
    char *path;
    lmc_buf line;
    int nfields;
    int own_fp;
} lmc_jsonl;

/* Open for appending (append=1) or truncating. path "-" = stdout. */
int lmc_jsonl_open(lmc_jsonl *w, const char *path, int append, lmc_err *err);
/* Wrap an existing FILE* (not closed by lmc_jsonl_close). */
void lmc_jsonl_wrap(lmc_jsonl *w, FILE *fp);
void lmc_jsonl_begin(lmc_jsonl *w);
void lmc_jsonl_int(lmc_jsonl *w, const char *key, int64_t v);
void lmc_jsonl_num(lmc_jsonl *w, const char *key, double v);
void lmc_jsonl_str(lmc_jsonl *w, const char *key, const char *v);
void lmc_jsonl_bool(lmc_jsonl *w, const char *key, int v);
/* Append a pre-serialized JSON value (object/array) under key. */
void lmc_jsonl_raw(lmc_jsonl *w, const char *key, const char *json);
int lmc_jsonl_end(lmc_jsonl *w, lmc_err *err);   /* writes "}\n" and flushes */
int lmc_jsonl_close(lmc_jsonl *w, lmc_err *err);

/* Append a JSON-escaped string (with quotes) to a buffer. Invalid UTF-8 bytes become \ufffd. */
int lmc_json_escape(lmc_buf *b, const char *s, size_t n, lmc_err *err);

#endif
