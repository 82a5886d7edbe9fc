/* lmc tokenizer canonical-eval: held-out loss of a model with and without the local canonicality
 * mask (Vieira et al., ICML 2025, "canonicality by conditioning", per step). At each position the
 * masked model is p'(y | x<t) = p(y | x<t) [x<t y can be canonical] / Z_t, so for canonical text
 * -log p'(x_t) = -log p(x_t) + log Z_t <= -log p(x_t): the gain is the mean -log Z_t.
 *
 * The mask of candidate y is the prefix check (tok_canon_check, open end) of the tokens from the last
 * position where every named pattern has a piece boundary (after "\n", before a printable ASCII
 * character other than '/', the tok_safe_split rule) or the document start, then y: exact for the
 * gpt2 / cl100k / o200k patterns, since pieces after such a boundary do not depend on earlier text. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/base.h"
#include "base/reader.h"
#include "cli/cli.h"
#include "gen/gen.h"
#include "kernels/cpu/kernels.h"
#include "model/gpt2.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/tokres.h"

extern const lmc_command tok_canon_eval_cmd;

static const lmc_opt ce_opts[] = {
    {"model", 'm', OPT_STR, NULL, "DIR", "checkpoint folder (HF GPT-2 / Llama)"},
    {"tok", 't', OPT_STR, NULL, "TOK", "tokenizer (default: DIR/tokenizer.json)"},
    {"seq-len", 0, OPT_INT, "0", "T", "window length (0 = the model's context)"},
    {"max-tokens", 'n', OPT_INT, "4096", "N", "stop after N predicted tokens (0 = all)"},
    {"threads", 0, OPT_INT, "1", "N", "worker threads for the model"},
    LMC_OPTS_END};

/* 1 when every named pattern has a piece boundary before token i: the text before it ends in "\n"
 * and the token starts with printable ASCII other than '/'. */
static int safe_before(const tok_tokenizer *t, const uint32_t *ids, size_t i) {
    if (i == 0) return 1;
    size_t la, lb;
    const uint8_t *a = tok_token_bytes(t, ids[i - 1], &la), *b = tok_token_bytes(t, ids[i], &lb);
    return a && b && la && lb && a[la - 1] == '\n' && b[0] >= 0x21 && b[0] <= 0x7E && b[0] != '/';
}

