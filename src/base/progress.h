/* Progress reporting. The library reports through an lmc_progress pointer (NULL = no reporting);
 * the command line decides how it is shown:
 *   - on a TTY: one line redrawn in place (\r) at most 10 times a second,
 *   - otherwise: a plain line every `interval` seconds (default 10),
 *   - with --quiet: nothing.
 * A line shows: label, done/total unit, percent, rate, ETA. */
#ifndef LMC_BASE_PROGRESS_H
#define LMC_BASE_PROGRESS_H

#include <stdio.h>
#include <stdint.h>

typedef enum { LMC_PROGRESS_AUTO = 0, LMC_PROGRESS_TTY, LMC_PROGRESS_PLAIN, LMC_PROGRESS_QUIET } lmc_progress_mode;

typedef struct lmc_progress {
    const char *label;
    const char *unit;       /* "B" formats as MB/s etc, anything else is a count ("tok", "docs") */
    uint64_t total;         /* 0 = unknown */
    uint64_t done;
    double t_start, t_last_print;
    double interval;        /* seconds between plain lines */
    lmc_progress_mode mode;
    FILE *out;              /* stderr by default */
    int printed;            /* a TTY line is on screen */
    char extra[256];        /* free text appended to the line (e.g. "loss 3.21") */
    int line_only;          /* running lines show only "label: extra" (the caller's own rates and ETA) */
} lmc_progress;

/* Global default for new reporters: set by the CLI's --quiet. */
void lmc_progress_set_default_mode(lmc_progress_mode m);
lmc_progress_mode lmc_progress_default_mode(void);

void lmc_progress_start(lmc_progress *p, const char *label, uint64_t total, const char *unit);
/* Set the absolute count / add to it. Cheap: prints only when due. Thread-safe callers: one thread. */
void lmc_progress_set(lmc_progress *p, uint64_t done);
void lmc_progress_add(lmc_progress *p, uint64_t n);
/* Set the extra text shown at the end of the line. */
void lmc_progress_note(lmc_progress *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Final line (always printed unless quiet), with the total time and mean rate. */
void lmc_progress_finish(lmc_progress *p);

/* Monotonic wall clock in seconds. */
double lmc_now(void);
/* Format helpers: "1.23 MB", "12.3k", "1h02m03s". Write into buf, return buf. */
char *lmc_fmt_bytes(char *buf, size_t n, double bytes);
char *lmc_fmt_count(char *buf, size_t n, double count);
char *lmc_fmt_duration(char *buf, size_t n, double seconds);

#endif
