/* JSON and YAML loading with positions in every error. See json.h. */
#include "base/json.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "base/io.h"

json_t *lmc_json_loadb(const char *buf, size_t len, const char *name, lmc_err *err) {
    json_error_t je;
    json_t *j = json_loadb(buf, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &je);
    if (!j) {
        lmc_err_at(err, LMC_EFORMAT, name, je.line > 0 ? (uint64_t)je.line : 0,
                   je.column > 0 ? (uint64_t)je.column : 0, "invalid JSON: %s", je.text);
        return NULL;
    }
    return j;
}

json_t *lmc_json_load_file(const char *path, lmc_err *err) {
    char *data;
    size_t len;
    if (lmc_read_file(path, &data, &len, err)) return NULL;
    json_t *j = lmc_json_loadb(data, len, path, err);
    free(data);
    return j;
}

/* --- YAML -> jansson --- */

/* YAML 1.2 core schema for plain scalars. */
static json_t *yaml_scalar(const yaml_event_t *ev) {
    const char *s = (const char *)ev->data.scalar.value;
    size_t n = ev->data.scalar.length;
    if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE) return json_stringn(s, n);
    if (n == 0 || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") || !strcmp(s, "NULL"))
        return json_null();
    if (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE")) return json_true();
    if (!strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "FALSE")) return json_false();
    char *end;
    errno = 0;
    long long iv = strtoll(s, &end, 0);
    if (*end == 0 && end != s && errno == 0 && s[0] != '+' && !(s[0] == '0' && n > 1 && s[1] >= '0' && s[1] <= '9'))
        return json_integer(iv);
    errno = 0;
    double dv = strtod(s, &end);
    if (*end == 0 && end != s && errno == 0 && isfinite(dv) && strpbrk(s, "0123456789"))
        return json_real(dv);
    if (!strcmp(s, ".inf") || !strcmp(s, ".Inf")) return json_real(INFINITY);
    if (!strcmp(s, "-.inf") || !strcmp(s, "-.Inf")) return json_real(-INFINITY);
    return json_stringn(s, n);
}

static json_t *yaml_node(yaml_parser_t *p, yaml_event_t *ev, const char *name, lmc_err *err, int depth);

static int yaml_next(yaml_parser_t *p, yaml_event_t *ev, const char *name, lmc_err *err) {
    if (!yaml_parser_parse(p, ev)) {
        lmc_err_at(err, LMC_EFORMAT, name, p->problem_mark.line + 1, p->problem_mark.column + 1,
                   "invalid YAML: %s%s%s", p->problem ? p->problem : "parse error",
                   p->context ? " " : "", p->context ? p->context : "");
        return -1;
    }
    return 0;
}

static json_t *yaml_node(yaml_parser_t *p, yaml_event_t *ev, const char *name, lmc_err *err, int depth) {
    if (depth > 64) {
        lmc_err_at(err, LMC_EFORMAT, name, ev->start_mark.line + 1, ev->start_mark.column + 1,
                   "YAML nested deeper than 64 levels");
        return NULL;
    }
    switch (ev->type) {
    case YAML_SCALAR_EVENT: {
        /* NULL only where jansson refuses the value: .inf (JSON has no infinity). Found by
         * fuzz_pipeline_config: this used to fail with an empty message. */
        json_t *v = yaml_scalar(ev);
        if (!v)
            lmc_err_at(err, LMC_EFORMAT, name, ev->start_mark.line + 1, ev->start_mark.column + 1,
                       "'%.*s' is not supported here (infinite numbers cannot be represented)",
                       (int)(ev->data.scalar.length > 40 ? 40 : ev->data.scalar.length), (const char *)ev->data.scalar.value);
        return v;
    }
    case YAML_ALIAS_EVENT:
        lmc_err_at(err, LMC_EFORMAT, name, ev->start_mark.line + 1, ev->start_mark.column + 1,
                   "YAML aliases are not supported");
        return NULL;
    case YAML_SEQUENCE_START_EVENT: {
        json_t *arr = json_array();
        for (;;) {
            yaml_event_t e;
            if (yaml_next(p, &e, name, err)) { json_decref(arr); return NULL; }
            if (e.type == YAML_SEQUENCE_END_EVENT) { yaml_event_delete(&e); return arr; }
            json_t *v = yaml_node(p, &e, name, err, depth + 1);
            yaml_event_delete(&e);
            if (!v) { json_decref(arr); return NULL; }
            json_array_append_new(arr, v);
        }
    }
    case YAML_MAPPING_START_EVENT: {
        json_t *obj = json_object();
        json_t *pos = json_object(); /* key -> [line, column] where it was first given */
        if (!obj || !pos) {
            json_decref(obj);
            json_decref(pos);
            lmc_errf(err, LMC_ENOMEM, "%s: out of memory", name);
            return NULL;
        }
        for (;;) {
            yaml_event_t k;
            if (yaml_next(p, &k, name, err)) { json_decref(obj); json_decref(pos); return NULL; }
            if (k.type == YAML_MAPPING_END_EVENT) { yaml_event_delete(&k); json_decref(pos); return obj; }
            if (k.type != YAML_SCALAR_EVENT) {
                lmc_err_at(err, LMC_EFORMAT, name, k.start_mark.line + 1, k.start_mark.column + 1,
                           "expected a scalar mapping key");
                yaml_event_delete(&k);
                json_decref(obj);
                json_decref(pos);
                return NULL;
            }
            char *key = strndup((const char *)k.data.scalar.value, k.data.scalar.length);
            yaml_mark_t km = k.start_mark;
            yaml_event_delete(&k);
            json_t *first = json_object_get(pos, key);
            if (first) {
                lmc_err_at(err, LMC_EFORMAT, name, km.line + 1, km.column + 1,
                           "duplicate key '%s' (first given at %lld:%lld)", key,
                           (long long)json_integer_value(json_array_get(first, 0)),
                           (long long)json_integer_value(json_array_get(first, 1)));
                free(key);
                json_decref(obj);
                json_decref(pos);
                return NULL;
            }
            json_object_set_new(pos, key, json_pack("[II]", (json_int_t)km.line + 1, (json_int_t)km.column + 1));
            yaml_event_t v;
            if (yaml_next(p, &v, name, err)) { free(key); json_decref(obj); json_decref(pos); return NULL; }
            json_t *val = yaml_node(p, &v, name, err, depth + 1);
            yaml_event_delete(&v);
            if (!val) { free(key); json_decref(obj); json_decref(pos); return NULL; }
            json_object_set_new(obj, key, val);
            free(key);
        }
    }
    default:
        lmc_err_at(err, LMC_EFORMAT, name, ev->start_mark.line + 1, ev->start_mark.column + 1,
                   "unexpected YAML event");
        return NULL;
    }
}

