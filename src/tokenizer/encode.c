/* Encoding: special-token split, UTF-8 runs, regex pieces, BPE per piece; and decoding.
 *
 * BPE per piece: repeatedly merge the adjacent pair of lowest rank (leftmost on ties) until no pair
 * is in the table. Small pieces use an O(n*m) scan over a flat array (cache friendly, as tiktoken
 * does); pieces of TOK_SMALL_PIECE bytes or more use a linked list plus a min-heap of (rank, position)
 * with stale entries skipped on pop, so a 10 MB piece costs O(n log n), not O(n^2). */
#include <stdlib.h>
#include <string.h>
#include "tokenizer/tok_internal.h"

#define TOK_SMALL_PIECE 128

/* A direct-mapped cache of merged pieces (pieces that are not one token): natural text repeats its
 * words, so most pieces are merged once. Bounded: 64k entries, about 4.5 MB per encoder. */
#define CACHE_SLOTS 65536
#define CACHE_KEY 24
#define CACHE_IDS 8
typedef struct cache_ent {
    uint64_t h;
    uint8_t len, nids;
    uint8_t key[CACHE_KEY];
    uint32_t ids[CACHE_IDS];
} cache_ent;

struct tok_encoder {
    cache_ent *cache;
    const tok_tokenizer *t;
    pcre2_match_data *md;
    pcre2_match_context *mctx;
    pcre2_jit_stack *jstack;
    int use_jit;
    int fast; /* ASCII fast path for the named patterns (fastpre.c) */
    /* small-piece scratch */
    uint32_t sym[TOK_SMALL_PIECE], rank[TOK_SMALL_PIECE], pid[TOK_SMALL_PIECE], st[TOK_SMALL_PIECE];
    /* large-piece scratch */
    uint32_t *lsym;
    int64_t *lnext, *lprev;
    uint64_t *heap;
    size_t lcap;
    size_t *spec_next; /* cached next occurrence of each special token */
};

int tok_encoder_new(tok_encoder **out, const tok_tokenizer *t, lmc_err *err) {
    *out = NULL;
    tok_encoder *e = calloc(1, sizeof *e);
    if (!e) return lmc_errf(err, LMC_ENOMEM, "out of memory for an encoder");
    e->t = t;
    e->fast = 1;
    tok_fast_init();
    e->cache = calloc(CACHE_SLOTS, sizeof *e->cache);
    if (!e->cache) {
        free(e);
        return lmc_errf(err, LMC_ENOMEM, "out of memory for an encoder");
    }
    if (t->re) {
        e->md = pcre2_match_data_create_from_pattern(t->re, NULL);
        e->mctx = pcre2_match_context_create(NULL);
        e->jstack = pcre2_jit_stack_create(32 * 1024, 64 * 1024 * 1024, NULL);
        if (!e->md || !e->mctx || !e->jstack) {
            tok_encoder_free(e);
            return lmc_errf(err, LMC_ENOMEM, "out of memory for regex match data");
        }
        /* One regex match can be a whole 10 MB run; never stop it on a backtracking limit. */
        pcre2_set_match_limit(e->mctx, UINT32_MAX);
        pcre2_set_depth_limit(e->mctx, UINT32_MAX);
        pcre2_set_heap_limit(e->mctx, UINT32_MAX);
        pcre2_jit_stack_assign(e->mctx, NULL, e->jstack);
        size_t jsz = 0;
        e->use_jit = pcre2_pattern_info(t->re, PCRE2_INFO_JITSIZE, &jsz) == 0 && jsz > 0;
    }
    if (t->n_specials) {
        e->spec_next = calloc(t->n_specials, sizeof *e->spec_next);
        if (!e->spec_next) {
            tok_encoder_free(e);
            return lmc_errf(err, LMC_ENOMEM, "out of memory for an encoder");
        }
    }
    *out = e;
    return 0;
}

void tok_encoder_set_fast(tok_encoder *e, int on) { e->fast = on; }

