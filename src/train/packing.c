/* Seamless Packing: the sequence table (packing.h has the algorithm). */
#include "train/packing.h"
#include "train/loader.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/mem.h"

/* The table under construction: pieces and window offsets grow as windows are closed. */
typedef struct builder {
    lmc_buf pieces, offs;   /* train_piece[], uint64_t[] (offs starts with 0) */
    train_packing *p;
} builder;

static int put_piece(lmc_buf *b, uint32_t shard, uint64_t start, uint64_t len, lmc_err *err) {
    train_piece pc = {start, shard, (uint32_t)len};
    return lmc_buf_append(b, &pc, sizeof pc, err);
}

static int close_window(builder *bd, lmc_err *err) {
    uint64_t n = bd->pieces.len / sizeof(train_piece);
    bd->p->nwin++;
    return lmc_buf_append(&bd->offs, &n, sizeof n, err);
}

/* Stage 1 for one document [a, a + len) of shard s: full windows now, a short piece for stage 2.
 * r = the maximum repetition ratio: n + 1 windows may repeat at most ceil(n r L) tokens in all. */
static int stage1(builder *bd, lmc_buf *shorts, uint32_t s, uint64_t a, uint64_t len, double r, lmc_err *err) {
    train_packing *p = bd->p;
    const uint64_t L = (uint64_t)p->L;
    p->n_docs++;
    p->doc_tokens += len;
    if (len < L) return put_piece(shorts, s, a, len, err);
    const uint64_t n = len / L;
    /* 1e-9: n r L is an integer more often than binary floating point says (0.3 * 10) */
    const uint64_t max_overlap = (uint64_t)ceil((double)n * r * (double)L - 1e-9);
    if (len % L == 0 || len + max_overlap < (n + 1) * L) {
        for (uint64_t i = 0; i < n; i++)
            if (put_piece(&bd->pieces, s, a + i * L, L, err) || close_window(bd, err)) return -1;
        p->n_slide_windows += n;
        return len % L ? put_piece(shorts, s, a + n * L, len - n * L, err) : 0;
    }
    /* n + 1 windows over the whole document: the X = (n+1) L - len repeated tokens spread over the n
     * joins (o = ceil(X / n) each; the last window ends at the document's end, so its join is <= o) */
    const uint64_t X = (n + 1) * L - len, o = (X + n - 1) / n;
    for (uint64_t i = 0; i < n; i++)
        if (put_piece(&bd->pieces, s, a + i * (L - o), L, err) || close_window(bd, err)) return -1;
    if (put_piece(&bd->pieces, s, a + len - L, L, err) || close_window(bd, err)) return -1;
    p->n_slide_windows += n + 1;
    p->overlap_tokens += X;
    return 0;
}

/* Longest first; ties by position, so the table does not depend on qsort's order of equal keys. */
static int by_len_desc(const void *x, const void *y) {
    const train_piece *a = (const train_piece *)x, *b = (const train_piece *)y;
    if (a->len != b->len) return a->len > b->len ? -1 : 1;
    if (a->shard != b->shard) return a->shard < b->shard ? -1 : 1;
    return a->start < b->start ? -1 : a->start > b->start;
}

/* Stage 2: First-Fit-Decreasing of the short pieces. A max segment tree over the bins' free space
 * finds the first bin with room in O(log n); bins not opened yet have the full capacity, so "first
 * fit, else a new bin" is one query. */
