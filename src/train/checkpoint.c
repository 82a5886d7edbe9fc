#include "train/checkpoint.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "base/io.h"
#include "base/json.h"
#include "base/mem.h"
#include "interop/safetensors.h"
#include "optim/optimizer.h"
#include "tokenizer/tokenizer.h"

#define STATE_FORMAT 1

/* Crash-test hook (tests/train/test_crash.c). With LMC_CRASH_AT=POINT:N in the environment the
 * process kills itself with SIGKILL (no cleanup, exactly like `kill -9`) the N-th time it reaches
 * the named point of a checkpoint save or rotation; the points are the crash_point() calls below.
 * Unset (every normal run) it costs one getenv per save. */
static void crash_point(const char *point) {
    static long hits;
    const char *spec = getenv("LMC_CRASH_AT");
    size_t n = strlen(point);
    if (!spec || strncmp(spec, point, n) || spec[n] != ':') return;
    if (++hits == atol(spec + n + 1)) kill(getpid(), SIGKILL);
}

/* ---- trainer_state.json ---- */

/* uint64 values go through strings: JSON readers (and jansson's int64) lose the top bit otherwise. */
static json_t *u64(uint64_t v) {
    char b[32];
    snprintf(b, sizeof b, "%" PRIu64, v);
    return json_string(b);
}

/* Doubles as C99 hex floats: exact, so a resumed mixture continues with bit-identical weights. */
static json_t *hexd(double v) {
    char b[48];
    snprintf(b, sizeof b, "%a", v);
    return json_string(b);
}

static json_t *mix_save(const train_state *st) {
    json_t *o = json_object(), *a = json_array();
    json_object_set_new(o, "have_init", json_integer(st->mix_have_init));
    json_object_set_new(o, "updates", json_integer(st->mix_updates));
    for (int i = 0; i < st->n_mix; i++) {
        const struct train_mix_src *s = &st->mix[i];
        json_t *e = json_object();
        json_object_set_new(e, "name", json_string(s->name));
        json_object_set_new(e, "epoch", u64(s->epoch));
        json_object_set_new(e, "pos", u64(s->pos));
        json_object_set_new(e, "tokens", u64(s->tokens));
        json_object_set_new(e, "weight", hexd(s->weight));
        json_object_set_new(e, "avg_sum", hexd(s->avg_sum));
        json_object_set_new(e, "loss_init", hexd(s->loss_init));
        json_array_append_new(a, e);
    }
    json_object_set_new(o, "sources", a);
    return o;
}

int train_state_save(const char *path, const train_state *st, lmc_err *err) {
    json_t *j = json_object();
    json_object_set_new(j, "format", json_integer(STATE_FORMAT));
    json_object_set_new(j, "step", json_integer(st->step));
    json_object_set_new(j, "adam_step", json_integer(st->adam_step));
    json_object_set_new(j, "data_epoch", u64(st->data_epoch));
    json_object_set_new(j, "data_pos", u64(st->data_pos));
    json_object_set_new(j, "sample_rng_seed", u64(st->sample_rng.seed));
    json_object_set_new(j, "sample_rng_counter", u64(st->sample_rng.counter));
    json_object_set_new(j, "sample_rng_used", json_integer(st->sample_rng.used));
    json_object_set_new(j, "tokens", u64(st->tokens));
    json_object_set_new(j, "nonfinite_run", json_integer(st->nonfinite_run));
    json_object_set_new(j, "nonfinite_total", json_integer(st->nonfinite_total));
    json_object_set_new(j, "elapsed_s", json_real(st->elapsed_s));
    if (st->n_mix > 0) json_object_set_new(j, "mixture", mix_save(st));
    int rc = lmc_json_save_file(j, path, err);
    json_decref(j);
    return rc;
}