void tok_encoder_free(tok_encoder *e) {
    if (!e) return;
    if (e->md) pcre2_match_data_free(e->md);
    if (e->mctx) pcre2_match_context_free(e->mctx);
    if (e->jstack) pcre2_jit_stack_free(e->jstack);
    free(e->lsym);
    free(e->lnext);
    free(e->lprev);
    free(e->heap);
    free(e->spec_next);
    free(e->cache);
    free(e);
}

/* Rank of merging the adjacent symbols a (starting at byte s) and b (ending at byte end) of piece p:
 * from the pair table, or for a rank file straight from the token of the concatenated bytes
 * (tiktoken's rule; no pair table to build at load time). */
static inline uint32_t pair_rank(const tok_tokenizer *t, uint32_t a, uint32_t b, const uint8_t *p, size_t s,
                                 size_t end, uint32_t max_rank, uint32_t *id) {
    if (t->rank_by_bytes) {
        uint32_t x = tok_lookup(t, p + s, end - s);
        if (x == TOK_NO_ID || x >= max_rank) return UINT32_MAX;
        *id = x;
        return x;
    }
    const tok_pair *q = tok_pair_get(t, a, b);
    if (!q || q->rank >= max_rank) return UINT32_MAX;
    *id = q->id;
    return q->rank;
}

static int no_byte_token(const uint8_t *p, lmc_err *err) {
    return lmc_errf(err, LMC_EINVAL, "byte 0x%02x has no token in this vocabulary", *p);
}

static int bpe_small(tok_encoder *e, const uint8_t *p, size_t n, uint32_t max_rank, tok_ids *out, lmc_err *err) {
    const tok_tokenizer *t = e->t;
    uint32_t *sym = e->sym, *rank = e->rank, *pid = e->pid, *st = e->st;
    for (size_t i = 0; i < n; i++) {
        sym[i] = t->byte_id[p[i]];
        st[i] = (uint32_t)i;
        if (sym[i] == TOK_NO_ID) return no_byte_token(p + i, err);
    }
    size_t m = n;
    for (size_t i = 0; i + 1 < m; i++) {
        uint64_t bp = t->byte_pairs[p[i] * 256 + p[i + 1]];
        uint32_t r = (uint32_t)(bp >> 32);
        rank[i] = bp == UINT64_MAX || r >= max_rank ? UINT32_MAX : r;
        pid[i] = (uint32_t)bp;
    }
    while (m > 1) {
        uint32_t best = UINT32_MAX;
        size_t bi = 0;
        for (size_t i = 0; i + 1 < m; i++)
            if (rank[i] < best) {
                best = rank[i];
                bi = i;
            }
        if (best == UINT32_MAX) break;
        sym[bi] = pid[bi];
        size_t tail = m - bi - 2;
        memmove(sym + bi + 1, sym + bi + 2, tail * sizeof *sym);
        memmove(st + bi + 1, st + bi + 2, tail * sizeof *st);
        if (tail) {
            memmove(rank + bi + 1, rank + bi + 2, (tail - 1) * sizeof *rank);
            memmove(pid + bi + 1, pid + bi + 2, (tail - 1) * sizeof *pid);
        }
        m--;
        /* symbol i spans [st[i], end(i)) */
#define END(i) ((i) + 1 < m ? st[(i) + 1] : n)
        if (bi > 0) rank[bi - 1] = pair_rank(t, sym[bi - 1], sym[bi], p, st[bi - 1], END(bi), max_rank, &pid[bi - 1]);
        if (bi + 1 < m) rank[bi] = pair_rank(t, sym[bi], sym[bi + 1], p, st[bi], END(bi + 1), max_rank, &pid[bi]);
#undef END
    }
    for (size_t i = 0; i < m; i++)
        if (tok_ids_push(out, sym[i], err)) return LMC_ENOMEM;
    return 0;
}

