/* `lmc data classify train|score` over JSONL corpora (the classifier itself is classify.c).
 *
 * train: reads every labelled document into memory (text + label: about the corpus size), trains, saves.
 * score: streams; per document and model the label probabilities, appended as number fields before the
 * line's closing brace (every original byte kept). With buckets (Nemotron-CC) the scores of the whole
 * input are computed in a first pass and kept (8 bytes per document and model, plus 8 for the length
 * weight) for the weighted percentiles, then the second pass writes. */
#include "data/classify_run.h"
#include "base/io.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#define BATCH_DOCS 4096
#define BATCH_BYTES (64u << 20)

void data_classify_train_cfg_default(data_classify_train_cfg *c) {
    memset(c, 0, sizeof *c);
    data_read_opts_default(&c->read);
    c->label_field = "label";
    data_clf_params_default(&c->params);
}

void data_classify_score_cfg_default(data_classify_score_cfg *c) {
    memset(c, 0, sizeof *c);
    data_read_opts_default(&c->read);
    c->bucket_column = "quality_bucket";
    c->weighted_column = "quality_weighted";
}

typedef struct exset { data_clf_example *ex; size_t n, cap; char *blob; } exset;

static void exset_free(exset *s) {
    for (size_t i = 0; i < s->n; i++) free((void *)s->ex[i].text);
    free(s->ex);
    memset(s, 0, sizeof *s);
}

/* Read labelled documents; a document without a string label field is an error naming file:line. */
static int read_examples(const char *const *in, size_t nin, const data_read_opts *ro, const char *label_field,
                         exset *s, uint64_t *skipped, lmc_err *err) {
    data_reader *r;
    if (data_reader_open(&r, in, nin, ro, err) < 0) return -1;
    lmc_buf lab = {0};
    int rc = 0;
    for (;;) {
        data_doc *docs;
        long nd = data_reader_batch(r, BATCH_DOCS, BATCH_BYTES, &docs, err);
        if (nd < 0) { rc = -1; break; }
        if (nd == 0) break;
        for (long i = 0; i < nd && !rc; i++) {
            const data_doc *d = &docs[i];
            if (!data_doc_field(d, label_field, &lab) || lab.len == 0) {
                rc = lmc_errf(err, LMC_EFORMAT, "%s:%llu: no (non-empty) string field \"%s\" with the label",
                              data_reader_path(r, d->file_id), (unsigned long long)d->line, label_field);
                break;
            }
            if (s->n == s->cap) {
                size_t nc = s->cap ? s->cap * 2 : 1024;
                data_clf_example *e = realloc(s->ex, nc * sizeof *e);
                if (!e) { rc = lmc_errf(err, LMC_ENOMEM, "out of memory reading examples"); break; }
                s->ex = e;
                s->cap = nc;
            }
            /* text and label in one allocation */
            char *t = malloc(d->text_len + lab.len + 2);
            if (!t) { rc = lmc_errf(err, LMC_ENOMEM, "out of memory reading examples"); break; }
            memcpy(t, d->text, d->text_len);
            t[d->text_len] = 0;
            memcpy(t + d->text_len + 1, lab.data, lab.len);
            t[d->text_len + 1 + lab.len] = 0;
            s->ex[s->n++] = (data_clf_example){t, d->text_len, t + d->text_len + 1, lab.len};
        }
        if (rc) break;
    }
    *skipped = data_reader_nskipped(r);
    lmc_buf_free(&lab);
    data_reader_close(r);
    return rc;
}

int data_classify_accuracy(const data_clf *m, const data_clf_example *ex, size_t n, size_t *correct, lmc_err *err) {
    int nl = data_clf_nlabels(m);
    float *p = malloc((size_t)nl * sizeof *p);
    data_clf_scratch s = {0};
    if (!p) return lmc_errf(err, LMC_ENOMEM, "out of memory");
    *correct = 0;
    for (size_t i = 0; i < n; i++) {
        if (data_clf_predict(m, ex[i].text, ex[i].text_len, p, &s, err) < 0) {
            free(p);
            data_clf_scratch_free(&s);
            return -1;
        }
        int best = 0;
        for (int k = 1; k < nl; k++) best = p[k] > p[best] ? k : best;
        const char *l = data_clf_label(m, best);
        *correct += strlen(l) == ex[i].label_len && !memcmp(l, ex[i].label, ex[i].label_len);
    }
    free(p);
    data_clf_scratch_free(&s);
    return 0;
}

