/* Canonicality of token sequences (Vieira et al., "Language Models over Canonical Byte-Pair
 * Encodings", ICML 2025).
 *
 * Without pre-tokenization a BPE encoding is canonical iff every adjacent pair is (the paper's
 * bigram property). The pair test walks a's right spine (a, right(a), right(right(a)), ... down to a
 * byte) and b's left spine: BPE run on bytes(a) bytes(b) performs a merge across the junction, and
 * so does not give [a, b], iff some merge (u, v) -> m of rank r exists with u on a's right spine and
 * v on b's left spine and
 *     rank(u) < r < rank(parent of u on the spine)      (u is the rightmost symbol of a at time r;
 *                                                        strict: on a tie the left pair fires first)
 *     rank(v) < r <= rank(parent of v on the spine)     (v is the leftmost symbol of b at time r;
 *                                                        a tie goes to the junction, which is left)
 * with rank(byte) = -1 and rank(parent of the top) = infinity. The smallest such r fires: before it
 * the two sides merge exactly as they do alone.
 *
 * Pre-tokenization: the regex splits the decoded text into pieces that are merged on their own, so
 * the sequence check splits decode(d) with the same pattern (linear time) and requires (1) every piece
 * boundary to be a token boundary and (2) inside a piece, the bigram test on every adjacent pair and
 * self-canonical tokens (or, with the whole-piece rule of tiktoken and ignore_merges, exactly one
 * token when the piece is in the vocabulary). That is exact (the tests compare it with re-encoding).
 * A pure pair list with "exceptions" cannot be exact: whether a junction is a piece boundary depends
 * on text beyond the two tokens (\s+(?!\S) looks one character ahead; contractions look back). */
#include <stdlib.h>
#include <string.h>
#include "base/mem.h"
#include "tokenizer/tok_internal.h"
#include "tokenizer/tokres.h"

#define RANK_INF INT64_MAX

struct tok_canon {
    const tok_tokenizer *t;
    tok_encoder *e;
    uint32_t n;
    uint32_t *left, *right; /* TOK_NO_ID for bytes and tokens that are not self-canonical */
    int64_t *rank;          /* rank of the merge building the token; -1 for bytes */
    uint8_t *self;
    /* scratch */
    tok_ids tmp;
    lmc_buf buf;
    size_t *starts, starts_cap;
    size_t *pend, pend_n, pend_cap;
    uint8_t *cat;
    size_t cat_cap;
};

static int is_ordinary(const tok_tokenizer *t, uint32_t id) { return id < t->n_vocab && t->off[id] != UINT64_MAX; }

/* Rank of merging adjacent symbols u, v (as the encoder would), or RANK_INF. */
static int64_t merge_rank(tok_canon *c, uint32_t u, uint32_t v) {
    const tok_tokenizer *t = c->t;
    if (t->rank_by_bytes) {
        size_t lu = t->len[u], lv = t->len[v];
        if (lu + lv > c->cat_cap) {
            size_t cap = (lu + lv) * 2;
            uint8_t *p = realloc(c->cat, cap);
            if (!p) return RANK_INF; /* cannot happen for real tokens (callers checked lengths) */
            c->cat = p;
            c->cat_cap = cap;
        }
        memcpy(c->cat, t->blob + t->off[u], lu);
        memcpy(c->cat + lu, t->blob + t->off[v], lv);
        uint32_t x = tok_lookup(t, c->cat, lu + lv);
        return x == TOK_NO_ID ? RANK_INF : (int64_t)x;
    }
    const tok_pair *q = tok_pair_get(t, u, v);
    return q ? (int64_t)q->rank : RANK_INF;
}

