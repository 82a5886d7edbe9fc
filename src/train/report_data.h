/* What `lmc report` reads of a run: every numeric series of RUN/metrics.jsonl (nested objects
 * flattened to "a/b" keys; step, tokens and elapsed_s are the x axes), the resolved config.yaml, the
 * last section of samples.txt, the checkpoint folders and train.log's hardware lines. A run may also
 * be a TensorBoard event file or a folder of them (RUN/tb, another tool's log dir): every scalar tag
 * is a series, x = step, wall clock = wall_time since the first event (or an elapsed_s tag), tokens
 * from a "tokens" tag when there is one. */
#ifndef LMC_TRAIN_REPORT_DATA_H
#define LMC_TRAIN_REPORT_DATA_H

#include <stddef.h>
#include <stdint.h>
#include "base/error.h"

typedef struct report_series {
    char *key;
    size_t n, cap;
    double *step, *tok, *wall, *y; /* tok / wall NAN where unknown */
    double lo, hi;                 /* range of the finite y values (every point, before any thinning) */
} report_series;

typedef struct report_ckpt {
    char name[64];
    int complete;        /* has DONE */
    double bytes;        /* model.safetensors */
} report_ckpt;

typedef struct report_run {
    char *path;
    char name[256];
    int from_events;     /* read from TensorBoard event files */
    report_series *s;
    size_t ns, cap;
    int64_t last_step, skipped, records;
    double last_tokens, last_wall;
    char **cfg_keys, **cfg_vals; /* "section.key" -> value, in file order */
    size_t ncfg;
    char *sample;        /* last samples.txt section (NULL = none) */
    int64_t sample_step;
    report_ckpt *ckpt;
    size_t nckpt;
    char hw_run[600], hw_compute[600], hw_cpu[300];
} report_run;

/* Load a run directory, an event file or a folder of event files. */
int report_run_load(report_run *r, const char *path, lmc_err *err);
void report_run_free(report_run *r);

/* Add one point to series `key` (created on first use). A step at or below the series' last one
 * restarts it from there (a resumed run that rewrote its tail). */
int report_run_add(report_run *r, const char *key, double step, double tok, double wall, double y, lmc_err *err);
/* The series named key, or NULL. */
const report_series *report_run_series(const report_run *r, const char *key);

#endif