static int get_u64(const json_t *j, const char *key, uint64_t *out, const char *path, lmc_err *err) {
    const char *s;
    if (lmc_json_get_str(j, key, &s, path, err)) return -1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (!*s || *end || errno)
        return lmc_errf(err, LMC_EFORMAT, "%s: \"%s\": expected a decimal unsigned integer string, got \"%s\"",
                        path, key, s);
    *out = v;
    return 0;
}

static int get_hexd(const json_t *j, const char *key, double *out, const char *path, lmc_err *err) {
    const char *s;
    if (lmc_json_get_str(j, key, &s, path, err)) return -1;
    char *end;
    *out = strtod(s, &end);
    if (!*s || *end || !isfinite(*out))
        return lmc_errf(err, LMC_EFORMAT, "%s: mixture \"%s\": expected a finite number string (hex float), got \"%s\"",
                        path, key, s);
    return 0;
}

static int mix_load(const json_t *o, train_state *st, const char *path, lmc_err *err) {
    int64_t have = 0;
    const json_t *a = json_object_get(o, "sources");
    if (!json_is_object(o) || !json_is_array(a) || json_array_size(a) < 1 || json_array_size(a) > TRAIN_STATE_MIX_MAX)
        return lmc_errf(err, LMC_EFORMAT, "%s: \"mixture\" must hold 1 to %d sources", path, TRAIN_STATE_MIX_MAX);
    if (lmc_json_get_int(o, "have_init", &have, path, err) || lmc_json_get_int(o, "updates", &st->mix_updates, path, err))
        return -1;
    st->mix_have_init = have != 0;
    st->n_mix = (int)json_array_size(a);
    for (int i = 0; i < st->n_mix; i++) {
        const json_t *e = json_array_get(a, (size_t)i);
        struct train_mix_src *s = &st->mix[i];
        const char *name;
        if (lmc_json_get_str(e, "name", &name, path, err)) return -1;
        if (strlen(name) >= sizeof s->name) return lmc_errf(err, LMC_EFORMAT, "%s: mixture source name too long", path);
        snprintf(s->name, sizeof s->name, "%s", name);
        if (get_u64(e, "epoch", &s->epoch, path, err) || get_u64(e, "pos", &s->pos, path, err) ||
            get_u64(e, "tokens", &s->tokens, path, err) || get_hexd(e, "weight", &s->weight, path, err) ||
            get_hexd(e, "avg_sum", &s->avg_sum, path, err) || get_hexd(e, "loss_init", &s->loss_init, path, err))
            return -1;
    }
    return 0;
}

int train_state_load(const char *path, train_state *st, lmc_err *err) {
    json_t *j = lmc_json_load_file(path, err);
    if (!j) return -1;
    memset(st, 0, sizeof *st);
    int64_t fmt = 0, used = 0;
    int rc = -1;
    if (lmc_json_get_int(j, "format", &fmt, path, err)) goto out;
    if (fmt != STATE_FORMAT) {
        lmc_errf(err, LMC_EFORMAT, "%s: trainer state format %lld, this lmc reads %d", path, (long long)fmt,
                 STATE_FORMAT);
        goto out;
    }
    if (lmc_json_get_int(j, "step", &st->step, path, err) ||
        lmc_json_get_int(j, "adam_step", &st->adam_step, path, err) ||
        get_u64(j, "data_epoch", &st->data_epoch, path, err) || get_u64(j, "data_pos", &st->data_pos, path, err) ||
        get_u64(j, "sample_rng_seed", &st->sample_rng.seed, path, err) ||
        get_u64(j, "sample_rng_counter", &st->sample_rng.counter, path, err) ||
        lmc_json_get_int(j, "sample_rng_used", &used, path, err) || get_u64(j, "tokens", &st->tokens, path, err) ||
        lmc_json_get_int(j, "nonfinite_run", &st->nonfinite_run, path, err) ||
        lmc_json_get_int(j, "nonfinite_total", &st->nonfinite_total, path, err) ||
        lmc_json_get_num(j, "elapsed_s", &st->elapsed_s, path, err))
        goto out;
    if (used < 0 || used > 4 || st->step < 0 || st->adam_step < 0) {
        lmc_errf(err, LMC_EFORMAT, "%s: step, adam_step or sample_rng_used out of range", path);
        goto out;
    }
    st->sample_rng.used = (uint32_t)used;
    json_t *mix = json_object_get(j, "mixture"); /* absent in checkpoints of runs without data.sources */
    if (mix && mix_load(mix, st, path, err)) goto out;
    rc = 0;
out:
    json_decref(j);
    return rc;
}

