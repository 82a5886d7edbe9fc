/* HTML + SVG report of training runs (see report.h). Charts are drawn by hand: a polyline per run
 * and metric in a fixed frame, 1-2-5 axis ticks, and a clip path so the early loss spike does not
 * flatten the rest (the y range ignores the first 5% of each curve). */
#include "train/report.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/io.h"
#include "base/json.h"
#include "base/mem.h"

enum { M_LOSS, M_LR, M_NORM, M_TPS, M_VAL, M_COUNT };
static const char *const metric_key[M_COUNT] = {"loss", "lr", "grad_norm", "tokens_per_s", "val_loss"};

typedef struct series {
    double *x, *tok, *y;
    size_t n, cap;
} series;

typedef struct run_data {
    const char *dir;
    char name[256];
    series s[M_COUNT];
    int64_t last_step, skipped;
    double last_tokens;
} run_data;

static const char *const colors[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                                     "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22"};
#define NCOLORS (sizeof colors / sizeof colors[0])

static int push(series *s, double x, double tok, double y, lmc_err *err) {
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 256;
        double *nx = realloc(s->x, cap * sizeof *nx);
        if (nx) s->x = nx;
        double *nt = realloc(s->tok, cap * sizeof *nt);
        if (nt) s->tok = nt;
        double *ny = realloc(s->y, cap * sizeof *ny);
        if (ny) s->y = ny;
        if (!nx || !nt || !ny) return lmc_errf(err, LMC_ENOMEM, "out of memory");
        s->cap = cap;
    }
    s->x[s->n] = x;
    s->tok[s->n] = tok;
    s->y[s->n] = y;
    s->n++;
    return 0;
}

static int load_run(run_data *r, const char *dir, lmc_err *err) {
    memset(r, 0, sizeof *r);
    r->dir = dir;
    const char *base = dir + strlen(dir);
    while (base > dir && base[-1] == '/') base--;
    const char *end = base;
    while (base > dir && base[-1] != '/') base--;
    snprintf(r->name, sizeof r->name, "%.*s", (int)(end - base), base);
    char *path = lmc_path_join(dir, "metrics.jsonl");
    char *data = NULL;
    size_t len;
    int rc = lmc_read_file(path, &data, &len, err);
    if (rc) {
        free(path);
        return -1;
    }
    uint64_t lineno = 0;
    /* Later records for the same step replace earlier ones (a resumed run), so keep the last. */
    for (char *line = data; *line && !rc;) {
        char *nl = strchr(line, '\n');
        size_t n = nl ? (size_t)(nl - line) : strlen(line);
        lineno++;
        if (n) {
            json_error_t je;
            json_t *j = json_loadb(line, n, 0, &je);
            json_t *st = j ? json_object_get(j, "step") : NULL;
            if (!j || !json_is_integer(st)) {
                rc = lmc_err_at(err, LMC_EFORMAT, path, lineno, 0, "expected a JSON object with an integer \"step\"");
                json_decref(j);
                break;
            }
            json_int_t istep = json_integer_value(st);
            double step = (double)istep; /* the chart's x; last_step keeps the exact integer (a round trip
                                          * through double overflows int64 near INT64_MAX: fuzz_report) */
            json_t *tk = json_object_get(j, "tokens");
            double tok = json_is_number(tk) ? json_number_value(tk) : NAN;
            for (int m = 0; m < M_COUNT && !rc; m++) {
                json_t *v = json_object_get(j, metric_key[m]);
                if (json_is_number(v)) rc = push(&r->s[m], step, tok, json_number_value(v), err);
            }
            if (json_is_true(json_object_get(j, "skipped"))) r->skipped++;
            r->last_step = (int64_t)istep;
            if (tok == tok) r->last_tokens = tok;
            json_decref(j);
        }
        if (!nl) break;
        line = nl + 1;
    }
    free(data);
    free(path);
    return rc;
}

static void free_run(run_data *r) {
    for (int m = 0; m < M_COUNT; m++) {
        free(r->s[m].x);
        free(r->s[m].tok);
        free(r->s[m].y);
    }
}

