/* Inactive attention heads (Sandoval-Segura et al., ICLR 2026; TECHNIQUES.md 12d): per head h of layer l,
 *   AHON(h)    = mean over probe tokens i of ||o_{h,i}||_2, o = the head's attention output before W_O,
 *   AHON_LN(h) = AHON(h) / mean over the heads of layer l of AHON,
 * and a head is reported inactive when AHON_LN < threshold. Probe set: plain-text files cut into
 * consecutive windows of max_len tokens, or the first max_len tokens of each JSONL document (field);
 * limit = windows. Needs the per-layer attention outputs, so the model is put in training mode. */
#include "eval/eval.h"
#include "base/io.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    lmc_eval_lm *lm;
    const char *field;
    int32_t *win;     /* windows of max_len tokens, row-major; lens[i] valid tokens */
    int *lens;
    size_t n, cap;
    int64_t limit;
} heads_ctx;

static int add_tokens(heads_ctx *c, const char *text, size_t len, int whole, lmc_err *err) {
    tok_ids t = {0};
    if (tok_encode(c->lm->enc, text, len, 1, &t, err)) { tok_ids_free(&t); return -1; }
    size_t L = (size_t)c->lm->max_len;
    for (size_t s = 0; s < t.n && (c->limit <= 0 || (int64_t)c->n < c->limit); s += L) {
        if (c->n == c->cap) {
            size_t nc = c->cap ? c->cap * 2 : 64;
            int32_t *w = realloc(c->win, nc * L * sizeof *w);
            if (!w) { tok_ids_free(&t); return lmc_errf(err, LMC_ENOMEM, "out of memory"); }
            c->win = w;
            int *l = realloc(c->lens, nc * sizeof *l);
            if (!l) { tok_ids_free(&t); return lmc_errf(err, LMC_ENOMEM, "out of memory"); }
            c->lens = l;
            c->cap = nc;
        }
        size_t k = t.n - s < L ? t.n - s : L;
        for (size_t i = 0; i < L; i++) c->win[c->n * L + i] = i < k ? (int32_t)t.v[s + i] : 0;
        c->lens[c->n++] = (int)k;
        if (!whole) break;
    }
    tok_ids_free(&t);
    return 0;
}

static int heads_line(void *vc, json_t *obj, const char *path, uint64_t line, lmc_err *err) {
    heads_ctx *c = vc;
    json_t *v = json_object_get(obj, c->field);
    if (!json_is_string(v)) return lmc_err_at(err, LMC_EFORMAT, path, line, 1, "expected a string field '%s'", c->field);
    if (add_tokens(c, json_string_value(v), json_string_length(v), 0, err)) return lmc_err_wrap(err, "%s:%llu", path, (unsigned long long)line);
    return 0;
}

int lmc_eval_heads(lmc_eval_lm *lm, const lmc_eval_opts *o, json_t **summary, json_t **examples, lmc_err *err) {
    heads_ctx c = {lm, o->field ? o->field : "text", NULL, NULL, 0, 0, o->limit};
    int rc = 0;
    for (int f = 0; f < o->n_data && !rc; f++) {
        if (o->limit > 0 && (int64_t)c.n >= o->limit) break;
        size_t n = strlen(o->data[f]);
        if (n > 6 && !strcmp(o->data[f] + n - 6, ".jsonl")) {
            rc = lmc_eval_read_jsonl(o->data[f], 0, heads_line, &c, err);
            continue;
        }
        char *text;
        size_t len;
        if ((rc = lmc_read_file(o->data[f], &text, &len, err))) break;
        rc = add_tokens(&c, text, len, 1, err);
        free(text);
    }
    if (!rc && c.n == 0) rc = lmc_errf(err, LMC_EINVAL, "no probe tokens in the input");
    gpt2_model *m = lm->m;
    if (!rc) rc = gpt2_enable_training(m, err);
    const int Lyr = m->cfg.n_layer, H = m->cfg.n_head, C = m->cfg.d_model, hs = C / H, T = lm->max_len;
    double *sum = calloc((size_t)Lyr * (size_t)H, sizeof *sum);
    uint64_t tokens = 0;
    if (!rc && !sum) rc = lmc_errf(err, LMC_ENOMEM, "out of memory");
    int B = lm->batch_tokens / T > 0 ? lm->batch_tokens / T : 1;
    if (!rc && lm->progress) lm->progress->total = c.n;
    for (size_t s = 0; s < c.n && !rc; s += (size_t)B) {
        int b = (size_t)B < c.n - s ? B : (int)(c.n - s);
        if ((rc = gpt2_forward(m, c.win + s * (size_t)T, NULL, b, T, NULL, err))) break;
        for (int l = 0; l < Lyr; l++) {
            const float *o_ = gpt2_attn_out(m, l);
            if (!o_) { rc = lmc_errf(err, LMC_EINVAL, "attention outputs are not kept"); break; }
            for (int r = 0; r < b; r++)
                for (int t = 0; t < c.lens[s + (size_t)r]; t++)
                    for (int h = 0; h < H; h++) {
                        const float *p = o_ + ((size_t)r * (size_t)T + (size_t)t) * (size_t)C + (size_t)h * (size_t)hs;
                        double q = 0;
                        for (int k = 0; k < hs; k++) q += (double)p[k] * p[k];
                        sum[(size_t)l * (size_t)H + (size_t)h] += sqrt(q);
                    }
        }
        for (int r = 0; r < b; r++) tokens += (uint64_t)c.lens[s + (size_t)r];
        if (lm->progress) lmc_progress_add(lm->progress, (uint64_t)b);
    }
    if (!rc) {
        double tau = o->threshold > 0 ? o->threshold : 0.3;
        json_t *ex = examples ? json_array() : NULL, *inactive = json_array();
        for (int l = 0; l < Lyr; l++) {
            double mean = 0;
            for (int h = 0; h < H; h++) mean += sum[(size_t)l * (size_t)H + (size_t)h] / (double)tokens;
            mean /= H;
            for (int h = 0; h < H; h++) {
                double a = sum[(size_t)l * (size_t)H + (size_t)h] / (double)tokens, ln = mean > 0 ? a / mean : 0;
                int off = ln < tau;
                if (off) json_array_append_new(inactive, json_pack("[i,i]", l, h));
                if (ex) json_array_append_new(ex, json_pack("{s:i,s:i,s:f,s:f,s:b}", "layer", l, "head", h, "ahon", a,
                                                          "ahon_ln", ln, "inactive", off));
            }
        }
        *summary = json_pack("{s:s,s:I,s:I,s:f,s:I,s:o}", "task", "heads", "windows", (json_int_t)c.n, "tokens",
                             (json_int_t)tokens, "threshold", tau, "n_inactive", (json_int_t)json_array_size(inactive),
                             "inactive", inactive);
        if (examples) *examples = ex;
    }
    free(sum);
    free(c.win);
    free(c.lens);
    return rc ? -1 : 0;
}