int tok_canon_new(tok_canon **out, const tok_tokenizer *t, lmc_err *err) {
    *out = NULL;
    if (t->add_prefix_space)
        return lmc_errf(err, LMC_EINVAL, "canonicality: tokenizers with add_prefix_space are not supported");
    tok_canon *c = calloc(1, sizeof *c);
    if (!c) return lmc_errf(err, LMC_ENOMEM, "out of memory");
    c->t = t;
    c->n = t->n_vocab;
    c->left = malloc((size_t)c->n * sizeof *c->left);
    c->right = malloc((size_t)c->n * sizeof *c->right);
    c->rank = malloc((size_t)c->n * sizeof *c->rank);
    c->self = calloc(c->n, 1);
    c->cat_cap = 1024;
    c->cat = malloc(c->cat_cap);
    uint32_t *first = NULL, *nextk = NULL;
    int rc = 0;
    if (!c->left || !c->right || !c->rank || !c->self || !c->cat) {
        rc = lmc_errf(err, LMC_ENOMEM, "out of memory for the canonicality tables");
        goto done;
    }
    if ((rc = tok_encoder_new(&c->e, t, err))) goto done;
    if (!t->rank_by_bytes) {
        /* merges producing each id, in rank order */
        first = malloc((size_t)c->n * sizeof *first);
        nextk = malloc(((size_t)t->n_merges + 1) * sizeof *nextk);
        if (!first || !nextk) {
            rc = lmc_errf(err, LMC_ENOMEM, "out of memory");
            goto done;
        }
        for (uint32_t i = 0; i < c->n; i++) first[i] = TOK_NO_ID;
        for (uint32_t k = t->n_merges; k-- > 0;) {
            uint32_t m = t->merge_id[k];
            if (m >= c->n) continue;
            nextk[k] = first[m];
            first[m] = k;
        }
    }
    for (uint32_t id = 0; id < c->n; id++) {
        c->left[id] = c->right[id] = TOK_NO_ID;
        c->rank[id] = RANK_INF;
        if (!is_ordinary(t, id)) continue;
        const uint8_t *p = t->blob + t->off[id];
        size_t len = t->len[id];
        if (len == 1) {
            c->self[id] = t->byte_id[p[0]] == id;
            c->rank[id] = -1;
            continue;
        }
        c->tmp.n = 0;
        if ((rc = tok_bpe_piece(c->e, p, len, UINT32_MAX, &c->tmp, err))) goto done;
        if (!(c->tmp.n == 1 && c->tmp.v[0] == id)) continue;
        /* The merge that builds it: the state just before it is exactly its two parts. */
        if (t->rank_by_bytes) {
            c->tmp.n = 0;
            if ((rc = tok_bpe_piece(c->e, p, len, id, &c->tmp, err))) goto done;
            if (c->tmp.n == 2) {
                c->left[id] = c->tmp.v[0];
                c->right[id] = c->tmp.v[1];
                c->rank[id] = id;
            }
        } else {
            for (uint32_t k = first[id]; k != TOK_NO_ID; k = nextk[k]) {
                const tok_pair *q = tok_pair_get(t, t->merge_a[k], t->merge_b[k]);
                if (!q || q->rank != k || q->id != id) continue;
                c->tmp.n = 0;
                if ((rc = tok_bpe_piece(c->e, p, len, k, &c->tmp, err))) goto done;
                if (c->tmp.n == 2 && c->tmp.v[0] == t->merge_a[k] && c->tmp.v[1] == t->merge_b[k]) {
                    c->left[id] = c->tmp.v[0];
                    c->right[id] = c->tmp.v[1];
                    c->rank[id] = k;
                    break;
                }
            }
        }
        if (c->left[id] == TOK_NO_ID) {
            rc = lmc_errf(err, LMC_EFORMAT, "canonicality: token %u is built by BPE but no merge of it was found", id);
            goto done;
        }
        c->self[id] = 1;
    }
done:
    free(first);
    free(nextk);
    if (rc) {
        tok_canon_free(c);
        return rc;
    }
    *out = c;
    return 0;
}

void tok_canon_free(tok_canon *c) {
    if (!c) return;
    tok_encoder_free(c->e);
    free(c->left);
    free(c->right);
    free(c->rank);
    free(c->self);
    tok_ids_free(&c->tmp);
    lmc_buf_free(&c->buf);
    free(c->starts);
    free(c->pend);
    free(c->cat);
    free(c);
}

uint32_t tok_canon_n_vocab(const tok_canon *c) { return c->n; }

int tok_canon_self(const tok_canon *c, uint32_t id) { return id < c->n && c->self[id]; }

int tok_canon_pair(const tok_canon *cc, uint32_t a, uint32_t b) {
    tok_canon *c = (tok_canon *)cc; /* merge_rank uses the scratch buffer */
    if (!tok_canon_self(c, a) || !tok_canon_self(c, b)) return 0;
    int64_t pu = RANK_INF;
    for (uint32_t u = a;; u = c->right[u]) {
        int64_t pv = RANK_INF;
        for (uint32_t v = b;; v = c->left[v]) {
            int64_t r = merge_rank(c, u, v);
            if (r != RANK_INF && c->rank[u] < r && r < pu && c->rank[v] < r && r <= pv) return 0;
            if (c->left[v] == TOK_NO_ID) break;
            pv = c->rank[v];
        }
        if (c->right[u] == TOK_NO_ID) break;
        pu = c->rank[u];
    }
    return 1;
}

