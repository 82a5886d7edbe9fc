/* The scoring core of src/eval: a model + tokenizer, the harness's request construction
 * (loglikelihood and loglikelihood_rolling) and batched scoring. */
#include "eval/eval.h"
#include "base/io.h"
#include "base/json.h"
#include "eval/text_internal.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A special token given in tokenizer_config.json as a string or {"content": ...}. */
static int32_t special_from_config(const tok_tokenizer *t, json_t *j, const char *key) {
    json_t *v = json_object_get(j, key);
    if (json_is_object(v)) v = json_object_get(v, "content");
    if (!json_is_string(v)) return -1;
    int64_t id = tok_special_id(t, json_string_value(v));
    return id >= 0 && id <= INT32_MAX ? (int32_t)id : -1;
}

static int32_t default_prefix(const lmc_eval_lm *lm, const char *dir) {
    if (dir) {
        char *p = lmc_path_join(dir, "tokenizer_config.json");
        if (p && lmc_file_exists(p)) {
            lmc_err e = {0};
            json_t *j = lmc_json_load_file(p, &e);
            if (j) {
                int32_t id = special_from_config(lm->tok, j, "bos_token");
                if (id < 0) id = special_from_config(lm->tok, j, "eos_token");
                json_decref(j);
                if (id >= 0) { free(p); return id; }
            }
        }
        free(p);
    }
    if (lm->m->bos_id >= 0) return lm->m->bos_id;
    if (lm->m->eos_id >= 0) return lm->m->eos_id;
    int64_t eot = tok_eot_id(lm->tok);
    return eot >= 0 ? (int32_t)eot : 0;
}

static int finish_open(lmc_eval_lm *lm, int max_len, int batch_tokens, lmc_err *err) {
    if (tok_encoder_new(&lm->enc, lm->tok, err)) return -1;
    if (tok_n_tokens(lm->tok) > (uint32_t)lm->m->cfg.vocab_size)
        return lmc_errf(err, LMC_EINVAL, "the tokenizer has %u tokens but the model's vocabulary is %d",
                        tok_n_tokens(lm->tok), lm->m->cfg.vocab_size);
    lm->max_len = max_len > 0 ? max_len : lm->m->cfg.max_seq;
    if (lm->max_len > lm->m->cfg.max_seq)
        return lmc_errf(err, LMC_EINVAL, "max length %d exceeds the model's n_positions %d", lm->max_len,
                        lm->m->cfg.max_seq);
    lm->batch_tokens = batch_tokens > 0 ? batch_tokens : 4096;
    return 0;
}

int lmc_eval_lm_open(lmc_eval_lm *lm, const char *dir, int max_len, int32_t prefix_id, int batch_tokens,
                     lmc_err *err) {
    memset(lm, 0, sizeof *lm);
    if (gpt2_load_hf(dir, &lm->m, err)) return -1;
    lm->own_model = 1;
    char *tp = lmc_path_join(dir, "tokenizer.json");
    if (!tp) { lmc_eval_lm_close(lm); return lmc_errf(err, LMC_ENOMEM, "out of memory"); }
    if (!lmc_file_exists(tp)) {
        lmc_errf(err, LMC_ENOTFOUND, "%s: no tokenizer.json in the checkpoint folder", dir);
        free(tp);
        lmc_eval_lm_close(lm);
        return -1;
    }
    int rc = tok_load(&lm->tok, tp, NULL, err);
    free(tp);
    if (rc || finish_open(lm, max_len, batch_tokens, err)) { lmc_eval_lm_close(lm); return -1; }
    lm->prefix_id = prefix_id >= 0 ? prefix_id : default_prefix(lm, dir);
    if (lm->prefix_id >= lm->m->cfg.vocab_size) {
        lmc_errf(err, LMC_EINVAL, "prefix token %d is outside the vocabulary (%d)", lm->prefix_id,
                 lm->m->cfg.vocab_size);
        lmc_eval_lm_close(lm);
        return -1;
    }
    return 0;
}

