/* Reading the runs CSV: a header naming the columns, then one run per line. Only numbers matter, so
 * the parser is a strict, small one: comma-separated fields, optional double quotes around a field
 * ("" inside quotes is a quote), blank lines and lines starting with '#' skipped, CRLF accepted. */
#include "scaling/scaling.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"

int scaling_runs_alloc(scaling_runs *r, size_t n, lmc_err *err) {
    memset(r, 0, sizeof *r);
    size_t m = n ? n : 1;
    r->params = lmc_alloc_array(m, sizeof(double), err);
    r->tokens = lmc_alloc_array(m, sizeof(double), err);
    r->flops = lmc_alloc_array(m, sizeof(double), err);
    r->loss = lmc_alloc_array(m, sizeof(double), err);
    r->line = lmc_alloc_array(m, sizeof(uint64_t), err);
    if (!r->params || !r->tokens || !r->flops || !r->loss || !r->line) {
        scaling_runs_free(r);
        return LMC_ENOMEM;
    }
    r->n = n;
    return 0;
}

void scaling_runs_free(scaling_runs *r) {
    if (!r) return;
    lmc_free(r->params);
    lmc_free(r->tokens);
    lmc_free(r->flops);
    lmc_free(r->loss);
    lmc_free(r->line);
    memset(r, 0, sizeof *r);
}

/* Split one line into fields. Field i spans [start[i], start[i]+len[i]) in `out` (unquoted copy);
 * col[i] is its 1-based column in the line. Returns the number of fields or <0 on a quote error. */
typedef struct csv_row {
    char *buf;         /* unquoted field text, NUL-separated */
    size_t cap;
    size_t *off;       /* field offsets into buf */
    size_t *col;
    int n, nalloc;
} csv_row;

static int csv_split(csv_row *row, const char *line, size_t len, size_t *bad_col) {
    if (row->cap < len + 1) {
        free(row->buf);
        row->cap = len + 64;
        row->buf = malloc(row->cap);
        if (!row->buf) return -2;
    }
    row->n = 0;
    size_t i = 0, o = 0;
    for (;;) {
        if (row->n == row->nalloc) {
            int na = row->nalloc ? row->nalloc * 2 : 16;
            size_t *noff = realloc(row->off, (size_t)na * sizeof *noff);
            if (!noff) return -2;
            row->off = noff;
            size_t *ncol = realloc(row->col, (size_t)na * sizeof *ncol);
            if (!ncol) return -2;
            row->col = ncol;
            row->nalloc = na;
        }
        row->off[row->n] = o;
        row->col[row->n] = i + 1;
        row->n++;
        if (i < len && line[i] == '"') {
            size_t q = i++;
            for (;;) {
                if (i >= len) { *bad_col = q + 1; return -1; }
                if (line[i] == '"') {
                    if (i + 1 < len && line[i + 1] == '"') { row->buf[o++] = '"'; i += 2; continue; }
                    i++;
                    break;
                }
                row->buf[o++] = line[i++];
            }
            if (i < len && line[i] != ',') { *bad_col = i + 1; return -1; }
        } else {
            while (i < len && line[i] != ',') row->buf[o++] = line[i++];
        }
        row->buf[o++] = '\0';
        if (i >= len) break;
        i++; /* the comma */
    }
    return row->n;
}

static void csv_row_free(csv_row *row) {
    free(row->buf);
    free(row->off);
    free(row->col);
}

static char *trim(char *s) {
    while (*s == ' ' || *s == '\t') s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t')) s[--n] = '\0';
    return s;
}

enum { COL_PARAMS, COL_TOKENS, COL_FLOPS, COL_LOSS, NCOL };
static const char *const col_names[NCOL] = {"params", "tokens", "flops", "loss"};

