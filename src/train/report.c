/* HTML report of training runs (see report.h). The C side writes the data as JSON inside the page
 * and the static parts (summary, config, samples, checkpoints, hardware) as HTML; report.js draws
 * the charts. Series with more than MAX_POINTS points are thinned by a stride for the page (the
 * first and last points kept), but their y range (lo/hi) is taken over every point, so axes still
 * include the extremes. */
#include "train/report.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/io.h"
#include "base/mem.h"
#include "base/progress.h"
#include "lmc_report_js.h"
#include "train/report_data.h"

#define MAX_POINTS 4000

static const char *const colors[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                                     "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22"};
#define NCOLORS (sizeof colors / sizeof colors[0])

/* HTML text */
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

/* A JSON string safe inside <script>: <, >, & and controls as \u escapes; invalid UTF-8 bytes as U+FFFD. */
static void jstr(lmc_buf *b, const char *s, lmc_err *err) {
    lmc_buf_append(b, "\"", 1, err);
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        unsigned c = *p;
        if (c == '"' || c == '\\') {
            lmc_buf_printf(b, err, "\\%c", c);
            p++;
        } else if (c < 0x20 || c == '<' || c == '>' || c == '&' || c == 0x7f) {
            lmc_buf_printf(b, err, "\\u%04x", c);
            p++;
        } else if (c < 0x80) {
            lmc_buf_append(b, p, 1, err);
            p++;
        } else {
            int n = c >= 0xf0 && c < 0xf5 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 && c < 0xe0 ? 2 : 0;
            int ok = n > 0;
            for (int i = 1; i < n && ok; i++) ok = (p[i] & 0xc0) == 0x80;
            if (ok && n == 3 && ((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] >= 0xa0))) ok = 0;
            if (ok && n == 4 && ((c == 0xf0 && p[1] < 0x90) || (c == 0xf4 && p[1] >= 0x90))) ok = 0;
            if (ok) {
                lmc_buf_append(b, p, (size_t)n, err);
                p += n;
            } else {
                lmc_buf_printf(b, err, "\\ufffd");
                p++;
            }
        }
    }
    lmc_buf_append(b, "\"", 1, err);
}

static void jnum(lmc_buf *b, double v, lmc_err *err) {
    if (isfinite(v)) lmc_buf_printf(b, err, "%.9g", v);
    else lmc_buf_printf(b, err, "null");
}

static void jarr(lmc_buf *b, const double *v, size_t n, size_t stride, lmc_err *err) {
    lmc_buf_append(b, "[", 1, err);
    int first = 1;
    for (size_t k = 0; k < n; k += stride) {
        if (!first) lmc_buf_append(b, ",", 1, err);
        first = 0;
        jnum(b, v[k], err);
        if (k + stride >= n && k != n - 1) { /* keep the last point */
            lmc_buf_append(b, ",", 1, err);
            jnum(b, v[n - 1], err);
        }
    }
    lmc_buf_append(b, "]", 1, err);
}

static void data_json(lmc_buf *b, const report_run *r, int n_runs, lmc_err *err) {
    lmc_buf_printf(b, err, "{\"runs\":[");
    for (int i = 0; i < n_runs; i++) {
        lmc_buf_printf(b, err, "%s{\"name\":", i ? "," : "");
        jstr(b, r[i].name, err);
        lmc_buf_printf(b, err, ",\"path\":");
        jstr(b, r[i].path, err);
        lmc_buf_printf(b, err, ",\"color\":\"%s\",\"series\":{", colors[i % NCOLORS]);
        for (size_t k = 0; k < r[i].ns; k++) {
            const report_series *s = &r[i].s[k];
            size_t stride = s->n > MAX_POINTS ? (s->n + MAX_POINTS - 1) / MAX_POINTS : 1;
            if (k) lmc_buf_append(b, ",", 1, err);
            jstr(b, s->key, err);
            lmc_buf_printf(b, err, ":{\"lo\":");
            jnum(b, s->lo, err);
            lmc_buf_printf(b, err, ",\"hi\":");
            jnum(b, s->hi, err);
            lmc_buf_printf(b, err, ",\"n\":%zu,\"step\":", s->n);
            jarr(b, s->step, s->n, stride, err);
            lmc_buf_printf(b, err, ",\"tokens\":");
            jarr(b, s->tok, s->n, stride, err);
            lmc_buf_printf(b, err, ",\"wall\":");
            jarr(b, s->wall, s->n, stride, err);
            lmc_buf_printf(b, err, ",\"y\":");
            jarr(b, s->y, s->n, stride, err);
            lmc_buf_append(b, "}", 1, err);
        }
        lmc_buf_printf(b, err, "}}");
    }
    lmc_buf_printf(b, err, "]}");
}

