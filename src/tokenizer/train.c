/* BPE training: HF tokenizers' BpeTrainer algorithm (see docs/tokenizer.md), reproduced merge for
 * merge so that the same corpus gives the same merges and vocabulary.
 *
 * 1. Word counting, in parallel: each thread pre-tokenizes its share of the sequences and counts
 *    pieces in its own hash map; the maps are summed at the end.
 * 2. Ids: special tokens first, then the 256 bytes in the order of their byte-level characters'
 *    code points (HF sorts its alphabet by character), then one id per new token.
 * 3. Pair counts (count of a pair = sum over words of occurrences x word count) and, per pair, the
 *    list of words that contain it; a max-heap of (count, pair, word list) entries.
 * 4. Loop: pop the top; if its count is stale, push it back with the current count (counts of old
 *    pairs only ever fall, so lazy updates are exact); stop at the vocabulary size, when the heap
 *    is empty, or when the count is below max(1, min_frequency). Merge the pair in the entry's
 *    words (left to right, non-overlapping), update the neighbour pair counts, and push one entry
 *    per newly formed pair with the words it was formed in.
 * Tie-break: equal counts go to the smaller pair (id_a, id_b), as in HF. */
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include "base/reader.h"
#include "tokenizer/tok_internal.h"

/* ---- word counts: bytes -> count ---- */
typedef struct wmap {
    uint64_t *hash;     /* 0 = empty slot */
    uint32_t *ent;      /* entry index per slot */
    uint64_t mask;
    uint8_t *keys;      /* key bytes */
    size_t keys_len, keys_cap;
    uint64_t *koff;     /* per entry */
    uint32_t *klen;
    uint64_t *count;
    size_t n, cap;
} wmap;

static int wmap_grow(wmap *m, lmc_err *err) {
    uint64_t nslots = m->mask ? (m->mask + 1) * 2 : 4096;
    uint64_t *h = calloc(nslots, sizeof *h);
    uint32_t *e = malloc(nslots * sizeof *e);
    if (!h || !e) {
        free(h);
        free(e);
        return lmc_errf(err, LMC_ENOMEM, "out of memory counting words");
    }
    for (uint64_t i = 0; m->mask && i <= m->mask; i++) {
        if (!m->hash[i]) continue;
        uint64_t j = m->hash[i] & (nslots - 1);
        while (h[j]) j = (j + 1) & (nslots - 1);
        h[j] = m->hash[i];
        e[j] = m->ent[i];
    }
    free(m->hash);
    free(m->ent);
    m->hash = h;
    m->ent = e;
    m->mask = nslots - 1;
    return 0;
}

static int wmap_add(wmap *m, const uint8_t *p, size_t n, uint64_t c, lmc_err *err) {
    if ((m->n + 1) * 2 > (m->mask ? m->mask + 1 : 0) && wmap_grow(m, err)) return LMC_ENOMEM;
    uint64_t h = tok_hash_bytes(p, n) | 1;
    uint64_t i = h & m->mask;
    for (; m->hash[i]; i = (i + 1) & m->mask) {
        if (m->hash[i] != h) continue;
        uint32_t k = m->ent[i];
        if (m->klen[k] == n && !memcmp(m->keys + m->koff[k], p, n)) {
            m->count[k] += c;
            return 0;
        }
    }
    if (m->n == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 4096;
        uint64_t *ko = realloc(m->koff, cap * sizeof *ko);
        if (ko) m->koff = ko;
        uint32_t *kl = realloc(m->klen, cap * sizeof *kl);
        if (kl) m->klen = kl;
        uint64_t *cn = realloc(m->count, cap * sizeof *cn);
        if (cn) m->count = cn;
        if (!ko || !kl || !cn) return lmc_errf(err, LMC_ENOMEM, "out of memory counting words");
        m->cap = cap;
    }
    if (m->keys_len + n > m->keys_cap) {
        size_t cap = m->keys_cap ? m->keys_cap : 1 << 16;
        while (cap < m->keys_len + n) cap *= 2;
        uint8_t *k = realloc(m->keys, cap);
        if (!k) return lmc_errf(err, LMC_ENOMEM, "out of memory counting words");
        m->keys = k;
        m->keys_cap = cap;
    }
    memcpy(m->keys + m->keys_len, p, n);
    m->koff[m->n] = m->keys_len;
    m->klen[m->n] = (uint32_t)n;
    m->count[m->n] = c;
    m->keys_len += n;
    m->hash[i] = h;
    m->ent[i] = (uint32_t)m->n++;
    return 0;
}

