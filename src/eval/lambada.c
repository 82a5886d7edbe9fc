/* Lambada-style last-word prediction as the harness's lambada_openai task: context = the text's words
 * split on single spaces without the last, joined by spaces; continuation = " " + the last word.
 * acc = share of texts whose last word is the greedy continuation (every token an argmax);
 * perplexity = exp(-mean ll) over texts (the harness's "perplexity" aggregation). */
#include "eval/eval.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    lmc_eval_lm *lm;
    const char *field;
    lmc_eval_req *reqs;
    size_t n, cap;
} lam_ctx;

static int lam_line(void *vc, json_t *obj, const char *path, uint64_t line, lmc_err *err) {
    lam_ctx *c = vc;
    json_t *v = json_object_get(obj, c->field);
    if (!json_is_string(v)) return lmc_err_at(err, LMC_EFORMAT, path, line, 1, "expected a string field '%s'", c->field);
    const char *s = json_string_value(v);
    size_t len = json_string_length(v);
    const char *sp = NULL;
    for (size_t i = len; i > 0; i--)
        if (s[i - 1] == ' ') { sp = s + i - 1; break; }
    size_t ctx_len = sp ? (size_t)(sp - s) : 0;
    const char *last = sp ? sp + 1 : s;
    size_t last_len = len - (size_t)(last - s);
    if (c->n == c->cap) {
        size_t nc = c->cap ? c->cap * 2 : 256;
        lmc_eval_req *p = realloc(c->reqs, nc * sizeof *p);
        if (!p) return lmc_errf(err, LMC_ENOMEM, "out of memory");
        c->reqs = p;
        c->cap = nc;
    }
    char *t = malloc(last_len + 2);
    if (!t) return lmc_errf(err, LMC_ENOMEM, "out of memory");
    t[0] = ' ';
    memcpy(t + 1, last, last_len);
    int rc = lmc_eval_req_pair(c->lm, s, ctx_len, t, last_len + 1, &c->reqs[c->n], err);
    free(t);
    if (rc) return lmc_err_wrap(err, "%s:%llu", path, (unsigned long long)line);
    c->n++;
    return 0;
}

int lmc_eval_lambada(lmc_eval_lm *lm, const lmc_eval_opts *o, json_t **summary, json_t **examples, lmc_err *err) {
    lam_ctx c = {lm, o->field ? o->field : "text", NULL, 0, 0};
    int rc = 0;
    for (int f = 0; f < o->n_data && !rc; f++) {
        int64_t left = o->limit > 0 ? o->limit - (int64_t)c.n : 0;
        if (o->limit > 0 && left <= 0) break;
        rc = lmc_eval_read_jsonl(o->data[f], left, lam_line, &c, err);
    }
    if (!rc && c.n == 0) rc = lmc_errf(err, LMC_EINVAL, "no texts in the input");
    if (!rc && lm->progress) lm->progress->total = c.n;
    if (!rc) rc = lmc_eval_score(lm, c.reqs, c.n, err);
    if (!rc) {
        json_t *ex = examples ? json_array() : NULL;
        double sum = 0;
        size_t acc = 0;
        for (size_t i = 0; i < c.n; i++) {
            sum += c.reqs[i].ll;
            acc += (size_t)c.reqs[i].greedy;
            if (ex)
                json_array_append_new(ex, json_pack("{s:I,s:f,s:b}", "i", (json_int_t)i, "ll", c.reqs[i].ll, "greedy",
                                                    c.reqs[i].greedy));
        }
        *summary = json_pack("{s:s,s:f,s:f,s:I}", "task", "lambada", "acc", (double)acc / (double)c.n, "perplexity",
                             exp(-sum / (double)c.n), "docs", (json_int_t)c.n);
        if (examples) *examples = ex;
    }
    lmc_eval_req_free(c.reqs, c.n);
    free(c.reqs);
    return rc ? -1 : 0;
}
