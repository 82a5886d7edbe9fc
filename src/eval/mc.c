/* Multiple choice as the harness's multiple_choice output type: request (context, " " + choice) per
 * choice; acc = argmax of the log-likelihoods is the gold; acc_norm = argmax of ll / len(choice)
 * (Python len: code points of the choice without the delimiter); acc_bytes = ll / UTF-8 bytes. Ties go
 * to the first choice (numpy argmax).
 *
 * Fields of a JSONL line (docs/eval.md):
 *   HellaSwag's raw rows (activity_label, ctx_a, ctx_b, endings, label) go through the harness's
 *   hellaswag process_docs first (see hellaswag_doc);
 *   context: "query" | "ctx" | "context"; or ARC's "question" -> "Question: {question}\nAnswer:"
 *   choices: "choices" | "endings": an array of strings, or ARC's {"text": [...], "label": [...]}
 *   gold:    "gold" | "label": an integer (or a string of one); or ARC's "answerKey" (found in
 *            choices.label). */
#include "eval/eval.h"
#include "eval/text_internal.h"
#include "base/mem.h"
#include <stdlib.h>
#include <string.h>

typedef struct {
    lmc_eval_lm *lm;
    lmc_eval_req *reqs;
    size_t n, cap;
    json_t *docs; /* per doc: [first request, n choices, gold, chars..., bytes...] */
} mc_ctx;

static json_t *first_of(json_t *obj, const char *const *keys) {
    for (int i = 0; keys[i]; i++) {
        json_t *v = json_object_get(obj, keys[i]);
        if (v) return v;
    }
    return NULL;
}

/* The harness's hellaswag preprocess(): strip, " [title]" -> ". ", drop "[...]" (no newline inside),
 * "  " -> " " (one pass). Appends to b. */
static int hs_preprocess(lmc_buf *b, const char *s, size_t n, lmc_err *err) {
    size_t a = 0, e = n, l;
    while (a < e && lmc_py_space(lmc_cp_at(s, a, e, &l))) a += l;
    while (e > a) {
        size_t st;
        if (!lmc_py_space(lmc_cp_before(s, e, &st)) || st < a) break;
        e = st;
    }
    lmc_buf t1 = {0}, t2 = {0};
    int rc = 0;
    for (size_t i = a; i < e && !rc;) {
        if (e - i >= 8 && !memcmp(s + i, " [title]", 8)) { rc = lmc_buf_append(&t1, ". ", 2, err); i += 8; }
        else { rc = lmc_buf_append(&t1, s + i, 1, err); i++; }
    }
    for (size_t i = 0; i < t1.len && !rc;) {
        if (t1.data[i] == '[') {
            size_t j = i + 1;
            while (j < t1.len && t1.data[j] != ']' && t1.data[j] != '\n') j++;
            if (j < t1.len && t1.data[j] == ']') { i = j + 1; continue; }
        }
        rc = lmc_buf_append(&t2, t1.data + i, 1, err);
        i++;
    }
    for (size_t i = 0; i < t2.len && !rc;) {
        if (i + 1 < t2.len && t2.data[i] == ' ' && t2.data[i + 1] == ' ') { rc = lmc_buf_append(b, " ", 1, err); i += 2; }
        else { rc = lmc_buf_append(b, t2.data + i, 1, err); i++; }
    }
    lmc_buf_free(&t1);
    lmc_buf_free(&t2);
    return rc;
}

/* HellaSwag's raw rows (activity_label, ctx_a, ctx_b, endings, label) -> the harness's process_docs:
 * query = preprocess(activity_label + ": " + ctx_a + " " + ctx_b.capitalize()), choices = preprocess(e).
 * capitalize() is applied to ASCII letters only. Returns NULL when the row is not of that shape. */
