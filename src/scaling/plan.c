/* IsoFLOP sweep planning: for each budget C pick GPT-2 shapes around the expected optimum and give
 * each D = C / (6 N) tokens (N = non-embedding parameters), written as `lmc train` YAML configs. */
#include "scaling/scaling.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"

double scaling_shape_params(const scaling_shape *s) {
    double d = s->d_model;
    /* Per block: qkv 3d²+3d, attention projection d²+d, MLP 4d²+4d and 4d²+d, two LayerNorms 4d. */
    return (double)s->n_layer * (12.0 * d * d + 13.0 * d) + 2.0 * d; /* + the final LayerNorm */
}

/* Head size 64 and d_model = 64·n_layer (GPT-2 small's aspect ratio), finer steps at the small end. */
static const scaling_shape default_shapes[] = {
    {2, 2, 128},   {3, 3, 192},   {4, 4, 256},   {5, 5, 320},   {6, 6, 384},   {7, 7, 448},
    {8, 8, 512},   {9, 9, 576},   {10, 10, 640}, {11, 11, 704}, {12, 12, 768}, {14, 14, 896},
    {16, 16, 1024}, {18, 18, 1152}, {20, 20, 1280}, {22, 22, 1408}, {24, 24, 1536}, {26, 26, 1664},
    {28, 28, 1792}, {32, 32, 2048}, {36, 36, 2304}, {40, 40, 2560}, {44, 44, 2816}, {48, 48, 3072},
};

const scaling_shape *scaling_default_shapes(int *n) {
    *n = (int)(sizeof default_shapes / sizeof default_shapes[0]);
    return default_shapes;
}

static int shape_check(const scaling_shape *s, const char *path, uint64_t line, lmc_err *err) {
    if (s->n_layer < 1 || s->n_head < 1 || s->d_model < 1)
        return lmc_err_at(err, LMC_EINVAL, path, line, 0, "shape needs n_layer, n_head, d_model >= 1");
    if (s->d_model % s->n_head)
        return lmc_err_at(err, LMC_EINVAL, path, line, 0, "d_model %d is not a multiple of n_head %d",
                          s->d_model, s->n_head);
    return 0;
}

static int shapes_csv(const char *path, scaling_shape **out, int *n, lmc_err *err) {
    lmc_lines *lr;
    int rc = lmc_lines_open(&lr, path, err);
    if (rc < 0) return rc;
    int col[3] = {-1, -1, -1}, ncols = -1, cap = 0;
    static const char *const names[3] = {"n_layer", "n_head", "d_model"};
    scaling_shape *v = NULL;
    const char *line;
    size_t len;
    *n = 0;
    while ((rc = lmc_lines_next(lr, &line, &len, err)) > 0) {
        uint64_t ln = lmc_lines_lineno(lr);
        char buf[512];
        if (len && line[len - 1] == '\r') len--;
        if (len >= sizeof buf) { rc = lmc_err_at(err, LMC_EFORMAT, path, ln, 0, "line too long"); break; }
        memcpy(buf, line, len);
        buf[len] = '\0';
        char *p = buf;
        while (*p == ' ' || *p == '\t') p++;
        if (!*p || *p == '#') continue;
        char *fields[16];
        int nf = 0;
        for (char *tok = p;;) {
            if (nf == 16) break;
            char *c = strchr(tok, ',');
            if (c) *c = '\0';
            while (*tok == ' ') tok++;
            fields[nf++] = tok;
            if (!c) break;
            tok = c + 1;
        }
        if (ncols < 0) {
            ncols = nf;
            for (int f = 0; f < nf; f++) {
                char *e = fields[f] + strlen(fields[f]);
                while (e > fields[f] && e[-1] == ' ') *--e = '\0';
                for (int k = 0; k < 3; k++) if (!strcmp(fields[f], names[k])) col[k] = f;
            }
            for (int k = 0; k < 3; k++)
                if (col[k] < 0) { rc = lmc_err_at(err, LMC_EFORMAT, path, ln, 0, "header has no '%s' column", names[k]); goto done; }
            continue;
        }
        if (nf != ncols) { rc = lmc_err_at(err, LMC_EFORMAT, path, ln, 0, "row has %d fields, the header has %d", nf, ncols); break; }
        int val[3];
        for (int k = 0; k < 3; k++) {
            char *end;
            long x = strtol(fields[col[k]], &end, 10);
            while (*end == ' ') end++;
            if (end == fields[col[k]] || *end || x < 1 || x > 1000000) {
                rc = lmc_err_at(err, LMC_EFORMAT, path, ln, 0, "%s: expected a positive integer, got '%s'", names[k], fields[col[k]]);
                goto done;
            }
            val[k] = (int)x;
        }
        if (*n == cap) {
            cap = cap ? cap * 2 : 32;
            scaling_shape *nv = realloc(v, (size_t)cap * sizeof *nv);
            if (!nv) { rc = lmc_errf(err, LMC_ENOMEM, "out of memory"); break; }
            v = nv;
        }
        scaling_shape s = {val[0], val[1], val[2]};
        if ((rc = shape_check(&s, path, ln, err)) < 0) break;
        v[(*n)++] = s;
    }
done:
    lmc_lines_close(lr);
    if (rc >= 0 && *n == 0) rc = lmc_errf(err, LMC_EINVAL, "%s: no shapes", path);
    if (rc < 0) { free(v); *n = 0; return rc; }
    *out = v;
    return 0;
}