int lmc_eval_lm_wrap(lmc_eval_lm *lm, gpt2_model *m, const char *tokenizer_path, int batch_tokens, lmc_err *err) {
    memset(lm, 0, sizeof *lm);
    lm->m = m;
    if (tok_load(&lm->tok, tokenizer_path, NULL, err) || finish_open(lm, 0, batch_tokens, err)) {
        lmc_eval_lm_close(lm);
        return -1;
    }
    lm->prefix_id = default_prefix(lm, NULL);
    return 0;
}

void lmc_eval_lm_close(lmc_eval_lm *lm) {
    if (lm->enc) tok_encoder_free(lm->enc);
    if (lm->tok) tok_free(lm->tok);
    if (lm->own_model && lm->m) gpt2_free(lm->m);
    memset(lm, 0, sizeof *lm);
}

static int encode(lmc_eval_lm *lm, const char *s, size_t n, tok_ids *out, lmc_err *err) {
    out->n = 0;
    return tok_encode(lm->enc, s, n, 1, out, err);
}

/* Keep the last max_len + 1 tokens of ctx + cont as the request. */
static int make_req_L(int max_len, const uint32_t *ctx, size_t nctx, const uint32_t *cont, size_t ncont,
                    lmc_eval_req *r, lmc_err *err) {
    memset(r, 0, sizeof *r);
    if (ncont == 0) return lmc_errf(err, LMC_EINVAL, "a continuation encodes to no tokens");
    if (ncont > (size_t)max_len)
        return lmc_errf(err, LMC_EINVAL, "a continuation of %zu tokens is longer than the max length %d", ncont,
                        max_len);
    size_t total = nctx + ncont, keep = total < (size_t)max_len + 1 ? total : (size_t)max_len + 1;
    r->tok = malloc(keep * sizeof *r->tok);
    if (!r->tok) return lmc_errf(err, LMC_ENOMEM, "out of memory");
    size_t skip = total - keep;
    for (size_t i = 0; i < keep; i++) {
        size_t j = skip + i;
        r->tok[i] = (int32_t)(j < nctx ? ctx[j] : cont[j - nctx]);
    }
    r->n = (int)keep;
    r->n_cont = (int)ncont;
    return 0;
}

static int make_req(lmc_eval_lm *lm, const uint32_t *ctx, size_t nctx, const uint32_t *cont, size_t ncont,
                    lmc_eval_req *r, lmc_err *err) {
    return make_req_L(lm->max_len, ctx, nctx, cont, ncont, r, err);
}

int lmc_eval_req_pair(lmc_eval_lm *lm, const char *ctx, size_t ctx_len, const char *cont, size_t cont_len,
                      lmc_eval_req *r, lmc_err *err) {
    tok_ids a = {0}, b = {0};
    int rc;
    if (ctx_len == 0) {
        if ((rc = encode(lm, cont, cont_len, &b, err))) goto out;
        if (b.n == 0) { rc = lmc_errf(err, LMC_EINVAL, "an empty continuation"); goto out; }
        uint32_t pre = (uint32_t)lm->prefix_id;
        if (b.v[0] != pre) rc = make_req(lm, &pre, 1, b.v, b.n, r, err);
        else rc = make_req(lm, b.v, 1, b.v + 1, b.n - 1, r, err);
        goto out;
    }
    /* trailing whitespace of the context moves to the continuation (Python rstrip: Unicode spaces) */
    size_t cut = ctx_len;
    while (cut > 0) {
        size_t st;
        uint32_t c = lmc_cp_before(ctx, cut, &st);
        if (!lmc_py_space(c)) break;
        cut = st;
    }
    char *whole = malloc(ctx_len + cont_len + 1);
    if (!whole) { rc = lmc_errf(err, LMC_ENOMEM, "out of memory"); goto out; }
    memcpy(whole, ctx, ctx_len);
    memcpy(whole + ctx_len, cont, cont_len);
    rc = encode(lm, whole, ctx_len + cont_len, &a, err);
    tok_ids c = {0};
    if (!rc) rc = encode(lm, whole, cut, &c, err);
    free(whole);
    if (!rc) {
        size_t nctx = c.n < a.n ? c.n : a.n;
        rc = make_req(lm, a.v, nctx, a.v + nctx, a.n - nctx, r, err);
    }
    tok_ids_free(&c);
out:
    tok_ids_free(&a);
    tok_ids_free(&b);
    return rc ? -1 : 0;
}