int scaling_runs_load_csv(const char *path, size_t min_runs, scaling_runs *out, lmc_err *err) {
    memset(out, 0, sizeof *out);
    lmc_lines *lr = NULL;
    int rc = lmc_lines_open(&lr, path, err);
    if (rc < 0) return rc;
    csv_row row = {0};
    int idx[NCOL] = {-1, -1, -1, -1};
    int ncols = -1;
    size_t cap = 0;
    scaling_runs r = {0};
    uint64_t last_line = 0;
    const char *line;
    size_t len;
    while ((rc = lmc_lines_next(lr, &line, &len, err)) > 0) {
        uint64_t ln = lmc_lines_lineno(lr);
        last_line = ln;
        if (len && line[len - 1] == '\r') len--;
        /* A UTF-8 byte-order mark (spreadsheets write one) is not part of the first column's name. */
        if (ln == 1 && len >= 3 && !memcmp(line, "\xEF\xBB\xBF", 3)) {
            line += 3;
            len -= 3;
        }
        size_t k = 0;
        while (k < len && (line[k] == ' ' || line[k] == '\t')) k++;
        if (k == len || line[k] == '#') continue;
        size_t bad_col = 0;
        int nf = csv_split(&row, line, len, &bad_col);
        if (nf == -2) { rc = lmc_errf(err, LMC_ENOMEM, "out of memory reading %s", path); goto fail; }
        if (nf < 0) {
            rc = lmc_err_at(err, LMC_EFORMAT, path, ln, bad_col, "unterminated or misplaced quote");
            goto fail;
        }
        if (ncols < 0) {
            ncols = nf;
            for (int f = 0; f < nf; f++) {
                char *name = trim(row.buf + row.off[f]);
                for (int c = 0; c < NCOL; c++) {
                    if (strcmp(name, col_names[c]) == 0) {
                        if (idx[c] >= 0) {
                            rc = lmc_err_at(err, LMC_EFORMAT, path, ln, row.col[f],
                                            "column '%s' appears twice in the header", name);
                            goto fail;
                        }
                        idx[c] = f;
                    }
                }
            }
            const char *missing = idx[COL_PARAMS] < 0 ? "params" : idx[COL_LOSS] < 0 ? "loss"
                                  : (idx[COL_TOKENS] < 0 && idx[COL_FLOPS] < 0) ? "tokens' or 'flops" : NULL;
            if (missing) {
                rc = lmc_err_at(err, LMC_EFORMAT, path, ln, 0,
                                "header has no '%s' column (need params, loss, and tokens or flops)", missing);
                goto fail;
            }
            continue;
        }
        if (nf != ncols) {
            rc = lmc_err_at(err, LMC_EFORMAT, path, ln, 0, "row has %d fields, the header has %d", nf, ncols);
            goto fail;
        }
        if (r.n == cap) {
            size_t nc = cap ? cap * 2 : 256;
            double *p[4] = {realloc(r.params, nc * sizeof(double)), NULL, NULL, NULL};
            if (p[0]) r.params = p[0];
            p[1] = realloc(r.tokens, nc * sizeof(double));
            if (p[1]) r.tokens = p[1];
            p[2] = realloc(r.flops, nc * sizeof(double));
            if (p[2]) r.flops = p[2];
            p[3] = realloc(r.loss, nc * sizeof(double));
            if (p[3]) r.loss = p[3];
            uint64_t *pl = realloc(r.line, nc * sizeof(uint64_t));
            if (pl) r.line = pl;
            if (!p[0] || !p[1] || !p[2] || !p[3] || !pl) {
                rc = lmc_errf(err, LMC_ENOMEM, "out of memory reading %s", path);
                goto fail;
            }
            cap = nc;
        }
        double v[NCOL] = {0, 0, 0, 0};
        for (int c = 0; c < NCOL; c++) {
            if (idx[c] < 0) continue;
            int f = idx[c];
            char *s = trim(row.buf + row.off[f]);
            char *end = NULL;
            errno = 0;
            double x = *s ? strtod(s, &end) : NAN;
            if (!*s || *end != '\0') {
                rc = lmc_err_at(err, LMC_EFORMAT, path, ln, row.col[f], "%s: expected a number, got '%s'",
                                col_names[c], s);
                goto fail;
            }
            if (!isfinite(x)) {
                rc = lmc_err_at(err, LMC_ENUMERIC, path, ln, row.col[f], "%s: '%s' is not finite",
                                col_names[c], s);
                goto fail;
            }
            if (!(x > 0)) {
                rc = lmc_err_at(err, LMC_EINVAL, path, ln, row.col[f], "%s: %s is not positive",
                                col_names[c], s);
                goto fail;
            }
            v[c] = x;
        }
        size_t i = r.n++;
        r.params[i] = v[COL_PARAMS];
        r.loss[i] = v[COL_LOSS];
        r.line[i] = ln;
        /* tokens wins when both are given; flops then stays as given (used to group budgets). */
        r.tokens[i] = idx[COL_TOKENS] >= 0 ? v[COL_TOKENS] : v[COL_FLOPS] / (6.0 * v[COL_PARAMS]);
        r.flops[i] = idx[COL_FLOPS] >= 0 ? v[COL_FLOPS] : 6.0 * v[COL_PARAMS] * v[COL_TOKENS];
        if (!(r.tokens[i] > 0) || !isfinite(r.tokens[i]) || !isfinite(r.flops[i])) {
            rc = lmc_err_at(err, LMC_ENUMERIC, path, ln, 0, "tokens/flops out of range");
            goto fail;
        }
    }
    if (rc < 0) goto fail;
    if (ncols < 0) {
        rc = lmc_err_at(err, LMC_EFORMAT, path, last_line ? last_line : 1, 0, "empty file: no header");
        goto fail;
    }
    if (r.n < min_runs) {
        rc = lmc_err_at(err, LMC_EINVAL, path, last_line, 0,
                        "only %zu run%s; fitting needs at least %zu (more runs than parameters)", r.n,
                        r.n == 1 ? "" : "s", min_runs);
        goto fail;
    }
    csv_row_free(&row);
    lmc_lines_close(lr);
    /* Move into aligned storage owned by the scaling_runs contract (lmc_free). */
    rc = scaling_runs_alloc(out, r.n, err);
    if (rc == 0 && r.n) {
        memcpy(out->params, r.params, r.n * sizeof(double));
        memcpy(out->tokens, r.tokens, r.n * sizeof(double));
        memcpy(out->flops, r.flops, r.n * sizeof(double));
        memcpy(out->loss, r.loss, r.n * sizeof(double));
        memcpy(out->line, r.line, r.n * sizeof(uint64_t));
    }
    free(r.params); free(r.tokens); free(r.flops); free(r.loss); free(r.line);
    return rc;
fail:
    csv_row_free(&row);
    lmc_lines_close(lr);
    free(r.params); free(r.tokens); free(r.flops); free(r.loss); free(r.line);
    return rc;
}