static int run_ce(lmc_args *a) {
    const char *dir = lmc_arg_str(a, "model");
    if (!dir) return lmc_usage_error(a, "--model DIR is required");
    int64_t T = lmc_arg_int(a, "seq-len"), maxn = lmc_arg_int(a, "max-tokens"), th = lmc_arg_int(a, "threads");
    if (T < 0 || maxn < 0 || th < 0) return lmc_usage_error(a, "--seq-len, --max-tokens and --threads must be >= 0");
    lmc_kernels_set_threads((int)th);
    lmc_err err = {0};
    gpt2_model *m = NULL;
    tok_tokenizer *t = NULL;
    tok_canon *c = NULL;
    tok_encoder *e = NULL;
    tok_ids ids = {0}, ctx = {0};
    gen_kv kv;
    int have_kv = 0, rc = 0;
    double *lp = NULL;
    char *def = lmc_path_join(dir, "tokenizer.json");
    const char *tp = lmc_arg_str(a, "tok") ? lmc_arg_str(a, "tok") : def;
    if (gpt2_load_hf(dir, &m, &err) || tok_load(&t, tp, NULL, &err) || tok_canon_new(&c, t, &err) ||
        tok_encoder_new(&e, t, &err)) {
        rc = lmc_fail(a, "%s", err.msg);
        goto out;
    }
    tok_pattern_kind pk;
    tok_pattern(t, &pk);
    int exact = pk == TOK_PAT_GPT2 || pk == TOK_PAT_CL100K || pk == TOK_PAT_O200K;
    int V = m->cfg.vocab_size;
    if (T == 0 || T > m->cfg.max_seq) T = m->cfg.max_seq;
    for (int i = 0; !rc && i < lmc_arg_npos(a); i++) {
        char *data;
        size_t len;
        if (lmc_read_all(lmc_arg_pos(a, i), &data, &len, &err) || tok_encode(e, data, len, 0, &ids, &err)) {
            rc = lmc_fail(a, "%s: %s", lmc_arg_pos(a, i), err.msg);
            break;
        }
        free(data);
    }
    if (rc) goto out;
    if (gen_kv_init(&kv, m, (int)T, &err)) {
        rc = lmc_fail(a, "%s", err.msg);
        goto out;
    }
    have_kv = 1;
    lp = malloc((size_t)V * sizeof *lp);
    if (!lp) {
        rc = lmc_fail(a, "out of memory");
        goto out;
    }
    double nll = 0, nll_c = 0, logz = 0, minz = 1;
    uint64_t n = 0, true_masked = 0, inexact = 0;
    double t0 = lmc_now();
    for (size_t w = 0; w + 1 < ids.n && (!maxn || n < (uint64_t)maxn); w += (size_t)T) {
        size_t end = w + (size_t)T < ids.n ? w + (size_t)T : ids.n;
        gen_kv_reset(&kv);
        for (size_t i = w; i + 1 < end && (!maxn || n < (uint64_t)maxn); i++) {
            if (gen_kv_step(&kv, m, (int32_t)ids.v[i], &err)) {
                rc = lmc_fail(a, "%s", err.msg);
                goto out;
            }
            /* log-softmax of the next-token logits */
            double mx = -INFINITY, s = 0;
            for (int y = 0; y < V; y++) mx = kv.logits[y] > mx ? kv.logits[y] : mx;
            for (int y = 0; y < V; y++) s += exp(kv.logits[y] - mx);
            double lse = mx + log(s);
            for (int y = 0; y < V; y++) lp[y] = kv.logits[y] - lse;
            /* check context: from the last safe boundary (or the document start) up to i */
            size_t s0 = i + 1;
            while (s0 > 0 && !safe_before(t, ids.v, s0) && i + 1 - s0 < 512) s0--;
            if (!safe_before(t, ids.v, s0) && !exact) inexact++;
            ctx.n = 0;
            for (size_t k = s0; k <= i; k++)
                if (tok_ids_push(&ctx, ids.v[k], &err)) {
                    rc = lmc_fail(a, "%s", err.msg);
                    goto out;
                }
            if (tok_ids_push(&ctx, 0, &err)) {
                rc = lmc_fail(a, "%s", err.msg);
                goto out;
            }
            double z = 0;
            int true_ok = 0;
            uint32_t target = ids.v[i + 1];
            for (int y = 0; y < V; y++) {
                if ((uint32_t)y >= tok_canon_n_vocab(c) || !tok_token_bytes(t, (uint32_t)y, NULL)) continue;
                ctx.v[ctx.n - 1] = (uint32_t)y;
                int ok;
                size_t pos;
                if (tok_canon_check(c, ctx.v, ctx.n, 1, &ok, &pos, &err)) {
                    rc = lmc_fail(a, "%s", err.msg);
                    goto out;
                }
                if (ok) z += exp(lp[y]);
                if ((uint32_t)y == target) true_ok = ok;
            }
            nll -= lp[target];
            if (true_ok && z > 0) {
                nll_c -= lp[target] - log(z);
                logz += log(z);
                if (z < minz) minz = z;
            } else {
                true_masked++;
                nll_c -= lp[target];
            }
            n++;
        }
    }
    printf("{\"tokens\": %llu, \"loss\": %.6f, \"loss_canonical\": %.6f, \"mean_log_Z\": %.6f, \"min_Z\": %.6f, "
           "\"true_token_masked\": %llu, \"approximate_contexts\": %llu}\n",
           (unsigned long long)n, n ? nll / n : 0, n ? nll_c / n : 0, n ? logz / n : 0, minz,
           (unsigned long long)true_masked, (unsigned long long)inexact);
    if (lmc_progress_default_mode() != LMC_PROGRESS_QUIET)
        fprintf(stderr, "[%llu positions, %d candidates each, %.1f s]\n", (unsigned long long)n, V, lmc_now() - t0);
out:
    free(lp);
    free(def);
    if (have_kv) gen_kv_free(&kv);
    tok_ids_free(&ids);
    tok_ids_free(&ctx);
    tok_encoder_free(e);
    tok_canon_free(c);
    if (t) tok_free(t);
    gpt2_free(m);
    return rc;
}

const lmc_command tok_canon_eval_cmd = {"canonical-eval",
    "held-out loss with and without the local canonicality mask", "[options] TEXT...",
    "Encodes TEXT, runs the model over windows of --seq-len tokens and prints, per predicted token, the\n"
    "mean loss of the model and of the model masked to canonical continuations and renormalised at every\n"
    "step (loss_canonical = loss + mean log Z, Z = the mass of the allowed next tokens). Every candidate\n"
    "of the vocabulary is checked at every position: meant for small vocabularies.",
    ce_opts, 1, -1, run_ce, NULL, 0};
