/* MinHash signatures (Broder 1997) over word n-gram shingles of datatrove's simplify_text, with
 * FineWeb's layout: bands x rows permutations h_i(x) = ((a_i x + b_i) mod 2^64) mod (2^61 - 1) of a
 * 64-bit shingle hash (the 2^64 wrap is what datatrove's numpy uint64 arithmetic does). The a_i, b_i come
 * from the base counter-based RNG, so a seed fixes them on every machine and every process. */
#include "data/data.h"
#include "data/hashtab.h"

#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#define MERSENNE61 ((1ULL << 61) - 1)

int data_minhash_init(data_minhash *m, const data_minhash_cfg *cfg, lmc_err *err) {
    memset(m, 0, sizeof *m);
    if (cfg->ngram < 1 || cfg->ngram > 64) return lmc_errf(err, LMC_EINVAL, "--ngram must be 1..64, got %d", cfg->ngram);
    if (cfg->bands < 1 || cfg->rows < 1 || cfg->bands * cfg->rows > 4096)
        return lmc_errf(err, LMC_EINVAL, "--bands x --rows must be 1..4096, got %d x %d", cfg->bands, cfg->rows);
    m->cfg = *cfg;
    size_t k = (size_t)cfg->bands * (size_t)cfg->rows;
    m->a = lmc_alloc_array(k, sizeof *m->a, err);
    m->b = lmc_alloc_array(k, sizeof *m->b, err);
    if (!m->a || !m->b) { data_minhash_free(m); return -1; }
    lmc_rng r;
    lmc_rng_init(&r, lmc_rng_derive(cfg->seed, 0x6D696E68617368ULL /* "minhash" */));
    for (size_t i = 0; i < k; i++) {
        m->a[i] = 1 + lmc_rng_below(&r, MERSENNE61 - 1);
        m->b[i] = lmc_rng_below(&r, MERSENNE61);
    }
    return 0;
}

void data_minhash_free(data_minhash *m) {
    lmc_free(m->a);
    lmc_free(m->b);
    m->a = m->b = NULL;
}

static inline uint64_t mod61(uint64_t x) {
    uint64_t r = (x & MERSENNE61) + (x >> 61);
    return r >= MERSENNE61 ? r - MERSENNE61 : r;
}

/* Fold a batch of shingle hashes into the running minima; the inner loop over permutations is
 * branch-free so the compiler vectorizes it (64-bit multiplies). */
static void fold(const data_minhash *m, const uint64_t *x, size_t nx, uint64_t *sig) {
    size_t k = (size_t)m->cfg.bands * (size_t)m->cfg.rows;
    const uint64_t *restrict a = m->a, *restrict b = m->b;
    for (size_t j = 0; j < nx; j++) {
        uint64_t xv = x[j];
        for (size_t i = 0; i < k; i++) {
            uint64_t v = mod61(xv * a[i] + b[i]);
            sig[i] = v < sig[i] ? v : sig[i];
        }
    }
}

/* Walk the word n-gram shingles of simplify_text(text) and hand their XXH3-64 hashes to `eat` in batches
 * of up to 64 (the signature and the exact shingle set both come from here, so they describe the same
 * set). Returns the number of shingles (with repeats), or -1. */
typedef void (*shingle_fn)(void *ctx, const uint64_t *x, size_t nx);

static long for_each_shingle(int ng, const char *text, size_t len, lmc_buf *tmp, shingle_fn eat, void *ctx,
                             lmc_err *err) {
    if (data_simplify(text, len, 0, tmp, err) < 0) return -1;
    const char *s = tmp->data;
    size_t n = tmp->len;
    if (n == 0) return 0;
    /* word starts in the simplified text (single spaces between words, none at the ends) */
    enum { RING = 65 };
    size_t starts[RING];
    size_t nwords = 0;
    long nsh = 0;
    uint64_t batch[64];
    size_t nb = 0;
    size_t i = 0;
    while (i <= n) {
        size_t ws = i;
        while (i < n && s[i] != ' ') i++;
        starts[nwords % RING] = ws;
        nwords++;
        /* word ends at i; an n-gram ends here when nwords >= ng */
        if (nwords >= (size_t)ng) {
            size_t first = starts[(nwords - (size_t)ng) % RING];
            batch[nb++] = XXH3_64bits(s + first, i - first);
            nsh++;
            if (nb == 64) { eat(ctx, batch, nb); nb = 0; }
        }
        i++;  /* skip the space (or step past the end) */
    }
    if (nb) eat(ctx, batch, nb);
    return nsh;
}

typedef struct sig_ctx { const data_minhash *m; uint64_t *sig; } sig_ctx;

static void eat_sig(void *ctx, const uint64_t *x, size_t nx) {
    sig_ctx *c = ctx;
    fold(c->m, x, nx, c->sig);
}

long data_minhash_signature(const data_minhash *m, const char *text, size_t len, uint64_t *sig, lmc_buf *tmp,
                            lmc_err *err) {
    size_t k = (size_t)m->cfg.bands * (size_t)m->cfg.rows;
    for (size_t i = 0; i < k; i++) sig[i] = UINT64_MAX;
    sig_ctx c = {m, sig};
    return for_each_shingle(m->cfg.ngram, text, len, tmp, eat_sig, &c, err);
}

typedef struct set_ctx { uint64_t *v; size_t n, cap; int oom; } set_ctx;