typedef struct flops_idx {
    double c;
    size_t i;
} flops_idx;

static int cmp_flops_idx(const void *a, const void *b) {
    const flops_idx *x = a, *y = b;
    if (x->c != y->c) return x->c < y->c ? -1 : 1;
    return (x->i > y->i) - (x->i < y->i);
}

static void copy_run(scaling_runs *dst, size_t k, const scaling_runs *src, size_t i) {
    dst->params[k] = src->params[i];
    dst->tokens[k] = src->tokens[i];
    dst->flops[k] = src->flops[i];
    dst->loss[k] = src->loss[i];
    dst->line[k] = src->line ? src->line[i] : 0;
}

int scaling_runs_split_top_flops(const scaling_runs *r, double frac, scaling_runs *fit, scaling_runs *hold,
                                 lmc_err *err) {
    memset(fit, 0, sizeof *fit);
    memset(hold, 0, sizeof *hold);
    if (!(frac > 0 && frac < 1)) return lmc_errf(err, LMC_EINVAL, "holdout fraction must be in (0, 1), got %g", frac);
    size_t nh = (size_t)ceil(frac * (double)r->n);
    if (nh < 1) nh = 1;
    if (nh >= r->n) return lmc_errf(err, LMC_EINVAL, "holdout of %zu runs leaves none to fit", nh);
    flops_idx *o = malloc(r->n * sizeof *o);
    if (!o) return lmc_errf(err, LMC_ENOMEM, "out of memory");
    for (size_t i = 0; i < r->n; i++) { o[i].c = r->flops[i]; o[i].i = i; }
    qsort(o, r->n, sizeof *o, cmp_flops_idx);
    int rc = scaling_runs_alloc(fit, r->n - nh, err);
    if (rc == 0) rc = scaling_runs_alloc(hold, nh, err);
    if (rc < 0) {
        free(o);
        scaling_runs_free(fit);
        return rc;
    }
    /* Both keep the file order (sorted by original index) so results do not depend on the sort. */
    size_t cut = r->n - nh;
    unsigned char *is_hold = calloc(r->n, 1);
    if (!is_hold) {
        free(o);
        scaling_runs_free(fit);
        scaling_runs_free(hold);
        return lmc_errf(err, LMC_ENOMEM, "out of memory");
    }
    for (size_t k = cut; k < r->n; k++) is_hold[o[k].i] = 1;
    size_t a = 0, b = 0;
    for (size_t i = 0; i < r->n; i++) {
        if (is_hold[i]) copy_run(hold, b++, r, i);
        else copy_run(fit, a++, r, i);
    }
    free(is_hold);
    free(o);
    return 0;
}