static void wmap_free(wmap *m) {
    free(m->hash);
    free(m->ent);
    free(m->keys);
    free(m->koff);
    free(m->klen);
    free(m->count);
    memset(m, 0, sizeof *m);
}

struct tok_trainer {
    tok_train_opts o;
    char **specials;
    tok_tokenizer *pat;   /* holds the regex only */
    int threads;
    tok_encoder **enc;
    wmap *maps;           /* one per thread */
};

static int count_piece(void *ctx, const uint8_t *p, size_t n, lmc_err *err) {
    if (n > UINT32_MAX) return lmc_errf(err, LMC_EINVAL, "a piece of %zu bytes is too long to train on", n);
    return wmap_add(ctx, p, n, 1, err);
}

int tok_trainer_new(tok_trainer **out, const tok_train_opts *o, lmc_err *err) {
    *out = NULL;
    if (o->vocab_size < 256u + (uint32_t)o->n_specials)
        return lmc_errf(err, LMC_EINVAL, "vocab size %u is below 256 bytes + %d special tokens", o->vocab_size,
                        o->n_specials);
    if (o->vocab_size > TOK_MAX_ID) return lmc_errf(err, LMC_EINVAL, "vocab size %u is above 2^24", o->vocab_size);
    tok_trainer *tr = calloc(1, sizeof *tr);
    if (!tr) return lmc_errf(err, LMC_ENOMEM, "out of memory");
    tr->o = *o;
    tr->threads = o->threads > 0 ? o->threads : omp_get_max_threads();
    int rc = 0;
    tr->specials = calloc((size_t)o->n_specials + 1, sizeof *tr->specials);
    tr->pat = tok_alloc(err);
    tr->enc = calloc((size_t)tr->threads, sizeof *tr->enc);
    tr->maps = calloc((size_t)tr->threads, sizeof *tr->maps);
    if (!tr->specials || !tr->pat || !tr->enc || !tr->maps) rc = lmc_errf(err, LMC_ENOMEM, "out of memory");
    for (int i = 0; !rc && i < o->n_specials; i++) {
        for (int j = 0; j < i; j++)
            if (!strcmp(o->specials[i], o->specials[j]))
                rc = lmc_errf(err, LMC_EINVAL, "special token \"%s\" given twice", o->specials[i]);
        if (!rc && !o->specials[i][0]) rc = lmc_errf(err, LMC_EINVAL, "empty special token");
        if (!rc && !(tr->specials[i] = strdup(o->specials[i]))) rc = lmc_errf(err, LMC_ENOMEM, "out of memory");
    }
    tr->o.specials = (const char *const *)tr->specials;
    if (!rc) rc = tok_set_pattern(tr->pat, o->pattern ? o->pattern : "gpt2", err);
    for (int i = 0; !rc && i < tr->threads; i++) rc = tok_encoder_new(&tr->enc[i], tr->pat, err);
    if (rc) {
        tok_trainer_free(tr);
        return rc;
    }
    *out = tr;
    return 0;
}

void tok_trainer_free(tok_trainer *tr) {
    if (!tr) return;
    for (int i = 0; tr->enc && i < tr->threads; i++) tok_encoder_free(tr->enc[i]);
    for (int i = 0; tr->maps && i < tr->threads; i++) wmap_free(&tr->maps[i]);
    for (int i = 0; tr->specials && i < tr->o.n_specials; i++) free(tr->specials[i]);
    free(tr->specials);
    free(tr->enc);
    free(tr->maps);
    tok_free(tr->pat);
    free(tr);
}