/* 1-2-5 tick step giving about `want` ticks over span. */
static double nice_step(double span, int want) {
    if (!(span > 0)) return 1;
    double raw = span / want, mag = pow(10, floor(log10(raw))), f = raw / mag;
    return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * mag;
}

static void esc(lmc_buf *b, const char *s, lmc_err *err) {
    for (; *s; s++) {
        switch (*s) {
        case '<': lmc_buf_printf(b, err, "&lt;"); break;
        case '>': lmc_buf_printf(b, err, "&gt;"); break;
        case '&': lmc_buf_printf(b, err, "&amp;"); break;
        case '"': lmc_buf_printf(b, err, "&quot;"); break;
        default: lmc_buf_append(b, s, 1, err);
        }
    }
}

static void fmt_tick(char *buf, size_t n, double v, double step) {
    double a = fabs(v);
    if (v == 0) snprintf(buf, n, "0");
    else if (a >= 1e6 || a < 1e-3) snprintf(buf, n, "%.3g", v);
    else if (step >= 1) snprintf(buf, n, "%.0f", v);
    else snprintf(buf, n, "%.*f", (int)ceil(-log10(step) - 1e-9), v);
}

#define W 640
#define H 300
#define ML 70
#define MR 20
#define MT 30
#define MB 45

typedef struct chart_line {
    const series *s;
    int use_tokens;   /* x = tokens instead of step */
    int color;
    int dashed, dots;
} chart_line;