int tok_canon_pair_bpe(tok_canon *c, uint32_t a, uint32_t b, lmc_err *err) {
    const tok_tokenizer *t = c->t;
    if (!is_ordinary(t, a) || !is_ordinary(t, b)) return 0;
    c->buf.len = 0;
    if (lmc_buf_append(&c->buf, t->blob + t->off[a], t->len[a], err) ||
        lmc_buf_append(&c->buf, t->blob + t->off[b], t->len[b], err))
        return -1;
    c->tmp.n = 0;
    if (tok_bpe_piece(c->e, (const uint8_t *)c->buf.data, c->buf.len, UINT32_MAX, &c->tmp, err)) return -1;
    return c->tmp.n == 2 && c->tmp.v[0] == a && c->tmp.v[1] == b;
}

static int piece_end(void *ctx, const uint8_t *piece, size_t len, lmc_err *err) {
    tok_canon *c = ctx;
    if (c->pend_n == c->pend_cap) {
        size_t cap = c->pend_cap ? c->pend_cap * 2 : 256;
        size_t *p = realloc(c->pend, cap * sizeof *p);
        if (!p) return lmc_errf(err, LMC_ENOMEM, "out of memory");
        c->pend = p;
        c->pend_cap = cap;
    }
    c->pend[c->pend_n++] = (size_t)(piece + len - (const uint8_t *)c->buf.data);
    return 0;
}

static int is_ws(uint8_t b) { return b == ' ' || b == '\t' || b == '\n' || b == '\r' || b == '\v' || b == '\f'; }

/* Decode ids[0..n) (ordinary tokens) into c->buf with token start offsets (starts[n] = end). */
static int decode_seg(tok_canon *c, const uint32_t *ids, size_t n, lmc_err *err) {
    const tok_tokenizer *t = c->t;
    if (n + 1 > c->starts_cap) {
        size_t cap = (n + 1) * 2;
        size_t *p = realloc(c->starts, cap * sizeof *p);
        if (!p) return lmc_errf(err, LMC_ENOMEM, "out of memory");
        c->starts = p;
        c->starts_cap = cap;
    }
    c->buf.len = 0;
    for (size_t i = 0; i < n; i++) {
        c->starts[i] = c->buf.len;
        if (lmc_buf_append(&c->buf, t->blob + t->off[ids[i]], t->len[ids[i]], err)) return err ? err->code : LMC_ENOMEM;
    }
    c->starts[n] = c->buf.len;
    return 0;
}

/* One segment of ordinary tokens; base = index of ids[0] in the whole sequence. Returns 0 and sets
 * *bad (SIZE_MAX = canonical) to the index of the first offending pair. */
