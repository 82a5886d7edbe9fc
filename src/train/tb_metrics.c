/* metrics.jsonl records -> TensorBoard scalars (see tb_events.h). */
#include <stdio.h>
#include <string.h>
#include "base/json.h"
#include "train/tb_events.h"

static int add(tb_writer *w, const char *prefix, json_t *obj, double wall, int64_t step, lmc_err *err) {
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v) {
        if (!prefix[0] && !strcmp(k, "step")) continue;
        char tag[512];
        snprintf(tag, sizeof tag, "%s%s%s", prefix, prefix[0] ? "/" : "", k);
        if (json_is_object(v)) {
            if (strlen(prefix) < 200 && add(w, tag, v, wall, step, err)) return -1;
        } else if (json_is_number(v)) {
            if (tb_writer_scalar(w, wall, step, tag, json_number_value(v), err)) return -1;
        }
    }
    return 0;
}

int tb_writer_metrics_line(tb_writer *w, const char *line, size_t len, double wall_time, lmc_err *err) {
    json_error_t je;
    json_t *j = json_loadb(line, len, 0, &je);
    json_t *st = j ? json_object_get(j, "step") : NULL;
    if (!j || !json_is_object(j) || !json_is_integer(st)) {
        json_decref(j);
        return lmc_errf(err, LMC_EFORMAT, "metrics record for TensorBoard: expected a JSON object with an integer \"step\"");
    }
    int rc = add(w, "", j, wall_time, (int64_t)json_integer_value(st), err);
    json_decref(j);
    if (!rc) rc = tb_writer_flush(w, err);
    return rc;
}