int tok_trainer_feed(tok_trainer *tr, const char *const *seqs, const size_t *lens, size_t n, lmc_err *err) {
    int failed = 0;
    lmc_err first = {0};
#pragma omp parallel num_threads(tr->threads)
    {
        int me = omp_get_thread_num();
        lmc_err e = {0};
#pragma omp for schedule(dynamic, 256)
        for (size_t i = 0; i < n; i++) {
            if (__atomic_load_n(&failed, __ATOMIC_RELAXED)) continue;
            if (tok_pretokenize(tr->enc[me], seqs[i], lens[i], count_piece, &tr->maps[me], &e)) {
#pragma omp critical(tok_train_err)
                if (!failed) {
                    first = e;
                    failed = 1;
                }
            }
        }
    }
    if (failed) {
        if (err) *err = first;
        return first.code ? first.code : LMC_EINVAL;
    }
    return 0;
}

/* ---- pairs ---- */
typedef struct ulist {
    uint32_t *v;
    uint32_t n, cap;
} ulist;

static int ulist_push(ulist *l, uint32_t x) {
    if (l->n && l->v[l->n - 1] == x) return 0; /* words arrive grouped: dedupe the last */
    if (l->n == l->cap) {
        uint32_t cap = l->cap ? l->cap * 2 : 4;
        uint32_t *v = realloc(l->v, cap * sizeof *v);
        if (!v) return -1;
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = x;
    return 0;
}

/* pair -> (count, where-list being built) */
typedef struct pmap {
    uint64_t *key;   /* UINT64_MAX = empty */
    int64_t *count;
    int32_t *wtu;    /* index into the where-to-update lists of this round, -1 = none */
    uint64_t mask, n;
} pmap;

static inline uint64_t pkey(uint32_t a, uint32_t b) { return (uint64_t)a << 32 | b; }
static inline uint64_t phash(uint64_t k) {
    k *= 0x9E3779B97F4A7C15ull;
    return k ^ (k >> 31);
}

static int pmap_grow(pmap *m) {
    uint64_t ns = m->mask ? (m->mask + 1) * 2 : 1 << 16;
    uint64_t *k = malloc(ns * sizeof *k);
    int64_t *c = malloc(ns * sizeof *c);
    int32_t *w = malloc(ns * sizeof *w);
    if (!k || !c || !w) {
        free(k);
        free(c);
        free(w);
        return -1;
    }
    for (uint64_t i = 0; i < ns; i++) k[i] = UINT64_MAX;
    for (uint64_t i = 0; m->mask && i <= m->mask; i++) {
        if (m->key[i] == UINT64_MAX) continue;
        uint64_t j = phash(m->key[i]) & (ns - 1);
        while (k[j] != UINT64_MAX) j = (j + 1) & (ns - 1);
        k[j] = m->key[i];
        c[j] = m->count[i];
        w[j] = m->wtu[i];
    }
    free(m->key);
    free(m->count);
    free(m->wtu);
    m->key = k;
    m->count = c;
    m->wtu = w;
    m->mask = ns - 1;
    return 0;
}

/* Slot of the pair, inserted with count 0 if absent; -1 on out of memory. */
static int64_t pmap_slot(pmap *m, uint64_t key) {
    if ((m->n + 1) * 2 > (m->mask ? m->mask + 1 : 0) && pmap_grow(m)) return -1;
    uint64_t i = phash(key) & m->mask;
    while (m->key[i] != UINT64_MAX) {
        if (m->key[i] == key) return (int64_t)i;
        i = (i + 1) & m->mask;
    }
    m->key[i] = key;
    m->count[i] = 0;
    m->wtu[i] = -1;
    m->n++;
    return (int64_t)i;
}

static int64_t pmap_find(const pmap *m, uint64_t key) {
    uint64_t i = phash(key) & m->mask;
    while (m->key[i] != UINT64_MAX) {
        if (m->key[i] == key) return (int64_t)i;
        i = (i + 1) & m->mask;
    }
    return -1;
}

/* ---- heap of merge candidates ---- */
typedef struct cand {
    uint64_t count;
    uint64_t pair;
    uint32_t list; /* index into the list pool */
} cand;

static inline int cand_before(const cand *x, const cand *y) {
    if (x->count != y->count) return x->count > y->count;
    return x->pair < y->pair;
}

typedef struct heap {
    cand *v;
    size_t n, cap;
} heap;

static int heap_push(heap *h, cand c) {
    if (h->n == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 1 << 16;
        cand *v = realloc(h->v, cap * sizeof *v);
        if (!v) return -1;
        h->v = v;
        h->cap = cap;
    }
    size_t i = h->n++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!cand_before(&c, &h->v[p])) break;
        h->v[i] = h->v[p];
        i = p;
    }
    h->v[i] = c;
    return 0;
}

