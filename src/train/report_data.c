/* Reading a run for `lmc report` (see report_data.h). */
#include "train/report_data.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "base/io.h"
#include "base/json.h"
#include "base/mem.h"
#include "train/tb_events.h"

static report_series *find_series(report_run *r, const char *key) {
    for (size_t i = 0; i < r->ns; i++)
        if (!strcmp(r->s[i].key, key)) return &r->s[i];
    return NULL;
}

const report_series *report_run_series(const report_run *r, const char *key) {
    return find_series((report_run *)r, key);
}

int report_run_add(report_run *r, const char *key, double step, double tok, double wall, double y, lmc_err *err) {
    report_series *s = find_series(r, key);
    if (!s) {
        if (r->ns == r->cap) {
            size_t cap = r->cap ? r->cap * 2 : 16;
            report_series *ns = realloc(r->s, cap * sizeof *ns);
            if (!ns) return lmc_errf(err, LMC_ENOMEM, "out of memory");
            r->s = ns;
            r->cap = cap;
        }
        s = &r->s[r->ns];
        memset(s, 0, sizeof *s);
        s->key = strdup(key);
        if (!s->key) return lmc_errf(err, LMC_ENOMEM, "out of memory");
        s->lo = INFINITY;
        s->hi = -INFINITY;
        r->ns++;
    }
    /* a step at or below the last one: the run was resumed and rewrote what came after */
    while (s->n && s->step[s->n - 1] >= step) s->n--;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 256;
        double *a = realloc(s->step, cap * sizeof *a);
        if (a) s->step = a;
        double *b = realloc(s->tok, cap * sizeof *b);
        if (b) s->tok = b;
        double *c = realloc(s->wall, cap * sizeof *c);
        if (c) s->wall = c;
        double *d = realloc(s->y, cap * sizeof *d);
        if (d) s->y = d;
        if (!a || !b || !c || !d) return lmc_errf(err, LMC_ENOMEM, "out of memory");
        s->cap = cap;
    }
    s->step[s->n] = step;
    s->tok[s->n] = tok;
    s->wall[s->n] = wall;
    s->y[s->n] = y;
    s->n++;
    return 0;
}

/* The y range over every point kept (after restarts), for axes that include them all. */
static void finish_ranges(report_run *r) {
    for (size_t i = 0; i < r->ns; i++) {
        report_series *s = &r->s[i];
        s->lo = INFINITY;
        s->hi = -INFINITY;
        for (size_t k = 0; k < s->n; k++)
            if (isfinite(s->y[k])) {
                s->lo = fmin(s->lo, s->y[k]);
                s->hi = fmax(s->hi, s->y[k]);
            }
    }
}

/* ---- metrics.jsonl ---- */
static int add_json(report_run *r, const char *prefix, json_t *v, double step, double tok, double wall, lmc_err *err) {
    const char *k;
    json_t *x;
    json_object_foreach(v, k, x) {
        char key[512];
        snprintf(key, sizeof key, "%s%s%s", prefix, prefix[0] ? "/" : "", k);
        if (!prefix[0] && (!strcmp(k, "step") || !strcmp(k, "tokens") || !strcmp(k, "elapsed_s"))) continue;
        if (json_is_object(x)) {
            if (strlen(prefix) < 200 && add_json(r, key, x, step, tok, wall, err)) return -1;
        } else if (json_is_number(x)) {
            if (report_run_add(r, key, step, tok, wall, json_number_value(x), err)) return -1;
        }
    }
    return 0;
}

