/* lmc depth-stats: per-layer residual-stream variance and input/output angular distance of a
 * checkpoint on a token shard (the LayerNorm Scaling diagnostics, docs/model.md). */
#include "cli/cli.h"
#include "model/gpt2.h"
#include "model/switches.h"
#include "kernels/cpu/kernels.h"
#include "data/shard.h"
#include <stdio.h>
#include <stdlib.h>

static const lmc_opt depth_opts[] = {
    {"model", 'm', OPT_STR, NULL, "DIR", "checkpoint or HF folder"},
    {"data", 'd', OPT_STR, NULL, "SHARD", "token shard (llm.c .bin)"},
    {"seq-len", 't', OPT_INT, NULL, "T", "window length (at most the model's n_positions)"},
    {"batch", 'b', OPT_INT, "4", "B", "windows per forward pass"},
    {"batches", 'n', OPT_INT, "4", "N", "forward passes (consecutive windows from the shard's start)"},
    {"random-init", 0, OPT_INT, "-1", "SEED", "replace the weights by gpt2_init_random(SEED) first (statistics at initialisation)"},
    {"threads", 0, OPT_INT, "0", "N", "worker threads (0 = all cores)"},
    LMC_OPTS_END};

static int run_depth(lmc_args *a) {
    const char *dir = lmc_arg_str(a, "model"), *data = lmc_arg_str(a, "data");
    if (!dir) return lmc_usage_error(a, "--model DIR is required");
    if (!data) return lmc_usage_error(a, "--data SHARD is required");
    if (!lmc_arg_is_set(a, "seq-len")) return lmc_usage_error(a, "--seq-len T is required");
    int64_t T = lmc_arg_int(a, "seq-len"), B = lmc_arg_int(a, "batch"), nb = lmc_arg_int(a, "batches");
    int64_t seed = lmc_arg_int(a, "random-init");
    if (T <= 0 || B <= 0 || nb <= 0) return lmc_usage_error(a, "--seq-len, --batch and --batches must be positive");
    lmc_kernels_set_threads((int)lmc_arg_int(a, "threads"));
    lmc_err err = {0};
    gpt2_model *m = NULL;
    if (gpt2_load_hf(dir, &m, &err)) return lmc_fail(a, "%s", err.msg);
    if (T > m->cfg.max_seq) { gpt2_free(m); return lmc_fail(a, "--seq-len %lld exceeds n_positions %d", (long long)T, m->cfg.max_seq); }
    if (seed >= 0) gpt2_init_random(m, (uint64_t)seed);
    if (gpt2_enable_training(m, &err)) { gpt2_free(m); return lmc_fail(a, "out of memory"); }
    lmc_shard sh;
    if (lmc_shard_open(&sh, data, &err)) { gpt2_free(m); return lmc_fail(a, "%s", err.msg); }
    const int L = m->cfg.n_layer;
    double *var = calloc((size_t)L + 1, sizeof(double)), *ang = calloc((size_t)L + 1, sizeof(double));
    int32_t *x = malloc((size_t)(B * T) * sizeof(int32_t));
    int rc = 0;
    int64_t done = 0;
    if (!var || !ang || !x) rc = lmc_errf(&err, LMC_ENOMEM, "out of memory");
    for (int64_t k = 0; !rc && k < nb; k++) {
        if ((uint64_t)((k + 1) * B * T) > sh.ntok) break;
        lmc_shard_read(&sh, (uint64_t)(k * B * T), (uint64_t)(B * T), x);
        rc = gpt2_depth_stats(m, x, (int)B, (int)T, var, ang, &err);
        done++;
    }
    if (!rc && !done) rc = lmc_errf(&err, LMC_EINVAL, "%s: too few tokens for one batch of %lld x %lld", data, (long long)B, (long long)T);
    if (!rc) {
        printf("{\"layers\": %d, \"batches\": %lld, \"var\": [", L, (long long)done);
        for (int l = 0; l <= L; l++) printf("%s%.6g", l ? ", " : "", var[l] / (double)done);
        printf("], \"angular\": [");
        for (int l = 0; l < L; l++) printf("%s%.6g", l ? ", " : "", ang[l] / (double)done);
        printf("]}\n");
    }
    free(var); free(ang); free(x);
    lmc_shard_close(&sh);
    gpt2_free(m);
    return rc ? lmc_fail(a, "%s", err.msg) : 0;
}

static const lmc_command depth_cmd = {
    "depth-stats", "per-layer residual variance and angular distance of a checkpoint", "[options]",
    "Runs the model over consecutive windows of the shard and prints one JSON line: \"var\"[l] (l = 0..L)\n"
    "is the variance of all entries of the residual stream after block l (0 = embeddings), \"angular\"[l]\n"
    "the mean over tokens of arccos(cos(h_l, h_{l+1}))/pi between block l+1's input and output. These\n"
    "are the diagnostics of LayerNorm Scaling (\"The Curse of Depth in LLMs\", NeurIPS 2025).",
    depth_opts, 0, 0, run_depth, NULL, 41};
LMC_COMMAND(depth_cmd)

/* ---- lmc mtp-stats ---- */

static const lmc_opt mtp_opts[] = {
    {"model", 'm', OPT_STR, NULL, "DIR", "checkpoint with model.mtp_heads > 0"},
    {"data", 'd', OPT_STR, NULL, "SHARD", "token shard (llm.c .bin)"},
    {"seq-len", 't', OPT_INT, NULL, "T", "window length"},
    {"batch", 'b', OPT_INT, "8", "B", "windows per forward pass"},
    {"batches", 'n', OPT_INT, "8", "N", "forward passes"},
    {"threads", 0, OPT_INT, "0", "N", "worker threads (0 = all cores)"},
    LMC_OPTS_END};