int data_classify_train_run(const data_classify_train_cfg *c, json_t **report, lmc_err *err) {
    *report = NULL;
    exset tr = {0}, te = {0};
    uint64_t sk = 0, skt = 0;
    double t0 = lmc_now();
    if (read_examples(c->inputs, c->ninputs, &c->read, c->label_field, &tr, &sk, err) < 0) {
        exset_free(&tr);
        return -1;
    }
    if (c->test && read_examples(&c->test, 1, &c->read, c->label_field, &te, &skt, err) < 0) {
        exset_free(&tr);
        exset_free(&te);
        return -1;
    }
    double t1 = lmc_now();
    data_clf *m = NULL;
    double loss = 0;
    int rc = data_clf_train(&c->params, tr.ex, tr.n, &m, &loss, err);
    double t2 = lmc_now();
    size_t corr_tr = 0, corr_te = 0;
    if (!rc) rc = data_classify_accuracy(m, tr.ex, tr.n, &corr_tr, err);
    if (!rc && te.n) rc = data_classify_accuracy(m, te.ex, te.n, &corr_te, err);
    if (!rc && c->output) rc = data_clf_save(m, c->output, err);
    if (!rc) {
        json_t *r = json_object(), *labels = json_array();
        for (int i = 0; i < data_clf_nlabels(m); i++) json_array_append_new(labels, json_string(data_clf_label(m, i)));
        const data_clf_params *p = &c->params;
        json_object_set_new(r, "examples", json_integer((json_int_t)tr.n));
        json_object_set_new(r, "skipped_input_lines", json_integer((json_int_t)sk));
        json_object_set_new(r, "labels", labels);
        json_object_set_new(r, "vocabulary", json_integer(data_clf_nwords(m)));
        json_object_set_new(r, "params", json_pack("{s:i,s:i,s:f,s:i,s:i,s:I,s:i,s:I,s:s}", "dim", p->dim, "epoch",
                                                   p->epoch, "lr", p->lr, "word_ngrams", p->word_ngrams, "min_count",
                                                   p->min_count, "bucket", (json_int_t)p->bucket, "lr_update_rate",
                                                   p->lr_update_rate, "seed", (json_int_t)p->seed, "threads", "1"));
        json_object_set_new(r, "train_loss", json_real(loss));
        json_object_set_new(r, "train_accuracy", json_real(tr.n ? (double)corr_tr / (double)tr.n : 0));
        if (c->test) {
            json_object_set_new(r, "test_examples", json_integer((json_int_t)te.n));
            json_object_set_new(r, "test_accuracy", json_real(te.n ? (double)corr_te / (double)te.n : 0));
        }
        json_object_set_new(r, "model_bytes",
                            json_integer((json_int_t)(4 * ((uint64_t)data_clf_nwords(m) + p->bucket + (uint64_t)data_clf_nlabels(m)) *
                                                      (uint64_t)p->dim)));
        json_object_set_new(r, "read_seconds", json_real(t1 - t0));
        json_object_set_new(r, "train_seconds", json_real(t2 - t1));
        *report = r;
    }
    data_clf_free(m);
    exset_free(&tr);
    exset_free(&te);
    return rc;
}

/* ---- score ---- */

/* "__label__hq" -> "hq" (the prefix fastText requires is not part of a column name) */
static const char *short_label(const char *l) { return strncmp(l, "__label__", 9) ? l : l + 9; }

static int find_label(const data_clf *m, const char *want) {
    int k = data_clf_label_index(m, want);
    if (k < 0 && strncmp(want, "__label__", 9)) {
        char b[600];
        snprintf(b, sizeof b, "__label__%s", want);
        k = data_clf_label_index(m, b);
    }
    return k;
}

/* Append "," "key":value for a number (shortest form that reads back as the same double, %.9g for floats). */
static int put_num(lmc_buf *b, const char *key, double v, int integer, lmc_err *err) {
    if (lmc_buf_append(b, ",", 1, err) < 0 || lmc_json_escape(b, key, strlen(key), err) < 0) return -1;
    return integer ? lmc_buf_printf(b, err, ":%d", (int)v) : lmc_buf_printf(b, err, ":%.6f", v);
}

