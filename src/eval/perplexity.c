/* Rolling log-likelihood perplexity as the harness's loglikelihood_rolling tasks.
 *   perplexity: documents are the lines of a JSONL file (string field, default "text") or a whole
 *               plain-text file; words = len(re.split(r"\s+", text)), bytes = UTF-8 bytes.
 *   wikitext:   plain-text WikiText files split into articles as EleutherAI/wikitext_document_level
 *               does, each scored after the harness's wikitext_detokenizer, words and bytes counted
 *               on the article before detokenization (the harness's process_results).
 * word_perplexity = exp(-sum ll / sum words), byte_perplexity = exp(-sum ll / sum bytes),
 * bits_per_byte = -sum ll / sum bytes / ln 2 (the harness's weighted_perplexity and bits_per_byte). */
#include "eval/eval.h"
#include "base/io.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    lmc_eval_lm *lm;
    const char *field;
    lmc_eval_req *reqs;
    size_t n, cap;
    /* per doc: first request, request count, words, bytes */
    size_t *doc;
    size_t ndoc, doc_cap;
    int64_t limit;
} ppl_ctx;

static int add_doc(ppl_ctx *c, const char *score, size_t score_len, const char *count, size_t count_len, lmc_err *err) {
    if (c->ndoc == c->doc_cap) {
        size_t nc = c->doc_cap ? c->doc_cap * 2 : 64;
        size_t *p = realloc(c->doc, 4 * nc * sizeof *p);
        if (!p) return lmc_errf(err, LMC_ENOMEM, "out of memory");
        c->doc = p;
        c->doc_cap = nc;
    }
    size_t first = c->n;
    if (lmc_eval_req_rolling(c->lm, score, score_len, &c->reqs, &c->n, &c->cap, err)) return -1;
    size_t *d = c->doc + 4 * c->ndoc++;
    d[0] = first;
    d[1] = c->n - first;
    d[2] = (size_t)lmc_eval_count_words(count, count_len);
    d[3] = count_len;
    return 0;
}

static int ppl_line(void *vc, json_t *obj, const char *path, uint64_t line, lmc_err *err) {
    ppl_ctx *c = vc;
    json_t *v = json_object_get(obj, c->field);
    if (!json_is_string(v)) return lmc_err_at(err, LMC_EFORMAT, path, line, 1, "expected a string field '%s'", c->field);
    if (add_doc(c, json_string_value(v), json_string_length(v), json_string_value(v), json_string_length(v), err))
        return lmc_err_wrap(err, "%s:%llu", path, (unsigned long long)line);
    return 0;
}

static int is_jsonl(const char *p) {
    size_t n = strlen(p);
    return (n > 6 && !strcmp(p + n - 6, ".jsonl")) || (n > 7 && !strcmp(p + n - 7, ".ndjson"));
}

int lmc_eval_perplexity(lmc_eval_lm *lm, const lmc_eval_opts *o, int wikitext, json_t **summary,
                        json_t **examples, lmc_err *err) {
    ppl_ctx c = {lm, o->field ? o->field : "text", NULL, 0, 0, NULL, 0, 0, o->limit};
    int rc = 0;
    for (int f = 0; f < o->n_data && !rc; f++) {
        if (o->limit > 0 && (int64_t)c.ndoc >= o->limit) break;
        if (!wikitext && is_jsonl(o->data[f])) {
            rc = lmc_eval_read_jsonl(o->data[f], o->limit > 0 ? o->limit - (int64_t)c.ndoc : 0, ppl_line, &c, err);
            continue;
        }
        char *text;
        size_t len;
        if ((rc = lmc_read_file(o->data[f], &text, &len, err))) break;
        if (!wikitext) {
            rc = add_doc(&c, text, len, text, len, err);
        } else {
            size_t *sp, ns;
            if (!(rc = lmc_wikitext_split(text, len, &sp, &ns, err))) {
                for (size_t i = 0; i < ns && !rc; i++) {
                    if (o->limit > 0 && (int64_t)c.ndoc >= o->limit) break;
                    char *d;
                    size_t dl;
                    if ((rc = lmc_wikitext_detok(text + sp[2 * i], sp[2 * i + 1], &d, &dl, err))) break;
                    rc = add_doc(&c, d, dl, text + sp[2 * i], sp[2 * i + 1], err);
                    free(d);
                }
                free(sp);
            }
        }
        if (rc) lmc_err_wrap(err, "%s", o->data[f]);
        free(text);
    }
    if (!rc && c.ndoc == 0) rc = lmc_errf(err, LMC_EINVAL, "no documents in the input");
    if (!rc && lm->progress) lm->progress->total = c.n;
    if (!rc) rc = lmc_eval_score(lm, c.reqs, c.n, err);
    if (!rc) {
        json_t *ex = examples ? json_array() : NULL;
        double ll = 0;
        uint64_t words = 0, bytes = 0, tokens = 0;
        for (size_t i = 0; i < c.ndoc; i++) {
            const size_t *d = c.doc + 4 * i;
            double dll = 0;
            uint64_t dt = 0;
            for (size_t r = d[0]; r < d[0] + d[1]; r++) {
                dll += c.reqs[r].ll;
                dt += (uint64_t)c.reqs[r].n_cont;
            }
            ll += dll;
            words += d[2];
            bytes += d[3];
            tokens += dt;
            if (ex)
                json_array_append_new(ex, json_pack("{s:I,s:f,s:I,s:I,s:I,s:I}", "doc", (json_int_t)i, "ll", dll, "tokens",
                                                    (json_int_t)dt, "windows", (json_int_t)d[1], "words",
                                                    (json_int_t)d[2], "bytes", (json_int_t)d[3]));
        }
        *summary = json_pack("{s:s,s:f,s:f,s:f,s:f,s:I,s:I,s:I,s:I}", "task", wikitext ? "wikitext" : "perplexity",
                             "word_perplexity", exp(-ll / (double)words), "byte_perplexity", exp(-ll / (double)bytes),
                             "bits_per_byte", -ll / (double)bytes / log(2.0), "loglikelihood", ll, "docs",
                             (json_int_t)c.ndoc, "words", (json_int_t)words, "bytes", (json_int_t)bytes, "tokens",
                             (json_int_t)tokens);
        if (examples) *examples = ex;
    }
    free(c.doc);
    lmc_eval_req_free(c.reqs, c.n);
    free(c.reqs);
    return rc ? -1 : 0;
}
