/* data.sources: the YAML list (parsed from libyaml's events like train.eval_tasks) and its checks. */
#include "train/mix_config.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(sizeof ((train_config *)0)->sources / sizeof ((train_config *)0)->sources[0] == TRAIN_MAX_SOURCES,
               "train_config.sources holds TRAIN_MAX_SOURCES entries");

static int next_ev(yaml_parser_t *p, yaml_event_t *ev, const char *name, lmc_err *err) {
    yaml_event_delete(ev);
    if (!yaml_parser_parse(p, ev))
        return lmc_err_at(err, LMC_EFORMAT, name, p->problem_mark.line + 1, p->problem_mark.column + 1, "YAML: %s",
                          p->problem ? p->problem : "syntax error");
    return 0;
}

/* src: the source's name when known ("" before its name field is read) */
static int bad(const yaml_event_t *ev, const char *name, const char *src, lmc_err *err, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static int bad(const yaml_event_t *ev, const char *name, const char *src, lmc_err *err, const char *fmt, ...) {
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return lmc_err_at(err, LMC_EINVAL, name, ev->start_mark.line + 1, ev->start_mark.column + 1, "data.sources%s%s%s: %s",
                      src[0] ? " '" : "", src, src[0] ? "'" : "", msg);
}

static int good_name(const char *v) {
    if (!*v || strlen(v) >= 64) return 0;
    for (const char *p = v; *p; p++)
        if (!(isalnum((unsigned char)*p) || *p == '_' || *p == '-' || *p == '.')) return 0;
    return 1;
}

/* A finite decimal number (no hex, inf, nan). */
static int number(const char *s, double *out) {
    if (!*s) return -1;
    for (const char *p = s; *p; p++)
        if (!(isdigit((unsigned char)*p) || *p == '.' || *p == 'e' || *p == 'E' || *p == '+' || *p == '-')) return -1;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (*end || errno == ERANGE || !isfinite(v)) return -1;
    *out = v;
    return 0;
}

int train_mix_sources_parse(yaml_parser_t *p, yaml_event_t *ev, train_config *c, const char *name, lmc_err *err) {
    if (c->n_sources) return bad(ev, name, "", err, "given twice");
    if (next_ev(p, ev, name, err)) return -1;
    if (ev->type == YAML_SCALAR_EVENT && ev->data.scalar.length == 0) return 0; /* "sources:" empty */
    if (ev->type != YAML_SEQUENCE_START_EVENT) return bad(ev, name, "", err, "expected a list of {name, train, val, weight}");
    for (;;) {
        if (next_ev(p, ev, name, err)) return -1;
        if (ev->type == YAML_SEQUENCE_END_EVENT) return 0;
        if (ev->type != YAML_MAPPING_START_EVENT) return bad(ev, name, "", err, "expected a mapping {name, train, val, weight}");
        if (c->n_sources == TRAIN_MAX_SOURCES) return bad(ev, name, "", err, "at most %d sources", TRAIN_MAX_SOURCES);
        struct train_source *s = &c->sources[c->n_sources];
        memset(s, 0, sizeof *s); /* configs compare with memcmp */
        int have_w = 0;
        for (;;) {
            if (next_ev(p, ev, name, err)) return -1;
            if (ev->type == YAML_MAPPING_END_EVENT) break;
            if (ev->type != YAML_SCALAR_EVENT) return bad(ev, name, s->name, err, "expected a key");
            char key[32];
            snprintf(key, sizeof key, "%s", (const char *)ev->data.scalar.value);
            if (next_ev(p, ev, name, err)) return -1;
            if (ev->type != YAML_SCALAR_EVENT) return bad(ev, name, s->name, err, "%s: expected a single value", key);
            const char *v = (const char *)ev->data.scalar.value;
            if (!strcmp(key, "name")) {
                if (!good_name(v))
                    return bad(ev, name, "", err, "name '%s' must be 1-63 characters of A-Z a-z 0-9 _ . -", v);
                for (int64_t i = 0; i < c->n_sources; i++)
                    if (!strcmp(c->sources[i].name, v)) return bad(ev, name, v, err, "duplicate name (source %lld has it)", (long long)i + 1);
                snprintf(s->name, sizeof s->name, "%s", v);
            } else if (!strcmp(key, "train") || !strcmp(key, "val")) {
                char *dst = key[0] == 't' ? s->train : s->val;
                if ((key[0] == 't' && !*v) || strlen(v) >= TRAIN_CFG_STR || !train_yaml_printable(v))
                    return bad(ev, name, s->name, err, "%s must be a glob of printable characters shorter than %d bytes", key,
                               TRAIN_CFG_STR);
                memcpy(dst, v, strlen(v) + 1);
            } else if (!strcmp(key, "weight")) {
                if (number(v, &s->weight) || !(s->weight > 0))
                    return bad(ev, name, s->name, err, "weight must be a positive finite number, got '%s'", v);
                have_w = 1;
            } else if (!strcmp(key, "target_loss")) {
                if (number(v, &s->target_loss) || !(s->target_loss >= 0))
                    return bad(ev, name, s->name, err, "target_loss must be a finite number >= 0, got '%s'", v);
                s->has_target = 1;
            } else {
                return bad(ev, name, s->name, err, "unknown field '%s' (expected name, train, val, weight, target_loss)", key);
            }
        }
        if (!s->name[0]) return bad(ev, name, "", err, "source %lld has no name", (long long)c->n_sources + 1);
        if (!s->train[0]) return bad(ev, name, s->name, err, "missing train (a glob of token shards)");
        if (!have_w) return bad(ev, name, s->name, err, "missing weight (a positive number)");
        c->n_sources++;
    }
}

static int quoted(lmc_buf *out, const char *v, lmc_err *err) {
    if (lmc_buf_append(out, "\"", 1, err)) return -1;
    for (const char *p = v; *p; p++) {
        int rc = (*p == '"' || *p == '\\') ? lmc_buf_printf(out, err, "\\%c", *p) : lmc_buf_append(out, p, 1, err);
        if (rc) return -1;
    }
    return lmc_buf_append(out, "\"", 1, err);
}

/* Shortest decimal that reads back as the same double. */
static void shortest(char *buf, size_t n, double v) {
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, n, "%.*g", prec, v);
        if (strtod(buf, NULL) == v) break;
    }
}