static int chart(lmc_buf *b, int id, const char *title, const char *xlabel, const chart_line *lines, int n,
                 lmc_err *err) {
    double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
    for (int i = 0; i < n; i++) {
        const series *s = lines[i].s;
        const double *xs = lines[i].use_tokens ? s->tok : s->x;
        size_t skip = s->n >= 20 ? s->n / 20 : 0; /* ignore the first 5% for the y range */
        for (size_t k = 0; k < s->n; k++) {
            if (xs[k] == xs[k]) {
                x0 = fmin(x0, xs[k]);
                x1 = fmax(x1, xs[k]);
            }
            if (k >= skip && isfinite(s->y[k])) {
                y0 = fmin(y0, s->y[k]);
                y1 = fmax(y1, s->y[k]);
            }
        }
    }
    lmc_buf_printf(b, err, "<figure><svg viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" role=\"img\">\n", W, H, W, H);
    lmc_buf_printf(b, err, "<text x=\"%d\" y=\"18\" class=\"t\">", W / 2);
    esc(b, title, err);
    lmc_buf_printf(b, err, "</text>\n");
    if (!(x1 >= x0) || !(y1 >= y0)) {
        lmc_buf_printf(b, err, "<text x=\"%d\" y=\"%d\" class=\"t\">no data</text></svg></figure>\n", W / 2, H / 2);
        return 0;
    }
    if (x1 == x0) x1 = x0 + 1;
    if (y1 == y0) {
        double pad = fabs(y0) > 0 ? fabs(y0) * 0.05 : 1;
        y0 -= pad;
        y1 += pad;
    } else {
        double pad = (y1 - y0) * 0.04;
        y0 -= pad;
        y1 += pad;
    }
    double pw = W - ML - MR, ph = H - MT - MB;
#define PX(v) (ML + ((v) - x0) / (x1 - x0) * pw)
#define PY(v) (MT + ph - ((v) - y0) / (y1 - y0) * ph)
    lmc_buf_printf(b, err, "<clipPath id=\"c%d\"><rect x=\"%d\" y=\"%d\" width=\"%.0f\" height=\"%.0f\"/></clipPath>\n",
                   id, ML, MT, pw, ph);
    lmc_buf_printf(b, err, "<rect x=\"%d\" y=\"%d\" width=\"%.0f\" height=\"%.0f\" class=\"f\"/>\n", ML, MT, pw, ph);
    char t[64];
    double ys = nice_step(y1 - y0, 5);
    /* At most 20 ticks: where the step is below the values' resolution (a huge step number, say)
     * v += ys stops moving, and an unbounded loop grew the page until memory ran out (fuzz_report). */
    int nt = 0;
    for (double v = ceil(y0 / ys) * ys; v <= y1 + ys * 1e-9 && nt < 20; v += ys, nt++) {
        fmt_tick(t, sizeof t, fabs(v) < ys * 1e-9 ? 0 : v, ys);
        lmc_buf_printf(b, err, "<line x1=\"%d\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" class=\"g\"/>"
                       "<text x=\"%d\" y=\"%.1f\" class=\"yl\">%s</text>\n", ML, ML + pw, PY(v), PY(v), ML - 6, PY(v) + 4, t);
    }
    double xs = nice_step(x1 - x0, 6);
    nt = 0;
    for (double v = ceil(x0 / xs) * xs; v <= x1 + xs * 1e-9 && nt < 20; v += xs, nt++) {
        fmt_tick(t, sizeof t, v, xs);
        lmc_buf_printf(b, err, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%.1f\" class=\"g\"/>"
                       "<text x=\"%.1f\" y=\"%.1f\" class=\"xl\">%s</text>\n", PX(v), PX(v), MT, MT + ph, PX(v), MT + ph + 16, t);
    }
    lmc_buf_printf(b, err, "<text x=\"%.1f\" y=\"%d\" class=\"xl\">", ML + pw / 2, H - 6);
    esc(b, xlabel, err);
    lmc_buf_printf(b, err, "</text>\n<g clip-path=\"url(#c%d)\">\n", id);
    for (int i = 0; i < n; i++) {
        const series *s = lines[i].s;
        const double *xv = lines[i].use_tokens ? s->tok : s->x;
        size_t stride = s->n > 1500 ? (s->n + 1499) / 1500 : 1; /* keep the file small */
        lmc_buf_printf(b, err, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\"%s points=\"",
                       colors[lines[i].color % NCOLORS], lines[i].dashed ? " stroke-dasharray=\"6 3\"" : "");
        for (size_t k = 0; k < s->n; k += stride)
            if (isfinite(s->y[k]) && xv[k] == xv[k]) lmc_buf_printf(b, err, "%.1f,%.1f ", PX(xv[k]), PY(s->y[k]));
        lmc_buf_printf(b, err, "\"/>\n");
        if (lines[i].dots)
            for (size_t k = 0; k < s->n; k += stride)
                if (isfinite(s->y[k]) && xv[k] == xv[k])
                    lmc_buf_printf(b, err, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\" fill=\"%s\"/>", PX(xv[k]),
                                   PY(s->y[k]), colors[lines[i].color % NCOLORS]);
    }
#undef PX
#undef PY
    return lmc_buf_printf(b, err, "</g></svg></figure>\n");
}

static const char *const css =
    "body{font-family:system-ui,sans-serif;margin:2em;color:#222}h1{font-size:1.4em}"
    "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 10px;text-align:right}"
    "th{background:#f4f4f4}td:first-child{text-align:left}.sw{display:inline-block;width:14px;height:4px;"
    "vertical-align:middle;margin-right:6px}figure{display:inline-block;margin:0.5em}"
    "svg .t{font-size:14px;text-anchor:middle;font-weight:600}svg .xl{font-size:11px;text-anchor:middle}"
    "svg .yl{font-size:11px;text-anchor:end}svg .g{stroke:#e4e4e4}svg .f{fill:none;stroke:#999}";

