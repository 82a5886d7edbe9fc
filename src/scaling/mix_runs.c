/* MDE's true proxy runs from a CSV file (src/scaling/mix.h). */
#include "scaling/mix.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "base/io.h"

/* Split a line at commas in place (no quoting: names and numbers only); returns the field count. */
static int split(char *line, char **f, int max) {
    int n = 0;
    for (char *s = line;;) {
        char *c = strchr(s, ',');
        if (n < max) f[n] = s;
        n++;
        if (!c) break;
        *c = 0;
        s = c + 1;
    }
    for (int i = 0; i < n && i < max; i++) { /* trim spaces and a trailing \r */
        while (*f[i] == ' ') f[i]++;
        size_t l = strlen(f[i]);
        while (l && (f[i][l - 1] == ' ' || f[i][l - 1] == '\r')) f[i][--l] = 0;
    }
    return n;
}

#define MAX_COLS 512

int mde_runs_load_csv(const char *path, const char *const *names, int k, double **alpha, double **loss, int *n,
                      lmc_err *err) {
    *alpha = *loss = NULL;
    *n = 0;
    char *data;
    size_t len;
    if (lmc_read_file(path, &data, &len, err)) return -1;
    int wcol[MDE_MAX_DOMAINS], lcol[MDE_MAX_DOMAINS];
    char *f[MAX_COLS];
    int ncol = 0, rc = 0, cap = 0;
    uint64_t line = 0;
    for (char *s = data, *nl; s && *s && !rc; s = nl ? nl + 1 : NULL) {
        nl = strchr(s, '\n');
        if (nl) *nl = 0;
        line++;
        if (!*s || *s == '#' || (*s == '\r' && !s[1])) continue;
        int nf = split(s, f, MAX_COLS);
        if (nf > MAX_COLS) {
            rc = lmc_err_at(err, LMC_EFORMAT, path, line, 0, "%d columns; at most %d are read", nf, MAX_COLS);
            break;
        }
        if (!ncol) { /* the header */
            ncol = nf;
            for (int j = 0; j < k && !rc; j++) {
                wcol[j] = lcol[j] = -1;
                for (int c = 0; c < nf; c++) {
                    if (!strncmp(f[c], "w_", 2) && !strcmp(f[c] + 2, names[j])) wcol[j] = c;
                    if (!strncmp(f[c], "loss_", 5) && !strcmp(f[c] + 5, names[j])) lcol[j] = c;
                }
                if (wcol[j] < 0 || lcol[j] < 0)
                    rc = lmc_err_at(err, LMC_EFORMAT, path, line, 0, "the header has no column \"%s%s\" (domain %d)",
                                    wcol[j] < 0 ? "w_" : "loss_", names[j], j + 1);
            }
            continue;
        }
        if (nf != ncol) {
            rc = lmc_err_at(err, LMC_EFORMAT, path, line, 0, "%d fields, but the header has %d", nf, ncol);
            break;
        }
        if (*n == cap) {
            cap = cap ? 2 * cap : 16;
            double *na = realloc(*alpha, (size_t)cap * k * sizeof *na);
            if (na) *alpha = na;
            double *nlo = na ? realloc(*loss, (size_t)cap * k * sizeof *nlo) : NULL;
            if (nlo) *loss = nlo;
            if (!na || !nlo) {
                rc = lmc_errf(err, LMC_ENOMEM, "out of memory");
                break;
            }
        }
        double *a = *alpha + (size_t)*n * k, *l = *loss + (size_t)*n * k, sum = 0;
        for (int j = 0; j < k && !rc; j++) {
            char *e;
            a[j] = strtod(f[wcol[j]], &e);
            if (e == f[wcol[j]] || *e || !(a[j] >= 0) || !isfinite(a[j])) {
                rc = lmc_err_at(err, LMC_EFORMAT, path, line, 0, "field %d (w_%s) is \"%s\"; expected a number >= 0",
                                wcol[j] + 1, names[j], f[wcol[j]]);
                break;
            }
            sum += a[j];
            l[j] = strtod(f[lcol[j]], &e);
            if (e == f[lcol[j]] || *e || !isfinite(l[j]))
                rc = lmc_err_at(err, LMC_EFORMAT, path, line, 0, "field %d (loss_%s) is \"%s\"; expected a finite number",
                                lcol[j] + 1, names[j], f[lcol[j]]);
        }
        if (!rc && !(sum > 0)) rc = lmc_err_at(err, LMC_EFORMAT, path, line, 0, "the weights sum to 0");
        if (rc) break;
        for (int j = 0; j < k; j++) a[j] /= sum;
        (*n)++;
    }
    if (!rc && !ncol) rc = lmc_errf(err, LMC_EFORMAT, "%s: no header line", path);
    free(data);
    if (rc) {
        free(*alpha);
        free(*loss);
        *alpha = *loss = NULL;
        *n = 0;
    }
    return rc;
}
