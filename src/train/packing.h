/* Seamless Packing (Yin, Gao et al., ACL 2025, "Improving Continual Pre-training Through Seamless Data
 * Packing", arXiv 2505.22018): training windows built from whole documents instead of a fixed cut of
 * the token stream (data.packing: seamless; concat is the loader's fixed windows).
 *
 * Documents are the separator-delimited spans of each shard (lmc's shards put the end-of-text token
 * BEFORE every document, so a document is [EOT, text...]; a shard's leading tokens before its first EOT
 * are a document too). A window holds L = seq_len + 1 tokens (inputs are the first T, targets the last T).
 *   Stage 1, sliding window, for a document of len >= L tokens: n = floor(len / L) full windows fit.
 *     If len % L == 0, or len + ceil(n r L) < (n + 1) L (covering the tail would repeat more than the
 *     maximum repetition ratio r allows), n disjoint windows; the tail (< L) goes to stage 2.
 *     Otherwise n + 1 windows cover the whole document: the X = (n+1) L - len repeated tokens spread
 *     over the n joins, o = ceil(X / n): starts i (L - o) for i < n, the last window ends at the end.
 *   Stage 2, First-Fit-Decreasing of the short pieces (documents < L and stage-1 tails), longest first,
 *     into bins of capacity L + extra ("bins slightly larger than the sequence length").
 *     pad = 0 (the paper's default): a bin over L is cut to L (the rest is dropped: truncation); the
 *       bins under L are concatenated in order and cut into windows of L, the final partial one dropped.
 *     pad = 1 (the paper's padding variant): capacity L exactly, every bin is a window, padded to L;
 *       padding inputs are pad_id and their targets -1 (no loss, not counted as tokens).
 * The table is a pure function of the shards and these parameters (the sort breaks ties by position),
 * built once at loader open; the loader then shuffles windows by (seed, epoch) exactly as it shuffles
 * concat sequences, so resume stays bitwise. With model.doc_mask a window's documents do not see each
 * other: a piece that starts with EOT starts a document; a stage-1 tail piece does not (it attends to
 * the piece before it in its window, as a mid-document cut does in concat). */
#ifndef LMC_TRAIN_PACKING_H
#define LMC_TRAIN_PACKING_H

#include <stddef.h>
#include <stdint.h>
#include "base/error.h"

struct train_loader;

typedef struct train_packing_params {
    double overlap;    /* r_max: repeated tokens of a document's n+1 windows <= ceil(n r L) (paper 0.3) */
    int64_t extra;     /* bin capacity above L in tokens when !pad (paper 50) */
    int pad;           /* 1 = the padding variant (bins of exactly L, padded) */
    int32_t sep_id;    /* the end-of-text token that begins every document */
} train_packing_params;

typedef struct train_piece {
    uint64_t start;    /* token offset in its shard */
    uint32_t shard;
    uint32_t len;
} train_piece;

typedef struct train_packing {
    int64_t L;                  /* tokens per window: seq_len + 1 */
    int32_t pad_id;
    uint64_t nwin;
    uint64_t *win_off;          /* [nwin + 1]: window w is pieces[win_off[w] .. win_off[w+1]) */
    train_piece *pieces;
    uint64_t npieces;
    /* statistics (tokens): doc = all tokens of all documents; window = nwin * L;
     * window = doc + overlap - dropped + pad */
    uint64_t n_docs, doc_tokens, window_tokens, pad_tokens, dropped_tokens, overlap_tokens;
    uint64_t n_slide_windows;   /* windows from stage 1 */
} train_packing;

/* Build the table over the loader's shards (l->T, l->shards). */
int train_packing_build(train_packing **out, const struct train_loader *l, const train_packing_params *pp,
                        lmc_err *err);
void train_packing_free(train_packing *p);
/* Window w -> inputs[T], targets[T] (padding: inputs pad_id, targets -1). */
int train_packing_copy(const train_packing *p, const struct train_loader *l, uint64_t w, int32_t *in, int32_t *tg,
                       lmc_err *err);
/* One line for train.log: windows, padding %, dropped (truncated) %, overlap % of the document tokens. */
void train_packing_describe(const train_packing *p, char *buf, size_t n);

/* Switch an open loader to seamless packing: builds the table, its windows become the loader's
 * sequences (nseq), and the position is reset to (epoch 0, 0). */
int train_loader_set_packing(struct train_loader *l, const train_packing_params *pp, lmc_err *err);

#endif