static int load_metrics(report_run *r, const char *path, lmc_err *err) {
    char *data = NULL;
    size_t len;
    if (lmc_read_file(path, &data, &len, err)) return -1;
    uint64_t lineno = 0;
    int rc = 0;
    for (char *line = data; *line && !rc;) {
        char *nl = strchr(line, '\n');
        size_t n = nl ? (size_t)(nl - line) : strlen(line);
        lineno++;
        if (n) {
            json_error_t je;
            json_t *j = json_loadb(line, n, 0, &je);
            json_t *st = j ? json_object_get(j, "step") : NULL;
            if (!j || !json_is_object(j) || !json_is_integer(st)) {
                rc = lmc_err_at(err, LMC_EFORMAT, path, lineno, 0, "expected a JSON object with an integer \"step\"");
                json_decref(j);
                break;
            }
            json_int_t istep = json_integer_value(st);
            json_t *tk = json_object_get(j, "tokens"), *el = json_object_get(j, "elapsed_s");
            double tok = json_is_number(tk) ? json_number_value(tk) : NAN;
            double wall = json_is_number(el) ? json_number_value(el) : NAN;
            rc = add_json(r, "", j, (double)istep, tok, wall, err);
            if (json_is_true(json_object_get(j, "skipped"))) r->skipped++;
            r->last_step = (int64_t)istep; /* exact; a round trip through double overflows near INT64_MAX */
            r->records++;
            if (tok == tok) r->last_tokens = tok;
            if (wall == wall) r->last_wall = wall;
            json_decref(j);
        }
        if (!nl) break;
        line = nl + 1;
    }
    free(data);
    return rc;
}

/* ---- event files ---- */
typedef struct { report_run *r; lmc_err *err; double t0; int failed; } ev_ctx;