/* The document's line with `fields` (",\"k\":v,...", leading comma) spliced before its closing brace. */
static int write_with(data_writer *w, const data_doc *d, const char *field, const lmc_buf *fields, lmc_buf *line,
                      lmc_err *err) {
    line->len = 0;
    if (!d->raw) {
        if (lmc_buf_append(line, "{", 1, err) < 0 || lmc_json_escape(line, field, strlen(field), err) < 0 ||
            lmc_buf_append(line, ":", 1, err) < 0 || lmc_json_escape(line, d->text, d->text_len, err) < 0 ||
            lmc_buf_append(line, fields->data, fields->len, err) < 0 || lmc_buf_append(line, "}\n", 2, err) < 0)
            return -1;
    } else {
        size_t e = d->raw_len;
        while (e > 0 && (d->raw[e - 1] == ' ' || d->raw[e - 1] == '\t' || d->raw[e - 1] == '\r')) e--;
        if (e == 0 || d->raw[e - 1] != '}') return lmc_errf(err, LMC_EFORMAT, "internal: not an object line");
        size_t k = e - 1;
        while (k > 0 && (d->raw[k - 1] == ' ' || d->raw[k - 1] == '\t' || d->raw[k - 1] == '\n' || d->raw[k - 1] == '\r')) k--;
        int empty = k > 0 && d->raw[k - 1] == '{';
        const char *f = fields->data;
        size_t fl = fields->len;
        if (empty && fl) { f++; fl--; }   /* no leading comma in an empty object */
        if (lmc_buf_append(line, d->raw, e - 1, err) < 0 || lmc_buf_append(line, f, fl, err) < 0 ||
            lmc_buf_append(line, d->raw + e - 1, d->raw_len - (e - 1), err) < 0 || lmc_buf_append(line, "\n", 1, err) < 0)
            return -1;
    }
    return data_writer_write(w, line->data, line->len, err);
}

typedef struct score_state {
    const data_classify_score_cfg *c;
    data_clf **m;
    int *pos;          /* per model: label index of the positive label, -1 = all labels */
    int ncols;         /* score values per document (sum over models of 1 or nlabels) */
    int *col_model, *col_label;
    char **col_name;
} score_state;

/* Scores of a batch into sc[nd * ncols] (in parallel; per document, so the same for any thread count). */
static int score_batch(const score_state *st, const data_doc *docs, long nd, double *sc, int nthreads, lmc_err *err) {
    int fail = 0;
    lmc_err e1 = {0};
#pragma omp parallel num_threads(nthreads)
    {
        data_clf_scratch s = {0};
        int maxl = 0;
        for (int j = 0; j < st->c->nmodels; j++) maxl = data_clf_nlabels(st->m[j]) > maxl ? data_clf_nlabels(st->m[j]) : maxl;
        float *p = malloc((size_t)maxl * sizeof *p);
        lmc_err le = {0};
#pragma omp for schedule(dynamic, 16)
        for (long i = 0; i < nd; i++) {
            if (!p) { fail = 1; continue; }
            int col = 0;
            for (int j = 0; j < st->c->nmodels; j++) {
                if (data_clf_predict(st->m[j], docs[i].text, docs[i].text_len, p, &s, &le) < 0) {
#pragma omp critical
                    { fail = 1; e1 = le; }
                    break;
                }
                if (st->pos[j] >= 0) sc[(size_t)i * (size_t)st->ncols + (size_t)col++] = p[st->pos[j]];
                else
                    for (int k = 0; k < data_clf_nlabels(st->m[j]); k++) sc[(size_t)i * (size_t)st->ncols + (size_t)col++] = p[k];
            }
        }
        free(p);
        data_clf_scratch_free(&s);
    }
    if (fail) return e1.msg[0] ? (*err = e1, -1) : lmc_errf(err, LMC_ENOMEM, "out of memory scoring");
    return 0;
}