static cand heap_pop(heap *h) {
    cand top = h->v[0], last = h->v[--h->n];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= h->n) break;
        if (c + 1 < h->n && cand_before(&h->v[c + 1], &h->v[c])) c++;
        if (!cand_before(&h->v[c], &last)) break;
        h->v[i] = h->v[c];
        i = c;
    }
    if (h->n) h->v[i] = last;
    return top;
}

/* Pool of word lists, reused through a free list. */
typedef struct lpool {
    ulist *l;
    uint32_t n, cap;
    uint32_t *free_ids;
    uint32_t n_free, free_cap;
} lpool;

static int64_t lpool_new(lpool *p) {
    if (p->n_free) return p->free_ids[--p->n_free];
    if (p->n == p->cap) {
        uint32_t cap = p->cap ? p->cap * 2 : 1 << 14;
        ulist *l = realloc(p->l, cap * sizeof *l);
        if (!l) return -1;
        p->l = l;
        p->cap = cap;
    }
    memset(&p->l[p->n], 0, sizeof p->l[0]);
    return p->n++;
}

static int lpool_release(lpool *p, uint32_t id) {
    free(p->l[id].v);
    memset(&p->l[id], 0, sizeof p->l[id]);
    if (p->n_free == p->free_cap) {
        uint32_t cap = p->free_cap ? p->free_cap * 2 : 1 << 14;
        uint32_t *f = realloc(p->free_ids, cap * sizeof *f);
        if (!f) return -1;
        p->free_ids = f;
        p->free_cap = cap;
    }
    p->free_ids[p->n_free++] = id;
    return 0;
}

typedef struct state {
    /* words */
    uint32_t *sym;      /* all words' symbols */
    uint64_t *woff;
    uint32_t *wlen;
    uint64_t *wcount;
    size_t n_words;
    pmap pairs;
    heap h;
    lpool pool;
    uint64_t *touched;  /* pairs given a where-list this round */
    size_t n_touched, touched_cap;
} state;

/* Apply one change (pair, delta) from word w. */
static int change(state *s, uint32_t a, uint32_t b, int delta, uint32_t w) {
    int64_t i = pmap_slot(&s->pairs, pkey(a, b));
    if (i < 0) return -1;
    s->pairs.count[i] += delta * (int64_t)s->wcount[w];
    if (delta > 0) {
        if (s->pairs.wtu[i] < 0) {
            int64_t l = lpool_new(&s->pool);
            if (l < 0) return -1;
            s->pairs.wtu[i] = (int32_t)l;
            if (s->n_touched == s->touched_cap) {
                size_t cap = s->touched_cap ? s->touched_cap * 2 : 1024;
                uint64_t *t = realloc(s->touched, cap * sizeof *t);
                if (!t) return -1;
                s->touched = t;
                s->touched_cap = cap;
            }
            s->touched[s->n_touched++] = pkey(a, b);
        }
        if (ulist_push(&s->pool.l[s->pairs.wtu[i]], w)) return -1;
    }
    return 0;
}

/* Push one candidate per pair touched this round (count > 0), as HF does after every merge. */
static int flush_touched(state *s) {
    for (size_t k = 0; k < s->n_touched; k++) {
        int64_t i = pmap_find(&s->pairs, s->touched[k]);
        uint32_t l = (uint32_t)s->pairs.wtu[i];
        s->pairs.wtu[i] = -1;
        if (s->pairs.count[i] > 0) {
            cand c = {(uint64_t)s->pairs.count[i], s->touched[k], l};
            if (heap_push(&s->h, c)) return -1;
        } else if (lpool_release(&s->pool, l)) {
            return -1;
        }
    }
    s->n_touched = 0;
    return 0;
}