/* Binary min-heap of (rank << 32 | position). */
static void heap_down(uint64_t *h, size_t n, size_t i) {
    uint64_t v = h[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && h[c + 1] < h[c]) c++;
        if (h[c] >= v) break;
        h[i] = h[c];
        i = c;
    }
    h[i] = v;
}

static void heap_push(uint64_t *h, size_t *n, uint64_t v) {
    size_t i = (*n)++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (h[p] <= v) break;
        h[i] = h[p];
        i = p;
    }
    h[i] = v;
}

static int bpe_large(tok_encoder *e, const uint8_t *p, size_t n, uint32_t max_rank, tok_ids *out, lmc_err *err) {
    const tok_tokenizer *t = e->t;
    if (n > UINT32_MAX) return lmc_errf(err, LMC_EINVAL, "a pre-tokenized piece of %zu bytes is over 4 GiB", n);
    if (n > e->lcap) {
        free(e->lsym);
        free(e->lnext);
        free(e->lprev);
        free(e->heap);
        e->lsym = malloc(n * sizeof *e->lsym);
        e->lnext = malloc(n * sizeof *e->lnext);
        e->lprev = malloc(n * sizeof *e->lprev);
        e->heap = malloc(2 * n * sizeof *e->heap);
        e->lcap = n;
        if (!e->lsym || !e->lnext || !e->lprev || !e->heap) {
            e->lcap = 0;
            return lmc_errf(err, LMC_ENOMEM, "out of memory merging a piece of %zu bytes", n);
        }
    }
    uint32_t *sym = e->lsym;
    int64_t *nx = e->lnext, *pv = e->lprev;
    uint64_t *h = e->heap;
    size_t hn = 0;
    for (size_t i = 0; i < n; i++) {
        sym[i] = t->byte_id[p[i]];
        if (sym[i] == TOK_NO_ID) return no_byte_token(p + i, err);
        nx[i] = i + 1 < n ? (int64_t)i + 1 : -1;
        pv[i] = (int64_t)i - 1;
    }
    uint32_t id = 0;
    for (size_t i = 0; i + 1 < n; i++) {
        uint32_t r = pair_rank(t, sym[i], sym[i + 1], p, i, i + 2, max_rank, &id);
        if (r != UINT32_MAX) h[hn++] = (uint64_t)r << 32 | i;
    }
    for (size_t i = hn / 2; i-- > 0;) heap_down(h, hn, i);
    while (hn) {
        uint64_t top = h[0];
        h[0] = h[--hn];
        if (hn) heap_down(h, hn, 0);
        size_t pos = (size_t)(top & 0xFFFFFFFFu);
        uint32_t r = (uint32_t)(top >> 32);
        if (sym[pos] == TOK_NO_ID || nx[pos] < 0) continue;
        size_t j = (size_t)nx[pos];
        /* Stale entry: the pair at pos changed since it was pushed. */
        if (pair_rank(t, sym[pos], sym[j], p, pos, nx[j] >= 0 ? (size_t)nx[j] : n, max_rank, &id) != r) continue;
        sym[pos] = id;
        sym[j] = TOK_NO_ID;
        nx[pos] = nx[j];
        if (nx[j] >= 0) pv[nx[j]] = (int64_t)pos;
        /* Each merge removes one symbol and pushes at most two entries; the heap stays within 2n. */
        if (pv[pos] >= 0) {
            size_t q = (size_t)pv[pos];
            uint32_t r2 = pair_rank(t, sym[q], sym[pos], p, q, nx[pos] >= 0 ? (size_t)nx[pos] : n, max_rank, &id);
            if (r2 != UINT32_MAX) heap_push(h, &hn, (uint64_t)r2 << 32 | q);
        }
        if (nx[pos] >= 0) {
            size_t j2 = (size_t)nx[pos];
            uint32_t r2 = pair_rank(t, sym[pos], sym[j2], p, pos, nx[j2] >= 0 ? (size_t)nx[j2] : n, max_rank, &id);
            if (r2 != UINT32_MAX) heap_push(h, &hn, (uint64_t)r2 << 32 | pos);
        }
    }
    for (int64_t i = 0; i >= 0; i = nx[i])
        if (tok_ids_push(out, sym[i], err)) return LMC_ENOMEM;
    return 0;
}

