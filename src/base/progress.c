/* Progress reporter. See progress.h. */
#include "base/progress.h"

#include <stdarg.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static lmc_progress_mode g_default_mode = LMC_PROGRESS_AUTO;

void lmc_progress_set_default_mode(lmc_progress_mode m) { g_default_mode = m; }
lmc_progress_mode lmc_progress_default_mode(void) { return g_default_mode; }

double lmc_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

char *lmc_fmt_bytes(char *buf, size_t n, double b) {
    const char *u[] = {"B", "kB", "MB", "GB", "TB"};
    int i = 0;
    while (b >= 1000.0 && i < 4) { b /= 1000.0; i++; }
    snprintf(buf, n, i ? "%.2f %s" : "%.0f %s", b, u[i]);
    return buf;
}

char *lmc_fmt_count(char *buf, size_t n, double c) {
    const char *u[] = {"", "k", "M", "G", "T"};
    int i = 0;
    while (c >= 1000.0 && i < 4) { c /= 1000.0; i++; }
    snprintf(buf, n, i ? "%.2f%s" : "%.0f%s", c, u[i]);
    return buf;
}

char *lmc_fmt_duration(char *buf, size_t n, double s) {
    if (s < 0 || s != s || s > 1e9) { snprintf(buf, n, "--"); return buf; }
    long t = (long)(s + 0.5);
    if (t >= 3600) snprintf(buf, n, "%ldh%02ldm%02lds", t / 3600, (t / 60) % 60, t % 60);
    else if (t >= 60) snprintf(buf, n, "%ldm%02lds", t / 60, t % 60);
    else snprintf(buf, n, "%.1fs", s);
    return buf;
}

void lmc_progress_start(lmc_progress *p, const char *label, uint64_t total, const char *unit) {
    memset(p, 0, sizeof *p);
    p->label = label;
    p->unit = unit ? unit : "";
    p->total = total;
    p->interval = 10.0;
    p->out = stderr;
    p->mode = g_default_mode;
    if (p->mode == LMC_PROGRESS_AUTO) p->mode = isatty(fileno(stderr)) ? LMC_PROGRESS_TTY : LMC_PROGRESS_PLAIN;
    p->t_start = p->t_last_print = lmc_now();
}

static void fmt_amount(const lmc_progress *p, char *buf, size_t n, double v) {
    if (!strcmp(p->unit, "B")) lmc_fmt_bytes(buf, n, v);
    else {
        char c[32];
        snprintf(buf, n, "%s %s", lmc_fmt_count(c, sizeof c, v), p->unit);
    }
}

static void print_line(lmc_progress *p, int final) {
    double now = lmc_now(), el = now - p->t_start;
    double rate = el > 0 ? (double)p->done / el : 0;
    char done[48], tot[48], rt[48], eta[32], elap[32];
    fmt_amount(p, done, sizeof done, (double)p->done);
    fmt_amount(p, rt, sizeof rt, rate);
    char line[512];
    if (p->line_only && !final) {
        snprintf(line, sizeof line, "%s: %s", p->label, p->extra);
    } else if (p->line_only) { /* no rate of our own next to the caller's */
        snprintf(line, sizeof line, "%s: %s in %s (done)%s%s", p->label, done, lmc_fmt_duration(elap, sizeof elap, el),
                 p->extra[0] ? "  " : "", p->extra);
    } else if (p->total && !final) {
        fmt_amount(p, tot, sizeof tot, (double)p->total);
        double left = rate > 0 ? (double)(p->total - (p->done < p->total ? p->done : p->total)) / rate : -1;
        snprintf(line, sizeof line, "%s: %s / %s (%.1f%%) %s/s ETA %s%s%s", p->label, done, tot,
                 100.0 * (double)p->done / (double)p->total, rt, lmc_fmt_duration(eta, sizeof eta, left),
                 p->extra[0] ? "  " : "", p->extra);
    } else {
        snprintf(line, sizeof line, "%s: %s in %s, %s/s%s%s%s", p->label, done,
                 lmc_fmt_duration(elap, sizeof elap, el), rt, final ? " (done)" : "",
                 p->extra[0] ? "  " : "", p->extra);
    }
    if (p->mode == LMC_PROGRESS_TTY) {
        fprintf(p->out, "\r\033[K%s", line);
        if (final) fputc('\n', p->out);
        p->printed = !final;
    } else {
        fprintf(p->out, "%s\n", line);
    }
    fflush(p->out);
    p->t_last_print = now;
}

static void maybe_print(lmc_progress *p) {
    if (p->mode == LMC_PROGRESS_QUIET) return;
    double now = lmc_now();
    double every = p->mode == LMC_PROGRESS_TTY ? 0.1 : p->interval;
    if (now - p->t_last_print >= every) print_line(p, 0);
}

void lmc_progress_set(lmc_progress *p, uint64_t done) {
    if (!p) return;
    p->done = done;
    maybe_print(p);
}

void lmc_progress_add(lmc_progress *p, uint64_t n) {
    if (!p) return;
    p->done += n;
    maybe_print(p);
}

void lmc_progress_note(lmc_progress *p, const char *fmt, ...) {
    if (!p) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->extra, sizeof p->extra, fmt, ap);
    va_end(ap);
}

void lmc_progress_finish(lmc_progress *p) {
    if (!p || p->mode == LMC_PROGRESS_QUIET) return;
    print_line(p, 1);
}
