/* train.eval_tasks: the YAML list, and running the harness tasks of src/eval inside training. */
#include "train/eval_tasks.h"
#include "eval/eval.h"
#include "base/io.h"
#include <stdlib.h>
#include <string.h>

static int next_ev(yaml_parser_t *p, yaml_event_t *ev, const char *name, lmc_err *err) {
    yaml_event_delete(ev);
    if (!yaml_parser_parse(p, ev))
        return lmc_err_at(err, LMC_EFORMAT, name, p->problem_mark.line + 1, p->problem_mark.column + 1, "YAML: %s",
                          p->problem ? p->problem : "syntax error");
    return 0;
}

static int bad(yaml_event_t *ev, const char *name, lmc_err *err, const char *what) {
    return lmc_err_at(err, LMC_EINVAL, name, ev->start_mark.line + 1, ev->start_mark.column + 1, "train.eval_tasks: %s", what);
}

static int parse_i64(const char *s, int64_t *out) {
    char *end;
    if (!*s) return -1;
    long long v = strtoll(s, &end, 10);
    if (*end || v < 0) return -1;
    *out = v;
    return 0;
}

int train_eval_tasks_parse(yaml_parser_t *p, yaml_event_t *ev, train_config *c, const char *name, lmc_err *err) {
    if (c->n_eval_tasks) return bad(ev, name, err, "given twice");
    if (next_ev(p, ev, name, err)) return -1;
    if (ev->type == YAML_SCALAR_EVENT && ev->data.scalar.length == 0) return 0; /* "eval_tasks:" empty */
    if (ev->type != YAML_SEQUENCE_START_EVENT) return bad(ev, name, err, "expected a list of {task, data, every, limit}");
    static const char *const tasks[] = {"blimp", "mc", "perplexity", "wikitext", "lambada", NULL};
    for (;;) {
        if (next_ev(p, ev, name, err)) return -1;
        if (ev->type == YAML_SEQUENCE_END_EVENT) return 0;
        if (ev->type != YAML_MAPPING_START_EVENT) return bad(ev, name, err, "expected a mapping {task, data, every, limit}");
        if (c->n_eval_tasks == (int64_t)(sizeof c->eval_tasks / sizeof c->eval_tasks[0]))
            return bad(ev, name, err, "at most 8 tasks");
        struct train_eval_task *t = &c->eval_tasks[c->n_eval_tasks];
        memset(t, 0, sizeof *t);
        int have = 0;
        for (;;) {
            if (next_ev(p, ev, name, err)) return -1;
            if (ev->type == YAML_MAPPING_END_EVENT) break;
            if (ev->type != YAML_SCALAR_EVENT) return bad(ev, name, err, "expected a key");
            char key[32];
            snprintf(key, sizeof key, "%s", (const char *)ev->data.scalar.value);
            if (next_ev(p, ev, name, err)) return -1;
            if (ev->type != YAML_SCALAR_EVENT) return bad(ev, name, err, "expected a single value");
            const char *v = (const char *)ev->data.scalar.value;
            if (!strcmp(key, "task")) {
                int ok = 0;
                for (int i = 0; tasks[i]; i++) ok |= !strcmp(v, tasks[i]);
                if (!ok) return bad(ev, name, err, "task must be blimp, mc, perplexity, wikitext or lambada");
                snprintf(t->task, sizeof t->task, "%s", v);
                have |= 1;
            } else if (!strcmp(key, "data")) {
                if (!*v || strlen(v) >= sizeof t->data || !train_yaml_printable(v))
                    return bad(ev, name, err, "data must be a path of printable characters shorter than 1024 bytes");
                snprintf(t->data, sizeof t->data, "%s", v);
                have |= 2;
            } else if (!strcmp(key, "every")) {
                if (parse_i64(v, &t->every)) return bad(ev, name, err, "every must be an integer >= 0");
            } else if (!strcmp(key, "limit")) {
                if (parse_i64(v, &t->limit)) return bad(ev, name, err, "limit must be an integer >= 0");
            } else
                return bad(ev, name, err, "unknown field (expected task, data, every, limit)");
        }
        if (have != 3) return bad(ev, name, err, "each task needs task and data");
        c->n_eval_tasks++;
    }
}

int train_eval_tasks_to_yaml(const train_config *c, lmc_buf *out, lmc_err *err) {
    if (!c->n_eval_tasks) return 0;
    if (lmc_buf_printf(out, err, "  eval_tasks:                      # harness tasks during training (docs/eval.md)\n"))
        return -1;
    for (int64_t i = 0; i < c->n_eval_tasks; i++) {
        const struct train_eval_task *t = &c->eval_tasks[i];
        if (lmc_buf_printf(out, err, "    - {task: %s, data: \"", t->task)) return -1;
        for (const char *p = t->data; *p; p++) {
            int rc = (*p == '"' || *p == '\\') ? lmc_buf_printf(out, err, "\\%c", *p) : lmc_buf_append(out, p, 1, err);
            if (rc) return -1;
        }
        if (lmc_buf_printf(out, err, "\", every: %lld, limit: %lld}\n", (long long)t->every, (long long)t->limit)) return -1;
    }
    return 0;
}

static int due(const struct train_eval_task *t, const train_config *c, int64_t step) {
    return step == c->steps || (t->every > 0 && step % t->every == 0);
}

int train_eval_tasks_due(const train_config *c, int64_t step) {
    for (int64_t i = 0; i < c->n_eval_tasks; i++)
        if (due(&c->eval_tasks[i], c, step)) return 1;
    return 0;
}

/* Numeric top-level results as eval/<task>_<key>. */
static void collect(train_eval_results *r, const char *task, json_t *s) {
    const char *k;
    json_t *v;
    json_object_foreach(s, k, v) {
        if (!json_is_real(v) || r->n == (int)(sizeof r->val / sizeof r->val[0])) continue;
        snprintf(r->key[r->n], sizeof r->key[0], "eval/%s_%s", task, k);
        r->val[r->n++] = json_real_value(v);
    }
}

int train_eval_tasks_run(gpt2_model *m, const train_config *c, const char *tokenizer_json, int64_t step,
                         train_eval_results *r, lmc_err *err) {
    r->n = 0;
    lmc_eval_lm lm;
    /* rows x longest row = a training micro-batch, so the activation buffer never grows */
    if (lmc_eval_lm_wrap(&lm, m, tokenizer_json, (int)(c->micro_batch * c->seq_len), err))
        return lmc_err_wrap(err, "train.eval_tasks");
    int rc = 0;
    for (int64_t i = 0; i < c->n_eval_tasks && !rc; i++) {
        const struct train_eval_task *t = &c->eval_tasks[i];
        if (!due(t, c, step)) continue;
        char **paths = NULL;
        size_t np = 0;
        if ((rc = lmc_glob(t->data, &paths, &np, err))) break;
        lmc_eval_opts o = {(const char *const *)paths, (int)np, t->limit, NULL, 0};
        json_t *s = NULL;
        rc = lmc_eval_task(&lm, t->task, &o, &s, NULL, err);
        if (!rc) collect(r, t->task, s);
        json_decref(s);
        lmc_free_strv(paths, np);
    }
    lmc_eval_lm_close(&lm);
    return rc ? lmc_err_wrap(err, "train.eval_tasks") : 0;
}

void train_eval_tasks_log(lmc_jsonl *w, const train_eval_results *r) {
    for (int i = 0; i < r->n; i++) lmc_jsonl_num(w, r->key[i], r->val[i]);
}