json_t *lmc_yaml_loadb(const char *buf, size_t len, const char *name, lmc_err *err) {
    yaml_parser_t p;
    if (!yaml_parser_initialize(&p)) {
        lmc_errf(err, LMC_ENOMEM, "%s: cannot initialise the YAML parser", name);
        return NULL;
    }
    yaml_parser_set_input_string(&p, (const unsigned char *)buf, len);
    json_t *root = NULL;
    yaml_event_t ev;
    for (;;) {
        if (yaml_next(&p, &ev, name, err)) break;
        if (ev.type == YAML_STREAM_END_EVENT) {
            yaml_event_delete(&ev);
            if (!root) root = json_object(); /* empty file = empty mapping */
            break;
        }
        if (ev.type == YAML_STREAM_START_EVENT || ev.type == YAML_DOCUMENT_START_EVENT ||
            ev.type == YAML_DOCUMENT_END_EVENT) {
            yaml_event_delete(&ev);
            continue;
        }
        if (root) { /* a second document or node: only the first is used */
            yaml_event_delete(&ev);
            break;
        }
        root = yaml_node(&p, &ev, name, err, 0);
        yaml_event_delete(&ev);
        if (!root) break;
    }
    yaml_parser_delete(&p);
    return root;
}

json_t *lmc_yaml_load_file(const char *path, lmc_err *err) {
    char *data;
    size_t len;
    if (lmc_read_file(path, &data, &len, err)) return NULL;
    json_t *j = lmc_yaml_loadb(data, len, path, err);
    free(data);
    return j;
}

static const char *type_name(const json_t *v) {
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a number";
    case JSON_TRUE: case JSON_FALSE: return "a boolean";
    default: return "null";
    }
}

static const json_t *get(const json_t *obj, const char *key, const char *ctx, lmc_err *err) {
    const json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;
    if (!v) lmc_errf(err, LMC_ENOTFOUND, "%s: missing key '%s'", ctx, key);
    return v;
}

int lmc_json_get_int(const json_t *obj, const char *key, int64_t *out, const char *ctx, lmc_err *err) {
    const json_t *v = get(obj, key, ctx, err);
    if (!v) return LMC_ENOTFOUND;
    if (json_is_integer(v)) { *out = json_integer_value(v); return 0; }
    if (json_is_real(v)) {
        double d = json_real_value(v);
        if (d == floor(d) && fabs(d) < 9.0e18) { *out = (int64_t)d; return 0; }
    }
    return lmc_errf(err, LMC_EFORMAT, "%s: key '%s' must be an integer, got %s", ctx, key, type_name(v));
}

int lmc_json_get_num(const json_t *obj, const char *key, double *out, const char *ctx, lmc_err *err) {
    const json_t *v = get(obj, key, ctx, err);
    if (!v) return LMC_ENOTFOUND;
    if (!json_is_number(v))
        return lmc_errf(err, LMC_EFORMAT, "%s: key '%s' must be a number, got %s", ctx, key, type_name(v));
    *out = json_number_value(v);
    return 0;
}

int lmc_json_get_bool(const json_t *obj, const char *key, int *out, const char *ctx, lmc_err *err) {
    const json_t *v = get(obj, key, ctx, err);
    if (!v) return LMC_ENOTFOUND;
    if (!json_is_boolean(v))
        return lmc_errf(err, LMC_EFORMAT, "%s: key '%s' must be true or false, got %s", ctx, key, type_name(v));
    *out = json_is_true(v);
    return 0;
}

int lmc_json_get_str(const json_t *obj, const char *key, const char **out, const char *ctx, lmc_err *err) {
    const json_t *v = get(obj, key, ctx, err);
    if (!v) return LMC_ENOTFOUND;
    if (!json_is_string(v))
        return lmc_errf(err, LMC_EFORMAT, "%s: key '%s' must be a string, got %s", ctx, key, type_name(v));
    *out = json_string_value(v);
    return 0;
}

int lmc_json_save_file(const json_t *j, const char *path, lmc_err *err) {
    char *s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17));
    if (!s) return lmc_errf(err, LMC_ENOMEM, "%s: cannot serialise JSON", path);
    size_t n = strlen(s);
    int rc;
    char *withnl = malloc(n + 2);
    if (!withnl) {
        free(s);
        return lmc_errf(err, LMC_ENOMEM, "out of memory");
    }
    memcpy(withnl, s, n);
    withnl[n] = '\n';
    rc = lmc_write_file_atomic(path, withnl, n + 1, err);
    free(withnl);
    free(s);
    return rc;
}