/* ---- optimizer.safetensors ---- */

/* The state buffers to save: the optimizer's list, or AdamW's m and v when there is no optimizer
 * object (the plain train_ckpt_save / train_ckpt_load). */
static int state_list(lmc_optim *opt, gpt2_model *m, optim_buffer *b, optim_scalar *s, int *nb, int *ns) {
    if (opt) {
        *nb = optim_buffers(opt, m, b, 8);
        *ns = optim_scalars(opt, s, 8);
    } else {
        b[0] = (optim_buffer){"m", m->m};
        b[1] = (optim_buffer){"v", m->v};
        *nb = 2;
        *ns = 0;
    }
    return 0;
}

static int save_optimizer(const char *path, const gpt2_model *m, lmc_optim *opt, lmc_err *err) {
    optim_buffer bufs[8];
    optim_scalar sc[8];
    int nb, ns;
    state_list(opt, (gpt2_model *)m, bufs, sc, &nb, &ns);
    int nt = opt ? optim_tensors(opt, m, NULL, 0) : 0;
    optim_tensor *ts = nt ? calloc((size_t)nt, sizeof *ts) : NULL;
    if (nt && ts) optim_tensors(opt, m, ts, nt);
    size_t n = (size_t)m->n_views * (size_t)nb + (size_t)nt;
    st_out *outs = calloc(n, sizeof *outs);
    char (*names)[64] = calloc(n, sizeof *names);
    char (*vals)[40] = calloc((size_t)ns + 1, sizeof *vals);
    const char **meta = calloc(2 * (size_t)ns + 5, sizeof *meta);
    if (!outs || !names || !vals || !meta || (nt && !ts)) {
        free(ts);
        free(outs);
        free(names);
        free(vals);
        free(meta);
        return lmc_errf(err, LMC_ENOMEM, "%s: out of memory", path);
    }
    for (int i = 0; i < m->n_views; i++) {
        const gpt2_view *v = &m->views[i];
        for (int k = 0; k < nb; k++) {
            size_t j = (size_t)nb * (size_t)i + (size_t)k;
            st_out *o = &outs[j];
            snprintf(names[j], sizeof names[0], "%s.%s", bufs[k].name, v->name);
            o->name = names[j];
            o->dtype = ST_F32;
            o->ndim = v->ndim;
            o->shape[0] = v->shape[0];
            o->shape[1] = v->shape[1];
            o->data = bufs[k].data + v->offset;
        }
    }
    for (int k = 0; k < nt; k++) {
        st_out *o = &outs[(size_t)m->n_views * (size_t)nb + (size_t)k];
        o->name = ts[k].name;
        o->dtype = ST_F32;
        o->ndim = 2;
        o->shape[0] = ts[k].rows;
        o->shape[1] = ts[k].cols;
        o->data = ts[k].data;
    }
    snprintf(vals[ns], sizeof vals[0], "%lld", (long long)m->step);
    int q = 0;
    meta[q++] = "optimizer";
    meta[q++] = opt ? optim_kind_name(optim_kind(opt)) : "adamw";
    meta[q++] = "adam_step";
    meta[q++] = vals[ns];
    for (int k = 0; k < ns; k++) {
        snprintf(vals[k], sizeof vals[0], "%a", *sc[k].value); /* hex float: exact */
        meta[q++] = sc[k].name;
        meta[q++] = vals[k];
    }
    meta[q] = NULL;
    int rc = st_write(path, outs, n, meta, err);
    free(ts);
    free(outs);
    free(names);
    free(vals);
    free(meta);
    return rc;
}