static int push_req(lmc_eval_req **reqs, size_t *n, size_t *cap, lmc_err *err) {
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 64;
        lmc_eval_req *p = realloc(*reqs, nc * sizeof *p);
        if (!p) return lmc_errf(err, LMC_ENOMEM, "out of memory");
        *reqs = p;
        *cap = nc;
    }
    return 0;
}

int lmc_eval_rolling_windows(const uint32_t *tok, size_t N, int32_t prefix, int max_len, lmc_eval_req **reqs,
                            size_t *n, size_t *cap, lmc_err *err) {
    size_t L = (size_t)max_len, predicted = 0;
    if (max_len < 1) return lmc_errf(err, LMC_EINVAL, "max length must be >= 1");
    if (N > 0) {
        /* first window: the prefix token, then up to L tokens predicted */
        size_t first = N < L ? N : L;
        uint32_t pre = (uint32_t)prefix;
        if (push_req(reqs, n, cap, err) || make_req_L(max_len, &pre, 1, tok, first, &(*reqs)[*n], err)) return -1;
        (*n)++;
        predicted = first;
    }
    while (predicted < N) {
        size_t wl = N - predicted < L ? N - predicted : L, end = predicted + wl;
        /* context tok[end-L-1, end-wl), continuation tok[end-wl, end) */
        size_t cstart = end - L - 1;
        if (push_req(reqs, n, cap, err) ||
            make_req_L(max_len, tok + cstart, end - wl - cstart, tok + end - wl, wl, &(*reqs)[*n], err))
            return -1;
        (*n)++;
        predicted += wl;
    }
    return 0;
}

int lmc_eval_req_rolling(lmc_eval_lm *lm, const char *text, size_t len, lmc_eval_req **reqs, size_t *n,
                         size_t *cap, lmc_err *err) {
    tok_ids t = {0};
    int rc = encode(lm, text, len, &t, err);
    if (!rc) rc = lmc_eval_rolling_windows(t.v, t.n, lm->prefix_id, lm->max_len, reqs, n, cap, err);
    tok_ids_free(&t);
    return rc ? -1 : 0;
}

void lmc_eval_req_free(lmc_eval_req *r, size_t n) {
    for (size_t i = 0; r && i < n; i++) free(r[i].tok);
}

static const lmc_eval_req *g_sort_reqs;
static int by_len_desc(const void *a, const void *b) {
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    int ni = g_sort_reqs[i].n, nj = g_sort_reqs[j].n;
    if (ni != nj) return ni > nj ? -1 : 1;
    return i < j ? -1 : i > j;
}