static int on_scalar(void *ctx, double wall_time, int64_t step, const char *tag, double value) {
    ev_ctx *c = ctx;
    if (c->t0 != c->t0) c->t0 = wall_time;
    if (report_run_add(c->r, tag, (double)step, NAN, wall_time - c->t0, value, c->err)) {
        c->failed = 1;
        return -1;
    }
    if (step > c->r->last_step || !c->r->records) c->r->last_step = step;
    c->r->records++;
    return 0;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* lmc's own event files carry tokens and elapsed_s as tags: they become the x axes again. */
static void events_axes(report_run *r) {
    report_series *tk = find_series(r, "tokens"), *el = find_series(r, "elapsed_s");
    for (size_t i = 0; i < r->ns; i++) {
        report_series *s = &r->s[i];
        if (s == tk || s == el) continue;
        size_t a = 0, b = 0;
        for (size_t k = 0; k < s->n; k++) {
            if (tk) {
                while (a < tk->n && tk->step[a] < s->step[k]) a++;
                if (a < tk->n && tk->step[a] == s->step[k]) s->tok[k] = tk->y[a];
            }
            if (el) {
                while (b < el->n && el->step[b] < s->step[k]) b++;
                if (b < el->n && el->step[b] == s->step[k]) s->wall[k] = el->y[b];
            }
        }
    }
    if (tk && tk->n) r->last_tokens = tk->y[tk->n - 1];
    /* drop the axis series themselves */
    size_t w = 0;
    for (size_t i = 0; i < r->ns; i++) {
        if (&r->s[i] == tk || &r->s[i] == el) {
            free(r->s[i].key);
            free(r->s[i].step);
            free(r->s[i].tok);
            free(r->s[i].wall);
            free(r->s[i].y);
            continue;
        }
        r->s[w++] = r->s[i];
    }
    r->ns = w;
    for (size_t i = 0; i < r->ns; i++) {
        report_series *s = &r->s[i];
        if (s->n && s->wall[s->n - 1] == s->wall[s->n - 1] && s->wall[s->n - 1] > r->last_wall)
            r->last_wall = s->wall[s->n - 1];
    }
}

static int load_events(report_run *r, const char *path, lmc_err *err) {
    char **files = NULL;
    size_t nf = 0, cap = 0;
    int rc = 0;
    if (lmc_is_dir(path)) {
        DIR *d = opendir(path);
        if (!d) return lmc_err_sys(err, path, "open");
        struct dirent *e;
        while ((e = readdir(d)) && !rc) {
            if (!tb_is_event_file(e->d_name)) continue;
            if (nf == cap) {
                cap = cap ? cap * 2 : 8;
                char **nfiles = realloc(files, cap * sizeof *nfiles);
                if (!nfiles) { rc = lmc_errf(err, LMC_ENOMEM, "out of memory"); break; }
                files = nfiles;
            }
            files[nf] = lmc_path_join(path, e->d_name);
            if (!files[nf]) rc = lmc_errf(err, LMC_ENOMEM, "out of memory");
            else nf++;
        }
        closedir(d);
        if (!rc && !nf)
            rc = lmc_errf(err, LMC_ENOTFOUND, "%s: no metrics.jsonl and no TensorBoard event file (events.out.tfevents.*)", path);
        /* the file names start with the creation time: sorted, they are in the order they were written */
        if (!rc) qsort(files, nf, sizeof *files, cmp_str);
    } else {
        files = malloc(sizeof *files);
        if (files) files[0] = strdup(path);
        if (!files || !files[0]) rc = lmc_errf(err, LMC_ENOMEM, "out of memory");
        else nf = 1;
    }
    ev_ctx c = {r, err, NAN, 0};
    for (size_t i = 0; i < nf && !rc; i++) {
        rc = tb_events_read_file(files[i], on_scalar, &c, err);
        if (c.failed) rc = -1;
    }
    for (size_t i = 0; i < nf; i++) free(files[i]);
    free(files);
    if (!rc) events_axes(r);
    r->from_events = 1;
    return rc;
}

/* ---- the rest of a run directory ---- */
static void load_config(report_run *r, const char *dir) {
    char *p = lmc_path_join(dir, "config.yaml");
    lmc_err e;
    json_t *j = p && lmc_file_exists(p) ? lmc_yaml_load_file(p, &e) : NULL;
    free(p);
    if (!j) return;
    const char *sec;
    json_t *m;
    size_t n = 0;
    json_object_foreach(j, sec, m) if (json_is_object(m)) n += json_object_size(m);
    r->cfg_keys = calloc(n ? n : 1, sizeof *r->cfg_keys);
    r->cfg_vals = calloc(n ? n : 1, sizeof *r->cfg_vals);
    if (!r->cfg_keys || !r->cfg_vals) { json_decref(j); return; }
    json_object_foreach(j, sec, m) {
        if (!json_is_object(m)) continue;
        const char *k;
        json_t *v;
        json_object_foreach(m, k, v) {
            char key[600], val[1200];
            snprintf(key, sizeof key, "%s.%s", sec, k);
            if (json_is_string(v)) snprintf(val, sizeof val, "%s", json_string_value(v));
            else if (json_is_integer(v)) snprintf(val, sizeof val, "%lld", (long long)json_integer_value(v));
            else if (json_is_real(v)) snprintf(val, sizeof val, "%.10g", json_real_value(v));
            else if (json_is_true(v)) snprintf(val, sizeof val, "true");
            else if (json_is_false(v)) snprintf(val, sizeof val, "false");
            else snprintf(val, sizeof val, "%s", json_is_null(v) ? "" : "(structure)");
            r->cfg_keys[r->ncfg] = strdup(key);
            r->cfg_vals[r->ncfg] = strdup(val);
            if (r->cfg_keys[r->ncfg] && r->cfg_vals[r->ncfg]) r->ncfg++;
        }
    }
    json_decref(j);
}

static void load_sample(report_run *r, const char *dir) {
    char *p = lmc_path_join(dir, "samples.txt");
    char *data = NULL;
    size_t len;
    lmc_err e;
    if (p && lmc_file_exists(p) && lmc_read_file(p, &data, &len, &e) == 0) {
        /* the last "=== step N ===" section */
        const char *last = NULL;
        for (const char *q = data; (q = strstr(q, "=== step ")); q++)
            if (q == data || q[-1] == '\n') last = q;
        if (last) {
            long long st = 0;
            sscanf(last + 9, "%lld", &st);
            const char *body = strchr(last, '\n');
            body = body ? body + 1 : last + strlen(last);
            size_t n = strlen(body);
            while (n && (body[n - 1] == '\n')) n--;
            r->sample = strndup(body, n);
            r->sample_step = st;
        }
        free(data);
    }
    free(p);
}

static int cmp_ckpt(const void *a, const void *b) {
    return strcmp(((const report_ckpt *)a)->name, ((const report_ckpt *)b)->name);
}

static void load_ckpts(report_run *r, const char *dir) {
    char *root = lmc_path_join(dir, "checkpoints");
    DIR *d = root ? opendir(root) : NULL;
    if (d) {
        struct dirent *e;
        size_t cap = 0;
        while ((e = readdir(d))) {
            if (strncmp(e->d_name, "step_", 5) || strlen(e->d_name) >= sizeof r->ckpt[0].name) continue;
            if (strchr(e->d_name, '.')) continue; /* temporaries */
            if (r->nckpt == cap) {
                cap = cap ? cap * 2 : 8;
                report_ckpt *n = realloc(r->ckpt, cap * sizeof *n);
                if (!n) break;
                r->ckpt = n;
            }
            report_ckpt *c = &r->ckpt[r->nckpt++];
            memset(c, 0, sizeof *c);
            memcpy(c->name, e->d_name, strlen(e->d_name) + 1); /* shorter than c->name: checked above */
            char *sub = lmc_path_join(root, e->d_name);
            char *done = sub ? lmc_path_join(sub, "DONE") : NULL, *st = sub ? lmc_path_join(sub, "model.safetensors") : NULL;
            c->complete = done && lmc_file_exists(done);
            struct stat sb;
            c->bytes = st && stat(st, &sb) == 0 ? (double)sb.st_size : NAN;
            free(sub);
            free(done);
            free(st);
        }
        closedir(d);
        if (r->nckpt) qsort(r->ckpt, r->nckpt, sizeof *r->ckpt, cmp_ckpt);
    }
    free(root);
}

static void load_log(report_run *r, const char *dir) {
    char *p = lmc_path_join(dir, "train.log");
    char *data = NULL;
    size_t len;
    lmc_err e;
    if (p && lmc_file_exists(p) && lmc_read_file(p, &data, &len, &e) == 0) {
        /* the last session's lines (a resumed run appends) */
        for (char *line = data; *line;) {
            char *nl = strchr(line, '\n');
            size_t n = nl ? (size_t)(nl - line) : strlen(line);
            if (n > 9 && !strncmp(line, "compute: ", 9)) snprintf(r->hw_compute, sizeof r->hw_compute, "%.*s", (int)(n - 9), line + 9);
            else if (n > 5 && !strncmp(line, "cpu: ", 5)) snprintf(r->hw_cpu, sizeof r->hw_cpu, "%.*s", (int)(n - 5), line + 5);
            else if (n > 4 && !strncmp(line, "run ", 4)) snprintf(r->hw_run, sizeof r->hw_run, "%.*s", (int)n, line);
            if (!nl) break;
            line = nl + 1;
        }
        free(data);
    }
    free(p);
}

int report_run_load(report_run *r, const char *path, lmc_err *err) {
    memset(r, 0, sizeof *r);
    r->path = strdup(path);
    if (!r->path) return lmc_errf(err, LMC_ENOMEM, "out of memory");
    const char *base = path + strlen(path);
    while (base > path && base[-1] == '/') base--;
    const char *end = base;
    while (base > path && base[-1] != '/') base--;
    snprintf(r->name, sizeof r->name, "%.*s", (int)(end - base), base);
    char *metrics = lmc_path_join(path, "metrics.jsonl");
    if (!metrics) return lmc_errf(err, LMC_ENOMEM, "out of memory");
    int rc;
    if (lmc_is_dir(path) && lmc_file_exists(metrics)) {
        rc = load_metrics(r, metrics, err);
        if (!rc) {
            load_config(r, path);
            load_sample(r, path);
            load_ckpts(r, path);
            load_log(r, path);
        }
    } else if (!lmc_is_dir(path) && !lmc_file_exists(path)) {
        rc = lmc_errf(err, LMC_ENOTFOUND, "%s: no such run (a run directory with metrics.jsonl, or a TensorBoard event file or folder)", path);
    } else {
        rc = load_events(r, path, err);
        if (!rc && lmc_is_dir(path) && !strcmp(r->name, "tb")) {
            /* RUN/tb of an lmc run: name it after the run */
            const char *b = base - 1;
            while (b > path && b[-1] == '/') b--;
            const char *e2 = b;
            while (b > path && b[-1] != '/') b--;
            if (e2 > b) snprintf(r->name, sizeof r->name, "%.*s (tb)", (int)(e2 - b), b);
        }
    }
    free(metrics);
    if (!rc) finish_ranges(r);
    return rc;
}

void report_run_free(report_run *r) {
    for (size_t i = 0; i < r->ns; i++) {
        free(r->s[i].key);
        free(r->s[i].step);
        free(r->s[i].tok);
        free(r->s[i].wall);
        free(r->s[i].y);
    }
    free(r->s);
    for (size_t i = 0; i < r->ncfg; i++) {
        free(r->cfg_keys[i]);
        free(r->cfg_vals[i]);
    }
    free(r->cfg_keys);
    free(r->cfg_vals);
    free(r->sample);
    free(r->ckpt);
    free(r->path);
    memset(r, 0, sizeof *r);
}
