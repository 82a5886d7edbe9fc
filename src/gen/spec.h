/* Speculative sampling (Leviathan et al. 2023; Chen et al. 2023) with FR-Spec's frequency-ranked draft
 * vocabulary (Zhao et al., ACL 2025; ../shared/TECHNIQUES.md §14).
 *
 * Each round: the draft model proposes gamma tokens x_i ~ q_i; the target scores the last emitted
 * token and all gamma proposals in ONE batched pass (gamma + 1 rows through every GEMM, the KV cache
 * extended by gamma + 1 positions), giving p_1..p_{gamma+1}. x_i is accepted with probability
 * min(1, p_i(x_i) / q_i(x_i)); at the first rejection a token is drawn from norm(max(0, p_i - q_i)) and
 * the round ends; if all are accepted a bonus token is drawn from p_{gamma+1}. The caches roll back
 * to the accepted prefix. The output distribution is exactly the target's sampling distribution p
 * (temperature, top-k, top-p applied to the target's logits as gen_sample does; the draft's q uses
 * the same settings over its own support). Temperature 0: the draft proposes its argmax and a
 * proposal is accepted while it equals the target's argmax, so the text is plain greedy decoding.
 *
 * FR-Spec: with vhigh (K token ids, e.g. the K most frequent of a corpus from `lmc tokenizer count`)
 * the draft's output head uses only those K rows (gathered once into a K x d matrix), so q is
 * supported on vhigh and the draft's head costs K/V of the full one; verification is unchanged, so
 * the output distribution is still exactly p. */
#ifndef LMC_GEN_SPEC_H
#define LMC_GEN_SPEC_H

#include <stdint.h>
#include "base/error.h"
#include "base/rng.h"
#include "gen/gen.h"
#include "model/gpt2.h"

typedef struct spec_opts {
    int gamma;               /* draft tokens per round (>= 1) */
    const int32_t *vhigh;    /* FR-Spec draft vocabulary (NULL = the full vocabulary) */
    int n_vhigh;
} spec_opts;

typedef struct spec_stats {
    int64_t rounds;          /* target passes */
    int64_t drafted;         /* draft tokens proposed */
    int64_t accepted;        /* of which accepted */
    int64_t emitted;         /* tokens output */
} spec_stats;

/* Like gen_generate (same params, same stopping rules), with a draft model of the same vocabulary. */
int spec_generate(const gpt2_model *target, const gpt2_model *draft, const int32_t *prompt, int n_prompt,
                  const gen_params *p, const spec_opts *so, lmc_rng *rng, int32_t *out, int *n_out, spec_stats *st,
                  void (*on_token)(void *ctx, int32_t tok), void *ctx, lmc_err *err);

/* The sampling distribution gen_sample draws from (temperature > 0): prob[V] (zeros outside the
 * top-k / top-p set), normalised. scratch: gen_sample_scratch_bytes(V). */
void spec_distribution(const float *logits, int V, const gen_params *p, double *prob, void *scratch);

/* FR-Spec: read a counts file ("id count" lines, as `lmc tokenizer count` writes, most frequent
 * first) and return its first k ids (malloc'd) in *ids, *n = min(k, lines). Ids must be < V. */
int spec_read_vhigh(const char *path, int k, int V, int32_t **ids, int *n, lmc_err *err);

#endif