int tok_bpe_piece(tok_encoder *e, const uint8_t *p, size_t n, uint32_t max_rank, tok_ids *out, lmc_err *err) {
    if (n == 0) return 0;
    if (n < TOK_SMALL_PIECE) return bpe_small(e, p, n, max_rank, out, err);
    return bpe_large(e, p, n, max_rank, out, err);
}

static int encode_piece(tok_encoder *e, const uint8_t *p, size_t n, tok_ids *out, lmc_err *err) {
    const tok_tokenizer *t = e->t;
    if (n == 1) {
        if (t->byte_id[*p] == TOK_NO_ID) return no_byte_token(p, err);
        return tok_ids_push(out, t->byte_id[*p], err);
    }
    uint64_t h = tok_hash_bytes(p, n);
    cache_ent *c = n <= CACHE_KEY ? &e->cache[h & (CACHE_SLOTS - 1)] : NULL;
    if (c && c->h == h && c->len == n && !memcmp(c->key, p, n)) {
        for (int i = 0; i < c->nids; i++)
            if (tok_ids_push(out, c->ids[i], err)) return LMC_ENOMEM;
        return 0;
    }
    size_t before = out->n;
    int rc = 0;
    uint32_t id = t->whole_piece_first ? tok_lookup_h(t, p, n, h) : TOK_NO_ID;
    if (id != TOK_NO_ID) rc = tok_ids_push(out, id, err);
    else rc = tok_bpe_piece(e, p, n, UINT32_MAX, out, err);
    if (!rc && c && out->n - before <= CACHE_IDS) {
        c->h = h;
        c->len = (uint8_t)n;
        c->nids = (uint8_t)(out->n - before);
        memcpy(c->key, p, n);
        memcpy(c->ids, out->v + before, c->nids * sizeof *c->ids);
    }
    return rc;
}

/* Where pieces go: encoded into `out`, or (pre-tokenization only) handed to fn. */
typedef struct sink {
    tok_ids *out;
    tok_piece_fn fn;
    void *ctx;
} sink;

static inline int emit(tok_encoder *e, const uint8_t *p, size_t n, const sink *k, lmc_err *err) {
    if (k->fn) return k->fn(k->ctx, p, n, err);
    return encode_piece(e, p, n, k->out, err);
}

static size_t utf8_char_len(uint8_t c) { return c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4; }

/* Pre-tokenize one valid UTF-8 run p[0..n) and encode the pieces that start before `stop`.
 * Text the regex does not match becomes a piece of its own, so no byte is ever dropped. */