static int shapes_yaml(const char *path, scaling_shape **out, int *n, lmc_err *err) {
    json_t *root = lmc_yaml_load_file(path, err);
    if (!root) return err ? (err->code ? err->code : LMC_EFORMAT) : LMC_EFORMAT;
    json_t *list = json_is_object(root) ? json_object_get(root, "shapes") : root;
    int rc = 0;
    if (!json_is_array(list) || json_array_size(list) == 0) {
        json_decref(root);
        return lmc_errf(err, LMC_EFORMAT, "%s: expected a non-empty list of {n_layer, n_head, d_model} "
                        "(or a 'shapes:' key holding one)", path);
    }
    size_t m = json_array_size(list);
    scaling_shape *v = calloc(m, sizeof *v);
    if (!v) { json_decref(root); return lmc_errf(err, LMC_ENOMEM, "out of memory"); }
    for (size_t i = 0; i < m && rc == 0; i++) {
        json_t *e = json_array_get(list, i);
        char ctx[64];
        snprintf(ctx, sizeof ctx, "%s: shape %zu", path, i + 1);
        int64_t L = 0, h = 0, d = 0;
        if (!json_is_object(e)) { rc = lmc_errf(err, LMC_EFORMAT, "%s: not a mapping", ctx); break; }
        if ((rc = lmc_json_get_int(e, "n_layer", &L, ctx, err)) < 0) break;
        if ((rc = lmc_json_get_int(e, "d_model", &d, ctx, err)) < 0) break;
        rc = lmc_json_get_int(e, "n_head", &h, ctx, err);
        if (rc == LMC_ENOTFOUND) { h = d % 64 == 0 ? d / 64 : 1; rc = 0; }  /* head size 64 by default */
        if (rc < 0) break;
        if (L < 1 || h < 1 || d < 1 || L > 1000000 || d > 1000000 || h > 1000000) {
            rc = lmc_errf(err, LMC_EINVAL, "%s: n_layer, n_head, d_model must be in 1..1000000", ctx);
            break;
        }
        v[i] = (scaling_shape){(int)L, (int)h, (int)d};
        if (v[i].d_model % v[i].n_head)
            rc = lmc_errf(err, LMC_EINVAL, "%s: d_model %d is not a multiple of n_head %d", ctx, v[i].d_model, v[i].n_head);
    }
    json_decref(root);
    if (rc < 0) { free(v); return rc; }
    *out = v;
    *n = (int)m;
    return 0;
}

int scaling_shapes_load(const char *path, scaling_shape **shapes, int *n, lmc_err *err) {
    size_t l = strlen(path);
    if (l >= 4 && strcmp(path + l - 4, ".csv") == 0) return shapes_csv(path, shapes, n, err);
    return shapes_yaml(path, shapes, n, err);
}

void scaling_plan_opts_default(scaling_plan_opts *o) {
    memset(o, 0, sizeof *o);
    o->out_dir = "sweep";
    o->name_prefix = "isoflop";
    o->runs_dir = "runs";
    o->train_glob = "data/train_*.bin";
    o->val_glob = "data/val_*.bin";
    o->tokenizer = "tokenizer.json";
    o->seed = 1337;
    o->seq_len = 1024;
    o->batch_size = 32;
    o->micro_batch = 0;
    o->vocab_size = 0;
    o->lr = 6e-4;
    o->warmup_frac = 0.05;
    o->tpp = 20;
    o->span = 4;
    o->max_per_budget = 7;
    o->c_tau = SCALING_C_TAU;
    o->m_tau = SCALING_M_TAU;
}

/* "1e+17" -> "1e17", "3.5e+18" -> "3p5e18": file-name safe. */
static void budget_tag(double C, char *out, size_t n) {
    char t[32];
    snprintf(t, sizeof t, "%.3g", C);
    size_t j = 0;
    for (size_t i = 0; t[i] && j + 1 < n; i++) {
        if (t[i] == '+') continue;
        out[j++] = t[i] == '.' ? 'p' : t[i];
    }
    out[j] = '\0';
}