int lmc_eval_score(lmc_eval_lm *lm, lmc_eval_req *reqs, size_t n, lmc_err *err) {
    if (n == 0) return 0;
    size_t *order = malloc(n * sizeof *order);
    if (!order) return lmc_errf(err, LMC_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) order[i] = i;
    g_sort_reqs = reqs;
    qsort(order, n, sizeof *order, by_len_desc);
    g_sort_reqs = NULL;
    gpt2_model *m = lm->m;
    int Tmax = reqs[order[0]].n - 1;
    if (Tmax < 1) Tmax = 1;
    /* a chunk has B = batch_tokens / T rows of its longest length T (one row when T > batch_tokens) */
    size_t cap = (size_t)(Tmax > lm->batch_tokens ? Tmax : lm->batch_tokens);
    int32_t *x = malloc(cap * sizeof *x);
    int32_t *y = malloc(cap * sizeof *y);
    int rc = 0;
    if (!x || !y) { rc = lmc_errf(err, LMC_ENOMEM, "out of memory"); goto out; }
    const int V = m->cfg.vocab_size, Vp = m->cfg.padded_vocab;
    for (size_t s = 0; s < n;) {
        int T = reqs[order[s]].n - 1;
        if (T < 1) T = 1;
        int B = lm->batch_tokens / T > 0 ? lm->batch_tokens / T : 1;
        if ((size_t)B > n - s) B = (int)(n - s);
        for (int b = 0; b < B; b++) {
            const lmc_eval_req *r = &reqs[order[s + (size_t)b]];
            int len = r->n - 1, first = len - r->n_cont;
            for (int t = 0; t < T; t++) {
                x[b * T + t] = t < len ? r->tok[t] : 0;
                y[b * T + t] = (t < len && t >= first) ? r->tok[t + 1] : -1;
            }
            for (int t = 0; t < len; t++)
                if (r->tok[t] < 0 || r->tok[t] >= V || r->tok[t + 1] < 0 || r->tok[t + 1] >= V) {
                    rc = lmc_errf(err, LMC_EINVAL, "token id %d outside the model's vocabulary of %d",
                                  r->tok[t] < 0 || r->tok[t] >= V ? r->tok[t] : r->tok[t + 1], V);
                    goto out;
                }
        }
        int lo = gpt2_set_loss_only(m, 0);   /* the greedy check reads the logits */
        rc = gpt2_forward(m, x, y, B, T, NULL, err);
        gpt2_set_loss_only(m, lo);
        if (rc) goto out;
        for (int b = 0; b < B; b++) {
            lmc_eval_req *r = &reqs[order[s + (size_t)b]];
            int len = r->n - 1, first = len - r->n_cont;
            double ll = 0;
            int greedy = 1;
            for (int t = first; t < len; t++) {
                ll -= m->losses[b * T + t];
                const float *lg = m->logits + ((size_t)b * (size_t)T + (size_t)t) * (size_t)Vp;
                int arg = 0;
                for (int v = 1; v < V; v++)
                    if (lg[v] > lg[arg]) arg = v;
                if (arg != r->tok[t + 1]) greedy = 0;
            }
            r->ll = ll;
            r->greedy = greedy;
        }
        s += (size_t)B;
        if (lm->progress) lmc_progress_add(lm->progress, (uint64_t)B);
    }
out:
    free(x);
    free(y);
    free(order);
    return rc ? -1 : 0;
}

int lmc_eval_task(lmc_eval_lm *lm, const char *task, const lmc_eval_opts *o, json_t **summary, json_t **examples,
                  lmc_err *err) {
    if (!strcmp(task, "blimp")) return lmc_eval_blimp(lm, o, summary, examples, err);
    if (!strcmp(task, "mc")) return lmc_eval_mc(lm, o, summary, examples, err);
    if (!strcmp(task, "perplexity")) return lmc_eval_perplexity(lm, o, 0, summary, examples, err);
    if (!strcmp(task, "wikitext")) return lmc_eval_perplexity(lm, o, 1, summary, examples, err);
    if (!strcmp(task, "lambada")) return lmc_eval_lambada(lm, o, summary, examples, err);
    if (!strcmp(task, "heads")) return lmc_eval_heads(lm, o, summary, examples, err);
    return lmc_errf(err, LMC_EINVAL, "unknown task '%s' (expected blimp, mc, perplexity, wikitext, lambada or heads)", task);
}

int lmc_eval_read_jsonl(const char *path, int64_t limit, lmc_eval_line_fn fn, void *ctx, lmc_err *err) {
    char *data;
    size_t len;
    if (lmc_read_file(path, &data, &len, err)) return -1;
    uint64_t line = 0;
    int64_t done = 0;
    int rc = 0;
    for (size_t i = 0; i < len && (limit <= 0 || done < limit);) {
        size_t j = i;
        while (j < len && data[j] != '\n') j++;
        line++;
        size_t e = j;
        if (e > i && data[e - 1] == '\r') e--;
        int blank = 1;
        for (size_t k = i; k < e; k++)
            if (data[k] != ' ' && data[k] != '\t') { blank = 0; break; }
        if (!blank) {
            json_error_t je;
            json_t *obj = json_loadb(data + i, e - i, JSON_REJECT_DUPLICATES, &je);
            if (!obj) {
                rc = lmc_err_at(err, LMC_EFORMAT, path, line, (uint64_t)je.column, "%s", je.text);
                break;
            }
            if (!json_is_object(obj)) {
                json_decref(obj);
                rc = lmc_err_at(err, LMC_EFORMAT, path, line, 1, "expected a JSON object");
                break;
            }
            rc = fn(ctx, obj, path, line, err);
            json_decref(obj);
            if (rc) break;
            done++;
        }
        i = j + 1;
    }
    free(data);
    return rc ? -1 : 0;
}