int train_report_write(const char *const *runs, int n_runs, const char *out_path, lmc_err *err) {
    run_data *r = calloc((size_t)n_runs, sizeof *r);
    chart_line *lines = calloc((size_t)n_runs * 2, sizeof *lines);
    lmc_buf b = {0};
    int rc = 0, loaded = 0;
    if (!r || !lines) {
        rc = lmc_errf(err, LMC_ENOMEM, "out of memory");
        goto out;
    }
    for (int i = 0; i < n_runs && !rc; i++, loaded++) rc = load_run(&r[i], runs[i], err);
    if (rc) goto out;
    lmc_buf_printf(&b, err, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>lmc report</title>"
                            "<style>%s</style></head><body>\n<h1>lmc training report</h1>\n", css);
    lmc_buf_printf(&b, err, "<table><tr><th>run</th><th>steps</th><th>tokens</th><th>last loss</th>"
                            "<th>last val loss</th><th>best val loss</th><th>median tok/s</th><th>skipped</th></tr>\n");
    for (int i = 0; i < n_runs; i++) {
        const run_data *d = &r[i];
        double last = d->s[M_LOSS].n ? d->s[M_LOSS].y[d->s[M_LOSS].n - 1] : NAN;
        const series *v = &d->s[M_VAL];
        double lastv = v->n ? v->y[v->n - 1] : NAN, best = INFINITY;
        for (size_t k = 0; k < v->n; k++) best = fmin(best, v->y[k]);
        double med = NAN;
        const series *tp = &d->s[M_TPS];
        if (tp->n) {
            double *tmp = malloc(tp->n * sizeof *tmp);
            if (tmp) {
                memcpy(tmp, tp->y, tp->n * sizeof *tmp);
                for (size_t a = 1; a < tp->n; a++) /* insertion sort: fine for report sizes */
                    for (size_t c = a; c > 0 && tmp[c - 1] > tmp[c]; c--) {
                        double s = tmp[c];
                        tmp[c] = tmp[c - 1];
                        tmp[c - 1] = s;
                    }
                med = tmp[tp->n / 2];
                free(tmp);
            }
        }
        lmc_buf_printf(&b, err, "<tr><td><span class=\"sw\" style=\"background:%s\"></span>", colors[i % NCOLORS]);
        esc(&b, d->dir, err);
        lmc_buf_printf(&b, err, "</td><td>%lld</td><td>%.4g</td><td>%.4f</td>", (long long)d->last_step,
                       d->last_tokens, last);
        if (v->n) lmc_buf_printf(&b, err, "<td>%.4f</td><td>%.4f</td>", lastv, best);
        else lmc_buf_printf(&b, err, "<td>-</td><td>-</td>");
        lmc_buf_printf(&b, err, "<td>%.0f</td><td>%lld</td></tr>\n", med, (long long)d->skipped);
    }
    lmc_buf_printf(&b, err, "</table>\n<p>Solid: training loss; dashed with dots: validation loss.</p>\n");
    int id = 0;
    for (int xt = 0; xt < 2; xt++) { /* loss against step, then against tokens */
        int n = 0;
        for (int i = 0; i < n_runs; i++) {
            lines[n++] = (chart_line){&r[i].s[M_LOSS], xt, i, 0, 0};
            lines[n++] = (chart_line){&r[i].s[M_VAL], xt, i, 1, 1};
        }
        chart(&b, id++, xt ? "loss vs tokens" : "loss vs step", xt ? "tokens" : "step", lines, n, err);
    }
    static const struct { int m; const char *title; } others[] = {
        {M_LR, "learning rate"}, {M_NORM, "gradient norm (before clipping)"}, {M_TPS, "throughput (tokens/s)"}};
    for (size_t o = 0; o < sizeof others / sizeof others[0]; o++) {
        for (int i = 0; i < n_runs; i++) lines[i] = (chart_line){&r[i].s[others[o].m], 0, i, 0, 0};
        chart(&b, id++, others[o].title, "step", lines, n_runs, err);
    }
    for (int i = 0; i < n_runs; i++) lines[i] = (chart_line){&r[i].s[M_TPS], 1, i, 0, 0};
    chart(&b, id++, "throughput (tokens/s) vs tokens", "tokens", lines, n_runs, err);
    if (lmc_buf_printf(&b, err, "</body></html>\n")) {
        rc = -1;
        goto out;
    }
    rc = lmc_write_file_atomic(out_path, b.data, b.len, err);
out:
    for (int i = 0; i < loaded; i++) free_run(&r[i]);
    free(r);
    free(lines);
    lmc_buf_free(&b);
    return rc;
}