static void yaml_str(lmc_buf *b, const char *s) {
    lmc_buf_append(b, "\"", 1, NULL);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') lmc_buf_append(b, "\\", 1, NULL);
        lmc_buf_append(b, s, 1, NULL);
    }
    lmc_buf_append(b, "\"", 1, NULL);
}

char *scaling_plan_config_yaml(const scaling_plan_entry *e, const scaling_plan_opts *o) {
    lmc_buf b = {0};
    int mb = o->micro_batch;
    if (mb <= 0) /* the largest divisor of batch_size up to 16 (lmc train's default micro_batch) */
        for (mb = o->batch_size < 16 ? o->batch_size : 16; o->batch_size % mb; mb--) {}
    lmc_buf_printf(&b, NULL,
                   "# lmc scaling plan: IsoFLOP budget C = %.4g FLOPs; N = %.6g non-embedding params, D = %.6g tokens,\n"
                   "# 6*N*D = %.6g (%.4f of C), %.2f tokens/param.\n",
                   e->C, e->params, e->tokens, 6 * e->params * e->tokens, 6 * e->params * e->tokens / e->C,
                   e->tokens / e->params);
    lmc_buf_printf(&b, NULL, "run:\n  name: ");
    yaml_str(&b, e->name);
    lmc_buf_printf(&b, NULL, "\n  dir: ");
    yaml_str(&b, o->runs_dir);
    lmc_buf_printf(&b, NULL, "\n  seed: %d\ndata:\n  train: ", o->seed);
    yaml_str(&b, o->train_glob);
    lmc_buf_printf(&b, NULL, "\n  val: ");
    yaml_str(&b, o->val_glob);
    lmc_buf_printf(&b, NULL, "\n  tokenizer: ");
    yaml_str(&b, o->tokenizer);
    lmc_buf_printf(&b, NULL,
                   "\nmodel:\n  arch: gpt2\n  n_layer: %d\n  n_head: %d\n  d_model: %d\n  seq_len: %d\n  vocab_size: %d\n"
                   "train:\n  steps: %lld\n  batch_size: %d\n  micro_batch: %d\n  lr: %.9g\n  warmup_steps: %lld\n"
                   "  eval_every: %lld\n",
                   e->shape.n_layer, e->shape.n_head, e->shape.d_model, o->seq_len, o->vocab_size,
                   (long long)e->steps, o->batch_size, mb, o->lr, (long long)e->warmup_steps, (long long)e->steps);
    if (e->weight_decay > 0) lmc_buf_printf(&b, NULL, "  weight_decay: %.9g\n", e->weight_decay);
    return b.data;
}

typedef struct shape_n {
    scaling_shape s;
    double n;
} shape_n;

static int cmp_shape_n(const void *a, const void *b) {
    const shape_n *x = a, *y = b;
    return (x->n > y->n) - (x->n < y->n);
}