int data_classify_score_run(const data_classify_score_cfg *c, json_t **report, lmc_err *err) {
    *report = NULL;
    if (c->nmodels < 1 || c->nmodels > DATA_CLASSIFY_MAX_MODELS)
        return lmc_errf(err, LMC_EINVAL, "classify score: 1..%d models", DATA_CLASSIFY_MAX_MODELS);
    if ((c->buckets || c->nweights) && !c->positive[0])
        return lmc_errf(err, LMC_EINVAL, "classify score: --buckets and --weights need --positive (one score per model)");
    if (c->nweights && c->nweights != c->nmodels)
        return lmc_errf(err, LMC_EINVAL, "classify score: %d weights for %d models", c->nweights, c->nmodels);
    if (c->buckets && (c->buckets < 2 || c->buckets > 1000))
        return lmc_errf(err, LMC_EINVAL, "classify score: --buckets must be 2..1000");
    score_state st = {0};
    st.c = c;
    data_clf *models[DATA_CLASSIFY_MAX_MODELS] = {0};
    int pos[DATA_CLASSIFY_MAX_MODELS];
    st.m = models;
    st.pos = pos;
    int rc = 0;
    for (int j = 0; j < c->nmodels && !rc; j++) {
        rc = data_clf_load(c->models[j], &models[j], err);
        if (rc) break;
        const char *want = c->positive[j] ? c->positive[j] : c->positive[0];
        pos[j] = -1;
        if (want) {
            pos[j] = find_label(models[j], want);
            if (pos[j] < 0) rc = lmc_errf(err, LMC_EINVAL, "%s: no label \"%s\" (labels: %s%s)", c->models[j], want,
                                          data_clf_label(models[j], 0), data_clf_nlabels(models[j]) > 1 ? ", ..." : "");
        }
        st.ncols += pos[j] >= 0 ? 1 : data_clf_nlabels(models[j]);
    }
    /* column names */
    if (!rc) {
        st.col_name = calloc((size_t)st.ncols, sizeof *st.col_name);
        if (!st.col_name) rc = lmc_errf(err, LMC_ENOMEM, "out of memory");
        for (int j = 0, col = 0; j < c->nmodels && !rc; j++) {
            int nl = pos[j] >= 0 ? 1 : data_clf_nlabels(models[j]);
            for (int k = 0; k < nl; k++, col++) {
                char b[1200];
                if (pos[j] >= 0) snprintf(b, sizeof b, "%s", c->names[j]);
                else snprintf(b, sizeof b, "%s_%s", c->names[j], short_label(data_clf_label(models[j], k)));
                if (!(st.col_name[col] = strdup(b))) rc = lmc_errf(err, LMC_ENOMEM, "out of memory");
            }
        }
    }
    int nthreads = c->threads > 0 ? c->threads : omp_get_max_threads();
    data_reader *r = NULL;
    if (!rc) rc = data_reader_open(&r, c->inputs, c->ninputs, &c->read, err);
    double *all = NULL, *wt = NULL;
    size_t nall = 0, capall = 0;
    double thr[DATA_CLASSIFY_MAX_MODELS][1000];
    double t0 = lmc_now();
    if (!rc && c->buckets) {  /* pass 1: every score, for the percentiles */
        for (;;) {
            data_doc *docs;
            long nd = data_reader_batch(r, BATCH_DOCS, BATCH_BYTES, &docs, err);
            if (nd < 0) { rc = -1; break; }
            if (nd == 0) break;
            if (nall + (size_t)nd > capall) {
                size_t nc = capall ? capall : 4096;
                while (nc < nall + (size_t)nd) nc *= 2;
                double *a = realloc(all, nc * (size_t)st.ncols * sizeof *a), *w2 = a ? realloc(wt, nc * sizeof *w2) : NULL;
                if (a) all = a;
                if (w2) wt = w2;
                if (!a || !w2) { rc = lmc_errf(err, LMC_ENOMEM, "out of memory holding scores"); break; }
                capall = nc;
            }
            if ((rc = score_batch(&st, docs, nd, all + nall * (size_t)st.ncols, nthreads, err)) < 0) break;
            for (long i = 0; i < nd; i++) wt[nall + (size_t)i] = (double)docs[i].text_len;
            nall += (size_t)nd;
        }
        if (!rc) {
            double *col = malloc((nall ? nall : 1) * sizeof *col);
            size_t *idx = malloc((nall ? nall : 1) * sizeof *idx);
            if (!col || !idx) rc = lmc_errf(err, LMC_ENOMEM, "out of memory");
            for (int j = 0; j < c->nmodels && !rc; j++) {
                for (size_t i = 0; i < nall; i++) col[i] = all[i * (size_t)st.ncols + (size_t)j];
                data_weighted_percentiles(col, wt, nall, c->buckets - 1, thr[j], idx);
            }
            free(col);
            free(idx);
        }
        if (!rc) rc = data_reader_rewind(r, err);
    }
    data_writer *w = NULL;
    if (!rc && c->output) rc = data_writer_open(&w, c->output, err);
    uint64_t ndocs = 0;
    uint64_t *hist = c->buckets ? calloc((size_t)c->buckets, sizeof *hist) : NULL;
    if (c->buckets && !hist && !rc) rc = lmc_errf(err, LMC_ENOMEM, "out of memory");
    double *sc = NULL;
    if (!rc && !c->buckets && !(sc = malloc((size_t)BATCH_DOCS * (size_t)st.ncols * sizeof *sc)))
        rc = lmc_errf(err, LMC_ENOMEM, "out of memory");
    double *sum = calloc((size_t)st.ncols, sizeof *sum);
    if (!sum && !rc) rc = lmc_errf(err, LMC_ENOMEM, "out of memory");
    lmc_buf fields = {0}, line = {0};
    uint64_t bytes = 0;
    while (!rc) {
        data_doc *docs;
        long nd = data_reader_batch(r, BATCH_DOCS, BATCH_BYTES, &docs, err);
        if (nd < 0) { rc = -1; break; }
        if (nd == 0) break;
        const double *bs;
        if (c->buckets) {
            if (ndocs + (uint64_t)nd > nall) { rc = lmc_errf(err, LMC_EIO, "classify score: input changed between the passes"); break; }
            bs = all + ndocs * (uint64_t)st.ncols;
        } else {
            if ((rc = score_batch(&st, docs, nd, sc, nthreads, err)) < 0) break;
            bs = sc;
        }
        for (long i = 0; i < nd && !rc; i++) {
            const double *v = bs + (size_t)i * (size_t)st.ncols;
            fields.len = 0;
            for (int k = 0; k < st.ncols && !rc; k++) {
                rc = put_num(&fields, st.col_name[k], v[k], 0, err);
                sum[k] += v[k];
            }
            if (!rc && c->buckets) {
                int b = 0;
                for (int j = 0; j < c->nmodels; j++) {
                    int bj = data_digitize(v[j], thr[j], c->buckets - 1);
                    b = bj > b ? bj : b;
                }
                hist[b]++;
                rc = put_num(&fields, c->bucket_column, b, 1, err);
            }
            if (!rc && c->nweights) {
                double q = 0;
                for (int j = 0; j < c->nmodels; j++) q += c->weights[j] * v[j];
                rc = put_num(&fields, c->weighted_column, q, 0, err);
            }
            if (!rc && w) rc = write_with(w, &docs[i], c->read.field, &fields, &line, err);
            bytes += docs[i].text_len;
        }
        ndocs += (uint64_t)nd;
    }
    double t1 = lmc_now();
    if (!rc && w) {
        rc = data_writer_commit(w, err);
        w = NULL;
    }
    if (w) data_writer_abort(w);
    if (!rc) {
        json_t *rep = json_object(), *cols = json_array();
        json_object_set_new(rep, "documents", json_integer((json_int_t)ndocs));
        json_object_set_new(rep, "skipped_input_lines", json_integer((json_int_t)data_reader_nskipped(r)));
        json_object_set_new(rep, "text_bytes", json_integer((json_int_t)bytes));
        for (int k = 0; k < st.ncols; k++)
            json_array_append_new(cols, json_pack("{s:s,s:f}", "name", st.col_name[k], "mean", ndocs ? sum[k] / (double)ndocs : 0.0));
        json_object_set_new(rep, "columns", cols);
        if (c->buckets) {
            json_t *b = json_object(), *th = json_array(), *h = json_array();
            for (int j = 0; j < c->nmodels; j++) {
                json_t *t = json_array();
                for (int k = 0; k < c->buckets - 1; k++) json_array_append_new(t, json_real(thr[j][k]));
                json_array_append_new(th, t);
            }
            for (int k = 0; k < c->buckets; k++) json_array_append_new(h, json_integer((json_int_t)hist[k]));
            json_object_set_new(b, "column", json_string(c->bucket_column));
            json_object_set_new(b, "buckets", json_integer(c->buckets));
            json_object_set_new(b, "method", json_string("per model: weighted (by text bytes) percentiles of its score over the whole input, "
                                                         "np.digitize; ensemble = max over models (Nemotron-CC ensemble-max-int)"));
            json_object_set_new(b, "thresholds", th);
            json_object_set_new(b, "documents_per_bucket", h);
            json_object_set_new(rep, "ensemble", b);
        }
        if (c->nweights) {
            json_t *wv = json_array();
            for (int j = 0; j < c->nweights; j++) json_array_append_new(wv, json_real(c->weights[j]));
            json_object_set_new(rep, "weighted", json_pack("{s:s,s:o}", "column", c->weighted_column, "weights", wv));
        }
        json_object_set_new(rep, "seconds", json_real(t1 - t0));
        json_object_set_new(rep, "docs_per_second", json_real(t1 > t0 ? (double)ndocs / (t1 - t0) : 0));
        *report = rep;
    }
    lmc_buf_free(&fields);
    lmc_buf_free(&line);
    free(sum);
    free(sc);
    free(hist);
    free(all);
    free(wt);
    data_reader_close(r);
    for (int k = 0; st.col_name && k < st.ncols; k++) free(st.col_name[k]);
    free(st.col_name);
    for (int j = 0; j < c->nmodels; j++) data_clf_free(models[j]);
    return rc;
}