static int load_optimizer(const char *path, gpt2_model *m, lmc_optim *opt, lmc_err *err) {
    optim_buffer bufs[8];
    optim_scalar sc[8];
    int nb, ns;
    state_list(opt, m, bufs, sc, &nb, &ns);
    st_file f;
    if (st_open(&f, path, err)) return -1;
    int rc = 0;
    const char *want = opt ? optim_kind_name(optim_kind(opt)) : "adamw";
    const char *have = st_meta(&f, "optimizer");
    if (!have) have = "adamw";
    if (strcmp(have, want))
        rc = lmc_errf(err, LMC_EINVAL, "%s: optimizer state of %s, but this run's train.optimizer is %s", path, have,
                      want);
    for (int k = 0; k < ns && !rc; k++) {
        const char *s = st_meta(&f, sc[k].name);
        char *end = NULL;
        double x = s ? strtod(s, &end) : 0;
        if (!s || !*s || *end)
            rc = lmc_errf(err, LMC_EFORMAT, "%s: metadata \"%s\": expected a number", path, sc[k].name);
        else *sc[k].value = x;
    }
    for (int i = 0; i < m->n_views && !rc; i++) {
        const gpt2_view *v = &m->views[i];
        for (int k = 0; k < nb && !rc; k++) {
            char name[64];
            snprintf(name, sizeof name, "%s.%s", bufs[k].name, v->name);
            const st_tensor *t = st_find(&f, name);
            if (!t) rc = lmc_errf(err, LMC_ENOTFOUND, "%s: tensor %s is missing", path, name);
            else if (t->dtype != ST_F32 || t->numel != v->numel)
                rc = lmc_errf(err, LMC_EFORMAT, "%s: tensor %s: expected F32 with %zu elements", path, name, v->numel);
            else rc = st_read_f32(&f, t, bufs[k].data + v->offset, v->numel, err);
        }
    }
    int nt = opt ? optim_tensors(opt, m, NULL, 0) : 0;
    optim_tensor *ts = nt ? calloc((size_t)nt, sizeof *ts) : NULL;
    if (nt && !ts && !rc) rc = lmc_errf(err, LMC_ENOMEM, "%s: out of memory", path);
    if (ts) optim_tensors(opt, m, ts, nt);
    for (int k = 0; k < nt && !rc; k++) {
        const st_tensor *t = st_find(&f, ts[k].name);
        size_t want_n = (size_t)ts[k].rows * (size_t)ts[k].cols;
        if (t && t->dtype == ST_F32 && ts[k].legacy_numel > 0 && t->numel == (size_t)ts[k].legacy_numel &&
            t->numel > want_n) {
            /* the older layout: the state in the first want_n floats of a larger tensor */
            memcpy(ts[k].data, t->data, want_n * sizeof(float));
            continue;
        }
        if (!t) rc = lmc_errf(err, LMC_ENOTFOUND, "%s: tensor %s is missing", path, ts[k].name);
        else if (t->dtype != ST_F32 || t->numel != want_n)
            rc = lmc_errf(err, LMC_EFORMAT, "%s: tensor %s: expected F32 with %zu elements", path, ts[k].name, want_n);
        else rc = st_read_f32(&f, t, ts[k].data, want_n, err);
    }
    free(ts);
    st_close(&f);
    return rc;
}

/* ---- folders ---- */

static int copy_file(const char *src, const char *dst, lmc_err *err) {
    char *data = NULL;
    size_t len = 0;
    if (lmc_read_file(src, &data, &len, err)) return -1;
    int rc = lmc_write_file_atomic(dst, data, len, err);
    free(data);
    return rc;
}

/* "step_00000100" -> 100; -1 for anything else. */
static int64_t parse_step_name(const char *name) {
    if (strncmp(name, "step_", 5) || !name[5]) return -1;
    int64_t v = 0;
    for (const char *p = name + 5; *p; p++) {
        if (*p < '0' || *p > '9' || v > INT64_MAX / 10 - 10) return -1;
        v = v * 10 + (*p - '0');
    }
    return v;
}