int scaling_plan(const double *budgets, int n_budgets, const scaling_shape *shapes, int n_shapes,
                 const scaling_plan_opts *o, scaling_plan_entry **entries, int *n_entries, lmc_err *err) {
    *entries = NULL;
    *n_entries = 0;
    if (n_budgets < 1) return lmc_errf(err, LMC_EINVAL, "plan: no FLOP budgets");
    if (n_shapes < 1) return lmc_errf(err, LMC_EINVAL, "plan: no shapes");
    if (o->seq_len < 1 || o->batch_size < 1 || o->micro_batch < 0 ||
        (o->micro_batch > 0 && o->batch_size % o->micro_batch))
        return lmc_errf(err, LMC_EINVAL, "plan: need seq_len, batch_size >= 1 and micro_batch dividing batch_size");
    if (!(o->span > 1) || !(o->tpp > 0) || o->max_per_budget < 3 || !(o->lr > 0) ||
        !(o->warmup_frac >= 0 && o->warmup_frac <= 1))
        return lmc_errf(err, LMC_EINVAL, "plan: need span > 1, tpp > 0, lr > 0, max_per_budget >= 3, "
                        "0 <= warmup fraction <= 1");
    scaling_alloc al;
    if (o->law) {
        int rc = scaling_law_alloc(o->law, &al, err);
        if (rc < 0) return rc;
    }
    shape_n *sn = malloc((size_t)n_shapes * sizeof *sn);
    scaling_plan_entry *ent = calloc((size_t)n_budgets * (size_t)o->max_per_budget, sizeof *ent);
    int *pick = malloc((size_t)n_shapes * sizeof *pick);
    if (!sn || !ent || !pick) {
        free(sn); free(ent); free(pick);
        return lmc_errf(err, LMC_ENOMEM, "out of memory");
    }
    for (int i = 0; i < n_shapes; i++) { sn[i].s = shapes[i]; sn[i].n = scaling_shape_params(&shapes[i]); }
    qsort(sn, (size_t)n_shapes, sizeof *sn, cmp_shape_n);
    double tok_per_step = (double)o->batch_size * o->seq_len;
    int ne = 0, rc = 0;
    for (int bi = 0; bi < n_budgets && rc == 0; bi++) {
        double C = budgets[bi];
        if (!(C > 0) || !isfinite(C)) { rc = lmc_errf(err, LMC_EINVAL, "plan: budget %g is not a positive number", C); break; }
        double Nc, Dc;
        if (o->law) scaling_optimal(&al, C, &Nc, &Dc);
        else Nc = sqrt(C / (6.0 * o->tpp));
        int cnt = 0;
        for (int i = 0; i < n_shapes; i++) {
            double D = C / (6.0 * sn[i].n);
            if (sn[i].n >= Nc / o->span && sn[i].n <= Nc * o->span && D >= tok_per_step) pick[cnt++] = i;
        }
        if (cnt < 3) {
            rc = lmc_errf(err, LMC_EINVAL,
                          "plan: budget %g FLOPs: only %d shape%s with N in [%.3g, %.3g] (centre %.3g) and at least one "
                          "step of %g tokens; add shapes (--shapes), widen --span or change the batch",
                          C, cnt, cnt == 1 ? "" : "s", Nc / o->span, Nc * o->span, Nc, tok_per_step);
            break;
        }
        int take = cnt < o->max_per_budget ? cnt : o->max_per_budget;
        char tag[32];
        budget_tag(C, tag, sizeof tag);
        for (int j = 0; j < take; j++) {
            /* evenly spread over the candidates (sorted by N), both ends included */
            int k = take == 1 ? 0 : (int)lround((double)j * (cnt - 1) / (take - 1));
            const shape_n *s = &sn[pick[k]];
            scaling_plan_entry *e = &ent[ne++];
            e->C = C;
            e->shape = s->s;
            e->params = s->n;
            double D = C / (6.0 * s->n);
            e->steps = (int64_t)llround(D / tok_per_step);
            if (e->steps < 1) e->steps = 1;
            e->tokens = (double)e->steps * tok_per_step;
            /* the same fraction of every run warms up (lmc train rejects warmup_steps > steps) */
            e->warmup_steps = (int64_t)llround(o->warmup_frac * (double)e->steps);
            snprintf(e->name, sizeof e->name, "%s_C%s_L%d_d%d", o->name_prefix, tag, s->s.n_layer, s->s.d_model);
            if (o->wd_from_tau) {
                double tau = scaling_tau_opt(e->tokens / e->params, o->c_tau, o->m_tau);
                e->weight_decay = scaling_wd_for_tau(tok_per_step, o->lr, e->tokens, tau);
            }
        }
    }
    free(sn);
    free(pick);
    if (rc < 0) { free(ent); return rc; }
    /* Write the configs and the summary. */
    if ((rc = lmc_mkdirs(o->out_dir, err)) < 0) { free(ent); return rc; }
    lmc_buf csv = {0};
    lmc_buf_printf(&csv, NULL, "name,flops_budget,n_layer,n_head,d_model,params,tokens,steps,flops,weight_decay,config\n");
    for (int i = 0; i < ne && rc == 0; i++) {
        scaling_plan_entry *e = &ent[i];
        char fname[160];
        snprintf(fname, sizeof fname, "%s.yaml", e->name);
        char *path = lmc_path_join(o->out_dir, fname);
        char *y = scaling_plan_config_yaml(e, o);
        if (!path || !y) rc = lmc_errf(err, LMC_ENOMEM, "out of memory");
        else rc = lmc_write_file_atomic(path, y, strlen(y), err);
        lmc_buf_printf(&csv, NULL, "%s,%.6g,%d,%d,%d,%.0f,%.0f,%lld,%.6g,%.6g,%s\n", e->name, e->C, e->shape.n_layer,
                       e->shape.n_head, e->shape.d_model, e->params, e->tokens, (long long)e->steps,
                       6 * e->params * e->tokens, e->weight_decay, path ? path : "");
        free(path);
        free(y);
    }
    if (rc == 0) {
        char *path = lmc_path_join(o->out_dir, "plan.csv");
        rc = path ? lmc_write_file_atomic(path, csv.data, csv.len, err) : lmc_errf(err, LMC_ENOMEM, "out of memory");
        free(path);
    }
    lmc_buf_free(&csv);
    if (rc < 0) { free(ent); return rc; }
    *entries = ent;
    *n_entries = ne;
    return 0;
}