static int run_mtp(lmc_args *a) {
    const char *dir = lmc_arg_str(a, "model"), *data = lmc_arg_str(a, "data");
    if (!dir || !data || !lmc_arg_is_set(a, "seq-len")) return lmc_usage_error(a, "--model, --data and --seq-len are required");
    int64_t T = lmc_arg_int(a, "seq-len"), B = lmc_arg_int(a, "batch"), nb = lmc_arg_int(a, "batches");
    if (T <= 1 || B <= 0 || nb <= 0) return lmc_usage_error(a, "--seq-len must be > 1, --batch and --batches positive");
    lmc_kernels_set_threads((int)lmc_arg_int(a, "threads"));
    lmc_err err = {0};
    gpt2_model *m = NULL;
    if (gpt2_load_hf(dir, &m, &err)) return lmc_fail(a, "%s", err.msg);
    const int K = m->cfg.mtp_heads;
    if (K <= 0 || T > m->cfg.max_seq) { gpt2_free(m); return lmc_fail(a, "%s: needs mtp_heads > 0 and --seq-len <= n_positions", dir); }
    lmc_shard sh;
    if (lmc_shard_open(&sh, data, &err)) { gpt2_free(m); return lmc_fail(a, "%s", err.msg); }
    const size_t N = (size_t)(B * T);
    int32_t *x = malloc((N + 1) * sizeof(int32_t)), *y = malloc(N * sizeof(int32_t));
    int32_t *g = malloc(N * sizeof(int32_t));
    m->mtp_argmax = malloc((size_t)K * N * sizeof(int32_t));
    double loss[GPT2_MTP_MAX] = {0}, agree[GPT2_MTP_MAX] = {0}, cnt[GPT2_MTP_MAX] = {0}, accepted = 0, steps = 0;
    int rc = (!x || !y || !g || !m->mtp_argmax) ? lmc_errf(&err, LMC_ENOMEM, "out of memory") : 0;
    int64_t done = 0;
    m->mtp_active = K;
    const int Vp = m->cfg.padded_vocab, V = m->cfg.vocab_size;
    for (int64_t k = 0; !rc && k < nb; k++) {
        if ((uint64_t)((k + 1) * (int64_t)N + 1) > sh.ntok) break;
        lmc_shard_read(&sh, (uint64_t)(k * (int64_t)N), N, x);
        lmc_shard_read(&sh, (uint64_t)(k * (int64_t)N) + 1, N, y);
        if ((rc = gpt2_forward(m, x, y, (int)B, (int)T, NULL, &err))) break;
        for (int i = 0; i <= K; i++) loss[i] += m->mtp_losses[i];
        for (size_t r = 0; r < N; r++) {  /* head 0's greedy token per position */
            const float *row = m->logits + r * (size_t)Vp;
            int32_t best = 0;
            for (int v = 1; v < V; v++) if (row[v] > row[best]) best = v;
            g[r] = best;
        }
        /* teacher-forced self-speculation: at t the heads draft g[t], d_1..d_K; draft d_i is accepted when
         * it equals head 0's greedy token at t+i and every earlier draft was accepted */
        for (int64_t b = 0; b < B; b++)
            for (int64_t t = 0; t + K < T; t++) {
                int run = 1;
                for (int i = 1; i <= K; i++) {
                    const size_t r = (size_t)(b * T + t);
                    int ok = m->mtp_argmax[(size_t)(i - 1) * N + r] == g[r + (size_t)i];
                    agree[i] += ok;
                    cnt[i] += 1;
                    if (run && ok) accepted += 1; else run = 0;
                }
                steps += 1;
            }
        done++;
    }
    if (!rc && !done) rc = lmc_errf(&err, LMC_EINVAL, "%s: too few tokens", data);
    if (!rc) {
        printf("{\"heads\": %d, \"batches\": %lld, \"head_loss\": [", K, (long long)done);
        for (int i = 0; i <= K; i++) printf("%s%.6g", i ? ", " : "", loss[i] / (double)done);
        printf("], \"agree\": [");
        for (int i = 1; i <= K; i++) printf("%s%.6g", i > 1 ? ", " : "", agree[i] / cnt[i]);
        printf("], \"tokens_per_pass\": %.6g}\n", 1.0 + accepted / steps);
    }
    free(x); free(y); free(g); free(m->mtp_argmax);
    m->mtp_argmax = NULL;
    lmc_shard_close(&sh);
    gpt2_free(m);
    return rc ? lmc_fail(a, "%s", err.msg) : 0;
}

static const lmc_command mtp_cmd = {
    "mtp-stats", "per-head losses and self-speculative acceptance of a multi-token checkpoint", "[options]",
    "Teacher-forced over consecutive windows of the shard. Prints one JSON line: \"head_loss\"[i] (i = 0 is\n"
    "next-token), \"agree\"[i] = share of positions t where extra head i's most likely token equals the\n"
    "next-token head's greedy token at t+i, and \"tokens_per_pass\" = 1 + mean length of the agreeing\n"
    "prefix of drafts: the tokens one verification pass would yield in greedy self-speculative decoding\n"
    "if the verifier saw the real prefix (an upper-bound style proxy; the paper decodes for real).",
    mtp_opts, 0, 0, run_mtp, NULL, 42};
LMC_COMMAND(mtp_cmd)