static int is_complete(const char *root, const char *name) {
    char *dir = lmc_path_join(root, name);
    char *done = dir ? lmc_path_join(dir, "DONE") : NULL;
    int ok = done && lmc_file_exists(done);
    free(dir);
    free(done);
    return ok;
}

typedef struct {
    int64_t step;
    char *name;
} ckpt_entry;

static int cmp_entry(const void *a, const void *b) {
    int64_t x = ((const ckpt_entry *)a)->step, y = ((const ckpt_entry *)b)->step;
    return x < y ? -1 : x > y;
}

/* Complete checkpoints sorted by step. When tmps is non-NULL, *tmps gets the stale folders: .tmp_step_N
 * temporaries, and step_N folders without DONE. A checkpoint is written under its .tmp_ name and marked
 * DONE before the rename, so an incomplete step_N is never one being written: it is what a kill left
 * between un-marking a folder (rotation, re-save) and removing it. */
static int list_ckpts(const char *root, ckpt_entry **out, size_t *n, char ***tmps, size_t *ntmp, lmc_err *err) {
    *out = NULL;
    *n = 0;
    if (tmps) {
        *tmps = NULL;
        *ntmp = 0;
    }
    DIR *d = opendir(root);
    if (!d) {
        if (errno == ENOENT) return 0;
        return lmc_err_sys(err, root, "opendir");
    }
    size_t cap = 0, tcap = 0;
    struct dirent *e;
    int rc = 0;
    while ((e = readdir(d))) {
        if (tmps && !strncmp(e->d_name, ".tmp_step_", 10)) {
            if (*ntmp == tcap) {
                tcap = tcap ? tcap * 2 : 4;
                char **t = realloc(*tmps, tcap * sizeof *t);
                if (!t) { rc = lmc_errf(err, LMC_ENOMEM, "out of memory"); break; }
                *tmps = t;
            }
            (*tmps)[(*ntmp)++] = strdup(e->d_name);
            continue;
        }
        int64_t s = parse_step_name(e->d_name);
        if (s < 0) continue;
        if (!is_complete(root, e->d_name)) {
            if (tmps) {
                if (*ntmp == tcap) {
                    tcap = tcap ? tcap * 2 : 4;
                    char **t = realloc(*tmps, tcap * sizeof *t);
                    if (!t) { rc = lmc_errf(err, LMC_ENOMEM, "out of memory"); break; }
                    *tmps = t;
                }
                (*tmps)[(*ntmp)++] = strdup(e->d_name);
            }
            continue;
        }
        if (*n == cap) {
            cap = cap ? cap * 2 : 8;
            ckpt_entry *t = realloc(*out, cap * sizeof *t);
            if (!t) { rc = lmc_errf(err, LMC_ENOMEM, "out of memory"); break; }
            *out = t;
        }
        (*out)[*n].step = s;
        (*out)[*n].name = strdup(e->d_name);
        (*n)++;
    }
    closedir(d);
    if (*n) qsort(*out, *n, sizeof **out, cmp_entry);
    return rc;
}

static void free_entries(ckpt_entry *e, size_t n) {
    for (size_t i = 0; i < n; i++) free(e[i].name);
    free(e);
}

int train_ckpt_latest(const char *root, char **path, int64_t *step, lmc_err *err) {
    ckpt_entry *e;
    size_t n;
    if (list_ckpts(root, &e, &n, NULL, NULL, err)) return -1;
    if (!n) {
        free(e);
        return lmc_errf(err, LMC_ENOTFOUND, "%s: no complete checkpoint (a step_N folder with a DONE marker)", root);
    }
    *step = e[n - 1].step;
    *path = lmc_path_join(root, e[n - 1].name);
    free_entries(e, n);
    return 0;
}

