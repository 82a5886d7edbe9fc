/* Per-document perplexity under a checkpoint (see lmscore.h). */
#include "data/lmscore.h"
#include "base/io.h"
#include "model/gpt2.h"
#include "tokenizer/tokenizer.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void data_lmscore_cfg_default(data_lmscore_cfg *c) {
    memset(c, 0, sizeof *c);
    data_read_opts_default(&c->read);
    c->column = "ppl";
    c->bucket_column = "ppl_bucket";
    c->davir_column = "davir";
}

typedef struct lm { gpt2_model *m, *ref; tok_tokenizer *t; tok_encoder *e; tok_ids ids; int64_t eot; int T; int32_t *x, *y; } lm;

/* Sum of next-token losses of a text and their number (0 when nothing can be predicted). */
static int doc_nll(lm *L, gpt2_model *model, const data_lmscore_cfg *c, const char *text, size_t len, double *sum,
                   uint64_t *n, int encode, lmc_err *err) {
    if (encode) {
        L->ids.n = 0;
        if (L->eot >= 0 && tok_ids_push(&L->ids, (uint32_t)L->eot, err) < 0) return -1;
        if (tok_encode(L->e, text, len, 0, &L->ids, err) < 0) return -1;
    }
    size_t N = L->ids.n;
    if (c->max_tokens && N > c->max_tokens + 1) N = c->max_tokens + 1;
    *sum = 0;
    *n = 0;
    for (size_t k = 0; k + 1 < N; k += (size_t)L->T) {
        int w = (int)(N - 1 - k < (size_t)L->T ? N - 1 - k : (size_t)L->T);
        for (int i = 0; i < w; i++) {
            uint32_t a = L->ids.v[k + (size_t)i], b = L->ids.v[k + (size_t)i + 1];
            if (a >= (uint32_t)model->cfg.vocab_size || b >= (uint32_t)model->cfg.vocab_size)
                return lmc_errf(err, LMC_EINVAL, "token id %u is outside the model's vocabulary (%d): tokenizer and model do not match",
                                a > b ? a : b, model->cfg.vocab_size);
            L->x[i] = (int32_t)a;
            L->y[i] = (int32_t)b;
        }
        if (gpt2_forward(model, L->x, L->y, 1, w, NULL, err) < 0) return -1;
        for (int i = 0; i < w; i++) *sum += (double)model->losses[i];
        *n += (uint64_t)w;
    }
    return 0;
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static const char *bucket_name(int b, int nq, char *buf, size_t n) {
    static const char *const ccnet[] = {"head", "middle", "tail"};
    if (nq == 2) return ccnet[b];
    snprintf(buf, n, "%d", b);
    return buf;
}

int data_lmscore_run(const data_lmscore_cfg *c, json_t **report, lmc_err *err) {
    *report = NULL;
    for (int i = 0; i < c->nquantiles; i++)
        if (!(c->quantiles[i] > 0 && c->quantiles[i] < 1) || (i && c->quantiles[i] <= c->quantiles[i - 1]))
            return lmc_errf(err, LMC_EINVAL, "score: quantiles must increase strictly inside (0, 1)");
    lm L = {0};
    int rc = gpt2_load_hf(c->model_dir, &L.m, err);
    char *tp = NULL;
    if (!rc) {
        tp = c->tokenizer ? strdup(c->tokenizer) : lmc_path_join(c->model_dir, "tokenizer.json");
        rc = tp ? tok_load(&L.t, tp, NULL, err) : lmc_errf(err, LMC_ENOMEM, "out of memory");
    }
    if (!rc) rc = tok_encoder_new(&L.e, L.t, err);
    if (!rc && c->ref_model_dir) rc = gpt2_load_hf(c->ref_model_dir, &L.ref, err);
    if (!rc) {
        L.eot = tok_eot_id(L.t);
        L.T = c->context > 0 && c->context < L.m->cfg.max_seq ? c->context : L.m->cfg.max_seq;
        if (L.ref && L.T > L.ref->cfg.max_seq) L.T = L.ref->cfg.max_seq;
        L.x = malloc((size_t)L.T * sizeof *L.x);
        L.y = malloc((size_t)L.T * sizeof *L.y);
        if (!L.x || !L.y) rc = lmc_errf(err, LMC_ENOMEM, "out of memory");
    }
    data_reader *r = NULL;
    if (!rc) rc = data_reader_open(&r, c->inputs, c->ninputs, &c->read, err);
    double *ppl = NULL, *dav = NULL, thr[DATA_LMSCORE_MAX_Q];
    size_t np = 0, cap = 0;
    uint64_t ntok = 0, ndocs = 0, nnull = 0;
    double t0 = lmc_now();
    /* pass 1: every perplexity (kept: pass 2 only writes) */
    while (!rc) {
        data_doc *docs;
        long nd = data_reader_batch(r, 1024, 16u << 20, &docs, err);
        if (nd < 0) { rc = -1; break; }
        if (nd == 0) break;
        if (np + (size_t)nd > cap) {
            size_t nc = cap ? cap * 2 : 4096;
            while (nc < np + (size_t)nd) nc *= 2;
            double *p = realloc(ppl, nc * sizeof *p), *q = p && L.ref ? realloc(dav, nc * sizeof *q) : NULL;
            if (p) ppl = p;
            if (q) dav = q;
            if (!p || (L.ref && !q)) { rc = lmc_errf(err, LMC_ENOMEM, "out of memory holding perplexities"); break; }
            cap = nc;
        }
        for (long i = 0; i < nd && !rc; i++) {
            double s;
            uint64_t n;
            if ((rc = doc_nll(&L, L.m, c, docs[i].text, docs[i].text_len, &s, &n, 1, err)) < 0) {
                lmc_err_wrap(err, "%s:%llu", data_reader_path(r, docs[i].file_id), (unsigned long long)docs[i].line);
                break;
            }
            if (L.ref) {
                double sr;
                uint64_t nr;
                if ((rc = doc_nll(&L, L.ref, c, docs[i].text, docs[i].text_len, &sr, &nr, 0, err)) < 0) {
                    lmc_err_wrap(err, "%s:%llu: reference model", data_reader_path(r, docs[i].file_id), (unsigned long long)docs[i].line);
                    break;
                }
                dav[np] = n && s > 0 ? 1.0 - (sr / (double)nr) / (s / (double)n) : NAN;
            }
            ppl[np++] = n ? exp(s / (double)n) : NAN;
            ntok += n;
        }
    }
    double t1 = lmc_now();
    uint64_t hist[DATA_LMSCORE_MAX_Q + 1] = {0};
    if (!rc && c->nquantiles) {
        double *sorted = malloc((np ? np : 1) * sizeof *sorted);
        size_t k = 0;
        if (!sorted) rc = lmc_errf(err, LMC_ENOMEM, "out of memory");
        for (size_t i = 0; !rc && i < np; i++)
            if (!isnan(ppl[i])) sorted[k++] = ppl[i];
        if (!rc) {
            qsort(sorted, k, sizeof *sorted, cmp_d);
            /* the q-quantile: the value at rank floor(q * (k - 1)) of the sorted perplexities */
            for (int q = 0; q < c->nquantiles; q++) thr[q] = k ? sorted[(size_t)floor(c->quantiles[q] * (double)(k - 1))] : 0;
        }
        free(sorted);
    }
    data_writer *w = NULL;
    if (!rc && c->output) {
        rc = data_reader_rewind(r, err);
        if (!rc) rc = data_writer_open(&w, c->output, err);
    }
    lmc_buf line = {0};
    while (!rc && (w || c->nquantiles)) {
        data_doc *docs;
        long nd = w ? data_reader_batch(r, 1024, 16u << 20, &docs, err) : 0;
        if (nd < 0) { rc = -1; break; }
        if (nd == 0) {
            if (!w) {  /* report only: count the buckets */
                for (size_t i = 0; i < np; i++)
                    if (!isnan(ppl[i])) {
                        int b = 0;
                        while (b < c->nquantiles && ppl[i] > thr[b]) b++;
                        hist[b]++;
                    }
            }
            break;
        }
        for (long i = 0; i < nd && !rc; i++, ndocs++) {
            if (ndocs >= np) { rc = lmc_errf(err, LMC_EIO, "score: the input changed between the passes"); break; }
            double v = ppl[ndocs];
            line.len = 0;
            const data_doc *d = &docs[i];
            if (!d->raw) {
                rc = lmc_buf_append(&line, "{", 1, err);
                if (!rc) rc = lmc_json_escape(&line, c->read.field, strlen(c->read.field), err);
                if (!rc) rc = lmc_buf_append(&line, ":", 1, err);
                if (!rc) rc = lmc_json_escape(&line, d->text, d->text_len, err);
                if (!rc) rc = lmc_buf_append(&line, ",", 1, err);
            } else {
                size_t e = d->raw_len;
                while (e > 0 && (d->raw[e - 1] == ' ' || d->raw[e - 1] == '\t' || d->raw[e - 1] == '\r')) e--;
                size_t k = e ? e - 1 : 0;
                while (k > 0 && (d->raw[k - 1] == ' ' || d->raw[k - 1] == '\t' || d->raw[k - 1] == '\n' || d->raw[k - 1] == '\r')) k--;
                if (e == 0 || d->raw[e - 1] != '}') { rc = lmc_errf(err, LMC_EFORMAT, "internal: not an object line"); break; }
                rc = lmc_buf_append(&line, d->raw, e - 1, err);
                if (!rc && !(k > 0 && d->raw[k - 1] == '{')) rc = lmc_buf_append(&line, ",", 1, err);
            }
            if (!rc) rc = lmc_json_escape(&line, c->column, strlen(c->column), err);
            if (!rc) rc = isnan(v) ? lmc_buf_append(&line, ":null", 5, err) : lmc_buf_printf(&line, err, ":%.4f", v);
            if (!rc && dav) {
                double dv = dav[ndocs];
                rc = lmc_buf_append(&line, ",", 1, err);
                if (!rc) rc = lmc_json_escape(&line, c->davir_column, strlen(c->davir_column), err);
                if (!rc) rc = isnan(dv) ? lmc_buf_append(&line, ":null", 5, err) : lmc_buf_printf(&line, err, ":%.6f", dv);
            }
            if (!rc && c->nquantiles) {
                char b[16];
                int bk = 0;
                while (bk < c->nquantiles && v > thr[bk]) bk++;
                if (!isnan(v)) hist[bk]++;
                const char *nm = isnan(v) ? NULL : bucket_name(bk, c->nquantiles, b, sizeof b);
                rc = lmc_buf_append(&line, ",", 1, err);
                if (!rc) rc = lmc_json_escape(&line, c->bucket_column, strlen(c->bucket_column), err);
                if (!rc) rc = nm ? lmc_buf_append(&line, ":", 1, err) : lmc_buf_append(&line, ":null", 5, err);
                if (!rc && nm) rc = lmc_json_escape(&line, nm, strlen(nm), err);
            }
            if (!rc && d->raw) {  /* the closing brace and whatever followed it, as they were */
                size_t e = d->raw_len;
                while (e > 0 && d->raw[e - 1] != '}') e--;
                rc = lmc_buf_append(&line, d->raw + e - 1, d->raw_len - (e - 1), err);
            } else if (!rc) {
                rc = lmc_buf_append(&line, "}", 1, err);
            }
            if (!rc) rc = lmc_buf_append(&line, "\n", 1, err);
            if (!rc) rc = data_writer_write(w, line.data, line.len, err);
        }
    }
    for (size_t i = 0; i < np; i++) nnull += isnan(ppl[i]);
    double t2 = lmc_now();
    if (!rc && w) {
        rc = data_writer_commit(w, err);
        w = NULL;
    }
    if (w) data_writer_abort(w);
    if (!rc) {
        json_t *rep = json_object();
        json_object_set_new(rep, "documents", json_integer((json_int_t)np));
        json_object_set_new(rep, "documents_without_score", json_integer((json_int_t)nnull));
        json_object_set_new(rep, "skipped_input_lines", json_integer((json_int_t)data_reader_nskipped(r)));
        json_object_set_new(rep, "tokens_scored", json_integer((json_int_t)ntok));
        json_object_set_new(rep, "context", json_integer(L.T));
        json_object_set_new(rep, "model", json_string(c->model_dir));
        if (c->ref_model_dir) json_object_set_new(rep, "davir", json_pack("{s:s,s:s,s:s}", "column", c->davir_column,
                                                                         "reference_model", c->ref_model_dir, "formula",
                                                                         "1 - L_ref / L_model (mean next-token losses)"));
        json_object_set_new(rep, "first_token_context", json_string(L.eot >= 0 ? "<|endoftext|> (predicted from it)" : "none (first token not scored)"));
        if (c->nquantiles) {
            json_t *q = json_array(), *t = json_array(), *h = json_array();
            for (int i = 0; i < c->nquantiles; i++) {
                json_array_append_new(q, json_real(c->quantiles[i]));
                json_array_append_new(t, json_real(thr[i]));
            }
            for (int i = 0; i <= c->nquantiles; i++) {
                char b[16];
                json_array_append_new(h, json_pack("{s:s,s:I}", "bucket", bucket_name(i, c->nquantiles, b, sizeof b),
                                                   "documents", (json_int_t)hist[i]));
            }
            json_object_set_new(rep, "buckets", json_pack("{s:s,s:o,s:o,s:o}", "column", c->bucket_column, "quantiles", q,
                                                          "thresholds", t, "documents", h));
        }
        json_object_set_new(rep, "score_seconds", json_real(t1 - t0));
        json_object_set_new(rep, "write_seconds", json_real(t2 - t1));
        json_object_set_new(rep, "docs_per_second", json_real(t1 > t0 ? (double)np / (t1 - t0) : 0));
        json_object_set_new(rep, "tokens_per_second", json_real(t1 > t0 ? (double)ntok / (t1 - t0) : 0));
        *report = rep;
    }
    lmc_buf_free(&line);
    free(ppl);
    free(dav);
    free(tp);
    free(L.x);
    free(L.y);
    tok_ids_free(&L.ids);
    if (L.e) tok_encoder_free(L.e);
    if (L.t) tok_free(L.t);
    if (L.m) gpt2_free(L.m);
    if (L.ref) gpt2_free(L.ref);
    data_reader_close(r);
    return rc;
}