static json_t *hellaswag_doc(json_t *obj, lmc_err *err) {
    json_t *al = json_object_get(obj, "activity_label"), *ca = json_object_get(obj, "ctx_a"),
           *cb = json_object_get(obj, "ctx_b"), *en = json_object_get(obj, "endings");
    if (!json_is_string(al) || !json_is_string(ca) || !json_is_string(cb) || !json_is_array(en)) return NULL;
    lmc_buf raw = {0}, q = {0};
    const char *b = json_string_value(cb);
    size_t bl = json_string_length(cb);
    int rc = lmc_buf_printf(&raw, err, "%s: %s ", json_string_value(al), json_string_value(ca));
    for (size_t i = 0; i < bl && !rc; i++) {
        char ch = b[i];
        if (i == 0 && ch >= 'a' && ch <= 'z') ch = (char)(ch - 32);
        else if (i > 0 && ch >= 'A' && ch <= 'Z') ch = (char)(ch + 32);
        rc = lmc_buf_append(&raw, &ch, 1, err);
    }
    if (!rc) rc = hs_preprocess(&q, raw.data, raw.len, err);
    json_t *out = NULL;
    if (!rc) {
        out = json_object();
        json_object_set_new(out, "query", json_stringn(q.data ? q.data : "", q.len));
        json_t *ch = json_array();
        size_t i;
        json_t *e;
        json_array_foreach(en, i, e) {
            lmc_buf t = {0};
            if (json_is_string(e) && !hs_preprocess(&t, json_string_value(e), json_string_length(e), err))
                json_array_append_new(ch, json_stringn(t.data ? t.data : "", t.len));
            else
                json_array_append(ch, e); /* not a string: mc_line reports it */
            lmc_buf_free(&t);
        }
        json_object_set_new(out, "choices", ch);
        json_object_set(out, "label", json_object_get(obj, "label"));
    }
    lmc_buf_free(&raw);
    lmc_buf_free(&q);
    return out;
}

static int mc_line_doc(void *vc, json_t *obj, const char *path, uint64_t line, lmc_err *err);

static int mc_line(void *vc, json_t *obj, const char *path, uint64_t line, lmc_err *err) {
    json_t *hs = hellaswag_doc(obj, err);
    if (!hs) return mc_line_doc(vc, obj, path, line, err);
    int rc = mc_line_doc(vc, hs, path, line, err);
    json_decref(hs);
    return rc;
}

static int mc_line_doc(void *vc, json_t *obj, const char *path, uint64_t line, lmc_err *err) {
    mc_ctx *c = vc;
    static const char *const ctx_keys[] = {"query", "ctx", "context", NULL};
    static const char *const ch_keys[] = {"choices", "endings", NULL};
    static const char *const gold_keys[] = {"gold", "label", NULL};
    char *context = NULL;
    json_t *cv = first_of(obj, ctx_keys), *q = json_object_get(obj, "question");
    if (json_is_string(cv)) context = strdup(json_string_value(cv));
    else if (json_is_string(q)) {
        const char *qs = json_string_value(q);
        size_t n = strlen(qs) + 32;
        context = malloc(n);
        if (context) snprintf(context, n, "Question: %s\nAnswer:", qs);
    } else
        return lmc_err_at(err, LMC_EFORMAT, path, line, 1, "expected a string context field (query, ctx, context or question)");
    if (!context) return lmc_errf(err, LMC_ENOMEM, "out of memory");
    json_t *ch = first_of(obj, ch_keys), *labels = NULL;
    if (json_is_object(ch)) {
        labels = json_object_get(ch, "label");
        ch = json_object_get(ch, "text");
    }
    int rc = 0;
    size_t nch = json_array_size(ch);
    if (!json_is_array(ch) || nch < 1) {
        free(context);
        return lmc_err_at(err, LMC_EFORMAT, path, line, 1, "expected a non-empty array of choices (choices, endings or choices.text)");
    }
    int64_t gold = -1;
    json_t *g = first_of(obj, gold_keys), *ak = json_object_get(obj, "answerKey");
    if (json_is_integer(g)) gold = json_integer_value(g);
    else if (json_is_string(g)) {
        char *end;
        gold = strtoll(json_string_value(g), &end, 10);
        if (*end || end == json_string_value(g)) gold = -1;
    } else if (json_is_string(ak) && json_is_array(labels)) {
        size_t i;
        json_t *l;
        json_array_foreach(labels, i, l) if (json_is_string(l) && !strcmp(json_string_value(l), json_string_value(ak))) gold = (int64_t)i;
    }
    if (gold < 0 || (size_t)gold >= nch) {
        free(context);
        return lmc_err_at(err, LMC_EFORMAT, path, line, 1, "expected a gold index in [0, %zu) (gold, label or answerKey)", nch);
    }
    json_t *doc = json_array();
    json_array_append_new(doc, json_integer((json_int_t)c->n));
    json_array_append_new(doc, json_integer((json_int_t)nch));
    json_array_append_new(doc, json_integer((json_int_t)gold));
    size_t clen = strlen(context);
    for (size_t i = 0; i < nch && !rc; i++) {
        json_t *s = json_array_get(ch, i);
        if (!json_is_string(s)) { rc = lmc_err_at(err, LMC_EFORMAT, path, line, 1, "choice %zu is not a string", i); break; }
        const char *cs = json_string_value(s);
        size_t len = strlen(cs);
        json_array_append_new(doc, json_integer((json_int_t)lmc_eval_count_chars(cs, len)));
        json_array_append_new(doc, json_integer((json_int_t)len));
        if (c->n == c->cap) {
            size_t nc = c->cap ? c->cap * 2 : 256;
            lmc_eval_req *p = realloc(c->reqs, nc * sizeof *p);
            if (!p) { rc = lmc_errf(err, LMC_ENOMEM, "out of memory"); break; }
            c->reqs = p;
            c->cap = nc;
        }
        char *t = malloc(len + 2);
        if (!t) { rc = lmc_errf(err, LMC_ENOMEM, "out of memory"); break; }
        t[0] = ' ';
        memcpy(t + 1, cs, len + 1);
        rc = lmc_eval_req_pair(c->lm, context, clen, t, len + 1, &c->reqs[c->n], err);
        free(t);
        if (rc) { lmc_err_wrap(err, "%s:%llu", path, (unsigned long long)line); break; }
        c->n++;
    }
    free(context);
    if (rc) { json_decref(doc); return -1; }
    json_array_append_new(c->docs, doc);
    return 0;
}