/* Merge (a, b) -> x in word w, left to right, reporting the neighbour changes as HF's Word::merge. */
static int merge_word(state *s, uint32_t w, uint32_t a, uint32_t b, uint32_t x) {
    uint32_t *p = s->sym + s->woff[w];
    uint32_t n = s->wlen[w], o = 0;
    for (uint32_t i = 0; i < n;) {
        if (p[i] == a && i + 1 < n && p[i + 1] == b) {
            if (o > 0) {
                if (change(s, p[o - 1], a, -1, w) || change(s, p[o - 1], x, 1, w)) return -1;
            }
            if (i + 2 < n) {
                if (change(s, b, p[i + 2], -1, w) || change(s, x, p[i + 2], 1, w)) return -1;
            }
            p[o++] = x;
            i += 2;
        } else {
            p[o++] = p[i++];
        }
    }
    s->wlen[w] = o;
    return 0;
}

static void state_free(state *s) {
    free(s->sym);
    free(s->woff);
    free(s->wlen);
    free(s->wcount);
    free(s->pairs.key);
    free(s->pairs.count);
    free(s->pairs.wtu);
    free(s->h.v);
    for (uint32_t i = 0; i < s->pool.n; i++) free(s->pool.l[i].v);
    free(s->pool.l);
    free(s->pool.free_ids);
    free(s->touched);
}

static int oom(lmc_err *err) { return lmc_errf(err, LMC_ENOMEM, "out of memory while training"); }