int train_ckpt_rotate(const char *root, int keep, lmc_err *err) {
    ckpt_entry *e;
    char **tmps;
    size_t n, ntmp;
    if (list_ckpts(root, &e, &n, &tmps, &ntmp, err)) return -1;
    int rc = 0;
    for (size_t i = 0; !rc && n > (size_t)keep && i < n - (size_t)keep; i++) {
        char *p = lmc_path_join(root, e[i].name);
        /* Make it incomplete first, so a crash mid-delete never leaves a "complete" partial folder. */
        char *done = lmc_path_join(p, "DONE");
        unlink(done);
        free(done);
        crash_point("rotate-undone");
        rc = lmc_remove_tree(p, err);
        free(p);
        crash_point("rotate-removed");
    }
    for (size_t i = 0; i < ntmp; i++) {
        char *p = lmc_path_join(root, tmps[i]);
        if (!rc) rc = lmc_remove_tree(p, err);
        free(p);
        free(tmps[i]);
    }
    free(tmps);
    free_entries(e, n);
    return rc;
}

/* A failed save names the checkpoint the user will look for, not the temporary folder (removed on
 * failure): "checkpoint RUN/checkpoints/step_N: model.safetensors: write failed: No space left on device". */
static void name_checkpoint(lmc_err *err, const char *tmp, const char *final) {
    if (!err || !tmp || !final) return;
    char rest[LMC_ERR_MSG_MAX];
    size_t n = strlen(tmp);
    const char *m = err->msg;
    snprintf(rest, sizeof rest, "%s", !strncmp(m, tmp, n) && m[n] == '/' ? m + n + 1 : m);
    int code = err->code;
    lmc_errf(err, code ? code : LMC_EIO, "checkpoint %s: %s", final, rest);
}

int train_ckpt_save(const char *root, const gpt2_model *m, const train_state *st, const char *tokenizer_path,
                    const char *config_yaml, int keep, lmc_err *err) {
    return train_ckpt_save_opt(root, m, NULL, st, tokenizer_path, config_yaml, keep, err);
}

int train_ckpt_save_opt(const char *root, const gpt2_model *m, lmc_optim *opt, const train_state *st,
                        const char *tokenizer_path, const char *config_yaml, int keep, lmc_err *err) {
    char name[64], tmpname[80];
    snprintf(name, sizeof name, "step_%08lld", (long long)st->step);
    snprintf(tmpname, sizeof tmpname, ".tmp_%s", name);
    char *final = lmc_path_join(root, name);
    char *tmp = lmc_path_join(root, tmpname);
    char *p = NULL;
    int rc = -1;
    if (!final || !tmp) {
        lmc_errf(err, LMC_ENOMEM, "out of memory");
        goto out;
    }
    if (lmc_mkdirs(root, err)) goto out;
    if (lmc_is_dir(tmp) && lmc_remove_tree(tmp, err)) goto out;
    if (lmc_mkdirs(tmp, err)) goto out;
    if (gpt2_save_hf(m, tmp, err)) goto out;
    crash_point("save-model");
    if (tokenizer_path && *tokenizer_path) {
        p = lmc_path_join(tmp, "tokenizer.json");
        if (copy_file(tokenizer_path, p, err)) goto out;
        free(p);
        p = NULL;
        if (train_write_tokenizer_config(tmp, tokenizer_path, m, err)) goto out;
    }
    p = lmc_path_join(tmp, "optimizer.safetensors");
    if (save_optimizer(p, m, opt, err)) goto out;
    free(p);
    crash_point("save-optimizer");
    p = lmc_path_join(tmp, "trainer_state.json");
    if (train_state_save(p, st, err)) goto out;
    free(p);
    if (config_yaml) {
        p = lmc_path_join(tmp, "lmc_config.yaml");
        if (lmc_write_file_atomic(p, config_yaml, strlen(config_yaml), err)) goto out;
        free(p);
    }
    char marker[64];
    int mlen = snprintf(marker, sizeof marker, "%lld\n", (long long)st->step);
    p = lmc_path_join(tmp, "DONE");
    if (lmc_write_file_atomic(p, marker, (size_t)mlen, err)) goto out;
    free(p);
    p = NULL;
    if (lmc_fsync_dir(tmp, err)) goto out;
    crash_point("save-done");
    /* Re-saving a step (after a resume from it) replaces the old folder. Un-mark it first. */
    if (lmc_is_dir(final)) {
        p = lmc_path_join(final, "DONE");
        unlink(p);
        free(p);
        p = NULL;
        if (lmc_remove_tree(final, err)) goto out;
    }
    if (rename(tmp, final)) {
        lmc_err_sys(err, final, "rename");
        goto out;
    }
    if (lmc_fsync_dir(root, err)) goto out;
    crash_point("save-renamed");
    rc = train_ckpt_rotate(root, keep, err);
out:
    free(p);
    if (rc) name_checkpoint(err, tmp, final);
    if (rc && tmp && lmc_is_dir(tmp)) {
        lmc_err keep_err;
        lmc_remove_tree(tmp, &keep_err);
    }
    free(final);
    free(tmp);
    return rc;
}

