/* BLiMP: minimal pairs scored as the harness's blimp_* tasks (multiple_choice with an empty context,
 * choices " sentence_good" / " sentence_bad", gold 0): a pair is correct when the good sentence's total
 * log-likelihood, conditioned on the prefix token, is strictly the larger (numpy argmax picks the
 * first of equal values, so a tie counts as correct). acc = unweighted mean of the per-phenomenon
 * accuracies (the harness's blimp group: weight_by_size False); acc_pairs = share of all pairs. */
#include "eval/eval.h"
#include <stdlib.h>
#include <string.h>

typedef struct {
    lmc_eval_lm *lm;
    lmc_eval_req *reqs;
    size_t n, cap;
    json_t *names; /* phenomenon of each pair */
    const char *file_name;
} blimp_ctx;

static int blimp_line(void *vc, json_t *obj, const char *path, uint64_t line, lmc_err *err) {
    blimp_ctx *c = vc;
    const char *s[2];
    const char *key[2] = {"sentence_good", "sentence_bad"};
    for (int k = 0; k < 2; k++) {
        json_t *v = json_object_get(obj, key[k]);
        if (!json_is_string(v)) return lmc_err_at(err, LMC_EFORMAT, path, line, 1, "expected a string field '%s'", key[k]);
        s[k] = json_string_value(v);
    }
    if (c->n + 2 > c->cap) {
        size_t nc = c->cap ? c->cap * 2 : 256;
        lmc_eval_req *p = realloc(c->reqs, nc * sizeof *p);
        if (!p) return lmc_errf(err, LMC_ENOMEM, "out of memory");
        c->reqs = p;
        c->cap = nc;
    }
    for (int k = 0; k < 2; k++) {
        size_t len = strlen(s[k]);
        char *t = malloc(len + 2);
        if (!t) return lmc_errf(err, LMC_ENOMEM, "out of memory");
        t[0] = ' ';
        memcpy(t + 1, s[k], len + 1);
        int rc = lmc_eval_req_pair(c->lm, "", 0, t, len + 1, &c->reqs[c->n], err);
        free(t);
        if (rc) return lmc_err_wrap(err, "%s:%llu", path, (unsigned long long)line);
        c->n++;
    }
    json_t *uid = json_object_get(obj, "UID");
    json_array_append_new(c->names, json_string(json_is_string(uid) ? json_string_value(uid) : c->file_name));
    return 0;
}

static const char *base_name(const char *p, char *buf, size_t cap) {
    const char *b = strrchr(p, '/');
    b = b ? b + 1 : p;
    snprintf(buf, cap, "%s", b);
    char *dot = strstr(buf, ".jsonl");
    if (dot) *dot = 0;
    return buf;
}

int lmc_eval_blimp(lmc_eval_lm *lm, const lmc_eval_opts *o, json_t **summary, json_t **examples, lmc_err *err) {
    blimp_ctx c = {lm, NULL, 0, 0, json_array(), NULL};
    json_t *files = json_array();
    int rc = 0;
    char nb[512];
    for (int f = 0; f < o->n_data && !rc; f++) {
        c.file_name = base_name(o->data[f], nb, sizeof nb);
        size_t before = c.n;
        rc = lmc_eval_read_jsonl(o->data[f], o->limit, blimp_line, &c, err);
        json_array_append_new(files, json_integer((json_int_t)((c.n - before) / 2)));
    }
    if (!rc && c.n == 0) rc = lmc_errf(err, LMC_EINVAL, "no BLiMP pairs in the input");
    if (!rc && lm->progress) lm->progress->total = c.n;
    if (!rc) rc = lmc_eval_score(lm, c.reqs, c.n, err);
    if (!rc) {
        /* per phenomenon: in order of first appearance */
        json_t *ph = json_object(), *order = json_array(), *ex = examples ? json_array() : NULL;
        size_t np = c.n / 2, correct_all = 0;
        for (size_t i = 0; i < np; i++) {
            const char *name = json_string_value(json_array_get(c.names, i));
            double g = c.reqs[2 * i].ll, b = c.reqs[2 * i + 1].ll;
            int ok = !(b > g);
            correct_all += (size_t)ok;
            json_t *e = json_object_get(ph, name);
            if (!e) {
                e = json_pack("{s:i,s:i}", "n", 0, "correct", 0);
                json_object_set_new(ph, name, e);
                json_array_append_new(order, json_string(name));
            }
            json_object_set_new(e, "n", json_integer(json_integer_value(json_object_get(e, "n")) + 1));
            json_object_set_new(e, "correct", json_integer(json_integer_value(json_object_get(e, "correct")) + ok));
            if (ex)
                json_array_append_new(ex, json_pack("{s:s,s:I,s:f,s:f,s:i}", "phenomenon", name, "i",
                                                    (json_int_t)i, "ll_good", g, "ll_bad", b, "correct", ok));
        }
        json_t *accs = json_object();
        double mean = 0;
        size_t k;
        json_t *v;
        json_array_foreach(order, k, v) {
            json_t *e = json_object_get(ph, json_string_value(v));
            double a = (double)json_integer_value(json_object_get(e, "correct")) /
                       (double)json_integer_value(json_object_get(e, "n"));
            mean += a;
            json_object_set_new(accs, json_string_value(v), json_real(a));
        }
        mean /= (double)json_array_size(order);
        *summary = json_pack("{s:s,s:f,s:f,s:I,s:I,s:o}", "task", "blimp", "acc", mean, "acc_pairs",
                             (double)correct_all / (double)np, "pairs", (json_int_t)np, "phenomena",
                             (json_int_t)json_array_size(order), "acc_by_phenomenon", accs);
        if (examples) *examples = ex;
        json_decref(ph);
        json_decref(order);
    }
    json_decref(files);
    json_decref(c.names);
    lmc_eval_req_free(c.reqs, c.n);
    free(c.reqs);
    return rc ? -1 : 0;
}