static double median_of(const report_series *s) {
    if (!s || !s->n) return NAN;
    double *t = malloc(s->n * sizeof *t);
    if (!t) return NAN;
    size_t m = 0;
    for (size_t k = 0; k < s->n; k++)
        if (isfinite(s->y[k])) t[m++] = s->y[k];
    for (size_t a = 1; a < m; a++) /* insertion sort: report sizes */
        for (size_t c = a; c > 0 && t[c - 1] > t[c]; c--) {
            double x = t[c];
            t[c] = t[c - 1];
            t[c - 1] = x;
        }
    double v = m ? t[m / 2] : NAN;
    free(t);
    return v;
}

static void cell_num(lmc_buf *b, double v, const char *fmt, lmc_err *err) {
    if (isfinite(v)) {
        lmc_buf_printf(b, err, "<td>");
        lmc_buf_printf(b, err, fmt, v);
        lmc_buf_printf(b, err, "</td>");
    } else {
        lmc_buf_printf(b, err, "<td>-</td>");
    }
}

static void swatch(lmc_buf *b, int i, lmc_err *err) {
    lmc_buf_printf(b, err, "<span class=\"sw\" style=\"background:%s\"></span>", colors[i % NCOLORS]);
}

static void summary(lmc_buf *b, const report_run *r, int n, lmc_err *err) {
    lmc_buf_printf(b, err, "<table id=\"summary\"><tr><th>run</th><th>steps</th><th>tokens</th><th>wall clock</th>"
                           "<th>last loss</th><th>last val loss</th><th>best val loss</th><th>median tok/s</th>"
                           "<th>skipped</th></tr>\n");
    for (int i = 0; i < n; i++) {
        const report_run *d = &r[i];
        const report_series *l = report_run_series(d, "loss"), *v = report_run_series(d, "val_loss");
        double best = v && v->n ? v->lo : NAN;
        lmc_buf_printf(b, err, "<tr><td>");
        swatch(b, i, err);
        esc(b, d->name, err);
        lmc_buf_printf(b, err, " <span class=\"path\">");
        esc(b, d->path, err);
        lmc_buf_printf(b, err, "%s</span></td><td>%lld</td>", d->from_events ? " (event files)" : "", (long long)d->last_step);
        cell_num(b, d->last_tokens > 0 ? d->last_tokens : NAN, "%.4g", err);
        if (d->last_wall > 0) {
            char t[32];
            lmc_fmt_duration(t, sizeof t, d->last_wall);
            lmc_buf_printf(b, err, "<td>%s</td>", t);
        } else {
            lmc_buf_printf(b, err, "<td>-</td>");
        }
        cell_num(b, l && l->n ? l->y[l->n - 1] : NAN, "%.4f", err);
        cell_num(b, v && v->n ? v->y[v->n - 1] : NAN, "%.4f", err);
        cell_num(b, best, "%.4f", err);
        cell_num(b, median_of(report_run_series(d, "tokens_per_s")), "%.0f", err);
        lmc_buf_printf(b, err, "<td>%lld</td></tr>\n", (long long)d->skipped);
    }
    lmc_buf_printf(b, err, "</table>\n");
}

static void hardware(lmc_buf *b, const report_run *r, int n, lmc_err *err) {
    int any = 0;
    for (int i = 0; i < n; i++) any |= r[i].hw_compute[0] || r[i].hw_run[0] || r[i].hw_cpu[0];
    if (!any) return;
    lmc_buf_printf(b, err, "<h2>Hardware</h2>\n<ul id=\"hardware\">\n");
    for (int i = 0; i < n; i++) {
        if (!r[i].hw_compute[0] && !r[i].hw_run[0] && !r[i].hw_cpu[0]) continue;
        lmc_buf_printf(b, err, "<li>");
        swatch(b, i, err);
        lmc_buf_printf(b, err, "<b>");
        esc(b, r[i].name, err);
        lmc_buf_printf(b, err, "</b>: ");
        if (r[i].hw_cpu[0]) {
            esc(b, r[i].hw_cpu, err);
            lmc_buf_printf(b, err, "; ");
        }
        esc(b, r[i].hw_compute[0] ? r[i].hw_compute : "-", err);
        if (r[i].hw_run[0]) {
            lmc_buf_printf(b, err, "<br><span class=\"path\">");
            esc(b, r[i].hw_run, err);
            lmc_buf_printf(b, err, "</span>");
        }
        lmc_buf_printf(b, err, "</li>\n");
    }
    lmc_buf_printf(b, err, "</ul>\n");
}