static int encode_run(tok_encoder *e, const uint8_t *p, size_t n, size_t stop, size_t base, const sink *out,
                      lmc_err *err) {
    const tok_tokenizer *t = e->t;
    if (!t->re) return lmc_errf(err, LMC_EINVAL, "the tokenizer has no pre-tokenization pattern");
    size_t gap = 0, start = 0;
    int fast = e->fast && (t->pat_kind == TOK_PAT_GPT2 || t->pat_kind == TOK_PAT_CL100K || t->pat_kind == TOK_PAT_O200K);
    while (gap < n && gap < stop) {
        if (fast && gap == start) {
            size_t m1 = tok_fast_match(t->pat_kind, p, n, start);
            if (m1 > start) {
                if (emit(e, p + start, m1 - start, out, err)) return err ? err->code : LMC_EINVAL;
                gap = start = m1;
                continue;
            }
        }
        int rc = start < n ? (e->use_jit ? pcre2_jit_match(t->re, p, n, start, PCRE2_NO_UTF_CHECK, e->md, e->mctx)
                                         : pcre2_match(t->re, p, n, start, PCRE2_NO_UTF_CHECK, e->md, e->mctx))
                           : PCRE2_ERROR_NOMATCH;
        if (rc == PCRE2_ERROR_NOMATCH) {
            return emit(e, p + gap, n - gap, out, err);
        }
        if (rc < 0) {
            PCRE2_UCHAR msg[256];
            pcre2_get_error_message(rc, msg, sizeof msg);
            return lmc_errf(err, LMC_EINVAL, "pre-tokenization failed at byte %zu: %s", base + start,
                            (const char *)msg);
        }
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(e->md);
        size_t m0 = ov[0], m1 = ov[1];
        if (m1 == m0) { /* empty match: step over one character, which joins the gap */
            start = m0 + utf8_char_len(p[m0 < n ? m0 : n - 1]);
            if (start > n) start = n;
            continue;
        }
        if (m0 > gap) {
            if (gap >= stop) return 0;
            if (emit(e, p + gap, m0 - gap, out, err)) return err ? err->code : LMC_EINVAL;
        }
        if (m0 >= stop) return 0;
        if (emit(e, p + m0, m1 - m0, out, err)) return err ? err->code : LMC_EINVAL;
        gap = start = m1;
    }
    return 0;
}

/* Text without special tokens: maximal valid UTF-8 runs go through the regex, each invalid byte is
 * a piece of its own. */
static int encode_ordinary(tok_encoder *e, const uint8_t *p, size_t n, size_t stop, const sink *out, lmc_err *err) {
    size_t i = 0;
    while (i < n && i < stop) {
        size_t v = tok_utf8_valid_prefix(p + i, n - i);
        if (v == 0) {
            if (emit(e, p + i, 1, out, err)) return err ? err->code : LMC_EINVAL;
            i++;
            continue;
        }
        if (encode_run(e, p + i, v, stop - i, i, out, err)) return err ? err->code : LMC_EINVAL;
        i += v;
    }
    return 0;
}

static int encode_segment(tok_encoder *e, const uint8_t *p, size_t n, size_t stop, const sink *out, lmc_err *err) {
    if (n == 0) return 0;
    if (e->t->add_prefix_space && p[0] != ' ') {
        /* HF ByteLevel add_prefix_space: the segment is encoded as if it began with a space. */
        uint8_t *q = malloc(n + 1);
        if (!q) return lmc_errf(err, LMC_ENOMEM, "out of memory");
        q[0] = ' ';
        memcpy(q + 1, p, n);
        int rc = encode_ordinary(e, q, n + 1, stop == n ? n + 1 : stop + 1, out, err);
        free(q);
        return rc;
    }
    return encode_ordinary(e, p, n, stop, out, err);
}

int tok_pretokenize(tok_encoder *e, const void *text, size_t len, tok_piece_fn fn, void *ctx, lmc_err *err) {
    sink k = {NULL, fn, ctx};
    return encode_segment(e, text, len, len, &k, err);
}

int tok_encode(tok_encoder *e, const void *text, size_t len, int allow_special, tok_ids *out, lmc_err *err) {
    const tok_tokenizer *t = e->t;
    const uint8_t *p = text;
    sink snk = {out, NULL, NULL};
    if (!allow_special || t->n_specials == 0) return encode_segment(e, p, len, len, &snk, err);
    /* Leftmost special token first; on equal starts the longest. */
    for (size_t k = 0; k < t->n_specials; k++) e->spec_next[k] = 0;
    size_t i = 0;
    for (size_t k = 0; k < t->n_specials; k++) {
        const uint8_t *f = memmem(p, len, t->specials[k].text, t->specials[k].len);
        e->spec_next[k] = f ? (size_t)(f - p) : SIZE_MAX;
    }
    while (i < len) {
        size_t best = SIZE_MAX, bk = 0;
        for (size_t k = 0; k < t->n_specials; k++) {
            if (e->spec_next[k] != SIZE_MAX && e->spec_next[k] < i) {
                const uint8_t *f = memmem(p + i, len - i, t->specials[k].text, t->specials[k].len);
                e->spec_next[k] = f ? (size_t)(f - p) : SIZE_MAX;
            }
            size_t s = e->spec_next[k];
            if (s < best || (s == best && s != SIZE_MAX && t->specials[k].len > t->specials[bk].len)) {
                best = s;
                bk = k;
            }
        }
        size_t end = best == SIZE_MAX ? len : best;
        if (encode_segment(e, p + i, end - i, end - i, &snk, err)) return err ? err->code : LMC_EINVAL;
        if (best == SIZE_MAX) break;
        if (tok_ids_push(out, t->specials[bk].id, err)) return LMC_ENOMEM;
        i = best + t->specials[bk].len;
    }
    return 0;
}