static int stage2(builder *bd, train_piece *sp, uint64_t ns, int pad, int64_t extra, lmc_err *err) {
    train_packing *p = bd->p;
    const uint64_t L = (uint64_t)p->L, cap = pad ? L : L + (uint64_t)extra;
    if (ns == 0) return 0;
    qsort(sp, ns, sizeof *sp, by_len_desc);
    uint64_t S = 1;
    while (S < ns) S *= 2;
    int rc = -1;
    uint64_t *tree = lmc_alloc_array(2 * S, sizeof *tree, err);
    uint64_t *bin = lmc_alloc_array(ns, sizeof *bin, err), *used = lmc_alloc_array(ns + 1, sizeof *used, err);
    uint64_t *first = lmc_alloc_array(ns + 2, sizeof *first, err), *order = lmc_alloc_array(ns, sizeof *order, err);
    if (!tree || !bin || !used || !first || !order) goto out;
    for (uint64_t i = 0; i < 2 * S; i++) tree[i] = cap;
    uint64_t nbins = 0;
    for (uint64_t i = 0; i < ns; i++) {
        uint64_t node = 1;
        while (node < S) node = tree[2 * node] >= sp[i].len ? 2 * node : 2 * node + 1;
        uint64_t b = node - S;
        bin[i] = b;
        nbins = b + 1 > nbins ? b + 1 : nbins;
        tree[node] -= sp[i].len;
        for (node /= 2; node; node /= 2) tree[node] = tree[2 * node] > tree[2 * node + 1] ? tree[2 * node] : tree[2 * node + 1];
    }
    /* group the pieces by bin, keeping the order they were placed in (counting sort) */
    memset(first, 0, (ns + 2) * sizeof *first);
    memset(used, 0, (ns + 1) * sizeof *used);
    for (uint64_t i = 0; i < ns; i++) { first[bin[i] + 1]++; used[bin[i]] += sp[i].len; }
    for (uint64_t b = 0; b < nbins; b++) first[b + 1] += first[b];
    for (uint64_t i = 0; i < ns; i++) order[first[bin[i]]++] = i;
    for (uint64_t b = nbins; b > 0; b--) first[b] = first[b - 1];
    first[0] = 0;
    /* full (and, without pad, overfull: cut to L) bins are windows; with pad so is every bin */
    for (uint64_t b = 0; b < nbins; b++) {
        if (!pad && used[b] < L) continue;
        uint64_t room = L;
        for (uint64_t k = first[b]; k < first[b + 1] && room; k++) {
            const train_piece *pc = &sp[order[k]];
            uint64_t take = pc->len < room ? pc->len : room;
            if (put_piece(&bd->pieces, pc->shard, pc->start, take, err)) goto out;
            room -= take;
        }
        if (close_window(bd, err)) goto out;
        if (used[b] > L) p->dropped_tokens += used[b] - L;
        p->pad_tokens += room;
    }
    if (!pad) {  /* the underfull bins, concatenated in order and cut into windows of L; the tail is dropped */
        uint64_t fill = 0, wstart = bd->pieces.len;
        for (uint64_t b = 0; b < nbins; b++) {
            if (used[b] >= L) continue;
            for (uint64_t k = first[b]; k < first[b + 1]; k++) {
                const train_piece *pc = &sp[order[k]];
                uint64_t off = 0;
                while (off < pc->len) {
                    uint64_t take = pc->len - off < L - fill ? pc->len - off : L - fill;
                    if (put_piece(&bd->pieces, pc->shard, pc->start + off, take, err)) goto out;
                    off += take;
                    fill += take;
                    if (fill == L) {
                        if (close_window(bd, err)) goto out;
                        fill = 0;
                        wstart = bd->pieces.len;
                    }
                }
            }
        }
        p->dropped_tokens += fill;
        bd->pieces.len = wstart;  /* the unfinished window's pieces */
    }
    rc = 0;
out:
    lmc_free(tree); lmc_free(bin); lmc_free(used); lmc_free(first); lmc_free(order);
    return rc;
}

int train_packing_build(train_packing **out, const train_loader *l, const train_packing_params *pp, lmc_err *err) {
    *out = NULL;
    if (!(pp->overlap >= 0.0 && pp->overlap < 1.0))
        return lmc_errf(err, LMC_EINVAL, "data.packing_overlap %g must be in [0, 1)", pp->overlap);
    if (pp->extra < 0) return lmc_errf(err, LMC_EINVAL, "data.packing_extra %lld must be >= 0", (long long)pp->extra);
    if (pp->sep_id < 0)
        return lmc_errf(err, LMC_EINVAL, "data.packing seamless needs the end-of-text id that begins every document "
                                         "(data.tokenizer with one, or model.doc_sep_id)");
    if (l->T + 1 > (int64_t)UINT32_MAX) return lmc_errf(err, LMC_EINVAL, "seamless packing: seq_len too large");
    train_packing *p = lmc_alloc(sizeof *p, err);
    if (!p) return -1;
    memset(p, 0, sizeof *p);
    p->L = l->T + 1;
    p->pad_id = pp->sep_id;
    builder bd = {{0}, {0}, p};
    lmc_buf shorts = {0};
    uint64_t zero = 0;
    int rc = lmc_buf_append(&bd.offs, &zero, sizeof zero, err);
    for (size_t s = 0; !rc && s < l->nshards; s++) {
        const lmc_shard *sh = &l->shards[s].s;
        uint64_t a = 0;
        for (uint64_t k = 1; !rc && k < sh->ntok; k++)
            if (lmc_shard_get(sh, k) == (uint32_t)pp->sep_id) {
                rc = stage1(&bd, &shorts, (uint32_t)s, a, k - a, pp->overlap, err);
                a = k;
            }
        if (!rc && sh->ntok > a) rc = stage1(&bd, &shorts, (uint32_t)s, a, sh->ntok - a, pp->overlap, err);
    }
    if (!rc) rc = stage2(&bd, (train_piece *)shorts.data, shorts.len / sizeof(train_piece), pp->pad, pp->extra, err);
    lmc_buf_free(&shorts);
    if (rc) {
        lmc_buf_free(&bd.pieces);
        lmc_buf_free(&bd.offs);
        lmc_free(p);
        return -1;
    }
    p->pieces = (train_piece *)bd.pieces.data;
    p->npieces = bd.pieces.len / sizeof(train_piece);
    p->win_off = (uint64_t *)bd.offs.data;
    p->window_tokens = p->nwin * (uint64_t)p->L;
    *out = p;
    return 0;
}