static const char *cfg_get(const report_run *r, const char *key) {
    for (size_t i = 0; i < r->ncfg; i++)
        if (!strcmp(r->cfg_keys[i], key)) return r->cfg_vals[i];
    return NULL;
}

static void config_table(lmc_buf *b, const report_run *r, int n, lmc_err *err) {
    int any = 0;
    for (int i = 0; i < n; i++) any |= r[i].ncfg > 0;
    if (!any) return;
    lmc_buf_printf(b, err, "<h2>Config</h2>\n");
    if (n > 1) lmc_buf_printf(b, err, "<p>Rows where the runs differ are highlighted.</p>\n");
    lmc_buf_printf(b, err, "<table id=\"config\"><tr><th>key</th>");
    for (int i = 0; i < n; i++) {
        lmc_buf_printf(b, err, "<th>");
        swatch(b, i, err);
        esc(b, r[i].name, err);
        lmc_buf_printf(b, err, "</th>");
    }
    lmc_buf_printf(b, err, "</tr>\n");
    /* keys in the order of the first run that has them, then new keys of later runs */
    for (int i = 0; i < n; i++) {
        for (size_t k = 0; k < r[i].ncfg; k++) {
            const char *key = r[i].cfg_keys[k];
            int seen = 0;
            for (int j = 0; j < i && !seen; j++) seen = cfg_get(&r[j], key) != NULL;
            if (seen) continue;
            int diff = 0;
            const char *v0 = cfg_get(&r[0], key);
            for (int j = 1; j < n; j++) {
                const char *vj = cfg_get(&r[j], key);
                if ((!v0) != (!vj) || (v0 && vj && strcmp(v0, vj))) diff = 1;
            }
            lmc_buf_printf(b, err, "<tr%s><td>", diff ? " class=\"diff\"" : "");
            esc(b, key, err);
            lmc_buf_printf(b, err, "</td>");
            for (int j = 0; j < n; j++) {
                const char *v = cfg_get(&r[j], key);
                lmc_buf_printf(b, err, "<td>");
                esc(b, v ? v : "-", err);
                lmc_buf_printf(b, err, "</td>");
            }
            lmc_buf_printf(b, err, "</tr>\n");
        }
    }
    lmc_buf_printf(b, err, "</table>\n");
}

static void samples(lmc_buf *b, const report_run *r, int n, lmc_err *err) {
    int any = 0;
    for (int i = 0; i < n; i++) any |= r[i].sample != NULL;
    if (!any) return;
    lmc_buf_printf(b, err, "<h2>Final samples</h2>\n");
    for (int i = 0; i < n; i++) {
        if (!r[i].sample) continue;
        lmc_buf_printf(b, err, "<h3>");
        swatch(b, i, err);
        esc(b, r[i].name, err);
        lmc_buf_printf(b, err, ", step %lld (samples.txt)</h3>\n<pre class=\"sample\">", (long long)r[i].sample_step);
        esc(b, r[i].sample, err);
        lmc_buf_printf(b, err, "</pre>\n");
    }
}

static void checkpoints(lmc_buf *b, const report_run *r, int n, lmc_err *err) {
    int any = 0;
    for (int i = 0; i < n; i++) any |= r[i].nckpt > 0;
    if (!any) return;
    lmc_buf_printf(b, err, "<h2>Checkpoints</h2>\n<table id=\"checkpoints\"><tr><th>run</th><th>folder</th>"
                           "<th>model.safetensors</th><th>complete (DONE)</th></tr>\n");
    for (int i = 0; i < n; i++)
        for (size_t k = 0; k < r[i].nckpt; k++) {
            const report_ckpt *c = &r[i].ckpt[k];
            lmc_buf_printf(b, err, "<tr><td>");
            swatch(b, i, err);
            esc(b, r[i].name, err);
            lmc_buf_printf(b, err, "</td><td>checkpoints/");
            esc(b, c->name, err);
            lmc_buf_printf(b, err, "</td>");
            if (isfinite(c->bytes)) {
                char t[32];
                lmc_fmt_bytes(t, sizeof t, c->bytes);
                lmc_buf_printf(b, err, "<td>%s</td>", t);
            } else {
                lmc_buf_printf(b, err, "<td>-</td>");
            }
            lmc_buf_printf(b, err, "<td>%s</td></tr>\n", c->complete ? "yes" : "no");
        }
    lmc_buf_printf(b, err, "</table>\n");
}

