/* JSON (jansson) and YAML (libyaml) loading with errors that say file:line:column.
 *
 * YAML documents are converted to the same jansson tree, so configs and JSON share one access API.
 * YAML plain scalars are typed by the YAML 1.2 core schema (null, true/false, ints, floats);
 * quoted scalars stay strings. */
#ifndef LMC_BASE_JSON_H
#define LMC_BASE_JSON_H

#include <jansson.h>
#include <stdint.h>
#include "base/error.h"

/* Load a JSON file. On error: "path:line:col: <jansson's reason>". Returns a new reference. */
json_t *lmc_json_load_file(const char *path, lmc_err *err);
/* Parse a buffer; `name` is used in messages in place of a path. */
json_t *lmc_json_loadb(const char *buf, size_t len, const char *name, lmc_err *err);
/* Load a YAML file (first document). Empty document = empty object. */
json_t *lmc_yaml_load_file(const char *path, lmc_err *err);
json_t *lmc_yaml_loadb(const char *buf, size_t len, const char *name, lmc_err *err);

/* Typed getters: fill *out and return 0, or fill err naming `ctx` (e.g. "config.json") and the key,
 * and what type was expected. Missing key -> LMC_ENOTFOUND (callers may treat as "use default"). */
int lmc_json_get_int(const json_t *obj, const char *key, int64_t *out, const char *ctx, lmc_err *err);
int lmc_json_get_num(const json_t *obj, const char *key, double *out, const char *ctx, lmc_err *err);
int lmc_json_get_bool(const json_t *obj, const char *key, int *out, const char *ctx, lmc_err *err);
int lmc_json_get_str(const json_t *obj, const char *key, const char **out, const char *ctx, lmc_err *err);

/* Write a json_t to a file atomically (indented, keys in insertion order). */
int lmc_json_save_file(const json_t *j, const char *path, lmc_err *err);

#endif