void train_packing_free(train_packing *p) {
    if (!p) return;
    lmc_free(p->pieces);  /* lmc_buf storage: malloc'd */
    lmc_free(p->win_off);
    lmc_free(p);
}

int train_packing_copy(const train_packing *p, const train_loader *l, uint64_t w, int32_t *in, int32_t *tg,
                       lmc_err *err) {
    const int64_t T = l->T;
    int64_t k = 0;  /* window index of the next token */
    for (uint64_t i = p->win_off[w]; i < p->win_off[w + 1]; i++) {
        const train_piece *pc = &p->pieces[i];
        const lmc_shard *s = &l->shards[pc->shard].s;
        for (uint64_t j = 0; j < pc->len; j++, k++) {
            uint32_t v = lmc_shard_get(s, pc->start + j);
            if (l->max_token && v >= l->max_token)
                return lmc_errf(err, LMC_EFORMAT, "%s: token %u at index %llu is not below the vocabulary size %llu",
                                s->path, v, (unsigned long long)(pc->start + j), (unsigned long long)l->max_token);
            if (k < T) in[k] = (int32_t)v;
            /* a loss-masked target is -1, as in the concat loader (src/train/loader_mask.h) */
            if (k > 0) tg[k - 1] = lmc_mask_get(&l->shards[pc->shard].mask, pc->start + j) ? (int32_t)v : -1;
        }
    }
    /* padding: no input information, no target */
    for (int64_t t = k; t < T; t++) in[t] = p->pad_id;
    for (int64_t t = k > 0 ? k - 1 : 0; t < T; t++) tg[t] = -1;
    return 0;
}

void train_packing_describe(const train_packing *p, char *buf, size_t n) {
    double dt = p->doc_tokens ? (double)p->doc_tokens : 1.0, wt = p->window_tokens ? (double)p->window_tokens : 1.0;
    snprintf(buf, n,
             "seamless packing: %llu documents (%llu tokens) -> %llu windows of %lld tokens (%llu from the sliding "
             "window); padding %.2f%% of window tokens, truncated (dropped) %.2f%% and overlap (repeated) %.2f%% of "
             "document tokens",
             (unsigned long long)p->n_docs, (unsigned long long)p->doc_tokens, (unsigned long long)p->nwin,
             (long long)p->L, (unsigned long long)p->n_slide_windows, 100.0 * (double)p->pad_tokens / wt,
             100.0 * (double)p->dropped_tokens / dt, 100.0 * (double)p->overlap_tokens / dt);
}

int train_loader_set_packing(train_loader *l, const train_packing_params *pp, lmc_err *err) {
    train_packing *p;
    if (train_packing_build(&p, l, pp, err)) return -1;
    if (p->nwin == 0) {
        train_packing_free(p);
        return lmc_errf(err, LMC_EINVAL, "seamless packing: the shards give no window of seq_len+1 = %lld tokens",
                        (long long)l->T + 1);
    }
    train_packing_free(l->pack);
    l->pack = p;
    l->nseq = p->nwin;
    lmc_free(l->perm);  /* sized for the old sequence count */
    l->perm = NULL;
    l->epoch = l->pos = 0;
    return l->shuffle ? train_loader_seek(l, 0, 0, err) : 0;
}