static const char *const css =
    "body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.5em}"
    "h3{font-size:1em}table{border-collapse:collapse;margin:0.5em 0}td,th{border:1px solid #ccc;padding:3px 8px;"
    "text-align:right;font-size:13px}th{background:#f4f4f4}td:first-child{text-align:left}tr.diff td{background:#fff3b0}"
    "#config td{text-align:left}.sw{display:inline-block;width:14px;height:4px;vertical-align:middle;margin-right:6px}"
    ".path{color:#777;font-size:12px}#controls{position:sticky;top:0;background:#fff;padding:6px 0;border-bottom:1px solid #ddd;"
    "z-index:2;font-size:14px}#controls label{margin-right:1.2em}#charts{display:flex;flex-wrap:wrap}"
    ".chart{margin:6px;border:1px solid #e4e4e4;padding:4px;width:472px}.chart .title{font-weight:600;font-size:14px}"
    ".legend{font-size:12px}.legend span.le{margin-right:10px;white-space:nowrap}.readout{font-size:12px;min-height:2.6em;"
    "font-family:ui-monospace,monospace;white-space:pre}.note{font-size:12px;color:#a33}svg text{font-size:11px}"
    "pre.sample{background:#f8f8f8;padding:8px;white-space:pre-wrap;max-width:60em}";

int train_report_write(const char *const *runs, int n_runs, const char *out_path, lmc_err *err) {
    report_run *r = calloc((size_t)(n_runs > 0 ? n_runs : 1), sizeof *r);
    lmc_buf b = {0};
    int rc = 0, loaded = 0;
    if (!r) return lmc_errf(err, LMC_ENOMEM, "out of memory");
    for (int i = 0; i < n_runs && !rc; i++, loaded++) rc = report_run_load(&r[i], runs[i], err);
    if (rc) goto out; /* loaded counts the failed one too: it may hold allocations */
    lmc_err mem = {0}, *berr = &mem; /* the buffer's out-of-memory, checked once at the end */
    lmc_buf_printf(&b, berr, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>lmc report</title>"
                            "<style>%s</style></head><body>\n<h1>lmc training report</h1>\n", css);
    summary(&b, r, n_runs, berr);
    hardware(&b, r, n_runs, berr);
    lmc_buf_printf(&b, berr,
                   "<h2>Charts</h2>\n<div id=\"controls\">"
                   "<label>smoothing <input type=\"range\" id=\"smooth\" min=\"0\" max=\"0.99\" step=\"0.01\" value=\"0.6\">"
                   " <span id=\"smooth-v\">0.60</span></label>"
                   "<label><input type=\"checkbox\" id=\"logy\"> log y</label>"
                   "x axis: <label><input type=\"radio\" name=\"xaxis\" value=\"step\" checked> step</label>"
                   "<label><input type=\"radio\" name=\"xaxis\" value=\"tokens\"> tokens</label>"
                   "<label><input type=\"radio\" name=\"xaxis\" value=\"wall\"> wall clock</label></div>\n"
                   "<p class=\"path\">One chart per metric in the runs' logs. Colour: run; solid: training, dashed: "
                   "validation (val_X is drawn in chart X; a mixture's mix/SOURCE/X in chart mix/X and its per-source losses in loss/source, one colour per source; with several runs one dash pattern per source). Bold: EMA-smoothed (debiased, as TensorBoard), faint: "
                   "raw. Axes include every point. Hover for values.</p>\n"
                   "<div id=\"charts\"><noscript>The charts need JavaScript (an inline script, no network).</noscript></div>\n");
    config_table(&b, r, n_runs, berr);
    samples(&b, r, n_runs, berr);
    checkpoints(&b, r, n_runs, berr);
    lmc_buf_printf(&b, berr, "<script type=\"application/json\" id=\"lmc-data\">");
    data_json(&b, r, n_runs, berr);
    lmc_buf_printf(&b, berr, "</script>\n<script>\n%s</script>\n</body></html>\n", lmc_report_js);
    if (!b.data || mem.code) {
        rc = lmc_errf(err, LMC_ENOMEM, "out of memory");
        goto out;
    }
    rc = lmc_write_file_atomic(out_path, b.data, b.len, err);
out:
    for (int i = 0; i < loaded && i < n_runs; i++) report_run_free(&r[i]);
    free(r);
    lmc_buf_free(&b);
    return rc;
}