/* Length of the character at p[0] if a piece can never run from a newline into it: a complete, valid
 * UTF-8 character that is never White_Space (printable ASCII; or lead byte C3-DF, E4-EF, F0-F4: no
 * space lives there), except '/' (o200k's " ?[^\s\p{L}\p{N}]+[\r\n/]*" takes ".\n/" whole); else 0. */
static size_t nonspace_char(const uint8_t *p, size_t n) {
    if (n == 0) return 0;
    uint8_t c = p[0];
    if (c >= 0x21 && c <= 0x7E) return c == '/' ? 0 : 1;
    if (!((c >= 0xC3 && c <= 0xDF) || (c >= 0xE4 && c <= 0xEF) || (c >= 0xF0 && c <= 0xF4))) return 0;
    size_t k = utf8_char_len(c);
    return k <= n && tok_utf8_valid_prefix(p, k) == k ? k : 0;
}

static int part(tok_encoder *e, const uint8_t *p, size_t len, size_t from, size_t to, const sink *k, lmc_err *err) {
    if (to > len) to = len;
    if (from >= to) return 0;
    /* One character past the cut is all the look-ahead the patterns use at a safe split. */
    size_t end = to < len ? to + nonspace_char(p + to, len - to) : len;
    if (end == to) end = len; /* not a safe split: look at everything */
    return encode_segment(e, p + from, end - from, to - from, k, err);
}

int tok_encode_part(tok_encoder *e, const void *text, size_t len, size_t from, size_t to, tok_ids *out,
                    lmc_err *err) {
    sink k = {out, NULL, NULL};
    return part(e, text, len, from, to, &k, err);
}

int tok_pretokenize_part(tok_encoder *e, const void *text, size_t len, size_t from, size_t to, tok_piece_fn fn,
                         void *ctx, lmc_err *err) {
    sink k = {NULL, fn, ctx};
    return part(e, text, len, from, to, &k, err);
}

size_t tok_safe_split(const tok_tokenizer *t, const void *text, size_t len, size_t from) {
    if (t->pat_kind != TOK_PAT_GPT2 && t->pat_kind != TOK_PAT_CL100K && t->pat_kind != TOK_PAT_O200K) return len;
    if (t->add_prefix_space) return len;
    const uint8_t *p = text;
    size_t j = from ? from - 1 : 0;
    while (j < len) {
        const uint8_t *nl = memchr(p + j, '\n', len - j);
        if (!nl) return len;
        size_t q = (size_t)(nl - p) + 1;
        if (q < len && nonspace_char(p + q, len - q)) return q;
        j = q;
    }
    return len;
}

int tok_decode(const tok_tokenizer *t, const uint32_t *ids, size_t n, lmc_buf *out, lmc_err *err) {
    for (size_t i = 0; i < n; i++) {
        size_t len;
        const uint8_t *b = tok_token_bytes(t, ids[i], &len);
        if (!b)
            return lmc_errf(err, LMC_EINVAL, "id %u at position %zu is not a token (vocabulary has %u ids)", ids[i], i,
                            t->n_vocab);
        if (lmc_buf_append(out, b, len, err)) return err ? err->code : LMC_ENOMEM;
    }
    return 0;
}
