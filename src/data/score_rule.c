/* `lmc data filter --rule score:FIELD>=X`: keep documents by a number column of their JSONL line (the columns
 * `lmc data classify score` and `lmc data score` add). */
#include "data/data.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int data_score_rule_add(data_filter_cfg *c, const char *spec, lmc_err *err) {
    if (strncmp(spec, "score:", 6))
        return lmc_errf(err, LMC_EINVAL, "rule '%s': expected score:FIELD>=X (or >, <=, <, ==)", spec);
    if (c->nscore >= DATA_MAX_SCORE_RULES) return lmc_errf(err, LMC_EINVAL, "at most %d score rules", DATA_MAX_SCORE_RULES);
    const char *f = spec + 6, *o = f;
    while (*o && !strchr("<>=", *o)) o++;
    size_t fl = (size_t)(o - f);
    if (!fl || fl >= sizeof c->score[0].field)
        return lmc_errf(err, LMC_EINVAL, "rule '%s': the field name must be 1..63 bytes", spec);
    static const char *const ops[] = {">=", ">", "<=", "<", "=="};
    int op = -1;
    for (int k = 0; k < 5 && op < 0; k++)
        if (!strncmp(o, ops[k], strlen(ops[k])) && (strlen(ops[k]) == 2 || o[1] != '=')) op = k;
    if (op < 0) return lmc_errf(err, LMC_EINVAL, "rule '%s': expected an operator >=, >, <=, < or == after the field", spec);
    const char *v = o + strlen(ops[op]);
    char *e;
    double x = strtod(v, &e);
    if (e == v || *e || !isfinite(x)) return lmc_errf(err, LMC_EINVAL, "rule '%s': expected a number after '%s'", spec, ops[op]);
    data_score_rule r;
    memset(&r, 0, sizeof r);
    memcpy(r.field, f, fl);
    r.op = op;
    r.value = x;
    /* the reason names the failed condition: "score/quality_bucket<12" */
    static const char *const neg[] = {"<", "<=", ">", ">=", "!="};
    snprintf(r.reason, sizeof r.reason, "score/%.*s%s%.10g", (int)fl, f, neg[op], x);
    snprintf(r.missing, sizeof r.missing, "score/missing:%.*s", (int)fl, f);
    c->score[c->nscore++] = r;
    return 0;
}

const char *data_score_rules_check(const data_filter_cfg *c, const char *raw, size_t len) {
    json_t *o = json_loadb(raw, len, JSON_DECODE_ANY, NULL);
    const char *why = NULL;
    for (int i = 0; i < c->nscore && !why; i++) {
        const data_score_rule *r = &c->score[i];
        json_t *v = json_is_object(o) ? json_object_get(o, r->field) : NULL;
        if (!json_is_number(v)) {
            why = r->missing;
            break;
        }
        double x = json_number_value(v);
        int ok = r->op == 0 ? x >= r->value : r->op == 1 ? x > r->value : r->op == 2 ? x <= r->value
               : r->op == 3 ? x < r->value : x == r->value;
        if (!ok) why = r->reason;
    }
    json_decref(o);
    return why;
}