int lmc_eval_mc(lmc_eval_lm *lm, const lmc_eval_opts *o, json_t **summary, json_t **examples, lmc_err *err) {
    mc_ctx c = {lm, NULL, 0, 0, json_array()};
    int rc = 0;
    for (int f = 0; f < o->n_data && !rc; f++) {
        int64_t left = o->limit > 0 ? o->limit - (int64_t)json_array_size(c.docs) : 0;
        if (o->limit > 0 && left <= 0) break;
        rc = lmc_eval_read_jsonl(o->data[f], left, mc_line, &c, err);
    }
    if (!rc && json_array_size(c.docs) == 0) rc = lmc_errf(err, LMC_EINVAL, "no multiple-choice documents in the input");
    if (!rc && lm->progress) lm->progress->total = c.n;
    if (!rc) rc = lmc_eval_score(lm, c.reqs, c.n, err);
    if (!rc) {
        json_t *ex = examples ? json_array() : NULL;
        size_t nd = json_array_size(c.docs), acc = 0, accn = 0, accb = 0;
        for (size_t d = 0; d < nd; d++) {
            json_t *doc = json_array_get(c.docs, d);
            size_t r0 = (size_t)json_integer_value(json_array_get(doc, 0));
            size_t nch = (size_t)json_integer_value(json_array_get(doc, 1));
            size_t gold = (size_t)json_integer_value(json_array_get(doc, 2));
            size_t p = 0, pn = 0, pb = 0;
            double best = 0, bestn = 0, bestb = 0;
            json_t *lls = ex ? json_array() : NULL;
            for (size_t i = 0; i < nch; i++) {
                double ll = c.reqs[r0 + i].ll;
                double chars = (double)json_integer_value(json_array_get(doc, 3 + 2 * i));
                double bytes = (double)json_integer_value(json_array_get(doc, 4 + 2 * i));
                double ln = ll / chars, lb = ll / bytes; /* the harness divides by the choice lengths */
                if (i == 0 || ll > best) { best = ll; p = i; }
                if (i == 0 || ln > bestn) { bestn = ln; pn = i; }
                if (i == 0 || lb > bestb) { bestb = lb; pb = i; }
                if (lls) json_array_append_new(lls, json_real(ll));
            }
            acc += p == gold;
            accn += pn == gold;
            accb += pb == gold;
            if (ex)
                json_array_append_new(ex, json_pack("{s:I,s:I,s:I,s:I,s:o}", "i", (json_int_t)d, "gold", (json_int_t)gold,
                                                    "pred", (json_int_t)p, "pred_norm", (json_int_t)pn, "ll", lls));
        }
        *summary = json_pack("{s:s,s:f,s:f,s:f,s:I}", "task", "mc", "acc", (double)acc / (double)nd, "acc_norm",
                             (double)accn / (double)nd, "acc_bytes", (double)accb / (double)nd, "docs", (json_int_t)nd);
        if (examples) *examples = ex;
    }
    json_decref(c.docs);
    lmc_eval_req_free(c.reqs, c.n);
    free(c.reqs);
    return rc ? -1 : 0;
}