static int check_seg(tok_canon *c, const uint32_t *ids, size_t n, int open_end, size_t *bad, lmc_err *err) {
    const tok_tokenizer *t = c->t;
    *bad = SIZE_MAX;
    if (n == 0) return 0;
    if (decode_seg(c, ids, n, err)) return err ? err->code : LMC_ENOMEM;
    if (open_end) {
        /* A prefix may end inside a UTF-8 character that later bytes complete; those bytes are not
         * pre-tokenized yet, so the tokens that reach into them are not judged. */
        const uint8_t *p = (const uint8_t *)c->buf.data;
        size_t L = c->buf.len, s = L, k = 0;
        while (s > 0 && k < 3 && (p[s - 1] & 0xC0) == 0x80) s--, k++;
        if (s > 0) {
            uint8_t lead = p[s - 1];
            size_t need = lead >= 0xF0 && lead <= 0xF4 ? 4 : lead >= 0xE0 && lead <= 0xEF ? 3 : lead >= 0xC2 && lead <= 0xDF ? 2 : 0;
            if (need && k + 1 < need) {
                size_t cut = s - 1, m = 0;
                while (m < n && c->starts[m + 1] <= cut) m++;
                if (m < n) return check_seg(c, ids, m, open_end, bad, err);
            }
        }
    }
    c->pend_n = 0;
    if (tok_pretokenize(c->e, c->buf.data, c->buf.len, piece_end, c, err)) return err ? err->code : LMC_EINVAL;
    const uint8_t *text = (const uint8_t *)c->buf.data;
    size_t k = 0; /* first token of the current piece */
    size_t ps = 0;
#define BAD_AT(i) do { size_t i_ = (i); *bad = i_ > 0 ? i_ - 1 : 0; return 0; } while (0)
    for (size_t q = 0; q < c->pend_n; q++) {
        size_t pe = c->pend[q];
        int last = open_end && q + 1 == c->pend_n;
        if (c->starts[k] != ps) BAD_AT(k); /* unreachable: pieces tile the text and k starts at ps */
        size_t j = k;
        while (c->starts[j + 1] < pe) j++;
        /* tokens k..j cover the piece; token j must end exactly at pe */
        if (c->starts[j + 1] != pe) { *bad = j; return 0; } /* token j runs past a piece boundary */
        if (j > k && !last && t->whole_piece_first && tok_lookup(t, text + ps, pe - ps) != TOK_NO_ID) {
            *bad = k;
            return 0;
        }
        if (j == k) {
            /* one token: canonical when it is the piece's BPE, or by whole-piece lookup */
            if (!c->self[ids[k]] && !t->whole_piece_first) BAD_AT(k);
        } else {
            for (size_t i = k; i <= j; i++)
                if (!c->self[ids[i]]) BAD_AT(i);
            for (size_t i = k; i < j; i++) {
                if (last && is_ws(text[c->starts[i + 1] - 1]) && is_ws(text[c->starts[i + 1]])) continue;
                if (!tok_canon_pair(c, ids[i], ids[i + 1])) {
                    *bad = i;
                    return 0;
                }
            }
        }
        k = j + 1;
        ps = pe;
    }
#undef BAD_AT
    return 0;
}

/* Run fn over the segments between special tokens. */
typedef int (*seg_fn)(tok_canon *c, const uint32_t *ids, size_t n, int open_end, size_t *bad, lmc_err *err);

static int by_segments(tok_canon *c, const uint32_t *ids, size_t n, int open_end, seg_fn fn, int *canonical,
                       size_t *pos, lmc_err *err) {
    const tok_tokenizer *t = c->t;
    *canonical = 1;
    *pos = 0;
    if (n == 0) return 0; /* the empty sequence is canonical (and ids may be NULL) */
    size_t s = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n) {
            if (ids[i] >= t->n_vocab || !tok_token_bytes(t, ids[i], NULL))
                return lmc_errf(err, LMC_EINVAL, "token %zu: id %u is not in the vocabulary (%u ids)", i, ids[i],
                                t->n_vocab);
            if (is_ordinary(t, ids[i])) continue;
        }
        size_t bad;
        int rc = fn(c, ids + s, i - s, open_end && i == n, &bad, err);
        if (rc) return rc;
        if (bad != SIZE_MAX) {
            *canonical = 0;
            *pos = s + bad;
            return 0;
        }
        s = i + 1;
    }
    return 0;
}

int tok_canon_check(tok_canon *c, const uint32_t *ids, size_t n, int open_end, int *canonical, size_t *pos,
                    lmc_err *err) {
    return by_segments(c, ids, n, open_end, check_seg, canonical, pos, err);
}

static int oracle_seg(tok_canon *c, const uint32_t *ids, size_t n, int open_end, size_t *bad, lmc_err *err) {
    (void)open_end;
    *bad = SIZE_MAX;
    if (n == 0) return 0;
    if (decode_seg(c, ids, n, err)) return err ? err->code : LMC_ENOMEM;
    c->tmp.n = 0;
    if (tok_encode(c->e, c->buf.data, c->buf.len, 0, &c->tmp, err)) return err ? err->code : LMC_EINVAL;
    size_t m = c->tmp.n < n ? c->tmp.n : n;
    for (size_t i = 0; i < m; i++)
        if (c->tmp.v[i] != ids[i]) {
            *bad = i;
            return 0;
        }
    if (c->tmp.n != n) *bad = m;
    return 0;
}

int tok_canon_oracle(tok_canon *c, const uint32_t *ids, size_t n, int *canonical, size_t *pos, lmc_err *err) {
    return by_segments(c, ids, n, 0, oracle_seg, canonical, pos, err);
}