static void eat_set(void *ctx, const uint64_t *x, size_t nx) {
    set_ctx *c = ctx;
    if (c->oom) return;
    if (c->n + nx > c->cap) {
        size_t nc = c->cap ? c->cap * 2 : 256;
        while (nc < c->n + nx) nc *= 2;
        uint64_t *p = realloc(c->v, nc * sizeof *p);
        if (!p) { c->oom = 1; return; }
        c->v = p;
        c->cap = nc;
    }
    memcpy(c->v + c->n, x, nx * sizeof *x);
    c->n += nx;
}

/* LSD radix sort, 8 passes of 8 bits (about 4x faster than qsort with a comparator on these sizes);
 * passes where every value has the same digit are skipped. */
static int sort_u64(uint64_t *v, size_t n) {
    if (n < 2) return 0;
    uint64_t *t = malloc(n * sizeof *t);
    if (!t) return -1;
    uint64_t *src = v, *dst = t;
    for (int shift = 0; shift < 64; shift += 8) {
        size_t cnt[256] = {0};
        for (size_t i = 0; i < n; i++) cnt[(src[i] >> shift) & 255]++;
        if (cnt[(src[0] >> shift) & 255] == n) continue;
        size_t sum = 0;
        for (int d = 0; d < 256; d++) {
            size_t c = cnt[d];
            cnt[d] = sum;
            sum += c;
        }
        for (size_t i = 0; i < n; i++) dst[cnt[(src[i] >> shift) & 255]++] = src[i];
        uint64_t *x = src;
        src = dst;
        dst = x;
    }
    if (src != v) memcpy(v, src, n * sizeof *v);
    free(t);
    return 0;
}

long data_minhash_shingle_set(const data_minhash *m, const char *text, size_t len, uint64_t **set, lmc_buf *tmp,
                              lmc_err *err) {
    *set = NULL;
    set_ctx c = {0};
    long nsh = for_each_shingle(m->cfg.ngram, text, len, tmp, eat_set, &c, err);
    if (nsh < 0 || c.oom || sort_u64(c.v, c.n) < 0) {
        free(c.v);
        return nsh < 0 ? -1 : lmc_errf(err, LMC_ENOMEM, "out of memory (shingle set)");
    }
    size_t u = 0;
    for (size_t i = 0; i < c.n; i++)
        if (u == 0 || c.v[i] != c.v[u - 1]) c.v[u++] = c.v[i];
    *set = c.v;
    return (long)u;
}

double data_jaccard_sorted(const uint64_t *a, size_t na, const uint64_t *b, size_t nb) {
    if (na + nb == 0) return 1.0;
    size_t i = 0, j = 0, inter = 0;
    while (i < na && j < nb) {
        if (a[i] < b[j]) i++;
        else if (a[i] > b[j]) j++;
        else { inter++; i++; j++; }
    }
    return (double)inter / (double)(na + nb - inter);
}

double data_minhash_estimate(const data_minhash *m, const uint64_t *sa, const uint64_t *sb) {
    size_t k = (size_t)m->cfg.bands * (size_t)m->cfg.rows, eq = 0;
    for (size_t i = 0; i < k; i++) eq += sa[i] == sb[i];
    return (double)eq / (double)k;
}

void data_minhash_band_keys(const data_minhash *m, const uint64_t *sig, uint64_t *keys) {
    for (int bnd = 0; bnd < m->cfg.bands; bnd++)
        keys[bnd] = XXH3_64bits_withSeed(sig + (size_t)bnd * (size_t)m->cfg.rows,
                                         (size_t)m->cfg.rows * sizeof(uint64_t), (uint64_t)bnd);
}

long data_minhash_keys(const data_minhash *m, const char *text, size_t len, uint64_t *sig, uint64_t *keys,
                       lmc_buf *tmp, lmc_err *err) {
    long nsh = data_minhash_signature(m, text, len, sig, tmp, err);
    if (nsh <= 0) return nsh;
    data_minhash_band_keys(m, sig, keys);
    /* tmp holds simplify_text(text): equal hashes = equal shingle sets, J = 1 without comparing sets */
    XXH128_hash_t h = XXH3_128bits(tmp->data, tmp->len);
    keys[m->cfg.bands] = h.low64;
    keys[m->cfg.bands + 1] = h.high64;
    return nsh;
}

void data_exact_key(const char *text, size_t len, uint64_t key[2], lmc_buf *tmp) {
    /* collapse white space runs to one space and trim, then hash 128 bits */
    tmp->len = 0;
    if (lmc_buf_reserve(tmp, len + 1, NULL) < 0) {
        XXH128_hash_t h = XXH3_128bits(text, len);
        key[0] = h.low64;
        key[1] = h.high64;
        return;
    }
    int sp = 0;
    size_t i = 0;
    while (i < len) {
        unsigned char ch = (unsigned char)text[i];
        size_t k = i;
        uint32_t c = ch < 0x80 ? (k++, ch) : data_utf8_next(text, len, &k);
        if (data_is_space(c)) {
            if (tmp->len) sp = 1;
        } else {
            if (sp) { tmp->data[tmp->len++] = ' '; sp = 0; }
            memcpy(tmp->data + tmp->len, text + i, k - i);
            tmp->len += k - i;
        }
        i = k;
    }
    XXH128_hash_t h = XXH3_128bits(tmp->data, tmp->len);
    key[0] = h.low64;
    key[1] = h.high64;
}
