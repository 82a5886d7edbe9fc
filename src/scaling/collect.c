/* Collecting finished runs: the resolved config.yaml gives the shape and the token count
 * (tokens = steps · batch_size · seq_len), metrics.jsonl gives the final val_loss. */
#include "scaling/scaling.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"

static int get_section_int(const json_t *root, const char *sec, const char *key, int64_t *v, const char *path,
                           lmc_err *err) {
    json_t *s = json_object_get(root, sec);
    if (!json_is_object(s)) return lmc_errf(err, LMC_EFORMAT, "%s: no '%s' section", path, sec);
    char ctx[1100];
    snprintf(ctx, sizeof ctx, "%s: %s", path, sec);
    int rc = lmc_json_get_int(s, key, v, ctx, err);
    if (rc == LMC_ENOTFOUND) return lmc_errf(err, LMC_EFORMAT, "%s: %s.%s is missing", path, sec, key);
    if (rc < 0) return rc;
    if (*v < 1) return lmc_errf(err, LMC_EINVAL, "%s: %s.%s must be >= 1, got %lld", path, sec, key, (long long)*v);
    return 0;
}

int scaling_collect_run(const char *dir, scaling_collected *out, lmc_err *err) {
    memset(out, 0, sizeof *out);
    char *cfg = lmc_path_join(dir, "config.yaml");
    char *met = lmc_path_join(dir, "metrics.jsonl");
    int rc = 0;
    json_t *root = NULL;
    lmc_lines *lr = NULL;
    if (!cfg || !met) { rc = lmc_errf(err, LMC_ENOMEM, "out of memory"); goto done; }
    root = lmc_yaml_load_file(cfg, err);
    if (!root) { rc = err && err->code ? err->code : LMC_EFORMAT; goto done; }
    int64_t L, d, T, steps, bs;
    if ((rc = get_section_int(root, "model", "n_layer", &L, cfg, err)) < 0) goto done;
    if ((rc = get_section_int(root, "model", "d_model", &d, cfg, err)) < 0) goto done;
    if ((rc = get_section_int(root, "model", "seq_len", &T, cfg, err)) < 0) goto done;
    if ((rc = get_section_int(root, "train", "steps", &steps, cfg, err)) < 0) goto done;
    if ((rc = get_section_int(root, "train", "batch_size", &bs, cfg, err)) < 0) goto done;
    if (L > 1000000 || d > 1000000) { rc = lmc_errf(err, LMC_EINVAL, "%s: implausible model shape", cfg); goto done; }
    scaling_shape s = {(int)L, 1, (int)d};
    out->params = scaling_shape_params(&s);
    out->tokens = (double)steps * (double)bs * (double)T;
    out->flops = 6.0 * out->params * out->tokens;
    out->steps = steps;

    if ((rc = lmc_lines_open(&lr, met, err)) < 0) goto done;
    const char *line;
    size_t len;
    int have_val = 0;
    int64_t last_step = -1, val_step = -1;
    while ((rc = lmc_lines_next(lr, &line, &len, err)) > 0) {
        uint64_t ln = lmc_lines_lineno(lr);
        size_t k = 0;
        while (k < len && (line[k] == ' ' || line[k] == '\t' || line[k] == '\r')) k++;
        if (k == len) continue;
        char name[1200];
        snprintf(name, sizeof name, "%s:%llu", met, (unsigned long long)ln);
        json_t *j = lmc_json_loadb(line, len, name, err);
        if (!j) { rc = err && err->code ? err->code : LMC_EFORMAT; goto done; }
        if (!json_is_object(j)) {
            json_decref(j);
            rc = lmc_err_at(err, LMC_EFORMAT, met, ln, 0, "expected a JSON object per line");
            goto done;
        }
        int64_t step = -1;
        int r1 = lmc_json_get_int(j, "step", &step, name, err);
        if (r1 < 0) {
            json_decref(j);
            rc = lmc_err_at(err, LMC_EFORMAT, met, ln, 0, "expected an integer 'step'");
            goto done;
        }
        if (step > last_step) last_step = step;
        json_t *v = json_object_get(j, "val_loss");
        if (v && !json_is_null(v)) {
            if (!json_is_number(v) || !isfinite(json_number_value(v)) || !(json_number_value(v) > 0)) {
                json_decref(j);
                rc = lmc_err_at(err, LMC_EFORMAT, met, ln, 0, "val_loss must be a positive finite number");
                goto done;
            }
            out->val_loss = json_number_value(v);
            val_step = step;
            have_val = 1;
        }
        json_decref(j);
    }
    if (rc < 0) goto done;
    rc = 0;
    out->last_step = last_step;
    if (!have_val) { rc = lmc_errf(err, LMC_EFORMAT, "%s: no line has a val_loss (was the run evaluated?)", met); goto done; }
    /* lmc train logs steps 1..steps and evaluates at the last one. */
    if (last_step < steps) {
        rc = lmc_errf(err, LMC_EINVAL, "%s: run not finished: last logged step %lld of %lld", met,
                      (long long)last_step, (long long)steps);
        goto done;
    }
    if (val_step < steps) {
        rc = lmc_errf(err, LMC_EINVAL, "%s: the last val_loss is at step %lld, not at the final step %lld", met,
                      (long long)val_step, (long long)steps);
        goto done;
    }
    out->run = strdup(dir);
    if (!out->run) rc = lmc_errf(err, LMC_ENOMEM, "out of memory");
done:
    if (lr) lmc_lines_close(lr);
    if (root) json_decref(root);
    free(cfg);
    free(met);
    return rc;
}

static void csv_field(lmc_buf *b, const char *s) {
    if (!strpbrk(s, ",\"\n\r")) { lmc_buf_append(b, s, strlen(s), NULL); return; }
    lmc_buf_append(b, "\"", 1, NULL);
    for (; *s; s++) {
        if (*s == '"') lmc_buf_append(b, "\"", 1, NULL);
        lmc_buf_append(b, s, 1, NULL);
    }
    lmc_buf_append(b, "\"", 1, NULL);
}

int scaling_collect(const char *const *dirs, int n, const char *out_csv, lmc_err *err) {
    if (n < 1) return lmc_errf(err, LMC_EINVAL, "collect: no run directories");
    lmc_buf b = {0};
    int rc = lmc_buf_printf(&b, err, "params,tokens,flops,loss,run\n");
    for (int i = 0; i < n && rc >= 0; i++) {
        scaling_collected c;
        rc = scaling_collect_run(dirs[i], &c, err);
        if (rc < 0) break;
        lmc_buf_printf(&b, NULL, "%.17g,%.17g,%.17g,%.17g,", c.params, c.tokens, c.flops, c.val_loss);
        csv_field(&b, c.run);
        lmc_buf_append(&b, "\n", 1, NULL);
        free(c.run);
    }
    if (rc >= 0) rc = lmc_write_file_atomic(out_csv, b.data, b.len, err);
    lmc_buf_free(&b);
    return rc < 0 ? rc : 0;
}