int train_mix_sources_to_yaml(const train_config *c, lmc_buf *out, lmc_err *err) {
    if (!c->n_sources) return 0;
    if (lmc_buf_printf(out, err, "  sources:                        # the data mixture (docs/train.md)\n")) return -1;
    for (int64_t i = 0; i < c->n_sources; i++) {
        const struct train_source *s = &c->sources[i];
        char num[64];
        if (lmc_buf_printf(out, err, "    - {name: \"%s\", train: ", s->name) || quoted(out, s->train, err)) return -1;
        if (s->val[0] && (lmc_buf_printf(out, err, ", val: ") || quoted(out, s->val, err))) return -1;
        shortest(num, sizeof num, s->weight);
        if (lmc_buf_printf(out, err, ", weight: %s", num)) return -1;
        shortest(num, sizeof num, s->target_loss);
        if (s->has_target && lmc_buf_printf(out, err, ", target_loss: %s", num)) return -1;
        if (lmc_buf_printf(out, err, "}\n")) return -1;
    }
    return 0;
}

int train_mix_validate(const train_config *c, lmc_err *err) {
    int dynamic = strcmp(c->mixing, "static") != 0;
    if (c->n_sources && c->data_train[0])
        return lmc_errf(err, LMC_EINVAL, "data.sources and data.train are both set: data.sources replaces data.train "
                                         "(remove one)");
    if (dynamic && !c->n_sources)
        return lmc_errf(err, LMC_EINVAL, "data.mixing: %s needs data.sources (a list of {name, train, val, weight})",
                        c->mixing);
    if (!strcmp(c->mixing, "velocitune") && c->eval_batches <= 0)
        return lmc_errf(err, LMC_EINVAL, "data.mixing: velocitune measures the sources' val losses: train.eval_batches "
                                         "must be > 0");
    if (!strcmp(c->mixing, "velocitune")) {
        for (int64_t i = 0; i < c->n_sources; i++) {
            if (!c->sources[i].has_target)
                return lmc_errf(err, LMC_EINVAL, "data.sources '%s': data.mixing velocitune needs its target_loss "
                                                 "(the loss the scaling law predicts for it)", c->sources[i].name);
            if (!c->sources[i].val[0])
                return lmc_errf(err, LMC_EINVAL, "data.sources '%s': data.mixing velocitune needs its val shards "
                                                 "(the velocity is measured on them)", c->sources[i].name);
        }
    }
    if (!strcmp(c->mixing, "doremi") && !c->mixing_reference[0])
        return lmc_errf(err, LMC_EINVAL, "data.mixing: doremi needs data.mixing_reference (the reference model's "
                                         "checkpoint or HF folder)");
    if (!strcmp(c->mixing, "chameleon") && c->n_sources < 2)
        return lmc_errf(err, LMC_EINVAL, "data.mixing: chameleon needs at least 2 data.sources");
    return 0;
}