int tok_trainer_finish(tok_trainer *tr, tok_tokenizer **out, lmc_err *err) {
    *out = NULL;
    /* Sum the per-thread counts into map 0. */
    wmap *m = &tr->maps[0];
    for (int k = 1; k < tr->threads; k++) {
        wmap *o = &tr->maps[k];
        for (size_t i = 0; i < o->n; i++)
            if (wmap_add(m, o->keys + o->koff[i], o->klen[i], o->count[i], err)) return LMC_ENOMEM;
        wmap_free(o);
    }
    tok_tokenizer *t = tok_alloc(err);
    if (!t) return LMC_ENOMEM;
    t->source = TOK_SRC_TRAINED;
    state s;
    memset(&s, 0, sizeof s);
    int rc = 0;
    uint32_t ns = (uint32_t)tr->o.n_specials;
    for (uint32_t i = 0; i < ns && !rc; i++) rc = tok_add_special(t, tr->specials[i], strlen(tr->specials[i]), i, 1, err);
    /* Bytes in the order of their byte-level characters. */
    uint32_t order[256];
    for (uint32_t b = 0; b < 256; b++) order[b] = b;
    for (int i = 1; i < 256; i++)
        for (int j = i; j > 0 && tok_byte_to_unicode((uint8_t)order[j]) < tok_byte_to_unicode((uint8_t)order[j - 1]); j--) {
            uint32_t x = order[j];
            order[j] = order[j - 1];
            order[j - 1] = x;
        }
    for (uint32_t k = 0; k < 256 && !rc; k++) {
        uint8_t c = (uint8_t)order[k];
        rc = tok_add_token(t, ns + k, &c, 1, err);
    }
    if (rc) goto done;
    tok_finish_bytes(t);

    /* Words: each distinct piece as byte-token ids. */
    s.n_words = m->n;
    size_t total = m->keys_len;
    s.sym = malloc((total ? total : 1) * sizeof *s.sym);
    s.woff = malloc((m->n ? m->n : 1) * sizeof *s.woff);
    s.wlen = malloc((m->n ? m->n : 1) * sizeof *s.wlen);
    s.wcount = malloc((m->n ? m->n : 1) * sizeof *s.wcount);
    if (!s.sym || !s.woff || !s.wlen || !s.wcount) {
        rc = oom(err);
        goto done;
    }
    size_t off = 0;
    for (size_t w = 0; w < m->n; w++) {
        s.woff[w] = off;
        s.wlen[w] = m->klen[w];
        s.wcount[w] = m->count[w];
        const uint8_t *k = m->keys + m->koff[w];
        for (uint32_t i = 0; i < m->klen[w]; i++) s.sym[off++] = t->byte_id[k[i]];
    }
    wmap_free(m);

    /* Initial pair counts and where-lists, then one candidate per pair. */
    for (size_t w = 0; w < s.n_words && !rc; w++) {
        const uint32_t *p = s.sym + s.woff[w];
        for (uint32_t i = 0; i + 1 < s.wlen[w] && !rc; i++)
            if (change(&s, p[i], p[i + 1], 1, (uint32_t)w)) rc = oom(err);
    }
    if (!rc && flush_touched(&s)) rc = oom(err);
    uint64_t minf = tr->o.min_frequency;
    lmc_progress *pr = tr->o.progress;
    if (pr) lmc_progress_start(pr, "merges", tr->o.vocab_size - t->n_vocab, "merges");
    uint8_t *nb = NULL;
    size_t nb_cap = 0;
    while (!rc && t->n_vocab < tr->o.vocab_size && s.h.n) {
        cand top = heap_pop(&s.h);
        int64_t slot = pmap_find(&s.pairs, top.pair);
        uint64_t cur = (uint64_t)s.pairs.count[slot];
        if (top.count != cur) {
            top.count = cur;
            if (heap_push(&s.h, top)) rc = oom(err);
            continue;
        }
        if (top.count < 1 || top.count < minf) break;
        uint32_t a = (uint32_t)(top.pair >> 32), b = (uint32_t)top.pair;
        size_t la = t->len[a], lb = t->len[b];
        if (la + lb > nb_cap) {
            nb_cap = (la + lb) * 2;
            free(nb);
            nb = malloc(nb_cap);
            if (!nb) {
                rc = oom(err);
                break;
            }
        }
        memcpy(nb, t->blob + t->off[a], la);
        memcpy(nb + la, t->blob + t->off[b], lb);
        uint32_t x = tok_lookup(t, nb, la + lb);
        if (x == TOK_NO_ID) {
            x = t->n_vocab;
            if (tok_add_token(t, x, nb, la + lb, err)) {
                rc = err ? err->code : LMC_ENOMEM;
                break;
            }
        }
        if (tok_merge_append(t, a, b, x, err)) {
            rc = LMC_ENOMEM;
            break;
        }
        /* A copy, not a pointer into pool.l: merge_word creates lists, which can move pool.l. The
         * list's own array is safe (its pair is out of the pair map's where-lists now). */
        ulist l = s.pool.l[top.list];
        for (uint32_t k = 0; k < l.n && !rc; k++)
            if (merge_word(&s, l.v[k], a, b, x)) rc = oom(err);
        if (!rc && lpool_release(&s.pool, top.list)) rc = oom(err);
        if (!rc && flush_touched(&s)) rc = oom(err);
        if (pr) lmc_progress_add(pr, 1);
    }
    free(nb);
    if (pr) lmc_progress_finish(pr);
    if (rc) goto done;

    /* HF keeps merges in a map keyed by pair: a pair merged twice keeps its last rank only. */
    {
        pmap last;
        memset(&last, 0, sizeof last);
        for (uint32_t r = 0; r < t->n_merges && !rc; r++) {
            int64_t i = pmap_slot(&last, pkey(t->merge_a[r], t->merge_b[r]));
            if (i < 0) rc = oom(err);
            else last.count[i] = r;
        }
        uint32_t o = 0;
        for (uint32_t r = 0; r < t->n_merges && !rc; r++) {
            if (last.count[pmap_find(&last, pkey(t->merge_a[r], t->merge_b[r]))] != r) continue;
            t->merge_a[o] = t->merge_a[r];
            t->merge_b[o] = t->merge_b[r];
            t->merge_id[o] = t->merge_id[r];
            o++;
        }
        t->n_merges = o;
        free(last.key);
        free(last.count);
        free(last.wtu);
    }
    if (!rc && tok_pairs_from_merges(t, err)) rc = err ? err->code : LMC_ENOMEM;
    if (!rc && tok_finalize(t, err)) rc = err ? err->code : LMC_ENOMEM;
    if (!rc) rc = tok_set_pattern(t, tr->o.pattern ? tr->o.pattern : "gpt2", err);
done:
    state_free(&s);
    if (rc) {
        tok_free(t);
        return rc;
    }
    *out = t;
    return 0;
}