int train_ckpt_load(const char *dir, gpt2_model *m, train_state *st, lmc_err *err) {
    return train_ckpt_load_opt(dir, m, NULL, st, err);
}

int train_ckpt_load_opt(const char *dir, gpt2_model *m, lmc_optim *opt, train_state *st, lmc_err *err) {
    if (gpt2_load_hf_into(m, dir, err)) return -1;
    char *p = lmc_path_join(dir, "optimizer.safetensors");
    int rc = load_optimizer(p, m, opt, err);
    free(p);
    if (rc) return -1;
    p = lmc_path_join(dir, "trainer_state.json");
    rc = train_state_load(p, st, err);
    free(p);
    if (rc) return -1;
    m->step = st->adam_step;
    if (opt) optim_loaded(opt);
    return 0;
}

int train_ckpt_is_lmc(const char *dir) {
    char *p = lmc_path_join(dir, "trainer_state.json");
    int r = p && lmc_file_exists(p);
    free(p);
    return r;
}

static const char *special_text(const tok_tokenizer *tk, int id, char *buf, size_t cap) {
    for (size_t i = 0; id >= 0 && i < tok_n_special(tk); i++) {
        size_t len;
        uint32_t sid;
        const char *s = tok_special(tk, i, &len, &sid);
        if ((int)sid == id && len < cap) {
            memcpy(buf, s, len);
            buf[len] = 0;
            return buf;
        }
    }
    return NULL;
}

int train_write_tokenizer_config(const char *dir, const char *tokenizer_path, const gpt2_model *m, lmc_err *err) {
    tok_tokenizer *tk;
    if (tok_load(&tk, tokenizer_path, NULL, err)) return -1;
    char bos[256], eos[256];
    const char *b = special_text(tk, m->bos_id, bos, sizeof bos), *e = special_text(tk, m->eos_id, eos, sizeof eos);
    json_t *j = json_object();
    if (!j) { tok_free(tk); return lmc_errf(err, LMC_ENOMEM, "out of memory"); }
    json_object_set_new(j, "tokenizer_class", json_string("PreTrainedTokenizerFast"));
    if (b) json_object_set_new(j, "bos_token", json_string(b));
    if (e) json_object_set_new(j, "eos_token", json_string(e));
    if (e) json_object_set_new(j, "pad_token", json_string(e));
    json_object_set_new(j, "model_max_length", json_integer(m->cfg.max_seq));
    json_object_set_new(j, "clean_up_tokenization_spaces", json_false());
    json_object_set_new(j, "add_bos_token", json_false());
    char *p = lmc_path_join(dir, "tokenizer_config.json");
    int rc = p ? lmc_json_save_file(j, p, err) : lmc_errf(err, LMC_ENOMEM, "out of memory");
    free(p);
    json_decref(j);
    tok_free(tk);
    return rc ? -1 : 0;
}