int tok_train_files(const tok_train_opts *o, const char *const *inputs, int n_inputs, const char *field,
                    tok_tokenizer **out, lmc_err *err) {
    *out = NULL;
    tok_trainer *tr;
    int rc = tok_trainer_new(&tr, o, err);
    if (rc) return rc;
    const char **seqs = NULL;
    size_t *lens = NULL, n = 0, cap = 0;
    uint64_t total_bytes = 0; /* no text at all is an error: a 256-id tokenizer is never what was meant */
    for (int f = 0; f < n_inputs && !rc; f++) {
        if (tok_path_is_jsonl(inputs[f])) {
            /* One document per sequence; copies kept until the batch is fed. */
            tok_docs *d;
            rc = tok_docs_open(&d, inputs[f], field, err);
            const char *text;
            size_t len;
            char **own = NULL;
            size_t own_cap = 0, batch_bytes = 0;
            while (!rc && (rc = tok_docs_next(d, &text, &len, err)) == 1) {
                rc = 0;
                if (n == cap || n == own_cap) {
                    size_t c2 = (cap > own_cap ? cap : own_cap) * 2 + 4096;
                    const char **sq = realloc(seqs, c2 * sizeof *sq);
                    size_t *ln = realloc(lens, c2 * sizeof *ln);
                    char **ow = realloc(own, c2 * sizeof *ow);
                    if (sq) seqs = sq;
                    if (ln) lens = ln;
                    if (ow) own = ow;
                    if (!sq || !ln || !ow) {
                        rc = oom(err);
                        break;
                    }
                    cap = own_cap = c2;
                }
                own[n] = malloc(len + 1);
                if (!own[n]) {
                    rc = oom(err);
                    break;
                }
                memcpy(own[n], text, len);
                seqs[n] = own[n];
                lens[n++] = len;
                batch_bytes += len;
                total_bytes += len;
                if (batch_bytes > (64u << 20)) {
                    rc = tok_trainer_feed(tr, seqs, lens, n, err);
                    for (size_t i = 0; i < n; i++) free(own[i]);
                    n = 0;
                    batch_bytes = 0;
                }
            }
            if (rc == 0 && n) rc = tok_trainer_feed(tr, seqs, lens, n, err);
            for (size_t i = 0; i < n; i++) free(own[i]);
            n = 0;
            free(own);
            if (d) tok_docs_close(d);
        } else {
            /* Plain text: one sequence per line, '\n' kept (as HF's train(files) reads files). */
            char *data;
            size_t len;
            rc = lmc_read_all(inputs[f], &data, &len, err);
            if (rc) break;
            total_bytes += len;
            size_t i = 0;
            while (i < len && !rc) {
                const char *nl = memchr(data + i, '\n', len - i);
                size_t e = nl ? (size_t)(nl - data) + 1 : len;
                if (n == cap) {
                    cap = cap ? cap * 2 : 4096;
                    const char **sq = realloc(seqs, cap * sizeof *sq);
                    size_t *ln = realloc(lens, cap * sizeof *ln);
                    if (sq) seqs = sq;
                    if (ln) lens = ln;
                    if (!sq || !ln) rc = oom(err);
                }
                if (!rc) {
                    seqs[n] = data + i;
                    lens[n++] = e - i;
                }
                i = e;
            }
            if (!rc) rc = tok_trainer_feed(tr, seqs, lens, n, err);
            n = 0;
            free(data);
        }
    }
    free(seqs);
    free(lens);
    if (!rc && total_bytes == 0)
        rc = n_inputs == 1 ? lmc_errf(err, LMC_EINVAL, "%s: no text to train on (the input is empty)", inputs[0])
                           : lmc_errf(err, LMC_EINVAL, "no text to train on: all %d inputs (%s, ...) are empty",
                                      n_inputs, inputs[0]);
    if (!rc) rc = tok_trainer_finish(tr, out, err);
    tok_trainer_free(tr);
    return rc;
}
